/* Guest test: a hostile program talking to the monitor directly with `outl %eax, %dx`, bypassing the guest
 * kernel: bad addresses, huge and overflowing lengths, structs out of range, invoke calls without a channel.
 * Every call must come back with -EFAULT/-EINVAL/-ENODEV (or be ignored) and the monitor must keep working.
 * Runs only inside the VM.
 *
 * usage: hostile [MEM_BYTES]   (the guest's --mem in bytes; default 64 MiB)
 *        hostile MEM exit      (ends through the exit hypercall with status 7, or 1 if a check failed,
 *                               and a bad message pointer, from a misaligned struct)
 *        hostile MEM misaligned (only the calls with structs at odd addresses)
 *        hostile MEM forge-log (only: a --debug log write whose second line imitates a monitor line)
 *        hostile MEM sleep-cap (only: one sleep call of 2.5 s returns after about 1 s, the monitor's cap,
 *                               while nanosleep still sleeps its whole time)
 *        hostile MEM preempt   (only: forge the boot info's preemption area so that the monitor "preempts"
 *                               this one spinning thread into a function of the program's own, which
 *                               says so and exits with status 9; the monitor only ever moves the guest)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "mote/abi.h"

static int failures;

/* Where the monitor puts the boot info (LAYOUT_BOOT_INFO in vmm/layout.h). */
#define BOOT_INFO_GPA 0x9000ul

/* The forged preemption entry: no stack use (rsp is wherever the spin loop had it), raw system calls. */
extern char hijacked[];
__asm__(".text\n"
	"hijacked:\n"
	"	mov $1, %eax\n"
	"	mov $1, %edi\n"
	"	lea hijack_msg(%rip), %rsi\n"
	"	mov $hijack_msg_len, %edx\n"
	"	syscall\n"
	"	mov $231, %eax\n"
	"	mov $9, %edi\n"
	"	syscall\n"
	"	ud2\n"
	".section .rodata\n"
	"hijack_msg: .ascii \"hostile: the forged preemption entry ran\\n\"\n"
	".set hijack_msg_len, . - hijack_msg\n"
	".text\n");
static uint64_t mem_size = 64ull << 20;

/* The structs live in .data/.bss, below 4 GiB in a static non-PIE program. */
static struct mote_hc_console con;
static struct mote_hc_sleep slp;
static struct mote_hc_entropy ent;
static struct mote_hc_exit ex;
static struct mote_hc_invoke inv;
static uint8_t buffer[(1u << 20) + 64];

static void hypercall(unsigned nr, uint64_t arg)
{
	__asm__ volatile("outl %0, %w1"
			 :
			 : "a"((uint32_t)arg), "Nd"((uint16_t)(MOTE_HC_PORT_BASE + nr))
			 : "memory");
}

static void expect(const char *what, int64_t ret, int64_t want1, int64_t want2)
{
	if (ret == want1 || ret == want2) {
		printf("ok: %s: ret %lld\n", what, (long long)ret);
	} else {
		failures++;
		printf("FAILED: %s: ret %lld, expected %lld%s\n", what, (long long)ret, (long long)want1,
		       want1 != want2 ? " (or another accepted value)" : "");
		fprintf(stderr, "hostile: FAILED: %s: ret %lld\n", what, (long long)ret);
	}
	fflush(stdout);
}

static int64_t console(uint32_t stream, uint64_t data, uint64_t len)
{
	con.stream = stream;
	con.data = data;
	con.len = len;
	con.ret = 12345;
	hypercall(MOTE_HC_CONSOLE, (uint64_t)(uintptr_t)&con);
	return con.ret;
}

static int64_t entropy(uint64_t data, uint64_t len)
{
	ent.data = data;
	ent.len = len;
	ent.ret = 12345;
	hypercall(MOTE_HC_ENTROPY, (uint64_t)(uintptr_t)&ent);
	return ent.ret;
}

static int64_t sleep_ns(uint64_t ns)
{
	slp.ns = ns;
	slp.ret = 12345;
	hypercall(MOTE_HC_SLEEP, (uint64_t)(uintptr_t)&slp);
	return slp.ret;
}

