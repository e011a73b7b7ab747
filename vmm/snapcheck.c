/* Checks of a snapshot's contents against what mote-vmm itself writes: pure functions, no KVM, no files. */
#include "snapcheck.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cpu.h"
#include "layout.h"
#include "status.h"

#define PAGE 4096ull

/*
 * The guest runs at CPL3 and cannot write MSRs itself (only FS/GS base
 * through wrfsbase, and the TSC advances), so these are everything the
 * monitor set plus what CPL3 changes. The TSC comes last: restoring it is the
 * moment the clock is re-anchored.
 */
const uint32_t snapcheck_msrs[SNAPCHECK_MSRS] = {
    MSR_IA32_SYSENTER_CS,
    MSR_IA32_SYSENTER_ESP,
    MSR_IA32_SYSENTER_EIP,
    MSR_IA32_CR_PAT,
    MSR_IA32_MISC_ENABLE,
    MSR_STAR,
    MSR_LSTAR,
    MSR_CSTAR,
    MSR_SYSCALL_MASK,
    MSR_KERNEL_GS_BASE,
    MSR_FS_BASE,
    MSR_GS_BASE,
    MSR_TSC_AUX,
    MSR_IA32_TSC,
};

static int corrupt(struct mote_err *err, const char *what)
{
	return mote_errf(err, MOTE_STATUS_SNAP_CORRUPT, "vCPU state mote never saves: %s", what);
}

/* The section of `type` with exactly `size` bytes; NULL (with *err) if it is missing or another size. */
static const void *sized_section(const struct snap_parsed *p, uint32_t type, uint32_t size, int required,
				 const char *what, struct mote_err *err)
{
	const struct snap_section *s = snap_find(p, type);
	if (!s) {
		if (required)
			mote_errf(err, MOTE_STATUS_SNAP_CORRUPT, "no %s section", what);
		return NULL;
	}
	if (s->size != size) {
		mote_errf(err, MOTE_STATUS_SNAP_CORRUPT, "%s section is %u bytes, expected %u", what, s->size,
			  size);
		return NULL;
	}
	return s->data;
}

int snapcheck_guest(const struct snap_parsed *p, struct snap_guest *sg,
		    uint8_t kernel_id[SNAP_KERNEL_ID_SIZE], struct mote_err *err)
{
	const void *data = sized_section(p, SNAP_SEC_GUEST, sizeof(*sg), 1, "guest", err);
	if (!data)
		return -1;
	memcpy(sg, data, sizeof(*sg));
	uint64_t mem = sg->mem_size;
	const char *bad = NULL;
	if (mem < LAYOUT_MEM_MIN || mem > LAYOUT_MEM_MAX || mem % LAYOUT_HUGE_PAGE)
		bad = "memory size";
	else if (sg->stack_top != mem || sg->stack_guard >= mem || sg->stack_guard < LAYOUT_KERNEL_END ||
		 sg->stack_guard % PAGE)
		bad = "stack";
	else if (sg->rootfs_size &&
		 (sg->rootfs_size > LAYOUT_ROOTFS_MAX ||
		  sg->rootfs_map_size != ((sg->rootfs_size + PAGE - 1) & ~(PAGE - 1)) ||
		  sg->rootfs_gpa != ((mem + LAYOUT_HUGE_PAGE - 1) & ~(LAYOUT_HUGE_PAGE - 1))))
		bad = "rootfs placement";
	else if (!sg->rootfs_size && (sg->rootfs_gpa || sg->rootfs_map_size))
		bad = "rootfs placement";
	else if (sg->kernel_lo < LAYOUT_KERNEL_START || sg->kernel_hi > LAYOUT_KERNEL_END ||
		 sg->kernel_lo >= sg->kernel_hi)
		bad = "kernel range";
	else if (sg->tsc_khz == 0 || sg->tsc_khz > 100000000)
		bad = "TSC rate";
	else if (sg->reserved)
		bad = "reserved field";
	if (bad)
		return mote_errf(err, MOTE_STATUS_SNAP_CORRUPT, "impossible %s in the guest section", bad);
	data = sized_section(p, SNAP_SEC_KERNEL_ID, SNAP_KERNEL_ID_SIZE, 1, "kernel identity", err);
	if (!data)
		return -1;
	memcpy(kernel_id, data, SNAP_KERNEL_ID_SIZE);
	return 0;
}

