/* The store of function layers (state/layers/NAME/VERSION/BASE.layer): lookup, atomic commit, deletion,
 * counts. */
#include "layers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct layer_counts layer_counts;

static char root[PATH_MAX];
static int enabled;
static uint64_t disk_bytes; /* st_blocks of every file the store holds */

static int fmt(char *out, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));
static int fmt(char *out, size_t size, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int n = vsnprintf(out, size, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static uint64_t file_bytes(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_blocks * 512u : 0;
}

/* Unlink a file of the store, keeping disk_bytes right. */
static void unlink_counted(const char *path)
{
	uint64_t b = file_bytes(path);
	if (unlink(path) == 0)
		disk_bytes = disk_bytes > b ? disk_bytes - b : 0;
}

/* Call cb(dir/entry, entry, arg) for each entry of dir but . and ..; the callback may delete it. */
static void each_entry(const char *dir, void (*cb)(const char *path, const char *leaf, void *arg), void *arg)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char p[PATH_MAX];
		if (fmt(p, sizeof(p), "%s/%s", dir, e->d_name) == 0)
			cb(p, e->d_name, arg);
	}
	closedir(d);
}

static void count_file(const char *path, const char *leaf, void *arg)
{
	disk_bytes += file_bytes(path);
}

static void count_version(const char *path, const char *leaf, void *arg)
{
	each_entry(path, count_file, NULL);
}

static void count_function(const char *path, const char *leaf, void *arg)
{
	each_entry(path, count_version, NULL);
}

int layers_init(const char *dir, int on)
{
	enabled = on;
	disk_bytes = 0;
	if (fmt(root, sizeof(root), "%s", dir) < 0)
		return -1;
	if (mkdir(root, 0700) < 0 && errno != EEXIST)
		return -1;
	each_entry(root, count_function, NULL);
	return 0;
}

int layers_enabled(void)
{
	return enabled;
}

int layers_path(const char *name, long long version, const char *base_id, char *out, size_t size)
{
	return fmt(out, size, "%s/%s/%lld/%s.layer", root, name, version, base_id);
}

int layers_exists(const char *name, long long version, const char *base_id)
{
	char p[PATH_MAX];
	struct stat st;
	return enabled && layers_path(name, version, base_id, p, sizeof(p)) == 0 && stat(p, &st) == 0 &&
	       S_ISREG(st.st_mode);
}

