/* `mote top`: the live figures of mote serve (pools, VMs, caps, requests, latency), read from GET /metrics.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin_client.h"
#include "commands.h"
#include "size.h"
#include "status.h"

#define MAX_FNS 4096
#define MAX_BASES 64
#define NBUCKETS 32

/* One sample line of the text format: name, the raw label text, value. */
struct sample {
	char name[96];
	char labels[512];
	double value;
};

static int parse_sample(const char *line, size_t len, struct sample *s)
{
	if (!len || line[0] == '#')
		return -1;
	size_t i = 0;
	while (i < len && line[i] != '{' && line[i] != ' ')
		i++;
	if (i == 0 || i >= sizeof(s->name))
		return -1;
	memcpy(s->name, line, i);
	s->name[i] = 0;
	s->labels[0] = 0;
	if (i < len && line[i] == '{') {
		size_t j = i + 1;
		int quoted = 0;
		while (j < len && (quoted || line[j] != '}')) {
			if (line[j] == '\\' && quoted)
				j++;
			else if (line[j] == '"')
				quoted = !quoted;
			j++;
		}
		if (j >= len || j - i - 1 >= sizeof(s->labels))
			return -1;
		memcpy(s->labels, line + i + 1, j - i - 1);
		s->labels[j - i - 1] = 0;
		i = j + 1;
	}
	char num[64];
	size_t n = len - i < sizeof(num) - 1 ? len - i : sizeof(num) - 1;
	memcpy(num, line + i, n);
	num[n] = 0;
	char *end;
	s->value = strtod(num, &end);
	return end == num ? -1 : 0;
}

/* The value of label `key` in a label text (unescaped only as far as names need), into out. */
static const char *label(const char *labels, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	out[0] = 0;
	for (const char *p = labels; (p = strstr(p, key));) {
		if ((p == labels || p[-1] == ',') && p[klen] == '=' && p[klen + 1] == '"') {
			const char *v = p + klen + 2;
			size_t n = 0;
			while (v[n] && v[n] != '"' && n < size - 1)
				n++;
			memcpy(out, v, n);
			out[n] = 0;
			return out;
		}
		p += klen;
	}
	return out;
}

struct fnrow {
	char name[64];
	double requests, errors, starting, idle, busy, queued, private_bytes;
};

struct baserow {
	char id[65], runtime[8];
	double paused, restoring, target, hits, misses;
};

struct hist {
	double le[NBUCKETS], cum[NBUCKETS];
	int n;
	double count;
};

struct view {
	struct fnrow fns[MAX_FNS];
	unsigned nfns;
	struct baserow bases[MAX_BASES];
	unsigned nbases;
	struct hist paths[3];
	double vms[5], limit, charged_vms, budget, charged;
};

static const char *const path_names[3] = {"warm", "cold_pool", "cold_restore"};
static const char *const state_names[5] = {"pooled", "restoring", "starting", "idle", "busy"};

static struct fnrow *fn_row(struct view *v, const char *name)
{
	for (unsigned i = 0; i < v->nfns; i++)
		if (!strcmp(v->fns[i].name, name))
			return &v->fns[i];
	if (v->nfns == MAX_FNS)
		return NULL;
	struct fnrow *r = &v->fns[v->nfns++];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	return r;
}

static struct baserow *base_row(struct view *v, const char *id)
{
	for (unsigned i = 0; i < v->nbases; i++)
		if (!strcmp(v->bases[i].id, id))
			return &v->bases[i];
	if (v->nbases == MAX_BASES)
		return NULL;
	struct baserow *r = &v->bases[v->nbases++];
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", id);
	return r;
}

