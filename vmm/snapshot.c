/* Snapshots: save a stopped guest to a state file and a sparse memory file; restore clones of it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console.h"
#include "file.h"
#include "guest.h"
#include "layer.h"
#include "layout.h"
#include "sha256.h"
#include "snapcheck.h"
#include "snapfile.h"
#include "status.h"

#define PAGE 4096ull

/* ---- Taking a snapshot -------------------------------------------------- */

static int page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	for (size_t i = 0; i < PAGE / 8; i += 8)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7])
			return 0;
	return 1;
}

/* Write guest RAM at `off` in `fd`: runs of non-zero pages only, the rest stays a hole. */
static int write_ram(const struct vm *vm, int fd, uint64_t off, uint64_t *data_bytes)
{
	/* A page of anonymous memory the host never backed reads as zero: not even read. (A memory file's
	 * pages can hold data without being mapped here, so a restored guest's are all read.) */
	uint8_t *backed = vm->mem_is_file ? NULL : vm_backed_pages(vm);
	uint64_t pages = vm->mem_size / PAGE, run = 0, nrun = 0;
	*data_bytes = 0;
	for (uint64_t i = 0; i <= pages; i++) {
		int data = i < pages && (!backed || backed[i]) && !page_is_zero(vm->mem + i * PAGE);
		if (data) {
			if (!nrun)
				run = i;
			nrun++;
			continue;
		}
		if (nrun && mote_pwrite_all(fd, vm->mem + run * PAGE, nrun * PAGE, off + run * PAGE) < 0) {
			free(backed);
			return -1;
		}
		*data_bytes += nrun * PAGE;
		nrun = 0;
	}
	free(backed);
	return 0;
}

static int write_memory_file(struct guest *g, int fd, const uint8_t id[16], uint64_t *data_bytes)
{
	const struct vm *vm = &g->vm;
	static uint8_t header_page[SNAP_MEM_HEADER_SIZE];
	struct snap_mem_header mh;
	memset(&mh, 0, sizeof(mh));
	memcpy(mh.magic, SNAP_MEM_MAGIC, 8);
	mh.format_version = SNAP_FORMAT_VERSION;
	memcpy(mh.id, id, 16);
	mh.mem_size = vm->mem_size;
	mh.rootfs_map_size = vm->rootfs ? vm->rootfs_map_size : 0;
	memset(header_page, 0, sizeof(header_page));
	memcpy(header_page, &mh, sizeof(mh));
	uint64_t total = SNAP_MEM_HEADER_SIZE + vm->mem_size + mh.rootfs_map_size;
	if (ftruncate(fd, (off_t)total) < 0 || mote_pwrite_all(fd, header_page, sizeof(header_page), 0) < 0)
		return -1;
	if (write_ram(vm, fd, SNAP_MEM_HEADER_SIZE, data_bytes) < 0)
		return -1;
	if (vm->rootfs &&
	    mote_pwrite_all(fd, vm->rootfs, vm->rootfs_size, SNAP_MEM_HEADER_SIZE + vm->mem_size) < 0)
		return -1;
	return 0;
}

/*
 * The kernel identity of a booted guest (SHA-256 of its ELF file, ~1.3 ms for
 * the 370 KiB kernel) is computed by a thread while the guest boots and runs,
 * so that neither the boot nor the first snapshot's pause pays for it.
 */
static pthread_t kernel_id_thread;
static int kernel_id_started;
static struct guest *kernel_id_guest;

static void *kernel_id_run(void *arg)
{
	struct guest *g = arg;
	mote_sha256(g->kernel_image, g->kernel_size, g->kernel_id);
	return NULL;
}

