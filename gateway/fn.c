/* Deployed functions at run time: their versions, warm VMs, request queue and limits (the scheduler). */
#include "fn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base.h"
#include "bundle.h"
#include "fnlog.h"
#include "layers.h"
#include "pool.h"
#include "status.h"
#include "vlog.h"
#include "workset.h"
#include "vm.h"

/*
 * Objects and who owns whom:
 *   fn       one per deployed name; owns its versions, its log, its queue of calls
 *   fnver    one deployed version; `cur` of its fn, or retired (draining) until its last VM is gone
 *   slot     one VM of a version: starting, idle, busy or dying
 *   call     one HTTP request for a function, allocated in the request's memory pool: queued, then
 *            running on a slot, then answered; if h2o drops the request first, its dispose unlinks it
 * A VM is handed a request only when idle; every timer entry is unlinked before its object goes.
 */

enum slot_state { SLOT_STARTING, SLOT_IDLE, SLOT_BUSY, SLOT_DYING };

struct fnver;

struct slot {
	struct vm *vm;
	struct fnver *ver;
	enum slot_state state;
	struct call *call;
	h2o_linklist_t link;	   /* in ver->slots */
	h2o_linklist_t idle_link;  /* in idle_lru while idle */
	h2o_timeout_entry_t timer; /* start deadline, then idle deadline */
	enum metrics_path origin;  /* how its next request is served: cold_* for the first, then warm */
	uint64_t charge;	   /* bytes charged in gw.cap (0 once released) */
	int charged;
	int layer_fd;	     /* the unnamed file its layer is being written to, or -1 */
	int from_layer;	     /* restored from its version's layer on layer_base */
	int took_layer;	     /* its VM was asked for a layer */
	char layer_base[65]; /* the base id of the layer it takes or was restored from */
};

struct fnver {
	struct fn *fn;
	struct reg_function cfg;
	int bundle_fd;
	uint64_t bundle_size;
	h2o_timeout_t *timeout; /* the function timeout (shared by every version with that value) */
	h2o_linklist_t slots;
	h2o_linklist_t link; /* in fn->retired while draining */
	int retired;
	struct base_waiter base_wait;
	struct base *base_waited;
	h2o_timeout_t *idle_timeout; /* NULL when the idle time is 0 */
	uint64_t idle_ms;
	int uses_noted;		  /* pool_note_use(+1) was called */
	int taking_layer;	  /* one of its VMs is taking its layer (one take at a time) */
	unsigned layer_failures;  /* takes that failed and layers refused; none is taken past the cap */
	double load_ms;		  /* its load time as last measured (RUNNING to READY), -1: not yet */
	double pool_ms, layer_ms; /* its last cold start from the pool / from its layer, -1: not yet */
	unsigned starts;	  /* cold starts that could choose between the two */
	/* Its working set (lib/workset.h): a memfd recorded by one of its VMs on base snapshot ws_base, or
	 * -1; one of its VMs is recording; VMs asked so far (docs/snapshots.md, "Working sets"). */
	int ws_fd;
	const struct base *ws_base;
	int ws_recording;
	unsigned ws_asked;
};

struct fn {
	struct fn *next;
	char name[REG_NAME_MAX + 1];
	struct fnver *cur; /* NULL once removed */
	h2o_linklist_t retired;
	h2o_linklist_t queue;
	unsigned queued;
	struct fnlog *log;
	int removed;
	h2o_linklist_t cap_link; /* in cap_waiters while it needs a VM the caps do not allow */
	struct metrics_statuses statuses;
	uint64_t evicted; /* its idle VMs ended to make room for others */
};

struct call {
	h2o_req_t *req; /* NULL once answered or dropped */
	struct fn *fn;
	h2o_iovec_t path, query;
	h2o_linklist_t qlink;
	h2o_timeout_entry_t timer; /* queue wait, then the function timeout */
	struct slot *slot;
	uint64_t id;
	uint64_t t_start; /* CLOCK_MONOTONIC ns at arrival */
	enum metrics_path served_by;
	int dispatched;
};

static struct fn *fns;
static h2o_timeout_t queue_timeout, start_timeout, wake_timeout;
static int cpu_unlimited_said; /* the line that CPU limits need a jail was printed */
static h2o_timeout_entry_t wake_entry;
static uint64_t call_ids;
/* Idle slots, least recently used first (the ones ended first when the caps are reached). */
static h2o_linklist_t idle_lru;
/* Functions waiting for room under the caps, first come first served. */
static h2o_linklist_t cap_waiters;
static struct metrics_histogram latency[METRICS_PATHS];
static uint64_t evictions_idle, evictions_pooled, inflight_calls;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* h2o timeouts by duration, never disposed (a timeout may not go while h2o runs the list of them). */
static struct timeout_by_ms {
	struct timeout_by_ms *next;
	h2o_timeout_t t;
} * timeouts;

static h2o_timeout_t *timeout_for(uint64_t ms)
{
	for (struct timeout_by_ms *t = timeouts; t; t = t->next)
		if (t->t.timeout == ms)
			return &t->t;
	struct timeout_by_ms *t = calloc(1, sizeof(*t));
	if (!t)
		abort();
	h2o_timeout_init(gw.loop, &t->t, ms);
	t->next = timeouts;
	timeouts = t;
	return &t->t;
}

static void pump(struct fn *fn);

static void on_wake(h2o_timeout_entry_t *e)
{
	/* Room was freed under the caps: the waiting functions try again, in the order they came. */
	h2o_linklist_t todo;
	h2o_linklist_init_anchor(&todo);
	h2o_linklist_insert_list(&todo, &cap_waiters);
	while (!h2o_linklist_is_empty(&todo)) {
		struct fn *fn = H2O_STRUCT_FROM_MEMBER(struct fn, cap_link, todo.next);
		h2o_linklist_unlink(&fn->cap_link);
		pump(fn);
	}
}

void fn_capacity_freed(void)
{
	if (!h2o_linklist_is_empty(&cap_waiters) && !h2o_timeout_is_linked(&wake_entry))
		h2o_timeout_link(gw.loop, &wake_timeout, &wake_entry);
}

void fn_init(void)
{
	h2o_timeout_init(gw.loop, &queue_timeout, gw.queue_wait_ms);
	h2o_timeout_init(gw.loop, &start_timeout, gw.start_ms);
	h2o_timeout_init(gw.loop, &wake_timeout, 0);
	wake_entry.cb = on_wake;
	h2o_linklist_init_anchor(&idle_lru);
	h2o_linklist_init_anchor(&cap_waiters);
}

