/* Attaching a function to a restored guest over the control channel (include/mote/control.h), and its
 * doorbells. */
#include "attach.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mote/control.h>

#include "invoke_region.h"
#include "layer.h"
#include "layout.h"
#include "status.h"
#include "workset.h"

#ifndef F_GET_SEALS
#define F_GET_SEALS 1034
#endif
#ifndef F_SEAL_WRITE
#define F_SEAL_WRITE 0x0008
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

_Static_assert(sizeof(struct mote_ctl_msg) == 288, "control messages keep their size");
_Static_assert(MOTE_CTL_BUNDLE_MAX == LAYOUT_BUNDLE_WINDOW,
	       "control.h and layout.h agree on the bundle window");
_Static_assert(MOTE_CTL_INVOKE_MAX == LAYOUT_INVOKE_WINDOW,
	       "control.h and layout.h agree on the invoke window");

#define ATTACH_FDS_MAX 7
#define PTE_P 0x1ull

int attach_check_control(int fd, struct mote_err *err)
{
	int type = 0, domain = 0;
	socklen_t len = sizeof(type), dlen = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) < 0 || type != SOCK_SEQPACKET ||
	    domain != AF_UNIX)
		return mote_errf(err, MOTE_STATUS_USAGE, "--control %d: not an AF_UNIX SOCK_SEQPACKET socket",
				 fd);
	return 0;
}

/* A guest booted by an older mote-vmm has no page tables for the windows: attaching would crash it. */
static int check_windows(struct guest *g, struct mote_err *err)
{
	const uint64_t *pdpt = vm_guest_ptr(&g->vm, LAYOUT_PDPT, 4096, 0);
	for (uint64_t gib = LAYOUT_BUNDLE_GPA >> 30;
	     pdpt && gib < (LAYOUT_INVOKE_GPA + LAYOUT_INVOKE_WINDOW) >> 30; gib++) {
		const uint64_t *pd = vm_guest_ptr(&g->vm, LAYOUT_PD + gib * 4096, 4096, 0);
		if (!(pdpt[gib] & PTE_P) || !pd || (pd[0] & ~0xfffull) != gib << 30 || !(pd[0] & PTE_P))
			pdpt = NULL;
	}
	if (!pdpt)
		return mote_errf(
		    err, MOTE_STATUS_SNAP_INCOMPATIBLE,
		    "snapshot %s: its page tables do not map the attach windows (made by an older "
		    "mote-vmm); make the base snapshot again",
		    g->cfg->restore_path);
	return 0;
}

static int send_full(int fd, const struct mote_ctl_msg *m)
{
	ssize_t n;
	do
		n = send(fd, m, sizeof(*m), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*m) ? 0 : -1;
}

static void init_msg(struct mote_ctl_msg *m, uint32_t type, int32_t status, uint32_t flags, const char *text)
{
	memset(m, 0, sizeof(*m));
	m->magic = MOTE_CTL_MAGIC;
	m->version = MOTE_CTL_VERSION;
	m->type = type;
	m->status = status;
	m->flags = flags;
	if (text) {
		/* One line, cut to fit (the last byte stays NUL). */
		size_t n = strnlen(text, sizeof(m->text) - 1);
		memcpy(m->text, text, n);
	}
}

static int send_msg(int fd, uint32_t type, int32_t status, uint32_t flags, const char *text)
{
	struct mote_ctl_msg m;
	init_msg(&m, type, status, flags, text);
	return send_full(fd, &m);
}

/* True if the peer of the control socket is gone (checked without waiting). */
static int peer_closed(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR));
}

/*
 * Receive the ATTACH datagram and its fds (closed by the caller, also on
 * failure). Returns 0, -1 with *err for a malformed message, or -2 with *err
 * when the supervisor closed the channel (nothing is answered then).
 */
