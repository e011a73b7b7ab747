/* The store of function layers (state/layers/NAME/VERSION/BASE.layer): lookup, atomic commit, deletion,
 * counts. */
#ifndef MOTE_GATEWAY_LAYERS_H
#define MOTE_GATEWAY_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

/* What /metrics shows of layers (mote_layer_*_total). */
struct layer_counts {
	uint64_t hits;		/* cold starts restored from a layer */
	uint64_t misses;	/* cold starts restored from the base that found no layer to use */
	uint64_t takes;		/* layers written and committed */
	uint64_t take_failures; /* layers asked for but not stored */
	uint64_t fallbacks;	/* layers refused by mote-vmm (deleted; the start went on from the base) */
};

/* The counters, updated by the scheduler (gateway/fn.c) and the deploy (gateway/deploy.c). */
extern struct layer_counts layer_counts;

/*
 * Set up the store under `dir` (created; `enabled` 0: --no-layers, every
 * lookup misses and nothing is taken) and count the bytes it holds. A take
 * that was cut leaves nothing behind: takes write unnamed files. Returns 0
 * or -1 (errno).
 */
int layers_init(const char *dir, int enabled);

/* Are layers enabled (no --no-layers)? */
int layers_enabled(void);

/*
 * The path of the layer of function `name` version `version` on base
 * `base_id` into out (size bytes). Returns 0, or -1 when it does not fit.
 */
int layers_path(const char *name, long long version, const char *base_id, char *out, size_t size);

/* Does a layer exist for that version and base (and are layers enabled)? */
int layers_exists(const char *name, long long version, const char *base_id);

/*
 * Open an unnamed file (O_TMPFILE) in the store, to be handed to mote-vmm
 * as MOTE_CTL_F_TAKE_LAYER's fd before the version is known. Returns the fd
 * or -1 (errno; also when layers are disabled).
 */
int layers_open_take(void);

/*
 * Make the file written through fd (from layers_open_take) the layer of
 * that version on `base_id`: fsync, linked under a temporary name,
 * renamed into place, directory synced; after a crash at any point either
 * the whole layer or nothing is visible. Closes fd. Returns 0 or -1 (errno).
 */
int layers_commit(int fd, const char *name, long long version, const char *base_id);

/* Delete one layer (a refused one). */
void layers_remove(const char *name, long long version, const char *base_id);

/* Delete every layer of one version (retired or never deployed), and the function's directory once empty. */
void layers_remove_version(const char *name, long long version);

/* Delete every layer on base `base_id` (the base itself is being deleted). */
void layers_remove_base(const char *base_id);

/*
 * Delete the layers of every version for which keep(name, version, arg)
 * returns 0 (at start-up: versions no longer deployed, left by a crash).
 */
void layers_sweep(int (*keep)(const char *name, long long version, void *arg), void *arg);

/* Bytes of disk the stored layers use (kept up to date by the calls above). */
uint64_t layers_disk_bytes(void);

/* Append mote_layer_* metrics to b. */
void layers_metrics(struct metrics_buf *b);

#endif /* MOTE_GATEWAY_LAYERS_H */
