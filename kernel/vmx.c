// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: the Intel VT-x backend (SDM vol. 3C, chapters 23 to 29).
 *
 * Exports kvl_vmx_backend and nothing else.  EPT and unrestricted guest
 * are required; VPID is used when the CPU has it.
 *
 * The guest's state lives in struct vmx_vcpu, not in the VMCS: it is
 * written to the VMCS before an entry when something changed it, and read
 * back after every exit.  The VMCS is therefore only touched on the CPU it
 * is current on, between ->vcpu_load and the end of ->vcpu_run, and every
 * other op (sregs, MSRs, events) works on the copy from any CPU.
 *
 * A VMCS is active on at most one CPU.  vcpu_load() notices a move,
 * VMCLEARs the VMCS on the CPU it was on (an IPI) and VMPTRLDs it here;
 * each CPU lists the VMCSs it holds, so that VMXOFF (the last VM gone, CPU
 * offline) VMCLEARs them first.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/user-return-notifier.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/fsgsbase.h>
#include <asm/msr.h>
#include <asm/processor-flags.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/vmx.h>
#include "kvmlite.h"
#include "npt.h"
#include "vmx.h"

/* IA32_VMX_BASIC (SDM vol. 3D, A.1) */
#define BASIC_REVISION(b)	((u32)(b) & 0x7fffffff)
#define BASIC_SIZE(b)	(((b) >> 32) & 0x1fff)
#define BASIC_MEMTYPE(b)	(((b) >> 50) & 0xf)
#define BASIC_TRUE_CTLS	BIT_ULL(55)

/* IA32_VMX_EPT_VPID_CAP (SDM vol. 3D, A.10) */
#define CAP_EPT_PWL4		BIT_ULL(6)
#define CAP_EPT_WB		BIT_ULL(14)
#define CAP_INVEPT		BIT_ULL(20)
#define CAP_INVEPT_SINGLE	BIT_ULL(25)
#define CAP_INVEPT_ALL		BIT_ULL(26)
#define CAP_INVVPID		BIT_ULL(32)
#define CAP_INVVPID_SINGLE	BIT_ULL(41)
#define CAP_INVVPID_ALL		BIT_ULL(42)

#define INVEPT_SINGLE		1
#define INVEPT_ALL		2
#define INVVPID_SINGLE		1
#define INVVPID_ALL		2

#define VMX_EXIT_FAILED_ENTRY	BIT(31)
#define VMX_EXIT_GETSEC		11
#define VMX_DR7_RESET		0x400

/* Guest segment registers in VMCS encoding order (ES = 0 ... TR = 7). */
enum { VS_ES, VS_CS, VS_SS, VS_DS, VS_FS, VS_GS, VS_LDTR, VS_TR, VS_NR };
#define VMX_AR_UNUSABLE		BIT(16)

/* Guest CR0/CR4 bits the host owns: reads see the shadow, writes exit. */
#define VMX_CR0_HOST_BITS	(X86_CR0_NE | X86_CR0_CD | X86_CR0_NW)
#define VMX_CR4_HOST_BITS	X86_CR4_VMXE

/*
 * The SYSCALL MSRs no VMCS field switches and that only matter on the way
 * to user space: as KVM's "user return" MSRs, a guest's values stay in the
 * CPU across exits handled in the kernel and the host's come back when
 * this CPU next returns to user space (a user-return notifier), or when
 * VT-x is turned off here.  The guest writes them only through an exit.
 */
enum { VMX_URET_STAR, VMX_URET_LSTAR, VMX_URET_CSTAR, VMX_URET_SFMASK, VMX_NR_URET };

static const u32 vmx_uret_msrs[VMX_NR_URET] = {
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
};

struct vmx_cpu {
	void *vmxon;			/* the VMXON region */
	void *current_vmcs;		/* what VMPTRLD last made current here */
	struct list_head loaded;	/* VMCSs active on this CPU */
	struct user_return_notifier uret;
	bool uret_armed;		/* uret registered: uret_cur may differ from uret_host */
	u64 uret_host[VMX_NR_URET];
	u64 uret_cur[VMX_NR_URET];	/* what the CPU holds */
	u64 uret_owner;			/* ... when it is a vCPU's uret_gen, else 0 */
};

struct vmx_vm {
	struct kvl_npt ept;
	u64 eptp;
};

struct vmx_seg {
	u64 base;
	u32 limit;
	u32 ar;				/* VMX access rights, bit 16: unusable */
	u16 sel;
};

struct vmx_vcpu {
	void *vmcs;
	u64 vmcs_pa;
	int loaded_cpu;			/* where the VMCS is active, or -1 */
	bool launched;
	bool flush;			/* INVEPT/INVVPID before the next entry */
	bool dirty;			/* the guest state below is newer than the VMCS */
	bool lazy;			/* segments, GDTR/IDTR, SYSENTER, CR3, DR7, PDPTRs unread */
	bool setup;			/* the VMCS has its constant fields */
	struct list_head loaded_link;
	u16 vpid;

	u32 proc;			/* primary processor-based controls */
	u32 exc_bitmap;			/* the debugger's #DB and #BP intercepts */
	bool dbg_regs;			/* the debugger holds DR0-3 and DR7 */

	/* Guest state. */
	struct vmx_seg seg[VS_NR];
	u64 gdt_base, idt_base;
	u32 gdt_limit, idt_limit;
	u64 cr0, cr2, cr3, cr4;		/* as the guest sees them */
	u64 cr8;			/* without an in-kernel LAPIC */
	u64 efer, pat, dr6, dr7;
	u64 sysenter_cs, sysenter_esp, sysenter_eip;
	u64 uret[VMX_NR_URET];		/* the guest's vmx_uret_msrs */
	u64 uret_gen;			/* new (vmx_uret_gen) whenever uret[] changes */
	u64 kernel_gs_base;
	u64 pdptr[4];
	u64 tsc_offset;
	u32 intr_state;			/* interruptibility state */
	bool entry_intr_set;		/* VM_ENTRY_INTR_INFO_FIELD may be valid */

	/*
	 * The host state that VM exit does not restore, as KVM's vcpu_put:
	 * saved at the first entry after the thread comes to this CPU, put
	 * back by vmx_vcpu_put().  Until then the CPU holds the guest's
	 * KERNEL_GS_BASE, null DS/ES/FS/GS and LDTR, and the GDT and TSS
	 * limits VM exit leaves (0xffff, 0x67).
	 */
	struct {
		bool saved;
		u16 ds, es, fs, gs, ldt;
		u64 fs_base, kernel_gs_base;
		u64 debugctl;		/* VM exit clears it: written back after each */
		unsigned long cr3, cr4;	/* what HOST_CR3/CR4 hold */
	} host;

	/* What the last exit said. */
	u32 exit_reason;
	u32 exit_intr_info;
	u32 idt_info, idt_err;
	u32 insn_len;
	u32 insn_error;
	u64 exit_qual;
	u64 exit_gpa;
	int fail;			/* kvl_vmx_enter()'s non-zero result */
};

static DEFINE_PER_CPU(struct vmx_cpu, vmx_cpu);
static u32 vmx_revision;
static u64 vmx_ept_vpid_cap;
static u32 vmx_pin, vmx_proc, vmx_proc2, vmx_exit_ctls, vmx_entry_ctls;
/* IA32_DEBUGCTL exists (every VT-x CPU has it; Bochs' emulated one does not). */
static bool vmx_has_debugctl;
static struct page *vmx_io_bitmap;	/* A and B: every port exits */
static struct page *vmx_msr_bitmap;
static unsigned long *vmx_vpids;
static DEFINE_SPINLOCK(vmx_vpid_lock);
static atomic64_t vmx_uret_gen;

/*
 * MSRs the guest reaches without an exit: FS/GS base and SYSENTER are
 * guest-state fields of the VMCS, KERNEL_GS_BASE is switched around each
 * entry by vmx_vcpu_run().  The SYSCALL MSRs (vmx_uret_msrs) are read
 * without an exit and written with one.
 */
static const u32 vmx_direct_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_IA32_SYSENTER_CS,
	MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
};

static inline struct vmx_vcpu *to_vmx(struct kvl_vcpu *vcpu)
{
	return vcpu->arch;
}

static inline struct vmx_vm *to_vmx_vm(struct kvl_vm *vm)
{
	return vm->arch;
}

/* The VMX instructions. */
static inline u64 vmcs_read(unsigned long field)
{
	unsigned long val;

	asm volatile("vmread %[field], %[val]"
		     : [val] "=rm" (val) : [field] "r" (field) : "cc");
	return val;
}

static inline void vmcs_write(unsigned long field, u64 val)
{
	asm volatile("vmwrite %[val], %[field]"
		     : : [val] "rm" ((unsigned long)val), [field] "r" (field) : "cc");
}

static inline bool vmx_vmxon(u64 pa)
{
	bool fail;

	asm volatile("vmxon %[pa]; setna %[fail]"
		     : [fail] "=qm" (fail) : [pa] "m" (pa) : "cc", "memory");
	return !fail;
}

static inline void vmx_vmxoff(void)
{
	asm volatile("vmxoff" ::: "cc", "memory");
}

static inline void vmx_vmclear(u64 pa)
{
	asm volatile("vmclear %[pa]" : : [pa] "m" (pa) : "cc", "memory");
}

static inline void vmx_vmptrld(u64 pa)
{
	asm volatile("vmptrld %[pa]" : : [pa] "m" (pa) : "cc", "memory");
}

static inline void vmx_invept(unsigned long type, u64 eptp)
{
	struct { u64 eptp, rsvd; } desc = { eptp, 0 };

	asm volatile("invept %[desc], %[type]"
		     : : [desc] "m" (desc), [type] "r" (type) : "cc", "memory");
}

static inline void vmx_invvpid(unsigned long type, u16 vpid)
{
	struct { u64 vpid, gva; } desc = { vpid, 0 };

	asm volatile("invvpid %[desc], %[type]"
		     : : [desc] "m" (desc), [type] "r" (type) : "cc", "memory");
}

/* Combine what we want with what the CPU allows; 0 if a required bit is missing. */
static int vmx_adjust(u32 msr, u32 want, u32 required, u32 *out)
{
	u64 v;
	u32 val;

	rdmsrl(msr, v);
	val = (want | (u32)v) & (u32)(v >> 32);
	if ((val & required) != required)
		return -EOPNOTSUPP;
	*out = val;
	return 0;
}