static void maybe_free_fn(struct fn *fn);

/* ---- answering ---------------------------------------------------------------------------------- */

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 422: return "Unprocessable Content";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

void fn_send_error(h2o_req_t *req, int status, const char *code, const char *fmt, ...)
{
	char text[600];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(text) - 2)
		n = sizeof(text) - 2;
	text[n++] = '\n';
	req->res.status = status;
	req->res.reason = reason_phrase(status);
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
		       H2O_STRLIT("text/plain; charset=utf-8"));
	h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-mote-error"), 0, NULL, code,
			      strlen(code));
	if (status == 503)
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("1"));
	req->res.content_length = (size_t)n;
	h2o_send_inline(req, text, (size_t)n);
}

/* Detach a call from everything (queue, timer, slot); the caller answers or drops it. */
static void call_detach(struct call *c)
{
	if (h2o_linklist_is_linked(&c->qlink)) {
		h2o_linklist_unlink(&c->qlink);
		c->fn->queued--;
	}
	h2o_timeout_unlink(&c->timer);
	if (c->slot) {
		c->slot->call = NULL;
		c->slot = NULL;
	}
}

static void call_fail(struct call *c, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The call is answered with `status` (or dropped: status 0): count it. */
static void call_done(struct call *c, int status)
{
	inflight_calls--;
	if (status)
		metrics_count_status(&c->fn->statuses, status);
	if (c->dispatched && status)
		metrics_observe(&latency[c->served_by], (double)(mono_ns() - c->t_start) / 1e9);
}

static void call_fail(struct call *c, int status, const char *code, const char *fmt, ...)
{
	call_detach(c);
	h2o_req_t *req = c->req;
	c->req = NULL;
	if (!req)
		return;
	call_done(c, status);
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fn_send_error(req, status, code, "%s", text);
}

/* Hop-by-hop and framing headers are h2o's business, not the function's. */
static int header_skipped(const char *name, size_t len)
{
	static const char *const skip[] = {
	    "connection", "keep-alive", "transfer-encoding", "content-length", "upgrade", "proxy-connection",
	    "te",	  "trailer"};
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strlen(skip[i]) == len && !strncasecmp(skip[i], name, len))
			return 1;
	return 0;
}

static void call_respond(struct call *c, const struct mote_msg_response *res)
{
	call_detach(c);
	h2o_req_t *req = c->req;
	c->req = NULL;
	if (!req)
		return;
	call_done(c, (int)res->status);
	req->res.status = (int)res->status;
	req->res.reason = reason_phrase((int)res->status);
	uint64_t cursor = 0;
	struct mote_msg_header h;
	while (mote_msg_next_header(res->headers, res->headers_len, &cursor, &h)) {
		if (header_skipped(h.name, h.name_len))
			continue;
		char *name = h2o_mem_alloc_pool(&req->pool, h.name_len);
		for (uint32_t i = 0; i < h.name_len; i++)
			name[i] = (char)((h.name[i] >= 'A' && h.name[i] <= 'Z') ? h.name[i] + 32 : h.name[i]);
		h2o_iovec_t value = h2o_strdup(&req->pool, h.value, h.value_len);
		h2o_add_header_by_str(&req->pool, &req->res.headers, name, h.name_len, 1, NULL, value.base,
				      value.len);
	}
	req->res.content_length = (size_t)res->body_len;
	h2o_send_inline(req, (const char *)res->body, (size_t)res->body_len);
}

/* h2o frees the request (answered, or its connection gone): make sure nothing points at it. */
static void call_dispose(void *p)
{
	struct call *c = p;
	if (c->req) {
		c->req = NULL;
		call_detach(c);
		call_done(c, 0);
	}
}

/* ---- slots ---------------------------------------------------------------------------------------- */

static void slot_ready(struct vm *vm, void *owner, const char *text, size_t len);
static void slot_init_error(struct vm *vm, void *owner, const char *text, size_t len);
static void slot_response(struct vm *vm, void *owner, const struct mote_msg_response *res);
static void slot_exited(struct vm *vm, void *owner, const char *why);
static void slot_layer(struct vm *vm, void *owner, int status, uint64_t bytes, const char *text);

/* ---- working sets: one per version and base snapshot, recorded by its first VM that answers ---- */

#define WORKSET_ASKS_MAX 16 /* VMs asked to record one (those that never answer a request do not) */

static int slot_workset(struct vm *vm, void *owner)
{
	struct fnver *v = ((struct slot *)owner)->ver;
	return v->ws_fd >= 0 && v->ws_base == vm_base(vm) ? v->ws_fd : -1;
}

static int slot_workset_wanted(struct vm *vm, void *owner)
{
	struct fnver *v = ((struct slot *)owner)->ver;
	if (v->ws_recording || v->ws_asked >= WORKSET_ASKS_MAX || !vm_base(vm))
		return 0;
	v->ws_recording = 1;
	v->ws_asked++;
	return 1;
}

static void slot_workset_done(struct vm *vm, void *owner, int fd)
{
	static uint8_t blob[MOTE_WS_MAX];
	struct fnver *v = ((struct slot *)owner)->ver;
	v->ws_recording = 0;
	if (fd < 0)
		return;
	struct mote_err err = {0};
	long runs = mote_ws_read(fd, blob, v->cfg.mem / 4096, &err);
	if (runs < 0) {
		fnlog_notef(v->fn->log, "VM pid %d: its working set refused: %s", (int)vm_pid(vm), err.msg);
		return;
	}
	int keep = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (keep < 0)
		return;
	if (v->ws_fd >= 0)
		close(v->ws_fd);
	v->ws_fd = keep;
	v->ws_base = vm_base(vm);
	vlogf("%s version %lld: working set of %llu pages in %ld runs recorded (base %.12s)", v->fn->name,
	      (long long)v->cfg.version, (unsigned long long)mote_ws_pages(blob, (size_t)runs), runs,
	      v->ws_base ? base_id(v->ws_base) : "-");
}

static const struct vm_events slot_events = {
    .ready = slot_ready,
    .layer = slot_layer,
    .init_error = slot_init_error,
    .response = slot_response,
    .exited = slot_exited,
    .workset = slot_workset,
    .workset_wanted = slot_workset_wanted,
    .workset_done = slot_workset_done,
};

static unsigned live_slots(const struct fnver *v, unsigned *starting)
{
	unsigned n = 0, s = 0;
	for (h2o_linklist_t *l = v->slots.next; l != &v->slots; l = l->next) {
		struct slot *sl = H2O_STRUCT_FROM_MEMBER(struct slot, link, l);
		if (sl->state != SLOT_DYING)
			n++;
		if (sl->state == SLOT_STARTING)
			s++;
	}
	if (starting)
		*starting = s;
	return n;
}