/* ---- CPUID -------------------------------------------------------------- */

/* The entry for leaf `fn`, subleaf `idx` (ignored where the table says the index does not matter). */
static const struct kvm_cpuid_entry2 *cpuid_lookup(const struct kvm_cpuid_entry2 *t, uint32_t n, uint32_t fn,
						   uint32_t idx)
{
	const struct kvm_cpuid_entry2 *hit = NULL;
	for (uint32_t i = 0; i < n; i++)
		if (t[i].function == fn &&
		    (!(t[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || t[i].index == idx))
			hit = &t[i];
	return hit;
}

/* Feature registers compared between the snapshot's CPUID and this host's. */
static const struct {
	uint32_t function, index;
	const char *name;
	uint8_t regs;	     /* bit k: register k (eax, ebx, ecx, edx) holds feature flags */
	uint32_t follows[4]; /* bits that follow guest state rather than the CPU, never compared */
} feature_leaves[] = {
    /* OSXSAVE (ecx 27) and APIC (edx 9) follow the guest's CR4 and APIC state. */
    {1, 0, "leaf 0x1", 0xc, {0, 0, 1u << 27, 1u << 9}},
    /* OSPKE (ecx 4) follows CR4.PKE. */
    {7, 0, "leaf 0x7", 0xe, {0, 0, 1u << 4, 0}},
    {7, 1, "leaf 0x7.1", 0xf, {0, 0, 0, 0}},
    {0xd, 0, "leaf 0xd (XSAVE components)", 0x9, {0, 0, 0, 0}},
    /* 0xd.1 ebx is the XSAVE area size for the XCR0 in use: guest state, like 0xd.0 ebx. */
    {0xd, 1, "leaf 0xd.1", 0xd, {0, 0, 0, 0}},
    {0x40000001, 0, "leaf 0x40000001 (KVM features)", 0xf, {0, 0, 0, 0}},
    {0x80000001, 0, "leaf 0x80000001", 0xf, {0, 0, 0, 0}},
    {0x80000008, 0, "leaf 0x80000008", 0x2, {0, 0, 0, 0}},
};

/* Limits a snapshot's CPUID may not exceed: register `reg` of a leaf, masked and shifted. */
static const struct {
	uint32_t function, index;
	uint8_t reg, shift;
	uint32_t mask;
	const char *name;
} cpuid_limits[] = {
    {0, 0, 0, 0, 0xffffffffu, "highest basic leaf"},
    {0x40000000, 0, 0, 0, 0xffffffffu, "highest KVM leaf"},
    {0x80000000, 0, 0, 0, 0xffffffffu, "highest extended leaf"},
    {0x80000008, 0, 0, 0, 0xff, "physical address bits"},
    {0x80000008, 0, 0, 8, 0xff, "linear address bits"},
    {0xd, 0, 2, 0, 0xffffffffu, "XSAVE area size"},
};

static uint32_t reg_of(const struct kvm_cpuid_entry2 *e, int k)
{
	return k == 0 ? e->eax : k == 1 ? e->ebx : k == 2 ? e->ecx : e->edx;
}

static int check_cpuid(const struct snap_parsed *p, const struct kvm_cpuid_entry2 *host, uint32_t nhost,
		       uint64_t *host_xcr0, struct mote_err *err)
{
	const struct snap_section *cs = snap_find(p, SNAP_SEC_CPUID);
	if (!cs || cs->size == 0 || cs->size % sizeof(struct kvm_cpuid_entry2) ||
	    cs->size > 256 * sizeof(struct kvm_cpuid_entry2))
		return mote_errf(err, MOTE_STATUS_SNAP_CORRUPT, "CPUID section is missing or malformed");
	struct kvm_cpuid_entry2 saved[256];
	uint32_t n = cs->size / (uint32_t)sizeof(saved[0]);
	memcpy(saved, cs->data, cs->size);
	for (uint32_t i = 0; i < n; i++) {
		const struct kvm_cpuid_entry2 *s = &saved[i];
		if ((s->flags & ~(uint32_t)KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || s->padding[0] ||
		    s->padding[1] || s->padding[2])
			return mote_errf(err, MOTE_STATUS_SNAP_CORRUPT,
					 "CPUID leaf %#x.%u has flags or padding KVM never reports",
					 s->function, s->index);
		/* KVM lists a leaf once; subleaves only where the index matters (flagged), never besides. */
		const uint32_t sig = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		for (uint32_t k = 0; k < i; k++)
			if (saved[k].function == s->function &&
			    (saved[k].index == s->index || !(saved[k].flags & sig) || !(s->flags & sig)))
				return mote_errf(err, MOTE_STATUS_SNAP_CORRUPT,
						 "CPUID leaf %#x.%u appears twice", s->function, s->index);
		const struct kvm_cpuid_entry2 *h = cpuid_lookup(host, nhost, s->function, s->index);
		if (!h || (h->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) !=
			      (s->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX))
			return mote_errf(
			    err, MOTE_STATUS_SNAP_INCOMPATIBLE,
			    "snapshot has CPUID leaf %#x.%u, which this host's KVM does not give a guest",
			    s->function, s->index);
	}
	static const char *const regname[4] = {"eax", "ebx", "ecx", "edx"};
	for (size_t i = 0; i < sizeof(feature_leaves) / sizeof(feature_leaves[0]); i++) {
		const struct kvm_cpuid_entry2 *s =
		    cpuid_lookup(saved, n, feature_leaves[i].function, feature_leaves[i].index);
		const struct kvm_cpuid_entry2 *h =
		    cpuid_lookup(host, nhost, feature_leaves[i].function, feature_leaves[i].index);
		if (!s)
			continue;
		for (int k = 0; k < 4; k++) {
			if (!(feature_leaves[i].regs & (1u << k)))
				continue;
			uint32_t missing =
			    reg_of(s, k) & ~(h ? reg_of(h, k) : 0) & ~feature_leaves[i].follows[k];
			if (missing)
				return mote_errf(
				    err, MOTE_STATUS_SNAP_INCOMPATIBLE,
				    "snapshot needs CPU features this host lacks: CPUID %s %s bits %#x",
				    feature_leaves[i].name, regname[k], missing);
		}
	}
	for (size_t i = 0; i < sizeof(cpuid_limits) / sizeof(cpuid_limits[0]); i++) {
		const struct kvm_cpuid_entry2 *s =
		    cpuid_lookup(saved, n, cpuid_limits[i].function, cpuid_limits[i].index);
		const struct kvm_cpuid_entry2 *h =
		    cpuid_lookup(host, nhost, cpuid_limits[i].function, cpuid_limits[i].index);
		if (!s || !h)
			continue;
		uint32_t sv =
		    (reg_of(s, cpuid_limits[i].reg) >> cpuid_limits[i].shift) & cpuid_limits[i].mask;
		uint32_t hv =
		    (reg_of(h, cpuid_limits[i].reg) >> cpuid_limits[i].shift) & cpuid_limits[i].mask;
		if (sv > hv)
			return mote_errf(err, MOTE_STATUS_SNAP_INCOMPATIBLE,
					 "snapshot's CPUID gives a larger %s (%#x) than this host (%#x)",
					 cpuid_limits[i].name, sv, hv);
	}
	const struct kvm_cpuid_entry2 *hd = cpuid_lookup(host, nhost, 0xd, 0);
	*host_xcr0 = hd ? ((uint64_t)hd->edx << 32 | hd->eax) : 3;
	return 0;
}

/* ---- Registers ---------------------------------------------------------- */

static int canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* A data segment register as a CPL3 program can leave it: null, or one of mote's DPL3 descriptors. */
static int user_data_segment(const struct kvm_segment *s)
{
	if (s->unusable || s->selector == 0)
		return 1;
	int sel_ok = s->selector == (SEL_USER_DS | 3) || s->selector == (SEL_USER_CS | 3) ||
		     s->selector == (SEL_USER32_CS | 3);
	return sel_ok && s->dpl == 3 && s->present && s->s;
}

static int check_sregs(const struct kvm_sregs *s, struct mote_err *err)
{
	/* 64-bit code (or the 32-bit compatibility segment a program may far-jump to), at CPL3. */
	int cs64 = s->cs.selector == (SEL_USER_CS | 3) && s->cs.l && !s->cs.db;
	int cs32 = s->cs.selector == (SEL_USER32_CS | 3) && !s->cs.l;
	if (!(cs64 || cs32) || s->cs.dpl != 3 || !s->cs.present || !s->cs.s || !(s->cs.type & 8) ||
	    s->cs.unusable)
		return corrupt(err, "CS is not one of mote's CPL3 code segments");
	if (s->ss.selector != (SEL_USER_DS | 3) || s->ss.dpl != 3 || !s->ss.present || !s->ss.s ||
	    (s->ss.type & 0xa) != 2 || s->ss.unusable)
		return corrupt(err, "SS is not mote's CPL3 stack segment");
	if (!user_data_segment(&s->ds) || !user_data_segment(&s->es) || !user_data_segment(&s->fs) ||
	    !user_data_segment(&s->gs))
		return corrupt(err, "a data segment is not null or one of mote's CPL3 descriptors");
	if (!canonical(s->fs.base) || !canonical(s->gs.base))
		return corrupt(err, "FS or GS base is not a canonical address");
	if (s->tr.selector != SEL_TSS || s->tr.base != LAYOUT_TSS || s->tr.limit != TSS_SIZE - 1 ||
	    !s->tr.present || s->tr.s || (s->tr.type != 11 && s->tr.type != 9) || s->tr.unusable)
		return corrupt(err, "TR is not mote's TSS");
	if (!s->ldt.unusable && s->ldt.present)
		return corrupt(err, "an LDT is loaded");
	if (s->gdt.base != LAYOUT_GDT || s->gdt.limit != SEL_TSS + 16 - 1)
		return corrupt(err, "GDTR is not mote's GDT");
	if (s->idt.base != 0 || s->idt.limit != 0)
		return corrupt(err, "an IDT is loaded");
	const uint64_t cr0_need = CR0_PE | CR0_PG,
		       cr0_may = CR0_PE | CR0_MP | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	if ((s->cr0 & cr0_need) != cr0_need || (s->cr0 & ~cr0_may))
		return corrupt(err, "CR0 has bits mote never sets (or lacks paging)");
	if (s->cr3 != LAYOUT_PML4)
		return corrupt(err, "CR3 is not mote's page table");
	const uint64_t cr4_may = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE | CR4_FSGSBASE;
	if (!(s->cr4 & CR4_PAE) || (s->cr4 & ~cr4_may))
		return corrupt(err, "CR4 has bits mote never sets");
	const uint64_t efer_need = EFER_LME | EFER_LMA;
	if ((s->efer & efer_need) != efer_need || (s->efer & ~(efer_need | EFER_SCE | EFER_NXE)))
		return corrupt(err, "EFER is not long mode with mote's bits");
	if (s->cr8 != 0)
		return corrupt(err, "CR8 (task priority) is set");
	if ((s->apic_base & ~0xfffull) != APIC_BASE_DEFAULT || (s->apic_base & 0xfffull & ~APIC_BASE_FLAGS))
		return corrupt(err, "the APIC base was moved");
	for (size_t i = 0; i < sizeof(s->interrupt_bitmap) / sizeof(s->interrupt_bitmap[0]); i++)
		if (s->interrupt_bitmap[i])
			return corrupt(err, "an interrupt is pending");
	return 0;
}

static int check_regs(const struct kvm_regs *r, struct mote_err *err)
{
	if ((r->rflags & RFLAGS_FIXED) == 0 || (r->rflags & ~RFLAGS_USER_BITS))
		return corrupt(err, "RFLAGS has bits a CPL3 program cannot set (VM, VIF, VIP or reserved)");
	if (!canonical(r->rip))
		return corrupt(err, "RIP is not a canonical address");
	return 0;
}

static int check_msrs(const struct snap_parsed *p, const struct snap_guest *sg, struct mote_err *err)
{
	const struct snap_section *ms = snap_find(p, SNAP_SEC_MSRS);
	/* Room for more than mote's MSRs, so that an extra one is named (below) rather than just counted. */
	struct snap_msr m[4 * SNAPCHECK_MSRS];
	if (!ms || ms->size % sizeof(struct snap_msr) || ms->size > sizeof(m))
		return mote_errf(err, MOTE_STATUS_SNAP_CORRUPT, "MSR section is missing or malformed");
	uint32_t n = ms->size / (uint32_t)sizeof(m[0]);
	memcpy(m, ms->data, ms->size);
	uint32_t seen = 0;
	char what[96];
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = 0;
		while (k < SNAPCHECK_MSRS && snapcheck_msrs[k] != m[i].index)
			k++;
		if (k == SNAPCHECK_MSRS || m[i].reserved) {
			snprintf(what, sizeof(what), "MSR %#x", m[i].index);
			return corrupt(err, what);
		}
		if (seen & (1u << k)) {
			snprintf(what, sizeof(what), "MSR %#x twice", m[i].index);
			return corrupt(err, what);
		}
		seen |= 1u << k;
		uint64_t v = m[i].data;
		int ok = 1;
		switch (m[i].index) {
		case MSR_IA32_SYSENTER_CS:
		case MSR_IA32_SYSENTER_ESP:
		case MSR_IA32_SYSENTER_EIP:
		case MSR_KERNEL_GS_BASE: ok = v == 0; break;
		case MSR_IA32_CR_PAT: ok = v == PAT_DEFAULT; break;
		case MSR_IA32_MISC_ENABLE: ok = (v & ~MISC_ENABLE_ALLOWED) == 0; break;
		case MSR_STAR: ok = v == STAR_VALUE; break;
		case MSR_LSTAR:
		case MSR_CSTAR: ok = v >= sg->kernel_lo && v < sg->kernel_hi; break;
		case MSR_SYSCALL_MASK: ok = v == SYSCALL_MASK; break;
		case MSR_FS_BASE:
		case MSR_GS_BASE: ok = canonical(v); break;
		case MSR_TSC_AUX: ok = v <= 0xffffffffull; break;
		default: break; /* the TSC: any value */
		}
		if (!ok) {
			snprintf(what, sizeof(what), "MSR %#x = %#llx", m[i].index, (unsigned long long)v);
			return corrupt(err, what);
		}
	}
	/* What mote-vmm always saves (the others are left out where this KVM does not know them). */
	static const uint32_t required[] = {MSR_STAR, MSR_LSTAR, MSR_SYSCALL_MASK, MSR_IA32_TSC};
	for (size_t r = 0; r < sizeof(required) / sizeof(required[0]); r++) {
		uint32_t k = 0;
		while (snapcheck_msrs[k] != required[r])
			k++;
		if (!(seen & (1u << k))) {
			snprintf(what, sizeof(what), "MSR section without MSR %#x", required[r]);
			return corrupt(err, what);
		}
	}
	return 0;
}

static int check_events(const struct snap_parsed *p, struct mote_err *err)
{
	if (!snap_find(p, SNAP_SEC_EVENTS))
		return 0;
	const void *data =
	    sized_section(p, SNAP_SEC_EVENTS, sizeof(struct kvm_vcpu_events), 0, "events", err);
	if (!data)
		return -1;
	struct kvm_vcpu_events e;
	memcpy(&e, data, sizeof(e));
	const uint32_t known = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |
			       KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM |
			       KVM_VCPUEVENT_VALID_PAYLOAD | KVM_VCPUEVENT_VALID_TRIPLE_FAULT;
	if (e.exception.injected || e.exception.pending || e.exception_has_payload)
		return corrupt(err, "an exception is pending");
	if (e.interrupt.injected || e.nmi.injected || e.nmi.pending)
		return corrupt(err, "an interrupt or NMI is pending");
	if (e.smi.smm || e.smi.pending || e.smi.smm_inside_nmi || e.smi.latched_init)
		return corrupt(err, "system management mode");
	if (e.triple_fault.pending)
		return corrupt(err, "a triple fault is pending");
	if (e.flags & ~known)
		return corrupt(err, "vCPU event flags KVM does not define");
	return 0;
}

static int check_debugregs(const struct snap_parsed *p, struct mote_err *err)
{
	if (!snap_find(p, SNAP_SEC_DEBUGREGS))
		return 0;
	const void *data =
	    sized_section(p, SNAP_SEC_DEBUGREGS, sizeof(struct kvm_debugregs), 0, "debug registers", err);
	if (!data)
		return -1;
	struct kvm_debugregs d;
	memcpy(&d, data, sizeof(d));
	if ((d.dr7 & 0x20ffull) || d.flags)
		return corrupt(err, "a hardware breakpoint is enabled");
	return 0;
}

static int check_xstate(const struct snap_parsed *p, uint64_t host_xcr0, uint32_t host_xsave_size,
			struct mote_err *err)
{
	/* XCR0: mote enables x87, SSE, AVX and AVX-512 state where the host has them, nothing else. */
	const uint64_t mote_xcr0 = 0xe7;
	if (snap_find(p, SNAP_SEC_XCRS)) {
		const void *data = sized_section(p, SNAP_SEC_XCRS, sizeof(struct kvm_xcrs), 0, "XCR0", err);
		if (!data)
			return -1;
		struct kvm_xcrs x;
		memcpy(&x, data, sizeof(x));
		if (x.nr_xcrs > 1 || x.flags || (x.nr_xcrs == 1 && x.xcrs[0].xcr != 0))
			return corrupt(err, "extended control registers other than XCR0");
		if (x.nr_xcrs == 1 &&
		    (!(x.xcrs[0].value & 1) || (x.xcrs[0].value & ~(mote_xcr0 & host_xcr0))))
			return mote_errf(
			    err, MOTE_STATUS_SNAP_INCOMPATIBLE,
			    "snapshot's XCR0 %#llx enables state this host or mote does not (%#llx)",
			    (unsigned long long)x.xcrs[0].value, (unsigned long long)(mote_xcr0 & host_xcr0));
	}
	const struct snap_section *xs = snap_find(p, SNAP_SEC_XSAVE);
	if (!xs || xs->size < sizeof(struct kvm_xsave))
		return mote_errf(err, MOTE_STATUS_SNAP_CORRUPT, "XSAVE section is missing or malformed");
	if (xs->size > host_xsave_size)
		return mote_errf(err, MOTE_STATUS_SNAP_INCOMPATIBLE,
				 "snapshot needs a %u-byte XSAVE area, this host's KVM has %u bytes",
				 xs->size, host_xsave_size);
	uint64_t xstate_bv, xcomp_bv;
	memcpy(&xstate_bv, (const uint8_t *)xs->data + 512, 8);
	memcpy(&xcomp_bv, (const uint8_t *)xs->data + 520, 8);
	if (xcomp_bv)
		return corrupt(err, "a compacted XSAVE area");
	if (xstate_bv & ~host_xcr0)
		return mote_errf(err, MOTE_STATUS_SNAP_INCOMPATIBLE,
				 "snapshot's XSAVE area holds state components %#llx this host lacks",
				 (unsigned long long)(xstate_bv & ~host_xcr0));
	return 0;
}

int snapcheck_vcpu(const struct snap_parsed *p, const struct snap_guest *sg,
		   const struct kvm_cpuid_entry2 *host, uint32_t nhost, uint32_t host_xsave_size,
		   struct mote_err *err)
{
	uint64_t host_xcr0;
	if (check_cpuid(p, host, nhost, &host_xcr0, err) < 0 ||
	    check_xstate(p, host_xcr0, host_xsave_size, err) < 0)
		return -1;
	const void *sregs = sized_section(p, SNAP_SEC_SREGS, sizeof(struct kvm_sregs), 1, "sregs", err);
	const void *regs =
	    sregs ? sized_section(p, SNAP_SEC_REGS, sizeof(struct kvm_regs), 1, "regs", err) : NULL;
	if (!regs)
		return -1;
	struct kvm_sregs s;
	struct kvm_regs r;
	memcpy(&s, sregs, sizeof(s));
	memcpy(&r, regs, sizeof(r));
	if (check_sregs(&s, err) < 0 || check_regs(&r, err) < 0 || check_msrs(p, sg, err) < 0 ||
	    check_events(p, err) < 0 || check_debugregs(p, err) < 0)
		return -1;
	return 0;
}

/* ---- Boot info ---------------------------------------------------------- */

int snapcheck_boot_info(const struct mote_boot_info *bi, struct mote_err *err)
{
	if (bi->magic != MOTE_BOOT_MAGIC || bi->abi_version != MOTE_ABI_VERSION)
		return mote_errf(err, MOTE_STATUS_SNAP_CORRUPT, "memory holds no boot-info block");
	const struct mote_clock *c = &bi->clock;
	if (c->tsc_shift > 63 || c->tsc_mult == 0)
		return mote_errf(err, MOTE_STATUS_SNAP_CORRUPT, "impossible guest clock");
	if (c->generation == UINT64_MAX)
		return mote_errf(
		    err, MOTE_STATUS_SNAP_CORRUPT,
		    "clock generation %llu cannot be bumped (a clone would look like the original)",
		    (unsigned long long)c->generation);
	return 0;
}

uint64_t snapcheck_monotonic_at(const struct mote_clock *c, uint64_t tsc)
{
	uint64_t delta = tsc > c->anchor_tsc ? tsc - c->anchor_tsc : 0;
	return c->anchor_monotonic_ns + (uint64_t)(((unsigned __int128)delta * c->tsc_mult) >> c->tsc_shift);
}
