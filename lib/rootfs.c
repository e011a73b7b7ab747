/* Packing host directories and files into cpio newc rootfs images, cached by a key over their metadata. */
#include "rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpio.h"
#include "status.h"

/* Hashed first into every cache key: change it whenever the image layout or the manifest changes. */
#define ROOTFS_KEY_VERSION "mote-rootfs-3\n"
/* The trailer entry: header plus "TRAILER!!!\0", padded to 4. */
#define TRAILER_BYTES ((MOTE_CPIO_HEADER_SIZE + sizeof(MOTE_CPIO_TRAILER) + 3) & ~(size_t)3)

struct packer {
	int fd;		      /* the image being written, or -1 while only computing the key */
	const char *out_path; /* the image's final name, for messages */
	EVP_MD_CTX *md;	      /* the cache key being computed, or NULL */
	struct mote_err *err;
	uint64_t bytes;	       /* image size so far, counted in both passes */
	uint32_t ino;	       /* the last inode number given out */
	size_t host_len;       /* strlen(host) */
	size_t guest_len;      /* strlen(guest) */
	char host[PATH_MAX];   /* the current entry's host path */
	char guest[PATH_MAX];  /* its name in the image */
	char target[PATH_MAX]; /* a symlink's target */
	size_t buf_len;
	char buf[64 * 1024]; /* output buffer; file data is read straight into it */
};

typedef int (*walk_fn)(struct packer *p, const void *arg);

static uint64_t pad4(uint64_t x)
{
	return (x + 3) & ~(uint64_t)3;
}

static int write_failed(struct packer *p)
{
	return mote_errnof(p->err, MOTE_STATUS_ROOTFS, errno, "rootfs: cannot write %s", p->out_path);
}

