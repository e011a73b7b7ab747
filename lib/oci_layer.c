/* A file tree built in memory and written as one deterministic OCI layer (tar, then tar+gzip). */
#include "oci_layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <openssl/evp.h>

#include "status.h"

struct node {
	char *path; /* normalized: no leading '/', no empty, "." or ".." components */
	char kind;  /* 'f', 'd', 'l' */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	char *host;   /* 'f' from a host file */
	void *data;   /* 'f' held in memory */
	size_t len;   /* its size */
	char *target; /* 'l' */
};

struct oci_tree {
	struct node **v; /* sorted by strcmp(path) */
	size_t n, cap;
};

struct oci_tree *oci_tree_new(void)
{
	return calloc(1, sizeof(struct oci_tree));
}

static void node_free(struct node *nd)
{
	if (!nd)
		return;
	free(nd->path);
	free(nd->host);
	free(nd->data);
	free(nd->target);
	free(nd);
}

void oci_tree_free(struct oci_tree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		node_free(t->v[i]);
	free(t->v);
	free(t);
}

/* Normalize `path` into a malloc'd string ("" for the root); NULL with err on ".." or out of memory. */
static char *normalize(const char *path, struct mote_err *err)
{
	size_t len = strlen(path);
	char *out = malloc(len + 1);
	if (!out) {
		mote_errf(err, MOTE_STATUS_HOST, "out of memory");
		return NULL;
	}
	size_t o = 0;
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = p;
		while (*e && *e != '/')
			e++;
		size_t n = (size_t)(e - p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			free(out);
			mote_errf(err, MOTE_STATUS_BUILD_INPUT,
				  "path %s: '..' is not allowed in an image path", path);
			return NULL;
		}
		if (n && !(n == 1 && p[0] == '.')) {
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p = e;
	}
	out[o] = 0;
	return out;
}

/* Index of `path` in t->v, or -(insertion point) - 1. */
static long find(const struct oci_tree *t, const char *path)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->v[mid]->path, path);
		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

/* Remove every entry below directory `path` (they are contiguous after it in sorted order). */
static void remove_below(struct oci_tree *t, size_t at, const char *path)
{
	size_t len = strlen(path), e = at + 1;
	while (e < t->n && !strncmp(t->v[e]->path, path, len) && t->v[e]->path[len] == '/')
		node_free(t->v[e++]);
	memmove(t->v + at + 1, t->v + e, (t->n - e) * sizeof(*t->v));
	t->n -= e - at - 1;
}

/* Put node nd (owned) at its path, replacing what is there. */
static int insert(struct oci_tree *t, struct node *nd, struct mote_err *err)
{
	long i = find(t, nd->path);
	if (i >= 0) {
		struct node *old = t->v[i];
		if (old->kind == 'd' && nd->kind != 'd')
			remove_below(t, (size_t)i, nd->path);
		t->v[i] = nd;
		node_free(old);
		return 0;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct node **v = realloc(t->v, cap * sizeof(*v));
		if (!v) {
			node_free(nd);
			return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
		}
		t->v = v;
		t->cap = cap;
	}
	size_t at = (size_t)(-i - 1);
	memmove(t->v + at + 1, t->v + at, (t->n - at) * sizeof(*t->v));
	t->v[at] = nd;
	t->n++;
	return 0;
}

/* Make sure every parent directory of normalized `path` is a directory in the tree. */
static int make_parents(struct oci_tree *t, const char *path, struct mote_err *err)
{
	size_t len = strlen(path);
	char *buf = strdup(path);
	if (!buf)
		return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
	for (size_t k = 0; k < len; k++) {
		if (buf[k] != '/')
			continue;
		buf[k] = 0;
		long i = find(t, buf);
		if (i < 0 || t->v[i]->kind != 'd') {
			struct node *nd = calloc(1, sizeof(*nd));
			if (!nd || !(nd->path = strdup(buf))) {
				free(nd);
				free(buf);
				return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
			}
			nd->kind = 'd';
			nd->mode = 0755;
			if (insert(t, nd, err) < 0) {
				free(buf);
				return -1;
			}
		}
		buf[k] = '/';
	}
	free(buf);
	return 0;
}

