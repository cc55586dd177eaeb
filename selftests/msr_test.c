// SPDX-License-Identifier: GPL-2.0
/*
 * MSRs: KVM_GET_MSR_INDEX_LIST, KVM_GET/SET_MSRS from the host (stopping at
 * the first refused entry), and RDMSR/WRMSR in a real-mode guest, with #GP
 * for an MSR that does not exist and KVM's rules for the MSRs it emulates
 * (selftests/msr_probe compares the host's view MSR by MSR).
 */
#include <cpuid.h>
#include <stdlib.h>
#include "kvl_test.h"

#define GUEST_MEM	0x20000
#define CODE_GPA	0x1000

#define MSR_IA32_TSC		0x10
#define MSR_IA32_CR_PAT		0x277
#define MSR_MTRRdefType		0x2ff
#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01
#define MSR_NOT_THERE		0x12345
#define EFER_SCE		1

/*
 * WRMSR STAR; RDMSR PAT, EAX to port 0x20 and EDX to 0x21; RDMSR of an MSR
 * nobody has: the #GP handler (IVT vector 13) writes port 0x22.
 */
asm(".pushsection .rodata\n"
    ".code16\n"
    "rm_msr_begin:\n"
    "	mov $0xc0000081, %ecx\n"
    "	mov $0x12345678, %eax\n"
    "	mov $0x00230010, %edx\n"
    "	wrmsr\n"
    "	mov $0x277, %ecx\n"
    "	rdmsr\n"
    "	mov %edx, %ebx\n"
    "	mov $0x20, %dx\n"
    "	out %eax, %dx\n"
    "	mov %ebx, %eax\n"
    "	mov $0x21, %dx\n"
    "	out %eax, %dx\n"
    "	mov $0x12345, %ecx\n"
    "	rdmsr\n"
    "	mov $0x23, %dx\n"
    "	out %al, %dx\n"
    "	hlt\n"
    "rm_msr_gp:\n"
    "	mov $0x22, %dx\n"
    "	out %al, %dx\n"
    "	hlt\n"
    "rm_msr_end:\n"
    ".code64\n"
    ".popsection\n");
extern const unsigned char rm_msr_begin[], rm_msr_gp[], rm_msr_end[];

/*
 * A guest that runs the host's MSR accesses, one at a time: IN from 0x30
 * (index), 0x31 (value, low half), 0x32 (0 RDMSR, 1 WRMSR); a read
 * answers OUT 0x33 (EAX) and 0x34 (EDX), a write OUT 0x35, a #GP OUT 0x36.
 */
asm(".pushsection .rodata\n"
    ".code16\n"
    "rm_msrop_begin:\n"
    "	mov $0x30, %dx\n"
    "	in %dx, %eax\n"
    "	mov %eax, %ecx\n"
    "	mov $0x31, %dx\n"
    "	in %dx, %eax\n"
    "	mov %eax, %ebx\n"
    "	mov $0x32, %dx\n"
    "	in %dx, %eax\n"
    "	test %eax, %eax\n"
    "	jnz 1f\n"
    "	rdmsr\n"
    "	mov %edx, %ebx\n"
    "	mov $0x33, %dx\n"
    "	out %eax, %dx\n"
    "	mov %ebx, %eax\n"
    "	mov $0x34, %dx\n"
    "	out %eax, %dx\n"
    "	jmp rm_msrop_begin\n"
    "1:	mov %ebx, %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    "	mov $0x35, %dx\n"
    "	out %al, %dx\n"
    "	jmp rm_msrop_begin\n"
    "rm_msrop_gp:\n"
    "	add $6, %sp\n"
    "	mov $0x36, %dx\n"
    "	out %al, %dx\n"
    "	jmp rm_msrop_begin\n"
    "rm_msrop_end:\n"
    ".code64\n"
    ".popsection\n");
extern const unsigned char rm_msrop_begin[], rm_msrop_gp[], rm_msrop_end[];

FIXTURE(vm) {
	struct kvl_rm_vm v;
};

FIXTURE_SETUP(vm)
{
	const char *what;

	ASSERT_EQ(0, kvl_rm_vm_create(&self->v, GUEST_MEM, CODE_GPA, rm_msr_begin,
				      rm_msr_end - rm_msr_begin, &what))
		TH_LOG("%s: %s", what, strerror(errno));
	kvl_rm_set_ivt(self->v.mem, 13, CODE_GPA + (rm_msr_gp - rm_msr_begin));
}

FIXTURE_TEARDOWN(vm)
{
	kvl_rm_vm_destroy(&self->v);
}

struct msrs {
	struct kvm_msrs h;
	struct kvm_msr_entry e[4];
};

