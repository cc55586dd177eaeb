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
#define L1_EDX_APIC		BIT(9)
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

static struct kvm_cpuid_entry2 *kvl_cpuid_lookup(struct kvm_cpuid_entry2 *t, u32 n,
						 u32 fn, u32 idx)
{
	u32 i;

	for (i = 0; i < n; i++) {
		struct kvm_cpuid_entry2 *x = &t[i];

		if (x->function == fn &&
		    (!(x->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || x->index == idx))
			return x;
	}
	return NULL;
}

static struct kvm_cpuid_entry2 *kvl_cpuid_find(struct kvl_vcpu *vcpu, u32 fn, u32 idx)
{
	return kvl_cpuid_lookup(vcpu->cpuid, vcpu->cpuid_nent, fn, idx);
}

/*
 * The bits KVM keeps current in the table itself (kvm_update_cpuid_runtime):
 * OSXSAVE follows CR4, APIC follows IA32_APIC_BASE.EN, and leaf 0xD's size
 * follows XCR0.
 */
static void kvl_cpuid_runtime_bits(struct kvl_vcpu *vcpu, struct kvm_cpuid_entry2 *t, u32 n)
{
	struct kvm_cpuid_entry2 *e;

	e = kvl_cpuid_lookup(t, n, 1, 0);
	if (e) {
		e->ecx &= ~L1_ECX_OSXSAVE;
		if (kvl_ops->get_cr4(vcpu) & X86_CR4_OSXSAVE)
			e->ecx |= L1_ECX_OSXSAVE;
		e->edx &= ~L1_EDX_APIC;
		if (vcpu->msrs.apic_base & MSR_IA32_APICBASE_ENABLE)
			e->edx |= L1_EDX_APIC;
	}
	e = kvl_cpuid_lookup(t, n, 0xd, 0);
	if (e)
		e->ebx = kvl_xstate_size(vcpu->xcr0);
}

/* Called when CR4, XCR0 or the APIC base change, and before the table is read. */
void kvl_cpuid_update_runtime(struct kvl_vcpu *vcpu)
{
	kvl_cpuid_runtime_bits(vcpu, vcpu->cpuid, vcpu->cpuid_nent);
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
	/*
	 * As KVM: once the vCPU has run, its model is fixed; the same table
	 * (dynamic bits aside) is accepted and anything else is EINVAL.
	 */
	if (vcpu->ran) {
		int r = 0;
		u32 i;

		kvl_cpuid_runtime_bits(vcpu, e, c.nent);
		kvl_cpuid_update_runtime(vcpu);
		if (c.nent != vcpu->cpuid_nent)
			r = -EINVAL;
		for (i = 0; !r && i < c.nent; i++) {
			const struct kvm_cpuid_entry2 *a = &e[i], *b = &vcpu->cpuid[i];

			if (a->function != b->function || a->index != b->index ||
			    a->flags != b->flags || a->eax != b->eax || a->ebx != b->ebx ||
			    a->ecx != b->ecx || a->edx != b->edx)
				r = -EINVAL;
		}
		kvfree(e);
		return r;
	}
	kvfree(vcpu->cpuid);
	vcpu->cpuid = e;
	vcpu->cpuid_nent = c.nent;
	kvl_cpuid_update_runtime(vcpu);
	return 0;
}

int kvl_get_cpuid2(struct kvl_vcpu *vcpu, struct kvm_cpuid2 __user *argp)
{
	struct kvm_cpuid2 c;

	if (copy_from_user(&c, argp, sizeof(c)))
		return -EFAULT;
	if (c.nent < vcpu->cpuid_nent)
		return -E2BIG;
	kvl_cpuid_update_runtime(vcpu);
	/* As KVM: the entries are copied out, nent is left as the caller set it. */
	if (copy_to_user(argp->entries, vcpu->cpuid, vcpu->cpuid_nent * sizeof(*vcpu->cpuid)))
		return -EFAULT;
	return 0;
}

/* CR4 bits are reserved unless the guest's CPUID has their feature (KVM's check). */
bool kvl_cr4_valid(struct kvl_vcpu *vcpu, u64 cr4)
{
	struct kvm_cpuid_entry2 sup[2];
	const struct kvm_cpuid_entry2 *l1, *l7;
	int n = 0;

	/* Before KVM_SET_CPUID2, as KVM: what we support at all. */
	if (!vcpu->cpuid_nent) {
		kvl_cpuid_add(sup, &n, 2, 1, 0, false);
		kvl_cpuid_add(sup, &n, 2, 7, 0, true);
		l1 = &sup[0];
		l7 = &sup[1];
	} else {
		l1 = kvl_cpuid_find(vcpu, 1, 0);
		l7 = kvl_cpuid_find(vcpu, 7, 0);
	}
	u32 ecx1 = l1 ? l1->ecx : 0, ebx7 = l7 ? l7->ebx : 0, ecx7 = l7 ? l7->ecx : 0;
	u64 ok = X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE | X86_CR4_PSE |
		 X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE | X86_CR4_PCE | X86_CR4_OSFXSR |
		 X86_CR4_OSXMMEXCPT;

	if (ecx1 & BIT(17))
		ok |= X86_CR4_PCIDE;
	if (ecx1 & L1_ECX_XSAVE)
		ok |= X86_CR4_OSXSAVE;
	if (ebx7 & BIT(0))
		ok |= X86_CR4_FSGSBASE;
	if (ebx7 & BIT(7))
		ok |= X86_CR4_SMEP;
	if (ebx7 & BIT(20))
		ok |= X86_CR4_SMAP;
	if (ecx7 & BIT(2))
		ok |= X86_CR4_UMIP;
	/* Nothing here offers VMX, SMX, LA57, PKE, CET or PKS. */
	return !(cr4 & ~ok);
}

/* The guest ran CPUID (two bytes, 0F A2): answer from its table. */
void kvl_emulate_cpuid(struct kvl_vcpu *vcpu)
{
	u32 fn = vcpu->regs[KVL_RAX], idx = vcpu->regs[KVL_RCX];
	const struct kvm_cpuid_entry2 *hit;

	/* CPUID faulting (MISC_FEATURES_ENABLES bit 0): #GP outside ring 0, as KVM. */
	if ((vcpu->msrs.misc_features & MSR_MISC_FEATURES_ENABLES_CPUID_FAULT) &&
	    kvl_ops->get_cpl(vcpu)) {
		kvl_queue_exception(vcpu, GP_VECTOR, true, 0);
		return;
	}
	/* CR4 can change without an exit: bring the dynamic bits up to date. */
	kvl_cpuid_update_runtime(vcpu);
	hit = kvl_cpuid_find(vcpu, fn, idx);
	/* A leaf the table lacks reads as zeros (AMD's behaviour for unknown leaves). */
	vcpu->regs[KVL_RAX] = hit ? hit->eax : 0;
	vcpu->regs[KVL_RBX] = hit ? hit->ebx : 0;
	vcpu->regs[KVL_RCX] = hit ? hit->ecx : 0;
	vcpu->regs[KVL_RDX] = hit ? hit->edx : 0;
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

/*
 * Does the guest's CPUID table have bit @bit of register @reg (0 EAX, 1 EBX,
 * 2 ECX, 3 EDX) in leaf @fn, subleaf @idx?
 */
bool kvl_guest_cpuid_has(struct kvl_vcpu *vcpu, u32 fn, u32 idx, int reg, int bit)
{
	const struct kvm_cpuid_entry2 *e = kvl_cpuid_find(vcpu, fn, idx);
	u32 v;

	if (!e)
		return false;
	v = reg == 0 ? e->eax : reg == 1 ? e->ebx : reg == 2 ? e->ecx : e->edx;
	return v & BIT(bit);
}

/* AuthenticAMD or HygonGenuine in the guest's leaf 0 (KVM's amd_compatible). */
bool kvl_guest_is_amd(struct kvl_vcpu *vcpu)
{
	const struct kvm_cpuid_entry2 *e = kvl_cpuid_find(vcpu, 0, 0);

	return e && ((e->ebx == 0x68747541 && e->ecx == 0x444d4163 && e->edx == 0x69746e65) ||
		     (e->ebx == 0x6f677948 && e->ecx == 0x656e6975 && e->edx == 0x6e65476e));
}
