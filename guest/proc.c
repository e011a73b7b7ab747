/* Process-level syscalls of the single guest process: exit, ids, time, signals, limits, system info. */
#include "proc.h"

#include "clock.h"
#include "console.h"
#include "hypercall.h"
#include "klib.h"
#include "linux.h"
#include "mm.h"
#include "random.h"
#include "sched.h"
#include "sig.h"
#include "uaccess.h"

extern uint64_t syscall_user_rip, syscall_user_rsp;

static uint64_t boot_mono_ns, mem_total, stack_size;

void proc_init(const struct mote_boot_info *bi)
{
	boot_mono_ns = bi->clock.anchor_monotonic_ns;
	mem_total = bi->mem_size;
	for (uint32_t i = 0; i < bi->nregions; i++)
		if (bi->regions[i].type == MOTE_MEM_STACK)
			stack_size = bi->regions[i].size;
}

/* Copy to program memory after checking the range; -EFAULT if it is bad. */
static long put_user(uint64_t dst, const void *src, uint64_t len)
{
	if (!mm_user_range_ok(dst, len))
		return -EFAULT;
	memcpy((void *)(uintptr_t)dst, src, len);
	return 0;
}

static long get_user(void *dst, uint64_t src, uint64_t len)
{
	if (!mm_user_range_ok(src, len))
		return -EFAULT;
	memcpy(dst, (const void *)(uintptr_t)src, len);
	return 0;
}

long sys_exit_group(uint64_t status)
{
	hypercall_exit(MOTE_EXIT_NORMAL, (int32_t)(status & 0xff), 0, 0, 0);
}

long sys_getpid(void)
{
	return 1;
}

long sys_getppid(void)
{
	return 0;
}

long sys_getuid(void)
{
	return 0;
}

long sys_getpgrp(void)
{
	return 1;
}

long sys_getpgid(uint64_t pid)
{
	return pid == 0 || pid == 1 ? 1 : -ESRCH;
}

long sys_getsid(uint64_t pid)
{
	return pid == 0 || pid == 1 ? 1 : -ESRCH;
}

long sys_setpgid(uint64_t pid, uint64_t pgid)
{
	return (pid == 0 || pid == 1) ? 0 : -ESRCH;
}

long sys_setsid(void)
{
	return -EPERM; /* already a session leader */
}

long sys_ids_zero(void)
{
	return 0;
}

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

long sys_arch_prctl(uint64_t code, uint64_t addr)
{
	uint64_t v;
	switch (code) {
	case ARCH_SET_FS: __asm__ volatile("wrfsbase %0" : : "r"(addr)); return 0;
	case ARCH_SET_GS: __asm__ volatile("wrgsbase %0" : : "r"(addr)); return 0;
	case ARCH_GET_FS: __asm__ volatile("rdfsbase %0" : "=r"(v)); return put_user(addr, &v, 8);
	case ARCH_GET_GS: __asm__ volatile("rdgsbase %0" : "=r"(v)); return put_user(addr, &v, 8);
	default: return -EINVAL;
	}
}

#define PR_SET_NAME 15
#define PR_GET_NAME 16
static char task_name[16] = "main";

long sys_prctl(uint64_t option, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	switch (option) {
	case PR_SET_NAME:
		if (get_user(task_name, a2, sizeof(task_name) - 1) < 0)
			return -EFAULT;
		task_name[15] = 0;
		return 0;
	case PR_GET_NAME: return put_user(a2, task_name, sizeof(task_name));
	default: return -EINVAL;
	}
}

struct linux_utsname {
	char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65];
};

static void copy_field(char *dst, const char *src)
{
	memcpy(dst, src, strlen(src) + 1);
}

long sys_uname(uint64_t buf)
{
	static struct linux_utsname u;
	copy_field(u.sysname, "Linux");
	copy_field(u.nodename, "mote");
	copy_field(u.release, "6.1.0-mote");
	copy_field(u.version, "#1 mote guest kernel");
	copy_field(u.machine, "x86_64");
	copy_field(u.domainname, "(none)");
	return put_user(buf, &u, sizeof(u));
}

struct linux_sysinfo {
	int64_t uptime;
	uint64_t loads[3];
	uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
	uint16_t procs, pad;
	uint32_t pad2;
	uint64_t totalhigh, freehigh;
	uint32_t mem_unit;
	char reserved[4];
};

long sys_sysinfo(uint64_t buf)
{
	struct linux_sysinfo si;
	memset(&si, 0, sizeof(si));
	uint64_t free_pages, total_pages;
	pages_stats(&free_pages, &total_pages);
	si.uptime = (int64_t)((clock_monotonic_ns() - boot_mono_ns) / 1000000000ull);
	si.totalram = mem_total;
	si.freeram = free_pages * PAGE_SIZE;
	si.procs = 1;
	si.mem_unit = 1;
	return put_user(buf, &si, sizeof(si));
}

