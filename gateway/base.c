/* Base snapshots: a runtime booted and initialised once, stored under its identity in bases/, built on first
 * use. */
#include "base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bundle.h"
#include "registry.h"
#include "rootfs.h"
#include "size.h"
#include "vmm_spawn.h"

#define RETRY_MS 5000

struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct base {
	struct base *next;
	char runtime[8];
	uint64_t mem;
	struct file_id kernel_file, runtime_file;
	char id[65], kernel_sha[65], runtime_sha[65];
	char snapshot[PATH_MAX + 100];
	int ready;
	char failure[600];
	uint64_t failed_at;
	h2o_linklist_t waiters;
	/* A build in progress. */
	int building;
	struct spawned proc;
	h2o_socket_t *proc_sock, *out_sock;
	char tmpdir[PATH_MAX + 32];
	char last_line[512];
	char line[512];
	size_t line_len;
};

static struct base *bases;

static const char *runtime_binary(const char *runtime)
{
	if (!strcmp(runtime, "c"))
		return "mote-c-init";
	if (!strcmp(runtime, "lua"))
		return "mote-lua";
	return NULL;
}

static int file_id_of(const char *path, struct file_id *id)
{
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
	return 0;
}

static int same_file(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* SHA-256 of a file's bytes in hex. */
static int hash_file(const char *path, char *hex)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(md, buf, (size_t)n);
	close(fd);
	unsigned char out[32];
	unsigned int len;
	EVP_DigestFinal_ex(md, out, &len);
	EVP_MD_CTX_free(md);
	if (n < 0)
		return -1;
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", out[i]);
	return 0;
}

static uint64_t now_ms(void)
{
	return h2o_now(gw.loop);
}

static void notify(struct base *b)
{
	while (!h2o_linklist_is_empty(&b->waiters)) {
		struct base_waiter *w = H2O_STRUCT_FROM_MEMBER(struct base_waiter, link, b->waiters.next);
		h2o_linklist_unlink(&w->link);
		w->cb(w);
	}
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			char p[PATH_MAX + 300];
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

static void build_failed(struct base *b, const char *fmt, const char *detail)
{
	snprintf(b->failure, sizeof(b->failure), "cannot build the %s base (%llu MiB): %s%s%s", b->runtime,
		 (unsigned long long)(b->mem >> 20), fmt, detail && detail[0] ? ": " : "",
		 detail ? detail : "");
	fprintf(stderr, "mote: %s\n", b->failure);
	b->failed_at = now_ms();
	if (b->tmpdir[0])
		remove_tree(b->tmpdir);
	b->tmpdir[0] = 0;
}

static void close_build(struct base *b)
{
	if (b->proc_sock)
		h2o_socket_close(b->proc_sock);
	if (b->out_sock)
		h2o_socket_close(b->out_sock);
	b->proc_sock = b->out_sock = NULL;
	b->building = 0;
}

/* Read the build's output: echo it to the gateway's stderr, remember the last line. */
static int drain_build_output(struct base *b)
{
	char buf[4096];
	ssize_t n;
	while ((n = read(h2o_socket_get_fd(b->out_sock), buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				b->line[b->line_len] = 0;
				if (b->line_len) {
					snprintf(b->last_line, sizeof(b->last_line), "%s", b->line);
					fprintf(stderr, "mote: base %s: %s\n", b->runtime, b->line);
				}
				b->line_len = 0;
			} else if (b->line_len < sizeof(b->line) - 1) {
				b->line[b->line_len++] = buf[i];
			}
		}
	}
	return n == 0 ? 0 : 1;
}

static void on_build_output(h2o_socket_t *sock, const char *err)
{
	struct base *b = sock->data;
	if (!drain_build_output(b)) {
		h2o_socket_close(b->out_sock);
		b->out_sock = NULL;
	}
}

static void on_build_exit(h2o_socket_t *sock, const char *err)
{
	struct base *b = sock->data;
	int status;
	if (spawn_wait(&b->proc, &status, WNOHANG) == 0)
		return;
	if (b->out_sock)
		drain_build_output(b);
	close_build(b);
	char snap[PATH_MAX + 64], final_dir[PATH_MAX + 100];
	snprintf(snap, sizeof(snap), "%s/base.snap", b->tmpdir);
	snprintf(final_dir, sizeof(final_dir), "%s/%s", gw.bases_dir, b->id);
	struct stat st;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char what[64];
		if (WIFSIGNALED(status))
			snprintf(what, sizeof(what), "mote-vmm ended by signal %d", WTERMSIG(status));
		else
			snprintf(what, sizeof(what), "mote-vmm exited with status %d", WEXITSTATUS(status));
		build_failed(b, what, b->last_line);
	} else if (stat(snap, &st) < 0) {
		build_failed(b, "the runtime exited without asking for a snapshot", b->last_line);
	} else {
		char mem[PATH_MAX + 80], rootfs[PATH_MAX + 64];
		snprintf(mem, sizeof(mem), "%s.mem", snap);
		snprintf(rootfs, sizeof(rootfs), "%s/rootfs.cpio", b->tmpdir);
		unlink(rootfs); /* the snapshot holds its own copy */
		struct mote_err rerr = {0};
		if (fsync_path(snap, O_RDONLY) < 0 || fsync_path(mem, O_RDONLY) < 0 ||
		    fsync_path(b->tmpdir, O_RDONLY | O_DIRECTORY) < 0) {
			build_failed(b, "cannot sync the snapshot", strerror(errno));
		} else if (rename(b->tmpdir, final_dir) < 0 && !(errno == ENOTEMPTY || errno == EEXIST)) {
			build_failed(b, "cannot move the snapshot into place", strerror(errno));
		} else {
			if (b->tmpdir[0] && access(b->tmpdir, F_OK) == 0)
				remove_tree(b->tmpdir); /* another build won the race */
			b->tmpdir[0] = 0;
			fsync_path(gw.bases_dir, O_RDONLY | O_DIRECTORY);
			if (registry_put_base(gw.reg, b->id, b->runtime, b->mem, b->kernel_sha,
					      b->runtime_sha, &rerr) < 0)
				fprintf(stderr, "mote: %s\n", rerr.msg);
			snprintf(b->snapshot, sizeof(b->snapshot), "%s/base.snap", final_dir);
			b->ready = 1;
			fprintf(stderr, "mote: built the %s base (%llu MiB) in %s\n", b->runtime,
				(unsigned long long)(b->mem >> 20), final_dir);
		}
	}
	notify(b);
}

