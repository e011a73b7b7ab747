/* Per-VM cgroups (v1 or v2, found at start): CPU, memory, I/O and pids limits, OOM detection, cleanup. */
#include "cgroup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "size.h"
#include "status.h"

static const char *const ctrl_name[CG_NCTRL] = {"cpu", "cpuacct", "memory", "blkio", "pids"};

/* Decode mountinfo's octal escapes (\040 for a space) of one field into out. */
static void unescape(const char *s, size_t len, char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 1 < size; i++) {
		if (s[i] == '\\' && i + 3 < len + 1 && isdigit((unsigned char)s[i + 1])) {
			out[o++] =
			    (char)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
			i += 3;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = 0;
}

int mote_cgroup_parse_mountinfo(const char *line, char *mnt, size_t size, unsigned *ctrls)
{
	/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS */
	const char *p = line, *field[5];
	size_t flen[5];
	for (int i = 0; i < 5; i++) {
		while (*p == ' ')
			p++;
		field[i] = p;
		while (*p && *p != ' ' && *p != '\n')
			p++;
		flen[i] = (size_t)(p - field[i]);
		if (!flen[i])
			return 0;
	}
	const char *dash = strstr(p, " - ");
	if (!dash)
		return 0;
	char fstype[32], super[512];
	if (sscanf(dash + 3, "%31s %*s %511s", fstype, super) != 2)
		return 0;
	int kind = !strcmp(fstype, "cgroup2")  ? MOTE_CGROUP_V2
		   : !strcmp(fstype, "cgroup") ? MOTE_CGROUP_V1
					       : 0;
	if (!kind)
		return 0;
	unescape(field[4], flen[4], mnt, size);
	*ctrls = 0;
	if (kind == MOTE_CGROUP_V1) {
		char *save, *tok;
		for (tok = strtok_r(super, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			for (int c = 0; c < CG_NCTRL; c++)
				if (!strcmp(tok, ctrl_name[c]))
					*ctrls |= 1u << c;
	}
	return kind;
}

int mote_cgroup_path(const char *root, const char *name, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/mote%s%s", root, name ? "/" : "", name ? name : "");
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Write `text` to DIR/FILE. Returns 0 or -1 with errno. Only open/write/close (used after clone). */
static int write_file(const char *dir, const char *file, const char *text)
{
	char path[PATH_MAX + 64];
	size_t dl = strlen(dir), fl = strlen(file), tl = strlen(text);
	if (dl + fl + 2 > sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(path, dir, dl);
	path[dl] = '/';
	memcpy(path + dl + 1, file, fl + 1);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, text, tl);
	int e = errno;
	close(fd);
	if (w != (ssize_t)tl) {
		errno = w < 0 ? e : EIO;
		return -1;
	}
	return 0;
}

/* Read DIR/FILE into buf (NUL-terminated). Returns its length or -1. */
static ssize_t read_file(const char *dir, const char *file, char *buf, size_t size)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

/* The value after "key " in a flat-keyed file (memory.events, cpu.stat, memory.oom_control). */
static uint64_t keyed_value(const char *dir, const char *file, const char *key)
{
	char buf[4096];
	if (read_file(dir, file, buf, sizeof(buf)) < 0)
		return 0;
	size_t kl = strlen(key);
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, kl) && l[kl] == ' ')
			return strtoull(l + kl + 1, NULL, 10);
	return 0;
}

/* Create ROOT/mote (EEXIST is fine) and check that it can be written. */
static int make_parent(const char *root, char *why, size_t size)
{
	char parent[PATH_MAX];
	if (mote_cgroup_path(root, NULL, parent, sizeof(parent)) < 0) {
		snprintf(why, size, "cgroup path %s/mote is too long", root);
		return -1;
	}
	if (mkdir(parent, 0755) < 0 && errno != EEXIST) {
		snprintf(why, size, "cannot create cgroup %.180s: %s", parent, strerror(errno));
		return -1;
	}
	if (access(parent, W_OK) < 0) {
		snprintf(why, size, "cgroup %.180s is not writable: %s", parent, strerror(errno));
		return -1;
	}
	return 0;
}

/* Enable `ctrls` ("+cpu +memory ...") for the children of DIR on v2; missing ones are an error. */
static int v2_enable(const char *dir, char *why, size_t size)
{
	static const char *const need[] = {"+cpu", "+memory", "+pids", "+io"};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (write_file(dir, "cgroup.subtree_control", need[i]) < 0 && i < 3) {
			snprintf(why, size, "cannot enable the %s controller in %.150s: %s", need[i] + 1, dir,
				 strerror(errno));
			return -1;
		}
	return 0;
}

static void set_lock_dir(struct mote_cgroup_sys *sys);

void mote_cgroup_detect(struct mote_cgroup_sys *sys)
{
	memset(sys, 0, sizeof(*sys));
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f) {
		snprintf(sys->why, sizeof(sys->why), "cannot read /proc/self/mountinfo: %s", strerror(errno));
		return;
	}
	char line[4096], mnt[PATH_MAX], v2[PATH_MAX] = "";
	unsigned ctrls;
	while (fgets(line, sizeof(line), f)) {
		int kind = mote_cgroup_parse_mountinfo(line, mnt, sizeof(mnt), &ctrls);
		if (kind == MOTE_CGROUP_V2 && !v2[0])
			snprintf(v2, sizeof(v2), "%s", mnt);
		for (int c = 0; kind == MOTE_CGROUP_V1 && c < CG_NCTRL; c++)
			if ((ctrls & (1u << c)) && !sys->root[c][0])
				snprintf(sys->root[c], sizeof(sys->root[c]), "%s", mnt);
	}
	fclose(f);
	char have[512];
	if (v2[0] && read_file(v2, "cgroup.controllers", have, sizeof(have)) >= 0 && strstr(have, "cpu") &&
	    strstr(have, "memory") && strstr(have, "pids")) {
		char parent[PATH_MAX];
		memset(sys->root, 0, sizeof(sys->root));
		snprintf(sys->root[0], sizeof(sys->root[0]), "%s", v2);
		mote_cgroup_path(v2, NULL, parent, sizeof(parent));
		if (v2_enable(v2, sys->why, sizeof(sys->why)) == 0 &&
		    make_parent(v2, sys->why, sizeof(sys->why)) == 0 &&
		    v2_enable(parent, sys->why, sizeof(sys->why)) == 0) {
			sys->kind = MOTE_CGROUP_V2;
			set_lock_dir(sys);
		}
		return;
	}
	if (!sys->root[CG_CPU][0] || !sys->root[CG_MEMORY][0] || !sys->root[CG_PIDS][0]) {
		snprintf(sys->why, sizeof(sys->why),
			 "no cgroup hierarchy with the cpu, memory and pids controllers is mounted");
		memset(sys->root, 0, sizeof(sys->root));
		return;
	}
	for (int c = 0; c < CG_NCTRL; c++)
		if (sys->root[c][0] && make_parent(sys->root[c], sys->why, sizeof(sys->why)) < 0) {
			memset(sys->root, 0, sizeof(sys->root));
			return;
		}
	sys->kind = MOTE_CGROUP_V1;
	set_lock_dir(sys);
}

/* The lock directory made (0700, root's) where it can be; "" (no locking) where not. */
static void set_lock_dir(struct mote_cgroup_sys *sys)
{
	if ((mkdir("/run/mote", 0755) == 0 || errno == EEXIST) &&
	    (mkdir(MOTE_CGROUP_LOCK_DIR, 0700) == 0 || errno == EEXIST))
		snprintf(sys->lock_dir, sizeof(sys->lock_dir), "%s", MOTE_CGROUP_LOCK_DIR);
}

/*
 * Lock `name`: its file in lock_dir created as needed and flock'ed
 * exclusively without waiting. Returns the fd (close-on-exec) with the
 * path in `path`, -2 when another open file holds the lock, -1 on error.
 * A file unlinked by its last holder between our open and flock is not
 * the lock any more: the inode check catches it and we try again.
 */
static int lock_name(const char *lock_dir, const char *name, char *path, size_t size)
{
	if ((size_t)snprintf(path, size, "%s/%s", lock_dir, name) >= size)
		return -1;
	for (int tries = 0; tries < 8; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return -1;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int e = errno;
			close(fd);
			return e == EWOULDBLOCK ? -2 : -1;
		}
		struct stat a, b;
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			return fd;
		close(fd);
	}
	return -1;
}