static void slot_release(struct slot *s)
{
	if (s->charged) {
		capacity_release(&gw.cap, s->charge);
		s->charged = 0;
		fn_capacity_freed();
	}
}

static void slot_not_idle(struct slot *s)
{
	if (h2o_linklist_is_linked(&s->idle_link))
		h2o_linklist_unlink(&s->idle_link);
}

static void slot_kill(struct slot *s, const char *why)
{
	h2o_timeout_unlink(&s->timer);
	slot_not_idle(s);
	if (s->state != SLOT_DYING)
		vlogf("vm %d retired (%s): %s", (int)vm_pid(s->vm), s->ver->fn->name, why);
	s->state = SLOT_DYING;
	slot_release(s);
	vm_kill(s->vm, why);
}

static void on_start_timeout(h2o_timeout_entry_t *e)
{
	struct slot *s = H2O_STRUCT_FROM_MEMBER(struct slot, timer, e);
	fnlog_notef(s->ver->fn->log, "VM pid %d did not load the function within %llu ms: killed",
		    (int)vm_pid(s->vm), (unsigned long long)gw.start_ms);
	slot_kill(s, "killed: did not load the function in time");
}

static void on_idle_timeout(h2o_timeout_entry_t *e)
{
	struct slot *s = H2O_STRUCT_FROM_MEMBER(struct slot, timer, e);
	slot_kill(s, "ended: idle");
}

static void slot_became_idle(struct slot *s)
{
	s->state = SLOT_IDLE;
	h2o_timeout_unlink(&s->timer);
	if (s->ver->retired) {
		slot_kill(s, "ended: its version was replaced or removed");
		return;
	}
	if (!base_is_active(vm_base(s->vm))) {
		slot_kill(s, "ended: its base was replaced");
		return;
	}
	slot_not_idle(s);
	h2o_linklist_insert(&idle_lru, &s->idle_link);
	if (s->ver->idle_timeout) {
		s->timer.cb = on_idle_timeout;
		h2o_timeout_link(gw.loop, s->ver->idle_timeout, &s->timer);
	}
}

/* After pump(): with an idle time of 0 a new VM that found no waiting request ends now. */
static void end_if_not_kept(struct slot *s)
{
	if (s->ver->idle_ms == 0 && s->state == SLOT_IDLE)
		slot_kill(s, "ended: an idle time of 0 keeps no VM warm");
}

static struct slot *slot_new(struct fnver *v, struct vm *vm, enum slot_state state)
{
	struct slot *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->vm = vm;
	s->ver = v;
	s->state = state;
	s->origin = METRICS_PATH_WARM;
	s->layer_fd = -1;
	h2o_linklist_insert(&v->slots, &s->link);
	return s;
}

static void slot_ready(struct vm *vm, void *owner, const char *text, size_t len)
{
	struct slot *s = owner;
	if (!s->from_layer && !s->took_layer)
		s->ver->load_ms = vm_load_ms(vm); /* a take's load time includes writing the layer */
	if (s->from_layer)
		s->ver->layer_ms = vm_ready_ms(vm, 0);
	else if (s->origin == METRICS_PATH_COLD_POOL && !s->took_layer)
		s->ver->pool_ms = vm_ready_ms(vm, 1);
	vlogf("vm %d idle (%s version %lld loaded)", (int)vm_pid(vm), s->ver->fn->name,
	      (long long)s->ver->cfg.version);
	slot_became_idle(s);
	pump(s->ver->fn);
	end_if_not_kept(s);
}

/* The end of a layer take (the slot's VM wrote it, failed, or is gone): commit or drop the file. */
static void slot_layer_done(struct slot *s, int status, uint64_t bytes, const char *text)
{
	struct fnver *v = s->ver;
	if (s->layer_fd < 0)
		return;
	int fd = s->layer_fd;
	s->layer_fd = -1;
	v->taking_layer = 0;
	if (status == 0 && !v->retired &&
	    layers_commit(fd, v->fn->name, (long long)v->cfg.version, s->layer_base) == 0) {
		layer_counts.takes++;
		fnlog_notef(v->fn->log, "layer of version %lld on base %.12s stored (%llu bytes)",
			    (long long)v->cfg.version, s->layer_base, (unsigned long long)bytes);
		vlogf("layer of %s version %lld on base %.12s stored (%llu bytes)", v->fn->name,
		      (long long)v->cfg.version, s->layer_base, (unsigned long long)bytes);
		return;
	}
	if (status != 0 || v->retired)
		close(fd); /* else layers_commit closed it */
	layer_counts.take_failures++;
	v->layer_failures++;
	if (status == 0 && !v->retired)
		fnlog_notef(v->fn->log, "layer of version %lld not stored: %s", (long long)v->cfg.version,
			    strerror(errno));
	if (status != 0)
		fnlog_notef(v->fn->log, "no layer of version %lld taken (status %d): %s",
			    (long long)v->cfg.version, status, text);
}

static void slot_layer(struct vm *vm, void *owner, int status, uint64_t bytes, const char *text)
{
	slot_layer_done(owner, status, bytes, text);
}

static void slot_init_error(struct vm *vm, void *owner, const char *text, size_t len)
{
	struct slot *s = owner;
	fnlog_notef(s->ver->fn->log, "the function failed to initialise in VM pid %d: %.*s", (int)vm_pid(vm),
		    (int)(len < 400 ? len : 400), text);
}

static void slot_response(struct vm *vm, void *owner, const struct mote_msg_response *res)
{
	struct slot *s = owner;
	struct call *c = s->call;
	if (c)
		call_respond(c, res);
	if (s->ver->idle_ms == 0) {
		/* An idle time of 0: a VM serves one request, so that every request is a cold start. */
		slot_kill(s, "ended: an idle time of 0 keeps no VM warm");
		pump(s->ver->fn);
		return;
	}
	slot_became_idle(s);
	pump(s->ver->fn);
}

static void free_version(struct fnver *v)
{
	base_unwait(&v->base_wait);
	if (v->uses_noted) {
		pool_note_use(v->cfg.runtime, v->cfg.mem, -1);
		v->uses_noted = 0;
	}
	if (h2o_linklist_is_linked(&v->link))
		h2o_linklist_unlink(&v->link);
	if (v->bundle_fd >= 0)
		close(v->bundle_fd);
	if (v->ws_fd >= 0)
		close(v->ws_fd);
	if (v->retired)
		layers_remove_version(v->fn->name, (long long)v->cfg.version);
	free(v);
}

