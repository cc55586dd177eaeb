// SPDX-License-Identifier: GPL-2.0
/*
 * Save and restore of the in-kernel irqchip across two VMs, as a VMM's live
 * migration does it: a real-mode guest in VM A runs a periodic x2APIC timer
 * and has an IOAPIC pin routed to it; halfway through, the host moves its
 * vCPU (registers, special registers, LAPIC), the PICs, the IOAPIC, the PIT
 * and the memory into a fresh VM B.  There the timer must keep ticking and
 * the IOAPIC pin must still reach the guest with the vector programmed in
 * A; every chip read back from B must be what was written.
 */
#include <stdlib.h>
#include "kvl_test.h"

#define GUEST_MEM	0x10000
#define CODE_GPA	0x1000
#define FLAG_GPA	0x600
#define GSI		20	/* IOAPIC only: 0-15 would reach the PIC too */

asm(".pushsection .rodata\n"
    ".code16\n"
    "mig_begin:\n"
    KVL_RM_X2APIC_ON
    "	mov $0x7000, %sp\n"
    "	mov $0x83e, %ecx\n"		/* TDCR: divide by 1 */
    "	mov $0xb, %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    "	mov $0x832, %ecx\n"		/* LVT timer: periodic, vector 0x40 */
    "	mov $0x20040, %eax\n"
    "	wrmsr\n"
    "	mov $0x838, %ecx\n"		/* TMICT: 200 us */
    "	mov $200000, %eax\n"
    "	wrmsr\n"
    "	xor %edi, %edi\n"
    "	sti\n"
    "1:	hlt\n"
    "	cmp $50, %edi\n"
    "	jb 1b\n"
    "	out %al, $0x10\n"		/* the host moves us here */
    "	xor %edi, %edi\n"		/* ticks in VM B */
    "2:	hlt\n"
    "	cmp $50, %edi\n"
    "	jb 2b\n"
    "	out %al, $0x11\n"		/* the timer went on in VM B */
    "	mov $0x832, %ecx\n"		/* mask it */
    "	mov $0x10040, %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    "	out %al, $0x13\n"		/* now raise the IOAPIC pin */
    "3:	cli\n"
    "	cmpb $1, (0x600)\n"
    "	je 4f\n"
    "	sti\n"
    "	hlt\n"
    "	jmp 3b\n"
    "4:	out %al, $0x12\n"
    "	hlt\n"
    "mig_isr40:\n"
    "	inc %edi\n"
    "	jmp mig_eoi\n"
    "mig_isr45:\n"
    "	movb $1, (0x600)\n"
    "mig_eoi:\n"
    "	push %eax\n"
    "	push %ecx\n"
    "	push %edx\n"
    "	mov $0x80b, %ecx\n"
    "	xor %eax, %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    "	pop %edx\n"
    "	pop %ecx\n"
    "	pop %eax\n"
    "	iret\n"
    "mig_end:\n"
    ".code64\n"
    ".popsection\n");
extern const unsigned char mig_begin[], mig_isr40[], mig_isr45[], mig_end[];

static void vm_create(struct __test_metadata *_metadata, struct kvl_rm_vm *v)
{
	const char *what;

	ASSERT_EQ(0, kvl_rm_vm_create_flags(v, GUEST_MEM, CODE_GPA, mig_begin, mig_end - mig_begin,
					    KVL_VM_IRQCHIP | KVL_VM_PIT | KVL_VM_CPUID, &what))
		TH_LOG("%s: %s", what, strerror(errno));
}

