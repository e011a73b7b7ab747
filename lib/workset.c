/* Working sets: the guest RAM pages a clone touched by its first response, to fault in ahead at attach. */
#include "workset.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "status.h"

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

size_t mote_ws_encode(const uint8_t *map, uint64_t guest_pages, uint8_t *out, size_t cap)
{
	if (cap < MOTE_WS_HEADER)
		return 0;
	uint64_t n = 0;
	size_t at = MOTE_WS_HEADER;
	for (uint64_t i = 0; i < guest_pages && n < MOTE_WS_RUNS_MAX;) {
		if (!map[i]) {
			i++;
			continue;
		}
		uint64_t j = i;
		while (j < guest_pages && map[j])
			j++;
		if (cap - at < 16)
			return 0;
		put64(out + at, i);
		put64(out + at + 8, j - i);
		at += 16;
		n++;
		i = j;
	}
	memcpy(out, MOTE_WS_MAGIC, 8);
	put64(out + 8, guest_pages);
	put64(out + 16, n);
	return at;
}

long mote_ws_parse(const void *blob, size_t len, uint64_t guest_pages, struct mote_err *err)
{
	const uint8_t *b = blob;
	if (len < MOTE_WS_HEADER || memcmp(b, MOTE_WS_MAGIC, 8))
		return mote_errf(err, MOTE_STATUS_ATTACH_WORKSET, "working set: not one (no %s header)",
				 MOTE_WS_MAGIC);
	uint64_t pages = get64(b + 8), n = get64(b + 16);
	if (pages != guest_pages)
		return mote_errf(err, MOTE_STATUS_ATTACH_WORKSET,
				 "working set: recorded on a guest of %llu pages, this one has %llu",
				 (unsigned long long)pages, (unsigned long long)guest_pages);
	if (n > MOTE_WS_RUNS_MAX || len != MOTE_WS_HEADER + n * 16)
		return mote_errf(err, MOTE_STATUS_ATTACH_WORKSET, "working set: %zu bytes for %llu runs", len,
				 (unsigned long long)n);
	uint64_t next = 0; /* the lowest page the next run may start at */
	for (uint64_t i = 0; i < n; i++) {
		struct mote_ws_run r = mote_ws_run(blob, i);
		if (r.count == 0 || r.first < next || r.first >= guest_pages ||
		    r.count > guest_pages - r.first)
			return mote_errf(
			    err, MOTE_STATUS_ATTACH_WORKSET,
			    "working set: run %llu (pages %llu+%llu) is empty, out of order, touches "
			    "the one before or lies beyond the guest's RAM",
			    (unsigned long long)i, (unsigned long long)r.first, (unsigned long long)r.count);
		next = r.first + r.count + 1;
	}
	return (long)n;
}

long mote_ws_read(int fd, uint8_t *blob, uint64_t guest_pages, struct mote_err *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size > (off_t)MOTE_WS_MAX)
		return mote_errf(err, MOTE_STATUS_ATTACH_WORKSET,
				 "working set: the fd is unreadable or larger than %u bytes", MOTE_WS_MAX);
	if (pread(fd, blob, (size_t)st.st_size, 0) != (ssize_t)st.st_size)
		return mote_errf(err, MOTE_STATUS_ATTACH_WORKSET, "working set: cannot read the fd");
	return mote_ws_parse(blob, (size_t)st.st_size, guest_pages, err);
}

struct mote_ws_run mote_ws_run(const void *blob, size_t i)
{
	const uint8_t *p = (const uint8_t *)blob + MOTE_WS_HEADER + i * 16;
	struct mote_ws_run r = {get64(p), get64(p + 8)};
	return r;
}

uint64_t mote_ws_pages(const void *blob, size_t nruns)
{
	uint64_t n = 0;
	for (size_t i = 0; i < nruns; i++)
		n += mote_ws_run(blob, i).count;
	return n;
}
