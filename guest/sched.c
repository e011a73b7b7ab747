/* The scheduler: the program's threads on the one vCPU, switched at blocking calls and preempted by the
 * monitor. */
#include "sched.h"

#include <mote/abi.h>

#include "clock.h"
#include "hypercall.h"
#include "klib.h"
#include "linux.h"
#include "mm.h"

#define THREAD_RUNNABLE 1
#define THREAD_BLOCKED 2
#define THREAD_DEAD 3

#define KSTACK_SIZE (32 * 1024)

void sched_switch(uint64_t *save_ksp, uint64_t new_ksp);
void thread_first_return(void);
extern char preempt_entry[], __kernel_start[], __kernel_end[]; /* entry.S, kernel.ld */
extern volatile struct mote_preempt *preempt_area;	       /* entry.S reads the monitor's part */
extern uint64_t sched_kstack_top; /* entry.S: where syscall_entry puts the next frame */
extern char kernel_stack[];	  /* entry.S: the boot thread's kernel stack (64 KiB) */

static struct thread boot_thread;
static struct thread
    *threads[SCHED_MAX_THREADS]; /* live threads by slot; slot 0 is the boot thread at boot */
static struct thread *current;
static struct thread *zombie; /* exited, freed by the next thread to run */
static int nthreads, next_tid = 2;
static int nforever;		/* blocked with no deadline: only another thread can make them runnable */
static uint64_t timer_deadline; /* sched_set_timer */
static void (*timer_fire)(void);
static uint64_t wait_seq_next;
static uint64_t wait_seqs[SCHED_MAX_THREADS]; /* FIFO order of waiters, by slot */

