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
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/ktime.h>
#include <linux/timekeeping.h>
#include "kvmlite.h"

#define KVL_MANUAL_DIRTY_LOG_CAPS \
	(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET)
/*
 * KVM x86's slot id limit: the dirty log ioctls call ids below it that
 * kvmlite cannot have absent (-ENOENT), as KVM answers for unused ids.
 */

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
	case KVM_CAP_GET_TSC_KHZ:
	case KVM_CAP_ENABLE_CAP_VM:
	case KVM_CAP_USER_NMI:		/* KVM_NMI (vcpu.c) */
	/*
	 * KVM_SET_VAPIC_ADDR, KVM_TPR_ACCESS_REPORTING (lapic.c): KVM offers
	 * them while TPR accesses are not accelerated, as here on both vendors.
	 */
	case KVM_CAP_VAPIC:
	case KVM_CAP_SPLIT_IRQCHIP:	/* irq.c: kvl_split_irqchip() */
	case KVM_CAP_COALESCED_PIO:	/* coalesced.c */
		return 1;
	case KVM_CAP_COALESCED_MMIO:	/* where the ring is in the vCPU mmap */
		return KVM_COALESCED_MMIO_PAGE_OFFSET;
	case KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2:
		return KVL_MANUAL_DIRTY_LOG_CAPS;
	case KVM_CAP_DIRTY_LOG_RING:
		return KVL_DIRTY_RING_MAX_BYTES;
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
		/* As KVM: the recommended figure, one vCPU per host CPU. */
		return min_t(unsigned int, num_online_cpus(), KVL_MAX_VCPUS);
	case KVM_CAP_MAX_VCPUS:
		return KVL_MAX_VCPUS;
	case KVM_CAP_MAX_VCPU_ID:
		return KVL_MAX_VCPU_ID;
	case KVM_CAP_NR_MEMSLOTS:
		return KVL_USER_MEM_SLOTS;
	case KVM_CAP_MCE:		/* KVM_X86_SETUP_MCE's bank limit */
		return KVL_MCE_BANKS;
	default:
		return 0;
	}
}

/* The slot holding @gfn, or NULL.  Under vm->lock or mmu_lock. */
struct kvl_memslot *kvl_gfn_to_slot(struct kvl_vm *vm, u64 gfn)
{
	unsigned int lo = 0, hi = vm->nr_slots;

	/* Slots never overlap: the last one starting at or below gfn decides. */
	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		struct kvl_memslot *s = vm->slot_order[mid];

		if (gfn < s->base_gfn) {
			hi = mid;
			continue;
		}
		if (gfn - s->base_gfn < s->npages)
			return s;
		lo = mid + 1;
	}
	return NULL;
}

/* Make room in slot_order for one more slot.  Under lock. */
static int kvl_slot_order_grow(struct kvl_vm *vm)
{
	unsigned int cap = min_t(unsigned int, max(16U, vm->slot_order_cap * 2),
				 KVL_USER_MEM_SLOTS);
	struct kvl_memslot **n, **old;

	if (vm->nr_slots < vm->slot_order_cap)
		return 0;
	n = kvcalloc(cap, sizeof(*n), GFP_KERNEL_ACCOUNT);
	if (!n)
		return -ENOMEM;
	spin_lock(&vm->mmu_lock);
	if (vm->nr_slots)
		memcpy(n, vm->slot_order, vm->nr_slots * sizeof(*n));
	old = vm->slot_order;
	vm->slot_order = n;
	vm->slot_order_cap = cap;
	spin_unlock(&vm->mmu_lock);
	kvfree(old);
	return 0;
}

/* Move @s to its place in slot_order (out of it if unused).  Under both locks. */
static void kvl_slot_order_update(struct kvl_vm *vm, struct kvl_memslot *s)
{
	struct kvl_memslot **o = vm->slot_order;
	unsigned int i, n = vm->nr_slots;

	for (i = 0; i < n; i++) {
		if (o[i] == s) {
			memmove(&o[i], &o[i + 1], (n - i - 1) * sizeof(*o));
			n--;
			break;
		}
	}
	if (s->used) {
		for (i = n; i > 0 && o[i - 1]->base_gfn > s->base_gfn; i--)
			o[i] = o[i - 1];
		o[i] = s;
		n++;
	}
	vm->nr_slots = n;
	/* Lockless caches of slot lookups (mmio.c) check this. */
	WRITE_ONCE(vm->slots_gen, vm->slots_gen + 1);
}

