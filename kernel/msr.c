// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: model-specific registers, for the guest (RDMSR/WRMSR exits) and
 * for userspace (KVM_GET_MSRS, KVM_SET_MSRS, KVM_GET_MSR_INDEX_LIST).
 *
 * The core emulates what every backend shares (APIC base, MTRRs, misc
 * enable, the kvmclock MSRs, TSC_ADJUST, machine-check reads); the backend
 * keeps what lives in its control block (EFER, PAT, the SYSCALL/SYSENTER
 * MSRs, FS/GS bases, the TSC offset).  An MSR nobody knows reads and writes
 * as #GP in the guest and stops KVM_GET/SET_MSRS at that entry, as KVM
 * (with ignore_msrs=0) does.
 *
 * Which MSRs exist, what they read and which writes they take follow KVM's
 * kvm_{get,set}_msr_common() and svm_{get,set}_msr() (Linux 6.1; checked
 * against kvm-amd by selftests/msr_probe), with KVM's PMU disabled
 * (enable_pmu=0): kvmlite has no vPMU.  Documentation/api.rst lists where
 * kvmlite differs on purpose.
 */
#include <linux/kernel.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/kvm_para.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/mce.h>
#include <asm/processor.h>
#include <asm/svm.h>
#include <asm/vmx.h>
#include "kvmlite.h"

#define KVL_MAX_MSR_ENTRIES	256	/* per ioctl: KVM's MAX_IO_MSRS */

/* What KVM_GET_MSR_INDEX_LIST offers: the MSRs a VMM saves and restores. */
static const u32 kvl_msrs_to_save[] = {
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_STAR, MSR_CSTAR, MSR_KERNEL_GS_BASE, MSR_SYSCALL_MASK, MSR_LSTAR,
	MSR_IA32_TSC, MSR_IA32_CR_PAT,
	MSR_KVM_SYSTEM_TIME, MSR_KVM_WALL_CLOCK,
	MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_WALL_CLOCK_NEW,
	MSR_IA32_TSC_ADJUST, MSR_IA32_MISC_ENABLE,
	MSR_IA32_MCG_STATUS, MSR_IA32_MCG_CTL, MSR_IA32_TSC_DEADLINE,
	MSR_IA32_ARCH_CAPABILITIES, MSR_IA32_PERF_CAPABILITIES, MSR_SMI_COUNT,
	MSR_PLATFORM_INFO, MSR_MISC_FEATURES_ENABLES, MSR_IA32_POWER_CTL,
	MSR_IA32_UCODE_REV, MSR_K7_HWCR,
};

/*
 * IA32_FEATURE_CONTROL is in KVM's to-save list without being emulated on
 * AMD: the host may read it as 0 and write 0 where the host CPU itself
 * has it (KVM's rdmsr_safe() probe at load, kvm_is_msr_to_save()).  The
 * PMU MSRs of that list are there only with a vPMU since Linux 6.2 (6.1
 * keeps them without one: Documentation/api.rst).
 */
static bool kvl_msr_host_zero(u32 msr)
{
	u64 v;

	return msr == MSR_IA32_FEAT_CTL && !rdmsrl_safe(msr, &v);
}

/* MSR_AMD64_TSC_RATIO: 8.32 fixed point, 1.0 */
#define KVL_TSC_RATIO_1		BIT_ULL(32)

static bool kvl_svm(void)
{
	return kvl_ops == &kvl_svm_backend;
}

/*
 * IA32_ARCH_CAPABILITIES as KVM computes it for a new vCPU
 * (kvm_get_arch_capabilities()): the host's bits that describe the CPU
 * rather than MSRs KVM does not virtualize, plus the "not affected" bits
 * the host kernel knows to be true.
 */
#define KVL_ARCH_CAP_PASS \
	(ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_RSBA | \
	 ARCH_CAP_SKIP_VMENTRY_L1DFLUSH | ARCH_CAP_SSB_NO | ARCH_CAP_MDS_NO | \
	 ARCH_CAP_PSCHANGE_MC_NO | ARCH_CAP_TSX_CTRL_MSR | ARCH_CAP_TAA_NO | \
	 ARCH_CAP_SBDR_SSDP_NO | ARCH_CAP_FBSDP_NO | ARCH_CAP_PSDP_NO | \
	 ARCH_CAP_FB_CLEAR | ARCH_CAP_RRSBA | ARCH_CAP_PBRSB_NO | ARCH_CAP_GDS_NO | \
	 ARCH_CAP_RFDS_NO | ARCH_CAP_RFDS_CLEAR | ARCH_CAP_BHI_NO | ARCH_CAP_ITS_NO)