/* FPU state: xsave of every component XCR0 enables, or fxsave when the CPU has no XSAVE. */
static int use_xsave;
static uint64_t xsave_mask;
static uint32_t xstate_size = 512;
#define XFEATURES_AMX (3ull << 17) /* XTILECFG, XTILEDATA */
static uint8_t boot_xstate[512 + 64] __attribute__((aligned(64)));

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static void xstate_save(uint8_t *area)
{
	if (use_xsave)
		__asm__ volatile("xsave64 (%0)"
				 :
				 : "r"(area), "a"((uint32_t)xsave_mask), "d"((uint32_t)(xsave_mask >> 32))
				 : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

static void xstate_restore(const uint8_t *area)
{
	if (use_xsave)
		__asm__ volatile("xrstor64 (%0)"
				 :
				 : "r"(area), "a"((uint32_t)xsave_mask), "d"((uint32_t)(xsave_mask >> 32))
				 : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

static uint64_t rdfsbase(void)
{
	uint64_t v;
	__asm__ volatile("rdfsbase %0" : "=r"(v));
	return v;
}

static uint64_t rdgsbase(void)
{
	uint64_t v;
	__asm__ volatile("rdgsbase %0" : "=r"(v));
	return v;
}

/* Tell the monitor how many threads could use the vCPU (it preempts only while that is more than one). */
static void publish_contenders(void)
{
	if (preempt_area)
		preempt_area->contenders = (uint32_t)(nthreads - nforever + (timer_deadline != 0));
}

void sched_init(struct mote_boot_info *bi)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	if (r[2] & (1u << 27)) { /* OSXSAVE: XSAVE is on and XGETBV works */
		uint32_t lo, hi;
		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		/*
		 * XGETBV at CPL3 is not intercepted: under PVM it shows the host's
		 * XCR0, which may hold more than the monitor enabled (AMX tiles, 8 KiB).
		 * Save what the guest's CPUID offers, without AMX (a Linux program
		 * must ask for it with arch_prctl first, which this kernel refuses),
		 * and size the area from each component's offset and size: leaf
		 * 0xd's total follows the XCR0 the monitor set, not the real one.
		 */
		cpuid(0xd, 0, r);
		xsave_mask = ((uint64_t)hi << 32 | lo) & ((uint64_t)r[3] << 32 | r[0]) & ~XFEATURES_AMX;
		xstate_size = 576; /* legacy area and header */
		for (uint32_t i = 2; i < 63; i++)
			if (xsave_mask >> i & 1) {
				cpuid(0xd, i, r);
				if (r[1] + r[0] > xstate_size)
					xstate_size = r[1] + r[0];
			}
		use_xsave = 1;
	}
	boot_thread.tid = 1;
	boot_thread.state = THREAD_RUNNABLE;
	boot_thread.kstack_top = sched_kstack_top;
	boot_thread.sig.alt_disabled = 1;
	boot_thread.xstate = boot_xstate; /* enough until a second thread exists (sched_thread_create) */
	threads[0] = &boot_thread;
	current = &boot_thread;
	nthreads = 1;
	(void)kernel_stack;
	preempt_area = &bi->preempt;
	preempt_area->kernel_start = (uint64_t)(uintptr_t)__kernel_start;
	preempt_area->kernel_end = (uint64_t)(uintptr_t)__kernel_end;
	preempt_area->pending = 0;
	publish_contenders();
	preempt_area->entry = (uint64_t)(uintptr_t)preempt_entry;
}

struct thread *sched_current(void)
{
	return current;
}

struct syscall_frame *sched_current_frame(void)
{
	return (struct syscall_frame *)(uintptr_t)(current->kstack_top - sizeof(struct syscall_frame));
}

struct thread *sched_find(int tid)
{
	for (int i = 0; i < SCHED_MAX_THREADS; i++)
		if (threads[i] && threads[i]->tid == tid && threads[i]->state != THREAD_DEAD)
			return threads[i];
	return NULL;
}

int sched_thread_count(void)
{
	return nthreads;
}

static int alloc_xstate(struct thread *t)
{
	t->xstate_mem = kmalloc(xstate_size + 64);
	if (!t->xstate_mem)
		return -1;
	t->xstate = (uint8_t *)(uintptr_t)ALIGN_UP((uint64_t)(uintptr_t)t->xstate_mem, 64);
	return 0;
}

static void free_thread(struct thread *t)
{
	kfree(t->xstate_mem);
	if (t->kstack_mem)
		pages_release((uint64_t)(uintptr_t)t->kstack_mem, KSTACK_SIZE / PAGE_SIZE);
	if (t != &boot_thread)
		kfree(t);
}

struct thread *sched_thread_create(uint64_t user_sp, uint64_t fs_base)
{
	if (nthreads >= SCHED_MAX_THREADS)
		return NULL;
	/* The boot thread's state area is static and sized for fxsave only: give it a real one first. */
	if (current == &boot_thread && !boot_thread.xstate_mem && xstate_size > 512) {
		if (alloc_xstate(&boot_thread) < 0)
			return NULL;
	}
	struct thread *t = kmalloc(sizeof(*t));
	if (!t)
		return NULL;
	t->kstack_mem = pages_alloc(KSTACK_SIZE / PAGE_SIZE, 0);
	if (!t->kstack_mem || alloc_xstate(t) < 0) {
		free_thread(t);
		return NULL;
	}
	t->tid = next_tid++;
	t->state = THREAD_RUNNABLE;
	t->kstack_top = (uint64_t)(uintptr_t)t->kstack_mem + KSTACK_SIZE;
	t->fs_base = fs_base;
	t->gs_base = rdgsbase();
	t->sig.mask = current->sig.mask; /* as Linux: the creator's mask; no altstack, nothing pending */
	t->sig.alt_disabled = 1;
	xstate_save(t->xstate);

	/* The frame a syscall of the new thread would have pushed, then what sched_switch pops. */
	struct syscall_frame *f = (struct syscall_frame *)(uintptr_t)(t->kstack_top - sizeof(*f));
	*f = *sched_current_frame();
	if (user_sp)
		f->rsp = user_sp;
	uint64_t *sp = (uint64_t *)f;
	*--sp = (uint64_t)(uintptr_t)thread_first_return;
	for (int i = 0; i < 6; i++)
		*--sp = 0; /* rbx, rbp, r12-r15 */
	t->ksp = (uint64_t)(uintptr_t)sp;

	for (int i = 0; i < SCHED_MAX_THREADS; i++)
		if (!threads[i]) {
			threads[i] = t;
			break;
		}
	nthreads++;
	publish_contenders();
	return t;
}

static int slot_of(const struct thread *t)
{
	for (int i = 0; i < SCHED_MAX_THREADS; i++)
		if (threads[i] == t)
			return i;
	kpanic("scheduler: thread %d is in no slot", t->tid);
}

/* A blocked thread may run again; its wait returns `result`. */
static void make_runnable(struct thread *t, int result)
{
	if (!t->deadline_ns) {
		nforever--;
		publish_contenders();
	}
	t->state = THREAD_RUNNABLE;
	t->wait_result = result;
}

/* Make runnable every blocked thread whose deadline has passed. */
static void expire_deadlines(uint64_t now)
{
	for (int i = 0; i < SCHED_MAX_THREADS; i++) {
		struct thread *t = threads[i];
		if (t && t->state == THREAD_BLOCKED && t->deadline_ns && t->deadline_ns <= now) {
			t->state = THREAD_RUNNABLE;
			t->wait_result = -ETIMEDOUT;
		}
	}
}

/* The next runnable thread after `from` in slot order (from itself last), or NULL. */
static struct thread *next_runnable(struct thread *from)
{
	int start = slot_of(from);
	for (int k = 1; k <= SCHED_MAX_THREADS; k++) {
		struct thread *t = threads[(start + k) % SCHED_MAX_THREADS];
		if (t && t->state == THREAD_RUNNABLE)
			return t;
	}
	return NULL;
}

static void __attribute__((noreturn)) deadlock(void)
{
	static char msg[160];
	ksnprintf(msg, sizeof(msg),
		  "deadlock: all %d threads of the program wait forever (futex or signal waits with no "
		  "timeout, nothing can wake them)",
		  nthreads);
	hypercall_exit(MOTE_EXIT_DEADLOCK, nthreads, msg, sched_current_frame()->rip,
		       sched_current_frame()->rsp);
}

/*
 * Nothing is runnable: sleep until the earliest deadline, or (when there is
 * none) give an I/O waiter -EDEADLK so it stops waiting, or end the VM.
 */
static void idle(void)
{
	uint64_t earliest = 0;
	struct thread *io = NULL;
	for (int i = 0; i < SCHED_MAX_THREADS; i++) {
		struct thread *t = threads[i];
		if (!t || t->state != THREAD_BLOCKED)
			continue;
		if (t->deadline_ns && (!earliest || t->deadline_ns < earliest))
			earliest = t->deadline_ns;
		if (t->wait_kind == SCHED_WAIT_IO && (!io || t == current))
			io = t;
	}
	if (timer_deadline && (!earliest || timer_deadline < earliest))
		earliest = timer_deadline;
	if (earliest) {
		uint64_t now = clock_monotonic_ns();
		if (earliest > now)
			clock_sleep_ns(earliest - now);
		sched_poll_timer();
		expire_deadlines(clock_monotonic_ns());
		return;
	}
	if (io) {
		make_runnable(io, -EDEADLK);
		return;
	}
	deadlock();
}

/* Run another thread (or, if the current one is still runnable and alone, go on); `preempted`: count it. */
static void schedule(int preempted)
{
	if (nthreads > 1 || current->state != THREAD_RUNNABLE) {
		sched_poll_timer();
		expire_deadlines(clock_monotonic_ns());
	}
	struct thread *next;
	while (!(next = next_runnable(current)))
		idle();
	if (next == current)
		return;
	if (preempted && preempt_area)
		preempt_area->switches++;
	struct thread *prev = current;
	if (prev->state != THREAD_DEAD) {
		prev->fs_base = rdfsbase();
		prev->gs_base = rdgsbase();
	}
	xstate_save(prev->xstate);
	xstate_restore(next->xstate);
	__asm__ volatile("wrfsbase %0" : : "r"(next->fs_base));
	__asm__ volatile("wrgsbase %0" : : "r"(next->gs_base));
	current = next;
	sched_kstack_top = next->kstack_top;
	sched_switch(&prev->ksp, next->ksp);
	/* Running again (as prev). */
	if (zombie && zombie != current) {
		free_thread(zombie);
		zombie = NULL;
	}
}

void sched_exit_current(void)
{
	struct thread *t = current;
	if (nthreads <= 1)
		kpanic("scheduler: the last thread cannot exit alone");
	t->state = THREAD_DEAD;
	threads[slot_of(t)] = NULL;
	nthreads--;
	publish_contenders();
	struct thread *next = NULL;
	expire_deadlines(clock_monotonic_ns());
	for (;;) {
		for (int i = 0; i < SCHED_MAX_THREADS && !next; i++)
			if (threads[i] && threads[i]->state == THREAD_RUNNABLE)
				next = threads[i];
		if (next)
			break;
		idle();
	}
	if (zombie)
		free_thread(zombie);
	zombie = t;
	xstate_restore(next->xstate);
	__asm__ volatile("wrfsbase %0" : : "r"(next->fs_base));
	__asm__ volatile("wrgsbase %0" : : "r"(next->gs_base));
	current = next;
	sched_kstack_top = next->kstack_top;
	sched_switch(&t->ksp, next->ksp);
	kpanic("scheduler: an exited thread ran again");
}

void sched_exec_reset(void)
{
	for (int i = 0; i < SCHED_MAX_THREADS; i++)
		if (threads[i] && threads[i] != current) {
			free_thread(threads[i]);
			threads[i] = NULL;
		}
	if (zombie) {
		free_thread(zombie);
		zombie = NULL;
	}
	nthreads = 1;
	nforever = 0;
	publish_contenders();
	current->tid = 1;
	current->robust_head = current->robust_len = 0;
	current->clear_child_tid = 0;
}

int sched_wait(int kind, uint64_t chan, uint32_t bits, uint64_t deadline_ns)
{
	struct thread *t = current;
	t->state = THREAD_BLOCKED;
	t->wait_kind = kind;
	t->wait_chan = chan;
	t->wait_bits = bits;
	t->deadline_ns = deadline_ns;
	t->wait_result = 0;
	wait_seqs[slot_of(t)] = ++wait_seq_next;
	if (!deadline_ns) {
		nforever++;
		publish_contenders();
	}
	schedule(0);
	t->deadline_ns = 0;
	t->wait_chan = 0;
	return t->wait_result;
}

/* The oldest waiter on `chan` with a bit of `bits`, or -1. */
static int oldest_waiter(uint64_t chan, uint32_t bits)
{
	int best = -1;
	for (int i = 0; i < SCHED_MAX_THREADS; i++) {
		struct thread *t = threads[i];
		if (t && t->state == THREAD_BLOCKED && t->wait_kind != SCHED_WAIT_SLEEP &&
		    t->wait_kind != SCHED_WAIT_SIGNAL && t->wait_chan == chan && (t->wait_bits & bits) &&
		    (best < 0 || wait_seqs[i] < wait_seqs[best]))
			best = i;
	}
	return best;
}

int sched_wake(uint64_t chan, uint32_t bits, int max)
{
	int n = 0;
	while (n < max) {
		int i = oldest_waiter(chan, bits);
		if (i < 0)
			break;
		make_runnable(threads[i], 0);
		n++;
	}
	return n;
}

int sched_requeue(uint64_t from, uint64_t to, int max)
{
	int n = 0;
	for (int i = 0; i < SCHED_MAX_THREADS && n < max; i++) {
		struct thread *t = threads[i];
		if (t && t->state == THREAD_BLOCKED && t->wait_kind == SCHED_WAIT_FUTEX &&
		    t->wait_chan == from) {
			t->wait_chan = to;
			n++;
		}
	}
	return n;
}

void sched_yield_current(void)
{
	if (nthreads > 1)
		schedule(0);
}

int sched_sleep_until(uint64_t deadline_ns)
{
	while (clock_monotonic_ns() < deadline_ns)
		if (sched_wait(SCHED_WAIT_SLEEP, 0, 0, deadline_ns) == -EINTR)
			return -EINTR;
	return 0;
}

void sched_interrupt(struct thread *t)
{
	if (t->state == THREAD_BLOCKED)
		make_runnable(t, -EINTR);
}

void sched_set_timer(uint64_t deadline_ns, void (*fire)(void))
{
	timer_deadline = deadline_ns;
	timer_fire = fire;
	publish_contenders();
}

uint64_t sched_timer_deadline(void)
{
	return timer_deadline;
}

void sched_poll_timer(void)
{
	if (timer_deadline && clock_monotonic_ns() >= timer_deadline) {
		void (*fire)(void) = timer_fire;
		timer_deadline = 0;
		publish_contenders();
		if (fire)
			fire(); /* may arm the timer again (an interval) */
	}
}

struct thread *sched_thread_at(int i)
{
	return i >= 0 && i < SCHED_MAX_THREADS ? threads[i] : NULL;
}

uint32_t sched_fpu_size(void)
{
	return xstate_size;
}

uint64_t sched_fpu_features(void)
{
	return use_xsave ? xsave_mask : 0;
}

void sched_fpu_save(void *area)
{
	xstate_save(area);
}

void sched_fpu_restore(const void *area)
{
	xstate_restore(area);
}

void sched_fpu_init(void)
{
	/* An area in the initial state: no component in use, the default control words. */
	static uint8_t init_area[576] __attribute__((aligned(64)));
	static const uint16_t fcw = 0x37f;
	static const uint32_t mxcsr = 0x1f80;
	memcpy(init_area, &fcw, 2);
	memcpy(init_area + 24, &mxcsr, 4);
	if (use_xsave)
		__asm__ volatile("xrstor64 (%0)"
				 :
				 : "r"(init_area), "a"((uint32_t)xsave_mask),
				   "d"((uint32_t)(xsave_mask >> 32))
				 : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" : : "r"(init_area) : "memory");
}

void sched_preempt(void)
{
	if (nthreads > 1)
		schedule(1);
}

void sched_preempt_if_pending(void)
{
	if (preempt_area && preempt_area->pending) {
		preempt_area->pending = 0;
		sched_preempt();
	}
}

long sys_sched_yield(void)
{
	sched_yield_current();
	return 0;
}
