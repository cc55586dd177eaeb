// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: vCPU file descriptors, the shared kvm_run page and the run loop.
 *
 * The loop stays in the kernel until userspace must act: nested page faults
 * on memslot memory, CPUID and the like are handled here or in the backend;
 * port I/O, HLT (no in-kernel irqchip yet), shutdown and failures return.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include "kvmlite.h"

/* Since 6.9 the kernel's view of kvm_run renames the field (to audit its readers). */
#if KERNEL_VERSION(6, 9, 0) <= LINUX_VERSION_CODE
#define kvl_immediate_exit(run)	READ_ONCE((run)->immediate_exit__unsafe)
#else
#define kvl_immediate_exit(run)	READ_ONCE((run)->immediate_exit)
#endif

static void kvl_ack_kick(void *unused)
{
}

/* Make every vCPU of @vm see @req before its next guest instruction. Under mmu_lock. */
void kvl_kick_all(struct kvl_vm *vm, int req)
{
	/* Pairs with the release in kvl_create_vcpu(): vCPUs [0, n) are set up. */
	int i, n = smp_load_acquire(&vm->nr_vcpus);
	int me;

	lockdep_assert_held(&vm->mmu_lock);
	cpumask_clear(vm->kick_mask);
	for (i = 0; i < n; i++) {
		struct kvl_vcpu *v = kvl_get_vcpu(vm, i);

		set_bit(req, &v->requests);
		/* Pairs with smp_store_mb(mode) in kvl_vcpu_run(): see it or IPI it. */
		smp_mb__after_atomic();
		if (READ_ONCE(v->mode) == KVL_IN_GUEST)
			cpumask_set_cpu(READ_ONCE(v->cpu), vm->kick_mask);
	}
	me = get_cpu();
	cpumask_clear_cpu(me, vm->kick_mask);
	if (!cpumask_empty(vm->kick_mask))
		smp_call_function_many(vm->kick_mask, kvl_ack_kick, NULL, 1);
	put_cpu();
}

static vm_fault_t kvl_run_fault(struct vm_fault *vmf)
{
	struct kvl_vcpu *vcpu = vmf->vma->vm_file->private_data;
	struct page *page;

	if (vmf->pgoff < KVL_RUN_PAGES)
		page = virt_to_page((char *)vcpu->run + vmf->pgoff * PAGE_SIZE);
	else if (vmf->pgoff == KVM_COALESCED_MMIO_PAGE_OFFSET)
		page = virt_to_page(vcpu->vm->coalesced_ring);
	else
		page = kvl_dirty_ring_page(vcpu, vmf->pgoff);
	if (!page)
		return VM_FAULT_SIGBUS;
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct kvl_run_vm_ops = {
	.fault = kvl_run_fault,
};

static int kvl_vcpu_mmap(struct file *filp, struct vm_area_struct *vma)
{
	if (kvl_dirty_ring_mmap_check(filp->private_data, vma))
		return -EINVAL;
	vma->vm_ops = &kvl_run_vm_ops;
	return 0;
}

/*
 * On the KVM_RUN after a port I/O exit: IN's data into RAX (merged below 4
 * bytes, into RAX as userspace may have set it) and RIP past the
 * instruction.  As in KVM, not if userspace moved RIP meanwhile: the
 * instruction is then abandoned.  Other registers it set stand either way.
 */
static void kvl_complete_pio(struct kvl_vcpu *vcpu)
{
	struct kvl_pio *pio = &vcpu->pio;

	vcpu->pio_pending = false;
	if (vcpu->rip != pio->rip)
		return;
	if (pio->in) {
		const void *data = (char *)vcpu->run + KVL_PIO_PAGE * PAGE_SIZE;
		unsigned long *rax = &vcpu->regs[KVL_RAX];

		switch (pio->size) {
		case 1:
			*rax = (*rax & ~0xffUL) | *(const u8 *)data;
			break;
		case 2:
			*rax = (*rax & ~0xffffUL) | *(const u16 *)data;
			break;
		default:
			*rax = *(const u32 *)data;
			break;
		}
	}
	vcpu->rip = pio->next_rip;
	kvl_call(set_interrupt_shadow)(vcpu, 0);
	kvl_singlestep_check(vcpu);
}

static void kvl_exit_io(struct kvl_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct kvl_pio *pio = &vcpu->pio;

	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = pio->in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = pio->size;
	run->io.port = pio->port;
	run->io.count = 1;
	run->io.data_offset = KVL_PIO_PAGE * PAGE_SIZE;
	if (!pio->in) {
		void *data = (char *)run + KVL_PIO_PAGE * PAGE_SIZE;
		unsigned long rax = vcpu->regs[KVL_RAX];

		if (pio->size == 1)
			*(u8 *)data = rax;
		else if (pio->size == 2)
			*(u16 *)data = rax;
		else
			*(u32 *)data = rax;
	}
	vcpu->pio.rip = vcpu->rip;
	vcpu->pio_pending = true;
}

/* A single, non-string IN/OUT that an in-kernel device (iobus.c) claims completes here. */
static bool kvl_pio_in_kernel(struct kvl_vcpu *vcpu)
{
	struct kvl_pio *pio = &vcpu->pio;
	unsigned long *rax = &vcpu->regs[KVL_RAX];
	u32 val = 0;

	if (pio->string || pio->rep || pio->count != 1)
		return false;
	if (!pio->in) {
		if (kvl_io_write(vcpu, false, pio->port, pio->size, rax))
			return false;
	} else {
		if (kvl_io_read(vcpu, false, pio->port, pio->size, &val))
			return false;
		if (pio->size == 1)
			*rax = (*rax & ~0xffUL) | (u8)val;
		else if (pio->size == 2)
			*rax = (*rax & ~0xffffUL) | (u16)val;
		else
			*rax = val;
	}
	vcpu->rip = pio->next_rip;
	kvl_call(set_interrupt_shadow)(vcpu, 0);
	kvl_singlestep_check(vcpu);
	return true;
}

/* KVM_EXIT_INTERNAL_ERROR with two words of detail. */
void kvl_internal_error(struct kvl_vcpu *vcpu, u32 suberror, u64 d0, u64 d1)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = suberror;
	run->internal.ndata = 2;
	run->internal.data[0] = d0;
	run->internal.data[1] = d1;
}

/* ---- KVM_SET_GUEST_DEBUG ---- */

#define KVL_DR6_ACTIVE_LOW	0xffff0ff0UL
#define KVL_DR6_BS		BIT(14)

/* CS.base + RIP: where a debug exit reports the guest stopped. */
u64 kvl_linear_rip(struct kvl_vcpu *vcpu)
{
	struct kvl_emu_regs r;

	kvl_call(get_emu_regs)(vcpu, &r);
	return r.seg_base[1] + vcpu->rip;
}

/* KVM_EXIT_DEBUG: what the debugger caught, at linear address @pc. */
void kvl_debug_exit(struct kvl_vcpu *vcpu, u8 vector, u64 dr6, u64 dr7, u64 pc)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_DEBUG;
	run->debug.arch.exception = vector;
	run->debug.arch.pad = 0;
	run->debug.arch.pc = pc;
	run->debug.arch.dr6 = dr6;
	run->debug.arch.dr7 = dr7;
}

/*
 * The single-step trap of an instruction the kernel completed: to the
 * debugger with KVM_GUESTDBG_SINGLESTEP, else a #DB (DR6.BS) for the guest.
 * Returns true when kvm_run holds an exit.
 */
static bool kvl_singlestep_deliver(struct kvl_vcpu *vcpu)
{
	u64 dr6, dr7;

	vcpu->singlestep_trap = false;
	if (!(vcpu->guest_debug & KVM_GUESTDBG_SINGLESTEP)) {
		kvl_ops->get_dr67(vcpu, &dr6, &dr7);
		kvl_ops->set_dr67(vcpu, (dr6 & ~0xfULL) | KVL_DR6_BS, dr7);
		kvl_queue_exception(vcpu, DB_VECTOR, false, 0);
		return false;
	}
	kvl_debug_exit(vcpu, DB_VECTOR, KVL_DR6_BS | KVL_DR6_ACTIVE_LOW,
		       vcpu->guest_debug & KVM_GUESTDBG_USE_HW_BP ? vcpu->guest_debug_dr7 : 0,
		       kvl_linear_rip(vcpu));
	return true;
}