static u64 kvl_arch_capabilities(void)
{
	u64 data = 0;

	if (boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES) &&
	    !rdmsrl_safe(MSR_IA32_ARCH_CAPABILITIES, &data))
		data &= KVL_ARCH_CAP_PASS;
	data |= ARCH_CAP_PSCHANGE_MC_NO;
	if (l1tf_vmx_mitigation != VMENTER_L1D_FLUSH_NEVER)
		data |= ARCH_CAP_SKIP_VMENTRY_L1DFLUSH;
	if (!boot_cpu_has_bug(X86_BUG_CPU_MELTDOWN))
		data |= ARCH_CAP_RDCL_NO;
	if (!boot_cpu_has_bug(X86_BUG_SPEC_STORE_BYPASS))
		data |= ARCH_CAP_SSB_NO;
	if (!boot_cpu_has_bug(X86_BUG_MDS))
		data |= ARCH_CAP_MDS_NO;
	if (!boot_cpu_has_bug(X86_BUG_RFDS))
		data |= ARCH_CAP_RFDS_NO;
	if (!boot_cpu_has_bug(X86_BUG_ITS))
		data |= ARCH_CAP_ITS_NO;
	if (!boot_cpu_has(X86_FEATURE_RTM))
		data &= ~ARCH_CAP_TAA_NO;
	else if (!boot_cpu_has_bug(X86_BUG_TAA))
		data |= ARCH_CAP_TAA_NO;
	if (!boot_cpu_has_bug(X86_BUG_GDS) || gds_ucode_mitigated())
		data |= ARCH_CAP_GDS_NO;
	return data;
}

void kvl_msrs_reset(struct kvl_vcpu *vcpu)
{
	struct kvl_msrs *m = &vcpu->msrs;

	memset(m, 0, sizeof(*m));
	m->apic_base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE |
		       (vcpu->id ? 0 : MSR_IA32_APICBASE_BSP);
	m->misc_enable = MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL | MSR_IA32_MISC_ENABLE_BTS_UNAVAIL;
	m->mcg_cap = KVL_MCE_BANKS;	/* no MCG_CTL_P, no CMCI, as KVM's default */
	/* KVM: svm_vcpu_reset() sets 0x01000065, VMX keeps the generic one. */
	m->ucode_rev = kvl_svm() ? 0x01000065 : 0x100000000ULL;
	m->arch_caps = kvl_arch_capabilities();
	m->platform_info = MSR_PLATFORM_INFO_CPUID_FAULT;
	m->smbase = 0x30000;
}

/*
 * IA32_TSC from the host (KVM_SET_MSRS, and 0 at vCPU creation): as KVM's
 * kvm_synchronize_tsc(), a write of 0 joins the VM's TSC timeline (the
 * offset of its last host write), so vCPUs created one after the other
 * read the same TSC; any other value starts a new timeline.  TSC_ADJUST
 * is left alone.
 */
static int kvl_tsc_host_write(struct kvl_vcpu *vcpu, u64 data)
{
	struct kvl_vm *vm = vcpu->vm;
	u64 tsc;
	int r;

	mutex_lock(&vm->lock);
	if (!data && vm->tsc_offset_set) {
		r = kvl_ops->set_msr(vcpu, MSR_IA32_TSC, rdtsc() + vm->tsc_offset, true);
	} else {
		r = kvl_ops->set_msr(vcpu, MSR_IA32_TSC, data, true);
		if (!r && !kvl_ops->get_msr(vcpu, MSR_IA32_TSC, &tsc)) {
			vm->tsc_offset = tsc - rdtsc();
			vm->tsc_offset_set = true;
		}
	}
	mutex_unlock(&vm->lock);
	return r;
}

/* A new vCPU's TSC starts at 0, on the VM's timeline. */
void kvl_tsc_vcpu_init(struct kvl_vcpu *vcpu)
{
	kvl_tsc_host_write(vcpu, 0);
}

/*
 * The guest moves its TSC by @delta (a WRMSR to IA32_TSC or TSC_ADJUST):
 * TSC_ADJUST follows (SDM 17.17.3), the host's offset stays underneath.
 */
static int kvl_tsc_guest_adjust(struct kvl_vcpu *vcpu, s64 delta)
{
	u64 tsc;

	if (kvl_ops->get_msr(vcpu, MSR_IA32_TSC, &tsc) ||
	    kvl_ops->set_msr(vcpu, MSR_IA32_TSC, tsc + delta, false))
		return 1;
	vcpu->msrs.tsc_adjust += delta;
	return 0;
}

/* The MTRR MSRs (SDM vol. 3, 12.11.1), by number. */
#define KVL_MTRR_CAP		0x0fe
#define KVL_MTRR_DEF_TYPE	0x2ff
#define KVL_MTRR_PHYS_BASE0	0x200
#define KVL_MTRR_FIX_64K	0x250
#define KVL_MTRR_FIX_16K	0x258	/* and 0x259 */
#define KVL_MTRR_FIX_4K		0x268	/* to 0x26f */

/* MTRR types: UC, WC, WT, WP, WB (SDM vol. 3, 12.11). */
static bool kvl_mtrr_type_ok(u8 t)
{
	return t < 8 && (BIT(t) & 0x73);
}

static bool kvl_mtrr_fixed_ok(u64 v)
{
	int i;

	for (i = 0; i < 8; i++)
		if (!kvl_mtrr_type_ok(v >> (i * 8)))
			return false;
	return true;
}

