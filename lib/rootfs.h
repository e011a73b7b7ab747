/* Packing host directories and files into cpio newc rootfs images, cached by a key over their metadata. */
#ifndef MOTE_ROOTFS_H
#define MOTE_ROOTFS_H

#include <stddef.h>

#include "err.h"

/* The largest image the packer writes, trailer included (docs/rootfs.md). */
#define MOTE_ROOTFS_MAX_IMAGE (4ull << 30)

struct mote_rootfs_file {
	const char *host_path;	/* a regular file on the host (symlinks to one are followed) */
	const char *guest_path; /* its path in the image, e.g. "bin/sh"; a leading "/" is dropped */
};

/*
 * Pack the directory tree `dir` into a cpio newc image at `out_path`. Entries
 * are named relative to `dir` without a leading "/" ("bin", "bin/sh"), each
 * directory's entries sorted by name (bytewise) and followed depth-first by
 * their contents, after an entry "." for `dir` itself. Regular files,
 * directories and symlinks (target as data) are stored with their mode bits
 * and mtime (seconds); uid and gid are 0, hard links become separate copies,
 * sockets, fifos and devices are skipped. The image is written to a
 * temporary file beside `out_path` and renamed into place when complete; on
 * failure nothing is left behind and an existing `out_path` is untouched.
 * `out_path` MUST NOT lie inside `dir`. Returns 0, or -1 with *err
 * (MOTE_STATUS_ROOTFS, or MOTE_STATUS_HOST when out of memory) naming the
 * path at fault: `dir` missing, a file that vanishes or cannot be read, an
 * image over MOTE_ROOTFS_MAX_IMAGE.
 */
int mote_rootfs_pack_dir(const char *dir, const char *out_path, struct mote_err *err);

/*
 * Pack the `n` regular files `files` into a cpio newc image at `out_path`,
 * each at its guest_path, with an entry (mode 0755, mtime 0) for every
 * parent directory. Entries are ordered as mote_rootfs_pack_dir would order
 * the same tree. A guest_path MUST be non-empty and MUST NOT contain empty,
 * "." or ".." components; no two files MAY share a guest_path and none MAY
 * be a parent directory of another. Written atomically like
 * mote_rootfs_pack_dir. Returns 0 or -1 with *err.
 */
int mote_rootfs_pack_files(const struct mote_rootfs_file *files, size_t n, const char *out_path,
			   struct mote_err *err);

/*
 * Store in `out` (`size` bytes) the directory of cached images:
 * $XDG_CACHE_HOME/mote/rootfs if XDG_CACHE_HOME is an absolute path, else
 * $HOME/.cache/mote/rootfs (HOME from the password database if unset). Does
 * not create it. Returns 0, or -1 with *err if no home is known or the path
 * does not fit.
 */
int mote_rootfs_cache_dir(char *out, size_t size, struct mote_err *err);

/*
 * Store in `out_path` (`out_size` bytes) the path of a cached image of the
 * directory tree `dir`, packing it first (as mote_rootfs_pack_dir) if the
 * cache holds no image under its key. The key is a SHA-256 over a format
 * version and every entry's relative path, type, mode, size, mtime and ctime
 * (ns), inode, device and symlink target: metadata only, like make, so an
 * unchanged tree costs one lstat per entry and is never read or repacked.
 * Creates the cache directory (mode 0700) as needed. Concurrent callers are
 * safe: each packs to its own temporary name and rename() is atomic. Returns
 * 0, or -1 with *err as for mote_rootfs_pack_dir or naming the cache path.
 */
int mote_rootfs_cached_dir(const char *dir, char *out_path, size_t out_size, struct mote_err *err);

/*
 * Likewise for a list of files as in mote_rootfs_pack_files; the key covers
 * each guest path and the metadata of the host file it names.
 */
int mote_rootfs_cached_files(const struct mote_rootfs_file *files, size_t n, char *out_path, size_t out_size,
			     struct mote_err *err);

#endif /* MOTE_ROOTFS_H */
