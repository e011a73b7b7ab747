/* Guest test: pthreads on the guest scheduler; run natively too, the output must be the same. argv[1] picks a
 * part. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHECK_PROGRAM "threads"
#include "check.h"

/* <linux/futex.h>, which musl-gcc's headers lack. */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_CMP_REQUEUE_PRIVATE (FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_OP_PRIVATE (FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAIT_BITSET_PRIVATE (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_BITSET_MATCH_ANY 0xffffffffu
#define FUTEX_OP_SET 0
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP(op, oparg, cmp, cmparg)                                                                     \
	(((op & 0xf) << 28) | ((cmp & 0xf) << 24) | ((oparg & 0xfff) << 12) | (cmparg & 0xfff))

static long futex(void *uaddr, int op, uint32_t val, const struct timespec *ts, void *uaddr2, uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void must_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int r = pthread_create(t, NULL, fn, arg);
	if (r) {
		fprintf(stderr, "threads: FAILED: pthread_create: %s\n", strerror(r));
		exit(1);
	}
}

/* ---- mutex: N threads x M increments under one mutex ---- */
#define MUTEX_THREADS 8
#define MUTEX_ROUNDS 20000
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *count_up(void *arg)
{
	for (int i = 0; i < MUTEX_ROUNDS; i++) {
		pthread_mutex_lock(&counter_lock);
		long c = counter;
		if (i % 64 == 0)
			sched_yield(); /* holding the lock: the others must wait on its futex */
		counter = c + 1;
		pthread_mutex_unlock(&counter_lock);
	}
	return arg;
}

static void part_mutex(void)
{
	pthread_t t[MUTEX_THREADS];
	for (long i = 0; i < MUTEX_THREADS; i++)
		must_create(&t[i], count_up, (void *)i);
	int joined = 0;
	for (long i = 0; i < MUTEX_THREADS; i++) {
		void *r;
		joined += pthread_join(t[i], &r) == 0 && r == (void *)i;
	}
	check(joined == MUTEX_THREADS, "mutex: %d threads joined with their values", joined);
	check(counter == (long)MUTEX_THREADS * MUTEX_ROUNDS, "mutex: counter %ld (%d x %d)", counter,
	      MUTEX_THREADS, MUTEX_ROUNDS);
}

/* ---- condvar: producers and consumers over a bounded queue ---- */
#define QCAP 4
#define PRODUCERS 3
#define CONSUMERS 2
#define ITEMS 3000 /* per producer */
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static long queue[QCAP];
static int qhead, qlen, producers_left = PRODUCERS;

static void *produce(void *arg)
{
	long base = (long)arg * 100000;
	for (long i = 1; i <= ITEMS; i++) {
		pthread_mutex_lock(&qlock);
		while (qlen == QCAP)
			pthread_cond_wait(&not_full, &qlock);
		queue[(qhead + qlen++) % QCAP] = base + i;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&qlock);
	}
	pthread_mutex_lock(&qlock);
	producers_left--;
	pthread_cond_broadcast(&not_empty);
	pthread_mutex_unlock(&qlock);
	return NULL;
}

static void *consume(void *arg)
{
	long sum = 0, n = 0;
	for (;;) {
		pthread_mutex_lock(&qlock);
		while (qlen == 0 && producers_left)
			pthread_cond_wait(&not_empty, &qlock);
		if (qlen == 0) {
			pthread_mutex_unlock(&qlock);
			break;
		}
		sum += queue[qhead];
		qhead = (qhead + 1) % QCAP;
		qlen--;
		n++;
		pthread_cond_signal(&not_full);
		pthread_mutex_unlock(&qlock);
	}
	long *res = malloc(2 * sizeof(long));
	res[0] = sum;
	res[1] = n;
	return res;
}

static void part_condvar(void)
{
	pthread_t p[PRODUCERS], c[CONSUMERS];
	for (long i = 0; i < CONSUMERS; i++)
		must_create(&c[i], consume, NULL);
	for (long i = 0; i < PRODUCERS; i++)
		must_create(&p[i], produce, (void *)i);
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(p[i], NULL);
	long sum = 0, n = 0;
	for (int i = 0; i < CONSUMERS; i++) {
		long *res;
		pthread_join(c[i], (void **)&res);
		sum += res[0];
		n += res[1];
		free(res);
	}
	long want = 0;
	for (long pi = 0; pi < PRODUCERS; pi++)
		want += pi * 100000 * ITEMS + (long)ITEMS * (ITEMS + 1) / 2;
	check(n == (long)PRODUCERS * ITEMS && sum == want, "condvar: %ld items consumed, sum %ld", n, sum);
}

/* ---- join values, __thread variables, tids, FPU registers across switches ---- */
static __thread long tls_value = 7;
static __thread char tls_buf[64];
static pid_t tids[4], main_pid;

/* xmm7 and xmm15 hold `seed` across sched_yield syscalls: another thread's values must not leak in. */
static int vector_regs_survive(double seed)
{
	int ok = 1;
	for (int i = 0; i < 50; i++) {
		double a, b;
		__asm__ volatile("movq %2, %%xmm7\n\t"
				 "movq %2, %%xmm15\n\t"
				 "mov $24, %%eax\n\t" /* SYS_sched_yield */
				 "syscall\n\t"
				 "movq %%xmm7, %0\n\t"
				 "movq %%xmm15, %1"
				 : "=r"(a), "=r"(b)
				 : "r"(seed)
				 : "rax", "rcx", "r11", "xmm7", "xmm15", "memory");
		ok &= a == seed && b == seed;
	}
	return ok;
}

static void *tls_worker(void *arg)
{
	long id = (long)arg;
	tids[id] = (pid_t)syscall(SYS_gettid);
	tls_value = id * 100;
	snprintf(tls_buf, sizeof(tls_buf), "thread-%ld", id);
	int vec = vector_regs_survive(1.25 + (double)id);
	for (int i = 0; i < 20; i++)
		sched_yield();
	char want[64];
	snprintf(want, sizeof(want), "thread-%ld", id);
	long ok = tls_value == id * 100 && strcmp(tls_buf, want) == 0 && vec && getpid() == main_pid;
	return (void *)(ok ? id * 11 : -1);
}

static void part_join(void)
{
	pthread_t t[4];
	main_pid = getpid();
	for (long i = 0; i < 4; i++)
		must_create(&t[i], tls_worker, (void *)i);
	int vec = vector_regs_survive(-3.5);
	long got[4];
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(t[i], &r);
		got[i] = (long)r;
	}
	check(got[0] == 0 && got[1] == 11 && got[2] == 22 && got[3] == 33,
	      "join: return values %ld %ld %ld %ld; __thread values stayed per thread", got[0], got[1],
	      got[2], got[3]);
	check(tls_value == 7 && tls_buf[0] == 0, "join: the main thread's __thread values untouched");
	check(vec, "join: xmm registers survive switches to other threads");
	pid_t me = (pid_t)syscall(SYS_gettid);
	int distinct = 1;
	for (int i = 0; i < 4; i++) {
		distinct &= tids[i] != me && tids[i] > 0;
		for (int j = 0; j < i; j++)
			distinct &= tids[i] != tids[j];
	}
	check(distinct, "join: every thread has its own tid, none the main thread's");
	check(me == getpid(), "join: the main thread's tid is the pid");
}

/* ---- sleep: threads wake in the order of their sleep times ---- */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char sleep_log[64];

static void *sleeper(void *arg)
{
	long ms = (long)arg;
	struct timespec ts = {0, ms * 1000000};
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&log_lock);
	char one[16];
	snprintf(one, sizeof(one), "%ld ", ms);
	strcat(sleep_log, one);
	pthread_mutex_unlock(&log_lock);
	return NULL;
}

