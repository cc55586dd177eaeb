// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: two cascaded Intel 8259A programmable interrupt controllers.
 *
 * The master takes IRQ 0-7 at ports 0x20/0x21, the slave IRQ 8-15 at
 * 0xa0/0xa1 and its INT output drives the master's IR2.  The PIIX/ICH
 * edge/level control registers (ELCR) at 0x4d0 (master) and 0x4d1 (slave)
 * choose the trigger mode per line.
 *
 * The state of one chip is kept exactly as KVM's uapi struct kvm_pic_state
 * lays it out, so KVM_GET/SET_IRQCHIP copy it as KVM does.
 *
 * Datasheet (8259A, "Programming the 8259A"):
 *   A0=0, D4=1: ICW1.  D0 = IC4 (ICW4 needed), D1 = SNGL, D3 = LTIM.
 *     "The Interrupt Mask Register is cleared, IR7 input is assigned
 *     priority 7, the slave mode address is set to 7, special mask mode
 *     is cleared and status read is set to IRR."
 *   A0=1 after ICW1: ICW2 (T7-T3 of the vector), ICW3 (cascade), ICW4
 *     (D1 = AEOI, D4 = SFNM) if IC4 was set; then A0=1 writes are OCW1,
 *     the mask (IMR).
 *   A0=0, D4=0, D3=0: OCW2.  R SL EOI L2-L0:
 *     001 non-specific EOI, 011 specific EOI, 101 rotate on non-specific
 *     EOI, 100 / 000 set / clear rotate in automatic EOI mode, 111 rotate
 *     on specific EOI, 110 set priority (L2-L0 gets the lowest priority).
 *   A0=0, D4=0, D3=1: OCW3.  D6 ESMM, D5 SMM: special mask mode; D2 P:
 *     poll; D1 RR, D0 RIS: the next read of A0=0 gives IRR or ISR.
 *   "In the edge triggered mode ... the IR input must make a low-to-high
 *   transition to generate an interrupt.  In level triggered mode the IR
 *   input must be held high until the first INTA."
 *   "If no interrupt request is present at step 4 ... (the request was
 *   removed too soon) the 8259A will issue an interrupt level 7."
 *
 * Where KVM (whose behaviour is the reference here) differs from the
 * datasheet it is followed, and the spot says so.
 */
#include <linux/slab.h>
#include "kvmlite.h"

struct kvl_pic {
	spinlock_t lock;	/* any context: taken with irqsave */
	struct kvl_vm *vm;
	struct kvm_pic_state chip[2];	/* [0] master, [1] slave */
	bool output;		/* the master's INTR */
	struct kvl_io_dev io_master, io_slave, io_elcr;
};

/*
 * The priority (0 = highest) of the highest request in @mask, counted from
 * the chip's current rotation; 8 if @mask is empty.
 */
static int pic_priority(const struct kvm_pic_state *s, u8 mask)
{
	int p = 0;

	if (!mask)
		return 8;
	while (!(mask & (1 << ((p + s->priority_add) & 7))))
		p++;
	return p;
}

/* The IR line this chip would present on INTA, or -1. */
static int pic_get_irq(const struct kvm_pic_state *s, bool master)
{
	u8 in_service = s->isr;
	int p, cur;

	p = pic_priority(s, s->irr & ~s->imr);
	if (p == 8)
		return -1;
	/*
	 * "Special mask mode: when a mask bit is set in OCW1, it inhibits
	 * further interrupts at that level and enables interrupts from all
	 * other levels (lower as well as higher) that are not masked."
	 */
	if (s->special_mask)
		in_service &= ~s->imr;
	/*
	 * "Special fully nested mode ... when an interrupt request from a
	 * certain slave is in service this slave is not locked out from the
	 * master's priority logic."
	 */
	if (s->special_fully_nested_mode && master)
		in_service &= ~(1 << 2);
	cur = pic_priority(s, in_service);
	return p < cur ? (p + s->priority_add) & 7 : -1;
}

/*
 * Drive one IR input.  Returns what KVM_IRQ_LINE_STATUS reports for this
 * chip, as KVM computes it: -1 if the line is masked in IMR, 0 if a
 * rising edge found its request already in IRR (coalesced), else 1.
 */
