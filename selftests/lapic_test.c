// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel local APIC, driven by a real-mode guest through the x2APIC
 * MSRs: an MSI from userspace wakes a halted vCPU, the APIC timer and a
 * self-IPI interrupt it, INIT/SIPI start a second vCPU, HLT sleeps in the
 * kernel; and KVM_GET/SET_LAPIC, KVM_SIGNAL_MSI, MP state with an irqchip;
 * lowest-priority arbitration as KVM's (vector hashing).
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include "kvl_test.h"

#define GUEST_MEM	0x20000
#define CODE_GPA	0x1000
#define AP_GPA		0x3000	/* SIPI vector 3 */

/*
 * x2APIC on, APIC software-enabled; port 0x10; STI; HLT; then a timer
 * (one-shot, divide 1, 200000 ns), waited for without a lost-wakeup race,
 * and a self-IPI.  Each handler writes its
 * port (0x40 -> 0x11, 0x41 -> 0x12, 0x42 -> 0x13), EOIs and returns.
 */
asm(".pushsection .rodata\n"
    ".code16\n"
    "rm_apic_begin:\n"
    KVL_RM_X2APIC_ON
    "	mov $0x7000, %sp\n"
    "	out %al, $0x10\n"
    "	sti\n"
    "	hlt\n"				/* the MSI wakes it */
    "	mov $0x83e, %ecx\n"		/* TDCR: divide by 1 */
    "	mov $0xb, %eax\n"
    "	wrmsr\n"
    "	mov $0x832, %ecx\n"		/* LVT timer: one-shot, vector 0x41 */
    "	mov $0x41, %eax\n"
    "	wrmsr\n"
    "	mov $0x838, %ecx\n"		/* TMICT */
    "	mov $200000, %eax\n"
    "	wrmsr\n"
    "2:	cli\n"				/* wait for the handler's flag; */
    "	cmpb $1, (0x6000)\n"		/* STI;HLT lets no interrupt */
    "	je 3f\n"			/* slip in between */
    "	sti\n"
    "	hlt\n"
    "	jmp 2b\n"
    "3:	sti\n"
    "	mov $0x83f, %ecx\n"		/* SELF IPI, vector 0x42 */
    "	mov $0x42, %eax\n"
    "	wrmsr\n"
    "4:	cli\n"				/* its handler's flag, as above */
    "	cmpb $1, (0x6001)\n"
    "	je 5f\n"
    "	sti\n"
    "	hlt\n"
    "	jmp 4b\n"
    "5:	out %al, $0x14\n"
    "	cli\n"
    "	hlt\n"
    "rm_apic_isr40:\n"
    "	out %al, $0x11\n"
    "	jmp rm_apic_eoi\n"
    "rm_apic_isr41:\n"
    "	movb $1, (0x6000)\n"
    "	out %al, $0x12\n"
    "	jmp rm_apic_eoi\n"
    "rm_apic_isr42:\n"
    "	movb $1, (0x6001)\n"
    "	out %al, $0x13\n"
    "rm_apic_eoi:\n"
    "	mov $0x80b, %ecx\n"
    "	xor %eax, %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    "	iret\n"
    "rm_apic_end:\n"
    /* BSP: INIT to APIC 1, port 0x10; SIPI (vector 3), port 0x11; halt */
    "rm_mp_begin:\n"
    KVL_RM_X2APIC_ON
    "	mov $0x830, %ecx\n"		/* ICR: INIT, assert, dest 1 */
    "	mov $0x4500, %eax\n"
    "	mov $1, %edx\n"
    "	wrmsr\n"
    "	out %al, $0x10\n"
    "	mov $0x830, %ecx\n"		/* ICR: SIPI vector 3, dest 1 */
    "	mov $0x4603, %eax\n"
    "	mov $1, %edx\n"
    "	wrmsr\n"
    "	out %al, $0x11\n"
    "	cli\n"
    "	hlt\n"
    "rm_mp_end:\n"
    "rm_ap_begin:\n"
    "	mov %cs, %ax\n"
    "	out %ax, $0x30\n"			/* not 0x20: that is the PIC's */
    "	cli\n"
    "	hlt\n"
    "rm_ap_end:\n"
    ".code64\n"
    ".popsection\n");
