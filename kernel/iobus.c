// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: the in-kernel I/O bus.  Port I/O and MMIO that an in-kernel
 * device (PIC, PIT, IOAPIC, LAPIC) claims is handled in the vCPU's exit
 * path; anything else goes to userspace as KVM_EXIT_IO/KVM_EXIT_MMIO.
 *
 * Devices come and go under vm->io_lock; lookups run under RCU, so device
 * callbacks must not sleep (the chips use spinlocks).
 */
#include <linux/rcupdate.h>
#include "kvmlite.h"

int kvl_io_register(struct kvl_vm *vm, struct kvl_io_dev *dev)
{
	int i, r = -ENOSPC;

	if ((!dev->len && !dev->shared) || dev->base + dev->len < dev->base)
		return -EINVAL;
	mutex_lock(&vm->io_lock);
	for (i = 0; i < KVL_MAX_IO_DEVS; i++) {
		struct kvl_io_dev *o = rcu_dereference_protected(vm->io_devs[i],
								 lockdep_is_held(&vm->io_lock));

		/* ioeventfds share addresses (different datamatch or length). */
		if (o && o->mmio == dev->mmio && !(o->shared && dev->shared) &&
		    dev->base < o->base + max(o->len, 1ULL) &&
		    o->base < dev->base + max(dev->len, 1ULL)) {
			r = -EEXIST;
			break;
		}
	}
	for (i = 0; r == -ENOSPC && i < KVL_MAX_IO_DEVS; i++) {
		if (!rcu_access_pointer(vm->io_devs[i])) {
			rcu_assign_pointer(vm->io_devs[i], dev);
			r = 0;
		}
	}
	mutex_unlock(&vm->io_lock);
	return r;
}

/* After this returns no vCPU is inside @dev's callbacks. */
void kvl_io_unregister(struct kvl_vm *vm, struct kvl_io_dev *dev)
{
	int i;

	mutex_lock(&vm->io_lock);
	for (i = 0; i < KVL_MAX_IO_DEVS; i++)
		if (rcu_access_pointer(vm->io_devs[i]) == dev)
			RCU_INIT_POINTER(vm->io_devs[i], NULL);
	mutex_unlock(&vm->io_lock);
	synchronize_rcu();
}

static int kvl_io_access(struct kvl_vcpu *vcpu, bool mmio, u64 addr, unsigned int len,
			 void *val, bool write)
{
	struct kvl_vm *vm = vcpu->vm;
	int i, r = -ENODEV;

	rcu_read_lock();
	for (i = 0; i < KVL_MAX_IO_DEVS; i++) {
		struct kvl_io_dev *d = rcu_dereference(vm->io_devs[i]);

		if (!d || d->mmio != mmio || addr < d->base ||
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

int kvl_io_read(struct kvl_vcpu *vcpu, bool mmio, u64 addr, unsigned int len, void *val)
{
	return kvl_io_access(vcpu, mmio, addr, len, val, false);
}

int kvl_io_write(struct kvl_vcpu *vcpu, bool mmio, u64 addr, unsigned int len, const void *val)
{
	return kvl_io_access(vcpu, mmio, addr, len, (void *)val, true);
}
