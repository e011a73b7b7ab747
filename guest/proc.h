/* Process-level syscalls of the single guest process: exit, ids, time, signals, limits, system info. */
#ifndef GUEST_PROC_H
#define GUEST_PROC_H

#include <stdint.h>

#include <mote/abi.h>

void proc_init(const struct mote_boot_info *bi);

/* For execve of `path`: the signal state (sig_exec_reset) and the name. */
void proc_exec_reset(const char *path);

long sys_exit_group(uint64_t status);
long sys_getpid(void);
long sys_getppid(void);
long sys_getuid(void);
long sys_getpgrp(void);
long sys_getpgid(uint64_t pid);
long sys_getsid(uint64_t pid);
long sys_setpgid(uint64_t pid, uint64_t pgid);
long sys_setsid(void);
long sys_ids_zero(void);
long sys_arch_prctl(uint64_t code, uint64_t addr);
long sys_prctl(uint64_t option, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);
long sys_uname(uint64_t buf);
long sys_sysinfo(uint64_t buf);
long sys_prlimit64(uint64_t pid, uint64_t resource, uint64_t new_limit, uint64_t old_limit);
long sys_getrlimit(uint64_t resource, uint64_t rlim);
long sys_setrlimit(uint64_t resource, uint64_t rlim);
long sys_getrusage(uint64_t who, uint64_t usage);
long sys_times(uint64_t buf);
long sys_clock_gettime(uint64_t clk, uint64_t ts);
long sys_clock_getres(uint64_t clk, uint64_t ts);
long sys_gettimeofday(uint64_t tv, uint64_t tz);
long sys_time(uint64_t t);
long sys_nanosleep(uint64_t req, uint64_t rem);
long sys_clock_nanosleep(uint64_t clk, uint64_t flags, uint64_t req, uint64_t rem);
long sys_getrandom(uint64_t buf, uint64_t len, uint64_t flags);
long sys_sched_getaffinity(uint64_t pid, uint64_t size, uint64_t mask);
long sys_sched_setaffinity(uint64_t pid, uint64_t size, uint64_t mask);
long sys_getcpu(uint64_t cpu, uint64_t node, uint64_t cache);
long sys_no_process(void);
long sys_wait4(uint64_t pid, uint64_t status, uint64_t options, uint64_t rusage);
long sys_zero(void);

#endif /* GUEST_PROC_H */
