/* The scheduler: the program's threads on the one vCPU, switched at blocking calls and preempted by the
 * monitor. */
#ifndef GUEST_SCHED_H
#define GUEST_SCHED_H

#include <stdint.h>

#include <mote/abi.h>

/* Matches the frame syscall_entry (entry.S) pushes at the top of a thread's kernel stack, lowest first. */
struct syscall_frame {
	uint64_t r15, r14, r13, r12, rbp, rbx, r9, r8, r10, rdx, rsi, rdi, nr, rflags, rip, rsp;
};

/*
 * Matches the frame preempt_entry (entry.S) pushes when the monitor preempted
 * the program: every general register, lowest first.
 */
struct user_regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax, rflags, rip, rsp;
};

#define SCHED_MAX_THREADS 256

/* What a blocked thread waits for (how a deadlock is resolved, see sched_wait). */
enum sched_wait_kind {
	SCHED_WAIT_FUTEX = 1,  /* a futex word: nothing but a wake or the deadline ends it */
	SCHED_WAIT_SLEEP = 2,  /* only the deadline ends it */
	SCHED_WAIT_IO = 3,     /* a pipe or poll: any pipe change wakes it to look again */
	SCHED_WAIT_SIGNAL = 4, /* sigsuspend, sigtimedwait: only a signal (or the deadline) ends it */
};

/* A thread's signal state (guest/sig.c keeps it; here because struct thread holds it). */
struct thread_sig {
	uint64_t mask;		   /* blocked signals, bit (sig - 1) */
	uint64_t pending;	   /* sent to this thread (tgkill, tkill, SIGPIPE) */
	uint64_t saved_mask;	   /* sigsuspend, ppoll, pselect6: the mask to put back after the handler */
	int restore_mask;	   /* saved_mask is to be put back */
	int32_t code[64];	   /* si_code of each pending signal */
	int32_t from[64];	   /* si_pid: the sender's pid (1) or 0 from the kernel */
	uint64_t alt_sp, alt_size; /* sigaltstack */
	int alt_disabled;	   /* SS_DISABLE (the default) */
	int alt_autodisarm;	   /* SS_AUTODISARM: disabled while a handler runs on it */
};

/* The channel of SCHED_WAIT_IO waits (futex channels are addresses, never this small). */
#define SCHED_CHAN_IO 1u

struct thread {
	int tid;
	int state;	     /* THREAD_* in sched.c */
	uint64_t ksp;	     /* kernel rsp while switched out */
	uint64_t kstack_top; /* the syscall frame sits just below */
	void *kstack_mem;    /* NULL for the boot thread's static stack */
	uint64_t fs_base, gs_base;
	uint8_t *xstate; /* FPU/SSE/AVX state while switched out, 64-byte aligned */
	void *xstate_mem;
	/* while blocked */
	int wait_kind;
	int wait_result; /* 0 woken, -ETIMEDOUT, -EDEADLK, -EINTR (a signal: sched_interrupt) */
	uint64_t wait_chan;
	uint32_t wait_bits;
	uint64_t deadline_ns; /* monotonic; 0 = none */
	/* thread-level state the syscalls keep */
	uint64_t clear_child_tid; /* set_tid_address / CLONE_CHILD_CLEARTID */
	uint64_t robust_head, robust_len;
	struct thread_sig sig;
};

/*
 * Make the boot thread (tid 1), size the FPU state area from CPUID and offer
 * preemption to the monitor (bi->preempt). Call once at boot.
 */
void sched_init(struct mote_boot_info *bi);

/* The running thread. */
struct thread *sched_current(void);

/* The running thread's syscall frame: the program's registers at its syscall. */
struct syscall_frame *sched_current_frame(void);

/* The live thread with this tid, or NULL. */
struct thread *sched_find(int tid);

/* Live threads (at least 1). */
int sched_thread_count(void);

/*
 * A new runnable thread whose first run returns 0 from the current syscall
 * with the current frame's registers, except rsp = `user_sp` and FS base =
 * `fs_base`; its FPU state is a copy of the caller's. Returns it, or NULL
 * (out of memory, or SCHED_MAX_THREADS live).
 */
struct thread *sched_thread_create(uint64_t user_sp, uint64_t fs_base);

/*
 * End the running thread (it is freed once another runs) and run another.
 * MUST NOT be called by the last live thread.
 */
void sched_exit_current(void) __attribute__((noreturn));

/* For execve: forget every thread but the running one, which becomes tid 1. */
void sched_exec_reset(void);

/*
 * Block the running thread on `chan` (matching wakes with a common bit in
 * `bits`) until woken or until the monotonic `deadline_ns` (0: none);
 * other threads run meanwhile, and when none can, the vCPU sleeps in the
 * monitor until the earliest deadline (one exit per second of it at most).
 * Returns 0 when woken, -ETIMEDOUT at the deadline, or -EDEADLK for a
 * SCHED_WAIT_IO wait when no thread could ever wake it (the caller falls back
 * to not waiting). When every thread waits on a futex with no deadline, the
 * VM ends with a deadlock report instead.
 */
int sched_wait(int kind, uint64_t chan, uint32_t bits, uint64_t deadline_ns);

/* Wake up to `max` threads waiting on `chan` with a bit of `bits` in common, oldest tid first. Returns how
 * many. */
int sched_wake(uint64_t chan, uint32_t bits, int max);

/* Move up to `max` waiters of `from` (after any wake) to wait on `to`. Returns how many moved. */
int sched_requeue(uint64_t from, uint64_t to, int max);

/* Let every other runnable thread run once (sched_yield). */
void sched_yield_current(void);

/* Sleep the running thread until the monotonic `deadline_ns`. Returns 0, or -EINTR (a signal). */
int sched_sleep_until(uint64_t deadline_ns);

/* A signal for `t`: if it is blocked in sched_wait, that returns -EINTR. */
void sched_interrupt(struct thread *t);

/*
 * Arm the process's one timer (setitimer ITIMER_REAL, alarm): at the
 * monotonic `deadline_ns` (0: disarm) `fire` is called, from the idle loop
 * when no thread runs, or from sched_poll_timer. While armed the timer counts
 * as a contender, so a lone spinning thread is still preempted to notice it.
 */
void sched_set_timer(uint64_t deadline_ns, void (*fire)(void));

/* The armed timer's deadline, or 0. */
uint64_t sched_timer_deadline(void);

/* Call the timer's `fire` if its deadline has passed (at signal delivery points). */
void sched_poll_timer(void);

/* The live threads, for signal delivery: slot i's thread or NULL, i < SCHED_MAX_THREADS. */
struct thread *sched_thread_at(int i);

/* FPU state for signal frames: the size of an XSAVE area, its feature mask (0: FXSAVE only). */
uint32_t sched_fpu_size(void);
uint64_t sched_fpu_features(void);
/* Save the live FPU state to `area` (64-byte aligned, sched_fpu_size bytes), or load it from one. */
void sched_fpu_save(void *area);
void sched_fpu_restore(const void *area);
/* Put the FPU in its initial state (what a signal handler starts with). */
void sched_fpu_init(void);

/*
 * The monitor preempted the program (preempt_entry), or asked for it while
 * the kernel ran (then called when a system call returns): let the other
 * runnable threads run, the running one going last.
 */
void sched_preempt(void);

/* At the end of every system call: yield if the monitor asked for a preemption meanwhile. */
void sched_preempt_if_pending(void);

long sys_sched_yield(void);

#endif /* GUEST_SCHED_H */