/* Fixed-range MTRR MSR -> index into kvl_msrs::mtrr_fixed, or -1. */
static int kvl_mtrr_fixed_index(u32 msr)
{
	switch (msr) {
	case KVL_MTRR_FIX_64K:
		return 0;
	case KVL_MTRR_FIX_16K ... KVL_MTRR_FIX_16K + 1:
		return 1 + msr - KVL_MTRR_FIX_16K;
	case KVL_MTRR_FIX_4K ... KVL_MTRR_FIX_4K + 7:
		return 3 + msr - KVL_MTRR_FIX_4K;
	default:
		return -1;
	}
}

static bool kvl_mtrr_msr(u32 msr)
{
	return msr == KVL_MTRR_CAP || msr == KVL_MTRR_DEF_TYPE ||
	       (msr >= KVL_MTRR_PHYS_BASE0 && msr < (KVL_MTRR_PHYS_BASE0 + 2 * KVL_MTRR_VAR)) ||
	       kvl_mtrr_fixed_index(msr) >= 0;
}

static int kvl_mtrr_get(struct kvl_vcpu *vcpu, u32 msr, u64 *data)
{
	struct kvl_msrs *m = &vcpu->msrs;

	if (msr == KVL_MTRR_CAP)	/* 8 variable ranges, fixed ranges, WC */
		*data = KVL_MTRR_VAR | BIT(8) | BIT(10);
	else if (msr == KVL_MTRR_DEF_TYPE)
		*data = m->mtrr_def_type;
	else if (kvl_mtrr_fixed_index(msr) >= 0)
		*data = m->mtrr_fixed[kvl_mtrr_fixed_index(msr)];
	else
		*data = m->mtrr_var[msr - KVL_MTRR_PHYS_BASE0];
	return 0;
}

static int kvl_mtrr_set(struct kvl_vcpu *vcpu, u32 msr, u64 data)
{
	struct kvl_msrs *m = &vcpu->msrs;
	u64 rsvd = ~0ULL << kvl_guest_maxphyaddr(vcpu);
	int i;

	if (msr == KVL_MTRR_CAP)
		return 1;
	if (msr == KVL_MTRR_DEF_TYPE) {
		if ((data & ~0xcffULL) || !kvl_mtrr_type_ok(data & 0xff))
			return 1;
		m->mtrr_def_type = data;
		return 0;
	}
	i = kvl_mtrr_fixed_index(msr);
	if (i >= 0) {
		if (!kvl_mtrr_fixed_ok(data))
			return 1;
		m->mtrr_fixed[i] = data;
		return 0;
	}
	i = msr - KVL_MTRR_PHYS_BASE0;
	if (i & 1) {	/* PhysMask: valid bit 11, mask from bit 12 */
		if (data & (rsvd | 0x7ff))
			return 1;
	} else {	/* PhysBase: type in 7:0 */
		if ((data & (rsvd | 0xf00)) || !kvl_mtrr_type_ok(data & 0xff))
			return 1;
	}
	m->mtrr_var[i] = data;
	return 0;
}

/* Could IA32_APIC_BASE take @val (from KVM_SET_SREGS)? */
bool kvl_apic_base_ok(struct kvl_vcpu *vcpu, u64 val)
{
	if (val & ((~0ULL << kvl_guest_maxphyaddr(vcpu)) | 0x2ff))
		return false;
	if ((val & X2APIC_ENABLE) && !(val & MSR_IA32_APICBASE_ENABLE))
		return false;
	return !((val & X2APIC_ENABLE) && vcpu->lapic && !kvl_guest_has_x2apic(vcpu));
}

/* The machine-check bank MSRs (SDM vol. 3, 16.3.2), as KVM's get/set_msr_mce(). */
#define KVL_MC0_CTL2_END	(MSR_IA32_MC0_CTL2 + KVL_MCE_BANKS)
#define KVL_MC0_CTL_END		(MSR_IA32_MC0_CTL + 4 * KVL_MCE_BANKS)

static bool kvl_mce_bank_msr(u32 msr)
{
	return (msr >= MSR_IA32_MC0_CTL && msr < KVL_MC0_CTL_END) ||
	       (msr >= MSR_IA32_MC0_CTL2 && msr < KVL_MC0_CTL2_END);
}

static int kvl_mce_get(struct kvl_vcpu *vcpu, u32 msr, u64 *data, bool host)
{
	struct kvl_msrs *m = &vcpu->msrs;
	u32 banks = m->mcg_cap & 0xff;

	if (msr >= MSR_IA32_MC0_CTL2 && msr < KVL_MC0_CTL2_END) {
		if (msr - MSR_IA32_MC0_CTL2 >= banks || (!(m->mcg_cap & MCG_CMCI_P) && !host))
			return 1;
		*data = m->mci_ctl2[msr - MSR_IA32_MC0_CTL2];
		return 0;
	}
	if (msr - MSR_IA32_MC0_CTL >= 4 * banks)
		return 1;
	*data = m->mce_banks[msr - MSR_IA32_MC0_CTL];
	return 0;
}

