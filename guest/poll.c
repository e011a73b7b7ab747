/* poll, ppoll, select and pselect6 over the guest's file descriptors (readiness comes from fd.c). */
#include "poll.h"

#include "clock.h"
#include "fd.h"
#include "klib.h"
#include "linux.h"
#include "sched.h"
#include "sig.h"
#include "uaccess.h"

/* The earlier of two monotonic deadlines (0: none). */
static uint64_t earliest(uint64_t a, uint64_t b)
{
	return !a || (b && b < a) ? b : a;
}

/*
 * Nothing was ready: wait for a pipe to change (other threads run
 * meanwhile) until the monotonic `deadline` (0: none), or until `wake_at`
 * (an armed timerfd among the watched files) to look again. Returns 0 to look
 * again, -ERESTARTNOHAND when a signal came, or 1 when the wait is over: the
 * deadline passed, or nothing could ever become ready (no thread left to
 * act), in which case an infinite wait returns as if timed out instead of
 * hanging.
 */
static int wait_for_change(int64_t timeout_ns, uint64_t deadline, uint64_t wake_at)
{
	if (timeout_ns == 0)
		return 1;
	int r = sched_wait(SCHED_WAIT_IO, SCHED_CHAN_IO, ~0u, earliest(deadline, wake_at));
	if (r == -EINTR)
		return -ERESTARTNOHAND; /* a signal: EINTR once its handler ran */
	if (r == -ETIMEDOUT)
		return deadline && clock_monotonic_ns() >= deadline;
	if (r == -EDEADLK && timeout_ns < 0)
		kdebug("poll/select with no timeout and nothing ready: returning 0 instead of hanging");
	return r == -EDEADLK;
}

/* The monotonic deadline of a wait of `timeout_ns` (< 0: forever, as 0). */
static uint64_t deadline_of(int64_t timeout_ns)
{
	if (timeout_ns <= 0)
		return 0;
	uint64_t now = clock_monotonic_ns();
	return (uint64_t)timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + (uint64_t)timeout_ns;
}

/* poll core; timeout_ns < 0 means forever. */
static long do_poll(uint64_t fdsp, uint64_t nfds, int64_t timeout_ns)
{
	if (nfds > FD_MAX)
		return -EINVAL;
	if (!user_writable(fdsp, nfds * sizeof(struct linux_pollfd)))
		return -EFAULT;
	struct linux_pollfd *p = (struct linux_pollfd *)(uintptr_t)fdsp;
	uint64_t deadline = deadline_of(timeout_ns), wake_at;
	long ready;
again:
	ready = 0;
	wake_at = 0;
	for (uint64_t i = 0; i < nfds; i++) {
		p[i].revents = 0;
		if (p[i].fd < 0)
			continue;
		struct file *f = fd_file((uint64_t)p[i].fd);
		int ev = f ? fd_file_poll(f) & ((uint16_t)p[i].events | POLLERR | POLLHUP) : POLLNVAL;
		p[i].revents = (int16_t)ev;
		if (ev)
			ready++;
		if (f)
			wake_at = earliest(wake_at, fd_file_deadline(f));
	}
	if (!ready) {
		int w = wait_for_change(timeout_ns, deadline, wake_at);
		if (w < 0)
			return w;
		if (!w)
			goto again;
	}
	return ready;
}

/* A struct linux_timespec timeout at `ts` (0 = forever) in ns, or -EFAULT/-EINVAL. */
static int64_t timespec_timeout(uint64_t ts, int64_t *ns)
{
	if (!ts) {
		*ns = -1;
		return 0;
	}
	struct linux_timespec t;
	long r = user_get_timespec(&t, ts);
	if (r < 0)
		return r;
	*ns = t.tv_sec > INT64_MAX / 1000000000 - 1 ? INT64_MAX : t.tv_sec * 1000000000 + t.tv_nsec;
	return 0;
}

long sys_poll(uint64_t fdsp, uint64_t nfds, uint64_t timeout_ms)
{
	int32_t ms = (int32_t)timeout_ms;
	return do_poll(fdsp, nfds, ms < 0 ? -1 : (int64_t)ms * 1000000);
}

long sys_ppoll(uint64_t fdsp, uint64_t nfds, uint64_t timeout, uint64_t sigmask, uint64_t sigsetsize)
{
	int64_t ns;
	int64_t r = timespec_timeout(timeout, &ns);
	if (r < 0)
		return r;
	if (sigmask) { /* the call runs with this mask; the old one is back when it returns */
		uint64_t m;
		if (sigsetsize != 8)
			return -EINVAL;
		if (user_copy_from(&m, sigmask, 8) < 0)
			return -EFAULT;
		sig_set_temporary_mask(m);
	}
	return do_poll(fdsp, nfds, ns);
}

