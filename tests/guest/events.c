/* Guest test: epoll, eventfd and timerfd; run natively too, the output must be the same. argv[1] picks a
 * part. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define CHECK_PROGRAM "events"
#include "check.h"

#define SYS_EPOLL_PWAIT2 441 /* not in every libc's headers */
#define MS 1000000ll

static int64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * MS};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void must_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int r = pthread_create(t, NULL, fn, arg);
	if (r) {
		fprintf(stderr, "events: FAILED: pthread_create: %s\n", strerror(r));
		exit(1);
	}
}

static void must_pipe(int p[2], int flags)
{
	if (pipe2(p, flags) < 0) {
		perror("events: FAILED: pipe2");
		exit(1);
	}
}

/* A call that must fail with `err`. */
static void expect_err(long r, int err, const char *what)
{
	int e = errno;
	check(r == -1 && e == err, "%s fails with %s", what, strerror(err));
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event e = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static uint64_t efd_read(int fd)
{
	uint64_t v = 0;
	return read(fd, &v, 8) == 8 ? v : (uint64_t)-1;
}

static int efd_write(int fd, uint64_t v)
{
	return write(fd, &v, 8) == 8 ? 0 : -1;
}

/* ---- an epoll server loop over pipes and a timerfd ---- */
#define SRV_PIPES 3
#define SRV_MSGS 30 /* in all, round-robin over the pipes */

static int srv_w[SRV_PIPES];

static void *srv_writer(void *arg)
{
	for (int i = 0; i < SRV_MSGS; i++) {
		char msg[8];
		snprintf(msg, sizeof(msg), "m%05d", i);
		if (write(srv_w[i % SRV_PIPES], msg, 8) != 8)
			return (void *)1;
		sleep_ms(3);
	}
	for (int i = 0; i < SRV_PIPES; i++)
		close(srv_w[i]);
	return NULL;
}

static void test_server(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	check(ep >= 0 && tfd >= 0, "server: epoll_create1 and timerfd_create");
	int r[SRV_PIPES], counts[SRV_PIPES] = {0}, next[SRV_PIPES], in_order = 1, hups = 0;
	for (int i = 0; i < SRV_PIPES; i++) {
		int p[2];
		must_pipe(p, O_NONBLOCK);
		r[i] = p[0];
		srv_w[i] = p[1];
		next[i] = i;
		add(ep, r[i], EPOLLIN, (uint64_t)i);
	}
	struct itimerspec its = {{0, 10 * MS}, {0, 10 * MS}};
	check(timerfd_settime(tfd, 0, &its, NULL) == 0, "server: a 10 ms interval timer");
	add(ep, tfd, EPOLLIN, 100);
	pthread_t t;
	must_create(&t, srv_writer, NULL);
	uint64_t ticks = 0;
	int open_pipes = SRV_PIPES, loops = 0, total = 0;
	while (open_pipes > 0 && loops++ < 100000) {
		struct epoll_event ev[8];
		int n = epoll_wait(ep, ev, 8, -1);
		if (n < 0) {
			check(0, "server: epoll_wait");
			break;
		}
		for (int k = 0; k < n; k++) {
			uint64_t d = ev[k].data.u64;
			if (d == 100) {
				uint64_t v;
				if (read(tfd, &v, 8) == 8)
					ticks += v;
				continue;
			}
			char buf[64];
			ssize_t got;
			while ((got = read(r[d], buf, sizeof(buf))) > 0) {
				for (ssize_t off = 0; off + 8 <= got; off += 8) {
					if (atoi(buf + off + 1) != next[d])
						in_order = 0;
					next[d] += SRV_PIPES;
					counts[d]++;
					total++;
				}
			}
			if (got == 0) { /* EOF: the writer closed it, EPOLLHUP came with or after the data */
				if (ev[k].events & EPOLLHUP)
					hups++;
				epoll_ctl(ep, EPOLL_CTL_DEL, r[d], NULL);
				close(r[d]);
				open_pipes--;
			}
		}
	}
	void *ret;
	pthread_join(t, &ret);
	check(ret == NULL, "server: the writer thread wrote every message");
	check(total == SRV_MSGS, "server: %d messages received (%d)", SRV_MSGS, total);
	check(counts[0] == 10 && counts[1] == 10 && counts[2] == 10, "server: 10 per pipe");
	check(in_order, "server: each pipe's messages in order");
	check(hups == SRV_PIPES, "server: EPOLLHUP on every pipe once its write end closed");
	check(ticks >= 3, "server: the interval timer ticked meanwhile");
	close(tfd);
	close(ep);
}

/* ---- eventfd ---- */
static int sem_fd, sem_taken;

static void *sem_consumer(void *arg)
{
	for (int i = 0; i < 20; i++) {
		if (efd_read(sem_fd) != 1)
			return (void *)1;
		sem_taken++;
	}
	return NULL;
}

static int ctr_fd;
static uint64_t ctr_sum;

static void *ctr_consumer(void *arg)
{
	while (ctr_sum < 5050) {
		uint64_t v = efd_read(ctr_fd);
		if (v == (uint64_t)-1 || v == 0)
			return (void *)1;
		ctr_sum += v;
	}
	return NULL;
}

static int full_fd;
static void *full_writer(void *arg)
{
	return (void *)(intptr_t)efd_write(full_fd, 1); /* blocks until the main thread reads */
}

static void test_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK);
	check(fd >= 0, "eventfd: created");
	uint64_t v;
	expect_err(read(fd, &v, 8), EAGAIN, "eventfd: nonblocking read of 0");
	efd_write(fd, 1);
	efd_write(fd, 2);
	efd_write(fd, 3);
	check(efd_read(fd) == 6, "eventfd: counter reads the sum of writes (6) and resets");
	expect_err(read(fd, &v, 8), EAGAIN, "eventfd: read after reset");
	uint32_t small = 1;
	expect_err(read(fd, &small, 4), EINVAL, "eventfd: 4-byte read");
	expect_err(write(fd, &small, 4), EINVAL, "eventfd: 4-byte write");
	v = UINT64_MAX;
	expect_err(write(fd, &v, 8), EINVAL, "eventfd: writing 0xffffffffffffffff");
	check(efd_write(fd, UINT64_MAX - 1) == 0, "eventfd: writing the maximum 0xfffffffffffffffe");
	struct pollfd pf = {fd, POLLIN | POLLOUT, 0};
	check(poll(&pf, 1, 0) == 1 && pf.revents == POLLIN, "eventfd: poll at the maximum: POLLIN only");
	v = 1;
	expect_err(write(fd, &v, 8), EAGAIN, "eventfd: nonblocking write past the maximum");
	check(efd_read(fd) == UINT64_MAX - 1, "eventfd: reads the maximum back");
	pf.revents = 0;
	check(poll(&pf, 1, 0) == 1 && pf.revents == POLLOUT, "eventfd: poll at 0: POLLOUT only");
	close(fd);

	fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
	int ones = 0;
	for (int i = 0; i < 3; i++)
		ones += efd_read(fd) == 1;
	check(ones == 3, "eventfd: semaphore initval 3 reads 1 three times");
	expect_err(read(fd, &v, 8), EAGAIN, "eventfd: semaphore at 0");
	close(fd);

	/* Between threads: the consumer blocks in read until the producer posts. */
	sem_fd = eventfd(0, EFD_SEMAPHORE);
	pthread_t t;
	must_create(&t, sem_consumer, NULL);
	for (int i = 0; i < 10; i++) {
		efd_write(sem_fd, 2);
		sched_yield();
	}
	void *ret;
	pthread_join(t, &ret);
	check(ret == NULL && sem_taken == 20,
	      "eventfd: semaphore: a blocked consumer took 20 posts of 10 writes");
	close(sem_fd);

	ctr_fd = eventfd(0, 0);
	must_create(&t, ctr_consumer, NULL);
	for (int i = 1; i <= 100; i++) {
		efd_write(ctr_fd, (uint64_t)i);
		if (i % 7 == 0)
			sleep_ms(1);
	}
	pthread_join(t, &ret);
	check(ret == NULL && ctr_sum == 5050, "eventfd: counter: a blocked consumer summed 1..100 (5050)");
	close(ctr_fd);

	/* A blocking write past the maximum waits for a read. */
	full_fd = eventfd(0, 0);
	efd_write(full_fd, UINT64_MAX - 1);
	must_create(&t, full_writer, NULL);
	sleep_ms(20);
	check(efd_read(full_fd) == UINT64_MAX - 1, "eventfd: main reads the maximum while a writer waits");
	pthread_join(t, &ret);
	check(ret == NULL && efd_read(full_fd) == 1,
	      "eventfd: the waiting write went through after the read");
	close(full_fd);

	fd = eventfd(0, EFD_CLOEXEC);
	check(fcntl(fd, F_GETFD) == FD_CLOEXEC && !(fcntl(fd, F_GETFL) & O_NONBLOCK),
	      "eventfd: EFD_CLOEXEC sets FD_CLOEXEC, not O_NONBLOCK");
	close(fd);
	expect_err(syscall(SYS_eventfd2, 0, 0x10), EINVAL, "eventfd2: unknown flags");
	fd = (int)syscall(SYS_eventfd, 5);
	check(fd >= 0 && efd_read(fd) == 5, "eventfd (284): initval 5");
	close(fd);
}