static int kvl_mce_set(struct kvl_vcpu *vcpu, u32 msr, u64 data, bool host)
{
	struct kvl_msrs *m = &vcpu->msrs;
	u32 banks = m->mcg_cap & 0xff, i;

	if (msr >= MSR_IA32_MC0_CTL2 && msr < KVL_MC0_CTL2_END) {
		i = msr - MSR_IA32_MC0_CTL2;
		if (i >= banks || (!(m->mcg_cap & MCG_CMCI_P) && (data || !host)))
			return 1;
		if (data & ~(MCI_CTL2_CMCI_EN | MCI_CTL2_CMCI_THRESHOLD_MASK))
			return 1;
		m->mci_ctl2[i] = data;
		return 0;
	}
	i = msr - MSR_IA32_MC0_CTL;
	if (i >= 4 * banks)
		return 1;
	/*
	 * MCi_CTL takes 0 or all ones; KVM lets bit 10 (a K8 GART workaround
	 * in Linux) and bit 0 (UnixWare) stay clear.
	 */
	if (i % 4 == 0 && data && (data | BIT_ULL(10) | 1) != ~0ULL)
		return 1;
	/* A guest may write MCi_STATUS non-zero only with HWCR.McStatusWrEn (AMD). */
	if (i % 4 == 1 && data && !host &&
	    (!(m->hwcr & BIT_ULL(18)) || !kvl_guest_is_amd(vcpu)))
		return 1;
	m->mce_banks[i] = data;
	return 0;
}

/*
 * KVM_X86_SETUP_MCE, as KVM's kvm_vcpu_ioctl_x86_setup_mce(): 1 to 32 banks,
 * the supported capability bits and MCG_EXT_CNT (23:16) only.  MCG_CTL
 * (with CTL_P) and each bank's MCi_CTL start all ones: every error
 * reported.  On SVM, MCG_CAP then keeps bits 8:0 only (AMD reserves the
 * rest: KVM's svm_setup_mce()), so SER_P is taken and dropped.
 */
int kvl_mce_setup(struct kvl_vcpu *vcpu, u64 mcg_cap)
{
	struct kvl_msrs *m = &vcpu->msrs;
	u32 banks = mcg_cap & MCG_BANKCNT_MASK, i;

	if (!banks || banks > KVL_MCE_BANKS)
		return -EINVAL;
	if (mcg_cap & ~(KVL_MCE_CAP_SUPPORTED | MCG_BANKCNT_MASK | MCG_EXT_CNT_MASK))
		return -EINVAL;
	m->mcg_cap = kvl_svm() ? mcg_cap & (MCG_CTL_P | MCG_BANKCNT_MASK) : mcg_cap;
	if (mcg_cap & MCG_CTL_P)
		m->mcg_ctl = ~0ULL;
	for (i = 0; i < banks; i++)
		m->mce_banks[4 * i] = ~0ULL;
	return 0;
}

/* Record an error in @bank (MCi_STATUS, ADDR, MISC), OVER if it held one. */
static void kvl_mce_record(u64 *bank, const struct kvm_x86_mce *mce)
{
	u64 status = mce->status;

	if (bank[1] & MCI_STATUS_VAL)
		status |= MCI_STATUS_OVER;
	bank[1] = status;
	bank[2] = mce->addr;
	bank[3] = mce->misc;
}

/*
 * KVM_X86_SET_MCE, as KVM's kvm_vcpu_ioctl_x86_set_mce().  A corrected
 * error only fills its bank, unless that holds an uncorrected one (then
 * just OVER).  So does an uncorrected one that needs no action (UCNA: no
 * MCG_STATUS, no PCC, S or AR): kvmlite offers no CMCI to signal it.  An
 * uncorrected error that reporting lets through (MCG_CTL, MCi_CTL all
 * ones) raises #MC, or shuts the guest down while one is in progress
 * (MCG_STATUS.MCIP) or CR4.MCE is clear.
 */
int kvl_mce_inject(struct kvl_vcpu *vcpu, struct kvm_x86_mce *mce)
{
	struct kvl_msrs *m = &vcpu->msrs;
	u32 banks = m->mcg_cap & MCG_BANKCNT_MASK;
	u64 *bank;

	if (mce->bank >= banks || !(mce->status & MCI_STATUS_VAL))
		return -EINVAL;
	bank = &m->mce_banks[4 * array_index_nospec(mce->bank, banks)];

	if (!(mce->status & MCI_STATUS_UC)) {
		if ((bank[1] & (MCI_STATUS_VAL | MCI_STATUS_UC)) ==
		    (MCI_STATUS_VAL | MCI_STATUS_UC))
			bank[1] |= MCI_STATUS_OVER;
		else
			kvl_mce_record(bank, mce);
		return 0;
	}
	if (!mce->mcg_status &&
	    !(mce->status & (MCI_STATUS_PCC | MCI_STATUS_S | MCI_STATUS_AR))) {
		/* UCNA: KVM writes the bank without OVER. */
		bank[1] = mce->status;
		bank[2] = mce->addr;
		bank[3] = mce->misc;
		m->mcg_status = mce->mcg_status;
		return 0;
	}
	if (((m->mcg_cap & MCG_CTL_P) && m->mcg_ctl != ~0ULL) || bank[0] != ~0ULL)
		return 0;	/* reporting disabled: dropped */
	if ((m->mcg_status & MCG_STATUS_MCIP) || !(kvl_ops->get_cr4(vcpu) & X86_CR4_MCE)) {
		set_bit(KVL_REQ_TRIPLE_FAULT, &vcpu->requests);
		return 0;
	}
	kvl_mce_record(bank, mce);
	m->mcg_status = mce->mcg_status;
	kvl_queue_exception(vcpu, MC_VECTOR, false, 0);
	return 0;
}

