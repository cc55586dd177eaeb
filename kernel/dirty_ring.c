// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: the dirty ring (KVM_CAP_DIRTY_LOG_RING).
 *
 * Each vCPU owns a ring of struct kvm_dirty_gfn that userspace maps from the
 * vCPU fd at page KVM_DIRTY_LOG_PAGE_OFFSET.  The vCPU pushes one entry when
 * a guest write dirties a page of a logging slot (the page is then mapped
 * writable until the entry is reset); userspace marks the entries it
 * collected with KVM_DIRTY_GFN_F_RESET and KVM_RESET_DIRTY_RINGS takes them
 * back, write-protecting their pages again.
 *
 * dirty_index is written only by the vCPU's thread (under mmu_lock),
 * reset_index only by KVM_RESET_DIRTY_RINGS (under vm->lock).  Userspace can
 * write anything into the shared entries at any time: the slot and offset of
 * every entry taken back are checked before use, and a flag set on an entry
 * the vCPU has not pushed yet is ignored.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include "kvmlite.h"

struct kvl_dirty_ring {
	u32 dirty_index;		/* next entry the vCPU fills (free running) */
	u32 reset_index;		/* next entry to take back (free running) */
	u32 size;			/* entries, a power of two */
	u32 soft_limit;			/* used entries that make the vCPU exit */
	struct kvm_dirty_gfn *gfns;	/* size entries, shared with userspace */
};

/* KVM_ENABLE_CAP(KVM_CAP_DIRTY_LOG_RING): @size is the ring size in bytes. */
int kvl_dirty_ring_enable(struct kvl_vm *vm, u32 size)
{
	int r = 0;

	if (!is_power_of_2(size))
		return -EINVAL;
	if (size < KVL_DIRTY_RING_RSVD_ENTRIES * sizeof(struct kvm_dirty_gfn) ||
	    size < PAGE_SIZE)
		return -EINVAL;
	if (size > KVL_DIRTY_RING_MAX_BYTES)
		return -E2BIG;

	mutex_lock(&vm->lock);
	/* Once only, and before the first vCPU: each vCPU gets its ring at creation. */
	if (vm->dirty_ring_size || vm->nr_vcpus)
		r = -EINVAL;
	else
		vm->dirty_ring_size = size;
	mutex_unlock(&vm->lock);
	return r;
}

/* At vCPU creation, under vm->lock: the ring the VM asked for, if any. */
int kvl_dirty_ring_alloc(struct kvl_vcpu *vcpu)
{
	u32 size = vcpu->vm->dirty_ring_size;
	struct kvl_dirty_ring *ring;

	lockdep_assert_held(&vcpu->vm->lock);
	if (!size)
		return 0;
	ring = kzalloc(sizeof(*ring), GFP_KERNEL_ACCOUNT);
	if (!ring)
		return -ENOMEM;
	ring->gfns = __vmalloc(size, GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!ring->gfns) {
		kfree(ring);
		return -ENOMEM;
	}
	ring->size = size / sizeof(struct kvm_dirty_gfn);
	ring->soft_limit = ring->size - KVL_DIRTY_RING_RSVD_ENTRIES;
	vcpu->dirty_ring = ring;
	return 0;
}

void kvl_dirty_ring_free(struct kvl_vcpu *vcpu)
{
	struct kvl_dirty_ring *ring = vcpu->dirty_ring;

	if (!ring)
		return;
	vfree(ring->gfns);
	kfree(ring);
	vcpu->dirty_ring = NULL;
}

static u32 kvl_dirty_ring_used(const struct kvl_dirty_ring *ring)
{
	return READ_ONCE(ring->dirty_index) - READ_ONCE(ring->reset_index);
}

/* Must the vCPU stay out of the guest until userspace resets its ring? */
bool kvl_dirty_ring_soft_full(struct kvl_vcpu *vcpu)
{
	struct kvl_dirty_ring *ring = vcpu->dirty_ring;

	return ring && kvl_dirty_ring_used(ring) >= ring->soft_limit;
}

/*
 * Log a dirtied page: @slot is as_id << 16 | slot id, @offset the page in
 * the slot.  From the vCPU's thread, under mmu_lock.  The vCPU exits at the
 * soft limit, so the reserve above it is never used up by guest writes; an
 * entry that finds the ring full anyway (host-side writes through vCPU
 * ioctls of a VMM that never resets) is dropped rather than overwrite one
 * userspace has not collected.
 */
void kvl_dirty_ring_push(struct kvl_vcpu *vcpu, u32 slot, u64 offset)
{
	struct kvl_dirty_ring *ring = vcpu->dirty_ring;
	struct kvm_dirty_gfn *e;

	lockdep_assert_held(&vcpu->vm->mmu_lock);
	if (!ring || kvl_dirty_ring_used(ring) >= ring->size)
		return;
	e = &ring->gfns[ring->dirty_index & (ring->size - 1)];
	WRITE_ONCE(e->slot, slot);
	WRITE_ONCE(e->offset, offset);
	/* The entry is complete before userspace can see it flagged dirty. */
	smp_store_release(&e->flags, KVM_DIRTY_GFN_F_DIRTY);
	WRITE_ONCE(ring->dirty_index, ring->dirty_index + 1);
}

