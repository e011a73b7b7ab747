/* Guest test: files in the rootfs, the writable layer (/tmp and elsewhere), directories, devices,
 * /proc/self/exe.
 *
 * usage: files [ROOTFS_FILE EXPECTED_CONTENT]
 * With MOTE_TEST_VM=1 in the environment it also writes to / and over ROOTFS_FILE (copy-on-write),
 * which is only safe inside the VM. Prints one line per check; exits 0 if all pass.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK_PROGRAM "files"
#include "check.h"

static int write_file(const char *path, const char *text, int flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	int r = close(fd);
	return n == (ssize_t)strlen(text) && r == 0 ? 0 : -1;
}

/* Read a whole (small) file into buf, NUL-terminated; returns its length or -1. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == size - 1)
			break;
	}
	close(fd);
	buf[len] = 0;
	return (ssize_t)len;
}

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void test_rootfs_file(const char *path, const char *expected, int in_vm)
{
	char buf[4096];
	ssize_t n = read_file(path, buf, sizeof(buf));
	check(n == (ssize_t)strlen(expected) && strcmp(buf, expected) == 0, "read rootfs file %s (%zd bytes)",
	      path, n);
	check(file_size(path) == (off_t)strlen(expected), "stat size of %s is %zu", path, strlen(expected));
	if (!in_vm)
		return;
	/* Overwriting a rootfs file goes to the writable layer. */
	check(write_file(path, "changed\n", O_TRUNC) == 0, "overwrite rootfs file %s", path);
	n = read_file(path, buf, sizeof(buf));
	check(n == 8 && strcmp(buf, "changed\n") == 0, "read back overwritten rootfs file");
	check(unlink(path) == 0 && access(path, F_OK) < 0 && errno == ENOENT, "unlink rootfs file %s", path);
}