static void start_build(struct base *b, const char *runtime_path)
{
	struct mote_err err = {0};
	b->failure[0] = 0;
	b->last_line[0] = 0;
	b->line_len = 0;
	snprintf(b->tmpdir, sizeof(b->tmpdir), "%s/.tmp-XXXXXX", gw.bases_dir);
	if (!mkdtemp(b->tmpdir)) {
		b->tmpdir[0] = 0;
		build_failed(b, "cannot create a directory", strerror(errno));
		return;
	}
	char rootfs[PATH_MAX + 64], snap[PATH_MAX + 64], guest_path[64], prog[64], mem[32];
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs.cpio", b->tmpdir);
	snprintf(snap, sizeof(snap), "%s/base.snap", b->tmpdir);
	snprintf(guest_path, sizeof(guest_path), "bin/%s", runtime_binary(b->runtime));
	snprintf(prog, sizeof(prog), "/%s", guest_path);
	snprintf(mem, sizeof(mem), "%lluM", (unsigned long long)(b->mem >> 20));
	struct mote_rootfs_file f = {.host_path = runtime_path, .guest_path = guest_path};
	if (mote_rootfs_pack_files(&f, 1, rootfs, &err) < 0) {
		build_failed(b, "cannot pack the runtime", err.msg);
		return;
	}
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		build_failed(b, "pipe", strerror(errno));
		return;
	}
	const char *argv[] = {gw.vmm,
			      "--kernel",
			      gw.kernel,
			      "--rootfs",
			      rootfs,
			      "--mem",
			      mem,
			      "--snapshot",
			      snap,
			      "--exit-after-snapshot",
			      "--die-with-parent",
			      "--",
			      prog,
			      NULL};
	int r = spawn_vmm(argv, -1, pipefd[1], &b->proc, &err);
	close(pipefd[1]);
	if (r < 0) {
		close(pipefd[0]);
		build_failed(b, "cannot start mote-vmm", err.msg);
		return;
	}
	b->building = 1;
	b->proc_sock = h2o_evloop_socket_create(gw.loop, b->proc.pidfd, H2O_SOCKET_FLAG_DONT_READ);
	b->proc_sock->data = b;
	h2o_socket_read_start(b->proc_sock, on_build_exit);
	b->out_sock = h2o_evloop_socket_create(gw.loop, pipefd[0], H2O_SOCKET_FLAG_DONT_READ);
	b->out_sock->data = b;
	h2o_socket_read_start(b->out_sock, on_build_output);
	fprintf(stderr, "mote: building the %s base (%s) in %s\n", b->runtime, mem, b->tmpdir);
}