static int receive_attach(int fd, struct mote_ctl_msg *msg, int *fds, int *nfds, struct mote_err *err)
{
	union {
		struct mote_ctl_msg m;
		char bytes[sizeof(struct mote_ctl_msg) + 1]; /* one more: a longer datagram is seen as such */
	} buf;
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int) * (ATTACH_FDS_MAX + 4))];
	} cbuf;
	struct iovec iov = {.iov_base = &buf, .iov_len = sizeof(buf)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t n;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "control channel: cannot receive ATTACH");
	int other_cmsg = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			other_cmsg = 1;
			continue;
		}
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < ATTACH_FDS_MAX + 4)
				fds[(*nfds)++] = f;
			else
				close(f);
		}
	}
	if (n == 0 && *nfds == 0 && peer_closed(fd)) {
		mote_errf(err, MOTE_STATUS_HOST, "control channel closed by the supervisor before ATTACH");
		return -2;
	}
	if (mh.msg_flags & MSG_CTRUNC)
		return mote_errf(err, MOTE_STATUS_CTL_PROTOCOL,
				 "control: ATTACH carries more than %d file descriptors", ATTACH_FDS_MAX);
	if (other_cmsg)
		return mote_errf(err, MOTE_STATUS_CTL_PROTOCOL,
				 "control: ATTACH carries ancillary data other than SCM_RIGHTS");
	if ((mh.msg_flags & MSG_TRUNC) || n != (ssize_t)sizeof(*msg))
		return mote_errf(err, MOTE_STATUS_CTL_PROTOCOL,
				 "control: a message of %s%zd bytes, expected %zu",
				 (mh.msg_flags & MSG_TRUNC) ? "more than " : "", n, sizeof(*msg));
	memcpy(msg, &buf.m, sizeof(*msg));
	if (msg->magic != MOTE_CTL_MAGIC)
		return mote_errf(err, MOTE_STATUS_CTL_PROTOCOL, "control: bad magic %#x (expected %#x)",
				 msg->magic, MOTE_CTL_MAGIC);
	if (msg->version != MOTE_CTL_VERSION)
		return mote_errf(err, MOTE_STATUS_CTL_PROTOCOL, "control: version %u, mote-vmm speaks %u",
				 msg->version, MOTE_CTL_VERSION);
	if (msg->type != MOTE_CTL_ATTACH)
		return mote_errf(err, MOTE_STATUS_CTL_PROTOCOL,
				 "control: message type %u, expected ATTACH (%u)", msg->type,
				 MOTE_CTL_ATTACH);
	const uint32_t known = MOTE_CTL_F_TAKE_LAYER | MOTE_CTL_F_PREFAULT | MOTE_CTL_F_RECORD_WORKSET;
	if (msg->flags & ~known)
		return mote_errf(err, MOTE_STATUS_CTL_PROTOCOL, "control: ATTACH has unknown flags %#x",
				 msg->flags & ~known);
	return 0;
}

static int check_bundle(int fd, uint64_t size, struct mote_err *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return mote_errf(err, MOTE_STATUS_ATTACH_BUNDLE,
				 "ATTACH: the bundle fd is not a regular file");
	if ((uint64_t)st.st_size < size)
		return mote_errf(err, MOTE_STATUS_ATTACH_BUNDLE,
				 "ATTACH: the bundle file has %lld bytes, bundle_size says %llu",
				 (long long)st.st_size, (unsigned long long)size);
	return 0;
}

static int check_invoke(int fd, uint64_t size, struct mote_err *err)
{
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || seals < 0)
		return mote_errf(err, MOTE_STATUS_ATTACH_INVOKE,
				 "ATTACH: the invoke region fd is not a memfd");
	if (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
		return mote_errf(err, MOTE_STATUS_ATTACH_INVOKE,
				 "ATTACH: the invoke memfd is sealed against writes");
	if ((uint64_t)st.st_size < size)
		return mote_errf(err, MOTE_STATUS_ATTACH_INVOKE,
				 "ATTACH: the invoke memfd has %lld bytes, invoke_size says %llu",
				 (long long)st.st_size, (unsigned long long)size);
	struct mote_invoke_region hdr;
	if (pread(fd, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
		return mote_errnof(err, MOTE_STATUS_ATTACH_INVOKE, errno,
				   "ATTACH: cannot read the invoke header");
	int r = mote_invoke_region_check(&hdr, size, NULL);
	if (r != MOTE_INVOKE_REGION_OK)
		return mote_errf(err, MOTE_STATUS_ATTACH_INVOKE, "ATTACH: invoke region header: %s",
				 mote_invoke_region_strerror(r));
	return 0;
}

/* The eventfd's id from /proc/self/fdinfo (0 when the kernel does not show one), or -1: not an eventfd. */
static long long eventfd_id(int fd)
{
	char path[64], target[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = 0;
	if (strcmp(target, "anon_inode:[eventfd]") != 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	FILE *f = fopen(path, "re");
	long long id = 0;
	char line[128];
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "eventfd-id: %lld", &id) == 1)
			break;
	if (f)
		fclose(f);
	return id;
}

static int check_doorbells(int to_guest, int to_host, struct mote_err *err)
{
	long long a = eventfd_id(to_guest), b = eventfd_id(to_host);
	if (a < 0 || b < 0)
		return mote_errf(err, MOTE_STATUS_ATTACH_DOORBELL,
				 "ATTACH: the doorbell %s fd is not an eventfd",
				 a < 0 ? "to the guest" : "to the host");
	if (a && a == b)
		return mote_errf(err, MOTE_STATUS_ATTACH_DOORBELL,
				 "ATTACH: both doorbells are the same eventfd");
	return 0;
}

/* The file a layer is to be written to: a regular file open for writing, not appending. */
static int check_layer_fd(struct guest *g, int fd, struct mote_err *err)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);
	if (g->layer.active)
		return mote_errf(err, MOTE_STATUS_ATTACH_LAYER,
				 "ATTACH: no layer can be taken of a VM restored from a layer");
	if (g->base_mem_fd < 0)
		return mote_errf(err, MOTE_STATUS_ATTACH_LAYER,
				 "ATTACH: the base's memory file is not open to take a layer against");
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || fl < 0)
		return mote_errf(err, MOTE_STATUS_ATTACH_LAYER, "ATTACH: the layer fd is not a regular file");
	if ((fl & O_ACCMODE) == O_RDONLY || (fl & O_APPEND))
		return mote_errf(err, MOTE_STATUS_ATTACH_LAYER, "ATTACH: the layer fd is %s",
				 (fl & O_APPEND) ? "opened O_APPEND" : "read-only");
	return 0;
}

