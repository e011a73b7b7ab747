/* Exit statuses of mote and mote-vmm when the program itself did not decide them. */
#ifndef MOTE_STATUS_H
#define MOTE_STATUS_H

/*
 * A program's own exit code (0-255) is passed through unchanged. Failures
 * before the program starts exit with one of the codes below, after one line
 * on stderr that starts with "mote:" or "mote-vmm:". Failures after it has
 * started (crash, abort, timeout) end mote-vmm with a signal, like a native
 * process: no exit() of the program can produce a death by signal, so a
 * caller using waitpid() tells them apart (a shell shows 128 + signal).
 * docs/run.md has the table.
 */
enum mote_status {
	MOTE_STATUS_USAGE = 64,		 /* bad command line or flag value */
	MOTE_STATUS_NOT_ELF = 65,	 /* program is not an ELF file or its headers are corrupt */
	MOTE_STATUS_NOT_FOUND = 66,	 /* program, rootfs or other input file missing */
	MOTE_STATUS_UNSUPPORTED = 67,	 /* 32-bit, other machine, not an executable */
	MOTE_STATUS_DYNAMIC = 68,	 /* dynamically linked (has PT_INTERP) */
	MOTE_STATUS_TRUNCATED = 69,	 /* segments reach past the end of the file */
	MOTE_STATUS_TOO_BIG = 70,	 /* does not fit in --mem */
	MOTE_STATUS_BAD_KERNEL = 71,	 /* guest kernel image invalid or of another ABI version */
	MOTE_STATUS_HOST = 72,		 /* host failure: no /dev/kvm, out of memory, I/O error */
	MOTE_STATUS_ROOTFS = 73,	 /* rootfs directory or image cannot be packed or read */
	MOTE_STATUS_SNAP_TRUNCATED = 74, /* snapshot state file shorter than its header says */
	MOTE_STATUS_SNAP_CORRUPT = 75,	 /* not a snapshot, checksum mismatch, malformed or inconsistent */
	MOTE_STATUS_SNAP_FOREIGN = 76,	 /* snapshot of another format or hypercall ABI version */
	MOTE_STATUS_SNAP_INCOMPATIBLE =
	    77,			     /* needs CPU features this host lacks; memory file does not match */
	MOTE_STATUS_SNAP_WRITE = 78, /* a snapshot (or layer) could not be written */
	MOTE_STATUS_LAYER_BASE = 79, /* a layer (--layer) lies on another base snapshot than --restore's */
	/* The function platform's CLI commands (deploy, invoke, ls, logs, rm; docs/functions.md). */
	MOTE_STATUS_NO_SERVER = 80,	 /* nothing answers at the admin socket (`mote serve` not running) */
	MOTE_STATUS_NO_FUNCTION = 81,	 /* no function of that name is deployed */
	MOTE_STATUS_BUNDLE_REFUSED = 82, /* the function failed to initialise (Lua error, no handle(), ...) */
	MOTE_STATUS_FN_ERROR = 83,	 /* invoke: the function answered with a non-2xx status */
	MOTE_STATUS_SERVER_ERROR = 84,	 /* the server refused or failed a management request */
	MOTE_STATUS_NO_BASE = 85,	 /* `mote base`: no base with that id */
	MOTE_STATUS_BASE_FAILED = 86,	 /* `mote base build`: the runtime did not reach its snapshot */
	/* `mote build` (docs/build.md). */
	MOTE_STATUS_MOTEFILE = 87,    /* Motefile syntax or meaning: unknown instruction, bad quoting, ... */
	MOTE_STATUS_BUILD_INPUT = 88, /* a COPY/ADD source or FROM image missing, unreadable or outside DIR */
	MOTE_STATUS_IMAGE_WRITE = 89, /* the image could not be written (nothing is left at the output) */
	/* mote-vmm --control: an ATTACH refused (include/mote/control.h); nothing of the guest ran. */
	MOTE_STATUS_CTL_PROTOCOL = 90,	/* a control message not as control.h says, or the wrong fds */
	MOTE_STATUS_ATTACH_BUNDLE = 91, /* bundle fd not a regular file, shorter than bundle_size, too big */
	MOTE_STATUS_ATTACH_INVOKE = 92, /* invoke fd not a writable memfd, too small, or a bad header */
	MOTE_STATUS_ATTACH_DOORBELL = 93, /* a doorbell fd is not an eventfd, or both are the same */
	MOTE_STATUS_ATTACH_LAYER = 94,	  /* the layer fd is not a writable regular file, or no layer can be
					     taken of this VM (it was restored from one) */
	MOTE_STATUS_ATTACH_WORKSET = 95,  /* the working set fd: unreadable, not a working set of this guest,
					     or  not writable (lib/workset.h) */
};

/* Signals that end mote-vmm for failures after the guest started. */
#define MOTE_SIGNAL_CRASH 11	/* SIGSEGV: guest fault, triple fault, guest kernel panic */
#define MOTE_SIGNAL_ABORT 6	/* SIGABRT: program raised SIGABRT (abort()) */
#define MOTE_SIGNAL_TIMEOUT 14	/* SIGALRM: --timeout expired */
#define MOTE_SIGNAL_DEADLOCK 24 /* SIGXCPU: every thread of the program waits forever (a deadlock) */

/*
 * `mote snapshot take PID` asks mote-vmm for a snapshot with sigqueue(PID,
 * SIGUSR1, MOTE_SNAPSHOT_REQUEST) and waits for the answer mote-vmm queues
 * back to it once the snapshot is in place (SIGUSR1) or could not be written
 * (SIGUSR2), with the same value. A plain SIGUSR1 (kill) gets no answer.
 */
#define MOTE_SNAPSHOT_REQUEST 0x6d6f7465 /* "mote" */

#endif /* MOTE_STATUS_H */
