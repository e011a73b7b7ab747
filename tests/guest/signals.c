/* Guest test: signal handlers, masks, waits and timers; run natively too, the output must be the same.
 * argv[1] picks a part. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define CHECK_PROGRAM "signals"
#include "check.h"

static void must_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
	if (pthread_create(t, NULL, fn, arg) != 0) {
		fprintf(stderr, "signals: FAILED: pthread_create\n");
		exit(1);
	}
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, ms % 1000 * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) < 0) {
		fprintf(stderr, "signals: FAILED: sigaction %d\n", sig);
		exit(1);
	}
}

static void block(int how, int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	pthread_sigmask(how, &s, NULL);
}

static int is_blocked(int sig)
{
	sigset_t s;
	pthread_sigmask(SIG_BLOCK, NULL, &s);
	return sigismember(&s, sig);
}

/* ---- basic: handlers run with the right siginfo for raise, kill and tgkill ---- */
static volatile sig_atomic_t hits, last_sig, last_code, last_pid_is_me, blocked_inside;

static void record(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	hits++;
	last_sig = sig;
	last_code = si->si_code;
	last_pid_is_me = si->si_pid == getpid();
	blocked_inside = is_blocked(sig);
}

static void part_basic(void)
{
	on(SIGUSR1, record, 0);
	hits = 0;
	raise(SIGUSR1);
	check(hits == 1 && last_sig == SIGUSR1, "basic: raise runs the handler once (%d)", (int)hits);
	check(last_code == SI_TKILL && last_pid_is_me, "basic: raise: si_code SI_TKILL, si_pid ours");
	check(blocked_inside, "basic: the signal is blocked while its handler runs");
	check(!is_blocked(SIGUSR1), "basic: and unblocked again after it");
	kill(getpid(), SIGUSR1);
	check(hits == 2 && last_code == SI_USER && last_pid_is_me,
	      "basic: kill: si_code SI_USER, si_pid ours");
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
	check(hits == 3 && last_code == SI_TKILL, "basic: tgkill to ourselves");
	check(kill(getpid(), 0) == 0, "basic: kill with signal 0 checks only");
}

/* ---- mask: a blocked signal waits in sigpending and runs when unblocked ---- */
static void part_mask(void)
{
	on(SIGUSR1, record, 0);
	hits = 0;
	block(SIG_BLOCK, SIGUSR1);
	raise(SIGUSR1);
	raise(SIGUSR1); /* a standard signal is pending once */
	sigset_t p;
	sigpending(&p);
	check(hits == 0 && sigismember(&p, SIGUSR1), "mask: blocked: pending, no handler yet");
	block(SIG_UNBLOCK, SIGUSR1);
	check(hits == 1, "mask: unblocking runs the handler once (%d)", (int)hits);
	sigpending(&p);
	check(!sigismember(&p, SIGUSR1), "mask: nothing pending after");
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	check(!is_blocked(SIGKILL) && !is_blocked(SIGSTOP), "mask: SIGKILL and SIGSTOP cannot be blocked");
	sigemptyset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
}

/* ---- order: several pending signals, unblocked at once ---- */
static char order[16];
static volatile int norder;

static void note(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (norder < 15)
		order[norder++] = sig == SIGUSR1 ? '1' : sig == SIGUSR2 ? '2' : sig == SIGHUP ? 'H' : '?';
}

static void part_order(void)
{
	on(SIGUSR1, note, 0);
	on(SIGUSR2, note, 0);
	on(SIGHUP, note, 0);
	sigset_t s, old;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGUSR2);
	sigaddset(&s, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &s, &old);
	raise(SIGUSR2);
	raise(SIGHUP);
	raise(SIGUSR1);
	norder = 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	order[norder] = 0;
	printf("order: handlers ran in order %s\n", order);

	/* With sa_mask blocking the others, each handler runs to its end before the next. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = note;
	sa.sa_flags = SA_SIGINFO;
	sa.sa_mask = s;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	pthread_sigmask(SIG_BLOCK, &s, &old);
	raise(SIGUSR2);
	raise(SIGHUP);
	raise(SIGUSR1);
	norder = 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	order[norder] = 0;
	printf("order: with sa_mask, handlers ran in order %s\n", order);
}

/* ---- restart: a blocking read interrupted by a handler, with and without SA_RESTART ---- */
static int rpipe[2];
static atomic_int reader_ready;
static long read_result;
static int read_errno;

static void quiet(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	hits++;
}

