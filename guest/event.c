/* eventfd and timerfd: a counter and a timer served as files (fd.h's fd_ops), waited on with the scheduler.
 */
#include "event.h"

#include "clock.h"
#include "fd.h"
#include "klib.h"
#include "linux.h"
#include "mm.h"
#include "sched.h"
#include "sig.h"
#include "uaccess.h"

#define EFD_SEMAPHORE 1u
#define EFD_FLAGS (EFD_SEMAPHORE | O_NONBLOCK | O_CLOEXEC)
#define TFD_FLAGS (O_NONBLOCK | O_CLOEXEC)
#define TFD_TIMER_ABSTIME 1u
#define TFD_TIMER_CANCEL_ON_SET 2u
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_BOOTTIME 7
#define CLOCK_REALTIME_ALARM 8
#define CLOCK_BOOTTIME_ALARM 9
#define NS_PER_S 1000000000ll
#define TIMER_NS_MAX (100ll * 366 * 86400 * NS_PER_S) /* later values and longer intervals are clamped */

struct linux_itimerspec {
	struct linux_timespec it_interval, it_value;
};

/*
 * Block the running thread until an event file changes (a wake on
 * SCHED_CHAN_IO) or the monotonic `deadline` (0: none). A wait with no
 * deadline that no thread can ever end is a deadlock: the VM ends with the
 * scheduler's report, as Linux would hang (a read has no end-of-file to return).
 * Returns 0, or -ERESTARTSYS when a signal interrupted it.
 */
static int wait_event(uint64_t deadline)
{
	int r = sched_wait(deadline ? SCHED_WAIT_IO : SCHED_WAIT_FUTEX, SCHED_CHAN_IO, ~0u, deadline);
	return r == -EINTR ? -ERESTARTSYS
			   : 0; /* a signal: restarted after a SA_RESTART handler, else EINTR */
}

static void wake_waiters(void)
{
	sched_wake(SCHED_CHAN_IO, ~0u, SCHED_MAX_THREADS);
}

/* ---- eventfd --------------------------------------------------------------------------------- */

struct eventfd {
	uint64_t count;
	int semaphore;
	uint64_t seq_in, seq_out;
};

static long eventfd_read(void *priv, void *buf, uint64_t len, int nonblock)
{
	struct eventfd *e = priv;
	if (len < 8)
		return -EINVAL;
	while (e->count == 0) {
		if (nonblock)
			return -EAGAIN;
		if (wait_event(0) < 0)
			return -ERESTARTSYS;
	}
	uint64_t v = e->semaphore ? 1 : e->count;
	e->count -= v;
	e->seq_out++;
	memcpy(buf, &v, 8);
	wake_waiters();
	return 8;
}

static long eventfd_write(void *priv, const void *buf, uint64_t len, int nonblock)
{
	struct eventfd *e = priv;
	uint64_t v;
	if (len < 8)
		return -EINVAL;
	memcpy(&v, buf, 8);
	if (v == UINT64_MAX)
		return -EINVAL;
	while (UINT64_MAX - e->count <= v) { /* the count stays below UINT64_MAX */
		if (nonblock)
			return -EAGAIN;
		if (wait_event(0) < 0)
			return -ERESTARTSYS;
	}
	e->count += v;
	e->seq_in++;
	wake_waiters();
	return 8;
}

static int eventfd_poll(void *priv)
{
	const struct eventfd *e = priv;
	int ev = 0;
	if (e->count > 0)
		ev |= POLLIN;
	if (e->count == UINT64_MAX)
		ev |= POLLERR;
	if (UINT64_MAX - 1 > e->count)
		ev |= POLLOUT;
	return ev;
}

static uint64_t eventfd_seq(void *priv, int out)
{
	const struct eventfd *e = priv;
	return out ? e->seq_out : e->seq_in;
}

static const struct fd_ops eventfd_ops = {
    .name = "[eventfd]",
    .read = eventfd_read,
    .write = eventfd_write,
    .poll = eventfd_poll,
    .seq = eventfd_seq,
    .release = kfree,
};

long sys_eventfd2(uint64_t initval, uint64_t flags)
{
	if (flags & ~(uint64_t)EFD_FLAGS)
		return -EINVAL;
	struct eventfd *e = kmalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->count = (uint32_t)initval;
	e->semaphore = (flags & EFD_SEMAPHORE) != 0;
	long fd = fd_open_ops(&eventfd_ops, e, (uint32_t)flags);
	if (fd < 0)
		kfree(e);
	return fd;
}

long sys_eventfd(uint64_t initval)
{
	return sys_eventfd2(initval, 0);
}

/* ---- timerfd --------------------------------------------------------------------------------- */

struct timerfd {
	int realtime;	  /* CLOCK_REALTIME(_ALARM); else monotonic (BOOTTIME is monotonic here) */
	int armed;	  /* an expiry is due at `next` */
	int64_t next;	  /* ns on the timer's clock */
	int64_t interval; /* ns; 0: one expiry */
	uint64_t ticks;	  /* expirations not read yet */
	uint64_t seq;	  /* expirations since creation (EPOLLET) */
};

static int64_t timer_now(const struct timerfd *t)
{
	return t->realtime ? clock_realtime_ns() : (int64_t)clock_monotonic_ns();
}

