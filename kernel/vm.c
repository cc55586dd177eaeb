// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: VM file descriptors, memslots and the MMU notifier glue.
 *
 * Guest memory is the VM owner's anonymous or file mapping.  Nested page
 * table entries are built on demand (kvl_handle_gpa_fault) from a page
 * looked up with get_user_pages and released at once: nothing is pinned.
 * The MMU notifier zaps translations before the host mm changes a page, and
 * mmu_seq/mmu_invalidating let a fault that raced with it retry, as in KVM.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/ktime.h>
#include <linux/timekeeping.h>
#include "kvmlite.h"

long kvl_check_extension(struct kvl_vm *vm, long cap)
{
	switch (cap) {
	case KVM_CAP_USER_MEMORY:
	case KVM_CAP_IMMEDIATE_EXIT:
	case KVM_CAP_DESTROY_MEMORY_REGION_WORKS:
	case KVM_CAP_JOIN_MEMORY_REGIONS_WORKS:
	case KVM_CAP_SET_TSS_ADDR:
	case KVM_CAP_SYNC_MMU:
	case KVM_CAP_EXT_CPUID:
	case KVM_CAP_MP_STATE:
	case KVM_CAP_VCPU_EVENTS:
	case KVM_CAP_DEBUGREGS:
	case KVM_CAP_XSAVE:
	case KVM_CAP_XCRS:
	case KVM_CAP_SET_IDENTITY_MAP_ADDR:
	case KVM_CAP_IRQCHIP:
	case KVM_CAP_PIT2:
	case KVM_CAP_PIT_STATE2:
	case KVM_CAP_IRQ_INJECT_STATUS:
	case KVM_CAP_SIGNAL_MSI:
	case KVM_CAP_TSC_DEADLINE_TIMER:
	case KVM_CAP_IRQFD:
	case KVM_CAP_IRQFD_RESAMPLE:
	case KVM_CAP_IOEVENTFD:
	case KVM_CAP_IOEVENTFD_ANY_LENGTH:
	case KVM_CAP_READONLY_MEM:	/* writes exit as KVM_EXIT_MMIO (mmio.c) */
	case KVM_CAP_USER_NMI:		/* KVM_NMI (vcpu.c) */
		return 1;
	case KVM_CAP_SET_GUEST_DEBUG:	/* vcpu.c, if the backend can */
		return !!kvl_ops->update_guest_debug;
	case KVM_CAP_SET_GUEST_DEBUG2:
		return kvl_ops->update_guest_debug ? KVL_GUESTDBG_VALID : 0;
	case KVM_CAP_IRQ_ROUTING:
		return KVL_MAX_IRQ_ROUTES;
	case KVM_CAP_SYNC_REGS:
		return KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
	case KVM_CAP_ADJUST_CLOCK:
		return KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC;
	case KVM_CAP_NR_VCPUS:
	case KVM_CAP_MAX_VCPUS:
		return KVL_MAX_VCPUS;
	case KVM_CAP_MAX_VCPU_ID:
		return KVL_MAX_VCPU_ID;
	case KVM_CAP_NR_MEMSLOTS:
		return KVL_USER_MEM_SLOTS;
	default:
		return 0;
	}
}

struct kvl_memslot *kvl_gfn_to_slot(struct kvl_vm *vm, u64 gfn)
{
	int i;

	for (i = 0; i < KVL_USER_MEM_SLOTS; i++) {
		struct kvl_memslot *s = &vm->slots[i];

		if (s->used && gfn >= s->base_gfn && gfn - s->base_gfn < s->npages)
			return s;
	}
	return NULL;
}

/* Zap every nested translation of host virtual [start, end). Under mmu_lock. */
static void kvl_zap_hva_locked(struct kvl_vm *vm, unsigned long start, unsigned long end)
{
	bool zapped = false;
	int i;

	for (i = 0; i < KVL_USER_MEM_SLOTS; i++) {
		struct kvl_memslot *s = &vm->slots[i];
		unsigned long s_start, s_end;

		if (!s->used)
			continue;
		s_start = max(start, s->userspace_addr);
		s_end = min(end, s->userspace_addr + (s->npages << PAGE_SHIFT));
		if (s_start >= s_end)
			continue;
		kvl_ops->zap_gpa(vm,
				 (s->base_gfn << PAGE_SHIFT) + (s_start - s->userspace_addr),
				 (s->base_gfn << PAGE_SHIFT) + (s_end - s->userspace_addr));
		zapped = true;
	}
	if (zapped)
		kvl_kick_all(vm, KVL_REQ_TLB_FLUSH);
}

