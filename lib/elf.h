/* Bounds-checked parsing of x86-64 ELF executables; freestanding, shared by host and guest. */
#ifndef MOTE_ELF_H
#define MOTE_ELF_H

#include <stddef.h>
#include <stdint.h>

/* Results of mote_elf_parse(); 0 is success. */
enum mote_elf_result {
	MOTE_ELF_OK = 0,
	MOTE_ELF_NOT_ELF,     /* no ELF magic, or the file is shorter than a header */
	MOTE_ELF_CORRUPT,     /* headers malformed (bad sizes, overlapping or absurd segments) */
	MOTE_ELF_32BIT,	      /* ELFCLASS32 */
	MOTE_ELF_BAD_MACHINE, /* not EM_X86_64 or not little-endian */
	MOTE_ELF_NOT_EXEC,    /* not ET_EXEC / ET_DYN, or no PT_LOAD */
	MOTE_ELF_DYNAMIC,   /* has PT_INTERP: `interp` names it; otherwise checked (and *info filled) as OK */
	MOTE_ELF_TRUNCATED, /* a segment or header table lies past the end of the file */
};

#define MOTE_ELF_PF_X 1u
#define MOTE_ELF_PF_W 2u
#define MOTE_ELF_PF_R 4u

struct mote_elf_load {
	uint64_t vaddr;	 /* unbiased virtual address */
	uint64_t memsz;	 /* >= filesz */
	uint64_t offset; /* in the file; offset + filesz <= file size */
	uint64_t filesz;
	uint32_t flags; /* MOTE_ELF_PF_* */
};

#define MOTE_ELF_MAX_LOADS 16

struct mote_elf_info {
	int is_pie;	     /* ET_DYN (static-pie): may be loaded at any page-aligned bias */
	uint64_t entry;	     /* unbiased */
	uint64_t lo, hi;     /* page-aligned span of all PT_LOAD segments, unbiased */
	uint64_t phdr_vaddr; /* unbiased address of the program headers, 0 if not loaded */
	uint16_t phnum, phentsize;
	unsigned nloads;
	struct mote_elf_load loads[MOTE_ELF_MAX_LOADS];
	char interp[128]; /* PT_INTERP contents (NUL-terminated, maybe cut) when DYNAMIC */
	int has_abi_note; /* a MOTE ABI note was found */
	uint32_t abi_version;
	uint64_t syscall_entry; /* from a MOTE syscall-entry note (guest kernels only), else 0 */
	uint64_t tls_memsz;	/* PT_TLS size, 0 if none */
};

/*
 * Parse the ELF image `data` of `size` bytes into *info. Never reads outside
 * [data, data + size) and never allocates. Returns enum mote_elf_result.
 */
int mote_elf_parse(const void *data, size_t size, struct mote_elf_info *info);

/* One-line English description of a result, e.g. "not an ELF file". */
const char *mote_elf_strerror(int result);

/* What a dynamic ELF file needs from the loader (its PT_DYNAMIC section). */
#define MOTE_ELF_MAX_NEEDED 64
#define MOTE_ELF_NAME_MAX 128
struct mote_elf_deps {
	unsigned nneeded;
	char needed[MOTE_ELF_MAX_NEEDED][MOTE_ELF_NAME_MAX]; /* DT_NEEDED names, in order */
	char runpath[256]; /* DT_RUNPATH, else DT_RPATH ("" if none); may hold $ORIGIN */
};

/*
 * Read the DT_NEEDED entries and the run path of the ELF image `data` (a
 * program or a shared object; one mote_elf_parse accepts, OK or DYNAMIC).
 * A file with no PT_DYNAMIC needs nothing. Never reads outside the buffer.
 * Returns MOTE_ELF_OK, a mote_elf_parse error, or MOTE_ELF_CORRUPT for a
 * dynamic section or string table out of bounds, a name too long, or more
 * than MOTE_ELF_MAX_NEEDED entries.
 */
int mote_elf_deps(const void *data, size_t size, struct mote_elf_deps *deps);

/*
 * Find the function symbol (from .symtab) containing unbiased address
 * `addr`. On success stores its name (NUL-terminated, cut to `name_size`) and
 * the offset of addr into it, and returns 0; returns -1 if there is no symbol
 * table or no symbol covers the address. Bounds-checked like mote_elf_parse.
 */
int mote_elf_symbolize(const void *data, size_t size, uint64_t addr, char *name, size_t name_size,
		       uint64_t *offset);

#endif /* MOTE_ELF_H */
