/* The invoke region's header check (struct mote_invoke_region); freestanding, shared by guest, monitor and
 * host. */
#include "invoke_region.h"

#define REGION_PAGE 4096ull

/* True if [off, off + cap) lies past the header's page and inside `size`, without overflow. */
static int area_inside(uint64_t off, uint64_t cap, uint64_t size)
{
	return off >= REGION_PAGE && off <= size && cap <= size - off;
}

int mote_invoke_region_check(const struct mote_invoke_region *hdr, uint64_t mapped_size,
			     struct mote_invoke_layout *layout)
{
	if (hdr->magic != MOTE_INVOKE_MAGIC)
		return MOTE_INVOKE_REGION_MAGIC;
	if (hdr->version != MOTE_INVOKE_VERSION)
		return MOTE_INVOKE_REGION_VERSION;
	uint64_t size = hdr->size;
	if (size != mapped_size || size % REGION_PAGE || size == 0)
		return MOTE_INVOKE_REGION_SIZE;
	uint64_t req_off = hdr->req_off, req_cap = hdr->req_cap;
	uint64_t resp_off = hdr->resp_off, resp_cap = hdr->resp_cap;
	if (req_off % REGION_PAGE || resp_off % REGION_PAGE)
		return MOTE_INVOKE_REGION_ALIGNMENT;
	if (req_cap == 0 || resp_cap == 0)
		return MOTE_INVOKE_REGION_EMPTY;
	if (!area_inside(req_off, req_cap, size) || !area_inside(resp_off, resp_cap, size))
		return MOTE_INVOKE_REGION_BOUNDS;
	/* Both areas are inside `size`, so the sums below cannot overflow. */
	if (req_off < resp_off + resp_cap && resp_off < req_off + req_cap)
		return MOTE_INVOKE_REGION_OVERLAP;
	if (layout) {
		layout->size = size;
		layout->req_off = req_off;
		layout->req_cap = req_cap;
		layout->resp_off = resp_off;
		layout->resp_cap = resp_cap;
	}
	return MOTE_INVOKE_REGION_OK;
}

const char *mote_invoke_region_strerror(int result)
{
	switch (result) {
	case MOTE_INVOKE_REGION_OK: return "valid";
	case MOTE_INVOKE_REGION_MAGIC: return "bad magic (not an invoke region)";
	case MOTE_INVOKE_REGION_VERSION: return "unsupported invoke region version";
	case MOTE_INVOKE_REGION_SIZE: return "header size does not match the mapped size";
	case MOTE_INVOKE_REGION_ALIGNMENT: return "an area is not page-aligned";
	case MOTE_INVOKE_REGION_EMPTY: return "an area has capacity 0";
	case MOTE_INVOKE_REGION_BOUNDS: return "an area overlaps the header or reaches past the region";
	case MOTE_INVOKE_REGION_OVERLAP: return "the request and response areas overlap";
	default: return "unknown result";
	}
}