/* Unlink the lock file (while still holding it) and close it. */
static void unlock_name(struct mote_cgroup *cg)
{
	if (cg->lock_fd <= 2)
		return;
	unlink(cg->lock_path);
	close(cg->lock_fd);
	cg->lock_fd = -1;
}

/* The directory for controller c (v2: the one directory), or NULL when absent. */
static const char *ctrl_dir(const struct mote_cgroup *cg, int c)
{
	const char *d = cg->kind == MOTE_CGROUP_V2 ? cg->dir[0] : cg->dir[c];
	return d[0] ? d : NULL;
}

static int set(const struct mote_cgroup *cg, int c, const char *file, const char *value, struct mote_err *err)
{
	const char *dir = ctrl_dir(cg, c);
	if (!dir)
		return mote_errf(err, MOTE_STATUS_HOST, "cgroup: no %s controller for %s", ctrl_name[c],
				 file);
	if (write_file(dir, file, value) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "cgroup: cannot write '%s' to %s/%s", value,
				   dir, file);
	return 0;
}

static int write_cpu(const struct mote_cgroup *cg, const struct mote_cgroup_limits *l, struct mote_err *err)
{
	char v[64];
	int v2 = cg->kind == MOTE_CGROUP_V2;
	uint64_t period = l->cpu_period_us ? l->cpu_period_us : 100000;
	if (l->cpu_quota_us) {
		if (v2) {
			snprintf(v, sizeof(v), "%llu %llu", (unsigned long long)l->cpu_quota_us,
				 (unsigned long long)period);
			if (set(cg, CG_CPU, "cpu.max", v, err) < 0)
				return -1;
		} else {
			snprintf(v, sizeof(v), "%llu", (unsigned long long)period);
			if (set(cg, CG_CPU, "cpu.cfs_period_us", v, err) < 0)
				return -1;
			snprintf(v, sizeof(v), "%llu", (unsigned long long)l->cpu_quota_us);
			if (set(cg, CG_CPU, "cpu.cfs_quota_us", v, err) < 0)
				return -1;
		}
	}
	if (l->cpu_weight) {
		snprintf(v, sizeof(v), "%u",
			 v2				    ? l->cpu_weight
			 : l->cpu_weight * 1024u / 100u < 2 ? 2
							    : l->cpu_weight * 1024u / 100u);
		if (set(cg, CG_CPU, v2 ? "cpu.weight" : "cpu.shares", v, err) < 0)
			return -1;
	}
	return 0;
}

