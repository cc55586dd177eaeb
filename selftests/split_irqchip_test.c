// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_CAP_SPLIT_IRQCHIP, as QEMU's -M microvm and kernel-irqchip=split use
 * it: LAPICs in the kernel, the IOAPIC and PIC in userspace.  The IOAPIC's
 * interrupts arrive as MSI routes of the reserved GSIs and their level
 * EOIs come back as KVM_EXIT_IOAPIC_EOI; the PIC's go in by KVM_INTERRUPT
 * through LINT0 in ExtINT mode, with request_interrupt_window.
 *
 *   split_irqchip_test [/dev/kvmlite | /dev/kvm]
 */
#include "kvl_test.h"

#define GUEST_MEM	0x10000
#define CODE_GPA	0x1000

/*
 * x2APIC on; port 0x10 with IF set, then a wait for a level MSI (vector
 * 0x45), whose handler writes port 0x11 and EOIs.  Port 0x13, a wait for
 * an edge MSI (0x46): handler port 0x14 and EOI.  LVT0 to ExtINT, CLI,
 * port 0x15, STI, a wait for the ExtINT (0x30): handler port 0x16.  Then
 * port 0x17.  Each handler sets its flag at 0x6000 + n for the wait.
 */
asm(".pushsection .rodata\n"
    ".code16\n"
    "split_begin:\n"
    KVL_RM_X2APIC_ON
    "	mov $0x7000, %sp\n"
    "	sti\n"
    "	out %al, $0x10\n"
    "1:	cmpb $0, (0x6000)\n"
    "	je 1b\n"
    "	out %al, $0x13\n"
    "2:	cmpb $0, (0x6001)\n"
    "	je 2b\n"
    "	mov $0x835, %ecx\n"		/* LVT0: ExtINT, unmasked */
    "	mov $0x700, %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    "	cli\n"
    "	out %al, $0x15\n"
    "	sti\n"
    "3:	cmpb $0, (0x6002)\n"
    "	je 3b\n"
    "	out %al, $0x17\n"
    "	cli\n"
    "	hlt\n"
    "split_isr45:\n"
    "	movb $1, (0x6000)\n"
    "	out %al, $0x11\n"
    "	jmp split_eoi\n"
    "split_isr46:\n"
    "	movb $1, (0x6001)\n"
    "	out %al, $0x14\n"
    "split_eoi:\n"
    "	mov $0x80b, %ecx\n"
    "	xor %eax, %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    "	iret\n"
    "split_isr30:\n"			/* the userspace PIC's: no LAPIC EOI */
    "	movb $1, (0x6002)\n"
    "	out %al, $0x16\n"
    "	iret\n"
    "split_end:\n"
    ".code64\n"
    ".popsection\n");
extern const unsigned char split_begin[], split_isr45[], split_isr46[], split_isr30[],
	split_end[];

static void set_ivt(unsigned char *mem, int vec, const unsigned char *handler)
{
	uint16_t *ivt = (uint16_t *)mem;

	ivt[vec * 2] = CODE_GPA + (handler - split_begin);
	ivt[vec * 2 + 1] = 0;
}

/* A VM with memory, the split irqchip (24 pins) and a vCPU with CPUID. */
static int split_vm_create(struct kvl_rm_vm *v, const char **what)
{
	if (kvl_rm_vm_create_flags(v, GUEST_MEM, CODE_GPA, split_begin, split_end - split_begin,
				   KVL_VM_SPLIT_IRQCHIP | KVL_VM_CPUID, what))
		return -1;
	set_ivt(v->mem, 0x45, split_isr45);
	set_ivt(v->mem, 0x46, split_isr46);
	set_ivt(v->mem, 0x30, split_isr30);
	return 0;
}

static int run_to_port(struct kvl_rm_vm *v)
{
	if (ioctl(v->vcpu, KVM_RUN, 0))
		return -1;
	return v->run->exit_reason == KVM_EXIT_IO ? v->run->io.port :
	       -(int)v->run->exit_reason - 100;
}

/* GSI @gsi -> MSI to APIC 0, @vector, level or edge. */
static struct kvm_irq_routing_entry msi_route(uint32_t gsi, uint8_t vector, bool level)
{
	struct kvm_irq_routing_entry e = {
		.gsi = gsi, .type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = 0xfee00000, .data = vector | (level ? 0xc000 : 0) },
	};

	return e;
}

