/* runner: times the cold-start and snapshot benchmarks side by side (fork+exec, round-robin) and prints the
 * table. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * usage: runner [--runs N] [--warmup N] [--clones N] --floor KVM_FLOOR --vmm MOTE_VMM --kernel MOTE_KERNEL
 *               --first-image IMG --first-path /first --mote MOTE --hello HELLO
 *               --restore-first SNAP --restore-hello SNAP --snap-image IMG --snaphello-path /snaphello
 *               --snapmem-path /snapmem --snapmem-out FILE --idle-snapshot SNAP --idle-native PROGRAM
 *               --lines-image IMG --lines-glibc PROGRAM --lines-musl PROGRAM [--lines N]
 *
 * Timed variants, each a command run in a fresh process with stdout and
 * stderr on /dev/null; one sample is the wall-clock time (CLOCK_MONOTONIC)
 * from just before fork() to just after waitpid() returned:
 *   (a) the bare KVM floor, (b) mote-vmm boot to the program's first
 *   instruction, (c) `mote run` hello, (d) native hello, (e) mote-vmm
 *   --restore to the first resumed guest instruction, (f) mote-vmm --restore
 *   to the program's first output, (g) the program of (f) booted from scratch.
 * One variant whose sample is the time mote-vmm reports itself (--debug,
 * stderr read through a pipe): (h) taking the snapshot of a 64 MiB guest
 * that has written 32 MiB. Line-heavy output, stdout on a pipe the runner
 * reads to the end (the sample still ends at waitpid): (k) mote-vmm running
 * a static glibc program that prints --lines (default 200,000) lines with
 * printf, (l) the same program natively, (m) and (n) the same with musl.
 * All are interleaved round-robin (a b c ... h a b c ...) so that drift on the
 * machine hits all of them alike. Every run must exit with status 0; otherwise
 * the runner stops with a message naming the command.
 *
 * Then the memory of idle processes: --clones (default 10) restored clones
 * of --idle-snapshot run at once; once each has printed "ready" and sleeps,
 * its /proc/PID/smaps_rollup is read, and the growth of the kernel's own
 * memory counters in /proc/meminfo is divided among them; the same for as
 * many native processes of --idle-native. All are then killed by pid.
 *
 * Targets are printed as met or NOT met. Exits 0 when the benchmark ran
 * (whether or not the targets were met), 1 on a failed run or bad usage.
 */

#define RUNS_MIN 50
#define TARGET_END_TO_END_US 5000.0	/* (c) median */
#define TARGET_BOOT_OVER_FLOOR 2.0	/* (b) median / (a) median */
#define TARGET_RESTORE_OVER_FLOOR 2.0	/* (e) median / (a) median */
#define TARGET_SNAPSHOT_US 30000.0	/* (h) median */
#define TARGET_CLONE_PRIVATE_KIB 1024.0 /* every idle clone's Private_Clean + Private_Dirty */
#define TARGET_LINES_OVER_NATIVE 1.5	/* (k) median / (l) median, and (m) / (n) */
#define CLONES_MAX 64

enum kind {
	WALL,	     /* fork+exec to waitpid */
	SNAPSHOT_MS, /* the "guest paused for X ms" that mote-vmm --debug prints on stderr */
	PIPE_OUT,    /* fork+exec to waitpid, stdout on a pipe read to its end */
};

struct variant {
	const char *label;
	int label_extra; /* bytes beyond display columns (UTF-8 arrows) */
	enum kind kind;
	char *const *argv;
	const char *remove[2]; /* files removed before each run (SNAPSHOT_MS: the previous snapshot) */
	double *us;	       /* one sample per run, microseconds */
	double median, p90, p99, min;
	double last_durable_us; /* SNAPSHOT_MS: the last run's "durable after X ms" */
	uint64_t out_bytes;	/* PIPE_OUT: what the last run wrote to stdout */
};

