/* Packing host files and directories into cpio newc rootfs images, cached by a key over their metadata. */
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

#include "status.h"

#define ROOTFS_FORMAT "mote-rootfs-v1"

struct packer {
	FILE *out;       /* NULL while only computing the key */
	EVP_MD_CTX *md;  /* key digest */
	uint32_t ino;
	uint64_t bytes;
	struct mote_err *err;
};

static int write_padded(struct packer *p, const void *data, size_t len)
{
	static const char zeros[4];
	if (fwrite(data, 1, len, p->out) != len)
		return -1;
	size_t pad = (4 - (p->bytes + len) % 4) % 4;
	p->bytes += len + pad;
	return pad && fwrite(zeros, 1, pad, p->out) != pad ? -1 : 0;
}

static int emit_header(struct packer *p, const char *name, uint32_t mode, uint64_t size, uint32_t mtime)
{
	char hdr[160];
	size_t namesize = strlen(name) + 1;
	snprintf(hdr, sizeof(hdr), "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08zx%08x", ++p->ino, mode, 0,
		 0, 1, mtime, (unsigned)size, 0, 0, 0, 0, namesize, 0);
	if (fwrite(hdr, 1, 110, p->out) != 110)
		return -1;
	p->bytes += 110;
	return write_padded(p, name, namesize);
}

