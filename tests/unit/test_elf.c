/* Unit test of lib/elf.c: real binaries cross-checked against the system's <elf.h>, crafted malformed
 * headers, every prefix of real files, and symbolization. Every input ends right before a PROT_NONE guard
 * page. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include </usr/include/elf.h> /* the system's definitions, for an independent reading; "elf.h" is ours */
#include <mote/abi.h>

#include "elf.h"

#include "check.h"

static const char *result_name(int r)
{
	static const char *const names[] = {"OK",	   "NOT_ELF",  "CORRUPT", "32BIT",
					    "BAD_MACHINE", "NOT_EXEC", "DYNAMIC", "TRUNCATED"};
	return r >= 0 && r < 8 ? names[r] : "?";
}

#define EXPECT_RESULT(name, got, want)                                                                       \
	do {                                                                                                 \
		int got_ = (got), want_ = (want);                                                            \
		check(name, got_ == want_, "result %s (%d), expected %s", result_name(got_), got_,           \
		      result_name(want_));                                                                   \
	} while (0)

/* ---- inputs that end right before an inaccessible page ---- */

struct guarded {
	uint8_t *map;
	size_t map_size;
	uint8_t *data; /* map_size - page - size bytes into the mapping */
	size_t size;
};

static struct guarded guarded_copy(const void *src, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t body = (size + page - 1) / page * page;
	struct guarded g = {.map_size = body + page, .size = size};
	g.map = mmap(NULL, g.map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g.map == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	mprotect(g.map + body, page, PROT_NONE);
	g.data = g.map + body - size;
	if (size)
		memcpy(g.data, src, size);
	return g;
}

static void guarded_free(struct guarded *g)
{
	munmap(g->map, g->map_size);
}

static int parse_guarded(const void *data, size_t size, struct mote_elf_info *info)
{
	struct guarded g = guarded_copy(data, size);
	int r = mote_elf_parse(g.data, g.size, info);
	guarded_free(&g);
	return r;
}

static int symbolize_guarded(const void *data, size_t size, uint64_t addr, char *name, size_t name_size,
			     uint64_t *off)
{
	struct guarded g = guarded_copy(data, size);
	int r = mote_elf_symbolize(g.data, g.size, addr, name, name_size, off);
	guarded_free(&g);
	return r;
}

/* ---- real files ---- */

struct file {
	uint8_t *data;
	size_t size;
};

static int read_whole(const char *path, struct file *f)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		close(fd);
		return -1;
	}
	f->size = (size_t)st.st_size;
	f->data = malloc(f->size);
	size_t got = 0;
	while (f->data && got < f->size) {
		ssize_t n = read(fd, f->data + got, f->size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!f->data || got != f->size) {
		free(f->data);
		return -1;
	}
	return 0;
}

/* What the system's headers say about a file: the reference for the parser's answer. */
struct reference {
	int is_pie;
	uint64_t entry, lo, hi, tls_memsz;
	unsigned nloads;
	uint16_t phnum;
	int has_interp;
};

static struct reference reference_of(const struct file *f)
{
	struct reference ref = {0};
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f->data;
	ref.is_pie = eh->e_type == ET_DYN;
	ref.entry = eh->e_entry;
	ref.phnum = eh->e_phnum;
	ref.lo = UINT64_MAX;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(f->data + eh->e_phoff + i * sizeof(Elf64_Phdr));
		if (ph->p_type == PT_LOAD && ph->p_memsz) {
			ref.nloads++;
			uint64_t lo = ph->p_vaddr & ~4095ull,
				 hi = (ph->p_vaddr + ph->p_memsz + 4095) & ~4095ull;
			ref.lo = lo < ref.lo ? lo : ref.lo;
			ref.hi = hi > ref.hi ? hi : ref.hi;
		}
		if (ph->p_type == PT_TLS)
			ref.tls_memsz = ph->p_memsz;
		if (ph->p_type == PT_INTERP)
			ref.has_interp = 1;
	}
	return ref;
}

/* The value of function symbol `want` from .symtab, read with the system's definitions; 0 if absent. */
static uint64_t reference_symbol(const struct file *f, const char *want)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f->data;
	if (!eh->e_shoff)
		return 0;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(f->data + eh->e_shoff);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB)
			continue;
		const Elf64_Sym *sym = (const Elf64_Sym *)(f->data + sh[i].sh_offset);
		const char *str = (const char *)(f->data + sh[sh[i].sh_link].sh_offset);
		for (size_t k = 0; k < sh[i].sh_size / sizeof(*sym); k++)
			if (strcmp(str + sym[k].st_name, want) == 0)
				return sym[k].st_value;
	}
	return 0;
}

static const char *env_or(const char *var, const char *fallback, char *buf, size_t size)
{
	const char *v = getenv(var);
	if (v && *v)
		return v;
	const char *build = getenv("BUILD");
	snprintf(buf, size, "%s/%s", build && *build ? build : "build", fallback);
	return buf;
}

