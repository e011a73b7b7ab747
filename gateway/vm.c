/* One function VM as the gateway sees it: a mote-vmm process restored from a base, attached, spoken to
 * through its invoke region. */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fnlog.h"
#include "mote/abi.h"
#include "mote/control.h"
#include "vmm_spawn.h"
#include "status.h"

#define REGION_HEADER 4096ull
#define REGION_SIZE (REGION_HEADER + VM_REQ_CAP + VM_RESP_CAP)

enum vm_state {
	VM_SPAWNED,   /* waiting for mote-vmm's READY */
	VM_PAUSED,    /* READY seen, no attach asked yet: restored, vCPU stopped (a pooled VM) */
	VM_ATTACHING, /* ATTACH sent, waiting for RUNNING */
	VM_STARTING,  /* running, waiting for the runtime's first message */
	VM_IDLE,      /* waiting in MOTE_HC_INVOKE for a request */
	VM_BUSY,      /* a request is being handled */
	VM_DEAD,      /* killed or exited: waiting to reap it */
};

struct vm {
	h2o_loop_t *loop;
	enum vm_state state;
	const struct vm_events *ev;
	void *owner;
	struct fnlog *log;
	struct base *base;
	struct spawned proc;
	h2o_socket_t *ctl, *out, *pidfd, *doorbell_host;
	int ctl_fd, doorbell_guest, doorbell_host_fd, memfd, bundle_fd;
	uint64_t bundle_size;
	volatile struct mote_invoke_region *region;
	uint64_t seq;
	int layer_fd;	      /* vm_take_layer's fd (our duplicate) until ATTACH took it, else -1 */
	int ws_rec_fd;	      /* a memfd the VM records its working set into (WORKSET due), else -1 */
	int layer_asked;      /* ATTACH asked for a layer: LAYER is due before the first message */
	int layer_seen;	      /* LAYER received */
	int from_layer;	      /* restored from a layer (READY had MOTE_CTL_F_FROM_LAYER) */
	uint32_t ready_flags; /* READY's flags */
	int exit_code;	      /* mote-vmm's exit status once reaped, else -1 */
	int attached;	      /* RUNNING seen (or implied by the first message) */
	int attach_asked;     /* vm_attach called (or vm_start): ATTACH goes out at READY */
	struct vm_memory mem; /* last measurement, at t_mem */
	uint64_t t_mem;
	/* When it was spawned, restored (READY), asked to attach, attached (RUNNING): CLOCK_MONOTONIC ns. */
	uint64_t t_spawn, t_restored, t_attach_asked, t_attached, t_ready;
	char why[512];	/* the reason it was killed, once it was */
	char line[512]; /* the output line being assembled */
	size_t line_len;
	char last_vmm_line[512]; /* the last "mote-vmm:" line of its output */
	char last_line[512];
	struct vm *next, **pprev; /* every live VM, for vm_kill_all */
};

static struct vm *all_vms;

static void orphan_exited(struct vm *vm, void *owner, const char *why)
{
}

/* The events of a VM nobody owns any more (it is dying). */
static const struct vm_events vm_orphan_events = {.exited = orphan_exited};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double ms_between(uint64_t a, uint64_t b)
{
	return b > a ? (double)(b - a) / 1e6 : 0.0;
}

static void close_sock(h2o_socket_t **s)
{
	if (*s) {
		h2o_socket_close(*s);
		*s = NULL;
	}
}

static void note_output_line(struct vm *vm)
{
	vm->line[vm->line_len] = 0;
	if (vm->line_len) {
		snprintf(vm->last_line, sizeof(vm->last_line), "%s", vm->line);
		if (!strncmp(vm->line, "mote-vmm:", 9))
			snprintf(vm->last_vmm_line, sizeof(vm->last_vmm_line), "%s", vm->line);
	}
	vm->line_len = 0;
}

