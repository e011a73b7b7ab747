/* Reading a whole file in a unit test. */
#ifndef TESTS_UNIT_SLURP_H
#define TESTS_UNIT_SLURP_H

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The file at `path` in malloc'ed memory (free() it), its length in *size; NULL if it cannot be read. */
static uint8_t *slurp(const char *path, size_t *size) __attribute__((unused));
static uint8_t *slurp(const char *path, size_t *size)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	ssize_t got = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	close(fd);
	if (got != st.st_size) {
		free(buf);
		return NULL;
	}
	*size = (size_t)st.st_size;
	return buf;
}

#endif /* TESTS_UNIT_SLURP_H */
