/* epoll: interest lists of (file, fd) items, scanned for readiness and waited on with the scheduler. */
#include "epoll.h"

#include "clock.h"
#include "fd.h"
#include "klib.h"
#include "linux.h"
#include "mm.h"
#include "sched.h"
#include "sig.h"
#include "uaccess.h"

#define EPOLLIN 0x001u
#define EPOLLPRI 0x002u
#define EPOLLOUT 0x004u
#define EPOLLERR 0x008u
#define EPOLLHUP 0x010u
#define EPOLLRDNORM 0x040u
#define EPOLLRDBAND 0x080u
#define EPOLLWRNORM 0x100u
#define EPOLLWRBAND 0x200u
#define EPOLLMSG 0x400u
#define EPOLLRDHUP 0x2000u
#define EPOLLEXCLUSIVE (1u << 28)
#define EPOLLWAKEUP (1u << 29)
#define EPOLLONESHOT (1u << 30)
#define EPOLLET (1u << 31)
#define EPOLL_IN_BITS (EPOLLIN | EPOLLPRI | EPOLLRDNORM | EPOLLRDBAND | EPOLLRDHUP | EPOLLMSG)
#define EPOLL_OUT_BITS (EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND)
#define EPOLLEXCLUSIVE_OK (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)
#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_DEL 2
#define EPOLL_CTL_MOD 3
#define EP_MAX_EVENTS (INT32_MAX / 12)
#define EP_MAX_NESTS 4 /* an epoll watching an epoll ...: deeper levels read as not ready (no ELOOP) */

struct linux_epoll_event {
	uint32_t events;
	uint64_t data;
} __attribute__((packed));

/* One watched (file, fd) pair. */
struct epoll_item {
	struct epoll_item *prev, *next;
	struct file *file;
	int fd;
	uint32_t events; /* what the program asked for, with EPOLLERR | EPOLLHUP */
	uint64_t data;
	int disabled;	   /* EPOLLONESHOT reported it: silent until EPOLL_CTL_MOD */
	int reported;	   /* for EPOLLET: reported since ADD/MOD, with these ... */
	uint32_t last_ev;  /* ... events */
	uint64_t last_seq; /* ... and the file's event counters then */
};

struct epoll {
	struct epoll *prev_ep, *next_ep; /* every instance, for the close hook */
	struct epoll_item *head, *tail;	 /* in the order they are next looked at */
	int waiters;			 /* threads in epoll_wait on it */
	int closed;			 /* its file was closed while they waited: freed by the last */
};

static struct epoll *instances;
static int poll_depth; /* nesting of epoll files polled inside a scan */

/* ---- items ----------------------------------------------------------------------------------- */

static void unlink_item(struct epoll *ep, struct epoll_item *it)
{
	if (it->prev)
		it->prev->next = it->next;
	else
		ep->head = it->next;
	if (it->next)
		it->next->prev = it->prev;
	else
		ep->tail = it->prev;
	it->prev = it->next = NULL;
}

static void append_item(struct epoll *ep, struct epoll_item *it)
{
	it->next = NULL;
	it->prev = ep->tail;
	if (ep->tail)
		ep->tail->next = it;
	else
		ep->head = it;
	ep->tail = it;
}

static struct epoll_item *find_item(struct epoll *ep, const struct file *f, int fd)
{
	for (struct epoll_item *it = ep->head; it; it = it->next)
		if (it->file == f && it->fd == fd)
			return it;
	return NULL;
}

static void remove_all(struct epoll *ep)
{
	while (ep->head) {
		struct epoll_item *it = ep->head;
		unlink_item(ep, it);
		kfree(it);
	}
}

/* The file's event counters for the directions `it` watches (they move at every event). */
static uint64_t item_seq(const struct epoll_item *it)
{
	uint64_t seq = 0;
	if (it->events & (EPOLL_IN_BITS | EPOLLHUP | EPOLLERR))
		seq += fd_file_seq(it->file, 0);
	if (it->events & EPOLL_OUT_BITS)
		seq += fd_file_seq(it->file, 1);
	return seq;
}

/*
 * The events `it` reports now (0: none), and in *seq the counters to
 * remember if they are reported. Level-triggered: whatever is ready.
 * EPOLLET: only when an event came since the last report (or bits that
 * were not ready then are now).
 */
static uint32_t item_ready(const struct epoll_item *it, uint64_t *seq)
{
	if (it->disabled)
		return 0;
	uint32_t got = (uint32_t)fd_file_poll(it->file) & it->events &
		       (EPOLL_IN_BITS | EPOLL_OUT_BITS | EPOLLERR | EPOLLHUP);
	*seq = item_seq(it);
	if (!got)
		return 0;
	if ((it->events & EPOLLET) && it->reported && *seq == it->last_seq && !(got & ~it->last_ev))
		return 0;
	return got;
}

/*
 * Report up to `max` ready items into the program's array at `uevents`,
 * then move them to the end of the list so that items behind them are seen
 * first next time (as Linux requeues level-triggered items). Returns the
 * count, or -EFAULT when not even the first fits in writable memory.
 */
