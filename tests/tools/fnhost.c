/* fnhost: a minimal gateway for testing runtimes: restore a base with --control, attach a bundle, send
 * requests. */
/*
 * usage: fnhost --vmm MOTE-VMM --snapshot BASE.snap --bundle DIR|IMAGE --out DIR
 *               [--req-cap BYTES] [--resp-cap BYTES] [--wait SECONDS] [--log FILE]
 *               [--take-layer FILE | --layer FILE] [--vmm-arg ARG]... [--cold N]
 *               [--prefault FILE | --record-workset FILE] SCRIPT
 *
 * Starts `MOTE-VMM --restore BASE.snap --control 3 --die-with-parent`, waits
 * for READY, attaches the bundle (a directory is packed with lib/rootfs
 * first) and an invoke region of its own making, as include/mote/control.h
 * says, and records the runtime's first message in OUT/first ("READY text"
 * or "INIT_ERROR text"). Then it sends each request of SCRIPT (a file, or -
 * for stdin), one line each:
 *
 *   METHOD PATH QUERY BODY [NAME:VALUE]...     QUERY "-" for none; BODY "-" for empty,
 *                                              "@FILE" for a file's bytes, else the text
 *   repeat N                                   send the previous request N more times and
 *                                              print "latency n=N p50=.. p90=.. p99=.. (us)"
 *
 * and writes response k (1, 2, ...) to OUT/k.status, OUT/k.headers ("name: value" lines)
 * and OUT/k.body, checking the response with lib/invoke_msg as a gateway must. A response
 * that does not decode is recorded as status "bad: REASON". At the end it closes the
 * control channel and prints "vm-exit STATUS" (or "vm-signal N").
 *
 * Working sets (include/mote/control.h): --prefault FILE passes FILE to ATTACH as the working set to
 * fault in; --record-workset FILE asks mote-vmm to record one there and, at the first request, waits for
 * WORKSET and prints "workset ok BYTES PAGES" (or "workset error STATUS TEXT").
 *
 * Layers (docs/snapshots.md): --take-layer FILE asks mote-vmm for a layer at the runtime's
 * READY (FILE is created or truncated) and records the LAYER answer in OUT/layer and on stdout
 * ("layer ok BYTES PAGES" or "layer error STATUS TEXT"). --layer FILE restores FILE over the
 * base (mote-vmm --layer); READY and RUNNING must say "from layer" and the first message must
 * be empty, recorded as "FROM-LAYER" (an empty first message without --layer, from a clone of a full
 * snapshot taken while the function waited, is "EMPTY"). --vmm-arg passes ARG on to mote-vmm. --cold N runs
 * the whole cold start N times instead (spawn, READY, ATTACH, the first message, the script's first request
 * and its response, hang-up) and prints "cold n=N p50=.. p90=.. p99=.. (us)" and the same for "first-message"
 * (spawn to the runtime's first message). Exit status: 0 when the script ran to its end, 1 on a usage or
 * setup error, 2 when the VM ended or did not answer within --wait seconds (default 20), after one line on
 * stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mote/abi.h>
#include <mote/control.h>

#include "err.h"
#include "invoke_msg.h"
#include "rootfs.h"

static const char *out_dir;
static int wait_ms = 20000;
static pid_t vm_pid = -1;

static void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fnhost: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	if (vm_pid > 0)
		kill(vm_pid, SIGKILL);
	exit(status);
}

static void write_out(const char *name, const void *data, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", out_dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
		die(1, "%s: %s", path, strerror(errno));
}

static uint8_t *slurp_path(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die(1, "%s: %s", path, strerror(errno));
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	size_t got;
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	*len = n;
	return buf;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- control channel ---- */

