/* Unit test of lib/rootfs.c: packing trees and file lists, reading them back, the cache, and failures. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpio.h"
#include "err.h"
#include "rootfs.h"
#include "status.h"

#include "check.h"
#include "slurp.h"

static char tmp[64]; /* everything this test makes lives under it */

/* A path under tmp, in one of a few rotating static buffers. */
static const char *at(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *at(const char *fmt, ...)
{
	static char bufs[8][1024];
	static int next;
	char *b = bufs[next++ % 8];
	int n = snprintf(b, sizeof(bufs[0]), "%s/", tmp);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b + n, sizeof(bufs[0]) - (size_t)n, fmt, ap);
	va_end(ap);
	return b;
}

static void must(int ok, const char *what)
{
	if (!ok) {
		printf("FAIL setup: %s: %s\n", what, strerror(errno));
		exit(1);
	}
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	must(fd >= 0, path);
	size_t len = strlen(text);
	must(write(fd, text, len) == (ssize_t)len, path);
	close(fd);
	must(chmod(path, mode) == 0, path);
}

/* The files in directory `dir`, counted; those whose name contains ".tmp." counted in *temps. */
static int count_files(const char *dir, int *temps)
{
	DIR *d = opendir(dir);
	int n = 0;
	*temps = 0;
	if (!d)
		return -1;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		if (strstr(de->d_name, ".tmp."))
			(*temps)++;
	}
	closedir(d);
	return n;
}

struct want {
	const char *name;
	uint32_t mode;	  /* type and permission bits */
	const char *data; /* file contents or symlink target; NULL for directories */
};

/* Read `image` back and compare it with `want` (n entries), in order. */
static void check_image(const char *test, const char *image, const struct want *want, size_t n)
{
	size_t size = 0;
	uint8_t *img = slurp(image, &size);
	if (!img) {
		check(test, 0, "cannot read %s", image);
		return;
	}
	char why[512] = "";
	size_t off = 0, i = 0;
	struct mote_cpio_entry e;
	int r;
	while ((r = mote_cpio_next(img, size, &off, &e)) == MOTE_CPIO_ENTRY) {
		if (i == n) {
			snprintf(why, sizeof(why), "unexpected entry '%s'", e.name);
			break;
		}
		const struct want *w = &want[i];
		size_t dlen = w->data ? strlen(w->data) : 0;
		if (strcmp(e.name, w->name))
			snprintf(why, sizeof(why), "entry %zu is '%s', expected '%s'", i, e.name, w->name);
		else if (e.mode != w->mode)
			snprintf(why, sizeof(why), "'%s' mode %o, expected %o", e.name, e.mode, w->mode);
		else if (e.size != dlen || (dlen && memcmp(e.data, w->data, dlen)))
			snprintf(why, sizeof(why), "'%s' data differ (%llu bytes)", e.name,
				 (unsigned long long)e.size);
		else if (e.uid || e.gid)
			snprintf(why, sizeof(why), "'%s' uid %u gid %u", e.name, e.uid, e.gid);
		else if (e.ino != i + 1)
			snprintf(why, sizeof(why), "'%s' ino %u, expected %zu", e.name, e.ino, i + 1);
		else if (!S_ISDIR(e.mode) && e.nlink != 1)
			snprintf(why, sizeof(why), "'%s' nlink %u", e.name, e.nlink);
		if (why[0])
			break;
		i++;
	}
	if (!why[0] && r != MOTE_CPIO_END)
		snprintf(why, sizeof(why), "entry %zu: result %d", i, r);
	else if (!why[0] && i != n)
		snprintf(why, sizeof(why), "%zu entries, expected %zu", i, n);
	else if (!why[0] && (off != size || size % 4))
		snprintf(why, sizeof(why), "trailer ends at %zu of %zu", off, size);
	check(test, !why[0], "%s", why);
	free(img);
}

/* Whether a mote_err names `path` and has the rootfs status. */
static int err_names(const struct mote_err *err, const char *path)
{
	return err->status == MOTE_STATUS_ROOTFS && strstr(err->msg, path) && !strchr(err->msg, '\n');
}

#define U8NAME "h\xc3\xa9llo-w\xc3\xb6rld-\xe6\x97\xa5\xe6\x9c\xac.txt" /* "héllo-wörld-日本.txt" */

