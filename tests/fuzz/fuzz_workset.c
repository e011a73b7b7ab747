/* libFuzzer target: mote_ws_parse on arbitrary bytes, and mote_ws_encode's output always parsing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "workset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[MOTE_WS_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mote_err err = {0};
	/* The guest size the blob claims, and a fixed one: both must be checked without reading beyond. */
	uint64_t claimed = 0;
	if (size >= 16)
		for (int i = 7; i >= 0; i--)
			claimed = claimed << 8 | data[8 + i];
	uint64_t sizes[2] = {claimed, 16384};
	for (int k = 0; k < 2; k++) {
		long n = mote_ws_parse(data, size, sizes[k], &err);
		if (n < -1)
			__builtin_trap();
		uint64_t next = 0;
		for (long i = 0; i < n; i++) {
			struct mote_ws_run r = mote_ws_run(data, (size_t)i);
			if (r.count == 0 || r.first < next || r.first + r.count > sizes[k])
				__builtin_trap(); /* a run the parse let through that a caller would map */
			next = r.first + r.count + 1;
		}
	}
	/* The input as a page map: its encoding parses, with the same pages. */
	size_t pages = size < 200000 ? size : 200000;
	size_t len = mote_ws_encode(data, pages, out, sizeof(out));
	long n = mote_ws_parse(out, len, pages, &err);
	if (len == 0 || n < 0)
		__builtin_trap();
	uint64_t set = 0;
	for (size_t i = 0; i < pages; i++)
		set += data[i] != 0;
	if (n < (long)MOTE_WS_RUNS_MAX && mote_ws_pages(out, (size_t)n) != set)
		__builtin_trap();
	return 0;
}
