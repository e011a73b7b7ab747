/* libFuzzer target: the monitor's hypercall handlers (vmm/hypercall.c) over a fake guest memory, no KVM. */
// vmm-modules: vmm/hypercall.c vmm/vm.c vmm/console.c vmm/preempt.c
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <mote/abi.h>

#include "guest.h"

/*
 * Input: up to GUEST_DATA bytes copied to the start of guest RAM (structs,
 * data), then up to CALLS_MAX calls of 5 bytes each: a call number (any byte: numbers past
 * the last call and the ports below the base are tried too) and a 32-bit
 * struct address (little-endian; folded into RAM and a little past it unless
 * its top bit is set). Guest RAM is an exact-size heap buffer (ASan flags
 * any access past it), the rootfs image a read-only mapping (a write to it
 * faults). After each call, every byte of RAM that changed must lie in the
 * call's struct or, for entropy, its data buffer; a sleep must never ask the
 * host for more than GUEST_SLEEP_MAX_NS; an exit message must be one line.
 *
 * Seeds (tests/fuzz/corpus/hypercall/) are hand-written: each call with
 * valid, misaligned, overlapping and out-of-range structs.
 */

#define RAM_SIZE (64u << 10)
#define CALLS_MAX 64 /* calls per input */
#define ROOTFS_SIZE 8192u
#define GUEST_DATA 1024u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t slept_max;

/* Replaces libc's nanosleep for the handlers: record the request, do not wait. */
int nanosleep(const struct timespec *req, struct timespec *rem)
{
	(void)rem;
	uint64_t ns = (uint64_t)req->tv_sec * 1000000000ull + (uint64_t)req->tv_nsec;
	if (req->tv_nsec < 0 || req->tv_nsec >= 1000000000 || ns > GUEST_SLEEP_MAX_NS)
		__builtin_trap();
	if (ns > slept_max)
		slept_max = ns;
	return 0;
}

static uint8_t *rootfs;
static int null_fd = -1;

static void setup(void)
{
	if (rootfs)
		return;
	rootfs = mmap(NULL, ROOTFS_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rootfs == MAP_FAILED)
		abort();
	for (unsigned i = 0; i < ROOTFS_SIZE; i++)
		rootfs[i] = (uint8_t)("rootfs image "[i % 13]);
	mprotect(rootfs, ROOTFS_SIZE, PROT_READ);
	null_fd = open("/dev/null", O_WRONLY);
}

static size_t struct_size(unsigned nr)
{
	switch (nr) {
	case MOTE_HC_CONSOLE: return sizeof(struct mote_hc_console);
	case MOTE_HC_SLEEP: return sizeof(struct mote_hc_sleep);
	case MOTE_HC_ENTROPY: return sizeof(struct mote_hc_entropy);
	case MOTE_HC_EXIT: return sizeof(struct mote_hc_exit);
	case MOTE_HC_SNAPSHOT: return sizeof(struct mote_hc_snapshot);
	case MOTE_HC_INVOKE: return sizeof(struct mote_hc_invoke);
	default: return 0;
	}
}

/* Clip [at, at + len) to RAM. */
static void clip(uint64_t *at, uint64_t *len)
{
	if (*at >= RAM_SIZE) {
		*at = RAM_SIZE;
		*len = 0;
	} else if (*len > RAM_SIZE - *at) {
		*len = RAM_SIZE - *at;
	}
}