int kvl_get_msr(struct kvl_vcpu *vcpu, u32 index, u64 *data, bool host)
{
	struct kvl_msrs *m = &vcpu->msrs;

	if (vcpu->lapic && kvl_apic_msr(index))
		return kvl_apic_get_msr(vcpu, index, data);
	switch (index) {
	case MSR_IA32_APICBASE:
		*data = m->apic_base;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		*data = m->misc_enable;
		return 0;
	case MSR_KVM_SYSTEM_TIME:
	case MSR_KVM_SYSTEM_TIME_NEW:
		*data = m->kvmclock_system_time;
		return 0;
	case MSR_KVM_WALL_CLOCK:
	case MSR_KVM_WALL_CLOCK_NEW:
		*data = m->kvmclock_wall_clock;
		return 0;
	case MSR_IA32_TSC_ADJUST:
		*data = m->tsc_adjust;
		return 0;
	case MSR_IA32_TSC_DEADLINE:	/* without an in-kernel APIC, as KVM */
		*data = 0;
		return 0;
	case MSR_IA32_MCG_CAP:
		*data = m->mcg_cap;
		return 0;
	case MSR_IA32_MCG_STATUS:
		*data = m->mcg_status;
		return 0;
	case MSR_IA32_MCG_CTL:	/* the guest's only with MCG_CAP.CTL_P */
		if (!(m->mcg_cap & MCG_CTL_P) && !host)
			return 1;
		*data = m->mcg_ctl;
		return 0;
	case MSR_IA32_UCODE_REV:
		*data = m->ucode_rev;
		return 0;
	case MSR_K7_HWCR:
		*data = m->hwcr;
		return 0;
	case MSR_IA32_ARCH_CAPABILITIES:
		if (!host && !kvl_guest_cpuid_has(vcpu, 7, 0, 3, 29))
			return 1;
		*data = m->arch_caps;
		return 0;
	case MSR_IA32_PERF_CAPABILITIES:	/* no vPMU: nothing to report */
		if (!host && !kvl_guest_cpuid_has(vcpu, 1, 0, 2, 15))
			return 1;
		*data = 0;
		return 0;
	case MSR_PLATFORM_INFO:
		*data = m->platform_info;
		return 0;
	case MSR_MISC_FEATURES_ENABLES:
		*data = m->misc_features;
		return 0;
	case MSR_SMI_COUNT:
		*data = m->smi_count;
		return 0;
	case MSR_IA32_SMBASE:
		*data = m->smbase;
		return !host;
	case MSR_IA32_POWER_CTL:
		*data = m->power_ctl;
		return 0;
	case MSR_IA32_XSS:	/* no XSAVES state is supported: always 0 */
		*data = 0;
		return !host && !kvl_guest_cpuid_has(vcpu, 0xd, 1, 0, 3);
	case MSR_IA32_XFD:	/* no dynamic (AMX) state is supported: always 0 */
	case MSR_IA32_XFD_ERR:
		*data = 0;
		return !host && !kvl_guest_cpuid_has(vcpu, 0xd, 1, 0, 4);
	/*
	 * Kept for userspace only: the guest's own accesses #GP, as in KVM
	 * for a guest whose CPUID lacks them (kvmlite never offers them).
	 */
	case MSR_IA32_SPEC_CTRL:
		*data = m->spec_ctrl;
		return !host;
	case MSR_TSC_AUX:
		*data = m->tsc_aux;
		return !host || !(boot_cpu_has(X86_FEATURE_RDTSCP) ||
				  boot_cpu_has(X86_FEATURE_RDPID));
	case MSR_IA32_P5_MC_ADDR:
	case MSR_IA32_P5_MC_TYPE:
	case MSR_IA32_PERF_CTL:
	case MSR_AMD64_DC_CFG:
	case MSR_AMD64_TW_CFG:
	case MSR_F15H_EX_CFG:
	case MSR_FAM10H_MMIO_CONF_BASE:
	case MSR_RAPL_POWER_UNIT:
	case MSR_PP0_ENERGY_STATUS:
	case MSR_PP1_ENERGY_STATUS:
	case MSR_PKG_ENERGY_STATUS:
	case MSR_DRAM_ENERGY_STATUS:
	/* Without a vPMU the legacy counters read 0 and take any write, as KVM. */
	case MSR_K7_EVNTSEL0 ... MSR_K7_EVNTSEL3:
	case MSR_K7_PERFCTR0 ... MSR_K7_PERFCTR3:
	case MSR_P6_PERFCTR0 ... MSR_P6_PERFCTR1:
	case MSR_P6_EVNTSEL0 ... MSR_P6_EVNTSEL1:
		*data = 0;
		return 0;
	case MSR_IA32_PERF_STATUS:	/* KVM's: TSC step 1000, multiplier 4 */
		*data = 1000 | (4ULL << 40);
		return 0;
	case MSR_EBC_FREQUENCY_ID:
		*data = 1 << 24;
		return 0;
	case 0xcd:	/* FSB frequency */
		*data = 3;
		return 0;
	case MSR_K7_CLK_CTL:	/* K7 ramp-up count, as KVM */
		*data = 0x20000000;
		return 0;
	case MSR_IA32_BBL_CR_CTL3:	/* KVM's made-up L2 configuration */
		*data = 0xbe702111;
		return 0;
	case MSR_IA32_DEBUGCTLMSR:
	case MSR_IA32_PLATFORM_ID:
	case MSR_IA32_EBL_CR_POWERON:
	case MSR_IA32_LASTBRANCHFROMIP:
	case MSR_IA32_LASTBRANCHTOIP:
	case MSR_IA32_LASTINTFROMIP:
	case MSR_IA32_LASTINTTOIP:
	case MSR_AMD64_NB_CFG:
	case MSR_K8_INT_PENDING_MSG:
	case MSR_AMD64_SYSCFG:
	case MSR_K8_TSEG_ADDR:
	case MSR_K8_TSEG_MASK:
	case MSR_AMD64_BU_CFG2:
		*data = 0;	/* read as zero by KVM too */
		return 0;
	}
	if (kvl_svm()) {
		switch (index) {
		case MSR_VM_CR:
			*data = m->vm_cr;
			return 0;
		case MSR_VM_HSAVE_PA:
			*data = m->hsave_pa;
			return 0;
		case MSR_AMD64_VIRT_SPEC_CTRL:	/* for userspace only, as SPEC_CTRL */
			*data = m->virt_spec_ctrl;
			return !host;
		case MSR_AMD64_TSC_RATIO:	/* no TSC scaling: ratio 1.0 */
			*data = KVL_TSC_RATIO_1;
			return !host;
		}
	}
	if (kvl_mtrr_msr(index))
		return kvl_mtrr_get(vcpu, index, data);
	if (kvl_mce_bank_msr(index))
		return kvl_mce_get(vcpu, index, data, host);
	if (!kvl_ops->get_msr(vcpu, index, data))
		return 0;
	if (host && kvl_msr_host_zero(index)) {
		*data = 0;
		return 0;
	}
	return 1;
}

