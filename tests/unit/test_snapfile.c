/* Unit test of lib/snapfile.c: CRC-32C, writer/parser round trip, and every refusal of a damaged state file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <mote/abi.h>

#include "snapfile.h"

#include "check.h"
#include "guard.h"

#define ABI MOTE_ABI_VERSION
#define HDR sizeof(struct snap_header)
#define TRL sizeof(struct snap_trailer)

static const char *kind_name(enum snap_error e)
{
	switch (e) {
	case SNAP_OK: return "OK";
	case SNAP_ERR_TRUNCATED: return "TRUNCATED";
	case SNAP_ERR_CORRUPT: return "CORRUPT";
	case SNAP_ERR_FOREIGN: return "FOREIGN";
	}
	return "?";
}

/* snap_parse over a guarded copy; `why` gets the reason (poisoned first, so an unset reason shows). */
static enum snap_error parse(const void *buf, size_t len, uint32_t abi, struct snap_parsed *out, char *why,
			     size_t why_size)
{
	struct guarded g = guard(buf, len);
	memset(why, 'Z', why_size - 1);
	why[why_size - 1] = 0;
	enum snap_error e = snap_parse(g.data, len, abi, out, why, why_size);
	unguard(&g);
	return e;
}

/* Static so the sections of a successful parse (pointers into the buffer) stay readable in the caller. */
static struct snap_parsed parsed;

/*
 * expect_refusal NAME BUF LEN ABI KIND [WORD]: snap_parse refuses with KIND, a non-empty one-line reason
 * (that contains WORD if given). Returns 1 when all held.
 */
static int expect_refusal(const char *name, const void *buf, size_t len, uint32_t abi, enum snap_error want,
			  const char *word)
{
	char why[256];
	enum snap_error e = parse(buf, len, abi, &parsed, why, sizeof(why));
	if (e != want) {
		check(name, 0, "snap_parse gave %s (%s), expected %s", kind_name(e), e ? why : "",
		      kind_name(want));
		return 0;
	}
	size_t n = strlen(why);
	if (n == 0 || why[0] == 'Z' || strchr(why, '\n') || n >= sizeof(why) - 1) {
		check(name, 0, "reason is not one non-empty line: \"%s\"", why);
		return 0;
	}
	if (word && !strstr(why, word)) {
		check(name, 0, "reason \"%s\" does not mention \"%s\"", why, word);
		return 0;
	}
	check(name, 1, "%s", "");
	return 1;
}

/* ---- building state files --------------------------------------------------------------------- */

static const uint8_t guest_data[88] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, [87] = 0xee};
static const uint8_t odd_data[13] = "thirteen byte";
static const char path_data[] = "25 bytes: any data frames"; /* 25 bytes without the NUL */

static struct snap_header sample_header(void)
{
	struct snap_header h;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, "garbage!", 8); /* snap_begin must overwrite magic, version, size and count */
	h.format_version = 99;
	h.file_size = 12345;
	h.nsections = 77;
	h.abi_version = ABI;
	for (int i = 0; i < 16; i++)
		h.id[i] = (uint8_t)(0xa0 + i);
	h.created_realtime_ns = 1700000000123456789ull;
	return h;
}

/* A valid state file with three sections (88, 13 and 25 bytes: one aligned, two padded). Caller frees. */
static uint8_t *sample(size_t *len)
{
	struct snap_writer w;
	struct snap_header h = sample_header();
	snap_begin(&w, &h);
	snap_add(&w, SNAP_SEC_GUEST, guest_data, sizeof(guest_data));
	snap_add(&w, SNAP_SEC_REGS, odd_data, sizeof(odd_data));
	snap_add(&w, SNAP_SEC_KERNEL_ID, path_data, (uint32_t)strlen(path_data));
	if (snap_finish(&w) < 0) {
		printf("FAIL sample: snap_finish failed\n");
		exit(1);
	}
	*len = w.len;
	return w.buf;
}

