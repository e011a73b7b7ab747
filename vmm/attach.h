/* Attaching a function to a restored guest over the control channel (include/mote/control.h), and its
 * doorbells. */
#ifndef MOTE_VMM_ATTACH_H
#define MOTE_VMM_ATTACH_H

#include <signal.h>

#include "err.h"
#include "guest.h"

/*
 * Check that `fd` (the value of --control) is an open AF_UNIX
 * SOCK_SEQPACKET socket. Returns 0, or -1 with *err (MOTE_STATUS_USAGE).
 */
int attach_check_control(int fd, struct mote_err *err);

/*
 * The control exchange of a restored guest, before it runs: check that its
 * page tables map the attach windows, send READY, wait (vCPU stopped) for
 * ATTACH, check its message and fds, map the bundle read-only and the invoke
 * region read-write, write boot_info->attach with this restore's clock
 * generation and answer RUNNING (status 0). Signals interrupting the wait
 * are left to the run loop (their flags stay set). Returns 0, or -1 with
 * *err: a refused ATTACH (MOTE_STATUS_CTL_PROTOCOL, _ATTACH_*), already
 * answered with RUNNING carrying that status and line; the supervisor gone
 * (MOTE_STATUS_HOST); a snapshot without the windows
 * (MOTE_STATUS_SNAP_INCOMPATIBLE, before READY).
 */
int attach_run(struct guest *g, struct mote_err *err);

/*
 * The guest handed over its first message (GUEST_LAYER) and the ATTACH asked
 * for a layer: write it (layer_take), answer LAYER on the control channel
 * (status 0 with its size, or the failure's status and line, also printed:
 * the VM goes on) and close the layer fd. The caller rings the host
 * doorbell after.
 */
void attach_take_layer(struct guest *g);

/*
 * The guest handed over its second message since the ATTACH (the response to the first request;
 * GUEST_WORKSET) and the ATTACH asked for the working set (MOTE_CTL_F_RECORD_WORKSET): write it
 * (lib/workset.h: the guest RAM pages backed since the restore), send WORKSET and close the fd. The
 * caller rings the host doorbell after.
 */
void attach_record_workset(struct guest *g);

/* What attach_wait_request() saw. */
enum attach_wait {
	ATTACH_WAIT_AGAIN = 0,	 /* interrupted by a signal, or nothing yet: look at the flags, call again */
	ATTACH_WAIT_REQUEST = 1, /* the supervisor rang the guest's doorbell (now reset) */
	ATTACH_WAIT_HANGUP = 2,	 /* the supervisor closed the control channel */
};

/*
 * Wait until the supervisor rings the guest's doorbell or closes the control
 * socket, with the signal mask `mask` while waiting (ppoll: the caller keeps
 * the signals it acts on blocked outside). A message the supervisor sends on
 * the control socket meanwhile is read, ignored and named on stderr. Returns
 * an enum attach_wait, or -1 with *err (MOTE_STATUS_HOST) when polling fails.
 */
int attach_wait_request(struct guest *g, const sigset_t *mask, struct mote_err *err);

#endif /* MOTE_VMM_ATTACH_H */