static void take(struct view *v, const struct sample *s)
{
	char a[128], b[128];
	if (!strcmp(s->name, "mote_requests_total")) {
		struct fnrow *r = fn_row(v, label(s->labels, "function", a, sizeof(a)));
		int status = atoi(label(s->labels, "status", b, sizeof(b)));
		if (r) {
			r->requests += s->value;
			if (status >= 500 || status == 0)
				r->errors += s->value;
		}
	} else if (!strcmp(s->name, "mote_vms")) {
		struct fnrow *r = fn_row(v, label(s->labels, "function", a, sizeof(a)));
		label(s->labels, "state", b, sizeof(b));
		if (r)
			*(!strcmp(b, "idle")   ? &r->idle
			  : !strcmp(b, "busy") ? &r->busy
					       : &r->starting) += s->value;
	} else if (!strcmp(s->name, "mote_queued_requests")) {
		struct fnrow *r = fn_row(v, label(s->labels, "function", a, sizeof(a)));
		if (r)
			r->queued = s->value;
	} else if (!strcmp(s->name, "mote_function_vm_memory_bytes")) {
		struct fnrow *r = fn_row(v, label(s->labels, "function", a, sizeof(a)));
		if (r && !strcmp(label(s->labels, "kind", b, sizeof(b)), "private"))
			r->private_bytes = s->value;
	} else if (!strcmp(s->name, "mote_vms_total")) {
		label(s->labels, "state", a, sizeof(a));
		for (int i = 0; i < 5; i++)
			if (!strcmp(a, state_names[i]))
				v->vms[i] = s->value;
	} else if (!strncmp(s->name, "mote_pool_", 10)) {
		struct baserow *r = base_row(v, label(s->labels, "base", a, sizeof(a)));
		if (!r)
			return;
		if (!strcmp(s->name, "mote_pool_vms")) {
			label(s->labels, "runtime", r->runtime, sizeof(r->runtime));
			*(!strcmp(label(s->labels, "state", b, sizeof(b)), "paused") ? &r->paused
										     : &r->restoring) =
			    s->value;
		} else if (!strcmp(s->name, "mote_pool_target")) {
			r->target = s->value;
		} else if (!strcmp(s->name, "mote_pool_hits_total")) {
			r->hits = s->value;
		} else if (!strcmp(s->name, "mote_pool_misses_total")) {
			r->misses = s->value;
		}
	} else if (!strcmp(s->name, "mote_request_duration_seconds_bucket")) {
		label(s->labels, "path", a, sizeof(a));
		label(s->labels, "le", b, sizeof(b));
		for (int i = 0; i < 3; i++)
			if (!strcmp(a, path_names[i]) && v->paths[i].n < NBUCKETS && strcmp(b, "+Inf")) {
				v->paths[i].le[v->paths[i].n] = strtod(b, NULL);
				v->paths[i].cum[v->paths[i].n++] = s->value;
			}
	} else if (!strcmp(s->name, "mote_request_duration_seconds_count")) {
		label(s->labels, "path", a, sizeof(a));
		for (int i = 0; i < 3; i++)
			if (!strcmp(a, path_names[i]))
				v->paths[i].count = s->value;
	} else if (!strcmp(s->name, "mote_vm_limit")) {
		v->limit = s->value;
	} else if (!strcmp(s->name, "mote_vms_charged")) {
		v->charged_vms = s->value;
	} else if (!strcmp(s->name, "mote_memory_budget_bytes")) {
		v->budget = s->value;
	} else if (!strcmp(s->name, "mote_memory_charged_bytes")) {
		v->charged = s->value;
	}
}

/* The q-quantile of a cumulative histogram (linear inside the bucket), seconds. */
static double quantile(const struct hist *h, double q)
{
	if (h->count <= 0)
		return 0;
	double rank = q * h->count, prev_le = 0, prev = 0;
	for (int i = 0; i < h->n; i++) {
		if (h->cum[i] >= rank && h->cum[i] > prev)
			return prev_le + (h->le[i] - prev_le) * (rank - prev) / (h->cum[i] - prev);
		prev_le = h->le[i];
		prev = h->cum[i];
	}
	return prev_le;
}

