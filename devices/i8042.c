// SPDX-License-Identifier: GPL-2.0
/*
 * The PC keyboard controller (8042) at ports 0x60 (data) and 0x64
 * (status/command), with a PS/2 keyboard on IRQ 1 and a PS/2 mouse on
 * IRQ 12 behind it (ps2.c), fed by the console (console.h).  It behaves
 * as Linux's i8042 driver expects: self-test 0xaa answers 0x55, interface
 * tests 0xab/0xa9 answer 0, the command byte (0x20/0x60) holds the
 * interrupt enables, port disables and translation, 0xd3 loops a byte
 * back as if from the mouse (with its interrupt), 0xd4 sends to the mouse.
 * A pulse on the reset line (0xfe, any 0xf0-0xfe with bit 0 clear, or an
 * output port written with bit 0 clear) ends the run with status 0, as a
 * reboot.  A20 (output port bit 1, 0xdd/0xdf) is remembered, not applied.
 *
 * One output buffer: the controller's own answers go first (a device byte
 * already there waits behind them), then keyboard bytes, then mouse bytes,
 * each device only while its port is enabled.  An interrupt line is high
 * while the buffer holds a byte for it and its enable bit is set; it drops
 * when the guest reads the byte, so every byte makes a new edge for the
 * edge-triggered PIC and IOAPIC pins of ISA IRQs 1 and 12.
 */
#include <pthread.h>
#include <string.h>

#include "../runner/device.h"
#include "../runner/ioport.h"
#include "../runner/kvm.h"
#include "console.h"
#include "i8042.h"

#define CMD_READ_RAM	0x20	/* 0x20-0x3f: RAM byte 0-31; 0x20 the command byte */
#define CMD_WRITE_RAM	0x60	/* 0x60-0x7f */
#define CMD_PASSWORD	0xa4
#define CMD_AUX_DISABLE	0xa7
#define CMD_AUX_ENABLE	0xa8
#define CMD_AUX_TEST	0xa9
#define CMD_SELF_TEST	0xaa
#define CMD_KBD_TEST	0xab
#define CMD_KBD_DISABLE	0xad
#define CMD_KBD_ENABLE	0xae
#define CMD_READ_INPUT	0xc0
#define CMD_READ_OUTPUT	0xd0
#define CMD_WRITE_OUTPUT 0xd1
#define CMD_WRITE_KBD_OB 0xd2
#define CMD_WRITE_AUX_OB 0xd3
#define CMD_WRITE_AUX	0xd4
#define CMD_A20_OFF	0xdd
#define CMD_A20_ON	0xdf
#define CMD_READ_TEST	0xe0
#define CMD_PULSE	0xf0	/* 0xf0-0xff: pulse output port bits 0-3 where clear */

#define OUT_RESET	0x01	/* output port: CPU running (0 holds it in reset) */
#define OUT_A20		0x02
#define OUT_KBD_OBF	0x10
#define OUT_AUX_OBF	0x20

static uint8_t ctr(const struct i8042 *c)
{
	return c->ram[0];
}

static void drive(struct i8042 *c, int i, unsigned int irq, int level)
{
	if (c->line[i] == level)
		return;
	c->line[i] = level;
	if (c->irq)
		c->irq(c->opaque, irq, level);
}

static void drive_lines(struct i8042 *c)
{
	drive(c, 0, I8042_KBD_IRQ, c->obf && !c->ob_aux && (ctr(c) & I8042_CTR_KBDINT));
	drive(c, 1, I8042_AUX_IRQ, c->obf && c->ob_aux && (ctr(c) & I8042_CTR_AUXINT));
}

static void fill(struct i8042 *c, uint8_t b, bool aux, bool own)
{
	c->ob = b;
	c->ob_aux = aux;
	c->ob_ctrl = own;
	c->obf = true;
}

/* The next byte of the keyboard, else of the mouse, from enabled ports; -1 if none. */
static int device_byte(struct i8042 *c, bool *aux)
{
	int b = -1;

	*aux = false;
	if (!(ctr(c) & I8042_CTR_KBDDIS))
		b = ps2_kbd__pop(&c->kbd);
	if (b < 0 && !(ctr(c) & I8042_CTR_AUXDIS)) {
		*aux = true;
		b = ps2_mouse__pop(&c->mouse);
	}
	return b;
}

/* Refill an empty output buffer, then set the lines. */
static void update(struct i8042 *c)
{
	bool aux;
	int b;

	if (!c->obf && c->held) {
		c->held = false;
		fill(c, c->held_byte, c->held_aux, false);
	} else if (!c->obf) {
		b = device_byte(c, &aux);
		if (b >= 0)
			fill(c, b, aux, false);
	}
	drive_lines(c);
}