/* select core over fd_set bitmaps (64-bit words); the sets are rewritten with the ready fds. */
static long do_select(uint64_t nfds, uint64_t rfds, uint64_t wfds, uint64_t efds, int64_t timeout_ns)
{
	if ((int32_t)nfds < 0)
		return -EINVAL;
	if (nfds > FD_MAX)
		nfds = FD_MAX;
	uint64_t words = (nfds + 63) / 64, bytes = words * 8;
	uint64_t sets[3] = {rfds, wfds, efds};
	/* Too big for the kernel stack; another thread's select may use them while this one waits. */
	static uint64_t in[3][FD_MAX / 64], out[3][FD_MAX / 64];
	uint64_t deadline = deadline_of(timeout_ns), wake_at;
again:
	wake_at = 0;
	for (int s = 0; s < 3; s++) {
		memset(in[s], 0, sizeof(in[s]));
		memset(out[s], 0, sizeof(out[s]));
		if (sets[s] && user_copy_from(in[s], sets[s], bytes) < 0)
			return -EFAULT;
		if (sets[s] && !user_writable(sets[s], bytes))
			return -EFAULT;
	}
	long ready = 0;
	for (uint64_t fd = 0; fd < nfds; fd++) {
		uint64_t bit = 1ull << (fd % 64);
		int want_r = (in[0][fd / 64] & bit) != 0, want_w = (in[1][fd / 64] & bit) != 0;
		int want_e = (in[2][fd / 64] & bit) != 0;
		if (!want_r && !want_w && !want_e)
			continue;
		struct file *f = fd_file(fd);
		if (!f)
			return -EBADF;
		int ev = fd_file_poll(f);
		wake_at = earliest(wake_at, fd_file_deadline(f));
		if (want_r && (ev & (POLLIN | POLLHUP | POLLERR))) {
			out[0][fd / 64] |= bit;
			ready++;
		}
		if (want_w && (ev & (POLLOUT | POLLERR))) {
			out[1][fd / 64] |= bit;
			ready++;
		}
	}
	if (!ready) {
		int w = wait_for_change(timeout_ns, deadline, wake_at);
		if (w < 0)
			return w;
		if (!w)
			goto again;
	}
	for (int s = 0; s < 3; s++)
		if (sets[s])
			memcpy((void *)(uintptr_t)sets[s], out[s], bytes);
	return ready;
}

long sys_select(uint64_t nfds, uint64_t rfds, uint64_t wfds, uint64_t efds, uint64_t timeout)
{
	int64_t ns = -1;
	struct linux_timespec tv; /* struct timeval has the same layout: tv_sec, tv_usec */
	if (timeout) {
		if (user_copy_from(&tv, timeout, sizeof(tv)) < 0)
			return -EFAULT;
		if (tv.tv_sec < 0 || tv.tv_nsec < 0 || tv.tv_nsec >= 1000000)
			return -EINVAL;
		ns = tv.tv_sec > INT64_MAX / 1000000000 - 1 ? INT64_MAX
							    : tv.tv_sec * 1000000000 + tv.tv_nsec * 1000;
	}
	long r = do_select(nfds, rfds, wfds, efds, ns);
	if (r >= 0 && timeout) {
		/* Linux reports the time left: none after a sleep, all of it when something was ready. */
		if (r == 0)
			tv.tv_sec = tv.tv_nsec = 0;
		if (user_copy_to(timeout, &tv, sizeof(tv)) < 0)
			return -EFAULT;
	}
	return r;
}

long sys_pselect6(uint64_t nfds, uint64_t rfds, uint64_t wfds, uint64_t efds, uint64_t timeout,
		  uint64_t sigmask)
{
	int64_t ns;
	int64_t r = timespec_timeout(timeout, &ns);
	if (r < 0)
		return r;
	if (sigmask) { /* struct { const sigset_t *ss; size_t ss_len; } */
		uint64_t d[2], m;
		if (user_copy_from(d, sigmask, sizeof(d)) < 0)
			return -EFAULT;
		if (d[0]) {
			if (d[1] != 8)
				return -EINVAL;
			if (user_copy_from(&m, d[0], 8) < 0)
				return -EFAULT;
			sig_set_temporary_mask(m);
		}
	}
	return do_select(nfds, rfds, wfds, efds, ns);
}
