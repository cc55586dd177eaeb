// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: an 82093AA-style I/O APIC with 24 pins at 0xfec00000.
 *
 * Datasheet (82093AA I/O APIC):
 *   "IOREGSEL (offset 00h) ... bits 7:0 select which APIC register is to
 *   be read/written.  IOWIN (offset 10h) is used to write to and read from
 *   the register selected by bits 7:0 of IOREGSEL."
 *   Register 00h IOAPICID (bits 27:24), 01h IOAPICVER (bits 23:16 maximum
 *   redirection entry, 7:0 version), 02h IOAPICARB (bits 27:24 arbitration
 *   ID), 10h-3Fh IOREDTBL[0:23], two 32-bit registers each:
 *     bits 7:0 vector, 10:8 delivery mode, 11 destination mode, 12 delivery
 *     status (RO), 13 polarity, 14 Remote IRR (RO), 15 trigger mode
 *     (1 = level), 16 mask, 63:56 destination.
 *   "Remote IRR: for level triggered interrupts this bit is set to 1 when
 *   local APIC(s) accept the level interrupt sent by the IOAPIC.  It is
 *   reset to 0 when an EOI message with a matching interrupt vector is
 *   received from a local APIC."
 *
 * The register state is KVM's uapi struct kvm_ioapic_state.  As in KVM:
 * the version register reads 0x170011 (version 0x11, which has no EOI
 * register at 0x40, so EOIs only come from the LAPICs), polarity is stored
 * but not applied (the lines this chip sees are logical levels), IRR holds
 * the line levels and KVM_GET_IRQCHIP hides the bits of edge interrupts
 * already delivered.
 *
 * Locking: kvl_apic_deliver() is called with ioapic->lock held and
 * interrupts off, as KVM delivers under its IOAPIC lock; it must not call
 * back into this file.  kvl_ioapic_eoi() must be called without the locks
 * kvl_apic_deliver() takes.
 */
#include <linux/nospec.h>
#include <linux/slab.h>
#include "kvmlite.h"

#define IOAPIC_MMIO_LEN		0x100
#define IOAPIC_REG_SELECT	0x00
#define IOAPIC_REG_WINDOW	0x10
#define IOAPIC_VERSION		0x11

#define RTE_VECTOR		0xffULL
#define RTE_DELIVERY_SHIFT	8
#define RTE_DEST_LOGICAL	BIT_ULL(11)
#define RTE_DELIVERY_STATUS	BIT_ULL(12)
#define RTE_REMOTE_IRR		BIT_ULL(14)
#define RTE_LEVEL		BIT_ULL(15)
#define RTE_MASK		BIT_ULL(16)
#define RTE_DEST_SHIFT		56

struct kvl_ioapic {
	spinlock_t lock;	/* any context: taken with irqsave */
	struct kvl_vm *vm;
	u64 base_address;
	u32 ioregsel;
	u32 id;
	u32 irr;		/* line levels (edge: latched until lowered) */
	u32 irr_delivered;	/* edge requests already sent */
	u64 rte[KVL_IOAPIC_PINS];
	struct kvl_io_dev io;
};

/*
 * Send pin @pin's interrupt message, unless it is masked or a level
 * interrupt still awaits its EOI.  Returns how many LAPICs took it, -1 if
 * it was not sent.  A level message sets Remote IRR once sent: KVM does
 * so unless its delivery reports a coalesced interrupt, and also when no
 * LAPIC matched the destination; an interrupt already pending in a LAPIC
 * gets its EOI all the same.
 */
