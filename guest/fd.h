/* File descriptors of the guest process and the Linux file-system and I/O syscalls served on them. */
#ifndef GUEST_FD_H
#define GUEST_FD_H

#include <stdint.h>

#include "linux.h"

#define FD_MAX 1024 /* descriptors 0..FD_MAX-1; RLIMIT_NOFILE */

struct vfs_node;

/* Set up fds 0 (stdin: reads EOF), 1 and 2 (console stdout and stderr). MUST run after vfs_init. */
void fd_init(void);

/*
 * For mmap: copy up to `len` bytes at offset `off` of the regular file open
 * as `fd` into kernel-checked memory `dst`. Returns bytes copied (0 past EOF),
 * -EBADF (bad fd, O_PATH), -EACCES (not open for reading) or -ENODEV (not a
 * regular file).
 */
long fd_read_at(int fd, void *dst, uint64_t len, uint64_t off);

/* True if `fd` is open on a regular file (and may be mmapped). */
int fd_is_regular(int fd);

/* For execve: close every descriptor marked FD_CLOEXEC. */
void fd_close_on_exec(void);

/* ---- files served by other modules (event.c, epoll.c) ---------------------------------------- */

struct file; /* an open file description, shared by dup'ed descriptors */

/*
 * What a module-served file (eventfd, timerfd, epoll) does. `priv` is the
 * module's object; buffers are kernel-checked. A NULL read or write fails
 * with -EINVAL, as Linux's files without those operations do.
 */
struct fd_ops {
	const char *name; /* "[eventfd]", ...: for --debug lines */
	long (*read)(void *priv, void *buf, uint64_t len, int nonblock);
	long (*write)(void *priv, const void *buf, uint64_t len, int nonblock);
	int (*poll)(void *priv); /* POLLIN/POLLOUT/POLLERR/POLLHUP now */
	uint64_t (*deadline)(
	    void *priv); /* monotonic ns when poll may change by itself (a timer); 0: never */
	uint64_t (*seq)(void *priv, int out); /* moves at every input (0) or output (1) event (EPOLLET) */
	void (*release)(void *priv);	      /* the last descriptor of the file was closed */
};

/*
 * Open a file served by `ops` on the lowest free descriptor, read-write,
 * with O_NONBLOCK and O_CLOEXEC from `flags`. Returns the fd, -EMFILE or
 * -ENOMEM; on failure `priv` is the caller's to free.
 */
long fd_open_ops(const struct fd_ops *ops, void *priv, uint32_t flags);

/* The open file of descriptor `fd`, or NULL if it is not open. */
struct file *fd_file(uint64_t fd);

/* `f`'s object if `f` is served by `ops`, else NULL. */
void *fd_file_priv(const struct file *f, const struct fd_ops *ops);

/*
 * True if `f` can be watched by epoll, as on Linux: pipes, module files,
 * the console when the host's stream is a pipe or a terminal, the random
 * devices and the invoke channel; not regular files, directories,
 * /dev/null, /dev/zero, /dev/full (EPERM).
 */
int fd_file_pollable(const struct file *f);

/* What `f` is ready for now: POLLIN, POLLOUT, POLLERR, POLLHUP (and POLLRDNORM/POLLWRNORM). */
int fd_file_poll(const struct file *f);

/* The monotonic time at which `f`'s readiness changes by itself (an armed timerfd), or 0. */
uint64_t fd_file_deadline(const struct file *f);

/*
 * A counter that moves whenever an input event (`out` 0: data came, the
 * other end closed) or an output event (`out` 1: room was made, the reader
 * went away) happens on `f`: what wakes an EPOLLET watcher on Linux.
 */
uint64_t fd_file_seq(const struct file *f, int out);

/* Call `hook` with every open file whose last descriptor is closed, before it is released (epoll). */
void fd_set_close_hook(void (*hook)(struct file *f));

/* ---- for the path-based syscalls (fs.c) ------------------------------------------------------ */

/*
 * Open `node` with open(2) `flags` (access mode, O_APPEND, O_NONBLOCK,
 * O_PATH, O_CLOEXEC...) on the lowest free descriptor. Opening /dev/stdin,
 * /dev/stdout or /dev/stderr shares fd 0, 1 or 2's open file. Returns the
 * fd, -EMFILE, -ENOMEM or -ENOENT (that std fd is closed).
 */
long fd_open_node(struct vfs_node *node, uint32_t flags);

/*
 * The directory that a path relative to `dirfd` starts from: the cwd for
 * AT_FDCWD, the root for absolute paths. Returns 0, -EBADF or -ENOTDIR.
 */
int fd_path_base(int dirfd, const char *path, struct vfs_node **base);

/* The node open as `fd` in *node (NULL for pipes); 0 or -EBADF. */
int fd_node(int fd, struct vfs_node **node);

/* stat of the file open as `fd` (nodes and pipes); 0 or -EBADF. */
int fd_stat(int fd, struct linux_stat *st);

struct linux_statfs {
	int64_t f_type, f_bsize;
	uint64_t f_blocks, f_bfree, f_bavail, f_files, f_ffree;
	int32_t f_fsid[2];
	int64_t f_namelen, f_frsize, f_flags;
	int64_t f_spare[4];
};

#define ST_RDONLY 1 /* f_flags of a read-only mount */

/* The statfs of the in-memory file system (tmpfs-like). */
void fd_statfs_fill(struct linux_statfs *sf);

/* ---- syscalls: raw arguments, Linux semantics, -errno on failure ----------------------------- */

