// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: the guest's FPU/SSE/AVX state and XCR0.
 *
 * The guest's registers live in a guest fpstate from the x86 FPU core (the
 * same one kvm.ko uses): fpu_swap_kvm_fpstate() puts them in the CPU for
 * the whole of KVM_RUN, and the scheduler saves and restores them like any
 * task's, so exits handled in the kernel cost no XSAVE/XRSTOR.  Only XCR0
 * is switched around each entry, and only when the guest's differs.
 *
 * Offered XSAVE features: x87, SSE and AVX, where the host has them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/fpu/xstate.h>
#include "kvmlite.h"

#define KVL_XCR0_OFFERED	(XFEATURE_MASK_FPSSE | XFEATURE_MASK_YMM)

u64 kvl_host_xcr0 __read_mostly;	/* 0: no XSAVE */
static u64 kvl_xcr0_ok;
static u32 kvl_mxcsr_mask;

u64 kvl_supported_xcr0(void)
{
	return kvl_xcr0_ok;
}

int kvl_fpu_init(void)
{
	struct fxregs_state *fx;

	if (!boot_cpu_has(X86_FEATURE_FXSR))
		return -EOPNOTSUPP;
	if (boot_cpu_has(X86_FEATURE_XSAVE)) {
		kvl_host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
		kvl_xcr0_ok = kvl_host_xcr0 & KVL_XCR0_OFFERED;
		/* AVX needs SSE; an XCR0 without SSE offers x87 only. */
		if (!(kvl_xcr0_ok & XFEATURE_MASK_SSE))
			kvl_xcr0_ok = XFEATURE_MASK_FP;
	} else {
		kvl_xcr0_ok = XFEATURE_MASK_FPSSE;
	}

	/* MXCSR bits the CPU accepts: a value outside them would fault FXRSTOR. */
	fx = kzalloc(sizeof(*fx), GFP_KERNEL);
	if (!fx)
		return -ENOMEM;
	kernel_fpu_begin();
	asm volatile("fxsave64 %0" : "=m" (*fx));
	kernel_fpu_end();
	kvl_mxcsr_mask = fx->mxcsr_mask ? fx->mxcsr_mask : 0xffbf;
	kfree(fx);
	return 0;
}

int kvl_vcpu_fpu_create(struct kvl_vcpu *vcpu)
{
	if (!fpu_alloc_guest_fpstate(&vcpu->gfpu))
		return -ENOMEM;
	vcpu->xcr0 = XFEATURE_MASK_FP;
	return 0;
}

void kvl_vcpu_fpu_destroy(struct kvl_vcpu *vcpu)
{
	fpu_free_guest_fpstate(&vcpu->gfpu);
}

/* What the guest's CPUID leaf 0xD lets it enable, within what we offer. */
static u64 kvl_guest_xcr0_ok(struct kvl_vcpu *vcpu)
{
	u32 i;

	for (i = 0; i < vcpu->cpuid_nent; i++) {
		const struct kvm_cpuid_entry2 *e = &vcpu->cpuid[i];

		if (e->function == 0xd && e->index == 0)
			return (((u64)e->edx << 32 | e->eax) & kvl_xcr0_ok) | XFEATURE_MASK_FP;
	}
	return XFEATURE_MASK_FP;
}

/* The SDM's XSETBV checks (vol. 1, 13.3), against what the guest may enable. */
static int kvl_set_xcr0(struct kvl_vcpu *vcpu, u64 xcr0)
{
	if (!(xcr0 & XFEATURE_MASK_FP) || (xcr0 & ~kvl_guest_xcr0_ok(vcpu)))
		return 1;
	if ((xcr0 & XFEATURE_MASK_YMM) && !(xcr0 & XFEATURE_MASK_SSE))
		return 1;
	vcpu->xcr0 = xcr0;
	kvl_cpuid_update_runtime(vcpu);
	return 0;
}

/* XSETBV (0F 01 D1): XCR0 only, CPL 0 only. */
void kvl_emulate_xsetbv(struct kvl_vcpu *vcpu)
{
	u64 val = (vcpu->regs[KVL_RDX] << 32) | (u32)vcpu->regs[KVL_RAX];

	if ((u32)vcpu->regs[KVL_RCX] != XCR_XFEATURE_ENABLED_MASK ||
	    kvl_ops->get_cpl(vcpu) != 0 || kvl_set_xcr0(vcpu, val)) {
		kvl_queue_exception(vcpu, GP_VECTOR, true, 0);
		return;
	}
	kvl_skip_instruction(vcpu, 3);
}

static int kvl_get_fpu(struct kvl_vcpu *vcpu, struct kvm_fpu __user *argp)
{
	struct fxregs_state *fx = &vcpu->gfpu.fpstate->regs.fxsave;
	struct kvm_fpu *f;
	int r = 0;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	memcpy(f->fpr, fx->st_space, 128);
	f->fcw = fx->cwd;
	f->fsw = fx->swd;
	f->ftwx = fx->twd;
	f->last_opcode = fx->fop;
	f->last_ip = fx->rip;
	f->last_dp = fx->rdp;
	memcpy(f->xmm, fx->xmm_space, sizeof(f->xmm));
	f->mxcsr = fx->mxcsr;
	if (copy_to_user(argp, f, sizeof(*f)))
		r = -EFAULT;
	kfree(f);
	return r;
}