int layers_open_take(void)
{
	if (!enabled) {
		errno = EPERM;
		return -1;
	}
	return open(root, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

static void sync_dir(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
}

int layers_commit(int fd, const char *name, long long version, const char *base_id)
{
	char fdir[PATH_MAX], vdir[PATH_MAX], final[PATH_MAX], tmp[PATH_MAX], proc[64];
	int r = -1, e = 0;
	if (fmt(fdir, sizeof(fdir), "%s/%s", root, name) < 0 ||
	    fmt(vdir, sizeof(vdir), "%s/%lld", fdir, version) < 0 ||
	    layers_path(name, version, base_id, final, sizeof(final)) < 0 ||
	    fmt(tmp, sizeof(tmp), "%s/.%s.tmp", vdir, base_id) < 0)
		goto out;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (fsync(fd) < 0 || (mkdir(fdir, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(vdir, 0700) < 0 && errno != EEXIST))
		goto out;
	unlink(tmp);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) < 0)
		goto out;
	uint64_t old = file_bytes(final), added = file_bytes(tmp);
	if (rename(tmp, final) < 0) {
		e = errno;
		unlink(tmp);
		errno = e;
		goto out;
	}
	disk_bytes = disk_bytes + added - (disk_bytes >= old ? old : disk_bytes);
	sync_dir(vdir);
	sync_dir(fdir);
	r = 0;
out:
	e = errno;
	close(fd);
	errno = e;
	return r;
}

void layers_remove(const char *name, long long version, const char *base_id)
{
	char p[PATH_MAX];
	if (root[0] && layers_path(name, version, base_id, p, sizeof(p)) == 0)
		unlink_counted(p);
}

static void remove_file(const char *path, const char *leaf, void *arg)
{
	unlink_counted(path);
}

void layers_remove_version(const char *name, long long version)
{
	char fdir[PATH_MAX], vdir[PATH_MAX];
	if (!root[0] || fmt(fdir, sizeof(fdir), "%s/%s", root, name) < 0 ||
	    fmt(vdir, sizeof(vdir), "%s/%lld", fdir, version) < 0)
		return;
	each_entry(vdir, remove_file, NULL);
	rmdir(vdir);
	rmdir(fdir); /* only when no other version has layers */
}

struct base_match {
	const char *leaf; /* "ID.layer" */
};

static void remove_if_base(const char *path, const char *leaf, void *arg)
{
	if (!strcmp(leaf, ((struct base_match *)arg)->leaf))
		unlink_counted(path);
}

static void base_in_version(const char *path, const char *leaf, void *arg)
{
	each_entry(path, remove_if_base, arg);
}

static void base_in_function(const char *path, const char *leaf, void *arg)
{
	each_entry(path, base_in_version, arg);
}

void layers_remove_base(const char *base_id)
{
	char leaf[96];
	if (!root[0] || !base_id[0] || fmt(leaf, sizeof(leaf), "%s.layer", base_id) < 0)
		return;
	struct base_match m = {leaf};
	each_entry(root, base_in_function, &m);
}

struct sweep {
	int (*keep)(const char *name, long long version, void *arg);
	void *arg;
	const char *name;
};

static void remove_leftover(const char *path, const char *leaf, void *arg)
{
	if (leaf[0] == '.')
		unlink_counted(path); /* a commit cut between link and rename */
}

static void sweep_version(const char *path, const char *leaf, void *arg)
{
	struct sweep *s = arg;
	char *end;
	errno = 0;
	long long v = strtoll(leaf, &end, 10);
	if (errno || end == leaf || *end)
		return; /* not ours */
	if (s->keep(s->name, v, s->arg)) {
		each_entry(path, remove_leftover, NULL);
		return;
	}
	each_entry(path, remove_file, NULL);
	rmdir(path);
}

static void sweep_function(const char *path, const char *leaf, void *arg)
{
	struct sweep *s = arg;
	s->name = leaf;
	each_entry(path, sweep_version, s);
	rmdir(path);
}

void layers_sweep(int (*keep)(const char *name, long long version, void *arg), void *arg)
{
	struct sweep s = {keep, arg, NULL};
	if (root[0])
		each_entry(root, sweep_function, &s);
}

uint64_t layers_disk_bytes(void)
{
	return disk_bytes;
}

void layers_metrics(struct metrics_buf *b)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} c[] = {
	    {"mote_layer_hits_total", "Cold starts restored from a function layer",
	     offsetof(struct layer_counts, hits)},
	    {"mote_layer_misses_total", "Cold starts restored from the base with no layer to use",
	     offsetof(struct layer_counts, misses)},
	    {"mote_layer_takes_total", "Function layers taken and stored",
	     offsetof(struct layer_counts, takes)},
	    {"mote_layer_take_failures_total", "Function layers asked for but not stored",
	     offsetof(struct layer_counts, take_failures)},
	    {"mote_layer_fallbacks_total", "Layers refused at restore (deleted; started from the base)",
	     offsetof(struct layer_counts, fallbacks)},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		metrics_family(b, c[i].name, "counter", c[i].help);
		metrics_sample(b, c[i].name, NULL,
			       (double)*(const uint64_t *)((const char *)&layer_counts + c[i].off));
	}
	metrics_family(b, "mote_layer_disk_bytes", "gauge", "Disk space used by the stored function layers");
	metrics_sample(b, "mote_layer_disk_bytes", NULL, (double)layers_disk_bytes());
}
