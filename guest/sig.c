/* Signals: dispositions, masks, sending, delivery to the program's handlers, sigreturn and the interval
 * timer. */
#include "sig.h"

#include <stddef.h>

#include <mote/abi.h>

#include "clock.h"
#include "hypercall.h"
#include "klib.h"
#include "linux.h"
#include "uaccess.h"

#define NSIG 64
#define SIG_DFL 0
#define SIG_IGN 1
#define SIGKILL 9
#define SIGSEGV 11
#define SIGALRM 14
#define SIGCHLD 17
#define SIGCONT 18
#define SIGSTOP 19
#define SIGURG 23
#define SIGWINCH 28

#define BIT(sig) (1ull << ((sig)-1))
#define UNBLOCKABLE (BIT(SIGKILL) | BIT(SIGSTOP))
#define DEFAULT_IGNORED (BIT(SIGCHLD) | BIT(SIGCONT) | BIT(SIGURG) | BIT(SIGWINCH))

#define SA_SIGINFO 0x4u
#define SA_RESTORER 0x04000000u
#define SA_ONSTACK 0x08000000u
#define SA_RESTART 0x10000000u
#define SA_NODEFER 0x40000000u
#define SA_RESETHAND 0x80000000u

#define SS_ONSTACK 1
#define SS_DISABLE 2
#define SS_AUTODISARM (1u << 31)
#define MINSIGSTKSZ 2048

#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2

#define RED_ZONE 128
#define SYSCALL_INSN_LEN 2
/* RFLAGS bits a sigreturn takes from the frame (Linux's FIX_EFLAGS): AC OF DF TF SF ZF AF PF CF RF. */
#define RFLAGS_FROM_FRAME 0x50dd5ull
/* Cleared for a handler: DF, TF, RF, AC. */
#define RFLAGS_HANDLER_CLEAR 0x50500ull
#define USER_CS 0x33 /* what Linux reports in a sigcontext */
#define USER_SS 0x2b

#define UC_FP_XSTATE 1
#define UC_SIGCONTEXT_SS 2
#define UC_STRICT_RESTORE_SS 4
#define FP_XSTATE_MAGIC1 0x46505853u
#define FP_XSTATE_MAGIC2 0x46505845u
#define FX_SW_BYTES 464 /* struct _fpx_sw_bytes in the fxsave area's unused bytes */

struct linux_sigaction {
	uint64_t handler, flags, restorer, mask;
};

/* The kernel's x86-64 signal frame (arch/x86/include/uapi/asm/sigcontext.h, ucontext.h). */
struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate, reserved[8];
};

struct k_stack {
	uint64_t sp;
	int32_t flags, pad;
	uint64_t size;
};

struct k_ucontext {
	uint64_t flags, link;
	struct k_stack stack;
	struct k_sigcontext mc;
	uint64_t sigmask;
};

struct k_siginfo {
	int32_t signo, errno_, code, pad;
	int32_t pid, uid;
	uint8_t rest[104];
};

struct k_rt_sigframe {
	uint64_t pretcode; /* sa_restorer: the handler's return address */
	struct k_ucontext uc;
	struct k_siginfo info;
};

struct fpx_sw_bytes {
	uint32_t magic1, extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size, padding[7];
};

_Static_assert(sizeof(struct k_sigcontext) == 256, "sigcontext");
_Static_assert(sizeof(struct k_ucontext) == 304, "ucontext");
_Static_assert(sizeof(struct k_siginfo) == 128, "siginfo");
_Static_assert(sizeof(struct fpx_sw_bytes) == 48, "fpx_sw_bytes");

static struct linux_sigaction actions[NSIG + 1];
static uint64_t proc_pending; /* sent to the process (kill, alarm) */
static int32_t proc_code[NSIG];

/* ITIMER_REAL runs on the scheduler's timer; ITIMER_VIRTUAL and ITIMER_PROF are kept but never fire. */
static uint64_t real_interval_ns;
static uint64_t cpu_timers[2][2]; /* [which - 1][interval, value] in ns */

