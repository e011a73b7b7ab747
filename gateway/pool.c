/* Pools of paused clones: per base, VMs restored ahead of time and left at READY, taken by cold starts. */
#include "pool.h"
#include "runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "fn.h"
#include "vlog.h"
#include "vm.h"

#define FAIL_BACKOFF_MS 1000
#define MEM_MAX_AGE_MS 2000
#define CHECK_MS 1000 /* full pools look up their bases this often (the registry's active base decides) */

struct pool;

/* One VM of a pool: restoring (spawned, no READY yet) or paused (READY, waiting for a function). */
struct pooled {
	struct vm *vm;
	struct pool *pool;
	int paused;
	int charged; /* its SIZING_POOLED_CHARGE is in gw.cap */
	h2o_linklist_t link;
};

struct pool {
	struct pool *next;
	char snapshot[PATH_MAX + 200];
	char id[65];
	struct base *base; /* the base it fills from (set by tick from base_lookup); NULL once retired */
	char runtime[8];
	uint64_t mem;
	h2o_linklist_t vms;
	unsigned paused, restoring;
	int retired;
	uint64_t failed_at; /* a VM died before READY: wait before the next restore */
	uint64_t hits, misses, restores[POOL_RESTORE_KINDS];
};

/* A (runtime, mem) shape: how many current function versions use it. */
struct shape {
	struct shape *next;
	char runtime[8];
	uint64_t mem;
	unsigned users;
	int complained; /* its base could not be looked up: said once */
};

static struct pool *pools;
static struct shape *shapes;
static h2o_timeout_t tick_timeout, check_timeout;
static h2o_timeout_entry_t tick_entry, check_entry;
static unsigned inflight;
static uint64_t last_spawn_ms;
static int ready;

static void schedule_tick(void);

/* The start of the path component that ends at `end` (a '/' of `path`). */
static const char *component_start(const char *path, const char *end)
{
	const char *start = end;
	while (start > path && start[-1] != '/')
		start--;
	return start;
}

void pool_base_id(const char *snapshot, char *id)
{
	/* bases/ID/MEM/base.snap (MEM: the memory size, e.g. 64M): ID is two directories up. */
	const char *end = strrchr(snapshot, '/');
	const char *start = end ? component_start(snapshot, end) : NULL;
	if (start && end - start >= 2 && end[-1] == 'M' && start > snapshot) {
		int digits = 1;
		for (const char *c = start; c < end - 1; c++)
			digits = digits && *c >= '0' && *c <= '9';
		if (digits) {
			end = start - 1;
			start = component_start(snapshot, end);
		}
	}
	size_t n = end && start ? (size_t)(end - start) : 0;
	if (n > 64)
		n = 64;
	memcpy(id, start ? start : "", n);
	id[n] = 0;
}

static struct shape *shape_get(const char *runtime, uint64_t mem, int create)
{
	for (struct shape *s = shapes; s; s = s->next)
		if (!strcmp(s->runtime, runtime) && s->mem == mem)
			return s;
	if (!create)
		return NULL;
	struct shape *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	snprintf(s->runtime, sizeof(s->runtime), "%s", runtime);
	s->mem = mem;
	s->next = shapes;
	shapes = s;
	return s;
}

static struct pool *pool_get(const char *snapshot, struct base *b, const char *runtime, uint64_t mem,
			     int create)
{
	for (struct pool *p = pools; p; p = p->next)
		if (!p->retired && !strcmp(p->snapshot, snapshot))
			return p;
	if (!create)
		return NULL;
	struct pool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	snprintf(p->snapshot, sizeof(p->snapshot), "%s", snapshot);
	if (b)
		snprintf(p->id, sizeof(p->id), "%s", base_id(b));
	else
		pool_base_id(snapshot, p->id);
	p->base = b;
	snprintf(p->runtime, sizeof(p->runtime), "%s", runtime);
	p->mem = mem;
	h2o_linklist_init_anchor(&p->vms);
	p->next = pools;
	pools = p;
	return p;
}

