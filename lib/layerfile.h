/* The layer file's framing: a function's pages that differ from its base snapshot, and its vCPU state. */
#ifndef MOTE_LAYERFILE_H
#define MOTE_LAYERFILE_H

#include <stddef.h>
#include <stdint.h>

#include "snapfile.h"

/*
 * A layer (docs/snapshots.md, "Layers") is one file:
 *
 *   struct layer_header
 *   struct layer_run[nruns]        page runs of guest RAM, ascending, disjoint
 *   state                          a whole snapshot state file (snapfile.h framing:
 *                                  guest, kernel identity, vCPU sections), state_size bytes
 *   struct layer_trailer           CRC-32C over every byte before it, then "DONE"
 *   zeros up to data_offset        (a multiple of 4096)
 *   data                           the runs' pages, in run order, data_pages * 4096 bytes
 *
 * It is restored over the base it names (base_id: the id of the base's state
 * and memory files): the base's memory file is mapped MAP_PRIVATE and each
 * run's pages MAP_PRIVATE|MAP_FIXED from the layer over it, so neither file
 * is copied. data_crc32c covers the data; bundle_size and bundle_crc32c name
 * the bundle that was attached when the layer was taken. All integers are
 * little-endian; magic and format version stay at fixed offsets forever.
 * This module knows the framing only (no files, no KVM): layer_parse is the
 * one place a layer's metadata is checked, and is fuzzed
 * (tests/fuzz/fuzz_layerfile.c).
 */

#define LAYER_MAGIC "MOTELAYR"
#define LAYER_FORMAT_VERSION 1u
#define LAYER_PAGE 4096u
#define LAYER_RUNS_MAX 16384u					       /* each run is a mapping at restore */
#define LAYER_META_MAX (SNAP_STATE_MAX + LAYER_RUNS_MAX * 16u + 4096u) /* header, runs, state, trailer */

struct layer_header {
	char magic[8];		 /* LAYER_MAGIC */
	uint32_t format_version; /* LAYER_FORMAT_VERSION */
	uint32_t abi_version;	 /* MOTE_ABI_VERSION of the guest kernel inside */
	uint64_t file_size;	 /* bytes of the whole file: data_offset + data_pages * 4096 */
	uint8_t id[16];		 /* random; the embedded state file carries the same id */
	uint8_t base_id[16];	 /* the id of the base snapshot this layer lies on */
	uint64_t mem_size;	 /* guest RAM bytes of that base */
	uint64_t created_realtime_ns;
	uint32_t nruns;
	uint32_t state_size;	/* bytes of the embedded state file */
	uint64_t data_offset;	/* first data byte: the metadata rounded up to 4096 */
	uint64_t data_pages;	/* sum of the runs' npages */
	uint64_t bundle_size;	/* the bundle attached when the layer was taken (0: none) */
	uint32_t bundle_crc32c; /* of its bundle_size bytes */
	uint32_t data_crc32c;	/* of the data_pages * 4096 data bytes */
	uint64_t reserved[2];	/* 0 */
};

struct layer_run {
	uint64_t first_page; /* guest RAM page number (gpa / 4096) */
	uint64_t npages;     /* >= 1 */
};

struct layer_trailer {
	uint32_t crc32c; /* over every byte before it: header, runs and state */
	char magic[4];	 /* SNAP_TRAILER_MAGIC ("DONE") */
};

/* A checked layer's metadata; pointers into the buffer given to layer_parse. */
struct layer_parsed {
	struct layer_header header;
	const struct layer_run *runs; /* header.nruns entries, any alignment: copy before use */
	const void *state;	      /* header.state_size bytes: a snapshot state file */
};

/* Bytes of metadata (header, runs, state, trailer) for `nruns` runs and `state_size` bytes of state. */
uint64_t layer_meta_size(uint32_t nruns, uint32_t state_size);

/* The data offset for that metadata: layer_meta_size rounded up to 4096. */
uint64_t layer_data_offset(uint32_t nruns, uint32_t state_size);

/*
 * Check the start of a layer file: `buf` holds its first `len` bytes (at
 * least the metadata, at most all of it), `file_size` is the size of the whole
 * file. Checks magic, format and ABI version (`abi_version`), that the
 * header's sizes agree with each other and with `file_size`, the trailer and
 * its CRC-32C, and the runs: each non-empty, ascending, disjoint, inside
 * mem_size, in number at most LAYER_RUNS_MAX, adding up to data_pages. The
 * embedded state and the data are not looked into (snap_parse and the data
 * CRC do that). On failure returns SNAP_ERR_TRUNCATED, _CORRUPT or
 * _FOREIGN and writes one line naming the fault to `why`.
 */
enum snap_error layer_parse(const void *buf, size_t len, uint64_t file_size, uint32_t abi_version,
			    struct layer_parsed *out, char *why, size_t why_size);

/*
 * Build the metadata of a layer: `h` (magic, version, nruns, state_size,
 * data_offset, data_pages and file_size are filled in here), `runs`,
 * `state`. Returns a malloc'ed buffer of *len bytes (the metadata, trailer
 * included, zero-padded to data_offset), or NULL when out of memory or over
 * the limits (more than LAYER_RUNS_MAX runs, state over SNAP_STATE_MAX).
 */
uint8_t *layer_build_meta(const struct layer_header *h, const struct layer_run *runs, uint32_t nruns,
			  const void *state, uint32_t state_size, size_t *len);

#endif /* MOTE_LAYERFILE_H */
