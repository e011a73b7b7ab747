/* Loading the program: its ELF image (and, for a dynamic one, its interpreter's) and its initial stack. */
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

int loader_check(struct loader_program *p, char *msg, size_t size)
{
	int r = mote_elf_parse(p->image, p->size, &p->elf);
	p->dynamic = r == MOTE_ELF_DYNAMIC;
	if (r != MOTE_ELF_OK && r != MOTE_ELF_DYNAMIC) {
		ksnprintf(msg, size, "program %s: %s", p->path, mote_elf_strerror(r));
		return elf_load_code(r);
	}
	if (!p->dynamic)
		return 0;
	const char *interp = p->elf.interp;
	if (vfs_map_file(interp, &p->interp_image, &p->interp_size) < 0) {
		ksnprintf(msg, size,
			  "program %s: dynamically linked (PT_INTERP %s), and %s is not in the rootfs "
			  "(run it with --rootfs holding its libraries: docs/dynamic.md)",
			  p->path, interp, interp);
		return MOTE_LOAD_DYNAMIC;
	}
	r = mote_elf_parse(p->interp_image, p->interp_size, &p->interp_elf);
	if (r != MOTE_ELF_OK || !p->interp_elf.is_pie) {
		ksnprintf(msg, size, "program %s: its interpreter %s: %s", p->path, interp,
			  r == MOTE_ELF_OK ? "not position-independent (ET_EXEC)" : mote_elf_strerror(r));
		return r == MOTE_ELF_OK ? MOTE_LOAD_UNSUPPORTED : elf_load_code(r);
	}
	return 0;
}

/*
 * Copy the segments of the checked ELF `e` (file bytes at `image`) into
 * program memory: ET_EXEC at its addresses, ET_DYN at a free range. Stores
 * the load bias; or returns -1 with a MOTE_LOAD_* code and one line.
 */
static int place(const struct mote_elf_info *e, const void *image, const char *path, uint64_t *bias,
		 int *code, char *msg, size_t size)
{
	uint64_t span = e->hi - e->lo;
	*bias = 0;
	if (e->is_pie) {
		void *at = mm_alloc_user(span, 0);
		if (!at) {
			*code = MOTE_LOAD_NO_MEMORY;
			ksnprintf(msg, size,
				  "program %s: needs %lu KiB, more than guest memory has free (raise --mem)",
				  path, span >> 10);
			return -1;
		}
		*bias = (uint64_t)(uintptr_t)at - e->lo;
	} else if (mm_claim_user(e->lo, span) < 0) {
		*code = MOTE_LOAD_NO_MEMORY;
		ksnprintf(msg, size,
			  "program %s: its segments [%#lx, %#lx) do not fit in guest memory (raise --mem)",
			  path, e->lo, e->hi);
		return -1;
	}
	for (unsigned i = 0; i < e->nloads; i++) {
		const struct mote_elf_load *ld = &e->loads[i];
		memcpy((void *)(uintptr_t)(ld->vaddr + *bias), (const uint8_t *)image + ld->offset,
		       ld->filesz);
	}
	return 0;
}

/* The stack region of the boot info: [*lo, *top). */
static void stack_region(const struct mote_boot_info *bi, uint64_t *lo, uint64_t *top)
{
	*lo = *top = 0;
	for (uint32_t i = 0; i < bi->nregions; i++)
		if (bi->regions[i].type == MOTE_MEM_STACK) {
			*lo = bi->regions[i].gpa;
			*top = *lo + bi->regions[i].size;
		}
	if (!*top)
		kpanic("boot info has no stack region");
}