/* Ask s's VM for a layer of its version into a new unnamed file (nothing when none can be opened). */
static void ask_layer(struct slot *s, struct vm *vm)
{
	s->layer_fd = layers_open_take();
	if (s->layer_fd < 0)
		return;
	if (vm_take_layer(vm, s->layer_fd) == 0) {
		s->ver->taking_layer = 1;
		s->took_layer = 1;
		return;
	}
	close(s->layer_fd);
	s->layer_fd = -1;
}

/* Forget a layer take that will not happen (its VM is not used). */
static void drop_layer_take(struct slot *s)
{
	if (s->layer_fd < 0)
		return;
	close(s->layer_fd);
	s->layer_fd = -1;
	s->ver->taking_layer = 0;
}

/*
 * Exit statuses of a mote-vmm restoring a layer that mean the layer cannot be
 * used (missing, corrupt, foreign, on another base, taken with another
 * bundle): nothing of the function ran.
 */
static int layer_refused(int code)
{
	switch (code) {
	case MOTE_STATUS_NOT_FOUND:
	case MOTE_STATUS_SNAP_TRUNCATED:
	case MOTE_STATUS_SNAP_CORRUPT:
	case MOTE_STATUS_SNAP_FOREIGN:
	case MOTE_STATUS_SNAP_INCOMPATIBLE:
	case MOTE_STATUS_LAYER_BASE:
	case MOTE_STATUS_ATTACH_BUNDLE: return 1;
	default: return 0;
	}
}

static void slot_exited(struct vm *vm, void *owner, const char *why)
{
	struct slot *s = owner;
	struct fnver *v = s->ver;
	struct fn *fn = v->fn;
	enum slot_state was = s->state;
	h2o_timeout_unlink(&s->timer);
	h2o_linklist_unlink(&s->link);
	slot_not_idle(s);
	slot_release(s);
	slot_layer_done(s, MOTE_STATUS_HOST, 0, "the VM ended before its layer was written");
	vlogf("vm %d exited (%s): %s", (int)vm_pid(vm), fn->name, why);
	int code = vm_exit_code(vm);
	if (s->from_layer && was == SLOT_STARTING && layer_refused(code)) {
		/* mote-vmm refused the layer before any guest code ran: drop it; pump() starts from the base.
		 */
		layers_remove(fn->name, (long long)v->cfg.version, s->layer_base);
		layer_counts.fallbacks++;
		v->layer_failures++;
		fnlog_notef(
		    fn->log,
		    "layer of version %lld on base %.12s refused, deleted; starting from the base: %s",
		    (long long)v->cfg.version, s->layer_base, why);
		fprintf(stderr,
			"mote: %s: layer of version %lld on base %.12s refused (status %d), deleted\n",
			fn->name, (long long)v->cfg.version, s->layer_base, code);
	} else if (s->call) {
		fnlog_notef(fn->log, "VM pid %d died during request %llu: %s", (int)vm_pid(vm),
			    (unsigned long long)s->call->id, why);
		call_fail(s->call, 502, "crashed", "mote: function '%s' crashed (see mote logs %s)", fn->name,
			  fn->name);
	} else if (was == SLOT_STARTING) {
		fnlog_notef(fn->log, "VM pid %d failed to start: %s", (int)vm_pid(vm), why);
		/* A VM that cannot start costs the request that waits longest (so a broken function cannot
		 * make the gateway spawn VMs in a loop). */
		if (!h2o_linklist_is_empty(&fn->queue)) {
			struct call *c = H2O_STRUCT_FROM_MEMBER(struct call, qlink, fn->queue.next);
			call_fail(c, 502, "start_failed",
				  "mote: function '%s' failed to start (see mote logs %s)", fn->name,
				  fn->name);
		}
	} else if (was == SLOT_IDLE) {
		fnlog_notef(fn->log, "idle VM pid %d died: %s", (int)vm_pid(vm), why);
	}
	free(s);
	if (v->retired && h2o_linklist_is_empty(&v->slots)) {
		free_version(v);
		maybe_free_fn(fn);
		return;
	}
	pump(fn);
}

/* ---- versions and functions -------------------------------------------------------------------------- */

static void on_base_ready(struct base_waiter *w)
{
	struct fnver *v = H2O_STRUCT_FROM_MEMBER(struct fnver, base_wait, w);
	v->base_waited = NULL;
	pump(v->fn);
}

/* End the least recently used idle VM of another function to make room. Returns 1 if one was ended. */
static int evict_idle(const struct fn *keep)
{
	for (h2o_linklist_t *l = idle_lru.next; l != &idle_lru; l = l->next) {
		struct slot *s = H2O_STRUCT_FROM_MEMBER(struct slot, idle_link, l);
		if (s->ver->fn == keep)
			continue;
		s->ver->fn->evicted++;
		evictions_idle++;
		slot_kill(s, "ended: its room is needed by another function");
		return 1;
	}
	return 0;
}

/*
 * Make room under the caps for a VM of `bytes` (converted from a pooled VM when `from_pool`): end pooled
 * VMs of other bases, then idle VMs of other functions, least recently used first. Returns 1 if it fits.
 */
static int make_room(const struct fn *fn, const char *snapshot, uint64_t bytes, int from_pool)
{
	for (int i = 0; i < 1000; i++) {
		if (from_pool ? capacity_fits_change(&gw.cap, SIZING_POOLED_CHARGE, bytes)
			      : capacity_fits(&gw.cap, bytes))
			return 1;
		if (pool_evict(snapshot)) {
			evictions_pooled++;
			continue;
		}
		if (!evict_idle(fn))
			return 0;
	}
	return 0;
}

/*
 * Start one more VM for version v: a paused clone from its base's pool when one is ready, else a restore.
 * Returns 0, -1 when none can start now (queued calls were failed, or it waits for its base), or -2 when
 * the caps leave no room (the function waits in cap_waiters).
 */