static int vmx_probe(void)
{
	u64 feat, basic, proc2;

	if (!boot_cpu_has(X86_FEATURE_VMX))
		return -ENODEV;
	rdmsrl(MSR_IA32_FEAT_CTL, feat);
	if (!(feat & FEAT_CTL_LOCKED) || !(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
		pr_err("VT-x is disabled by the firmware (IA32_FEATURE_CONTROL)\n");
		return -EPERM;
	}
	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	if (BASIC_SIZE(basic) > PAGE_SIZE || BASIC_MEMTYPE(basic) != 6) {
		pr_err("VT-x: unusable VMCS (size %llu, memory type %llu)\n",
		       BASIC_SIZE(basic), BASIC_MEMTYPE(basic));
		return -EOPNOTSUPP;
	}
	rdmsrl(MSR_IA32_VMX_PROCBASED_CTLS, proc2);
	if (!(proc2 & ((u64)CPU_BASED_ACTIVATE_SECONDARY_CONTROLS << 32))) {
		pr_err("VT-x without secondary controls (hence without EPT) is not supported\n");
		return -EOPNOTSUPP;
	}
	rdmsrl(MSR_IA32_VMX_PROCBASED_CTLS2, proc2);
	if (!boot_cpu_has(X86_FEATURE_EPT) ||
	    !(proc2 & ((u64)SECONDARY_EXEC_ENABLE_EPT << 32))) {
		pr_err("VT-x without EPT is not supported\n");
		return -EOPNOTSUPP;
	}
	if (!(proc2 & ((u64)SECONDARY_EXEC_UNRESTRICTED_GUEST << 32))) {
		pr_err("VT-x without unrestricted guest is not supported (real-mode guests need it)\n");
		return -EOPNOTSUPP;
	}
	rdmsrl(MSR_IA32_VMX_EPT_VPID_CAP, vmx_ept_vpid_cap);
	if (!(vmx_ept_vpid_cap & CAP_EPT_PWL4) || !(vmx_ept_vpid_cap & CAP_EPT_WB) ||
	    !(vmx_ept_vpid_cap & CAP_INVEPT) ||
	    !(vmx_ept_vpid_cap & (CAP_INVEPT_SINGLE | CAP_INVEPT_ALL))) {
		pr_err("VT-x EPT without 4-level tables, write-back or INVEPT is not supported\n");
		return -EOPNOTSUPP;
	}
	return 0;
}

static void vmx_free_cpus(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpu, cpu);

		free_page((unsigned long)vc->vmxon);
		vc->vmxon = NULL;
	}
}

static void vmx_bitmap_allow(u8 *bitmap, u32 msr, bool write)
{
	u32 off;

	if (msr <= 0x1fff)
		off = 0;
	else if (msr - 0xc0000000 <= 0x1fff)
		off = 1024;
	else
		return;
	msr &= 0x1fff;
	bitmap[off + msr / 8] &= ~BIT(msr % 8);			/* read */
	if (write)
		bitmap[off + 2048 + msr / 8] &= ~BIT(msr % 8);	/* write */
}

/* Returning to user space on this CPU (IRQs on or off): the host's SYSCALL MSRs. */
static void vmx_uret_restore(struct user_return_notifier *urn)
{
	struct vmx_cpu *vc = container_of(urn, struct vmx_cpu, uret);
	unsigned long flags;
	int i;

	local_irq_save(flags);
	if (vc->uret_armed) {
		user_return_notifier_unregister(urn);
		vc->uret_armed = false;
		vc->uret_owner = 0;
		for (i = 0; i < VMX_NR_URET; i++)
			if (vc->uret_cur[i] != vc->uret_host[i])
				wrmsrl(vmx_uret_msrs[i], vc->uret_host[i]);
	}
	local_irq_restore(flags);
}

/* IRQs off, before entry: the guest's SYSCALL MSRs, written only where they differ. */
static void vmx_uret_load(struct vmx_vcpu *vmx)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	int i;

	/* The usual case, after an exit handled in the kernel: all still this vCPU's. */
	if (likely(vc->uret_owner == vmx->uret_gen))
		return;
	if (!vc->uret_armed) {
		for (i = 0; i < VMX_NR_URET; i++) {
			rdmsrl(vmx_uret_msrs[i], vc->uret_host[i]);
			vc->uret_cur[i] = vc->uret_host[i];
		}
		vc->uret.on_user_return = vmx_uret_restore;
		user_return_notifier_register(&vc->uret);
		vc->uret_armed = true;
	}
	for (i = 0; i < VMX_NR_URET; i++) {
		if (vc->uret_cur[i] != vmx->uret[i]) {
			/* vmx_set_msr() checked the value: this cannot fault. */
			wrmsrl(vmx_uret_msrs[i], vmx->uret[i]);
			vc->uret_cur[i] = vmx->uret[i];
		}
	}
	vc->uret_owner = vmx->uret_gen;
}

/* The guest's SYSCALL MSR @i is now @data: no CPU holds all of uret[] any more. */
static void vmx_set_uret(struct vmx_vcpu *vmx, int i, u64 data)
{
	vmx->uret[i] = data;
	vmx->uret_gen = atomic64_inc_return(&vmx_uret_gen);
}

static int vmx_init(void)
{
	u32 true_pin = MSR_IA32_VMX_PINBASED_CTLS, true_proc = MSR_IA32_VMX_PROCBASED_CTLS;
	u32 true_exit = MSR_IA32_VMX_EXIT_CTLS, true_entry = MSR_IA32_VMX_ENTRY_CTLS;
	u32 pin, proc, proc2, exit_ctls, entry_ctls;
	u64 basic;
	int cpu, i, r;

	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	vmx_revision = BASIC_REVISION(basic);
	if (basic & BASIC_TRUE_CTLS) {
		true_pin = MSR_IA32_VMX_TRUE_PINBASED_CTLS;
		true_proc = MSR_IA32_VMX_TRUE_PROCBASED_CTLS;
		true_exit = MSR_IA32_VMX_TRUE_EXIT_CTLS;
		true_entry = MSR_IA32_VMX_TRUE_ENTRY_CTLS;
	}
	pin = PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING | PIN_BASED_VIRTUAL_NMIS;
	proc = CPU_BASED_HLT_EXITING | CPU_BASED_MWAIT_EXITING | CPU_BASED_MONITOR_EXITING |
	       CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING |
	       CPU_BASED_MOV_DR_EXITING | CPU_BASED_USE_IO_BITMAPS |
	       CPU_BASED_USE_MSR_BITMAPS | CPU_BASED_USE_TSC_OFFSETTING |
	       CPU_BASED_ACTIVATE_SECONDARY_CONTROLS;
	proc2 = SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_UNRESTRICTED_GUEST;
	/*
	 * The debug controls: DR7 and IA32_DEBUGCTL go in from the VMCS at
	 * entry and back at exit (which sets DR7 to 0x400).  Without them the
	 * guest's DR7 (and the debugger's) never reached the CPU.
	 */
	exit_ctls = VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_SAVE_IA32_PAT | VM_EXIT_LOAD_IA32_PAT |
		    VM_EXIT_SAVE_IA32_EFER | VM_EXIT_LOAD_IA32_EFER | VM_EXIT_SAVE_DEBUG_CONTROLS;
	entry_ctls = VM_ENTRY_LOAD_IA32_PAT | VM_ENTRY_LOAD_IA32_EFER |
		     VM_ENTRY_LOAD_DEBUG_CONTROLS;

	r = vmx_adjust(true_pin, pin, pin, &vmx_pin);
	if (!r)
		r = vmx_adjust(true_proc, proc, proc, &vmx_proc);
	/* VPID and PAUSE-loop exiting where the CPU has them. */
	if (!r)
		r = vmx_adjust(MSR_IA32_VMX_PROCBASED_CTLS2, proc2 | SECONDARY_EXEC_ENABLE_VPID |
			       SECONDARY_EXEC_PAUSE_LOOP_EXITING, proc2, &vmx_proc2);
	if (!r)
		r = vmx_adjust(true_exit, exit_ctls, exit_ctls, &vmx_exit_ctls);
	if (!r)
		r = vmx_adjust(true_entry, entry_ctls, entry_ctls, &vmx_entry_ctls);
	if (r) {
		pr_err("VT-x lacks a required VM-execution, exit or entry control\n");
		return r;
	}
	/* With EPT the guest's CR3 is its own; the window exits come and go. */
	vmx_proc &= ~(CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING |
		      CPU_BASED_INTR_WINDOW_EXITING | CPU_BASED_NMI_WINDOW_EXITING);
	rdmsrl(true_proc, basic);
	if (((u32)basic & (CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING)) ||
	    vmx_adjust(true_proc, CPU_BASED_INTR_WINDOW_EXITING | CPU_BASED_NMI_WINDOW_EXITING,
		       CPU_BASED_INTR_WINDOW_EXITING | CPU_BASED_NMI_WINDOW_EXITING, &proc)) {
		pr_err("VT-x lacks interrupt/NMI-window exiting or forces CR3 exiting\n");
		return -EOPNOTSUPP;
	}
	if ((vmx_proc2 & SECONDARY_EXEC_ENABLE_VPID) &&
	    (!(vmx_ept_vpid_cap & CAP_INVVPID) ||
	     !(vmx_ept_vpid_cap & (CAP_INVVPID_SINGLE | CAP_INVVPID_ALL))))
		vmx_proc2 &= ~SECONDARY_EXEC_ENABLE_VPID;

	vmx_io_bitmap = alloc_pages(GFP_KERNEL, 1);
	vmx_msr_bitmap = alloc_page(GFP_KERNEL);
	vmx_vpids = bitmap_zalloc(VMX_NR_VPIDS, GFP_KERNEL);
	if (!vmx_io_bitmap || !vmx_msr_bitmap || !vmx_vpids)
		goto err_nomem;
	set_bit(0, vmx_vpids);		/* VPID 0 is the host's */
	/* Every port and every MSR exits but the few above: the core decides. */
	memset(page_address(vmx_io_bitmap), 0xff, 2 * PAGE_SIZE);
	memset(page_address(vmx_msr_bitmap), 0xff, PAGE_SIZE);
	for (i = 0; i < ARRAY_SIZE(vmx_direct_msrs); i++)
		vmx_bitmap_allow(page_address(vmx_msr_bitmap), vmx_direct_msrs[i], true);
	for (i = 0; i < VMX_NR_URET; i++)
		vmx_bitmap_allow(page_address(vmx_msr_bitmap), vmx_uret_msrs[i], false);

	for_each_possible_cpu(cpu) {
		struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpu, cpu);

		vc->vmxon = (void *)get_zeroed_page(GFP_KERNEL);
		if (!vc->vmxon)
			goto err_nomem;
		*(u32 *)vc->vmxon = vmx_revision;
		INIT_LIST_HEAD(&vc->loaded);
	}
	vmx_has_debugctl = !rdmsrl_safe(MSR_IA32_DEBUGCTLMSR, &basic);
	pr_info("VT-x: EPT, unrestricted guest%s%s\n",
		(vmx_proc2 & SECONDARY_EXEC_ENABLE_VPID) ? ", VPID" : "",
		(vmx_proc2 & SECONDARY_EXEC_PAUSE_LOOP_EXITING) ? ", PAUSE-loop exiting" : "");
	return 0;