static int out_flush(struct packer *p)
{
	size_t done = 0;
	while (done < p->buf_len) {
		ssize_t w = write(p->fd, p->buf + done, p->buf_len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return write_failed(p);
		done += (size_t)w;
	}
	p->buf_len = 0;
	return 0;
}

static int out_write(struct packer *p, const void *data, size_t len)
{
	const char *s = data;
	while (len) {
		if (p->buf_len == sizeof(p->buf) && out_flush(p) < 0)
			return -1;
		size_t k = sizeof(p->buf) - p->buf_len;
		if (k > len)
			k = len;
		memcpy(p->buf + p->buf_len, s, k);
		p->buf_len += k;
		s += k;
		len -= k;
	}
	return 0;
}

/* Zero bytes from `len` up to the next multiple of 4. */
static int out_pad(struct packer *p, uint64_t len)
{
	static const char zeros[4];
	return out_write(p, zeros, (size_t)(pad4(len) - len));
}

/* Write an entry's header and padded name; its `size` data bytes and their padding follow. */
static int out_header(struct packer *p, const char *name, uint32_t ino, uint32_t mode, uint32_t nlink,
		      uint32_t mtime, uint64_t size)
{
	char hdr[MOTE_CPIO_HEADER_SIZE + 1];
	uint32_t namesize = (uint32_t)strlen(name) + 1;
	/* ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check */
	snprintf(hdr, sizeof(hdr), "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", ino, mode,
		 0u, 0u, nlink, mtime, (uint32_t)size, 0u, 0u, 0u, 0u, namesize, 0u);
	if (out_write(p, hdr, MOTE_CPIO_HEADER_SIZE) < 0 || out_write(p, name, namesize) < 0)
		return -1;
	return out_pad(p, MOTE_CPIO_HEADER_SIZE + namesize);
}

/* Count an entry against MOTE_ROOTFS_MAX_IMAGE, keeping room for the trailer; `what` names it in errors. */
static int account(struct packer *p, const char *what, size_t name_len, uint64_t size)
{
	uint64_t room = MOTE_ROOTFS_MAX_IMAGE - TRAILER_BYTES - p->bytes;
	if (size > room || pad4(MOTE_CPIO_HEADER_SIZE + name_len + 1) + pad4(size) > room)
		return mote_errf(p->err, MOTE_STATUS_ROOTFS, "rootfs: %s: the image would exceed 4 GiB",
				 what);
	p->bytes += pad4(MOTE_CPIO_HEADER_SIZE + name_len + 1) + pad4(size);
	return 0;
}

/*
 * Add an entry to the cache key: its name with its NUL (names hold no NUL), fixed-format numbers ending in
 * the target's length, then the target, so that no two different manifests hash the same bytes.
 */
static void key_add(struct packer *p, const struct stat *st, const char *target, size_t target_len)
{
	if (!p->md)
		return;
	char line[256];
	int n = snprintf(line, sizeof(line), "%o %lld %lld.%09ld %lld.%09ld %llu %llu %zu\n",
			 (unsigned)st->st_mode, (long long)st->st_size, (long long)st->st_mtim.tv_sec,
			 st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec,
			 (unsigned long long)st->st_ino, (unsigned long long)st->st_dev, target_len);
	EVP_DigestUpdate(p->md, p->guest, p->guest_len + 1);
	EVP_DigestUpdate(p->md, line, (size_t)n);
	EVP_DigestUpdate(p->md, target, target_len);
}

/* newc holds 32-bit seconds: earlier times become 0, later ones the largest value. */
static uint32_t cpio_mtime(const struct stat *st)
{
	if (st->st_mtim.tv_sec < 0)
		return 0;
	return (uint64_t)st->st_mtim.tv_sec > UINT32_MAX ? UINT32_MAX : (uint32_t)st->st_mtim.tv_sec;
}

/* Add the directory p->guest with the metadata *st. */
static int add_dir(struct packer *p, const struct stat *st)
{
	key_add(p, st, "", 0);
	if (account(p, p->host, p->guest_len, 0) < 0)
		return -1;
	if (p->fd < 0)
		return 0;
	return out_header(p, p->guest, ++p->ino, st->st_mode, 2, cpio_mtime(st), 0);
}

/* Add the symlink p->host as p->guest, its target as data. */
static int add_symlink(struct packer *p, const struct stat *st)
{
	ssize_t n = readlink(p->host, p->target, sizeof(p->target));
	if (n < 0)
		return mote_errnof(p->err, MOTE_STATUS_ROOTFS, errno, "rootfs: cannot read symlink %s",
				   p->host);
	if ((size_t)n == sizeof(p->target))
		return mote_errf(p->err, MOTE_STATUS_ROOTFS, "rootfs: symlink %s: target too long", p->host);
	key_add(p, st, p->target, (size_t)n);
	if (account(p, p->host, p->guest_len, (uint64_t)n) < 0)
		return -1;
	if (p->fd < 0)
		return 0;
	if (out_header(p, p->guest, ++p->ino, st->st_mode, 1, cpio_mtime(st), (uint64_t)n) < 0 ||
	    out_write(p, p->target, (size_t)n) < 0 || out_pad(p, (uint64_t)n) < 0)
		return -1;
	return 0;
}

/*
 * Add the regular file p->host as p->guest. While only computing the key, *st is used as is; while packing,
 * the file is opened (without following a symlink unless `follow`) and its own fstat is used, so that the
 * header, the data and the key describe the same file.
 */
static int add_file(struct packer *p, const struct stat *st, int follow)
{
	if (p->fd < 0) {
		key_add(p, st, "", 0);
		return account(p, p->host, p->guest_len, (uint64_t)st->st_size);
	}
	int in = open(p->host, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW));
	if (in < 0)
		return mote_errnof(p->err, MOTE_STATUS_ROOTFS, errno, "rootfs: cannot read %s", p->host);
	int r = -1;
	struct stat fst;
	if (fstat(in, &fst) < 0) {
		mote_errnof(p->err, MOTE_STATUS_ROOTFS, errno, "rootfs: cannot stat %s", p->host);
		goto out;
	}
	if (!S_ISREG(fst.st_mode)) {
		mote_errf(p->err, MOTE_STATUS_ROOTFS, "rootfs: %s changed while being packed", p->host);
		goto out;
	}
	key_add(p, &fst, "", 0);
	uint64_t size = (uint64_t)fst.st_size;
	if (account(p, p->host, p->guest_len, size) < 0 ||
	    out_header(p, p->guest, ++p->ino, fst.st_mode, 1, cpio_mtime(&fst), size) < 0)
		goto out;
	for (uint64_t left = size; left;) {
		if (p->buf_len == sizeof(p->buf) && out_flush(p) < 0)
			goto out;
		size_t want = sizeof(p->buf) - p->buf_len;
		if (want > left)
			want = (size_t)left;
		ssize_t got = read(in, p->buf + p->buf_len, want);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			mote_errnof(p->err, MOTE_STATUS_ROOTFS, errno, "rootfs: cannot read %s", p->host);
			goto out;
		}
		if (got == 0) {
			mote_errf(p->err, MOTE_STATUS_ROOTFS, "rootfs: %s shrank while being packed",
				  p->host);
			goto out;
		}
		p->buf_len += (size_t)got;
		left -= (uint64_t)got;
	}
	r = out_pad(p, size);