static int write_limits(const struct mote_cgroup *cg, const struct mote_cgroup_limits *l,
			struct mote_err *err)
{
	char v[256];
	int v2 = cg->kind == MOTE_CGROUP_V2;
	if (write_cpu(cg, l, err) < 0)
		return -1;
	if (l->mem_bytes) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->mem_bytes);
		if (set(cg, CG_MEMORY, v2 ? "memory.max" : "memory.limit_in_bytes", v, err) < 0)
			return -1;
		/* Swap must not extend the limit: memsw (v1, where swap accounting exists) equal, swap.max 0.
		 */
		const char *dir = ctrl_dir(cg, CG_MEMORY);
		if (v2)
			write_file(dir, "memory.swap.max", "0");
		else
			write_file(dir, "memory.memsw.limit_in_bytes", v);
	}
	const struct mote_io_limit *io = &l->io;
	for (int i = 0; i < l->n_io_dev && (io->rbps || io->wbps || io->riops || io->wiops); i++) {
		unsigned ma = major(l->io_dev[i]), mi = minor(l->io_dev[i]);
		if (v2) {
			int n = snprintf(v, sizeof(v), "%u:%u", ma, mi);
			static const char *const key[] = {"rbps", "wbps", "riops", "wiops"};
			const uint64_t val[] = {io->rbps, io->wbps, io->riops, io->wiops};
			for (int k = 0; k < 4; k++)
				if (val[k])
					n += snprintf(v + n, sizeof(v) - (size_t)n, " %s=%llu", key[k],
						      (unsigned long long)val[k]);
			if (set(cg, CG_BLKIO, "io.max", v, err) < 0)
				return -1;
		} else {
			static const char *const file[] = {
			    "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
			    "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
			const uint64_t val[] = {io->rbps, io->wbps, io->riops, io->wiops};
			for (int k = 0; k < 4; k++) {
				if (!val[k])
					continue;
				snprintf(v, sizeof(v), "%u:%u %llu", ma, mi, (unsigned long long)val[k]);
				if (set(cg, CG_BLKIO, file[k], v, err) < 0)
					return -1;
			}
		}
	}
	if (l->pids_max) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->pids_max);
		if (set(cg, CG_PIDS, "pids.max", v, err) < 0)
			return -1;
	}
	return 0;
}