/* Parse every prefix of a real file (all of the first 8 KiB, then every 997th length) at a guard page. */
static void test_prefixes(const char *label, const struct file *f)
{
	char name[128];
	struct mote_elf_info info;
	int ok = 1;
	size_t bad_len = 0;
	int bad_r = 0;
	for (size_t len = 0; len < f->size; len += len < 8192 ? 1 : 997) {
		int r = parse_guarded(f->data, len, &info);
		/* A prefix that cuts off segment data must not be accepted. */
		if (r == MOTE_ELF_OK) {
			for (unsigned i = 0; i < info.nloads; i++)
				if (info.loads[i].offset + info.loads[i].filesz > len)
					ok = 0;
			if (!ok) {
				bad_len = len;
				bad_r = r;
				break;
			}
		}
		char sym[64];
		uint64_t off;
		struct guarded g = guarded_copy(f->data, len);
		mote_elf_symbolize(g.data, g.size, info.entry, sym, sizeof(sym), &off);
		guarded_free(&g);
	}
	snprintf(name, sizeof(name), "elf-%s-every-prefix", label);
	check(name, ok, "prefix of %zu bytes returned %s with segments past its end", bad_len,
	      result_name(bad_r));
}

static void test_real_static(const char *label, const char *path, int want_symtab)
{
	char name[128];
	struct file f;
	snprintf(name, sizeof(name), "elf-%s-readable", label);
	if (read_whole(path, &f) < 0) {
		check(name, 0, "cannot read %s: %s", path, strerror(errno));
		return;
	}
	struct reference ref = reference_of(&f);
	struct mote_elf_info info;
	int r = parse_guarded(f.data, f.size, &info);
	snprintf(name, sizeof(name), "elf-%s-parses", label);
	EXPECT_RESULT(name, r, MOTE_ELF_OK);
	snprintf(name, sizeof(name), "elf-%s-matches-system-headers", label);
	check(name,
	      info.is_pie == ref.is_pie && info.entry == ref.entry && info.lo == ref.lo &&
		  info.hi == ref.hi && info.nloads == ref.nloads && info.phnum == ref.phnum &&
		  info.phentsize == sizeof(Elf64_Phdr) && info.tls_memsz == ref.tls_memsz &&
		  !info.has_abi_note && info.syscall_entry == 0,
	      "pie %d/%d entry %#llx/%#llx lo %#llx/%#llx hi %#llx/%#llx loads %u/%u phnum %u/%u tls "
	      "%llu/%llu note %d",
	      info.is_pie, ref.is_pie, (unsigned long long)info.entry, (unsigned long long)ref.entry,
	      (unsigned long long)info.lo, (unsigned long long)ref.lo, (unsigned long long)info.hi,
	      (unsigned long long)ref.hi, info.nloads, ref.nloads, info.phnum, ref.phnum,
	      (unsigned long long)info.tls_memsz, (unsigned long long)ref.tls_memsz, info.has_abi_note);
	int loads_ok = 1;
	for (unsigned i = 0; i < info.nloads; i++) {
		const struct mote_elf_load *l = &info.loads[i];
		loads_ok &= l->filesz <= l->memsz && l->offset + l->filesz <= f.size &&
			    (l->vaddr & 4095) == (l->offset & 4095);
	}
	snprintf(name, sizeof(name), "elf-%s-loads-consistent", label);
	check(name, loads_ok, "a load has filesz > memsz, data past the end or misaligned offset");
	snprintf(name, sizeof(name), "elf-%s-phdr-vaddr", label);
	check(name, info.phdr_vaddr >= info.lo && info.phdr_vaddr < info.hi,
	      "phdr_vaddr %#llx outside [lo, hi)", (unsigned long long)info.phdr_vaddr);

	char sym[128];
	uint64_t off = 0;
	if (want_symtab) {
		uint64_t main_addr = reference_symbol(&f, "main");
		snprintf(name, sizeof(name), "elf-%s-symbolize-main", label);
		r = symbolize_guarded(f.data, f.size, main_addr + 5, sym, sizeof(sym), &off);
		check(name, main_addr && r == 0 && strcmp(sym, "main") == 0 && off == 5,
		      "main at %#llx: returned %d, name '%s', offset %llu", (unsigned long long)main_addr, r,
		      r == 0 ? sym : "", (unsigned long long)off);
		char small[4];
		snprintf(name, sizeof(name), "elf-%s-symbolize-cuts-name", label);
		r = symbolize_guarded(f.data, f.size, main_addr, small, sizeof(small), &off);
		check(name, r == 0 && strcmp(small, "mai") == 0 && off == 0, "returned %d, name '%.4s'", r,
		      small);
		snprintf(name, sizeof(name), "elf-%s-symbolize-outside", label);
		check(name,
		      symbolize_guarded(f.data, f.size, 0, sym, sizeof(sym), &off) == -1 &&
			  symbolize_guarded(f.data, f.size, UINT64_MAX, sym, sizeof(sym), &off) == -1,
		      "addresses 0 and UINT64_MAX were symbolized");
	} else {
		snprintf(name, sizeof(name), "elf-%s-symbolize-stripped", label);
		r = symbolize_guarded(f.data, f.size, info.entry, sym, sizeof(sym), &off);
		check(name, r == -1, "stripped binary: returned %d (name '%s')", r, r == 0 ? sym : "");
	}
	test_prefixes(label, &f);
	free(f.data);
}