static int pic_set_line(struct kvm_pic_state *s, int irq, int level)
{
	u8 mask = 1 << irq;
	int ret = 1;

	if (s->elcr & mask) {
		/* Level: IRR follows the line. */
		if (level) {
			ret = !(s->irr & mask);
			s->irr |= mask;
			s->last_irr |= mask;
		} else {
			s->irr &= ~mask;
			s->last_irr &= ~mask;
		}
	} else if (level) {
		/* Edge: a low-to-high transition latches the request. */
		if (!(s->last_irr & mask)) {
			ret = !(s->irr & mask);
			s->irr |= mask;
		}
		s->last_irr |= mask;
	} else {
		s->last_irr &= ~mask;
	}
	return (s->imr & mask) ? -1 : ret;
}

/*
 * Recompute the cascade and the master's INTR.  As KVM does, a request
 * pending on the slave is presented to the master's IR2 as a pulse, so a
 * new slave request is latched again after the master acknowledged IR2.
 * Returns true if INTR changed.
 */
static bool pic_update(struct kvl_pic *pic)
{
	bool out;

	if (pic_get_irq(&pic->chip[1], false) >= 0) {
		pic_set_line(&pic->chip[0], 2, 1);
		pic_set_line(&pic->chip[0], 2, 0);
	}
	out = pic_get_irq(&pic->chip[0], true) >= 0;
	if (out == pic->output)
		return false;
	WRITE_ONCE(pic->output, out);
	return true;
}

/* After the lock is dropped: tell the LAPIC code if INTR moved (it may call back). */
static void pic_notify(struct kvl_pic *pic, bool changed)
{
	if (changed)
		kvl_apic_extint_changed(pic->vm);
}

/* INTA on one chip: the request moves from IRR to ISR (or is EOIed at once). */
static void pic_intack(struct kvm_pic_state *s, int irq)
{
	u8 mask = 1 << irq;

	if (s->auto_eoi) {
		/* "In AEOI mode ... rotation happens on the automatic EOI." */
		if (s->rotate_on_auto_eoi)
			s->priority_add = (irq + 1) & 7;
	} else {
		s->isr |= mask;
	}
	/* A level request stays in IRR as long as its line is high. */
	if (!(s->elcr & mask))
		s->irr &= ~mask;
}

int kvl_pic_set_irq_status(struct kvl_pic *pic, int irq, int level)
{
	unsigned long flags;
	bool changed;
	int ret;

	if (irq < 0 || irq >= 16)
		return -1;
	spin_lock_irqsave(&pic->lock, flags);
	ret = pic_set_line(&pic->chip[irq >> 3], irq & 7, level);
	changed = pic_update(pic);
	spin_unlock_irqrestore(&pic->lock, flags);
	pic_notify(pic, changed);
	return ret;
}

void kvl_pic_set_irq(struct kvl_pic *pic, int irq, int level)
{
	kvl_pic_set_irq_status(pic, irq, level);
}

bool kvl_pic_has_interrupt(struct kvl_pic *pic)
{
	return READ_ONCE(pic->output);
}

/*
 * The INTA cycle.  A request on the slave that went away after the master
 * latched IR2 reads as the slave's spurious IRQ 15 (irq_base + 7), not put
 * in service, as the datasheet says.  With nothing pending on the master
 * the interface answers -1 rather than the spurious IRQ 7 vector, so the
 * caller injects nothing.
 */
int kvl_pic_ack(struct kvl_pic *pic)
{
	struct kvm_pic_state *m = &pic->chip[0], *sl = &pic->chip[1];
	unsigned long flags;
	int irq, irq2, vec;
	bool changed;

	spin_lock_irqsave(&pic->lock, flags);
	irq = pic_get_irq(m, true);
	if (irq < 0) {
		changed = pic_update(pic);
		spin_unlock_irqrestore(&pic->lock, flags);
		pic_notify(pic, changed);
		return -1;
	}
	pic_intack(m, irq);
	if (irq == 2) {
		irq2 = pic_get_irq(sl, false);
		if (irq2 >= 0)
			pic_intack(sl, irq2);
		else
			irq2 = 7;
		vec = (sl->irq_base + irq2) & 0xff;
	} else {
		vec = (m->irq_base + irq) & 0xff;
	}
	changed = pic_update(pic);
	spin_unlock_irqrestore(&pic->lock, flags);
	pic_notify(pic, changed);
	return vec;
}

/*
 * ICW1 resets the chip.  As KVM: the IMR and edge requests are cleared,
 * level requests stay in IRR (their lines are still high), ISR is cleared,
 * and AEOI/SFNM survive when ICW4 will follow and set them again.
 */
