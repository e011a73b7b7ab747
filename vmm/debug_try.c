/* --debug-try ACTION: mote-vmm attempts one thing its walls forbid, to prove them from inside (debug only).
 */
#include "debug_try.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "status.h"

#define X32_SYSCALL_BIT 0x40000000L
#define I386_GETPID 20

/*
 * System calls `syscall:NAME` makes, with arguments that make each fail
 * harmlessly when no filter stops it (a bad descriptor, a bad address, an
 * invalid flag). `getpid` and `ioctl-kvm-run` are allowed: they show that the
 * filter lets its list through.
 */
enum try_abi { TRY_X86_64, TRY_X32, TRY_I386 };
static const struct try_syscall {
	const char *name;
	long nr;
	long a0, a1, a2;
	enum try_abi abi;
} try_syscalls[] = {
    {"ptrace", SYS_ptrace, -1, 0, 0, TRY_X86_64},			   /* invalid request: EIO */
    {"mount", SYS_mount, 0, 0, 0, TRY_X86_64},				   /* NULL paths: EFAULT */
    {"execve", SYS_execve, 0, 0, 0, TRY_X86_64},			   /* NULL path: EFAULT */
    {"reboot", SYS_reboot, 0, 0, 0, TRY_X86_64},			   /* bad magic: EINVAL */
    {"unshare", SYS_unshare, 0xff, 0, 0, TRY_X86_64},			   /* CSIGNAL bits: EINVAL */
    {"socket", SYS_socket, -1, 0, 0, TRY_X86_64},			   /* bad family: EAFNOSUPPORT */
    {"kill", SYS_kill, 1, 0, 0, TRY_X86_64},				   /* signal 0 to init: a probe */
    {"ioctl-kvm-create-vm", SYS_ioctl, -1, KVM_CREATE_VM, 0, TRY_X86_64},  /* EBADF */
    {"ioctl-tiocsti", SYS_ioctl, -1, 0x5412 /* TIOCSTI */, 0, TRY_X86_64}, /* EBADF */
    {"getpid", SYS_getpid, 0, 0, 0, TRY_X86_64},			   /* allowed */
    {"ioctl-kvm-run", SYS_ioctl, -1, KVM_RUN, 0, TRY_X86_64},		   /* allowed: EBADF */
    {"x32-write", SYS_write, -1, 0, 0, TRY_X32},			   /* another ABI */
    {"i386-getpid", I386_GETPID, 0, 0, 0, TRY_I386},			   /* another arch (int 0x80) */
};
#define TRY_SYSCALLS (sizeof(try_syscalls) / sizeof(try_syscalls[0]))

static const struct try_syscall *find_syscall(const char *name)
{
	for (size_t i = 0; i < TRY_SYSCALLS; i++)
		if (!strcmp(try_syscalls[i].name, name))
			return &try_syscalls[i];
	return NULL;
}

/* Split "IP:PORT" into an IPv4 address; 0 or -1. */
static int parse_endpoint(const char *text, struct sockaddr_in *sin)
{
	const char *colon = strrchr(text, ':');
	char ip[INET_ADDRSTRLEN];
	if (!colon || colon == text || (size_t)(colon - text) >= sizeof(ip))
		return -1;
	memcpy(ip, text, (size_t)(colon - text));
	ip[colon - text] = 0;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 1 || port > 65535)
		return -1;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, ip, &sin->sin_addr) == 1 ? 0 : -1;
}

int debug_try_check(const char *action, struct mote_err *err)
{
	struct sockaddr_in sin;
	if (!strncmp(action, "open:", 5) && action[5])
		return 0;
	if (!strncmp(action, "connect:", 8) && parse_endpoint(action + 8, &sin) == 0)
		return 0;
	if (!strcmp(action, "fork"))
		return 0;
	if (!strncmp(action, "syscall:", 8) && find_syscall(action + 8))
		return 0;
	char names[512];
	size_t n = 0;
	for (size_t i = 0; i < TRY_SYSCALLS; i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", i ? ", " : "",
				      try_syscalls[i].name);
	return mote_errf(
	    err, MOTE_STATUS_USAGE,
	    "--debug-try: '%s' is not open:PATH, connect:IPV4:PORT, fork or syscall:NAME (NAME one "
	    "of %s)",
	    action, names);
}

static long try_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	return fd;
}

/* TCP connect, at most 2 s. */
static long try_connect(const char *endpoint)
{
	struct sockaddr_in sin;
	parse_endpoint(endpoint, &sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	long r = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	if (r < 0 && errno == EINPROGRESS) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int soerr = 0;
		socklen_t len = sizeof(soerr);
		if (poll(&p, 1, 2000) == 0)
			soerr = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			soerr = errno;
		r = soerr ? -1 : 0;
		errno = soerr;
	}
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

/*
 * The fork system call itself: libc's fork() blocks every signal around it,
 * and a refused call made with SIGSYS blocked kills without the report line
 * (the kernel resets a blocked SIGSYS to its default action).
 */
static long try_fork(void)
{
	pid_t pid = (pid_t)syscall(SYS_fork);
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return -1;
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return 0;
}

static long try_syscall(const struct try_syscall *s)
{
	if (s->abi == TRY_I386) {
		long r;
		__asm__ volatile("int $0x80" : "=a"(r) : "a"(s->nr) : "memory");
		if (r < 0 && r > -4096) {
			errno = (int)-r;
			return -1;
		}
		return r;
	}
	return syscall(s->abi == TRY_X32 ? s->nr | X32_SYSCALL_BIT : s->nr, s->a0, s->a1, s->a2, 0L, 0L);
}

void debug_try_run(const char *action)
{
	long r;
	errno = 0;
	if (!strncmp(action, "open:", 5))
		r = try_open(action + 5);
	else if (!strncmp(action, "connect:", 8))
		r = try_connect(action + 8);
	else if (!strcmp(action, "fork"))
		r = try_fork();
	else
		r = try_syscall(find_syscall(action + 8));
	if (r < 0)
		fprintf(stderr, "mote-vmm: debug-try %s: failed: %s\n", action, strerror(errno));
	else
		fprintf(stderr, "mote-vmm: debug-try %s: ok\n", action);
}