static void ctl_send(int sock, const struct mote_ctl_msg *m, const int *fds, int nfds)
{
	struct iovec iov = {.iov_base = (void *)m, .iov_len = sizeof(*m)};
	union {
		char buf[CMSG_SPACE(5 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (nfds) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof(*m))
		die(2, "sending on the control channel: %s", strerror(errno));
}

/* Wait for fd to be readable; 0 when it is, else dies naming `what` (the VM exited or stayed silent). */
static void wait_readable(int fd, int ctl, const char *what)
{
	struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = ctl, .events = POLLIN}};
	int64_t deadline = now_ns() + (int64_t)wait_ms * 1000000;
	for (;;) {
		int left = (int)((deadline - now_ns()) / 1000000);
		if (left <= 0)
			die(2, "no %s within %d ms", what, wait_ms);
		int n = poll(p, fd == ctl ? 1 : 2, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(1, "poll: %s", strerror(errno));
		if (p[0].revents & POLLIN)
			return;
		if (fd != ctl && (p[1].revents & (POLLHUP | POLLIN))) {
			int st;
			waitpid(vm_pid, &st, 0);
			vm_pid = -1;
			if (WIFEXITED(st))
				die(2, "the VM exited with status %d while waiting for %s", WEXITSTATUS(st),
				    what);
			die(2, "the VM died by signal %d while waiting for %s", WTERMSIG(st), what);
		}
		if (p[0].revents & (POLLHUP | POLLERR))
			die(2, "the VM closed the control channel while waiting for %s", what);
	}
}

static void ctl_recv(int sock, struct mote_ctl_msg *m, uint32_t want)
{
	const char *what = want == MOTE_CTL_READY ? "READY" : want == MOTE_CTL_LAYER ? "LAYER" : "RUNNING";
	wait_readable(sock, sock, what);
	ssize_t n = recv(sock, m, sizeof(*m), 0);
	if (n == 0)
		die(2, "the VM closed the control channel before %s", what);
	if (n != (ssize_t)sizeof(*m) || m->magic != MOTE_CTL_MAGIC || m->version != MOTE_CTL_VERSION ||
	    m->type != want)
		die(2, "unexpected control message (%zd bytes, type %u)", n, n >= 12 ? m->type : 0);
}

/* ---- the invoke region ---- */

struct region {
	uint8_t *base;
	volatile struct mote_invoke_region *hdr;
	uint64_t size, req_cap, resp_cap;
	int fd, to_guest, to_host;
	uint64_t seq;
};

static void region_create(struct region *r, uint64_t req_cap, uint64_t resp_cap)
{
	req_cap = (req_cap + 4095) & ~4095ull;
	resp_cap = (resp_cap + 4095) & ~4095ull;
	r->size = 4096 + req_cap + resp_cap;
	r->req_cap = req_cap;
	r->resp_cap = resp_cap;
	r->fd = memfd_create("fnhost-invoke", MFD_CLOEXEC);
	if (r->fd < 0 || ftruncate(r->fd, (off_t)r->size) < 0)
		die(1, "memfd: %s", strerror(errno));
	r->base = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->base == MAP_FAILED)
		die(1, "mmap: %s", strerror(errno));
	r->hdr = (volatile struct mote_invoke_region *)r->base;
	r->hdr->magic = MOTE_INVOKE_MAGIC;
	r->hdr->version = MOTE_INVOKE_VERSION;
	r->hdr->size = r->size;
	r->hdr->req_off = 4096;
	r->hdr->req_cap = req_cap;
	r->hdr->resp_off = 4096 + req_cap;
	r->hdr->resp_cap = resp_cap;
	r->to_guest = eventfd(0, EFD_CLOEXEC);
	r->to_host = eventfd(0, EFD_CLOEXEC);
	if (r->to_guest < 0 || r->to_host < 0)
		die(1, "eventfd: %s", strerror(errno));
	r->seq = 0;
}

static void region_destroy(struct region *r)
{
	munmap(r->base, r->size);
	close(r->fd);
	close(r->to_guest);
	close(r->to_host);
}

