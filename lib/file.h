/* Opening input files without blocking on FIFOs or devices, and finding mote's own files. */
#ifndef MOTE_FILE_H
#define MOTE_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/*
 * Open `path` for reading only if it is a regular file (following
 * symlinks). The type is checked with stat() before opening, and again with
 * fstat() on the opened descriptor (same device and inode), so that a FIFO,
 * device, socket or directory is refused without being opened or waited on
 * (the open itself is O_NONBLOCK | O_NOCTTY; O_NONBLOCK is cleared again).
 * On success returns the descriptor (O_CLOEXEC) and fills *st. Returns -1
 * with errno from stat/open (ENOENT, EACCES, ...), or -2 when `path` exists
 * but is not a regular file (*st then describes what it is).
 */
int mote_open_regular(const char *path, struct stat *st);

/* A short name for what st_mode is ("a FIFO", "a directory", "a character device", ...). */
const char *mote_file_kind(mode_t mode);

/*
 * Write to `out` (`size` bytes) the path of `name` installed beside the
 * running executable (a build/ directory) or in ../lib/mote/ from it (an
 * installed PREFIX/bin). Returns 0, or -1 when neither exists (or
 * /proc/self/exe cannot be read).
 */
int mote_find_beside_self(const char *name, char *out, size_t size);

/*
 * Read exactly `len` bytes at offset `off` of `fd` into `buf`, retrying short
 * reads and EINTR. Returns 0, -1 with errno on a read error, or -2 when the
 * file ends first.
 */
int mote_pread_all(int fd, void *buf, size_t len, uint64_t off);

/* Write exactly `len` bytes of `buf` at offset `off` of `fd`, retrying short writes and EINTR. Returns 0 or
 * -1 (errno set; a write of 0 bytes counts as a failure). */
int mote_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);

#endif /* MOTE_FILE_H */
