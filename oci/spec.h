/* config.json (OCI runtime spec) -> what mote-oci runs: parsed with jansson, checked, mote's image keys. */
#ifndef MOTE_OCI_SPEC_H
#define MOTE_OCI_SPEC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Exit statuses of mote-oci's own refusals (docs/oci.md); mote's statuses (lib/status.h) stay below 100. */
enum oci_status {
	OCI_STATUS_NO_CONFIG = 100,	 /* the bundle has no config.json (or no such bundle) */
	OCI_STATUS_BAD_JSON = 101,	 /* config.json (or /.mote/annotations.json) is not valid JSON */
	OCI_STATUS_BAD_VERSION = 102,	 /* ociVersion missing or of another major version than 1 */
	OCI_STATUS_BAD_CONFIG = 103,	 /* a field of the wrong type or a value mote cannot honour */
	OCI_STATUS_BAD_ANNOTATION = 104, /* an org.mote.* or com.urunc.* annotation mote cannot use */
	OCI_STATUS_NO_CONTAINER = 105,	 /* no container of that id */
	OCI_STATUS_EXISTS = 106,	 /* a container of that id exists already */
	OCI_STATUS_BAD_STATE = 107,	 /* the container is not in a state that allows the command */
	OCI_STATUS_EXEC_REFUSED = 108,	 /* `exec`: one program per VM */
	OCI_STATUS_HOOK = 109,		 /* a hook failed (or timed out) */
};

/* The spec's hook points, in the order the spec lists them. */
enum oci_hook_point {
	OCI_HOOK_PRESTART,
	OCI_HOOK_CREATE_RUNTIME,
	OCI_HOOK_CREATE_CONTAINER,
	OCI_HOOK_START_CONTAINER,
	OCI_HOOK_POSTSTART,
	OCI_HOOK_POSTSTOP,
	OCI_HOOK_NPOINTS
};

struct oci_hook {
	const char *path;
	const char **args; /* NULL-terminated (may be NULL) */
	const char **env;  /* NULL-terminated (may be NULL) */
	int timeout_s;	   /* 0: none */
};

struct oci_namespace {
	int clone_flag;	  /* CLONE_NEW* */
	const char *type; /* as in config.json */
	const char *path; /* join this one, or NULL for a new one */
};

struct oci_rlimit {
	int resource; /* RLIMIT_* */
	uint64_t soft, hard;
};

#define OCI_MAX_NS 8
#define OCI_MAX_RLIMITS 16
#define OCI_MAX_WARNINGS 32

/*
 * A parsed config.json. Every string points into `doc` (kept until
 * oci_spec_free); arrays are NULL-terminated and owned by the spec.
 */
struct oci_spec {
	json_t *doc;
	const char *oci_version;
	const char **args, **env; /* process.args (at least one), process.env (may be empty) */
	int nargs, nenv;
	const char *cwd; /* process.cwd, "/" when absent */
	int terminal;
	uint32_t uid, gid;
	struct oci_rlimit rlimits[OCI_MAX_RLIMITS];
	int nrlimits;
	const char *root_path; /* root.path as written (relative to the bundle or absolute) */
	int root_readonly;
	const char *hostname; /* or NULL */
	struct oci_namespace ns[OCI_MAX_NS];
	int nns;
	/* linux.resources (0: unset) */
	int64_t cpu_quota, cpu_period;
	uint64_t cpu_shares;
	int64_t mem_limit, pids_limit;
	struct oci_hook *hooks[OCI_HOOK_NPOINTS];
	int nhooks[OCI_HOOK_NPOINTS];
	json_t *annotations; /* an object (borrowed from doc, or an empty one owned by the spec) */
	const char
	    *warnings[OCI_MAX_WARNINGS]; /* owned (malloc'd) lines about fields that mean nothing for a VM */
	int nwarnings;
};

/*
 * Parse `len` bytes of config.json text into *spec (zeroed first). Returns 0,
 * or -1 with *err: OCI_STATUS_BAD_JSON for text that is not JSON,
 * OCI_STATUS_BAD_VERSION for an ociVersion whose major is not 1, and
 * OCI_STATUS_BAD_CONFIG for a field of the wrong type or a required field
 * missing (process.args, root.path). Fields that mean nothing for a VM
 * are added to spec->warnings. On failure *spec needs no oci_spec_free.
 */
int oci_spec_parse(const char *text, size_t len, struct oci_spec *spec, struct mote_err *err);

/* Free what oci_spec_parse allocated. */
void oci_spec_free(struct oci_spec *spec);

/* The name of a hook point as config.json spells it ("prestart", "createRuntime", ...). */
const char *oci_hook_name(enum oci_hook_point p);

/* What makes a bundle a mote unikernel image, from its annotations. */
struct oci_image {
	int is_mote;	     /* 1: a mote image; 0: an ordinary one (for runc) */
	const char *kernel;  /* guest kernel path inside the rootfs, or NULL for the installed mote-kernel */
	const char *program; /* program path inside the rootfs, or NULL for process.args[0] */
	uint64_t mem;	     /* guest memory in bytes (default 64 MiB, rounded up to 2 MiB) */
	const char *cmdline; /* com.urunc.unikernel.cmdline: arguments after the program, or NULL */
};

/*
 * Decide from the annotations of config.json (`cfg`, an object or NULL) and
 * of the rootfs's /.mote/annotations.json (`rootfs`, an object or NULL;
 * config.json's keys win) whether this is a mote image, and fill *img
 * (strings borrowed from the objects). Keys: org.mote.kernel,
 * org.mote.program, org.mote.mem; urunc's com.urunc.unikernel.binary
 * (program), .cmdline, .unikernelType ("mote" only), .hypervisor ("mote"
 * only), .initrd (refused). Returns 0, or -1 with *err
 * (OCI_STATUS_BAD_ANNOTATION) for a value that is not a string, a path that
 * is not absolute, a size that is not one (16M..32G), or a urunc type or
 * hypervisor mote is not.
 */
int oci_image_from(const json_t *cfg, const json_t *rootfs, struct oci_image *img, struct mote_err *err);

#endif /* MOTE_OCI_SPEC_H */