static void *reader(void *arg)
{
	(void)arg;
	char c;
	atomic_store(&reader_ready, 1);
	read_result = read(rpipe[0], &c, 1);
	read_errno = errno;
	return NULL;
}

static void interrupted_read(int flags, const char *what)
{
	on(SIGUSR1, quiet, flags);
	if (pipe(rpipe) < 0)
		exit(1);
	atomic_store(&reader_ready, 0);
	hits = 0;
	pthread_t t;
	must_create(&t, reader, NULL);
	while (!atomic_load(&reader_ready))
		nap_ms(1);
	nap_ms(50); /* it blocks in read meanwhile */
	pthread_kill(t, SIGUSR1);
	nap_ms(50);
	if (write(rpipe[1], "x", 1) != 1)
		exit(1);
	pthread_join(t, NULL);
	if (flags & SA_RESTART)
		check(hits == 1 && read_result == 1,
		      "restart: %s: the handler ran, read went on and got 1 byte", what);
	else
		check(hits == 1 && read_result == -1 && read_errno == EINTR,
		      "restart: %s: read fails with EINTR", what);
	close(rpipe[0]);
	close(rpipe[1]);
}

static void part_restart(void)
{
	interrupted_read(0, "no SA_RESTART");
	interrupted_read(SA_RESTART, "SA_RESTART");
}

/* ---- timers: setitimer, alarm, getitimer, nanosleep interrupted ---- */
static volatile sig_atomic_t alarms;

static void on_alarm(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	alarms++;
	last_code = si->si_code;
}

static void part_timers(void)
{
	on(SIGALRM, on_alarm, 0);
	struct itimerval it = {{0, 0}, {0, 50000}};
	setitimer(ITIMER_REAL, &it, NULL);
	struct timespec req = {2, 0}, rem = {0, 0};
	uint64_t t0 = now_ms();
	int r = nanosleep(&req, &rem);
	uint64_t took = now_ms() - t0;
	check(r == -1 && errno == EINTR, "timers: nanosleep interrupted by SIGALRM: EINTR");
	check(alarms == 1 && last_code == SI_KERNEL, "timers: the handler ran once, si_code SI_KERNEL");
	check(took >= 40 && took < 1500, "timers: after about 50 ms (%s)",
	      took >= 40 && took < 1500 ? "yes" : "no");
	check(rem.tv_sec == 1 || (rem.tv_sec == 0 && rem.tv_nsec > 0), "timers: rem holds the time left");

	/* An interval timer: 5 ticks of 10 ms, each ending a sigsuspend. */
	alarms = 0;
	sigset_t none, old;
	sigemptyset(&none);
	block(SIG_BLOCK, SIGALRM);
	struct itimerval iv = {{0, 10000}, {0, 10000}};
	setitimer(ITIMER_REAL, &iv, NULL);
	int suspends = 0;
	while (alarms < 5 && suspends < 50) {
		r = sigsuspend(&none);
		suspends++;
		check(r == -1 && errno == EINTR, "timers: sigsuspend returns EINTR after the handler");
	}
	struct itimerval cur;
	getitimer(ITIMER_REAL, &cur);
	check(cur.it_interval.tv_usec == 10000 && cur.it_interval.tv_sec == 0,
	      "timers: getitimer: the interval");
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, &cur);
	check(alarms == 5 && suspends == 5, "timers: 5 ticks, one per sigsuspend (%d, %d)", (int)alarms,
	      suspends);
	pthread_sigmask(SIG_BLOCK, NULL, &old);
	check(sigismember(&old, SIGALRM), "timers: the mask is back after sigsuspend");
	block(SIG_UNBLOCK, SIGALRM);

	check(alarm(5) == 0, "timers: alarm(5) with none armed returns 0");
	unsigned left = alarm(0);
	check(left == 5, "timers: alarm(0) returns the 5 s left (%u)", left);
	getitimer(ITIMER_REAL, &cur);
	check(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0, "timers: alarm(0) disarmed it");

	/* pause() returns after an alarm's handler. */
	alarms = 0;
	struct itimerval once = {{0, 0}, {0, 20000}};
	setitimer(ITIMER_REAL, &once, NULL);
	r = pause();
	check(r == -1 && errno == EINTR && alarms == 1, "timers: pause returns EINTR after the handler");
}

/* ---- altstack: SA_ONSTACK handlers run on the alternate stack ---- */
static char altstack[64 * 1024];
static volatile int on_alt, ss_onstack_inside, eperm_inside;