static void test_console(void)
{
	const int64_t EFAULT_ = -MOTE_EFAULT, EINVAL_ = -MOTE_EINVAL;
	static const char hello[] = "hostile: direct console write\n";
	expect("console: valid write to stdout",
	       console(MOTE_CONSOLE_STDOUT, (uintptr_t)hello, sizeof(hello) - 1), sizeof(hello) - 1,
	       sizeof(hello) - 1);
	expect("console: valid write to the log", console(MOTE_CONSOLE_LOG, (uintptr_t)hello, 8), 8, 8);
	/* gpa 0 is guest RAM as far as the monitor knows (unmapped only in the guest's page tables). */
	expect("console: data at 0 (log)", console(MOTE_CONSOLE_LOG, 0, 16), 16, EFAULT_);
	expect("console: data crossing the end of RAM", console(MOTE_CONSOLE_STDOUT, mem_size - 8, 16),
	       EFAULT_, EFAULT_);
	expect("console: data crossing the end of RAM (log)", console(MOTE_CONSOLE_LOG, mem_size - 8, 16),
	       EFAULT_, EFAULT_);
	expect("console: last 16 bytes of RAM (log)", console(MOTE_CONSOLE_LOG, mem_size - 16, 16), 16, 16);
	expect("console: data far beyond RAM", console(MOTE_CONSOLE_STDOUT, 1ull << 40, 16), EFAULT_,
	       EFAULT_);
	expect("console: data = UINT64_MAX", console(MOTE_CONSOLE_STDOUT, UINT64_MAX, 1), EFAULT_, EFAULT_);
	expect("console: len overflowing the address space",
	       console(MOTE_CONSOLE_STDOUT, 0xfffffffffffff000ull, 0x2000), EFAULT_, EFAULT_);
	expect("console: len = MOTE_CONSOLE_MAX + 1",
	       console(MOTE_CONSOLE_STDOUT, (uintptr_t)buffer, MOTE_CONSOLE_MAX + 1), EINVAL_, EINVAL_);
	expect("console: len = 2^63", console(MOTE_CONSOLE_STDOUT, (uintptr_t)buffer, 1ull << 63), EINVAL_,
	       EINVAL_);
	expect("console: len = UINT64_MAX", console(MOTE_CONSOLE_STDOUT, mem_size - 1, UINT64_MAX), EINVAL_,
	       EINVAL_);
	expect("console: len wrapping to the start", console(MOTE_CONSOLE_STDOUT, 4096, UINT64_MAX - 4095),
	       EINVAL_, EINVAL_);
	expect("console: len = MOTE_CONSOLE_MAX (log)",
	       console(MOTE_CONSOLE_LOG, (uintptr_t)buffer, MOTE_CONSOLE_MAX), MOTE_CONSOLE_MAX,
	       MOTE_CONSOLE_MAX);
	expect("console: data overlapping the struct itself (log)",
	       console(MOTE_CONSOLE_LOG, (uintptr_t)&con, sizeof(con)), sizeof(con), sizeof(con));
	expect("console: stream 0", console(0, (uintptr_t)hello, 4), EINVAL_, EINVAL_);
	expect("console: stream 4", console(4, (uintptr_t)hello, 4), EINVAL_, EINVAL_);
	expect("console: stream 0xffffffff", console(0xffffffffu, (uintptr_t)hello, 4), EINVAL_, EINVAL_);
	expect("console: zero length", console(MOTE_CONSOLE_STDOUT, (uintptr_t)hello, 0), 0, 0);
	expect("console: zero length at a bad address", console(MOTE_CONSOLE_STDOUT, 1ull << 40, 0), 0,
	       EFAULT_);
}

/*
 * The console rings in the boot info (guest memory the program can write too): a ring the monitor cannot
 * use fails its stream with -EINVAL, never the monitor. Uses stderr's ring and puts it back afterwards.
 */