extern const unsigned char rm_apic_begin[], rm_apic_isr40[], rm_apic_isr41[],
	rm_apic_isr42[], rm_apic_end[], rm_mp_begin[], rm_mp_end[], rm_ap_begin[], rm_ap_end[];

/*
 * QEMU's kvmvapic interface.  The xAPIC page moves to 0x80000, outside
 * guest memory and within real mode's reach, and is software-enabled;
 * the guest writes TPR 0x50 into the vAPIC word at 0x5000 (port 0x10),
 * reads the word back (port 0x11, its value as the data), then (the
 * word off) writes TPR 0x40 and reads it through the page (port 0x12
 * with it in EBX).
 */
asm(".pushsection .rodata\n"
    ".code16\n"
    "rm_vapic_begin:\n"
    "	mov $0x1b, %ecx\n"
    "	rdmsr\n"
    "	and $0xfff, %eax\n"
    "	or $0x80000, %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    "	mov $0x8000, %ax\n"
    "	mov %ax, %es\n"
    "	movl $0x1ff, %es:(0xf0)\n"		/* SVR: software-enabled */
    "	movb $0x50, (0x5000)\n"
    "	out %al, $0x10\n"
    "	mov (0x5000), %eax\n"
    "	out %eax, $0x11\n"
    "rm_vapic_tpr_write:\n"
    "	movl $0x40, %es:(0x80)\n"
    "rm_vapic_tpr_read:\n"
    "	mov %es:(0x80), %ebx\n"
    "	out %al, $0x12\n"
    "	cli\n"
    "	hlt\n"
    "rm_vapic_end:\n"
    ".code64\n"
    ".popsection\n");
extern const unsigned char rm_vapic_begin[], rm_vapic_tpr_write[], rm_vapic_tpr_read[],
	rm_vapic_end[];

static void set_ivt(unsigned char *mem, int vec, const unsigned char *handler)
{
	kvl_rm_set_ivt(mem, vec, CODE_GPA + (handler - rm_apic_begin));
}

/* A VM with an in-kernel irqchip, @n vCPUs, guest code at CODE_GPA. */
struct irq_vm {
	int sys, vm, vcpu[2];
	struct kvm_run *run[2];
	unsigned char *mem;
};

static int irq_vm_create(struct irq_vm *v, int n, const void *code, size_t len)
{
	struct kvm_userspace_memory_region slot = { .memory_size = GUEST_MEM };
	int i;

	memset(v, 0, sizeof(*v));
	v->sys = kvl_open(O_RDWR);
	if (v->sys < 0)
		return -1;
	v->vm = ioctl(v->sys, KVM_CREATE_VM, 0);
	if (v->vm < 0 || ioctl(v->vm, KVM_CREATE_IRQCHIP, 0))
		return -1;
	v->mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->mem == MAP_FAILED)
		return -1;
	memcpy(v->mem + CODE_GPA, code, len);
	slot.userspace_addr = (uintptr_t)v->mem;
	if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &slot))
		return -1;
	for (i = 0; i < n; i++) {
		struct kvm_regs regs = { .rip = CODE_GPA, .rflags = 2 };
		struct kvm_sregs sregs;

		v->vcpu[i] = ioctl(v->vm, KVM_CREATE_VCPU, i);
		if (v->vcpu[i] < 0)
			return -1;
		v->run[i] = mmap(NULL, ioctl(v->sys, KVM_GET_VCPU_MMAP_SIZE, 0),
				 PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu[i], 0);
		if (v->run[i] == MAP_FAILED || kvl_set_supported_cpuid(v->sys, v->vcpu[i]))
			return -1;
		if (i)
			continue;	/* the AP starts where SIPI says */
		if (ioctl(v->vcpu[i], KVM_GET_SREGS, &sregs))
			return -1;
		sregs.cs.base = 0;
		sregs.cs.selector = 0;
		if (ioctl(v->vcpu[i], KVM_SET_SREGS, &sregs) || ioctl(v->vcpu[i], KVM_SET_REGS, &regs))
			return -1;
	}
	return 0;
}

