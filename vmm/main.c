/* mote-vmm: the monitor. Boots the guest kernel in a KVM microVM and runs one program to completion. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <unistd.h>

#include "attach.h"
#include "console.h"
#include "debug_try.h"
#include "fds.h"
#include "file.h"
#include "guest.h"
#include "preempt.h"
#include "seccomp_filter.h"
#include "size.h"
#include "status.h"

/* Most descriptors --log-fd and --keep-fd may name. */
#define VMM_KEEP_FDS_MAX 16

static volatile sig_atomic_t timed_out, snapshot_wanted;
/*
 * The vCPU's run area, once it exists. A signal handler sets its
 * immediate_exit, so that a signal arriving just before KVM_RUN still makes
 * KVM_RUN return at once (EINTR) instead of running the guest until its next
 * exit, which a spinning guest may never make.
 */
static struct kvm_run *volatile signal_run;

static void kick_vcpu(void)
{
	struct kvm_run *run = signal_run;
	if (run)
		run->immediate_exit = 1;
}

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
	kick_vcpu();
}

/* Who asked for the snapshot with MOTE_SNAPSHOT_REQUEST (mote snapshot take), to be answered; 0: nobody. */
static volatile pid_t snapshot_requester;

static void on_usr1(int sig, siginfo_t *info, void *ctx)
{
	(void)sig;
	(void)ctx;
	if (info && info->si_code == SI_QUEUE && info->si_value.sival_int == MOTE_SNAPSHOT_REQUEST)
		snapshot_requester = info->si_pid;
	snapshot_wanted = 1;
	kick_vcpu();
}

/*
 * Report a snapshot that finished syncing in the background (or, with
 * `block`, wait for it first, as before a new snapshot or before mote-vmm
 * ends, so that it is never left half in place). A failure is one line; the
 * VM goes on.
 */
static void collect_snapshot(int block)
{
	struct mote_err err = {0};
	if (guest_snapshot_finish(block, &err) < 0)
		fprintf(stderr, "mote-vmm: %s; the VM goes on\n", err.msg);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: mote-vmm --kernel FILE [--rootfs IMAGE] [--mem SIZE] [--timeout SECONDS]\n"
		"                [--env K=V]... [--cwd DIR] [--debug] [--snapshot FILE]\n"
		"                [--exit-after-snapshot] [--log-fd N] [--keep-fd N]... -- PROGRAM [ARGS...]\n"
		"       mote-vmm --restore FILE [--kernel FILE] [--timeout SECONDS] [--debug]\n"
		"                [--snapshot FILE [--exit-after-snapshot]] [--log-fd N] [--keep-fd N]...\n"
		"                [--control FD] [--layer FILE [--layer-apply map|copy]]\n"
		"       (both forms also take --die-with-parent, and for debugging only\n"
		"       --no-seccomp and --debug-try ACTION)\n"
		"Boots the mote guest kernel in a KVM microVM and runs PROGRAM (a path inside\n"
		"the rootfs image, a cpio newc archive) with ARGS, or resumes a clone of a\n"
		"snapshot; exits with the program's status. With --snapshot, a write to the\n"
		"guest's /dev/mote/snapshot or a SIGUSR1 to mote-vmm saves the VM to FILE and\n"
		"FILE.mem (docs/snapshots.md). A restore reads --kernel (default: mote-kernel\n"
		"beside mote-vmm) only to symbolize a crash. --log-fd N sends mote-vmm's own\n"
		"lines to descriptor N instead of stderr, which then carries only the guest's\n"
		"stderr. Inherited descriptors other than 0-2, --log-fd and --keep-fd are closed\n"
		"(docs/run.md). With --control FD (a SOCK_SEQPACKET socket, kept), a\n"
		"supervisor attaches a function to the restored VM (docs/hypercalls.md); it may\n"
		"ask for a layer (the function loaded and initialised, as the pages that differ\n"
		"from the base), which --layer FILE restores over --restore's base\n"
		"(docs/snapshots.md, \"Layers\").\n"
		"Before the guest's first instruction a seccomp allowlist confines mote-vmm\n"
		"(docs/seccomp.md); --no-seccomp leaves it out, --debug-try ACTION (open:PATH,\n"
		"connect:IP:PORT, fork, syscall:NAME) attempts ACTION under it and says what\n"
		"happened.\n");
}