static int valid_sig(uint64_t sig)
{
	return sig >= 1 && sig <= NSIG;
}

static int is_ignored(int sig)
{
	uint64_t h = actions[sig].handler;
	return h == SIG_IGN || (h == SIG_DFL && (BIT(sig) & DEFAULT_IGNORED));
}

static void __attribute__((noreturn)) end_by_signal(int sig, const char *why, uint64_t rip, uint64_t rsp)
{
	hypercall_exit(MOTE_EXIT_SIGNAL, sig, why, rip, rsp);
}

/* The frame of the running thread's system call (for a report of where it was). */
static struct syscall_frame *frame_now(void)
{
	return sched_current_frame();
}

void sig_exec_reset(void)
{
	for (int sig = 1; sig <= NSIG; sig++)
		if (actions[sig].handler > SIG_IGN)
			memset(&actions[sig], 0, sizeof(actions[sig]));
	struct thread *t = sched_current();
	t->sig.alt_sp = t->sig.alt_size = 0;
	t->sig.alt_disabled = 1;
	t->sig.alt_autodisarm = 0;
	t->sig.restore_mask = 0;
}

/* Make a thread that could take `bit` notice it: a blocked wait returns -EINTR. */
static void interrupt_for(struct thread *t, uint64_t bit)
{
	if (!(t->sig.mask & bit))
		sched_interrupt(t);
}

void sig_send_thread(struct thread *t, int sig, int code)
{
	uint64_t bit = BIT(sig);
	if (sig == SIGKILL)
		end_by_signal(sig, NULL, frame_now()->rip, frame_now()->rsp);
	if (is_ignored(sig) && !(t->sig.mask & bit))
		return;
	if (t->sig.pending & bit)
		return; /* one of each pending at a time (also real-time signals here) */
	t->sig.pending |= bit;
	t->sig.code[sig - 1] = code;
	t->sig.from[sig - 1] = code == SICODE_KERNEL ? 0 : 1;
	interrupt_for(t, bit);
}

void sig_send_process(int sig, int code)
{
	uint64_t bit = BIT(sig);
	struct thread *cur = sched_current();
	if (sig == SIGKILL)
		end_by_signal(sig, NULL, frame_now()->rip, frame_now()->rsp);
	if (is_ignored(sig) && !(cur->sig.mask & bit))
		return;
	if (proc_pending & bit)
		return;
	proc_pending |= bit;
	proc_code[sig - 1] = code;
	/* The running thread takes it on its way out unless it blocks it; else the first one that does not.
	 */
	if (!(cur->sig.mask & bit)) {
		sched_interrupt(cur);
		return;
	}
	for (int i = 0; i < SCHED_MAX_THREADS; i++) {
		struct thread *t = sched_thread_at(i);
		if (t && !(t->sig.mask & bit)) {
			sched_interrupt(t);
			return;
		}
	}
}

static uint64_t deliverable(const struct thread *t)
{
	return (t->sig.pending | proc_pending) & ~t->sig.mask;
}

/* Take the next signal for `t` (its own first, lowest number first, as Linux); 0 if none. */
static int dequeue(struct thread *t, int32_t *code, int32_t *from)
{
	uint64_t own = t->sig.pending & ~t->sig.mask, shared = proc_pending & ~t->sig.mask;
	if (own) {
		int sig = __builtin_ctzll(own) + 1;
		t->sig.pending &= ~BIT(sig);
		*code = t->sig.code[sig - 1];
		*from = t->sig.from[sig - 1];
		return sig;
	}
	if (shared) {
		int sig = __builtin_ctzll(shared) + 1;
		proc_pending &= ~BIT(sig);
		*code = proc_code[sig - 1];
		*from = *code == SICODE_KERNEL ? 0 : 1;
		return sig;
	}
	return 0;
}

