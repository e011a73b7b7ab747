/* Bases: a guest kernel and a runtime program, copied into bases/ID and snapshotted once per memory size; one
 * active per runtime, built, activated and retired without redeploying any function. */
#include "base.h"
#include "layers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bundle.h"
#include "file.h"
#include "rootfs.h"
#include "runtime.h"
#include "vm.h"
#include "vmm_spawn.h"

#define RETRY_MS 5000
#define COLLECT_MS 500
#define MAX_HOOKS 4

struct base_rec;

/* One memory size of a base (the snapshot VMs restore), built in the base's directory. */
struct base {
	struct base *next;
	struct base_rec *rec;
	uint64_t mem;
	char snapshot[PATH_MAX + 200]; /* DIR/MEM/base.snap */
	int ready;
	char failure[600];
	uint64_t failed_at;
	h2o_linklist_t waiters;
	/* A build in progress. */
	int building;
	struct spawned proc;
	h2o_socket_t *proc_sock, *out_sock;
	h2o_timeout_entry_t deadline; /* a build that does not end in time is killed */
	int timed_out;
	char build_dir[PATH_MAX + 200]; /* where it is being built (DIR/MEM inside a building base) */
	char last_line[512];
	char line[512];
	size_t line_len;
};

/* A base as the registry knows it, with its snapshots. */
struct base_rec {
	struct base_rec *next;
	struct reg_base reg;
	char dir[PATH_MAX + 100]; /* bases/ID, or bases/.tmp-* while it builds */
	int building;		  /* its first snapshots are being made */
	int activate;		  /* activate it when built */
	int failed;		  /* its build failed: kept (without files) for RETRY_MS to answer lookups */
	char failure[600];
	uint64_t failed_at;
	h2o_linklist_t build_waiters;
	struct base *snaps;
};

static struct base_rec *recs;
static h2o_timeout_t collect_timeout;
static h2o_timeout_entry_t collect_entry;
static int collect_ready;
static h2o_timeout_t build_timeout;
static int build_timeout_ready;
static void (*switch_hooks[MAX_HOOKS])(const char *runtime, const char *old_id, const char *new_id);

static uint64_t now_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
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

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(flag == FTW_DP ? rmdir : unlink)(path);
	return 0;
}

static void remove_tree(const char *dir)
{
	nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
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

/* Copy a regular file to `to` (mode 0500, fsynced). Returns 0, -1 with errno, or -2 when not a regular file.
 */
static int copy_file(const char *from, const char *to)
{
	struct stat st;
	int in = mote_open_regular(from, &st);
	if (in < 0)
		return in;
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0500);
	if (out < 0) {
		int e = errno;
		close(in);
		errno = e;
		return -1;
	}
	char buf[65536];
	ssize_t n;
	int r = 0;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0) {
				r = -1;
				n = -1;
				break;
			}
			off += w;
		}
	if (n < 0 || fsync(out) < 0)
		r = -1;
	int e = errno;
	close(in);
	close(out);
	errno = e;
	return r;
}

/*
 * The root file system of a runtime whose base is a whole tree (node): a directory is packed into the cpio
 * image `to`, a regular file must already be one and is copied. Returns 0, -1 with errno, -2 when `from` is
 * neither, or -3 with *err when packing failed.
 */
static int copy_root(const char *from, const char *to, struct mote_err *err)
{
	struct stat st;
	if (stat(from, &st) < 0)
		return -1;
	if (S_ISDIR(st.st_mode))
		return mote_rootfs_pack_dir(from, to, err) < 0 ? -3 : 0;
	if (!S_ISREG(st.st_mode))
		return -2;
	char magic[6];
	int fd = open(from, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, magic, sizeof(magic));
	close(fd);
	if (n != (ssize_t)sizeof(magic) || memcmp(magic, "070701", 6))
		return -2;
	return copy_file(from, to);
}

