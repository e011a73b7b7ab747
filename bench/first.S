/* first: a static program whose first instruction ends the VM (MOTE_HC_EXIT, status 0). */
/*
 * bench/runner times `mote-vmm ... -- /first` to measure mote-vmm's boot up to
 * the program's first instruction: _start makes the exit hypercall at once,
 * straight to the monitor (outl with eax = address of the struct, port =
 * MOTE_HC_PORT_BASE + MOTE_HC_EXIT), so nothing of the program runs. Built
 * with `gcc -nostdlib -static`; the program is identity-mapped below 4 GiB,
 * so its address is the guest-physical address the monitor expects. Natively
 * it would fault (no I/O permission): it only makes sense inside mote.
 */
#include <mote/abi.h>

	.text
	.globl _start
_start:
	lea exitstruct(%rip), %eax
	mov $(MOTE_HC_PORT_BASE + 3), %dx /* 3 = MOTE_HC_EXIT */
	outl %eax, %dx
	ud2 /* not reached: MOTE_HC_EXIT does not return */

	.data
	.balign 8
exitstruct: /* struct mote_hc_exit */
	.long 0 /* reason = MOTE_EXIT_NORMAL */
	.long 0 /* status */
	.quad 0 /* msg */
	.quad 0 /* msg_len */
	.quad 0 /* rip */
	.quad 0 /* rsp */

	.section .note.GNU-stack,"",@progbits
