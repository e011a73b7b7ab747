/* jail_bench: jailed vs unjailed in one run: boot and restore to the first instruction, the jail's steps,
 * idle memory. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jail.h"

/*
 * usage: jail_bench RUNS MOTE FIRST_PROGRAM RESTORE_FIRST_SNAP IDLE_SNAP CLONES
 *
 * Timed variants (fork+exec of `mote` to waitpid, CLOCK_MONOTONIC,
 * interleaved round-robin so that drift hits all alike):
 *   (J0) mote run --no-jail FIRST, (J1) mote run --jail FIRST: boot to the
 *   program's first instruction (FIRST exits at once);
 *   (J2) mote snapshot restore --no-jail SNAP, (J3) ... --jail SNAP:
 *   restore to the first resumed instruction (SNAP exits at once).
 * Then one more round of J1 and J3 with --debug, read for the jail's own
 * per-step times, and the memory of CLONES idle clones of IDLE_SNAP
 * restored at once, unjailed and jailed: Pss and private memory summed over
 * every process of one VM (jailed: `mote`, the jail's init and mote-vmm).
 */

enum { J0, J1, J2, J3, NJ };

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void die(const char *what)
{
	fprintf(stderr, "jail_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Run argv with stdout on /dev/null and stderr to `err_fd` (or /dev/null); returns microseconds. */
static double run_once(char *const *argv, int err_fd)
{
	double t0 = now_us();
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(err_fd >= 0 ? err_fd : null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	double t = now_us() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "jail_bench: %s %s ... failed (status %#x)\n", argv[0], argv[1], st);
		exit(1);
	}
	return t;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Percentile p (0..1) of n sorted samples. */
static double pct(const double *s, int n, double p)
{
	int i = (int)ceil(p * n) - 1;
	return s[i < 0 ? 0 : i >= n ? n - 1 : i];
}

/* Pss and Private_* (KiB) of one process from /proc/PID/smaps_rollup. */
static void rollup(pid_t pid, double *pss, double *priv)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		double v;
		if (sscanf(line, "Pss: %lf", &v) == 1)
			*pss += v;
		else if (sscanf(line, "Private_Clean: %lf", &v) == 1 ||
			 sscanf(line, "Private_Dirty: %lf", &v) == 1)
			*priv += v;
	}
	fclose(f);
}

/* The children of pid (first one), or 0. */
static pid_t child_of(pid_t pid)
{
	char path[96];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	FILE *f = fopen(path, "re");
	int c = 0;
	if (f) {
		if (fscanf(f, "%d", &c) != 1)
			c = 0;
		fclose(f);
	}
	return (pid_t)c;
}

/*
 * Start `n` clones of argv at once; once each has printed its ready line
 * (idle), sum the memory of each VM's processes (the process itself and
 * its descendants two levels down). Medians per VM into *pss and *priv.
 */
static void idle_memory(char *const *argv, int n, double *pss, double *priv)
{
	pid_t pids[64];
	int fds[64];
	double vpss[64], vpriv[64];
	for (int i = 0; i < n; i++) {
		int p[2];
		if (pipe(p) < 0)
			die("pipe");
		pids[i] = fork();
		if (pids[i] == 0) {
			int null = open("/dev/null", O_RDWR);
			dup2(null, 0);
			dup2(p[1], 1);
			dup2(null, 2);
			execv(argv[0], argv);
			_exit(127);
		}
		close(p[1]);
		fds[i] = p[0];
	}
	for (int i = 0; i < n; i++) {
		char buf[256];
		ssize_t got = read(fds[i], buf, sizeof(buf)); /* the clone's "ready" line: it sleeps now */
		(void)got;
	}
	usleep(200000);
	for (int i = 0; i < n; i++) {
		vpss[i] = vpriv[i] = 0;
		pid_t a = pids[i], b = child_of(a), c = b ? child_of(b) : 0;
		rollup(a, &vpss[i], &vpriv[i]);
		if (b)
			rollup(b, &vpss[i], &vpriv[i]);
		if (c)
			rollup(c, &vpss[i], &vpriv[i]);
	}
	for (int i = 0; i < n; i++) {
		kill(pids[i], SIGTERM);
		waitpid(pids[i], NULL, 0);
		close(fds[i]);
	}
	qsort(vpss, (size_t)n, sizeof(double), cmp_double);
	qsort(vpriv, (size_t)n, sizeof(double), cmp_double);
	*pss = vpss[n / 2];
	*priv = vpriv[n / 2];
}

