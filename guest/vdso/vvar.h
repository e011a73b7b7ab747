/* Data page shared by the guest kernel and its vDSO, and the one clock reader both use. */
#ifndef GUEST_VDSO_VVAR_H
#define GUEST_VDSO_VVAR_H

#include <stdint.h>

#include <mote/abi.h>

/*
 * Lives in the page right below the vDSO image. The guest kernel writes it
 * once at boot; the vDSO reads it from program context. The clock itself is
 * the monitor's struct mote_clock in the boot-info block, which a snapshot
 * restore rewrites.
 */
struct vvar {
	const volatile struct mote_clock *clock;
	uint64_t last_mono_ns; /* CLOCK_MONOTONIC never goes below this */
};

/*
 * Read the monitor's clock: monotonic and realtime nanoseconds now. Copies
 * the anchor between two reads of the generation and retries when a restore
 * rewrote it in between.
 */
static inline void vvar_read_clock(const volatile struct mote_clock *c, uint64_t *mono, int64_t *real)
{
	uint64_t gen, anchor_tsc, mult, anchor_mono, t;
	uint32_t shift;
	int64_t anchor_real;
	do {
		gen = c->generation;
		__asm__ volatile("" ::: "memory");
		anchor_tsc = c->anchor_tsc;
		mult = c->tsc_mult;
		shift = c->tsc_shift;
		anchor_mono = c->anchor_monotonic_ns;
		anchor_real = c->anchor_realtime_ns;
		uint32_t lo, hi;
		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		t = (uint64_t)hi << 32 | lo;
		__asm__ volatile("" ::: "memory");
	} while (c->generation != gen);
	uint64_t delta = t > anchor_tsc ? t - anchor_tsc : 0;
	uint64_t ns = (uint64_t)(((unsigned __int128)delta * mult) >> shift);
	*mono = anchor_mono + ns;
	*real = anchor_real + (int64_t)ns;
}

/* CLOCK_MONOTONIC: the clock's monotonic time, never below an earlier reading. */
static inline uint64_t vvar_monotonic_ns(struct vvar *v)
{
	uint64_t mono;
	int64_t real;
	vvar_read_clock(v->clock, &mono, &real);
	if (mono < v->last_mono_ns)
		mono = v->last_mono_ns;
	v->last_mono_ns = mono;
	return mono;
}

/* CLOCK_REALTIME. */
static inline int64_t vvar_realtime_ns(struct vvar *v)
{
	uint64_t mono;
	int64_t real;
	vvar_read_clock(v->clock, &mono, &real);
	return real;
}

#endif /* GUEST_VDSO_VVAR_H */