/* A new node for `path` (normalized, parents made); NULL with err set. */
static struct node *new_node(struct oci_tree *t, const char *path, char kind, mode_t mode, uid_t uid,
			     gid_t gid, struct mote_err *err)
{
	char *np = normalize(path, err);
	if (!np)
		return NULL;
	if (!*np && kind != 'd') {
		free(np);
		mote_errf(err, MOTE_STATUS_BUILD_INPUT,
			  "path %s: the root of the image can only be a directory", path);
		return NULL;
	}
	if (make_parents(t, np, err) < 0) {
		free(np);
		return NULL;
	}
	struct node *nd = calloc(1, sizeof(*nd));
	if (!nd) {
		free(np);
		mote_errf(err, MOTE_STATUS_HOST, "out of memory");
		return NULL;
	}
	nd->path = np;
	nd->kind = kind;
	nd->mode = mode & 07777;
	nd->uid = uid;
	nd->gid = gid;
	return nd;
}

int oci_tree_add_dir(struct oci_tree *t, const char *path, mode_t mode, uid_t uid, gid_t gid,
		     struct mote_err *err)
{
	struct node *nd = new_node(t, path, 'd', mode, uid, gid, err);
	if (!nd)
		return -1;
	if (!*nd->path) { /* the root: nothing to store */
		node_free(nd);
		return 0;
	}
	long i = find(t, nd->path);
	if (i >= 0 && t->v[i]->kind == 'd') {
		t->v[i]->mode = nd->mode;
		t->v[i]->uid = uid;
		t->v[i]->gid = gid;
		node_free(nd);
		return 0;
	}
	return insert(t, nd, err);
}

int oci_tree_add_host_file(struct oci_tree *t, const char *path, const char *host_path, mode_t mode,
			   uid_t uid, gid_t gid, struct mote_err *err)
{
	struct stat st;
	if (stat(host_path, &st) < 0)
		return mote_errnof(err, MOTE_STATUS_BUILD_INPUT, errno, "%s", host_path);
	struct node *nd = new_node(t, path, 'f', mode, uid, gid, err);
	if (!nd)
		return -1;
	nd->host = strdup(host_path);
	nd->len = (size_t)st.st_size;
	if (!nd->host) {
		node_free(nd);
		return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
	}
	return insert(t, nd, err);
}

int oci_tree_add_data(struct oci_tree *t, const char *path, const void *data, size_t len, mode_t mode,
		      uid_t uid, gid_t gid, struct mote_err *err)
{
	struct node *nd = new_node(t, path, 'f', mode, uid, gid, err);
	if (!nd)
		return -1;
	nd->data = malloc(len ? len : 1);
	if (!nd->data) {
		node_free(nd);
		return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
	}
	if (len)
		memcpy(nd->data, data, len);
	nd->len = len;
	return insert(t, nd, err);
}

int oci_tree_add_symlink(struct oci_tree *t, const char *path, const char *target, uid_t uid, gid_t gid,
			 struct mote_err *err)
{
	struct node *nd = new_node(t, path, 'l', 0777, uid, gid, err);
	if (!nd)
		return -1;
	nd->target = strdup(target);
	if (!nd->target) {
		node_free(nd);
		return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
	}
	return insert(t, nd, err);
}

static const struct node *lookup(const struct oci_tree *t, const char *path)
{
	struct mote_err e;
	char *np = normalize(path, &e);
	if (!np)
		return NULL;
	long i = find(t, np);
	free(np);
	return i >= 0 ? t->v[i] : NULL;
}

int oci_tree_kind(const struct oci_tree *t, const char *path)
{
	const struct node *nd = lookup(t, path);
	if (!nd) {
		struct mote_err e;
		char *np = normalize(path, &e);
		int root = np && !*np;
		free(np);
		return root ? 'd' : 0;
	}
	return nd->kind;
}