err_nomem:
	vmx_free_cpus();
	if (vmx_io_bitmap)
		__free_pages(vmx_io_bitmap, 1);
	if (vmx_msr_bitmap)
		__free_page(vmx_msr_bitmap);
	bitmap_free(vmx_vpids);
	return -ENOMEM;
}

static void vmx_exit(void)
{
	vmx_free_cpus();
	__free_pages(vmx_io_bitmap, 1);
	__free_page(vmx_msr_bitmap);
	bitmap_free(vmx_vpids);
}

static void vmx_flush_all(void)
{
	if (vmx_ept_vpid_cap & CAP_INVEPT_ALL)
		vmx_invept(INVEPT_ALL, 0);
	if ((vmx_proc2 & SECONDARY_EXEC_ENABLE_VPID) && (vmx_ept_vpid_cap & CAP_INVVPID_ALL))
		vmx_invvpid(INVVPID_ALL, 0);
}

static int vmx_cpu_enable(void)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	u64 feat;

	/* Someone else (kvm-intel) is in VMX operation on this CPU. */
	if (__read_cr4() & X86_CR4_VMXE)
		return -EBUSY;
	rdmsrl(MSR_IA32_FEAT_CTL, feat);
	if (!(feat & FEAT_CTL_LOCKED) || !(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX))
		return -EIO;
	cr4_set_bits(X86_CR4_VMXE);
	if (!vmx_vmxon(virt_to_phys(vc->vmxon))) {
		cr4_clear_bits(X86_CR4_VMXE);
		return -EBUSY;
	}
	vc->current_vmcs = NULL;
	/* Nothing cached from before we owned VMX here may be trusted. */
	vmx_flush_all();
	return 0;
}

/* On the CPU where @vmx's VMCS is active; IRQs off. */
static void vmx_clear_local(struct vmx_vcpu *vmx)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);

	vmx_vmclear(vmx->vmcs_pa);
	if (vc->current_vmcs == vmx->vmcs)
		vc->current_vmcs = NULL;
	list_del(&vmx->loaded_link);
	vmx->launched = false;
	/* The VMCS is in memory before anyone sees it free. */
	smp_wmb();
	WRITE_ONCE(vmx->loaded_cpu, -1);
}

static void vmx_clear_ipi(void *arg)
{
	struct vmx_vcpu *vmx = arg;

	if (READ_ONCE(vmx->loaded_cpu) == smp_processor_id())
		vmx_clear_local(vmx);
}

static void vmx_cpu_disable(void)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	struct vmx_vcpu *vmx, *tmp;
	unsigned long flags;

	local_irq_save(flags);
	list_for_each_entry_safe(vmx, tmp, &vc->loaded, loaded_link)
		vmx_clear_local(vmx);
	local_irq_restore(flags);
	/* Not a notifier left behind pointing into this module. */
	vmx_uret_restore(&vc->uret);
	vmx_vmxoff();
	cr4_clear_bits(X86_CR4_VMXE);
}

static int vmx_vm_init(struct kvl_vm *vm)
{
	struct vmx_vm *xv = kzalloc(sizeof(*xv), GFP_KERNEL_ACCOUNT);
	int r;

	if (!xv)
		return -ENOMEM;
	r = kvl_npt_init(&xv->ept, &kvl_npt_ept);
	if (r) {
		kfree(xv);
		return r;
	}
	/* Write-back, 4-level walk, no accessed/dirty flags. */
	xv->eptp = virt_to_phys(xv->ept.root) | VMX_EPTP_PWL_4 | VMX_EPTP_MT_WB;
	vm->arch = xv;
	return 0;
}

static void vmx_vm_destroy(struct kvl_vm *vm)
{
	struct vmx_vm *xv = to_vmx_vm(vm);

	kvl_npt_destroy(&xv->ept);
	kfree(xv);
	vm->arch = NULL;
}

static void vmx_zap_gpa(struct kvl_vm *vm, u64 start, u64 end)
{
	kvl_npt_zap(&to_vmx_vm(vm)->ept, start, end);
}

static int vmx_map_gpa(struct kvl_vm *vm, u64 gpa, unsigned long pfn, bool writable)
{
	return kvl_npt_map(&to_vmx_vm(vm)->ept, gpa, pfn, writable);
}

static void vmx_seg_reset(struct vmx_seg *s, u16 sel, u32 ar, u64 base)
{
	s->sel = sel;
	s->ar = ar;
	s->limit = 0xffff;
	s->base = base;
}

static void vmx_update_guest_debug(struct kvl_vcpu *vcpu);
static void vmx_vcpu_load(struct kvl_vcpu *vcpu);
static void vmx_read_lazy_state(struct vmx_vcpu *vmx);

/*
 * Before anything reads or changes the state an exit leaves in the VMCS
 * only (vmx->lazy): from the vCPU's own context (ioctl or exit handler),
 * preemptible, so the VMCS is made current on this CPU first.
 */
static void vmx_sync(struct kvl_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	if (likely(!vmx->lazy))
		return;
	preempt_disable();
	vmx_vcpu_load(vcpu);
	vmx_read_lazy_state(vmx);
	preempt_enable();
}

/*
 * The guest's KERNEL_GS_BASE, @write or read: in the CPU while
 * vmx_save_host_state() has switched it (only inside KVM_RUN).
 */
static u64 vmx_kernel_gs_base(struct vmx_vcpu *vmx, bool write, u64 data)
{
	preempt_disable();
	if (write) {
		vmx->kernel_gs_base = data;
		if (vmx->host.saved)
			wrmsrl(MSR_KERNEL_GS_BASE, data);
	} else if (vmx->host.saved) {
		rdmsrl(MSR_KERNEL_GS_BASE, vmx->kernel_gs_base);
	}
	preempt_enable();
	return vmx->kernel_gs_base;
}

/* The architectural INIT state (SDM vol. 3A, table 9-1), as KVM sets it. */
static void vmx_state_reset(struct kvl_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int i;

	vmx_sync(vcpu);
	vmx_seg_reset(&vmx->seg[VS_CS], 0xf000, 0x9b, 0xffff0000);
	for (i = 0; i < VS_NR; i++)
		if (i != VS_CS)
			vmx_seg_reset(&vmx->seg[i], 0, 0x93, 0);
	vmx_seg_reset(&vmx->seg[VS_LDTR], 0, 0x82, 0);
	vmx_seg_reset(&vmx->seg[VS_TR], 0, 0x8b, 0);
	vmx->gdt_base = 0;
	vmx->gdt_limit = 0xffff;
	vmx->idt_base = 0;
	vmx->idt_limit = 0xffff;
	vmx->cr0 = X86_CR0_NW | X86_CR0_CD | X86_CR0_ET;
	vmx->cr2 = 0;
	vmx->cr3 = 0;
	vmx->cr4 = 0;
	vmx->cr8 = 0;
	vmx->efer = 0;
	vmx->pat = 0x0007040600070406ULL;
	vmx->dr6 = DR6_RESERVED;
	vmx->dr7 = VMX_DR7_RESET;
	vmx->sysenter_cs = 0;
	vmx->sysenter_esp = 0;
	vmx->sysenter_eip = 0;
	memset(vmx->uret, 0, sizeof(vmx->uret));
	vmx->uret_gen = atomic64_inc_return(&vmx_uret_gen);
	vmx_kernel_gs_base(vmx, true, 0);
	memset(vmx->pdptr, 0, sizeof(vmx->pdptr));
	vmx->intr_state = 0;
	vmx->proc = vmx_proc;
	vmx->exc_bitmap = 0;
	vmx->dbg_regs = false;
	vmx->dirty = true;
	vmx->flush = true;
	vcpu->db_guest_owned = false;
	memset(vcpu->db, 0, sizeof(vcpu->db));
	vcpu->event.type = KVL_EVENT_NONE;
	vcpu->pending_exc.type = KVL_EVENT_NONE;
	vcpu->nmi_pending = false;
	vcpu->nmi_masked = false;
	/* The debugger's hold outlives INIT (and shutdown), as in KVM. */
	if (vcpu->guest_debug)
		vmx_update_guest_debug(vcpu);
}

static int vmx_vcpu_create(struct kvl_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = kzalloc(sizeof(*vmx), GFP_KERNEL_ACCOUNT);
	unsigned long vpid = 0;

	if (!vmx)
		return -ENOMEM;
	vmx->vmcs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vmx->vmcs) {
		kfree(vmx);
		return -ENOMEM;
	}
	*(u32 *)vmx->vmcs = vmx_revision;
	vmx->vmcs_pa = virt_to_phys(vmx->vmcs);
	vmx->loaded_cpu = -1;
	INIT_LIST_HEAD(&vmx->loaded_link);
	if (vmx_proc2 & SECONDARY_EXEC_ENABLE_VPID) {
		/* Out of VPIDs: run untagged, which flushes at every entry and exit. */
		spin_lock(&vmx_vpid_lock);
		vpid = find_first_zero_bit(vmx_vpids, VMX_NR_VPIDS);
		if (vpid < VMX_NR_VPIDS)
			set_bit(vpid, vmx_vpids);
		else
			vpid = 0;
		spin_unlock(&vmx_vpid_lock);
	}
	vmx->vpid = vpid;
	vcpu->arch = vmx;
	vmx_state_reset(vcpu);
	return 0;
}

static void vmx_vcpu_destroy(struct kvl_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int cpu = READ_ONCE(vmx->loaded_cpu);

	/* A CPU that went offline meanwhile has cleared it itself. */
	if (cpu >= 0)
		smp_call_function_single(cpu, vmx_clear_ipi, vmx, 1);
	if (vmx->vpid) {
		spin_lock(&vmx_vpid_lock);
		clear_bit(vmx->vpid, vmx_vpids);
		spin_unlock(&vmx_vpid_lock);
	}
	free_page((unsigned long)vmx->vmcs);
	kfree(vmx);
	vcpu->arch = NULL;
}

