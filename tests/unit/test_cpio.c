/* Unit test of lib/cpio.c: archives from three writers and malformed ones, each ending at a guard page. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpio.h"
#include "err.h"
#include "rootfs.h"

#include "check.h"
#include "slurp.h"
#include "guard.h"

/* Append a newc entry; fields beyond the usual ones are zero. Returns the new length. */
static size_t put_entry(uint8_t *buf, size_t off, const char *name, uint32_t ino, uint32_t mode,
			uint32_t mtime, const void *data, uint32_t size)
{
	uint32_t namesize = (uint32_t)strlen(name) + 1;
	char hdr[MOTE_CPIO_HEADER_SIZE + 1];
	snprintf(hdr, sizeof(hdr), "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", ino, mode,
		 0u, 0u, 1u, mtime, size, 0u, 0u, 0u, 0u, namesize, 0u);
	memcpy(buf + off, hdr, MOTE_CPIO_HEADER_SIZE);
	off += MOTE_CPIO_HEADER_SIZE;
	memcpy(buf + off, name, namesize);
	off += namesize;
	while (off % 4)
		buf[off++] = 0;
	if (size)
		memcpy(buf + off, data, size);
	off += size;
	while (off % 4)
		buf[off++] = 0;
	return off;
}

/* A small valid archive: a file, a directory, a symlink, an empty file, the trailer. */
static size_t sample(uint8_t *buf)
{
	size_t off = 0;
	off = put_entry(buf, off, "hello", 1, 0100644, 1700000000, "hi\n", 3);
	off = put_entry(buf, off, "dir", 2, 040755, 5, NULL, 0);
	off = put_entry(buf, off, "dir/link", 3, 0120777, 6, "../hello", 8);
	off = put_entry(buf, off, "dir/empty", 4, 0100600, 7, NULL, 0);
	return put_entry(buf, off, MOTE_CPIO_TRAILER, 0, 0, 0, NULL, 0);
}

/* Read every entry; returns the final result and stores the number of entries read. */
static int read_all(const uint8_t *img, size_t size, int *count)
{
	size_t off = 0;
	struct mote_cpio_entry e;
	int r;
	*count = 0;
	while ((r = mote_cpio_next(img, size, &off, &e)) == MOTE_CPIO_ENTRY) {
		if (off > size || ++*count > 100000)
			return 99;
	}
	return r;
}

static void test_valid(void)
{
	uint8_t buf[1024];
	size_t size = sample(buf);
	struct guarded g = guard(buf, size);
	size_t off = 0;
	struct mote_cpio_entry e;

	int r = mote_cpio_next(g.data, size, &off, &e);
	check("valid-file",
	      r == MOTE_CPIO_ENTRY && !strcmp(e.name, "hello") && e.name_len == 5 && e.mode == 0100644 &&
		  e.mtime == 1700000000 && e.ino == 1 && e.nlink == 1 && e.uid == 0 && e.size == 3 &&
		  !memcmp(e.data, "hi\n", 3) && off % 4 == 0,
	      "r %d name '%s' mode %o size %llu", r, r == MOTE_CPIO_ENTRY ? e.name : "", e.mode,
	      (unsigned long long)e.size);
	r = mote_cpio_next(g.data, size, &off, &e);
	check("valid-dir", r == MOTE_CPIO_ENTRY && !strcmp(e.name, "dir") && e.mode == 040755 && e.size == 0,
	      "r %d", r);
	r = mote_cpio_next(g.data, size, &off, &e);
	check("valid-symlink",
	      r == MOTE_CPIO_ENTRY && !strcmp(e.name, "dir/link") && e.size == 8 &&
		  !memcmp(e.data, "../hello", 8),
	      "r %d", r);
	r = mote_cpio_next(g.data, size, &off, &e);
	check("valid-empty-file", r == MOTE_CPIO_ENTRY && !strcmp(e.name, "dir/empty") && e.size == 0, "r %d",
	      r);
	r = mote_cpio_next(g.data, size, &off, &e);
	check("valid-trailer-is-end", r == MOTE_CPIO_END && off == size && !strcmp(e.name, MOTE_CPIO_TRAILER),
	      "r %d off %zu size %zu", r, off, size);
	unguard(&g);

	/* Upper-case hex digits are hex too. */
	uint8_t up[256];
	size_t n = put_entry(up, 0, "x", 0xab, 0100644, 0, "1", 1);
	memcpy(up + 6, "000000AB", 8);
	g = guard(up, n);
	off = 0;
	r = mote_cpio_next(g.data, n, &off, &e);
	check("valid-upper-case-hex", r == MOTE_CPIO_ENTRY && e.ino == 0xab, "r %d ino %x", r, e.ino);
	unguard(&g);

	/* An archive that stops right after an entry's data, without padding: the offset stays in bounds. */
	n = put_entry(up, 0, "abc", 1, 0100644, 0, "z", 1) - 3;
	g = guard(up, n);
	off = 0;
	r = mote_cpio_next(g.data, n, &off, &e);
	int r2 = mote_cpio_next(g.data, n, &off, &e);
	check("valid-unpadded-end", r == MOTE_CPIO_ENTRY && off == n && r2 == MOTE_CPIO_CORRUPT,
	      "r %d off %zu n %zu then %d", r, off, n, r2);
	unguard(&g);
}

