/* Reading cpio "newc" archives (the rootfs image format); freestanding, shared by host and guest. */
#ifndef MOTE_CPIO_H
#define MOTE_CPIO_H

#include <stddef.h>
#include <stdint.h>

#define MOTE_CPIO_HEADER_SIZE 110
#define MOTE_CPIO_TRAILER "TRAILER!!!"

struct mote_cpio_entry {
	const char *name; /* NUL-terminated, inside the image, e.g. "bin/sh" (no leading "/") */
	size_t name_len;  /* without the NUL */
	uint32_t mode;	  /* st_mode: type and permission bits */
	uint32_t uid, gid, nlink;
	uint32_t mtime;
	uint32_t ino;
	const uint8_t *data; /* file contents or symlink target, inside the image */
	uint64_t size;
};

/* Results of mote_cpio_next(). */
enum mote_cpio_result {
	MOTE_CPIO_ENTRY = 1, /* *entry was filled in */
	MOTE_CPIO_END = 0,   /* the trailer was reached */
	MOTE_CPIO_CORRUPT = -1,
};

/*
 * Read the entry at *offset of the `size`-byte archive `image`, fill *entry
 * and advance *offset past it. Never reads outside the image; rejects bad
 * magic, non-hex fields, names without their NUL, and data past the end.
 */
int mote_cpio_next(const void *image, size_t size, size_t *offset, struct mote_cpio_entry *entry);

#endif /* MOTE_CPIO_H */
