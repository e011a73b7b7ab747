/* Time without exits: TSC read at CPL3 scaled by the monitor's boot anchor. */
#ifndef GUEST_CLOCK_H
#define GUEST_CLOCK_H

#include <stdint.h>

#include <mote/abi.h>

void clock_init(const struct mote_boot_info *bi);

/*
 * Place the vDSO (and the clock data page below it) in guest memory; the
 * program then reads clocks without a syscall. MUST run after mm_init.
 * Returns the image's address for AT_SYSINFO_EHDR, or 0 if out of memory.
 * Later calls (execve) return the same address.
 */
uint64_t clock_setup_vdso(void);
uint64_t clock_monotonic_ns(void);
int64_t clock_realtime_ns(void);
/* The clock's generation: 0 after boot, +1 for every snapshot restore behind this VM. */
uint64_t clock_generation(void);
/* Block for `ns` nanoseconds of monotonic time (one exit per second or less of it). */
void clock_sleep_ns(uint64_t ns);

#endif /* GUEST_CLOCK_H */