/* Zap every nested translation of host virtual [start, end). Under mmu_lock. */
static void kvl_zap_hva_locked(struct kvl_vm *vm, unsigned long start, unsigned long end)
{
	bool zapped = false;
	unsigned int i;

	for (i = 0; i < vm->nr_slots; i++) {
		struct kvl_memslot *s = vm->slot_order[i];
		unsigned long s_start, s_end;

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

/*
 * Log a write to @gfn if its slot logs dirty pages: in the slot's bitmap,
 * or with dirty rings in the ring of @vcpu, the vCPU that wrote (KVM drops
 * a ring write without one too).  Under mmu_lock.
 */
void kvl_mark_dirty_locked(struct kvl_vm *vm, struct kvl_vcpu *vcpu, u64 gfn)
{
	struct kvl_memslot *s = kvl_gfn_to_slot(vm, gfn);

	if (!s || !(s->flags & KVM_MEM_LOG_DIRTY_PAGES))
		return;
	if (vm->dirty_ring_size) {
		if (vcpu)
			kvl_dirty_ring_push(vcpu, s->id, gfn - s->base_gfn);
	} else if (s->dirty_bitmap) {
		set_bit_le(gfn - s->base_gfn, s->dirty_bitmap);
	}
}

void kvl_vcpu_mark_dirty(struct kvl_vcpu *vcpu, u64 gfn)
{
	spin_lock(&vcpu->vm->mmu_lock);
	kvl_mark_dirty_locked(vcpu->vm, vcpu, gfn);
	spin_unlock(&vcpu->vm->mmu_lock);
}

/*
 * Write-protect again the pages @offset + each set bit of @mask of slot
 * @s (by dropping their translations: the next write faults and is logged).
 * Under mmu_lock; the caller flushes the TLBs.
 */
void kvl_dirty_protect_locked(struct kvl_vm *vm, struct kvl_memslot *s, u64 offset,
			      unsigned long mask)
{
	u64 base = (s->base_gfn + offset) << PAGE_SHIFT;

	lockdep_assert_held(&vm->mmu_lock);
	/* One zap for each run of set bits. */
	while (mask) {
		unsigned long first = __ffs(mask), rest = ~(mask >> first);
		unsigned long len = rest ? __ffs(rest) : BITS_PER_LONG;

		kvl_ops->zap_gpa(vm, base + (first << PAGE_SHIFT),
				 base + ((first + len) << PAGE_SHIFT));
		mask &= ~GENMASK(first + len - 1, first);
	}
}

/*
 * Copy guest-physical memory from or to the memslots, for the kernel's own
 * accesses (kvmclock): in the VM's mm, from process context.  -EFAULT if a
 * byte is outside every slot (or in a read-only one, for writes).
 */
static int kvl_guest_rw(struct kvl_vm *vm, struct kvl_vcpu *vcpu, u64 gpa, void *data,
			unsigned long len, bool write)
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
			kvl_mark_dirty_locked(vm, vcpu, gpa >> PAGE_SHIFT);
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
	return kvl_guest_rw(vm, NULL, gpa, data, len, false);
}

int kvl_write_guest(struct kvl_vm *vm, u64 gpa, const void *data, unsigned long len)
{
	return kvl_guest_rw(vm, NULL, gpa, (void *)data, len, true);
}

/* A write on behalf of @vcpu: logged in its dirty ring when rings are on. */
int kvl_vcpu_write_guest(struct kvl_vcpu *vcpu, u64 gpa, const void *data, unsigned long len)
{
	return kvl_guest_rw(vcpu->vm, vcpu, gpa, (void *)data, len, true);
}

#define KVL_2M_PAGES	(SZ_2M >> PAGE_SHIFT)

/*
 * May the 2 MiB-aligned guest range around @gfn be one 2 MiB mapping?  It
 * must lie in @slot, at host addresses with the same offset in 2 MiB, in a
 * slot that does not log dirty pages (those are mapped 4 KiB by 4 KiB, as
 * in KVM).  Under vm->lock.
 */
static bool kvl_slot_2m_ok(const struct kvl_memslot *slot, u64 gfn)
{
	u64 first = ALIGN_DOWN(gfn, KVL_2M_PAGES);

	return kvl_ops->map_gpa_2m && !(slot->flags & KVM_MEM_LOG_DIRTY_PAGES) &&
	       !((slot->userspace_addr - (slot->base_gfn << PAGE_SHIFT)) & (SZ_2M - 1)) &&
	       first >= slot->base_gfn &&
	       first + KVL_2M_PAGES <= slot->base_gfn + slot->npages;
}

/*
 * Does the VM's mm map @hva with a 2 MiB or larger leaf (THP, hugetlbfs),
 * writable if @writable, whose 2 MiB around @hva starts at frame @pfn2m?
 * Under mmu_lock with no invalidation in flight,
 * so nothing that splits or frees these tables has started (each notifies
 * first); IRQs off on top, as GUP-fast, for tables freed through RCU.
 */
static bool kvl_host_2m(struct mm_struct *mm, unsigned long hva, bool writable,
			unsigned long pfn2m)
{
	unsigned long flags;
	bool huge = false;
	pgd_t *pgdp;
	p4d_t *p4dp;
	pud_t *pudp, pud;
	pmd_t pmd;

	local_irq_save(flags);
	pgdp = pgd_offset(mm, hva);
	if (!pgd_present(READ_ONCE(*pgdp)))
		goto out;
	p4dp = p4d_offset(pgdp, hva);
	if (!p4d_present(READ_ONCE(*p4dp)))
		goto out;
	pudp = pud_offset(p4dp, hva);
	pud = READ_ONCE(*pudp);
	if (!pud_present(pud))
		goto out;
	if (pud_leaf(pud)) {
		huge = (!writable || pud_write(pud)) &&
		       pud_pfn(pud) + (((hva & ~PUD_MASK) >> PAGE_SHIFT) & ~(KVL_2M_PAGES - 1)) ==
		       pfn2m;
		goto out;
	}
	pmd = READ_ONCE(*pmd_offset(pudp, hva));
	if (pmd_present(pmd) && pmd_leaf(pmd))
		huge = (!writable || pmd_write(pmd)) && pmd_pfn(pmd) == pfn2m;
out:
	local_irq_restore(flags);
	return huge;
}

/*
 * Resolve a nested page fault at @gpa: 0 when mapped (re-enter), 1 when no
 * memslot backs it (an MMIO access), -EFAULT when the slot's memory is gone.
 * Where the host backs the whole 2 MiB range with one 2 MiB page and the
 * slot allows it, the range is mapped at once with a 2 MiB page.
 */
int kvl_handle_gpa_fault(struct kvl_vcpu *vcpu, u64 gpa, bool write)
{
	struct kvl_vm *vm = vcpu->vm;
	struct kvl_memslot *slot;
	unsigned long hva, seq;
	struct page *page;
	bool writable, logged, try_2m;
	unsigned long pfn;
	long n;
	int r;

	/* MMIO the emulator's gfn cache already knows: no lookup under the lock. */
	if (kvl_emu_known_mmio(vcpu, gpa, write))
		return 1;
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
	logged = (slot->flags & KVM_MEM_LOG_DIRTY_PAGES) && writable;
	try_2m = kvl_slot_2m_ok(slot, gpa >> PAGE_SHIFT);
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
	pfn = page_to_pfn(page);
	r = -EEXIST;
	/* The 2 MiB host page is physically aligned as the guest range is. */
	if (try_2m && (pfn & (KVL_2M_PAGES - 1)) == ((hva >> PAGE_SHIFT) & (KVL_2M_PAGES - 1)) &&
	    kvl_host_2m(vm->mm, hva, writable, pfn & ~(KVL_2M_PAGES - 1)))
		r = kvl_ops->map_gpa_2m(vm, gpa & ~(u64)(SZ_2M - 1),
					pfn & ~(KVL_2M_PAGES - 1), writable);
	if (r == -EEXIST)
		r = kvl_ops->map_gpa(vm, gpa & PAGE_MASK, pfn, writable);
	if (!r && writable)
		kvl_mark_dirty_locked(vm, vcpu, gpa >> PAGE_SHIFT);
	spin_unlock(&vm->mmu_lock);
	put_page(page);
	return r;
}

/*
 * The last gfn a slot may hold, as KVM's kvm_mmu_max_gfn() with TDP: the
 * host's MAXPHYADDR from CPUID 0x80000008 (not x86_phys_bits, which SME
 * and MKTME reduce), whatever the guest's CPUID says.
 */
static u64 kvl_max_gfn(void)
{
	u8 bits = boot_cpu_data.x86_phys_bits;

	if (boot_cpu_data.extended_cpuid_level >= 0x80000008)
		bits = cpuid_eax(0x80000008) & 0xff;
	return BIT_ULL(bits - PAGE_SHIFT) - 1;
}

static int kvl_set_memory_region(struct kvl_vm *vm,
				 const struct kvm_userspace_memory_region *mem)
{
	struct kvl_memslot *slot, new = {};
	u16 as_id = mem->slot >> 16, id = (u16)mem->slot;
	unsigned long *old_bitmap = NULL;
	unsigned int i;

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

	slot = xa_load(&vm->slot_array, id);
	if (mem->memory_size) {
		new.used = true;
		new.id = id;
		new.base_gfn = mem->guest_phys_addr >> PAGE_SHIFT;
		new.npages = mem->memory_size >> PAGE_SHIFT;
		new.userspace_addr = mem->userspace_addr;
		new.flags = mem->flags;
		if (slot && slot->used) {
			/* Only moves and flag changes are allowed on a live slot. */
			if (new.npages != slot->npages ||
			    new.userspace_addr != slot->userspace_addr ||
			    ((new.flags ^ slot->flags) & KVM_MEM_READONLY))
				return -EINVAL;
		}
		for (i = 0; i < vm->nr_slots; i++) {
			struct kvl_memslot *o = vm->slot_order[i];

			if (o == slot)
				continue;
			if (new.base_gfn < o->base_gfn + o->npages &&
			    o->base_gfn < new.base_gfn + new.npages)
				return -EEXIST;
		}
		/* After the overlap check, as KVM's kvm_arch_prepare_memory_region(). */
		if (new.base_gfn + new.npages - 1 > kvl_max_gfn())
			return -EINVAL;
	} else if (!slot || !slot->used) {
		return -EINVAL;	/* deleting what is not there, as KVM since 5.17 */
	}
	if (!slot) {
		slot = kzalloc(sizeof(*slot), GFP_KERNEL_ACCOUNT);
		if (!slot)
			return -ENOMEM;
		if (xa_err(xa_store(&vm->slot_array, id, slot, GFP_KERNEL_ACCOUNT))) {
			kfree(slot);
			return -ENOMEM;
		}
	}
	if (!slot->used && kvl_slot_order_grow(vm))
		return -ENOMEM;

	/*
	 * A logging slot keeps its bitmap across a move; a new one starts
	 * clean, or all dirty with KVM_DIRTY_LOG_INITIALLY_SET (its pages are
	 * then protected only as userspace clears them).  With dirty rings
	 * there are no bitmaps, as in KVM.
	 */
	if (new.flags & KVM_MEM_LOG_DIRTY_PAGES) {
		if (slot->used && slot->dirty_bitmap && new.npages == slot->npages) {
			new.dirty_bitmap = slot->dirty_bitmap;
		} else if (!vm->dirty_ring_size) {
			new.dirty_bitmap = kvzalloc(kvl_dirty_bitmap_bytes(&new),
						    GFP_KERNEL_ACCOUNT);
			if (!new.dirty_bitmap)
				return -ENOMEM;
			if (vm->manual_dirty_log_protect & KVM_DIRTY_LOG_INITIALLY_SET)
				bitmap_set(new.dirty_bitmap, 0, new.npages);
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
	kvl_slot_order_update(vm, slot);
	vm->mmu_seq++;
	spin_unlock(&vm->mmu_lock);
	kvfree(old_bitmap);
	return 0;
}

/*
 * KVM_GET_DIRTY_LOG: hand out the pages written since the last call and
 * write-protect them again (by dropping their translations), all under
 * mmu_lock so a write either lands in this snapshot or faults into the next.
 * With manual protection (KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) the bitmap is
 * only read: KVM_CLEAR_DIRTY_LOG clears and protects.
 */
static int kvl_get_dirty_log(struct kvl_vm *vm, struct kvm_dirty_log *log)
{
	u16 as_id = log->slot >> 16, id = (u16)log->slot;
	struct kvl_memslot *s;
	unsigned long *snap, bytes, i;
	bool any = false;
	int r = 0;

	mutex_lock(&vm->lock);
	/* Dirty rings and bitmaps exclude each other, as in KVM. */
	if (vm->dirty_ring_size) {
		r = -ENXIO;
		goto out_unlock;
	}
	if (as_id >= KVL_ADDRESS_SPACES || id >= KVL_USER_MEM_SLOTS) {
		r = -EINVAL;
		goto out_unlock;
	}
	s = xa_load(&vm->slot_array, id);
	if (!s || !s->used || !s->dirty_bitmap) {
		r = -ENOENT;
		goto out_unlock;
	}
	bytes = kvl_dirty_bitmap_bytes(s);
	snap = kvzalloc(bytes, GFP_KERNEL_ACCOUNT);
	if (!snap) {
		r = -ENOMEM;
		goto out_unlock;
	}
	spin_lock(&vm->mmu_lock);
	for (i = 0; i < bytes / sizeof(long); i++) {
		/* x86: the _le bit order is the native one */
		if (vm->manual_dirty_log_protect) {
			snap[i] = READ_ONCE(s->dirty_bitmap[i]);
			continue;
		}
		if (!READ_ONCE(s->dirty_bitmap[i]))
			continue;
		snap[i] = xchg(&s->dirty_bitmap[i], 0);
		kvl_dirty_protect_locked(vm, s, i * BITS_PER_LONG, snap[i]);
		any = true;
	}
	if (any)
		kvl_kick_all(vm, KVL_REQ_TLB_FLUSH);
	spin_unlock(&vm->mmu_lock);
	mutex_unlock(&vm->lock);

	if (copy_to_user(u64_to_user_ptr((u64)(unsigned long)log->dirty_bitmap), snap, bytes))
		r = -EFAULT;
	kvfree(snap);
	return r;

out_unlock:
	mutex_unlock(&vm->lock);
	return r;
}

/*
 * KVM_CLEAR_DIRTY_LOG: clear the bits of @log's bitmap in the slot's log
 * and write-protect those pages again.  The range starts at a multiple of
 * 64 pages and spans a multiple of 64 unless it ends at the slot's end;
 * the checks come in KVM's order.
 */
static int kvl_clear_dirty_log(struct kvl_vm *vm, struct kvm_clear_dirty_log *log)
{
	u16 as_id = log->slot >> 16, id = (u16)log->slot;
	unsigned long *buf = NULL, bytes, i, words;
	struct kvl_memslot *s;
	bool any = false;
	int r = 0;

	mutex_lock(&vm->lock);
	if (vm->dirty_ring_size) {
		r = -ENXIO;
		goto out_unlock;
	}
	if (as_id >= KVL_ADDRESS_SPACES || id >= KVL_USER_MEM_SLOTS ||
	    (log->first_page & 63)) {
		r = -EINVAL;
		goto out_unlock;
	}
	s = xa_load(&vm->slot_array, id);
	if (!s || !s->used || !s->dirty_bitmap) {
		r = -ENOENT;
		goto out_unlock;
	}
	if (log->first_page > s->npages ||
	    log->num_pages > s->npages - log->first_page ||
	    (log->num_pages < s->npages - log->first_page && (log->num_pages & 63))) {
		r = -EINVAL;
		goto out_unlock;
	}
	words = DIV_ROUND_UP(log->num_pages, BITS_PER_LONG);
	bytes = words * sizeof(long);
	if (bytes) {
		buf = kvmalloc(bytes, GFP_KERNEL_ACCOUNT);
		if (!buf) {
			r = -ENOMEM;
			goto out_unlock;
		}
		if (copy_from_user(buf, u64_to_user_ptr((u64)(unsigned long)log->dirty_bitmap),
				   bytes)) {
			r = -EFAULT;
			goto out_free;
		}
	}

	spin_lock(&vm->mmu_lock);
	for (i = 0; i < words; i++) {
		unsigned long *p = &s->dirty_bitmap[log->first_page / BITS_PER_LONG + i];
		unsigned long mask = buf[i];

		if (!mask)
			continue;
		/* Only the pages whose bit this call really cleared. */
		mask &= atomic_long_fetch_andnot(mask, (atomic_long_t *)p);
		if (mask) {
			kvl_dirty_protect_locked(vm, s, log->first_page + i * BITS_PER_LONG, mask);
			any = true;
		}
	}
	if (any)
		kvl_kick_all(vm, KVL_REQ_TLB_FLUSH);
	spin_unlock(&vm->mmu_lock);
out_free:
	kvfree(buf);
out_unlock:
	mutex_unlock(&vm->lock);
	return r;
}

/* KVM_ENABLE_CAP on the VM; unknown caps are -EINVAL, as in KVM. */
static int kvl_vm_enable_cap(struct kvl_vm *vm, struct kvm_enable_cap *cap)
{
	u64 allowed;

	switch (cap->cap) {
	case KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2:
		/* INITIALLY_SET only together with MANUAL_PROTECT_ENABLE. */
		allowed = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
		if (cap->args[0] & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE)
			allowed = KVL_MANUAL_DIRTY_LOG_CAPS;
		if (cap->flags || (cap->args[0] & ~allowed))
			return -EINVAL;
		mutex_lock(&vm->lock);
		vm->manual_dirty_log_protect = cap->args[0];
		mutex_unlock(&vm->lock);
		return 0;
	case KVM_CAP_DIRTY_LOG_RING:
		/* KVM takes the size as a u32 too. */
		return kvl_dirty_ring_enable(vm, (u32)cap->args[0]);
	case KVM_CAP_SPLIT_IRQCHIP:
		return cap->flags ? -EINVAL : kvl_split_irqchip(vm, cap->args[0]);
	case KVM_CAP_MAX_VCPU_ID:
		/* As KVM: once, or the same value again; vCPUs fix the default. */
		if (cap->flags || cap->args[0] > KVL_MAX_VCPU_ID)
			return -EINVAL;
		mutex_lock(&vm->lock);
		if (!vm->max_vcpu_ids)
			vm->max_vcpu_ids = cap->args[0];
		allowed = vm->max_vcpu_ids == cap->args[0];
		mutex_unlock(&vm->lock);
		return allowed ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

static void kvl_vm_free(struct kvl_vm *vm)
{
	struct kvl_memslot *slot;
	unsigned long idx;
	int i;

	/*
	 * First, as KVM's kvm_destroy_vm(): with the mm still alive (the VM fd
	 * closed before exit) this calls ->release, whose zap kicks every vCPU,
	 * so they must all still be in vcpu_array.
	 */
	mmu_notifier_unregister(&vm->mn, vm->mm);
	for (i = 0; i < vm->nr_vcpus; i++)
		kvl_vcpu_free(kvl_get_vcpu(vm, i));
	xa_destroy(&vm->vcpu_array);
	kvl_irq_vm_destroy(vm);
	kvl_coalesced_vm_destroy(vm);
	kvl_io_bus_destroy(vm);
	xa_for_each(&vm->slot_array, idx, slot) {
		kvfree(slot->dirty_bitmap);
		kfree(slot);
	}
	xa_destroy(&vm->slot_array);
	kvfree(vm->slot_order);
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
	/* Manual dirty-log protection and dirty rings. */
	case KVM_CLEAR_DIRTY_LOG: {
		struct kvm_clear_dirty_log log;

		if (copy_from_user(&log, argp, sizeof(log)))
			return -EFAULT;
		return kvl_clear_dirty_log(vm, &log);
	}
	case KVM_RESET_DIRTY_RINGS:
		return kvl_dirty_ring_reset_all(vm);
	case KVM_ENABLE_CAP: {
		struct kvm_enable_cap cap;

		if (copy_from_user(&cap, argp, sizeof(cap)))
			return -EFAULT;
		return kvl_vm_enable_cap(vm, &cap);
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
	case KVM_REGISTER_COALESCED_MMIO:
	case KVM_UNREGISTER_COALESCED_MMIO:
		return kvl_coalesced_ioctl(vm, ioctl, argp);
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
	xa_init(&vm->vcpu_array);
	xa_init(&vm->slot_array);
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
	r = kvl_coalesced_vm_init(vm);
	if (r)
		goto err_free;

	r = kvl_ops->vm_init(vm);
	if (r)
		goto err_ring;

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
err_ring:
	free_page((unsigned long)vm->coalesced_ring);
err_free:
	mmdrop(vm->mm);
	free_cpumask_var(vm->kick_mask);
	kvfree(vm);
err_hw:
	kvl_hw_put();
	return r;
}