static void irq_vm_destroy(struct irq_vm *v)
{
	int i;

	for (i = 0; i < 2; i++)
		if (v->vcpu[i] > 0)
			close(v->vcpu[i]);
	if (v->vm > 0)
		close(v->vm);
	if (v->sys > 0)
		close(v->sys);
	if (v->mem && v->mem != MAP_FAILED)
		munmap(v->mem, GUEST_MEM);
}

static int run_to_port(int vcpu, struct kvm_run *run)
{
	int r;

	/* KVM answers EAGAIN once a vCPU waiting for INIT/SIPI got them. */
	do {
		r = ioctl(vcpu, KVM_RUN, 0);
	} while (r && errno == EAGAIN);
	if (r)
		return -1;
	return run->exit_reason == KVM_EXIT_IO ? run->io.port : -(int)run->exit_reason - 100;
}

TEST(no_irqchip_errors)
{
	struct kvl_rm_vm v;
	struct kvm_lapic_state s;
	struct kvm_msi msi = { .address_lo = 0xfee00000, .data = 0x40 };
	const char *what;
	static const unsigned char hlt = 0xf4;

	ASSERT_EQ(0, kvl_rm_vm_create(&v, GUEST_MEM, CODE_GPA, &hlt, 1, &what));
	EXPECT_EQ(-1, ioctl(v.vcpu, KVM_GET_LAPIC, &s));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(v.vm, KVM_SIGNAL_MSI, &msi));
	EXPECT_EQ(EINVAL, errno);
	/* Too late for an irqchip once a vCPU exists. */
	EXPECT_EQ(-1, ioctl(v.vm, KVM_CREATE_IRQCHIP, 0));
	EXPECT_EQ(EINVAL, errno);
	kvl_rm_vm_destroy(&v);
}