/* The host state of this CPU: written when the VMCS arrives here. */
static void vmx_set_host_cpu_state(struct vmx_vcpu *vmx)
{
	struct desc_ptr gdt, idt;
	struct ldttss_desc *tss;
	u64 v;

	native_store_gdt(&gdt);
	store_idt(&idt);
	tss = (struct ldttss_desc *)(gdt.address + GDT_ENTRY_TSS * 8);
	vmcs_write(HOST_GDTR_BASE, gdt.address);
	vmcs_write(HOST_IDTR_BASE, idt.address);
	vmcs_write(HOST_TR_BASE, tss->base0 | (u64)tss->base1 << 16 |
		   (u64)tss->base2 << 24 | (u64)tss->base3 << 32);
	rdmsrl(MSR_GS_BASE, v);
	vmcs_write(HOST_GS_BASE, v);
	rdmsrl(MSR_IA32_SYSENTER_CS, v);
	vmcs_write(HOST_IA32_SYSENTER_CS, v);
	rdmsrl(MSR_IA32_SYSENTER_ESP, v);
	vmcs_write(HOST_IA32_SYSENTER_ESP, v);
	rdmsrl(MSR_IA32_SYSENTER_EIP, v);
	vmcs_write(HOST_IA32_SYSENTER_EIP, v);
	rdmsrl(MSR_EFER, v);
	vmcs_write(HOST_IA32_EFER, v);
	rdmsrl(MSR_IA32_CR_PAT, v);
	vmcs_write(HOST_IA32_PAT, v);
	vmcs_write(HOST_CR0, read_cr0());
	vmx->host.cr3 = __read_cr3();
	vmcs_write(HOST_CR3, vmx->host.cr3);
	vmx->host.cr4 = cr4_read_shadow();
	vmcs_write(HOST_CR4, vmx->host.cr4);
}

/* The fields that never change, for a VMCS just made current the first time. */
static void vmx_vmcs_setup(struct kvl_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	u32 proc2 = vmx_proc2;

	vmcs_write(PIN_BASED_VM_EXEC_CONTROL, vmx_pin);
	if (!vmx->vpid)
		proc2 &= ~SECONDARY_EXEC_ENABLE_VPID;
	vmcs_write(SECONDARY_VM_EXEC_CONTROL, proc2);
	/* KVM's defaults: a spin of 4096 cycles or more in PAUSE exits. */
	if (proc2 & SECONDARY_EXEC_PAUSE_LOOP_EXITING) {
		vmcs_write(PLE_GAP, 128);
		vmcs_write(PLE_WINDOW, 4096);
	}
	vmcs_write(VM_EXIT_CONTROLS, vmx_exit_ctls);
	if (vmx->vpid)
		vmcs_write(VIRTUAL_PROCESSOR_ID, vmx->vpid);
	vmcs_write(EPT_POINTER, to_vmx_vm(vcpu->vm)->eptp);
	vmcs_write(EXCEPTION_BITMAP, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write(CR3_TARGET_COUNT, 0);
	vmcs_write(IO_BITMAP_A, page_to_phys(vmx_io_bitmap));
	vmcs_write(IO_BITMAP_B, page_to_phys(vmx_io_bitmap) + PAGE_SIZE);
	vmcs_write(MSR_BITMAP, page_to_phys(vmx_msr_bitmap));
	vmcs_write(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(CR0_GUEST_HOST_MASK, VMX_CR0_HOST_BITS);
	vmcs_write(CR4_GUEST_HOST_MASK, VMX_CR4_HOST_BITS);
	vmcs_write(VMCS_LINK_POINTER, -1ULL);
	vmcs_write(GUEST_ACTIVITY_STATE, 0);
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write(GUEST_IA32_DEBUGCTL, 0);

	vmcs_write(HOST_CS_SELECTOR, __KERNEL_CS);
	vmcs_write(HOST_SS_SELECTOR, __KERNEL_DS);
	vmcs_write(HOST_DS_SELECTOR, 0);
	vmcs_write(HOST_ES_SELECTOR, 0);
	vmcs_write(HOST_FS_SELECTOR, 0);
	vmcs_write(HOST_GS_SELECTOR, 0);
	vmcs_write(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	vmcs_write(HOST_RIP, (unsigned long)kvl_vmx_exit);
	vmx->entry_intr_set = true;	/* unknown until the first entry writes it */
	vmx->dirty = true;
}

/*
 * Make the vCPU's VMCS current on this CPU.  Preemption off, IRQs on:
 * the VMCS may still be active on the CPU the vCPU ran on before, which
 * clears it when asked.
 */
static noinline void vmx_vcpu_load_slow(struct kvl_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	int cpu = smp_processor_id();
	int old = READ_ONCE(vmx->loaded_cpu);

	if (old == cpu) {
		vmx_vmptrld(vmx->vmcs_pa);
		vc->current_vmcs = vmx->vmcs;
		return;
	}
	if (old >= 0)
		smp_call_function_single(old, vmx_clear_ipi, vmx, 1);
	/* Pairs with the smp_wmb() in vmx_clear_local(). */
	smp_rmb();

	local_irq_disable();
	vmx_vmclear(vmx->vmcs_pa);
	vmx_vmptrld(vmx->vmcs_pa);
	vc->current_vmcs = vmx->vmcs;
	list_add(&vmx->loaded_link, &vc->loaded);
	WRITE_ONCE(vmx->loaded_cpu, cpu);
	vmx->launched = false;
	local_irq_enable();

	/* VMCLEAR kept the contents: only a new VMCS needs its constant fields. */
	if (!vmx->setup) {
		vmx_vmcs_setup(vcpu, vmx);
		vmx->setup = true;
	}
	vmx_set_host_cpu_state(vmx);
	/* This CPU may hold translations from before the vCPU was last here. */
	vmx->flush = true;
}

/* Preemption off: this vCPU's VMCS current on this CPU (the usual case: it is). */
static void vmx_vcpu_load(struct kvl_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	if (likely(READ_ONCE(vmx->loaded_cpu) == smp_processor_id() &&
		   this_cpu_read(vmx_cpu.current_vmcs) == vmx->vmcs))
		return;
	vmx_vcpu_load_slow(vcpu, vmx);
}

/* Segments: kvm_segment <-> VMX access rights (SDM vol. 3C, 24.4.1). */
static void vmx_get_seg(const struct vmx_seg *s, struct kvm_segment *k)
{
	k->base = s->base;
	k->limit = s->limit;
	k->selector = s->sel;
	k->type = s->ar & 0xf;
	k->s = (s->ar >> 4) & 1;
	k->dpl = (s->ar >> 5) & 3;
	k->avl = (s->ar >> 12) & 1;
	k->l = (s->ar >> 13) & 1;
	k->db = (s->ar >> 14) & 1;
	k->g = (s->ar >> 15) & 1;
	k->unusable = (s->ar >> 16) & 1;
	/* A usable segment is present in VMX: keep the two consistent, as KVM. */
	k->present = !k->unusable;
	k->padding = 0;
}

static void vmx_set_seg(struct vmx_seg *s, const struct kvm_segment *k, bool ldtr)
{
	u8 type = k->type & 0xf;

	s->base = k->base;
	s->limit = k->limit;
	s->sel = k->selector;
	if (k->unusable || !k->present) {
		s->ar = VMX_AR_UNUSABLE;
		return;
	}
	/*
	 * Unrestricted guests need the accessed bit in code and data segments;
	 * older VMMs leave it clear at reset.  KVM sets it too.
	 */
	if (!ldtr)
		type |= 1;
	s->ar = type | (k->s & 1) << 4 | (k->dpl & 3) << 5 | 1 << 7 |
		(k->avl & 1) << 12 | (k->l & 1) << 13 | (k->db & 1) << 14 | (k->g & 1) << 15;
}

static u64 vmx_get_cr8(struct kvl_vcpu *vcpu)
{
	return to_vmx(vcpu)->cr8;
}

static void vmx_get_sregs(struct kvl_vcpu *vcpu, struct kvm_sregs *sr)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	vmx_sync(vcpu);
	vmx_get_seg(&vmx->seg[VS_CS], &sr->cs);
	vmx_get_seg(&vmx->seg[VS_DS], &sr->ds);
	vmx_get_seg(&vmx->seg[VS_ES], &sr->es);
	vmx_get_seg(&vmx->seg[VS_FS], &sr->fs);
	vmx_get_seg(&vmx->seg[VS_GS], &sr->gs);
	vmx_get_seg(&vmx->seg[VS_SS], &sr->ss);
	vmx_get_seg(&vmx->seg[VS_TR], &sr->tr);
	vmx_get_seg(&vmx->seg[VS_LDTR], &sr->ldt);
	sr->gdt.base = vmx->gdt_base;
	sr->gdt.limit = vmx->gdt_limit;
	sr->idt.base = vmx->idt_base;
	sr->idt.limit = vmx->idt_limit;
	sr->cr0 = vmx->cr0;
	sr->cr2 = vmx->cr2;
	sr->cr3 = vmx->cr3;
	sr->cr4 = vmx->cr4;
	sr->cr8 = vcpu->lapic ? kvl_apic_get_tpr(vcpu) : vmx->cr8;
	sr->efer = vmx->efer;
	sr->apic_base = vcpu->msrs.apic_base;
}

static bool vmx_pae_paging(struct vmx_vcpu *vmx)
{
	return (vmx->cr0 & X86_CR0_PG) && (vmx->cr4 & X86_CR4_PAE) && !(vmx->efer & EFER_LMA);
}

/* PAE paging under EPT: the PDPTEs come from the VMCS at entry, read them now. */
static void vmx_load_pdptrs(struct kvl_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	if (!vmx_pae_paging(vmx))
		return;
	if (kvl_read_guest(vcpu->vm, vmx->cr3 & ~0x1fULL, vmx->pdptr, sizeof(vmx->pdptr)))
		memset(vmx->pdptr, 0, sizeof(vmx->pdptr));
}

static int vmx_set_sregs(struct kvl_vcpu *vcpu, const struct kvm_sregs *sr)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 efer = sr->efer;

	vmx_sync(vcpu);
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

	vmx_set_seg(&vmx->seg[VS_CS], &sr->cs, false);
	vmx_set_seg(&vmx->seg[VS_DS], &sr->ds, false);
	vmx_set_seg(&vmx->seg[VS_ES], &sr->es, false);
	vmx_set_seg(&vmx->seg[VS_FS], &sr->fs, false);
	vmx_set_seg(&vmx->seg[VS_GS], &sr->gs, false);
	vmx_set_seg(&vmx->seg[VS_SS], &sr->ss, false);
	vmx_set_seg(&vmx->seg[VS_TR], &sr->tr, false);
	vmx_set_seg(&vmx->seg[VS_LDTR], &sr->ldt, true);
	vmx->gdt_base = sr->gdt.base;
	vmx->gdt_limit = sr->gdt.limit;
	vmx->idt_base = sr->idt.base;
	vmx->idt_limit = sr->idt.limit;
	vmx->cr0 = sr->cr0;
	vmx->cr2 = sr->cr2;
	vmx->cr3 = sr->cr3;
	vmx->cr4 = sr->cr4;
	vmx->cr8 = sr->cr8;
	if (vcpu->lapic)
		kvl_apic_set_tpr(vcpu, sr->cr8);
	vmx->efer = efer;
	vmx_load_pdptrs(vcpu);
	vmx->dirty = true;
	vmx->flush = true;
	return 0;
}

static void vmx_set_irq_window(struct kvl_vcpu *vcpu, bool on)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	if (on)
		vmx->proc |= CPU_BASED_INTR_WINDOW_EXITING;
	else
		vmx->proc &= ~CPU_BASED_INTR_WINDOW_EXITING;
}