/* The tree most tests pack: every kind of entry, and names whose order tells depth-first from flat. */
static void make_tree(const char *root)
{
	must(mkdir(root, 0755) == 0, root);
	must(mkdir(at("root/a"), 0750) == 0, "a");
	write_file(at("root/a/b"), "in a\n", 0644);
	write_file(at("root/a-c"), "beside a\n", 0600);
	must(mkdir(at("root/bin"), 0755) == 0, "bin");
	write_file(at("root/bin/sh"), "#!/bin/sh\necho hi\n", 04755);
	must(link(at("root/bin/sh"), at("root/bin/sh2")) == 0, "hard link");
	must(symlink("sh", at("root/bin/link")) == 0, "symlink");
	must(symlink("/no/such/target", at("root/dangling")) == 0, "dangling symlink");
	must(mkdir(at("root/etc"), 0700) == 0, "etc");
	must(mkdir(at("root/etc/deep"), 0755) == 0, "deep");
	must(mkdir(at("root/etc/deep/er"), 0755) == 0, "er");
	write_file(at("root/etc/deep/er/file.txt"), "deep\n", 0444);
	write_file(at("root/etc/empty"), "", 0644);
	write_file(at("root/" U8NAME), "unicode\n", 0644);
	must(mkfifo(at("root/fifo"), 0644) == 0, "fifo");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", at("root/sock"));
	must(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0, "socket");
	close(s);
	/* A known mtime, to see it kept. */
	struct timespec ts[2] = {{1000000000, 0}, {1234567890, 123}};
	must(utimensat(AT_FDCWD, at("root/a/b"), ts, 0) == 0, "utimensat");
	struct timespec root_ts[2] = {{1100000000, 0}, {1100000000, 0}};
	must(utimensat(AT_FDCWD, at("root"), root_ts, 0) == 0, "utimensat root");
}

static const struct want tree_want[] = {
    {".", 040755, NULL},
    {"a", 040750, NULL},
    {"a/b", 0100644, "in a\n"},
    {"a-c", 0100600, "beside a\n"},
    {"bin", 040755, NULL},
    {"bin/link", 0120777, "sh"},
    {"bin/sh", 0104755, "#!/bin/sh\necho hi\n"},
    {"bin/sh2", 0104755, "#!/bin/sh\necho hi\n"},
    {"dangling", 0120777, "/no/such/target"},
    {"etc", 040700, NULL},
    {"etc/deep", 040755, NULL},
    {"etc/deep/er", 040755, NULL},
    {"etc/deep/er/file.txt", 0100444, "deep\n"},
    {"etc/empty", 0100644, ""},
    {U8NAME, 0100644, "unicode\n"},
};
#define NWANT(w) (sizeof(w) / sizeof((w)[0]))

