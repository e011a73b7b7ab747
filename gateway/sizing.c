/* Pool sizing and capacity accounting: the --pool spec, the memory budget and VM caps (pure logic, no I/O).
 */
#include "sizing.h"
#include "runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "size.h"

static int parse_count(const char *text, size_t len, unsigned *out)
{
	if (len == 0 || len > 6)
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(text[i] - '0');
	}
	if (v > SIZING_POOL_MAX)
		return -1;
	*out = v;
	return 0;
}

int sizing_parse_pool(const char *text, struct pool_config *out, char *why, size_t why_size)
{
	memset(out, 0, sizeof(*out));
	out->default_size = SIZING_DEFAULT_POOL;
	if (!text[0]) {
		snprintf(why, why_size, "--pool: empty (expected e.g. lua=8,c=4)");
		return -1;
	}
	for (const char *p = text; p;) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
		size_t len = (size_t)(end - p);
		const char *eq = memchr(p, '=', len);
		if (!eq) {
			if (parse_count(p, len, &out->default_size) < 0) {
				snprintf(why, why_size, "--pool: '%.*s' is not a count from 0 to %u",
					 (int)len, p, SIZING_POOL_MAX);
				return -1;
			}
		} else {
			const char *colon = memchr(p, ':', (size_t)(eq - p));
			size_t rlen = (size_t)((colon ? colon : eq) - p);
			struct pool_entry e = {.mem = 0};
			if (!runtime_find_n(p, rlen)) {
				snprintf(why, why_size, "--pool: '%.*s' is not a runtime (c, lua or node)",
					 (int)rlen, p);
				return -1;
			}
			memcpy(e.runtime, p, rlen);
			if (colon) {
				char size[32];
				size_t slen = (size_t)(eq - colon - 1);
				if (slen == 0 || slen >= sizeof(size)) {
					snprintf(why, why_size, "--pool: '%.*s' has no memory size like 128M",
						 (int)len, p);
					return -1;
				}
				memcpy(size, colon + 1, slen);
				size[slen] = 0;
				if (mote_parse_size(size, &e.mem) < 0 || e.mem < (16ull << 20) ||
				    e.mem > (32ull << 30)) {
					snprintf(why, why_size, "--pool: '%s' is not a size from 16M to 32G",
						 size);
					return -1;
				}
				e.mem = (e.mem + (2ull << 20) - 1) & ~((2ull << 20) - 1);
			}
			if (parse_count(eq + 1, (size_t)(end - eq - 1), &e.size) < 0) {
				snprintf(why, why_size,
					 "--pool: '%.*s': the count is not a number from 0 to %u", (int)len,
					 p, SIZING_POOL_MAX);
				return -1;
			}
			unsigned i;
			for (i = 0; i < out->n; i++)
				if (!strcmp(out->e[i].runtime, e.runtime) && out->e[i].mem == e.mem)
					break;
			if (i == out->n) {
				if (out->n == SIZING_POOL_ENTRIES) {
					snprintf(why, why_size, "--pool: more than %d entries",
						 SIZING_POOL_ENTRIES);
					return -1;
				}
				out->n++;
			}
			out->e[i] = e;
		}
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

int sizing_start_from_layer(uint64_t layer_min_load_ms, double load_ms, double pool_ms, double layer_ms,
			    unsigned start)
{
	if (layer_min_load_ms == 0)
		return 1;
	if (load_ms >= 0 && load_ms < (double)layer_min_load_ms)
		return 0; /* a quick load: the pooled VM, no need to measure the layer */
	if (pool_ms >= 0 && layer_ms >= 0) {
		int faster = layer_ms < pool_ms;
		return start % 16 == 15 ? !faster : faster;
	}
	if (layer_ms >= 0)
		return 0;
	if (pool_ms >= 0)
		return 1;
	return load_ms >= 0 && load_ms >= (double)layer_min_load_ms;
}

unsigned sizing_pool_target(const struct pool_config *c, const char *runtime, uint64_t mem,
			    uint64_t default_mem, int in_use, int *pinned)
{
	if (pinned)
		*pinned = 0;
	for (unsigned i = 0; i < c->n; i++) {
		uint64_t m = c->e[i].mem ? c->e[i].mem : default_mem;
		if (!strcmp(c->e[i].runtime, runtime) && m == mem) {
			if (pinned)
				*pinned = 1;
			return c->e[i].size;
		}
	}
	return in_use ? c->default_size : 0;
}

unsigned sizing_pool_deficit(unsigned target, unsigned have, unsigned restoring, unsigned slots)
{
	unsigned present = have + restoring;
	if (present >= target)
		return 0;
	unsigned missing = target - present;
	return missing < slots ? missing : slots;
}

unsigned sizing_desired_vms(unsigned busy, unsigned queued, unsigned concurrency)
{
	if (!concurrency)
		concurrency = 1;
	unsigned long long want = (unsigned long long)busy + queued;
	return (unsigned)((want + concurrency - 1) / concurrency);
}

int capacity_fits(const struct capacity *c, uint64_t bytes)
{
	return c->vms < c->max_vms && c->charged <= c->budget && bytes <= c->budget - c->charged;
}

int capacity_fits_change(const struct capacity *c, uint64_t from, uint64_t to)
{
	if (to <= from)
		return 1;
	uint64_t rest = c->charged >= from ? c->charged - from : 0;
	return rest <= c->budget && to <= c->budget - rest;
}

void capacity_charge(struct capacity *c, uint64_t bytes)
{
	c->vms++;
	c->charged += bytes;
}

void capacity_change(struct capacity *c, uint64_t from, uint64_t to)
{
	c->charged = (c->charged >= from ? c->charged - from : 0) + to;
}

void capacity_release(struct capacity *c, uint64_t bytes)
{
	if (c->vms)
		c->vms--;
	c->charged = c->charged >= bytes ? c->charged - bytes : 0;
}

uint64_t sizing_default_budget(uint64_t mem_total)
{
	uint64_t half = mem_total / 2;
	return half < (256ull << 20) ? (256ull << 20) : half;
}

uint64_t sizing_parse_meminfo(const char *text)
{
	const char *p = strstr(text, "MemTotal:");
	if (!p)
		return 0;
	unsigned long long kb;
	if (sscanf(p, "MemTotal: %llu kB", &kb) != 1)
		return 0;
	return (uint64_t)kb * 1024;
}