static void part_sleep(void)
{
	long ms[5] = {200, 50, 150, 100, 250};
	pthread_t t[5];
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	for (int i = 0; i < 5; i++)
		must_create(&t[i], sleeper, (void *)ms[i]);
	for (int i = 0; i < 5; i++)
		pthread_join(t[i], NULL);
	uint64_t took = (now_ns(CLOCK_MONOTONIC) - t0) / 1000000;
	check(1, "sleep: woke in the order %s", sleep_log);
	check(took >= 250 && took < 1000, "sleep: sleeps overlapped (about 250 ms in all)");
}

/* ---- yield: two threads take turns with sched_yield ---- */
#define TURNS 2000
static atomic_int turn;
static int turns_taken[2];

static void *taker(void *arg)
{
	int me = (int)(long)arg;
	for (int i = 0; i < TURNS; i++) {
		for (long spins = 0; atomic_load(&turn) != me; spins++)
			sched_yield();
		turns_taken[me]++;
		atomic_store(&turn, 1 - me);
	}
	return NULL;
}

static void part_yield(void)
{
	pthread_t a, b;
	must_create(&a, taker, (void *)0);
	must_create(&b, taker, (void *)1);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	check(turns_taken[0] == TURNS && turns_taken[1] == TURNS,
	      "yield: %d + %d turns in strict alternation", turns_taken[0], turns_taken[1]);
}

