/* Base snapshots: a runtime booted and initialised once, stored under its identity in bases/, built on first
 * use. */
#ifndef MOTE_GATEWAY_BASE_H
#define MOTE_GATEWAY_BASE_H

#include <stdint.h>

#include "apierr.h"
#include "gateway.h"

struct base;

/* Someone waiting for a base build to end (embed it; `cb` runs once, on success or failure). */
struct base_waiter {
	h2o_linklist_t link;
	void (*cb)(struct base_waiter *w);
};

/*
 * The base for `runtime` ("c" or "lua") with `mem` bytes of RAM, as the
 * installed kernel and runtime binary make it today: its identity is the
 * SHA-256 of the runtime name, mem, the kernel's bytes and the runtime
 * binary's bytes (recomputed when either file changes). If bases/ID holds
 * no snapshot yet, a build starts (mote-vmm boots the runtime, which asks
 * for the snapshot, in a temporary directory renamed into place when
 * complete); a failed build is retried by a lookup 5 s later. Returns the
 * base, or NULL with *e (503 no_runtime) when the runtime or kernel is not
 * installed.
 */
struct base *base_lookup(const char *runtime, uint64_t mem, struct api_error *e);

/* The snapshot path of a built base, or NULL while it is being built or after its build failed. */
const char *base_snapshot(const struct base *b);

/* Why the last build failed (one line), or NULL when it did not. */
const char *base_failure(const struct base *b);

/* Call w->cb when the current build ends. Only while base_snapshot and base_failure are both NULL. */
void base_wait(struct base *b, struct base_waiter *w);

/* Stop waiting (safe when not waiting). */
void base_unwait(struct base_waiter *w);

/* Kill builds still running (the gateway is stopping). */
void base_kill_builds(void);

#endif /* MOTE_GATEWAY_BASE_H */