static void test_pack_dir(void)
{
	struct mote_err err = {0};
	int r = mote_rootfs_pack_dir(at("root"), at("out/tree.cpio"), &err);
	check("pack-dir", r == 0, "%s", err.msg);
	check_image("pack-dir-entries", at("out/tree.cpio"), tree_want, NWANT(tree_want));

	size_t size = 0;
	uint8_t *img = slurp(at("out/tree.cpio"), &size);
	size_t off = 0;
	struct mote_cpio_entry e;
	uint32_t mtime = 0, root_mtime = 0;
	while (img && mote_cpio_next(img, size, &off, &e) == MOTE_CPIO_ENTRY) {
		if (!strcmp(e.name, "a/b"))
			mtime = e.mtime;
		if (!strcmp(e.name, "."))
			root_mtime = e.mtime;
	}
	check("pack-dir-keeps-mtime", mtime == 1234567890, "mtime %u", mtime);
	check("pack-dir-keeps-root-mtime", root_mtime == 1100000000, "mtime of . is %u", root_mtime);

	/* A trailing slash and a second run give the same bytes. */
	r = mote_rootfs_pack_dir(at("root/"), at("out/again.cpio"), &err);
	size_t size2 = 0;
	uint8_t *img2 = r == 0 ? slurp(at("out/again.cpio"), &size2) : NULL;
	check("pack-dir-deterministic", img && img2 && size == size2 && !memcmp(img, img2, size), "%s",
	      r ? err.msg : "images differ");
	free(img);
	free(img2);

	int temps, n = count_files(at("out"), &temps);
	check("pack-dir-no-temp-files", n == 2 && temps == 0, "%d files, %d temporary", n, temps);

	/* busybox cpio, another reader, extracts the same tree. */
	if (access("/bin/busybox", X_OK) != 0) {
		printf("SKIP pack-dir-busybox-extracts: no /bin/busybox\n");
		return;
	}
	char cmd[4096];
	snprintf(cmd, sizeof(cmd),
		 "mkdir %s && cd %s && /bin/busybox cpio -i -d -m -F %s 2>/dev/null && "
		 "rm -f %s/fifo %s/sock && diff -r --no-dereference %s %s >/dev/null && "
		 "[ \"$(readlink bin/link)\" = sh ] && [ \"$(stat -c %%a etc)\" = 700 ]",
		 at("extract"), at("extract"), at("out/tree.cpio"), at("root.copy"), at("root.copy"),
		 at("root.copy"), at("extract"));
	char prep[2048];
	snprintf(prep, sizeof(prep), "cp -a %s %s", at("root"), at("root.copy"));
	int rc = system(prep);
	if (rc == 0)
		rc = system(cmd);
	check("pack-dir-busybox-extracts", rc == 0, "extracting with busybox cpio or comparing failed (%d)",
	      rc);
}

static void test_pack_files(void)
{
	write_file(at("f1"), "busybox bytes", 0755);
	write_file(at("f2"), "tool", 0700);
	write_file(at("f3"), "zzz", 0644);
	must(symlink("f3", at("f3.link")) == 0, "symlink");
	struct mote_rootfs_file files[] = {
	    {at("f3.link"), "/usr/lib/x/z"},
	    {at("f1"), "busybox"},
	    {at("f2"), "bin/tool"},
	    {at("f2"), "usr/lib/y"},
	};
	struct mote_err err = {0};
	int r = mote_rootfs_pack_files(files, NWANT(files), at("out/files.cpio"), &err);
	check("pack-files", r == 0, "%s", err.msg);
	static const struct want want[] = {
	    {"bin", 040755, NULL},
	    {"bin/tool", 0100700, "tool"},
	    {"busybox", 0100755, "busybox bytes"},
	    {"usr", 040755, NULL},
	    {"usr/lib", 040755, NULL},
	    {"usr/lib/x", 040755, NULL},
	    {"usr/lib/x/z", 0100644, "zzz"},
	    {"usr/lib/y", 0100700, "tool"},
	};
	check_image("pack-files-entries", at("out/files.cpio"), want, NWANT(want));

	struct mote_rootfs_file one = {at("f1"), "busybox"};
	r = mote_rootfs_pack_files(&one, 1, at("out/one.cpio"), &err);
	static const struct want want_one[] = {{"busybox", 0100755, "busybox bytes"}};
	check_image("pack-files-single", at("out/one.cpio"), want_one, 1);

	r = mote_rootfs_pack_files(NULL, 0, at("out/none.cpio"), &err);
	check_image("pack-files-empty-list", at("out/none.cpio"), NULL, 0);

	static const struct {
		const char *name, *a, *b, *msg;
	} bad[] = {
	    {"pack-files-duplicate", "x/y", "/x/y", "twice"},
	    {"pack-files-file-and-dir", "x", "x/y", "both"},
	    {"pack-files-dotdot", "x/../y", "z", "x/../y"},
	    {"pack-files-dot", "./y", "z", "./y"},
	    {"pack-files-empty-component", "x//y", "z", "x//y"},
	    {"pack-files-trailing-slash", "x/", "z", "x/"},
	    {"pack-files-empty-name", "/", "z", "'/'"},
	};
	for (size_t i = 0; i < NWANT(bad); i++) {
		struct mote_rootfs_file two[] = {{at("f1"), bad[i].a}, {at("f2"), bad[i].b}};
		err = (struct mote_err){0};
		r = mote_rootfs_pack_files(two, 2, at("out/bad.cpio"), &err);
		check(bad[i].name,
		      r < 0 && err.status == MOTE_STATUS_ROOTFS && strstr(err.msg, bad[i].msg) &&
			  access(at("out/bad.cpio"), F_OK) != 0,
		      "r %d: %s", r, err.msg);
	}

	struct mote_rootfs_file dir = {tmp, "d"};
	err = (struct mote_err){0};
	r = mote_rootfs_pack_files(&dir, 1, at("out/bad.cpio"), &err);
	check("pack-files-directory-refused", r < 0 && err_names(&err, tmp), "r %d: %s", r, err.msg);
}

