/* Unit test of lib/invoke_msg.c: round trips, every refusal, inputs and outputs that end at a guard page. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invoke_msg.h"

#include "check.h"
#include "guard.h"

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int same(const void *a, uint64_t alen, const void *b, uint64_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* Writable room of exactly `cap` bytes that ends right before a PROT_NONE page. */
static uint8_t *room(struct guarded *g, size_t cap)
{
	static uint8_t zeros[1 << 16];
	uint8_t *tmp = cap > sizeof(zeros) ? calloc(1, cap) : zeros;
	*g = guard(tmp, cap);
	if (tmp != zeros)
		free(tmp);
	return (uint8_t *)g->data;
}

/* Decode buf[len] as a request from a guarded copy. */
static int decode_req_guarded(const uint8_t *buf, uint64_t len, struct mote_msg_request *out)
{
	struct guarded g = guard(buf, len);
	int r = mote_msg_decode_request(g.data, len, out);
	unguard(&g);
	return r;
}

static int decode_resp_guarded(const uint8_t *buf, uint64_t len)
{
	struct guarded g = guard(buf, len);
	struct mote_msg_response out;
	int r = mote_msg_decode_response(g.data, len, &out);
	unguard(&g);
	return r;
}

/* The sample request: three headers (one repeated), a query, a binary body with NUL and CR/LF bytes. */
static const struct mote_msg_header sample_headers[] = {
    {"host", 4, "localhost:8080", 14},
    {"X-Thing", 7, "a\tb \x80\x01", 6},
    {"x-thing", 7, "", 0},
};
static const uint8_t sample_body[] = {0, 1, 2, '\r', '\n', 0xff, 'x', 0};

static struct mote_msg_request_fields sample_fields(void)
{
	return (struct mote_msg_request_fields){
	    .id = 0x0102030405060708ull,
	    .method = "POST",
	    .method_len = 4,
	    .path = "/a/b%20c",
	    .path_len = 8,
	    .query = "x=1&y=%0A",
	    .query_len = 9,
	    .headers = sample_headers,
	    .nheaders = 3,
	    .body = sample_body,
	    .body_len = sizeof(sample_body),
	};
}

/* Offsets of the request's fixed fields. */
enum {
	R_ID = 16,
	R_METHOD_LEN = 24,
	R_PATH_LEN = 28,
	R_QUERY_LEN = 32,
	R_NHEADERS = 36,
	R_HLEN = 40,
	R_BLEN = 48
};

static void test_request_round_trip(void)
{
	uint8_t buf[512];
	struct mote_msg_request_fields f = sample_fields();
	int64_t n = mote_msg_encode_request(buf, sizeof(buf), &f);
	uint64_t want =
	    MOTE_MSG_REQUEST_FIXED + 4 + 8 + 9 + (8 + 4 + 14) + (8 + 7 + 6) + (8 + 7) + sizeof(sample_body);
	check("request-encode-size", n == (int64_t)want, "encoded %lld bytes, expected %llu", (long long)n,
	      (unsigned long long)want);
	check("request-type", mote_msg_type(buf, (uint64_t)n) == MOTE_MSG_REQUEST, "type %d",
	      mote_msg_type(buf, (uint64_t)n));
	struct mote_msg_request q;
	struct guarded g = guard(buf, (size_t)n);
	int r = mote_msg_decode_request(g.data, (uint64_t)n, &q);
	check("request-decode", r == MOTE_MSG_OK, "result %s", mote_msg_strerror(r));
	if (r != MOTE_MSG_OK) {
		unguard(&g);
		return;
	}
	int fields_ok = q.id == f.id && same(q.method, q.method_len, "POST", 4) &&
			same(q.path, q.path_len, f.path, f.path_len) &&
			same(q.query, q.query_len, f.query, f.query_len) &&
			same(q.body, q.body_len, sample_body, sizeof(sample_body)) && q.nheaders == 3;
	check("request-fields", fields_ok, "decoded fields differ from the encoded ones");
	/* Views point into the decoded buffer. */
	const uint8_t *lo = g.data, *hi = g.data + n;
	check("request-views-inside", (const uint8_t *)q.method >= lo && q.body + q.body_len == hi,
	      "views outside the buffer");
	uint64_t cursor = 0;
	struct mote_msg_header h;
	int k = 0, hok = 1;
	while (mote_msg_next_header(q.headers, q.headers_len, &cursor, &h)) {
		if (k >= 3 || !same(h.name, h.name_len, sample_headers[k].name, sample_headers[k].name_len) ||
		    !same(h.value, h.value_len, sample_headers[k].value, sample_headers[k].value_len))
			hok = 0;
		k++;
	}
	check("request-headers-walk", hok && k == 3 && cursor == q.headers_len, "walked %d headers", k);
	unguard(&g);

	/* The smallest request: GET /, nothing else. */
	struct mote_msg_request_fields m = {.method = "GET", .method_len = 3, .path = "/", .path_len = 1};
	n = mote_msg_encode_request(buf, sizeof(buf), &m);
	r = n > 0 ? decode_req_guarded(buf, (uint64_t)n, &q) : (int)n;
	check("request-minimal",
	      n == MOTE_MSG_REQUEST_FIXED + 4 && r == MOTE_MSG_OK && q.query_len == 0 && q.nheaders == 0 &&
		  q.headers_len == 0 && q.body_len == 0,
	      "size %lld result %s", (long long)n, mote_msg_strerror(r));
}