int oci_tree_read(const struct oci_tree *t, const char *path, void **data, size_t *len, struct mote_err *err)
{
	const struct node *nd = lookup(t, path);
	if (!nd || nd->kind != 'f')
		return mote_errf(err, MOTE_STATUS_BUILD_INPUT, "%s is not a regular file in the image", path);
	if (nd->data) {
		*data = malloc(nd->len ? nd->len : 1);
		if (!*data)
			return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
		memcpy(*data, nd->data, nd->len);
		*len = nd->len;
		return 0;
	}
	int fd = open(nd->host, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mote_errnof(err, MOTE_STATUS_BUILD_INPUT, errno, "%s", nd->host);
	char *buf = malloc(nd->len ? nd->len : 1);
	size_t got = 0;
	while (buf && got < nd->len) {
		ssize_t r = read(fd, buf + got, nd->len - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (!buf || got != nd->len) {
		free(buf);
		return mote_errf(err, MOTE_STATUS_BUILD_INPUT, "%s: cannot read it (changed while building?)",
				 nd->host);
	}
	*data = buf;
	*len = got;
	return 0;
}

/* ---- unpacking a tar archive (ADD) ------------------------------------------------------------------ */

int oci_tree_add_tar(struct oci_tree *t, const char *dest, const char *archive, struct mote_err *err)
{
	struct archive *a = archive_read_new();
	if (!a)
		return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	int rc = -1, first = 1;
	char *path = NULL, *data = NULL;
	if (archive_read_open_filename(a, archive, 65536) != ARCHIVE_OK) {
		if (archive_errno(a) == EILSEQ || archive_errno(a) == EINVAL)
			rc = 0; /* not an archive */
		else
			mote_errf(err, MOTE_STATUS_BUILD_INPUT, "%s: %s", archive, archive_error_string(a));
		goto out;
	}
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			if (first) {
				rc = 0; /* not a tar archive: the caller copies the file as it is */
				goto out;
			}
			mote_errf(err, MOTE_STATUS_BUILD_INPUT, "%s: %s", archive, archive_error_string(a));
			goto out;
		}
		first = 0;
		const char *name = archive_entry_pathname(e);
		if (!name)
			continue;
		size_t n = strlen(dest) + strlen(name) + 2;
		free(path);
		path = malloc(n);
		if (!path) {
			mote_errf(err, MOTE_STATUS_HOST, "out of memory");
			goto out;
		}
		snprintf(path, n, "%s/%s", dest, name);
		mode_t mode = archive_entry_perm(e);
		uid_t uid = (uid_t)archive_entry_uid(e);
		gid_t gid = (gid_t)archive_entry_gid(e);
		const char *hard = archive_entry_hardlink(e);
		int ok;
		if (hard) {
			size_t hn = strlen(dest) + strlen(hard) + 2;
			char *hp = malloc(hn);
			void *buf = NULL;
			size_t len = 0;
			ok = -1;
			if (hp) {
				snprintf(hp, hn, "%s/%s", dest, hard);
				const struct node *src = lookup(t, hp);
				if (!src || src->kind != 'f')
					mote_errf(err, MOTE_STATUS_BUILD_INPUT,
						  "%s: hard link %s to %s, which is not an earlier file",
						  archive, name, hard);
				else if (oci_tree_read(t, hp, &buf, &len, err) == 0)
					ok = oci_tree_add_data(t, path, buf, len, src->mode, src->uid,
							       src->gid, err);
			}
			free(hp);
			free(buf);
		} else {
			switch (archive_entry_filetype(e)) {
			case AE_IFDIR: ok = oci_tree_add_dir(t, path, mode, uid, gid, err); break;
			case AE_IFLNK: {
				const char *target = archive_entry_symlink(e);
				ok = oci_tree_add_symlink(t, path, target ? target : "", uid, gid, err);
				break;
			}
			case AE_IFREG: {
				int64_t size = archive_entry_size(e);
				if (size < 0 || (uint64_t)size > SIZE_MAX / 2) {
					mote_errf(err, MOTE_STATUS_BUILD_INPUT, "%s: %s: bad size", archive,
						  name);
					goto out;
				}
				free(data);
				data = malloc((size_t)size + 1);
				if (!data) {
					mote_errf(err, MOTE_STATUS_HOST, "out of memory");
					goto out;
				}
				la_ssize_t got = size ? archive_read_data(a, data, (size_t)size) : 0;
				if (got != size) {
					mote_errf(err, MOTE_STATUS_BUILD_INPUT, "%s: %s: %s", archive, name,
						  got < 0 ? archive_error_string(a) : "truncated");
					goto out;
				}
				ok = oci_tree_add_data(t, path, data, (size_t)size, mode, uid, gid, err);
				break;
			}
			default:
				mote_errf(err, MOTE_STATUS_BUILD_INPUT,
					  "%s: %s is a device, FIFO or socket: only files, directories and "
					  "links are "
					  "added",
					  archive, name);
				goto out;
			}
		}
		if (ok < 0) {
			/* name the archive in front of the reason */
			char m[sizeof(err->msg)];
			memcpy(m, err->msg, sizeof(m));
			mote_errf(err, err->status, "%s: %s", archive, m);
			goto out;
		}
	}
	rc = first ? 0 : 1;
	if (first && archive_filter_count(a) > 1)
		rc = 1; /* an empty compressed tar */
out:
	free(path);
	free(data);
	archive_read_free(a);
	return rc;
}

/* ---- writing ---------------------------------------------------------------------------------------- */

/* An output file being written and hashed. */
struct sink {
	int fd;
	EVP_MD_CTX *md;
	uint64_t size;
	int failed;
	int errnum;
};

static int sink_open(struct sink *s, const char *path, struct mote_err *err)
{
	*s = (struct sink){.fd = -1};
	s->md = EVP_MD_CTX_new();
	if (!s->md || !EVP_DigestInit_ex(s->md, EVP_sha256(), NULL))
		return mote_errf(err, MOTE_STATUS_HOST, "cannot set up SHA-256");
	s->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (s->fd < 0)
		return mote_errnof(err, MOTE_STATUS_IMAGE_WRITE, errno, "%s", path);
	return 0;
}

static void sink_write(struct sink *s, const void *buf, size_t len)
{
	if (s->failed)
		return;
	EVP_DigestUpdate(s->md, buf, len);
	s->size += len;
	const char *p = buf;
	while (len) {
		ssize_t w = write(s->fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->failed = 1;
			s->errnum = w < 0 ? errno : EIO;
			return;
		}
		p += w;
		len -= (size_t)w;
	}
}

static void hex_digest(EVP_MD_CTX *md, char out[7 + 64 + 1])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_DigestFinal_ex(md, d, &n);
	strcpy(out, "sha256:");
	for (unsigned i = 0; i < n && i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", d[i]);
}

/* Close the sink, filling *blob; -1 with err if any write failed. */
static int sink_close(struct sink *s, const char *path, struct oci_blob *blob, struct mote_err *err)
{
	int rc = 0;
	if (s->failed)
		rc = mote_errnof(err, MOTE_STATUS_IMAGE_WRITE, s->errnum, "%s", path);
	if (s->fd >= 0 && close(s->fd) < 0 && !rc)
		rc = mote_errnof(err, MOTE_STATUS_IMAGE_WRITE, errno, "%s", path);
	s->fd = -1;
	if (s->md) {
		if (!rc && blob) {
			hex_digest(s->md, blob->digest);
			blob->size = s->size;
			snprintf(blob->path, sizeof(blob->path), "%s", path);
		}
		EVP_MD_CTX_free(s->md);
		s->md = NULL;
	}
	return rc;
}

void oci_digest_bytes(const void *data, size_t len, char out[7 + 64 + 1])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, data, len);
	hex_digest(md, out);
	EVP_MD_CTX_free(md);
}

