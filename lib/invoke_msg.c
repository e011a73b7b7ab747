/* Messages of the invoke channel: encoders and checking decoders (wire format in invoke_msg.h). */
#include "invoke_msg.h"

#include <string.h>

/* ---- little-endian fields at any alignment ---- */

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
	put_u32(p, (uint32_t)v);
	put_u32(p + 4, (uint32_t)(v >> 32));
}

/* ---- byte classes ---- */

/* A byte allowed in an HTTP token (RFC 9110 tchar). */
static int is_tchar(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_token(const uint8_t *p, uint64_t len)
{
	if (len == 0)
		return 0;
	for (uint64_t i = 0; i < len; i++)
		if (!is_tchar(p[i]))
			return 0;
	return 1;
}

/* No NUL, CR or LF: the bytes stay on one line and inside one field. */
static int is_line(const uint8_t *p, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++)
		if (p[i] == 0 || p[i] == '\r' || p[i] == '\n')
			return 0;
	return 1;
}

static int known_type(uint16_t type)
{
	return type >= MOTE_MSG_REQUEST && type <= MOTE_MSG_INIT_ERROR;
}

static uint64_t fixed_size(uint16_t type)
{
	switch (type) {
	case MOTE_MSG_REQUEST: return MOTE_MSG_REQUEST_FIXED;
	case MOTE_MSG_RESPONSE: return MOTE_MSG_RESPONSE_FIXED;
	default: return MOTE_MSG_TEXT_FIXED;
	}
}

/* ---- prefix ---- */

int mote_msg_prefix(const void *buf, uint64_t len, uint64_t *total)
{
	const uint8_t *p = buf;
	if (len < MOTE_MSG_PREFIX_SIZE)
		return MOTE_MSG_TRUNCATED;
	uint16_t type = get_u16(p + 6);
	if (get_u32(p) != MOTE_MSG_MAGIC || get_u16(p + 4) != MOTE_MSG_VERSION || !known_type(type))
		return MOTE_MSG_MALFORMED;
	uint64_t t = get_u64(p + 8);
	if (t < fixed_size(type))
		return MOTE_MSG_MALFORMED;
	*total = t;
	return type;
}

int mote_msg_type(const void *buf, uint64_t len)
{
	uint64_t total;
	int type = mote_msg_prefix(buf, len, &total);
	if (type < 0)
		return type;
	if (total > len)
		return MOTE_MSG_TRUNCATED;
	if (total < len)
		return MOTE_MSG_MALFORMED;
	return type;
}

static void put_prefix(uint8_t *p, uint16_t type, uint64_t total)
{
	put_u32(p, MOTE_MSG_MAGIC);
	put_u16(p + 4, MOTE_MSG_VERSION);
	put_u16(p + 6, type);
	put_u64(p + 8, total);
}

/* ---- headers blocks ---- */

/*
 * Check that block[len] holds exactly n entries with token names and one-line values. Each entry takes at
 * least 8 bytes, so the walk ends after at most len / 8 steps whatever n says.
 */
static int check_headers(const uint8_t *block, uint64_t len, uint32_t n)
{
	uint64_t off = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (len - off < 8)
			return 0;
		uint32_t nlen = get_u32(block + off), vlen = get_u32(block + off + 4);
		off += 8;
		if (nlen > len - off || vlen > len - off - nlen)
			return 0;
		if (!is_token(block + off, nlen) || !is_line(block + off + nlen, vlen))
			return 0;
		off += (uint64_t)nlen + vlen;
	}
	return off == len;
}

int mote_msg_next_header(const uint8_t *block, uint64_t block_len, uint64_t *cursor,
			 struct mote_msg_header *h)
{
	uint64_t off = *cursor;
	if (off > block_len || block_len - off < 8)
		return 0;
	uint32_t nlen = get_u32(block + off), vlen = get_u32(block + off + 4);
	off += 8;
	if (nlen > block_len - off || vlen > block_len - off - nlen)
		return 0;
	h->name = (const char *)block + off;
	h->name_len = nlen;
	h->value = (const char *)block + off + nlen;
	h->value_len = vlen;
	*cursor = off + nlen + vlen;
	return 1;
}

/* Take `n` bytes from the parts area [*off, end): their start, or NULL when they do not fit. */
static const uint8_t *take(const uint8_t *base, uint64_t *off, uint64_t end, uint64_t n)
{
	if (n > end - *off)
		return NULL;
	const uint8_t *p = base + *off;
	*off += n;
	return p;
}

/* Check the prefix of buf[len] and that it is of `want` type. */
static int expect_type(const void *buf, uint64_t len, int want)
{
	int type = mote_msg_type(buf, len);
	if (type < 0)
		return type;
	if (type != want && !(want == MOTE_MSG_READY && type == MOTE_MSG_INIT_ERROR))
		return MOTE_MSG_WRONG_TYPE;
	return type;
}

/* ---- decoders ---- */

