/* Per-VM cgroups (v1 or v2, found at start): CPU, memory, I/O and pids limits, OOM detection, cleanup. */
#ifndef MOTE_CGROUP_H
#define MOTE_CGROUP_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

enum mote_cgroup_kind { MOTE_CGROUP_NONE = 0, MOTE_CGROUP_V1 = 1, MOTE_CGROUP_V2 = 2 };

/* The controllers mote uses; on v1 each is its own hierarchy (co-mounted ones share a directory). */
enum mote_cgroup_ctrl { CG_CPU, CG_CPUACCT, CG_MEMORY, CG_BLKIO, CG_PIDS, CG_NCTRL };

/* Where the hierarchies are mounted: found once per process by mote_cgroup_detect. */
struct mote_cgroup_sys {
	int kind;		       /* enum mote_cgroup_kind */
	char root[CG_NCTRL][PATH_MAX]; /* v1: each controller's mount point ("" if absent); v2: root[0] */
	char why[256];		       /* kind NONE: why no cgroup can be used (one line) */
	char lock_dir[PATH_MAX];       /* where the names' lock files live ("": no locks, for unit tests) */
};

/* Where mote_cgroup_detect puts the lock files: one per cgroup name, flock'ed while the name is in use. */
#define MOTE_CGROUP_LOCK_DIR "/run/mote/cgroup-locks"

/* I/O limits (0 = unlimited), applied to the block devices of the VM's disk-backed files. */
struct mote_io_limit {
	uint64_t rbps, wbps, riops, wiops;
};

#define MOTE_CGROUP_MAX_DEVS 4

/* What a VM may use; 0 in a field means "no limit" (or the default weight). */
struct mote_cgroup_limits {
	uint64_t cpu_quota_us;	/* CPU time per period (--cpus 0.25: 25000 of 100000) */
	uint64_t cpu_period_us; /* 100000 unless set */
	unsigned cpu_weight;	/* 1..10000 (v2 cpu.weight; v1 cpu.shares = weight * 1024 / 100) */
	uint64_t mem_bytes;	/* hard limit on all the VM's memory, the monitor's included */
	struct mote_io_limit io;
	dev_t io_dev[MOTE_CGROUP_MAX_DEVS]; /* whole-disk devices the io limits apply to */
	int n_io_dev;
	uint64_t pids_max;
};

/* One VM's cgroup: a directory per hierarchy (v1) or one directory (v2). */
struct mote_cgroup {
	int kind;
	char dir[CG_NCTRL][PATH_MAX]; /* "" where that controller is absent (v2: dir[0] only) */
	int lock_fd;		      /* > 2: the flock'ed lock file of the name, held until removal */
	char lock_path[PATH_MAX];
};

/*
 * Find the cgroup hierarchies from /proc/self/mountinfo: v2 when the unified
 * hierarchy has the cpu, memory and pids controllers, else v1 when cpu,
 * memory and pids hierarchies are mounted; the `mote` parent cgroup is then
 * created (v2: with those controllers enabled for its children) and must be
 * writable. Fills *sys; kind NONE with sys->why when neither can be used.
 * Never fails otherwise.
 */
void mote_cgroup_detect(struct mote_cgroup_sys *sys);

/*
 * Parse one /proc/self/mountinfo line. Returns MOTE_CGROUP_V1 (with a bit
 * set in *ctrls for each of the controllers it holds, 1 << CG_*),
 * MOTE_CGROUP_V2, or 0 for a line that is no cgroup mount; the mount point
 * goes to `mnt` (`size` bytes, octal escapes decoded). For unit tests.
 */
int mote_cgroup_parse_mountinfo(const char *line, char *mnt, size_t size, unsigned *ctrls);