static int set_msrs(int vcpu, int n, const uint32_t *idx, const uint64_t *val)
{
	struct msrs m = { .h.nmsrs = n };
	int i;

	for (i = 0; i < n; i++) {
		m.e[i].index = idx[i];
		m.e[i].data = val[i];
	}
	return ioctl(vcpu, KVM_SET_MSRS, &m);
}

static int get_msr(int vcpu, uint32_t idx, uint64_t *val)
{
	struct msrs m = { .h.nmsrs = 1, .e[0].index = idx };
	int r = ioctl(vcpu, KVM_GET_MSRS, &m);

	*val = m.e[0].data;
	return r;
}

static uint32_t io_u32(struct kvm_run *run)
{
	return *(uint32_t *)((char *)run + run->io.data_offset);
}

TEST(index_list)
{
	struct kvm_msr_list probe = { .nmsrs = 0 }, *list;
	int sys = kvl_open(O_RDWR);
	int tsc = 0, star = 0, kvmclock = 0;
	uint32_t i;

	ASSERT_LE(0, sys);
	EXPECT_EQ(-1, ioctl(sys, KVM_GET_MSR_INDEX_LIST, &probe));
	EXPECT_EQ(E2BIG, errno);
	ASSERT_LT(0, probe.nmsrs);

	list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(uint32_t));
	ASSERT_NE(NULL, list);
	list->nmsrs = probe.nmsrs;
	ASSERT_EQ(0, ioctl(sys, KVM_GET_MSR_INDEX_LIST, list));
	EXPECT_EQ(probe.nmsrs, list->nmsrs);
	for (i = 0; i < list->nmsrs; i++) {
		tsc |= list->indices[i] == MSR_IA32_TSC;
		star |= list->indices[i] == MSR_STAR;
		kvmclock |= list->indices[i] == MSR_KVM_SYSTEM_TIME_NEW;
	}
	EXPECT_TRUE(tsc);
	EXPECT_TRUE(star);
	EXPECT_TRUE(kvmclock);
	free(list);

	EXPECT_EQ(-1, ioctl(sys, KVM_GET_MSR_INDEX_LIST, NULL));
	EXPECT_EQ(EFAULT, errno);
	close(sys);
}

TEST_F(vm, guest_rdmsr_wrmsr)
{
	struct kvm_run *run = self->v.run;
	uint64_t star;

	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
	EXPECT_EQ(0x20, run->io.port);
	EXPECT_EQ(0x00070406u, io_u32(run));	/* PAT's reset value, low half */
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
	EXPECT_EQ(0x21, run->io.port);
	EXPECT_EQ(0x00070406u, io_u32(run));

	/* The MSR that does not exist raised #GP. */
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
	EXPECT_EQ(0x22, run->io.port);

	ASSERT_EQ(1, get_msr(self->v.vcpu, MSR_STAR, &star));
	EXPECT_EQ(0x0023001012345678ull, star);
}

TEST_F(vm, host_get_set)
{
	const uint32_t idx[] = { MSR_LSTAR, MSR_NOT_THERE, MSR_STAR };
	const uint64_t val[] = { 0xffffffff81000000ull, 0, 1 };
	const uint32_t mtrr[] = { MSR_MTRRdefType };
	const uint64_t bad_mtrr[] = { 0xc02 }, good_mtrr[] = { 0xc06 };
	struct msrs big = { .h.nmsrs = 256 };
	struct kvm_sregs sregs;
	uint64_t v;

	/* Stops at the MSR nobody has: one done. */
	EXPECT_EQ(1, set_msrs(self->v.vcpu, 3, idx, val));
	ASSERT_EQ(1, get_msr(self->v.vcpu, MSR_LSTAR, &v));
	EXPECT_EQ(0xffffffff81000000ull, v);
	ASSERT_EQ(1, get_msr(self->v.vcpu, MSR_STAR, &v));
	EXPECT_EQ(0, v);

	EXPECT_EQ(0, set_msrs(self->v.vcpu, 1, mtrr, bad_mtrr));
	EXPECT_EQ(1, set_msrs(self->v.vcpu, 1, mtrr, good_mtrr));
	ASSERT_EQ(1, get_msr(self->v.vcpu, MSR_MTRRdefType, &v));
	EXPECT_EQ(0xc06, v);

	EXPECT_EQ(0, get_msr(self->v.vcpu, MSR_NOT_THERE, &v));

	/* EFER through KVM_SET_MSRS shows in the special registers. */
	{
		const uint32_t efer[] = { MSR_EFER };
		const uint64_t sce[] = { EFER_SCE }, rsvd[] = { 2 };

		EXPECT_EQ(1, set_msrs(self->v.vcpu, 1, efer, sce));
		EXPECT_EQ(0, set_msrs(self->v.vcpu, 1, efer, rsvd));
		ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_GET_SREGS, &sregs));
		EXPECT_EQ(EFER_SCE, sregs.efer);
	}

	/*
	 * The guest TSC follows a write and keeps counting.  (Newer KVMs may
	 * treat a host write as a synchronization and move it further.)
	 */
	{
		const uint32_t tsc[] = { MSR_IA32_TSC };
		const uint64_t t0[] = { 1000000000000ull };

		EXPECT_EQ(1, set_msrs(self->v.vcpu, 1, tsc, t0));
		ASSERT_EQ(1, get_msr(self->v.vcpu, MSR_IA32_TSC, &v));
		EXPECT_LE(t0[0], v);
	}

	EXPECT_EQ(-1, ioctl(self->v.vcpu, KVM_SET_MSRS, &big));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(-1, ioctl(self->v.vcpu, KVM_GET_MSRS, NULL));
	EXPECT_EQ(EFAULT, errno);
}

