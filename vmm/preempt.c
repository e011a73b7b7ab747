/* Preemption of guest threads: a tick that kicks the vCPU, and the redirect into the guest's preemption
 * entry. */
#include "preempt.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>

/* RFLAGS bits the entry keeps from the program: IOPL (the guest kernel's port I/O needs 3). */
#define RFLAGS_IOPL 0x3000ull
#define RFLAGS_FIXED 0x2ull

static pthread_t vcpu_thread;
static struct kvm_run *volatile run_area;
static volatile sig_atomic_t wanted;
static uint64_t redirects;

static void on_tick(int sig)
{
	(void)sig;
	wanted = 1;
	struct kvm_run *run = run_area;
	if (run)
		run->immediate_exit = 1;
}

void preempt_init(struct guest *g)
{
	vcpu_thread = pthread_self();
	run_area = g->vm.run;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tick; /* no SA_RESTART: KVM_RUN returns EINTR */
	sigaction(SIGVTALRM, &sa, NULL);
}

void preempt_tick(const struct guest *g)
{
	const volatile struct mote_preempt *p = g->boot_info ? &g->boot_info->preempt : NULL;
	if (p && p->entry && p->contenders > 1)
		pthread_kill(vcpu_thread, SIGVTALRM);
}

int preempt_take(struct guest *g)
{
	if (!wanted)
		return 0;
	wanted = 0;
	volatile struct mote_preempt *p = &g->boot_info->preempt;
	uint64_t entry = p->entry, kernel_start = p->kernel_start, kernel_end = p->kernel_end;
	if (!entry || p->contenders <= 1)
		return 0;
	struct kvm_regs regs;
	if (ioctl(g->vm.vcpu_fd, KVM_GET_REGS, &regs) < 0)
		return -1;
	if (regs.rip >= kernel_start && regs.rip < kernel_end) {
		p->pending = 1; /* the kernel yields when its system call returns */
		return 0;
	}
	p->rip = regs.rip;
	p->rsp = regs.rsp;
	p->rflags = regs.rflags;
	regs.rip = entry;
	regs.rflags = (regs.rflags & RFLAGS_IOPL) | RFLAGS_FIXED;
	if (ioctl(g->vm.vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return -1;
	redirects++;
	return 0;
}

uint64_t preempt_count(void)
{
	return redirects;
}