/* A layered restore: the bundle must be the one the layer was taken with (its files are in the layer). */
static int check_layer_bundle(struct guest *g, struct mote_err *err)
{
	uint64_t size = g->vm.bundle ? g->vm.bundle_size : 0;
	if (size != g->layer.bundle_size || layer_bundle_crc(&g->vm) != g->layer.bundle_crc32c)
		return mote_errf(err, MOTE_STATUS_ATTACH_BUNDLE,
				 "ATTACH: the bundle (%llu bytes) is not the one the layer %s was taken with "
				 "(%llu bytes, CRC-32C %08x)",
				 (unsigned long long)size, g->cfg->layer_path,
				 (unsigned long long)g->layer.bundle_size, g->layer.bundle_crc32c);
	return 0;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Fault in, written, the pages of the working set in fd (MOTE_CTL_F_PREFAULT): a clone's first touch of a
 * page costs a fault each under shadow paging, MADV_POPULATE_WRITE a fraction of it. A kernel without
 * MADV_POPULATE_WRITE (before 5.14) only loses the speed-up.
 */
static int prefault(struct guest *g, int fd, struct mote_err *err)
{
	static uint8_t blob[MOTE_WS_MAX];
	long runs = mote_ws_read(fd, blob, g->vm.mem_size / 4096, err);
	if (runs < 0)
		return -1;
	uint64_t t0 = monotonic_ns();
	for (long i = 0; i < runs; i++) {
		struct mote_ws_run r = mote_ws_run(blob, (size_t)i);
		if (madvise(g->vm.mem + r.first * 4096, r.count * 4096, 23 /* MADV_POPULATE_WRITE */) < 0)
			break;
	}
	if (g->cfg->debug)
		fprintf(stderr, "mote-vmm: prefaulted %llu pages in %ld runs (%.2f ms)\n",
			(unsigned long long)mote_ws_pages(blob, (size_t)runs), runs,
			(double)(monotonic_ns() - t0) / 1e6);
	return 0;
}

/* The file a working set is to be written to: a regular file (or memfd) open for writing. */
static int check_workset_out(int fd, struct mote_err *err)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || fl < 0 || (fl & O_ACCMODE) == O_RDONLY)
		return mote_errf(err, MOTE_STATUS_ATTACH_WORKSET,
				 "ATTACH: the working set fd to record into is not a writable regular file");
	return 0;
}