/* Failures name the path, leave no temporary file, and leave an existing image untouched. */
static void test_errors(void)
{
	struct mote_err err = {0};
	int r = mote_rootfs_pack_dir(at("no-such-dir"), at("out/missing.cpio"), &err);
	check("missing-dir",
	      r < 0 && err_names(&err, at("no-such-dir")) && access(at("out/missing.cpio"), F_OK) != 0,
	      "r %d: %s", r, err.msg);
	r = mote_rootfs_pack_dir(at("f1"), at("out/missing.cpio"), &err);
	check("dir-is-a-file", r < 0 && err_names(&err, at("f1")), "r %d: %s", r, err.msg);

	write_file(at("out/kept.cpio"), "old image", 0644);
	struct mote_rootfs_file gone[] = {{at("f1"), "a"}, {at("vanished"), "b"}};
	err = (struct mote_err){0};
	r = mote_rootfs_pack_files(gone, 2, at("out/kept.cpio"), &err);
	size_t size = 0;
	uint8_t *old = slurp(at("out/kept.cpio"), &size);
	check("missing-file", r < 0 && err_names(&err, at("vanished")), "r %d: %s", r, err.msg);
	check("failure-keeps-old-image", old && size == 9 && !memcmp(old, "old image", 9),
	      "out_path was replaced");
	free(old);

	err = (struct mote_err){0};
	r = mote_rootfs_pack_dir(at("root"), at("no-such-out-dir/x.cpio"), &err);
	check("output-dir-missing", r < 0 && err_names(&err, at("no-such-out-dir/x.cpio")), "r %d: %s", r,
	      err.msg);

	/* A sparse file past the 4 GiB limit is refused before any byte of it is read. */
	must(mkdir(at("big"), 0755) == 0, "big");
	int fd = open(at("big/huge"), O_WRONLY | O_CREAT, 0644);
	must(fd >= 0 && ftruncate(fd, (off_t)MOTE_ROOTFS_MAX_IMAGE) == 0, "sparse file");
	close(fd);
	err = (struct mote_err){0};
	r = mote_rootfs_pack_dir(at("big"), at("out/big.cpio"), &err);
	check("image-over-4GiB",
	      r < 0 && err_names(&err, at("big/huge")) && strstr(err.msg, "4 GiB") &&
		  access(at("out/big.cpio"), F_OK) != 0,
	      "r %d: %s", r, err.msg);

	int temps, n = count_files(at("out"), &temps);
	check("errors-leave-no-temp-files", temps == 0, "%d temporary files among %d", temps, n);
}

/* Drop the capabilities that let root read any file, so that mode 000 means unreadable. */
static int drop_dac_override(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	d[0].effective &= ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH));
	return (int)syscall(SYS_capset, &h, d);
}