/*
 * MOV to or from a debug register (0F 21 /r, 0F 23 /r) at RIP, for a
 * backend without decode assists: point *@reg at the general-purpose
 * register it names.  Returns the instruction's length, or -EFAULT if
 * its bytes cannot be read or are not that instruction.
 */
/* Up to @len (<= 16) bytes at CS:RIP, as far as the page goes; how many, or -EFAULT. */
static int kvl_fetch_at_rip(struct kvl_vcpu *vcpu, u8 *buf, unsigned int len)
{
	struct kvm_translation tr = { .linear_address = kvl_linear_rip(vcpu) };
	unsigned int n;

	kvl_emu_translate(vcpu, &tr);
	n = min_t(u64, len, PAGE_SIZE - offset_in_page(tr.physical_address));
	if (!tr.valid || kvl_read_guest(vcpu->vm, tr.physical_address, buf, n))
		return -EFAULT;
	return n;
}

int kvl_mov_dr_gpr(struct kvl_vcpu *vcpu, unsigned long **reg)
{
	static const s8 gpr[16] = {
		KVL_RAX, KVL_RCX, KVL_RDX, KVL_RBX, -1, KVL_RBP, KVL_RSI, KVL_RDI,
		KVL_R8, KVL_R9, KVL_R10, KVL_R11, KVL_R12, KVL_R13, KVL_R14, KVL_R15,
	};
	u8 b[8];
	unsigned int i, rex = 0;
	int n;

	n = kvl_fetch_at_rip(vcpu, b, sizeof(b));
	if (n < 0)
		return n;
	/* Legacy prefixes, then at most one REX, then 0F 21/23 and ModRM. */
	for (i = 0; i < n && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf2 ||
			      b[i] == 0xf3 || b[i] == 0x2e || b[i] == 0x3e ||
			      b[i] == 0x26 || b[i] == 0x36 || b[i] == 0x64 || b[i] == 0x65); i++)
		;
	if (i < n && (b[i] & 0xf0) == 0x40)
		rex = b[i++];
	if (i + 2 >= n || b[i] != 0x0f || (b[i + 1] != 0x21 && b[i + 1] != 0x23))
		return -EFAULT;	/* not MOV DR after all: the guest changed it */
	n = (b[i + 2] & 7) | ((rex & 1) << 3);	/* ModRM.rm: mod is 11 for MOV DR */
	*reg = gpr[n] < 0 ? &vcpu->rsp : &vcpu->regs[gpr[n]];
	return i + 3;
}

#define KVL_DR6_BD		BIT(13)
#define KVL_DR7_GD		BIT(13)
#define KVL_DR7_FIXED_1		0x400UL

/*
 * MOV to or from DR@dr while the debugger holds the debug registers
 * (every MOV DR exits): the guest's own DR0-3/DR6/DR7 are read and
 * written, not the debugger's.  @reg is the general-purpose register
 * the instruction names, @lm whether it runs in 64-bit mode, @len its
 * length.  The checks the CPU makes before the access come first.
 */
int kvl_emulate_mov_dr(struct kvl_vcpu *vcpu, int dr, bool write, unsigned long *reg,
		       bool lm, unsigned int len)
{
	bool hw_bp = vcpu->guest_debug & KVM_GUESTDBG_USE_HW_BP;
	u64 dr6, dr7, val;

	if (kvl_ops->get_cpl(vcpu)) {
		kvl_queue_exception(vcpu, GP_VECTOR, true, 0);
		return KVL_EXIT_CONTINUE;
	}
	kvl_ops->get_dr67(vcpu, &dr6, &dr7);
	/* General detect: the access faults first (and clears GD), as the CPU's #DB would. */
	if ((hw_bp ? vcpu->guest_debug_dr7 : dr7) & KVL_DR7_GD) {
		if (hw_bp) {
			kvl_debug_exit(vcpu, DB_VECTOR, KVL_DR6_BD | KVL_DR6_ACTIVE_LOW,
				       vcpu->guest_debug_dr7, kvl_linear_rip(vcpu));
			return KVL_EXIT_USER;
		}
		kvl_ops->set_dr67(vcpu, (dr6 & ~0xfULL) | KVL_DR6_BD, dr7 & ~KVL_DR7_GD);
		kvl_queue_exception(vcpu, DB_VECTOR, false, 0);
		return KVL_EXIT_CONTINUE;
	}
	if (dr == 4 || dr == 5) {
		if (kvl_ops->get_cr4(vcpu) & X86_CR4_DE) {
			kvl_queue_exception(vcpu, UD_VECTOR, false, 0);
			return KVL_EXIT_CONTINUE;
		}
		dr += 2;
	}
	if (write) {
		val = lm ? *reg : (u32)*reg;
		if (dr >= 6 && (val >> 32)) {
			kvl_queue_exception(vcpu, GP_VECTOR, true, 0);
			return KVL_EXIT_CONTINUE;
		}
		if (dr < 4)
			vcpu->db[dr] = val;
		else if (dr == 6)
			kvl_ops->set_dr67(vcpu, (val & 0xe00f) | KVL_DR6_ACTIVE_LOW, dr7);
		else
			kvl_ops->set_dr67(vcpu, dr6, val | KVL_DR7_FIXED_1);
	} else {
		val = dr < 4 ? vcpu->db[dr] : dr == 6 ? dr6 : dr7;
		*reg = lm ? val : (u32)val;
	}
	kvl_skip_instruction(vcpu, len);
	return KVL_EXIT_CONTINUE;
}

/*
 * KVM_GUESTDBG_INJECT_BP re-injects the INT3 (or INT 3) the debugger
 * caught, RIP still on it: as KVM, the guest's #BP handler gets the
 * address after it, as if the CPU had raised it.
 */
static void kvl_inject_bp(struct kvl_vcpu *vcpu)
{
	u8 b[2];
	int n = kvl_fetch_at_rip(vcpu, b, sizeof(b));

	if (n >= 1 && b[0] == 0xcc)
		vcpu->rip += 1;
	else if (n == 2 && b[0] == 0xcd && b[1] == 3)
		vcpu->rip += 2;
	kvl_queue_exception(vcpu, BP_VECTOR, false, 0);
}

/* KVM's kvm_get_rflags(): TF set for the debugger's single-step is not the guest's. */
static unsigned long kvl_get_rflags(struct kvl_vcpu *vcpu)
{
	unsigned long rflags = vcpu->rflags;

	if (vcpu->guest_debug & KVM_GUESTDBG_SINGLESTEP)
		rflags &= ~X86_EFLAGS_TF;
	return rflags;
}

/* ... and kvm_set_rflags(): still at the step's RIP, the step's TF stays. */
static void kvl_set_rflags(struct kvl_vcpu *vcpu, unsigned long rflags)
{
	if ((vcpu->guest_debug & KVM_GUESTDBG_SINGLESTEP) && vcpu->rip == vcpu->singlestep_rip)
		rflags |= X86_EFLAGS_TF;
	vcpu->rflags = rflags | X86_EFLAGS_FIXED;
}

