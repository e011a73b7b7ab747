/* libFuzzer target: the invoke message decoders on arbitrary bytes, and encode->decode round trips. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "invoke_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

/* The view [p, p + n) lies inside [lo, hi); every byte of it is touched so that ASan sees any lie. */
static void inside(const void *p, uint64_t n, const uint8_t *lo, const uint8_t *hi)
{
	const uint8_t *b = p;
	if (n == 0)
		return;
	if (b < lo || b > hi || n > (uint64_t)(hi - b))
		__builtin_trap();
	for (uint64_t i = 0; i < n; i++)
		sink ^= b[i];
}

static int tchar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The harness's own statement of the rules (the oracle), independent of the codec's. */
static int token_ok(const char *p, uint64_t n)
{
	if (n == 0)
		return 0;
	for (uint64_t i = 0; i < n; i++)
		if (!tchar((uint8_t)p[i]))
			return 0;
	return 1;
}

static int line_ok(const char *p, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (p[i] == 0 || p[i] == '\r' || p[i] == '\n')
			return 0;
	return 1;
}

/* Walk a decoded headers block: exactly n entries, inside the message, valid names and values. */
static void walk_headers(const uint8_t *block, uint64_t len, uint32_t n, const uint8_t *lo, const uint8_t *hi)
{
	inside(block, len, lo, hi);
	uint64_t cursor = 0;
	struct mote_msg_header h;
	uint32_t k = 0;
	while (mote_msg_next_header(block, len, &cursor, &h)) {
		inside(h.name, h.name_len, lo, hi);
		inside(h.value, h.value_len, lo, hi);
		if (!token_ok(h.name, h.name_len) || !line_ok(h.value, h.value_len))
			__builtin_trap();
		if (++k > n)
			__builtin_trap();
	}
	if (k != n || cursor != len)
		__builtin_trap();
}

/* Decode the input as every type; what decodes must re-encode to exactly the same bytes. */
static void decode_all(const uint8_t *data, size_t size)
{
	const uint8_t *hi = data + size;
	uint64_t total;
	int t = mote_msg_prefix(data, size, &total);
	int type = mote_msg_type(data, size);
	if (type > 0 && (t != type || total != size))
		__builtin_trap();

	struct mote_msg_request q;
	if (mote_msg_decode_request(data, size, &q) == MOTE_MSG_OK) {
		if (type != MOTE_MSG_REQUEST)
			__builtin_trap();
		inside(q.method, q.method_len, data, hi);
		inside(q.path, q.path_len, data, hi);
		inside(q.query, q.query_len, data, hi);
		inside(q.body, q.body_len, data, hi);
		walk_headers(q.headers, q.headers_len, q.nheaders, data, hi);
		struct mote_msg_header *hs = malloc((q.nheaders ? q.nheaders : 1) * sizeof(*hs));
		uint64_t cursor = 0;
		for (uint32_t i = 0; i < q.nheaders; i++)
			mote_msg_next_header(q.headers, q.headers_len, &cursor, &hs[i]);
		struct mote_msg_request_fields f = {q.id,	q.method, q.method_len, q.path,
						    q.path_len, q.query,  q.query_len,	hs,
						    q.nheaders, q.body,	  q.body_len};
		uint8_t *out = malloc(size);
		int64_t n = mote_msg_encode_request(out, size, &f);
		if (n != (int64_t)size || memcmp(out, data, size) != 0)
			__builtin_trap();
		free(out);
		free(hs);
	}

	struct mote_msg_response s;
	if (mote_msg_decode_response(data, size, &s) == MOTE_MSG_OK) {
		if (type != MOTE_MSG_RESPONSE || s.status < 100 || s.status > 599)
			__builtin_trap();
		inside(s.body, s.body_len, data, hi);
		walk_headers(s.headers, s.headers_len, s.nheaders, data, hi);
		uint8_t *out = malloc(size);
		struct mote_msg_builder b;
		mote_msg_response_begin(&b, out, size, s.status);
		uint64_t cursor = 0;
		struct mote_msg_header h;
		while (mote_msg_next_header(s.headers, s.headers_len, &cursor, &h))
			mote_msg_response_header(&b, h.name, h.name_len, h.value, h.value_len);
		mote_msg_response_body(&b, s.body, s.body_len / 2);
		mote_msg_response_body(&b, s.body + s.body_len / 2, s.body_len - s.body_len / 2);
		int64_t n = mote_msg_response_end(&b);
		if (n != (int64_t)size || memcmp(out, data, size) != 0)
			__builtin_trap();
		free(out);
	}

	int tt;
	const char *text;
	uint32_t tl;
	if (mote_msg_decode_text(data, size, &tt, &text, &tl) == MOTE_MSG_OK) {
		if (tt != type || (tt != MOTE_MSG_READY && tt != MOTE_MSG_INIT_ERROR) || !line_ok(text, tl))
			__builtin_trap();
		inside(text, tl, data, hi);
		uint8_t *out = malloc(size);
		if (mote_msg_encode_text(out, size, tt, text, tl) != (int64_t)size ||
		    memcmp(out, data, size) != 0)
			__builtin_trap();
		free(out);
	}
}

/* Bytes taken from the input in order; past its end, zero-length pieces. */
struct reader {
	const uint8_t *p;
	size_t left;
};

static uint8_t byte(struct reader *r)
{
	if (!r->left)
		return 0;
	r->left--;
	return *r->p++;
}