/* Offsets of the sample's parts. */
#define SEC1_HDR HDR
#define SEC1_DATA (SEC1_HDR + 8)
#define SEC2_HDR (SEC1_DATA + 88)
#define SEC2_DATA (SEC2_HDR + 8)
#define SEC3_HDR (SEC2_DATA + 16)
#define SEC3_DATA (SEC3_HDR + 8)
#define SAMPLE_BODY (SEC3_DATA + 32)
#define SAMPLE_LEN (SAMPLE_BODY + TRL)

static void fix_crc(uint8_t *b, size_t len)
{
	uint32_t crc = snap_crc32c(0, b, len - TRL);
	memcpy(b + len - TRL, &crc, 4);
}

static void put32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

static void put64(uint8_t *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, 8);
}

static uint8_t *dup_bytes(const uint8_t *b, size_t len, size_t extra)
{
	uint8_t *c = calloc(1, len + extra + 1);
	if (!c)
		exit(2);
	memcpy(c, b, len);
	return c;
}

/* ---- the tests ---------------------------------------------------------------------------------- */

static void test_crc(void)
{
	uint32_t c = snap_crc32c(0, "123456789", 9);
	check("crc32c known vector", c == 0xE3069283u, "CRC-32C(\"123456789\") = %08x, expected e3069283", c);
	c = snap_crc32c(snap_crc32c(0, "1234", 4), "56789", 5);
	check("crc32c continues", c == 0xE3069283u, "in two pieces: %08x", c);
	c = snap_crc32c(0, "", 0);
	check("crc32c empty", c == 0, "CRC of nothing is %08x", c);
	uint8_t zeros[32] = {0};
	c = snap_crc32c(0, zeros, sizeof(zeros));
	check("crc32c 32 zeros", c == 0x8A9136AAu, "%08x, expected 8a9136aa (RFC 3720 B.4)", c);
}

