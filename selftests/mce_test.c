// SPDX-License-Identifier: GPL-2.0
/*
 * Machine checks: KVM_CAP_MCE, KVM_X86_GET_MCE_CAP_SUPPORTED,
 * KVM_X86_SETUP_MCE (bank count and capability bits), the MCG_* and MCi_*
 * MSRs from the host as QEMU sets them up, and KVM_X86_SET_MCE: corrected
 * errors fill their bank, an uncorrected one raises #MC (vector 18) in a
 * 64-bit guest with CR4.MCE, and shuts the guest down while one is in
 * progress or without CR4.MCE.
 */
#include "kvl_test.h"

#define GUEST_MEM	0x20000
#define CODE_GPA	0x1000
#define IDT_GPA		0xa000
#define MC_VECTOR	18

#define MSR_MCG_CAP	0x179
#define MSR_MCG_STATUS	0x17a
#define MSR_MCG_CTL	0x17b
#define MSR_MC0_CTL	0x400
#define MSR_MCI(b, r)	(MSR_MC0_CTL + 4 * (b) + (r))	/* r: CTL, STATUS, ADDR, MISC */

#define MCG_CTL_P	(1ULL << 8)
#define MCG_EXT_P	(1ULL << 9)
#define MCG_CMCI_P	(1ULL << 10)
#define MCG_TES_P	(1ULL << 11)
#define MCG_SER_P	(1ULL << 24)
#define MCG_LMCE_P	(1ULL << 27)
#define MCG_STATUS_RIPV	(1ULL << 0)
#define MCG_STATUS_EIPV	(1ULL << 1)
#define MCG_STATUS_MCIP	(1ULL << 2)
#define MCI_STATUS_VAL	(1ULL << 63)
#define MCI_STATUS_OVER	(1ULL << 62)
#define MCI_STATUS_UC	(1ULL << 61)
#define MCI_STATUS_EN	(1ULL << 60)
#define MCI_STATUS_PCC	(1ULL << 57)
#define MCI_STATUS_S	(1ULL << 56)

#define QEMU_BANKS	10	/* QEMU's MCE_BANKS_DEF */
#define CORRECTED	(MCI_STATUS_VAL | MCI_STATUS_EN | 0x0101)
#define UNCORRECTED	(MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | MCI_STATUS_PCC | \
			 MCI_STATUS_S | 0x0134)

/*
 * Port 0x10, then 0x11, then halt.  The #MC handler writes port 0x18 and
 * halts: nothing returns from it.
 */
asm(".pushsection .rodata\n"
    ".code64\n"
    "mce_begin:\n"
    "	mov $0x7000, %rsp\n"
    "	out %al, $0x10\n"
    "	out %al, $0x11\n"
    "	hlt\n"
    "mce_mc:\n"
    "	out %al, $0x18\n"
    "	hlt\n"
    "mce_end:\n"
    ".popsection\n");
extern const unsigned char mce_begin[], mce_mc[], mce_end[];

struct msrs {
	struct kvm_msrs h;
	struct kvm_msr_entry e[2 + 4 * 32];
};

static int get_msr(int vcpu, uint32_t index, uint64_t *data)
{
	struct msrs m = { .h.nmsrs = 1, .e[0].index = index };
	int r = ioctl(vcpu, KVM_GET_MSRS, &m);

	*data = m.e[0].data;
	return r;
}

static int set_msr(int vcpu, uint32_t index, uint64_t data)
{
	struct msrs m = { .h.nmsrs = 1, .e[0] = { .index = index, .data = data } };

	return ioctl(vcpu, KVM_SET_MSRS, &m);
}

static int setup_mce(int vcpu, uint64_t mcg_cap)
{
	return ioctl(vcpu, KVM_X86_SETUP_MCE, &mcg_cap);
}

static int set_mce(int vcpu, uint8_t bank, uint64_t status, uint64_t mcg_status,
		   uint64_t addr, uint64_t misc)
{
	struct kvm_x86_mce mce = {
		.status = status, .addr = addr, .misc = misc, .mcg_status = mcg_status,
		.bank = bank,
	};

	return ioctl(vcpu, KVM_X86_SET_MCE, &mce);
}

