/* Guest test: a clone that crashes inside the guest kernel, for the crash report of a restored VM.
 *
 * usage: snap_kcrash ADDR
 *   Asks for a snapshot (write to /dev/mote/snapshot). The original prints "snap_kcrash: original" and
 *   exits 0. A clone (generation > 0) overwrites ADDR, the guest kernel's syscall entry (guest memory is
 *   all writable at CPL3), with ud2 and makes a system call: it crashes with rip = ADDR, in the kernel.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: snap_kcrash ADDR\n");
		return 2;
	}
	uint64_t addr = strtoull(argv[1], NULL, 0);
	int fd = open("/dev/mote/snapshot", O_WRONLY);
	if (fd < 0 || write(fd, "1", 1) != 1) {
		fprintf(stderr, "snap_kcrash: snapshot request failed\n");
		return 1;
	}
	char gen[32] = {0};
	int g = open("/dev/mote/generation", O_RDONLY);
	if (g < 0 || read(g, gen, sizeof(gen) - 1) <= 0)
		return 1;
	if (gen[0] == '0') {
		printf("snap_kcrash: original\n");
		return 0;
	}
	printf("snap_kcrash: clone, crashing in the kernel at %#llx\n", (unsigned long long)addr);
	fflush(stdout);
	volatile uint8_t *code = (volatile uint8_t *)(uintptr_t)addr;
	code[0] = 0x0f; /* ud2 */
	code[1] = 0x0b;
	syscall(SYS_getpid);
	fprintf(stderr, "snap_kcrash: the system call returned\n");
	return 1;
}
