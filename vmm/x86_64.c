/* x86-64 vCPU set-up: identity page tables, GDT/TSS, long mode at CPL3, CPUID, XCR0, syscall MSRs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <mote/abi.h>

#include "layout.h"
#include "status.h"
#include "vm.h"

#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_US 0x4ull
#define PTE_PS 0x80ull

#define CR0_PE 0x1ull
#define CR0_MP 0x2ull
#define CR0_ET 0x10ull
#define CR0_NE 0x20ull
#define CR0_WP 0x10000ull
#define CR0_PG 0x80000000ull
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_FSGSBASE (1ull << 16)
#define CR4_OSXSAVE (1ull << 18)
#define EFER_SCE 0x1ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull

#define MSR_IA32_TSC 0x10u
#define MSR_IA32_MISC_ENABLE 0x1a0u
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_CSTAR 0xc0000083u
#define MSR_SYSCALL_MASK 0xc0000084u
#define MSR_KERNEL_GS_BASE 0xc0000102u

/* RFLAGS: bit 1 is always set; IOPL=3 lets CPL3 code use `out` for hypercalls. */
#define RFLAGS_GUEST 0x3002ull
/* Flags cleared on syscall entry: TF, IF, DF, NT, AC. */
#define SYSCALL_MASK 0x44700ull

static uint64_t *guest_u64(struct vm *vm, uint64_t gpa)
{
	return (uint64_t *)(vm->mem + gpa);
}

static int build_page_tables(struct vm *vm, uint64_t stack_guard, struct mote_err *err)
{
	uint64_t end = vm->rootfs ? vm->rootfs_gpa + vm->rootfs_map_size : vm->mem_size;
	uint64_t ngib = (end + (1ull << 30) - 1) >> 30;
	if (ngib > LAYOUT_PD_MAX)
		return mote_errf(err, MOTE_STATUS_USAGE, "guest address space of %llu GiB is too large",
				 (unsigned long long)ngib);

	uint64_t *pml4 = guest_u64(vm, LAYOUT_PML4);
	uint64_t *pdpt = guest_u64(vm, LAYOUT_PDPT);
	pml4[0] = LAYOUT_PDPT | PTE_P | PTE_RW | PTE_US;
	for (uint64_t g = 0; g < ngib; g++) {
		uint64_t pd_gpa = LAYOUT_PD + g * 4096;
		uint64_t *pd = guest_u64(vm, pd_gpa);
		pdpt[g] = pd_gpa | PTE_P | PTE_RW | PTE_US;
		for (uint64_t i = 0; i < 512; i++) {
			uint64_t addr = (g << 30) + (i << 21);
			if (addr < vm->mem_size)
				pd[i] = addr | PTE_P | PTE_RW | PTE_US | PTE_PS;
			else if (vm->rootfs && addr >= vm->rootfs_gpa && addr < end)
				pd[i] = addr | PTE_P | PTE_US | PTE_PS; /* read-only */
			else
				pd[i] = 0;
		}
	}
	/* 4 KiB pages for the first 2 MiB (page 0 unmapped) and around the stack guard. */
	uint64_t *pd0 = guest_u64(vm, LAYOUT_PD);
	uint64_t *pt_low = guest_u64(vm, LAYOUT_PT_LOW);
	for (uint64_t i = 0; i < 512; i++)
		pt_low[i] = i ? (i << 12) | PTE_P | PTE_RW | PTE_US : 0;
	pd0[0] = LAYOUT_PT_LOW | PTE_P | PTE_RW | PTE_US;

	uint64_t guard_2m = stack_guard & ~(LAYOUT_HUGE_PAGE - 1);
	if (guard_2m == 0)
		return mote_errf(err, MOTE_STATUS_USAGE, "stack guard page inside the first 2 MiB");
	uint64_t *pt_guard = guest_u64(vm, LAYOUT_PT_GUARD);
	for (uint64_t i = 0; i < 512; i++) {
		uint64_t addr = guard_2m + (i << 12);
		pt_guard[i] = addr == stack_guard ? 0 : addr | PTE_P | PTE_RW | PTE_US;
	}
	uint64_t *pd_guard = guest_u64(vm, LAYOUT_PD + (guard_2m >> 30) * 4096);
	pd_guard[(guard_2m >> 21) & 511] = LAYOUT_PT_GUARD | PTE_P | PTE_RW | PTE_US;
	return 0;
}

