/* x86-64 vCPU set-up: identity page tables, GDT/TSS, long mode at CPL3, CPUID, XCR0, syscall MSRs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <mote/abi.h>

#include "cpu.h"
#include "layout.h"
#include "snapcheck.h"
#include "snapfile.h"
#include "status.h"
#include "vm.h"

#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_US 0x4ull
#define PTE_PS 0x80ull

_Static_assert((LAYOUT_INVOKE_GPA + LAYOUT_INVOKE_WINDOW) >> 30 <= LAYOUT_PD_MAX,
	       "the attach windows lie inside the mapped address space");
_Static_assert(LAYOUT_PD + LAYOUT_PD_MAX * 4096 <= LAYOUT_MONITOR_END,
	       "page directories fit the monitor area");

static uint64_t *guest_u64(struct vm *vm, uint64_t gpa)
{
	return (uint64_t *)(vm->mem + gpa);
}

static int build_page_tables(struct vm *vm, uint64_t stack_guard, struct mote_err *err)
{
	uint64_t end = vm->rootfs ? vm->rootfs_gpa + vm->rootfs_map_size : vm->mem_size;
	uint64_t ngib = (end + (1ull << 30) - 1) >> 30;
	if (ngib > LAYOUT_BUNDLE_GPA >> 30)
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
	/*
	 * The attach windows, mapped whether or not anything is ever attached
	 * (attaching then only adds memory slots): the bundle read-only, the
	 * invoke region read-write. Their memory slots are absent until then, so
	 * an access is an MMIO exit, reported as a crash.
	 */
	for (uint64_t g = LAYOUT_BUNDLE_GPA >> 30; g < (LAYOUT_INVOKE_GPA + LAYOUT_INVOKE_WINDOW) >> 30;
	     g++) {
		uint64_t pd_gpa = LAYOUT_PD + g * 4096;
		uint64_t *pd = guest_u64(vm, pd_gpa);
		uint64_t writable = (g << 30) >= LAYOUT_INVOKE_GPA ? PTE_RW : 0;
		pdpt[g] = pd_gpa | PTE_P | PTE_RW | PTE_US;
		for (uint64_t i = 0; i < 512; i++)
			pd[i] = ((g << 30) + (i << 21)) | PTE_P | writable | PTE_US | PTE_PS;
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

struct kvm_cpuid2 *vm_supported_cpuid(struct vm *vm, struct mote_err *err)
{
	for (unsigned n = 128; n <= 1024; n *= 2) { /* 75 entries on a 2024 x86 host */
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
	    {.index = MSR_STAR, .data = STAR_VALUE},
	    {.index = MSR_LSTAR, .data = syscall_entry},
	    {.index = MSR_CSTAR, .data = syscall_entry},
	    {.index = MSR_SYSCALL_MASK, .data = SYSCALL_MASK},
	    {.index = MSR_KERNEL_GS_BASE, .data = 0},
	    {.index = MSR_IA32_MISC_ENABLE, .data = 1}, /* fast strings */
	};
	memcpy(m.e, entries, sizeof(entries));
	m.hdr.nmsrs = 6;
	int n = ioctl(vm->vcpu_fd, KVM_SET_MSRS, &m);
	if (n < 5) /* MISC_ENABLE is optional */
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "KVM_SET_MSRS (set %d of 6)", n);
	return 0;
}

/* Read one MSR of the vCPU: 0, or -1 with errno when KVM does not know it. */
static int read_msr(struct vm *vm, uint32_t index, uint64_t *value)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[1];
	} m;
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	m.e[0].index = index;
	if (ioctl(vm->vcpu_fd, KVM_GET_MSRS, &m) != 1)
		return -1;
	*value = m.e[0].data;
	return 0;
}

int vm_read_guest_tsc(struct vm *vm, uint64_t *tsc)
{
	return read_msr(vm, MSR_IA32_TSC, tsc);
}

