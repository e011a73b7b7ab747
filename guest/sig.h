/* Signals: dispositions, masks, sending, delivery to the program's handlers, sigreturn and the interval
 * timer. */
#ifndef GUEST_SIG_H
#define GUEST_SIG_H

#include <stdint.h>

#include "sched.h"

/* Internal results of interrupted system calls; never seen by the program (sig_syscall_exit). */
#define ERESTARTSYS 512	   /* restart after a handler with SA_RESTART, or when none ran; else EINTR */
#define ERESTARTNOHAND 514 /* restart only when no handler ran; else EINTR */

#define SIGPIPE 13

/* si_code values. */
#define SICODE_USER 0
#define SICODE_KERNEL 0x80
#define SICODE_TKILL (-6)

/* For execve: handled signals back to their default (ignored ones stay ignored), no alternate stack. */
void sig_exec_reset(void);

/*
 * Send `sig` to thread `t` (tgkill, SIGPIPE) with si_code `code`: made
 * pending unless ignored; a blocked wait of `t` is interrupted. SIGKILL ends
 * the VM at once.
 */
void sig_send_thread(struct thread *t, int sig, int code);

/* Send `sig` to the process (kill, alarm): any thread that does not block it takes it. */
void sig_send_process(int sig, int code);

/*
 * After every system call of the running thread, with its result: true if
 * the return must go through sig_syscall_exit (a signal to deliver, a
 * restart to decide, a mask to put back, the timer due).
 */
int sig_exit_work(long result);

/*
 * Return from the system call of frame `f` with `result`: restart it or turn
 * an internal restart code into -EINTR, run the handlers of the deliverable
 * signals (a frame for each on the program's stack, as Linux builds them),
 * and enter the program with all its registers (resume_user).
 */
void sig_syscall_exit(struct syscall_frame *f, long result) __attribute__((noreturn));

/* At a preemption, before the program resumes at `r`: deliver what is deliverable (changes `r`). */
void sig_preempt_exit(struct user_regs *r);

/* Leave the kernel with every register from `r` (entry.S). */
void resume_user(const struct user_regs *r) __attribute__((noreturn));

/*
 * For ppoll, pselect6, epoll_pwait and sigsuspend: run the call with `mask`
 * as the thread's mask; the old one comes back when the call returns, or
 * after the handler of a signal it was interrupted by.
 */
void sig_set_temporary_mask(uint64_t mask);

long sys_rt_sigaction(uint64_t sig, uint64_t act, uint64_t oact, uint64_t size);
long sys_rt_sigprocmask(uint64_t how, uint64_t set, uint64_t oset, uint64_t size);
long sys_rt_sigreturn(void);
long sys_rt_sigpending(uint64_t set, uint64_t size);
long sys_rt_sigtimedwait(uint64_t set, uint64_t info, uint64_t timeout, uint64_t size);
long sys_rt_sigsuspend(uint64_t set, uint64_t size);
long sys_pause(void);
long sys_sigaltstack(uint64_t ss, uint64_t oss);
long sys_kill(uint64_t pid, uint64_t sig);
long sys_tgkill(uint64_t tgid, uint64_t tid, uint64_t sig);
long sys_tkill(uint64_t tid, uint64_t sig);
long sys_alarm(uint64_t seconds);
long sys_setitimer(uint64_t which, uint64_t new_value, uint64_t old_value);
long sys_getitimer(uint64_t which, uint64_t cur);

#endif /* GUEST_SIG_H */
