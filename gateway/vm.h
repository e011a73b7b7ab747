/* One function VM as the gateway sees it: a mote-vmm process restored from a base, attached, spoken to
 * through its invoke region. */
#ifndef MOTE_GATEWAY_VM_H
#define MOTE_GATEWAY_VM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <h2o.h> /* built with -DH2O_USE_LIBUV=0: h2o's own event loop */

#include "err.h"
#include "invoke_msg.h"

struct base;
struct fnlog;
struct vm;

/*
 * The invoke region's layout: a 4 KiB header page, then the request area,
 * then the response area. A request (encoded) and a response (encoded)
 * are each at most this large.
 */
#define VM_REQ_CAP (8ull << 20)
#define VM_RESP_CAP (8ull << 20)

/*
 * What a VM reports to its owner; each is called from the event loop. After
 * `exited` returns, the vm is freed: no call on it may follow.
 */
struct vm_events {
	/* Restored (mote-vmm's READY) and waiting, vCPU stopped, for vm_attach (only a VM started with
	 * vm_spawn and not yet attached; may be NULL otherwise). */
	void (*restored)(struct vm *vm, void *owner);
	/* The runtime loaded the function (READY, text: the runtime's identity); the VM is idle. */
	void (*ready)(struct vm *vm, void *owner, const char *text, size_t len);
	/* The runtime could not load it (INIT_ERROR, text: why); the VM is being killed, `exited` follows. */
	void (*init_error)(struct vm *vm, void *owner, const char *text, size_t len);
	/* The answer to the request given to vm_request, checked; views valid during the call only. The VM is
	 * idle. */
	void (*response)(struct vm *vm, void *owner, const struct mote_msg_response *res);
	/* The layer asked with vm_take_layer was written into its fd (status 0, `bytes` long) or not (a
	 * MOTE_STATUS_* and `text`); comes before `ready` (may be NULL when no layer is asked). */
	void (*layer)(struct vm *vm, void *owner, int status, uint64_t bytes, const char *text);
	/* The process is gone (crash, exit, kill); `why` is one line: the kill's reason or mote-vmm's last
	 * words. */
	void (*exited)(struct vm *vm, void *owner, const char *why);
	/*
	 * Working sets (include/mote/control.h; all three may be NULL: none used or recorded). At the ATTACH:
	 * `workset` gives the set to fault in (a memfd the caller keeps), or -1; then, without one,
	 * `workset_wanted` says whether this VM records one. A VM that records calls `workset_done` once:
	 * with the memfd it wrote (valid during the call; lib/workset.c has not checked it) or, with -1, when
	 * it ends without one (before `exited`).
	 */
	int (*workset)(struct vm *vm, void *owner);
	int (*workset_wanted)(struct vm *vm, void *owner);
	void (*workset_done)(struct vm *vm, void *owner, int fd);
};

/* What to start. */
struct vm_spec {
	const char *vmm;      /* the mote-vmm binary */
	const char *snapshot; /* the base snapshot to restore */
	struct base *base;    /* the base it belongs to (vm_base, vm_count_on_base); may be NULL */
	int bundle_fd;	      /* the bundle image (read-only; the VM gets its own reference) */
	uint64_t bundle_size;
	struct fnlog *log; /* the VM's stdout and stderr go here (may be NULL) */
	const char *layer; /* restore this function layer over the base (--layer), or NULL */
};

/*
 * Start a VM: mote-vmm --restore SNAPSHOT --control 3 --die-with-parent
 * (through spawn_vmm), then, driven by the loop, ATTACH the bundle and a
 * fresh invoke region, and wait for the runtime's first message (ready or
 * init_error). With spec->layer, mote-vmm restores the layer over the
 * base: the function is loaded already, and the runtime's first message is
 * empty, reported as `ready` with an empty text. A layer mote-vmm refuses
 * ends the process with its status (vm_exit_code; 79: another base).
 * Returns the vm or NULL with *err. (vm_spawn + vm_attach.)
 */
struct vm *vm_start(h2o_loop_t *loop, const struct vm_spec *spec, const struct vm_events *ev, void *owner,
		    struct mote_err *err);

/*
 * Start a VM without a function: mote-vmm restores `snapshot` and waits at
 * READY (vCPU stopped); `restored` is called then, and the VM stays paused
 * until vm_attach (a pool's VM). Its invoke region and doorbells are made
 * here, so that an attach costs one control message. `base` is the base
 * `snapshot` belongs to (vm_base, vm_count_on_base: it keeps the base's
 * files; may be NULL). `log` gets its output (may be NULL). Returns the vm
 * or NULL with *err.
 */
