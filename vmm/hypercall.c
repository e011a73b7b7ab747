/* Hypercall handlers: every guest address is checked by vm_guest_ptr; bad input is an error to the guest. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "guest.h"

struct guest_exit guest_exit_state;

/*
 * The guest's struct at `p` (a host pointer into guest memory from
 * vm_guest_ptr) may have any alignment: it is copied in and its OUT fields
 * copied out with memcpy, never accessed in place.
 */
#define PUT_RET(p, type, value)                                                                              \
	do {                                                                                                 \
		int64_t ret_ = (value);                                                                      \
		memcpy((uint8_t *)(p) + offsetof(type, ret), &ret_, sizeof(ret_));                           \
	} while (0)

/*
 * The guest kernel's --debug log, on mote-vmm's own stream: every line it
 * holds gets the "mote-vmm: guest: " prefix and control characters become
 * '?', so that no guest text can pass for a line of the monitor's.
 */
static void log_guest_lines(const uint8_t *data, uint64_t len)
{
	char line[4096 + 1];
	uint64_t n = 0;
	for (uint64_t i = 0; i <= len; i++) {
		if (i == len || data[i] == '\n') {
			if (n || i < len)
				fprintf(stderr, "mote-vmm: guest: %.*s\n", (int)n, line);
			n = 0;
			continue;
		}
		line[n++] = data[i] < 0x20 || data[i] == 0x7f ? '?' : (char)data[i];
	}
}

static void hc_console(struct guest *g, void *p)
{
	struct mote_hc_console c;
	memcpy(&c, p, sizeof(c));
	/* Writing reads guest data but never changes it, so the IN fields stay valid. */
	if (c.len > MOTE_CONSOLE_MAX) {
		PUT_RET(p, struct mote_hc_console, -MOTE_EINVAL);
		return;
	}
	const uint8_t *data = vm_guest_ptr(&g->vm, c.data, c.len, 1);
	if (!data) {
		PUT_RET(p, struct mote_hc_console, -MOTE_EFAULT);
		return;
	}
	int64_t ret;
	switch (c.stream) {
	case MOTE_CONSOLE_STDOUT: ret = console_write(g, c.stream, data, c.len); break;
	case MOTE_CONSOLE_STDERR: ret = console_write(g, c.stream, data, c.len); break;
	case MOTE_CONSOLE_LOG:
		if (g->cfg->debug)
			log_guest_lines(data, c.len > 4096 ? 4096 : c.len);
		ret = (int64_t)c.len;
		break;
	default: ret = -MOTE_EINVAL; break;
	}
	PUT_RET(p, struct mote_hc_console, ret);
}

static void hc_sleep(struct guest *g, void *p)
{
	struct mote_hc_sleep s;
	memcpy(&s, p, sizeof(s));
	if (s.ns > 100ull * 365 * 86400 * 1000000000ull) {
		PUT_RET(p, struct mote_hc_sleep, -MOTE_EINVAL);
		return;
	}
	/* At most GUEST_SLEEP_MAX_NS at a time: the guest kernel sleeps again for what is left, and the
	 * monitor gets control back at least that often. */
	uint64_t ns = s.ns < GUEST_SLEEP_MAX_NS ? s.ns : GUEST_SLEEP_MAX_NS;
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull), .tv_nsec = (long)(ns % 1000000000ull)};
	/* An interrupted sleep returns early; the run loop then sees the timeout or snapshot request. */
	PUT_RET(p, struct mote_hc_sleep, nanosleep(&ts, NULL) == 0 ? 0 : -EINTR);
}

static void hc_entropy(struct guest *g, void *p)
{
	struct mote_hc_entropy e;
	memcpy(&e, p, sizeof(e));
	if (e.len > MOTE_ENTROPY_MAX) {
		PUT_RET(p, struct mote_hc_entropy, -MOTE_EINVAL);
		return;
	}
	uint8_t *data = vm_guest_ptr(&g->vm, e.data, e.len, 0);
	if (!data) {
		PUT_RET(p, struct mote_hc_entropy, -MOTE_EFAULT);
		return;
	}
	/* The data may overlap the struct itself: ret is written last, over it. */
	PUT_RET(p, struct mote_hc_entropy, getentropy(data, e.len) == 0 ? (int64_t)e.len : -EIO);
}

