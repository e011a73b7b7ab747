/* Issuing hypercalls: one `out` to the call's port with the struct's address. */
#ifndef GUEST_HYPERCALL_H
#define GUEST_HYPERCALL_H

#include <stdint.h>

#include <mote/abi.h>

/* Make hypercall `nr` with `arg` (a struct in kernel memory, below 4 GiB). One exit. */
#ifdef MOTE_GUEST_ON_HOST
void hypercall(unsigned nr, void *arg); /* unit tests: tests/unit/guest_shim.c plays the monitor */
#else
static inline void hypercall(unsigned nr, void *arg)
{
	uint16_t port = (uint16_t)(MOTE_HC_PORT_BASE + nr);
	__asm__ volatile("outl %0, %1" : : "a"((uint32_t)(uintptr_t)arg), "Nd"(port) : "memory");
}
#endif

/* End the guest; never returns. */
void hypercall_exit(uint32_t reason, int32_t status, const char *msg, uint64_t rip, uint64_t rsp)
    __attribute__((noreturn));

#endif /* GUEST_HYPERCALL_H */