/*
 * One KVM_GET_MSRS of P5_MC_ADDR, the four kvmclock MSRs (old and new
 * numbers) and the TSC: KVM reads all six (P5_MC_ADDR reads 0; the
 * kvmclock MSRs are there whatever the CPUID says), so the count is 6.
 */
TEST_F(vm, get_list_with_p5_and_kvmclock)
{
	static const uint32_t idx[] = { 0, 0x11, 0x12, 0x4b564d00, 0x4b564d01, MSR_IA32_TSC };
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[6];
	} m = { .h.nmsrs = 6 };
	int i;

	for (i = 0; i < 6; i++) {
		m.e[i].index = idx[i];
		m.e[i].data = 0xdead;
	}
	ASSERT_EQ(6, ioctl(self->v.vcpu, KVM_GET_MSRS, &m));
	for (i = 0; i < 5; i++)
		EXPECT_EQ(0, m.e[i].data) TH_LOG("MSR %#x", idx[i]);
	EXPECT_NE(0xdead, m.e[5].data);
}

/* One guest RDMSR (@wr false) or WRMSR of @val: 0, or 1 for a #GP. */
static int guest_msr(struct kvl_rm_vm *v, bool wr, uint32_t idx, uint32_t val, uint64_t *out)
{
	const uint32_t in[] = { idx, val, wr };
	struct kvm_run *run = v->run;
	uint32_t lo;
	int i;

	for (i = 0; i < 3; i++) {
		if (ioctl(v->vcpu, KVM_RUN, 0) || run->exit_reason != KVM_EXIT_IO ||
		    run->io.direction != KVM_EXIT_IO_IN || run->io.port != 0x30 + i)
			return -1;
		*(uint32_t *)((char *)run + run->io.data_offset) = in[i];
	}
	if (ioctl(v->vcpu, KVM_RUN, 0) || run->exit_reason != KVM_EXIT_IO)
		return -1;
	if (run->io.port == 0x36)
		return 1;
	if (wr)
		return run->io.port == 0x35 ? 0 : -1;
	if (run->io.port != 0x33)
		return -1;
	lo = io_u32(run);
	if (ioctl(v->vcpu, KVM_RUN, 0) || run->exit_reason != KVM_EXIT_IO || run->io.port != 0x34)
		return -1;
	*out = (uint64_t)io_u32(run) << 32 | lo;
	return 0;
}

/*
 * The guest's own RDMSR/WRMSR of the MSRs KVM emulates without a vPMU or
 * machine-check setup (the same rules as from the host, less what only
 * the host may do), with the supported CPUID.
 */
