/* Starting mote-vmm jailed: own namespaces, a tmpfs root holding only its files, a cgroup, no privileges. */
#include "jail.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "status.h"

const char *const mote_jail_step_name[JAIL_T_NSTEPS] = {"cgroup", "idmap", "clone", "join",
							"mounts", "net",   "fork",  "privs"};

/* Where the new root is assembled inside the jail's own mount namespace (nothing appears on the host). */
#define JAIL_STAGE "/tmp"
#define JAIL_MAX_MOUNTS (MOTE_JAIL_MAX_FILES + 8)
#define JAIL_NOFILE 256

enum msg_type { MSG_READY = 1, MSG_ERROR, MSG_EXIT, MSG_SNAP, MSG_SNAP_REQ };

/* One message between the jail's init (or the monitor's process before exec) and the supervisor. */
struct jail_msg {
	uint32_t type;
	int32_t value; /* ERROR: exit status; EXIT: wait status; SNAP: 1 ok, 0 failed */
	uint64_t step_ns[JAIL_T_NSTEPS];
	char text[320];
};

/* One bind mount of the plan: a descriptor opened by the supervisor, and where it goes. */
struct jail_mount {
	int fd;		     /* O_PATH descriptor of the source (checked by the supervisor) */
	int tree;	     /* its detached copy in the jail's mount namespace (open_tree) */
	char path[PATH_MAX]; /* absolute target path inside the jail */
	int is_dir, writable, idmap;
};

/* Everything the child needs, prepared before clone (the child allocates nothing). */
struct jail_plan {
	const struct mote_jail_spec *spec;
	struct jail_mount m[JAIL_MAX_MOUNTS];
	int nm;
	char symlink_path[4][32], symlink_to[4][PATH_MAX]; /* /lib -> usr/lib on merged-/usr hosts */
	int nsym;
	char cwd[PATH_MAX];
	dev_t kvm_rdev;
	int userns_fd; /* for the id-mapped mounts, or -1 */
	uid_t uid;
	gid_t gid;
	int sock;
	struct mote_cgroup *cg; /* NULL when unlimited */
	uint64_t fsize;
	uint64_t t0;
	uint64_t step_ns[JAIL_T_NSTEPS];
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the child side: only system calls and snprintf into its own buffers ---- */

static void send_msg(int sock, const struct jail_msg *m)
{
	while (send(sock, m, sizeof(*m), MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

/* Report a failed setup step to the supervisor and end the child. */
static void __attribute__((noreturn))
child_fail(struct jail_plan *p, int errnum, const char *what, const char *arg)
{
	struct jail_msg m = {.type = MSG_ERROR, .value = MOTE_STATUS_HOST};
	snprintf(m.text, sizeof(m.text), "jail: %s%s%s: %s", what, arg ? " " : "", arg ? arg : "",
		 strerrordesc_np(errnum) ? strerrordesc_np(errnum) : "error");
	send_msg(p->sock, &m);
	_exit(127);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* Close every descriptor but the `n` in `keep` (sorted here in place). */
static void close_all_but(int *keep, int n)
{
	qsort(keep, (size_t)n, sizeof(int), cmp_int);
	unsigned from = 0;
	for (int i = 0; i < n; i++) {
		if (keep[i] < 0 || (unsigned)keep[i] < from)
			continue;
		if ((unsigned)keep[i] > from)
			syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0);
		from = (unsigned)keep[i] + 1;
	}
	syscall(SYS_close_range, from, ~0u, 0);
}

/* mkdir -p of every directory above `path` (and `path` itself when `self`), inside the stage. */
static int mkdirs(const char *stage, const char *path, int self)
{
	char buf[PATH_MAX + 64];
	int n = snprintf(buf, sizeof(buf), "%s%s", stage, path);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	size_t start = strlen(stage) + 1;
	for (size_t i = start; i <= (size_t)n; i++) {
		if (buf[i] != '/' && buf[i] != 0)
			continue;
		if (buf[i] == 0 && !self)
			break;
		char c = buf[i];
		buf[i] = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		buf[i] = c;
	}
	return 0;
}

static const char *bind_stage; /* which call of bind_one failed */

static int bind_one(const struct jail_plan *p, const struct jail_mount *m)
{
	bind_stage = "mountpoint";
	char target[PATH_MAX + 64];
	snprintf(target, sizeof(target), JAIL_STAGE "%s", m->path);
	if (mkdirs(JAIL_STAGE, m->path, m->is_dir) < 0)
		return -1;
	if (!m->is_dir) {
		int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);
		if (fd < 0 && errno != EEXIST)
			return -1;
		if (fd >= 0)
			close(fd);
	}
	int tree = m->tree;
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					      (m->writable ? MOUNT_ATTR_NOEXEC : MOUNT_ATTR_RDONLY)};
	if (m->idmap && p->userns_fd >= 0) {
		attr.attr_set |= MOUNT_ATTR_IDMAP;
		attr.userns_fd = (uint64_t)p->userns_fd;
	}
	bind_stage = "mount_setattr";
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (m->is_dir ? AT_RECURSIVE : 0), &attr,
		    sizeof(attr)) < 0) {
		/* A file system without id-mapped mounts: bind it as it is (permissions decide). */
		attr.attr_set &= ~(uint64_t)MOUNT_ATTR_IDMAP;
		attr.userns_fd = 0;
		if (!(m->idmap &&
		      syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) == 0)) {
			int e = errno;
			close(tree);
			errno = e;
			return -1;
		}
	}
	bind_stage = "move_mount";
	int r = (int)syscall(SYS_move_mount, tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
	int e = errno;
	close(tree);
	errno = e;
	return r;
}

