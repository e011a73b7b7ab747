/* kvm_floor: the bare KVM cold-start floor: one fresh VM, long mode at CPL3, one `out`, exit. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * Everything a cold start of any KVM guest must do here, and nothing more:
 * open /dev/kvm, create a VM with 64 MiB of memory and one vCPU, give it the
 * supported CPUID, enter 64-bit long mode at CPL3 with IOPL=3 and a TSS whose
 * I/O bitmap allows one port (PVM checks the bitmap even with IOPL=3), run a
 * single `out` instruction and exit once KVM reports it. Exits 0 on success;
 * on any failure prints one line and exits 1. mote-vmm's boot is measured
 * against this floor by bench/runner.
 *
 * Guest-physical layout (identity-mapped by one 2 MiB user page):
 *   0x1000 PML4  0x2000 PDPT  0x3000 PD  0x4000 GDT  0x5000 TSS + I/O bitmap
 *   0x8000 code  0x9000 stack top
 */

#define MEM_SIZE (64ull << 20)
#define GPA_PML4 0x1000ull
#define GPA_PDPT 0x2000ull
#define GPA_PD 0x3000ull
#define GPA_GDT 0x4000ull
#define GPA_TSS 0x5000ull
#define GPA_CODE 0x8000ull
#define GPA_STACK_TOP 0x9000ull

#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_US 0x4ull
#define PTE_PS 0x80ull

#define SEL_CODE0 0x08 /* 64-bit code, DPL0 (present for completeness; never used) */
#define SEL_DATA3 0x10 /* data, DPL3 */
#define SEL_CODE3 0x18 /* 64-bit code, DPL3 */
#define SEL_TSS 0x20   /* 16-byte system descriptor */

#define IOMAP_OFFSET 104u
#define TSS_LIMIT (IOMAP_OFFSET + 8192u) /* bitmap plus its 0xff terminator byte */

#define FLOOR_PORT 0x10

