/* libFuzzer target: layer_parse over arbitrary bytes, and over the same bytes with consistent sizes and CRC.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mote/abi.h>

#include "layerfile.h"
#include "snapfile.h"

/*
 * Seeds (tests/fuzz/corpus/layerfile/, written by make_layerfile_seeds.py)
 * are small layers: valid ones with 0-3 runs, and copies damaged in one way
 * each. Each input is parsed twice: as given (its length is the file size),
 * and as a copy whose magic, versions, data offset, file size and trailer
 * CRC are made consistent, so the fuzzer explores the run checks without
 * having to find a checksum. A layer that parses is rebuilt with
 * layer_build_meta and must parse again to the same header; its embedded
 * state goes through snap_parse.
 */

// fuzz-max-len: 24576
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reason(const char *why, size_t why_size)
{
	size_t n = strnlen(why, why_size);
	if (n == 0 || n == why_size || memchr(why, '\n', n))
		__builtin_trap();
}

static void check_parsed(const uint8_t *buf, size_t len, uint64_t file_size, const struct layer_parsed *p)
{
	const struct layer_header *h = &p->header;
	if (h->file_size != file_size || h->data_offset % LAYER_PAGE || h->nruns > LAYER_RUNS_MAX ||
	    layer_meta_size(h->nruns, h->state_size) > len ||
	    (const uint8_t *)p->state + h->state_size > buf + len)
		__builtin_trap();
	uint64_t next = 0, total = 0;
	for (uint32_t i = 0; i < h->nruns; i++) {
		struct layer_run r;
		memcpy(&r, (const uint8_t *)p->runs + i * sizeof(r), sizeof(r));
		if (!r.npages || r.first_page < next || r.first_page + r.npages > h->mem_size / LAYER_PAGE)
			__builtin_trap();
		next = r.first_page + r.npages;
		total += r.npages;
	}
	if (total != h->data_pages)
		__builtin_trap();
	struct snap_parsed sp;
	char why[256];
	if (snap_parse(p->state, h->state_size, MOTE_ABI_VERSION, &sp, why, sizeof(why)) != SNAP_OK)
		check_reason(why, sizeof(why));
	/* Rebuilt from what was parsed, it parses again to the same header. */
	struct layer_run *runs = malloc(h->nruns ? h->nruns * sizeof(*runs) : 1);
	memcpy(runs, p->runs, h->nruns * sizeof(*runs));
	size_t mlen;
	uint8_t *m = layer_build_meta(h, runs, h->nruns, p->state, h->state_size, &mlen);
	free(runs);
	if (!m)
		__builtin_trap();
	struct layer_parsed q;
	if (layer_parse(m, mlen, h->file_size, MOTE_ABI_VERSION, &q, why, sizeof(why)) != SNAP_OK ||
	    memcmp(&q.header, h, sizeof(*h)) != 0)
		__builtin_trap();
	free(m);
}

static void parse_one(const uint8_t *buf, size_t len, uint64_t file_size)
{
	struct layer_parsed p;
	char why[256];
	enum snap_error e = layer_parse(buf, len, file_size, MOTE_ABI_VERSION, &p, why, sizeof(why));
	if (e == SNAP_OK)
		check_parsed(buf, len < file_size ? len : (size_t)file_size, file_size, &p);
	else
		check_reason(why, sizeof(why));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* As given: the bytes are the whole file. */
	uint8_t *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	parse_one(copy, size, size);
	free(copy);

	/* Fixed up: a header made consistent with the runs and state that follow (data pages not present). */
	if (size < sizeof(struct layer_header))
		return 0;
	struct layer_header h;
	memcpy(&h, data, sizeof(h));
	h.nruns %= 64;
	h.state_size %= 4096;
	uint64_t meta = layer_meta_size(h.nruns, h.state_size);
	uint8_t *b = calloc(1, meta);
	size_t have = size < meta ? size : (size_t)meta;
	memcpy(b, data, have);
	memcpy(h.magic, LAYER_MAGIC, 8);
	h.format_version = LAYER_FORMAT_VERSION;
	h.abi_version = MOTE_ABI_VERSION;
	if (!h.mem_size || h.mem_size % LAYER_PAGE || h.mem_size > (1ull << 40))
		h.mem_size = 64ull << 20;
	h.data_offset = layer_data_offset(h.nruns, h.state_size);
	if (h.data_pages > h.mem_size / LAYER_PAGE)
		h.data_pages %= h.mem_size / LAYER_PAGE + 1;
	h.file_size = h.data_offset + h.data_pages * LAYER_PAGE;
	memcpy(b, &h, sizeof(h));
	struct layer_trailer t = {.crc32c = 0};
	memcpy(t.magic, SNAP_TRAILER_MAGIC, 4);
	t.crc32c = snap_crc32c(0, b, (size_t)meta - sizeof(t));
	memcpy(b + meta - sizeof(t), &t, sizeof(t));
	parse_one(b, (size_t)meta, h.file_size);
	free(b);
	return 0;
}