/* A descriptor number given on the command line (--log-fd, --keep-fd): open, or a usage error. */
static int fd_argument(const char *flag, const char *text, int *fd, struct mote_err *err)
{
	char *end;
	errno = 0;
	long n = strtol(text, &end, 10);
	if (!*text || *end || errno || n < 0 || n > 1 << 20)
		return mote_errf(err, MOTE_STATUS_USAGE, "%s: '%s' is not a file descriptor number", flag,
				 text);
	if (!vmm_fd_is_open((int)n))
		return mote_errf(err, MOTE_STATUS_USAGE, "%s %ld: not an open file descriptor", flag, n);
	*fd = (int)n;
	return 0;
}

static int start_timer(uint64_t ns, struct mote_err *err)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART: KVM_RUN and nanosleep return EINTR */
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {.it_value = {.tv_sec = (time_t)(ns / 1000000000ull),
					    .tv_usec = (suseconds_t)(ns % 1000000000ull / 1000)}};
	if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
		it.it_value.tv_usec = 1;
	if (setitimer(ITIMER_REAL, &it, NULL) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "setitimer");
	return 0;
}

static void __attribute__((noreturn)) timeout_exit(const struct guest_config *cfg)
{
	collect_snapshot(1);
	fprintf(stderr, "mote-vmm: guest timed out after %.3f s (--timeout); killed\n",
		(double)cfg->timeout_ns / 1e9);
	mote_die_by_signal(MOTE_SIGNAL_TIMEOUT);
}

/* Guest RAM pages backed in this process so far: the pages the guest touched (after a restore too). */
static uint64_t resident_pages(const struct vm *vm)
{
	uint64_t n = 0, pages = vm->mem_size / 4096;
	uint8_t *backed = vm_backed_pages(vm);
	for (uint64_t i = 0; backed && i < pages; i++)
		n += backed[i];
	free(backed);
	return n;
}

static int load_error_status(int code)
{
	switch (code) {
	case MOTE_LOAD_NOT_FOUND: return MOTE_STATUS_NOT_FOUND;
	case MOTE_LOAD_NOT_ELF: return MOTE_STATUS_NOT_ELF;
	case MOTE_LOAD_UNSUPPORTED: return MOTE_STATUS_UNSUPPORTED;
	case MOTE_LOAD_DYNAMIC: return MOTE_STATUS_DYNAMIC;
	case MOTE_LOAD_TRUNCATED: return MOTE_STATUS_TRUNCATED;
	case MOTE_LOAD_NO_MEMORY: return MOTE_STATUS_TOO_BIG;
	case MOTE_LOAD_BAD_ROOTFS: return MOTE_STATUS_ROOTFS;
	case MOTE_LOAD_BAD_CWD: return MOTE_STATUS_NOT_FOUND;
	default: return MOTE_STATUS_NOT_ELF;
	}
}

/* The --debug summary of a VM that ends: `how` it ended, then its hypercalls and exits. */
static void debug_summary(struct guest *g, const char *how)
{
	if (!g->cfg->debug)
		return;
	fprintf(stderr,
		"mote-vmm: %s after %llu console, %llu sleep, %llu entropy, %llu invoke hypercalls; "
		"%llu exits; %llu preemptions; %llu console drains while the guest ran; %llu guest pages "
		"resident\n",
		how, (unsigned long long)g->hypercall_count[MOTE_HC_CONSOLE],
		(unsigned long long)g->hypercall_count[MOTE_HC_SLEEP],
		(unsigned long long)g->hypercall_count[MOTE_HC_ENTROPY],
		(unsigned long long)g->hypercall_count[MOTE_HC_INVOKE], (unsigned long long)g->exit_count,
		(unsigned long long)preempt_count(), (unsigned long long)console_background_drains(),
		(unsigned long long)resident_pages(&g->vm));
}

