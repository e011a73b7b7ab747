/* Unit test of gateway/metrics.c (the Prometheus text renderer, histograms, status counts) and of the
 * smaps_rollup parser of gateway/vm.c. */
// gateway-modules: gateway/metrics.c gateway/vm.c gateway/fnlog.c gateway/vmm_spawn.c
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "vm.h"

#include "check.h"

int main(void)
{
	struct metrics_buf b = {0};
	char l[256];
	metrics_family(&b, "mote_x_total", "counter", "Things");
	metrics_sample(&b, "mote_x_total",
		       metrics_labels(l, sizeof(l), "function", "f\"1\\\n", "status", "200", NULL), 3);
	metrics_sample(&b, "mote_y", NULL, 0.25);
	metrics_sample(&b, "mote_z", "", 12345678901.0);
	const char *want = "# HELP mote_x_total Things\n# TYPE mote_x_total counter\n"
			   "mote_x_total{function=\"f\\\"1\\\\\\n\",status=\"200\"} 3\n"
			   "mote_y 0.25\nmote_z 12345678901\n";
	check("render-escape-and-values", b.data && !strcmp(b.data, want), "got:\n%s", b.data ? b.data : "");
	free(b.data);

	/* A large page grows the buffer. */
	memset(&b, 0, sizeof(b));
	for (int i = 0; i < 5000; i++)
		metrics_sample(&b, "mote_many", metrics_labels(l, sizeof(l), "i", "0123456789", NULL), i);
	check("render-grows", !b.failed && b.len > 5000 * 20 && b.data[b.len - 1] == '\n', "len %zu", b.len);
	free(b.data);

	/* Labels cut at a whole label when they do not fit. */
	char small[24];
	metrics_labels(small, sizeof(small), "a", "1", "bbbbbbbb", "22222222", NULL);
	check("labels-cut-whole", !strcmp(small, "a=\"1\""), "got '%s'", small);

	/* Histograms: buckets cumulative, +Inf, sum, count. */
	struct metrics_histogram h = {0};
	metrics_observe(&h, 0.00005);
	metrics_observe(&h, 0.0009);
	metrics_observe(&h, 0.0009);
	metrics_observe(&h, 100);
	memset(&b, 0, sizeof(b));
	metrics_histogram_render(&b, "mote_d_seconds", "path=\"warm\"", &h);
	check("histogram-first-bucket",
	      strstr(b.data, "mote_d_seconds_bucket{path=\"warm\",le=\"0.0001\"} 1\n") != NULL, "%s", b.data);
	check("histogram-cumulative",
	      strstr(b.data, "mote_d_seconds_bucket{path=\"warm\",le=\"0.001\"} 3\n") != NULL, "%s", b.data);
	check("histogram-inf", strstr(b.data, "mote_d_seconds_bucket{path=\"warm\",le=\"+Inf\"} 4\n") != NULL,
	      "%s", b.data);
	check("histogram-count", strstr(b.data, "mote_d_seconds_count{path=\"warm\"} 4\n") != NULL, "%s",
	      b.data);
	check("histogram-sum", strstr(b.data, "mote_d_seconds_sum{path=\"warm\"} 100.00185\n") != NULL, "%s",
	      b.data);
	free(b.data);
	struct metrics_histogram q = {0};
	for (int i = 0; i < 100; i++)
		metrics_observe(&q, 0.0012);
	double p50 = metrics_quantile(&q, 0.5);
	check("quantile-in-bucket", p50 > 0.001 && p50 <= 0.0015, "p50 %g", p50);
	struct metrics_histogram empty = {0};
	check("quantile-empty", metrics_quantile(&empty, 0.5) == 0, "wrong");
	check("path-names",
	      !strcmp(metrics_path_name(METRICS_PATH_COLD_POOL), "cold_pool") &&
		  !strcmp(metrics_path_name(METRICS_PATH_COLD_RESTORE), "cold_restore") &&
		  !strcmp(metrics_path_name(METRICS_PATH_WARM), "warm"),
	      "wrong");

	/* Status counts, bounded. */
	struct metrics_statuses st = {0};
	for (int i = 0; i < 3; i++)
		metrics_count_status(&st, 200);
	metrics_count_status(&st, 503);
	for (int s = 300; s < 330; s++)
		metrics_count_status(&st, s);
	check("statuses-total",
	      metrics_statuses_total(&st) == 34 && st.s[0].count == 3 && st.n == METRICS_STATUSES,
	      "total %llu n %u", (unsigned long long)metrics_statuses_total(&st), st.n);

	/* smaps_rollup. */
	struct vm_memory m;
	const char *rollup = "55d0c0000000-7ffd00000000 ---p 00000000 00:00 0  [rollup]\n"
			     "Rss:                 832 kB\nPss:                 300 kB\n"
			     "Shared_Clean:        600 kB\nShared_Dirty:         40 kB\n"
			     "Private_Clean:        12 kB\nPrivate_Dirty:       180 kB\nReferenced: 832 kB\n";
	check("smaps-rollup",
	      vm_parse_smaps_rollup(rollup, &m) == 0 && m.private_bytes == 192 * 1024 &&
		  m.shared_bytes == 640 * 1024,
	      "private %llu shared %llu", (unsigned long long)m.private_bytes,
	      (unsigned long long)m.shared_bytes);
	check("smaps-rollup-incomplete", vm_parse_smaps_rollup("Rss: 4 kB\n", &m) == -1, "accepted");
	return failures ? 1 : 0;
}
