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

	const uint8_t *rootfs; /* read-only rootfs image mapping, or NULL */
	uint64_t rootfs_gpa, rootfs_size, rootfs_map_size;

	uint64_t tsc_khz;
	uint64_t hwcap; /* CPUID.1:EDX given to the guest */
};

/*
 * Open /dev/kvm, create the VM and its vCPU, and map `mem_size` bytes of
 * zeroed guest RAM (MUST be a multiple of 2 MiB). Returns 0 or -1 with *err
 * set (MOTE_STATUS_HOST).
 */
int vm_create(struct vm *vm, uint64_t mem_size, struct mote_err *err);

/*
 * Map the file `fd` of `size` bytes read-only at guest-physical address
 * vm->mem_size rounded up to 2 MiB (shared page cache, no copy).
 */
int vm_map_rootfs(struct vm *vm, int fd, uint64_t size, struct mote_err *err);

/* Release everything vm_create and vm_map_rootfs acquired. */
void vm_destroy(struct vm *vm);

/*
 * The one checked accessor for guest memory: returns the host address of
 * [gpa, gpa + len) if that range lies entirely in guest RAM (or, when
 * `allow_rootfs`, in the rootfs image), NULL otherwise (also on overflow).
 * Every guest-supplied address MUST go through here.
 */
void *vm_guest_ptr(const struct vm *vm, uint64_t gpa, uint64_t len, int allow_rootfs);

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

#endif /* MOTE_VMM_VM_H */
