/* mote-vmm's seccomp allowlist: installed after setup on every thread; anything else is reported and kills.
 */
#ifndef MOTE_VMM_SECCOMP_FILTER_H
#define MOTE_VMM_SECCOMP_FILTER_H

#include <linux/filter.h>

#include "err.h"

/* System call numbers the generated tables cover (x86-64). */
#define SECCOMP_FILTER_NR_MAX 512

/*
 * The compiled policy, generated at build time by vmm/gen/seccomp_policy.c
 * (build/gen/seccomp_policy_plain.c for mote-vmm, _asan.c for the sanitized
 * build): the BPF program, how many system calls it allows, per system call
 * number its rule (0: traps, 1: allowed, 2: allowed with some arguments only,
 * 3: answered with an errno), and the x86-64 system call names.
 */
extern const char seccomp_filter_kind[];
extern const unsigned seccomp_filter_allowed;
extern const unsigned seccomp_filter_len;
extern const struct sock_filter seccomp_filter_prog[];
extern const unsigned char seccomp_filter_rule[SECCOMP_FILTER_NR_MAX];
extern const char *const seccomp_filter_names[SECCOMP_FILTER_NR_MAX];

/*
 * Install the allowlist on every thread of mote-vmm (SECCOMP_FILTER_FLAG_TSYNC),
 * after setting no_new_privs, RLIMIT_CORE 0 and the SIGSYS handler that
 * reports a refused system call as one line on stderr (mote-vmm's log fd):
 *   mote-vmm: seccomp: system call NAME (N) is not allowed; the VM is stopped
 * and then makes mote-vmm die by SIGSYS. MUST be called once, after every
 * setup step (the filter forbids them) and with SIGSYS unblocked in every
 * thread. With `debug`, one line says it was installed. Returns 0, or -1
 * with *err (MOTE_STATUS_HOST).
 */
int seccomp_filter_install(int debug, struct mote_err *err);

#endif /* MOTE_VMM_SECCOMP_FILTER_H */