out:
	close(in);
	return r;
}

/* Set p->host to `host` and p->guest to the first `guest_len` bytes of `guest`. */
static int set_paths(struct packer *p, const char *host, const char *guest, size_t guest_len)
{
	size_t host_len = strlen(host);
	if (host_len >= sizeof(p->host) || guest_len >= sizeof(p->guest))
		return mote_errf(p->err, MOTE_STATUS_ROOTFS, "rootfs: path too long: %s", host);
	memcpy(p->host, host, host_len + 1);
	memcpy(p->guest, guest, guest_len);
	p->guest[guest_len] = 0;
	p->host_len = host_len;
	p->guest_len = guest_len;
	return 0;
}

/* Append `name` to the directory paths p->host (of length host_len) and p->guest (of length guest_len). */
static int push_name(struct packer *p, size_t host_len, size_t guest_len, const char *name)
{
	size_t len = strlen(name);
	size_t host_sep = host_len && p->host[host_len - 1] != '/', guest_sep = guest_len != 0;
	if (host_len + host_sep + len >= sizeof(p->host) || guest_len + guest_sep + len >= sizeof(p->guest))
		return mote_errf(p->err, MOTE_STATUS_ROOTFS, "rootfs: path too long: %.*s/%s", (int)host_len,
				 p->host, name);
	p->host[host_len] = '/';
	memcpy(p->host + host_len + host_sep, name, len + 1);
	p->host_len = host_len + host_sep + len;
	p->guest[guest_len] = '/';
	memcpy(p->guest + guest_len + guest_sep, name, len + 1);
	p->guest_len = guest_len + guest_sep + len;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names)
{
	for (char **n = names; n && *n; n++)
		free(*n);
	free(names);
}

/* The names in directory p->host but "." and "..", sorted bytewise, NULL-terminated; NULL on error. */
static char **sorted_names(struct packer *p)
{
	DIR *d = opendir(p->host);
	if (!d) {
		mote_errnof(p->err, MOTE_STATUS_ROOTFS, errno, "rootfs: cannot open directory %s", p->host);
		return NULL;
	}
	char **names = calloc(1, sizeof(*names));
	size_t n = 0, cap = 1;
	for (;;) {
		if (!names)
			goto oom;
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n + 1 == cap) {
			char **more = realloc(names, 2 * cap * sizeof(*names));
			if (!more)
				goto oom;
			names = more;
			cap *= 2;
		}
		names[n] = strdup(de->d_name);
		names[++n] = NULL;
		if (!names[n - 1])
			goto oom;
	}
	if (errno) {
		mote_errnof(p->err, MOTE_STATUS_ROOTFS, errno, "rootfs: cannot read directory %s", p->host);
		free_names(names);
		names = NULL;
	}
	closedir(d);
	if (names)
		qsort(names, n, sizeof(*names), name_cmp);
	return names;
oom:
	closedir(d);
	free_names(names);
	mote_errf(p->err, MOTE_STATUS_HOST, "rootfs: out of memory reading directory %s", p->host);
	return NULL;
}

