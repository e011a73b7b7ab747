/* Guest test: clocks. usage: time [HOST_EPOCH_SECONDS]
 * CLOCK_MONOTONIC advances by >= 50 ms and < 2 s across a 50 ms nanosleep; CLOCK_REALTIME is within a few
 * seconds of HOST_EPOCH_SECONDS (host `date +%s` taken just before the run); gettimeofday and time agree. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define CHECK_PROGRAM "time"
#include "check.h"

static int64_t ns_of(clockid_t clock)
{
	struct timespec ts;
	if (clock_gettime(clock, &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct timespec res;
	check(clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0 &&
		  res.tv_nsec <= 1000000,
	      "clock_getres(MONOTONIC) is at most 1 ms");

	/* monotonic never goes backwards */
	int64_t prev = ns_of(CLOCK_MONOTONIC), first = prev;
	int backwards = 0;
	for (int i = 0; i < 100000; i++) {
		int64_t t = ns_of(CLOCK_MONOTONIC);
		backwards += t < prev;
		prev = t;
	}
	check(first > 0 && backwards == 0, "CLOCK_MONOTONIC never goes backwards over 100000 reads");
	check(prev > first, "CLOCK_MONOTONIC advances while busy (%lld ns)", (long long)(prev - first));

	/* nanosleep 50 ms */
	int64_t a = ns_of(CLOCK_MONOTONIC);
	struct timespec req = {0, 50 * 1000000};
	check(nanosleep(&req, NULL) == 0, "nanosleep 50 ms");
	int64_t b = ns_of(CLOCK_MONOTONIC);
	check(b - a >= 50000000 && b - a < 2000000000,
	      "MONOTONIC advanced by %.3f ms across a 50 ms nanosleep", (double)(b - a) / 1e6);

	a = ns_of(CLOCK_MONOTONIC);
	check(usleep(20000) == 0, "usleep 20 ms");
	struct timespec abs;
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 30000000;
	if (abs.tv_nsec >= 1000000000) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000;
	}
	int r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL);
	b = ns_of(CLOCK_MONOTONIC);
	check(r == 0 && b - a >= 50000000 && b - a < 2000000000,
	      "usleep 20 ms + clock_nanosleep to now+30 ms took %.3f ms", (double)(b - a) / 1e6);

	/* realtime vs the host's clock */
	int64_t rt = ns_of(CLOCK_REALTIME);
	check(rt > (int64_t)1500000000 * 1000000000, "CLOCK_REALTIME is after 2017 (%lld s)",
	      (long long)(rt / 1000000000));
	if (argc > 1) {
		long long host = atoll(argv[1]);
		long long diff = rt / 1000000000 - host;
		check(diff >= -2 && diff <= 10,
		      "CLOCK_REALTIME is %lld s from the host's clock given in argv", diff);
	}

	struct timeval tv;
	check(gettimeofday(&tv, NULL) == 0, "gettimeofday");
	int64_t rt2 = ns_of(CLOCK_REALTIME);
	int64_t tv_ns = (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
	check(tv.tv_usec >= 0 && tv.tv_usec < 1000000, "gettimeofday tv_usec in range");
	check(tv_ns >= rt - 1000 && tv_ns <= rt2 + 1000,
	      "gettimeofday lies between two CLOCK_REALTIME reads");
	time_t t = time(NULL);
	check(t >= rt / 1000000000 && t <= rt2 / 1000000000 + 1, "time() agrees with CLOCK_REALTIME");

	int64_t mono = ns_of(CLOCK_MONOTONIC);
	check(mono > 0 && mono < (int64_t)3600 * 1000000000 * 24 * 365,
	      "CLOCK_MONOTONIC is a plausible uptime");
	check(ns_of(CLOCK_BOOTTIME) >= 0 && ns_of(CLOCK_MONOTONIC_COARSE) >= 0 &&
		  ns_of(CLOCK_REALTIME_COARSE) > 0,
	      "BOOTTIME and COARSE clocks work");
	int64_t cpu = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	check(cpu >= 0, "CLOCK_PROCESS_CPUTIME_ID works");

	if (failures) {
		fprintf(stderr, "time: %d checks FAILED\n", failures);
		return 1;
	}
	printf("time: all checks passed\n");
	return 0;
}
