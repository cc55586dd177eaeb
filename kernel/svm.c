// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: the AMD SVM backend (AMD64 APM vol. 2, chapter 15).
 *
 * Exports kvl_svm_backend and nothing else.  Nested paging is required.
 * The emulated hosts we test on have no NRIP save and no decode assists,
 * so nothing here relies on next_rip or the instruction bytes in the VMCB.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/msr.h>
#include <asm/svm.h>
#include <asm/processor-flags.h>
#include "kvmlite.h"
#include "npt.h"
#include "svm.h"

#define IOPM_PAGES	3
#define MSRPM_PAGES	2

struct svm_cpu {
	struct page *hsave;		/* VM_HSAVE_PA */
	struct page *host_save;		/* VMSAVE/VMLOAD of the host's hidden state */
	u32 asid_gen;
	u32 next_asid;
	bool flush_all;
};

struct svm_vm {
	struct kvl_npt npt;
};

struct svm_vcpu {
	struct vmcb *vmcb;
	unsigned long vmcb_pa;
	u32 asid;
	u32 asid_gen;
	int asid_cpu;
	u64 de_cfg;
	/* NMIs stay masked until the guest's IRET has retired (no vNMI here). */
	bool awaiting_iret;
	unsigned long iret_rip;
	/* An exit is wanted once the guest can take an interrupt (VINTR). */
	bool irq_window;
	/* This entry delivers vcpu->event (an interrupt) through V_IRQ, not EVENTINJ. */
	bool virq;
	/*
	 * KVM_SET_GUEST_DEBUG with single-step or hardware breakpoints: the
	 * debugger owns the debug registers, every MOV DR exits and works
	 * on the guest's values kept here (DR0-3 stay in vcpu->db).
	 */
	bool dbg_regs;
	u64 guest_dr6, guest_dr7;
};

static DEFINE_PER_CPU(struct svm_cpu, svm_cpu);
static struct page *svm_iopm, *svm_msrpm;
static u32 svm_max_asid;

/*
 * MSRs the guest reads and writes without an exit: VMRUN and VMLOAD/VMSAVE
 * switch them through the VMCB, so the host's are never exposed.
 */
static const u32 svm_direct_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR,
	MSR_CSTAR, MSR_SYSCALL_MASK, MSR_IA32_SYSENTER_CS,
	MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
};

/* Clear the read and write intercepts of @msr in the MSR permission map. */
static void svm_msrpm_allow(u8 *msrpm, u32 msr)
{
	static const u32 base[] = { 0, 0xc0000000, 0xc0010000 };
	int i;

	for (i = 0; i < ARRAY_SIZE(base); i++) {
		if (msr - base[i] < 0x2000) {
			u32 bit = i * 0x800 * 8 + (msr - base[i]) * 2;

			msrpm[bit / 8] &= ~(3 << (bit % 8));
			return;
		}
	}
}

static inline struct svm_vcpu *to_svm(struct kvl_vcpu *vcpu)
{
	return vcpu->arch;
}

static inline struct svm_vm *to_svm_vm(struct kvl_vm *vm)
{
	return vm->arch;
}

static int svm_probe(void)
{
	u64 vm_cr;

	if (!boot_cpu_has(X86_FEATURE_SVM))
		return -ENODEV;
	rdmsrl(MSR_VM_CR, vm_cr);
	if (vm_cr & SVM_VM_CR_SVM_DIS_MASK) {
		pr_err("SVM is disabled by the firmware (VM_CR.SVMDIS)\n");
		return -EPERM;
	}
	if (!boot_cpu_has(X86_FEATURE_NPT)) {
		pr_err("SVM without nested paging (NPT) is not supported\n");
		return -EOPNOTSUPP;
	}
	return 0;
}

static void svm_free_cpus(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct svm_cpu *sc = per_cpu_ptr(&svm_cpu, cpu);

		if (sc->hsave)
			__free_page(sc->hsave);
		if (sc->host_save)
			__free_page(sc->host_save);
		sc->hsave = NULL;
		sc->host_save = NULL;
	}
}

static int svm_init(void)
{
	int cpu;

	svm_max_asid = cpuid_ebx(SVM_CPUID_FUNC) - 1;
	if (svm_max_asid < 1)
		return -EOPNOTSUPP;

	svm_iopm = alloc_pages(GFP_KERNEL, get_order(IOPM_PAGES * PAGE_SIZE));
	svm_msrpm = alloc_pages(GFP_KERNEL, get_order(MSRPM_PAGES * PAGE_SIZE));
	if (!svm_iopm || !svm_msrpm)
		goto err_nomem;
	/* Intercept every port and every MSR: the core decides what stays in. */
	memset(page_address(svm_iopm), 0xff, PAGE_SIZE << get_order(IOPM_PAGES * PAGE_SIZE));
	memset(page_address(svm_msrpm), 0xff, PAGE_SIZE << get_order(MSRPM_PAGES * PAGE_SIZE));
	for (cpu = 0; cpu < ARRAY_SIZE(svm_direct_msrs); cpu++)
		svm_msrpm_allow(page_address(svm_msrpm), svm_direct_msrs[cpu]);

	for_each_possible_cpu(cpu) {
		struct svm_cpu *sc = per_cpu_ptr(&svm_cpu, cpu);

		sc->hsave = alloc_pages_node(cpu_to_node(cpu), GFP_KERNEL | __GFP_ZERO, 0);
		sc->host_save = alloc_pages_node(cpu_to_node(cpu), GFP_KERNEL | __GFP_ZERO, 0);
		if (!sc->hsave || !sc->host_save)
			goto err_nomem;
	}
	return 0;

err_nomem:
	svm_free_cpus();
	if (svm_iopm)
		__free_pages(svm_iopm, get_order(IOPM_PAGES * PAGE_SIZE));
	if (svm_msrpm)
		__free_pages(svm_msrpm, get_order(MSRPM_PAGES * PAGE_SIZE));
	return -ENOMEM;
}