/* IA32_SPEC_CTRL: a value the host CPU takes (KVM's kvm_spec_ctrl_test_value()). */
static bool kvl_spec_ctrl_ok(u64 data)
{
	unsigned long flags;
	bool ok = false;
	u64 saved;

	local_irq_save(flags);
	if (!rdmsrl_safe(MSR_IA32_SPEC_CTRL, &saved) &&
	    !wrmsrl_safe(MSR_IA32_SPEC_CTRL, data)) {
		wrmsrl(MSR_IA32_SPEC_CTRL, saved);
		ok = true;
	}
	local_irq_restore(flags);
	return ok;
}

/* The SVM-only MSRs (svm_set_msr()): none of them reaches the hardware. */
static int kvl_svm_set_msr(struct kvl_vcpu *vcpu, u32 index, u64 data, bool host)
{
	struct kvl_msrs *m = &vcpu->msrs;
	u64 efer = 0;

	switch (index) {
	case MSR_VM_CR:
		if (data & ~SVM_VM_CR_VALID_MASK)
			return 1;
		if (m->vm_cr & SVM_VM_CR_SVM_DIS_MASK)	/* lock and disable stay */
			data = (data & ~(SVM_VM_CR_SVM_LOCK_MASK | SVM_VM_CR_SVM_DIS_MASK)) |
			       (m->vm_cr & (SVM_VM_CR_SVM_LOCK_MASK | SVM_VM_CR_SVM_DIS_MASK));
		m->vm_cr = data;
		kvl_ops->get_msr(vcpu, MSR_EFER, &efer);
		return (data & SVM_VM_CR_SVM_DIS_MASK) && (efer & EFER_SVME);
	case MSR_VM_HSAVE_PA:
		/* The host may restore any value (KVM: old guests wrote junk). */
		if (!host && ((data & ~PAGE_MASK) ||
			      (data >> kvl_guest_maxphyaddr(vcpu))))
			return 1;
		m->hsave_pa = data & PAGE_MASK;
		return 0;
	case MSR_VM_IGNNE:
		return 0;	/* dropped, as KVM */
	case MSR_AMD64_VIRT_SPEC_CTRL:
		if (!host || (data & ~SPEC_CTRL_SSBD))
			return 1;
		m->virt_spec_ctrl = data;
		return 0;
	case MSR_AMD64_TSC_RATIO:
		/* As KVM without TSC scaling: the host may restore 1.0 (or 0). */
		return !host || (data && data != KVL_TSC_RATIO_1);
	}
	return -1;
}