/* Copy every source's mount (still visible at its host path) before the stage covers anything. */
static void copy_sources(struct jail_plan *p)
{
	for (int i = 0; i < p->nm; i++) {
		struct jail_mount *m = &p->m[i];
		m->tree = (int)syscall(SYS_open_tree, AT_FDCWD, m->path,
				       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m->is_dir ? AT_RECURSIVE : 0));
		if (m->tree < 0)
			child_fail(p, errno, "open_tree", m->path);
	}
}

/* Build the new root in a private tmpfs and make it the root. */
static void setup_mounts(struct jail_plan *p)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail(p, errno, "make the mount namespace private", NULL);
	copy_sources(p);
	if (mount("tmpfs", JAIL_STAGE, "tmpfs", MS_NOSUID, "mode=0755,size=64k,nr_inodes=256") < 0)
		child_fail(p, errno, "mount a tmpfs root", NULL);
	for (int i = 0; i < p->nm; i++)
		if (!p->m[i].writable && bind_one(p, &p->m[i]) < 0)
			child_fail(p, errno, bind_stage, p->m[i].path);
	for (int i = 0; i < p->nsym; i++) {
		char at[64];
		snprintf(at, sizeof(at), JAIL_STAGE "%s", p->symlink_path[i]);
		if (mkdirs(JAIL_STAGE, p->symlink_path[i], 0) < 0 || symlink(p->symlink_to[i], at) < 0)
			child_fail(p, errno, "symlink", p->symlink_path[i]);
	}
	if (mkdirs(JAIL_STAGE, "/dev/kvm", 0) < 0 ||
	    mknod(JAIL_STAGE "/dev/kvm", S_IFCHR | 0600, p->kvm_rdev) < 0 ||
	    chown(JAIL_STAGE "/dev/kvm", p->uid, p->gid) < 0)
		child_fail(p, errno, "create", "/dev/kvm");
	/* The monitor's own /proc/self (pagemap for snapshots, fd for attach): the pid directories only. */
	if (mkdir(JAIL_STAGE "/proc", 0555) < 0 ||
	    mount("proc", JAIL_STAGE "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "subset=pid") < 0)
		child_fail(p, errno, "mount", "/proc");
	if (mkdirs(JAIL_STAGE, p->cwd, 1) < 0)
		child_fail(p, errno, "create the working directory", p->cwd);
	/* The writable directory last: it covers what lies under it with the host's own files. */
	for (int i = 0; i < p->nm; i++)
		if (p->m[i].writable && bind_one(p, &p->m[i]) < 0)
			child_fail(p, errno, bind_stage, p->m[i].path);
	if (mount(NULL, JAIL_STAGE, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, NULL) < 0)
		child_fail(p, errno, "make the root read-only", NULL);
	if (chdir(JAIL_STAGE) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		child_fail(p, errno, "pivot_root", NULL);
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		child_fail(p, errno, "detach the host's root", NULL);
	if (chdir(p->cwd) < 0)
		child_fail(p, errno, "chdir", p->cwd);
}

static void setup_net(struct jail_plan *p)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		child_fail(p, errno, "loopback", NULL);
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		child_fail(p, errno, "bring up loopback", NULL);
	close(s);
	char host[32];
	snprintf(host, sizeof(host), "mote-%u", (unsigned)p->uid);
	if (sethostname(host, strlen(host)) < 0)
		child_fail(p, errno, "sethostname", NULL);
}

/* Give up every privilege: groups, gid, uid, all capability sets, and gain none at exec. */
static void drop_privileges(struct jail_plan *p, int dumpable)
{
	if (setgroups(0, NULL) < 0 || setresgid(p->gid, p->gid, p->gid) < 0)
		child_fail(p, errno, "setresgid", NULL);
	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			child_fail(p, errno, "drop the capability bounding set", NULL);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		child_fail(p, errno, "clear the ambient capabilities", NULL);
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		child_fail(p, errno, "setresuid", NULL);
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		child_fail(p, errno, "capset", NULL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(p, errno, "no_new_privs", NULL);
	if (!dumpable)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* Lower a resource limit to `v` (never raise one: the caller's own limits stay the upper bound). */
static void set_limit(struct jail_plan *p, int res, uint64_t v, const char *name)
{
	struct rlimit rl;
	if (getrlimit(res, &rl) < 0)
		child_fail(p, errno, "getrlimit", name);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)v)
		v = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = (rlim_t)v;
	if (setrlimit(res, &rl) < 0)
		child_fail(p, errno, "setrlimit", name);
}

/* The monitor's process: descriptors as the spec says, limits, no privileges, then exec. */
static void __attribute__((noreturn)) exec_vmm(struct jail_plan *p)
{
	const struct mote_jail_spec *s = p->spec;
	uint64_t t = now_ns();
	sigset_t none;
	sigemptyset(&none);
	for (int sig = 1; sig < _NSIG && s->reset_signals; sig++)
		signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Every source first to a number above every target, so that no dup2 clobbers a source. */
	int top = 3;
	for (int i = 0; i < s->nfds; i++)
		if (s->fd_to[i] + 1 > top)
			top = s->fd_to[i] + 1;
	int high[MOTE_JAIL_MAX_FDS];
	for (int i = 0; i < s->nfds; i++)
		if ((high[i] = fcntl(s->fd_from[i], F_DUPFD_CLOEXEC, top)) < 0)
			child_fail(p, errno, "descriptor", NULL);
	p->sock = fcntl(p->sock, F_DUPFD_CLOEXEC, top);
	if (p->sock < 0)
		_exit(127);
	for (int i = 0; i < s->nfds; i++)
		if (dup2(high[i], s->fd_to[i]) < 0)
			child_fail(p, errno, "dup2", NULL);
	/* Close everything but 0-2, the targets and the message socket (close-on-exec). */
	int keep[MOTE_JAIL_MAX_FDS + 4], nk = 0;
	keep[nk++] = 0;
	keep[nk++] = 1;
	keep[nk++] = 2;
	keep[nk++] = p->sock;
	for (int i = 0; i < s->nfds; i++)
		keep[nk++] = s->fd_to[i];
	close_all_but(keep, nk);
	set_limit(p, RLIMIT_NOFILE, JAIL_NOFILE, "nofile");
	set_limit(p, RLIMIT_FSIZE, p->fsize, "fsize");
	set_limit(p, RLIMIT_CORE, 0, "core");
	drop_privileges(p, 1);
	p->step_ns[JAIL_T_PRIVS] = now_ns() - t;
	struct jail_msg m = {.type = MSG_READY};
	memcpy(m.step_ns, p->step_ns, sizeof(m.step_ns));
	send_msg(p->sock, &m);
	execve(s->vmm, (char *const *)s->argv, (char *const *)s->envp);
	child_fail(p, errno, "cannot execute", s->vmm);
}

/* The jail's init (pid 1 of its namespace): relays snapshot requests and mote-vmm's end. */
static void __attribute__((noreturn)) init_loop(struct jail_plan *p, pid_t vmm)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		kill(vmm, SIGKILL);
		_exit(127);
	}
	struct pollfd pf[2] = {{.fd = p->sock, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
	for (;;) {
		if (poll(pf, 2, -1) < 0)
			continue;
		if (pf[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
				continue;
			if (si.ssi_signo == SIGCHLD) {
				int st;
				pid_t r;
				while ((r = waitpid(-1, &st, WNOHANG)) > 0)
					if (r == vmm) {
						struct jail_msg m = {.type = MSG_EXIT, .value = st};
						send_msg(p->sock, &m);
						_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
					}
			} else if ((pid_t)si.ssi_pid == vmm && si.ssi_code == SI_QUEUE &&
				   si.ssi_int == MOTE_SNAPSHOT_REQUEST) {
				struct jail_msg m = {.type = MSG_SNAP, .value = si.ssi_signo == SIGUSR1};
				send_msg(p->sock, &m);
			}
		}
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			struct jail_msg m;
			ssize_t n = recv(p->sock, &m, sizeof(m), 0);
			if (n == (ssize_t)sizeof(m) && m.type == MSG_SNAP_REQ)
				sigqueue(vmm, SIGUSR1, (union sigval){.sival_int = MOTE_SNAPSHOT_REQUEST});
			else if (n <= 0 && !(n < 0 && errno == EINTR)) {
				/* The supervisor is gone: the VM goes with it. */
				kill(vmm, SIGKILL);
				pf[0].fd = -1;
			}
		}
	}
}

static void __attribute__((noreturn)) jail_child(struct jail_plan *p)
{
	uint64_t t = now_ns();
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	p->step_ns[JAIL_T_CLONE] = t - p->t0;
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (p->cg && mote_cgroup_join(p->cg) < 0)
		child_fail(p, errno, "join the cgroup",
			   p->cg->dir[0][0] ? p->cg->dir[0] : p->cg->dir[CG_MEMORY]);
	if (unshare(CLONE_NEWCGROUP) < 0)
		child_fail(p, errno, "unshare the cgroup namespace", NULL);
	uint64_t t2 = now_ns();
	p->step_ns[JAIL_T_JOIN] = t2 - t;
	setup_mounts(p);
	uint64_t t3 = now_ns();
	p->step_ns[JAIL_T_MOUNTS] = t3 - t2;
	setup_net(p);
	uint64_t t4 = now_ns();
	p->step_ns[JAIL_T_NET] = t4 - t3;
	for (int i = 0; i < p->nm; i++)
		close(p->m[i].fd);
	if (p->userns_fd >= 0)
		close(p->userns_fd);
	pid_t vmm = fork();
	if (vmm < 0)
		child_fail(p, errno, "fork", NULL);
	if (vmm == 0) {
		p->step_ns[JAIL_T_FORK] = now_ns() - t4;
		exec_vmm(p);
	}
	/* init keeps only its socket and gives up its privileges too. */
	close_all_but(&p->sock, 1);
	drop_privileges(p, 0);
	init_loop(p, vmm);
}

/* ---- the supervisor's side ---- */

int mote_parse_uid_range(const char *text, uid_t *lo, uid_t *hi)
{
	char *end;
	errno = 0;
	if (!text || !(*text >= '0' && *text <= '9'))
		return -1;
	unsigned long a = strtoul(text, &end, 10);
	if (errno || *end != '-' || !(end[1] >= '0' && end[1] <= '9'))
		return -1;
	unsigned long b = strtoul(end + 1, &end, 10);
	if (errno || *end || a < 1 || b < a || b >= 0x7fffffffUL)
		return -1;
	*lo = (uid_t)a;
	*hi = (uid_t)b;
	return 0;
}

int mote_jail_vmm_is_dynamic(const char *path)
{
	/* ELF64 header: e_phoff at 32, e_phentsize at 54, e_phnum at 56; a PT_INTERP (3) entry means dynamic.
	 */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	unsigned char eh[64];
	int dyn = 0;
	if (pread(fd, eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) && !memcmp(eh, "\177ELF", 4) && eh[4] == 2) {
		uint64_t phoff;
		uint16_t phentsize, phnum;
		memcpy(&phoff, eh + 32, 8);
		memcpy(&phentsize, eh + 54, 2);
		memcpy(&phnum, eh + 56, 2);
		for (unsigned i = 0; i < phnum && i < 64 && phentsize >= 4; i++) {
			uint32_t type;
			if (pread(fd, &type, 4, (off_t)(phoff + (uint64_t)i * phentsize)) == 4 && type == 3)
				dyn = 1;
		}
	}
	close(fd);
	return dyn;
}

/* The process's cgroup hierarchies, found once. */
static struct mote_cgroup_sys *cgroup_sys(void)
{
	static struct mote_cgroup_sys sys;
	static int done;
	if (!done) {
		mote_cgroup_detect(&sys);
		done = 1;
	}
	return &sys;
}

void mote_jail_cleanup_stale(void)
{
	mote_cgroup_remove_stale(cgroup_sys(), 1);
}

/* `path` made absolute against the working directory (not resolved: the jail mirrors it as given). */
static int absolute(const char *cwd, const char *path, char *out, size_t size)
{
	int n = path[0] == '/' ? snprintf(out, size, "%s", path)
			       : snprintf(out, size, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", path);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/*
 * Add a bind of host `path` to the plan. An input file that cannot be
 * opened is left out: mote-vmm then fails on it inside the jail with the
 * same message and status as unjailed (a missing file is missing there too).
 * One that is not a regular file (a FIFO, a device, a directory) is bound
 * as it is, nodev, so that mote-vmm refuses it with its own message.
 */
static int plan_add(struct jail_plan *p, const char *path, int is_dir, int writable, struct mote_err *err)
{
	if (p->nm == JAIL_MAX_MOUNTS)
		return mote_errf(err, MOTE_STATUS_USAGE, "jail: too many files");
	struct jail_mount *m = &p->m[p->nm];
	if (absolute(p->cwd, path, m->path, sizeof(m->path)) < 0)
		return mote_errf(err, MOTE_STATUS_USAGE, "jail: path too long: %s", path);
	m->fd = open(m->path, O_PATH | O_CLOEXEC);
	if (m->fd < 0) {
		if (writable || is_dir)
			return mote_errnof(err, errno == ENOENT ? MOTE_STATUS_NOT_FOUND : MOTE_STATUS_HOST,
					   errno, "jail: %s", m->path);
		return 0;
	}
	struct stat st;
	if (fstat(m->fd, &st) < 0 || (is_dir && !S_ISDIR(st.st_mode))) {
		close(m->fd);
		return mote_errf(err, MOTE_STATUS_USAGE, "jail: %s is not a directory", m->path);
	}
	m->is_dir = S_ISDIR(st.st_mode);
	m->writable = writable && m->is_dir;
	/* Root-owned files the VM's uid could not read or write otherwise are mapped to it. */
	m->idmap = st.st_uid == 0 && (writable || !(st.st_mode & S_IROTH));
	p->nm++;
	return 0;
}

/* The host's library directories, for a dynamically linked (sanitized) mote-vmm. */
static int plan_libraries(struct jail_plan *p, struct mote_err *err)
{
	static const char *const dirs[] = {"/usr/lib", "/usr/lib64", "/lib", "/lib64"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		struct stat st;
		if (lstat(dirs[i], &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlink(dirs[i], p->symlink_to[p->nsym], PATH_MAX - 1);
			if (n <= 0)
				continue;
			p->symlink_to[p->nsym][n] = 0;
			snprintf(p->symlink_path[p->nsym], sizeof(p->symlink_path[0]), "%s", dirs[i]);
			p->nsym++;
		} else if (S_ISDIR(st.st_mode) && plan_add(p, dirs[i], 1, 0, err) < 0) {
			return -1;
		}
	}
	return 0;
}

/* A user namespace mapping uid/gid 0 to the VM's, for id-mapped mounts. Returns its fd or -1. */
static int idmap_userns(uid_t uid, gid_t gid, struct mote_err *err)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "jail: pipe");
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0) {
		char c;
		close(pipefd[1]);
		while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(pipefd[0]);
	if (pid < 0) {
		close(pipefd[1]);
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "jail: user namespace");
	}
	char path[64], map[64];
	int ok = 1, fd = -1;
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
	int m = open(path, O_WRONLY | O_CLOEXEC);
	ok = m >= 0 && write(m, map, strlen(map)) == (ssize_t)strlen(map);
	if (m >= 0)
		close(m);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
	m = ok ? open(path, O_WRONLY | O_CLOEXEC) : -1;
	ok = m >= 0 && write(m, map, strlen(map)) == (ssize_t)strlen(map);
	if (m >= 0)
		close(m);
	int e = errno;
	if (ok) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		e = errno;
	}
	close(pipefd[1]);
	waitpid(pid, NULL, 0);
	if (fd < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, e, "jail: id-mapped user namespace");
	return fd;
}

/* Take a uid from the range: its cgroup (named by the uid) is the lock that makes it this VM's. */
static int take_uid(const struct mote_jail_spec *s, struct mote_jail *j, struct mote_err *err)
{
	struct mote_cgroup_sys *sys = cgroup_sys();
	uid_t lo = s->uid_lo ? s->uid_lo : MOTE_JAIL_UID_LO, hi = s->uid_hi ? s->uid_hi : MOTE_JAIL_UID_HI;
	uint64_t span = (uint64_t)hi - lo + 1;
	uint64_t start = ((uint64_t)getpid() * 2654435761ull + now_ns() / 1000) % span;
	if (sys->kind == MOTE_CGROUP_NONE) {
		if (!s->allow_unlimited)
			return mote_errf(
			    err, MOTE_STATUS_HOST,
			    "jail: cannot limit the VM (%s); --allow-unlimited runs it without limits",
			    sys->why);
		j->uid = (uid_t)(lo + start);
		j->limited = 0;
		return 0;
	}
	for (uint64_t k = 0; k < span && k < 4096; k++) {
		char name[16];
		uid_t uid = (uid_t)(lo + (start + k) % span);
		snprintf(name, sizeof(name), "%u", (unsigned)uid);
		int r = mote_cgroup_create(sys, name, &s->limits, &j->cg, err);
		if (r == -2)
			continue;
		if (r < 0)
			return -1;
		j->uid = uid;
		j->limited = 1;
		return 0;
	}
	return mote_errf(err, MOTE_STATUS_HOST, "jail: no free uid in %u-%u (one per running VM)",
			 (unsigned)lo, (unsigned)hi);
}

static void close_plan(struct jail_plan *p)
{
	for (int i = 0; i < p->nm; i++)
		if (p->m[i].fd >= 0)
			close(p->m[i].fd);
	if (p->userns_fd >= 0)
		close(p->userns_fd);
	p->nm = 0;
	p->userns_fd = -1;
}

/* Receive one message; the sender's pid (in our namespace) goes to *pid when given. */
static ssize_t recv_msg(int sock, struct jail_msg *m, pid_t *pid)
{
	char cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = {m, sizeof(*m)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t n;
	while ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n > 0 && pid)
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
				struct ucred cr;
				memcpy(&cr, CMSG_DATA(c), sizeof(cr));
				*pid = cr.pid;
			}
	return n;
}

