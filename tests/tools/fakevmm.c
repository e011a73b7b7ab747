/* fakevmm: a test double of mote-vmm and a runtime for the gateway's tests: speaks control.h and the invoke
 * region without KVM. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cpio.h"
#include "invoke_msg.h"
#include "mote/abi.h"
#include "mote/control.h"

/*
 * Two ways to run, as the gateway runs mote-vmm:
 *
 *   fakevmm --kernel K --rootfs R --mem M --snapshot S --exit-after-snapshot [--die-with-parent] -- PROG
 *     "builds a base": writes S and S.mem (a few bytes each) and exits 0; with FAKEVMM_BASE_FAIL set
 *     or a kernel file K starting with "fail", prints a mote-vmm: line and exits 72 instead.
 *
 *   fakevmm --restore S --control 3 [--die-with-parent]
 *     sends READY, takes ATTACH (checking the message and its four fds like mote-vmm), answers RUNNING
 *     (or, when the bundle has a file refuse-attach, refuses it with status 91 as mote-vmm refuses a bad fd),
 *     then plays the runtime: its first message depends on the bundle's file fake.conf ("init error
 *     TEXT", "init crash", "init hang"; anything else or none: READY), then it answers requests by
 *     their path:
 *       /crash        prints a mote-vmm crash line and dies of SIGSEGV
 *       /exit         exits 3 in the middle of the request
 *       /sleep?ms=N   answers after N ms
 *       /garbage      hands over bytes that are not a message
 *       /wrongseq     answers with another request's sequence number
 *       /big?n=N      answers N bytes of 'x'
 *       /log?text=T   prints T on stdout, then answers "logged"
 *       /file?name=F  answers the bundle file F's bytes (404 when absent)
 *       /status?code=N  answers status N
 *       anything else echoes the request: status 200, headers x-method, x-path, x-query,
 *                     x-nheaders, x-pid (the VM's: 2 in every jail's pid namespace), x-vm (an id
 *                     of this process, distinct per VM, jailed or not) and x-echo-NAME for every request
 * header, the body A hang-up of the control socket ends it (status 72), as it ends mote-vmm.
 */

static int ctl = 3;
static const uint8_t *bundle;
static uint64_t bundle_size;
static volatile struct mote_invoke_region *region;
static int db_guest = -1, db_host = -1;

static void die(int status, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "mote-vmm: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(status);
}

static const char *flag(int argc, char **argv, const char *name)
{
	for (int i = 1; i < argc - 1; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return NULL;
}

static int has(int argc, char **argv, const char *name)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return 0;
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		die(78, "cannot write %s", path);
	close(fd);
}

static int build_base(int argc, char **argv)
{
	const char *snap = flag(argc, argv, "--snapshot");
	if (!snap || !has(argc, argv, "--exit-after-snapshot") || !flag(argc, argv, "--kernel") ||
	    !flag(argc, argv, "--rootfs"))
		die(64, "fakevmm: bad base build command line");
	/* The kernel file says so too: a jailed start (the gateway as root) passes no such variable on. */
	char head[16] = "";
	int kfd = open(flag(argc, argv, "--kernel"), O_RDONLY | O_CLOEXEC);
	if (kfd >= 0) {
		ssize_t n = read(kfd, head, sizeof(head) - 1);
		head[n > 0 ? n : 0] = 0;
		close(kfd);
	}
	if (getenv("FAKEVMM_BASE_FAIL") || !strncmp(head, "fail", 4))
		die(72, "fake base build failure");
	char mem[4200];
	snprintf(mem, sizeof(mem), "%s.mem", snap);
	write_file(snap, "fake snapshot\n");
	write_file(mem, "fake memory\n");
	return 0;
}

static const uint8_t *bundle_file(const char *name, uint64_t *size);

static void send_ctl(uint32_t type, int32_t status, const char *text)
{
	struct mote_ctl_msg m;
	memset(&m, 0, sizeof(m));
	m.magic = MOTE_CTL_MAGIC;
	m.version = MOTE_CTL_VERSION;
	m.type = type;
	m.status = status;
	if (text)
		snprintf(m.text, sizeof(m.text), "%s", text);
	if (send(ctl, &m, sizeof(m), MSG_NOSIGNAL) != sizeof(m))
		die(72, "cannot send on the control channel");
}