/* Read what the VM wrote (at most 64 KiB per call, so a chatty VM cannot hog the loop). Returns 0 at EOF. */
static int drain_output(struct vm *vm, int all)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(h2o_socket_get_fd(vm->out), buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return 1; /* EAGAIN */
		if (n == 0)
			return 0;
		fnlog_write(vm->log, buf, (size_t)n);
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n')
				note_output_line(vm);
			else if (vm->line_len < sizeof(vm->line) - 1)
				vm->line[vm->line_len++] = buf[i];
		}
		if (!all)
			return 1;
	}
}

static void on_output(h2o_socket_t *sock, const char *err)
{
	struct vm *vm = sock->data;
	if (!drain_output(vm, 0))
		close_sock(&vm->out);
}

void vm_kill(struct vm *vm, const char *why)
{
	if (vm->state == VM_DEAD)
		return;
	vm->state = VM_DEAD;
	snprintf(vm->why, sizeof(vm->why), "%s", why);
	pidfd_send_signal(vm->proc.pidfd, SIGKILL, NULL, 0);
	/* No more messages matter; only the exit does. */
	close_sock(&vm->ctl);
	close_sock(&vm->doorbell_host);
}

static void vm_free(struct vm *vm)
{
	close_sock(&vm->ctl);
	close_sock(&vm->out);
	close_sock(&vm->pidfd);
	close_sock(&vm->doorbell_host);
	if (vm->doorbell_guest >= 0)
		close(vm->doorbell_guest);
	if (vm->memfd >= 0)
		close(vm->memfd);
	if (vm->bundle_fd >= 0)
		close(vm->bundle_fd);
	if (vm->layer_fd >= 0)
		close(vm->layer_fd);
	if (vm->ws_rec_fd >= 0)
		close(vm->ws_rec_fd);
	if (vm->region)
		munmap((void *)vm->region, REGION_SIZE);
	if (vm->pprev) {
		*vm->pprev = vm->next;
		if (vm->next)
			vm->next->pprev = vm->pprev;
	}
	free(vm);
}

/* The process exited: reap it, collect its last words, tell the owner, free. */
static void on_exit_ready(h2o_socket_t *sock, const char *err)
{
	struct vm *vm = sock->data;
	int status;
	pid_t r = spawn_wait(&vm->proc, &status, WNOHANG);
	if (r == 0)
		return; /* not yet */
	if (vm->out)
		drain_output(vm, 1);
	if (vm->line_len)
		note_output_line(vm);
	vm->exit_code = r > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	char why[1200];
	const char *words = vm->last_vmm_line[0] ? vm->last_vmm_line : vm->last_line;
	if (vm->why[0])
		snprintf(why, sizeof(why), "%s", vm->why);
	else if (r < 0)
		snprintf(why, sizeof(why), "mote-vmm (pid %d) vanished", (int)vm->proc.pid);
	else if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "mote-vmm (pid %d) ended by signal %d (%s)%s%s", (int)vm->proc.pid,
			 WTERMSIG(status), strsignal(WTERMSIG(status)), words[0] ? ": " : "", words);
	else
		snprintf(why, sizeof(why), "mote-vmm (pid %d) exited with status %d%s%s", (int)vm->proc.pid,
			 WEXITSTATUS(status), words[0] ? ": " : "", words);
	vm->state = VM_DEAD;
	if (vm->ws_rec_fd >= 0) {
		if (vm->ev->workset_done)
			vm->ev->workset_done(vm, vm->owner, -1);
		close(vm->ws_rec_fd);
		vm->ws_rec_fd = -1;
	}
	vm->ev->exited(vm, vm->owner, why);
	vm_free(vm);
}

static void protocol_error(struct vm *vm, const char *what)
{
	char why[512];
	snprintf(why, sizeof(why), "killed: %s", what);
	fnlog_notef(vm->log, "VM pid %d %s", (int)vm->proc.pid, why);
	vm_kill(vm, why);
}