uint64_t loader_start(struct mote_boot_info *bi, const struct loader_program *p, uint32_t argc,
		      const char *const *argv, uint32_t envc, const char *const *envp, uint64_t *sp_out,
		      int *code, char *msg, size_t size)
{
	const struct mote_elf_info *e = &p->elf;
	const char *path = p->path;
	uint64_t bias, interp_bias = 0;
	if (place(e, p->image, path, &bias, code, msg, size) < 0 ||
	    (p->dynamic &&
	     place(&p->interp_elf, p->interp_image, e->interp, &interp_bias, code, msg, size) < 0))
		return 0;
	mm_set_brk_base(e->hi + bias);
	bi->prog_start = e->lo + bias;
	bi->prog_end = e->hi + bias;
	bi->prog_bias = bias;
	bi->prog_image = (uint64_t)(uintptr_t)p->image;
	bi->prog_image_size = p->size;

	/* The initial stack, at the top of the stack region. */
	uint64_t stack_lo, stack_top;
	stack_region(bi, &stack_lo, &stack_top);
	uint64_t sp = stack_top;
	uint64_t strings_size = strlen(path) + 1 + 16;
	for (uint32_t i = 0; i < argc; i++)
		strings_size += strlen(argv[i]) + 1;
	for (uint32_t i = 0; i < envc; i++)
		strings_size += strlen(envp[i]) + 1;
	uint64_t vec_size = (1 + (uint64_t)argc + 1 + envc + 1 + 2 * 20) * 8;
	if (strings_size + vec_size + 4096 > stack_top - stack_lo) {
		*code = MOTE_LOAD_NO_MEMORY;
		ksnprintf(msg, size, "program %s: arguments and environment do not fit on the stack", path);
		return 0;
	}

	uint64_t vdso = clock_setup_vdso();
	uint8_t rnd[16];
	random_bytes(rnd, sizeof(rnd));
	uint64_t at_random = push_bytes(&sp, rnd, sizeof(rnd));
	uint64_t execfn = push_bytes(&sp, path, strlen(path) + 1);
	static uint64_t uargv[256], uenvp[256];
	uint64_t *av = argc < 256 ? uargv : kmalloc(argc * 8);
	uint64_t *ev = envc < 256 ? uenvp : kmalloc(envc * 8);
	if (!av || !ev) {
		*code = MOTE_LOAD_NO_MEMORY;
		ksnprintf(msg, size, "program %s: too many arguments", path);
		return 0;
	}
	for (uint32_t i = argc; i-- > 0;)
		av[i] = push_bytes(&sp, argv[i], strlen(argv[i]) + 1);
	for (uint32_t i = envc; i-- > 0;)
		ev[i] = push_bytes(&sp, envp[i], strlen(envp[i]) + 1);
	uint64_t auxv[][2] = {
	    {AT_PHDR, e->phdr_vaddr ? e->phdr_vaddr + bias : 0},
	    {AT_PHENT, e->phentsize},
	    {AT_PHNUM, e->phnum},
	    {AT_PAGESZ, PAGE_SIZE},
	    {AT_BASE, p->dynamic ? interp_bias : 0},
	    {AT_FLAGS, 0},
	    {AT_ENTRY, e->entry + bias},
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
	uint64_t words = 1 + (uint64_t)argc + 1 + envc + 1 + 2 * ARRAY_SIZE(auxv);
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
	return p->dynamic ? p->interp_elf.entry + interp_bias : e->entry + bias;
}

uint64_t loader_load_program(struct mote_boot_info *bi, uint64_t *sp_out)
{
	static struct loader_program p;
	p.path = (const char *)(uintptr_t)bi->exec_path;
	int r = vfs_map_file(p.path, &p.image, &p.size);
	if (r < 0)
		load_fail(r == -ENOENT ? MOTE_LOAD_NOT_FOUND : MOTE_LOAD_UNSUPPORTED, "program %s: %s",
			  p.path,
			  r == -ENOENT	 ? "no such file in the rootfs"
			  : r == -EISDIR ? "is a directory"
					 : "cannot be opened");
	int code = loader_check(&p, load_msg, sizeof(load_msg));
	if (code)
		hypercall_exit(MOTE_EXIT_LOAD_ERROR, code, load_msg, 0, 0);
	/* The monitor's vectors hold gpas of strings; guest memory is identity-mapped. */
	uint64_t entry =
	    loader_start(bi, &p, bi->argc, (const char *const *)(uintptr_t)bi->argv, bi->envc,
			 (const char *const *)(uintptr_t)bi->envp, sp_out, &code, load_msg, sizeof(load_msg));
	if (!entry)
		hypercall_exit(MOTE_EXIT_LOAD_ERROR, code, load_msg, 0, 0);
	return entry;
}
