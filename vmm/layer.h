/* Layers: a function's VM saved as the pages that differ from its base snapshot, and restored over it. */
#ifndef MOTE_VMM_LAYER_H
#define MOTE_VMM_LAYER_H

#include <stdint.h>

#include "err.h"
#include "guest.h"
#include "layerfile.h"
#include "snapfile.h"

/* A layer file opened and checked for a restore (layer_open .. layer_restore_free). */
struct layer_restore {
	int fd;
	struct layer_header header;
	struct layer_run *runs;	  /* header.nruns, copied */
	uint8_t *meta;		  /* the metadata read from the file; `state` points into it */
	struct snap_parsed state; /* the embedded state file, parsed */
};

/*
 * Open the layer `path` and check it against the base snapshot being
 * restored (`base`: its parsed state file, `base_sg` its checked guest
 * section, `base_kernel_id` its kernel identity): a regular file, its
 * metadata (layer_parse), the base's id (else MOTE_STATUS_LAYER_BASE, a
 * line naming both ids), its embedded state (snap_parse, snapcheck_guest)
 * with the base's memory layout and kernel. Fills *lr (free it with
 * layer_restore_free, also on failure). Returns 0 or -1 with *err naming
 * `path` (MOTE_STATUS_NOT_FOUND, _SNAP_TRUNCATED, _SNAP_CORRUPT,
 * _SNAP_FOREIGN, _LAYER_BASE).
 */
int layer_open(const char *path, const struct snap_parsed *base, const struct snap_guest *base_sg,
	       const uint8_t base_kernel_id[SNAP_KERNEL_ID_SIZE], struct layer_restore *lr,
	       struct mote_err *err);

/*
 * Put the layer's pages into guest RAM, which MUST map the base's memory
 * file: each run mapped MAP_PRIVATE|MAP_FIXED from the layer file (no copy;
 * clones share its page cache) or, with `copy`, read into RAM with pread.
 * Then checks the pages' CRC-32C. `path` names the file in errors. Returns
 * 0 or -1 with *err (MOTE_STATUS_SNAP_CORRUPT for a checksum mismatch,
 * MOTE_STATUS_SNAP_TRUNCATED when the file shrank, MOTE_STATUS_HOST).
 */
int layer_apply(struct vm *vm, const struct layer_restore *lr, int copy, const char *path,
		struct mote_err *err);

/* Release what layer_open acquired. */
void layer_restore_free(struct layer_restore *lr);

/*
 * Write a layer of the stopped guest (its exit in flight completed here) into
 * g->chan.layer_fd (truncated first): the pages of guest RAM that differ
 * from the base's memory file g->base_mem_fd (written pages per
 * vm_written_pages, compared with the base), its vCPU state, the base's id
 * g->snap_id and the attached bundle's size and CRC. *bytes and *pages get
 * the file's size and its pages. Returns 0 or -1 with *err
 * (MOTE_STATUS_SNAP_WRITE, MOTE_STATUS_HOST).
 */
int layer_take(struct guest *g, uint64_t *bytes, uint64_t *pages, struct mote_err *err);

/* CRC-32C of the `size` bytes of the attached bundle (0 when none). */
uint32_t layer_bundle_crc(const struct vm *vm);

#endif /* MOTE_VMM_LAYER_H */