/* MCG_CAP as the guest reads it after KVM_X86_SETUP_MCE of @cap: AMD reserves 63:9. */
static uint64_t mcg_cap_read(uint64_t cap)
{
	return kvl_host_is_intel() ? cap : cap & 0x1ff;
}

/* KVM_RUN until the next exit: its port for KVM_EXIT_IO, else -(100 + reason). */
static int run_once(struct kvl_rm_vm *v)
{
	if (ioctl(v->vcpu, KVM_RUN, 0))
		return -1;
	return v->run->exit_reason == KVM_EXIT_IO ? v->run->io.port :
	       -(int)v->run->exit_reason - 100;
}

FIXTURE(mce) {
	struct kvl_rm_vm v;
};

/* A 64-bit guest at mce_begin with an IDT for #MC, CR4.MCE set. */
FIXTURE_SETUP(mce)
{
	struct kvm_sregs sregs;
	const char *what;

	ASSERT_EQ(0, kvl_rm_vm_create(&self->v, GUEST_MEM, CODE_GPA, mce_begin,
				      mce_end - mce_begin, &what)) TH_LOG("%s: %s", what,
									  strerror(errno));
	ASSERT_EQ(0, kvl_vm_set_mode(&self->v, KVL_MODE_LONG));
	kvl_lm_set_gate(self->v.mem, IDT_GPA, MC_VECTOR, CODE_GPA + (mce_mc - mce_begin));
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_GET_SREGS, &sregs));
	sregs.idt.base = IDT_GPA;
	sregs.idt.limit = (MC_VECTOR + 1) * 16 - 1;
	sregs.cr4 |= 0x40;	/* MCE */
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_SET_SREGS, &sregs));
}

FIXTURE_TEARDOWN(mce)
{
	kvl_rm_vm_destroy(&self->v);
}

TEST_F(mce, capabilities)
{
	struct kvl_rm_vm *v = &self->v;
	uint64_t cap = 0;

	EXPECT_EQ(32, ioctl(v->sys, KVM_CHECK_EXTENSION, KVM_CAP_MCE));
	EXPECT_EQ(32, ioctl(v->vm, KVM_CHECK_EXTENSION, KVM_CAP_MCE));
	ASSERT_EQ(0, ioctl(v->sys, KVM_X86_GET_MCE_CAP_SUPPORTED, &cap));
	TH_LOG("supported MCG_CAP bits: %#llx", (unsigned long long)cap);
	EXPECT_EQ(MCG_CTL_P | MCG_SER_P, cap & (MCG_CTL_P | MCG_SER_P));
	EXPECT_EQ(0, cap & 0xff);	/* the bank count is KVM_CAP_MCE's */
	if (!kvl_host_is_intel())
		EXPECT_EQ(MCG_CTL_P | MCG_SER_P, cap);
	/* A system ioctl only. */
	EXPECT_EQ(-1, ioctl(v->vm, KVM_X86_GET_MCE_CAP_SUPPORTED, &cap));
	EXPECT_EQ(EFAULT, ioctl(v->sys, KVM_X86_GET_MCE_CAP_SUPPORTED, NULL) ? errno : 0);
}

