// SPDX-License-Identifier: GPL-2.0
/*
 * A vCPU whose thread moves to another host CPU between every two exits:
 * the guest's registers and segments go with it (on VT-x its VMCS is
 * cleared on the old CPU and loaded on the new one), and state read or
 * written from userspace after a move is the guest's.  Skips on a host
 * with one CPU.
 */
#define _GNU_SOURCE
#include <sched.h>
#include "kvl_test.h"

#define GUEST_MEM	0x10000
#define CODE_GPA	0x1000
#define HOPS		2000
#define DS_SEL		0x1234

/* EAX = ++EBX out to port 0x10, forever; DS set to a marker first. */
asm(".pushsection .rodata\n"
    ".code16\n"
    "hop_begin:\n"
    "	xor %ebx, %ebx\n"
    "	mov $0x1234, %cx\n"
    "	mov %cx, %ds\n"
    "1:	inc %ebx\n"
    "	mov %ebx, %eax\n"
    "	out %eax, $0x10\n"
    "	jmp 1b\n"
    "hop_end:\n"
    ".code64\n"
    ".popsection\n");
extern const unsigned char hop_begin[], hop_end[];

static int hops(void)
{
	const char *e = getenv("KVL_HOPS");

	return e && atoi(e) > 0 ? atoi(e) : HOPS;
}

TEST(registers_follow_the_vcpu_across_cpus)
{
	int cpus[CPU_SETSIZE], ncpus = 0, i, n = hops();
	struct kvl_rm_vm v;
	const char *what;
	cpu_set_t allowed, one;
	uint32_t expect = 0;

	ASSERT_EQ(0, sched_getaffinity(0, sizeof(allowed), &allowed));
	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &allowed))
			cpus[ncpus++] = i;
	if (ncpus < 2)
		SKIP(return, "one CPU: nothing to move between");

	ASSERT_EQ(0, kvl_rm_vm_create(&v, GUEST_MEM, CODE_GPA, hop_begin, hop_end - hop_begin,
				      &what)) TH_LOG("%s: %s", what, strerror(errno));
	for (i = 0; i < n; i++) {
		struct kvm_regs regs;
		struct kvm_sregs sregs;
		uint32_t val;

		CPU_ZERO(&one);
		CPU_SET(cpus[i % ncpus], &one);
		ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));

		ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
		ASSERT_EQ(KVM_EXIT_IO, v.run->exit_reason);
		ASSERT_EQ(0x10, v.run->io.port);
		ASSERT_EQ(4, v.run->io.size);
		memcpy(&val, (char *)v.run + v.run->io.data_offset, 4);
		ASSERT_EQ(++expect, val) TH_LOG("hop %d", i);

		if (i % 7 == 3) {
			/* Read on this CPU what the guest left on the last one. */
			ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_SREGS, &sregs));
			ASSERT_EQ(DS_SEL, sregs.ds.selector);
			ASSERT_EQ(DS_SEL * 16, sregs.ds.base);
			ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_REGS, &regs));
			ASSERT_EQ(expect, (uint32_t)regs.rbx);
		}
		if (i % 11 == 5) {
			/* Written here, run after the next move. */
			ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_REGS, &regs));
			regs.rbx += 100;
			expect += 100;
			ASSERT_EQ(0, ioctl(v.vcpu, KVM_SET_REGS, &regs));
		}
		if (i % 13 == 6) {
			/* A full write-back of the segments, unchanged. */
			ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_SREGS, &sregs));
			ASSERT_EQ(0, ioctl(v.vcpu, KVM_SET_SREGS, &sregs));
		}
	}
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(allowed), &allowed));
	kvl_rm_vm_destroy(&v);
}

KVL_TEST_MAIN