static void test_round_trip(void)
{
	size_t len;
	uint8_t *b = sample(&len);
	check("writer length", len == SAMPLE_LEN, "%zu bytes, expected %zu", len, (size_t)SAMPLE_LEN);
	check("writer length multiple of 8", len % 8 == 0, "%zu", len);

	struct snap_header h;
	memcpy(&h, b, sizeof(h));
	check("writer magic", memcmp(h.magic, SNAP_MAGIC, 8) == 0, "%.8s", h.magic);
	check("writer format version", h.format_version == SNAP_FORMAT_VERSION, "%u", h.format_version);
	check("writer file_size", h.file_size == len, "%llu, file is %zu", (unsigned long long)h.file_size,
	      len);
	check("writer nsections", h.nsections == 3, "%u", h.nsections);
	check("writer trailer magic", memcmp(b + len - 4, SNAP_TRAILER_MAGIC, 4) == 0, "%.4s", b + len - 4);
	uint32_t crc;
	memcpy(&crc, b + len - TRL, 4);
	check("writer trailer crc", crc == snap_crc32c(0, b, len - TRL), "trailer %08x", crc);

	/* The section headers and the zero padding, where the format says. */
	struct snap_section_hdr sh[3];
	memcpy(&sh[0], b + SEC1_HDR, 8);
	memcpy(&sh[1], b + SEC2_HDR, 8);
	memcpy(&sh[2], b + SEC3_HDR, 8);
	check("writer section headers",
	      sh[0].type == SNAP_SEC_GUEST && sh[0].size == 88 && sh[1].type == SNAP_SEC_REGS &&
		  sh[1].size == 13 && sh[2].type == SNAP_SEC_KERNEL_ID && sh[2].size == 25,
	      "{%u,%u} {%u,%u} {%u,%u}", sh[0].type, sh[0].size, sh[1].type, sh[1].size, sh[2].type,
	      sh[2].size);
	static const uint8_t zero[8];
	check("writer pads with zeros",
	      memcmp(b + SEC2_DATA + 13, zero, 3) == 0 && memcmp(b + SEC3_DATA + 25, zero, 7) == 0,
	      "padding bytes are not zero");

	char why[256];
	enum snap_error e = parse(b, len, ABI, &parsed, why, sizeof(why));
	check("parse valid", e == SNAP_OK, "%s: %s", kind_name(e), why);
	if (e == SNAP_OK) {
		struct snap_header want = sample_header();
		check("parsed header",
		      parsed.header.abi_version == ABI && memcmp(parsed.header.id, want.id, 16) == 0 &&
			  parsed.header.created_realtime_ns == want.created_realtime_ns &&
			  parsed.header.file_size == len && parsed.header.nsections == 3,
		      "header fields differ");
		check("parsed nsections", parsed.nsections == 3, "%u", parsed.nsections);
	}
	/* Sections come back byte-exact, in order, from a buffer that is still ours. */
	struct guarded g = guard(b, len);
	e = snap_parse(g.data, len, ABI, &parsed, why, sizeof(why));
	const struct snap_section *s1 = snap_find(&parsed, SNAP_SEC_GUEST);
	const struct snap_section *s2 = snap_find(&parsed, SNAP_SEC_REGS);
	const struct snap_section *s3 = snap_find(&parsed, SNAP_SEC_KERNEL_ID);
	check("find guest section",
	      e == SNAP_OK && s1 && s1->size == 88 && memcmp(s1->data, guest_data, 88) == 0,
	      "missing or different");
	check("find odd-sized section",
	      e == SNAP_OK && s2 && s2->size == 13 && memcmp(s2->data, odd_data, 13) == 0,
	      "missing or different");
	check("find path section",
	      e == SNAP_OK && s3 && s3->size == 25 && memcmp(s3->data, path_data, 25) == 0,
	      "missing or different");
	check("sections point into the buffer",
	      e == SNAP_OK && (const uint8_t *)s1->data == g.data + SEC1_DATA &&
		  (const uint8_t *)s2->data == g.data + SEC2_DATA &&
		  (const uint8_t *)s3->data == g.data + SEC3_DATA,
	      "data pointers are not where the format puts them");
	check("sections in file order",
	      e == SNAP_OK && parsed.sections[0].type == SNAP_SEC_GUEST &&
		  parsed.sections[1].type == SNAP_SEC_REGS && parsed.sections[2].type == SNAP_SEC_KERNEL_ID,
	      "order differs");
	check("find absent type",
	      snap_find(&parsed, SNAP_SEC_XSAVE) == NULL && snap_find(&parsed, 0) == NULL &&
		  snap_find(&parsed, SNAP_SEC_MAX + 1) == NULL,
	      "found a section that is not there");
	unguard(&g);

	/* No sections at all, an empty section, every type once: all valid. */
	struct snap_writer w;
	struct snap_header h0 = sample_header();
	snap_begin(&w, &h0);
	check("writer empty file", snap_finish(&w) == 0 && w.len == HDR + TRL, "%zu bytes", w.len);
	e = parse(w.buf, w.len, ABI, &parsed, why, sizeof(why));
	check("parse no sections", e == SNAP_OK && parsed.nsections == 0, "%s: %s", kind_name(e), why);
	snap_writer_free(&w);

	snap_begin(&w, &h0);
	uint8_t data[SNAP_SEC_MAX * 3];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	for (uint32_t t = SNAP_SEC_MAX; t >= 1; t--)
		snap_add(&w, t, data, 3 * (t - 1)); /* type 1 is empty */
	int ok = snap_finish(&w) == 0;
	e = ok ? parse(w.buf, w.len, ABI, &parsed, why, sizeof(why)) : SNAP_ERR_CORRUPT;
	int all = e == SNAP_OK && parsed.nsections == SNAP_SEC_MAX;
	struct guarded g2 = guard(w.buf, w.len);
	if (all && snap_parse(g2.data, w.len, ABI, &parsed, why, sizeof(why)) == SNAP_OK) {
		for (uint32_t t = 1; t <= SNAP_SEC_MAX; t++) {
			const struct snap_section *s = snap_find(&parsed, t);
			if (!s || s->size != 3 * (t - 1) || (s->size && memcmp(s->data, data, s->size) != 0))
				all = 0;
		}
	} else {
		all = 0;
	}
	unguard(&g2);
	check("every type once, one empty", all, "%s: %s", kind_name(e), why);
	snap_writer_free(&w);
	check("writer_free clears", w.buf == NULL && w.len == 0, "buffer still set");

	/* A reason buffer of any size (even none) is honoured. */
	uint8_t bad[16] = "MOTESNAP\x02"; /* magic and format version 2, then nothing */
	char tiny[4] = "xyz";
	e = snap_parse(bad, 12, ABI, &parsed, tiny, sizeof(tiny));
	check("short reason buffer", e == SNAP_ERR_TRUNCATED && strlen(tiny) == 3, "\"%s\"", tiny);
	e = snap_parse(bad, 12, ABI, &parsed, NULL, 0);
	check("no reason buffer", e == SNAP_ERR_TRUNCATED, "%s", kind_name(e));
	free(b);
}