int mote_cgroup_create(const struct mote_cgroup_sys *sys, const char *name,
		       const struct mote_cgroup_limits *limits, struct mote_cgroup *cg, struct mote_err *err)
{
	memset(cg, 0, sizeof(*cg));
	cg->kind = sys->kind;
	cg->lock_fd = -1;
	if (sys->kind == MOTE_CGROUP_NONE)
		return mote_errf(err, MOTE_STATUS_HOST, "no usable cgroups: %s", sys->why);
	if (sys->lock_dir[0]) {
		cg->lock_fd = lock_name(sys->lock_dir, name, cg->lock_path, sizeof(cg->lock_path));
		if (cg->lock_fd == -2)
			return -2;
		if (cg->lock_fd < 0)
			return mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot lock cgroup name %s in %s",
					   name, sys->lock_dir);
	}
	/* The memory hierarchy (v2: the one) first: its directory is the VM id's lock. */
	static const int order[CG_NCTRL] = {CG_MEMORY, CG_CPU, CG_CPUACCT, CG_BLKIO, CG_PIDS};
	for (int i = 0; i < CG_NCTRL; i++) {
		int c = sys->kind == MOTE_CGROUP_V2 ? 0 : order[i];
		if (sys->kind == MOTE_CGROUP_V2 && i > 0)
			break;
		if (!sys->root[c][0])
			continue;
		char dir[PATH_MAX];
		if (mote_cgroup_path(sys->root[c], name, dir, sizeof(dir)) < 0) {
			mote_cgroup_remove(cg);
			return mote_errf(err, MOTE_STATUS_HOST, "cgroup path for %s is too long", name);
		}
		int shared = 0; /* co-mounted controllers (cpu,cpuacct) share one directory */
		for (int k = 0; k < CG_NCTRL; k++)
			if (cg->dir[k][0] && !strcmp(cg->dir[k], dir))
				shared = 1;
		if (!shared && mkdir(dir, 0755) < 0) {
			int e = errno;
			if (e == EEXIST && i == 0) {
				unlock_name(cg); /* a stale one: mote_cgroup_remove_stale's to remove */
				return -2;
			}
			if (e != EEXIST) {
				mote_cgroup_remove(cg);
				return mote_errnof(err, MOTE_STATUS_HOST, e, "cannot create cgroup %s", dir);
			}
		}
		snprintf(cg->dir[c], sizeof(cg->dir[c]), "%s", dir);
	}
	if (write_limits(cg, limits, err) < 0) {
		mote_cgroup_remove(cg);
		return -1;
	}
	return 0;
}

int mote_cgroup_join(const struct mote_cgroup *cg)
{
	for (int c = 0; c < CG_NCTRL; c++) {
		if (!cg->dir[c][0])
			continue;
		if (write_file(cg->dir[c], "cgroup.procs", "0") < 0)
			return -1;
	}
	return 0;
}

uint64_t mote_cgroup_oom_kills(const struct mote_cgroup *cg)
{
	const char *dir = ctrl_dir(cg, CG_MEMORY);
	if (!dir)
		return 0;
	return cg->kind == MOTE_CGROUP_V2 ? keyed_value(dir, "memory.events", "oom_kill")
					  : keyed_value(dir, "memory.oom_control", "oom_kill");
}

