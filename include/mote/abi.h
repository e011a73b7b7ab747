/* mote hypercall ABI: the one contract between mote-vmm (host) and the guest kernel. */
#ifndef MOTE_ABI_H
#define MOTE_ABI_H

/*
 * Self-contained (C99, <stdint.h> only) so that both the hosted monitor and
 * the freestanding guest kernel include it unchanged.
 *
 * Calling convention: the guest executes `outl %eax, $port` at CPL3 (IOPL=3,
 * ports allowed by the TSS I/O bitmap) with port = MOTE_HC_PORT_BASE + call
 * number and eax = the guest-physical address of the call's struct, which
 * MUST lie below 4 GiB. The monitor reads the IN fields, performs the call and
 * writes the OUT fields before resuming the guest: one exit per call.
 *
 * Guest addresses inside structs are opaque 64-bit guest-physical addresses.
 * The monitor checks each one (bounds and overflow) in one accessor; a bad
 * address or length makes the call fail with ret = -MOTE_EFAULT/-MOTE_EINVAL,
 * never a monitor crash. Guest memory is identity-mapped (virtual ==
 * physical), so the guest passes its pointers as they are.
 *
 * Version: bumped on any incompatible change. The guest kernel ELF carries
 * its version in a note (owner MOTE_NOTE_NAME, type MOTE_NOTE_ABI, 4-byte
 * descriptor) and mote-vmm refuses a kernel whose version differs.
 */

#define MOTE_ABI_VERSION 4

#define MOTE_NOTE_NAME "MOTE"
#define MOTE_NOTE_ABI 0x6d6f7401
/* Second note: 8-byte guest address of the syscall entry stub (becomes MSR_LSTAR). */
#define MOTE_NOTE_SYSCALL_ENTRY 0x6d6f7402

/* Errors returned in `ret` (negated), numerically equal to Linux errno. */
#define MOTE_EFAULT 14
#define MOTE_EINVAL 22
#define MOTE_ENOSYS 38
#define MOTE_EIO 5
#define MOTE_EOPNOTSUPP 95
#define MOTE_ENODEV 19

#define MOTE_HC_PORT_BASE 0x500

/* Everything below is C only; the constants above are also used from assembly. */
/* Offsets in struct mote_preempt (below) that the guest's preemption entry reads. */
#define MOTE_PREEMPT_RIP 24
#define MOTE_PREEMPT_RSP 32
#define MOTE_PREEMPT_RFLAGS 40

#ifndef __ASSEMBLER__
#include <stdint.h>

enum mote_hypercall {
	MOTE_HC_CONSOLE = 0,  /* struct mote_hc_console */
	MOTE_HC_SLEEP = 1,    /* struct mote_hc_sleep */
	MOTE_HC_ENTROPY = 2,  /* struct mote_hc_entropy */
	MOTE_HC_EXIT = 3,     /* struct mote_hc_exit; does not return */
	MOTE_HC_SNAPSHOT = 4, /* struct mote_hc_snapshot */
	MOTE_HC_INVOKE = 5,   /* struct mote_hc_invoke */
	MOTE_HC_COUNT
};

/* Console streams. */
#define MOTE_CONSOLE_STDOUT 1u
#define MOTE_CONSOLE_STDERR 2u
#define MOTE_CONSOLE_LOG 3u /* monitor diagnostics (--debug), prefixed by the host */

#define MOTE_CONSOLE_MAX (1u << 20) /* largest single write accepted */

/*
 * Write to a host stream. For MOTE_CONSOLE_STDOUT and _STDERR the monitor
 * first sends what the stream's console ring (struct mote_console_ring in the
 * boot info) holds, then `len` bytes at guest address `data` (len may be 0:
 * a flush of the ring).
 */
struct mote_hc_console {
	uint32_t stream; /* IN: MOTE_CONSOLE_* */
	uint32_t pad;
	uint64_t data; /* IN: guest address */
	uint64_t len;  /* IN: bytes, <= MOTE_CONSOLE_MAX */
	int64_t ret;   /* OUT: `len`, or -errno when the ring or the bytes could not be written */
};

/* Block the vCPU for `ns` nanoseconds of host monotonic time. */
struct mote_hc_sleep {
	uint64_t ns; /* IN */
	int64_t ret; /* OUT: 0 or -errno */
};

#define MOTE_ENTROPY_MAX 256u

/* Fill `len` bytes at guest address `data` with host entropy. */
struct mote_hc_entropy {
	uint64_t data; /* IN: guest address */
	uint64_t len;  /* IN: bytes, <= MOTE_ENTROPY_MAX */
	int64_t ret;   /* OUT: bytes written or -errno */
};

