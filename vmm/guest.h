/* One guest as mote-vmm runs it: the VM, the loaded guest kernel and the boot-info block. */
#ifndef MOTE_VMM_GUEST_H
#define MOTE_VMM_GUEST_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <mote/abi.h>

#include "elf.h"
#include "err.h"
#include "vm.h"

struct guest_config {
	const char *kernel_path;
	const char *rootfs_path; /* cpio image, or NULL */
	uint64_t mem_size;
	uint64_t timeout_ns; /* 0: none */
	int debug;
	const char *exec_path; /* program path inside the rootfs */
	int argc;
	char **argv; /* argv[0] is what the program sees as its name */
	int envc;
	char **envp;
};

struct guest {
	struct vm vm;
	const struct guest_config *cfg;
	uint8_t *kernel_image; /* the guest kernel ELF file, kept for symbolizing */
	size_t kernel_size;
	struct mote_elf_info kernel;
	uint64_t stack_guard, stack_top;
	struct mote_boot_info *boot_info; /* host pointer into guest memory */
	uint64_t hypercall_count[MOTE_HC_COUNT];
	uint64_t bad_hypercalls;
};

/*
 * Create the VM, load the guest kernel and rootfs, write the boot-info
 * block and set the vCPU to start the guest kernel. Returns 0 or -1 with *err.
 */
int guest_boot(struct guest *g, const struct guest_config *cfg, struct mote_err *err);

/*
 * Handle the hypercall the guest just made through port `port` with the
 * 32-bit struct address `arg`. Returns 0 to resume the guest, or 1 when the
 * guest asked to end (then *done_status holds what mote-vmm should do, see
 * guest_finish). Bad guest input never fails the monitor.
 */
int guest_hypercall(struct guest *g, uint16_t port, uint32_t arg);

/* Print a crash report for the current vCPU state with the given reason. */
void guest_crash_report(struct guest *g, const char *reason);

/* End mote-vmm by signal `sig` (default action, no core dump). */
void vmm_die_by_signal(int sig) __attribute__((noreturn));

/* Set by guest_hypercall on MOTE_HC_EXIT. */
struct guest_exit {
	int exited;
	uint32_t reason;
	int32_t status;
	char msg[513];
	uint64_t rip, rsp;
};
extern struct guest_exit guest_exit_state;

#endif /* MOTE_VMM_GUEST_H */