static void svm_exit(void)
{
	svm_free_cpus();
	__free_pages(svm_iopm, get_order(IOPM_PAGES * PAGE_SIZE));
	__free_pages(svm_msrpm, get_order(MSRPM_PAGES * PAGE_SIZE));
}

static int svm_cpu_enable(void)
{
	struct svm_cpu *sc = this_cpu_ptr(&svm_cpu);
	u64 efer;

	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME)
		return -EBUSY;
	wrmsrl(MSR_EFER, efer | EFER_SVME);
	wrmsrl(MSR_VM_HSAVE_PA, page_to_phys(sc->hsave));
	/* ASIDs handed out before we last owned SVM here are stale. */
	sc->asid_gen++;
	sc->next_asid = 1;
	sc->flush_all = true;
	return 0;
}

static void svm_cpu_disable(void)
{
	u64 efer;

	wrmsrl(MSR_VM_HSAVE_PA, 0);
	rdmsrl(MSR_EFER, efer);
	wrmsrl(MSR_EFER, efer & ~EFER_SVME);
}

static int svm_vm_init(struct kvl_vm *vm)
{
	struct svm_vm *sv = kzalloc(sizeof(*sv), GFP_KERNEL_ACCOUNT);
	int r;

	if (!sv)
		return -ENOMEM;
	r = kvl_npt_init(&sv->npt, &kvl_npt_amd);
	if (r) {
		kfree(sv);
		return r;
	}
	vm->arch = sv;
	return 0;
}

static void svm_vm_destroy(struct kvl_vm *vm)
{
	struct svm_vm *sv = to_svm_vm(vm);

	kvl_npt_destroy(&sv->npt);
	kfree(sv);
	vm->arch = NULL;
}

static void svm_zap_gpa(struct kvl_vm *vm, u64 start, u64 end)
{
	kvl_npt_zap(&to_svm_vm(vm)->npt, start, end);
}

static int svm_map_gpa(struct kvl_vm *vm, u64 gpa, unsigned long pfn, bool writable)
{
	return kvl_npt_map(&to_svm_vm(vm)->npt, gpa, pfn, writable);
}

static int svm_map_gpa_2m(struct kvl_vm *vm, u64 gpa, unsigned long pfn, bool writable)
{
	u64 *old = NULL;
	int r = kvl_npt_map_level(&to_svm_vm(vm)->npt, gpa, pfn, writable, 2, &old);

	if (old) {
		/* No CPU may still walk the empty 4 KiB table the 2 MiB page replaced. */
		kvl_kick_all(vm, KVL_REQ_TLB_FLUSH);
		kvl_npt_free_table(old);
	}
	return r;
}

static void svm_set_intercept(struct vmcb_control_area *c, int bit)
{
	c->intercepts[bit / 32] |= BIT(bit % 32);
}

static void svm_clr_intercept(struct vmcb_control_area *c, int bit)
{
	c->intercepts[bit / 32] &= ~BIT(bit % 32);
}

static void svm_seg_reset(struct vmcb_seg *s, u16 sel, u16 attrib, u64 base)
{
	s->selector = sel;
	s->attrib = attrib;
	s->limit = 0xffff;
	s->base = base;
}

static void svm_update_guest_debug(struct kvl_vcpu *vcpu);

static void svm_vmcb_reset(struct kvl_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;
	struct vmcb_control_area *c = &vmcb->control;
	struct vmcb_save_area *s = &vmcb->save;
	static const int intercepts[] = {
		INTERCEPT_INTR, INTERCEPT_NMI, INTERCEPT_SMI, INTERCEPT_CPUID,
		INTERCEPT_HLT, INTERCEPT_INVLPGA, INTERCEPT_IOIO_PROT,
		INTERCEPT_MSR_PROT, INTERCEPT_SHUTDOWN, INTERCEPT_VMRUN,
		INTERCEPT_VMMCALL, INTERCEPT_VMLOAD, INTERCEPT_VMSAVE,
		INTERCEPT_STGI, INTERCEPT_CLGI, INTERCEPT_SKINIT,
		INTERCEPT_MONITOR, INTERCEPT_MWAIT, INTERCEPT_XSETBV,
		/* DR0-3 until the guest first touches them: then they are switched. */
		INTERCEPT_DR0_READ, INTERCEPT_DR0_READ + 1, INTERCEPT_DR0_READ + 2,
		INTERCEPT_DR0_READ + 3, INTERCEPT_DR0_WRITE, INTERCEPT_DR0_WRITE + 1,
		INTERCEPT_DR0_WRITE + 2, INTERCEPT_DR0_WRITE + 3,
	};
	u64 tsc_offset = c->tsc_offset;	/* INIT and shutdown leave the TSC running */
	int i;

	memset(vmcb, 0, PAGE_SIZE);
	c->tsc_offset = tsc_offset;
	for (i = 0; i < ARRAY_SIZE(intercepts); i++)
		svm_set_intercept(c, intercepts[i]);
	c->iopm_base_pa = page_to_phys(svm_iopm);
	c->msrpm_base_pa = page_to_phys(svm_msrpm);
	c->int_ctl = V_INTR_MASKING_MASK;
	c->nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	c->nested_cr3 = virt_to_phys(to_svm_vm(vcpu->vm)->npt.root);

	/* The architectural reset state (APM vol. 2, 14.1.3). */
	svm_seg_reset(&s->cs, 0xf000, 0x9b, 0xffff0000);
	svm_seg_reset(&s->ds, 0, 0x93, 0);
	svm_seg_reset(&s->es, 0, 0x93, 0);
	svm_seg_reset(&s->fs, 0, 0x93, 0);
	svm_seg_reset(&s->gs, 0, 0x93, 0);
	svm_seg_reset(&s->ss, 0, 0x93, 0);
	svm_seg_reset(&s->gdtr, 0, 0, 0);
	svm_seg_reset(&s->idtr, 0, 0, 0);
	svm_seg_reset(&s->ldtr, 0, 0x82, 0);
	svm_seg_reset(&s->tr, 0, 0x8b, 0);
	s->cr0 = X86_CR0_NW | X86_CR0_CD | X86_CR0_ET;
	s->efer = EFER_SVME;
	s->dr6 = 0xffff0ff0;
	s->dr7 = 0x400;
	s->g_pat = 0x0007040600070406ULL;
	svm->de_cfg = 0;
	svm->awaiting_iret = false;
	svm->irq_window = false;
	svm->virq = false;
	vcpu->db_guest_owned = false;
	memset(vcpu->db, 0, sizeof(vcpu->db));
	vcpu->event.type = KVL_EVENT_NONE;
	vcpu->pending_exc.type = KVL_EVENT_NONE;
	vcpu->nmi_pending = false;
	vcpu->nmi_masked = false;
	/* The debugger's hold outlives INIT (and shutdown), as in KVM. */
	svm->dbg_regs = false;
	if (vcpu->guest_debug)
		svm_update_guest_debug(vcpu);
}

