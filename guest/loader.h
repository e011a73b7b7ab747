/* Loading the program: static ELF (ET_EXEC or static-pie) and its initial stack. */
#ifndef GUEST_LOADER_H
#define GUEST_LOADER_H

#include <stdint.h>

#include <mote/abi.h>

/*
 * Load the program named by the boot info, build its stack (argv, envp,
 * auxv) and fill the boot info's prog_* fields. On failure ends the guest
 * with MOTE_EXIT_LOAD_ERROR and a one-line message. Returns the entry point
 * and stores the initial stack pointer in *sp.
 */
uint64_t loader_load_program(struct mote_boot_info *bi, uint64_t *sp);

#endif /* GUEST_LOADER_H */