static void test_too_short(void)
{
	size_t len;
	uint8_t *b = sample(&len);
	char name[64];
	int ok = 1;
	/* Every proper prefix of a valid file is truncated: no magic, no version, no header, no end. */
	for (size_t cut = 0; cut < len; cut++) {
		char why[256];
		enum snap_error e = parse(b, cut, ABI, &parsed, why, sizeof(why));
		if (e != SNAP_ERR_TRUNCATED || !why[0] || strchr(why, '\n')) {
			snprintf(name, sizeof(name), "truncated at %zu", cut);
			check(name, 0, "%s (%s), expected TRUNCATED", kind_name(e), why);
			ok = 0;
		}
	}
	check("every prefix truncated", ok, "see above");
	expect_refusal("too short for magic", b, 5, ABI, SNAP_ERR_TRUNCATED, "magic");
	expect_refusal("empty file", b, 0, ABI, SNAP_ERR_TRUNCATED, NULL);
	expect_refusal("too short for version", b, 10, ABI, SNAP_ERR_TRUNCATED, "version");
	expect_refusal("too short for header", b, HDR - 1, ABI, SNAP_ERR_TRUNCATED, "header");
	expect_refusal("header without trailer room", b, HDR + 4, ABI, SNAP_ERR_TRUNCATED, "header");
	expect_refusal("cut mid-section", b, SEC2_DATA + 5, ABI, SNAP_ERR_TRUNCATED, NULL);
	expect_refusal("cut before trailer", b, SAMPLE_BODY, ABI, SNAP_ERR_TRUNCATED, NULL);

	/* A file whose header counts no trailer: the last 8 bytes are not "DONE". */
	uint8_t *c = dup_bytes(b, len, 0);
	put64(c, offsetof(struct snap_header, file_size), len - TRL);
	expect_refusal("missing trailer", c, len - TRL, ABI, SNAP_ERR_TRUNCATED, "end marker");
	free(c);
	/* The trailer's magic damaged in place. */
	c = dup_bytes(b, len, 0);
	c[len - 1] ^= 0x20;
	expect_refusal("damaged end marker", c, len, ABI, SNAP_ERR_TRUNCATED, "end marker");
	free(c);
	free(b);
}