static void take_attach(void)
{
	struct mote_ctl_msg m;
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t n = recvmsg(ctl, &mh, MSG_CMSG_CLOEXEC);
	if (n == 0)
		die(72, "the supervisor hung up before ATTACH");
	if (n != (ssize_t)sizeof(m) || m.magic != MOTE_CTL_MAGIC || m.version != MOTE_CTL_VERSION ||
	    m.type != MOTE_CTL_ATTACH) {
		send_ctl(MOTE_CTL_RUNNING, 64, "malformed ATTACH");
		die(64, "malformed ATTACH");
	}
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int want = m.bundle_size ? 4 : 3;
	if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int) * (size_t)want)) {
		send_ctl(MOTE_CTL_RUNNING, 64, "ATTACH without its fds");
		die(64, "ATTACH without its fds");
	}
	int fds[4];
	memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)want);
	int *f = fds;
	if (m.bundle_size) {
		struct stat st;
		if (fstat(f[0], &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < m.bundle_size) {
			send_ctl(MOTE_CTL_RUNNING, 64, "bundle is not a regular file of bundle_size bytes");
			die(64, "bad bundle fd");
		}
		bundle = mmap(NULL, m.bundle_size, PROT_READ, MAP_PRIVATE, f[0], 0);
		bundle_size = m.bundle_size;
		if (bundle == MAP_FAILED)
			die(72, "cannot map the bundle");
		f++;
	}
	void *r = mmap(NULL, m.invoke_size, PROT_READ | PROT_WRITE, MAP_SHARED, f[0], 0);
	if (r == MAP_FAILED || m.invoke_size % 4096 || m.invoke_size > MOTE_CTL_INVOKE_MAX)
		die(72, "cannot map the invoke region");
	region = r;
	if (region->magic != MOTE_INVOKE_MAGIC || region->version != MOTE_INVOKE_VERSION ||
	    region->size != m.invoke_size || region->req_off < 4096 || region->resp_off < 4096 ||
	    region->req_off + region->req_cap > m.invoke_size ||
	    region->resp_off + region->resp_cap > m.invoke_size) {
		send_ctl(MOTE_CTL_RUNNING, 64, "bad invoke region header");
		die(64, "bad invoke region header");
	}
	db_guest = f[1];
	db_host = f[2];
	uint64_t size = 0;
	if (bundle_file("refuse-attach", &size)) {
		send_ctl(MOTE_CTL_RUNNING, 91, "fake refusal of the bundle");
		die(91, "fake refusal of the bundle");
	}
	send_ctl(MOTE_CTL_RUNNING, 0, NULL);
}

/* The bundle file `name` (NULL if absent). */
static const uint8_t *bundle_file(const char *name, uint64_t *size)
{
	size_t off = 0;
	struct mote_cpio_entry en;
	while (bundle && mote_cpio_next(bundle, bundle_size, &off, &en) == MOTE_CPIO_ENTRY)
		if (en.name_len == strlen(name) && !memcmp(en.name, name, en.name_len)) {
			*size = en.size;
			return en.data;
		}
	return NULL;
}

/* Hand over the message in the response area and wait for the next request (what MOTE_HC_INVOKE does). */
static void respond_and_wait(uint64_t seq, uint64_t len)
{
	region->resp_seq = seq;
	region->resp_len = len;
	uint64_t one = 1;
	if (write(db_host, &one, sizeof(one)) != sizeof(one))
		die(72, "cannot ring the host");
	struct pollfd p[2] = {{.fd = db_guest, .events = POLLIN}, {.fd = ctl, .events = POLLIN}};
	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			die(72, "poll");
		if (p[1].revents) {
			char b;
			if (recv(ctl, &b, 1, MSG_DONTWAIT) == 0 || (p[1].revents & (POLLHUP | POLLERR)))
				die(72, "the supervisor closed the control channel");
		}
		if (p[0].revents) {
			uint64_t v;
			if (read(db_guest, &v, sizeof(v)) == sizeof(v))
				return;
		}
	}
}

