// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: the Intel VT-x backend.
 *
 * At this stage it detects VT-x with EPT so that the module loads and
 * serves the system ioctls on Intel hosts; VMXON, the VMCS and EPT come
 * with the VT-x issue.  Until then KVM_CREATE_VM fails with -EOPNOTSUPP
 * and says so in the kernel log.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/special_insns.h>
#include "kvmlite.h"

static int vmx_probe(void)
{
	u64 feat;

	if (!boot_cpu_has(X86_FEATURE_VMX))
		return -ENODEV;
	rdmsrl(MSR_IA32_FEAT_CTL, feat);
	if (!(feat & FEAT_CTL_LOCKED) || !(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
		pr_err("VT-x is disabled by the firmware (IA32_FEATURE_CONTROL)\n");
		return -EPERM;
	}
	if (!boot_cpu_has(X86_FEATURE_EPT)) {
		pr_err("VT-x without EPT is not supported\n");
		return -EOPNOTSUPP;
	}
	return 0;
}

static int vmx_init(void)
{
	return 0;
}

static void vmx_exit(void)
{
}

static int vmx_cpu_enable(void)
{
	/* Someone else (kvm-intel) is in VMX operation on this CPU. */
	if (__read_cr4() & X86_CR4_VMXE)
		return -EBUSY;
	return 0;
}

static void vmx_cpu_disable(void)
{
}

static int vmx_vm_init(struct kvl_vm *vm)
{
	pr_info_once("VT-x guests are not implemented yet; KVM_CREATE_VM fails\n");
	return -EOPNOTSUPP;
}

const struct kvl_backend kvl_vmx_backend = {
	.name		= "Intel VT-x",
	.probe		= vmx_probe,
	.init		= vmx_init,
	.exit		= vmx_exit,
	.cpu_enable	= vmx_cpu_enable,
	.cpu_disable	= vmx_cpu_disable,
	.vm_init	= vmx_vm_init,
};
