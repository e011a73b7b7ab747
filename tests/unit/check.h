/* The unit tests' one assertion: prints "PASS name" or "FAIL name: why" and counts failures. */
#ifndef TESTS_UNIT_CHECK_H
#define TESTS_UNIT_CHECK_H

#include <stdarg.h>
#include <stdio.h>

/* Failed checks so far; a test's main returns failures ? 1 : 0. */
static int failures;

/*
 * Report check `name`: PASS when `ok`, else FAIL with the printf-style
 * reason (one line). Every unit test is one translation unit that includes
 * this header once.
 */
static void check(const char *name, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), unused));
static void check(const char *name, int ok, const char *fmt, ...)
{
	if (ok) {
		printf("PASS %s\n", name);
		return;
	}
	failures++;
	printf("FAIL %s: ", name);
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

#endif /* TESTS_UNIT_CHECK_H */