static int is_hex_id(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* ---- records --------------------------------------------------------------------------------------- */

static struct base_rec *rec_find(const char *id)
{
	for (struct base_rec *r = recs; r; r = r->next)
		if (!r->failed && !strcmp(r->reg.id, id))
			return r;
	return NULL;
}

static struct base_rec *active_of(const char *runtime)
{
	for (struct base_rec *r = recs; r; r = r->next)
		if (!r->failed && r->reg.state == REG_BASE_ACTIVE && !strcmp(r->reg.runtime, runtime))
			return r;
	return NULL;
}

static struct base_rec *rec_new(void)
{
	struct base_rec *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	h2o_linklist_init_anchor(&r->build_waiters);
	struct base_rec **p = &recs;
	while (*p)
		p = &(*p)->next;
	*p = r; /* oldest first */
	return r;
}

static void rec_free(struct base_rec *r)
{
	for (struct base_rec **p = &recs; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	while (r->snaps) {
		struct base *b = r->snaps;
		r->snaps = b->next;
		free(b);
	}
	free(r);
}

static void mem_dir(const struct base_rec *r, uint64_t mem, char *out, size_t size)
{
	snprintf(out, size, "%s/%lluM", r->dir, (unsigned long long)(mem >> 20));
}

static struct base *snap_of(struct base_rec *r, uint64_t mem, int create)
{
	for (struct base *b = r->snaps; b; b = b->next)
		if (b->mem == mem)
			return b;
	if (!create)
		return NULL;
	struct base *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->rec = r;
	b->mem = mem;
	h2o_linklist_init_anchor(&b->waiters);
	char d[PATH_MAX + 150];
	mem_dir(r, mem, d, sizeof(d));
	snprintf(b->snapshot, sizeof(b->snapshot), "%s/base.snap", d);
	b->next = r->snaps;
	r->snaps = b;
	return b;
}

static void notify(struct base *b)
{
	while (!h2o_linklist_is_empty(&b->waiters)) {
		struct base_waiter *w = H2O_STRUCT_FROM_MEMBER(struct base_waiter, link, b->waiters.next);
		h2o_linklist_unlink(&w->link);
		w->cb(w);
	}
}

static void notify_builders(struct base_rec *r, const struct api_error *e)
{
	char id[REG_HASH_HEX + 1];
	snprintf(id, sizeof(id), "%s", r->reg.id);
	while (!h2o_linklist_is_empty(&r->build_waiters)) {
		struct base_build_waiter *w =
		    H2O_STRUCT_FROM_MEMBER(struct base_build_waiter, link, r->build_waiters.next);
		h2o_linklist_unlink(&w->link);
		w->cb(w, id, e);
	}
}

static void on_collect_timeout(h2o_timeout_entry_t *e)
{
	base_collect();
}

static void schedule_collect(void)
{
	if (!collect_ready) {
		h2o_timeout_init(gw.loop, &collect_timeout, COLLECT_MS);
		collect_entry.cb = on_collect_timeout;
		collect_ready = 1;
	}
	if (!h2o_timeout_is_linked(&collect_entry))
		h2o_timeout_link(gw.loop, &collect_timeout, &collect_entry);
}

/* ---- snapshot builds -------------------------------------------------------------------------------- */

static void rec_build_progress(struct base_rec *r);

static void close_build(struct base *b)
{
	if (b->proc_sock)
		h2o_socket_close(b->proc_sock);
	if (b->out_sock)
		h2o_socket_close(b->out_sock);
	b->proc_sock = b->out_sock = NULL;
	h2o_timeout_unlink(&b->deadline);
	b->building = 0;
}

static void on_build_timeout(h2o_timeout_entry_t *e)
{
	struct base *b = H2O_STRUCT_FROM_MEMBER(struct base, deadline, e);
	b->timed_out = 1;
	pidfd_send_signal(b->proc.pidfd, SIGKILL, NULL, 0); /* its exit ends the build */
}

/* The snapshot's build ended (ok or not): tell whoever waits. */
static void build_ended(struct base *b)
{
	if (b->rec->building)
		rec_build_progress(b->rec);
	else
		notify(b);
}

static void build_failed(struct base *b, const char *what, const char *detail)
{
	snprintf(b->failure, sizeof(b->failure), "cannot build the %s base %.12s (%llu MiB): %s%s%s",
		 b->rec->reg.runtime, b->rec->reg.id, (unsigned long long)(b->mem >> 20), what,
		 detail && detail[0] ? ": " : "", detail ? detail : "");
	fprintf(stderr, "mote: %s\n", b->failure);
	b->failed_at = now_ms();
	if (b->build_dir[0])
		remove_tree(b->build_dir);
	b->build_dir[0] = 0;
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
					fprintf(stderr, "mote: base %s: %s\n", b->rec->reg.runtime, b->line);
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
	char snap[PATH_MAX + 220];
	snprintf(snap, sizeof(snap), "%s/base.snap", b->build_dir);
	struct stat st;
	if (b->timed_out) {
		char what[128];
		snprintf(what, sizeof(what),
			 "the runtime did not ask for its snapshot within %llu ms (killed)",
			 (unsigned long long)(gw.start_ms * 3));
		build_failed(b, what, b->last_line);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char what[64];
		if (WIFSIGNALED(status))
			snprintf(what, sizeof(what), "mote-vmm ended by signal %d", WTERMSIG(status));
		else
			snprintf(what, sizeof(what), "mote-vmm exited with status %d", WEXITSTATUS(status));
		build_failed(b, what, b->last_line);
	} else if (stat(snap, &st) < 0) {
		build_failed(b, "the runtime exited without asking for a snapshot", b->last_line);
	} else {
		char mem[PATH_MAX + 240], rootfs[PATH_MAX + 220], final_dir[PATH_MAX + 150];
		snprintf(mem, sizeof(mem), "%s.mem", snap);
		snprintf(rootfs, sizeof(rootfs), "%s/rootfs.cpio", b->build_dir);
		unlink(rootfs); /* the snapshot holds its own copy */
		mem_dir(b->rec, b->mem, final_dir, sizeof(final_dir));
		if (fsync_path(snap, O_RDONLY) < 0 || fsync_path(mem, O_RDONLY) < 0 ||
		    fsync_path(b->build_dir, O_RDONLY | O_DIRECTORY) < 0) {
			build_failed(b, "cannot sync the snapshot", strerror(errno));
		} else if (!b->rec->building && rename(b->build_dir, final_dir) < 0) {
			build_failed(b, "cannot move the snapshot into place", strerror(errno));
		} else {
			b->build_dir[0] = 0;
			fsync_path(b->rec->dir, O_RDONLY | O_DIRECTORY);
			if (!b->rec->building)
				b->ready =
				    1; /* a building base makes its snapshots ready when it is complete */
			fprintf(stderr, "mote: built the %s base %.12s (%llu MiB)\n", b->rec->reg.runtime,
				b->rec->reg.id, (unsigned long long)(b->mem >> 20));
		}
	}
	build_ended(b);
}

/* Boot the base's runtime with `b->mem` of RAM in a fresh directory until it asks for its snapshot. */
static void start_build(struct base *b)
{
	struct base_rec *r = b->rec;
	struct mote_err err = {0};
	b->failure[0] = 0;
	b->last_line[0] = 0;
	b->line_len = 0;
	b->ready = 0;
	if (r->building) {
		mem_dir(r, b->mem, b->build_dir, sizeof(b->build_dir));
		if (mkdir(b->build_dir, 0700) < 0) {
			b->build_dir[0] = 0;
			build_failed(b, "cannot create a directory", strerror(errno));
			return;
		}
	} else {
		snprintf(b->build_dir, sizeof(b->build_dir), "%s/.tmp-%lluM-XXXXXX", r->dir,
			 (unsigned long long)(b->mem >> 20));
		if (!mkdtemp(b->build_dir)) {
			b->build_dir[0] = 0;
			build_failed(b, "cannot create a directory", strerror(errno));
			return;
		}
	}
	const struct runtime_info *rt = runtime_find(r->reg.runtime);
	char rootfs[PATH_MAX + 220], snap[PATH_MAX + 220], kernel[PATH_MAX + 120], program[PATH_MAX + 120];
	char guest_path[64], mem[32], env[REG_HASH_HEX + 20];
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs.cpio", b->build_dir);
	snprintf(snap, sizeof(snap), "%s/base.snap", b->build_dir);
	snprintf(kernel, sizeof(kernel), "%s/kernel", r->dir);
	snprintf(program, sizeof(program), "%s/program", r->dir);
	snprintf(mem, sizeof(mem), "%lluM", (unsigned long long)(b->mem >> 20));
	snprintf(env, sizeof(env), "MOTE_BASE_ID=%s", r->reg.id);
	if (!rt->root) {
		/* A static runtime program alone in its root file system, at the path its argv names. */
		snprintf(guest_path, sizeof(guest_path), "%s", rt->argv[0] + 1);
		struct mote_rootfs_file f = {.host_path = program, .guest_path = guest_path};
		if (mote_rootfs_pack_files(&f, 1, rootfs, &err) < 0) {
			build_failed(b, "cannot pack the runtime", err.msg);
			return;
		}
	}
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		build_failed(b, "pipe", strerror(errno));
		return;
	}
	/* The runtime's environment carries the base id into the snapshot, so every VM restored from it (and
	 * the function it loads) can tell which base it runs on. A runtime with a root tree boots on the
	 * base's own image of it. */
	const char *argv[24] = {gw.vmm,
				"--kernel",
				kernel,
				"--rootfs",
				rt->root ? program : rootfs,
				"--mem",
				mem,
				"--env",
				env,
				"--snapshot",
				snap,
				"--exit-after-snapshot",
				"--die-with-parent",
				"--"};
	size_t argc = 14;
	for (size_t i = 0; rt->argv[i] && argc < sizeof(argv) / sizeof(argv[0]) - 1; i++)
		argv[argc++] = rt->argv[i];
	argv[argc] = NULL;
	int rc = spawn_vmm(argv, -1, pipefd[1], &b->proc, &err);
	close(pipefd[1]);
	if (rc < 0) {
		close(pipefd[0]);
		build_failed(b, "cannot start mote-vmm", err.msg);
		return;
	}
	b->building = 1;
	b->timed_out = 0;
	if (!build_timeout_ready) {
		/* A boot to the snapshot request takes far less than loading a function does. */
		h2o_timeout_init(gw.loop, &build_timeout, gw.start_ms * 3);
		build_timeout_ready = 1;
	}
	b->deadline.cb = on_build_timeout;
	h2o_timeout_link(gw.loop, &build_timeout, &b->deadline);
	b->proc_sock = h2o_evloop_socket_create(gw.loop, b->proc.pidfd, H2O_SOCKET_FLAG_DONT_READ);
	b->proc_sock->data = b;
	h2o_socket_read_start(b->proc_sock, on_build_exit);
	b->out_sock = h2o_evloop_socket_create(gw.loop, pipefd[0], H2O_SOCKET_FLAG_DONT_READ);
	b->out_sock->data = b;
	h2o_socket_read_start(b->out_sock, on_build_output);
	fprintf(stderr, "mote: building the %s base %.12s (%s) in %s\n", r->reg.runtime, r->reg.id, mem,
		b->build_dir);
}

/* ---- activation ------------------------------------------------------------------------------------- */

static int sync_state(const struct reg_base *row, void *arg)
{
	struct base_rec *r = rec_find(row->id);
	if (r && !r->building)
		r->reg = *row;
	return 0;
}

static int start_missing_snapshot(const struct reg_function *f, void *arg)
{
	struct base_rec *r = arg;
	if (!strcmp(f->runtime, r->reg.runtime)) {
		struct api_error e;
		base_lookup(f->runtime, f->mem, &e);
	}
	return 0;
}

static int activate_rec(struct base_rec *r, char prev_out[REG_HASH_HEX + 1], struct api_error *e)
{
	struct mote_err err = {0};
	char prev[REG_HASH_HEX + 1] = "";
	if (r->reg.state == REG_BASE_ACTIVE) {
		if (prev_out)
			prev_out[0] = 0;
		return 0;
	}
	if (registry_activate_base(gw.reg, r->reg.id, prev, &err) < 0)
		return api_errorf(e, 500, "internal", "%s", err.msg);
	registry_each_base(gw.reg, sync_state, NULL, &err);
	r->reg.state = REG_BASE_ACTIVE; /* also when the registry could not be read back */
	struct base_rec *old = prev[0] ? rec_find(prev) : NULL;
	if (old && old->reg.state == REG_BASE_ACTIVE)
		old->reg.state = REG_BASE_RETIRED;
	fprintf(stderr, "mote: the %s base is now %.12s (was %.12s)\n", r->reg.runtime, r->reg.id,
		prev[0] ? prev : "none");
	if (prev_out)
		snprintf(prev_out, REG_HASH_HEX + 1, "%s", prev);
	for (int i = 0; i < MAX_HOOKS && switch_hooks[i]; i++)
		switch_hooks[i](r->reg.runtime, prev, r->reg.id);
	registry_each_function(gw.reg, start_missing_snapshot, r, &err);
	schedule_collect();
	return 0;
}

void base_on_switch(void (*cb)(const char *runtime, const char *old_id, const char *new_id))
{
	for (int i = 0; i < MAX_HOOKS; i++)
		if (!switch_hooks[i]) {
			switch_hooks[i] = cb;
			return;
		}
	abort(); /* a host invariant: more hooks than the gateway has modules */
}

static struct base_rec *rec_by_prefix(const char *id, struct api_error *e)
{
	size_t len = strlen(id);
	if (len < 8 || len > REG_HASH_HEX || !is_hex_id(id, len)) {
		api_errorf(e, 400, "bad_request", "'%.80s' is not a base id (8 to 64 lower-case hex digits)",
			   id);
		return NULL;
	}
	struct base_rec *found = NULL;
	for (struct base_rec *r = recs; r; r = r->next) {
		if (r->failed || strncmp(r->reg.id, id, len))
			continue;
		if (found) {
			api_errorf(e, 400, "bad_request", "'%s' names more than one base: give more digits",
				   id);
			return NULL;
		}
		found = r;
	}
	if (!found)
		api_errorf(e, 404, "unknown_base", "no base %s (see mote base ls)", id);
	return found;
}

int base_activate(const char *id, char id_out[REG_HASH_HEX + 1], char prev_out[REG_HASH_HEX + 1],
		  struct api_error *e)
{
	struct base_rec *r = rec_by_prefix(id, e);
	if (!r)
		return -1;
	if (r->building)
		return api_errorf(e, 409, "base_building", "base %.12s is still being built", r->reg.id);
	snprintf(id_out, REG_HASH_HEX + 1, "%s", r->reg.id);
	return activate_rec(r, prev_out, e);
}

/* ---- building a base -------------------------------------------------------------------------------- */

/* Every snapshot of a building base ended: complete it (rename, registry, activation) or drop it. */
static void rec_build_progress(struct base_rec *r)
{
	const char *failure = NULL;
	for (struct base *b = r->snaps; b; b = b->next) {
		if (b->building)
			return;
		if (b->failure[0] && !failure)
			failure = b->failure;
	}
	struct mote_err err = {0};
	char final_dir[PATH_MAX + 100];
	snprintf(final_dir, sizeof(final_dir), "%s/%s", gw.bases_dir, r->reg.id);
	char why[600] = "";
	if (failure) {
		snprintf(why, sizeof(why), "%s", failure);
	} else if (fsync_path(r->dir, O_RDONLY | O_DIRECTORY) < 0 || rename(r->dir, final_dir) < 0) {
		snprintf(why, sizeof(why), "cannot move the base into place (%s): %s", final_dir,
			 strerror(errno));
	} else {
		fsync_path(gw.bases_dir, O_RDONLY | O_DIRECTORY);
		snprintf(r->dir, sizeof(r->dir), "%s", final_dir);
		r->reg.state = REG_BASE_READY;
		if (registry_put_base(gw.reg, &r->reg, &err) < 0) {
			snprintf(why, sizeof(why), "%s", err.msg);
			remove_tree(final_dir);
		}
	}
	r->building = 0;
	if (why[0]) {
		/* Nothing of a failed build stays: no directory, no row; the active base is untouched. */
		remove_tree(r->dir);
		registry_delete_base(gw.reg, r->reg.id, &err);
		r->failed = 1;
		r->failed_at = now_ms();
		snprintf(r->failure, sizeof(r->failure), "%s", why);
		for (struct base *b = r->snaps; b; b = b->next) {
			b->ready = 0;
			if (!b->failure[0])
				snprintf(b->failure, sizeof(b->failure), "%s", why);
			b->failed_at = r->failed_at;
		}
		struct api_error e;
		api_errorf(&e, 422, "base_failed", "%s", why);
		notify_builders(r, &e);
		for (struct base *b = r->snaps; b; b = b->next)
			notify(b);
		schedule_collect();
		return;
	}
	for (struct base *b = r->snaps; b; b = b->next) {
		char d[PATH_MAX + 150];
		mem_dir(r, b->mem, d, sizeof(d));
		snprintf(b->snapshot, sizeof(b->snapshot), "%s/base.snap", d);
		b->ready = 1;
	}
	fprintf(stderr, "mote: the %s base %.12s is built (%s)\n", r->reg.runtime, r->reg.id, r->dir);
	struct api_error e = {0};
	int failed = 0;
	if ((r->activate || !active_of(r->reg.runtime)) && activate_rec(r, NULL, &e) < 0)
		failed = 1;
	notify_builders(r, failed ? &e : NULL);
	for (struct base *b = r->snaps; b; b = b->next)
		notify(b);
	schedule_collect();
}

struct mem_set {
	const char *runtime;
	uint64_t mems[16];
	unsigned n;
};

static void mem_set_add(struct mem_set *s, uint64_t mem)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->mems[i] == mem)
			return;
	if (s->n < sizeof(s->mems) / sizeof(s->mems[0]))
		s->mems[s->n++] = mem;
}