static void test_kernel(const char *path)
{
	struct file f;
	if (read_whole(path, &f) < 0) {
		check("elf-kernel-readable", 0, "cannot read %s: %s", path, strerror(errno));
		return;
	}
	struct mote_elf_info info;
	int r = parse_guarded(f.data, f.size, &info);
	EXPECT_RESULT("elf-kernel-parses", r, MOTE_ELF_OK);
	check("elf-kernel-abi-note", info.has_abi_note && info.abi_version == MOTE_ABI_VERSION,
	      "has_abi_note %d, version %u (expected %u)", info.has_abi_note, info.abi_version,
	      MOTE_ABI_VERSION);
	uint64_t entry_sym = reference_symbol(&f, "syscall_entry");
	check("elf-kernel-syscall-entry-note", info.syscall_entry && info.syscall_entry == entry_sym,
	      "note says %#llx, symbol syscall_entry is at %#llx", (unsigned long long)info.syscall_entry,
	      (unsigned long long)entry_sym);
	check("elf-kernel-syscall-entry-inside",
	      info.syscall_entry >= info.lo && info.syscall_entry < info.hi,
	      "syscall entry %#llx outside [%#llx, %#llx)", (unsigned long long)info.syscall_entry,
	      (unsigned long long)info.lo, (unsigned long long)info.hi);
	check("elf-kernel-layout", info.lo >= 0x100000 && info.hi <= 0x400000 && !info.is_pie,
	      "kernel spans [%#llx, %#llx), pie %d; mote-vmm needs ET_EXEC inside [1 MiB, 4 MiB)",
	      (unsigned long long)info.lo, (unsigned long long)info.hi, info.is_pie);
	char sym[128];
	uint64_t off;
	r = symbolize_guarded(f.data, f.size, info.entry, sym, sizeof(sym), &off);
	check("elf-kernel-symbolize-entry", r == 0 && sym[0],
	      "kernel entry %#llx not symbolized (returned %d): is _start a STT_FUNC (.type @function) with "
	      "a size?",
	      (unsigned long long)info.entry, r);
	test_prefixes("kernel", &f);
	free(f.data);
}

static void test_dynamic(const char *path)
{
	struct file f;
	if (read_whole(path, &f) < 0) {
		check("elf-dynamic-readable", 0, "cannot read %s: %s", path, strerror(errno));
		return;
	}
	struct mote_elf_info info;
	int r = parse_guarded(f.data, f.size, &info);
	EXPECT_RESULT("elf-dynamic-bin-ls", r, MOTE_ELF_DYNAMIC);
	check("elf-dynamic-interp", strstr(info.interp, "ld-linux") != NULL && info.interp[0] == '/',
	      "interp '%s'", info.interp);
	/* Checked as fully as a static program: a loader can start it with its interpreter. */
	check("elf-dynamic-checked", info.nloads > 0 && info.entry >= info.lo && info.entry < info.hi,
	      "%u loads, entry %#llx in [%#llx, %#llx)", info.nloads, (unsigned long long)info.entry,
	      (unsigned long long)info.lo, (unsigned long long)info.hi);
	struct mote_elf_deps deps;
	r = mote_elf_deps(f.data, f.size, &deps);
	int has_libc = 0;
	for (unsigned i = 0; i < deps.nneeded; i++)
		has_libc |= strcmp(deps.needed[i], "libc.so.6") == 0;
	check("elf-deps-bin-ls", r == MOTE_ELF_OK && has_libc,
	      "result %d, %u needed, libc.so.6 among them: %d", r, deps.nneeded, has_libc);
	free(f.data);
	/* A static program needs nothing; bytes that are no ELF fail as mote_elf_parse does. */
	if (read_whole("/bin/busybox", &f) == 0) {
		r = mote_elf_deps(f.data, f.size, &deps);
		check("elf-deps-static-none", r == MOTE_ELF_OK && deps.nneeded == 0 && !deps.runpath[0],
		      "result %d, %u needed", r, deps.nneeded);
		free(f.data);
	}
	static const uint8_t junk[64] = "not an elf";
	check("elf-deps-not-elf", mote_elf_deps(junk, sizeof(junk), &deps) == MOTE_ELF_NOT_ELF,
	      "junk accepted");
}

/* ---- crafted headers ---- */

/* A minimal valid ET_EXEC: header, N program headers, then code at offset 0x1000 (vaddr 0x401000). */
struct crafted {
	uint8_t bytes[0x2000];
	size_t size;
};

static Elf64_Ehdr *ehdr_of(struct crafted *c)
{
	return (Elf64_Ehdr *)c->bytes;
}

static Elf64_Phdr *phdr_of(struct crafted *c, unsigned i)
{
	return (Elf64_Phdr *)(c->bytes + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr));
}