static int on_alt_stack(const struct thread *t, uint64_t sp)
{
	return t->sig.alt_size && sp > t->sig.alt_sp && sp - t->sig.alt_sp <= t->sig.alt_size;
}

static int32_t alt_flags(const struct thread *t, uint64_t sp)
{
	if (t->sig.alt_disabled || !t->sig.alt_size)
		return SS_DISABLE;
	return on_alt_stack(t, sp) ? SS_ONSTACK : 0;
}

/*
 * Build the frame of `sig`'s handler on the program's stack, as Linux does
 * (below the red zone, or at the top of the alternate stack for SA_ONSTACK;
 * the FPU state 64-byte aligned above the frame), and point `r` at the
 * handler. A frame that does not fit in the program's memory ends the VM
 * with SIGSEGV, as Linux's forced SIGSEGV would.
 */
static void setup_frame(struct thread *t, struct user_regs *r, int sig, int32_t code, int32_t from)
{
	struct linux_sigaction *ka = &actions[sig];
	uint64_t old_mask = t->sig.restore_mask ? t->sig.saved_mask : t->sig.mask;
	t->sig.restore_mask = 0;
	if (!(ka->flags & SA_RESTORER) || !ka->restorer)
		end_by_signal(SIGSEGV,
			      "a signal handler was installed without SA_RESTORER (x86-64 needs one)", r->rip,
			      r->rsp);

	uint64_t sp = r->rsp;
	int use_alt = (ka->flags & SA_ONSTACK) && alt_flags(t, sp) == 0;
	sp = use_alt ? t->sig.alt_sp + t->sig.alt_size : sp - RED_ZONE;
	uint32_t fpu_size = sched_fpu_size();
	uint64_t features = sched_fpu_features();
	uint64_t math = fpu_size + (features ? 4 : 0);
	uint64_t fx = (sp - math) & ~63ull;
	uint64_t frame = ((fx - sizeof(struct k_rt_sigframe)) & ~15ull) - 8;
	if (sp < math + sizeof(struct k_rt_sigframe) + 128 || !user_writable(frame, sp - frame))
		end_by_signal(SIGSEGV, "no room on the program's stack for a signal frame", r->rip, r->rsp);

	uint8_t *fxp = (uint8_t *)(uintptr_t)fx;
	memset(fxp + 512, 0, 64); /* XSAVE leaves the header's reserved bytes as they were */
	sched_fpu_save(fxp);
	if (features) {
		struct fpx_sw_bytes sw = {.magic1 = FP_XSTATE_MAGIC1,
					  .extended_size = fpu_size + 4,
					  .xfeatures = features,
					  .xstate_size = fpu_size};
		memcpy(fxp + FX_SW_BYTES, &sw, sizeof(sw));
		uint32_t magic2 = FP_XSTATE_MAGIC2;
		memcpy(fxp + fpu_size, &magic2, 4);
	}

	struct k_rt_sigframe f;
	memset(&f, 0, sizeof(f));
	f.pretcode = ka->restorer;
	f.uc.flags = (features ? UC_FP_XSTATE : 0) | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	f.uc.stack.sp = t->sig.alt_sp;
	f.uc.stack.flags = alt_flags(t, r->rsp);
	f.uc.stack.size = t->sig.alt_size;
	struct k_sigcontext *mc = &f.uc.mc;
	mc->r8 = r->r8, mc->r9 = r->r9, mc->r10 = r->r10, mc->r11 = r->r11;
	mc->r12 = r->r12, mc->r13 = r->r13, mc->r14 = r->r14, mc->r15 = r->r15;
	mc->rdi = r->rdi, mc->rsi = r->rsi, mc->rbp = r->rbp, mc->rbx = r->rbx;
	mc->rdx = r->rdx, mc->rax = r->rax, mc->rcx = r->rcx, mc->rsp = r->rsp;
	mc->rip = r->rip, mc->eflags = r->rflags;
	mc->cs = USER_CS, mc->ss = USER_SS;
	mc->oldmask = old_mask;
	mc->fpstate = fx;
	f.uc.sigmask = old_mask;
	f.info.signo = sig;
	f.info.code = code;
	f.info.pid = from;
	memcpy((void *)(uintptr_t)frame, &f, sizeof(f));

	if (use_alt && t->sig.alt_autodisarm) {
		t->sig.alt_sp = t->sig.alt_size = 0;
		t->sig.alt_disabled = 1;
		t->sig.alt_autodisarm = 0;
	}
	r->rsp = frame;
	r->rip = ka->handler;
	r->rdi = (uint64_t)sig;
	r->rsi = frame + offsetof(struct k_rt_sigframe, info);
	r->rdx = frame + offsetof(struct k_rt_sigframe, uc);
	r->rax = 0;
	r->rflags &= ~RFLAGS_HANDLER_CLEAR;
	t->sig.mask |= ka->mask;
	if (!(ka->flags & SA_NODEFER))
		t->sig.mask |= BIT(sig);
	t->sig.mask &= ~UNBLOCKABLE;
	if (ka->flags & SA_RESETHAND) {
		ka->handler = SIG_DFL;
		ka->flags &= ~SA_SIGINFO;
	}
	sched_fpu_init(); /* the handler starts with a clean FPU, as on Linux */
}

