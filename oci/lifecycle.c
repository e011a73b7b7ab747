/* mote-oci create/start/run/kill/delete/pause/resume: a waiting process per container that becomes mote-vmm.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "elf.h"
#include "file.h"
#include "oci.h"
#include "rootfs.h"
#include "status.h"

/* Everything create found out before forking: the spec, the image and mote-vmm's command line. */
struct bundle {
	char dir[PATH_MAX], rootfs[PATH_MAX], image[PATH_MAX], kernel[PATH_MAX], vmm[PATH_MAX];
	char exec_path[PATH_MAX], mem_arg[32];
	struct oci_spec spec;
	struct oci_image img;
	json_t *rootfs_annotations;
	const char **vargv;
};

struct create_opts {
	const char *bundle, *pid_file, *console_socket;
	int preserve_fds, detach, no_pivot, keep;
};

static int read_file(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (64 << 20)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	ssize_t n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	close(fd);
	if (n < 0) {
		free(buf);
		return -1;
	}
	buf[n] = 0;
	*out = buf;
	*len = (size_t)n;
	return 0;
}

/* Load config.json and, if there is one, the rootfs's /.mote/annotations.json. */
static int bundle_load(const char *dir, struct bundle *b, struct mote_err *err)
{
	memset(b, 0, sizeof(*b));
	if (!realpath(dir, b->dir))
		return mote_errnof(err, OCI_STATUS_NO_CONFIG, errno, "bundle %s", dir);
	char path[PATH_MAX + 16], *text;
	size_t len;
	snprintf(path, sizeof(path), "%s/config.json", b->dir);
	if (read_file(path, &text, &len) < 0)
		return mote_errnof(err, OCI_STATUS_NO_CONFIG, errno, "bundle %s: config.json", b->dir);
	int r = oci_spec_parse(text, len, &b->spec, err);
	free(text);
	if (r < 0) {
		snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg), " (bundle %s)",
			 b->dir);
		return -1;
	}
	const char *rp = b->spec.root_path;
	if (rp[0] == '/')
		snprintf(b->rootfs, sizeof(b->rootfs), "%s", rp);
	else
		snprintf(b->rootfs, sizeof(b->rootfs), "%s/%s", b->dir, rp);
	snprintf(path, sizeof(path), "%s/.mote/annotations.json", b->rootfs);
	if (read_file(path, &text, &len) == 0) {
		json_error_t jerr;
		b->rootfs_annotations = json_loadb(text, len, 0, &jerr);
		free(text);
		if (!b->rootfs_annotations)
			return mote_errf(err, OCI_STATUS_BAD_ANNOTATION,
					 "%s: not valid JSON: line %d: %.200s", path, jerr.line, jerr.text);
	}
	return oci_image_from(b->spec.annotations, b->rootfs_annotations, &b->img, err);
}

static void bundle_free(struct bundle *b)
{
	free(b->vargv);
	json_decref(b->rootfs_annotations);
	oci_spec_free(&b->spec);
}

static const char *spec_env(const struct oci_spec *s, const char *key)
{
	size_t n = strlen(key);
	for (int i = 0; i < s->nenv; i++)
		if (!strncmp(s->env[i], key, n) && s->env[i][n] == '=')
			return s->env[i] + n + 1;
	return NULL;
}

