/*
 * Guest test for snapshots: an idle clone that holds N MiB of data, for the memory-sharing measurement.
 *
 * usage: snap_idle MIB [SLEEP_SECONDS]
 *   Writes a pattern into MIB MiB (every 8-byte word, so no page is zero), asks for a snapshot (write to
 *   /dev/mote/snapshot), then reads back and verifies all MIB MiB, prints "snap_idle: ready gen=G" (or
 *   "snap_idle: BAD ..." and exits 1), and sleeps SLEEP_SECONDS (default 60) in nanosleep so that the test
 *   can measure the process's memory and then kill it. Then prints "snap_idle: done slept_ms=MS gen=G" with
 *   the CLOCK_MONOTONIC time the sleep took (for a snapshot taken during the sleep: the sleep must still
 *   last SLEEP_SECONDS in the VM that goes on and in clones, whose monotonic clock resumes where it was).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static uint64_t pattern(uint64_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull;
	return x ^ (x >> 31) ^ 0x5a5a5a5a00000001ull;
}

static void read_generation(char *gen, size_t size)
{
	snprintf(gen, size, "?");
	int fd = open("/dev/mote/generation", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, gen, size - 1);
		gen[n > 0 ? n : 0] = 0;
		gen[strcspn(gen, "\n")] = 0;
		close(fd);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: snap_idle MIB [SLEEP_SECONDS]\n");
		return 2;
	}
	size_t mib = strtoul(argv[1], NULL, 10);
	double sleep_s = argc >= 3 ? strtod(argv[2], NULL) : 60;
	size_t words = mib << 17;
	uint64_t *p = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("snap_idle: BAD mmap of %zu MiB failed: %s\n", mib, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < words; i++)
		p[i] = pattern(i);
	printf("snap_idle: touched %zu MiB\n", mib);
	fflush(stdout);

	int fd = open("/dev/mote/snapshot", O_WRONLY);
	long w = fd < 0 ? -1 : write(fd, "s", 1);
	if (w != 1) {
		printf("snap_idle: BAD snapshot request failed: %s\n", strerror(errno));
		return 1;
	}
	close(fd);

	size_t bad = 0;
	for (size_t i = 0; i < words; i++)
		bad += p[i] != pattern(i);
	char gen[32];
	read_generation(gen, sizeof(gen));
	if (bad) {
		printf("snap_idle: BAD %zu of %zu words differ after the snapshot (gen %s)\n", bad, words,
		       gen);
		return 1;
	}
	printf("snap_idle: ready gen=%s mib=%zu\n", gen, mib);
	fflush(stdout);
	struct timespec ts = {(time_t)sleep_s, (long)((sleep_s - (double)(time_t)sleep_s) * 1e9)}, t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	read_generation(gen, sizeof(gen)); /* a clone restored during the sleep has a new one */
	long long ms = (t1.tv_sec - t0.tv_sec) * 1000ll + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("snap_idle: done slept_ms=%lld gen=%s\n", ms, gen);
	return 0;
}