static void vmx_update_guest_debug(struct kvl_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	bool own = vcpu->guest_debug & (KVM_GUESTDBG_SINGLESTEP | KVM_GUESTDBG_USE_HW_BP);

	vmx_sync(vcpu);
	vmx->exc_bitmap = 0;
	if (vcpu->guest_debug & KVM_GUESTDBG_USE_SW_BP)
		vmx->exc_bitmap |= BIT(BP_VECTOR);
	if (own)
		vmx->exc_bitmap |= BIT(DB_VECTOR);
	/* Outside the debugger's hold: MOV DR exits until the guest's first touch. */
	if (own || !vcpu->db_guest_owned)
		vmx->proc |= CPU_BASED_MOV_DR_EXITING;
	else
		vmx->proc &= ~CPU_BASED_MOV_DR_EXITING;
	vmx->dbg_regs = own;
	vmx->dirty = true;	/* the exception bitmap and the effective DR7 */
}

static void vmx_vcpu_reset(struct kvl_vcpu *vcpu)
{
	vmx_state_reset(vcpu);
}

static u64 vmx_get_cr4(struct kvl_vcpu *vcpu)
{
	return to_vmx(vcpu)->cr4;
}

static int vmx_get_cpl(struct kvl_vcpu *vcpu);

static void vmx_get_emu_regs(struct kvl_vcpu *vcpu, struct kvl_emu_regs *r)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int i;

	vmx_sync(vcpu);
	/* ES..GS are the first six, in the encoding order the emulator wants. */
	for (i = VS_ES; i <= VS_GS; i++)
		r->seg_base[i] = vmx->seg[i].base;
	r->cr0 = vmx->cr0;
	r->cr3 = vmx->cr3;
	r->cr4 = vmx->cr4;
	r->efer = vmx->efer;
	r->cs_l = (vmx->seg[VS_CS].ar >> 13) & 1;
	r->cs_db = (vmx->seg[VS_CS].ar >> 14) & 1;
	r->cpl = vmx_get_cpl(vcpu);
}

static int vmx_get_cpl(struct kvl_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	vmx_sync(vcpu);
	if (!(vmx->cr0 & X86_CR0_PE))
		return 0;
	if (vcpu->rflags & X86_EFLAGS_VM)
		return 3;
	return (vmx->seg[VS_SS].ar >> 5) & 3;
}

static u8 vmx_get_interrupt_shadow(struct kvl_vcpu *vcpu)
{
	u32 s = to_vmx(vcpu)->intr_state;
	u8 r = 0;

	if (s & GUEST_INTR_STATE_STI)
		r |= KVM_X86_SHADOW_INT_STI;
	if (s & GUEST_INTR_STATE_MOV_SS)
		r |= KVM_X86_SHADOW_INT_MOV_SS;
	return r;
}

static void vmx_set_interrupt_shadow(struct kvl_vcpu *vcpu, u8 shadow)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 state = vmx->intr_state & ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS);

	/* One or the other: the CPU refuses both at once. */
	if (unlikely(shadow & KVM_X86_SHADOW_INT_MOV_SS))
		state |= GUEST_INTR_STATE_MOV_SS;
	else if (unlikely(shadow & KVM_X86_SHADOW_INT_STI))
		state |= GUEST_INTR_STATE_STI;
	vmx->intr_state = state;
}

static void vmx_get_dr67(struct kvl_vcpu *vcpu, u64 *dr6, u64 *dr7)
{
	vmx_sync(vcpu);
	*dr6 = to_vmx(vcpu)->dr6;
	*dr7 = to_vmx(vcpu)->dr7;
}

static void vmx_set_dr67(struct kvl_vcpu *vcpu, u64 dr6, u64 dr7)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	vmx_sync(vcpu);
	vmx->dr6 = dr6;
	vmx->dr7 = dr7;
	vmx->dirty = true;
}

/* PAT: eight types, each UC, WC, WT, WP, WB or UC- (not 2 or 3). */
static bool vmx_pat_ok(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 t = pat >> (i * 8);

		if (t > 7 || t == 2 || t == 3)
			return false;
	}
	return true;
}

/* The MSRs kept with the lazily read state: FS/GS base and SYSENTER. */
static bool vmx_msr_lazy(u32 index)
{
	return index == MSR_FS_BASE || index == MSR_GS_BASE || index == MSR_IA32_SYSENTER_CS ||
	       index == MSR_IA32_SYSENTER_ESP || index == MSR_IA32_SYSENTER_EIP;
}

static int vmx_get_msr(struct kvl_vcpu *vcpu, u32 index, u64 *data)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	if (vmx_msr_lazy(index))
		vmx_sync(vcpu);
	switch (index) {
	case MSR_EFER:
		*data = vmx->efer;
		break;
	case MSR_STAR:
		*data = vmx->uret[VMX_URET_STAR];
		break;
	case MSR_LSTAR:
		*data = vmx->uret[VMX_URET_LSTAR];
		break;
	case MSR_CSTAR:
		*data = vmx->uret[VMX_URET_CSTAR];
		break;
	case MSR_SYSCALL_MASK:
		*data = vmx->uret[VMX_URET_SFMASK];
		break;
	case MSR_KERNEL_GS_BASE:
		*data = vmx_kernel_gs_base(vmx, false, 0);
		break;
	case MSR_FS_BASE:
		*data = vmx->seg[VS_FS].base;
		break;
	case MSR_GS_BASE:
		*data = vmx->seg[VS_GS].base;
		break;
	case MSR_IA32_SYSENTER_CS:
		*data = vmx->sysenter_cs;
		break;
	case MSR_IA32_SYSENTER_ESP:
		*data = vmx->sysenter_esp;
		break;
	case MSR_IA32_SYSENTER_EIP:
		*data = vmx->sysenter_eip;
		break;
	case MSR_IA32_CR_PAT:
		*data = vmx->pat;
		break;
	case MSR_IA32_TSC:
		*data = rdtsc() + vmx->tsc_offset;
		break;
	default:
		return 1;
	}
	return 0;
}

static int vmx_set_msr(struct kvl_vcpu *vcpu, u32 index, u64 data, bool host)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	if (vmx_msr_lazy(index))
		vmx_sync(vcpu);
	switch (index) {
	case MSR_EFER:
		if (data & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX))
			return 1;
		/* LME cannot change under paging; LMA is the CPU's to set. */
		if (!host && (vmx->cr0 & X86_CR0_PG) && ((data ^ vmx->efer) & EFER_LME))
			return 1;
		vmx->efer = (data & ~EFER_LMA) | (vmx->efer & EFER_LMA);
		break;
	case MSR_STAR:
		vmx_set_uret(vmx, VMX_URET_STAR, data);
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
		/* Addresses: canonical only, or WRMSR in the host would fault. */
		if ((s64)(data << 16) >> 16 != data)
			return 1;
		if (index == MSR_LSTAR)
			vmx_set_uret(vmx, VMX_URET_LSTAR, data);
		else if (index == MSR_CSTAR)
			vmx_set_uret(vmx, VMX_URET_CSTAR, data);
		else if (index == MSR_KERNEL_GS_BASE)
			vmx_kernel_gs_base(vmx, true, data);
		else if (index == MSR_FS_BASE)
			vmx->seg[VS_FS].base = data;
		else if (index == MSR_GS_BASE)
			vmx->seg[VS_GS].base = data;
		else if (index == MSR_IA32_SYSENTER_ESP)
			vmx->sysenter_esp = data;
		else
			vmx->sysenter_eip = data;
		break;
	case MSR_SYSCALL_MASK:
		if (data >> 32)		/* reserved: WRMSR would fault */
			return 1;
		vmx_set_uret(vmx, VMX_URET_SFMASK, data);
		break;
	case MSR_IA32_SYSENTER_CS:
		vmx->sysenter_cs = data;
		break;
	case MSR_IA32_CR_PAT:
		if (!vmx_pat_ok(data))
			return 1;
		vmx->pat = data;
		break;
	case MSR_IA32_TSC:
		vmx->tsc_offset = data - rdtsc();
		break;
	default:
		return 1;
	}
	vmx->dirty = true;
	return 0;
}

static void vmx_set_cr2(struct kvl_vcpu *vcpu, u64 cr2)
{
	to_vmx(vcpu)->cr2 = cr2;
}

/* Exceptions that push an error code (in protected mode). */
static bool vmx_exc_has_err(u8 vec)
{
	return vec == DF_VECTOR || (vec >= TS_VECTOR && vec <= PF_VECTOR) || vec == AC_VECTOR;
}

/*
 * Program the next event: a re-injection first, then exceptions, then
 * NMIs (when neither NMI blocking nor an STI/MOV SS shadow is in the way;
 * otherwise the NMI window exit says when).
 */
