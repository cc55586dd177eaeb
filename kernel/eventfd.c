// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: irqfd and ioeventfd, the eventfd-driven shortcuts between a VMM's
 * device threads (or another kernel driver, such as VFIO) and the guest.
 *
 * irqfd (KVM_IRQFD): a write to the eventfd raises its GSI through the
 * routing table, from the eventfd's wake-up callback, without a vCPU
 * exit.  Edge GSIs get a pulse; with KVM_IRQFD_FLAG_RESAMPLE the line stays
 * high until the guest's EOI reaches the IOAPIC, which lowers it and
 * signals the resample eventfd so the device can re-check its status.
 *
 * ioeventfd (KVM_IOEVENTFD): a guest write of the given length (and value,
 * with DATAMATCH) to a port or an MMIO address signals the eventfd and
 * completes in the kernel instead of exiting to userspace.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/workqueue.h>
#include "kvmlite.h"

/* 6.8 dropped the count argument. */
#if KERNEL_VERSION(6, 8, 0) <= LINUX_VERSION_CODE
#define kvl_eventfd_signal(ctx)	eventfd_signal(ctx)
#else
#define kvl_eventfd_signal(ctx)	eventfd_signal(ctx, 1)
#endif

struct workqueue_struct *kvl_irqfd_wq;

struct kvl_irqfd {
	struct kvl_vm *vm;
	struct eventfd_ctx *eventfd;
	struct eventfd_ctx *resamplefd;	/* level-triggered, or NULL */
	u32 gsi;
	wait_queue_entry_t wait;
	poll_table pt;
	struct work_struct shutdown;
	struct list_head list;		/* vm->irqfds, under irqfd_lock */
};

struct kvl_ioeventfd {
	struct kvl_io_dev dev;
	struct eventfd_ctx *eventfd;
	u64 datamatch;
	bool wildcard;			/* no DATAMATCH */
	struct list_head list;		/* vm->ioeventfds, under io_lock */
};

/* ---- irqfd ---- */

static void kvl_irqfd_inject(struct kvl_irqfd *irqfd)
{
	kvl_irq_line(irqfd->vm, irqfd->gsi, 1);
	if (!irqfd->resamplefd)
		kvl_irq_line(irqfd->vm, irqfd->gsi, 0);
}

/* Detach from the eventfd and free; no wake-up callback runs after it. */
static void kvl_irqfd_free(struct kvl_irqfd *irqfd)
{
	u64 cnt;

	eventfd_ctx_remove_wait_queue(irqfd->eventfd, &irqfd->wait, &cnt);
	if (irqfd->resamplefd) {
		kvl_irq_line(irqfd->vm, irqfd->gsi, 0);
		eventfd_ctx_put(irqfd->resamplefd);
	}
	eventfd_ctx_put(irqfd->eventfd);
	kfree(irqfd);
}

static void kvl_irqfd_shutdown_work(struct work_struct *work)
{
	kvl_irqfd_free(container_of(work, struct kvl_irqfd, shutdown));
}

/* The eventfd's wake-up: its wait-queue lock held, IRQs off. */
static int kvl_irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode, int sync, void *key)
{
	struct kvl_irqfd *irqfd = container_of(wait, struct kvl_irqfd, wait);
	__poll_t flags = key_to_poll(key);
	struct kvl_vm *vm = irqfd->vm;
	unsigned long f;
	u64 cnt;

	if (flags & EPOLLIN) {
		eventfd_ctx_do_read(irqfd->eventfd, &cnt);
		kvl_irqfd_inject(irqfd);
	}
	if (flags & EPOLLHUP) {
		/* The eventfd is going away: so does the irqfd, outside this lock. */
		spin_lock_irqsave(&vm->irqfd_lock, f);
		if (!list_empty(&irqfd->list)) {
			list_del_init(&irqfd->list);
			queue_work(kvl_irqfd_wq, &irqfd->shutdown);
		}
		spin_unlock_irqrestore(&vm->irqfd_lock, f);
	}
	return 0;
}

static void kvl_irqfd_ptable_queue(struct file *file, wait_queue_head_t *wqh, poll_table *pt)
{
	struct kvl_irqfd *irqfd = container_of(pt, struct kvl_irqfd, pt);

	add_wait_queue_priority(wqh, &irqfd->wait);
}

/* The guest EOI'd the level interrupt on IOAPIC pin @gsi: resample. */
void kvl_irqfd_eoi(struct kvl_vm *vm, u32 gsi)
{
	struct kvl_irqfd *irqfd;
	unsigned long f;

	spin_lock_irqsave(&vm->irqfd_lock, f);
	list_for_each_entry(irqfd, &vm->irqfds, list) {
		if (irqfd->resamplefd && irqfd->gsi == gsi) {
			kvl_irq_line(vm, gsi, 0);
			kvl_eventfd_signal(irqfd->resamplefd);
		}
	}
	spin_unlock_irqrestore(&vm->irqfd_lock, f);
}

