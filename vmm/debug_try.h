/* --debug-try ACTION: mote-vmm attempts one thing its walls forbid, to prove them from inside (debug only).
 */
#ifndef MOTE_VMM_DEBUG_TRY_H
#define MOTE_VMM_DEBUG_TRY_H

#include "err.h"

/*
 * Check the syntax of ACTION before anything is set up: open:PATH,
 * connect:IPV4:PORT, fork, or syscall:NAME with NAME from vmm/debug_try.c's
 * table (the error lists them). Returns 0, or -1 with *err
 * (MOTE_STATUS_USAGE) naming what is wrong.
 */
int debug_try_check(const char *action, struct mote_err *err);

/*
 * Attempt ACTION (checked by debug_try_check) and print one line on stderr
 * (mote-vmm's log fd): "mote-vmm: debug-try ACTION: ok" or
 * "mote-vmm: debug-try ACTION: failed: <strerror>". Under the seccomp filter
 * a refused system call never returns: the SIGSYS report is the line, and
 * mote-vmm dies. Anything the attempt opened or started is closed or reaped.
 */
void debug_try_run(const char *action);

#endif /* MOTE_VMM_DEBUG_TRY_H */
