/* Starting mote-vmm from the CLI: the flags commands pass on to mote-vmm, and its environment. */
#include "vmm_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "jail.h"
#include "size.h"
#include "status.h"

/* The jail flags' values, checked by vmm_flags_check. */
static struct mote_cgroup_limits jail_limits;
static uid_t jail_uid_lo, jail_uid_hi;

int vmm_flags_jail_option(struct vmm_flags *f, int c, const char *arg)
{
	switch (c) {
	case VMM_OPT_JAIL: f->jail = 1; return 1;
	case VMM_OPT_NO_JAIL: f->jail = 0; return 1;
	case VMM_OPT_CPUS: f->cpus = arg; return 1;
	case VMM_OPT_CPU_WEIGHT: f->cpu_weight = arg; return 1;
	case VMM_OPT_MEM_LIMIT: f->mem_limit = arg; return 1;
	case VMM_OPT_IO_LIMIT: f->io_limit = arg; return 1;
	case VMM_OPT_PIDS: f->pids = arg; return 1;
	case VMM_OPT_UID_RANGE: f->uid_range = arg; return 1;
	case VMM_OPT_ALLOW_UNLIMITED: f->allow_unlimited = 1; return 1;
	case VMM_OPT_DEBUG_TRY: f->debug_try = arg; return 1;
	default: return 0;
	}
}

/* 1 when mote-vmm runs jailed: --jail, or by default when running as root. */
static int jailed(const struct vmm_flags *f)
{
	return f->jail == 1 || (f->jail < 0 && geteuid() == 0);
}

static void __attribute__((noreturn, format(printf, 1, 2))) usage_exit(const char *fmt, ...)
{
	struct mote_err err = {0};
	va_list ap;
	va_start(ap, fmt);
	char line[sizeof(err.msg)];
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	mote_errf(&err, MOTE_STATUS_USAGE, "%s", line);
	mote_err_exit("mote", &err);
}

static void check_jail_flags(const struct vmm_flags *f)
{
	struct mote_cgroup_limits *l = &jail_limits;
	char why[200];
	char *end;
	if (f->cpus && mote_parse_cpus(f->cpus, 100000, &l->cpu_quota_us) < 0)
		usage_exit("--cpus: '%s' is not a number of CPUs between 0.01 and 1024 (like 0.25 or 2)",
			   f->cpus);
	l->cpu_period_us = 100000;
	if (f->cpu_weight) {
		unsigned long w = strtoul(f->cpu_weight, &end, 10);
		if (!*f->cpu_weight || *end || w < 1 || w > 10000 || f->cpu_weight[0] == '-')
			usage_exit("--cpu-weight: '%s' is not a weight between 1 and 10000", f->cpu_weight);
		l->cpu_weight = (unsigned)w;
	}
	if (f->mem_limit &&
	    (mote_parse_size(f->mem_limit, &l->mem_bytes) < 0 || l->mem_bytes < (16ull << 20)))
		usage_exit("--mem-limit: '%s' is not a size of at least 16M (like 256M or 1G)", f->mem_limit);
	if (f->io_limit && mote_parse_io_limit(f->io_limit, &l->io, why, sizeof(why)) < 0) {
		struct mote_err err = {0};
		mote_errf(&err, MOTE_STATUS_USAGE, "--io-limit: %s", why);
		mote_err_exit("mote", &err);
	}
	l->pids_max = 64;
	if (f->pids) {
		unsigned long n = strtoul(f->pids, &end, 10);
		if (!*f->pids || *end || n < 8 || n > 1000000 || f->pids[0] == '-')
			usage_exit("--pids: '%s' is not a number of tasks between 8 and 1000000", f->pids);
		l->pids_max = n;
	}
	if (f->uid_range && mote_parse_uid_range(f->uid_range, &jail_uid_lo, &jail_uid_hi) < 0)
		usage_exit("--uid-range: '%s' is not A-B with 1 <= A <= B < 2147483647 (like 100000-165535)",
			   f->uid_range);
	if (!jailed(f)) {
		const char *which = f->cpus	    ? "--cpus"
				    : f->cpu_weight ? "--cpu-weight"
				    : f->mem_limit  ? "--mem-limit"
				    : f->io_limit   ? "--io-limit"
				    : f->pids	    ? "--pids"
				    : f->uid_range  ? "--uid-range"
						    : NULL;
		if (which)
			usage_exit("%s needs the jail (run as root, without --no-jail)", which);
	}
	if (f->jail == 1 && geteuid() != 0)
		usage_exit("--jail needs root (namespaces, cgroups and per-VM uids)%s", "");
}