/* The program's path in the guest: org.mote.program, or args[0] (looked up in the guest's PATH). */
static int find_program(struct bundle *b, struct mote_err *err)
{
	const char *p = b->img.program ? b->img.program : b->spec.args[0];
	char host[PATH_MAX * 2];
	struct stat st;
	if (strchr(p, '/')) {
		snprintf(b->exec_path, sizeof(b->exec_path), "%s%s", p[0] == '/' ? "" : "/", p);
	} else {
		const char *path = spec_env(&b->spec, "PATH");
		char dirs[4096];
		snprintf(dirs, sizeof(dirs), "%s",
			 path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
		b->exec_path[0] = 0;
		for (char *save, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
			snprintf(host, sizeof(host), "%s/%s/%s", b->rootfs, d, p);
			if (lstat(host, &st) == 0) {
				snprintf(b->exec_path, sizeof(b->exec_path), "%s/%s", d, p);
				break;
			}
		}
		if (!b->exec_path[0])
			return mote_errf(err, MOTE_STATUS_NOT_FOUND,
					 "program %s: not found in the guest's PATH in %s", p, b->rootfs);
	}
	snprintf(host, sizeof(host), "%s%s", b->rootfs, b->exec_path);
	if (lstat(host, &st) < 0)
		return mote_errf(err, MOTE_STATUS_NOT_FOUND, "program %s: no such file in the rootfs %s",
				 b->exec_path, b->rootfs);
	if (S_ISLNK(st.st_mode))
		return 0; /* resolved by the guest (busybox applets) */
	int fd = mote_open_regular(host, &st);
	if (fd < 0)
		return mote_errf(err, MOTE_STATUS_UNSUPPORTED, "program %s: not a regular file",
				 b->exec_path);
	void *m = st.st_size ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	close(fd);
	if (m == MAP_FAILED)
		return mote_errf(err, MOTE_STATUS_NOT_ELF,
				 "program %s: empty or unreadable, not an ELF executable", b->exec_path);
	struct mote_elf_info info;
	int r = mote_elf_parse(m, (size_t)st.st_size, &info);
	munmap(m, (size_t)st.st_size);
	if (r == MOTE_ELF_DYNAMIC)
		return mote_errf(
		    err, MOTE_STATUS_DYNAMIC,
		    "program %s: dynamically linked (PT_INTERP %s); mote runs static programs only",
		    b->exec_path, info.interp);
	if (r != MOTE_ELF_OK)
		return mote_errf(err, r == MOTE_ELF_TRUNCATED ? MOTE_STATUS_TRUNCATED : MOTE_STATUS_NOT_ELF,
				 "program %s: %s", b->exec_path, mote_elf_strerror(r));
	return 0;
}

/*
 * Limits above this host's hard limits, where mote-oci may not raise them (no CAP_SYS_RESOURCE, as in
 * many sandboxes; engines ask for nofile 1048576): kept at the hard limit, with a warning, instead of
 * failing the container. The container's process inherits a limit raised here.
 */
static void fit_rlimits(struct oci_spec *s)
{
	for (int i = 0; i < s->nrlimits; i++) {
		struct oci_rlimit *r = &s->rlimits[i];
		struct rlimit cur;
		if (getrlimit(r->resource, &cur) < 0 || cur.rlim_max == RLIM_INFINITY ||
		    r->hard <= cur.rlim_max)
			continue;
		struct rlimit want = {.rlim_cur = cur.rlim_cur, .rlim_max = r->hard};
		if (setrlimit(r->resource, &want) == 0)
			continue;
		oci_log(
		    "warning",
		    "process.rlimits: resource %d hard limit %llu is above this host's %llu: kept at %llu",
		    r->resource, (unsigned long long)r->hard, (unsigned long long)cur.rlim_max,
		    (unsigned long long)cur.rlim_max);
		r->hard = cur.rlim_max;
		if (r->soft > r->hard)
			r->soft = r->hard;
	}
}

/* Everything that can be checked before a process exists; then mote-vmm's argv. */
static int bundle_prepare(struct bundle *b, const struct create_opts *o, struct mote_err *err)
{
	const struct oci_spec *s = &b->spec;
	fit_rlimits(&b->spec);
	for (int i = 0; i < s->nwarnings; i++)
		oci_log("warning", "%s", s->warnings[i]);
	if (s->root_readonly == 0)
		oci_log("debug", "root.readonly false: the guest's writes stay in its memory either way");
	for (int i = 0; i < s->nns; i++)
		if (s->ns[i].clone_flag == CLONE_NEWUSER)
			return mote_errf(
			    err, OCI_STATUS_BAD_CONFIG,
			    "config.json: linux.namespaces: a user namespace is not supported (mote-vmm "
			    "needs /dev/kvm)");
	struct stat st;
	if (stat(b->rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
		return mote_errf(err, MOTE_STATUS_NOT_FOUND, "root.path %s: not a directory", b->rootfs);
	if (find_program(b, err) < 0)
		return -1;
	if (b->img.kernel) {
		snprintf(b->kernel, sizeof(b->kernel), "%s%s", b->rootfs, b->img.kernel);
		int fd = mote_open_regular(b->kernel, &st);
		if (fd < 0)
			return mote_errf(err, MOTE_STATUS_NOT_FOUND,
					 "annotation org.mote.kernel %s: no such regular file in the rootfs",
					 b->img.kernel);
		close(fd);
	} else if (mote_find_beside_self("mote-kernel", b->kernel, sizeof(b->kernel)) < 0) {
		return mote_errf(err, MOTE_STATUS_HOST, "cannot find mote-kernel beside mote-oci");
	}
	const char *vmm = getenv("MOTE_OCI_VMM");
	if (vmm && *vmm)
		snprintf(b->vmm, sizeof(b->vmm), "%s", vmm);
	else if (mote_find_beside_self("mote-vmm", b->vmm, sizeof(b->vmm)) < 0)
		return mote_errf(err, MOTE_STATUS_HOST, "cannot find mote-vmm beside mote-oci");

	/* mote-vmm --kernel K --rootfs I --mem M [--keep-fd N]... [--cwd D] [--env E]... -- EXEC ARGS... */
	char *cmdline_copy = NULL;
	int ncmd = 0;
	if (b->img.cmdline && s->nargs <= 1) {
		cmdline_copy = strdup(b->img.cmdline);
		for (char *p = cmdline_copy; p && *p; p++)
			ncmd += *p == ' ';
		ncmd++;
	}
	size_t max = 16 + 2 * (size_t)s->nenv + 2 * (size_t)o->preserve_fds + (size_t)s->nargs + (size_t)ncmd;
	b->vargv = calloc(max, sizeof(char *));
	if (!b->vargv)
		return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
	int n = 0;
	snprintf(b->mem_arg, sizeof(b->mem_arg), "%llu", (unsigned long long)b->img.mem);
	b->vargv[n++] = b->vmm;
	b->vargv[n++] = "--kernel";
	b->vargv[n++] = b->kernel;
	b->vargv[n++] = "--rootfs";
	b->vargv[n++] = b->image;
	b->vargv[n++] = "--mem";
	b->vargv[n++] = b->mem_arg;
	for (int i = 0; i < o->preserve_fds; i++) {
		static char fdnum[64][12];
		if (i >= 64)
			break;
		snprintf(fdnum[i], sizeof(fdnum[i]), "%d", 3 + i);
		b->vargv[n++] = "--keep-fd";
		b->vargv[n++] = fdnum[i];
	}
	if (strcmp(s->cwd, "/")) {
		b->vargv[n++] = "--cwd";
		b->vargv[n++] = s->cwd;
	}
	for (int i = 0; i < s->nenv; i++) {
		b->vargv[n++] = "--env";
		b->vargv[n++] = s->env[i];
	}
	b->vargv[n++] = "--";
	b->vargv[n++] = b->exec_path;
	for (int i = 1; i < s->nargs; i++)
		b->vargv[n++] = s->args[i];
	if (cmdline_copy) {
		char *save;
		for (char *t = strtok_r(cmdline_copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
			b->vargv[n++] = t; /* cmdline_copy stays allocated until exec */
	}
	b->vargv[n] = NULL;
	return 0;
}

/* The cgroup of linux.resources (mote's own, under its `mote` parent). */
static int make_cgroup(const struct oci_spec *s, const char *id, char *name, size_t size,
		       struct mote_cgroup *cg, struct mote_err *err)
{
	name[0] = 0;
	static struct mote_cgroup_sys sys;
	mote_cgroup_detect(&sys);
	int want = s->cpu_quota > 0 || s->mem_limit > 0 || s->pids_limit > 0 || s->cpu_shares;
	if (sys.kind == MOTE_CGROUP_NONE) {
		if (want)
			oci_log("warning", "linux.resources not applied: %s", sys.why);
		return 0;
	}
	struct mote_cgroup_limits lim = {0};
	if (s->cpu_quota > 0) {
		lim.cpu_quota_us = (uint64_t)s->cpu_quota;
		lim.cpu_period_us = s->cpu_period > 0 ? (uint64_t)s->cpu_period : 100000;
	}
	if (s->cpu_shares) {
		uint64_t w = s->cpu_shares * 100 / 1024;
		lim.cpu_weight = (unsigned)(w < 1 ? 1 : w > 10000 ? 10000 : w);
	}
	if (s->mem_limit > 0)
		lim.mem_bytes = (uint64_t)s->mem_limit;
	if (s->pids_limit > 0)
		lim.pids_max = (uint64_t)s->pids_limit;
	snprintf(name, size, "oci-%.50s", id);
	int r = mote_cgroup_create(&sys, name, &lim, cg, err);
	if (r == -2) {
		snprintf(name, size, "oci-%.40s-%d", id, (int)getpid());
		r = mote_cgroup_create(&sys, name, &lim, cg, err);
	}
	if (r < 0) {
		name[0] = 0;
		return -1;
	}
	return 0;
}

static void remove_cgroup(const char *name)
{
	if (!name[0])
		return;
	static struct mote_cgroup_sys sys;
	mote_cgroup_detect(&sys);
	if (sys.kind == MOTE_CGROUP_NONE)
		return;
	struct mote_cgroup cg = {.kind = sys.kind};
	for (int i = 0; i < CG_NCTRL; i++)
		if (sys.root[i][0])
			mote_cgroup_path(sys.root[i], name, cg.dir[i], sizeof(cg.dir[i]));
	mote_cgroup_remove(&cg);
}

/* Send `fd` over the unix socket at `path` (SCM_RIGHTS), as runc's --console-socket expects. */
static int send_console(const char *path, int fd, struct mote_err *err)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return mote_errf(err, MOTE_STATUS_USAGE, "--console-socket %s: path too long", path);
	strcpy(sa.sun_path, path);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		mote_errnof(err, MOTE_STATUS_HOST, errno, "--console-socket %s", path);
		if (s >= 0)
			close(s);
		return -1;
	}
	char name[] = "/dev/ptmx";
	struct iovec iov = {.iov_base = name, .iov_len = sizeof(name) - 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	int r = sendmsg(s, &msg, 0) < 0
		    ? mote_errnof(err, MOTE_STATUS_HOST, errno, "--console-socket %s: send", path)
		    : 0;
	close(s);
	return r;
}

/* In the child: namespaces, hostname, cgroup, rlimits. Returns 0 or -1 with a message in `why`. */
static int child_setup(const struct bundle *b, const struct mote_cgroup *cg, int have_cg, char *why,
		       size_t size)
{
	const struct oci_spec *s = &b->spec;
	int unshare_flags = 0, uts = 0;
	if (have_cg && mote_cgroup_join(cg) < 0)
		return snprintf(why, size, "cannot join the container's cgroup: %s", strerror(errno)), -1;
	for (int i = 0; i < s->nns; i++) {
		const struct oci_namespace *n = &s->ns[i];
		if (n->clone_flag == CLONE_NEWPID || n->clone_flag == 0x80)
			continue; /* mote-vmm would be pid 1 (deaf to SIGTERM); the guest has its own pids */
		if (n->clone_flag == CLONE_NEWUTS)
			uts = 1;
		if (!n->path) {
			unshare_flags |= n->clone_flag;
			continue;
		}
		int fd = open(n->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, n->clone_flag) < 0)
			return snprintf(why, size, "namespace %s %s: %s", n->type, n->path, strerror(errno)),
			       -1;
		close(fd);
	}
	if (unshare_flags && unshare(unshare_flags) < 0)
		return snprintf(why, size, "unshare namespaces: %s", strerror(errno)), -1;
	if (s->hostname && uts && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return snprintf(why, size, "hostname %s: %s", s->hostname, strerror(errno)), -1;
	for (int i = 0; i < s->nrlimits; i++) {
		struct rlimit rl = {.rlim_cur = s->rlimits[i].soft, .rlim_max = s->rlimits[i].hard};
		if (setrlimit(s->rlimits[i].resource, &rl) < 0)
			return snprintf(why, size, "rlimit %d (soft %llu, hard %llu): %s",
					s->rlimits[i].resource, (unsigned long long)rl.rlim_cur,
					(unsigned long long)rl.rlim_max, strerror(errno)),
			       -1;
	}
	return 0;
}

static void now_rfc3339(char *out, size_t size)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%s.%09ldZ", base, ts.tv_nsec);
}

static int write_pid_file(const char *path, pid_t pid, struct mote_err *err)
{
	char tmp[PATH_MAX + 16];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "we");
	if (!f || fprintf(f, "%d", (int)pid) < 0 || fclose(f) != 0 || rename(tmp, path) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "--pid-file %s", path);
	return 0;
}

/*
 * create: check the bundle, make the state, fork the container's process, which sets itself up, says so,
 * then waits on ROOT/ID/exec.fifo and becomes mote-vmm when `start` opens it. Returns the pid; on failure
 * exits with one line. The state stays locked in *st.
 */
static pid_t create(const char *id, const struct create_opts *o, struct bundle *b, struct oci_state *st)
{
	struct mote_err err = {0};
	if (!oci_id_valid(id)) {
		mote_errf(&err, MOTE_STATUS_USAGE, "'%s' is not a valid container id", id);
		oci_die(&err);
	}
	if (bundle_load(o->bundle ? o->bundle : ".", b, &err) < 0)
		oci_die(&err);
	if (!b->img.is_mote) {
		oci_log("debug", "bundle %s has no mote annotations: runc runs it", b->dir);
		oci_exec_runc();
	}
	if (b->spec.terminal && !o->console_socket && !isatty(0))
		oci_log("warning",
			"process.terminal true without --console-socket: the program gets our stdio");
	if (bundle_prepare(b, o, &err) < 0)
		oci_die(&err);
	if (oci_state_new(oci_g.root, id, st, &err) < 0)
		oci_die(&err);
	snprintf(st->bundle, sizeof(st->bundle), "%s", b->dir);
	st->annotations = json_incref(b->spec.annotations);
	now_rfc3339(st->created, sizeof(st->created));
	/* The rootfs image lives and dies with the container: engines give every container a new rootfs
	 * directory, so a cache keyed on the directory would only grow (packing hello takes ~0.2 ms). */
	if (snprintf(b->image, sizeof(b->image), "%s/rootfs.cpio", st->dir) >= (int)sizeof(b->image)) {
		mote_errf(&err, MOTE_STATUS_USAGE, "--root %s: path too long", oci_g.root);
		goto fail;
	}
	if (mote_rootfs_pack_dir(b->rootfs, b->image, &err) < 0)
		goto fail;
	char fifo[PATH_MAX + 16];
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", st->dir);
	struct mote_cgroup cg;
	if (mkfifo(fifo, 0600) < 0) {
		mote_errnof(&err, MOTE_STATUS_HOST, errno, "mkfifo %s", fifo);
		goto fail;
	}
	if (make_cgroup(&b->spec, id, st->cgroup, sizeof(st->cgroup), &cg, &err) < 0)
		goto fail;
	if (oci_state_save(st, &err) < 0)
		goto fail;
	int master = -1, slave = -1;
	if (b->spec.terminal && o->console_socket) {
		if (openpty(&master, &slave, NULL, NULL, NULL) < 0) {
			mote_errnof(&err, MOTE_STATUS_HOST, errno, "openpty");
			goto fail;
		}
		if (send_console(o->console_socket, master, &err) < 0)
			goto fail;
		close(master);
	}
	/* The state the child gives the startContainer hooks (it cannot take the lock start holds). */
	struct oci_state child_view = *st;
	snprintf(child_view.status, sizeof(child_view.status), "running");
	child_view.pid = 0;
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0) {
		mote_errnof(&err, MOTE_STATUS_HOST, errno, "pipe");
		goto fail;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		mote_errnof(&err, MOTE_STATUS_HOST, errno, "fork");
		goto fail;
	}
	if (pid == 0) {
		char why[512] = "ok";
		close(ready[0]);
		close(st->lock_fd); /* the lock is the runtime's, not the container's */
		if (o->detach || !o->keep)
			setsid();
		if (slave >= 0) {
			setsid();
			ioctl(slave, TIOCSCTTY, 0);
			dup2(slave, 0);
			dup2(slave, 1);
			dup2(slave, 2);
			if (slave > 2)
				close(slave);
		}
		if (child_setup(b, &cg, st->cgroup[0] != 0, why, sizeof(why)) < 0) {
			ssize_t w = write(ready[1], why, strlen(why));
			_exit(w < 0 ? MOTE_STATUS_HOST : MOTE_STATUS_HOST);
		}
		child_view.pid = getpid();
		char *state_json = oci_state_json(&child_view, 0);
		if (write(ready[1], "ok", 2) != 2)
			_exit(MOTE_STATUS_HOST);
		close(ready[1]);
		int fd = open(fifo, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(MOTE_STATUS_HOST);
		close(fd);
		struct mote_err herr = {0};
		if (oci_run_hooks(&b->spec, OCI_HOOK_START_CONTAINER, state_json ? state_json : "{}", &herr) <
		    0) {
			fprintf(stderr, "mote-oci: %s\n", herr.msg);
			_exit(OCI_STATUS_HOOK);
		}
		static const char *env[] = {"ASAN_OPTIONS=detect_leaks=1:abort_on_error=0", NULL};
		execve(b->vargv[0], (char *const *)b->vargv, (char *const *)env);
		fprintf(stderr, "mote-oci: exec %s: %s\n", b->vargv[0], strerror(errno));
		_exit(MOTE_STATUS_HOST);
	}
	close(ready[1]);
	if (slave >= 0)
		close(slave);
	char msg[512];
	size_t got = 0;
	for (;;) {
		ssize_t n = read(ready[0], msg + got, sizeof(msg) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (got += (size_t)n) >= sizeof(msg) - 1)
			break;
	}
	msg[got] = 0;
	close(ready[0]);
	if (strcmp(msg, "ok")) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		mote_errf(&err, MOTE_STATUS_HOST, "container %s: %s", id,
			  got ? msg : "its process ended during setup");
		goto fail;
	}
	st->pid = pid;
	st->start_time = oci_proc_start_time(pid);
	snprintf(st->status, sizeof(st->status), "created");
	if (oci_state_save(st, &err) < 0 || (o->pid_file && write_pid_file(o->pid_file, pid, &err) < 0))
		goto fail_kill;
	char *state_json = oci_state_json(st, 0);
	int hr = oci_run_hooks(&b->spec, OCI_HOOK_PRESTART, state_json, &err) < 0 ||
		 oci_run_hooks(&b->spec, OCI_HOOK_CREATE_RUNTIME, state_json, &err) < 0 ||
		 oci_run_hooks(&b->spec, OCI_HOOK_CREATE_CONTAINER, state_json, &err) < 0;
	free(state_json);
	if (hr)
		goto fail_kill;
	return pid;
fail_kill:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
fail:
	remove_cgroup(st->cgroup);
	oci_state_remove(st);
	oci_die(&err);
}

static void parse_create_opts(int argc, char **argv, struct create_opts *o, const char **id, int is_run)
{
	static const struct option opts[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"pid-file", required_argument, NULL, 'p'},
	    {"console-socket", required_argument, NULL, 'c'},
	    {"no-pivot", no_argument, NULL, 'n'},
	    {"no-new-keyring", no_argument, NULL, 'k'},
	    {"preserve-fds", required_argument, NULL, 'f'},
	    {"detach", no_argument, NULL, 'd'},
	    {"keep", no_argument, NULL, 'K'},
	    {"no-subreaper", no_argument, NULL, 's'},
	    {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+b:d", opts, NULL)) != -1) {
		switch (c) {
		case 'b': o->bundle = optarg; break;
		case 'p': o->pid_file = optarg; break;
		case 'c': o->console_socket = optarg; break;
		case 'n': o->no_pivot = 1; break;
		case 'k':
		case 's': break;
		case 'd': o->detach = 1; break;
		case 'K': o->keep = 1; break;
		case 'f': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > 64) {
				struct mote_err err;
				mote_errf(&err, MOTE_STATUS_USAGE, "--preserve-fds '%s' is not 0..64",
					  optarg);
				oci_die(&err);
			}
			o->preserve_fds = (int)v;
			break;
		}
		default: {
			struct mote_err err;
			mote_errf(&err, MOTE_STATUS_USAGE, "%s: unknown or incomplete option '%s'", argv[0],
				  argv[optind - 1]);
			oci_die(&err);
		}
		}
	}
	if (optind >= argc) {
		struct mote_err err;
		mote_errf(&err, MOTE_STATUS_USAGE, "%s: no container id given", argv[0]);
		oci_die(&err);
	}
	*id = argv[optind];
	(void)is_run;
}