TEST(lapic_state)
{
	struct irq_vm v;
	struct kvm_lapic_state s;
	struct kvm_mp_state mp;

	ASSERT_EQ(0, irq_vm_create(&v, 2, rm_apic_begin, rm_apic_end - rm_apic_begin));
	EXPECT_EQ(-1, ioctl(v.vm, KVM_CREATE_IRQCHIP, 0));
	EXPECT_EQ(EEXIST, errno);

	ASSERT_EQ(0, ioctl(v.vcpu[1], KVM_GET_LAPIC, &s));
	EXPECT_EQ(0x14, *(uint32_t *)(s.regs + 0x30) & 0xff);	/* version */
	EXPECT_EQ(1u << 24, *(uint32_t *)(s.regs + 0x20));	/* xAPIC ID 1 */
	EXPECT_EQ(0xff, *(uint32_t *)(s.regs + 0xf0));		/* SVR at reset */
	EXPECT_NE(0, *(uint32_t *)(s.regs + 0x320) & (1 << 16));	/* LVT timer masked */
	*(uint32_t *)(s.regs + 0x80) = 0x20;			/* TPR */
	ASSERT_EQ(0, ioctl(v.vcpu[1], KVM_SET_LAPIC, &s));
	memset(&s, 0, sizeof(s));
	ASSERT_EQ(0, ioctl(v.vcpu[1], KVM_GET_LAPIC, &s));
	EXPECT_EQ(0x20, *(uint32_t *)(s.regs + 0x80));

	/* The BSP runs, the AP waits for INIT/SIPI. */
	ASSERT_EQ(0, ioctl(v.vcpu[0], KVM_GET_MP_STATE, &mp));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, mp.mp_state);
	ASSERT_EQ(0, ioctl(v.vcpu[1], KVM_GET_MP_STATE, &mp));
	EXPECT_EQ(KVM_MP_STATE_UNINITIALIZED, mp.mp_state);
	mp.mp_state = KVM_MP_STATE_HALTED;
	EXPECT_EQ(0, ioctl(v.vcpu[1], KVM_SET_MP_STATE, &mp));
	mp.mp_state = 99;
	EXPECT_EQ(-1, ioctl(v.vcpu[1], KVM_SET_MP_STATE, &mp));
	EXPECT_EQ(EINVAL, errno);
	irq_vm_destroy(&v);
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST(msi_timer_self_ipi)
{
	struct kvm_msi msi = { .address_lo = 0xfee00000, .data = 0x40 };
	struct kvm_mp_state mp;
	struct irq_vm v;

	ASSERT_EQ(0, irq_vm_create(&v, 1, rm_apic_begin, rm_apic_end - rm_apic_begin));
	set_ivt(v.mem, 0x40, rm_apic_isr40);
	set_ivt(v.mem, 0x41, rm_apic_isr41);
	set_ivt(v.mem, 0x42, rm_apic_isr42);

	ASSERT_EQ(0x10, run_to_port(v.vcpu[0], v.run[0]));

	/* HLT with nothing pending sleeps in the kernel until a signal. */
	signal(SIGALRM, on_alarm);
	alarm(1);
	EXPECT_EQ(-1, ioctl(v.vcpu[0], KVM_RUN, 0));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(KVM_EXIT_INTR, v.run[0]->exit_reason);
	ASSERT_EQ(0, ioctl(v.vcpu[0], KVM_GET_MP_STATE, &mp));
	EXPECT_EQ(KVM_MP_STATE_HALTED, mp.mp_state);

	/* An MSI to APIC 0 wakes it: the vector 0x40 handler runs. */
	EXPECT_EQ(1, ioctl(v.vm, KVM_SIGNAL_MSI, &msi));
	EXPECT_EQ(0x11, run_to_port(v.vcpu[0], v.run[0]));
	/* The timer's handler, then the self-IPI's, then the end. */
	EXPECT_EQ(0x12, run_to_port(v.vcpu[0], v.run[0]));
	EXPECT_EQ(0x13, run_to_port(v.vcpu[0], v.run[0]));
	EXPECT_EQ(0x14, run_to_port(v.vcpu[0], v.run[0]));

	msi.flags = 2;	/* bit 0 is KVM_MSI_VALID_DEVID, taken and ignored on x86 */
	EXPECT_EQ(-1, ioctl(v.vm, KVM_SIGNAL_MSI, &msi));
	EXPECT_EQ(EINVAL, errno);
	irq_vm_destroy(&v);
}

struct ap_run {
	struct irq_vm *v;
	int port;
	uint16_t cs;
};

/* The AP's thread, as a VMM runs it: KVM_RUN again after EAGAIN. */
static void *ap_thread(void *arg)
{
	struct ap_run *ap = arg;

	ap->port = run_to_port(ap->v->vcpu[1], ap->v->run[1]);
	if (ap->port == 0x30)
		memcpy(&ap->cs, (char *)ap->v->run[1] + ap->v->run[1]->io.data_offset, 2);
	return NULL;
}

TEST(init_sipi_starts_ap)
{
	struct kvm_mp_state mp;
	struct ap_run ap = {};
	struct irq_vm v;
	pthread_t t;

	ASSERT_EQ(0, irq_vm_create(&v, 2, rm_mp_begin, rm_mp_end - rm_mp_begin));
	memcpy(v.mem + AP_GPA, rm_ap_begin, rm_ap_end - rm_ap_begin);
	ASSERT_EQ(0, ioctl(v.vcpu[1], KVM_GET_MP_STATE, &mp));
	EXPECT_EQ(KVM_MP_STATE_UNINITIALIZED, mp.mp_state);

	/* The AP waits in KVM_RUN while the BSP sends INIT, then SIPI vector 3. */
	ap.v = &v;
	ASSERT_EQ(0, pthread_create(&t, NULL, ap_thread, &ap));
	ASSERT_EQ(0x10, run_to_port(v.vcpu[0], v.run[0]));
	ASSERT_EQ(0x11, run_to_port(v.vcpu[0], v.run[0]));
	ASSERT_EQ(0, pthread_join(t, NULL));
	/* It ran from 0300:0000. */
	EXPECT_EQ(0x30, ap.port);
	EXPECT_EQ(0x300, ap.cs);
	ASSERT_EQ(0, ioctl(v.vcpu[1], KVM_GET_MP_STATE, &mp));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, mp.mp_state);
	irq_vm_destroy(&v);
}

