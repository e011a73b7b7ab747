/* The layer file's framing: a function's pages that differ from its base snapshot, and its vCPU state. */
#include "layerfile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(struct layer_header) == 128, "the layer header is 128 bytes");
_Static_assert(sizeof(struct layer_run) == 16, "a run is 16 bytes");

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

uint64_t layer_meta_size(uint32_t nruns, uint32_t state_size)
{
	return sizeof(struct layer_header) + (uint64_t)nruns * sizeof(struct layer_run) + state_size +
	       sizeof(struct layer_trailer);
}

uint64_t layer_data_offset(uint32_t nruns, uint32_t state_size)
{
	return (layer_meta_size(nruns, state_size) + LAYER_PAGE - 1) & ~(uint64_t)(LAYER_PAGE - 1);
}

enum snap_error layer_parse(const void *buf, size_t len, uint64_t file_size, uint32_t abi_version,
			    struct layer_parsed *out, char *why, size_t why_size)
{
	const uint8_t *p = buf;
	memset(out, 0, sizeof(*out));
	if (len > file_size)
		len = (size_t)file_size;
	size_t head = len < 8 ? len : 8;
	if (memcmp(p, LAYER_MAGIC, head) != 0)
		return fail(SNAP_ERR_CORRUPT, why, why_size, "not a mote layer (bad magic)");
	if (len < 12)
		return fail(SNAP_ERR_TRUNCATED, why, why_size, "truncated: %zu bytes, no format version",
			    len);
	uint32_t version;
	memcpy(&version, p + 8, 4);
	if (version != LAYER_FORMAT_VERSION)
		return fail(SNAP_ERR_FOREIGN, why, why_size,
			    "layer format version %u, this mote reads version %u", version,
			    LAYER_FORMAT_VERSION);
	struct layer_header h;
	if (len < sizeof(h))
		return fail(SNAP_ERR_TRUNCATED, why, why_size,
			    "truncated: %zu bytes, shorter than the header", len);
	memcpy(&h, p, sizeof(h));
	if (h.nruns > LAYER_RUNS_MAX)
		return fail(SNAP_ERR_CORRUPT, why, why_size, "%u page runs, at most %u", h.nruns,
			    LAYER_RUNS_MAX);
	if (h.state_size > SNAP_STATE_MAX)
		return fail(SNAP_ERR_CORRUPT, why, why_size, "a state of %u bytes, at most %u", h.state_size,
			    SNAP_STATE_MAX);
	uint64_t meta = layer_meta_size(h.nruns, h.state_size);
	uint64_t data_off = layer_data_offset(h.nruns, h.state_size);
	if (h.data_offset != data_off)
		return fail(SNAP_ERR_CORRUPT, why, why_size,
			    "header gives data offset %llu, its sizes say %llu",
			    (unsigned long long)h.data_offset, (unsigned long long)data_off);
	if (h.mem_size == 0 || h.mem_size % LAYER_PAGE || h.mem_size > (1ull << 40))
		return fail(SNAP_ERR_CORRUPT, why, why_size, "impossible memory size %llu",
			    (unsigned long long)h.mem_size);
	uint64_t ram_pages = h.mem_size / LAYER_PAGE;
	if (h.data_pages > ram_pages)
		return fail(SNAP_ERR_CORRUPT, why, why_size,
			    "%llu data pages, more than the %llu of guest RAM",
			    (unsigned long long)h.data_pages, (unsigned long long)ram_pages);
	if (h.file_size != data_off + h.data_pages * LAYER_PAGE)
		return fail(SNAP_ERR_CORRUPT, why, why_size,
			    "header gives file size %llu, its sizes say %llu",
			    (unsigned long long)h.file_size,
			    (unsigned long long)(data_off + h.data_pages * LAYER_PAGE));
	if (file_size < h.file_size)
		return fail(SNAP_ERR_TRUNCATED, why, why_size, "truncated: %llu of %llu bytes",
			    (unsigned long long)file_size, (unsigned long long)h.file_size);
	if (file_size > h.file_size)
		return fail(SNAP_ERR_CORRUPT, why, why_size,
			    "%llu bytes of trailing data after the %llu-byte layer",
			    (unsigned long long)(file_size - h.file_size), (unsigned long long)h.file_size);
	if (len < meta)
		return fail(SNAP_ERR_TRUNCATED, why, why_size,
			    "truncated: %zu bytes, the metadata needs %llu", len, (unsigned long long)meta);
	size_t body = (size_t)meta - sizeof(struct layer_trailer);
	struct layer_trailer t;
	memcpy(&t, p + body, sizeof(t));
	if (memcmp(t.magic, SNAP_TRAILER_MAGIC, 4) != 0)
		return fail(SNAP_ERR_CORRUPT, why, why_size, "no end marker after the metadata");
	uint32_t crc = snap_crc32c(0, p, body);
	if (crc != t.crc32c)
		return fail(SNAP_ERR_CORRUPT, why, why_size,
			    "checksum mismatch (CRC-32C %08x, file says %08x)", crc, t.crc32c);
	if (h.abi_version != abi_version)
		return fail(SNAP_ERR_FOREIGN, why, why_size,
			    "layer of a guest kernel with ABI version %u, this mote speaks %u", h.abi_version,
			    abi_version);
	if (h.reserved[0] || h.reserved[1])
		return fail(SNAP_ERR_CORRUPT, why, why_size, "reserved header fields are not zero");
	if (!h.bundle_size && h.bundle_crc32c)
		return fail(SNAP_ERR_CORRUPT, why, why_size, "a bundle checksum without a bundle");
	const uint8_t *runs = p + sizeof(h);
	uint64_t next = 0, total = 0;
	for (uint32_t i = 0; i < h.nruns; i++) {
		struct layer_run r;
		memcpy(&r, runs + (size_t)i * sizeof(r), sizeof(r));
		if (r.npages == 0 || r.first_page < next || r.first_page >= ram_pages ||
		    r.npages > ram_pages - r.first_page)
			return fail(SNAP_ERR_CORRUPT, why, why_size,
				    "page run %u (%llu pages at page %llu) is empty, out of order or outside "
				    "guest RAM",
				    i, (unsigned long long)r.npages, (unsigned long long)r.first_page);
		next = r.first_page + r.npages;
		total += r.npages;
	}
	if (total != h.data_pages)
		return fail(SNAP_ERR_CORRUPT, why, why_size, "the runs hold %llu pages, the header says %llu",
			    (unsigned long long)total, (unsigned long long)h.data_pages);
	out->header = h;
	out->runs = (const struct layer_run *)(const void *)runs;
	out->state = runs + (size_t)h.nruns * sizeof(struct layer_run);
	return SNAP_OK;
}