void vmm_flags_check(const struct vmm_flags *f)
{
	struct mote_err err = {0};
	uint64_t ns;
	if (f->timeout && (mote_parse_duration(f->timeout, &ns) < 0 || ns == 0)) {
		mote_errf(&err, MOTE_STATUS_USAGE, "--timeout: '%s' is not a positive number of seconds",
			  f->timeout);
		mote_err_exit("mote", &err);
	}
	if (f->log_fd) {
		char *end;
		long fd = strtol(f->log_fd, &end, 10);
		if (!*f->log_fd || *end || fd < 0 || fd > 1 << 20 || fcntl((int)fd, F_GETFD) < 0) {
			mote_errf(&err, MOTE_STATUS_USAGE, "--log-fd: '%s' is not an open file descriptor",
				  f->log_fd);
			mote_err_exit("mote", &err);
		}
	}
	if (f->exit_after_snapshot && !f->snapshot) {
		mote_errf(&err, MOTE_STATUS_USAGE, "--exit-after-snapshot needs --snapshot FILE");
		mote_err_exit("mote", &err);
	}
	check_jail_flags(f);
}

void vmm_flags_append(const struct vmm_flags *f, const char **argv, int *n)
{
	if (f->timeout) {
		argv[(*n)++] = "--timeout";
		argv[(*n)++] = f->timeout;
	}
	if (f->debug)
		argv[(*n)++] = "--debug";
	if (f->snapshot) {
		argv[(*n)++] = "--snapshot";
		argv[(*n)++] = f->snapshot;
	}
	if (f->exit_after_snapshot)
		argv[(*n)++] = "--exit-after-snapshot";
	if (f->log_fd) {
		argv[(*n)++] = "--log-fd";
		argv[(*n)++] = f->log_fd;
	}
	if (f->debug_try) {
		argv[(*n)++] = "--debug-try";
		argv[(*n)++] = f->debug_try;
	}
}

/* Variables passed on to mote-vmm: only the sanitizers' options (for the ASan/UBSan test build). */
static const char *const passed_env[] = {"ASAN_OPTIONS=", "UBSAN_OPTIONS=", "LSAN_OPTIONS="};
#define PASSED_ENV_MAX (sizeof(passed_env) / sizeof(passed_env[0]))

/* The environment mote-vmm gets: the sanitizers' options only. */
static char **vmm_environment(void)
{
	static char *envp[PASSED_ENV_MAX + 1];
	size_t n = 0;
	for (char **e = environ; *e && n < PASSED_ENV_MAX; e++)
		for (size_t i = 0; i < PASSED_ENV_MAX; i++)
			if (!strncmp(*e, passed_env[i], strlen(passed_env[i]))) {
				envp[n++] = *e;
				break;
			}
	envp[n] = NULL;
	return envp;
}

/* End like mote-vmm ended: the same exit code, or the same signal (without a core dump). */
static void __attribute__((noreturn)) pass_status(int status)
{
	fflush(stdout);
	fflush(stderr);
	if (WIFEXITED(status))
		exit(WEXITSTATUS(status));
	mote_die_by_signal(WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL);
}

/* Where mote's own lines about the jail go: --log-fd when given (like mote-vmm's), else stderr. */
static FILE *log_stream(const struct vmm_flags *f)
{
	static FILE *log;
	if (!log && f->log_fd) {
		int fd = dup(atoi(f->log_fd));
		log = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (log)
			setvbuf(log, NULL, _IOLBF, 0);
	}
	return log ? log : stderr;
}

/*
 * The supervisor of a jailed mote-vmm: signals that would have reached
 * mote-vmm (a terminal's Ctrl-C, kill) are passed on to it; `mote snapshot
 * take` asks this process (its pid is the one the user knows) and gets its
 * answer from here. Returns mote-vmm's wait status.
 */
