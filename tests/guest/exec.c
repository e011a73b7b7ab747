/* Guest test: execve and execveat replace the program as on Linux. tests/e2e/exec.sh runs it in a rootfs
 * holding /exec.musl, /exec.glibc, /args.musl, /args.glibc (and, when there, /dynamic, a dynamically linked
 * ELF, and /bigbss, a program too big for the guest's memory).
 *
 * usage: exec              stage 1 (this libc): the errors (the program goes on after each), then state to
 *                          carry (fds with and without FD_CLOEXEC, a pipe, signal dispositions, umask, cwd,
 *                          16 MiB of touched memory), execve of stage 2 in the other libc's build
 *        exec stage2 ...   (run by stage 1) checks what survived and what did not, then execveat of stage 3
 *                          through a directory fd and a relative path
 *        exec stage3 ...   checks /proc/self/exe, then fexecve (execveat AT_EMPTY_PATH) of a copy of
 *                          /args.<libc>, unlinked, open only through an O_CLOEXEC fd
 * The last program prints its argv: "argv[1]=[after]" "argv[2]=[three]" "argv[3]=[execs]".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#define CHECK_PROGRAM "exec"
#include "check.h"

extern char **environ;

static const char *libc_name(void)
{
#ifdef __GLIBC__
	return "glibc";
#else
	return "musl";
#endif
}

static const char *other_libc(void)
{
	return strcmp(libc_name(), "musl") == 0 ? "glibc" : "musl";
}

static void on_usr1(int sig)
{
	(void)sig;
}

static long exec_at(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	return syscall(SYS_execveat, dirfd, path, argv, envp, flags);
}

static int fails_with(long r, int err)
{
	return r == -1 && errno == err;
}

static int marker = 42; /* must survive every failed execve */

