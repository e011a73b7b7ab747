/* The guest's console: its output rings drained to the host's stdout and stderr, and the host's stdio
 * described. */
#ifndef MOTE_VMM_CONSOLE_H
#define MOTE_VMM_CONSOLE_H

#include <stdint.h>

#include <mote/abi.h>

#include "err.h"
#include "guest.h"

/* How often the drain thread sends what the guest's rings hold while the vCPU runs (and ticks preemption). */
#define CONSOLE_DRAIN_PERIOD_NS (10 * 1000 * 1000)

/* Largest ring the monitor drains (the guest kernel's are 64 KiB). */
#define CONSOLE_RING_MAX (1u << 20)

/*
 * Describe the guest's stdin, stdout and stderr for the guest (struct
 * mote_stdio): fd 0, cfg->stdout_fd and cfg->stderr_fd (--log-fd moves
 * mote-vmm's own stderr elsewhere, not the guest's); st_mode and st_rdev
 * from fstat, MOTE_STDIO_TERMINAL and the window size when isatty. A closed
 * fd is all zeros.
 */
void console_describe_stdio(const struct guest_config *cfg, struct mote_stdio stdio[3]);

/*
 * Start the thread that drains the guest's rings every
 * CONSOLE_DRAIN_PERIOD_NS while the vCPU runs. From then on the calling
 * thread (the vCPU's) holds the console lock except between
 * console_vcpu_run_begin and console_vcpu_run_end, so everything it does
 * outside KVM_RUN (hypercalls, snapshots, crash reports) sees the rings at
 * rest. The thread blocks every signal. Returns 0, or -1 with *err.
 */
int console_start(struct guest *g, struct mote_err *err);

/* Around KVM_RUN: let the drain thread in, and take the lock back (waiting for a drain in progress). */
void console_vcpu_run_begin(void);
void console_vcpu_run_end(void);

/*
 * Send what the rings of stdout and stderr hold (at most one of them holds
 * bytes: the guest empties the other first). The caller MUST hold the
 * console lock: the vCPU thread outside KVM_RUN, or before console_start.
 */
void console_drain(struct guest *g);

/*
 * The console hypercall for MOTE_CONSOLE_STDOUT or _STDERR: send the stream's
 * ring, then `len` bytes at `data` (already checked guest memory). Returns
 * `len`, or -errno when the host stream failed (then recorded in the ring's
 * `error`). Same locking rule as console_drain.
 */
int64_t console_write(struct guest *g, unsigned stream, const uint8_t *data, uint64_t len);

/* How many times the drain thread found bytes to send (for --debug). Same locking rule as console_drain. */
uint64_t console_background_drains(void);

#endif /* MOTE_VMM_CONSOLE_H */
