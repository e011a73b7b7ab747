/*
 * Guest test for snapshots: what must differ between clones (random bytes) and what must be re-anchored
 * (clocks) after a restore.
 *
 * usage: snap_unique [again]
 *   Prints "snap_unique: before the snapshot, " (no newline), reads CLOCK_REALTIME and CLOCK_MONOTONIC,
 *   asks for a snapshot (write to /dev/mote/snapshot), reads both clocks again, then prints "after the
 *   snapshot" and a newline (so a clone's first line is just that), then one "key=value" per line:
 *     snapshot_write=N errno=E   the write's return (1) or -1 with its errno (EOPNOTSUPP without --snapshot)
 *     generation=G               /dev/mote/generation
 *     getrandom=HEX              16 bytes from getrandom(2)
 *     urandom=HEX                16 bytes read from /dev/urandom
 *     realtime_before=NS realtime_after=NS   CLOCK_REALTIME just before and just after the write (vDSO)
 *     monotonic_before=NS monotonic_after=NS CLOCK_MONOTONIC likewise (vDSO)
 *     realtime_sys=NS monotonic_sys=NS       both again through the raw clock_gettime syscall
 *   With "again", a clone (generation >= 1) asks for one more snapshot before it prints, so that a clone of
 *   the clone (restored from that second snapshot) prints generation 2.
 *   The program goes on (and exits 0) when the write fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int64_t ns_of(clockid_t clock)
{
	struct timespec ts;
	if (clock_gettime(clock, &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t sys_ns_of(clockid_t clock)
{
	struct timespec ts;
	if (syscall(SYS_clock_gettime, clock, &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long generation(void)
{
	int fd = open("/dev/mote/generation", O_RDONLY);
	if (fd < 0)
		return -1;
	char buf[32];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 10);
}

static void hex(const char *key, const uint8_t *b, size_t n)
{
	printf("%s=", key);
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

/* write() to /dev/mote/snapshot: its return, errno in *err. */
static long request_snapshot(int *err)
{
	*err = 0;
	int fd = open("/dev/mote/snapshot", O_WRONLY);
	if (fd < 0) {
		*err = errno;
		return -2;
	}
	long r = write(fd, "s", 1);
	if (r < 0)
		*err = errno;
	close(fd);
	return r;
}

int main(int argc, char **argv)
{
	int again = argc >= 2 && !strcmp(argv[1], "again");
	/*
	 * A partial line: the guest kernel holds it in its console buffer (it sends whole lines), so it
	 * reaches the host only because a snapshot request flushes that buffer first; a clone must not
	 * print it again. stdio's own buffer is guest memory: flush it before a snapshot, as before a fork.
	 */
	printf("snap_unique: before the snapshot, ");
	fflush(stdout);

	int64_t real0 = ns_of(CLOCK_REALTIME), mono0 = ns_of(CLOCK_MONOTONIC);
	int err;
	long w = request_snapshot(&err);
	int64_t real1 = ns_of(CLOCK_REALTIME), mono1 = ns_of(CLOCK_MONOTONIC);
	if (again && generation() >= 1) {
		int err2;
		long w2 = request_snapshot(&err2);
		printf("second_snapshot_write=%ld errno=%d\n", w2, err2);
	}

	printf("after the snapshot\n");
	printf("snapshot_write=%ld errno=%d%s%s\n", w, err, err ? " " : "", err ? strerror(err) : "");
	printf("generation=%ld\n", generation());
	uint8_t r[16];
	memset(r, 0, sizeof(r));
	ssize_t got = getrandom(r, sizeof(r), 0);
	if (got != (ssize_t)sizeof(r))
		printf("getrandom_failed=%zd errno=%d\n", got, errno);
	else
		hex("getrandom", r, sizeof(r));
	memset(r, 0, sizeof(r));
	int fd = open("/dev/urandom", O_RDONLY);
	if (fd < 0 || read(fd, r, sizeof(r)) != (ssize_t)sizeof(r))
		printf("urandom_failed errno=%d\n", errno);
	else
		hex("urandom", r, sizeof(r));
	if (fd >= 0)
		close(fd);
	printf("realtime_before=%lld realtime_after=%lld\n", (long long)real0, (long long)real1);
	printf("monotonic_before=%lld monotonic_after=%lld\n", (long long)mono0, (long long)mono1);
	printf("realtime_sys=%lld monotonic_sys=%lld\n", (long long)sys_ns_of(CLOCK_REALTIME),
	       (long long)sys_ns_of(CLOCK_MONOTONIC));
	return 0;
}
