/* `mote snapshot`: restore a clone of a snapshot (becomes mote-vmm) or ask a running VM for one. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcntl.h>

#include "commands.h"
#include "snapfile.h"
#include "err.h"
#include "vmm_exec.h"
#include "size.h"
#include "status.h"

static void snapshot_usage(FILE *out)
{
	fprintf(out, "usage: mote snapshot restore [--timeout S] [--debug] [--snapshot FILE "
		     "[--exit-after-snapshot]] [--log-fd N]\n"
		     "                             [jail flags as for mote run] SNAPSHOT\n"
		     "       mote snapshot take [--wait S] PID\n"
		     "  restore   resume a clone of SNAPSHOT (and SNAPSHOT.mem) in a new microVM; the\n"
		     "            clone continues where the snapshot was taken and exits with the\n"
		     "            program's status. Many clones of one snapshot may run at once.\n"
		     "  take      ask the running `mote run --snapshot FILE` (or mote-vmm) with process\n"
		     "            id PID to snapshot its VM now (SIGUSR1) and wait until FILE is\n"
		     "            written (at most --wait seconds, default 30)\n"
		     "See docs/snapshots.md.\n");
}

/*
 * The guest RAM of a snapshot, from its memory file's header (for the
 * default --mem-limit); 0 when it cannot be read (mote-vmm then refuses
 * the snapshot with the proper message).
 */
static uint64_t snapshot_guest_mem(const char *mem_file)
{
	struct snap_mem_header h;
	int fd = open(mem_file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	uint64_t mem = 0;
	if (fd >= 0 && pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) && h.mem_size <= (64ull << 30))
		mem = h.mem_size + h.rootfs_map_size;
	if (fd >= 0)
		close(fd);
	return mem;
}

static int snapshot_restore(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"timeout", required_argument, NULL, 't'},
	    {"debug", no_argument, NULL, 'd'},
	    {"snapshot", required_argument, NULL, 's'},
	    {"exit-after-snapshot", no_argument, NULL, 'x'},
	    {"log-fd", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    VMM_JAIL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct mote_err err = {0};
	struct vmm_flags flags = {.jail = -1};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 't': flags.timeout = optarg; break;
		case 'd': flags.debug = 1; break;
		case 's': flags.snapshot = optarg; break;
		case 'x': flags.exit_after_snapshot = 1; break;
		case 'l': flags.log_fd = optarg; break;
		case 'h': snapshot_usage(stdout); return 0;
		default:
			if (vmm_flags_jail_option(&flags, c, optarg))
				break;
			fprintf(stderr,
				"mote: snapshot restore: unknown or incomplete option '%s' (see mote "
				"snapshot --help)\n",
				argv[optind - 1]);
			return MOTE_STATUS_USAGE;
		}
	}
	if (optind != argc - 1) {
		snapshot_usage(stderr);
		return MOTE_STATUS_USAGE;
	}
	vmm_flags_check(&flags);
	char vmm[PATH_MAX], kernel[PATH_MAX];
	if (mote_find_beside_self("mote-vmm", vmm, sizeof(vmm)) < 0) {
		mote_errf(&err, MOTE_STATUS_HOST, "cannot find mote-vmm beside this mote binary");
		mote_err_exit("mote", &err);
	}
	const char *vargv[6 + VMM_FLAGS_ARGS_MAX];
	int n = 0;
	static char mem_file[PATH_MAX + 8], old_mem_file[PATH_MAX + 16];
	snprintf(mem_file, sizeof(mem_file), "%s.mem", argv[optind]);
	/* FILE.mem.old: the memory file of FILE when a writer died between its two renames (snapshots.md). */
	snprintf(old_mem_file, sizeof(old_mem_file), "%s.mem.old", argv[optind]);
	struct vmm_inputs in = {
	    .files = {argv[optind], mem_file, old_mem_file}, .nfiles = 3, .io_file = mem_file};
	in.guest_mem = snapshot_guest_mem(mem_file);
	vargv[n++] = vmm;
	vargv[n++] = "--restore";
	vargv[n++] = argv[optind];
	/* The installed kernel, for crash-report symbols if it is the one the snapshot booted. */
	if (mote_find_beside_self("mote-kernel", kernel, sizeof(kernel)) == 0) {
		vargv[n++] = "--kernel";
		vargv[n++] = kernel;
		in.files[in.nfiles++] = kernel;
	}
	vmm_flags_append(&flags, vargv, &n);
	vargv[n] = NULL;
	vmm_exec(vmm, vargv, &flags, &in);
}

