/* Checks of a snapshot's contents against what mote-vmm itself writes: pure functions, no KVM, no files. */
#ifndef MOTE_VMM_SNAPCHECK_H
#define MOTE_VMM_SNAPCHECK_H

#include <stdint.h>

#include <linux/kvm.h>
#include <mote/abi.h>

#include "err.h"
#include "snapfile.h"

/*
 * A snapshot is untrusted input (docs/snapshots.md): everything restored from
 * it is first compared here with what mote-vmm itself would have saved. These
 * functions only read their arguments, so tests/fuzz/fuzz_snapcheck.c runs
 * them on arbitrary input without /dev/kvm. Error messages do not name the
 * file (the caller adds it); the status is MOTE_STATUS_SNAP_CORRUPT for state
 * mote never writes and MOTE_STATUS_SNAP_INCOMPATIBLE for state this host
 * cannot give.
 */

/* The MSRs a snapshot carries, in the order they are saved and restored; the TSC is last. */
extern const uint32_t snapcheck_msrs[];
#define SNAPCHECK_MSRS 14u

/*
 * Check the guest section against the layout mote-vmm builds (memory size,
 * stack, rootfs placement, kernel range, TSC rate) and copy it to *sg; check
 * the kernel identity section (SHA-256 of the guest kernel ELF) and copy it
 * to `kernel_id`. Returns 0 or -1 with *err.
 */
int snapcheck_guest(const struct snap_parsed *p, struct snap_guest *sg,
		    uint8_t kernel_id[SNAP_KERNEL_ID_SIZE], struct mote_err *err);

/*
 * Check the vCPU sections against what mote-vmm sets up and a CPL3 guest can
 * change: 64-bit CPL3 segments, mote's GDT, IDT, TSS and page tables, control
 * registers and EFER within mote's bits, RFLAGS a CPL3 program can have,
 * exactly mote's MSRs (no others: no kvmclock, steal time or sysenter) with
 * the values mote sets, no pending exception, NMI, SMI or interrupt, no
 * enabled hardware breakpoint, and an XCR0 and XSAVE area this host supports.
 * The CPUID table must hold only leaves the host has (`host`, `nhost`
 * entries: what a vCPU on this host reports), no feature bit it lacks, and no
 * larger limits (leaf ranges, address sizes, XSAVE size); `host_xsave_size`
 * is KVM's XSAVE area size here. `sg` is the checked guest section. Returns 0
 * or -1 with *err.
 */
int snapcheck_vcpu(const struct snap_parsed *p, const struct snap_guest *sg,
		   const struct kvm_cpuid_entry2 *host, uint32_t nhost, uint32_t host_xsave_size,
		   struct mote_err *err);

/*
 * Check the boot-info block found in the snapshot's memory before the
 * monitor rewrites its clock: magic, ABI version, a clock whose rate can be
 * computed with, and a generation that can still be bumped (a clone must
 * never see the generation of the original). Returns 0 or -1 with *err.
 */
int snapcheck_boot_info(const struct mote_boot_info *bi, struct mote_err *err);

/* The guest's monotonic time (ns) at guest TSC `tsc` under clock `c` (0 elapsed before the anchor). */
uint64_t snapcheck_monotonic_at(const struct mote_clock *c, uint64_t tsc);

#endif /* MOTE_VMM_SNAPCHECK_H */
