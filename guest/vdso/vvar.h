/* Data page shared by the guest kernel and its vDSO: the clock anchor, read without a syscall. */
#ifndef GUEST_VDSO_VVAR_H
#define GUEST_VDSO_VVAR_H

#include <stdint.h>

/*
 * Lives in the page right below the vDSO image. The guest kernel writes it at
 * boot (and when re-anchoring clocks); the vDSO reads it from program context.
 * ns = anchor + ((rdtsc - anchor_tsc) * tsc_mult) >> tsc_shift.
 */
struct vvar {
	uint64_t anchor_tsc;
	uint64_t tsc_mult;
	uint32_t tsc_shift;
	uint32_t pad;
	uint64_t anchor_mono_ns;
	int64_t anchor_real_ns;
	uint64_t last_mono_ns; /* CLOCK_MONOTONIC never goes below this */
};

#endif /* GUEST_VDSO_VVAR_H */