/* Add one entry: to the key digest always, to the archive when packing. */
static int add_entry(struct packer *p, const char *host, const char *name, const struct stat *st)
{
	char target[PATH_MAX];
	ssize_t tlen = 0;
	if (S_ISLNK(st->st_mode)) {
		tlen = readlink(host, target, sizeof(target));
		if (tlen < 0)
			return mote_errnof(p->err, MOTE_STATUS_ROOTFS, errno, "rootfs: cannot read symlink %s", host);
	}
	char meta[PATH_MAX + 256];
	/* ctime too: it changes on every write and cannot be set back, unlike mtime. */
	int n = snprintf(meta, sizeof(meta), "%s|%o|%lld|%lld.%09ld|%lld.%09ld|%llu|%llu|%.*s\n", name, st->st_mode,
			 (long long)st->st_size, (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
			 (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec,
			 (unsigned long long)st->st_ino, (unsigned long long)st->st_dev, (int)tlen, target);
	EVP_DigestUpdate(p->md, meta, (size_t)n);
	if (!p->out)
		return 0;
	uint32_t mtime = (uint32_t)st->st_mtim.tv_sec;
	if (S_ISLNK(st->st_mode))
		return emit_header(p, name, st->st_mode, (uint64_t)tlen, mtime) < 0 ||
				       write_padded(p, target, (size_t)tlen) < 0
			       ? mote_errnof(p->err, MOTE_STATUS_ROOTFS, errno, "rootfs: write failed")
			       : 0;
	if (S_ISDIR(st->st_mode))
		return emit_header(p, name, st->st_mode, 0, mtime) < 0
			       ? mote_errnof(p->err, MOTE_STATUS_ROOTFS, errno, "rootfs: write failed")
			       : 0;
	if (st->st_size > (off_t)UINT32_MAX)
		return mote_errf(p->err, MOTE_STATUS_ROOTFS, "rootfs: %s is larger than 4 GiB", host);
	FILE *in = fopen(host, "rb");
	if (!in)
		return mote_errnof(p->err, MOTE_STATUS_ROOTFS, errno, "rootfs: cannot read %s", host);
	if (emit_header(p, name, st->st_mode, (uint64_t)st->st_size, mtime) < 0) {
		fclose(in);
		return mote_errnof(p->err, MOTE_STATUS_ROOTFS, errno, "rootfs: write failed");
	}
	char buf[65536];
	uint64_t left = (uint64_t)st->st_size;
	while (left) {
		size_t got = fread(buf, 1, left < sizeof(buf) ? left : sizeof(buf), in);
		if (got == 0 || fwrite(buf, 1, got, p->out) != got) {
			fclose(in);
			return mote_errf(p->err, MOTE_STATUS_ROOTFS, "rootfs: %s changed or could not be copied", host);
		}
		left -= got;
	}
	fclose(in);
	p->bytes += (uint64_t)st->st_size;
	size_t pad = (4 - p->bytes % 4) % 4;
	p->bytes += pad;
	return fwrite("\0\0\0", 1, pad, p->out) == pad ? 0 : -1;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walk `host` (a directory) in sorted order; `rel` is its path in the image ("" for the root). */
static int walk_dir(struct packer *p, const char *host, const char *rel)
{
	DIR *d = opendir(host);
	if (!d)
		return mote_errnof(p->err, MOTE_STATUS_ROOTFS, errno, "rootfs: cannot open directory %s", host);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **nn = realloc(names, cap * sizeof(*names));
			if (!nn)
				break;
			names = nn;
		}
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		char hpath[PATH_MAX], gpath[PATH_MAX];
		snprintf(hpath, sizeof(hpath), "%s/%s", host, names[i]);
		snprintf(gpath, sizeof(gpath), "%s%s%s", rel, *rel ? "/" : "", names[i]);
		struct stat st;
		if (lstat(hpath, &st) < 0) {
			r = mote_errnof(p->err, MOTE_STATUS_ROOTFS, errno, "rootfs: cannot stat %s", hpath);
			break;
		}
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
			continue; /* sockets, fifos and devices are not packed */
		r = add_entry(p, hpath, gpath, &st);
		if (r == 0 && S_ISDIR(st.st_mode))
			r = walk_dir(p, hpath, gpath);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static int cache_path(EVP_MD_CTX *md, char *out, size_t size, struct mote_err *err)
{
	unsigned char digest[32];
	unsigned len = 0;
	EVP_DigestFinal_ex(md, digest, &len);
	char hex[65];
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char dir[PATH_MAX];
	if (xdg && *xdg)
		snprintf(dir, sizeof(dir), "%s/mote", xdg);
	else
		snprintf(dir, sizeof(dir), "%s/.cache/mote", home && *home ? home : "/tmp");
	char sub[PATH_MAX + 16];
	snprintf(sub, sizeof(sub), "%s/rootfs", dir);
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", dir);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = 0;
		mkdir(parent, 0700);
	}
	mkdir(dir, 0700);
	if (mkdir(sub, 0700) < 0 && errno != EEXIST)
		return mote_errnof(err, MOTE_STATUS_ROOTFS, errno, "rootfs cache %s", sub);
	if ((size_t)snprintf(out, size, "%s/%s.cpio", sub, hex) >= size)
		return mote_errf(err, MOTE_STATUS_ROOTFS, "rootfs cache path too long");
	return 0;
}

typedef int (*pack_fn)(struct packer *p, const void *arg);

/* Compute the key; if no image has it, pack into a temp file and rename it into place. */
static int cached(pack_fn fn, const void *arg, char *out, size_t size, struct mote_err *err)
{
	struct packer p = { .md = EVP_MD_CTX_new(), .err = err };
	if (!p.md)
		return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
	EVP_DigestInit_ex(p.md, EVP_sha256(), NULL);
	EVP_DigestUpdate(p.md, ROOTFS_FORMAT, strlen(ROOTFS_FORMAT));
	int r = fn(&p, arg);
	if (r == 0)
		r = cache_path(p.md, out, size, err);
	EVP_MD_CTX_free(p.md);
	if (r < 0 || access(out, R_OK) == 0)
		return r;

	char tmp[PATH_MAX + 32];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", out, (int)getpid());
	struct packer w = { .md = EVP_MD_CTX_new(), .err = err };
	w.out = fopen(tmp, "wbx");
	if (!w.out || !w.md) {
		if (w.out)
			fclose(w.out);
		EVP_MD_CTX_free(w.md);
		return mote_errnof(err, MOTE_STATUS_ROOTFS, errno, "cannot create %s", tmp);
	}
	EVP_DigestInit_ex(w.md, EVP_sha256(), NULL);
	r = fn(&w, arg);
	if (r == 0) {
		static const char trailer[] = "TRAILER!!!";
		if (emit_header(&w, trailer, 0, 0, 0) < 0)
			r = mote_errnof(err, MOTE_STATUS_ROOTFS, errno, "write %s", tmp);
	}
	if (fclose(w.out) != 0 && r == 0)
		r = mote_errnof(err, MOTE_STATUS_ROOTFS, errno, "write %s", tmp);
	EVP_MD_CTX_free(w.md);
	if (r == 0 && rename(tmp, out) < 0)
		r = mote_errnof(err, MOTE_STATUS_ROOTFS, errno, "rename %s", tmp);
	if (r < 0)
		unlink(tmp);
	return r;
}

static int pack_dir(struct packer *p, const void *arg)
{
	return walk_dir(p, arg, "");
}

struct file_list {
	const struct mote_rootfs_file *files;
	size_t n;
};

static int pack_files(struct packer *p, const void *arg)
{
	const struct file_list *l = arg;
	for (size_t i = 0; i < l->n; i++) {
		struct stat st;
		if (stat(l->files[i].host_path, &st) < 0)
			return mote_errnof(p->err, MOTE_STATUS_ROOTFS, errno, "rootfs: cannot stat %s", l->files[i].host_path);
		if (!S_ISREG(st.st_mode))
			return mote_errf(p->err, MOTE_STATUS_ROOTFS, "rootfs: %s is not a regular file",
					 l->files[i].host_path);
		if (add_entry(p, l->files[i].host_path, l->files[i].guest_path, &st) < 0)
			return -1;
	}
	return 0;
}

int mote_rootfs_cached_dir(const char *dir, char *out_path, size_t out_size, struct mote_err *err)
{
	return cached(pack_dir, dir, out_path, out_size, err);
}

int mote_rootfs_cached_files(const struct mote_rootfs_file *files, size_t n, char *out_path, size_t out_size,
			     struct mote_err *err)
{
	struct file_list l = { files, n };
	return cached(pack_files, &l, out_path, out_size, err);
}
