/* Deployed functions at run time: their versions, warm VMs, request queue and limits (the scheduler). */
#include "fn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base.h"
#include "bundle.h"
#include "fnlog.h"
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
	h2o_timeout_entry_t timer; /* start deadline, then idle deadline */
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
};

struct call {
	h2o_req_t *req; /* NULL once answered or dropped */
	struct fn *fn;
	h2o_iovec_t path, query;
	h2o_linklist_t qlink;
	h2o_timeout_entry_t timer; /* queue wait, then the function timeout */
	struct slot *slot;
	uint64_t id;
};

static struct fn *fns;
static h2o_timeout_t queue_timeout, idle_timeout, start_timeout;
static uint64_t call_ids;

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

void fn_init(void)
{
	h2o_timeout_init(gw.loop, &queue_timeout, gw.queue_wait_ms);
	h2o_timeout_init(gw.loop, &idle_timeout, gw.idle_ms);
	h2o_timeout_init(gw.loop, &start_timeout, gw.start_ms);
}

static void pump(struct fn *fn);
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
static void call_fail(struct call *c, int status, const char *code, const char *fmt, ...)
{
	call_detach(c);
	h2o_req_t *req = c->req;
	c->req = NULL;
	if (!req)
		return;
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
	}
}

/* ---- slots ---------------------------------------------------------------------------------------- */

static void slot_ready(struct vm *vm, void *owner, const char *text, size_t len);
static void slot_init_error(struct vm *vm, void *owner, const char *text, size_t len);
static void slot_response(struct vm *vm, void *owner, const struct mote_msg_response *res);
static void slot_exited(struct vm *vm, void *owner, const char *why);

static const struct vm_events slot_events = {
    .ready = slot_ready,
    .init_error = slot_init_error,
    .response = slot_response,
    .exited = slot_exited,
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

static void slot_kill(struct slot *s, const char *why)
{
	h2o_timeout_unlink(&s->timer);
	s->state = SLOT_DYING;
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
	s->timer.cb = on_idle_timeout;
	h2o_timeout_link(gw.loop, &idle_timeout, &s->timer);
}

/* After pump(): with --idle 0 a new VM that found no waiting request ends now. */
static void end_if_not_kept(struct slot *s)
{
	if (gw.idle_ms == 0 && s->state == SLOT_IDLE)
		slot_kill(s, "ended: --idle 0 keeps no VM warm");
}

static struct slot *slot_new(struct fnver *v, struct vm *vm, enum slot_state state)
{
	struct slot *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->vm = vm;
	s->ver = v;
	s->state = state;
	h2o_linklist_insert(&v->slots, &s->link);
	return s;
}

static void slot_ready(struct vm *vm, void *owner, const char *text, size_t len)
{
	struct slot *s = owner;
	slot_became_idle(s);
	pump(s->ver->fn);
	end_if_not_kept(s);
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
	if (gw.idle_ms == 0) {
		/* --idle 0: a VM serves one request, so that every request is a cold start. */
		slot_kill(s, "ended: --idle 0 keeps no VM warm");
		pump(s->ver->fn);
		return;
	}
	slot_became_idle(s);
	pump(s->ver->fn);
}

static void free_version(struct fnver *v)
{
	base_unwait(&v->base_wait);
	if (h2o_linklist_is_linked(&v->link))
		h2o_linklist_unlink(&v->link);
	if (v->bundle_fd >= 0)
		close(v->bundle_fd);
	free(v);
}

static void slot_exited(struct vm *vm, void *owner, const char *why)
{
	struct slot *s = owner;
	struct fnver *v = s->ver;
	struct fn *fn = v->fn;
	enum slot_state was = s->state;
	h2o_timeout_unlink(&s->timer);
	h2o_linklist_unlink(&s->link);
	if (s->call) {
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

/* Start one more VM for version v. Returns 0, or -1 when none can start now (queued calls were failed). */
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
	struct vm_spec spec = {.vmm = gw.vmm,
			       .snapshot = snap,
			       .base = b,
			       .bundle_fd = v->bundle_fd,
			       .bundle_size = v->bundle_size,
			       .log = fn->log};
	struct slot *s = slot_new(v, NULL, SLOT_STARTING);
	if (!s)
		return -1;
	struct mote_err err = {0};
	s->vm = vm_start(gw.loop, &spec, &slot_events, s, &err);
	if (!s->vm) {
		h2o_linklist_unlink(&s->link);
		free(s);
		fnlog_notef(fn->log, "cannot start a VM: %s", err.msg);
		while (!h2o_linklist_is_empty(&fn->queue))
			call_fail(H2O_STRUCT_FROM_MEMBER(struct call, qlink, fn->queue.next), 503, "no_vm",
				  "mote: cannot start a VM for '%s': %s", fn->name, err.msg);
		return -1;
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
	s->state = SLOT_BUSY;
	s->call = c;
	c->slot = s;
	c->timer.cb = on_call_timeout;
	h2o_timeout_link(gw.loop, s->ver->timeout, &c->timer);
}

static struct slot *idle_slot(struct fnver *v)
{
	/* The most recently used idle VM first: its memory is warm, and the others can age out. */
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
	unsigned starting;
	unsigned live = live_slots(v, &starting);
	while (fn->queued > starting && live < v->cfg.max_vms) {
		if (start_vm(v) < 0)
			break;
		starting++;
		live++;
	}
}

void fn_invoke(struct fn *fn, h2o_req_t *req, h2o_iovec_t path, h2o_iovec_t query)
{
	if (req->entity.base && req->entity.len > gw.body_max) {
		fn_send_error(req, 413, "too_large", "mote: request body larger than %llu bytes",
			      (unsigned long long)gw.body_max);
		return;
	}
	if (fn->queued >= gw.queue_max) {
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
	h2o_linklist_init_anchor(&v->slots);
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
		vm_set_owner(warm, &slot_events, s, fn->log);
		slot_became_idle(s);
	} else if (warm) {
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

int fn_load_all(struct mote_err *err)
{
	return registry_each_function(gw.reg, load_one, NULL, err);
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