static int kvl_vcpu_set_guest_debug(struct kvl_vcpu *vcpu, struct kvm_guest_debug __user *argp)
{
	struct kvm_guest_debug dbg;
	unsigned long rflags;
	int i;

	if (!kvl_ops->update_guest_debug)
		return -EINVAL;	/* a backend without it: as an unknown ioctl */
	/* Unknown control bits are kept and mean nothing, as in KVM. */
	if (copy_from_user(&dbg, argp, sizeof(dbg)))
		return -EFAULT;
	if (dbg.control & (KVM_GUESTDBG_INJECT_DB | KVM_GUESTDBG_INJECT_BP)) {
		if (vcpu->pending_exc.type != KVL_EVENT_NONE ||
		    vcpu->event.type == KVL_EVENT_EXCEPTION)
			return -EBUSY;
		if (dbg.control & KVM_GUESTDBG_INJECT_DB)
			kvl_queue_exception(vcpu, DB_VECTOR, false, 0);
		else
			kvl_inject_bp(vcpu);
	}
	rflags = kvl_get_rflags(vcpu);
	vcpu->guest_debug = dbg.control & KVM_GUESTDBG_ENABLE ? dbg.control : 0;
	for (i = 0; i < 4; i++)
		vcpu->guest_debug_db[i] = dbg.arch.debugreg[i];
	vcpu->guest_debug_dr7 = dbg.arch.debugreg[7];
	/* KVM keeps the linear RIP; CS does not move under a debugger's feet. */
	if (vcpu->guest_debug & KVM_GUESTDBG_SINGLESTEP)
		vcpu->singlestep_rip = vcpu->rip;
	kvl_set_rflags(vcpu, rflags);
	kvl_ops->update_guest_debug(vcpu);
	return 0;
}

/*
 * Queue an exception for delivery at the next entry.  A second one while
 * the first is still queued makes a double fault; a third, shutdown (which
 * the hardware then produces itself when the #DF cannot be delivered).
 */
void kvl_queue_exception(struct kvl_vcpu *vcpu, u8 vector, bool has_err, u32 err)
{
	struct kvl_event *e = &vcpu->pending_exc;

	if (e->type == KVL_EVENT_EXCEPTION && e->vector != DF_VECTOR) {
		vector = DF_VECTOR;
		has_err = true;
		err = 0;
	}
	e->type = KVL_EVENT_EXCEPTION;
	e->vector = vector;
	e->has_err = has_err;
	e->err = err;
}

/* KVM_NMI, or an NMI message to the LAPIC: any context. */
void kvl_vcpu_queue_nmi(struct kvl_vcpu *vcpu)
{
	atomic_inc(&vcpu->nmi_queued);
	kvl_vcpu_kick(vcpu);
}

/*
 * Fold the queued NMIs into nmi_pending, as KVM's process_nmi(): while
 * none is being delivered or in service, two can be outstanding (one
 * delivered now, one latched behind it); otherwise the extras collapse
 * into one.  The second stays queued until the backend has taken the first.
 */
static void kvl_process_nmi(struct kvl_vcpu *vcpu)
{
	unsigned int n, limit = 2;

	if (!atomic_read(&vcpu->nmi_queued))
		return;
	if (vcpu->nmi_masked || vcpu->event.type == KVL_EVENT_NMI)
		limit = 1;
	n = vcpu->nmi_pending + atomic_xchg(&vcpu->nmi_queued, 0);
	n = min(n, limit);
	vcpu->nmi_pending = n > 0;
	if (n > 1)
		atomic_inc(&vcpu->nmi_queued);
}

/* Would an interrupt be taken now (EFLAGS.IF, no STI/MOV SS shadow)? */
static bool kvl_interrupt_allowed(struct kvl_vcpu *vcpu)
{
	return (vcpu->rflags & X86_EFLAGS_IF) && !kvl_ops->get_interrupt_shadow(vcpu);
}

/* What wakes a halted vCPU (SDM: an enabled interrupt, NMI, INIT, SIPI). */
static bool kvl_vcpu_has_events(struct kvl_vcpu *vcpu)
{
	if (test_bit(KVL_REQ_INIT, &vcpu->requests) || test_bit(KVL_REQ_SIPI, &vcpu->requests))
		return true;
	if (vcpu->mp_state != KVM_MP_STATE_HALTED)
		return false;
	/* An event on its way in (one the guest has not taken yet) is delivered first. */
	return vcpu->event.type != KVL_EVENT_NONE || vcpu->pending_exc.type != KVL_EVENT_NONE ||
	       READ_ONCE(vcpu->nmi_pending) ||
	       atomic_read(&vcpu->nmi_queued) ||
	       (kvl_apic_has_interrupt(vcpu) && kvl_interrupt_allowed(vcpu));
}

/* INIT and SIPI, as the LAPIC posted them (SDM 8.4: the MP start-up). */
static void kvl_vcpu_accept_events(struct kvl_vcpu *vcpu)
{
	struct kvm_sregs *sregs;

	if (test_and_clear_bit(KVL_REQ_INIT, &vcpu->requests)) {
		kvl_ops->vcpu_reset(vcpu);
		memset(vcpu->regs, 0, sizeof(vcpu->regs));
		vcpu->regs[KVL_RDX] = 0x600;
		vcpu->rip = 0xfff0;
		vcpu->rsp = 0;
		vcpu->rflags = X86_EFLAGS_FIXED;
		atomic_set(&vcpu->nmi_queued, 0);
		vcpu->user_irq = -1;
		vcpu->singlestep_trap = false;
		vcpu->mp_state = vcpu->id ? KVM_MP_STATE_INIT_RECEIVED : KVM_MP_STATE_RUNNABLE;
	}
	if (test_and_clear_bit(KVL_REQ_SIPI, &vcpu->requests) &&
	    vcpu->mp_state == KVM_MP_STATE_INIT_RECEIVED) {
		/* Pairs with the smp_wmb() before the request was posted. */
		smp_rmb();
		sregs = kzalloc(sizeof(*sregs), GFP_KERNEL);
		if (!sregs)
			return;
		kvl_ops->get_sregs(vcpu, sregs);
		sregs->cs.selector = vcpu->sipi_vector << 8;
		sregs->cs.base = (u64)vcpu->sipi_vector << 12;
		kvl_ops->set_sregs(vcpu, sregs);
		kfree(sregs);
		vcpu->rip = 0;
		vcpu->mp_state = KVM_MP_STATE_RUNNABLE;
	}
}

/* Sleep until the vCPU may run: HLT, or an AP waiting for INIT/SIPI. */
static int kvl_vcpu_block(struct kvl_vcpu *vcpu)
{
	for (;;) {
		kvl_vcpu_accept_events(vcpu);
		if (vcpu->mp_state == KVM_MP_STATE_RUNNABLE)
			return 0;
		if (vcpu->mp_state == KVM_MP_STATE_HALTED && kvl_vcpu_has_events(vcpu)) {
			vcpu->mp_state = KVM_MP_STATE_RUNNABLE;
			return 0;
		}
		if (wait_event_interruptible(vcpu->wq, kvl_vcpu_has_events(vcpu) ||
					     signal_pending(current)) || signal_pending(current))
			return -EINTR;
	}
}

/*
 * Without an in-kernel irqchip, userspace is the interrupt controller
 * (KVM_INTERRUPT, request_interrupt_window): as KVM's
 * kvm_cpu_accept_dm_intr() (no interrupt already on its way in) and
 * kvm_vcpu_ready_for_interrupt_injection().
 */
static bool kvl_user_irq_ready(struct kvl_vcpu *vcpu)
{
	if (!kvl_interrupt_allowed(vcpu) || vcpu->user_irq >= 0)
		return false;
	/* Split irqchip: ExtINT, through LINT0 as the LAPIC has it set. */
	if (vcpu->lapic)
		return kvl_apic_accepts_extint(vcpu);
	return vcpu->event.type != KVL_EVENT_INTR;
}

/* KVM_RUN with request_interrupt_window (no in-kernel PIC) wants an exit now? */
static bool kvl_irq_window_exit(struct kvl_vcpu *vcpu)
{
	if (vcpu->vm->pic || !READ_ONCE(vcpu->run->request_interrupt_window) ||
	    !kvl_user_irq_ready(vcpu))
		return false;
	vcpu->run->exit_reason = KVM_EXIT_IRQ_WINDOW_OPEN;
	return true;
}

