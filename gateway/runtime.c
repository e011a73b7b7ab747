/* The function runtimes the gateway knows: what each base boots and the memory a function gets by default. */
#include "runtime.h"

#include <string.h>

static const char *const c_argv[] = {"/bin/mote-c-init", NULL};
static const char *const lua_argv[] = {"/bin/mote-lua", NULL};
/*
 * Debian's node, unmodified, running our bootstrap (runtimes/node/bootstrap.js, docs/node.md).
 * Single-threaded V8: with one vCPU its background compiler and GC threads only take turns with the thread
 * serving the request, and they made one warm request in ten wait a 10 ms time slice or more (p90 14.6 ms
 * against 0.39 ms). WebAssembly without the trap handler and with memories of at most 64 MiB: V8 reserves a
 * memory's maximum up front (10 GiB with the trap handler's guard regions, else 4 GiB), which guest RAM
 * cannot hold, and undici's HTTP parser (behind Request and Response) failed to instantiate after a dozen
 * GCs of 6-90 ms. A young generation of a fixed 1 MiB: one that grows and shrinks maps and discards pages,
 * which a clone pays for page by page (an 80 KB array took 1.5 ms in a clone, 0.55 ms at a fixed size), and
 * a new VM touches each of its pages once (25-50 us each) before its requests run at their speed: over a
 * VM's first 300 requests, p50 0.32 ms with 1 MiB against 0.46 ms with 4 MiB (tests/tools/fnhost).
 */
static const char *const node_argv[] = {"/usr/bin/node",
					"--single-threaded",
					"--disable-wasm-trap-handler",
					"--wasm-max-mem-pages=1024",
					"--min-semi-space-size=1",
					"--max-semi-space-size=1",
					"/mote/bootstrap.js",
					NULL};

static const struct runtime_info runtimes[] = {
    {.name = "c", .installed = "mote-c-init", .argv = c_argv, .default_mem = 64ull << 20},
    {.name = "lua", .installed = "mote-lua", .argv = lua_argv, .default_mem = 64ull << 20},
    /* V8 reserves large ranges, which take guest RAM here (docs/dynamic.md); the host backs only what is
     * touched. */
    {.name = "node", .installed = "node", .root = 1, .argv = node_argv, .default_mem = 1ull << 30},
};

const struct runtime_info *runtime_find_n(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
		if (strlen(runtimes[i].name) == len && !memcmp(runtimes[i].name, name, len))
			return &runtimes[i];
	return NULL;
}

const struct runtime_info *runtime_find(const char *name)
{
	return runtime_find_n(name, strlen(name));
}

const char *runtime_names(void)
{
	return "c, lua or node";
}

uint64_t runtime_default_mem(const char *runtime)
{
	const struct runtime_info *r = runtime_find(runtime);
	return r ? r->default_mem : 64ull << 20;
}
