/* libFuzzer target: mote_invoke_region_check on arbitrary headers and mapped sizes. */
#include <stdint.h>
#include <string.h>

#include "invoke_region.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The input: a header, then the mapped size (missing bytes are zero). */
	struct mote_invoke_region hdr;
	uint64_t mapped = 0;
	memset(&hdr, 0, sizeof(hdr));
	memcpy(&hdr, data, size < sizeof(hdr) ? size : sizeof(hdr));
	if (size > sizeof(hdr))
		memcpy(&mapped, data + sizeof(hdr), size - sizeof(hdr) < 8 ? size - sizeof(hdr) : 8);
	struct mote_invoke_layout l;
	memset(&l, 0xa5, sizeof(l));
	int r = mote_invoke_region_check(&hdr, mapped, &l);
	if (r < MOTE_INVOKE_REGION_OK || r > MOTE_INVOKE_REGION_OVERLAP || !mote_invoke_region_strerror(r)[0])
		__builtin_trap();
	if (r != MOTE_INVOKE_REGION_OK)
		return 0;
	/* Accepted: the areas lie past the header, inside the mapping, page-aligned, non-empty, disjoint. */
	const uint64_t page = 4096;
	if (hdr.magic != MOTE_INVOKE_MAGIC || hdr.version != MOTE_INVOKE_VERSION || l.size != mapped ||
	    mapped % page || l.req_off % page || l.resp_off % page || !l.req_cap || !l.resp_cap ||
	    l.req_off < page || l.resp_off < page)
		__builtin_trap();
	if ((unsigned __int128)l.req_off + l.req_cap > mapped ||
	    (unsigned __int128)l.resp_off + l.resp_cap > mapped)
		__builtin_trap();
	if (l.req_off < l.resp_off + l.resp_cap && l.resp_off < l.req_off + l.req_cap)
		__builtin_trap();
	if (l.req_off != hdr.req_off || l.req_cap != hdr.req_cap || l.resp_off != hdr.resp_off ||
	    l.resp_cap != hdr.resp_cap)
		__builtin_trap();
	return 0;
}