static int kvl_mn_invalidate_range_start(struct mmu_notifier *mn,
					 const struct mmu_notifier_range *range)
{
	struct kvl_vm *vm = container_of(mn, struct kvl_vm, mn);

	spin_lock(&vm->mmu_lock);
	vm->mmu_invalidating++;
	kvl_zap_hva_locked(vm, range->start, range->end);
	spin_unlock(&vm->mmu_lock);
	return 0;
}

static void kvl_mn_invalidate_range_end(struct mmu_notifier *mn,
					const struct mmu_notifier_range *range)
{
	struct kvl_vm *vm = container_of(mn, struct kvl_vm, mn);

	spin_lock(&vm->mmu_lock);
	vm->mmu_seq++;
	vm->mmu_invalidating--;
	spin_unlock(&vm->mmu_lock);
}

static void kvl_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct kvl_vm *vm = container_of(mn, struct kvl_vm, mn);

	spin_lock(&vm->mmu_lock);
	kvl_zap_hva_locked(vm, 0, ULONG_MAX);
	spin_unlock(&vm->mmu_lock);
}

static const struct mmu_notifier_ops kvl_mn_ops = {
	.invalidate_range_start	= kvl_mn_invalidate_range_start,
	.invalidate_range_end	= kvl_mn_invalidate_range_end,
	.release		= kvl_mn_release,
};

static unsigned long kvl_dirty_bitmap_bytes(const struct kvl_memslot *s)
{
	return ALIGN(s->npages, BITS_PER_LONG) / 8;
}

/* Log a write to @gfn if its slot logs dirty pages.  Under mmu_lock. */
void kvl_mark_dirty_locked(struct kvl_vm *vm, u64 gfn)
{
	struct kvl_memslot *s = kvl_gfn_to_slot(vm, gfn);

	if (s && s->dirty_bitmap)
		set_bit_le(gfn - s->base_gfn, s->dirty_bitmap);
}

/*
 * Copy guest-physical memory from or to the memslots, for the kernel's own
 * accesses (kvmclock): in the VM's mm, from process context.  -EFAULT if a
 * byte is outside every slot (or in a read-only one, for writes).
 */
static int kvl_guest_rw(struct kvl_vm *vm, u64 gpa, void *data, unsigned long len, bool write)
{
	while (len) {
		unsigned long n = min_t(unsigned long, len, PAGE_SIZE - (gpa & ~PAGE_MASK));
		struct kvl_memslot *s;
		void __user *hva;
		int r;

		mutex_lock(&vm->lock);
		s = kvl_gfn_to_slot(vm, gpa >> PAGE_SHIFT);
		if (!s || (write && (s->flags & KVM_MEM_READONLY))) {
			mutex_unlock(&vm->lock);
			return -EFAULT;
		}
		hva = (void __user *)(s->userspace_addr +
				      ((gpa >> PAGE_SHIFT) - s->base_gfn) * PAGE_SIZE +
				      (gpa & ~PAGE_MASK));
		r = write ? copy_to_user(hva, data, n) : copy_from_user(data, hva, n);
		if (!r && write) {
			spin_lock(&vm->mmu_lock);
			kvl_mark_dirty_locked(vm, gpa >> PAGE_SHIFT);
			spin_unlock(&vm->mmu_lock);
		}
		mutex_unlock(&vm->lock);
		if (r)
			return -EFAULT;
		gpa += n;
		data = (u8 *)data + n;
		len -= n;
	}
	return 0;
}

int kvl_read_guest(struct kvl_vm *vm, u64 gpa, void *data, unsigned long len)
{
	return kvl_guest_rw(vm, gpa, data, len, false);
}

int kvl_write_guest(struct kvl_vm *vm, u64 gpa, const void *data, unsigned long len)
{
	return kvl_guest_rw(vm, gpa, (void *)data, len, true);
}

/*
 * Resolve a nested page fault at @gpa: 0 when mapped (re-enter), 1 when no
 * memslot backs it (an MMIO access), -EFAULT when the slot's memory is gone.
 */
