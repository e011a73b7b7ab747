/* The guest's vDSO: clock_gettime, gettimeofday and time from rdtsc, without a syscall trap. */
#include <stdint.h>

#include "vvar.h"

/* The page below the image (see vdso.ld); hidden so it is reached PC-relative. */
extern struct vvar vdso_vvar __attribute__((visibility("hidden")));

struct vdso_timespec {
	int64_t tv_sec, tv_nsec;
};

struct vdso_timeval {
	int64_t tv_sec, tv_usec;
};

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7

static long raw_syscall2(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

int __vdso_clock_gettime(int clk, struct vdso_timespec *ts);
int __vdso_clock_gettime(int clk, struct vdso_timespec *ts)
{
	struct vvar *v = &vdso_vvar;
	int64_t ns;
	switch (clk) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE: ns = vvar_realtime_ns(v); break;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME: ns = (int64_t)vvar_monotonic_ns(v); break;
	default: return (int)raw_syscall2(228, clk, (long)ts);
	}
	ts->tv_sec = ns / 1000000000;
	ts->tv_nsec = ns % 1000000000;
	return 0;
}

int __vdso_gettimeofday(struct vdso_timeval *tv, void *tz);
int __vdso_gettimeofday(struct vdso_timeval *tv, void *tz)
{
	if (tz)
		return (int)raw_syscall2(96, (long)tv, (long)tz);
	if (tv) {
		struct vvar *v = &vdso_vvar;
		int64_t ns = vvar_realtime_ns(v);
		tv->tv_sec = ns / 1000000000;
		tv->tv_usec = ns % 1000000000 / 1000;
	}
	return 0;
}

long __vdso_time(long *t);
long __vdso_time(long *t)
{
	struct vvar *v = &vdso_vvar;
	long s = (long)(vvar_realtime_ns(v) / 1000000000);
	if (t)
		*t = s;
	return s;
}

int __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache);
int __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache)
{
	if (cpu)
		*cpu = 0;
	if (node)
		*node = 0;
	return 0;
}

int clock_gettime(int clk, struct vdso_timespec *ts) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct vdso_timeval *tv, void *tz) __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long *t) __attribute__((weak, alias("__vdso_time")));
int getcpu(unsigned *cpu, unsigned *node, void *cache) __attribute__((weak, alias("__vdso_getcpu")));
