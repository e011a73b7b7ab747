/* The admin API (HTTP/1.1 + JSON on the unix socket): deploy, list, show, remove, logs, invoke. */
#include "admin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base.h"
#include "cgroup.h"
#include "bundle.h"
#include "deploy.h"
#include "fn.h"
#include "fnlog.h"
#include "pool.h"
#include "registry.h"
#include "runtime.h"
#include "size.h"

#define ENV_MAX 64

static void send_json(h2o_req_t *req, int status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(body);
	if (!text) {
		req->res.status = 500;
		req->res.reason = "Internal Server Error";
		h2o_send_inline(req, H2O_STRLIT("{\"error\":\"out of memory\",\"code\":\"internal\"}\n"));
		return;
	}
	size_t n = strlen(text);
	h2o_iovec_t body_buf = h2o_strdup(&req->pool, text, n + 1);
	free(text);
	body_buf.base[n] = '\n';
	req->res.status = status;
	req->res.reason = status < 300 ? "OK" : "Error";
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
		       H2O_STRLIT("application/json"));
	req->res.content_length = n + 1;
	h2o_send_inline(req, body_buf.base, n + 1);
}

void admin_send_error(h2o_req_t *req, const struct api_error *e)
{
	send_json(req, e->http, json_pack("{s:s, s:s}", "error", e->msg, "code", e->code));
}

static void send_errorf(h2o_req_t *req, int http, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void send_errorf(h2o_req_t *req, int http, const char *code, const char *fmt, ...)
{
	struct api_error e = {.http = http, .code = code};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	admin_send_error(req, &e);
}

static void iso_time(int64_t ms, char *out, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *function_json(struct fn *fn)
{
	const struct reg_function *f = fn_settings(fn);
	struct fn_stats st;
	fn_stats(fn, &st);
	char at[32];
	iso_time(f->deployed_at, at, sizeof(at));
	json_t *env = json_loads(f->env, 0, NULL);
	if (!env)
		env = json_array();
	const char *state = st.busy ? "busy" : st.idle ? "warm" : st.starting ? "starting" : "cold";
	json_t *j = json_pack(
	    "{s:s, s:I, s:s, s:s, s:I, s:I, s:I, s:i, s:o, s:s, s:I, s:s, s:{s:i, s:i, s:i}, s:i}", "name",
	    f->name, "version", (json_int_t)f->version, "runtime", f->runtime, "bundle", f->bundle,
	    "bundle_size", (json_int_t)f->bundle_size, "mem", (json_int_t)f->mem, "timeout_ms",
	    (json_int_t)f->timeout_ms, "max_vms", (int)f->max_vms, "env", env, "deployed_at", at,
	    "deployed_at_ms", (json_int_t)f->deployed_at, "state", state, "vms", "starting", (int)st.starting,
	    "idle", (int)st.idle, "busy", (int)st.busy, "queued", (int)st.queued);
	if (j) {
		/* idle_timeout_ms: the function's own (-1 in the registry: the gateway's --idle). */
		json_object_set_new(
		    j, "idle_timeout_ms",
		    json_integer(f->idle_ms >= 0 ? (json_int_t)f->idle_ms : (json_int_t)gw.idle_ms));
		json_object_set_new(j, "concurrency", json_integer(f->concurrency ? f->concurrency : 1));
		/* cpus: CPUs per VM (null: unlimited); cpu_weight: 100 unless set. */
		json_object_set_new(
		    j, "cpus", f->cpu_quota_us ? json_real((double)f->cpu_quota_us / 100000.0) : json_null());
		json_object_set_new(j, "cpu_weight", json_integer(f->cpu_weight ? f->cpu_weight : 100));
	}
	return j;
}

void admin_send_function(h2o_req_t *req, int status, struct fn *fn)
{
	if (!fn) {
		send_errorf(req, 500, "internal", "the function vanished");
		return;
	}
	send_json(req, status, function_json(fn));
}

static int by_name(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	return strcmp(json_string_value(json_object_get(x, "name")),
		      json_string_value(json_object_get(y, "name")));
}

struct list_acc {
	json_t **items;
	size_t n, cap;
};

static void collect(struct fn *fn, void *arg)
{
	struct list_acc *a = arg;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		json_t **p = realloc(a->items, cap * sizeof(*p));
		if (!p)
			return;
		a->items = p;
		a->cap = cap;
	}
	a->items[a->n++] = function_json(fn);
}

static void list_functions(h2o_req_t *req)
{
	struct list_acc a = {0};
	fn_each(collect, &a);
	if (a.n) /* qsort of no items: NULL is not allowed even then */
		qsort(a.items, a.n, sizeof(*a.items), by_name);
	json_t *arr = json_array();
	for (size_t i = 0; i < a.n; i++)
		json_array_append_new(arr, a.items[i]);
	free(a.items);
	send_json(req, 200, json_pack("{s:o}", "functions", arr));
}

/* ---- query strings -------------------------------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode src[len] ('+' is a space) into a NUL-terminated pool string; NULL if malformed or has a NUL.
 */
static char *url_decode(h2o_mem_pool_t *pool, const char *src, size_t len)
{
	char *out = h2o_mem_alloc_pool(pool, len + 1), *o = out;
	for (size_t i = 0; i < len; i++) {
		if (src[i] == '%') {
			if (i + 2 >= len)
				return NULL;
			int hi = hexval(src[i + 1]), lo = hexval(src[i + 2]);
			if (hi < 0 || lo < 0)
				return NULL;
			*o = (char)(hi * 16 + lo);
			if (!*o)
				return NULL;
			o++;
			i += 2;
		} else {
			*o++ = src[i] == '+' ? ' ' : src[i];
		}
	}
	*o = 0;
	return out;
}

struct param {
	char *key, *value;
};

/* Split query[len] into at most `max` decoded key=value pairs. Returns their count or -1 if malformed. */
static int parse_query(h2o_mem_pool_t *pool, const char *q, size_t len, struct param *out, int max)
{
	int n = 0;
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && q[j] != '&')
			j++;
		if (j > i) {
			if (n == max)
				return -1;
			const char *eq = memchr(q + i, '=', j - i);
			size_t klen = eq ? (size_t)(eq - (q + i)) : j - i;
			out[n].key = url_decode(pool, q + i, klen);
			out[n].value =
			    eq ? url_decode(pool, eq + 1, (size_t)(q + j - eq - 1)) : url_decode(pool, "", 0);
			if (!out[n].key || !out[n].value)
				return -1;
			n++;
		}
		i = j + 1;
	}
	return n;
}