struct linux_rlimit {
	uint64_t cur, max;
};
#define RLIM_INFINITY (~0ull)
#define RLIMIT_STACK 3
#define RLIMIT_NOFILE 7
#define RLIMIT_AS 9
#define RLIMIT_NLIMITS 16

static struct linux_rlimit limits[RLIMIT_NLIMITS];
static int limits_ready;

static void limits_init(void)
{
	for (int i = 0; i < RLIMIT_NLIMITS; i++)
		limits[i] = (struct linux_rlimit){RLIM_INFINITY, RLIM_INFINITY};
	limits[RLIMIT_STACK] = (struct linux_rlimit){stack_size, stack_size};
	limits[RLIMIT_NOFILE] = (struct linux_rlimit){1024, 1024};
	limits[RLIMIT_AS] = (struct linux_rlimit){mem_total, mem_total};
	limits[4] = (struct linux_rlimit){0, RLIM_INFINITY}; /* RLIMIT_CORE */
	limits_ready = 1;
}

long sys_prlimit64(uint64_t pid, uint64_t resource, uint64_t new_limit, uint64_t old_limit)
{
	if (pid != 0 && pid != 1)
		return -ESRCH;
	if (resource >= RLIMIT_NLIMITS)
		return -EINVAL;
	if (!limits_ready)
		limits_init();
	struct linux_rlimit nl;
	if (new_limit && get_user(&nl, new_limit, sizeof(nl)) < 0)
		return -EFAULT;
	if (new_limit && nl.cur > nl.max)
		return -EINVAL;
	if (new_limit && nl.max > limits[resource].max)
		return -EPERM;
	if (old_limit && put_user(old_limit, &limits[resource], sizeof(nl)) < 0)
		return -EFAULT;
	if (new_limit)
		limits[resource] = nl;
	return 0;
}

long sys_getrlimit(uint64_t resource, uint64_t rlim)
{
	return sys_prlimit64(0, resource, 0, rlim);
}

long sys_setrlimit(uint64_t resource, uint64_t rlim)
{
	return sys_prlimit64(0, resource, rlim, 0);
}

long sys_getrusage(uint64_t who, uint64_t usage)
{
	uint64_t buf[18];
	memset(buf, 0, sizeof(buf));
	uint64_t ns = clock_monotonic_ns() - boot_mono_ns;
	buf[0] = ns / 1000000000ull; /* ru_utime */
	buf[1] = ns % 1000000000ull / 1000;
	return put_user(usage, buf, sizeof(buf));
}

long sys_times(uint64_t buf)
{
	uint64_t ticks = (clock_monotonic_ns() - boot_mono_ns) / 10000000ull;
	uint64_t t[4] = {ticks, 0, 0, 0};
	if (buf && put_user(buf, t, sizeof(t)) < 0)
		return -EFAULT;
	return (long)ticks;
}

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define CLOCK_REALTIME_ALARM 8
#define CLOCK_BOOTTIME_ALARM 9
#define CLOCK_TAI 11

static int clock_now(uint64_t clk, int64_t *ns)
{
	switch (clk) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_REALTIME_ALARM:
	case CLOCK_TAI: *ns = clock_realtime_ns(); return 0;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
	case CLOCK_BOOTTIME_ALARM: *ns = (int64_t)clock_monotonic_ns(); return 0;
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID: *ns = (int64_t)(clock_monotonic_ns() - boot_mono_ns); return 0;
	default: return -EINVAL;
	}
}

static struct linux_timespec ns_to_ts(int64_t ns)
{
	struct linux_timespec ts = {ns / 1000000000, ns % 1000000000};
	if (ts.tv_nsec < 0)
		ts.tv_sec--, ts.tv_nsec += 1000000000;
	return ts;
}

long sys_clock_gettime(uint64_t clk, uint64_t ts)
{
	int64_t ns;
	if (clock_now(clk, &ns) < 0)
		return -EINVAL;
	struct linux_timespec t = ns_to_ts(ns);
	return put_user(ts, &t, sizeof(t));
}

long sys_clock_getres(uint64_t clk, uint64_t ts)
{
	int64_t ns;
	if (clock_now(clk, &ns) < 0)
		return -EINVAL;
	struct linux_timespec t = {0, 1};
	return ts ? put_user(ts, &t, sizeof(t)) : 0;
}