static int svm_vcpu_create(struct kvl_vcpu *vcpu)
{
	struct svm_vcpu *svm = kzalloc(sizeof(*svm), GFP_KERNEL_ACCOUNT);

	if (!svm)
		return -ENOMEM;
	svm->vmcb = (struct vmcb *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!svm->vmcb) {
		kfree(svm);
		return -ENOMEM;
	}
	svm->vmcb_pa = virt_to_phys(svm->vmcb);
	svm->asid_cpu = -1;
	vcpu->arch = svm;
	svm_vmcb_reset(vcpu);
	return 0;
}

static void svm_vcpu_destroy(struct kvl_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	free_page((unsigned long)svm->vmcb);
	kfree(svm);
	vcpu->arch = NULL;
}

/* Segments: kvm_segment <-> the VMCB's packed attribute word. */
static void svm_get_seg(const struct vmcb_seg *s, struct kvm_segment *k)
{
	k->base = s->base;
	k->limit = s->limit;
	k->selector = s->selector;
	k->type = s->attrib & 0xf;
	k->s = (s->attrib >> 4) & 1;
	k->dpl = (s->attrib >> 5) & 3;
	k->present = (s->attrib >> 7) & 1;
	k->avl = (s->attrib >> 8) & 1;
	k->l = (s->attrib >> 9) & 1;
	k->db = (s->attrib >> 10) & 1;
	k->g = (s->attrib >> 11) & 1;
	k->unusable = !k->present;
}

static void svm_set_seg(struct vmcb_seg *s, const struct kvm_segment *k)
{
	s->base = k->base;
	s->limit = k->limit;
	s->selector = k->selector;
	if (k->unusable)
		s->attrib = 0;
	else
		s->attrib = (k->type & 0xf) | (k->s & 1) << 4 | (k->dpl & 3) << 5 |
			    (k->present & 1) << 7 | (k->avl & 1) << 8 |
			    (k->l & 1) << 9 | (k->db & 1) << 10 | (k->g & 1) << 11;
}

static u64 svm_get_cr8(struct kvl_vcpu *vcpu)
{
	return to_svm(vcpu)->vmcb->control.int_ctl & V_TPR_MASK;
}

static void svm_get_sregs(struct kvl_vcpu *vcpu, struct kvm_sregs *sr)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save_area *s = &svm->vmcb->save;

	svm_get_seg(&s->cs, &sr->cs);
	svm_get_seg(&s->ds, &sr->ds);
	svm_get_seg(&s->es, &sr->es);
	svm_get_seg(&s->fs, &sr->fs);
	svm_get_seg(&s->gs, &sr->gs);
	svm_get_seg(&s->ss, &sr->ss);
	svm_get_seg(&s->tr, &sr->tr);
	svm_get_seg(&s->ldtr, &sr->ldt);
	sr->gdt.base = s->gdtr.base;
	sr->gdt.limit = s->gdtr.limit;
	sr->idt.base = s->idtr.base;
	sr->idt.limit = s->idtr.limit;
	sr->cr0 = s->cr0;
	sr->cr2 = s->cr2;
	sr->cr3 = s->cr3;
	sr->cr4 = s->cr4;
	sr->cr8 = vcpu->lapic ? kvl_apic_get_tpr(vcpu) : svm_get_cr8(vcpu);
	sr->efer = s->efer & ~EFER_SVME;
	sr->apic_base = vcpu->msrs.apic_base;
}