static int collect_mem(const struct reg_function *f, void *arg)
{
	struct mem_set *s = arg;
	if (!strcmp(f->runtime, s->runtime))
		mem_set_add(s, f->mem);
	return 0;
}

int base_build(const char *runtime, const char *kernel, const char *program, int activate,
	       struct base_build_waiter *w, char id_out[REG_HASH_HEX + 1], struct api_error *e)
{
	const struct runtime_info *rt = runtime_find(runtime);
	if (!rt)
		return api_errorf(e, 400, "bad_request", "unknown runtime '%s' (%s)", runtime,
				  runtime_names());
	char installed[PATH_MAX + 64];
	snprintf(installed, sizeof(installed), "%s/%s", gw.runtimes_dir, rt->installed);
	const char *kpath = kernel ? kernel : gw.kernel, *ppath = program ? program : installed;
	const char *paths[2] = {kpath, ppath}, *names[2] = {"kernel", "program"};
	char tmp[PATH_MAX + 32];
	snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", gw.bases_dir);
	if (!mkdtemp(tmp))
		return api_errorf(e, 500, "internal", "cannot create a directory in %s: %s", gw.bases_dir,
				  strerror(errno));
	struct reg_base reg;
	memset(&reg, 0, sizeof(reg));
	char *shas[2] = {reg.kernel_sha256, reg.program_sha256};
	for (int i = 0; i < 2; i++) {
		char to[PATH_MAX + 64];
		snprintf(to, sizeof(to), "%s/%s", tmp, names[i]);
		struct mote_err perr = {0};
		int root = i == 1 && rt->root;
		int rc = root ? copy_root(paths[i], to, &perr) : copy_file(paths[i], to);
		if (rc < 0 || hash_file(to, shas[i]) < 0) {
			int err = errno;
			remove_tree(tmp);
			const char *what = i == 0 ? "the guest kernel" : "the runtime program";
			const char *kind = root ? "not a directory or a cpio image" : "not a regular file";
			int given = i == 0 ? kernel != NULL : program != NULL;
			if (rc == -3)
				return api_errorf(e, given ? 422 : 503, given ? "bad_runtime" : "no_runtime",
						  "cannot pack the runtime's root file system: %s", perr.msg);
			if (!given && (rc == -2 || err == ENOENT || err == EACCES || err == ENOTDIR))
				return api_errorf(e, 503, "no_runtime", "%s %s is not installed (%s)",
						  i == 0 ? "the guest kernel" : "the runtime", paths[i],
						  rc == -2 ? kind : strerror(err));
			if (rc == -2)
				return api_errorf(e, 404, "no_file", "%s %s is %s", what, paths[i], kind);
			if (err == ENOENT || err == EACCES || err == ENOTDIR)
				return api_errorf(e, 404, "no_file", "%s %s: %s", what, paths[i],
						  strerror(err));
			return api_errorf(e, 500, "internal", "cannot copy %s %s: %s", what, paths[i],
					  strerror(err));
		}
	}
	snprintf(reg.runtime, sizeof(reg.runtime), "%s", runtime);
	char id_text[300];
	int n = snprintf(id_text, sizeof(id_text), "mote-base-v2 %s %s %s", runtime, reg.kernel_sha256,
			 reg.program_sha256);
	bundle_sha256_hex(id_text, (size_t)n, reg.id);
	snprintf(id_out, REG_HASH_HEX + 1, "%s", reg.id);
	struct base_rec *same = rec_find(reg.id);
	if (same) {
		remove_tree(tmp);
		if (same->building) {
			if (activate)
				same->activate = 1;
			if (w)
				h2o_linklist_insert(&same->build_waiters, &w->link);
			return 0;
		}
		if (activate && activate_rec(same, NULL, e) < 0)
			return -1;
		return 1;
	}
	/* A failed build of the same files is tried again now. */
	for (struct base_rec *r = recs; r; r = r->next)
		if (r->failed && !strcmp(r->reg.id, reg.id) && h2o_linklist_is_empty(&r->build_waiters)) {
			int waited = 0;
			for (struct base *b = r->snaps; b; b = b->next)
				waited |= !h2o_linklist_is_empty(&b->waiters);
			if (!waited) {
				rec_free(r);
				break;
			}
		}
	struct base_rec *r = rec_new();
	if (!r) {
		remove_tree(tmp);
		return api_errorf(e, 500, "internal", "out of memory");
	}
	char real[PATH_MAX];
	snprintf(reg.kernel_path, sizeof(reg.kernel_path), "%s", realpath(kpath, real) ? real : kpath);
	snprintf(reg.program_path, sizeof(reg.program_path), "%s", realpath(ppath, real) ? real : ppath);
	reg.created_at = (int64_t)now_ms();
	reg.state = REG_BASE_BUILDING;
	r->reg = reg;
	r->building = 1;
	r->activate = activate;
	snprintf(r->dir, sizeof(r->dir), "%s", tmp);
	struct mote_err err = {0};
	if (registry_put_base(gw.reg, &r->reg, &err) < 0) {
		remove_tree(tmp);
		rec_free(r);
		return api_errorf(e, 500, "internal", "%s", err.msg);
	}
	if (w)
		h2o_linklist_insert(&r->build_waiters, &w->link);
	struct mem_set set = {.runtime = runtime};
	mem_set_add(&set, rt->default_mem);
	registry_each_function(gw.reg, collect_mem, &set, &err);
	for (unsigned i = 0; i < set.n; i++) {
		struct base *b = snap_of(r, set.mems[i], 1);
		if (b)
			start_build(b);
	}
	rec_build_progress(r); /* in case every start failed at once */
	return 0;
}