/* Add the contents of the directory p->host, named p->guest in the image ("" for the root), depth-first. */
static int walk_dir(struct packer *p)
{
	char **names = sorted_names(p);
	if (!names)
		return -1;
	size_t host_len = p->host_len, guest_len = p->guest_len;
	int r = 0;
	for (char **name = names; *name && r == 0; name++) {
		r = push_name(p, host_len, guest_len, *name);
		if (r < 0)
			break;
		struct stat st;
		if (lstat(p->host, &st) < 0)
			r = mote_errnof(p->err, MOTE_STATUS_ROOTFS, errno, "rootfs: cannot stat %s", p->host);
		else if (S_ISDIR(st.st_mode))
			r = add_dir(p, &st) < 0 ? -1 : walk_dir(p);
		else if (S_ISREG(st.st_mode))
			r = add_file(p, &st, 0);
		else if (S_ISLNK(st.st_mode))
			r = add_symlink(p, &st);
		/* Sockets, fifos and device nodes are skipped. */
	}
	p->host[p->host_len = host_len] = 0;
	p->guest[p->guest_len = guest_len] = 0;
	free_names(names);
	return r;
}

static int walk_root(struct packer *p, const void *arg)
{
	const char *dir = arg;
	size_t len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (len >= sizeof(p->host))
		return mote_errf(p->err, MOTE_STATUS_ROOTFS, "rootfs: path too long: %s", dir);
	memcpy(p->host, dir, len);
	p->host[p->host_len = len] = 0;
	/* The root directory itself, as ".": its mode and mtime are the guest's "/". */
	struct stat st;
	if (stat(p->host, &st) < 0)
		return mote_errnof(p->err, MOTE_STATUS_ROOTFS, errno, "rootfs: cannot stat %s", p->host);
	if (!S_ISDIR(st.st_mode))
		return mote_errf(p->err, MOTE_STATUS_ROOTFS, "rootfs: %s is not a directory", p->host);
	p->guest[0] = '.';
	p->guest[p->guest_len = 1] = 0;
	if (add_dir(p, &st) < 0)
		return -1;
	p->guest[p->guest_len = 0] = 0;
	return walk_dir(p);
}

/* The files of mote_rootfs_pack_files with normalised guest paths, in image order. */
struct file_list {
	size_t n;
	struct mote_rootfs_file files[];
};

/* Order paths as walk_dir would emit them: component by component, each bytewise. */
static int path_cmp(const void *a, const void *b)
{
	const unsigned char *x = (const unsigned char *)((const struct mote_rootfs_file *)a)->guest_path;
	const unsigned char *y = (const unsigned char *)((const struct mote_rootfs_file *)b)->guest_path;
	for (;; x++, y++) {
		unsigned cx = *x == '/' ? 1u : *x ? *x + 1u : 0u, cy = *y == '/' ? 1u : *y ? *y + 1u : 0u;
		if (cx != cy)
			return cx < cy ? -1 : 1;
		if (!*x)
			return 0;
	}
}

static int bad_guest_path(const char *g)
{
	if (!*g)
		return 1;
	for (const char *c = g;;) {
		size_t len = strcspn(c, "/");
		if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return 1;
		if (!c[len])
			return 0;
		c += len + 1;
	}
}

static struct file_list *file_list_new(const struct mote_rootfs_file *files, size_t n, struct mote_err *err)
{
	struct file_list *l = malloc(sizeof(*l) + n * sizeof(l->files[0]));
	if (!l) {
		mote_errf(err, MOTE_STATUS_HOST, "rootfs: out of memory");
		return NULL;
	}
	l->n = n;
	for (size_t i = 0; i < n; i++) {
		const char *g = files[i].guest_path ? files[i].guest_path : "";
		while (*g == '/')
			g++;
		if (bad_guest_path(g)) {
			mote_errf(err, MOTE_STATUS_ROOTFS, "rootfs: bad guest path '%s' for %s",
				  files[i].guest_path ? files[i].guest_path : "", files[i].host_path);
			free(l);
			return NULL;
		}
		l->files[i].host_path = files[i].host_path;
		l->files[i].guest_path = g;
	}
	if (n)
		qsort(l->files, n, sizeof(l->files[0]), path_cmp);
	/* In this order a clash is always between neighbours. */
	for (size_t i = 1; i < n; i++) {
		const char *a = l->files[i - 1].guest_path, *b = l->files[i].guest_path;
		size_t len = strlen(a);
		if (!strncmp(a, b, len) && (b[len] == 0 || b[len] == '/')) {
			mote_errf(err, MOTE_STATUS_ROOTFS, "rootfs: guest path '%s' is %s", a,
				  b[len] ? "both a file and a directory" : "given twice");
			free(l);
			return NULL;
		}
	}
	return l;
}

