/* The gateway's settings and shared state (one instance, set up by main). */
#ifndef MOTE_GATEWAY_GATEWAY_H
#define MOTE_GATEWAY_GATEWAY_H

#include <limits.h>
#include <stdint.h>

#include <h2o.h> /* built with -DH2O_USE_LIBUV=0: h2o's own event loop */

#include "sizing.h"

struct registry;

/* Defaults of `mote serve` (docs/functions.md). */
#define GW_DEFAULT_LISTEN "127.0.0.1:8080"
#define GW_DEFAULT_BODY_MAX (6ull << 20)
#define GW_DEFAULT_BUNDLE_MAX (64ull << 20)
#define GW_DEFAULT_MEM (64ull << 20)
#define GW_DEFAULT_TIMEOUT_MS 10000u
#define GW_DEFAULT_MAX_VMS 4u
#define GW_MAX_VMS_LIMIT 64u
#define GW_DEFAULT_QUEUE 64u
#define GW_DEFAULT_QUEUE_WAIT_MS 10000u
#define GW_DEFAULT_IDLE_MS 300000u
#define GW_DEFAULT_START_MS 10000u
#define GW_MAX_TIMEOUT_MS (15u * 60u * 1000u)
#define GW_DEFAULT_TOTAL_VMS 512u /* --max-vms: every VM process of the gateway */
#define GW_TOTAL_VMS_LIMIT 20000u
#define GW_DEFAULT_POOL_RATE 200u  /* --pool-rate: pool restores per second */
#define GW_POOL_INFLIGHT 2u	   /* pool restores under way at once */
#define GW_DEFAULT_DRAIN_MS 30000u /* --drain-timeout */
#define GW_MAX_CONCURRENCY 1000u   /* mote deploy --concurrency */
/* --layer-min-load: a function whose load takes this long starts from its layer even when a pooled VM waits
 * (about what restoring a layer costs here, docs/functions.md "Layers"). */
#define GW_DEFAULT_LAYER_MIN_LOAD_MS 10u
#define GW_LAYER_MAX_FAILURES 3u /* layer takes (or refused layers) after which a version takes no more */

struct gateway {
	h2o_loop_t *loop;
	struct registry *reg;
	/* Paths. */
	char state_dir[PATH_MAX];
	char bundles_dir[PATH_MAX + 16];
	char bases_dir[PATH_MAX + 16];
	char logs_dir[PATH_MAX + 16];
	char admin_socket[PATH_MAX + 16];
	char vmm[PATH_MAX];	     /* mote-vmm */
	char kernel[PATH_MAX];	     /* mote-kernel */
	char runtimes_dir[PATH_MAX]; /* mote-c-init, mote-lua */
	/* Limits. */
	uint64_t body_max;   /* public request body, bytes (413 beyond) */
	uint64_t bundle_max; /* bundle image, bytes */
	uint32_t queue_max;  /* waiting requests per function (503 beyond) */
	uint64_t queue_wait_ms;
	uint64_t idle_ms;  /* default idle timeout: a warm VM unused this long is ended; 0: right after each
			      request */
	uint64_t start_ms; /* a VM must load its function within this */
	uint64_t drain_ms; /* SIGTERM: how long in-flight requests may take to finish */
	/* Pools and caps. */
	struct pool_config pools;
	unsigned pool_rate;	    /* pool restores per second */
	uint64_t layer_min_load_ms; /* 0: a function with a layer always starts from it */
	struct capacity cap;
};

/* The one gateway of this process. */
extern struct gateway gw;

#endif /* MOTE_GATEWAY_GATEWAY_H */
