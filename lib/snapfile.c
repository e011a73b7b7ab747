/* The snapshot state file's framing: header, typed sections, CRC-32C trailer; and the memory file's header.
 */
#include "snapfile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Slicing-by-8 tables: crc_table[k][b] is the CRC of byte b followed by k zero bytes. */
static uint32_t crc_table[8][256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int k = 1; k < 8; k++)
			crc_table[k][i] =
			    (crc_table[k - 1][i] >> 8) ^ crc_table[0][crc_table[k - 1][i] & 0xff];
}

uint32_t snap_crc32c(uint32_t crc, const void *data, size_t len)
{
	if (!crc_table[0][1])
		crc_init();
	const uint8_t *p = data;
	crc = ~crc;
	/* Eight bytes at a time (a layer's pages are checked at every restore), then the rest. */
	while (len >= 8) {
		uint32_t lo, hi;
		memcpy(&lo, p, 4);
		memcpy(&hi, p + 4, 4);
		lo ^= crc;
		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		      crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xff] ^
		      crc_table[2][(hi >> 8) & 0xff] ^ crc_table[1][(hi >> 16) & 0xff] ^
		      crc_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static enum snap_error fail(enum snap_error e, char *why, size_t why_size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum snap_error fail(enum snap_error e, char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (why && why_size)
		vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
	return e;
}

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

enum snap_error snap_parse(const void *buf, size_t len, uint32_t abi_version, struct snap_parsed *out,
			   char *why, size_t why_size)
{
	const uint8_t *p = buf;
	struct snap_header h;
	memset(out, 0, sizeof(*out));
	/* A short file is truncated only if what it has is the start of the magic. */
	size_t head = len < 8 ? len : 8;
	if (memcmp(p, SNAP_MAGIC, head) != 0)
		return fail(SNAP_ERR_CORRUPT, why, why_size, "not a mote snapshot (bad magic)");
	if (len < 8)
		return fail(SNAP_ERR_TRUNCATED, why, why_size, "truncated: %zu bytes, shorter than the magic",
			    len);
	if (len < 12)
		return fail(SNAP_ERR_TRUNCATED, why, why_size, "truncated: %zu bytes, no format version",
			    len);
	uint32_t version;
	memcpy(&version, p + 8, 4);
	if (version != SNAP_FORMAT_VERSION)
		return fail(SNAP_ERR_FOREIGN, why, why_size,
			    "snapshot format version %u, this mote reads version %u", version,
			    SNAP_FORMAT_VERSION);
	if (len < sizeof(h) + sizeof(struct snap_trailer))
		return fail(SNAP_ERR_TRUNCATED, why, why_size,
			    "truncated: %zu bytes, shorter than the header", len);
	memcpy(&h, p, sizeof(h));
	if (h.file_size > SNAP_STATE_MAX || h.file_size < sizeof(h) + sizeof(struct snap_trailer))
		return fail(SNAP_ERR_CORRUPT, why, why_size, "header gives an impossible file size %llu",
			    (unsigned long long)h.file_size);
	if (len < h.file_size)
		return fail(SNAP_ERR_TRUNCATED, why, why_size, "truncated: %zu of %llu bytes", len,
			    (unsigned long long)h.file_size);
	if (len > h.file_size)
		return fail(SNAP_ERR_CORRUPT, why, why_size,
			    "%zu bytes of trailing data after the %llu-byte snapshot",
			    len - (size_t)h.file_size, (unsigned long long)h.file_size);
	size_t body = (size_t)h.file_size - sizeof(struct snap_trailer);
	struct snap_trailer t;
	memcpy(&t, p + body, sizeof(t));
	if (memcmp(t.magic, SNAP_TRAILER_MAGIC, 4) != 0)
		return fail(SNAP_ERR_TRUNCATED, why, why_size, "truncated: no end marker");
	uint32_t crc = snap_crc32c(0, p, body);
	if (crc != t.crc32c)
		return fail(SNAP_ERR_CORRUPT, why, why_size,
			    "checksum mismatch (CRC-32C %08x, file says %08x)", crc, t.crc32c);
	if (h.abi_version != abi_version)
		return fail(SNAP_ERR_FOREIGN, why, why_size,
			    "snapshot of a guest kernel with ABI version %u, this mote speaks %u",
			    h.abi_version, abi_version);
	if (h.nsections > SNAP_SECTIONS_MAX)
		return fail(SNAP_ERR_CORRUPT, why, why_size, "%u sections, at most %u", h.nsections,
			    SNAP_SECTIONS_MAX);

	size_t off = sizeof(h);
	uint32_t seen = 0;
	for (uint32_t i = 0; i < h.nsections; i++) {
		struct snap_section_hdr sh;
		if (body - off < sizeof(sh))
			return fail(SNAP_ERR_CORRUPT, why, why_size, "section %u runs past the end", i);
		memcpy(&sh, p + off, sizeof(sh));
		off += sizeof(sh);
		if (sh.type == 0 || sh.type > SNAP_SEC_MAX)
			return fail(SNAP_ERR_CORRUPT, why, why_size, "section %u has unknown type %u", i,
				    sh.type);
		if (seen & (1u << sh.type))
			return fail(SNAP_ERR_CORRUPT, why, why_size, "section type %u appears twice",
				    sh.type);
		seen |= 1u << sh.type;
		if (sh.size > body - off || pad8(sh.size) > body - off)
			return fail(SNAP_ERR_CORRUPT, why, why_size, "section %u (type %u) runs past the end",
				    i, sh.type);
		out->sections[i] = (struct snap_section){.type = sh.type, .size = sh.size, .data = p + off};
		off += pad8(sh.size);
	}
	if (off != body)
		return fail(SNAP_ERR_CORRUPT, why, why_size, "%zu stray bytes after the last section",
			    body - off);
	out->header = h;
	out->nsections = h.nsections;
	return SNAP_OK;
}

const struct snap_section *snap_find(const struct snap_parsed *p, uint32_t type)
{
	for (uint32_t i = 0; i < p->nsections; i++)
		if (p->sections[i].type == type)
			return &p->sections[i];
	return NULL;
}

static void put(struct snap_writer *w, const void *data, size_t n)
{
	if (w->failed)
		return;
	if (w->len + n > SNAP_STATE_MAX) {
		w->failed = 1;
		return;
	}
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 16384;
		while (cap < w->len + n)
			cap *= 2;
		uint8_t *b = realloc(w->buf, cap);
		if (!b) {
			w->failed = 1;
			return;
		}
		w->buf = b;
		w->cap = cap;
	}
	if (data)
		memcpy(w->buf + w->len, data, n);
	else
		memset(w->buf + w->len, 0, n);
	w->len += n;
}

void snap_begin(struct snap_writer *w, const struct snap_header *header)
{
	memset(w, 0, sizeof(*w));
	struct snap_header h = *header;
	memcpy(h.magic, SNAP_MAGIC, 8);
	h.format_version = SNAP_FORMAT_VERSION;
	h.nsections = 0;
	h.file_size = 0;
	put(w, &h, sizeof(h));
}

void snap_add(struct snap_writer *w, uint32_t type, const void *data, uint32_t size)
{
	struct snap_section_hdr sh = {.type = type, .size = size};
	put(w, &sh, sizeof(sh));
	put(w, data, size);
	put(w, NULL, pad8(size) - size);
	if (!w->failed) {
		struct snap_header *h = (struct snap_header *)w->buf;
		h->nsections++;
	}
}

int snap_finish(struct snap_writer *w)
{
	if (w->failed)
		return -1;
	struct snap_header *h = (struct snap_header *)w->buf;
	h->file_size = w->len + sizeof(struct snap_trailer);
	struct snap_trailer t;
	memcpy(t.magic, SNAP_TRAILER_MAGIC, 4);
	t.crc32c = snap_crc32c(0, w->buf, w->len);
	put(w, &t, sizeof(t));
	return w->failed ? -1 : 0;
}

void snap_writer_free(struct snap_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}