/* Is @vec set in the IRR of a kvm_lapic_state? */
static int irr_has(const struct kvm_lapic_state *st, int vec)
{
	uint32_t w;

	memcpy(&w, st->regs + 0x200 + (vec / 32) * 0x10, 4);
	return (w >> (vec % 32)) & 1;
}

/*
 * Lowest priority to two enabled xAPICs (flat logical, LDR bits 0 and 1):
 * as KVM with vector hashing (its default), vector v goes to the
 * (v mod 2)-th; the PPR does not enter into it (vCPU 0's TPR is 0xf0).
 */
TEST(lowest_priority)
{
	struct kvm_msi msi = { .address_lo = 0xfee00000 | (0x03 << 12) | (1 << 2) };
	struct kvm_lapic_state st[2];
	struct irq_vm v;
	int i, vec;

	ASSERT_EQ(0, irq_vm_create(&v, 2, rm_ap_begin, rm_ap_end - rm_ap_begin));
	for (i = 0; i < 2; i++) {
		uint32_t spiv = 0x1ff, dfr = 0xffffffff, ldr = (1u << i) << 24, tpr = i ? 0 : 0xf0;

		ASSERT_EQ(0, ioctl(v.vcpu[i], KVM_GET_LAPIC, &st[i]));
		memcpy(st[i].regs + 0xf0, &spiv, 4);
		memcpy(st[i].regs + 0xe0, &dfr, 4);
		memcpy(st[i].regs + 0xd0, &ldr, 4);
		memcpy(st[i].regs + 0x80, &tpr, 4);
		ASSERT_EQ(0, ioctl(v.vcpu[i], KVM_SET_LAPIC, &st[i]));
	}
	for (vec = 0x40; vec < 0x44; vec++) {
		msi.data = vec | (1 << 8);	/* lowest priority, edge */
		EXPECT_EQ(1, ioctl(v.vm, KVM_SIGNAL_MSI, &msi));
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, ioctl(v.vcpu[i], KVM_GET_LAPIC, &st[i]));
	for (vec = 0x40; vec < 0x44; vec++) {
		EXPECT_EQ(vec % 2 == 0, irr_has(&st[0], vec)) TH_LOG("vector %#x", vec);
		EXPECT_EQ(vec % 2 == 1, irr_has(&st[1], vec)) TH_LOG("vector %#x", vec);
	}
	/* Fixed delivery to the same destination reaches both. */
	msi.data = 0x50;
	EXPECT_EQ(2, ioctl(v.vm, KVM_SIGNAL_MSI, &msi));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, ioctl(v.vcpu[i], KVM_GET_LAPIC, &st[i]));
		EXPECT_TRUE(irr_has(&st[i], 0x50));
	}
	irq_vm_destroy(&v);
}

static uint32_t lapic_reg(int vcpu, unsigned int reg)
{
	struct kvm_lapic_state s;

	if (ioctl(vcpu, KVM_GET_LAPIC, &s))
		return ~0u;
	return *(uint32_t *)(s.regs + reg);
}

/*
 * KVM_SET_VAPIC_ADDR and KVM_TPR_ACCESS_REPORTING, as QEMU's kvmvapic
 * uses them: the TPR is mirrored into the word around each entry and
 * exit, and TPR accesses through the xAPIC page exit with their RIP.
 */
