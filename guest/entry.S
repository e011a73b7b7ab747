/* Guest kernel entry points: boot, the one syscall stub (PVM and VMX), entering the program. */
#include <mote/abi.h>

/* ELF notes read by mote-vmm: the ABI version and the syscall entry (MSR_LSTAR). */
	.section .note.mote, "a"
	.balign 4
	.long 5, 4, MOTE_NOTE_ABI
	.asciz "MOTE"
	.balign 4
	.long MOTE_ABI_VERSION
	.balign 4
	.long 5, 8, MOTE_NOTE_SYSCALL_ENTRY
	.asciz "MOTE"
	.balign 4
	.quad syscall_entry

	.section .bss
	.balign 16
	.globl kernel_stack
kernel_stack:
	.skip 65536
kernel_stack_top:

	.section .data
	.balign 8
	.globl syscall_user_rsp, syscall_user_rip, syscall_user_rflags
syscall_user_rsp:	.quad 0
syscall_user_rip:	.quad 0
syscall_user_rflags:	.quad 0

	.section .text.boot, "ax"
/* Boot: %rdi = boot-info block. */
	.globl _start
	.type _start, @function
_start:
	lea kernel_stack_top(%rip), %rsp
	xor %ebp, %ebp
	call kmain
	ud2
	.size _start, . - _start

	.text
/*
 * Every `syscall` of the program lands here. Under PVM it arrives at CPL3;
 * under VMX at CPL0, and leaves CPL0 at once with sysretq. The program's
 * stack (and its red zone) is never touched: the user rsp, rip and rflags
 * are kept in memory and we switch to the kernel stack first.
 */
	.globl syscall_entry
	.type syscall_entry, @function
syscall_entry:
	mov %rsp, syscall_user_rsp(%rip)
	mov %rcx, syscall_user_rip(%rip)
	mov %r11, syscall_user_rflags(%rip)
	lea kernel_stack_top(%rip), %rsp
	mov %cs, %ecx
	test $3, %ecx
	jnz 1f
	lea 1f(%rip), %rcx
	mov $0x3002, %r11d
	sysretq
1:
	cld
	push %rax
	push %rdi
	push %rsi
	push %rdx
	push %r10
	push %r8
	push %r9
	sub $8, %rsp
	lea 8(%rsp), %rdi
	call syscall_dispatch
	add $8, %rsp
	pop %r9
	pop %r8
	pop %r10
	pop %rdx
	pop %rsi
	pop %rdi
	add $8, %rsp
	mov syscall_user_rflags(%rip), %r11
	mov syscall_user_rip(%rip), %rcx
	push %r11
	popfq
	mov syscall_user_rsp(%rip), %rsp
	jmp *syscall_user_rip(%rip)
	.size syscall_entry, . - syscall_entry

/* enter_program(entry, stack): jump to the program with a clean register file. */
	.globl enter_program
	.type enter_program, @function
enter_program:
	mov %rsi, %rsp
	mov %rdi, %rcx
	xor %eax, %eax
	xor %ebx, %ebx
	xor %edx, %edx
	xor %esi, %esi
	xor %edi, %edi
	xor %ebp, %ebp
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	xor %r12d, %r12d
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %r15d, %r15d
	jmp *%rcx
	.size enter_program, . - enter_program
