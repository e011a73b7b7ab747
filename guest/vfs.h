/* The in-memory file system: a tree built from the cpio rootfs image, writable through copy-on-write. */
#ifndef GUEST_VFS_H
#define GUEST_VFS_H

#include <stddef.h>
#include <stdint.h>

#include "linux.h"

#define VFS_PATH_MAX 4096 /* bytes including the NUL (PATH_MAX) */
#define VFS_NAME_MAX 255
#define VFS_SYMLINK_MAX 40 /* symlinks followed in one lookup before ELOOP */
#define VFS_FILE_MAX (1ull << 40)
#define VFS_DEV_ID 0x16ull    /* st_dev of every node but those of read-only mounts */
#define VFS_RO_DEV_ID 0x17ull /* st_dev of the nodes of an image mounted with vfs_mount_image() */

/* What a character-device node does when read or written. */
enum vfs_dev_kind {
	VFS_DEV_NONE = 0,
	VFS_DEV_NULL,	     /* reads EOF, swallows writes */
	VFS_DEV_ZERO,	     /* reads zeros, swallows writes */
	VFS_DEV_FULL,	     /* reads zeros, writes fail with ENOSPC */
	VFS_DEV_RANDOM,	     /* reads random bytes, swallows writes */
	VFS_DEV_CONSOLE_IN,  /* the program's stdin: reads EOF */
	VFS_DEV_CONSOLE_OUT, /* writes go to the console's stdout stream */
	VFS_DEV_CONSOLE_ERR, /* writes go to the console's stderr stream */
	VFS_DEV_STDIN,	     /* /dev/stdin: opening it duplicates fd 0 */
	VFS_DEV_STDOUT,	     /* /dev/stdout: opening it duplicates fd 1 */
	VFS_DEV_STDERR,	     /* /dev/stderr: opening it duplicates fd 2 */
	VFS_DEV_SNAPSHOT,    /* /dev/mote/snapshot: a write asks the monitor for a snapshot */
	VFS_DEV_GENERATION,  /* /dev/mote/generation: reads the restore generation as text */
	VFS_DEV_INVOKE,	     /* /dev/mote/invoke: the invoke channel (guest/attach.h) */
};

struct vfs_node;

/* One name in a directory. `seq` orders entries and makes getdents offsets survive removals. */
struct vfs_dirent {
	char *name;
	uint32_t name_len;
	uint64_t seq;
	struct vfs_node *node;
};

struct vfs_node {
	uint32_t mode; /* S_IF* type and permission bits */
	uint32_t uid, gid;
	uint32_t nlink; /* directory entries naming it; a directory has 1 until removed */
	uint32_t refs;	/* open files and the cwd holding it */
	uint64_t ino;
	uint64_t rdev;
	enum vfs_dev_kind dev;
	uint8_t readonly;   /* part of a read-only mount: every change fails with EROFS */
	uint8_t mount_root; /* the root directory of a read-only mount (EBUSY to remove or rename) */
	int64_t atime_ns, mtime_ns, ctime_ns;

	/* Regular files and symlinks: `data` is the image's bytes until `owned` (capacity `cap`) replaces
	 * them. */
	const uint8_t *data;
	uint8_t *owned;
	uint64_t size, cap;

	/* Directories. */
	struct vfs_node *parent; /* the root is its own parent */
	struct vfs_dirent *ents;
	uint32_t nents, ents_cap;
	uint32_t nsubdirs;
	uint64_t next_seq;

	uint32_t cpio_ino; /* for joining hard links while reading the image */
};

/* Lookup flags. */
#define VFS_FOLLOW 1u /* follow a symlink in the last component */

/*
 * Build the tree from the `size`-byte cpio newc `image` (may be NULL/0 for
 * an empty root) and add /tmp, /dev and /proc/self/exe -> exec_path. The
 * image MUST stay mapped and unchanged: file nodes point into it.
 * Returns 0, -EINVAL for a corrupt image or -ENOMEM.
 */
int vfs_init(const void *image, uint64_t size, const char *exec_path);

