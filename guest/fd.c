/* File descriptors of the guest process and the I/O syscalls on them: read/write, dup, fcntl, pipes. */
#include "fd.h"

#include <mote/abi.h>

#include "attach.h"
#include "clock.h"
#include "console.h"
#include "klib.h"
#include "linux.h"
#include "mm.h"
#include "pipe.h"
#include "sched.h"
#include "sig.h"
#include "random.h"
#include "snapshot.h"
#include "tty.h"
#include "uaccess.h"
#include "vfs.h"

#define MAX_RW_COUNT 0x7ffff000ull /* Linux caps one read or write at this */
#define IOV_MAX 1024
#define SEEK_DATA 3
#define SEEK_HOLE 4
#define POLLRDNORM 0x040
#define POLLWRNORM 0x100
#define F_GETLK 5
#define F_SETLK 6
#define F_SETLKW 7
#define F_SETOWN 8
#define F_GETOWN 9
#define F_OFD_GETLK 36
#define F_OFD_SETLK 37
#define F_OFD_SETLKW 38
#define F_SETPIPE_SZ 1031
#define F_GETPIPE_SZ 1032
#define F_UNLCK 2
#define O_ASYNC 020000
#define O_DIRECT 040000
#define O_NOATIME 01000000
#define SETFL_MASK (O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)
#define FIONREAD 0x541b
#define FIONBIO 0x5421
#define FIONCLEX 0x5450
#define FIOCLEX 0x5451
#define FIOASYNC 0x5452
#define CLOSE_RANGE_UNSHARE 2u
#define CLOSE_RANGE_CLOEXEC 4u
#define TMPFS_MAGIC 0x01021994
#define PIPE_DEV 0xcull

#define ANON_INODE_DEV 0xdull

enum file_kind { FILE_NODE, FILE_PIPE_READ, FILE_PIPE_WRITE, FILE_OPS };

/* An open file description: shared by dup'ed descriptors (offset and status flags). */
struct file {
	uint32_t refs;
	uint32_t flags; /* O_ACCMODE, O_APPEND, O_NONBLOCK, O_PATH, ... */
	uint64_t pos;	/* file offset; getdents position for directories */
	enum file_kind kind;
	struct vfs_node *node;
	struct pipe *pipe;
	const struct fd_ops *ops; /* FILE_OPS: served by another module (event.c, epoll.c) */
	void *priv;
};

static struct file *fds[FD_MAX];
static uint8_t cloexec[FD_MAX];
static void (*close_hook)(struct file *f);

static struct file *file_get(uint64_t fd)
{
	return fd < FD_MAX ? fds[fd] : NULL;
}

static int file_readable(const struct file *f)
{
	return !(f->flags & O_PATH) && (f->flags & O_ACCMODE) != O_WRONLY;
}

static int is_invoke(const struct file *f)
{
	return f->kind == FILE_NODE && f->node->dev == VFS_DEV_INVOKE && !(f->flags & O_PATH);
}

static int file_writable(const struct file *f)
{
	return !(f->flags & O_PATH) &&
	       ((f->flags & O_ACCMODE) == O_WRONLY || (f->flags & O_ACCMODE) == O_RDWR);
}

static struct file *file_new(enum file_kind kind, uint32_t flags)
{
	struct file *f = kmalloc(sizeof(*f));
	if (!f)
		return NULL;
	f->refs = 1;
	f->kind = kind;
	f->flags = flags;
	return f;
}

static void file_put(struct file *f)
{
	if (--f->refs)
		return;
	if (close_hook)
		close_hook(f);
	if (f->kind == FILE_NODE)
		vfs_put(f->node);
	else if (f->kind == FILE_OPS)
		f->ops->release(f->priv);
	else
		pipe_close(f->pipe, f->kind == FILE_PIPE_WRITE);
	kfree(f);
}

/* Lowest free descriptor >= min, or -EMFILE. */
static int fd_alloc(uint64_t min)
{
	for (uint64_t i = min; i < FD_MAX; i++)
		if (!fds[i])
			return (int)i;
	return -EMFILE;
}

/* Put `f` (whose reference the caller hands over) at descriptor `fd`, closing what was there. */
static void fd_install(int fd, struct file *f, int close_on_exec)
{
	struct file *old = fds[fd];
	fds[fd] = f;
	cloexec[fd] = close_on_exec != 0;
	if (old)
		file_put(old);
}

void fd_init(void)
{
	static const uint32_t modes[3] = {O_RDONLY, O_WRONLY, O_WRONLY};
	for (int i = 0; i < 3; i++) {
		struct file *f = file_new(FILE_NODE, modes[i]);
		if (!f)
			kpanic("fd_init: out of memory");
		f->node = vfs_console_node(i);
		vfs_get(f->node);
		fd_install(i, f, 0);
	}
}

