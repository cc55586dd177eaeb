// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: the local APIC, one per vCPU when the VM has an in-kernel
 * irqchip (Intel SDM vol. 3, chapter 11; AMD APM vol. 2, chapter 16).
 *
 * The register file is kept in the xAPIC MMIO layout, 16 bytes a
 * register, which is also the layout of struct kvm_lapic_state.  IRR and
 * TMR bits are set with atomic bit operations, from any CPU and any
 * context (IPIs, the IOAPIC, MSIs, the timer); everything else belongs to
 * the vCPU's thread.  Reached three ways: xAPIC MMIO through the I/O bus,
 * x2APIC MSRs (0x800-0x8ff), and the timer (an hrtimer: one-shot,
 * periodic and TSC-deadline; the APIC bus runs at 1 GHz as in KVM).
 *
 * Posting a vector, picking the one to inject, INTA and EOI go through
 * a struct kvl_apic_hooks (irqchip.h), so that AVIC or APICv can take
 * them over; apic_sw_hooks below is the software version every backend
 * uses today.  Lowest-priority messages are arbitrated as KVM does (see
 * kvl_apic_deliver()).
 */
#include <linux/moduleparam.h>
#include <linux/hrtimer.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/apicdef.h>
#include <asm/msr-index.h>
/* smp_send_reschedule() traces through this on 6.3 and later. */
#include <trace/events/ipi.h>
#include "kvmlite.h"

#define LAPIC_VERSION		(0x14 | ((KVL_LVT_NR - 1) << 16))	/* as KVM */
#define KVL_LVT_NR		6	/* timer, thermal, perfmon, LINT0, LINT1, error */
#define LVT_MASKED		BIT(16)
#define LVT_LEVEL		BIT(15)
#define LVT_REMOTE_IRR		BIT(14)
#define LVT_PENDING		BIT(12)
#define LVT_DM(v)		(((v) >> 8) & 7)
#define TIMER_MODE(v)		(((v) >> 17) & 3)
#define TIMER_ONESHOT		0
#define TIMER_PERIODIC		1
#define TIMER_TSCDEADLINE	2
#define SVR_ENABLE		BIT(8)
#define ICR_BUSY		BIT(12)
#define ICR_LEVEL_ASSERT	BIT(14)
#define ICR_LEVEL_TRIG		BIT(15)
#define ICR_LOGICAL		BIT(11)
#define ICR_SHORTHAND(v)	(((v) >> 18) & 3)
#define X2APIC_MSR_BASE		0x800

/*
 * Lowest-priority arbitration, as KVM's module parameter of that name:
 * with vector hashing (KVM's default) the message goes to the
 * (vector mod n)-th of the n enabled LAPICs addressed, so one vector
 * always lands on the same vCPU; without, to the one that has taken the
 * fewest lowest-priority messages so far (KVM's apic_arb_prio), which
 * spreads them round-robin.  KVM never looks at the PPR here, and
 * neither do we.
 */
static bool vector_hashing = true;
module_param(vector_hashing, bool, 0444);
MODULE_PARM_DESC(vector_hashing, "Lowest-priority interrupts: pick the target by vector (default), else round-robin");

struct kvl_lapic {
	struct kvl_vcpu *vcpu;
	u8 *regs;			/* one page, xAPIC layout */
	struct hrtimer timer;
	u64 period_ns;			/* periodic mode */
	u64 tsc_deadline;
	ktime_t expires;
	bool x2apic;
	bool hw_enabled;		/* IA32_APIC_BASE.EN */
	const struct kvl_apic_hooks *hooks;
	u32 arb_prio;			/* lowest-priority messages taken (no vector hashing) */
};

static inline u32 apic_get(struct kvl_lapic *a, u32 reg)
{
	return READ_ONCE(*(u32 *)(a->regs + reg));
}

static inline void apic_set(struct kvl_lapic *a, u32 reg, u32 v)
{
	WRITE_ONCE(*(u32 *)(a->regs + reg), v);
}

static inline bool apic_sw_enabled(struct kvl_lapic *a)
{
	return apic_get(a, APIC_SPIV) & SVR_ENABLE;
}

static inline bool apic_enabled(struct kvl_lapic *a)
{
	return a->hw_enabled && apic_sw_enabled(a);
}

/* The 256-bit IRR/ISR/TMR arrays: eight 32-bit registers 16 bytes apart. */
static inline unsigned long *apic_vec_word(struct kvl_lapic *a, u32 base, int vec)
{
	return (unsigned long *)(a->regs + base + (vec / 32) * 0x10);
}

static void apic_vec_set(struct kvl_lapic *a, u32 base, int vec)
{
	set_bit(vec % 32, apic_vec_word(a, base, vec));
}

static void apic_vec_clear(struct kvl_lapic *a, u32 base, int vec)
{
	clear_bit(vec % 32, apic_vec_word(a, base, vec));
}

static bool apic_vec_test(struct kvl_lapic *a, u32 base, int vec)
{
	return test_bit(vec % 32, apic_vec_word(a, base, vec));
}

