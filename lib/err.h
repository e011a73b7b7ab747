/* Errors as values: a status and one line of text, printed once by main. */
#ifndef MOTE_ERR_H
#define MOTE_ERR_H

#include <stdarg.h>

struct mote_err {
	int status;    /* enum mote_status (or other exit status) */
	char msg[512]; /* one line, no trailing newline */
};

/*
 * Record an error in *err (which may be NULL) with exit status `status` and a
 * printf-style message. Returns -1 so callers can `return mote_errf(...)`.
 */
int mote_errf(struct mote_err *err, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Like mote_errf, appending ": strerror(errnum)". */
int mote_errnof(struct mote_err *err, int status, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Print "prog: msg" on stderr and exit with err->status. */
void mote_err_exit(const char *prog, const struct mote_err *err) __attribute__((noreturn));

/*
 * End this process by signal `sig` with its default action and no core dump
 * (stdio flushed first), as a program killed by it would end: callers that
 * pass on a death by signal use it. Falls back to _exit(128 + sig) if the
 * signal does not end the process.
 */
void mote_die_by_signal(int sig) __attribute__((noreturn));

#endif /* MOTE_ERR_H */
