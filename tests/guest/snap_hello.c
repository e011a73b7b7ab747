/* Guest test: prints a line, asks for a snapshot through /dev/mote/snapshot, prints another line and exits 0.
 * The line after tells the original (generation 0) from a clone (generation 1 and up).
 * usage: snap_hello [again]   with "again", a clone then asks for a second snapshot and prints
 *                             "snap_hello: again" lines right after it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	printf("snap_hello: before\n");
	fflush(stdout);
	int fd = open("/dev/mote/snapshot", O_WRONLY);
	if (fd < 0) {
		printf("snap_hello: open /dev/mote/snapshot: %s\n", strerror(errno));
		return 1;
	}
	ssize_t n = write(fd, "1", 1);
	int e = errno;
	close(fd);
	char gen[32] = "?";
	int g = open("/dev/mote/generation", O_RDONLY);
	if (g >= 0) {
		ssize_t got = read(g, gen, sizeof(gen) - 1);
		gen[got > 0 ? got : 0] = 0;
		gen[strcspn(gen, "\n")] = 0;
		close(g);
	}
	if (n != 1)
		printf("snap_hello: snapshot write returned %zd (errno %d), generation %s\n", n, e, gen);
	else
		printf("snap_hello: after, generation %s\n", gen);
	if (argc > 1 && !strcmp(argv[1], "again") && strcmp(gen, "0") != 0) {
		fflush(stdout);
		fd = open("/dev/mote/snapshot", O_WRONLY);
		n = fd < 0 ? -1 : write(fd, "1", 1);
		for (int i = 0; i < 64; i++)
			printf("snap_hello: again (%zd)\n", n);
	}
	return 0;
}