static void test_magic_and_version(void)
{
	size_t len;
	uint8_t *b = sample(&len);
	uint8_t *c = dup_bytes(b, len, 0);
	c[0] = 'm';
	expect_refusal("bad magic", c, len, ABI, SNAP_ERR_CORRUPT, "magic");
	memcpy(c, "MOTESNAQ", 8);
	expect_refusal("bad magic last byte", c, len, ABI, SNAP_ERR_CORRUPT, "magic");
	memcpy(c, SNAP_MEM_MAGIC, 8);
	expect_refusal("memory file magic", c, len, ABI, SNAP_ERR_CORRUPT, "magic");
	free(c);

	uint8_t junk[4096];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 17);
	expect_refusal("random bytes", junk, sizeof(junk), ABI, SNAP_ERR_CORRUPT, "magic");
	memset(junk, 0, sizeof(junk));
	expect_refusal("zeros", junk, sizeof(junk), ABI, SNAP_ERR_CORRUPT, "magic");

	/* Another format version is FOREIGN, decided before the size and checksum (which it may lay out
	 * differently). */
	c = dup_bytes(b, len, 0);
	put32(c, offsetof(struct snap_header, format_version), SNAP_FORMAT_VERSION + 1);
	expect_refusal("format version +1 (stale checksum)", c, len, ABI, SNAP_ERR_FOREIGN, "version");
	fix_crc(c, len);
	expect_refusal("format version +1", c, len, ABI, SNAP_ERR_FOREIGN, "version");
	expect_refusal("format version +1, only 12 bytes", c, 12, ABI, SNAP_ERR_FOREIGN, "version");
	put32(c, offsetof(struct snap_header, format_version), 0);
	expect_refusal("format version 0", c, len, ABI, SNAP_ERR_FOREIGN, "version");
	put32(c, offsetof(struct snap_header, format_version), 0xffffffffu);
	expect_refusal("format version 2^32-1", c, 40, ABI, SNAP_ERR_FOREIGN, "version");
	free(c);

	/* Another ABI version: FOREIGN when the checksum holds; the checksum is checked first. */
	char why[256];
	enum snap_error e = parse(b, len, ABI + 1, &parsed, why, sizeof(why));
	check("reader of another ABI", e == SNAP_ERR_FOREIGN && strstr(why, "ABI"), "%s: %s", kind_name(e),
	      why);
	c = dup_bytes(b, len, 0);
	put32(c, offsetof(struct snap_header, abi_version), ABI + 1);
	expect_refusal("abi version +1 (stale checksum)", c, len, ABI, SNAP_ERR_CORRUPT, "checksum");
	fix_crc(c, len);
	expect_refusal("abi version +1", c, len, ABI, SNAP_ERR_FOREIGN, "ABI");
	put32(c, offsetof(struct snap_header, abi_version), 0);
	fix_crc(c, len);
	expect_refusal("abi version 0", c, len, ABI, SNAP_ERR_FOREIGN, "ABI");
	free(c);
	free(b);
}

static void test_sizes(void)
{
	size_t len;
	uint8_t *b = sample(&len);
	size_t fs = offsetof(struct snap_header, file_size);

	/* Trailing bytes after a complete file. */
	uint8_t *c = dup_bytes(b, len, 16);
	expect_refusal("one trailing byte", c, len + 1, ABI, SNAP_ERR_CORRUPT, "trailing");
	expect_refusal("16 trailing bytes", c, len + 16, ABI, SNAP_ERR_CORRUPT, "trailing");
	free(c);

	/* Impossible sizes in the header, before any other check of the body. */
	c = dup_bytes(b, len, 0);
	put64(c, fs, (uint64_t)SNAP_STATE_MAX + 8);
	expect_refusal("file_size over SNAP_STATE_MAX", c, len, ABI, SNAP_ERR_CORRUPT, "size");
	put64(c, fs, UINT64_MAX);
	expect_refusal("file_size 2^64-1", c, len, ABI, SNAP_ERR_CORRUPT, "size");
	put64(c, fs, 1ull << 63);
	expect_refusal("file_size 2^63", c, len, ABI, SNAP_ERR_CORRUPT, "size");
	put64(c, fs, HDR + TRL - 1);
	expect_refusal("file_size below header", c, len, ABI, SNAP_ERR_CORRUPT, "size");
	put64(c, fs, 0);
	expect_refusal("file_size 0", c, len, ABI, SNAP_ERR_CORRUPT, "size");
	/* A header that claims more than the file holds: truncated; less: trailing bytes. */
	put64(c, fs, len + 8);
	expect_refusal("file_size larger than file", c, len, ABI, SNAP_ERR_TRUNCATED, NULL);
	put64(c, fs, len - 8);
	expect_refusal("file_size smaller than file", c, len, ABI, SNAP_ERR_CORRUPT, NULL);
	free(c);
	free(b);
}