long fd_open_node(struct vfs_node *node, uint32_t flags)
{
	int close_on_exec = (flags & O_CLOEXEC) != 0;
	if (node->dev >= VFS_DEV_STDIN && node->dev <= VFS_DEV_STDERR && !(flags & O_PATH)) {
		struct file *std = fds[node->dev - VFS_DEV_STDIN];
		if (!std)
			return -ENOENT;
		int fd = fd_alloc(0);
		if (fd < 0)
			return fd;
		std->refs++;
		fd_install(fd, std, close_on_exec);
		return fd;
	}
	if (node->dev == VFS_DEV_INVOKE && !(flags & O_PATH)) {
		long r = invoke_open();
		if (r < 0)
			return r;
	}
	int fd = fd_alloc(0);
	if (fd < 0)
		return fd;
	uint32_t keep =
	    O_ACCMODE | O_APPEND | O_NONBLOCK | O_PATH | O_DIRECTORY | O_NOFOLLOW | O_DIRECT | O_NOATIME;
	struct file *f = file_new(FILE_NODE, flags & keep);
	if (!f)
		return -ENOMEM;
	f->node = node;
	vfs_get(node);
	fd_install(fd, f, close_on_exec);
	return fd;
}

long fd_open_ops(const struct fd_ops *ops, void *priv, uint32_t flags)
{
	int fd = fd_alloc(0);
	if (fd < 0)
		return fd;
	struct file *f = file_new(FILE_OPS, O_RDWR | (flags & O_NONBLOCK));
	if (!f)
		return -ENOMEM;
	f->ops = ops;
	f->priv = priv;
	fd_install(fd, f, (flags & O_CLOEXEC) != 0);
	return fd;
}

struct file *fd_file(uint64_t fd)
{
	return file_get(fd);
}

void *fd_file_priv(const struct file *f, const struct fd_ops *ops)
{
	return f->kind == FILE_OPS && f->ops == ops ? f->priv : NULL;
}

int fd_file_pollable(const struct file *f)
{
	if (f->kind != FILE_NODE)
		return 1;
	if (f->flags & O_PATH)
		return 0;
	int host_fd = vfs_console_index(f->node);
	if (host_fd > 0) {
		struct mote_stdio s = tty_host_stdio(host_fd);
		uint32_t type = s.mode & S_IFMT;
		return type && type != S_IFREG && type != S_IFDIR && !(type == S_IFCHR && s.rdev == 0x103);
	}
	return f->node->dev == VFS_DEV_RANDOM || f->node->dev == VFS_DEV_INVOKE;
}

uint64_t fd_file_deadline(const struct file *f)
{
	return f->kind == FILE_OPS && f->ops->deadline ? f->ops->deadline(f->priv) : 0;
}

uint64_t fd_file_seq(const struct file *f, int out)
{
	if (f->kind == FILE_OPS)
		return f->ops->seq ? f->ops->seq(f->priv, out) : 0;
	if (f->kind == FILE_NODE)
		return 0;
	return f->kind == FILE_PIPE_READ ? f->pipe->seq_in : f->pipe->seq_out;
}

void fd_set_close_hook(void (*hook)(struct file *f))
{
	close_hook = hook;
}

int fd_path_base(int dirfd, const char *path, struct vfs_node **base)
{
	if (path[0] == '/') {
		*base = vfs_root();
		return 0;
	}
	if (dirfd == AT_FDCWD) {
		*base = vfs_cwd();
		return 0;
	}
	struct file *f = file_get((uint64_t)(int64_t)dirfd);
	if (!f)
		return -EBADF;
	if (f->kind != FILE_NODE || !vfs_is_dir(f->node))
		return -ENOTDIR;
	*base = f->node;
	return 0;
}

int fd_node(int fd, struct vfs_node **node)
{
	struct file *f = file_get((uint64_t)(int64_t)fd);
	if (!f)
		return -EBADF;
	*node = f->kind == FILE_NODE ? f->node : NULL;
	return 0;
}

