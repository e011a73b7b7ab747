/* Guest test: interleaved stdout/stderr lines, a 1 MiB single write, writes above the console limit, writev,
 * stdio buffering and a final partial line. Output is deterministic, to compare with a native run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static void write_full(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w <= 0) {
			fprintf(stderr, "stdio: FAILED: write returned %zd\n", w);
			exit(1);
		}
		c += w;
		n -= (size_t)w;
	}
}

static void big_block(int fd, size_t size, char seed)
{
	char *buf = malloc(size);
	if (!buf)
		exit(2);
	for (size_t i = 0; i < size; i++)
		buf[i] = (i % 64 == 63) ? '\n' : (char)('a' + (i / 64 + (size_t)seed) % 26);
	ssize_t w = write(fd, buf, size);
	if (w != (ssize_t)size) {
		fprintf(stderr, "stdio: FAILED: single write of %zu bytes returned %zd\n", size, w);
		if (w > 0)
			write_full(fd, buf + w, size - (size_t)w);
	}
	free(buf);
}

int main(void)
{
	/* interleaved raw writes */
	for (int i = 0; i < 5; i++) {
		char line[64];
		int n = snprintf(line, sizeof(line), "stdout line %d\n", i);
		write_full(1, line, (size_t)n);
		n = snprintf(line, sizeof(line), "stderr line %d\n", i);
		write_full(2, line, (size_t)n);
	}
	/* partial lines assembled from pieces */
	write_full(1, "part", 4);
	write_full(2, "err-part", 8);
	write_full(1, "ial\n", 4);
	write_full(2, "ial\n", 4);
	/* stdio: buffered stdout, unbuffered stderr */
	printf("printf %d %s %.3f\n", 42, "str", 3.25);
	fflush(stdout);
	fprintf(stderr, "fprintf stderr %x\n", 0xbeef);
	puts("puts line");
	fflush(stdout);
	/* writev */
	struct iovec iov[3] = {{"writev ", 7}, {"in three ", 9}, {"pieces\n", 7}};
	if (writev(1, iov, 3) != 23)
		fprintf(stderr, "stdio: FAILED: writev\n");
	/* 1 MiB in one write, then 1 MiB + 17 (over the console's per-call limit) */
	big_block(1, 1 << 20, 0);
	big_block(1, (1 << 20) + 17, 5);
	big_block(2, 100000, 9);
	write_full(2, "\n", 1);
	/* many small stdio writes */
	for (int i = 0; i < 2000; i++)
		printf("%d%c", i, i % 20 == 19 ? '\n' : ' ');
	fflush(stdout);
	/* empty write and a final partial line on each stream */
	write_full(1, "", 0);
	write(1, "", 0);
	write_full(2, "stderr without newline", 22);
	write_full(1, "stdout without newline", 22);
	return 0;
}
