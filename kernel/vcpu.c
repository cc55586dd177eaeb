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
	/* Pairs with the release in kvl_create_vcpu(): vcpus[0..n) are set up. */
	int i, n = smp_load_acquire(&vm->nr_vcpus);
	int me;

	lockdep_assert_held(&vm->mmu_lock);
	cpumask_clear(vm->kick_mask);
	for (i = 0; i < n; i++) {
		struct kvl_vcpu *v = vm->vcpus[i];

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

	if (vmf->pgoff >= KVL_RUN_PAGES)
		return VM_FAULT_SIGBUS;
	page = virt_to_page((char *)vcpu->run + vmf->pgoff * PAGE_SIZE);
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct kvl_run_vm_ops = {
	.fault = kvl_run_fault,
};

static int kvl_vcpu_mmap(struct file *filp, struct vm_area_struct *vma)
{
	vma->vm_ops = &kvl_run_vm_ops;
	return 0;
}

static void kvl_complete_pio(struct kvl_vcpu *vcpu)
{
	struct kvl_pio *pio = &vcpu->pio;

	vcpu->pio_pending = false;
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
	if (!pio->in)
		memcpy((char *)run + run->io.data_offset, &vcpu->regs[KVL_RAX], pio->size);
	vcpu->pio_pending = true;
}

static int kvl_vcpu_run(struct kvl_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	int r;

	if (vcpu->pio_pending)
		kvl_complete_pio(vcpu);
	run->flags = 0;
	/* An emulated MMIO read or string IN takes its data and runs again. */
	if (kvl_emu_complete(vcpu))
		return 0;
	if (kvl_immediate_exit(run))
		return -EINTR;

	for (;;) {
		if (signal_pending(current)) {
			run->exit_reason = KVM_EXIT_INTR;
			return -EINTR;
		}
		cond_resched();

		preempt_disable();
		local_irq_disable();
		WRITE_ONCE(vcpu->cpu, smp_processor_id());
		/* Publish IN_GUEST before the backend reads vcpu->requests. */
		smp_store_mb(vcpu->mode, KVL_IN_GUEST);
		if (need_resched() || signal_pending(current)) {
			WRITE_ONCE(vcpu->mode, KVL_OUTSIDE_GUEST);
			local_irq_enable();
			preempt_enable();
			continue;
		}
		r = kvl_ops->vcpu_run(vcpu);
		WRITE_ONCE(vcpu->mode, KVL_OUTSIDE_GUEST);
		local_irq_enable();
		preempt_enable();
		vcpu->exit_count++;

		switch (r) {
		case KVL_EXIT_CONTINUE:
		case KVL_EXIT_INTR:
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
				run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
				run->internal.suberror = KVM_INTERNAL_ERROR_DELIVERY_EV;
				run->internal.ndata = 1;
				run->internal.data[0] = vcpu->fault_gpa;
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
			kvl_exit_io(vcpu);
			return 0;
		case KVL_EXIT_HLT:
			run->exit_reason = KVM_EXIT_HLT;
			return 0;
		case KVL_EXIT_USER:
			return 0;
		default:
			return r < 0 ? r : -EIO;
		}
	}
}

static int kvl_vcpu_get_regs(struct kvl_vcpu *vcpu, struct kvm_regs __user *argp)
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
		.rip = vcpu->rip, .rflags = vcpu->rflags,
	};

	return copy_to_user(argp, &r, sizeof(r)) ? -EFAULT : 0;
}

static int kvl_vcpu_set_regs(struct kvl_vcpu *vcpu, struct kvm_regs __user *argp)
{
	struct kvm_regs r;

	if (copy_from_user(&r, argp, sizeof(r)))
		return -EFAULT;
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
	vcpu->rflags = r.rflags | X86_EFLAGS_FIXED;
	/* KVM drops a pending PIO completion when userspace rewrites the registers. */
	vcpu->pio_pending = false;
	return 0;
}

static long kvl_vcpu_ioctl(struct file *filp, unsigned int ioctl, unsigned long arg)
{
	struct kvl_vcpu *vcpu = filp->private_data;
	void __user *argp = (void __user *)arg;
	struct kvm_sregs *sregs;
	long r;

	if (vcpu->vm->mm != current->mm)
		return -EIO;
	if (mutex_lock_killable(&vcpu->lock))
		return -EINTR;

	switch (ioctl) {
	case KVM_RUN:
		r = arg ? -EINVAL : kvl_vcpu_run(vcpu);
		break;
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
		r = kvl_ops->set_sregs(vcpu, sregs);
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
	default:
		r = -EINVAL;
		break;
	}
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
	kvl_ops->vcpu_destroy(vcpu);
	kvl_emu_vcpu_free(vcpu);
	kvfree(vcpu->cpuid);
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

	r = kvl_emu_vcpu_init(vcpu);
	if (r)
		goto err_run;
	r = kvl_ops->vcpu_create(vcpu);
	if (r)
		goto err_emu;

	mutex_lock(&vm->lock);
	if (vm->nr_vcpus >= KVL_MAX_VCPUS) {
		r = -EINVAL;
		goto err_unlock;
	}
	for (i = 0; i < vm->nr_vcpus; i++) {
		if (vm->vcpus[i]->id == id) {
			r = -EEXIST;
			goto err_unlock;
		}
	}
	refcount_inc(&vm->refs);
	snprintf(name, sizeof(name), "kvm-vcpu:%lu", id);
	r = anon_inode_getfd(name, &kvl_vcpu_fops, vcpu, O_RDWR | O_CLOEXEC);
	if (r < 0) {
		refcount_dec(&vm->refs);
		goto err_unlock;
	}
	vm->vcpus[vm->nr_vcpus] = vcpu;
	/* The vCPU is complete before kvl_kick_all() can see it. */
	smp_store_release(&vm->nr_vcpus, vm->nr_vcpus + 1);
	mutex_unlock(&vm->lock);
	return r;

err_unlock:
	mutex_unlock(&vm->lock);
	kvl_ops->vcpu_destroy(vcpu);
err_emu:
	kvl_emu_vcpu_free(vcpu);
err_run:
	free_pages((unsigned long)vcpu->run, get_order(KVL_RUN_PAGES * PAGE_SIZE));
err_vcpu:
	kfree(vcpu);
	return r;
}