int kvl_handle_gpa_fault(struct kvl_vcpu *vcpu, u64 gpa, bool write)
{
	struct kvl_vm *vm = vcpu->vm;
	struct kvl_memslot *slot;
	unsigned long hva, seq;
	struct page *page;
	bool writable, logged;
	long n;
	int r;

retry:
	mutex_lock(&vm->lock);
	slot = kvl_gfn_to_slot(vm, gpa >> PAGE_SHIFT);
	if (!slot || (write && (slot->flags & KVM_MEM_READONLY))) {
		mutex_unlock(&vm->lock);
		return 1;
	}
	hva = slot->userspace_addr + ((gpa >> PAGE_SHIFT) - slot->base_gfn) * PAGE_SIZE;
	writable = !(slot->flags & KVM_MEM_READONLY);
	/* Dirty logging: map for reading until the guest writes, then log the page. */
	logged = slot->dirty_bitmap && writable;
	mutex_unlock(&vm->lock);

	seq = READ_ONCE(vm->mmu_seq);
	/* Pairs with the invalidation's mmu_lock: seq before the page lookup. */
	smp_rmb();

	n = get_user_pages_unlocked(hva, 1, &page, writable ? FOLL_WRITE : 0);
	if (n == 1 && logged && !write)
		writable = false;
	if (n != 1 && writable && !write) {
		/* A read of a read-only VMA: map it read-only. */
		writable = false;
		n = get_user_pages_unlocked(hva, 1, &page, 0);
	}
	if (n != 1)
		return -EFAULT;

	spin_lock(&vm->mmu_lock);
	if (vm->mmu_invalidating || vm->mmu_seq != seq) {
		spin_unlock(&vm->mmu_lock);
		put_page(page);
		cond_resched();
		goto retry;
	}
	r = kvl_ops->map_gpa(vm, gpa & PAGE_MASK, page_to_pfn(page), writable);
	if (!r && writable)
		kvl_mark_dirty_locked(vm, gpa >> PAGE_SHIFT);
	spin_unlock(&vm->mmu_lock);
	put_page(page);
	return r;
}

static int kvl_set_memory_region(struct kvl_vm *vm,
				 const struct kvm_userspace_memory_region *mem)
{
	struct kvl_memslot *slot, new = {};
	u16 as_id = mem->slot >> 16, id = (u16)mem->slot;
	unsigned long *old_bitmap = NULL;
	int i;

	if (mem->flags & ~(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY))
		return -EINVAL;
	if (as_id >= KVL_ADDRESS_SPACES || id >= KVL_USER_MEM_SLOTS)
		return -EINVAL;
	if ((mem->memory_size & (PAGE_SIZE - 1)) ||
	    (mem->guest_phys_addr & (PAGE_SIZE - 1)) ||
	    (mem->userspace_addr & (PAGE_SIZE - 1)) ||
	    (mem->memory_size &&
	     !access_ok((void __user *)(unsigned long)mem->userspace_addr,
			mem->memory_size)))
		return -EINVAL;
	if (mem->guest_phys_addr + mem->memory_size < mem->guest_phys_addr)
		return -EINVAL;
	if ((mem->memory_size >> PAGE_SHIFT) > KVL_MAX_SLOT_PAGES)
		return -EINVAL;

	slot = &vm->slots[id];
	if (mem->memory_size) {
		new.used = true;
		new.id = id;
		new.base_gfn = mem->guest_phys_addr >> PAGE_SHIFT;
		new.npages = mem->memory_size >> PAGE_SHIFT;
		new.userspace_addr = mem->userspace_addr;
		new.flags = mem->flags;
		if (slot->used) {
			/* Only moves and flag changes are allowed on a live slot. */
			if (new.npages != slot->npages ||
			    new.userspace_addr != slot->userspace_addr ||
			    ((new.flags ^ slot->flags) & KVM_MEM_READONLY))
				return -EINVAL;
		}
		for (i = 0; i < KVL_USER_MEM_SLOTS; i++) {
			struct kvl_memslot *o = &vm->slots[i];

			if (i == id || !o->used)
				continue;
			if (new.base_gfn < o->base_gfn + o->npages &&
			    o->base_gfn < new.base_gfn + new.npages)
				return -EEXIST;
		}
	} else if (!slot->used) {
		return -EINVAL;	/* deleting what is not there, as KVM since 5.17 */
	}

	/* A logging slot keeps its bitmap across a move; a new one starts clean. */
	if (new.flags & KVM_MEM_LOG_DIRTY_PAGES) {
		if (slot->used && slot->dirty_bitmap && new.npages == slot->npages) {
			new.dirty_bitmap = slot->dirty_bitmap;
		} else {
			new.dirty_bitmap = kvzalloc(kvl_dirty_bitmap_bytes(&new),
						    GFP_KERNEL_ACCOUNT);
			if (!new.dirty_bitmap)
				return -ENOMEM;
		}
	}
	if (slot->used && slot->dirty_bitmap != new.dirty_bitmap)
		old_bitmap = slot->dirty_bitmap;

	spin_lock(&vm->mmu_lock);
	if (slot->used) {
		/* Also what starts logging: its pages must fault on the next write. */
		kvl_ops->zap_gpa(vm, slot->base_gfn << PAGE_SHIFT,
				 (slot->base_gfn + slot->npages) << PAGE_SHIFT);
		kvl_kick_all(vm, KVL_REQ_TLB_FLUSH);
	}
	*slot = new;
	vm->mmu_seq++;
	spin_unlock(&vm->mmu_lock);
	kvfree(old_bitmap);
	return 0;
}