static void pooled_release(struct pooled *pv)
{
	if (pv->charged) {
		capacity_release(&gw.cap, SIZING_POOLED_CHARGE);
		pv->charged = 0;
		fn_capacity_freed();
	}
}

static void pooled_unlink(struct pooled *pv)
{
	if (!h2o_linklist_is_linked(&pv->link))
		return;
	h2o_linklist_unlink(&pv->link);
	if (pv->paused)
		pv->pool->paused--;
	else {
		pv->pool->restoring--;
		inflight--;
	}
}

static void pooled_kill(struct pooled *pv, const char *why)
{
	pooled_unlink(pv);
	pooled_release(pv);
	vlogf("vm %d retired from the pool of base %.12s: %s", (int)vm_pid(pv->vm), pv->pool->id, why);
	vm_kill(pv->vm, why);
}

static void on_restored(struct vm *vm, void *owner)
{
	struct pooled *pv = owner;
	struct pool *p = pv->pool;
	p->restoring--;
	inflight--;
	pv->paused = 1;
	p->paused++;
	vlogf("vm %d pooled (base %.12s, restored in %.1f ms)", (int)vm_pid(vm), p->id, vm_restore_ms(vm));
	if (p->retired)
		pooled_kill(pv, "ended: its base was retired");
	schedule_tick();
}

static void on_exited(struct vm *vm, void *owner, const char *why)
{
	struct pooled *pv = owner;
	struct pool *p = pv->pool;
	int was_linked = h2o_linklist_is_linked(&pv->link), was_paused = pv->paused;
	pooled_unlink(pv);
	pooled_release(pv);
	vlogf("vm %d exited (pooled, base %.12s): %s", (int)vm_pid(vm), p->id, why);
	if (was_linked) {
		/* Not killed by us: it died by itself (a bad snapshot, a killed process). */
		if (!was_paused)
			p->failed_at = h2o_now(gw.loop);
		fprintf(stderr, "mote: a pooled VM of base %.12s ended: %s\n", p->id, why);
	}
	free(pv);
	schedule_tick();
}

static void on_unexpected_ready(struct vm *vm, void *owner, const char *text, size_t len)
{
}
static void on_unexpected_init_error(struct vm *vm, void *owner, const char *text, size_t len)
{
}
static void on_unexpected_response(struct vm *vm, void *owner, const struct mote_msg_response *res)
{
}

static const struct vm_events pooled_events = {
    .restored = on_restored,
    .ready = on_unexpected_ready,
    .init_error = on_unexpected_init_error,
    .response = on_unexpected_response,
    .exited = on_exited,
};

/* Start one restore into p. Returns 0 or -1. */
static int pool_spawn(struct pool *p)
{
	struct pooled *pv = calloc(1, sizeof(*pv));
	if (!pv)
		return -1;
	pv->pool = p;
	struct mote_err err = {0};
	pv->vm = vm_spawn(gw.loop, gw.vmm, p->snapshot, p->base, &pooled_events, pv, NULL, &err);
	if (!pv->vm) {
		fprintf(stderr, "mote: cannot start a pooled VM of base %.12s: %s\n", p->id, err.msg);
		p->failed_at = h2o_now(gw.loop);
		free(pv);
		return -1;
	}
	capacity_charge(&gw.cap, SIZING_POOLED_CHARGE);
	pv->charged = 1;
	h2o_linklist_insert(&p->vms, &pv->link);
	p->restoring++;
	p->restores[POOL_RESTORE_POOL]++;
	inflight++;
	vlogf("vm %d spawned for the pool of base %.12s", (int)vm_pid(pv->vm), p->id);
	return 0;
}

static void retire_pool(struct pool *p, const char *why)
{
	p->retired = 1;
	p->base = NULL;
	while (!h2o_linklist_is_empty(&p->vms))
		pooled_kill(H2O_STRUCT_FROM_MEMBER(struct pooled, link, p->vms.next), why);
}

