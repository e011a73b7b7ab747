/* libFuzzer target: walk a cpio newc image with mote_cpio_next until END or CORRUPT (bounded). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cpio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t offset = 0;
	for (int i = 0; i < 100000; i++) {
		struct mote_cpio_entry e;
		size_t before = offset;
		int r = mote_cpio_next(data, size, &offset, &e);
		if (r == MOTE_CPIO_CORRUPT)
			break;
		if (r != MOTE_CPIO_ENTRY && r != MOTE_CPIO_END)
			__builtin_trap();
		/* The entry lies inside the image, its name is NUL-terminated, the walk moves forward. */
		const uint8_t *name = (const uint8_t *)e.name;
		if (name < data || name + e.name_len >= data + size || name[e.name_len] != 0)
			__builtin_trap();
		if (e.data < data || e.data > data + size || e.size > (uint64_t)(data + size - e.data))
			__builtin_trap();
		if (offset <= before || offset > size)
			__builtin_trap();
		/* Touch every byte the entry claims, so ASan sees any lie. */
		volatile uint8_t sink = 0;
		for (size_t k = 0; k < e.name_len; k++)
			sink ^= name[k];
		for (uint64_t k = 0; k < e.size; k += 61)
			sink ^= e.data[k];
		(void)sink;
		if (r == MOTE_CPIO_END)
			break;
	}
	/* Odd starting offsets must be refused or handled, never over-read. */
	struct mote_cpio_entry e;
	size_t offsets[3] = {size, size + 1, (size_t)-1};
	for (int i = 0; i < 3; i++) {
		size_t off = offsets[i];
		if (mote_cpio_next(data, size, &off, &e) != MOTE_CPIO_CORRUPT)
			__builtin_trap();
	}
	return 0;
}