/* A field of /proc/PID/status ("PPid", "NSpid") into buf; returns 0 or -1. */
static int status_field(pid_t pid, const char *key, char *buf, size_t size)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t kl = strlen(key);
	int r = -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			snprintf(buf, size, "%s", line + kl + 1);
			r = 0;
			break;
		}
	fclose(f);
	return r;
}

/*
 * The supervisor (`mote run` or `mote snapshot restore`) of a jailed
 * mote-vmm: the parent of its jail's init. 0 when `pid` is not jailed
 * (its pid namespace is the caller's).
 */
static pid_t jail_supervisor_of(pid_t pid)
{
	char ns[256], pp[64];
	if (status_field(pid, "NSpid", ns, sizeof(ns)) < 0)
		return 0;
	char *end;
	strtol(ns, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end == '\n' || !*end)
		return 0; /* one pid: not in a pid namespace of its own */
	pid_t init = status_field(pid, "PPid", pp, sizeof(pp)) == 0 ? (pid_t)atoi(pp) : 0;
	return init > 0 && status_field(init, "PPid", pp, sizeof(pp)) == 0 ? (pid_t)atoi(pp) : 0;
}

/*
 * The snapshot path the VM in process `pid` was given (--snapshot FILE),
 * made absolute against that process's working directory, and the process
 * to ask (*target): mote-vmm itself, or for a jailed VM its supervisor
 * (`mote run` / `mote snapshot restore`; given its pid or mote-vmm's host
 * pid). Returns 0 or -1 with *err.
 */
static int snapshot_path_of(pid_t pid, char *out, size_t size, pid_t *target, struct mote_err *err)
{
	char path[64], cmdline[16384];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return mote_errnof(err, errno == ENOENT ? MOTE_STATUS_NOT_FOUND : MOTE_STATUS_HOST, errno,
				   "no process %d", (int)pid);
	size_t len = fread(cmdline, 1, sizeof(cmdline) - 1, f);
	fclose(f);
	cmdline[len] = 0;
	const char *prog = strrchr(cmdline, '/') ? strrchr(cmdline, '/') + 1 : cmdline;
	size_t first = strlen(cmdline) + 1; /* argv[1] */
	int supervisor =
	    !strcmp(prog, "mote") && first < len &&
	    (!strcmp(cmdline + first, "run") || (!strcmp(cmdline + first, "snapshot") && first + 9 < len &&
						 !strcmp(cmdline + first + 9, "restore")));
	if (!strcmp(prog, "mote-vmm")) {
		pid_t sup = jail_supervisor_of(pid);
		if (sup > 0)
			return snapshot_path_of(sup, out, size, target, err);
	} else if (!supervisor) {
		return mote_errf(err, MOTE_STATUS_USAGE, "process %d is not a mote VM (it runs %s)", (int)pid,
				 cmdline);
	}
	*target = pid;
	const char *file = NULL;
	for (size_t off = 0; off < len; off += strlen(cmdline + off) + 1) {
		if (!strcmp(cmdline + off, "--"))
			break;
		if (!strcmp(cmdline + off, "--snapshot") && off + strlen(cmdline + off) + 1 < len)
			file = cmdline + off + strlen(cmdline + off) + 1;
		else if (!strncmp(cmdline + off, "--snapshot=", 11))
			file = cmdline + off + 11;
	}
	if (!file)
		return mote_errf(err, MOTE_STATUS_USAGE,
				 "the VM in process %d was started without --snapshot FILE", (int)pid);
	if (file[0] == '/') {
		snprintf(out, size, "%s", file);
		return 0;
	}
	char cwd_link[64], cwd[PATH_MAX];
	snprintf(cwd_link, sizeof(cwd_link), "/proc/%d/cwd", (int)pid);
	ssize_t n = readlink(cwd_link, cwd, sizeof(cwd) - 1);
	if (n <= 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno,
				   "cannot read the working directory of process %d", (int)pid);
	cwd[n] = 0;
	snprintf(out, size, "%s/%s", cwd, file);
	return 0;
}