static void test_tmp_file(const char *dir)
{
	char a[256], b[256], buf[256];
	snprintf(a, sizeof(a), "%s/a.txt", dir);
	snprintf(b, sizeof(b), "%s/b.txt", dir);

	check(write_file(a, "hello world\n", O_EXCL) == 0, "create and write %s", a);
	check(read_file(a, buf, sizeof(buf)) == 12 && strcmp(buf, "hello world\n") == 0, "read back %s", a);
	check(file_size(a) == 12, "stat size 12");
	errno = 0;
	check(open(a, O_WRONLY | O_CREAT | O_EXCL, 0644) < 0 && errno == EEXIST,
	      "O_EXCL on existing file: EEXIST");

	/* lseek and partial reads */
	int fd = open(a, O_RDWR);
	check(fd >= 0, "open O_RDWR");
	check(lseek(fd, 6, SEEK_SET) == 6, "lseek SEEK_SET 6");
	memset(buf, 0, sizeof(buf));
	check(read(fd, buf, 5) == 5 && memcmp(buf, "world", 5) == 0, "read 'world' after lseek");
	check(lseek(fd, 0, SEEK_CUR) == 11, "lseek SEEK_CUR is 11");
	check(lseek(fd, -6, SEEK_END) == 6, "lseek SEEK_END -6 is 6");
	check(write(fd, "WORLD", 5) == 5, "overwrite in the middle");
	check(lseek(fd, 20, SEEK_SET) == 20 && write(fd, "X", 1) == 1, "write past the end (hole)");
	check(file_size(a) == 21, "size 21 after writing at offset 20");
	check(pread(fd, buf, 9, 12) == 9 && memcmp(buf, "\0\0\0\0\0\0\0\0X", 9) == 0, "hole reads as zeros");
	check(ftruncate(fd, 12) == 0 && file_size(a) == 12, "ftruncate to 12");
	check(pwrite(fd, "h", 1, 0) == 1 && pread(fd, buf, 12, 0) == 12 &&
		  memcmp(buf, "hello WORLD\n", 12) == 0,
	      "pwrite/pread");
	errno = 0;
	check(lseek(fd, -1, SEEK_SET) < 0 && errno == EINVAL, "lseek to a negative offset: EINVAL");

	/* dup shares the offset */
	int fd2 = dup(fd);
	check(fd2 >= 0 && fd2 != fd, "dup");
	check(lseek(fd, 0, SEEK_SET) == 0 && lseek(fd2, 0, SEEK_CUR) == 0, "dup shares the offset (0)");
	check(read(fd2, buf, 6) == 6 && lseek(fd, 0, SEEK_CUR) == 6, "dup shares the offset (6)");
	int fd3 = dup2(fd, 50);
	check(fd3 == 50, "dup2 to 50");
	check(close(fd) == 0 && close(fd2) == 0 && close(fd3) == 0, "close all three");
	errno = 0;
	check(close(fd) < 0 && errno == EBADF, "close twice: EBADF");
	errno = 0;
	check(read(fd, buf, 1) < 0 && errno == EBADF, "read closed fd: EBADF");

	/* O_APPEND writes at the end even after lseek */
	fd = open(a, O_WRONLY | O_APPEND);
	check(fd >= 0, "open O_APPEND");
	check(write(fd, "more\n", 5) == 5, "append 'more'");
	check(lseek(fd, 0, SEEK_SET) == 0 && write(fd, "end\n", 4) == 4, "append after lseek 0");
	close(fd);
	check(read_file(a, buf, sizeof(buf)) == 21 && strcmp(buf, "hello WORLD\nmore\nend\n") == 0,
	      "O_APPEND content is right");
	errno = 0;
	fd = open(a, O_RDONLY);
	check(fd >= 0 && write(fd, "x", 1) < 0 && errno == EBADF, "write to O_RDONLY fd: EBADF");
	close(fd);

	/* O_TRUNC */
	check(write_file(a, "short\n", O_TRUNC) == 0 && file_size(a) == 6, "O_TRUNC rewrites");

	/* rename */
	check(rename(a, b) == 0, "rename a.txt -> b.txt");
	errno = 0;
	check(access(a, F_OK) < 0 && errno == ENOENT, "a.txt gone after rename");
	check(read_file(b, buf, sizeof(buf)) == 6 && strcmp(buf, "short\n") == 0, "b.txt has the content");
	check(write_file(a, "other\n", 0) == 0 && rename(a, b) == 0, "rename over an existing file");
	check(read_file(b, buf, sizeof(buf)) == 6 && strcmp(buf, "other\n") == 0, "replaced content");

	/* unlink keeps an open file readable */
	fd = open(b, O_RDONLY);
	check(unlink(b) == 0, "unlink b.txt");
	errno = 0;
	check(stat(b, &(struct stat){0}) < 0 && errno == ENOENT, "stat after unlink: ENOENT");
	memset(buf, 0, sizeof(buf));
	check(fd >= 0 && read(fd, buf, 100) == 6 && strcmp(buf, "other\n") == 0,
	      "open fd still reads unlinked file");
	close(fd);
	errno = 0;
	check(unlink(b) < 0 && errno == ENOENT, "unlink missing file: ENOENT");
	errno = 0;
	check(open(b, O_RDONLY) < 0 && errno == ENOENT, "open missing file: ENOENT");
}

