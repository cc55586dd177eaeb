// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: CPUID, as KVM_GET_SUPPORTED_CPUID offers it and as the guest
 * sees it (the table userspace gave with KVM_SET_CPUID2).
 *
 * What we offer is the host's CPUID with everything we do not virtualize
 * taken out: VMX/SVM (no nesting), monitor/mwait, the PMU, thermal and
 * debug-store features, the speculation-control MSR bits (those MSRs are
 * not passed through), and of the XSAVE features all but x87/SSE/AVX
 * (XSAVEC/XSAVES, AVX-512, MPX, PKRU, AMX): leaf 0xD describes exactly
 * kvl_supported_xcr0().  x2APIC and the TSC-deadline timer are offered
 * whatever the host has: the in-kernel LAPIC emulates them, as KVM's does.
 * Leaves 0x40000000/1 carry the KVM signature and kvmclock.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <asm/processor.h>
#include <asm/kvm_para.h>
#include <asm/fpu/xstate.h>
#include "kvmlite.h"

#define KVL_MAX_CPUID_ENTRIES	256
#define KVL_MAX_BASIC_LEAF	0xd
#define KVL_MAX_EXT_LEAF	0x80000008

/* Leaf 1 ECX: SSE3, PCLMUL, SSSE3, FMA, CX16, SSE4.1/4.2, MOVBE, POPCNT, AES, RDRAND, F16C */
#define L1_ECX_OK	(BIT(0) | BIT(1) | BIT(9) | BIT(12) | BIT(13) | BIT(19) | \
			 BIT(20) | BIT(22) | BIT(23) | BIT(25) | BIT(29) | BIT(30))
#define L1_ECX_X2APIC		BIT(21)
#define L1_ECX_TSC_DEADLINE	BIT(24)
#define L1_ECX_XSAVE		BIT(26)
#define L1_ECX_OSXSAVE		BIT(27)
#define L1_ECX_AVX		BIT(28)
#define L1_ECX_HYPERVISOR	BIT(31)
#define L7_EBX_AVX2		BIT(5)
/* Leaf 1 EDX: everything but DS(21), ACPI(22), TM(29), PBE(31). */
#define L1_EDX_OK	(~(BIT(21) | BIT(22) | BIT(29) | BIT(31)))
/* Leaf 7.0 EBX: FSGSBASE, BMI1, SMEP, BMI2, ERMS, ADX, SMAP, CLFLUSHOPT, CLWB, SHA */
#define L7_EBX_OK	(BIT(0) | BIT(3) | BIT(7) | BIT(8) | BIT(9) | BIT(19) | \
			 BIT(20) | BIT(23) | BIT(24) | BIT(29))
/* 0x80000001 ECX: LAHF, ABM, SSE4A, MISALIGNSSE, 3DNOWPREFETCH */
#define X1_ECX_OK	(BIT(0) | BIT(5) | BIT(6) | BIT(7) | BIT(8))
/* 0x80000001 EDX: AMD's copies of leaf 1 EDX, SYSCALL, NX, MMXEXT, FXSR_OPT, 1G pages, LM */
#define X1_EDX_OK	(0x0183f3ffU | BIT(11) | BIT(20) | BIT(22) | BIT(25) | \
			 BIT(26) | BIT(29))

/* Bytes of a standard-format XSAVE area holding the features in @xcr0. */
static u32 kvl_xstate_size(u64 xcr0)
{
	u32 size = 512 + 64, a, b, c, d;
	int i;

	for (i = 2; i < 64; i++) {
		if (!(xcr0 & BIT_ULL(i)))
			continue;
		cpuid_count(0xd, i, &a, &b, &c, &d);
		size = max(size, a + b);
	}
	return size;
}

