/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmlite: the vendor-blind core's view of VMs, vCPUs and backends.
 *
 * The core (main.c, vm.c, vcpu.c) owns the KVM ioctl ABI, memslots and the
 * run loop.  A backend (svm.c, vmx.c) owns the hardware: it exports exactly
 * one struct kvl_backend and keeps everything else static.
 */
#ifndef KVMLITE_H
#define KVMLITE_H

#include <linux/kvm.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/spinlock.h>
#include <linux/mmu_notifier.h>
#include <linux/refcount.h>
#include <linux/signal.h>
#include <linux/static_call.h>
#include <linux/xarray.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xcr.h>
#include <asm/fpu/xstate.h>
#include <asm/irq_vectors.h>
#include "irqchip.h"

#define KVL_API_VERSION		12
/*
 * KVM's x86 limits: KVM_MAX_VCPUS (CONFIG_KVM_MAX_NR_VCPUS where the kernel
 * has that option, 6.8 on; 1024 before) and KVM_MAX_VCPU_IDS, four ids per
 * vCPU as APIC ids encode a topology and skip numbers.
 */
#ifdef CONFIG_KVM_MAX_NR_VCPUS
#define KVL_MAX_VCPUS		CONFIG_KVM_MAX_NR_VCPUS
#else
#define KVL_MAX_VCPUS		1024
#endif
#define KVL_MAX_VCPU_ID		(4 * KVL_MAX_VCPUS)
#define KVL_USER_MEM_SLOTS	32764	/* KVM's x86 figure: SHRT_MAX less 3 internal slots */
#define KVL_ADDRESS_SPACES	1
#define KVL_MAX_SLOT_PAGES	BIT(31)
#define KVL_PIO_PAGE		1	/* page offset of the PIO data in the run mmap */
#define KVL_RUN_PAGES		2	/* kvm_run and the PIO data page */
/* What a vCPU fd maps: those, then the VM's coalesced MMIO ring, as KVM x86. */
#define KVL_VCPU_MMAP_PAGES	(KVM_COALESCED_MMIO_PAGE_OFFSET + 1)
#define KVL_MAX_IO_DEVS		256	/* in-kernel PIO/MMIO devices (and ioeventfds) per VM */
/* KVM_SET_GUEST_DEBUG's controls: all of KVM's x86 ones. */
#define KVL_GUESTDBG_VALID	(KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP | \
				 KVM_GUESTDBG_USE_HW_BP | KVM_GUESTDBG_USE_SW_BP | \
				 KVM_GUESTDBG_INJECT_BP | KVM_GUESTDBG_INJECT_DB | \
				 KVM_GUESTDBG_BLOCKIRQ)

struct kvl_vm;
struct kvl_vcpu;
struct kvl_emu_io;

/* Indices into kvl_vcpu::regs, in the order the entry stubs expect. */
enum kvl_reg {
	KVL_RAX, KVL_RBX, KVL_RCX, KVL_RDX, KVL_RSI, KVL_RDI, KVL_RBP,
	KVL_R8, KVL_R9, KVL_R10, KVL_R11, KVL_R12, KVL_R13, KVL_R14, KVL_R15,
	KVL_NR_GPRS
};

/*
 * What a backend's exit handler asks of the core.  The core turns these
 * into kvm_run exits (or keeps running).
 */
enum kvl_exit {
	KVL_EXIT_CONTINUE,	/* handled, re-enter */
	KVL_EXIT_USER,		/* kvm_run is filled in, return to userspace */
	KVL_EXIT_IO,		/* vcpu->io describes a port access */
	KVL_EXIT_HLT,
	KVL_EXIT_INTR,		/* host interrupt or signal check */
	KVL_EXIT_GPA_FAULT,	/* vcpu->fault_gpa has no nested translation yet */
	KVL_EXIT_EMULATE,	/* the instruction at rip needs the emulator (INS/OUTS) */
};

/* What the emulator reads of the vCPU besides its GPRs (see kvl_backend). */
struct kvl_emu_regs {
	u64 seg_base[6];	/* ES, CS, SS, DS, FS, GS: the x86 encoding order */
	u64 cr0, cr3, cr4, efer;
	bool cs_l, cs_db;
	u8 cpl;
};

