/* Starting mote-vmm processes: the one place the gateway creates a VM process, jailed (lib/jail.h). */
#include "vmm_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <spawn.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jail.h"
#include "size.h"
#include "snapfile.h"
#include "status.h"

extern char **environ;

/* A copy of fd numbered at least 10, so that the child's dup2 onto 0..3 never clobbers a source. */
static int high_fd(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

/* The value after option `flag` in argv (before "--"), or NULL. */
static const char *option(const char *const *argv, const char *flag)
{
	for (int i = 1; argv[i] && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], flag) && argv[i + 1])
			return argv[i + 1];
	return NULL;
}

/* Guest RAM of a restored snapshot (its memory file's header), or 0. */
static uint64_t snapshot_ram(const char *mem_file)
{
	struct snap_mem_header h;
	int fd = open(mem_file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	uint64_t ram = 0;
	if (fd >= 0 && pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) && h.mem_size <= (64ull << 30))
		ram = h.mem_size + h.rootfs_map_size;
	if (fd >= 0)
		close(fd);
	return ram;
}

/*
 * The jailed start: the files argv names are bound into the jail, fds 0-3
 * set up there as unjailed, and --die-with-parent dropped (the jail's init
 * is mote-vmm's parent there; the init dies with the gateway instead).
 */
static int spawn_jailed(const char *const *argv, int ctl_fd, int out_fd, struct spawned *out,
			struct mote_err *err)
{
	static const char *vargv[64];
	static char mem_file[PATH_MAX + 8], out_dir[PATH_MAX];
	int n = 0;
	for (int i = 0; argv[i] && n < 63; i++)
		if (strcmp(argv[i], "--die-with-parent") != 0)
			vargv[n++] = argv[i];
	vargv[n] = NULL;
	static struct mote_jail_spec spec;
	memset(&spec, 0, sizeof(spec));
	spec.vmm = argv[0];
	spec.argv = vargv;
	static const char *const no_env[] = {NULL};
	extern char **environ;
	static const char *env[4];
	int ne = 0;
	for (char **e = environ; *e && ne < 3; e++)
		if (!strncmp(*e, "ASAN_OPTIONS=", 13) || !strncmp(*e, "UBSAN_OPTIONS=", 14) ||
		    !strncmp(*e, "LSAN_OPTIONS=", 13))
			env[ne++] = *e;
	env[ne] = NULL;
	spec.envp = ne ? env : no_env;
	const char *kernel = option(argv, "--kernel"), *rootfs = option(argv, "--rootfs"),
		   *restore = option(argv, "--restore"), *snapshot = option(argv, "--snapshot"),
		   *mem = option(argv, "--mem"), *layer = option(argv, "--layer");
	uint64_t ram = 64ull << 20;
	if (kernel)
		spec.files[spec.nfiles++] = kernel;
	if (rootfs)
		spec.files[spec.nfiles++] = rootfs;
	if (restore) {
		snprintf(mem_file, sizeof(mem_file), "%s.mem", restore);
		spec.files[spec.nfiles++] = restore;
		spec.files[spec.nfiles++] = mem_file;
		ram = snapshot_ram(mem_file);
	}
	if (layer)
		spec.files[spec.nfiles++] = layer;
	if (mem)
		mote_parse_size(mem, &ram);
	if (snapshot) {
		snprintf(out_dir, sizeof(out_dir), "%s", snapshot);
		spec.rw_dir = dirname(out_dir);
	}
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "/dev/null");
	spec.fd_from[0] = null_fd, spec.fd_to[0] = 0;
	spec.fd_from[1] = out_fd, spec.fd_to[1] = 1;
	spec.fd_from[2] = out_fd, spec.fd_to[2] = 2;
	spec.nfds = 3;
	if (ctl_fd >= 0) {
		spec.fd_from[3] = ctl_fd, spec.fd_to[3] = 3;
		spec.nfds = 4;
	}
	/* The function's --mem is the base's RAM, so the limit follows it. */
	spec.limits.mem_bytes = ram + (mote_jail_vmm_is_dynamic(argv[0]) ? MOTE_JAIL_MEM_OVERHEAD_SANITIZED
									 : MOTE_JAIL_MEM_OVERHEAD);
	spec.limits.pids_max = 64;
	spec.reset_signals = 1;
	struct mote_jail *j = calloc(1, sizeof(*j));
	if (!j) {
		close(null_fd);
		return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
	}
	int r = mote_jail_start(&spec, j, err);
	close(null_fd);
	if (r < 0) {
		free(j);
		return -1;
	}
	int pidfd = pidfd_open(j->pid, 0);
	if (pidfd < 0) {
		int e = errno, st, oom;
		kill(j->pid, SIGKILL);
		mote_jail_finish(j, &st, &oom);
		free(j);
		return mote_errnof(err, MOTE_STATUS_HOST, e, "pidfd_open");
	}
	fcntl(pidfd, F_SETFD, FD_CLOEXEC);
	out->pid = j->pid;
	out->vmm_pid = j->vmm_pid;
	out->pidfd = pidfd;
	out->jail = j;
	return 0;
}

pid_t spawn_wait(struct spawned *s, int *status, int options)
{
	int st = 0;
	if (!s->jail) {
		pid_t r = waitpid(s->pid, &st, options);
		if (r > 0 && status)
			*status = st;
		return r;
	}
	if (options & WNOHANG) {
		siginfo_t si = {0};
		if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
			return -1;
		if (si.si_pid == 0)
			return 0;
	}
	int oom;
	mote_jail_finish(s->jail, &st, &oom);
	free(s->jail);
	s->jail = NULL;
	if (status)
		*status = st;
	return s->pid;
}

int spawn_set_cpu(const struct spawned *s, uint64_t quota_us, unsigned weight, struct mote_err *err)
{
	if (!quota_us && !weight)
		return 0;
	if (!s->jail || !s->jail->limited)
		return 1;
	return mote_cgroup_set_cpu(&s->jail->cg, quota_us, 0, weight, err);
}

int spawn_vmm(const char *const *argv, int ctl_fd, int out_fd, struct spawned *out, struct mote_err *err)
{
	out->jail = NULL;
	if (geteuid() == 0)
		return spawn_jailed(argv, ctl_fd, out_fd, out, err);
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
	out->pid = out->vmm_pid = pid;
	out->pidfd = pidfd;
	return 0;
}
