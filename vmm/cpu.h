/* x86-64 architectural constants mote-vmm uses: control register, EFER and RFLAGS bits, MSR numbers. */
#ifndef MOTE_VMM_CPU_H
#define MOTE_VMM_CPU_H

#define CR0_PE 0x1ull
#define CR0_MP 0x2ull
#define CR0_TS 0x8ull
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
#define EFER_NXE 0x800ull

/* RFLAGS: bit 1 is always set; IOPL=3 lets CPL3 code use `out` for hypercalls. */
#define RFLAGS_FIXED 0x2ull
#define RFLAGS_IOPL3 0x3000ull
#define RFLAGS_GUEST (RFLAGS_FIXED | RFLAGS_IOPL3)
/* Bits a CPL3 program can have in RFLAGS: CF PF AF ZF SF TF IF DF OF IOPL NT RF AC ID (not VM, VIF, VIP). */
#define RFLAGS_USER_BITS 0x254fd7ull
/* Flags cleared on syscall entry: TF, IF, DF, NT, AC. */
#define SYSCALL_MASK 0x44700ull

#define MSR_IA32_TSC 0x10u
#define MSR_IA32_MISC_ENABLE 0x1a0u
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_CSTAR 0xc0000083u
#define MSR_SYSCALL_MASK 0xc0000084u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_IA32_SYSENTER_CS 0x174u
#define MSR_IA32_SYSENTER_ESP 0x175u
#define MSR_IA32_SYSENTER_EIP 0x176u
#define MSR_IA32_CR_PAT 0x277u
#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u
#define MSR_TSC_AUX 0xc0000103u

/* The power-on PAT, which a CPL3 guest cannot change. */
#define PAT_DEFAULT 0x0007040600070406ull
/* MISC_ENABLE bits KVM or mote set: fast strings (mote), BTS and PEBS unavailable (KVM's reset value). */
#define MISC_ENABLE_ALLOWED 0x1801ull
/* The local APIC's architectural base address (no in-kernel APIC is created). */
#define APIC_BASE_DEFAULT 0xfee00000ull
/* APIC base flags: BSP, x2APIC enabled, APIC enabled. */
#define APIC_BASE_FLAGS 0xd00ull

#endif /* MOTE_VMM_CPU_H */
