/* Metrics in the Prometheus text format: latency histograms, per-status counters and the text renderer. */
#include "metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double metrics_bucket_bounds[METRICS_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005,
    0.0075, 0.01,    0.025,  0.05,    0.1,   0.25,   0.5,   1,	   2.5,
};

const char *metrics_path_name(enum metrics_path p)
{
	switch (p) {
	case METRICS_PATH_WARM: return "warm";
	case METRICS_PATH_COLD_POOL: return "cold_pool";
	case METRICS_PATH_COLD_RESTORE: return "cold_restore";
	case METRICS_PATH_COLD_LAYER: return "cold_layer";
	default: return "other";
	}
}

void metrics_observe(struct metrics_histogram *h, double seconds)
{
	if (!(seconds >= 0))
		seconds = 0;
	h->count++;
	h->sum += seconds;
	for (int i = 0; i < METRICS_BUCKETS; i++)
		if (seconds <= metrics_bucket_bounds[i]) {
			h->bucket[i]++;
			return;
		}
}

double metrics_quantile(const struct metrics_histogram *h, double q)
{
	if (!h->count)
		return 0;
	double rank = q * (double)h->count;
	uint64_t cum = 0;
	for (int i = 0; i < METRICS_BUCKETS; i++) {
		uint64_t next = cum + h->bucket[i];
		if ((double)next >= rank && h->bucket[i]) {
			double lo = i ? metrics_bucket_bounds[i - 1] : 0, hi = metrics_bucket_bounds[i];
			return lo + (hi - lo) * ((rank - (double)cum) / (double)h->bucket[i]);
		}
		cum = next;
	}
	return metrics_bucket_bounds[METRICS_BUCKETS - 1]; /* in the +Inf bucket: the highest bound */
}

void metrics_count_status(struct metrics_statuses *m, int status)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->s[i].status == status) {
			m->s[i].count++;
			return;
		}
	if (m->n < METRICS_STATUSES) {
		m->s[m->n].status = (uint16_t)status;
		m->s[m->n++].count = 1;
		return;
	}
	m->s[METRICS_STATUSES - 1].status = 0;
	m->s[METRICS_STATUSES - 1].count++;
}

uint64_t metrics_statuses_total(const struct metrics_statuses *m)
{
	uint64_t t = 0;
	for (unsigned i = 0; i < m->n; i++)
		t += m->s[i].count;
	return t;
}

void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
{
	if (b->failed)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		size_t room = b->cap - b->len;
		int n = vsnprintf(b->data ? b->data + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap - b->len <= (size_t)n)
			cap *= 2;
		char *p = realloc(b->data, cap);
		if (!p) {
			b->failed = 1;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
}

void metrics_family(struct metrics_buf *b, const char *name, const char *type, const char *help)
{
	metrics_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void print_value(struct metrics_buf *b, double v)
{
	if (isinf(v))
		metrics_printf(b, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 9e15)
		metrics_printf(b, "%lld", (long long)v);
	else
		metrics_printf(b, "%.9g", v);
}

void metrics_sample(struct metrics_buf *b, const char *name, const char *labels, double value)
{
	if (labels && labels[0])
		metrics_printf(b, "%s{%s} ", name, labels);
	else
		metrics_printf(b, "%s ", name);
	print_value(b, value);
	metrics_printf(b, "\n");
}

char *metrics_labels(char *out, size_t size, ...)
{
	size_t len = 0;
	out[0] = 0;
	va_list ap;
	va_start(ap, size);
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (!k)
			break;
		const char *v = va_arg(ap, const char *);
		char esc[512];
		size_t e = 0;
		for (const char *p = v ? v : ""; *p && e < sizeof(esc) - 2; p++) {
			if (*p == '\\' || *p == '"') {
				esc[e++] = '\\';
				esc[e++] = *p;
			} else if (*p == '\n') {
				esc[e++] = '\\';
				esc[e++] = 'n';
			} else {
				esc[e++] = *p;
			}
		}
		esc[e] = 0;
		int n = snprintf(out + len, size - len, "%s%s=\"%s\"", len ? "," : "", k, esc);
		if (n < 0 || (size_t)n >= size - len) {
			out[len] = 0; /* cut at a whole label */
			break;
		}
		len += (size_t)n;
	}
	va_end(ap);
	return out;
}

void metrics_histogram_render(struct metrics_buf *b, const char *name, const char *labels,
			      const struct metrics_histogram *h)
{
	const char *sep = labels && labels[0] ? "," : "";
	const char *l = labels ? labels : "";
	uint64_t cum = 0;
	for (int i = 0; i < METRICS_BUCKETS; i++) {
		cum += h->bucket[i];
		metrics_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, l, sep, metrics_bucket_bounds[i],
			       (unsigned long long)cum);
	}
	metrics_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, l, sep, (unsigned long long)h->count);
	char full[128];
	snprintf(full, sizeof(full), "%s_sum", name);
	metrics_sample(b, full, labels, h->sum);
	snprintf(full, sizeof(full), "%s_count", name);
	metrics_sample(b, full, labels, (double)h->count);
}