static void test_directories(const char *dir)
{
	char d[256], p[512];
	snprintf(d, sizeof(d), "%s/sub", dir);
	check(mkdir(d, 0755) == 0, "mkdir %s", d);
	errno = 0;
	check(mkdir(d, 0755) < 0 && errno == EEXIST, "mkdir again: EEXIST");
	struct stat st;
	check(stat(d, &st) == 0 && S_ISDIR(st.st_mode), "stat says directory");
	const char *names[] = {"alpha", "beta", "gamma"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", d, names[i]);
		check(write_file(p, names[i], 0) == 0, "create %s", p);
	}
	snprintf(p, sizeof(p), "%s/nested", d);
	check(mkdir(p, 0700) == 0, "mkdir nested");

	DIR *dp = opendir(d);
	check(dp != NULL, "opendir %s", d);
	int seen[4] = {0}, dots = 0, others = 0;
	struct dirent *e;
	while (dp && (e = readdir(dp))) {
		int known = 0;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
			dots++;
			continue;
		}
		for (int i = 0; i < 3; i++)
			if (!strcmp(e->d_name, names[i])) {
				seen[i]++;
				known = 1;
				check(e->d_type == DT_REG || e->d_type == DT_UNKNOWN,
				      "%s is a regular file entry", names[i]);
			}
		if (!strcmp(e->d_name, "nested")) {
			seen[3]++;
			known = 1;
			check(e->d_type == DT_DIR || e->d_type == DT_UNKNOWN, "nested is a directory entry");
		}
		if (!known) {
			others++;
			fprintf(stderr, "files: unexpected entry '%s'\n", e->d_name);
		}
	}
	if (dp)
		closedir(dp);
	check(seen[0] == 1 && seen[1] == 1 && seen[2] == 1 && seen[3] == 1 && others == 0,
	      "readdir lists alpha beta gamma nested once each and nothing else");
	check(dots == 2, "readdir lists . and ..");
	check(file_size(p) >= 0, "nested exists");
	snprintf(p, sizeof(p), "%s/beta", d);
	check(file_size(p) == 4, "stat size of beta is 4");

	errno = 0;
	check(rmdir(d) < 0 && (errno == ENOTEMPTY || errno == EEXIST), "rmdir non-empty: ENOTEMPTY");
	errno = 0;
	check(unlink(d) < 0 && (errno == EISDIR || errno == EPERM), "unlink a directory: EISDIR");
	errno = 0;
	check(open(p, O_RDONLY | O_DIRECTORY) < 0 && errno == ENOTDIR, "O_DIRECTORY on a file: ENOTDIR");
	snprintf(p, sizeof(p), "%s/beta/x", d);
	errno = 0;
	check(open(p, O_RDONLY) < 0 && errno == ENOTDIR, "path through a file: ENOTDIR");

	/* chdir and relative paths */
	char cwd[PATH_MAX];
	check(getcwd(cwd, sizeof(cwd)) != NULL, "getcwd");
	check(chdir(d) == 0, "chdir %s", d);
	char here[PATH_MAX];
	check(getcwd(here, sizeof(here)) && strcmp(here, d) == 0, "getcwd is %s", d);
	check(file_size("alpha") == 5 && file_size("./nested/../gamma") == 5, "relative paths resolve");
	check(chdir(cwd) == 0, "chdir back");

	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", d, names[i]);
		check(unlink(p) == 0, "unlink %s", names[i]);
	}
	snprintf(p, sizeof(p), "%s/nested", d);
	check(rmdir(p) == 0, "rmdir nested");
	check(rmdir(d) == 0, "rmdir %s", d);
	errno = 0;
	check(stat(d, &st) < 0 && errno == ENOENT, "directory gone");
}

static void test_devices(void)
{
	char buf[4096];
	int fd = open("/dev/null", O_RDWR);
	check(fd >= 0, "open /dev/null");
	check(read(fd, buf, sizeof(buf)) == 0, "/dev/null reads end of file");
	check(write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf), "/dev/null swallows writes");
	struct stat st;
	check(fstat(fd, &st) == 0 && S_ISCHR(st.st_mode), "/dev/null is a character device");
	close(fd);

	fd = open("/dev/zero", O_RDONLY);
	memset(buf, 0x55, sizeof(buf));
	check(fd >= 0 && read(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf), "read 4096 bytes of /dev/zero");
	int zero = 1;
	for (size_t i = 0; i < sizeof(buf); i++)
		zero &= buf[i] == 0;
	check(zero, "/dev/zero gives zeros");
	close(fd);

	const char *rnd[] = {"/dev/urandom", "/dev/random"};
	for (int k = 0; k < 2; k++) {
		unsigned char r1[64], r2[64];
		fd = open(rnd[k], O_RDONLY);
		check(fd >= 0 && read(fd, r1, 64) == 64 && read(fd, r2, 64) == 64, "read 2 x 64 bytes of %s",
		      rnd[k]);
		int nonzero = 0;
		for (int i = 0; i < 64; i++)
			nonzero += r1[i] != 0;
		check(nonzero > 32 && memcmp(r1, r2, 64) != 0, "%s looks random", rnd[k]);
		close(fd);
	}
	unsigned char g1[32] = {0}, g2[32] = {0};
	check(getrandom(g1, 32, 0) == 32 && getrandom(g2, 32, 0) == 32 && memcmp(g1, g2, 32) != 0,
	      "getrandom");

	check(access("/dev/stdout", W_OK) == 0 && access("/dev/stderr", W_OK) == 0,
	      "/dev/stdout and /dev/stderr exist");
	fd = open("/dev/stdout", O_WRONLY);
	check(fd >= 0, "open /dev/stdout");
	fflush(stdout);
	check(fd >= 0 && write(fd, "ok: written via /dev/stdout\n", 28) == 28, "write via /dev/stdout");
	close(fd);
}