int oci_cmd_create(int argc, char **argv)
{
	struct create_opts o;
	const char *id;
	parse_create_opts(argc, argv, &o, &id, 0);
	o.detach = 1;
	struct bundle b;
	struct oci_state st;
	create(id, &o, &b, &st);
	oci_state_close(&st);
	bundle_free(&b);
	return 0;
}

/* Let the waiting process go: read its byte from the exec fifo (bounded), then mark the container running. */
static int start_locked(struct oci_state *st, struct mote_err *err)
{
	const char *status = oci_state_status(st);
	if (strcmp(status, "created"))
		return mote_errf(err, OCI_STATUS_BAD_STATE, "container %s is %s, not created", st->id,
				 status);
	char fifo[PATH_MAX + 16];
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", st->dir);
	int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "container %s: %s", st->id, fifo);
	char c;
	int ok = 0;
	for (int i = 0; i < 3000 && !ok; i++) { /* 30 s at most */
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 10) > 0 && read(fd, &c, 1) == 1)
			ok = 1;
		else if (oci_proc_start_time(st->pid) != st->start_time)
			break;
	}
	close(fd);
	if (!ok)
		return mote_errf(err, MOTE_STATUS_HOST, "container %s: its process ended before it started",
				 st->id);
	unlink(fifo);
	snprintf(st->status, sizeof(st->status), "running");
	return oci_state_save(st, err);
}

