/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmlite: enter a VT-x guest and come back.
 *
 * int kvl_vmx_enter(unsigned long *regs, bool launched);
 *
 * Called with IRQs off and this vCPU's VMCS current on this CPU.  @regs is
 * the vCPU's GPR array in enum kvl_reg order; RSP, RIP and RFLAGS live in
 * the VMCS.  VMLAUNCH for a clear VMCS, VMRESUME for a launched one.  The
 * VM exit lands at kvl_vmx_exit (the VMCS's HOST_RIP) with RSP as written
 * to HOST_RSP here, i.e. with @regs on the top of the stack.
 *
 * Returns 0 after a VM exit (a failed VM entry that loaded the guest's
 * state counts: the exit reason says so), 1 if VMLAUNCH/VMRESUME failed
 * with a VM-instruction error (VMfailValid), 2 without a current VMCS
 * (VMfailInvalid).
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>

#define R_RAX	(0 * 8)
#define R_RBX	(1 * 8)
#define R_RCX	(2 * 8)
#define R_RDX	(3 * 8)
#define R_RSI	(4 * 8)
#define R_RDI	(5 * 8)
#define R_RBP	(6 * 8)
#define R_R8	(7 * 8)
#define R_R9	(8 * 8)
#define R_R10	(9 * 8)
#define R_R11	(10 * 8)
#define R_R12	(11 * 8)
#define R_R13	(12 * 8)
#define R_R14	(13 * 8)
#define R_R15	(14 * 8)

#define VMCS_HOST_RSP	0x6c14

	.section .text, "ax"

SYM_FUNC_START(kvl_vmx_enter)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	push	%rdi			/* regs: 0(%rsp) from here on */

	mov	$VMCS_HOST_RSP, %eax
	vmwrite	%rsp, %rax
	UNWIND_HINT_SAVE

	/* MOVs leave the flags alone: ZF says which instruction to use. */
	test	%sil, %sil

	mov	R_RAX(%rdi), %rax
	mov	R_RBX(%rdi), %rbx
	mov	R_RCX(%rdi), %rcx
	mov	R_RDX(%rdi), %rdx
	mov	R_RSI(%rdi), %rsi
	mov	R_RBP(%rdi), %rbp
	mov	R_R8(%rdi), %r8
	mov	R_R9(%rdi), %r9
	mov	R_R10(%rdi), %r10
	mov	R_R11(%rdi), %r11
	mov	R_R12(%rdi), %r12
	mov	R_R13(%rdi), %r13
	mov	R_R14(%rdi), %r14
	mov	R_R15(%rdi), %r15
	mov	R_RDI(%rdi), %rdi

	jnz	.Lresume
	vmlaunch
	jmp	.Lfail
.Lresume:
	vmresume
	jmp	.Lfail

SYM_INNER_LABEL(kvl_vmx_exit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	ENDBR
	/* RSP is HOST_RSP again; every GPR but RSP is the guest's. */
	push	%rdi
	mov	8(%rsp), %rdi
	mov	%rax, R_RAX(%rdi)
	mov	%rbx, R_RBX(%rdi)
	mov	%rcx, R_RCX(%rdi)
	mov	%rdx, R_RDX(%rdi)
	mov	%rsi, R_RSI(%rdi)
	mov	%rbp, R_RBP(%rdi)
	mov	%r8, R_R8(%rdi)
	mov	%r9, R_R9(%rdi)
	mov	%r10, R_R10(%rdi)
	mov	%r11, R_R11(%rdi)
	mov	%r12, R_R12(%rdi)
	mov	%r13, R_R13(%rdi)
	mov	%r14, R_R14(%rdi)
	mov	%r15, R_R15(%rdi)
	pop	%rax
	mov	%rax, R_RDI(%rdi)
	xor	%eax, %eax
	jmp	.Lout

.Lfail:
	/* VMfailInvalid sets CF, VMfailValid ZF. */
	mov	$1, %eax
	jnc	.Lout
	mov	$2, %eax

.Lout:
	add	$8, %rsp		/* regs */

	/* Do not let guest-controlled return predictions reach the host. */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT

	/* Leave no guest value in a register the caller might speculate on. */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d

	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(kvl_vmx_enter)