/* Make KVM_INTERRUPT's vector the interrupt being delivered, if the slot is free. */
static void kvl_take_user_irq(struct kvl_vcpu *vcpu)
{
	if (vcpu->user_irq < 0 || (vcpu->event.type != KVL_EVENT_NONE &&
				   vcpu->event.type != KVL_EVENT_INTR))
		return;
	vcpu->event.type = KVL_EVENT_INTR;
	vcpu->event.vector = vcpu->user_irq;
	vcpu->event.has_err = false;
	vcpu->user_irq = -1;
}

/*
 * At entry without a LAPIC: KVM_INTERRUPT's vector goes in now (userspace
 * checked ready_for_interrupt_injection), and the window exit is armed if
 * userspace asked for one.
 */
static void kvl_inject_user_irq(struct kvl_vcpu *vcpu)
{
	kvl_take_user_irq(vcpu);
	if (!vcpu->vm->pic && READ_ONCE(vcpu->run->request_interrupt_window) &&
	    vcpu->user_irq < 0 && vcpu->event.type != KVL_EVENT_INTR)
		kvl_ops->set_irq_window(vcpu, true);
}

/* What every return from KVM_RUN reports, as KVM's post_kvm_run_save(). */
static void kvl_post_run_save(struct kvl_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	run->if_flag = !!(vcpu->rflags & X86_EFLAGS_IF);
	run->cr8 = vcpu->lapic ? kvl_apic_get_tpr(vcpu) : kvl_call(get_cr8)(vcpu);
	run->apic_base = vcpu->msrs.apic_base;
	run->ready_for_interrupt_injection = vcpu->vm->pic || kvl_user_irq_ready(vcpu);
}

/*
 * KVM_INTERRUPT: only for a VM without an in-kernel irqchip, as in KVM.
 * As there, the vector becomes the interrupt being delivered (replacing
 * one not delivered yet) and goes in at the next entry whatever EFLAGS.IF
 * says: userspace waits for ready_for_interrupt_injection first.  Behind
 * an exception or NMI still being delivered, it waits for the slot.
 */
static int kvl_vcpu_interrupt(struct kvl_vcpu *vcpu, struct kvm_interrupt __user *argp)
{
	struct kvm_interrupt irq;

	if (copy_from_user(&irq, argp, sizeof(irq)))
		return -EFAULT;
	if (irq.irq >= KVM_NR_INTERRUPTS)
		return -EINVAL;
	/*
	 * Split irqchip: the userspace PIC's ExtINT, one at a time, taken
	 * when LINT0 allows (kvl_apic_ack()); an in-kernel PIC has its own.
	 */
	if (vcpu->lapic) {
		if (vcpu->vm->pic)
			return -ENXIO;
		if (vcpu->user_irq >= 0)
			return -EEXIST;
		vcpu->user_irq = irq.irq;
		return 0;
	}
	vcpu->user_irq = irq.irq;
	kvl_take_user_irq(vcpu);
	return 0;
}

/*
 * IRQs off, IN_GUEST published: queue the interrupt the guest can take
 * now, or ask for an exit when it can.  Exceptions and NMIs go first.
 */
static void kvl_inject_interrupt(struct kvl_vcpu *vcpu)
{
	bool busy;
	int vec;

	/* KVM_GUESTDBG_BLOCKIRQ: the debugger steps without interrupts coming in. */
	if (vcpu->guest_debug & KVM_GUESTDBG_BLOCKIRQ)
		return;
	if (!vcpu->lapic) {
		kvl_inject_user_irq(vcpu);
		return;
	}
	/* Split irqchip: userspace waits for a window for its PIC's ExtINT. */
	if (unlikely(vcpu->vm->irqchip_split) && READ_ONCE(vcpu->run->request_interrupt_window) &&
	    vcpu->user_irq < 0 && kvl_apic_accepts_extint(vcpu))
		kvl_ops->set_irq_window(vcpu, true);
	if (!kvl_apic_has_interrupt(vcpu))
		return;
	busy = vcpu->event.type != KVL_EVENT_NONE || vcpu->pending_exc.type != KVL_EVENT_NONE ||
	       (vcpu->nmi_pending && !vcpu->nmi_masked);
	if (busy || !kvl_interrupt_allowed(vcpu)) {
		kvl_ops->set_irq_window(vcpu, true);
		return;
	}
	vec = kvl_apic_ack(vcpu);
	if (vec < 0)
		return;
	vcpu->event.type = KVL_EVENT_INTR;
	vcpu->event.vector = vec;
	vcpu->event.has_err = false;
}

static int kvl_vcpu_run_loop(struct kvl_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	int r;

	for (;;) {
		/* Not into the guest while userspace owes the dirty ring a reset. */
		if (vcpu->dirty_ring && kvl_dirty_ring_soft_full(vcpu)) {
			run->exit_reason = KVM_EXIT_DIRTY_RING_FULL;
			return 0;
		}
		if (vcpu->singlestep_trap && kvl_singlestep_deliver(vcpu))
			return 0;
		if (test_and_clear_bit(KVL_REQ_CLOCK_UPDATE, &vcpu->requests))
			kvl_kvmclock_update(vcpu);
		/* KVM_X86_SET_MCE's shutdown, as KVM's KVM_REQ_TRIPLE_FAULT. */
		if (test_and_clear_bit(KVL_REQ_TRIPLE_FAULT, &vcpu->requests)) {
			run->exit_reason = KVM_EXIT_SHUTDOWN;
			return 0;
		}
		/* Split irqchip: a level interrupt of the userspace IOAPIC was EOI'd. */
		if (test_and_clear_bit(KVL_REQ_IOAPIC_EOI, &vcpu->requests)) {
			run->exit_reason = KVM_EXIT_IOAPIC_EOI;
			run->eoi.vector = vcpu->pending_ioapic_eoi;
			return 0;
		}
		/* The TPR access the LAPIC saw last, for userspace's kvmvapic. */
		if (test_and_clear_bit(KVL_REQ_REPORT_TPR, &vcpu->requests)) {
			run->exit_reason = KVM_EXIT_TPR_ACCESS;
			return 0;
		}
		/* Halted, waiting for SIPI, or INIT/SIPI posted: kvl_vcpu_block() sorts it out. */
		if (vcpu->lapic && (vcpu->mp_state != KVM_MP_STATE_RUNNABLE ||
				    (READ_ONCE(vcpu->requests) &
				     (BIT(KVL_REQ_INIT) | BIT(KVL_REQ_SIPI))))) {
			if (kvl_vcpu_block(vcpu)) {
				run->exit_reason = KVM_EXIT_INTR;
				return -EINTR;
			}
		}

		if (unlikely(vcpu->vapic_addr))
			kvl_apic_sync_to_vapic(vcpu);
		preempt_disable();
		kvl_call_cond(vcpu_load)(vcpu);
		local_irq_disable();
		WRITE_ONCE(vcpu->cpu, smp_processor_id());
		/* Publish IN_GUEST before the backend reads vcpu->requests. */
		smp_store_mb(vcpu->mode, KVL_IN_GUEST);
		/* Checked here, IRQs off, so that nothing slips in between: as KVM. */
		if (need_resched() || signal_pending(current)) {
			WRITE_ONCE(vcpu->mode, KVL_OUTSIDE_GUEST);
			local_irq_enable();
			preempt_enable();
			if (signal_pending(current)) {
				run->exit_reason = KVM_EXIT_INTR;
				return -EINTR;
			}
			cond_resched();
			continue;
		}
		kvl_process_nmi(vcpu);
		kvl_inject_interrupt(vcpu);
		vcpu->ran = true;
		r = kvl_call(vcpu_run)(vcpu);
		WRITE_ONCE(vcpu->mode, KVL_OUTSIDE_GUEST);
		local_irq_enable();
		preempt_enable();
		vcpu->exit_count++;
		if (unlikely(vcpu->vapic_addr))
			kvl_apic_sync_from_vapic(vcpu);
		if (!r)
			r = kvl_call(handle_exit)(vcpu);

		switch (r) {
		case KVL_EXIT_CONTINUE:
		case KVL_EXIT_INTR:
			if (kvl_irq_window_exit(vcpu))
				return 0;
			continue;
		case KVL_EXIT_GPA_FAULT:
			r = kvl_handle_gpa_fault(vcpu, vcpu->fault_gpa, vcpu->fault_write);
			if (r == 0)
				continue;
			if (r < 0)
				return r;	/* the slot's memory is gone: -EFAULT, as KVM */
			/* MMIO, or a write to a read-only slot. */
			if (vcpu->fault_vectoring) {
				/* Not the instruction at RIP: KVM gives up too. */
				kvl_internal_error(vcpu, KVM_INTERNAL_ERROR_DELIVERY_EV,
						   vcpu->fault_gpa, vcpu->rip);
				return 0;
			}
			if (kvl_emulate(vcpu, vcpu->fault_gpa))
				return 0;
			continue;
		case KVL_EXIT_EMULATE:
			if (kvl_emulate(vcpu, 0))
				return 0;
			continue;
		case KVL_EXIT_IO:
			if (kvl_pio_in_kernel(vcpu))
				continue;
			kvl_exit_io(vcpu);
			return 0;
		case KVL_EXIT_HLT:
			/* The debugger single-stepping HLT sees it done, not the sleep. */
			if (vcpu->singlestep_trap && (vcpu->guest_debug & KVM_GUESTDBG_SINGLESTEP))
				continue;
			/* With an in-kernel LAPIC the vCPU sleeps here until woken. */
			if (vcpu->lapic) {
				vcpu->mp_state = KVM_MP_STATE_HALTED;
				continue;
			}
			run->exit_reason = KVM_EXIT_HLT;
			return 0;
		case KVL_EXIT_USER:
			return 0;
		default:
			return r < 0 ? r : -EIO;
		}
	}
}

