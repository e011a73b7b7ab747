/* A KVM virtual machine with one vCPU and its guest memory, as mote-vmm uses it. */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "layout.h"
#include "status.h"

int vm_create(struct vm *vm, uint64_t mem_size, int mem_fd, uint64_t mem_offset, struct mote_err *err)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = -1;
	/* Opened now: under the seccomp filter no existing file can be opened. Without it, no page is
	 * known to be unbacked (vm_backed_pages returns NULL). */
	vm->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot open /dev/kvm");
	int api = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION)
		return mote_errf(err, MOTE_STATUS_HOST, "/dev/kvm speaks API version %d, need %d", api,
				 KVM_API_VERSION);
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "KVM_CREATE_VM");

	int anon = mem_fd < 0 ? MAP_ANONYMOUS : 0;
	vm->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE | anon, mem_fd,
		       anon ? 0 : (off_t)mem_offset);
	vm->mem_is_file = !anon;
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot map %llu bytes of guest memory",
				   (unsigned long long)mem_size);
	}
	vm->mem_size = mem_size;
	/*
	 * A snapshot's memory file: no readahead. A clone's first touch of a page
	 * that was zero (a hole) at the snapshot would otherwise read megabytes of
	 * holes around it into the page cache; the pages a clone needs are
	 * already cached when the snapshot is restored often.
	 */
	if (!anon && madvise(vm->mem, mem_size, MADV_RANDOM) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "madvise of the guest memory");
	struct kvm_userspace_memory_region region = {
	    .slot = 0,
	    .guest_phys_addr = 0,
	    .memory_size = mem_size,
	    .userspace_addr = (uintptr_t)vm->mem,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "KVM_SET_USER_MEMORY_REGION");

	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "KVM_CREATE_VCPU");
	int run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "KVM_GET_VCPU_MMAP_SIZE");
	vm->run_size = (size_t)run_size;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED) {
		vm->run = NULL;
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot map the vCPU run area");
	}
	int khz = ioctl(vm->vcpu_fd, KVM_GET_TSC_KHZ, 0);
	if (khz <= 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "KVM_GET_TSC_KHZ");
	vm->tsc_khz = (uint64_t)khz;
	return 0;
}

int vm_map_rootfs(struct vm *vm, int fd, uint64_t offset, uint64_t size, struct mote_err *err)
{
	uint64_t map_size = (size + 4095) & ~4095ull;
	if (size == 0 || size > LAYOUT_ROOTFS_MAX)
		return mote_errf(err, MOTE_STATUS_ROOTFS, "rootfs image size %llu is out of range",
				 (unsigned long long)size);
	int readonly = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0;
	int prot = readonly ? PROT_READ : PROT_READ | PROT_WRITE;
	void *p = mmap(NULL, map_size, prot, MAP_PRIVATE, fd, (off_t)offset);
	if (p == MAP_FAILED)
		return mote_errnof(err, MOTE_STATUS_ROOTFS, errno, "cannot map the rootfs image");
	vm->rootfs = p;
	vm->rootfs_size = size;
	vm->rootfs_map_size = map_size;
	vm->rootfs_gpa = (vm->mem_size + LAYOUT_HUGE_PAGE - 1) & ~(LAYOUT_HUGE_PAGE - 1);
	struct kvm_userspace_memory_region region = {
	    .slot = 1,
	    .flags = readonly ? KVM_MEM_READONLY : 0,
	    .guest_phys_addr = vm->rootfs_gpa,
	    .memory_size = map_size,
	    .userspace_addr = (uintptr_t)p,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "KVM_SET_USER_MEMORY_REGION (rootfs)");
	return 0;
}

/* Add memory slot `slot` for [gpa, gpa + size) backed by `host`. */
static int add_slot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, const void *host, int readonly,
		    const char *what, struct mote_err *err)
{
	struct kvm_userspace_memory_region region = {
	    .slot = slot,
	    .flags = readonly ? KVM_MEM_READONLY : 0,
	    .guest_phys_addr = gpa,
	    .memory_size = size,
	    .userspace_addr = (uintptr_t)host,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "KVM_SET_USER_MEMORY_REGION (%s)", what);
	return 0;
}