static int start_vm(struct fnver *v)
{
	struct fn *fn = v->fn;
	struct api_error e;
	if (v->bundle_fd < 0) {
		while (!h2o_linklist_is_empty(&fn->queue))
			call_fail(H2O_STRUCT_FROM_MEMBER(struct call, qlink, fn->queue.next), 502,
				  "no_bundle", "mote: function '%s' has lost its bundle; deploy it again",
				  fn->name);
		return -1;
	}
	struct base *b = base_lookup(v->cfg.runtime, v->cfg.mem, &e);
	const char *snap = b ? base_snapshot(b) : NULL;
	if (!snap) {
		const char *why = b ? base_failure(b) : e.msg;
		if (why) {
			while (!h2o_linklist_is_empty(&fn->queue))
				call_fail(H2O_STRUCT_FROM_MEMBER(struct call, qlink, fn->queue.next), 503,
					  "no_base", "mote: %s", why);
			return -1;
		}
		if (!v->base_waited) {
			v->base_wait.cb = on_base_ready;
			v->base_waited = b;
			base_wait(b, &v->base_wait);
		}
		return -1;
	}
	int from_pool = pool_available(snap) > 0;
	if (!make_room(fn, snap, v->cfg.mem, from_pool)) {
		if (!h2o_linklist_is_linked(&fn->cap_link))
			h2o_linklist_insert(&cap_waiters, &fn->cap_link);
		return -2;
	}
	struct slot *s = slot_new(v, NULL, SLOT_STARTING);
	if (!s)
		return -1;
	struct mote_err err = {0};
	const char *bid = base_id(b);
	long long ver = (long long)v->cfg.version;
	snprintf(s->layer_base, sizeof(s->layer_base), "%s", bid);
	/*
	 * With a layer, a restore skips the function's load; a pooled VM skips the restore. With both at
	 * hand, the one measured faster for this version (sizing_start_from_layer; --layer-min-load until
	 * both are measured); the layer when there is no pooled VM. Without a layer, this start takes one
	 * (one at a time, a few failures at most).
	 */
	int have_layer = layers_exists(fn->name, ver, bid);
	int use_layer =
	    have_layer && (!from_pool || sizing_start_from_layer(gw.layer_min_load_ms, v->load_ms, v->pool_ms,
								 v->layer_ms, v->starts++));
	int take =
	    layers_enabled() && !have_layer && !v->taking_layer && v->layer_failures < GW_LAYER_MAX_FAILURES;
	struct vm *pooled = from_pool && !use_layer ? pool_take(snap) : NULL;
	if (pooled) {
		if (take)
			ask_layer(s, pooled);
		if (vm_attach(pooled, v->bundle_fd, v->bundle_size, fn->log, &slot_events, s) < 0) {
			drop_layer_take(s);
			capacity_release(&gw.cap, SIZING_POOLED_CHARGE);
			vm_kill(pooled, "killed: cannot pass it the bundle");
			pooled = NULL;
		} else {
			s->vm = pooled;
			s->origin = METRICS_PATH_COLD_POOL;
			capacity_change(&gw.cap, SIZING_POOLED_CHARGE, v->cfg.mem);
			vlogf("vm %d attached to %s version %lld (from the pool of base %.12s)",
			      (int)vm_pid(pooled), fn->name, ver, bid);
		}
	}
	if (!s->vm) {
		if (!from_pool)
			pool_take(snap); /* counts the miss (a pooled VM passed over for the layer is none) */
		char layer[PATH_MAX];
		if (use_layer && layers_path(fn->name, ver, bid, layer, sizeof(layer)) < 0)
			use_layer = 0;
		struct vm_spec spec = {.vmm = gw.vmm,
				       .snapshot = snap,
				       .base = b,
				       .bundle_fd = v->bundle_fd,
				       .bundle_size = v->bundle_size,
				       .log = fn->log,
				       .layer = use_layer ? layer : NULL};
		s->vm = vm_start(gw.loop, &spec, &slot_events, s, &err);
		if (!s->vm) {
			h2o_linklist_unlink(&s->link);
			free(s);
			fnlog_notef(fn->log, "cannot start a VM: %s", err.msg);
			while (!h2o_linklist_is_empty(&fn->queue))
				call_fail(H2O_STRUCT_FROM_MEMBER(struct call, qlink, fn->queue.next), 503,
					  "no_vm", "mote: cannot start a VM for '%s': %s", fn->name, err.msg);
			return -1;
		}
		if (take && !use_layer)
			ask_layer(s, s->vm);
		capacity_charge(&gw.cap, v->cfg.mem);
		s->origin = use_layer ? METRICS_PATH_COLD_LAYER : METRICS_PATH_COLD_RESTORE;
		s->from_layer = use_layer;
		if (use_layer)
			layer_counts.hits++;
		else if (layers_enabled())
			layer_counts.misses++;
		pool_count_restore(snap, POOL_RESTORE_REQUEST);
		vlogf("vm %d spawned for %s version %lld (restored from %s %.12s, %s)", (int)vm_pid(s->vm),
		      fn->name, ver, use_layer ? "its layer on base" : "base", bid,
		      from_pool ? "chosen over a pooled VM" : "no pooled VM");
	}
	s->charge = v->cfg.mem;
	s->charged = 1;
	if (v->cfg.cpu_quota_us || v->cfg.cpu_weight) {
		/* A pooled VM was started without them: its cgroup gets the function's CPU limits now. */
		int r = vm_set_cpu(s->vm, v->cfg.cpu_quota_us, v->cfg.cpu_weight, &err);
		if (r < 0) {
			fnlog_notef(fn->log, "VM pid %d: cannot apply the CPU limits: %s", (int)vm_pid(s->vm),
				    err.msg);
			vm_kill(s->vm, "killed: its CPU limits could not be applied");
		} else if (r == 1 && !cpu_unlimited_said) {
			cpu_unlimited_said = 1;
			vlogf(
			    "functions' --cpus/--cpu-weight are not applied: VMs are not jailed (not root)");
		}
	}
	s->timer.cb = on_start_timeout;
	h2o_timeout_link(gw.loop, &start_timeout, &s->timer);
	return 0;
}

static void on_call_timeout(h2o_timeout_entry_t *e)
{
	struct call *c = H2O_STRUCT_FROM_MEMBER(struct call, timer, e);
	struct slot *s = c->slot;
	struct fn *fn = c->fn;
	uint64_t ms = s ? s->ver->cfg.timeout_ms : 0;
	fnlog_notef(fn->log, "request %llu timed out after %llu ms: VM pid %d killed",
		    (unsigned long long)c->id, (unsigned long long)ms, s ? (int)vm_pid(s->vm) : -1);
	call_fail(c, 504, "timeout", "mote: function '%s' timed out after %llu ms", fn->name,
		  (unsigned long long)ms);
	if (s)
		slot_kill(s, "killed: request timed out");
	pump(fn);
}

static void on_queue_timeout(h2o_timeout_entry_t *e)
{
	struct call *c = H2O_STRUCT_FROM_MEMBER(struct call, timer, e);
	call_fail(c, 503, "busy", "mote: function '%s' is busy: no VM became free within %llu ms",
		  c->fn->name, (unsigned long long)gw.queue_wait_ms);
}

