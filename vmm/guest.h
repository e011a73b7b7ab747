/* One guest as mote-vmm runs it: the VM, the loaded guest kernel and the boot-info block. */
#ifndef MOTE_VMM_GUEST_H
#define MOTE_VMM_GUEST_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <mote/abi.h>

#include "elf.h"
#include "err.h"
#include "snapfile.h"
#include "vm.h"

struct guest_config {
	const char
	    *restore_path; /* restore this snapshot instead of booting (kernel, rootfs, program unused) */
	const char *snapshot_path; /* where snapshots of this guest go, or NULL: none allowed */
	int exit_after_snapshot;   /* end mote-vmm (status 0) once a snapshot is written */
	const char *kernel_path;   /* the guest kernel ELF (restores: only for crash-report symbols) */
	int kernel_optional;	   /* restores: kernel_path is the default, and may be missing */
	const char *rootfs_path;   /* cpio image, or NULL */
	uint64_t mem_size;
	uint64_t timeout_ns; /* 0: none */
	int debug;
	const char *exec_path; /* program path inside the rootfs */
	int argc;
	char **argv; /* argv[0] is what the program sees as its name */
	int envc;
	char **envp;
	const char *cwd;	/* --cwd: the program's first working directory in the rootfs, or NULL: "/" */
	int control_fd;		/* --control: the supervisor's socket (restored guests only), or -1 */
	const char *layer_path; /* --layer: restore this layer over restore_path, or NULL */
	int layer_copy;		/* --layer-apply=copy: pread the layer's pages instead of mapping them */
	int die_with_parent;	/* --die-with-parent */
	int stdout_fd, stderr_fd; /* where the guest's stdout and stderr streams go (--log-fd moves
				     mote-vmm's own lines off stderr, never the guest's) */
};

/* The control channel and, once an ATTACH is accepted, the invoke doorbells (vmm/attach.c). */
struct guest_channel {
	int control_fd;	    /* the --control socket, or -1 */
	int attached;	    /* an ATTACH was accepted: the fields below are valid */
	int doorbell_guest; /* eventfd the supervisor rings when a request is ready */
	int doorbell_host;  /* eventfd mote-vmm rings when the guest handed over a message */
	void *waiting;	/* the guest's MOTE_HC_INVOKE waiting for a request (host pointer, any alignment), or
			   NULL */
	int take_layer; /* ATTACH asked for a layer (MOTE_CTL_F_TAKE_LAYER): written into layer_fd at the
			   guest's first MOTE_HC_INVOKE, which is then closed */
	int layer_fd;
	int workset_fd;	    /* ATTACH asked for the working set (MOTE_CTL_F_RECORD_WORKSET): written there at
			       the guest's second hand-over, then closed; or -1 */
	uint64_t handovers; /* MOTE_HC_INVOKE hand-overs since the ATTACH */
};

/* What a restore from a layer (--layer) brought, checked again at ATTACH (vmm/layer.c). */
struct guest_layer_origin {
	int active;		/* restored from a layer */
	uint64_t bundle_size;	/* the bundle the layer was taken with (0: none) */
	uint32_t bundle_crc32c; /* and its CRC-32C */
};

struct guest {
	struct vm vm;
	const struct guest_config *cfg;
	uint8_t *kernel_image; /* the guest kernel ELF file, kept for symbolizing */
	size_t kernel_size;
	struct mote_elf_info kernel;
	uint64_t stack_guard, stack_top;
	struct mote_boot_info *boot_info; /* host pointer into guest memory */
	uint64_t hypercall_count[MOTE_HC_COUNT];
	uint64_t bad_hypercalls;
	uint64_t exit_count; /* KVM_RUN returns with an exit (not counting signals) */
	struct guest_channel chan;
	int kernel_fd; /* restored guests: the kernel ELF (cfg->kernel_path), read on a crash; or -1 */
	uint8_t kernel_id[32]; /* SHA-256 of the kernel ELF file the guest booted (SNAP_SEC_KERNEL_ID) */
	int has_kernel_id;     /* kernel_id is known (restored, or computed for the first snapshot) */
	void *snapshot_call;   /* the guest's pending snapshot request: host pointer, any alignment */
	uint8_t snap_id[16];   /* restored guests: the id of the snapshot restored (a layer's base id) */
	int base_mem_fd;       /* restored with --control and no layer: the base's memory file, kept to
				  compare pages with when a layer is taken; or -1 */
	struct guest_layer_origin layer; /* restored from a layer: what it was taken with */
};

/*
 * Create the VM, load the guest kernel and rootfs, write the boot-info
 * block and set the vCPU to start the guest kernel. Returns 0 or -1 with *err.
 */
int guest_boot(struct guest *g, const struct guest_config *cfg, struct mote_err *err);

/* What guest_hypercall asks the run loop to do next. */
enum guest_next {
	GUEST_RESUME = 0,   /* run the guest on */
	GUEST_EXITED = 1,   /* the guest asked to end: guest_exit_state says how */
	GUEST_SNAPSHOT = 2, /* the guest asked for a snapshot (its result is already written) */
	GUEST_INVOKE = 3,   /* the guest handed over a message and waits for a request (chan.waiting) */
	GUEST_LAYER = 4,    /* as GUEST_INVOKE, but a layer is to be taken first and the host doorbell is
			       not rung yet (guest_ring_host) */
	GUEST_WORKSET = 5,  /* as GUEST_LAYER, for the working set (the second hand-over, one asked for) */
};

