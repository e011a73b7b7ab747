/* Deploying a function: check the bundle, store it, attach it to a fresh VM, and commit only once it loaded.
 */
#include "deploy.h"
#include "runtime.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "base.h"
#include "bundle.h"
#include "fn.h"
#include "fnlog.h"
#include "layers.h"
#include "pool.h"
#include "vlog.h"
#include "vm.h"

struct deploy_ref;

struct deploy {
	struct deploy *next;
	h2o_req_t *req;		/* NULL once answered or gone */
	struct deploy_ref *ref; /* in req's pool while it lives */
	struct reg_function cfg;
	int bundle_fd;
	uint64_t bundle_size;
	struct base_waiter base_wait;
	struct vm *vm;
	h2o_timeout_entry_t timer;
	struct fnlog *log;
	char init_error[512];
	int replaced; /* the name had a function: 200 instead of 201 */
	int done;
	int charged;	  /* its VM's guest RAM is charged in gw.cap (handed to the function on commit) */
	int layer_fd;	  /* the unnamed file the check VM writes the function's layer to, or -1 */
	int layer_status; /* -1: not written (yet), 0: written, else the MOTE_STATUS_* of the failure */
	uint64_t layer_bytes;
	char layer_why[200];
};

struct deploy_ref {
	struct deploy *d;
};

static struct deploy *deploys;
static h2o_timeout_t check_timeout;
static int check_timeout_ready;

int deploy_uses_bundle(const char *hash)
{
	for (struct deploy *d = deploys; d; d = d->next)
		if (!strcmp(d->cfg.bundle, hash))
			return 1;
	return 0;
}

static void ref_dispose(void *p)
{
	struct deploy_ref *r = p;
	if (r->d) {
		r->d->req = NULL;
		r->d->ref = NULL;
	}
}

static void deploy_free(struct deploy *d)
{
	for (struct deploy **p = &deploys; *p; p = &(*p)->next)
		if (*p == d) {
			*p = d->next;
			break;
		}
	if (d->ref)
		d->ref->d = NULL;
	base_unwait(&d->base_wait);
	h2o_timeout_unlink(&d->timer);
	if (d->bundle_fd >= 0)
		close(d->bundle_fd);
	if (d->layer_fd >= 0)
		close(d->layer_fd);
	free(d);
}

/* A refused deploy whose VM is gone: free it, and its stored bundle unless something else names it. */
static void finish_refused(struct deploy *d)
{
	char hash[REG_HASH_HEX + 1];
	snprintf(hash, sizeof(hash), "%s", d->cfg.bundle);
	deploy_free(d);
	if (hash[0] && !registry_bundle_in_use(gw.reg, hash) && !deploy_uses_bundle(hash)) {
		char path[PATH_MAX + 100];
		snprintf(path, sizeof(path), "%s/%s", gw.bundles_dir, hash);
		unlink(path);
	}
}

