/* A file tree built in memory and written as one deterministic OCI layer (tar, then tar+gzip). */
#ifndef MOTE_OCI_LAYER_H
#define MOTE_OCI_LAYER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* A blob written to a file: its path, "sha256:<hex>" digest and size in bytes. */
struct oci_blob {
	char path[4096];
	char digest[7 + 64 + 1];
	uint64_t size;
};

struct oci_tree;

/* A new empty tree, or NULL when out of memory. */
struct oci_tree *oci_tree_new(void);
void oci_tree_free(struct oci_tree *t);

/*
 * Paths inside the tree are absolute or relative to / ("usr/bin/x" is
 * "/usr/bin/x"); "." and empty components are dropped and ".." is refused.
 * Missing parent directories are created (mode 0755, owner 0:0). An entry
 * replaces what was at its path (a directory replaced by a file loses its
 * contents); adding a directory over a directory only updates its mode and
 * owner. Each returns 0, or -1 with err set (status MOTE_STATUS_BUILD_INPUT
 * for bad paths or unreadable input, MOTE_STATUS_HOST when out of memory).
 */
int oci_tree_add_dir(struct oci_tree *t, const char *path, mode_t mode, uid_t uid, gid_t gid,
		     struct mote_err *err);
/* A regular file whose contents are read from `host_path` when the layer is written. */
int oci_tree_add_host_file(struct oci_tree *t, const char *path, const char *host_path, mode_t mode,
			   uid_t uid, gid_t gid, struct mote_err *err);
/* A regular file holding a copy of `len` bytes at `data`. */
int oci_tree_add_data(struct oci_tree *t, const char *path, const void *data, size_t len, mode_t mode,
		      uid_t uid, gid_t gid, struct mote_err *err);
int oci_tree_add_symlink(struct oci_tree *t, const char *path, const char *target, uid_t uid, gid_t gid,
			 struct mote_err *err);

/*
 * Unpack the tar archive `archive` (plain, gzip, bzip2 or xz) into the tree
 * under directory `dest`. Returns 1 when done, 0 when `archive` is not a tar
 * archive (nothing added), -1 with err on a damaged archive or bad entry.
 */
int oci_tree_add_tar(struct oci_tree *t, const char *dest, const char *archive, struct mote_err *err);

/* What is at `path`: 'f' file, 'd' directory, 'l' symlink, 0 nothing. */
int oci_tree_kind(const struct oci_tree *t, const char *path);

/*
 * Read the file at `path` (following no symlinks) into a malloc'd buffer.
 * Returns 0, or -1 with err set when it is not a regular file in the tree or
 * cannot be read.
 */
int oci_tree_read(const struct oci_tree *t, const char *path, void **data, size_t *len, struct mote_err *err);

/*
 * Write the tree as one layer: a tar archive (pax, entries sorted by path,
 * every mtime `mtime`, no user or group names) to `tar_path` and its gzip
 * compression to `gz_path`; digests in *tar (the layer's diff_id) and *gz
 * (its blob digest). The same tree and mtime always give the same bytes.
 * Returns 0, or -1 with err set (MOTE_STATUS_IMAGE_WRITE, or
 * MOTE_STATUS_BUILD_INPUT when a host file cannot be read).
 */
int oci_layer_write(const struct oci_tree *t, int64_t mtime, const char *tar_path, const char *gz_path,
		    struct oci_blob *tar, struct oci_blob *gz, struct mote_err *err);

/*
 * Compress `in` with gzip into `out` (deterministic header: no name, mtime 0)
 * or decompress it (`decompress` nonzero); the digest and size of what was
 * written go to *blob. Returns 0 or -1 with err set.
 */
int oci_gzip_file(const char *in, const char *out, int decompress, struct oci_blob *blob,
		  struct mote_err *err);

/* The "sha256:<hex>" digest and size of a file. Returns 0 or -1 with err set. */
int oci_digest_file(const char *path, struct oci_blob *blob, struct mote_err *err);

/* The "sha256:<hex>" digest of `len` bytes into out (72 bytes). */
void oci_digest_bytes(const void *data, size_t len, char out[7 + 64 + 1]);

#endif /* MOTE_OCI_LAYER_H */