long sys_gettimeofday(uint64_t tv, uint64_t tz)
{
	int64_t ns = clock_realtime_ns();
	int64_t t[2] = {ns / 1000000000, ns % 1000000000 / 1000};
	if (tv && put_user(tv, t, sizeof(t)) < 0)
		return -EFAULT;
	if (tz) {
		int32_t z[2] = {0, 0};
		return put_user(tz, z, sizeof(z));
	}
	return 0;
}

long sys_time(uint64_t t)
{
	int64_t s = clock_realtime_ns() / 1000000000;
	if (t && put_user(t, &s, sizeof(s)) < 0)
		return -EFAULT;
	return s;
}

/* Sleep until `deadline_ns` on clock `clk`; interrupted by a signal, *left_ns is the time left. */
static long sleep_until(uint64_t clk, int64_t deadline_ns, int64_t *left_ns)
{
	int64_t now;
	if (clock_now(clk, &now) < 0)
		return -EINVAL;
	/* Other threads run meanwhile. A realtime deadline is rechecked: the clock may be set meanwhile. */
	while (deadline_ns > now) {
		if (sched_sleep_until(clock_monotonic_ns() + (uint64_t)(deadline_ns - now)) == -EINTR) {
			clock_now(clk, &now);
			*left_ns = deadline_ns > now ? deadline_ns - now : 0;
			return -ERESTARTNOHAND; /* a handler runs: EINTR */
		}
		if (clock_now(clk, &now) < 0)
			return -EINVAL;
	}
	return 0;
}

static long read_timespec(uint64_t addr, int64_t *ns)
{
	struct linux_timespec t;
	long r = user_get_timespec(&t, addr);
	if (r < 0)
		return r;
	if (t.tv_sec > 100ll * 365 * 86400)
		t.tv_sec = 100ll * 365 * 86400;
	*ns = t.tv_sec * 1000000000 + t.tv_nsec;
	return 0;
}

long sys_nanosleep(uint64_t req, uint64_t rem)
{
	return sys_clock_nanosleep(CLOCK_MONOTONIC, 0, req, rem);
}

#define TIMER_ABSTIME 1

long sys_clock_nanosleep(uint64_t clk, uint64_t flags, uint64_t req, uint64_t rem)
{
	int64_t ns, now;
	long r = read_timespec(req, &ns);
	if (r < 0)
		return r;
	if (clk == CLOCK_THREAD_CPUTIME_ID || clock_now(clk, &now) < 0)
		return -EINVAL;
	int64_t left = 0;
	r = sleep_until(clk, (flags & TIMER_ABSTIME) ? ns : now + ns, &left);
	if (r == -ERESTARTNOHAND && rem && !(flags & TIMER_ABSTIME)) {
		struct linux_timespec t = {left / 1000000000, left % 1000000000};
		if (put_user(rem, &t, sizeof(t)) < 0)
			return -EFAULT;
	}
	return r;
}

#define GRND_NONBLOCK 1
#define GRND_RANDOM 2
#define GRND_INSECURE 4

long sys_getrandom(uint64_t buf, uint64_t len, uint64_t flags)
{
	if (flags & ~7ull)
		return -EINVAL;
	if (len > 33554431)
		len = 33554431;
	if (!mm_user_range_ok(buf, len))
		return -EFAULT;
	random_bytes((void *)(uintptr_t)buf, len);
	return (long)len;
}

long sys_sched_getaffinity(uint64_t pid, uint64_t size, uint64_t mask)
{
	if (size < 8 || (size & 7))
		return -EINVAL;
	uint64_t one = 1;
	if (!mm_user_range_ok(mask, size))
		return -EFAULT;
	memset((void *)(uintptr_t)mask, 0, size);
	memcpy((void *)(uintptr_t)mask, &one, 8);
	return 8;
}

long sys_sched_setaffinity(uint64_t pid, uint64_t size, uint64_t mask)
{
	return 0;
}

long sys_getcpu(uint64_t cpu, uint64_t node, uint64_t cache)
{
	uint32_t zero = 0;
	if (cpu && put_user(cpu, &zero, 4) < 0)
		return -EFAULT;
	if (node && put_user(node, &zero, 4) < 0)
		return -EFAULT;
	return 0;
}

void proc_exec_reset(const char *path)
{
	sig_exec_reset();
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = MIN(strlen(base), sizeof(task_name) - 1);
	memcpy(task_name, base, n);
	task_name[n] = 0;
}

long sys_no_process(void)
{
	/* fork and vfork: a guest runs exactly one process (threads: guest/thread.c). */
	return -ENOSYS;
}

long sys_wait4(uint64_t pid, uint64_t status, uint64_t options, uint64_t rusage)
{
	return -ECHILD;
}

long sys_zero(void)
{
	return 0;
}
