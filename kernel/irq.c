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

/* An MSI message (address 0xfeeXXXXX, data) as an APIC interrupt. */
static int kvl_msi_deliver(struct kvl_vm *vm, u32 address_lo, u32 data)
{
	struct kvl_apic_irq irq = {
		.dest = (address_lo >> 12) & 0xff,
		.logical = address_lo & BIT(2),
		.vector = data & 0xff,
		.delivery_mode = (data >> 8) & 7,
		.level = data & BIT(15),
	};

	return kvl_apic_deliver(vm, &irq);
}

static int kvl_route_set(struct kvl_vm *vm, const struct kvm_irq_routing_entry *e, int level)
{
	int pin;

	switch (e->type) {
	case KVM_IRQ_ROUTING_IRQCHIP:
		if (e->u.irqchip.irqchip == KVM_IRQCHIP_IOAPIC)
			return kvl_ioapic_set_irq_status(vm->ioapic, e->u.irqchip.pin, level);
		pin = e->u.irqchip.pin;
		if (e->u.irqchip.irqchip == KVM_IRQCHIP_PIC_SLAVE)
			pin += 8;
		return kvl_pic_set_irq_status(vm->pic, pin, level);
	case KVM_IRQ_ROUTING_MSI:
		/* A message, not a line: only the rising edge sends it. */
		return level ? kvl_msi_deliver(vm, e->u.msi.address_lo, e->u.msi.data) : -1;
	default:
		return -1;
	}
}

/*
 * Drive GSI @gsi on every route it has (KVM's default until
 * KVM_SET_GSI_ROUTING).  *@status gets what KVM's kvm_set_irq() returns:
 * the sum of the routes' non-negative answers, or -1 if none had one (no
 * route, or masked everywhere).  Any context.
 */
static int kvl_irq_set(struct kvl_vm *vm, u32 gsi, int level, int *status)
{
	struct kvl_irq_routing *rt;
	int r, ret = -1;
	u32 i;

	/* Pairs with the release in kvl_create_irqchip(): the chips are set up. */
	if (!smp_load_acquire(&vm->irqchip))
		return -ENXIO;
	rcu_read_lock();
	rt = rcu_dereference(vm->routing);
	if (rt) {
		for (i = 0; i < rt->nr; i++) {
			if (rt->e[i].gsi != gsi)
				continue;
			r = kvl_route_set(vm, &rt->e[i], level);
			if (r >= 0)
				ret = r + (ret < 0 ? 0 : ret);
		}
	} else {
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
	}
	rcu_read_unlock();
	*status = ret;
	return 0;
}

int kvl_irq_line(struct kvl_vm *vm, u32 gsi, int level)
{
	int status;

	if (gsi >= KVL_MAX_IRQ_ROUTES)
		return -EINVAL;
	return kvl_irq_set(vm, gsi, level, &status);
}

/* KVM_SET_GSI_ROUTING: replace the whole table, checked as KVM checks it. */
static int kvl_set_gsi_routing(struct kvl_vm *vm, struct kvm_irq_routing __user *argp)
{
	struct kvl_irq_routing *rt, *old;
	struct kvm_irq_routing h;
	u32 i;

	if (copy_from_user(&h, argp, sizeof(h)))
		return -EFAULT;
	/* The acquire pairs with kvl_create_irqchip()'s release. */
	if (!smp_load_acquire(&vm->irqchip) || h.nr >= KVL_MAX_IRQ_ROUTES || h.flags)
		return -EINVAL;
	rt = kvzalloc(struct_size(rt, e, h.nr), GFP_KERNEL_ACCOUNT);
	if (!rt)
		return -ENOMEM;
	rt->nr = h.nr;
	if (h.nr && copy_from_user(rt->e, argp->entries, array_size(h.nr, sizeof(rt->e[0])))) {
		kvfree(rt);
		return -EFAULT;
	}
	for (i = 0; i < h.nr; i++) {
		const struct kvm_irq_routing_entry *e = &rt->e[i];
		bool ok;

		switch (e->type) {
		case KVM_IRQ_ROUTING_IRQCHIP:
			/* As KVM: no in-kernel chips to route to in split mode. */
			ok = !e->flags && !vm->irqchip_split &&
			     ((e->u.irqchip.irqchip == KVM_IRQCHIP_IOAPIC &&
			       e->u.irqchip.pin < KVL_IOAPIC_PINS) ||
			      (e->u.irqchip.irqchip <= KVM_IRQCHIP_PIC_SLAVE &&
			       e->u.irqchip.pin < 8));
			break;
		case KVM_IRQ_ROUTING_MSI:
			ok = !(e->flags & ~KVM_MSI_VALID_DEVID);
			break;
		default:
			ok = false;
			break;
		}
		if (!ok || e->gsi >= KVL_MAX_IRQ_ROUTES) {
			kvfree(rt);
			return -EINVAL;
		}
	}
	mutex_lock(&vm->irq_lock);
	old = rcu_dereference_protected(vm->routing, lockdep_is_held(&vm->irq_lock));
	rcu_assign_pointer(vm->routing, rt);
	mutex_unlock(&vm->irq_lock);
	/* Expedited, as KVM's routing updates (see kvl_io_register()). */
	synchronize_rcu_expedited();
	kvfree(old);
	return 0;
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
	/* Publish the chips before the flag: pairs with the acquires below. */
	smp_store_release(&vm->irqchip, true);
out:
	mutex_unlock(&vm->irq_lock);
	return r;
}