/* Why the guest ends. */
enum mote_exit_reason {
	MOTE_EXIT_NORMAL = 0,	  /* program called exit/exit_group: status is its code */
	MOTE_EXIT_SIGNAL = 1,	  /* program killed itself with signal `status` (e.g. abort()) */
	MOTE_EXIT_LOAD_ERROR = 2, /* guest kernel could not start the program: status is a MOTE_LOAD_* */
	MOTE_EXIT_PANIC = 3,	  /* guest kernel invariant broken: message says which */
	MOTE_EXIT_DEADLOCK = 4,	  /* every thread waits forever (futexes, no timer): status is their number */
};

/* Program load failures reported with MOTE_EXIT_LOAD_ERROR. */
enum mote_load_error {
	MOTE_LOAD_NOT_FOUND = 1,   /* no such file in the rootfs */
	MOTE_LOAD_NOT_ELF = 2,	   /* not an ELF file, or corrupt headers */
	MOTE_LOAD_UNSUPPORTED = 3, /* 32-bit, other machine, not executable */
	MOTE_LOAD_DYNAMIC = 4,	   /* has PT_INTERP */
	MOTE_LOAD_TRUNCATED = 5,   /* segments point past the end of the file */
	MOTE_LOAD_NO_MEMORY = 6,   /* does not fit in guest memory */
	MOTE_LOAD_BAD_ROOTFS = 7,  /* the rootfs image is not a valid cpio newc archive */
	MOTE_LOAD_BAD_CWD = 8,	   /* the working directory is missing or not a directory */
};

/* End the guest. `msg` (optional, may be 0) is one line of explanation. */
struct mote_hc_exit {
	uint32_t reason;  /* IN: enum mote_exit_reason */
	int32_t status;	  /* IN: exit code, signal number or MOTE_LOAD_* */
	uint64_t msg;	  /* IN: guest address of message bytes, or 0 */
	uint64_t msg_len; /* IN: bytes, truncated by the host at 512 */
	uint64_t rip;	  /* IN: for MOTE_EXIT_SIGNAL, the program's rip at the syscall */
	uint64_t rsp;	  /* IN: likewise rsp */
};

/*
 * Ask the monitor to snapshot this VM now (see docs/snapshots.md). The
 * monitor writes `ret` and then saves the state, with the vCPU resuming right
 * after the call: the VM that asked and every clone restored from the snapshot
 * return from the same call with the same `ret`. A clone tells itself apart by
 * the boot-info clock generation, which every restore bumps.
 */
struct mote_hc_snapshot {
	int64_t ret; /* OUT: 0 when taken; -MOTE_EOPNOTSUPP when the VM was started without a snapshot file */
};

/*
 * Respond and wait on the invoke channel (see struct mote_invoke_region):
 * hand the host the message now in the response area (resp_len bytes, which
 * may be 0) and block until the host has put the next request in the request
 * area. The runtime's "respond and wait for the next request" is this one
 * exit. The monitor only relays doorbells (eventfds) to whoever attached the
 * channel; it never reads the messages. A snapshot taken during the wait
 * saves the call unanswered: the VM that was snapshotted goes on waiting,
 * while a clone returns at once with `ret` as the guest left it (the guest
 * tells by the new clock generation and calls again on its own channel).
 */
struct mote_hc_invoke {
	uint32_t flags; /* IN: 0 (reserved) */
	uint32_t pad;
	int64_t ret; /* OUT: 0 when a request is ready; -MOTE_ENODEV when no invoke channel is attached;
			-MOTE_EINVAL for flags != 0 */
};

/* ---- Invoke channel ------------------------------------------------------ */

/*
 * The invoke region: shared memory between the host (the function gateway,
 * which creates it as a memfd) and the guest, mapped read-write at
 * mote_attach.invoke_gpa. It is not guest RAM: snapshots never save it.
 * Offset 0 holds this header; the request and response areas follow, at
 * offsets the host chooses (page-aligned, inside `size`, not overlapping the
 * header or each other). The host writes the request and its fields only
 * while the guest waits in MOTE_HC_INVOKE; the guest writes the response
 * fields only while it runs. Both sides check every offset and length before
 * use, reading each field once (the other side may be hostile).
 * The messages themselves are opaque to the guest kernel and the monitor:
 * their encoding (lib/invoke_msg.h) is between the gateway and the runtime.
 * lib/invoke_region.c checks a header (shared by both sides; see
 * docs/hypercalls.md for the rules).
 */
#define MOTE_INVOKE_MAGIC 0x6b766e69u /* "invk" */
#define MOTE_INVOKE_VERSION 1u

