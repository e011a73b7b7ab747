/* Starting mote-vmm from the CLI: finding mote's binaries, and the flags commands pass on to mote-vmm. */
#ifndef MOTE_CLI_VMM_EXEC_H
#define MOTE_CLI_VMM_EXEC_H

#include <stddef.h>

/*
 * Write to `out` the path of `name` installed beside this executable (a
 * build/ directory) or in ../lib/mote/ from it (an installed PREFIX/bin).
 * Returns 0, or -1 when neither exists.
 */
int mote_find_beside_self(const char *name, char *out, size_t size);

/* The flags `mote run` and `mote snapshot restore` share, passed on to mote-vmm as they are. */
struct vmm_flags {
	const char *timeout;  /* --timeout S, or NULL */
	const char *snapshot; /* --snapshot FILE, or NULL */
	int debug;	      /* --debug */
	int exit_after_snapshot;
};

/* The most argv entries vmm_flags_append adds. */
#define VMM_FLAGS_ARGS_MAX 6

/*
 * Check the flags before anything else happens: a --timeout that is not a
 * positive duration, or --exit-after-snapshot without --snapshot, gets one
 * line and exit status 64.
 */
void vmm_flags_check(const struct vmm_flags *f);

/* Append the flags as mote-vmm options to argv at *n (at most VMM_FLAGS_ARGS_MAX entries). */
void vmm_flags_append(const struct vmm_flags *f, const char **argv, int *n);

/* Become mote-vmm at `vmm` with the NULL-terminated `argv`; on failure one line and status 72. */
void vmm_exec(const char *vmm, const char **argv) __attribute__((noreturn));

#endif /* MOTE_CLI_VMM_EXEC_H */
