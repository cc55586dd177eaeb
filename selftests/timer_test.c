// SPDX-License-Identifier: GPL-2.0
/*
 * Accuracy of the in-kernel LAPIC timer over a second of guest time: a
 * real-mode guest takes 1,000 interrupts of a 1 ms periodic timer, then of
 * a TSC-deadline timer re-armed 1 ms after each previous deadline, and
 * stamps the first and last with RDTSC.  999 periods must take 999 ms of
 * the guest's TSC (KVM_GET_TSC_KHZ): never less (a timer may be late, never
 * early), and at most KVL_TIMER_TOL percent more (default 50, for a loaded
 * machine; the emulated host's -icount run sets 1, where time is
 * instructions and the figure repeats run for run).
 */
#include <stdio.h>
#include <stdlib.h>
#include "kvl_test.h"

#define GUEST_MEM	0x10000
#define CODE_GPA	0x1000
#define TICKS		1000
#define PERIOD_NS	1000000	/* the APIC timer counts 1 ns per tick at divide 1, as KVM's */

/* Data page: first and last TSC, the next deadline, the mode flag. */
#define D_FIRST		0x500
#define D_LAST		0x508
#define D_DEADLINE	0x510
#define D_MODE		0x520

asm(".pushsection .rodata\n"
    ".code16\n"
    "timer_begin:\n"
    KVL_RM_X2APIC_ON
    "	mov $0x7000, %sp\n"
    "	mov $0x83e, %ecx\n"		/* TDCR: divide by 1 */
    "	mov $0xb, %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    "	xor %edi, %edi\n"
    "	cmpb $0, (0x520)\n"
    "	jne 1f\n"
    "	mov $0x832, %ecx\n"		/* LVT timer: periodic, vector 0x40 */
    "	mov $0x20040, %eax\n"
    "	wrmsr\n"
    "	mov $0x838, %ecx\n"		/* TMICT = ESI ns */
    "	mov %esi, %eax\n"
    "	wrmsr\n"
    "	jmp 2f\n"
    "1:	mov $0x832, %ecx\n"		/* LVT timer: TSC deadline, vector 0x40 */
    "	mov $0x40040, %eax\n"
    "	wrmsr\n"
    "	rdtsc\n"
    "	add %esi, %eax\n"		/* ESI = TSC ticks per period */
    "	adc $0, %edx\n"
    "	mov %eax, (0x510)\n"
    "	mov %edx, (0x514)\n"
    "	mov $0x6e0, %ecx\n"		/* IA32_TSC_DEADLINE */
    "	wrmsr\n"
    "2:	sti\n"
    "3:	hlt\n"
    "	cmp $1000, %edi\n"
    "	jb 3b\n"
    "	cli\n"
    "	mov $0x832, %ecx\n"		/* mask the timer */
    "	mov $0x10000, %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    "	out %al, $0xf0\n"
    "	hlt\n"
    "timer_isr:\n"
    "	push %eax\n"
    "	push %edx\n"
    "	push %ecx\n"
    "	rdtsc\n"
    "	mov %eax, (0x508)\n"
    "	mov %edx, (0x50c)\n"
    "	test %edi, %edi\n"
    "	jnz 1f\n"
    "	mov %eax, (0x500)\n"
    "	mov %edx, (0x504)\n"
    "1:	inc %edi\n"
    "	cmpb $0, (0x520)\n"
    "	je 2f\n"
    "	mov (0x510), %eax\n"		/* next deadline: one period after the last */
    "	mov (0x514), %edx\n"
    "	add %esi, %eax\n"
    "	adc $0, %edx\n"
    "	mov %eax, (0x510)\n"
    "	mov %edx, (0x514)\n"
    "	mov $0x6e0, %ecx\n"
    "	wrmsr\n"
    "2:	mov $0x80b, %ecx\n"		/* EOI */
    "	xor %eax, %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    "	pop %ecx\n"
    "	pop %edx\n"
    "	pop %eax\n"
    "	iret\n"
    "timer_end:\n"
    ".code64\n"
    ".popsection\n");
extern const unsigned char timer_begin[], timer_isr[], timer_end[];

