/* Unit test of lib/workset.c: encoding a page map into a working set, and checking one, valid and malformed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workset.h"

#include "check.h"

static uint8_t blob[MOTE_WS_MAX];

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A blob of `n` runs given as first, count pairs, for a guest of `pages` pages; its length. */
static size_t make(uint64_t pages, size_t n, const uint64_t *runs)
{
	memcpy(blob, MOTE_WS_MAGIC, 8);
	put64(blob + 8, pages);
	put64(blob + 16, n);
	for (size_t i = 0; i < n; i++) {
		put64(blob + MOTE_WS_HEADER + i * 16, runs[2 * i]);
		put64(blob + MOTE_WS_HEADER + i * 16 + 8, runs[2 * i + 1]);
	}
	return MOTE_WS_HEADER + n * 16;
}

static void refused(const char *name, size_t len, uint64_t pages, const char *why)
{
	struct mote_err err = {0};
	long r = mote_ws_parse(blob, len, pages, &err);
	check(name, r == -1 && strstr(err.msg, why) != NULL, "returned %ld: %s", r, err.msg);
}

int main(void)
{
	/* Encoding: runs of set bytes, in order; the parse gives them back. */
	uint8_t map[64] = {0};
	for (int i = 3; i < 7; i++)
		map[i] = 1;
	map[9] = 1;
	map[63] = 1;
	size_t len = mote_ws_encode(map, 64, blob, sizeof(blob));
	struct mote_err err = {0};
	long runs = mote_ws_parse(blob, len, 64, &err);
	struct mote_ws_run r0 = mote_ws_run(blob, 0), r1 = mote_ws_run(blob, 1), r2 = mote_ws_run(blob, 2);
	check("encode-runs",
	      len == MOTE_WS_HEADER + 3 * 16 && runs == 3 && r0.first == 3 && r0.count == 4 &&
		  r1.first == 9 && r1.count == 1 && r2.first == 63 && r2.count == 1,
	      "len %zu runs %ld: %s", len, runs, err.msg);
	check("pages", mote_ws_pages(blob, 3) == 6, "%llu", (unsigned long long)mote_ws_pages(blob, 3));
	memset(map, 0, sizeof(map));
	len = mote_ws_encode(map, 64, blob, sizeof(blob));
	check("empty-set", len == MOTE_WS_HEADER && mote_ws_parse(blob, len, 64, &err) == 0, "len %zu", len);
	check("encode-no-room", mote_ws_encode(map, 64, blob, 10) == 0, "wrote into 10 bytes");
	memset(map, 1, sizeof(map));
	check("encode-no-room-for-runs", mote_ws_encode(map, 64, blob, MOTE_WS_HEADER + 8) == 0, "fit");

	/* More runs than allowed: the lowest are kept, and the result parses. */
	uint64_t big = 2ull * MOTE_WS_RUNS_MAX + 10;
	uint8_t *alt = calloc(big, 1);
	for (uint64_t i = 0; i < big; i += 2)
		alt[i] = 1;
	len = mote_ws_encode(alt, big, blob, sizeof(blob));
	runs = mote_ws_parse(blob, len, big, &err);
	check("encode-caps-runs", runs == (long)MOTE_WS_RUNS_MAX && mote_ws_run(blob, 0).first == 0,
	      "runs %ld: %s", runs, err.msg);
	free(alt);

	/* Refusals, each naming what is wrong. */
	uint64_t ok[] = {1, 2, 10, 5};
	len = make(100, 2, ok);
	check("valid", mote_ws_parse(blob, len, 100, &err) == 2, "%s", err.msg);
	refused("other-guest-size", len, 200, "recorded on a guest of 100 pages, this one has 200");
	refused("truncated", len - 1, 100, "bytes for 2 runs");
	refused("trailing-bytes", len + 16, 100, "bytes for 2 runs");
	refused("shorter-than-header", 10, 100, "not one");
	blob[0] = 'X';
	refused("bad-magic", len, 100, "not one");
	uint64_t order[] = {10, 5, 1, 2};
	refused("out-of-order", make(100, 2, order), 100, "run 1");
	uint64_t adjacent[] = {1, 2, 3, 4};
	refused("adjacent", make(100, 2, adjacent), 100, "run 1");
	uint64_t overlap[] = {1, 5, 3, 4};
	refused("overlapping", make(100, 2, overlap), 100, "run 1");
	uint64_t empty[] = {1, 0};
	refused("empty-run", make(100, 1, empty), 100, "run 0");
	uint64_t beyond[] = {90, 11};
	refused("beyond-ram", make(100, 1, beyond), 100, "run 0");
	uint64_t wrap[] = {5, UINT64_MAX};
	refused("count-wraps", make(100, 1, wrap), 100, "run 0");
	uint64_t start[] = {100, 1};
	refused("starts-beyond-ram", make(100, 1, start), 100, "run 0");
	len = make(100, 0, NULL);
	put64(blob + 16, (uint64_t)MOTE_WS_RUNS_MAX + 1);
	refused("too-many-runs", len, 100, "runs");

	/* Reading one from an fd: the whole file, checked; refused when unreadable or too large. */
	uint64_t some[] = {2, 3};
	len = make(100, 1, some);
	FILE *f = tmpfile();
	fwrite(blob, 1, len, f);
	fflush(f);
	memset(blob, 0, sizeof(blob));
	runs = mote_ws_read(fileno(f), blob, 100, &err);
	check("read-fd", runs == 1 && mote_ws_run(blob, 0).first == 2 && mote_ws_run(blob, 0).count == 3,
	      "%ld: %s", runs, err.msg);
	check("read-fd-other-guest",
	      mote_ws_read(fileno(f), blob, 64, &err) == -1 && strstr(err.msg, "guest of 100"), "%s",
	      err.msg);
	ftruncate(fileno(f), MOTE_WS_MAX + 1);
	check("read-fd-too-large",
	      mote_ws_read(fileno(f), blob, 100, &err) == -1 && strstr(err.msg, "larger than"), "%s",
	      err.msg);
	fclose(f);
	check("read-fd-closed", mote_ws_read(-1, blob, 100, &err) == -1 && strstr(err.msg, "unreadable"),
	      "%s", err.msg);
	return failures ? 1 : 0;
}