struct kvl_backend {
	const char *name;
	/* Does this CPU have the extension (and nested paging)?  Returns 0 or -errno. */
	int (*probe)(void);
	int (*init)(void);
	void (*exit)(void);
	/* Per host CPU; called with preemption off. */
	int (*cpu_enable)(void);
	void (*cpu_disable)(void);

	int (*vm_init)(struct kvl_vm *vm);
	void (*vm_destroy)(struct kvl_vm *vm);
	/* Drop the nested translation of guest-physical [start, end). */
	void (*zap_gpa)(struct kvl_vm *vm, u64 start, u64 end);
	int (*map_gpa)(struct kvl_vm *vm, u64 gpa, unsigned long pfn, bool writable);
	/*
	 * Optional: map the 2 MiB-aligned range holding @gpa with one 2 MiB
	 * page (@pfn its first frame); -EEXIST where 4 KiB mappings are.
	 */
	int (*map_gpa_2m)(struct kvl_vm *vm, u64 gpa, unsigned long pfn, bool writable);

	int (*vcpu_create)(struct kvl_vcpu *vcpu);
	void (*vcpu_destroy)(struct kvl_vcpu *vcpu);
	/*
	 * Optional: the vCPU enters next on this CPU.  Preemption off, IRQs
	 * on, so that a backend may IPI the CPU it ran on before (VMCLEAR).
	 */
	void (*vcpu_load)(struct kvl_vcpu *vcpu);
	/* One guest entry and exit; IRQs off, preemption off.  0 or -errno. */
	int (*vcpu_run)(struct kvl_vcpu *vcpu);
	/* Then, IRQs on and preemptible: what the exit asks.  An enum kvl_exit or -errno. */
	int (*handle_exit)(struct kvl_vcpu *vcpu);
	/*
	 * Optional: host state that vcpu_run leaves switched across exits
	 * handled in the kernel goes back, because the thread leaves KVM_RUN
	 * or is scheduled out (a preempt notifier).  Preemption off, IRQs
	 * maybe off.
	 */
	void (*vcpu_put)(struct kvl_vcpu *vcpu);

	void (*get_sregs)(struct kvl_vcpu *vcpu, struct kvm_sregs *sregs);
	int (*set_sregs)(struct kvl_vcpu *vcpu, const struct kvm_sregs *sregs);
	/*
	 * Just the state the instruction emulator needs on every MMIO exit
	 * (and the CS base of the debug exits): cheaper than get_sregs.
	 */
	void (*get_emu_regs)(struct kvl_vcpu *vcpu, struct kvl_emu_regs *r);

	/*
	 * MSRs the backend keeps (EFER, the VMLOAD/VMCS-switched ones, PAT,
	 * the TSC offset, DR6/DR7 for debugregs).  0 on success, 1 if the MSR
	 * is not the backend's or the value is refused (#GP for the guest).
	 */
	int (*get_msr)(struct kvl_vcpu *vcpu, u32 index, u64 *data);
	int (*set_msr)(struct kvl_vcpu *vcpu, u32 index, u64 data, bool host);
	u64 (*get_cr4)(struct kvl_vcpu *vcpu);
	/* CR8 (the TPR) of a vCPU without an in-kernel LAPIC: every KVM_RUN reports it. */
	u64 (*get_cr8)(struct kvl_vcpu *vcpu);
	int (*get_cpl)(struct kvl_vcpu *vcpu);
	/* STI/MOV SS blocking, as KVM_VCPUEVENT's interrupt.shadow. */
	u8 (*get_interrupt_shadow)(struct kvl_vcpu *vcpu);
	void (*set_interrupt_shadow)(struct kvl_vcpu *vcpu, u8 shadow);
	void (*get_dr67)(struct kvl_vcpu *vcpu, u64 *dr6, u64 *dr7);
	void (*set_dr67)(struct kvl_vcpu *vcpu, u64 dr6, u64 dr7);
	/* Exit as soon as the guest can take an interrupt (or stop asking). */
	void (*set_irq_window)(struct kvl_vcpu *vcpu, bool on);
	/* INIT: the architectural INIT state of everything but the LAPIC. */
	void (*vcpu_reset)(struct kvl_vcpu *vcpu);
	/* The #PF address, for an exception the instruction emulator queues. */
	void (*set_cr2)(struct kvl_vcpu *vcpu, u64 cr2);
	/*
	 * KVM_SET_GUEST_DEBUG changed vcpu->guest_debug (and its DR0-3/DR7):
	 * program the #BP/#DB/MOV DR intercepts and the effective debug
	 * registers.  The backend reports what it catches with kvl_debug_exit().
	 */
	void (*update_guest_debug)(struct kvl_vcpu *vcpu);
};