static uint8_t *resp_area(void)
{
	return (uint8_t *)region + region->resp_off;
}

static uint64_t query_num(const struct mote_msg_request *r, const char *key, uint64_t dflt)
{
	char q[512];
	snprintf(q, sizeof(q), "%.*s", (int)(r->query_len < 500 ? r->query_len : 500), r->query);
	char *p = strstr(q, key);
	return p && p[strlen(key)] == '=' ? strtoull(p + strlen(key) + 1, NULL, 10) : dflt;
}

static void query_text(const struct mote_msg_request *r, const char *key, char *out, size_t size)
{
	char q[512];
	snprintf(q, sizeof(q), "%.*s", (int)(r->query_len < 500 ? r->query_len : 500), r->query);
	char *p = strstr(q, key);
	out[0] = 0;
	if (p && p[strlen(key)] == '=') {
		snprintf(out, size, "%s", p + strlen(key) + 1);
		out[strcspn(out, "&")] = 0;
	}
}

static int path_is(const struct mote_msg_request *r, const char *p)
{
	return r->path_len == strlen(p) && !memcmp(r->path, p, r->path_len);
}

/* Build the answer to request r in the response area; returns its length. */
static uint64_t answer(const struct mote_msg_request *r, uint64_t seq)
{
	struct mote_msg_builder b;
	char num[32], text[256];
	if (path_is(r, "/crash")) {
		fprintf(stderr, "mote-vmm: guest crashed: fake crash in request %llu\n",
			(unsigned long long)seq);
		struct rlimit no = {0, 0};
		setrlimit(RLIMIT_CORE, &no);
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
	}
	if (path_is(r, "/exit"))
		exit(3);
	if (path_is(r, "/sleep")) {
		uint64_t ms = query_num(r, "ms", 100);
		struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
		nanosleep(&ts, NULL);
	}
	if (path_is(r, "/garbage")) {
		memcpy(resp_area(), "not a message at all", 20);
		return 20;
	}
	if (path_is(r, "/log")) {
		query_text(r, "text", text, sizeof(text));
		printf("%s\n", text);
		fflush(stdout);
		mote_msg_response_begin(&b, resp_area(), region->resp_cap, 200);
		mote_msg_response_body(&b, "logged\n", 7);
		return (uint64_t)mote_msg_response_end(&b);
	}
	if (path_is(r, "/big")) {
		uint64_t n = query_num(r, "n", 0);
		mote_msg_response_begin(&b, resp_area(), region->resp_cap, 200);
		char chunk[4096];
		memset(chunk, 'x', sizeof(chunk));
		for (uint64_t i = 0; i < n; i += sizeof(chunk))
			mote_msg_response_body(&b, chunk, n - i < sizeof(chunk) ? n - i : sizeof(chunk));
		int64_t len = mote_msg_response_end(&b);
		return len < 0 ? 0 : (uint64_t)len;
	}
	if (path_is(r, "/file")) {
		query_text(r, "name", text, sizeof(text));
		uint64_t size = 0;
		const uint8_t *data = bundle_file(text, &size);
		mote_msg_response_begin(&b, resp_area(), region->resp_cap, data ? 200 : 404);
		if (data)
			mote_msg_response_body(&b, data, size);
		return (uint64_t)mote_msg_response_end(&b);
	}
	if (path_is(r, "/status")) {
		mote_msg_response_begin(&b, resp_area(), region->resp_cap,
					(uint32_t)query_num(r, "code", 200));
		mote_msg_response_body(&b, "status\n", 7);
		return (uint64_t)mote_msg_response_end(&b);
	}
	/* Echo. */
	mote_msg_response_begin(&b, resp_area(), region->resp_cap, 200);
	mote_msg_response_header(&b, "x-method", 8, r->method, r->method_len);
	mote_msg_response_header(&b, "x-path", 6, r->path, r->path_len);
	mote_msg_response_header(&b, "x-query", 7, r->query, r->query_len);
	int n = snprintf(num, sizeof(num), "%u", r->nheaders);
	mote_msg_response_header(&b, "x-nheaders", 10, num, (uint32_t)n);
	n = snprintf(num, sizeof(num), "%d", (int)getpid());
	mote_msg_response_header(&b, "x-pid", 5, num, (uint32_t)n);
	static char vm_id[32];
	if (!vm_id[0]) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		snprintf(vm_id, sizeof(vm_id), "%lld.%09ld", (long long)ts.tv_sec, ts.tv_nsec);
	}
	mote_msg_response_header(&b, "x-vm", 4, vm_id, (uint32_t)strlen(vm_id));
	uint64_t cursor = 0;
	struct mote_msg_header h;
	while (mote_msg_next_header(r->headers, r->headers_len, &cursor, &h)) {
		char name[300];
		int m = snprintf(name, sizeof(name), "x-echo-%.*s",
				 (int)(h.name_len < 280 ? h.name_len : 280), h.name);
		mote_msg_response_header(&b, name, (uint32_t)m, h.value, h.value_len);
	}
	mote_msg_response_header(&b, "content-type", 12, "application/octet-stream", 24);
	mote_msg_response_body(&b, r->body, r->body_len);
	int64_t len = mote_msg_response_end(&b);
	return len < 0 ? 0 : (uint64_t)len;
}