struct mote_invoke_region {
	uint32_t magic;	   /* host: MOTE_INVOKE_MAGIC */
	uint32_t version;  /* host: MOTE_INVOKE_VERSION */
	uint64_t size;	   /* host: bytes of the whole region (== mote_attach.invoke_size) */
	uint64_t req_off;  /* host: request area */
	uint64_t req_cap;  /*       and its capacity */
	uint64_t resp_off; /* host: response area */
	uint64_t resp_cap; /*       and its capacity */
	uint64_t req_seq;  /* host: sequence number of the request in the request area (1, 2, ...) */
	uint64_t req_len;  /* host: its length in bytes, <= req_cap */
	uint64_t resp_seq; /* guest: req_seq of the request this message answers (0: none yet, the first
			      message) */
	uint64_t resp_len; /* guest: bytes of the message in the response area, <= resp_cap */
};

/* ---- Boot-info block ---------------------------------------------------- */

#define MOTE_BOOT_MAGIC 0x746f6f62u /* "boot" */

enum mote_mem_type {
	MOTE_MEM_RAM = 1,     /* free for the guest kernel to allocate */
	MOTE_MEM_MONITOR = 2, /* page tables, GDT, TSS, boot info: do not touch */
	MOTE_MEM_KERNEL = 3,  /* guest kernel image */
	MOTE_MEM_STACK = 4,   /* program stack (grows down from its end) */
	MOTE_MEM_GUARD = 5,   /* unmapped page below the stack */
	MOTE_MEM_ROOTFS = 6,  /* read-only rootfs image (cpio newc) */
};

struct mote_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint32_t type; /* enum mote_mem_type */
	uint32_t pad;
};

#define MOTE_MEM_REGIONS_MAX 16

/*
 * The guest clock, read at CPL3 without an exit:
 *   ns = anchor_ns + ((rdtsc - anchor_tsc) * tsc_mult) >> tsc_shift
 * The monitor writes it only while the vCPU is stopped: at boot and when a
 * snapshot is restored. A restore bumps `generation` (0 at boot) and
 * re-anchors: anchor_tsc is the restored TSC, anchor_monotonic_ns the
 * monotonic time the guest had reached at that TSC (so CLOCK_MONOTONIC never
 * goes back, and does not count time spent as a file), anchor_realtime_ns the
 * host's wall clock at the restore, and mult/shift follow the restoring host's
 * TSC rate. Readers copy the fields between two reads of `generation` and
 * retry when it changed (a restore can fall between any two instructions).
 */
struct mote_clock {
	uint64_t generation;
	uint64_t tsc_khz;
	uint64_t tsc_mult;
	uint32_t tsc_shift;
	uint32_t pad;
	uint64_t anchor_tsc;
	int64_t anchor_realtime_ns;
	uint64_t anchor_monotonic_ns;
};
#define MOTE_BOOT_FLAG_DEBUG 1u

/*
 * A function attached to a restored VM. The monitor writes it (after a
 * restore, while the vCPU is stopped, before it first runs) with `generation`
 * equal to the clock generation of that restore; 0 means nothing attached.
 * The guest kernel acts on it when the snapshot call it was saved in returns
 * (a base snapshot is always taken from inside the guest): it mounts the
 * bundle image (cpio newc, read-only) at /fn and opens the invoke channel
 * behind /dev/mote/invoke. Both regions lie outside guest RAM, in windows
 * that the boot page tables already map (vmm/layout.h), so attaching never
 * changes page tables.
 */
struct mote_attach {
	uint64_t generation;  /* clock generation this attach belongs to; 0: none */
	uint64_t bundle_gpa;  /* read-only bundle image (cpio newc), or 0: no bundle */
	uint64_t bundle_size; /* bytes */
	uint64_t invoke_gpa;  /* struct mote_invoke_region, or 0: no invoke channel */
	uint64_t invoke_size; /* bytes of the mapped region */
};

/*
 * What one of the host's stdin, stdout and stderr is (fstat, isatty and
 * TIOCGWINSZ on mote-vmm's fd 0, 1, 2), so that the guest's fds 0-2 look the
 * same to the program (file type, terminal or not, window size) and its libc
 * buffers output as it would natively. Written by the monitor at boot and at
 * every restore (a clone may run with other stdio than the original).
 */
#define MOTE_STDIO_TERMINAL 1u /* the host fd is a terminal (isatty) */
struct mote_stdio {
	uint32_t mode;	/* st_mode of the host fd (file type and permission bits); 0: closed */
	uint32_t flags; /* MOTE_STDIO_* */
	uint64_t rdev;	/* st_rdev (Linux encoding) of a character or block device, else 0 */
	uint16_t rows, cols, xpixel, ypixel; /* window size of a terminal (0 when unknown) */
};

/*
 * A console stream's output ring: `size` bytes at guest address `data`,
 * registered by the guest kernel at boot. The guest appends program output
 * and then advances `head` (bytes appended since boot); the monitor sends
 * bytes [tail, head) (at data + offset % size) to the host stream and then
 * advances `tail`. Each counter has one writer, so the monitor may drain the
 * ring while the vCPU runs (a thread of mote-vmm does, every few
 * milliseconds), at every exit, and before a crash report, a timeout or a
 * snapshot, without the program making an exit for its output. The guest
 * MUST store the bytes before it publishes `head`; the monitor MUST read them
 * before it publishes `tail`. `error` is set by the monitor (errno, e.g.
 * EPIPE) when the host stream failed; the bytes are then dropped, and the
 * guest fails the program's later writes with it. A restore clears it.
 */
