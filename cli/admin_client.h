/* The CLI's side of the admin API: one call to `mote serve`, its JSON, and its errors mapped to exit
 * statuses. */
#ifndef MOTE_CLI_ADMIN_CLIENT_H
#define MOTE_CLI_ADMIN_CLIENT_H

#include <stddef.h>

#include <jansson.h>

#include "http_client.h"

/*
 * Call the admin API at the socket named by `server` (--server; NULL: the
 * MOTE_SERVER variable or the default state dir's admin.sock) and return
 * the response; on failure to reach it, print one line and exit (80).
 */
void admin_call(const char *server, const char *method, const char *target, const void *body, size_t body_len,
		const char *const *headers, size_t nheaders, struct mote_http_response *res);

/* The response body as JSON, or NULL when it is not (the caller decides what that means). */
json_t *admin_json(const struct mote_http_response *res);

/*
 * The response is an error: print "mote: WHAT: MESSAGE" (the JSON error's
 * text, or the HTTP status) and exit with the status its code maps to
 * (docs/functions.md).
 */
void admin_fail(const char *what, const struct mote_http_response *res) __attribute__((noreturn));

/* Whether `name` is a runtime mote serve knows (c, lua or node): the CLI's check of --runtime. */
int admin_runtime_known(const char *name);

/* The exit status for an admin API error code (e.g. "not_elf" -> 65). */
int admin_code_status(const char *code);

/* Append s percent-encoded (all but unreserved characters) to out[size] at *len; -1 when it does not fit. */
int url_escape(const char *s, char *out, size_t size, size_t *len);

#endif /* MOTE_CLI_ADMIN_CLIENT_H */
