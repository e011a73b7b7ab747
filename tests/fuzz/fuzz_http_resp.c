/* libFuzzer target: mote_http_parse_head and mote_http_dechunk on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && p + n <= buf + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	struct mote_http_head h;
	int64_t n = mote_http_parse_head(buf, size, &h);
	if (n != MOTE_HTTP_PARTIAL && n != MOTE_HTTP_BAD && (n < 0 || (uint64_t)n > size))
		__builtin_trap();
	if (n >= 0) {
		/* Every view lies inside the head; the head alone parses the same. */
		if (!inside(h.reason, h.reason_len, buf, (size_t)n) || h.nheaders > MOTE_HTTP_MAX_HEADERS ||
		    h.status < 100 || h.status > 999)
			__builtin_trap();
		for (size_t i = 0; i < h.nheaders; i++)
			if (!inside(h.headers[i].name, h.headers[i].name_len, buf, (size_t)n) ||
			    !inside(h.headers[i].value, h.headers[i].value_len, buf, (size_t)n) ||
			    !h.headers[i].name_len)
				__builtin_trap();
		struct mote_http_head h2;
		if (mote_http_parse_head(buf, (size_t)n, &h2) != n || h2.nheaders != h.nheaders ||
		    h2.content_length != h.content_length)
			__builtin_trap();
		/* A shorter prefix of a complete head is never complete. */
		if (n > 0 && mote_http_parse_head(buf, (size_t)n - 1, &h2) >= 0)
			__builtin_trap();
	}
	/* The whole input as a chunked body. */
	memcpy(buf, data, size);
	size_t body = 0;
	int64_t c = mote_http_dechunk(buf, size, &body);
	if (c != MOTE_HTTP_PARTIAL && c != MOTE_HTTP_BAD &&
	    (c < 0 || (uint64_t)c > size || body > (uint64_t)c))
		__builtin_trap();
	if (c == MOTE_HTTP_PARTIAL && memcmp(buf, data, size) != 0)
		__builtin_trap(); /* PARTIAL leaves the buffer as it was */
	free(buf);
	return 0;
}
