/* `mote rootfs add-program DIR FILE...`: copy programs and the shared libraries they need into a rootfs dir.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "elf.h"
#include "err.h"
#include "file.h"
#include "status.h"

/* Where a library is looked for after DT_RUNPATH: the directories Debian's ld.so searches without a cache. */
static const char *const default_dirs[] = {
    "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib",
    "/usr/local/lib",
};

#define MAX_FILES 1024

struct adder {
	const char *dir;       /* the rootfs directory */
	char *done[MAX_FILES]; /* guest paths already added (or being added) */
	unsigned ndone;
	unsigned long long bytes;
	struct mote_err err;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: mote rootfs add-program DIR FILE...\n"
		     "Copies each FILE (a program or a shared object, by its absolute path) into the\n"
		     "root file system directory DIR at the same path, with its ELF interpreter and,\n"
		     "recursively, every shared library it needs (DT_NEEDED, found through its\n"
		     "DT_RUNPATH and the system library directories, as ld.so finds them without a\n"
		     "cache). `mote run --rootfs DIR FILE` then runs a dynamic program. Data files\n"
		     "(a language's standard library, ...) are to be copied by hand (docs/dynamic.md).\n");
}

static int already(struct adder *a, const char *guest_path)
{
	for (unsigned i = 0; i < a->ndone; i++)
		if (!strcmp(a->done[i], guest_path))
			return 1;
	return 0;
}

/* mkdir -p of the parent directories of DIR + guest_path. */
static int make_parents(struct adder *a, const char *host_dest)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s", host_dest);
	for (char *s = path + strlen(a->dir) + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return mote_errnof(&a->err, MOTE_STATUS_ROOTFS, errno, "rootfs %s: cannot create %s",
					   a->dir, path);
		*s = '/';
	}
	return 0;
}

/* Write the `len` bytes at `data` to DIR + guest_path (a temporary name, then renamed: never half-written).
 */