/* Unreadable files and directories (in a child, as root would read them anyway). */
static void test_unreadable(void)
{
	must(mkdir(at("locked"), 0755) == 0, "locked");
	write_file(at("locked/secret"), "x", 0);
	must(mkdir(at("locked2"), 0755) == 0, "locked2");
	must(mkdir(at("locked2/closed"), 0) == 0, "closed");
	fflush(stdout);
	pid_t pid = fork();
	must(pid >= 0, "fork");
	if (pid == 0) {
		failures = 0;
		int fd = drop_dac_override() == 0 ? open(at("locked/secret"), O_RDONLY) : 0;
		if (fd >= 0) {
			printf("SKIP unreadable-file: cannot make a file unreadable here\n");
			printf("SKIP unreadable-dir: cannot make a directory unreadable here\n");
			fflush(stdout);
			_exit(0);
		}
		struct mote_err err = {0};
		int r = mote_rootfs_pack_dir(at("locked"), at("out/locked.cpio"), &err);
		check("unreadable-file",
		      r < 0 && err_names(&err, at("locked/secret")) && strstr(err.msg, "denied"), "r %d: %s",
		      r, err.msg);
		err = (struct mote_err){0};
		r = mote_rootfs_pack_dir(at("locked2"), at("out/locked.cpio"), &err);
		check("unreadable-dir", r < 0 && err_names(&err, at("locked2/closed")), "r %d: %s", r,
		      err.msg);
		int temps;
		count_files(at("out"), &temps);
		check("unreadable-leaves-no-temp-files",
		      temps == 0 && access(at("out/locked.cpio"), F_OK) != 0, "%d temporary files", temps);
		fflush(stdout);
		_exit(failures ? 1 : 0);
	}
	int status;
	must(waitpid(pid, &status, 0) == pid, "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		failures++;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The cached image of the tree at root, its path in `out`; returns 0 or prints a FAIL. */
static int cached(const char *test, const char *root, char *out)
{
	struct mote_err err = {0};
	if (mote_rootfs_cached_dir(root, out, 1024, &err) < 0) {
		check(test, 0, "%s", err.msg);
		return -1;
	}
	return 0;
}

static void test_cache(void)
{
	setenv("XDG_CACHE_HOME", at("cache"), 1);
	char dir[1024], want[1024];
	struct mote_err err = {0};
	int r = mote_rootfs_cache_dir(dir, sizeof(dir), &err);
	snprintf(want, sizeof(want), "%s/mote/rootfs", at("cache"));
	check("cache-dir-xdg", r == 0 && !strcmp(dir, want), "got '%s' (%s)", dir, err.msg);

	char first[1024], second[1024], third[1024];
	if (cached("cache-first", at("root"), first) < 0)
		return;
	struct stat st1, st2, dst;
	check("cache-image-in-cache-dir",
	      !strncmp(first, dir, strlen(dir)) && first[strlen(dir)] == '/' &&
		  strlen(first) == strlen(dir) + 70 && !strcmp(first + strlen(first) - 5, ".cpio"),
	      "image at %s", first);
	check("cache-dir-mode-0700",
	      stat(dir, &dst) == 0 && (dst.st_mode & 0777) == 0700 && stat(at("cache/mote"), &dst) == 0 &&
		  (dst.st_mode & 0777) == 0700,
	      "mode %o", dst.st_mode & 0777);
	check_image("cache-image-entries", first, tree_want, NWANT(tree_want));

	must(stat(first, &st1) == 0, first);
	usleep(20000); /* a rewrite would get a visibly newer mtime */
	if (cached("cache-hit", at("root"), second) < 0)
		return;
	must(stat(second, &st2) == 0, second);
	check("cache-hit-same-path", !strcmp(first, second), "%s then %s", first, second);
	check("cache-hit-not-rewritten", same_file(&st1, &st2), "inode or mtime changed");

	/* Same size, new content: the mtime and ctime change, so does the key. */
	write_file(at("root/a/b"), "IN A\n", 0644);
	if (cached("cache-content-change", at("root"), third) < 0)
		return;
	check("cache-content-change-new-key", strcmp(first, third) != 0, "same image %s", third);
	static const char *const new_b = "IN A\n";
	size_t size = 0;
	uint8_t *img = slurp(third, &size);
	size_t off = 0;
	struct mote_cpio_entry e;
	int found = 0;
	while (img && mote_cpio_next(img, size, &off, &e) == MOTE_CPIO_ENTRY)
		if (!strcmp(e.name, "a/b"))
			found = e.size == 5 && !memcmp(e.data, new_b, 5);
	free(img);
	check("cache-content-change-repacked", found, "image holds the old a/b");

	/* Metadata only: a chmod, a new empty file, a rename, a new symlink target. */
	static const char *const steps[] = {"chmod", "new-file", "rename", "relink"};
	char prev[1024], next[1024];
	snprintf(prev, sizeof(prev), "%s", third);
	for (size_t i = 0; i < NWANT(steps); i++) {
		switch (i) {
		case 0: must(chmod(at("root/a-c"), 0640) == 0, "chmod"); break;
		case 1: write_file(at("root/etc/new"), "", 0644); break;
		case 2: must(rename(at("root/etc/new"), at("root/etc/new2")) == 0, "rename"); break;
		default:
			must(unlink(at("root/bin/link")) == 0 && symlink("sh2", at("root/bin/link")) == 0,
			     "relink");
			break;
		}
		char name[64];
		snprintf(name, sizeof(name), "cache-sees-%s", steps[i]);
		if (cached(name, at("root"), next) < 0)
			return;
		check(name, strcmp(prev, next) != 0, "same key after %s", steps[i]);
		snprintf(prev, sizeof(prev), "%s", next);
	}

	/* Files: a hit, then a rebuilt program (new inode) gets a new image. */
	struct mote_rootfs_file f = {at("f1"), "busybox"};
	char a[1024], b[1024], c[1024];
	int ok = mote_rootfs_cached_files(&f, 1, a, sizeof(a), &err) == 0;
	ok = ok && mote_rootfs_cached_files(&f, 1, b, sizeof(b), &err) == 0;
	check("cache-files-hit", ok && !strcmp(a, b), "%s", ok ? "different paths" : err.msg);
	struct mote_rootfs_file g = {at("f1"), "other-name"};
	ok = mote_rootfs_cached_files(&g, 1, c, sizeof(c), &err) == 0;
	check("cache-files-guest-path-in-key", ok && strcmp(a, c) != 0, "%s", ok ? "same key" : err.msg);
	write_file(at("f1.new"), "rebuilt busybox", 0755);
	must(rename(at("f1.new"), at("f1")) == 0, "rename");
	ok = mote_rootfs_cached_files(&f, 1, c, sizeof(c), &err) == 0;
	check("cache-files-rebuilt", ok && strcmp(a, c) != 0, "%s", ok ? "same key" : err.msg);

	int temps, n = count_files(dir, &temps);
	check("cache-no-temp-files", n > 0 && temps == 0, "%d files, %d temporary", n, temps);

	/* Errors: a missing tree, a cache location that is a file. */
	err = (struct mote_err){0};
	r = mote_rootfs_cached_dir(at("no-such-dir"), a, sizeof(a), &err);
	check("cache-missing-dir", r < 0 && err_names(&err, at("no-such-dir")), "r %d: %s", r, err.msg);
	write_file(at("cachefile"), "not a directory", 0644);
	setenv("XDG_CACHE_HOME", at("cachefile"), 1);
	err = (struct mote_err){0};
	r = mote_rootfs_cached_dir(at("root"), a, sizeof(a), &err);
	check("cache-unusable-dir", r < 0 && err_names(&err, at("cachefile")), "r %d: %s", r, err.msg);

	/* Where the cache lives without XDG_CACHE_HOME, or with a relative one. */
	setenv("XDG_CACHE_HOME", "relative/dir", 1);
	setenv("HOME", at("home"), 1);
	r = mote_rootfs_cache_dir(dir, sizeof(dir), &err);
	snprintf(want, sizeof(want), "%s/.cache/mote/rootfs", at("home"));
	check("cache-dir-home", r == 0 && !strcmp(dir, want), "got '%s'", dir);
	r = mote_rootfs_cached_dir(at("root"), a, sizeof(a), &err);
	check("cache-creates-home-cache", r == 0 && !strncmp(a, want, strlen(want)), "r %d %s: %s", r, a,
	      err.msg);
	unsetenv("XDG_CACHE_HOME");
	unsetenv("HOME");
	err = (struct mote_err){0};
	r = mote_rootfs_cache_dir(dir, sizeof(dir), &err);
	check("cache-dir-no-home", r < 0 && err.status == MOTE_STATUS_ROOTFS && err.msg[0], "r %d", r);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	umask(022);
	snprintf(tmp, sizeof(tmp), "/tmp/mote-test-rootfs.XXXXXX");
	must(mkdtemp(tmp) != NULL, "mkdtemp");
	must(mkdir(at("out"), 0755) == 0, "out");
	make_tree(at("root"));

	test_pack_dir();
	test_pack_files();
	test_errors();
	test_unreadable();
	test_cache();

	char cmd[256];
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx %s 2>/dev/null; rm -rf %s", tmp, tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
	return failures ? 1 : 0;
}
