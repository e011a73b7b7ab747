/* The syscall dispatcher: Linux x86-64 syscall numbers to the guest kernel's handlers. */
#include <stdint.h>

#include "attach.h"
#include "epoll.h"
#include "event.h"
#include "exec.h"
#include "fd.h"
#include "futex.h"
#include "klib.h"
#include "linux.h"
#include "mm.h"
#include "poll.h"
#include "proc.h"
#include "sched.h"
#include "sig.h"
#include "thread.h"

typedef long (*syscall_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

struct syscall_entry {
	syscall_fn fn;
	const char *name;
};

#define SC(nr, fn) [nr] = {(syscall_fn)(void (*)(void))(fn), #fn}
#define NSYSCALLS 450

static long sys_getresuid(uint64_t a, uint64_t b, uint64_t c)
{
	uint32_t zero = 0;
	uint64_t ptrs[3] = {a, b, c};
	for (int i = 0; i < 3; i++) {
		if (!mm_user_range_ok(ptrs[i], 4))
			return -EFAULT;
		memcpy((void *)(uintptr_t)ptrs[i], &zero, 4);
	}
	return 0;
}

static long sys_rseq_unsupported(void)
{
	return -ENOSYS;
}

static const struct syscall_entry table[NSYSCALLS] = {
    SC(0, sys_read),
    SC(1, sys_write),
    SC(2, sys_open),
    SC(3, sys_close),
    SC(4, sys_stat),
    SC(5, sys_fstat),
    SC(6, sys_lstat),
    SC(7, sys_poll),
    SC(8, sys_lseek),
    SC(9, sys_mmap),
    SC(10, sys_mprotect),
    SC(11, sys_munmap),
    SC(12, sys_brk),
    SC(13, sys_rt_sigaction),
    SC(14, sys_rt_sigprocmask),
    SC(15, sys_rt_sigreturn),
    SC(16, sys_ioctl),
    SC(17, sys_pread64),
    SC(18, sys_pwrite64),
    SC(19, sys_readv),
    SC(20, sys_writev),
    SC(21, sys_access),
    SC(22, sys_pipe),
    SC(24, sys_sched_yield),
    SC(25, sys_mremap),
    SC(26, sys_zero), /* msync */
    SC(28, sys_madvise),
    SC(32, sys_dup),
    SC(33, sys_dup2),
    SC(34, sys_pause),
    SC(35, sys_nanosleep),
    SC(36, sys_getitimer),
    SC(37, sys_alarm),
    SC(38, sys_setitimer),
    SC(39, sys_getpid),
    SC(56, sys_clone),
    SC(57, sys_no_process), /* fork */
    SC(58, sys_no_process), /* vfork */
    SC(59, sys_execve),
    SC(60, sys_exit),
    SC(61, sys_wait4),
    SC(62, sys_kill),
    SC(63, sys_uname),
    SC(72, sys_fcntl),
    SC(73, sys_zero), /* flock */
    SC(74, sys_fsync),
    SC(75, sys_fdatasync),
    SC(76, sys_truncate),
    SC(77, sys_ftruncate),
    SC(79, sys_getcwd),
    SC(80, sys_chdir),
    SC(81, sys_fchdir),
    SC(82, sys_rename),
    SC(83, sys_mkdir),
    SC(84, sys_rmdir),
    SC(86, sys_link),
    SC(87, sys_unlink),
    SC(88, sys_symlink),
    SC(89, sys_readlink),
    SC(90, sys_chmod),
    SC(91, sys_fchmod),
    SC(92, sys_chown),
    SC(93, sys_fchown),
    SC(94, sys_lchown),
    SC(95, sys_umask),
    SC(96, sys_gettimeofday),
    SC(97, sys_getrlimit),
    SC(98, sys_getrusage),
    SC(99, sys_sysinfo),
    SC(100, sys_times),
    SC(102, sys_getuid),
    SC(104, sys_ids_zero), /* getgid */
    SC(105, sys_ids_zero), /* setuid */
    SC(106, sys_ids_zero), /* setgid */
    SC(107, sys_ids_zero), /* geteuid */
    SC(108, sys_ids_zero), /* getegid */
    SC(109, sys_setpgid),
    SC(110, sys_getppid),
    SC(111, sys_getpgrp),
    SC(112, sys_setsid),
    SC(115, sys_ids_zero), /* getgroups: none */
    SC(116, sys_ids_zero), /* setgroups */
    SC(117, sys_ids_zero), /* setresuid */
    SC(118, sys_getresuid),
    SC(119, sys_ids_zero),  /* setresgid */
    SC(120, sys_getresuid), /* getresgid */
    SC(121, sys_getpgid),
    SC(124, sys_getsid),
    SC(127, sys_rt_sigpending),
    SC(128, sys_rt_sigtimedwait),
    SC(130, sys_rt_sigsuspend),
    SC(131, sys_sigaltstack),
    SC(140, sys_ids_zero), /* getpriority */
    SC(141, sys_ids_zero), /* setpriority */
    SC(149, sys_zero),	   /* mlock */
    SC(150, sys_zero),	   /* munlock */
    SC(151, sys_zero),	   /* mlockall */
    SC(152, sys_zero),	   /* munlockall */
    SC(157, sys_prctl),
    SC(158, sys_arch_prctl),
    SC(160, sys_setrlimit),
    SC(162, sys_sync),
    SC(186, sys_gettid),
    SC(200, sys_tkill),
    SC(201, sys_time),
    SC(202, sys_futex),
    SC(203, sys_sched_setaffinity),
    SC(204, sys_sched_getaffinity),
    SC(217, sys_getdents64),
    SC(218, sys_set_tid_address),
    SC(221, sys_zero), /* fadvise64 */
    SC(228, sys_clock_gettime),
    SC(229, sys_clock_getres),
    SC(230, sys_clock_nanosleep),
    SC(231, sys_exit_group),
    SC(234, sys_tgkill),
    SC(257, sys_openat),
    SC(258, sys_mkdirat),
    SC(260, sys_fchownat),
    SC(262, sys_newfstatat),
    SC(263, sys_unlinkat),
    SC(264, sys_renameat),
    SC(265, sys_linkat),
    SC(266, sys_symlinkat),
    SC(267, sys_readlinkat),
    SC(268, sys_fchmodat),
    SC(269, sys_faccessat),
    SC(271, sys_ppoll),
    SC(273, sys_set_robust_list),
    SC(274, sys_get_robust_list),
    SC(280, sys_utimensat),
    SC(292, sys_dup3),
    SC(293, sys_pipe2),
    SC(302, sys_prlimit64),
    SC(309, sys_getcpu),
    SC(316, sys_renameat2),
    SC(318, sys_getrandom),
    SC(322, sys_execveat),
    SC(332, sys_statx),
    SC(334, sys_rseq_unsupported),
    SC(435, sys_clone3),
    SC(439, sys_faccessat2),
    SC(23, sys_select),
    SC(40, sys_sendfile),
    SC(78, sys_getdents),
    SC(85, sys_creat),
    SC(132, sys_utime),
    SC(133, sys_mknod),
    SC(137, sys_statfs),
    SC(138, sys_fstatfs),
    SC(188, sys_xattr_unsupported), /* setxattr .. removexattr: 188-199 */
    SC(189, sys_xattr_unsupported),
    SC(190, sys_xattr_unsupported),
    SC(191, sys_xattr_unsupported),
    SC(192, sys_xattr_unsupported),
    SC(193, sys_xattr_unsupported),
    SC(194, sys_xattr_unsupported),
    SC(195, sys_xattr_unsupported),
    SC(196, sys_xattr_unsupported),
    SC(197, sys_xattr_unsupported),
    SC(198, sys_xattr_unsupported),
    SC(199, sys_xattr_unsupported),
    SC(235, sys_utimes),
    SC(259, sys_mknodat),
    SC(270, sys_pselect6),
    SC(285, sys_fallocate),
    SC(295, sys_preadv),
    SC(296, sys_pwritev),
    SC(326, sys_copy_file_range),
    SC(436, sys_close_range),
    SC(213, sys_epoll_create),
    SC(232, sys_epoll_wait),
    SC(233, sys_epoll_ctl),
    SC(281, sys_epoll_pwait),
    SC(291, sys_epoll_create1),
    SC(441, sys_epoll_pwait2),
    SC(283, sys_timerfd_create),
    SC(286, sys_timerfd_settime),
    SC(287, sys_timerfd_gettime),
    SC(284, sys_eventfd),
    SC(290, sys_eventfd2),
};

static uint64_t reported_unknown[(NSYSCALLS + 63) / 64 + 1];

long syscall_dispatch(struct syscall_frame *f);
long syscall_dispatch(struct syscall_frame *f)
{
	uint64_t nr = f->nr;
	attach_refresh(); /* after a restore: take what the monitor attached before the program sees anything
			   */
	if (nr < NSYSCALLS && table[nr].fn) {
		long r = table[nr].fn(f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
		sched_preempt_if_pending();
		if (sig_exit_work(r))
			sig_syscall_exit(f, r); /* handlers to run, a restart to decide */
		return r;
	}
	if (kdebug_enabled()) {
		uint64_t slot = nr < NSYSCALLS ? nr : NSYSCALLS;
		if (!(reported_unknown[slot / 64] >> (slot % 64) & 1)) {
			reported_unknown[slot / 64] |= 1ull << (slot % 64);
			kdebug("unknown syscall %lu (args %#lx %#lx %#lx) returns -ENOSYS", nr, f->rdi,
			       f->rsi, f->rdx);
		}
	}
	return -ENOSYS;
}

/* The monitor preempted the program (preempt_entry in entry.S); `r` is its register file. */
void preempt_dispatch(struct user_regs *r);
void preempt_dispatch(struct user_regs *r)
{
	sched_preempt();
	sig_preempt_exit(r);
}