static void __attribute__((noreturn)) fail(const char *what)
{
	fprintf(stderr, "kvm_floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void xioctl(int fd, unsigned long req, void *arg, const char *what)
{
	if (ioctl(fd, req, arg) < 0)
		fail(what);
}

static struct kvm_cpuid2 *supported_cpuid(int kvm_fd)
{
	/* 128 first: enough for any current host (75 here), so no failed E2BIG probe (~0.35 ms under PVM). */
	for (unsigned n = 128; n <= 1024; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			fail("calloc");
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		if (errno != E2BIG)
			fail("KVM_GET_SUPPORTED_CPUID");
		free(c);
	}
	errno = E2BIG;
	fail("KVM_GET_SUPPORTED_CPUID");
}

/* Page tables, GDT, TSS with its I/O bitmap and the one-instruction program. */
static void write_guest_memory(uint8_t *mem)
{
	uint64_t *pml4 = (uint64_t *)(mem + GPA_PML4);
	uint64_t *pdpt = (uint64_t *)(mem + GPA_PDPT);
	uint64_t *pd = (uint64_t *)(mem + GPA_PD);
	pml4[0] = GPA_PDPT | PTE_P | PTE_RW | PTE_US;
	pdpt[0] = GPA_PD | PTE_P | PTE_RW | PTE_US;
	pd[0] = 0 | PTE_P | PTE_RW | PTE_US | PTE_PS;

	uint64_t *gdt = (uint64_t *)(mem + GPA_GDT);
	gdt[SEL_CODE0 / 8] = 0x00af9a000000ffffull; /* P, DPL0, code, L */
	gdt[SEL_DATA3 / 8] = 0x00cff2000000ffffull; /* P, DPL3, data, writable */
	gdt[SEL_CODE3 / 8] = 0x00affa000000ffffull; /* P, DPL3, code, L */
	uint64_t base = GPA_TSS, limit = TSS_LIMIT;
	gdt[SEL_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x8bull << 40) |
			   (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[SEL_TSS / 8 + 1] = base >> 32;

	uint8_t *tss = mem + GPA_TSS;
	tss[102] = IOMAP_OFFSET & 0xff; /* I/O map base, bytes 102-103 */
	tss[103] = IOMAP_OFFSET >> 8;
	uint8_t *iomap = tss + IOMAP_OFFSET;
	memset(iomap, 0xff, 8192 + 1); /* every port denied, then the terminator */
	iomap[FLOOR_PORT / 8] &= (uint8_t) ~(1u << (FLOOR_PORT % 8));

	uint8_t *code = mem + GPA_CODE;
	code[0] = 0xe6; /* out %al, $FLOOR_PORT */
	code[1] = FLOOR_PORT;
}

static struct kvm_segment segment(uint16_t sel, uint8_t type, int code)
{
	struct kvm_segment s = {
	    .base = 0,
	    .limit = 0xffffffff,
	    .selector = sel,
	    .type = type,
	    .present = 1,
	    .dpl = sel & 3,
	    .s = 1,
	    .g = 1,
	    .l = code ? 1 : 0,
	    .db = code ? 0 : 1,
	};
	return s;
}

static void enter_long_mode_cpl3(int vcpu_fd)
{
	struct kvm_sregs sregs;
	xioctl(vcpu_fd, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
	sregs.cr0 = 0x80000033ull; /* PG | NE | ET | MP | PE */
	sregs.cr3 = GPA_PML4;
	sregs.cr4 = 1ull << 5; /* PAE */
	sregs.efer = 0x500ull; /* LMA | LME */
	sregs.cs = segment(SEL_CODE3 | 3, 11, 1);
	sregs.ss = sregs.ds = sregs.es = sregs.fs = sregs.gs = segment(SEL_DATA3 | 3, 3, 0);
	memset(&sregs.tr, 0, sizeof(sregs.tr));
	sregs.tr.selector = SEL_TSS;
	sregs.tr.base = GPA_TSS;
	sregs.tr.limit = TSS_LIMIT;
	sregs.tr.type = 11; /* busy 64-bit TSS */
	sregs.tr.present = 1;
	memset(&sregs.ldt, 0, sizeof(sregs.ldt));
	sregs.ldt.type = 2;
	sregs.ldt.unusable = 1;
	sregs.gdt.base = GPA_GDT;
	sregs.gdt.limit = SEL_TSS + 16 - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	xioctl(vcpu_fd, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");

	struct kvm_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.rip = GPA_CODE;
	regs.rsp = GPA_STACK_TOP;
	regs.rflags = 0x3002; /* IOPL=3, reserved bit 1 */
	xioctl(vcpu_fd, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

int main(void)
{
	int kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		fail("open /dev/kvm");
	int vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0)
		fail("KVM_CREATE_VM");

	uint8_t *mem =
	    mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		fail("mmap guest memory");
	struct kvm_userspace_memory_region region = {
	    .slot = 0,
	    .guest_phys_addr = 0,
	    .memory_size = MEM_SIZE,
	    .userspace_addr = (uintptr_t)mem,
	};
	xioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");

	int vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
	if (vcpu_fd < 0)
		fail("KVM_CREATE_VCPU");
	int run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0)
		fail("KVM_GET_VCPU_MMAP_SIZE");
	struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
	if (run == MAP_FAILED)
		fail("mmap kvm_run");
	struct kvm_cpuid2 *cpuid = supported_cpuid(kvm_fd);
	xioctl(vcpu_fd, KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2");
	free(cpuid);

	write_guest_memory(mem);
	enter_long_mode_cpl3(vcpu_fd);

	for (;;) {
		if (ioctl(vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fail("KVM_RUN");
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == FLOOR_PORT &&
		    run->io.direction == KVM_EXIT_IO_OUT)
			return 0;
		if (run->exit_reason != KVM_EXIT_INTR) {
			fprintf(stderr, "kvm_floor: unexpected exit reason %u\n", run->exit_reason);
			return 1;
		}
	}
}