/* Highest vector set in IRR/ISR/TMR, or -1. */
static int apic_find_highest(struct kvl_lapic *a, u32 base)
{
	int i;

	for (i = 7; i >= 0; i--) {
		u32 w = READ_ONCE(*(u32 *)(a->regs + base + i * 0x10));

		if (w)
			return i * 32 + __fls(w);
	}
	return -1;
}

/* PPR (SDM 11.8.3.1): the higher of TPR and the in-service class. */
static u32 apic_ppr(struct kvl_lapic *a)
{
	u32 tpr = apic_get(a, APIC_TASKPRI) & 0xff;
	int isr = apic_find_highest(a, APIC_ISR);
	u32 isrv = isr < 0 ? 0 : isr;

	return (tpr & 0xf0) >= (isrv & 0xf0) ? tpr : (isrv & 0xf0);
}

/* The vector the APIC would deliver now, or -1. */
static int apic_pending_vector(struct kvl_lapic *a)
{
	int irr;

	if (!apic_enabled(a))
		return -1;
	irr = apic_find_highest(a, APIC_IRR);
	if (irr < 0 || (irr & 0xf0) <= (apic_ppr(a) & 0xf0))
		return -1;
	return irr;
}

/* Wake the vCPU if it sleeps in HLT, or pull it out of the guest. */
void kvl_vcpu_kick(struct kvl_vcpu *vcpu)
{
	int cpu;

	wake_up_interruptible(&vcpu->wq);
	/* Pairs with smp_store_mb(mode) in the run loop: see the event or IPI. */
	smp_mb();
	cpu = READ_ONCE(vcpu->cpu);
	if (READ_ONCE(vcpu->mode) == KVL_IN_GUEST && cpu != raw_smp_processor_id())
		smp_send_reschedule(cpu);
}

/* ---- the software hooks: IRR/ISR in the APIC page, injection by the backend ---- */

/* Post @vec to the IRR (and TMR for level-triggered). */
static void apic_sw_deliver(struct kvl_lapic *a, int vec, bool level)
{
	if (level)
		apic_vec_set(a, APIC_TMR, vec);
	else
		apic_vec_clear(a, APIC_TMR, vec);
	apic_vec_set(a, APIC_IRR, vec);
	kvl_vcpu_kick(a->vcpu);
}

static void apic_sw_ack(struct kvl_lapic *a, int vec)
{
	apic_vec_clear(a, APIC_IRR, vec);
	apic_vec_set(a, APIC_ISR, vec);
}

static int apic_sw_eoi(struct kvl_lapic *a)
{
	int vec = apic_find_highest(a, APIC_ISR);

	if (vec >= 0)
		apic_vec_clear(a, APIC_ISR, vec);
	return vec;
}

static const struct kvl_apic_hooks apic_sw_hooks = {
	.name		= "software",
	.deliver	= apic_sw_deliver,
	.pending	= apic_pending_vector,
	.ack		= apic_sw_ack,
	.eoi		= apic_sw_eoi,
};

static const struct kvl_apic_hooks *apic_hooks = &apic_sw_hooks;

/*
 * Install accelerated hooks (NULL: back to software).  Only while no VM
 * exists: each LAPIC keeps the hooks it was created with.
 */
void kvl_apic_set_hooks(const struct kvl_apic_hooks *hooks)
{
	apic_hooks = hooks ? hooks : &apic_sw_hooks;
}

static void kvl_apic_set_irr(struct kvl_lapic *a, int vec, bool level)
{
	a->hooks->deliver(a, vec, level);
}

static void apic_set_error(struct kvl_lapic *a, u32 bit)
{
	u32 lvt = apic_get(a, APIC_LVTERR);

	apic_set(a, APIC_ESR, apic_get(a, APIC_ESR) | bit);
	if (!(lvt & LVT_MASKED) && (lvt & 0xff) >= 16)
		kvl_apic_set_irr(a, lvt & 0xff, false);
}

/* Accept one message for this APIC (SDM 10.6.1 delivery modes). */
static int apic_accept(struct kvl_lapic *a, const struct kvl_apic_irq *irq)
{
	struct kvl_vcpu *vcpu = a->vcpu;

	switch (irq->delivery_mode) {
	case KVL_APIC_DM_LOWEST:
		a->arb_prio++;
		fallthrough;
	case KVL_APIC_DM_FIXED:
		if (!apic_enabled(a))
			return 0;
		if (irq->vector < 16) {
			apic_set_error(a, APIC_ESR_RECVILL);
			return 0;
		}
		kvl_apic_set_irr(a, irq->vector, irq->level);
		return 1;
	case KVL_APIC_DM_NMI:
		kvl_vcpu_queue_nmi(vcpu);
		return 1;
	case KVL_APIC_DM_INIT:
		/* A new INIT drops a SIPI not yet taken (KVM does the same). */
		clear_bit(KVL_REQ_SIPI, &vcpu->requests);
		set_bit(KVL_REQ_INIT, &vcpu->requests);
		kvl_vcpu_kick(vcpu);
		return 1;
	case KVL_APIC_DM_SIPI:
		WRITE_ONCE(vcpu->sipi_vector, irq->vector);
		/* The vector before the request that says it is there. */
		smp_wmb();
		set_bit(KVL_REQ_SIPI, &vcpu->requests);
		kvl_vcpu_kick(vcpu);
		return 1;
	case KVL_APIC_DM_EXTINT:
		kvl_vcpu_kick(vcpu);
		return 1;
	default:	/* SMI: no SMM here */
		return 0;
	}
}

