/* The function runtimes the gateway knows: what each base boots and the memory a function gets by default. */
#ifndef MOTE_GW_RUNTIME_H
#define MOTE_GW_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

struct runtime_info {
	const char *name; /* "c", "lua", "node" */
	/*
	 * What `mote serve --runtimes DIR` holds for it: a static program (packed into the base's root file
	 * system as bin/NAME), or, when `root` is set, a directory that is the base's whole root file system.
	 */
	const char *installed;
	int root;
	const char *const *argv; /* the program and its arguments in the guest, NULL-terminated */
	uint64_t default_mem;	 /* a function's guest RAM when its deploy names none */
};

/* The runtime called `name` (exactly), or NULL. */
const struct runtime_info *runtime_find(const char *name);

/* The runtime called by the `len` bytes at `name`, or NULL. */
const struct runtime_info *runtime_find_n(const char *name, size_t len);

/* The known runtimes' names for messages: "c, lua or node". */
const char *runtime_names(void);

/* A function's default guest RAM for `runtime` (64 MiB for an unknown one). */
uint64_t runtime_default_mem(const char *runtime);

#endif /* MOTE_GW_RUNTIME_H */
