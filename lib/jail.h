/* Starting mote-vmm jailed: own namespaces, a tmpfs root holding only its files, a cgroup, no privileges. */
#ifndef MOTE_JAIL_H
#define MOTE_JAIL_H

#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "err.h"

#define MOTE_JAIL_MAX_FILES 8
#define MOTE_JAIL_MAX_FDS 20

/* Default range of the per-VM uids and gids (--uid-range). */
#define MOTE_JAIL_UID_LO 100000u
#define MOTE_JAIL_UID_HI 165535u

/*
 * Memory a VM's monitor needs beyond the guest RAM (its binary, page tables,
 * console rings, snapshot writer buffers), measured with --debug; the
 * default --mem-limit is guest RAM plus this.
 */
#define MOTE_JAIL_MEM_OVERHEAD (48ull << 20)
/* The sanitized test build of mote-vmm (ASan shadow and quarantine) needs much more. */
#define MOTE_JAIL_MEM_OVERHEAD_SANITIZED (512ull << 20)

/* What to start and how to confine it. Paths are host paths; inside the jail each keeps its own path. */
struct mote_jail_spec {
	const char *vmm;	 /* the mote-vmm binary (bound read-only, executed at its own path) */
	const char *const *argv; /* NULL-terminated; argv[0] is replaced by `vmm` */
	const char *const *envp; /* NULL-terminated */
	const char *files[MOTE_JAIL_MAX_FILES]; /* input files, bound read-only at their own path */
	int nfiles;
	const char *rw_dir; /* a directory bound writable (snapshot output), or NULL */
	/*
	 * Descriptors the monitor gets: fd_to[i] is fd_from[i] of the caller
	 * (e.g. 1 <- a pipe); 0-2 are kept as they are unless mapped. Every
	 * other descriptor is closed.
	 */
	int fd_from[MOTE_JAIL_MAX_FDS], fd_to[MOTE_JAIL_MAX_FDS];
	int nfds;
	struct mote_cgroup_limits limits;
	int allow_unlimited;  /* no usable cgroup: go on without limits instead of refusing */
	uid_t uid_lo, uid_hi; /* the range a per-VM uid (and gid) is taken from */
	uint64_t fsize_max;   /* RLIMIT_FSIZE (0: the default, 4 GiB plus the limit on memory) */
	int reset_signals;    /* every signal's disposition default (else ignored ones stay ignored, as exec
				 keeps) */
};

/* The jail setup steps, timed (nanoseconds, CLOCK_MONOTONIC), for --debug and the benchmark. */
enum mote_jail_step {
	JAIL_T_CGROUP, /* cgroup found, created, limits written (in the caller) */
	JAIL_T_IDMAP,  /* user namespace for the id-mapped mounts (only with files to map) */
	JAIL_T_CLONE,  /* clone() with the new namespaces, until the child runs */
	JAIL_T_JOIN,   /* the child joins its cgroup and a new cgroup namespace */
	JAIL_T_MOUNTS, /* tmpfs root, bind mounts, /dev/kvm, /proc, pivot_root */
	JAIL_T_NET,    /* loopback up, hostname */
	JAIL_T_FORK,   /* the monitor's process forked from the namespace's init */
	JAIL_T_PRIVS,  /* fds, rlimits, uid/gid, capabilities, no_new_privs */
	JAIL_T_NSTEPS
};

/* Names of the steps, for printing ("cgroup", "idmap", ...). */
extern const char *const mote_jail_step_name[JAIL_T_NSTEPS];

/* A started jail. */
struct mote_jail {
	pid_t pid;     /* the jail's init (the caller's child); reap it with mote_jail_finish */
	pid_t vmm_pid; /* mote-vmm, as seen from the caller's pid namespace (signal it here) */
	int sock;      /* events from the jail (mote_jail_next_event); readable when one is due */
	uid_t uid;     /* the uid and gid mote-vmm runs as */
	int limited;   /* 1 when the cgroup exists (0: --allow-unlimited without cgroups) */
	struct mote_cgroup cg;
	uint64_t step_ns[JAIL_T_NSTEPS];
	uint64_t total_ns; /* from mote_jail_start's call until mote-vmm is about to be executed */
	int vmm_status;	   /* wait status of mote-vmm once the EXIT event came, else -1 */
};

/*
 * Start spec->vmm jailed. The caller becomes the jail's supervisor: it
 * gets events on j->sock and must end with mote_jail_finish. Blocks until
 * mote-vmm is about to be executed (or the setup failed: one line in *err,
 * status 72, or 64 for a bad spec, nothing left behind). The caller must
 * be root (or hold the capabilities to create namespaces and cgroups).
 */
int mote_jail_start(const struct mote_jail_spec *spec, struct mote_jail *j, struct mote_err *err);

enum mote_jail_event {
	JAIL_EV_NONE = 0,	 /* nothing (yet) */
	JAIL_EV_EXIT = 1,	 /* mote-vmm ended: j->vmm_status holds its wait status */
	JAIL_EV_SNAP_OK = 2,	 /* a snapshot asked with mote_jail_snapshot is in place */
	JAIL_EV_SNAP_FAILED = 3, /* ... could not be written */
	JAIL_EV_LOST = 4,	 /* the jail's init is gone without a word (killed) */
	JAIL_EV_EXEC_FAILED = 5, /* mote-vmm could not be executed: *err says why */
};

/* Read the next event from j->sock (blocking). Returns enum mote_jail_event. */
int mote_jail_next_event(struct mote_jail *j, struct mote_err *err);

/*
 * Ask mote-vmm for a snapshot (its --snapshot FILE) the way `mote snapshot
 * take` does; the answer is a JAIL_EV_SNAP_* event. Returns 0 or -1.
 */
int mote_jail_snapshot(struct mote_jail *j);

/*
 * Reap the jail's init, remove the cgroup, and store in *status mote-vmm's
 * wait status (exit code or signal, as if it were the caller's child) and
 * in *oom_killed whether the kernel killed it for exceeding its memory
 * limit. Closes j->sock. Returns 0.
 */
int mote_jail_finish(struct mote_jail *j, int *status, int *oom_killed);

/* 1 when mote-vmm at `path` is a dynamically linked (sanitized test) build needing the host's libraries. */
int mote_jail_vmm_is_dynamic(const char *path);

/*
 * Parse --uid-range A-B (1 <= A <= B < 2^31, at least one id). Returns 0,
 * or -1.
 */
int mote_parse_uid_range(const char *text, uid_t *lo, uid_t *hi);

/*
 * Remove what jails of dead supervisors left behind (their empty cgroups);
 * jails leave nothing else on the host. Called once per start by
 * mote_jail_start; exported for the gateway's start.
 */
void mote_jail_cleanup_stale(void);

#endif /* MOTE_JAIL_H */
