/* Function bundles: checking an uploaded image, adding the deploy's settings, storing it by content hash. */
#ifndef MOTE_GATEWAY_BUNDLE_H
#define MOTE_GATEWAY_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "apierr.h"
#include "err.h"

/*
 * The file in a bundle holding the function's environment as K=V entries
 * each ending in a NUL byte (like /proc/PID/environ), added by the gateway
 * for `mote deploy --env` (entries under .mote/ are reserved); the runtimes
 * apply it before loading the function.
 */
#define BUNDLE_ENV_PATH ".mote/environ"

/*
 * Check the uploaded bundle img[len] (a cpio newc image) for `runtime`
 * ("c", "lua", "node", or "" to infer it: handler.lua means lua, handler
 * means c, package.json or a .js entry point means node; the inferred name
 * is written back, runtime has room for 8 bytes): the archive parses to its
 * trailer, has no entry under .mote/, and holds the runtime's handler: for
 * lua a regular file handler.lua, for c a regular, executable, static x86-64
 * ELF `handler`, for node the entry point (package.json's "main", else the
 * first of handler.js, handler.mjs, handler.cjs, index.js, index.mjs,
 * index.cjs) and only native addons (*.node) that are x86-64 ELF files
 * built for Node ABI `node_abi` (NULL: any ABI) or for Node-API. Returns
 * 0, or -1 with *e (422 and code bad_bundle, no_handler, not_elf,
 * dynamic_elf, unsupported_elf, native_addon; 400 bad_request for an
 * unknown runtime).
 */
int bundle_check(const void *img, size_t len, char *runtime, const char *node_abi, struct api_error *e);

/*
 * The image to store: img[len] itself when nenv is 0, else a copy with a
 * directory .mote and the file BUNDLE_ENV_PATH (the `nenv` strings `env`,
 * each K=V, each followed by a NUL byte) inserted before the trailer. img MUST have passed
 * bundle_check. Returns 0 with *out (malloc'd, or img itself when nenv is 0:
 * compare before freeing) and *out_len, or -1 when out of memory.
 */
int bundle_finalize(const void *img, size_t len, const char *const *env, size_t nenv, void **out,
		    size_t *out_len);

/*
 * Store img[len] durably as `dir`/HASH, HASH its SHA-256 in hex (written to
 * `hash`, 65 bytes): written to a temporary file, fsynced, renamed into
 * place and the directory fsynced, so a crash leaves either no file or the
 * whole one; an existing file of that hash and size is kept. Returns a
 * read-only fd of the stored file, or -1 with *err (MOTE_STATUS_HOST).
 */
int bundle_store(const char *dir, const void *img, size_t len, char *hash, struct mote_err *err);

/* Open stored bundle `hash` read-only; *size gets its size. Returns the fd or -1 (errno set). */
int bundle_open(const char *dir, const char *hash, uint64_t *size);

/* Remove from `dir` temporary files and bundles for which in_use(hash, arg) is 0. */
void bundle_gc(const char *dir, int (*in_use)(const char *hash, void *arg), void *arg);

/* SHA-256 of data[len] in hex (65 bytes with the NUL). */
void bundle_sha256_hex(const void *data, size_t len, char *hex);

#endif /* MOTE_GATEWAY_BUNDLE_H */