int fd_stat(int fd, struct linux_stat *st)
{
	struct file *f = file_get((uint64_t)(int64_t)fd);
	if (!f)
		return -EBADF;
	if (f->kind == FILE_NODE) {
		vfs_stat(f->node, st);
		int host_fd = vfs_console_index(f->node);
		if (host_fd >= 0)
			tty_fill_stat(host_fd, st);
		return 0;
	}
	memset(st, 0, sizeof(*st));
	if (f->kind == FILE_OPS) { /* an anonymous inode, as Linux's eventfd, timerfd and epoll files */
		st->st_dev = ANON_INODE_DEV;
		st->st_ino = 1;
		st->st_nlink = 1;
		st->st_mode = 0600;
		st->st_blksize = 4096;
		return 0;
	}
	st->st_dev = PIPE_DEV;
	st->st_ino = f->pipe->ino;
	st->st_nlink = 1;
	st->st_mode = S_IFIFO | 0600;
	st->st_blksize = 4096;
	st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = f->pipe->ctime_ns / 1000000000;
	st->st_atim.tv_nsec = st->st_mtim.tv_nsec = st->st_ctim.tv_nsec = f->pipe->ctime_ns % 1000000000;
	return 0;
}

void fd_statfs_fill(struct linux_statfs *sf)
{
	uint64_t free_pages = 0, total_pages = 0;
	pages_stats(&free_pages, &total_pages);
	memset(sf, 0, sizeof(*sf));
	sf->f_type = TMPFS_MAGIC;
	sf->f_bsize = 4096;
	sf->f_frsize = 4096;
	sf->f_blocks = total_pages;
	sf->f_bfree = free_pages;
	sf->f_bavail = free_pages;
	sf->f_files = total_pages;
	sf->f_ffree = free_pages;
	sf->f_namelen = VFS_NAME_MAX;
}

/* ---- reading and writing --------------------------------------------------------------------- */

/* Read from `f` at *pos (advanced) into kernel-checked `buf`. */
static long file_read(struct file *f, void *buf, uint64_t len, uint64_t *pos)
{
	if (!file_readable(f))
		return -EBADF;
	if (f->kind == FILE_PIPE_READ)
		return pipe_read(f->pipe, buf, len, (f->flags & O_NONBLOCK) != 0);
	if (f->kind == FILE_OPS)
		return f->ops->read ? f->ops->read(f->priv, buf, len, (f->flags & O_NONBLOCK) != 0) : -EINVAL;
	if (f->kind != FILE_NODE)
		return -EBADF;
	struct vfs_node *n = f->node;
	if (vfs_is_dir(n))
		return -EISDIR;
	if (vfs_is_reg(n)) {
		uint64_t got = vfs_read(n, buf, len, *pos);
		*pos += got;
		return (long)got;
	}
	switch (n->dev) {
	case VFS_DEV_ZERO:
	case VFS_DEV_FULL: memset(buf, 0, len); return (long)len;
	case VFS_DEV_RANDOM: random_bytes(buf, len); return (long)len;
	case VFS_DEV_GENERATION: return (long)snapshot_read_generation(buf, len, pos);
	case VFS_DEV_INVOKE: return invoke_read(buf, len);
	default: return 0; /* /dev/null and the console: EOF */
	}
}

/* Write kernel-checked `buf` to `f` at *pos (advanced; O_APPEND writes at the end). */
static long file_write(struct file *f, const void *buf, uint64_t len, uint64_t *pos)
{
	if (!file_writable(f))
		return -EBADF;
	if (f->kind == FILE_PIPE_WRITE) {
		long n = pipe_write(f->pipe, buf, len, (f->flags & O_NONBLOCK) != 0);
		if (n == -EPIPE)
			sig_send_thread(sched_current(), SIGPIPE, SICODE_USER);
		return n;
	}
	if (f->kind == FILE_OPS)
		return f->ops->write ? f->ops->write(f->priv, buf, len, (f->flags & O_NONBLOCK) != 0)
				     : -EINVAL;
	if (f->kind != FILE_NODE)
		return -EBADF;
	struct vfs_node *n = f->node;
	if (vfs_is_reg(n)) {
		if (f->flags & O_APPEND)
			*pos = n->size;
		long r = vfs_write(n, buf, len, *pos);
		if (r > 0)
			*pos += (uint64_t)r;
		return r;
	}
	switch (n->dev) {
	case VFS_DEV_FULL: return -ENOSPC;
	case VFS_DEV_CONSOLE_IN:
	case VFS_DEV_CONSOLE_OUT: return console_write(MOTE_CONSOLE_STDOUT, buf, len);
	case VFS_DEV_CONSOLE_ERR: return console_write(MOTE_CONSOLE_STDERR, buf, len);
	case VFS_DEV_NONE:
	case VFS_DEV_GENERATION: return -EINVAL;
	case VFS_DEV_SNAPSHOT: {
		long r = snapshot_request();
		return r < 0 ? r : (long)len;
	}
	case VFS_DEV_INVOKE: return invoke_write(buf, len);
	default: return (long)len;
	}
}

