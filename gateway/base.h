/* Bases: a guest kernel and a runtime program, copied into bases/ID and snapshotted once per memory size; one
 * active per runtime, built, activated and retired without redeploying any function. */
#ifndef MOTE_GATEWAY_BASE_H
#define MOTE_GATEWAY_BASE_H

#include <stdint.h>

#include "apierr.h"
#include "err.h"
#include "gateway.h"
#include "registry.h"

/* One memory size of a base: the snapshot a VM restores. Lives as long as its base. */
struct base;

/* Someone waiting for a snapshot build to end (embed it; `cb` runs once, on success or failure). */
struct base_waiter {
	h2o_linklist_t link;
	void (*cb)(struct base_waiter *w);
};

/*
 * Load the bases of the registry (the gateway starts, after the registry
 * is open and before any lookup): forget rows of builds that never
 * finished or whose directory is gone, remove directories under bases/
 * that no row names (leftovers of an interrupted build or deletion, and
 * the per-memory-size bases of earlier mote versions), and delete the
 * files of bases nothing keeps (see base_collect). Returns 0 or -1 with
 * *err.
 */
int base_load_all(struct mote_err *err);

/*
 * The snapshot a new VM of `runtime` ("c" or "lua") with `mem` bytes of
 * RAM restores now: that of the runtime's active base. With no base of the
 * runtime yet, one is built from the installed kernel and runtime program
 * (--kernel, --runtimes) and activated when done. A memory size the active
 * base has no snapshot of yet is built now (in bases/ID/.tmp-*, renamed
 * into place when complete); a failed build is retried by a lookup 5 s
 * later. Returns the snapshot (ready, building, or failed: see
 * base_snapshot and base_failure), or NULL with *e (400 bad_request for an
 * unknown runtime, 503 no_runtime when the kernel or runtime program is not
 * installed).
 */
struct base *base_lookup(const char *runtime, uint64_t mem, struct api_error *e);

/* The snapshot path of a built snapshot, or NULL while it is being built or after its build failed. */
const char *base_snapshot(const struct base *b);

/* Why the last build failed (one line), or NULL when it did not. */
const char *base_failure(const struct base *b);

/* Call w->cb when the current build ends. Only while base_snapshot and base_failure are both NULL. */
void base_wait(struct base *b, struct base_waiter *w);

/* Stop waiting (safe when not waiting). */
void base_unwait(struct base_waiter *w);

/* The id of the base snapshot b belongs to (64 hex digits). */
const char *base_id(const struct base *b);

/* Is b a snapshot of its runtime's active base (1), or of one that was replaced (0)? NULL: 1. */
int base_is_active(const struct base *b);

/*
 * Someone waiting for `base_build` to end (embed it). `cb` runs once: with
 * the base's id and e == NULL when it is built (and activated when asked),
 * or with e set when it failed (nothing of it is kept).
 */
struct base_build_waiter {
	h2o_linklist_t link;
	void (*cb)(struct base_build_waiter *w, const char *id, const struct api_error *e);
};

/*
 * Build a base for `runtime` from the files `kernel` and `program` (NULL:
 * the installed ones): both are copied into a temporary directory under
 * bases/, the id is computed from the copies, the runtime is booted and
 * snapshotted once for each memory size the runtime's deployed functions
 * use (and the default 64M); only when all are complete is the directory
 * renamed to bases/ID and the registry row marked ready. With `activate`,
 * or when the runtime has no active base, it is then activated. A base of
 * the same id that exists is not built again (1 is returned, *id_out
 * holds it, it is activated when asked, `w` is not called). Returns 0
 * when the build started (w->cb follows; a build of the same id already
 * running is joined), or -1 with *e: 400 bad_request (runtime), 404
 * no_file (a file is missing or not a regular file), 409 base_building
 * (activate while it builds), 500/503 host failures.
 */
int base_build(const char *runtime, const char *kernel, const char *program, int activate,
	       struct base_build_waiter *w, char id_out[REG_HASH_HEX + 1], struct api_error *e);

/* Stop waiting for a build (safe when not waiting); the build goes on. */
void base_build_unwait(struct base_build_waiter *w);

/*
 * Make the base whose id starts with `id` (at least 8 hex digits) the
 * active one of its runtime: durable in the registry first, then new VMs
 * restore from it, the switch hooks run (VMs of the previous base end once
 * idle), snapshots of the memory sizes deployed functions use are built if
 * missing, and the previous base is kept as the rollback target. Activating
 * the active base changes nothing. Fills id_out and prev_out ("" if none).
 * Returns 0, or -1 with *e: 400 bad_request (not an id, ambiguous prefix),
 * 404 unknown_base, 409 base_building, 500 internal.
 */
int base_activate(const char *id, char id_out[REG_HASH_HEX + 1], char prev_out[REG_HASH_HEX + 1],
		  struct api_error *e);

/* Run cb(runtime, old_id, new_id) after every switch of a runtime's active base (at most 4 hooks). */
void base_on_switch(void (*cb)(const char *runtime, const char *old_id, const char *new_id));

/* What `mote base ls` shows of one base. */
struct base_info {
	const struct reg_base *reg;
	/* building, ready, active, previous (the rollback target), retiring (deleted once no VM uses it) */
	const char *state;
	unsigned vms; /* VMs restored from it, alive now */
	uint64_t mems[16];
	unsigned nmems; /* memory sizes it has a built snapshot of */
};

/* Call cb for every base, oldest first (a failed build is not one: nothing of it is kept). */
void base_each(void (*cb)(const struct base_info *i, void *arg), void *arg);

/*
 * Delete the files and the registry row of every base nothing keeps: not
 * active, not the rollback target (the one most recently replaced as
 * active, per runtime), not the newest ready one of its runtime, not
 * building, and no VM restored from it alive. Runs by itself every 500 ms
 * while some base waits for its VMs to end.
 */
void base_collect(void);

/* Kill builds still running (the gateway is stopping). */
void base_kill_builds(void);

#endif /* MOTE_GATEWAY_BASE_H */
