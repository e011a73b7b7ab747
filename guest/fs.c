/* The path-based file-system syscalls: open, stat, mkdir, unlink, rename, links, modes and times. */
#include "fd.h"

#include "clock.h"
#include "klib.h"
#include "linux.h"
#include "uaccess.h"
#include "vfs.h"

#define O_LARGEFILE 0100000
#define AT_NO_AUTOMOUNT 0x800
#define AT_EACCESS 0x200
#define AT_STATX_SYNC_TYPE 0x6000
#define STATX_RESERVED 0x80000000u
#define RENAME_NOREPLACE 1u
#define RENAME_EXCHANGE 2u
#define RENAME_WHITEOUT 4u
#define UTIME_NOW ((1l << 30) - 1)
#define UTIME_OMIT ((1l << 30) - 2)
#define X_OK 1
#define W_OK 2
#define R_OK 4

static uint32_t umask_bits = 022;

/* Path arguments are copied here: the guest kernel is single-threaded and never re-entered. */
static char path_a[VFS_PATH_MAX], path_b[VFS_PATH_MAX], link_buf[VFS_PATH_MAX];

/* Copy a path argument; 0, -EFAULT or -ENAMETOOLONG. */
static long get_path(char *dst, uint64_t upath)
{
	long r = user_strncpy(dst, upath, VFS_PATH_MAX);
	return r < 0 ? r : 0;
}

static int lookup_at(uint64_t dirfd, const char *path, unsigned flags, struct vfs_node **out)
{
	if (!path[0])
		return -ENOENT;
	struct vfs_node *base;
	int r = fd_path_base((int)dirfd, path, &base);
	if (r < 0)
		return r;
	return vfs_lookup(base, path, flags, out);
}

static int last_at(uint64_t dirfd, const char *path, struct vfs_last *last)
{
	if (!path[0])
		return -ENOENT;
	struct vfs_node *base;
	int r = fd_path_base((int)dirfd, path, &base);
	if (r < 0)
		return r;
	return vfs_lookup_last(base, path, last);
}

/* The node for an *at() call that allows AT_EMPTY_PATH: the dirfd itself when the path is empty. */
static int lookup_at_empty(uint64_t dirfd, const char *path, uint64_t flags, struct vfs_node **out)
{
	if (path[0] || !(flags & AT_EMPTY_PATH))
		return lookup_at(dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : VFS_FOLLOW, out);
	if ((int)dirfd == AT_FDCWD) {
		*out = vfs_cwd();
		return 0;
	}
	int r = fd_node((int)dirfd, out);
	if (r < 0)
		return r;
	return *out ? 0 : -EBADF; /* a pipe: callers that handle pipes use fd_stat */
}

/* ---- open ------------------------------------------------------------------------------------ */

/* O_CREAT: find or create the last component, following symlinks there unless O_NOFOLLOW. */
static int open_create(struct vfs_node *base, const char *path, uint64_t flags, uint64_t mode,
		       struct vfs_node **out, int *created)
{
	struct vfs_last l;
	for (int links = 0;; links++) {
		int r = vfs_lookup_last(base, path, &l);
		if (r < 0)
			return r;
		if (l.dot)
			return (flags & O_EXCL) ? -EEXIST : -EISDIR;
		struct vfs_node *n = vfs_dir_find(l.dir, l.name, l.len);
		if (!n) {
			if (l.trailing_slash)
				return -EISDIR;
			r = vfs_create(l.dir, l.name, l.len, S_IFREG | ((uint32_t)mode & 07777 & ~umask_bits),
				       NULL, out);
			*created = r == 0;
			return r;
		}
		if (flags & O_EXCL)
			return -EEXIST;
		if (!vfs_is_symlink(n)) {
			if (vfs_is_dir(n))
				return -EISDIR;
			if (l.trailing_slash)
				return -ENOTDIR;
			*out = n;
			return 0;
		}
		if (flags & O_NOFOLLOW)
			return -ELOOP;
		if (links >= VFS_SYMLINK_MAX)
			return -ELOOP;
		/* Continue with the link's target, relative to the link's directory (it may not exist yet).
		 */
		memcpy(link_buf, n->data, n->size);
		link_buf[n->size] = 0;
		path = link_buf;
		base = l.dir;
	}
}

