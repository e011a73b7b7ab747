/* The C function SDK (include/mote/fn.h): request accessors, response building, the request loop. */
#include <mote/fn.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "sdk.h"

/* ---- a per-request arena: every string handed to the handler, freed when it returns ---- */

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	max_align_t data[];
};

struct arena {
	struct arena_block *head;
};

static void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	struct arena_block *b = a->head;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > 16384 ? n : 16384;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		*b = (struct arena_block){.next = a->head, .cap = cap};
		a->head = b;
	}
	void *p = (char *)b->data + b->used;
	b->used += n;
	return p;
}

/* Free every block but the newest, which is emptied for the next request. */
static void arena_reset(struct arena *a)
{
	struct arena_block *b = a->head;
	if (!b)
		return;
	struct arena_block *rest = b->next;
	while (rest) {
		struct arena_block *next = rest->next;
		free(rest);
		rest = next;
	}
	b->next = NULL;
	b->used = 0;
}

static char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = 0;
	}
	return p;
}

/* ---- the request ---- */

struct fn_header {
	char *name; /* lower case */
	char *value;
	size_t value_len;
	uint32_t order; /* position in the request, to keep repeated values in order */
};

struct mote_fn_request {
	const struct mote_msg_request *msg;
	const char *method, *path, *query;
	struct fn_header *headers;
	size_t nheaders;
	struct arena *arena;
};

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c;
}

static int header_order(const void *a, const void *b)
{
	const struct fn_header *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : x->order < y->order ? -1 : x->order > y->order;
}

/* Copy the request's headers with lower-case names, sorted by name, repeated names joined with ", ". */
static int collect_headers(struct mote_fn_request *r)
{
	const struct mote_msg_request *m = r->msg;
	r->nheaders = 0;
	r->headers = arena_alloc(r->arena, (m->nheaders ? m->nheaders : 1) * sizeof(*r->headers));
	if (!r->headers)
		return -1;
	uint64_t cursor = 0;
	struct mote_msg_header h;
	for (uint32_t i = 0; i < m->nheaders && mote_msg_next_header(m->headers, m->headers_len, &cursor, &h);
	     i++) {
		char *name = arena_strndup(r->arena, h.name, h.name_len);
		char *value = arena_strndup(r->arena, h.value, h.value_len);
		if (!name || !value)
			return -1;
		for (char *p = name; *p; p++)
			*p = (char)lower((unsigned char)*p);
		r->headers[i] = (struct fn_header){name, value, h.value_len, i};
		r->nheaders = i + 1;
	}
	qsort(r->headers, r->nheaders, sizeof(*r->headers), header_order);
	size_t out = 0;
	for (size_t i = 0; i < r->nheaders;) {
		size_t j = i + 1, len = r->headers[i].value_len;
		while (j < r->nheaders && strcmp(r->headers[j].name, r->headers[i].name) == 0)
			len += 2 + r->headers[j++].value_len;
		struct fn_header merged = r->headers[i];
		if (j > i + 1) {
			char *v = arena_alloc(r->arena, len + 1), *p = v;
			if (!v)
				return -1;
			for (size_t k = i; k < j; k++) {
				if (k > i) {
					memcpy(p, ", ", 2);
					p += 2;
				}
				memcpy(p, r->headers[k].value, r->headers[k].value_len);
				p += r->headers[k].value_len;
			}
			*p = 0;
			merged.value = v;
			merged.value_len = len;
		}
		r->headers[out++] = merged;
		i = j;
	}
	r->nheaders = out;
	return 0;
}

const char *mote_fn_method(const struct mote_fn_request *req)
{
	return req->method;
}

const char *mote_fn_path(const struct mote_fn_request *req)
{
	return req->path;
}

const char *mote_fn_query(const struct mote_fn_request *req)
{
	return req->query;
}

/* Compare `key` (any case) with a lower-case name, like strcmp. */
static int compare_lower(const char *key, const char *name)
{
	for (;; key++, name++) {
		int a = lower((unsigned char)*key), b = (unsigned char)*name;
		if (a != b || a == 0)
			return a - b;
	}
}