/* ---- level- vs edge-triggered, EPOLLONESHOT, EPOLLHUP ---- */
static int wait0(int ep, struct epoll_event *ev)
{
	return epoll_wait(ep, ev, 4, 0);
}

static void test_triggers(void)
{
	int p[2];
	must_pipe(p, O_NONBLOCK);
	int lt = epoll_create1(0), et = epoll_create1(0), os = epoll_create1(0);
	add(lt, p[0], EPOLLIN, 1);
	add(et, p[0], EPOLLIN | EPOLLET, 2);
	add(os, p[0], EPOLLIN | EPOLLONESHOT, 3);
	struct epoll_event ev[4];
	check(wait0(lt, ev) == 0 && wait0(et, ev) == 0, "triggers: nothing ready on an empty pipe");
	write(p[1], "a", 1);
	check(wait0(lt, ev) == 1 && ev[0].events == EPOLLIN && ev[0].data.u64 == 1,
	      "level: EPOLLIN with its data");
	check(wait0(lt, ev) == 1, "level: reported again while unread");
	check(wait0(et, ev) == 1 && ev[0].data.u64 == 2, "edge: reported once");
	check(wait0(et, ev) == 0, "edge: not again without a new write");
	write(p[1], "b", 1);
	check(wait0(et, ev) == 1, "edge: a new write reports again");
	check(wait0(os, ev) == 1 && ev[0].data.u64 == 3, "oneshot: reported once");
	check(wait0(os, ev) == 0, "oneshot: then silent although still readable");
	struct epoll_event e = {.events = EPOLLIN | EPOLLONESHOT, .data.u64 = 4};
	check(epoll_ctl(os, EPOLL_CTL_MOD, p[0], &e) == 0, "oneshot: re-armed with EPOLL_CTL_MOD");
	check(wait0(os, ev) == 1 && ev[0].data.u64 == 4, "oneshot: reported again with the new data");
	check(wait0(os, ev) == 0, "oneshot: and silent again");
	char buf[8];
	read(p[0], buf, sizeof(buf));
	check(wait0(lt, ev) == 0 && wait0(et, ev) == 0, "triggers: drained pipe not ready");
	close(p[1]);
	check(wait0(lt, ev) == 1 && ev[0].events == EPOLLHUP,
	      "hup: EPOLLHUP alone when the write end closes");
	check(wait0(et, ev) == 1 && ev[0].events == EPOLLHUP, "hup: edge-triggered sees it once");
	check(wait0(et, ev) == 0, "hup: edge-triggered not twice");
	close(p[0]);
	check(wait0(lt, ev) == 0, "close: a closed fd leaves the interest list");

	/* The write end: EPOLLOUT, and EPOLLOUT | EPOLLERR once the reader is gone. */
	must_pipe(p, O_NONBLOCK);
	add(lt, p[1], EPOLLOUT, 5);
	check(wait0(lt, ev) == 1 && ev[0].events == EPOLLOUT, "write end: EPOLLOUT");
	close(p[0]);
	check(wait0(lt, ev) == 1 && ev[0].events == (EPOLLOUT | EPOLLERR),
	      "write end: EPOLLERR when no reader");
	close(p[1]);

	/* A dup keeps the file (and its item) alive; the last close removes it. */
	must_pipe(p, O_NONBLOCK);
	int d = dup(p[0]);
	add(lt, p[0], EPOLLIN, 6);
	int old = p[0];
	close(p[0]);
	write(p[1], "c", 1);
	check(wait0(lt, ev) == 1 && ev[0].data.u64 == 6, "close: the item stays while a dup holds the file");
	close(d);
	check(wait0(lt, ev) == 0, "close: the last close removes it");
	int q[2];
	must_pipe(q, O_NONBLOCK);
	check(q[0] == old && add(lt, q[0], EPOLLIN, 7) == 0, "close: the fd number can be added again");
	close(q[0]);
	close(q[1]);
	close(p[1]);

	/* maxevents smaller than the ready count: the others come next. */
	int r[3], w[3];
	for (int i = 0; i < 3; i++) {
		must_pipe(p, O_NONBLOCK);
		r[i] = p[0];
		w[i] = p[1];
		add(et, r[i], EPOLLIN, 10 + i);
		write(w[i], "x", 1);
	}
	int n1 = epoll_wait(et, ev, 2, 0);
	int n2 = epoll_wait(et, ev + 2, 2, 0);
	check(n1 == 2 && n2 >= 1, "maxevents 2 of 3 ready: 2, then more");
	/* An epoll watching an epoll. */
	int outer = epoll_create1(0);
	add(outer, lt, EPOLLIN, 20);
	add(lt, r[0], EPOLLIN, 21);
	check(wait0(outer, ev) == 1 && ev[0].data.u64 == 20,
	      "nested: an epoll with a ready item is readable");
	struct pollfd pf = {lt, POLLIN, 0};
	check(poll(&pf, 1, 0) == 1 && pf.revents == POLLIN, "nested: poll on an epoll fd");
	for (int i = 0; i < 3; i++) {
		close(r[i]);
		close(w[i]);
	}
	close(outer);
	close(lt);
	close(et);
	close(os);
}