static void test_proc_self_exe(const char *argv0)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	check(n > 0, "readlink /proc/self/exe");
	if (n <= 0)
		return;
	buf[n] = 0;
	const char *base = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
	size_t bl = strlen(base);
	if (argv0[0] == '/')
		check(strcmp(buf, argv0) == 0, "/proc/self/exe is %s (got %s)", argv0, buf);
	else
		check((size_t)n >= bl && strcmp(buf + n - bl, base) == 0,
		      "/proc/self/exe ends in %s (got %s)", base, buf);
	struct stat a, b;
	check(stat("/proc/self/exe", &a) == 0 && stat(buf, &b) == 0 && a.st_size == b.st_size &&
		  a.st_size > 0,
	      "stat through /proc/self/exe");
	int fd = open("/proc/self/exe", O_RDONLY);
	unsigned char magic[4] = {0};
	check(fd >= 0 && read(fd, magic, 4) == 4 && memcmp(magic, "\177ELF", 4) == 0,
	      "/proc/self/exe reads an ELF");
	if (fd >= 0)
		close(fd);
}

/* Symlinks, hard links, modes, *at calls, close-on-exec, many directory entries, a big file, file mmap. */
static void test_more(const char *dir)
{
	char p[256], q[256], buf[256];
	snprintf(p, sizeof(p), "%s/target", dir);
	snprintf(q, sizeof(q), "%s/link", dir);
	check(write_file(p, "target content\n", 0) == 0, "create target");
	check(symlink("target", q) == 0, "symlink link -> target");
	ssize_t n = readlink(q, buf, sizeof(buf) - 1);
	check(n == 6 && memcmp(buf, "target", 6) == 0, "readlink gives 'target'");
	check(read_file(q, buf, sizeof(buf)) == 15 && strcmp(buf, "target content\n") == 0,
	      "read through the symlink");
	struct stat st, lst;
	check(stat(q, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 15, "stat follows the symlink");
	check(lstat(q, &lst) == 0 && S_ISLNK(lst.st_mode) && lst.st_size == 6, "lstat sees the symlink");
	errno = 0;
	check(readlink(p, buf, sizeof(buf)) < 0 && errno == EINVAL, "readlink of a regular file: EINVAL");
	check(unlink(q) == 0 && access(p, F_OK) == 0, "unlink the symlink keeps the target");
	snprintf(q, sizeof(q), "%s/dangling", dir);
	check(symlink("/nonexistent/x", q) == 0, "dangling symlink");
	errno = 0;
	check(open(q, O_RDONLY) < 0 && errno == ENOENT, "open a dangling symlink: ENOENT");
	check(unlink(q) == 0, "unlink the dangling symlink");

	snprintf(q, sizeof(q), "%s/hard", dir);
	if (link(p, q) == 0) {
		check(stat(p, &st) == 0 && st.st_nlink == 2, "hard link: nlink 2");
		check(unlink(p) == 0 && read_file(q, buf, sizeof(buf)) == 15,
		      "hard link survives unlinking the name");
		check(rename(q, p) == 0, "rename the hard link back");
	} else {
		check(errno == EPERM || errno == ENOSYS, "link fails cleanly if unsupported (errno %d)",
		      errno);
	}

	check(chmod(p, 0600) == 0 && stat(p, &st) == 0 && (st.st_mode & 07777) == 0600, "chmod 0600");
	check(chmod(p, 0755) == 0 && stat(p, &st) == 0 && (st.st_mode & 07777) == 0755, "chmod 0755");

	/* *at calls relative to a directory fd */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	check(dfd >= 0, "open the directory O_DIRECTORY");
	int fd = openat(dfd, "at-file", O_WRONLY | O_CREAT | O_EXCL, 0644);
	check(fd >= 0 && write(fd, "at\n", 3) == 3, "openat relative to a directory fd");
	if (fd >= 0)
		close(fd);
	check(fstatat(dfd, "at-file", &st, 0) == 0 && st.st_size == 3, "fstatat");
	check(mkdirat(dfd, "at-dir", 0755) == 0, "mkdirat");
	check(renameat(dfd, "at-file", dfd, "at-dir/moved") == 0, "renameat into a subdirectory");
	check(unlinkat(dfd, "at-dir/moved", 0) == 0 && unlinkat(dfd, "at-dir", AT_REMOVEDIR) == 0,
	      "unlinkat file and directory");
	close(dfd);

	/* close-on-exec and fcntl */
	fd = open(p, O_RDONLY | O_CLOEXEC);
	check(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC), "O_CLOEXEC sets FD_CLOEXEC");
	check(fcntl(fd, F_SETFD, 0) == 0 && fcntl(fd, F_GETFD) == 0, "F_SETFD clears it");
	int fd2 = fcntl(fd, F_DUPFD, 100);
	check(fd2 >= 100, "F_DUPFD at or above 100 (got %d)", fd2);
	check((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY, "F_GETFL says O_RDONLY");
	close(fd);
	if (fd2 >= 0)
		close(fd2);

	/* mmap of a file sees its contents */
	fd = open(p, O_RDONLY);
	char *m = fd >= 0 ? mmap(NULL, 15, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	check(m != MAP_FAILED && memcmp(m, "target content\n", 15) == 0, "mmap of a file shows its contents");
	if (m != MAP_FAILED)
		munmap(m, 15);
	if (fd >= 0)
		close(fd);
	check(unlink(p) == 0, "unlink target");

	/* 300 entries: readdir needs several getdents calls */
	char many[256];
	snprintf(many, sizeof(many), "%s/many", dir);
	check(mkdir(many, 0755) == 0, "mkdir many");
	int created = 0;
	for (int i = 0; i < 300; i++) {
		char f[300];
		snprintf(f, sizeof(f), "%s/file-with-a-longish-name-%03d", many, i);
		created += write_file(f, "", 0) == 0;
	}
	check(created == 300, "created 300 files");
	DIR *dp = opendir(many);
	int seen[300] = {0}, count = 0, bad = 0;
	struct dirent *e;
	while (dp && (e = readdir(dp))) {
		int k;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		count++;
		if (sscanf(e->d_name, "file-with-a-longish-name-%d", &k) == 1 && k >= 0 && k < 300)
			seen[k]++;
		else
			bad++;
	}
	if (dp)
		closedir(dp);
	int once = 1;
	for (int i = 0; i < 300; i++)
		once &= seen[i] == 1;
	check(count == 300 && once && !bad, "readdir lists all 300 entries exactly once (%d seen)", count);
	for (int i = 0; i < 300; i++) {
		char f[300];
		snprintf(f, sizeof(f), "%s/file-with-a-longish-name-%03d", many, i);
		unlink(f);
	}
	check(rmdir(many) == 0, "rmdir many after emptying it");

	/* a 12 MiB file written in odd-sized chunks and read back */
	snprintf(p, sizeof(p), "%s/big", dir);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	check(fd >= 0, "create big");
	static unsigned char chunk[65537];
	size_t total = 0;
	int wrote_ok = fd >= 0;
	while (wrote_ok && total < (12u << 20)) {
		for (size_t i = 0; i < sizeof(chunk); i++)
			chunk[i] = (unsigned char)((total + i) * 2654435761u >> 13);
		wrote_ok = write(fd, chunk, sizeof(chunk)) == (ssize_t)sizeof(chunk);
		total += sizeof(chunk);
	}
	check(wrote_ok && fstat(fd, &st) == 0 && (size_t)st.st_size == total, "wrote %zu bytes", total);
	int read_ok = lseek(fd, 0, SEEK_SET) == 0;
	size_t pos = 0;
	while (read_ok && pos < total) {
		ssize_t got = read(fd, chunk, 4099);
		if (got <= 0) {
			read_ok = 0;
			break;
		}
		for (ssize_t i = 0; i < got; i++)
			read_ok &= chunk[i] == (unsigned char)((pos + (size_t)i) * 2654435761u >> 13);
		pos += (size_t)got;
	}
	check(read_ok && pos == total, "read the 12 MiB back intact");
	if (fd >= 0)
		close(fd);
	check(unlink(p) == 0, "unlink big");
}

/* A directory of the rootfs merged with the writable layer (inside the VM only). */
static void test_rootfs_dir(const char *file)
{
	char dir[256], p[300];
	snprintf(dir, sizeof(dir), "%s", file);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = 0;
	const char *base = slash + 1;
	snprintf(p, sizeof(p), "%s/added-in-vm", dir);
	check(write_file(p, "added\n", O_EXCL) == 0, "create a file in rootfs directory %s", dir);
	int has_base = 0, has_added = 0, has_sub = 0, has_link = 0;
	DIR *dp = opendir(dir);
	struct dirent *e;
	while (dp && (e = readdir(dp))) {
		has_base += !strcmp(e->d_name, base);
		has_added += !strcmp(e->d_name, "added-in-vm");
		has_sub += !strcmp(e->d_name, "sub");
		has_link += !strcmp(e->d_name, "link");
	}
	if (dp)
		closedir(dp);
	check(has_base == 1 && has_added == 1 && has_sub == 1 && has_link == 1,
	      "readdir of %s lists the image's entries and the new one once each (%d %d %d %d)", dir,
	      has_base, has_added, has_sub, has_link);
	snprintf(p, sizeof(p), "%s/link", dir);
	char buf[256];
	ssize_t n = readlink(p, buf, sizeof(buf) - 1);
	if (n >= 0)
		buf[n] = 0;
	check(n > 0 && strcmp(buf, base) == 0, "readlink of the image's symlink %s gives %s", p, base);
	snprintf(p, sizeof(p), "%s/sub/one", dir);
	check(unlink(p) == 0, "unlink an image file in a subdirectory");
	snprintf(p, sizeof(p), "%s/sub", dir);
	check(rmdir(p) == 0, "rmdir the emptied image directory");
	has_sub = 0;
	dp = opendir(dir);
	while (dp && (e = readdir(dp)))
		has_sub += !strcmp(e->d_name, "sub");
	if (dp)
		closedir(dp);
	check(has_sub == 0, "the removed image directory is no longer listed");
	snprintf(p, sizeof(p), "%s/sub", dir);
	check(mkdir(p, 0755) == 0 && access(p, F_OK) == 0, "a directory can be made again in its place");
	snprintf(p, sizeof(p), "%s/sub/one", dir);
	errno = 0;
	check(access(p, F_OK) < 0 && errno == ENOENT, "the re-made directory is empty");
}

static void test_root_writable(void)
{
	char buf[64];
	const char *p = "/mote-files-test.txt";
	check(write_file(p, "at the root\n", O_EXCL) == 0, "create %s", p);
	check(read_file(p, buf, sizeof(buf)) == 12 && strcmp(buf, "at the root\n") == 0, "read back %s", p);
	check(mkdir("/newdir", 0755) == 0 && write_file("/newdir/f", "x", 0) == 0,
	      "mkdir /newdir and a file in it");
	check(rename(p, "/newdir/g") == 0 && file_size("/newdir/g") == 12, "rename across directories");
	check(unlink("/newdir/f") == 0 && unlink("/newdir/g") == 0 && rmdir("/newdir") == 0,
	      "clean up /newdir");
}

int main(int argc, char **argv)
{
	int in_vm = getenv("MOTE_TEST_VM") != NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && in_vm)
		test_rootfs_dir(argv[1]);
	if (argc >= 3)
		test_rootfs_file(argv[1], argv[2], in_vm);

	struct stat st;
	check(stat("/tmp", &st) == 0 && S_ISDIR(st.st_mode), "/tmp is a directory");
	char dir[64];
	snprintf(dir, sizeof(dir), "/tmp/mote-files.%d", (int)getpid());
	rmdir(dir);
	check(mkdir(dir, 0700) == 0, "mkdir %s", dir);
	test_tmp_file(dir);
	test_directories(dir);
	test_more(dir);
	check(rmdir(dir) == 0, "rmdir %s", dir);
	test_devices();
	test_proc_self_exe(argv[0]);
	if (in_vm)
		test_root_writable();

	if (failures) {
		fprintf(stderr, "files: %d checks FAILED\n", failures);
		return 1;
	}
	printf("files: all checks passed\n");
	return 0;
}
