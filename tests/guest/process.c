/* Guest test: one process. fork/vfork/clone fail with ENOSYS (execve works: tests/guest/exec.c); getpid,
 * uname, pipes, signals to self that are ignored. Only meaningful inside the VM (natively fork succeeds). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK_PROGRAM "process"
#include "check.h"

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	errno = 0;
	pid_t p = fork();
	if (p == 0)
		_exit(99);
	check(p == -1 && errno == ENOSYS, "fork fails with ENOSYS (returned %d)", (int)p);

	errno = 0;
	p = vfork();
	if (p == 0)
		_exit(99);
	check(p == -1 && errno == ENOSYS, "vfork fails with ENOSYS (returned %d)", (int)p);

	errno = 0;
	long r = syscall(SYS_clone, (long)SIGCHLD, 0L, 0L, 0L, 0L);
	if (r == 0)
		_exit(99);
	check(r == -1 && errno == ENOSYS, "clone fails with ENOSYS (returned %ld)", r);

	char *argv[] = {"/bin/sh", "-c", "true", NULL};
	char *envp[] = {NULL};
	errno = 0;
	check(execve("/bin/sh", argv, envp) == -1 && errno == ENOENT, "execve of a missing /bin/sh: ENOENT");

	int status;
	errno = 0;
	check(waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD, "waitpid: ECHILD");

	pid_t pid = getpid();
	check(pid > 0, "getpid is %d", (int)pid);
	check(getpid() == pid && syscall(SYS_gettid) == pid, "gettid equals getpid");
	check(getppid() >= 0, "getppid is %d", (int)getppid());
	check(kill(pid, 0) == 0, "kill(self, 0)");
	signal(SIGUSR1, SIG_IGN);
	check(raise(SIGUSR1) == 0, "raising an ignored signal returns");
	check(kill(pid, SIGCHLD) == 0, "SIGCHLD (ignored by default) to self returns");

	struct utsname u;
	check(uname(&u) == 0, "uname");
	check(strcmp(u.sysname, "Linux") == 0, "uname sysname is Linux (%s)", u.sysname);
	check(strcmp(u.machine, "x86_64") == 0, "uname machine is x86_64 (%s)", u.machine);
	check(u.release[0] >= '3' && u.release[0] <= '9', "uname release looks like a Linux version (%s)",
	      u.release);

	int fds[2];
	check(pipe(fds) == 0, "pipe");
	char buf[16] = {0};
	check(write(fds[1], "through", 7) == 7 && read(fds[0], buf, sizeof(buf)) == 7 &&
		  strcmp(buf, "through") == 0,
	      "a pipe carries bytes within the process");
	close(fds[1]);
	check(read(fds[0], buf, sizeof(buf)) == 0, "pipe reads end of file after the write end closes");
	close(fds[0]);

	errno = 0;
	FILE *f = popen("echo hi", "r");
	check(f == NULL, "popen fails (no processes)");
	if (f)
		pclose(f);
	int sys = system("true");
	check(sys != 0, "system() fails (returned %d)", sys);

	if (failures) {
		fprintf(stderr, "process: %d checks FAILED\n", failures);
		return 1;
	}
	printf("process: all checks passed\n");
	return 0;
}
