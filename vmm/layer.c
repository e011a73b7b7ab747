/* Layers: a function's VM saved as the pages that differ from its base snapshot, and restored over it. */
#include "layer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console.h"
#include "file.h"
#include "snapcheck.h"
#include "status.h"

#define PAGE 4096ull
/* Runs closer than this many pages are merged (the gap's pages, equal to the base, travel along): one
 * mapping less at every restore for 8 KiB more in the file. */
#define GAP_PAGES 2u
/* Metadata read in the first pread; larger metadata costs a second one. */
#define FIRST_READ 65536u

static int status_of(enum snap_error e)
{
	switch (e) {
	case SNAP_ERR_TRUNCATED: return MOTE_STATUS_SNAP_TRUNCATED;
	case SNAP_ERR_FOREIGN: return MOTE_STATUS_SNAP_FOREIGN;
	default: return MOTE_STATUS_SNAP_CORRUPT;
	}
}

static void hex16(const uint8_t id[16], char out[33])
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
}

/* ---- Restoring ------------------------------------------------------------ */

void layer_restore_free(struct layer_restore *lr)
{
	if (lr->fd >= 0)
		close(lr->fd);
	free(lr->runs);
	free(lr->meta);
	memset(lr, 0, sizeof(*lr));
	lr->fd = -1;
}

/* The layer's guest must be the base's: same memory layout and kernel. */
static int same_guest(const struct snap_guest *a, const struct snap_guest *b)
{
	return a->mem_size == b->mem_size && a->stack_guard == b->stack_guard &&
	       a->stack_top == b->stack_top && a->rootfs_gpa == b->rootfs_gpa &&
	       a->rootfs_size == b->rootfs_size && a->rootfs_map_size == b->rootfs_map_size &&
	       a->kernel_lo == b->kernel_lo && a->kernel_hi == b->kernel_hi;
}

int layer_open(const char *path, const struct snap_parsed *base, const struct snap_guest *base_sg,
	       const uint8_t base_kernel_id[SNAP_KERNEL_ID_SIZE], struct layer_restore *lr,
	       struct mote_err *err)
{
	memset(lr, 0, sizeof(*lr));
	struct stat st;
	lr->fd = mote_open_regular(path, &st);
	if (lr->fd == -2) {
		lr->fd = -1;
		return mote_errf(err, MOTE_STATUS_SNAP_CORRUPT, "layer %s: %s, not a regular file", path,
				 mote_file_kind(st.st_mode));
	}
	if (lr->fd < 0)
		return mote_errnof(err, errno == ENOENT ? MOTE_STATUS_NOT_FOUND : MOTE_STATUS_HOST, errno,
				   "cannot open layer %s", path);
	uint64_t size = (uint64_t)st.st_size;
	size_t want = size < FIRST_READ ? (size_t)size : FIRST_READ;
	lr->meta = malloc(want ? want : 1);
	if (!lr->meta)
		return mote_errf(err, MOTE_STATUS_HOST, "layer %s: out of memory", path);
	if (mote_pread_all(lr->fd, lr->meta, want, 0) == -1)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot read layer %s", path);
	/* Metadata larger than the first read: read it whole (bounded by LAYER_META_MAX). */
	struct layer_header h;
	if (want >= sizeof(h)) {
		memcpy(&h, lr->meta, sizeof(h));
		uint64_t meta = h.nruns <= LAYER_RUNS_MAX && h.state_size <= SNAP_STATE_MAX
				    ? layer_meta_size(h.nruns, h.state_size)
				    : 0;
		if (meta > want && meta <= size) {
			uint8_t *b = realloc(lr->meta, (size_t)meta);
			if (!b)
				return mote_errf(err, MOTE_STATUS_HOST, "layer %s: out of memory", path);
			lr->meta = b;
			if (mote_pread_all(lr->fd, b + want, (size_t)meta - want, want) == -1)
				return mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot read layer %s",
						   path);
			want = (size_t)meta;
		}
	}
	struct layer_parsed lp;
	char why[256];
	enum snap_error e = layer_parse(lr->meta, want, size, MOTE_ABI_VERSION, &lp, why, sizeof(why));
	if (e != SNAP_OK)
		return mote_errf(err, status_of(e), "layer %s: %s", path, why);
	lr->header = lp.header;
	if (memcmp(lp.header.base_id, base->header.id, 16) != 0) {
		char mine[33], theirs[33];
		hex16(lp.header.base_id, mine);
		hex16(base->header.id, theirs);
		return mote_errf(err, MOTE_STATUS_LAYER_BASE,
				 "layer %s lies on base snapshot %s, not on the one restored (%s); take the "
				 "layer again on this base",
				 path, mine, theirs);
	}
	if (lp.header.mem_size != base_sg->mem_size)
		return mote_errf(
		    err, MOTE_STATUS_SNAP_CORRUPT, "layer %s: %llu bytes of guest RAM, its base has %llu",
		    path, (unsigned long long)lp.header.mem_size, (unsigned long long)base_sg->mem_size);
	lr->runs = malloc(lp.header.nruns ? lp.header.nruns * sizeof(*lr->runs) : 1);
	if (!lr->runs)
		return mote_errf(err, MOTE_STATUS_HOST, "layer %s: out of memory", path);
	memcpy(lr->runs, lp.runs, lp.header.nruns * sizeof(*lr->runs));
	e = snap_parse(lp.state, lp.header.state_size, MOTE_ABI_VERSION, &lr->state, why, sizeof(why));
	if (e != SNAP_OK)
		return mote_errf(err, status_of(e), "layer %s: its vCPU state: %s", path, why);
	if (memcmp(lr->state.header.id, lp.header.id, 16) != 0)
		return mote_errf(err, MOTE_STATUS_SNAP_CORRUPT,
				 "layer %s: its vCPU state belongs to another layer (id mismatch)", path);
	struct snap_guest sg;
	uint8_t kid[SNAP_KERNEL_ID_SIZE];
	if (snapcheck_guest(&lr->state, &sg, kid, err) < 0) {
		char msg[sizeof(err->msg)];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		return mote_errf(err, err->status, "layer %s: %s", path, msg);
	}
	if (!same_guest(&sg, base_sg) || memcmp(kid, base_kernel_id, SNAP_KERNEL_ID_SIZE) != 0)
		return mote_errf(err, MOTE_STATUS_SNAP_CORRUPT,
				 "layer %s: its guest (memory layout or kernel) is not its base's", path);
	return 0;
}