/* The request's fields as the codec wants them, viewing the h2o request. */
static int call_fields(struct call *c, struct mote_msg_request_fields *f)
{
	h2o_req_t *req = c->req;
	size_t n = req->headers.size + 2;
	struct mote_msg_header *hs = h2o_mem_alloc_pool(&req->pool, n * sizeof(*hs));
	size_t k = 0;
	if (req->input.authority.len)
		hs[k++] = (struct mote_msg_header){"host", 4, req->input.authority.base,
						   (uint32_t)req->input.authority.len};
	for (size_t i = 0; i < req->headers.size; i++) {
		const h2o_header_t *h = &req->headers.entries[i];
		if (h->name->len > UINT32_MAX || h->value.len > UINT32_MAX)
			return -1;
		hs[k++] = (struct mote_msg_header){h->name->base, (uint32_t)h->name->len, h->value.base,
						   (uint32_t)h->value.len};
	}
	if (req->entity.base) {
		char *len = h2o_mem_alloc_pool(&req->pool, 24);
		int m = snprintf(len, 24, "%zu", req->entity.len);
		hs[k++] = (struct mote_msg_header){"content-length", 14, len, (uint32_t)m};
	}
	memset(f, 0, sizeof(*f));
	f->id = c->id;
	f->method = req->input.method.base;
	f->method_len = (uint32_t)req->input.method.len;
	f->path = c->path.base;
	f->path_len = (uint32_t)c->path.len;
	f->query = c->query.base;
	f->query_len = (uint32_t)c->query.len;
	f->headers = hs;
	f->nheaders = (uint32_t)k;
	f->body = req->entity.base;
	f->body_len = req->entity.base ? req->entity.len : 0;
	return 0;
}

/* Give call c (the queue's head) to idle slot s. */
static void dispatch(struct slot *s, struct call *c)
{
	struct mote_msg_request_fields f;
	h2o_linklist_unlink(&c->qlink);
	c->fn->queued--;
	h2o_timeout_unlink(&c->timer);
	int r = call_fields(c, &f) < 0 ? MOTE_MSG_MALFORMED : vm_request(s->vm, &f);
	if (r == MOTE_MSG_NO_ROOM) {
		call_fail(c, 413, "too_large",
			  "mote: the request is larger than a function's request area (%llu MiB)",
			  (unsigned long long)(VM_REQ_CAP >> 20));
		return;
	}
	if (r < 0) {
		call_fail(c, 400, "bad_request", "mote: the request cannot be passed to a function (%s)",
			  mote_msg_strerror(r));
		return;
	}
	h2o_timeout_unlink(&s->timer);
	slot_not_idle(s);
	s->state = SLOT_BUSY;
	s->call = c;
	c->slot = s;
	c->dispatched = 1;
	c->served_by = s->origin;
	s->origin = METRICS_PATH_WARM;
	c->timer.cb = on_call_timeout;
	h2o_timeout_link(gw.loop, s->ver->timeout, &c->timer);
}

static struct slot *idle_slot(struct fnver *v)
{
	for (h2o_linklist_t *l = v->slots.next; l != &v->slots; l = l->next) {
		struct slot *s = H2O_STRUCT_FROM_MEMBER(struct slot, link, l);
		if (s->state == SLOT_IDLE && base_is_active(vm_base(s->vm)))
			return s;
	}
	return NULL;
}

static void pump(struct fn *fn)
{
	struct fnver *v = fn->cur;
	if (!v)
		return;
	while (!h2o_linklist_is_empty(&fn->queue)) {
		struct slot *s = idle_slot(v);
		if (!s)
			break;
		dispatch(s, H2O_STRUCT_FROM_MEMBER(struct call, qlink, fn->queue.next));
	}
	unsigned starting, busy = 0;
	unsigned live = live_slots(v, &starting);
	for (h2o_linklist_t *l = v->slots.next; l != &v->slots; l = l->next)
		if (H2O_STRUCT_FROM_MEMBER(struct slot, link, l)->state == SLOT_BUSY)
			busy++;
	/* Concurrency-based scaling: enough VMs for the requests running and waiting, `concurrency` each. */
	while (fn->queued > 0 && live < sizing_desired_vms(busy, fn->queued, v->cfg.concurrency) &&
	       live < v->cfg.max_vms) {
		if (start_vm(v) < 0)
			break;
		starting++;
		live++;
	}
}

void fn_invoke(struct fn *fn, h2o_req_t *req, h2o_iovec_t path, h2o_iovec_t query)
{
	if (req->entity.base && req->entity.len > gw.body_max) {
		metrics_count_status(&fn->statuses, 413);
		fn_send_error(req, 413, "too_large", "mote: request body larger than %llu bytes",
			      (unsigned long long)gw.body_max);
		return;
	}
	if (fn->queued >= gw.queue_max) {
		metrics_count_status(&fn->statuses, 503);
		fn_send_error(req, 503, "busy", "mote: function '%s' is busy: %u requests are waiting",
			      fn->name, fn->queued);
		return;
	}
	struct call *c = h2o_mem_alloc_shared(&req->pool, sizeof(*c), call_dispose);
	memset(c, 0, sizeof(*c));
	c->req = req;
	c->fn = fn;
	c->path = path;
	c->query = query;
	c->id = ++call_ids;
	c->t_start = mono_ns();
	inflight_calls++;
	h2o_linklist_insert(&fn->queue, &c->qlink);
	fn->queued++;
	c->timer.cb = on_queue_timeout;
	h2o_timeout_link(gw.loop, &queue_timeout, &c->timer);
	pump(fn);
}

static struct fn *fn_new(const char *name)
{
	struct fn *fn = calloc(1, sizeof(*fn));
	if (!fn)
		return NULL;
	snprintf(fn->name, sizeof(fn->name), "%s", name);
	h2o_linklist_init_anchor(&fn->queue);
	h2o_linklist_init_anchor(&fn->cap_link);
	h2o_linklist_init_anchor(&fn->retired);
	fn->log = fnlog_open(gw.logs_dir, name);
	fn->next = fns;
	fns = fn;
	return fn;
}

struct fn *fn_find(const char *name)
{
	for (struct fn *fn = fns; fn; fn = fn->next)
		if (!fn->removed && fn->cur && !strcmp(fn->name, name))
			return fn;
	return NULL;
}

struct fnlog *fn_log_for(const char *name)
{
	for (struct fn *fn = fns; fn; fn = fn->next)
		if (!fn->removed && !strcmp(fn->name, name))
			return fn->log;
	struct fn *fn = fn_new(name);
	return fn ? fn->log : NULL;
}