long fd_read_at(int fd, void *dst, uint64_t len, uint64_t off)
{
	struct file *f = file_get((uint64_t)(int64_t)fd);
	if (!f || (f->flags & O_PATH))
		return -EBADF;
	if (f->kind != FILE_NODE || !vfs_is_reg(f->node))
		return -ENODEV;
	if (!file_readable(f))
		return -EACCES;
	return (long)vfs_read(f->node, dst, len, off);
}

int fd_is_regular(int fd)
{
	struct file *f = file_get((uint64_t)(int64_t)fd);
	return f && !(f->flags & O_PATH) && f->kind == FILE_NODE && vfs_is_reg(f->node);
}

void fd_close_on_exec(void)
{
	for (uint64_t fd = 0; fd < FD_MAX; fd++)
		if (fds[fd] && cloexec[fd])
			sys_close(fd);
}

long sys_read(uint64_t fd, uint64_t buf, uint64_t count)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	count = MIN(count, MAX_RW_COUNT);
	if (!user_writable(buf, count))
		return -EFAULT;
	return file_read(f, (void *)(uintptr_t)buf, count, &f->pos);
}

long sys_write(uint64_t fd, uint64_t buf, uint64_t count)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	count = MIN(count, MAX_RW_COUNT);
	if (!user_readable(buf, count))
		return -EFAULT;
	return file_write(f, (const void *)(uintptr_t)buf, count, &f->pos);
}

/* Reject positional I/O where Linux does: negative offsets, pipes. */
static long check_positional(struct file *f, uint64_t off)
{
	if ((int64_t)off < 0)
		return -EINVAL;
	if (f->kind != FILE_NODE || is_invoke(f))
		return -ESPIPE;
	return 0;
}

long sys_pread64(uint64_t fd, uint64_t buf, uint64_t count, uint64_t off)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	if (!file_readable(f))
		return -EBADF;
	long r = check_positional(f, off);
	if (r < 0)
		return r;
	count = MIN(count, MAX_RW_COUNT);
	if (!user_writable(buf, count))
		return -EFAULT;
	return file_read(f, (void *)(uintptr_t)buf, count, &off);
}

long sys_pwrite64(uint64_t fd, uint64_t buf, uint64_t count, uint64_t off)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	if (!file_writable(f))
		return -EBADF;
	long r = check_positional(f, off);
	if (r < 0)
		return r;
	count = MIN(count, MAX_RW_COUNT);
	if (!user_readable(buf, count))
		return -EFAULT;
	return file_write(f, (const void *)(uintptr_t)buf, count, &off);
}

/* readv/writev and their positional forms; stops at the first short transfer. */
static long vector_io(uint64_t fd, uint64_t iov, uint64_t iovcnt, uint64_t *pos_or_null, int writing)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	if (iovcnt > IOV_MAX)
		return -EINVAL;
	if (!user_readable(iov, iovcnt * sizeof(struct linux_iovec)))
		return -EFAULT;
	const struct linux_iovec *v = (const struct linux_iovec *)(uintptr_t)iov;
	uint64_t total = 0;
	for (uint64_t i = 0; i < iovcnt; i++) {
		if ((int64_t)v[i].iov_len < 0 || v[i].iov_len > (uint64_t)INT64_MAX - total)
			return -EINVAL;
		total += v[i].iov_len;
		if (writing ? !user_readable(v[i].iov_base, v[i].iov_len)
			    : !user_writable(v[i].iov_base, v[i].iov_len))
			return -EFAULT;
	}
	if (writing ? !file_writable(f) : !file_readable(f))
		return -EBADF;
	uint64_t *pos = pos_or_null ? pos_or_null : &f->pos;
	uint64_t done = 0;
	for (uint64_t i = 0; i < iovcnt && done < MAX_RW_COUNT; i++) {
		uint64_t len = MIN(v[i].iov_len, MAX_RW_COUNT - done);
		if (len == 0)
			continue;
		void *base = (void *)(uintptr_t)v[i].iov_base;
		/* Only the first buffer of a readv may wait for the next request. */
		if (!writing && done && is_invoke(f) && invoke_unread() <= 0)
			break;
		long r = writing ? file_write(f, base, len, pos) : file_read(f, base, len, pos);
		if (r < 0)
			return done ? (long)done : r;
		done += (uint64_t)r;
		if ((uint64_t)r < len)
			break;
	}
	return (long)done;
}

long sys_readv(uint64_t fd, uint64_t iov, uint64_t iovcnt)
{
	return vector_io(fd, iov, iovcnt, NULL, 0);
}

long sys_writev(uint64_t fd, uint64_t iov, uint64_t iovcnt)
{
	return vector_io(fd, iov, iovcnt, NULL, 1);
}

