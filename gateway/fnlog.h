/* A function's log: its VMs' output and the gateway's notes about it, in a file bounded by rotation. */
#ifndef MOTE_GATEWAY_FNLOG_H
#define MOTE_GATEWAY_FNLOG_H

#include <stddef.h>
#include <stdint.h>

struct fnlog;

/* The size at which NAME.log is renamed to NAME.log.1 (replacing it) and a new NAME.log begun. */
#define FNLOG_ROTATE_BYTES (1u << 20)

/*
 * Open (append) the log of function `name` in directory `dir` (logs/ of the
 * state dir): `dir`/`name`.log. Returns NULL when it cannot be opened (a
 * line on stderr says why; output is then dropped, never an error to a
 * request).
 */
struct fnlog *fnlog_open(const char *dir, const char *name);

/* Append raw bytes (a VM's stdout/stderr); rotates when the file reaches FNLOG_ROTATE_BYTES. */
void fnlog_write(struct fnlog *log, const void *data, size_t len);

/* Append one line "YYYY-mm-ddTHH:MM:SSZ mote: TEXT\n" (printf-style), as the gateway's own note. */
void fnlog_notef(struct fnlog *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The last `tail` bytes of the log (NAME.log.1 then NAME.log), malloc'd into
 * *out with *len; at most 2 * FNLOG_ROTATE_BYTES. Returns 0, or -1 when out
 * of memory.
 */
int fnlog_read_tail(struct fnlog *log, uint64_t tail, char **out, size_t *len);

/* Remove the log files (the function is gone); later writes go to the unlinked file. */
void fnlog_unlink(struct fnlog *log);

/* Close and free (NULL is ignored). */
void fnlog_close(struct fnlog *log);

#endif /* MOTE_GATEWAY_FNLOG_H */