static void __attribute__((noreturn)) usage(void)
{
	fprintf(
	    stderr,
	    "usage: runner [--runs N] [--warmup N] [--clones N] --floor KVM_FLOOR --vmm MOTE_VMM\n"
	    "              --kernel MOTE_KERNEL --first-image IMG --first-path PATH --mote MOTE --hello "
	    "HELLO\n"
	    "              --restore-first SNAP --restore-hello SNAP --snap-image IMG --snaphello-path PATH\n"
	    "              --snapmem-path PATH --snapmem-out FILE --idle-snapshot SNAP --idle-native "
	    "PROGRAM\n"
	    "              --lines-image IMG --lines-glibc PROGRAM --lines-musl PROGRAM [--lines N]\n");
	exit(1);
}

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "runner: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void print_command(FILE *out, char *const *argv)
{
	for (int i = 0; argv[i]; i++)
		fprintf(out, "%s%s", i ? " " : "", argv[i]);
	fputc('\n', out);
}

static void __attribute__((noreturn)) run_failed(const struct variant *v, int status, const char *why)
{
	if (why)
		fprintf(stderr, "runner: %s: %s\n", v->label, why);
	else if (WIFSIGNALED(status))
		fprintf(stderr, "runner: %s: killed by signal %d (%s)\n", v->label, WTERMSIG(status),
			strsignal(WTERMSIG(status)));
	else
		fprintf(stderr, "runner: %s: exit status %d%s\n", v->label, WEXITSTATUS(status),
			WEXITSTATUS(status) == 127 ? " (cannot execute)" : "");
	fprintf(stderr, "runner: benchmark aborted; run the command by hand to see its output:\n  ");
	print_command(stderr, v->argv);
	exit(1);
}

static void wait_for(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
}

/* Read everything from fd until EOF into buf (NUL-terminated, the excess dropped). */
static void read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;
	for (;;) {
		char tmp[4096];
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read");
		if (n == 0)
			break;
		size_t keep = (size_t)n < size - 1 - len ? (size_t)n : size - 1 - len;
		memcpy(buf + len, tmp, keep);
		len += keep;
	}
	buf[len] = 0;
}

/* Read fd until EOF, discarding the bytes; returns how many there were. */
static uint64_t drain_count(int fd)
{
	static char buf[65536];
	uint64_t total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read");
		if (n == 0)
			return total;
		total += (uint64_t)n;
	}
}

/*
 * Run the variant's command once; return the sample in microseconds: the
 * elapsed wall-clock time (WALL) or the snapshot time mote-vmm reported
 * (SNAPSHOT_MS, stderr read through a pipe). Exits on failure.
 */
static double run_once(struct variant *v)
{
	for (int i = 0; i < 2; i++)
		if (v->remove[i] && unlink(v->remove[i]) < 0 && errno != ENOENT)
			die(v->remove[i]);
	int pipefd[2] = {-1, -1};
	if (v->kind != WALL && pipe2(pipefd, O_CLOEXEC) < 0)
		die("pipe");
	double start = now_us();
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		int out = v->kind == PIPE_OUT ? pipefd[1] : null,
		    err = v->kind == SNAPSHOT_MS ? pipefd[1] : null;
		if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
			_exit(126);
		execv(v->argv[0], v->argv);
		_exit(127);
	}
	static char err[16384];
	if (v->kind != WALL) {
		close(pipefd[1]);
		if (v->kind == SNAPSHOT_MS)
			read_all(pipefd[0], err, sizeof(err));
		else
			v->out_bytes = drain_count(pipefd[0]);
		close(pipefd[0]);
	}
	int status;
	wait_for(pid, &status);
	double elapsed = now_us() - start;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		run_failed(v, status, NULL);
	if (v->kind != SNAPSHOT_MS)
		return elapsed;
	const char *at = strstr(err, " guest paused for ");
	double ms, durable_ms;
	if (!at || sscanf(at, " guest paused for %lf ms, durable after %lf ms", &ms, &durable_ms) != 2 ||
	    !(ms >= 0) || !(durable_ms >= ms))
		run_failed(v, 0,
			   "no 'snapshot ...: guest paused for X ms, durable after Y ms' line from mote-vmm "
			   "--debug");
	v->last_durable_us = durable_ms * 1000.0;
	return ms * 1000.0;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted samples. */