static bool apic_match_logical(struct kvl_lapic *a, u32 dest)
{
	u32 ldr = apic_get(a, APIC_LDR);

	if (a->x2apic)
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	dest &= 0xff;
	ldr >>= 24;
	if ((apic_get(a, APIC_DFR) >> 28) == 0xf)	/* flat */
		return dest & ldr;
	/* cluster: high nibble the cluster, low nibble the members */
	return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);
}

static bool apic_match_dest(struct kvl_lapic *a, u32 dest, bool logical)
{
	u32 bcast = a->x2apic ? 0xffffffff : 0xff;

	if (dest == bcast)
		return true;
	if (logical)
		return apic_match_logical(a, dest);
	return a->x2apic ? dest == a->vcpu->id : (dest & 0xff) == (apic_get(a, APIC_ID) >> 24);
}

/* Is @a among the message's targets (destination, or the IPI's shorthand)? */
static bool apic_addressed(struct kvl_lapic *a, const struct kvl_apic_irq *irq)
{
	switch (irq->shorthand) {
	case KVL_APIC_SH_SELF:
		return a == irq->src;
	case KVL_APIC_SH_ALL:
		return true;
	case KVL_APIC_SH_OTHERS:
		return a != irq->src;
	default:
		return apic_match_dest(a, irq->dest, irq->logical);
	}
}

/*
 * Deliver a message to every LAPIC it addresses; a lowest-priority one
 * to a single enabled LAPIC among them, chosen as KVM's
 * kvm_irq_delivery_to_apic() does (the vector_hashing parameter above).
 * Candidates are taken in vCPU creation order.
 */
int kvl_apic_deliver(struct kvl_vm *vm, const struct kvl_apic_irq *irq)
{
	/* Pairs with the release in kvl_create_vcpu(): vCPUs [0, n) are set up. */
	int i, n = smp_load_acquire(&vm->nr_vcpus), got = 0, nr_cand = 0, k;
	bool lowest = irq->delivery_mode == KVL_APIC_DM_LOWEST;
	struct kvl_lapic *pick = NULL;

	for (i = 0; i < n; i++) {
		struct kvl_lapic *a = kvl_get_vcpu(vm, i)->lapic;

		if (!a || !apic_addressed(a, irq))
			continue;
		if (!lowest) {
			got += apic_accept(a, irq);
			continue;
		}
		if (!apic_enabled(a))
			continue;
		nr_cand++;
		if (!pick || (s32)(a->arb_prio - pick->arb_prio) < 0)
			pick = a;
	}
	if (!nr_cand)
		return got;
	if (vector_hashing) {
		/* The (vector % candidates)-th candidate: a second walk, no bitmap. */
		k = irq->vector % nr_cand;
		for (i = 0; i < n; i++) {
			struct kvl_lapic *a = kvl_get_vcpu(vm, i)->lapic;

			if (a && apic_addressed(a, irq) && apic_enabled(a) && !k--) {
				pick = a;
				break;
			}
		}
	}
	return apic_accept(pick, irq);
}

/* ---- the vCPU side: what to inject, EOI ---- */

/* LINT0 takes ExtINT: the APIC is off in hardware, or LVT0 unmasked in ExtINT mode. */
static bool apic_lint0_extint(struct kvl_lapic *a)
{
	u32 lint0 = apic_get(a, APIC_LVT0);

	if (!a->hw_enabled)
		return true;
	return !(lint0 & LVT_MASKED) && LVT_DM(lint0) == KVL_APIC_DM_EXTINT;
}

/* Does the in-kernel PIC's output reach this vCPU (BSP only)? */
static bool apic_accepts_pic(struct kvl_vcpu *vcpu)
{
	if (vcpu->id != 0 || !vcpu->vm->pic)
		return false;
	return apic_lint0_extint(vcpu->lapic);
}

/*
 * Split irqchip: would KVM_INTERRUPT's vector (the userspace PIC's) be
 * taken, as KVM's kvm_apic_accept_pic_intr(), on any vCPU?
 */
bool kvl_apic_accepts_extint(struct kvl_vcpu *vcpu)
{
	return apic_lint0_extint(vcpu->lapic);
}

bool kvl_apic_has_interrupt(struct kvl_vcpu *vcpu)
{
	if (!vcpu->lapic)
		return false;
	if (vcpu->user_irq >= 0 && apic_lint0_extint(vcpu->lapic))
		return true;
	if (apic_accepts_pic(vcpu) && kvl_pic_has_interrupt(vcpu->vm->pic))
		return true;
	return vcpu->lapic->hooks->pending(vcpu->lapic) >= 0;
}