const char *mote_fn_header(const struct mote_fn_request *req, const char *name)
{
	size_t lo = 0, hi = req->nheaders;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = compare_lower(name, req->headers[mid].name);
		if (c == 0)
			return req->headers[mid].value;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

size_t mote_fn_header_count(const struct mote_fn_request *req)
{
	return req->nheaders;
}

int mote_fn_header_at(const struct mote_fn_request *req, size_t i, const char **name, const char **value)
{
	if (i >= req->nheaders)
		return -1;
	*name = req->headers[i].name;
	*value = req->headers[i].value;
	return 0;
}

const void *mote_fn_body(const struct mote_fn_request *req, size_t *len)
{
	if (len)
		*len = (size_t)req->msg->body_len;
	return req->msg->body;
}

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Form-decode s[n] ('+' is a space, %XX a byte, a stray '%' kept) into the arena. */
static char *form_decode(struct arena *a, const char *s, size_t n)
{
	char *out = arena_alloc(a, n + 1), *p = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (s[i] == '+') {
			*p++ = ' ';
		} else if (s[i] == '%' && i + 2 < n && (hi = hex_digit((unsigned char)s[i + 1])) >= 0 &&
			   (lo = hex_digit((unsigned char)s[i + 2])) >= 0) {
			*p++ = (char)(hi << 4 | lo);
			i += 2;
		} else {
			*p++ = s[i];
		}
	}
	*p = 0;
	return out;
}

const char *mote_fn_query_param(const struct mote_fn_request *req, const char *name)
{
	const char *q = req->query;
	while (*q) {
		size_t seg = strcspn(q, "&");
		const char *eq = memchr(q, '=', seg);
		size_t klen = eq ? (size_t)(eq - q) : seg;
		char *key = form_decode(req->arena, q, klen);
		if (!key)
			return NULL;
		if (strcmp(key, name) == 0)
			return eq ? form_decode(req->arena, eq + 1, seg - klen - 1) : "";
		q += seg;
		if (*q == '&')
			q++;
	}
	return NULL;
}

/* ---- the response ---- */

struct mote_fn_response {
	int status;
	struct channel_buf headers; /* wire-format entries */
	uint32_t nheaders;
	struct channel_buf body;
	int out_of_memory;
};