struct mote_console_ring {
	uint64_t data; /* guest: gpa of the ring; 0: no ring */
	uint64_t size; /* guest: bytes */
	uint64_t head; /* guest: bytes appended so far */
	uint64_t tail; /* monitor: bytes sent (or dropped) so far */
	int64_t error; /* monitor: errno of the first failed write to the host stream, else 0 */
	uint64_t pad;
};

/*
 * Preemption of a program that runs long without a system call (docs/threads.md,
 * "Preemption"). The guest kernel fills in `entry`, `kernel_start` and
 * `kernel_end` at boot and keeps `contenders` up to date: the threads that
 * could use the vCPU now or at a deadline (not those waiting with no
 * deadline). While contenders > 1 the monitor kicks the vCPU every few
 * milliseconds; when it finds the vCPU in the program (rip outside
 * [kernel_start, kernel_end)), it stores the program's rip, rsp and rflags
 * here and sets rip to `entry`, leaving every other register as it was; the
 * guest kernel saves the rest, lets another thread run, and later resumes the
 * program exactly there. When the vCPU is in the guest kernel the monitor
 * sets `pending` instead, and the kernel yields when its system call returns.
 * `entry` 0: never preempt.
 */
struct mote_preempt {
	uint64_t entry;	       /* guest: the preemption entry point */
	uint64_t kernel_start; /* guest: the kernel's code and data, where it never preempts */
	uint64_t kernel_end;
	uint64_t rip, rsp, rflags; /* monitor: where the program was interrupted */
	uint32_t contenders;	   /* guest */
	uint32_t pending;	   /* monitor sets, guest clears */
	uint64_t switches;	   /* guest: preemptions that ran another thread */
};
_Static_assert(__builtin_offsetof(struct mote_preempt, rip) == MOTE_PREEMPT_RIP &&
		   __builtin_offsetof(struct mote_preempt, rsp) == MOTE_PREEMPT_RSP &&
		   __builtin_offsetof(struct mote_preempt, rflags) == MOTE_PREEMPT_RFLAGS,
	       "MOTE_PREEMPT_* offsets");

/*
 * Written by the monitor before the first instruction; its address is passed
 * in %rdi to the guest kernel's entry point. Strings are NUL-terminated and
 * lie inside the block's string area. The guest kernel writes the `prog_*`
 * fields once the program is loaded so that the monitor can attribute a
 * crash to the program.
 */
struct mote_boot_info {
	uint32_t magic;	      /* MOTE_BOOT_MAGIC */
	uint32_t abi_version; /* MOTE_ABI_VERSION */
	uint32_t flags;	      /* MOTE_BOOT_FLAG_* */
	uint32_t nregions;
	struct mote_mem_region regions[MOTE_MEM_REGIONS_MAX];
	uint64_t mem_size; /* guest RAM: [0, mem_size) */

	struct mote_clock clock; /* written by the monitor at boot and at every restore */

	uint8_t seed[32]; /* host entropy; replaced by fresh entropy at every restore */
	uint64_t hwcap;	  /* CPUID.1:EDX as the guest sees it, for AT_HWCAP (saves a CPUID exit) */

	/* Program to run: path in the rootfs, argv and envp (gpa of string arrays). */
	uint64_t exec_path; /* gpa of NUL-terminated path */
	uint32_t argc;
	uint32_t envc;
	uint64_t argv;	  /* gpa of argc uint64_t gpas of strings */
	uint64_t envp;	  /* gpa of envc uint64_t gpas of strings */
	uint64_t cmdline; /* gpa of kernel command line, e.g. "debug" */

	struct mote_stdio stdio[3];	     /* the host's fds 0, 1, 2; rewritten at every restore */
	struct mote_console_ring console[2]; /* stdout, stderr: registered by the guest kernel */

	/* Filled in by the guest kernel after loading the program. */
	uint64_t prog_start; /* lowest loaded address */
	uint64_t prog_end;   /* end of the highest segment */
	uint64_t prog_bias;  /* load bias (0 for ET_EXEC) */
	uint64_t prog_image; /* gpa of the program file's bytes inside the rootfs */
	uint64_t prog_image_size;

	struct mote_attach attach; /* written by the monitor when it attaches a function (see above) */

	uint64_t cwd; /* gpa of the program's first working directory (absolute), or 0: "/" */

	struct mote_preempt preempt; /* see above */
};

#endif /* __ASSEMBLER__ */
#endif /* MOTE_ABI_H */