/* INTA: the vector to inject, now in service (ExtINT first, as it wins). */
int kvl_apic_ack(struct kvl_vcpu *vcpu)
{
	struct kvl_lapic *a = vcpu->lapic;
	int vec;

	if (vcpu->user_irq >= 0 && apic_lint0_extint(a)) {
		vec = vcpu->user_irq;
		vcpu->user_irq = -1;
		return vec;
	}
	if (apic_accepts_pic(vcpu) && kvl_pic_has_interrupt(vcpu->vm->pic)) {
		vec = kvl_pic_ack(vcpu->vm->pic);
		if (vec >= 0)
			return vec;
	}
	vec = a->hooks->pending(a);
	if (vec < 0)
		return -1;
	a->hooks->ack(a, vec);
	return vec;
}

void kvl_apic_extint_changed(struct kvl_vm *vm)
{
	/* The BSP (id 0, whenever it was created) takes ExtINT: apic_accepts_pic(). */
	struct kvl_vcpu *bsp = smp_load_acquire(&vm->bsp);

	if (bsp)
		kvl_vcpu_kick(bsp);
}

/*
 * Split irqchip: is @vec one of the userspace IOAPIC's level-triggered
 * interrupts to this LAPIC?  KVM's kvm_scan_ioapic_routes(), evaluated at
 * the EOI rather than cached: MSI routes of the reserved GSIs, trigger
 * mode level, this vector, a destination that matches.
 */
static bool apic_split_eoi(struct kvl_lapic *a, int vec)
{
	struct kvl_vm *vm = a->vcpu->vm;
	struct kvl_irq_routing *rt;
	bool hit = false;
	u32 i;

	rcu_read_lock();
	rt = rcu_dereference(vm->routing);
	for (i = 0; rt && i < rt->nr && !hit; i++) {
		const struct kvm_irq_routing_entry *e = &rt->e[i];
		u32 data = e->u.msi.data, addr = e->u.msi.address_lo;

		if (e->type != KVM_IRQ_ROUTING_MSI || e->gsi >= vm->split_ioapic_pins ||
		    (data & 0xff) != vec || !(data & BIT(15)))
			continue;
		hit = apic_match_dest(a, (addr >> 12) & 0xff, addr & BIT(2));
	}
	rcu_read_unlock();
	return hit;
}

static void apic_eoi(struct kvl_lapic *a)
{
	int vec = a->hooks->eoi(a);

	if (vec < 0)
		return;
	/* Split irqchip: the userspace IOAPIC hears of it by an exit. */
	if (a->vcpu->vm->irqchip_split) {
		if (apic_split_eoi(a, vec)) {
			a->vcpu->pending_ioapic_eoi = vec;
			set_bit(KVL_REQ_IOAPIC_EOI, &a->vcpu->requests);
		}
		return;
	}
	if (apic_vec_test(a, APIC_TMR, vec) && a->vcpu->vm->ioapic)
		kvl_ioapic_eoi(a->vcpu->vm->ioapic, vec);
}

/* ---- timer ---- */

static u32 apic_divisor(struct kvl_lapic *a)
{
	u32 d = apic_get(a, APIC_TDCR) & 0xb;

	d = ((d & 8) >> 1) | (d & 3);	/* bits 3,1,0 -> a 3-bit code */
	return d == 7 ? 1 : 2U << d;
}

static void apic_timer_fire(struct kvl_lapic *a)
{
	u32 lvt = apic_get(a, APIC_LVTT);

	if (!(lvt & LVT_MASKED) && apic_enabled(a))
		kvl_apic_set_irr(a, lvt & 0xff, false);
}

static enum hrtimer_restart apic_timer_fn(struct hrtimer *t)
{
	struct kvl_lapic *a = container_of(t, struct kvl_lapic, timer);

	apic_timer_fire(a);
	if (TIMER_MODE(apic_get(a, APIC_LVTT)) == TIMER_PERIODIC && a->period_ns) {
		a->expires = ktime_add_ns(a->expires, a->period_ns);
		hrtimer_set_expires(t, a->expires);
		return HRTIMER_RESTART;
	}
	a->expires = 0;
	return HRTIMER_NORESTART;
}

/* (Re)arm from TMICT (one-shot/periodic) or the TSC deadline. */
static void apic_timer_start(struct kvl_lapic *a)
{
	u32 mode = TIMER_MODE(apic_get(a, APIC_LVTT));
	u64 ns;

	hrtimer_cancel(&a->timer);
	a->expires = 0;
	a->period_ns = 0;
	if (mode == TIMER_TSCDEADLINE) {
		u64 tsc, delta;

		if (!a->tsc_deadline)
			return;
		kvl_get_msr(a->vcpu, MSR_IA32_TSC, &tsc, true);
		delta = a->tsc_deadline > tsc ? a->tsc_deadline - tsc : 0;
		ns = div64_u64(delta * 1000000ULL, max_t(u32, tsc_khz, 1));
	} else {
		u32 count = apic_get(a, APIC_TMICT);

		if (!count)
			return;
		ns = (u64)count * apic_divisor(a);
		if (mode == TIMER_PERIODIC)
			a->period_ns = max_t(u64, ns, 100000);	/* KVM's floor: 100 us */
	}
	a->expires = ktime_add_ns(ktime_get(), ns);
	hrtimer_start(&a->timer, a->expires, HRTIMER_MODE_ABS);
}

