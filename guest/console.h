/* Batched console output to the monitor: one exit per line, full buffer or flush. */
#ifndef GUEST_CONSOLE_H
#define GUEST_CONSOLE_H

#include <stddef.h>

/*
 * Append `len` bytes to stream MOTE_CONSOLE_STDOUT or _STDERR. The buffer is
 * sent when full or when the data contains a newline (up to the last one);
 * output of the other stream is flushed first so order is kept.
 * Returns len or -errno.
 */
long console_write(unsigned stream, const void *buf, size_t len);

/* Send everything buffered (before sleeping, exiting or a crash report). */
void console_flush(void);

#endif /* GUEST_CONSOLE_H */