void fn_each(void (*cb)(struct fn *fn, void *arg), void *arg)
{
	for (struct fn *fn = fns; fn; fn = fn->next)
		if (!fn->removed && fn->cur)
			cb(fn, arg);
}

const struct reg_function *fn_settings(const struct fn *fn)
{
	return &fn->cur->cfg;
}

void fn_stats(const struct fn *fn, struct fn_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->queued = fn->queued;
	for (h2o_linklist_t *l = fn->cur->slots.next; l != &fn->cur->slots; l = l->next) {
		struct slot *s = H2O_STRUCT_FROM_MEMBER(struct slot, link, l);
		if (s->state == SLOT_STARTING)
			out->starting++;
		else if (s->state == SLOT_IDLE)
			out->idle++;
		else if (s->state == SLOT_BUSY)
			out->busy++;
	}
}

struct fnlog *fn_log(struct fn *fn)
{
	return fn->log;
}

/* Retire version v: idle and starting VMs end now, busy ones after their request. */
static void retire(struct fnver *v)
{
	struct fn *fn = v->fn;
	v->retired = 1;
	if (v->uses_noted) {
		pool_note_use(v->cfg.runtime, v->cfg.mem, -1);
		v->uses_noted = 0;
	}
	base_unwait(&v->base_wait);
	v->base_waited = NULL;
	for (h2o_linklist_t *l = v->slots.next; l != &v->slots;) {
		struct slot *s = H2O_STRUCT_FROM_MEMBER(struct slot, link, l);
		l = l->next;
		if (s->state == SLOT_IDLE || s->state == SLOT_STARTING)
			slot_kill(s, "ended: its version was replaced or removed");
	}
	if (h2o_linklist_is_empty(&v->slots))
		free_version(v);
	else
		h2o_linklist_insert(&fn->retired, &v->link);
}

static void maybe_free_fn(struct fn *fn)
{
	if (!fn->removed || fn->cur || !h2o_linklist_is_empty(&fn->retired))
		return;
	if (h2o_linklist_is_linked(&fn->cap_link))
		h2o_linklist_unlink(&fn->cap_link);
	for (struct fn **p = &fns; *p; p = &(*p)->next)
		if (*p == fn) {
			*p = fn->next;
			break;
		}
	fnlog_close(fn->log);
	free(fn);
}

static struct fnver *version_new(struct fn *fn, const struct reg_function *f, int bundle_fd,
				 uint64_t bundle_size)
{
	struct fnver *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->fn = fn;
	v->cfg = *f;
	v->bundle_fd = bundle_fd;
	v->bundle_size = bundle_size;
	v->timeout = timeout_for(f->timeout_ms);
	if (!v->cfg.concurrency)
		v->cfg.concurrency = 1;
	v->idle_ms = f->idle_ms >= 0 ? (uint64_t)f->idle_ms : gw.idle_ms;
	v->idle_timeout = v->idle_ms ? timeout_for(v->idle_ms) : NULL;
	v->load_ms = v->pool_ms = v->layer_ms = -1;
	v->ws_fd = -1;
	h2o_linklist_init_anchor(&v->slots);
	pool_note_use(v->cfg.runtime, v->cfg.mem, +1);
	v->uses_noted = 1;
	return v;
}

void fn_install(const struct reg_function *f, int bundle_fd, uint64_t bundle_size, struct vm *warm)
{
	struct fn *fn = NULL;
	for (struct fn *p = fns; p; p = p->next)
		if (!p->removed && !strcmp(p->name, f->name))
			fn = p;
	if (!fn)
		fn = fn_new(f->name);
	struct fnver *v = fn ? version_new(fn, f, bundle_fd, bundle_size) : NULL;
	if (!v) {
		fprintf(stderr, "mote: out of memory installing %s\n", f->name);
		close(bundle_fd);
		if (warm)
			vm_kill(warm, "killed: out of memory");
		return;
	}
	struct fnver *old = fn->cur;
	fn->cur = v;
	if (old)
		retire(old);
	struct slot *s = warm ? slot_new(v, warm, SLOT_IDLE) : NULL;
	if (s) {
		s->charge = f->mem; /* charged by the deploy */
		s->charged = 1;
		vlogf("vm %d attached to %s version %lld (the deploy's check)", (int)vm_pid(warm), f->name,
		      (long long)f->version);
		vm_set_owner(warm, &slot_events, s, fn->log);
		slot_became_idle(s);
	} else if (warm) {
		capacity_release(&gw.cap, f->mem);
		vm_kill(warm, "killed: out of memory");
	}
	pump(fn);
	if (s)
		end_if_not_kept(s);
}

void fn_remove(struct fn *fn)
{
	fn->removed = 1;
	while (!h2o_linklist_is_empty(&fn->queue))
		call_fail(H2O_STRUCT_FROM_MEMBER(struct call, qlink, fn->queue.next), 404, "no_function",
			  "mote: function '%s' was removed", fn->name);
	struct fnver *v = fn->cur;
	fn->cur = NULL;
	fnlog_unlink(fn->log);
	if (v)
		retire(v);
	maybe_free_fn(fn);
}

static int load_one(const struct reg_function *f, void *arg)
{
	uint64_t size = 0;
	int fd = bundle_open(gw.bundles_dir, f->bundle, &size);
	if (fd < 0)
		fprintf(stderr, "mote: function %s: its bundle %s/%s is missing (%s); deploy it again\n",
			f->name, gw.bundles_dir, f->bundle, strerror(errno));
	fn_install(f, fd, size, NULL);
	return 0;
}

/* Is (name, version) a deployed function's current version? (the layers the sweep keeps) */
static int layer_wanted(const char *name, long long version, void *arg)
{
	struct fn *fn = fn_find(name);
	return fn && fn->cur && (long long)fn->cur->cfg.version == version;
}

int fn_load_all(struct mote_err *err)
{
	if (registry_each_function(gw.reg, load_one, NULL, err) < 0)
		return -1;
	layers_sweep(layer_wanted, NULL);
	return 0;
}

uint64_t fn_inflight(void)
{
	return inflight_calls;
}

static void metrics_of_fn(struct fn *fn, void *arg)
{
	struct metrics_buf *b = arg;
	char l[512], st[8];
	for (unsigned i = 0; i < fn->statuses.n; i++) {
		snprintf(st, sizeof(st), "%u", fn->statuses.s[i].status);
		metrics_sample(b, "mote_requests_total",
			       metrics_labels(l, sizeof(l), "function", fn->name, "status", st, NULL),
			       (double)fn->statuses.s[i].count);
	}
}