/* ---- pipe: a reader blocked on an empty pipe and in poll is woken by another thread ---- */
static int pfd[2];
static void *pipe_writer(void *arg)
{
	struct timespec ts = {0, 30 * 1000000};
	nanosleep(&ts, NULL);
	write(pfd[1], "late", 4);
	nanosleep(&ts, NULL);
	write(pfd[1], "x", 1);
	nanosleep(&ts, NULL);
	close(pfd[1]);
	return NULL;
}

static void part_pipe(void)
{
	check(pipe(pfd) == 0, "pipe: created");
	pthread_t t;
	must_create(&t, pipe_writer, NULL);
	char buf[8] = {0};
	check(read(pfd[0], buf, sizeof(buf)) == 4 && memcmp(buf, "late", 4) == 0,
	      "pipe: a read of the empty pipe waits for the writer thread");
	struct pollfd_s {
		int fd;
		short events, revents;
	} p = {pfd[0], 1 /* POLLIN */, 0};
	check(syscall(SYS_poll, &p, 1, -1) == 1 && (p.revents & 1),
	      "pipe: poll with no timeout wakes on data");
	check(read(pfd[0], buf, 1) == 1, "pipe: then reads it");
	check(read(pfd[0], buf, 1) == 0, "pipe: end of file once the writer thread closes it");
	pthread_join(t, NULL);
}

/* ---- futex: results and errors as Linux ---- */
static uint32_t fword, fword2;
static atomic_int waiting;

