/* A function's log: its VMs' output and the gateway's notes about it, in a file bounded by rotation. */
#include "fnlog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct fnlog {
	int fd;
	uint64_t size;
	char path[PATH_MAX];
	char old_path[PATH_MAX + 2];
};

struct fnlog *fnlog_open(const char *dir, const char *name)
{
	struct fnlog *log = calloc(1, sizeof(*log));
	if (!log)
		return NULL;
	snprintf(log->path, sizeof(log->path), "%s/%s.log", dir, name);
	snprintf(log->old_path, sizeof(log->old_path), "%s.1", log->path);
	log->fd = open(log->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (log->fd < 0) {
		fprintf(stderr, "mote: cannot open log %s: %s\n", log->path, strerror(errno));
		free(log);
		return NULL;
	}
	struct stat st;
	if (fstat(log->fd, &st) == 0)
		log->size = (uint64_t)st.st_size;
	return log;
}

static void rotate(struct fnlog *log)
{
	if (rename(log->path, log->old_path) < 0)
		return;
	int fd = open(log->path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	close(log->fd);
	log->fd = fd;
	log->size = 0;
}

void fnlog_write(struct fnlog *log, const void *data, size_t len)
{
	if (!log)
		return;
	const char *p = data;
	while (len) {
		/* Rotate on a line boundary when one lies close before the limit, else exactly at it. */
		uint64_t room = log->size < FNLOG_ROTATE_BYTES ? FNLOG_ROTATE_BYTES - log->size : 0;
		size_t n = len < room ? len : (size_t)room;
		if (n) {
			ssize_t w = write(log->fd, p, n);
			if (w <= 0)
				return; /* a full disk drops output; it never fails a request */
			log->size += (uint64_t)w;
			p += w;
			len -= (size_t)w;
		}
		if (log->size >= FNLOG_ROTATE_BYTES)
			rotate(log);
	}
}

void fnlog_notef(struct fnlog *log, const char *fmt, ...)
{
	if (!log)
		return;
	char line[1024];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	size_t n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ mote: ", &tm);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += (size_t)m < sizeof(line) - n - 1 ? (size_t)m : sizeof(line) - n - 2;
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\n')
			line[i] = ' ';
	line[n++] = '\n';
	fnlog_write(log, line, n);
}

/* Append the last `want` bytes of file `path` to buf (which has room). */
static size_t read_last(const char *path, uint64_t want, char *buf)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct stat st;
	size_t got = 0;
	if (fstat(fd, &st) == 0) {
		uint64_t size = (uint64_t)st.st_size;
		uint64_t n = size < want ? size : want;
		off_t off = (off_t)(size - n);
		while (got < n) {
			ssize_t r = pread(fd, buf + got, (size_t)(n - got), off + (off_t)got);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
	}
	close(fd);
	return got;
}

int fnlog_read_tail(struct fnlog *log, uint64_t tail, char **out, size_t *len)
{
	uint64_t max = 2ull * FNLOG_ROTATE_BYTES;
	if (tail > max)
		tail = max;
	char *buf = malloc((size_t)tail + 1);
	if (!buf)
		return -1;
	struct stat st;
	uint64_t cur = stat(log->path, &st) == 0 ? (uint64_t)st.st_size : 0;
	size_t n = 0;
	if (cur < tail)
		n = read_last(log->old_path, tail - cur, buf);
	n += read_last(log->path, tail - n, buf + n);
	buf[n] = 0;
	*out = buf;
	*len = n;
	return 0;
}

void fnlog_unlink(struct fnlog *log)
{
	if (!log)
		return;
	unlink(log->path);
	unlink(log->old_path);
}

void fnlog_close(struct fnlog *log)
{
	if (!log)
		return;
	close(log->fd);
	free(log);
}