int mote_jail_start(const struct mote_jail_spec *s, struct mote_jail *j, struct mote_err *err)
{
	uint64_t t0 = now_ns();
	static struct jail_plan plan; /* large; one start at a time per process */
	struct jail_plan *p = &plan;
	memset(p, 0, sizeof(*p));
	memset(j, 0, sizeof(*j));
	j->sock = -1;
	j->vmm_status = -1;
	p->userns_fd = -1;
	p->spec = s;
	if (!s->vmm || s->vmm[0] != '/')
		return mote_errf(err, MOTE_STATUS_USAGE, "jail: the monitor's path must be absolute");
	if (s->nfiles > MOTE_JAIL_MAX_FILES || s->nfds > MOTE_JAIL_MAX_FDS)
		return mote_errf(err, MOTE_STATUS_USAGE, "jail: too many files or descriptors");
	if (!getcwd(p->cwd, sizeof(p->cwd)))
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "jail: getcwd");
	struct stat kvm;
	if (stat("/dev/kvm", &kvm) < 0 || !S_ISCHR(kvm.st_mode))
		return mote_errnof(err, MOTE_STATUS_HOST, errno ? errno : ENODEV, "jail: /dev/kvm");
	p->kvm_rdev = kvm.st_rdev;
	/* Descriptors 0-2 valid first (as mote-vmm would make them), so that nothing opened here becomes one.
	 */
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", O_RDWR);
			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
	mote_jail_cleanup_stale();
	if (take_uid(s, j, err) < 0)
		return -1;
	p->uid = j->uid;
	p->gid = (gid_t)j->uid;
	p->cg = j->limited ? &j->cg : NULL;
	uint64_t t1 = now_ns();
	j->step_ns[JAIL_T_CGROUP] = t1 - t0;

	int bad = plan_add(p, s->vmm, 0, 0, err) < 0;
	for (int i = 0; !bad && i < s->nfiles; i++)
		bad = plan_add(p, s->files[i], 0, 0, err) < 0;
	if (!bad && s->rw_dir) {
		/*
		 * The snapshot directory, writable. Where mote-vmm could not write unjailed either, it is
		 * left out and mote-vmm fails there as it would (a missing directory is missing in the jail
		 * too; a regular file is bound as one, read-only); the host's root, /proc, /sys and /dev
		 * are never bound writable: a snapshot there fails in the jail's own read-only root.
		 */
		char abs[PATH_MAX];
		struct stat st;
		int special = absolute(p->cwd, s->rw_dir, abs, sizeof(abs)) < 0 || !strcmp(abs, "/");
		static const char *const never[] = {"/proc", "/sys", "/dev"};
		for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
			size_t n = strlen(never[i]);
			special |= !strncmp(abs, never[i], n) && (abs[n] == 0 || abs[n] == '/');
		}
		if (!special && stat(abs, &st) == 0)
			bad = plan_add(p, s->rw_dir, 0, S_ISDIR(st.st_mode), err) < 0;
	}
	if (!bad && mote_jail_vmm_is_dynamic(s->vmm))
		bad = plan_libraries(p, err) < 0;
	int need_idmap = 0;
	for (int i = 0; i < p->nm; i++)
		need_idmap |= p->m[i].idmap;
	if (!bad && need_idmap && (p->userns_fd = idmap_userns(p->uid, p->gid, err)) < 0)
		bad = 1;
	uint64_t t2 = now_ns();
	j->step_ns[JAIL_T_IDMAP] = t2 - t1;
	p->fsize = s->fsize_max ? s->fsize_max : (4ull << 30) + s->limits.mem_bytes;
	int sv[2] = {-1, -1};
	if (!bad && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		bad = mote_errnof(err, MOTE_STATUS_HOST, errno, "jail: socketpair") < 0;
	int one = 1;
	if (!bad)
		setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	pid_t pid = -1;
	if (!bad) {
		p->sock = sv[1];
		p->t0 = now_ns();
		pid = (pid_t)syscall(SYS_clone,
				     CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
					 SIGCHLD,
				     0, 0, 0, 0);
		if (pid == 0)
			jail_child(p);
		if (pid < 0)
			bad =
			    mote_errnof(err, MOTE_STATUS_HOST, errno, "jail: clone with new namespaces") < 0;
	}
	if (sv[1] >= 0)
		close(sv[1]);
	close_plan(p);
	if (bad) {
		if (sv[0] >= 0)
			close(sv[0]);
		if (j->limited)
			mote_cgroup_remove(&j->cg);
		return -1;
	}
	j->pid = pid;
	j->sock = sv[0];
	struct jail_msg m;
	pid_t from = 0;
	ssize_t n = recv_msg(j->sock, &m, &from);
	if (n == (ssize_t)sizeof(m) && m.type == MSG_READY && from > 0) {
		for (int i = JAIL_T_CLONE; i < JAIL_T_NSTEPS; i++)
			j->step_ns[i] = m.step_ns[i];
		j->vmm_pid = from;
		j->total_ns = now_ns() - t0;
		return 0;
	}
	if (n == (ssize_t)sizeof(m) && m.type == MSG_ERROR) {
		m.text[sizeof(m.text) - 1] = 0;
		mote_errf(err, m.value, "%s", m.text);
	} else if (n == (ssize_t)sizeof(m) && m.type == MSG_EXIT) {
		int st = m.value;
		if (WIFSIGNALED(st))
			mote_errf(err, MOTE_STATUS_HOST,
				  "jail: mote-vmm was killed by signal %d during the setup", WTERMSIG(st));
		else
			mote_errf(err, MOTE_STATUS_HOST, "jail: mote-vmm exited %d during the setup",
				  WEXITSTATUS(st));
	} else {
		mote_errf(err, MOTE_STATUS_HOST, "jail: its init ended during the setup (%s)",
			  n < 0	   ? strerror(errno)
			  : n == 0 ? "no message"
				   : "a short message");
	}
	int st;
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	close(j->sock);
	j->sock = -1;
	if (j->limited)
		mote_cgroup_remove(&j->cg);
	return -1;
}

