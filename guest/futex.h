/* futex: wait and wake on 32-bit words of program memory, over the scheduler's wait channels. */
#ifndef GUEST_FUTEX_H
#define GUEST_FUTEX_H

#include <stdint.h>

/*
 * The futex syscall: FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_BITSET,
 * FUTEX_WAKE_BITSET, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP, with
 * FUTEX_PRIVATE_FLAG (private and shared are the same here: one address
 * space) and FUTEX_CLOCK_REALTIME; errors as Linux (EAGAIN, ETIMEDOUT,
 * EINVAL, EFAULT; ENOSYS for the PI operations and unknown ones).
 */
long sys_futex(uint64_t uaddr, uint64_t op, uint64_t val, uint64_t timeout, uint64_t uaddr2, uint64_t val3);

/* Wake up to `n` waiters of the futex word at `uaddr` (thread exit: CLONE_CHILD_CLEARTID, robust lists). */
int futex_wake(uint64_t uaddr, int n);

#endif /* GUEST_FUTEX_H */
