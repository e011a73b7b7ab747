/* The runtime's end of the invoke channel: stream reads of requests, one-write messages, the serve loop. */
#include "channel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* ---- buffers ---- */

int channel_buf_reserve(struct channel_buf *b, size_t n)
{
	if (n <= b->cap)
		return 0;
	if (n > CHANNEL_REQUEST_MAX * 2)
		return -1;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < n)
		cap *= 2;
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int channel_buf_append(struct channel_buf *b, const void *data, size_t n)
{
	if (n > SIZE_MAX - b->len || channel_buf_reserve(b, b->len + n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	return 0;
}

void channel_buf_free(struct channel_buf *b)
{
	free(b->data);
	*b = (struct channel_buf){0};
}

/* ---- device I/O ---- */

static ssize_t io_read(struct channel *ch, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = ch->io ? ch->io->read(ch->io_ctx, buf, len) : read(ch->fd, buf, len);
		if (n >= 0 || errno != EINTR)
			return n;
	}
}

static ssize_t io_write(struct channel *ch, const void *buf, size_t len)
{
	for (;;) {
		ssize_t n = ch->io ? ch->io->write(ch->io_ctx, buf, len) : write(ch->fd, buf, len);
		if (n >= 0 || errno != EINTR)
			return n;
	}
}

/* Unread bytes of the current request; 0 when unknown (reading on would wait for the next request). */
static size_t io_unread(struct channel *ch)
{
	if (ch->io) {
		long n = ch->io->unread ? ch->io->unread(ch->io_ctx) : 0;
		return n > 0 ? (size_t)n : 0;
	}
	int n = 0;
	if (ioctl(ch->fd, FIONREAD, &n) < 0 || n < 0)
		return 0;
	return (size_t)n;
}

int channel_open(struct channel *ch, const char *who)
{
	*ch = (struct channel){.fd = -1, .who = who};
	int fd = open(CHANNEL_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENODEV)
			fprintf(stderr,
				"%s: %s: no function attached (this runtime runs in a VM restored by mote "
				"serve)\n",
				who, CHANNEL_DEVICE);
		else if (e == ENOENT)
			fprintf(stderr, "%s: %s: missing (a guest kernel without the invoke channel)\n", who,
				CHANNEL_DEVICE);
		else
			fprintf(stderr, "%s: %s: %s\n", who, CHANNEL_DEVICE, strerror(e));
		return -e;
	}
	ch->fd = fd;
	return 0;
}

void channel_init_io(struct channel *ch, const char *who, const struct channel_io *io, void *ctx)
{
	*ch = (struct channel){.fd = -1, .who = who, .io = io, .io_ctx = ctx};
}

void channel_close(struct channel *ch)
{
	if (ch->fd >= 0)
		close(ch->fd);
	ch->fd = -1;
	channel_buf_free(&ch->req);
	channel_buf_free(&ch->out);
}

/* ---- sending ---- */