static void test_checksum(void)
{
	size_t len;
	uint8_t *b = sample(&len);
	uint8_t *c = dup_bytes(b, len, 0);
	size_t fs = offsetof(struct snap_header, file_size);
	size_t ver = offsetof(struct snap_header, format_version);
	int bad = 0, tried = 0;
	char why[256];
	/*
	 * Every single-bit flip and every whole-byte flip anywhere in the body or the CRC is refused.
	 * Outside the magic, the format version and the file size (which have their own earlier
	 * refusals), the refusal is a checksum mismatch.
	 */
	for (size_t off = 0; off < len - 4; off++) {
		for (int flip = 0; flip < 9; flip++) {
			uint8_t mask = flip == 8 ? 0xff : (uint8_t)(1u << flip);
			c[off] ^= mask;
			enum snap_error e = parse(c, len, ABI, &parsed, why, sizeof(why));
			c[off] ^= mask;
			tried++;
			int own = off < 8 || (off >= ver && off < ver + 4) || (off >= fs && off < fs + 8);
			int ok = e != SNAP_OK && why[0] && !strchr(why, '\n') &&
				 (own || (e == SNAP_ERR_CORRUPT && strstr(why, "checksum")));
			if (!ok && bad++ < 5)
				printf("    flip %#x at offset %zu: %s (%s)\n", mask, off, kind_name(e), why);
		}
	}
	check("every flipped bit or byte refused", bad == 0, "%d of %d flips not refused as expected", bad,
	      tried);
	check("unchanged copy still valid", parse(c, len, ABI, &parsed, why, sizeof(why)) == SNAP_OK, "%s",
	      why);

	/* Swapping two sections' data of equal size keeps every length right: only the checksum sees it. */
	c[SEC1_DATA] ^= 0x01;
	c[SEC1_DATA + 1] ^= 0x01;
	expect_refusal("two compensating flips", c, len, ABI, SNAP_ERR_CORRUPT, "checksum");
	memcpy(c, b, len);
	uint32_t crc;
	memcpy(&crc, c + len - TRL, 4);
	crc = ~crc;
	memcpy(c + len - TRL, &crc, 4);
	expect_refusal("inverted CRC", c, len, ABI, SNAP_ERR_CORRUPT, "checksum");
	free(c);
	free(b);
}