void guest_snapshot_prepare(struct guest *g)
{
	vm_save_prepare(&g->vm); /* what a snapshot asks KVM only once, asked before the seccomp filter */
	if (g->has_kernel_id || !g->kernel_image || kernel_id_started)
		return;
	/* Signals stay with the vCPU thread: KVM_RUN must see them. */
	sigset_t all, old;
	sigfillset(&all);
	sigdelset(&all, SIGSYS); /* the seccomp report (vmm/seccomp_filter.c) must reach its handler */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	kernel_id_guest = g;
	kernel_id_started = pthread_create(&kernel_id_thread, NULL, kernel_id_run, g) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/*
 * Collect the identity computed by guest_snapshot_prepare's thread, if one
 * runs: before a snapshot, and before mote-vmm ends (guest_snapshot_finish
 * with `block`), since ending frees the kernel image the thread reads.
 */
static void kernel_id_wait(void)
{
	if (!kernel_id_started)
		return;
	pthread_join(kernel_id_thread, NULL);
	kernel_id_started = 0;
	kernel_id_guest->has_kernel_id = 1;
}

int guest_build_state(struct guest *g, const uint8_t id[16], struct snap_writer *w, struct mote_err *err)
{
	struct snap_header h;
	memset(&h, 0, sizeof(h));
	h.abi_version = MOTE_ABI_VERSION;
	memcpy(h.id, id, 16);
	h.created_realtime_ns = guest_host_ns(CLOCK_REALTIME);
	snap_begin(w, &h);

	const struct vm *vm = &g->vm;
	struct snap_guest sg = {
	    .mem_size = vm->mem_size,
	    .stack_guard = g->stack_guard,
	    .stack_top = g->stack_top,
	    .rootfs_gpa = vm->rootfs ? vm->rootfs_gpa : 0,
	    .rootfs_size = vm->rootfs ? vm->rootfs_size : 0,
	    .rootfs_map_size = vm->rootfs ? vm->rootfs_map_size : 0,
	    .tsc_khz = vm->tsc_khz,
	    .hwcap = vm->hwcap,
	    .kernel_lo = g->kernel.lo,
	    .kernel_hi = g->kernel.hi,
	    .debug = (uint32_t)g->cfg->debug,
	};
	snap_add(w, SNAP_SEC_GUEST, &sg, sizeof(sg));
	kernel_id_wait();
	if (!g->has_kernel_id) {
		/* Booted here without guest_snapshot_prepare: hashed now (a restored guest has its
		 * snapshot's). */
		if (!g->kernel_image)
			return mote_errf(err, MOTE_STATUS_SNAP_WRITE, "no guest kernel identity to save");
		mote_sha256(g->kernel_image, g->kernel_size, g->kernel_id);
		g->has_kernel_id = 1;
	}
	snap_add(w, SNAP_SEC_KERNEL_ID, g->kernel_id, SNAP_KERNEL_ID_SIZE);
	if (vm_save_vcpu(&g->vm, w, err) < 0)
		return -1;
	if (snap_finish(w) < 0)
		return mote_errf(err, MOTE_STATUS_SNAP_WRITE, "snapshot state does not fit in %u bytes",
				 SNAP_STATE_MAX);
	return 0;
}

int guest_complete_exit(struct guest *g, struct mote_err *err)
{
	g->vm.run->immediate_exit = 1;
	int r = ioctl(g->vm.vcpu_fd, KVM_RUN, 0);
	int e = errno;
	g->vm.run->immediate_exit = 0;
	if (r == 0 || e != EINTR)
		return mote_errnof(err, MOTE_STATUS_SNAP_WRITE, r == 0 ? EIO : e,
				   "cannot stop the vCPU for a snapshot");
	return 0;
}

/* Open a new temporary file beside `path` (mode 0600: a snapshot holds all guest memory). */
static int open_temp(const char *path, const char *suffix, char *tmp, size_t size)
{
	for (int attempt = 0; attempt < 100; attempt++) {
		uint32_t r;
		if (getentropy(&r, sizeof(r)) < 0)
			r = (uint32_t)getpid() + (uint32_t)attempt;
		snprintf(tmp, size, "%s%s.tmp-%08x", path, suffix, r);
		int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

/* fsync the directory holding `path`, so that the renames survive a power loss. */
static void sync_parent(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = 0;
	else if (slash)
		*slash = 0;
	else
		snprintf(dir, sizeof(dir), ".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/*
 * Put the new files in place. Renaming the state file is the commit point;
 * the memory file must be in place before it, so the previous one is kept
 * as FILE.mem.old (a hard link) until then:
 *   link FILE.mem -> FILE.mem.old; rename new -> FILE.mem; rename new -> FILE; unlink FILE.mem.old
 * If the last rename fails, FILE.mem.old goes back. If the process dies
 * between the two renames, FILE is the previous state and FILE.mem.old its
 * memory, which restores find (open_memory). Returns 0, or -1 with errno.
 */
static int commit(const char *path, const char *mem_path, const char *state_tmp, const char *mem_tmp)
{
	char old[PATH_MAX + 16];
	snprintf(old, sizeof(old), "%s.old", mem_path);
	unlink(old);
	int had_old = link(mem_path, old) == 0;
	if (!had_old && errno != ENOENT)
		return -1;
	if (rename(mem_tmp, mem_path) < 0) {
		int e = errno;
		if (had_old)
			unlink(old);
		errno = e;
		return -1;
	}
	if (rename(state_tmp, path) < 0) {
		int e = errno;
		if (had_old)
			rename(old, mem_path);
		else
			unlink(mem_path);
		errno = e;
		return -1;
	}
	sync_parent(path);
	if (had_old)
		unlink(old);
	return 0;
}

/*
 * A snapshot whose files are written (in the page cache) but not yet durable
 * and in place. The guest runs on while a thread syncs and renames them: the
 * guest is paused only for as long as copying its memory takes, not for the
 * disk.
 */
struct commit_job {
	pthread_t thread;
	int started;
	volatile int finished;
	int mem_fd, state_fd;
	char path[PATH_MAX], mem_path[PATH_MAX + 8], state_tmp[PATH_MAX + 32], mem_tmp[PATH_MAX + 32];
	const char *stage;
	int error; /* errno of the failure; 0 once committed */
	uint64_t t0, paused_ns, done_ns, data_bytes, mem_size;
	size_t state_len;
	int debug;
	pid_t requester; /* answered when done (mote snapshot take), or 0 */
};
static struct commit_job job;

void guest_snapshot_answer(pid_t requester, int ok)
{
	if (requester > 0)
		sigqueue(requester, ok ? SIGUSR1 : SIGUSR2,
			 (union sigval){.sival_int = MOTE_SNAPSHOT_REQUEST});
}

static void *commit_job_run(void *arg)
{
	struct commit_job *j = arg;
	j->stage = "memory file";
	int ok = fdatasync(j->mem_fd) == 0;
	if (ok) {
		j->stage = "state file";
		ok = fdatasync(j->state_fd) == 0;
	}
	if (ok) {
		j->stage = "rename";
		ok = commit(j->path, j->mem_path, j->state_tmp, j->mem_tmp) == 0;
	}
	j->error = ok ? 0 : errno ? errno : EIO;
	close(j->mem_fd);
	close(j->state_fd);
	if (!ok) {
		unlink(j->mem_tmp);
		unlink(j->state_tmp);
	}
	j->done_ns = guest_host_ns(CLOCK_MONOTONIC);
	guest_snapshot_answer(j->requester, ok);
	__atomic_store_n(&j->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The finished job's outcome: a --debug line, or the error. */
static int job_report(const struct commit_job *j, struct mote_err *err)
{
	if (j->error)
		return mote_errnof(err, MOTE_STATUS_SNAP_WRITE, j->error, "cannot write snapshot %s (%s)",
				   j->path, j->stage);
	if (j->debug)
		fprintf(stderr,
			"mote-vmm: snapshot %s: guest paused for %.3f ms, durable after %.3f ms; %zu bytes "
			"of state, "
			"%llu KiB of %llu MiB memory with data\n",
			j->path, (double)j->paused_ns / 1e6, (double)(j->done_ns - j->t0) / 1e6, j->state_len,
			(unsigned long long)(j->data_bytes >> 10), (unsigned long long)(j->mem_size >> 20));
	return 0;
}

int guest_snapshot_finish(int block, struct mote_err *err)
{
	if (block)
		kernel_id_wait();
	if (!job.started || (!block && !__atomic_load_n(&job.finished, __ATOMIC_ACQUIRE)))
		return 0;
	pthread_join(job.thread, NULL);
	job.started = 0;
	return job_report(&job, err);
}

int guest_snapshot(struct guest *g, int wait, pid_t requester, struct mote_err *err)
{
	const char *path = g->cfg->snapshot_path;
	uint64_t t0 = guest_host_ns(CLOCK_MONOTONIC);
	if (job.started)
		return mote_errf(err, MOTE_STATUS_HOST,
				 "snapshot %s: the previous one is still being written", path);

	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return mote_errnof(err, MOTE_STATUS_SNAP_WRITE, EISDIR, "cannot write snapshot %s", path);

	if (guest_complete_exit(g, err) < 0)
		return -1;
	int e;

	uint8_t id[16];
	if (getentropy(id, sizeof(id)) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "getentropy");
	struct snap_writer w;
	if (guest_build_state(g, id, &w, err) < 0) {
		snap_writer_free(&w);
		return -1;
	}

	struct commit_job *j = &job;
	memset(j, 0, sizeof(*j));
	snprintf(j->path, sizeof(j->path), "%s", path);
	snprintf(j->mem_path, sizeof(j->mem_path), "%s.mem", path);
	j->mem_fd = open_temp(path, ".mem", j->mem_tmp, sizeof(j->mem_tmp));
	if (j->mem_fd < 0) {
		snap_writer_free(&w);
		return mote_errnof(err, MOTE_STATUS_SNAP_WRITE, errno,
				   "cannot create snapshot memory file %s", j->mem_path);
	}
	j->state_fd = open_temp(path, "", j->state_tmp, sizeof(j->state_tmp));
	if (j->state_fd < 0) {
		e = errno;
		close(j->mem_fd);
		unlink(j->mem_tmp);
		snap_writer_free(&w);
		return mote_errnof(err, MOTE_STATUS_SNAP_WRITE, e, "cannot create snapshot %s", path);
	}
	j->stage = "memory file";
	int ok = write_memory_file(g, j->mem_fd, id, &j->data_bytes) == 0;
	if (ok) {
		j->stage = "state file";
		ok = mote_pwrite_all(j->state_fd, w.buf, w.len, 0) == 0;
	}
	e = errno;
	j->state_len = w.len;
	snap_writer_free(&w);
	if (!ok) {
		close(j->mem_fd);
		close(j->state_fd);
		unlink(j->mem_tmp);
		unlink(j->state_tmp);
		return mote_errnof(err, MOTE_STATUS_SNAP_WRITE, e ? e : EIO, "cannot write snapshot %s (%s)",
				   path, j->stage);
	}
	j->t0 = t0;
	j->paused_ns = guest_host_ns(CLOCK_MONOTONIC) - t0;
	j->mem_size = g->vm.mem_size;
	j->debug = g->cfg->debug;
	j->requester = requester;
	if (!wait) {
		/* Signals stay with the vCPU thread: KVM_RUN must see them. */
		sigset_t all, old;
		sigfillset(&all);
		sigdelset(&all,
			  SIGSYS); /* the seccomp report (vmm/seccomp_filter.c) must reach its handler */
		pthread_sigmask(SIG_SETMASK, &all, &old);
		int pr = pthread_create(&j->thread, NULL, commit_job_run, j);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (pr == 0) {
			j->started = 1;
			return 0;
		}
	}
	/* Asked to wait (or no thread to be had): commit here. */
	commit_job_run(j);
	return job_report(j, err);
}

/* ---- Restoring ---------------------------------------------------------- */

static int read_state(const char *path, uint8_t **buf, size_t *len, struct mote_err *err)
{
	struct stat st;
	int fd = mote_open_regular(path, &st);
	if (fd == -2)
		return mote_errf(err, MOTE_STATUS_SNAP_CORRUPT, "snapshot %s: %s, not a regular file", path,
				 mote_file_kind(st.st_mode));
	if (fd < 0)
		return mote_errnof(err, errno == ENOENT ? MOTE_STATUS_NOT_FOUND : MOTE_STATUS_HOST, errno,
				   "cannot open snapshot %s", path);
	if (st.st_size > SNAP_STATE_MAX) {
		close(fd);
		return mote_errf(err, MOTE_STATUS_SNAP_CORRUPT,
				 "snapshot %s: %lld bytes, more than any state file", path,
				 (long long)st.st_size);
	}
	uint8_t *b = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (b && got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!b || got != (size_t)st.st_size) {
		free(b);
		return mote_errf(err, MOTE_STATUS_HOST, "cannot read snapshot %s", path);
	}
	*buf = b;
	*len = got;
	return 0;
}

static int snap_status(enum snap_error e)
{
	switch (e) {
	case SNAP_ERR_TRUNCATED: return MOTE_STATUS_SNAP_TRUNCATED;
	case SNAP_ERR_FOREIGN: return MOTE_STATUS_SNAP_FOREIGN;
	default: return MOTE_STATUS_SNAP_CORRUPT;
	}
}

/* Open and check one candidate memory file. Returns the fd, -1 with *err, or -2 when its id is another
 * snapshot's. */
static int open_memory_file(const char *mem_path, const struct snap_parsed *p, const struct snap_guest *sg,
			    struct mote_err *err)
{
	struct stat st;
	int fd = mote_open_regular(mem_path, &st);
	if (fd == -2)
		return mote_errf(err, MOTE_STATUS_SNAP_INCOMPATIBLE,
				 "snapshot memory file %s: %s, not a regular file", mem_path,
				 mote_file_kind(st.st_mode));
	if (fd < 0)
		return mote_errnof(err, errno == ENOENT ? MOTE_STATUS_NOT_FOUND : MOTE_STATUS_HOST, errno,
				   "cannot open snapshot memory file %s", mem_path);
	uint64_t want = SNAP_MEM_HEADER_SIZE + sg->mem_size + sg->rootfs_map_size;
	struct snap_mem_header mh;
	int r = -1;
	if ((uint64_t)st.st_size != want)
		mote_errf(err, MOTE_STATUS_SNAP_INCOMPATIBLE,
			  "snapshot memory file %s is %lld bytes, the snapshot needs %llu", mem_path,
			  (long long)st.st_size, (unsigned long long)want);
	else if (pread(fd, &mh, sizeof(mh), 0) != (ssize_t)sizeof(mh) ||
		 memcmp(mh.magic, SNAP_MEM_MAGIC, 8) != 0 || mh.format_version != SNAP_FORMAT_VERSION)
		mote_errf(err, MOTE_STATUS_SNAP_INCOMPATIBLE,
			  "snapshot memory file %s: not a mote memory file", mem_path);
	else if (memcmp(mh.id, p->header.id, 16) != 0 || mh.mem_size != sg->mem_size ||
		 mh.rootfs_map_size != sg->rootfs_map_size) {
		mote_errf(err, MOTE_STATUS_SNAP_INCOMPATIBLE,
			  "snapshot memory file %s belongs to another snapshot", mem_path);
		r = -2;
	} else {
		return fd;
	}
	close(fd);
	return r;
}

/*
 * The memory file of the state file `path`: FILE.mem, or FILE.mem.old when a
 * snapshot writer died between its two renames (see commit()).
 */
static int open_memory(const char *path, const struct snap_parsed *p, const struct snap_guest *sg,
		       int *out_fd, struct mote_err *err)
{
	char mem_path[PATH_MAX + 16];
	snprintf(mem_path, sizeof(mem_path), "%s.mem", path);
	int fd = open_memory_file(mem_path, p, sg, err);
	if (fd == -2) {
		struct mote_err old_err;
		char old_path[PATH_MAX + 32];
		snprintf(old_path, sizeof(old_path), "%s.old", mem_path);
		fd = open_memory_file(old_path, p, sg, &old_err);
		if (fd < 0)
			fd = -1; /* report the mismatch of FILE.mem itself */
	}
	if (fd < 0)
		return -1;
	*out_fd = fd;
	return 0;
}

/*
 * Re-anchor the clock, hand the clone fresh entropy, bump the generation.
 * The guest's monotonic time resumes at what it was when the snapshot was
 * taken (saved_tsc under the old anchor), from the TSC the guest reads now
 * (`tsc`), whatever KVM made of the TSC write; realtime is the host's now.
 */
static int fix_boot_info(struct guest *g, uint64_t saved_tsc, uint64_t tsc, const char *path,
			 struct mote_err *err)
{
	struct mote_boot_info *bi = vm_guest_ptr(&g->vm, LAYOUT_BOOT_INFO, sizeof(*bi), 0);
	if (!bi || snapcheck_boot_info(bi, err) < 0)
		return bi ? -1 : mote_errf(err, MOTE_STATUS_SNAP_CORRUPT, "memory holds no boot-info block");
	struct mote_clock c = bi->clock;
	uint64_t mono = snapcheck_monotonic_at(&c, saved_tsc);
	c.generation++;
	guest_clock_rate(&c, g->vm.tsc_khz);
	c.anchor_tsc = tsc;
	c.anchor_monotonic_ns = mono;
	c.anchor_realtime_ns = (int64_t)guest_host_ns(CLOCK_REALTIME);
	bi->clock = c;
	/* What the snapshotted VM had attached is not this clone's: --control attaches anew. */
	memset(&bi->attach, 0, sizeof(bi->attach));
	/* The clone writes to its own stdio, which may be another kind of file than the original's. */
	console_describe_stdio(g->cfg, bi->stdio);
	for (int i = 0; i < 2; i++)
		bi->console[i].error = 0;
	if (getentropy(bi->seed, sizeof(bi->seed)) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "getentropy");
	g->boot_info = bi;
	return 0;
}

int guest_restore(struct guest *g, const struct guest_config *cfg, struct mote_err *err)
{
	memset(g, 0, sizeof(*g));
	g->vm.kvm_fd = g->vm.vm_fd = g->vm.vcpu_fd = -1;
	g->cfg = cfg;
	g->kernel_fd = -1;
	g->base_mem_fd = -1;
	const char *path = cfg->restore_path;
	/* The kernel ELF only serves crash-report symbols: opened now, read only if a crash needs it. */
	if (cfg->kernel_path) {
		g->kernel_fd = guest_open_input(cfg->kernel_path, "guest kernel", MOTE_STATUS_BAD_KERNEL,
						cfg->kernel_optional ? NULL : err);
		if (g->kernel_fd < 0 && !cfg->kernel_optional)
			return -1;
	}
	uint8_t *buf = NULL;
	size_t len = 0;
	if (read_state(path, &buf, &len, err) < 0)
		return -1;
	static struct snap_parsed p;
	static struct layer_restore lr;
	lr.fd = -1;
	char why[256];
	enum snap_error e = snap_parse(buf, len, MOTE_ABI_VERSION, &p, why, sizeof(why));
	struct snap_guest sg;
	int mem_fd = -1, r = -1;
	uint64_t saved_tsc = 0, tsc = 0;
	/* With --layer the vCPU comes from the layer, the memory from the base with the layer over it. */
	const struct snap_parsed *vcpu = cfg->layer_path ? &lr.state : &p;
	if (e != SNAP_OK)
		mote_errf(err, snap_status(e), "snapshot %s: %s", path, why);
	else if (snapcheck_guest(&p, &sg, g->kernel_id, err) == 0 &&
		 (!cfg->layer_path || layer_open(cfg->layer_path, &p, &sg, g->kernel_id, &lr, err) == 0) &&
		 open_memory(path, &p, &sg, &mem_fd, err) == 0 &&
		 vm_create(&g->vm, sg.mem_size, mem_fd, SNAP_MEM_HEADER_SIZE, err) == 0 &&
		 (!cfg->layer_path || layer_apply(&g->vm, &lr, cfg->layer_copy, cfg->layer_path, err) == 0) &&
		 vm_check_vcpu(&g->vm, vcpu, &sg, err) == 0 &&
		 (!sg.rootfs_size || vm_map_rootfs(&g->vm, mem_fd, SNAP_MEM_HEADER_SIZE + sg.mem_size,
						   sg.rootfs_size, err) == 0) &&
		 vm_restore_vcpu(&g->vm, vcpu, &saved_tsc, &tsc, err) == 0 &&
		 fix_boot_info(g, saved_tsc, tsc, path, err) == 0)
		r = 0;
	if (r == 0 && cfg->control_fd >= 0 && !cfg->layer_path) {
		/* Kept to compare pages with, should the supervisor ask for a layer of this VM. */
		g->base_mem_fd = mem_fd;
		mem_fd = -1;
	}
	if (mem_fd >= 0)
		close(mem_fd);
	if (r < 0 && err && !strstr(err->msg, path) &&
	    !(cfg->layer_path && strstr(err->msg, cfg->layer_path))) {
		/* The checks (snapcheck.c, x86_64.c) do not know the file: name it. */
		char msg[sizeof(err->msg)];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		if (cfg->layer_path)
			mote_errf(err, err->status, "snapshot %s with layer %s: %s", path, cfg->layer_path,
				  msg);
		else
			mote_errf(err, err->status, "snapshot %s: %s", path, msg);
	}
	if (r == 0 && cfg->debug)
		fprintf(stderr,
			"mote-vmm: restored %s%s%s: TSC saved %llu, guest reads %llu after restoring it\n",
			path, cfg->layer_path ? " with layer " : "", cfg->layer_path ? cfg->layer_path : "",
			(unsigned long long)saved_tsc, (unsigned long long)tsc);
	if (r == 0) {
		g->stack_guard = sg.stack_guard;
		g->stack_top = sg.stack_top;
		g->kernel.lo = sg.kernel_lo;
		g->kernel.hi = sg.kernel_hi;
		g->has_kernel_id = 1;
		memcpy(g->snap_id, p.header.id, 16);
		if (cfg->layer_path) {
			g->layer.active = 1;
			g->layer.bundle_size = lr.header.bundle_size;
			g->layer.bundle_crc32c = lr.header.bundle_crc32c;
		}
	}
	layer_restore_free(&lr);
	free(buf);
	return r;
}
