/* invoketool: a minimal supervisor of mote-vmm's control channel and invoke region, for the tests and make
 * bench. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
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
#include "rootfs.h"

/*
 * usage: invoketool pack DIR OUT                 pack DIR into a cpio newc bundle image
 *        invoketool [OPTIONS] COMMAND [ARGS]     start mote-vmm --restore SNAP --control 3 and drive it:
 *   echo N MAX       N requests of 0..MAX bytes (both ends and sizes between), each answered with every
 *                    byte + 1 (tests/guest/invoke_echo); then "quit"
 *   send MSG...      one request per MSG (text, or @FILE); each message handed back is printed; then
 *                    hang up (also with no MSG: attach, print what comes, wait for the VM to end)
 *   hangup N         N echo requests, then close the control channel
 *   idle             attach, take the first message, send nothing: wait for the VM to end by itself
 *   snapwait FILE    after the first message, SIGUSR1 to mote-vmm (started with --arg --snapshot --arg
 *                    FILE) while the guest waits; once FILE exists, 3 echo requests, then "quit"
 *   bad KIND         a malformed or refused ATTACH (see bad_attach() for the kinds); prints RUNNING
 *   bench N SIZE     N round trips of SIZE-byte echo requests through the VM, interleaved in blocks with
 *                    the same doorbell round trip between two host processes (no VM); p50/p90/p99, ratio
 *   cold N           N cold starts, each timed in phases: fork -> READY (the restore), ATTACH -> RUNNING,
 *                    RUNNING -> the first message, the first 64-byte echo; then "quit"; p50/p90 of each
 * OPTIONS: --vmm PATH  --restore SNAP  --arg ARG (more mote-vmm arguments, repeatable)  --bundle FILE
 *          --req-cap BYTES  --resp-cap BYTES (default 1 MiB each)  --wait SECONDS (default 30)
 * Output on stdout, one line each: "first: TEXT" (the first message), "message SEQ LEN: TEXT",
 * "echo: N requests ok, B bytes", "running: status S: TEXT", "vmm: exit S" or "vmm: signal N".
 * mote-vmm's stdout and stderr are this process's. Exits 0 when the exchange went as the command
 * expects (the VM's own ending is printed, not judged), 1 otherwise (one "invoketool: ..." line).
 */

#define PAGE 4096ull