static void pic_init(struct kvm_pic_state *s, u8 icw1)
{
	s->init4 = icw1 & 1;
	s->last_irr = 0;
	s->irr &= s->elcr;
	s->imr = 0;
	s->isr = 0;
	s->priority_add = 0;
	s->special_mask = 0;
	s->read_reg_select = 0;
	s->poll = 0;
	if (!s->init4) {
		s->special_fully_nested_mode = 0;
		s->auto_eoi = 0;
	}
	/*
	 * SNGL (D1) and LTIM (D3) are ignored as KVM ignores them: the PC
	 * always has two cascaded chips and the ELCR sets the trigger mode.
	 */
	s->init_state = 1;
}

static void pic_ocw2(struct kvm_pic_state *s, u8 val)
{
	int cmd = val >> 5, irq, p;

	switch (cmd) {
	case 0:		/* clear rotate in AEOI mode */
	case 4:		/* set rotate in AEOI mode */
		s->rotate_on_auto_eoi = cmd >> 2;
		break;
	case 1:		/* non-specific EOI */
	case 5:		/* rotate on non-specific EOI */
		p = pic_priority(s, s->isr);
		if (p == 8)
			break;
		irq = (p + s->priority_add) & 7;
		s->isr &= ~(1 << irq);
		if (cmd == 5)
			s->priority_add = (irq + 1) & 7;
		break;
	case 3:		/* specific EOI */
		s->isr &= ~(1 << (val & 7));
		break;
	case 6:		/* set priority: L2-L0 becomes the lowest */
		s->priority_add = (val + 1) & 7;
		break;
	case 7:		/* rotate on specific EOI */
		irq = val & 7;
		s->isr &= ~(1 << irq);
		s->priority_add = (irq + 1) & 7;
		break;
	default:	/* 2: no operation */
		break;
	}
}

static void pic_write(struct kvm_pic_state *s, bool a0, u8 val)
{
	if (!a0) {
		if (val & 0x10) {
			pic_init(s, val);
		} else if (val & 0x08) {
			/* OCW3 */
			if (val & 0x04)
				s->poll = 1;
			if (val & 0x02)
				s->read_reg_select = val & 1;
			if (val & 0x40)
				s->special_mask = (val >> 5) & 1;
		} else {
			pic_ocw2(s, val);
		}
		return;
	}
	switch (s->init_state) {
	case 0:		/* OCW1 */
		s->imr = val;
		break;
	case 1:		/* ICW2 */
		s->irq_base = val & 0xf8;
		s->init_state = 2;
		break;
	case 2:		/* ICW3: the cascade wiring is fixed */
		s->init_state = s->init4 ? 3 : 0;
		break;
	case 3:		/* ICW4 */
		s->special_fully_nested_mode = (val >> 4) & 1;
		s->auto_eoi = (val >> 1) & 1;
		s->init_state = 0;
		break;
	default:	/* only KVM_SET_IRQCHIP can put other values here */
		break;
	}
}

/*
 * OCW3 poll: "the 8259A treats the next RD pulse as an interrupt
 * acknowledge ... the word enabled onto the data bus is 1 W2 W1 W0 if an
 * interrupt is pending".  KVM (and QEMU) then clear the level from ISR as
 * well, i.e. a poll is an INTA followed by an EOI, and answer 0x07 with
 * nothing pending; we do the same.  Bit 7 is set as the datasheet and
 * current KVM set it (Debian's 6.12 does, its 6.1 does not).
 */
static u8 pic_poll(struct kvl_pic *pic, int idx)
{
	struct kvm_pic_state *s = &pic->chip[idx];
	int irq = pic_get_irq(s, idx == 0);

	s->poll = 0;
	if (irq < 0)
		return 0x07;
	if (idx == 1) {
		pic->chip[0].isr &= ~(1 << 2);
		pic->chip[0].irr &= ~(1 << 2);
	}
	s->irr &= ~(1 << irq);
	s->isr &= ~(1 << irq);
	return 0x80 | irq;
}

static struct kvl_pic *pic_of(struct kvl_io_dev *dev)
{
	if (dev->base == 0x20)
		return container_of(dev, struct kvl_pic, io_master);
	if (dev->base == 0xa0)
		return container_of(dev, struct kvl_pic, io_slave);
	return container_of(dev, struct kvl_pic, io_elcr);
}

/*
 * Only byte accesses reach the chips; as KVM, wider ones are dropped and
 * read as zero.
 */