/* The guest asked to end: turn its request into mote-vmm's own ending. */
static void __attribute__((noreturn)) finish(struct guest *g)
{
	collect_snapshot(1);
	const struct guest_exit *x = &guest_exit_state;
	switch (x->reason) {
	case MOTE_EXIT_NORMAL: {
		char how[32];
		snprintf(how, sizeof(how), "exit status %d", x->status & 0xff);
		debug_summary(g, how);
		vm_destroy(&g->vm);
		free(g->kernel_image);
		exit(x->status & 0xff);
	}
	case MOTE_EXIT_SIGNAL: {
		char what[160];
		snprintf(what, sizeof(what), "program killed by signal %d (%s)", x->status,
			 strsignal(x->status));
		fprintf(stderr, "mote-vmm: guest crashed: %s%s%s\n", what, x->msg[0] ? ": " : "", x->msg);
		fprintf(stderr, "mote-vmm:   at rip %#llx rsp %#llx (the program's syscall)\n",
			(unsigned long long)x->rip, (unsigned long long)x->rsp);
		mote_die_by_signal(x->status == SIGSEGV ? MOTE_SIGNAL_CRASH : MOTE_SIGNAL_ABORT);
	}
	case MOTE_EXIT_LOAD_ERROR:
		fprintf(stderr, "mote-vmm: %s\n",
			x->msg[0] ? x->msg : "guest kernel could not load the program");
		exit(load_error_status(x->status));
	case MOTE_EXIT_DEADLOCK:
		fprintf(stderr, "mote-vmm: guest stopped: %s\n",
			x->msg[0] ? x->msg : "deadlock: every thread of the program waits forever");
		mote_die_by_signal(MOTE_SIGNAL_DEADLOCK);
	case MOTE_EXIT_PANIC:
	default: {
		char what[600];
		snprintf(what, sizeof(what), "guest kernel panic: %s", x->msg[0] ? x->msg : "(no message)");
		guest_crash_report(g, what);
		mote_die_by_signal(MOTE_SIGNAL_CRASH);
	}
	}
}

static void __attribute__((noreturn)) crash(struct guest *g, const char *reason)
{
	collect_snapshot(1);
	guest_crash_report(g, reason);
	mote_die_by_signal(MOTE_SIGNAL_CRASH);
}

/*
 * Snapshot the guest (asked by the guest, or by SIGUSR1). A failure to write
 * never ends a running VM: it gets one line on stderr, and a guest that asked
 * sees its write fail with EIO. Only with --exit-after-snapshot, where the
 * snapshot is the point of the run, does it end mote-vmm (status 78).
 */
static void take_snapshot(struct guest *g, pid_t requester)
{
	if (!g->cfg->snapshot_path) {
		fprintf(stderr, "mote-vmm: SIGUSR1 ignored: this VM was started without --snapshot FILE\n");
		guest_snapshot_answer(requester, 0);
		return;
	}
	struct mote_err err = {0};
	collect_snapshot(1);
	console_drain(g); /* what the program wrote before is the original's output: no clone repeats it */
	if (guest_snapshot(g, g->cfg->exit_after_snapshot, requester, &err) == 0) {
		g->snapshot_call = NULL;
		if (g->cfg->exit_after_snapshot) {
			vm_destroy(&g->vm);
			free(g->kernel_image);
			exit(0);
		}
		return;
	}
	guest_snapshot_answer(requester, 0);
	if (g->cfg->exit_after_snapshot)
		mote_err_exit("mote-vmm", &err);
	fprintf(stderr, "mote-vmm: %s; the VM goes on\n", err.msg);
	guest_snapshot_failed(g);
}

/* The supervisor closed the control channel: the VM has no one to serve. */
static void __attribute__((noreturn)) hangup_exit(struct guest *g)
{
	collect_snapshot(1);
	fprintf(stderr, "mote-vmm: the supervisor closed the control channel; VM ended\n");
	debug_summary(g, "ended by the supervisor");
	vm_destroy(&g->vm);
	free(g->kernel_image);
	exit(MOTE_STATUS_HOST);
}

/*
 * The guest handed over a message (MOTE_HC_INVOKE) and waits for the next
 * request, with the vCPU stopped. --timeout, snapshot requests (the snapshot
 * completes the guest's `out` first, so a clone resumes right after the call)
 * and a hang-up of the control channel are served meanwhile. SIGALRM and
 * SIGUSR1 are blocked except inside the wait, so none is lost between the
 * look at their flags and the wait.
 */
static void invoke_wait(struct guest *g)
{
	sigset_t block, mask;
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigaddset(&block, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &block, &mask);
	for (;;) {
		if (timed_out)
			timeout_exit(g->cfg);
		collect_snapshot(0);
		if (snapshot_wanted) {
			snapshot_wanted = 0;
			pid_t requester = snapshot_requester;
			snapshot_requester = 0;
			take_snapshot(g, requester);
		}
		struct mote_err err = {0};
		int r = attach_wait_request(g, &mask, &err);
		if (r == ATTACH_WAIT_REQUEST)
			break;
		if (r == ATTACH_WAIT_HANGUP)
			hangup_exit(g);
		if (r < 0) {
			collect_snapshot(1);
			mote_err_exit("mote-vmm", &err);
		}
	}
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	int64_t ready = 0;
	memcpy((uint8_t *)g->chan.waiting + offsetof(struct mote_hc_invoke, ret), &ready, sizeof(ready));
	g->chan.waiting = NULL;
}

