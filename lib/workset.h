/* Working sets: the guest RAM pages a clone touched by its first response, to fault in ahead at attach. */
#ifndef MOTE_WORKSET_H
#define MOTE_WORKSET_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * Under shadow paging every page a clone touches first costs it a fault of
 * ~25 µs; faulted in ahead by the monitor (MADV_POPULATE_WRITE) it costs a
 * few µs (docs/snapshots.md, "Working sets"). A working set is one blob:
 *
 *   char magic[8]          MOTE_WS_MAGIC
 *   uint64_t guest_pages   pages of guest RAM of the base it was recorded on
 *   uint64_t nruns         at most MOTE_WS_RUNS_MAX
 *   struct mote_ws_run[nruns]   ascending, disjoint, not adjacent, within guest_pages
 *
 * little-endian, nothing after the runs. mote_ws_parse is the one place a
 * working set is checked (the gateway and mote-vmm both call it; fuzzed by
 * tests/fuzz/fuzz_workset.c).
 */
#define MOTE_WS_MAGIC "MOTEWS01"
#define MOTE_WS_RUNS_MAX 65536u
#define MOTE_WS_HEADER 24u

struct mote_ws_run {
	uint64_t first; /* first page (guest physical address / 4096) */
	uint64_t count; /* pages, at least 1 */
};

/* The largest working set blob: the header and MOTE_WS_RUNS_MAX runs. */
#define MOTE_WS_MAX (MOTE_WS_HEADER + MOTE_WS_RUNS_MAX * 16u)

/*
 * Encode the pages whose byte in map[guest_pages] is non-zero into out
 * (`cap` bytes). When there are more than MOTE_WS_RUNS_MAX runs, the
 * lowest runs are kept. Returns the blob's length, or 0 if `cap` is too
 * small (MOTE_WS_MAX always suffices).
 */
size_t mote_ws_encode(const uint8_t *map, uint64_t guest_pages, uint8_t *out, size_t cap);

/*
 * Check blob[len] as a working set for a guest of `guest_pages` pages.
 * Returns the number of runs (0 is valid: an empty set), with the runs
 * readable by mote_ws_run, or -1 with *err (MOTE_STATUS_ATTACH_WORKSET) saying
 * what is wrong: magic, length, another guest size, runs out of order,
 * overlapping, adjacent, empty or beyond the guest's RAM.
 */
long mote_ws_parse(const void *blob, size_t len, uint64_t guest_pages, struct mote_err *err);

/*
 * Read the working set in fd (its whole size from offset 0, at most MOTE_WS_MAX bytes) into blob
 * (MOTE_WS_MAX bytes) and check it as mote_ws_parse does. Returns the number of runs, or -1 with *err
 * (MOTE_STATUS_ATTACH_WORKSET).
 */
long mote_ws_read(int fd, uint8_t *blob, uint64_t guest_pages, struct mote_err *err);

/* Run i (< what mote_ws_parse returned) of a checked blob. */
struct mote_ws_run mote_ws_run(const void *blob, size_t i);

/* Pages in the checked blob's runs. */
uint64_t mote_ws_pages(const void *blob, size_t nruns);

#endif /* MOTE_WORKSET_H */