static void test_console_rings(void)
{
	const int64_t EINVAL_ = -MOTE_EINVAL;
	struct mote_boot_info *bi = (struct mote_boot_info *)(uintptr_t)0x9000; /* vmm/layout.h */
	if (bi->magic != MOTE_BOOT_MAGIC) {
		expect("console rings: boot info at 0x9000", bi->magic, MOTE_BOOT_MAGIC, MOTE_BOOT_MAGIC);
		return;
	}
	volatile struct mote_console_ring *r = &bi->console[1];
	struct mote_console_ring saved = {.data = r->data, .size = r->size, .head = r->head, .tail = r->tail};
	static const struct {
		const char *what;
		uint64_t data, size, pending;
	} bad[] = {
	    {"console rings: size 2^40", 0, 1ull << 40, 16},
	    {"console rings: size 0", 0, 0, 16},
	    {"console rings: data crossing the end of RAM", 1, 4096, 16},
	    {"console rings: data far beyond RAM", 1ull << 40, 4096, 16},
	    {"console rings: more pending than the ring holds", 0, 4096, 8192},
	    {"console rings: head before tail", 0, 4096, (uint64_t)-5},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r->error = 0;
		r->data = bad[i].data == 1 ? mem_size - 2048 : bad[i].data ? bad[i].data : saved.data;
		r->size = bad[i].size;
		r->head = r->tail + bad[i].pending;
		expect(bad[i].what, console(MOTE_CONSOLE_STDERR, 0, 0), EINVAL_, EINVAL_);
		expect("console rings: the stream stays failed", console(MOTE_CONSOLE_STDERR, 0, 0), EINVAL_,
		       EINVAL_);
	}
	r->data = saved.data;
	r->size = saved.size;
	r->head = saved.head;
	r->tail = saved.head;
	r->error = 0;
	static const char back[] = "hostile: stderr works again\n";
	expect("console rings: a sound ring again",
	       console(MOTE_CONSOLE_STDERR, (uintptr_t)back, sizeof(back) - 1), sizeof(back) - 1,
	       sizeof(back) - 1);
}

static void test_entropy(void)
{
	const int64_t EFAULT_ = -MOTE_EFAULT, EINVAL_ = -MOTE_EINVAL;
	memset(buffer, 0, 256);
	expect("entropy: 256 bytes into a buffer", entropy((uintptr_t)buffer, 256), 256, 256);
	int nonzero = 0;
	for (int i = 0; i < 256; i++)
		nonzero += buffer[i] != 0;
	expect("entropy: the buffer was filled (nonzero bytes > 200)", nonzero > 200, 1, 1);
	expect("entropy: len = MOTE_ENTROPY_MAX + 1", entropy((uintptr_t)buffer, MOTE_ENTROPY_MAX + 1),
	       EINVAL_, EINVAL_);
	expect("entropy: len = UINT64_MAX", entropy((uintptr_t)buffer, UINT64_MAX), EINVAL_, EINVAL_);
	expect("entropy: data crossing the end of RAM", entropy(mem_size - 8, 16), EFAULT_, EFAULT_);
	expect("entropy: data in the read-only rootfs (right after RAM)", entropy(mem_size, 16), EFAULT_,
	       EFAULT_);
	expect("entropy: data far beyond RAM", entropy(1ull << 40, 16), EFAULT_, EFAULT_);
	expect("entropy: len overflowing the address space", entropy(0xfffffffffffff000ull, 0x100), EFAULT_,
	       EFAULT_);
	expect("entropy: data = UINT64_MAX", entropy(UINT64_MAX, 2), EFAULT_, EFAULT_);
	/* The monitor fills the struct with random bytes, then writes ret over them. */
	expect("entropy: data overlapping the struct itself", entropy((uintptr_t)&ent, sizeof(ent)),
	       sizeof(ent), sizeof(ent));
	expect("entropy: zero length", entropy((uintptr_t)buffer, 0), 0, 0);
}

static void test_sleep(void)
{
	const int64_t EINVAL_ = -MOTE_EINVAL;
	expect("sleep: 0 ns", sleep_ns(0), 0, 0);
	expect("sleep: 1 ms", sleep_ns(1000000), 0, 0);
	expect("sleep: UINT64_MAX ns", sleep_ns(UINT64_MAX), EINVAL_, EINVAL_);
	expect("sleep: 2^63 ns", sleep_ns(1ull << 63), EINVAL_, EINVAL_);
	expect("sleep: 2^62 ns (146 years)", sleep_ns(1ull << 62), EINVAL_, EINVAL_);
}

