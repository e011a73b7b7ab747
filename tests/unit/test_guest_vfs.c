/* Unit test of the guest kernel's file system, descriptors and pipes, run on the host over a built cpio
 * image. */
// guest-modules: guest/vfs.c guest/fd.c guest/fs.c guest/pipe.c guest/uaccess.c guest/attach.c guest/tty.c
// guest-modules: guest/poll.c
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fd.h"
#include "linux.h"
#include "poll.h"
#include "pipe.h"
#include "tty.h"
#include "vfs.h"

#include "cpio.c"	   /* lib/cpio.c: the guest modules' image reader */
#include "invoke_region.c" /* lib/invoke_region.c: guest/attach.c's header check */
#include "guest_shim.c"

#define U(p) ((uint64_t)(uintptr_t)(p))
#define FDCWD ((uint64_t)(int64_t)AT_FDCWD)

#include "check.h"

#define EXPECT_EQ(name, got, want)                                                                           \
	do {                                                                                                 \
		long got_ = (long)(got), want_ = (long)(want);                                               \
		check(name, got_ == want_, "%s is %ld, expected %ld", #got, got_, want_);                    \
	} while (0)

#define EXPECT_STR(name, got, want)                                                                          \
	do {                                                                                                 \
		const char *got_ = (got), *want_ = (want);                                                   \
		check(name, strcmp(got_, want_) == 0, "got \"%s\", expected \"%s\"", got_, want_);           \
	} while (0)

/* ---- a tiny cpio newc writer ----------------------------------------------------------------- */

struct image {
	uint8_t *data;
	size_t len, cap;
};

static void put(struct image *im, const void *p, size_t n)
{
	if (im->len + n + 4 > im->cap) {
		im->cap = (im->len + n + 4) * 2;
		im->data = realloc(im->data, im->cap);
	}
	memcpy(im->data + im->len, p, n);
	im->len += n;
}

static void image_pad4(struct image *im)
{
	static const uint8_t zero[4];
	put(im, zero, (4 - im->len % 4) % 4);
}

/* Add an entry with modification time `mtime` (seconds). */
static void add_at(struct image *im, const char *name, uint32_t mode, uint32_t ino, uint32_t nlink,
		   const void *data, size_t size, uint32_t mtime)
{
	char hdr[128];
	snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", ino, mode,
		 0u, 0u, nlink, mtime, size, 0u, 0u, 0u, 0u, strlen(name) + 1, 0u);
	put(im, hdr, 110);
	put(im, name, strlen(name) + 1);
	image_pad4(im);
	put(im, data, size);
	image_pad4(im);
}

/* Add an entry with modification time 1000000. */
static void add(struct image *im, const char *name, uint32_t mode, uint32_t ino, uint32_t nlink,
		const void *data, size_t size)
{
	add_at(im, name, mode, ino, nlink, data, size, 1000000u);
}

static void add_file(struct image *im, const char *name, uint32_t perm, const char *text)
{
	static uint32_t ino = 100;
	add(im, name, S_IFREG | perm, ino++, 1, text, strlen(text));
}

static void finish(struct image *im)
{
	add(im, MOTE_CPIO_TRAILER, 0, 0, 1, "", 0);
}

/* ---- helpers over the syscalls --------------------------------------------------------------- */

static long xopen(const char *path, uint64_t flags, uint64_t mode)
{
	return sys_open(U(path), flags, mode);
}

static long xstat(const char *path, struct linux_stat *st)
{
	return sys_stat(U(path), U(st));
}

static long xlstat(const char *path, struct linux_stat *st)
{
	return sys_lstat(U(path), U(st));
}