/* Every strict prefix of a valid archive is corrupt after the entries it holds whole, never an over-read. */
static void test_prefixes(void)
{
	uint8_t buf[1024];
	size_t size = sample(buf);
	int bad = 0, count;
	size_t first_bad = 0;
	for (size_t len = 0; len <= size; len++) {
		struct guarded g = guard(buf, len);
		int r = read_all(g.data, len, &count);
		unguard(&g);
		int want = len == size ? MOTE_CPIO_END : MOTE_CPIO_CORRUPT;
		if (r != want && !bad++)
			first_bad = len;
	}
	check("every-prefix-at-guard-page", !bad, "%d prefixes wrong, first of %zu bytes", bad, first_bad);
}

static void expect_corrupt(const char *name, const uint8_t *bytes, size_t len, size_t offset)
{
	struct guarded g = guard(bytes, len);
	size_t off = offset;
	struct mote_cpio_entry e;
	int r = mote_cpio_next(g.data, len, &off, &e);
	check(name, r == MOTE_CPIO_CORRUPT && off == offset, "result %d, offset %zu -> %zu", r, offset, off);
	unguard(&g);
}

/* Set header field `i` (0 = ino ... 12 = check) of the entry at buf to `text` (8 characters). */
static void set_field(uint8_t *buf, int i, const char *text)
{
	memcpy(buf + 6 + 8 * i, text, 8);
}

static void test_malformed(void)
{
	uint8_t base[1024], b[1024];
	size_t size = sample(base);
	char name[64];

	expect_corrupt("empty-input", base, 0, 0);
	expect_corrupt("truncated-header", base, MOTE_CPIO_HEADER_SIZE - 1, 0);
	expect_corrupt("header-without-name", base, MOTE_CPIO_HEADER_SIZE, 0);
	expect_corrupt("offset-at-end", base, size, size);
	expect_corrupt("offset-past-end", base, size, size + 4);
	expect_corrupt("offset-near-size-max", base, size, SIZE_MAX - 2);

	static const char *const magics[] = {"070702", "070707", "070700", "170701", "07070", "\0\0\0\0\0\0"};
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
		memcpy(b, base, size);
		memcpy(b, magics[i], 6);
		snprintf(name, sizeof(name), "bad-magic-%zu", i);
		expect_corrupt(name, b, size, 0);
	}

	/* A non-hex character in each field, at its first and its last digit. */
	static const char *const junk[] = {"g", " ", "-", "x", "\0"};
	int bad = 0;
	for (int field = 0; field < 13; field++) {
		for (int pos = 0; pos < 8; pos += 7) {
			for (size_t j = 0; j < sizeof(junk) / sizeof(junk[0]); j++) {
				memcpy(b, base, size);
				b[6 + 8 * field + pos] = (uint8_t)junk[j][0];
				struct guarded g = guard(b, size);
				size_t off = 0;
				struct mote_cpio_entry e;
				if (mote_cpio_next(g.data, size, &off, &e) != MOTE_CPIO_CORRUPT)
					bad++;
				unguard(&g);
			}
		}
	}
	check("non-hex-field", !bad, "%d of 130 non-hex fields accepted", bad);
	memcpy(b, base, size);
	set_field(b, 1, "0x100644");
	expect_corrupt("non-hex-0x-prefix", b, size, 0);

	/* The name: its last byte must be NUL, and it must fit. */
	memcpy(b, base, size);
	b[MOTE_CPIO_HEADER_SIZE + 5] = 'X'; /* the NUL of "hello" */
	expect_corrupt("name-without-nul", b, size, 0);
	memcpy(b, base, size);
	set_field(b, 11, "00000005"); /* "hello" without its NUL */
	expect_corrupt("namesize-excludes-nul", b, size, 0);
	memcpy(b, base, size);
	set_field(b, 11, "00000000");
	expect_corrupt("namesize-zero", b, size, 0);
	memcpy(b, base, size);
	set_field(b, 11, "ffffffff");
	expect_corrupt("namesize-huge", b, size, 0);
	/* A name that reaches exactly the end of the input, NUL included, but not its padding. */
	uint8_t t[256];
	size_t n = put_entry(t, 0, "ab", 1, 0100644, 0, NULL, 0);
	expect_corrupt("name-at-end-without-padding", t, n - 3, 0);
	memcpy(b, base, size);
	set_field(b, 11, "00000007"); /* one byte past the NUL, which the guard page follows */
	expect_corrupt("namesize-past-end", b, MOTE_CPIO_HEADER_SIZE + 6, 0);

	/* The data must lie inside the input. */
	memcpy(b, base, size);
	set_field(b, 6, "00010000");
	expect_corrupt("filesize-past-end", b, size, 0);
	memcpy(b, base, size);
	set_field(b, 6, "ffffffff");
	expect_corrupt("filesize-huge", b, size, 0);
	expect_corrupt("data-missing", base, MOTE_CPIO_HEADER_SIZE + 6, 0);
	expect_corrupt("data-cut-short", base, MOTE_CPIO_HEADER_SIZE + 6 + 2, 0);

	/* A corrupt second entry after a good first one. */
	memcpy(b, base, size);
	struct guarded g = guard(b, size);
	size_t off = 0;
	struct mote_cpio_entry e;
	mote_cpio_next(g.data, size, &off, &e);
	unguard(&g);
	memcpy(b + off, "070701zz", 8);
	expect_corrupt("corrupt-second-entry", b, size, off);

	/* A trailer-like name that is not the trailer is an entry. */
	n = put_entry(t, 0, "TRAILER!!", 1, 0100644, 0, NULL, 0);
	g = guard(t, n);
	off = 0;
	int r = mote_cpio_next(g.data, n, &off, &e);
	check("near-trailer-name-is-entry", r == MOTE_CPIO_ENTRY, "result %d", r);
	unguard(&g);
	n = put_entry(t, 0, "TRAILER!!!x", 1, 0100644, 0, NULL, 0);
	g = guard(t, n);
	off = 0;
	r = mote_cpio_next(g.data, n, &off, &e);
	check("longer-trailer-name-is-entry", r == MOTE_CPIO_ENTRY, "result %d", r);
	unguard(&g);
}