static int kvl_cpuid_add(struct kvm_cpuid_entry2 *e, int *n, int max,
			 u32 fn, u32 idx, bool indexed)
{
	u64 xcr0 = kvl_supported_xcr0();
	struct kvm_cpuid_entry2 *x;
	u32 ok;

	if (*n >= max)
		return -E2BIG;
	x = &e[(*n)++];
	memset(x, 0, sizeof(*x));
	x->function = fn;
	x->index = idx;
	x->flags = indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
	if (fn < 0x40000000 || fn >= 0x80000000)
		cpuid_count(fn, idx, &x->eax, &x->ebx, &x->ecx, &x->edx);

	switch (fn) {
	case 0:
		x->eax = min_t(u32, x->eax, KVL_MAX_BASIC_LEAF);
		break;
	case 1:
		ok = L1_ECX_OK;
		if (xcr0 > XFEATURE_MASK_FPSSE)
			ok |= L1_ECX_XSAVE;
		if (xcr0 & XFEATURE_MASK_YMM)
			ok |= L1_ECX_AVX;
		/* The in-kernel LAPIC emulates these whatever the host has. */
		x->ecx = (x->ecx & ok) | L1_ECX_HYPERVISOR | L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE;
		x->edx &= L1_EDX_OK;
		break;
	case 7:
		ok = L7_EBX_OK | ((xcr0 & XFEATURE_MASK_YMM) ? L7_EBX_AVX2 : 0);
		x->eax = 0;
		x->ebx &= idx ? 0 : ok;
		x->ecx = 0;
		x->edx = 0;
		break;
	case 0xd:
		if (idx == 0) {
			x->eax = (u32)xcr0;
			x->edx = xcr0 >> 32;
			x->ebx = kvl_xstate_size(xcr0);
			x->ecx = x->ebx;
		} else if (idx == 1) {
			x->eax &= BIT(0);	/* XSAVEOPT; not XSAVEC/XGETBV1/XSAVES */
			x->ebx = 0;
			x->ecx = 0;
			x->edx = 0;
		} else {
			x->ecx = 0;	/* user state, standard format */
			x->edx = 0;
		}
		break;
	case 0x40000000:
		x->eax = 0x40000001;
		memcpy(&x->ebx, "KVMK", 4);
		memcpy(&x->ecx, "VMKV", 4);
		memcpy(&x->edx, "M\0\0\0", 4);
		break;
	case 0x40000001:	/* kvmclock (kvmclock.c) */
		x->eax = BIT(KVM_FEATURE_CLOCKSOURCE) | BIT(KVM_FEATURE_CLOCKSOURCE2);
		break;
	case 0x80000000:
		x->eax = min_t(u32, x->eax, KVL_MAX_EXT_LEAF);
		break;
	case 0x80000001:
		x->ecx &= X1_ECX_OK;
		x->edx &= X1_EDX_OK;
		break;
	case 0x80000007:	/* power management, invariant TSC: not offered */
		x->eax = 0;
		x->ebx = 0;
		x->ecx = 0;
		x->edx = 0;
		break;
	case 0x80000008:
		x->eax &= 0xffff;	/* physical and linear address widths */
		x->ebx = 0;
		x->ecx = 0;
		x->edx = 0;
		break;
	}
	return 0;
}

static int kvl_cpuid_fill(struct kvm_cpuid_entry2 *e, int max)
{
	u32 basic = min_t(u32, cpuid_eax(0), KVL_MAX_BASIC_LEAF);
	u32 ext = min_t(u32, cpuid_eax(0x80000000), KVL_MAX_EXT_LEAF);
	int n = 0, r = 0;
	u32 fn, i;

	for (fn = 0; fn <= basic && !r; fn++) {
		switch (fn) {
		case 4:	/* deterministic cache parameters, until type 0 */
			for (i = 0; i < 8 && !r; i++) {
				r = kvl_cpuid_add(e, &n, max, fn, i, true);
				if (!r && !(e[n - 1].eax & 0x1f)) {
					n--;
					break;
				}
			}
			break;
		case 7:
			r = kvl_cpuid_add(e, &n, max, fn, 0, true);
			break;
		case 0xd:
			if (kvl_supported_xcr0() <= XFEATURE_MASK_FPSSE)
				break;
			for (i = 0; i < 64 && !r; i++)
				if (i < 2 || (kvl_supported_xcr0() & BIT_ULL(i)))
					r = kvl_cpuid_add(e, &n, max, fn, i, true);
			break;
		case 2:
		case 3:
		case 0:
		case 1:
			r = kvl_cpuid_add(e, &n, max, fn, 0, false);
			break;
		default:	/* PMU, topology: not offered */
			break;
		}
	}
	if (!r)
		r = kvl_cpuid_add(e, &n, max, 0x40000000, 0, false);
	if (!r)
		r = kvl_cpuid_add(e, &n, max, 0x40000001, 0, false);
	for (fn = 0x80000000; fn <= ext && !r; fn++)
		r = kvl_cpuid_add(e, &n, max, fn, 0, false);
	return r ? r : n;
}

