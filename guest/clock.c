/* Time without exits: TSC read at CPL3 scaled by the monitor's boot anchor. */
#include "clock.h"

#include "console.h"
#include "hypercall.h"

static uint64_t anchor_tsc, tsc_mult, anchor_mono;
static int64_t anchor_real;
static uint32_t tsc_shift;
static uint64_t last_mono;

void clock_init(const struct mote_boot_info *bi)
{
	anchor_tsc = bi->anchor_tsc;
	tsc_mult = bi->tsc_mult;
	tsc_shift = bi->tsc_shift;
	anchor_mono = bi->anchor_monotonic_ns;
	anchor_real = bi->anchor_realtime_ns;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static uint64_t elapsed_ns(void)
{
	uint64_t t = rdtsc();
	uint64_t delta = t > anchor_tsc ? t - anchor_tsc : 0;
	return (uint64_t)(((unsigned __int128)delta * tsc_mult) >> tsc_shift);
}

uint64_t clock_monotonic_ns(void)
{
	uint64_t now = anchor_mono + elapsed_ns();
	if (now < last_mono)
		now = last_mono;
	last_mono = now;
	return now;
}

int64_t clock_realtime_ns(void)
{
	return anchor_real + (int64_t)elapsed_ns();
}

void clock_sleep_ns(uint64_t ns)
{
	static struct mote_hc_sleep s;
	console_flush();
	s.ns = ns;
	hypercall(MOTE_HC_SLEEP, &s);
}