extern const struct kvl_backend kvl_svm_backend;
extern const struct kvl_backend kvl_vmx_backend;
extern const struct kvl_backend *kvl_ops;

/*
 * The ops on every exit's round trip are also static calls, as KVM's
 * kvm_x86_ops are: direct calls patched in when the backend is chosen,
 * with no retpoline.  kvl_call(op)(args); kvl_call_cond() for an op a
 * backend may leave NULL.
 */
DECLARE_STATIC_CALL(kvl_op_vcpu_load, *kvl_ops->vcpu_load);
DECLARE_STATIC_CALL(kvl_op_vcpu_run, *kvl_ops->vcpu_run);
DECLARE_STATIC_CALL(kvl_op_handle_exit, *kvl_ops->handle_exit);
DECLARE_STATIC_CALL(kvl_op_vcpu_put, *kvl_ops->vcpu_put);
DECLARE_STATIC_CALL(kvl_op_set_interrupt_shadow, *kvl_ops->set_interrupt_shadow);
DECLARE_STATIC_CALL(kvl_op_get_cr8, *kvl_ops->get_cr8);
DECLARE_STATIC_CALL(kvl_op_get_emu_regs, *kvl_ops->get_emu_regs);
#define kvl_call(op) static_call(kvl_op_##op)
#define kvl_call_cond(op) static_call_cond(kvl_op_##op)

struct kvl_memslot {
	u64 base_gfn;
	u64 npages;
	unsigned long userspace_addr;
	unsigned long *dirty_bitmap;	/* little-endian bit per page, if logging */
	u32 flags;
	u16 id;
	bool used;
};

struct kvl_vm {
	refcount_t refs;
	struct mm_struct *mm;
	struct mmu_notifier mn;

	struct mutex lock;		/* vCPU creation, memslot updates */
	/*
	 * Slot id -> struct kvl_memslot, allocated on the slot's first use
	 * and kept until the VM goes (a deleted slot is !used), so pointers
	 * from kvl_gfn_to_slot() stay valid; ids are sparse up to KVM's 32764.
	 */
	struct xarray slot_array;
	/*
	 * The used slots ordered by base_gfn, for a binary search by
	 * kvl_gfn_to_slot(); written under both lock and mmu_lock, so either
	 * one is enough to read it.  Grown under lock before it fills.
	 */
	struct kvl_memslot **slot_order;
	unsigned int nr_slots, slot_order_cap;
	unsigned long slots_gen;	/* bumped by every memslot change */

	/* Nested page tables: mmu_lock, and the notifier retry protocol. */
	spinlock_t mmu_lock;
	unsigned long mmu_seq;
	long mmu_invalidating;

	/* Creation index -> vCPU (kvl_get_vcpu()); [0, nr_vcpus) are set. */
	struct xarray vcpu_array;
	int nr_vcpus;			/* published with smp_store_release */
	struct kvl_vcpu *bsp;		/* id 0 once created, smp_store_release */
	cpumask_var_t kick_mask;	/* under mmu_lock */
	s64 kvmclock_offset;		/* VM clock = CLOCK_BOOTTIME + this */
	/* msr.c: the TSC offset host writes of 0 (vCPU creation) synchronize to. */
	s64 tsc_offset;
	bool tsc_offset_set;		/* under lock */