int mote_msg_decode_request(const void *buf, uint64_t len, struct mote_msg_request *out)
{
	const uint8_t *p = buf;
	int r = expect_type(buf, len, MOTE_MSG_REQUEST);
	if (r < 0)
		return r;
	struct mote_msg_request q;
	q.id = get_u64(p + 16);
	q.method_len = get_u32(p + 24);
	q.path_len = get_u32(p + 28);
	q.query_len = get_u32(p + 32);
	q.nheaders = get_u32(p + 36);
	q.headers_len = get_u64(p + 40);
	q.body_len = get_u64(p + 48);

	uint64_t off = MOTE_MSG_REQUEST_FIXED;
	const uint8_t *method = take(p, &off, len, q.method_len);
	const uint8_t *path = method ? take(p, &off, len, q.path_len) : NULL;
	const uint8_t *query = path ? take(p, &off, len, q.query_len) : NULL;
	q.headers = query ? take(p, &off, len, q.headers_len) : NULL;
	q.body = q.headers ? take(p, &off, len, q.body_len) : NULL;
	if (!q.body || off != len)
		return MOTE_MSG_MALFORMED;
	if (!is_token(method, q.method_len) || q.path_len == 0 || path[0] != '/' ||
	    !is_line(path, q.path_len) || !is_line(query, q.query_len) ||
	    !check_headers(q.headers, q.headers_len, q.nheaders))
		return MOTE_MSG_MALFORMED;
	q.method = (const char *)method;
	q.path = (const char *)path;
	q.query = (const char *)query;
	*out = q;
	return MOTE_MSG_OK;
}

int mote_msg_decode_response(const void *buf, uint64_t len, struct mote_msg_response *out)
{
	const uint8_t *p = buf;
	int r = expect_type(buf, len, MOTE_MSG_RESPONSE);
	if (r < 0)
		return r;
	struct mote_msg_response s;
	s.status = get_u32(p + 16);
	s.nheaders = get_u32(p + 20);
	s.headers_len = get_u64(p + 24);
	s.body_len = get_u64(p + 32);
	uint64_t off = MOTE_MSG_RESPONSE_FIXED;
	s.headers = take(p, &off, len, s.headers_len);
	s.body = s.headers ? take(p, &off, len, s.body_len) : NULL;
	if (!s.body || off != len)
		return MOTE_MSG_MALFORMED;
	if (s.status < 100 || s.status > 599 || !check_headers(s.headers, s.headers_len, s.nheaders))
		return MOTE_MSG_MALFORMED;
	*out = s;
	return MOTE_MSG_OK;
}

int mote_msg_decode_text(const void *buf, uint64_t len, int *type, const char **text, uint32_t *text_len)
{
	const uint8_t *p = buf;
	int t = expect_type(buf, len, MOTE_MSG_READY);
	if (t < 0)
		return t;
	uint32_t n = get_u32(p + 16);
	if (n != len - MOTE_MSG_TEXT_FIXED || !is_line(p + MOTE_MSG_TEXT_FIXED, n))
		return MOTE_MSG_MALFORMED;
	*type = t;
	*text = (const char *)p + MOTE_MSG_TEXT_FIXED;
	*text_len = n;
	return MOTE_MSG_OK;
}

/* ---- encoders ---- */

/* Append n bytes at *off (room already checked). */
static void put_bytes(uint8_t *buf, uint64_t *off, const void *data, uint64_t n)
{
	if (n)
		memcpy(buf + *off, data, n);
	*off += n;
}

int64_t mote_msg_encode_request(void *buf, uint64_t cap, const struct mote_msg_request_fields *r)
{
	const uint8_t *path = (const uint8_t *)r->path;
	if (!is_token((const uint8_t *)r->method, r->method_len) || r->path_len == 0 || path[0] != '/' ||
	    !is_line(path, r->path_len) || !is_line((const uint8_t *)r->query, r->query_len) ||
	    (r->body_len && !r->body))
		return MOTE_MSG_MALFORMED;
	/*
	 * Every field is checked before any size (a refusal does not depend on the room). Sizes in u64:
	 * an entry is < 2^34 bytes and the sum stops growing once past cap, so nothing wraps.
	 */
	uint64_t headers_len = 0;
	for (uint32_t i = 0; i < r->nheaders; i++) {
		const struct mote_msg_header *h = &r->headers[i];
		if (!is_token((const uint8_t *)h->name, h->name_len) ||
		    !is_line((const uint8_t *)h->value, h->value_len))
			return MOTE_MSG_MALFORMED;
		if (headers_len <= cap)
			headers_len += 8 + (uint64_t)h->name_len + h->value_len;
	}
	uint64_t fixed = MOTE_MSG_REQUEST_FIXED + (uint64_t)r->method_len + r->path_len + r->query_len;
	if (fixed > cap || headers_len > cap - fixed || r->body_len > cap - fixed - headers_len)
		return MOTE_MSG_NO_ROOM;
	uint64_t total = fixed + headers_len + r->body_len;
	if (total > INT64_MAX)
		return MOTE_MSG_NO_ROOM;

	uint8_t *p = buf;
	put_prefix(p, MOTE_MSG_REQUEST, total);
	put_u64(p + 16, r->id);
	put_u32(p + 24, r->method_len);
	put_u32(p + 28, r->path_len);
	put_u32(p + 32, r->query_len);
	put_u32(p + 36, r->nheaders);
	put_u64(p + 40, headers_len);
	put_u64(p + 48, r->body_len);
	uint64_t off = MOTE_MSG_REQUEST_FIXED;
	put_bytes(p, &off, r->method, r->method_len);
	put_bytes(p, &off, r->path, r->path_len);
	put_bytes(p, &off, r->query, r->query_len);
	for (uint32_t i = 0; i < r->nheaders; i++) {
		const struct mote_msg_header *h = &r->headers[i];
		put_u32(p + off, h->name_len);
		put_u32(p + off + 4, h->value_len);
		off += 8;
		put_bytes(p, &off, h->name, h->name_len);
		put_bytes(p, &off, h->value, h->value_len);
	}
	put_bytes(p, &off, r->body, r->body_len);
	return (int64_t)total;
}