/* Wait for the guest's next message; copy it out (the guest may change it meanwhile) into buf. */
static size_t region_wait(struct region *r, int ctl, uint8_t *buf, const char *what)
{
	wait_readable(r->to_host, ctl, what);
	uint64_t v;
	if (read(r->to_host, &v, sizeof(v)) != sizeof(v))
		die(1, "reading the host doorbell: %s", strerror(errno));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	uint64_t seq = r->hdr->resp_seq, len = r->hdr->resp_len;
	if (seq != r->seq)
		die(2, "%s: resp_seq %llu, expected %llu", what, (unsigned long long)seq,
		    (unsigned long long)r->seq);
	if (len > r->resp_cap)
		die(2, "%s: resp_len %llu beyond resp_cap", what, (unsigned long long)len);
	memcpy(buf, r->base + 4096 + r->req_cap, len);
	return (size_t)len;
}

/* ---- requests ---- */

struct request {
	char method[32], path[1024], query[1024];
	uint8_t *body;
	size_t body_len;
	struct mote_msg_header headers[64];
	char header_text[64][512];
	uint32_t nheaders;
};

static void parse_request(char *line, struct request *q, int lineno)
{
	memset(q, 0, sizeof(*q));
	char *save, *w[3 + 1 + 64];
	int n = 0;
	for (char *t = strtok_r(line, " \t\n", &save); t && n < (int)(sizeof(w) / sizeof(w[0]));
	     t = strtok_r(NULL, " \t\n", &save))
		w[n++] = t;
	if (n < 4)
		die(1, "script line %d: expected METHOD PATH QUERY BODY [NAME:VALUE]...", lineno);
	snprintf(q->method, sizeof(q->method), "%s", w[0]);
	snprintf(q->path, sizeof(q->path), "%s", w[1]);
	snprintf(q->query, sizeof(q->query), "%s", strcmp(w[2], "-") ? w[2] : "");
	if (w[3][0] == '@') {
		q->body = slurp_path(w[3] + 1, &q->body_len);
	} else if (strcmp(w[3], "-") != 0) {
		q->body_len = strlen(w[3]);
		q->body = (uint8_t *)strdup(w[3]);
	}
	for (int i = 4; i < n; i++) {
		char *colon = strchr(w[i], ':');
		if (!colon)
			die(1, "script line %d: header '%s' has no ':'", lineno, w[i]);
		snprintf(q->header_text[q->nheaders], sizeof(q->header_text[0]), "%s", w[i]);
		char *h = q->header_text[q->nheaders];
		size_t nlen = (size_t)(colon - w[i]);
		q->headers[q->nheaders++] =
		    (struct mote_msg_header){h, (uint32_t)nlen, h + nlen + 1, (uint32_t)strlen(h + nlen + 1)};
	}
}

/* Send one request and wait for its response (copied into resp); returns the response's length. */
static int workset_due; /* --record-workset: WORKSET comes with the first request */

static size_t exchange(struct region *r, int ctl, const struct request *q, uint8_t *resp)
{
	struct mote_msg_request_fields f = {
	    .id = r->seq + 1,
	    .method = q->method,
	    .method_len = (uint32_t)strlen(q->method),
	    .path = q->path,
	    .path_len = (uint32_t)strlen(q->path),
	    .query = q->query,
	    .query_len = (uint32_t)strlen(q->query),
	    .headers = q->headers,
	    .nheaders = q->nheaders,
	    .body = q->body,
	    .body_len = q->body_len,
	};
	int64_t n = mote_msg_encode_request(r->base + 4096, r->req_cap, &f);
	if (n < 0)
		die(1, "request %llu: cannot encode (%s)", (unsigned long long)r->seq + 1,
		    mote_msg_strerror((int)n));
	r->seq++;
	r->hdr->req_len = (uint64_t)n;
	r->hdr->req_seq = r->seq;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	uint64_t one = 1;
	if (write(r->to_guest, &one, sizeof(one)) != sizeof(one))
		die(1, "ringing the guest doorbell: %s", strerror(errno));
	if (workset_due && r->seq == 1) {
		/* mote-vmm sends WORKSET before it rings for the first response. */
		struct mote_ctl_msg m;
		ctl_recv(ctl, &m, MOTE_CTL_WORKSET);
		if (m.status == 0)
			printf("workset ok %llu %llu\n", (unsigned long long)m.layer_bytes,
			       (unsigned long long)m.layer_pages);
		else
			printf("workset error %d %.*s\n", m.status, (int)sizeof(m.text), m.text);
		workset_due = 0;
	}
	return region_wait(r, ctl, resp, "a response");
}

