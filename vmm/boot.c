/* Guest boot: load the guest kernel ELF, map the rootfs, write the boot-info block. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "file.h"
#include "guest.h"
#include "layout.h"
#include "status.h"

/* Read the whole regular file open at `fd` (`path` names it in errors; at most 64 MiB). */
static int read_whole(int fd, const char *path, uint8_t **data, size_t *size, int status,
		      struct mote_err *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (64 << 20))
		return mote_errf(err, status, "%s: not a regular file of at most 64 MiB", path);
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (!buf || got != (size_t)st.st_size) {
		free(buf);
		return mote_errf(err, status, "cannot read %s", path);
	}
	*data = buf;
	*size = got;
	return 0;
}

int guest_open_input(const char *path, const char *what, int status, struct mote_err *err)
{
	struct stat st;
	int fd = mote_open_regular(path, &st);
	if (fd == -2)
		return mote_errf(err, status, "%s %s: %s, not a regular file", what, path,
				 mote_file_kind(st.st_mode));
	if (fd < 0)
		return mote_errnof(err, errno == ENOENT ? MOTE_STATUS_NOT_FOUND : status, errno,
				   "cannot open %s %s", what, path);
	return fd;
}

int guest_read_kernel(struct guest *g, int fd, const char *path, struct mote_err *err)
{
	if (read_whole(fd, path, &g->kernel_image, &g->kernel_size, MOTE_STATUS_BAD_KERNEL, err) < 0)
		return -1;
	struct mote_elf_info *k = &g->kernel;
	int r = mote_elf_parse(g->kernel_image, g->kernel_size, k);
	if (r != MOTE_ELF_OK)
		return mote_errf(err, MOTE_STATUS_BAD_KERNEL, "guest kernel %s: %s", path,
				 mote_elf_strerror(r));
	if (k->is_pie)
		return mote_errf(err, MOTE_STATUS_BAD_KERNEL, "guest kernel %s: must be ET_EXEC", path);
	if (!k->has_abi_note)
		return mote_errf(err, MOTE_STATUS_BAD_KERNEL, "guest kernel %s: no MOTE ABI note", path);
	if (k->abi_version != MOTE_ABI_VERSION)
		return mote_errf(err, MOTE_STATUS_BAD_KERNEL,
				 "guest kernel %s: ABI version %u, monitor speaks %u", path, k->abi_version,
				 MOTE_ABI_VERSION);
	if (k->lo < LAYOUT_KERNEL_START || k->hi > LAYOUT_KERNEL_END)
		return mote_errf(err, MOTE_STATUS_BAD_KERNEL,
				 "guest kernel %s: segments [%#llx, %#llx) outside [%#llx, %#llx)", path,
				 (unsigned long long)k->lo, (unsigned long long)k->hi, LAYOUT_KERNEL_START,
				 LAYOUT_KERNEL_END);
	if (k->syscall_entry < k->lo || k->syscall_entry >= k->hi)
		return mote_errf(err, MOTE_STATUS_BAD_KERNEL, "guest kernel %s: no valid syscall-entry note",
				 path);
	return 0;
}

static int load_kernel(struct guest *g, struct mote_err *err)
{
	const char *path = g->cfg->kernel_path;
	int fd = guest_open_input(path, "guest kernel", MOTE_STATUS_BAD_KERNEL, err);
	if (fd < 0)
		return -1;
	int r = guest_read_kernel(g, fd, path, err);
	close(fd);
	if (r < 0)
		return -1;
	const struct mote_elf_info *k = &g->kernel;
	for (unsigned i = 0; i < k->nloads; i++) {
		const struct mote_elf_load *ld = &k->loads[i];
		uint8_t *dst = vm_guest_ptr(&g->vm, ld->vaddr, ld->memsz, 0);
		if (!dst)
			return mote_errf(err, MOTE_STATUS_BAD_KERNEL,
					 "guest kernel %s: segment outside memory", path);
		memcpy(dst, g->kernel_image + ld->offset, ld->filesz);
	}
	return 0;
}

static int map_rootfs(struct guest *g, struct mote_err *err)
{
	const char *path = g->cfg->rootfs_path;
	int fd = guest_open_input(path, "rootfs image", MOTE_STATUS_ROOTFS, err);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size == 0) {
		close(fd);
		return mote_errf(err, MOTE_STATUS_ROOTFS, "rootfs image %s: empty", path);
	}
	int r = vm_map_rootfs(&g->vm, fd, 0, (uint64_t)st.st_size, err);
	close(fd);
	return r;
}

/* Copies strings into the boot strings area; returns the gpa or 0 when full. */
struct string_area {
	struct vm *vm;
	uint64_t next;
};

static uint64_t area_put(struct string_area *a, const void *data, size_t len)
{
	uint64_t at = (a->next + 7) & ~7ull;
	if (len > LAYOUT_STRINGS_END || at > LAYOUT_STRINGS_END - len)
		return 0;
	memcpy(a->vm->mem + at, data, len);
	a->next = at + len;
	return at;
}

static uint64_t area_put_vector(struct string_area *a, int n, char **strs)
{
	uint64_t vec = area_put(a, "", 0);
	uint64_t *tmp = calloc((size_t)n + 1, sizeof(uint64_t));
	if (!tmp)
		return 0;
	for (int i = 0; i < n; i++) {
		tmp[i] = area_put(a, strs[i], strlen(strs[i]) + 1);
		if (!tmp[i]) {
			free(tmp);
			return 0;
		}
	}
	vec = area_put(a, tmp, ((size_t)n + 1) * sizeof(uint64_t));
	free(tmp);
	return vec;
}

