/* Pool sizing and capacity accounting: the --pool spec, the memory budget and VM caps (pure logic, no I/O).
 */
#ifndef MOTE_GATEWAY_SIZING_H
#define MOTE_GATEWAY_SIZING_H

#include <stddef.h>
#include <stdint.h>

/* Pools per base: an entry per runtime (and memory size), and a default for the other bases in use. */
#define SIZING_POOL_ENTRIES 16
#define SIZING_POOL_MAX 10000u /* VMs in one pool */

struct pool_entry {
	char runtime[8]; /* "c" or "lua" */
	uint64_t mem;	 /* guest RAM of the base, bytes; 0: the default (64M) */
	unsigned size;
};

struct pool_config {
	unsigned default_size; /* for a base used by a deployed function and named by no entry */
	unsigned n;
	struct pool_entry e[SIZING_POOL_ENTRIES];
};

/* The default: 2 paused VMs for each base that a deployed function uses, no explicit entry. */
#define SIZING_DEFAULT_POOL 2u

/*
 * Parse a --pool value: a comma-separated list of RUNTIME=N (the base of
 * that runtime at the default memory size), RUNTIME:SIZE=N (at that memory
 * size, e.g. lua:128M=2) and a bare N (the size for any other base a
 * deployed function uses; default SIZING_DEFAULT_POOL). N is 0 to
 * SIZING_POOL_MAX; "0" turns pools off. A runtime named twice keeps the
 * last. Fills *out and returns 0, or returns -1 with one line in why[size].
 */
int sizing_parse_pool(const char *text, struct pool_config *out, char *why, size_t why_size);

/*
 * Whether a cold start that has a pooled VM at hand should restore the function's layer instead
 * (docs/functions.md, "Layers"). A pooled VM costs the request its attach and the function's load; the
 * layer its restore and attach. A layer_min_load_ms of 0: always the layer. A load (load_ms, RUNNING to
 * READY, -1: unknown) shorter than layer_min_load_ms: the pooled VM. Otherwise, with pool_ms (the last
 * start from the pool, attach asked to the runtime's READY) and layer_ms (the last start from the layer,
 * spawn to its first message; each -1 when not measured yet) both measured, the faster, except that
 * every 16th `start` (this version's cold starts, from 0) takes the other to measure it again; with one
 * measured, the other, to measure it; with neither, the layer when the load is known.
 */
int sizing_start_from_layer(uint64_t layer_min_load_ms, double load_ms, double pool_ms, double layer_ms,
			    unsigned start);

/*
 * The size the pool of base (runtime, mem) should have: an entry naming it
 * (mem 0 in an entry matching default_mem), else default_size when a
 * deployed function uses the base (in_use), else 0. *pinned (may be NULL)
 * is set to 1 when an entry names it: such a pool is kept full even when
 * no function uses its base yet.
 */
unsigned sizing_pool_target(const struct pool_config *c, const char *runtime, uint64_t mem,
			    uint64_t default_mem, int in_use, int *pinned);

/*
 * How many restores a pool may start now: the missing VMs (target - have -
 * restoring, none if negative), at most `slots` (restores the rate limit
 * lets start now).
 */
unsigned sizing_pool_deficit(unsigned target, unsigned have, unsigned restoring, unsigned slots);

/*
 * How many VMs a function should have: enough that each runs at most
 * `concurrency` of the requests running (busy) and waiting (queued), i.e.
 * ceil((busy + queued) / concurrency); concurrency 0 counts as 1.
 */
unsigned sizing_desired_vms(unsigned busy, unsigned queued, unsigned concurrency);

/*
 * The global caps: at most max_vms VM processes (pooled, starting, warm,
 * busy) and at most budget bytes charged. A pooled VM is charged
 * SIZING_POOLED_CHARGE (what its mote-vmm holds privately before attach,
 * rounded up: see docs/performance.md), an attached VM its guest RAM (the
 * most it can touch).
 */
#define SIZING_POOLED_CHARGE (1ull << 20)

struct capacity {
	uint64_t budget; /* bytes */
	uint32_t max_vms;
	uint64_t charged; /* bytes charged now */
	uint32_t vms;	  /* VMs charged now */
};

/* Would one more VM charged `bytes` fit? */
int capacity_fits(const struct capacity *c, uint64_t bytes);

/* Would a VM charged `from` fit when charged `to` instead (a pooled VM attached)? */
int capacity_fits_change(const struct capacity *c, uint64_t from, uint64_t to);

/* Charge one more VM of `bytes` (even beyond the caps: the caller checked, or must not refuse). */
void capacity_charge(struct capacity *c, uint64_t bytes);

/* Change a charged VM's charge from `from` to `to`. */
void capacity_change(struct capacity *c, uint64_t from, uint64_t to);

/* Release a VM charged `bytes` (it was killed or exited). */
void capacity_release(struct capacity *c, uint64_t bytes);

/*
 * The default memory budget for a host of `mem_total` bytes (MemTotal):
 * half of it, at least 256 MiB.
 */
uint64_t sizing_default_budget(uint64_t mem_total);

/* MemTotal of /proc/meminfo's text, bytes; 0 when absent. */
uint64_t sizing_parse_meminfo(const char *text);

#endif /* MOTE_GATEWAY_SIZING_H */