/* Every proper prefix of a valid message is truncated (or too short for a prefix); one more byte is
 * malformed. */
static void test_request_truncation(void)
{
	uint8_t buf[512];
	struct mote_msg_request_fields f = sample_fields();
	int64_t n = mote_msg_encode_request(buf, sizeof(buf), &f);
	int bad = -1;
	for (int64_t len = 0; len < n; len++) {
		struct mote_msg_request q;
		if (decode_req_guarded(buf, (uint64_t)len, &q) != MOTE_MSG_TRUNCATED) {
			bad = (int)len;
			break;
		}
	}
	check("request-every-prefix-truncated", bad < 0, "prefix of %d bytes not reported truncated", bad);
	struct mote_msg_request q;
	buf[n] = 0;
	int r = decode_req_guarded(buf, (uint64_t)n + 1, &q);
	check("request-trailing-byte", r == MOTE_MSG_MALFORMED, "result %s", mote_msg_strerror(r));
	uint64_t total;
	r = mote_msg_prefix(buf, 16, &total);
	check("prefix-of-partial", r == MOTE_MSG_REQUEST && total == (uint64_t)n, "result %d total %llu", r,
	      (unsigned long long)total);
	r = mote_msg_prefix(buf, 15, &total);
	check("prefix-too-short", r == MOTE_MSG_TRUNCATED, "result %d", r);
}

/* A copy of the sample request with one change applied by `mutate`, decoded from a guarded buffer. */
static int mutated(void (*mutate)(uint8_t *buf, uint64_t *len))
{
	uint8_t buf[1024];
	struct mote_msg_request_fields f = sample_fields();
	int64_t n = mote_msg_encode_request(buf, sizeof(buf), &f);
	uint64_t len = (uint64_t)n;
	mutate(buf, &len);
	struct mote_msg_request q;
	return decode_req_guarded(buf, len, &q);
}

/* Offsets of the sample's variable parts. */
enum {
	S_METHOD = MOTE_MSG_REQUEST_FIXED,
	S_PATH = S_METHOD + 4,
	S_QUERY = S_PATH + 8,
	S_HEADERS = S_QUERY + 9,
	S_H0_NAME = S_HEADERS + 8,
	S_H0_VALUE = S_H0_NAME + 4,
	S_H1 = S_H0_VALUE + 14,
};