TEST_F(mce, setup_errors)
{
	int vcpu = self->v.vcpu;
	uint64_t val;

	/* KVM's vCPU default: 32 banks, no MCG_CTL for the guest. */
	ASSERT_EQ(1, get_msr(vcpu, MSR_MCG_CAP, &val));
	EXPECT_EQ(32, val);
	ASSERT_EQ(1, get_msr(vcpu, MSR_MCG_CTL, &val));
	EXPECT_EQ(0, val);
	EXPECT_EQ(0, set_msr(vcpu, MSR_MCG_CTL, ~0ULL));
	EXPECT_EQ(1, set_msr(vcpu, MSR_MCG_CTL, 0));

	EXPECT_EQ(-1, setup_mce(vcpu, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setup_mce(vcpu, 33));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setup_mce(vcpu, MCG_CTL_P));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setup_mce(vcpu, 4 | MCG_TES_P));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setup_mce(vcpu, 4 | MCG_EXT_P));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setup_mce(vcpu, 4 | (1ULL << 32)));
	EXPECT_EQ(EINVAL, errno);
	if (!kvl_host_is_intel()) {
		EXPECT_EQ(-1, setup_mce(vcpu, 4 | MCG_LMCE_P));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(-1, setup_mce(vcpu, 4 | MCG_CMCI_P));
		EXPECT_EQ(EINVAL, errno);
	}
	EXPECT_EQ(-1, ioctl(vcpu, KVM_X86_SETUP_MCE, NULL));
	EXPECT_EQ(EFAULT, errno);
	/* Refused: MCG_CAP as it was. */
	ASSERT_EQ(1, get_msr(vcpu, MSR_MCG_CAP, &val));
	EXPECT_EQ(32, val);

	/* MCG_EXT_CNT (23:16) is taken; on AMD, MCG_CAP keeps only bits 8:0. */
	ASSERT_EQ(0, setup_mce(vcpu, 32 | MCG_SER_P | (5 << 16)));
	ASSERT_EQ(1, get_msr(vcpu, MSR_MCG_CAP, &val));
	EXPECT_EQ(mcg_cap_read(32 | MCG_SER_P | (5 << 16)), val);
	/* MCG_CAP itself is not writable. */
	EXPECT_EQ(0, set_msr(vcpu, MSR_MCG_CAP, 32));

	/* Three banks: MCi_CTL starts all ones, the fourth bank is gone. */
	ASSERT_EQ(0, setup_mce(vcpu, 3));
	ASSERT_EQ(1, get_msr(vcpu, MSR_MCI(2, 0), &val));
	EXPECT_EQ(~0ULL, val);
	EXPECT_EQ(0, get_msr(vcpu, MSR_MCI(3, 0), &val));
	EXPECT_EQ(0, set_msr(vcpu, MSR_MCI(3, 1), 0));
	EXPECT_EQ(1, set_msr(vcpu, MSR_MCI(2, 0), 0));
	EXPECT_EQ(0, set_msr(vcpu, MSR_MCI(2, 0), 0x1234));
}

/* What QEMU does for -cpu host when CPUID has MCE and MCA. */
TEST_F(mce, qemu_sequence)
{
	int vcpu = self->v.vcpu;
	uint64_t cap, val, want = QEMU_BANKS | MCG_CTL_P | MCG_SER_P;
	struct msrs m = { .h.nmsrs = 2 + 4 * QEMU_BANKS };
	int i;

	ASSERT_EQ(32, ioctl(self->v.sys, KVM_CHECK_EXTENSION, KVM_CAP_MCE));
	ASSERT_EQ(0, ioctl(self->v.sys, KVM_X86_GET_MCE_CAP_SUPPORTED, &cap));
	ASSERT_EQ(want, want & (cap | 0xff));
	ASSERT_EQ(0, setup_mce(vcpu, want));
	m.e[0].index = MSR_MCG_STATUS;
	m.e[1].index = MSR_MCG_CTL;
	m.e[1].data = ~0ULL;
	for (i = 0; i < 4 * QEMU_BANKS; i++) {
		m.e[2 + i].index = MSR_MC0_CTL + i;
		m.e[2 + i].data = i % 4 ? 0 : ~0ULL;
	}
	EXPECT_EQ(2 + 4 * QEMU_BANKS, ioctl(vcpu, KVM_SET_MSRS, &m));
	EXPECT_EQ(2 + 4 * QEMU_BANKS, ioctl(vcpu, KVM_GET_MSRS, &m));
	EXPECT_EQ(~0ULL, m.e[1].data);
	EXPECT_EQ(~0ULL, m.e[2 + 4 * (QEMU_BANKS - 1)].data);
	ASSERT_EQ(1, get_msr(vcpu, MSR_MCG_CAP, &val));
	EXPECT_EQ(mcg_cap_read(want), val);

	/* MCG_CTL: 0 or all ones. */
	EXPECT_EQ(0, set_msr(vcpu, MSR_MCG_CTL, 0x1234));
	EXPECT_EQ(1, set_msr(vcpu, MSR_MCG_CTL, 0));
	ASSERT_EQ(1, get_msr(vcpu, MSR_MCG_CTL, &val));
	EXPECT_EQ(0, val);
}

