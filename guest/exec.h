/* execve and execveat: replace the one process's program with a static ELF from the VFS. */
#ifndef GUEST_EXEC_H
#define GUEST_EXEC_H

#include <stdint.h>

#include <mote/abi.h>

/* Remember the boot info (the stack region, the prog_* fields a crash report reads). MUST run before any
 * syscall. */
void exec_init(struct mote_boot_info *bi);

/*
 * Linux semantics as far as one process goes: argv and envp are copied in
 * first; errors before the point of no return are returned (ENOENT, ENOTDIR,
 * ELOOP, ENAMETOOLONG, EACCES: not a regular file or no execute bit,
 * ENOEXEC: not a static x86-64 ELF, E2BIG, ENOMEM, EFAULT, EINVAL, EBADF).
 * Then every program page is released, FD_CLOEXEC descriptors are closed,
 * handled signals reset to their default, /proc/self/exe updated and the new
 * program started with a fresh stack; a failure after that point ends the
 * guest with a load error. Success does not return.
 */
long sys_execve(uint64_t path, uint64_t argv, uint64_t envp);
long sys_execveat(uint64_t dirfd, uint64_t path, uint64_t argv, uint64_t envp, uint64_t flags);

#endif /* GUEST_EXEC_H */
