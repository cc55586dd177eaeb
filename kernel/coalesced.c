// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: coalesced MMIO and port I/O (KVM_REGISTER_COALESCED_MMIO).
 *
 * Userspace names zones whose writes need no answer (QEMU: the RTC's
 * index port, VGA memory); a guest write there is appended to a ring and
 * the vCPU goes on without an exit.  Userspace drains the ring whenever
 * KVM_RUN returns.  The ring is one page per VM, mapped by every vCPU fd
 * at KVM_COALESCED_MMIO_PAGE_OFFSET; reads and writes the ring has no room
 * for go to userspace as usual.  The layout and the answers are KVM's
 * (virt/kvm/coalesced_mmio.c).
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "kvmlite.h"

struct kvl_coalesced_zone {
	struct kvl_io_dev dev;
	struct kvm_coalesced_mmio_zone zone;
	struct list_head list;
	bool on_bus;
};

/* [@addr, @addr + @len) lies in the zone, as KVM's coalesced_mmio_in_range(). */
static bool zone_covers(const struct kvm_coalesced_mmio_zone *z, u64 addr, u64 len)
{
	return addr + len >= addr && addr >= z->addr && addr + len <= z->addr + z->size;
}

static int coalesced_write(struct kvl_io_dev *dev, struct kvl_vcpu *vcpu, u64 addr,
			   unsigned int len, const void *val)
{
	struct kvl_coalesced_zone *z = container_of(dev, struct kvl_coalesced_zone, dev);
	struct kvl_vm *vm = vcpu->vm;
	struct kvm_coalesced_mmio_ring *ring = vm->coalesced_ring;
	u32 insert;

	if (len > sizeof(ring->coalesced_mmio[0].data) || !zone_covers(&z->zone, addr, len))
		return -EOPNOTSUPP;
	spin_lock(&vm->coalesced_lock);
	/* Both indexes live in a page userspace writes: never trust them. */
	insert = READ_ONCE(ring->last);
	if (insert >= KVM_COALESCED_MMIO_MAX ||
	    (READ_ONCE(ring->first) - insert - 1) % KVM_COALESCED_MMIO_MAX == 0) {
		spin_unlock(&vm->coalesced_lock);
		return -EOPNOTSUPP;	/* full: an ordinary exit */
	}
	ring->coalesced_mmio[insert].phys_addr = addr;
	ring->coalesced_mmio[insert].len = len;
	ring->coalesced_mmio[insert].pio = z->zone.pio;
	memcpy(ring->coalesced_mmio[insert].data, val, len);
	/* The entry before the index that publishes it, as KVM. */
	smp_wmb();
	WRITE_ONCE(ring->last, (insert + 1) % KVM_COALESCED_MMIO_MAX);
	spin_unlock(&vm->coalesced_lock);
	return 0;
}

static int coalesced_read(struct kvl_io_dev *dev, struct kvl_vcpu *vcpu, u64 addr,
			  unsigned int len, void *val)
{
	return -EOPNOTSUPP;	/* reads are userspace's */
}

static const struct kvl_io_ops coalesced_ops = {
	.read = coalesced_read,
	.write = coalesced_write,
};

/* KVM_REGISTER_COALESCED_MMIO */
static int kvl_coalesced_register(struct kvl_vm *vm, const struct kvm_coalesced_mmio_zone *zone)
{
	struct kvl_coalesced_zone *z;
	int r;

	if (zone->pio > 1)
		return -EINVAL;
	z = kzalloc(sizeof(*z), GFP_KERNEL_ACCOUNT);
	if (!z)
		return -ENOMEM;
	z->zone = *zone;
	z->dev.ops = &coalesced_ops;
	z->dev.base = zone->addr;
	z->dev.len = zone->size;
	z->dev.mmio = !zone->pio;
	/* Zones may overlap each other and ioeventfds, as on KVM's buses. */
	z->dev.shared = true;
	mutex_lock(&vm->coalesced_mutex);
	/* An empty zone takes no access (KVM's never matches either). */
	if (zone->size) {
		r = kvl_io_register(vm, &z->dev);
		if (r) {
			mutex_unlock(&vm->coalesced_mutex);
			kfree(z);
			return r;
		}
		z->on_bus = true;
	}
	list_add_tail(&z->list, &vm->coalesced_zones);
	mutex_unlock(&vm->coalesced_mutex);
	return 0;
}

/* KVM_UNREGISTER_COALESCED_MMIO: every zone of that kind holding the range. */
static int kvl_coalesced_unregister(struct kvl_vm *vm, const struct kvm_coalesced_mmio_zone *zone)
{
	struct kvl_coalesced_zone *z, *tmp;

	if (zone->pio > 1)
		return -EINVAL;
	mutex_lock(&vm->coalesced_mutex);
	list_for_each_entry_safe(z, tmp, &vm->coalesced_zones, list) {
		if (z->zone.pio != zone->pio || !zone_covers(&z->zone, zone->addr, zone->size))
			continue;
		if (z->on_bus)
			kvl_io_unregister(vm, &z->dev);	/* waits for readers (RCU) */
		list_del(&z->list);
		kfree(z);
	}
	mutex_unlock(&vm->coalesced_mutex);
	return 0;	/* as KVM, also when nothing matched */
}

long kvl_coalesced_ioctl(struct kvl_vm *vm, unsigned int ioctl, void __user *argp)
{
	struct kvm_coalesced_mmio_zone zone;

	if (copy_from_user(&zone, argp, sizeof(zone)))
		return -EFAULT;
	if (ioctl == KVM_REGISTER_COALESCED_MMIO)
		return kvl_coalesced_register(vm, &zone);
	return kvl_coalesced_unregister(vm, &zone);
}

int kvl_coalesced_vm_init(struct kvl_vm *vm)
{
	vm->coalesced_ring = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vm->coalesced_ring)
		return -ENOMEM;
	spin_lock_init(&vm->coalesced_lock);
	mutex_init(&vm->coalesced_mutex);
	INIT_LIST_HEAD(&vm->coalesced_zones);
	return 0;
}

/* VM teardown: no vCPU runs, the bus goes with the VM. */
void kvl_coalesced_vm_destroy(struct kvl_vm *vm)
{
	struct kvl_coalesced_zone *z, *tmp;

	list_for_each_entry_safe(z, tmp, &vm->coalesced_zones, list) {
		list_del(&z->list);
		kfree(z);
	}
	free_page((unsigned long)vm->coalesced_ring);
}