TEST(guest_emulated_msrs)
{
	unsigned int a, b, c, d;
	struct kvl_rm_vm v;
	const char *what;
	uint64_t x = 0;
	bool amd;

	/* The host's vendor, which the supported CPUID passes on. */
	__cpuid(0, a, b, c, d);
	amd = b == 0x68747541;	/* "Auth"enticAMD */

	ASSERT_EQ(0, kvl_rm_vm_create(&v, GUEST_MEM, CODE_GPA, rm_msrop_begin,
				      rm_msrop_end - rm_msrop_begin, &what))
		TH_LOG("%s: %s", what, strerror(errno));
	kvl_rm_set_ivt(v.mem, 13, CODE_GPA + (rm_msrop_gp - rm_msrop_begin));
	ASSERT_EQ(0, kvl_set_supported_cpuid(v.sys, v.vcpu));

	/* P5 machine check: reads 0, no write. */
	EXPECT_EQ(0, guest_msr(&v, false, 0, 0, &x));
	EXPECT_EQ(0, x);
	EXPECT_EQ(1, guest_msr(&v, true, 0, 0, NULL));
	/* KVM's default MCG_CAP: 32 banks, no MCG_CTL, no CMCI. */
	EXPECT_EQ(0, guest_msr(&v, false, 0x179, 0, &x));
	EXPECT_EQ(32, x);
	EXPECT_EQ(1, guest_msr(&v, false, 0x17b, 0, &x));	/* MCG_CTL */
	EXPECT_EQ(1, guest_msr(&v, false, 0x280, 0, &x));	/* MC0_CTL2 */
	EXPECT_EQ(0, guest_msr(&v, false, 0x47f, 0, &x));	/* MC31_MISC */
	if (amd)	/* past bank 31 (on Intel, 0x480 is VMX_BASIC) */
		EXPECT_EQ(1, guest_msr(&v, false, 0x480, 0, &x));
	/* MCi_CTL: 0 or all ones; MCi_STATUS: 0, or anything with McStatusWrEn. */
	EXPECT_EQ(1, guest_msr(&v, true, 0x404, 5, NULL));
	EXPECT_EQ(0, guest_msr(&v, true, 0x404, 0, NULL));
	EXPECT_EQ(1, guest_msr(&v, true, 0x405, 1, NULL));
	EXPECT_EQ(0, guest_msr(&v, true, 0x405, 0, NULL));
	EXPECT_EQ(0, guest_msr(&v, true, 0xc0010015, 1 << 18, NULL));	/* HWCR */
	EXPECT_EQ(0, guest_msr(&v, false, 0xc0010015, 0, &x));
	EXPECT_EQ(1 << 18, x);
	EXPECT_EQ(!amd, guest_msr(&v, true, 0x405, 1, NULL));	/* AMD vendors only */
	EXPECT_EQ(0, guest_msr(&v, false, 0x405, 0, &x));
	EXPECT_EQ(amd, x);
	EXPECT_EQ(1, guest_msr(&v, true, 0xc0010015, 1, NULL));
	/* Host-only: SMI count and SMBASE. */
	EXPECT_EQ(0, guest_msr(&v, false, 0x34, 0, &x));
	EXPECT_EQ(1, guest_msr(&v, true, 0x34, 0, NULL));
	EXPECT_EQ(1, guest_msr(&v, false, 0x9e, 0, &x));
	/* Platform info (CPUID faulting there), misc features enables. */
	EXPECT_EQ(0, guest_msr(&v, false, 0xce, 0, &x));
	EXPECT_EQ(0x80000000ull, x);
	EXPECT_EQ(1, guest_msr(&v, true, 0xce, 0, NULL));
	EXPECT_EQ(1, guest_msr(&v, true, 0x140, 2, NULL));
	EXPECT_EQ(0, guest_msr(&v, true, 0x140, 0, NULL));
	/* Fixed values: PERF_STATUS, K7 clock control. */
	EXPECT_EQ(0, guest_msr(&v, false, 0x198, 0, &x));
	EXPECT_EQ(0x400000003e8ull, x);
	EXPECT_EQ(0, guest_msr(&v, false, 0xc001001b, 0, &x));
	EXPECT_EQ(0x20000000, x);
	/* Microcode: Linux writes 0 before reading; the write is dropped. */
	EXPECT_EQ(0, guest_msr(&v, true, 0x8b, 0, NULL));
	EXPECT_EQ(0, guest_msr(&v, false, 0x8b, 0, &x));
	EXPECT_EQ(amd ? 0x01000065 : 0x100000000ull, x);	/* KVM's per vendor */
	/* The legacy PMU without a vPMU: any write, reads 0. */
	EXPECT_EQ(0, guest_msr(&v, true, 0xc0010004, 5, NULL));
	EXPECT_EQ(0, guest_msr(&v, false, 0xc0010004, 0, &x));
	EXPECT_EQ(0, x);
	EXPECT_EQ(0, guest_msr(&v, true, 0x186, 0x430076, NULL));
	EXPECT_EQ(0, guest_msr(&v, false, 0x186, 0, &x));
	EXPECT_EQ(0, x);
	/* Never from the guest: ARCH_CAPABILITIES writes, the TSC ratio (no scaling). */
	EXPECT_EQ(1, guest_msr(&v, true, 0x10a, 0, NULL));
	EXPECT_EQ(1, guest_msr(&v, false, 0xc0000104, 0, &x));
	kvl_rm_vm_destroy(&v);
}

KVL_TEST_MAIN
