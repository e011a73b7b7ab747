/* mote-vmm's control channel: how a supervisor (the function gateway) attaches a function to a restored VM.
 */
#ifndef MOTE_CONTROL_H
#define MOTE_CONTROL_H

/*
 * Host-only (C99, <stdint.h>). The supervisor starts
 *   mote-vmm --restore BASE.snap --control FD ...
 * with FD one end of a socketpair(AF_UNIX, SOCK_SEQPACKET). mote-vmm
 * restores the snapshot, sends READY and waits, vCPU stopped (a pooled VM
 * costs no CPU), for ATTACH. ATTACH carries, as SCM_RIGHTS in this order:
 *   [0] the bundle image (cpio newc, read-only; omitted when bundle_size is 0)
 *   [1] the invoke region (a memfd of invoke_size bytes, already holding its
 *       struct mote_invoke_region header, see <mote/abi.h>)
 *   [2] doorbell to the guest: an eventfd the supervisor writes 1 to when a
 *       request is in the request area
 *   [3] doorbell to the host: an eventfd mote-vmm writes 1 to when the guest
 *       handed over a message (MOTE_HC_INVOKE)
 * mote-vmm checks the fds and sizes (the bundle a regular file of at least
 * bundle_size bytes; the region a memfd not sealed against writes, of at
 * least invoke_size bytes, whose header lib/invoke_region.c accepts; the
 * doorbells two distinct eventfds), maps the bundle read-only and the
 * invoke region read-write into the attach windows of guest memory, writes
 * the boot info's `attach`, answers RUNNING (status 0) and runs the guest
 * (--timeout counts from then). A refused ATTACH is answered with RUNNING,
 * a non-zero MOTE_STATUS_* (MOTE_STATUS_CTL_PROTOCOL, _ATTACH_BUNDLE,
 * _ATTACH_INVOKE, _ATTACH_DOORBELL in lib/status.h) and one line of text,
 * and mote-vmm exits with that status.
 *
 * When the supervisor closes its end (or dies), mote-vmm ends the VM (exit
 * status MOTE_STATUS_HOST with one line): at once before ATTACH, at the
 * latest when the guest next waits on the invoke channel after it. Every
 * message is one datagram of exactly sizeof(struct mote_ctl_msg) bytes;
 * anything else is refused; after RUNNING mote-vmm reads nothing more but
 * the hang-up. The guest's console output stays on mote-vmm's stdout and
 * stderr. docs/hypercalls.md has the details.
 *
 * Layers (docs/snapshots.md, "Layers"). READY carries MOTE_CTL_F_LAYERS when
 * this mote-vmm can take and restore them (a mote-vmm from before layers
 * sends 0 there: the field was the unused end of `text`). An ATTACH with
 * MOTE_CTL_F_TAKE_LAYER carries a fifth fd after the doorbells: a regular
 * file open for writing (not O_APPEND). When the guest first hands over a
 * message (the runtime's READY: its function is loaded and initialised),
 * mote-vmm writes a layer of the VM on its base into that file, sends LAYER
 * (status 0, layer_bytes, layer_pages; or a MOTE_STATUS_* and a line when it
 * could not: the VM goes on) and only then rings the host doorbell. The file
 * is written, not synced: the supervisor syncs and renames it.
 *
 * `mote-vmm --restore BASE.snap --layer FUNC.layer --control FD` restores a
 * layer: READY also has MOTE_CTL_F_FROM_LAYER; the ATTACH is as always (the
 * same bundle the layer was taken with, else MOTE_STATUS_ATTACH_BUNDLE, and a
 * fresh invoke region and doorbells; MOTE_CTL_F_TAKE_LAYER is refused with
 * MOTE_STATUS_ATTACH_LAYER) and RUNNING has MOTE_CTL_F_FROM_LAYER: the
 * function is loaded already, and its first message on the new channel is
 * empty (resp_seq 0, resp_len 0) in place of the runtime's READY.
 *
 * Working sets (lib/workset.h; docs/snapshots.md, "Working sets"). READY
 * carries MOTE_CTL_F_WORKSET when this mote-vmm takes them. An ATTACH with
 * MOTE_CTL_F_PREFAULT carries, after the doorbells and any layer fd, an fd
 * to read a working set of this guest from (at most MOTE_WS_MAX bytes, from
 * offset 0): its pages are faulted in, written (MADV_POPULATE_WRITE), before
 * the guest runs; a set that lib/workset.c refuses is MOTE_STATUS_ATTACH_WORKSET.
 * An ATTACH with MOTE_CTL_F_RECORD_WORKSET carries, after those, a regular
 * file (or memfd) open for writing: when the guest hands over its second
 * message (the response to the first request), mote-vmm writes there, at
 * offset 0, the working set of the pages the VM touched since its restore
 * and sends WORKSET (status 0, layer_bytes: its bytes, layer_pages: its
 * pages; or a MOTE_STATUS_* and a line). A VM that ends before does not.
 */

