/* SPDX-License-Identifier: GPL-2.0 */
/* The demo guest: real mode at 0000:1000, prints a line on COM1, halts. */
	.code16
	.text
	.globl _start
_start:
	mov	$msg, %si
1:	lodsb
	test	%al, %al
	jz	3f
	mov	%al, %bl
	mov	$0x3fd, %dx		/* LSR: wait for THRE */
2:	in	%dx, %al
	test	$0x20, %al
	jz	2b
	mov	$0x3f8, %dx
	mov	%bl, %al
	out	%al, %dx
	jmp	1b
3:	hlt
msg:
	.asciz	"Hello from a kvmlite guest: real mode, port I/O, no firmware.\n"
