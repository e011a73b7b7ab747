/* Thread syscalls: clone/clone3 of threads, thread exit, tids, robust futex lists. */
#ifndef GUEST_THREAD_H
#define GUEST_THREAD_H

#include <stdint.h>

/*
 * clone and clone3 of a thread (CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|
 * CLONE_THREAD, with CLONE_SYSVSEM, CLONE_SETTLS, CLONE_PARENT_SETTID,
 * CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID as pthreads and Go pass them).
 * A new process (no CLONE_THREAD: fork, vfork, posix_spawn) is ENOSYS.
 */
long sys_clone(uint64_t flags, uint64_t newsp, uint64_t parent_tid, uint64_t child_tid, uint64_t tls);
long sys_clone3(uint64_t uargs, uint64_t size);

/* End the calling thread (the program, when it is the last one). */
long sys_exit(uint64_t status);
long sys_gettid(void);
long sys_set_tid_address(uint64_t tidptr);
long sys_set_robust_list(uint64_t head, uint64_t len);
long sys_get_robust_list(uint64_t tid, uint64_t head_ptr, uint64_t len_ptr);

#endif /* GUEST_THREAD_H */