static void m_magic(uint8_t *b, uint64_t *l)
{
	b[0] ^= 1;
}
static void m_version(uint8_t *b, uint64_t *l)
{
	b[4] = 2;
}
static void m_type0(uint8_t *b, uint64_t *l)
{
	b[6] = 0;
}
static void m_type5(uint8_t *b, uint64_t *l)
{
	b[6] = 5;
}
static void m_type_high(uint8_t *b, uint64_t *l)
{
	b[7] = 1;
}
static void m_total_small(uint8_t *b, uint64_t *l)
{
	put64(b + 8, MOTE_MSG_REQUEST_FIXED - 1);
	*l = MOTE_MSG_REQUEST_FIXED - 1;
}
static void m_total_huge(uint8_t *b, uint64_t *l)
{
	put64(b + 8, UINT64_MAX);
}
static void m_method_len_max(uint8_t *b, uint64_t *l)
{
	put32(b + R_METHOD_LEN, UINT32_MAX);
}
static void m_method_len_plus(uint8_t *b, uint64_t *l)
{
	put32(b + R_METHOD_LEN, 5);
}
static void m_path_len_minus(uint8_t *b, uint64_t *l)
{
	put32(b + R_PATH_LEN, 7);
}
static void m_query_len_max(uint8_t *b, uint64_t *l)
{
	put32(b + R_QUERY_LEN, UINT32_MAX);
}
/* headers_len and body_len whose sum wraps around to exactly the right total. */
static void m_len_wrap(uint8_t *b, uint64_t *l)
{
	uint64_t h = get64(b + R_HLEN), body = get64(b + R_BLEN);
	put64(b + R_HLEN, h + body + 16);
	put64(b + R_BLEN, (uint64_t)0 - 16);
}
static void m_headers_len_max(uint8_t *b, uint64_t *l)
{
	put64(b + R_HLEN, UINT64_MAX);
}
static void m_body_len_max(uint8_t *b, uint64_t *l)
{
	put64(b + R_BLEN, UINT64_MAX);
}
static void m_nheaders_plus(uint8_t *b, uint64_t *l)
{
	put32(b + R_NHEADERS, 4);
}
static void m_nheaders_minus(uint8_t *b, uint64_t *l)
{
	put32(b + R_NHEADERS, 2);
}
static void m_nheaders_max(uint8_t *b, uint64_t *l)
{
	put32(b + R_NHEADERS, UINT32_MAX);
}
static void m_nheaders_zero(uint8_t *b, uint64_t *l)
{
	put32(b + R_NHEADERS, 0);
}
static void m_hname_len_max(uint8_t *b, uint64_t *l)
{
	put32(b + S_HEADERS, UINT32_MAX);
}
/* name_len + value_len that wrap in 32 bits to the right entry size. */
static void m_hlens_wrap32(uint8_t *b, uint64_t *l)
{
	put32(b + S_HEADERS, 4 + 14 + 1);
	put32(b + S_HEADERS + 4, UINT32_MAX);
}
static void m_hvalue_len_plus(uint8_t *b, uint64_t *l)
{
	put32(b + S_HEADERS + 4, 15);
}
static void m_method_empty(uint8_t *b, uint64_t *l)
{
	/* Method "" and path "POST/a/b%20c" would not start with '/': make the path take the 4 bytes. */
	put32(b + R_METHOD_LEN, 0);
	put32(b + R_PATH_LEN, 12);
	memcpy(b + S_METHOD, "/xyz", 4);
}
static void m_method_space(uint8_t *b, uint64_t *l)
{
	b[S_METHOD + 1] = ' ';
}
static void m_method_nul(uint8_t *b, uint64_t *l)
{
	b[S_METHOD + 3] = 0;
}
static void m_path_relative(uint8_t *b, uint64_t *l)
{
	b[S_PATH] = 'a';
}
static void m_path_empty(uint8_t *b, uint64_t *l)
{
	put32(b + R_PATH_LEN, 0);
	put32(b + R_QUERY_LEN, 17);
}
static void m_path_cr(uint8_t *b, uint64_t *l)
{
	b[S_PATH + 3] = '\r';
}
static void m_path_lf(uint8_t *b, uint64_t *l)
{
	b[S_PATH + 7] = '\n';
}
static void m_path_nul(uint8_t *b, uint64_t *l)
{
	b[S_PATH + 1] = 0;
}
static void m_query_lf(uint8_t *b, uint64_t *l)
{
	b[S_QUERY] = '\n';
}
static void m_query_nul(uint8_t *b, uint64_t *l)
{
	b[S_QUERY + 8] = 0;
}
static void m_hname_colon(uint8_t *b, uint64_t *l)
{
	b[S_H0_NAME + 1] = ':';
}
static void m_hname_space(uint8_t *b, uint64_t *l)
{
	b[S_H0_NAME + 3] = ' ';
}
static void m_hname_high(uint8_t *b, uint64_t *l)
{
	b[S_H0_NAME] = 0xc3;
}
static void m_hname_empty(uint8_t *b, uint64_t *l)
{
	put32(b + S_HEADERS, 0);
	put32(b + S_HEADERS + 4, 18);
}
static void m_hvalue_cr(uint8_t *b, uint64_t *l)
{
	b[S_H0_VALUE + 5] = '\r';
}
static void m_hvalue_lf(uint8_t *b, uint64_t *l)
{
	b[S_H0_VALUE] = '\n';
}
static void m_hvalue_nul(uint8_t *b, uint64_t *l)
{
	b[S_H0_VALUE + 13] = 0;
}
static void m_as_response(uint8_t *b, uint64_t *l)
{
	b[6] = MOTE_MSG_RESPONSE;
}
/* Allowed: bytes of other kinds in values, percent signs and spaces in the query. */
static void m_hvalue_tab_high(uint8_t *b, uint64_t *l)
{
	b[S_H0_VALUE] = '\t';
	b[S_H0_VALUE + 1] = 0xfe;
	b[S_H0_VALUE + 2] = 0x7f;
}
static void m_query_space(uint8_t *b, uint64_t *l)
{
	b[S_QUERY + 1] = ' ';
}