/*
 * Create the cgroup `name` (a VM id) under the `mote` parent of every
 * hierarchy and write `limits` into it. The name is first locked (an
 * exclusive flock on its file in sys->lock_dir, held by the caller's
 * process until mote_cgroup_remove, released by the kernel when the
 * process dies): that, not the directory's age, is what tells
 * mote_cgroup_remove_stale that a cgroup is still wanted. Returns 0, -1
 * with *err, or -2 when the name is locked by another process or a cgroup
 * of that name exists already (the caller picks another name).
 */
int mote_cgroup_create(const struct mote_cgroup_sys *sys, const char *name,
		       const struct mote_cgroup_limits *limits, struct mote_cgroup *cg, struct mote_err *err);

/*
 * Move the calling process into *cg (every hierarchy). Uses only open,
 * write and close (safe in a child of a multi-threaded process). Returns 0,
 * or -1 with errno.
 */
int mote_cgroup_join(const struct mote_cgroup *cg);

/* How many processes of *cg the kernel's OOM killer killed (0 also when unknown). */
uint64_t mote_cgroup_oom_kills(const struct mote_cgroup *cg);

/* CPU time used by the processes of *cg so far, in nanoseconds (0 when unknown). */
uint64_t mote_cgroup_cpu_ns(const struct mote_cgroup *cg);

/* Memory charged to *cg at most so far, in bytes (v1 max_usage, v2 memory.peak; 0 when unknown). */
uint64_t mote_cgroup_mem_peak(const struct mote_cgroup *cg);

/*
 * Remove *cg: kill what is left in it, then remove its directories
 * (retrying briefly while the last process is still exiting). Returns 0,
 * or -1 when a directory could not be removed.
 */
int mote_cgroup_remove(struct mote_cgroup *cg);

/*
 * Remove the cgroups under `mote` left by VMs whose supervisor died
 * (SIGKILL): those whose name's lock no live process holds (where
 * sys->lock_dir is set), and that have no process left, or without locks
 * empty ones created more than `min_age_s` seconds ago. Returns how many
 * were removed.
 */
int mote_cgroup_remove_stale(const struct mote_cgroup_sys *sys, int min_age_s);

/* The path of cgroup `name` in hierarchy `root`: ROOT/mote/NAME (for unit tests and cleanup checks). */
int mote_cgroup_path(const char *root, const char *name, char *out, size_t size);

/*
 * Change the CPU limits of an existing *cg (a pooled VM given to a
 * function with its own --cpus / --cpu-weight): quota_us per period_us
 * (period 0: 100 ms; quota 0: leave the quota as it is) and weight (0:
 * leave it; else 1..10000 as in struct mote_cgroup_limits). Returns 0, or
 * -1 with *err.
 */
int mote_cgroup_set_cpu(const struct mote_cgroup *cg, uint64_t quota_us, uint64_t period_us, unsigned weight,
			struct mote_err *err);

/*
 * Parse --cpus: a positive decimal number of CPUs, at most 1024, e.g.
 * "0.25" (a quarter of one CPU: 25 ms per 100 ms period) or "2". Stores
 * the quota per `period_us` in *quota_us. Returns 0 or -1.
 */
int mote_parse_cpus(const char *text, uint64_t period_us, uint64_t *quota_us);

/*
 * Parse --io-limit: comma-separated KEY=VALUE, KEY one of rbps, wbps
 * (bytes per second, size suffixes allowed: 10M) and riops, wiops
 * (operations per second), each at least 1, e.g.
 * "rbps=10M,wbps=10M,riops=100,wiops=100". Returns 0, or -1 with a one-line
 * reason in `why` (`size` bytes).
 */
int mote_parse_io_limit(const char *text, struct mote_io_limit *io, char *why, size_t size);

/*
 * The whole-disk device holding file `path` (a partition's parent disk,
 * from /sys/dev/block), for the I/O limits. Returns 0 with *dev, or -1
 * when the file is on no block device (tmpfs, overlay, ...).
 */
int mote_cgroup_disk_of(const char *path, dev_t *dev);

#endif /* MOTE_CGROUP_H */