static void run_to_port(struct __test_metadata *_metadata, struct kvl_rm_vm *v, uint16_t port)
{
	ASSERT_EQ(0, ioctl(v->vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, v->run->exit_reason);
	ASSERT_EQ(port, v->run->io.port);
}

TEST(irqchip_lapic_pit_to_a_new_vm)
{
	struct kvm_irqchip chip[3], back;
	struct kvm_lapic_state lapic, lapic_b;
	struct kvm_pit_state2 pit, pit_b;
	struct kvm_irq_level line = { .irq = GSI };
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvl_rm_vm a, b;
	int i;

	memset(chip, 0, sizeof(chip));
	memset(&back, 0, sizeof(back));

	/* VM A: the guest, vectors 0x40 (timer) and 0x45 (GSI 20, edge, APIC 0). */
	vm_create(_metadata, &a);
	kvl_rm_set_ivt(a.mem, 0x40, CODE_GPA + (mig_isr40 - mig_begin));
	kvl_rm_set_ivt(a.mem, 0x45, CODE_GPA + (mig_isr45 - mig_begin));
	chip[2].chip_id = KVM_IRQCHIP_IOAPIC;
	ASSERT_EQ(0, ioctl(a.vm, KVM_GET_IRQCHIP, &chip[2]));
	chip[2].chip.ioapic.redirtbl[GSI].bits = 0x45;
	ASSERT_EQ(0, ioctl(a.vm, KVM_SET_IRQCHIP, &chip[2]));
	run_to_port(_metadata, &a, 0x10);

	/* Complete the OUT without running on (as the upstream state_test). */
	a.run->immediate_exit = 1;
	ASSERT_EQ(-1, ioctl(a.vcpu, KVM_RUN, 0));
	ASSERT_EQ(EINTR, errno);
	a.run->immediate_exit = 0;

	/* Save A. */
	ASSERT_EQ(0, ioctl(a.vcpu, KVM_GET_REGS, &regs));
	/* Ticks can come faster than a slow emulated CPU takes them: 50 or more. */
	ASSERT_LE(50, (uint32_t)regs.rdi);
	ASSERT_EQ(0, ioctl(a.vcpu, KVM_GET_SREGS, &sregs));
	ASSERT_EQ(0xc00, sregs.apic_base & 0xc00) TH_LOG("x2APIC enabled by the guest");
	ASSERT_EQ(0, ioctl(a.vcpu, KVM_GET_LAPIC, &lapic));
	for (i = 0; i < 3; i++) {
		chip[i].chip_id = i;	/* PIC master, PIC slave, IOAPIC */
		ASSERT_EQ(0, ioctl(a.vm, KVM_GET_IRQCHIP, &chip[i]));
	}
	ASSERT_EQ(0, ioctl(a.vm, KVM_GET_PIT2, &pit));

	/* Restore into B: sregs (APIC base) before the LAPIC, as QEMU does. */
	vm_create(_metadata, &b);
	memcpy(b.mem, a.mem, GUEST_MEM);
	ASSERT_EQ(0, ioctl(b.vcpu, KVM_SET_SREGS, &sregs));
	ASSERT_EQ(0, ioctl(b.vcpu, KVM_SET_REGS, &regs));
	ASSERT_EQ(0, ioctl(b.vcpu, KVM_SET_LAPIC, &lapic));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, ioctl(b.vm, KVM_SET_IRQCHIP, &chip[i]));
	ASSERT_EQ(0, ioctl(b.vm, KVM_SET_PIT2, &pit));
	kvl_rm_vm_destroy(&a);

	/* What B holds is what was written (the volatile parts aside). */
	for (i = 0; i < 3; i++) {
		back.chip_id = i;
		ASSERT_EQ(0, ioctl(b.vm, KVM_GET_IRQCHIP, &back));
		EXPECT_EQ(0, memcmp(&back.chip, &chip[i].chip,
				    i < 2 ? sizeof(back.chip.pic) : sizeof(back.chip.ioapic)))
			TH_LOG("irqchip %d differs after the move", i);
	}
	ASSERT_EQ(0, ioctl(b.vm, KVM_GET_PIT2, &pit_b));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(pit.channels[i].mode, pit_b.channels[i].mode);
		EXPECT_EQ(pit.channels[i].count, pit_b.channels[i].count);
		EXPECT_EQ(pit.channels[i].gate, pit_b.channels[i].gate);
	}
	ASSERT_EQ(0, ioctl(b.vcpu, KVM_GET_LAPIC, &lapic_b));
	/* ID, TPR, SVR, LVT timer, divide, initial count: same; the current count runs. */
	EXPECT_EQ(0, memcmp(lapic.regs + 0x20, lapic_b.regs + 0x20, 4));
	EXPECT_EQ(0, memcmp(lapic.regs + 0x80, lapic_b.regs + 0x80, 4));
	EXPECT_EQ(0, memcmp(lapic.regs + 0xf0, lapic_b.regs + 0xf0, 4));
	EXPECT_EQ(0, memcmp(lapic.regs + 0x320, lapic_b.regs + 0x320, 4));
	EXPECT_EQ(0, memcmp(lapic.regs + 0x380, lapic_b.regs + 0x380, 4));
	EXPECT_EQ(0, memcmp(lapic.regs + 0x3e0, lapic_b.regs + 0x3e0, 4));

	/* B runs on: 50 more ticks, then the IOAPIC pin. */
	run_to_port(_metadata, &b, 0x11);
	run_to_port(_metadata, &b, 0x13);
	line.level = 1;
	ASSERT_EQ(0, ioctl(b.vm, KVM_IRQ_LINE, &line));
	line.level = 0;
	ASSERT_EQ(0, ioctl(b.vm, KVM_IRQ_LINE, &line));
	run_to_port(_metadata, &b, 0x12);
	ASSERT_EQ(0, ioctl(b.vcpu, KVM_GET_REGS, &regs));
	EXPECT_LE(50, (uint32_t)regs.rdi);

	kvl_rm_vm_destroy(&b);
}

KVL_TEST_MAIN
