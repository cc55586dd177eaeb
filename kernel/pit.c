// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: the 8254 programmable interval timer at ports 0x40-0x43, and
 * the speaker/gate port 0x61.
 *
 * Datasheet (8254):
 *   Control word (port 0x43): SC1 SC0 RW1 RW0 M2 M1 M0 BCD.
 *     SC = 11 is the read-back command; RW = 00 is the counter latch
 *     command; RW = 01 LSB only, 10 MSB only, 11 LSB then MSB.
 *     "M2 M1 M0: x10 mode 2, x11 mode 3" (so 6 and 7 are modes 2 and 3).
 *   Read-back: 1 1 !COUNT !STATUS CNT2 CNT1 CNT0 0.  "The status byte
 *   ... bit 7 OUTPUT, bit 6 NULL COUNT, bits 5-0 as the control word."
 *   "If both count and status of a counter are latched, the first read
 *   returns the status, the next one or two the count."
 *   Mode 0 interrupt on terminal count: OUT low, goes high at zero.
 *   Mode 1 hardware one-shot: OUT low from the gate's rising edge for
 *   N clocks.  Mode 2 rate generator: OUT low for one clock every N.
 *   Mode 3 square wave: OUT high for N/2, low for N/2.
 *   Modes 4/5 software/hardware strobe: OUT low for one clock at zero.
 *   "An initial count of 0 is the maximum: 2^16 in binary counting."
 * Port 0x61 (PC/AT system control port B): bit 0 gate of counter 2, bit 1
 * speaker data enable, bit 4 refresh toggle, bit 5 OUT of counter 2.
 *
 * The clock runs at 1.193182 MHz.  Counts are derived from the host's
 * monotonic clock (ktime) since the counter was loaded, never from ticks.
 * Channel 0's OUT drives GSI 0 from an hrtimer in modes 0/1/4 (one shot)
 * and 2/3 (periodic).  The state is KVM's struct kvm_pit_state2.
 *
 * Following KVM rather than the datasheet: the gate does not stop counting
 * in modes 0 and 4, BCD is remembered but counting stays binary, NULL
 * COUNT always reads 0, port 0x61 is only emulated with
 * KVM_PIT_SPEAKER_DUMMY, and periodic interrupts come no faster than
 * every 200 us.
 */
#include <linux/hrtimer.h>
#include <linux/math64.h>
#include <linux/slab.h>
#include "kvmlite.h"

#define PIT_FREQ		1193182
#define PIT_MIN_PERIOD_NS	(200 * NSEC_PER_USEC)

enum { RW_LSB = 1, RW_MSB, RW_WORD0, RW_WORD1 };

struct kvl_pit {
	spinlock_t lock;	/* taken with irqsave */
	struct kvl_vm *vm;
	struct kvm_pit_channel_state ch[3];
	u32 flags;		/* KVM_PIT_FLAGS_* */
	struct hrtimer timer;	/* channel 0 */
	u64 period;		/* ns if periodic, else 0; read by the timer */
	struct kvl_io_dev io, io_speaker;
	bool speaker;
};

/* Input clocks since @c was loaded (or its gate rose). */
static u64 pit_elapsed(const struct kvm_pit_channel_state *c)
{
	s64 t = ktime_to_ns(ktime_sub(ktime_get(), c->count_load_time));

	return t > 0 ? mul_u64_u32_div(t, PIT_FREQ, NSEC_PER_SEC) : 0;
}

static u32 pit_mod(u64 d, u32 count)
{
	u32 rem;

	div_u64_rem(d, count, &rem);
	return rem;
}

/* The value the counting element holds now.  @c->count is never 0. */
static u16 pit_get_count(const struct kvm_pit_channel_state *c)
{
	u64 d = pit_elapsed(c);

	switch (c->mode) {
	case 0:
	case 1:
	case 4:
	case 5:
		/* After terminal count the counter wraps and keeps going. */
		return (c->count - d) & 0xffff;
	case 3:
		/* Counts down by two; as KVM, odd counts are not special. */
		return (c->count - pit_mod(2 * d, c->count)) & 0xffff;
	default:
		return (c->count - pit_mod(d, c->count)) & 0xffff;
	}
}