static void craft(struct crafted *c, unsigned nph)
{
	memset(c, 0, sizeof(*c));
	c->size = 0x1100;
	Elf64_Ehdr *eh = ehdr_of(c);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = 0x401010;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = (uint16_t)nph;
	/* phdr 0: the headers, read-only; phdr 1: code. Others are left for the test to fill. */
	Elf64_Phdr *p0 = phdr_of(c, 0);
	p0->p_type = PT_LOAD;
	p0->p_flags = PF_R;
	p0->p_offset = 0;
	p0->p_vaddr = p0->p_paddr = 0x400000;
	p0->p_filesz = p0->p_memsz = 0x200;
	p0->p_align = 0x1000;
	if (nph > 1) {
		Elf64_Phdr *p1 = phdr_of(c, 1);
		p1->p_type = PT_LOAD;
		p1->p_flags = PF_R | PF_X;
		p1->p_offset = 0x1000;
		p1->p_vaddr = p1->p_paddr = 0x401000;
		p1->p_filesz = 0x100;
		p1->p_memsz = 0x3000; /* bss */
		p1->p_align = 0x1000;
	}
	c->bytes[0x1010] = 0xf4; /* hlt */
}

static int parse_crafted(struct crafted *c, struct mote_elf_info *info)
{
	return parse_guarded(c->bytes, c->size, info);
}