static void *futex_waiter(void *arg)
{
	atomic_fetch_add(&waiting, 1);
	long r = futex(&fword, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	return (void *)r;
}

static void wait_for_waiters(int n)
{
	while (atomic_load(&waiting) < n)
		sched_yield();
	struct timespec ts = {0, 20 * 1000000}; /* natively: let them reach the kernel */
	nanosleep(&ts, NULL);
}

static void part_futex(void)
{
	struct timespec ts = {0, 20 * 1000000};
	fword = 1;
	errno = 0;
	check(futex(&fword, FUTEX_WAIT, 0, NULL, NULL, 0) == -1 && errno == EAGAIN,
	      "futex: EAGAIN when the word differs");
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	errno = 0;
	check(futex(&fword, FUTEX_WAIT_PRIVATE, 1, &ts, NULL, 0) == -1 && errno == ETIMEDOUT &&
		  now_ns(CLOCK_MONOTONIC) - t0 >= 20000000,
	      "futex: ETIMEDOUT after a relative timeout of 20 ms");
	struct timespec abs;
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 20000000;
	if (abs.tv_nsec >= 1000000000)
		abs.tv_sec++, abs.tv_nsec -= 1000000000;
	errno = 0;
	check(futex(&fword, FUTEX_WAIT_BITSET_PRIVATE, 1, &abs, NULL, FUTEX_BITSET_MATCH_ANY) == -1 &&
		  errno == ETIMEDOUT &&
		  now_ns(CLOCK_MONOTONIC) >= (uint64_t)abs.tv_sec * 1000000000ull + (uint64_t)abs.tv_nsec,
	      "futex: WAIT_BITSET: ETIMEDOUT at an absolute CLOCK_MONOTONIC deadline");
	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_nsec += 20000000;
	if (abs.tv_nsec >= 1000000000)
		abs.tv_sec++, abs.tv_nsec -= 1000000000;
	errno = 0;
	check(futex(&fword, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 1, &abs, NULL,
		    FUTEX_BITSET_MATCH_ANY) == -1 &&
		  errno == ETIMEDOUT &&
		  now_ns(CLOCK_REALTIME) >= (uint64_t)abs.tv_sec * 1000000000ull + (uint64_t)abs.tv_nsec,
	      "futex: WAIT_BITSET|CLOCK_REALTIME: ETIMEDOUT at an absolute CLOCK_REALTIME deadline");
	errno = 0;
	check(futex(&fword, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 1, &ts, NULL, 0) == -1 && errno == ENOSYS,
	      "futex: FUTEX_WAIT with FUTEX_CLOCK_REALTIME: ENOSYS");
	errno = 0;
	check(futex(&fword, FUTEX_WAIT_BITSET, 1, NULL, NULL, 0) == -1 && errno == EINVAL,
	      "futex: bitset 0: EINVAL");
	errno = 0;
	check(futex(&fword, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0) == -1 && errno == EINVAL,
	      "futex: wake with bitset 0: EINVAL");
	errno = 0;
	check(futex((char *)&fword + 1, FUTEX_WAIT, 1, NULL, NULL, 0) == -1 && errno == EINVAL,
	      "futex: misaligned word: EINVAL");
	struct timespec bad = {0, 1000000000};
	errno = 0;
	check(futex(&fword, FUTEX_WAIT, 1, &bad, NULL, 0) == -1 && errno == EINVAL,
	      "futex: tv_nsec of 1e9: EINVAL");
	errno = 0;
	check(futex(&fword, 99, 1, NULL, NULL, 0) == -1 && errno == ENOSYS,
	      "futex: unknown operation: ENOSYS");
	errno = 0;
	check(futex((void *)16, FUTEX_WAIT, 0, NULL, NULL, 0) == -1 && errno == EFAULT,
	      "futex: wait on a bad address: EFAULT");
	errno = 0;
	check(futex(&fword, FUTEX_WAIT, 1, (void *)16, NULL, 0) == -1 && errno == EFAULT,
	      "futex: bad timeout pointer: EFAULT");
	check(futex(&fword, FUTEX_WAKE_PRIVATE, 5, NULL, NULL, 0) == 0,
	      "futex: a wake with no waiter wakes 0");
	errno = 0;
	check(futex(&fword, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1, &fword2, 5) == -1 && errno == EAGAIN,
	      "futex: CMP_REQUEUE: EAGAIN when the word is not val3");
	errno = 0;
	check(futex(&fword, FUTEX_CMP_REQUEUE_PRIVATE, -1, (void *)1, &fword2, 1) == -1 && errno == EINVAL,
	      "futex: CMP_REQUEUE of a negative count: EINVAL");

	/* Three waiters: wake one, requeue two to fword2, wake those there. */
	fword = 0;
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		must_create(&t[i], futex_waiter, NULL);
	wait_for_waiters(3);
	long n = futex(&fword, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)2, &fword2, 0);
	check(n == 3, "futex: CMP_REQUEUE woke 1 and moved 2 (returned %ld)", n);
	check(futex(&fword, FUTEX_WAKE_PRIVATE, 5, NULL, NULL, 0) == 0, "futex: none left on the first word");
	n = 0;
	for (int tries = 0; tries < 100 && n < 2; tries++)
		n += futex(&fword2, FUTEX_WAKE_PRIVATE, 5, NULL, NULL, 0);
	check(n == 2, "futex: the two requeued waiters wake on the second word");
	int zero = 1;
	for (int i = 0; i < 3; i++) {
		void *r;
		pthread_join(t[i], &r);
		zero &= (long)r == 0;
	}
	check(zero, "futex: every woken FUTEX_WAIT returned 0");

	/* WAKE_OP: set fword2 to 1, wake the fword waiter, and one of fword2 if its old value was 0. */
	atomic_store(&waiting, 0);
	fword = 0;
	fword2 = 0;
	must_create(&t[0], futex_waiter, NULL);
	wait_for_waiters(1);
	n = futex(&fword, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &fword2,
		  FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0));
	check(n == 1 && fword2 == 1, "futex: WAKE_OP set the second word and woke the waiter");
	pthread_join(t[0], NULL);
}

/* ---- robust mutexes: a thread exits holding one, the next locker gets EOWNERDEAD ---- */
static pthread_mutex_t robust;
static void *die_holding(void *arg)
{
	pthread_mutex_lock(&robust);
	return NULL;
}