/* ---- routes --------------------------------------------------------------------------------------- */

static int parse_u64(const char *text, uint64_t *out)
{
	char *end;
	if (!text[0] || text[0] == '-')
		return -1;
	unsigned long long v = strtoull(text, &end, 10);
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static void put_function(h2o_req_t *req, const char *name, const char *query, size_t qlen)
{
	struct param ps[ENV_MAX + 16];
	int n = parse_query(&req->pool, query, qlen, ps, ENV_MAX + 16);
	if (n < 0) {
		send_errorf(req, 400, "bad_request", "malformed query string (or more than %d parameters)",
			    ENV_MAX + 16);
		return;
	}
	struct reg_function cfg;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	cfg.mem = 0; /* the runtime's default, once the bundle tells the runtime */
	cfg.timeout_ms = GW_DEFAULT_TIMEOUT_MS;
	cfg.max_vms = GW_DEFAULT_MAX_VMS;
	cfg.idle_ms = -1;
	cfg.concurrency = 1;
	const char *env[ENV_MAX];
	size_t nenv = 0;
	json_t *env_json = json_array();
	for (int i = 0; i < n; i++) {
		const char *k = ps[i].key, *v = ps[i].value;
		uint64_t u;
		if (!strcmp(k, "runtime")) {
			if (!runtime_find(v)) {
				json_decref(env_json);
				send_errorf(req, 400, "bad_request", "runtime: '%s' is not %s", v,
					    runtime_names());
				return;
			}
			snprintf(cfg.runtime, sizeof(cfg.runtime), "%s", v);
		} else if (!strcmp(k, "mem")) {
			if (mote_parse_size(v, &u) < 0 || u < (16ull << 20) || u > (32ull << 30)) {
				json_decref(env_json);
				send_errorf(req, 400, "bad_request",
					    "mem: '%s' is not a size from 16M to 32G", v);
				return;
			}
			cfg.mem = (u + (2ull << 20) - 1) & ~((2ull << 20) - 1);
		} else if (!strcmp(k, "timeout")) {
			uint64_t ns;
			if (mote_parse_duration(v, &ns) < 0 || ns < 1000000ull ||
			    ns / 1000000ull > GW_MAX_TIMEOUT_MS) {
				json_decref(env_json);
				send_errorf(req, 400, "bad_request",
					    "timeout: '%s' is not a duration from 1ms to %u s", v,
					    GW_MAX_TIMEOUT_MS / 1000);
				return;
			}
			cfg.timeout_ms = ns / 1000000ull;
		} else if (!strcmp(k, "max_vms")) {
			if (parse_u64(v, &u) < 0 || u < 1 || u > GW_MAX_VMS_LIMIT) {
				json_decref(env_json);
				send_errorf(req, 400, "bad_request",
					    "max_vms: '%s' is not a number from 1 to %u", v,
					    GW_MAX_VMS_LIMIT);
				return;
			}
			cfg.max_vms = (uint32_t)u;
		} else if (!strcmp(k, "idle_timeout")) {
			uint64_t ns;
			if (strcmp(v, "0") && (mote_parse_duration(v, &ns) < 0 || ns < 1000000ull ||
					       ns / 1000000ull > 7ull * 86400 * 1000)) {
				json_decref(env_json);
				send_errorf(req, 400, "bad_request",
					    "idle_timeout: '%s' is not 0 or a duration from 1ms to 7 days",
					    v);
				return;
			}
			cfg.idle_ms = strcmp(v, "0") ? (int64_t)(ns / 1000000ull) : 0;
		} else if (!strcmp(k, "concurrency")) {
			if (parse_u64(v, &u) < 0 || u < 1 || u > GW_MAX_CONCURRENCY) {
				json_decref(env_json);
				send_errorf(req, 400, "bad_request",
					    "concurrency: '%s' is not a number from 1 to %u", v,
					    GW_MAX_CONCURRENCY);
				return;
			}
			cfg.concurrency = (uint32_t)u;
		} else if (!strcmp(k, "cpus")) {
			if (mote_parse_cpus(v, 100000, &u) < 0) {
				json_decref(env_json);
				send_errorf(req, 400, "bad_request",
					    "cpus: '%s' is not a number of CPUs from 0.01 to 1024", v);
				return;
			}
			cfg.cpu_quota_us = u;
		} else if (!strcmp(k, "cpu_weight")) {
			if (parse_u64(v, &u) < 0 || u < 1 || u > 10000) {
				json_decref(env_json);
				send_errorf(req, 400, "bad_request",
					    "cpu_weight: '%s' is not a number from 1 to 10000", v);
				return;
			}
			cfg.cpu_weight = (uint32_t)u;
		} else if (!strcmp(k, "env")) {
			const char *eq = strchr(v, '=');
			if (!eq || eq == v || nenv == ENV_MAX) {
				json_decref(env_json);
				send_errorf(req, 400, "bad_request", "env: '%s' is not K=V (or more than %d)",
					    v, ENV_MAX);
				return;
			}
			env[nenv++] = v;
			json_array_append_new(env_json, json_string(v));
		} else {
			json_decref(env_json);
			send_errorf(req, 400, "bad_request", "unknown parameter '%s'", k);
			return;
		}
	}
	char *env_text = json_dumps(env_json, JSON_COMPACT);
	json_decref(env_json);
	if (!env_text || strlen(env_text) >= sizeof(cfg.env)) {
		free(env_text);
		send_errorf(req, 400, "bad_request", "env: more than %zu bytes", sizeof(cfg.env) - 1);
		return;
	}
	snprintf(cfg.env, sizeof(cfg.env), "%s", env_text);
	free(env_text);
	if (!req->entity.base || req->entity.len == 0) {
		send_errorf(req, 400, "bad_request", "no bundle: the request body must be the bundle image");
		return;
	}
	deploy_start(req, &cfg, env, nenv);
}

static void delete_function(h2o_req_t *req, struct fn *fn)
{
	struct mote_err err = {0};
	char name[REG_NAME_MAX + 1], hash[REG_HASH_HEX + 1];
	snprintf(name, sizeof(name), "%s", fn_settings(fn)->name);
	snprintf(hash, sizeof(hash), "%s", fn_settings(fn)->bundle);
	if (registry_delete_function(gw.reg, name, &err) < 0) {
		send_errorf(req, 500, "internal", "%s", err.msg);
		return;
	}
	fn_remove(fn);
	if (!registry_bundle_in_use(gw.reg, hash) && !deploy_uses_bundle(hash)) {
		char path[PATH_MAX + 100];
		snprintf(path, sizeof(path), "%s/%s", gw.bundles_dir, hash);
		unlink(path);
	}
	send_json(req, 200, json_pack("{s:s}", "removed", name));
}

static void send_logs(h2o_req_t *req, struct fn *fn, const char *query, size_t qlen)
{
	struct param ps[4];
	int n = parse_query(&req->pool, query, qlen, ps, 4);
	uint64_t tail = 2 * FNLOG_ROTATE_BYTES;
	for (int i = 0; i < n; i++)
		if (!strcmp(ps[i].key, "tail") && parse_u64(ps[i].value, &tail) < 0)
			n = -1;
	if (n < 0) {
		send_errorf(req, 400, "bad_request", "tail: expects a number of bytes");
		return;
	}
	char *text;
	size_t len;
	if (fnlog_read_tail(fn_log(fn), tail, &text, &len) < 0) {
		send_errorf(req, 500, "internal", "out of memory");
		return;
	}
	req->res.status = 200;
	req->res.reason = "OK";
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
		       H2O_STRLIT("text/plain; charset=utf-8"));
	req->res.content_length = len;
	h2o_send_inline(req, text, len);
	free(text);
}