/*
 * Deliver every deliverable signal of the running thread into `r` (each
 * handler's frame on top of the last, so the last one taken runs first, as
 * on Linux). `restart` is the interrupted system call's internal restart code
 * (0: none) and `nr` its number: the first handler decides whether it is
 * restarted or fails with EINTR; with no handler it is restarted.
 */
static void deliver(struct user_regs *r, long restart, uint64_t nr)
{
	struct thread *t = sched_current();
	sched_poll_timer();
	for (int n = 0; n < NSIG; n++) {
		int32_t code, from;
		int sig = dequeue(t, &code, &from);
		if (!sig)
			break;
		struct linux_sigaction *ka = &actions[sig];
		if (ka->handler == SIG_IGN || (ka->handler == SIG_DFL && (BIT(sig) & DEFAULT_IGNORED)))
			continue;
		if (ka->handler == SIG_DFL)
			end_by_signal(sig, NULL, r->rip, r->rsp);
		if (restart) {
			if (restart == -ERESTARTSYS && (ka->flags & SA_RESTART)) {
				r->rip -= SYSCALL_INSN_LEN;
				r->rax = nr;
			} else {
				r->rax = (uint64_t)-EINTR;
			}
			restart = 0;
		}
		setup_frame(t, r, sig, code, from);
	}
	if (restart) {
		r->rip -= SYSCALL_INSN_LEN;
		r->rax = nr;
	}
	if (t->sig.restore_mask) { /* no handler ran: the temporary mask ends with the call */
		t->sig.mask = t->sig.saved_mask;
		t->sig.restore_mask = 0;
	}
}

int sig_exit_work(long result)
{
	struct thread *t = sched_current();
	if (result == -ERESTARTSYS || result == -ERESTARTNOHAND || t->sig.restore_mask || deliverable(t))
		return 1;
	uint64_t due = sched_timer_deadline();
	return due && clock_monotonic_ns() >= due;
}

void sig_syscall_exit(struct syscall_frame *f, long result)
{
	struct user_regs u = {
	    .r15 = f->r15,
	    .r14 = f->r14,
	    .r13 = f->r13,
	    .r12 = f->r12,
	    .r11 = f->rflags,
	    .r10 = f->r10,
	    .r9 = f->r9,
	    .r8 = f->r8,
	    .rbp = f->rbp,
	    .rdi = f->rdi,
	    .rsi = f->rsi,
	    .rdx = f->rdx,
	    .rcx = f->rip,
	    .rbx = f->rbx,
	    .rax = (uint64_t)result,
	    .rflags = f->rflags,
	    .rip = f->rip,
	    .rsp = f->rsp,
	};
	long restart = result == -ERESTARTSYS || result == -ERESTARTNOHAND ? result : 0;
	deliver(&u, restart, f->nr);
	resume_user(&u);
}