uint8_t *layer_build_meta(const struct layer_header *h, const struct layer_run *runs, uint32_t nruns,
			  const void *state, uint32_t state_size, size_t *len)
{
	if (nruns > LAYER_RUNS_MAX || state_size > SNAP_STATE_MAX)
		return NULL;
	uint64_t meta = layer_meta_size(nruns, state_size), off = layer_data_offset(nruns, state_size);
	uint8_t *b = calloc(1, (size_t)off);
	if (!b)
		return NULL;
	struct layer_header hh = *h;
	memcpy(hh.magic, LAYER_MAGIC, 8);
	hh.format_version = LAYER_FORMAT_VERSION;
	hh.nruns = nruns;
	hh.state_size = state_size;
	hh.data_offset = off;
	hh.data_pages = 0;
	for (uint32_t i = 0; i < nruns; i++)
		hh.data_pages += runs[i].npages;
	hh.file_size = off + hh.data_pages * LAYER_PAGE;
	memcpy(b, &hh, sizeof(hh));
	if (nruns)
		memcpy(b + sizeof(hh), runs, (size_t)nruns * sizeof(*runs));
	memcpy(b + sizeof(hh) + (size_t)nruns * sizeof(*runs), state, state_size);
	size_t body = (size_t)meta - sizeof(struct layer_trailer);
	struct layer_trailer t;
	t.crc32c = snap_crc32c(0, b, body);
	memcpy(t.magic, SNAP_TRAILER_MAGIC, 4);
	memcpy(b + body, &t, sizeof(t));
	*len = (size_t)off;
	return b;
}