	/* In-kernel devices (irqchip.h). */
	struct mutex io_lock;
	struct kvl_io_bus __rcu *io_bus;
	struct mutex irq_lock;		/* irqchip and PIT creation */
	bool irqchip;			/* KVM_CREATE_IRQCHIP or split irqchip done */
	/*
	 * KVM_CAP_SPLIT_IRQCHIP: LAPICs in the kernel, PIC and IOAPIC in
	 * userspace (pic and ioapic NULL); GSIs below split_ioapic_pins are
	 * the userspace IOAPIC's, whose level interrupts exit on EOI.
	 */
	bool irqchip_split;
	u32 split_ioapic_pins;
	/* KVM_CAP_MAX_VCPU_ID (vm.c): ids below it; set by the first vCPU if not before. */
	u32 max_vcpu_ids;
	struct kvl_pic *pic;
	struct kvl_ioapic *ioapic;
	struct kvl_pit *pit;
	unsigned long nr_mmu_pages;	/* KVM_SET_NR_MMU_PAGES: kept, not enforced */
	struct kvl_irq_routing __rcu *routing;
	spinlock_t irqfd_lock;		/* irqfds; taken from eventfd wake-ups */
	struct list_head irqfds;
	struct list_head ioeventfds;	/* under io_lock */
	/* coalesced.c: KVM_REGISTER_COALESCED_MMIO's zones and their ring. */
	struct kvm_coalesced_mmio_ring *coalesced_ring;
	spinlock_t coalesced_lock;	/* ring appends, from vCPUs */
	struct mutex coalesced_mutex;	/* the zone list */
	struct list_head coalesced_zones;

	/* Dirty logging (vm.c, dirty_ring.c); changed under lock. */
	u64 manual_dirty_log_protect;	/* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 flags */
	u32 dirty_ring_size;		/* bytes of each vCPU's ring; 0: bitmaps */

	void *arch;			/* backend's per-VM data */
};

/*
 * An event for the guest, owned by the core: queued by exit handlers and
 * ioctls, delivered by the backend at entry, and put back by the backend
 * when the exit interrupted its delivery (exit_int_info / IDT-vectoring).
 */
enum kvl_event_type {
	KVL_EVENT_NONE,
	KVL_EVENT_EXCEPTION,
	KVL_EVENT_INTR,
	KVL_EVENT_SOFT_INTR,
	KVL_EVENT_NMI,
};

struct kvl_event {
	u8 type;			/* enum kvl_event_type */
	u8 vector;
	bool has_err;
	u32 err;
};

/* MSR state the core emulates for every backend. */
#define KVL_MTRR_VAR	8
#define KVL_MCE_BANKS	32	/* KVM_MAX_MCE_BANKS, KVM's default MCG_CAP */
struct kvl_msrs {
	u64 apic_base;
	u64 misc_enable;
	u64 mtrr_def_type;
	u64 mtrr_fixed[11];
	u64 mtrr_var[2 * KVL_MTRR_VAR];
	u64 kvmclock_system_time;	/* MSR_KVM_SYSTEM_TIME(_NEW) as written */
	u64 kvmclock_wall_clock;
	u64 tsc_adjust;
	u64 mcg_status;
	u64 mcg_cap;			/* KVL_MCE_BANKS banks, as KVM's default */
	u64 mcg_ctl;			/* with MCG_CAP.CTL_P: 0 or all ones */
	u64 mce_banks[KVL_MCE_BANKS * 4];	/* MCi_CTL/STATUS/ADDR/MISC */
	u64 mci_ctl2[KVL_MCE_BANKS];
	u64 hwcr;			/* only McStatusWrEn (bit 18) sticks */
	u64 ucode_rev;
	u64 arch_caps;
	u64 platform_info;
	u64 misc_features;		/* MISC_FEATURES_ENABLES: CPUID faulting */
	u64 smi_count;
	u64 smbase;
	u64 power_ctl;
	u64 spec_ctrl;			/* kept for the host only (msr.c) */
	u64 virt_spec_ctrl;
	u64 tsc_aux;
	u64 vm_cr;
	u64 hsave_pa;
};

/* What the last KVM_EXIT_IO asked for, completed on the next KVM_RUN. */
struct kvl_pio {
	u16 port;
	u8 size;
	bool in;
	bool string;
	bool rep;
	u32 count;			/* elements in this exit */
	u64 rip;			/* the IN/OUT's own RIP */
	u64 next_rip;
};

struct kvl_vcpu {
	struct kvl_vm *vm;
	u32 id;
	struct kvm_run *run;
	struct mutex lock;		/* serializes the vCPU's ioctls */

	unsigned long regs[KVL_NR_GPRS];
	unsigned long rip, rsp, rflags;	/* synced by the backend around entry */
	u64 fault_gpa;
	bool fault_write;
	bool fault_vectoring;		/* the fault hit delivering an event */
	struct kvl_pio pio;
	bool pio_pending;
	struct kvl_emu_io *eio;		/* mmio.c: emulated MMIO and string I/O */
	u8 emu_pending;			/* mmio.c: what eio's last exit waits on */