/*
 * KVM_GET_DIRTY_LOG: hand out the pages written since the last call and
 * write-protect them again (by dropping their translations), all under
 * mmu_lock so a write either lands in this snapshot or faults into the next.
 */
static int kvl_get_dirty_log(struct kvl_vm *vm, struct kvm_dirty_log *log)
{
	u16 as_id = log->slot >> 16, id = (u16)log->slot;
	struct kvl_memslot *s;
	unsigned long *snap, bytes, i;
	bool any = false;
	int r = 0;

	if (as_id >= KVL_ADDRESS_SPACES || id >= KVL_USER_MEM_SLOTS)
		return -EINVAL;
	mutex_lock(&vm->lock);
	s = &vm->slots[id];
	if (!s->used || !s->dirty_bitmap) {
		mutex_unlock(&vm->lock);
		return -ENOENT;
	}
	bytes = kvl_dirty_bitmap_bytes(s);
	snap = kvzalloc(bytes, GFP_KERNEL_ACCOUNT);
	if (!snap) {
		mutex_unlock(&vm->lock);
		return -ENOMEM;
	}
	spin_lock(&vm->mmu_lock);
	for (i = 0; i < bytes / sizeof(long); i++) {
		unsigned long bits = xchg(&s->dirty_bitmap[i], 0), b;

		snap[i] = bits;	/* x86: the _le bit order is the native one */
		for_each_set_bit(b, &bits, BITS_PER_LONG) {
			u64 gpa = (s->base_gfn + i * BITS_PER_LONG + b) << PAGE_SHIFT;

			kvl_ops->zap_gpa(vm, gpa, gpa + PAGE_SIZE);
			any = true;
		}
	}
	if (any)
		kvl_kick_all(vm, KVL_REQ_TLB_FLUSH);
	spin_unlock(&vm->mmu_lock);
	mutex_unlock(&vm->lock);

	if (copy_to_user(u64_to_user_ptr((u64)(unsigned long)log->dirty_bitmap), snap, bytes))
		r = -EFAULT;
	kvfree(snap);
	return r;
}

static void kvl_vm_free(struct kvl_vm *vm)
{
	int i;

	for (i = 0; i < vm->nr_vcpus; i++)
		kvl_vcpu_free(vm->vcpus[i]);
	kvl_irq_vm_destroy(vm);
	kvl_io_bus_destroy(vm);
	for (i = 0; i < KVL_USER_MEM_SLOTS; i++)
		kvfree(vm->slots[i].dirty_bitmap);
	mmu_notifier_unregister(&vm->mn, vm->mm);
	kvl_ops->vm_destroy(vm);
	mmdrop(vm->mm);
	free_cpumask_var(vm->kick_mask);
	kvfree(vm);
	kvl_hw_put();
}

void kvl_vm_put(struct kvl_vm *vm)
{
	if (refcount_dec_and_test(&vm->refs))
		kvl_vm_free(vm);
}

static int kvl_vm_release(struct inode *inode, struct file *filp)
{
	kvl_vm_put(filp->private_data);
	return 0;
}

