/* Host stand-ins for the guest kernel's services, so guest modules run in unit tests (MOTE_GUEST_ON_HOST). */
#ifndef TESTS_GUEST_SHIM_H
#define TESTS_GUEST_SHIM_H

#include <stddef.h>
#include <stdint.h>

/*
 * The shim implements, with libc: kmalloc/krealloc/kfree/kstrdup,
 * pages_alloc/pages_release/pages_stats, console_write/console_flush
 * (captured, see below), clock_realtime_ns/clock_monotonic_ns/clock_sleep_ns
 * (fake clock), random_bytes, snapshot_request/snapshot_read_generation
 * (counted, fake generation), clock_generation, hypercall (a hook),
 * sched_wait/sched_wake (a lone thread: waits sleep to their deadline),
 * mm_user_range_ok (any address >= 4096),
 * ksnprintf/kvsnprintf/kdebug/kdebug_enabled/kpanic. A test includes
 * guest_shim.c once and lists the guest modules it needs in its
 * "// guest-modules:" line.
 */

/* What was written to stream 1 (stdout) or 2 (stderr) since the last reset, NUL-terminated. */
const char *shim_console_output(unsigned stream);
size_t shim_console_length(unsigned stream);
void shim_console_reset(void);

/* Nanoseconds the code under test asked to sleep (clock_sleep_ns) since start; the fake clock advances by
 * them. */
uint64_t shim_slept_ns(void);

/* Set the fake realtime clock (ns since the epoch). */
void shim_set_realtime_ns(int64_t ns);

/* How many times the code under test asked for a snapshot (/dev/mote/snapshot writes). */
unsigned shim_snapshot_requests(void);
/* The generation /dev/mote/generation shows, and clock_generation() returns (a restore bumps it). */
void shim_set_generation(uint64_t generation);

/*
 * Play the monitor: hypercall(nr, arg) of the code under test calls `fn`
 * (NULL: every call fails with -ENOSYS in its ret field, when it has one).
 */
void shim_set_hypercall(void (*fn)(unsigned nr, void *arg));

/* Signals sent through sig_send_thread so far, bit (sig - 1). */
uint64_t shim_signals_sent(void);

#endif /* TESTS_GUEST_SHIM_H */