/* The controller's own answer: ahead of a device byte that is waiting to be read. */
static void answer(struct i8042 *c, uint8_t b, bool aux)
{
	if (c->obf && !c->ob_ctrl) {
		c->held = true;
		c->held_byte = c->ob;
		c->held_aux = c->ob_aux;
	}
	fill(c, b, aux, true);
	update(c);
}

static void reset_pulse(struct i8042 *c)
{
	if (c->reset)
		c->reset(c->opaque);
}

void i8042__init(struct i8042 *c, void (*irq)(void *, unsigned int, int),
		 void (*reset)(void *), void *opaque)
{
	memset(c, 0, sizeof(*c));
	c->irq = irq;
	c->reset = reset;
	c->opaque = opaque;
	c->ram[0] = I8042_CTR_BOOT;
	c->outport = OUT_RESET | OUT_A20;
	ps2_kbd__init(&c->kbd);
	ps2_mouse__init(&c->mouse);
	c->kbd.xlate = c->ram[0] & I8042_CTR_XLATE;
}

static void write_ctr(struct i8042 *c, uint8_t v)
{
	c->ram[0] = v & 0x7f;		/* bit 7 is reserved */
	c->kbd.xlate = v & I8042_CTR_XLATE;
	update(c);
}

static void command(struct i8042 *c, uint8_t v)
{
	c->cmd = 0;
	switch (v) {
	case CMD_READ_RAM ... CMD_READ_RAM + 0x1f:
		answer(c, c->ram[v - CMD_READ_RAM], false);
		break;
	case CMD_WRITE_RAM ... CMD_WRITE_RAM + 0x1f:
	case CMD_WRITE_OUTPUT:
	case CMD_WRITE_KBD_OB:
	case CMD_WRITE_AUX_OB:
	case CMD_WRITE_AUX:
		c->cmd = v;			/* the data byte follows on 0x60 */
		break;
	case CMD_PASSWORD:
		answer(c, 0xf1, false);		/* no password installed */
		break;
	case CMD_AUX_DISABLE:
		write_ctr(c, ctr(c) | I8042_CTR_AUXDIS);
		break;
	case CMD_AUX_ENABLE:
		write_ctr(c, ctr(c) & ~I8042_CTR_AUXDIS);
		break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:
		answer(c, 0x00, false);		/* no clock or data line stuck */
		break;
	case CMD_SELF_TEST:
		answer(c, 0x55, false);
		break;
	case CMD_KBD_DISABLE:
		write_ctr(c, ctr(c) | I8042_CTR_KBDDIS);
		break;
	case CMD_KBD_ENABLE:
		write_ctr(c, ctr(c) & ~I8042_CTR_KBDDIS);
		break;
	case CMD_READ_INPUT:
		answer(c, 0x80, false);		/* keyboard not inhibited */
		break;
	case CMD_READ_OUTPUT:
		answer(c, (c->outport & ~(OUT_KBD_OBF | OUT_AUX_OBF)) |
		       (c->obf ? (c->ob_aux ? OUT_AUX_OBF : OUT_KBD_OBF) : 0), false);
		break;
	case CMD_A20_OFF:
		c->outport &= ~OUT_A20;
		break;
	case CMD_A20_ON:
		c->outport |= OUT_A20;
		break;
	case CMD_READ_TEST:
		answer(c, 0x00, false);
		break;
	case CMD_PULSE ... 0xff:
		if (!(v & OUT_RESET))
			reset_pulse(c);
		break;
	default:			/* unknown: ignored, as by most controllers */
		break;
	}
}

static void data(struct i8042 *c, uint8_t v)
{
	uint8_t cmd = c->cmd;

	c->cmd = 0;
	switch (cmd) {
	case 0:
		ps2_kbd__write(&c->kbd, v);
		update(c);
		break;
	case CMD_WRITE_RAM:
		write_ctr(c, v);
		break;
	case CMD_WRITE_RAM + 1 ... CMD_WRITE_RAM + 0x1f:
		c->ram[cmd - CMD_WRITE_RAM] = v;
		break;
	case CMD_WRITE_OUTPUT:
		c->outport = v;
		if (!(v & OUT_RESET))
			reset_pulse(c);
		break;
	case CMD_WRITE_KBD_OB:
		answer(c, v, false);
		break;
	case CMD_WRITE_AUX_OB:
		answer(c, v, true);
		break;
	case CMD_WRITE_AUX:
		ps2_mouse__write(&c->mouse, v);
		update(c);
		break;
	}
}

uint8_t i8042__read(struct i8042 *c, unsigned int port)
{
	uint8_t v;

	if (port == I8042_CMD_PORT)
		return (c->obf ? I8042_STR_OBF : 0) | (ctr(c) & I8042_CTR_SYS) | c->status_cmd |
		       I8042_STR_UNLOCKED | (c->obf && c->ob_aux ? I8042_STR_AUXDATA : 0);
	if (port != I8042_DATA_PORT)
		return 0xff;
	v = c->ob;			/* an empty buffer reads its last byte again */
	if (c->obf) {
		c->obf = false;
		drive_lines(c);		/* drop the line, so the next byte is a new edge */
		update(c);
	}
	return v;
}