/* fd.c: descriptors and I/O */
long sys_read(uint64_t fd, uint64_t buf, uint64_t count);
long sys_write(uint64_t fd, uint64_t buf, uint64_t count);
long sys_readv(uint64_t fd, uint64_t iov, uint64_t iovcnt);
long sys_writev(uint64_t fd, uint64_t iov, uint64_t iovcnt);
long sys_pread64(uint64_t fd, uint64_t buf, uint64_t count, uint64_t off);
long sys_pwrite64(uint64_t fd, uint64_t buf, uint64_t count, uint64_t off);
long sys_preadv(uint64_t fd, uint64_t iov, uint64_t iovcnt, uint64_t off);
long sys_pwritev(uint64_t fd, uint64_t iov, uint64_t iovcnt, uint64_t off);
long sys_lseek(uint64_t fd, uint64_t off, uint64_t whence);
long sys_close(uint64_t fd);
long sys_close_range(uint64_t first, uint64_t last, uint64_t flags);
long sys_dup(uint64_t fd);
long sys_dup2(uint64_t oldfd, uint64_t newfd);
long sys_dup3(uint64_t oldfd, uint64_t newfd, uint64_t flags);
long sys_fcntl(uint64_t fd, uint64_t cmd, uint64_t arg);
long sys_ioctl(uint64_t fd, uint64_t req, uint64_t arg);
long sys_pipe(uint64_t fds);
long sys_pipe2(uint64_t fds, uint64_t flags);
long sys_fstat(uint64_t fd, uint64_t st);
long sys_fstatfs(uint64_t fd, uint64_t buf);
long sys_getdents64(uint64_t fd, uint64_t dirp, uint64_t count);
long sys_getdents(uint64_t fd, uint64_t dirp, uint64_t count);
long sys_fchdir(uint64_t fd);
long sys_fchmod(uint64_t fd, uint64_t mode);
long sys_ftruncate(uint64_t fd, uint64_t len);
long sys_fsync(uint64_t fd);
long sys_fdatasync(uint64_t fd);
long sys_sendfile(uint64_t out_fd, uint64_t in_fd, uint64_t offset, uint64_t count);
long sys_copy_file_range(uint64_t in_fd, uint64_t in_off, uint64_t out_fd, uint64_t out_off, uint64_t len,
			 uint64_t flags);
long sys_fallocate(uint64_t fd, uint64_t mode, uint64_t off, uint64_t len);

/* fs.c: path names */
long sys_open(uint64_t path, uint64_t flags, uint64_t mode);
long sys_openat(uint64_t dirfd, uint64_t path, uint64_t flags, uint64_t mode);
long sys_creat(uint64_t path, uint64_t mode);
long sys_stat(uint64_t path, uint64_t st);
long sys_lstat(uint64_t path, uint64_t st);
long sys_newfstatat(uint64_t dirfd, uint64_t path, uint64_t st, uint64_t flags);
long sys_statx(uint64_t dirfd, uint64_t path, uint64_t flags, uint64_t mask, uint64_t buf);
long sys_statfs(uint64_t path, uint64_t buf);
long sys_access(uint64_t path, uint64_t mode);
long sys_faccessat(uint64_t dirfd, uint64_t path, uint64_t mode);
long sys_faccessat2(uint64_t dirfd, uint64_t path, uint64_t mode, uint64_t flags);
long sys_readlink(uint64_t path, uint64_t buf, uint64_t size);
long sys_readlinkat(uint64_t dirfd, uint64_t path, uint64_t buf, uint64_t size);
long sys_getcwd(uint64_t buf, uint64_t size);
long sys_chdir(uint64_t path);
long sys_mkdir(uint64_t path, uint64_t mode);
long sys_mkdirat(uint64_t dirfd, uint64_t path, uint64_t mode);
long sys_mknod(uint64_t path, uint64_t mode, uint64_t dev);
long sys_mknodat(uint64_t dirfd, uint64_t path, uint64_t mode, uint64_t dev);
long sys_rmdir(uint64_t path);
long sys_unlink(uint64_t path);
long sys_unlinkat(uint64_t dirfd, uint64_t path, uint64_t flags);
long sys_rename(uint64_t oldpath, uint64_t newpath);
long sys_renameat(uint64_t olddirfd, uint64_t oldpath, uint64_t newdirfd, uint64_t newpath);
long sys_renameat2(uint64_t olddirfd, uint64_t oldpath, uint64_t newdirfd, uint64_t newpath, uint64_t flags);
long sys_link(uint64_t oldpath, uint64_t newpath);
long sys_linkat(uint64_t olddirfd, uint64_t oldpath, uint64_t newdirfd, uint64_t newpath, uint64_t flags);
long sys_symlink(uint64_t target, uint64_t linkpath);
long sys_symlinkat(uint64_t target, uint64_t newdirfd, uint64_t linkpath);
long sys_truncate(uint64_t path, uint64_t len);
long sys_chmod(uint64_t path, uint64_t mode);
long sys_fchmodat(uint64_t dirfd, uint64_t path, uint64_t mode);
long sys_chown(uint64_t path, uint64_t uid, uint64_t gid);
long sys_fchown(uint64_t fd, uint64_t uid, uint64_t gid);
long sys_lchown(uint64_t path, uint64_t uid, uint64_t gid);
long sys_fchownat(uint64_t dirfd, uint64_t path, uint64_t uid, uint64_t gid, uint64_t flags);
long sys_umask(uint64_t mask);
long sys_utimensat(uint64_t dirfd, uint64_t path, uint64_t times, uint64_t flags);
long sys_utimes(uint64_t path, uint64_t times);
long sys_utime(uint64_t path, uint64_t times);
long sys_sync(void);
/* getxattr, lgetxattr, fgetxattr, setxattr..., listxattr..., removexattr...: no extended attributes. */
long sys_xattr_unsupported(void);

#endif /* GUEST_FD_H */