/* Trim a pool to `target` paused VMs (restoring ones finish and are trimmed then). */
static void trim(struct pool *p, unsigned target)
{
	for (h2o_linklist_t *l = p->vms.next; l != &p->vms && p->paused + p->restoring > target;) {
		struct pooled *pv = H2O_STRUCT_FROM_MEMBER(struct pooled, link, l);
		l = l->next;
		if (pv->paused)
			pooled_kill(pv, "ended: the pool is larger than it should be");
	}
}

static void tick(h2o_timeout_entry_t *e)
{
	uint64_t now = h2o_now(gw.loop);
	int more = 0;
	/* The shapes to keep pools for: pinned entries of --pool and the bases functions use. */
	for (unsigned i = 0; i < gw.pools.n; i++) {
		uint64_t mem =
		    gw.pools.e[i].mem ? gw.pools.e[i].mem : runtime_default_mem(gw.pools.e[i].runtime);
		shape_get(gw.pools.e[i].runtime, mem, 1);
	}
	for (struct shape *s = shapes; s; s = s->next) {
		unsigned target = sizing_pool_target(&gw.pools, s->runtime, s->mem,
						     runtime_default_mem(s->runtime), s->users > 0, NULL);
		struct pool *cur = NULL;
		const char *snap = NULL;
		struct base *b = NULL;
		if (target > 0) {
			struct api_error ae;
			b = base_lookup(s->runtime, s->mem, &ae);
			if (!b && !s->complained) {
				fprintf(stderr, "mote: no pool for the %s base (%llu MiB): %s\n", s->runtime,
					(unsigned long long)(s->mem >> 20), ae.msg);
				s->complained = 1;
			}
			snap = b ? base_snapshot(b) : NULL;
			if (b && !snap && !base_failure(b))
				more = 1; /* being built: look again */
		}
		/* Retire the shape's pools of other snapshots (a new base) or all of them (no target). */
		for (struct pool *p = pools; p; p = p->next) {
			if (p->retired || strcmp(p->runtime, s->runtime) || p->mem != s->mem)
				continue;
			if (snap && !strcmp(p->snapshot, snap))
				cur = p;
			else if (snap || target == 0)
				retire_pool(p, snap ? "ended: its base was replaced"
						    : "ended: no function uses its base");
		}
		if (!snap)
			continue;
		if (!cur)
			cur = pool_get(snap, b, s->runtime, s->mem, 1);
		if (!cur)
			continue;
		cur->base = b; /* the active base's snapshot of this shape: its VMs keep it alive */
		if (cur->paused + cur->restoring > target) {
			trim(cur, target);
			continue;
		}
		if (cur->failed_at && now - cur->failed_at < FAIL_BACKOFF_MS) {
			more = 1;
			continue;
		}
		unsigned interval = gw.pool_rate ? 1000u / gw.pool_rate : 1000u;
		while (sizing_pool_deficit(target, cur->paused, cur->restoring, GW_POOL_INFLIGHT - inflight) >
		       0) {
			if (last_spawn_ms && now - last_spawn_ms < interval) {
				more = 1;
				break;
			}
			if (!capacity_fits(&gw.cap, SIZING_POOLED_CHARGE))
				break; /* the caps are reached: requests come first; a VM's exit calls us
					  again */
			if (pool_spawn(cur) < 0) {
				more = 1;
				break;
			}
			last_spawn_ms = now;
			if (interval)
				break; /* one per interval */
		}
		if (cur->paused + cur->restoring < target)
			more = 1;
	}
	if (more)
		schedule_tick();
	else if (shapes && !h2o_timeout_is_linked(&check_entry))
		h2o_timeout_link(gw.loop, &check_timeout,
				 &check_entry); /* a base may change on disk: look again */
}

static void schedule_tick(void)
{
	if (!ready || h2o_timeout_is_linked(&tick_entry))
		return;
	h2o_timeout_link(gw.loop, &tick_timeout, &tick_entry);
}