static void show(const struct view *v)
{
	printf(
	    "VMS     %.0f pooled, %.0f restoring, %.0f starting, %.0f warm (idle), %.0f busy; %.0f of %.0f "
	    "allowed; memory charged %.0f of %.0f MiB\n",
	    v->vms[0], v->vms[1], v->vms[2], v->vms[3], v->vms[4], v->charged_vms, v->limit,
	    v->charged / 1048576, v->budget / 1048576);
	printf("LATENCY");
	for (int i = 0; i < 3; i++)
		printf("  %s: %.0f, p50 %.2f ms, p99 %.2f ms", path_names[i], v->paths[i].count,
		       quantile(&v->paths[i], 0.5) * 1e3, quantile(&v->paths[i], 0.99) * 1e3);
	printf("\n");
	printf("%-14s %-7s %7s %7s %7s %7s\n", "POOL (BASE)", "RUNTIME", "PAUSED", "TARGET", "HITS",
	       "MISSES");
	for (unsigned i = 0; i < v->nbases; i++) {
		const struct baserow *b = &v->bases[i];
		printf("%-14.12s %-7s %7.0f %7.0f %7.0f %7.0f\n", b->id, b->runtime[0] ? b->runtime : "-",
		       b->paused + b->restoring, b->target, b->hits, b->misses);
	}
	printf("%-20s %9s %7s %5s %5s %5s %6s %11s\n", "FUNCTION", "REQUESTS", "5XX", "IDLE", "BUSY", "START",
	       "QUEUED", "PRIVATE_KIB");
	for (unsigned i = 0; i < v->nfns; i++) {
		const struct fnrow *f = &v->fns[i];
		printf("%-20s %9.0f %7.0f %5.0f %5.0f %5.0f %6.0f %11.0f\n", f->name, f->requests, f->errors,
		       f->idle, f->busy, f->starting, f->queued, f->private_bytes / 1024);
	}
}

static void top_usage(FILE *out)
{
	fprintf(out, "usage: mote top [--once] [--interval S] [--count N] [--server SOCKET]\n"
		     "  the live figures of mote serve (from its GET /metrics): VMs by state and the caps,\n"
		     "  latency by path (warm, cold from the pool, cold from a restore), pools, functions\n"
		     "  --once         print once and exit (same as --count 1)\n"
		     "  --interval S   seconds between refreshes (default 2)\n"
		     "  --count N      refresh N times, then exit (default: until interrupted)\n");
}

int cmd_top(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"once", no_argument, NULL, 'o'},	     {"interval", required_argument, NULL, 'i'},
	    {"count", required_argument, NULL, 'c'}, {"server", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},	     {NULL, 0, NULL, 0},
	};
	const char *server = NULL;
	uint64_t interval_ns = 2000000000ull;
	long count = -1;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o': count = 1; break;
		case 'i':
			if (mote_parse_duration(optarg, &interval_ns) < 0 || interval_ns < 100000000ull) {
				fprintf(stderr,
					"mote: top: --interval: '%s' is not a duration of at least 0.1 s\n",
					optarg);
				return MOTE_STATUS_USAGE;
			}
			break;
		case 'c': {
			char *end;
			count = strtol(optarg, &end, 10);
			if (*end || !optarg[0] || count < 1) {
				fprintf(stderr, "mote: top: --count: '%s' is not a number of at least 1\n",
					optarg);
				return MOTE_STATUS_USAGE;
			}
			break;
		}
		case 's': server = optarg; break;
		case 'h': top_usage(stdout); return 0;
		default:
			fprintf(stderr,
				"mote: top: unknown or incomplete option '%s' (see mote top --help)\n",
				argv[optind - 1]);
			return MOTE_STATUS_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mote: top: unexpected argument '%s' (see mote top --help)\n", argv[optind]);
		return MOTE_STATUS_USAGE;
	}
	struct view *v = malloc(sizeof(*v));
	if (!v)
		return MOTE_STATUS_HOST;
	for (long round = 0; count < 0 || round < count; round++) {
		if (round)
			usleep((useconds_t)(interval_ns / 1000));
		struct mote_http_response res;
		admin_call(server, "GET", "/metrics", NULL, 0, NULL, 0, &res);
		if (res.head.status != 200)
			admin_fail("top", &res);
		memset(v, 0, sizeof(*v));
		for (size_t i = 0; i < res.body_len;) {
			const char *line = res.body + i, *nl = memchr(line, '\n', res.body_len - i);
			size_t len = nl ? (size_t)(nl - line) : res.body_len - i;
			struct sample s;
			if (parse_sample(line, len, &s) == 0)
				take(v, &s);
			i += len + 1;
		}
		mote_http_response_free(&res);
		if (round)
			printf("\n");
		show(v);
		fflush(stdout);
	}
	free(v);
	return 0;
}
