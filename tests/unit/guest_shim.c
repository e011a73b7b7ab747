/* Host stand-ins for the guest kernel's services, so guest modules run in unit tests (MOTE_GUEST_ON_HOST). */
#include "guest_shim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mote/abi.h>

#include "clock.h"
#include "console.h"
#include "hypercall.h"
#include "klib.h"
#include "mm.h"
#include "random.h"
#include "sched.h"
#include "sig.h"
#include "linux.h"

/* ---- heap and pages -------------------------------------------------------------------------- */

void *kmalloc(size_t size)
{
	return calloc(1, size ? size : 1);
}

void *krealloc(void *ptr, size_t size)
{
	return realloc(ptr, size ? size : 1);
}

void kfree(void *ptr)
{
	free(ptr);
}

char *kstrdup(const char *s)
{
	return strdup(s);
}

void *pages_alloc(size_t npages, int top_down)
{
	(void)top_down;
	void *p = aligned_alloc(4096, npages * 4096);
	if (p)
		memset(p, 0, npages * 4096);
	return p;
}

void pages_release(uint64_t addr, size_t npages)
{
	(void)npages;
	free((void *)(uintptr_t)addr);
}

void pages_stats(uint64_t *free_pages, uint64_t *total_pages)
{
	*free_pages = 1000;
	*total_pages = 4096;
}

int mm_user_range_ok(uint64_t addr, uint64_t len)
{
	return addr >= 4096 && addr + len >= addr;
}

/* ---- console --------------------------------------------------------------------------------- */

static char *console_buf[2];
static size_t console_len[2];

long console_write(unsigned stream, const void *buf, size_t len)
{
	if (stream != MOTE_CONSOLE_STDOUT && stream != MOTE_CONSOLE_STDERR)
		return -22;
	unsigned i = stream - 1;
	char *p = realloc(console_buf[i], console_len[i] + len + 1);
	if (!p)
		abort();
	memcpy(p + console_len[i], buf, len);
	console_len[i] += len;
	p[console_len[i]] = 0;
	console_buf[i] = p;
	return (long)len;
}

void console_flush(void)
{
}

const char *shim_console_output(unsigned stream)
{
	unsigned i = stream - 1;
	return console_buf[i] ? console_buf[i] : "";
}

size_t shim_console_length(unsigned stream)
{
	return console_len[stream - 1];
}

void shim_console_reset(void)
{
	for (int i = 0; i < 2; i++) {
		free(console_buf[i]);
		console_buf[i] = NULL;
		console_len[i] = 0;
	}
}

/* ---- clock and randomness -------------------------------------------------------------------- */

static int64_t fake_realtime = 1700000000ll * 1000000000ll;
static uint64_t slept;

int64_t clock_realtime_ns(void)
{
	return fake_realtime + (int64_t)slept;
}

uint64_t clock_monotonic_ns(void)
{
	return slept;
}

void clock_sleep_ns(uint64_t ns)
{
	slept += ns;
}

/* The scheduler of a lone thread: a wait with a deadline sleeps to it, one without can never end. */
int sched_wait(int kind, uint64_t chan, uint32_t bits, uint64_t deadline_ns)
{
	if (!deadline_ns)
		return -EDEADLK;
	if (deadline_ns > slept)
		slept = deadline_ns;
	return -ETIMEDOUT;
}

int sched_wake(uint64_t chan, uint32_t bits, int max)
{
	return 0;
}

static struct thread lone_thread;
struct thread *sched_current(void)
{
	return &lone_thread;
}

/* Signals: what the file layer sends is recorded (SIGPIPE); no handler runs here. */
static uint64_t signals_sent;
void sig_send_thread(struct thread *t, int sig, int code)
{
	(void)t;
	(void)code;
	signals_sent |= 1ull << (sig - 1);
}

void sig_set_temporary_mask(uint64_t mask)
{
	lone_thread.sig.mask = mask;
}

uint64_t shim_signals_sent(void)
{
	return signals_sent;
}

uint64_t shim_slept_ns(void)
{
	return slept;
}

void shim_set_realtime_ns(int64_t ns)
{
	fake_realtime = ns;
}

void random_bytes(void *buf, size_t len)
{
	static uint64_t x = 0x9e3779b97f4a7c15ull;
	uint8_t *p = buf;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

/* ---- formatting and diagnostics -------------------------------------------------------------- */

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return vsnprintf(buf, size, fmt, ap);
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return r;
}

int kdebug_enabled(void)
{
	return getenv("MOTE_SHIM_DEBUG") != NULL;
}

void kdebug(const char *fmt, ...)
{
	if (!kdebug_enabled())
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "kdebug: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

void kpanic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("FAIL kpanic: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	abort();
}

static unsigned snapshot_requests;
static uint64_t fake_generation;

long snapshot_request(void)
{
	snapshot_requests++;
	return 0;
}

size_t snapshot_read_generation(void *buf, size_t len, uint64_t *pos)
{
	char text[24];
	size_t n = (size_t)snprintf(text, sizeof(text), "%llu\n", (unsigned long long)fake_generation);
	if (*pos >= n)
		return 0;
	size_t count = len < n - (size_t)*pos ? len : n - (size_t)*pos;
	memcpy(buf, text + *pos, count);
	*pos += count;
	return count;
}

unsigned shim_snapshot_requests(void)
{
	return snapshot_requests;
}

void shim_set_generation(uint64_t generation)
{
	fake_generation = generation;
}

uint64_t clock_generation(void)
{
	return fake_generation;
}

static void (*hypercall_hook)(unsigned nr, void *arg);

void shim_set_hypercall(void (*fn)(unsigned nr, void *arg))
{
	hypercall_hook = fn;
}

void hypercall(unsigned nr, void *arg)
{
	if (hypercall_hook) {
		hypercall_hook(nr, arg);
		return;
	}
	if (nr == MOTE_HC_INVOKE)
		((struct mote_hc_invoke *)arg)->ret = -MOTE_ENOSYS;
}