static int svm_set_sregs(struct kvl_vcpu *vcpu, const struct kvm_sregs *sr)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save_area *s = &svm->vmcb->save;
	u64 efer = sr->efer;

	/* Reserved bits: rejected before anything changes. */
	if (sr->cr0 >> 32 || sr->cr4 >> 32 || sr->cr8 > 15 ||
	    (efer & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)) ||
	    ((sr->cr0 & X86_CR0_NW) && !(sr->cr0 & X86_CR0_CD)) ||
	    ((sr->cr0 & X86_CR0_PG) && !(sr->cr0 & X86_CR0_PE)))
		return -EINVAL;
	if ((efer & EFER_LME) && (sr->cr0 & X86_CR0_PG) && !(sr->cr4 & X86_CR4_PAE))
		return -EINVAL;
	/* LMA follows LME and CR0.PG, as on hardware. */
	if ((efer & EFER_LME) && (sr->cr0 & X86_CR0_PG))
		efer |= EFER_LMA;
	else
		efer &= ~EFER_LMA;

	svm_set_seg(&s->cs, &sr->cs);
	svm_set_seg(&s->ds, &sr->ds);
	svm_set_seg(&s->es, &sr->es);
	svm_set_seg(&s->fs, &sr->fs);
	svm_set_seg(&s->gs, &sr->gs);
	svm_set_seg(&s->ss, &sr->ss);
	svm_set_seg(&s->tr, &sr->tr);
	svm_set_seg(&s->ldtr, &sr->ldt);
	s->gdtr.base = sr->gdt.base;
	s->gdtr.limit = sr->gdt.limit;
	s->idtr.base = sr->idt.base;
	s->idtr.limit = sr->idt.limit;
	s->cr0 = sr->cr0;
	s->cr2 = sr->cr2;
	s->cr3 = sr->cr3;
	s->cr4 = sr->cr4;
	s->cpl = (sr->cr0 & X86_CR0_PE) ? sr->ss.dpl : 0;
	svm->vmcb->control.int_ctl = (svm->vmcb->control.int_ctl & ~V_TPR_MASK) | sr->cr8;
	if (vcpu->lapic)
		kvl_apic_set_tpr(vcpu, sr->cr8);
	s->efer = efer | EFER_SVME;
	return 0;
}

/* #VMEXIT(VINTR) once the guest can take an interrupt: programmed at entry. */
static void svm_set_irq_window(struct kvl_vcpu *vcpu, bool on)
{
	to_svm(vcpu)->irq_window = on;
}

/*
 * V_IRQ at entry: either the interrupt being delivered, or vector 0 with
 * the VINTR intercept for the interrupt window.
 *
 * An external interrupt the guest can take right now (IF set, no
 * interrupt shadow) goes in through V_IRQ rather than EVENTINJ; the CPU
 * takes it before the first guest instruction all the same.  The reason
 * is QEMU's emulated SVM, our AMD test host: it delivers an EVENTINJ
 * interrupt inside VMRUN and leaves the vector in its pending-exception
 * slot, so a TCG kick that lands before the guest's next exit delivers
 * the interrupt a second time, at the handler's first instruction
 * (ipi_test counted 51 pings for 50 sent, the extra one pushed over the
 * handler's own entry point).  Its V_IRQ path has no such slot.  Real
 * hardware delivers either the same way.
 */
static void svm_program_virq(struct kvl_vcpu *vcpu, struct svm_vcpu *svm)
{
	struct vmcb_control_area *c = &svm->vmcb->control;
	const struct kvl_event *e = &vcpu->event;

	c->int_ctl &= ~(V_IRQ_MASK | V_INTR_PRIO_MASK | V_IGN_TPR_MASK);
	svm->virq = e->type == KVL_EVENT_INTR && (vcpu->rflags & X86_EFLAGS_IF) &&
		    !(c->int_state & SVM_INTERRUPT_SHADOW_MASK);
	if (svm->virq) {
		c->event_inj = 0;
		c->int_vector = e->vector;
		c->int_ctl |= V_IRQ_MASK | V_IGN_TPR_MASK | (0xf << V_INTR_PRIO_SHIFT);
		svm_clr_intercept(c, INTERCEPT_VINTR);
		/*
		 * V_IRQ cannot also be the window: the handler's IRET exits
		 * instead, and the window is armed again from there.
		 */
		if (svm->irq_window)
			svm_set_intercept(c, INTERCEPT_IRET);
	} else if (svm->irq_window) {
		c->int_vector = 0;
		c->int_ctl |= V_IRQ_MASK | (0xf << V_INTR_PRIO_SHIFT);
		svm_set_intercept(c, INTERCEPT_VINTR);
	} else {
		svm_clr_intercept(c, INTERCEPT_VINTR);
	}
}

#define SVM_DR6_ACTIVE_LOW	0xffff0ff0ULL

static void svm_update_guest_debug(struct kvl_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_control_area *c = &svm->vmcb->control;
	struct vmcb_save_area *s = &svm->vmcb->save;
	bool own = vcpu->guest_debug & (KVM_GUESTDBG_SINGLESTEP | KVM_GUESTDBG_USE_HW_BP);
	int i;

	if (vcpu->guest_debug & KVM_GUESTDBG_USE_SW_BP)
		svm_set_intercept(c, INTERCEPT_EXCEPTION_OFFSET + BP_VECTOR);
	else
		svm_clr_intercept(c, INTERCEPT_EXCEPTION_OFFSET + BP_VECTOR);
	if (own && !svm->dbg_regs) {
		svm->guest_dr6 = s->dr6;
		svm->guest_dr7 = s->dr7;
	} else if (!own && svm->dbg_regs) {
		s->dr6 = svm->guest_dr6;
		s->dr7 = svm->guest_dr7;
	}
	svm->dbg_regs = own;
	for (i = 0; i < 8; i++) {
		/* Outside the debugger's hold: DR0-3 until the guest's first touch. */
		if (own || (i < 4 && !vcpu->db_guest_owned)) {
			svm_set_intercept(c, INTERCEPT_DR0_READ + i);
			svm_set_intercept(c, INTERCEPT_DR0_WRITE + i);
		} else {
			svm_clr_intercept(c, INTERCEPT_DR0_READ + i);
			svm_clr_intercept(c, INTERCEPT_DR0_WRITE + i);
		}
	}
	if (own) {
		svm_set_intercept(c, INTERCEPT_EXCEPTION_OFFSET + DB_VECTOR);
		s->dr7 = vcpu->guest_debug & KVM_GUESTDBG_USE_HW_BP ? vcpu->guest_debug_dr7 :
								       svm->guest_dr7;
	} else {
		svm_clr_intercept(c, INTERCEPT_EXCEPTION_OFFSET + DB_VECTOR);
	}
}

