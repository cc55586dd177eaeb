/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code pieces shared by the selftests and the benchmarks. */
#ifndef KVL_GUEST_H
#define KVL_GUEST_H

/*
 * Real-mode guest code (an asm string piece): switch the local APIC to
 * x2APIC mode (IA32_APIC_BASE.EN|EXTD) and software-enable it (SVR =
 * 0x1ff, spurious vector 0xff).  Clobbers EAX, ECX, EDX.  The vCPU's CPUID
 * must offer x2APIC (KVM_GET_SUPPORTED_CPUID does).
 */
#define KVL_RM_X2APIC_ON			\
	"	mov $0x1b, %ecx\n"		\
	"	rdmsr\n"			\
	"	or $0xc00, %eax\n"		\
	"	wrmsr\n"			\
	"	mov $0x80f, %ecx\n"		\
	"	mov $0x1ff, %eax\n"		\
	"	xor %edx, %edx\n"		\
	"	wrmsr\n"

#endif