long sys_preadv(uint64_t fd, uint64_t iov, uint64_t iovcnt, uint64_t off)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	long r = check_positional(f, off);
	return r < 0 ? r : vector_io(fd, iov, iovcnt, &off, 0);
}

long sys_pwritev(uint64_t fd, uint64_t iov, uint64_t iovcnt, uint64_t off)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	long r = check_positional(f, off);
	return r < 0 ? r : vector_io(fd, iov, iovcnt, &off, 1);
}

long sys_lseek(uint64_t fd, uint64_t off, uint64_t whence)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	if (f->kind != FILE_NODE)
		return -ESPIPE;
	struct vfs_node *n = f->node;
	int64_t o = (int64_t)off, base;
	if (vfs_is_dir(n)) {
		/* Directory offsets are getdents cookies: only rewinding and absolute positions work. */
		if (whence == SEEK_SET && o >= 0)
			f->pos = (uint64_t)o;
		else if (!(whence == SEEK_CUR && o == 0))
			return -EINVAL;
		return (long)f->pos;
	}
	if ((n->dev >= VFS_DEV_CONSOLE_IN && n->dev <= VFS_DEV_CONSOLE_ERR) || n->dev == VFS_DEV_INVOKE)
		return -ESPIPE; /* like a terminal or a pipe */
	if (!vfs_is_reg(n))
		return whence <= SEEK_END ? 0 : -EINVAL; /* /dev/null and friends: position stays 0 */
	switch (whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = (int64_t)f->pos; break;
	case SEEK_END: base = (int64_t)n->size; break;
	case SEEK_DATA:
	case SEEK_HOLE:
		if (o < 0 || (uint64_t)o >= n->size)
			return -ENXIO;
		f->pos = whence == SEEK_DATA ? (uint64_t)o : n->size;
		return (long)f->pos;
	default: return -EINVAL;
	}
	if ((o > 0 && base > INT64_MAX - o) || base + o < 0)
		return -EINVAL;
	f->pos = (uint64_t)(base + o);
	return (long)f->pos;
}

/* ---- descriptors ----------------------------------------------------------------------------- */

long sys_close(uint64_t fd)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	fds[fd] = NULL;
	cloexec[fd] = 0;
	file_put(f);
	return 0;
}

long sys_close_range(uint64_t first, uint64_t last, uint64_t flags)
{
	if ((flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) || (uint32_t)first > (uint32_t)last)
		return -EINVAL;
	for (uint64_t fd = (uint32_t)first; fd <= (uint32_t)last && fd < FD_MAX; fd++) {
		if (!fds[fd])
			continue;
		if (flags & CLOSE_RANGE_CLOEXEC)
			cloexec[fd] = 1;
		else
			sys_close(fd);
	}
	return 0;
}

/* Duplicate `f` onto the lowest free descriptor >= min. */
static long dup_from(struct file *f, uint64_t min, int close_on_exec)
{
	int fd = fd_alloc(min);
	if (fd < 0)
		return fd;
	f->refs++;
	fd_install(fd, f, close_on_exec);
	return fd;
}

long sys_dup(uint64_t fd)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	return dup_from(f, 0, 0);
}

long sys_dup3(uint64_t oldfd, uint64_t newfd, uint64_t flags)
{
	if (flags & ~(uint64_t)O_CLOEXEC)
		return -EINVAL;
	struct file *f = file_get(oldfd);
	if (!f)
		return -EBADF;
	if (newfd >= FD_MAX)
		return -EBADF;
	if (oldfd == newfd)
		return -EINVAL;
	f->refs++;
	fd_install((int)newfd, f, (flags & O_CLOEXEC) != 0);
	return (long)newfd;
}

long sys_dup2(uint64_t oldfd, uint64_t newfd)
{
	if (oldfd == newfd)
		return file_get(oldfd) ? (long)newfd : -EBADF;
	return sys_dup3(oldfd, newfd, 0);
}