/* Check and take the ATTACH: sizes, fds, memory slots, the boot info's attach block. Kept fds become -1. */
static int accept_attach(struct guest *g, const struct mote_ctl_msg *msg, int *fds, int nfds,
			 struct mote_err *err)
{
	uint64_t bsize = msg->bundle_size, isize = msg->invoke_size;
	int take_layer = (msg->flags & MOTE_CTL_F_TAKE_LAYER) != 0;
	int pre = (msg->flags & MOTE_CTL_F_PREFAULT) != 0,
	    rec = (msg->flags & MOTE_CTL_F_RECORD_WORKSET) != 0;
	int want = (bsize ? 4 : 3) + take_layer + pre + rec;
	if (nfds != want)
		return mote_errf(
		    err, MOTE_STATUS_CTL_PROTOCOL,
		    "control: ATTACH carries %d file descriptors, expected %d (bundle_size %llu%s%s%s)", nfds,
		    want, (unsigned long long)bsize, take_layer ? ", a layer asked for" : "",
		    pre ? ", a working set to prefault" : "", rec ? ", a working set to record" : "");
	if (bsize > MOTE_CTL_BUNDLE_MAX)
		return mote_errf(err, MOTE_STATUS_ATTACH_BUNDLE,
				 "ATTACH: bundle_size %llu exceeds the %llu-byte bundle window",
				 (unsigned long long)bsize, MOTE_CTL_BUNDLE_MAX);
	if (isize == 0 || isize % 4096 || isize > MOTE_CTL_INVOKE_MAX)
		return mote_errf(err, MOTE_STATUS_ATTACH_INVOKE,
				 "ATTACH: invoke_size %llu is not a multiple of 4096 in [4096, %llu]",
				 (unsigned long long)isize, MOTE_CTL_INVOKE_MAX);
	int k = 0;
	int bundle_fd = bsize ? fds[k++] : -1;
	int invoke_fd = fds[k++], to_guest = fds[k++], to_host = fds[k++];
	int layer_fd = take_layer ? fds[k] : -1;
	int ws_in = pre ? fds[k + take_layer] : -1, ws_out = rec ? fds[k + take_layer + pre] : -1;
	if ((bundle_fd >= 0 && check_bundle(bundle_fd, bsize, err) < 0) ||
	    check_invoke(invoke_fd, isize, err) < 0 || check_doorbells(to_guest, to_host, err) < 0 ||
	    (take_layer && check_layer_fd(g, layer_fd, err) < 0) ||
	    (rec && check_workset_out(ws_out, err) < 0) || (pre && prefault(g, ws_in, err) < 0))
		return -1;
	if ((bundle_fd >= 0 && vm_map_bundle(&g->vm, bundle_fd, bsize, err) < 0) ||
	    vm_map_invoke(&g->vm, invoke_fd, isize, err) < 0)
		return -1;
	if (g->layer.active && check_layer_bundle(g, err) < 0)
		return -1;
	struct mote_boot_info *bi = g->boot_info;
	bi->attach = (struct mote_attach){
	    .generation = bi->clock.generation,
	    .bundle_gpa = bsize ? LAYOUT_BUNDLE_GPA : 0,
	    .bundle_size = bsize,
	    .invoke_gpa = LAYOUT_INVOKE_GPA,
	    .invoke_size = isize,
	};
	g->chan.doorbell_guest = to_guest;
	g->chan.doorbell_host = to_host;
	g->chan.attached = 1;
	fds[k - 2] = fds[k - 1] = -1;
	if (take_layer) {
		g->chan.take_layer = 1;
		g->chan.layer_fd = layer_fd;
		fds[k] = -1;
	}
	if (rec) {
		g->chan.workset_fd = ws_out;
		fds[k + take_layer + pre] = -1;
	}
	return 0;
}