int kvl_set_msr(struct kvl_vcpu *vcpu, u32 index, u64 data, bool host)
{
	struct kvl_msrs *m = &vcpu->msrs;

	if (vcpu->lapic && kvl_apic_msr(index))
		return kvl_apic_set_msr(vcpu, index, data);
	switch (index) {
	case MSR_IA32_APICBASE:
		if (data & ((~0ULL << kvl_guest_maxphyaddr(vcpu)) | 0x2ff))
			return 1;
		/* x2APIC without the enable bit is no mode at all, even for the host. */
		if ((data & X2APIC_ENABLE) && !(data & MSR_IA32_APICBASE_ENABLE))
			return 1;
		if (vcpu->lapic) {
			if (kvl_apic_set_base(vcpu, data, host))
				return 1;
		} else {
			/* Without an in-kernel APIC the value is only kept, as in KVM. */
			m->apic_base = data;
		}
		kvl_cpuid_update_runtime(vcpu);
		return 0;
	case MSR_IA32_MISC_ENABLE:
		m->misc_enable = data;
		return 0;
	case MSR_KVM_SYSTEM_TIME:
	case MSR_KVM_SYSTEM_TIME_NEW:
		return kvl_kvmclock_set_system_time(vcpu, data, host);
	case MSR_KVM_WALL_CLOCK:
	case MSR_KVM_WALL_CLOCK_NEW:
		return kvl_kvmclock_set_wall_clock(vcpu, data, host);
	case MSR_IA32_TSC_ADJUST:
		/* The host only sets the value; the guest moves its TSC with it. */
		if (host) {
			m->tsc_adjust = data;
			return 0;
		}
		return kvl_tsc_guest_adjust(vcpu, data - m->tsc_adjust);
	case MSR_IA32_TSC: {
		u64 tsc;

		if (host)
			return kvl_tsc_host_write(vcpu, data);
		if (kvl_ops->get_msr(vcpu, MSR_IA32_TSC, &tsc))
			return 1;
		return kvl_tsc_guest_adjust(vcpu, data - tsc);
	}
	case MSR_IA32_MCG_STATUS:
		m->mcg_status = data;
		return 0;
	case MSR_IA32_TSC_DEADLINE:
		return 0;
	case MSR_IA32_MCG_CTL:
		/* Without CTL_P only the host's 0; with it, 0 or all ones. */
		if (!(m->mcg_cap & MCG_CTL_P) && (data || !host))
			return 1;
		if (data && data != ~0ULL)
			return 1;
		m->mcg_ctl = data;
		return 0;
	case MSR_IA32_UCODE_REV:
		if (host)
			m->ucode_rev = data;
		return 0;	/* the guest's write is dropped, as KVM */
	case MSR_K7_HWCR:
		/* KVM ignores three legacy bits and keeps only McStatusWrEn. */
		data &= ~(u64)(BIT(3) | BIT(6) | BIT(8));
		if (data && data != BIT_ULL(18))
			return 1;
		m->hwcr = data;
		return 0;
	case MSR_IA32_ARCH_CAPABILITIES:	/* KVM 6.1 takes any value from the host */
		if (!host)
			return 1;
		m->arch_caps = data;
		return 0;
	case MSR_IA32_PERF_CAPABILITIES:	/* no vPMU: no capability to set */
		return !host || data;
	case MSR_PLATFORM_INFO:
		if (!host || (!(data & MSR_PLATFORM_INFO_CPUID_FAULT) &&
			      (m->misc_features & MSR_MISC_FEATURES_ENABLES_CPUID_FAULT)))
			return 1;
		m->platform_info = data;
		return 0;
	case MSR_MISC_FEATURES_ENABLES:
		if ((data & ~MSR_MISC_FEATURES_ENABLES_CPUID_FAULT) ||
		    ((data & MSR_MISC_FEATURES_ENABLES_CPUID_FAULT) &&
		     !(m->platform_info & MSR_PLATFORM_INFO_CPUID_FAULT)))
			return 1;
		m->misc_features = data;
		return 0;
	case MSR_SMI_COUNT:
		if (!host)
			return 1;
		m->smi_count = data;
		return 0;
	case MSR_IA32_SMBASE:
		if (!host)
			return 1;
		m->smbase = data;
		return 0;
	case MSR_IA32_POWER_CTL:
		m->power_ctl = data;
		return 0;
	case MSR_IA32_XSS:
		return data || (!host && !kvl_guest_cpuid_has(vcpu, 0xd, 1, 0, 3));
	case MSR_IA32_XFD:
	case MSR_IA32_XFD_ERR:
		return data || (!host && !kvl_guest_cpuid_has(vcpu, 0xd, 1, 0, 4));
	case MSR_IA32_SPEC_CTRL:
		if (!host || !kvl_spec_ctrl_ok(data))
			return 1;
		m->spec_ctrl = data;
		return 0;
	case MSR_TSC_AUX:
		if (!host || !(boot_cpu_has(X86_FEATURE_RDTSCP) ||
			       boot_cpu_has(X86_FEATURE_RDPID)))
			return 1;
		m->tsc_aux = (u32)data;	/* AMD ignores bits 63:32, so KVM does */
		return 0;
	case MSR_FAM10H_MMIO_CONF_BASE:
		return data != 0;
	case MSR_IA32_UCODE_WRITE:
	case MSR_AMD64_PATCH_LOADER:
	case MSR_AMD64_NB_CFG:
	case MSR_AMD64_BU_CFG2:
	case MSR_AMD64_DC_CFG:
	case MSR_AMD64_TW_CFG:
	case MSR_F15H_EX_CFG:
	case MSR_K7_CLK_CTL:
	case MSR_IA32_BBL_CR_CTL3:
	case MSR_K7_EVNTSEL0 ... MSR_K7_EVNTSEL3:
	case MSR_K7_PERFCTR0 ... MSR_K7_PERFCTR3:
	case MSR_P6_PERFCTR0 ... MSR_P6_PERFCTR1:
	case MSR_P6_EVNTSEL0 ... MSR_P6_EVNTSEL1:
		return 0;	/* accepted and dropped, as KVM */
	case MSR_IA32_DEBUGCTLMSR:
		return data != 0;	/* no LBR/BTF virtualization */
	case MSR_IA32_LASTBRANCHFROMIP:
	case MSR_IA32_LASTBRANCHTOIP:
	case MSR_IA32_LASTINTFROMIP:
	case MSR_IA32_LASTINTTOIP:
		/* Userspace may restore what it read (0), as KVM 6.12 lets it. */
		return !host || data;
	case MSR_IA32_PRED_CMD: {
		/* As KVM 6.12: the host may write 0, or a barrier the CPU has. */
		u64 ok = (boot_cpu_has(X86_FEATURE_IBPB) ? PRED_CMD_IBPB : 0) |
			 (boot_cpu_has(X86_FEATURE_SBPB) ? PRED_CMD_SBPB : 0);

		if (!host || (data & ~ok))
			return 1;
		if (data)
			wrmsrl(MSR_IA32_PRED_CMD, data);
		return 0;
	}
	}
	if (kvl_svm()) {
		int r = kvl_svm_set_msr(vcpu, index, data, host);

		if (r >= 0)
			return r;
	}
	if (kvl_mtrr_msr(index))
		return kvl_mtrr_set(vcpu, index, data);
	if (kvl_mce_bank_msr(index))
		return kvl_mce_set(vcpu, index, data, host);
	if (!kvl_ops->set_msr(vcpu, index, data, host))
		return 0;
	return !(host && !data && kvl_msr_host_zero(index));
}