/*
 * Handle the hypercall the guest just made through port `port` with the
 * 32-bit struct address `arg` (any alignment). Bad guest input never fails
 * the monitor. A sleep blocks for at most GUEST_SLEEP_MAX_NS.
 */
enum guest_next guest_hypercall(struct guest *g, uint16_t port, uint32_t arg);

/* The longest one sleep hypercall blocks the monitor; the guest kernel sleeps again for the rest. */
#define GUEST_SLEEP_MAX_NS 1000000000ull

/* Ring the supervisor's doorbell (the guest handed over a message). */
void guest_ring_host(struct guest *g);

/* The snapshot the guest asked for (GUEST_SNAPSHOT) could not be written: its call returns -EIO. */
void guest_snapshot_failed(struct guest *g);

/*
 * Write a snapshot of the guest to cfg->snapshot_path (and its ".mem"
 * memory file), completing any pending port I/O first so the vCPU resumes
 * after the instruction that exited. The guest is paused while its memory is
 * copied into the files (temporary names). Then, with `wait`, the files are
 * synced and renamed into place before returning; without, a thread does
 * that while the guest runs on, and guest_snapshot_finish reports how it
 * went. `requester` (or 0) is answered when the files are in place or could
 * not be written (guest_snapshot_answer). Returns 0, or -1 with *err
 * (MOTE_STATUS_SNAP_WRITE) with nothing left behind (the requester is then
 * not answered: the caller does it). MUST NOT be called while a previous
 * snapshot is unfinished.
 */
int guest_snapshot(struct guest *g, int wait, pid_t requester, struct mote_err *err);

/*
 * Get ready for snapshots of a booted guest: start computing the kernel
 * identity (SHA-256 of g->kernel_image, which MUST stay unchanged) in a
 * thread, so the first snapshot does not pause the guest for it. Optional:
 * without it, the first snapshot computes the identity itself.
 */
void guest_snapshot_prepare(struct guest *g);

/*
 * Answer `mote snapshot take` in process `requester` (0: nobody asked):
 * SIGUSR1 when the snapshot is in place, SIGUSR2 when it failed, queued with
 * MOTE_SNAPSHOT_REQUEST. guest_snapshot answers by itself once the files are
 * in place or could not be; this is for the failures before that.
 */
void guest_snapshot_answer(pid_t requester, int ok);

/*
 * Collect a snapshot being synced in the background: when it has finished,
 * or always (waiting for it, and for guest_snapshot_prepare's thread) with
 * `block`, as before mote-vmm ends. Returns 0 (nothing pending, still
 * running, or committed: a --debug line then says how long it took), or -1
 * with *err when it could not be written (nothing was left behind).
 */
int guest_snapshot_finish(int block, struct mote_err *err);

/*
 * Finish the exit in flight (the `out` of a hypercall) without running the
 * guest on, so that the saved rip points past it. Returns 0 or -1 with *err
 * (MOTE_STATUS_SNAP_WRITE).
 */
int guest_complete_exit(struct guest *g, struct mote_err *err);

/*
 * Build a snapshot state file of the stopped guest (guest_complete_exit
 * first) with id `id` into `w` (snap_begin is called here; the caller frees
 * it with snap_writer_free also on failure). Returns 0 or -1 with *err.
 */
int guest_build_state(struct guest *g, const uint8_t id[16], struct snap_writer *w, struct mote_err *err);

/*
 * Restore the snapshot cfg->restore_path into a new VM, ready to resume:
 * memory mapped MAP_PRIVATE from the memory file, vCPU state loaded, clock
 * re-anchored, fresh seed, generation bumped. Every check (format, checksum,
 * versions, CPU features, memory file) happens before any guest code runs.
 * Returns 0 or -1 with *err (MOTE_STATUS_SNAP_* or MOTE_STATUS_NOT_FOUND).
 */
int guest_restore(struct guest *g, const struct guest_config *cfg, struct mote_err *err);

/*
 * Open the input file `path` (`what` names it in errors: "guest kernel",
 * "rootfs image") if it is a regular file, without blocking on a FIFO or
 * device (mote_open_regular). Returns the fd, or -1 with *err: status
 * MOTE_STATUS_NOT_FOUND when it does not exist, `status` otherwise.
 */
int guest_open_input(const char *path, const char *what, int status, struct mote_err *err);

/*
 * Read and check the guest kernel ELF open at `fd` (`path` names it in
 * errors) into g->kernel_image and g->kernel (no guest memory is touched).
 * Returns 0 or -1 with *err (MOTE_STATUS_BAD_KERNEL).
 */
int guest_read_kernel(struct guest *g, int fd, const char *path, struct mote_err *err);

/* Host clock `id` in nanoseconds. */
uint64_t guest_host_ns(clockid_t id);

/* Set the clock's TSC rate fields for a host TSC of `tsc_khz`. */
void guest_clock_rate(struct mote_clock *c, uint64_t tsc_khz);

/*
 * For a crash report: " (...)" saying which attach window guest-physical
 * `gpa` lies in and why an access there fails (nothing attached, past the
 * attached size, a write to the read-only bundle), or "" outside them.
 */
const char *guest_window_note(const struct guest *g, uint64_t gpa, int is_write);

/* Print a crash report for the current vCPU state with the given reason. */
void guest_crash_report(struct guest *g, const char *reason);

/* Set by guest_hypercall on MOTE_HC_EXIT. */
struct guest_exit {
	int exited;
	uint32_t reason;
	int32_t status;
	char msg[513];
	uint64_t rip, rsp;
};
extern struct guest_exit guest_exit_state;

#endif /* MOTE_VMM_GUEST_H */
