/* Metrics in the Prometheus text format: latency histograms, per-status counters and the text renderer. */
#ifndef MOTE_GATEWAY_METRICS_H
#define MOTE_GATEWAY_METRICS_H

#include <stddef.h>
#include <stdint.h>

/*
 * How the VM that served a request came to serve it (the `path` label of
 * mote_request_duration_seconds): warm (already loaded), cold_pool (taken
 * from a pool of paused clones and attached for it), cold_restore
 * (restored from the base on the spot). The set is open: a later path
 * (e.g. cold_layer) adds a value here.
 */
enum metrics_path {
	METRICS_PATH_WARM,
	METRICS_PATH_COLD_POOL,
	METRICS_PATH_COLD_RESTORE,
	METRICS_PATH_COLD_LAYER, /* restored from the function's layer over its base */
	METRICS_PATHS,
};

/* The label value of a path ("warm", "cold_pool", "cold_restore", "cold_layer"). */
const char *metrics_path_name(enum metrics_path p);

/* Upper bounds (seconds) of the latency histogram's buckets, ascending; +Inf follows. */
#define METRICS_BUCKETS 18
extern const double metrics_bucket_bounds[METRICS_BUCKETS];

struct metrics_histogram {
	uint64_t bucket[METRICS_BUCKETS]; /* observations <= bound (not cumulative; rendering sums) */
	uint64_t count;
	double sum;
};

/* Record one observation of `seconds`. */
void metrics_observe(struct metrics_histogram *h, double seconds);

/*
 * The q-quantile (0..1) estimated from the buckets (linear inside a bucket,
 * as Prometheus' histogram_quantile does); 0 when empty.
 */
double metrics_quantile(const struct metrics_histogram *h, double q);

/* Requests by HTTP status, for one function. */
#define METRICS_STATUSES 16
struct metrics_statuses {
	struct {
		uint16_t status;
		uint64_t count;
	} s[METRICS_STATUSES]; /* statuses beyond 16 distinct ones count under the last slot's, status 0 */
	unsigned n;
};

/* Count one answer of `status`. */
void metrics_count_status(struct metrics_statuses *m, int status);

/* Sum of all counts. */
uint64_t metrics_statuses_total(const struct metrics_statuses *m);

/* A growing text buffer; on out of memory `failed` is set and further output dropped. */
struct metrics_buf {
	char *data;
	size_t len, cap;
	int failed;
};

/* Append printf-style text. */
void metrics_printf(struct metrics_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "# HELP name help" and "# TYPE name type" (type: counter, gauge, histogram). */
void metrics_family(struct metrics_buf *b, const char *name, const char *type, const char *help);

/*
 * One sample line: `name{labels} value`. labels is NULL or the text between
 * the braces, built with metrics_labels. Integers are printed exactly.
 */
void metrics_sample(struct metrics_buf *b, const char *name, const char *labels, double value);

/*
 * Build a label set into out[size]: pairs of (key, value) strings ending
 * with NULL, values escaped as the text format wants (\\, \", \n).
 * Returns out ("" for no pairs; cut at size, never unterminated).
 */
char *metrics_labels(char *out, size_t size, ...) __attribute__((sentinel));

/*
 * A histogram's lines: name_bucket{labels,le="..."} (cumulative, then
 * le="+Inf"), name_sum{labels}, name_count{labels}. The family header is
 * the caller's.
 */
void metrics_histogram_render(struct metrics_buf *b, const char *name, const char *labels,
			      const struct metrics_histogram *h);

#endif /* MOTE_GATEWAY_METRICS_H */