static void vmx_inject_event(struct kvl_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	struct kvl_event *e = &vcpu->event;
	bool shadow = vmx->intr_state & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS);
	u32 info;

	vmx->proc &= ~CPU_BASED_NMI_WINDOW_EXITING;
	vmx->intr_state &= ~GUEST_INTR_STATE_NMI;
	/* STI blocking is only valid with EFLAGS.IF set. */
	if (!(vcpu->rflags & X86_EFLAGS_IF))
		vmx->intr_state &= ~GUEST_INTR_STATE_STI;
	/* The usual entry: nothing to deliver, no NMI in sight. */
	if (likely(e->type == KVL_EVENT_NONE && vcpu->pending_exc.type == KVL_EVENT_NONE &&
		   !vcpu->nmi_pending && !vcpu->nmi_masked))
		goto none;

	if (e->type == KVL_EVENT_NONE) {
		if (vcpu->pending_exc.type != KVL_EVENT_NONE) {
			*e = vcpu->pending_exc;
			vcpu->pending_exc.type = KVL_EVENT_NONE;
		} else if (vcpu->nmi_pending && !vcpu->nmi_masked && !shadow) {
			e->type = KVL_EVENT_NMI;
			e->vector = NMI_VECTOR;
			e->has_err = false;
			vcpu->nmi_pending = false;
		}
	}
	if (vcpu->nmi_pending && e->type != KVL_EVENT_NMI)
		vmx->proc |= CPU_BASED_NMI_WINDOW_EXITING;

	if (vcpu->nmi_masked && e->type != KVL_EVENT_NMI)
		vmx->intr_state |= GUEST_INTR_STATE_NMI;

	if (e->type == KVL_EVENT_NONE) {
none:
		/* VM exit clears the valid bit; only a VMfail can leave it set. */
		if (vmx->entry_intr_set) {
			vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
			vmx->entry_intr_set = false;
		}
		return;
	}
	vmx->entry_intr_set = true;
	info = e->vector | INTR_INFO_VALID_MASK;
	switch (e->type) {
	case KVL_EVENT_EXCEPTION:
		info |= INTR_TYPE_HARD_EXCEPTION;
		/* An error code iff protected mode and a vector that has one. */
		if ((vmx->cr0 & X86_CR0_PE) && vmx_exc_has_err(e->vector)) {
			info |= INTR_INFO_DELIVER_CODE_MASK;
			vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, e->has_err ? e->err : 0);
		}
		break;
	case KVL_EVENT_INTR:
		info |= INTR_TYPE_EXT_INTR;
		break;
	case KVL_EVENT_SOFT_INTR:
		/* Only from KVM_SET_VCPU_EVENTS: taken as the two-byte INT n at RIP. */
		info |= INTR_TYPE_SOFT_INTR;
		vmcs_write(VM_ENTRY_INSTRUCTION_LEN, 2);
		break;
	case KVL_EVENT_NMI:
		info |= INTR_TYPE_NMI_INTR;
		vcpu->nmi_masked = true;
		break;
	}
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info);
}

/* After the exit: an event whose delivery the exit cut short is delivered again. */
static void vmx_complete_event(struct kvl_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	u32 info = vmx->idt_info;
	struct kvl_event *e = &vcpu->event;

	e->type = KVL_EVENT_NONE;
	if (!(info & VECTORING_INFO_VALID_MASK))
		return;
	e->vector = info & VECTORING_INFO_VECTOR_MASK;
	e->has_err = info & VECTORING_INFO_DELIVER_CODE_MASK;
	e->err = vmx->idt_err;
	switch (info & VECTORING_INFO_TYPE_MASK) {
	case INTR_TYPE_HARD_EXCEPTION:
		e->type = KVL_EVENT_EXCEPTION;
		break;
	case INTR_TYPE_EXT_INTR:
		e->type = KVL_EVENT_INTR;
		break;
	case INTR_TYPE_NMI_INTR:
		/* Not delivered, so not blocking: it goes in again. */
		e->type = KVL_EVENT_NMI;
		vcpu->nmi_masked = false;
		break;
	default:
		/* INT n, INT3, INTO, INT1: RIP is still on the instruction, which runs again. */
		break;
	}
}

/* The guest state of the copy into the VMCS. */
static void vmx_write_guest_state(struct kvl_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	u32 entry = vmx_entry_ctls;
	int i;

	/* Only the eager part changed (every setter of the rest syncs first). */
	if (vmx->lazy)
		vmx_read_lazy_state(vmx);
	for (i = 0; i < VS_NR; i++) {
		vmcs_write(GUEST_ES_SELECTOR + 2 * i, vmx->seg[i].sel);
		vmcs_write(GUEST_ES_LIMIT + 2 * i, vmx->seg[i].limit);
		vmcs_write(GUEST_ES_AR_BYTES + 2 * i, vmx->seg[i].ar);
		vmcs_write(GUEST_ES_BASE + 2 * i, vmx->seg[i].base);
	}
	vmcs_write(GUEST_GDTR_BASE, vmx->gdt_base);
	vmcs_write(GUEST_GDTR_LIMIT, vmx->gdt_limit);
	vmcs_write(GUEST_IDTR_BASE, vmx->idt_base);
	vmcs_write(GUEST_IDTR_LIMIT, vmx->idt_limit);
	/* The CPU wants NE; caching stays on whatever the guest says (as KVM). */
	vmcs_write(GUEST_CR0, (vmx->cr0 | X86_CR0_NE) & ~(X86_CR0_CD | X86_CR0_NW));
	vmcs_write(CR0_READ_SHADOW, vmx->cr0);
	vmcs_write(GUEST_CR3, vmx->cr3);
	vmcs_write(GUEST_CR4, vmx->cr4 | X86_CR4_VMXE);
	vmcs_write(CR4_READ_SHADOW, vmx->cr4);
	vmcs_write(GUEST_IA32_EFER, vmx->efer);
	vmcs_write(GUEST_IA32_PAT, vmx->pat);
	vmcs_write(GUEST_DR7, vmx->dbg_regs && (vcpu->guest_debug & KVM_GUESTDBG_USE_HW_BP) ?
			      vcpu->guest_debug_dr7 : vmx->dr7);
	vmcs_write(EXCEPTION_BITMAP, vmx->exc_bitmap);
	vmcs_write(GUEST_SYSENTER_CS, vmx->sysenter_cs);
	vmcs_write(GUEST_SYSENTER_ESP, vmx->sysenter_esp);
	vmcs_write(GUEST_SYSENTER_EIP, vmx->sysenter_eip);
	for (i = 0; i < 4; i++)
		vmcs_write(GUEST_PDPTR0 + 2 * i, vmx->pdptr[i]);
	vmcs_write(TSC_OFFSET, vmx->tsc_offset);
	if (vmx->efer & EFER_LMA)
		entry |= VM_ENTRY_IA32E_MODE;
	vmcs_write(VM_ENTRY_CONTROLS, entry);
	vmx->dirty = false;
}

/*
 * The part of what the guest can change without an exit that exits rarely
 * need: read on first use after the exit (vmx_sync()), with this vCPU's
 * VMCS current on this CPU.
 */
static void vmx_read_lazy_state(struct vmx_vcpu *vmx)
{
	int i;

	for (i = 0; i < VS_NR; i++) {
		vmx->seg[i].sel = vmcs_read(GUEST_ES_SELECTOR + 2 * i);
		vmx->seg[i].limit = vmcs_read(GUEST_ES_LIMIT + 2 * i);
		vmx->seg[i].ar = vmcs_read(GUEST_ES_AR_BYTES + 2 * i);
		vmx->seg[i].base = vmcs_read(GUEST_ES_BASE + 2 * i);
	}
	vmx->gdt_base = vmcs_read(GUEST_GDTR_BASE);
	vmx->gdt_limit = vmcs_read(GUEST_GDTR_LIMIT);
	vmx->idt_base = vmcs_read(GUEST_IDTR_BASE);
	vmx->idt_limit = vmcs_read(GUEST_IDTR_LIMIT);
	vmx->sysenter_cs = vmcs_read(GUEST_SYSENTER_CS);
	vmx->sysenter_esp = vmcs_read(GUEST_SYSENTER_ESP);
	vmx->sysenter_eip = vmcs_read(GUEST_SYSENTER_EIP);
	vmx->cr3 = vmcs_read(GUEST_CR3);
	/* Under the debugger every MOV DR exits: the VMCS may hold its DR7. */
	if (!vmx->dbg_regs)
		vmx->dr7 = vmcs_read(GUEST_DR7);
	if (vmx_pae_paging(vmx))
		for (i = 0; i < 4; i++)
			vmx->pdptr[i] = vmcs_read(GUEST_PDPTR0 + 2 * i);
	vmx->lazy = false;
}

/* And back after each exit: the rest of what the guest can change without one. */
static void vmx_read_guest_state(struct kvl_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	vcpu->rip = vmcs_read(GUEST_RIP);
	vcpu->rsp = vmcs_read(GUEST_RSP);
	vcpu->rflags = vmcs_read(GUEST_RFLAGS);
	vmx->intr_state = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
	vmx->cr0 = (vmcs_read(GUEST_CR0) & ~VMX_CR0_HOST_BITS) | (vmx->cr0 & VMX_CR0_HOST_BITS);
	vmx->cr4 = (vmcs_read(GUEST_CR4) & ~VMX_CR4_HOST_BITS) | (vmx->cr4 & VMX_CR4_HOST_BITS);
	vmx->efer = vmcs_read(GUEST_IA32_EFER);
	vcpu->nmi_masked = vmx->intr_state & GUEST_INTR_STATE_NMI;
	vmx->lazy = true;
}

/* DR0-3 as the guest (or the debugger, @db) has them, and the guest's DR6. */
static void vmx_load_guest_db(struct vmx_vcpu *vmx, const unsigned long *db)
{
	/* No host breakpoint on guest addresses until VM entry loads the guest's DR7. */
	set_debugreg(0, 7);
	set_debugreg(db[0], 0);
	set_debugreg(db[1], 1);
	set_debugreg(db[2], 2);
	set_debugreg(db[3], 3);
	set_debugreg(vmx->dr6, 6);
}

static void vmx_save_guest_db(struct kvl_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	get_debugreg(vcpu->db[0], 0);
	get_debugreg(vcpu->db[1], 1);
	get_debugreg(vcpu->db[2], 2);
	get_debugreg(vcpu->db[3], 3);
	get_debugreg(vmx->dr6, 6);
	set_debugreg(DR6_RESERVED, 6);
}

