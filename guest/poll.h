/* poll, ppoll, select and pselect6: wait for readiness of the guest's file descriptors. */
#ifndef GUEST_POLL_H
#define GUEST_POLL_H

#include <stdint.h>

/* ---- syscalls: raw arguments, Linux semantics, -errno on failure ----------------------------- */

/* Wait up to `timeout_ms` (< 0: forever) for the `nfds` struct pollfd at `fds`. */
long sys_poll(uint64_t fds, uint64_t nfds, uint64_t timeout_ms);

/* poll with a struct timespec timeout (NULL: forever) and a signal mask for the call's duration. */
long sys_ppoll(uint64_t fds, uint64_t nfds, uint64_t timeout, uint64_t sigmask, uint64_t sigsetsize);

/* select over fd_set bitmaps with a struct timeval timeout (NULL: forever), rewritten with the time left. */
long sys_select(uint64_t nfds, uint64_t rfds, uint64_t wfds, uint64_t efds, uint64_t timeout);

/* select with a struct timespec timeout and a { sigset, size } signal mask for the call's duration. */
long sys_pselect6(uint64_t nfds, uint64_t rfds, uint64_t wfds, uint64_t efds, uint64_t timeout,
		  uint64_t sigmask);

#endif /* GUEST_POLL_H */