int kvl_get_supported_cpuid(struct kvm_cpuid2 __user *argp)
{
	struct kvm_cpuid_entry2 *e;
	struct kvm_cpuid2 c;
	int n;

	if (copy_from_user(&c, argp, sizeof(c)))
		return -EFAULT;
	if (c.nent < 1)
		return -E2BIG;
	c.nent = min_t(u32, c.nent, KVL_MAX_CPUID_ENTRIES);
	e = kvcalloc(c.nent, sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	n = kvl_cpuid_fill(e, c.nent);
	if (n >= 0) {
		c.nent = n;
		if (copy_to_user(argp, &c, sizeof(c)) ||
		    copy_to_user(argp->entries, e, n * sizeof(*e)))
			n = -EFAULT;
	}
	kvfree(e);
	return n < 0 ? n : 0;
}

int kvl_set_cpuid2(struct kvl_vcpu *vcpu, struct kvm_cpuid2 __user *argp)
{
	struct kvm_cpuid_entry2 *e = NULL;
	struct kvm_cpuid2 c;

	if (copy_from_user(&c, argp, sizeof(c)))
		return -EFAULT;
	if (c.nent > KVL_MAX_CPUID_ENTRIES)
		return -E2BIG;
	if (c.nent) {
		e = vmemdup_user(argp->entries, array_size(c.nent, sizeof(*e)));
		if (IS_ERR(e))
			return PTR_ERR(e);
	}
	kvfree(vcpu->cpuid);
	vcpu->cpuid = e;
	vcpu->cpuid_nent = c.nent;
	return 0;
}

int kvl_get_cpuid2(struct kvl_vcpu *vcpu, struct kvm_cpuid2 __user *argp)
{
	struct kvm_cpuid2 c;

	if (copy_from_user(&c, argp, sizeof(c)))
		return -EFAULT;
	if (c.nent < vcpu->cpuid_nent)
		return -E2BIG;
	/* As KVM: the entries are copied out, nent is left as the caller set it. */
	if (copy_to_user(argp->entries, vcpu->cpuid, vcpu->cpuid_nent * sizeof(*vcpu->cpuid)))
		return -EFAULT;
	return 0;
}

/* The guest ran CPUID (two bytes, 0F A2): answer from its table. */
void kvl_emulate_cpuid(struct kvl_vcpu *vcpu)
{
	u32 fn = vcpu->regs[KVL_RAX], idx = vcpu->regs[KVL_RCX];
	const struct kvm_cpuid_entry2 *hit = NULL;
	u32 i;

	for (i = 0; i < vcpu->cpuid_nent; i++) {
		const struct kvm_cpuid_entry2 *x = &vcpu->cpuid[i];

		if (x->function == fn &&
		    (!(x->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || x->index == idx)) {
			hit = x;
			break;
		}
	}
	/* A leaf the table lacks reads as zeros (AMD's behaviour for unknown leaves). */
	vcpu->regs[KVL_RAX] = hit ? hit->eax : 0;
	vcpu->regs[KVL_RBX] = hit ? hit->ebx : 0;
	vcpu->regs[KVL_RCX] = hit ? hit->ecx : 0;
	vcpu->regs[KVL_RDX] = hit ? hit->edx : 0;
	/* The dynamic bits, as KVM keeps them: OSXSAVE and the XSAVE size for XCR0. */
	if (hit && fn == 1) {
		vcpu->regs[KVL_RCX] &= ~(unsigned long)L1_ECX_OSXSAVE;
		if (kvl_ops->get_cr4(vcpu) & X86_CR4_OSXSAVE)
			vcpu->regs[KVL_RCX] |= L1_ECX_OSXSAVE;
	} else if (hit && fn == 0xd && (idx == 0 || idx == 1) && hit->ebx) {
		vcpu->regs[KVL_RBX] = kvl_xstate_size(vcpu->xcr0);
	}
	kvl_skip_instruction(vcpu, 2);
}

/* The guest's physical address width, from its CPUID (36 without the leaf). */
int kvl_guest_maxphyaddr(struct kvl_vcpu *vcpu)
{
	u32 i;

	for (i = 0; i < vcpu->cpuid_nent; i++)
		if (vcpu->cpuid[i].function == 0x80000008 && (vcpu->cpuid[i].eax & 0xff))
			return min_t(u32, vcpu->cpuid[i].eax & 0xff, 52);
	return 36;
}

bool kvl_guest_has_x2apic(struct kvl_vcpu *vcpu)
{
	u32 i;

	for (i = 0; i < vcpu->cpuid_nent; i++)
		if (vcpu->cpuid[i].function == 1)
			return vcpu->cpuid[i].ecx & L1_ECX_X2APIC;
	return false;
}