static int method_is(h2o_req_t *req, const char *m)
{
	return h2o_memis(req->method.base, req->method.len, m, strlen(m));
}

void admin_metrics(struct metrics_buf *b)
{
	char l[128];
	fn_metrics(b);
	pool_metrics(b);
	metrics_family(b, "mote_vm_limit", "gauge", "The cap on VM processes (--max-vms)");
	metrics_sample(b, "mote_vm_limit", NULL, gw.cap.max_vms);
	metrics_family(b, "mote_vms_charged", "gauge",
		       "VMs counted against --max-vms (pooled, starting, warm, busy)");
	metrics_sample(b, "mote_vms_charged", NULL, gw.cap.vms);
	metrics_family(b, "mote_memory_budget_bytes", "gauge", "The memory budget (--memory-budget)");
	metrics_sample(b, "mote_memory_budget_bytes", NULL, (double)gw.cap.budget);
	metrics_family(b, "mote_memory_charged_bytes", "gauge",
		       "Memory charged against the budget: a pooled VM 1 MiB, an attached VM its guest RAM");
	metrics_sample(b, "mote_memory_charged_bytes", NULL, (double)gw.cap.charged);
	metrics_family(b, "mote_info", "gauge", "The gateway's settings");
	char rate[16];
	snprintf(rate, sizeof(rate), "%u", gw.pool_rate);
	metrics_sample(b, "mote_info", metrics_labels(l, sizeof(l), "pool_rate", rate, NULL), 1);
}