int vm_setup_x86_64(struct vm *vm, uint64_t entry, uint64_t rsp, uint64_t arg, uint64_t syscall_entry,
		    uint64_t stack_guard, struct mote_err *err)
{
	if (build_page_tables(vm, stack_guard, err) < 0)
		return -1;
	build_gdt_tss(vm);

	/*
	 * The features to turn on (XSAVE and the XCR0 components, FSGSBASE) are
	 * read back from the vCPU once its CPUID is set, not taken from
	 * KVM_GET_SUPPORTED_CPUID: PVM widens the vCPU's CPUID to the host
	 * CPU's features and reports a narrower supported set (on some hosts
	 * without XSAVE at all, which would leave AVX off in the guest).
	 */
	struct kvm_cpuid2 *cpuid = vm_supported_cpuid(vm, err);
	if (!cpuid)
		return -1;
	if (ioctl(vm->vcpu_fd, KVM_SET_CPUID2, cpuid) < 0 || ioctl(vm->vcpu_fd, KVM_GET_CPUID2, cpuid) < 0) {
		int e = errno;
		free(cpuid);
		return mote_errnof(err, MOTE_STATUS_HOST, e, "KVM_SET_CPUID2/KVM_GET_CPUID2");
	}
	const struct kvm_cpuid_entry2 *leaf1 = cpuid_find(cpuid, 1, 0);
	const struct kvm_cpuid_entry2 *leaf7 = cpuid_find(cpuid, 7, 0);
	const struct kvm_cpuid_entry2 *leafd = cpuid_find(cpuid, 0xd, 0);
	vm->hwcap = leaf1 ? leaf1->edx : 0;
	int has_xsave = leaf1 && (leaf1->ecx & (1u << 26));
	int has_fsgsbase = leaf7 && (leaf7->ebx & 1u);
	uint64_t xcr0 = 3; /* x87 | SSE */
	if (has_xsave && leafd)
		xcr0 = ((uint64_t)leafd->edx << 32 | leafd->eax) & 0xe7; /* x87 SSE AVX opmask ZMM */
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

/* ---- Snapshots ---------------------------------------------------------- */

/* The XSAVE area size this host's KVM uses (>= 4096). */
static uint32_t xsave_size(struct vm *vm)
{
	if (!vm->xsave_size) {
		int n = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
		vm->xsave_size =
		    n > (int)sizeof(struct kvm_xsave) ? (uint32_t)n : (uint32_t)sizeof(struct kvm_xsave);
	}
	return vm->xsave_size;
}

void vm_save_prepare(struct vm *vm)
{
	xsave_size(vm);
}

static int save_msrs(struct vm *vm, struct snap_writer *w, struct mote_err *err)
{
	struct snap_msr out[SNAPCHECK_MSRS];
	uint32_t n = 0;
	for (size_t i = 0; i < SNAPCHECK_MSRS; i++) {
		uint64_t value;
		if (read_msr(vm, snapcheck_msrs[i], &value) == 0)
			out[n++] = (struct snap_msr){.index = snapcheck_msrs[i], .data = value};
		else if (snapcheck_msrs[i] == MSR_IA32_TSC || snapcheck_msrs[i] == MSR_LSTAR)
			return mote_errnof(err, MOTE_STATUS_SNAP_WRITE, errno, "KVM_GET_MSRS (%#x)",
					   snapcheck_msrs[i]);
		/* Others this KVM does not know (TSC_AUX without rdtscp) were never set either. */
	}
	snap_add(w, SNAP_SEC_MSRS, out, n * (uint32_t)sizeof(out[0]));
	return 0;
}

static int save_cpuid(struct vm *vm, struct snap_writer *w, struct mote_err *err)
{
	unsigned n = 256;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
	if (!c)
		return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
	c->nent = n;
	if (ioctl(vm->vcpu_fd, KVM_GET_CPUID2, c) < 0) {
		int e = errno;
		free(c);
		return mote_errnof(err, MOTE_STATUS_SNAP_WRITE, e, "KVM_GET_CPUID2");
	}
	snap_add(w, SNAP_SEC_CPUID, c->entries, c->nent * (uint32_t)sizeof(c->entries[0]));
	free(c);
	return 0;
}

int vm_save_vcpu(struct vm *vm, struct snap_writer *w, struct mote_err *err)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xcrs xcrs;
	struct kvm_vcpu_events events;
	struct kvm_debugregs dregs;
	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) < 0)
		return mote_errnof(err, MOTE_STATUS_SNAP_WRITE, errno, "KVM_GET_REGS");
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return mote_errnof(err, MOTE_STATUS_SNAP_WRITE, errno, "KVM_GET_SREGS");
	snap_add(w, SNAP_SEC_REGS, &regs, sizeof(regs));
	snap_add(w, SNAP_SEC_SREGS, &sregs, sizeof(sregs));

	uint32_t size = xsave_size(vm);
	void *xsave = calloc(1, size);
	if (!xsave)
		return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
	unsigned long req = size > sizeof(struct kvm_xsave) ? KVM_GET_XSAVE2 : KVM_GET_XSAVE;
	if (ioctl(vm->vcpu_fd, req, xsave) < 0) {
		int e = errno;
		free(xsave);
		return mote_errnof(err, MOTE_STATUS_SNAP_WRITE, e, "KVM_GET_XSAVE");
	}
	snap_add(w, SNAP_SEC_XSAVE, xsave, size);
	free(xsave);

	memset(&xcrs, 0, sizeof(xcrs));
	if (ioctl(vm->vcpu_fd, KVM_GET_XCRS, &xcrs) == 0)
		snap_add(w, SNAP_SEC_XCRS, &xcrs, sizeof(xcrs));
	if (save_msrs(vm, w, err) < 0 || save_cpuid(vm, w, err) < 0)
		return -1;
	memset(&events, 0, sizeof(events));
	if (ioctl(vm->vcpu_fd, KVM_GET_VCPU_EVENTS, &events) == 0)
		snap_add(w, SNAP_SEC_EVENTS, &events, sizeof(events));
	memset(&dregs, 0, sizeof(dregs));
	if (ioctl(vm->vcpu_fd, KVM_GET_DEBUGREGS, &dregs) == 0)
		snap_add(w, SNAP_SEC_DEBUGREGS, &dregs, sizeof(dregs));
	return 0;
}