static void run_loop(struct guest *g)
{
	struct kvm_run *run = g->vm.run;
	char reason[160];
	signal_run = run;
	for (;;) {
		if (timed_out)
			timeout_exit(g->cfg);
		collect_snapshot(0);
		if (snapshot_wanted) {
			snapshot_wanted = 0;
			pid_t requester = snapshot_requester;
			snapshot_requester = 0;
			take_snapshot(g, requester);
		}
		if (preempt_take(g) < 0) {
			snprintf(reason, sizeof(reason), "preemption: cannot move the vCPU: %s",
				 strerror(errno));
			crash(g, reason);
		}
		console_vcpu_run_begin();
		int ran = ioctl(g->vm.vcpu_fd, KVM_RUN, 0);
		int run_errno = errno;
		console_vcpu_run_end();
		/* Every exit sends the program's output first: it comes before whatever the exit leads to. */
		console_drain(g);
		errno = run_errno;
		if (ran < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				run->immediate_exit = 0; /* the flags above say why */
				continue;
			}
			snprintf(reason, sizeof(reason), "KVM_RUN failed: %s", strerror(errno));
			crash(g, reason);
		}
		g->exit_count++;
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (run->io.direction == KVM_EXIT_IO_OUT && run->io.size == 4 && run->io.count == 1) {
				uint32_t arg;
				memcpy(&arg, (uint8_t *)run + run->io.data_offset, 4);
				switch (guest_hypercall(g, run->io.port, arg)) {
				case GUEST_EXITED: finish(g);
				case GUEST_SNAPSHOT: take_snapshot(g, 0); break;
				case GUEST_INVOKE: invoke_wait(g); break;
				case GUEST_LAYER:
					attach_take_layer(g);
					guest_ring_host(g);
					invoke_wait(g);
					break;
				case GUEST_WORKSET:
					attach_record_workset(g);
					guest_ring_host(g);
					invoke_wait(g);
					break;
				case GUEST_RESUME: break;
				}
				break;
			}
			snprintf(reason, sizeof(reason), "unexpected port I/O (%s port %#x, size %u)",
				 run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", run->io.port,
				 run->io.size);
			crash(g, reason);
		case KVM_EXIT_MMIO:
			snprintf(reason, sizeof(reason), "%s of unmapped guest-physical address %#llx%s",
				 run->mmio.is_write ? "write" : "read",
				 (unsigned long long)run->mmio.phys_addr,
				 guest_window_note(g, run->mmio.phys_addr, run->mmio.is_write));
			crash(g, reason);
		case KVM_EXIT_SHUTDOWN: crash(g, "triple fault (KVM_EXIT_SHUTDOWN)");
		case KVM_EXIT_HLT: crash(g, "guest halted (KVM_EXIT_HLT)");
		case KVM_EXIT_FAIL_ENTRY:
			snprintf(reason, sizeof(reason), "VM entry failed (reason %#llx)",
				 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			crash(g, reason);
		case KVM_EXIT_INTERNAL_ERROR:
			snprintf(reason, sizeof(reason), "KVM internal error (suberror %u)",
				 run->internal.suberror);
			crash(g, reason);
		case KVM_EXIT_INTR: break;
		default:
			snprintf(reason, sizeof(reason), "unexpected exit reason %u", run->exit_reason);
			crash(g, reason);
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"kernel", required_argument, NULL, 'k'},
	    {"rootfs", required_argument, NULL, 'r'},
	    {"mem", required_argument, NULL, 'm'},
	    {"timeout", required_argument, NULL, 't'},
	    {"env", required_argument, NULL, 'e'},
	    {"cwd", required_argument, NULL, 'C'},
	    {"debug", no_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {"snapshot", required_argument, NULL, 's'},
	    {"restore", required_argument, NULL, 'R'},
	    {"exit-after-snapshot", no_argument, NULL, 'x'},
	    {"control", required_argument, NULL, 'c'},
	    {"die-with-parent", no_argument, NULL, 'p'},
	    {"log-fd", required_argument, NULL, 'l'},
	    {"keep-fd", required_argument, NULL, 'K'},
	    {"no-seccomp", no_argument, NULL, 'S'},
	    {"debug-try", required_argument, NULL, 'T'},
	    {"layer", required_argument, NULL, 'L'},
	    {"layer-apply", required_argument, NULL, 'A'},
	    {NULL, 0, NULL, 0},
	};
	/* Before anything is opened: a closed 0-2 must not become /dev/kvm or a snapshot file. */
	if (vmm_fds_standard() < 0) {
		fprintf(stderr, "mote-vmm: cannot open /dev/null for a closed descriptor 0-2: %s\n",
			strerror(errno));
		return MOTE_STATUS_HOST;
	}
	struct guest_config cfg = {.mem_size = 64ull << 20,
				   .stdout_fd = STDOUT_FILENO,
				   .stderr_fd = STDERR_FILENO,
				   .control_fd = -1};
	struct mote_err err = {0};
	int keep[VMM_KEEP_FDS_MAX], nkeep = 0, log_fd = -1, no_seccomp = 0;
	const char *debug_try = NULL;
	static char **envp; /* static: stays reachable until exit */
	envp = calloc((size_t)argc + 1, sizeof(char *));
	if (!envp)
		return MOTE_STATUS_HOST;

	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'k': cfg.kernel_path = optarg; break;
		case 'r': cfg.rootfs_path = optarg; break;
		case 'm':
			if (mote_parse_size(optarg, &cfg.mem_size) < 0) {
				mote_errf(&err, MOTE_STATUS_USAGE, "--mem: '%s' is not a size like 64M or 1G",
					  optarg);
				mote_err_exit("mote-vmm", &err);
			}
			break;
		case 't':
			if (mote_parse_duration(optarg, &cfg.timeout_ns) < 0 || cfg.timeout_ns == 0) {
				mote_errf(&err, MOTE_STATUS_USAGE,
					  "--timeout: '%s' is not a positive number of seconds", optarg);
				mote_err_exit("mote-vmm", &err);
			}
			break;
		case 'e':
			if (!strchr(optarg, '=')) {
				mote_errf(&err, MOTE_STATUS_USAGE, "--env: '%s' is not K=V", optarg);
				mote_err_exit("mote-vmm", &err);
			}
			envp[cfg.envc++] = optarg;
			break;
		case 'C':
			if (optarg[0] != '/') {
				mote_errf(&err, MOTE_STATUS_USAGE, "--cwd: '%s' is not an absolute path",
					  optarg);
				mote_err_exit("mote-vmm", &err);
			}
			cfg.cwd = optarg;
			break;
		case 'd': cfg.debug = 1; break;
		case 's': cfg.snapshot_path = optarg; break;
		case 'R': cfg.restore_path = optarg; break;
		case 'L': cfg.layer_path = optarg; break;
		case 'A':
			if (strcmp(optarg, "map") != 0 && strcmp(optarg, "copy") != 0) {
				mote_errf(&err, MOTE_STATUS_USAGE,
					  "--layer-apply: '%s' is neither map nor copy", optarg);
				mote_err_exit("mote-vmm", &err);
			}
			cfg.layer_copy = strcmp(optarg, "copy") == 0;
			break;
		case 'x': cfg.exit_after_snapshot = 1; break;
		case 'c':
		case 'l':
		case 'K': {
			int fd = -1;
			const char *flag = c == 'l' ? "--log-fd" : c == 'c' ? "--control" : "--keep-fd";
			if (fd_argument(flag, optarg, &fd, &err) < 0 || nkeep == VMM_KEEP_FDS_MAX) {
				if (nkeep == VMM_KEEP_FDS_MAX)
					mote_errf(&err, MOTE_STATUS_USAGE, "%s: at most %d descriptors", flag,
						  VMM_KEEP_FDS_MAX);
				free(envp);
				mote_err_exit("mote-vmm", &err);
			}
			keep[nkeep++] = fd;
			if (c == 'l')
				log_fd = fd;
			if (c == 'c')
				cfg.control_fd = fd;
			break;
		}
		case 'p': cfg.die_with_parent = 1; break;
		case 'S': no_seccomp = 1; break;
		case 'T':
			if (debug_try_check(optarg, &err) < 0) {
				free(envp);
				mote_err_exit("mote-vmm", &err);
			}
			debug_try = optarg;
			break;
		case 'h':
			usage(stdout);
			free(envp);
			return 0;
		default:
			fprintf(stderr, "mote-vmm: unknown or incomplete option '%s' (see mote-vmm --help)\n",
				argv[optind - 1]);
			free(envp);
			return MOTE_STATUS_USAGE;
		}
	}
	const char *conflict = NULL;
	if (cfg.restore_path)
		conflict = cfg.rootfs_path ? "--rootfs" : cfg.envc ? "--env" : cfg.cwd ? "--cwd" : NULL;
	if (conflict) {
		mote_errf(&err, MOTE_STATUS_USAGE, "--restore: %s cannot be used (the snapshot holds it)",
			  conflict);
		free(envp);
		mote_err_exit("mote-vmm", &err);
	}
	if (cfg.die_with_parent) {
		/* Before anything else: a VM dies with its supervisor, also one that died before this prctl.
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1) {
			mote_errf(&err, MOTE_STATUS_HOST,
				  "--die-with-parent: the parent process is already gone");
			free(envp);
			mote_err_exit("mote-vmm", &err);
		}
	}
	if (cfg.layer_path && !cfg.restore_path) {
		mote_errf(&err, MOTE_STATUS_USAGE, "--layer needs --restore BASE (a layer lies on its base)");
		free(envp);
		mote_err_exit("mote-vmm", &err);
	}
	if (cfg.control_fd >= 0 && !cfg.restore_path) {
		mote_errf(&err, MOTE_STATUS_USAGE,
			  "--control needs --restore FILE (attaching is for restored VMs)");
		free(envp);
		mote_err_exit("mote-vmm", &err);
	}
	if (cfg.control_fd >= 0 && attach_check_control(cfg.control_fd, &err) < 0) {
		free(envp);
		mote_err_exit("mote-vmm", &err);
	}
	if (cfg.exit_after_snapshot && !cfg.snapshot_path) {
		mote_errf(&err, MOTE_STATUS_USAGE, "--exit-after-snapshot needs --snapshot FILE");
		free(envp);
		mote_err_exit("mote-vmm", &err);
	}
	if (cfg.restore_path ? optind != argc : (!cfg.kernel_path || optind >= argc)) {
		usage(stderr);
		free(envp);
		return MOTE_STATUS_USAGE;
	}
	if (!cfg.restore_path) {
		cfg.exec_path = argv[optind];
		cfg.argc = argc - optind;
		cfg.argv = argv + optind;
	}
	cfg.envp = envp;
	static char default_kernel[PATH_MAX];
	if (cfg.restore_path && !cfg.kernel_path &&
	    mote_find_beside_self("mote-kernel", default_kernel, sizeof(default_kernel)) == 0) {
		cfg.kernel_path = default_kernel;
		cfg.kernel_optional = 1;
	}

	/* Only the descriptors given on purpose survive (the jail and the function platform pass some). */
	if (vmm_fds_close_inherited(keep, nkeep) < 0) {
		mote_errnof(&err, MOTE_STATUS_HOST, errno, "cannot close inherited file descriptors");
		mote_err_exit("mote-vmm", &err);
	}
	if (log_fd >= 0 && log_fd != STDERR_FILENO) {
		/* mote-vmm's own lines (fd 2, also the sanitizers') go to the log; the guest keeps stderr. */
		cfg.stderr_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
		if (cfg.stderr_fd < 0 || dup2(log_fd, STDERR_FILENO) < 0) {
			mote_errnof(&err, MOTE_STATUS_HOST, errno, "--log-fd %d", log_fd);
			mote_err_exit("mote-vmm", &err);
		}
	}
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_usr1; /* no SA_RESTART: KVM_RUN returns EINTR and the loop snapshots */
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);

	static struct guest g;
	if ((cfg.restore_path ? guest_restore(&g, &cfg, &err) : guest_boot(&g, &cfg, &err)) < 0)
		mote_err_exit("mote-vmm", &err);
	g.chan.control_fd = -1;
	preempt_init(&g);
	if (console_start(&g, &err) < 0 || (cfg.control_fd >= 0 && attach_run(&g, &err) < 0))
		mote_err_exit("mote-vmm", &err);
	if (cfg.snapshot_path)
		guest_snapshot_prepare(&g);
	if (cfg.timeout_ns && start_timer(cfg.timeout_ns, &err) < 0)
		mote_err_exit("mote-vmm", &err);
	/* Setup is over: from here on only the run loop's system calls are allowed (docs/seccomp.md). */
	if (!no_seccomp && seccomp_filter_install(cfg.debug, &err) < 0)
		mote_err_exit("mote-vmm", &err);
	if (no_seccomp && cfg.debug)
		fprintf(stderr, "mote-vmm: seccomp filter not installed (--no-seccomp)\n");
	if (debug_try)
		debug_try_run(debug_try);
	run_loop(&g);
	return 0;
}