/* The debugger holds the debug registers: MOV DR on the guest's values. */
static int svm_emulate_mov_dr(struct kvl_vcpu *vcpu, int dr, bool write)
{
	struct vmcb_save_area *s = &to_svm(vcpu)->vmcb->save;
	bool lm = (s->efer & EFER_LMA) && (s->cs.attrib & SVM_SELECTOR_L_MASK);
	unsigned long *reg;
	int len;

	/* No decode assists: the instruction names the register. */
	len = kvl_mov_dr_gpr(vcpu, &reg);
	if (len < 0) {
		kvl_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION, dr, vcpu->rip);
		return KVL_EXIT_USER;
	}
	return kvl_emulate_mov_dr(vcpu, dr, write, reg, lm, len);
}

static void svm_vcpu_reset(struct kvl_vcpu *vcpu)
{
	svm_vmcb_reset(vcpu);
	to_svm(vcpu)->asid_cpu = -1;	/* a fresh ASID: nothing of before survives */
}

static u64 svm_get_cr4(struct kvl_vcpu *vcpu)
{
	return to_svm(vcpu)->vmcb->save.cr4;
}

static void svm_get_emu_regs(struct kvl_vcpu *vcpu, struct kvl_emu_regs *r)
{
	struct vmcb_save_area *s = &to_svm(vcpu)->vmcb->save;

	r->seg_base[0] = s->es.base;
	r->seg_base[1] = s->cs.base;
	r->seg_base[2] = s->ss.base;
	r->seg_base[3] = s->ds.base;
	r->seg_base[4] = s->fs.base;
	r->seg_base[5] = s->gs.base;
	r->cr0 = s->cr0;
	r->cr3 = s->cr3;
	r->cr4 = s->cr4;
	r->efer = s->efer & ~EFER_SVME;
	r->cs_l = (s->cs.attrib >> 9) & 1;
	r->cs_db = (s->cs.attrib >> 10) & 1;
	r->cpl = s->cpl;
}

static int svm_get_cpl(struct kvl_vcpu *vcpu)
{
	return to_svm(vcpu)->vmcb->save.cpl;
}

static u8 svm_get_interrupt_shadow(struct kvl_vcpu *vcpu)
{
	/* SVM does not say whether STI or MOV SS made it: KVM reports MOV SS. */
	return (to_svm(vcpu)->vmcb->control.int_state & SVM_INTERRUPT_SHADOW_MASK) ?
	       KVM_X86_SHADOW_INT_MOV_SS : 0;
}

static void svm_set_interrupt_shadow(struct kvl_vcpu *vcpu, u8 shadow)
{
	struct vmcb_control_area *c = &to_svm(vcpu)->vmcb->control;

	if (shadow)
		c->int_state |= SVM_INTERRUPT_SHADOW_MASK;
	else
		c->int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
}

static void svm_get_dr67(struct kvl_vcpu *vcpu, u64 *dr6, u64 *dr7)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	*dr6 = svm->dbg_regs ? svm->guest_dr6 : svm->vmcb->save.dr6;
	*dr7 = svm->dbg_regs ? svm->guest_dr7 : svm->vmcb->save.dr7;
}

static void svm_set_dr67(struct kvl_vcpu *vcpu, u64 dr6, u64 dr7)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	if (svm->dbg_regs) {
		svm->guest_dr6 = dr6;
		svm->guest_dr7 = dr7;
		if (!(vcpu->guest_debug & KVM_GUESTDBG_USE_HW_BP))
			svm->vmcb->save.dr7 = dr7;
		return;
	}
	svm->vmcb->save.dr6 = dr6;
	svm->vmcb->save.dr7 = dr7;
}

/* PAT: eight types, each UC, WC, WT, WP, WB or UC- (not 2 or 3). */
static bool svm_pat_ok(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 t = pat >> (i * 8);

		if (t > 7 || t == 2 || t == 3)
			return false;
	}
	return true;
}

static int svm_get_msr(struct kvl_vcpu *vcpu, u32 index, u64 *data)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save_area *s = &svm->vmcb->save;

	switch (index) {
	case MSR_EFER:
		*data = s->efer & ~EFER_SVME;
		break;
	case MSR_STAR:
		*data = s->star;
		break;
	case MSR_LSTAR:
		*data = s->lstar;
		break;
	case MSR_CSTAR:
		*data = s->cstar;
		break;
	case MSR_SYSCALL_MASK:
		*data = s->sfmask;
		break;
	case MSR_KERNEL_GS_BASE:
		*data = s->kernel_gs_base;
		break;
	case MSR_FS_BASE:
		*data = s->fs.base;
		break;
	case MSR_GS_BASE:
		*data = s->gs.base;
		break;
	case MSR_IA32_SYSENTER_CS:
		*data = s->sysenter_cs;
		break;
	case MSR_IA32_SYSENTER_ESP:
		*data = s->sysenter_esp;
		break;
	case MSR_IA32_SYSENTER_EIP:
		*data = s->sysenter_eip;
		break;
	case MSR_IA32_CR_PAT:
		*data = s->g_pat;
		break;
	case MSR_IA32_TSC:
		*data = rdtsc() + svm->vmcb->control.tsc_offset;
		break;
	case MSR_AMD64_DE_CFG:
		*data = svm->de_cfg;
		break;
	default:
		return 1;
	}
	return 0;
}

