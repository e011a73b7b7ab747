/* The invoke region's header check (struct mote_invoke_region); freestanding, shared by guest, monitor and
 * host. */
#ifndef MOTE_INVOKE_REGION_H
#define MOTE_INVOKE_REGION_H

#include <stdint.h>

#include <mote/abi.h>

/* Results of mote_invoke_region_check(). */
enum mote_invoke_region_result {
	MOTE_INVOKE_REGION_OK = 0,
	MOTE_INVOKE_REGION_MAGIC = 1,	/* magic is not MOTE_INVOKE_MAGIC */
	MOTE_INVOKE_REGION_VERSION = 2, /* version is not MOTE_INVOKE_VERSION */
	MOTE_INVOKE_REGION_SIZE = 3, /* size differs from the mapped size, or the mapped size is impossible */
	MOTE_INVOKE_REGION_ALIGNMENT = 4, /* an area does not start on a 4 KiB boundary */
	MOTE_INVOKE_REGION_EMPTY = 5,	  /* an area has capacity 0 */
	MOTE_INVOKE_REGION_BOUNDS = 6,	  /* an area overlaps the header or reaches past the region */
	MOTE_INVOKE_REGION_OVERLAP = 7,	  /* the request and response areas overlap */
};

/* The layout of a checked region: where the two areas are, in bytes from the region's start. */
struct mote_invoke_layout {
	uint64_t size;
	uint64_t req_off, req_cap;
	uint64_t resp_off, resp_cap;
};

/*
 * Check `hdr`, a private copy of a region's header (copy it out of the shared
 * memory first, once: the other side may change it meanwhile), against
 * `mapped_size`, the bytes actually mapped (mote_attach.invoke_size): magic,
 * version, size == mapped_size (a non-zero multiple of 4096), both
 * areas page-aligned, non-empty, past the header's page, inside the region
 * (no overflow) and disjoint. On MOTE_INVOKE_REGION_OK fills *layout (may be
 * NULL). Never reads anything but *hdr.
 */
int mote_invoke_region_check(const struct mote_invoke_region *hdr, uint64_t mapped_size,
			     struct mote_invoke_layout *layout);

/* A short English description of a mote_invoke_region_check() result. */
const char *mote_invoke_region_strerror(int result);

#endif /* MOTE_INVOKE_REGION_H */