static int snapshot_take(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"wait", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct mote_err err = {0};
	uint64_t wait_ns = 30ull * 1000000000ull;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (mote_parse_duration(optarg, &wait_ns) < 0 || wait_ns == 0) {
				mote_errf(&err, MOTE_STATUS_USAGE,
					  "--wait: '%s' is not a positive number of seconds", optarg);
				mote_err_exit("mote", &err);
			}
			break;
		case 'h': snapshot_usage(stdout); return 0;
		default:
			fprintf(stderr,
				"mote: snapshot take: unknown or incomplete option '%s' (see mote snapshot "
				"--help)\n",
				argv[optind - 1]);
			return MOTE_STATUS_USAGE;
		}
	}
	char *end;
	long pid = optind == argc - 1 ? strtol(argv[optind], &end, 10) : 0;
	if (optind != argc - 1 || *end || pid <= 0 || pid > INT32_MAX) {
		mote_errf(&err, MOTE_STATUS_USAGE, "snapshot take: need one process id");
		mote_err_exit("mote", &err);
	}
	char file[PATH_MAX + 64];
	pid_t asked = (pid_t)pid;
	if (snapshot_path_of((pid_t)pid, file, sizeof(file), &asked, &err) < 0)
		mote_err_exit("mote", &err);
	pid = asked;

	/* Ask with a queued SIGUSR1; mote-vmm queues back SIGUSR1 (in place) or SIGUSR2 (failed). */
	sigset_t answers;
	sigemptyset(&answers);
	sigaddset(&answers, SIGUSR1);
	sigaddset(&answers, SIGUSR2);
	sigprocmask(SIG_BLOCK, &answers, NULL);
	if (sigqueue((pid_t)pid, SIGUSR1, (union sigval){.sival_int = MOTE_SNAPSHOT_REQUEST}) < 0) {
		mote_errnof(&err, MOTE_STATUS_HOST, errno, "cannot signal process %ld", pid);
		mote_err_exit("mote", &err);
	}
	for (uint64_t waited = 0; waited < wait_ns; waited += 20000000) {
		struct timespec slice = {0, 20000000};
		siginfo_t info;
		int sig = sigtimedwait(&answers, &info, &slice);
		if (sig > 0 && info.si_pid == (pid_t)pid && info.si_code == SI_QUEUE &&
		    info.si_value.sival_int == MOTE_SNAPSHOT_REQUEST) {
			if (sig == SIGUSR1) {
				printf("%s\n", file);
				return 0;
			}
			mote_errf(
			    &err, MOTE_STATUS_SNAP_WRITE,
			    "process %ld could not write snapshot %s (its stderr says why); the VM goes on",
			    pid, file);
			mote_err_exit("mote", &err);
		}
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
			mote_errf(&err, MOTE_STATUS_SNAP_WRITE,
				  "process %ld ended before writing snapshot %s", pid, file);
			mote_err_exit("mote", &err);
		}
	}
	mote_errf(&err, MOTE_STATUS_SNAP_WRITE, "no snapshot at %s after %.1f s", file,
		  (double)wait_ns / 1e9);
	mote_err_exit("mote", &err);
}

int cmd_snapshot(int argc, char **argv)
{
	if (argc < 2) {
		snapshot_usage(stderr);
		return MOTE_STATUS_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		snapshot_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "restore"))
		return snapshot_restore(argc - 1, argv + 1);
	if (!strcmp(argv[1], "take"))
		return snapshot_take(argc - 1, argv + 1);
	fprintf(stderr,
		"mote: snapshot: unknown subcommand '%s' (restore or take; see mote snapshot --help)\n",
		argv[1]);
	return MOTE_STATUS_USAGE;
}
