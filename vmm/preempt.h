/* Preemption of guest threads: a tick that kicks the vCPU, and the redirect into the guest's preemption
 * entry. */
#ifndef MOTE_VMM_PREEMPT_H
#define MOTE_VMM_PREEMPT_H

#include <stdint.h>

#include "console.h"
#include "guest.h"

/* How often a program with more than one thread that could run is preempted (a time slice). */
#define PREEMPT_PERIOD_NS CONSOLE_DRAIN_PERIOD_NS

/*
 * Install the SIGVTALRM handler that asks for a preemption and kicks the vCPU
 * out of KVM_RUN (its run area's immediate_exit), and remember the calling
 * thread as the vCPU's. Call once from the vCPU thread before console_start.
 */
void preempt_init(struct guest *g);

/*
 * The tick, from the console thread every PREEMPT_PERIOD_NS while the vCPU is
 * in KVM_RUN: signal the vCPU thread when the guest offers preemption and
 * says more than one of its threads could use the vCPU.
 */
void preempt_tick(const struct guest *g);

/*
 * On the vCPU thread, with the vCPU stopped: if a tick asked for it, preempt
 * the guest (struct mote_preempt in abi.h): in the program, save its rip, rsp
 * and rflags in the boot info and move rip to the guest's preemption entry;
 * in the guest kernel, set `pending` instead. Guest values are only data: a
 * hostile guest can at worst redirect itself. Returns 0, or -1 with errno
 * when the vCPU's registers could not be read or written.
 */
int preempt_take(struct guest *g);

/* Preemptions made so far (the program redirected), for --debug. */
uint64_t preempt_count(void);

#endif /* MOTE_VMM_PREEMPT_H */