/* Run the bundle's hooks of point `p` (poststart, poststop) after the fact: a failure is only a warning. */
static void late_hooks(struct oci_state *st, enum oci_hook_point p)
{
	struct bundle b;
	struct mote_err err = {0};
	if (bundle_load(st->bundle, &b, &err) < 0) {
		bundle_free(&b);
		return;
	}
	char *s = oci_state_json(st, 0);
	if (oci_run_hooks(&b.spec, p, s, &err) < 0)
		oci_log("warning", "%s", err.msg);
	free(s);
	bundle_free(&b);
}

static const char *first_id(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (argv[i][0] != '-')
			return argv[i];
	struct mote_err err;
	mote_errf(&err, MOTE_STATUS_USAGE, "%s: no container id given", argv[0]);
	oci_die(&err);
}

static void load(const char *id, struct oci_state *st)
{
	struct mote_err err = {0};
	int r = oci_state_load(oci_g.root, id, st, &err);
	if (r < 0)
		oci_die(&err);
	if (r == 1) {
		if (oci_runc_has(id))
			oci_exec_runc();
		mote_errf(&err, OCI_STATUS_NO_CONTAINER, "container %s does not exist", id);
		oci_die(&err);
	}
}

int oci_cmd_start(int argc, char **argv)
{
	struct oci_state st;
	struct mote_err err = {0};
	load(first_id(argc, argv), &st);
	if (start_locked(&st, &err) < 0)
		oci_die(&err);
	late_hooks(&st, OCI_HOOK_POSTSTART);
	oci_state_close(&st);
	return 0;
}

