/* Console output: rings in guest memory that the monitor drains, so the program's output costs no exit. */
#include "console.h"

#include "hypercall.h"
#include "klib.h"
#include "linux.h"

#define CONSOLE_RING (64u << 10) /* bytes per stream */

static char ring_data[2][CONSOLE_RING] __attribute__((aligned(4096)));
static struct mote_console_ring *rings; /* in the boot info: stdout, stderr */

void console_init(struct mote_boot_info *bi)
{
	rings = bi->console;
	for (int i = 0; i < 2; i++) {
		struct mote_console_ring *r = &rings[i];
		r->head = r->tail = 0;
		r->error = 0;
		r->size = CONSOLE_RING;
		__atomic_store_n(&r->data, (uint64_t)(uintptr_t)ring_data[i], __ATOMIC_RELEASE);
	}
}

static struct mote_console_ring *ring_of(unsigned stream)
{
	return rings ? &rings[stream - MOTE_CONSOLE_STDOUT] : NULL;
}

/* Bytes of the ring the monitor has not sent yet. */
static uint64_t ring_pending(const struct mote_console_ring *r)
{
	return r->head - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
}

/* One console hypercall: the monitor sends what the stream's ring holds, then `len` bytes at `data`. */
static long send(unsigned stream, const void *data, size_t len)
{
	static struct mote_hc_console c;
	c.stream = stream;
	c.data = (uint64_t)(uintptr_t)data;
	c.len = len;
	c.ret = 0;
	hypercall(MOTE_HC_CONSOLE, &c);
	return c.ret < 0 ? (long)c.ret : 0;
}

void console_flush(void)
{
	for (unsigned s = MOTE_CONSOLE_STDOUT; s <= MOTE_CONSOLE_STDERR; s++) {
		struct mote_console_ring *r = ring_of(s);
		if (r && ring_pending(r))
			send(s, NULL, 0);
	}
}

/* Copy buf[len] into the ring (which has room for it) and publish it to the monitor. */
static void ring_append(struct mote_console_ring *r, unsigned index, const char *buf, size_t len)
{
	uint64_t head = r->head;
	size_t at = (size_t)(head % CONSOLE_RING), first = MIN(len, CONSOLE_RING - at);
	memcpy(ring_data[index] + at, buf, first);
	memcpy(ring_data[index], buf + first, len - first);
	__atomic_store_n(&r->head, head + len, __ATOMIC_RELEASE);
}

long console_write(unsigned stream, const void *buf, size_t len)
{
	if (stream != MOTE_CONSOLE_STDOUT && stream != MOTE_CONSOLE_STDERR)
		return -EINVAL;
	if (len == 0)
		return 0;
	struct mote_console_ring *r = ring_of(stream), *other = ring_of(3 - stream);
	if (!r) /* before console_init: straight out */
		return send(stream, buf, len) < 0 ? -EIO : (long)len;
	int64_t error = __atomic_load_n(&r->error, __ATOMIC_ACQUIRE);
	if (error)
		return -(long)error;
	/* Keep the order of stdout and stderr: what the other stream holds goes out first. */
	if (ring_pending(other))
		send(3 - stream, NULL, 0);
	const char *p = buf;
	if (len >= CONSOLE_RING) {
		/* Large writes go out directly (no copy), after what the ring holds. */
		while (len) {
			size_t n = MIN(len, (size_t)MOTE_CONSOLE_MAX);
			long e = send(stream, p, n);
			if (e < 0)
				return p == (const char *)buf ? e : (long)(p - (const char *)buf);
			p += n;
			len -= n;
		}
		return (long)(p - (const char *)buf);
	}
	if (CONSOLE_RING - ring_pending(r) < len) {
		long e = send(stream, NULL, 0);
		if (e < 0)
			return e;
		if (CONSOLE_RING - ring_pending(r) < len)
			return -EIO; /* the monitor did not take the ring's bytes */
	}
	ring_append(r, stream - MOTE_CONSOLE_STDOUT, p, len);
	return (long)len;
}