/* Read the whole file at `path` into buf (NUL-terminated); returns the length or -errno. */
static long slurp(const char *path, char *buf, size_t size)
{
	long fd = xopen(path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	long n = sys_read((uint64_t)fd, U(buf), size - 1);
	sys_close((uint64_t)fd);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

static long write_file(const char *path, const char *text)
{
	long fd = xopen(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fd;
	long n = sys_write((uint64_t)fd, U(text), strlen(text));
	sys_close((uint64_t)fd);
	return n;
}

/* Names in directory `path`, space-separated in getdents order, into out. Returns entries or -errno. */
static long list_dir(const char *path, char *out, size_t size)
{
	long fd = xopen(path, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	char buf[512];
	long count = 0;
	out[0] = 0;
	for (;;) {
		long n = sys_getdents64((uint64_t)fd, U(buf), sizeof(buf));
		if (n <= 0) {
			if (n < 0)
				count = n;
			break;
		}
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			if (out[0])
				strncat(out, " ", size - strlen(out) - 1);
			strncat(out, d->d_name, size - strlen(out) - 1);
			count++;
			off += d->d_reclen;
		}
	}
	sys_close((uint64_t)fd);
	return count;
}

static struct image build_image(void)
{
	struct image im = {0};
	add(&im, ".", S_IFDIR | 0755, 1, 2, "", 0);
	add(&im, "bin", S_IFDIR | 0755, 2, 2, "", 0);
	add_file(&im, "bin/hello", 0755, "hello world\n");
	add(&im, "bin/link", S_IFLNK | 0777, 3, 1, "hello", 5);
	add_file(&im, "./etc/passwd", 0644, "root:x:0:0::/root:/bin/sh\n"); /* parent "etc" missing */
	add_file(&im, "/abs/file", 0600, "absolute\n");
	add(&im, "lib", S_IFDIR | 0755, 4, 2, "", 0);
	add_file(&im, "lib/data", 0644, "library data\n");
	/* Directories inside directories, each with its own time; "late" is listed after its entry. */
	add_at(&im, "lib/sub", S_IFDIR | 0755, 90, 2, "", 0, 2000000u);
	add_at(&im, "lib/sub/inner", S_IFDIR | 0700, 91, 2, "", 0, 3000000u);
	add_at(&im, "lib/sub/inner/f", S_IFREG | 0644, 92, 1, "f", 1, 4000000u);
	add_at(&im, "lib/late/x", S_IFREG | 0644, 93, 1, "x", 1, 5000000u);
	add_at(&im, "lib/late", S_IFDIR | 0755, 94, 2, "", 0, 6000000u);
	add(&im, "loop1", S_IFLNK | 0777, 5, 1, "loop2", 5);
	add(&im, "loop2", S_IFLNK | 0777, 6, 1, "/loop1", 6);
	add(&im, "dirlink", S_IFLNK | 0777, 7, 1, "/lib", 4);
	add(&im, "h1", S_IFREG | 0644, 77, 2, "", 0); /* hard links: newc keeps the data with the last name */
	add(&im, "h2", S_IFREG | 0644, 77, 2, "hard", 4);
	add(&im, "dev/null", S_IFREG | 0644, 8, 1, "not a device", 12); /* replaced by the kernel's /dev */
	finish(&im);
	return im;
}

/* ---- the checks ------------------------------------------------------------------------------ */

static void test_corrupt_images(void)
{
	struct image good = build_image();
	struct {
		const char *name;
		size_t len;
		int flip; /* byte to corrupt, or -1 */
	} cases[] = {
	    {"corrupt image: truncated header", 50, -1},
	    {"corrupt image: bad magic", good.len, 0},
	    {"corrupt image: non-hex field", good.len, 20},
	    {"corrupt image: no trailer", good.len - 124, -1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pid_t pid = fork();
		if (pid == 0) {
			uint8_t *copy = malloc(cases[i].len);
			memcpy(copy, good.data, cases[i].len);
			if (cases[i].flip >= 0)
				copy[cases[i].flip] = 'Z';
			int r = vfs_init(copy, cases[i].len, "/bin/hello");
			_exit(r == -EINVAL ? 0 : 1);
		}
		int status = 0;
		waitpid(pid, &status, 0);
		check(cases[i].name, WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "vfs_init did not return -EINVAL");
	}
	/* A ".." component is refused too. */
	struct image evil = {0};
	add_file(&evil, "a/../../x", 0644, "x");
	finish(&evil);
	pid_t pid = fork();
	if (pid == 0)
		_exit(vfs_init(evil.data, evil.len, "/x") == -EINVAL ? 0 : 1);
	int status = 0;
	waitpid(pid, &status, 0);
	check("corrupt image: dot-dot name", WIFEXITED(status) && WEXITSTATUS(status) == 0, "accepted");
	free(evil.data);
	free(good.data);
}

/*
 * Every entry the image holds has the image's times after boot, though its
 * directory's entries were added after it (and /tmp, /dev, /proc after the
 * root's); they change only when the program changes the directory.
 */
static void test_image_times(void)
{
	static const struct {
		const char *path;
		int64_t mtime;
	} want[] = {
	    {"/", 1000000},	      {"/bin", 1000000},	   {"/lib", 1000000},
	    {"/lib/sub", 2000000},    {"/lib/sub/inner", 3000000}, {"/lib/sub/inner/f", 4000000},
	    {"/lib/late/x", 5000000}, {"/lib/late", 6000000},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct linux_stat st;
		memset(&st, 0, sizeof(st));
		long r = xstat(want[i].path, &st);
		check("image times kept",
		      r == 0 && st.st_mtim.tv_sec == want[i].mtime && st.st_mtim.tv_nsec == 0 &&
			  st.st_ctim.tv_sec == want[i].mtime && st.st_atim.tv_sec == want[i].mtime,
		      "%s: stat %ld, mtime %ld ctime %ld atime %ld, image says %ld", want[i].path, r,
		      (long)st.st_mtim.tv_sec, (long)st.st_ctim.tv_sec, (long)st.st_atim.tv_sec,
		      (long)want[i].mtime);
	}
	/* A directory the image only implies ("etc" of "./etc/passwd") was made at boot. */
	struct linux_stat st;
	EXPECT_EQ("stat implied /etc", xstat("/etc", &st), 0);
	check("implied directory has the boot time", st.st_mtim.tv_sec >= 1700000000, "mtime %ld",
	      (long)st.st_mtim.tv_sec);
	/* The program's changes do change them. */
	EXPECT_EQ("create in /lib/sub", write_file("/lib/sub/new", "n"), 1);
	xstat("/lib/sub", &st);
	check("creating an entry changes the directory's mtime", st.st_mtim.tv_sec >= 1700000000, "mtime %ld",
	      (long)st.st_mtim.tv_sec);
	xstat("/lib", &st);
	EXPECT_EQ("the parent's mtime does not change", st.st_mtim.tv_sec, 1000000);
	sys_unlink(U("/lib/sub/new"));
}

static void test_image_files(const struct image *im)
{
	char buf[256];
	EXPECT_EQ("read image file", slurp("/bin/hello", buf, sizeof(buf)), 12);
	EXPECT_STR("image file contents", buf, "hello world\n");
	EXPECT_EQ("normalised ./etc/passwd", slurp("/etc/passwd", buf, sizeof(buf)), 26);
	EXPECT_EQ("normalised /abs/file", slurp("/abs/file", buf, sizeof(buf)), 9);

	struct linux_stat st;
	EXPECT_EQ("stat image file", xstat("/bin/hello", &st), 0);
	EXPECT_EQ("stat mode", st.st_mode, S_IFREG | 0755);
	EXPECT_EQ("stat size", st.st_size, 12);
	EXPECT_EQ("stat nlink", st.st_nlink, 1);
	EXPECT_EQ("stat blksize", st.st_blksize, 4096);
	EXPECT_EQ("stat blocks", st.st_blocks, 8);
	EXPECT_EQ("stat mtime from cpio", st.st_mtim.tv_sec, 1000000);
	EXPECT_EQ("stat dev", st.st_dev, VFS_DEV_ID);
	struct linux_stat st2;
	xstat("/bin/hello", &st2);
	EXPECT_EQ("stat ino stable", st2.st_ino, st.st_ino);
	xstat("/etc/passwd", &st2);
	check("stat ino distinct", st2.st_ino != st.st_ino, "same ino %lu", (unsigned long)st.st_ino);

	EXPECT_EQ("stat /tmp", xstat("/tmp", &st), 0);
	EXPECT_EQ("/tmp mode 1777", st.st_mode, S_IFDIR | 01777);
	EXPECT_EQ("stat /", xstat("/", &st), 0);
	EXPECT_EQ("root nlink counts subdirs", st.st_nlink, 2 + 7); /* bin etc abs lib tmp dev proc */
	EXPECT_EQ("missing parent dir created", xstat("/etc", &st), 0);
	EXPECT_EQ("created parent is a dir", st.st_mode & S_IFMT, S_IFDIR);

	const void *data;
	uint64_t size;
	EXPECT_EQ("vfs_map_file via symlink", vfs_map_file("/bin/link", &data, &size), 0);
	check("vfs_map_file is zero-copy",
	      (const uint8_t *)data >= im->data && (const uint8_t *)data < im->data + im->len && size == 12,
	      "data %p size %lu", data, (unsigned long)size);
	EXPECT_EQ("vfs_map_file dir", vfs_map_file("/lib", &data, &size), -EISDIR);
	EXPECT_EQ("vfs_map_file missing", vfs_map_file("/nope", &data, &size), -ENOENT);
	EXPECT_EQ("vfs_map_file /proc/self/exe", vfs_map_file("/proc/self/exe", &data, &size), 0);
	EXPECT_EQ("vfs_map_file device", vfs_map_file("/dev/null", &data, &size), -EACCES);

	/* Hard links from the image share one node. */
	struct linux_stat a, b;
	EXPECT_EQ("hard link h1", xstat("/h1", &a), 0);
	EXPECT_EQ("hard link h2", xstat("/h2", &b), 0);
	check("hard links share ino", a.st_ino == b.st_ino && a.st_nlink == 2 && a.st_size == 4,
	      "ino %lu/%lu nlink %lu size %ld", (unsigned long)a.st_ino, (unsigned long)b.st_ino,
	      (unsigned long)a.st_nlink, (long)a.st_size);
	EXPECT_EQ("read h1", slurp("/h1", buf, sizeof(buf)), 4);
	EXPECT_STR("h1 contents", buf, "hard");
}

static void test_copy_on_write(const struct image *im)
{
	uint8_t *before = malloc(im->len);
	memcpy(before, im->data, im->len);
	long fd = xopen("/bin/hello", O_RDWR, 0);
	check("open image file rw", fd >= 0, "fd %ld", fd);
	EXPECT_EQ("write image file", sys_write((uint64_t)fd, U("HELLO"), 5), 5);
	char buf[64];
	EXPECT_EQ("pread after write", sys_pread64((uint64_t)fd, U(buf), sizeof(buf), 0), 12);
	buf[12] = 0;
	EXPECT_STR("copy-on-write contents", buf, "HELLO world\n");
	check("image bytes untouched", memcmp(before, im->data, im->len) == 0, "the image was modified");
	EXPECT_EQ("offset after write", sys_lseek((uint64_t)fd, 0, SEEK_CUR), 5);
	sys_close((uint64_t)fd);
	const void *data;
	uint64_t size;
	vfs_map_file("/bin/hello", &data, &size);
	check("map after write sees new bytes", size == 12 && memcmp(data, "HELLO", 5) == 0, "size %lu",
	      (unsigned long)size);
	/* Truncating an image file shrinks it in place; growing it again reads zeros. */
	EXPECT_EQ("truncate image file", sys_truncate(U("/lib/data"), 3), 0);
	EXPECT_EQ("truncate grow", sys_truncate(U("/lib/data"), 5), 0);
	EXPECT_EQ("read grown file", slurp("/lib/data", buf, sizeof(buf)), 5);
	check("grown bytes are zero", memcmp(buf, "lib\0\0", 5) == 0, "got %02x %02x", buf[3], buf[4]);
	free(before);
}

static void test_create_write(void)
{
	char buf[256];
	sys_umask(022);
	long fd = xopen("/tmp/a", O_CREAT | O_WRONLY, 0666);
	check("create in /tmp", fd >= 0, "fd %ld", fd);
	EXPECT_EQ("write new file", sys_write((uint64_t)fd, U("abc"), 3), 3);
	struct linux_stat st;
	EXPECT_EQ("fstat new file", sys_fstat((uint64_t)fd, U(&st)), 0);
	EXPECT_EQ("umask applied", st.st_mode, S_IFREG | 0644);
	EXPECT_EQ("new file size", st.st_size, 3);
	check("new file mtime from the clock", st.st_mtim.tv_sec >= 1700000000, "mtime %ld",
	      (long)st.st_mtim.tv_sec);
	EXPECT_EQ("read on write-only fd", sys_read((uint64_t)fd, U(buf), 1), -EBADF);
	/* A write past the end leaves a zero gap. */
	EXPECT_EQ("lseek past end", sys_lseek((uint64_t)fd, 10, SEEK_SET), 10);
	EXPECT_EQ("write past end", sys_write((uint64_t)fd, U("Z"), 1), 1);
	EXPECT_EQ("lseek SEEK_END", sys_lseek((uint64_t)fd, -1, SEEK_END), 10);
	EXPECT_EQ("lseek negative", sys_lseek((uint64_t)fd, (uint64_t)-20, SEEK_END), -EINVAL);
	sys_close((uint64_t)fd);
	EXPECT_EQ("read back gap file", slurp("/tmp/a", buf, sizeof(buf)), 11);
	check("gap is zeros", memcmp(buf, "abc\0\0\0\0\0\0\0Z", 11) == 0, "bad contents");

	EXPECT_EQ("O_EXCL on existing", xopen("/tmp/a", O_CREAT | O_EXCL | O_WRONLY, 0644), -EEXIST);
	EXPECT_EQ("open missing", xopen("/tmp/none", O_RDONLY, 0), -ENOENT);
	EXPECT_EQ("create in missing dir", xopen("/tmp/no/x", O_CREAT | O_WRONLY, 0644), -ENOENT);
	EXPECT_EQ("path through a file", xopen("/tmp/a/x", O_RDONLY, 0), -ENOTDIR);
	EXPECT_EQ("open dir for writing", xopen("/tmp", O_WRONLY, 0), -EISDIR);
	EXPECT_EQ("O_DIRECTORY on file", xopen("/tmp/a", O_RDONLY | O_DIRECTORY, 0), -ENOTDIR);
	EXPECT_EQ("read a directory", (fd = xopen("/tmp", O_RDONLY, 0), sys_read((uint64_t)fd, U(buf), 4)),
		  -EISDIR);
	sys_close((uint64_t)fd);

	/* O_APPEND writes at the end whatever the offset. */
	fd = xopen("/tmp/a", O_WRONLY | O_APPEND, 0);
	sys_lseek((uint64_t)fd, 0, SEEK_SET);
	sys_write((uint64_t)fd, U("!"), 1);
	EXPECT_EQ("O_APPEND offset", sys_lseek((uint64_t)fd, 0, SEEK_CUR), 12);
	sys_close((uint64_t)fd);
	slurp("/tmp/a", buf, sizeof(buf));
	EXPECT_EQ("O_APPEND wrote at end", buf[11], '!');

	/* O_TRUNC, ftruncate grow and shrink. */
	fd = xopen("/tmp/a", O_RDWR | O_TRUNC, 0);
	EXPECT_EQ("O_TRUNC empties", sys_lseek((uint64_t)fd, 0, SEEK_END), 0);
	sys_write((uint64_t)fd, U("abcdef"), 6);
	EXPECT_EQ("ftruncate shrink", sys_ftruncate((uint64_t)fd, 2), 0);
	EXPECT_EQ("ftruncate grow", sys_ftruncate((uint64_t)fd, 6), 0);
	EXPECT_EQ("pread truncated", sys_pread64((uint64_t)fd, U(buf), 10, 0), 6);
	check("truncate zero fill", memcmp(buf, "ab\0\0\0\0", 6) == 0, "bad contents");
	EXPECT_EQ("pread keeps offset", sys_lseek((uint64_t)fd, 0, SEEK_CUR), 6);
	EXPECT_EQ("pwrite", sys_pwrite64((uint64_t)fd, U("XY"), 2, 1), 2);
	EXPECT_EQ("pwrite keeps offset", sys_lseek((uint64_t)fd, 0, SEEK_CUR), 6);
	EXPECT_EQ("ftruncate negative", sys_ftruncate((uint64_t)fd, (uint64_t)-1), -EINVAL);
	EXPECT_EQ("fsync", sys_fsync((uint64_t)fd), 0);
	sys_close((uint64_t)fd);
	fd = xopen("/tmp/a", O_RDONLY, 0);
	EXPECT_EQ("ftruncate read-only", sys_ftruncate((uint64_t)fd, 0), -EINVAL);
	sys_close((uint64_t)fd);

	/* readv / writev */
	fd = xopen("/tmp/v", O_RDWR | O_CREAT, 0644);
	struct linux_iovec iov[2] = {{U("one "), 4}, {U("two"), 3}};
	EXPECT_EQ("writev", sys_writev((uint64_t)fd, U(iov), 2), 7);
	char x[3], y[8];
	struct linux_iovec riov[2] = {{U(x), 3}, {U(y), 8}};
	sys_lseek((uint64_t)fd, 0, SEEK_SET);
	EXPECT_EQ("readv", sys_readv((uint64_t)fd, U(riov), 2), 7);
	check("readv contents", memcmp(x, "one", 3) == 0 && memcmp(y, " two", 4) == 0, "bad contents");
	EXPECT_EQ("writev too many", sys_writev((uint64_t)fd, U(iov), 5000), -EINVAL);
	sys_close((uint64_t)fd);
}

static void test_dup_fcntl(void)
{
	long fd = xopen("/etc/passwd", O_RDONLY, 0);
	long fd2 = sys_dup((uint64_t)fd);
	check("dup", fd2 > fd, "fd2 %ld", fd2);
	char buf[8];
	sys_read((uint64_t)fd, U(buf), 3);
	EXPECT_EQ("dup shares offset", sys_lseek((uint64_t)fd2, 0, SEEK_CUR), 3);
	EXPECT_EQ("F_SETFD", sys_fcntl((uint64_t)fd, F_SETFD, FD_CLOEXEC), 0);
	EXPECT_EQ("F_GETFD", sys_fcntl((uint64_t)fd, F_GETFD, 0), FD_CLOEXEC);
	EXPECT_EQ("cloexec is per fd", sys_fcntl((uint64_t)fd2, F_GETFD, 0), 0);
	EXPECT_EQ("F_SETFL", sys_fcntl((uint64_t)fd, F_SETFL, O_NONBLOCK), 0);
	EXPECT_EQ("F_GETFL shared", sys_fcntl((uint64_t)fd2, F_GETFL, 0), O_RDONLY | O_NONBLOCK);
	EXPECT_EQ("F_DUPFD min", sys_fcntl((uint64_t)fd, F_DUPFD, 100), 100);
	EXPECT_EQ("F_DUPFD_CLOEXEC", sys_fcntl((uint64_t)fd, F_DUPFD_CLOEXEC, 100), 101);
	EXPECT_EQ("F_DUPFD_CLOEXEC sets flag", sys_fcntl(101, F_GETFD, 0), FD_CLOEXEC);
	EXPECT_EQ("dup2", sys_dup2((uint64_t)fd, 200), 200);
	EXPECT_EQ("dup2 same fd", sys_dup2(200, 200), 200);
	EXPECT_EQ("dup3 same fd", sys_dup3(200, 200, 0), -EINVAL);
	EXPECT_EQ("dup3 bad flags", sys_dup3(200, 201, 1), -EINVAL);
	EXPECT_EQ("dup2 bad fd", sys_dup2(999, 5), -EBADF);
	EXPECT_EQ("dup2 out of range", sys_dup2((uint64_t)fd, FD_MAX), -EBADF);
	EXPECT_EQ("F_DUPFD out of range", sys_fcntl((uint64_t)fd, F_DUPFD, FD_MAX), -EINVAL);
	EXPECT_EQ("fcntl locks", sys_fcntl((uint64_t)fd, 6 /* F_SETLK */, U(buf)), 0);
	EXPECT_EQ("ioctl TCGETS", sys_ioctl(1, 0x5401, U(buf)), -ENOTTY);
	EXPECT_EQ("ioctl TIOCGWINSZ", sys_ioctl(0, 0x5413, U(buf)), -ENOTTY);
	int avail = -1;
	EXPECT_EQ("FIONREAD file", sys_ioctl((uint64_t)fd, 0x541b, U(&avail)), 0);
	EXPECT_EQ("FIONREAD file count", avail, 23);
	EXPECT_EQ("close", sys_close(200), 0);
	EXPECT_EQ("close twice", sys_close(200), -EBADF);
	EXPECT_EQ("close negative", sys_close((uint64_t)-1), -EBADF);
	sys_close(100);
	sys_close(101);
	sys_close((uint64_t)fd2);
	/* Still open through fd: the shared offset survives closing the dup. */
	EXPECT_EQ("offset after closing dup", sys_lseek((uint64_t)fd, 0, SEEK_CUR), 3);
	sys_close((uint64_t)fd);

	/* Running out of descriptors. */
	long last = 0, n = 0;
	while ((last = sys_dup(0)) >= 0)
		n++;
	EXPECT_EQ("EMFILE", last, -EMFILE);
	EXPECT_EQ("close_range", sys_close_range(3, ~0u, 0), 0);
	EXPECT_EQ("fds free again", sys_dup(0), 3);
	sys_close(3);
}

static void test_names(void)
{
	char buf[512];
	struct linux_stat st;
	write_file("/tmp/r1", "one");
	write_file("/tmp/r2", "two");
	EXPECT_EQ("rename", sys_rename(U("/tmp/r1"), U("/tmp/r3")), 0);
	EXPECT_EQ("old name gone", xstat("/tmp/r1", &st), -ENOENT);
	EXPECT_EQ("rename over file", sys_rename(U("/tmp/r3"), U("/tmp/r2")), 0);
	slurp("/tmp/r2", buf, sizeof(buf));
	EXPECT_STR("renamed contents", buf, "one");
	write_file("/tmp/r4", "four");
	EXPECT_EQ("RENAME_NOREPLACE", sys_renameat2(FDCWD, U("/tmp/r4"), FDCWD, U("/tmp/r2"), 1), -EEXIST);
	EXPECT_EQ("RENAME_EXCHANGE", sys_renameat2(FDCWD, U("/tmp/r4"), FDCWD, U("/tmp/r2"), 2), 0);
	slurp("/tmp/r2", buf, sizeof(buf));
	EXPECT_STR("exchanged contents", buf, "four");
	EXPECT_EQ("rename missing", sys_rename(U("/tmp/zz"), U("/tmp/r2")), -ENOENT);

	EXPECT_EQ("mkdir", sys_mkdir(U("/tmp/d"), 0755), 0);
	EXPECT_EQ("mkdir existing", sys_mkdir(U("/tmp/d"), 0755), -EEXIST);
	EXPECT_EQ("mkdir missing parent", sys_mkdir(U("/tmp/x/y"), 0755), -ENOENT);
	EXPECT_EQ("mkdir under file", sys_mkdir(U("/tmp/r2/y"), 0755), -ENOTDIR);
	EXPECT_EQ("mkdir trailing slash", sys_mkdir(U("/tmp/d/sub/"), 0755), 0);
	EXPECT_EQ("dir nlink", (xstat("/tmp/d", &st), (long)st.st_nlink), 3);
	EXPECT_EQ("rename dir into itself", sys_rename(U("/tmp/d"), U("/tmp/d/sub/d")), -EINVAL);
	EXPECT_EQ("rename file over dir", sys_rename(U("/tmp/r2"), U("/tmp/d")), -EISDIR);
	EXPECT_EQ("rename dir over file", sys_rename(U("/tmp/d"), U("/tmp/r2")), -ENOTDIR);
	sys_mkdir(U("/tmp/e"), 0755);
	EXPECT_EQ("rename dir over empty dir", sys_rename(U("/tmp/e"), U("/tmp/d/sub")), 0);
	EXPECT_EQ("nlink after dir replace", (xstat("/tmp/d", &st), (long)st.st_nlink), 3);
	EXPECT_EQ("rename dir over non-empty",
		  (sys_mkdir(U("/tmp/f"), 0755), sys_rename(U("/tmp/f"), U("/tmp/d"))), -ENOTEMPTY);
	EXPECT_EQ("rename dir", sys_rename(U("/tmp/d"), U("/tmp/dd")), 0);
	EXPECT_EQ("moved subdir visible", xstat("/tmp/dd/sub", &st), 0);
	EXPECT_EQ("rename file with trailing slash", sys_rename(U("/tmp/r2/"), U("/tmp/r5")), -ENOTDIR);

	EXPECT_EQ("rmdir non-empty", sys_rmdir(U("/tmp/dd")), -ENOTEMPTY);
	EXPECT_EQ("rmdir file", sys_rmdir(U("/tmp/r2")), -ENOTDIR);
	EXPECT_EQ("rmdir dot", sys_rmdir(U("/tmp/dd/.")), -EINVAL);
	EXPECT_EQ("rmdir dotdot", sys_rmdir(U("/tmp/dd/sub/..")), -ENOTEMPTY);
	EXPECT_EQ("rmdir root", sys_rmdir(U("/")), -EBUSY);
	EXPECT_EQ("unlink dir", sys_unlink(U("/tmp/dd")), -EISDIR);
	EXPECT_EQ("unlink trailing slash", sys_unlink(U("/tmp/r2/")), -ENOTDIR);
	EXPECT_EQ("unlinkat AT_REMOVEDIR", sys_unlinkat(FDCWD, U("/tmp/dd/sub"), AT_REMOVEDIR), 0);
	EXPECT_EQ("unlinkat bad flags", sys_unlinkat(FDCWD, U("/tmp/dd"), 1), -EINVAL);
	EXPECT_EQ("rmdir now empty", sys_rmdir(U("/tmp/dd/")), 0);
	EXPECT_EQ("unlink", sys_unlink(U("/tmp/r2")), 0);
	EXPECT_EQ("unlink missing", sys_unlink(U("/tmp/r2")), -ENOENT);
	sys_rmdir(U("/tmp/f"));
	sys_unlink(U("/tmp/r4"));

	/* An unlinked file stays readable through its open fd (ASan checks it is freed on close). */
	write_file("/tmp/ghost", "boo");
	long fd = xopen("/tmp/ghost", O_RDONLY, 0);
	sys_unlink(U("/tmp/ghost"));
	EXPECT_EQ("read unlinked file", sys_read((uint64_t)fd, U(buf), sizeof(buf)), 3);
	EXPECT_EQ("fstat unlinked nlink", (sys_fstat((uint64_t)fd, U(&st)), (long)st.st_nlink), 0);
	sys_close((uint64_t)fd);

	/* Hard links. */
	write_file("/tmp/l1", "link");
	EXPECT_EQ("link", sys_link(U("/tmp/l1"), U("/tmp/l2")), 0);
	EXPECT_EQ("link nlink", (xstat("/tmp/l1", &st), (long)st.st_nlink), 2);
	EXPECT_EQ("link existing", sys_link(U("/tmp/l1"), U("/tmp/l2")), -EEXIST);
	EXPECT_EQ("link dir", sys_link(U("/tmp"), U("/tmp/l3")), -EPERM);
	sys_unlink(U("/tmp/l1"));
	slurp("/tmp/l2", buf, sizeof(buf));
	EXPECT_STR("link survives unlink", buf, "link");
	sys_unlink(U("/tmp/l2"));

	/* O_TMPFILE then linkat AT_EMPTY_PATH. */
	fd = xopen("/tmp", O_TMPFILE | O_RDWR, 0600);
	check("O_TMPFILE", fd >= 0, "fd %ld", fd);
	sys_write((uint64_t)fd, U("tmpfile"), 7);
	EXPECT_EQ("linkat AT_EMPTY_PATH",
		  sys_linkat((uint64_t)fd, U(""), FDCWD, U("/tmp/named"), AT_EMPTY_PATH), 0);
	sys_close((uint64_t)fd);
	slurp("/tmp/named", buf, sizeof(buf));
	EXPECT_STR("tmpfile named", buf, "tmpfile");
	sys_unlink(U("/tmp/named"));
}

static void test_getdents(void)
{
	char names[1024];
	sys_mkdir(U("/tmp/g"), 0755);
	write_file("/tmp/g/x", "");
	sys_mkdir(U("/tmp/g/sub"), 0755);
	sys_symlink(U("x"), U("/tmp/g/ln"));
	EXPECT_EQ("getdents64 count", list_dir("/tmp/g", names, sizeof(names)), 5);
	EXPECT_STR("getdents64 names", names, ". .. x sub ln");

	long fd = xopen("/tmp/g", O_RDONLY | O_DIRECTORY, 0);
	char buf[256];
	long n = sys_getdents64((uint64_t)fd, U(buf), sizeof(buf));
	struct linux_stat st, parent;
	xstat("/tmp/g", &st);
	xstat("/tmp", &parent);
	int types_ok = 1, dot_ok = 0, dotdot_ok = 0;
	for (long off = 0; off < n;) {
		struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
		if (!strcmp(d->d_name, "."))
			dot_ok = d->d_ino == st.st_ino && d->d_type == DT_DIR;
		else if (!strcmp(d->d_name, ".."))
			dotdot_ok = d->d_ino == parent.st_ino;
		else if (!strcmp(d->d_name, "x"))
			types_ok &= d->d_type == DT_REG;
		else if (!strcmp(d->d_name, "sub"))
			types_ok &= d->d_type == DT_DIR;
		else if (!strcmp(d->d_name, "ln"))
			types_ok &= d->d_type == DT_LNK;
		off += d->d_reclen;
	}
	check("getdents64 dot ino", dot_ok, "wrong . entry");
	check("getdents64 dotdot ino", dotdot_ok, "wrong .. entry");
	check("getdents64 d_type", types_ok, "wrong d_type");
	EXPECT_EQ("getdents64 at end", sys_getdents64((uint64_t)fd, U(buf), sizeof(buf)), 0);
	EXPECT_EQ("rewind directory", sys_lseek((uint64_t)fd, 0, SEEK_SET), 0);
	EXPECT_EQ("getdents64 tiny buffer", sys_getdents64((uint64_t)fd, U(buf), 10), -EINVAL);
	EXPECT_EQ("getdents64 on file", sys_getdents64(0, U(buf), sizeof(buf)), -ENOTDIR);

	/* Removing entries while reading the directory one record at a time loses none. */
	int seen = 0;
	for (;;) {
		n = sys_getdents64((uint64_t)fd, U(buf), 32);
		if (n <= 0)
			break;
		struct linux_dirent64 *d = (struct linux_dirent64 *)buf;
		seen++;
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..")) {
			char path[300];
			snprintf(path, sizeof(path), "/tmp/g/%s", d->d_name);
			sys_unlinkat(FDCWD, U(path), d->d_type == DT_DIR ? AT_REMOVEDIR : 0);
		}
	}
	EXPECT_EQ("getdents64 survives unlinks", seen, 5);
	EXPECT_EQ("directory emptied", list_dir("/tmp/g", names, sizeof(names)), 2);
	EXPECT_EQ("rmdir emptied", sys_rmdir(U("/tmp/g")), 0);
	EXPECT_EQ("getdents64 on removed dir", sys_getdents64((uint64_t)fd, U(buf), sizeof(buf)), -ENOENT);
	sys_close((uint64_t)fd);

	/* /dev lists the kernel's devices; the image's /dev/null was replaced. */
	list_dir("/dev", names, sizeof(names));
	check("/dev listing", strstr(names, "null") && strstr(names, "urandom") && strstr(names, "stdout"),
	      "%s", names);
	struct linux_stat dn;
	xstat("/dev/null", &dn);
	EXPECT_EQ("/dev/null is a char device", dn.st_mode & S_IFMT, S_IFCHR);
	EXPECT_EQ("/dev/null rdev", dn.st_rdev, (1 << 8) | 3);
}

static void test_symlinks_and_paths(void)
{
	char buf[256];
	struct linux_stat st, lst;
	EXPECT_EQ("stat through symlink", xstat("/bin/link", &st), 0);
	EXPECT_EQ("lstat symlink", xlstat("/bin/link", &lst), 0);
	check("stat follows, lstat does not",
	      (st.st_mode & S_IFMT) == S_IFREG && (lst.st_mode & S_IFMT) == S_IFLNK, "modes %o %o",
	      st.st_mode, lst.st_mode);
	EXPECT_EQ("lstat symlink size", lst.st_size, 5);
	EXPECT_EQ("readlink", sys_readlink(U("/bin/link"), U(buf), sizeof(buf)), 5);
	check("readlink contents", memcmp(buf, "hello", 5) == 0, "got %.5s", buf);
	EXPECT_EQ("readlink short buffer", sys_readlink(U("/bin/link"), U(buf), 2), 2);
	EXPECT_EQ("readlink non-symlink", sys_readlink(U("/bin/hello"), U(buf), sizeof(buf)), -EINVAL);
	EXPECT_EQ("ELOOP", xstat("/loop1", &st), -ELOOP);
	EXPECT_EQ("lstat of a loop", xlstat("/loop1", &st), 0);
	EXPECT_EQ("O_NOFOLLOW on symlink", xopen("/bin/link", O_RDONLY | O_NOFOLLOW, 0), -ELOOP);
	EXPECT_EQ("dir symlink in path", slurp("/dirlink/data", buf, sizeof(buf)), 5);
	EXPECT_EQ("dir symlink with trailing slash", xlstat("/dirlink/", &st), 0);
	EXPECT_EQ("trailing slash follows link", st.st_mode & S_IFMT, S_IFDIR);
	EXPECT_EQ("readlink /proc/self/exe", sys_readlink(U("/proc/self/exe"), U(buf), sizeof(buf)), 10);
	check("/proc/self/exe target", memcmp(buf, "/bin/hello", 10) == 0, "got %.10s", buf);

	EXPECT_EQ("symlink", sys_symlink(U("/tmp/target"), U("/tmp/dangling")), 0);
	EXPECT_EQ("symlink existing", sys_symlink(U("x"), U("/tmp/dangling")), -EEXIST);
	EXPECT_EQ("symlink empty target", sys_symlink(U(""), U("/tmp/s2")), -ENOENT);
	EXPECT_EQ("stat dangling", xstat("/tmp/dangling", &st), -ENOENT);
	long fd = xopen("/tmp/dangling", O_CREAT | O_WRONLY, 0644);
	check("O_CREAT through dangling symlink", fd >= 0, "fd %ld", fd);
	sys_close((uint64_t)fd);
	EXPECT_EQ("target created", xstat("/tmp/target", &st), 0);
	EXPECT_EQ("O_CREAT|O_EXCL on symlink", xopen("/tmp/dangling", O_CREAT | O_EXCL | O_WRONLY, 0644),
		  -EEXIST);
	sys_unlink(U("/tmp/dangling"));
	sys_unlink(U("/tmp/target"));

	/* "." and "..", relative paths, cwd. */
	EXPECT_EQ("dotdot path", slurp("/lib/../bin/./hello", buf, sizeof(buf)), 12);
	EXPECT_EQ("dotdot above root", slurp("/../../lib/data", buf, sizeof(buf)), 5);
	EXPECT_EQ("chdir", sys_chdir(U("/lib")), 0);
	EXPECT_EQ("relative open", slurp("data", buf, sizeof(buf)), 5);
	EXPECT_EQ("getcwd", sys_getcwd(U(buf), sizeof(buf)), 5);
	EXPECT_STR("getcwd path", buf, "/lib");
	EXPECT_EQ("getcwd ERANGE", sys_getcwd(U(buf), 3), -ERANGE);
	EXPECT_EQ("chdir file", sys_chdir(U("data")), -ENOTDIR);
	EXPECT_EQ("chdir dotdot", sys_chdir(U("..")), 0);
	sys_getcwd(U(buf), sizeof(buf));
	EXPECT_STR("getcwd root", buf, "/");
	EXPECT_EQ("trailing slash on file", xopen("/bin/hello/", O_RDONLY, 0), -ENOTDIR);
	EXPECT_EQ("trailing slashes on dir", xstat("/lib//", &st), 0);
	EXPECT_EQ("empty path", xstat("", &st), -ENOENT);

	/* openat and fchdir relative to a directory fd. */
	long dfd = xopen("/bin", O_RDONLY | O_DIRECTORY, 0);
	fd = sys_openat((uint64_t)dfd, U("hello"), O_RDONLY, 0);
	check("openat dirfd", fd >= 0, "fd %ld", fd);
	sys_close((uint64_t)fd);
	EXPECT_EQ("openat bad dirfd", sys_openat(999, U("hello"), O_RDONLY, 0), -EBADF);
	EXPECT_EQ("openat absolute ignores dirfd", (fd = sys_openat(999, U("/bin/hello"), O_RDONLY, 0)) >= 0,
		  1);
	sys_close((uint64_t)fd);
	fd = xopen("/bin/hello", O_RDONLY, 0);
	EXPECT_EQ("openat file dirfd", sys_openat((uint64_t)fd, U("x"), O_RDONLY, 0), -ENOTDIR);
	EXPECT_EQ("newfstatat AT_EMPTY_PATH", sys_newfstatat((uint64_t)fd, U(""), U(&st), AT_EMPTY_PATH), 0);
	EXPECT_EQ("AT_EMPTY_PATH size", st.st_size, 12);
	EXPECT_EQ("newfstatat empty without flag", sys_newfstatat((uint64_t)fd, U(""), U(&st), 0), -ENOENT);
	EXPECT_EQ("newfstatat bad flags", sys_newfstatat(FDCWD, U("/"), U(&st), 0x1), -EINVAL);
	EXPECT_EQ(
	    "newfstatat nofollow",
	    (sys_newfstatat((uint64_t)dfd, U("link"), U(&st), AT_SYMLINK_NOFOLLOW), st.st_mode & S_IFMT),
	    S_IFLNK);
	sys_close((uint64_t)fd);
	EXPECT_EQ("fchdir", sys_fchdir((uint64_t)dfd), 0);
	EXPECT_EQ("relative after fchdir", slurp("hello", buf, sizeof(buf)), 12);
	sys_chdir(U("/"));
	sys_close((uint64_t)dfd);

	struct linux_statx sx;
	EXPECT_EQ("statx", sys_statx(FDCWD, U("/bin/hello"), 0, STATX_BASIC_STATS, U(&sx)), 0);
	check("statx fields", sx.stx_size == 12 && sx.stx_mode == (S_IFREG | 0755) && sx.stx_nlink == 1,
	      "size %lu mode %o", (unsigned long)sx.stx_size, sx.stx_mode);
	EXPECT_EQ("statx rdev", (sys_statx(FDCWD, U("/dev/zero"), 0, 0, U(&sx)), sx.stx_rdev_minor), 5);

	/* Over-long names. */
	char *longpath = malloc(5000);
	memset(longpath, 'a', 4999);
	longpath[0] = '/';
	longpath[4999] = 0;
	EXPECT_EQ("ENAMETOOLONG path", xstat(longpath, &st), -ENAMETOOLONG);
	memcpy(longpath, "/tmp/", 5);
	longpath[300] = 0;
	EXPECT_EQ("ENAMETOOLONG component", xopen(longpath, O_CREAT | O_WRONLY, 0644), -ENAMETOOLONG);
	free(longpath);

	/* access */
	EXPECT_EQ("access X_OK", sys_access(U("/bin/hello"), X_OK), 0);
	EXPECT_EQ("access X_OK denied", sys_access(U("/etc/passwd"), X_OK), -EACCES);
	EXPECT_EQ("access F_OK missing", sys_access(U("/nope"), 0), -ENOENT);
	EXPECT_EQ("access bad mode", sys_access(U("/"), 8), -EINVAL);
	EXPECT_EQ("faccessat2 W_OK", sys_faccessat2(FDCWD, U("/etc/passwd"), 2, 0x200), 0);

	/* chmod, utimensat */
	EXPECT_EQ("chmod", sys_chmod(U("/etc/passwd"), 0600), 0);
	EXPECT_EQ("chmod applied", (xstat("/etc/passwd", &st), st.st_mode), S_IFREG | 0600);
	struct linux_timespec ts[2] = {{5, 0}, {123456, 789}};
	EXPECT_EQ("utimensat", sys_utimensat(FDCWD, U("/etc/passwd"), U(ts), 0), 0);
	xstat("/etc/passwd", &st);
	check("utimensat mtime",
	      st.st_mtim.tv_sec == 123456 && st.st_mtim.tv_nsec == 789 && st.st_atim.tv_sec == 5,
	      "mtime %ld.%ld", (long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
	ts[1].tv_nsec = 2000000000;
	EXPECT_EQ("utimensat bad nsec", sys_utimensat(FDCWD, U("/etc/passwd"), U(ts), 0), -EINVAL);
	EXPECT_EQ("chown accepted", sys_chown(U("/etc/passwd"), 1, 1), 0);
	EXPECT_EQ("chown missing", sys_chown(U("/nope"), 1, 1), -ENOENT);
	EXPECT_EQ("umask returns old", sys_umask(077), 022);
	sys_umask(022);
}

static void test_pipes(void)
{
	int32_t p[2];
	EXPECT_EQ("pipe", sys_pipe(U(p)), 0);
	char buf[128];
	EXPECT_EQ("pipe write", sys_write((uint64_t)p[1], U("abc"), 3), 3);
	int avail = 0;
	EXPECT_EQ("FIONREAD pipe", (sys_ioctl((uint64_t)p[0], 0x541b, U(&avail)), avail), 3);
	struct linux_pollfd pf[3] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}, {999, POLLIN, 0}};
	EXPECT_EQ("poll pipe", sys_poll(U(pf), 3, 1000), 3);
	check("poll revents",
	      (pf[0].revents & POLLIN) && (pf[1].revents & POLLOUT) && pf[2].revents == POLLNVAL,
	      "revents %x %x %x", pf[0].revents, pf[1].revents, pf[2].revents);
	EXPECT_EQ("pipe read", sys_read((uint64_t)p[0], U(buf), sizeof(buf)), 3);
	EXPECT_EQ("pipe read empty, writer open", sys_read((uint64_t)p[0], U(buf), sizeof(buf)), 0);
	sys_fcntl((uint64_t)p[0], F_SETFL, O_NONBLOCK);
	EXPECT_EQ("pipe read empty nonblocking", sys_read((uint64_t)p[0], U(buf), sizeof(buf)), -EAGAIN);
	EXPECT_EQ("pipe lseek", sys_lseek((uint64_t)p[0], 0, SEEK_SET), -ESPIPE);
	EXPECT_EQ("pipe pread", sys_pread64((uint64_t)p[0], U(buf), 1, 0), -ESPIPE);
	EXPECT_EQ("pipe write to read end", sys_write((uint64_t)p[0], U("x"), 1), -EBADF);
	struct linux_stat st;
	EXPECT_EQ("fstat pipe", (sys_fstat((uint64_t)p[0], U(&st)), st.st_mode & S_IFMT), S_IFIFO);
	EXPECT_EQ("AT_EMPTY_PATH pipe",
		  (sys_newfstatat((uint64_t)p[1], U(""), U(&st), AT_EMPTY_PATH), st.st_mode & S_IFMT),
		  S_IFIFO);

	/* Nonblocking writers stop at the pipe's capacity. */
	sys_fcntl((uint64_t)p[1], F_SETFL, O_NONBLOCK);
	static char big[100000];
	EXPECT_EQ("nonblocking partial write", sys_write((uint64_t)p[1], U(big), sizeof(big)), PIPE_CAPACITY);
	EXPECT_EQ("nonblocking full pipe", sys_write((uint64_t)p[1], U("x"), 1), -EAGAIN);
	pf[1].revents = 0;
	EXPECT_EQ("poll full pipe", sys_poll(U(&pf[1]), 1, 0), 0);
	EXPECT_EQ("drain", sys_read((uint64_t)p[0], U(big), sizeof(big)), PIPE_CAPACITY);
	/* Blocking writers may queue more (nothing could drain the pipe meanwhile). */
	sys_fcntl((uint64_t)p[1], F_SETFL, 0);
	EXPECT_EQ("blocking big write", sys_write((uint64_t)p[1], U(big), sizeof(big)), sizeof(big));
	EXPECT_EQ("read big", sys_read((uint64_t)p[0], U(big), sizeof(big)), sizeof(big));

	EXPECT_EQ("close write end", sys_close((uint64_t)p[1]), 0);
	pf[0].revents = 0;
	EXPECT_EQ("poll hangup", (sys_poll(U(pf), 1, 0), pf[0].revents & POLLHUP), POLLHUP);
	EXPECT_EQ("read after writer closed", sys_read((uint64_t)p[0], U(buf), sizeof(buf)), 0);
	sys_close((uint64_t)p[0]);

	EXPECT_EQ("pipe2", sys_pipe2(U(p), O_CLOEXEC | O_NONBLOCK), 0);
	EXPECT_EQ("pipe2 cloexec", sys_fcntl((uint64_t)p[0], F_GETFD, 0), FD_CLOEXEC);
	EXPECT_EQ("pipe2 nonblock", sys_fcntl((uint64_t)p[1], F_GETFL, 0), O_WRONLY | O_NONBLOCK);
	EXPECT_EQ("pipe2 bad flags", sys_pipe2(U(p + 0), 1), -EINVAL);
	sys_close((uint64_t)p[0]);
	EXPECT_EQ("no SIGPIPE before", shim_signals_sent() >> 12 & 1, 0);
	EXPECT_EQ("EPIPE", sys_write((uint64_t)p[1], U("x"), 1), -EPIPE);
	EXPECT_EQ("EPIPE sends SIGPIPE to the writer", shim_signals_sent() >> 12 & 1, 1);
	pf[0] = (struct linux_pollfd){p[1], POLLOUT, 0};
	EXPECT_EQ("poll no reader", (sys_poll(U(pf), 1, 0), pf[0].revents & POLLERR), POLLERR);
	sys_close((uint64_t)p[1]);

	/* sendfile from a file into a pipe. */
	sys_pipe(U(p));
	long fd = xopen("/etc/passwd", O_RDONLY, 0);
	int64_t off = 5;
	EXPECT_EQ("sendfile", sys_sendfile((uint64_t)p[1], (uint64_t)fd, U(&off), 4), 4);
	EXPECT_EQ("sendfile offset", off, 9);
	EXPECT_EQ("sendfile keeps file offset", sys_lseek((uint64_t)fd, 0, SEEK_CUR), 0);
	sys_read((uint64_t)p[0], U(buf), 4);
	check("sendfile bytes", memcmp(buf, "x:0:", 4) == 0, "got %.4s", buf);
	sys_close((uint64_t)fd);
	sys_close((uint64_t)p[0]);
	sys_close((uint64_t)p[1]);
}

static void test_poll_select_sleep(void)
{
	uint64_t before = shim_slept_ns();
	EXPECT_EQ("poll nothing with timeout", sys_poll(0, 0, 50), 0);
	EXPECT_EQ("poll slept the timeout", shim_slept_ns() - before, 50000000);
	struct linux_pollfd pf = {-1, POLLIN, 7};
	EXPECT_EQ("poll negative fd ignored", sys_poll(U(&pf), 1, 0), 0);
	EXPECT_EQ("poll negative fd revents", pf.revents, 0);
	pf = (struct linux_pollfd){0, POLLIN, 0};
	EXPECT_EQ("poll stdin ready", sys_poll(U(&pf), 1, -1), 1);
	pf = (struct linux_pollfd){1, POLLOUT | POLLIN, 0};
	EXPECT_EQ("poll stdout writable", (sys_poll(U(&pf), 1, -1), pf.revents & POLLOUT), POLLOUT);
	struct linux_timespec ts = {0, 1000};
	EXPECT_EQ("ppoll timespec", sys_ppoll(0, 0, U(&ts), 0, 8), 0);
	ts.tv_nsec = -1;
	EXPECT_EQ("ppoll bad timespec", sys_ppoll(0, 0, U(&ts), 0, 8), -EINVAL);
	EXPECT_EQ("poll too many", sys_poll(U(&pf), FD_MAX + 1, 0), -EINVAL);

	int32_t p[2];
	sys_pipe(U(p));
	uint64_t rset[16] = {0}, wset[16] = {0};
	rset[0] = 1ull << p[0];
	wset[0] = 1ull << p[1];
	EXPECT_EQ("select", sys_select((uint64_t)p[1] + 1, U(rset), U(wset), 0, 0), 1);
	check("select sets", rset[0] == 0 && wset[0] == 1ull << p[1], "r %lx w %lx", (unsigned long)rset[0],
	      (unsigned long)wset[0]);
	rset[0] = 1ull << 60;
	EXPECT_EQ("select bad fd", sys_select(61, U(rset), 0, 0, 0), -EBADF);
	sys_close((uint64_t)p[0]);
	sys_close((uint64_t)p[1]);
}

static void test_devices_and_console(void)
{
	char buf[64];
	long fd = xopen("/dev/null", O_RDWR, 0);
	EXPECT_EQ("/dev/null read", sys_read((uint64_t)fd, U(buf), sizeof(buf)), 0);
	EXPECT_EQ("/dev/null write", sys_write((uint64_t)fd, U("xyz"), 3), 3);
	sys_close((uint64_t)fd);
	fd = xopen("/dev/zero", O_RDONLY, 0);
	memset(buf, 'x', sizeof(buf));
	EXPECT_EQ("/dev/zero read", sys_read((uint64_t)fd, U(buf), 16), 16);
	check("/dev/zero zeros", memcmp(buf, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0, "not zero");
	sys_close((uint64_t)fd);
	fd = xopen("/dev/full", O_WRONLY, 0);
	EXPECT_EQ("/dev/full write", sys_write((uint64_t)fd, U("x"), 1), -ENOSPC);
	sys_close((uint64_t)fd);
	fd = xopen("/dev/urandom", O_RDONLY, 0);
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ("/dev/urandom read", sys_read((uint64_t)fd, U(buf), 32), 32);
	int nonzero = 0;
	for (int i = 0; i < 32; i++)
		nonzero |= buf[i];
	check("/dev/urandom bytes", nonzero, "all zero");
	sys_close((uint64_t)fd);

	shim_console_reset();
	EXPECT_EQ("stdin reads EOF", sys_read(0, U(buf), sizeof(buf)), 0);
	EXPECT_EQ("write stdout", sys_write(1, U("out\n"), 4), 4);
	EXPECT_EQ("write stderr", sys_write(2, U("err\n"), 4), 4);
	EXPECT_STR("stdout captured", shim_console_output(1), "out\n");
	EXPECT_STR("stderr captured", shim_console_output(2), "err\n");
	fd = xopen("/dev/stdout", O_WRONLY, 0);
	EXPECT_EQ("/dev/stdout write", sys_write((uint64_t)fd, U("via dev\n"), 8), 8);
	sys_close((uint64_t)fd);
	EXPECT_STR("/dev/stdout goes to fd 1", shim_console_output(1), "out\nvia dev\n");

	/* Redirect fd 1 to a file: /dev/stdout follows it. */
	long saved = sys_dup(1);
	long file = xopen("/tmp/out", O_CREAT | O_WRONLY | O_TRUNC, 0644);
	sys_dup2((uint64_t)file, 1);
	sys_close((uint64_t)file);
	fd = xopen("/dev/stdout", O_WRONLY, 0);
	sys_write((uint64_t)fd, U("redirected"), 10);
	sys_close((uint64_t)fd);
	sys_dup2((uint64_t)saved, 1);
	sys_close((uint64_t)saved);
	EXPECT_EQ("/dev/stdout follows dup2", slurp("/tmp/out", buf, sizeof(buf)), 10);
	sys_unlink(U("/tmp/out"));
	struct linux_stat st;
	EXPECT_EQ("fstat stdout", (sys_fstat(1, U(&st)), st.st_mode & S_IFMT), S_IFCHR);
	EXPECT_EQ("lseek stdout", sys_lseek(1, 0, SEEK_CUR), -ESPIPE);
	EXPECT_EQ("lseek /dev/null",
		  (fd = xopen("/dev/null", O_RDONLY, 0), sys_lseek((uint64_t)fd, 5, SEEK_SET)), 0);
	sys_close((uint64_t)fd);
	shim_console_reset();
}

/* The kernel's struct termios and struct winsize, as TCGETS and TIOCGWINSZ copy them. */
struct test_termios {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line, c_cc[19];
};
struct test_winsize {
	uint16_t rows, cols, xpixel, ypixel;
};
#define T_TCGETS 0x5401
#define T_TCSETS 0x5402
#define T_TCSETSW 0x5403
#define T_TIOCGWINSZ 0x5413
#define T_TIOCSWINSZ 0x5414
#define T_ICANON 02
#define T_ECHO 010

/* fds 0-2 look like the host's stdio as the boot info describes it, read afresh at every call. */
static void test_console_stdio(void)
{
	static struct mote_boot_info bi;
	struct linux_stat st;
	struct test_termios t;
	memset(&bi, 0, sizeof(bi));
	tty_init(&bi);

	/* Host stdout a pipe, stderr a file, stdin a terminal (the guest's stdin stays /dev/null). */
	bi.stdio[0] =
	    (struct mote_stdio){.mode = S_IFCHR | 0620, .flags = MOTE_STDIO_TERMINAL, .rdev = 0x8801};
	bi.stdio[1] = (struct mote_stdio){.mode = S_IFIFO | 0600};
	bi.stdio[2] = (struct mote_stdio){.mode = S_IFREG | 0640};
	EXPECT_EQ("stdout a pipe: fstat", (sys_fstat(1, U(&st)), st.st_mode), S_IFIFO | 0600);
	EXPECT_EQ("stdout a pipe: no rdev", st.st_rdev, 0);
	EXPECT_EQ("stderr a file: fstat", (sys_fstat(2, U(&st)), st.st_mode), S_IFREG | 0640);
	EXPECT_EQ("stderr a file: size 0", st.st_size, 0);
	EXPECT_EQ("stdin is /dev/null: fstat", (sys_fstat(0, U(&st)), st.st_mode & S_IFMT), S_IFCHR);
	EXPECT_EQ("stdin is /dev/null: rdev 1:3", st.st_rdev, (1 << 8) | 3);
	EXPECT_EQ("stdin is not a terminal", sys_ioctl(0, T_TCGETS, U(&t)), -ENOTTY);
	EXPECT_EQ("a pipe is not a terminal", sys_ioctl(1, T_TCGETS, U(&t)), -ENOTTY);
	EXPECT_EQ("nor a file", sys_ioctl(2, T_TIOCGWINSZ, U(&t)), -ENOTTY);
	long via = xopen("/dev/stdout", O_WRONLY, 0);
	EXPECT_EQ("/dev/stdout shows the host's stdout",
		  (sys_fstat((uint64_t)via, U(&st)), st.st_mode & S_IFMT), S_IFIFO);
	sys_close((uint64_t)via);
	EXPECT_EQ("/dev/console stays a device", (xstat("/dev/console", &st), st.st_mode & S_IFMT), S_IFCHR);

	/* Host stdout a terminal (136:5, 24x80): fstat, TCGETS, TCSETS, TIOCGWINSZ. */
	bi.stdio[1] = (struct mote_stdio){.mode = S_IFCHR | 0620,
					  .flags = MOTE_STDIO_TERMINAL,
					  .rdev = (136 << 8) | 5,
					  .rows = 24,
					  .cols = 80};
	EXPECT_EQ("stdout a terminal: fstat", (sys_fstat(1, U(&st)), st.st_mode), S_IFCHR | 0620);
	EXPECT_EQ("stdout a terminal: rdev", st.st_rdev, (136 << 8) | 5);
	EXPECT_EQ("stdout a terminal: blksize", st.st_blksize, 1024);
	memset(&t, 0, sizeof(t));
	EXPECT_EQ("TCGETS", sys_ioctl(1, T_TCGETS, U(&t)), 0);
	check("a sane termios", (t.c_lflag & (T_ICANON | T_ECHO)) == (T_ICANON | T_ECHO) && t.c_cc[0] == 3,
	      "lflag %o, VINTR %u", t.c_lflag, t.c_cc[0]);
	t.c_lflag &= ~(uint32_t)T_ECHO;
	EXPECT_EQ("TCSETSW", sys_ioctl(1, T_TCSETSW, U(&t)), 0);
	memset(&t, 0xff, sizeof(t));
	long d = sys_dup(1);
	EXPECT_EQ("TCGETS on a dup", sys_ioctl((uint64_t)d, T_TCGETS, U(&t)), 0);
	EXPECT_EQ("TCSETS remembered", t.c_lflag & (T_ICANON | T_ECHO), T_ICANON);
	sys_close((uint64_t)d);
	t.c_lflag |= T_ECHO;
	EXPECT_EQ("TCSETS", sys_ioctl(1, T_TCSETS, U(&t)), 0);
	EXPECT_EQ("TCGETS bad pointer", sys_ioctl(1, T_TCGETS, 16), -EFAULT);
	EXPECT_EQ("TCSETS bad pointer", sys_ioctl(1, T_TCSETS, 16), -EFAULT);
	struct test_winsize w = {0};
	EXPECT_EQ("TIOCGWINSZ", sys_ioctl(1, T_TIOCGWINSZ, U(&w)), 0);
	check("the host's window size", w.rows == 24 && w.cols == 80, "%ux%u", w.rows, w.cols);
	EXPECT_EQ("other terminal requests", sys_ioctl(1, 0x540f /* TIOCGPGRP */, U(&w)), -ENOTTY);
	long file = xopen("/tmp/tty-test", O_CREAT | O_RDWR, 0644);
	EXPECT_EQ("a guest file is not a terminal", sys_ioctl((uint64_t)file, T_TCGETS, U(&t)), -ENOTTY);
	sys_close((uint64_t)file);
	sys_unlink(U("/tmp/tty-test"));
	int32_t pfd[2];
	EXPECT_EQ("pipe", sys_pipe(U(pfd)), 0);
	EXPECT_EQ("a guest pipe is not a terminal", sys_ioctl((uint64_t)pfd[1], T_TCGETS, U(&t)), -ENOTTY);
	sys_close((uint64_t)pfd[0]);
	sys_close((uint64_t)pfd[1]);

	/* A restore rewrites the description: the next fstat and ioctl follow it. */
	bi.clock.generation++;
	bi.stdio[1] = (struct mote_stdio){.mode = S_IFREG | 0600};
	EXPECT_EQ("after a restore: fstat", (sys_fstat(1, U(&st)), st.st_mode), S_IFREG | 0600);
	EXPECT_EQ("after a restore: not a terminal", sys_ioctl(1, T_TIOCGWINSZ, U(&w)), -ENOTTY);
	/* A host fd that is closed looks like /dev/null. */
	bi.stdio[2].mode = 0;
	EXPECT_EQ("closed on the host: fstat", (sys_fstat(2, U(&st)), st.st_mode & S_IFMT), S_IFCHR);
	EXPECT_EQ("closed on the host: rdev 1:3", st.st_rdev, (1 << 8) | 3);
	tty_init(NULL);
}

/* /dev/mote: the snapshot request and generation device files (docs/snapshots.md). */
static void test_snapshot_devices(void)
{
	struct linux_stat st;
	char buf[64], names[128];
	EXPECT_EQ("stat /dev/mote", xstat("/dev/mote", &st), 0);
	EXPECT_EQ("/dev/mote is a directory", st.st_mode & S_IFMT, S_IFDIR);
	memset(&st, 0, sizeof(st));
	EXPECT_EQ("stat /dev/mote/snapshot", xstat("/dev/mote/snapshot", &st), 0);
	EXPECT_EQ("/dev/mote/snapshot is a character device", st.st_mode & S_IFMT, S_IFCHR);
	memset(&st, 0, sizeof(st));
	EXPECT_EQ("stat /dev/mote/generation", xstat("/dev/mote/generation", &st), 0);
	EXPECT_EQ("/dev/mote/generation is a character device", st.st_mode & S_IFMT, S_IFCHR);
	long n = list_dir("/dev/mote", names, sizeof(names));
	check("/dev/mote lists both", n >= 2 && strstr(names, "snapshot") && strstr(names, "generation"),
	      "%ld entries: %s", n, names);

	/* Each write asks for exactly one snapshot and returns its count. */
	unsigned before = shim_snapshot_requests();
	long fd = xopen("/dev/mote/snapshot", O_WRONLY, 0);
	check("open /dev/mote/snapshot", fd >= 0, "returned %ld", fd);
	EXPECT_EQ("snapshot write returns count", sys_write((uint64_t)fd, U("1"), 1), 1);
	EXPECT_EQ("one write, one request", shim_snapshot_requests() - before, 1);
	EXPECT_EQ("snapshot write of 5 bytes", sys_write((uint64_t)fd, U("hello"), 5), 5);
	EXPECT_EQ("second write, second request", shim_snapshot_requests() - before, 2);
	EXPECT_EQ("snapshot write bad pointer", sys_write((uint64_t)fd, 16, 4), -EFAULT);
	EXPECT_EQ("bad pointer asks for none", shim_snapshot_requests() - before, 2);
	sys_close((uint64_t)fd);
	fd = xopen("/dev/mote/snapshot", O_RDONLY, 0);
	EXPECT_EQ("snapshot write on read-only fd", sys_write((uint64_t)fd, U("1"), 1), -EBADF);
	sys_close((uint64_t)fd);
	EXPECT_EQ("no request without a write", shim_snapshot_requests() - before, 2);

	/* The generation reads as decimal text and a newline, then EOF. */
	shim_set_generation(7);
	fd = xopen("/dev/mote/generation", O_RDONLY, 0);
	check("open /dev/mote/generation", fd >= 0, "returned %ld", fd);
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ("generation read length", sys_read((uint64_t)fd, U(buf), sizeof(buf) - 1), 2);
	EXPECT_STR("generation reads 7", buf, "7\n");
	EXPECT_EQ("generation then EOF", sys_read((uint64_t)fd, U(buf), sizeof(buf) - 1), 0);
	EXPECT_EQ("generation EOF again", sys_read((uint64_t)fd, U(buf), sizeof(buf) - 1), 0);
	sys_close((uint64_t)fd);
	fd = xopen("/dev/mote/generation", O_RDONLY, 0);
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ("generation byte 1", sys_read((uint64_t)fd, U(buf), 1), 1);
	EXPECT_EQ("generation byte 2", sys_read((uint64_t)fd, U(buf + 1), 1), 1);
	EXPECT_EQ("generation byte 3 is EOF", sys_read((uint64_t)fd, U(buf + 2), 1), 0);
	EXPECT_STR("generation read bytewise", buf, "7\n");
	sys_close((uint64_t)fd);
	shim_set_generation(18446744073709551615ull);
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ("generation 2^64-1 length", slurp("/dev/mote/generation", buf, sizeof(buf)), 21);
	EXPECT_STR("generation 2^64-1", buf, "18446744073709551615\n");
	shim_set_generation(0);
	EXPECT_EQ("generation 0 length", slurp("/dev/mote/generation", buf, sizeof(buf)), 2);
	EXPECT_STR("generation 0", buf, "0\n");

	/* The generation cannot be written, and trying asks for no snapshot. */
	fd = xopen("/dev/mote/generation", O_WRONLY, 0);
	EXPECT_EQ("write generation", sys_write((uint64_t)fd, U("8\n"), 2), -EINVAL);
	sys_close((uint64_t)fd);
	fd = xopen("/dev/mote/generation", O_RDWR, 0);
	EXPECT_EQ("write generation O_RDWR", sys_write((uint64_t)fd, U("8"), 1), -EINVAL);
	sys_close((uint64_t)fd);
	EXPECT_EQ("generation reads no snapshot request", shim_snapshot_requests() - before, 2);
	shim_set_generation(7);
	EXPECT_EQ("generation unchanged by writes", slurp("/dev/mote/generation", buf, sizeof(buf)), 2);
	EXPECT_STR("generation still 7", buf, "7\n");
}

static void test_bad_pointers(void)
{
	struct linux_stat st;
	EXPECT_EQ("read into bad pointer", sys_read(0, 16, 10), -EFAULT);
	EXPECT_EQ("read zero bytes null", sys_read(0, 0, 0), 0);
	EXPECT_EQ("stat bad path", sys_stat(16, U(&st)), -EFAULT);
	EXPECT_EQ("stat bad buffer", sys_stat(U("/"), 16), -EFAULT);
	EXPECT_EQ("pipe bad pointer", sys_pipe(16), -EFAULT);
	EXPECT_EQ("open bad path", sys_open(100, O_RDONLY, 0), -EFAULT);
}

static void test_mmap_helpers(void)
{
	long fd = xopen("/lib/data", O_RDONLY, 0);
	char buf[16] = {0};
	check("fd_is_regular file", fd_is_regular((int)fd), "not regular");
	check("fd_is_regular stdout", !fd_is_regular(1), "stdout regular");
	EXPECT_EQ("fd_read_at", fd_read_at((int)fd, buf, 16, 1), 4);
	EXPECT_EQ("fd_read_at past end", fd_read_at((int)fd, buf, 16, 100), 0);
	EXPECT_EQ("fd_read_at device", fd_read_at(1, buf, 1, 0), -ENODEV);
	EXPECT_EQ("fd_read_at bad fd", fd_read_at(999, buf, 1, 0), -EBADF);
	sys_close((uint64_t)fd);
	fd = xopen("/tmp/wo", O_CREAT | O_WRONLY, 0644);
	EXPECT_EQ("fd_read_at write-only", fd_read_at((int)fd, buf, 1, 0), -EACCES);
	sys_close((uint64_t)fd);
	sys_unlink(U("/tmp/wo"));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_corrupt_images();

	struct image im = build_image();
	int r = vfs_init(im.data, im.len, "/bin/hello");
	EXPECT_EQ("vfs_init", r, 0);
	if (r < 0)
		return 1;
	fd_init();
	test_image_times();
	test_image_files(&im);
	test_copy_on_write(&im);
	test_create_write();
	test_dup_fcntl();
	test_names();
	test_getdents();
	test_symlinks_and_paths();
	test_pipes();
	test_poll_select_sleep();
	test_devices_and_console();
	test_console_stdio();
	test_snapshot_devices();
	test_bad_pointers();
	test_mmap_helpers();
	shim_console_reset();
	free(im.data); /* nothing may point into the image after this... */
	return failures ? 1 : 0;
}
