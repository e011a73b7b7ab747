/* Starting mote-vmm from the CLI: the flags commands pass on to mote-vmm, and its environment. */
#ifndef MOTE_CLI_VMM_EXEC_H
#define MOTE_CLI_VMM_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "file.h" /* mote_find_beside_self */

/* The flags `mote run` and `mote snapshot restore` share, passed on to mote-vmm as they are. */
struct vmm_flags {
	const char *timeout;  /* --timeout S, or NULL */
	const char *snapshot; /* --snapshot FILE, or NULL */
	int debug;	      /* --debug */
	int exit_after_snapshot;
	const char *log_fd; /* --log-fd N: mote-vmm's own lines go to descriptor N, or NULL */
	/* The jail (docs/jail.md): -1 default (jailed when root), 0 --no-jail, 1 --jail. */
	int jail;
	const char *cpus, *cpu_weight, *mem_limit, *io_limit, *pids, *uid_range;
	int allow_unlimited;
	const char *debug_try; /* --debug-try ACTION, passed on to mote-vmm (tests of the jail's walls) */
};

/* getopt_long codes of the jail flags (above any short option). */
enum {
	VMM_OPT_JAIL = 1000,
	VMM_OPT_NO_JAIL,
	VMM_OPT_CPUS,
	VMM_OPT_CPU_WEIGHT,
	VMM_OPT_MEM_LIMIT,
	VMM_OPT_IO_LIMIT,
	VMM_OPT_PIDS,
	VMM_OPT_UID_RANGE,
	VMM_OPT_ALLOW_UNLIMITED,
	VMM_OPT_DEBUG_TRY,
};

/* The jail flags' `struct option` entries, for a command's getopt_long table. */
#define VMM_JAIL_OPTIONS                                                                                     \
	{"jail", no_argument, NULL, VMM_OPT_JAIL}, {"no-jail", no_argument, NULL, VMM_OPT_NO_JAIL},          \
	    {"cpus", required_argument, NULL, VMM_OPT_CPUS},                                                 \
	    {"cpu-weight", required_argument, NULL, VMM_OPT_CPU_WEIGHT},                                     \
	    {"mem-limit", required_argument, NULL, VMM_OPT_MEM_LIMIT},                                       \
	    {"io-limit", required_argument, NULL, VMM_OPT_IO_LIMIT},                                         \
	    {"pids", required_argument, NULL, VMM_OPT_PIDS},                                                 \
	    {"uid-range", required_argument, NULL, VMM_OPT_UID_RANGE},                                       \
	    {"debug-try", required_argument, NULL, VMM_OPT_DEBUG_TRY},                                       \
	{                                                                                                    \
		"allow-unlimited", no_argument, NULL, VMM_OPT_ALLOW_UNLIMITED                                \
	}

/* Usage lines of the jail flags. */
#define VMM_JAIL_USAGE                                                                                       \
	"  --jail / --no-jail  run mote-vmm in its jail (default when root) or not (docs/jail.md)\n"         \
	"  --cpus N       CPU quota, a fraction of CPUs (0.25: 25 ms per 100 ms)\n"                          \
	"  --cpu-weight W CPU weight 1..10000 (default 100) against other VMs\n"                             \
	"  --mem-limit SIZE  memory limit of the whole VM, monitor included\n"                               \
	"                 (default: guest memory + the monitor's overhead)\n"                                \
	"  --io-limit L   rbps=10M,wbps=10M,riops=100,wiops=100 on the VM's disk-backed files\n"             \
	"  --pids N       tasks the monitor may have (default 64)\n"                                         \
	"  --uid-range A-B  per-VM uids and gids (default 100000-165535)\n"                                  \
	"  --allow-unlimited  without usable cgroups, run unlimited instead of refusing\n"                   \
	"  --debug-try ACTION  (tests) mote-vmm tries ACTION before the guest starts (docs/jail.md)\n"

/*
 * Handle getopt_long code `c` (with `arg`) if it is a jail flag: returns 1
 * when it was one, 0 otherwise. Values are checked by vmm_flags_check.
 */
int vmm_flags_jail_option(struct vmm_flags *f, int c, const char *arg);

/* What a jailed mote-vmm needs besides its own binary: input files and the snapshot output. */
struct vmm_inputs {
	const char *files[6]; /* read-only input files (kernel, rootfs image, snapshot and its .mem) */
	int nfiles;
	uint64_t guest_mem;  /* guest RAM, for the default --mem-limit */
	const char *io_file; /* a disk-backed file whose device --io-limit applies to, or NULL */
};

/* The most argv entries vmm_flags_append adds. */
#define VMM_FLAGS_ARGS_MAX 10

/*
 * Check the flags before anything else happens: a --timeout that is not a
 * positive duration, a --log-fd that is not an open descriptor, or
 * --exit-after-snapshot without --snapshot, gets one line and exit status 64.
 */
void vmm_flags_check(const struct vmm_flags *f);

/* Append the flags as mote-vmm options to argv at *n (at most VMM_FLAGS_ARGS_MAX entries). */
void vmm_flags_append(const struct vmm_flags *f, const char **argv, int *n);

/*
 * Start mote-vmm at `vmm` with the NULL-terminated `argv` and an
 * environment holding only the sanitizers' options (mote-vmm needs nothing
 * from the host environment, and the guest's comes from --env). Unjailed,
 * mote becomes mote-vmm (execve); jailed, mote starts it in its jail
 * (lib/jail.h) with `in`'s files and the flags' limits, forwards signals
 * and snapshot requests to it, removes the jail once it ends, and ends
 * with its status (the same exit code, or the same signal). On failure one
 * line and status 72 (64 for a flag that needs the jail without it).
 */
void vmm_exec(const char *vmm, const char **argv, const struct vmm_flags *f, const struct vmm_inputs *in)
    __attribute__((noreturn));

#endif /* MOTE_CLI_VMM_EXEC_H */
