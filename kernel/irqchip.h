/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmlite: the in-kernel interrupt controllers and timers, and the bus
 * that routes port I/O and MMIO to them without leaving the kernel.
 *
 * One file per chip: pic.c (two 8259As), ioapic.c (82093AA, 24 pins),
 * pit.c (8254, channel 0 on IRQ 0), lapic.c (one local APIC per vCPU),
 * irq.c (KVM_CREATE_IRQCHIP, KVM_IRQ_LINE, GSI routing, irqfd) and
 * iobus.c (this bus).  They are vendor-blind: the backend only asks
 * lapic.c which vector to inject and tells it when one was delivered.
 */
#ifndef KVMLITE_IRQCHIP_H
#define KVMLITE_IRQCHIP_H

#include <linux/hrtimer.h>
#include <linux/kvm.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct kvl_vm;
struct kvl_vcpu;

/* ---- iobus.c: in-kernel port I/O and MMIO devices ---- */

struct kvl_io_dev;

struct kvl_io_ops {
	/* 0 if handled; @len is 1, 2, 4 or 8; @addr is the port or the GPA. */
	int (*read)(struct kvl_io_dev *dev, struct kvl_vcpu *vcpu, u64 addr,
		    unsigned int len, void *val);
	int (*write)(struct kvl_io_dev *dev, struct kvl_vcpu *vcpu, u64 addr,
		     unsigned int len, const void *val);
};

struct kvl_io_dev {
	const struct kvl_io_ops *ops;
	u64 base;
	u64 len;		/* 0: an ioeventfd for any length at @base */
	bool mmio;
	bool shared;		/* may overlap other shared devices (ioeventfds) */
};

int kvl_io_register(struct kvl_vm *vm, struct kvl_io_dev *dev);
void kvl_io_unregister(struct kvl_vm *vm, struct kvl_io_dev *dev);
void kvl_io_bus_destroy(struct kvl_vm *vm);
/* 0 if an in-kernel device took the access, -ENODEV if userspace must. */
/* kvl_io_read() and kvl_io_write(): inline in kvmlite.h, on every exit's path. */

/* ---- pic.c: master (IRQ 0-7, ports 0x20/0x21) and slave (8-15, 0xa0/0xa1), ELCR 0x4d0/1 ---- */

struct kvl_pic;

struct kvl_pic *kvl_pic_create(struct kvl_vm *vm);	/* registers its ports */
void kvl_pic_destroy(struct kvl_pic *pic);
/* Drive IRQ line @irq (0-15) to @level; edge or level as ELCR says.  Any context. */
void kvl_pic_set_irq(struct kvl_pic *pic, int irq, int level);
/* The same, returning KVM's per-chip line status (-1 masked, 0 coalesced, 1). */
int kvl_pic_set_irq_status(struct kvl_pic *pic, int irq, int level);
/* Is the master's INTR output asserted? */
bool kvl_pic_has_interrupt(struct kvl_pic *pic);
/* INTA: the vector of the highest-priority request, now in service; -1 if none. */
int kvl_pic_ack(struct kvl_pic *pic);
/* KVM_GET/SET_IRQCHIP for KVM_IRQCHIP_PIC_MASTER (0) and _SLAVE (1). */
void kvl_pic_get_state(struct kvl_pic *pic, int chip, struct kvm_pic_state *s);
int kvl_pic_set_state(struct kvl_pic *pic, int chip, const struct kvm_pic_state *s);

/* ---- ioapic.c: MMIO at 0xfec00000 (IOREGSEL 0x00, IOWIN 0x10, EOI 0x40) ---- */

#define KVL_IOAPIC_BASE		0xfec00000ULL
#define KVL_IOAPIC_PINS		24

struct kvl_ioapic;

struct kvl_ioapic *kvl_ioapic_create(struct kvl_vm *vm);	/* registers its MMIO */
void kvl_ioapic_destroy(struct kvl_ioapic *ioapic);
/* Drive pin @pin to @level; delivers through kvl_apic_deliver().  Any context. */
void kvl_ioapic_set_irq(struct kvl_ioapic *ioapic, int pin, int level);
/* The same, returning KVM's per-chip line status (-1 not sent, 0 coalesced, >0). */
int kvl_ioapic_set_irq_status(struct kvl_ioapic *ioapic, int pin, int level);
/* A LAPIC EOI of a level-triggered @vector: clear Remote IRR, re-deliver if still high. */
void kvl_ioapic_eoi(struct kvl_ioapic *ioapic, int vector);
void kvl_ioapic_get_state(struct kvl_ioapic *ioapic, struct kvm_ioapic_state *s);
int kvl_ioapic_set_state(struct kvl_ioapic *ioapic, const struct kvm_ioapic_state *s);