#include <stdint.h>

#define MOTE_CTL_MAGIC 0x6c74636du /* "mctl" */
#define MOTE_CTL_VERSION 1u

enum mote_ctl_type {
	MOTE_CTL_READY = 1,   /* mote-vmm -> supervisor: restored, waiting for ATTACH */
	MOTE_CTL_ATTACH = 2,  /* supervisor -> mote-vmm: with the fds above */
	MOTE_CTL_RUNNING = 3, /* mote-vmm -> supervisor: attached and running (status 0), or refused */
	MOTE_CTL_LAYER = 4,   /* mote-vmm -> supervisor: the layer asked for is written (status 0), or not */
	MOTE_CTL_WORKSET =
	    5, /* mote-vmm -> supervisor: the working set asked for is written (status 0), or not */
};

/* Bits of mote_ctl_msg.flags. Unknown bits in an ATTACH are refused (MOTE_STATUS_CTL_PROTOCOL). */
enum mote_ctl_flags {
	MOTE_CTL_F_LAYERS = 1u << 0,	 /* READY: this mote-vmm takes and restores layers */
	MOTE_CTL_F_TAKE_LAYER = 1u << 1, /* ATTACH: a fifth fd follows; write a layer there at READY */
	MOTE_CTL_F_FROM_LAYER = 1u << 2, /* READY, RUNNING: restored from a layer, the function is loaded */
	MOTE_CTL_F_WORKSET = 1u << 3,	 /* READY: this mote-vmm takes working sets */
	MOTE_CTL_F_PREFAULT = 1u << 4,	 /* ATTACH: a working set fd follows; fault its pages in first */
	MOTE_CTL_F_RECORD_WORKSET = 1u << 5, /* ATTACH: a writable fd follows; the working set goes there */
};

/* Largest bundle image and invoke region (the sizes of the attach windows, vmm/layout.h). */
#define MOTE_CTL_BUNDLE_MAX (4ull << 30)
#define MOTE_CTL_INVOKE_MAX (1ull << 30)

struct mote_ctl_msg {
	uint32_t magic;	      /* MOTE_CTL_MAGIC */
	uint32_t version;     /* MOTE_CTL_VERSION */
	uint32_t type;	      /* enum mote_ctl_type */
	int32_t status;	      /* RUNNING, LAYER: 0, or a MOTE_STATUS_* (RUNNING: what mote-vmm exits with) */
	uint64_t bundle_size; /* ATTACH: bytes of the bundle image (<= its file's size), 0: no bundle */
	uint64_t
	    invoke_size; /* ATTACH: bytes of the invoke region, a multiple of 4096, <= its memfd's size */
	char text[224];	 /* RUNNING, LAYER with status != 0: one line, NUL-terminated */
	uint32_t flags;	 /* enum mote_ctl_flags (0 from a peer that predates them) */
	uint32_t reserved;
	uint64_t layer_bytes; /* LAYER: size of the layer file written */
	uint64_t layer_pages; /* LAYER: guest pages it holds */
	uint64_t reserved2;
};

#endif /* MOTE_CONTROL_H */