int oci_digest_file(const char *path, struct oci_blob *blob, struct mote_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mote_errnof(err, MOTE_STATUS_BUILD_INPUT, errno, "%s", path);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	char buf[65536];
	ssize_t r;
	uint64_t size = 0;
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(md, buf, (size_t)r);
		size += (uint64_t)r;
	}
	int e = errno;
	close(fd);
	if (r < 0) {
		EVP_MD_CTX_free(md);
		return mote_errnof(err, MOTE_STATUS_BUILD_INPUT, e, "%s", path);
	}
	hex_digest(md, blob->digest);
	EVP_MD_CTX_free(md);
	blob->size = size;
	snprintf(blob->path, sizeof(blob->path), "%s", path);
	return 0;
}

static la_ssize_t tar_write_cb(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct sink *s = ctx;
	sink_write(s, buf, len);
	return s->failed ? -1 : (la_ssize_t)len;
}

/* Copy host file nd->host (nd->len bytes) into the archive. */
static int write_host_data(struct archive *a, const struct node *nd, struct mote_err *err)
{
	int fd = open(nd->host, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mote_errnof(err, MOTE_STATUS_BUILD_INPUT, errno, "%s", nd->host);
	char buf[65536];
	size_t left = nd->len;
	while (left) {
		ssize_t r = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			close(fd);
			return mote_errf(err, MOTE_STATUS_BUILD_INPUT, "%s: shorter than when it was copied",
					 nd->host);
		}
		if (archive_write_data(a, buf, (size_t)r) != r) {
			close(fd);
			return mote_errf(err, MOTE_STATUS_IMAGE_WRITE, "layer: %s", archive_error_string(a));
		}
		left -= (size_t)r;
	}
	close(fd);
	return 0;
}

