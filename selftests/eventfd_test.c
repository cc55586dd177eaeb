// SPDX-License-Identifier: GPL-2.0
/*
 * irqfd, ioeventfd and GSI routing: a guest write to a port signals an
 * eventfd without an exit (and one that does not match still exits);
 * eventfd writes from a second thread interrupt a halted guest through an
 * IOAPIC pin and through an MSI route; a level irqfd with resample is
 * lowered and its resample eventfd signalled when the guest EOIs.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include "kvl_test.h"

#define GUEST_MEM	0x20000
#define CODE_GPA	0x1000
#define FLAGS		0x6000	/* one byte per handler */

/* out 0x42 and 0x43 to port 0x88, then out to 0x10; hlt */
asm(".pushsection .rodata\n"
    ".code16\n"
    "rm_ioev_begin:\n"
    "	mov $0x42, %al\n"
    "	out %al, $0x88\n"
    "	mov $0x43, %al\n"
    "	out %al, $0x88\n"
    "	out %al, $0x10\n"
    "	hlt\n"
    "rm_ioev_end:\n"
    /*
     * x2APIC on and enabled; out 0x10; then three times: wait (STI;HLT,
     * no lost wake-up) for the next handler's flag, out 0x20 + flag index.
     */
    "rm_irqfd_begin:\n"
    KVL_RM_X2APIC_ON
    "	mov $0x7000, %sp\n"
    "	xor %bx, %bx\n"
    "	out %al, $0x10\n"
    "1:	cli\n"
    "	cmpb $0, 0x6000(%bx)\n"
    "	jne 2f\n"
    "	sti\n"
    "	hlt\n"
    "	jmp 1b\n"
    "2:	mov %bx, %ax\n"
    "	add $0x20, %al\n"
    "	out %al, $0x11\n"
    "	inc %bx\n"
    "	cmp $3, %bx\n"
    "	jne 1b\n"
    "	cli\n"
    "	hlt\n"
    "rm_irq45:\n"
    "	movb $1, (0x6000)\n"
    "	jmp rm_eoi\n"
    "rm_irq46:\n"
    "	movb $1, (0x6001)\n"
    "	jmp rm_eoi\n"
    "rm_irq47:\n"
    "	movb $1, (0x6002)\n"
    "rm_eoi:\n"
    "	push %ecx\n"
    "	push %eax\n"
    "	push %edx\n"
    "	mov $0x80b, %ecx\n"
    "	xor %eax, %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    "	pop %edx\n"
    "	pop %eax\n"
    "	pop %ecx\n"
    "	iret\n"
    "rm_irqfd_end:\n"
    ".code64\n"
    ".popsection\n");
extern const unsigned char rm_ioev_begin[], rm_ioev_end[], rm_irqfd_begin[], rm_irq45[],
	rm_irq46[], rm_irq47[], rm_irqfd_end[];

static uint32_t io_u8(struct kvm_run *run)
{
	return *(uint8_t *)((char *)run + run->io.data_offset);
}

