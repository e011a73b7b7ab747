/* Loading the program: static ELF (ET_EXEC or static-pie) and its initial stack; at boot and for execve. */
#ifndef GUEST_LOADER_H
#define GUEST_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include <mote/abi.h>

#include "elf.h"

/* A program file to start: its bytes (inside the VFS) and, once checked, its ELF headers. */
struct loader_program {
	const char *path; /* as given: AT_EXECFN, and in messages */
	const void *image;
	uint64_t size;
	struct mote_elf_info elf; /* filled by loader_check */
	/* A dynamic program (PT_INTERP): its interpreter from the rootfs, found by loader_check. */
	int dynamic;
	const void *interp_image;
	uint64_t interp_size;
	struct mote_elf_info interp_elf;
};

/*
 * Load the program named by the boot info, build its stack (argv, envp,
 * auxv) and fill the boot info's prog_* fields. On failure ends the guest
 * with MOTE_EXIT_LOAD_ERROR and a one-line message. Returns the entry point
 * and stores the initial stack pointer in *sp.
 */
uint64_t loader_load_program(struct mote_boot_info *bi, uint64_t *sp);

/*
 * Check that p->image is an x86-64 ELF executable (ET_EXEC, PIE or
 * static-pie) and fill p->elf. A dynamic one (PT_INTERP) needs its
 * interpreter in the rootfs, itself a static ELF (ld.so is): found, it is
 * checked into p->interp_*. Changes nothing. Returns 0, or a MOTE_LOAD_*
 * code with one line in msg[size].
 */
int loader_check(struct loader_program *p, char *msg, size_t size);

/*
 * Start the checked program `p`: place its segments (ET_EXEC at its
 * addresses, PIE at a free range) and its interpreter's (at a free range;
 * the program then starts there, with AT_BASE), set the brk, build the
 * stack at the top of the stack region with argv and envp (kernel strings,
 * copied onto it) and the auxiliary vector, and fill bi->prog_*. Returns the
 * entry point with *sp set, or 0 with a MOTE_LOAD_* code in *code and one
 * line in msg[size] when it does not fit in memory.
 */
uint64_t loader_start(struct mote_boot_info *bi, const struct loader_program *p, uint32_t argc,
		      const char *const *argv, uint32_t envc, const char *const *envp, uint64_t *sp,
		      int *code, char *msg, size_t size);

#endif /* GUEST_LOADER_H */