static int64_t invoke(uint32_t flags, uint32_t pad)
{
	inv.flags = flags;
	inv.pad = pad;
	inv.ret = 12345;
	hypercall(MOTE_HC_INVOKE, (uint64_t)(uintptr_t)&inv);
	return inv.ret;
}

/* The invoke call of a VM nothing is attached to (mote run): never waits, never reaches a supervisor. */
static void test_invoke(void)
{
	const int64_t EINVAL_ = -MOTE_EINVAL, ENODEV_ = -MOTE_ENODEV;
	expect("invoke: no channel attached", invoke(0, 0), ENODEV_, ENODEV_);
	expect("invoke: garbage in pad", invoke(0, 0xdeadbeef), ENODEV_, ENODEV_);
	expect("invoke: flags 1", invoke(1, 0), EINVAL_, EINVAL_);
	expect("invoke: flags 0xffffffff", invoke(0xffffffffu, 0xffffffffu), EINVAL_, EINVAL_);
	for (int i = 0; i < 100; i++)
		invoke(0, (uint32_t)i);
	expect("invoke: 100 more calls, still no channel", invoke(0, 0), ENODEV_, ENODEV_);
	/* The struct's last byte one past the end of RAM: ignored (nowhere to write ret). */
	hypercall(MOTE_HC_INVOKE, mem_size - sizeof(struct mote_hc_invoke) + 1);
	printf("ok: invoke struct crossing the end of RAM ignored\n");
}

/* Struct addresses that are themselves invalid: nowhere to write an error, so the call is ignored. */
static void test_bad_struct(void)
{
	uint64_t bad[] = {0xfffff000u, 0xffffffffu, mem_size - 4, mem_size /* rootfs: read-only */,
			  mem_size + 4096};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bad[i] > 0xffffffffu)
			continue;
		for (unsigned nr = 0; nr < MOTE_HC_COUNT; nr++)
			hypercall(nr, bad[i]);
		printf("ok: struct at %#llx ignored for all %d calls\n", (unsigned long long)bad[i],
		       MOTE_HC_COUNT);
	}
	/* A struct at gpa 0 (RAM for the monitor; the page holds zeros: stream 0, ns 0, len 0). */
	hypercall(MOTE_HC_CONSOLE, 0);
	hypercall(MOTE_HC_SLEEP, 0);
	hypercall(MOTE_HC_ENTROPY, 0);
	printf("ok: structs at gpa 0 handled\n");
	fflush(stdout);
}

/* Every call with its struct at odd addresses: the monitor must copy it, not dereference it in place. */
static uint8_t raw[512] __attribute__((aligned(64)));

static int64_t misaligned_ret(const uint8_t *at, size_t ret_offset)
{
	int64_t ret;
	memcpy(&ret, at + ret_offset, sizeof(ret));
	return ret;
}

static void test_misaligned(void)
{
	static const char hello[] = "hostile: misaligned console write\n";
	static const size_t offsets[] = {1, 3, 6, 13};
	for (unsigned i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		uint8_t *at = raw + offsets[i];
		char what[96];
		struct mote_hc_console c = {.stream = MOTE_CONSOLE_STDOUT,
					    .data = (uintptr_t)hello,
					    .len = sizeof(hello) - 1,
					    .ret = 12345};
		memcpy(at, &c, sizeof(c));
		hypercall(MOTE_HC_CONSOLE, (uintptr_t)at);
		snprintf(what, sizeof(what), "misaligned console struct at +%zu", offsets[i]);
		expect(what, misaligned_ret(at, offsetof(struct mote_hc_console, ret)), sizeof(hello) - 1,
		       sizeof(hello) - 1);

		struct mote_hc_entropy e = {.data = (uintptr_t)buffer, .len = 16, .ret = 12345};
		memcpy(at, &e, sizeof(e));
		hypercall(MOTE_HC_ENTROPY, (uintptr_t)at);
		snprintf(what, sizeof(what), "misaligned entropy struct at +%zu", offsets[i]);
		expect(what, misaligned_ret(at, offsetof(struct mote_hc_entropy, ret)), 16, 16);

		struct mote_hc_sleep sl = {.ns = 1000, .ret = 12345};
		memcpy(at, &sl, sizeof(sl));
		hypercall(MOTE_HC_SLEEP, (uintptr_t)at);
		snprintf(what, sizeof(what), "misaligned sleep struct at +%zu", offsets[i]);
		expect(what, misaligned_ret(at, offsetof(struct mote_hc_sleep, ret)), 0, 0);

		struct mote_hc_snapshot sn = {.ret = 12345};
		memcpy(at, &sn, sizeof(sn));
		hypercall(MOTE_HC_SNAPSHOT, (uintptr_t)at);
		snprintf(what, sizeof(what), "misaligned snapshot struct at +%zu (no --snapshot)",
			 offsets[i]);
		expect(what, misaligned_ret(at, offsetof(struct mote_hc_snapshot, ret)), -MOTE_EOPNOTSUPP,
		       -MOTE_EOPNOTSUPP);
	}
}

