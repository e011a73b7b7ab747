/* snaphello: asks for a snapshot, then prints "hello" and exits 0 (restore vs boot, `make bench`). */
#include <fcntl.h>
#include <unistd.h>

/*
 * Booted with `mote-vmm --snapshot FILE --exit-after-snapshot`, the write to
 * /dev/mote/snapshot saves the VM and mote-vmm exits; every clone restored
 * from FILE returns from that write and goes on to print. Booted without
 * --snapshot the write fails (EOPNOTSUPP) and the program just prints: the
 * same binary measures a boot from scratch. The output is its last act.
 */
int main(void)
{
	int fd = open("/dev/mote/snapshot", O_WRONLY);
	if (fd >= 0)
		(void)!write(fd, "1", 1);
	return write(STDOUT_FILENO, "hello\n", 6) == 6 ? 0 : 1;
}