static double percentile(const double *sorted, int n, double p)
{
	int rank = (int)ceil(p / 100.0 * n - 1e-9);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static double median_of_sorted(const double *s, int n)
{
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void summarize(struct variant *v, int n)
{
	double *s = malloc((size_t)n * sizeof(*s));
	if (!s) {
		fprintf(stderr, "runner: out of memory\n");
		exit(1);
	}
	memcpy(s, v->us, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), compare_double);
	v->median = median_of_sorted(s, n);
	v->p90 = percentile(s, n, 90);
	v->p99 = percentile(s, n, 99);
	v->min = s[0];
	free(s);
}

/* ---- memory of idle processes ------------------------------------------- */

struct idle_proc {
	pid_t pid;
	double private_kib, pss_kib, rss_kib;
};

/* Start argv with stdout on a pipe; return once it printed "ready". Exits on failure. */
static pid_t start_ready(char *const *argv)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* no clone outlives the runner */
		int null = open("/dev/null", O_RDWR);
		if (null < 0 || dup2(null, 0) < 0 || dup2(pipefd[1], 1) < 0 || dup2(null, 2) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	char buf[64];
	size_t len = 0;
	while (len < sizeof(buf) - 1 && !memchr(buf, '\n', len)) {
		struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
		int r = poll(&pfd, 1, 10000);
		if (r < 0 && errno == EINTR)
			continue;
		ssize_t n = r > 0 ? read(pipefd[0], buf + len, sizeof(buf) - 1 - len) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "runner: %s did not print 'ready' within 10 s%s; command:\n  ",
				argv[0], r == 0 ? "" : " (it ended)");
			print_command(stderr, argv);
			kill(pid, SIGKILL);
			exit(1);
		}
		len += (size_t)n;
	}
	close(pipefd[0]);
	buf[len] = 0;
	if (strcmp(buf, "ready\n") != 0) {
		fprintf(stderr, "runner: %s printed '%s', not 'ready'\n", argv[0], buf);
		kill(pid, SIGKILL);
		exit(1);
	}
	return pid;
}

/* The process state letter from /proc/PID/stat (after the parenthesised name), or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' ? paren[2] : 0;
}

/* Wait until the process sleeps (state S) at two looks 10 ms apart, for at most 5 s. */
static void wait_idle(pid_t pid)
{
	int sleeping = 0;
	for (int i = 0; i < 500 && sleeping < 2; i++) {
		sleeping = proc_state(pid) == 'S' ? sleeping + 1 : 0;
		usleep(10000);
	}
	if (sleeping < 2) {
		fprintf(stderr, "runner: process %d did not go idle (state %c)\n", (int)pid, proc_state(pid));
		exit(1);
	}
}

static void read_rollup(struct idle_proc *p)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)p->pid);
	FILE *f = fopen(path, "re");
	if (!f)
		die(path);
	double clean = -1, dirty = -1, pss = -1, rss = -1, kib;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Private_Clean: %lf kB", &kib) == 1)
			clean = kib;
		else if (sscanf(line, "Private_Dirty: %lf kB", &kib) == 1)
			dirty = kib;
		else if (sscanf(line, "Pss: %lf kB", &kib) == 1)
			pss = kib;
		else if (sscanf(line, "Rss: %lf kB", &kib) == 1)
			rss = kib;
	}
	fclose(f);
	if (clean < 0 || dirty < 0 || pss < 0 || rss < 0) {
		fprintf(stderr, "runner: %s lacks Rss, Pss, Private_Clean or Private_Dirty\n", path);
		exit(1);
	}
	p->private_kib = clean + dirty;
	p->pss_kib = pss;
	p->rss_kib = rss;
}

struct mem_summary {
	double private_median, private_max, pss_median, pss_max, rss_median;
	double kernel; /* growth of the kernel's own memory counters (see kernel_kib), per process */
};

/*
 * The kernel memory that processes and VMs hold and smaps does not show, in
 * KiB: SUnreclaim + KernelStack + PageTables + SecPageTables from
 * /proc/meminfo (slab objects such as KVM's vCPU and VM structures, the
 * process page tables, KVM's own page tables). System-wide, so another
 * process's activity at the same time shows up too.
 */
