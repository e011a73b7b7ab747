/* Starting mote-vmm processes: the one place the gateway creates a VM process (the jail will wrap it here).
 */
#include "vmm_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "status.h"

extern char **environ;

/* A copy of fd numbered at least 10, so that the child's dup2 onto 0..3 never clobbers a source. */
static int high_fd(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

int spawn_vmm(const char *const *argv, int ctl_fd, int out_fd, struct spawned *out, struct mote_err *err)
{
	int out_hi = high_fd(out_fd), ctl_hi = ctl_fd >= 0 ? high_fd(ctl_fd) : -1;
	if (out_hi < 0 || (ctl_fd >= 0 && ctl_hi < 0)) {
		int e = errno;
		if (out_hi >= 0)
			close(out_hi);
		return mote_errnof(err, MOTE_STATUS_HOST, e, "cannot start %s", argv[0]);
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_hi, 1);
	posix_spawn_file_actions_adddup2(&fa, out_hi, 2);
	if (ctl_hi >= 0)
		posix_spawn_file_actions_adddup2(&fa, ctl_hi, 3);
	posix_spawn_file_actions_addclosefrom_np(&fa, ctl_hi >= 0 ? 4 : 3);
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					    POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_USEVFORK);
	pid_t pid;
	int r = posix_spawn(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(out_hi);
	if (ctl_hi >= 0)
		close(ctl_hi);
	if (r != 0)
		return mote_errnof(err, MOTE_STATUS_HOST, r, "cannot start %s", argv[0]);
	int pidfd = pidfd_open(pid, 0);
	if (pidfd < 0) {
		int e = errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return mote_errnof(err, MOTE_STATUS_HOST, e, "pidfd_open");
	}
	fcntl(pidfd, F_SETFD, FD_CLOEXEC);
	out->pid = pid;
	out->pidfd = pidfd;
	return 0;
}
