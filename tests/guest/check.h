/* Shared check() for the guest test programs: "ok: ..." on stdout, "NAME: FAILED: ..." on stderr. */
#ifndef TESTS_GUEST_CHECK_H
#define TESTS_GUEST_CHECK_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The including program defines CHECK_PROGRAM ("files", "time", ...) before including this. */
static int failures;

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (ok) {
		printf("ok: ");
		vprintf(fmt, ap);
		printf("\n");
	} else {
		failures++;
		fprintf(stderr, CHECK_PROGRAM ": FAILED: ");
		vfprintf(stderr, fmt, ap);
		fprintf(stderr, " (errno %d %s)\n", errno, strerror(errno));
	}
	va_end(ap);
}

#endif /* TESTS_GUEST_CHECK_H */