/*
 * IRQs off, the first entry since the thread came to this CPU: save what
 * VM exit will not restore and load the guest's KERNEL_GS_BASE, which
 * its SWAPGS changes without an exit.  The host only needs these back on
 * the way to user space or to another task: vmx_vcpu_put().
 */
static void vmx_save_host_state(struct vmx_vcpu *vmx)
{
	savesegment(ds, vmx->host.ds);
	savesegment(es, vmx->host.es);
	savesegment(fs, vmx->host.fs);
	savesegment(gs, vmx->host.gs);
	asm volatile("sldt %0" : "=g" (vmx->host.ldt));
	vmx->host.fs_base = x86_fsbase_read_cpu();	/* RDFSBASE where the CPU has it */
	vmcs_write(HOST_FS_BASE, vmx->host.fs_base);
	rdmsrl(MSR_KERNEL_GS_BASE, vmx->host.kernel_gs_base);
	wrmsrl(MSR_KERNEL_GS_BASE, vmx->kernel_gs_base);
	/* As KVM, read once per stay on this CPU, not at every entry. */
	vmx->host.debugctl = 0;
	if (vmx_has_debugctl)
		rdmsrl(MSR_IA32_DEBUGCTLMSR, vmx->host.debugctl);
	vmx->host.saved = true;
}

/* Preemption off, IRQs maybe off: the host state vmx_save_host_state() saved. */
static void vmx_vcpu_put(struct kvl_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	if (!vmx->host.saved)
		return;
	rdmsrl(MSR_KERNEL_GS_BASE, vmx->kernel_gs_base);
	if (vmx->host.ds | vmx->host.es) {
		loadsegment(ds, vmx->host.ds);
		loadsegment(es, vmx->host.es);
	}
	if (vmx->host.fs) {
		loadsegment(fs, vmx->host.fs);
		wrmsrl(MSR_FS_BASE, vmx->host.fs_base);
	}
	if (vmx->host.ldt)
		asm volatile("lldt %0" : : "rm" (vmx->host.ldt));
	/* Loading GS's selector loads the inactive base, written just after. */
	if (vmx->host.gs)
		load_gs_index(vmx->host.gs);
	wrmsrl(MSR_KERNEL_GS_BASE, vmx->host.kernel_gs_base);
	/* The exit left GDTR.limit at 0xffff and TR.limit at 0x67. */
	load_fixmap_gdt(smp_processor_id());
	invalidate_tss_limit();
	vmx->host.saved = false;
}

static int vmx_vcpu_run(struct kvl_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	unsigned long cr3, cr4;

	if (WARN_ON_ONCE(vmx->loaded_cpu != smp_processor_id()))
		return -EIO;
	if (test_and_clear_bit(KVL_REQ_TLB_FLUSH, &vcpu->requests))
		vmx->flush = true;
	if (vmx->flush) {
		u64 eptp = to_vmx_vm(vcpu->vm)->eptp;

		if (vmx_ept_vpid_cap & CAP_INVEPT_SINGLE)
			vmx_invept(INVEPT_SINGLE, eptp);
		else
			vmx_invept(INVEPT_ALL, 0);
		if (vmx->vpid) {
			if (vmx_ept_vpid_cap & CAP_INVVPID_SINGLE)
				vmx_invvpid(INVVPID_SINGLE, vmx->vpid);
			else
				vmx_invvpid(INVVPID_ALL, 0);
		}
		vmx->flush = false;
	}
	if (vmx->dirty)
		vmx_write_guest_state(vcpu, vmx);
	vmx_inject_event(vcpu, vmx);
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, vmx->proc);
	vmcs_write(GUEST_RIP, vcpu->rip);
	vmcs_write(GUEST_RSP, vcpu->rsp);
	vmcs_write(GUEST_RFLAGS, vcpu->rflags);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, vmx->intr_state);

	/* Host state that can differ from one entry to the next. */
	cr3 = __read_cr3();
	if (unlikely(cr3 != vmx->host.cr3)) {
		vmcs_write(HOST_CR3, cr3);
		vmx->host.cr3 = cr3;
	}
	cr4 = cr4_read_shadow();
	if (unlikely(cr4 != vmx->host.cr4)) {
		vmcs_write(HOST_CR4, cr4);
		vmx->host.cr4 = cr4;
	}
	if (!vmx->host.saved)
		vmx_save_host_state(vmx);
	vmx_uret_load(vmx);

	if (vmx->dbg_regs) {
		vmx_load_guest_db(vmx, vcpu->guest_debug & KVM_GUESTDBG_USE_HW_BP ?
				  vcpu->guest_debug_db : vcpu->db);
		/* TF under STI/MOV SS blocking: the entry checks want BS pending. */
		if ((vcpu->rflags & X86_EFLAGS_TF) &&
		    (vmx->intr_state & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)))
			vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, DR_STEP);
	} else if (vcpu->db_guest_owned) {
		vmx_load_guest_db(vmx, vcpu->db);
	}
	kvl_fpu_load_guest_xcr0(vcpu, vmx->cr4);
	if (native_read_cr2() != vmx->cr2)
		native_write_cr2(vmx->cr2);

	vmx->fail = kvl_vmx_enter(vcpu->regs, vmx->launched);

	vmx->cr2 = native_read_cr2();
	kvl_fpu_put_guest_xcr0(vcpu, vmx->cr4);
	/* Under the debugger every MOV DR exits, and a #DB leaves DR6 alone. */
	if (vcpu->db_guest_owned && !vmx->dbg_regs)
		vmx_save_guest_db(vcpu, vmx);

	/* The host state the VM exit loaded differently; the rest waits for vmx_vcpu_put(). */
	if (vmx->host.debugctl)
		wrmsrl(MSR_IA32_DEBUGCTLMSR, vmx->host.debugctl);
	if (hw_breakpoint_active())
		hw_breakpoint_restore();

	if (vmx->fail) {
		vmx->insn_error = vmx->fail == 1 ? vmcs_read(VM_INSTRUCTION_ERROR) : 0;
		return 0;
	}
	vmx->exit_reason = vmcs_read(VM_EXIT_REASON);
	if (!(vmx->exit_reason & VMX_EXIT_FAILED_ENTRY))
		vmx->launched = true;
	vmx->exit_qual = vmcs_read(EXIT_QUALIFICATION);
	vmx->insn_len = vmcs_read(VM_EXIT_INSTRUCTION_LEN);
	/* The rest only where the exit reason or the vectoring info gives them meaning. */
	if ((u16)vmx->exit_reason == EXIT_REASON_EXCEPTION_NMI)
		vmx->exit_intr_info = vmcs_read(VM_EXIT_INTR_INFO);
	else if ((u16)vmx->exit_reason == EXIT_REASON_EPT_VIOLATION)
		vmx->exit_gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
	vmx->idt_info = vmcs_read(IDT_VECTORING_INFO_FIELD);
	vmx->idt_err = vmx->idt_info & VECTORING_INFO_DELIVER_CODE_MASK ?
		       vmcs_read(IDT_VECTORING_ERROR_CODE) : 0;
	vmx_read_guest_state(vcpu, vmx);
	/* A failed entry delivered nothing: the event stays queued. */
	if (!(vmx->exit_reason & VMX_EXIT_FAILED_ENTRY))
		vmx_complete_event(vcpu, vmx);

	/* A host NMI arrived in the guest: hand it to the host's handler now. */
	if ((u16)vmx->exit_reason == EXIT_REASON_EXCEPTION_NMI &&
	    (vmx->exit_intr_info & (INTR_INFO_VALID_MASK | INTR_INFO_INTR_TYPE_MASK)) ==
	    (INTR_INFO_VALID_MASK | INTR_TYPE_NMI_INTR))
		asm volatile("int $2");
	return 0;
}

/* GPR number in VMX exit qualifications (the x86 encoding order) -> vCPU slot. */
static unsigned long *vmx_gpr(struct kvl_vcpu *vcpu, unsigned int n)
{
	static const u8 map[16] = {
		KVL_RAX, KVL_RCX, KVL_RDX, KVL_RBX, 0xff, KVL_RBP, KVL_RSI, KVL_RDI,
		KVL_R8, KVL_R9, KVL_R10, KVL_R11, KVL_R12, KVL_R13, KVL_R14, KVL_R15,
	};

	n &= 15;
	return map[n] == 0xff ? &vcpu->rsp : &vcpu->regs[map[n]];
}

static int vmx_set_cr0(struct kvl_vcpu *vcpu, struct vmx_vcpu *vmx, u64 val)
{
	u64 efer = vmx->efer;

	if (val >> 32 || ((val & X86_CR0_NW) && !(val & X86_CR0_CD)) ||
	    ((val & X86_CR0_PG) && !(val & X86_CR0_PE)))
		return 1;
	if ((val & X86_CR0_PG) && !(vmx->cr0 & X86_CR0_PG) && (efer & EFER_LME)) {
		if (!(vmx->cr4 & X86_CR4_PAE))
			return 1;
		efer |= EFER_LMA;
	}
	if (!(val & X86_CR0_PG))
		efer &= ~EFER_LMA;
	vmx->cr0 = val | X86_CR0_ET;
	vmx->efer = efer;
	vmx_load_pdptrs(vcpu);
	vmx->dirty = true;
	vmx->flush = true;
	return 0;
}

/* MOV to/from CR0, CR4, CR8 that the guest/host masks or CR8 exiting stopped. */
static int vmx_exit_cr(struct kvl_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	u64 q = vmx->exit_qual;
	unsigned int cr = q & 15, type = (q >> 4) & 3;
	unsigned long *reg = vmx_gpr(vcpu, q >> 8);
	int fault = 0;

	vmx_sync(vcpu);
	if (type == 0) {		/* MOV to CR */
		u64 val = *reg;

		if (!(vmx->efer & EFER_LMA) || !(vmx->seg[VS_CS].ar & BIT(13)))
			val = (u32)val;
		switch (cr) {
		case 0:
			fault = vmx_set_cr0(vcpu, vmx, val);
			break;
		case 4:
			if (!kvl_cr4_valid(vcpu, val) ||
			    ((vmx->efer & EFER_LMA) && !(val & X86_CR4_PAE))) {
				fault = 1;
				break;
			}
			vmx->cr4 = val;
			vmx_load_pdptrs(vcpu);
			vmx->dirty = true;
			vmx->flush = true;
			break;
		case 8:
			if (val > 15) {
				fault = 1;
				break;
			}
			vmx->cr8 = val;
			if (vcpu->lapic)
				kvl_apic_set_tpr(vcpu, val);
			break;
		default:
			goto unexpected;
		}
	} else if (type == 1 && cr == 8) {	/* MOV from CR8 */
		*reg = vcpu->lapic ? kvl_apic_get_tpr(vcpu) : vmx->cr8;
	} else {
		goto unexpected;
	}
	if (fault) {
		kvl_queue_exception(vcpu, GP_VECTOR, true, 0);
		return KVL_EXIT_CONTINUE;
	}
	kvl_skip_instruction(vcpu, vmx->insn_len);
	return KVL_EXIT_CONTINUE;

unexpected:
	kvl_internal_error(vcpu, KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON,
			   vmx->exit_reason, q);
	return KVL_EXIT_USER;
}