TEST_F(mce, corrected)
{
	int vcpu = self->v.vcpu;
	uint64_t val;

	ASSERT_EQ(0, setup_mce(vcpu, QEMU_BANKS | MCG_CTL_P | MCG_SER_P));
	EXPECT_EQ(-1, set_mce(vcpu, QEMU_BANKS, CORRECTED, 0, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_mce(vcpu, 2, CORRECTED & ~MCI_STATUS_VAL, 0, 0, 0));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, set_mce(vcpu, 2, CORRECTED, 0, 0x1000, 0x86));
	ASSERT_EQ(1, get_msr(vcpu, MSR_MCI(2, 1), &val));
	EXPECT_EQ(CORRECTED, val);
	ASSERT_EQ(1, get_msr(vcpu, MSR_MCI(2, 2), &val));
	EXPECT_EQ(0x1000, val);
	ASSERT_EQ(1, get_msr(vcpu, MSR_MCI(2, 3), &val));
	EXPECT_EQ(0x86, val);
	ASSERT_EQ(1, get_msr(vcpu, MSR_MCG_STATUS, &val));
	EXPECT_EQ(0, val);

	/* A second one over it: OVER. */
	ASSERT_EQ(0, set_mce(vcpu, 2, CORRECTED, MCG_STATUS_RIPV, 0x2000, 0));
	ASSERT_EQ(1, get_msr(vcpu, MSR_MCI(2, 1), &val));
	EXPECT_EQ(CORRECTED | MCI_STATUS_OVER, val);
	ASSERT_EQ(1, get_msr(vcpu, MSR_MCI(2, 2), &val));
	EXPECT_EQ(0x2000, val);
	ASSERT_EQ(1, get_msr(vcpu, MSR_MCG_STATUS, &val));
	EXPECT_EQ(0, val);

	/* Uncorrected, no action required (UCNA): recorded, no #MC, CR4.MCE or not. */
	ASSERT_EQ(0, set_mce(vcpu, 3, MCI_STATUS_VAL | MCI_STATUS_UC | 0x10, 0, 0x3000, 0));
	ASSERT_EQ(1, get_msr(vcpu, MSR_MCI(3, 1), &val));
	EXPECT_EQ(MCI_STATUS_VAL | MCI_STATUS_UC | 0x10, val);
	/* A corrected one after it only sets OVER. */
	ASSERT_EQ(0, set_mce(vcpu, 3, CORRECTED, 0, 0x4000, 0));
	ASSERT_EQ(1, get_msr(vcpu, MSR_MCI(3, 1), &val));
	EXPECT_EQ(MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_OVER | 0x10, val);
	ASSERT_EQ(1, get_msr(vcpu, MSR_MCI(3, 2), &val));
	EXPECT_EQ(0x3000, val);
	EXPECT_EQ(0x10, run_once(&self->v));
	EXPECT_EQ(0x11, run_once(&self->v));
}

