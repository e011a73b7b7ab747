/* A stand-in for /dev/mote/invoke in unit tests: queued requests in, handed-over messages out. */
#ifndef TESTS_UNIT_FAKE_INVOKE_H
#define TESTS_UNIT_FAKE_INVOKE_H

/*
 * Behaves as docs/functions.md says the device does: write appends to the
 * pending message (all or nothing: EMSGSIZE beyond resp_cap); read returns
 * unread bytes of the current request (at most `chunk` per read when set),
 * and once it is consumed hands the pending message over (recorded in
 * `sent`) and moves to the next queued request. With no request left, read
 * fails with ESHUTDOWN, which ends the runtime's loop (the real device never
 * does). An empty queued request reads as 0 bytes.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "channel.h"

#define FAKE_MAX 64
/* A queued request of this length reads as EIO (the guest kernel dropped it). */
#define FAKE_EIO ((size_t)-1)

struct fake_invoke {
	uint8_t *req[FAKE_MAX];
	size_t req_len[FAKE_MAX];
	int nreq, cur; /* cur: index of the request being read, -1 before the first */
	size_t pos;    /* bytes of it read */
	size_t chunk;  /* max bytes per read, 0: no limit */
	size_t resp_cap;
	struct channel_buf pending;
	uint8_t *sent[FAKE_MAX];
	size_t sent_len[FAKE_MAX];
	int nsent;
	int reads; /* read calls made */
};

static void fake_init(struct fake_invoke *f, size_t resp_cap) __attribute__((unused));
static void fake_init(struct fake_invoke *f, size_t resp_cap)
{
	memset(f, 0, sizeof(*f));
	f->cur = -1;
	f->resp_cap = resp_cap;
}

/* Queue a copy of a request message (any bytes). */
static void fake_push(struct fake_invoke *f, const void *msg, size_t len) __attribute__((unused));
static void fake_push(struct fake_invoke *f, const void *msg, size_t len)
{
	f->req[f->nreq] = malloc(len && len != FAKE_EIO ? len : 1);
	if (len && len != FAKE_EIO)
		memcpy(f->req[f->nreq], msg, len);
	f->req_len[f->nreq++] = len;
}

static ssize_t fake_read(void *ctx, void *buf, size_t len)
{
	struct fake_invoke *f = ctx;
	f->reads++;
	if (f->cur < 0 || f->pos == f->req_len[f->cur]) {
		/* The wait: hand over the pending message, take the next request. */
		f->sent[f->nsent] = malloc(f->pending.len ? f->pending.len : 1);
		if (f->pending.len)
			memcpy(f->sent[f->nsent], f->pending.data, f->pending.len);
		f->sent_len[f->nsent++] = f->pending.len;
		f->pending.len = 0;
		if (f->cur + 1 >= f->nreq) {
			errno = ESHUTDOWN; /* the end of the test: the channel reports CHANNEL_CLOSED */
			return -1;
		}
		f->cur++;
		f->pos = 0;
	}
	if (f->req_len[f->cur] == FAKE_EIO) {
		f->pos = f->req_len[f->cur] = 0; /* a dropped request: EIO once, then consumed */
		errno = EIO;
		return -1;
	}
	size_t n = f->req_len[f->cur] - f->pos;
	if (n > len)
		n = len;
	if (f->chunk && n > f->chunk)
		n = f->chunk;
	memcpy(buf, f->req[f->cur] + f->pos, n);
	f->pos += n;
	return (ssize_t)n;
}

static ssize_t fake_write(void *ctx, const void *buf, size_t len)
{
	struct fake_invoke *f = ctx;
	if (f->pending.len + len > f->resp_cap) {
		errno = EMSGSIZE;
		return -1;
	}
	channel_buf_append(&f->pending, buf, len);
	return (ssize_t)len;
}

static long fake_unread(void *ctx)
{
	struct fake_invoke *f = ctx;
	return f->cur < 0 ? 0 : (long)(f->req_len[f->cur] - f->pos);
}

static const struct channel_io fake_io __attribute__((unused)) = {fake_read, fake_write, fake_unread};

static void fake_free(struct fake_invoke *f) __attribute__((unused));
static void fake_free(struct fake_invoke *f)
{
	for (int i = 0; i < f->nreq; i++)
		free(f->req[i]);
	for (int i = 0; i < f->nsent; i++)
		free(f->sent[i]);
	channel_buf_free(&f->pending);
}

/* Encode a simple request (headers as "name", "value" pairs, NULL-terminated) into a malloc'd buffer. */
static uint8_t *fake_request(const char *method, const char *path, const char *query,
			     const char *const *headers, const void *body, size_t body_len, size_t *len)
    __attribute__((unused));
static uint8_t *fake_request(const char *method, const char *path, const char *query,
			     const char *const *headers, const void *body, size_t body_len, size_t *len)
{
	struct mote_msg_header hs[32];
	uint32_t n = 0;
	for (; headers && headers[2 * n]; n++)
		hs[n] = (struct mote_msg_header){headers[2 * n], (uint32_t)strlen(headers[2 * n]),
						 headers[2 * n + 1], (uint32_t)strlen(headers[2 * n + 1])};
	struct mote_msg_request_fields f = {
	    .id = 1,
	    .method = method,
	    .method_len = (uint32_t)strlen(method),
	    .path = path,
	    .path_len = (uint32_t)strlen(path),
	    .query = query,
	    .query_len = (uint32_t)strlen(query),
	    .headers = hs,
	    .nheaders = n,
	    .body = body,
	    .body_len = body_len,
	};
	size_t cap = 1024 + body_len;
	for (uint32_t i = 0; i < n; i++)
		cap += 8 + hs[i].name_len + hs[i].value_len;
	uint8_t *buf = malloc(cap);
	int64_t r = mote_msg_encode_request(buf, cap, &f);
	*len = r > 0 ? (size_t)r : 0;
	return buf;
}

#endif /* TESTS_UNIT_FAKE_INVOKE_H */
