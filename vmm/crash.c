/* Crash reports read from outside the guest: exit reason, registers, and who owned the faulting rip. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "guest.h"
#include "layout.h"
#include "sha256.h"

/*
 * A restored guest's kernel symbols, read only now that a crash needs them:
 * from the kernel given at restore (--kernel, or the one beside mote-vmm),
 * and only if it is the very file the snapshot's guest booted (same SHA-256).
 * Returns NULL when it is, else why there are no symbols.
 */
static const char *load_restored_kernel(struct guest *g)
{
	static const char *why; /* the answer of the first call */
	if (why || g->kernel_image)
		return why;
	if (g->kernel_fd < 0)
		return why = "no guest kernel file (--kernel) was given";
	struct mote_elf_info range = g->kernel;
	uint8_t id[MOTE_SHA256_SIZE];
	if (guest_read_kernel(g, g->kernel_fd, g->cfg->kernel_path, NULL) < 0) {
		why = "the guest kernel file cannot be read";
	} else {
		mote_sha256(g->kernel_image, g->kernel_size, id);
		if (memcmp(id, g->kernel_id, sizeof(id)) != 0)
			why = "the guest kernel file is not the one this snapshot booted";
		else if (g->kernel.lo != range.lo || g->kernel.hi != range.hi)
			why = "the guest kernel file does not match the snapshot's layout";
	}
	close(g->kernel_fd);
	g->kernel_fd = -1;
	if (why) {
		free(g->kernel_image);
		g->kernel_image = NULL;
		g->kernel = range;
	}
	return why;
}

/* Describe which image `addr` belongs to, with a symbol when one is known. */
static void describe_address(struct guest *g, uint64_t addr, char *out, size_t size)
{
	char sym[128];
	uint64_t off;
	const struct mote_boot_info *bi = g->boot_info;
	if (addr >= g->kernel.lo && addr < g->kernel.hi) {
		const char *no_symbols = g->kernel_image ? NULL : load_restored_kernel(g);
		if (g->kernel_image &&
		    mote_elf_symbolize(g->kernel_image, g->kernel_size, addr, sym, sizeof(sym), &off) == 0)
			snprintf(out, size, "in the guest kernel (%s+%#llx)", sym, (unsigned long long)off);
		else if (no_symbols)
			snprintf(out, size, "in the guest kernel (no symbols: %s)", no_symbols);
		else
			snprintf(out, size, "in the guest kernel");
		return;
	}
	uint64_t start = bi->prog_start, end = bi->prog_end, bias = bi->prog_bias;
	if (end > start && addr >= start && addr < end) {
		const void *image = vm_guest_ptr(&g->vm, bi->prog_image, bi->prog_image_size, 1);
		if (image &&
		    mote_elf_symbolize(image, bi->prog_image_size, addr - bias, sym, sizeof(sym), &off) == 0)
			snprintf(out, size, "in the program (%s+%#llx)", sym, (unsigned long long)off);
		else
			snprintf(out, size, "in the program");
		return;
	}
	snprintf(out, size, "outside the kernel and program images");
}

const char *guest_window_note(const struct guest *g, uint64_t gpa, int is_write)
{
	if (gpa >= LAYOUT_BUNDLE_GPA && gpa < LAYOUT_BUNDLE_GPA + LAYOUT_BUNDLE_WINDOW) {
		if (!g->vm.bundle)
			return " (the bundle window: no bundle attached)";
		if (gpa - LAYOUT_BUNDLE_GPA >= g->vm.bundle_map_size)
			return " (past the end of the attached bundle image)";
		return is_write ? " (a write to the read-only bundle image)" : "";
	}
	if (gpa >= LAYOUT_INVOKE_GPA && gpa < LAYOUT_INVOKE_GPA + LAYOUT_INVOKE_WINDOW) {
		if (!g->vm.invoke)
			return " (the invoke window: no invoke region attached)";
		if (gpa - LAYOUT_INVOKE_GPA >= g->vm.invoke_size)
			return " (past the end of the attached invoke region)";
	}
	return "";
}

