/* Guest test: the bundle mounted read-only at /fn after an attach (tests/e2e/invoke.sh packs it).
 *
 * usage: fn_files [no-snapshot]
 * Snapshots itself first (unless no-snapshot); in the clone checks /fn: contents, metadata, a symlink,
 * directory listing, mmap, a separate st_dev, ST_RDONLY, and that every change fails (EROFS, EXDEV across
 * the mount's edge, EBUSY for /fn itself) while /tmp stays writable. Then execs /fn/handler with argv
 * "handler from-fn" (a static program of the bundle). Expected bundle:
 *   hello.txt "hello from the bundle\n" (0644), sub/data.bin (4096 bytes i & 0xff), link -> hello.txt,
 *   handler (static ELF, 0755)
 * Without a bundle /fn is missing: prints "fn_files: no /fn" and exits 3.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define CHECK_PROGRAM "fn_files"
#include "check.h"

static const char hello[] = "hello from the bundle\n";

static int fails_with(int r, int err)
{
	return r == -1 && errno == err;
}

static void check_contents(void)
{
	char buf[256] = {0};
	int fd = open("/fn/hello.txt", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	check(n == (ssize_t)strlen(hello) && strcmp(buf, hello) == 0, "read /fn/hello.txt (%zd bytes)", n);
	close(fd);
	struct stat st, root;
	memset(&st, 0, sizeof(st));
	int r = stat("/fn/hello.txt", &st);
	check(r == 0 && (st.st_mode & 07777) == 0644 && S_ISREG(st.st_mode) &&
		  st.st_size == (off_t)strlen(hello),
	      "stat /fn/hello.txt: mode %o size %lld", st.st_mode, (long long)st.st_size);
	check(st.st_mtime == 1700000000, "its mtime comes from the image (%lld)", (long long)st.st_mtime);
	check(stat("/", &root) == 0 && root.st_dev != st.st_dev, "/fn has its own st_dev (%llx vs %llx)",
	      (unsigned long long)st.st_dev, (unsigned long long)root.st_dev);
	char target[64] = {0};
	check(readlink("/fn/link", target, sizeof(target) - 1) == 9 && strcmp(target, "hello.txt") == 0,
	      "readlink /fn/link: %s", target);
	memset(buf, 0, sizeof(buf));
	fd = open("/fn/link", O_RDONLY);
	check(fd >= 0 && read(fd, buf, sizeof(buf) - 1) == (ssize_t)strlen(hello),
	      "read through the symlink");
	close(fd);

	fd = open("/fn/sub/data.bin", O_RDONLY);
	uint8_t *m = fd >= 0 ? mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	int ok = m != MAP_FAILED;
	for (int i = 0; ok && i < 4096; i++)
		ok = m[i] == (uint8_t)i;
	check(ok, "mmap of /fn/sub/data.bin has its bytes");
	close(fd);

	DIR *d = opendir("/fn");
	int seen = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		seen |= (!strcmp(e->d_name, "hello.txt") ? 1 : 0) | (!strcmp(e->d_name, "sub") ? 2 : 0) |
			(!strcmp(e->d_name, "link") ? 4 : 0) | (!strcmp(e->d_name, "handler") ? 8 : 0);
	if (d)
		closedir(d);
	check(seen == 15, "readdir /fn lists hello.txt, sub, link and handler (%#x)", seen);
	char cwd[64] = {0};
	check(chdir("/fn/sub") == 0 && getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/fn/sub") == 0 &&
		  access("../hello.txt", R_OK) == 0 && chdir("/") == 0,
	      "chdir into /fn/sub, getcwd %s, relative paths", cwd);
}

static void check_read_only(void)
{
	struct statfs sf;
	check(statfs("/fn", &sf) == 0 && (sf.f_flags & ST_RDONLY), "statfs /fn: ST_RDONLY");
	check(statfs("/tmp", &sf) == 0 && !(sf.f_flags & ST_RDONLY), "statfs /tmp: writable");
	check(fails_with(open("/fn/hello.txt", O_WRONLY), EROFS), "open O_WRONLY: EROFS");
	check(fails_with(open("/fn/hello.txt", O_RDWR), EROFS), "open O_RDWR: EROFS");
	check(fails_with(open("/fn/hello.txt", O_RDONLY | O_TRUNC), EROFS), "open O_TRUNC: EROFS");
	check(fails_with(open("/fn/new", O_WRONLY | O_CREAT, 0644), EROFS), "create a file: EROFS");
	check(fails_with(open("/fn/hello.txt", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST),
	      "O_CREAT|O_EXCL of an existing name: EEXIST first");
	int fd = open("/fn/hello.txt", O_RDONLY | O_CREAT, 0644);
	check(fd >= 0, "O_CREAT of an existing file read-only opens it");
	close(fd);
	check(fails_with(open("/fn", O_RDWR | O_TMPFILE, 0600), EROFS), "O_TMPFILE in /fn: EROFS");
	check(fails_with(mkdir("/fn/dir", 0755), EROFS), "mkdir: EROFS");
	check(fails_with(mkdir("/fn/sub", 0755), EEXIST), "mkdir of an existing name: EEXIST");
	check(fails_with(mknod("/fn/node", S_IFREG | 0644, 0), EROFS), "mknod: EROFS");
	check(fails_with(symlink("x", "/fn/sym"), EROFS), "symlink: EROFS");
	check(fails_with(unlink("/fn/hello.txt"), EROFS), "unlink: EROFS");
	check(fails_with(unlink("/fn/missing"), EROFS), "unlink of a missing name: EROFS");
	check(fails_with(rmdir("/fn/sub"), EROFS), "rmdir: EROFS");
	check(fails_with(rename("/fn/hello.txt", "/fn/h2"), EROFS), "rename inside /fn: EROFS");
	check(fails_with(rename("/fn/hello.txt", "/tmp/h2"), EXDEV), "rename out of /fn: EXDEV");
	fd = open("/tmp/f", O_WRONLY | O_CREAT, 0644);
	close(fd);
	check(fails_with(rename("/tmp/f", "/fn/f"), EXDEV), "rename into /fn: EXDEV");
	check(fails_with(link("/fn/hello.txt", "/tmp/h3"), EXDEV), "link out of /fn: EXDEV");
	check(fails_with(link("/tmp/f", "/fn/f"), EROFS), "link into /fn: EROFS");
	check(fails_with(truncate("/fn/hello.txt", 0), EROFS), "truncate: EROFS");
	check(fails_with(chmod("/fn/hello.txt", 0600), EROFS), "chmod: EROFS");
	check(fails_with(chown("/fn/hello.txt", 0, 0), EROFS), "chown: EROFS");
	check(fails_with(utimensat(AT_FDCWD, "/fn/hello.txt", NULL, 0), EROFS), "utimensat: EROFS");
	check(fails_with(access("/fn/hello.txt", W_OK), EROFS), "access W_OK: EROFS");
	check(access("/fn/handler", X_OK) == 0, "access X_OK of the handler");
	fd = open("/fn/hello.txt", O_RDONLY);
	check(fails_with(fchmod(fd, 0600), EROFS), "fchmod: EROFS");
	check(fails_with(write(fd, "x", 1), EBADF), "write to a read-only fd: EBADF");
	close(fd);
	check(fails_with(rmdir("/fn"), EBUSY), "rmdir /fn: EBUSY");
	check(fails_with(rename("/fn", "/fn2"), EBUSY), "rename /fn: EBUSY");
	check(fails_with(rename("/tmp/f", "/fn"), EBUSY), "rename over /fn: EBUSY");
	fd = open("/tmp/still-writable", O_WRONLY | O_CREAT, 0644);
	check(fd >= 0 && write(fd, "ok", 2) == 2, "/tmp stays writable");
	close(fd);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!(argc > 1 && strcmp(argv[1], "no-snapshot") == 0)) {
		int s = open("/dev/mote/snapshot", O_WRONLY);
		if (s < 0 || write(s, "1", 1) != 1) {
			fprintf(stderr, "fn_files: snapshot: %s\n", strerror(errno));
			return 2;
		}
		close(s);
	}
	struct stat st;
	if (stat("/fn", &st) < 0) {
		printf("fn_files: no /fn\n");
		return 3;
	}
	check_contents();
	check_read_only();
	if (failures) {
		fprintf(stderr, "fn_files: %d checks FAILED\n", failures);
		return 1;
	}
	printf("fn_files: all checks passed\n");
	char *args[] = {"handler", "from-fn", NULL};
	char *env[] = {"FOO=bundle", NULL};
	execve("/fn/handler", args, env);
	fprintf(stderr, "fn_files: FAILED: execve /fn/handler: %s\n", strerror(errno));
	return 1;
}