static void test_sections(void)
{
	size_t len;
	uint8_t *b = sample(&len);
	size_t ns = offsetof(struct snap_header, nsections);
	uint8_t *c = dup_bytes(b, len, 0);

	/* Unknown types (CRC fixed, so the section walk itself must refuse). */
	uint32_t unknown[] = {0, SNAP_SEC_MAX + 1, 31, 32, 0xffffffffu};
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		char name[64];
		memcpy(c, b, len);
		put32(c, SEC2_HDR, unknown[i]);
		fix_crc(c, len);
		snprintf(name, sizeof(name), "unknown section type %u", unknown[i]);
		expect_refusal(name, c, len, ABI, SNAP_ERR_CORRUPT, "type");
	}

	/* A duplicate type. */
	memcpy(c, b, len);
	put32(c, SEC3_HDR, SNAP_SEC_GUEST);
	fix_crc(c, len);
	expect_refusal("duplicate section type", c, len, ABI, SNAP_ERR_CORRUPT, "twice");
	struct snap_writer w;
	struct snap_header h = sample_header();
	snap_begin(&w, &h);
	snap_add(&w, SNAP_SEC_REGS, odd_data, 13);
	snap_add(&w, SNAP_SEC_REGS, odd_data, 13);
	if (snap_finish(&w) == 0)
		expect_refusal("writer-made duplicate", w.buf, w.len, ABI, SNAP_ERR_CORRUPT, "twice");
	else
		check("writer-made duplicate", 0, "%s", "snap_finish failed");
	snap_writer_free(&w);

	/* A section running past the end: by a little, into the trailer, far, and by 2^32-1. */
	uint32_t sizes[] = {33, 40, 41, 1000, 0xfffffff9u, 0xffffffffu};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char name[64];
		memcpy(c, b, len);
		put32(c, SEC3_HDR + 4, sizes[i]);
		fix_crc(c, len);
		snprintf(name, sizeof(name), "last section size %u runs past the end", sizes[i]);
		expect_refusal(name, c, len, ABI, SNAP_ERR_CORRUPT, "past the end");
	}
	memcpy(c, b, len);
	put32(c, SEC1_HDR + 4, (uint32_t)(len - SEC1_DATA));
	fix_crc(c, len);
	expect_refusal("first section covers the rest", c, len, ABI, SNAP_ERR_CORRUPT, NULL);

	/* Section counts: too many for the format, more than present, fewer than present. */
	uint32_t counts[] = {SNAP_SECTIONS_MAX + 1, 1000, 0xffffffffu};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		char name[64];
		memcpy(c, b, len);
		put32(c, ns, counts[i]);
		fix_crc(c, len);
		snprintf(name, sizeof(name), "nsections %u", counts[i]);
		expect_refusal(name, c, len, ABI, SNAP_ERR_CORRUPT, "sections");
	}
	memcpy(c, b, len);
	put32(c, ns, 4);
	fix_crc(c, len);
	expect_refusal("nsections one more than present", c, len, ABI, SNAP_ERR_CORRUPT, "past the end");
	put32(c, ns, SNAP_SECTIONS_MAX);
	fix_crc(c, len);
	expect_refusal("nsections 64, 3 present", c, len, ABI, SNAP_ERR_CORRUPT, NULL);
	put32(c, ns, 2);
	fix_crc(c, len);
	expect_refusal("nsections one fewer (stray bytes)", c, len, ABI, SNAP_ERR_CORRUPT, "stray");
	put32(c, ns, 0);
	fix_crc(c, len);
	expect_refusal("nsections 0 (stray bytes)", c, len, ABI, SNAP_ERR_CORRUPT, "stray");
	free(c);

	/* Stray bytes between the last section and the trailer (header size and CRC consistent). */
	c = dup_bytes(b, len, 16);
	memmove(c + SAMPLE_BODY + 8, c + SAMPLE_BODY, TRL);
	memset(c + SAMPLE_BODY, 0, 8);
	put64(c, offsetof(struct snap_header, file_size), len + 8);
	fix_crc(c, len + 8);
	expect_refusal("8 stray bytes before the trailer", c, len + 8, ABI, SNAP_ERR_CORRUPT, "stray");
	free(c);

	/* A file of odd length whose second section's padding would reach into the trailer, and a third
	 * section header would be read past the end. */
	c = dup_bytes(b, len, 0);
	size_t odd = SEC2_DATA + 13;
	memcpy(c + odd, b + len - TRL, TRL);
	put64(c, offsetof(struct snap_header, file_size), odd + TRL);
	fix_crc(c, odd + TRL);
	expect_refusal("padding past the end, 3 sections", c, odd + TRL, ABI, SNAP_ERR_CORRUPT,
		       "past the end");
	put32(c, ns, 2);
	fix_crc(c, odd + TRL);
	expect_refusal("padding past the end, 2 sections", c, odd + TRL, ABI, SNAP_ERR_CORRUPT,
		       "past the end");
	free(c);

	/* A section whose size leaves no room for its padding. */
	c = dup_bytes(b, len, 0);
	put32(c, SEC3_HDR + 4, 26); /* pads to 32: still fits */
	fix_crc(c, len);
	char why[256];
	enum snap_error e = parse(c, len, ABI, &parsed, why, sizeof(why));
	check("size 26 in a 32-byte slot", e == SNAP_OK && snap_find(&parsed, SNAP_SEC_KERNEL_ID)->size == 26,
	      "%s: %s", kind_name(e), why);
	put32(c, SEC3_HDR + 4, 31);
	fix_crc(c, len);
	e = parse(c, len, ABI, &parsed, why, sizeof(why));
	check("size 31 in a 32-byte slot", e == SNAP_OK, "%s: %s", kind_name(e), why);
	free(c);
	free(b);
}