static void test_request_refusals(void)
{
	struct {
		const char *name;
		void (*mutate)(uint8_t *, uint64_t *);
		int want;
	} cases[] = {
	    {"bad-magic", m_magic, MOTE_MSG_MALFORMED},
	    {"bad-version", m_version, MOTE_MSG_MALFORMED},
	    {"type-0", m_type0, MOTE_MSG_MALFORMED},
	    {"type-5", m_type5, MOTE_MSG_MALFORMED},
	    {"type-high-byte", m_type_high, MOTE_MSG_MALFORMED},
	    {"total-below-fixed", m_total_small, MOTE_MSG_MALFORMED},
	    {"total-huge", m_total_huge, MOTE_MSG_TRUNCATED},
	    {"method-len-max", m_method_len_max, MOTE_MSG_MALFORMED},
	    {"method-len-plus-1", m_method_len_plus, MOTE_MSG_MALFORMED},
	    {"path-len-minus-1", m_path_len_minus, MOTE_MSG_MALFORMED},
	    {"query-len-max", m_query_len_max, MOTE_MSG_MALFORMED},
	    {"lengths-wrap-64", m_len_wrap, MOTE_MSG_MALFORMED},
	    {"headers-len-max", m_headers_len_max, MOTE_MSG_MALFORMED},
	    {"body-len-max", m_body_len_max, MOTE_MSG_MALFORMED},
	    {"nheaders-plus-1", m_nheaders_plus, MOTE_MSG_MALFORMED},
	    {"nheaders-minus-1", m_nheaders_minus, MOTE_MSG_MALFORMED},
	    {"nheaders-max", m_nheaders_max, MOTE_MSG_MALFORMED},
	    {"nheaders-zero", m_nheaders_zero, MOTE_MSG_MALFORMED},
	    {"header-name-len-max", m_hname_len_max, MOTE_MSG_MALFORMED},
	    {"header-lens-wrap-32", m_hlens_wrap32, MOTE_MSG_MALFORMED},
	    {"header-value-len-plus-1", m_hvalue_len_plus, MOTE_MSG_MALFORMED},
	    {"method-empty", m_method_empty, MOTE_MSG_MALFORMED},
	    {"method-space", m_method_space, MOTE_MSG_MALFORMED},
	    {"method-nul", m_method_nul, MOTE_MSG_MALFORMED},
	    {"path-relative", m_path_relative, MOTE_MSG_MALFORMED},
	    {"path-empty", m_path_empty, MOTE_MSG_MALFORMED},
	    {"path-cr", m_path_cr, MOTE_MSG_MALFORMED},
	    {"path-lf", m_path_lf, MOTE_MSG_MALFORMED},
	    {"path-nul", m_path_nul, MOTE_MSG_MALFORMED},
	    {"query-lf", m_query_lf, MOTE_MSG_MALFORMED},
	    {"query-nul", m_query_nul, MOTE_MSG_MALFORMED},
	    {"header-name-colon", m_hname_colon, MOTE_MSG_MALFORMED},
	    {"header-name-space", m_hname_space, MOTE_MSG_MALFORMED},
	    {"header-name-8bit", m_hname_high, MOTE_MSG_MALFORMED},
	    {"header-name-empty", m_hname_empty, MOTE_MSG_MALFORMED},
	    {"header-value-cr", m_hvalue_cr, MOTE_MSG_MALFORMED},
	    {"header-value-lf", m_hvalue_lf, MOTE_MSG_MALFORMED},
	    {"header-value-nul", m_hvalue_nul, MOTE_MSG_MALFORMED},
	    {"response-prefix", m_as_response, MOTE_MSG_WRONG_TYPE},
	    {"header-value-tab-8bit-del-ok", m_hvalue_tab_high, MOTE_MSG_OK},
	    {"query-space-ok", m_query_space, MOTE_MSG_OK},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[80];
		snprintf(name, sizeof(name), "request-%s", cases[i].name);
		int r = mutated(cases[i].mutate);
		check(name, r == cases[i].want, "result %s, expected %s", mote_msg_strerror(r),
		      mote_msg_strerror(cases[i].want));
	}
}