static void record_response(uint64_t k, const uint8_t *resp, size_t len)
{
	char name[64], status[64];
	struct mote_msg_response s;
	int d = mote_msg_decode_response(resp, len, &s);
	snprintf(name, sizeof(name), "%llu.status", (unsigned long long)k);
	if (d != MOTE_MSG_OK) {
		snprintf(status, sizeof(status), "bad: %s\n", mote_msg_strerror(d));
		write_out(name, status, strlen(status));
		printf("response %llu bad %s\n", (unsigned long long)k, mote_msg_strerror(d));
		return;
	}
	snprintf(status, sizeof(status), "%u\n", s.status);
	write_out(name, status, strlen(status));
	char *text = malloc(s.headers_len * 2 + s.nheaders * 3 + 1), *p = text;
	uint64_t cursor = 0;
	struct mote_msg_header h;
	while (mote_msg_next_header(s.headers, s.headers_len, &cursor, &h))
		p += sprintf(p, "%.*s: %.*s\n", (int)h.name_len, h.name, (int)h.value_len, h.value);
	snprintf(name, sizeof(name), "%llu.headers", (unsigned long long)k);
	write_out(name, text, (size_t)(p - text));
	free(text);
	snprintf(name, sizeof(name), "%llu.body", (unsigned long long)k);
	write_out(name, s.body, s.body_len);
	printf("response %llu %u %llu\n", (unsigned long long)k, s.status, (unsigned long long)s.body_len);
}

static int compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* ---- one VM ---- */

struct options {
	const char *vmm, *snap, *log_path, *take_layer, *layer, *prefault, *record_ws;
	const char *vmm_args[16];
	int nvmm_args;
	uint64_t req_cap, resp_cap;
	int bundle_fd;
	uint64_t bundle_size;
};

