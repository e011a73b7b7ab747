/* File descriptor hygiene at mote-vmm start: valid stdio, and no inherited descriptor kept by accident. */
#include "fds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436 /* x86-64, Linux 5.9 */
#endif

int vmm_fd_is_open(int fd)
{
	return fd >= 0 && (fcntl(fd, F_GETFD) >= 0 || errno != EBADF);
}

int vmm_fds_standard(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (vmm_fd_is_open(fd))
			continue;
		/* The lowest free descriptor is `fd` itself: the ones below it are open. */
		int n = open("/dev/null", O_RDWR);
		if (n < 0)
			return -1;
		if (n != fd) {
			dup2(n, fd);
			close(n);
		}
	}
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static int kept(const int *keep, int nkeep, int fd)
{
	for (int i = 0; i < nkeep; i++)
		if (keep[i] == fd)
			return 1;
	return 0;
}

/* Without close_range (Linux < 5.9): close what /proc/self/fd lists. */
static int close_listed(const int *keep, int nkeep)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	int self = dirfd(d);
	int fds[1024], n = 0, more = 1;
	while (more) {
		/* Collect first, close after: closing while reading the directory could skip entries. */
		struct dirent *e;
		n = 0;
		more = 0;
		rewinddir(d);
		while ((e = readdir(d))) {
			char *end;
			long fd = strtol(e->d_name, &end, 10);
			if (*end || fd < 3 || fd == self || kept(keep, nkeep, (int)fd))
				continue;
			if (n == (int)(sizeof(fds) / sizeof(fds[0]))) {
				more = 1;
				break;
			}
			fds[n++] = (int)fd;
		}
		for (int i = 0; i < n; i++)
			close(fds[i]);
	}
	closedir(d);
	return 0;
}

int vmm_fds_close_inherited(const int *keep, int nkeep)
{
	int sorted[64];
	if (nkeep > (int)(sizeof(sorted) / sizeof(sorted[0]))) {
		errno = EINVAL;
		return -1;
	}
	for (int i = 0; i < nkeep; i++)
		sorted[i] = keep[i];
	qsort(sorted, (size_t)nkeep, sizeof(int), cmp_int);
	unsigned int from = 3;
	for (int i = 0; i <= nkeep; i++) {
		unsigned int to = i < nkeep ? (unsigned int)sorted[i] : UINT_MAX;
		if (i < nkeep && sorted[i] < (int)from) {
			if (sorted[i] + 1 > (int)from)
				from = (unsigned int)sorted[i] + 1;
			continue;
		}
		if (to > from && syscall(SYS_close_range, from, to - 1, 0) < 0)
			return errno == ENOSYS ? close_listed(keep, nkeep) : -1;
		if (i < nkeep)
			from = to + 1;
	}
	return 0;
}