void base_build_unwait(struct base_build_waiter *w)
{
	if (h2o_linklist_is_linked(&w->link))
		h2o_linklist_unlink(&w->link);
}

/* ---- lookups ------------------------------------------------------------------------------------------ */

/* Whether base r was built from the installed kernel and runtime (not from files `mote base build` named). */
static int of_installed(const struct base_rec *r)
{
	const struct runtime_info *rt = runtime_find(r->reg.runtime);
	char installed[PATH_MAX + 64], real[PATH_MAX], kreal[PATH_MAX];
	if (!rt)
		return 0;
	snprintf(installed, sizeof(installed), "%s/%s", gw.runtimes_dir, rt->installed);
	const char *p = realpath(installed, real) ? real : installed;
	const char *k = realpath(gw.kernel, kreal) ? kreal : gw.kernel;
	return !strcmp(r->reg.program_path, p) && !strcmp(r->reg.kernel_path, k);
}

struct base *base_lookup(const char *runtime, uint64_t mem, struct api_error *e)
{
	if (!runtime_find(runtime)) {
		api_errorf(e, 400, "bad_request", "unknown runtime '%s'", runtime);
		return NULL;
	}
	struct base_rec *r = active_of(runtime);
	if (!r) {
		/* No base of this runtime is active: one being built (the first), one of the installed files
		 * that just failed, or a new one from the installed files. (A failed `mote base build` of
		 * other files says nothing about the installed ones.) */
		for (struct base_rec *p = recs; p; p = p->next)
			if (!strcmp(p->reg.runtime, runtime) &&
			    (p->building ||
			     (p->failed && now_ms() - p->failed_at < RETRY_MS && of_installed(p))))
				r = p;
		if (!r) {
			char id[REG_HASH_HEX + 1];
			if (base_build(runtime, NULL, NULL, 1, NULL, id, e) < 0)
				return NULL;
			for (struct base_rec *p = recs; p; p = p->next)
				if (!strcmp(p->reg.id, id))
					r = p;
			if (!r) {
				api_errorf(e, 500, "internal", "the %s base vanished", runtime);
				return NULL;
			}
		}
	}
	struct base *b = snap_of(r, mem, 1);
	if (!b) {
		api_errorf(e, 500, "internal", "out of memory");
		return NULL;
	}
	if (r->failed) {
		if (!b->failure[0]) {
			snprintf(b->failure, sizeof(b->failure), "%s", r->failure);
			b->failed_at = r->failed_at;
		}
		return b;
	}
	if (b->building)
		return b;
	if (r->building) {
		start_build(b); /* joins the base's first build */
		if (!b->building)
			rec_build_progress(r);
		return b;
	}
	if (b->ready) {
		struct stat st;
		if (stat(b->snapshot, &st) == 0)
			return b;
		b->ready = 0; /* removed under us: build again */
	}
	if (b->failure[0] && now_ms() - b->failed_at < RETRY_MS)
		return b;
	struct stat st;
	if (stat(b->snapshot, &st) == 0) {
		b->ready = 1;
		b->failure[0] = 0;
		return b;
	}
	start_build(b);
	return b;
}

