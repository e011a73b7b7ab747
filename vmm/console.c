/* The guest's console: its output rings drained to the host's stdout and stderr, and the host's stdio
 * described. */
#include "console.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "preempt.h"
#include "status.h"

/* Held by the vCPU thread whenever it is outside KVM_RUN, by the drain thread while it drains. */
static pthread_mutex_t console_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t background_drains;

void console_describe_stdio(const struct guest_config *cfg, struct mote_stdio stdio[3])
{
	const int fds[3] = {STDIN_FILENO, cfg->stdout_fd, cfg->stderr_fd};
	for (int i = 0; i < 3; i++) {
		int fd = fds[i];
		struct mote_stdio *s = &stdio[i];
		struct stat st;
		memset(s, 0, sizeof(*s));
		if (fstat(fd, &st) < 0)
			continue;
		s->mode = (uint32_t)st.st_mode;
		if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
			s->rdev = (uint64_t)st.st_rdev;
		if (isatty(fd)) {
			s->flags |= MOTE_STDIO_TERMINAL;
			struct winsize ws;
			if (ioctl(fd, TIOCGWINSZ, &ws) == 0) {
				s->rows = ws.ws_row;
				s->cols = ws.ws_col;
				s->xpixel = ws.ws_xpixel;
				s->ypixel = ws.ws_ypixel;
			}
		}
	}
}

/* Write all of p[len] to fd; the byte count or -errno. */
static int64_t write_all(int fd, const uint8_t *p, uint64_t len)
{
	uint64_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -(int64_t)(n < 0 && errno ? errno : EIO);
		done += (uint64_t)n;
	}
	return (int64_t)done;
}

static int stream_fd(const struct guest *g, unsigned stream)
{
	return stream == MOTE_CONSOLE_STDERR ? g->cfg->stderr_fd : g->cfg->stdout_fd;
}

/* Record the first failure of a stream in its ring (the guest fails later writes with it). */
static void ring_fail(struct mote_console_ring *r, int64_t err)
{
	if (!__atomic_load_n(&r->error, __ATOMIC_RELAXED))
		__atomic_store_n(&r->error, -err, __ATOMIC_RELEASE);
}

/*
 * Send bytes [tail, head) of the stream's ring. The guest may change the
 * ring's fields at any time (the vCPU may be running): each is read once,
 * and only checked copies are used. Returns 0, or -errno of the host write
 * (the stream's recorded error, if it failed before).
 */
static int64_t drain_ring(struct guest *g, unsigned stream)
{
	if (!g->boot_info)
		return 0;
	struct mote_console_ring *r = &g->boot_info->console[stream - MOTE_CONSOLE_STDOUT];
	uint64_t data = __atomic_load_n(&r->data, __ATOMIC_ACQUIRE);
	uint64_t size = __atomic_load_n(&r->size, __ATOMIC_RELAXED);
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
	int64_t failed = __atomic_load_n(&r->error, __ATOMIC_RELAXED);
	if (!data || head == tail)
		return failed ? -failed : 0;
	const uint8_t *ring = size && size <= CONSOLE_RING_MAX ? vm_guest_ptr(&g->vm, data, size, 0) : NULL;
	int64_t ret = failed ? -failed : 0;
	if (!ring || head - tail > size) {
		/* A guest mistake: the bytes are dropped and the stream fails from now on. */
		ret = -MOTE_EINVAL;
		ring_fail(r, ret);
	} else if (!failed) {
		uint64_t at = tail % size, n = head - tail, first = n < size - at ? n : size - at;
		ret = write_all(stream_fd(g, stream), ring + at, first);
		if (ret >= 0 && n > first)
			ret = write_all(stream_fd(g, stream), ring, n - first);
		if (ret < 0)
			ring_fail(r, ret);
		else
			ret = 0;
	}
	__atomic_store_n(&r->tail, head, __ATOMIC_RELEASE);
	return ret;
}

void console_drain(struct guest *g)
{
	drain_ring(g, MOTE_CONSOLE_STDOUT);
	drain_ring(g, MOTE_CONSOLE_STDERR);
}

int64_t console_write(struct guest *g, unsigned stream, const uint8_t *data, uint64_t len)
{
	int64_t r = drain_ring(g, stream);
	if (r < 0 || len == 0)
		return r < 0 ? r : 0;
	r = write_all(stream_fd(g, stream), data, len);
	if (r < 0 && g->boot_info)
		ring_fail(&g->boot_info->console[stream - MOTE_CONSOLE_STDOUT], r);
	return r;
}

static int rings_hold_bytes(struct guest *g)
{
	for (int i = 0; i < 2 && g->boot_info; i++) {
		const struct mote_console_ring *r = &g->boot_info->console[i];
		if (__atomic_load_n(&r->head, __ATOMIC_RELAXED) !=
		    __atomic_load_n(&r->tail, __ATOMIC_RELAXED))
			return 1;
	}
	return 0;
}

static void *drain_thread(void *arg)
{
	struct guest *g = arg;
	for (;;) {
		struct timespec ts = {.tv_sec = 0, .tv_nsec = CONSOLE_DRAIN_PERIOD_NS};
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&console_lock);
		if (rings_hold_bytes(g)) {
			background_drains++;
			console_drain(g);
		}
		preempt_tick(g); /* the vCPU is in KVM_RUN while this thread holds the lock */
		pthread_mutex_unlock(&console_lock);
	}
	return NULL;
}

int console_start(struct guest *g, struct mote_err *err)
{
	pthread_mutex_lock(&console_lock);
	sigset_t all, old;
	sigfillset(&all);
	sigdelset(&all, SIGSYS); /* the seccomp report (vmm/seccomp_filter.c) must reach its handler */
	pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread inherits it: signals go to the vCPU thread */
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_t t;
	int r = pthread_create(&t, &attr, drain_thread, g);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return mote_errnof(err, MOTE_STATUS_HOST, r, "cannot start the console thread");
	return 0;
}

void console_vcpu_run_begin(void)
{
	pthread_mutex_unlock(&console_lock);
}

void console_vcpu_run_end(void)
{
	pthread_mutex_lock(&console_lock);
}

uint64_t console_background_drains(void)
{
	return background_drains;
}