static void builder_fail(struct mote_msg_builder *b, int error)
{
	if (!b->error)
		b->error = error;
}

void mote_msg_response_begin(struct mote_msg_builder *b, void *buf, uint64_t cap, uint32_t status)
{
	*b = (struct mote_msg_builder){.buf = buf, .cap = cap, .len = MOTE_MSG_RESPONSE_FIXED};
	if (status < 100 || status > 599)
		builder_fail(b, MOTE_MSG_MALFORMED);
	else if (!buf || cap < MOTE_MSG_RESPONSE_FIXED)
		builder_fail(b, MOTE_MSG_NO_ROOM);
	else
		put_u32(b->buf + 16, status);
}

void mote_msg_response_header(struct mote_msg_builder *b, const char *name, uint32_t name_len,
			      const char *value, uint32_t value_len)
{
	if (b->error)
		return;
	if (b->body_len || b->nheaders == UINT32_MAX || !is_token((const uint8_t *)name, name_len) ||
	    !is_line((const uint8_t *)value, value_len)) {
		builder_fail(b, MOTE_MSG_MALFORMED);
		return;
	}
	uint64_t n = 8 + (uint64_t)name_len + value_len;
	if (n > b->cap - b->len) {
		builder_fail(b, MOTE_MSG_NO_ROOM);
		return;
	}
	put_u32(b->buf + b->len, name_len);
	put_u32(b->buf + b->len + 4, value_len);
	b->len += 8;
	put_bytes(b->buf, &b->len, name, name_len);
	put_bytes(b->buf, &b->len, value, value_len);
	b->nheaders++;
	b->headers_len += n;
}

void mote_msg_response_body(struct mote_msg_builder *b, const void *data, uint64_t len)
{
	if (b->error || len == 0)
		return;
	if (!data) {
		builder_fail(b, MOTE_MSG_MALFORMED);
		return;
	}
	if (len > b->cap - b->len) {
		builder_fail(b, MOTE_MSG_NO_ROOM);
		return;
	}
	put_bytes(b->buf, &b->len, data, len);
	b->body_len += len;
}

int64_t mote_msg_response_end(struct mote_msg_builder *b)
{
	if (b->error)
		return b->error;
	if (b->len > INT64_MAX)
		return MOTE_MSG_NO_ROOM;
	put_prefix(b->buf, MOTE_MSG_RESPONSE, b->len);
	put_u32(b->buf + 20, b->nheaders);
	put_u64(b->buf + 24, b->headers_len);
	put_u64(b->buf + 32, b->body_len);
	return (int64_t)b->len;
}

int64_t mote_msg_encode_text(void *buf, uint64_t cap, int type, const char *text, uint32_t text_len)
{
	if ((type != MOTE_MSG_READY && type != MOTE_MSG_INIT_ERROR) ||
	    !is_line((const uint8_t *)text, text_len))
		return MOTE_MSG_MALFORMED;
	uint64_t total = MOTE_MSG_TEXT_FIXED + (uint64_t)text_len;
	if (!buf || total > cap)
		return MOTE_MSG_NO_ROOM;
	uint8_t *p = buf;
	put_prefix(p, (uint16_t)type, total);
	put_u32(p + 16, text_len);
	uint64_t off = MOTE_MSG_TEXT_FIXED;
	put_bytes(p, &off, text, text_len);
	return (int64_t)total;
}

int mote_msg_is_token(const char *p, uint64_t len)
{
	return is_token((const uint8_t *)p, len);
}

int mote_msg_is_line(const char *p, uint64_t len)
{
	return is_line((const uint8_t *)p, len);
}

const char *mote_msg_strerror(int result)
{
	switch (result) {
	case MOTE_MSG_OK: return "ok";
	case MOTE_MSG_TRUNCATED: return "truncated";
	case MOTE_MSG_MALFORMED: return "malformed";
	case MOTE_MSG_WRONG_TYPE: return "wrong message type";
	case MOTE_MSG_NO_ROOM: return "no room";
	default: return "unknown result";
	}
}