/*
 * Mount the `size`-byte cpio newc `image` read-only at /NAME (NAME is one
 * component, e.g. "fn"): a directory tree like the rootfs's (types, modes,
 * owners and times from the image; file data stays in the image, which MUST
 * stay mapped), whose nodes refuse every change with EROFS (EXDEV for links
 * and renames across the mount's edge, EBUSY to remove or rename /NAME
 * itself). What the rootfs had at /NAME is hidden, not freed. Mounting over
 * a read-only mount whose tree is exactly the same (names, types, modes,
 * owners, sizes, times, data at the same addresses) keeps the mounted one,
 * so that open files and working directories inside stay valid; another
 * tree replaces it (its nodes go when no open file holds them).
 * Returns 0 (mounted), 1 (kept), -EINVAL for a corrupt image or -ENOMEM.
 */
int vfs_mount_image(const char *name, const void *image, uint64_t size);

/* Remove the read-only mount at /NAME, if there is one (its nodes go when no open file holds them). */
void vfs_unmount(const char *name);

/* Point /proc/self/exe at the absolute path `path` (after an execve). Returns 0 or -ENOMEM. */
int vfs_set_exe(const char *path);

/*
 * The absolute path, without symlinks, of what `path` (relative to `base`)
 * names, into buf[size] (NUL-terminated). Returns its length, or -ENOENT,
 * -ENOTDIR, -ELOOP, -ENAMETOOLONG, -EISDIR (the path ends in "." or "..")
 * or -ERANGE.
 */
long vfs_real_path(struct vfs_node *base, const char *path, char *buf, size_t size);

/*
 * Resolve `path` (following symlinks) to a regular file and return its
 * current bytes in *data and *size, valid until the file is next changed.
 * Returns 0, -ENOENT, -ENOTDIR, -ELOOP, -EISDIR or -EACCES (not a regular file).
 */
int vfs_map_file(const char *path, const void **data, uint64_t *size);

/* The root directory and the current working directory. */
struct vfs_node *vfs_root(void);
struct vfs_node *vfs_cwd(void);

/* Make the directory `dir` the working directory (takes a reference, drops the old one). */
void vfs_set_cwd(struct vfs_node *dir);

/* The hidden console nodes behind fds 0, 1 and 2 (VFS_DEV_CONSOLE_IN/OUT/ERR). */
struct vfs_node *vfs_console_node(int fd);

/* Which console node `node` is: 0, 1 or 2 (the host fd behind it), or -1 for any other node. */
int vfs_console_index(const struct vfs_node *node);

/* Take and drop a reference; the last drop of an unlinked node frees it. */
void vfs_get(struct vfs_node *node);
void vfs_put(struct vfs_node *node);

static inline int vfs_is_dir(const struct vfs_node *n)
{
	return (n->mode & S_IFMT) == S_IFDIR;
}

static inline int vfs_is_reg(const struct vfs_node *n)
{
	return (n->mode & S_IFMT) == S_IFREG;
}

static inline int vfs_is_symlink(const struct vfs_node *n)
{
	return (n->mode & S_IFMT) == S_IFLNK;
}

/*
 * Resolve the NUL-terminated kernel string `path` relative to directory
 * `base` (ignored for absolute paths). Symlinks in the middle are always
 * followed, the last one only with VFS_FOLLOW; a trailing slash demands a
 * directory. Returns 0 with *out set, or -ENOENT, -ENOTDIR, -ELOOP,
 * -ENAMETOOLONG. An empty path is -ENOENT.
 */
int vfs_lookup(struct vfs_node *base, const char *path, unsigned flags, struct vfs_node **out);

/* The parent directory and last component of a path, for calls that create or remove names. */
struct vfs_last {
	struct vfs_node *dir; /* directory that holds (or will hold) the name */
	const char *name;     /* points into the path; not NUL-terminated */
	size_t len;
	int trailing_slash; /* the path ended in '/' */
	int dot;	    /* the name is "." (1) or ".." (2), or the path is "/" (3) */
};

/*
 * Split `path` (relative to `base`) into its parent directory, resolved with
 * all symlinks followed, and its last component. Returns 0, -ENOENT (also for
 * an empty path), -ENOTDIR, -ELOOP or -ENAMETOOLONG.
 */