	int cpu;			/* last host CPU it ran on, or -1 */
	struct preempt_notifier pn;	/* in KVM_RUN, with a backend vcpu_put */
	int mode;			/* KVL_OUTSIDE_GUEST / KVL_IN_GUEST */
	unsigned long requests;
	u32 exit_count;

	struct kvm_cpuid_entry2 *cpuid;	/* KVM_SET_CPUID2's table */
	u32 cpuid_nent;
	bool ran;			/* has entered the guest: CPUID is fixed */

	struct kvl_event event;		/* being delivered (injected) */
	struct kvl_event pending_exc;	/* queued exception, not yet delivered */
	bool nmi_pending;
	bool nmi_masked;
	/* vcpu.c: KVM_NMI and LAPIC NMIs, folded into nmi_pending at entry. */
	atomic_t nmi_queued;
	/* vcpu.c: KVM_INTERRUPT's vector (no in-kernel LAPIC), or -1. */
	int user_irq;
	u32 mp_state;
	struct kvl_msrs msrs;

	/* Guest FPU: loaded for the whole of KVM_RUN (fpu_swap_kvm_fpstate). */
	struct fpu_guest gfpu;
	u64 xcr0;

	/* Guest DR0-3: switched only once the guest has touched them. */
	unsigned long db[4];
	bool db_guest_owned;

	sigset_t sigmask;
	bool sigmask_set;

	/* KVM_SET_GUEST_DEBUG (vcpu.c): userspace's debugger. */
	u32 guest_debug;		/* KVM_GUESTDBG_*, 0 when not enabled */
	unsigned long guest_debug_db[4];	/* USE_HW_BP: effective DR0-3 */
	unsigned long guest_debug_dr7;		/* USE_HW_BP: effective DR7 */
	unsigned long singlestep_rip;	/* TF was set for the debugger at this RIP */
	bool singlestep_trap;		/* the kernel completed an instruction under TF */

	/* In-kernel irqchip: the vCPU's LAPIC, and where it sleeps in HLT. */
	struct kvl_lapic *lapic;
	wait_queue_head_t wq;
	u8 sipi_vector;

	struct kvl_dirty_ring *dirty_ring;	/* KVM_CAP_DIRTY_LOG_RING, or NULL */

	/*
	 * lapic.c: QEMU's kvmvapic option ROM.  KVM_SET_VAPIC_ADDR's guest
	 * address (0: off), where TPR and the highest ISR/IRR are mirrored
	 * around each entry; KVM_TPR_ACCESS_REPORTING's switch.
	 */
	u64 vapic_addr;
	bool tpr_access_reporting;
	u8 pending_ioapic_eoi;		/* split irqchip: KVM_EXIT_IOAPIC_EOI's vector */

	void *arch;			/* backend's per-vCPU data */
};

/*
 * The vCPU created @i-th (0 <= @i < an acquire-load of vm->nr_vcpus, which
 * pairs with the release in kvl_create_vcpu()): a lock-free xarray walk.
 */
static inline struct kvl_vcpu *kvl_get_vcpu(struct kvl_vm *vm, int i)
{
	return xa_load(&vm->vcpu_array, i);
}

#define KVL_OUTSIDE_GUEST	0
#define KVL_IN_GUEST		1
#define KVL_REQ_TLB_FLUSH	0
#define KVL_REQ_CLOCK_UPDATE	1
#define KVL_REQ_INIT		2
#define KVL_REQ_SIPI		3
#define KVL_REQ_TRIPLE_FAULT	4	/* KVM_EXIT_SHUTDOWN at the next KVM_RUN */
#define KVL_REQ_REPORT_TPR	5	/* KVM_EXIT_TPR_ACCESS, run->tpr_access filled */
#define KVL_REQ_IOAPIC_EOI	6	/* KVM_EXIT_IOAPIC_EOI (split irqchip) */

/* main.c */
int kvl_hw_get(void);
void kvl_hw_put(void);

