/* Parser inputs that end right before an unreadable page, so that any over-read faults at once. */
#ifndef TESTS_UNIT_GUARD_H
#define TESTS_UNIT_GUARD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guarded {
	uint8_t *map;
	size_t map_size;
	const uint8_t *data; /* the copy: its last byte is the last readable one */
};

/* A copy of `len` bytes of `data` ending right before a PROT_NONE page (exits 2 if mmap fails). */
static struct guarded guard(const void *data, size_t len) __attribute__((unused));
static struct guarded guard(const void *data, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = (len + page - 1) / page * page;
	if (span == 0)
		span = page;
	struct guarded g = {.map_size = span + page};
	g.map = mmap(NULL, g.map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g.map == MAP_FAILED || mprotect(g.map + span, page, PROT_NONE) < 0) {
		perror("mmap");
		exit(2);
	}
	uint8_t *d = g.map + span - len;
	if (len)
		memcpy(d, data, len);
	g.data = d;
	return g;
}

/* Release a guard()ed copy. */
static void unguard(struct guarded *g) __attribute__((unused));
static void unguard(struct guarded *g)
{
	munmap(g->map, g->map_size);
}

#endif /* TESTS_UNIT_GUARD_H */