static void hc_exit(struct guest *g, const void *p)
{
	struct mote_hc_exit x;
	memcpy(&x, p, sizeof(x));
	struct guest_exit *st = &guest_exit_state;
	st->exited = 1;
	st->reason = x.reason;
	st->status = x.status;
	st->rip = x.rip;
	st->rsp = x.rsp;
	uint64_t n = x.msg_len > 512 ? 512 : x.msg_len;
	const char *msg = x.msg ? vm_guest_ptr(&g->vm, x.msg, n, 1) : NULL;
	if (msg) {
		memcpy(st->msg, msg, n);
		st->msg[n] = 0;
		for (char *c = st->msg; *c; c++)
			if (*c == '\n' || (unsigned char)*c < 0x20)
				*c = ' ';
	} else {
		st->msg[0] = 0;
	}
}

/*
 * Respond and wait: ring the supervisor's doorbell and let the run loop wait
 * for the next request. The messages themselves are never read here.
 */
static enum guest_next hc_invoke(struct guest *g, void *p)
{
	struct mote_hc_invoke c;
	memcpy(&c, p, sizeof(c));
	if (c.flags != 0) {
		PUT_RET(p, struct mote_hc_invoke, -MOTE_EINVAL);
		return GUEST_RESUME;
	}
	if (!g->chan.attached) {
		PUT_RET(p, struct mote_hc_invoke, -MOTE_ENODEV);
		return GUEST_RESUME;
	}
	g->chan.waiting = p;
	if (++g->chan.handovers == 2 && g->chan.workset_fd >= 0)
		return GUEST_WORKSET; /* the run loop records it, then rings: WORKSET reaches the host first
				       */
	if (g->chan.take_layer)
		return GUEST_LAYER; /* the run loop takes the layer, then rings */
	guest_ring_host(g);
	return GUEST_INVOKE;
}

void guest_ring_host(struct guest *g)
{
	uint64_t one = 1;
	if (write(g->chan.doorbell_host, &one, sizeof(one)) != (ssize_t)sizeof(one) && g->cfg->debug)
		fprintf(stderr, "mote-vmm: cannot ring the host doorbell: %s\n", strerror(errno));
}

void guest_snapshot_failed(struct guest *g)
{
	if (g->snapshot_call)
		PUT_RET(g->snapshot_call, struct mote_hc_snapshot, -MOTE_EIO);
	g->snapshot_call = NULL;
}

enum guest_next guest_hypercall(struct guest *g, uint16_t port, uint32_t arg)
{
	unsigned nr = port - MOTE_HC_PORT_BASE;
	static const size_t sizes[MOTE_HC_COUNT] = {
	    [MOTE_HC_CONSOLE] = sizeof(struct mote_hc_console),
	    [MOTE_HC_SLEEP] = sizeof(struct mote_hc_sleep),
	    [MOTE_HC_ENTROPY] = sizeof(struct mote_hc_entropy),
	    [MOTE_HC_EXIT] = sizeof(struct mote_hc_exit),
	    [MOTE_HC_SNAPSHOT] = sizeof(struct mote_hc_snapshot),
	    [MOTE_HC_INVOKE] = sizeof(struct mote_hc_invoke),
	};
	if (port < MOTE_HC_PORT_BASE || nr >= MOTE_HC_COUNT) {
		g->bad_hypercalls++;
		return GUEST_RESUME;
	}
	void *p = vm_guest_ptr(&g->vm, arg, sizes[nr], 0);
	if (!p) {
		/* Nowhere to write an error: the call is ignored and counted. */
		g->bad_hypercalls++;
		if (g->cfg->debug)
			fprintf(stderr, "mote-vmm: hypercall %u with bad struct address %#x ignored\n", nr,
				arg);
		return GUEST_RESUME;
	}
	g->hypercall_count[nr]++;
	switch (nr) {
	case MOTE_HC_CONSOLE: hc_console(g, p); return GUEST_RESUME;
	case MOTE_HC_SLEEP: hc_sleep(g, p); return GUEST_RESUME;
	case MOTE_HC_ENTROPY: hc_entropy(g, p); return GUEST_RESUME;
	case MOTE_HC_EXIT: hc_exit(g, p); return GUEST_EXITED;
	case MOTE_HC_SNAPSHOT:
		/* The result is in guest memory before the snapshot, so clones return it too. */
		PUT_RET(p, struct mote_hc_snapshot, g->cfg->snapshot_path ? 0 : -MOTE_EOPNOTSUPP);
		if (!g->cfg->snapshot_path)
			return GUEST_RESUME;
		g->snapshot_call = p;
		return GUEST_SNAPSHOT;
	case MOTE_HC_INVOKE: return hc_invoke(g, p);
	}
	return GUEST_RESUME;
}
