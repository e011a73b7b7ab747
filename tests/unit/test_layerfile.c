/* Unit tests of lib/layerfile.c: a layer's metadata is built, parsed, and every damage is refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mote/abi.h>

#include "check.h"
#include "layerfile.h"
#include "snapfile.h"

#define MEM (64ull << 20)

/* A small state file (the framing is all layer_parse cares about). */
static uint8_t *make_state(size_t *len, const uint8_t id[16])
{
	struct snap_header h;
	memset(&h, 0, sizeof(h));
	h.abi_version = MOTE_ABI_VERSION;
	memcpy(h.id, id, 16);
	struct snap_writer w;
	snap_begin(&w, &h);
	uint64_t x = 42;
	snap_add(&w, SNAP_SEC_GUEST, &x, sizeof(x));
	if (snap_finish(&w) < 0)
		return NULL;
	*len = w.len;
	return w.buf;
}

static const struct layer_run good_runs[] = {{9, 1}, {256, 3}, {1000, 2}};

/* A whole layer file (metadata + data pages) in a malloc'ed buffer. */
static uint8_t *make_layer(const struct layer_run *runs, uint32_t nruns, size_t *len,
			   struct layer_header *out)
{
	uint8_t id[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	size_t slen;
	uint8_t *state = make_state(&slen, id);
	struct layer_header h;
	memset(&h, 0, sizeof(h));
	h.abi_version = MOTE_ABI_VERSION;
	memcpy(h.id, id, 16);
	memset(h.base_id, 0xab, 16);
	h.mem_size = MEM;
	h.bundle_size = 1000;
	h.bundle_crc32c = 0x1234;
	size_t mlen;
	uint8_t *meta = layer_build_meta(&h, runs, nruns, state, (uint32_t)slen, &mlen);
	free(state);
	if (!meta)
		return NULL;
	memcpy(out, meta, sizeof(*out));
	*len = (size_t)out->file_size;
	uint8_t *b = calloc(1, *len);
	memcpy(b, meta, mlen);
	for (size_t i = mlen; i < *len; i++)
		b[i] = (uint8_t)(i * 7);
	free(meta);
	return b;
}

/* Recompute the trailer's CRC after the metadata was changed on purpose. */
static void fix_crc(uint8_t *b)
{
	struct layer_header h;
	memcpy(&h, b, sizeof(h));
	size_t body = (size_t)layer_meta_size(h.nruns, h.state_size) - sizeof(struct layer_trailer);
	uint32_t crc = snap_crc32c(0, b, body);
	memcpy(b + body, &crc, 4);
}

static enum snap_error parse(const uint8_t *b, size_t len, uint64_t file_size, char *why)
{
	struct layer_parsed p;
	return layer_parse(b, len, file_size, MOTE_ABI_VERSION, &p, why, 256);
}

/* The layer `b` with run `i` replaced (CRC fixed) parses as `want`. */
static void check_run(const char *name, const uint8_t *b0, size_t len, uint32_t i, struct layer_run r,
		      enum snap_error want)
{
	uint8_t *b = malloc(len);
	memcpy(b, b0, len);
	memcpy(b + sizeof(struct layer_header) + i * sizeof(r), &r, sizeof(r));
	fix_crc(b);
	char why[256] = "";
	enum snap_error e = parse(b, len, len, why);
	check(name, e == want, "error %d (%s), expected %d", e, why, want);
	free(b);
}

static uint32_t crc_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = ~0u;
	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
	}
	return ~c;
}

