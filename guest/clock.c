/* Time without exits: TSC read at CPL3 scaled by the monitor's boot anchor; also served by the vDSO. */
#include "clock.h"

#include "hypercall.h"
#include "klib.h"
#include "mm.h"
#include "vdso/vvar.h"

extern const char vdso_image_start[], vdso_image_end[];

static struct vvar boot_vvar; /* used until the vDSO pages exist */
static struct vvar *vv = &boot_vvar;
static uint64_t vdso_base;

void clock_init(const struct mote_boot_info *bi)
{
	vv->clock = &bi->clock;
}

uint64_t clock_setup_vdso(void)
{
	if (vdso_base)
		return vdso_base; /* execve: the new program gets the same pages */
	uint64_t size = (uint64_t)(vdso_image_end - vdso_image_start);
	uint64_t pages = 1 + ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE;
	uint8_t *area = pages_alloc(pages, 1);
	if (!area)
		return 0;
	struct vvar *page = (struct vvar *)area;
	*page = *vv;
	vv = page;
	memcpy(area + PAGE_SIZE, vdso_image_start, size);
	vdso_base = (uint64_t)(uintptr_t)(area + PAGE_SIZE);
	return vdso_base;
}

uint64_t clock_monotonic_ns(void)
{
	return vvar_monotonic_ns(vv);
}

int64_t clock_realtime_ns(void)
{
	return vvar_realtime_ns(vv);
}

uint64_t clock_generation(void)
{
	return vv->clock->generation;
}

void clock_sleep_ns(uint64_t ns)
{
	static struct mote_hc_sleep s;
	/* The monitor sleeps at most about a second per call (and less when a signal or snapshot cuts it
	 * short): call again until the monotonic clock reaches the deadline. */
	uint64_t now = clock_monotonic_ns();
	uint64_t deadline = ns > UINT64_MAX - now ? UINT64_MAX : now + ns;
	do {
		s.ns = deadline - now;
		s.ret = 0;
		hypercall(MOTE_HC_SLEEP, &s);
		if (s.ret == -MOTE_EINVAL) /* a sleep longer than the monitor accepts */
			return;
		now = clock_monotonic_ns();
	} while (now < deadline);
}