static u32 apic_timer_ccr(struct kvl_lapic *a)
{
	ktime_t rem;

	if (TIMER_MODE(apic_get(a, APIC_LVTT)) == TIMER_TSCDEADLINE || !a->expires)
		return 0;
	rem = ktime_sub(a->expires, ktime_get());
	if (ktime_to_ns(rem) <= 0)
		return 0;
	return div_u64(ktime_to_ns(rem), apic_divisor(a));
}

/* ---- register access ---- */

static void apic_update_ldr_id(struct kvl_lapic *a)
{
	if (a->x2apic) {
		u32 id = a->vcpu->id;

		apic_set(a, APIC_ID, id);
		apic_set(a, APIC_LDR, ((id >> 4) << 16) | (1 << (id & 0xf)));
	}
}

static void apic_send_ipi(struct kvl_lapic *a, u32 lo, u32 dest)
{
	struct kvl_vm *vm = a->vcpu->vm;
	struct kvl_apic_irq irq = {
		.vector = lo & 0xff,
		.delivery_mode = LVT_DM(lo),
		.shorthand = ICR_SHORTHAND(lo),
		.logical = lo & ICR_LOGICAL,
		.level = lo & ICR_LEVEL_ASSERT,
		.dest = dest,
		.src = a,
	};

	/* Fixed, lowest priority, SMI, NMI, INIT (assert or deassert) and SIPI carry "assert". */
	if (irq.delivery_mode != KVL_APIC_DM_INIT)
		irq.level = !!(lo & ICR_LEVEL_TRIG) && irq.level;
	if (irq.delivery_mode == KVL_APIC_DM_INIT && (lo & ICR_LEVEL_TRIG) &&
	    !(lo & ICR_LEVEL_ASSERT))
		return;	/* INIT level de-assert: nothing since the P4 */
	if (irq.delivery_mode == KVL_APIC_DM_INIT)
		irq.level = true;
	kvl_apic_deliver(vm, &irq);
}

/*
 * TPR accesses are reported to userspace when it asked (QEMU's kvmvapic
 * patches the instruction): KVM_EXIT_TPR_ACCESS before the next entry,
 * with the RIP of the accessing instruction, as KVM's report_tpr_access().
 */
static void apic_report_tpr(struct kvl_lapic *a, bool write)
{
	struct kvl_vcpu *vcpu = a->vcpu;

	if (likely(!vcpu->tpr_access_reporting))
		return;
	vcpu->run->tpr_access.rip = vcpu->rip;
	vcpu->run->tpr_access.is_write = write;
	set_bit(KVL_REQ_REPORT_TPR, &vcpu->requests);
}

static u32 apic_read_reg(struct kvl_lapic *a, u32 reg)
{
	switch (reg) {
	case APIC_TASKPRI:
		apic_report_tpr(a, false);
		return apic_get(a, reg);
	case APIC_ARBPRI:
		return 0;
	case APIC_PROCPRI:
		return apic_ppr(a);
	case APIC_TMCCT:
		return apic_timer_ccr(a);
	default:
		return apic_get(a, reg);
	}
}