static void build_gdt_tss(struct vm *vm)
{
	uint64_t *gdt = guest_u64(vm, LAYOUT_GDT);
	gdt[0] = 0;
	gdt[SEL_KERNEL_CS / 8] = 0x00af9a000000ffffull;
	gdt[SEL_KERNEL_DS / 8] = 0x00cf92000000ffffull;
	gdt[SEL_USER32_CS / 8] = 0x00cffa000000ffffull;
	gdt[SEL_USER_DS / 8] = 0x00cff2000000ffffull;
	gdt[SEL_USER_CS / 8] = 0x00affa000000ffffull;
	uint64_t base = LAYOUT_TSS, limit = TSS_SIZE - 1;
	gdt[SEL_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x8bull << 40) |
			   (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[SEL_TSS / 8 + 1] = base >> 32;

	uint8_t *tss = vm->mem + LAYOUT_TSS;
	memset(tss, 0, TSS_IOMAP_OFFSET);
	tss[102] = TSS_IOMAP_OFFSET & 0xff;
	tss[103] = TSS_IOMAP_OFFSET >> 8;
	uint8_t *iomap = tss + TSS_IOMAP_OFFSET;
	memset(iomap, 0xff, 8192 + 1);
	/* A 4-byte `outl` to port P is checked against the bits of ports P..P+3. */
	for (unsigned port = MOTE_HC_PORT_BASE; port < MOTE_HC_PORT_BASE + MOTE_HC_COUNT + 3; port++)
		iomap[port / 8] &= (uint8_t) ~(1u << (port % 8));
}

static struct kvm_cpuid2 *get_supported_cpuid(struct vm *vm, struct mote_err *err)
{
	for (unsigned n = 64; n <= 1024; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c) {
			mote_errf(err, MOTE_STATUS_HOST, "out of memory");
			return NULL;
		}
		c->nent = n;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		int e = errno;
		free(c);
		if (e != E2BIG) {
			mote_errnof(err, MOTE_STATUS_HOST, e, "KVM_GET_SUPPORTED_CPUID");
			return NULL;
		}
	}
	mote_errf(err, MOTE_STATUS_HOST, "KVM_GET_SUPPORTED_CPUID: too many entries");
	return NULL;
}

static const struct kvm_cpuid_entry2 *cpuid_find(const struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

static void set_segment(struct kvm_segment *s, uint16_t sel, uint8_t type, int code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->dpl = sel & 3;
	s->s = 1;
	s->g = 1;
	s->l = code ? 1 : 0;
	s->db = code ? 0 : 1;
}

static int set_msrs(struct vm *vm, uint64_t syscall_entry, struct mote_err *err)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[6];
	} m;
	memset(&m, 0, sizeof(m));
	const struct kvm_msr_entry entries[] = {
		{ .index = MSR_STAR, .data = ((uint64_t)SEL_USER32_CS << 48) | ((uint64_t)SEL_KERNEL_CS << 32) },
		{ .index = MSR_LSTAR, .data = syscall_entry },
		{ .index = MSR_CSTAR, .data = syscall_entry },
		{ .index = MSR_SYSCALL_MASK, .data = SYSCALL_MASK },
		{ .index = MSR_KERNEL_GS_BASE, .data = 0 },
		{ .index = MSR_IA32_MISC_ENABLE, .data = 1 }, /* fast strings */
	};
	memcpy(m.e, entries, sizeof(entries));
	m.hdr.nmsrs = 6;
	int n = ioctl(vm->vcpu_fd, KVM_SET_MSRS, &m);
	if (n < 5) /* MISC_ENABLE is optional */
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "KVM_SET_MSRS (set %d of 6)", n);
	return 0;
}

int vm_read_guest_tsc(struct vm *vm, uint64_t *tsc)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[1];
	} m;
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	m.e[0].index = MSR_IA32_TSC;
	if (ioctl(vm->vcpu_fd, KVM_GET_MSRS, &m) != 1)
		return -1;
	*tsc = m.e[0].data;
	return 0;
}