static int pic_io_read(struct kvl_io_dev *dev, struct kvl_vcpu *vcpu, u64 addr,
		       unsigned int len, void *val)
{
	struct kvl_pic *pic = pic_of(dev);
	struct kvm_pic_state *s;
	unsigned long flags;
	bool changed = false;
	u8 v;

	memset(val, 0, len);
	if (len != 1)
		return 0;
	spin_lock_irqsave(&pic->lock, flags);
	if (dev == &pic->io_elcr) {
		v = pic->chip[addr & 1].elcr;
	} else {
		s = &pic->chip[dev == &pic->io_slave];
		if (s->poll) {
			v = pic_poll(pic, dev == &pic->io_slave);
			changed = pic_update(pic);
		} else if (addr & 1) {
			v = s->imr;
		} else {
			v = s->read_reg_select ? s->isr : s->irr;
		}
	}
	spin_unlock_irqrestore(&pic->lock, flags);
	pic_notify(pic, changed);
	*(u8 *)val = v;
	return 0;
}

static int pic_io_write(struct kvl_io_dev *dev, struct kvl_vcpu *vcpu, u64 addr,
			unsigned int len, const void *val)
{
	struct kvl_pic *pic = pic_of(dev);
	struct kvm_pic_state *s;
	unsigned long flags;
	bool changed = false;
	u8 v = *(const u8 *)val;

	if (len != 1)
		return 0;
	spin_lock_irqsave(&pic->lock, flags);
	if (dev == &pic->io_elcr) {
		s = &pic->chip[addr & 1];
		s->elcr = v & s->elcr_mask;
	} else {
		pic_write(&pic->chip[dev == &pic->io_slave], addr & 1, v);
		changed = pic_update(pic);
	}
	spin_unlock_irqrestore(&pic->lock, flags);
	pic_notify(pic, changed);
	return 0;
}

static const struct kvl_io_ops pic_io_ops = {
	.read = pic_io_read,
	.write = pic_io_write,
};

void kvl_pic_get_state(struct kvl_pic *pic, int chip, struct kvm_pic_state *s)
{
	unsigned long flags;

	spin_lock_irqsave(&pic->lock, flags);
	*s = pic->chip[chip & 1];
	spin_unlock_irqrestore(&pic->lock, flags);
}

/*
 * KVM takes the state as it comes; so do we.  Every field is only ever
 * used as a bit mask, a flag, a switch selector or masked to 0-7, so no
 * value can take the chip off its arrays.
 */
int kvl_pic_set_state(struct kvl_pic *pic, int chip, const struct kvm_pic_state *s)
{
	unsigned long flags;
	bool changed;

	spin_lock_irqsave(&pic->lock, flags);
	pic->chip[chip & 1] = *s;
	changed = pic_update(pic);
	spin_unlock_irqrestore(&pic->lock, flags);
	pic_notify(pic, changed);
	return 0;
}

struct kvl_pic *kvl_pic_create(struct kvl_vm *vm)
{
	struct kvl_pic *pic;
	int r;

	pic = kzalloc(sizeof(*pic), GFP_KERNEL_ACCOUNT);
	if (!pic)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&pic->lock);
	pic->vm = vm;
	/* ELCR bits that exist: IRQ 0, 1, 2, 8 and 13 are always edge. */
	pic->chip[0].elcr_mask = 0xf8;
	pic->chip[1].elcr_mask = 0xde;
	pic->io_master = (struct kvl_io_dev){ .ops = &pic_io_ops, .base = 0x20, .len = 2 };
	pic->io_slave = (struct kvl_io_dev){ .ops = &pic_io_ops, .base = 0xa0, .len = 2 };
	pic->io_elcr = (struct kvl_io_dev){ .ops = &pic_io_ops, .base = 0x4d0, .len = 2 };
	r = kvl_io_register(vm, &pic->io_master);
	if (r)
		goto free;
	r = kvl_io_register(vm, &pic->io_slave);
	if (r)
		goto unreg_master;
	r = kvl_io_register(vm, &pic->io_elcr);
	if (r)
		goto unreg_slave;
	return pic;

unreg_slave:
	kvl_io_unregister(vm, &pic->io_slave);
unreg_master:
	kvl_io_unregister(vm, &pic->io_master);
free:
	kfree(pic);
	return ERR_PTR(r);
}

void kvl_pic_destroy(struct kvl_pic *pic)
{
	kvl_io_unregister(pic->vm, &pic->io_elcr);
	kvl_io_unregister(pic->vm, &pic->io_slave);
	kvl_io_unregister(pic->vm, &pic->io_master);
	kfree(pic);
}
