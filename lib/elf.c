/* Bounds-checked parsing of x86-64 ELF executables; freestanding, shared by host and guest. */
#include "elf.h"

#include <mote/abi.h>

/* The few ELF definitions we need, so that the guest kernel needs no libc headers. */
struct elf64_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct elf64_shdr {
	uint32_t name, type;
	uint64_t flags, addr, offset, size;
	uint32_t link, info;
	uint64_t addralign, entsize;
};

struct elf64_sym {
	uint32_t name;
	uint8_t info, other;
	uint16_t shndx;
	uint64_t value, size;
};

#define ET_EXEC 2
#define ET_DYN 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define PT_NOTE 4
#define PT_PHDR 6
#define PT_TLS 7
#define SHT_SYMTAB 2
#define STT_FUNC 2
#define PAGE 4096ull
#define VADDR_LIMIT (1ull << 47)

/* True if [off, off + len) lies within a buffer of `size` bytes. */
static int in_bounds(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static void copy_bytes(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	while (n--)
		*d++ = *s++;
}

static void clear_bytes(void *dst, size_t n)
{
	unsigned char *d = dst;
	while (n--)
		*d++ = 0;
}

static void read_ehdr(const uint8_t *p, struct elf64_ehdr *eh)
{
	copy_bytes(eh, p, sizeof(*eh));
}

static int parse_note(const uint8_t *base, uint64_t off, uint64_t len, struct mote_elf_info *info)
{
	static const char owner[] = "MOTE";
	uint64_t end = off + len;
	while (off + 12 <= end) {
		uint32_t namesz, descsz, type;
		copy_bytes(&namesz, base + off, 4);
		copy_bytes(&descsz, base + off + 4, 4);
		copy_bytes(&type, base + off + 8, 4);
		uint64_t name_off = off + 12;
		uint64_t desc_off = name_off + ((namesz + 3ull) & ~3ull);
		uint64_t next = desc_off + ((descsz + 3ull) & ~3ull);
		if (next > end || next <= off)
			return MOTE_ELF_CORRUPT;
		int ours = namesz == sizeof(owner);
		for (unsigned i = 0; ours && i < sizeof(owner); i++)
			ours = base[name_off + i] == (uint8_t)owner[i];
		if (ours && type == MOTE_NOTE_ABI && descsz == 4) {
			info->has_abi_note = 1;
			copy_bytes(&info->abi_version, base + desc_off, 4);
		} else if (ours && type == MOTE_NOTE_SYSCALL_ENTRY && descsz == 8) {
			copy_bytes(&info->syscall_entry, base + desc_off, 8);
		}
		off = next;
	}
	return MOTE_ELF_OK;
}

int mote_elf_parse(const void *data, size_t size, struct mote_elf_info *info)
{
	const uint8_t *p = data;
	struct elf64_ehdr eh;

	clear_bytes(info, sizeof(*info));
	if (size < 16 || p[0] != 0x7f || p[1] != 'E' || p[2] != 'L' || p[3] != 'F')
		return MOTE_ELF_NOT_ELF;
	if (p[4] == 1)
		return MOTE_ELF_32BIT;
	if (p[4] != 2)
		return MOTE_ELF_CORRUPT;
	if (p[5] != 1)
		return MOTE_ELF_BAD_MACHINE;
	if (size < sizeof(eh))
		return MOTE_ELF_TRUNCATED;
	read_ehdr(p, &eh);
	if (eh.machine != EM_X86_64)
		return MOTE_ELF_BAD_MACHINE;
	if (eh.type != ET_EXEC && eh.type != ET_DYN)
		return MOTE_ELF_NOT_EXEC;
	if (eh.phentsize != sizeof(struct elf64_phdr) || eh.phnum == 0 || eh.phnum > 256)
		return MOTE_ELF_CORRUPT;
	if (!in_bounds(eh.phoff, (uint64_t)eh.phnum * sizeof(struct elf64_phdr), size))
		return MOTE_ELF_TRUNCATED;

	info->is_pie = eh.type == ET_DYN;
	info->entry = eh.entry;
	info->phnum = eh.phnum;
	info->phentsize = eh.phentsize;
	info->lo = UINT64_MAX;

	int dynamic = 0;
	for (unsigned i = 0; i < eh.phnum; i++) {
		struct elf64_phdr ph;
		copy_bytes(&ph, p + eh.phoff + i * sizeof(ph), sizeof(ph));
		switch (ph.type) {
		case PT_LOAD: {
			if (ph.memsz == 0)
				break;
			if (info->nloads == MOTE_ELF_MAX_LOADS || ph.filesz > ph.memsz)
				return MOTE_ELF_CORRUPT;
			if (ph.vaddr >= VADDR_LIMIT || ph.memsz > VADDR_LIMIT - ph.vaddr)
				return MOTE_ELF_CORRUPT;
			if ((ph.vaddr & (PAGE - 1)) != (ph.offset & (PAGE - 1)))
				return MOTE_ELF_CORRUPT;
			if (!in_bounds(ph.offset, ph.filesz, size))
				return MOTE_ELF_TRUNCATED;
			struct mote_elf_load *ld = &info->loads[info->nloads++];
			ld->vaddr = ph.vaddr;
			ld->memsz = ph.memsz;
			ld->offset = ph.offset;
			ld->filesz = ph.filesz;
			ld->flags = ph.flags & 7u;
			uint64_t lo = ph.vaddr & ~(PAGE - 1);
			uint64_t hi = (ph.vaddr + ph.memsz + PAGE - 1) & ~(PAGE - 1);
			if (lo < info->lo)
				info->lo = lo;
			if (hi > info->hi)
				info->hi = hi;
			if (ph.offset <= eh.phoff && eh.phoff - ph.offset < ph.filesz)
				info->phdr_vaddr = ph.vaddr + (eh.phoff - ph.offset);
			break;
		}
		case PT_INTERP: {
			if (!in_bounds(ph.offset, ph.filesz, size))
				return MOTE_ELF_TRUNCATED;
			uint64_t n =
			    ph.filesz < sizeof(info->interp) - 1 ? ph.filesz : sizeof(info->interp) - 1;
			copy_bytes(info->interp, p + ph.offset, n);
			info->interp[n] = 0;
			dynamic = 1;
			break;
		}
		case PT_NOTE:
			if (!in_bounds(ph.offset, ph.filesz, size))
				return MOTE_ELF_TRUNCATED;
			if (parse_note(p, ph.offset, ph.filesz, info) != MOTE_ELF_OK)
				return MOTE_ELF_CORRUPT;
			break;
		case PT_TLS: info->tls_memsz = ph.memsz; break;
		default: break;
		}
	}
	if (info->nloads == 0)
		return MOTE_ELF_NOT_EXEC;
	if (eh.entry < info->lo || eh.entry >= info->hi)
		return MOTE_ELF_CORRUPT;
	/* Segments must not overlap each other (sorted or not). */
	for (unsigned i = 0; i < info->nloads; i++)
		for (unsigned j = i + 1; j < info->nloads; j++) {
			const struct mote_elf_load *a = &info->loads[i], *b = &info->loads[j];
			if (a->vaddr < b->vaddr + b->memsz && b->vaddr < a->vaddr + a->memsz)
				return MOTE_ELF_CORRUPT;
		}
	/* Checked like a static one: a loader may go on and start it with its interpreter. */
	return dynamic ? MOTE_ELF_DYNAMIC : MOTE_ELF_OK;
}

#define DT_NULL 0
#define DT_NEEDED 1
#define DT_STRTAB 5
#define DT_STRSZ 10
#define DT_RPATH 15
#define DT_RUNPATH 29

/* The file offset of `vaddr` inside a loaded segment's file bytes, or UINT64_MAX. */
static uint64_t file_offset(const struct mote_elf_info *info, uint64_t vaddr)
{
	for (unsigned i = 0; i < info->nloads; i++) {
		const struct mote_elf_load *ld = &info->loads[i];
		if (vaddr >= ld->vaddr && vaddr - ld->vaddr < ld->filesz)
			return ld->offset + (vaddr - ld->vaddr);
	}
	return UINT64_MAX;
}

/* Copy the string at offset `off` of the string table [str, str + strsz) into dst[MOTE_ELF_NAME_MAX]. */
static int copy_dyn_string(const uint8_t *p, uint64_t str, uint64_t strsz, uint64_t off, char *dst,
			   size_t cap)
{
	for (size_t n = 0; n < cap; n++) {
		if (off + n >= strsz)
			return -1;
		char c = (char)p[str + off + n];
		dst[n] = c;
		if (!c)
			return 0;
	}
	return -1;
}

int mote_elf_deps(const void *data, size_t size, struct mote_elf_deps *deps)
{
	const uint8_t *p = data;
	struct mote_elf_info info;
	clear_bytes(deps, sizeof(*deps));
	int r = mote_elf_parse(data, size, &info);
	if (r != MOTE_ELF_OK && r != MOTE_ELF_DYNAMIC)
		return r;
	struct elf64_ehdr eh;
	read_ehdr(p, &eh);
	uint64_t dyn_off = 0, dyn_size = 0;
	for (unsigned i = 0; i < eh.phnum; i++) {
		struct elf64_phdr ph;
		copy_bytes(&ph, p + eh.phoff + i * sizeof(ph), sizeof(ph));
		if (ph.type == PT_DYNAMIC) {
			if (!in_bounds(ph.offset, ph.filesz, size))
				return MOTE_ELF_CORRUPT;
			dyn_off = ph.offset;
			dyn_size = ph.filesz;
		}
	}
	if (!dyn_size)
		return MOTE_ELF_OK;
	/* First pass: the string table; second: the names. */
	uint64_t strtab = UINT64_MAX, strsz = 0, rpath = UINT64_MAX, runpath = UINT64_MAX;
	uint64_t needed[MOTE_ELF_MAX_NEEDED];
	unsigned nneeded = 0;
	for (uint64_t off = dyn_off; off + 16 <= dyn_off + dyn_size; off += 16) {
		int64_t tag;
		uint64_t val;
		copy_bytes(&tag, p + off, 8);
		copy_bytes(&val, p + off + 8, 8);
		if (tag == DT_NULL)
			break;
		switch (tag) {
		case DT_NEEDED:
			if (nneeded == MOTE_ELF_MAX_NEEDED)
				return MOTE_ELF_CORRUPT;
			needed[nneeded++] = val;
			break;
		case DT_STRTAB: strtab = file_offset(&info, val); break;
		case DT_STRSZ: strsz = val; break;
		case DT_RPATH: rpath = val; break;
		case DT_RUNPATH: runpath = val; break;
		default: break;
		}
	}
	if (!nneeded && runpath == UINT64_MAX && rpath == UINT64_MAX)
		return MOTE_ELF_OK;
	if (strtab == UINT64_MAX || !in_bounds(strtab, strsz, size))
		return MOTE_ELF_CORRUPT;
	for (unsigned i = 0; i < nneeded; i++)
		if (copy_dyn_string(p, strtab, strsz, needed[i], deps->needed[i], MOTE_ELF_NAME_MAX) < 0)
			return MOTE_ELF_CORRUPT;
	deps->nneeded = nneeded;
	uint64_t path = runpath != UINT64_MAX ? runpath : rpath;
	if (path != UINT64_MAX &&
	    copy_dyn_string(p, strtab, strsz, path, deps->runpath, sizeof(deps->runpath)) < 0)
		return MOTE_ELF_CORRUPT;
	return MOTE_ELF_OK;
}

const char *mote_elf_strerror(int result)
{
	switch (result) {
	case MOTE_ELF_OK: return "valid ELF executable";
	case MOTE_ELF_NOT_ELF: return "not an ELF file";
	case MOTE_ELF_CORRUPT: return "corrupt ELF headers";
	case MOTE_ELF_32BIT: return "32-bit ELF (only x86-64 programs run)";
	case MOTE_ELF_BAD_MACHINE: return "ELF for another machine (only x86-64 programs run)";
	case MOTE_ELF_NOT_EXEC: return "ELF is not an executable";
	case MOTE_ELF_DYNAMIC: return "dynamically linked";
	case MOTE_ELF_TRUNCATED: return "truncated ELF file";
	default: return "unknown ELF error";
	}
}

int mote_elf_symbolize(const void *data, size_t size, uint64_t addr, char *name, size_t name_size,
		       uint64_t *offset)
{
	const uint8_t *p = data;
	struct elf64_ehdr eh;
	if (size < sizeof(eh) || p[0] != 0x7f || p[1] != 'E' || p[4] != 2 || name_size == 0)
		return -1;
	read_ehdr(p, &eh);
	if (eh.shentsize != sizeof(struct elf64_shdr) || eh.shnum == 0 ||
	    !in_bounds(eh.shoff, (uint64_t)eh.shnum * sizeof(struct elf64_shdr), size))
		return -1;
	for (unsigned i = 0; i < eh.shnum; i++) {
		struct elf64_shdr sh, strsh;
		copy_bytes(&sh, p + eh.shoff + i * sizeof(sh), sizeof(sh));
		if (sh.type != SHT_SYMTAB || sh.entsize != sizeof(struct elf64_sym) || sh.link >= eh.shnum)
			continue;
		copy_bytes(&strsh, p + eh.shoff + sh.link * sizeof(strsh), sizeof(strsh));
		if (!in_bounds(sh.offset, sh.size, size) || !in_bounds(strsh.offset, strsh.size, size))
			continue;
		uint64_t best_value = 0, best_name = UINT64_MAX;
		for (uint64_t s = 0; s + sizeof(struct elf64_sym) <= sh.size; s += sizeof(struct elf64_sym)) {
			struct elf64_sym sym;
			copy_bytes(&sym, p + sh.offset + s, sizeof(sym));
			if ((sym.info & 0xf) != STT_FUNC || addr < sym.value)
				continue;
			uint64_t span = sym.size ? sym.size : 1;
			if (addr - sym.value >= span || sym.value < best_value)
				continue;
			best_value = sym.value;
			best_name = sym.name;
		}
		if (best_name == UINT64_MAX || best_name >= strsh.size)
			continue;
		size_t n = 0;
		const uint8_t *str = p + strsh.offset + best_name;
		uint64_t avail = strsh.size - best_name;
		while (n + 1 < name_size && n < avail && str[n])
			n++;
		copy_bytes(name, str, n);
		name[n] = 0;
		*offset = addr - best_value;
		return 0;
	}
	return -1;
}