static const char *vmm_path, *restore_path, *bundle_path;
static const char *vmm_args[32];
static int nvmm_args;
static uint64_t req_cap = 1 << 20, resp_cap = 1 << 20;
static int wait_seconds = 30;
static int quiet;			    /* cold: no per-VM lines */
static double t_ready, t_attach, t_running; /* start_attached's moments (now_us) */

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fflush(stdout);
	fprintf(stderr, "invoketool: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static uint64_t page_up(uint64_t x)
{
	return (x + PAGE - 1) & ~(PAGE - 1);
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* ---- the invoke region and doorbells -------------------------------------------------------- */

struct channel {
	int memfd, to_guest, to_host;
	uint8_t *region;
	uint64_t size;
	volatile struct mote_invoke_region *hdr;
	uint64_t seq;
};

static void channel_create(struct channel *c)
{
	c->size = PAGE + page_up(req_cap) + page_up(resp_cap);
	c->memfd = memfd_create("invoke", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (c->memfd < 0 || ftruncate(c->memfd, (off_t)c->size) < 0)
		die("memfd: %s", strerror(errno));
	c->region = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, c->memfd, 0);
	if (c->region == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	c->hdr = (volatile struct mote_invoke_region *)c->region;
	c->hdr->magic = MOTE_INVOKE_MAGIC;
	c->hdr->version = MOTE_INVOKE_VERSION;
	c->hdr->size = c->size;
	c->hdr->req_off = PAGE;
	c->hdr->req_cap = req_cap;
	c->hdr->resp_off = PAGE + page_up(req_cap);
	c->hdr->resp_cap = resp_cap;
	c->to_guest = eventfd(0, EFD_CLOEXEC);
	c->to_host = eventfd(0, EFD_CLOEXEC);
	if (c->to_guest < 0 || c->to_host < 0)
		die("eventfd: %s", strerror(errno));
	c->seq = 0;
}

static void channel_destroy(struct channel *c)
{
	munmap(c->region, c->size);
	close(c->memfd);
	close(c->to_guest);
	close(c->to_host);
}

static void ring(int fd)
{
	uint64_t one = 1;
	if (write(fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		die("eventfd write: %s", strerror(errno));
}

/* Put a request in the request area and ring the guest's doorbell. */
static void send_request(struct channel *c, const void *data, uint64_t len)
{
	if (len > req_cap)
		die("request of %" PRIu64 " bytes exceeds req_cap", len);
	memcpy(c->region + c->hdr->req_off, data, len);
	c->hdr->req_len = len;
	__atomic_store_n(&c->hdr->req_seq, ++c->seq, __ATOMIC_RELEASE);
	ring(c->to_guest);
}

/*
 * Wait for the host doorbell (a message) while watching the control socket
 * `ctl` (-1: none) for the VM's end. Returns 1 with the message's data,
 * length and resp_seq, or 0 when the VM went away; dies on timeout.
 */
static int wait_message(struct channel *c, int ctl, const uint8_t **data, uint64_t *len, uint64_t *seq)
{
	struct pollfd p[2] = {{.fd = c->to_host, .events = POLLIN},
			      {.fd = ctl, .events = POLLIN | POLLRDHUP}};
	for (;;) {
		int n = poll(p, ctl >= 0 ? 2 : 1, wait_seconds * 1000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			die("no message from the guest within %d s", wait_seconds);
		if (n < 0)
			die("poll: %s", strerror(errno));
		if (p[0].revents & POLLIN) {
			uint64_t v;
			if (read(c->to_host, &v, sizeof(v)) != (ssize_t)sizeof(v))
				die("eventfd read: %s", strerror(errno));
			if (v != 1)
				die("the host doorbell rang %" PRIu64 " times for one message", v);
			*seq = __atomic_load_n(&c->hdr->resp_seq, __ATOMIC_ACQUIRE);
			*len = c->hdr->resp_len;
			if (*len > resp_cap)
				die("message %" PRIu64 " claims %" PRIu64 " bytes, more than resp_cap", *seq,
				    *len);
			*data = c->region + c->hdr->resp_off;
			return 1;
		}
		if (ctl >= 0 && p[1].revents)
			return 0;
	}
}

/* ---- mote-vmm and the control channel ------------------------------------------------------- */

struct vm {
	pid_t pid;
	int ctl;
};

static void start_vmm(struct vm *vm)
{
	if (!vmm_path || !restore_path)
		die("--vmm and --restore are needed");
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		if (dup2(sv[1], 3) < 0)
			_exit(127);
		const char *argv[64];
		int n = 0;
		argv[n++] = vmm_path;
		argv[n++] = "--restore";
		argv[n++] = restore_path;
		argv[n++] = "--control";
		argv[n++] = "3";
		for (int i = 0; i < nvmm_args; i++)
			argv[n++] = vmm_args[i];
		argv[n] = NULL;
		execv(vmm_path, (char *const *)argv);
		_exit(127);
	}
	close(sv[1]);
	vm->pid = pid;
	vm->ctl = sv[0];
}

/* Receive one control message (waits up to --wait). 1, or 0 when the VM closed the channel. */
static int recv_ctl(struct vm *vm, struct mote_ctl_msg *m)
{
	struct pollfd p = {.fd = vm->ctl, .events = POLLIN};
	if (poll(&p, 1, wait_seconds * 1000) == 0)
		die("no control message from mote-vmm within %d s", wait_seconds);
	ssize_t n = recv(vm->ctl, m, sizeof(*m), 0);
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof(*m))
		die("control message of %zd bytes", n);
	if (m->magic != MOTE_CTL_MAGIC || m->version != MOTE_CTL_VERSION)
		die("control message with bad magic or version");
	return 1;
}

/* Wait for mote-vmm to end (SIGKILL after --wait) and print how it ended. */
static void finish_vmm(struct vm *vm)
{
	int status = 0;
	double deadline = now_us() + wait_seconds * 1e6;
	for (;;) {
		pid_t r = waitpid(vm->pid, &status, WNOHANG);
		if (r == vm->pid)
			break;
		if (r < 0)
			die("waitpid: %s", strerror(errno));
		if (now_us() > deadline) {
			kill(vm->pid, SIGKILL);
			waitpid(vm->pid, &status, 0);
			printf("vmm: killed after %d s\n", wait_seconds);
			fflush(stdout);
			return;
		}
		usleep(2000);
	}
	if (quiet && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	if (WIFEXITED(status))
		printf("vmm: exit %d\n", WEXITSTATUS(status));
	else
		printf("vmm: signal %d\n", WTERMSIG(status));
	fflush(stdout);
}

/* Send `msg` with the `n` fds. */
static void send_ctl(struct vm *vm, const void *msg, size_t len, const int *fds, int n)
{
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int) * 8)];
	} cbuf;
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (n) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = &cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
	}
	if (sendmsg(vm->ctl, &mh, MSG_NOSIGNAL) != (ssize_t)len)
		die("sendmsg ATTACH: %s", strerror(errno));
}

