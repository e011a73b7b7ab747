/* Pipes: an in-memory byte queue between a read end and a write end of the one guest process. */
#ifndef GUEST_PIPE_H
#define GUEST_PIPE_H

#include <stdint.h>

#define PIPE_CAPACITY 65536u	      /* what F_GETPIPE_SZ reports; O_NONBLOCK writers stop here */
#define PIPE_BLOCKING_MAX (64u << 20) /* blocking writers may queue up to this much */
#define PIPE_ATOMIC 4096u	      /* PIPE_BUF */

struct pipe {
	uint8_t *buf;
	uint64_t start, len, cap;  /* queued bytes are buf[start, start + len) */
	uint32_t readers, writers; /* open files on each end */
	uint64_t ino;
	uint64_t seq_in,
	    seq_out; /* for EPOLLET: move at writes and writer closes / reads and reader closes */
	int64_t ctime_ns;
};

/* A new pipe with one reader and one writer, or NULL when out of memory. */
struct pipe *pipe_new(void);

/*
 * Move up to `len` queued bytes into `dst`. An empty pipe returns 0 (EOF)
 * when no writer is left, -EAGAIN with `nonblock`, and otherwise waits
 * (other threads run) until bytes come or the writers go; when no thread
 * could ever write (all others wait forever too), it returns 0 instead of
 * hanging as Linux would.
 */
long pipe_read(struct pipe *p, void *dst, uint64_t len, int nonblock);

/*
 * Queue `len` bytes from `src`. -EPIPE without readers. With `nonblock`
 * the pipe holds PIPE_CAPACITY bytes (writes of up to PIPE_ATOMIC bytes
 * are all-or-nothing, larger ones partial, -EAGAIN when full); blocking
 * writers, which Linux would suspend until a reader drains the pipe, may
 * instead queue up to PIPE_BLOCKING_MAX bytes and then get -EAGAIN.
 */
long pipe_write(struct pipe *p, const void *src, uint64_t len, int nonblock);

/* Poll readiness (POLLIN/POLLOUT/POLLHUP/POLLERR) of the read end or the write end. */
int pipe_poll(const struct pipe *p, int write_end);

/* Close one file of an end; frees the pipe when both ends are closed. */
void pipe_close(struct pipe *p, int write_end);

#endif /* GUEST_PIPE_H */