/* vm.c */
int kvl_create_vm(unsigned long type);
struct kvl_memslot *kvl_gfn_to_slot(struct kvl_vm *vm, u64 gfn);
int kvl_handle_gpa_fault(struct kvl_vcpu *vcpu, u64 gpa, bool write);
void kvl_mark_dirty_locked(struct kvl_vm *vm, struct kvl_vcpu *vcpu, u64 gfn);
void kvl_vcpu_mark_dirty(struct kvl_vcpu *vcpu, u64 gfn);
void kvl_dirty_protect_locked(struct kvl_vm *vm, struct kvl_memslot *s, u64 offset,
			      unsigned long mask);
int kvl_read_guest(struct kvl_vm *vm, u64 gpa, void *data, unsigned long len);
int kvl_write_guest(struct kvl_vm *vm, u64 gpa, const void *data, unsigned long len);
int kvl_vcpu_write_guest(struct kvl_vcpu *vcpu, u64 gpa, const void *data, unsigned long len);
void kvl_vm_put(struct kvl_vm *vm);
long kvl_check_extension(struct kvl_vm *vm, long cap);

/* dirty_ring.c */
#define KVL_DIRTY_RING_MAX_BYTES	(65536 * sizeof(struct kvm_dirty_gfn))	/* as KVM */
#define KVL_DIRTY_RING_RSVD_ENTRIES	64
struct kvl_dirty_ring;
int kvl_dirty_ring_enable(struct kvl_vm *vm, u32 size);
int kvl_dirty_ring_alloc(struct kvl_vcpu *vcpu);
void kvl_dirty_ring_free(struct kvl_vcpu *vcpu);
bool kvl_dirty_ring_soft_full(struct kvl_vcpu *vcpu);
void kvl_dirty_ring_push(struct kvl_vcpu *vcpu, u32 slot, u64 offset);
int kvl_dirty_ring_reset_all(struct kvl_vm *vm);
struct page *kvl_dirty_ring_page(struct kvl_vcpu *vcpu, unsigned long pgoff);
int kvl_dirty_ring_mmap_check(struct kvl_vcpu *vcpu, struct vm_area_struct *vma);

/* cpuid.c */
int kvl_get_supported_cpuid(struct kvm_cpuid2 __user *argp);
int kvl_set_cpuid2(struct kvl_vcpu *vcpu, struct kvm_cpuid2 __user *argp);
int kvl_get_cpuid2(struct kvl_vcpu *vcpu, struct kvm_cpuid2 __user *argp);
void kvl_emulate_cpuid(struct kvl_vcpu *vcpu);
int kvl_guest_maxphyaddr(struct kvl_vcpu *vcpu);
bool kvl_guest_has_x2apic(struct kvl_vcpu *vcpu);
bool kvl_guest_cpuid_has(struct kvl_vcpu *vcpu, u32 fn, u32 idx, int reg, int bit);
bool kvl_guest_is_amd(struct kvl_vcpu *vcpu);
bool kvl_cr4_valid(struct kvl_vcpu *vcpu, u64 cr4);
void kvl_cpuid_update_runtime(struct kvl_vcpu *vcpu);

/* kvmclock.c */
int kvl_kvmclock_set_system_time(struct kvl_vcpu *vcpu, u64 data, bool host);
int kvl_kvmclock_set_wall_clock(struct kvl_vcpu *vcpu, u64 data, bool host);
void kvl_kvmclock_update(struct kvl_vcpu *vcpu);
int kvl_vm_get_clock(struct kvl_vm *vm, struct kvm_clock_data __user *argp);
int kvl_vm_set_clock(struct kvl_vm *vm, struct kvm_clock_data __user *argp);
u64 kvl_vm_clock_ns(struct kvl_vm *vm);

/* msr.c */
int kvl_get_msr(struct kvl_vcpu *vcpu, u32 index, u64 *data, bool host);
bool kvl_apic_base_ok(struct kvl_vcpu *vcpu, u64 val);
int kvl_set_msr(struct kvl_vcpu *vcpu, u32 index, u64 data, bool host);
void kvl_emulate_rdmsr(struct kvl_vcpu *vcpu);
void kvl_emulate_wrmsr(struct kvl_vcpu *vcpu);
int kvl_msrs_ioctl(struct kvl_vcpu *vcpu, struct kvm_msrs __user *argp, bool set);
int kvl_get_msr_index_list(struct kvm_msr_list __user *argp);
void kvl_msrs_reset(struct kvl_vcpu *vcpu);
/* The MCG_CAP bits KVM_X86_SETUP_MCE takes (KVM's supported_mce_cap on AMD). */
#define KVL_MCE_CAP_SUPPORTED	(MCG_CTL_P | MCG_SER_P)
int kvl_mce_setup(struct kvl_vcpu *vcpu, u64 mcg_cap);
int kvl_mce_inject(struct kvl_vcpu *vcpu, struct kvm_x86_mce *mce);
void kvl_tsc_vcpu_init(struct kvl_vcpu *vcpu);