static long collect(struct epoll *ep, uint64_t uevents, long max)
{
	struct epoll_item *done = NULL, *done_tail = NULL, *next;
	long n = 0, err = 0;
	for (struct epoll_item *it = ep->head; it && n < max; it = next) {
		next = it->next;
		uint64_t seq;
		uint32_t got = item_ready(it, &seq);
		if (!got)
			continue;
		struct linux_epoll_event e = {got, it->data};
		if (user_copy_to(uevents + (uint64_t)n * sizeof(e), &e, sizeof(e)) < 0) {
			err = -EFAULT;
			break;
		}
		n++;
		it->reported = 1;
		it->last_ev = got;
		it->last_seq = seq;
		if (it->events & EPOLLONESHOT)
			it->disabled = 1;
		unlink_item(ep, it);
		if (done_tail)
			done_tail->next = it;
		else
			done = it;
		it->prev = done_tail;
		done_tail = it;
	}
	for (struct epoll_item *it = done; it; it = next) {
		next = it->next;
		append_item(ep, it);
	}
	return n ? n : err;
}

/* The earliest monotonic time at which a watched file becomes ready by itself (a timerfd), or 0. */
static uint64_t items_deadline(const struct epoll *ep)
{
	uint64_t d = 0;
	if (poll_depth >= EP_MAX_NESTS)
		return 0;
	poll_depth++;
	for (const struct epoll_item *it = ep->head; it; it = it->next) {
		uint64_t t = it->disabled ? 0 : fd_file_deadline(it->file);
		if (t && (!d || t < d))
			d = t;
	}
	poll_depth--;
	return d;
}

/* ---- the epoll file -------------------------------------------------------------------------- */

/* An epoll file is readable while one of its items would be reported. */
static int epoll_poll(void *priv)
{
	const struct epoll *ep = priv;
	int ready = 0;
	if (poll_depth >= EP_MAX_NESTS)
		return 0;
	poll_depth++;
	for (const struct epoll_item *it = ep->head; it && !ready; it = it->next) {
		uint64_t seq;
		ready = item_ready(it, &seq) != 0;
	}
	poll_depth--;
	return ready ? POLLIN : 0;
}

static uint64_t epoll_deadline(void *priv)
{
	return items_deadline(priv);
}

static void epoll_free(struct epoll *ep)
{
	kfree(ep);
}

static void epoll_release(void *priv)
{
	struct epoll *ep = priv;
	remove_all(ep);
	if (ep->prev_ep)
		ep->prev_ep->next_ep = ep->next_ep;
	else
		instances = ep->next_ep;
	if (ep->next_ep)
		ep->next_ep->prev_ep = ep->prev_ep;
	if (ep->waiters)
		ep->closed = 1;
	else
		epoll_free(ep);
}

static const struct fd_ops epoll_ops = {
    .name = "[eventpoll]",
    .poll = epoll_poll,
    .deadline = epoll_deadline,
    .release = epoll_release,
};

/* The last descriptor of `f` was closed: it leaves every interest list (as on Linux). */
static void file_closed(struct file *f)
{
	for (struct epoll *ep = instances; ep; ep = ep->next_ep) {
		struct epoll_item *it = ep->head, *next;
		for (; it; it = next) {
			next = it->next;
			if (it->file == f) {
				unlink_item(ep, it);
				kfree(it);
			}
		}
	}
}

long sys_epoll_create1(uint64_t flags)
{
	if (flags & ~(uint64_t)O_CLOEXEC)
		return -EINVAL;
	struct epoll *ep = kmalloc(sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	long fd = fd_open_ops(&epoll_ops, ep, (uint32_t)flags);
	if (fd < 0) {
		kfree(ep);
		return fd;
	}
	fd_set_close_hook(file_closed);
	ep->next_ep = instances;
	if (instances)
		instances->prev_ep = ep;
	instances = ep;
	return fd;
}

long sys_epoll_create(uint64_t size)
{
	if ((int32_t)size <= 0)
		return -EINVAL;
	return sys_epoll_create1(0);
}

long sys_epoll_ctl(uint64_t epfd, uint64_t op, uint64_t fd, uint64_t event)
{
	struct linux_epoll_event e = {0, 0};
	if (op != EPOLL_CTL_DEL && user_copy_from(&e, event, sizeof(e)) < 0)
		return -EFAULT;
	struct file *ef = fd_file(epfd), *tf = fd_file(fd);
	if (!ef || !tf)
		return -EBADF;
	if (!fd_file_pollable(tf))
		return -EPERM;
	e.events &= ~EPOLLWAKEUP; /* needs CAP_BLOCK_SUSPEND on Linux; there is no suspend here */
	struct epoll *ep = fd_file_priv(ef, &epoll_ops);
	if (ef == tf || !ep)
		return -EINVAL;
	if (e.events & EPOLLEXCLUSIVE) {
		if (op == EPOLL_CTL_MOD || (op == EPOLL_CTL_ADD && (fd_file_priv(tf, &epoll_ops) ||
								    (e.events & ~EPOLLEXCLUSIVE_OK))))
			return -EINVAL;
	}
	struct epoll_item *it = find_item(ep, tf, (int)fd);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it)
			return -EEXIST;
		it = kmalloc(sizeof(*it));
		if (!it)
			return -ENOMEM;
		it->file = tf;
		it->fd = (int)fd;
		it->events = e.events | EPOLLERR | EPOLLHUP;
		it->data = e.data;
		append_item(ep, it);
		break;
	case EPOLL_CTL_MOD:
		if (!it)
			return -ENOENT;
		if (it->events & EPOLLEXCLUSIVE)
			return -EINVAL;
		it->events = e.events | EPOLLERR | EPOLLHUP;
		it->data = e.data;
		it->disabled = 0;
		it->reported = 0; /* ready now: reported once more, EPOLLET or not */
		break;
	case EPOLL_CTL_DEL:
		if (!it)
			return -ENOENT;
		unlink_item(ep, it);
		kfree(it);
		return 0;
	default: return -EINVAL;
	}
	sched_wake(SCHED_CHAN_IO, ~0u, SCHED_MAX_THREADS); /* a waiter on this list looks again */
	return 0;
}