static void test_writer_limit(void)
{
	struct snap_writer w;
	struct snap_header h = sample_header();
	size_t room = SNAP_STATE_MAX - HDR - 8 - TRL; /* one section filling the file to the limit */
	uint8_t *big = calloc(1, SNAP_STATE_MAX + 16);
	if (!big)
		exit(2);
	for (size_t i = 0; i < SNAP_STATE_MAX + 16; i++)
		big[i] = (uint8_t)(i ^ (i >> 8));

	snap_begin(&w, &h);
	snap_add(&w, SNAP_SEC_XSAVE, big, (uint32_t)room);
	int r = snap_finish(&w);
	check("writer exactly SNAP_STATE_MAX", r == 0 && w.len == SNAP_STATE_MAX, "snap_finish %d, %zu bytes",
	      r, w.len);
	if (r == 0) {
		char why[256];
		enum snap_error e = parse(w.buf, w.len, ABI, &parsed, why, sizeof(why));
		check("parse SNAP_STATE_MAX file", e == SNAP_OK, "%s: %s", kind_name(e), why);
		/* One byte more than the limit, made by hand with a consistent header and CRC. */
		uint8_t *c = dup_bytes(w.buf, w.len, 8);
		memmove(c + w.len - TRL + 8, c + w.len - TRL, TRL);
		memset(c + w.len - TRL, 0, 8);
		put32(c, HDR + 4, (uint32_t)room + 1);
		put64(c, offsetof(struct snap_header, file_size), w.len + 8);
		fix_crc(c, w.len + 8);
		expect_refusal("parse file over SNAP_STATE_MAX", c, w.len + 8, ABI, SNAP_ERR_CORRUPT, "size");
		free(c);
	}
	snap_writer_free(&w);

	snap_begin(&w, &h);
	snap_add(&w, SNAP_SEC_XSAVE, big, (uint32_t)room + 1);
	r = snap_finish(&w);
	check("writer one past SNAP_STATE_MAX fails", r == -1 && w.failed, "snap_finish %d", r);
	snap_writer_free(&w);

	snap_begin(&w, &h);
	snap_add(&w, SNAP_SEC_XSAVE, big, SNAP_STATE_MAX);
	snap_add(&w, SNAP_SEC_REGS, odd_data, 13); /* after a failure, more adds stay harmless */
	r = snap_finish(&w);
	check("writer section of SNAP_STATE_MAX bytes fails", r == -1, "snap_finish %d", r);
	snap_writer_free(&w);

	snap_begin(&w, &h);
	snap_add(&w, SNAP_SEC_XSAVE, big, 0xffffffffu); /* size alone is over the limit: nothing is read */
	r = snap_finish(&w);
	check("writer section of 2^32-1 bytes fails", r == -1, "snap_finish %d", r);
	snap_writer_free(&w);

	/* Many small sections that together exceed the limit. */
	snap_begin(&w, &h);
	for (int i = 0; i < 40; i++)
		snap_add(&w, (uint32_t)(i % SNAP_SEC_MAX) + 1, big, 32768);
	r = snap_finish(&w);
	check("writer many sections over the limit fails", r == -1, "snap_finish %d, %zu bytes", r, w.len);
	snap_writer_free(&w);
	free(big);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_crc();
	test_round_trip();
	test_too_short();
	test_magic_and_version();
	test_sizes();
	test_checksum();
	test_sections();
	test_writer_limit();
	return failures ? 1 : 0;
}