/* The section of `type` with exactly `size` bytes (or at least, when `at_least`); NULL with *err if not. */
static const void *section(const struct snap_parsed *p, uint32_t type, uint32_t size, int at_least,
			   const char *what, struct mote_err *err)
{
	const struct snap_section *s = snap_find(p, type);
	if (!s) {
		mote_errf(err, MOTE_STATUS_SNAP_CORRUPT, "snapshot has no %s section", what);
		return NULL;
	}
	if (at_least ? s->size < size : s->size != size) {
		mote_errf(err, MOTE_STATUS_SNAP_CORRUPT, "snapshot %s section is %u bytes, expected %s%u",
			  what, s->size, at_least ? "at least " : "", size);
		return NULL;
	}
	return s->data;
}

int vm_check_vcpu(struct vm *vm, const struct snap_parsed *p, const struct snap_guest *sg,
		  struct mote_err *err)
{
	/*
	 * What a guest booted here would see: the supported CPUID as a vCPU
	 * reports it once set. (PVM widens it to the host CPU's features, so
	 * KVM_GET_SUPPORTED_CPUID alone understates it.)
	 */
	struct kvm_cpuid2 *host = vm_supported_cpuid(vm, err);
	if (!host)
		return -1;
	if (ioctl(vm->vcpu_fd, KVM_SET_CPUID2, host) < 0 || ioctl(vm->vcpu_fd, KVM_GET_CPUID2, host) < 0) {
		int e = errno;
		free(host);
		return mote_errnof(err, MOTE_STATUS_HOST, e, "KVM_SET_CPUID2/KVM_GET_CPUID2");
	}
	int r = snapcheck_vcpu(p, sg, host->entries, host->nent, xsave_size(vm), err);
	free(host);
	return r;
}

/* Load the fixed-size section `type` with ioctl `req` if the snapshot has it (`what` names it in errors). */
static int set_optional(struct vm *vm, const struct snap_parsed *p, uint32_t type, uint32_t size,
			unsigned long req, const char *what, int refused_status, struct mote_err *err)
{
	const struct snap_section *s = snap_find(p, type);
	if (!s)
		return 0;
	if (s->size != size)
		return mote_errf(err, MOTE_STATUS_SNAP_CORRUPT, "snapshot %s section is malformed", what);
	if (ioctl(vm->vcpu_fd, req, (void *)s->data) < 0)
		return mote_errnof(err, refused_status, errno, "this host's KVM refuses the saved %s", what);
	return 0;
}