TEST(enable_cap_errors)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 } };
	struct kvl_rm_vm v;
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	struct {
		struct kvm_irq_routing r;
		struct kvm_irq_routing_entry e[1];
	} rt = { .r = { .nr = 1 } };
	struct kvm_irq_level line = { .irq = 3, .level = 1 };
	const char *what;
	int sys, vm, vcpu;

	ASSERT_LE(1, ioctl(kvl_open(O_RDWR), KVM_CHECK_EXTENSION, KVM_CAP_SPLIT_IRQCHIP));

	sys = kvl_open(O_RDWR);
	ASSERT_LE(0, sys);
	vm = ioctl(sys, KVM_CREATE_VM, 0);
	ASSERT_LE(0, vm);
	cap.args[0] = 4097;			/* more pins than routes */
	EXPECT_EQ(-1, ioctl(vm, KVM_ENABLE_CAP, &cap));
	EXPECT_EQ(EINVAL, errno);
	cap.args[0] = 24;
	cap.flags = 1;
	EXPECT_EQ(-1, ioctl(vm, KVM_ENABLE_CAP, &cap));
	EXPECT_EQ(EINVAL, errno);
	cap.flags = 0;
	/* Once a vCPU exists it is too late. */
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, vcpu);
	EXPECT_EQ(-1, ioctl(vm, KVM_ENABLE_CAP, &cap));
	EXPECT_EQ(EEXIST, errno);
	close(vcpu);
	close(vm);
	close(sys);

	ASSERT_EQ(0, split_vm_create(&v, &what)) TH_LOG("%s: %s", what, strerror(errno));
	/* Again, and an irqchip, once it is there (and a vCPU too). */
	EXPECT_EQ(-1, ioctl(v.vm, KVM_ENABLE_CAP, &cap));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, ioctl(v.vm, KVM_CREATE_IRQCHIP, 0));
	EXPECT_EQ(EEXIST, errno);
	/* No in-kernel PIC or IOAPIC to read or route to. */
	EXPECT_EQ(-1, ioctl(v.vm, KVM_GET_IRQCHIP, &chip));
	EXPECT_EQ(ENXIO, errno);
	rt.e[0].gsi = 3;
	rt.e[0].type = KVM_IRQ_ROUTING_IRQCHIP;
	rt.e[0].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
	rt.e[0].u.irqchip.pin = 3;
	EXPECT_EQ(-1, ioctl(v.vm, KVM_SET_GSI_ROUTING, &rt));
	EXPECT_EQ(EINVAL, errno);
	/* The routing starts empty: a line reaches nothing, and is no error. */
	ASSERT_EQ(0, ioctl(v.vm, KVM_IRQ_LINE_STATUS, &line));
	EXPECT_EQ(-1, (int)line.status);
	kvl_rm_vm_destroy(&v);
}

TEST(ioapic_eoi_and_extint)
{
	struct kvl_rm_vm v;
	struct kvm_lapic_state lapic;
	struct kvm_interrupt intr = { .irq = 0x30 };
	struct kvm_irq_level line = { .irq = 5, .level = 1 };
	struct {
		struct kvm_irq_routing r;
		struct kvm_irq_routing_entry e[2];
	} rt = { .r = { .nr = 2 } };
	const char *what;

	ASSERT_EQ(0, split_vm_create(&v, &what)) TH_LOG("%s: %s", what, strerror(errno));
	/* The LAPIC is the kernel's. */
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_LAPIC, &lapic));

	/* IOAPIC pin 5 level-triggered, pin 6 edge-triggered. */
	rt.e[0] = msi_route(5, 0x45, true);
	rt.e[1] = msi_route(6, 0x46, false);
	ASSERT_EQ(0, ioctl(v.vm, KVM_SET_GSI_ROUTING, &rt));

	ASSERT_EQ(0x10, run_to_port(&v));
	ASSERT_EQ(0, ioctl(v.vm, KVM_IRQ_LINE, &line));
	ASSERT_EQ(0x11, run_to_port(&v));
	/* The handler's EOI of the level vector goes to userspace's IOAPIC. */
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IOAPIC_EOI, v.run->exit_reason);
	EXPECT_EQ(0x45, v.run->eoi.vector);
	line.level = 0;
	ASSERT_EQ(0, ioctl(v.vm, KVM_IRQ_LINE, &line));

	/* An edge interrupt's EOI stays in the kernel. */
	ASSERT_EQ(0x13, run_to_port(&v));
	line.irq = 6;
	line.level = 1;
	ASSERT_EQ(0, ioctl(v.vm, KVM_IRQ_LINE, &line));
	ASSERT_EQ(0x14, run_to_port(&v));

	/*
	 * The userspace PIC: LINT0 now takes ExtINT, but IF is clear, so
	 * not ready yet; the window opens with STI.
	 */
	ASSERT_EQ(0x15, run_to_port(&v));
	EXPECT_EQ(0, v.run->ready_for_interrupt_injection);
	v.run->request_interrupt_window = 1;
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IRQ_WINDOW_OPEN, v.run->exit_reason);
	EXPECT_EQ(1, v.run->ready_for_interrupt_injection);
	v.run->request_interrupt_window = 0;
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_INTERRUPT, &intr));
	/* One at a time. */
	EXPECT_EQ(-1, ioctl(v.vcpu, KVM_INTERRUPT, &intr));
	EXPECT_EQ(EEXIST, errno);
	intr.irq = 256;
	EXPECT_EQ(-1, ioctl(v.vcpu, KVM_INTERRUPT, &intr));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0x16, run_to_port(&v));
	ASSERT_EQ(0x17, run_to_port(&v));
	kvl_rm_vm_destroy(&v);
}

KVL_TEST_MAIN