/*
 * The supported CPUID, plus TSC-deadline: KVM before 6.10 leaves that bit
 * out of KVM_GET_SUPPORTED_CPUID and userspace (QEMU) sets it when
 * KVM_CAP_TSC_DEADLINE_TIMER says the LAPIC emulates it.
 */
static void set_cpuid(struct __test_metadata *_metadata, struct kvl_rm_vm *v, bool deadline)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));
	unsigned int i;

	ASSERT_NE(NULL, c);
	c->nent = 256;
	ASSERT_EQ(0, ioctl(v->sys, KVM_GET_SUPPORTED_CPUID, c));
	for (i = 0; deadline && i < c->nent; i++)
		if (c->entries[i].function == 1)
			c->entries[i].ecx |= 1u << 24;
	ASSERT_EQ(0, ioctl(v->vcpu, KVM_SET_CPUID2, c));
	free(c);
}

static double tolerance(void)
{
	const char *s = getenv("KVL_TIMER_TOL");

	return (s ? atof(s) : 50.0) / 100.0;
}

/* Run the guest in @deadline mode; returns elapsed TSC / expected TSC. */
static double run_timer(struct __test_metadata *_metadata, bool deadline)
{
	struct kvm_regs regs;
	struct kvl_rm_vm v;
	const char *what;
	uint64_t first, last;
	double ratio;
	long khz;

	ASSERT_EQ(0, kvl_rm_vm_create_flags(&v, GUEST_MEM, CODE_GPA, timer_begin,
					    timer_end - timer_begin, KVL_VM_IRQCHIP, &what))
		TH_LOG("%s: %s", what, strerror(errno));
	if (deadline && ioctl(v.sys, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) <= 0)
		SKIP(kvl_rm_vm_destroy(&v); return 0, "no KVM_CAP_TSC_DEADLINE_TIMER");
	set_cpuid(_metadata, &v, deadline);
	khz = ioctl(v.vcpu, KVM_GET_TSC_KHZ, 0);
	ASSERT_LT(0, khz) TH_LOG("KVM_GET_TSC_KHZ: %s", strerror(errno));

	kvl_rm_set_ivt(v.mem, 0x40, CODE_GPA + (timer_isr - timer_begin));
	v.mem[D_MODE] = deadline;
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rflags = 2;
	regs.rsi = deadline ? (uint64_t)khz : PERIOD_NS;	/* 1 ms of TSC is khz ticks */
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_SET_REGS, &regs));

	for (;;) {
		ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
		if (v.run->exit_reason == KVM_EXIT_IO && v.run->io.port == 0xf0)
			break;
		ASSERT_EQ(KVM_EXIT_IO, v.run->exit_reason);
		ASSERT_EQ(0xf0, v.run->io.port);
	}
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_REGS, &regs));
	ASSERT_EQ(TICKS, (uint32_t)regs.rdi);
	memcpy(&first, v.mem + D_FIRST, 8);
	memcpy(&last, v.mem + D_LAST, 8);
	ratio = (double)(last - first) / ((double)(TICKS - 1) * khz);
	printf("# %s: %d periods of 1 ms in %llu TSC ticks at %ld kHz: %.4f of the expected\n",
	       deadline ? "TSC deadline" : "periodic", TICKS - 1,
	       (unsigned long long)(last - first), khz, ratio);
	fflush(stdout);
	kvl_rm_vm_destroy(&v);
	return ratio;
}

TEST(periodic_one_second)
{
	double r = run_timer(_metadata, false);

	EXPECT_LE(0.999, r) TH_LOG("the periodic timer fired early: %.4f", r);
	EXPECT_GE(1.0 + tolerance(), r) TH_LOG("the periodic timer ran slow: %.4f", r);
}

TEST(tsc_deadline_one_second)
{
	double r = run_timer(_metadata, true);

	if (r == 0)
		return;	/* skipped */
	EXPECT_LE(0.999, r) TH_LOG("the TSC-deadline timer fired early: %.4f", r);
	EXPECT_GE(1.0 + tolerance(), r) TH_LOG("the TSC-deadline timer ran slow: %.4f", r);
}

KVL_TEST_MAIN