/* Answer with the metrics in the Prometheus text format (version 0.0.4). */
void admin_send_metrics(h2o_req_t *req)
{
	struct metrics_buf b = {0};
	admin_metrics(&b);
	if (b.failed) {
		free(b.data);
		send_errorf(req, 500, "internal", "out of memory");
		return;
	}
	req->res.status = 200;
	req->res.reason = "OK";
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
		       H2O_STRLIT("text/plain; version=0.0.4; charset=utf-8"));
	h2o_iovec_t body = h2o_strdup(&req->pool, b.data ? b.data : "", b.len);
	free(b.data);
	req->res.content_length = body.len;
	h2o_send_inline(req, body.base, body.len);
}

/* ---- bases -------------------------------------------------------------------------------------------- */

struct fn_use_acc {
	const struct reg_base *base;
	int active;
	json_t *functions;
	int serves;
};

static void fn_use(struct fn *fn, void *arg)
{
	struct fn_use_acc *a = arg;
	unsigned n = fn_vms_on_base(fn, a->base->id);
	if (n)
		json_array_append_new(a->functions,
				      json_pack("{s:s, s:i}", "name", fn_settings(fn)->name, "vms", (int)n));
	if (a->active && !strcmp(fn_settings(fn)->runtime, a->base->runtime))
		a->serves++;
}

