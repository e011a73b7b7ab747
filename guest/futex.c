/* futex: wait and wake on 32-bit words of program memory, over the scheduler's wait channels. */
#include "futex.h"

#include "clock.h"
#include "klib.h"
#include "linux.h"
#include "sched.h"
#include "sig.h"
#include "uaccess.h"

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_BITSET_MATCH_ANY 0xffffffffu

/* Read the futex word; -EINVAL when misaligned, -EFAULT when not the program's memory. */
static long read_word(uint64_t uaddr, uint32_t *v)
{
	if (uaddr & 3)
		return -EINVAL;
	return user_copy_from(v, uaddr, 4);
}

/* The key of a wake on `uaddr`: a private wake never touches memory, a shared one must map it (as Linux). */
static long wake_key_ok(uint64_t uaddr, uint64_t op)
{
	if (uaddr & 3)
		return -EINVAL;
	if (!(op & FUTEX_PRIVATE_FLAG) && !user_readable(uaddr, 4))
		return -EFAULT;
	return 0;
}

/* A timeout argument as a monotonic deadline (0 = none), as Linux's futex_init_timeout reads it. */
static long read_deadline(uint64_t cmd, uint64_t op, uint64_t timeout, uint64_t *deadline)
{
	*deadline = 0;
	if (!timeout)
		return 0;
	struct linux_timespec ts;
	if (user_copy_from(&ts, timeout, sizeof(ts)) < 0)
		return -EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
		return -EINVAL;
	int64_t cap = 100ll * 365 * 86400; /* a century: beyond anything a test or program waits */
	int64_t ns = (ts.tv_sec > cap ? cap : ts.tv_sec) * 1000000000 + ts.tv_nsec;
	uint64_t now = clock_monotonic_ns();
	int64_t d;
	if (cmd == FUTEX_WAIT)
		d = (int64_t)now + ns;
	else if (op & FUTEX_CLOCK_REALTIME)
		d = (int64_t)now + (ns - clock_realtime_ns());
	else
		d = ns;
	*deadline = d < 1 ? 1 : (uint64_t)d;
	return 0;
}

static long futex_wait(uint64_t uaddr, uint32_t val, uint64_t deadline, uint32_t bitset)
{
	if (!bitset)
		return -EINVAL;
	uint32_t cur;
	long r = read_word(uaddr, &cur);
	if (r < 0)
		return r;
	/* One vCPU, and the kernel is never preempted: nothing runs between this check and the wait. */
	if (cur != val)
		return -EAGAIN;
	r = sched_wait(SCHED_WAIT_FUTEX, uaddr, bitset, deadline);
	if (r == -EINTR) /* a signal: restarted after a SA_RESTART handler unless it had a timeout */
		return deadline ? -ERESTARTNOHAND : -ERESTARTSYS;
	return r == -ETIMEDOUT ? -ETIMEDOUT : 0;
}

int futex_wake(uint64_t uaddr, int n)
{
	return sched_wake(uaddr, FUTEX_BITSET_MATCH_ANY, n);
}

static long futex_requeue(uint64_t uaddr, uint64_t op, uint64_t uaddr2, int nr_wake, int nr_requeue,
			  const uint32_t *cmpval)
{
	if (nr_wake < 0 || nr_requeue < 0)
		return -EINVAL;
	long r = wake_key_ok(uaddr, op);
	if (r == 0)
		r = wake_key_ok(uaddr2, op);
	if (r < 0)
		return r;
	if (cmpval) {
		uint32_t cur;
		if ((r = read_word(uaddr, &cur)) < 0)
			return r;
		if (cur != *cmpval)
			return -EAGAIN;
	}
	int woken = sched_wake(uaddr, FUTEX_BITSET_MATCH_ANY, nr_wake);
	return woken + sched_requeue(uaddr, uaddr2, nr_requeue);
}

static int sign_extend12(uint32_t v)
{
	return (int)(v << 20) >> 20;
}

static long futex_wake_op(uint64_t uaddr, uint64_t op, uint64_t uaddr2, int nr_wake, int nr_wake2,
			  uint32_t encoded)
{
	uint32_t wop = encoded >> 28 & 15, cmp = encoded >> 24 & 15;
	int oparg = sign_extend12(encoded >> 12 & 0xfff), cmparg = sign_extend12(encoded & 0xfff);
	if (wop & 8) {
		wop &= 7;
		oparg = (int)(1u << (oparg & 31));
	}
	long r = wake_key_ok(uaddr, op);
	if (r == 0)
		r = (uaddr2 & 3) ? -EINVAL : 0;
	if (r < 0)
		return r;
	uint32_t old;
	if (user_copy_from(&old, uaddr2, 4) < 0 || !user_writable(uaddr2, 4))
		return -EFAULT;
	uint32_t nv;
	switch (wop) {
	case 0: nv = (uint32_t)oparg; break;
	case 1: nv = old + (uint32_t)oparg; break;
	case 2: nv = old | (uint32_t)oparg; break;
	case 3: nv = old & ~(uint32_t)oparg; break;
	case 4: nv = old ^ (uint32_t)oparg; break;
	default: return -ENOSYS;
	}
	int o = (int)old, hit;
	switch (cmp) {
	case 0: hit = o == cmparg; break;
	case 1: hit = o != cmparg; break;
	case 2: hit = o < cmparg; break;
	case 3: hit = o <= cmparg; break;
	case 4: hit = o > cmparg; break;
	case 5: hit = o >= cmparg; break;
	default: return -ENOSYS;
	}
	user_copy_to(uaddr2, &nv, 4);
	int n = sched_wake(uaddr, FUTEX_BITSET_MATCH_ANY, nr_wake);
	if (hit)
		n += sched_wake(uaddr2, FUTEX_BITSET_MATCH_ANY, nr_wake2);
	return n;
}

long sys_futex(uint64_t uaddr, uint64_t op, uint64_t val, uint64_t timeout, uint64_t uaddr2, uint64_t val3)
{
	uint64_t cmd = op & ~(uint64_t)(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
	uint64_t deadline = 0;
	if (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET) {
		long r = read_deadline(cmd, op, timeout, &deadline);
		if (r < 0)
			return r;
	}
	if ((op & FUTEX_CLOCK_REALTIME) && cmd != FUTEX_WAIT_BITSET)
		return -ENOSYS;
	switch (cmd) {
	case FUTEX_WAIT: return futex_wait(uaddr, (uint32_t)val, deadline, FUTEX_BITSET_MATCH_ANY);
	case FUTEX_WAIT_BITSET: return futex_wait(uaddr, (uint32_t)val, deadline, (uint32_t)val3);
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET: {
		uint32_t bits = cmd == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : (uint32_t)val3;
		if (!bits)
			return -EINVAL;
		long r = wake_key_ok(uaddr, op);
		if (r < 0)
			return r;
		int n = (int)val;
		return sched_wake(uaddr, bits, n <= 0 ? 1 : n); /* Linux wakes one for 0 */
	}
	case FUTEX_REQUEUE: return futex_requeue(uaddr, op, uaddr2, (int)val, (int)(uint32_t)timeout, NULL);
	case FUTEX_CMP_REQUEUE: {
		uint32_t cmpval = (uint32_t)val3;
		return futex_requeue(uaddr, op, uaddr2, (int)val, (int)(uint32_t)timeout, &cmpval);
	}
	case FUTEX_WAKE_OP:
		return futex_wake_op(uaddr, op, uaddr2, (int)val, (int)(uint32_t)timeout, (uint32_t)val3);
	default: return -ENOSYS; /* the PI operations and unknown ones */
	}
}