static int kvl_irqfd_assign(struct kvl_vm *vm, const struct kvm_irqfd *args)
{
	struct kvl_irqfd *irqfd, *o;
	struct file *file;
	__poll_t events;
	unsigned long fl;
	int r;

	irqfd = kzalloc(sizeof(*irqfd), GFP_KERNEL_ACCOUNT);
	if (!irqfd)
		return -ENOMEM;
	irqfd->vm = vm;
	irqfd->gsi = args->gsi;
	INIT_LIST_HEAD(&irqfd->list);
	INIT_WORK(&irqfd->shutdown, kvl_irqfd_shutdown_work);

	file = fget(args->fd);
	if (!file) {
		r = -EBADF;
		goto err_free;
	}
	irqfd->eventfd = eventfd_ctx_fileget(file);
	if (IS_ERR(irqfd->eventfd)) {
		r = PTR_ERR(irqfd->eventfd);
		goto err_fdput;
	}
	if (args->flags & KVM_IRQFD_FLAG_RESAMPLE) {
		irqfd->resamplefd = eventfd_ctx_fdget(args->resamplefd);
		if (IS_ERR(irqfd->resamplefd)) {
			r = PTR_ERR(irqfd->resamplefd);
			goto err_ctx;
		}
	}
	init_waitqueue_func_entry(&irqfd->wait, kvl_irqfd_wakeup);
	init_poll_funcptr(&irqfd->pt, kvl_irqfd_ptable_queue);

	spin_lock_irqsave(&vm->irqfd_lock, fl);
	list_for_each_entry(o, &vm->irqfds, list) {
		if (o->eventfd == irqfd->eventfd) {
			spin_unlock_irqrestore(&vm->irqfd_lock, fl);
			r = -EBUSY;	/* as KVM: one irqfd per eventfd */
			goto err_resample;
		}
	}
	list_add_tail(&irqfd->list, &vm->irqfds);
	spin_unlock_irqrestore(&vm->irqfd_lock, fl);

	/* Hook the wait queue; an eventfd already signalled fires once now. */
	events = vfs_poll(file, &irqfd->pt);
	if (events & EPOLLIN) {
		u64 cnt;

		eventfd_ctx_do_read(irqfd->eventfd, &cnt);
		kvl_irqfd_inject(irqfd);
	}
	fput(file);
	return 0;

err_resample:
	if (irqfd->resamplefd)
		eventfd_ctx_put(irqfd->resamplefd);
err_ctx:
	eventfd_ctx_put(irqfd->eventfd);
err_fdput:
	fput(file);
err_free:
	kfree(irqfd);
	return r;
}

static int kvl_irqfd_deassign(struct kvl_vm *vm, const struct kvm_irqfd *args)
{
	struct kvl_irqfd *irqfd, *tmp, *found = NULL;
	struct eventfd_ctx *ctx;
	unsigned long f;

	ctx = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	spin_lock_irqsave(&vm->irqfd_lock, f);
	list_for_each_entry_safe(irqfd, tmp, &vm->irqfds, list) {
		if (irqfd->eventfd == ctx && irqfd->gsi == args->gsi) {
			list_del_init(&irqfd->list);
			found = irqfd;
			break;
		}
	}
	spin_unlock_irqrestore(&vm->irqfd_lock, f);
	eventfd_ctx_put(ctx);
	/* As KVM, deassigning what is not there is not an error. */
	if (found)
		kvl_irqfd_free(found);
	flush_workqueue(kvl_irqfd_wq);
	return 0;
}

static int kvl_irqfd(struct kvl_vm *vm, struct kvm_irqfd __user *argp)
{
	struct kvm_irqfd args;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~(KVM_IRQFD_FLAG_DEASSIGN | KVM_IRQFD_FLAG_RESAMPLE))
		return -EINVAL;
	if (args.flags & KVM_IRQFD_FLAG_DEASSIGN)
		return kvl_irqfd_deassign(vm, &args);
	/* Pairs with kvl_create_irqchip()'s release. */
	if (!smp_load_acquire(&vm->irqchip) || args.gsi >= KVL_MAX_IRQ_ROUTES)
		return -EINVAL;
	return kvl_irqfd_assign(vm, &args);
}

/* ---- ioeventfd ---- */

static int kvl_ioeventfd_read(struct kvl_io_dev *dev, struct kvl_vcpu *vcpu, u64 addr,
			      unsigned int len, void *val)
{
	return -EOPNOTSUPP;	/* reads are not ours: userspace or another device */
}

static int kvl_ioeventfd_write(struct kvl_io_dev *dev, struct kvl_vcpu *vcpu, u64 addr,
			       unsigned int len, const void *val)
{
	struct kvl_ioeventfd *p = container_of(dev, struct kvl_ioeventfd, dev);
	u64 v = 0;

	/* len 0 (KVM_CAP_IOEVENTFD_ANY_LENGTH) matches any write at the address. */
	if (addr != dev->base || (dev->len && len != dev->len))
		return -EOPNOTSUPP;
	if (!p->wildcard) {
		memcpy(&v, val, min_t(unsigned int, len, sizeof(v)));
		if (v != p->datamatch)
			return -EOPNOTSUPP;
	}
	kvl_eventfd_signal(p->eventfd);
	return 0;
}