static void part_robust(void)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robust, &a);
	pthread_t t;
	must_create(&t, die_holding, NULL);
	pthread_join(t, NULL);
	int r = pthread_mutex_lock(&robust);
	check(r == EOWNERDEAD, "robust: lock after the owner exited: EOWNERDEAD (%d)", r);
	check(pthread_mutex_consistent(&robust) == 0 && pthread_mutex_unlock(&robust) == 0,
	      "robust: made consistent and unlocked");
	check(pthread_mutex_lock(&robust) == 0 && pthread_mutex_unlock(&robust) == 0, "robust: usable again");
}

/* ---- raw clone errors and thread ids ---- */
static void *tid_worker(void *arg)
{
	*(pid_t *)arg = (pid_t)syscall(SYS_gettid);
	struct timespec ts = {0, 50 * 1000000};
	nanosleep(&ts, NULL);
	return NULL;
}

static void part_ids(void)
{
	errno = 0;
	check(syscall(SYS_clone, CLONE_VM | CLONE_THREAD, 0L, 0L, 0L, 0L) == -1 && errno == EINVAL,
	      "ids: clone of CLONE_THREAD without CLONE_SIGHAND: EINVAL");
	errno = 0;
	check(syscall(SYS_clone, CLONE_SIGHAND | CLONE_THREAD, 0L, 0L, 0L, 0L) == -1 && errno == EINVAL,
	      "ids: clone of CLONE_SIGHAND without CLONE_VM: EINVAL");
	char args[32] = {0};
	errno = 0;
	check(syscall(SYS_clone3, args, 32) == -1 && errno == EINVAL,
	      "ids: clone3 with a short struct: EINVAL");
	pid_t tid = 0;
	pthread_t t;
	must_create(&t, tid_worker, &tid);
	while (!__atomic_load_n(&tid, __ATOMIC_SEQ_CST))
		sched_yield();
	check(syscall(SYS_tgkill, getpid(), tid, 0) == 0, "ids: tgkill(pid, other thread, 0)");
	check(syscall(SYS_tkill, tid, 0) == 0, "ids: tkill(other thread, 0)");
	pthread_join(t, NULL);
	errno = 0;
	check(syscall(SYS_tgkill, getpid(), tid, 0) == -1 && errno == ESRCH,
	      "ids: tgkill of an exited thread: ESRCH");
	void *head;
	size_t len;
	check(syscall(SYS_get_robust_list, 0, &head, &len) == 0 && len == 24,
	      "ids: get_robust_list of the calling thread");
	errno = 0;
	check(syscall(SYS_get_robust_list, tid, &head, &len) == -1 && errno == ESRCH,
	      "ids: get_robust_list of an exited thread: ESRCH");
	check(syscall(SYS_set_tid_address, NULL) == getpid(), "ids: set_tid_address returns the tid");
}

/* ---- main thread exits first: the others go on, the program ends with the last ---- */
static void *outlive_main(void *arg)
{
	struct timespec ts = {0, 50 * 1000000};
	nanosleep(&ts, NULL);
	printf("exit: the last thread finished after the main thread exited\n");
	fflush(stdout);
	return NULL;
}

/* ---- snapshot: taken while other threads wait on a condvar and sleep; every clone resumes them all ---- */
static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t snap_cond = PTHREAD_COND_INITIALIZER;
static int snap_go;

static void *snap_waiter(void *arg)
{
	pthread_mutex_lock(&snap_lock);
	while (!snap_go)
		pthread_cond_wait(&snap_cond, &snap_lock);
	pthread_mutex_unlock(&snap_lock);
	return (void *)41;
}

static void *snap_sleeper(void *arg)
{
	long n = 0;
	for (int i = 0; i < 10; i++) {
		struct timespec ts = {0, 10 * 1000000};
		nanosleep(&ts, NULL);
		n++;
	}
	return (void *)n;
}

