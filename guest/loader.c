/* Loading the program: static ELF (ET_EXEC or static-pie) and its initial stack. */
#include "loader.h"

#include "clock.h"
#include "elf.h"
#include "hypercall.h"
#include "klib.h"
#include "linux.h"
#include "mm.h"
#include "random.h"
#include "vfs.h"

#define AT_NULL 0
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_BASE 7
#define AT_FLAGS 8
#define AT_ENTRY 9
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_PLATFORM 15
#define AT_HWCAP 16
#define AT_CLKTCK 17
#define AT_SECURE 23
#define AT_RANDOM 25
#define AT_HWCAP2 26
#define AT_EXECFN 31
#define AT_SYSINFO_EHDR 33

#define HWCAP2_FSGSBASE 2

static char load_msg[320];

static void __attribute__((noreturn)) load_fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(load_msg, sizeof(load_msg), fmt, ap);
	va_end(ap);
	hypercall_exit(MOTE_EXIT_LOAD_ERROR, code, load_msg, 0, 0);
}

static int elf_load_code(int r)
{
	switch (r) {
	case MOTE_ELF_NOT_ELF:
	case MOTE_ELF_CORRUPT: return MOTE_LOAD_NOT_ELF;
	case MOTE_ELF_TRUNCATED: return MOTE_LOAD_TRUNCATED;
	case MOTE_ELF_DYNAMIC: return MOTE_LOAD_DYNAMIC;
	default: return MOTE_LOAD_UNSUPPORTED;
	}
}

/* Push `len` bytes onto the downward-growing stack at *sp. */
static uint64_t push_bytes(uint64_t *sp, const void *data, uint64_t len)
{
	*sp -= len;
	memcpy((void *)(uintptr_t)*sp, data, len);
	return *sp;
}