int mote_jail_next_event(struct mote_jail *j, struct mote_err *err)
{
	struct jail_msg m;
	ssize_t n = recv_msg(j->sock, &m, NULL);
	if (n <= 0)
		return JAIL_EV_LOST;
	if (n != (ssize_t)sizeof(m))
		return JAIL_EV_NONE;
	switch (m.type) {
	case MSG_EXIT: j->vmm_status = m.value; return JAIL_EV_EXIT;
	case MSG_SNAP: return m.value ? JAIL_EV_SNAP_OK : JAIL_EV_SNAP_FAILED;
	case MSG_ERROR:
		m.text[sizeof(m.text) - 1] = 0;
		mote_errf(err, MOTE_STATUS_HOST, "%s", m.text);
		return JAIL_EV_EXEC_FAILED;
	default: return JAIL_EV_NONE;
	}
}

int mote_jail_snapshot(struct mote_jail *j)
{
	struct jail_msg m = {.type = MSG_SNAP_REQ};
	return send(j->sock, &m, sizeof(m), MSG_NOSIGNAL) == (ssize_t)sizeof(m) ? 0 : -1;
}

int mote_jail_finish(struct mote_jail *j, int *status, int *oom_killed)
{
	int st = 0;
	while (waitpid(j->pid, &st, 0) < 0 && errno == EINTR)
		;
	/* An EXIT message may still be queued behind the others. */
	struct mote_err ignored;
	while (j->vmm_status < 0 && j->sock >= 0) {
		struct pollfd pf = {.fd = j->sock, .events = POLLIN};
		if (poll(&pf, 1, 0) <= 0 || mote_jail_next_event(j, &ignored) == JAIL_EV_LOST)
			break;
	}
	if (j->sock >= 0)
		close(j->sock);
	j->sock = -1;
	*status = j->vmm_status >= 0 ? j->vmm_status : st;
	*oom_killed = 0;
	if (j->limited) {
		*oom_killed =
		    WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL && mote_cgroup_oom_kills(&j->cg) > 0;
		mote_cgroup_remove(&j->cg);
		j->limited = 0;
	}
	return 0;
}