void sig_preempt_exit(struct user_regs *r)
{
	struct thread *t = sched_current();
	uint64_t due = sched_timer_deadline();
	if (deliverable(t) || (due && clock_monotonic_ns() >= due))
		deliver(r, 0, 0);
}

void sig_set_temporary_mask(uint64_t mask)
{
	struct thread *t = sched_current();
	if (!t->sig.restore_mask) {
		t->sig.saved_mask = t->sig.mask;
		t->sig.restore_mask = 1;
	}
	t->sig.mask = mask & ~UNBLOCKABLE;
}

/* ---- system calls ------------------------------------------------------------------------------ */

long sys_rt_sigaction(uint64_t sig, uint64_t act, uint64_t oact, uint64_t size)
{
	if (!valid_sig(sig) || size != 8)
		return -EINVAL;
	struct linux_sigaction na;
	if (act && user_copy_from(&na, act, sizeof(na)) < 0)
		return -EFAULT;
	if (act && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	if (oact && user_copy_to(oact, &actions[sig], sizeof(na)) < 0)
		return -EFAULT;
	if (act) {
		actions[sig] = na;
		/* POSIX: ignoring a signal discards it where it is pending. */
		if (is_ignored((int)sig)) {
			proc_pending &= ~BIT(sig);
			for (int i = 0; i < SCHED_MAX_THREADS; i++) {
				struct thread *t = sched_thread_at(i);
				if (t)
					t->sig.pending &= ~BIT(sig);
			}
		}
	}
	return 0;
}

long sys_rt_sigprocmask(uint64_t how, uint64_t set, uint64_t oset, uint64_t size)
{
	if (size != 8)
		return -EINVAL;
	struct thread *t = sched_current();
	uint64_t old = t->sig.mask, s;
	if (set) {
		if (user_copy_from(&s, set, 8) < 0)
			return -EFAULT;
		switch (how) {
		case SIG_BLOCK: t->sig.mask |= s; break;
		case SIG_UNBLOCK: t->sig.mask &= ~s; break;
		case SIG_SETMASK: t->sig.mask = s; break;
		default: return -EINVAL;
		}
		t->sig.mask &= ~UNBLOCKABLE;
	}
	if (oset && user_copy_to(oset, &old, 8) < 0)
		return -EFAULT;
	return 0;
}

/* Copy the FPU state a signal frame holds at `fx` into the live registers; -1 if it is malformed. */
static int restore_fpu(uint64_t fx)
{
	if (!fx) {
		sched_fpu_init();
		return 0;
	}
	uint32_t size = sched_fpu_size();
	uint64_t features = sched_fpu_features();
	static uint8_t area[8192] __attribute__((aligned(64)));
	if ((fx & 63) || size > sizeof(area) || user_copy_from(area, fx, size) < 0)
		return -1;
	uint32_t mxcsr;
	memcpy(&mxcsr, area + 24, 4);
	if (mxcsr & 0xffff0000u)
		return -1; /* reserved bits: FXRSTOR/XRSTOR would fault */
	if (features) {
		struct fpx_sw_bytes sw;
		uint32_t magic2;
		uint64_t header[8];
		memcpy(&sw, area + FX_SW_BYTES, sizeof(sw));
		memcpy(header, area + 512, sizeof(header));
		if (sw.magic1 != FP_XSTATE_MAGIC1 || sw.xstate_size != size ||
		    user_copy_from(&magic2, fx + size, 4) < 0 || magic2 != FP_XSTATE_MAGIC2)
			return -1;
		if (header[0] & ~features)
			return -1; /* XSTATE_BV names a component not enabled */
		for (int i = 1; i < 8; i++)
			if (header[i])
				return -1; /* XCOMP_BV and reserved bytes must be zero */
	}
	sched_fpu_restore(area);
	return 0;
}

long sys_rt_sigreturn(void)
{
	struct thread *t = sched_current();
	struct syscall_frame *f = sched_current_frame();
	struct k_ucontext uc;
	/* The handler's `ret` popped pretcode: the ucontext is at its rsp. */
	if (user_copy_from(&uc, f->rsp, sizeof(uc)) < 0 || restore_fpu(uc.mc.fpstate) < 0)
		end_by_signal(SIGSEGV, "rt_sigreturn: bad signal frame", f->rip, f->rsp);
	const struct k_sigcontext *mc = &uc.mc;
	struct user_regs u = {
	    .r15 = mc->r15,
	    .r14 = mc->r14,
	    .r13 = mc->r13,
	    .r12 = mc->r12,
	    .r11 = mc->r11,
	    .r10 = mc->r10,
	    .r9 = mc->r9,
	    .r8 = mc->r8,
	    .rbp = mc->rbp,
	    .rdi = mc->rdi,
	    .rsi = mc->rsi,
	    .rdx = mc->rdx,
	    .rcx = mc->rcx,
	    .rbx = mc->rbx,
	    .rax = mc->rax,
	    .rip = mc->rip,
	    .rsp = mc->rsp,
	    .rflags = (f->rflags & ~RFLAGS_FROM_FRAME) | (mc->eflags & RFLAGS_FROM_FRAME),
	};
	t->sig.mask = uc.sigmask & ~UNBLOCKABLE;
	t->sig.restore_mask = 0;
	/* The alternate stack as the frame says, unless the thread is still running on it. */
	if (!on_alt_stack(t, f->rsp)) {
		if (uc.stack.flags & SS_DISABLE) {
			t->sig.alt_sp = t->sig.alt_size = 0;
			t->sig.alt_disabled = 1;
			t->sig.alt_autodisarm = 0;
		} else if (uc.stack.size >= MINSIGSTKSZ) {
			t->sig.alt_sp = uc.stack.sp;
			t->sig.alt_size = uc.stack.size;
			t->sig.alt_disabled = 0;
			t->sig.alt_autodisarm = (uc.stack.flags & (int32_t)SS_AUTODISARM) != 0;
		}
	}
	deliver(&u, 0, 0); /* what the restored mask no longer blocks */
	resume_user(&u);
}

long sys_rt_sigpending(uint64_t set, uint64_t size)
{
	if (size > 8)
		return -EINVAL;
	struct thread *t = sched_current();
	uint64_t p = (t->sig.pending | proc_pending) & t->sig.mask;
	return user_copy_to(set, &p, size) < 0 ? -EFAULT : 0;
}

/*
 * Sleep until the current thread has a signal it may take (under its mask
 * now), then return -ERESTARTNOHAND: the handler runs and the syscall
 * (pause, sigsuspend) returns EINTR.
 */
static long wait_for_deliverable_signal(void)
{
	struct thread *t = sched_current();
	while (!deliverable(t))
		sched_wait(SCHED_WAIT_SIGNAL, 0, 0, 0);
	return -ERESTARTNOHAND;
}

long sys_rt_sigsuspend(uint64_t set, uint64_t size)
{
	uint64_t mask;
	if (size != 8)
		return -EINVAL;
	if (user_copy_from(&mask, set, 8) < 0)
		return -EFAULT;
	sig_set_temporary_mask(mask);
	return wait_for_deliverable_signal();
}

long sys_pause(void)
{
	return wait_for_deliverable_signal();
}

long sys_rt_sigtimedwait(uint64_t set, uint64_t info, uint64_t timeout, uint64_t size)
{
	uint64_t want;
	if (size != 8)
		return -EINVAL;
	if (user_copy_from(&want, set, 8) < 0)
		return -EFAULT;
	want &= ~UNBLOCKABLE;
	uint64_t deadline = 0;
	if (timeout) {
		struct linux_timespec ts;
		long err = user_get_timespec(&ts, timeout);
		if (err < 0)
			return err;
		uint64_t ns = (uint64_t)ts.tv_sec > 100ull * 365 * 86400
				  ? 100ull * 365 * 86400 * 1000000000ull
				  : (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		deadline = clock_monotonic_ns() + ns;
	}
	struct thread *t = sched_current();
	/* While it waits, the thread does not block what it waits for: a send of one interrupts the wait. */
	uint64_t real_mask = t->sig.mask;
	int r = 0;
	for (;;) {
		t->sig.mask = real_mask;
		uint64_t ready = (t->sig.pending | proc_pending) & want;
		if (ready) {
			t->sig.mask = ~want; /* dequeue only what was asked for */
			int32_t code = 0, from = 0;
			int sig = dequeue(t, &code, &from);
			t->sig.mask = real_mask;
			if (info) {
				struct k_siginfo si;
				memset(&si, 0, sizeof(si));
				si.signo = sig;
				si.code = code;
				si.pid = from;
				if (user_copy_to(info, &si, sizeof(si)) < 0)
					return -EFAULT;
			}
			return sig;
		}
		if (r == -ETIMEDOUT || (timeout && deadline <= clock_monotonic_ns()))
			return -EAGAIN;
		if (r == -EINTR && deliverable(t))
			return -EINTR; /* another signal, whose handler runs */
		t->sig.mask = real_mask & ~want;
		r = sched_wait(SCHED_WAIT_SIGNAL, 0, 0, deadline);
	}
}

long sys_sigaltstack(uint64_t ss, uint64_t oss)
{
	struct thread *t = sched_current();
	uint64_t sp = sched_current_frame()->rsp;
	struct k_stack old = {.sp = t->sig.alt_sp, .flags = alt_flags(t, sp), .size = t->sig.alt_size};
	if (t->sig.alt_autodisarm)
		old.flags |= (int32_t)SS_AUTODISARM;
	if (ss) {
		struct k_stack n;
		if (user_copy_from(&n, ss, sizeof(n)) < 0)
			return -EFAULT;
		if (on_alt_stack(t, sp))
			return -EPERM;
		uint32_t mode = (uint32_t)n.flags & ~SS_AUTODISARM;
		if (mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK)
			return -EINVAL;
		if (mode == SS_DISABLE) {
			t->sig.alt_sp = t->sig.alt_size = 0;
			t->sig.alt_disabled = 1;
			t->sig.alt_autodisarm = 0;
		} else {
			if (n.size < MINSIGSTKSZ)
				return -ENOMEM;
			t->sig.alt_sp = n.sp;
			t->sig.alt_size = n.size;
			t->sig.alt_disabled = 0;
			t->sig.alt_autodisarm = ((uint32_t)n.flags & SS_AUTODISARM) != 0;
		}
	}
	if (oss && user_copy_to(oss, &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

long sys_kill(uint64_t pid, uint64_t sig)
{
	int32_t p = (int32_t)pid; /* pid_t */
	if (sig > NSIG)
		return -EINVAL;
	if (p != 0 && p != 1 && p != -1)
		return -ESRCH; /* the guest runs one process, pid 1 */
	if (sig)
		sig_send_process((int)sig, SICODE_USER);
	return 0;
}

long sys_tgkill(uint64_t tgid, uint64_t tid, uint64_t sig)
{
	if ((int32_t)tgid <= 0 || (int32_t)tid <= 0 || sig > NSIG)
		return -EINVAL;
	struct thread *t = (int32_t)tgid == 1 ? sched_find((int32_t)tid) : NULL;
	if (!t)
		return -ESRCH;
	if (sig)
		sig_send_thread(t, (int)sig, SICODE_TKILL);
	return 0;
}

long sys_tkill(uint64_t tid, uint64_t sig)
{
	if ((int32_t)tid <= 0 || sig > NSIG)
		return -EINVAL;
	struct thread *t = sched_find((int32_t)tid);
	if (!t)
		return -ESRCH;
	if (sig)
		sig_send_thread(t, (int)sig, SICODE_TKILL);
	return 0;
}

/* ---- ITIMER_REAL and alarm ------------------------------------------------------------------------ */

#define ITIMER_REAL 0
#define ITIMER_VIRTUAL 1
#define ITIMER_PROF 2

struct linux_itimerval {
	struct {
		int64_t sec, usec;
	} interval, value;
};

static void real_fire(void)
{
	if (real_interval_ns)
		sched_set_timer(clock_monotonic_ns() + real_interval_ns, real_fire);
	sig_send_process(SIGALRM, SICODE_KERNEL);
}

/* ns left on ITIMER_REAL (0: disarmed). */
static uint64_t real_left(void)
{
	uint64_t d = sched_timer_deadline(), now = clock_monotonic_ns();
	return !d ? 0 : d > now ? d - now : 1;
}

static void real_arm(uint64_t value_ns, uint64_t interval_ns)
{
	real_interval_ns = value_ns ? interval_ns : 0;
	sched_set_timer(value_ns ? clock_monotonic_ns() + value_ns : 0, value_ns ? real_fire : NULL);
}

long sys_alarm(uint64_t seconds)
{
	uint64_t left = real_left();
	uint64_t secs = left / 1000000000ull;
	if ((left && !secs) || left % 1000000000ull >= 500000000ull)
		secs++;
	uint64_t s = (uint32_t)seconds;
	real_arm(s * 1000000000ull, 0);
	return (long)secs;
}

static void to_timeval(uint64_t ns, int64_t *sec, int64_t *usec)
{
	*sec = (int64_t)(ns / 1000000000ull);
	*usec = (int64_t)(ns % 1000000000ull / 1000);
	if (ns && !*sec && !*usec)
		*usec = 1;
}

static long get_itimer(uint64_t which, struct linux_itimerval *v)
{
	uint64_t interval, value;
	if (which == ITIMER_REAL) {
		interval = real_interval_ns;
		value = real_left();
	} else if (which == ITIMER_VIRTUAL || which == ITIMER_PROF) {
		interval = cpu_timers[which - 1][0];
		value = cpu_timers[which - 1][1];
	} else {
		return -EINVAL;
	}
	to_timeval(interval, &v->interval.sec, &v->interval.usec);
	to_timeval(value, &v->value.sec, &v->value.usec);
	return 0;
}

long sys_getitimer(uint64_t which, uint64_t cur)
{
	struct linux_itimerval v;
	long r = get_itimer(which, &v);
	if (r < 0)
		return r;
	return user_copy_to(cur, &v, sizeof(v)) < 0 ? -EFAULT : 0;
}

long sys_setitimer(uint64_t which, uint64_t new_value, uint64_t old_value)
{
	struct linux_itimerval n, old;
	long r = get_itimer(which, &old);
	if (r < 0)
		return r;
	if (new_value) {
		if (user_copy_from(&n, new_value, sizeof(n)) < 0)
			return -EFAULT;
		if (n.value.sec < 0 || n.value.usec < 0 || n.value.usec > 999999 || n.interval.sec < 0 ||
		    n.interval.usec < 0 || n.interval.usec > 999999)
			return -EINVAL;
		uint64_t cap = 100ull * 365 * 86400;
		uint64_t value =
		    (uint64_t)MIN((uint64_t)n.value.sec, cap) * 1000000000ull + (uint64_t)n.value.usec * 1000;
		uint64_t interval = (uint64_t)MIN((uint64_t)n.interval.sec, cap) * 1000000000ull +
				    (uint64_t)n.interval.usec * 1000;
		if (which == ITIMER_REAL) {
			real_arm(value, interval);
		} else {
			cpu_timers[which - 1][0] = value ? interval : 0;
			cpu_timers[which - 1][1] = value;
		}
	}
	if (old_value && user_copy_to(old_value, &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}