static json_t *base_json(const struct base_info *i)
{
	const struct reg_base *b = i->reg;
	char created[32], activated[32];
	iso_time(b->created_at, created, sizeof(created));
	iso_time(b->activated_at, activated, sizeof(activated));
	json_t *mems = json_array();
	for (unsigned k = 0; k < i->nmems; k++)
		json_array_append_new(mems, json_integer((json_int_t)i->mems[k]));
	struct fn_use_acc a = {.base = b, .active = !strcmp(i->state, "active"), .functions = json_array()};
	fn_each(fn_use, &a);
	json_t *j =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:I, s:o, s:i, s:o, s:i}", "id",
		      b->id, "runtime", b->runtime, "state", i->state, "kernel", b->kernel_path,
		      "kernel_sha256", b->kernel_sha256, "program", b->program_path, "program_sha256",
		      b->program_sha256, "created_at", created, "created_at_ms", (json_int_t)b->created_at,
		      "activated_at", b->activated_at ? json_string(activated) : json_null(),
		      "activated_at_ms", (json_int_t)b->activated_at, "mems", mems, "vms", (int)i->vms,
		      "functions", a.functions, "serves", a.serves);
	return j;
}

struct base_find {
	const char *id;
	json_t *found;
	int list;
	json_t *all;
};

static void base_collect_json(const struct base_info *i, void *arg)
{
	struct base_find *f = arg;
	if (f->list) {
		json_array_append_new(f->all, base_json(i));
	} else if (!f->found && !strcmp(i->reg->id, f->id)) {
		f->found = base_json(i);
	}
}

/* The JSON of base `id` (a full id), or NULL. */
static json_t *base_json_of(const char *id)
{
	struct base_find f = {.id = id};
	base_each(base_collect_json, &f);
	return f.found;
}

static void send_base(h2o_req_t *req, int status, const char *id)
{
	json_t *j = base_json_of(id);
	if (!j)
		send_errorf(req, 500, "internal", "base %.12s vanished", id);
	else
		send_json(req, status, j);
}

struct base_req;

struct base_req_ref {
	struct base_req *br;
};

/* A `POST /bases` waiting for its build. */
struct base_req {
	struct base_build_waiter w;
	h2o_req_t *req;
	struct base_req_ref *ref;
};

static void base_req_dispose(void *p)
{
	struct base_req_ref *r = p;
	if (r->br) {
		base_build_unwait(&r->br->w);
		free(r->br);
	}
}

static void on_base_built(struct base_build_waiter *w, const char *id, const struct api_error *e)
{
	struct base_req *br = H2O_STRUCT_FROM_MEMBER(struct base_req, w, w);
	h2o_req_t *req = br->req;
	br->ref->br = NULL;
	free(br);
	if (e)
		admin_send_error(req, e);
	else
		send_base(req, 201, id);
}