static void vms_of_fn(struct fn *fn, void *arg)
{
	struct metrics_buf *b = arg;
	struct fn_stats st;
	fn_stats(fn, &st);
	char l[512];
	metrics_sample(b, "mote_vms",
		       metrics_labels(l, sizeof(l), "function", fn->name, "state", "starting", NULL),
		       st.starting);
	metrics_sample(b, "mote_vms",
		       metrics_labels(l, sizeof(l), "function", fn->name, "state", "idle", NULL), st.idle);
	metrics_sample(b, "mote_vms",
		       metrics_labels(l, sizeof(l), "function", fn->name, "state", "busy", NULL), st.busy);
}

static void queued_of_fn(struct fn *fn, void *arg)
{
	char l[512];
	metrics_sample(arg, "mote_queued_requests", metrics_labels(l, sizeof(l), "function", fn->name, NULL),
		       fn->queued);
}

static void memory_of_fn(struct fn *fn, void *arg)
{
	uint64_t priv = 0, shared = 0;
	unsigned n = 0;
	for (h2o_linklist_t *l = fn->cur->slots.next; l != &fn->cur->slots; l = l->next) {
		struct slot *s = H2O_STRUCT_FROM_MEMBER(struct slot, link, l);
		struct vm_memory m;
		if (s->state != SLOT_DYING && vm_memory(s->vm, 2000, &m) == 0) {
			priv += m.private_bytes;
			shared += m.shared_bytes;
			n++;
		}
	}
	if (!n)
		return;
	char l[512];
	metrics_sample(arg, "mote_function_vm_memory_bytes",
		       metrics_labels(l, sizeof(l), "function", fn->name, "kind", "private", NULL),
		       (double)priv);
	metrics_sample(arg, "mote_function_vm_memory_bytes",
		       metrics_labels(l, sizeof(l), "function", fn->name, "kind", "shared", NULL),
		       (double)shared);
}

static void totals_of_fn(struct fn *fn, void *arg)
{
	struct fn_stats st, *sum = arg;
	fn_stats(fn, &st);
	sum->starting += st.starting;
	sum->idle += st.idle;
	sum->busy += st.busy;
	sum->queued += st.queued;
}

void fn_metrics(struct metrics_buf *b)
{
	char l[128];
	metrics_family(b, "mote_requests_total", "counter", "Requests answered, by function and HTTP status");
	fn_each(metrics_of_fn, b);
	metrics_family(
	    b, "mote_request_duration_seconds", "histogram",
	    "Time from a request's arrival to its response, by how its VM came to serve it (path)");
	for (int p = 0; p < METRICS_PATHS; p++)
		metrics_histogram_render(b, "mote_request_duration_seconds",
					 metrics_labels(l, sizeof(l), "path", metrics_path_name(p), NULL),
					 &latency[p]);
	metrics_family(b, "mote_vms", "gauge", "A function's VMs by state (starting, idle = warm, busy)");
	fn_each(vms_of_fn, b);
	metrics_family(b, "mote_queued_requests", "gauge", "Requests waiting for a VM, by function");
	fn_each(queued_of_fn, b);
	metrics_family(b, "mote_function_vm_memory_bytes", "gauge",
		       "Memory of a function's VMs' mote-vmm processes (smaps_rollup), summed by kind");
	fn_each(memory_of_fn, b);
	struct fn_stats sum = {0};
	fn_each(totals_of_fn, &sum);
	unsigned paused, restoring;
	pool_counts(&paused, &restoring);
	metrics_family(b, "mote_vms_total", "gauge", "Every VM of the gateway by state");
	static const char *const states[] = {"pooled", "restoring", "starting", "idle", "busy"};
	unsigned vals[] = {paused, restoring, sum.starting, sum.idle, sum.busy};
	for (int i = 0; i < 5; i++)
		metrics_sample(b, "mote_vms_total", metrics_labels(l, sizeof(l), "state", states[i], NULL),
			       vals[i]);
	metrics_family(b, "mote_evictions_total", "counter",
		       "VMs ended to make room under the caps, by what they were (pooled, idle)");
	metrics_sample(b, "mote_evictions_total", metrics_labels(l, sizeof(l), "vm", "pooled", NULL),
		       (double)evictions_pooled);
	metrics_sample(b, "mote_evictions_total", metrics_labels(l, sizeof(l), "vm", "idle", NULL),
		       (double)evictions_idle);
	metrics_family(b, "mote_inflight_requests", "gauge", "Requests waiting or running");
	metrics_sample(b, "mote_inflight_requests", NULL, (double)inflight_calls);
	layers_metrics(b);
}

void fn_latency(enum metrics_path p, struct metrics_histogram *out)
{
	*out = latency[p];
}

/* Kill the idle and starting VMs of version v that were restored from a base no longer active. */
static void retire_stale(struct fnver *v)
{
	for (h2o_linklist_t *l = v->slots.next; l != &v->slots;) {
		struct slot *s = H2O_STRUCT_FROM_MEMBER(struct slot, link, l);
		l = l->next;
		if ((s->state == SLOT_IDLE || s->state == SLOT_STARTING) && s->vm &&
		    !base_is_active(vm_base(s->vm)))
			slot_kill(s, "ended: its base was replaced");
	}
}

void fn_base_switched(const char *runtime, const char *old_id, const char *new_id)
{
	for (struct fn *fn = fns; fn; fn = fn->next) {
		if (fn->cur)
			retire_stale(fn->cur);
		for (h2o_linklist_t *l = fn->retired.next; l != &fn->retired; l = l->next)
			retire_stale(H2O_STRUCT_FROM_MEMBER(struct fnver, link, l));
		pump(fn);
	}
}

static unsigned vms_on(const struct fnver *v, const char *base_id_)
{
	unsigned n = 0;
	for (h2o_linklist_t *l = v->slots.next; l != &v->slots; l = l->next) {
		struct slot *s = H2O_STRUCT_FROM_MEMBER(struct slot, link, l);
		if (s->vm && vm_base(s->vm) && !strcmp(base_id(vm_base(s->vm)), base_id_))
			n++;
	}
	return n;
}

unsigned fn_vms_on_base(const struct fn *fn, const char *id)
{
	unsigned n = fn->cur ? vms_on(fn->cur, id) : 0;
	for (h2o_linklist_t *l = fn->retired.next; l != &fn->retired; l = l->next)
		n += vms_on(H2O_STRUCT_FROM_MEMBER(struct fnver, link, l), id);
	return n;
}
