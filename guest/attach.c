/* A function attached to a restored VM: the boot info's attach block, /fn, and /dev/mote/invoke's channel. */
#include "attach.h"

#include "clock.h"
#include "console.h"
#include "hypercall.h"
#include "invoke_region.h"
#include "klib.h"
#include "linux.h"
#include "vfs.h"

#define FN_MOUNT "fn"
#define WINDOW_END (1ull << 48) /* attached regions lie below the guest's physical address width */

static struct mote_boot_info *boot;
static uint64_t seen_generation; /* the clock generation attach_refresh() last acted on */
static int fn_mounted;

enum channel_state { CHANNEL_NONE = 0, CHANNEL_BAD, CHANNEL_OK };

/* The invoke channel; the region is shared with the host, so its fields are read once, then checked. */
static struct {
	enum channel_state state;
	volatile uint8_t *region;	  /* identity-mapped: the gpa is the address */
	struct mote_invoke_layout layout; /* checked copy, fixed at attach */
	uint64_t req_seq, req_len;	  /* the current request, as read when it arrived */
	uint64_t req_read;		  /* its bytes read so far */
	uint64_t resp_len;		  /* bytes of the pending message written so far */
} chan;

static volatile struct mote_invoke_region *header(void)
{
	return (volatile struct mote_invoke_region *)chan.region;
}

void attach_init(struct mote_boot_info *bi)
{
	boot = bi;
	seen_generation = clock_generation();
}

/* True if [gpa, gpa + size) lies past guest RAM, inside the physical address width, without overflow. */
static int outside_ram(uint64_t gpa, uint64_t size)
{
	return gpa >= boot->mem_size && size <= WINDOW_END && gpa <= WINDOW_END - size;
}

static void take_bundle(const struct mote_attach *a)
{
	if (!a->bundle_gpa || !a->bundle_size) {
		if (fn_mounted)
			vfs_unmount(FN_MOUNT);
		fn_mounted = 0;
		return;
	}
	if (!outside_ram(a->bundle_gpa, a->bundle_size)) {
		kdebug("attach: bundle at %#lx (%lu bytes) overlaps RAM; not mounted", a->bundle_gpa,
		       a->bundle_size);
		return;
	}
	int r = vfs_mount_image(FN_MOUNT, (const void *)(uintptr_t)a->bundle_gpa, a->bundle_size);
	if (r < 0) {
		kdebug("attach: the bundle image (%lu bytes) is %s; /fn not mounted", a->bundle_size,
		       r == -EINVAL ? "not a valid cpio newc archive" : "too big for guest memory");
		if (fn_mounted)
			vfs_unmount(FN_MOUNT); /* its nodes would point into the new image */
		fn_mounted = 0;
		return;
	}
	fn_mounted = 1;
	kdebug("attach: /fn %s (%lu-byte bundle)", r == 1 ? "kept" : "mounted", a->bundle_size);
}

static void take_region(const struct mote_attach *a)
{
	memset(&chan, 0, sizeof(chan));
	if (!a->invoke_gpa)
		return;
	chan.state = CHANNEL_BAD;
	if (!outside_ram(a->invoke_gpa, a->invoke_size) ||
	    a->invoke_size < sizeof(struct mote_invoke_region)) {
		kdebug("attach: invoke region at %#lx (%lu bytes) is misplaced", a->invoke_gpa,
		       a->invoke_size);
		return;
	}
	struct mote_invoke_region hdr;
	memcpy(&hdr, (const void *)(uintptr_t)a->invoke_gpa, sizeof(hdr));
	int r = mote_invoke_region_check(&hdr, a->invoke_size, &chan.layout);
	if (r != MOTE_INVOKE_REGION_OK) {
		kdebug("attach: invoke region refused: %s", mote_invoke_region_strerror(r));
		return;
	}
	chan.region = (volatile uint8_t *)(uintptr_t)a->invoke_gpa;
	chan.state = CHANNEL_OK;
}

/* A restore happened: take what the monitor attached for this generation, or drop what there was. */
static void attach_update(void)
{
	uint64_t gen = clock_generation();
	seen_generation = gen;
	struct mote_attach a;
	memcpy(&a, &boot->attach, sizeof(a));
	if (a.generation != gen)
		memset(&a, 0, sizeof(a)); /* nothing attached to this clone */
	take_bundle(&a);
	take_region(&a);
}

void attach_refresh(void)
{
	if (clock_generation() != seen_generation)
		attach_update();
}

static long channel_usable(void)
{
	attach_refresh();
	switch (chan.state) {
	case CHANNEL_OK: return 0;
	case CHANNEL_BAD: return -EIO;
	default: return -ENODEV;
	}
}

long invoke_open(void)
{
	return channel_usable();
}

long invoke_unread(void)
{
	long r = channel_usable();
	return r < 0 ? r : (long)(chan.req_len - chan.req_read);
}

/* Hand over the pending message and wait for the next request (one exit). */
static long wait_request(void)
{
	static struct mote_hc_invoke call;
	for (;;) {
		volatile struct mote_invoke_region *h = header();
		h->resp_seq = chan.req_seq;
		h->resp_len = chan.resp_len;
		console_flush();
		call.flags = 0;
		call.ret = -MOTE_ENOSYS;
		hypercall(MOTE_HC_INVOKE, &call);
		if (clock_generation() != seen_generation) {
			/*
			 * A clone of a snapshot taken while this VM waited: the message went to the
			 * original's supervisor. Take this clone's channel and wait on it, handing it an
			 * empty first message.
			 */
			attach_update();
			long r = channel_usable();
			if (r < 0)
				return r;
			continue;
		}
		if (call.ret < 0)
			return (long)call.ret;
		h = header();
		uint64_t seq = h->req_seq, len = h->req_len;
		chan.req_seq = seq;
		chan.req_read = 0;
		chan.resp_len = 0;
		if (len > chan.layout.req_cap) {
			kdebug("invoke: request %lu of %lu bytes exceeds req_cap %lu; dropped", seq, len,
			       chan.layout.req_cap);
			chan.req_len = 0;
			return -EIO;
		}
		chan.req_len = len;
		return 0;
	}
}

long invoke_read(void *buf, uint64_t len)
{
	long r = channel_usable();
	if (r < 0 || len == 0)
		return r;
	if (chan.req_read >= chan.req_len && (r = wait_request()) < 0)
		return r;
	uint64_t n = MIN(len, chan.req_len - chan.req_read);
	memcpy(buf, (const void *)(chan.region + chan.layout.req_off + chan.req_read), n);
	chan.req_read += n;
	return (long)n;
}

long invoke_write(const void *buf, uint64_t len)
{
	long r = channel_usable();
	if (r < 0)
		return r;
	if (len > chan.layout.resp_cap - chan.resp_len)
		return -EMSGSIZE;
	memcpy((void *)(chan.region + chan.layout.resp_off + chan.resp_len), buf, len);
	chan.resp_len += len;
	return (long)len;
}