static int64_t elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The monitor blocks at most about a second per sleep call; the guest kernel's nanosleep sleeps again. */
static void test_sleep_cap(void)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int64_t r = sleep_ns(2500000000ull);
	int64_t ms = elapsed_ms(&t0);
	expect("sleep: one 2.5 s call returns 0", r, 0, 0);
	printf("hostile: one 2.5 s sleep call returned after %lld ms\n", (long long)ms);
	expect("sleep: one 2.5 s call returns after 0.9-2.2 s (the monitor caps it at 1 s)",
	       ms >= 900 && ms <= 2200, 1, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct timespec req = {1, 200000000};
	r = nanosleep(&req, NULL);
	ms = elapsed_ms(&t0);
	printf("hostile: nanosleep(1.2 s) took %lld ms\n", (long long)ms);
	expect("sleep: nanosleep(1.2 s) sleeps at least 1.2 s across capped calls", r == 0 && ms >= 1200, 1,
	       1);
}

/* The guest kernel's own checks on syscall pointers, called without libc wrappers. */
static void test_syscalls(void)
{
	const int64_t EFAULT_ = -1;
	int zero = open("/dev/zero", O_RDONLY);
	errno = 0;
	long r = syscall(SYS_write, 1, 0L, 10L);
	expect("syscall write from NULL: -1/EFAULT", r == -1 && errno == EFAULT ? -1 : r, EFAULT_, EFAULT_);
	errno = 0;
	r = syscall(SYS_write, 1, 0xfffffffffffff000ull, 0x2000L);
	expect("syscall write with overflowing length: -1/EFAULT", r == -1 && errno == EFAULT ? -1 : r,
	       EFAULT_, EFAULT_);
	errno = 0;
	r = syscall(SYS_write, 1, (long)(mem_size - 8), 16L);
	expect("syscall write crossing the end of RAM: -1/EFAULT", r == -1 && errno == EFAULT ? -1 : r,
	       EFAULT_, EFAULT_);
	errno = 0;
	r = syscall(SYS_read, zero, 0L, 16L);
	expect("syscall read into NULL: -1/EFAULT", r == -1 && errno == EFAULT ? -1 : r, EFAULT_, EFAULT_);
	errno = 0;
	r = syscall(SYS_read, zero, (long)(mem_size + 64), 16L);
	expect("syscall read into the read-only rootfs: -1/EFAULT", r == -1 && errno == EFAULT ? -1 : r,
	       EFAULT_, EFAULT_);
	errno = 0;
	r = syscall(SYS_read, zero, 1L << 40, 16L);
	expect("syscall read far beyond RAM: -1/EFAULT", r == -1 && errno == EFAULT ? -1 : r, EFAULT_,
	       EFAULT_);
	errno = 0;
	r = syscall(SYS_open, 0L, O_RDONLY);
	expect("syscall open(NULL): -1/EFAULT", r == -1 && errno == EFAULT ? -1 : r, EFAULT_, EFAULT_);
	errno = 0;
	r = syscall(SYS_open, (long)(mem_size - 2), O_RDONLY);
	expect("syscall open(path running off RAM): -1/EFAULT", r == -1 && errno == EFAULT ? -1 : r, EFAULT_,
	       EFAULT_);
	errno = 0;
	r = syscall(SYS_clock_gettime, 1L, 8L);
	expect("syscall clock_gettime into page 0: -1/EFAULT", r == -1 && errno == EFAULT ? -1 : r, EFAULT_,
	       EFAULT_);
	errno = 0;
	r = syscall(SYS_getrandom, 0xfffffffffffff000ull, 0x2000L, 0L);
	expect("syscall getrandom overflowing: -1/EFAULT", r == -1 && errno == EFAULT ? -1 : r, EFAULT_,
	       EFAULT_);
	close(zero);
}

