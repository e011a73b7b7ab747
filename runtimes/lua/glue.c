/* Between Lua and the invoke messages: the base state, loading handler.lua, a request as a table, a result as
 * a response. */
#include "glue.h"

#include "boot.h"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static int on_panic(lua_State *L)
{
	const char *msg = lua_tostring(L, -1);
	fprintf(stderr, "%s: unprotected Lua error: %s\n", GLUE_NAME, msg ? msg : "(not a string)");
	return 0; /* Lua then aborts */
}

lua_State *glue_new_state(void)
{
	lua_State *L = luaL_newstate();
	if (!L)
		return NULL;
	lua_atpanic(L, on_panic);
	luaL_openlibs(L);
	return L;
}

/* Message handler: the error as a string (tostring of other values) followed by a traceback. */
static int traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (!msg)
		msg = luaL_tolstring(L, 1, NULL);
	luaL_traceback(L, L, msg, 1);
	return 1;
}

/* Copy the message part (before the traceback) of an error from traceback() into why[len]. */
static void error_message(const char *full, char *why, size_t len)
{
	const char *tb = strstr(full, "\nstack traceback:");
	size_t n = tb ? (size_t)(tb - full) : strlen(full);
	snprintf(why, len, "%.*s", (int)n, full);
}

/* package.path for the bundle; no C modules (a static program cannot load them). */
static void set_package_paths(lua_State *L, const char *dir)
{
	lua_getglobal(L, "package");
	lua_pushfstring(L, "%s/?.lua;%s/?/init.lua", dir, dir);
	lua_setfield(L, -2, "path");
	lua_pushliteral(L, "");
	lua_setfield(L, -2, "cpath");
	lua_pop(L, 1);
}

/* math.randomseed(two fresh 64-bit numbers): the base's seed is shared by all its clones. */
static void reseed_random(lua_State *L)
{
	lua_Integer seed[2] = {0, 0};
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		return; /* keep Lua's own seed */
	lua_getglobal(L, "math");
	lua_getfield(L, -1, "randomseed");
	lua_pushinteger(L, seed[0]);
	lua_pushinteger(L, seed[1]);
	lua_call(L, 2, 0);
	lua_pop(L, 1);
}

int glue_load_handler(lua_State *L, const char *dir, char *why, size_t len)
{
	int top = lua_gettop(L);
	set_package_paths(L, dir);
	reseed_random(L);

	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, GLUE_HANDLER_FILE);
	size_t size;
	char *src = boot_read_file(path, GLUE_HANDLER_MAX, &size);
	if (!src) {
		snprintf(why, len, "cannot read %s: %s", GLUE_HANDLER_FILE, strerror(errno));
		return -1;
	}
	/* Skip a first "#!" line as lua(1) does, keeping its newline so that line numbers stay right. */
	size_t skip = 0;
	if (size && src[0] == '#')
		while (skip < size && src[skip] != '\n')
			skip++;
	lua_pushcfunction(L, traceback);
	int status = luaL_loadbufferx(L, src + skip, size - skip, "@" GLUE_HANDLER_FILE, NULL);
	free(src);
	if (status == LUA_OK)
		status = lua_pcall(L, 0, 0, top + 1);
	if (status != LUA_OK) {
		const char *msg = lua_tostring(L, -1);
		msg = msg ? msg : "(error object is not a string)";
		if (strstr(msg, "\nstack traceback:"))
			fprintf(stderr, "%s: running %s failed: %s\n", GLUE_NAME, GLUE_HANDLER_FILE, msg);
		error_message(msg, why, len);
		lua_settop(L, top);
		return -1;
	}
	lua_getglobal(L, "handle");
	int is_function = lua_isfunction(L, -1);
	lua_settop(L, top);
	if (!is_function) {
		snprintf(why, len, "%s defines no function handle(req)", GLUE_HANDLER_FILE);
		return -1;
	}
	return 0;
}

/* ---- request -> table ---- */

static void set_string(lua_State *L, const char *key, const void *p, size_t n)
{
	lua_pushlstring(L, p ? p : "", n);
	lua_setfield(L, -2, key);
}

