/* execve and execveat: replace the one process's program with a static ELF from the VFS. */
#include "exec.h"

#include "fd.h"
#include "hypercall.h"
#include "klib.h"
#include "linux.h"
#include "loader.h"
#include "mm.h"
#include "proc.h"
#include "sched.h"
#include "uaccess.h"
#include "vfs.h"

#define MAX_ARG_STRLEN (32 * PAGE_SIZE) /* Linux: one argument or environment string */
#define ARG_LIMIT_MIN (128 * 1024ull)	/* Linux: the total is at least this, else 1/4 of the stack */

void enter_program(uint64_t entry, uint64_t sp) __attribute__((noreturn));

static struct mote_boot_info *boot;

void exec_init(struct mote_boot_info *bi)
{
	boot = bi;
}

/* Bytes that argv and envp may take together (strings and pointers), as Linux counts them. */
static uint64_t arg_limit(void)
{
	uint64_t stack = 0;
	for (uint32_t i = 0; i < boot->nregions; i++)
		if (boot->regions[i].type == MOTE_MEM_STACK)
			stack = boot->regions[i].size;
	return MAX(stack / 4, ARG_LIMIT_MIN);
}

/* argv and envp copied into one kernel buffer. */
struct exec_args {
	char *buf; /* holds the pointer arrays, then the strings */
	uint32_t argc, envc;
	const char **argv, **envp;
};

/* Count the strings of the NULL-terminated program vector `vec` (0: none) and add their bytes to *bytes. */
static long measure_vector(uint64_t vec, uint32_t *count, uint64_t *bytes, uint64_t limit)
{
	*count = 0;
	for (uint64_t i = 0; vec; i++) {
		uint64_t ptr;
		if (user_copy_from(&ptr, vec + i * 8, 8) < 0)
			return -EFAULT;
		if (!ptr)
			return 0;
		long n = user_strnlen(ptr, MAX_ARG_STRLEN);
		if (n < 0)
			return n == -ENAMETOOLONG ? -E2BIG : n;
		*bytes += (uint64_t)n + 1 + 8;
		if (*bytes > limit || *count == UINT32_MAX - 1)
			return -E2BIG;
		(*count)++;
	}
	return 0;
}

static void copy_vector(uint64_t vec, uint32_t count, const char **out, char **strings)
{
	for (uint32_t i = 0; i < count; i++) {
		uint64_t ptr;
		memcpy(&ptr, (const void *)(uintptr_t)(vec + i * 8), 8);
		size_t n = strlen((const char *)(uintptr_t)ptr) + 1;
		memcpy(*strings, (const void *)(uintptr_t)ptr, n);
		out[i] = *strings;
		*strings += n;
	}
}

/* Copy argv and envp (checked) into kernel memory; an empty argv becomes {""} as on Linux. */
static long copy_args(uint64_t argv, uint64_t envp, struct exec_args *a)
{
	uint64_t bytes = 0, limit = arg_limit();
	long r = measure_vector(argv, &a->argc, &bytes, limit);
	if (r == 0)
		r = measure_vector(envp, &a->envc, &bytes, limit);
	if (r < 0)
		return r;
	uint32_t argc = a->argc ? a->argc : 1;
	uint64_t vectors = ((uint64_t)argc + a->envc + 2) * sizeof(char *);
	a->buf = kmalloc(vectors + bytes + 1);
	if (!a->buf)
		return -ENOMEM;
	a->argv = (const char **)(void *)a->buf;
	a->envp = a->argv + argc + 1;
	char *strings = a->buf + vectors;
	if (a->argc) {
		copy_vector(argv, a->argc, a->argv, &strings);
	} else {
		*strings = 0;
		a->argv[0] = strings++;
		a->argc = 1;
	}
	copy_vector(envp, a->envc, a->envp, &strings);
	return 0;
}

/* The x87 and SSE control state a new program starts with (the ABI's initial values), and no TLS. */
static void reset_cpu_state(void)
{
	static const uint32_t mxcsr = 0x1f80;
	__asm__ volatile("fninit\n\tldmxcsr %0" : : "m"(mxcsr));
	__asm__ volatile("wrfsbase %0\n\twrgsbase %0" : : "r"(0ull));
}