static int walk_files(struct packer *p, const void *arg)
{
	const struct file_list *l = arg;
	const char *prev = "";
	for (size_t i = 0; i < l->n; i++) {
		const char *h = l->files[i].host_path, *g = l->files[i].guest_path;
		/* Parent directories not already added for the previous file. */
		for (const char *s = strchr(g, '/'); s; s = strchr(s + 1, '/')) {
			size_t len = (size_t)(s - g);
			if (!strncmp(prev, g, len) && prev[len] == '/')
				continue;
			struct stat dir = {.st_mode = S_IFDIR | 0755};
			if (set_paths(p, "", g, len) < 0)
				return -1;
			memcpy(p->host, p->guest, len + 1); /* names it in messages */
			if (add_dir(p, &dir) < 0)
				return -1;
		}
		struct stat st;
		if (stat(h, &st) < 0)
			return mote_errnof(p->err, MOTE_STATUS_ROOTFS, errno, "rootfs: cannot stat %s", h);
		if (!S_ISREG(st.st_mode))
			return mote_errf(p->err, MOTE_STATUS_ROOTFS, "rootfs: %s is not a regular file", h);
		if (set_paths(p, h, g, strlen(g)) < 0 || add_file(p, &st, 1) < 0)
			return -1;
		prev = g;
	}
	return 0;
}

static struct packer *packer_new(struct mote_err *err)
{
	struct packer *p = calloc(1, sizeof(*p));
	if (!p) {
		mote_errf(err, MOTE_STATUS_HOST, "rootfs: out of memory");
		return NULL;
	}
	p->fd = -1;
	p->err = err;
	return p;
}

/* Run `walk` to write an image, with its trailer, to a new file whose name (beside out_path) goes to tmp. */
static int pack_to_temp(struct packer *p, walk_fn walk, const void *arg, const char *out_path, char *tmp,
			size_t tmp_size)
{
	static unsigned counter;
	int fd = -1;
	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		unsigned c = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
		int n = snprintf(tmp, tmp_size, "%s.tmp.%d.%u", out_path, (int)getpid(), c);
		if (n < 0 || (size_t)n >= tmp_size)
			return mote_errf(p->err, MOTE_STATUS_ROOTFS, "rootfs: path too long: %s", out_path);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0)
		return mote_errnof(p->err, MOTE_STATUS_ROOTFS, errno, "rootfs: cannot create %s", tmp);
	p->fd = fd;
	p->out_path = out_path;
	p->bytes = 0;
	p->ino = 0;
	p->buf_len = 0;
	int r = walk(p, arg);
	if (r == 0)
		r = out_header(p, MOTE_CPIO_TRAILER, 0, 0, 1, 0, 0);
	if (r == 0)
		r = out_flush(p);
	if (close(fd) < 0 && r == 0)
		r = write_failed(p);
	p->fd = -1;
	if (r < 0)
		unlink(tmp);
	return r;
}

static int pack(walk_fn walk, const void *arg, const char *out_path, struct mote_err *err)
{
	struct packer *p = packer_new(err);
	if (!p)
		return -1;
	char tmp[PATH_MAX + 64];
	int r = pack_to_temp(p, walk, arg, out_path, tmp, sizeof(tmp));
	if (r == 0 && rename(tmp, out_path) < 0) {
		r = mote_errnof(err, MOTE_STATUS_ROOTFS, errno, "rootfs: cannot rename %s to %s", tmp,
				out_path);
		unlink(tmp);
	}
	free(p);
	return r;
}

int mote_rootfs_pack_dir(const char *dir, const char *out_path, struct mote_err *err)
{
	return pack(walk_root, dir, out_path, err);
}

int mote_rootfs_pack_files(const struct mote_rootfs_file *files, size_t n, const char *out_path,
			   struct mote_err *err)
{
	struct file_list *l = file_list_new(files, n, err);
	if (!l)
		return -1;
	int r = pack(walk_files, l, out_path, err);
	free(l);
	return r;
}

