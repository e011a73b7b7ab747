/* runner: times the cold-start benchmarks side by side (fork+exec, round-robin) and prints the table. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * usage: runner [--runs N] [--warmup N] --floor KVM_FLOOR --vmm MOTE_VMM --kernel MOTE_KERNEL
 *               --first-image IMG --first-path /first --mote MOTE --hello HELLO
 *
 * Four variants, each a command run in a fresh process with stdout and stderr
 * on /dev/null; one sample is the wall-clock time (CLOCK_MONOTONIC) from just
 * before fork() to just after waitpid() returned. The variants are
 * interleaved round-robin (a b c d a b c d ...) so that drift on the machine
 * hits all of them alike. Every run must exit with status 0; otherwise the
 * runner stops with a message naming the command. Exits 0 when the benchmark
 * ran (whether or not the targets were met), 1 on a failed run or bad usage.
 */

#define RUNS_MIN 50
#define TARGET_END_TO_END_US 5000.0 /* (c) median */
#define TARGET_BOOT_OVER_FLOOR 2.0  /* (b) median / (a) median */

struct variant {
	const char *label;
	char *const *argv;
	double *us; /* one sample per run, microseconds */
	double median, p90, p99, min;
};

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: runner [--runs N] [--warmup N] --floor KVM_FLOOR --vmm MOTE_VMM --kernel MOTE_KERNEL\n"
			"              --first-image IMG --first-path PATH --mote MOTE --hello HELLO\n");
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

/* Run argv once with stdout/stderr on /dev/null; return the elapsed microseconds. Exits on failure. */
static double time_one_run(const struct variant *v)
{
	double start = now_us();
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "runner: fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(126);
		execv(v->argv[0], v->argv);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "runner: waitpid: %s\n", strerror(errno));
			exit(1);
		}
	}
	double elapsed = now_us() - start;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFSIGNALED(status))
			fprintf(stderr, "runner: %s: killed by signal %d (%s)\n", v->label, WTERMSIG(status),
				strsignal(WTERMSIG(status)));
		else
			fprintf(stderr, "runner: %s: exit status %d%s\n", v->label, WEXITSTATUS(status),
				WEXITSTATUS(status) == 127 ? " (cannot execute)" : "");
		fprintf(stderr, "runner: benchmark aborted; run the command by hand to see its output:\n  ");
		print_command(stderr, v->argv);
		exit(1);
	}
	return elapsed;
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

static void summarize(struct variant *v, int n)
{
	double *s = malloc((size_t)n * sizeof(*s));
	if (!s) {
		fprintf(stderr, "runner: out of memory\n");
		exit(1);
	}
	memcpy(s, v->us, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), compare_double);
	v->median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	v->p90 = percentile(s, n, 90);
	v->p99 = percentile(s, n, 99);
	v->min = s[0];
	free(s);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, 'n' },	 { "warmup", required_argument, NULL, 'w' },
		{ "floor", required_argument, NULL, 'a' },	 { "vmm", required_argument, NULL, 'v' },
		{ "kernel", required_argument, NULL, 'k' },	 { "first-image", required_argument, NULL, 'i' },
		{ "first-path", required_argument, NULL, 'p' }, { "mote", required_argument, NULL, 'm' },
		{ "hello", required_argument, NULL, 'h' },	 { NULL, 0, NULL, 0 },
	};
	int runs = 100, warmup = 3, c;
	char *floor_bin = NULL, *vmm = NULL, *kernel = NULL, *image = NULL, *first = NULL, *mote = NULL,
	     *hello = NULL;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': runs = atoi(optarg); break;
		case 'w': warmup = atoi(optarg); break;
		case 'a': floor_bin = optarg; break;
		case 'v': vmm = optarg; break;
		case 'k': kernel = optarg; break;
		case 'i': image = optarg; break;
		case 'p': first = optarg; break;
		case 'm': mote = optarg; break;
		case 'h': hello = optarg; break;
		default: usage();
		}
	}
	if (!floor_bin || !vmm || !kernel || !image || !first || !mote || !hello || optind != argc || warmup < 0)
		usage();
	if (runs < RUNS_MIN) {
		fprintf(stderr, "runner: --runs %d: need at least %d runs for a p99\n", runs, RUNS_MIN);
		return 1;
	}
	if (access("/dev/kvm", R_OK | W_OK) < 0) {
		printf("runner: /dev/kvm is not usable (%s); benchmarks skipped\n", strerror(errno));
		return 0;
	}

	static char opt_kernel[] = "--kernel", opt_rootfs[] = "--rootfs", opt_end[] = "--", cmd_run[] = "run";
	char *const argv_a[] = { floor_bin, NULL };
	char *const argv_b[] = { vmm, opt_kernel, kernel, opt_rootfs, image, opt_end, first, NULL };
	char *const argv_c[] = { mote, cmd_run, hello, NULL };
	char *const argv_d[] = { hello, NULL };
	struct variant v[4] = {
		{ .label = "(a) bare KVM floor", .argv = argv_a },
		{ .label = "(b) mote-vmm boot \u2192 first insn", .argv = argv_b },
		{ .label = "(c) mote run hello (end to end)", .argv = argv_c },
		{ .label = "(d) native static hello", .argv = argv_d },
	};
	for (int i = 0; i < 4; i++) {
		v[i].us = calloc((size_t)runs, sizeof(double));
		if (!v[i].us) {
			fprintf(stderr, "runner: out of memory\n");
			return 1;
		}
	}

	for (int r = 0; r < warmup; r++) /* page cache, rootfs cache, dynamic loader caches */
		for (int i = 0; i < 4; i++)
			time_one_run(&v[i]);
	for (int r = 0; r < runs; r++)
		for (int i = 0; i < 4; i++)
			v[i].us[r] = time_one_run(&v[i]);
	for (int i = 0; i < 4; i++)
		summarize(&v[i], runs);

	double b_over_a = v[1].median / v[0].median, c_over_d = v[2].median / v[3].median;
	printf("%d runs each, interleaved round-robin after %d warm-up rounds; fork+exec to waitpid, "
	       "CLOCK_MONOTONIC\n\n",
	       runs, warmup);
	printf("%-35s %9s %9s %9s %9s   %s\n", "variant (\u00b5s)", "median", "p90", "p99", "min", "ratio");
	for (int i = 0; i < 4; i++) {
		char ratio[32] = "";
		if (i == 1)
			snprintf(ratio, sizeof(ratio), "b/a = %.2fx", b_over_a);
		else if (i == 2)
			snprintf(ratio, sizeof(ratio), "c/d = %.1fx", c_over_d);
		/* The arrow and micro sign are 3 and 2 bytes for 1 column: pad by display width. */
		int extra = i == 1 ? 2 : 0;
		printf("%-*s %9.0f %9.0f %9.0f %9.0f   %s\n", 34 + extra, v[i].label, v[i].median, v[i].p90, v[i].p99,
		       v[i].min, ratio);
	}
	printf("\ntargets:\n");
	printf("  (c) median <= %.0f \u00b5s: %.0f \u00b5s: %s\n", TARGET_END_TO_END_US, v[2].median,
	       v[2].median <= TARGET_END_TO_END_US ? "met" : "NOT met");
	printf("  (b) median <= %.0fx (a) median: %.2fx: %s\n", TARGET_BOOT_OVER_FLOOR, b_over_a,
	       b_over_a <= TARGET_BOOT_OVER_FLOOR ? "met" : "NOT met");
	for (int i = 0; i < 4; i++)
		free(v[i].us);
	return 0;
}
