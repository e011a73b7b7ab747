/* Starting mote-vmm processes: the one place the gateway creates a VM process, jailed (lib/jail.h). */
#ifndef MOTE_GATEWAY_VMM_SPAWN_H
#define MOTE_GATEWAY_VMM_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct mote_jail;

/*
 * A started process: its pid and a pidfd (readable once it has exited; the
 * caller reaps it with spawn_wait). Jailed, `pid` is the jail's init (the
 * gateway's child) and `vmm_pid` mote-vmm's host pid; unjailed both are
 * mote-vmm.
 */
struct spawned {
	pid_t pid;
	int pidfd;
	pid_t vmm_pid;
	struct mote_jail *jail; /* NULL when unjailed */
};

/*
 * Start `argv` (argv[0] the mote-vmm binary, NULL-terminated) in its jail
 * when the gateway runs as root (as `mote serve` must on a shared host;
 * unjailed otherwise), with stdin
 * /dev/null, stdout and stderr `out_fd`, and `ctl_fd` as fd 3 (or no fd 3
 * when ctl_fd is -1); no other fd is inherited, the signal mask is empty
 * and every signal's disposition default, and the process gets a process
 * group of its own (a terminal's Ctrl-C reaches the gateway, which then
 * ends its VMs). Callers pass --die-with-parent so that VMs never outlive
 * the gateway. Returns 0 with *out filled, or -1 with *err
 * (MOTE_STATUS_HOST).
 */
int spawn_vmm(const char *const *argv, int ctl_fd, int out_fd, struct spawned *out, struct mote_err *err);

/*
 * Reap `s` like waitpid(s->pid, status, options) (options 0 or WNOHANG):
 * returns the pid, 0 when it has not ended (WNOHANG), or -1. Jailed, the
 * status is mote-vmm's own (its exit code or signal), and the jail's
 * cgroup is removed. `status` may be NULL.
 */
pid_t spawn_wait(struct spawned *s, int *status, int options);

/*
 * Give the jailed process `s` its function's CPU limits (a pooled VM gets
 * them when a function is attached): quota_us per 100 ms period (0: no
 * quota change) and weight 1..10000 (0: no change). Returns 0 (also when
 * both are 0), 1 when `s` is unjailed (no cgroup: nothing is limited), or
 * -1 with *err.
 */
int spawn_set_cpu(const struct spawned *s, uint64_t quota_us, unsigned weight, struct mote_err *err);

#endif /* MOTE_GATEWAY_VMM_SPAWN_H */