int attach_run(struct guest *g, struct mote_err *err)
{
	struct guest_channel *ch = &g->chan;
	ch->control_fd = g->cfg->control_fd;
	if (check_windows(g, err) < 0)
		return -1;
	ch->layer_fd = ch->workset_fd = -1;
	uint32_t from_layer = g->layer.active ? MOTE_CTL_F_FROM_LAYER : 0;
	if (send_msg(ch->control_fd, MOTE_CTL_READY, 0, MOTE_CTL_F_LAYERS | MOTE_CTL_F_WORKSET | from_layer,
		     NULL) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "control channel: cannot send READY");
	struct mote_ctl_msg msg;
	memset(&msg, 0, sizeof(msg));
	int fds[ATTACH_FDS_MAX + 4], nfds = 0;
	int r = receive_attach(ch->control_fd, &msg, fds, &nfds, err);
	if (r == 0)
		r = accept_attach(g, &msg, fds, nfds, err);
	for (int i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (r == -2)
		return -1;
	if (r < 0) {
		send_msg(ch->control_fd, MOTE_CTL_RUNNING, err->status, 0, err->msg);
		return -1;
	}
	if (send_msg(ch->control_fd, MOTE_CTL_RUNNING, 0, from_layer, NULL) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "control channel: cannot send RUNNING");
	if (g->cfg->debug)
		fprintf(
		    stderr,
		    "mote-vmm: attached: bundle %llu bytes, invoke region %llu bytes, generation %llu%s%s\n",
		    (unsigned long long)msg.bundle_size, (unsigned long long)msg.invoke_size,
		    (unsigned long long)g->boot_info->attach.generation,
		    from_layer ? ", function loaded from the layer" : "",
		    ch->take_layer ? ", a layer to be taken at READY" : "");
	return 0;
}

void attach_record_workset(struct guest *g)
{
	struct guest_channel *ch = &g->chan;
	static uint8_t blob[MOTE_WS_MAX];
	struct mote_ctl_msg m;
	uint64_t pages = g->vm.mem_size / 4096;
	uint8_t *backed = vm_backed_pages(&g->vm);
	size_t len = backed ? mote_ws_encode(backed, pages, blob, sizeof(blob)) : 0;
	struct mote_err err = {0};
	long runs = len ? mote_ws_parse(blob, len, pages, &err) : -1;
	if (runs >= 0 && pwrite(ch->workset_fd, blob, len, 0) == (ssize_t)len) {
		init_msg(&m, MOTE_CTL_WORKSET, 0, 0, NULL);
		m.layer_bytes = len;
		m.layer_pages = mote_ws_pages(blob, (size_t)runs);
	} else {
		char why[sizeof(m.text)];
		snprintf(why, sizeof(why), "%s",
			 backed ? "cannot write the working set" : "cannot read /proc/self/pagemap");
		init_msg(&m, MOTE_CTL_WORKSET, MOTE_STATUS_HOST, 0, why);
	}
	free(backed);
	if (send_full(ch->control_fd, &m) < 0 && g->cfg->debug)
		fprintf(stderr, "mote-vmm: control channel: cannot send WORKSET: %s\n", strerror(errno));
	close(ch->workset_fd);
	ch->workset_fd = -1;
}

void attach_take_layer(struct guest *g)
{
	struct guest_channel *ch = &g->chan;
	struct mote_err err = {0};
	uint64_t bytes = 0, pages = 0;
	struct mote_ctl_msg m;
	if (layer_take(g, &bytes, &pages, &err) == 0) {
		init_msg(&m, MOTE_CTL_LAYER, 0, 0, NULL);
		m.layer_bytes = bytes;
		m.layer_pages = pages;
	} else {
		fprintf(stderr, "mote-vmm: %s; the VM goes on\n", err.msg);
		init_msg(&m, MOTE_CTL_LAYER, err.status, 0, err.msg);
	}
	if (send_full(ch->control_fd, &m) < 0 && g->cfg->debug)
		fprintf(stderr, "mote-vmm: control channel: cannot send LAYER: %s\n", strerror(errno));
	close(ch->layer_fd);
	ch->layer_fd = -1;
	ch->take_layer = 0;
}

/* A readable control socket after ATTACH: the supervisor closed it (1), or sent something ignored (0). */
static int control_readable(struct guest *g)
{
	char buf[sizeof(struct mote_ctl_msg)];
	char cbuf[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t n = recvmsg(g->chan.control_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); n >= 0 && c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
				int f;
				memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(f);
			}
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : 1;
	if (n == 0 && peer_closed(g->chan.control_fd))
		return 1;
	fprintf(stderr, "mote-vmm: control: a message after ATTACH ignored (%zd bytes)\n", n);
	return 0;
}

int attach_wait_request(struct guest *g, const sigset_t *mask, struct mote_err *err)
{
	struct pollfd p[2] = {
	    {.fd = g->chan.doorbell_guest, .events = POLLIN},
	    {.fd = g->chan.control_fd, .events = POLLIN | POLLRDHUP},
	};
	int n = ppoll(p, 2, NULL, mask);
	if (n < 0)
		return errno == EINTR ? ATTACH_WAIT_AGAIN
				      : mote_errnof(err, MOTE_STATUS_HOST, errno, "waiting for a request");
	if (p[1].revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL))
		return ATTACH_WAIT_HANGUP;
	if ((p[1].revents & POLLIN) && control_readable(g))
		return ATTACH_WAIT_HANGUP;
	if (p[0].revents & (POLLERR | POLLNVAL))
		return mote_errf(err, MOTE_STATUS_HOST, "the guest's doorbell eventfd failed");
	if (p[0].revents & POLLIN) {
		uint64_t v;
		ssize_t r = read(g->chan.doorbell_guest, &v, sizeof(v));
		if (r == (ssize_t)sizeof(v))
			return ATTACH_WAIT_REQUEST;
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			return mote_errnof(err, MOTE_STATUS_HOST, errno, "reading the guest's doorbell");
	}
	return ATTACH_WAIT_AGAIN;
}