static int svm_set_msr(struct kvl_vcpu *vcpu, u32 index, u64 data, bool host)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save_area *s = &svm->vmcb->save;

	switch (index) {
	case MSR_EFER:
		if (data & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX))
			return 1;
		/* LME cannot change under paging; LMA is the CPU's to set. */
		if (!host && (s->cr0 & X86_CR0_PG) && ((data ^ s->efer) & EFER_LME))
			return 1;
		s->efer = (data & ~EFER_LMA) | (s->efer & EFER_LMA) | EFER_SVME;
		break;
	case MSR_STAR:
		s->star = data;
		break;
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		/* KVM makes these canonical rather than refusing them. */
		data = (s64)(data << 16) >> 16;
		fallthrough;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_KERNEL_GS_BASE:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
		/* Addresses: canonical only, or VMRUN would refuse the VMCB. */
		if ((s64)(data << 16) >> 16 != data)
			return 1;
		if (index == MSR_LSTAR)
			s->lstar = data;
		else if (index == MSR_CSTAR)
			s->cstar = data;
		else if (index == MSR_KERNEL_GS_BASE)
			s->kernel_gs_base = data;
		else if (index == MSR_FS_BASE)
			s->fs.base = data;
		else if (index == MSR_GS_BASE)
			s->gs.base = data;
		else if (index == MSR_IA32_SYSENTER_ESP)
			s->sysenter_esp = data;
		else
			s->sysenter_eip = data;
		break;
	case MSR_SYSCALL_MASK:
		s->sfmask = data;
		break;
	case MSR_IA32_SYSENTER_CS:
		s->sysenter_cs = data;
		break;
	case MSR_IA32_CR_PAT:
		if (!svm_pat_ok(data))
			return 1;
		s->g_pat = data;
		break;
	case MSR_IA32_TSC:
		svm->vmcb->control.tsc_offset = data - rdtsc();
		break;
	case MSR_AMD64_DE_CFG:
		if (data & ~MSR_AMD64_DE_CFG_LFENCE_SERIALIZE)
			return 1;
		svm->de_cfg = data;
		break;
	default:
		return 1;
	}
	return 0;
}

/* Program the next event: a re-injection first, then exceptions, then NMIs. */
static void svm_inject_event(struct kvl_vcpu *vcpu, struct svm_vcpu *svm)
{
	struct vmcb_control_area *c = &svm->vmcb->control;
	struct kvl_event *e = &vcpu->event;
	static const u32 type[] = {
		[KVL_EVENT_EXCEPTION] = SVM_EVTINJ_TYPE_EXEPT,
		[KVL_EVENT_INTR] = SVM_EVTINJ_TYPE_INTR,
		[KVL_EVENT_SOFT_INTR] = SVM_EVTINJ_TYPE_SOFT,
		[KVL_EVENT_NMI] = SVM_EVTINJ_TYPE_NMI,
	};

	if (svm->awaiting_iret && vcpu->rip != svm->iret_rip) {
		svm->awaiting_iret = false;
		vcpu->nmi_masked = false;
	}
	if (e->type == KVL_EVENT_NONE) {
		if (vcpu->pending_exc.type != KVL_EVENT_NONE) {
			*e = vcpu->pending_exc;
			vcpu->pending_exc.type = KVL_EVENT_NONE;
		} else if (vcpu->nmi_pending && !vcpu->nmi_masked) {
			e->type = KVL_EVENT_NMI;
			e->vector = NMI_VECTOR;
			e->has_err = false;
			vcpu->nmi_pending = false;
		}
	}
	if (e->type == KVL_EVENT_NONE) {
		c->event_inj = 0;
		return;
	}
	c->event_inj = e->vector | type[e->type] | SVM_EVTINJ_VALID |
		       (e->has_err ? SVM_EVTINJ_VALID_ERR : 0);
	c->event_inj_err = e->err;
	if (e->type == KVL_EVENT_NMI) {
		vcpu->nmi_masked = true;
		svm_set_intercept(c, INTERCEPT_IRET);
	}
}

/* After the exit: an event whose delivery the exit cut short is delivered again. */
static void svm_complete_event(struct kvl_vcpu *vcpu, struct svm_vcpu *svm)
{
	struct vmcb_control_area *c = &svm->vmcb->control;
	u32 info = c->exit_int_info;
	u8 vec = info & SVM_EXITINTINFO_VEC_MASK;
	struct kvl_event *e = &vcpu->event;
	struct kvl_event injected = *e;	/* what svm_inject_event() programmed, if anything */

	c->event_inj = 0;
	e->type = KVL_EVENT_NONE;
	if (svm->virq) {
		bool taken = !(c->int_ctl & V_IRQ_MASK);

		svm->virq = false;
		c->int_ctl &= ~V_IRQ_MASK;
		/*
		 * Cut short (QEMU reports that as an exception with the
		 * interrupt's vector), or not taken yet (an intercept such as
		 * a host interrupt came first): it is still on its way in.
		 */
		if (((info & SVM_EXITINTINFO_VALID) &&
		     (info & SVM_EXITINTINFO_TYPE_MASK) != SVM_EXITINTINFO_TYPE_NMI &&
		     vec == injected.vector) || !taken) {
			*e = injected;
			return;
		}
	}
	if (!(info & SVM_EXITINTINFO_VALID))
		return;
	e->vector = vec;
	e->has_err = info & SVM_EXITINTINFO_VALID_ERR;
	e->err = c->exit_int_info_err;
	switch (info & SVM_EXITINTINFO_TYPE_MASK) {
	case SVM_EXITINTINFO_TYPE_EXEPT:
		/*
		 * INT3/INTO are traps of an instruction: it runs again instead,
		 * unless the #BP/#OF was ours (INJECT_BP, KVM_SET_VCPU_EVENTS).
		 */
		if ((vec != BP_VECTOR && vec != OF_VECTOR) ||
		    (injected.type == KVL_EVENT_EXCEPTION && injected.vector == vec))
			e->type = KVL_EVENT_EXCEPTION;
		break;
	case SVM_EXITINTINFO_TYPE_INTR:
		e->type = KVL_EVENT_INTR;
		break;
	case SVM_EXITINTINFO_TYPE_NMI:
		e->type = KVL_EVENT_NMI;
		break;
	default:	/* INT n: RIP is still on the instruction, which runs again */
		break;
	}
}