static void build_base(h2o_req_t *req, const char *query, size_t qlen)
{
	struct param ps[8];
	int n = parse_query(&req->pool, query, qlen, ps, 8);
	if (n < 0) {
		send_errorf(req, 400, "bad_request", "malformed query string");
		return;
	}
	const char *runtime = NULL, *kernel = NULL, *program = NULL;
	int activate = 0;
	for (int i = 0; i < n; i++) {
		const char *k = ps[i].key, *v = ps[i].value;
		if (!strcmp(k, "runtime"))
			runtime = v;
		else if (!strcmp(k, "kernel") && v[0] == '/')
			kernel = v;
		else if (!strcmp(k, "program") && v[0] == '/')
			program = v;
		else if (!strcmp(k, "activate") && (!strcmp(v, "1") || !strcmp(v, "0")))
			activate = v[0] == '1';
		else {
			send_errorf(
			    req, 400, "bad_request",
			    "unknown parameter '%s' (or kernel and program not absolute paths, activate "
			    "not 0 or 1)",
			    k);
			return;
		}
	}
	if (!runtime) {
		send_errorf(req, 400, "bad_request", "runtime: missing (c, lua or node)");
		return;
	}
	struct base_req *br = calloc(1, sizeof(*br));
	if (!br) {
		send_errorf(req, 500, "internal", "out of memory");
		return;
	}
	br->w.cb = on_base_built;
	br->req = req;
	/* The request may be answered from within base_build (a build failing at once): the reference exists
	 * first. */
	struct base_req_ref *ref = h2o_mem_alloc_shared(&req->pool, sizeof(*ref), base_req_dispose);
	ref->br = br;
	br->ref = ref;
	char id[REG_HASH_HEX + 1];
	struct api_error e;
	int r = base_build(runtime, kernel, program, activate, &br->w, id, &e);
	if (r != 0) {
		ref->br = NULL;
		free(br);
		if (r < 0)
			admin_send_error(req, &e);
		else
			send_base(req, 200, id);
	}
}

static void list_bases(h2o_req_t *req)
{
	struct base_find f = {.list = 1, .all = json_array()};
	base_each(base_collect_json, &f);
	send_json(req, 200, json_pack("{s:o}", "bases", f.all));
}

static void route_bases(h2o_req_t *req, const char *path, size_t plen, const char *query, size_t qlen)
{
	if (plen == 6) {
		if (method_is(req, "GET"))
			list_bases(req);
		else if (method_is(req, "POST"))
			build_base(req, query, qlen);
		else
			send_errorf(req, 405, "bad_method", "/bases takes GET (list) or POST (build)");
		return;
	}
	const char *id = path + 7, *slash = memchr(id, '/', plen - 7);
	size_t ilen = slash ? (size_t)(slash - id) : plen - 7;
	char ibuf[REG_HASH_HEX + 2];
	snprintf(ibuf, sizeof(ibuf), "%.*s", (int)(ilen < REG_HASH_HEX + 1 ? ilen : REG_HASH_HEX + 1), id);
	struct api_error e;
	char full[REG_HASH_HEX + 1], prev[REG_HASH_HEX + 1];
	if (slash && (size_t)(path + plen - slash) == 9 && !memcmp(slash, "/activate", 9)) {
		if (!method_is(req, "POST")) {
			send_errorf(req, 405, "bad_method", "/bases/ID/activate takes POST");
			return;
		}
		if (base_activate(ibuf, full, prev, &e) < 0) {
			admin_send_error(req, &e);
			return;
		}
		json_t *j = base_json_of(full);
		send_json(req, 200,
			  json_pack("{s:o, s:o}", "base", j ? j : json_null(), "previous",
				    prev[0] ? json_string(prev) : json_null()));
		return;
	}
	if (slash) {
		send_errorf(req, 404, "not_found", "no such endpoint");
		return;
	}
	if (!method_is(req, "GET")) {
		send_errorf(req, 405, "bad_method", "/bases/ID takes GET");
		return;
	}
	/* An id prefix names one base, as for activate; a prefix is resolved by listing. */
	struct base_find f = {.list = 1, .all = json_array()};
	base_each(base_collect_json, &f);
	json_t *found = NULL, *b;
	size_t k;
	int many = 0, ok = ilen >= 8 && ilen <= REG_HASH_HEX;
	for (size_t c = 0; ok && c < ilen; c++)
		ok = (ibuf[c] >= '0' && ibuf[c] <= '9') || (ibuf[c] >= 'a' && ibuf[c] <= 'f');
	json_array_foreach(f.all, k, b)
	{
		if (ok && !strncmp(json_string_value(json_object_get(b, "id")), ibuf, ilen)) {
			many += found != NULL;
			found = b;
		}
	}
	if (!ok)
		send_errorf(req, 400, "bad_request", "'%s' is not a base id (8 to 64 lower-case hex digits)",
			    ibuf);
	else if (many)
		send_errorf(req, 400, "bad_request", "'%s' names more than one base: give more digits", ibuf);
	else if (!found)
		send_errorf(req, 404, "unknown_base", "no base %s (see mote base ls)", ibuf);
	else
		send_json(req, 200, json_incref(found));
	json_decref(f.all);
}