/* The encoder refuses what the decoder would refuse, and never writes past its buffer. */
static void test_request_encode_refusals(void)
{
	uint8_t buf[512];
	struct mote_msg_header bad_name = {"a b", 3, "v", 1}, bad_value = {"a", 1, "v\r\nx: y", 7},
			       empty_name = {"", 0, "v", 1};
	struct {
		const char *name;
		struct mote_msg_request_fields f;
	} cases[] = {
	    {"method-empty", {.method = "", .method_len = 0, .path = "/", .path_len = 1}},
	    {"method-lf", {.method = "GE\nT", .method_len = 4, .path = "/", .path_len = 1}},
	    {"path-empty", {.method = "GET", .method_len = 3, .path = "", .path_len = 0}},
	    {"path-relative", {.method = "GET", .method_len = 3, .path = "x", .path_len = 1}},
	    {"path-nul", {.method = "GET", .method_len = 3, .path = "/\0", .path_len = 2}},
	    {"query-cr",
	     {.method = "GET", .method_len = 3, .path = "/", .path_len = 1, .query = "\r", .query_len = 1}},
	    {"header-name-space",
	     {.method = "GET",
	      .method_len = 3,
	      .path = "/",
	      .path_len = 1,
	      .headers = &bad_name,
	      .nheaders = 1}},
	    {"header-name-empty",
	     {.method = "GET",
	      .method_len = 3,
	      .path = "/",
	      .path_len = 1,
	      .headers = &empty_name,
	      .nheaders = 1}},
	    {"header-value-crlf",
	     {.method = "GET",
	      .method_len = 3,
	      .path = "/",
	      .path_len = 1,
	      .headers = &bad_value,
	      .nheaders = 1}},
	    {"body-null",
	     {.method = "GET", .method_len = 3, .path = "/", .path_len = 1, .body = NULL, .body_len = 1}},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[80];
		snprintf(name, sizeof(name), "encode-request-%s", cases[i].name);
		int64_t n = mote_msg_encode_request(buf, sizeof(buf), &cases[i].f);
		check(name, n == MOTE_MSG_MALFORMED, "result %lld", (long long)n);
	}

	/* Every capacity below the size: NO_ROOM, with the buffer ending at a guard page. */
	struct mote_msg_request_fields f = sample_fields();
	int64_t want = mote_msg_encode_request(buf, sizeof(buf), &f);
	int bad = -1;
	for (int64_t cap = 0; cap <= want; cap++) {
		struct guarded g;
		uint8_t *out = room(&g, (size_t)cap);
		int64_t n = mote_msg_encode_request(out, (uint64_t)cap, &f);
		int ok =
		    cap < want ? n == MOTE_MSG_NO_ROOM : n == want && memcmp(out, buf, (size_t)want) == 0;
		unguard(&g);
		if (!ok) {
			bad = (int)cap;
			break;
		}
	}
	check("encode-request-every-cap", bad < 0, "capacity %d: wrong result", bad);
}

/* Sizes at the limits: a body filling a 6 MiB area exactly, 10000 headers, a body with every byte value. */
static void test_request_limits(void)
{
	uint64_t cap = 6u << 20;
	struct guarded g;
	uint8_t *out = room(&g, cap);
	uint8_t *body = malloc(cap);
	for (uint64_t i = 0; i < cap; i++)
		body[i] = (uint8_t)(i * 7);
	struct mote_msg_request_fields f = {.method = "PUT", .method_len = 3, .path = "/", .path_len = 1};
	f.body = body;
	f.body_len = cap - MOTE_MSG_REQUEST_FIXED - 4;
	int64_t n = mote_msg_encode_request(out, cap, &f);
	struct mote_msg_request q;
	int r = n > 0 ? mote_msg_decode_request(out, (uint64_t)n, &q) : (int)n;
	check("request-body-fills-area",
	      n == (int64_t)cap && r == MOTE_MSG_OK && same(q.body, q.body_len, body, f.body_len),
	      "size %lld result %s", (long long)n, mote_msg_strerror(r));
	f.body_len++;
	n = mote_msg_encode_request(out, cap, &f);
	check("request-body-one-over", n == MOTE_MSG_NO_ROOM, "result %lld", (long long)n);
	unguard(&g);
	free(body);

	enum { N = 10000 };
	struct mote_msg_header *hs = malloc(N * sizeof(*hs));
	char(*names)[16] = malloc(N * 16);
	for (int i = 0; i < N; i++) {
		int len = snprintf(names[i], 16, "h%d", i);
		hs[i] = (struct mote_msg_header){names[i], (uint32_t)len, names[i], (uint32_t)len};
	}
	struct mote_msg_request_fields m = {
	    .method = "GET", .method_len = 3, .path = "/", .path_len = 1, .headers = hs, .nheaders = N};
	uint8_t *buf = malloc(1 << 20);
	n = mote_msg_encode_request(buf, 1 << 20, &m);
	struct guarded gg = guard(buf, (size_t)(n > 0 ? n : 0));
	r = n > 0 ? mote_msg_decode_request(gg.data, (uint64_t)n, &q) : (int)n;
	int count = 0;
	uint64_t cursor = 0;
	struct mote_msg_header h;
	if (r == MOTE_MSG_OK)
		while (mote_msg_next_header(q.headers, q.headers_len, &cursor, &h))
			count += same(h.name, h.name_len, names[count], strlen(names[count]));
	unguard(&gg);
	check("request-10000-headers", r == MOTE_MSG_OK && count == N, "result %s, %d headers",
	      mote_msg_strerror(r), count);
	free(buf);
	free(names);
	free(hs);
}

