/* Snapshots from inside the guest: the /dev/mote/snapshot and /dev/mote/generation device files. */
#include "snapshot.h"

#include "clock.h"
#include "hypercall.h"
#include "klib.h"
#include "linux.h"

long snapshot_request(void)
{
	static struct mote_hc_snapshot s;
	s.ret = -MOTE_ENOSYS;
	hypercall(MOTE_HC_SNAPSHOT, &s);
	return s.ret < 0 ? (long)s.ret : 0;
}

size_t snapshot_read_generation(void *buf, size_t len, uint64_t *pos)
{
	char text[24];
	size_t n = (size_t)ksnprintf(text, sizeof(text), "%lu\n", clock_generation());
	if (*pos >= n)
		return 0;
	size_t count = MIN(len, n - (size_t)*pos);
	memcpy(buf, text + *pos, count);
	*pos += count;
	return count;
}