/* fpu.c */
int kvl_fpu_init(void);
u64 kvl_supported_xcr0(void);
int kvl_vcpu_fpu_create(struct kvl_vcpu *vcpu);
void kvl_vcpu_fpu_destroy(struct kvl_vcpu *vcpu);
void kvl_emulate_xsetbv(struct kvl_vcpu *vcpu);
long kvl_fpu_ioctl(struct kvl_vcpu *vcpu, unsigned int ioctl, void __user *argp);

/* lapic.c */
struct kvl_lapic;
int kvl_apic_create(struct kvl_vcpu *vcpu);
void kvl_apic_destroy(struct kvl_vcpu *vcpu);
void kvl_apic_reset(struct kvl_vcpu *vcpu);
bool kvl_apic_mmio_hit(struct kvl_vcpu *vcpu, u64 gpa);
int kvl_apic_mmio_access(struct kvl_vcpu *vcpu, u64 gpa, unsigned int len, void *val, bool write);
bool kvl_apic_has_interrupt(struct kvl_vcpu *vcpu);
int kvl_apic_ack(struct kvl_vcpu *vcpu);
bool kvl_apic_accepts_extint(struct kvl_vcpu *vcpu);
bool kvl_apic_msr(u32 msr);
int kvl_apic_get_msr(struct kvl_vcpu *vcpu, u32 msr, u64 *data);
int kvl_apic_set_msr(struct kvl_vcpu *vcpu, u32 msr, u64 data);
int kvl_apic_set_base(struct kvl_vcpu *vcpu, u64 val, bool host);
u8 kvl_apic_get_tpr(struct kvl_vcpu *vcpu);
void kvl_apic_set_tpr(struct kvl_vcpu *vcpu, u8 cr8);
int kvl_apic_set_vapic_addr(struct kvl_vcpu *vcpu, u64 gpa);
void kvl_apic_sync_to_vapic(struct kvl_vcpu *vcpu);
void kvl_apic_sync_from_vapic(struct kvl_vcpu *vcpu);
int kvl_apic_get_state(struct kvl_vcpu *vcpu, struct kvm_lapic_state __user *argp);
int kvl_apic_set_state(struct kvl_vcpu *vcpu, struct kvm_lapic_state __user *argp);
void kvl_vcpu_kick(struct kvl_vcpu *vcpu);

/* irq.c */
int kvl_signal_msi(struct kvl_vm *vm, struct kvm_msi __user *argp);
long kvl_irq_vm_ioctl(struct kvl_vm *vm, unsigned int ioctl, void __user *argp);

/* coalesced.c */
long kvl_coalesced_ioctl(struct kvl_vm *vm, unsigned int ioctl, void __user *argp);
int kvl_coalesced_vm_init(struct kvl_vm *vm);
void kvl_coalesced_vm_destroy(struct kvl_vm *vm);
int kvl_split_irqchip(struct kvl_vm *vm, u64 ioapic_pins);
void kvl_irq_vm_destroy(struct kvl_vm *vm);

/* mmio.c: each returns 0 to re-enter the guest, 1 when vcpu->run holds an exit */
int kvl_emu_vcpu_init(struct kvl_vcpu *vcpu);
void kvl_emu_vcpu_free(struct kvl_vcpu *vcpu);
int kvl_emulate(struct kvl_vcpu *vcpu, u64 gpa);
int kvl_emu_complete(struct kvl_vcpu *vcpu);
bool kvl_emu_known_mmio(struct kvl_vcpu *vcpu, u64 gpa, bool write);
void kvl_emu_translate(struct kvl_vcpu *vcpu, struct kvm_translation *tr);

/* vcpu.c */
void kvl_queue_exception(struct kvl_vcpu *vcpu, u8 vector, bool has_err, u32 err);

/*
 * The kernel completed an instruction for the guest: under EFLAGS.TF the
 * CPU would now take a single-step trap (KVM's kvm_vcpu_do_singlestep()).
 */