/* An uncorrected error raises #MC; another while MCIP is set, shutdown. */
TEST_F(mce, uncorrected)
{
	struct kvl_rm_vm *v = &self->v;
	uint64_t val;

	ASSERT_EQ(0, setup_mce(v->vcpu, QEMU_BANKS | MCG_CTL_P | MCG_SER_P));
	ASSERT_EQ(0x10, run_once(v));
	ASSERT_EQ(0, set_mce(v->vcpu, 1, UNCORRECTED, MCG_STATUS_MCIP | MCG_STATUS_EIPV,
			     0x5000, 0x8c));
	ASSERT_EQ(0x18, run_once(v));
	ASSERT_EQ(1, get_msr(v->vcpu, MSR_MCG_STATUS, &val));
	EXPECT_EQ(MCG_STATUS_MCIP | MCG_STATUS_EIPV, val);
	ASSERT_EQ(1, get_msr(v->vcpu, MSR_MCI(1, 1), &val));
	EXPECT_EQ(UNCORRECTED, val);
	ASSERT_EQ(1, get_msr(v->vcpu, MSR_MCI(1, 2), &val));
	EXPECT_EQ(0x5000, val);

	ASSERT_EQ(0, set_mce(v->vcpu, 4, UNCORRECTED, MCG_STATUS_MCIP | MCG_STATUS_EIPV, 0, 0));
	EXPECT_EQ(-100 - KVM_EXIT_SHUTDOWN, run_once(v));
	ASSERT_EQ(1, get_msr(v->vcpu, MSR_MCI(4, 1), &val));
	EXPECT_EQ(0, val);
}

/* Without CR4.MCE an uncorrected error shuts the guest down. */
TEST_F(mce, uncorrected_without_cr4_mce)
{
	struct kvl_rm_vm *v = &self->v;
	struct kvm_sregs sregs;
	uint64_t val;

	ASSERT_EQ(0, ioctl(v->vcpu, KVM_GET_SREGS, &sregs));
	sregs.cr4 &= ~0x40ULL;
	ASSERT_EQ(0, ioctl(v->vcpu, KVM_SET_SREGS, &sregs));
	ASSERT_EQ(0, setup_mce(v->vcpu, QEMU_BANKS | MCG_CTL_P | MCG_SER_P));
	ASSERT_EQ(0x10, run_once(v));
	ASSERT_EQ(0, set_mce(v->vcpu, 1, UNCORRECTED, MCG_STATUS_MCIP | MCG_STATUS_EIPV, 0, 0));
	EXPECT_EQ(-100 - KVM_EXIT_SHUTDOWN, run_once(v));
	ASSERT_EQ(1, get_msr(v->vcpu, MSR_MCI(1, 1), &val));
	EXPECT_EQ(0, val);
	ASSERT_EQ(1, get_msr(v->vcpu, MSR_MCG_STATUS, &val));
	EXPECT_EQ(0, val);
}

/* MCG_CTL or the bank's MCi_CTL not all ones: the uncorrected error is dropped. */
TEST_F(mce, uncorrected_reporting_off)
{
	struct kvl_rm_vm *v = &self->v;
	uint64_t val;

	ASSERT_EQ(0, setup_mce(v->vcpu, QEMU_BANKS | MCG_CTL_P | MCG_SER_P));
	ASSERT_EQ(1, set_msr(v->vcpu, MSR_MCI(1, 0), 0));
	ASSERT_EQ(0x10, run_once(v));
	ASSERT_EQ(0, set_mce(v->vcpu, 1, UNCORRECTED, MCG_STATUS_MCIP | MCG_STATUS_EIPV, 0, 0));
	ASSERT_EQ(1, set_msr(v->vcpu, MSR_MCG_CTL, 0));
	ASSERT_EQ(0, set_mce(v->vcpu, 2, UNCORRECTED, MCG_STATUS_MCIP | MCG_STATUS_EIPV, 0, 0));
	EXPECT_EQ(0x11, run_once(v));
	ASSERT_EQ(1, get_msr(v->vcpu, MSR_MCI(1, 1), &val));
	EXPECT_EQ(0, val);
	ASSERT_EQ(1, get_msr(v->vcpu, MSR_MCI(2, 1), &val));
	EXPECT_EQ(0, val);
	ASSERT_EQ(1, get_msr(v->vcpu, MSR_MCG_STATUS, &val));
	EXPECT_EQ(0, val);
}

KVL_TEST_MAIN