static void svm_set_cr2(struct kvl_vcpu *vcpu, u64 cr2)
{
	to_svm(vcpu)->vmcb->save.cr2 = cr2;
}

static int svm_exit_ioio(struct kvl_vcpu *vcpu, struct vmcb_control_area *c)
{
	u32 info = c->exit_info_1;
	struct kvl_pio *pio = &vcpu->pio;

	/* INS/OUTS: the emulator decodes them (no decode assists here). */
	if (info & (SVM_IOIO_STR_MASK | SVM_IOIO_REP_MASK))
		return KVL_EXIT_EMULATE;
	pio->port = info >> 16;
	pio->in = info & SVM_IOIO_TYPE_MASK;
	/* SZ8, SZ16, SZ32 are one-hot bits 4..6: shifted down they are 1, 2, 4. */
	pio->size = (info & SVM_IOIO_SIZE_MASK) >> SVM_IOIO_SIZE_SHIFT;
	pio->string = false;
	pio->rep = false;
	pio->count = 1;
	pio->next_rip = c->exit_info_2;
	return KVL_EXIT_IO;
}

static int svm_handle_exit(struct kvl_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_control_area *c = &svm->vmcb->control;
	struct kvm_run *run = vcpu->run;
	u64 code = ((u64)c->exit_code_hi << 32) | c->exit_code;
	int i;

	/* VMEXIT_INVALID is -1: QEMU writes only its low half, KVM reads only that. */
	if (c->exit_code == (u32)SVM_EXIT_ERR)
		code = SVM_EXIT_ERR;

	switch (code) {
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
	case SVM_EXIT_SMI:
		return KVL_EXIT_INTR;
	case SVM_EXIT_IOIO:
		return svm_exit_ioio(vcpu, c);
	case SVM_EXIT_CPUID:
		kvl_emulate_cpuid(vcpu);
		return KVL_EXIT_CONTINUE;
	case SVM_EXIT_MSR:
		if (c->exit_info_1)
			kvl_emulate_wrmsr(vcpu);
		else
			kvl_emulate_rdmsr(vcpu);
		return KVL_EXIT_CONTINUE;
	case SVM_EXIT_XSETBV:
		kvl_emulate_xsetbv(vcpu);
		return KVL_EXIT_CONTINUE;
	case SVM_EXIT_READ_DR0 ... SVM_EXIT_READ_DR7:
	case SVM_EXIT_WRITE_DR0 ... SVM_EXIT_WRITE_DR7:
		if (svm->dbg_regs)
			return svm_emulate_mov_dr(vcpu, code & 7, code >= SVM_EXIT_WRITE_DR0);
		/* First touch: hand DR0-3 to the guest and run the MOV again. */
		vcpu->db_guest_owned = true;
		for (i = 0; i < 4; i++) {
			svm_clr_intercept(c, INTERCEPT_DR0_READ + i);
			svm_clr_intercept(c, INTERCEPT_DR0_WRITE + i);
		}
		return KVL_EXIT_CONTINUE;
	case SVM_EXIT_EXCP_BASE + DB_VECTOR:
		/* Intercepted only for the debugger (single-step, hardware breakpoints). */
		kvl_debug_exit(vcpu, DB_VECTOR, svm->vmcb->save.dr6, svm->vmcb->save.dr7,
			       svm->vmcb->save.cs.base + vcpu->rip);
		return KVL_EXIT_USER;
	case SVM_EXIT_EXCP_BASE + BP_VECTOR:
		/* KVM_GUESTDBG_USE_SW_BP: RIP is on the INT3. */
		kvl_debug_exit(vcpu, BP_VECTOR, 0, 0, svm->vmcb->save.cs.base + vcpu->rip);
		return KVL_EXIT_USER;
	case SVM_EXIT_VINTR:
		svm_set_irq_window(vcpu, false);
		return KVL_EXIT_CONTINUE;
	case SVM_EXIT_IRET:
		/*
		 * NMIs unmask once this IRET has run: at the next entry past it.
		 * (Also intercepted to end an interrupt handler, see
		 * svm_program_virq(): with NMIs unmasked that changes nothing.)
		 */
		svm_clr_intercept(c, INTERCEPT_IRET);
		if (vcpu->nmi_masked) {
			svm->awaiting_iret = true;
			svm->iret_rip = vcpu->rip;
		}
		return KVL_EXIT_CONTINUE;
	case SVM_EXIT_HLT:
		kvl_skip_instruction(vcpu, 1);
		return KVL_EXIT_HLT;
	case SVM_EXIT_NPF:
		vcpu->fault_gpa = c->exit_info_2;
		vcpu->fault_write = c->exit_info_1 & BIT(1);
		vcpu->fault_vectoring = c->exit_int_info & SVM_EXITINTINFO_VALID;
		return KVL_EXIT_GPA_FAULT;
	case SVM_EXIT_SHUTDOWN:
		/* The VMCB is undefined after a shutdown intercept: start over. */
		svm_vmcb_reset(vcpu);
		run->exit_reason = KVM_EXIT_SHUTDOWN;
		return KVL_EXIT_USER;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMMCALL:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
		/* Not advertised to the guest: #UD, as on a CPU without them. */
		kvl_queue_exception(vcpu, UD_VECTOR, false, 0);
		return KVL_EXIT_CONTINUE;
	case SVM_EXIT_ERR:
		run->exit_reason = KVM_EXIT_FAIL_ENTRY;
		run->fail_entry.hardware_entry_failure_reason = code;
		run->fail_entry.cpu = smp_processor_id();
		return KVL_EXIT_USER;
	default:
		kvl_internal_error(vcpu, KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON, code,
				   vcpu->cpu);	/* the CPU it exited on */
		return KVL_EXIT_USER;
	}
}