int vm_restore_vcpu(struct vm *vm, const struct snap_parsed *p, uint64_t *saved_tsc, uint64_t *tsc,
		    struct mote_err *err)
{
	const struct snap_section *cs = snap_find(p, SNAP_SEC_CPUID);
	uint32_t n = cs->size / (uint32_t)sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + cs->size);
	if (!cpuid)
		return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
	cpuid->nent = n;
	memcpy(cpuid->entries, cs->data, cs->size);
	if (ioctl(vm->vcpu_fd, KVM_SET_CPUID2, cpuid) < 0) {
		int e = errno;
		free(cpuid);
		return mote_errnof(err, MOTE_STATUS_SNAP_INCOMPATIBLE, e,
				   "this host's KVM refuses the snapshot's CPUID");
	}
	for (uint32_t i = 0; i < n; i++)
		if (cpuid->entries[i].function == 1)
			vm->hwcap = cpuid->entries[i].edx;
	free(cpuid);

	const struct kvm_sregs *sregs = section(p, SNAP_SEC_SREGS, sizeof(*sregs), 0, "sregs", err);
	const struct kvm_regs *regs = sregs ? section(p, SNAP_SEC_REGS, sizeof(*regs), 0, "regs", err) : NULL;
	if (!regs)
		return -1;
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, sregs) < 0)
		return mote_errnof(err, MOTE_STATUS_SNAP_CORRUPT, errno,
				   "KVM_SET_SREGS refuses the saved sregs");
	if (set_optional(vm, p, SNAP_SEC_XCRS, sizeof(struct kvm_xcrs), KVM_SET_XCRS, "XCR0",
			 MOTE_STATUS_SNAP_INCOMPATIBLE, err) < 0)
		return -1;
	const struct snap_section *xs = snap_find(p, SNAP_SEC_XSAVE);
	uint32_t size = xsave_size(vm);
	void *xsave = calloc(1, size);
	if (!xsave)
		return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
	memcpy(xsave, xs->data, xs->size);
	int r = ioctl(vm->vcpu_fd, KVM_SET_XSAVE, xsave);
	int e = errno;
	free(xsave);
	if (r < 0)
		return mote_errnof(err, MOTE_STATUS_SNAP_CORRUPT, e,
				   "KVM_SET_XSAVE refuses the saved FPU state");
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, regs) < 0)
		return mote_errnof(err, MOTE_STATUS_SNAP_CORRUPT, errno, "KVM_SET_REGS");
	if (set_optional(vm, p, SNAP_SEC_EVENTS, sizeof(struct kvm_vcpu_events), KVM_SET_VCPU_EVENTS,
			 "pending events", MOTE_STATUS_SNAP_CORRUPT, err) < 0 ||
	    set_optional(vm, p, SNAP_SEC_DEBUGREGS, sizeof(struct kvm_debugregs), KVM_SET_DEBUGREGS,
			 "debug registers", MOTE_STATUS_SNAP_CORRUPT, err) < 0)
		return -1;

	const struct snap_section *ms = snap_find(p, SNAP_SEC_MSRS);
	if (!ms || ms->size % sizeof(struct snap_msr) || ms->size > SNAPCHECK_MSRS * sizeof(struct snap_msr))
		return mote_errf(err, MOTE_STATUS_SNAP_CORRUPT,
				 "snapshot MSR section is missing or malformed");
	const struct snap_msr *saved = ms->data;
	uint32_t nmsrs = ms->size / (uint32_t)sizeof(*saved);
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[SNAPCHECK_MSRS];
	} m;
	memset(&m, 0, sizeof(m));
	int have_tsc = 0;
	/* TSC last (see snapshot_msrs). */
	for (uint32_t i = 0; i < nmsrs; i++)
		if (saved[i].index != MSR_IA32_TSC)
			m.e[m.hdr.nmsrs++] =
			    (struct kvm_msr_entry){.index = saved[i].index, .data = saved[i].data};
	for (uint32_t i = 0; i < nmsrs; i++)
		if (saved[i].index == MSR_IA32_TSC && !have_tsc) {
			m.e[m.hdr.nmsrs++] =
			    (struct kvm_msr_entry){.index = MSR_IA32_TSC, .data = saved[i].data};
			*saved_tsc = saved[i].data;
			have_tsc = 1;
		}
	if (!have_tsc)
		return mote_errf(err, MOTE_STATUS_SNAP_CORRUPT, "snapshot MSR section has no TSC");
	int set = ioctl(vm->vcpu_fd, KVM_SET_MSRS, &m);
	if (set != (int)m.hdr.nmsrs)
		return mote_errf(err, MOTE_STATUS_SNAP_INCOMPATIBLE,
				 "this host's KVM refuses MSR %#x of the snapshot",
				 set >= 0 && set < (int)m.hdr.nmsrs ? m.e[set].index : 0);
	if (vm_read_guest_tsc(vm, tsc) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot read the guest TSC");
	return 0;
}