uint64_t mote_cgroup_cpu_ns(const struct mote_cgroup *cg)
{
	if (cg->kind == MOTE_CGROUP_V2)
		return keyed_value(cg->dir[0], "cpu.stat", "usage_usec") * 1000ull;
	char buf[64];
	const char *dir = ctrl_dir(cg, CG_CPUACCT);
	if (!dir || read_file(dir, "cpuacct.usage", buf, sizeof(buf)) < 0)
		return 0;
	return strtoull(buf, NULL, 10);
}

uint64_t mote_cgroup_mem_peak(const struct mote_cgroup *cg)
{
	char buf[64];
	const char *dir = ctrl_dir(cg, CG_MEMORY);
	if (!dir || read_file(dir, cg->kind == MOTE_CGROUP_V2 ? "memory.peak" : "memory.max_usage_in_bytes",
			      buf, sizeof(buf)) < 0)
		return 0;
	return strtoull(buf, NULL, 10);
}

/* SIGKILL every process listed in DIR/cgroup.procs; returns how many were listed. */
static int kill_listed(const char *dir)
{
	char buf[4096];
	if (read_file(dir, "cgroup.procs", buf, sizeof(buf)) <= 0)
		return 0;
	int n = 0;
	for (char *p = buf; *p;) {
		char *end;
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 0) {
			kill((pid_t)pid, SIGKILL);
			n++;
		}
		p = end;
		while (*p == '\n')
			p++;
	}
	return n;
}

int mote_cgroup_remove(struct mote_cgroup *cg)
{
	int r = 0;
	for (int c = 0; c < CG_NCTRL; c++) {
		if (!cg->dir[c][0])
			continue;
		int gone = 0;
		for (int tries = 0; tries < 200 && !gone; tries++) {
			if (rmdir(cg->dir[c]) == 0 || errno == ENOENT) {
				gone = 1;
				break;
			}
			if (errno != EBUSY)
				break;
			if (cg->kind == MOTE_CGROUP_V2)
				write_file(cg->dir[c], "cgroup.kill", "1");
			kill_listed(cg->dir[c]);
			struct timespec ms = {0, 1000000};
			nanosleep(&ms, NULL);
		}
		if (!gone)
			r = -1;
		for (int k = c + 1; k < CG_NCTRL; k++)
			if (!strcmp(cg->dir[k], cg->dir[c]))
				cg->dir[k][0] = 0;
		cg->dir[c][0] = 0;
	}
	unlock_name(cg);
	return r;
}

int mote_cgroup_remove_stale(const struct mote_cgroup_sys *sys, int min_age_s)
{
	if (sys->kind == MOTE_CGROUP_NONE)
		return 0;
	const char *lock_root = sys->kind == MOTE_CGROUP_V2 ? sys->root[0] : sys->root[CG_MEMORY];
	char parent[PATH_MAX];
	if (mote_cgroup_path(lock_root, NULL, parent, sizeof(parent)) < 0)
		return 0;
	DIR *d = opendir(parent);
	if (!d)
		return 0;
	int removed = 0;
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !isdigit((unsigned char)e->d_name[0]))
			continue;
		char dir[PATH_MAX + 256], procs[64];
		snprintf(dir, sizeof(dir), "%s/%s", parent, e->d_name);
		struct stat st;
		struct mote_cgroup cg = {.kind = sys->kind, .lock_fd = -1};
		if (sys->lock_dir[0]) {
			/* Its owner alive holds the lock; so does one creating it right now. */
			cg.lock_fd = lock_name(sys->lock_dir, e->d_name, cg.lock_path, sizeof(cg.lock_path));
			if (cg.lock_fd < 0)
				continue;
		} else if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || now - st.st_mtime < min_age_s) {
			continue;
		}
		if (read_file(dir, "cgroup.procs", procs, sizeof(procs)) != 0) {
			unlock_name(&cg);
			continue; /* still has processes (or unreadable) */
		}
		for (int c = 0; c < CG_NCTRL; c++)
			if (sys->root[c][0])
				mote_cgroup_path(sys->root[c], e->d_name, cg.dir[c], sizeof(cg.dir[c]));
		/* Only directories that exist: another hierarchy may have lost its copy already. */
		for (int c = 0; c < CG_NCTRL; c++)
			if (cg.dir[c][0] && access(cg.dir[c], F_OK) < 0)
				cg.dir[c][0] = 0;
		if (mote_cgroup_remove(&cg) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

int mote_cgroup_set_cpu(const struct mote_cgroup *cg, uint64_t quota_us, uint64_t period_us, unsigned weight,
			struct mote_err *err)
{
	struct mote_cgroup_limits l = {
	    .cpu_quota_us = quota_us, .cpu_period_us = period_us, .cpu_weight = weight};
	if (weight > 10000)
		return mote_errf(err, MOTE_STATUS_USAGE, "cgroup: CPU weight %u is not 1..10000", weight);
	return write_cpu(cg, &l, err);
}

int mote_parse_cpus(const char *text, uint64_t period_us, uint64_t *quota_us)
{
	/* Fixed point: up to 6 decimals, no floating point rounding surprises. */
	const char *p = text;
	uint64_t whole = 0, frac = 0, scale = 1;
	if (!text || !isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > 1024)
			return -1;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		for (; isdigit((unsigned char)*p); p++)
			if (scale < 1000000) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				scale *= 10;
			}
	}
	if (*p)
		return -1;
	uint64_t q = whole * period_us + frac * period_us / scale;
	if (q < 1000 || whole * scale + frac > 1024 * scale) /* the kernel's minimum quota is 1 ms */
		return -1;
	*quota_us = q;
	return 0;
}