/* Compute the identity of the base for runtime/mem from the files as they are now. */
static int identify(struct base *b, const char *runtime_path)
{
	char id_text[300];
	if (hash_file(gw.kernel, b->kernel_sha) < 0 || hash_file(runtime_path, b->runtime_sha) < 0)
		return -1;
	int n = snprintf(id_text, sizeof(id_text), "mote-base-v1 %s %llu %s %s", b->runtime,
			 (unsigned long long)b->mem, b->kernel_sha, b->runtime_sha);
	bundle_sha256_hex(id_text, (size_t)n, b->id);
	return 0;
}

struct base *base_lookup(const char *runtime, uint64_t mem, struct api_error *e)
{
	const char *bin = runtime_binary(runtime);
	if (!bin) {
		api_errorf(e, 400, "bad_request", "unknown runtime '%s'", runtime);
		return NULL;
	}
	char runtime_path[PATH_MAX + 64];
	snprintf(runtime_path, sizeof(runtime_path), "%s/%s", gw.runtimes_dir, bin);
	struct file_id kid, rid;
	if (file_id_of(gw.kernel, &kid) < 0) {
		api_errorf(e, 503, "no_runtime", "the guest kernel %s is missing", gw.kernel);
		return NULL;
	}
	if (file_id_of(runtime_path, &rid) < 0) {
		api_errorf(e, 503, "no_runtime", "the %s runtime %s is not installed", runtime, runtime_path);
		return NULL;
	}
	struct base *b;
	for (b = bases; b; b = b->next)
		if (!strcmp(b->runtime, runtime) && b->mem == mem)
			break;
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b) {
			api_errorf(e, 500, "internal", "out of memory");
			return NULL;
		}
		snprintf(b->runtime, sizeof(b->runtime), "%s", runtime);
		b->mem = mem;
		h2o_linklist_init_anchor(&b->waiters);
		b->next = bases;
		bases = b;
	}
	if (b->building)
		return b;
	if (!b->id[0] || !same_file(&b->kernel_file, &kid) || !same_file(&b->runtime_file, &rid)) {
		if (identify(b, runtime_path) < 0) {
			b->id[0] = 0;
			api_errorf(e, 503, "no_runtime", "cannot read %s or %s", gw.kernel, runtime_path);
			return NULL;
		}
		b->kernel_file = kid;
		b->runtime_file = rid;
		b->ready = 0;
		b->failure[0] = 0;
	}
	if (b->ready) {
		struct stat st;
		if (stat(b->snapshot, &st) == 0)
			return b;
		b->ready = 0; /* removed under us: build again */
	}
	if (b->failure[0] && now_ms() - b->failed_at < RETRY_MS)
		return b;
	snprintf(b->snapshot, sizeof(b->snapshot), "%s/%s/base.snap", gw.bases_dir, b->id);
	struct stat st;
	if (stat(b->snapshot, &st) == 0) {
		b->ready = 1;
		b->failure[0] = 0;
		return b;
	}
	start_build(b, runtime_path);
	return b;
}

const char *base_snapshot(const struct base *b)
{
	return b->ready ? b->snapshot : NULL;
}

const char *base_failure(const struct base *b)
{
	return !b->ready && !b->building && b->failure[0] ? b->failure : NULL;
}

void base_wait(struct base *b, struct base_waiter *w)
{
	h2o_linklist_insert(&b->waiters, &w->link);
}

void base_unwait(struct base_waiter *w)
{
	if (h2o_linklist_is_linked(&w->link))
		h2o_linklist_unlink(&w->link);
}

void base_kill_builds(void)
{
	for (struct base *b = bases; b; b = b->next)
		if (b->building) {
			pidfd_send_signal(b->proc.pidfd, SIGKILL, NULL, 0);
			spawn_wait(&b->proc, NULL, 0);
			if (b->tmpdir[0])
				remove_tree(b->tmpdir);
		}
}