static int vmx_exit_io(struct kvl_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	u64 q = vmx->exit_qual;
	struct kvl_pio *pio = &vcpu->pio;

	/* INS/OUTS: the emulator decodes them. */
	if (q & (BIT(4) | BIT(5)))
		return KVL_EXIT_EMULATE;
	pio->port = q >> 16;
	pio->in = q & BIT(3);
	pio->size = (q & 7) + 1;	/* 0, 1, 3: one, two or four bytes */
	pio->string = false;
	pio->rep = false;
	pio->count = 1;
	pio->next_rip = vcpu->rip + vmx->insn_len;
	return KVL_EXIT_IO;
}

/* The exits vmx_handle_exit() does not dispatch itself, and failed entries. */
static noinline int vmx_handle_exit_rest(struct kvl_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	struct kvm_run *run = vcpu->run;
	u32 reason = vmx->exit_reason;
	u32 intr = vmx->exit_intr_info;

	if (vmx->fail) {
		run->exit_reason = KVM_EXIT_FAIL_ENTRY;
		run->fail_entry.hardware_entry_failure_reason = vmx->insn_error;
		run->fail_entry.cpu = vcpu->cpu;
		return KVL_EXIT_USER;
	}
	if (reason & VMX_EXIT_FAILED_ENTRY) {
		run->exit_reason = KVM_EXIT_FAIL_ENTRY;
		run->fail_entry.hardware_entry_failure_reason = reason;
		run->fail_entry.cpu = vcpu->cpu;
		return KVL_EXIT_USER;
	}

	switch ((u16)reason) {
	case EXIT_REASON_EXTERNAL_INTERRUPT:
	case EXIT_REASON_INIT_SIGNAL:
	case EXIT_REASON_SIPI_SIGNAL:
		return KVL_EXIT_INTR;
	case EXIT_REASON_EXCEPTION_NMI:
		if ((intr & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR)
			return KVL_EXIT_INTR;
		/* Only the debugger's intercepts: the exit qualification holds DR6's bits. */
		if ((intr & INTR_INFO_VECTOR_MASK) == DB_VECTOR) {
			vmx_sync(vcpu);
			kvl_debug_exit(vcpu, DB_VECTOR, vmx->exit_qual | DR6_RESERVED,
				       vcpu->guest_debug & KVM_GUESTDBG_USE_HW_BP ?
				       vcpu->guest_debug_dr7 : vmx->dr7, kvl_linear_rip(vcpu));
			return KVL_EXIT_USER;
		}
		if ((intr & INTR_INFO_VECTOR_MASK) == BP_VECTOR) {
			/* KVM_GUESTDBG_USE_SW_BP: RIP is on the INT3. */
			kvl_debug_exit(vcpu, BP_VECTOR, 0, 0, kvl_linear_rip(vcpu));
			return KVL_EXIT_USER;
		}
		break;
	case EXIT_REASON_XSETBV:
		kvl_emulate_xsetbv(vcpu);
		return KVL_EXIT_CONTINUE;
	case EXIT_REASON_CR_ACCESS:
		return vmx_exit_cr(vcpu, vmx);
	case EXIT_REASON_DR_ACCESS:
		vmx_sync(vcpu);
		if (vmx->dbg_regs)	/* qualification: DR in 2:0, from-DR in 4, GPR in 11:8 */
			return kvl_emulate_mov_dr(vcpu, vmx->exit_qual & 7,
						  !(vmx->exit_qual & BIT(4)),
						  vmx_gpr(vcpu, vmx->exit_qual >> 8),
						  (vmx->efer & EFER_LMA) &&
						  (vmx->seg[VS_CS].ar & BIT(13)), vmx->insn_len);
		/* First touch: hand DR0-3 and DR6 to the guest and run the MOV again. */
		vcpu->db_guest_owned = true;
		vmx->proc &= ~CPU_BASED_MOV_DR_EXITING;
		return KVL_EXIT_CONTINUE;
	case EXIT_REASON_INTERRUPT_WINDOW:
		vmx->proc &= ~CPU_BASED_INTR_WINDOW_EXITING;
		return KVL_EXIT_CONTINUE;
	case EXIT_REASON_NMI_WINDOW:
		vmx->proc &= ~CPU_BASED_NMI_WINDOW_EXITING;
		return KVL_EXIT_CONTINUE;
	case EXIT_REASON_INVD:
		kvl_skip_instruction(vcpu, vmx->insn_len);
		return KVL_EXIT_CONTINUE;
	case EXIT_REASON_PAUSE_INSTRUCTION:
		/*
		 * A vCPU spinning (on a lock, or for another vCPU): the exit
		 * lets the host take its interrupts and the run loop's
		 * cond_resched() run whoever is owed the CPU.  No directed
		 * yield to the other vCPUs as KVM's kvm_vcpu_on_spin().
		 */
		kvl_skip_instruction(vcpu, vmx->insn_len);
		return KVL_EXIT_CONTINUE;
	case EXIT_REASON_EPT_VIOLATION:
		/* The IRET that unblocked NMIs faulted: it runs again, blocked again. */
		if ((vmx->exit_qual & BIT(12)) && !(vmx->idt_info & VECTORING_INFO_VALID_MASK)) {
			vmx->intr_state |= GUEST_INTR_STATE_NMI;
			vcpu->nmi_masked = true;
		}
		vcpu->fault_gpa = vmx->exit_gpa;
		vcpu->fault_write = vmx->exit_qual & BIT(1);
		vcpu->fault_vectoring = vmx->idt_info & VECTORING_INFO_VALID_MASK;
		return KVL_EXIT_GPA_FAULT;
	case EXIT_REASON_TRIPLE_FAULT:
		run->exit_reason = KVM_EXIT_SHUTDOWN;
		return KVL_EXIT_USER;
	case EXIT_REASON_VMCALL:
	case EXIT_REASON_VMCLEAR:
	case EXIT_REASON_VMLAUNCH:
	case EXIT_REASON_VMPTRLD:
	case EXIT_REASON_VMPTRST:
	case EXIT_REASON_VMREAD:
	case EXIT_REASON_VMRESUME:
	case EXIT_REASON_VMWRITE:
	case EXIT_REASON_VMOFF:
	case EXIT_REASON_VMON:
	case EXIT_REASON_INVEPT:
	case EXIT_REASON_INVVPID:
	case EXIT_REASON_MWAIT_INSTRUCTION:
	case EXIT_REASON_MONITOR_INSTRUCTION:
	case VMX_EXIT_GETSEC:
		/* Not advertised to the guest: #UD, as on a CPU without them. */
		kvl_queue_exception(vcpu, UD_VECTOR, false, 0);
		return KVL_EXIT_CONTINUE;
	default:
		break;
	}
	kvl_internal_error(vcpu, KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON, reason,
			   vcpu->cpu);	/* the CPU it exited on */
	return KVL_EXIT_USER;
}

/*
 * The exits a guest takes most often go straight to their handler, so
 * that they do not pay for the frame and the compare tree of the whole
 * switch (KVM picks out its frequent exits the same way).
 */
static int vmx_handle_exit(struct kvl_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	if (unlikely(vmx->fail))
		return vmx_handle_exit_rest(vcpu, vmx);
	/* All 32 bits: a failed entry (bit 31) goes the long way. */
	switch (vmx->exit_reason) {
	case EXIT_REASON_IO_INSTRUCTION:
		return vmx_exit_io(vcpu, vmx);
	case EXIT_REASON_CPUID:
		kvl_emulate_cpuid(vcpu);
		return KVL_EXIT_CONTINUE;
	case EXIT_REASON_MSR_READ:
		kvl_emulate_rdmsr(vcpu);
		return KVL_EXIT_CONTINUE;
	case EXIT_REASON_MSR_WRITE:
		kvl_emulate_wrmsr(vcpu);	/* vmx_set_msr() marks what it changes */
		return KVL_EXIT_CONTINUE;
	case EXIT_REASON_HLT:
		kvl_skip_instruction(vcpu, vmx->insn_len);
		return KVL_EXIT_HLT;
	default:
		return vmx_handle_exit_rest(vcpu, vmx);
	}
}

const struct kvl_backend kvl_vmx_backend = {
	.name		= "Intel VT-x",
	.probe		= vmx_probe,
	.init		= vmx_init,
	.exit		= vmx_exit,
	.cpu_enable	= vmx_cpu_enable,
	.cpu_disable	= vmx_cpu_disable,
	.vm_init	= vmx_vm_init,
	.vm_destroy	= vmx_vm_destroy,
	.zap_gpa	= vmx_zap_gpa,
	.map_gpa	= vmx_map_gpa,
	.vcpu_create	= vmx_vcpu_create,
	.vcpu_destroy	= vmx_vcpu_destroy,
	.vcpu_load	= vmx_vcpu_load,
	.get_cr8	= vmx_get_cr8,
	.vcpu_run	= vmx_vcpu_run,
	.handle_exit	= vmx_handle_exit,
	.vcpu_put	= vmx_vcpu_put,
	.get_sregs	= vmx_get_sregs,
	.set_sregs	= vmx_set_sregs,
	.get_msr	= vmx_get_msr,
	.set_msr	= vmx_set_msr,
	.get_cr4	= vmx_get_cr4,
	.get_cpl	= vmx_get_cpl,
	.get_emu_regs	= vmx_get_emu_regs,
	.get_interrupt_shadow = vmx_get_interrupt_shadow,
	.set_interrupt_shadow = vmx_set_interrupt_shadow,
	.get_dr67	= vmx_get_dr67,
	.set_dr67	= vmx_set_dr67,
	.set_irq_window	= vmx_set_irq_window,
	.vcpu_reset	= vmx_vcpu_reset,
	.set_cr2	= vmx_set_cr2,
	.update_guest_debug = vmx_update_guest_debug,
};