static int ioapic_service(struct kvl_ioapic *ioapic, int pin)
{
	u64 e = ioapic->rte[pin];
	struct kvl_apic_irq irq = {
		.dest = e >> RTE_DEST_SHIFT,
		.vector = e & RTE_VECTOR,
		.delivery_mode = (e >> RTE_DELIVERY_SHIFT) & 7,
		.logical = !!(e & RTE_DEST_LOGICAL),
		.level = !!(e & RTE_LEVEL),
	};
	int r;

	if ((e & RTE_MASK) || ((e & RTE_LEVEL) && (e & RTE_REMOTE_IRR)))
		return -1;
	if (!irq.level)
		ioapic->irr_delivered |= BIT(pin);
	r = kvl_apic_deliver(ioapic->vm, &irq);
	if (irq.level)
		ioapic->rte[pin] |= RTE_REMOTE_IRR;
	return r;
}

/*
 * Drive one pin.  Returns what KVM_IRQ_LINE_STATUS reports for this chip,
 * as KVM computes it: 1 for a lowered line, 0 for an edge pin already
 * high (coalesced), else ioapic_service()'s answer.
 */
static int ioapic_set_line(struct kvl_ioapic *ioapic, int pin, int level)
{
	u32 mask = BIT(pin), old = ioapic->irr;

	if (!level) {
		ioapic->irr &= ~mask;
		return 1;
	}
	ioapic->irr |= mask;
	if (!(ioapic->rte[pin] & RTE_LEVEL)) {
		/* Edge: only a rising edge sends a message. */
		ioapic->irr_delivered &= ~mask;
		if (old & mask)
			return 0;
	}
	return ioapic_service(ioapic, pin);
}

int kvl_ioapic_set_irq_status(struct kvl_ioapic *ioapic, int pin, int level)
{
	unsigned long flags;
	int ret;

	if (pin < 0 || pin >= KVL_IOAPIC_PINS)
		return -1;
	pin = array_index_nospec(pin, KVL_IOAPIC_PINS);
	spin_lock_irqsave(&ioapic->lock, flags);
	ret = ioapic_set_line(ioapic, pin, level);
	spin_unlock_irqrestore(&ioapic->lock, flags);
	return ret;
}

void kvl_ioapic_set_irq(struct kvl_ioapic *ioapic, int pin, int level)
{
	kvl_ioapic_set_irq_status(ioapic, pin, level);
}

/*
 * EOI broadcast from a LAPIC: every level-triggered pin with this vector
 * drops Remote IRR and, if its line is still high and it is not masked,
 * sends again.  (KVM also delays re-delivery after 10,000 back-to-back
 * EOIs of a stuck line; not done here.)
 */
void kvl_ioapic_eoi(struct kvl_ioapic *ioapic, int vector)
{
	unsigned long flags;
	u32 acked = 0;
	int pin;

	/*
	 * First the ack: resampling irqfds lower their line (and tell their
	 * device) before Remote IRR clears, so a line that went low does not
	 * fire again (KVM's ack notifiers, in the same order).
	 */
	spin_lock_irqsave(&ioapic->lock, flags);
	for (pin = 0; pin < KVL_IOAPIC_PINS; pin++)
		if ((ioapic->rte[pin] & RTE_VECTOR) == (u8)vector && (ioapic->rte[pin] & RTE_LEVEL))
			acked |= BIT(pin);
	spin_unlock_irqrestore(&ioapic->lock, flags);
	for (pin = 0; pin < KVL_IOAPIC_PINS; pin++)
		if (acked & BIT(pin))
			kvl_irqfd_eoi(ioapic->vm, pin);

	spin_lock_irqsave(&ioapic->lock, flags);
	for (pin = 0; pin < KVL_IOAPIC_PINS; pin++) {
		u64 *e = &ioapic->rte[pin];

		if ((*e & RTE_VECTOR) != (u8)vector || !(*e & RTE_LEVEL))
			continue;
		*e &= ~RTE_REMOTE_IRR;
		if (!(*e & RTE_MASK) && (ioapic->irr & BIT(pin)))
			ioapic_service(ioapic, pin);
	}
	spin_unlock_irqrestore(&ioapic->lock, flags);
}