static void add_region(struct mote_boot_info *bi, uint64_t gpa, uint64_t size, uint32_t type)
{
	if (bi->nregions < MOTE_MEM_REGIONS_MAX && size)
		bi->regions[bi->nregions++] =
		    (struct mote_mem_region){.gpa = gpa, .size = size, .type = type};
}

uint64_t guest_host_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void guest_clock_rate(struct mote_clock *c, uint64_t tsc_khz)
{
	c->tsc_khz = tsc_khz;
	c->tsc_shift = 32;
	c->tsc_mult = (1000000ull << 32) / tsc_khz;
}

_Static_assert(sizeof(struct mote_boot_info) <= LAYOUT_STRINGS - LAYOUT_BOOT_INFO,
	       "the boot-info block overlaps the strings area");

static int write_boot_info(struct guest *g, struct mote_err *err)
{
	const struct guest_config *cfg = g->cfg;
	struct mote_boot_info *bi = (struct mote_boot_info *)(g->vm.mem + LAYOUT_BOOT_INFO);
	g->boot_info = bi;
	memset(bi, 0, sizeof(*bi));
	bi->magic = MOTE_BOOT_MAGIC;
	bi->abi_version = MOTE_ABI_VERSION;
	bi->flags = cfg->debug ? MOTE_BOOT_FLAG_DEBUG : 0;
	bi->mem_size = g->vm.mem_size;

	uint64_t kernel_end = (g->kernel.hi + 4095) & ~4095ull;
	add_region(bi, 0, LAYOUT_MONITOR_END, MOTE_MEM_MONITOR);
	add_region(bi, LAYOUT_KERNEL_START, kernel_end - LAYOUT_KERNEL_START, MOTE_MEM_KERNEL);
	add_region(bi, kernel_end, g->stack_guard - kernel_end, MOTE_MEM_RAM);
	add_region(bi, g->stack_guard, 4096, MOTE_MEM_GUARD);
	add_region(bi, g->stack_guard + 4096, g->stack_top - g->stack_guard - 4096, MOTE_MEM_STACK);
	if (g->vm.rootfs)
		add_region(bi, g->vm.rootfs_gpa, g->vm.rootfs_size, MOTE_MEM_ROOTFS);

	guest_clock_rate(&bi->clock, g->vm.tsc_khz);
	console_describe_stdio(cfg, bi->stdio);

	if (getentropy(bi->seed, sizeof(bi->seed)) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "getentropy");

	struct string_area a = {.vm = &g->vm, .next = LAYOUT_STRINGS};
	bi->exec_path = area_put(&a, cfg->exec_path, strlen(cfg->exec_path) + 1);
	bi->cmdline = area_put(&a, cfg->debug ? "debug" : "", cfg->debug ? 6 : 1);
	bi->argc = (uint32_t)cfg->argc;
	bi->envc = (uint32_t)cfg->envc;
	bi->argv = area_put_vector(&a, cfg->argc, cfg->argv);
	bi->envp = area_put_vector(&a, cfg->envc, cfg->envp);
	if (cfg->cwd)
		bi->cwd = area_put(&a, cfg->cwd, strlen(cfg->cwd) + 1);
	if (!bi->exec_path || !bi->cmdline || !bi->argv || !bi->envp || (cfg->cwd && !bi->cwd))
		return mote_errf(err, MOTE_STATUS_USAGE, "arguments and environment exceed %llu KiB",
				 (LAYOUT_STRINGS_END - LAYOUT_STRINGS) >> 10);
	return 0;
}

/* Anchor the guest clock just before the first instruction runs. */
static int anchor_clock(struct guest *g, struct mote_err *err)
{
	struct mote_boot_info *bi = g->boot_info;
	uint64_t tsc;
	if (vm_read_guest_tsc(&g->vm, &tsc) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot read the guest TSC");
	bi->clock.anchor_tsc = tsc;
	bi->clock.anchor_realtime_ns = (int64_t)guest_host_ns(CLOCK_REALTIME);
	bi->clock.anchor_monotonic_ns = guest_host_ns(CLOCK_MONOTONIC);
	return 0;
}

int guest_boot(struct guest *g, const struct guest_config *cfg, struct mote_err *err)
{
	memset(g, 0, sizeof(*g));
	g->vm.kvm_fd = g->vm.vm_fd = g->vm.vcpu_fd = -1;
	g->kernel_fd = -1;
	g->cfg = cfg;
	uint64_t mem = cfg->mem_size;
	if (mem < LAYOUT_MEM_MIN || mem > LAYOUT_MEM_MAX || mem % LAYOUT_HUGE_PAGE)
		return mote_errf(err, MOTE_STATUS_USAGE, "--mem must be a multiple of 2 MiB in [16M, 32G]");
	uint64_t stack_size = mem >= (128ull << 20) ? (8ull << 20) : mem / 16;
	g->stack_top = mem;
	g->stack_guard = mem - stack_size - 4096;

	if (vm_create(&g->vm, mem, -1, 0, err) < 0)
		return -1;
	if (load_kernel(g, err) < 0)
		return -1;
	if (cfg->rootfs_path && map_rootfs(g, err) < 0)
		return -1;
	if (write_boot_info(g, err) < 0)
		return -1;
	if (vm_setup_x86_64(&g->vm, g->kernel.entry, 0, LAYOUT_BOOT_INFO, g->kernel.syscall_entry,
			    g->stack_guard, err) < 0)
		return -1;
	g->boot_info->hwcap = g->vm.hwcap;
	return anchor_clock(g, err);
}
