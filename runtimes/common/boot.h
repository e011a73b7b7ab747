/* What every runtime does between boot and its first request: the base snapshot, then entering the function.
 */
#ifndef RUNTIMES_BOOT_H
#define RUNTIMES_BOOT_H

#include <stddef.h>

#define BOOT_SNAPSHOT_DEVICE "/dev/mote/snapshot"
#define BOOT_FN_DIR "/fn"
/* The function's environment (mote deploy --env), when the bundle has one: "NAME=VALUE\0" entries. */
#define BOOT_ENVIRON_FILE "/fn/.mote/environ"
#define BOOT_ENVIRON_MAX (1u << 20)

/*
 * Ask for the base snapshot (write "1" to /dev/mote/snapshot). Returns 0 in
 * the VM that asked and again in every clone restored from it, or -errno
 * after one line on stderr naming `who` (-EOPNOTSUPP: booted without a
 * snapshot file; the runtime contract then says exit 2).
 */
int boot_snapshot(const char *who);

/*
 * Enter the attached function: apply `environ_file` (if it exists) with
 * setenv, then make `dir` the working directory. Returns 0, or -1 with a
 * one-line reason in why[len] (for INIT_ERROR).
 */
int boot_enter_function(const char *dir, const char *environ_file, char *why, size_t len);

/*
 * Read the whole file `path` of at most `max` bytes into a malloc'd buffer
 * with a NUL after its *len bytes. NULL with errno set (EFBIG: larger than
 * max, ENOMEM, or open/read's errno).
 */
char *boot_read_file(const char *path, size_t max, size_t *len);

#endif /* RUNTIMES_BOOT_H */