/* Count the expirations that have passed by now (lazily: nothing fires in the background). */
static void timer_update(struct timerfd *t)
{
	if (!t->armed)
		return;
	int64_t now = timer_now(t);
	if (now < t->next)
		return;
	uint64_t n = 1;
	if (t->interval) {
		n += (uint64_t)(now - t->next) / (uint64_t)t->interval;
		t->next += (int64_t)n * t->interval;
	} else {
		t->armed = 0;
	}
	t->ticks += n;
	t->seq += n;
}

static int64_t timer_remaining(struct timerfd *t)
{
	timer_update(t);
	if (!t->armed)
		return 0;
	int64_t left = t->next - timer_now(t);
	return left > 0 ? left : 1;
}

static uint64_t timerfd_deadline(void *priv)
{
	struct timerfd *t = priv;
	timer_update(t);
	if (!t->armed)
		return 0;
	/* A realtime timer is waited for on the monotonic clock, as far off as it is now. */
	return clock_monotonic_ns() + (uint64_t)timer_remaining(t);
}

static long timerfd_read(void *priv, void *buf, uint64_t len, int nonblock)
{
	struct timerfd *t = priv;
	if (len < 8)
		return -EINVAL;
	for (;;) {
		timer_update(t);
		if (t->ticks)
			break;
		if (nonblock)
			return -EAGAIN;
		if (wait_event(timerfd_deadline(t)) < 0) /* 0 when disarmed: until another thread arms it */
			return -ERESTARTSYS;
	}
	memcpy(buf, &t->ticks, 8);
	t->ticks = 0;
	return 8;
}

static int timerfd_poll(void *priv)
{
	struct timerfd *t = priv;
	timer_update(t);
	return t->ticks ? POLLIN : 0;
}

static uint64_t timerfd_seq(void *priv, int out)
{
	struct timerfd *t = priv;
	timer_update(t);
	return out ? 0 : t->seq;
}

static const struct fd_ops timerfd_ops = {
    .name = "[timerfd]",
    .poll = timerfd_poll,
    .read = timerfd_read,
    .deadline = timerfd_deadline,
    .seq = timerfd_seq,
    .release = kfree,
};

long sys_timerfd_create(uint64_t clockid, uint64_t flags)
{
	if (flags & ~(uint64_t)TFD_FLAGS)
		return -EINVAL;
	int realtime;
	switch (clockid) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_ALARM: realtime = 1; break;
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME:
	case CLOCK_BOOTTIME_ALARM: realtime = 0; break;
	default: return -EINVAL;
	}
	struct timerfd *t = kmalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->realtime = realtime;
	long fd = fd_open_ops(&timerfd_ops, t, (uint32_t)flags);
	if (fd < 0)
		kfree(t);
	return fd;
}

/* The timerfd open as `fd`: 0, -EBADF, or -EINVAL when `fd` is another kind of file. */
static long timerfd_of(uint64_t fd, struct timerfd **t)
{
	struct file *f = fd_file(fd);
	if (!f)
		return -EBADF;
	*t = fd_file_priv(f, &timerfd_ops);
	return *t ? 0 : -EINVAL;
}

static int timespec_valid(const struct linux_timespec *ts)
{
	return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < NS_PER_S;
}

static int64_t timespec_ns(const struct linux_timespec *ts)
{
	if (ts->tv_sec >= TIMER_NS_MAX / NS_PER_S)
		return TIMER_NS_MAX;
	return ts->tv_sec * NS_PER_S + ts->tv_nsec;
}

static struct linux_timespec ns_timespec(int64_t ns)
{
	struct linux_timespec ts = {ns / NS_PER_S, ns % NS_PER_S};
	return ts;
}

static struct linux_itimerspec timer_get(struct timerfd *t)
{
	struct linux_itimerspec v;
	v.it_value = ns_timespec(timer_remaining(t));
	v.it_interval = ns_timespec(t->interval);
	return v;
}

long sys_timerfd_settime(uint64_t fd, uint64_t flags, uint64_t new_value, uint64_t old_value)
{
	struct linux_itimerspec nv;
	if (user_copy_from(&nv, new_value, sizeof(nv)) < 0)
		return -EFAULT;
	if ((flags & ~(uint64_t)(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) ||
	    !timespec_valid(&nv.it_value) || !timespec_valid(&nv.it_interval))
		return -EINVAL;
	struct timerfd *t;
	long r = timerfd_of(fd, &t);
	if (r < 0)
		return r;
	/* TFD_TIMER_CANCEL_ON_SET: nothing ever sets the realtime clock here, so reads are never canceled. */
	struct linux_itimerspec old = timer_get(t);
	int64_t value = timespec_ns(&nv.it_value);
	t->ticks = 0;
	t->interval = timespec_ns(&nv.it_interval);
	t->armed = value != 0;
	if (flags & TFD_TIMER_ABSTIME)
		t->next = value;
	else
		t->next = timer_now(t) + value;
	wake_waiters(); /* readers and polls recompute their deadline */
	if (old_value && user_copy_to(old_value, &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

long sys_timerfd_gettime(uint64_t fd, uint64_t cur)
{
	struct timerfd *t;
	long r = timerfd_of(fd, &t);
	if (r < 0)
		return r;
	struct linux_itimerspec v = timer_get(t);
	return user_copy_to(cur, &v, sizeof(v));
}
