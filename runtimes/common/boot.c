/* What every runtime does between boot and its first request: the base snapshot, then entering the function.
 */
#include "boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int boot_snapshot(const char *who)
{
	int fd = open(BOOT_SNAPSHOT_DEVICE, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		fprintf(stderr, "%s: %s: %s\n", who, BOOT_SNAPSHOT_DEVICE, strerror(e));
		return -e;
	}
	ssize_t n = write(fd, "1", 1);
	int e = errno;
	close(fd);
	if (n == 1)
		return 0;
	if (n >= 0)
		e = EIO;
	if (e == EOPNOTSUPP)
		fprintf(stderr,
			"%s: no snapshot file: a runtime is booted by mote to make its base snapshot "
			"(mote-vmm --snapshot FILE)\n",
			who);
	else
		fprintf(stderr, "%s: %s: %s\n", who, BOOT_SNAPSHOT_DEVICE, strerror(e));
	return -e;
}

char *boot_read_file(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, have = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (have == cap - 1) { /* full but for the NUL's byte */
			char *p = have > max ? NULL : realloc(buf, cap * 2);
			if (!p) {
				int e = have > max ? EFBIG : ENOMEM;
				free(buf);
				buf = NULL;
				errno = e;
				break;
			}
			buf = p;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + have, cap - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			buf = NULL;
			errno = e;
			break;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	if (buf && have > max) {
		free(buf);
		buf = NULL;
		errno = EFBIG;
	}
	int e = errno;
	close(fd);
	errno = e;
	if (buf) {
		buf[have] = 0;
		*len = have;
	}
	return buf;
}

static int apply_environ(const char *path, char *why, size_t len)
{
	size_t size;
	char *env = boot_read_file(path, BOOT_ENVIRON_MAX, &size);
	if (!env) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, len, "%s: %s", path, errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
		return -1;
	}
	int entry = 0;
	for (size_t off = 0; off < size; entry++) {
		char *name = env + off;
		size_t n = strlen(name); /* entries end with NUL; the buffer too */
		off += n + 1;
		char *eq = strchr(name, '=');
		if (!eq || eq == name) {
			snprintf(why, len, "%s: entry %d is not NAME=VALUE", path, entry + 1);
			free(env);
			return -1;
		}
		*eq = 0;
		if (setenv(name, eq + 1, 1) < 0) {
			snprintf(why, len, "%s: entry %d: %s", path, entry + 1, strerror(errno));
			free(env);
			return -1;
		}
	}
	free(env);
	return 0;
}

int boot_enter_function(const char *dir, const char *environ_file, char *why, size_t len)
{
	if (apply_environ(environ_file, why, len) < 0)
		return -1;
	if (chdir(dir) < 0) {
		snprintf(why, len, "%s: %s (no bundle attached?)", dir, strerror(errno));
		return -1;
	}
	return 0;
}