static int write_tar(const struct oci_tree *t, int64_t mtime, struct sink *s, struct mote_err *err)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	int rc = -1;
	if (!a || !e) {
		mote_errf(err, MOTE_STATUS_HOST, "out of memory");
		goto out;
	}
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_open(a, s, NULL, tar_write_cb, NULL) != ARCHIVE_OK) {
		mote_errf(err, MOTE_STATUS_IMAGE_WRITE, "layer: %s", archive_error_string(a));
		goto out;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct node *nd = t->v[i];
		archive_entry_clear(e);
		archive_entry_set_pathname(e, nd->path);
		archive_entry_set_uid(e, nd->uid);
		archive_entry_set_gid(e, nd->gid);
		archive_entry_set_mtime(e, mtime, 0);
		if (nd->kind == 'd') {
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, nd->mode);
		} else if (nd->kind == 'l') {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, nd->target);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, nd->mode);
			archive_entry_set_size(e, (la_int64_t)nd->len);
		}
		if (archive_write_header(a, e) < ARCHIVE_WARN) {
			mote_errf(err, MOTE_STATUS_IMAGE_WRITE, "layer: /%s: %s", nd->path,
				  archive_error_string(a));
			goto out;
		}
		if (nd->kind == 'f') {
			if (nd->data) {
				if (nd->len &&
				    archive_write_data(a, nd->data, nd->len) != (la_ssize_t)nd->len) {
					mote_errf(err, MOTE_STATUS_IMAGE_WRITE, "layer: %s",
						  archive_error_string(a));
					goto out;
				}
			} else if (write_host_data(a, nd, err) < 0) {
				goto out;
			}
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		mote_errf(err, MOTE_STATUS_IMAGE_WRITE, "layer: %s", archive_error_string(a));
		goto out;
	}
	rc = 0;
out:
	archive_entry_free(e);
	archive_write_free(a);
	return rc;
}

int oci_layer_write(const struct oci_tree *t, int64_t mtime, const char *tar_path, const char *gz_path,
		    struct oci_blob *tar, struct oci_blob *gz, struct mote_err *err)
{
	struct sink s;
	if (sink_open(&s, tar_path, err) < 0) {
		sink_close(&s, tar_path, NULL, err);
		return -1;
	}
	int rc = write_tar(t, mtime, &s, err);
	if (rc < 0) {
		struct mote_err ignored;
		sink_close(&s, tar_path, NULL, &ignored);
		return -1;
	}
	if (sink_close(&s, tar_path, tar, err) < 0)
		return -1;
	return oci_gzip_file(tar_path, gz_path, 0, gz, err);
}

int oci_gzip_file(const char *in, const char *out, int decompress, struct oci_blob *blob,
		  struct mote_err *err)
{
	int fd = open(in, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mote_errnof(err, MOTE_STATUS_BUILD_INPUT, errno, "%s", in);
	struct sink s;
	z_stream z = {0};
	int zr =
	    decompress ? inflateInit2(&z, 31) : deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
	if (zr != Z_OK) {
		close(fd);
		return mote_errf(err, MOTE_STATUS_HOST, "zlib: cannot start");
	}
	int rc = -1;
	if (sink_open(&s, out, err) < 0)
		goto out;
	static unsigned char ibuf[65536], obuf[65536];
	int done = 0;
	while (!done) {
		ssize_t r = read(fd, ibuf, sizeof(ibuf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			mote_errnof(err, MOTE_STATUS_BUILD_INPUT, errno, "%s", in);
			goto out;
		}
		z.next_in = ibuf;
		z.avail_in = (uInt)r;
		int flush = r == 0 ? Z_FINISH : Z_NO_FLUSH;
		do {
			z.next_out = obuf;
			z.avail_out = sizeof(obuf);
			zr = decompress ? inflate(&z, Z_NO_FLUSH) : deflate(&z, flush);
			if (zr == Z_STREAM_ERROR || zr == Z_DATA_ERROR || zr == Z_MEM_ERROR ||
			    (zr == Z_BUF_ERROR && decompress && r == 0)) {
				mote_errf(err, MOTE_STATUS_BUILD_INPUT, "%s: %s", in,
					  decompress ? "not valid gzip data (or truncated)" : "zlib failed");
				goto out;
			}
			sink_write(&s, obuf, sizeof(obuf) - z.avail_out);
			if (zr == Z_STREAM_END)
				done = 1;
		} while (z.avail_out == 0 && !done);
		if (r == 0 && !done && decompress) {
			mote_errf(err, MOTE_STATUS_BUILD_INPUT, "%s: truncated gzip data", in);
			goto out;
		}
	}
	rc = 0;
out:
	close(fd);
	if (decompress)
		inflateEnd(&z);
	else
		deflateEnd(&z);
	if (rc == 0)
		return sink_close(&s, out, blob, err);
	struct mote_err ignored;
	sink_close(&s, out, NULL, &ignored);
	return rc;
}
