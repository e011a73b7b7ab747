/* Unit test of lib/size.c: byte sizes and durations from the command line, valid and malformed. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "size.h"

#include "check.h"

struct good {
	const char *text;
	uint64_t want;
};

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)
#define TIB (1024ull * GIB)

static const struct good good_sizes[] = {
    {"0", 0},
    {"1", 1},
    {"4096", 4096},
    {"007", 7},
    {"1B", 1},
    {"1b", 1},
    {"1K", KIB},
    {"1k", KIB},
    {"1KB", KIB},
    {"1Kb", KIB},
    {"1KiB", KIB},
    {"1kib", KIB},
    {"1Ki", KIB},
    {"512KiB", 512 * KIB},
    {"64M", 64 * MIB},
    {"64m", 64 * MIB},
    {"64MiB", 64 * MIB},
    {"1G", GIB},
    {"32G", 32 * GIB},
    {"1GB", GIB},
    {"1T", TIB},
    {"0K", 0},
    {"16777215T", 16777215ull * TIB},	    /* the largest whole number of TiB */
    {"17179869183G", 17179869183ull * GIB}, /* the largest whole number of GiB */
    {"18446744073709551615", UINT64_MAX},   /* 2^64 - 1 bytes */
    {"18014398509481983K", 18014398509481983ull * KIB},
};

static const char *const bad_sizes[] = {
    "",
    "K",
    "abc",
    "-1",
    "+1",
    " 1",
    "1 ",
    "1.5M",
    "1MM",
    "1MBB",
    "1iB",
    "1BK",
    "1X",
    "1KX",
    "1P",
    "0x10",
    "1e3",
    "1,024",
    "16777216T",		  /* 2^64: overflow after the shift */
    "17179869184G",		  /* 2^64 */
    "18446744073709551616",	  /* 2^64 */
    "99999999999999999999999999", /* overflow in the digits */
    "18014398509481984K",	  /* 2^64 */
    "1\n",
    "64M\t",
};

static const struct good good_durations[] = {
    {"0", 0},
    {"10", 10000000000ull},
    {"10s", 10000000000ull},
    {"1s", 1000000000ull},
    {"0.5", 500000000ull},
    {"0.5s", 500000000ull},
    {"1.5s", 1500000000ull},
    {"250ms", 250000000ull},
    {"1ms", 1000000ull},
    {"0ms", 0},
    {"1.25ms", 1250000ull},
    {"0.000000001", 1},
    {"0.0000000019", 1}, /* digits past nanoseconds are dropped */
    {"0.123456789", 123456789ull},
    {"3600", 3600000000000ull},
    {"18446744073", 18446744073000000000ull}, /* the largest whole number of seconds */
    {"18446744073.709551615", UINT64_MAX},    /* exactly 2^64 - 1 ns */
    {"18446744073709ms", 18446744073709000000ull},
};

static const char *const bad_durations[] = {
    "",
    "s",
    "ms",
    "-1",
    "+1",
    "abc",
    "1.",
    ".5",
    "1m",
    "1h",
    "1 s",
    " 1",
    "1s ",
    "1.5.2",
    "1sms",
    "1mss",
    "1e3",
    "0x10",
    "18446744074",	     /* > 2^64 ns */
    "18446744073709551616",  /* overflow in the digits */
    "18446744073710ms",	     /* > 2^64 ns */
    "18446744073.709551616", /* one ns past 2^64 - 1 */
    "18446744073.9",	     /* whole seconds fit, the fraction overflows */
    "18446744073.71s",	     /* likewise */
    "18446744073709.9ms",    /* likewise in milliseconds */
};

int main(void)
{
	char name[160];
	for (size_t i = 0; i < sizeof(good_sizes) / sizeof(good_sizes[0]); i++) {
		uint64_t got = 12345;
		int r = mote_parse_size(good_sizes[i].text, &got);
		snprintf(name, sizeof(name), "size-valid-'%s'", good_sizes[i].text);
		check(name, r == 0 && got == good_sizes[i].want,
		      "returned %d, value %llu, expected 0 and %llu", r, (unsigned long long)got,
		      (unsigned long long)good_sizes[i].want);
	}
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		uint64_t got = 12345;
		int r = mote_parse_size(bad_sizes[i], &got);
		snprintf(name, sizeof(name), "size-invalid-'%s'", bad_sizes[i]);
		for (char *p = name; *p; p++)
			if (*p == '\n' || *p == '\t')
				*p = '?';
		check(name, r == -1, "returned %d (value %llu), expected -1", r, (unsigned long long)got);
	}
	uint64_t dummy;
	check("size-null-text", mote_parse_size(NULL, &dummy) == -1, "NULL text accepted");

	for (size_t i = 0; i < sizeof(good_durations) / sizeof(good_durations[0]); i++) {
		uint64_t got = 12345;
		int r = mote_parse_duration(good_durations[i].text, &got);
		snprintf(name, sizeof(name), "duration-valid-'%s'", good_durations[i].text);
		check(name, r == 0 && got == good_durations[i].want,
		      "returned %d, value %llu ns, expected 0 and %llu", r, (unsigned long long)got,
		      (unsigned long long)good_durations[i].want);
	}
	for (size_t i = 0; i < sizeof(bad_durations) / sizeof(bad_durations[0]); i++) {
		uint64_t got = 12345;
		int r = mote_parse_duration(bad_durations[i], &got);
		snprintf(name, sizeof(name), "duration-invalid-'%s'", bad_durations[i]);
		check(name, r == -1, "returned %d (value %llu ns), expected -1", r, (unsigned long long)got);
	}
	check("duration-null-text", mote_parse_duration(NULL, &dummy) == -1, "NULL text accepted");

	/* Every size from 0 to 2^20 K round-trips through its decimal text. */
	int roundtrip = 1;
	for (uint64_t v = 0; v < (1u << 20) && roundtrip; v += 997) {
		char text[32];
		uint64_t got;
		snprintf(text, sizeof(text), "%lluK", (unsigned long long)v);
		roundtrip = mote_parse_size(text, &got) == 0 && got == v * 1024;
	}
	check("size-roundtrip-K", roundtrip, "a decimal K size did not parse back");

	return failures ? 1 : 0;
}