static u32 ioapic_read_indirect(struct kvl_ioapic *ioapic)
{
	u32 sel = ioapic->ioregsel, idx;
	u64 e;

	switch (sel) {
	case 0x00:	/* IOAPICID */
	case 0x02:	/* IOAPICARB: the arbitration ID is the APIC ID */
		return (ioapic->id & 0xf) << 24;
	case 0x01:	/* IOAPICVER */
		return ((KVL_IOAPIC_PINS - 1) << 16) | IOAPIC_VERSION;
	}
	idx = (sel - 0x10) >> 1;
	if (sel < 0x10 || idx >= KVL_IOAPIC_PINS)
		return ~0U;	/* as KVM: reserved registers read all ones */
	e = ioapic->rte[array_index_nospec(idx, KVL_IOAPIC_PINS)];
	return (sel & 1) ? e >> 32 : (u32)e;
}

static void ioapic_write_indirect(struct kvl_ioapic *ioapic, u32 val)
{
	u32 sel = ioapic->ioregsel, idx;
	u64 *e, ro;

	if (sel == 0x00) {
		ioapic->id = (val >> 24) & 0xf;
		return;
	}
	idx = (sel - 0x10) >> 1;
	if (sel < 0x10 || idx >= KVL_IOAPIC_PINS)
		return;		/* version, arbitration, reserved: read-only */
	idx = array_index_nospec(idx, KVL_IOAPIC_PINS);
	e = &ioapic->rte[idx];
	ro = *e & (RTE_REMOTE_IRR | RTE_DELIVERY_STATUS);
	if (sel & 1)
		*e = (*e & 0xffffffffULL) | ((u64)val << 32);
	else
		*e = (*e & ~0xffffffffULL) | val;
	*e = (*e & ~(RTE_REMOTE_IRR | RTE_DELIVERY_STATUS)) | ro;
	/*
	 * As KVM: making an entry edge-triggered clears Remote IRR, which
	 * Linux and Xen rely on to stand in for an EOI register.
	 */
	if (!(*e & RTE_LEVEL))
		*e &= ~RTE_REMOTE_IRR;
	/* An unmasked level entry whose line is high sends now. */
	if ((*e & RTE_LEVEL) && (ioapic->irr & BIT(idx)) &&
	    !(*e & (RTE_MASK | RTE_REMOTE_IRR)))
		ioapic_service(ioapic, idx);
}

static bool ioapic_in_range(struct kvl_ioapic *ioapic, u64 addr)
{
	/* KVM_SET_IRQCHIP may move base_address; KVM then stops answering. */
	return addr >= ioapic->base_address &&
	       addr < ioapic->base_address + IOAPIC_MMIO_LEN;
}

static int ioapic_mmio_read(struct kvl_io_dev *dev, struct kvl_vcpu *vcpu, u64 addr,
			    unsigned int len, void *val)
{
	struct kvl_ioapic *ioapic = container_of(dev, struct kvl_ioapic, io);
	unsigned long flags;
	u64 result = 0;

	spin_lock_irqsave(&ioapic->lock, flags);
	if (!ioapic_in_range(ioapic, addr)) {
		spin_unlock_irqrestore(&ioapic->lock, flags);
		return -EOPNOTSUPP;
	}
	switch (addr & 0xff) {
	case IOAPIC_REG_SELECT:
		result = ioapic->ioregsel;
		break;
	case IOAPIC_REG_WINDOW:
		result = ioapic_read_indirect(ioapic);
		break;
	default:
		break;
	}
	spin_unlock_irqrestore(&ioapic->lock, flags);
	memcpy(val, &result, min_t(unsigned int, len, sizeof(result)));
	return 0;
}