static void test_crafted(void)
{
	struct crafted c;
	struct mote_elf_info info;

	craft(&c, 2);
	int r = parse_crafted(&c, &info);
	EXPECT_RESULT("crafted-valid", r, MOTE_ELF_OK);
	check("crafted-valid-fields",
	      r == 0 && info.nloads == 2 && info.lo == 0x400000 && info.hi == 0x404000 &&
		  info.entry == 0x401010 && info.phdr_vaddr == 0x400040 &&
		  info.loads[1].flags == (MOTE_ELF_PF_R | MOTE_ELF_PF_X) && info.loads[1].memsz == 0x3000 &&
		  !info.is_pie,
	      "nloads %u lo %#llx hi %#llx entry %#llx phdr %#llx", info.nloads, (unsigned long long)info.lo,
	      (unsigned long long)info.hi, (unsigned long long)info.entry,
	      (unsigned long long)info.phdr_vaddr);

	craft(&c, 2);
	ehdr_of(&c)->e_type = ET_DYN;
	r = parse_crafted(&c, &info);
	check("crafted-static-pie", r == MOTE_ELF_OK && info.is_pie, "result %s, is_pie %d", result_name(r),
	      info.is_pie);

	/* identification */
	craft(&c, 2);
	EXPECT_RESULT("crafted-empty", parse_guarded(c.bytes, 0, &info), MOTE_ELF_NOT_ELF);
	EXPECT_RESULT("crafted-15-bytes", parse_guarded(c.bytes, 15, &info), MOTE_ELF_NOT_ELF);
	EXPECT_RESULT("crafted-16-bytes", parse_guarded(c.bytes, 16, &info), MOTE_ELF_TRUNCATED);
	EXPECT_RESULT("crafted-63-bytes", parse_guarded(c.bytes, 63, &info), MOTE_ELF_TRUNCATED);
	EXPECT_RESULT("crafted-header-only", parse_guarded(c.bytes, 64, &info), MOTE_ELF_TRUNCATED);
	EXPECT_RESULT("crafted-phdrs-cut", parse_guarded(c.bytes, 64 + 56 + 10, &info), MOTE_ELF_TRUNCATED);
	EXPECT_RESULT("crafted-segment-cut", parse_guarded(c.bytes, 0x1080, &info), MOTE_ELF_TRUNCATED);
	c.bytes[1] = 'X';
	EXPECT_RESULT("crafted-bad-magic", parse_crafted(&c, &info), MOTE_ELF_NOT_ELF);
	craft(&c, 2);
	c.bytes[EI_CLASS] = ELFCLASS32;
	EXPECT_RESULT("crafted-32bit", parse_crafted(&c, &info), MOTE_ELF_32BIT);
	EXPECT_RESULT("crafted-32bit-short", parse_guarded(c.bytes, 20, &info), MOTE_ELF_32BIT);
	c.bytes[EI_CLASS] = 3;
	EXPECT_RESULT("crafted-bad-class", parse_crafted(&c, &info), MOTE_ELF_CORRUPT);
	craft(&c, 2);
	c.bytes[EI_DATA] = ELFDATA2MSB;
	EXPECT_RESULT("crafted-big-endian", parse_crafted(&c, &info), MOTE_ELF_BAD_MACHINE);
	craft(&c, 2);
	ehdr_of(&c)->e_machine = EM_AARCH64;
	EXPECT_RESULT("crafted-aarch64", parse_crafted(&c, &info), MOTE_ELF_BAD_MACHINE);
	ehdr_of(&c)->e_machine = EM_386;
	EXPECT_RESULT("crafted-i386-machine", parse_crafted(&c, &info), MOTE_ELF_BAD_MACHINE);
	craft(&c, 2);
	ehdr_of(&c)->e_type = ET_REL;
	EXPECT_RESULT("crafted-relocatable", parse_crafted(&c, &info), MOTE_ELF_NOT_EXEC);
	ehdr_of(&c)->e_type = ET_CORE;
	EXPECT_RESULT("crafted-core", parse_crafted(&c, &info), MOTE_ELF_NOT_EXEC);

	/* program header table */
	craft(&c, 2);
	ehdr_of(&c)->e_phentsize = 32;
	EXPECT_RESULT("crafted-bad-phentsize", parse_crafted(&c, &info), MOTE_ELF_CORRUPT);
	ehdr_of(&c)->e_phentsize = 0;
	EXPECT_RESULT("crafted-zero-phentsize", parse_crafted(&c, &info), MOTE_ELF_CORRUPT);
	craft(&c, 2);
	ehdr_of(&c)->e_phnum = 0;
	EXPECT_RESULT("crafted-no-phdrs", parse_crafted(&c, &info), MOTE_ELF_CORRUPT);
	ehdr_of(&c)->e_phnum = 0xffff;
	r = parse_crafted(&c, &info);
	check("crafted-phnum-65535", r == MOTE_ELF_CORRUPT || r == MOTE_ELF_TRUNCATED, "result %s",
	      result_name(r));
	craft(&c, 2);
	ehdr_of(&c)->e_phoff = c.size;
	EXPECT_RESULT("crafted-phoff-at-eof", parse_crafted(&c, &info), MOTE_ELF_TRUNCATED);
	ehdr_of(&c)->e_phoff = UINT64_MAX - 8;
	EXPECT_RESULT("crafted-phoff-overflow", parse_crafted(&c, &info), MOTE_ELF_TRUNCATED);
	ehdr_of(&c)->e_phoff = c.size - 56 - 1; /* table ends one byte past EOF */
	EXPECT_RESULT("crafted-phdrs-one-past-eof", parse_crafted(&c, &info), MOTE_ELF_TRUNCATED);

	/* segments */
	craft(&c, 2);
	phdr_of(&c, 1)->p_offset = 0x1000;
	phdr_of(&c, 1)->p_filesz = 0x101; /* one byte past EOF */
	EXPECT_RESULT("crafted-segment-past-eof", parse_crafted(&c, &info), MOTE_ELF_TRUNCATED);
	craft(&c, 2);
	phdr_of(&c, 1)->p_offset = UINT64_MAX - 0xfff; /* offset + filesz wraps */
	phdr_of(&c, 1)->p_vaddr = 0x401000;
	r = parse_crafted(&c, &info);
	check("crafted-segment-offset-overflow", r == MOTE_ELF_TRUNCATED || r == MOTE_ELF_CORRUPT,
	      "result %s", result_name(r));
	craft(&c, 2);
	phdr_of(&c, 1)->p_filesz = 0x4000;
	phdr_of(&c, 1)->p_memsz = 0x100;
	r = parse_crafted(&c, &info);
	check("crafted-filesz-above-memsz", r == MOTE_ELF_CORRUPT || r == MOTE_ELF_TRUNCATED, "result %s",
	      result_name(r));
	craft(&c, 2);
	phdr_of(&c, 1)->p_filesz = 0x100;
	phdr_of(&c, 1)->p_memsz = 0x80;
	EXPECT_RESULT("crafted-filesz-above-memsz-in-file", parse_crafted(&c, &info), MOTE_ELF_CORRUPT);
	craft(&c, 2);
	phdr_of(&c, 1)->p_vaddr = 1ull << 47;
	ehdr_of(&c)->e_entry = (1ull << 47) + 0x10;
	EXPECT_RESULT("crafted-vaddr-above-user-space", parse_crafted(&c, &info), MOTE_ELF_CORRUPT);
	craft(&c, 2);
	phdr_of(&c, 1)->p_vaddr = (1ull << 47) - 0x1000;
	phdr_of(&c, 1)->p_memsz = 0x2000;
	EXPECT_RESULT("crafted-segment-crossing-user-limit", parse_crafted(&c, &info), MOTE_ELF_CORRUPT);
	craft(&c, 2);
	phdr_of(&c, 1)->p_vaddr = UINT64_MAX - 0xfff;
	phdr_of(&c, 1)->p_memsz = 0x2000;
	EXPECT_RESULT("crafted-vaddr-overflow", parse_crafted(&c, &info), MOTE_ELF_CORRUPT);
	craft(&c, 2);
	phdr_of(&c, 1)->p_vaddr = 0x401800; /* offset 0x1000: page offsets differ */
	ehdr_of(&c)->e_entry = 0x401810;
	EXPECT_RESULT("crafted-misaligned-segment", parse_crafted(&c, &info), MOTE_ELF_CORRUPT);
	craft(&c, 2);
	phdr_of(&c, 1)->p_vaddr = 0x400000 + 0x1000 - 0x1000; /* onto the first segment */
	phdr_of(&c, 1)->p_vaddr = 0x400000;
	phdr_of(&c, 1)->p_offset = 0x1000;
	ehdr_of(&c)->e_entry = 0x400010;
	EXPECT_RESULT("crafted-overlapping-segments", parse_crafted(&c, &info), MOTE_ELF_CORRUPT);
	craft(&c, 2);
	phdr_of(&c, 0)->p_memsz = 0x1001; /* reaches one byte into the second segment's page... */
	phdr_of(&c, 0)->p_filesz = 0x200;
	phdr_of(&c, 1)->p_vaddr = 0x401000;
	EXPECT_RESULT("crafted-segments-overlap-by-one-byte", parse_crafted(&c, &info), MOTE_ELF_CORRUPT);
	craft(&c, 2);
	ehdr_of(&c)->e_entry = 0x500000;
	EXPECT_RESULT("crafted-entry-outside-segments", parse_crafted(&c, &info), MOTE_ELF_CORRUPT);
	ehdr_of(&c)->e_entry = 0;
	EXPECT_RESULT("crafted-entry-zero", parse_crafted(&c, &info), MOTE_ELF_CORRUPT);
	ehdr_of(&c)->e_entry = 0x404000; /* first byte past hi */
	EXPECT_RESULT("crafted-entry-at-hi", parse_crafted(&c, &info), MOTE_ELF_CORRUPT);

	craft(&c, 2);
	phdr_of(&c, 0)->p_type = PT_NOTE;
	phdr_of(&c, 0)->p_filesz = 0;
	phdr_of(&c, 1)->p_type = PT_NULL;
	EXPECT_RESULT("crafted-no-load-segment", parse_crafted(&c, &info), MOTE_ELF_NOT_EXEC);
	craft(&c, 2);
	phdr_of(&c, 1)->p_memsz = 0;
	phdr_of(&c, 1)->p_filesz = 0;
	ehdr_of(&c)->e_entry = 0x400010;
	r = parse_crafted(&c, &info);
	check("crafted-empty-load-ignored", r == MOTE_ELF_OK && info.nloads == 1, "result %s, nloads %u",
	      result_name(r), info.nloads);

	/* 16 loads are accepted, 17 are not */
	struct crafted many;
	for (unsigned n = 16; n <= 17; n++) {
		craft(&many, n);
		for (unsigned i = 1; i < n; i++) {
			Elf64_Phdr *p = phdr_of(&many, i);
			p->p_type = PT_LOAD;
			p->p_flags = PF_R;
			p->p_offset = 0x1000;
			p->p_vaddr = 0x401000 + (uint64_t)(i - 1) * 0x10000;
			p->p_filesz = 0x100;
			p->p_memsz = 0x1000;
		}
		r = parse_crafted(&many, &info);
		if (n == 16)
			check("crafted-16-loads", r == MOTE_ELF_OK && info.nloads == 16,
			      "result %s, nloads %u", result_name(r), info.nloads);
		else
			EXPECT_RESULT("crafted-17-loads", r, MOTE_ELF_CORRUPT);
	}

	/* PT_INTERP */
	craft(&c, 3);
	Elf64_Phdr *pi = phdr_of(&c, 2);
	pi->p_type = PT_INTERP;
	pi->p_offset = 0x800;
	strcpy((char *)c.bytes + 0x800, "/lib/ld-musl-x86_64.so.1");
	pi->p_filesz = strlen("/lib/ld-musl-x86_64.so.1") + 1;
	r = parse_crafted(&c, &info);
	check("crafted-interp", r == MOTE_ELF_DYNAMIC && strcmp(info.interp, "/lib/ld-musl-x86_64.so.1") == 0,
	      "result %s, interp '%s'", result_name(r), info.interp);
	memset(c.bytes + 0x800, 'a', 300);
	pi->p_filesz = 300; /* no NUL, longer than interp[] */
	r = parse_crafted(&c, &info);
	check("crafted-interp-long", r == MOTE_ELF_DYNAMIC && strlen(info.interp) == sizeof(info.interp) - 1,
	      "result %s, interp length %zu", result_name(r), strlen(info.interp));
	pi->p_offset = c.size - 10;
	pi->p_filesz = 11;
	EXPECT_RESULT("crafted-interp-past-eof", parse_crafted(&c, &info), MOTE_ELF_TRUNCATED);
	pi->p_offset = UINT64_MAX;
	pi->p_filesz = 2;
	EXPECT_RESULT("crafted-interp-offset-overflow", parse_crafted(&c, &info), MOTE_ELF_TRUNCATED);

	/* PT_NOTE: the MOTE notes, and malformed notes */
	craft(&c, 3);
	Elf64_Phdr *pn = phdr_of(&c, 2);
	pn->p_type = PT_NOTE;
	pn->p_offset = 0x900;
	uint32_t note[] = {5, 4, MOTE_NOTE_ABI, 0, 0, MOTE_ABI_VERSION, 5, 8, MOTE_NOTE_SYSCALL_ENTRY,
			   0, 0, 0x401010,	0};
	memcpy(note + 3, "MOTE", 5);
	memcpy(note + 9, "MOTE", 5);
	memcpy(c.bytes + 0x900, note, sizeof(note));
	pn->p_filesz = sizeof(note);
	r = parse_crafted(&c, &info);
	check("crafted-mote-notes",
	      r == MOTE_ELF_OK && info.has_abi_note && info.abi_version == MOTE_ABI_VERSION &&
		  info.syscall_entry == 0x401010,
	      "result %s, note %d, version %u, entry %#llx", result_name(r), info.has_abi_note,
	      info.abi_version, (unsigned long long)info.syscall_entry);
	uint32_t other[] = {4, 4, MOTE_NOTE_ABI, 0, 1};
	memcpy(other + 3, "GNU", 4);
	memcpy(c.bytes + 0x900, other, sizeof(other));
	pn->p_filesz = sizeof(other);
	r = parse_crafted(&c, &info);
	check("crafted-foreign-note-ignored", r == MOTE_ELF_OK && !info.has_abi_note, "result %s, note %d",
	      result_name(r), info.has_abi_note);
	uint32_t huge[] = {0xfffffff0u, 4, MOTE_NOTE_ABI, 0, 1};
	memcpy(c.bytes + 0x900, huge, sizeof(huge));
	pn->p_filesz = sizeof(huge);
	EXPECT_RESULT("crafted-note-huge-namesz", parse_crafted(&c, &info), MOTE_ELF_CORRUPT);
	uint32_t huge_desc[] = {5, 0xfffffffcu, MOTE_NOTE_ABI, 0, 0};
	memcpy(c.bytes + 0x900, huge_desc, sizeof(huge_desc));
	EXPECT_RESULT("crafted-note-huge-descsz", parse_crafted(&c, &info), MOTE_ELF_CORRUPT);
	pn->p_offset = c.size - 8;
	pn->p_filesz = 20;
	EXPECT_RESULT("crafted-note-past-eof", parse_crafted(&c, &info), MOTE_ELF_TRUNCATED);
	pn->p_offset = c.size - 12; /* a 12-byte note header as the file's last bytes, its name past EOF */
	pn->p_filesz = 12;
	uint32_t tail[] = {5, 4, MOTE_NOTE_ABI};
	memcpy(c.bytes + c.size - 12, tail, sizeof(tail));
	r = parse_crafted(&c, &info);
	check("crafted-note-name-past-segment", r == MOTE_ELF_CORRUPT, "result %s", result_name(r));

	/* PT_TLS */
	craft(&c, 3);
	phdr_of(&c, 2)->p_type = PT_TLS;
	phdr_of(&c, 2)->p_memsz = 0x88;
	r = parse_crafted(&c, &info);
	check("crafted-tls", r == MOTE_ELF_OK && info.tls_memsz == 0x88, "result %s, tls %llu",
	      result_name(r), (unsigned long long)info.tls_memsz);

	/* Every truncation of the crafted file: never OK, never a crash. */
	craft(&c, 3);
	phdr_of(&c, 2)->p_type = PT_NOTE;
	phdr_of(&c, 2)->p_offset = 0x900;
	memcpy(c.bytes + 0x900, note, sizeof(note));
	phdr_of(&c, 2)->p_filesz = sizeof(note);
	int never_ok = 1;
	for (size_t len = 0; len < c.size; len++)
		never_ok &= parse_guarded(c.bytes, len, &info) != MOTE_ELF_OK;
	check("crafted-every-truncation-refused", never_ok, "a truncated copy parsed as OK");
}