/* Parse the "mote: jail: ... (cgroup 0.394, idmap 0.013, ...)" line into ms per step. */
static int parse_steps(const char *text, double *ms)
{
	const char *p = strstr(text, "mote: jail: ");
	if (!p || !(p = strstr(p, " ms (")))
		return -1;
	p += 5;
	for (int i = 0; i < JAIL_T_NSTEPS; i++) {
		const char *name = strstr(p, mote_jail_step_name[i]);
		if (!name)
			return -1;
		ms[i] = strtod(name + strlen(mote_jail_step_name[i]), NULL);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: jail_bench RUNS MOTE FIRST RESTORE_FIRST_SNAP IDLE_SNAP CLONES\n");
		return 1;
	}
	int runs = atoi(argv[1]), clones = atoi(argv[6]);
	if (runs < 20 || clones < 1 || clones > 64) {
		fprintf(stderr, "jail_bench: need RUNS >= 20 and 1 <= CLONES <= 64\n");
		return 1;
	}
	char *mote = argv[2], *first = argv[3], *snap = argv[4], *idle = argv[5];
	static char run_[] = "run", snapshot_[] = "snapshot", restore_[] = "restore", jail_[] = "--jail",
		    nojail_[] = "--no-jail", debug_[] = "--debug";
	char *const av[NJ][6] = {
	    {mote, run_, nojail_, first, NULL},
	    {mote, run_, jail_, first, NULL},
	    {mote, snapshot_, restore_, nojail_, snap, NULL},
	    {mote, snapshot_, restore_, jail_, snap, NULL},
	};
	static const char *const label[NJ] = {
	    "(J0) mote run --no-jail: boot to first insn", "(J1) mote run --jail: boot to first insn",
	    "(J2) snapshot restore --no-jail: to first insn", "(J3) snapshot restore --jail: to first insn"};
	double *us[NJ];
	for (int v = 0; v < NJ; v++)
		if (!(us[v] = calloc((size_t)runs, sizeof(double))))
			die("calloc");
	for (int w = 0; w < 3; w++)
		for (int v = 0; v < NJ; v++)
			run_once(av[v], -1);
	for (int r = 0; r < runs; r++)
		for (int v = 0; v < NJ; v++)
			us[v][r] = run_once(av[v], -1);
	double med[NJ];
	printf(
	    "%d runs each, interleaved round-robin after 3 warm-up rounds; fork+exec of mote to waitpid\n\n",
	    runs);
	printf("%-48s %9s %9s %9s %9s   %s\n", "variant (us)", "median", "p90", "p99", "min", "ratio");
	for (int v = 0; v < NJ; v++) {
		qsort(us[v], (size_t)runs, sizeof(double), cmp_double);
		med[v] = pct(us[v], runs, 0.5);
		char ratio[32] = "";
		if (v == J1 || v == J3)
			snprintf(ratio, sizeof(ratio), "%s = %.2fx", v == J1 ? "J1/J0" : "J3/J2",
				 med[v] / med[v - 1]);
		printf("%-48s %9.0f %9.0f %9.0f %9.0f   %s\n", label[v], med[v], pct(us[v], runs, 0.9),
		       pct(us[v], runs, 0.99), us[v][0], ratio);
	}

	/* The jail's steps: --debug runs of J3 (restore), medians. */
	int n = runs < 50 ? runs : 50;
	double *steps[JAIL_T_NSTEPS];
	for (int i = 0; i < JAIL_T_NSTEPS; i++)
		if (!(steps[i] = calloc((size_t)n, sizeof(double))))
			die("calloc");
	char *const dbg[] = {mote, snapshot_, restore_, jail_, debug_, snap, NULL};
	for (int r = 0; r < n; r++) {
		char tmpl[] = "/tmp/jail-bench.XXXXXX";
		int fd = mkstemp(tmpl);
		if (fd < 0)
			die("mkstemp");
		unlink(tmpl);
		run_once(dbg, fd);
		char text[8192];
		ssize_t got = pread(fd, text, sizeof(text) - 1, 0);
		close(fd);
		text[got > 0 ? got : 0] = 0;
		double ms[JAIL_T_NSTEPS];
		if (parse_steps(text, ms) < 0) {
			fprintf(stderr, "jail_bench: no 'mote: jail:' line in --debug output: %.300s\n",
				text);
			return 1;
		}
		for (int i = 0; i < JAIL_T_NSTEPS; i++)
			steps[i][r] = ms[i] * 1000.0;
	}
	printf("\nthe jail's set-up steps during (J3), from mote --debug (%d runs, us):\n", n);
	printf("  %-8s %9s %9s %9s\n", "step", "median", "p90", "p99");
	for (int i = 0; i < JAIL_T_NSTEPS; i++) {
		qsort(steps[i], (size_t)n, sizeof(double), cmp_double);
		printf("  %-8s %9.0f %9.0f %9.0f\n", mote_jail_step_name[i], pct(steps[i], n, 0.5),
		       pct(steps[i], n, 0.9), pct(steps[i], n, 0.99));
	}

	char *const idle_nj[] = {mote, snapshot_, restore_, nojail_, idle, NULL};
	char *const idle_j[] = {mote, snapshot_, restore_, jail_, idle, NULL};
	double pss0, priv0, pss1, priv1;
	idle_memory(idle_nj, clones, &pss0, &priv0);
	idle_memory(idle_j, clones, &pss1, &priv1);
	printf("\nidle VMs, %d at once, per VM (KiB; all of its processes)   Pss   private\n", clones);
	printf("  %-54s %7.0f %7.0f\n", "unjailed (mote-vmm)", pss0, priv0);
	printf("  %-54s %7.0f %7.0f\n", "jailed (mote + the jail's init + mote-vmm)", pss1, priv1);
	printf("\ntarget: (J3) median <= 2x (J2) median: %.2fx: %s\n", med[J3] / med[J2],
	       med[J3] / med[J2] <= 2.0 ? "met" : "NOT met");
	return 0;
}