static double kernel_kib(void)
{
	static const char *const fields[] = {"SUnreclaim:", "KernelStack:", "PageTables:", "SecPageTables:"};
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	double sum = 0;
	int found = 0;
	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			size_t len = strlen(fields[i]);
			double kib;
			if (strncmp(line, fields[i], len) == 0 && sscanf(line + len, " %lf kB", &kib) == 1) {
				sum += kib;
				found++;
			}
		}
	fclose(f);
	if (found < 3) { /* SecPageTables is missing before Linux 6.0 */
		fprintf(stderr, "runner: /proc/meminfo lacks SUnreclaim, KernelStack or PageTables\n");
		exit(1);
	}
	return sum;
}

static double median_field(const struct idle_proc *p, int n, size_t offset, double *max)
{
	double v[CLONES_MAX];
	for (int i = 0; i < n; i++)
		memcpy(&v[i], (const char *)&p[i] + offset, sizeof(double));
	qsort(v, (size_t)n, sizeof(v[0]), compare_double);
	if (max)
		*max = v[n - 1];
	return median_of_sorted(v, n);
}

/* n processes of argv at once, each ready and idle, measured, then killed by pid. */
static struct mem_summary measure_idle(char *const *argv, int n)
{
	struct idle_proc p[CLONES_MAX];
	memset(p, 0, sizeof(p));
	sleep(1); /* let the kernel finish freeing what earlier processes and VMs held (RCU, deferred work) */
	double kernel_before = kernel_kib();
	for (int i = 0; i < n; i++)
		p[i].pid = start_ready(argv);
	for (int i = 0; i < n; i++)
		wait_idle(p[i].pid);
	double kernel_idle = kernel_kib();
	for (int i = 0; i < n; i++)
		read_rollup(&p[i]);
	for (int i = 0; i < n; i++) {
		int status;
		kill(p[i].pid, SIGKILL);
		wait_for(p[i].pid, &status);
	}
	struct mem_summary s;
	s.private_median = median_field(p, n, offsetof(struct idle_proc, private_kib), &s.private_max);
	s.pss_median = median_field(p, n, offsetof(struct idle_proc, pss_kib), &s.pss_max);
	s.rss_median = median_field(p, n, offsetof(struct idle_proc, rss_kib), NULL);
	s.kernel = (kernel_idle - kernel_before) / n;
	return s;
}

/* ---- main ---------------------------------------------------------------- */

