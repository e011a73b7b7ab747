/* Unit test of lib/http_resp.c: response heads and chunked bodies, well-formed, cut short and malformed, at a
 * guard page. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "http_resp.h"

#include "check.h"
#include "guard.h"

static int64_t parse(const char *text, size_t len, struct mote_http_head *h)
{
	struct guarded g = guard(text, len);
	int64_t r = mote_http_parse_head((const char *)g.data, len, h);
	/* Views must point into the guarded copy: re-base them onto `text` so they outlive it. */
	if (r >= 0) {
		ptrdiff_t d = (const char *)g.data - text;
		h->reason -= d;
		for (size_t i = 0; i < h->nheaders; i++) {
			h->headers[i].name -= d;
			h->headers[i].value -= d;
		}
	}
	unguard(&g);
	return r;
}

static int64_t dechunk(const char *text, char *out, size_t *body_len)
{
	size_t len = strlen(text);
	struct guarded g = guard(text, len);
	int64_t r = mote_http_dechunk((char *)g.data, len, body_len);
	if (r >= 0)
		memcpy(out, g.data, *body_len);
	unguard(&g);
	return r;
}

static void test_simple(void)
{
	static const char resp[] =
	    "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length:  12 \r\n"
	    "X-Empty:\r\nx-mote-error:   no_function\t\r\n\r\n{\"a\":1}....";
	struct mote_http_head h;
	int64_t n = parse(resp, sizeof(resp) - 1, &h);
	check("simple-length", n == (int64_t)(strstr(resp, "\r\n\r\n") - resp + 4), "returned %lld",
	      (long long)n);
	check("simple-status",
	      h.status == 201 && h.minor_version == 1 && h.reason_len == 7 && !memcmp(h.reason, "Created", 7),
	      "status %d reason '%.*s'", h.status, (int)h.reason_len, h.reason);
	check("simple-headers", h.nheaders == 4 && h.content_length == 12 && !h.chunked,
	      "%zu headers, length %lld", h.nheaders, (long long)h.content_length);
	const struct mote_http_header *e = mote_http_find_header(&h, "X-MOTE-ERROR");
	check("find-header-any-case-trimmed", e && e->value_len == 11 && !memcmp(e->value, "no_function", 11),
	      "value '%.*s'", e ? (int)e->value_len : 0, e ? e->value : "");
	e = mote_http_find_header(&h, "x-empty");
	check("empty-value", e && e->value_len == 0, "x-empty missing or not empty");
	check("absent-header", !mote_http_find_header(&h, "x-absent"), "found x-absent");
}

static void test_lf_only_and_no_reason(void)
{
	static const char resp[] = "HTTP/1.0 404\nServer: x\n\n";
	struct mote_http_head h;
	int64_t n = parse(resp, sizeof(resp) - 1, &h);
	check("lf-only",
	      n == (int64_t)sizeof(resp) - 1 && h.status == 404 && h.minor_version == 0 &&
		  h.reason_len == 0 && h.content_length == -1,
	      "returned %lld status %d", (long long)n, h.status);
}

static void test_every_prefix_partial(void)
{
	static const char resp[] =
	    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n";
	int bad = -1;
	for (size_t i = 0; i < sizeof(resp) - 1; i++) {
		struct mote_http_head h;
		if (parse(resp, i, &h) != MOTE_HTTP_PARTIAL) {
			bad = (int)i;
			break;
		}
	}
	check("every-prefix-partial", bad < 0, "prefix of %d bytes not partial", bad);
}

static void test_malformed(void)
{
	static const char *const bad[] = {
	    "HTTP/2 200 OK\r\n\r\n",
	    "HTTP/1.1 20x OK\r\n\r\n",
	    "HTTP/1.1 200OK\r\n\r\n",
	    "HTTP/1.1 099 Low\r\n\r\n",
	    "HTTP/1.2 200 OK\r\n\r\n",
	    "http/1.1 200 OK\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
	    "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nX: a\001b\r\n\r\n",
	    "HTTP/1.1 200 O\001K\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	    "XTTP/1.1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mote_http_head h;
		char name[64];
		snprintf(name, sizeof(name), "malformed-%zu", i);
		int64_t r = parse(bad[i], strlen(bad[i]), &h);
		check(name, r == MOTE_HTTP_BAD, "'%s' gave %lld", bad[i], (long long)r);
	}
	/* Too many headers. */
	char many[4096];
	size_t n = (size_t)snprintf(many, sizeof(many), "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i <= MOTE_HTTP_MAX_HEADERS; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "h%d: v\r\n", i);
	n += (size_t)snprintf(many + n, sizeof(many) - n, "\r\n");
	struct mote_http_head h;
	check("too-many-headers", parse(many, n, &h) == MOTE_HTTP_BAD, "accepted %d headers",
	      MOTE_HTTP_MAX_HEADERS + 1);
}

static void test_chunked(void)
{
	char out[256];
	size_t n = 0;
	static const char body[] =
	    "5\r\nhello\r\n6;ext=1\r\n world\r\nA\n0123456789\n0\r\nTrailer: x\r\n\r\nNEXT";
	int64_t r = dechunk(body, out, &n);
	check("chunked",
	      r == (int64_t)sizeof(body) - 1 - 4 && n == 21 && !memcmp(out, "hello world0123456789", 21),
	      "returned %lld, %zu bytes '%.*s'", (long long)r, n, (int)n, out);
	int bad = -1;
	for (size_t i = 0; i < sizeof(body) - 5; i++) {
		char cut[256];
		memcpy(cut, body, i);
		cut[i] = 0;
		if (dechunk(cut, out, &n) != MOTE_HTTP_PARTIAL) {
			bad = (int)i;
			break;
		}
	}
	check("chunked-every-prefix-partial", bad < 0, "prefix of %d bytes not partial", bad);
	check("chunked-bad-size", dechunk("zz\r\nhello\r\n0\r\n\r\n", out, &n) == MOTE_HTTP_BAD, "accepted");
	check("chunked-no-crlf-after-data", dechunk("5\r\nhelloXX0\r\n\r\n", out, &n) == MOTE_HTTP_BAD,
	      "accepted");
	check("chunked-huge-size", dechunk("fffffffffffffffff\r\n", out, &n) == MOTE_HTTP_BAD, "accepted");
	check("chunked-empty", dechunk("0\r\n\r\n", out, &n) == 5 && n == 0, "not an empty body");
}

int main(void)
{
	test_simple();
	test_lf_only_and_no_reason();
	test_every_prefix_partial();
	test_malformed();
	test_chunked();
	return failures ? 1 : 0;
}