static int send_attach(struct vm *vm)
{
	struct mote_ctl_msg m;
	memset(&m, 0, sizeof(m));
	m.magic = MOTE_CTL_MAGIC;
	m.version = MOTE_CTL_VERSION;
	m.type = MOTE_CTL_ATTACH;
	m.bundle_size = vm->bundle_size;
	m.invoke_size = REGION_SIZE;
	int fds[7] = {vm->bundle_fd, vm->memfd, vm->doorbell_guest, vm->doorbell_host_fd, vm->layer_fd};
	int nfds = 4, *first = fds;
	if (vm->layer_fd >= 0 && (vm->ready_flags & MOTE_CTL_F_LAYERS) &&
	    !(vm->ready_flags & MOTE_CTL_F_FROM_LAYER)) {
		m.flags |= MOTE_CTL_F_TAKE_LAYER;
		nfds = 5;
		vm->layer_asked = 1;
	}
	/* The owner's working set to fault in first, or one to record. */
	if (vm->ev->workset && (vm->ready_flags & MOTE_CTL_F_WORKSET)) {
		int ws = vm->ev->workset(vm, vm->owner);
		if (ws >= 0) {
			m.flags |= MOTE_CTL_F_PREFAULT;
			fds[nfds++] = ws;
		} else if (vm->ev->workset_wanted && vm->ev->workset_wanted(vm, vm->owner)) {
			vm->ws_rec_fd = memfd_create("mote-workset", MFD_CLOEXEC);
			if (vm->ws_rec_fd >= 0) {
				m.flags |= MOTE_CTL_F_RECORD_WORKSET;
				fds[nfds++] = vm->ws_rec_fd;
			} else if (vm->ev->workset_done) {
				vm->ev->workset_done(vm, vm->owner, -1);
			}
		}
	}
	if (vm->bundle_size == 0) {
		first++;
		nfds--;
	}
	char cbuf[CMSG_SPACE(sizeof(fds))];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
	memcpy(CMSG_DATA(c), first, sizeof(int) * (size_t)nfds);
	ssize_t n;
	do
		n = sendmsg(vm->ctl_fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (vm->layer_fd >= 0) {
		close(vm->layer_fd);
		vm->layer_fd = -1;
		if (!vm->layer_asked && vm->ev->layer)
			vm->ev->layer(vm, vm->owner, MOTE_STATUS_HOST, 0,
				      "this mote-vmm takes no layers (or the VM is restored from one)");
	}
	return n == (ssize_t)sizeof(m) ? 0 : -1;
}

static void on_control(h2o_socket_t *sock, const char *err)
{
	struct vm *vm = sock->data;
	struct mote_ctl_msg m;
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	if (!vm->ctl)
		return;
	ssize_t n = recvmsg(vm->ctl_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* Any fds sent to us are not wanted. */
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
				close(((int *)CMSG_DATA(c))[i]);
	if (n <= 0) {
		/* mote-vmm closed its end: it is exiting; the pidfd tells when. */
		close_sock(&vm->ctl);
		return;
	}
	if (n != (ssize_t)sizeof(m) || (mh.msg_flags & MSG_TRUNC) || m.magic != MOTE_CTL_MAGIC ||
	    m.version != MOTE_CTL_VERSION) {
		protocol_error(vm, "malformed control message");
		return;
	}
	if (m.type == MOTE_CTL_READY && vm->state == VM_SPAWNED) {
		vm->t_restored = now_ns();
		vm->ready_flags = m.flags;
		vm->from_layer = (m.flags & MOTE_CTL_F_FROM_LAYER) != 0;
		if (!vm->attach_asked) {
			vm->state = VM_PAUSED;
			if (vm->ev->restored)
				vm->ev->restored(vm, vm->owner);
			return;
		}
		if (send_attach(vm) < 0) {
			protocol_error(vm, "cannot send ATTACH");
			return;
		}
		vm->state = VM_ATTACHING;
	} else if (m.type == MOTE_CTL_RUNNING && (vm->state == VM_ATTACHING || vm->attached)) {
		if (m.status != 0) {
			m.text[sizeof(m.text) - 1] = 0;
			snprintf(vm->why, sizeof(vm->why), "attach refused (status %d): %s", m.status,
				 m.text);
			fnlog_notef(vm->log, "VM pid %d %s", (int)vm->proc.pid, vm->why);
			return; /* mote-vmm exits with that status */
		}
		if (vm->state == VM_ATTACHING) {
			vm->state = VM_STARTING;
			vm->t_attached = now_ns();
		}
		vm->attached = 1;
	} else if (m.type == MOTE_CTL_WORKSET && vm->ws_rec_fd >= 0) {
		if (vm->ev->workset_done)
			vm->ev->workset_done(vm, vm->owner, m.status == 0 ? vm->ws_rec_fd : -1);
		close(vm->ws_rec_fd);
		vm->ws_rec_fd = -1;
	} else if (m.type == MOTE_CTL_LAYER && vm->layer_asked && !vm->layer_seen) {
		vm->layer_seen = 1;
		m.text[sizeof(m.text) - 1] = 0;
		if (vm->ev->layer)
			vm->ev->layer(vm, vm->owner, m.status, m.layer_bytes, m.text);
	} else {
		protocol_error(vm, "unexpected control message");
	}
}

/* Copy the message the guest handed over out of the shared region (it may change it meanwhile). */
static uint8_t *take_message(struct vm *vm, uint64_t *len_out)
{
	uint64_t seq = __atomic_load_n(&vm->region->resp_seq, __ATOMIC_ACQUIRE);
	uint64_t len = __atomic_load_n(&vm->region->resp_len, __ATOMIC_ACQUIRE);
	if (seq != vm->seq) {
		protocol_error(vm, "response to another request (bad resp_seq)");
		return NULL;
	}
	if (len > VM_RESP_CAP) {
		protocol_error(vm, "response larger than the response area");
		return NULL;
	}
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy) {
		protocol_error(vm, "out of memory copying its response");
		return NULL;
	}
	memcpy(copy, (const uint8_t *)vm->region + REGION_HEADER + VM_REQ_CAP, len);
	*len_out = len;
	return copy;
}

static void on_doorbell(h2o_socket_t *sock, const char *err)
{
	struct vm *vm = sock->data;
	uint64_t v;
	if (read(vm->doorbell_host_fd, &v, sizeof(v)) != sizeof(v))
		return; /* spurious */
	/* mote-vmm sends LAYER, WORKSET (and RUNNING) before it rings: take them first, whatever order the
	 * loop reports the two sockets in. */
	for (int i = 0;
	     i < 3 && vm->ctl &&
	     (vm->state == VM_ATTACHING || (vm->layer_asked && !vm->layer_seen) || vm->ws_rec_fd >= 0);
	     i++)
		on_control(vm->ctl, NULL);
	if (vm->state == VM_DEAD)
		return;
	if (vm->state == VM_ATTACHING) {
		/* RUNNING and the first message arrived in the same loop iteration, the message first. */
		vm->state = VM_STARTING;
		vm->attached = 1;
		vm->t_attached = now_ns();
	}
	if (vm->state != VM_STARTING && vm->state != VM_BUSY) {
		protocol_error(vm, "message while no request was given");
		return;
	}
	uint64_t len;
	uint8_t *msg = take_message(vm, &len);
	if (!msg)
		return;
	if (vm->state == VM_STARTING) {
		int type;
		const char *text;
		uint32_t tlen;
		if (vm->from_layer && len == 0) {
			/* Restored from a layer: the function was loaded when the layer was taken. */
			uint64_t t = now_ns();
			fnlog_notef(vm->log,
				    "VM pid %d ready in %.1f ms from its layer (restore %.1f, attach %.1f)",
				    (int)vm->proc.pid, ms_between(vm->t_spawn, t),
				    ms_between(vm->t_spawn, vm->t_restored),
				    ms_between(vm->t_restored, vm->t_attached));
			vm->state = VM_IDLE;
			vm->t_ready = t;
			vm->ev->ready(vm, vm->owner, "", 0);
		} else if (mote_msg_decode_text(msg, len, &type, &text, &tlen) != MOTE_MSG_OK) {
			protocol_error(vm, "first message is neither READY nor INIT_ERROR");
		} else if (type == MOTE_MSG_READY) {
			uint64_t t = now_ns();
			if (vm->t_attach_asked > vm->t_restored)
				fnlog_notef(
				    vm->log,
				    "VM pid %d ready in %.1f ms from the pool (attach %.1f, load %.1f; "
				    "restored %.1f ms earlier): %.*s",
				    (int)vm->proc.pid, ms_between(vm->t_attach_asked, t),
				    ms_between(vm->t_attach_asked, vm->t_attached),
				    ms_between(vm->t_attached, t),
				    ms_between(vm->t_restored, vm->t_attach_asked),
				    (int)(tlen < 100 ? tlen : 100), text);
			else
				fnlog_notef(
				    vm->log,
				    "VM pid %d ready in %.1f ms (restore %.1f, attach %.1f, load %.1f): %.*s",
				    (int)vm->proc.pid, ms_between(vm->t_spawn, t),
				    ms_between(vm->t_spawn, vm->t_restored),
				    ms_between(vm->t_restored, vm->t_attached), ms_between(vm->t_attached, t),
				    (int)(tlen < 100 ? tlen : 100), text);
			vm->state = VM_IDLE;
			vm->t_ready = t;
			vm->ev->ready(vm, vm->owner, text, tlen);
		} else {
			char why[600];
			snprintf(why, sizeof(why), "init error: %.*s", (int)(tlen < 500 ? tlen : 500), text);
			vm->ev->init_error(vm, vm->owner, text, tlen);
			vm_kill(vm, why);
		}
		free(msg);
		return;
	}
	struct mote_msg_response res;
	int r = mote_msg_decode_response(msg, len, &res);
	if (r != MOTE_MSG_OK) {
		char what[128];
		snprintf(what, sizeof(what), "malformed response (%s)", mote_msg_strerror(r));
		protocol_error(vm, what);
	} else {
		vm->state = VM_IDLE;
		vm->ev->response(vm, vm->owner, &res);
	}
	free(msg);
}

static h2o_socket_t *watch(struct vm *vm, int fd, h2o_socket_cb cb)
{
	h2o_socket_t *s = h2o_evloop_socket_create(vm->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
	s->data = vm;
	h2o_socket_read_start(s, cb);
	return s;
}

static struct vm *spawn_vm(h2o_loop_t *loop, const char *vmm, const char *snapshot, const char *layer,
			   struct base *base, const struct vm_events *ev, void *owner, struct fnlog *log,
			   struct mote_err *err)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	if (!vm) {
		mote_errf(err, MOTE_STATUS_HOST, "out of memory");
		return NULL;
	}
	vm->loop = loop;
	vm->ev = ev;
	vm->owner = owner;
	vm->log = log;
	vm->base = base;
	vm->ctl_fd = vm->doorbell_guest = vm->doorbell_host_fd = vm->memfd = vm->bundle_fd = -1;
	vm->layer_fd = vm->exit_code = vm->ws_rec_fd = -1;
	vm->proc.pidfd = -1;
	int sv[2] = {-1, -1}, pipefd[2] = {-1, -1};

	vm->memfd = memfd_create("mote-invoke", MFD_CLOEXEC);
	vm->doorbell_guest = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm->doorbell_host_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->memfd < 0 || vm->doorbell_guest < 0 || vm->doorbell_host_fd < 0 ||
	    ftruncate(vm->memfd, (off_t)REGION_SIZE) < 0) {
		mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot set up a VM's invoke channel");
		goto fail;
	}
	void *region = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, vm->memfd, 0);
	if (region == MAP_FAILED) {
		mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot map a VM's invoke region");
		goto fail;
	}
	vm->region = region;
	vm->region->magic = MOTE_INVOKE_MAGIC;
	vm->region->version = MOTE_INVOKE_VERSION;
	vm->region->size = REGION_SIZE;
	vm->region->req_off = REGION_HEADER;
	vm->region->req_cap = VM_REQ_CAP;
	vm->region->resp_off = REGION_HEADER + VM_REQ_CAP;
	vm->region->resp_cap = VM_RESP_CAP;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot create a VM's control channel");
		goto fail;
	}
	const char *argv[] = {
	    vmm,   "--restore", snapshot, "--control", "3", "--die-with-parent", layer ? "--layer" : NULL,
	    layer, NULL};
	vm->t_spawn = now_ns();
	if (spawn_vmm(argv, sv[1], pipefd[1], &vm->proc, err) < 0)
		goto fail;
	close(sv[1]);
	close(pipefd[1]);
	sv[1] = pipefd[1] = -1;
	vm->ctl_fd = sv[0];
	vm->ctl = watch(vm, sv[0], on_control);
	vm->out = watch(vm, pipefd[0], on_output);
	vm->pidfd = watch(vm, vm->proc.pidfd, on_exit_ready);
	vm->doorbell_host = watch(vm, vm->doorbell_host_fd, on_doorbell);
	vm->next = all_vms;
	if (all_vms)
		all_vms->pprev = &vm->next;
	all_vms = vm;
	vm->pprev = &all_vms;
	return vm;
