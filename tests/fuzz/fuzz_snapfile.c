/* libFuzzer target: snap_parse over arbitrary bytes, and over the same bytes with a fixed-up header and CRC.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mote/abi.h>

#include "snapfile.h"

/*
 * Seeds (tests/fuzz/corpus/snapfile/) are small state files written once with
 * snap_begin/snap_add/snap_finish: valid ones with 0-3 sections, and copies
 * damaged in one way each (cut, flipped byte, foreign version, unknown or
 * duplicate type, oversized section, trailing bytes).
 *
 * Each input is parsed twice: as given, and as a copy whose file size,
 * trailer magic and CRC are made consistent with its length, so the fuzzer
 * explores the section walk without having to find a matching checksum.
 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One line, not empty, NUL-terminated inside the buffer. */
static void check_reason(const char *why, size_t why_size)
{
	size_t n = strnlen(why, why_size);
	if (n == 0 || n == why_size || memchr(why, '\n', n))
		__builtin_trap();
}

/* The invariants of a successful parse of `buf` (`len` bytes). */
static void check_parsed(const uint8_t *buf, size_t len, const struct snap_parsed *p)
{
	const struct snap_header *h = &p->header;
	if (memcmp(h->magic, SNAP_MAGIC, 8) != 0 || h->format_version != SNAP_FORMAT_VERSION ||
	    h->abi_version != MOTE_ABI_VERSION || h->file_size != len || len > SNAP_STATE_MAX ||
	    len < sizeof(struct snap_header) + sizeof(struct snap_trailer))
		__builtin_trap();
	if (memcmp(buf + len - 4, SNAP_TRAILER_MAGIC, 4) != 0)
		__builtin_trap();
	uint32_t crc;
	memcpy(&crc, buf + len - sizeof(struct snap_trailer), 4);
	if (crc != snap_crc32c(0, buf, len - sizeof(struct snap_trailer)))
		__builtin_trap();
	if (p->nsections != h->nsections || p->nsections > SNAP_SECTIONS_MAX || p->nsections > SNAP_SEC_MAX)
		__builtin_trap();

	/* Sections tile the body exactly, in order, each type known and unique, data inside the buffer. */
	const uint8_t *body_end = buf + len - sizeof(struct snap_trailer);
	const uint8_t *at = buf + sizeof(struct snap_header);
	uint32_t seen = 0;
	int padding_zero = 1;
	volatile uint8_t sink = 0;
	for (uint32_t i = 0; i < p->nsections; i++) {
		const struct snap_section *s = &p->sections[i];
		const uint8_t *d = s->data;
		if (s->type == 0 || s->type > SNAP_SEC_MAX || (seen & (1u << s->type)))
			__builtin_trap();
		seen |= 1u << s->type;
		struct snap_section_hdr sh;
		memcpy(&sh, at, sizeof(sh));
		if (sh.type != s->type || sh.size != s->size || d != at + sizeof(sh))
			__builtin_trap();
		size_t padded = ((size_t)s->size + 7) & ~(size_t)7;
		if (d < buf || d > body_end || padded > (size_t)(body_end - d))
			__builtin_trap();
		for (uint32_t k = 0; k < s->size; k++) /* every byte, so ASan sees any lie */
			sink ^= d[k];
		for (size_t k = s->size; k < padded; k++)
			padding_zero &= d[k] == 0;
		if (snap_find(p, s->type) != s)
			__builtin_trap();
		at = d + padded;
	}
	(void)sink;
	if (at != body_end)
		__builtin_trap();
	for (uint32_t t = 0; t <= SNAP_SEC_MAX + 1; t++)
		if (!(seen & (1u << t)) && snap_find(p, t) != NULL)
			__builtin_trap();

	/* A reader of another ABI refuses it as foreign. */
	static struct snap_parsed other;
	char why[128];
	if (snap_parse(buf, len, MOTE_ABI_VERSION + 1, &other, why, sizeof(why)) != SNAP_ERR_FOREIGN)
		__builtin_trap();
	check_reason(why, sizeof(why));

	/* Written again section by section, it comes back byte for byte (when its padding was zero). */
	if (padding_zero) {
		struct snap_writer w;
		snap_begin(&w, h);
		for (uint32_t i = 0; i < p->nsections; i++)
			snap_add(&w, p->sections[i].type, p->sections[i].data, p->sections[i].size);
		if (snap_finish(&w) != 0 || w.len != len || memcmp(w.buf, buf, len) != 0)
			__builtin_trap();
		snap_writer_free(&w);
	}
}

static void parse_one(const uint8_t *buf, size_t len)
{
	static struct snap_parsed p;
	char why[128];
	enum snap_error e = snap_parse(buf, len, MOTE_ABI_VERSION, &p, why, sizeof(why));
	switch (e) {
	case SNAP_OK: check_parsed(buf, len, &p); break;
	case SNAP_ERR_TRUNCATED:
	case SNAP_ERR_CORRUPT:
	case SNAP_ERR_FOREIGN: check_reason(why, sizeof(why)); break;
	default: __builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exact-size heap copies, so ASan flags a read one byte past the end. */
	uint8_t *raw = malloc(size ? size : 1);
	if (!raw)
		return 0;
	if (size)
		memcpy(raw, data, size);
	parse_one(raw, size);

	/* Made consistent: magic, version, ABI, file size, trailer. */
	size_t min = sizeof(struct snap_header) + sizeof(struct snap_trailer);
	if (size >= min && size <= SNAP_STATE_MAX) {
		struct snap_header h;
		memcpy(&h, raw, sizeof(h));
		memcpy(h.magic, SNAP_MAGIC, 8);
		h.format_version = SNAP_FORMAT_VERSION;
		h.abi_version = MOTE_ABI_VERSION;
		h.file_size = size;
		memcpy(raw, &h, sizeof(h));
		memcpy(raw + size - 4, SNAP_TRAILER_MAGIC, 4);
		uint32_t crc = snap_crc32c(0, raw, size - sizeof(struct snap_trailer));
		memcpy(raw + size - sizeof(struct snap_trailer), &crc, 4);
		parse_one(raw, size);
	}
	free(raw);
	return 0;
}
