/* Errors as values: a status and one line of text, printed once by main. */
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void err_vset(struct mote_err *err, int status, int errnum, const char *fmt, va_list ap)
{
	if (!err)
		return;
	err->status = status;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (n < 0)
		n = 0;
	if (errnum && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(errnum));
	for (char *p = err->msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

int mote_errf(struct mote_err *err, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(err, status, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int mote_errnof(struct mote_err *err, int status, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(err, status, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

void mote_err_exit(const char *prog, const struct mote_err *err)
{
	fprintf(stderr, "%s: %s\n", prog, err->msg);
	exit(err->status);
}