static void on_alt_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	char here;
	on_alt = &here >= altstack && &here < altstack + sizeof(altstack);
	stack_t cur;
	sigaltstack(NULL, &cur);
	ss_onstack_inside = (cur.ss_flags & SS_ONSTACK) != 0;
	stack_t n = {.ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0};
	eperm_inside = sigaltstack(&n, NULL) == -1 && errno == EPERM;
}

static void part_altstack(void)
{
	stack_t cur;
	check(sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_DISABLE), "altstack: disabled at first");
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0};
	check(sigaltstack(&ss, NULL) == 0, "altstack: set");
	on(SIGUSR2, on_alt_handler, SA_ONSTACK);
	raise(SIGUSR2);
	check(on_alt, "altstack: the SA_ONSTACK handler ran on the alternate stack");
	check(ss_onstack_inside, "altstack: sigaltstack inside says SS_ONSTACK");
	check(eperm_inside, "altstack: changing it while on it: EPERM");
	on(SIGUSR2, on_alt_handler, 0);
	raise(SIGUSR2);
	check(!on_alt, "altstack: without SA_ONSTACK the handler runs on the normal stack");
	stack_t small = {.ss_sp = altstack, .ss_size = 100, .ss_flags = 0};
	check(sigaltstack(&small, NULL) == -1 && errno == ENOMEM, "altstack: too small: ENOMEM");
	stack_t bad = {.ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 12345};
	check(sigaltstack(&bad, NULL) == -1 && errno == EINVAL, "altstack: bad flags: EINVAL");
	stack_t off = {.ss_flags = SS_DISABLE};
	check(sigaltstack(&off, &cur) == 0 && cur.ss_sp == altstack && cur.ss_size == sizeof(altstack),
	      "altstack: disabled again; the old one reported");
}

/* ---- waits: sigsuspend woken by another thread, sigtimedwait, sigwaitinfo ---- */
static pthread_t main_thread;

static void *send_later(void *arg)
{
	nap_ms(30);
	pthread_kill(main_thread, (int)(intptr_t)arg);
	return NULL;
}

static void part_waits(void)
{
	main_thread = pthread_self();
	on(SIGUSR1, record, 0);
	hits = 0;
	block(SIG_BLOCK, SIGUSR1);
	pthread_t t;
	must_create(&t, send_later, (void *)(intptr_t)SIGUSR1);
	sigset_t none;
	sigemptyset(&none);
	int r = sigsuspend(&none);
	pthread_join(t, NULL);
	check(r == -1 && errno == EINTR && hits == 1, "waits: sigsuspend woken by another thread's signal");
	check(is_blocked(SIGUSR1), "waits: the old mask is back");

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	raise(SIGUSR1);
	siginfo_t si;
	r = sigtimedwait(&set, &si, &(struct timespec){0, 0});
	check(r == SIGUSR1 && si.si_signo == SIGUSR1 && (si.si_code == SI_TKILL || si.si_code == SI_USER) &&
		  hits == 1,
	      "waits: sigtimedwait takes a pending signal, no handler runs");
	uint64_t t0 = now_ms();
	r = sigtimedwait(&set, &si, &(struct timespec){0, 30000000});
	uint64_t took = now_ms() - t0;
	check(r == -1 && errno == EAGAIN && took >= 25, "waits: sigtimedwait times out: EAGAIN");
	must_create(&t, send_later, (void *)(intptr_t)SIGUSR1);
	r = sigwaitinfo(&set, &si);
	pthread_join(t, NULL);
	check(r == SIGUSR1 && hits == 1, "waits: sigwaitinfo woken by another thread's signal");
	check(sigtimedwait(&set, &si, &(struct timespec){0, 1000000000}) == -1 && errno == EINVAL,
	      "waits: sigtimedwait with a bad timespec: EINVAL");
	block(SIG_UNBLOCK, SIGUSR1);
}

/* ---- pipe: SIGPIPE on a write to a pipe with no reader ---- */
static void part_pipe(void)
{
	int p[2];
	if (pipe(p) < 0)
		exit(1);
	close(p[0]);
	on(SIGPIPE, record, 0);
	hits = 0;
	ssize_t n = write(p[1], "x", 1);
	check(n == -1 && errno == EPIPE && hits == 1 && last_sig == SIGPIPE,
	      "pipe: write with no reader: SIGPIPE handler, then EPIPE");
	signal(SIGPIPE, SIG_IGN);
	n = write(p[1], "x", 1);
	check(n == -1 && errno == EPIPE && hits == 1, "pipe: SIGPIPE ignored: only EPIPE");
	close(p[1]);
}