void pool_init(void)
{
	unsigned interval = gw.pool_rate ? 1000u / gw.pool_rate : 1000u;
	h2o_timeout_init(gw.loop, &tick_timeout, interval ? interval : 1);
	tick_entry.cb = tick;
	h2o_timeout_init(gw.loop, &check_timeout, CHECK_MS);
	check_entry.cb = tick;
	ready = 1;
	schedule_tick();
}

void pool_note_use(const char *runtime, uint64_t mem, int delta)
{
	struct shape *s = shape_get(runtime, mem, 1);
	if (!s)
		return;
	if (delta < 0 && s->users == 0)
		return;
	s->users = (unsigned)((int)s->users + delta);
	schedule_tick();
}

static void disowned_exited(struct vm *vm, void *owner, const char *why)
{
}

/* A taken VM's events until its taker attaches it (or kills it). */
static const struct vm_events disowned_events = {.exited = disowned_exited};

struct vm *pool_take(const char *snapshot)
{
	struct pool *p = pool_get(snapshot, NULL, "", 0, 0);
	if (!p)
		return NULL; /* no pool for this base: not a miss of a pool */
	for (h2o_linklist_t *l = p->vms.prev; l != &p->vms; l = l->prev) {
		struct pooled *pv = H2O_STRUCT_FROM_MEMBER(struct pooled, link, l);
		if (!pv->paused)
			continue;
		struct vm *vm = pv->vm;
		pooled_unlink(pv);
		pv->charged = 0; /* the charge goes with the VM */
		free(pv);
		vm_set_owner(vm, &disowned_events, NULL, NULL);
		p->hits++;
		schedule_tick();
		return vm;
	}
	p->misses++;
	schedule_tick();
	return NULL;
}

int pool_available(const char *snapshot)
{
	struct pool *p = pool_get(snapshot, NULL, "", 0, 0);
	return p ? p->paused : 0;
}

int pool_evict(const char *keep_snapshot)
{
	for (struct pool *p = pools; p; p = p->next) {
		if (keep_snapshot && !strcmp(p->snapshot, keep_snapshot))
			continue;
		for (h2o_linklist_t *l = p->vms.next; l != &p->vms; l = l->next) {
			struct pooled *pv = H2O_STRUCT_FROM_MEMBER(struct pooled, link, l);
			if (pv->paused) {
				pooled_kill(pv, "ended: its room is needed by a request");
				return 1;
			}
		}
	}
	return 0;
}

unsigned pool_retire_base(const char *id)
{
	size_t n = strlen(id);
	unsigned ended = 0;
	if (n < 12)
		return 0;
	for (struct pool *p = pools; p; p = p->next)
		if (!p->retired && !strncmp(p->id, id, n)) {
			ended += p->paused + p->restoring;
			retire_pool(p, "ended: its base was retired");
		}
	schedule_tick(); /* refill from the base base_lookup returns now */
	return ended;
}

void pool_base_switched(const char *runtime, const char *old_id, const char *new_id)
{
	if (old_id && old_id[0]) {
		unsigned n = pool_retire_base(old_id);
		vlogf("the %s base is now %.12s: %u pooled VMs of base %.12s ended", runtime, new_id, n,
		      old_id);
	}
	schedule_tick();
}

void pool_count_restore(const char *snapshot, enum pool_restore_kind kind)
{
	char id[65];
	pool_base_id(snapshot, id);
	for (struct pool *p = pools; p; p = p->next)
		if (!strcmp(p->snapshot, snapshot)) {
			p->restores[kind]++;
			return;
		}
	/* A base without a pool (pools off): keep its counts in a retired-looking record. */
	struct pool *p = pool_get(snapshot, NULL, "", 0, 1);
	if (p) {
		p->retired = 1;
		p->restores[kind]++;
	}
}

void pool_counts(unsigned *paused, unsigned *restoring)
{
	*paused = *restoring = 0;
	for (struct pool *p = pools; p; p = p->next) {
		*paused += p->paused;
		*restoring += p->restoring;
	}
}