/* Build the sample response with the builder into out[cap]. */
static int64_t build_sample_response(uint8_t *out, uint64_t cap, uint32_t status)
{
	struct mote_msg_builder b;
	mote_msg_response_begin(&b, out, cap, status);
	mote_msg_response_header(&b, "content-type", 12, "text/plain", 10);
	mote_msg_response_header(&b, "Set-Cookie", 10, "a=1", 3);
	mote_msg_response_header(&b, "Set-Cookie", 10, "", 0);
	mote_msg_response_body(&b, "hello, ", 7);
	mote_msg_response_body(&b, NULL, 0);
	mote_msg_response_body(&b, "world\0\n", 7);
	return mote_msg_response_end(&b);
}

static void test_response(void)
{
	uint8_t buf[256];
	int64_t n = build_sample_response(buf, sizeof(buf), 201);
	int64_t want = MOTE_MSG_RESPONSE_FIXED + (8 + 12 + 10) + (8 + 10 + 3) + (8 + 10) + 14;
	struct mote_msg_response s = {0};
	struct guarded g = guard(buf, (size_t)(n > 0 ? n : 0));
	int r = n > 0 ? mote_msg_decode_response(g.data, (uint64_t)n, &s) : (int)n;
	check("response-round-trip",
	      n == want && r == MOTE_MSG_OK && s.status == 201 && s.nheaders == 3 &&
		  same(s.body, s.body_len, "hello, world\0\n", 14),
	      "size %lld (want %lld) result %s", (long long)n, (long long)want, mote_msg_strerror(r));
	uint64_t cursor = 0;
	struct mote_msg_header h;
	int k = 0;
	const char *names[] = {"content-type", "Set-Cookie", "Set-Cookie"};
	const char *values[] = {"text/plain", "a=1", ""};
	int hok = 1;
	while (r == MOTE_MSG_OK && mote_msg_next_header(s.headers, s.headers_len, &cursor, &h)) {
		hok &= k < 3 && same(h.name, h.name_len, names[k], strlen(names[k])) &&
		       same(h.value, h.value_len, values[k], strlen(values[k]));
		k++;
	}
	check("response-headers-walk", hok && k == 3, "walked %d headers", k);
	unguard(&g);

	/* Status limits. */
	uint32_t statuses[] = {100, 599, 99, 600, 0, UINT32_MAX};
	for (int i = 0; i < 6; i++) {
		struct mote_msg_builder b;
		mote_msg_response_begin(&b, buf, sizeof(buf), statuses[i]);
		int64_t e = mote_msg_response_end(&b);
		int valid = statuses[i] >= 100 && statuses[i] <= 599;
		int ok = valid ? e == MOTE_MSG_RESPONSE_FIXED : e == MOTE_MSG_MALFORMED;
		char name[64];
		snprintf(name, sizeof(name), "response-build-status-%u", statuses[i]);
		check(name, ok, "result %lld", (long long)e);
		/* The decoder checks the status too: patch it into a valid message. */
		n = build_sample_response(buf, sizeof(buf), 200);
		put32(buf + 16, statuses[i]);
		r = decode_resp_guarded(buf, (uint64_t)n);
		snprintf(name, sizeof(name), "response-decode-status-%u", statuses[i]);
		check(name, valid ? r == MOTE_MSG_OK : r == MOTE_MSG_MALFORMED, "result %s",
		      mote_msg_strerror(r));
	}

	/* Builder refusals. */
	struct mote_msg_builder b;
	mote_msg_response_begin(&b, buf, sizeof(buf), 200);
	mote_msg_response_body(&b, "x", 1);
	mote_msg_response_header(&b, "a", 1, "b", 1);
	check("response-header-after-body", mote_msg_response_end(&b) == MOTE_MSG_MALFORMED, "accepted");
	mote_msg_response_begin(&b, buf, sizeof(buf), 200);
	mote_msg_response_header(&b, "a:b", 3, "c", 1);
	mote_msg_response_body(&b, "x", 1);
	check("response-bad-header-name", mote_msg_response_end(&b) == MOTE_MSG_MALFORMED, "accepted");
	mote_msg_response_begin(&b, buf, sizeof(buf), 200);
	mote_msg_response_header(&b, "a", 1, "c\r\nInjected: 1", 15);
	check("response-header-value-crlf", mote_msg_response_end(&b) == MOTE_MSG_MALFORMED, "accepted");
	mote_msg_response_begin(&b, buf, sizeof(buf), 200);
	mote_msg_response_header(&b, "", 0, "c", 1);
	check("response-header-name-empty", mote_msg_response_end(&b) == MOTE_MSG_MALFORMED, "accepted");
	mote_msg_response_begin(&b, NULL, 0, 200);
	mote_msg_response_header(&b, "a", 1, "b", 1);
	mote_msg_response_body(&b, "x", 1);
	check("response-no-buffer", mote_msg_response_end(&b) == MOTE_MSG_NO_ROOM, "accepted");

	/* Every capacity below the size: NO_ROOM, never a write past the guard. */
	int64_t full = build_sample_response(buf, sizeof(buf), 200);
	int bad = -1;
	for (int64_t cap = 0; cap <= full; cap++) {
		struct guarded gg;
		uint8_t *out = room(&gg, (size_t)cap);
		int64_t e = build_sample_response(out, (uint64_t)cap, 200);
		int ok =
		    cap < full ? e == MOTE_MSG_NO_ROOM : e == full && memcmp(out, buf, (size_t)full) == 0;
		unguard(&gg);
		if (!ok) {
			bad = (int)cap;
			break;
		}
	}
	check("response-every-cap", bad < 0, "capacity %d: wrong result", bad);

	/* Decoder refusals on a valid message changed in one place. */
	n = build_sample_response(buf, sizeof(buf), 200);
	int trunc_bad = -1;
	for (int64_t len = 0; len < n; len++)
		if (decode_resp_guarded(buf, (uint64_t)len) != MOTE_MSG_TRUNCATED) {
			trunc_bad = (int)len;
			break;
		}
	check("response-every-prefix-truncated", trunc_bad < 0, "prefix of %d bytes", trunc_bad);
	uint8_t c[256];
	memcpy(c, buf, (size_t)n);
	put64(c + 24, get64(buf + 24) + get64(buf + 32) + 1);
	put64(c + 32, UINT64_MAX); /* headers_len + body_len wraps to the right sum */
	check("response-lengths-wrap", decode_resp_guarded(c, (uint64_t)n) == MOTE_MSG_MALFORMED, "accepted");
	memcpy(c, buf, (size_t)n);
	put32(c + 20, 2);
	check("response-nheaders-minus-1", decode_resp_guarded(c, (uint64_t)n) == MOTE_MSG_MALFORMED,
	      "accepted");
	memcpy(c, buf, (size_t)n);
	c[MOTE_MSG_RESPONSE_FIXED + 8 + 12 + 3] = '\n';
	check("response-header-value-lf", decode_resp_guarded(c, (uint64_t)n) == MOTE_MSG_MALFORMED,
	      "accepted");
	memcpy(c, buf, (size_t)n);
	c[MOTE_MSG_RESPONSE_FIXED + 8 + 7] = ' ';
	check("response-header-name-space", decode_resp_guarded(c, (uint64_t)n) == MOTE_MSG_MALFORMED,
	      "accepted");
	memcpy(c, buf, (size_t)n);
	c[6] = MOTE_MSG_READY;
	check("response-wrong-type", decode_resp_guarded(c, (uint64_t)n) == MOTE_MSG_WRONG_TYPE,
	      "not wrong-type");
	struct mote_msg_request q;
	check("request-from-response", decode_req_guarded(buf, (uint64_t)n, &q) == MOTE_MSG_WRONG_TYPE,
	      "not wrong-type");
}

