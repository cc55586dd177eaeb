// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: KVM_CREATE_IRQCHIP, KVM_IRQ_LINE and the other irqchip and PIT
 * VM ioctls, and the default GSI routing.
 *
 * Routing is KVM's default: GSI 0-15 drive the PIC pin of the same number
 * and GSI 0-23 the IOAPIC pin of the same number (the "IRQ 0 is pin 2"
 * override is the firmware's business, in its MADT).
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "kvmlite.h"

/*
 * Drive GSI @gsi on every chip it is routed to.  *@status gets what KVM's
 * kvm_set_irq() returns: the sum of the chips' non-negative answers, or
 * -1 if none had one (no route, or masked everywhere).
 */
static int kvl_irq_set(struct kvl_vm *vm, u32 gsi, int level, int *status)
{
	int r, ret = -1;

	/* Pairs with the release in kvl_create_irqchip(): the chips are set up. */
	if (!smp_load_acquire(&vm->irqchip))
		return -ENXIO;
	if (gsi < 16) {
		r = kvl_pic_set_irq_status(vm->pic, gsi, level);
		if (r >= 0)
			ret = r;
	}
	if (gsi < KVL_IOAPIC_PINS) {
		r = kvl_ioapic_set_irq_status(vm->ioapic, gsi, level);
		if (r >= 0)
			ret = r + (ret < 0 ? 0 : ret);
	}
	*status = ret;
	return 0;
}

int kvl_irq_line(struct kvl_vm *vm, u32 gsi, int level)
{
	int status;

	if (gsi >= KVL_IOAPIC_PINS)
		return -EINVAL;
	return kvl_irq_set(vm, gsi, level, &status);
}

static int kvl_create_irqchip(struct kvl_vm *vm)
{
	int r = 0;

	mutex_lock(&vm->irq_lock);
	mutex_lock(&vm->lock);
	if (vm->irqchip)
		r = -EEXIST;
	else if (vm->nr_vcpus)
		r = -EINVAL;	/* as KVM: the LAPICs come with the vCPUs */
	mutex_unlock(&vm->lock);
	if (r)
		goto out;

	vm->pic = kvl_pic_create(vm);
	if (IS_ERR(vm->pic)) {
		r = PTR_ERR(vm->pic);
		vm->pic = NULL;
		goto out;
	}
	vm->ioapic = kvl_ioapic_create(vm);
	if (IS_ERR(vm->ioapic)) {
		r = PTR_ERR(vm->ioapic);
		vm->ioapic = NULL;
		kvl_pic_destroy(vm->pic);
		vm->pic = NULL;
		goto out;
	}
	r = kvl_apic_register_mmio(vm);
	if (r) {
		kvl_ioapic_destroy(vm->ioapic);
		kvl_pic_destroy(vm->pic);
		vm->ioapic = NULL;
		vm->pic = NULL;
		goto out;
	}
	/* Publish the chips before the flag: pairs with the acquires below. */
	smp_store_release(&vm->irqchip, true);
out:
	mutex_unlock(&vm->irq_lock);
	return r;
}

static int kvl_irq_line_ioctl(struct kvl_vm *vm, struct kvm_irq_level __user *argp, bool status)
{
	struct kvm_irq_level l;
	int r, st;

	if (copy_from_user(&l, argp, sizeof(l)))
		return -EFAULT;
	/* A GSI without a route is no error for KVM: status -1. */
	r = kvl_irq_set(vm, l.irq, l.level, &st);
	if (r)
		return r;
	l.status = st;
	if (status && copy_to_user(argp, &l, sizeof(l)))
		return -EFAULT;
	return 0;
}

static int kvl_get_irqchip(struct kvl_vm *vm, struct kvm_irqchip __user *argp, bool set)
{
	struct kvm_irqchip *c;
	int r = 0;

	/* Pairs with the release in kvl_create_irqchip(). */
	if (!smp_load_acquire(&vm->irqchip))
		return -ENXIO;
	c = memdup_user(argp, sizeof(*c));
	if (IS_ERR(c))
		return PTR_ERR(c);
	switch (c->chip_id) {
	case KVM_IRQCHIP_PIC_MASTER:
	case KVM_IRQCHIP_PIC_SLAVE:
		if (set)
			r = kvl_pic_set_state(vm->pic, c->chip_id, &c->chip.pic);
		else
			kvl_pic_get_state(vm->pic, c->chip_id, &c->chip.pic);
		break;
	case KVM_IRQCHIP_IOAPIC:
		if (set)
			r = kvl_ioapic_set_state(vm->ioapic, &c->chip.ioapic);
		else
			kvl_ioapic_get_state(vm->ioapic, &c->chip.ioapic);
		break;
	default:
		r = -EINVAL;
		break;
	}
	if (!r && !set && copy_to_user(argp, c, sizeof(*c)))
		r = -EFAULT;
	kfree(c);
	return r;
}

static int kvl_create_pit(struct kvl_vm *vm, struct kvm_pit_config __user *argp)
{
	struct kvm_pit_config cfg;
	struct kvl_pit *pit;
	int r = 0;

	if (copy_from_user(&cfg, argp, sizeof(cfg)))
		return -EFAULT;
	/* KVM ignores flags it does not know, and wants the PIC first. */
	mutex_lock(&vm->irq_lock);
	if (vm->pit) {
		r = -EEXIST;
	} else if (!vm->irqchip) {
		r = -ENOENT;
	} else {
		pit = kvl_pit_create(vm, cfg.flags);
		if (IS_ERR(pit))
			r = PTR_ERR(pit);
		else
			vm->pit = pit;
	}
	mutex_unlock(&vm->irq_lock);
	return r;
}

static int kvl_pit_state_ioctl(struct kvl_vm *vm, struct kvm_pit_state2 __user *argp, bool set)
{
	struct kvm_pit_state2 s;
	struct kvl_pit *pit;

	mutex_lock(&vm->irq_lock);
	pit = vm->pit;
	mutex_unlock(&vm->irq_lock);
	if (!pit)
		return -ENXIO;
	if (!set) {
		memset(&s, 0, sizeof(s));
		kvl_pit_get_state(pit, &s);
		return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
	}
	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	return kvl_pit_set_state(pit, &s);
}

long kvl_irq_vm_ioctl(struct kvl_vm *vm, unsigned int ioctl, void __user *argp)
{
	switch (ioctl) {
	case KVM_CREATE_IRQCHIP:
		return kvl_create_irqchip(vm);
	case KVM_IRQ_LINE:
		return kvl_irq_line_ioctl(vm, argp, false);
	case KVM_IRQ_LINE_STATUS:
		return kvl_irq_line_ioctl(vm, argp, true);
	case KVM_GET_IRQCHIP:
		return kvl_get_irqchip(vm, argp, false);
	case KVM_SET_IRQCHIP:
		return kvl_get_irqchip(vm, argp, true);
	case KVM_CREATE_PIT2:
		return kvl_create_pit(vm, argp);
	case KVM_GET_PIT2:
		return kvl_pit_state_ioctl(vm, argp, false);
	case KVM_SET_PIT2:
		return kvl_pit_state_ioctl(vm, argp, true);
	default:
		return -ENOTTY;
	}
}

/*
 * KVM_SIGNAL_MSI: address 0xfeeXXXXX carries the destination (bits 19:12),
 * logical mode (bit 2); data the vector, delivery mode and trigger mode.
 */
int kvl_signal_msi(struct kvl_vm *vm, struct kvm_msi __user *argp)
{
	struct kvl_apic_irq irq = {};
	struct kvm_msi msi;

	if (copy_from_user(&msi, argp, sizeof(msi)))
		return -EFAULT;
	/* The acquire pairs with kvl_create_irqchip()'s release. */
	if ((msi.flags & ~KVM_MSI_VALID_DEVID) || !smp_load_acquire(&vm->irqchip))
		return -EINVAL;	/* as kvm_send_userspace_msi() */
	irq.dest = (msi.address_lo >> 12) & 0xff;
	irq.logical = msi.address_lo & BIT(2);
	irq.vector = msi.data & 0xff;
	irq.delivery_mode = (msi.data >> 8) & 7;
	irq.level = msi.data & BIT(15);
	return kvl_apic_deliver(vm, &irq);
}

/* VM teardown: no vCPU runs any more. */
void kvl_irq_vm_destroy(struct kvl_vm *vm)
{
	if (vm->irqchip)
		kvl_io_unregister(vm, &vm->apic_mmio);
	if (vm->pit)
		kvl_pit_destroy(vm->pit);
	if (vm->ioapic)
		kvl_ioapic_destroy(vm->ioapic);
	if (vm->pic)
		kvl_pic_destroy(vm->pic);
}