void pool_metrics(struct metrics_buf *b)
{
	char l[512], mem[32];
	static const char *const kinds[POOL_RESTORE_KINDS] = {"pool", "request", "deploy"};
	metrics_family(b, "mote_pool_vms", "gauge", "VMs in a pool of paused clones, by base and state");
	for (struct pool *p = pools; p; p = p->next) {
		if (p->retired && !p->paused && !p->restoring)
			continue;
		snprintf(mem, sizeof(mem), "%llu", (unsigned long long)p->mem);
		metrics_sample(b, "mote_pool_vms",
			       metrics_labels(l, sizeof(l), "base", p->id, "runtime", p->runtime, "mem", mem,
					      "state", "paused", NULL),
			       p->paused);
		metrics_sample(b, "mote_pool_vms",
			       metrics_labels(l, sizeof(l), "base", p->id, "runtime", p->runtime, "mem", mem,
					      "state", "restoring", NULL),
			       p->restoring);
	}
	metrics_family(b, "mote_pool_target", "gauge", "The size a pool is kept at, by base");
	for (struct pool *p = pools; p; p = p->next) {
		if (p->retired)
			continue;
		struct shape *s = shape_get(p->runtime, p->mem, 0);
		unsigned target = sizing_pool_target(
		    &gw.pools, p->runtime, p->mem, runtime_default_mem(p->runtime), s && s->users > 0, NULL);
		metrics_sample(b, "mote_pool_target", metrics_labels(l, sizeof(l), "base", p->id, NULL),
			       target);
	}
	metrics_family(b, "mote_pool_hits_total", "counter",
		       "Cold starts that took a paused VM from the pool");
	for (struct pool *p = pools; p; p = p->next)
		if (p->runtime[0])
			metrics_sample(b, "mote_pool_hits_total",
				       metrics_labels(l, sizeof(l), "base", p->id, NULL), (double)p->hits);
	metrics_family(b, "mote_pool_misses_total", "counter",
		       "Cold starts that found the pool of their base empty (and restored on the spot)");
	for (struct pool *p = pools; p; p = p->next)
		if (p->runtime[0])
			metrics_sample(b, "mote_pool_misses_total",
				       metrics_labels(l, sizeof(l), "base", p->id, NULL), (double)p->misses);
	metrics_family(b, "mote_restores_total", "counter",
		       "Restores of a base snapshot, by what they were for (pool, request, deploy)");
	for (struct pool *p = pools; p; p = p->next)
		for (int k = 0; k < POOL_RESTORE_KINDS; k++)
			metrics_sample(b, "mote_restores_total",
				       metrics_labels(l, sizeof(l), "base", p->id, "for", kinds[k], NULL),
				       (double)p->restores[k]);
	metrics_family(
	    b, "mote_pool_vm_memory_bytes", "gauge",
	    "Memory of the pooled VMs' mote-vmm processes (smaps_rollup), summed by base and kind");
	for (struct pool *p = pools; p; p = p->next) {
		if (!p->paused)
			continue;
		uint64_t priv = 0, shared = 0;
		for (h2o_linklist_t *ln = p->vms.next; ln != &p->vms; ln = ln->next) {
			struct pooled *pv = H2O_STRUCT_FROM_MEMBER(struct pooled, link, ln);
			struct vm_memory m;
			if (pv->paused && vm_memory(pv->vm, MEM_MAX_AGE_MS, &m) == 0) {
				priv += m.private_bytes;
				shared += m.shared_bytes;
			}
		}
		metrics_sample(b, "mote_pool_vm_memory_bytes",
			       metrics_labels(l, sizeof(l), "base", p->id, "kind", "private", NULL),
			       (double)priv);
		metrics_sample(b, "mote_pool_vm_memory_bytes",
			       metrics_labels(l, sizeof(l), "base", p->id, "kind", "shared", NULL),
			       (double)shared);
	}
}