/* Refuse: answer now; the rest goes once the checking VM (if any) has exited. */
static void refuse(struct deploy *d, int http, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void refuse(struct deploy *d, int http, const char *code, const char *fmt, ...)
{
	if (d->done)
		return;
	d->done = 1;
	struct api_error e = {.http = http, .code = code};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	for (char *p = e.msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fnlog_notef(d->log, "deploy of %s refused: %s", d->cfg.name, e.msg);
	if (d->req) {
		admin_send_error(d->req, &e);
		d->req = NULL;
	}
	h2o_timeout_unlink(&d->timer);
	base_unwait(&d->base_wait);
	if (d->vm)
		vm_kill(d->vm, "killed: its deploy was refused");
	else
		finish_refused(d);
}

/* The check VM wrote (or failed to write) the function's layer: the version is known now, store it. */
static void store_layer(struct deploy *d)
{
	if (d->layer_fd < 0)
		return;
	int fd = d->layer_fd;
	d->layer_fd = -1;
	const char *bid = base_id(vm_base(d->vm));
	if (d->layer_status == 0 && layers_commit(fd, d->cfg.name, (long long)d->cfg.version, bid) == 0) {
		layer_counts.takes++;
		fnlog_notef(d->log, "layer of version %lld on base %.12s stored (%llu bytes)",
			    (long long)d->cfg.version, bid, (unsigned long long)d->layer_bytes);
		vlogf("layer of %s version %lld on base %.12s stored (%llu bytes)", d->cfg.name,
		      (long long)d->cfg.version, bid, (unsigned long long)d->layer_bytes);
		return;
	}
	layer_counts.take_failures++;
	if (d->layer_status == 0)
		fnlog_notef(d->log, "layer of version %lld not stored: %s", (long long)d->cfg.version,
			    strerror(errno)); /* layers_commit closed fd */
	else {
		close(fd);
		fnlog_notef(d->log, "no layer of version %lld taken (status %d): %s",
			    (long long)d->cfg.version, d->layer_status, d->layer_why);
	}
}

static void commit(struct deploy *d)
{
	struct mote_err err = {0};
	if (registry_put_function(gw.reg, &d->cfg, &err) < 0) {
		refuse(d, 500, "internal", "%s", err.msg);
		return;
	}
	d->done = 1;
	h2o_timeout_unlink(&d->timer);
	fnlog_notef(d->log, "deployed %s version %lld (%s, bundle %.12s, %llu bytes)", d->cfg.name,
		    (long long)d->cfg.version, d->cfg.runtime, d->cfg.bundle,
		    (unsigned long long)d->bundle_size);
	store_layer(d);
	struct vm *vm = d->vm;
	d->vm = NULL;
	d->charged = 0; /* fn_install takes the VM's charge */
	int fd = d->bundle_fd;
	d->bundle_fd = -1;
	fn_install(&d->cfg, fd, d->bundle_size, vm);
	if (d->req) {
		admin_send_function(d->req, d->replaced ? 200 : 201, fn_find(d->cfg.name));
		d->req = NULL;
	}
	deploy_free(d);
}

static void check_ready(struct vm *vm, void *owner, const char *text, size_t len)
{
	commit(owner);
}

static void check_layer(struct vm *vm, void *owner, int status, uint64_t bytes, const char *text)
{
	struct deploy *d = owner;
	d->layer_status = status ? status : 0;
	d->layer_bytes = bytes;
	snprintf(d->layer_why, sizeof(d->layer_why), "%s", text);
}

static void check_init_error(struct vm *vm, void *owner, const char *text, size_t len)
{
	struct deploy *d = owner;
	snprintf(d->init_error, sizeof(d->init_error), "%.*s", (int)(len < 500 ? len : 500), text);
	refuse(d, 422, "init_error", "the function failed to initialise: %s", d->init_error);
}

static void check_response(struct vm *vm, void *owner, const struct mote_msg_response *res)
{
	/* No request was given: cannot happen (vm.c refuses unasked messages). */
}

static void check_exited(struct vm *vm, void *owner, const char *why)
{
	struct deploy *d = owner;
	d->vm = NULL;
	if (d->charged) {
		capacity_release(&gw.cap, d->cfg.mem);
		d->charged = 0;
		fn_capacity_freed();
	}
	if (!d->done)
		refuse(d, 422, "init_error", "the function's VM ended while loading it: %s", why);
	else
		finish_refused(d);
}

static const struct vm_events check_events = {
    .ready = check_ready,
    .layer = check_layer,
    .init_error = check_init_error,
    .response = check_response,
    .exited = check_exited,
};

static void on_check_timeout(h2o_timeout_entry_t *e)
{
	struct deploy *d = H2O_STRUCT_FROM_MEMBER(struct deploy, timer, e);
	refuse(d, 422, "init_error", "the function did not finish loading within %llu ms",
	       (unsigned long long)gw.start_ms);
}

/*
 * The check VM runs the function's initialisation and then serves as its
 * first warm VM: it gets the function's CPU limits (a pooled VM has none of
 * its own). When they cannot be applied the VM is killed, and the check
 * fails as for any VM that ends before it is ready.
 */
static void limit_cpu(struct deploy *d)
{
	struct mote_err err = {0};
	if (vm_set_cpu(d->vm, d->cfg.cpu_quota_us, d->cfg.cpu_weight, &err) < 0) {
		fnlog_notef(d->log, "VM pid %d: cannot apply the CPU limits: %s", (int)vm_pid(d->vm),
			    err.msg);
		vm_kill(d->vm, "killed: its CPU limits could not be applied");
	}
}

static void drop_layer(struct deploy *d);

/* The check VM also takes the function's layer, so that the function's first cold start can use it. */
static void ask_layer(struct deploy *d, struct vm *vm)
{
	d->layer_status = -1;
	d->layer_fd = layers_open_take();
	if (d->layer_fd >= 0 && vm_take_layer(vm, d->layer_fd) < 0)
		drop_layer(d);
}

static void drop_layer(struct deploy *d)
{
	if (d->layer_fd >= 0)
		close(d->layer_fd);
	d->layer_fd = -1;
}

static void start_check(struct deploy *d)
{
	struct api_error e;
	struct base *b = base_lookup(d->cfg.runtime, d->cfg.mem, &e);
	if (!b) {
		refuse(d, e.http, e.code, "%s", e.msg);
		return;
	}
	const char *snap = base_snapshot(b);
	if (!snap) {
		const char *why = base_failure(b);
		if (why)
			refuse(d, 503, "no_base", "%s", why);
		else
			base_wait(b, &d->base_wait);
		return;
	}
	/* A paused VM of the pool when there is one (its charge grows to the guest's RAM), else a restore. */
	struct vm *pooled = pool_available(snap) > 0 ? pool_take(snap) : NULL;
	if (pooled)
		ask_layer(d, pooled);
	if (pooled && vm_attach(pooled, d->bundle_fd, d->bundle_size, d->log, &check_events, d) == 0) {
		d->vm = pooled;
		capacity_change(&gw.cap, SIZING_POOLED_CHARGE, d->cfg.mem);
		d->charged = 1;
		limit_cpu(d);
		return;
	}
	if (pooled) {
		drop_layer(d);
		capacity_release(&gw.cap, SIZING_POOLED_CHARGE);
		vm_kill(pooled, "killed: cannot pass it the bundle");
	}
	struct vm_spec spec = {.vmm = gw.vmm,
			       .snapshot = snap,
			       .base = b,
			       .bundle_fd = d->bundle_fd,
			       .bundle_size = d->bundle_size,
			       .log = d->log};
	struct mote_err err = {0};
	d->vm = vm_start(gw.loop, &spec, &check_events, d, &err);
	if (!d->vm) {
		refuse(d, 503, "no_vm", "cannot start a VM: %s", err.msg);
		return;
	}
	ask_layer(d, d->vm);
	pool_count_restore(snap, POOL_RESTORE_DEPLOY);
	capacity_charge(&gw.cap, d->cfg.mem);
	d->charged = 1;
	limit_cpu(d);
}

static void on_base_built(struct base_waiter *w)
{
	start_check(H2O_STRUCT_FROM_MEMBER(struct deploy, base_wait, w));
}

/*
 * The Node ABI (process.versions.modules) of the installed node runtime, which its build wrote into
 * mote/abi of its root tree; NULL when it is not installed or says nothing usable.
 */
static const char *node_abi(char out[16])
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/node/mote/abi", gw.runtimes_dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	int ok = fgets(out, 16, f) != NULL;
	fclose(f);
	out[ok ? strcspn(out, "\n") : 0] = 0;
	return ok && out[0] && strspn(out, "0123456789") == strlen(out) ? out : NULL;
}

void deploy_start(h2o_req_t *req, const struct reg_function *cfg, const char *const *env, size_t nenv)
{
	struct api_error e;
	char runtime[8], abi[16];
	snprintf(runtime, sizeof(runtime), "%s", cfg->runtime);
	if (bundle_check(req->entity.base, req->entity.base ? req->entity.len : 0, runtime, node_abi(abi),
			 &e) < 0) {
		admin_send_error(req, &e);
		return;
	}
	void *img;
	size_t img_len;
	if (bundle_finalize(req->entity.base, req->entity.len, env, nenv, &img, &img_len) < 0) {
		api_errorf(&e, 500, "internal", "out of memory");
		admin_send_error(req, &e);
		return;
	}
	struct deploy *d = calloc(1, sizeof(*d));
	if (!d) {
		if (img != req->entity.base)
			free(img);
		api_errorf(&e, 500, "internal", "out of memory");
		admin_send_error(req, &e);
		return;
	}
	d->cfg = *cfg;
	d->layer_fd = -1;
	d->layer_status = -1;
	snprintf(d->cfg.runtime, sizeof(d->cfg.runtime), "%s", runtime);
	if (!d->cfg.mem)
		d->cfg.mem = runtime_default_mem(runtime);
	struct mote_err err = {0};
	d->bundle_fd = bundle_store(gw.bundles_dir, img, img_len, d->cfg.bundle, &err);
	d->bundle_size = img_len;
	d->cfg.bundle_size = img_len;
	if (img != req->entity.base)
		free(img);
	if (d->bundle_fd < 0) {
		free(d);
		api_errorf(&e, 500, "internal", "%s", err.msg);
		admin_send_error(req, &e);
		return;
	}
	d->req = req;
	struct deploy_ref *ref = h2o_mem_alloc_shared(&req->pool, sizeof(*ref), ref_dispose);
	ref->d = d;
	d->ref = ref;
	d->replaced = fn_find(cfg->name) != NULL;
	d->log = fn_log_for(cfg->name);
	d->base_wait.cb = on_base_built;
	d->next = deploys;
	deploys = d;
	if (!check_timeout_ready) {
		/* Building a base on the first deploy takes longer than loading a function into one. */
		h2o_timeout_init(gw.loop, &check_timeout, gw.start_ms * 3);
		check_timeout_ready = 1;
	}
	d->timer.cb = on_check_timeout;
	h2o_timeout_link(gw.loop, &check_timeout, &d->timer);
	start_check(d);
}