/* ---- timerfd ---- */
static int tfd_shared, efd_shared;
static void *timer_reader(void *arg)
{
	uint64_t v;
	if (read(tfd_shared, &v, 8) != 8 || v < 1)
		return (void *)1;
	efd_write(efd_shared, 7);
	return NULL;
}

static void test_timerfd(void)
{
	int t = timerfd_create(CLOCK_MONOTONIC, 0);
	struct itimerspec its = {{0, 10 * MS}, {0, 30 * MS}}, cur;
	int64_t t0 = now_ns(CLOCK_MONOTONIC);
	check(timerfd_settime(t, 0, &its, NULL) == 0, "timerfd: relative 30 ms, interval 10 ms");
	uint64_t v = 0;
	check(read(t, &v, 8) == 8 && v >= 1 && now_ns(CLOCK_MONOTONIC) - t0 >= 30 * MS,
	      "timerfd: a blocking read waits for the first expiry");
	sleep_ms(55);
	check(read(t, &v, 8) == 8 && v >= 4 && v <= 8, "timerfd: the interval's ticks counted while away");
	check(timerfd_gettime(t, &cur) == 0 && cur.it_interval.tv_nsec == 10 * MS &&
		  cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 10 * MS,
	      "timerfd: gettime: interval and time left");
	struct itimerspec off = {{0, 0}, {0, 0}}, old;
	check(timerfd_settime(t, 0, &off, &old) == 0 && old.it_interval.tv_nsec == 10 * MS,
	      "timerfd: disarming returns the old value");
	check(timerfd_gettime(t, &cur) == 0 && cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0,
	      "timerfd: disarmed gettime is 0");
	close(t);

	t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	expect_err(read(t, &v, 8), EAGAIN, "timerfd: nonblocking read, disarmed");
	struct itimerspec later = {{0, 0}, {5, 0}};
	timerfd_settime(t, 0, &later, NULL);
	expect_err(read(t, &v, 8), EAGAIN, "timerfd: nonblocking read before expiry");
	uint32_t small;
	expect_err(read(t, &small, 4), EINVAL, "timerfd: 4-byte read");
	expect_err(write(t, &v, 8), EINVAL, "timerfd: write");
	/* Absolute, in the past with an interval: the missed intervals count. */
	int64_t now = now_ns(CLOCK_MONOTONIC) - 95 * MS;
	struct itimerspec abs = {{0, 10 * MS}, {now / 1000000000, now % 1000000000}};
	timerfd_settime(t, TFD_TIMER_ABSTIME, &abs, NULL);
	check(read(t, &v, 8) == 8 && v >= 9 && v <= 12,
	      "timerfd: absolute time in the past counts missed ticks");
	close(t);

	clockid_t clocks[3] = {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME};
	const char *names[3] = {"CLOCK_MONOTONIC", "CLOCK_REALTIME", "CLOCK_BOOTTIME"};
	for (int i = 0; i < 3; i++) {
		t = timerfd_create(clocks[i], TFD_CLOEXEC);
		int64_t target = now_ns(clocks[i]) + 20 * MS;
		struct itimerspec a = {{0, 0}, {target / 1000000000, target % 1000000000}};
		timerfd_settime(t, TFD_TIMER_ABSTIME, &a, NULL);
		check(read(t, &v, 8) == 8 && v == 1 && now_ns(clocks[i]) >= target,
		      "timerfd: %s absolute expiry, one tick", names[i]);
		check(fcntl(t, F_GETFD) == FD_CLOEXEC, "timerfd: TFD_CLOEXEC");
		close(t);
	}

	/* poll and select on a timerfd with no timeout wake at its expiry. */
	t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct itimerspec s20 = {{0, 0}, {0, 20 * MS}};
	timerfd_settime(t, 0, &s20, NULL);
	struct pollfd pf = {t, POLLIN, 0};
	check(poll(&pf, 1, -1) == 1 && pf.revents == POLLIN, "poll: a timerfd wakes an infinite poll");
	read(t, &v, 8);
	timerfd_settime(t, 0, &s20, NULL);
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(t, &rs);
	check(select(t + 1, &rs, NULL, NULL, NULL) == 1 && FD_ISSET(t, &rs), "select: a timerfd wakes it");
	read(t, &v, 8);
	/* epoll_wait(-1) over a timerfd. */
	int ep = epoll_create(1);
	add(ep, t, EPOLLIN, 9);
	timerfd_settime(t, 0, &s20, NULL);
	struct epoll_event ev[2];
	check(epoll_wait(ep, ev, 2, -1) == 1 && ev[0].data.u64 == 9, "epoll: a timerfd wakes epoll_wait(-1)");
	t0 = now_ns(CLOCK_MONOTONIC);
	read(t, &v, 8);
	check(epoll_wait(ep, ev, 2, 30) == 0 && now_ns(CLOCK_MONOTONIC) - t0 >= 29 * MS,
	      "epoll: a 30 ms timeout with nothing ready returns 0 after it");
	close(ep);
	close(t);

	/* A thread blocked on a timerfd while the main thread blocks on an eventfd. */
	tfd_shared = timerfd_create(CLOCK_MONOTONIC, 0);
	efd_shared = eventfd(0, 0);
	timerfd_settime(tfd_shared, 0, &s20, NULL);
	pthread_t th;
	must_create(&th, timer_reader, NULL);
	check(efd_read(efd_shared) == 7, "timerfd: a thread woken by its timer posts to the main thread");
	void *ret;
	pthread_join(th, &ret);
	check(ret == NULL, "timerfd: the timer thread read its tick");
	close(tfd_shared);
	close(efd_shared);
}