static int supervise(struct mote_jail *j, const struct vmm_flags *f)
{
	static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM};
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	pid_t requester[8];
	int nreq = 0;
	struct pollfd pf[2] = {{.fd = j->sock, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
	for (;;) {
		if (poll(pf, sfd >= 0 ? 2 : 1, -1) < 0)
			continue;
		if (sfd >= 0 && (pf[1].revents & POLLIN)) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGUSR1 && si.ssi_code == SI_QUEUE &&
				    si.ssi_int == MOTE_SNAPSHOT_REQUEST) {
					if (nreq < (int)(sizeof(requester) / sizeof(requester[0])))
						requester[nreq++] = (pid_t)si.ssi_pid;
					mote_jail_snapshot(j);
				} else {
					kill(j->vmm_pid, (int)si.ssi_signo);
				}
			}
		}
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			struct mote_err err = {0};
			int ev = mote_jail_next_event(j, &err);
			if (ev == JAIL_EV_SNAP_OK || ev == JAIL_EV_SNAP_FAILED) {
				/* Answers come in the order of the requests. */
				if (nreq > 0) {
					sigqueue(requester[0], ev == JAIL_EV_SNAP_OK ? SIGUSR1 : SIGUSR2,
						 (union sigval){.sival_int = MOTE_SNAPSHOT_REQUEST});
					memmove(requester, requester + 1, (size_t)--nreq * sizeof(pid_t));
				}
			} else if (ev == JAIL_EV_EXEC_FAILED) {
				fprintf(log_stream(f), "mote: %s\n", err.msg);
			} else if (ev == JAIL_EV_EXIT || ev == JAIL_EV_LOST) {
				break;
			}
		}
	}
	if (sfd >= 0)
		close(sfd);
	int status, oom;
	mote_jail_finish(j, &status, &oom);
	FILE *log = log_stream(f);
	if (oom)
		fprintf(log,
			"mote: the VM exceeded its memory limit (%llu MiB, --mem-limit) and was killed\n",
			(unsigned long long)(jail_limits.mem_bytes >> 20));
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		fprintf(log,
			"mote: mote-vmm was killed by SIGSYS: its seccomp filter refused a system call\n");
	return status;
}

static void __attribute__((noreturn))
run_jailed(const char *vmm, const char **argv, const struct vmm_flags *f, const struct vmm_inputs *in)
{
	struct mote_err err = {0};
	static struct mote_jail_spec spec;
	spec.vmm = vmm;
	argv[0] = vmm;
	spec.argv = argv;
	spec.envp = (const char *const *)vmm_environment();
	for (int i = 0; i < in->nfiles; i++)
		spec.files[spec.nfiles++] = in->files[i];
	static char dir[PATH_MAX];
	if (f->snapshot) {
		snprintf(dir, sizeof(dir), "%s", f->snapshot);
		spec.rw_dir = dirname(dir);
	}
	if (f->log_fd) {
		spec.fd_from[0] = spec.fd_to[0] = atoi(f->log_fd);
		spec.nfds = 1;
	}
	spec.limits = jail_limits;
	int sanitized = mote_jail_vmm_is_dynamic(vmm);
	if (!spec.limits.mem_bytes)
		spec.limits.mem_bytes =
		    in->guest_mem + (sanitized ? MOTE_JAIL_MEM_OVERHEAD_SANITIZED : MOTE_JAIL_MEM_OVERHEAD);
	jail_limits.mem_bytes = spec.limits.mem_bytes;
	if (in->io_file && mote_cgroup_disk_of(in->io_file, &spec.limits.io_dev[0]) == 0)
		spec.limits.n_io_dev = 1;
	spec.allow_unlimited = f->allow_unlimited;
	spec.uid_lo = jail_uid_lo;
	spec.uid_hi = jail_uid_hi;
	/* Signals for the supervisor are taken before the VM can be asked anything. */
	sigset_t set, old;
	sigemptyset(&set);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	struct mote_jail j;
	if (mote_jail_start(&spec, &j, &err) < 0)
		mote_err_exit("mote", &err);
	if (f->debug) {
		char steps[512];
		int n = 0;
		for (int i = 0; i < JAIL_T_NSTEPS; i++)
			n += snprintf(steps + n, sizeof(steps) - (size_t)n, "%s%s %.3f", i ? ", " : "",
				      mote_jail_step_name[i], (double)j.step_ns[i] / 1e6);
		fprintf(log_stream(f), "mote: jail: mote-vmm pid %d, uid %u, %s; setup %.3f ms (%s ms)\n",
			(int)j.vmm_pid, (unsigned)j.uid,
			j.limited ? (j.cg.kind == MOTE_CGROUP_V2 ? "cgroup v2" : "cgroup v1")
				  : "no cgroup (unlimited)",
			(double)j.total_ns / 1e6, steps);
	}
	int status = supervise(&j, f);
	pass_status(status);
}

void vmm_exec(const char *vmm, const char **argv, const struct vmm_flags *f, const struct vmm_inputs *in)
{
	struct mote_err err = {0};
	if (jailed(f))
		run_jailed(vmm, argv, f, in);
	execve(vmm, (char *const *)argv, vmm_environment());
	mote_errnof(&err, MOTE_STATUS_HOST, errno, "cannot execute %s", vmm);
	mote_err_exit("mote", &err);
}