fail:
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (pipefd[i] >= 0)
			close(pipefd[i]);
	}
	vm_free(vm);
	return NULL;
}

struct vm *vm_spawn(h2o_loop_t *loop, const char *vmm, const char *snapshot, struct base *base,
		    const struct vm_events *ev, void *owner, struct fnlog *log, struct mote_err *err)
{
	return spawn_vm(loop, vmm, snapshot, NULL, base, ev, owner, log, err);
}

struct vm *vm_start(h2o_loop_t *loop, const struct vm_spec *spec, const struct vm_events *ev, void *owner,
		    struct mote_err *err)
{
	struct vm *vm =
	    spawn_vm(loop, spec->vmm, spec->snapshot, spec->layer, spec->base, ev, owner, spec->log, err);
	if (!vm)
		return NULL;
	if (vm_attach(vm, spec->bundle_fd, spec->bundle_size, spec->log, ev, owner) < 0) {
		mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot pass the bundle to a VM");
		vm_kill(vm, "killed: cannot pass it the bundle");
		/* Its exit is reported to ev/owner like any other; the caller gets NULL and must not wait for
		 * it. */
		vm->ev = &vm_orphan_events;
		vm->owner = NULL;
		return NULL;
	}
	return vm;
}

int vm_attach(struct vm *vm, int bundle_fd, uint64_t bundle_size, struct fnlog *log,
	      const struct vm_events *ev, void *owner)
{
	if (vm->attach_asked || (vm->state != VM_SPAWNED && vm->state != VM_PAUSED))
		return -1;
	int fd = fcntl(bundle_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -1;
	vm->bundle_fd = fd;
	vm->bundle_size = bundle_size;
	vm->ev = ev;
	vm->owner = owner;
	vm->log = log;
	vm->attach_asked = 1;
	vm->t_attach_asked = now_ns();
	if (vm->state == VM_PAUSED) {
		if (send_attach(vm) < 0) {
			protocol_error(vm, "cannot send ATTACH");
			return 0; /* exited follows */
		}
		vm->state = VM_ATTACHING;
	}
	return 0;
}

int vm_take_layer(struct vm *vm, int fd)
{
	if (vm->layer_fd >= 0 || vm->from_layer || (vm->state != VM_SPAWNED && vm->state != VM_PAUSED))
		return -1;
	/* A paused VM has told what its mote-vmm can do: refuse here rather than fail inside vm_attach. */
	if (vm->state == VM_PAUSED && !(vm->ready_flags & MOTE_CTL_F_LAYERS))
		return -1;
	vm->layer_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return vm->layer_fd >= 0 ? 0 : -1;
}

double vm_load_ms(const struct vm *vm)
{
	return vm->t_ready && vm->t_attached ? ms_between(vm->t_attached, vm->t_ready) : -1;
}

int vm_from_layer(const struct vm *vm)
{
	return vm->from_layer;
}

int vm_exit_code(const struct vm *vm)
{
	return vm->exit_code;
}

int vm_is_paused(const struct vm *vm)
{
	return vm->state == VM_PAUSED;
}

double vm_restore_ms(const struct vm *vm)
{
	return ms_between(vm->t_spawn, vm->t_restored);
}

double vm_ready_ms(const struct vm *vm, int from_attach)
{
	if (!vm->t_ready)
		return -1;
	return ms_between(from_attach ? vm->t_attach_asked : vm->t_spawn, vm->t_ready);
}

int vm_parse_smaps_rollup(const char *text, struct vm_memory *out)
{
	memset(out, 0, sizeof(*out));
	int seen = 0;
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		unsigned long long kb;
		char key[64];
		if (sscanf(line, "%63[^:]: %llu kB", key, &kb) == 2) {
			if (!strcmp(key, "Private_Clean") || !strcmp(key, "Private_Dirty")) {
				out->private_bytes += kb * 1024;
				seen |= 1;
			} else if (!strcmp(key, "Shared_Clean") || !strcmp(key, "Shared_Dirty")) {
				out->shared_bytes += kb * 1024;
				seen |= 2;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return seen == 3 ? 0 : -1;
}

int vm_memory(struct vm *vm, uint64_t max_age_ms, struct vm_memory *out)
{
	uint64_t t = now_ns();
	if (vm->t_mem && t - vm->t_mem < max_age_ms * 1000000ull) {
		*out = vm->mem;
		return 0;
	}
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)vm->proc.pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	if (vm_parse_smaps_rollup(buf, &vm->mem) < 0)
		return -1;
	vm->t_mem = t;
	*out = vm->mem;
	return 0;
}

void vm_set_owner(struct vm *vm, const struct vm_events *ev, void *owner, struct fnlog *log)
{
	vm->ev = ev;
	vm->owner = owner;
	vm->log = log;
}

int vm_request(struct vm *vm, const struct mote_msg_request_fields *req)
{
	if (vm->state != VM_IDLE)
		return MOTE_MSG_MALFORMED;
	uint8_t *area = (uint8_t *)vm->region + REGION_HEADER;
	int64_t n = mote_msg_encode_request(area, VM_REQ_CAP, req);
	if (n < 0)
		return (int)n;
	vm->seq++;
	__atomic_store_n(&vm->region->req_len, (uint64_t)n, __ATOMIC_RELEASE);
	__atomic_store_n(&vm->region->req_seq, vm->seq, __ATOMIC_RELEASE);
	uint64_t one = 1;
	if (write(vm->doorbell_guest, &one, sizeof(one)) != sizeof(one)) {
		protocol_error(vm, "cannot ring its doorbell");
		return 0; /* exited follows */
	}
	vm->state = VM_BUSY;
	return 0;
}

struct base *vm_base(const struct vm *vm)
{
	return vm->base;
}

unsigned vm_count_on_base(const struct base *b)
{
	unsigned n = 0;
	for (struct vm *vm = all_vms; vm; vm = vm->next)
		if (vm->base == b)
			n++;
	return n;
}

int vm_set_cpu(struct vm *vm, uint64_t quota_us, unsigned weight, struct mote_err *err)
{
	return spawn_set_cpu(&vm->proc, quota_us, weight, err);
}

pid_t vm_pid(const struct vm *vm)
{
	return vm->proc.pid;
}

void vm_kill_all(void)
{
	for (struct vm *vm = all_vms; vm; vm = vm->next)
		pidfd_send_signal(vm->proc.pidfd, SIGKILL, NULL, 0);
	for (struct vm *vm = all_vms; vm; vm = vm->next)
		spawn_wait(&vm->proc, NULL, 0);
}