int layer_apply(struct vm *vm, const struct layer_restore *lr, int copy, const char *path,
		struct mote_err *err)
{
	const struct layer_header *h = &lr->header;
	uint64_t off = h->data_offset;
	for (uint32_t i = 0; i < h->nruns; i++) {
		const struct layer_run *r = &lr->runs[i];
		uint8_t *at = vm->mem + r->first_page * PAGE;
		size_t len = (size_t)(r->npages * PAGE);
		if (copy) {
			int rc = mote_pread_all(lr->fd, at, len, off);
			if (rc == -2)
				return mote_errf(err, MOTE_STATUS_SNAP_TRUNCATED,
						 "layer %s: truncated while read", path);
			if (rc < 0)
				return mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot read layer %s",
						   path);
		} else if (mmap(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE,
				lr->fd, (off_t)off) == MAP_FAILED) {
			return mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot map layer %s", path);
		}
		off += len;
	}
	/* The file was checked to be this long; had it shrunk since, reading a mapped page would SIGBUS. */
	struct stat st;
	if (!copy && (fstat(lr->fd, &st) < 0 || (uint64_t)st.st_size < h->file_size))
		return mote_errf(err, MOTE_STATUS_SNAP_TRUNCATED, "layer %s: truncated while restored", path);
	uint32_t crc = 0;
	for (uint32_t i = 0; i < h->nruns; i++)
		crc = snap_crc32c(crc, vm->mem + lr->runs[i].first_page * PAGE,
				  (size_t)(lr->runs[i].npages * PAGE));
	if (crc != h->data_crc32c)
		return mote_errf(err, MOTE_STATUS_SNAP_CORRUPT,
				 "layer %s: checksum mismatch in its pages (CRC-32C %08x, file says %08x)",
				 path, crc, h->data_crc32c);
	return 0;
}

/* ---- Taking ---------------------------------------------------------------- */

uint32_t layer_bundle_crc(const struct vm *vm)
{
	return vm->bundle && vm->bundle_size ? snap_crc32c(0, vm->bundle, (size_t)vm->bundle_size) : 0;
}

/*
 * Pages of guest RAM that differ from the base's memory file: those written
 * since the restore (all, when pagemap cannot say), each compared with the
 * base. One byte per page, malloc'ed; NULL with *err.
 */
static uint8_t *differing_pages(const struct guest *g, uint64_t *count, struct mote_err *err)
{
	const struct vm *vm = &g->vm;
	uint64_t pages = vm->mem_size / PAGE;
	uint8_t *dirty = vm_written_pages(vm);
	if (!dirty) {
		dirty = malloc(pages);
		if (!dirty)
			return mote_errf(err, MOTE_STATUS_HOST, "layer: out of memory"), NULL;
		memset(dirty, 1, pages);
	}
	static uint8_t base[64 * PAGE];
	*count = 0;
	for (uint64_t i = 0; i < pages;) {
		if (!dirty[i]) {
			i++;
			continue;
		}
		uint64_t n = 1;
		while (i + n < pages && n < 64 && dirty[i + n])
			n++;
		int rc =
		    mote_pread_all(g->base_mem_fd, base, (size_t)(n * PAGE), SNAP_MEM_HEADER_SIZE + i * PAGE);
		if (rc < 0) {
			free(dirty);
			return mote_errnof(err, MOTE_STATUS_SNAP_WRITE, rc == -2 ? EIO : errno,
					   "layer: cannot read the base's memory file"),
			       NULL;
		}
		for (uint64_t k = 0; k < n; k++) {
			dirty[i + k] = memcmp(base + k * PAGE, vm->mem + (i + k) * PAGE, PAGE) != 0;
			*count += dirty[i + k];
		}
		i += n;
	}
	return dirty;
}

