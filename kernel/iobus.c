// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: the in-kernel I/O bus.  Port I/O and MMIO that an in-kernel
 * device (PIC, PIT, IOAPIC, LAPIC, ioeventfd) claims is handled in the
 * vCPU's exit path; anything else goes to userspace as KVM_EXIT_IO or
 * KVM_EXIT_MMIO.
 *
 * The bus is a packed array, replaced as a whole under vm->io_lock and
 * read under RCU (as KVM's io_bus), so an exit scans only the devices
 * there are.  Device callbacks run in an RCU read-side section: they must
 * not sleep (the chips use spinlocks).  A VM with no device has no array
 * at all, and its exits skip the RCU section.
 */
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include "kvmlite.h"

struct kvl_io_bus {
	int nr;
	struct kvl_io_dev *devs[];
};

static bool kvl_io_overlap(const struct kvl_io_dev *a, const struct kvl_io_dev *b)
{
	/* ioeventfds share addresses (different datamatch or length). */
	if (a->mmio != b->mmio || (a->shared && b->shared))
		return false;
	return a->base < b->base + max(b->len, 1ULL) && b->base < a->base + max(a->len, 1ULL);
}

int kvl_io_register(struct kvl_vm *vm, struct kvl_io_dev *dev)
{
	struct kvl_io_bus *old, *bus;
	int i, n;

	if ((!dev->len && !dev->shared) || dev->base + dev->len < dev->base)
		return -EINVAL;
	mutex_lock(&vm->io_lock);
	old = rcu_dereference_protected(vm->io_bus, lockdep_is_held(&vm->io_lock));
	n = old ? old->nr : 0;
	for (i = 0; i < n; i++) {
		if (kvl_io_overlap(old->devs[i], dev)) {
			mutex_unlock(&vm->io_lock);
			return -EEXIST;
		}
	}
	if (n >= KVL_MAX_IO_DEVS) {
		mutex_unlock(&vm->io_lock);
		return -ENOSPC;
	}
	bus = kmalloc(struct_size(bus, devs, n + 1), GFP_KERNEL_ACCOUNT);
	if (!bus) {
		mutex_unlock(&vm->io_lock);
		return -ENOMEM;
	}
	bus->nr = n + 1;
	for (i = 0; i < n; i++)
		bus->devs[i] = old->devs[i];
	bus->devs[n] = dev;
	rcu_assign_pointer(vm->io_bus, bus);
	mutex_unlock(&vm->io_lock);
	/*
	 * Expedited, as KVM's bus changes: a VMM registers a dozen devices
	 * and ioeventfds while it sets a VM up, and a normal grace period
	 * waits for scheduler ticks (KVM_CREATE_IRQCHIP took 45 ms of an
	 * emulated host's time that way, against 0.1 ms now).
	 */
	synchronize_rcu_expedited();
	kfree(old);
	return 0;
}

/* After this returns no vCPU is inside @dev's callbacks. */
void kvl_io_unregister(struct kvl_vm *vm, struct kvl_io_dev *dev)
{
	struct kvl_io_bus *old, *bus;
	int i, j;

	mutex_lock(&vm->io_lock);
	old = rcu_dereference_protected(vm->io_bus, lockdep_is_held(&vm->io_lock));
	if (!old) {
		mutex_unlock(&vm->io_lock);
		return;
	}
	/* Never fails: the new array is no larger than the old one. */
	bus = kmalloc(struct_size(bus, devs, old->nr), GFP_KERNEL_ACCOUNT | __GFP_NOFAIL);
	for (i = 0, j = 0; i < old->nr; i++)
		if (old->devs[i] != dev)
			bus->devs[j++] = old->devs[i];
	bus->nr = j;
	if (!j) {
		kfree(bus);
		bus = NULL;
	}
	rcu_assign_pointer(vm->io_bus, bus);
	mutex_unlock(&vm->io_lock);
	synchronize_rcu_expedited();
	kfree(old);
}

void kvl_io_bus_destroy(struct kvl_vm *vm)
{
	kfree(rcu_access_pointer(vm->io_bus));
}

/* The scan behind kvl_io_read()/kvl_io_write() (kvmlite.h), once the bus has devices. */
int kvl_io_bus_access(struct kvl_vcpu *vcpu, bool mmio, u64 addr, unsigned int len,
		      void *val, bool write)
{
	struct kvl_io_bus *bus;
	int i, r = -ENODEV;

	rcu_read_lock();
	bus = rcu_dereference(vcpu->vm->io_bus);
	for (i = 0; bus && i < bus->nr; i++) {
		struct kvl_io_dev *d = bus->devs[i];

		if (d->mmio != mmio || addr < d->base ||
		    addr + len > d->base + max(d->len, (u64)len))
			continue;
		r = write ? d->ops->write(d, vcpu, addr, len, val)
			  : d->ops->read(d, vcpu, addr, len, val);
		/* -EOPNOTSUPP: not this device's access after all (an ioeventfd's datamatch). */
		if (r != -EOPNOTSUPP)
			break;
		r = -ENODEV;
	}
	rcu_read_unlock();
	return r;
}
