/* Build-time generator of mote-vmm's seccomp allowlist: compiles the policy with libseccomp, prints C. */
/*
 * Usage: seccomp_policy plain|asan > FILE.c
 *
 * The policy is written here once, as libseccomp rules; libseccomp compiles
 * it to a classic BPF program (seccomp_export_bpf) that this program prints
 * as a C array, with the x86-64 system call names the SIGSYS report needs.
 * mote-vmm (static musl, no libseccomp) installs the array with seccomp(2)
 * (vmm/seccomp_filter.c). `plain` is the policy of the production mote-vmm;
 * `asan` is the slightly wider one of the ASan/UBSan test build, whose
 * sanitizer runtime must still print its reports and run LeakSanitizer at
 * exit. The output depends only on this file and the libseccomp version:
 * generating twice gives the same bytes. docs/seccomp.md explains each entry.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "seccomp_filter.h"

#define MAX_NR SECCOMP_FILTER_NR_MAX

static scmp_filter_ctx ctx;
static int allowed[MAX_NR];  /* 1: allowed whatever the arguments, 2: only some arguments */
static int errno_nr[MAX_NR]; /* answered with an errno instead of a kill */

static void die(const char *what, int r)
{
	fprintf(stderr, "seccomp_policy: %s: %s\n", what, strerror(r < 0 ? -r : r));
	exit(1);
}

static int nr_of(const char *name)
{
	int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);
	if (nr < 0 || nr >= MAX_NR) {
		fprintf(stderr, "seccomp_policy: unknown x86-64 system call %s\n", name);
		exit(1);
	}
	return nr;
}

/* Allow `name` whatever its arguments. */
static void allow(const char *name)
{
	int nr = nr_of(name);
	int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	if (r < 0)
		die(name, r);
	allowed[nr] = 1;
}

/* Allow `name` when its arguments pass all `n` comparisons (one rule: the comparisons are ANDed). */
static void allow_if(const char *name, unsigned n, const struct scmp_arg_cmp *cmp)
{
	int nr = nr_of(name);
	int r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);
	if (r < 0)
		die(name, r);
	if (!allowed[nr])
		allowed[nr] = 2;
}

/* Allow `name` when argument `arg` equals `value`. */
static void allow_arg_eq(const char *name, unsigned arg, uint64_t value)
{
	struct scmp_arg_cmp c = SCMP_CMP(arg, SCMP_CMP_EQ, value);
	allow_if(name, 1, &c);
}

/* Allow `name` when argument `arg` has none of the bits `bits`. */
static void allow_arg_without(const char *name, unsigned arg, uint64_t bits)
{
	struct scmp_arg_cmp c = SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, bits, 0);
	allow_if(name, 1, &c);
}

/* Answer `name` with -err instead of killing (a call libc tries and does without). */
static void refuse_errno(const char *name, int err)
{
	int nr = nr_of(name);
	int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO((uint32_t)err), nr, 0);
	if (r < 0)
		die(name, r);
	errno_nr[nr] = 1;
}

/*
 * ioctl: only these requests, on any descriptor. The request is compared
 * in its low 32 bits: the kernel takes it as an unsigned int, and musl's
 * ioctl(int fd, int req, ...) passes it sign-extended.
 */
static void allow_ioctls(void)
{
	static const unsigned long requests[] = {
	    KVM_RUN,		 /* the run loop; also stops the vCPU for a snapshot */
	    KVM_GET_REGS,	 /* snapshot, crash report */
	    KVM_GET_SREGS,	 /* snapshot, crash report */
	    KVM_GET_XSAVE,	 /* snapshot (KVMs without KVM_CAP_XSAVE2) */
	    KVM_GET_XSAVE2,	 /* snapshot */
	    KVM_GET_XCRS,	 /* snapshot */
	    KVM_GET_MSRS,	 /* snapshot (and its TSC read) */
	    KVM_GET_CPUID2,	 /* snapshot */
	    KVM_GET_VCPU_EVENTS, /* snapshot */
	    KVM_GET_DEBUGREGS,	 /* snapshot */
	    KVM_SET_REGS,	 /* preemption: the guest's rip moves to its preemption entry */
	};
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		struct scmp_arg_cmp c =
		    SCMP_CMP(1, SCMP_CMP_MASKED_EQ, 0xffffffffull, requests[i] & 0xffffffffull);
		allow_if("ioctl", 1, &c);
	}
}