static long do_exec(uint64_t dirfd, uint64_t upath, uint64_t argv, uint64_t envp, uint64_t flags)
{
	static char path[VFS_PATH_MAX], execfn[VFS_PATH_MAX + 32], exe[VFS_PATH_MAX];
	static struct loader_program prog;
	static char msg[320];
	if (flags & ~(uint64_t)(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -EINVAL;
	long r = user_strncpy(path, upath, sizeof(path));
	if (r < 0)
		return r;
	struct vfs_node *node;
	if (!path[0]) {
		if (!(flags & AT_EMPTY_PATH))
			return -ENOENT;
		if ((r = fd_node((int)dirfd, &node)) < 0)
			return r;
		if (!node)
			return -EACCES; /* a pipe */
		ksnprintf(execfn, sizeof(execfn), "/dev/fd/%d", (int)dirfd);
		ksnprintf(exe, sizeof(exe), "%s", execfn); /* the node's own path is not known */
	} else {
		struct vfs_node *base;
		if ((r = fd_path_base((int)dirfd, path, &base)) < 0)
			return r;
		if ((r = vfs_lookup(base, path, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : VFS_FOLLOW, &node)) < 0)
			return r;
		if (vfs_is_symlink(node))
			return -ELOOP;
		if (path[0] == '/' || (int)dirfd == AT_FDCWD)
			ksnprintf(execfn, sizeof(execfn), "%s", path);
		else
			ksnprintf(execfn, sizeof(execfn), "/dev/fd/%d/%s", (int)dirfd, path);
		if (vfs_real_path(base, path, exe, sizeof(exe)) < 0)
			ksnprintf(exe, sizeof(exe), "%s", path);
	}
	if (!vfs_is_reg(node) || !(node->mode & 0111))
		return -EACCES;
	prog.path = execfn;
	prog.image = node->data;
	prog.size = node->size;
	int code = loader_check(&prog, msg, sizeof(msg));
	if (code) {
		kdebug("execve: %s", msg);
		return -ENOEXEC;
	}
	const struct mote_elf_info *e = &prog.elf;
	if (!mm_exec_fits(e->lo, e->hi - e->lo, e->is_pie)) {
		kdebug("execve: program %s does not fit in guest memory", path);
		return -ENOMEM;
	}
	struct exec_args a = {0};
	if ((r = copy_args(argv, envp, &a)) < 0)
		return r;

	/* The point of no return: the old program goes. The file is held: closing its fd must not free it. */
	vfs_get(node);
	sched_exec_reset(); /* the other threads go too, as on Linux */
	mm_release_program();
	fd_close_on_exec();
	proc_exec_reset(exe);
	if (vfs_set_exe(exe) < 0)
		kdebug("execve: /proc/self/exe not updated (out of memory)");
	uint64_t sp;
	uint64_t entry =
	    loader_start(boot, &prog, a.argc, a.argv, a.envc, a.envp, &sp, &code, msg, sizeof(msg));
	if (!entry)
		hypercall_exit(MOTE_EXIT_LOAD_ERROR, code, msg, 0, 0);
	kfree(a.buf); /* the strings are on the new stack */
	/* The running program's file stays held: a crash report reads its symbols (bi->prog_image). */
	static struct vfs_node *running;
	if (running)
		vfs_put(running);
	running = node;
	kdebug("execve: program %s loaded at [%#lx, %#lx), entry %#lx", execfn, boot->prog_start,
	       boot->prog_end, entry);
	reset_cpu_state();
	enter_program(entry, sp);
}

long sys_execve(uint64_t path, uint64_t argv, uint64_t envp)
{
	return do_exec((uint64_t)(int64_t)AT_FDCWD, path, argv, envp, 0);
}

long sys_execveat(uint64_t dirfd, uint64_t path, uint64_t argv, uint64_t envp, uint64_t flags)
{
	return do_exec(dirfd, path, argv, envp, flags);
}