/* epoll_wait core; timeout_ns < 0 waits forever. */
static long do_epoll_wait(uint64_t epfd, uint64_t events, uint64_t maxevents, int64_t timeout_ns)
{
	if ((int32_t)maxevents <= 0 || (int32_t)maxevents > EP_MAX_EVENTS)
		return -EINVAL;
	struct file *f = fd_file(epfd);
	if (!f)
		return -EBADF;
	struct epoll *ep = fd_file_priv(f, &epoll_ops);
	if (!ep)
		return -EINVAL;
	uint64_t deadline = 0;
	if (timeout_ns > 0) {
		uint64_t now = clock_monotonic_ns();
		deadline = (uint64_t)timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + (uint64_t)timeout_ns;
	}
	long n;
	int timed_out = 0;
	ep->waiters++;
	for (;;) {
		n = collect(ep, events, (int32_t)maxevents);
		if (n != 0 || timeout_ns == 0 || timed_out || ep->closed)
			break;
		/* Until the timeout or the next expiry of a watched timerfd, or a wake from a pipe, an
		 * eventfd... */
		uint64_t wake_at = items_deadline(ep);
		if (!wake_at || (deadline && deadline < wake_at))
			wake_at = deadline;
		int r = sched_wait(SCHED_WAIT_IO, SCHED_CHAN_IO, ~0u, wake_at);
		if (r == -EINTR) {
			n = -ERESTARTNOHAND; /* a signal: EINTR once its handler ran */
			break;
		}
		if (r == -EDEADLK) {
			kdebug("epoll_wait with no timeout and nothing that could become ready: returning 0 "
			       "instead of hanging");
			break;
		}
		if (r == -ETIMEDOUT && deadline && clock_monotonic_ns() >= deadline)
			timed_out = 1; /* one last look, as Linux */
	}
	if (--ep->waiters == 0 && ep->closed)
		epoll_free(ep);
	return n;
}

long sys_epoll_wait(uint64_t epfd, uint64_t events, uint64_t maxevents, uint64_t timeout)
{
	int32_t ms = (int32_t)timeout;
	return do_epoll_wait(epfd, events, maxevents, ms < 0 ? -1 : (int64_t)ms * 1000000);
}

/* The signal mask of epoll_pwait/epoll_pwait2: the thread's mask during the wait (sig_set_temporary_mask). */
static long check_sigmask(uint64_t sigmask, uint64_t sigsetsize)
{
	if (!sigmask)
		return 0;
	if (sigsetsize != 8)
		return -EINVAL;
	uint64_t m;
	if (user_copy_from(&m, sigmask, 8) < 0)
		return -EFAULT;
	sig_set_temporary_mask(m);
	return 0;
}

long sys_epoll_pwait(uint64_t epfd, uint64_t events, uint64_t maxevents, uint64_t timeout, uint64_t sigmask,
		     uint64_t sigsetsize)
{
	long r = check_sigmask(sigmask, sigsetsize);
	return r < 0 ? r : sys_epoll_wait(epfd, events, maxevents, timeout);
}

long sys_epoll_pwait2(uint64_t epfd, uint64_t events, uint64_t maxevents, uint64_t timeout, uint64_t sigmask,
		      uint64_t sigsetsize)
{
	int64_t ns = -1;
	if (timeout) {
		struct linux_timespec ts;
		long r = user_get_timespec(&ts, timeout);
		if (r < 0)
			return r;
		ns =
		    ts.tv_sec >= INT64_MAX / 1000000000 - 1 ? INT64_MAX : ts.tv_sec * 1000000000 + ts.tv_nsec;
	}
	long r = check_sigmask(sigmask, sigsetsize);
	return r < 0 ? r : do_epoll_wait(epfd, events, maxevents, ns);
}