/* Section headers and a symbol table, crafted: symbolize must stay inside the buffer. */
static void test_crafted_symbols(void)
{
	struct crafted c;
	craft(&c, 2);
	/* layout: strtab at 0x1040 (at the very end, no final NUL), symtab at 0x1080, section headers at
	 * 0x1100 */
	c.size = 0x1100 + 3 * sizeof(Elf64_Shdr);
	Elf64_Ehdr *eh = ehdr_of(&c);
	eh->e_shoff = 0x1100;
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = 3;
	Elf64_Shdr *sh = (Elf64_Shdr *)(c.bytes + 0x1100);
	sh[1].sh_type = SHT_SYMTAB;
	sh[1].sh_offset = 0x1080;
	sh[1].sh_size = 2 * sizeof(Elf64_Sym);
	sh[1].sh_entsize = sizeof(Elf64_Sym);
	sh[1].sh_link = 2;
	sh[2].sh_type = SHT_STRTAB;
	sh[2].sh_offset = 0x1040;
	sh[2].sh_size = 16;
	memcpy(c.bytes + 0x1040, "\0main\0", 6);
	memcpy(c.bytes + 0x1046, "abcdefghij", 10); /* the second name runs to the end of the strtab */
	Elf64_Sym *sym = (Elf64_Sym *)(c.bytes + 0x1080);
	sym[0].st_name = 1;
	sym[0].st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
	sym[0].st_value = 0x401010;
	sym[0].st_size = 0x20;
	sym[1].st_name = 6;
	sym[1].st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
	sym[1].st_value = 0x401100;
	sym[1].st_size = 0x10;

	char name[64];
	uint64_t off = 0;
	int r = symbolize_guarded(c.bytes, c.size, 0x401014, name, sizeof(name), &off);
	check("symbols-crafted-main", r == 0 && strcmp(name, "main") == 0 && off == 4,
	      "returned %d name '%s' off %llu", r, r == 0 ? name : "", (unsigned long long)off);
	r = symbolize_guarded(c.bytes, c.size, 0x401030, name, sizeof(name), &off);
	check("symbols-crafted-past-size", r == -1, "address past main's size symbolized (returned %d)", r);
	r = symbolize_guarded(c.bytes, c.size, 0x401105, name, sizeof(name), &off);
	check("symbols-crafted-unterminated-name", r == 0 && strcmp(name, "abcdefghij") == 0,
	      "returned %d name '%s'", r, r == 0 ? name : "");

	/* Move the strtab so it is the last bytes before the guard page and unterminated. */
	struct crafted d = c;
	memcpy(d.bytes + d.size, "xyz", 3);
	sh = (Elf64_Shdr *)(d.bytes + 0x1100);
	sym = (Elf64_Sym *)(d.bytes + 0x1080);
	sh[2].sh_offset = d.size;
	sh[2].sh_size = 3;
	sym[0].st_name = 0;
	d.size += 3;
	r = symbolize_guarded(d.bytes, d.size, 0x401014, name, sizeof(name), &off);
	check("symbols-strtab-at-end-of-file", r == 0 && strcmp(name, "xyz") == 0, "returned %d name '%s'", r,
	      r == 0 ? name : "");

	struct crafted e = c;
	sh = (Elf64_Shdr *)(e.bytes + 0x1100);
	sh[1].sh_link = 7;
	check("symbols-bad-link",
	      symbolize_guarded(e.bytes, e.size, 0x401014, name, sizeof(name), &off) == -1,
	      "symtab with sh_link out of range accepted");
	e = c;
	sh = (Elf64_Shdr *)(e.bytes + 0x1100);
	sh[2].sh_offset = UINT64_MAX - 4;
	check("symbols-strtab-offset-overflow",
	      symbolize_guarded(e.bytes, e.size, 0x401014, name, sizeof(name), &off) == -1, "accepted");
	e = c;
	sh = (Elf64_Shdr *)(e.bytes + 0x1100);
	sh[1].sh_size = UINT64_MAX - 0x1000;
	check("symbols-symtab-size-overflow",
	      symbolize_guarded(e.bytes, e.size, 0x401014, name, sizeof(name), &off) == -1, "accepted");
	e = c;
	sym = (Elf64_Sym *)(e.bytes + 0x1080);
	sym[0].st_name = 0xffffff00u;
	check("symbols-name-offset-past-strtab",
	      symbolize_guarded(e.bytes, e.size, 0x401014, name, sizeof(name), &off) == -1, "accepted");
	e = c;
	ehdr_of(&e)->e_shoff = UINT64_MAX - 0x40;
	check("symbols-shoff-overflow",
	      symbolize_guarded(e.bytes, e.size, 0x401014, name, sizeof(name), &off) == -1, "accepted");
	e = c;
	ehdr_of(&e)->e_shentsize = 32;
	check("symbols-bad-shentsize",
	      symbolize_guarded(e.bytes, e.size, 0x401014, name, sizeof(name), &off) == -1, "accepted");
	check("symbols-zero-name-size", mote_elf_symbolize(c.bytes, c.size, 0x401014, name, 0, &off) == -1,
	      "name_size 0 accepted");
	int never = 1;
	for (size_t len = 0; len < c.size; len++)
		if (symbolize_guarded(c.bytes, len, 0x401014, name, sizeof(name), &off) == 0)
			never = 0;
	check("symbols-every-truncation-refused", never, "a truncated copy was symbolized");
}

