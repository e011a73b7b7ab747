/* `mote run`: pack (or reuse) the rootfs, check the program, then become mote-vmm. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "vmm_exec.h"
#include "elf.h"
#include "err.h"
#include "file.h"
#include "rootfs.h"
#include "size.h"
#include "status.h"

#define STACK_RESERVE (4ull << 20)

static void run_usage(FILE *out)
{
	fprintf(out, "usage: mote run [--mem SIZE] [--rootfs DIR] [--env K=V]... [--cwd DIR] [--timeout S]\n"
		     "                [--debug] [--snapshot FILE [--exit-after-snapshot]] [--log-fd N]\n"
		     "                [--jail|--no-jail] [--cpus N] [--cpu-weight W] [--mem-limit SIZE]\n"
		     "                [--io-limit L] [--pids N] [--uid-range A-B] [--allow-unlimited]\n"
		     "                [--] PROGRAM [ARGS...]\n"
		     "  --mem SIZE     guest memory, e.g. 64M (default), 1G\n"
		     "  --rootfs DIR   pack DIR as the root file system; PROGRAM is a path inside it\n"
		     "  --env K=V      add an environment variable (repeatable)\n"
		     "  --cwd DIR      the program's working directory in the root file system (default /)\n"
		     "  --timeout S    kill the guest after S seconds (e.g. 10, 0.5, 250ms)\n"
		     "  --debug        log guest kernel diagnostics (unknown syscalls, ...)\n"
		     "  --snapshot FILE  allow snapshots, saved to FILE and FILE.mem: the program\n"
		     "                 writes to /dev/mote/snapshot, or `mote snapshot take PID`\n"
		     "  --exit-after-snapshot  end once the snapshot is written (status 0)\n"
		     "  --log-fd N     mote-vmm's own lines (crash reports, ...) go to descriptor N;\n"
		     "                 stderr then carries only the program's stderr\n" VMM_JAIL_USAGE
		     "Without --rootfs, PROGRAM is a host file and the root file system holds just it.\n");
}

static int elf_status(int r)
{
	switch (r) {
	case MOTE_ELF_NOT_ELF:
	case MOTE_ELF_CORRUPT: return MOTE_STATUS_NOT_ELF;
	case MOTE_ELF_TRUNCATED: return MOTE_STATUS_TRUNCATED;
	case MOTE_ELF_DYNAMIC: return MOTE_STATUS_DYNAMIC;
	default: return MOTE_STATUS_UNSUPPORTED;
	}
}

/*
 * Check the program on the host first, so that common mistakes get their
 * message before any VM. A dynamic program needs its interpreter in the root
 * file system: `rootfs_dir` (NULL: the root file system holds just the
 * program, so it cannot run).
 */
static int check_program(const char *host_path, const char *shown, const char *rootfs_dir, uint64_t mem,
			 struct mote_err *err)
{
	struct stat st;
	int fd = mote_open_regular(host_path, &st);
	if (fd == -2)
		return mote_errf(err, MOTE_STATUS_UNSUPPORTED, "program %s: %s, not a regular file", shown,
				 mote_file_kind(st.st_mode));
	if (fd < 0)
		return mote_errnof(err, errno == ENOENT ? MOTE_STATUS_NOT_FOUND : MOTE_STATUS_UNSUPPORTED,
				   errno, "program %s", shown);
	if (st.st_size == 0) {
		close(fd);
		return mote_errf(err, MOTE_STATUS_NOT_ELF, "program %s: empty file, not an ELF executable",
				 shown);
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "program %s: cannot map", shown);
	struct mote_elf_info info;
	int r = mote_elf_parse(p, (size_t)st.st_size, &info);
	munmap(p, (size_t)st.st_size);
	if (r == MOTE_ELF_DYNAMIC) {
		char interp[PATH_MAX];
		struct stat ist;
		snprintf(interp, sizeof(interp), "%s%s", rootfs_dir ? rootfs_dir : "", info.interp);
		if (!rootfs_dir || stat(interp, &ist) < 0 || !S_ISREG(ist.st_mode))
			return mote_errf(
			    err, MOTE_STATUS_DYNAMIC,
			    "program %s: dynamically linked (PT_INTERP %s), and %s is not in the root "
			    "file system: run it with --rootfs DIR holding its libraries "
			    "(mote rootfs add-program, docs/dynamic.md)",
			    shown, info.interp, info.interp);
		r = MOTE_ELF_OK; /* the guest starts it with its interpreter */
	}
	if (r != MOTE_ELF_OK)
		return mote_errf(err, elf_status(r), "program %s: %s", shown, mote_elf_strerror(r));
	uint64_t need = info.hi - info.lo;
	if ((!info.is_pie && info.hi > mem - STACK_RESERVE) || need > mem - STACK_RESERVE)
		return mote_errf(err, MOTE_STATUS_TOO_BIG,
				 "program %s: its segments [%#llx, %#llx) do not fit in --mem %llu MiB",
				 shown, (unsigned long long)info.lo, (unsigned long long)info.hi,
				 (unsigned long long)(mem >> 20));
	return 0;
}