/*
 * A backend with vcpu_put keeps some host state switched to the guest's
 * across the exits handled in the kernel (as KVM's vcpu_put): it goes
 * back when the thread is scheduled out, or leaves KVM_RUN.  The run loop
 * loads the vCPU again before each entry, so scheduling in needs nothing.
 */
static void kvl_sched_in(struct preempt_notifier *pn, int cpu)
{
}

static void kvl_sched_out(struct preempt_notifier *pn, struct task_struct *next)
{
	kvl_call(vcpu_put)(container_of(pn, struct kvl_vcpu, pn));
}

static struct preempt_ops kvl_preempt_ops = {
	.sched_in	= kvl_sched_in,
	.sched_out	= kvl_sched_out,
};

static int kvl_vcpu_run(struct kvl_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	int r;

	if (vcpu->pio_pending)
		kvl_complete_pio(vcpu);
	run->flags = 0;
	/* An emulated MMIO read or string IN takes its data and runs again. */
	if (vcpu->emu_pending && kvl_emu_complete(vcpu))
		return 0;
	if (kvl_immediate_exit(run))
		return -EINTR;

	/*
	 * KVM_SET_SIGNAL_MASK: the mask the thread has while the guest runs.
	 * The caller's mask waits in real_blocked, as in KVM: a signal it
	 * blocks, with no handler, is then not fatal to the whole process
	 * when it arrives during KVM_RUN (complete_signal() checks there).
	 */
	if (vcpu->sigmask_set)
		sigprocmask(SIG_SETMASK, &vcpu->sigmask, &current->real_blocked);
	/*
	 * As KVM: a vCPU that never got INIT/SIPI waits for them here, takes
	 * them and returns -EAGAIN; the next KVM_RUN runs it.
	 */
	if (vcpu->mp_state == KVM_MP_STATE_UNINITIALIZED) {
		if (wait_event_interruptible(vcpu->wq, kvl_vcpu_has_events(vcpu) ||
					     signal_pending(current)) || signal_pending(current)) {
			run->exit_reason = KVM_EXIT_INTR;
			r = -EINTR;
		} else {
			kvl_vcpu_accept_events(vcpu);
			r = -EAGAIN;
		}
		goto out_sigmask;
	}
	fpu_swap_kvm_fpstate(&vcpu->gfpu, true);
	if (kvl_ops->vcpu_put) {
		preempt_notifier_init(&vcpu->pn, &kvl_preempt_ops);
		preempt_disable();
		preempt_notifier_register(&vcpu->pn);
		preempt_enable();
	}
	r = kvl_vcpu_run_loop(vcpu);
	if (kvl_ops->vcpu_put) {
		preempt_disable();
		kvl_call(vcpu_put)(vcpu);
		preempt_notifier_unregister(&vcpu->pn);
		preempt_enable();
	}
	fpu_swap_kvm_fpstate(&vcpu->gfpu, false);
out_sigmask:
	if (vcpu->sigmask_set) {
		sigprocmask(SIG_SETMASK, &current->real_blocked, NULL);
		sigemptyset(&current->real_blocked);
	}
	return r;
}

static int kvl_vcpu_set_sigmask(struct kvl_vcpu *vcpu, struct kvm_signal_mask __user *argp)
{
	struct kvm_signal_mask m;
	sigset_t set;

	if (!argp) {
		vcpu->sigmask_set = false;
		return 0;
	}
	if (copy_from_user(&m, argp, sizeof(m)))
		return -EFAULT;
	if (m.len != sizeof(set))
		return -EINVAL;
	if (copy_from_user(&set, argp->sigset, sizeof(set)))
		return -EFAULT;
	sigdelsetmask(&set, sigmask(SIGKILL) | sigmask(SIGSTOP));
	vcpu->sigmask = set;
	vcpu->sigmask_set = true;
	return 0;
}

static int kvl_vcpu_get_mp_state(struct kvl_vcpu *vcpu, struct kvm_mp_state __user *argp)
{
	struct kvm_mp_state mp = { .mp_state = vcpu->mp_state };

	return copy_to_user(argp, &mp, sizeof(mp)) ? -EFAULT : 0;
}

static int kvl_vcpu_set_mp_state(struct kvl_vcpu *vcpu, struct kvm_mp_state __user *argp)
{
	struct kvm_mp_state mp;

	if (copy_from_user(&mp, argp, sizeof(mp)))
		return -EFAULT;
	/* Without an in-kernel LAPIC a vCPU is always runnable, as in KVM. */
	if (!vcpu->lapic) {
		if (mp.mp_state != KVM_MP_STATE_RUNNABLE)
			return -EINVAL;
		vcpu->mp_state = mp.mp_state;
		return 0;
	}
	switch (mp.mp_state) {
	case KVM_MP_STATE_RUNNABLE:
	case KVM_MP_STATE_UNINITIALIZED:
	case KVM_MP_STATE_INIT_RECEIVED:
	case KVM_MP_STATE_HALTED:
		vcpu->mp_state = mp.mp_state;
		return 0;
	case KVM_MP_STATE_SIPI_RECEIVED:
		/* As KVM: wait for INIT again, with the SIPI already posted. */
		vcpu->mp_state = KVM_MP_STATE_INIT_RECEIVED;
		set_bit(KVL_REQ_SIPI, &vcpu->requests);
		return 0;
	default:
		return -EINVAL;
	}
}

static void kvl_events_get(struct kvl_vcpu *vcpu, struct kvm_vcpu_events *ep)
{
	const struct kvl_event *ex = vcpu->event.type == KVL_EVENT_EXCEPTION ?
				     &vcpu->event : &vcpu->pending_exc;
	struct kvm_vcpu_events e = {};

	if (ex->type == KVL_EVENT_EXCEPTION) {
		e.exception.injected = ex == &vcpu->event;
		e.exception.pending = ex == &vcpu->pending_exc;
		e.exception.nr = ex->vector;
		e.exception.has_error_code = ex->has_err;
		e.exception.error_code = ex->err;
	}
	if (vcpu->event.type == KVL_EVENT_INTR || vcpu->event.type == KVL_EVENT_SOFT_INTR) {
		e.interrupt.injected = 1;
		e.interrupt.nr = vcpu->event.vector;
		e.interrupt.soft = vcpu->event.type == KVL_EVENT_SOFT_INTR;
	}
	e.interrupt.shadow = kvl_ops->get_interrupt_shadow(vcpu);
	e.nmi.injected = vcpu->event.type == KVL_EVENT_NMI;
	e.nmi.pending = vcpu->nmi_pending;
	e.nmi.masked = vcpu->nmi_masked;
	e.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW |
		  KVM_VCPUEVENT_VALID_SMM;
	*ep = e;
}