static void plain_policy(void)
{
	allow_ioctls();
	/* The guest's console, mote-vmm's own lines (musl's stdio writes with writev), the doorbells. */
	allow("write");
	allow("writev");
	allow("read");
	/* Snapshot writer: memory and state files, guest pages through the pre-opened pagemap. */
	allow("pread64");
	allow("pwrite64");
	allow("ftruncate");
	allow("fdatasync");
	allow("fsync");
	allow("close");
	allow("fstat");
	allow("newfstatat"); /* glibc's stat */
	allow("stat");	     /* musl's */
	allow("link");
	allow("linkat");
	allow("rename");
	allow("renameat");
	allow("unlink");
	allow("unlinkat");
	/* Only new files (the snapshot's temporaries) and directories (to fsync the renames): no existing
	 * file can be opened for reading or writing. */
	const uint64_t new_file = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		       dir = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
	for (int large = 0; large < 2; large++) { /* musl adds O_LARGEFILE (the kernel's 0100000) */
		uint64_t l = large ? 0100000 : 0;
		allow_arg_eq("open", 1, new_file | l);
		allow_arg_eq("open", 1, dir | l);
		allow_arg_eq("openat", 2, new_file | l);
		allow_arg_eq("openat", 2, dir | l);
	}
	/* musl sets FD_CLOEXEC again after an O_CLOEXEC open (for kernels that ignored the flag). */
	allow_arg_eq("fcntl", 1, F_SETFD);
	/* The attach wait and the control channel after ATTACH. */
	allow("ppoll");
	allow("poll");
	allow("recvmsg");
	/* The LAYER answer on the control channel (musl's send() is sendto); mote-vmm has no other socket and
	 * may not create one. */
	allow("sendto");
	allow("sendmsg");
	/* Clock, sleeps (hc_sleep's 1 s cap, the console thread), entropy (hc_entropy, snapshot ids). */
	allow("clock_gettime");
	allow("gettimeofday");
	allow("nanosleep");
	allow("clock_nanosleep");
	allow("getrandom");
	/* Memory: malloc and thread stacks; never executable, never a file (files are mapped in setup). */
	allow_arg_without("mprotect", 2, PROT_EXEC);
	struct scmp_arg_cmp anon[] = {SCMP_CMP(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
				      SCMP_CMP(3, SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, MAP_ANONYMOUS)};
	allow_if("mmap", 2, anon);
	allow("munmap");
	allow("mremap");
	allow("madvise");
	allow("brk");
	/* Threads: the snapshot's commit thread (threads only, never a new process), mutexes, joins. */
	struct scmp_arg_cmp thread = SCMP_CMP(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
	allow_if("clone", 1, &thread);
	allow("futex");
	allow("set_robust_list");
	allow("exit");
	allow("exit_group");
	allow("gettid");
	allow("getpid");
	allow("getuid");
	/* Signals: handlers return; SIGALRM (--timeout) and SIGUSR1 (snapshot) are blocked around waits;
	 * a deliberate death (crash, timeout, deadlock, SIGSYS) resets the handler and raises the signal
	 * itself. */
	allow("rt_sigreturn");
	allow("restart_syscall"); /* a sleep or wait resumed after SIGSTOP/SIGCONT */
	allow("rt_sigprocmask");
	allow("rt_sigaction");
	struct scmp_arg_cmp core[] = {SCMP_CMP(0, SCMP_CMP_EQ, 0), SCMP_CMP(1, SCMP_CMP_EQ, RLIMIT_CORE)};
	allow_if("prlimit64", 2, core);
	static const int own_deaths[] = {SIGABRT, SIGSEGV, SIGALRM, SIGSYS, SIGXCPU};
	for (size_t i = 0; i < sizeof(own_deaths) / sizeof(own_deaths[0]); i++) {
		allow_arg_eq("tkill", 1, (uint64_t)own_deaths[i]);
		allow_arg_eq("tgkill", 2, (uint64_t)own_deaths[i]);
	}
	/* The console thread's preemption tick to the vCPU thread (musl's pthread_kill is tkill). */
	allow_arg_eq("tkill", 1, SIGVTALRM);
	allow_arg_eq("tgkill", 2, SIGVTALRM);
	/* `mote snapshot take` is answered with a queued SIGUSR1 (done) or SIGUSR2 (failed). */
	allow_arg_eq("rt_sigqueueinfo", 1, SIGUSR1);
	allow_arg_eq("rt_sigqueueinfo", 1, SIGUSR2);
}

/* What the ASan/UBSan runtime needs beyond the plain policy: reports, stack traces, LeakSanitizer. */
static void asan_extra(void)
{
	/* glibc's pthread_create tries clone3 first (its arguments cannot be filtered): ENOSYS makes it
	 * fall back to clone, which is filtered. */
	refuse_errno("clone3", ENOSYS);
	allow("rseq");
	/* Reports read /proc/self/maps and the binary for symbols; LeakSanitizer lists /proc/self/task. */
	struct scmp_arg_cmp read_only =
	    SCMP_CMP(2, SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY);
	allow_if("openat", 1, &read_only);
	read_only.arg = 1;
	allow_if("open", 1, &read_only);
	allow("getdents");
	allow("getdents64");
	allow("readlink");
	allow("lseek");
	allow("sigaltstack");
	allow("sched_yield");
	allow("getppid");
	allow("sched_getaffinity");
	allow("prctl");
	/* LeakSanitizer stops the world: a tracer task (CLONE_VM, no CLONE_THREAD) ptraces the threads. */
	allow_arg_eq("clone", 0, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED);
	allow("ptrace");
	allow("wait4");
	allow_arg_eq("kill", 1, SIGKILL);
	/* The sanitizers map their shadow and read files with mmap. */
	allow_arg_without("mmap", 2, PROT_EXEC);
}

int main(int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "plain") && strcmp(argv[1], "asan"))) {
		fprintf(stderr, "usage: seccomp_policy plain|asan > FILE.c\n");
		return 2;
	}
	int asan = !strcmp(argv[1], "asan");
	/* Anything not allowed traps: vmm/seccomp_filter.c's SIGSYS handler reports it and mote-vmm dies by
	 * SIGSYS. Another architecture (i386 int 0x80, x32) is killed outright. */
	ctx = seccomp_init(getenv("SECCOMP_POLICY_LOG") ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
	if (!ctx)
		die("seccomp_init", ENOMEM);
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		die("SCMP_FLTATR_ACT_BADARCH", r);
	plain_policy();
	if (asan)
		asan_extra();
	/* The hot path first: KVM_RUN's ioctl, then the console and sleeps. */
	seccomp_syscall_priority(ctx, nr_of("ioctl"), 255);
	seccomp_syscall_priority(ctx, nr_of("write"), 200);
	seccomp_syscall_priority(ctx, nr_of("writev"), 190);
	seccomp_syscall_priority(ctx, nr_of("nanosleep"), 180);
	seccomp_syscall_priority(ctx, nr_of("futex"), 170);

	FILE *tmp = tmpfile();
	if (!tmp)
		die("tmpfile", errno);
	r = seccomp_export_bpf(ctx, fileno(tmp));
	if (r < 0)
		die("seccomp_export_bpf", r);
	long size = lseek(fileno(tmp), 0, SEEK_END);
	if (size <= 0 || size % sizeof(struct sock_filter))
		die("seccomp_export_bpf output", EINVAL);
	struct sock_filter *prog = malloc((size_t)size);
	if (!prog || pread(fileno(tmp), prog, (size_t)size, 0) != size)
		die("reading the BPF program", errno);
	size_t len = (size_t)size / sizeof(struct sock_filter);

	unsigned nallowed = 0;
	for (int i = 0; i < MAX_NR; i++)
		nallowed += allowed[i] != 0;
	printf("/* Generated by vmm/gen/seccomp_policy.c (%s policy, libseccomp %u.%u.%u): do not edit. */\n",
	       argv[1], seccomp_version()->major, seccomp_version()->minor, seccomp_version()->micro);
	printf("#include \"seccomp_filter.h\"\n\n");
	printf("const char seccomp_filter_kind[] = \"%s\";\n", argv[1]);
	printf("const unsigned seccomp_filter_allowed = %u;\n", nallowed);
	printf("const unsigned seccomp_filter_len = %zu;\n", len);
	printf("const struct sock_filter seccomp_filter_prog[] = {\n");
	for (size_t i = 0; i < len; i++)
		printf("    {0x%04x, %u, %u, 0x%08x},\n", prog[i].code, prog[i].jt, prog[i].jf, prog[i].k);
	printf("};\n\n");
	printf("/* 1: allowed, 2: allowed with some arguments only, 3: answered with an errno. */\n");
	printf("const unsigned char seccomp_filter_rule[SECCOMP_FILTER_NR_MAX] = {");
	for (int i = 0, n = 0; i < MAX_NR; i++)
		if (allowed[i] || errno_nr[i])
			printf("%s[%d] = %d,", n++ % 8 ? " " : "\n    ", i, errno_nr[i] ? 3 : allowed[i]);
	printf("\n};\n\n");
	printf("const char *const seccomp_filter_names[SECCOMP_FILTER_NR_MAX] = {");
	for (int i = 0, n = 0; i < MAX_NR; i++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, i);
		if (name)
			printf("%s[%d] = \"%s\",", n++ % 4 ? " " : "\n    ", i, name);
		free(name);
	}
	printf("\n};\n");
	free(prog);
	fclose(tmp);
	seccomp_release(ctx);
	return 0;
}
