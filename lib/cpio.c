/* Reading cpio "newc" archives (the rootfs image format); freestanding, shared by host and guest. */
#include "cpio.h"

static int parse_hex8(const uint8_t *p, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 8; i++) {
		uint8_t c = p[i];
		uint32_t d;
		if (c >= '0' && c <= '9')
			d = (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (uint32_t)(c - 'A' + 10);
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

static uint64_t pad4(uint64_t x)
{
	return (x + 3) & ~(uint64_t)3;
}

int mote_cpio_next(const void *image, size_t size, size_t *offset, struct mote_cpio_entry *entry)
{
	static const char magic[6] = {'0', '7', '0', '7', '0', '1'};
	const uint8_t *base = image;
	uint64_t off = *offset;
	uint32_t f[13];

	if (off > size || size - off < MOTE_CPIO_HEADER_SIZE)
		return MOTE_CPIO_CORRUPT;
	const uint8_t *h = base + off;
	for (int i = 0; i < 6; i++)
		if (h[i] != (uint8_t)magic[i])
			return MOTE_CPIO_CORRUPT;
	for (int i = 0; i < 13; i++)
		if (parse_hex8(h + 6 + 8 * i, &f[i]) < 0)
			return MOTE_CPIO_CORRUPT;
	uint32_t namesize = f[11];
	uint64_t filesize = f[6];
	uint64_t name_off = off + MOTE_CPIO_HEADER_SIZE;
	if (namesize == 0 || namesize > size - name_off)
		return MOTE_CPIO_CORRUPT;
	const char *name = (const char *)(base + name_off);
	if (name[namesize - 1] != 0)
		return MOTE_CPIO_CORRUPT;
	uint64_t data_off = pad4(name_off + namesize);
	if (data_off > size || filesize > size - data_off)
		return MOTE_CPIO_CORRUPT;

	entry->name = name;
	entry->name_len = namesize - 1;
	entry->ino = f[0];
	entry->mode = f[1];
	entry->uid = f[2];
	entry->gid = f[3];
	entry->nlink = f[4];
	entry->mtime = f[5];
	entry->data = base + data_off;
	entry->size = filesize;

	uint64_t next = pad4(data_off + filesize);
	*offset = next < size ? next : size;

	static const char trailer[] = MOTE_CPIO_TRAILER;
	if (entry->name_len == sizeof(trailer) - 1) {
		int same = 1;
		for (unsigned i = 0; i < sizeof(trailer) - 1; i++)
			same &= name[i] == trailer[i];
		if (same)
			return MOTE_CPIO_END;
	}
	return MOTE_CPIO_ENTRY;
}