TEST(vapic)
{
	struct kvl_rm_vm rv;
	struct irq_vm v;
	struct kvm_vapic_addr va = { .vapic_addr = 0x5000 };
	struct kvm_tpr_access_ctl tac = { .enabled = 1, .flags = 1 };
	struct kvm_lapic_state s;
	struct kvm_regs regs;
	const char *what;
	static const unsigned char hlt = 0xf4;
	uint32_t word;

	/* No in-kernel LAPIC: EINVAL. */
	ASSERT_EQ(0, kvl_rm_vm_create(&rv, GUEST_MEM, CODE_GPA, &hlt, 1, &what));
	EXPECT_EQ(-1, ioctl(rv.vcpu, KVM_SET_VAPIC_ADDR, &va));
	EXPECT_EQ(EINVAL, errno);
	kvl_rm_vm_destroy(&rv);

	ASSERT_EQ(0, irq_vm_create(&v, 1, rm_vapic_begin, rm_vapic_end - rm_vapic_begin));
	va.vapic_addr = 0x100000;		/* no memory there */
	EXPECT_EQ(-1, ioctl(v.vcpu[0], KVM_SET_VAPIC_ADDR, &va));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(v.vcpu[0], KVM_TPR_ACCESS_REPORTING, &tac));
	EXPECT_EQ(EINVAL, errno);
	va.vapic_addr = 0x5000;
	ASSERT_EQ(0, ioctl(v.vcpu[0], KVM_SET_VAPIC_ADDR, &va));

	/* The guest's word becomes the TPR after an exit. */
	ASSERT_EQ(0x10, run_to_port(v.vcpu[0], v.run[0]));
	EXPECT_EQ(0x50, lapic_reg(v.vcpu[0], 0x80));
	/* And the TPR goes into the word before an entry. */
	ASSERT_EQ(0, ioctl(v.vcpu[0], KVM_GET_LAPIC, &s));
	*(uint32_t *)(s.regs + 0x80) = 0x30;
	ASSERT_EQ(0, ioctl(v.vcpu[0], KVM_SET_LAPIC, &s));
	ASSERT_EQ(0x11, run_to_port(v.vcpu[0], v.run[0]));
	memcpy(&word, (char *)v.run[0] + v.run[0]->io.data_offset, sizeof(word));
	EXPECT_EQ(0x30, word & 0xff);
	EXPECT_EQ(0x30, lapic_reg(v.vcpu[0], 0x80));

	/*
	 * Off again: while it is on the word is the TPR (KVM mirrors the
	 * register into it only when it evaluates interrupts).
	 */
	va.vapic_addr = 0;
	ASSERT_EQ(0, ioctl(v.vcpu[0], KVM_SET_VAPIC_ADDR, &va));
	/* KVM reports TPR accesses only while they are not accelerated. */
	if (ioctl(v.sys, KVM_CHECK_EXTENSION, KVM_CAP_VAPIC) > 0) {
		tac.flags = 0;
		ASSERT_EQ(0, ioctl(v.vcpu[0], KVM_TPR_ACCESS_REPORTING, &tac));
		ASSERT_EQ(0, ioctl(v.vcpu[0], KVM_RUN, 0));
		ASSERT_EQ(KVM_EXIT_TPR_ACCESS, v.run[0]->exit_reason);
		EXPECT_EQ(CODE_GPA + (rm_vapic_tpr_write - rm_vapic_begin),
			  v.run[0]->tpr_access.rip);
		EXPECT_EQ(1, v.run[0]->tpr_access.is_write);
		ASSERT_EQ(0, ioctl(v.vcpu[0], KVM_RUN, 0));
		ASSERT_EQ(KVM_EXIT_TPR_ACCESS, v.run[0]->exit_reason);
		EXPECT_EQ(CODE_GPA + (rm_vapic_tpr_read - rm_vapic_begin),
			  v.run[0]->tpr_access.rip);
		EXPECT_EQ(0, v.run[0]->tpr_access.is_write);
	}
	ASSERT_EQ(0x12, run_to_port(v.vcpu[0], v.run[0]));
	ASSERT_EQ(0, ioctl(v.vcpu[0], KVM_GET_REGS, &regs));
	EXPECT_EQ(0x40, regs.rbx);
	EXPECT_EQ(0x40, lapic_reg(v.vcpu[0], 0x80));
	memcpy(&word, v.mem + 0x5000, sizeof(word));
	EXPECT_EQ(0x30, word & 0xff);		/* no longer mirrored */
	irq_vm_destroy(&v);
}

KVL_TEST_MAIN