/* RDMSR (0F 32) and WRMSR (0F 30): ECX selects, EDX:EAX carry the value. */
void kvl_emulate_rdmsr(struct kvl_vcpu *vcpu)
{
	u64 data;

	if (kvl_get_msr(vcpu, vcpu->regs[KVL_RCX], &data, false)) {
		kvl_queue_exception(vcpu, GP_VECTOR, true, 0);
		return;
	}
	vcpu->regs[KVL_RAX] = (u32)data;
	vcpu->regs[KVL_RDX] = data >> 32;
	kvl_skip_instruction(vcpu, 2);
}

void kvl_emulate_wrmsr(struct kvl_vcpu *vcpu)
{
	u64 data = (vcpu->regs[KVL_RDX] << 32) | (u32)vcpu->regs[KVL_RAX];

	if (kvl_set_msr(vcpu, vcpu->regs[KVL_RCX], data, false)) {
		kvl_queue_exception(vcpu, GP_VECTOR, true, 0);
		return;
	}
	kvl_skip_instruction(vcpu, 2);
}

/*
 * KVM_GET_MSRS / KVM_SET_MSRS: process entries in order, stop at the
 * first one refused, return how many were done.
 */
int kvl_msrs_ioctl(struct kvl_vcpu *vcpu, struct kvm_msrs __user *argp, bool set)
{
	struct kvm_msr_entry *e;
	struct kvm_msrs h;
	u32 i;
	int r;

	if (copy_from_user(&h, argp, sizeof(h)))
		return -EFAULT;
	if (h.nmsrs >= KVL_MAX_MSR_ENTRIES)
		return -E2BIG;
	e = memdup_user(argp->entries, array_size(h.nmsrs, sizeof(*e)));
	if (IS_ERR(e))
		return PTR_ERR(e);
	for (i = 0; i < h.nmsrs; i++) {
		if (set ? kvl_set_msr(vcpu, e[i].index, e[i].data, true)
			: kvl_get_msr(vcpu, e[i].index, &e[i].data, true))
			break;
	}
	r = i;
	if (!set && copy_to_user(argp->entries, e, array_size(i, sizeof(*e))))
		r = -EFAULT;
	kfree(e);
	return r;
}

int kvl_get_msr_index_list(struct kvm_msr_list __user *argp)
{
	u32 n, need = ARRAY_SIZE(kvl_msrs_to_save);

	if (copy_from_user(&n, &argp->nmsrs, sizeof(n)))
		return -EFAULT;
	if (put_user(need, &argp->nmsrs))
		return -EFAULT;
	if (n < need)
		return -E2BIG;
	if (copy_to_user(argp->indices, kvl_msrs_to_save, sizeof(kvl_msrs_to_save)))
		return -EFAULT;
	return 0;
}