static int kvl_vcpu_get_events(struct kvl_vcpu *vcpu, struct kvm_vcpu_events __user *argp)
{
	struct kvm_vcpu_events e;

	kvl_process_nmi(vcpu);
	kvl_events_get(vcpu, &e);
	return copy_to_user(argp, &e, sizeof(e)) ? -EFAULT : 0;
}

#define KVL_VCPUEVENT_FLAGS	(KVM_VCPUEVENT_VALID_NMI_PENDING | \
				 KVM_VCPUEVENT_VALID_SIPI_VECTOR | \
				 KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM)

/* The checks of kvm_vcpu_ioctl_x86_set_vcpu_events(), before anything changes. */
static int kvl_events_set(struct kvl_vcpu *vcpu, const struct kvm_vcpu_events *ep)
{
	struct kvm_vcpu_events e = *ep;

	/* Exception payloads and triple-fault events need caps we do not offer. */
	if (e.flags & ~KVL_VCPUEVENT_FLAGS)
		return -EINVAL;
	if ((e.exception.injected || e.exception.pending) &&
	    (e.exception.nr > 31 || e.exception.nr == NMI_VECTOR))
		return -EINVAL;
	/* No SMM here: entering or queuing it is refused, leaving it is a no-op. */
	if ((e.flags & KVM_VCPUEVENT_VALID_SMM) && (e.smi.smm || e.smi.pending))
		return -EINVAL;

	vcpu->event.type = KVL_EVENT_NONE;
	vcpu->pending_exc.type = KVL_EVENT_NONE;
	if (e.exception.injected || e.exception.pending) {
		struct kvl_event *x = e.exception.injected ? &vcpu->event : &vcpu->pending_exc;

		x->type = KVL_EVENT_EXCEPTION;
		x->vector = e.exception.nr;
		x->has_err = e.exception.has_error_code;
		x->err = e.exception.error_code;
	} else if (e.interrupt.injected) {
		vcpu->event.type = e.interrupt.soft ? KVL_EVENT_SOFT_INTR : KVL_EVENT_INTR;
		vcpu->event.vector = e.interrupt.nr;
		vcpu->event.has_err = false;
	}
	if (e.flags & KVM_VCPUEVENT_VALID_SHADOW)
		kvl_ops->set_interrupt_shadow(vcpu, e.interrupt.shadow);
	if (e.nmi.injected && vcpu->event.type == KVL_EVENT_NONE) {
		vcpu->event.type = KVL_EVENT_NMI;
		vcpu->event.vector = NMI_VECTOR;
		vcpu->event.has_err = false;
	}
	if (e.flags & KVM_VCPUEVENT_VALID_NMI_PENDING) {
		atomic_set(&vcpu->nmi_queued, 0);
		vcpu->nmi_pending = e.nmi.pending;
	}
	vcpu->nmi_masked = e.nmi.masked;
	return 0;
}

static int kvl_vcpu_set_events(struct kvl_vcpu *vcpu, struct kvm_vcpu_events __user *argp)
{
	struct kvm_vcpu_events e;

	if (copy_from_user(&e, argp, sizeof(e)))
		return -EFAULT;
	return kvl_events_set(vcpu, &e);
}

static int kvl_vcpu_get_debugregs(struct kvl_vcpu *vcpu, struct kvm_debugregs __user *argp)
{
	struct kvm_debugregs d = {};
	int i;

	for (i = 0; i < 4; i++)
		d.db[i] = vcpu->db[i];
	kvl_ops->get_dr67(vcpu, &d.dr6, &d.dr7);
	return copy_to_user(argp, &d, sizeof(d)) ? -EFAULT : 0;
}

static int kvl_vcpu_set_debugregs(struct kvl_vcpu *vcpu, struct kvm_debugregs __user *argp)
{
	struct kvm_debugregs d;
	int i;

	if (copy_from_user(&d, argp, sizeof(d)))
		return -EFAULT;
	if (d.flags || (d.dr6 >> 32) || (d.dr7 >> 32))
		return -EINVAL;
	for (i = 0; i < 4; i++)
		vcpu->db[i] = d.db[i];
	kvl_ops->set_dr67(vcpu, d.dr6, d.dr7);
	return 0;
}

static void kvl_regs_get(struct kvl_vcpu *vcpu, struct kvm_regs *rp)
{
	struct kvm_regs r = {
		.rax = vcpu->regs[KVL_RAX], .rbx = vcpu->regs[KVL_RBX],
		.rcx = vcpu->regs[KVL_RCX], .rdx = vcpu->regs[KVL_RDX],
		.rsi = vcpu->regs[KVL_RSI], .rdi = vcpu->regs[KVL_RDI],
		.rsp = vcpu->rsp, .rbp = vcpu->regs[KVL_RBP],
		.r8 = vcpu->regs[KVL_R8], .r9 = vcpu->regs[KVL_R9],
		.r10 = vcpu->regs[KVL_R10], .r11 = vcpu->regs[KVL_R11],
		.r12 = vcpu->regs[KVL_R12], .r13 = vcpu->regs[KVL_R13],
		.r14 = vcpu->regs[KVL_R14], .r15 = vcpu->regs[KVL_R15],
		.rip = vcpu->rip, .rflags = kvl_get_rflags(vcpu),
	};

	*rp = r;
}

static int kvl_vcpu_get_regs(struct kvl_vcpu *vcpu, struct kvm_regs __user *argp)
{
	struct kvm_regs r;

	kvl_regs_get(vcpu, &r);
	return copy_to_user(argp, &r, sizeof(r)) ? -EFAULT : 0;
}

static void kvl_regs_set(struct kvl_vcpu *vcpu, const struct kvm_regs *rp)
{
	struct kvm_regs r = *rp;

	vcpu->regs[KVL_RAX] = r.rax;
	vcpu->regs[KVL_RBX] = r.rbx;
	vcpu->regs[KVL_RCX] = r.rcx;
	vcpu->regs[KVL_RDX] = r.rdx;
	vcpu->regs[KVL_RSI] = r.rsi;
	vcpu->regs[KVL_RDI] = r.rdi;
	vcpu->regs[KVL_RBP] = r.rbp;
	vcpu->regs[KVL_R8] = r.r8;
	vcpu->regs[KVL_R9] = r.r9;
	vcpu->regs[KVL_R10] = r.r10;
	vcpu->regs[KVL_R11] = r.r11;
	vcpu->regs[KVL_R12] = r.r12;
	vcpu->regs[KVL_R13] = r.r13;
	vcpu->regs[KVL_R14] = r.r14;
	vcpu->regs[KVL_R15] = r.r15;
	vcpu->rsp = r.rsp;
	vcpu->rip = r.rip;
	kvl_set_rflags(vcpu, r.rflags);
}

static int kvl_vcpu_set_regs(struct kvl_vcpu *vcpu, struct kvm_regs __user *argp)
{
	struct kvm_regs r;

	if (copy_from_user(&r, argp, sizeof(r)))
		return -EFAULT;
	kvl_regs_set(vcpu, &r);
	return 0;
}

/* KVM_SET_SREGS: CR4 within the guest CPUID, a valid APIC base, checked before any change. */
static int kvl_sregs_set(struct kvl_vcpu *vcpu, const struct kvm_sregs *sregs)
{
	int r;

	if (!kvl_cr4_valid(vcpu, sregs->cr4) || !kvl_apic_base_ok(vcpu, sregs->apic_base))
		return -EINVAL;
	r = kvl_ops->set_sregs(vcpu, sregs);
	if (!r && kvl_set_msr(vcpu, MSR_IA32_APICBASE, sregs->apic_base, true))
		r = -EINVAL;
	if (!r)
		kvl_cpuid_update_runtime(vcpu);
	return r;
}