const char *base_snapshot(const struct base *b)
{
	return b->ready ? b->snapshot : NULL;
}

const char *base_failure(const struct base *b)
{
	return !b->ready && !b->building && !b->rec->building && b->failure[0] ? b->failure : NULL;
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

const char *base_id(const struct base *b)
{
	return b->rec->reg.id;
}

int base_is_active(const struct base *b)
{
	if (!b)
		return 1; /* a VM started without naming its base */
	return !b->rec->failed && b->rec->reg.state == REG_BASE_ACTIVE;
}

/* ---- what is kept ------------------------------------------------------------------------------------ */

/* The rollback target of r's runtime: the base most recently replaced as active. */
static int is_rollback_target(const struct base_rec *r)
{
	if (r->reg.state != REG_BASE_RETIRED)
		return 0;
	int after = 0; /* p comes after r in the list (created later): it wins a tie */
	for (const struct base_rec *p = recs; p; p = p->next) {
		if (p == r) {
			after = 1;
			continue;
		}
		if (!p->failed && p->reg.state == REG_BASE_RETIRED &&
		    !strcmp(p->reg.runtime, r->reg.runtime) &&
		    (p->reg.deactivated_at > r->reg.deactivated_at ||
		     (after && p->reg.deactivated_at == r->reg.deactivated_at)))
			return 0;
	}
	return 1;
}

/* The newest ready base of r's runtime (the list is oldest first). */
static int is_newest_ready(const struct base_rec *r)
{
	if (r->reg.state != REG_BASE_READY)
		return 0;
	for (const struct base_rec *p = r->next; p; p = p->next)
		if (!p->failed && !p->building && p->reg.state == REG_BASE_READY &&
		    !strcmp(p->reg.runtime, r->reg.runtime))
			return 0;
	return 1;
}

static unsigned rec_vms(const struct base_rec *r)
{
	unsigned n = 0;
	for (const struct base *b = r->snaps; b; b = b->next)
		n += vm_count_on_base(b);
	return n;
}

static int rec_busy(struct base_rec *r)
{
	if (r->building || !h2o_linklist_is_empty(&r->build_waiters))
		return 1;
	for (struct base *b = r->snaps; b; b = b->next)
		if (b->building || !h2o_linklist_is_empty(&b->waiters))
			return 1;
	return 0;
}

static const char *rec_state(const struct base_rec *r)
{
	if (r->failed)
		return "failed";
	if (r->building)
		return "building";
	if (r->reg.state == REG_BASE_ACTIVE)
		return "active";
	if (is_rollback_target(r))
		return "previous";
	if (is_newest_ready(r))
		return "ready";
	return "retiring";
}

void base_collect(void)
{
	int pending = 0;
	struct mote_err err = {0};
	for (struct base_rec *r = recs, *next; r; r = next) {
		next = r->next;
		if (r->failed) {
			if (now_ms() - r->failed_at >= RETRY_MS && !rec_busy(r))
				rec_free(r);
			else
				pending = 1;
			continue;
		}
		if (strcmp(rec_state(r), "retiring"))
			continue;
		if (rec_vms(r) || rec_busy(r)) {
			pending = 1;
			continue;
		}
		fprintf(stderr, "mote: the %s base %.12s is no longer used: deleted\n", r->reg.runtime,
			r->reg.id);
		if (registry_delete_base(gw.reg, r->reg.id, &err) < 0) {
			fprintf(stderr, "mote: %s\n", err.msg);
			pending = 1;
			continue;
		}
		remove_tree(r->dir);
		layers_remove_base(r->reg.id);
		rec_free(r);
	}
	if (pending)
		schedule_collect();
}

void base_each(void (*cb)(const struct base_info *i, void *arg), void *arg)
{
	for (struct base_rec *r = recs; r; r = r->next) {
		if (r->failed)
			continue; /* nothing of it is kept */
		struct base_info i = {.reg = &r->reg, .state = rec_state(r), .vms = rec_vms(r)};
		for (struct base *b = r->snaps; b; b = b->next)
			if (b->ready && i.nmems < sizeof(i.mems) / sizeof(i.mems[0]))
				i.mems[i.nmems++] = b->mem;
		/* smallest first */
		for (unsigned a = 1; a < i.nmems; a++)
			for (unsigned k = a; k > 0 && i.mems[k - 1] > i.mems[k]; k--) {
				uint64_t t = i.mems[k];
				i.mems[k] = i.mems[k - 1];
				i.mems[k - 1] = t;
			}
		cb(&i, arg);
	}
}

/* ---- start-up ---------------------------------------------------------------------------------------- */

static int load_row(const struct reg_base *row, void *arg)
{
	struct mote_err err = {0};
	char dir[PATH_MAX + 100], k[PATH_MAX + 120], p[PATH_MAX + 120];
	snprintf(dir, sizeof(dir), "%s/%s", gw.bases_dir, row->id);
	snprintf(k, sizeof(k), "%s/kernel", dir);
	snprintf(p, sizeof(p), "%s/program", dir);
	struct stat st;
	if (row->state == REG_BASE_BUILDING || stat(k, &st) < 0 || stat(p, &st) < 0 ||
	    !runtime_find(row->runtime)) {
		if (row->state != REG_BASE_BUILDING)
			fprintf(stderr, "mote: base %.12s: its files are gone from %s; forgotten\n", row->id,
				dir);
		registry_delete_base(gw.reg, row->id, &err);
		return 0;
	}
	struct base_rec *r = rec_new();
	if (!r)
		return 1;
	r->reg = *row;
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	/* Snapshots being built when the gateway stopped. */
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (!strncmp(de->d_name, ".tmp-", 5)) {
				char t[PATH_MAX + 400];
				snprintf(t, sizeof(t), "%s/%s", dir, de->d_name);
				remove_tree(t);
			}
		closedir(d);
	}
	return 0;
}

int base_load_all(struct mote_err *err)
{
	if (registry_each_base(gw.reg, load_row, NULL, err) < 0)
		return -1;
	DIR *d = opendir(gw.bases_dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (rec_find(de->d_name))
				continue;
			char t[PATH_MAX + 300];
			snprintf(t, sizeof(t), "%s/%s", gw.bases_dir, de->d_name);
			remove_tree(t);
		}
		closedir(d);
	}
	base_collect();
	return 0;
}

void base_kill_builds(void)
{
	for (struct base_rec *r = recs; r; r = r->next) {
		for (struct base *b = r->snaps; b; b = b->next)
			if (b->building) {
				pidfd_send_signal(b->proc.pidfd, SIGKILL, NULL, 0);
				spawn_wait(&b->proc, NULL, 0);
				if (b->build_dir[0])
					remove_tree(b->build_dir);
			}
		if (r->building)
			remove_tree(r->dir);
	}
}