long sys_fcntl(uint64_t fd, uint64_t cmd, uint64_t arg)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (arg >= FD_MAX)
			return -EINVAL;
		return dup_from(f, arg, cmd == F_DUPFD_CLOEXEC);
	case F_GETFD: return cloexec[fd] ? FD_CLOEXEC : 0;
	case F_SETFD: cloexec[fd] = (arg & FD_CLOEXEC) != 0; return 0;
	case F_GETFL: return f->flags;
	case F_SETFL:
		if (f->flags & O_PATH)
			return -EBADF;
		f->flags = (f->flags & ~(uint32_t)SETFL_MASK) | ((uint32_t)arg & SETFL_MASK);
		return 0;
	case F_GETLK:
	case F_OFD_GETLK: {
		/* struct flock starts with short l_type: nothing is ever locked by another process. */
		int16_t unlocked = F_UNLCK;
		return user_copy_to(arg, &unlocked, sizeof(unlocked));
	}
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_SETLK:
	case F_OFD_SETLKW: return user_readable(arg, 32) ? 0 : -EFAULT;
	case F_GETOWN:
	case F_SETOWN: return 0;
	case F_GETPIPE_SZ:
	case F_SETPIPE_SZ:
		return f->kind == FILE_PIPE_READ || f->kind == FILE_PIPE_WRITE ? (long)PIPE_CAPACITY : -EBADF;
	default: return -EINVAL;
	}
}

long sys_ioctl(uint64_t fd, uint64_t req, uint64_t arg)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	switch ((uint32_t)req) {
	case FIOCLEX: cloexec[fd] = 1; return 0;
	case FIONCLEX: cloexec[fd] = 0; return 0;
	case FIOASYNC: return 0;
	case FIONBIO: {
		int32_t on;
		if (user_copy_from(&on, arg, sizeof(on)) < 0)
			return -EFAULT;
		if (on)
			f->flags |= O_NONBLOCK;
		else
			f->flags &= ~(uint32_t)O_NONBLOCK;
		return 0;
	}
	case FIONREAD: {
		int32_t avail;
		if (f->kind == FILE_PIPE_READ)
			avail = (int32_t)MIN(f->pipe->len, (uint64_t)INT32_MAX);
		else if (f->kind == FILE_NODE && vfs_is_reg(f->node))
			avail = (int32_t)(f->pos < f->node->size
					      ? MIN(f->node->size - f->pos, (uint64_t)INT32_MAX)
					      : 0);
		else if (is_invoke(f)) {
			long n = invoke_unread();
			if (n < 0)
				return n;
			avail = (int32_t)MIN((uint64_t)n, (uint64_t)INT32_MAX);
		} else
			return -ENOTTY;
		return user_copy_to(arg, &avail, sizeof(avail));
	}
	default: {
		/* Terminal requests: only a console fd whose host fd is a terminal is one. */
		int host_fd = f->kind == FILE_NODE ? vfs_console_index(f->node) : -1;
		return host_fd >= 0 ? tty_ioctl(host_fd, (uint32_t)req, arg) : -ENOTTY;
	}
	}
}

/* ---- pipes ----------------------------------------------------------------------------------- */

