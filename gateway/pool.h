/* Pools of paused clones: per base, VMs restored ahead of time and left at READY, taken by cold starts. */
#ifndef MOTE_GATEWAY_POOL_H
#define MOTE_GATEWAY_POOL_H

#include <stdint.h>

#include "gateway.h"
#include "metrics.h"

struct vm;

/*
 * A pool belongs to one base snapshot (bases/ID/base.snap) and holds VMs
 * restored from it that wait at READY, vCPU stopped, not attached to any
 * function. Its target size comes from gw.pools (sizing_pool_target): pinned
 * entries of --pool are kept full from the start; other bases get the
 * default size while a deployed function uses them. Refills run in the
 * background, at most gw.pool_rate restores a second and GW_POOL_INFLIGHT
 * at once, and only while gw.cap has room for a pooled VM.
 *
 * Pools fill from base_lookup(runtime, mem): the snapshot of the runtime's
 * active base in the registry, which alone decides (files changed on disk
 * make no new base; mote base build/activate does). A pooled VM names its
 * base (vm_spec.base), so the base's files stay while it lives. When a
 * switch makes another base active (pool_base_switched, a base_on_switch
 * hook), the old base's pools are retired (their VMs end) and new ones fill
 * from the new base; full pools also look their base up every second and
 * retire a pool whose snapshot is no longer the one returned.
 */

/* Set up the refill timer (after gw.loop exists) and start filling the pinned pools. */
void pool_init(void);

/* A current function version uses (delta +1) or stopped using (-1) the base (runtime, mem). */
void pool_note_use(const char *runtime, uint64_t mem, int delta);

/*
 * Take a paused VM restored from `snapshot`, or NULL (a miss: none is
 * ready). The VM's pooled charge in gw.cap stays charged: the caller now
 * owns it (and changes it with capacity_change). Counts a hit or a miss.
 */
struct vm *pool_take(const char *snapshot);

/* Paused VMs ready in the pool of `snapshot`. */
int pool_available(const char *snapshot);

/*
 * End one paused VM of a pool other than `keep_snapshot`'s (NULL: any), to
 * make room under the caps. Returns 1 if one was ended (its charge is
 * released now), 0 if none could be.
 */
int pool_evict(const char *keep_snapshot);

/*
 * Retire every pool of base `id` (the directory name under bases/, or a
 * prefix of it of at least 12 characters): its paused and restoring VMs
 * end now, and it is not refilled again. For the base switch: call it when
 * the base stops being the one base_lookup returns. Returns the number of
 * VMs ended.
 */
unsigned pool_retire_base(const char *id);

/* The base_on_switch hook: retire the pools of old_id ("" when none) and refill from the new base. */
void pool_base_switched(const char *runtime, const char *old_id, const char *new_id);

/* Count a restore of `snapshot` done outside the pools: for a request (miss) or for a deploy's check. */
enum pool_restore_kind { POOL_RESTORE_POOL, POOL_RESTORE_REQUEST, POOL_RESTORE_DEPLOY, POOL_RESTORE_KINDS };
void pool_count_restore(const char *snapshot, enum pool_restore_kind kind);

/* Paused and restoring VMs of every pool. */
void pool_counts(unsigned *paused, unsigned *restoring);

/* Append the pools' metrics (mote_pool_*, mote_restores_total, pooled VMs' memory) to b. */
void pool_metrics(struct metrics_buf *b);

/* The base id (directory name) of a snapshot path bases/ID/MEM/base.snap, into id[65]. */
void pool_base_id(const char *snapshot, char *id);

#endif /* MOTE_GATEWAY_POOL_H */