static const char *likely_cause(struct guest *g, uint64_t cr2, uint64_t rsp)
{
	if (cr2 < 4096)
		return "page fault on the null page (null pointer dereference), or an exception other than a "
		       "page "
		       "fault (cr2 is not set then)";
	if (cr2 >= g->stack_guard && cr2 < g->stack_guard + 4096)
		return "page fault on the stack guard page (stack overflow)";
	if (cr2 >= LAYOUT_BUNDLE_GPA && cr2 < LAYOUT_BUNDLE_GPA + LAYOUT_BUNDLE_WINDOW)
		return "write to the read-only bundle window (/fn's image)";
	if (cr2 >= g->vm.mem_size &&
	    !(g->vm.rootfs && cr2 >= g->vm.rootfs_gpa && cr2 < g->vm.rootfs_gpa + g->vm.rootfs_map_size))
		return "page fault outside guest memory";
	if (g->vm.rootfs && cr2 >= g->vm.rootfs_gpa && cr2 < g->vm.rootfs_gpa + g->vm.rootfs_map_size)
		return "write to the read-only rootfs image";
	(void)rsp;
	return "exception (general protection, invalid opcode, divide error or similar)";
}

void guest_crash_report(struct guest *g, const char *reason)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	memset(&r, 0, sizeof(r));
	memset(&s, 0, sizeof(s));
	int have_regs = ioctl(g->vm.vcpu_fd, KVM_GET_REGS, &r) == 0;
	int have_sregs = ioctl(g->vm.vcpu_fd, KVM_GET_SREGS, &s) == 0;
	char where[256];

	fprintf(stderr, "mote-vmm: guest crashed: %s\n", reason);
	if (!have_regs || !have_sregs) {
		fprintf(stderr, "mote-vmm:   (vCPU registers unavailable)\n");
		return;
	}
	describe_address(g, r.rip, where, sizeof(where));
	if (strstr(reason, "triple fault") || strstr(reason, "shutdown"))
		fprintf(stderr, "mote-vmm:   likely cause: %s\n", likely_cause(g, s.cr2, r.rsp));
	fprintf(stderr, "mote-vmm:   rip 0x%016llx %s\n", (unsigned long long)r.rip, where);
	fprintf(stderr, "mote-vmm:   rsp 0x%016llx  cr2 0x%016llx  rflags %#llx  cs %#x\n",
		(unsigned long long)r.rsp, (unsigned long long)s.cr2, (unsigned long long)r.rflags,
		s.cs.selector);
	fprintf(stderr, "mote-vmm:   rax 0x%016llx  rbx 0x%016llx  rcx 0x%016llx  rdx 0x%016llx\n",
		(unsigned long long)r.rax, (unsigned long long)r.rbx, (unsigned long long)r.rcx,
		(unsigned long long)r.rdx);
	fprintf(stderr, "mote-vmm:   rsi 0x%016llx  rdi 0x%016llx  rbp 0x%016llx  r8  0x%016llx\n",
		(unsigned long long)r.rsi, (unsigned long long)r.rdi, (unsigned long long)r.rbp,
		(unsigned long long)r.r8);
	fprintf(stderr, "mote-vmm:   r9  0x%016llx  r10 0x%016llx  r11 0x%016llx  r12 0x%016llx\n",
		(unsigned long long)r.r9, (unsigned long long)r.r10, (unsigned long long)r.r11,
		(unsigned long long)r.r12);
	fprintf(stderr, "mote-vmm:   r13 0x%016llx  r14 0x%016llx  r15 0x%016llx  fs.base %#llx\n",
		(unsigned long long)r.r13, (unsigned long long)r.r14, (unsigned long long)r.r15,
		(unsigned long long)s.fs.base);
}