long sys_pipe2(uint64_t fdsp, uint64_t flags)
{
	if (flags & ~(uint64_t)(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
		return -EINVAL;
	if (!user_writable(fdsp, 2 * sizeof(int32_t)))
		return -EFAULT;
	int rfd = fd_alloc(0);
	if (rfd < 0)
		return rfd;
	int wfd = fd_alloc((uint64_t)rfd + 1);
	if (wfd < 0)
		return wfd;
	struct pipe *p = pipe_new();
	struct file *r = p ? file_new(FILE_PIPE_READ, O_RDONLY | (flags & O_NONBLOCK)) : NULL;
	struct file *w = r ? file_new(FILE_PIPE_WRITE, O_WRONLY | (flags & O_NONBLOCK)) : NULL;
	if (!w) {
		kfree(r);
		kfree(p);
		return -ENFILE;
	}
	r->pipe = w->pipe = p;
	fd_install(rfd, r, (flags & O_CLOEXEC) != 0);
	fd_install(wfd, w, (flags & O_CLOEXEC) != 0);
	int32_t out[2] = {rfd, wfd};
	memcpy((void *)(uintptr_t)fdsp, out, sizeof(out));
	return 0;
}

long sys_pipe(uint64_t fdsp)
{
	return sys_pipe2(fdsp, 0);
}

/* ---- readiness (poll.c, epoll.c) ------------------------------------------------------------- */

/* What `f` is ready for right now. */
static int file_poll(const struct file *f)
{
	if (f->kind == FILE_OPS) {
		int ev = f->ops->poll(f->priv);
		return ev | (ev & POLLIN ? POLLRDNORM : 0) | (ev & POLLOUT ? POLLWRNORM : 0);
	}
	if (f->kind == FILE_PIPE_READ || f->kind == FILE_PIPE_WRITE) {
		int ev = pipe_poll(f->pipe, f->kind == FILE_PIPE_WRITE);
		if (ev & POLLIN)
			ev |= POLLRDNORM;
		if (ev & POLLOUT)
			ev |= POLLWRNORM;
		return ev;
	}
	if (is_invoke(f)) {
		/* Readable only while the current request has unread bytes: a read otherwise waits for one.
		 */
		long n = invoke_unread();
		return n < 0 ? POLLERR : POLLOUT | POLLWRNORM | (n > 0 ? POLLIN | POLLRDNORM : 0);
	}
	return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM; /* files, devices and the console never wait */
}

int fd_file_poll(const struct file *f)
{
	return file_poll(f);
}

/* ---- metadata and directories ---------------------------------------------------------------- */

long sys_fstat(uint64_t fd, uint64_t st)
{
	struct linux_stat s;
	if (fd >= FD_MAX)
		return -EBADF;
	int r = fd_stat((int)fd, &s);
	if (r < 0)
		return r;
	return user_copy_to(st, &s, sizeof(s));
}

long sys_fstatfs(uint64_t fd, uint64_t buf)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	struct linux_statfs sf;
	fd_statfs_fill(&sf);
	if (f->kind == FILE_NODE && f->node->readonly)
		sf.f_flags |= ST_RDONLY;
	return user_copy_to(buf, &sf, sizeof(sf));
}

static uint8_t dirent_type(const struct vfs_node *n)
{
	switch (n->mode & S_IFMT) {
	case S_IFDIR: return DT_DIR;
	case S_IFREG: return DT_REG;
	case S_IFLNK: return DT_LNK;
	case S_IFCHR: return DT_CHR;
	case S_IFIFO: return DT_FIFO;
	default: return DT_UNKNOWN;
	}
}

/* getdents64 (`old` = 0) and the old getdents layout (d_type in the record's last byte). */
static long read_dir(uint64_t fd, uint64_t dirp, uint64_t count, int old)
{
	struct file *f = file_get(fd);
	if (!f || (f->flags & O_PATH))
		return -EBADF;
	if (f->kind != FILE_NODE || !vfs_is_dir(f->node))
		return -ENOTDIR;
	struct vfs_node *dir = f->node;
	if (dir->nlink == 0)
		return -ENOENT;
	count = MIN(count, MAX_RW_COUNT);
	if (!user_writable(dirp, count))
		return -EFAULT;
	uint8_t *out = (uint8_t *)(uintptr_t)dirp;
	uint64_t used = 0;
	for (;;) {
		uint64_t pos = f->pos;
		const char *name;
		size_t len;
		struct vfs_node *n;
		if (!vfs_dir_next(dir, &pos, &name, &len, &n))
			break;
		uint64_t reclen = old ? ALIGN_UP(18 + len + 2, 8) : ALIGN_UP(19 + len + 1, 8);
		if (used + reclen > count) {
			if (used == 0)
				return -EINVAL;
			break;
		}
		uint8_t *rec = out + used;
		memset(rec, 0, reclen);
		uint64_t ino = n->ino, off = pos;
		uint16_t rl = (uint16_t)reclen;
		memcpy(rec, &ino, 8);
		memcpy(rec + 8, &off, 8);
		memcpy(rec + 16, &rl, 2);
		if (old) {
			memcpy(rec + 18, name, len);
			rec[reclen - 1] = dirent_type(n);
		} else {
			rec[18] = dirent_type(n);
			memcpy(rec + 19, name, len);
		}
		used += reclen;
		f->pos = pos;
	}
	return (long)used;
}

long sys_getdents64(uint64_t fd, uint64_t dirp, uint64_t count)
{
	return read_dir(fd, dirp, count, 0);
}

long sys_getdents(uint64_t fd, uint64_t dirp, uint64_t count)
{
	return read_dir(fd, dirp, count, 1);
}

long sys_fchdir(uint64_t fd)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	if (f->kind != FILE_NODE || !vfs_is_dir(f->node))
		return -ENOTDIR;
	vfs_set_cwd(f->node);
	return 0;
}

long sys_fchmod(uint64_t fd, uint64_t mode)
{
	struct file *f = file_get(fd);
	if (!f || (f->flags & O_PATH))
		return -EBADF;
	if (f->kind == FILE_NODE) {
		if (f->node->readonly)
			return -EROFS;
		f->node->mode = (f->node->mode & S_IFMT) | ((uint32_t)mode & 07777);
		vfs_touch_status(f->node);
	}
	return 0;
}

long sys_ftruncate(uint64_t fd, uint64_t len)
{
	struct file *f = file_get(fd);
	if (!f || (f->flags & O_PATH))
		return -EBADF;
	if ((int64_t)len < 0)
		return -EINVAL;
	if (f->kind != FILE_NODE || !vfs_is_reg(f->node) || !file_writable(f))
		return -EINVAL;
	return vfs_truncate(f->node, len);
}

