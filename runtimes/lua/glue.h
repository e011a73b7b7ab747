/* Between Lua and the invoke messages: the base state, loading handler.lua, a request as a table, a result as
 * a response. */
#ifndef RUNTIMES_LUA_GLUE_H
#define RUNTIMES_LUA_GLUE_H

#include <lua.h>
#include <stddef.h>

#include "channel.h"
#include "invoke_msg.h"

#define GLUE_NAME "mote-lua"
#ifndef GLUE_VERSION /* the Makefile builds test copies with another (tests/e2e/base.sh) */
#define GLUE_VERSION "1"
#endif
#define GLUE_HANDLER_FILE "handler.lua"
#define GLUE_HANDLER_MAX (64u << 20) /* largest handler.lua read */

/* The state a base snapshot holds: standard libraries opened. NULL when out of memory. */
lua_State *glue_new_state(void);

/*
 * Load the function from directory `dir`: package.path = dir/?.lua and
 * dir/?/init.lua (no C modules), math.random reseeded from getrandom (every
 * clone of a base would otherwise share the base's seed), dir/handler.lua
 * run (its chunk named "handler.lua"), then the global `handle` required to
 * be a function. Returns 0, or -1 with the one-line reason in why[len]: the
 * Lua error message, or "handler.lua defines no function handle(req)" (a
 * traceback of runtime errors goes to stderr).
 */
int glue_load_handler(lua_State *L, const char *dir, char *why, size_t len);

/*
 * Push the request as a table {method=, path=, query=, headers=, body=}
 * (strings; header names in lower case, repeated headers joined with ", ").
 */
void glue_push_request(lua_State *L, const struct mote_msg_request *req);

/*
 * Encode the handler's result at stack index idx into out (out->len set): a
 * string is a 200 text/plain response with that body; a table
 * {status=, headers=, body=} gives its status (integer 100..599, default
 * 200), headers (name -> string or number, or a list of them for a repeated
 * header) and body (string or number, default ""). Returns 0, or -1 with
 * the reason in why[len] (nothing else is accepted). The stack is left as
 * it was.
 */
int glue_encode_result(lua_State *L, int idx, struct channel_buf *out, char *why, size_t len);

/*
 * A channel_handler (ctx is the lua_State): call the global handle(req) and
 * encode its result. On an error in handle, or a result of the wrong kind,
 * logs one line to stderr (with the Lua error and its traceback) and returns
 * -1, and the channel answers 500.
 */
int glue_handle(void *ctx, const struct mote_msg_request *req, struct channel_buf *out);

#endif /* RUNTIMES_LUA_GLUE_H */