/*
 * Write-protect pages @offset + set bits of @mask of slot @slot again, if
 * userspace's slot and offset name pages of a slot.  Under vm->lock.
 */
static bool kvl_dirty_ring_protect(struct kvl_vm *vm, u32 slot, u64 offset, unsigned long mask)
{
	u16 as_id = slot >> 16, id = (u16)slot;
	struct kvl_memslot *s;

	if (!mask || as_id >= KVL_ADDRESS_SPACES || id >= KVL_USER_MEM_SLOTS)
		return false;
	s = xa_load(&vm->slot_array, id);
	if (!s || !s->used || offset >= s->npages || s->npages - offset <= __fls(mask))
		return false;
	spin_lock(&vm->mmu_lock);
	kvl_dirty_protect_locked(vm, s, offset, mask);
	spin_unlock(&vm->mmu_lock);
	return true;
}

/* Take back the collected entries of one ring; returns how many. */
static u32 kvl_dirty_ring_reset(struct kvl_vm *vm, struct kvl_dirty_ring *ring, bool *flush)
{
	u32 count = 0, cur_slot = 0;
	u64 cur_offset = 0;
	unsigned long mask = 0;

	if (!ring)
		return 0;
	while (ring->reset_index != READ_ONCE(ring->dirty_index)) {
		struct kvm_dirty_gfn *e = &ring->gfns[ring->reset_index & (ring->size - 1)];
		u32 slot;
		u64 offset;

		/* Userspace's collection, and what it wrote before, are seen in order. */
		if (!(smp_load_acquire(&e->flags) & KVM_DIRTY_GFN_F_RESET))
			break;
		slot = READ_ONCE(e->slot);
		offset = READ_ONCE(e->offset);
		WRITE_ONCE(e->flags, 0);
		/* The entry is free for the vCPU once reset_index passes it. */
		smp_store_release(&ring->reset_index, ring->reset_index + 1);
		count++;

		/* Neighbouring pages of one slot are protected in one go. */
		if (mask && slot == cur_slot && offset >= cur_offset &&
		    offset - cur_offset < BITS_PER_LONG) {
			mask |= BIT(offset - cur_offset);
			continue;
		}
		*flush |= kvl_dirty_ring_protect(vm, cur_slot, cur_offset, mask);
		cur_slot = slot;
		cur_offset = offset;
		mask = 1;
		cond_resched();
	}
	*flush |= kvl_dirty_ring_protect(vm, cur_slot, cur_offset, mask);
	return count;
}

/* KVM_RESET_DIRTY_RINGS: the number of entries taken back, or -errno. */
int kvl_dirty_ring_reset_all(struct kvl_vm *vm)
{
	bool flush = false;
	int i, count = 0;

	mutex_lock(&vm->lock);
	if (!vm->dirty_ring_size) {
		mutex_unlock(&vm->lock);
		return -EINVAL;
	}
	for (i = 0; i < vm->nr_vcpus; i++)
		count += kvl_dirty_ring_reset(vm, kvl_get_vcpu(vm, i)->dirty_ring, &flush);
	if (flush) {
		spin_lock(&vm->mmu_lock);
		kvl_kick_all(vm, KVL_REQ_TLB_FLUSH);
		spin_unlock(&vm->mmu_lock);
	}
	mutex_unlock(&vm->lock);
	return count;
}

static bool kvl_dirty_ring_pgoff(struct kvl_vcpu *vcpu, unsigned long pgoff)
{
	struct kvl_dirty_ring *ring = vcpu->dirty_ring;

	return ring && pgoff >= KVM_DIRTY_LOG_PAGE_OFFSET &&
	       pgoff - KVM_DIRTY_LOG_PAGE_OFFSET <
	       ring->size * sizeof(struct kvm_dirty_gfn) / PAGE_SIZE;
}

/* The ring's page at vCPU mmap page offset @pgoff, or NULL if it is not one. */
struct page *kvl_dirty_ring_page(struct kvl_vcpu *vcpu, unsigned long pgoff)
{
	if (!kvl_dirty_ring_pgoff(vcpu, pgoff))
		return NULL;
	return vmalloc_to_page((char *)vcpu->dirty_ring->gfns +
			       (pgoff - KVM_DIRTY_LOG_PAGE_OFFSET) * PAGE_SIZE);
}

/* As KVM: ring pages are mapped shared and not executable. */
int kvl_dirty_ring_mmap_check(struct kvl_vcpu *vcpu, struct vm_area_struct *vma)
{
	if ((kvl_dirty_ring_pgoff(vcpu, vma->vm_pgoff) ||
	     kvl_dirty_ring_pgoff(vcpu, vma->vm_pgoff + vma_pages(vma) - 1)) &&
	    ((vma->vm_flags & VM_EXEC) || !(vma->vm_flags & VM_SHARED)))
		return -EINVAL;
	return 0;
}
