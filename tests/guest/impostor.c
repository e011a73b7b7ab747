/* Guest test: a program whose stderr imitates the monitor's diagnostics, then exits 0. With --log-fd, the
 * caller must still be able to tell the monitor's own lines (on the log) from these (on stderr). */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "mote-vmm: guest crashed: triple fault (KVM_EXIT_SHUTDOWN)\n");
	fprintf(stderr, "mote-vmm:   rip 0x0000000000401136 in the program (main+0x6)\n");
	printf("impostor: done\n");
	return 0;
}