static long kvl_vm_ioctl(struct file *filp, unsigned int ioctl, unsigned long arg)
{
	struct kvl_vm *vm = filp->private_data;
	void __user *argp = (void __user *)arg;
	long r;

	if (vm->mm != current->mm)
		return -EIO;

	switch (ioctl) {
	case KVM_CREATE_VCPU:
		return kvl_create_vcpu(vm, arg);
	case KVM_SET_USER_MEMORY_REGION: {
		struct kvm_userspace_memory_region mem;

		if (copy_from_user(&mem, argp, sizeof(mem)))
			return -EFAULT;
		mutex_lock(&vm->lock);
		r = kvl_set_memory_region(vm, &mem);
		mutex_unlock(&vm->lock);
		return r;
	}
	case KVM_CHECK_EXTENSION:
		return kvl_check_extension(vm, arg);
	case KVM_SET_TSS_ADDR:
		/* Only VMX without unrestricted guest needs it; accepted as KVM does. */
		return arg > 0xffffffffUL - 3 * PAGE_SIZE ? -EINVAL : 0;
	case KVM_SET_IDENTITY_MAP_ADDR:
		return copy_from_user(&r, argp, sizeof(u64)) ? -EFAULT : 0;
	case KVM_GET_DIRTY_LOG: {
		struct kvm_dirty_log log;

		if (copy_from_user(&log, argp, sizeof(log)))
			return -EFAULT;
		return kvl_get_dirty_log(vm, &log);
	}
	case KVM_CREATE_IRQCHIP:
	case KVM_IRQ_LINE:
	case KVM_IRQ_LINE_STATUS:
	case KVM_GET_IRQCHIP:
	case KVM_SET_IRQCHIP:
	case KVM_CREATE_PIT2:
	case KVM_GET_PIT2:
	case KVM_SET_PIT2:
		return kvl_irq_vm_ioctl(vm, ioctl, argp);
	case KVM_SIGNAL_MSI:
		return kvl_signal_msi(vm, argp);
	case KVM_SET_GSI_ROUTING:
		return kvl_irq_vm_ioctl(vm, ioctl, argp);
	case KVM_IRQFD:
	case KVM_IOEVENTFD:
		return kvl_eventfd_vm_ioctl(vm, ioctl, argp);
	case KVM_SET_NR_MMU_PAGES:
		/* Nested page tables have no shadow-page budget: kept, as a hint. */
		if (arg < 64)
			return -EINVAL;	/* KVM_MIN_ALLOC_MMU_PAGES */
		WRITE_ONCE(vm->nr_mmu_pages, arg);
		return 0;
	case KVM_GET_NR_MMU_PAGES:
		return READ_ONCE(vm->nr_mmu_pages) ?: 1024;
	case KVM_GET_CLOCK:
		return kvl_vm_get_clock(vm, argp);
	case KVM_SET_CLOCK:
		return kvl_vm_set_clock(vm, argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations kvl_vm_fops = {
	.owner		= THIS_MODULE,
	.release	= kvl_vm_release,
	.unlocked_ioctl	= kvl_vm_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

int kvl_create_vm(unsigned long type)
{
	struct kvl_vm *vm;
	int r, fd;

	if (type)
		return -EINVAL;

	r = kvl_hw_get();
	if (r)
		return r;

	vm = kvzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm) {
		r = -ENOMEM;
		goto err_hw;
	}
	if (!zalloc_cpumask_var(&vm->kick_mask, GFP_KERNEL_ACCOUNT)) {
		kvfree(vm);
		r = -ENOMEM;
		goto err_hw;
	}
	refcount_set(&vm->refs, 1);
	mutex_init(&vm->lock);
	mutex_init(&vm->io_lock);
	mutex_init(&vm->irq_lock);
	spin_lock_init(&vm->irqfd_lock);
	INIT_LIST_HEAD(&vm->irqfds);
	INIT_LIST_HEAD(&vm->ioeventfds);
	spin_lock_init(&vm->mmu_lock);
	vm->mm = current->mm;
	mmgrab(vm->mm);
	vm->kvmclock_offset = -ktime_get_boottime_ns();

	r = kvl_ops->vm_init(vm);
	if (r)
		goto err_free;

	vm->mn.ops = &kvl_mn_ops;
	r = mmu_notifier_register(&vm->mn, vm->mm);
	if (r)
		goto err_arch;

	fd = anon_inode_getfd("kvm-vm", &kvl_vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		kvl_vm_put(vm);
		return fd;
	}
	return fd;

err_arch:
	kvl_ops->vm_destroy(vm);
err_free:
	mmdrop(vm->mm);
	free_cpumask_var(vm->kick_mask);
	kvfree(vm);
err_hw:
	kvl_hw_put();
	return r;
}
