/* snapmem: writes 32 MiB of non-zero data, then asks for a snapshot (snapshot time of a 64 MiB guest). */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * bench/runner boots this with `--mem 64M --snapshot FILE --exit-after-snapshot
 * --debug` and reads the time mote-vmm reports for writing the snapshot.
 * 32 MiB, half the guest, is of the order of what a language runtime holds
 * once it has started and loaded its code (tens of MiB resident). The words
 * differ from page to page and none is zero, so the memory file holds every
 * page written.
 */
#define TOUCH_BYTES (32u << 20)

int main(void)
{
	uint64_t *p = malloc(TOUCH_BYTES);
	if (!p)
		return 1;
	for (uint64_t i = 0; i < TOUCH_BYTES / 8; i++)
		p[i] = (i + 1) * 0x9e3779b97f4a7c15ull;
	int fd = open("/dev/mote/snapshot", O_WRONLY);
	if (fd < 0 || write(fd, "1", 1) != 1)
		return 2;
	/* Only clones get here; keep the data live so the compiler cannot drop it. */
	return p[TOUCH_BYTES / 16] == 0 ? 3 : 0;
}