uint64_t loader_load_program(struct mote_boot_info *bi, uint64_t *sp_out)
{
	const char *path = (const char *)(uintptr_t)bi->exec_path;
	const void *image;
	uint64_t size;
	int r = vfs_map_file(path, &image, &size);
	if (r < 0)
		load_fail(r == -ENOENT ? MOTE_LOAD_NOT_FOUND : MOTE_LOAD_UNSUPPORTED, "program %s: %s", path,
			  r == -ENOENT	 ? "no such file in the rootfs"
			  : r == -EISDIR ? "is a directory"
					 : "cannot be opened");
	static struct mote_elf_info elf;
	r = mote_elf_parse(image, size, &elf);
	if (r == MOTE_ELF_DYNAMIC)
		load_fail(MOTE_LOAD_DYNAMIC,
			  "program %s: dynamically linked (PT_INTERP %s); mote runs static programs only",
			  path, elf.interp);
	if (r != MOTE_ELF_OK)
		load_fail(elf_load_code(r), "program %s: %s", path, mote_elf_strerror(r));

	uint64_t span = elf.hi - elf.lo, bias = 0;
	if (elf.is_pie) {
		void *at = mm_alloc_user(span, 0);
		if (!at)
			load_fail(MOTE_LOAD_NO_MEMORY,
				  "program %s: needs %lu KiB, more than guest memory has free (raise --mem)",
				  path, span >> 10);
		bias = (uint64_t)(uintptr_t)at - elf.lo;
	} else if (mm_claim_user(elf.lo, span) < 0) {
		load_fail(MOTE_LOAD_NO_MEMORY,
			  "program %s: its segments [%#lx, %#lx) do not fit in guest memory (raise --mem)",
			  path, elf.lo, elf.hi);
	}
	for (unsigned i = 0; i < elf.nloads; i++) {
		const struct mote_elf_load *ld = &elf.loads[i];
		memcpy((void *)(uintptr_t)(ld->vaddr + bias), (const uint8_t *)image + ld->offset,
		       ld->filesz);
	}
	mm_set_brk_base(elf.hi + bias);
	bi->prog_start = elf.lo + bias;
	bi->prog_end = elf.hi + bias;
	bi->prog_bias = bias;
	bi->prog_image = (uint64_t)(uintptr_t)image;
	bi->prog_image_size = size;

	/* The initial stack, at the top of the stack region. */
	uint64_t stack_top = 0, stack_lo = 0;
	for (uint32_t i = 0; i < bi->nregions; i++)
		if (bi->regions[i].type == MOTE_MEM_STACK) {
			stack_lo = bi->regions[i].gpa;
			stack_top = stack_lo + bi->regions[i].size;
		}
	if (!stack_top)
		kpanic("boot info has no stack region");
	uint64_t sp = stack_top;
	const uint64_t *argv = (const uint64_t *)(uintptr_t)bi->argv;
	const uint64_t *envp = (const uint64_t *)(uintptr_t)bi->envp;
	uint32_t argc = bi->argc, envc = bi->envc;
	uint64_t strings_size = strlen(path) + 1 + 16;
	for (uint32_t i = 0; i < argc; i++)
		strings_size += strlen((const char *)(uintptr_t)argv[i]) + 1;
	for (uint32_t i = 0; i < envc; i++)
		strings_size += strlen((const char *)(uintptr_t)envp[i]) + 1;
	uint64_t vec_size = (1 + argc + 1 + envc + 1 + 2 * 20) * 8;
	if (strings_size + vec_size + 4096 > stack_top - stack_lo)
		load_fail(MOTE_LOAD_NO_MEMORY,
			  "program %s: arguments and environment do not fit on the stack", path);

	uint64_t vdso = clock_setup_vdso();
	uint8_t rnd[16];
	random_bytes(rnd, sizeof(rnd));
	uint64_t at_random = push_bytes(&sp, rnd, sizeof(rnd));
	uint64_t execfn = push_bytes(&sp, path, strlen(path) + 1);
	static uint64_t uargv[256], uenvp[256];
	uint64_t *av = argc < 256 ? uargv : kmalloc(argc * 8);
	uint64_t *ev = envc < 256 ? uenvp : kmalloc(envc * 8);
	if (!av || !ev)
		load_fail(MOTE_LOAD_NO_MEMORY, "program %s: too many arguments", path);
	for (uint32_t i = argc; i-- > 0;) {
		const char *s = (const char *)(uintptr_t)argv[i];
		av[i] = push_bytes(&sp, s, strlen(s) + 1);
	}
	for (uint32_t i = envc; i-- > 0;) {
		const char *s = (const char *)(uintptr_t)envp[i];
		ev[i] = push_bytes(&sp, s, strlen(s) + 1);
	}
	uint64_t auxv[][2] = {
	    {AT_PHDR, elf.phdr_vaddr ? elf.phdr_vaddr + bias : 0},
	    {AT_PHENT, elf.phentsize},
	    {AT_PHNUM, elf.phnum},
	    {AT_PAGESZ, PAGE_SIZE},
	    {AT_BASE, 0},
	    {AT_FLAGS, 0},
	    {AT_ENTRY, elf.entry + bias},
	    {AT_UID, 0},
	    {AT_EUID, 0},
	    {AT_GID, 0},
	    {AT_EGID, 0},
	    {AT_HWCAP, bi->hwcap},
	    {AT_HWCAP2, HWCAP2_FSGSBASE},
	    {AT_CLKTCK, 100},
	    {AT_SECURE, 0},
	    {AT_RANDOM, at_random},
	    {AT_EXECFN, execfn},
	    {vdso ? AT_SYSINFO_EHDR : AT_FLAGS, vdso},
	    {AT_NULL, 0},
	};
	uint64_t words = 1 + argc + 1 + envc + 1 + 2 * ARRAY_SIZE(auxv);
	sp = ALIGN_DOWN(sp - words * 8, 16);
	uint64_t *w = (uint64_t *)(uintptr_t)sp;
	*w++ = argc;
	for (uint32_t i = 0; i < argc; i++)
		*w++ = av[i];
	*w++ = 0;
	for (uint32_t i = 0; i < envc; i++)
		*w++ = ev[i];
	*w++ = 0;
	memcpy(w, auxv, sizeof(auxv));
	if (av != uargv)
		kfree(av);
	if (ev != uenvp)
		kfree(ev);
	*sp_out = sp;
	return elf.entry + bias;
}