struct vm *vm_spawn(h2o_loop_t *loop, const char *vmm, const char *snapshot, struct base *base,
		    const struct vm_events *ev, void *owner, struct fnlog *log, struct mote_err *err);

/*
 * Attach a function to a VM from vm_spawn that has not been attached yet:
 * ATTACH goes out now if the VM is restored, else as soon as it is. From
 * then on its events go to ev/owner and its output to `log`. bundle_fd is
 * duplicated (the caller keeps its own). Returns 0, or -1 (the VM is dead
 * or already attached; nothing changed).
 */
int vm_attach(struct vm *vm, int bundle_fd, uint64_t bundle_size, struct fnlog *log,
	      const struct vm_events *ev, void *owner);

/*
 * Ask the VM (not yet attached, not restored from a layer) to write a layer
 * of itself into `fd` (a regular file open for writing; the VM uses its own
 * duplicate) when the runtime first signals ready: the `layer` event
 * reports the result before `ready` (for a VM still restoring whose
 * mote-vmm turns out to take no layers: at its READY, with a failure).
 * Call it before vm_attach, or right after vm_start. Returns 0, or -1 (too late, a paused VM whose
 * mote-vmm takes no layers, or fd cannot be duplicated).
 */
int vm_take_layer(struct vm *vm, int fd);

/*
 * Milliseconds from RUNNING to the runtime's first message (the function's
 * load and initialisation; with a layer taken, its writing too), or -1
 * before the VM is ready.
 */
double vm_load_ms(const struct vm *vm);

/* Was the VM restored from a function layer (vm_spec.layer)? */
int vm_from_layer(const struct vm *vm);

/* During `exited`: mote-vmm's exit status, or -1 when it was killed by a signal or vanished. */
int vm_exit_code(const struct vm *vm);

/*
 * Limit the VM's CPU as its function asks (quota_us per 100 ms, weight;
 * 0: unchanged). Returns 0, 1 when the VM is unjailed (no limit possible),
 * or -1 with *err.
 */
int vm_set_cpu(struct vm *vm, uint64_t quota_us, unsigned weight, struct mote_err *err);

/* Is the VM restored and waiting for vm_attach (READY seen, no ATTACH sent)? */
int vm_is_paused(const struct vm *vm);

/* Memory of the VM's mote-vmm process, from /proc/PID/smaps_rollup: private and shared bytes (Rss split). */
struct vm_memory {
	uint64_t private_bytes, shared_bytes;
};

/*
 * Measure the VM's memory, at most once per `max_age_ms` (else the last
 * figures). Returns 0, or -1 when the process cannot be read (it is gone).
 */
int vm_memory(struct vm *vm, uint64_t max_age_ms, struct vm_memory *out);

/* Parse the text of a smaps_rollup file into *out (Private_* and Shared_* lines). Returns 0 or -1. */
int vm_parse_smaps_rollup(const char *text, struct vm_memory *out);

/* Milliseconds the VM took from spawn to READY (0 before READY). */
double vm_restore_ms(const struct vm *vm);

/*
 * Milliseconds to the runtime's first message (the VM ready to serve), from the spawn (from_attach 0) or
 * from the vm_attach (1); -1 before it.
 */
double vm_ready_ms(const struct vm *vm, int from_attach);

/* Give the VM to another owner (and log), e.g. a deploy's checked VM to its function's pool. */
void vm_set_owner(struct vm *vm, const struct vm_events *ev, void *owner, struct fnlog *log);

/*
 * Hand an idle VM a request: encoded straight into its request area, then
 * the doorbell. Returns 0 (the `response` or `exited` event follows),
 * MOTE_MSG_NO_ROOM (larger than VM_REQ_CAP) or MOTE_MSG_MALFORMED (a
 * field the codec refuses); the VM stays idle on failure.
 */
int vm_request(struct vm *vm, const struct mote_msg_request_fields *req);

/* Kill the VM now (SIGKILL); `exited` follows with `why`. Idempotent. */
void vm_kill(struct vm *vm, const char *why);

/* The base the VM was restored from (vm_spec.base). */
struct base *vm_base(const struct vm *vm);

/* How many VMs restored from base snapshot b are alive (until their `exited` event). */
unsigned vm_count_on_base(const struct base *b);

/* The mote-vmm process id. */
pid_t vm_pid(const struct vm *vm);

/* Kill every VM still running and wait for each (the gateway is stopping). */
void vm_kill_all(void);

#endif /* MOTE_GATEWAY_VM_H */