static inline void kvl_singlestep_check(struct kvl_vcpu *vcpu)
{
	if (vcpu->rflags & X86_EFLAGS_TF)
		vcpu->singlestep_trap = true;
}

/*
 * Step over an instruction the kernel carried out for the guest.  Its
 * STI/MOV SS interrupt shadow ends with it, as it would on the CPU.
 */
static inline void kvl_skip_instruction(struct kvl_vcpu *vcpu, unsigned int len)
{
	vcpu->rip += len;
	kvl_call(set_interrupt_shadow)(vcpu, 0);
	kvl_singlestep_check(vcpu);
}

void kvl_internal_error(struct kvl_vcpu *vcpu, u32 suberror, u64 d0, u64 d1);
void kvl_vcpu_queue_nmi(struct kvl_vcpu *vcpu);
void kvl_debug_exit(struct kvl_vcpu *vcpu, u8 vector, u64 dr6, u64 dr7, u64 pc);
int kvl_mov_dr_gpr(struct kvl_vcpu *vcpu, unsigned long **reg);
u64 kvl_linear_rip(struct kvl_vcpu *vcpu);
int kvl_emulate_mov_dr(struct kvl_vcpu *vcpu, int dr, bool write, unsigned long *reg,
		       bool lm, unsigned int len);

int kvl_create_vcpu(struct kvl_vm *vm, unsigned long id);
void kvl_vcpu_free(struct kvl_vcpu *vcpu);
void kvl_kick_all(struct kvl_vm *vm, int req);

/*
 * iobus.c: a port or MMIO access that an in-kernel device (or the LAPIC)
 * serves returns 0; -ENODEV sends it to userspace.  Inline: a VM with no
 * device on the bus costs its exits one test.
 */
int kvl_io_bus_access(struct kvl_vcpu *vcpu, bool mmio, u64 addr, unsigned int len,
		      void *val, bool write);

static inline int kvl_io_access(struct kvl_vcpu *vcpu, bool mmio, u64 addr,
				unsigned int len, void *val, bool write)
{
	if (mmio && vcpu->lapic && kvl_apic_mmio_hit(vcpu, addr))
		return kvl_apic_mmio_access(vcpu, addr, len, val, write);
	if (!rcu_access_pointer(vcpu->vm->io_bus))
		return -ENODEV;
	return kvl_io_bus_access(vcpu, mmio, addr, len, val, write);
}

static inline int kvl_io_read(struct kvl_vcpu *vcpu, bool mmio, u64 addr, unsigned int len,
			      void *val)
{
	return kvl_io_access(vcpu, mmio, addr, len, val, false);
}

static inline int kvl_io_write(struct kvl_vcpu *vcpu, bool mmio, u64 addr, unsigned int len,
			       const void *val)
{
	return kvl_io_access(vcpu, mmio, addr, len, (void *)val, true);
}

/* fpu.c: XCR0 around the guest, inline on every entry and exit. */
extern u64 kvl_host_xcr0;

/*
 * IRQs off, right before entry: the guest's XCR0 if its CR4 (@cr4, from
 * the backend, which has it at hand) says OSXSAVE.
 */
static inline void kvl_fpu_load_guest_xcr0(struct kvl_vcpu *vcpu, unsigned long cr4)
{
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
	if (kvl_host_xcr0 && vcpu->xcr0 != kvl_host_xcr0 && (cr4 & X86_CR4_OSXSAVE))
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vcpu->xcr0);
}

/*
 * IRQs off, right after the exit: before anything can XSAVE with the
 * host's mask.  XCR0 is read back rather than assumed: an emulated host
 * (QEMU TCG) lets a guest XSETBV through without the intercept, and the
 * host must not keep the guest's value.
 */
static inline void kvl_fpu_put_guest_xcr0(struct kvl_vcpu *vcpu, unsigned long cr4)
{
	u64 xcr0;

	if (!kvl_host_xcr0 || !(cr4 & X86_CR4_OSXSAVE))
		return;
	xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	/* What the CPU holds is the guest's, even if its XSETBV never exited. */
	if (xcr0 & XFEATURE_MASK_FP)
		vcpu->xcr0 = xcr0;
	if (xcr0 != kvl_host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, kvl_host_xcr0);
}

#endif /* KVMLITE_H */