/* The runs over `dirty` with gaps of at most `gap` pages merged; NULL when out of memory. */
static struct layer_run *make_runs(const uint8_t *dirty, uint64_t pages, uint64_t gap, uint32_t *nruns,
				   uint64_t *total)
{
	size_t cap = 64, n = 0;
	struct layer_run *runs = malloc(cap * sizeof(*runs));
	*total = 0;
	for (uint64_t i = 0; runs && i < pages; i++) {
		if (!dirty[i])
			continue;
		if (n && i - (runs[n - 1].first_page + runs[n - 1].npages) <= gap) {
			uint64_t end = runs[n - 1].first_page + runs[n - 1].npages;
			*total += i + 1 - end;
			runs[n - 1].npages = i + 1 - runs[n - 1].first_page;
			continue;
		}
		if (n == cap) {
			struct layer_run *b = realloc(runs, (cap *= 2) * sizeof(*runs));
			if (!b) {
				free(runs);
				return NULL;
			}
			runs = b;
		}
		runs[n++] = (struct layer_run){.first_page = i, .npages = 1};
		*total += 1;
	}
	*nruns = (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n);
	return runs;
}

int layer_take(struct guest *g, uint64_t *bytes, uint64_t *pages_out, struct mote_err *err)
{
	int fd = g->chan.layer_fd;
	if (g->base_mem_fd < 0)
		return mote_errf(err, MOTE_STATUS_SNAP_WRITE, "layer: the base's memory file is not open");
	if (guest_complete_exit(g, err) < 0)
		return -1;
	console_drain(g); /* what the function printed while it loaded is this VM's: no clone repeats it */
	uint8_t id[16];
	if (getentropy(id, sizeof(id)) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "getentropy");
	struct snap_writer w;
	if (guest_build_state(g, id, &w, err) < 0) {
		snap_writer_free(&w);
		return -1;
	}
	uint64_t ndirty = 0, total = 0;
	uint8_t *dirty = differing_pages(g, &ndirty, err);
	struct layer_run *runs = NULL;
	uint32_t nruns = 0;
	for (uint64_t gap = GAP_PAGES; dirty; gap = gap * 2 + 1) {
		free(runs);
		runs = make_runs(dirty, g->vm.mem_size / PAGE, gap, &nruns, &total);
		if (!runs || nruns <= LAYER_RUNS_MAX)
			break;
	}
	free(dirty);
	if (!runs) {
		snap_writer_free(&w);
		return err->msg[0] ? -1 : mote_errf(err, MOTE_STATUS_HOST, "layer: out of memory");
	}
	struct layer_header h;
	memset(&h, 0, sizeof(h));
	h.abi_version = MOTE_ABI_VERSION;
	memcpy(h.id, id, 16);
	memcpy(h.base_id, g->snap_id, 16);
	h.mem_size = g->vm.mem_size;
	h.created_realtime_ns = guest_host_ns(CLOCK_REALTIME);
	h.bundle_size = g->vm.bundle ? g->vm.bundle_size : 0;
	h.bundle_crc32c = layer_bundle_crc(&g->vm);
	for (uint32_t i = 0; i < nruns; i++)
		h.data_crc32c = snap_crc32c(h.data_crc32c, g->vm.mem + runs[i].first_page * PAGE,
					    (size_t)(runs[i].npages * PAGE));
	size_t meta_len = 0;
	uint8_t *meta = layer_build_meta(&h, runs, nruns, w.buf, (uint32_t)w.len, &meta_len);
	snap_writer_free(&w);
	int r = -1;
	if (!meta) {
		mote_errf(err, MOTE_STATUS_SNAP_WRITE, "layer: more than %u page runs or too much state",
			  LAYER_RUNS_MAX);
	} else if (ftruncate(fd, 0) < 0 || mote_pwrite_all(fd, meta, meta_len, 0) < 0) {
		mote_errnof(err, MOTE_STATUS_SNAP_WRITE, errno, "cannot write the layer");
	} else {
		uint64_t off = meta_len;
		r = 0;
		for (uint32_t i = 0; r == 0 && i < nruns; i++) {
			size_t len = (size_t)(runs[i].npages * PAGE);
			if (mote_pwrite_all(fd, g->vm.mem + runs[i].first_page * PAGE, len, off) < 0)
				r = mote_errnof(err, MOTE_STATUS_SNAP_WRITE, errno, "cannot write the layer");
			off += len;
		}
		*bytes = off;
		*pages_out = total;
		if (r == 0 && g->cfg->debug)
			fprintf(
			    stderr,
			    "mote-vmm: layer written: %llu pages differ from the base, %llu in %u runs, %llu "
			    "bytes\n",
			    (unsigned long long)ndirty, (unsigned long long)total, nruns,
			    (unsigned long long)off);
	}
	/* No half-written layer that looks like one: the supervisor removes the empty file. */
	if (r < 0 && ftruncate(fd, 0) < 0 && g->cfg->debug)
		fprintf(stderr, "mote-vmm: cannot empty the layer file: %s\n", strerror(errno));
	free(meta);
	free(runs);
	return r;
}
