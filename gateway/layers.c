/* The store of function layers (state/layers/NAME/VERSION/BASE.layer): lookup, atomic commit, deletion, counts. */
#include "layers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct layer_counts layer_counts;

static char root[PATH_MAX];
static int enabled;

int layers_init(const char *dir, int on)
{
	enabled = on;
	if ((size_t)snprintf(root, sizeof(root), "%s", dir) >= sizeof(root)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdir(root, 0700) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int layers_enabled(void)
{
	return enabled;
}

static int version_dir(const char *name, long long version, char *out, size_t size)
{
	int n = version < 0 ? snprintf(out, size, "%s/%s", root, name)
			    : snprintf(out, size, "%s/%s/%lld", root, name, version);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int layers_path(const char *name, long long version, const char *base_id, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s/%lld/%s.layer", root, name, version, base_id);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int layers_exists(const char *name, long long version, const char *base_id)
{
	char p[PATH_MAX];
	struct stat st;
	return enabled && layers_path(name, version, base_id, p, sizeof(p)) == 0 && stat(p, &st) == 0 &&
	       S_ISREG(st.st_mode);
}

int layers_open_take(const char *name, long long version)
{
	char d[PATH_MAX];
	if (!enabled || version_dir(name, -1, d, sizeof(d)) < 0)
		return -1;
	if (mkdir(d, 0700) < 0 && errno != EEXIST)
		return -1;
	if (version_dir(name, version, d, sizeof(d)) < 0)
		return -1;
	if (mkdir(d, 0700) < 0 && errno != EEXIST)
		return -1;
	return open(d, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

int layers_commit(int fd, const char *name, long long version, const char *base_id)
{
	char final[PATH_MAX], tmp[PATH_MAX + 32], proc[64], d[PATH_MAX];
	int r = -1;
	if (layers_path(name, version, base_id, final, sizeof(final)) < 0 ||
	    version_dir(name, version, d, sizeof(d)) < 0)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", final, (int)getpid());
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (fsync(fd) < 0)
		goto out;
	unlink(tmp);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) < 0)
		goto out;
	if (rename(tmp, final) < 0) {
		unlink(tmp);
		goto out;
	}
	int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	r = 0;
out:
	close(fd);
	return r;
}

void layers_remove(const char *name, long long version, const char *base_id)
{
	char p[PATH_MAX];
	if (layers_path(name, version, base_id, p, sizeof(p)) == 0)
		unlink(p);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(flag == FTW_DP ? rmdir : unlink)(path);
	return 0;
}

void layers_remove_version(const char *name, long long version)
{
	char d[PATH_MAX];
	if (root[0] && version_dir(name, version, d, sizeof(d)) == 0)
		nftw(d, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

static const char *removing_base;
static uint64_t walked_bytes;

static int remove_if_on_base(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	size_t n = strlen(removing_base);
	const char *leaf = path + f->base;
	if (flag == FTW_F && !strncmp(leaf, removing_base, n) && !strcmp(leaf + n, ".layer"))
		unlink(path);
	return 0;
}

void layers_remove_base(const char *base_id)
{
	if (!root[0] || !base_id[0])
		return;
	removing_base = base_id;
	nftw(root, remove_if_on_base, 8, FTW_PHYS);
}

static int add_size(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	if (flag == FTW_F)
		walked_bytes += (uint64_t)st->st_blocks * 512u;
	return 0;
}

uint64_t layers_disk_bytes(void)
{
	walked_bytes = 0;
	if (root[0])
		nftw(root, add_size, 8, FTW_PHYS);
	return walked_bytes;
}

void layers_metrics(struct metrics_buf *b)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} c[] = {
	    {"mote_layer_hits_total", "Cold starts restored from a function layer",
	     offsetof(struct layer_counts, hits)},
	    {"mote_layer_misses_total", "Cold starts from a base restore that found no layer",
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
