// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: the VM clock (KVM_GET_CLOCK/KVM_SET_CLOCK) and kvmclock, the
 * paravirtual clock Linux guests read without trapping
 * (Documentation/virt/kvm/x86/msr.rst in the kernel tree).
 *
 * The VM clock is the host's CLOCK_BOOTTIME plus a per-VM offset, zero at
 * VM creation.  A vCPU's pvclock_vcpu_time_info pairs a guest TSC reading
 * with the VM clock at the same moment, plus the TSC-to-ns scale; it is
 * rewritten when the guest enables it and after KVM_SET_CLOCK.  We do not
 * claim PVCLOCK_TSC_STABLE_BIT: each vCPU's pair is taken separately, so
 * the guest keeps its own cross-CPU monotonicity guard.
 */
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/ktime.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <asm/kvm_para.h>
#include <asm/pvclock-abi.h>
#include <asm/tsc.h>
#include "kvmlite.h"

#define KVL_CLOCK_FLAGS	(KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC)

u64 kvl_vm_clock_ns(struct kvl_vm *vm)
{
	return ktime_get_boottime_ns() + READ_ONCE(vm->kvmclock_offset);
}

/* ns = ((tsc_delta << shift) * mul) >> 32, shift may be negative. */
static void kvl_tsc_scale(u64 tsc_hz, s8 *shift, u32 *mul)
{
	s8 s = 0;

	while (tsc_hz <= NSEC_PER_SEC) {
		tsc_hz <<= 1;
		s++;
	}
	while (tsc_hz > 2 * NSEC_PER_SEC) {
		tsc_hz >>= 1;
		s--;
	}
	*shift = s;
	*mul = div64_u64((u64)NSEC_PER_SEC << 32, tsc_hz);
}

/* Write the vCPU's time info, the version odd while it changes (in the vCPU's thread). */
void kvl_kvmclock_update(struct kvl_vcpu *vcpu)
{
	u64 gpa = vcpu->msrs.kvmclock_system_time & ~1ULL;
	struct pvclock_vcpu_time_info ti = {};
	u32 version;
	u64 tsc;

	if (!(vcpu->msrs.kvmclock_system_time & 1))
		return;
	if (kvl_read_guest(vcpu->vm, gpa, &version, sizeof(version)))
		return;
	version = (version + 1) | 1;
	if (kvl_vcpu_write_guest(vcpu, gpa, &version, sizeof(version)))
		return;
	/* The guest's reader checks version before and after: odd first. */
	smp_wmb();

	local_irq_disable();
	kvl_get_msr(vcpu, MSR_IA32_TSC, &tsc, true);
	ti.system_time = kvl_vm_clock_ns(vcpu->vm);
	local_irq_enable();
	ti.tsc_timestamp = tsc;
	kvl_tsc_scale((u64)tsc_khz * 1000, &ti.tsc_shift, &ti.tsc_to_system_mul);
	ti.version = version;
	kvl_vcpu_write_guest(vcpu, gpa + 4, (u8 *)&ti + 4, sizeof(ti) - 4);
	/* The new contents before the even version that says they are done. */
	smp_wmb();
	version++;
	kvl_vcpu_write_guest(vcpu, gpa, &version, sizeof(version));
}

int kvl_kvmclock_set_system_time(struct kvl_vcpu *vcpu, u64 data, bool host)
{
	/* The structure is 32 bytes and must not cross a page (KVM refuses it). */
	if ((data & 1) && ((data & ~PAGE_MASK & ~1ULL) + sizeof(struct pvclock_vcpu_time_info) >
			   PAGE_SIZE))
		return 1;
	vcpu->msrs.kvmclock_system_time = data;
	kvl_kvmclock_update(vcpu);
	return 0;
}

/* The wall clock at VM clock zero: written once, where the guest asks. */
int kvl_kvmclock_set_wall_clock(struct kvl_vcpu *vcpu, u64 data, bool host)
{
	struct pvclock_wall_clock wc;
	u64 boot_ns;
	u32 rem;

	vcpu->msrs.kvmclock_wall_clock = data;
	if (kvl_read_guest(vcpu->vm, data, &wc.version, sizeof(wc.version)))
		return 0;	/* KVM ignores an unwritable address too */
	wc.version = (wc.version + 1) | 1;
	kvl_vcpu_write_guest(vcpu, data, &wc.version, sizeof(wc.version));
	/* Odd version first, as for the vCPU time info. */
	smp_wmb();
	boot_ns = ktime_get_real_ns() - kvl_vm_clock_ns(vcpu->vm);
	wc.sec = div_u64_rem(boot_ns, NSEC_PER_SEC, &rem);
	wc.nsec = rem;
	kvl_vcpu_write_guest(vcpu, data + 4, &wc.sec, 8);
	/* Contents before the even version. */
	smp_wmb();
	wc.version++;
	kvl_vcpu_write_guest(vcpu, data, &wc.version, sizeof(wc.version));
	return 0;
}

int kvl_vm_get_clock(struct kvl_vm *vm, struct kvm_clock_data __user *argp)
{
	struct kvm_clock_data d = {};

	local_irq_disable();
	d.clock = kvl_vm_clock_ns(vm);
	d.realtime = ktime_get_real_ns();
	d.host_tsc = rdtsc();
	local_irq_enable();
	d.flags = KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC;
	return copy_to_user(argp, &d, sizeof(d)) ? -EFAULT : 0;
}

int kvl_vm_set_clock(struct kvl_vm *vm, struct kvm_clock_data __user *argp)
{
	struct kvm_clock_data d;
	u64 now;

	if (copy_from_user(&d, argp, sizeof(d)))
		return -EFAULT;
	if (d.flags & ~KVL_CLOCK_FLAGS)
		return -EINVAL;
	if (d.flags & KVM_CLOCK_REALTIME) {
		now = ktime_get_real_ns();
		if (now > d.realtime)
			d.clock += now - d.realtime;
	}
	WRITE_ONCE(vm->kvmclock_offset, d.clock - ktime_get_boottime_ns());
	/* Every vCPU rewrites its time info before it next enters. */
	spin_lock(&vm->mmu_lock);
	kvl_kick_all(vm, KVL_REQ_CLOCK_UPDATE);
	spin_unlock(&vm->mmu_lock);
	return 0;
}