/* ---- pit.c: 8254 at ports 0x40-0x43, speaker/gate port 0x61 ---- */

struct kvl_pit;

struct kvl_pit *kvl_pit_create(struct kvl_vm *vm, u32 flags);	/* KVM_CREATE_PIT2 */
void kvl_pit_destroy(struct kvl_pit *pit);
void kvl_pit_get_state(struct kvl_pit *pit, struct kvm_pit_state2 *s);
int kvl_pit_set_state(struct kvl_pit *pit, const struct kvm_pit_state2 *s);

/* ---- irq.c: lines and routing ---- */

/* Raise or lower GSI @gsi through the VM's routing (PIC and/or IOAPIC, or MSI). */
int kvl_irq_line(struct kvl_vm *vm, u32 gsi, int level);

#define KVL_MAX_IRQ_ROUTES	4096	/* KVM's KVM_MAX_IRQ_ROUTES */

/* KVM_SET_GSI_ROUTING's table, RCU-protected; NULL is KVM's default routing. */
struct kvl_irq_routing {
	u32 nr;
	struct kvm_irq_routing_entry e[];
};

/* ---- eventfd.c: irqfd and ioeventfd ---- */

long kvl_eventfd_vm_ioctl(struct kvl_vm *vm, unsigned int ioctl, void __user *argp);
void kvl_eventfd_vm_destroy(struct kvl_vm *vm);
/* A level interrupt on IOAPIC pin @gsi was EOI'd: resampling irqfds lower it. */
void kvl_irqfd_eoi(struct kvl_vm *vm, u32 gsi);
extern struct workqueue_struct *kvl_irqfd_wq;

/* ---- lapic.c ---- */

#define KVL_APIC_DM_FIXED	0
#define KVL_APIC_DM_LOWEST	1
#define KVL_APIC_DM_SMI		2
#define KVL_APIC_DM_NMI		4
#define KVL_APIC_DM_INIT	5
#define KVL_APIC_DM_SIPI	6
#define KVL_APIC_DM_EXTINT	7

#define KVL_APIC_SH_NONE	0	/* ICR destination shorthands */
#define KVL_APIC_SH_SELF	1
#define KVL_APIC_SH_ALL		2
#define KVL_APIC_SH_OTHERS	3

struct kvl_lapic;

/*
 * An interrupt message, as an IOAPIC redirection entry, an MSI or an IPI
 * carries it (physical or logical destination, 0xff = broadcast in xAPIC
 * mode; an IPI may name its targets by shorthand instead, relative to
 * @src).  Returns how many LAPICs accepted it.  Lowest priority goes to
 * one enabled LAPIC among those addressed: see kvl_apic_deliver().
 */
struct kvl_apic_irq {
	u32 dest;
	u8 vector;
	u8 delivery_mode;	/* KVL_APIC_DM_* */
	u8 shorthand;		/* KVL_APIC_SH_*: IPIs only */
	bool logical;
	bool level;		/* level-triggered (the IOAPIC wants the EOI) */
	struct kvl_lapic *src;	/* the sending LAPIC, for shorthands */
};

/*
 * How a LAPIC's interrupts reach its vCPU.  lapic.c's software version
 * keeps IRR/ISR in the APIC page and injects through the backend's event
 * injection; an accelerated one (AVIC's backing page and doorbell, APICv's
 * posted-interrupt descriptor and virtual-interrupt delivery) replaces these
 * through kvl_apic_set_hooks() before any VM exists.  The register page is
 * already in the architectural xAPIC layout those use.
 */
struct kvl_apic_hooks {
	const char *name;
	/* Post @vector (TMR from @level) and make the vCPU notice it; any context. */
	void (*deliver)(struct kvl_lapic *apic, int vector, bool level);
	/* The vector the vCPU would take now (IRR above PPR), or -1; the vCPU's thread. */
	int (*pending)(struct kvl_lapic *apic);
	/* INTA: move @vector from IRR to ISR; the vCPU's thread. */
	void (*ack)(struct kvl_lapic *apic, int vector);
	/* EOI: retire the highest in-service vector and return it, or -1. */
	int (*eoi)(struct kvl_lapic *apic);
};

void kvl_apic_set_hooks(const struct kvl_apic_hooks *hooks);

int kvl_apic_deliver(struct kvl_vm *vm, const struct kvl_apic_irq *irq);
/* The PIC's output changed: the vCPU that takes ExtINT must look again. */
void kvl_apic_extint_changed(struct kvl_vm *vm);

#endif /* KVMLITE_IRQCHIP_H */
