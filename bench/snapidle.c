/* snapidle: asks for a snapshot, then prints "ready" and sleeps (memory of an idle clone, `make bench`). */
#include <fcntl.h>
#include <unistd.h>

/*
 * bench/runner restores several clones of this program's snapshot, waits
 * for each to print "ready" and go to sleep, and reads their
 * /proc/PID/smaps_rollup; it runs the same binary natively (where
 * /dev/mote/snapshot does not exist) as the baseline. The clones sleep until
 * the runner kills them.
 */
int main(void)
{
	int fd = open("/dev/mote/snapshot", O_WRONLY);
	if (fd >= 0) {
		(void)!write(fd, "1", 1);
		close(fd);
	}
	if (write(STDOUT_FILENO, "ready\n", 6) != 6)
		return 1;
	for (;;)
		sleep(3600);
}