/* A register write; returns false for an invalid one (#GP in x2APIC mode). */
static bool apic_write_reg(struct kvl_lapic *a, u32 reg, u32 val)
{
	static const u32 lvt_mask[KVL_LVT_NR] = {
		0x701ff | LVT_MASKED,		/* timer: vector, mode (2 bits), mask */
		0x007ff | LVT_MASKED,		/* thermal */
		0x007ff | LVT_MASKED,		/* perfmon */
		0x0e7ff | LVT_MASKED,		/* LINT0: + polarity, trigger, remote irr */
		0x0e7ff | LVT_MASKED,		/* LINT1 */
		0x000ff | LVT_MASKED,		/* error */
	};
	u32 lvt_regs[KVL_LVT_NR] = {
		APIC_LVTT, APIC_LVTTHMR, APIC_LVTPC, APIC_LVT0, APIC_LVT1, APIC_LVTERR,
	};
	int i;

	switch (reg) {
	case APIC_ID:
		if (a->x2apic)
			return false;
		apic_set(a, APIC_ID, val & 0xff000000);
		return true;
	case APIC_TASKPRI:
		apic_report_tpr(a, true);
		apic_set(a, APIC_TASKPRI, val & 0xff);
		return true;
	case APIC_EOI:
		apic_eoi(a);
		return true;
	case APIC_LDR:
		if (a->x2apic)
			return false;
		apic_set(a, APIC_LDR, val & 0xff000000);
		return true;
	case APIC_DFR:
		if (a->x2apic)
			return false;
		apic_set(a, APIC_DFR, val | 0x0fffffff);
		return true;
	case APIC_SPIV:
		apic_set(a, APIC_SPIV, val & 0x3ff);
		if (!(val & SVR_ENABLE)) {
			/* Software disable masks every LVT (SDM 11.4.7.2). */
			for (i = 0; i < KVL_LVT_NR; i++)
				apic_set(a, lvt_regs[i], apic_get(a, lvt_regs[i]) | LVT_MASKED);
		}
		return true;
	case APIC_ESR:
		apic_set(a, APIC_ESR, 0);
		return true;
	case APIC_ICR:
		apic_set(a, APIC_ICR, val & ~ICR_BUSY);
		apic_send_ipi(a, val, a->x2apic ? apic_get(a, APIC_ICR2) :
				      apic_get(a, APIC_ICR2) >> 24);
		return true;
	case APIC_ICR2:
		if (a->x2apic)
			return false;
		apic_set(a, APIC_ICR2, val & 0xff000000);
		return true;
	case APIC_LVTT:
	case APIC_LVTTHMR:
	case APIC_LVTPC:
	case APIC_LVT0:
	case APIC_LVT1:
	case APIC_LVTERR:
		for (i = 0; lvt_regs[i] != reg; i++)
			;
		if (!apic_sw_enabled(a))
			val |= LVT_MASKED;
		if (reg == APIC_LVTT) {
			u32 old = apic_get(a, APIC_LVTT);

			/* Mode 3 is reserved; TSC-deadline needs the CPUID bit we offer. */
			if (TIMER_MODE(val) == 3)
				val &= ~(3 << 17);
			apic_set(a, reg, val & lvt_mask[i]);
			if (TIMER_MODE(old) != TIMER_MODE(val)) {
				hrtimer_cancel(&a->timer);
				a->expires = 0;
				apic_set(a, APIC_TMICT, 0);
				a->tsc_deadline = 0;
			}
			return true;
		}
		apic_set(a, reg, (apic_get(a, reg) & (LVT_REMOTE_IRR | LVT_PENDING)) |
				 (val & lvt_mask[i] & ~(LVT_REMOTE_IRR | LVT_PENDING)));
		return true;
	case APIC_TMICT:
		if (TIMER_MODE(apic_get(a, APIC_LVTT)) == TIMER_TSCDEADLINE)
			return true;
		apic_set(a, APIC_TMICT, val);
		apic_timer_start(a);
		return true;
	case APIC_TDCR:
		apic_set(a, APIC_TDCR, val & 0xb);
		return true;
	case APIC_SELF_IPI:
		if (!a->x2apic)
			return false;
		apic_accept(a, &(struct kvl_apic_irq){ .vector = val & 0xff });
		return true;
	default:
		/* Read-only or reserved: ignored in xAPIC mode, #GP in x2APIC mode. */
		return !a->x2apic;
	}
}

static bool apic_reg_readable(u32 reg)
{
	switch (reg) {
	case APIC_ID: case APIC_LVR: case APIC_TASKPRI: case APIC_ARBPRI:
	case APIC_PROCPRI: case APIC_LDR: case APIC_DFR: case APIC_SPIV:
	case APIC_ISR ... APIC_ISR + 0x70: case APIC_TMR ... APIC_TMR + 0x70:
	case APIC_IRR ... APIC_IRR + 0x70: case APIC_ESR: case APIC_ICR:
	case APIC_ICR2: case APIC_LVTT: case APIC_LVTTHMR: case APIC_LVTPC:
	case APIC_LVT0: case APIC_LVT1: case APIC_LVTERR: case APIC_TMICT:
	case APIC_TMCCT: case APIC_TDCR:
		return !(reg & 0xf);
	default:
		return false;
	}
}

/* xAPIC MMIO: 32-bit aligned accesses to the vCPU's own APIC page. */
static int apic_mmio_read(struct kvl_io_dev *dev, struct kvl_vcpu *vcpu, u64 addr,
			  unsigned int len, void *val)
{
	struct kvl_lapic *a = vcpu->lapic;
	u32 reg = addr & 0xff0, v = 0;

	if (a && !a->x2apic && a->hw_enabled && apic_reg_readable(reg))
		v = apic_read_reg(a, reg);
	v >>= (addr & 3) * 8;
	memcpy(val, &v, min(len, 4U));
	if (len > 4)
		memset((u8 *)val + 4, 0, len - 4);
	return 0;
}

static int apic_mmio_write(struct kvl_io_dev *dev, struct kvl_vcpu *vcpu, u64 addr,
			   unsigned int len, const void *val)
{
	struct kvl_lapic *a = vcpu->lapic;
	u32 v = 0;

	/* Only aligned 32-bit writes reach a register (SDM 11.4.1). */
	if (!a || a->x2apic || !a->hw_enabled || (addr & 0xf) || len < 4)
		return 0;
	memcpy(&v, val, 4);
	apic_write_reg(a, addr & 0xff0, v);
	return 0;
}

/* ---- x2APIC MSRs, IA32_APIC_BASE, TSC deadline: called from msr.c ---- */

