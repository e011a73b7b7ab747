/* Starting mote-vmm from the CLI: the flags commands pass on to mote-vmm, and its environment. */
#ifndef MOTE_CLI_VMM_EXEC_H
#define MOTE_CLI_VMM_EXEC_H

#include <stddef.h>

#include "file.h" /* mote_find_beside_self */

/* The flags `mote run` and `mote snapshot restore` share, passed on to mote-vmm as they are. */
struct vmm_flags {
	const char *timeout;  /* --timeout S, or NULL */
	const char *snapshot; /* --snapshot FILE, or NULL */
	int debug;	      /* --debug */
	int exit_after_snapshot;
	const char *log_fd; /* --log-fd N: mote-vmm's own lines go to descriptor N, or NULL */
};

/* The most argv entries vmm_flags_append adds. */
#define VMM_FLAGS_ARGS_MAX 8

/*
 * Check the flags before anything else happens: a --timeout that is not a
 * positive duration, a --log-fd that is not an open descriptor, or
 * --exit-after-snapshot without --snapshot, gets one line and exit status 64.
 */
void vmm_flags_check(const struct vmm_flags *f);

/* Append the flags as mote-vmm options to argv at *n (at most VMM_FLAGS_ARGS_MAX entries). */
void vmm_flags_append(const struct vmm_flags *f, const char **argv, int *n);

/*
 * Become mote-vmm at `vmm` with the NULL-terminated `argv` and an
 * environment holding only the sanitizers' options (mote-vmm needs nothing
 * from the host environment, and the guest's comes from --env); on failure
 * one line and status 72.
 */
void vmm_exec(const char *vmm, const char **argv) __attribute__((noreturn));

#endif /* MOTE_CLI_VMM_EXEC_H */