static long do_open(uint64_t dirfd, uint64_t upath, uint64_t flags, uint64_t mode)
{
	long r = get_path(path_a, upath);
	if (r < 0)
		return r;
	const char *path = path_a;
	flags &= ~(uint64_t)O_LARGEFILE;
	uint32_t acc = flags & O_ACCMODE;
	struct vfs_node *base, *node;
	if (!path[0])
		return -ENOENT;
	r = fd_path_base((int)dirfd, path, &base);
	if (r < 0)
		return r;

	if ((flags & O_TMPFILE) == O_TMPFILE) {
		if (acc != O_WRONLY && acc != O_RDWR)
			return -EINVAL;
		r = vfs_lookup(base, path, VFS_FOLLOW, &node);
		if (r < 0)
			return r;
		if (!vfs_is_dir(node))
			return -ENOTDIR;
		if (node->readonly)
			return -EROFS;
		struct vfs_node *tmp = vfs_new_unnamed((uint32_t)mode & ~umask_bits);
		if (!tmp)
			return -ENOSPC;
		vfs_get(tmp);
		r = fd_open_node(tmp, (uint32_t)flags & ~(uint32_t)O_TMPFILE);
		vfs_put(tmp);
		return r;
	}

	if (flags & O_PATH) {
		r = vfs_lookup(base, path, (flags & O_NOFOLLOW) ? 0 : VFS_FOLLOW, &node);
		if (r < 0)
			return r;
		if ((flags & O_DIRECTORY) && !vfs_is_dir(node))
			return -ENOTDIR;
		return fd_open_node(node, (uint32_t)flags & (O_PATH | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW));
	}

	int created = 0;
	if (flags & O_CREAT) {
		r = open_create(base, path, flags, mode, &node, &created);
	} else {
		r = vfs_lookup(base, path, (flags & O_NOFOLLOW) ? 0 : VFS_FOLLOW, &node);
		if (r == 0 && vfs_is_symlink(node))
			r = -ELOOP;
	}
	if (r < 0)
		return r;
	if ((flags & O_DIRECTORY) && !vfs_is_dir(node))
		return -ENOTDIR;
	if (vfs_is_dir(node) && acc != O_RDONLY)
		return -EISDIR;
	if (node->readonly && (acc != O_RDONLY || (flags & O_TRUNC)))
		return -EROFS;
	if ((flags & O_TRUNC) && !created && vfs_is_reg(node) && acc != O_RDONLY) {
		r = vfs_truncate(node, 0);
		if (r < 0)
			return r;
	}
	return fd_open_node(node, (uint32_t)flags);
}

long sys_open(uint64_t path, uint64_t flags, uint64_t mode)
{
	return do_open((uint64_t)(int64_t)AT_FDCWD, path, flags, mode);
}

long sys_openat(uint64_t dirfd, uint64_t path, uint64_t flags, uint64_t mode)
{
	return do_open(dirfd, path, flags, mode);
}

long sys_creat(uint64_t path, uint64_t mode)
{
	return do_open((uint64_t)(int64_t)AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/* ---- stat ------------------------------------------------------------------------------------ */

/* stat of `path` relative to dirfd (with AT_EMPTY_PATH: of dirfd itself, pipes included). */
static int stat_at(uint64_t dirfd, uint64_t upath, uint64_t flags, struct linux_stat *st)
{
	if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE))
		return -EINVAL;
	if (upath == 0 && (flags & AT_EMPTY_PATH)) {
		path_a[0] = 0;
	} else {
		long r = get_path(path_a, upath);
		if (r < 0)
			return (int)r;
	}
	if (!path_a[0] && (flags & AT_EMPTY_PATH) && (int)dirfd != AT_FDCWD)
		return fd_stat((int)dirfd, st);
	struct vfs_node *n;
	int r = lookup_at_empty(dirfd, path_a, flags, &n);
	if (r < 0)
		return r;
	vfs_stat(n, st);
	return 0;
}