void admin_handle(h2o_req_t *req)
{
	const char *path = req->input.path.base;
	size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->input.path.len;
	const char *query = req->query_at != SIZE_MAX ? path + req->query_at + 1 : "";
	size_t qlen = req->query_at != SIZE_MAX ? req->input.path.len - req->query_at - 1 : 0;

	/* /invoke/NAME[/REST]: the public route, for `mote invoke`. */
	if (plen >= 8 && !memcmp(path, "/invoke/", 8)) {
		const char *name = path + 8, *slash = memchr(name, '/', plen - 8);
		size_t nlen = slash ? (size_t)(slash - name) : plen - 8;
		char nbuf[REG_NAME_MAX + 1];
		struct fn *fn = NULL;
		if (registry_name_valid(name, nlen)) {
			memcpy(nbuf, name, nlen);
			nbuf[nlen] = 0;
			fn = fn_find(nbuf);
		}
		if (!fn) {
			fn_send_error(req, 404, "no_function", "mote: no function '%.*s'",
				      (int)(nlen < 64 ? nlen : 64), name);
			return;
		}
		h2o_iovec_t rest =
		    slash ? h2o_iovec_init(slash, (size_t)(path + plen - slash)) : h2o_iovec_init("/", 1);
		fn_invoke(fn, req, rest, h2o_iovec_init(query, qlen));
		return;
	}
	if (plen == 8 && !memcmp(path, "/metrics", 8)) {
		if (!method_is(req, "GET")) {
			send_errorf(req, 405, "bad_method", "GET /metrics gives the metrics");
			return;
		}
		admin_send_metrics(req);
		return;
	}
	if ((plen == 6 && !memcmp(path, "/bases", 6)) || (plen > 7 && !memcmp(path, "/bases/", 7))) {
		route_bases(req, path, plen, query, qlen);
		return;
	}
	if (plen == 10 && !memcmp(path, "/functions", 10)) {
		if (!method_is(req, "GET")) {
			send_errorf(req, 405, "bad_method", "GET /functions lists the functions");
			return;
		}
		list_functions(req);
		return;
	}
	if (plen > 11 && !memcmp(path, "/functions/", 11)) {
		const char *name = path + 11, *slash = memchr(name, '/', plen - 11);
		size_t nlen = slash ? (size_t)(slash - name) : plen - 11;
		if (!registry_name_valid(name, nlen)) {
			send_errorf(
			    req, 400, "bad_name",
			    "'%.*s' is not a function name (1 to %d letters, digits, '_' or '-', starting "
			    "with a letter or digit)",
			    (int)(nlen < 80 ? nlen : 80), name, REG_NAME_MAX);
			return;
		}
		char nbuf[REG_NAME_MAX + 1];
		memcpy(nbuf, name, nlen);
		nbuf[nlen] = 0;
		struct fn *fn = fn_find(nbuf);
		if (slash && (size_t)(path + plen - slash) == 5 && !memcmp(slash, "/logs", 5)) {
			if (!fn)
				send_errorf(req, 404, "no_function", "no function '%s'", nbuf);
			else
				send_logs(req, fn, query, qlen);
			return;
		}
		if (slash) {
			send_errorf(req, 404, "not_found", "no such endpoint");
			return;
		}
		if (method_is(req, "PUT")) {
			put_function(req, nbuf, query, qlen);
		} else if (method_is(req, "GET")) {
			if (!fn)
				send_errorf(req, 404, "no_function", "no function '%s'", nbuf);
			else
				admin_send_function(req, 200, fn);
		} else if (method_is(req, "DELETE")) {
			if (!fn)
				send_errorf(req, 404, "no_function", "no function '%s'", nbuf);
			else
				delete_function(req, fn);
		} else {
			send_errorf(req, 405, "bad_method", "/functions/NAME takes PUT, GET or DELETE");
		}
		return;
	}
	send_errorf(req, 404, "not_found", "no such endpoint: %.*s", (int)(plen < 100 ? plen : 100), path);
}