/* Archives from our packer and from busybox cpio read to the end, every prefix at a guard page. */
static void test_writers(void)
{
	char dir[] = "/tmp/mote-test-cpio.XXXXXX";
	if (!mkdtemp(dir)) {
		check("writers-setup", 0, "mkdtemp failed");
		return;
	}
	char path[512], image[512], cmd[2048];
	snprintf(path, sizeof(path), "%s/prog", dir);
	FILE *f = fopen(path, "w");
	if (f) {
		for (int i = 0; i < 1000; i++)
			fprintf(f, "line %d\n", i);
		fclose(f);
	}
	snprintf(image, sizeof(image), "%s/packed.cpio", dir);
	struct mote_rootfs_file file = {path, "usr/bin/prog"};
	struct mote_err err = {0};
	int r = mote_rootfs_pack_files(&file, 1, image, &err);
	size_t size = 0;
	uint8_t *img = r == 0 ? slurp(image, &size) : NULL;
	int count = 0;
	if (img) {
		struct guarded g = guard(img, size);
		r = read_all(g.data, size, &count);
		unguard(&g);
		free(img);
	}
	check("packer-output-reads", img && r == MOTE_CPIO_END && count == 3, "%s; result %d, %d entries",
	      img ? "read" : err.msg, r, count);

	if (access("/bin/busybox", X_OK) != 0) {
		printf("SKIP busybox-cpio-output-reads: no /bin/busybox\n");
	} else {
		snprintf(image, sizeof(image), "%s/busybox.cpio", dir);
		snprintf(
		    cmd, sizeof(cmd),
		    "cd %s && mkdir -p d/e && ln -sf ../prog d/e/l && printf 'prog\\nd\\nd/e\\nd/e/l\\n' | "
		    "/bin/busybox cpio -o -H newc > %s 2>/dev/null",
		    dir, image);
		int rc = system(cmd);
		img = rc == 0 ? slurp(image, &size) : NULL;
		count = 0;
		r = -2;
		int prefixes_bad = 0;
		if (img) {
			struct guarded g = guard(img, size);
			r = read_all(g.data, size, &count);
			unguard(&g);
			/* busybox pads the archive to 512 bytes after the trailer; the prefixes of interest
			 * end at it. */
			for (size_t len = 0; len < size; len += 7) {
				g = guard(img, len);
				int c;
				int pr = read_all(g.data, len, &c);
				unguard(&g);
				if (pr != MOTE_CPIO_CORRUPT && pr != MOTE_CPIO_END)
					prefixes_bad++;
			}
			free(img);
		}
		check("busybox-cpio-output-reads", img && r == MOTE_CPIO_END && count == 4 && !prefixes_bad,
		      "rc %d, result %d, %d entries, %d bad prefixes", rc, r, count, prefixes_bad);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_valid();
	test_prefixes();
	test_malformed();
	test_writers();
	return failures ? 1 : 0;
}
