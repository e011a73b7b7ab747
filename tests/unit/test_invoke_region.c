/* Unit test of the invoke region's header check (lib/invoke_region.c): every rule, overflows, no over-read.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "guard.h"
#include "invoke_region.h"

#define PAGE 4096ull

/* A valid region: header page, 1 MiB request area, 1 MiB response area. */
static struct mote_invoke_region good(void)
{
	struct mote_invoke_region h;
	memset(&h, 0, sizeof(h));
	h.magic = MOTE_INVOKE_MAGIC;
	h.version = MOTE_INVOKE_VERSION;
	h.size = PAGE + (2ull << 20);
	h.req_off = PAGE;
	h.req_cap = 1ull << 20;
	h.resp_off = PAGE + (1ull << 20);
	h.resp_cap = 1ull << 20;
	return h;
}

static void expect(const char *name, struct mote_invoke_region h, uint64_t mapped, int want)
{
	/* The header is checked where it ends right before an unreadable page. */
	struct guarded g = guard(&h, sizeof(h));
	struct mote_invoke_layout l;
	memset(&l, 0, sizeof(l));
	int r = mote_invoke_region_check((const struct mote_invoke_region *)g.data, mapped, &l);
	check(name, r == want, "result %d (%s), expected %d (%s)", r, mote_invoke_region_strerror(r), want,
	      mote_invoke_region_strerror(want));
	unguard(&g);
}

int main(void)
{
	struct mote_invoke_region h = good();
	uint64_t size = h.size;
	expect("valid region", h, size, MOTE_INVOKE_REGION_OK);
	struct mote_invoke_layout l;
	int r = mote_invoke_region_check(&h, size, &l);
	check("layout filled",
	      r == 0 && l.size == size && l.req_off == PAGE && l.req_cap == 1ull << 20 &&
		  l.resp_off == PAGE + (1ull << 20) && l.resp_cap == 1ull << 20,
	      "layout %llu %llu %llu %llu %llu", (unsigned long long)l.size, (unsigned long long)l.req_off,
	      (unsigned long long)l.req_cap, (unsigned long long)l.resp_off, (unsigned long long)l.resp_cap);
	check("layout may be NULL", mote_invoke_region_check(&h, size, NULL) == 0, "refused");

	h = good(), h.resp_off = PAGE, h.req_off = PAGE + (1ull << 20);
	expect("areas in either order", h, size, MOTE_INVOKE_REGION_OK);
	h = good(), h.req_cap = 100, h.resp_cap = 7;
	expect("capacities below a page", h, size, MOTE_INVOKE_REGION_OK);

	h = good(), h.magic = 0;
	expect("bad magic", h, size, MOTE_INVOKE_REGION_MAGIC);
	h = good(), h.version = MOTE_INVOKE_VERSION + 1;
	expect("other version", h, size, MOTE_INVOKE_REGION_VERSION);
	expect("size differs from the mapping", good(), size + PAGE, MOTE_INVOKE_REGION_SIZE);
	h = good(), h.size = size - 1;
	expect("size not a multiple of 4096", h, size - 1, MOTE_INVOKE_REGION_SIZE);
	h = good(), h.size = 0;
	expect("size 0", h, 0, MOTE_INVOKE_REGION_SIZE);
	h = good(), h.req_off = PAGE + 8;
	expect("unaligned request area", h, size, MOTE_INVOKE_REGION_ALIGNMENT);
	h = good(), h.resp_off += 1;
	expect("unaligned response area", h, size, MOTE_INVOKE_REGION_ALIGNMENT);
	h = good(), h.req_cap = 0;
	expect("empty request area", h, size, MOTE_INVOKE_REGION_EMPTY);
	h = good(), h.resp_cap = 0;
	expect("empty response area", h, size, MOTE_INVOKE_REGION_EMPTY);
	h = good(), h.req_off = 0;
	expect("request area over the header", h, size, MOTE_INVOKE_REGION_BOUNDS);
	h = good(), h.resp_cap = (1ull << 20) + 1;
	expect("response area one byte too long", h, size, MOTE_INVOKE_REGION_BOUNDS);
	h = good(), h.resp_off = size;
	expect("response area at the end", h, size, MOTE_INVOKE_REGION_BOUNDS);
	h = good(), h.req_off = 0xfffffffffffff000ull, h.req_cap = 0x2000;
	expect("request area wrapping around", h, size, MOTE_INVOKE_REGION_BOUNDS);
	h = good(), h.resp_cap = UINT64_MAX;
	expect("capacity UINT64_MAX", h, size, MOTE_INVOKE_REGION_BOUNDS);
	h = good(), h.resp_off = h.req_off;
	h.resp_cap = PAGE;
	expect("same offset", h, size, MOTE_INVOKE_REGION_OVERLAP);
	h = good(), h.req_cap = (1ull << 20) + PAGE;
	expect("request area reaching into the response area", h, size, MOTE_INVOKE_REGION_OVERLAP);
	h = good(), h.resp_off = PAGE * 2, h.resp_cap = PAGE;
	expect("response area inside the request area", h, size, MOTE_INVOKE_REGION_OVERLAP);
	/* The guest's req_seq/req_len and the host's resp_* fields are not the check's business. */
	h = good(), h.req_seq = UINT64_MAX, h.req_len = UINT64_MAX, h.resp_len = UINT64_MAX;
	expect("dynamic fields are ignored", h, size, MOTE_INVOKE_REGION_OK);
	check("strerror of an unknown result", strcmp(mote_invoke_region_strerror(99), "unknown result") == 0,
	      "'%s'", mote_invoke_region_strerror(99));
	return failures ? 1 : 0;
}