/* ---- async: signals to a thread that never makes a system call ---- */
static atomic_int got_async, spin_stop;
static volatile long async_bad = -1;

static void clobber_fpu(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	__asm__ volatile("pxor %%xmm8, %%xmm8\n\tpxor %%xmm9, %%xmm9\n\tpxor %%xmm15, %%xmm15" ::
			     : "xmm8", "xmm9", "xmm15");
	volatile double d = 1.0;
	for (int i = 0; i < 100; i++)
		d = d * 1.5 + 0.25;
	atomic_fetch_add(&got_async, 1);
}

/* xmm8, xmm9, xmm15, the red zone and some general registers across a spin that handlers interrupt. */
static __thread long spin_seed, spin_bad;
static void *async_spinner(void *arg)
{
	(void)arg;
	spin_seed = 0x1234567;
	spin_bad = 0;
	while (!atomic_load(&spin_stop)) {
		long iters = 20 * 1000 * 1000;
		__asm__ volatile("mov %[seed], %%rax\n\t"
				 "mov %%rax, -8(%%rsp)\n\t"
				 "mov %%rax, -128(%%rsp)\n\t"
				 "movq %%rax, %%xmm8\n\t"
				 "movq %%rax, %%xmm9\n\t"
				 "movq %%rax, %%xmm15\n\t"
				 "mov %%rax, %%r12\n\t"
				 "mov %%rax, %%rbx\n\t"
				 "1: dec %[n]\n\t"
				 "jnz 1b\n\t"
				 "cmp %%rax, -8(%%rsp)\n\tje 2f\n\tincq %[bad]\n\t2:\n\t"
				 "cmp %%rax, -128(%%rsp)\n\tje 3f\n\tincq %[bad]\n\t3:\n\t"
				 "movq %%xmm8, %%rcx\n\tcmp %%rax, %%rcx\n\tje 4f\n\tincq %[bad]\n\t4:\n\t"
				 "movq %%xmm9, %%rcx\n\tcmp %%rax, %%rcx\n\tje 5f\n\tincq %[bad]\n\t5:\n\t"
				 "movq %%xmm15, %%rcx\n\tcmp %%rax, %%rcx\n\tje 6f\n\tincq %[bad]\n\t6:\n\t"
				 "cmp %%rax, %%r12\n\tje 7f\n\tincq %[bad]\n\t7:\n\t"
				 "cmp %%rax, %%rbx\n\tje 8f\n\tincq %[bad]\n\t8:\n\t"
				 : [n] "+d"(iters), [bad] "+m"(spin_bad)
				 : [seed] "m"(spin_seed)
				 : "rax", "rbx", "rcx", "r12", "xmm8", "xmm9", "xmm15", "cc", "memory");
	}
	async_bad = spin_bad;
	return NULL;
}

static void part_async(void)
{
	on(SIGUSR1, clobber_fpu, SA_RESTART);
	pthread_t t;
	must_create(&t, async_spinner, NULL);
	for (int i = 0; i < 10; i++) {
		nap_ms(10);
		pthread_kill(t, SIGUSR1);
	}
	uint64_t t0 = now_ms();
	while (atomic_load(&got_async) < 1 && now_ms() - t0 < 5000)
		nap_ms(5);
	nap_ms(30);
	atomic_store(&spin_stop, 1);
	pthread_join(t, NULL);
	check(atomic_load(&got_async) >= 1, "async: a thread that makes no system call ran its handler");
	check(async_bad == 0, "async: its registers, vector registers and red zone survived (%ld changed)",
	      async_bad);
}

/* ---- flags: SIG_IGN, SA_RESETHAND, SA_NODEFER ---- */
static void part_flags(void)
{
	signal(SIGUSR2, SIG_IGN);
	raise(SIGUSR2);
	check(1, "flags: an ignored signal does nothing");
	block(SIG_BLOCK, SIGUSR2);
	raise(SIGUSR2);
	signal(SIGUSR2, SIG_IGN); /* ignoring discards it while pending */
	sigset_t p;
	sigpending(&p);
	check(!sigismember(&p, SIGUSR2), "flags: setting SIG_IGN discards a pending signal");
	block(SIG_UNBLOCK, SIGUSR2);

	on(SIGUSR1, record, SA_RESETHAND);
	hits = 0;
	raise(SIGUSR1);
	struct sigaction now;
	sigaction(SIGUSR1, NULL, &now);
	check(hits == 1 && now.sa_handler == SIG_DFL, "flags: SA_RESETHAND: once, then back to SIG_DFL");
	on(SIGUSR1, record, SA_NODEFER);
	raise(SIGUSR1);
	check(!blocked_inside, "flags: SA_NODEFER: not blocked inside its handler");
}