static void errors(void)
{
	char *argv[] = {"x", NULL};
	char *envp[] = {NULL};
	check(fails_with(execve("/nonexistent", argv, envp), ENOENT), "execve of a missing file: ENOENT");
	check(fails_with(execve("/tmp", argv, envp), EACCES), "execve of a directory: EACCES");
	check(fails_with(execve("/dev/null", argv, envp), EACCES), "execve of a device: EACCES");
	int fd = open("/tmp/noexec", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	check(fd >= 0 && write(fd, "#!/bin/sh\n", 10) == 10, "write /tmp/noexec");
	close(fd);
	check(fails_with(execve("/tmp/noexec", argv, envp), EACCES), "execve without an x bit: EACCES");
	check(fails_with(execve("/tmp/noexec/x", argv, envp), ENOTDIR), "execve through a file: ENOTDIR");
	fd = open("/tmp/script", O_WRONLY | O_CREAT | O_TRUNC, 0755);
	check(fd >= 0 && write(fd, "#!/bin/sh\necho\n", 15) == 15, "write /tmp/script");
	close(fd);
	check(fails_with(execve("/tmp/script", argv, envp), ENOEXEC), "execve of a non-ELF: ENOEXEC");
	if (access("/dynamic", X_OK) == 0)
		check(fails_with(execve("/dynamic", argv, envp), ENOEXEC),
		      "execve of a dynamic ELF: ENOEXEC");
	if (access("/bigbss", X_OK) == 0)
		check(fails_with(execve("/bigbss", argv, envp), ENOMEM),
		      "execve of a program too big: ENOMEM");
	char self[64];
	snprintf(self, sizeof(self), "/exec.%s", libc_name());
	check(symlink(self, "/tmp/self-link") == 0, "symlink /tmp/self-link");
	check(fails_with(exec_at(AT_FDCWD, "/tmp/self-link", argv, envp, AT_SYMLINK_NOFOLLOW), ELOOP),
	      "execveat AT_SYMLINK_NOFOLLOW of a symlink: ELOOP");
	check(fails_with(exec_at(AT_FDCWD, self, argv, envp, 0x4), EINVAL),
	      "execveat with unknown flags: EINVAL");
	check(fails_with(exec_at(AT_FDCWD, "", argv, envp, 0), ENOENT),
	      "execveat of \"\" without AT_EMPTY_PATH");
	check(fails_with(exec_at(999, "x", argv, envp, 0), EBADF), "execveat with a bad dirfd: EBADF");
	char **volatile bad_argv = (char **)8;
	check(fails_with(execve(self, bad_argv, envp), EFAULT), "execve with a bad argv: EFAULT");
	char *bad_string[] = {"x", (char *)16, NULL};
	check(fails_with(execve(self, bad_string, envp), EFAULT), "execve with a bad argv string: EFAULT");
	size_t big = 200 * 1024;
	char *huge = malloc(big + 1);
	memset(huge, 'a', big);
	huge[big] = 0;
	char *too_long[] = {"x", huge, NULL};
	check(fails_with(execve(self, too_long, envp), E2BIG), "execve with a 200 KiB argument: E2BIG");
	huge[100 * 1024] = 0;
	char *many[64];
	for (int i = 0; i < 63; i++)
		many[i] = huge;
	many[63] = NULL;
	check(fails_with(execve(self, many, envp), E2BIG), "execve with 6 MiB of arguments: E2BIG");
	free(huge);
	check(marker == 42, "the program is intact after the failed calls");
}

static void stage1(void)
{
	errors();
	int keep = open("/tmp/keep", O_RDWR | O_CREAT | O_TRUNC, 0644);
	check(keep >= 0 && write(keep, "kept data", 9) == 9 && lseek(keep, 5, SEEK_SET) == 5, "fd to keep");
	int gone = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int gone2 = fcntl(keep, F_DUPFD_CLOEXEC, 20);
	int p[2];
	check(pipe(p) == 0 && write(p[1], "piped", 5) == 5, "a pipe with data");
	struct sigaction sa = {.sa_handler = on_usr1};
	check(sigaction(SIGUSR1, &sa, NULL) == 0 && signal(SIGUSR2, SIG_IGN) != SIG_ERR,
	      "signal dispositions");
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	check(sigprocmask(SIG_BLOCK, &set, NULL) == 0, "block SIGHUP");
	umask(027);
	check(chdir("/tmp") == 0, "chdir /tmp");
	size_t len = 16 << 20;
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(m != MAP_FAILED, "mmap 16 MiB");
	if (m != MAP_FAILED)
		memset(m, 1, len);
	struct sysinfo si;
	sysinfo(&si);
	char a[8][64];
	snprintf(a[0], 64, "exec-stage2");
	snprintf(a[1], 64, "stage2");
	snprintf(a[2], 64, "%d", keep);
	snprintf(a[3], 64, "%d", gone);
	snprintf(a[4], 64, "%d", gone2);
	snprintf(a[5], 64, "%d", p[0]);
	snprintf(a[6], 64, "%llu", (unsigned long long)si.freeram * si.mem_unit);
	char *argv[] = {a[0], a[1], a[2], a[3], a[4], a[5], a[6], "", "two words", NULL};
	char *envp[] = {"STAGE=2", "SPACED=a b", "EMPTY=", NULL};
	char path[64];
	snprintf(path, sizeof(path), "/exec.%s", other_libc());
	if (failures) {
		fprintf(stderr, "exec: stage 1: %d checks FAILED\n", failures);
		exit(1);
	}
	printf("exec: stage 1 (%s) passed, execve %s\n", libc_name(), path);
	fflush(stdout);
	execve(path, argv, envp);
	fprintf(stderr, "exec: FAILED: execve %s: %s\n", path, strerror(errno));
	exit(1);
}

static void stage2(int argc, char **argv)
{
	check(argc == 9, "stage 2: argc %d", argc);
	if (argc != 9)
		exit(1);
	check(strcmp(argv[0], "exec-stage2") == 0 && strcmp(argv[7], "") == 0 &&
		  strcmp(argv[8], "two words") == 0 && argv[9] == NULL,
	      "argv arrives intact");
	int n = 0;
	for (char **e = environ; *e; e++)
		n++;
	check(n == 3 && strcmp(environ[0], "STAGE=2") == 0 && strcmp(getenv("SPACED"), "a b") == 0 &&
		  strcmp(getenv("EMPTY"), "") == 0,
	      "the environment is exactly envp (%d entries)", n);
	int keep = atoi(argv[2]), gone = atoi(argv[3]), gone2 = atoi(argv[4]), pipe_r = atoi(argv[5]);
	char buf[16] = {0};
	check(read(keep, buf, sizeof(buf) - 1) == 4 && strcmp(buf, "data") == 0,
	      "an fd without FD_CLOEXEC is kept, offset included (%s)", buf);
	check(fcntl(gone, F_GETFD) == -1 && errno == EBADF, "an O_CLOEXEC fd is closed");
	check(fcntl(gone2, F_GETFD) == -1 && errno == EBADF, "an F_DUPFD_CLOEXEC fd is closed");
	memset(buf, 0, sizeof(buf));
	check(read(pipe_r, buf, sizeof(buf) - 1) == 5 && strcmp(buf, "piped") == 0,
	      "the pipe keeps its data");
	struct sigaction sa;
	check(sigaction(SIGUSR1, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL,
	      "a handled signal is back to SIG_DFL");
	check(sigaction(SIGUSR2, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN,
	      "an ignored signal stays ignored");
	sigset_t set;
	check(sigprocmask(SIG_BLOCK, NULL, &set) == 0 && sigismember(&set, SIGHUP),
	      "the signal mask is kept");
	mode_t old = umask(0);
	check(old == 027, "umask is kept (%o)", old);
	char cwd[64] = {0};
	check(getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/tmp") == 0, "the working directory is kept (%s)",
	      cwd);
	char exe[64] = {0}, want[64];
	snprintf(want, sizeof(want), "/exec.%s", libc_name());
	check(readlink("/proc/self/exe", exe, sizeof(exe) - 1) > 0 && strcmp(exe, want) == 0,
	      "/proc/self/exe is %s (%s)", want, exe);
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	check(execfn && strcmp(execfn, want) == 0, "AT_EXECFN is the path given (%s)",
	      execfn ? execfn : "null");
	char name[17] = {0};
	check(prctl(PR_GET_NAME, name) == 0 && strncmp(name, want + 1, 15) == 0, "the task name is %s", name);
	struct sysinfo si;
	sysinfo(&si);
	unsigned long long before = strtoull(argv[6], NULL, 10),
			   now = (unsigned long long)si.freeram * si.mem_unit;
	check(now >= before + (15 << 20), "the old program's memory is free again (%llu MiB more)",
	      (now - before) >> 20);
	if (failures) {
		fprintf(stderr, "exec: stage 2: %d checks FAILED\n", failures);
		exit(1);
	}
	printf("exec: stage 2 (%s) passed\n", libc_name());
	fflush(stdout);
	int root = open("/", O_RDONLY | O_DIRECTORY);
	char self[64];
	snprintf(self, sizeof(self), "exec.%s", other_libc());
	char *args[] = {"exec-stage3", "stage3", NULL};
	char *envp[] = {"STAGE=3", NULL};
	exec_at(root, self, args, envp, 0);
	fprintf(stderr, "exec: FAILED: execveat %s: %s\n", self, strerror(errno));
	exit(1);
}

static void stage3(void)
{
	char exe[64] = {0}, want[64];
	snprintf(want, sizeof(want), "/exec.%s", libc_name());
	check(readlink("/proc/self/exe", exe, sizeof(exe) - 1) > 0 && strcmp(exe, want) == 0,
	      "stage 3: /proc/self/exe is %s (%s)", want, exe);
	check(strcmp(getenv("STAGE"), "3") == 0, "stage 3: STAGE=3");
	if (failures) {
		fprintf(stderr, "exec: stage 3: %d checks FAILED\n", failures);
		exit(1);
	}
	printf("exec: stage 3 (%s) passed\n", libc_name());
	fflush(stdout);
	/* A copy of /args.<libc> written by the program, unlinked, open only through an O_CLOEXEC fd. */
	char path[64];
	snprintf(path, sizeof(path), "/args.%s", libc_name());
	int in = open(path, O_RDONLY), out = open("/tmp/args-copy", O_WRONLY | O_CREAT | O_TRUNC, 0755);
	char buf[65536];
	ssize_t n;
	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			break;
	close(in);
	close(out);
	int fd = open("/tmp/args-copy", O_RDONLY | O_CLOEXEC);
	unlink("/tmp/args-copy");
	char *args[] = {"args", "after", "three", "execs", NULL};
	char *envp[] = {"FOO=fexecve", NULL};
	exec_at(fd, "", args, envp, AT_EMPTY_PATH);
	fprintf(stderr, "exec: FAILED: fexecve %s: %s\n", path, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strcmp(argv[1], "stage2") == 0)
		stage2(argc, argv);
	else if (argc > 1 && strcmp(argv[1], "stage3") == 0)
		stage3();
	else
		stage1();
	return 1;
}