TEST(ioeventfd_pio)
{
	struct kvm_ioeventfd io = { .addr = 0x88, .len = 1, .datamatch = 0x42,
				    .flags = KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH };
	struct kvl_rm_vm v;
	const char *what;
	uint64_t cnt = 0;
	int efd;

	ASSERT_EQ(0, kvl_rm_vm_create(&v, GUEST_MEM, CODE_GPA, rm_ioev_begin,
				      rm_ioev_end - rm_ioev_begin, &what));
	efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	io.fd = efd;
	ASSERT_EQ(0, ioctl(v.vm, KVM_IOEVENTFD, &io));
	EXPECT_EQ(-1, ioctl(v.vm, KVM_IOEVENTFD, &io));
	EXPECT_EQ(EEXIST, errno);

	/* 0x42 matches and stays in the kernel; 0x43 does not and exits. */
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, v.run->exit_reason);
	EXPECT_EQ(0x88, v.run->io.port);
	EXPECT_EQ(0x43, io_u8(v.run));
	ASSERT_EQ(8, read(efd, &cnt, 8));
	EXPECT_EQ(1, cnt);
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	EXPECT_EQ(0x10, v.run->io.port);

	io.len = 3;
	EXPECT_EQ(-1, ioctl(v.vm, KVM_IOEVENTFD, &io));
	EXPECT_EQ(EINVAL, errno);
	io.len = 1;
	io.flags |= 1u << 7;
	EXPECT_EQ(-1, ioctl(v.vm, KVM_IOEVENTFD, &io));
	EXPECT_EQ(EINVAL, errno);
	io.flags = KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH | KVM_IOEVENTFD_FLAG_DEASSIGN;
	EXPECT_EQ(0, ioctl(v.vm, KVM_IOEVENTFD, &io));
	EXPECT_EQ(-1, ioctl(v.vm, KVM_IOEVENTFD, &io));
	EXPECT_EQ(ENOENT, errno);
	close(efd);
	kvl_rm_vm_destroy(&v);
}

static void set_ivt(unsigned char *mem, int vec, const unsigned char *handler)
{
	kvl_rm_set_ivt(mem, vec, CODE_GPA + (handler - rm_irqfd_begin));
}

static int irq_vm_create(struct kvl_rm_vm *v)
{
	const char *what;

	if (kvl_rm_vm_create_flags(v, GUEST_MEM, CODE_GPA, rm_irqfd_begin,
				   rm_irqfd_end - rm_irqfd_begin, KVL_VM_IRQCHIP | KVL_VM_CPUID,
				   &what))
		return -1;
	set_ivt(v->mem, 0x45, rm_irq45);
	set_ivt(v->mem, 0x46, rm_irq46);
	set_ivt(v->mem, 0x47, rm_irq47);
	return 0;
}

static int run_to_port(struct kvl_rm_vm *v)
{
	if (ioctl(v->vcpu, KVM_RUN, 0))
		return -1;
	if (v->run->exit_reason != KVM_EXIT_IO)
		return -100 - (int)v->run->exit_reason;
	return v->run->io.port == 0x11 ? (int)io_u8(v->run) : v->run->io.port;
}

static void *write_later(void *arg)
{
	uint64_t one = 1;

	usleep(50 * 1000);	/* let the vCPU halt first; correctness does not depend on it */
	if (write(*(int *)arg, &one, 8) != 8)
		return (void *)1;
	return NULL;
}

