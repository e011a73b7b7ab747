/* libFuzzer target: mote_elf_parse, mote_elf_deps and mote_elf_symbolize on arbitrary bytes; checks the
 * parser's promises. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mote_elf_info info;
	int r = mote_elf_parse(data, size, &info);
	if (r < MOTE_ELF_OK || r > MOTE_ELF_TRUNCATED || !mote_elf_strerror(r))
		__builtin_trap();
	/* A dynamic program is checked as a static one. */
	if (r == MOTE_ELF_OK || r == MOTE_ELF_DYNAMIC) {
		/* What a loader relies on: at least one load, all inside the file, entry inside the span. */
		if (info.nloads == 0 || info.nloads > MOTE_ELF_MAX_LOADS || info.lo > info.hi)
			__builtin_trap();
		if (info.entry < info.lo || info.entry >= info.hi || (info.lo & 4095) || (info.hi & 4095))
			__builtin_trap();
		for (unsigned i = 0; i < info.nloads; i++) {
			const struct mote_elf_load *l = &info.loads[i];
			if (l->filesz > l->memsz || l->offset > size || l->filesz > size - l->offset)
				__builtin_trap();
			if (l->vaddr < info.lo || l->vaddr + l->memsz > info.hi ||
			    l->vaddr + l->memsz < l->vaddr)
				__builtin_trap();
			if ((l->vaddr & 4095) != (l->offset & 4095))
				__builtin_trap();
		}
	}
	if (r == MOTE_ELF_DYNAMIC && strnlen(info.interp, sizeof(info.interp)) == sizeof(info.interp))
		__builtin_trap();

	struct mote_elf_deps deps;
	int d = mote_elf_deps(data, size, &deps);
	if ((r != MOTE_ELF_OK && r != MOTE_ELF_DYNAMIC && d != r) || deps.nneeded > MOTE_ELF_MAX_NEEDED)
		__builtin_trap(); /* deps fails as parse does, and never overflows */
	for (unsigned i = 0; d == MOTE_ELF_OK && i < deps.nneeded; i++)
		if (strnlen(deps.needed[i], MOTE_ELF_NAME_MAX) == MOTE_ELF_NAME_MAX)
			__builtin_trap();
	if (strnlen(deps.runpath, sizeof(deps.runpath)) == sizeof(deps.runpath))
		__builtin_trap();

	char name[32];
	uint64_t off = 0;
	uint64_t addrs[3] = {info.entry, 0, UINT64_MAX};
	if (size >= 8)
		memcpy(&addrs[1], data + size - 8, 8);
	for (int i = 0; i < 3; i++) {
		if (mote_elf_symbolize(data, size, addrs[i], name, sizeof(name), &off) == 0) {
			if (strnlen(name, sizeof(name)) == sizeof(name) || off > addrs[i])
				__builtin_trap();
		}
	}
	char tiny[1];
	if (mote_elf_symbolize(data, size, info.entry, tiny, sizeof(tiny), &off) == 0 && tiny[0] != 0)
		__builtin_trap();
	return 0;
}
