/* Console output: rings in guest memory that the monitor drains, so the program's output costs no exit. */
#ifndef GUEST_CONSOLE_H
#define GUEST_CONSOLE_H

#include <stddef.h>

#include <mote/abi.h>

/*
 * Register the stdout and stderr rings in the boot info (struct
 * mote_console_ring). From then on the monitor sends their bytes to the host
 * by itself: at every exit, every few milliseconds while the guest runs, and
 * before a crash report, a timeout or a snapshot.
 */
void console_init(struct mote_boot_info *bi);

/*
 * Write `len` bytes to stream MOTE_CONSOLE_STDOUT or _STDERR: appended to its
 * ring (no exit) unless the ring is full (one exit to empty it first) or the
 * write is at least as large as the ring (sent directly, one exit per
 * MOTE_CONSOLE_MAX). What the other stream holds is sent first, so their
 * order is kept. Returns len, or -errno: the error the host stream failed
 * with (e.g. -EPIPE), for this and every later write to the stream.
 */
long console_write(unsigned stream, const void *buf, size_t len);

/* Send everything the rings hold now (one exit per stream that holds bytes). */
void console_flush(void);

#endif /* GUEST_CONSOLE_H */
