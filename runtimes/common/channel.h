/* The runtime's end of the invoke channel (/dev/mote/invoke): receive requests, send messages, serve. */
#ifndef RUNTIMES_CHANNEL_H
#define RUNTIMES_CHANNEL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "invoke_msg.h"

#define CHANNEL_DEVICE "/dev/mote/invoke"
/* Largest request a runtime accepts (the size of the invoke window). */
#define CHANNEL_REQUEST_MAX (1ull << 30)
/* Longest READY / INIT_ERROR text sent; longer ones are cut. */
#define CHANNEL_TEXT_MAX 1024u

/* A growable byte buffer. */
struct channel_buf {
	uint8_t *data;
	size_t len, cap;
};

/* Make room for `n` bytes in total (data kept). Returns 0, or -1 when out of memory or n is absurd. */
int channel_buf_reserve(struct channel_buf *b, size_t n);
/* Append n bytes. Returns 0 or -1 (out of memory). */
int channel_buf_append(struct channel_buf *b, const void *data, size_t n);
void channel_buf_free(struct channel_buf *b);

/*
 * How the channel reaches the device: read(2), write(2) and ioctl(FIONREAD)
 * on fd by default; unit tests substitute their own, whose read fails with
 * ESHUTDOWN when they have no more requests.
 */
struct channel_io {
	ssize_t (*read)(void *ctx, void *buf, size_t len);
	ssize_t (*write)(void *ctx, const void *buf, size_t len);
	long (*unread)(void *ctx); /* bytes of the current request not read yet, or -1 */
};

struct channel {
	int fd;
	const struct channel_io *io; /* NULL: the device on fd */
	void *io_ctx;
	const char *who;	/* program name, prefix of its log lines ("mote-lua") */
	struct channel_buf req; /* the current request, followed by one NUL byte */
	struct channel_buf out; /* the message being sent */
	uint64_t requests;	/* requests received so far */
};

/*
 * Open the device for program `who`. Returns 0, or -errno after one line on
 * stderr (ENODEV: no function attached, ENOENT: a guest kernel without the
 * device); the runtime contract then says exit 2.
 */
int channel_open(struct channel *ch, const char *who);

/* A channel on the caller's I/O (unit tests). */
void channel_init_io(struct channel *ch, const char *who, const struct channel_io *io, void *ctx);

/* Release the buffers (and close the device). */
void channel_close(struct channel *ch);

/* Send one encoded message in one write. Returns 0 or -errno (-EMSGSIZE: larger than the response area). */
int channel_send(struct channel *ch, const void *msg, size_t len);

/*
 * Send READY or INIT_ERROR (`type`) with `text`, made one line (CR, LF and
 * NUL become spaces) and cut at CHANNEL_TEXT_MAX bytes. Returns 0 or -errno.
 */
int channel_send_text(struct channel *ch, int type, const char *text);

/* Send a text/plain response with `status` and body `text` plus a newline. Returns 0 or -errno. */
int channel_send_plain(struct channel *ch, uint32_t status, const char *text);

/* Results of channel_recv besides 0 and -errno. */
#define CHANNEL_CLOSED 1 /* test I/O only: its read failed with ESHUTDOWN (no more requests) */
#define CHANNEL_BAD 2	 /* the request was unusable (already logged and drained): answer 500 */

/*
 * Wait for the next request (handing over the message sent since the last
 * wait) and decode it into *req, whose views point into ch->req (valid until
 * the next call). Returns 0, CHANNEL_BAD, CHANNEL_CLOSED or -errno (the
 * device failed).
 */
int channel_recv(struct channel *ch, struct mote_msg_request *req);

/*
 * A runtime's request handler: encode the response to `req` into `out`
 * (reserve, then mote_msg_response_begin/.../end; set out->len). Return 0, or
 * -1 after logging why, and the channel answers 500.
 */
typedef int (*channel_handler)(void *ctx, const struct mote_msg_request *req, struct channel_buf *out);

/*
 * The request loop: receive, handle, send, forever. Unusable requests and
 * handler failures get a 500; a response that does not fit the response
 * area is replaced by a 500 and a log line. Returns only when the channel is
 * closed (0) or fails (-errno, logged).
 */
int channel_serve(struct channel *ch, channel_handler handler, void *ctx);

/*
 * After a failed start: send INIT_ERROR with `why` (also logged), then answer
 * every request with a 500, for as long as the VM lives. Returns only when
 * the channel is closed or fails (-errno).
 */
int channel_fail_init(struct channel *ch, const char *why);

#endif /* RUNTIMES_CHANNEL_H */
