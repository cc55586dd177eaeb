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
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/kvm_para.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
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
};

void kvl_msrs_reset(struct kvl_vcpu *vcpu)
{
	struct kvl_msrs *m = &vcpu->msrs;

	memset(m, 0, sizeof(*m));
	m->apic_base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE |
		       (vcpu->id ? 0 : MSR_IA32_APICBASE_BSP);
	m->misc_enable = MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL | MSR_IA32_MISC_ENABLE_BTS_UNAVAIL;
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
	case MSR_IA32_MCG_CAP:	/* no banks: KVM_X86_SETUP_MCE is not offered */
		*data = 0;
		return 0;
	case MSR_IA32_MCG_STATUS:
		*data = m->mcg_status;
		return 0;
	case MSR_IA32_MCG_CTL:	/* exists only with MCG_CAP.CTL_P */
		*data = 0;
		return !host;
	case MSR_IA32_UCODE_REV:
		*data = 0x100000000ULL;	/* what KVM reports */
		return 0;
	case MSR_K7_HWCR:
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
	if (kvl_mtrr_msr(index))
		return kvl_mtrr_get(vcpu, index, data);
	return kvl_ops->get_msr(vcpu, index, data);
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
		return data || !host;
	case MSR_IA32_UCODE_REV:
	case MSR_K7_HWCR:
	case MSR_AMD64_NB_CFG:
	case MSR_AMD64_BU_CFG2:
		return 0;	/* accepted and dropped, as KVM */
	case MSR_IA32_DEBUGCTLMSR:
		return data != 0;	/* no LBR/BTF virtualization */
	}
	if (kvl_mtrr_msr(index))
		return kvl_mtrr_set(vcpu, index, data);
	return kvl_ops->set_msr(vcpu, index, data, host);
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
