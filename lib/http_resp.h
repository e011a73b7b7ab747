/* Parsing HTTP/1.1 responses (status line, headers, Content-Length or chunked body): the CLI's side of the
 * admin API. */
#ifndef MOTE_HTTP_RESP_H
#define MOTE_HTTP_RESP_H

#include <stddef.h>
#include <stdint.h>

/* Results of the parsers below (besides a non-negative byte count). */
enum mote_http_result {
	MOTE_HTTP_PARTIAL = -2, /* well-formed so far, more bytes needed */
	MOTE_HTTP_BAD = -1,	/* not a valid response */
};

#define MOTE_HTTP_MAX_HEADERS 64

/* One header line, as views into the parsed buffer (not NUL-terminated). */
struct mote_http_header {
	const char *name;
	size_t name_len;
	const char *value; /* leading and trailing blanks trimmed */
	size_t value_len;
};

/* A parsed response head. */
struct mote_http_head {
	int minor_version; /* HTTP/1.x */
	int status;	   /* 100..999 */
	const char *reason;
	size_t reason_len;
	size_t nheaders;
	struct mote_http_header headers[MOTE_HTTP_MAX_HEADERS];
	int64_t content_length; /* -1 when absent */
	int chunked;		/* Transfer-Encoding: chunked */
};

/*
 * Parse the response head (status line and headers up to the empty line)
 * at the start of buf[len]. Returns the head's length in bytes (the body
 * starts there), MOTE_HTTP_PARTIAL when the head is not complete yet, or
 * MOTE_HTTP_BAD: no "HTTP/1.x NNN" status line, a control character or a
 * header line without ':', a header name that is not a token, more than
 * MOTE_HTTP_MAX_HEADERS headers, an invalid or repeated Content-Length, a
 * Transfer-Encoding other than chunked. Lines end in CRLF or LF. Never
 * reads outside buf[len] and never allocates.
 */
int64_t mote_http_parse_head(const char *buf, size_t len, struct mote_http_head *out);

/*
 * Decode a chunked body in place: buf[len] holds the bytes after the head.
 * On success the body's bytes are moved to the start of buf, *body_len gets
 * their count and the bytes consumed (through the last chunk and its
 * trailer) are returned; MOTE_HTTP_PARTIAL when the last chunk has not
 * arrived yet (buf is then unchanged), MOTE_HTTP_BAD for a malformed chunk
 * size line or a chunk not followed by CRLF.
 */
int64_t mote_http_dechunk(char *buf, size_t len, size_t *body_len);

/* Find header `name` (case-insensitive) in a parsed head; NULL if absent. */
const struct mote_http_header *mote_http_find_header(const struct mote_http_head *h, const char *name);

#endif /* MOTE_HTTP_RESP_H */
