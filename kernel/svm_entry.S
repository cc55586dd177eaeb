/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmlite: enter an SVM guest and come back.
 *
 * void kvl_svm_enter(unsigned long vmcb_pa, unsigned long *regs,
 *		      unsigned long host_save_pa);
 *
 * Called with GIF clear (clgi) and IRQs off.  @regs is the vCPU's GPR array
 * in enum kvl_reg order; RAX and RSP live in the VMCB.  The hidden state
 * that VMRUN does not switch (FS/GS/TR/LDTR bases, KERNEL_GS_BASE, STAR
 * family, SYSENTER MSRs) is switched with VMSAVE/VMLOAD: the host's into
 * @host_save_pa, the guest's in the VMCB itself.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>

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

	.section .text, "ax"

SYM_FUNC_START(kvl_svm_enter)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	/* 0(%rsp) = vmcb pa, 8 = host save pa, 16 = regs, 24 = shadow */
	push	%rcx
	push	%rsi
	push	%rdx
	push	%rdi

	/* Host hidden state, then the guest's. */
	mov	%rdx, %rax
	vmsave	%rax
	mov	(%rsp), %rax
	vmload	%rax

	/*
	 * GIF is clear, so STI does not let host interrupts in here; it makes
	 * host IF=1 for the guest, so physical interrupts cause #VMEXIT(INTR).
	 *
	 * Where STI goes matters under QEMU's emulated SVM, our AMD test host:
	 * it ignores the VMCB's interrupt shadow at VMRUN but carries an STI
	 * shadow over VMRUN into the guest.  So STI comes right before VMRUN
	 * only when the guest is in an interrupt shadow (its STI; HLT must not
	 * take an interrupt before the HLT), and well before it otherwise (a
	 * V_IRQ interrupt is then taken before the first guest instruction,
	 * see svm_program_virq()).  Real hardware ignores the difference.
	 */
	cmpq	$0, 24(%rsp)
	jnz	1f
	sti
1:	mov	R_RBX(%rsi), %rbx
	mov	R_RCX(%rsi), %rcx
	mov	R_RDX(%rsi), %rdx
	mov	R_RBP(%rsi), %rbp
	mov	R_R8(%rsi), %r8
	mov	R_R9(%rsi), %r9
	mov	R_R10(%rsi), %r10
	mov	R_R11(%rsi), %r11
	mov	R_R12(%rsi), %r12
	mov	R_R13(%rsi), %r13
	mov	R_R14(%rsi), %r14
	mov	R_R15(%rsi), %r15
	mov	R_RDI(%rsi), %rdi
	mov	R_RSI(%rsi), %rsi

	cmpq	$0, 24(%rsp)
	jz	2f
	sti
2:	vmrun	%rax
	cli

	/* RAX and RSP are the host's again; everything else is the guest's. */
	vmsave	%rax
	push	%rdi
	mov	24(%rsp), %rdi
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

	pop	%rax		/* vmcb pa */
	pop	%rax		/* host save pa */
	vmload	%rax
	pop	%rax		/* regs */
	add	$8, %rsp	/* shadow */

	/* Do not let guest-controlled return predictions reach the host. */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT

	/*
	 * Retbleed/SRSO on Zen: untrain the return predictor the guest may
	 * have trained, before the first RET, as KVM does (an IBPB where the
	 * host chose that instead).
	 */
#ifdef UNTRAIN_RET_VM
	UNTRAIN_RET_VM
#else
	UNTRAIN_RET
	ALTERNATIVE "", "call entry_ibpb", X86_FEATURE_IBPB_ON_VMEXIT
#endif

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
SYM_FUNC_END(kvl_svm_enter)