/* ---- errors ---- */
static void test_errors(void)
{
	int ep = epoll_create1(0), p[2], file = open("/proc/self/exe", O_RDONLY),
	    null = open("/dev/null", O_RDWR);
	must_pipe(p, 0);
	struct epoll_event e = {.events = EPOLLIN}, ev[2];
	expect_err(syscall(SYS_epoll_create, 0), EINVAL, "epoll_create(0)");
	expect_err(syscall(SYS_epoll_create, -1), EINVAL, "epoll_create(-1)");
	expect_err(epoll_create1(1), EINVAL, "epoll_create1: unknown flags");
	expect_err(epoll_ctl(999, EPOLL_CTL_ADD, p[0], &e), EBADF, "epoll_ctl: bad epfd");
	expect_err(epoll_ctl(ep, EPOLL_CTL_ADD, 999, &e), EBADF, "epoll_ctl: bad fd");
	expect_err(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &e), EINVAL, "epoll_ctl: epfd == fd");
	expect_err(epoll_ctl(p[1], EPOLL_CTL_ADD, p[0], &e), EINVAL, "epoll_ctl: epfd not an epoll");
	expect_err(epoll_ctl(ep, EPOLL_CTL_ADD, file, &e), EPERM, "epoll_ctl: a regular file");
	expect_err(epoll_ctl(ep, EPOLL_CTL_ADD, null, &e), EPERM, "epoll_ctl: /dev/null");
	expect_err(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], NULL), EFAULT, "epoll_ctl: ADD with a NULL event");
	expect_err(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &e), ENOENT, "epoll_ctl: MOD of an fd not in the set");
	expect_err(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT,
		   "epoll_ctl: DEL of an fd not in the set");
	check(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e) == 0, "epoll_ctl: ADD");
	expect_err(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e), EEXIST, "epoll_ctl: ADD twice");
	expect_err(epoll_ctl(ep, 42, p[0], &e), EINVAL, "epoll_ctl: unknown op");
	struct epoll_event x = {.events = EPOLLIN | EPOLLEXCLUSIVE};
	expect_err(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &x), EINVAL, "epoll_ctl: MOD with EPOLLEXCLUSIVE");
	x.events |= EPOLLONESHOT;
	expect_err(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &x), EINVAL,
		   "epoll_ctl: EPOLLEXCLUSIVE | EPOLLONESHOT");
	expect_err(epoll_wait(ep, ev, 0, 0), EINVAL, "epoll_wait: maxevents 0");
	expect_err(syscall(SYS_epoll_wait, ep, ev, -1, 0), EINVAL, "epoll_wait: maxevents -1");
	expect_err(epoll_wait(999, ev, 2, 0), EBADF, "epoll_wait: bad epfd");
	expect_err(epoll_wait(p[0], ev, 2, 0), EINVAL, "epoll_wait: not an epoll");
	write(p[1], "z", 1);
	expect_err(syscall(SYS_epoll_wait, ep, 8, 2, 0), EFAULT, "epoll_wait: bad events pointer");
	uint64_t mask = 0;
	expect_err(syscall(SYS_epoll_pwait, ep, ev, 2, 0, &mask, 4), EINVAL, "epoll_pwait: sigsetsize 4");
	check(syscall(SYS_epoll_pwait, ep, ev, 2, 0, &mask, 8) == 1, "epoll_pwait: with a mask");
	struct timespec bad = {0, 1000000000}, zero = {0, 0};
	expect_err(syscall(SYS_EPOLL_PWAIT2, ep, ev, 2, &bad, NULL, 8), EINVAL, "epoll_pwait2: bad timespec");
	check(syscall(SYS_EPOLL_PWAIT2, ep, ev, 2, &zero, NULL, 8) == 1,
	      "epoll_pwait2: zero timeout, one ready");
	check(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) == 0, "epoll_ctl: DEL with a NULL event");

	struct itimerspec its = {{0, 0}, {1, 0}}, badits = {{0, 0}, {0, 1000000000}};
	expect_err(timerfd_create(42, 0), EINVAL, "timerfd_create: unknown clock");
	expect_err(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL, "timerfd_create: CPU-time clock");
	expect_err(timerfd_create(CLOCK_MONOTONIC, 0x10), EINVAL, "timerfd_create: unknown flags");
	int t = timerfd_create(CLOCK_MONOTONIC, 0);
	expect_err(timerfd_settime(t, 0x10, &its, NULL), EINVAL, "timerfd_settime: unknown flags");
	expect_err(timerfd_settime(t, 0, &badits, NULL), EINVAL, "timerfd_settime: bad timespec");
	expect_err(timerfd_settime(t, 0, NULL, NULL), EFAULT, "timerfd_settime: NULL value");
	expect_err(timerfd_settime(p[0], 0, &its, NULL), EINVAL, "timerfd_settime: not a timerfd");
	expect_err(timerfd_settime(999, 0, &its, NULL), EBADF, "timerfd_settime: bad fd");
	expect_err(timerfd_gettime(p[0], &its), EINVAL, "timerfd_gettime: not a timerfd");
	expect_err(timerfd_gettime(999, &its), EBADF, "timerfd_gettime: bad fd");
	expect_err(timerfd_gettime(t, NULL), EFAULT, "timerfd_gettime: NULL");
	close(t);
	close(p[0]);
	close(p[1]);
	close(file);
	close(null);
	close(ep);
}

/* ---- idle: a wait with no other thread sleeps in the monitor (the e2e test counts the exits) ---- */
static void test_idle(void)
{
	int p[2], ep = epoll_create1(0);
	must_pipe(p, 0);
	add(ep, p[0], EPOLLIN, 1);
	struct epoll_event ev[1];
	int64_t t0 = now_ns(CLOCK_MONOTONIC);
	int n = epoll_wait(ep, ev, 1, 300);
	check(n == 0 && now_ns(CLOCK_MONOTONIC) - t0 >= 299 * MS, "idle: epoll_wait timed out after 300 ms");
}

int main(int argc, char **argv)
{
	const char *part = argc > 1 ? argv[1] : "all";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(part, "idle")) {
		test_idle();
	} else {
		test_server();
		test_eventfd();
		test_triggers();
		test_timerfd();
		test_errors();
	}
	if (failures)
		return 1;
	printf("events: all checks passed\n");
	return 0;
}
