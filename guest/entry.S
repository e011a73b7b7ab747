/* Guest kernel entry points: boot, the one syscall stub (PVM and VMX), preemption, entering the program. */
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
	.globl syscall_user_rsp, syscall_user_rip, syscall_user_rflags, sched_kstack_top, preempt_area
sched_kstack_top:	.quad kernel_stack_top
syscall_user_rsp:	.quad 0
syscall_user_rip:	.quad 0
syscall_user_rflags:	.quad 0
preempt_area:		.quad 0	/* struct mote_preempt in the boot info (sched_init) */
preempt_ret_rip:	.quad 0

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
 * are kept in memory and we switch to the running thread's kernel stack
 * (sched_kstack_top, guest/sched.c) first. The frame pushed there holds
 * every general register of the program (struct syscall_frame in sched.h),
 * so that clone can give a new thread a copy of them.
 */
	.globl syscall_entry
	.type syscall_entry, @function
syscall_entry:
	mov %rsp, syscall_user_rsp(%rip)
	mov %rcx, syscall_user_rip(%rip)
	mov %r11, syscall_user_rflags(%rip)
	mov sched_kstack_top(%rip), %rsp
	mov %cs, %ecx
	test $3, %ecx
	jnz 1f
	lea 1f(%rip), %rcx
	mov $0x3002, %r11d
	sysretq
1:
	cld
	pushq syscall_user_rsp(%rip)
	pushq syscall_user_rip(%rip)
	pushq syscall_user_rflags(%rip)
	push %rax
	push %rdi
	push %rsi
	push %rdx
	push %r10
	push %r8
	push %r9
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	call syscall_dispatch
	.globl syscall_return
syscall_return:
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	pop %r9
	pop %r8
	pop %r10
	pop %rdx
	pop %rsi
	pop %rdi
	add $8, %rsp
	pop %r11
	pop %rcx
	mov %rcx, syscall_user_rip(%rip)
	push %r11
	popfq
	pop %rsp
	jmp *syscall_user_rip(%rip)
	.size syscall_entry, . - syscall_entry

/*
 * sched_switch(save_ksp, new_ksp): keep the callee-saved registers on this
 * kernel stack, store its rsp in *save_ksp and continue on the stack whose
 * rsp is new_ksp (saved there by an earlier sched_switch, or prepared by
 * sched_thread_create to start in thread_first_return).
 */
	.globl sched_switch
	.type sched_switch, @function
sched_switch:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, (%rdi)
	mov %rsi, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret
	.size sched_switch, . - sched_switch

/*
 * The monitor preempted the program here (struct mote_preempt in abi.h): it
 * kept the program's rip, rsp and rflags in the preempt area and left every
 * other register as the program had it. Nothing is written below the
 * program's rsp (its red zone): the first instruction moves to the running
 * thread's kernel stack, where the whole register file is saved as a struct
 * user_regs (sched.h). The FPU/AVX state is untouched here (the kernel never
 * uses it); the scheduler saves it with XSAVE when it switches threads.
 */
	.globl preempt_entry
	.type preempt_entry, @function
preempt_entry:
	mov sched_kstack_top(%rip), %rsp
	cld
	sub $24, %rsp		/* rflags, rip, rsp: filled in below */
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov preempt_area(%rip), %rax
	mov MOTE_PREEMPT_RFLAGS(%rax), %rcx
	mov %rcx, 15*8(%rsp)
	mov MOTE_PREEMPT_RIP(%rax), %rcx
	mov %rcx, 16*8(%rsp)
	mov MOTE_PREEMPT_RSP(%rax), %rcx
	mov %rcx, 17*8(%rsp)
	mov %rsp, %rdi
	call preempt_dispatch
	/* Back to the program with every register as in the struct user_regs at rsp. */
resume_frame:
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	popfq
	popq preempt_ret_rip(%rip)
	pop %rsp
	jmp *preempt_ret_rip(%rip)
	.size preempt_entry, . - preempt_entry

/*
 * resume_user(regs): leave the kernel for the program with every register
 * (rax, rcx and r11 too) from the struct user_regs at regs, which lies on
 * the running thread's kernel stack (a signal's handler, rt_sigreturn).
 */
	.globl resume_user
	.type resume_user, @function
resume_user:
	mov %rdi, %rsp
	jmp resume_frame
	.size resume_user, . - resume_user

/* A new thread's first run: its syscall frame (a copy of its creator's) returns 0 from clone. */
	.globl thread_first_return
	.type thread_first_return, @function
thread_first_return:
	xor %eax, %eax
	jmp syscall_return
	.size thread_first_return, . - thread_first_return

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
