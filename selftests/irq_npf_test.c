// SPDX-License-Identifier: GPL-2.0
/*
 * An interrupt whose delivery a nested page fault cuts short is delivered
 * once, not twice.  Before each of ROUNDS interrupts the host takes the
 * guest's IVT page and stack page out of the nested page tables (an
 * mprotect() round trip fires the MMU notifier; the contents stay), so the
 * delivery faults reading the vector and again pushing the frame; the
 * hypervisor must deliver it again from where the fault left it, exactly
 * once.  The handler counts and logs the return address it finds on the
 * stack: a second delivery of the same interrupt shows up as a frame that
 * returns to the handler's own first instruction (what ipi_test once saw
 * on kvmlite under QEMU's emulated SVM).  Real mode, no in-kernel irqchip:
 * userspace injects with KVM_INTERRUPT when ready_for_interrupt_injection.
 */
#include <sys/mman.h>
#include "kvl_test.h"

#define GUEST_MEM	0x10000
#define CODE_GPA	0x1000
#define STACK_TOP	0x6000		/* the frame goes to the page at 0x5000 */
#define LOG_GPA		0x8000
#define ROUNDS		200
#define VECTOR		0x40

asm(".pushsection .rodata\n"
    ".code16\n"
    "npf_begin:\n"
    "	mov $0x6000, %sp\n"
    "	xor %edi, %edi\n"			/* interrupts taken */
    "	xor %ebx, %ebx\n"			/* interrupts asked for */
    "	sti\n"
    "	nop\n"				/* past STI's shadow */
    "1:	out %al, $0x10\n"			/* ask for the next one */
    "	inc %ebx\n"
    "2:	cmp %ebx, %edi\n"			/* wait until the handler ran */
    "	jb 2b\n"
    "	cmp $200, %ebx\n"
    "	jb 1b\n"
    "	out %al, $0x11\n"			/* done */
    "	hlt\n"
    "npf_isr:\n"
    "	mov %sp, %bp\n"
    "	mov (%bp), %ax\n"			/* the return IP of this frame */
    "	mov %di, %si\n"
    "	shl $1, %si\n"
    "	mov %ax, 0x8000(%si)\n"
    "	inc %edi\n"
    "	iret\n"
    "npf_end:\n"
    ".code64\n"
    ".popsection\n");
extern const unsigned char npf_begin[], npf_isr[], npf_end[];

#define GUEST_IP(sym) (CODE_GPA + (uint16_t)((sym) - npf_begin))

/* Out of the nested page tables, contents kept: an mprotect() round trip. */
static int zap(void *page)
{
	if (mprotect(page, 4096, PROT_NONE))
		return -1;
	return mprotect(page, 4096, PROT_READ | PROT_WRITE);
}

TEST(irq_delivered_once)
{
	struct kvm_interrupt irq = { .irq = VECTOR };
	struct kvm_regs regs;
	struct kvl_rm_vm v;
	const char *what;
	uint16_t *log;
	int asked = 0, i, r;

	ASSERT_EQ(0, kvl_rm_vm_create(&v, GUEST_MEM, CODE_GPA, npf_begin, npf_end - npf_begin,
				      &what)) TH_LOG("%s: %s", what, strerror(errno));
	kvl_rm_set_ivt(v.mem, VECTOR, GUEST_IP(npf_isr));
	log = (uint16_t *)(v.mem + LOG_GPA);

	for (i = 0; i < 10 * ROUNDS; i++) {
		r = ioctl(v.vcpu, KVM_RUN, 0);
		ASSERT_EQ(0, r) TH_LOG("KVM_RUN: %s", strerror(errno));
		ASSERT_EQ(KVM_EXIT_IO, v.run->exit_reason) TH_LOG("exit %u", v.run->exit_reason);
		if (v.run->io.port == 0x11)
			break;
		ASSERT_EQ(0x10, v.run->io.port);
		ASSERT_EQ(1, v.run->ready_for_interrupt_injection);
		ASSERT_EQ(0, zap(v.mem));			/* the IVT */
		ASSERT_EQ(0, zap(v.mem + STACK_TOP - 4096));	/* the stack */
		ASSERT_EQ(0, ioctl(v.vcpu, KVM_INTERRUPT, &irq));
		asked++;
	}
	ASSERT_EQ(0x11, v.run->io.port);
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(ROUNDS, asked);
	EXPECT_EQ(ROUNDS, (uint32_t)regs.rdi) TH_LOG("interrupts taken");
	for (i = 0; i < ROUNDS && i < (int)(uint32_t)regs.rdi; i++)
		EXPECT_NE(GUEST_IP(npf_isr), log[i])
			TH_LOG("interrupt %d was delivered over its own handler's entry", i);
	kvl_rm_vm_destroy(&v);
}

KVL_TEST_MAIN