void glue_push_request(lua_State *L, const struct mote_msg_request *req)
{
	lua_createtable(L, 0, 5);
	set_string(L, "method", req->method, req->method_len);
	set_string(L, "path", req->path, req->path_len);
	set_string(L, "query", req->query, req->query_len);
	set_string(L, "body", req->body, (size_t)req->body_len);

	lua_createtable(L, 0, (int)(req->nheaders < 64 ? req->nheaders : 64));
	uint64_t cursor = 0;
	struct mote_msg_header h;
	while (mote_msg_next_header(req->headers, req->headers_len, &cursor, &h)) {
		luaL_Buffer b;
		char *name = luaL_buffinitsize(L, &b, h.name_len);
		for (uint32_t i = 0; i < h.name_len; i++) {
			char c = h.name[i];
			name[i] = c >= 'A' && c <= 'Z' ? (char)(c + 'a' - 'A') : c;
		}
		luaL_pushresultsize(&b, h.name_len); /* headers, name */
		lua_pushvalue(L, -1);
		if (lua_rawget(L, -3) == LUA_TNIL) { /* headers, name, nil */
			lua_pop(L, 1);
			lua_pushlstring(L, h.value, h.value_len);
		} else { /* headers, name, old: old .. ", " .. value */
			lua_pushliteral(L, ", ");
			lua_pushlstring(L, h.value, h.value_len);
			lua_concat(L, 3);
		}
		lua_rawset(L, -3);
	}
	lua_setfield(L, -2, "headers");
}

/* ---- result -> response ---- */

/*
 * One walk over a result table's headers: with b NULL, check them and add their size to *size; with b,
 * give them to the builder. The table is at absolute index t. Returns 0 or -1 with why.
 */
static int one_header(lua_State *L, int value_idx, const char *name, size_t nlen, struct mote_msg_builder *b,
		      uint64_t *size, char *why, size_t len)
{
	int type = lua_type(L, value_idx);
	if (type != LUA_TSTRING && type != LUA_TNUMBER) {
		snprintf(why, len, "headers[\"%.64s\"] is a %s; expected a string or a number", name,
			 luaL_typename(L, value_idx));
		return -1;
	}
	lua_pushvalue(L, value_idx); /* convert a copy: lua_tolstring changes a number in place */
	size_t vlen;
	const char *value = lua_tolstring(L, -1, &vlen);
	int ok = mote_msg_is_line(value, vlen) && vlen <= UINT32_MAX;
	if (ok && b)
		mote_msg_response_header(b, name, (uint32_t)nlen, value, (uint32_t)vlen);
	else if (ok)
		*size += 8 + nlen + vlen;
	lua_pop(L, 1);
	if (!ok)
		snprintf(why, len, "headers[\"%.64s\"] contains CR, LF or NUL", name);
	return ok ? 0 : -1;
}

static int walk_headers(lua_State *L, int t, struct mote_msg_builder *b, uint64_t *size, char *why,
			size_t len)
{
	lua_pushnil(L);
	while (lua_next(L, t)) { /* key, value */
		if (lua_type(L, -2) != LUA_TSTRING) {
			snprintf(why, len, "a header name is a %s; expected a string", luaL_typename(L, -2));
			lua_pop(L, 2);
			return -1;
		}
		size_t nlen;
		const char *name = lua_tolstring(L, -2, &nlen);
		if (!mote_msg_is_token(name, nlen) || nlen > UINT32_MAX) {
			snprintf(why, len, "header name \"%.64s\" is not an HTTP token", name);
			lua_pop(L, 2);
			return -1;
		}
		int r = 0;
		if (lua_type(L, -1) == LUA_TTABLE) { /* a list: the header repeated */
			lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
			for (lua_Integer i = 1; r == 0 && i <= n; i++) {
				lua_rawgeti(L, -1, i);
				r = one_header(L, lua_gettop(L), name, nlen, b, size, why, len);
				lua_pop(L, 1);
			}
		} else {
			r = one_header(L, lua_gettop(L), name, nlen, b, size, why, len);
		}
		lua_pop(L, 1); /* value; the key stays for lua_next */
		if (r < 0) {
			lua_pop(L, 1);
			return -1;
		}
	}
	return 0;
}

static int encode_string(lua_State *L, int idx, struct channel_buf *out)
{
	static const char type[] = "text/plain; charset=utf-8";
	size_t blen;
	const char *body = lua_tolstring(L, idx, &blen);
	if (channel_buf_reserve(out, MOTE_MSG_RESPONSE_FIXED + 8 + 12 + sizeof(type) - 1 + blen) < 0)
		return -1;
	struct mote_msg_builder b;
	mote_msg_response_begin(&b, out->data, out->cap, 200);
	mote_msg_response_header(&b, "content-type", 12, type, sizeof(type) - 1);
	mote_msg_response_body(&b, body, blen);
	int64_t n = mote_msg_response_end(&b);
	if (n < 0)
		return -1;
	out->len = (size_t)n;
	return 0;
}