int vm_setup_x86_64(struct vm *vm, uint64_t entry, uint64_t rsp, uint64_t arg, uint64_t syscall_entry,
		    uint64_t stack_guard, struct mote_err *err)
{
	if (build_page_tables(vm, stack_guard, err) < 0)
		return -1;
	build_gdt_tss(vm);

	struct kvm_cpuid2 *cpuid = get_supported_cpuid(vm, err);
	if (!cpuid)
		return -1;
	const struct kvm_cpuid_entry2 *leaf1 = cpuid_find(cpuid, 1, 0);
	const struct kvm_cpuid_entry2 *leaf7 = cpuid_find(cpuid, 7, 0);
	const struct kvm_cpuid_entry2 *leafd = cpuid_find(cpuid, 0xd, 0);
	vm->hwcap = leaf1 ? leaf1->edx : 0;
	int has_xsave = leaf1 && (leaf1->ecx & (1u << 26));
	int has_fsgsbase = leaf7 && (leaf7->ebx & 1u);
	uint64_t xcr0 = 3; /* x87 | SSE */
	if (has_xsave && leafd)
		xcr0 = ((uint64_t)leafd->edx << 32 | leafd->eax) & 0xe7; /* x87 SSE AVX opmask ZMM */
	if (ioctl(vm->vcpu_fd, KVM_SET_CPUID2, cpuid) < 0) {
		int e = errno;
		free(cpuid);
		return mote_errnof(err, MOTE_STATUS_HOST, e, "KVM_SET_CPUID2");
	}
	free(cpuid);

	struct kvm_sregs sregs;
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "KVM_GET_SREGS");
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.cr3 = LAYOUT_PML4;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | (has_xsave ? CR4_OSXSAVE : 0) |
		    (has_fsgsbase ? CR4_FSGSBASE : 0);
	sregs.efer = EFER_SCE | EFER_LME | EFER_LMA;
	set_segment(&sregs.cs, SEL_USER_CS | 3, 11, 1);
	set_segment(&sregs.ss, SEL_USER_DS | 3, 3, 0);
	set_segment(&sregs.ds, SEL_USER_DS | 3, 3, 0);
	set_segment(&sregs.es, SEL_USER_DS | 3, 3, 0);
	set_segment(&sregs.fs, SEL_USER_DS | 3, 3, 0);
	set_segment(&sregs.gs, SEL_USER_DS | 3, 3, 0);
	memset(&sregs.tr, 0, sizeof(sregs.tr));
	sregs.tr.selector = SEL_TSS;
	sregs.tr.base = LAYOUT_TSS;
	sregs.tr.limit = TSS_SIZE - 1;
	sregs.tr.type = 11;
	sregs.tr.present = 1;
	memset(&sregs.ldt, 0, sizeof(sregs.ldt));
	sregs.ldt.type = 2;
	sregs.ldt.unusable = 1;
	sregs.gdt.base = LAYOUT_GDT;
	sregs.gdt.limit = (SEL_TSS + 16) - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "KVM_SET_SREGS");

	if (has_xsave) {
		struct kvm_xcrs xcrs;
		memset(&xcrs, 0, sizeof(xcrs));
		xcrs.nr_xcrs = 1;
		xcrs.xcrs[0].xcr = 0;
		xcrs.xcrs[0].value = xcr0;
		if (ioctl(vm->vcpu_fd, KVM_SET_XCRS, &xcrs) < 0)
			return mote_errnof(err, MOTE_STATUS_HOST, errno, "KVM_SET_XCRS");
	}
	struct kvm_fpu fpu;
	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(vm->vcpu_fd, KVM_SET_FPU, &fpu) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "KVM_SET_FPU");

	if (set_msrs(vm, syscall_entry, err) < 0)
		return -1;

	struct kvm_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.rip = entry;
	regs.rsp = rsp;
	regs.rdi = arg;
	regs.rflags = RFLAGS_GUEST;
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "KVM_SET_REGS");
	return 0;
}
