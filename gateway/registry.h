/* The registry of deployed functions, their versions and the base snapshots: SQLite in WAL mode, durable
 * commits. */
#ifndef MOTE_GATEWAY_REGISTRY_H
#define MOTE_GATEWAY_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct registry;

#define REG_NAME_MAX 63
#define REG_HASH_HEX 64

/* A deployed function: its current version and settings. */
struct reg_function {
	char name[REG_NAME_MAX + 1];
	int64_t version;	       /* 1, 2, ... per name; assigned by registry_put_function */
	char runtime[8];	       /* "c" or "lua" */
	char bundle[REG_HASH_HEX + 1]; /* SHA-256 of the bundle image in bundles/ (hex) */
	uint64_t bundle_size;
	uint64_t mem;	     /* guest RAM, bytes */
	uint64_t timeout_ms; /* per request */
	uint32_t max_vms;
	char env[4096];	     /* JSON array of "K=V" strings */
	int64_t deployed_at; /* Unix time, milliseconds */
	int64_t
	    idle_ms; /* a warm VM unused this long ends; 0: after each request; -1: the gateway's --idle */
	uint32_t concurrency; /* target requests per VM before the scaler adds a VM (1: one VM per request) */
	uint64_t cpu_quota_us; /* CPU time per 100 ms period for each of its VMs (0: unlimited) */
	uint32_t cpu_weight;   /* CPU weight 1..10000 of each of its VMs (0: the default, 100) */
};

/*
 * Is `name` a valid function name: 1 to REG_NAME_MAX letters, digits, '_'
 * or '-', starting with a letter or digit (so it is safe in a URL path and
 * as a file name)?
 */
int registry_name_valid(const char *name, size_t len);

/*
 * Open (creating as needed) the database at `path`: WAL journal,
 * synchronous=FULL (a commit is on disk when it returns), the schema made or
 * checked. Returns NULL with *err (MOTE_STATUS_HOST naming the file) on
 * failure.
 */
struct registry *registry_open(const char *path, struct mote_err *err);

/* Close (NULL is ignored). */
void registry_close(struct registry *reg);

/*
 * Insert or replace function f->name in one transaction, with the next
 * version number of that name (never reused, even after a removal), and
 * record it in the version history. On return 0 the row is durable and
 * f->version holds the version. Returns -1 with *err otherwise (nothing
 * changed).
 */
int registry_put_function(struct registry *reg, struct reg_function *f, struct mote_err *err);

/* Delete function `name` (its history stays). Returns 1 if it existed, 0 if not, -1 with *err. */
int registry_delete_function(struct registry *reg, const char *name, struct mote_err *err);

/*
 * Call cb(f, arg) for every deployed function, ordered by name. Returns 0,
 * or -1 with *err (a callback returning non-zero stops the walk, returns 0).
 */
int registry_each_function(struct registry *reg, int (*cb)(const struct reg_function *f, void *arg),
			   void *arg, struct mote_err *err);

/* Is bundle `hash` named by a deployed function? 1 yes, 0 no (or on a database error). */
int registry_bundle_in_use(struct registry *reg, const char *hash);

/* What a base is doing (docs/functions.md, "Bases and upgrades"). */
enum reg_base_state {
	REG_BASE_BUILDING = 0, /* its snapshots are being made in bases/.tmp-*; not usable */
	REG_BASE_READY = 1,    /* built, never made active */
	REG_BASE_ACTIVE = 2,   /* new VMs of its runtime restore from it (at most one per runtime) */
	REG_BASE_RETIRED = 3,  /* was active; another one is now */
};

/* A base: a guest kernel and a runtime program, booted and snapshotted once per memory size. */
struct reg_base {
	char id[REG_HASH_HEX + 1]; /* SHA-256 over the runtime name and the two files' SHA-256 (hex) */
	char runtime[8];	   /* "c" or "lua" */
	char kernel_path[1024];	   /* where the kernel was copied from (as given) */
	char kernel_sha256[REG_HASH_HEX + 1];
	char program_path[1024]; /* where the runtime program was copied from */
	char program_sha256[REG_HASH_HEX + 1];
	int64_t created_at;	/* Unix time, milliseconds */
	int64_t activated_at;	/* when it last became active; 0: never */
	int64_t deactivated_at; /* when another base replaced it as the active one; 0: never */
	enum reg_base_state state;
};

/* The text of a state: "building", "ready", "active", "retired". */
const char *registry_base_state_name(enum reg_base_state s);

/* Insert or replace base b (all its fields as given). Returns 0 (durable) or -1 with *err. */
int registry_put_base(struct registry *reg, const struct reg_base *b, struct mote_err *err);

/*
 * Make base `id` the active one of its runtime, in one transaction: the
 * runtime's active base (if another) becomes retired with deactivated_at
 * now, `id` becomes active with activated_at now. On return 0 this is
 * durable and *previous (may be NULL) holds the id that was active ("" if
 * none). Returns -1 with *err (nothing changed), also when `id` is unknown.
 */
int registry_activate_base(struct registry *reg, const char *id, char previous[REG_HASH_HEX + 1],
			   struct mote_err *err);

/*
 * Call cb(b, arg) for every base, oldest first. Returns 0, or -1 with *err
 * (a callback returning non-zero stops the walk, returns 0).
 */
int registry_each_base(struct registry *reg, int (*cb)(const struct reg_base *b, void *arg), void *arg,
		       struct mote_err *err);

/* Forget base `id` (its files are gone or going). Returns 0 or -1 with *err. */
int registry_delete_base(struct registry *reg, const char *id, struct mote_err *err);

#endif /* MOTE_GATEWAY_REGISTRY_H */
