/* Deployed functions at run time: their versions, warm VMs, request queue and limits (the scheduler). */
#ifndef MOTE_GATEWAY_FN_H
#define MOTE_GATEWAY_FN_H

#include <stddef.h>
#include <stdint.h>

#include "gateway.h"
#include "metrics.h"
#include "registry.h"

struct fn;
struct vm;
struct fnlog;

/* What `mote ls` shows of a function's VMs. */
struct fn_stats {
	unsigned starting, idle, busy, queued;
};

/*
 * Load every function of the registry (the gateway starts), opening each
 * one's bundle and log. A function whose bundle file is missing is loaded
 * anyway and answers 502 until redeployed (a line on stderr says so).
 * Returns 0 or -1 with *err.
 */
int fn_load_all(struct mote_err *err);

/* The function of that name, or NULL. */
struct fn *fn_find(const char *name);

/* Call cb for every function (by name order of loading; the admin API sorts). */
void fn_each(void (*cb)(struct fn *fn, void *arg), void *arg);

/* The function's current settings and version, its stats, its log. */
const struct reg_function *fn_settings(const struct fn *fn);
void fn_stats(const struct fn *fn, struct fn_stats *out);
struct fnlog *fn_log(struct fn *fn);

/*
 * The log of function `name`, opened (and its function created empty if
 * need be) before a deploy commits, so that a deploy's checking VM can
 * write to it. Returns NULL only when the log cannot be opened.
 */
struct fnlog *fn_log_for(const char *name);

/*
 * Make `f` (committed to the registry) the function's current version:
 * requests from now on go to it; VMs of the previous version finish the
 * request they have and are ended. `bundle_fd` (the stored bundle, the
 * function takes it over) is what its VMs attach. `warm` (may be NULL) is
 * a VM already attached to this bundle and idle (the deploy's check), kept
 * as the first warm VM.
 */
void fn_install(const struct reg_function *f, int bundle_fd, uint64_t bundle_size, struct vm *warm);

/* Remove the function: waiting requests get 404, VMs end after their request, its log files go. */
void fn_remove(struct fn *fn);

/*
 * Serve an HTTP request for function fn: `path` is the URL path after
 * /fn/NAME ("/" at least) and `query` what follows '?'. Answers
 * asynchronously: the function's response, or 413 (too large for the
 * invoke region), 503 + Retry-After (queue full or waited too long), 504
 * (timeout: the VM is killed), 502 (the VM crashed or answered garbage).
 */
void fn_invoke(struct fn *fn, h2o_req_t *req, h2o_iovec_t path, h2o_iovec_t query);

/* Answer req with a gateway error: status, an x-mote-error code header and a one-line text body. */
void fn_send_error(h2o_req_t *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * A runtime's active base changed (a base_on_switch hook): idle and
 * starting VMs restored from a base no longer active end now, busy ones
 * after their request; waiting requests get VMs of the new base.
 */
void fn_base_switched(const char *runtime, const char *old_id, const char *new_id);

/* How many of the function's VMs (of any of its versions) were restored from base `id`. */
unsigned fn_vms_on_base(const struct fn *fn, const char *id);

/* Set up the shared timers (after gw.loop exists). */
void fn_init(void);

/* Room was freed under the caps (gw.cap): functions waiting for it try again (from the loop, soon). */
void fn_capacity_freed(void);

/* Requests waiting or running now (SIGTERM drains them). */
uint64_t fn_inflight(void);

/* Append the functions' metrics (mote_requests_total, mote_request_duration_seconds, mote_vms, ...) to b. */
void fn_metrics(struct metrics_buf *b);

/* A copy of the latency histogram of one path (for mote top). */
void fn_latency(enum metrics_path p, struct metrics_histogram *out);

#endif /* MOTE_GATEWAY_FN_H */