/* Add K=V to the environment; a later value for the same K replaces the earlier one. */
static void add_env(const char **envs, int *n, const char *kv)
{
	size_t klen = (size_t)(strchr(kv, '=') - kv) + 1;
	for (int i = 0; i < *n; i++)
		if (!strncmp(envs[i], kv, klen)) {
			envs[i] = kv;
			return;
		}
	envs[(*n)++] = kv;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"mem", required_argument, NULL, 'm'},
	    {"rootfs", required_argument, NULL, 'r'},
	    {"env", required_argument, NULL, 'e'},
	    {"cwd", required_argument, NULL, 'C'},
	    {"timeout", required_argument, NULL, 't'},
	    {"debug", no_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {"snapshot", required_argument, NULL, 's'},
	    {"exit-after-snapshot", no_argument, NULL, 'x'},
	    {"log-fd", required_argument, NULL, 'l'},
	    VMM_JAIL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct mote_err err = {0};
	const char *mem_text = "64M", *rootfs_dir = NULL, *cwd = NULL;
	struct vmm_flags flags = {.jail = -1};
	int nenv = 0;
	static const char **envs; /* static: stays reachable until exit */
	envs = calloc((size_t)argc + 8, sizeof(char *));
	if (!envs)
		return MOTE_STATUS_HOST;
	envs[nenv++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	envs[nenv++] = "HOME=/";

	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'm': mem_text = optarg; break;
		case 'r': rootfs_dir = optarg; break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=') {
				mote_errf(&err, MOTE_STATUS_USAGE, "--env: '%s' is not K=V", optarg);
				mote_err_exit("mote", &err);
			}
			add_env(envs, &nenv, optarg);
			break;
		case 'C':
			if (optarg[0] != '/') {
				mote_errf(&err, MOTE_STATUS_USAGE, "--cwd: '%s' is not an absolute path",
					  optarg);
				mote_err_exit("mote", &err);
			}
			cwd = optarg;
			break;
		case 't': flags.timeout = optarg; break;
		case 'd': flags.debug = 1; break;
		case 's': flags.snapshot = optarg; break;
		case 'x': flags.exit_after_snapshot = 1; break;
		case 'l': flags.log_fd = optarg; break;
		case 'h':
			run_usage(stdout);
			free(envs);
			return 0;
		default:
			if (vmm_flags_jail_option(&flags, c, optarg))
				break;
			fprintf(stderr,
				"mote: run: unknown or incomplete option '%s' (see mote run --help)\n",
				argv[optind - 1]);
			free(envs);
			return MOTE_STATUS_USAGE;
		}
	}
	if (optind >= argc) {
		run_usage(stderr);
		free(envs);
		return MOTE_STATUS_USAGE;
	}
	vmm_flags_check(&flags);
	uint64_t mem;
	if (mote_parse_size(mem_text, &mem) < 0 || mem < (16ull << 20) || mem > (32ull << 30)) {
		mote_errf(&err, MOTE_STATUS_USAGE,
			  "--mem: '%s' is not a size between 16M and 32G (like 64M or 1G)", mem_text);
		mote_err_exit("mote", &err);
	}
	mem = (mem + (2ull << 20) - 1) & ~((2ull << 20) - 1);

	const char *program = argv[optind];
	char image[PATH_MAX], exec_path[PATH_MAX];
	if (rootfs_dir) {
		struct stat st;
		if (stat(rootfs_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			mote_errf(&err,
				  errno == ENOENT || !errno ? MOTE_STATUS_NOT_FOUND : MOTE_STATUS_ROOTFS,
				  "--rootfs %s: not a directory", rootfs_dir);
			mote_err_exit("mote", &err);
		}
		snprintf(exec_path, sizeof(exec_path), "%s%s", program[0] == '/' ? "" : "/", program);
		char host_path[PATH_MAX * 2];
		snprintf(host_path, sizeof(host_path), "%s%s", rootfs_dir, exec_path);
		struct stat lst;
		if (lstat(host_path, &lst) == 0 && !S_ISLNK(lst.st_mode) &&
		    check_program(host_path, exec_path, rootfs_dir, mem, &err) < 0)
			mote_err_exit("mote", &err);
		if (lstat(host_path, &lst) < 0) {
			mote_errf(&err, MOTE_STATUS_NOT_FOUND, "program %s: no such file in --rootfs %s",
				  exec_path, rootfs_dir);
			mote_err_exit("mote", &err);
		}
		if (mote_rootfs_cached_dir(rootfs_dir, image, sizeof(image), &err) < 0)
			mote_err_exit("mote", &err);
	} else {
		if (check_program(program, program, NULL, mem, &err) < 0)
			mote_err_exit("mote", &err);
		char tmp[PATH_MAX];
		snprintf(tmp, sizeof(tmp), "%s", program);
		snprintf(exec_path, sizeof(exec_path), "/%s", basename(tmp));
		struct mote_rootfs_file file = {.host_path = program, .guest_path = exec_path + 1};
		if (mote_rootfs_cached_files(&file, 1, image, sizeof(image), &err) < 0)
			mote_err_exit("mote", &err);
	}

	char vmm[PATH_MAX], kernel[PATH_MAX];
	if (mote_find_beside_self("mote-vmm", vmm, sizeof(vmm)) < 0 ||
	    mote_find_beside_self("mote-kernel", kernel, sizeof(kernel)) < 0) {
		mote_errf(&err, MOTE_STATUS_HOST,
			  "cannot find mote-vmm and mote-kernel beside this mote binary");
		mote_err_exit("mote", &err);
	}

	/* mote-vmm --kernel K --rootfs I --mem M [--timeout T] [--debug] [--snapshot F] [--env E]... -- EXEC
	 * ARGS... */
	int nargs = 0, max = 16 + 2 * nenv + argc;
	const char **vargv = calloc((size_t)max, sizeof(char *));
	char mem_arg[32];
	if (!vargv)
		return MOTE_STATUS_HOST;
	snprintf(mem_arg, sizeof(mem_arg), "%llu", (unsigned long long)mem);
	vargv[nargs++] = vmm;
	vargv[nargs++] = "--kernel";
	vargv[nargs++] = kernel;
	vargv[nargs++] = "--rootfs";
	vargv[nargs++] = image;
	vargv[nargs++] = "--mem";
	vargv[nargs++] = mem_arg;
	vmm_flags_append(&flags, vargv, &nargs);
	if (cwd) {
		vargv[nargs++] = "--cwd";
		vargv[nargs++] = cwd;
	}
	for (int i = 0; i < nenv; i++) {
		vargv[nargs++] = "--env";
		vargv[nargs++] = envs[i];
	}
	vargv[nargs++] = "--";
	vargv[nargs++] = exec_path;
	for (int i = optind + 1; i < argc; i++)
		vargv[nargs++] = argv[i];
	vargv[nargs] = NULL;
	struct vmm_inputs in = {.files = {kernel, image}, .nfiles = 2, .guest_mem = mem, .io_file = image};
	vmm_exec(vmm, vargv, &flags, &in);
}