static int pit_get_out(const struct kvm_pit_channel_state *c)
{
	u64 d = pit_elapsed(c);

	switch (c->mode) {
	default:
	case 0:
		return d >= c->count;
	case 1:
		return d < c->count;
	case 2:
		return pit_mod(d, c->count) == 0 && d != 0;
	case 3:
		return pit_mod(d, c->count) < ((c->count + 1) >> 1);
	case 4:
	case 5:
		return d == c->count;
	}
}

static enum hrtimer_restart pit_timer_fn(struct hrtimer *t)
{
	struct kvl_pit *pit = container_of(t, struct kvl_pit, timer);
	u64 period = READ_ONCE(pit->period);

	/* OUT's rising edge: a pulse on GSI 0, as KVM sends it. */
	kvl_irq_line(pit->vm, 0, 1);
	kvl_irq_line(pit->vm, 0, 0);
	if (!period)
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ns_to_ktime(period));
	return HRTIMER_RESTART;
}

/* Called with pit->lock held; the timer callback does not take it. */
static void pit_stop_timer(struct kvl_pit *pit)
{
	hrtimer_cancel(&pit->timer);
	WRITE_ONCE(pit->period, 0);
}

static void pit_start_timer(struct kvl_pit *pit, u32 count, bool periodic)
{
	u64 interval = mul_u64_u32_div(count, NSEC_PER_SEC, PIT_FREQ);

	pit_stop_timer(pit);
	if (pit->flags & KVM_PIT_FLAGS_HPET_LEGACY)
		return;		/* the HPET drives IRQ 0 instead */
	if (periodic)
		WRITE_ONCE(pit->period, max_t(u64, interval, PIT_MIN_PERIOD_NS));
	hrtimer_start(&pit->timer, ktime_add_ns(pit->ch[0].count_load_time, interval),
		      HRTIMER_MODE_ABS);
}

static void pit_load_count(struct kvl_pit *pit, int n, u32 val)
{
	struct kvm_pit_channel_state *c = &pit->ch[n];

	if (!val)
		val = 0x10000;
	c->count = val;
	c->count_load_time = ktime_get();
	if (n)
		return;
	switch (c->mode) {
	case 0:
	case 1:
	case 4:
		pit_start_timer(pit, val, false);
		break;
	case 2:
	case 3:
		pit_start_timer(pit, val, true);
		break;
	default:
		pit_stop_timer(pit);
		break;
	}
}

static void pit_latch_count(struct kvm_pit_channel_state *c)
{
	/* "Subsequent latch commands are ignored until the count is read." */
	if (c->count_latched)
		return;
	c->latched_count = pit_get_count(c);
	c->count_latched = c->rw_mode;
}

static void pit_latch_status(struct kvm_pit_channel_state *c)
{
	if (c->status_latched)
		return;
	c->status = (pit_get_out(c) << 7) | ((c->rw_mode & 3) << 4) |
		    ((c->mode & 7) << 1) | (c->bcd & 1);
	c->status_latched = 1;
}