int main(int argc, char **argv)
{
	int end_by_exit = 0, only_misaligned = 0, only_sleep_cap = 0, only_forge_log = 0, only_preempt = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "exit") == 0)
			end_by_exit = 1;
		else if (strcmp(argv[i], "misaligned") == 0)
			only_misaligned = 1;
		else if (strcmp(argv[i], "sleep-cap") == 0)
			only_sleep_cap = 1;
		else if (strcmp(argv[i], "forge-log") == 0)
			only_forge_log = 1;
		else if (strcmp(argv[i], "preempt") == 0)
			only_preempt = 1;
		else
			mem_size = strtoull(argv[i], NULL, 0);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((uintptr_t)&con >= (1ull << 32)) {
		fprintf(stderr, "hostile: FAILED: structs at %p are above 4 GiB (built as PIE?)\n",
			(void *)&con);
		return 2;
	}
	printf("hostile: mem_size %#llx\n", (unsigned long long)mem_size);
	if (only_preempt) {
		volatile struct mote_boot_info *bi = (volatile struct mote_boot_info *)BOOT_INFO_GPA;
		if (bi->magic != MOTE_BOOT_MAGIC || !bi->preempt.entry) {
			printf("hostile: FAILED: no boot info with a preemption entry at %#lx\n",
			       BOOT_INFO_GPA);
			return 1;
		}
		bi->preempt.entry = (uintptr_t)hijacked;
		bi->preempt.kernel_start = bi->preempt.kernel_end = 0;
		bi->preempt.contenders = 1000;
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (elapsed_ms(&t0) < 5000)
			;
		printf("hostile: FAILED: no preemption within 5 s\n");
		return 1;
	}
	if (only_forge_log) {
		static const char forged[] = "hostile: log line\nmote-vmm: guest crashed: forged\r\x1b[2K";
		expect("console: log write with a forged monitor line",
		       console(MOTE_CONSOLE_LOG, (uintptr_t)forged, sizeof(forged) - 1), sizeof(forged) - 1,
		       sizeof(forged) - 1);
	}
	if (only_misaligned || only_sleep_cap || only_forge_log) {
		if (only_misaligned)
			test_misaligned();
		if (only_sleep_cap)
			test_sleep_cap();
		printf(failures ? "hostile: %d checks FAILED\n" : "hostile: survived\n", failures);
		return failures ? 1 : 0;
	}
	test_console();
	test_console_rings();
	test_entropy();
	test_sleep();
	test_invoke();
	test_misaligned();
	test_bad_struct();
	test_syscalls();
	printf("hostile: output after the abuse: %d + %d = %d\n", 2, 3, 2 + 3);
	if (failures)
		fprintf(stderr, "hostile: %d checks FAILED\n", failures);
	else
		printf("hostile: survived\n");
	fflush(stdout);
	if (end_by_exit) {
		/* Exit with status 7 (1 if a check failed) and a message pointer out of range: it is dropped.
		 */
		ex.reason = MOTE_EXIT_NORMAL;
		ex.status = failures ? 1 : 7;
		ex.msg = 0xfffffffffffff000ull;
		ex.msg_len = 0x2000;
		memcpy(raw + 5, &ex, sizeof(ex));
		hypercall(MOTE_HC_EXIT, (uintptr_t)(raw + 5));
		fprintf(stderr, "hostile: FAILED: the exit hypercall returned\n");
		return 1;
	}
	return failures ? 1 : 0;
}
