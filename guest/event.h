/* eventfd and timerfd: counters and timers as files, for event loops (docs/events.md). */
#ifndef GUEST_EVENT_H
#define GUEST_EVENT_H

#include <stdint.h>

/* ---- syscalls: raw arguments, Linux semantics, -errno on failure ----------------------------- */

/* eventfd(initval) and eventfd2(initval, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC). */
long sys_eventfd(uint64_t initval);
long sys_eventfd2(uint64_t initval, uint64_t flags);

/* timerfd_create(CLOCK_MONOTONIC | CLOCK_REALTIME | CLOCK_BOOTTIME (+ _ALARM), TFD_NONBLOCK | TFD_CLOEXEC).
 */
long sys_timerfd_create(uint64_t clockid, uint64_t flags);

/* timerfd_settime(fd, 0 | TFD_TIMER_ABSTIME [| TFD_TIMER_CANCEL_ON_SET, ignored], new, old or NULL). */
long sys_timerfd_settime(uint64_t fd, uint64_t flags, uint64_t new_value, uint64_t old_value);

/* timerfd_gettime(fd, cur): the time left to the next expiry and the interval. */
long sys_timerfd_gettime(uint64_t fd, uint64_t cur);

#endif /* GUEST_EVENT_H */