static void attach_msg(struct mote_ctl_msg *m, uint64_t bundle_size, uint64_t invoke_size)
{
	memset(m, 0, sizeof(*m));
	m->magic = MOTE_CTL_MAGIC;
	m->version = MOTE_CTL_VERSION;
	m->type = MOTE_CTL_ATTACH;
	m->bundle_size = bundle_size;
	m->invoke_size = invoke_size;
}

static int open_bundle(uint64_t *size)
{
	*size = 0;
	if (!bundle_path)
		return -1;
	int fd = open(bundle_path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		die("cannot open bundle %s: %s", bundle_path, strerror(errno));
	*size = (uint64_t)st.st_size;
	return fd;
}

/* Wait for READY; 0 (and the VM's end printed) when mote-vmm ended before it. */
static int wait_ready(struct vm *vm)
{
	struct mote_ctl_msg m;
	if (!recv_ctl(vm, &m)) {
		printf("ready: none (mote-vmm closed the channel)\n");
		finish_vmm(vm);
		return 0;
	}
	if (m.type != MOTE_CTL_READY)
		die("expected READY, got type %u", m.type);
	return 1;
}

/* Print the answer to ATTACH; returns its status (-1: the channel closed without one). */
static int wait_running(struct vm *vm)
{
	struct mote_ctl_msg m;
	if (!recv_ctl(vm, &m)) {
		printf("running: none (mote-vmm closed the channel)\n");
		return -1;
	}
	if (m.type != MOTE_CTL_RUNNING)
		die("expected RUNNING, got type %u", m.type);
	m.text[sizeof(m.text) - 1] = 0;
	if (!quiet || m.status)
		printf("running: status %d%s%s\n", m.status, m.status ? ": " : "", m.status ? m.text : "");
	fflush(stdout);
	return m.status;
}

/* Start mote-vmm and attach; returns 0 when RUNNING says 0 (else the VM's end is printed). */
static int start_attached(struct vm *vm, struct channel *c)
{
	channel_create(c);
	start_vmm(vm);
	if (!wait_ready(vm))
		return -1;
	t_ready = now_us();
	uint64_t bsize;
	int bfd = open_bundle(&bsize);
	int fds[4], n = 0;
	if (bfd >= 0)
		fds[n++] = bfd;
	fds[n++] = c->memfd;
	fds[n++] = c->to_guest;
	fds[n++] = c->to_host;
	struct mote_ctl_msg m;
	attach_msg(&m, bsize, c->size);
	t_attach = now_us();
	send_ctl(vm, &m, sizeof(m), fds, n);
	if (bfd >= 0)
		close(bfd);
	if (wait_running(vm) != 0) {
		finish_vmm(vm);
		return -1;
	}
	t_running = now_us();
	return 0;
}

/* ---- commands ------------------------------------------------------------------------------- */

static void print_message(const char *label, uint64_t seq, const uint8_t *data, uint64_t len)
{
	printf("%s", label);
	if (seq != UINT64_MAX)
		printf(" %" PRIu64 " %" PRIu64, seq, len);
	printf(": ");
	for (uint64_t i = 0; i < len && i < 300; i++)
		putchar(data[i] >= 0x20 && data[i] < 0x7f ? data[i] : '.');
	putchar('\n');
	fflush(stdout);
}

/* The first message (the runtime's READY); 0 when the VM ended instead (printed). */
static int first_message(struct vm *vm, struct channel *c)
{
	const uint8_t *data;
	uint64_t len, seq;
	if (!wait_message(c, vm->ctl, &data, &len, &seq)) {
		printf("first: none\n");
		finish_vmm(vm);
		return 0;
	}
	if (seq != 0)
		die("the first message answers request %" PRIu64 ", expected 0", seq);
	if (!quiet)
		print_message("first", UINT64_MAX, data, len);
	return 1;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Size of echo request `i` of `n`: 0, 1, max, max - 1, then sizes spread over [0, max] (most small). */
static uint64_t echo_size(uint64_t i, uint64_t max)
{
	switch (i) {
	case 0: return 0;
	case 1: return 1 <= max ? 1 : 0;
	case 2: return max;
	case 3: return max ? max - 1 : 0;
	default: {
		uint64_t r = rng();
		uint64_t limit = (r & 3) == 0	? max
				 : (r & 3) == 1 ? (max < 65536 ? max : 65536)
						: (max < 512 ? max : 512);
		return limit ? (r >> 8) % (limit + 1) : 0;
	}
	}
}

/* One echo round trip; dies on any mismatch. Returns the round trip's time in microseconds. */
static double echo_once(struct vm *vm, struct channel *c, uint8_t *buf, uint64_t len)
{
	for (uint64_t k = 0; k < len; k++)
		buf[k] = (uint8_t)rng();
	double t0 = now_us();
	send_request(c, buf, len);
	const uint8_t *data;
	uint64_t rlen, seq;
	if (!wait_message(c, vm->ctl, &data, &rlen, &seq)) {
		finish_vmm(vm);
		die("the VM ended during request %" PRIu64, c->seq);
	}
	double t1 = now_us();
	if (seq != c->seq)
		die("response to request %" PRIu64 " carries resp_seq %" PRIu64, c->seq, seq);
	if (rlen != len)
		die("response to request %" PRIu64 " (%" PRIu64 " bytes) has %" PRIu64 " bytes", c->seq, len,
		    rlen);
	for (uint64_t k = 0; k < len; k++)
		if (data[k] != (uint8_t)(buf[k] + 1))
			die("response to request %" PRIu64 " differs at byte %" PRIu64, c->seq, k);
	return t1 - t0;
}

static int cmd_echo(uint64_t n, uint64_t max)
{
	struct vm vm;
	struct channel c;
	if (start_attached(&vm, &c) < 0 || !first_message(&vm, &c))
		return 1;
	uint8_t *buf = malloc(max + 1);
	uint64_t bytes = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t len = echo_size(i, max);
		echo_once(&vm, &c, buf, len);
		bytes += len;
	}
	printf("echo: %" PRIu64 " requests ok, %" PRIu64 " bytes\n", n, bytes);
	send_request(&c, "quit", 4);
	free(buf);
	finish_vmm(&vm);
	return 0;
}

static int cmd_hangup(uint64_t n)
{
	struct vm vm;
	struct channel c;
	if (start_attached(&vm, &c) < 0 || !first_message(&vm, &c))
		return 1;
	uint8_t buf[64];
	for (uint64_t i = 0; i < n; i++)
		echo_once(&vm, &c, buf, sizeof(buf));
	printf("hangup: after %" PRIu64 " requests\n", n);
	fflush(stdout);
	close(vm.ctl);
	vm.ctl = -1;
	finish_vmm(&vm);
	return 0;
}

static int cmd_send(int argc, char **argv)
{
	struct vm vm;
	struct channel c;
	if (start_attached(&vm, &c) < 0 || !first_message(&vm, &c))
		return 1;
	for (int i = 0; i < argc; i++) {
		const char *m = argv[i];
		uint8_t *file = NULL;
		size_t len = strlen(m);
		if (m[0] == '@') {
			FILE *f = fopen(m + 1, "rb");
			if (!f)
				die("cannot open %s", m + 1);
			file = malloc(req_cap + 1);
			len = fread(file, 1, req_cap + 1, f);
			fclose(f);
		}
		send_request(&c, file ? file : (const uint8_t *)m, len);
		free(file);
		const uint8_t *data;
		uint64_t rlen, seq;
		if (!wait_message(&c, vm.ctl, &data, &rlen, &seq)) {
			printf("message: none (the VM ended)\n");
			finish_vmm(&vm);
			return 0;
		}
		if (seq != c.seq)
			die("message answers request %" PRIu64 ", expected %" PRIu64, seq, c.seq);
		print_message("message", seq, data, rlen);
	}
	close(vm.ctl);
	vm.ctl = -1;
	finish_vmm(&vm);
	return 0;
}

static int cmd_idle(void)
{
	struct vm vm;
	struct channel c;
	if (start_attached(&vm, &c) < 0 || !first_message(&vm, &c))
		return 1;
	const uint8_t *data;
	uint64_t len, seq;
	if (wait_message(&c, vm.ctl, &data, &len, &seq))
		die("a message without a request");
	finish_vmm(&vm);
	return 0;
}

static int cmd_snapwait(const char *path)
{
	struct vm vm;
	struct channel c;
	if (start_attached(&vm, &c) < 0 || !first_message(&vm, &c))
		return 1;
	kill(vm.pid, SIGUSR1);
	struct stat st;
	double deadline = now_us() + wait_seconds * 1e6;
	while (stat(path, &st) < 0) {
		if (now_us() > deadline)
			die("no snapshot %s within %d s", path, wait_seconds);
		usleep(5000);
	}
	printf("snapshot: %s in place\n", path);
	uint8_t buf[100];
	for (int i = 0; i < 3; i++)
		echo_once(&vm, &c, buf, sizeof(buf));
	printf("echo: 3 requests ok after the snapshot\n");
	send_request(&c, "quit", 4);
	finish_vmm(&vm);
	return 0;
}

/*
 * Malformed or refused ATTACH messages. Prints RUNNING's answer and how mote-vmm ended.
 * Kinds: short long magic version type nofds extra-fd cmsg-creds bundle-dir bundle-short bundle-huge
 *        invoke-file invoke-small invoke-unaligned invoke-huge invoke-magic invoke-version invoke-size
 *        invoke-overlap invoke-bounds invoke-sealed doorbell-pipe doorbell-same
 */
static int cmd_bad(const char *kind)
{
	struct vm vm;
	struct channel c;
	channel_create(&c);
	start_vmm(&vm);
	if (!wait_ready(&vm))
		return 1;
	struct mote_ctl_msg m;
	attach_msg(&m, 0, c.size);
	int fds[8] = {c.memfd, c.to_guest, c.to_host}, n = 3;
	size_t len = sizeof(m);
	char big[sizeof(m) + 16];
	memset(big, 0, sizeof(big));
	int pipefd[2] = {-1, -1};
	const void *msg = &m;
	int tmpfd = -1;
	if (!strcmp(kind, "short")) {
		len = sizeof(m) - 8;
	} else if (!strcmp(kind, "long")) {
		memcpy(big, &m, sizeof(m));
		msg = big;
		len = sizeof(big);
	} else if (!strcmp(kind, "magic")) {
		m.magic ^= 1;
	} else if (!strcmp(kind, "version")) {
		m.version = MOTE_CTL_VERSION + 1;
	} else if (!strcmp(kind, "type")) {
		m.type = MOTE_CTL_READY;
	} else if (!strcmp(kind, "nofds")) {
		n = 0;
	} else if (!strcmp(kind, "extra-fd")) {
		fds[n++] = c.to_host;
	} else if (!strcmp(kind, "bundle-dir") || !strcmp(kind, "bundle-short") ||
		   !strcmp(kind, "bundle-huge")) {
		int b = !strcmp(kind, "bundle-dir") ? open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
						    : open_bundle(&m.bundle_size);
		if (b < 0)
			die("bundle %s needs --bundle", kind);
		if (!strcmp(kind, "bundle-dir"))
			m.bundle_size = 4096;
		else if (!strcmp(kind, "bundle-short"))
			m.bundle_size += 1;
		else
			m.bundle_size = MOTE_CTL_BUNDLE_MAX + 4096;
		memmove(fds + 1, fds, 3 * sizeof(int));
		fds[0] = b;
		n = 4;
	} else if (!strcmp(kind, "invoke-file")) {
		char path[] = "/tmp/invoketool.XXXXXX";
		tmpfd = mkstemp(path);
		if (tmpfd < 0 || ftruncate(tmpfd, (off_t)c.size) < 0)
			die("mkstemp: %s", strerror(errno));
		unlink(path);
		if (pwrite(tmpfd, c.region, PAGE, 0) != (ssize_t)PAGE)
			die("pwrite: %s", strerror(errno));
		fds[0] = tmpfd;
	} else if (!strcmp(kind, "invoke-small")) {
		m.invoke_size = c.size + PAGE;
	} else if (!strcmp(kind, "invoke-unaligned")) {
		m.invoke_size = c.size - 100;
	} else if (!strcmp(kind, "invoke-huge")) {
		m.invoke_size = MOTE_CTL_INVOKE_MAX + PAGE;
	} else if (!strcmp(kind, "invoke-magic")) {
		c.hdr->magic = 0x12345678;
	} else if (!strcmp(kind, "invoke-version")) {
		c.hdr->version = MOTE_INVOKE_VERSION + 1;
	} else if (!strcmp(kind, "invoke-size")) {
		c.hdr->size = c.size - PAGE;
	} else if (!strcmp(kind, "invoke-overlap")) {
		c.hdr->resp_off = c.hdr->req_off;
	} else if (!strcmp(kind, "invoke-bounds")) {
		c.hdr->resp_cap = c.size;
	} else if (!strcmp(kind, "invoke-sealed")) {
		if (munmap(c.region, c.size) < 0 || fcntl(c.memfd, F_ADD_SEALS, F_SEAL_WRITE) < 0)
			die("seal: %s", strerror(errno));
	} else if (!strcmp(kind, "doorbell-pipe")) {
		if (pipe2(pipefd, O_CLOEXEC) < 0)
			die("pipe: %s", strerror(errno));
		fds[1] = pipefd[0];
	} else if (!strcmp(kind, "doorbell-same")) {
		fds[2] = fds[1];
	} else {
		die("unknown kind of bad ATTACH '%s'", kind);
	}
	send_ctl(&vm, msg, len, fds, n);
	wait_running(&vm);
	finish_vmm(&vm);
	return 0;
}

/* ---- the latency benchmark ------------------------------------------------------------------ */

/* The baseline's "guest": a host process doing the runtime's part with the same doorbells. */
static void baseline_guest(struct channel *c)
{
	for (;;) {
		uint64_t v;
		if (read(c->to_guest, &v, sizeof(v)) != (ssize_t)sizeof(v))
			_exit(1);
		uint64_t seq = __atomic_load_n(&c->hdr->req_seq, __ATOMIC_ACQUIRE), len = c->hdr->req_len;
		if (len > req_cap || len > resp_cap)
			_exit(1);
		if (len == 4 && memcmp(c->region + c->hdr->req_off, "quit", 4) == 0)
			_exit(0);
		const uint8_t *in = c->region + c->hdr->req_off;
		uint8_t *out = c->region + c->hdr->resp_off;
		for (uint64_t k = 0; k < len; k++)
			out[k] = (uint8_t)(in[k] + 1);
		c->hdr->resp_len = len;
		__atomic_store_n(&c->hdr->resp_seq, seq, __ATOMIC_RELEASE);
		ring(c->to_host);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *sorted, uint64_t n, double p)
{
	uint64_t i = (uint64_t)(p * (double)(n - 1) + 0.5);
	return sorted[i < n ? i : n - 1];
}

static int cmd_bench(uint64_t n, uint64_t size)
{
	if (n < 100)
		die("bench needs at least 100 iterations");
	struct vm vm;
	struct channel c, b;
	if (start_attached(&vm, &c) < 0 || !first_message(&vm, &c))
		return 1;
	channel_create(&b);
	pid_t child = fork();
	if (child < 0)
		die("fork: %s", strerror(errno));
	if (child == 0)
		baseline_guest(&b);
	struct vm host = {.pid = child, .ctl = -1};
	double *vm_us = malloc(n * sizeof(double)), *host_us = malloc(n * sizeof(double));
	uint8_t *buf = malloc(size + 1);
	for (int i = 0; i < 200; i++) { /* warm-up */
		echo_once(&vm, &c, buf, size);
		echo_once(&host, &b, buf, size);
	}
	const uint64_t block = 500;
	for (uint64_t done = 0; done < n;) {
		uint64_t k = n - done < block ? n - done : block;
		for (uint64_t i = 0; i < k; i++)
			vm_us[done + i] = echo_once(&vm, &c, buf, size);
		for (uint64_t i = 0; i < k; i++)
			host_us[done + i] = echo_once(&host, &b, buf, size);
		done += k;
	}
	send_request(&c, "quit", 4);
	send_request(&b, "quit", 4);
	qsort(vm_us, n, sizeof(double), cmp_double);
	qsort(host_us, n, sizeof(double), cmp_double);
	printf("invoke round trip, %" PRIu64 "-byte messages, %" PRIu64
	       " iterations each, interleaved in blocks of %" PRIu64 ":\n",
	       size, n, block);
	printf("  %-44s p50 %8.1f us  p90 %8.1f us  p99 %8.1f us\n",
	       "(i) mote: supervisor -> VM -> supervisor", pct(vm_us, n, 0.5), pct(vm_us, n, 0.9),
	       pct(vm_us, n, 0.99));
	printf("  %-44s p50 %8.1f us  p90 %8.1f us  p99 %8.1f us\n",
	       "(ii) two host processes, eventfd + memfd", pct(host_us, n, 0.5), pct(host_us, n, 0.9),
	       pct(host_us, n, 0.99));
	printf("  ratio (i)/(ii): p50 %.1fx  p90 %.1fx  p99 %.1fx\n",
	       pct(vm_us, n, 0.5) / pct(host_us, n, 0.5), pct(vm_us, n, 0.9) / pct(host_us, n, 0.9),
	       pct(vm_us, n, 0.99) / pct(host_us, n, 0.99));
	fflush(stdout);
	finish_vmm(&vm);
	int st;
	waitpid(child, &st, 0);
	free(vm_us);
	free(host_us);
	free(buf);
	return 0;
}

static void print_phase(const char *what, double *us, uint64_t n)
{
	qsort(us, n, sizeof(double), cmp_double);
	printf("  %-50s p50 %8.1f us  p90 %8.1f us\n", what, pct(us, n, 0.5), pct(us, n, 0.9));
}

static int cmd_cold(uint64_t n)
{
	if (n < 5)
		die("cold needs at least 5 runs");
	double *ph[5];
	for (int k = 0; k < 5; k++)
		ph[k] = malloc(n * sizeof(double));
	uint8_t buf[64];
	quiet = 1;
	for (uint64_t i = 0; i < n; i++) {
		struct vm vm;
		struct channel c;
		double t0 = now_us();
		if (start_attached(&vm, &c) < 0 || !first_message(&vm, &c))
			die("cold start %" PRIu64 " failed", i);
		double t_first = now_us();
		double rt = echo_once(&vm, &c, buf, sizeof(buf));
		ph[0][i] = t_ready - t0;
		ph[1][i] = t_running - t_attach;
		ph[2][i] = t_first - t_running;
		ph[3][i] = rt;
		ph[4][i] = t_first + rt - t0;
		send_request(&c, "quit", 4);
		finish_vmm(&vm);
		close(vm.ctl);
		channel_destroy(&c);
	}
	printf("cold start through the control channel, %" PRIu64 " runs:\n", n);
	print_phase("fork -> READY (restore)", ph[0], n);
	print_phase("ATTACH -> RUNNING (checks, memory slots)", ph[1], n);
	print_phase("RUNNING -> first message (guest: attach, READY)", ph[2], n);
	print_phase("first 64-byte request round trip", ph[3], n);
	print_phase("total: fork -> first response", ph[4], n);
	for (int k = 0; k < 5; k++)
		free(ph[k]);
	return 0;
}

static uint64_t number(const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		die("%s: '%s' is not a number", what, s);
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"vmm", required_argument, NULL, 'v'},     {"restore", required_argument, NULL, 'r'},
	    {"arg", required_argument, NULL, 'a'},     {"bundle", required_argument, NULL, 'b'},
	    {"req-cap", required_argument, NULL, 'q'}, {"resp-cap", required_argument, NULL, 'p'},
	    {"wait", required_argument, NULL, 'w'},    {NULL, 0, NULL, 0},
	};
	int o;
	while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (o) {
		case 'v': vmm_path = optarg; break;
		case 'r': restore_path = optarg; break;
		case 'a':
			if (nvmm_args == 30)
				die("too many --arg");
			vmm_args[nvmm_args++] = optarg;
			break;
		case 'b': bundle_path = optarg; break;
		case 'q': req_cap = number(optarg, "--req-cap"); break;
		case 'p': resp_cap = number(optarg, "--resp-cap"); break;
		case 'w': wait_seconds = (int)number(optarg, "--wait"); break;
		default: die("unknown option (see the comment atop tests/tools/invoketool.c)");
		}
	}
	if (optind >= argc)
		die("no command");
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *cmd = argv[optind];
	int nargs = argc - optind - 1;
	char **args = argv + optind + 1;
	if (!strcmp(cmd, "pack") && nargs == 2) {
		struct mote_err err = {0};
		if (mote_rootfs_pack_dir(args[0], args[1], &err) < 0)
			die("%s", err.msg);
		return 0;
	}
	if (!strcmp(cmd, "echo") && nargs == 2)
		return cmd_echo(number(args[0], "N"), number(args[1], "MAX"));
	if (!strcmp(cmd, "hangup") && nargs == 1)
		return cmd_hangup(number(args[0], "N"));
	if (!strcmp(cmd, "send"))
		return cmd_send(nargs, args);
	if (!strcmp(cmd, "idle") && nargs == 0)
		return cmd_idle();
	if (!strcmp(cmd, "snapwait") && nargs == 1)
		return cmd_snapwait(args[0]);
	if (!strcmp(cmd, "bad") && nargs == 1)
		return cmd_bad(args[0]);
	if (!strcmp(cmd, "bench") && nargs == 2)
		return cmd_bench(number(args[0], "N"), number(args[1], "SIZE"));
	if (!strcmp(cmd, "cold") && nargs == 1)
		return cmd_cold(number(args[0], "N"));
	die("unknown command or wrong arguments: %s", cmd);
}