int mote_fn_set_status(struct mote_fn_response *res, int status)
{
	if (status < 100 || status > 599)
		return -1;
	res->status = status;
	return 0;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int mote_fn_add_header(struct mote_fn_response *res, const char *name, const char *value)
{
	size_t nlen = strlen(name), vlen = strlen(value);
	if (nlen > UINT32_MAX || vlen > UINT32_MAX || !mote_msg_is_token(name, nlen) ||
	    !mote_msg_is_line(value, vlen))
		return -1;
	uint8_t lens[8];
	put_u32(lens, (uint32_t)nlen);
	put_u32(lens + 4, (uint32_t)vlen);
	size_t mark = res->headers.len;
	if (channel_buf_append(&res->headers, lens, 8) < 0 ||
	    channel_buf_append(&res->headers, name, nlen) < 0 ||
	    channel_buf_append(&res->headers, value, vlen) < 0) {
		res->headers.len = mark;
		return -1;
	}
	res->nheaders++;
	return 0;
}

int mote_fn_write(struct mote_fn_response *res, const void *data, size_t len)
{
	if (channel_buf_append(&res->body, data, len) < 0) {
		res->out_of_memory = 1;
		return -1;
	}
	return 0;
}

int mote_fn_puts(struct mote_fn_response *res, const char *s)
{
	return mote_fn_write(res, s, strlen(s));
}

int mote_fn_printf(struct mote_fn_response *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char small[256];
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return mote_fn_write(res, small, (size_t)n);
	if (channel_buf_reserve(&res->body, res->body.len + (size_t)n + 1) < 0) {
		res->out_of_memory = 1;
		return -1;
	}
	va_start(ap, fmt);
	vsnprintf((char *)res->body.data + res->body.len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	res->body.len += (size_t)n;
	return 0;
}

/* ---- the loop ---- */

/* What persists between requests: the arena and the response's buffers. */
struct sdk_state {
	struct arena arena;
	struct mote_fn_response res;
	const char *who;
};

/* Encode res into out. */
static int encode_response(const struct mote_fn_response *res, struct channel_buf *out)
{
	size_t size = MOTE_MSG_RESPONSE_FIXED + res->headers.len + res->body.len;
	if (channel_buf_reserve(out, size) < 0)
		return -1;
	struct mote_msg_builder b;
	mote_msg_response_begin(&b, out->data, out->cap, (uint32_t)res->status);
	uint64_t cursor = 0;
	struct mote_msg_header h;
	while (mote_msg_next_header(res->headers.data, res->headers.len, &cursor, &h))
		mote_msg_response_header(&b, h.name, h.name_len, h.value, h.value_len);
	mote_msg_response_body(&b, res->body.data, res->body.len);
	int64_t n = mote_msg_response_end(&b);
	if (n < 0)
		return -1;
	out->len = (size_t)n;
	return 0;
}

static int sdk_handle(void *ctx, const struct mote_msg_request *msg, struct channel_buf *out)
{
	struct sdk_state *s = ctx;
	arena_reset(&s->arena);
	struct mote_fn_request req = {.msg = msg, .arena = &s->arena};
	req.method = arena_strndup(&s->arena, msg->method, msg->method_len);
	req.path = arena_strndup(&s->arena, msg->path, msg->path_len);
	req.query = arena_strndup(&s->arena, msg->query ? msg->query : "", msg->query_len);
	if (!req.method || !req.path || !req.query || collect_headers(&req) < 0) {
		fprintf(stderr, "%s: out of memory reading request %llu: answered 500\n", s->who,
			(unsigned long long)msg->id);
		return -1;
	}
	struct mote_fn_response *res = &s->res;
	res->status = 200;
	res->headers.len = 0;
	res->nheaders = 0;
	res->body.len = 0;
	res->out_of_memory = 0;
	int r = mote_handle(&req, res);
	if (r != 0) {
		fprintf(stderr, "%s: mote_handle returned %d: answered 500\n", s->who, r);
		return -1;
	}
	if (res->out_of_memory || encode_response(res, out) < 0) {
		fprintf(stderr, "%s: out of memory building the response (%zu body bytes): answered 500\n",
			s->who, res->body.len);
		return -1;
	}
	return 0;
}

int sdk_serve(struct channel *ch)
{
	struct sdk_state s = {.who = ch->who};
	int r = channel_serve(ch, sdk_handle, &s);
	arena_reset(&s.arena);
	free(s.arena.head);
	channel_buf_free(&s.res.headers);
	channel_buf_free(&s.res.body);
	return r;
}

/* Optional user hook (see fn.h): a weak reference, NULL when the program does not define it. */
extern int mote_init(void) __attribute__((weak));

int mote_fn_run(void)
{
	struct channel ch;
	if (channel_open(&ch, SDK_NAME) < 0)
		return 2;
	if (mote_init) {
		int r = mote_init();
		if (r != 0) {
			char why[64];
			snprintf(why, sizeof(why), "mote_init returned %d", r);
			channel_fail_init(&ch, why);
			channel_close(&ch);
			return 1;
		}
	}
	int r = channel_send_text(&ch, MOTE_MSG_READY, SDK_NAME " " MOTE_FN_VERSION);
	if (r < 0) {
		fprintf(stderr, "%s: %s: sending READY: %s\n", SDK_NAME, CHANNEL_DEVICE, strerror(-r));
		channel_close(&ch);
		return 1;
	}
	r = sdk_serve(&ch);
	channel_close(&ch);
	return r < 0 ? 1 : 0;
}