int mote_parse_io_limit(const char *text, struct mote_io_limit *io, char *why, size_t size)
{
	memset(io, 0, sizeof(*io));
	char buf[256];
	if (!text || !*text || strlen(text) >= sizeof(buf)) {
		snprintf(why, size, "'%s' is not KEY=VALUE[,KEY=VALUE...]", text ? text : "");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	char *save, *tok;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			snprintf(why, size, "'%s' is not KEY=VALUE (keys: rbps, wbps, riops, wiops)", tok);
			return -1;
		}
		*eq = 0;
		uint64_t *slot = !strcmp(tok, "rbps")	 ? &io->rbps
				 : !strcmp(tok, "wbps")	 ? &io->wbps
				 : !strcmp(tok, "riops") ? &io->riops
				 : !strcmp(tok, "wiops") ? &io->wiops
							 : NULL;
		if (!slot) {
			snprintf(why, size, "unknown key '%s' (keys: rbps, wbps, riops, wiops)", tok);
			return -1;
		}
		uint64_t v;
		int bytes = slot == &io->rbps || slot == &io->wbps;
		char *end = NULL;
		if (bytes) {
			if (mote_parse_size(eq + 1, &v) < 0)
				end = eq + 1;
		} else {
			errno = 0;
			v = strtoull(eq + 1, &end, 10);
			if (!isdigit((unsigned char)eq[1]) || *end || errno)
				end = eq + 1;
			else
				end = NULL;
		}
		if (end || v == 0) {
			snprintf(why, size, "%s=%s is not a positive %s", tok, eq + 1,
				 bytes ? "size per second (like 10M)" : "number of operations per second");
			return -1;
		}
		*slot = v;
	}
	if (!io->rbps && !io->wbps && !io->riops && !io->wiops) {
		snprintf(why, size, "'%s' sets no limit (keys: rbps, wbps, riops, wiops)", text);
		return -1;
	}
	return 0;
}

int mote_cgroup_disk_of(const char *path, dev_t *dev)
{
	struct stat st;
	if (stat(path, &st) < 0 || major(st.st_dev) == 0)
		return -1;
	char sys[128], buf[32];
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(st.st_dev), minor(st.st_dev));
	if (access(sys, F_OK) < 0)
		return -1;
	*dev = st.st_dev;
	/* A partition: its parent directory in sysfs is the whole disk, whose dev file says its number. */
	char part[160];
	snprintf(part, sizeof(part), "%s/partition", sys);
	if (access(part, F_OK) == 0) {
		unsigned ma, mi;
		if (read_file(sys, "../dev", buf, sizeof(buf)) > 0 && sscanf(buf, "%u:%u", &ma, &mi) == 2)
			*dev = makedev(ma, mi);
	}
	return 0;
}