/* Start mote-vmm on a clone of the base (and the layer), attach, and return the control socket. */
static int vm_start(const struct options *o, struct region *r)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die(1, "socketpair: %s", strerror(errno));
	vm_pid = fork();
	if (vm_pid < 0)
		die(1, "fork: %s", strerror(errno));
	if (vm_pid == 0) {
		if (dup2(sv[1], 3) < 0)
			_exit(127);
		if (o->log_path) {
			int fd = open(o->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
			if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
				_exit(127);
		}
		const char *args[32];
		int n = 0;
		args[n++] = o->vmm;
		args[n++] = "--restore";
		args[n++] = o->snap;
		args[n++] = "--control";
		args[n++] = "3";
		args[n++] = "--die-with-parent";
		if (o->layer) {
			args[n++] = "--layer";
			args[n++] = o->layer;
		}
		for (int i = 0; i < o->nvmm_args; i++)
			args[n++] = o->vmm_args[i];
		args[n] = NULL;
		execv(o->vmm, (char *const *)args);
		fprintf(stderr, "fnhost: exec %s: %s\n", o->vmm, strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	int ctl = sv[0];
	struct mote_ctl_msg m;
	ctl_recv(ctl, &m, MOTE_CTL_READY);
	if ((o->layer || o->take_layer) && !(m.flags & MOTE_CTL_F_LAYERS))
		die(2, "READY does not offer layers (flags %#x)", m.flags);
	if (!!o->layer != !!(m.flags & MOTE_CTL_F_FROM_LAYER))
		die(2, "READY %s from a layer (flags %#x)", o->layer ? "not" : "unexpectedly", m.flags);

	region_create(r, o->req_cap, o->resp_cap);
	memset(&m, 0, sizeof(m));
	m.magic = MOTE_CTL_MAGIC;
	m.version = MOTE_CTL_VERSION;
	m.type = MOTE_CTL_ATTACH;
	m.bundle_size = o->bundle_size;
	m.invoke_size = r->size;
	int fds[7] = {o->bundle_fd, r->fd, r->to_guest, r->to_host, -1, -1, -1}, nfds = 4;
	if (o->take_layer) {
		fds[nfds] = open(o->take_layer, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fds[nfds] < 0)
			die(1, "%s: %s", o->take_layer, strerror(errno));
		nfds++;
		m.flags = MOTE_CTL_F_TAKE_LAYER;
	}
	if (o->prefault) {
		fds[nfds] = open(o->prefault, O_RDONLY | O_CLOEXEC);
		if (fds[nfds] < 0)
			die(1, "%s: %s", o->prefault, strerror(errno));
		nfds++;
		m.flags |= MOTE_CTL_F_PREFAULT;
	}
	if (o->record_ws) {
		fds[nfds] = open(o->record_ws, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fds[nfds] < 0)
			die(1, "%s: %s", o->record_ws, strerror(errno));
		nfds++;
		m.flags |= MOTE_CTL_F_RECORD_WORKSET;
	}
	ctl_send(ctl, &m, fds, nfds);
	for (int i = 4; i < nfds; i++)
		close(fds[i]);
	ctl_recv(ctl, &m, MOTE_CTL_RUNNING);
	if (m.status != 0)
		die(2, "ATTACH refused (status %d): %.*s", m.status, (int)sizeof(m.text), m.text);
	if (!!o->layer != !!(m.flags & MOTE_CTL_F_FROM_LAYER))
		die(2, "RUNNING %s from a layer (flags %#x)", o->layer ? "not" : "unexpectedly", m.flags);
	return ctl;
}

/* The runtime's first message as text: "READY text", "INIT_ERROR text", "FROM-LAYER", "EMPTY" or "bad ...".
 */
static void first_message(const struct options *o, struct region *r, int ctl, uint8_t *resp, char *first,
			  size_t size)
{
	size_t len = region_wait(r, ctl, resp, "the runtime's first message");
	int type;
	const char *text;
	uint32_t tl;
	if (o->layer) {
		if (len != 0)
			snprintf(first, size, "bad: %zu bytes after a layered restore, expected none\n", len);
		else
			snprintf(first, size, "FROM-LAYER\n");
		return;
	}
	if (len == 0) {
		/* A clone of a snapshot taken while the function waited (no layer): its empty first message.
		 */
		snprintf(first, size, "EMPTY\n");
		return;
	}
	int d = mote_msg_decode_text(resp, len, &type, &text, &tl);
	if (d != MOTE_MSG_OK)
		snprintf(first, size, "bad %s (%zu bytes)\n", mote_msg_strerror(d), len);
	else
		snprintf(first, size, "%s %.*s\n", type == MOTE_MSG_READY ? "READY" : "INIT_ERROR", (int)tl,
			 text);
}

/* Hang up and reap the VM; its wait status. */
static int vm_hangup(int ctl)
{
	close(ctl);
	int status;
	waitpid(vm_pid, &status, 0);
	vm_pid = -1;
	return status;
}

static void print_percentiles(const char *what, int64_t *t, unsigned n)
{
	qsort(t, n, sizeof(*t), compare_i64);
	if (n)
		printf("%s n=%u p50=%.1f p90=%.1f p99=%.1f (us)\n", what, n, t[n / 2] / 1e3,
		       t[n * 9 / 10] / 1e3, t[n * 99 / 100] / 1e3);
}

int main(int argc, char **argv)
{
	struct options o = {.req_cap = 8u << 20, .resp_cap = 8u << 20};
	const char *bundle = NULL;
	unsigned cold = 0;
	static const struct option opts[] = {
	    {"vmm", required_argument, NULL, 'v'},
	    {"snapshot", required_argument, NULL, 's'},
	    {"bundle", required_argument, NULL, 'b'},
	    {"out", required_argument, NULL, 'o'},
	    {"req-cap", required_argument, NULL, 'q'},
	    {"resp-cap", required_argument, NULL, 'r'},
	    {"wait", required_argument, NULL, 'w'},
	    {"log", required_argument, NULL, 'l'},
	    {"take-layer", required_argument, NULL, 'T'},
	    {"layer", required_argument, NULL, 'L'},
	    {"vmm-arg", required_argument, NULL, 'A'},
	    {"cold", required_argument, NULL, 'C'},
	    {"prefault", required_argument, NULL, 'P'},
	    {"record-workset", required_argument, NULL, 'W'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'v': o.vmm = optarg; break;
		case 's': o.snap = optarg; break;
		case 'b': bundle = optarg; break;
		case 'o': out_dir = optarg; break;
		case 'q': o.req_cap = strtoull(optarg, NULL, 0); break;
		case 'r': o.resp_cap = strtoull(optarg, NULL, 0); break;
		case 'w': wait_ms = (int)(atof(optarg) * 1000); break;
		case 'l': o.log_path = optarg; break;
		case 'T': o.take_layer = optarg; break;
		case 'L': o.layer = optarg; break;
		case 'A':
			if (o.nvmm_args == (int)(sizeof(o.vmm_args) / sizeof(o.vmm_args[0])))
				die(1, "too many --vmm-arg");
			o.vmm_args[o.nvmm_args++] = optarg;
			break;
		case 'C': cold = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'P': o.prefault = optarg; break;
		case 'W':
			o.record_ws = optarg;
			workset_due = 1;
			break;
		default: die(1, "usage: see the comment atop tests/tools/fnhost.c");
		}
	}
	if (!o.vmm || !o.snap || !bundle || !out_dir || optind != argc - 1 ||
	    (cold && (o.take_layer || o.record_ws)))
		die(1, "usage: fnhost --vmm F --snapshot F --bundle DIR|IMAGE --out DIR [...] SCRIPT");
	FILE *script = strcmp(argv[optind], "-") ? fopen(argv[optind], "r") : stdin;
	if (!script)
		die(1, "%s: %s", argv[optind], strerror(errno));
	if (o.log_path) {
		int fd = open(o.log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			die(1, "%s: %s", o.log_path, strerror(errno));
		close(fd);
	}

	/* The bundle image: packed from a directory, or used as it is. */
	struct stat st;
	if (stat(bundle, &st) < 0)
		die(1, "%s: %s", bundle, strerror(errno));
	char image[4096];
	snprintf(image, sizeof(image), "%s", bundle);
	if (S_ISDIR(st.st_mode)) {
		snprintf(image, sizeof(image), "%s/bundle.cpio", out_dir);
		struct mote_err err;
		if (mote_rootfs_pack_dir(bundle, image, &err) < 0)
			die(1, "packing %s: %s", bundle, err.msg);
	}
	o.bundle_fd = open(image, O_RDONLY | O_CLOEXEC);
	if (o.bundle_fd < 0 || fstat(o.bundle_fd, &st) < 0)
		die(1, "%s: %s", image, strerror(errno));
	o.bundle_size = (uint64_t)st.st_size;

	struct region r = {0};
	uint8_t *resp = malloc(o.resp_cap + 4096);
	char line[8192], first[2048];
	int lineno = 0;
	struct request q;
	int have_request = 0;

	if (cold) {
		/* The first request of the script, served by N cold starts one after the other. */
		while (!have_request && fgets(line, sizeof(line), script)) {
			lineno++;
			if (line[0] == '#' || line[strspn(line, " \t\n")] == 0)
				continue;
			parse_request(line, &q, lineno);
			have_request = 1;
		}
		if (!have_request)
			die(1, "--cold: the script has no request");
		int64_t *total = malloc(cold * sizeof(*total)), *to_first = malloc(cold * sizeof(*to_first));
		for (unsigned i = 0; i < cold; i++) {
			int64_t t0 = now_ns();
			int ctl = vm_start(&o, &r);
			first_message(&o, &r, ctl, resp, first, sizeof(first));
			to_first[i] = now_ns() - t0;
			if (strncmp(first, "READY", 5) != 0 && strncmp(first, "FROM-LAYER", 10) != 0 &&
			    strncmp(first, "EMPTY", 5) != 0)
				die(2, "cold start %u: first message %s", i + 1, first);
			size_t rl = exchange(&r, ctl, &q, resp);
			total[i] = now_ns() - t0;
			struct mote_msg_response s;
			if (mote_msg_decode_response(resp, rl, &s) != MOTE_MSG_OK || s.status != 200)
				die(2, "cold start %u: the response does not decode or is not a 200", i + 1);
			vm_hangup(ctl);
			region_destroy(&r);
		}
		print_percentiles("cold", total, cold);
		print_percentiles("first-message", to_first, cold);
		free(total);
		free(to_first);
		free(q.body);
		free(resp);
		return 0;
	}

	int ctl = vm_start(&o, &r);
	char layer_text[512] = "";
	if (o.take_layer) {
		/* mote-vmm answers LAYER before it rings for the runtime's first message. */
		struct mote_ctl_msg m;
		char text[400];
		ctl_recv(ctl, &m, MOTE_CTL_LAYER);
		if (m.status == 0)
			snprintf(text, sizeof(text), "ok %llu %llu\n", (unsigned long long)m.layer_bytes,
				 (unsigned long long)m.layer_pages);
		else
			snprintf(text, sizeof(text), "error %d %.*s\n", m.status, (int)sizeof(m.text),
				 m.text);
		write_out("layer", text, strlen(text));
		snprintf(layer_text, sizeof(layer_text), "%s", text);
	}
	first_message(&o, &r, ctl, resp, first, sizeof(first));
	write_out("first", first, strlen(first));
	printf("first %s", first);
	if (layer_text[0])
		printf("layer %s", layer_text);
	fflush(stdout);

	while (fgets(line, sizeof(line), script)) {
		lineno++;
		if (line[0] == '#' || line[strspn(line, " \t\n")] == 0)
			continue;
		unsigned n;
		if (sscanf(line, "repeat %u", &n) == 1) {
			if (!have_request)
				die(1, "script line %d: repeat before any request", lineno);
			int64_t *t = malloc((n ? n : 1) * sizeof(*t));
			for (unsigned i = 0; i < n; i++) {
				int64_t t0 = now_ns();
				size_t rl = exchange(&r, ctl, &q, resp);
				t[i] = now_ns() - t0;
				struct mote_msg_response s;
				if (mote_msg_decode_response(resp, rl, &s) != MOTE_MSG_OK)
					die(2, "repeat %u: a response that does not decode", i + 1);
			}
			print_percentiles("latency", t, n);
			free(t);
			continue;
		}
		if (have_request)
			free(q.body);
		parse_request(line, &q, lineno);
		have_request = 1;
		size_t rl = exchange(&r, ctl, &q, resp);
		record_response(r.seq, resp, rl);
		fflush(stdout);
	}
	if (have_request)
		free(q.body);

	/* Hang up: mote-vmm ends the VM at its next wait on the channel (it waits now). */
	int status = vm_hangup(ctl);
	if (WIFEXITED(status))
		printf("vm-exit %d\n", WEXITSTATUS(status));
	else
		printf("vm-signal %d\n", WTERMSIG(status));
	region_destroy(&r);
	free(resp);
	return 0;
}
