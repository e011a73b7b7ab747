/* snapfirst: snapshot, then at once the exit hypercall (status 0): a restore resumes straight into the exit. */
/*
 * bench/runner times `mote-vmm --restore` of this program's snapshot to
 * measure a restore up to the first resumed guest instruction. _start loads
 * the exit hypercall's arguments into spare registers, makes the snapshot
 * hypercall (outl, port MOTE_HC_PORT_BASE + 4 = MOTE_HC_SNAPSHOT) and then the
 * exit hypercall (MOTE_HC_EXIT, status 0). The snapshot is taken with rip just
 * past the first outl, so a restored clone runs two register moves and the
 * exiting outl, nothing else. Without --snapshot the first call returns
 * -EOPNOTSUPP and the program exits 0 all the same. Built with
 * `gcc -nostdlib -static` like bench/first.S (identity-mapped, so addresses
 * are guest-physical); natively it would fault (no I/O permission).
 */
#include <mote/abi.h>

	.text
	.globl _start
_start:
	lea exitstruct(%rip), %esi
	mov $(MOTE_HC_PORT_BASE + 3), %edi /* 3 = MOTE_HC_EXIT */
	lea snapstruct(%rip), %eax
	mov $(MOTE_HC_PORT_BASE + 4), %dx  /* 4 = MOTE_HC_SNAPSHOT */
	outl %eax, %dx
	/* The snapshot point: a restored clone resumes here. */
	mov %esi, %eax
	mov %edi, %edx
	outl %eax, %dx
	ud2 /* not reached: MOTE_HC_EXIT does not return */

	.data
	.balign 8
snapstruct: /* struct mote_hc_snapshot */
	.quad 0 /* ret */
exitstruct: /* struct mote_hc_exit */
	.long 0 /* reason = MOTE_EXIT_NORMAL */
	.long 0 /* status */
	.quad 0 /* msg */
	.quad 0 /* msg_len */
	.quad 0 /* rip */
	.quad 0 /* rsp */

	.section .note.GNU-stack,"",@progbits