static int ioapic_mmio_write(struct kvl_io_dev *dev, struct kvl_vcpu *vcpu, u64 addr,
			     unsigned int len, const void *val)
{
	struct kvl_ioapic *ioapic = container_of(dev, struct kvl_ioapic, io);
	unsigned long flags;
	u32 data;

	switch (len) {
	case 8:
	case 4:
		data = *(const u32 *)val;
		break;
	case 2:
		data = *(const u16 *)val;
		break;
	case 1:
		data = *(const u8 *)val;
		/* As KVM: of the byte writes only IOREGSEL's are taken. */
		if ((addr & 0xff) != IOAPIC_REG_SELECT)
			return 0;
		break;
	default:
		return 0;
	}
	spin_lock_irqsave(&ioapic->lock, flags);
	if (!ioapic_in_range(ioapic, addr)) {
		spin_unlock_irqrestore(&ioapic->lock, flags);
		return -EOPNOTSUPP;
	}
	switch (addr & 0xff) {
	case IOAPIC_REG_SELECT:
		ioapic->ioregsel = data & 0xff;
		break;
	case IOAPIC_REG_WINDOW:
		ioapic_write_indirect(ioapic, data);
		break;
	default:
		break;
	}
	spin_unlock_irqrestore(&ioapic->lock, flags);
	return 0;
}

static const struct kvl_io_ops ioapic_io_ops = {
	.read = ioapic_mmio_read,
	.write = ioapic_mmio_write,
};

void kvl_ioapic_get_state(struct kvl_ioapic *ioapic, struct kvm_ioapic_state *s)
{
	unsigned long flags;
	int i;

	memset(s, 0, sizeof(*s));
	spin_lock_irqsave(&ioapic->lock, flags);
	s->base_address = ioapic->base_address;
	s->ioregsel = ioapic->ioregsel;
	s->id = ioapic->id;
	s->irr = ioapic->irr & ~ioapic->irr_delivered;
	for (i = 0; i < KVL_IOAPIC_PINS; i++)
		s->redirtbl[i].bits = ioapic->rte[i];
	spin_unlock_irqrestore(&ioapic->lock, flags);
}

/*
 * As KVM: the registers are taken as given (each is only used through
 * masks and bounds-checked indices), and the pins in @s->irr are raised
 * again, which delivers the unmasked ones.
 */
int kvl_ioapic_set_state(struct kvl_ioapic *ioapic, const struct kvm_ioapic_state *s)
{
	unsigned long flags, irr = s->irr;
	int i;

	spin_lock_irqsave(&ioapic->lock, flags);
	ioapic->base_address = s->base_address;
	ioapic->ioregsel = s->ioregsel;
	ioapic->id = s->id;
	for (i = 0; i < KVL_IOAPIC_PINS; i++)
		ioapic->rte[i] = s->redirtbl[i].bits;
	ioapic->irr = 0;
	ioapic->irr_delivered = 0;
	for_each_set_bit(i, &irr, KVL_IOAPIC_PINS)
		ioapic_set_line(ioapic, i, 1);
	spin_unlock_irqrestore(&ioapic->lock, flags);
	return 0;
}

struct kvl_ioapic *kvl_ioapic_create(struct kvl_vm *vm)
{
	struct kvl_ioapic *ioapic;
	int i, r;

	ioapic = kzalloc(sizeof(*ioapic), GFP_KERNEL_ACCOUNT);
	if (!ioapic)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&ioapic->lock);
	ioapic->vm = vm;
	ioapic->base_address = KVL_IOAPIC_BASE;
	/* "At reset all the redirection table entries are masked." */
	for (i = 0; i < KVL_IOAPIC_PINS; i++)
		ioapic->rte[i] = RTE_MASK;
	ioapic->io = (struct kvl_io_dev){
		.ops = &ioapic_io_ops, .base = KVL_IOAPIC_BASE,
		.len = IOAPIC_MMIO_LEN, .mmio = true,
	};
	r = kvl_io_register(vm, &ioapic->io);
	if (r) {
		kfree(ioapic);
		return ERR_PTR(r);
	}
	return ioapic;
}

void kvl_ioapic_destroy(struct kvl_ioapic *ioapic)
{
	kvl_io_unregister(ioapic->vm, &ioapic->io);
	kfree(ioapic);
}