static pid_t run_child;
static void forward_signal(int sig)
{
	if (run_child > 0)
		kill(run_child, sig);
}

int oci_cmd_run(int argc, char **argv)
{
	struct create_opts o;
	const char *id;
	parse_create_opts(argc, argv, &o, &id, 1);
	struct bundle b;
	struct oci_state st;
	int detach = o.detach;
	o.keep = !detach; /* the foreground process stays in our session */
	pid_t pid = create(id, &o, &b, &st);
	struct mote_err err = {0};
	if (start_locked(&st, &err) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		remove_cgroup(st.cgroup);
		oci_state_remove(&st);
		oci_die(&err);
	}
	char *s = oci_state_json(&st, 0);
	if (oci_run_hooks(&b.spec, OCI_HOOK_POSTSTART, s, &err) < 0)
		oci_log("warning", "%s", err.msg);
	free(s);
	if (detach) {
		oci_state_close(&st);
		bundle_free(&b);
		return 0;
	}
	/* Unlock while it runs, so that state/kill/pause work; forward the usual signals to it. */
	close(st.lock_fd);
	st.lock_fd = -1;
	run_child = pid;
	struct sigaction sa = {.sa_handler = forward_signal};
	int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	st.start_time = 0;
	late_hooks(&st, OCI_HOOK_POSTSTOP);
	remove_cgroup(st.cgroup);
	if (!o.keep || 1) {
		struct oci_state again;
		if (oci_state_load(oci_g.root, id, &again, &err) == 0)
			oci_state_remove(&again);
	}
	oci_state_close(&st);
	bundle_free(&b);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int parse_signal(const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} names[] = {{"HUP", SIGHUP},	{"INT", SIGINT},   {"QUIT", SIGQUIT},	{"KILL", SIGKILL},
		     {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM},	{"CONT", SIGCONT},
		     {"STOP", SIGSTOP}, {"ALRM", SIGALRM}, {"WINCH", SIGWINCH}, {"PIPE", SIGPIPE},
		     {"ABRT", SIGABRT}};
	if (!strncmp(s, "SIG", 3))
		s += 3;
	char *end;
	long v = strtol(s, &end, 10);
	if (*s && !*end)
		return v > 0 && v < 65 ? (int)v : -1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name))
			return names[i].sig;
	return -1;
}

