/* Unit test of the guest kernel's attach handling, run on the host: /fn (read-only mount) and
 * /dev/mote/invoke. */
// guest-modules: guest/vfs.c guest/fd.c guest/fs.c guest/pipe.c guest/uaccess.c guest/attach.c guest/tty.c
// guest-modules: guest/poll.c
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "fd.h"
#include "linux.h"
#include "poll.h"
#include "vfs.h"

#include "cpio.c" /* lib/cpio.c: the guest modules' image reader */
#include "guest_shim.c"
#include "invoke_region.c" /* lib/invoke_region.c: the header check */

#define U(p) ((uint64_t)(uintptr_t)(p))
#define FDCWD ((uint64_t)(int64_t)AT_FDCWD)
#define PAGE 4096ull

#include "check.h"

#define EXPECT_EQ(name, got, want)                                                                           \
	do {                                                                                                 \
		long got_ = (long)(got), want_ = (long)(want);                                               \
		check(name, got_ == want_, "%s is %ld, expected %ld", #got, got_, want_);                    \
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

static void add(struct image *im, const char *name, uint32_t mode, const void *data, size_t size)
{
	static uint32_t ino = 500;
	char hdr[128];
	snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", ino++,
		 mode, 0u, 0u, 1u, 1700000000u, size, 0u, 0u, 0u, 0u, strlen(name) + 1, 0u);
	put(im, hdr, 110);
	put(im, name, strlen(name) + 1);
	image_pad4(im);
	put(im, data, size);
	image_pad4(im);
}

static struct image bundle(const char *text)
{
	struct image im = {0};
	add(&im, ".", S_IFDIR | 0755, "", 0);
	add(&im, "a.txt", S_IFREG | 0644, text, strlen(text));
	add(&im, "sub", S_IFDIR | 0755, "", 0);
	add(&im, "sub/b", S_IFREG | 0600, "bee", 3);
	add(&im, "link", S_IFLNK | 0777, "a.txt", 5);
	add(&im, MOTE_CPIO_TRAILER, 0, "", 0);
	return im;
}

/* ---- a fake monitor and supervisor ------------------------------------------------------------ */

static struct mote_boot_info bi;

/* An invoke region in host memory: header page, then the request and response areas. */
static uint8_t *new_region(uint64_t req_cap, uint64_t resp_cap, uint64_t *size)
{
	*size = PAGE + ALIGN_UP(req_cap, PAGE) + ALIGN_UP(resp_cap, PAGE);
	uint8_t *r = aligned_alloc(PAGE, *size);
	memset(r, 0, *size);
	struct mote_invoke_region *h = (struct mote_invoke_region *)r;
	h->magic = MOTE_INVOKE_MAGIC;
	h->version = MOTE_INVOKE_VERSION;
	h->size = *size;
	h->req_off = PAGE;
	h->req_cap = req_cap;
	h->resp_off = PAGE + ALIGN_UP(req_cap, PAGE);
	h->resp_cap = resp_cap;
	return r;
}

static struct mote_invoke_region *hdr_of(uint8_t *r)
{
	return (struct mote_invoke_region *)r;
}

/* A restore: generation `gen`, with what is attached to it (NULLs: nothing). */
static void restore(uint64_t gen, const struct image *b, uint8_t *region, uint64_t region_size)
{
	shim_set_generation(gen);
	memset(&bi.attach, 0, sizeof(bi.attach));
	if (!b && !region)
		return;
	bi.attach.generation = gen;
	if (b) {
		bi.attach.bundle_gpa = U(b->data);
		bi.attach.bundle_size = b->len;
	}
	if (region) {
		bi.attach.invoke_gpa = U(region);
		bi.attach.invoke_size = region_size;
	}
}

/* What the monitor saw at each MOTE_HC_INVOKE, and what the supervisor answers with. */
static struct {
	uint8_t *region;
	unsigned calls;
	uint64_t seen_seq, seen_len;
	char seen[256];
	const char *next;   /* the next request, or NULL: answer with `ret` only */
	uint64_t next_len;  /* overrides strlen(next) when not 0 */
	int64_t ret;	    /* the call's result */
	void (*also)(void); /* something else to do during the call (a restore) */
} mon;

static uint64_t seq;

static void monitor(unsigned nr, void *arg)
{
	if (nr != MOTE_HC_INVOKE)
		return;
	struct mote_hc_invoke *c = arg;
	mon.calls++;
	struct mote_invoke_region *h = hdr_of(mon.region);
	mon.seen_seq = h->resp_seq;
	mon.seen_len = h->resp_len;
	memset(mon.seen, 0, sizeof(mon.seen));
	memcpy(mon.seen, mon.region + h->resp_off, h->resp_len < 255 ? h->resp_len : 255);
	if (mon.also) {
		void (*fn)(void) = mon.also;
		mon.also = NULL;
		fn(); /* a snapshot restored here: ret stays what the guest set */
		return;
	}
	if (mon.next) {
		size_t len = mon.next_len ? mon.next_len : strlen(mon.next);
		memcpy(mon.region + h->req_off, mon.next, strlen(mon.next));
		h->req_len = len;
		h->req_seq = ++seq;
		mon.next = NULL;
		mon.next_len = 0;
	}
	c->ret = mon.ret;
}

static long xopen(const char *path, uint64_t flags)
{
	return sys_open(U(path), flags, 0644);
}

static long slurp(const char *path, char *buf, size_t size)
{
	long fd = xopen(path, O_RDONLY);
	if (fd < 0)
		return fd;
	long n = sys_read((uint64_t)fd, U(buf), size - 1);
	sys_close((uint64_t)fd);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

/* ---- the checks ------------------------------------------------------------------------------ */

static void test_nothing_attached(void)
{
	struct linux_stat st;
	EXPECT_EQ("no attach: /dev/mote/invoke is ENODEV", xopen("/dev/mote/invoke", O_RDWR), -ENODEV);
	EXPECT_EQ("no attach: no /fn", sys_stat(U("/fn"), U(&st)), -ENOENT);
	EXPECT_EQ("the device node exists", sys_stat(U("/dev/mote/invoke"), U(&st)), 0);
	check("it is char device 10:242, mode 0600",
	      st.st_mode == (S_IFCHR | 0600) && st.st_rdev == ((10 << 8) | 242), "mode %o rdev %#lx",
	      st.st_mode, (unsigned long)st.st_rdev);
	/* An attach block of another generation is not this clone's. */
	struct image b = bundle("stale");
	uint64_t rs;
	uint8_t *r = new_region(PAGE, PAGE, &rs);
	restore(1, &b, r, rs);
	bi.attach.generation = 7;
	attach_refresh();
	EXPECT_EQ("an attach block of another generation is ignored", sys_stat(U("/fn"), U(&st)), -ENOENT);
	EXPECT_EQ("... and gives no channel", xopen("/dev/mote/invoke", O_RDWR), -ENODEV);
	free(r);
	free(b.data);
}

static void test_fn_read_only(void)
{
	char buf[64];
	struct linux_stat st, root;
	EXPECT_EQ("read /fn/a.txt", slurp("/fn/a.txt", buf, sizeof(buf)), 5);
	check("its bytes", strcmp(buf, "first") == 0, "'%s'", buf);
	EXPECT_EQ("read /fn/sub/b", slurp("/fn/sub/b", buf, sizeof(buf)), 3);
	EXPECT_EQ("read through /fn/link", slurp("/fn/link", buf, sizeof(buf)), 5);
	sys_stat(U("/fn/a.txt"), U(&st));
	sys_stat(U("/"), U(&root));
	check("/fn has its own st_dev", st.st_dev == VFS_RO_DEV_ID && root.st_dev == VFS_DEV_ID,
	      "%#lx vs %#lx", (unsigned long)st.st_dev, (unsigned long)root.st_dev);
	check("modes and times from the image",
	      st.st_mode == (S_IFREG | 0644) && st.st_mtim.tv_sec == 1700000000, "mode %o mtime %ld",
	      st.st_mode, (long)st.st_mtim.tv_sec);

	EXPECT_EQ("open O_WRONLY: EROFS", xopen("/fn/a.txt", O_WRONLY), -EROFS);
	EXPECT_EQ("open O_RDWR|O_TRUNC: EROFS", xopen("/fn/a.txt", O_RDWR | O_TRUNC), -EROFS);
	EXPECT_EQ("create: EROFS", xopen("/fn/new", O_WRONLY | O_CREAT), -EROFS);
	EXPECT_EQ("O_TMPFILE: EROFS", xopen("/fn", O_RDWR | O_TMPFILE), -EROFS);
	EXPECT_EQ("mkdir: EROFS", sys_mkdir(U("/fn/d"), 0755), -EROFS);
	EXPECT_EQ("mkdir of an existing name: EEXIST", sys_mkdir(U("/fn/sub"), 0755), -EEXIST);
	EXPECT_EQ("symlink: EROFS", sys_symlink(U("x"), U("/fn/s")), -EROFS);
	EXPECT_EQ("unlink: EROFS", sys_unlink(U("/fn/a.txt")), -EROFS);
	EXPECT_EQ("unlink of a missing name: EROFS", sys_unlink(U("/fn/none")), -EROFS);
	EXPECT_EQ("rmdir: EROFS", sys_rmdir(U("/fn/sub")), -EROFS);
	EXPECT_EQ("rename inside: EROFS", sys_rename(U("/fn/a.txt"), U("/fn/b.txt")), -EROFS);
	EXPECT_EQ("rename out: EXDEV", sys_rename(U("/fn/a.txt"), U("/tmp/a")), -EXDEV);
	EXPECT_EQ("link out: EXDEV", sys_link(U("/fn/a.txt"), U("/tmp/a")), -EXDEV);
	long fd = xopen("/tmp/t", O_WRONLY | O_CREAT);
	sys_close((uint64_t)fd);
	EXPECT_EQ("link in: EROFS", sys_link(U("/tmp/t"), U("/fn/t")), -EROFS);
	EXPECT_EQ("rename in: EXDEV", sys_rename(U("/tmp/t"), U("/fn/t")), -EXDEV);
	EXPECT_EQ("truncate: EROFS", sys_truncate(U("/fn/a.txt"), 0), -EROFS);
	EXPECT_EQ("chmod: EROFS", sys_chmod(U("/fn/a.txt"), 0600), -EROFS);
	EXPECT_EQ("chown: EROFS", sys_chown(U("/fn/a.txt"), 0, 0), -EROFS);
	EXPECT_EQ("utimensat: EROFS", sys_utimensat(FDCWD, U("/fn/a.txt"), 0, 0), -EROFS);
	EXPECT_EQ("access W_OK: EROFS", sys_access(U("/fn/a.txt"), 2), -EROFS);
	EXPECT_EQ("access R_OK", sys_access(U("/fn/a.txt"), 4), 0);
	EXPECT_EQ("rmdir /fn: EBUSY", sys_rmdir(U("/fn")), -EBUSY);
	EXPECT_EQ("rename /fn: EBUSY", sys_rename(U("/fn"), U("/x")), -EBUSY);
	EXPECT_EQ("rename over /fn: EBUSY", sys_rename(U("/tmp"), U("/fn")), -EBUSY);
	struct linux_statfs sf;
	EXPECT_EQ("statfs /fn", sys_statfs(U("/fn"), U(&sf)), 0);
	check("statfs /fn: ST_RDONLY", (sf.f_flags & ST_RDONLY) != 0, "f_flags %#lx", (long)sf.f_flags);
	fd = xopen("/fn/a.txt", O_RDONLY);
	EXPECT_EQ("fchmod: EROFS", sys_fchmod((uint64_t)fd, 0600), -EROFS);
	EXPECT_EQ("fchown: EROFS", sys_fchown((uint64_t)fd, 0, 0), -EROFS);
	EXPECT_EQ("fstatfs: ST_RDONLY", sys_fstatfs((uint64_t)fd, U(&sf)) == 0 && (sf.f_flags & ST_RDONLY),
		  1);
	sys_close((uint64_t)fd);
}

static void test_device(uint8_t *region, uint64_t cap)
{
	char buf[256];
	mon.region = region;
	mon.ret = 0;
	long fd = xopen("/dev/mote/invoke", O_RDWR);
	check("open /dev/mote/invoke", fd >= 0, "fd %ld", fd);
	int32_t n = -1;
	EXPECT_EQ("FIONREAD before any request", sys_ioctl((uint64_t)fd, 0x541b, U(&n)), 0);
	EXPECT_EQ("... is 0", n, 0);
	struct linux_pollfd p = {.fd = (int)fd, .events = POLLIN | POLLOUT};
	EXPECT_EQ("poll: ready", sys_poll(U(&p), 1, 0), 1);
	EXPECT_EQ("poll: writable, not readable", p.revents, POLLOUT);
	EXPECT_EQ("lseek: ESPIPE", sys_lseek((uint64_t)fd, 0, 0), -ESPIPE);
	EXPECT_EQ("pread: ESPIPE", sys_pread64((uint64_t)fd, U(buf), 1, 0), -ESPIPE);
	EXPECT_EQ("pwrite: ESPIPE", sys_pwrite64((uint64_t)fd, U(buf), 1, 0), -ESPIPE);
	EXPECT_EQ("write the first message", sys_write((uint64_t)fd, U("ready"), 5), 5);
	uint8_t *big = calloc(1, cap + 1);
	EXPECT_EQ("a write past resp_cap: EMSGSIZE", sys_write((uint64_t)fd, U(big), cap), -EMSGSIZE);
	EXPECT_EQ("no exit yet", mon.calls, 0);

	mon.next = "hello world";
	EXPECT_EQ("read 4 bytes: waits for the first request", sys_read((uint64_t)fd, U(buf), 4), 4);
	EXPECT_EQ("... one exit", mon.calls, 1);
	check("... which handed over the first message",
	      mon.seen_seq == 0 && mon.seen_len == 5 && strcmp(mon.seen, "ready") == 0,
	      "seq %lu len %lu '%s'", (unsigned long)mon.seen_seq, (unsigned long)mon.seen_len, mon.seen);
	check("... and returned the request's start", memcmp(buf, "hell", 4) == 0, "'%.4s'", buf);
	EXPECT_EQ("FIONREAD: the unread rest", sys_ioctl((uint64_t)fd, 0x541b, U(&n)) == 0 ? n : -1, 7);
	EXPECT_EQ("poll: readable now", sys_poll(U(&p), 1, 0) == 1 ? p.revents : -1, POLLIN | POLLOUT);
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ("read the rest", sys_read((uint64_t)fd, U(buf), sizeof(buf)), 7);
	check("... without an exit", mon.calls == 1 && strcmp(buf, "o world") == 0, "calls %u '%s'",
	      mon.calls, buf);

	/* The response in two writes; the next read hands it over and gets an empty request. */
	EXPECT_EQ("write part 1", sys_write((uint64_t)fd, U("resp"), 4), 4);
	EXPECT_EQ("write part 2", sys_write((uint64_t)fd, U("onse"), 4), 4);
	EXPECT_EQ("a write of the whole area now: EMSGSIZE", sys_write((uint64_t)fd, U(big), cap), -EMSGSIZE);
	free(big);
	mon.next = "";
	EXPECT_EQ("an empty request reads as 0", sys_read((uint64_t)fd, U(buf), sizeof(buf)), 0);
	check("the response was handed over with its request's seq",
	      mon.calls == 2 && mon.seen_seq == 1 && mon.seen_len == 8 && strcmp(mon.seen, "response") == 0,
	      "calls %u seq %lu len %lu '%s'", mon.calls, (unsigned long)mon.seen_seq,
	      (unsigned long)mon.seen_len, mon.seen);

	/* A request longer than req_cap (a hostile host) is dropped with EIO. */
	mon.next = "x";
	mon.next_len = cap + 1;
	EXPECT_EQ("a request past req_cap: EIO", sys_read((uint64_t)fd, U(buf), sizeof(buf)), -EIO);
	check("an empty response answered the empty request",
	      mon.calls == 3 && mon.seen_seq == 2 && mon.seen_len == 0, "calls %u seq %lu len %lu", mon.calls,
	      (unsigned long)mon.seen_seq, (unsigned long)mon.seen_len);

	/* readv: only its first buffer may wait. */
	mon.next = "abcdef";
	char a[3], b[10] = {0};
	struct linux_iovec iov[2] = {{U(a), 3}, {U(b), sizeof(b)}};
	EXPECT_EQ("readv across two buffers", sys_readv((uint64_t)fd, U(iov), 2), 6);
	check("... one exit, the bytes in order",
	      mon.calls == 4 && memcmp(a, "abc", 3) == 0 && strcmp(b, "def") == 0, "calls %u", mon.calls);
	mon.next = "xyz";
	EXPECT_EQ("readv whose first buffer takes the whole request", sys_readv((uint64_t)fd, U(iov), 2), 3);
	EXPECT_EQ("... does not wait for another", mon.calls, 5);

	/* The monitor's error comes back to the reader. */
	mon.ret = -MOTE_ENODEV;
	EXPECT_EQ("the monitor's -ENODEV", sys_read((uint64_t)fd, U(buf), sizeof(buf)), -ENODEV);
	mon.ret = 0;
	sys_close((uint64_t)fd);
}

/* The snapshot restored into during test_clone_while_waiting's wait. */
static struct image clone_bundle;
static uint8_t *clone_region;
static uint64_t clone_region_size;
static void restore_clone(void)
{
	restore(2, &clone_bundle, clone_region, clone_region_size);
	mon.region = clone_region;
}

static void test_clone_while_waiting(uint8_t *region)
{
	char buf[64];
	long fn_fd = xopen("/fn/a.txt", O_RDONLY);
	struct linux_stat before, after;
	sys_stat(U("/fn/a.txt"), U(&before));
	long fd = xopen("/dev/mote/invoke", O_RDWR);
	sys_write((uint64_t)fd, U("answer"), 6);
	clone_region = new_region(PAGE, PAGE, &clone_region_size);
	mon.region = region;
	mon.also = restore_clone;
	mon.next = "for the clone";
	unsigned calls = mon.calls;
	memset(buf, 0, sizeof(buf));
	long n = sys_read((uint64_t)fd, U(buf), sizeof(buf));
	check("a clone restored during the wait gets its own channel's request",
	      n == 13 && strcmp(buf, "for the clone") == 0, "n %ld '%s'", n, buf);
	check("... after waiting again on it with an empty first message",
	      mon.calls == calls + 2 && mon.region == clone_region && mon.seen_seq == 0 && mon.seen_len == 0,
	      "calls %u seq %lu len %lu", mon.calls - calls, (unsigned long)mon.seen_seq,
	      (unsigned long)mon.seen_len);
	sys_stat(U("/fn/a.txt"), U(&after));
	EXPECT_EQ("the same bundle keeps /fn (same inode)", after.st_ino, before.st_ino);
	memset(buf, 0, sizeof(buf));
	check("a file open before stays readable",
	      sys_read((uint64_t)fn_fd, U(buf), sizeof(buf)) == 5 && strcmp(buf, "first") == 0, "'%s'", buf);
	sys_close((uint64_t)fn_fd);
	sys_close((uint64_t)fd);
}

int main(void)
{
	struct image root = {0};
	add(&root, ".", S_IFDIR | 0755, "", 0);
	add(&root, "etc", S_IFDIR | 0755, "", 0);
	add(&root, MOTE_CPIO_TRAILER, 0, "", 0);
	if (vfs_init(root.data, root.len, "/bin/prog") < 0) {
		printf("FAIL vfs_init\n");
		return 1;
	}
	fd_init();
	bi.magic = MOTE_BOOT_MAGIC;
	bi.mem_size = PAGE; /* host heap addresses count as outside guest RAM */
	shim_set_generation(0);
	attach_init(&bi);
	shim_set_hypercall(monitor);

	test_nothing_attached();

	struct image b1 = bundle("first");
	uint64_t rsize;
	uint8_t *region = new_region(PAGE, PAGE, &rsize);
	restore(3, &b1, region, rsize);
	attach_refresh();
	test_fn_read_only();
	test_device(region, PAGE);

	/* Same bundle (same bytes at the same place) in the clone. */
	clone_bundle = b1;
	test_clone_while_waiting(region);

	/* Another bundle: /fn is mounted anew. */
	struct image b2 = bundle("other");
	uint64_t r2size;
	uint8_t *r2 = new_region(PAGE, PAGE, &r2size);
	restore(4, &b2, r2, r2size);
	char buf[64];
	attach_refresh();
	EXPECT_EQ("another bundle: /fn remounted", slurp("/fn/a.txt", buf, sizeof(buf)), 5);
	check("... with its contents", strcmp(buf, "other") == 0, "'%s'", buf);

	/* A region whose header is wrong: the channel fails with EIO. */
	hdr_of(r2)->magic = 0;
	restore(5, &b2, r2, r2size);
	EXPECT_EQ("a bad region: open EIO", xopen("/dev/mote/invoke", O_RDWR), -EIO);
	hdr_of(r2)->magic = MOTE_INVOKE_MAGIC;
	hdr_of(r2)->resp_off = PAGE;
	restore(6, &b2, r2, r2size);
	EXPECT_EQ("overlapping areas: open EIO", xopen("/dev/mote/invoke", O_RDWR), -EIO);

	/* A corrupt bundle: no /fn. */
	struct image bad = bundle("x");
	memcpy(bad.data, "070702", 6);
	restore(7, &bad, NULL, 0);
	attach_refresh();
	struct linux_stat st;
	EXPECT_EQ("a corrupt bundle is not mounted", sys_stat(U("/fn/a.txt"), U(&st)), -ENOENT);

	/* A clone with nothing attached: /fn and the channel are gone. */
	hdr_of(r2)->resp_off = PAGE * 2;
	restore(8, &b2, r2, r2size);
	long fd = xopen("/dev/mote/invoke", O_RDWR);
	check("attached again", fd >= 0 && sys_stat(U("/fn/a.txt"), U(&st)) == 0, "fd %ld", fd);
	restore(9, NULL, NULL, 0);
	attach_refresh();
	EXPECT_EQ("nothing attached: /fn gone", sys_stat(U("/fn"), U(&st)), -ENOENT);
	EXPECT_EQ("nothing attached: an open channel fd reads ENODEV", sys_read((uint64_t)fd, U(buf), 8),
		  -ENODEV);
	EXPECT_EQ("nothing attached: writes ENODEV", sys_write((uint64_t)fd, U(buf), 8), -ENODEV);
	EXPECT_EQ("nothing attached: open ENODEV", xopen("/dev/mote/invoke", O_RDWR), -ENODEV);
	sys_close((uint64_t)fd);
	free(region);
	free(r2);
	free(clone_region);
	free(b1.data);
	free(b2.data);
	free(bad.data);
	free(root.data);
	return failures ? 1 : 0;
}