int main(void)
{
	struct layer_header h;
	size_t len;
	uint8_t *b = make_layer(good_runs, 3, &len, &h);
	check("build", b != NULL, "layer_build_meta failed");
	if (!b)
		return 1;
	check("build sizes",
	      h.data_pages == 6 && h.data_offset % 4096 == 0 && h.file_size == h.data_offset + 6 * 4096,
	      "data_pages %llu data_offset %llu file_size %llu", (unsigned long long)h.data_pages,
	      (unsigned long long)h.data_offset, (unsigned long long)h.file_size);

	struct layer_parsed p;
	char why[256] = "";
	enum snap_error e = layer_parse(b, len, len, MOTE_ABI_VERSION, &p, why, sizeof(why));
	check("parse", e == SNAP_OK, "error %d: %s", e, why);
	struct layer_run r1;
	memcpy(&r1, &p.runs[1], sizeof(r1));
	check("parse fields",
	      e == SNAP_OK && p.header.nruns == 3 && r1.first_page == 256 && r1.npages == 3 &&
		  p.header.bundle_size == 1000 && p.header.base_id[0] == 0xab && p.header.mem_size == MEM,
	      "fields differ");
	struct snap_parsed sp;
	check("embedded state parses",
	      e == SNAP_OK && snap_parse(p.state, p.header.state_size, MOTE_ABI_VERSION, &sp, why,
					 sizeof(why)) == SNAP_OK,
	      "%s", why);
	/* Only the metadata is needed to parse: the data pages may be left unread. */
	e = parse(b, (size_t)layer_meta_size(3, h.state_size), len, why);
	check("parse metadata only", e == SNAP_OK, "error %d: %s", e, why);

	/* Truncations: the whole file shorter than the header says, or the metadata cut. */
	e = parse(b, len - 4096, len - 4096, why);
	check("truncated data", e == SNAP_ERR_TRUNCATED, "error %d: %s", e, why);
	e = parse(b, 100, 100, why);
	check("truncated header", e == SNAP_ERR_TRUNCATED, "error %d: %s", e, why);
	e = parse(b, 200, len, why);
	check("truncated metadata", e == SNAP_ERR_TRUNCATED, "error %d: %s", e, why);
	e = parse(b, 0, 0, why);
	check("empty file", e == SNAP_ERR_TRUNCATED, "error %d: %s", e, why);
	e = parse(b, len, len + 1, why);
	check("trailing bytes", e == SNAP_ERR_CORRUPT, "error %d: %s", e, why);

	/* Damage. */
	uint8_t *c = malloc(len);
	memcpy(c, b, len);
	c[0] = 'X';
	e = parse(c, len, len, why);
	check("bad magic", e == SNAP_ERR_CORRUPT && strstr(why, "magic"), "error %d: %s", e, why);
	memcpy(c, b, len);
	c[sizeof(struct layer_header) + 3] ^= 1; /* in the runs */
	e = parse(c, len, len, why);
	check("flipped byte", e == SNAP_ERR_CORRUPT && strstr(why, "checksum"), "error %d: %s", e, why);
	memcpy(c, b, len);
	c[8] = 9; /* format version */
	e = parse(c, len, len, why);
	check("foreign version", e == SNAP_ERR_FOREIGN, "error %d: %s", e, why);
	memcpy(c, b, len);
	uint32_t abi = MOTE_ABI_VERSION + 1;
	memcpy(c + offsetof(struct layer_header, abi_version), &abi, 4);
	fix_crc(c);
	e = parse(c, len, len, why);
	check("foreign abi", e == SNAP_ERR_FOREIGN, "error %d: %s", e, why);
	memcpy(c, b, len);
	uint64_t off = h.data_offset + 4096;
	memcpy(c + offsetof(struct layer_header, data_offset), &off, 8);
	fix_crc(c);
	e = parse(c, len, len, why);
	check("inconsistent data offset", e == SNAP_ERR_CORRUPT, "error %d: %s", e, why);
	memcpy(c, b, len);
	uint64_t dp = 7;
	memcpy(c + offsetof(struct layer_header, data_pages), &dp, 8);
	uint64_t fs = h.data_offset + 7 * 4096;
	memcpy(c + offsetof(struct layer_header, file_size), &fs, 8);
	fix_crc(c);
	e = parse(c, len, len, why);
	check("data pages are not the runs'", e == SNAP_ERR_TRUNCATED || e == SNAP_ERR_CORRUPT,
	      "error %d: %s", e, why);
	memcpy(c, b, len);
	uint32_t many = LAYER_RUNS_MAX + 1;
	memcpy(c + offsetof(struct layer_header, nruns), &many, 4);
	e = parse(c, len, len, why);
	check("too many runs", e == SNAP_ERR_CORRUPT, "error %d: %s", e, why);
	free(c);

	check_run("run out of order", b, len, 1, (struct layer_run){5, 3}, SNAP_ERR_CORRUPT);
	check_run("runs overlap", b, len, 1, (struct layer_run){9, 3}, SNAP_ERR_CORRUPT);
	check_run("empty run", b, len, 2, (struct layer_run){1000, 0}, SNAP_ERR_CORRUPT);
	check_run("run past RAM", b, len, 2, (struct layer_run){MEM / 4096 - 1, 2}, SNAP_ERR_CORRUPT);
	check_run("run at the end of RAM", b, len, 2, (struct layer_run){MEM / 4096 - 2, 2}, SNAP_OK);
	check_run("run overflowing", b, len, 2, (struct layer_run){1000, UINT64_MAX}, SNAP_ERR_CORRUPT);
	free(b);

	size_t n;
	struct layer_run *lots = malloc((LAYER_RUNS_MAX + 1) * sizeof(*lots));
	for (uint32_t i = 0; i <= LAYER_RUNS_MAX; i++)
		lots[i] = (struct layer_run){2ull * i, 1};
	uint8_t *m = layer_build_meta(&h, lots, LAYER_RUNS_MAX + 1, "", 0, &n);
	check("build refuses too many runs", m == NULL, "built %zu bytes", n);
	free(m);
	free(lots);

	/* The slicing-by-8 CRC-32C agrees with the bitwise definition at every length and alignment. */
	uint8_t buf[300];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	int same = 1;
	for (size_t start = 0; start < 9; start++)
		for (size_t l = 0; start + l <= sizeof(buf); l += 13)
			same &= snap_crc32c(0, buf + start, l) == crc_bitwise(buf + start, l);
	check("crc32c slicing-by-8", same, "differs from the bitwise CRC");
	return failures ? 1 : 0;
}
