/* Guest kernel boot: read the boot info, set up memory, clocks, randomness and files, start the program. */
#include <mote/abi.h>

#include "attach.h"
#include "clock.h"
#include "exec.h"
#include "console.h"
#include "fd.h"
#include "hypercall.h"
#include "klib.h"
#include "linux.h"
#include "loader.h"
#include "mm.h"
#include "proc.h"
#include "random.h"
#include "sched.h"
#include "tty.h"
#include "vfs.h"

void klib_set_debug(int on);
void kmain(struct mote_boot_info *bi) __attribute__((noreturn));
void enter_program(uint64_t entry, uint64_t sp) __attribute__((noreturn));

/* Enter the program's first working directory (mote-vmm --cwd), or end the VM saying why not. */
static void set_first_cwd(const char *path)
{
	static char msg[320];
	struct vfs_node *n;
	int r = vfs_lookup(vfs_cwd(), path, VFS_FOLLOW, &n);
	if (r < 0 || !vfs_is_dir(n)) {
		ksnprintf(msg, sizeof(msg), "working directory %s: %s in the rootfs", path,
			  r < 0 ? "no such directory" : "not a directory");
		hypercall_exit(MOTE_EXIT_LOAD_ERROR, MOTE_LOAD_BAD_CWD, msg, 0, 0);
	}
	vfs_set_cwd(n);
}

void kmain(struct mote_boot_info *bi)
{
	if (bi->magic != MOTE_BOOT_MAGIC || bi->abi_version != MOTE_ABI_VERSION)
		kpanic("boot info magic %#x version %u, expected %#x version %u", bi->magic, bi->abi_version,
		       MOTE_BOOT_MAGIC, MOTE_ABI_VERSION);
	klib_set_debug((bi->flags & MOTE_BOOT_FLAG_DEBUG) != 0);
	console_init(bi);
	tty_init(bi);
	clock_init(bi);
	random_init(bi);
	mm_init(bi);
	sched_init(bi);
	proc_init(bi);

	const void *rootfs = 0;
	uint64_t rootfs_size = 0;
	for (uint32_t i = 0; i < bi->nregions; i++)
		if (bi->regions[i].type == MOTE_MEM_ROOTFS) {
			rootfs = (const void *)(uintptr_t)bi->regions[i].gpa;
			rootfs_size = bi->regions[i].size;
		}
	const char *exec_path = (const char *)(uintptr_t)bi->exec_path;
	kdebug("boot: exec_path %#lx argc %u rootfs %p size %lu", bi->exec_path, bi->argc, rootfs,
	       rootfs_size);
	int r = vfs_init(rootfs, rootfs_size, exec_path);
	if (r < 0)
		hypercall_exit(
		    MOTE_EXIT_LOAD_ERROR, MOTE_LOAD_BAD_ROOTFS,
		    r == -EINVAL
			? "rootfs image: not a valid cpio newc archive"
			: "rootfs image: the guest kernel is out of memory unpacking it (raise --mem)",
		    0, 0);
	if (bi->cwd)
		set_first_cwd((const char *)(uintptr_t)bi->cwd);
	fd_init();
	attach_init(bi);
	exec_init(bi);

	uint64_t sp;
	uint64_t entry = loader_load_program(bi, &sp);
	kdebug("program %s loaded at [%#lx, %#lx), entry %#lx", exec_path, bi->prog_start, bi->prog_end,
	       entry);
	enter_program(entry, sp);
}
