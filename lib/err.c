/* Errors as values: a status and one line of text, printed once by main. */
#include "err.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

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

void mote_die_by_signal(int sig)
{
	fflush(stdout);
	fflush(stderr);
	struct rlimit none = {0, 0};
	setrlimit(RLIMIT_CORE, &none);
	signal(sig, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig);
}