int kvl_apic_get_msr(struct kvl_vcpu *vcpu, u32 msr, u64 *data)
{
	struct kvl_lapic *a = vcpu->lapic;
	u32 reg = (msr - X2APIC_MSR_BASE) << 4;

	if (msr == MSR_IA32_TSC_DEADLINE) {
		*data = a->tsc_deadline;
		return 0;
	}
	if (!a->x2apic || (reg != APIC_ICR && !apic_reg_readable(reg)) || reg == APIC_DFR)
		return 1;
	*data = apic_read_reg(a, reg);
	if (reg == APIC_ICR)
		*data |= (u64)apic_get(a, APIC_ICR2) << 32;
	return 0;
}

int kvl_apic_set_msr(struct kvl_vcpu *vcpu, u32 msr, u64 data)
{
	struct kvl_lapic *a = vcpu->lapic;
	u32 reg = (msr - X2APIC_MSR_BASE) << 4;

	if (msr == MSR_IA32_TSC_DEADLINE) {
		if (TIMER_MODE(apic_get(a, APIC_LVTT)) != TIMER_TSCDEADLINE)
			return 0;	/* ignored outside TSC-deadline mode */
		a->tsc_deadline = data;
		apic_timer_start(a);
		return 0;
	}
	if (!a->x2apic)
		return 1;
	if (reg == APIC_ICR) {
		apic_set(a, APIC_ICR2, data >> 32);
		return !apic_write_reg(a, APIC_ICR, (u32)data);
	}
	if ((data >> 32) || (reg == APIC_EOI && data) || (reg == APIC_SELF_IPI && (data >> 8)))
		return 1;
	return !apic_write_reg(a, reg, data);
}

bool kvl_apic_msr(u32 msr)
{
	return (msr >= X2APIC_MSR_BASE && msr < X2APIC_MSR_BASE + 0x100) ||
	       msr == MSR_IA32_TSC_DEADLINE;
}

/*
 * IA32_APIC_BASE with an in-kernel APIC: enable/disable and the x2APIC
 * switch (SDM 11.12.5: x2APIC only from xAPIC, back only through disable).
 */
int kvl_apic_set_base(struct kvl_vcpu *vcpu, u64 val, bool host)
{
	struct kvl_lapic *a = vcpu->lapic;
	bool en = val & MSR_IA32_APICBASE_ENABLE, x2 = val & X2APIC_ENABLE;

	if (x2 && !kvl_guest_has_x2apic(vcpu))
		return 1;
	if (!host && ((a->x2apic && en && !x2) || (!a->hw_enabled && en && x2)))
		return 1;
	/* The xAPIC page moves with the base (kvl_apic_mmio_hit()). */
	vcpu->msrs.apic_base = val;
	a->hw_enabled = en;
	if (a->x2apic != x2) {
		a->x2apic = x2;
		if (!x2)
			apic_set(a, APIC_ID, (u32)(u8)vcpu->id << 24);
		apic_update_ldr_id(a);
	}
	if (!en)
		hrtimer_cancel(&a->timer);
	return 0;
}

u8 kvl_apic_get_tpr(struct kvl_vcpu *vcpu)
{
	return apic_get(vcpu->lapic, APIC_TASKPRI) >> 4;
}

void kvl_apic_set_tpr(struct kvl_vcpu *vcpu, u8 cr8)
{
	apic_set(vcpu->lapic, APIC_TASKPRI, (cr8 & 0xf) << 4);
}

/*
 * KVM_SET_VAPIC_ADDR: the 32-bit word QEMU's kvmvapic ROM reads and writes
 * instead of the TPR register.  As KVM: only with an in-kernel LAPIC, and
 * the word must lie in guest memory (-EINVAL otherwise); 0 turns it off.
 */
int kvl_apic_set_vapic_addr(struct kvl_vcpu *vcpu, u64 gpa)
{
	u32 probe;

	if (gpa && kvl_read_guest(vcpu->vm, gpa, &probe, sizeof(probe)))
		return -EINVAL;
	vcpu->vapic_addr = gpa;
	return 0;
}

/* Before an entry: TPR, the highest in-service class and pending vector. */
void kvl_apic_sync_to_vapic(struct kvl_vcpu *vcpu)
{
	struct kvl_lapic *a = vcpu->lapic;
	int irr = apic_find_highest(a, APIC_IRR);
	int isr = apic_find_highest(a, APIC_ISR);
	u32 data;

	/* As KVM: only while the APIC is enabled in hardware and software. */
	if (!apic_enabled(a))
		return;
	data = (apic_get(a, APIC_TASKPRI) & 0xff) | ((max(isr, 0) & 0xf0) << 8) |
	       ((u32)max(irr, 0) << 24);
	/* A slot gone since KVM_SET_VAPIC_ADDR: nothing to mirror, as KVM. */
	kvl_write_guest(vcpu->vm, vcpu->vapic_addr, &data, sizeof(data));
}