/*
 * KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP): LAPICs in the kernel, the PIC,
 * IOAPIC and PIT in userspace, which sends the IOAPIC's interrupts as
 * MSIs (GSI routes or KVM_SIGNAL_MSI), the PIC's with KVM_INTERRUPT, and
 * hears of level EOIs by KVM_EXIT_IOAPIC_EOI.  Checked as KVM checks it.
 */
int kvl_split_irqchip(struct kvl_vm *vm, u64 ioapic_pins)
{
	struct kvl_irq_routing *rt;
	int r = 0;

	if (ioapic_pins > KVL_MAX_IRQ_ROUTES)
		return -EINVAL;
	rt = kvzalloc(sizeof(*rt), GFP_KERNEL_ACCOUNT);	/* KVM's empty routing */
	if (!rt)
		return -ENOMEM;
	mutex_lock(&vm->irq_lock);
	mutex_lock(&vm->lock);
	if (vm->irqchip || vm->nr_vcpus)
		r = -EEXIST;
	mutex_unlock(&vm->lock);
	if (!r) {
		/* No routing before an irqchip: nothing to free. */
		rcu_assign_pointer(vm->routing, rt);
		rt = NULL;
		vm->split_ioapic_pins = ioapic_pins;
		vm->irqchip_split = true;
		/* Publish the mode before the flag: pairs with the acquires here. */
		smp_store_release(&vm->irqchip, true);
	}
	mutex_unlock(&vm->irq_lock);
	kvfree(rt);
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

	c = memdup_user(argp, sizeof(*c));
	if (IS_ERR(c))
		return PTR_ERR(c);
	/* The acquire pairs with kvl_create_irqchip()'s release; split: -ENXIO, as KVM. */
	if (!smp_load_acquire(&vm->irqchip) || vm->irqchip_split) {
		kfree(c);
		return -ENXIO;
	}
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
	} else if (!vm->pic) {
		r = -ENOENT;	/* no irqchip, or a split one */
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
	case KVM_SET_GSI_ROUTING:
		return kvl_set_gsi_routing(vm, argp);
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
	struct kvm_msi msi;

	if (copy_from_user(&msi, argp, sizeof(msi)))
		return -EFAULT;
	/* The acquire pairs with kvl_create_irqchip()'s release. */
	if ((msi.flags & ~KVM_MSI_VALID_DEVID) || !smp_load_acquire(&vm->irqchip))
		return -EINVAL;	/* as kvm_send_userspace_msi() */
	return kvl_msi_deliver(vm, msi.address_lo, msi.data);
}

/* VM teardown: no vCPU runs any more. */
void kvl_irq_vm_destroy(struct kvl_vm *vm)
{
	kvl_eventfd_vm_destroy(vm);
	kvfree(rcu_access_pointer(vm->routing));
	if (vm->pit)
		kvl_pit_destroy(vm->pit);
	if (vm->ioapic)
		kvl_ioapic_destroy(vm->ioapic);
	if (vm->pic)
		kvl_pic_destroy(vm->pic);
}