static void pit_write_control(struct kvl_pit *pit, u8 val)
{
	struct kvm_pit_channel_state *c;
	int n = val >> 6, access = (val >> 4) & 3;

	if (n == 3) {
		/* Read-back command. */
		for (n = 0; n < 3; n++) {
			if (!(val & (2 << n)))
				continue;
			if (!(val & 0x20))
				pit_latch_count(&pit->ch[n]);
			if (!(val & 0x10))
				pit_latch_status(&pit->ch[n]);
		}
		return;
	}
	c = &pit->ch[n];
	if (!access) {
		pit_latch_count(c);
		return;
	}
	c->rw_mode = access;
	c->read_state = access;
	c->write_state = access;
	c->mode = (val >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4;
	c->bcd = val & 1;
}

static void pit_write_count(struct kvl_pit *pit, int n, u8 val)
{
	struct kvm_pit_channel_state *c = &pit->ch[n];

	switch (c->write_state) {
	default:
	case RW_LSB:
		pit_load_count(pit, n, val);
		break;
	case RW_MSB:
		pit_load_count(pit, n, val << 8);
		break;
	case RW_WORD0:
		c->write_latch = val;
		c->write_state = RW_WORD1;
		break;
	case RW_WORD1:
		pit_load_count(pit, n, c->write_latch | (val << 8));
		c->write_state = RW_WORD0;
		break;
	}
}

static u8 pit_read_count(struct kvm_pit_channel_state *c)
{
	u8 ret;

	if (c->status_latched) {
		c->status_latched = 0;
		return c->status;
	}
	if (c->count_latched) {
		switch (c->count_latched) {
		default:
		case RW_LSB:
			ret = c->latched_count & 0xff;
			c->count_latched = 0;
			break;
		case RW_MSB:
			ret = c->latched_count >> 8;
			c->count_latched = 0;
			break;
		case RW_WORD0:
			ret = c->latched_count & 0xff;
			c->count_latched = RW_MSB;
			break;
		}
		return ret;
	}
	switch (c->read_state) {
	default:
	case RW_LSB:
		return pit_get_count(c) & 0xff;
	case RW_MSB:
		return pit_get_count(c) >> 8;
	case RW_WORD0:
		c->read_state = RW_WORD1;
		return pit_get_count(c) & 0xff;
	case RW_WORD1:
		c->read_state = RW_WORD0;
		return pit_get_count(c) >> 8;
	}
}

/* As KVM: an access of any width moves one byte; wider reads give zeros above it. */
static int pit_io_read(struct kvl_io_dev *dev, struct kvl_vcpu *vcpu, u64 addr,
		       unsigned int len, void *val)
{
	struct kvl_pit *pit = container_of(dev, struct kvl_pit, io);
	unsigned long flags;
	u8 v = 0;

	memset(val, 0, len);
	if ((addr & 3) == 3)
		return 0;	/* the control word is write-only */
	spin_lock_irqsave(&pit->lock, flags);
	v = pit_read_count(&pit->ch[addr & 3]);
	spin_unlock_irqrestore(&pit->lock, flags);
	*(u8 *)val = v;
	return 0;
}

static int pit_io_write(struct kvl_io_dev *dev, struct kvl_vcpu *vcpu, u64 addr,
			unsigned int len, const void *val)
{
	struct kvl_pit *pit = container_of(dev, struct kvl_pit, io);
	unsigned long flags;
	u8 v = *(const u8 *)val;

	spin_lock_irqsave(&pit->lock, flags);
	if ((addr & 3) == 3)
		pit_write_control(pit, v);
	else
		pit_write_count(pit, addr & 3, v);
	spin_unlock_irqrestore(&pit->lock, flags);
	return 0;
}

static const struct kvl_io_ops pit_io_ops = {
	.read = pit_io_read,
	.write = pit_io_write,
};

static void pit_set_gate(struct kvl_pit *pit, int n, u8 val)
{
	struct kvm_pit_channel_state *c = &pit->ch[n];

	switch (c->mode) {
	case 1:
	case 2:
	case 3:
	case 5:
		/* "A rising edge of GATE reloads the counter and restarts it." */
		if (c->gate < val)
			c->count_load_time = ktime_get();
		break;
	default:
		/* Modes 0 and 4: KVM lets the count run regardless. */
		break;
	}
	c->gate = val;
}

static int speaker_io_read(struct kvl_io_dev *dev, struct kvl_vcpu *vcpu, u64 addr,
			   unsigned int len, void *val)
{
	struct kvl_pit *pit = container_of(dev, struct kvl_pit, io_speaker);
	unsigned long flags;
	u8 v;

	/* Bit 4 toggles every 2^14 ns, standing in for the refresh cycle. */
	v = ((u32)ktime_get_ns() >> 14) & 1 ? 0x10 : 0;
	spin_lock_irqsave(&pit->lock, flags);
	v |= (pit_get_out(&pit->ch[2]) << 5) | (pit->ch[2].gate & 1);
	if (pit->flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON)
		v |= 0x02;
	spin_unlock_irqrestore(&pit->lock, flags);
	memset(val, 0, len);
	*(u8 *)val = v;
	return 0;
}

static int speaker_io_write(struct kvl_io_dev *dev, struct kvl_vcpu *vcpu, u64 addr,
			    unsigned int len, const void *val)
{
	struct kvl_pit *pit = container_of(dev, struct kvl_pit, io_speaker);
	unsigned long flags;
	u8 v = *(const u8 *)val;

	spin_lock_irqsave(&pit->lock, flags);
	if (v & 0x02)
		pit->flags |= KVM_PIT_FLAGS_SPEAKER_DATA_ON;
	else
		pit->flags &= ~KVM_PIT_FLAGS_SPEAKER_DATA_ON;
	pit_set_gate(pit, 2, v & 1);
	spin_unlock_irqrestore(&pit->lock, flags);
	return 0;
}

static const struct kvl_io_ops speaker_io_ops = {
	.read = speaker_io_read,
	.write = speaker_io_write,
};

void kvl_pit_get_state(struct kvl_pit *pit, struct kvm_pit_state2 *s)
{
	unsigned long flags;

	memset(s, 0, sizeof(*s));
	spin_lock_irqsave(&pit->lock, flags);
	memcpy(s->channels, pit->ch, sizeof(s->channels));
	s->flags = pit->flags;
	spin_unlock_irqrestore(&pit->lock, flags);
}

/*
 * As KVM, the channels are taken as given and then each count is loaded
 * again: count_load_time becomes now, a count of 0 means 0x10000, and
 * channel 0's timer restarts for its mode.  Every other field is only used
 * masked, as a flag or as a switch selector with a default.
 */
int kvl_pit_set_state(struct kvl_pit *pit, const struct kvm_pit_state2 *s)
{
	unsigned long flags;
	int i;

	spin_lock_irqsave(&pit->lock, flags);
	memcpy(pit->ch, s->channels, sizeof(pit->ch));
	pit->flags = s->flags;
	for (i = 0; i < 3; i++)
		pit_load_count(pit, i, pit->ch[i].count);
	spin_unlock_irqrestore(&pit->lock, flags);
	return 0;
}

struct kvl_pit *kvl_pit_create(struct kvl_vm *vm, u32 flags)
{
	struct kvl_pit *pit;
	int i, r;

	pit = kzalloc(sizeof(*pit), GFP_KERNEL_ACCOUNT);
	if (!pit)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&pit->lock);
	pit->vm = vm;
	hrtimer_init(&pit->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
	pit->timer.function = pit_timer_fn;
	/* As KVM's reset: no mode (0xff), maximum count, gate high but on 2. */
	for (i = 0; i < 3; i++) {
		pit->ch[i].mode = 0xff;
		pit->ch[i].gate = i != 2;
		pit_load_count(pit, i, 0);
	}
	pit->io = (struct kvl_io_dev){ .ops = &pit_io_ops, .base = 0x40, .len = 4 };
	r = kvl_io_register(vm, &pit->io);
	if (r)
		goto free;
	if (flags & KVM_PIT_SPEAKER_DUMMY) {
		pit->io_speaker = (struct kvl_io_dev){
			.ops = &speaker_io_ops, .base = 0x61, .len = 1,
		};
		r = kvl_io_register(vm, &pit->io_speaker);
		if (r) {
			kvl_io_unregister(vm, &pit->io);
			goto free;
		}
		pit->speaker = true;
	}
	return pit;

free:
	kfree(pit);
	return ERR_PTR(r);
}

void kvl_pit_destroy(struct kvl_pit *pit)
{
	if (pit->speaker)
		kvl_io_unregister(pit->vm, &pit->io_speaker);
	kvl_io_unregister(pit->vm, &pit->io);
	hrtimer_cancel(&pit->timer);
	kfree(pit);
}