/* Pick this vCPU's ASID on this CPU (KVM's generation scheme). */
static void svm_pick_asid(struct svm_vcpu *svm, struct svm_cpu *sc, int cpu)
{
	struct vmcb_control_area *c = &svm->vmcb->control;

	if (svm->asid_cpu == cpu && svm->asid_gen == sc->asid_gen)
		return;
	if (sc->next_asid > svm_max_asid) {
		sc->asid_gen++;
		sc->next_asid = 1;
		sc->flush_all = true;
	}
	svm->asid = sc->next_asid++;
	svm->asid_gen = sc->asid_gen;
	svm->asid_cpu = cpu;
	c->tlb_ctl = TLB_CONTROL_FLUSH_ASID;
}

static void svm_load_guest_db(const unsigned long *db)
{
	set_debugreg(0, 7);
	set_debugreg(db[0], 0);
	set_debugreg(db[1], 1);
	set_debugreg(db[2], 2);
	set_debugreg(db[3], 3);
}

static void svm_save_guest_db(struct kvl_vcpu *vcpu)
{
	get_debugreg(vcpu->db[0], 0);
	get_debugreg(vcpu->db[1], 1);
	get_debugreg(vcpu->db[2], 2);
	get_debugreg(vcpu->db[3], 3);
}

static int svm_vcpu_run(struct kvl_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;
	int cpu = smp_processor_id();
	struct svm_cpu *sc = this_cpu_ptr(&svm_cpu);

	svm_pick_asid(svm, sc, cpu);
	if (test_and_clear_bit(KVL_REQ_TLB_FLUSH, &vcpu->requests))
		vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ASID;
	if (sc->flush_all) {
		vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
		sc->flush_all = false;
	}
	vmcb->control.asid = svm->asid;
	vmcb->control.clean = 0;
	vmcb->save.rax = vcpu->regs[KVL_RAX];
	vmcb->save.rsp = vcpu->rsp;
	vmcb->save.rip = vcpu->rip;
	vmcb->save.rflags = vcpu->rflags;
	svm_inject_event(vcpu, svm);
	svm_program_virq(vcpu, svm);
	if (vcpu->lapic)
		vmcb->control.int_ctl = (vmcb->control.int_ctl & ~V_TPR_MASK) |
					kvl_apic_get_tpr(vcpu);

	if (svm->dbg_regs) {
		/* Each debug exit reports this entry's DR6 bits only, as KVM's. */
		vmcb->save.dr6 = SVM_DR6_ACTIVE_LOW;
		svm_load_guest_db(vcpu->guest_debug & KVM_GUESTDBG_USE_HW_BP ?
				  vcpu->guest_debug_db : vcpu->db);
	} else if (vcpu->db_guest_owned) {
		svm_load_guest_db(vcpu->db);
	}
	kvl_fpu_load_guest_xcr0(vcpu, vmcb->save.cr4);

	asm volatile("clgi" ::: "memory");
	kvl_svm_enter(svm->vmcb_pa, vcpu->regs, page_to_phys(sc->host_save),
		      vmcb->control.int_state & SVM_INTERRUPT_SHADOW_MASK);
	asm volatile("stgi" ::: "memory");

	kvl_fpu_put_guest_xcr0(vcpu, vmcb->save.cr4);
	/* Under the debugger every MOV DR exits: DR0-3 cannot have changed. */
	if (vcpu->db_guest_owned && !svm->dbg_regs)
		svm_save_guest_db(vcpu);
	/* The guest's DR0-3/DR7 may be in the CPU: give the host its breakpoints back. */
	if (hw_breakpoint_active())
		hw_breakpoint_restore();

	vmcb->control.tlb_ctl = TLB_CONTROL_DO_NOTHING;
	vcpu->regs[KVL_RAX] = vmcb->save.rax;
	vcpu->rsp = vmcb->save.rsp;
	vcpu->rip = vmcb->save.rip;
	vcpu->rflags = vmcb->save.rflags;
	svm_complete_event(vcpu, svm);
	/* A 64-bit guest writes CR8 without an exit: it lands in V_TPR. */
	if (vcpu->lapic)
		kvl_apic_set_tpr(vcpu, vmcb->control.int_ctl & V_TPR_MASK);
	return 0;
}

const struct kvl_backend kvl_svm_backend = {
	.name		= "AMD SVM",
	.probe		= svm_probe,
	.init		= svm_init,
	.exit		= svm_exit,
	.cpu_enable	= svm_cpu_enable,
	.cpu_disable	= svm_cpu_disable,
	.vm_init	= svm_vm_init,
	.vm_destroy	= svm_vm_destroy,
	.zap_gpa	= svm_zap_gpa,
	.map_gpa	= svm_map_gpa,
	.map_gpa_2m	= svm_map_gpa_2m,
	.vcpu_create	= svm_vcpu_create,
	.vcpu_destroy	= svm_vcpu_destroy,
	.vcpu_run	= svm_vcpu_run,
	.handle_exit	= svm_handle_exit,
	.get_sregs	= svm_get_sregs,
	.set_sregs	= svm_set_sregs,
	.get_msr	= svm_get_msr,
	.set_msr	= svm_set_msr,
	.get_cr4	= svm_get_cr4,
	.get_cpl	= svm_get_cpl,
	.get_emu_regs	= svm_get_emu_regs,
	.get_cr8	= svm_get_cr8,
	.get_interrupt_shadow = svm_get_interrupt_shadow,
	.set_interrupt_shadow = svm_set_interrupt_shadow,
	.get_dr67	= svm_get_dr67,
	.set_dr67	= svm_set_dr67,
	.set_irq_window	= svm_set_irq_window,
	.vcpu_reset	= svm_vcpu_reset,
	.set_cr2	= svm_set_cr2,
	.update_guest_debug = svm_update_guest_debug,
};
