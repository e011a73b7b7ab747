/* A small blocking HTTP/1.1 client over a unix socket: how the CLI talks to `mote serve`'s admin API. */
#ifndef MOTE_HTTP_CLIENT_H
#define MOTE_HTTP_CLIENT_H

#include <stddef.h>

#include "err.h"
#include "http_resp.h"

/* A request: method, target ("/functions/hello?x=1", already percent-encoded), extra header lines, body. */
struct mote_http_request {
	const char *method;
	const char *target;
	const char *const *headers; /* "Name: value" lines without CRLF, or NULL */
	size_t nheaders;
	const void *body; /* may be NULL when body_len is 0 */
	size_t body_len;
};

/* A response: the parsed head (its views point into `raw`) and the body (inside `raw`, not NUL-terminated).
 */
struct mote_http_response {
	struct mote_http_head head;
	char *body;
	size_t body_len;
	char *raw; /* owns everything; free with mote_http_response_free */
};

/*
 * Connect to the unix socket at `socket_path`, send `req` (with Host,
 * Content-Length and "Connection: close"), read the whole response and
 * parse it (Content-Length, chunked, or until the server closes).
 * Returns 0 with *res filled (whatever its HTTP status), or -1 with *err:
 * MOTE_STATUS_NO_SERVER when nothing listens at socket_path (the message
 * names it), MOTE_STATUS_HOST when the exchange fails midway or the
 * response is malformed.
 */
int mote_http_call(const char *socket_path, const struct mote_http_request *req,
		   struct mote_http_response *res, struct mote_err *err);

/* Release a response filled by mote_http_call. */
void mote_http_response_free(struct mote_http_response *res);

#endif /* MOTE_HTTP_CLIENT_H */