int glue_encode_result(lua_State *L, int idx, struct channel_buf *out, char *why, size_t len)
{
	idx = lua_absindex(L, idx);
	int top = lua_gettop(L);
	if (lua_type(L, idx) == LUA_TSTRING) {
		if (encode_string(L, idx, out) < 0) {
			snprintf(why, len, "out of memory for a %zu-byte body", (size_t)lua_rawlen(L, idx));
			return -1;
		}
		return 0;
	}
	if (lua_type(L, idx) != LUA_TTABLE) {
		snprintf(why, len,
			 "handle(req) returned a %s; expected a string or a table {status=, headers=, body=}",
			 luaL_typename(L, idx));
		return -1;
	}
	int result = -1;
	lua_Integer status = 200;
	/* Stack after these: status, headers, body at top+1..top+3 (raw gets: no metamethods run). */
	lua_pushliteral(L, "status");
	lua_rawget(L, idx);
	lua_pushliteral(L, "headers");
	lua_rawget(L, idx);
	lua_pushliteral(L, "body");
	lua_rawget(L, idx);
	if (!lua_isnil(L, top + 1)) {
		int isnum = 0;
		if (lua_type(L, top + 1) == LUA_TNUMBER)
			status = lua_tointegerx(L, top + 1, &isnum);
		if (!isnum || status < 100 || status > 599) {
			snprintf(why, len, "status must be an integer from 100 to 599, not %s",
				 luaL_tolstring(L, top + 1, NULL));
			goto out;
		}
	}
	int has_headers = !lua_isnil(L, top + 2);
	if (has_headers && lua_type(L, top + 2) != LUA_TTABLE) {
		snprintf(why, len, "headers is a %s; expected a table", luaL_typename(L, top + 2));
		goto out;
	}
	size_t blen = 0;
	const char *body = "";
	if (!lua_isnil(L, top + 3)) {
		int bt = lua_type(L, top + 3);
		if (bt != LUA_TSTRING && bt != LUA_TNUMBER) {
			snprintf(why, len, "body is a %s; expected a string", luaL_typename(L, top + 3));
			goto out;
		}
		body = lua_tolstring(L, top + 3, &blen); /* converts the copy on our stack */
	}
	uint64_t size = MOTE_MSG_RESPONSE_FIXED + blen;
	if (has_headers && walk_headers(L, top + 2, NULL, &size, why, len) < 0)
		goto out;
	if (channel_buf_reserve(out, size) < 0) {
		snprintf(why, len, "out of memory for a %llu-byte response", (unsigned long long)size);
		goto out;
	}
	struct mote_msg_builder b;
	mote_msg_response_begin(&b, out->data, out->cap, (uint32_t)status);
	if (has_headers)
		walk_headers(L, top + 2, &b, &size, why, len);
	mote_msg_response_body(&b, body, blen);
	int64_t n = mote_msg_response_end(&b);
	if (n < 0) {
		snprintf(why, len, "encoding the response: %s", mote_msg_strerror((int)n));
		goto out;
	}
	out->len = (size_t)n;
	result = 0;
out:
	lua_settop(L, top);
	return result;
}

/*
 * Inside the protected call: build the request table (its strings may not fit in memory) and call
 * handle(req). The request arrives as a light userdata; the result is left on the stack.
 */
static int call_handle(lua_State *L)
{
	const struct mote_msg_request *req = lua_touserdata(L, 1);
	if (lua_getglobal(L, "handle") != LUA_TFUNCTION)
		return luaL_error(L, "the global handle is a %s, no longer a function", luaL_typename(L, -1));
	glue_push_request(L, req);
	lua_call(L, 1, 1);
	return 1;
}

int glue_handle(void *ctx, const struct mote_msg_request *req, struct channel_buf *out)
{
	lua_State *L = ctx;
	int top = lua_gettop(L);
	int result = -1;
	lua_pushcfunction(L, traceback);
	lua_pushcfunction(L, call_handle);
	lua_pushlightuserdata(L, (void *)req);
	if (lua_pcall(L, 1, 1, top + 1) != LUA_OK) {
		const char *msg = lua_tostring(L, -1);
		fprintf(stderr, "%s: handle(req) failed: %s\n", GLUE_NAME,
			msg ? msg : "(error object is not a string)");
		goto out;
	}
	char why[256];
	if (glue_encode_result(L, -1, out, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s: bad result from handle(req): %s\n", GLUE_NAME, why);
		goto out;
	}
	result = 0;
out:
	lua_settop(L, top);
	return result;
}