#define KVL_SYNC_FIELDS	(KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS)

/*
 * KVM_CAP_SYNC_REGS: registers, special registers and events pass through
 * kvm_run->s.regs instead of separate ioctls.  The shared page is copied
 * before use, so userspace changing it meanwhile changes nothing.
 */
static int kvl_sync_regs_in(struct kvl_vcpu *vcpu, struct kvm_sync_regs *s)
{
	struct kvm_run *run = vcpu->run;
	u64 dirty = READ_ONCE(run->kvm_dirty_regs);

	if (dirty & KVM_SYNC_X86_REGS) {
		memcpy(&s->regs, &run->s.regs.regs, sizeof(s->regs));
		kvl_regs_set(vcpu, &s->regs);
		run->kvm_dirty_regs &= ~KVM_SYNC_X86_REGS;
	}
	if (dirty & KVM_SYNC_X86_SREGS) {
		memcpy(&s->sregs, &run->s.regs.sregs, sizeof(s->sregs));
		if (kvl_sregs_set(vcpu, &s->sregs))
			return -EINVAL;
		run->kvm_dirty_regs &= ~KVM_SYNC_X86_SREGS;
	}
	if (dirty & KVM_SYNC_X86_EVENTS) {
		memcpy(&s->events, &run->s.regs.events, sizeof(s->events));
		if (kvl_events_set(vcpu, &s->events))
			return -EINVAL;
		run->kvm_dirty_regs &= ~KVM_SYNC_X86_EVENTS;
	}
	return 0;
}

static void kvl_sync_regs_out(struct kvl_vcpu *vcpu, struct kvm_sync_regs *s)
{
	struct kvm_run *run = vcpu->run;
	u64 valid = READ_ONCE(run->kvm_valid_regs);

	if (valid & KVM_SYNC_X86_REGS) {
		kvl_regs_get(vcpu, &s->regs);
		memcpy(&run->s.regs.regs, &s->regs, sizeof(s->regs));
	}
	if (valid & KVM_SYNC_X86_SREGS) {
		kvl_ops->get_sregs(vcpu, &s->sregs);
		memcpy(&run->s.regs.sregs, &s->sregs, sizeof(s->sregs));
	}
	if (valid & KVM_SYNC_X86_EVENTS) {
		kvl_events_get(vcpu, &s->events);
		memcpy(&run->s.regs.events, &s->events, sizeof(s->events));
	}
}

static int kvl_vcpu_run_ioctl(struct kvl_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct kvm_sync_regs *s;
	int r;

	/* The common case: no registers through kvm_run, nothing to copy. */
	if (!READ_ONCE(run->kvm_valid_regs) && !READ_ONCE(run->kvm_dirty_regs)) {
		r = kvl_vcpu_run(vcpu);
		kvl_post_run_save(vcpu);
		return r;
	}
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	if ((READ_ONCE(run->kvm_valid_regs) & ~KVL_SYNC_FIELDS) ||
	    (READ_ONCE(run->kvm_dirty_regs) & ~KVL_SYNC_FIELDS))
		r = -EINVAL;
	else
		r = kvl_sync_regs_in(vcpu, s);
	if (!r)
		r = kvl_vcpu_run(vcpu);
	kvl_post_run_save(vcpu);
	if (READ_ONCE(run->kvm_valid_regs))
		kvl_sync_regs_out(vcpu, s);
	kfree(s);
	return r;
}

/* Every vCPU ioctl but KVM_RUN, with vcpu->lock held. */
static noinline long kvl_vcpu_ioctl_locked(struct kvl_vcpu *vcpu, unsigned int ioctl,
					   unsigned long arg)
{
	void __user *argp = (void __user *)arg;
	struct kvm_sregs *sregs;
	long r;

	switch (ioctl) {
	case KVM_GET_REGS:
		r = kvl_vcpu_get_regs(vcpu, argp);
		break;
	case KVM_SET_REGS:
		r = kvl_vcpu_set_regs(vcpu, argp);
		break;
	case KVM_GET_SREGS:
		sregs = kzalloc(sizeof(*sregs), GFP_KERNEL);
		if (!sregs) {
			r = -ENOMEM;
			break;
		}
		kvl_ops->get_sregs(vcpu, sregs);
		r = copy_to_user(argp, sregs, sizeof(*sregs)) ? -EFAULT : 0;
		kfree(sregs);
		break;
	case KVM_SET_SREGS:
		sregs = memdup_user(argp, sizeof(*sregs));
		if (IS_ERR(sregs)) {
			r = PTR_ERR(sregs);
			break;
		}
		r = kvl_sregs_set(vcpu, sregs);
		kfree(sregs);
		break;
	case KVM_SET_CPUID2:
		r = kvl_set_cpuid2(vcpu, argp);
		break;
	case KVM_TRANSLATE: {
		struct kvm_translation tr;

		if (copy_from_user(&tr, argp, sizeof(tr))) {
			r = -EFAULT;
			break;
		}
		kvl_emu_translate(vcpu, &tr);
		r = copy_to_user(argp, &tr, sizeof(tr)) ? -EFAULT : 0;
		break;
	}
	case KVM_GET_CPUID2:
		r = kvl_get_cpuid2(vcpu, argp);
		break;
	case KVM_GET_MSRS:
		r = kvl_msrs_ioctl(vcpu, argp, false);
		break;
	case KVM_SET_MSRS:
		r = kvl_msrs_ioctl(vcpu, argp, true);
		break;
	case KVM_GET_FPU:
	case KVM_SET_FPU:
	case KVM_GET_XSAVE:
	case KVM_SET_XSAVE:
	case KVM_GET_XCRS:
	case KVM_SET_XCRS:
		r = kvl_fpu_ioctl(vcpu, ioctl, argp);
		break;
	case KVM_GET_MP_STATE:
		r = kvl_vcpu_get_mp_state(vcpu, argp);
		break;
	case KVM_SET_MP_STATE:
		r = kvl_vcpu_set_mp_state(vcpu, argp);
		break;
	case KVM_GET_VCPU_EVENTS:
		r = kvl_vcpu_get_events(vcpu, argp);
		break;
	case KVM_SET_VCPU_EVENTS:
		r = kvl_vcpu_set_events(vcpu, argp);
		break;
	case KVM_GET_DEBUGREGS:
		r = kvl_vcpu_get_debugregs(vcpu, argp);
		break;
	case KVM_GET_TSC_KHZ:
		/* The guest's TSC runs at the host's rate: no TSC scaling here. */
		r = tsc_khz;
		break;
	case KVM_SET_TSC_KHZ:
		/*
		 * As KVM without TSC scaling: 0 or the host's rate within
		 * KVM's 250 ppm tolerance is taken; a slower one is EINVAL.
		 * KVM runs a faster one by catching up at each entry; kvmlite
		 * does not (EINVAL).
		 */
		r = (u32)arg == 0 || abs((s64)(u32)arg - (s64)tsc_khz) <= (s64)tsc_khz / 4000 ?
		    0 : -EINVAL;
		break;
	case KVM_SET_DEBUGREGS:
		r = kvl_vcpu_set_debugregs(vcpu, argp);
		break;
	case KVM_SET_SIGNAL_MASK:
		r = kvl_vcpu_set_sigmask(vcpu, argp);
		break;
	case KVM_GET_LAPIC:
		r = kvl_apic_get_state(vcpu, argp);
		break;
	case KVM_INTERRUPT:
		r = kvl_vcpu_interrupt(vcpu, argp);
		break;
	case KVM_NMI:
		kvl_vcpu_queue_nmi(vcpu);
		r = 0;
		break;
	case KVM_SET_GUEST_DEBUG:
		r = kvl_vcpu_set_guest_debug(vcpu, argp);
		break;
	case KVM_SET_LAPIC:
		r = kvl_apic_set_state(vcpu, argp);
		break;
	case KVM_SET_VAPIC_ADDR: {
		struct kvm_vapic_addr va;

		/* As KVM: no LAPIC is -EINVAL before the argument is read. */
		if (!vcpu->lapic)
			r = -EINVAL;
		else if (copy_from_user(&va, argp, sizeof(va)))
			r = -EFAULT;
		else
			r = kvl_apic_set_vapic_addr(vcpu, va.vapic_addr);
		break;
	}
	case KVM_TPR_ACCESS_REPORTING: {
		struct kvm_tpr_access_ctl tac;

		/* As KVM: flags must be 0; the struct goes back unchanged. */
		if (copy_from_user(&tac, argp, sizeof(tac))) {
			r = -EFAULT;
			break;
		}
		if (tac.flags) {
			r = -EINVAL;
			break;
		}
		vcpu->tpr_access_reporting = !!tac.enabled;
		r = copy_to_user(argp, &tac, sizeof(tac)) ? -EFAULT : 0;
		break;
	}
	case KVM_X86_SETUP_MCE: {
		u64 mcg_cap;

		r = copy_from_user(&mcg_cap, argp, sizeof(mcg_cap)) ? -EFAULT :
		    kvl_mce_setup(vcpu, mcg_cap);
		break;
	}
	case KVM_X86_SET_MCE: {
		struct kvm_x86_mce mce;

		r = copy_from_user(&mce, argp, sizeof(mce)) ? -EFAULT :
		    kvl_mce_inject(vcpu, &mce);
		break;
	}
	default:
		r = -EINVAL;
		break;
	}
	return r;
}