static int kvl_set_fpu(struct kvl_vcpu *vcpu, struct kvm_fpu __user *argp)
{
	struct fxregs_state *fx = &vcpu->gfpu.fpstate->regs.fxsave;
	struct kvm_fpu *f;

	f = memdup_user(argp, sizeof(*f));
	if (IS_ERR(f))
		return PTR_ERR(f);
	/* KVM takes any MXCSR; a reserved bit would fault the restore, so refuse it. */
	if (f->mxcsr & ~kvl_mxcsr_mask) {
		kfree(f);
		return -EINVAL;
	}
	memcpy(fx->st_space, f->fpr, 128);
	fx->cwd = f->fcw;
	fx->swd = f->fsw;
	fx->twd = f->ftwx;
	fx->fop = f->last_opcode;
	fx->rip = f->last_ip;
	fx->rdp = f->last_dp;
	memcpy(fx->xmm_space, f->xmm, sizeof(f->xmm));
	fx->mxcsr = f->mxcsr;
	/* The registers now hold these values, not the init state. */
	if (boot_cpu_has(X86_FEATURE_XSAVE))
		vcpu->gfpu.fpstate->regs.xsave.header.xfeatures |= XFEATURE_MASK_FPSSE;
	kfree(f);
	return 0;
}

static int kvl_get_xsave(struct kvl_vcpu *vcpu, struct kvm_xsave __user *argp)
{
	struct kvm_xsave *x;
	int r = 0;

	x = kzalloc(sizeof(*x), GFP_KERNEL);
	if (!x)
		return -ENOMEM;
	fpu_copy_guest_fpstate_to_uabi(&vcpu->gfpu, x->region, sizeof(x->region),
				       kvl_guest_xcr0_ok(vcpu) | XFEATURE_MASK_FPSSE, 0);
	if (copy_to_user(argp, x, sizeof(*x)))
		r = -EFAULT;
	kfree(x);
	return r;
}

static int kvl_set_xsave(struct kvl_vcpu *vcpu, struct kvm_xsave __user *argp)
{
	struct kvm_xsave *x;
	u32 pkru = 0;
	int r;

	x = memdup_user(argp, sizeof(*x));
	if (IS_ERR(x))
		return PTR_ERR(x);
	/* Checks the header and MXCSR: -EINVAL for what XRSTOR would refuse. */
	r = fpu_copy_uabi_to_guest_fpstate(&vcpu->gfpu, x->region, kvl_xcr0_ok, &pkru);
	kfree(x);
	return r;
}

static int kvl_get_xcrs(struct kvl_vcpu *vcpu, struct kvm_xcrs __user *argp)
{
	struct kvm_xcrs x = {};

	if (boot_cpu_has(X86_FEATURE_XSAVE)) {
		x.nr_xcrs = 1;
		x.xcrs[0].xcr = XCR_XFEATURE_ENABLED_MASK;
		x.xcrs[0].value = vcpu->xcr0;
	}
	return copy_to_user(argp, &x, sizeof(x)) ? -EFAULT : 0;
}

static int kvl_set_xcrs(struct kvl_vcpu *vcpu, struct kvm_xcrs __user *argp)
{
	struct kvm_xcrs x;
	u64 old = vcpu->xcr0;
	u32 i;

	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		return -EINVAL;
	if (copy_from_user(&x, argp, sizeof(x)))
		return -EFAULT;
	if (x.nr_xcrs > KVM_MAX_XCRS || x.flags)
		return -EINVAL;
	/* As KVM: the first XCR0 entry counts, other XCRs are ignored. */
	for (i = 0; i < x.nr_xcrs; i++) {
		if (x.xcrs[i].xcr != XCR_XFEATURE_ENABLED_MASK)
			continue;
		if (kvl_set_xcr0(vcpu, x.xcrs[i].value)) {
			vcpu->xcr0 = old;
			return -EINVAL;
		}
		break;
	}
	return 0;
}

long kvl_fpu_ioctl(struct kvl_vcpu *vcpu, unsigned int ioctl, void __user *argp)
{
	switch (ioctl) {
	case KVM_GET_FPU:
		return kvl_get_fpu(vcpu, argp);
	case KVM_SET_FPU:
		return kvl_set_fpu(vcpu, argp);
	case KVM_GET_XSAVE:
		return kvl_get_xsave(vcpu, argp);
	case KVM_SET_XSAVE:
		return kvl_set_xsave(vcpu, argp);
	case KVM_GET_XCRS:
		return kvl_get_xcrs(vcpu, argp);
	case KVM_SET_XCRS:
		return kvl_set_xcrs(vcpu, argp);
	default:
		return -EINVAL;
	}
}