void i8042__write(struct i8042 *c, unsigned int port, uint8_t val)
{
	if (port == I8042_CMD_PORT) {
		c->status_cmd = I8042_STR_CMD;
		command(c, val);
	} else if (port == I8042_DATA_PORT) {
		c->status_cmd = 0;
		data(c, val);
	}
}

void i8042__key(struct i8042 *c, uint16_t code, bool down)
{
	ps2_kbd__key(&c->kbd, code, down);
	update(c);
}

void i8042__mouse(struct i8042 *c, int dx, int dy, uint32_t buttons, int wheel)
{
	ps2_mouse__move(&c->mouse, dx, dy, buttons, wheel);
	update(c);
}

uint8_t i8042__leds(const struct i8042 *c)
{
	return c->kbd.leds;
}

bool i8042__mouse_on(const struct i8042 *c)
{
	return c->mouse.reporting;
}

/*
 * The machine's controller: ports, interrupts and reset of the VM, input
 * from the console.  vCPU threads (ports) and console callers (input)
 * meet under pc_kbc.lock; the console calls in with its own lock held,
 * and nothing here calls the console back.
 */
static struct pc_kbc {
	struct kvm *kvm;
	pthread_mutex_t lock;
	struct i8042 dev;
} pc_kbc = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void kbc_irq(void *opaque, unsigned int irq, int level)
{
	struct pc_kbc *k = opaque;

	kvm__irq_line(k->kvm, irq, level);
}

static void kbc_reset(void *opaque)
{
	struct pc_kbc *k = opaque;

	kvm__request_exit(k->kvm, 0, "guest reset the machine (i8042): reboot");
}

static void kbc_access(struct pc_kbc *k, unsigned int port, uint8_t *data, uint32_t len,
		       bool is_write)
{
	if (!len)
		return;
	pthread_mutex_lock(&k->lock);
	if (is_write) {
		i8042__write(&k->dev, port, data[0]);
	} else {
		memset(data, 0xff, len);
		data[0] = i8042__read(&k->dev, port);
	}
	pthread_mutex_unlock(&k->lock);
}

static void kbc_data_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	(void)off;
	kbc_access(opaque, I8042_DATA_PORT, data, len, is_write);
}

static void kbc_cmd_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	(void)off;
	kbc_access(opaque, I8042_CMD_PORT, data, len, is_write);
}

static void kbc_key(void *opaque, uint16_t code, bool down)
{
	struct pc_kbc *k = opaque;

	pthread_mutex_lock(&k->lock);
	i8042__key(&k->dev, code, down);
	pthread_mutex_unlock(&k->lock);
}

static uint8_t kbc_leds(void *opaque)
{
	struct pc_kbc *k = opaque;
	uint8_t leds;

	pthread_mutex_lock(&k->lock);
	leds = i8042__leds(&k->dev);
	pthread_mutex_unlock(&k->lock);
	return leds;
}

static void kbc_rel(void *opaque, int dx, int dy, uint32_t buttons, int wheel)
{
	struct pc_kbc *k = opaque;

	pthread_mutex_lock(&k->lock);
	i8042__mouse(&k->dev, dx, dy, buttons, wheel);
	pthread_mutex_unlock(&k->lock);
}

static bool kbc_mouse_ready(void *opaque)
{
	struct pc_kbc *k = opaque;
	bool on;

	pthread_mutex_lock(&k->lock);
	on = i8042__mouse_on(&k->dev);
	pthread_mutex_unlock(&k->lock);
	return on;
}

static const struct console_sink_ops kbc_kbd_ops = {
	.key = kbc_key,
	.leds = kbc_leds,
};

static const struct console_sink_ops kbc_mouse_ops = {
	.rel = kbc_rel,
	.ready = kbc_mouse_ready,
};

static int i8042_init(struct kvm *kvm)
{
	struct pc_kbc *k = &pc_kbc;

	k->kvm = kvm;
	i8042__init(&k->dev, kbc_irq, kbc_reset, k);
	if (io__register(IO_PIO, I8042_DATA_PORT, 1, kbc_data_io, k) < 0 ||
	    io__register(IO_PIO, I8042_CMD_PORT, 1, kbc_cmd_io, k) < 0)
		return -1;
	if (console_add_sink(CON_SINK_KBD, CON_PRIO_PS2, &kbc_kbd_ops, k, "ps2-kbd") < 0 ||
	    console_add_sink(CON_SINK_POINTER, CON_PRIO_PS2, &kbc_mouse_ops, k, "ps2-mouse") < 0) {
		warn("i8042: cannot add the PS/2 keyboard and mouse to the console");
		return -1;
	}
	return 0;
}
device_init(i8042_init);
