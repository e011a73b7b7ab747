/* Unit test of gateway/sizing.c: the --pool spec, pool targets and deficits, scaling, capacity accounting. */
// gateway-modules: gateway/sizing.c gateway/runtime.c
#include <stdio.h>
#include <string.h>

#include "sizing.h"

#include "check.h"

#define M (1ull << 20)

static void bad(const char *spec, const char *needle)
{
	struct pool_config c;
	char why[300] = "";
	int r = sizing_parse_pool(spec, &c, why, sizeof(why));
	char name[80];
	snprintf(name, sizeof(name), "pool-refuses-'%s'", spec);
	check(name, r == -1 && strstr(why, needle) && !strchr(why, '\n'), "r=%d why='%s'", r, why);
}

int main(void)
{
	struct pool_config c;
	char why[300];
	int r = sizing_parse_pool("lua=8,c=4", &c, why, sizeof(why));
	check("pool-two-runtimes",
	      r == 0 && c.n == 2 && !strcmp(c.e[0].runtime, "lua") && c.e[0].size == 8 && c.e[0].mem == 0 &&
		  !strcmp(c.e[1].runtime, "c") && c.e[1].size == 4 && c.default_size == SIZING_DEFAULT_POOL,
	      "r=%d n=%u", r, c.n);
	r = sizing_parse_pool("3,lua:100M=2,lua=5,lua=6", &c, why, sizeof(why));
	check("pool-default-size-mem-and-last-wins",
	      r == 0 && c.default_size == 3 && c.n == 2 && c.e[0].mem == 100 * M && c.e[0].size == 2 &&
		  c.e[1].mem == 0 && c.e[1].size == 6,
	      "r=%d n=%u default=%u", r, c.n, c.default_size);
	r = sizing_parse_pool("lua:99M=1", &c, why, sizeof(why));
	check("pool-mem-rounded-to-2M", r == 0 && c.e[0].mem == 100 * M, "mem %llu",
	      (unsigned long long)c.e[0].mem);
	r = sizing_parse_pool("0", &c, why, sizeof(why));
	check("pool-off", r == 0 && c.default_size == 0 && c.n == 0, "r=%d", r);
	r = sizing_parse_pool("c=10000", &c, why, sizeof(why));
	check("pool-max-size", r == 0 && c.e[0].size == SIZING_POOL_MAX, "r=%d", r);
	bad("", "empty");
	bad("lua=x", "count");
	bad("lua=", "count");
	bad("lua=10001", "count");
	bad("java=2", "not a runtime");
	bad("=2", "not a runtime");
	bad("lua:=2", "memory size");
	bad("lua:1K=2", "16M to 32G");
	bad("lua:64X=2", "16M to 32G");
	bad(",", "count");
	bad("-1", "count");
	bad("c=1,c=2,lua=1,lua:20M=1,lua:22M=1,lua:24M=1,lua:26M=1,lua:28M=1,lua:30M=1,lua:32M=1,lua:34M=1,"
	    "lua:36M=1,lua:38M=1,lua:40M=1,lua:42M=1,lua:44M=1,lua:46M=1,lua:48M=1",
	    "more than");

	/* Targets. */
	sizing_parse_pool("lua=8,c:128M=2", &c, why, sizeof(why));
	int pinned;
	check("target-pinned-default-mem",
	      sizing_pool_target(&c, "lua", 64 * M, 64 * M, 0, &pinned) == 8 && pinned, "wrong");
	check("target-pinned-other-mem-not",
	      sizing_pool_target(&c, "lua", 128 * M, 64 * M, 0, &pinned) == 0 && !pinned, "wrong");
	check("target-in-use-default",
	      sizing_pool_target(&c, "lua", 128 * M, 64 * M, 1, &pinned) == SIZING_DEFAULT_POOL, "wrong");
	check("target-pinned-mem", sizing_pool_target(&c, "c", 128 * M, 64 * M, 0, NULL) == 2, "wrong");
	check("target-unused-c-default-mem", sizing_pool_target(&c, "c", 64 * M, 64 * M, 0, NULL) == 0,
	      "wrong");

	/* Deficits: bounded by the restores the rate allows. */
	check("deficit-full", sizing_pool_deficit(4, 4, 0, 2) == 0, "wrong");
	check("deficit-over", sizing_pool_deficit(4, 6, 0, 2) == 0, "wrong");
	check("deficit-counts-restoring", sizing_pool_deficit(4, 1, 2, 2) == 1, "wrong");
	check("deficit-bounded-by-slots", sizing_pool_deficit(100, 0, 0, 2) == 2, "wrong");
	check("deficit-no-slots", sizing_pool_deficit(100, 0, 0, 0) == 0, "wrong");

	/* Scaling. */
	check("desired-one-per-request", sizing_desired_vms(2, 3, 1) == 5, "wrong");
	check("desired-concurrency-rounds-up", sizing_desired_vms(2, 3, 2) == 3, "wrong");
	check("desired-concurrency-0-is-1", sizing_desired_vms(1, 1, 0) == 2, "wrong");
	check("desired-none", sizing_desired_vms(0, 0, 4) == 0, "wrong");

	/* Capacity: the VM count and the budget. */
	struct capacity cap = {.budget = 130 * M, .max_vms = 3};
	check("fits-empty", capacity_fits(&cap, 64 * M), "wrong");
	capacity_charge(&cap, 64 * M);
	capacity_charge(&cap, 64 * M);
	check("budget-holds", !capacity_fits(&cap, 64 * M) && capacity_fits(&cap, SIZING_POOLED_CHARGE),
	      "charged %llu", (unsigned long long)cap.charged);
	capacity_charge(&cap, SIZING_POOLED_CHARGE);
	check("count-holds", !capacity_fits(&cap, 1) && cap.vms == 3, "vms %u", cap.vms);
	check("pooled-to-attached-does-not-fit", !capacity_fits_change(&cap, SIZING_POOLED_CHARGE, 64 * M),
	      "wrong");
	capacity_release(&cap, 64 * M);
	check("pooled-to-attached-fits", capacity_fits_change(&cap, SIZING_POOLED_CHARGE, 64 * M), "wrong");
	capacity_change(&cap, SIZING_POOLED_CHARGE, 64 * M);
	check("change-charges", cap.charged == 128 * M && cap.vms == 2, "charged %llu vms %u",
	      (unsigned long long)cap.charged, cap.vms);
	check("shrink-always-fits", capacity_fits_change(&cap, 64 * M, M), "wrong");
	capacity_release(&cap, 64 * M);
	capacity_release(&cap, 64 * M);
	capacity_release(&cap, 64 * M); /* one too many: no underflow */
	check("release-no-underflow", cap.charged == 0 && cap.vms == 0, "charged %llu vms %u",
	      (unsigned long long)cap.charged, cap.vms);
	struct capacity over = {.budget = 10 * M, .max_vms = 10, .charged = 20 * M, .vms = 1};
	check("over-budget-nothing-fits", !capacity_fits(&over, 0) && !capacity_fits_change(&over, M, 2 * M),
	      "wrong");

	/* Defaults from /proc/meminfo. */
	check("meminfo",
	      sizing_parse_meminfo("MemTotal:       24591232 kB\nMemFree: 1 kB\n") == 24591232ull * 1024,
	      "wrong");
	check("meminfo-missing", sizing_parse_meminfo("MemFree: 1 kB\n") == 0, "wrong");
	check("budget-half", sizing_default_budget(24ull << 30) == 12ull << 30, "wrong");
	check("budget-floor", sizing_default_budget(0) == 256 * M, "wrong");

	/* Layer or pooled VM: measured when both are, else the other once, else --layer-min-load. */
	check("layer-min-load-0-always", sizing_start_from_layer(0, 1, 5, 50, 0) == 1, "pool chosen");
	check("unmeasured-short-load-pool", sizing_start_from_layer(10, 3, -1, -1, 0) == 0, "layer chosen");
	check("unmeasured-long-load-layer", sizing_start_from_layer(10, 25, -1, -1, 0) == 1, "pool chosen");
	check("unmeasured-unknown-load-pool", sizing_start_from_layer(10, -1, -1, -1, 0) == 0,
	      "layer chosen");
	check("layer-known-measure-pool", sizing_start_from_layer(10, 25, -1, 51, 3) == 0, "layer chosen");
	check("pool-known-measure-layer", sizing_start_from_layer(10, 25, 30, -1, 3) == 1, "pool chosen");
	check("quick-load-never-layer",
	      sizing_start_from_layer(10, 3, 4, -1, 3) == 0 && sizing_start_from_layer(10, 3, 40, 5, 3) == 0,
	      "layer chosen");
	check("pool-faster", sizing_start_from_layer(10, 25, 46, 51, 4) == 0, "layer chosen");
	check("layer-faster", sizing_start_from_layer(10, 25, 60, 51, 4) == 1, "pool chosen");
	int other = 0;
	for (unsigned i = 0; i < 32; i++)
		other += sizing_start_from_layer(10, 25, 46, 51, i);
	check("every-16th-measures-the-other", other == 2, "%d of 32 starts took the slower layer", other);
	return failures ? 1 : 0;
}
