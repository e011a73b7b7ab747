/* Starting mote-vmm processes: the one place the gateway creates a VM process (the jail will wrap it here).
 */
#ifndef MOTE_GATEWAY_VMM_SPAWN_H
#define MOTE_GATEWAY_VMM_SPAWN_H

#include <sys/types.h>

#include "err.h"

/* A started process: its pid and a pidfd (readable once it has exited; the caller reaps it). */
struct spawned {
	pid_t pid;
	int pidfd;
};

/*
 * Start `argv` (argv[0] the mote-vmm binary, NULL-terminated) with stdin
 * /dev/null, stdout and stderr `out_fd`, and `ctl_fd` as fd 3 (or no fd 3
 * when ctl_fd is -1); no other fd is inherited, the signal mask is empty
 * and every signal's disposition default, and the process gets a process
 * group of its own (a terminal's Ctrl-C reaches the gateway, which then
 * ends its VMs). Callers pass --die-with-parent so that VMs never outlive
 * the gateway. Returns 0 with *out filled, or -1 with *err
 * (MOTE_STATUS_HOST).
 */
int spawn_vmm(const char *const *argv, int ctl_fd, int out_fd, struct spawned *out, struct mote_err *err);

#endif /* MOTE_GATEWAY_VMM_SPAWN_H */
