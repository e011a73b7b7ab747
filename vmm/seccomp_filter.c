/* mote-vmm's seccomp allowlist: installed after setup on every thread; anything else is reported and kills.
 */
#include "seccomp_filter.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "status.h"

/* Append the text s to buf (size SIGSYS_LINE_MAX) at *n. */
#define SIGSYS_LINE_MAX 200
static void put_str(char *buf, size_t *n, const char *s)
{
	while (*s && *n < SIGSYS_LINE_MAX - 1)
		buf[(*n)++] = *s++;
}

/* Append v in decimal, or in hex with a 0x prefix. */
static void put_num(char *buf, size_t *n, unsigned long long v, int hex)
{
	char digits[24];
	int k = 0;
	do {
		unsigned d = (unsigned)(v % (hex ? 16 : 10));
		digits[k++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= hex ? 16 : 10;
	} while (v && k < (int)sizeof(digits));
	if (hex)
		put_str(buf, n, "0x");
	while (k && *n < SIGSYS_LINE_MAX - 1)
		buf[(*n)++] = digits[--k];
}

/*
 * A system call the filter refused (SECCOMP_RET_TRAP). Installed with
 * SA_RESETHAND | SA_NODEFER: SIGSYS is back at its default action here, so
 * anything refused from now on (also in this handler) kills at once. The
 * line is built by hand and written with one write(2): only async-signal-safe
 * calls, all of them allowed.
 */
static void on_sigsys(int sig, siginfo_t *info, void *ctx)
{
	int nr = info->si_syscall;
	char line[SIGSYS_LINE_MAX];
	size_t n = 0;
	const char *name = nr >= 0 && nr < SECCOMP_FILTER_NR_MAX ? seccomp_filter_names[nr] : NULL;
	put_str(line, &n, "mote-vmm: seccomp: system call ");
	put_str(line, &n, name ? name : "(unknown)");
	put_str(line, &n, " (");
	put_num(line, &n, (unsigned)nr, 0);
	put_str(line, &n, ")");
	if (nr == SYS_ioctl && ctx) {
		put_str(line, &n, " request ");
		put_num(line, &n,
			(unsigned long long)((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RSI] & 0xffffffffull,
			1);
	} else if (nr >= 0 && nr < SECCOMP_FILTER_NR_MAX && seccomp_filter_rule[nr] == 2) {
		put_str(line, &n, " with these arguments");
	}
	put_str(line, &n, " is not allowed; the VM is stopped\n");
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
	raise(sig); /* SIG_DFL again (SA_RESETHAND), not blocked (SA_NODEFER): mote-vmm dies by SIGSYS */
	_exit(128 + SIGSYS);
}

int seccomp_filter_install(int debug, struct mote_err *err)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno,
				   "seccomp: cannot install the SIGSYS handler");
	/* A death by signal never dumps core (mote_die_by_signal does the same for the others). */
	struct rlimit none = {0, 0};
	setrlimit(RLIMIT_CORE, &none);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "seccomp: PR_SET_NO_NEW_PRIVS");
	struct sock_fprog prog = {.len = (unsigned short)seccomp_filter_len,
				  .filter = (struct sock_filter *)seccomp_filter_prog};
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
	if (r > 0)
		return mote_errf(err, MOTE_STATUS_HOST, "seccomp: thread %ld could not take the filter", r);
	if (r < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "seccomp: cannot install the filter");
	if (debug)
		fprintf(stderr,
			"mote-vmm: seccomp filter installed on every thread (%s policy): %u system calls "
			"allowed, %u BPF instructions\n",
			seccomp_filter_kind, seccomp_filter_allowed, seccomp_filter_len);
	return 0;
}