int channel_send(struct channel *ch, const void *msg, size_t len)
{
	/* One write: the device appends it whole or refuses it whole (EMSGSIZE), so a refusal leaves nothing.
	 */
	ssize_t n = io_write(ch, msg, len);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

int channel_send_text(struct channel *ch, int type, const char *text)
{
	size_t len = strlen(text);
	if (len > CHANNEL_TEXT_MAX)
		len = CHANNEL_TEXT_MAX;
	if (channel_buf_reserve(&ch->out, MOTE_MSG_TEXT_FIXED + len) < 0)
		return -ENOMEM;
	/* Build the one-line text in place after the fixed part, then encode over it (memcpy to itself). */
	char *line = (char *)ch->out.data + MOTE_MSG_TEXT_FIXED;
	for (size_t i = 0; i < len; i++)
		line[i] = text[i] == '\r' || text[i] == '\n' ? ' ' : text[i];
	int64_t n = mote_msg_encode_text(ch->out.data, ch->out.cap, type, line, (uint32_t)len);
	if (n < 0)
		return -EINVAL;
	return channel_send(ch, ch->out.data, (size_t)n);
}

/* Encode a text/plain response with `text` and a newline into ch->out. */
static int64_t encode_plain(struct channel *ch, uint32_t status, const char *text)
{
	static const char type[] = "text/plain; charset=utf-8";
	size_t len = strlen(text);
	size_t size = MOTE_MSG_RESPONSE_FIXED + 8 + 12 + sizeof(type) - 1 + len + 1;
	if (channel_buf_reserve(&ch->out, size) < 0)
		return MOTE_MSG_NO_ROOM;
	struct mote_msg_builder b;
	mote_msg_response_begin(&b, ch->out.data, ch->out.cap, status);
	mote_msg_response_header(&b, "content-type", 12, type, sizeof(type) - 1);
	mote_msg_response_body(&b, text, len);
	mote_msg_response_body(&b, "\n", 1);
	return mote_msg_response_end(&b);
}

int channel_send_plain(struct channel *ch, uint32_t status, const char *text)
{
	int64_t n = encode_plain(ch, status, text);
	if (n < 0)
		return n == MOTE_MSG_NO_ROOM ? -ENOMEM : -EINVAL;
	return channel_send(ch, ch->out.data, (size_t)n);
}

/* ---- receiving ---- */

/* Read and discard what is left of the current request, so that the next read waits for a new one. */
static int drain(struct channel *ch)
{
	uint8_t scratch[4096];
	for (int i = 0; i < (1 << 20); i++) {
		size_t left = io_unread(ch);
		if (left == 0)
			return 0;
		ssize_t n = io_read(ch, scratch, left < sizeof(scratch) ? left : sizeof(scratch));
		if (n <= 0)
			return n < 0 ? -errno : 0;
	}
	return 0;
}

/* Log why request number ch->requests is unusable, drain the rest of it; CHANNEL_BAD or -errno. */
static int bad_request(struct channel *ch, const char *why, uint64_t size)
{
	fprintf(stderr, "%s: request %llu unusable (%s, %llu bytes): answered 500\n", ch->who,
		(unsigned long long)ch->requests, why, (unsigned long long)size);
	int r = drain(ch);
	return r < 0 ? r : CHANNEL_BAD;
}

int channel_recv(struct channel *ch, struct mote_msg_request *req)
{
	if (channel_buf_reserve(&ch->req, 64 * 1024) < 0)
		return -ENOMEM;
	/* This read is the wait: it hands over the message written since the last one, then blocks. */
	ssize_t n = io_read(ch, ch->req.data, ch->req.cap - 1);
	if (n < 0 && ch->io && errno == ESHUTDOWN)
		return CHANNEL_CLOSED;
	if (n < 0 && errno == EIO) {
		/* A request the guest kernel dropped (longer than the request area): answer it with a 500. If
		 * the channel itself is broken, sending that answer fails too and the loop ends. */
		ch->requests++;
		return bad_request(ch, "unreadable: EIO", 0);
	}
	if (n < 0)
		return -errno;
	ch->requests++;
	if (n == 0)
		return bad_request(ch, "empty", 0);
	size_t have = (size_t)n;
	/*
	 * The device returns min(asked, unread) bytes, so a short first read holds the whole request. Only
	 * a read that filled the buffer, or a message longer than what came, needs more reads, each asking
	 * for exactly what is missing (reading past the request would wait for the next one).
	 */
	int filled = have == ch->req.cap - 1;
	while (have < MOTE_MSG_PREFIX_SIZE) {
		size_t left = io_unread(ch);
		if (left == 0)
			return bad_request(ch, "shorter than a message prefix", have);
		ssize_t m = io_read(ch, ch->req.data + have, MOTE_MSG_PREFIX_SIZE - have);
		if (m < 0)
			return -errno;
		if (m == 0)
			return bad_request(ch, "shorter than a message prefix", have);
		have += (size_t)m;
	}
	uint64_t total;
	int type = mote_msg_prefix(ch->req.data, have, &total);
	if (type < 0)
		return bad_request(ch, "bad message prefix", have);
	if (type != MOTE_MSG_REQUEST)
		return bad_request(ch, "not a request", have);
	if (total > CHANNEL_REQUEST_MAX)
		return bad_request(ch, "too large", total);
	if (have > total)
		return bad_request(ch, "longer than its prefix says", have);
	if (channel_buf_reserve(&ch->req, total + 1) < 0)
		return bad_request(ch, "out of memory", total);
	while (have < total) {
		filled = 1;
		if (io_unread(ch) == 0)
			return bad_request(ch, "shorter than its prefix says", have);
		ssize_t m = io_read(ch, ch->req.data + have, total - have);
		if (m < 0)
			return -errno;
		if (m == 0)
			return bad_request(ch, "shorter than its prefix says", have);
		have += (size_t)m;
	}
	if (filled && io_unread(ch) > 0)
		return bad_request(ch, "longer than its prefix says", have + io_unread(ch));
	ch->req.len = have;
	ch->req.data[have] = 0; /* the body is the last part: a NUL after it helps text handlers */
	int r = mote_msg_decode_request(ch->req.data, have, req);
	if (r != MOTE_MSG_OK) {
		fprintf(stderr, "%s: request %llu unusable (%s, %zu bytes): answered 500\n", ch->who,
			(unsigned long long)ch->requests, mote_msg_strerror(r), have);
		return CHANNEL_BAD;
	}
	return 0;
}

/* ---- serving ---- */

/* Flush the program's stdio so that a request's log lines come before its response. */
static void flush_logs(void)
{
	fflush(stdout);
	fflush(stderr);
}

/* Send the handler's response; one that does not fit the response area becomes a 500. */
static int send_response(struct channel *ch, int handled)
{
	if (handled == 0) {
		int r = channel_send(ch, ch->out.data, ch->out.len);
		if (r != -EMSGSIZE)
			return r;
		fprintf(stderr, "%s: response of %zu bytes does not fit the response area: answered 500\n",
			ch->who, ch->out.len);
	}
	return channel_send_plain(ch, 500, "function error");
}

int channel_serve(struct channel *ch, channel_handler handler, void *ctx)
{
	for (;;) {
		flush_logs();
		struct mote_msg_request req;
		int r = channel_recv(ch, &req);
		if (r == CHANNEL_CLOSED)
			return 0;
		if (r < 0) {
			fprintf(stderr, "%s: %s: %s\n", ch->who, CHANNEL_DEVICE, strerror(-r));
			return r;
		}
		int handled = -1;
		if (r == 0) {
			ch->out.len = 0;
			handled = handler(ctx, &req, &ch->out);
		}
		r = send_response(ch, handled);
		if (r < 0) {
			fprintf(stderr, "%s: %s: sending a response: %s\n", ch->who, CHANNEL_DEVICE,
				strerror(-r));
			return r;
		}
	}
}

int channel_fail_init(struct channel *ch, const char *why)
{
	fprintf(stderr, "%s: %s\n", ch->who, why);
	int r = channel_send_text(ch, MOTE_MSG_INIT_ERROR, why);
	if (r < 0) {
		fprintf(stderr, "%s: %s: sending INIT_ERROR: %s\n", ch->who, CHANNEL_DEVICE, strerror(-r));
		return r;
	}
	for (;;) {
		flush_logs();
		struct mote_msg_request req;
		r = channel_recv(ch, &req);
		if (r == CHANNEL_CLOSED)
			return 0;
		if (r < 0)
			return r;
		r = channel_send_plain(ch, 500, "function failed to initialise");
		if (r < 0)
			return r;
	}
}