static void test_text(void)
{
	uint8_t buf[128];
	int types[2] = {MOTE_MSG_READY, MOTE_MSG_INIT_ERROR};
	for (int i = 0; i < 2; i++) {
		const char *text =
		    i == 0 ? "mote-lua 1 (Lua 5.4)" : "handler.lua:3: unexpected symbol near 'x'";
		int64_t n = mote_msg_encode_text(buf, sizeof(buf), types[i], text, (uint32_t)strlen(text));
		struct guarded g = guard(buf, (size_t)(n > 0 ? n : 0));
		int type = 0;
		const char *t = NULL;
		uint32_t tl = 0;
		int r = n > 0 ? mote_msg_decode_text(g.data, (uint64_t)n, &type, &t, &tl) : (int)n;
		check(i == 0 ? "text-ready-round-trip" : "text-init-error-round-trip",
		      r == MOTE_MSG_OK && type == types[i] && same(t, tl, text, strlen(text)) &&
			  n == (int64_t)(MOTE_MSG_TEXT_FIXED + strlen(text)),
		      "result %s", mote_msg_strerror(r));
		unguard(&g);
	}
	int64_t n = mote_msg_encode_text(buf, sizeof(buf), MOTE_MSG_READY, "", 0);
	int type;
	const char *t;
	uint32_t tl;
	check("text-empty",
	      n == MOTE_MSG_TEXT_FIXED && mote_msg_decode_text(buf, (uint64_t)n, &type, &t, &tl) == 0 &&
		  tl == 0,
	      "size %lld", (long long)n);
	check("text-lf-refused",
	      mote_msg_encode_text(buf, sizeof(buf), MOTE_MSG_INIT_ERROR, "a\nb", 3) == MOTE_MSG_MALFORMED,
	      "accepted");
	check("text-other-type-refused",
	      mote_msg_encode_text(buf, sizeof(buf), MOTE_MSG_RESPONSE, "a", 1) == MOTE_MSG_MALFORMED,
	      "accepted");
	check("text-no-room",
	      mote_msg_encode_text(buf, MOTE_MSG_TEXT_FIXED, MOTE_MSG_READY, "a", 1) == MOTE_MSG_NO_ROOM,
	      "accepted");
	n = mote_msg_encode_text(buf, sizeof(buf), MOTE_MSG_READY, "abc", 3);
	uint8_t c[128];
	memcpy(c, buf, (size_t)n);
	c[MOTE_MSG_TEXT_FIXED + 1] = '\r';
	check("text-decode-cr", mote_msg_decode_text(c, (uint64_t)n, &type, &t, &tl) == MOTE_MSG_MALFORMED,
	      "accepted");
	memcpy(c, buf, (size_t)n);
	put32(c + 16, 4);
	check("text-len-plus-1", mote_msg_decode_text(c, (uint64_t)n, &type, &t, &tl) == MOTE_MSG_MALFORMED,
	      "accepted");
	put32(c + 16, UINT32_MAX);
	check("text-len-max", mote_msg_decode_text(c, (uint64_t)n, &type, &t, &tl) == MOTE_MSG_MALFORMED,
	      "accepted");
	struct mote_msg_request q;
	check("request-from-text", decode_req_guarded(buf, (uint64_t)n, &q) == MOTE_MSG_WRONG_TYPE,
	      "not wrong-type");
	int bad = -1;
	for (int64_t len = 0; len < n; len++) {
		struct guarded g = guard(buf, (size_t)len);
		if (mote_msg_decode_text(g.data, (uint64_t)len, &type, &t, &tl) != MOTE_MSG_TRUNCATED)
			bad = (int)len;
		unguard(&g);
	}
	check("text-every-prefix-truncated", bad < 0, "prefix of %d bytes", bad);
}