static const struct kvl_io_ops kvl_ioeventfd_ops = {
	.read = kvl_ioeventfd_read,
	.write = kvl_ioeventfd_write,
};

static bool kvl_ioeventfd_same(const struct kvl_ioeventfd *p, const struct kvm_ioeventfd *a,
			       bool mmio)
{
	return p->dev.base == a->addr && p->dev.len == a->len && p->dev.mmio == mmio &&
	       (p->wildcard || !(a->flags & KVM_IOEVENTFD_FLAG_DATAMATCH) ||
		p->datamatch == a->datamatch);
}

static int kvl_ioeventfd(struct kvl_vm *vm, struct kvm_ioeventfd __user *argp)
{
	struct kvl_ioeventfd *p, *tmp;
	struct kvm_ioeventfd a;
	struct eventfd_ctx *ctx;
	bool mmio;
	int r;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~(KVM_IOEVENTFD_FLAG_DATAMATCH | KVM_IOEVENTFD_FLAG_PIO |
			KVM_IOEVENTFD_FLAG_DEASSIGN))
		return -EINVAL;	/* VIRTIO_CCW_NOTIFY is s390's */
	switch (a.len) {
	case 0: case 1: case 2: case 4: case 8:
		break;
	default:
		return -EINVAL;
	}
	if (a.addr + a.len < a.addr || (!a.len && (a.flags & KVM_IOEVENTFD_FLAG_DATAMATCH)))
		return -EINVAL;
	mmio = !(a.flags & KVM_IOEVENTFD_FLAG_PIO);
	ctx = eventfd_ctx_fdget(a.fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);

	if (a.flags & KVM_IOEVENTFD_FLAG_DEASSIGN) {
		r = -ENOENT;
		mutex_lock(&vm->io_lock);
		list_for_each_entry_safe(p, tmp, &vm->ioeventfds, list) {
			if (p->eventfd != ctx || !kvl_ioeventfd_same(p, &a, mmio) ||
			    p->wildcard != !(a.flags & KVM_IOEVENTFD_FLAG_DATAMATCH))
				continue;
			list_del(&p->list);
			r = 0;
			break;
		}
		mutex_unlock(&vm->io_lock);
		if (!r) {
			kvl_io_unregister(vm, &p->dev);
			eventfd_ctx_put(p->eventfd);
			kfree(p);
		}
		eventfd_ctx_put(ctx);
		return r;
	}

	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p) {
		eventfd_ctx_put(ctx);
		return -ENOMEM;
	}
	p->eventfd = ctx;
	p->datamatch = a.datamatch;
	p->wildcard = !(a.flags & KVM_IOEVENTFD_FLAG_DATAMATCH);
	p->dev.ops = &kvl_ioeventfd_ops;
	p->dev.base = a.addr;
	p->dev.len = a.len;
	p->dev.mmio = mmio;
	p->dev.shared = true;

	mutex_lock(&vm->io_lock);
	list_for_each_entry(tmp, &vm->ioeventfds, list) {
		if (kvl_ioeventfd_same(tmp, &a, mmio)) {
			mutex_unlock(&vm->io_lock);
			eventfd_ctx_put(ctx);
			kfree(p);
			return -EEXIST;
		}
	}
	list_add_tail(&p->list, &vm->ioeventfds);
	mutex_unlock(&vm->io_lock);
	r = kvl_io_register(vm, &p->dev);
	if (r) {
		mutex_lock(&vm->io_lock);
		list_del(&p->list);
		mutex_unlock(&vm->io_lock);
		eventfd_ctx_put(ctx);
		kfree(p);
	}
	return r;
}

long kvl_eventfd_vm_ioctl(struct kvl_vm *vm, unsigned int ioctl, void __user *argp)
{
	switch (ioctl) {
	case KVM_IRQFD:
		return kvl_irqfd(vm, argp);
	case KVM_IOEVENTFD:
		return kvl_ioeventfd(vm, argp);
	default:
		return -ENOTTY;
	}
}

/* VM teardown: no vCPU runs any more. */
void kvl_eventfd_vm_destroy(struct kvl_vm *vm)
{
	struct kvl_irqfd *irqfd, *itmp;
	struct kvl_ioeventfd *p, *ptmp;
	unsigned long f;
	LIST_HEAD(dead);

	spin_lock_irqsave(&vm->irqfd_lock, f);
	list_splice_init(&vm->irqfds, &dead);
	spin_unlock_irqrestore(&vm->irqfd_lock, f);
	list_for_each_entry_safe(irqfd, itmp, &dead, list) {
		list_del_init(&irqfd->list);
		kvl_irqfd_free(irqfd);
	}
	/* irqfds whose eventfd closed first are being freed by the workqueue. */
	flush_workqueue(kvl_irqfd_wq);

	list_for_each_entry_safe(p, ptmp, &vm->ioeventfds, list) {
		list_del(&p->list);
		kvl_io_unregister(vm, &p->dev);
		eventfd_ctx_put(p->eventfd);
		kfree(p);
	}
}
