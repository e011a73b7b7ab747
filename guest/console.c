/* Batched console output to the monitor: one exit per line, full buffer or flush. */
#include "console.h"

#include "hypercall.h"
#include "klib.h"
#include "linux.h"

#define CONSOLE_BUF 8192

struct stream_buf {
	unsigned stream;
	size_t len;
	char data[CONSOLE_BUF];
};

static struct stream_buf bufs[2] = {{.stream = MOTE_CONSOLE_STDOUT}, {.stream = MOTE_CONSOLE_STDERR}};

static long send(unsigned stream, const void *data, size_t len)
{
	static struct mote_hc_console c;
	c.stream = stream;
	c.data = (uint64_t)(uintptr_t)data;
	c.len = len;
	c.ret = 0;
	hypercall(MOTE_HC_CONSOLE, &c);
	return c.ret;
}

static long flush_buf(struct stream_buf *b)
{
	long r = 0;
	if (b->len)
		r = send(b->stream, b->data, b->len);
	b->len = 0;
	return r < 0 ? r : 0;
}

void console_flush(void)
{
	flush_buf(&bufs[0]);
	flush_buf(&bufs[1]);
}

long console_write(unsigned stream, const void *buf, size_t len)
{
	if (stream != MOTE_CONSOLE_STDOUT && stream != MOTE_CONSOLE_STDERR)
		return -EINVAL;
	struct stream_buf *b = &bufs[stream - 1], *other = &bufs[2 - stream];
	const char *p = buf;
	if (len == 0)
		return 0;
	if (other->len) {
		long r = flush_buf(other);
		if (r < 0)
			return r;
	}
	/* Large writes go out directly (one exit, no copy), after what is buffered. */
	if (len >= CONSOLE_BUF) {
		long r = flush_buf(b);
		if (r < 0)
			return r;
		while (len) {
			size_t n = MIN(len, (size_t)MOTE_CONSOLE_MAX);
			r = send(stream, p, n);
			if (r < 0)
				return r;
			p += n;
			len -= n;
		}
		return (long)(p - (const char *)buf);
	}
	size_t last_nl = len;
	for (size_t i = len; i-- > 0;)
		if (p[i] == '\n') {
			last_nl = i;
			break;
		}
	if (b->len + len > CONSOLE_BUF) {
		long r = flush_buf(b);
		if (r < 0)
			return r;
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	if (last_nl != len) {
		/* Send up to and including the last newline; keep the partial line. */
		size_t keep = len - last_nl - 1;
		size_t sendlen = b->len - keep;
		long r = send(b->stream, b->data, sendlen);
		memmove(b->data, b->data + sendlen, keep);
		b->len = keep;
		if (r < 0)
			return r;
	}
	return (long)len;
}