static const char *piece(struct reader *r, uint32_t want, uint32_t *len)
{
	if (want > r->left)
		want = (uint32_t)r->left;
	const char *p = (const char *)r->p;
	r->p += want;
	r->left -= want;
	*len = want;
	return p;
}

/* Fields taken from the input: encode, then decode and compare, or check the refusal was right. */
static void round_trip_request(const uint8_t *data, size_t size)
{
	struct reader r = {data, size};
	struct mote_msg_request_fields f = {0};
	struct mote_msg_header hs[8];
	f.id = (uint64_t)byte(&r) * 0x0101010101010101ull;
	f.method = piece(&r, byte(&r) % 12, &f.method_len);
	f.path = piece(&r, byte(&r) % 40, &f.path_len);
	f.query = piece(&r, byte(&r) % 40, &f.query_len);
	f.nheaders = byte(&r) % 9;
	for (uint32_t i = 0; i < f.nheaders; i++) {
		hs[i].name = piece(&r, byte(&r) % 20, &hs[i].name_len);
		hs[i].value = piece(&r, byte(&r) % 40, &hs[i].value_len);
	}
	f.headers = hs;
	uint32_t cap_cut = byte(&r) % 4; /* 0: room enough; else short by 1, 8 or half */
	uint32_t blen;
	f.body = piece(&r, (uint32_t)r.left, &blen);
	f.body_len = blen;

	int valid = token_ok(f.method, f.method_len) && f.path_len > 0 && f.path[0] == '/' &&
		    line_ok(f.path, f.path_len) && line_ok(f.query, f.query_len);
	uint64_t total = MOTE_MSG_REQUEST_FIXED + f.method_len + f.path_len + f.query_len + f.body_len;
	for (uint32_t i = 0; i < f.nheaders; i++) {
		valid &= token_ok(hs[i].name, hs[i].name_len) && line_ok(hs[i].value, hs[i].value_len);
		total += 8 + hs[i].name_len + hs[i].value_len;
	}
	uint64_t cut = cap_cut == 0 ? 0 : cap_cut == 1 ? 1 : cap_cut == 2 ? 8 : total / 2;
	uint64_t cap = total - (cut > total ? total : cut);
	uint8_t *buf = malloc(cap ? cap : 1);
	int64_t n = mote_msg_encode_request(buf, cap, &f);
	if (!valid) {
		if (n != MOTE_MSG_MALFORMED)
			__builtin_trap();
	} else if (cap < total) {
		if (n != MOTE_MSG_NO_ROOM)
			__builtin_trap();
	} else {
		struct mote_msg_request q;
		if (n != (int64_t)total || mote_msg_decode_request(buf, (uint64_t)n, &q) != MOTE_MSG_OK)
			__builtin_trap();
		if (q.id != f.id || q.method_len != f.method_len ||
		    memcmp(q.method, f.method, f.method_len) || q.path_len != f.path_len ||
		    memcmp(q.path, f.path, f.path_len) || q.query_len != f.query_len ||
		    (f.query_len && memcmp(q.query, f.query, f.query_len)) || q.body_len != f.body_len ||
		    (f.body_len && memcmp(q.body, f.body, f.body_len)) || q.nheaders != f.nheaders)
			__builtin_trap();
		uint64_t cursor = 0;
		struct mote_msg_header h;
		for (uint32_t i = 0; i < f.nheaders; i++) {
			if (!mote_msg_next_header(q.headers, q.headers_len, &cursor, &h) ||
			    h.name_len != hs[i].name_len || memcmp(h.name, hs[i].name, h.name_len) ||
			    h.value_len != hs[i].value_len ||
			    (h.value_len && memcmp(h.value, hs[i].value, h.value_len)))
				__builtin_trap();
		}
	}
	free(buf);
}

/* A response built piece by piece from the input, with a status from it, then decoded. */
static void round_trip_response(const uint8_t *data, size_t size)
{
	struct reader r = {data, size};
	uint32_t status = (uint32_t)byte(&r) << 8 | byte(&r);
	uint32_t cap = (uint32_t)byte(&r) << 4;
	uint8_t *buf = malloc(cap ? cap : 1);
	struct mote_msg_builder b;
	mote_msg_response_begin(&b, buf, cap, status);
	int expect_fail = status < 100 || status > 599;
	uint64_t need = MOTE_MSG_RESPONSE_FIXED;
	int body_started = 0;
	for (int i = 0; i < 6 && r.left; i++) {
		uint8_t op = byte(&r);
		uint32_t a, v;
		if (op & 1) {
			const char *name = piece(&r, byte(&r) % 16, &a);
			const char *value = piece(&r, byte(&r) % 32, &v);
			mote_msg_response_header(&b, name, a, value, v);
			if (body_started || !token_ok(name, a) || !line_ok(value, v))
				expect_fail = 1;
			need += 8 + a + v;
		} else {
			const char *d = piece(&r, byte(&r), &a);
			mote_msg_response_body(&b, d, a);
			body_started |= a > 0;
			need += a;
		}
	}
	int64_t n = mote_msg_response_end(&b);
	if (expect_fail || need > cap) {
		if (n >= 0)
			__builtin_trap();
	} else {
		struct mote_msg_response s;
		if (n != (int64_t)need || mote_msg_decode_response(buf, (uint64_t)n, &s) != MOTE_MSG_OK ||
		    s.status != status)
			__builtin_trap();
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode_all(data, size);
	round_trip_request(data, size);
	round_trip_response(data, size);
	return 0;
}