/* mote_msg_next_header on blocks that were never checked stays inside them. */
static void test_next_header_unchecked(void)
{
	uint8_t block[16];
	put32(block, 2);
	put32(block + 4, 2);
	memcpy(block + 8, "abcd", 4);
	put32(block + 12, 100);
	int bad = 0;
	for (size_t len = 0; len <= sizeof(block); len++) {
		struct guarded g = guard(block, len);
		uint64_t cursor = 0;
		struct mote_msg_header h;
		int k = 0;
		while (k < 10 && mote_msg_next_header(g.data, len, &cursor, &h))
			k++;
		if (k != (len >= 12 ? 1 : 0))
			bad = 1;
		cursor = len + 1;
		if (mote_msg_next_header(g.data, len, &cursor, &h))
			bad = 1;
		unguard(&g);
	}
	check("next-header-unchecked-block", !bad, "walk left the block or stopped wrongly");
}

int main(void)
{
	test_request_round_trip();
	test_request_truncation();
	test_request_refusals();
	test_request_encode_refusals();
	test_request_limits();
	test_response();
	test_text();
	test_next_header_unchecked();
	check("is-token-is-line",
	      mote_msg_is_token("X-A~1", 5) && !mote_msg_is_token("", 0) && !mote_msg_is_token("a b", 3) &&
		  mote_msg_is_line("a\tb\x80", 4) && !mote_msg_is_line("a\rb", 3) && mote_msg_is_line("", 0),
	      "wrong answers");
	check("strerror",
	      strcmp(mote_msg_strerror(MOTE_MSG_TRUNCATED), "truncated") == 0 &&
		  strcmp(mote_msg_strerror(12345), "unknown result") == 0,
	      "unexpected names");
	return failures ? 1 : 0;
}
