/* Packing host files and directories into cpio newc rootfs images, cached by a key over their metadata. */
#ifndef MOTE_ROOTFS_H
#define MOTE_ROOTFS_H

#include <stddef.h>

#include "err.h"

struct mote_rootfs_file {
	const char *host_path;  /* regular file on the host */
	const char *guest_path; /* path in the image, without leading "/" */
};

/*
 * Return in out_path (size out_size) a cached image of the directory tree
 * `dir`, packing it first if no image with the same key exists. The key is a
 * SHA-256 over every entry's relative path, type, mode, size, mtime, inode
 * and symlink target. Images are written to a temporary name and renamed,
 * so a crash never leaves a half-written image. Returns 0 or -1 with *err
 * (MOTE_STATUS_ROOTFS).
 */
int mote_rootfs_cached_dir(const char *dir, char *out_path, size_t out_size, struct mote_err *err);

/* Likewise for a list of single files placed at the given guest paths. */
int mote_rootfs_cached_files(const struct mote_rootfs_file *files, size_t n, char *out_path, size_t out_size,
			     struct mote_err *err);

#endif /* MOTE_ROOTFS_H */