static void part_snapshot(void)
{
	pthread_t a, b;
	must_create(&a, snap_waiter, NULL);
	must_create(&b, snap_sleeper, NULL);
	for (int i = 0; i < 10; i++)
		sched_yield(); /* both are now blocked in the kernel */
	int fd = open("/dev/mote/snapshot", O_WRONLY);
	ssize_t n = fd < 0 ? -1 : write(fd, "1", 1);
	check(n == 1, "snapshot: taken with 3 threads");
	pthread_mutex_lock(&snap_lock);
	snap_go = 1;
	pthread_cond_signal(&snap_cond);
	pthread_mutex_unlock(&snap_lock);
	void *ra, *rb;
	pthread_join(a, &ra);
	pthread_join(b, &rb);
	check((long)ra == 41 && (long)rb == 10,
	      "snapshot: the waiting and the sleeping thread finished (%ld, %ld)", (long)ra, (long)rb);
}

/* ---- deadlock: two threads wait forever on futexes (natively: a hang) ---- */
static uint32_t never;
static void *wait_forever(void *arg)
{
	for (;;)
		futex(&never, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	return NULL;
}

/* ---- pingpong: futex round trips between two threads, timed (a benchmark, not compared) ---- */
static atomic_uint ball;
static long rounds = 20000;
static void *ponger(void *arg)
{
	for (long i = 0; i < rounds; i++) {
		while (atomic_load(&ball) != 1)
			futex(&ball, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
		atomic_store(&ball, 0);
		futex(&ball, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
	return NULL;
}

static void part_pingpong(void)
{
	pthread_t t;
	must_create(&t, ponger, NULL);
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	for (long i = 0; i < rounds; i++) {
		atomic_store(&ball, 1);
		futex(&ball, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
		while (atomic_load(&ball) != 0)
			futex(&ball, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
	}
	uint64_t ns = now_ns(CLOCK_MONOTONIC) - t0;
	pthread_join(t, NULL);
	printf("pingpong: %ld round trips in %.1f ms: %.2f us per round trip\n", rounds, ns / 1e6,
	       ns / 1e3 / (double)rounds);
}

/* ---- preempt: threads that never make a system call still take turns (the monitor preempts them) ---- */
static atomic_int spin_started, spin_go, spin_done, sleeper_woke;
static double spin_result;

static void *spinner(void *arg)
{
	(void)arg;
	atomic_store(&spin_started, 1);
	while (!atomic_load(&spin_go))
		;
	double x = 1.0;
	for (int i = 0; i < 1000000; i++)
		x = x * 1.0000001 + 0.5 / (i + 1);
	spin_result = x;
	atomic_store(&spin_done, 1);
	return NULL;
}

static void *nap_then_flag(void *arg)
{
	(void)arg;
	struct timespec ts = {0, 20 * 1000 * 1000};
	nanosleep(&ts, NULL);
	atomic_store(&sleeper_woke, 1);
	return NULL;
}

/* Addressed through %fs, never through rsp: the asm below owns the red zone. */
static __thread long rs_seed, rs_bad;

#define SET_REG(reg, k) "mov %[seed], %%" reg "\n\tadd $" #k ", %%" reg "\n\t"
#define CHECK_REG(reg, k)                                                                                    \
	"mov %[seed], %%rax\n\tadd $" #k ", %%rax\n\tcmp %%rax, %%" reg "\n\tje 6" #k                        \
	"f\n\tincq %[bad]\n\t6" #k ":\n\t"
#define CHECK_XMM(xmm, k)                                                                                    \
	"movq %%" xmm ", %%rcx\n\tmov %[seed], %%rax\n\tadd $" #k ", %%rax\n\tcmp %%rax, %%rcx\n\tje 7" #k   \
	"f\n\tincq %[bad]\n\t7" #k ":\n\t"

/*
 * Every general register the loop does not use, the carry flag, the 128-byte
 * red zone below rsp and xmm8-xmm15 hold values made from `seed` across
 * `iters` iterations of a loop that makes no system call: a preemption must
 * give them all back, and another thread's values must not leak in. Returns
 * how many values changed.
 */
static __attribute__((noinline)) long regs_survive(long iters, long seed)
{
	rs_seed = seed;
	rs_bad = 0;
	__asm__ volatile(
	    "xor %%ecx, %%ecx\n\t"
	    "1: mov %[seed], %%rax\n\t"
	    "add %%rcx, %%rax\n\t"
	    "mov %%rax, -128(%%rsp,%%rcx,8)\n\t"
	    "inc %%ecx\n\t"
	    "cmp $16, %%ecx\n\t"
	    "jb 1b\n\t" SET_REG("rbx", 100) SET_REG("rsi", 101) SET_REG("rdi", 102) SET_REG(
		"r8", 103) SET_REG("r9", 104) SET_REG("r10", 105) SET_REG("r11", 106) SET_REG("r12", 107)
		SET_REG("r13", 108) SET_REG("r14", 109) SET_REG(
		    "r15", 110) "movq %%rbx, %%xmm8\n\t"
				"movq %%rsi, %%xmm9\n\t"
				"movq %%rdi, %%xmm10\n\t"
				"movq %%r8, %%xmm11\n\t"
				"movq %%r9, %%xmm12\n\t"
				"movq %%r10, %%xmm13\n\t"
				"movq %%r11, %%xmm14\n\t"
				"movq %%r12, %%xmm15\n\t"
				"stc\n\t"
				"2: dec %[n]\n\t" /* dec leaves the carry flag alone */
				"jnz 2b\n\t"
				"jc 3f\n\t"
				"incq %[bad]\n\t"
				"3: xor %%ecx, %%ecx\n\t"
				"4: mov %[seed], %%rax\n\t"
				"add %%rcx, %%rax\n\t"
				"cmp %%rax, -128(%%rsp,%%rcx,8)\n\t"
				"je 5f\n\t"
				"incq %[bad]\n\t"
				"5: inc %%ecx\n\t"
				"cmp $16, %%ecx\n\t"
				"jb 4b\n\t" CHECK_REG("rbx", 100) CHECK_REG("rsi", 101) CHECK_REG("rdi", 102)
				    CHECK_REG("r8", 103) CHECK_REG("r9", 104) CHECK_REG("r10", 105)
					CHECK_REG("r11", 106) CHECK_REG("r12", 107) CHECK_REG("r13", 108)
					    CHECK_REG("r14", 109) CHECK_REG("r15", 110) CHECK_XMM("xmm8", 100)
						CHECK_XMM("xmm9", 101) CHECK_XMM("xmm10", 102)
						    CHECK_XMM("xmm11", 103) CHECK_XMM("xmm12", 104)
							CHECK_XMM("xmm13", 105) CHECK_XMM("xmm14", 106)
							    CHECK_XMM("xmm15", 107)
	    : [n] "+d"(iters), [bad] "+m"(rs_bad)
	    : [seed] "m"(rs_seed)
	    : "rax", "rbx", "rcx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "xmm8",
	      "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory");
	return rs_bad;
}

/* The upper half of ymm7 (AVX) holds `seed` across `iters` iterations with no system call. */
static __attribute__((noinline, target("avx2"))) int ymm_survives(long iters, long seed)
{
	long upper;
	__asm__ volatile("vmovq %[seed], %%xmm0\n\t"
			 "vpbroadcastq %%xmm0, %%ymm7\n\t"
			 "1: dec %[n]\n\t"
			 "jnz 1b\n\t"
			 "vextracti128 $1, %%ymm7, %%xmm0\n\t"
			 "vpextrq $1, %%xmm0, %[upper]\n\t"
			 "vzeroupper"
			 : [n] "+r"(iters), [upper] "=r"(upper)
			 : [seed] "r"(seed)
			 : "xmm0", "xmm7", "cc");
	return upper == seed;
}

static long preempt_iters = 400 * 1000 * 1000;
static long regs_bad[2];
static int ymm_ok[2];

static void *regs_worker(void *arg)
{
	long id = (long)arg, seed = (id + 1) << 40;
	regs_bad[id] = regs_survive(preempt_iters, seed);
	ymm_ok[id] = __builtin_cpu_supports("avx2") ? ymm_survives(preempt_iters / 2, seed ^ 0x5555) : 1;
	return NULL;
}

static void part_preempt(void)
{
	/* Two threads hand a flag back and forth by spinning on it: each needs the other to run. */
	pthread_t t;
	must_create(&t, spinner, NULL);
	while (!atomic_load(&spin_started))
		;
	atomic_store(&spin_go, 1);
	while (!atomic_load(&spin_done))
		;
	pthread_join(t, NULL);
	printf("preempt: two spinning threads took turns, result %.6f\n", spin_result);

	/* A sleeper wakes at its deadline while the main thread spins waiting for it. */
	must_create(&t, nap_then_flag, NULL);
	while (!atomic_load(&sleeper_woke))
		;
	pthread_join(t, NULL);
	printf("preempt: a sleeping thread woke while another spun\n");

	/* Two threads that only compute, preempted many times: registers, flags, red zone, vectors intact. */
	pthread_t w[2];
	for (long i = 0; i < 2; i++)
		must_create(&w[i], regs_worker, (void *)i);
	for (int i = 0; i < 2; i++)
		pthread_join(w[i], NULL);
	for (int i = 0; i < 2; i++) {
		check(regs_bad[i] == 0,
		      "preempt: thread %d: registers, flags and red zone intact (%ld changed)", i,
		      regs_bad[i]);
		check(ymm_ok[i], "preempt: thread %d: the upper half of ymm7 intact", i);
	}
	printf("preempt: registers, flags, red zone and vector registers survived\n");
}

/* ---- solo: one thread computing alone is never preempted (mote --debug counts 0 preemptions) ---- */
static void part_solo(void)
{
	long bad = regs_survive(preempt_iters, 1l << 44);
	check(bad == 0, "solo: registers, flags and red zone intact (%ld changed)", bad);
	printf("solo: one thread computed alone\n");
}

/* ---- crunch: a CPU-bound loop split over N threads, timed (a benchmark, not compared) ---- */
static long crunch_rounds = 100 * 1000 * 1000;
static uint64_t crunch_sums[64];

static void *cruncher(void *arg)
{
	long id = (long)arg, n = (long)(intptr_t)crunch_sums[id];
	uint64_t x = 88172645463325252ull + (uint64_t)id;
	for (long i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	crunch_sums[id] = x;
	return NULL;
}

static void part_crunch(int nthreads)
{
	if (nthreads < 1 || nthreads > 64) {
		printf("crunch: 1 to 64 threads\n");
		exit(2);
	}
	pthread_t t[64];
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	for (long i = 0; i < nthreads; i++) {
		crunch_sums[i] = (uint64_t)(crunch_rounds / nthreads);
		must_create(&t[i], cruncher, (void *)i);
	}
	uint64_t sum = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		sum += crunch_sums[i];
	}
	uint64_t ns = now_ns(CLOCK_MONOTONIC) - t0;
	printf("crunch: %ld rounds on %d threads in %.2f ms (checksum %016llx)\n", crunch_rounds, nthreads,
	       ns / 1e6, (unsigned long long)sum);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *part = argc > 1 ? argv[1] : "all";
	int all = strcmp(part, "all") == 0;
	if (all || !strcmp(part, "mutex"))
		part_mutex();
	if (all || !strcmp(part, "condvar"))
		part_condvar();
	if (all || !strcmp(part, "join"))
		part_join();
	if (all || !strcmp(part, "sleep"))
		part_sleep();
	if (all || !strcmp(part, "yield"))
		part_yield();
	if (all || !strcmp(part, "pipe"))
		part_pipe();
	if (all || !strcmp(part, "futex"))
		part_futex();
	if (all || !strcmp(part, "robust"))
		part_robust();
	if (all || !strcmp(part, "ids"))
		part_ids();
	if (!strcmp(part, "snapshot"))
		part_snapshot();
	if (!strcmp(part, "pingpong")) {
		if (argc > 2)
			rounds = atol(argv[2]);
		part_pingpong();
	}
	if (!strcmp(part, "preempt"))
		part_preempt();
	if (!strcmp(part, "solo"))
		part_solo();
	if (!strcmp(part, "crunch")) {
		if (argc > 3)
			crunch_rounds = atol(argv[3]);
		part_crunch(argc > 2 ? atoi(argv[2]) : 1);
	}
	if (!strcmp(part, "exit")) {
		pthread_t t;
		must_create(&t, outlive_main, NULL);
		printf("exit: the main thread exits first\n");
		pthread_exit(NULL);
	}
	if (!strcmp(part, "deadlock")) {
		pthread_t t;
		must_create(&t, wait_forever, NULL);
		printf("deadlock: the main thread joins a thread that waits forever\n");
		pthread_join(t, NULL);
	}
	if (failures)
		return 1;
	printf("threads: all checks passed\n");
	return 0;
}