long sys_fallocate(uint64_t fd, uint64_t mode, uint64_t off, uint64_t len)
{
	struct file *f = file_get(fd);
	if (!f || !file_writable(f))
		return -EBADF;
	if ((int64_t)off < 0 || (int64_t)len <= 0)
		return -EINVAL;
	if (f->kind != FILE_NODE)
		return -ESPIPE;
	if (!vfs_is_reg(f->node))
		return vfs_is_dir(f->node) ? -EISDIR : -ENODEV;
	if (mode != 0 && mode != 1) /* 0 or FALLOC_FL_KEEP_SIZE */
		return -EOPNOTSUPP;
	if (off + len > VFS_FILE_MAX)
		return -EFBIG;
	if (mode == 0 && off + len > f->node->size)
		return vfs_truncate(f->node, off + len);
	return 0;
}

static long sync_fd(uint64_t fd)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	return f->kind == FILE_NODE ? 0 : -EINVAL;
}

long sys_fsync(uint64_t fd)
{
	return sync_fd(fd);
}

long sys_fdatasync(uint64_t fd)
{
	return sync_fd(fd);
}

/* ---- copying between files ------------------------------------------------------------------- */

/* Copy up to `len` bytes from `in` at *inpos to `out` at *outpos through a kernel buffer. */
static long transfer(struct file *in, uint64_t *inpos, struct file *out, uint64_t *outpos, uint64_t len)
{
	uint64_t chunk = MIN(len, 65536ull);
	uint8_t *buf = kmalloc(chunk ? chunk : 1);
	if (!buf)
		return -ENOMEM;
	uint64_t done = 0;
	long err = 0;
	while (done < len) {
		uint64_t want = MIN(chunk, len - done);
		long got = file_read(in, buf, want, inpos);
		if (got <= 0) {
			err = got;
			break;
		}
		long put = file_write(out, buf, (uint64_t)got, outpos);
		if (put < 0) {
			*inpos -= (uint64_t)got;
			err = put;
			break;
		}
		done += (uint64_t)put;
		if (put < got) {
			*inpos -= (uint64_t)(got - put);
			break;
		}
		if ((uint64_t)got < want)
			break;
	}
	kfree(buf);
	return done ? (long)done : err;
}

long sys_sendfile(uint64_t out_fd, uint64_t in_fd, uint64_t offset, uint64_t count)
{
	struct file *in = file_get(in_fd), *out = file_get(out_fd);
	if (!in || !out || !file_readable(in) || !file_writable(out))
		return -EBADF;
	if (in->kind != FILE_NODE || !vfs_is_reg(in->node))
		return -EINVAL;
	count = MIN(count, MAX_RW_COUNT);
	if (!offset)
		return transfer(in, &in->pos, out, &out->pos, count);
	int64_t off;
	if (user_copy_from(&off, offset, sizeof(off)) < 0 || !user_writable(offset, sizeof(off)))
		return -EFAULT;
	if (off < 0)
		return -EINVAL;
	uint64_t pos = (uint64_t)off;
	long r = transfer(in, &pos, out, &out->pos, count);
	off = (int64_t)pos;
	memcpy((void *)(uintptr_t)offset, &off, sizeof(off));
	return r;
}

long sys_copy_file_range(uint64_t in_fd, uint64_t in_off, uint64_t out_fd, uint64_t out_off, uint64_t len,
			 uint64_t flags)
{
	if (flags)
		return -EINVAL;
	struct file *in = file_get(in_fd), *out = file_get(out_fd);
	if (!in || !out || !file_readable(in) || !file_writable(out))
		return -EBADF;
	if (in->kind != FILE_NODE || out->kind != FILE_NODE || !vfs_is_reg(in->node) ||
	    !vfs_is_reg(out->node))
		return -EINVAL;
	if (out->flags & O_APPEND)
		return -EBADF;
	uint64_t offs[2] = {in->pos, out->pos};
	uint64_t ptrs[2] = {in_off, out_off};
	for (int i = 0; i < 2; i++) {
		if (!ptrs[i])
			continue;
		int64_t o;
		if (user_copy_from(&o, ptrs[i], sizeof(o)) < 0 || !user_writable(ptrs[i], sizeof(o)))
			return -EFAULT;
		if (o < 0)
			return -EINVAL;
		offs[i] = (uint64_t)o;
	}
	long r = transfer(in, &offs[0], out, &offs[1], MIN(len, MAX_RW_COUNT));
	struct file *files[2] = {in, out};
	for (int i = 0; i < 2; i++) {
		if (ptrs[i])
			memcpy((void *)(uintptr_t)ptrs[i], &offs[i], sizeof(offs[i]));
		else
			files[i]->pos = offs[i];
	}
	return r;
}