/* After an exit: the TPR the guest wrote into the word. */
void kvl_apic_sync_from_vapic(struct kvl_vcpu *vcpu)
{
	u32 data;

	if (!kvl_read_guest(vcpu->vm, vcpu->vapic_addr, &data, sizeof(data)))
		apic_set(vcpu->lapic, APIC_TASKPRI, data & 0xff);
}

/* ---- state, reset, life cycle ---- */

/* Power-on and INIT state (SDM 11.4.7.1): everything zero but these. */
void kvl_apic_reset(struct kvl_vcpu *vcpu)
{
	struct kvl_lapic *a = vcpu->lapic;
	int i;

	hrtimer_cancel(&a->timer);
	a->expires = 0;
	a->tsc_deadline = 0;
	memset(a->regs, 0, PAGE_SIZE);
	apic_set(a, APIC_ID, (u32)(u8)vcpu->id << 24);
	apic_set(a, APIC_LVR, LAPIC_VERSION);
	apic_set(a, APIC_DFR, 0xffffffff);
	apic_set(a, APIC_SPIV, 0xff);
	for (i = 0; i < KVL_LVT_NR; i++)
		apic_set(a, APIC_LVTT + 0x10 * i, LVT_MASKED);
	/* As KVM (its LINT0_REENABLED quirk): the BSP takes the PIC's ExtINT from reset. */
	if (!vcpu->id)
		apic_set(a, APIC_LVT0, KVL_APIC_DM_EXTINT << 8);
	a->hw_enabled = true;
	a->x2apic = false;
	vcpu->msrs.apic_base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE |
			       (vcpu->id ? 0 : MSR_IA32_APICBASE_BSP);
}

int kvl_apic_get_state(struct kvl_vcpu *vcpu, struct kvm_lapic_state __user *argp)
{
	struct kvl_lapic *a = vcpu->lapic;
	struct kvm_lapic_state *s;
	int r = 0;

	if (!a)
		return -EINVAL;	/* as KVM without an in-kernel APIC */
	s = kmalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	memcpy(s->regs, a->regs, sizeof(s->regs));
	*(u32 *)(s->regs + APIC_TMCCT) = apic_timer_ccr(a);
	*(u32 *)(s->regs + APIC_PROCPRI) = apic_ppr(a);
	if (copy_to_user(argp, s, sizeof(*s)))
		r = -EFAULT;
	kfree(s);
	return r;
}

int kvl_apic_set_state(struct kvl_vcpu *vcpu, struct kvm_lapic_state __user *argp)
{
	struct kvl_lapic *a = vcpu->lapic;
	struct kvm_lapic_state *s;

	if (!a)
		return -EINVAL;
	s = memdup_user(argp, sizeof(*s));
	if (IS_ERR(s))
		return PTR_ERR(s);
	hrtimer_cancel(&a->timer);
	memcpy(a->regs, s->regs, sizeof(s->regs));
	kfree(s);
	/* What the registers may not say: fixed values and the derived ones. */
	apic_set(a, APIC_LVR, LAPIC_VERSION);
	if (a->x2apic)
		apic_update_ldr_id(a);
	apic_set(a, APIC_TMCCT, 0);
	apic_set(a, APIC_TDCR, apic_get(a, APIC_TDCR) & 0xb);
	apic_timer_start(a);
	kvl_vcpu_kick(vcpu);
	return 0;
}

int kvl_apic_create(struct kvl_vcpu *vcpu)
{
	struct kvl_lapic *a;

	a = kzalloc(sizeof(*a), GFP_KERNEL_ACCOUNT);
	if (!a)
		return -ENOMEM;
	a->regs = (u8 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!a->regs) {
		kfree(a);
		return -ENOMEM;
	}
	a->vcpu = vcpu;
	a->hooks = apic_hooks;
	hrtimer_init(&a->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
	a->timer.function = apic_timer_fn;
	vcpu->lapic = a;
	kvl_apic_reset(vcpu);
	return 0;
}

/*
 * Is @gpa in this vCPU's xAPIC page?  Each vCPU's APIC sits where its own
 * IA32_APIC_BASE puts it, so the I/O bus asks here before its devices.
 */
bool kvl_apic_mmio_hit(struct kvl_vcpu *vcpu, u64 gpa)
{
	struct kvl_lapic *a = vcpu->lapic;

	return a && a->hw_enabled && !a->x2apic &&
	       (gpa & PAGE_MASK) == (vcpu->msrs.apic_base & PAGE_MASK);	/* flags are bits 8-11 */
}

int kvl_apic_mmio_access(struct kvl_vcpu *vcpu, u64 gpa, unsigned int len, void *val,
			 bool write)
{
	return write ? apic_mmio_write(NULL, vcpu, gpa, len, val)
		     : apic_mmio_read(NULL, vcpu, gpa, len, val);
}

void kvl_apic_destroy(struct kvl_vcpu *vcpu)
{
	struct kvl_lapic *a = vcpu->lapic;

	if (!a)
		return;
	hrtimer_cancel(&a->timer);
	free_page((unsigned long)a->regs);
	kfree(a);
	vcpu->lapic = NULL;
}