static int restore(int argc, char **argv)
{
	if (!flag(argc, argv, "--restore") || !flag(argc, argv, "--control"))
		die(64, "fakevmm: bad restore command line");
	ctl = atoi(flag(argc, argv, "--control"));
	send_ctl(MOTE_CTL_READY, 0, NULL);
	take_attach();

	/* The runtime's first message. */
	uint64_t size = 0;
	const uint8_t *conf = bundle_file("fake.conf", &size);
	char c[256] = "";
	if (conf)
		snprintf(c, sizeof(c), "%.*s", (int)(size < 255 ? size : 255), (const char *)conf);
	c[strcspn(c, "\n")] = 0;
	int64_t len = 0;
	if (!strncmp(c, "init error ", 11)) {
		len = mote_msg_encode_text(resp_area(), region->resp_cap, MOTE_MSG_INIT_ERROR, c + 11,
					   (uint32_t)strlen(c + 11));
	} else if (!strcmp(c, "init crash")) {
		fprintf(stderr, "mote-vmm: guest crashed: fake crash while loading\n");
		struct rlimit no = {0, 0};
		setrlimit(RLIMIT_CORE, &no);
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
	} else if (!strcmp(c, "init hang")) {
		pause();
		return 0;
	} else {
		len = mote_msg_encode_text(resp_area(), region->resp_cap, MOTE_MSG_READY, "fake 1", 6);
	}
	respond_and_wait(0, (uint64_t)len);
	if (!strncmp(c, "init error ", 11))
		die(72, "the supervisor sent a request after INIT_ERROR");

	for (;;) {
		uint64_t seq = region->req_seq, rlen = region->req_len;
		if (rlen > region->req_cap)
			die(72, "req_len beyond req_cap");
		uint8_t *copy = malloc(rlen ? rlen : 1);
		memcpy(copy, (const uint8_t *)region + region->req_off, rlen);
		struct mote_msg_request r;
		int d = mote_msg_decode_request(copy, rlen, &r);
		if (d != MOTE_MSG_OK)
			die(72, "undecodable request: %s", mote_msg_strerror(d));
		uint64_t out = answer(&r, seq);
		if (path_is(&r, "/wrongseq"))
			seq += 7;
		free(copy);
		respond_and_wait(seq, out);
	}
}

int main(int argc, char **argv)
{
	if (has(argc, argv, "--die-with-parent")) {
		pid_t parent = getppid();
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			return 72;
	}
	if (flag(argc, argv, "--restore"))
		return restore(argc, argv);
	return build_base(argc, argv);
}
