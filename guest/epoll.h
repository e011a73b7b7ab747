/* epoll: interest lists over the fd layer's files, waited on with the scheduler (docs/events.md). */
#ifndef GUEST_EPOLL_H
#define GUEST_EPOLL_H

#include <stdint.h>

/* ---- syscalls: raw arguments, Linux semantics, -errno on failure ----------------------------- */

long sys_epoll_create(uint64_t size);
long sys_epoll_create1(uint64_t flags);

/* EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL of `fd` in `epfd`'s interest list. */
long sys_epoll_ctl(uint64_t epfd, uint64_t op, uint64_t fd, uint64_t event);

/* Wait up to `timeout` ms (< 0: forever) for events of `epfd`'s list. */
long sys_epoll_wait(uint64_t epfd, uint64_t events, uint64_t maxevents, uint64_t timeout);

/* epoll_wait with a signal mask, which is checked and then ignored: no signal handler runs yet. */
long sys_epoll_pwait(uint64_t epfd, uint64_t events, uint64_t maxevents, uint64_t timeout, uint64_t sigmask,
		     uint64_t sigsetsize);

/* epoll_pwait with a struct timespec timeout (NULL: forever). */
long sys_epoll_pwait2(uint64_t epfd, uint64_t events, uint64_t maxevents, uint64_t timeout, uint64_t sigmask,
		      uint64_t sigsetsize);

#endif /* GUEST_EPOLL_H */
