/* A KVM virtual machine with one vCPU and its guest memory, as mote-vmm uses it. */
#ifndef MOTE_VMM_VM_H
#define MOTE_VMM_VM_H

#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "err.h"

struct vm {
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;

	uint8_t *mem; /* guest RAM, host mapping */
	uint64_t mem_size;
	int mem_is_file; /* RAM maps a snapshot's memory file (else anonymous memory) */

	const uint8_t *rootfs; /* read-only rootfs image mapping, or NULL */
	uint64_t rootfs_gpa, rootfs_size, rootfs_map_size;

	/* Attached by the control channel (vmm/attach.c), at LAYOUT_BUNDLE_GPA and LAYOUT_INVOKE_GPA. */
	const uint8_t *bundle; /* read-only bundle image mapping, or NULL */
	uint64_t bundle_size, bundle_map_size;
	uint8_t *invoke; /* the invoke region, shared with the supervisor, or NULL */
	uint64_t invoke_size;

	uint64_t tsc_khz;
	uint64_t hwcap;	     /* CPUID.1:EDX given to the guest */
	uint32_t xsave_size; /* KVM's XSAVE area size, once asked (0 before) */
	int pagemap_fd;	     /* /proc/self/pagemap, opened at vm_create (the seccomp filter opens nothing) */
};

/*
 * Open /dev/kvm, create the VM and its vCPU, and map `mem_size` bytes of
 * guest RAM (MUST be a multiple of 2 MiB): zeroed anonymous memory when
 * `mem_fd` is -1, else the file `mem_fd` from offset `mem_offset`, mapped
 * MAP_PRIVATE (the guest reads the page cache and copies only what it writes).
 * Returns 0 or -1 with *err set (MOTE_STATUS_HOST).
 */
int vm_create(struct vm *vm, uint64_t mem_size, int mem_fd, uint64_t mem_offset, struct mote_err *err);

/*
 * Map `size` bytes of the file `fd` from offset `offset` (page-aligned)
 * read-only at guest-physical address vm->mem_size rounded up to 2 MiB
 * (shared page cache, no copy).
 */
int vm_map_rootfs(struct vm *vm, int fd, uint64_t offset, uint64_t size, struct mote_err *err);

/*
 * Map `size` bytes (1 .. LAYOUT_BUNDLE_WINDOW) of the file `fd` read-only at
 * LAYOUT_BUNDLE_GPA, rounded up to 4 KiB (memory slot 2). Returns 0 or -1
 * with *err (MOTE_STATUS_ATTACH_BUNDLE when the file cannot be mapped,
 * MOTE_STATUS_HOST when KVM refuses the slot).
 */
int vm_map_bundle(struct vm *vm, int fd, uint64_t size, struct mote_err *err);

/*
 * Map `size` bytes (a multiple of 4 KiB, 4 KiB .. LAYOUT_INVOKE_WINDOW) of
 * the memfd `fd` shared and read-write at LAYOUT_INVOKE_GPA (memory slot 3).
 * Returns 0 or -1 with *err (MOTE_STATUS_ATTACH_INVOKE, or MOTE_STATUS_HOST).
 */
int vm_map_invoke(struct vm *vm, int fd, uint64_t size, struct mote_err *err);

/* Release everything vm_create and the vm_map_* functions acquired. */
void vm_destroy(struct vm *vm);

/*
 * The one checked accessor for guest memory: returns the host address of
 * [gpa, gpa + len) if that range lies entirely in guest RAM (or, when
 * `allow_rootfs`, in one of the read-only images: the rootfs or an attached
 * bundle), NULL otherwise (also on overflow). Every guest-supplied address
 * MUST go through here. The invoke region is never returned: the monitor
 * does not read it on the guest's behalf.
 */
void *vm_guest_ptr(const struct vm *vm, uint64_t gpa, uint64_t len, int allow_rootfs);

/*
 * Which pages of guest RAM are backed in this process: one byte per 4 KiB
 * page, 1 when /proc/self/pagemap says present (bit 63) or swapped (bit 62).
 * For anonymous RAM, a page with neither was never written and reads as
 * zero. Returns a malloc'ed array (free() it), or NULL when pagemap is
 * unreadable. Reads through the descriptor vm_create opened.
 */
uint8_t *vm_backed_pages(const struct vm *vm);

/*
 * For RAM mapped from a memory file (MAP_PRIVATE): which pages were written
 * since it was mapped, by the guest or the monitor (a private copy now, or
 * swapped: /proc/self/pagemap says present and not a file page). Every other
 * page still reads as the file does. Same array and NULL as vm_backed_pages.
 */
uint8_t *vm_written_pages(const struct vm *vm);

/* ---- x86-64 specifics (vmm/x86_64.c) ---- */

/*
 * Build page tables, GDT and TSS in guest memory, and set the vCPU to 64-bit
 * CPL3 with IOPL=3, SSE/AVX/AVX-512 state enabled, FSGSBASE, CPUID from KVM,
 * and syscall MSRs pointing at `syscall_entry`. `stack_guard` is the address
 * of the page left unmapped below the program stack. Execution starts at
 * `entry` with %rdi = `arg` and %rsp = `rsp`.
 */
int vm_setup_x86_64(struct vm *vm, uint64_t entry, uint64_t rsp, uint64_t arg, uint64_t syscall_entry,
		    uint64_t stack_guard, struct mote_err *err);

/* Read the guest's current TSC (for the clock anchor). */
int vm_read_guest_tsc(struct vm *vm, uint64_t *tsc);

/* KVM_GET_SUPPORTED_CPUID, allocated (free() it); NULL with *err on failure. */
struct kvm_cpuid2 *vm_supported_cpuid(struct vm *vm, struct mote_err *err);

struct snap_writer;
struct snap_parsed;
struct snap_guest;

/*
 * Append the complete vCPU state to a snapshot state file: regs, sregs,
 * XSAVE area, XCRs, MSRs (TSC, syscall and sysenter MSRs, FS/GS bases, PAT,
 * ...), the CPUID the guest sees, pending events and debug registers. Any
 * pending port I/O MUST have been completed first (KVM_RUN with
 * immediate_exit). Returns 0 or -1 with *err.
 */
int vm_save_vcpu(struct vm *vm, struct snap_writer *w, struct mote_err *err);

/*
 * Ask KVM now what vm_save_vcpu needs to know once (the XSAVE area size),
 * so that a snapshot under the seccomp filter makes only vCPU ioctls.
 */
void vm_save_prepare(struct vm *vm);

/*
 * Refuse a snapshot whose vCPU state mote-vmm never saves, or that needs what
 * this host cannot give (snapcheck_vcpu, against the CPUID a vCPU here
 * reports and KVM's XSAVE size). `sg` is the snapshot's checked guest
 * section. Returns 0, or -1 with *err (MOTE_STATUS_SNAP_CORRUPT or
 * MOTE_STATUS_SNAP_INCOMPATIBLE) naming the fault.
 */
int vm_check_vcpu(struct vm *vm, const struct snap_parsed *p, const struct snap_guest *sg,
		  struct mote_err *err);

/*
 * Load the vCPU state saved by vm_save_vcpu (checked by vm_check_vcpu). The
 * guest TSC is set last: *saved_tsc is the value saved, *tsc the value the
 * guest reads right after (KVM may not honour TSC writes, e.g. under PVM).
 * Returns 0 or -1 with *err.
 */
int vm_restore_vcpu(struct vm *vm, const struct snap_parsed *p, uint64_t *saved_tsc, uint64_t *tsc,
		    struct mote_err *err);

#endif /* MOTE_VMM_VM_H */
