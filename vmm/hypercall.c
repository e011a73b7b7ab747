/* Hypercall handlers: every guest address is checked by vm_guest_ptr; bad input is an error to the guest. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "guest.h"

struct guest_exit guest_exit_state;

static void hc_console(struct guest *g, struct mote_hc_console *c)
{
	/* Writing reads guest data but never changes it, so the IN fields stay valid. */
	if (c->len > MOTE_CONSOLE_MAX) {
		c->ret = -MOTE_EINVAL;
		return;
	}
	const uint8_t *data = vm_guest_ptr(&g->vm, c->data, c->len, 1);
	if (!data) {
		c->ret = -MOTE_EFAULT;
		return;
	}
	switch (c->stream) {
	case MOTE_CONSOLE_STDOUT:
	case MOTE_CONSOLE_STDERR: c->ret = console_write(g, c->stream, data, c->len); break;
	case MOTE_CONSOLE_LOG:
		if (g->cfg->debug)
			fprintf(stderr, "mote-vmm: guest: %.*s\n", (int)(c->len > 4096 ? 4096 : c->len),
				data);
		c->ret = (int64_t)c->len;
		break;
	default: c->ret = -MOTE_EINVAL; break;
	}
}

static void hc_sleep(struct guest *g, struct mote_hc_sleep *s)
{
	struct timespec ts = {.tv_sec = (time_t)(s->ns / 1000000000ull),
			      .tv_nsec = (long)(s->ns % 1000000000ull)};
	if (s->ns > 100ull * 365 * 86400 * 1000000000ull) {
		s->ret = -MOTE_EINVAL;
		return;
	}
	/* An interrupted sleep returns early; the run loop then sees the timeout. */
	s->ret = nanosleep(&ts, NULL) == 0 ? 0 : -EINTR;
}

static void hc_entropy(struct guest *g, struct mote_hc_entropy *e)
{
	/* Read the IN fields once: the data may overlap the struct itself. */
	uint64_t len = e->len, gpa = e->data;
	if (len > MOTE_ENTROPY_MAX) {
		e->ret = -MOTE_EINVAL;
		return;
	}
	uint8_t *data = vm_guest_ptr(&g->vm, gpa, len, 0);
	if (!data) {
		e->ret = -MOTE_EFAULT;
		return;
	}
	e->ret = getentropy(data, len) == 0 ? (int64_t)len : -EIO;
}

static void hc_exit(struct guest *g, const struct mote_hc_exit *x)
{
	struct guest_exit *st = &guest_exit_state;
	st->exited = 1;
	st->reason = x->reason;
	st->status = x->status;
	st->rip = x->rip;
	st->rsp = x->rsp;
	uint64_t n = x->msg_len > 512 ? 512 : x->msg_len;
	const char *msg = x->msg ? vm_guest_ptr(&g->vm, x->msg, n, 1) : NULL;
	if (msg) {
		memcpy(st->msg, msg, n);
		st->msg[n] = 0;
		for (char *p = st->msg; *p; p++)
			if (*p == '\n' || (unsigned char)*p < 0x20)
				*p = ' ';
	} else {
		st->msg[0] = 0;
	}
}

/*
 * Respond and wait: ring the supervisor's doorbell and let the run loop wait
 * for the next request. The messages themselves are never read here.
 */
static enum guest_next hc_invoke(struct guest *g, struct mote_hc_invoke *c)
{
	uint32_t flags;
	memcpy(&flags, &c->flags, sizeof(flags));
	if (flags != 0) {
		c->ret = -MOTE_EINVAL;
		return GUEST_RESUME;
	}
	if (!g->chan.attached) {
		c->ret = -MOTE_ENODEV;
		return GUEST_RESUME;
	}
	uint64_t one = 1;
	if (write(g->chan.doorbell_host, &one, sizeof(one)) != (ssize_t)sizeof(one) && g->cfg->debug)
		fprintf(stderr, "mote-vmm: cannot ring the host doorbell: %s\n", strerror(errno));
	g->chan.waiting = c;
	return GUEST_INVOKE;
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
	case MOTE_HC_SNAPSHOT: {
		/* The result is in guest memory before the snapshot, so clones return it too. */
		struct mote_hc_snapshot *s = p;
		s->ret = g->cfg->snapshot_path ? 0 : -MOTE_EOPNOTSUPP;
		if (!g->cfg->snapshot_path)
			return GUEST_RESUME;
		g->snapshot_call = s;
		return GUEST_SNAPSHOT;
	}
	case MOTE_HC_INVOKE: return hc_invoke(g, p);
	}
	return GUEST_RESUME;
}
