/* Thread syscalls: clone/clone3 of threads, thread exit, tids, robust futex lists. */
#include "thread.h"

#include <mote/abi.h>

#include "futex.h"
#include "hypercall.h"
#include "klib.h"
#include "linux.h"
#include "sched.h"
#include "uaccess.h"

#define CSIGNAL 0xffull
#define CLONE_VM 0x100ull
#define CLONE_FS 0x200ull
#define CLONE_FILES 0x400ull
#define CLONE_SIGHAND 0x800ull
#define CLONE_THREAD 0x10000ull
#define CLONE_SYSVSEM 0x40000ull
#define CLONE_SETTLS 0x80000ull
#define CLONE_PARENT_SETTID 0x100000ull
#define CLONE_CHILD_CLEARTID 0x200000ull
#define CLONE_DETACHED 0x400000ull
#define CLONE_UNTRACED 0x800000ull
#define CLONE_CHILD_SETTID 0x1000000ull
#define CLONE_IO 0x80000000ull

#define THREAD_NEEDS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD)
#define THREAD_MAY                                                                                           \
	(THREAD_NEEDS | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID |          \
	 CLONE_DETACHED | CLONE_UNTRACED | CLONE_CHILD_SETTID | CLONE_IO)

static long new_thread(uint64_t flags, uint64_t sp, uint64_t parent_tid, uint64_t child_tid, uint64_t tls)
{
	if (!(flags & CLONE_THREAD))
		return -ENOSYS; /* a new process: the guest runs exactly one */
	if (!(flags & CLONE_SIGHAND) || !(flags & CLONE_VM))
		return -EINVAL; /* as Linux: CLONE_THREAD needs CLONE_SIGHAND, which needs CLONE_VM */
	if ((flags & ~CSIGNAL & ~THREAD_MAY) || (flags & THREAD_NEEDS) != THREAD_NEEDS) {
		kdebug("clone of a thread with flags %#lx: only %#llx, with %#llx set, are supported", flags,
		       THREAD_MAY, THREAD_NEEDS);
		return -EINVAL;
	}
	uint64_t fs;
	if (flags & CLONE_SETTLS)
		fs = tls;
	else
		__asm__ volatile("rdfsbase %0" : "=r"(fs));
	struct thread *t = sched_thread_create(sp, fs);
	if (!t)
		return -EAGAIN; /* as Linux when out of memory or at the thread limit */
	uint32_t tid = (uint32_t)t->tid;
	if (flags & CLONE_PARENT_SETTID)
		user_copy_to(parent_tid, &tid, 4); /* Linux ignores a fault here too */
	if (flags & CLONE_CHILD_SETTID)
		user_copy_to(child_tid, &tid, 4);
	if (flags & CLONE_CHILD_CLEARTID)
		t->clear_child_tid = child_tid;
	return t->tid;
}

long sys_clone(uint64_t flags, uint64_t newsp, uint64_t parent_tid, uint64_t child_tid, uint64_t tls)
{
	return new_thread(flags, newsp, parent_tid, child_tid, tls);
}

struct linux_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
	    set_tid_size, cgroup;
};

long sys_clone3(uint64_t uargs, uint64_t size)
{
	struct linux_clone_args a;
	memset(&a, 0, sizeof(a));
	if (size < 64)
		return -EINVAL;
	if (size > PAGE_SIZE)
		return -E2BIG;
	if (user_copy_from(&a, uargs, MIN(size, sizeof(a))) < 0)
		return -EFAULT;
	for (uint64_t off = sizeof(a); off < size; off++) { /* a newer struct: its extra fields must be 0 */
		uint8_t b;
		if (user_copy_from(&b, uargs + off, 1) < 0)
			return -EFAULT;
		if (b)
			return -E2BIG;
	}
	if ((a.flags & CSIGNAL) || (a.flags >> 32) || (a.exit_signal & ~CSIGNAL) || a.set_tid ||
	    a.set_tid_size || (!a.stack && a.stack_size) || (a.stack && !a.stack_size))
		return (a.flags & CLONE_THREAD) ? -EINVAL : -ENOSYS;
	return new_thread(a.flags, a.stack ? a.stack + a.stack_size : 0, a.parent_tid, a.child_tid, a.tls);
}

#define FUTEX_WAITERS 0x80000000u
#define FUTEX_OWNER_DIED 0x40000000u
#define FUTEX_TID_MASK 0x3fffffffu
#define ROBUST_LIST_LIMIT 2048

/* A robust mutex held by the exiting thread `tid`: mark its owner dead and wake a waiter (as Linux). */
static void futex_owner_died(uint64_t uaddr, uint32_t tid)
{
	uint32_t v;
	if ((uaddr & 3) || user_copy_from(&v, uaddr, 4) < 0 || (v & FUTEX_TID_MASK) != tid)
		return;
	uint32_t nv = (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
	if (user_copy_to(uaddr, &nv, 4) == 0 && (v & FUTEX_WAITERS))
		futex_wake(uaddr, 1);
}

/* Walk the exiting thread's robust list (set_robust_list), at most ROBUST_LIST_LIMIT entries. */
static void exit_robust_list(const struct thread *t)
{
	uint64_t head[3]; /* next, futex_offset, list_op_pending */
	if (!t->robust_head || user_copy_from(head, t->robust_head, sizeof(head)) < 0)
		return;
	int64_t off = (int64_t)head[1];
	uint64_t pending = head[2] & ~1ull, entry = head[0] & ~1ull;
	for (int n = 0; entry != t->robust_head && n < ROBUST_LIST_LIMIT; n++) {
		uint64_t next;
		if (user_copy_from(&next, entry, 8) < 0)
			return;
		if (entry != pending)
			futex_owner_died(entry + (uint64_t)off, (uint32_t)t->tid);
		entry = next & ~1ull;
	}
	if (pending)
		futex_owner_died(pending + (uint64_t)off, (uint32_t)t->tid);
}

long sys_exit(uint64_t status)
{
	if (sched_thread_count() == 1)
		hypercall_exit(MOTE_EXIT_NORMAL, (int32_t)(status & 0xff), 0, 0, 0);
	struct thread *t = sched_current();
	exit_robust_list(t);
	if (t->clear_child_tid) {
		uint32_t zero = 0;
		if (user_copy_to(t->clear_child_tid, &zero, 4) == 0)
			futex_wake(t->clear_child_tid, 1);
	}
	sched_exit_current();
}

long sys_gettid(void)
{
	return sched_current()->tid;
}

long sys_set_tid_address(uint64_t tidptr)
{
	sched_current()->clear_child_tid = tidptr;
	return sched_current()->tid;
}

long sys_set_robust_list(uint64_t head, uint64_t len)
{
	if (len != 24)
		return -EINVAL;
	sched_current()->robust_head = head;
	sched_current()->robust_len = len;
	return 0;
}

long sys_get_robust_list(uint64_t tid, uint64_t head_ptr, uint64_t len_ptr)
{
	struct thread *t = tid ? sched_find((int)tid) : sched_current();
	if (!t)
		return -ESRCH;
	uint64_t head = t->robust_head, len = 24;
	if (user_copy_to(head_ptr, &head, 8) < 0 || user_copy_to(len_ptr, &len, 8) < 0)
		return -EFAULT;
	return 0;
}