enum {
	A_FLOOR,
	B_BOOT,
	C_RUN,
	D_NATIVE,
	E_RESTORE,
	F_RESTORE_HELLO,
	G_BOOT_HELLO,
	H_SNAPSHOT,
	K_LINES_GLIBC,
	L_LINES_GLIBC_NATIVE,
	M_LINES_MUSL,
	N_LINES_MUSL_NATIVE,
	E0_RESTORE_NO_SECCOMP,
	M0_LINES_MUSL_NO_SECCOMP,
	NVAR
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"runs", required_argument, NULL, 'n'},
	    {"warmup", required_argument, NULL, 'w'},
	    {"clones", required_argument, NULL, 'N'},
	    {"floor", required_argument, NULL, 'a'},
	    {"vmm", required_argument, NULL, 'v'},
	    {"kernel", required_argument, NULL, 'k'},
	    {"first-image", required_argument, NULL, 'i'},
	    {"first-path", required_argument, NULL, 'p'},
	    {"mote", required_argument, NULL, 'm'},
	    {"hello", required_argument, NULL, 'h'},
	    {"restore-first", required_argument, NULL, 'e'},
	    {"restore-hello", required_argument, NULL, 'f'},
	    {"snap-image", required_argument, NULL, 'I'},
	    {"snaphello-path", required_argument, NULL, 'g'},
	    {"snapmem-path", required_argument, NULL, 'M'},
	    {"snapmem-out", required_argument, NULL, 'o'},
	    {"idle-snapshot", required_argument, NULL, 's'},
	    {"idle-native", required_argument, NULL, 'l'},
	    {"lines-image", required_argument, NULL, 'L'},
	    {"lines-glibc", required_argument, NULL, 'G'},
	    {"lines-musl", required_argument, NULL, 'U'},
	    {"lines", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	int runs = 100, warmup = 3, clones = 10, c;
	char *floor_bin = NULL, *vmm = NULL, *kernel = NULL, *image = NULL, *first = NULL, *mote = NULL,
	     *hello = NULL, *restore_first = NULL, *restore_hello = NULL, *snap_image = NULL,
	     *snaphello = NULL, *snapmem = NULL, *snapmem_out = NULL, *idle_snap = NULL, *idle_native = NULL,
	     *lines_image = NULL, *lines_glibc = NULL, *lines_musl = NULL;
	static char lines_count[24] = "200000";
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': runs = atoi(optarg); break;
		case 'w': warmup = atoi(optarg); break;
		case 'N': clones = atoi(optarg); break;
		case 'a': floor_bin = optarg; break;
		case 'v': vmm = optarg; break;
		case 'k': kernel = optarg; break;
		case 'i': image = optarg; break;
		case 'p': first = optarg; break;
		case 'm': mote = optarg; break;
		case 'h': hello = optarg; break;
		case 'e': restore_first = optarg; break;
		case 'f': restore_hello = optarg; break;
		case 'I': snap_image = optarg; break;
		case 'g': snaphello = optarg; break;
		case 'M': snapmem = optarg; break;
		case 'o': snapmem_out = optarg; break;
		case 's': idle_snap = optarg; break;
		case 'l': idle_native = optarg; break;
		case 'L': lines_image = optarg; break;
		case 'G': lines_glibc = optarg; break;
		case 'U': lines_musl = optarg; break;
		case 'c':
			if (atol(optarg) < 1 || strlen(optarg) >= sizeof(lines_count))
				usage();
			snprintf(lines_count, sizeof(lines_count), "%ld", atol(optarg));
			break;
		default: usage();
		}
	}
	if (!floor_bin || !vmm || !kernel || !image || !first || !mote || !hello || !restore_first ||
	    !restore_hello || !snap_image || !snaphello || !snapmem || !snapmem_out || !idle_snap ||
	    !idle_native || !lines_image || !lines_glibc || !lines_musl || optind != argc || warmup < 0 ||
	    clones < 1 || clones > CLONES_MAX)
		usage();
	if (runs < RUNS_MIN) {
		fprintf(stderr, "runner: --runs %d: need at least %d runs for a p99\n", runs, RUNS_MIN);
		return 1;
	}
	if (access("/dev/kvm", R_OK | W_OK) < 0) {
		printf("runner: /dev/kvm is not usable (%s); benchmarks skipped\n", strerror(errno));
		return 0;
	}

	static char opt_kernel[] = "--kernel", opt_rootfs[] = "--rootfs", opt_end[] = "--", cmd_run[] = "run",
		    opt_restore[] = "--restore", opt_mem[] = "--mem", mem_64m[] = "64M",
		    opt_snapshot[] = "--snapshot", opt_exit_after[] = "--exit-after-snapshot",
		    opt_debug[] = "--debug", opt_no_seccomp[] = "--no-seccomp";
	char *const argv_a[] = {floor_bin, NULL};
	char *const argv_b[] = {vmm, opt_kernel, kernel, opt_rootfs, image, opt_end, first, NULL};
	static char opt_no_jail[] = "--no-jail"; /* the jailed start is measured by jail_bench */
	char *const argv_c[] = {mote, cmd_run, opt_no_jail, hello, NULL};
	char *const argv_d[] = {hello, NULL};
	char *const argv_e[] = {vmm, opt_restore, restore_first, NULL};
	char *const argv_f[] = {vmm, opt_restore, restore_hello, NULL};
	char *const argv_g[] = {vmm, opt_kernel, kernel, opt_rootfs, snap_image, opt_end, snaphello, NULL};
	char *const argv_h[] = {vmm,	   opt_kernel, kernel,	     opt_rootfs,  snap_image,
				opt_mem,   mem_64m,    opt_snapshot, snapmem_out, opt_exit_after,
				opt_debug, opt_end,    snapmem,	     NULL};
	/* The lines programs run in mote from the image, under the names they have there. */
	static char path_lines_glibc[] = "/lines.glibc", path_lines_musl[] = "/lines.musl";
	char *const argv_k[] = {vmm,	 opt_kernel,	   kernel,	opt_rootfs, lines_image,
				opt_end, path_lines_glibc, lines_count, NULL};
	char *const argv_l[] = {lines_glibc, lines_count, NULL};
	char *const argv_m[] = {vmm,	 opt_kernel,	  kernel,      opt_rootfs, lines_image,
				opt_end, path_lines_musl, lines_count, NULL};
	char *const argv_n[] = {lines_musl, lines_count, NULL};
	/* The cost of the seccomp filter (docs/seccomp.md): (e) and (m) without it. */
	char *const argv_e0[] = {vmm, opt_no_seccomp, opt_restore, restore_first, NULL};
	char *const argv_m0[] = {vmm,	      opt_no_seccomp, opt_kernel,      kernel,	    opt_rootfs,
				 lines_image, opt_end,	      path_lines_musl, lines_count, NULL};
	char *const argv_idle[] = {vmm, opt_restore, idle_snap, NULL};
	char *const argv_native[] = {idle_native, NULL};
	/* Labels: the arrow (3 bytes) and micro sign (2 bytes) take one column each. */
	struct variant v[NVAR] = {
	    [A_FLOOR] = {.label = "(a) bare KVM floor", .argv = argv_a},
	    [B_BOOT] = {.label = "(b) mote-vmm boot \u2192 first insn", .label_extra = 2, .argv = argv_b},
	    [C_RUN] = {.label = "(c) mote run --no-jail hello", .argv = argv_c},
	    [D_NATIVE] = {.label = "(d) native static hello", .argv = argv_d},
	    [E_RESTORE] = {.label = "(e) restore \u2192 first resumed insn",
			   .label_extra = 2,
			   .argv = argv_e},
	    [F_RESTORE_HELLO] = {.label = "(f) restore \u2192 first output",
				 .label_extra = 2,
				 .argv = argv_f},
	    [G_BOOT_HELLO] = {.label = "(g) boot \u2192 first output (scratch)",
			      .label_extra = 2,
			      .argv = argv_g},
	    [H_SNAPSHOT] = {.label = "(h) take snapshot, 64 MiB guest", .kind = SNAPSHOT_MS, .argv = argv_h},
	    [K_LINES_GLIBC] = {.label = "(k) mote: lines \u2192 pipe, glibc",
			       .label_extra = 2,
			       .kind = PIPE_OUT,
			       .argv = argv_k},
	    [L_LINES_GLIBC_NATIVE] = {.label = "(l) native: lines \u2192 pipe, glibc",
				      .label_extra = 2,
				      .kind = PIPE_OUT,
				      .argv = argv_l},
	    [M_LINES_MUSL] = {.label = "(m) mote: lines \u2192 pipe, musl",
			      .label_extra = 2,
			      .kind = PIPE_OUT,
			      .argv = argv_m},
	    [N_LINES_MUSL_NATIVE] = {.label = "(n) native: lines \u2192 pipe, musl",
				     .label_extra = 2,
				     .kind = PIPE_OUT,
				     .argv = argv_n},
	    [E0_RESTORE_NO_SECCOMP] = {.label = "(e0) (e) with --no-seccomp", .argv = argv_e0},
	    [M0_LINES_MUSL_NO_SECCOMP] = {.label = "(m0) (m) with --no-seccomp",
					  .kind = PIPE_OUT,
					  .argv = argv_m0},
	};
	/*
	 * (h) writes its snapshot where none exists, as a first snapshot does: the
	 * previous run's files are removed before each run, because replacing a
	 * 32 MiB memory file adds freeing its blocks (~10 ms on ext4 here) to the
	 * rename inside the timed part.
	 */
	char mem_path[4096];
	snprintf(mem_path, sizeof(mem_path), "%s.mem", snapmem_out);
	v[H_SNAPSHOT].remove[0] = snapmem_out;
	v[H_SNAPSHOT].remove[1] = mem_path;
	for (int i = 0; i < NVAR; i++) {
		v[i].us = calloc((size_t)runs, sizeof(double));
		if (!v[i].us) {
			fprintf(stderr, "runner: out of memory\n");
			return 1;
		}
	}

	for (int r = 0; r < warmup; r++) /* page cache, rootfs cache, dynamic loader caches */
		for (int i = 0; i < NVAR; i++)
			run_once(&v[i]);
	/* (h'): the same runs as (h), until the snapshot is durable and in place. */
	struct variant durable = {.label = "(h') \u2026 until durable on disk", .label_extra = 2};
	durable.us = calloc((size_t)runs, sizeof(double));
	if (!durable.us) {
		fprintf(stderr, "runner: out of memory\n");
		return 1;
	}
	for (int r = 0; r < runs; r++)
		for (int i = 0; i < NVAR; i++) {
			v[i].us[r] = run_once(&v[i]);
			if (i == H_SNAPSHOT)
				durable.us[r] = v[i].last_durable_us;
		}
	for (int i = 0; i < NVAR; i++)
		summarize(&v[i], runs);
	summarize(&durable, runs);
	/* Each mote run of a lines program wrote what its native run wrote. */
	if (v[K_LINES_GLIBC].out_bytes != v[L_LINES_GLIBC_NATIVE].out_bytes ||
	    v[M_LINES_MUSL].out_bytes != v[N_LINES_MUSL_NATIVE].out_bytes ||
	    v[M0_LINES_MUSL_NO_SECCOMP].out_bytes != v[N_LINES_MUSL_NATIVE].out_bytes ||
	    !v[L_LINES_GLIBC_NATIVE].out_bytes) {
		fprintf(stderr,
			"runner: the lines programs wrote %llu (glibc) and %llu (musl) bytes in mote, %llu "
			"and %llu natively\n",
			(unsigned long long)v[K_LINES_GLIBC].out_bytes,
			(unsigned long long)v[M_LINES_MUSL].out_bytes,
			(unsigned long long)v[L_LINES_GLIBC_NATIVE].out_bytes,
			(unsigned long long)v[N_LINES_MUSL_NATIVE].out_bytes);
		return 1;
	}

	struct stat st;
	if (stat(mem_path, &st) < 0)
		die(mem_path);

	struct mem_summary clone = measure_idle(argv_idle, clones),
			   native = measure_idle(argv_native, clones);

	double b_over_a = v[B_BOOT].median / v[A_FLOOR].median,
	       c_over_d = v[C_RUN].median / v[D_NATIVE].median,
	       e_over_a = v[E_RESTORE].median / v[A_FLOOR].median,
	       f_over_g = v[F_RESTORE_HELLO].median / v[G_BOOT_HELLO].median,
	       k_over_l = v[K_LINES_GLIBC].median / v[L_LINES_GLIBC_NATIVE].median,
	       m_over_n = v[M_LINES_MUSL].median / v[N_LINES_MUSL_NATIVE].median,
	       e_over_e0 = v[E_RESTORE].median / v[E0_RESTORE_NO_SECCOMP].median,
	       m_over_m0 = v[M_LINES_MUSL].median / v[M0_LINES_MUSL_NO_SECCOMP].median;
	printf(
	    "%d runs each, interleaved round-robin after %d warm-up rounds; (a)-(g): fork+exec to waitpid, "
	    "CLOCK_MONOTONIC;\n(h): mote-vmm's own time (--debug) the guest is paused while its snapshot is "
	    "taken "
	    "(state and memory\ncopied into the files), guest wrote 32 MiB before asking; (h'): the same "
	    "snapshot "
	    "until synced and renamed into place;\n(k)-(n): %s lines (%llu bytes) printed with printf, "
	    "stdout a pipe "
	    "the runner reads to the end\n\n",
	    runs, warmup, lines_count, (unsigned long long)v[L_LINES_GLIBC_NATIVE].out_bytes);
	printf("%-35s %9s %9s %9s %9s   %s\n", "variant (\u00b5s)", "median", "p90", "p99", "min", "ratio");
	for (int i = 0; i < NVAR; i++) {
		char ratio[32] = "";
		if (i == B_BOOT)
			snprintf(ratio, sizeof(ratio), "b/a = %.2fx", b_over_a);
		else if (i == C_RUN)
			snprintf(ratio, sizeof(ratio), "c/d = %.1fx", c_over_d);
		else if (i == E_RESTORE)
			snprintf(ratio, sizeof(ratio), "e/a = %.2fx", e_over_a);
		else if (i == F_RESTORE_HELLO)
			snprintf(ratio, sizeof(ratio), "f/g = %.2fx", f_over_g);
		else if (i == K_LINES_GLIBC)
			snprintf(ratio, sizeof(ratio), "k/l = %.2fx", k_over_l);
		else if (i == M_LINES_MUSL)
			snprintf(ratio, sizeof(ratio), "m/n = %.2fx", m_over_n);
		else if (i == E0_RESTORE_NO_SECCOMP)
			snprintf(ratio, sizeof(ratio), "e/e0 = %.3fx", e_over_e0);
		else if (i == M0_LINES_MUSL_NO_SECCOMP)
			snprintf(ratio, sizeof(ratio), "m/m0 = %.3fx", m_over_m0);
		printf("%-*s %9.0f %9.0f %9.0f %9.0f   %s\n", 34 + v[i].label_extra, v[i].label, v[i].median,
		       v[i].p90, v[i].p99, v[i].min, ratio);
		if (i == H_SNAPSHOT)
			printf("%-*s %9.0f %9.0f %9.0f %9.0f\n", 34 + durable.label_extra, durable.label,
			       durable.median, durable.p90, durable.p99, durable.min);
	}
	printf("\n(h) memory file: %.1f MiB apparent, %.1f MiB allocated on disk\n",
	       (double)st.st_size / 1048576.0, (double)st.st_blocks * 512.0 / 1048576.0);
	printf("\nidle processes, %d at once (KiB)           private median / max   Pss median / max   Rss "
	       "median"
	       "   kernel\n",
	       clones);
	printf("  %-42s %7.0f / %-7.0f   %7.0f / %-7.0f %10.0f %8.0f\n",
	       "(i) restored clones of an idle 64 MiB guest", clone.private_median, clone.private_max,
	       clone.pss_median, clone.pss_max, clone.rss_median, clone.kernel);
	printf("  %-42s %7.0f / %-7.0f   %7.0f / %-7.0f %10.0f %8.0f\n",
	       "(j) native static process, sleeping", native.private_median, native.private_max,
	       native.pss_median, native.pss_max, native.rss_median, native.kernel);
	printf("  private = Private_Clean + Private_Dirty, from /proc/PID/smaps_rollup; kernel: growth of "
	       "SUnreclaim +\n"
	       "  KernelStack + PageTables + SecPageTables in /proc/meminfo per process (system-wide, "
	       "approximate)\n");
	printf("\ntargets:\n");
	printf("  (c) median <= %.0f \u00b5s: %.0f \u00b5s: %s\n", TARGET_END_TO_END_US, v[C_RUN].median,
	       v[C_RUN].median <= TARGET_END_TO_END_US ? "met" : "NOT met");
	printf("  (b) median <= %.0fx (a) median: %.2fx: %s\n", TARGET_BOOT_OVER_FLOOR, b_over_a,
	       b_over_a <= TARGET_BOOT_OVER_FLOOR ? "met" : "NOT met");
	printf("  (e) median <= %.0fx (a) median: %.2fx: %s\n", TARGET_RESTORE_OVER_FLOOR, e_over_a,
	       e_over_a <= TARGET_RESTORE_OVER_FLOOR ? "met" : "NOT met");
	printf("  (h) median <= %.0f ms: %.1f ms: %s\n", TARGET_SNAPSHOT_US / 1000,
	       v[H_SNAPSHOT].median / 1000, v[H_SNAPSHOT].median <= TARGET_SNAPSHOT_US ? "met" : "NOT met");
	printf("  (k) median <= %.1fx (l) median: %.2fx: %s\n", TARGET_LINES_OVER_NATIVE, k_over_l,
	       k_over_l <= TARGET_LINES_OVER_NATIVE ? "met" : "NOT met");
	printf("  (m) median <= %.1fx (n) median: %.2fx: %s\n", TARGET_LINES_OVER_NATIVE, m_over_n,
	       m_over_n <= TARGET_LINES_OVER_NATIVE ? "met" : "NOT met");
	printf("  private memory of every idle clone <= %.0f KiB: max %.0f KiB: %s\n",
	       TARGET_CLONE_PRIVATE_KIB, clone.private_max,
	       clone.private_max <= TARGET_CLONE_PRIVATE_KIB ? "met" : "NOT met");
	for (int i = 0; i < NVAR; i++)
		free(v[i].us);
	free(durable.us);
	return 0;
}