int mote_rootfs_cache_dir(char *out, size_t size, struct mote_err *err)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;
	/* The XDG spec: a relative XDG_CACHE_HOME is invalid and ignored. */
	if (xdg && xdg[0] == '/')
		n = snprintf(out, size, "%s/mote/rootfs", xdg);
	else if (home && home[0] == '/')
		n = snprintf(out, size, "%s/.cache/mote/rootfs", home);
	else
		return mote_errf(
		    err, MOTE_STATUS_ROOTFS,
		    "rootfs: no cache directory: set HOME or XDG_CACHE_HOME to an absolute path");
	if (n < 0 || (size_t)n >= size)
		return mote_errf(err, MOTE_STATUS_ROOTFS, "rootfs: cache directory path too long");
	return 0;
}

/* mkdir -p with mode 0700 for what is created. */
static int make_dirs(const char *path, struct mote_err *err)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *s = buf + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = 0;
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return mote_errnof(err, MOTE_STATUS_ROOTFS, errno,
					   "rootfs: cannot create cache directory %s", buf);
		*s = c;
		if (!c)
			break;
	}
	struct stat st;
	if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
		return mote_errf(err, MOTE_STATUS_ROOTFS, "rootfs: cache directory %s is not a directory",
				 buf);
	return 0;
}

/* Finish the key in p->md and store the image path for it in out. */
static int key_path(struct packer *p, const char *dir, char *out, size_t size)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	if (EVP_DigestFinal_ex(p->md, digest, &len) != 1 || len != 32)
		return mote_errf(p->err, MOTE_STATUS_HOST, "rootfs: SHA-256 failed");
	char hex[65];
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	int n = snprintf(out, size, "%s/%s.cpio", dir, hex);
	if (n < 0 || (size_t)n >= size)
		return mote_errf(p->err, MOTE_STATUS_ROOTFS, "rootfs: cache path too long: %s/%s.cpio", dir,
				 hex);
	return 0;
}

static int key_begin(struct packer *p)
{
	if (EVP_DigestInit_ex(p->md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(p->md, ROOTFS_KEY_VERSION, strlen(ROOTFS_KEY_VERSION)) != 1)
		return mote_errf(p->err, MOTE_STATUS_HOST, "rootfs: SHA-256 failed");
	return 0;
}

/*
 * Compute the key with `walk` (metadata only); if the cache has no image under it, pack one with `walk`,
 * computing the key again as it goes, and rename it to the name of that second key: if the tree changed
 * in between, the image is filed under the state it holds.
 */
static int cached(walk_fn walk, const void *arg, char *out_path, size_t out_size, struct mote_err *err)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 64];
	if (mote_rootfs_cache_dir(dir, sizeof(dir), err) < 0)
		return -1;
	struct packer *p = packer_new(err);
	if (!p)
		return -1;
	int r = -1;
	p->md = EVP_MD_CTX_new();
	if (!p->md) {
		mote_errf(err, MOTE_STATUS_HOST, "rootfs: out of memory");
		goto out;
	}
	if (key_begin(p) < 0 || walk(p, arg) < 0 || key_path(p, dir, out_path, out_size) < 0)
		goto out;
	struct stat st;
	if (stat(out_path, &st) == 0 && S_ISREG(st.st_mode)) {
		r = 0;
		goto out;
	}
	if (make_dirs(dir, err) < 0 || key_begin(p) < 0 ||
	    pack_to_temp(p, walk, arg, out_path, tmp, sizeof(tmp)) < 0)
		goto out;
	if (key_path(p, dir, out_path, out_size) < 0) {
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, out_path) < 0) {
		mote_errnof(err, MOTE_STATUS_ROOTFS, errno, "rootfs: cannot rename %s to %s", tmp, out_path);
		unlink(tmp);
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(p->md);
	free(p);
	return r;
}

int mote_rootfs_cached_dir(const char *dir, char *out_path, size_t out_size, struct mote_err *err)
{
	return cached(walk_root, dir, out_path, out_size, err);
}

int mote_rootfs_cached_files(const struct mote_rootfs_file *files, size_t n, char *out_path, size_t out_size,
			     struct mote_err *err)
{
	struct file_list *l = file_list_new(files, n, err);
	if (!l)
		return -1;
	int r = cached(walk_files, l, out_path, out_size, err);
	free(l);
	return r;
}