long sys_newfstatat(uint64_t dirfd, uint64_t path, uint64_t st, uint64_t flags)
{
	struct linux_stat s;
	int r = stat_at(dirfd, path, flags, &s);
	return r < 0 ? r : user_copy_to(st, &s, sizeof(s));
}

long sys_stat(uint64_t path, uint64_t st)
{
	return sys_newfstatat((uint64_t)(int64_t)AT_FDCWD, path, st, 0);
}

long sys_lstat(uint64_t path, uint64_t st)
{
	return sys_newfstatat((uint64_t)(int64_t)AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

static void statx_time(struct linux_statx_timestamp *t, const struct linux_timespec *ts)
{
	t->tv_sec = ts->tv_sec;
	t->tv_nsec = (uint32_t)ts->tv_nsec;
}

long sys_statx(uint64_t dirfd, uint64_t path, uint64_t flags, uint64_t mask, uint64_t buf)
{
	if (mask & STATX_RESERVED)
		return -EINVAL;
	struct linux_stat st;
	int r = stat_at(dirfd, path, flags, &st);
	if (r < 0)
		return r;
	struct linux_statx sx;
	memset(&sx, 0, sizeof(sx));
	sx.stx_mask = STATX_BASIC_STATS;
	sx.stx_blksize = (uint32_t)st.st_blksize;
	sx.stx_nlink = (uint32_t)st.st_nlink;
	sx.stx_uid = st.st_uid;
	sx.stx_gid = st.st_gid;
	sx.stx_mode = (uint16_t)st.st_mode;
	sx.stx_ino = st.st_ino;
	sx.stx_size = (uint64_t)st.st_size;
	sx.stx_blocks = (uint64_t)st.st_blocks;
	statx_time(&sx.stx_atime, &st.st_atim);
	statx_time(&sx.stx_mtime, &st.st_mtim);
	statx_time(&sx.stx_ctime, &st.st_ctim);
	sx.stx_rdev_major = (uint32_t)((st.st_rdev >> 8) & 0xfff);
	sx.stx_rdev_minor = (uint32_t)((st.st_rdev & 0xff) | ((st.st_rdev >> 12) & ~0xffull));
	sx.stx_dev_major = (uint32_t)((st.st_dev >> 8) & 0xfff);
	sx.stx_dev_minor = (uint32_t)((st.st_dev & 0xff) | ((st.st_dev >> 12) & ~0xffull));
	return user_copy_to(buf, &sx, sizeof(sx));
}

long sys_statfs(uint64_t upath, uint64_t buf)
{
	long r = get_path(path_a, upath);
	if (r < 0)
		return r;
	struct vfs_node *n;
	r = lookup_at((uint64_t)(int64_t)AT_FDCWD, path_a, VFS_FOLLOW, &n);
	if (r < 0)
		return r;
	struct linux_statfs sf;
	fd_statfs_fill(&sf);
	if (n->readonly)
		sf.f_flags |= ST_RDONLY;
	return user_copy_to(buf, &sf, sizeof(sf));
}

/* ---- access, readlink, cwd ------------------------------------------------------------------- */

long sys_faccessat2(uint64_t dirfd, uint64_t upath, uint64_t mode, uint64_t flags)
{
	if (mode & ~(uint64_t)(R_OK | W_OK | X_OK))
		return -EINVAL;
	if (flags & ~(uint64_t)(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	long r = get_path(path_a, upath);
	if (r < 0)
		return r;
	struct vfs_node *n;
	r = lookup_at_empty(dirfd, path_a, flags, &n);
	if (r < 0)
		return r;
	/* The program runs as root: only execute permission needs an x bit (on anything but a directory). */
	if ((mode & X_OK) && !vfs_is_dir(n) && !(n->mode & 0111))
		return -EACCES;
	if ((mode & W_OK) && n->readonly)
		return -EROFS;
	return 0;
}

long sys_faccessat(uint64_t dirfd, uint64_t path, uint64_t mode)
{
	return sys_faccessat2(dirfd, path, mode, 0);
}

long sys_access(uint64_t path, uint64_t mode)
{
	return sys_faccessat2((uint64_t)(int64_t)AT_FDCWD, path, mode, 0);
}

long sys_readlinkat(uint64_t dirfd, uint64_t upath, uint64_t buf, uint64_t size)
{
	if ((int32_t)size <= 0)
		return -EINVAL;
	long r = get_path(path_a, upath);
	if (r < 0)
		return r;
	struct vfs_node *n;
	r = lookup_at_empty(dirfd, path_a, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, &n);
	if (r < 0)
		return r == -EBADF && !path_a[0] ? -ENOENT : r;
	if (!vfs_is_symlink(n))
		return path_a[0] ? -EINVAL : -ENOENT;
	uint64_t len = MIN(n->size, (uint64_t)(uint32_t)size);
	r = user_copy_to(buf, n->data, len);
	return r < 0 ? r : (long)len;
}

long sys_readlink(uint64_t path, uint64_t buf, uint64_t size)
{
	return sys_readlinkat((uint64_t)(int64_t)AT_FDCWD, path, buf, size);
}

long sys_getcwd(uint64_t buf, uint64_t size)
{
	long len = vfs_dir_path(vfs_cwd(), path_a, sizeof(path_a));
	if (len < 0)
		return len;
	if ((uint64_t)len + 1 > size)
		return -ERANGE;
	long r = user_copy_to(buf, path_a, (uint64_t)len + 1);
	return r < 0 ? r : len + 1;
}

long sys_chdir(uint64_t upath)
{
	long r = get_path(path_a, upath);
	if (r < 0)
		return r;
	struct vfs_node *n;
	r = lookup_at((uint64_t)(int64_t)AT_FDCWD, path_a, VFS_FOLLOW, &n);
	if (r < 0)
		return r;
	if (!vfs_is_dir(n))
		return -ENOTDIR;
	vfs_set_cwd(n);
	return 0;
}

/* ---- creating and removing names ------------------------------------------------------------- */

long sys_mkdirat(uint64_t dirfd, uint64_t upath, uint64_t mode)
{
	long r = get_path(path_a, upath);
	if (r < 0)
		return r;
	struct vfs_last l;
	r = last_at(dirfd, path_a, &l);
	if (r < 0)
		return r;
	if (l.dot)
		return -EEXIST;
	struct vfs_node *n;
	return vfs_create(l.dir, l.name, l.len, S_IFDIR | ((uint32_t)mode & 01777 & ~umask_bits), NULL, &n);
}

long sys_mkdir(uint64_t path, uint64_t mode)
{
	return sys_mkdirat((uint64_t)(int64_t)AT_FDCWD, path, mode);
}

long sys_mknodat(uint64_t dirfd, uint64_t upath, uint64_t mode, uint64_t dev)
{
	uint32_t type = (uint32_t)mode & S_IFMT;
	if (type != 0 && type != S_IFREG)
		return -EPERM; /* no device nodes, fifos or sockets in the file system */
	long r = get_path(path_a, upath);
	if (r < 0)
		return r;
	struct vfs_last l;
	r = last_at(dirfd, path_a, &l);
	if (r < 0)
		return r;
	if (l.dot)
		return -EEXIST;
	if (l.trailing_slash)
		return vfs_dir_find(l.dir, l.name, l.len) ? -EEXIST : -ENOENT;
	struct vfs_node *n;
	return vfs_create(l.dir, l.name, l.len, S_IFREG | ((uint32_t)mode & 07777 & ~umask_bits), NULL, &n);
}

long sys_mknod(uint64_t path, uint64_t mode, uint64_t dev)
{
	return sys_mknodat((uint64_t)(int64_t)AT_FDCWD, path, mode, dev);
}

static long remove_dir(uint64_t dirfd)
{
	struct vfs_last l;
	long r = last_at(dirfd, path_a, &l);
	if (r < 0)
		return r;
	switch (l.dot) {
	case 1: return -EINVAL;
	case 2: return -ENOTEMPTY;
	case 3: return -EBUSY;
	default: return vfs_unlink(l.dir, l.name, l.len, 1);
	}
}

static long remove_file(uint64_t dirfd)
{
	struct vfs_last l;
	long r = last_at(dirfd, path_a, &l);
	if (r < 0)
		return r;
	if (l.dot)
		return -EISDIR;
	if (l.dir->readonly)
		return -EROFS;
	struct vfs_node *n = vfs_dir_find(l.dir, l.name, l.len);
	if (!n)
		return -ENOENT;
	if (vfs_is_dir(n))
		return -EISDIR;
	if (l.trailing_slash)
		return -ENOTDIR;
	return vfs_unlink(l.dir, l.name, l.len, 0);
}

long sys_unlinkat(uint64_t dirfd, uint64_t upath, uint64_t flags)
{
	if (flags & ~(uint64_t)AT_REMOVEDIR)
		return -EINVAL;
	long r = get_path(path_a, upath);
	if (r < 0)
		return r;
	return (flags & AT_REMOVEDIR) ? remove_dir(dirfd) : remove_file(dirfd);
}

long sys_unlink(uint64_t path)
{
	return sys_unlinkat((uint64_t)(int64_t)AT_FDCWD, path, 0);
}

long sys_rmdir(uint64_t path)
{
	return sys_unlinkat((uint64_t)(int64_t)AT_FDCWD, path, AT_REMOVEDIR);
}

long sys_renameat2(uint64_t olddirfd, uint64_t oldpath, uint64_t newdirfd, uint64_t newpath, uint64_t flags)
{
	if (flags & ~(uint64_t)(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return -EINVAL;
	if (flags & RENAME_WHITEOUT)
		return -EINVAL;
	long r = get_path(path_a, oldpath);
	if (r < 0)
		return r;
	r = get_path(path_b, newpath);
	if (r < 0)
		return r;
	struct vfs_last o, n;
	r = last_at(olddirfd, path_a, &o);
	if (r < 0)
		return r;
	r = last_at(newdirfd, path_b, &n);
	if (r < 0)
		return r;
	if (o.dot || n.dot)
		return -EBUSY;
	struct vfs_node *on = vfs_dir_find(o.dir, o.name, o.len);
	if (!on)
		return -ENOENT;
	if (!vfs_is_dir(on) && (o.trailing_slash || n.trailing_slash))
		return -ENOTDIR;
	unsigned vflags = ((flags & RENAME_NOREPLACE) ? VFS_RENAME_NOREPLACE : 0) |
			  ((flags & RENAME_EXCHANGE) ? VFS_RENAME_EXCHANGE : 0);
	return vfs_rename(o.dir, o.name, o.len, n.dir, n.name, n.len, vflags);
}

long sys_renameat(uint64_t olddirfd, uint64_t oldpath, uint64_t newdirfd, uint64_t newpath)
{
	return sys_renameat2(olddirfd, oldpath, newdirfd, newpath, 0);
}

long sys_rename(uint64_t oldpath, uint64_t newpath)
{
	return sys_renameat2((uint64_t)(int64_t)AT_FDCWD, oldpath, (uint64_t)(int64_t)AT_FDCWD, newpath, 0);
}

long sys_linkat(uint64_t olddirfd, uint64_t oldpath, uint64_t newdirfd, uint64_t newpath, uint64_t flags)
{
	if (flags & ~(uint64_t)(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	long r = get_path(path_a, oldpath);
	if (r < 0)
		return r;
	r = get_path(path_b, newpath);
	if (r < 0)
		return r;
	struct vfs_node *old;
	uint64_t lflags = (flags & AT_EMPTY_PATH) | ((flags & AT_SYMLINK_FOLLOW) ? 0 : AT_SYMLINK_NOFOLLOW);
	r = lookup_at_empty(olddirfd, path_a, lflags, &old);
	if (r < 0)
		return r;
	if (vfs_is_dir(old))
		return -EPERM;
	struct vfs_last l;
	r = last_at(newdirfd, path_b, &l);
	if (r < 0)
		return r;
	if (l.dot)
		return -EEXIST;
	if (l.trailing_slash)
		return vfs_dir_find(l.dir, l.name, l.len) ? -EEXIST : -ENOENT;
	return vfs_link(l.dir, l.name, l.len, old);
}

long sys_link(uint64_t oldpath, uint64_t newpath)
{
	return sys_linkat((uint64_t)(int64_t)AT_FDCWD, oldpath, (uint64_t)(int64_t)AT_FDCWD, newpath, 0);
}

long sys_symlinkat(uint64_t target, uint64_t newdirfd, uint64_t linkpath)
{
	long r = get_path(path_b, target);
	if (r < 0)
		return r;
	if (!path_b[0])
		return -ENOENT;
	r = get_path(path_a, linkpath);
	if (r < 0)
		return r;
	struct vfs_last l;
	r = last_at(newdirfd, path_a, &l);
	if (r < 0)
		return r;
	if (l.dot)
		return -EEXIST;
	if (l.trailing_slash)
		return vfs_dir_find(l.dir, l.name, l.len) ? -EEXIST : -ENOENT;
	struct vfs_node *n;
	return vfs_create(l.dir, l.name, l.len, S_IFLNK | 0777, path_b, &n);
}

long sys_symlink(uint64_t target, uint64_t linkpath)
{
	return sys_symlinkat(target, (uint64_t)(int64_t)AT_FDCWD, linkpath);
}

/* ---- contents, modes, owners, times ---------------------------------------------------------- */

long sys_truncate(uint64_t upath, uint64_t len)
{
	if ((int64_t)len < 0)
		return -EINVAL;
	long r = get_path(path_a, upath);
	if (r < 0)
		return r;
	struct vfs_node *n;
	r = lookup_at((uint64_t)(int64_t)AT_FDCWD, path_a, VFS_FOLLOW, &n);
	if (r < 0)
		return r;
	if (vfs_is_dir(n))
		return -EISDIR;
	if (!vfs_is_reg(n))
		return -EINVAL;
	return vfs_truncate(n, len);
}

long sys_fchmodat(uint64_t dirfd, uint64_t upath, uint64_t mode)
{
	long r = get_path(path_a, upath);
	if (r < 0)
		return r;
	struct vfs_node *n;
	r = lookup_at(dirfd, path_a, VFS_FOLLOW, &n);
	if (r < 0)
		return r;
	if (n->readonly)
		return -EROFS;
	n->mode = (n->mode & S_IFMT) | ((uint32_t)mode & 07777);
	vfs_touch_status(n);
	return 0;
}

long sys_chmod(uint64_t path, uint64_t mode)
{
	return sys_fchmodat((uint64_t)(int64_t)AT_FDCWD, path, mode);
}

/* Owners are not kept (everything belongs to root): the chown family checks its target and succeeds. */
long sys_fchownat(uint64_t dirfd, uint64_t upath, uint64_t uid, uint64_t gid, uint64_t flags)
{
	if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	long r = get_path(path_a, upath);
	if (r < 0)
		return r;
	struct vfs_node *n;
	if (!path_a[0] && (flags & AT_EMPTY_PATH) && (int)dirfd != AT_FDCWD) {
		r = fd_node((int)dirfd, &n);
		return r < 0 ? r : n && n->readonly ? -EROFS : 0;
	}
	r = lookup_at_empty(dirfd, path_a, flags, &n);
	if (r < 0)
		return r;
	if (n->readonly)
		return -EROFS;
	vfs_touch_status(n);
	return 0;
}

long sys_chown(uint64_t path, uint64_t uid, uint64_t gid)
{
	return sys_fchownat((uint64_t)(int64_t)AT_FDCWD, path, uid, gid, 0);
}

long sys_lchown(uint64_t path, uint64_t uid, uint64_t gid)
{
	return sys_fchownat((uint64_t)(int64_t)AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW);
}

long sys_fchown(uint64_t fd, uint64_t uid, uint64_t gid)
{
	struct vfs_node *n;
	long r = fd >= FD_MAX ? -EBADF : fd_node((int)fd, &n);
	return r < 0 ? r : n && n->readonly ? -EROFS : 0;
}

long sys_umask(uint64_t mask)
{
	uint32_t old = umask_bits;
	umask_bits = (uint32_t)mask & 0777;
	return old;
}

/* Set atime/mtime from two timespecs (UTIME_NOW/UTIME_OMIT allowed); times NULL means now. */
static long set_times(struct vfs_node *n, const struct linux_timespec *ts)
{
	if (n->readonly)
		return -EROFS;
	int64_t now = clock_realtime_ns();
	int64_t *fields[2] = {&n->atime_ns, &n->mtime_ns};
	for (int i = 0; i < 2; i++) {
		if (ts && ts[i].tv_nsec == UTIME_OMIT)
			continue;
		if (!ts || ts[i].tv_nsec == UTIME_NOW)
			*fields[i] = now;
		else
			*fields[i] = ts[i].tv_sec * 1000000000 + ts[i].tv_nsec;
	}
	n->ctime_ns = now;
	return 0;
}

static long check_times(const struct linux_timespec *ts)
{
	for (int i = 0; i < 2; i++)
		if (ts[i].tv_nsec != UTIME_NOW && ts[i].tv_nsec != UTIME_OMIT &&
		    (ts[i].tv_nsec < 0 || ts[i].tv_nsec >= 1000000000))
			return -EINVAL;
	return 0;
}

long sys_utimensat(uint64_t dirfd, uint64_t upath, uint64_t times, uint64_t flags)
{
	if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct linux_timespec ts[2];
	if (times) {
		if (user_copy_from(ts, times, sizeof(ts)) < 0)
			return -EFAULT;
		if (check_times(ts) < 0)
			return -EINVAL;
	}
	struct vfs_node *n;
	long r;
	if (!upath) {
		/* futimens(): the file open as dirfd. */
		if ((int)dirfd == AT_FDCWD)
			return -EFAULT;
		r = fd_node((int)dirfd, &n);
		if (r < 0 || !n)
			return r;
	} else {
		r = get_path(path_a, upath);
		if (r < 0)
			return r;
		r = lookup_at_empty(dirfd, path_a, flags, &n);
		if (r < 0)
			return r;
	}
	return set_times(n, times ? ts : NULL);
}

long sys_utimes(uint64_t upath, uint64_t times)
{
	struct linux_timespec ts[2];
	if (times) {
		if (user_copy_from(ts, times, sizeof(ts)) < 0)
			return -EFAULT;
		for (int i = 0; i < 2; i++) {
			if (ts[i].tv_nsec < 0 || ts[i].tv_nsec >= 1000000) /* struct timeval: microseconds */
				return -EINVAL;
			ts[i].tv_nsec *= 1000;
		}
	}
	long r = get_path(path_a, upath);
	if (r < 0)
		return r;
	struct vfs_node *n;
	r = lookup_at((uint64_t)(int64_t)AT_FDCWD, path_a, VFS_FOLLOW, &n);
	if (r < 0)
		return r;
	return set_times(n, times ? ts : NULL);
}

long sys_utime(uint64_t upath, uint64_t times)
{
	struct linux_timespec ts[2];
	if (times) {
		int64_t t[2]; /* struct utimbuf: actime, modtime */
		if (user_copy_from(t, times, sizeof(t)) < 0)
			return -EFAULT;
		ts[0] = (struct linux_timespec){t[0], 0};
		ts[1] = (struct linux_timespec){t[1], 0};
	}
	long r = get_path(path_a, upath);
	if (r < 0)
		return r;
	struct vfs_node *n;
	r = lookup_at((uint64_t)(int64_t)AT_FDCWD, path_a, VFS_FOLLOW, &n);
	if (r < 0)
		return r;
	return set_times(n, times ? ts : NULL);
}

long sys_sync(void)
{
	return 0;
}

long sys_xattr_unsupported(void)
{
	return -ENOTSUP;
}