/* Every byte that changed in RAM lies in [a, a + alen) or [b, b + blen). */
static void check_changes(const uint8_t *before, const uint8_t *after, uint64_t a, uint64_t alen, uint64_t b,
			  uint64_t blen)
{
	clip(&a, &alen);
	clip(&b, &blen);
	if (b < a) {
		uint64_t t = a, tl = alen;
		a = b, alen = blen, b = t, blen = tl;
	}
	/* The parts outside both ranges: [0, a), [a + alen, b), [max(a + alen, b + blen), RAM_SIZE). */
	uint64_t a_end = a + alen, b_end = b + blen, tail = a_end > b_end ? a_end : b_end;
	if (memcmp(before, after, a) != 0 ||
	    (b > a_end && memcmp(before + a_end, after + a_end, b - a_end) != 0) ||
	    memcmp(before + tail, after + tail, RAM_SIZE - tail) != 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	static struct guest_config cfg;
	static struct guest g;
	memset(&cfg, 0, sizeof(cfg));
	memset(&g, 0, sizeof(g));
	cfg.stdout_fd = cfg.stderr_fd = null_fd;
	uint8_t *ram = calloc(1, RAM_SIZE);
	uint8_t *before = malloc(RAM_SIZE);
	if (!ram || !before) {
		free(ram);
		free(before);
		return 0;
	}
	g.cfg = &cfg;
	g.vm.mem = ram;
	g.vm.mem_size = RAM_SIZE;
	g.vm.rootfs = rootfs;
	g.vm.rootfs_gpa = 2u << 20;
	g.vm.rootfs_size = ROOTFS_SIZE - 100; /* the image ends inside its last page */
	g.vm.rootfs_map_size = ROOTFS_SIZE;

	size_t head = size < GUEST_DATA ? size : GUEST_DATA;
	memcpy(ram, data, head);
	/* The first byte also picks the configuration: snapshots allowed or not. */
	cfg.snapshot_path = head && (data[0] & 1) ? "fuzz.snap" : NULL;
	for (size_t at = head; at + 5 <= size && at < head + 5 * CALLS_MAX; at += 5) {
		unsigned nr = data[at];
		uint32_t arg;
		memcpy(&arg, data + at + 1, 4);
		if (!(arg & 0x80000000u))
			arg %= RAM_SIZE + 64;
		uint16_t port = (uint16_t)(nr < 0xf0 ? MOTE_HC_PORT_BASE + nr % (MOTE_HC_COUNT + 2) : nr);
		unsigned call = (unsigned)(port - MOTE_HC_PORT_BASE);
		size_t ssize = port >= MOTE_HC_PORT_BASE ? struct_size(call) : 0;
		int in_ram = ssize && arg < RAM_SIZE && ssize <= RAM_SIZE - arg;
		uint64_t buf = 0, buflen = 0;
		if (in_ram && call == MOTE_HC_ENTROPY) {
			struct mote_hc_entropy e;
			memcpy(&e, ram + arg, sizeof(e));
			buf = e.data;
			buflen = e.len;
		}
		memcpy(before, ram, RAM_SIZE);
		slept_max = 0;
		memset(&guest_exit_state, 0, sizeof(guest_exit_state));
		enum guest_next next = guest_hypercall(&g, port, arg);
		check_changes(before, ram, in_ram ? arg : 0, in_ram ? ssize : 0, buf, buflen);
		if (!in_ram && (next != GUEST_RESUME || memcmp(before, ram, RAM_SIZE) != 0))
			__builtin_trap(); /* a struct outside RAM: ignored, nothing written */
		switch (next) {
		case GUEST_RESUME: break;
		case GUEST_EXITED: {
			size_t n = strnlen(guest_exit_state.msg, sizeof(guest_exit_state.msg));
			if (call != MOTE_HC_EXIT || n > 512)
				__builtin_trap();
			for (size_t i = 0; i < n; i++)
				if ((unsigned char)guest_exit_state.msg[i] < 0x20)
					__builtin_trap();
			break;
		}
		case GUEST_SNAPSHOT:
			/* The request's struct is remembered; a failed snapshot writes -EIO there only. */
			if (call != MOTE_HC_SNAPSHOT || !cfg.snapshot_path || g.snapshot_call != ram + arg)
				__builtin_trap();
			memcpy(before, ram, RAM_SIZE);
			guest_snapshot_failed(&g);
			check_changes(before, ram, arg, ssize, 0, 0);
			if (g.snapshot_call)
				__builtin_trap();
			break;
		default: __builtin_trap();
		}
	}
	free(before);
	free(ram);
	return 0;
}