int oci_cmd_kill(int argc, char **argv)
{
	const char *id = NULL, *sig_text = "SIGTERM";
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue; /* --all, -a: one process per container anyway */
		if (!id)
			id = argv[i];
		else
			sig_text = argv[i];
	}
	if (!id)
		id = first_id(argc, argv);
	struct oci_state st;
	struct mote_err err = {0};
	load(id, &st);
	int sig = parse_signal(sig_text);
	if (sig < 0) {
		mote_errf(&err, MOTE_STATUS_USAGE, "kill: '%s' is not a signal", sig_text);
		oci_die(&err);
	}
	const char *status = oci_state_status(&st);
	if (!strcmp(status, "stopped") || !strcmp(status, "creating")) {
		mote_errf(&err, OCI_STATUS_BAD_STATE, "container %s is %s", id, status);
		oci_die(&err);
	}
	if (kill(st.pid, sig) < 0) {
		mote_errnof(&err, MOTE_STATUS_HOST, errno, "kill %d", (int)st.pid);
		oci_die(&err);
	}
	if (!strcmp(status, "paused") && (sig == SIGKILL || sig == SIGTERM))
		kill(st.pid, SIGCONT);
	oci_state_close(&st);
	return 0;
}

int oci_cmd_delete(int argc, char **argv)
{
	int force = 0;
	const char *id = NULL;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))
			force = 1;
		else if (argv[i][0] != '-' && !id)
			id = argv[i];
	if (!id)
		id = first_id(argc, argv);
	struct oci_state st;
	struct mote_err err = {0};
	load(id, &st);
	const char *status = oci_state_status(&st);
	if (strcmp(status, "stopped")) {
		if (!force && strcmp(status, "created")) {
			mote_errf(&err, OCI_STATUS_BAD_STATE, "container %s is %s; stop it or use --force",
				  id, status);
			oci_die(&err);
		}
		kill(st.pid, SIGKILL);
		kill(st.pid, SIGCONT);
		for (int i = 0; i < 1000 && oci_proc_start_time(st.pid) == st.start_time; i++)
			poll(NULL, 0, 10); /* 10 s at most */
	}
	late_hooks(&st, OCI_HOOK_POSTSTOP);
	remove_cgroup(st.cgroup);
	oci_state_remove(&st);
	return 0;
}

static int pause_resume(int argc, char **argv, int pause)
{
	struct oci_state st;
	struct mote_err err = {0};
	const char *id = first_id(argc, argv);
	load(id, &st);
	const char *status = oci_state_status(&st);
	const char *want = pause ? "running" : "paused";
	if (strcmp(status, want)) {
		mote_errf(&err, OCI_STATUS_BAD_STATE, "container %s is %s, not %s", id, status, want);
		oci_die(&err);
	}
	if (kill(st.pid, pause ? SIGSTOP : SIGCONT) < 0) {
		mote_errnof(&err, MOTE_STATUS_HOST, errno, "%s %d", pause ? "pause" : "resume", (int)st.pid);
		oci_die(&err);
	}
	/* Bounded wait until /proc shows the change, so that `state` right after agrees. */
	for (int i = 0; i < 200 && strcmp(oci_state_status(&st), pause ? "paused" : "running"); i++)
		poll(NULL, 0, 5);
	oci_state_close(&st);
	return 0;
}

int oci_cmd_pause(int argc, char **argv)
{
	return pause_resume(argc, argv, 1);
}

int oci_cmd_resume(int argc, char **argv)
{
	return pause_resume(argc, argv, 0);
}