static int write_file(struct adder *a, const char *guest_path, const void *data, size_t len, mode_t mode)
{
	char dest[PATH_MAX], tmp[PATH_MAX + 32];
	if (snprintf(dest, sizeof(dest), "%s%s", a->dir, guest_path) >= (int)sizeof(dest))
		return mote_errf(&a->err, MOTE_STATUS_ROOTFS, "rootfs %s: path %s is too long", a->dir,
				 guest_path);
	if (make_parents(a, dest) < 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.mote-tmp.%d", dest, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 0777);
	if (fd < 0)
		return mote_errnof(&a->err, MOTE_STATUS_ROOTFS, errno, "rootfs %s: cannot create %s", a->dir,
				   tmp);
	int r = mote_pwrite_all(fd, data, len, 0);
	if (r == 0 && fchmod(fd, mode & 0777) < 0)
		r = -1;
	if (close(fd) < 0)
		r = -1;
	if (r < 0 || rename(tmp, dest) < 0) {
		int e = errno;
		unlink(tmp);
		return mote_errnof(&a->err, MOTE_STATUS_ROOTFS, e, "rootfs %s: cannot write %s", a->dir,
				   dest);
	}
	a->bytes += len;
	return 0;
}

static int add_file(struct adder *a, const char *host_path, const char *guest_path, int must_be_elf);

/* Find the library `name` needed by the file at `host_path` (run path `runpath`) and add it. */
static int add_library(struct adder *a, const char *name, const char *needed_by, const char *runpath)
{
	char cand[PATH_MAX];
	if (strchr(name, '/')) /* a path: as given */
		return add_file(a, name, name, 1);
	/* DT_RUNPATH entries, with $ORIGIN the directory of the file that needs it. */
	char origin[PATH_MAX];
	snprintf(origin, sizeof(origin), "%s", needed_by);
	char *slash = strrchr(origin, '/');
	if (slash)
		*slash = 0;
	char rp[256];
	snprintf(rp, sizeof(rp), "%s", runpath);
	for (char *save = NULL, *d = strtok_r(rp, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char dir[PATH_MAX];
		if (!strncmp(d, "$ORIGIN", 7))
			snprintf(dir, sizeof(dir), "%s%s", origin, d + 7);
		else
			snprintf(dir, sizeof(dir), "%s", d);
		if (snprintf(cand, sizeof(cand), "%s/%s", dir, name) >= (int)sizeof(cand))
			continue;
		if (access(cand, R_OK) == 0 && dir[0] == '/')
			return add_file(a, cand, cand, 1);
	}
	for (size_t i = 0; i < sizeof(default_dirs) / sizeof(default_dirs[0]); i++) {
		if (snprintf(cand, sizeof(cand), "%s/%s", default_dirs[i], name) >= (int)sizeof(cand))
			continue;
		if (access(cand, R_OK) == 0)
			return add_file(a, cand, cand, 1);
	}
	return mote_errf(&a->err, MOTE_STATUS_NOT_FOUND,
			 "%s needs %s, found in none of its run path and the system library directories",
			 needed_by, name);
}

/*
 * Copy the file at `host_path` to DIR + `guest_path` (symbolic links
 * followed: the copy is a regular file), then what it needs if it is an ELF
 * file. Returns 0 or -1 with a->err.
 */
static int add_file(struct adder *a, const char *host_path, const char *guest_path, int must_be_elf)
{
	if (guest_path[0] != '/')
		return mote_errf(&a->err, MOTE_STATUS_USAGE,
				 "%s: give an absolute path (its path in the rootfs)", guest_path);
	if (already(a, guest_path))
		return 0;
	if (a->ndone == MAX_FILES)
		return mote_errf(&a->err, MOTE_STATUS_ROOTFS, "more than %d files to add", MAX_FILES);
	a->done[a->ndone++] = strdup(guest_path);
	struct stat st;
	int fd = mote_open_regular(host_path, &st);
	if (fd == -2)
		return mote_errf(&a->err, MOTE_STATUS_UNSUPPORTED, "%s: %s, not a regular file", host_path,
				 mote_file_kind(st.st_mode));
	if (fd < 0)
		return mote_errnof(&a->err, errno == ENOENT ? MOTE_STATUS_NOT_FOUND : MOTE_STATUS_UNSUPPORTED,
				   errno, "%s", host_path);
	void *p = st.st_size ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	close(fd);
	if (p == MAP_FAILED)
		return mote_errnof(&a->err, MOTE_STATUS_HOST, errno, "%s: cannot map", host_path);
	struct mote_elf_deps deps;
	int r = p ? mote_elf_deps(p, (size_t)st.st_size, &deps) : MOTE_ELF_NOT_ELF;
	struct mote_elf_info info;
	int pr = p ? mote_elf_parse(p, (size_t)st.st_size, &info) : MOTE_ELF_NOT_ELF;
	int rc = 0;
	if (r != MOTE_ELF_OK && (must_be_elf || r != MOTE_ELF_NOT_ELF)) {
		rc = mote_errf(&a->err,
			       r == MOTE_ELF_NOT_ELF	 ? MOTE_STATUS_NOT_ELF
			       : r == MOTE_ELF_TRUNCATED ? MOTE_STATUS_TRUNCATED
			       : r == MOTE_ELF_CORRUPT	 ? MOTE_STATUS_NOT_ELF
							 : MOTE_STATUS_UNSUPPORTED,
			       "%s: %s", host_path, mote_elf_strerror(r));
	} else {
		rc = write_file(a, guest_path, p, (size_t)st.st_size, st.st_mode);
	}
	char interp[sizeof(info.interp)];
	snprintf(interp, sizeof(interp), "%s", pr == MOTE_ELF_DYNAMIC ? info.interp : "");
	if (p)
		munmap(p, (size_t)st.st_size);
	if (rc < 0 || r != MOTE_ELF_OK)
		return rc;
	if (interp[0] && add_file(a, interp, interp, 1) < 0)
		return -1;
	for (unsigned i = 0; i < deps.nneeded; i++)
		if (add_library(a, deps.needed[i], host_path, deps.runpath) < 0)
			return -1;
	return 0;
}

static int rootfs_add_program(int argc, char **argv)
{
	if (argc < 3) {
		usage(stderr);
		return MOTE_STATUS_USAGE;
	}
	static struct adder a;
	a.dir = argv[1];
	struct stat st;
	if (stat(a.dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		mote_errf(&a.err, MOTE_STATUS_ROOTFS, "rootfs %s: %s", a.dir,
			  stat(a.dir, &st) < 0 ? "no such directory" : "not a directory");
		mote_err_exit("mote", &a.err);
	}
	for (int i = 2; i < argc; i++) {
		char abs[PATH_MAX];
		if (argv[i][0] != '/') {
			char cwd[PATH_MAX];
			if (!getcwd(cwd, sizeof(cwd)) ||
			    snprintf(abs, sizeof(abs), "%s/%s", cwd, argv[i]) >= (int)sizeof(abs)) {
				mote_errf(&a.err, MOTE_STATUS_USAGE, "%s: path too long", argv[i]);
				mote_err_exit("mote", &a.err);
			}
		} else {
			snprintf(abs, sizeof(abs), "%s", argv[i]);
		}
		unsigned before = a.ndone;
		unsigned long long bytes = a.bytes;
		if (add_file(&a, abs, abs, 1) < 0)
			mote_err_exit("mote", &a.err);
		printf("mote: rootfs %s: %s added with %u more files (%llu KiB in all)\n", a.dir, abs,
		       a.ndone - before - 1, (a.bytes - bytes) >> 10);
	}
	return 0;
}

int cmd_rootfs(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "add-program"))
		return rootfs_add_program(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return MOTE_STATUS_USAGE;
}