int vm_map_bundle(struct vm *vm, int fd, uint64_t size, struct mote_err *err)
{
	uint64_t map_size = (size + 4095) & ~4095ull;
	if (size == 0 || size > LAYOUT_BUNDLE_WINDOW)
		return mote_errf(err, MOTE_STATUS_ATTACH_BUNDLE, "bundle image size %llu is out of range",
				 (unsigned long long)size);
	int readonly = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0;
	int prot = readonly ? PROT_READ : PROT_READ | PROT_WRITE;
	void *p = mmap(NULL, map_size, prot, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return mote_errnof(err, MOTE_STATUS_ATTACH_BUNDLE, errno, "cannot map the bundle image");
	vm->bundle = p;
	vm->bundle_size = size;
	vm->bundle_map_size = map_size;
	return add_slot(vm, 2, LAYOUT_BUNDLE_GPA, map_size, p, readonly, "bundle", err);
}

int vm_map_invoke(struct vm *vm, int fd, uint64_t size, struct mote_err *err)
{
	if (size == 0 || size % 4096 || size > LAYOUT_INVOKE_WINDOW)
		return mote_errf(err, MOTE_STATUS_ATTACH_INVOKE, "invoke region size %llu is out of range",
				 (unsigned long long)size);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return mote_errnof(err, MOTE_STATUS_ATTACH_INVOKE, errno,
				   "cannot map the invoke region read-write");
	vm->invoke = p;
	vm->invoke_size = size;
	return add_slot(vm, 3, LAYOUT_INVOKE_GPA, size, p, 0, "invoke region", err);
}

void vm_destroy(struct vm *vm)
{
	if (vm->run)
		munmap(vm->run, vm->run_size);
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	if (vm->rootfs)
		munmap((void *)vm->rootfs, vm->rootfs_map_size);
	if (vm->bundle)
		munmap((void *)vm->bundle, vm->bundle_map_size);
	if (vm->invoke)
		munmap(vm->invoke, vm->invoke_size);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->pagemap_fd >= 0)
		close(vm->pagemap_fd);
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = vm->pagemap_fd = -1;
}

void *vm_guest_ptr(const struct vm *vm, uint64_t gpa, uint64_t len, int allow_rootfs)
{
	if (gpa < vm->mem_size && len <= vm->mem_size - gpa)
		return vm->mem + gpa;
	if (allow_rootfs && vm->rootfs && gpa >= vm->rootfs_gpa) {
		uint64_t off = gpa - vm->rootfs_gpa;
		if (off < vm->rootfs_size && len <= vm->rootfs_size - off)
			return (void *)(vm->rootfs + off);
	}
	if (allow_rootfs && vm->bundle && gpa >= LAYOUT_BUNDLE_GPA) {
		uint64_t off = gpa - LAYOUT_BUNDLE_GPA;
		if (off < vm->bundle_size && len <= vm->bundle_size - off)
			return (void *)(vm->bundle + off);
	}
	return NULL;
}

/* One byte per page of guest RAM from /proc/self/pagemap: `keep(entry)`; NULL when pagemap is unreadable. */
static uint8_t *pagemap_scan(const struct vm *vm, int (*keep)(uint64_t entry))
{
	uint64_t pages = vm->mem_size / 4096ull;
	int fd = vm->pagemap_fd;
	uint8_t *out = fd >= 0 ? malloc(pages) : NULL;
	if (!out)
		return NULL;
	uint64_t buf[4096];
	uint64_t first = (uintptr_t)vm->mem / 4096ull;
	for (uint64_t i = 0; i < pages;) {
		uint64_t n = pages - i < 4096 ? pages - i : 4096;
		ssize_t got = pread(fd, buf, n * 8, (off_t)((first + i) * 8));
		if (got != (ssize_t)(n * 8)) {
			free(out);
			return NULL;
		}
		for (uint64_t k = 0; k < n; k++)
			out[i + k] = (uint8_t)keep(buf[k]);
		i += n;
	}
	return out;
}

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_FILE (1ull << 61) /* a file page or shared anonymous memory */

static int entry_backed(uint64_t e)
{
	return (e & (PM_PRESENT | PM_SWAPPED)) != 0;
}

/* In a MAP_PRIVATE file mapping, a written page became a private anonymous copy; swap holds only those. */
static int entry_written(uint64_t e)
{
	return ((e & PM_PRESENT) && !(e & PM_FILE)) || (e & PM_SWAPPED);
}

uint8_t *vm_backed_pages(const struct vm *vm)
{
	return pagemap_scan(vm, entry_backed);
}

uint8_t *vm_written_pages(const struct vm *vm)
{
	return pagemap_scan(vm, entry_written);
}