/* ---- errors ---- */
static void part_errors(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	check(syscall(SYS_rt_sigaction, 0, &sa, NULL, 8) == -1 && errno == EINVAL,
	      "errors: sigaction(0): EINVAL");
	check(syscall(SYS_rt_sigaction, 65, NULL, NULL, 8) == -1 && errno == EINVAL,
	      "errors: sigaction(65): EINVAL");
	check(sigaction(SIGKILL, &sa, NULL) == -1 && errno == EINVAL, "errors: sigaction(SIGKILL): EINVAL");
	check(sigaction(SIGSTOP, &sa, NULL) == -1 && errno == EINVAL, "errors: sigaction(SIGSTOP): EINVAL");
	check(syscall(SYS_rt_sigaction, SIGUSR1, NULL, NULL, 4) == -1 && errno == EINVAL,
	      "errors: sigaction with sigsetsize 4: EINVAL");
	check(syscall(SYS_rt_sigaction, SIGUSR1, (void *)8, NULL, 8) == -1 && errno == EFAULT,
	      "errors: sigaction with a bad pointer: EFAULT");
	sigset_t s;
	sigemptyset(&s);
	check(syscall(SYS_rt_sigprocmask, 99, &s, NULL, 8) == -1 && errno == EINVAL,
	      "errors: sigprocmask how 99: EINVAL");
	check(syscall(SYS_rt_sigprocmask, SIG_BLOCK, (void *)8, NULL, 8) == -1 && errno == EFAULT,
	      "errors: sigprocmask with a bad pointer: EFAULT");
	check(kill(getpid(), 65) == -1 && errno == EINVAL, "errors: kill with signal 65: EINVAL");
	check(syscall(SYS_tgkill, getpid(), 999999, 0) == -1 && errno == ESRCH,
	      "errors: tgkill of no thread: ESRCH");
	check(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 65) == -1 && errno == EINVAL,
	      "errors: tgkill with signal 65: EINVAL");
	check(syscall(SYS_tkill, -5, 0) == -1 && errno == EINVAL, "errors: tkill of tid -5: EINVAL");
	check(syscall(SYS_rt_sigsuspend, &s, 4) == -1 && errno == EINVAL,
	      "errors: sigsuspend sigsetsize 4: EINVAL");
	check(syscall(SYS_rt_sigtimedwait, (void *)8, NULL, NULL, 8) == -1 && errno == EFAULT,
	      "errors: sigtimedwait with a bad set: EFAULT");
	struct itimerval it;
	check(setitimer(7, NULL, &it) == -1 && errno == EINVAL, "errors: setitimer which 7: EINVAL");
	struct itimerval bad = {{0, 0}, {0, 1000000}};
	check(setitimer(ITIMER_REAL, &bad, NULL) == -1 && errno == EINVAL,
	      "errors: setitimer usec 1000000: EINVAL");
	check(getitimer(7, &it) == -1 && errno == EINVAL, "errors: getitimer which 7: EINVAL");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *part = argc > 1 ? argv[1] : "all";
	int all = strcmp(part, "all") == 0;
	if (all || !strcmp(part, "basic"))
		part_basic();
	if (all || !strcmp(part, "mask"))
		part_mask();
	if (all || !strcmp(part, "order"))
		part_order();
	if (all || !strcmp(part, "restart"))
		part_restart();
	if (all || !strcmp(part, "timers"))
		part_timers();
	if (all || !strcmp(part, "altstack"))
		part_altstack();
	if (all || !strcmp(part, "waits"))
		part_waits();
	if (all || !strcmp(part, "pipe"))
		part_pipe();
	if (all || !strcmp(part, "async"))
		part_async();
	if (all || !strcmp(part, "flags"))
		part_flags();
	if (all || !strcmp(part, "errors"))
		part_errors();
	if (!strcmp(part, "term")) {
		printf("term: SIGTERM with its default action\n");
		raise(SIGTERM);
		printf("term: FAILED: still running\n");
		return 1;
	}
	if (failures)
		return 1;
	printf("signals: all checks passed\n");
	return 0;
}
