/* Pipes: an in-memory byte queue between a read end and a write end of the one guest process. */
#include "pipe.h"

#include "clock.h"
#include "klib.h"
#include "linux.h"
#include "mm.h"
#include "sched.h"
#include "sig.h"

static uint64_t next_pipe_ino = 1u << 20;

struct pipe *pipe_new(void)
{
	struct pipe *p = kmalloc(sizeof(*p));
	if (!p)
		return NULL;
	p->readers = 1;
	p->writers = 1;
	p->ino = next_pipe_ino++;
	p->ctime_ns = clock_realtime_ns();
	return p;
}

long pipe_read(struct pipe *p, void *dst, uint64_t len, int nonblock)
{
	if (len == 0)
		return 0;
	while (p->len == 0) {
		if (!p->writers)
			return 0;
		if (nonblock)
			return -EAGAIN;
		/* Other threads may fill it; when none ever could, end of file instead of a hang. */
		int w = sched_wait(SCHED_WAIT_IO, SCHED_CHAN_IO, ~0u, 0);
		if (w == -EINTR)
			return -ERESTARTSYS; /* a signal: restarted after a SA_RESTART handler, else EINTR */
		if (w == -EDEADLK) {
			kdebug("read from an empty pipe whose write end is open, and no thread can write: "
			       "returning EOF instead of hanging");
			return 0;
		}
	}
	uint64_t n = MIN(len, p->len);
	memcpy(dst, p->buf + p->start, n);
	p->start += n;
	p->len -= n;
	if (p->len == 0)
		p->start = 0;
	p->seq_out++;
	sched_wake(SCHED_CHAN_IO, ~0u, SCHED_MAX_THREADS); /* poll for POLLOUT */
	return (long)n;
}

/* Make room for `need` more bytes after the queued ones. */
static int make_room(struct pipe *p, uint64_t need)
{
	if (p->start + p->len + need <= p->cap)
		return 0;
	if (p->len + need <= p->cap) {
		memmove(p->buf, p->buf + p->start, p->len);
		p->start = 0;
		return 0;
	}
	uint64_t cap = p->cap ? p->cap : 4096;
	while (cap < p->len + need)
		cap *= 2;
	uint8_t *buf = kmalloc(cap);
	if (!buf)
		return -ENOMEM;
	if (p->len)
		memcpy(buf, p->buf + p->start, p->len);
	kfree(p->buf);
	p->buf = buf;
	p->cap = cap;
	p->start = 0;
	return 0;
}

long pipe_write(struct pipe *p, const void *src, uint64_t len, int nonblock)
{
	if (p->readers == 0)
		return -EPIPE;
	if (len == 0)
		return 0;
	uint64_t limit = nonblock ? PIPE_CAPACITY : PIPE_BLOCKING_MAX;
	uint64_t room = p->len < limit ? limit - p->len : 0;
	if (room == 0 || (len <= PIPE_ATOMIC && room < len))
		return -EAGAIN;
	uint64_t n = MIN(len, room);
	if (make_room(p, n) < 0)
		return -EAGAIN;
	memcpy(p->buf + p->start + p->len, src, n);
	p->len += n;
	p->seq_in++;
	sched_wake(SCHED_CHAN_IO, ~0u, SCHED_MAX_THREADS);
	return (long)n;
}

int pipe_poll(const struct pipe *p, int write_end)
{
	int ev = 0;
	if (write_end) {
		if (p->len < PIPE_CAPACITY)
			ev |= POLLOUT;
		if (p->readers == 0)
			ev |= POLLERR; /* with POLLOUT, as Linux's pipe_poll */
	} else {
		if (p->len)
			ev |= POLLIN;
		if (p->writers == 0)
			ev |= POLLHUP;
	}
	return ev;
}

void pipe_close(struct pipe *p, int write_end)
{
	sched_wake(SCHED_CHAN_IO, ~0u, SCHED_MAX_THREADS);
	if (write_end) {
		p->writers--;
		p->seq_in++;
	} else {
		p->readers--;
		p->seq_out++;
	}
	if (p->readers == 0 && p->writers == 0) {
		kfree(p->buf);
		kfree(p);
	}
}