int vfs_lookup_last(struct vfs_node *base, const char *path, struct vfs_last *last);

/* The node named name[len] in directory `dir`, or NULL. */
struct vfs_node *vfs_dir_find(struct vfs_node *dir, const char *name, size_t len);

/*
 * Create a node named name[len] in `dir`: a regular file, directory or
 * symlink (mode's S_IF* bits say which; for a symlink `target` holds the
 * target). The permission bits are taken as given (apply the umask first).
 * Returns 0 with *out set (no reference taken), -EEXIST, -ENOENT if `dir`
 * was removed, -ENAMETOOLONG or -ENOSPC/-ENOMEM.
 */
int vfs_create(struct vfs_node *dir, const char *name, size_t len, uint32_t mode, const char *target,
	       struct vfs_node **out);

/* A regular file with no name (O_TMPFILE), freed when its last reference goes; NULL when out of memory. */
struct vfs_node *vfs_new_unnamed(uint32_t mode);

/* Add name[len] in `dir` for the existing non-directory `node` (a hard link). -EEXIST, -EPERM, -ENOMEM. */
int vfs_link(struct vfs_node *dir, const char *name, size_t len, struct vfs_node *node);

/*
 * Remove name[len] from `dir`. With `want_dir` the node MUST be an empty
 * directory (-ENOTDIR, -ENOTEMPTY), without it MUST NOT be one (-EISDIR).
 * Returns 0 or -ENOENT.
 */
int vfs_unlink(struct vfs_node *dir, const char *name, size_t len, int want_dir);

#define VFS_RENAME_NOREPLACE 1u
#define VFS_RENAME_EXCHANGE 2u

/*
 * Rename odir/oname to ndir/nname with rename(2) rules: replaces a
 * non-directory or an empty directory of the same kind, refuses to move a
 * directory below itself (-EINVAL). `flags` takes VFS_RENAME_*. Returns 0,
 * -ENOENT, -EEXIST, -EISDIR, -ENOTDIR, -ENOTEMPTY, -EINVAL, -EBUSY or -ENOMEM.
 */
int vfs_rename(struct vfs_node *odir, const char *oname, size_t olen, struct vfs_node *ndir,
	       const char *nname, size_t nlen, unsigned flags);

/* Copy up to `len` bytes at offset `off` of a regular file into `buf`; returns the count (0 at EOF). */
uint64_t vfs_read(struct vfs_node *node, void *buf, uint64_t len, uint64_t off);

/*
 * Write `len` bytes from `buf` at offset `off` of a regular file, growing it
 * (a gap reads as zeros). Returns `len`, -EFBIG or -ENOSPC.
 */
long vfs_write(struct vfs_node *node, const void *buf, uint64_t len, uint64_t off);

/* Set a regular file's size (new bytes are zeros). Returns 0, -EFBIG or -ENOSPC. */
int vfs_truncate(struct vfs_node *node, uint64_t size);

/* Fill a stat buffer for `node`. */
void vfs_stat(const struct vfs_node *node, struct linux_stat *st);

/*
 * Mark a node's data and status changed now (mtime and ctime), or only its
 * status (ctime). While vfs_init builds the tree nothing is touched: every
 * entry keeps the times the image gives it.
 */
void vfs_touch(struct vfs_node *node);
void vfs_touch_status(struct vfs_node *node);

/*
 * The entry of directory `dir` at getdents position *pos (0 is ".", 1 is
 * "..", then the entries), advancing *pos past it. Returns 1 with
 * name, len and node set, or 0 at the end.
 */
int vfs_dir_next(struct vfs_node *dir, uint64_t *pos, const char **name, size_t *len, struct vfs_node **node);

/* Write the absolute path of directory `dir` into buf[size]: its length, -ENOENT (removed) or -ERANGE. */
long vfs_dir_path(struct vfs_node *dir, char *buf, size_t size);

/* Bytes of memory held by file contents the program wrote (for statfs). */
uint64_t vfs_bytes_used(void);

#endif /* GUEST_VFS_H */