/* KVM_RUN stays out of the big switch: it is on every exit's round trip. */
static long kvl_vcpu_ioctl(struct file *filp, unsigned int ioctl, unsigned long arg)
{
	struct kvl_vcpu *vcpu = filp->private_data;
	long r;

	if (vcpu->vm->mm != current->mm)
		return -EIO;
	if (mutex_lock_killable(&vcpu->lock))
		return -EINTR;
	if (ioctl == KVM_RUN)
		r = arg ? -EINVAL : kvl_vcpu_run_ioctl(vcpu);
	else
		r = kvl_vcpu_ioctl_locked(vcpu, ioctl, arg);
	mutex_unlock(&vcpu->lock);
	return r;
}

static int kvl_vcpu_release(struct inode *inode, struct file *filp)
{
	struct kvl_vcpu *vcpu = filp->private_data;

	kvl_vm_put(vcpu->vm);
	return 0;
}

static const struct file_operations kvl_vcpu_fops = {
	.owner		= THIS_MODULE,
	.release	= kvl_vcpu_release,
	.unlocked_ioctl	= kvl_vcpu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= kvl_vcpu_mmap,
	.llseek		= noop_llseek,
};

void kvl_vcpu_free(struct kvl_vcpu *vcpu)
{
	kvl_apic_destroy(vcpu);
	kvl_ops->vcpu_destroy(vcpu);
	kvl_vcpu_fpu_destroy(vcpu);
	kvl_emu_vcpu_free(vcpu);
	kvfree(vcpu->cpuid);
	kvl_dirty_ring_free(vcpu);
	free_pages((unsigned long)vcpu->run, get_order(KVL_RUN_PAGES * PAGE_SIZE));
	kfree(vcpu);
}

int kvl_create_vcpu(struct kvl_vm *vm, unsigned long id)
{
	struct kvl_vcpu *vcpu;
	char name[16];
	int r, i;

	if (id >= KVL_MAX_VCPU_ID)
		return -EINVAL;
	/* KVM_CAP_MAX_VCPU_ID's bound, fixed from now on as in KVM. */
	mutex_lock(&vm->lock);
	if (!vm->max_vcpu_ids)
		vm->max_vcpu_ids = KVL_MAX_VCPU_ID;
	r = id >= vm->max_vcpu_ids ? -EINVAL : 0;
	mutex_unlock(&vm->lock);
	if (r)
		return r;

	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return -ENOMEM;
	vcpu->run = (void *)__get_free_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_COMP,
					     get_order(KVL_RUN_PAGES * PAGE_SIZE));
	if (!vcpu->run) {
		r = -ENOMEM;
		goto err_vcpu;
	}
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->cpu = -1;
	mutex_init(&vcpu->lock);
	vcpu->rflags = X86_EFLAGS_FIXED;
	vcpu->rip = 0xfff0;
	vcpu->regs[KVL_RDX] = 0x600;	/* reset EDX: family 6 signature, as KVM */
	vcpu->mp_state = KVM_MP_STATE_RUNNABLE;
	vcpu->user_irq = -1;
	init_waitqueue_head(&vcpu->wq);
	kvl_msrs_reset(vcpu);

	r = kvl_emu_vcpu_init(vcpu);
	if (r)
		goto err_run;
	r = kvl_vcpu_fpu_create(vcpu);
	if (r)
		goto err_emu;
	r = kvl_ops->vcpu_create(vcpu);
	if (r)
		goto err_fpu;
	kvl_tsc_vcpu_init(vcpu);
	/* Pairs with the release in kvl_create_irqchip(). */
	if (smp_load_acquire(&vm->irqchip)) {
		r = kvl_apic_create(vcpu);
		if (r)
			goto err_backend;
		/* As KVM: the BSP (id 0) runs, the others wait for INIT/SIPI. */
		if (id)
			vcpu->mp_state = KVM_MP_STATE_UNINITIALIZED;
	}

	mutex_lock(&vm->lock);
	if (vm->nr_vcpus >= KVL_MAX_VCPUS) {
		r = -EINVAL;
		goto err_unlock;
	}
	for (i = 0; i < vm->nr_vcpus; i++) {
		if (kvl_get_vcpu(vm, i)->id == id) {
			r = -EEXIST;
			goto err_unlock;
		}
	}
	r = kvl_dirty_ring_alloc(vcpu);
	if (r)
		goto err_unlock;
	/* The slot's memory now: once the fd exists nothing may fail. */
	r = xa_reserve(&vm->vcpu_array, vm->nr_vcpus, GFP_KERNEL_ACCOUNT);
	if (r)
		goto err_unlock;
	refcount_inc(&vm->refs);
	snprintf(name, sizeof(name), "kvm-vcpu:%lu", id);
	r = anon_inode_getfd(name, &kvl_vcpu_fops, vcpu, O_RDWR | O_CLOEXEC);
	if (r < 0) {
		refcount_dec(&vm->refs);
		xa_release(&vm->vcpu_array, vm->nr_vcpus);
		goto err_unlock;
	}
	/* Into the reserved slot: allocates nothing, cannot fail. */
	WARN_ON_ONCE(xa_is_err(xa_store(&vm->vcpu_array, vm->nr_vcpus, vcpu, GFP_KERNEL_ACCOUNT)));
	/* The vCPU is complete before kvl_kick_all() can see it. */
	smp_store_release(&vm->nr_vcpus, vm->nr_vcpus + 1);
	if (!id) {
		/* Pairs with the acquire in kvl_apic_extint_changed(): a set-up BSP. */
		smp_store_release(&vm->bsp, vcpu);
	}
	mutex_unlock(&vm->lock);
	return r;

err_unlock:
	mutex_unlock(&vm->lock);
	kvl_dirty_ring_free(vcpu);
	kvl_apic_destroy(vcpu);
err_backend:
	kvl_ops->vcpu_destroy(vcpu);
err_fpu:
	kvl_vcpu_fpu_destroy(vcpu);
err_emu:
	kvl_emu_vcpu_free(vcpu);
err_run:
	free_pages((unsigned long)vcpu->run, get_order(KVL_RUN_PAGES * PAGE_SIZE));
err_vcpu:
	kfree(vcpu);
	return r;
}