static void test_strerror(void)
{
	int distinct = 1;
	for (int a = MOTE_ELF_OK; a <= MOTE_ELF_TRUNCATED; a++) {
		const char *sa = mote_elf_strerror(a);
		if (!sa || !*sa)
			distinct = 0;
		for (int b = a + 1; sa && b <= MOTE_ELF_TRUNCATED; b++)
			if (strcmp(sa, mote_elf_strerror(b)) == 0)
				distinct = 0;
	}
	check("strerror-distinct", distinct, "a result has an empty or shared message");
	check("strerror-unknown",
	      mote_elf_strerror(-1) && mote_elf_strerror(1000) && *mote_elf_strerror(1000),
	      "unknown results have no message");
}

int main(void)
{
	char buf1[4096], buf2[4096], buf3[4096];
	const char *testbin = env_or("TESTBIN", "tests/guest", buf1, sizeof(buf1));
	const char *kernel = env_or("MOTE_KERNEL", "mote-kernel", buf2, sizeof(buf2));

	test_crafted();
	test_crafted_symbols();
	test_strerror();

	test_real_static("busybox", "/bin/busybox", 0);
	snprintf(buf3, sizeof(buf3), "%s/args.musl", testbin);
	test_real_static("musl-args", buf3, 1);
	snprintf(buf3, sizeof(buf3), "%s/args.glibc", testbin);
	test_real_static("glibc-args", buf3, 1);
	test_kernel(kernel);
	test_dynamic("/bin/ls");
	return failures ? 1 : 0;
}
