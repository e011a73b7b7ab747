/* mote-oci's state per container under --root: ROOT/ID/state.json, written atomically, under ROOT/ID/lock. */
#ifndef MOTE_OCI_STATE_H
#define MOTE_OCI_STATE_H

#include <jansson.h>
#include <limits.h>
#include <sys/types.h>

#include "err.h"

struct oci_state {
	char id[256];
	char dir[PATH_MAX]; /* ROOT/ID */
	char bundle[PATH_MAX];
	char status[16]; /* as last written: creating, created, running (stopped is found, not written) */
	pid_t pid;	 /* the container's process (the waiting process, then mote-vmm) */
	unsigned long long start_time; /* its start time (/proc/PID/stat field 22), against pid reuse */
	char created[40];	       /* RFC 3339 */
	char cgroup[64];	       /* the mote cgroup's name, or "" */
	json_t *annotations;	       /* owned */
	int lock_fd;
};

/* A container id runc would accept: [A-Za-z0-9_.+-]{1,255}, not "." or "..". */
int oci_id_valid(const char *id);

/* Make ROOT/ID (mode 0700; ROOT and its missing parents too) and lock it. -1 with *err (OCI_STATUS_EXISTS
 * when it exists). */
int oci_state_new(const char *root, const char *id, struct oci_state *st, struct mote_err *err);

/* Lock ROOT/ID and read its state. Returns 0, 1 when no container has that id, -1 with *err. */
int oci_state_load(const char *root, const char *id, struct oci_state *st, struct mote_err *err);

/* Write st as ROOT/ID/state.json (temporary file, then rename). -1 with *err. */
int oci_state_save(const struct oci_state *st, struct mote_err *err);

/* The status now: "stopped" once the process is gone (or a zombie), "paused" when it is stopped. */
const char *oci_state_status(const struct oci_state *st);

/* The start time of process pid, or 0 when it is gone. */
unsigned long long oci_proc_start_time(pid_t pid);

/* The state JSON of the runtime spec (ociVersion, id, status, pid, bundle, annotations); caller frees. */
char *oci_state_json(const struct oci_state *st, int pretty);

/* Remove ROOT/ID and everything in it; release the lock. */
void oci_state_remove(struct oci_state *st);

/* Release the lock and free. */
void oci_state_close(struct oci_state *st);

#endif /* MOTE_OCI_STATE_H */