TEST(irqfd_routes_and_resample)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	struct {
		struct kvm_irq_routing h;
		struct kvm_irq_routing_entry e[2];
	} rt = { .h.nr = 2 };
	/* GSIs past 15: IOAPIC only (the PIC would see 0-15 too). */
	struct kvm_irqfd fd45 = { .gsi = 20 }, fd46 = { .gsi = 30 };
	struct kvm_irqfd fd47 = { .gsi = 21, .flags = KVM_IRQFD_FLAG_RESAMPLE };
	int e45 = eventfd(0, 0), e46 = eventfd(0, 0), e47 = eventfd(0, 0);
	int r47 = eventfd(0, EFD_NONBLOCK);
	struct kvl_rm_vm v;
	pthread_t t;
	uint64_t cnt;

	ASSERT_EQ(0, irq_vm_create(&v));
	/* Pin 20: edge, vector 0x45; pin 21: level, vector 0x47; both to APIC 0. */
	ASSERT_EQ(0, ioctl(v.vm, KVM_GET_IRQCHIP, &chip));
	chip.chip.ioapic.redirtbl[20].bits = 0x45;
	chip.chip.ioapic.redirtbl[21].bits = 0x47 | (1 << 15);
	ASSERT_EQ(0, ioctl(v.vm, KVM_SET_IRQCHIP, &chip));

	/* Routing: GSIs 20 and 21 to the IOAPIC, GSI 30 an MSI for vector 0x46. */
	rt.e[0] = (struct kvm_irq_routing_entry){ .gsi = 30, .type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = 0xfee00000, .data = 0x46 } };
	rt.e[1] = (struct kvm_irq_routing_entry){ .gsi = 21, .type = KVM_IRQ_ROUTING_IRQCHIP,
		.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = 21 } };
	{
		struct {
			struct kvm_irq_routing h;
			struct kvm_irq_routing_entry e[3];
		} full = { .h.nr = 3 };

		full.e[0] = rt.e[0];
		full.e[1] = rt.e[1];
		full.e[2] = (struct kvm_irq_routing_entry){ .gsi = 20,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = 20 } };
		full.e[2].u.irqchip.pin = 24;		/* no such pin */
		EXPECT_EQ(-1, ioctl(v.vm, KVM_SET_GSI_ROUTING, &full));
		EXPECT_EQ(EINVAL, errno);
		full.e[2].u.irqchip.pin = 20;
		full.e[2].type = 99;
		EXPECT_EQ(-1, ioctl(v.vm, KVM_SET_GSI_ROUTING, &full));
		EXPECT_EQ(EINVAL, errno);
		full.e[2].type = KVM_IRQ_ROUTING_IRQCHIP;
		ASSERT_EQ(0, ioctl(v.vm, KVM_SET_GSI_ROUTING, &full));
	}

	fd45.fd = e45;
	fd46.fd = e46;
	fd47.fd = e47;
	fd47.resamplefd = r47;
	ASSERT_EQ(0, ioctl(v.vm, KVM_IRQFD, &fd45));
	EXPECT_EQ(-1, ioctl(v.vm, KVM_IRQFD, &fd45));	/* one irqfd per eventfd */
	EXPECT_EQ(EBUSY, errno);
	ASSERT_EQ(0, ioctl(v.vm, KVM_IRQFD, &fd46));
	ASSERT_EQ(0, ioctl(v.vm, KVM_IRQFD, &fd47));

	ASSERT_EQ(0x10, run_to_port(&v));
	/* Each eventfd written by another thread while the vCPU sleeps in HLT. */
	ASSERT_EQ(0, pthread_create(&t, NULL, write_later, &e45));
	EXPECT_EQ(0x20, run_to_port(&v));
	pthread_join(t, NULL);
	ASSERT_EQ(0, pthread_create(&t, NULL, write_later, &e46));
	EXPECT_EQ(0x21, run_to_port(&v));
	pthread_join(t, NULL);
	ASSERT_EQ(0, pthread_create(&t, NULL, write_later, &e47));
	EXPECT_EQ(0x22, run_to_port(&v));
	pthread_join(t, NULL);
	/* The guest's EOI of the level interrupt signalled the resample eventfd. */
	EXPECT_EQ(8, read(r47, &cnt, 8));
	EXPECT_EQ(1, cnt);

	fd45.flags = KVM_IRQFD_FLAG_DEASSIGN;
	EXPECT_EQ(0, ioctl(v.vm, KVM_IRQFD, &fd45));
	fd45.flags = 1u << 5;
	EXPECT_EQ(-1, ioctl(v.vm, KVM_IRQFD, &fd45));
	EXPECT_EQ(EINVAL, errno);
	kvl_rm_vm_destroy(&v);
	close(e45);
	close(e46);
	close(e47);
	close(r47);
}

TEST(irqfd_needs_irqchip)
{
	struct kvl_rm_vm v;
	const char *what;
	static const unsigned char hlt = 0xf4;
	struct kvm_irqfd fd = { .gsi = 5 };

	ASSERT_EQ(0, kvl_rm_vm_create(&v, GUEST_MEM, CODE_GPA, &hlt, 1, &what));
	fd.fd = eventfd(0, 0);
	EXPECT_EQ(-1, ioctl(v.vm, KVM_IRQFD, &fd));
	EXPECT_EQ(EINVAL, errno);
	close(fd.fd);
	kvl_rm_vm_destroy(&v);
}

KVL_TEST_MAIN
