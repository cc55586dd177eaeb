// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of devices/i8042.c and devices/ps2.c: the keyboard
 * controller driven the way Linux's i8042, atkbd and psmouse drivers probe
 * and use it, input through the console, and the glue that plugs it into
 * the VM (ports, IRQ lines, reset) with the runner stubbed out.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kselftest_harness.h"
#include "../../devices/console.h"
#include "../../devices/i8042.h"
#include "../../runner/device.h"
#include "../../runner/ioport.h"
#include "../../runner/kvm.h"

/* The runner, as far as the glue in devices/i8042.c reaches it. */

static struct device_init *inits[16];
static int nr_inits;
static struct {
	uint64_t base, len;
	io_fn fn;
	void *opaque;
} regions[16];
static int nr_regions;
static int irq_level[16], irq_edges[16];
static int exits, exit_status;
static char exit_why[128];

void device__register(struct device_init *d)
{
	if (nr_inits < 16)
		inits[nr_inits++] = d;
}

void device__register_late(struct device_init *d)
{
	device__register(d);
}

int io__register(enum io_space space, uint64_t base, uint64_t len, io_fn fn, void *opaque)
{
	if (space != IO_PIO || nr_regions == 16)
		return -1;
	regions[nr_regions].base = base;
	regions[nr_regions].len = len;
	regions[nr_regions].fn = fn;
	regions[nr_regions].opaque = opaque;
	nr_regions++;
	return 0;
}

void kvm__irq_line(struct kvm *kvm, unsigned int irq, int level)
{
	(void)kvm;
	if (irq >= 16)
		abort();
	if (level && !irq_level[irq])
		irq_edges[irq]++;
	irq_level[irq] = level;
}

void kvm__request_exit(struct kvm *kvm, int status, const char *why)
{
	(void)kvm;
	exits++;
	exit_status = status;
	snprintf(exit_why, sizeof(exit_why), "%s", why);
}

void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A display for the console (devices/console.c), so that pointer moves have pixels. */
static uint8_t fb[64 * 48 * 4];

static void fake_refresh(void *opaque, struct con_surface *s)
{
	(void)opaque;
	*s = (struct con_surface){ .format = CON_FMT_XRGB8888, .width = 64, .height = 48,
				   .stride = 64 * 4, .data = fb, .data_len = sizeof(fb),
				   .cursor_x = -1, .cursor_y = -1 };
}

static void fake_set_active(void *opaque, bool on)
{
	(void)opaque;
	(void)on;
}

static const struct console_display_ops fake_display = { fake_refresh, fake_set_active, NULL };

/* The model alone, as a test rig with its own interrupt and reset probes. */

struct rig {
	struct i8042 c;
	int level[16], edges[16];
	int resets;
};

static void rig_irq(void *opaque, unsigned int irq, int level)
{
	struct rig *r = opaque;

	if (irq >= 16)
		abort();
	if (level && !r->level[irq])
		r->edges[irq]++;
	r->level[irq] = level;
}

static void rig_reset(void *opaque)
{
	struct rig *r = opaque;

	r->resets++;
}

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	i8042__init(&r->c, rig_irq, rig_reset, r);
}

static uint8_t status(struct rig *r)
{
	return i8042__read(&r->c, I8042_CMD_PORT);
}

static void outcmd(struct rig *r, uint8_t v)
{
	if (status(r) & I8042_STR_IBF)		/* i8042_wait_write() would time out */
		abort();
	i8042__write(&r->c, I8042_CMD_PORT, v);
}

static void outdata(struct rig *r, uint8_t v)
{
	if (status(r) & I8042_STR_IBF)
		abort();
	i8042__write(&r->c, I8042_DATA_PORT, v);
}

/* One byte if the output buffer has one (and whose: *aux), else -1. */
static int indata(struct rig *r, bool *aux)
{
	uint8_t st = status(r);

	if (!(st & I8042_STR_OBF))
		return -1;
	if (aux)
		*aux = st & I8042_STR_AUXDATA;
	return i8042__read(&r->c, I8042_DATA_PORT);
}

/* i8042_flush(): bytes read, or -EIO after 16 without the buffer emptying. */
static int flush(struct rig *r)
{
	int n = 0;

	while (status(r) & I8042_STR_OBF) {
		if (n++ >= 16)
			return -EIO;
		i8042__read(&r->c, I8042_DATA_PORT);
	}
	return n;
}

/* __i8042_command(): bits 12-15 bytes to send, 8-11 to receive. */
#define I8042_CMD_CTL_RCTR	0x0120
#define I8042_CMD_CTL_WCTR	0x1060
#define I8042_CMD_CTL_TEST	0x01aa
#define I8042_CMD_KBD_TEST	0x01ab
#define I8042_CMD_AUX_DISABLE	0x00a7
#define I8042_CMD_AUX_ENABLE	0x00a8
#define I8042_CMD_AUX_TEST	0x01a9
#define I8042_CMD_AUX_SEND	0x10d4
#define I8042_CMD_AUX_LOOP	0x11d3

static int kbc_command(struct rig *r, uint8_t *param, int command)
{
	int i, b;

	outcmd(r, command & 0xff);
	for (i = 0; i < ((command >> 12) & 0xf); i++)
		outdata(r, param[i]);
	for (i = 0; i < ((command >> 8) & 0xf); i++) {
		if (!(status(r) & I8042_STR_OBF))
			return -ETIMEDOUT;
		if (command == I8042_CMD_AUX_LOOP && !(status(r) & I8042_STR_AUXDATA))
			return -1;
		b = indata(r, NULL);
		param[i] = b;
	}
	return 0;
}

/*
 * ps2_command() through the keyboard port or (aux) through 0xd4: each byte
 * sent is ACKed from the right port, then up to the receive count of bytes
 * come back.  Returns the number of bytes received, or -1.
 */
static int ps2_cmd(struct rig *r, bool aux, uint8_t *param, int command)
{
	int send = (command >> 12) & 0xf, recv = (command >> 8) & 0xf, i, b;
	uint8_t byte;
	bool from_aux;

	for (i = -1; i < send; i++) {
		byte = i < 0 ? command & 0xff : param[i];
		if (aux) {
			if (kbc_command(r, &byte, I8042_CMD_AUX_SEND))
				return -1;
		} else {
			outdata(r, byte);
		}
		b = indata(r, &from_aux);
		if (b != PS2_ACK || from_aux != aux)
			return -1;
	}
	for (i = 0; i < recv; i++) {
		b = indata(r, &from_aux);
		if (b < 0)
			break;
		if (from_aux != aux)
			return -1;
		param[i] = b;
	}
	return i;
}

/* Linux's i8042_probe() up to registering the ports, as far as the controller sees it. */
static void probe_like_linux(struct __test_metadata *_metadata, struct rig *r)
{
	uint8_t param, ctr[2];

	ASSERT_NE(0xff, status(r));			/* something decodes 0x64 */
	ASSERT_EQ(0, flush(r));				/* i8042_controller_check() */
	ASSERT_EQ(0, kbc_command(r, &param, I8042_CMD_CTL_TEST));
	ASSERT_EQ(0x55, param);
	ASSERT_EQ(0, kbc_command(r, &ctr[0], I8042_CMD_CTL_RCTR));
	ASSERT_EQ(0, kbc_command(r, &ctr[1], I8042_CMD_CTL_RCTR));
	ASSERT_EQ(ctr[0], ctr[1]);
	EXPECT_TRUE(ctr[0] & I8042_CTR_XLATE);		/* else Linux goes "direct" */
	EXPECT_TRUE(status(r) & I8042_STR_UNLOCKED);	/* no keylock warning */
	ctr[0] |= I8042_CTR_KBDDIS;
	ctr[0] &= ~I8042_CTR_KBDINT;
	ASSERT_EQ(0, kbc_command(r, &ctr[0], I8042_CMD_CTL_WCTR));
	ASSERT_EQ(0, flush(r));

	/* i8042_check_aux(): loop, AUX bit assignment, IRQ delivery. */
	param = 0x5a;
	ASSERT_EQ(0, kbc_command(r, &param, I8042_CMD_AUX_LOOP));
	ASSERT_EQ(0x5a, param);
	ASSERT_EQ(0, kbc_command(r, &param, I8042_CMD_AUX_DISABLE));
	ASSERT_EQ(0, kbc_command(r, &param, I8042_CMD_CTL_RCTR));
	ASSERT_TRUE(param & I8042_CTR_AUXDIS);
	ASSERT_EQ(0, kbc_command(r, &param, I8042_CMD_AUX_ENABLE));
	ASSERT_EQ(0, kbc_command(r, &param, I8042_CMD_CTL_RCTR));
	ASSERT_FALSE(param & I8042_CTR_AUXDIS);
	ctr[0] = (ctr[0] & ~I8042_CTR_AUXDIS) | I8042_CTR_AUXINT;
	ASSERT_EQ(0, kbc_command(r, &ctr[0], I8042_CMD_CTL_WCTR));
	param = 0xa5;
	ASSERT_EQ(0, kbc_command(r, &param, I8042_CMD_AUX_LOOP & 0xf0ff));
	ASSERT_EQ(1, r->level[I8042_AUX_IRQ]);		/* i8042_aux_test_irq() runs */
	ASSERT_EQ(I8042_STR_OBF | I8042_STR_AUXDATA,
		  status(r) & (I8042_STR_OBF | I8042_STR_AUXDATA));
	ASSERT_EQ(0xa5, indata(r, NULL));
	ASSERT_EQ(0, r->level[I8042_AUX_IRQ]);
	ctr[0] = (ctr[0] | I8042_CTR_AUXDIS) & ~I8042_CTR_AUXINT;
	ASSERT_EQ(0, kbc_command(r, &ctr[0], I8042_CMD_CTL_WCTR));

	/* i8042_check_mux(): a plain controller loops 0xa4 back unchanged. */
	param = 0xf0;
	ASSERT_EQ(0, kbc_command(r, &param, I8042_CMD_AUX_LOOP));
	ASSERT_EQ(0xf0, param);
	param = 0x56;
	ASSERT_EQ(0, kbc_command(r, &param, I8042_CMD_AUX_LOOP));
	ASSERT_EQ(0x56, param);
	param = 0xa4;
	ASSERT_EQ(0, kbc_command(r, &param, I8042_CMD_AUX_LOOP));
	ASSERT_EQ(0xa4, param);

	/* i8042_enable_aux_port(), i8042_enable_kbd_port() */
	ctr[0] = (ctr[0] & ~I8042_CTR_AUXDIS) | I8042_CTR_AUXINT;
	ASSERT_EQ(0, kbc_command(r, &ctr[0], I8042_CMD_CTL_WCTR));
	ctr[0] = (ctr[0] & ~I8042_CTR_KBDDIS) | I8042_CTR_KBDINT;
	ASSERT_EQ(0, kbc_command(r, &ctr[0], I8042_CMD_CTL_WCTR));
	ASSERT_EQ(0, kbc_command(r, &param, I8042_CMD_CTL_RCTR));
	ASSERT_EQ(ctr[0], param);
	ASSERT_EQ(0, status(r) & I8042_STR_OBF);
	ASSERT_EQ(0, r->level[I8042_KBD_IRQ]);
	ASSERT_EQ(0, r->level[I8042_AUX_IRQ]);
}

TEST(linux_i8042_probe)
{
	struct rig r;
	uint8_t param = 0xff;

	rig_init(&r);
	probe_like_linux(_metadata, &r);
	ASSERT_EQ(0, kbc_command(&r, &param, I8042_CMD_KBD_TEST));
	EXPECT_EQ(0, param);
	param = 0xff;
	ASSERT_EQ(0, kbc_command(&r, &param, I8042_CMD_AUX_TEST));
	EXPECT_EQ(0, param);
	EXPECT_EQ(0, r.resets);
}

TEST(command_byte_ram_and_output_port)
{
	struct rig r;
	uint8_t param;

	rig_init(&r);
	param = 0x5c;
	ASSERT_EQ(0, kbc_command(&r, &param, 0x1065));		/* RAM byte 5 */
	ASSERT_EQ(0, kbc_command(&r, &param, 0x0125));
	EXPECT_EQ(0x5c, param);
	EXPECT_EQ(I8042_STR_CMD, status(&r) & I8042_STR_CMD);
	ASSERT_EQ(0, kbc_command(&r, &param, 0x01d0));
	EXPECT_EQ(0x03, param & 0x03);				/* running, A20 on */
	outcmd(&r, 0xdd);
	ASSERT_EQ(0, kbc_command(&r, &param, 0x01d0));
	EXPECT_EQ(0x01, param & 0x03);
	param = 0xdf;						/* A20 on, through 0xd1 */
	ASSERT_EQ(0, kbc_command(&r, &param, 0x10d1));
	ASSERT_EQ(0, kbc_command(&r, &param, 0x01d0));
	EXPECT_EQ(0x03, param & 0x03);
	EXPECT_EQ(0, r.resets);
	/* A guest that polls the output port with a byte waiting sees its OBF bit. */
	i8042__key(&r.c, 0x1e, true);
	ASSERT_EQ(0, kbc_command(&r, &param, 0x01d0));
	EXPECT_EQ(0x10, param & 0x30);
	EXPECT_EQ(0x1e, indata(&r, NULL));
	/* Reserved bit 7 of the command byte reads 0; XLATE and SYS stick. */
	param = 0xc4;
	ASSERT_EQ(0, kbc_command(&r, &param, I8042_CMD_CTL_WCTR));
	EXPECT_EQ(0, status(&r) & I8042_STR_CMD);		/* the parameter went to 0x60 */
	ASSERT_EQ(0, kbc_command(&r, &param, I8042_CMD_CTL_RCTR));
	EXPECT_EQ(0x44, param);
	EXPECT_EQ(I8042_STR_SYS, status(&r) & I8042_STR_SYS);
}

TEST(reset_pulse)
{
	struct rig r;
	uint8_t param;

	rig_init(&r);
	outcmd(&r, 0xff);			/* pulses nothing */
	outcmd(&r, 0xfd);
	param = 0xdf;
	ASSERT_EQ(0, kbc_command(&r, &param, 0x10d1));
	EXPECT_EQ(0, r.resets);
	outcmd(&r, 0xfe);			/* what Linux's reboot=kbd writes */
	EXPECT_EQ(1, r.resets);
	outcmd(&r, 0xf0);
	EXPECT_EQ(2, r.resets);
	param = 0xde;				/* output port with the reset line low */
	ASSERT_EQ(0, kbc_command(&r, &param, 0x10d1));
	EXPECT_EQ(3, r.resets);
}

/* ps2 command encodings of atkbd and psmouse. */
#define ATKBD_CMD_SETLEDS	0x10ed
#define ATKBD_CMD_GSCANSET	0x11f0
#define ATKBD_CMD_SSCANSET	0x10f0
#define ATKBD_CMD_GETID		0x02f2
#define ATKBD_CMD_SETREP	0x10f3
#define ATKBD_CMD_ENABLE	0x00f4
#define ATKBD_CMD_RESET_DIS	0x00f5
#define ATKBD_CMD_RESET_DEF	0x00f6
#define ATKBD_CMD_RESET_BAT	0x02ff
#define PSMOUSE_CMD_SETSCALE11	0x00e6
#define PSMOUSE_CMD_SETSCALE21	0x00e7
#define PSMOUSE_CMD_SETRES	0x10e8
#define PSMOUSE_CMD_GETINFO	0x03e9
#define PSMOUSE_CMD_SETSTREAM	0x00ea
#define PSMOUSE_CMD_POLL	0x00eb
#define PSMOUSE_CMD_SETPOLL	0x00f0
#define PSMOUSE_CMD_GETID	0x02f2
#define PSMOUSE_CMD_SETRATE	0x10f3
#define PSMOUSE_CMD_ENABLE	0x00f4
#define PSMOUSE_CMD_DISABLE	0x00f5
#define PSMOUSE_CMD_RESET_DIS	0x00f6
#define PSMOUSE_CMD_RESET_BAT	0x02ff

TEST(atkbd_probe_translated)
{
	struct rig r;
	uint8_t param[4];
	int edges;

	rig_init(&r);
	probe_like_linux(_metadata, &r);
	edges = r.edges[I8042_KBD_IRQ];
	ASSERT_EQ(1, ps2_cmd(&r, false, param, ATKBD_CMD_RESET_BAT));
	EXPECT_EQ(PS2_BAT_OK, param[0]);
	ASSERT_EQ(2, ps2_cmd(&r, false, param, ATKBD_CMD_GETID));
	EXPECT_EQ(0xab, param[0]);
	EXPECT_EQ(0x41, param[1]);		/* 0x83 as a translating 8042 passes it */
	ASSERT_EQ(0, ps2_cmd(&r, false, param, ATKBD_CMD_RESET_DIS));
	param[0] = 0x04;			/* caps lock */
	ASSERT_EQ(0, ps2_cmd(&r, false, param, ATKBD_CMD_SETLEDS));
	EXPECT_EQ(0x04, i8042__leds(&r.c));
	param[0] = 0x00;
	ASSERT_EQ(0, ps2_cmd(&r, false, param, ATKBD_CMD_SETREP));
	/* Disabled by 0xf5: keys are dropped until 0xf4. */
	i8042__key(&r.c, 0x1e, true);
	EXPECT_EQ(-1, indata(&r, NULL));
	ASSERT_EQ(0, ps2_cmd(&r, false, param, ATKBD_CMD_ENABLE));
	/* Every byte raised IRQ 1 on its own (the PIC sees an edge per byte). */
	EXPECT_EQ(edges + 11, r.edges[I8042_KBD_IRQ]);
	EXPECT_EQ(2, r.edges[I8042_AUX_IRQ]);	/* only the probe's loop tests */
	/* Echo, resend, and an unknown command. */
	outdata(&r, 0xee);
	EXPECT_EQ(0xee, indata(&r, NULL));
	outdata(&r, 0xfe);
	EXPECT_EQ(0xee, indata(&r, NULL));
	outdata(&r, 0xe8);
	EXPECT_EQ(PS2_RESEND, indata(&r, NULL));
}

TEST(atkbd_scancode_set_untranslated)
{
	struct rig r;
	uint8_t param[4];

	rig_init(&r);
	probe_like_linux(_metadata, &r);
	param[0] = r.c.ram[0] & ~I8042_CTR_XLATE;	/* i8042.direct=1 */
	ASSERT_EQ(0, kbc_command(&r, param, I8042_CMD_CTL_WCTR));
	ASSERT_EQ(2, ps2_cmd(&r, false, param, ATKBD_CMD_GETID));
	EXPECT_EQ(0xab, param[0]);
	EXPECT_EQ(0x83, param[1]);
	/* atkbd_select_set(): set 3 refused, set 2 confirmed. */
	param[0] = 3;
	EXPECT_EQ(-1, ps2_cmd(&r, false, param, ATKBD_CMD_SSCANSET));
	param[0] = 2;
	ASSERT_EQ(0, ps2_cmd(&r, false, param, ATKBD_CMD_SSCANSET));
	param[0] = 0;
	ASSERT_EQ(1, ps2_cmd(&r, false, param, ATKBD_CMD_GSCANSET));
	EXPECT_EQ(2, param[0]);
	ASSERT_EQ(0, ps2_cmd(&r, false, param, ATKBD_CMD_ENABLE));

	/* Set 2: 'a' is 1c / f0 1c, Up is e0 75 / e0 f0 75, F7 is 83. */
	i8042__key(&r.c, 0x1e, true);
	i8042__key(&r.c, 0x1e, false);
	i8042__key(&r.c, 0xe048, true);
	i8042__key(&r.c, 0xe048, false);
	i8042__key(&r.c, 0x41, true);
	{
		static const uint8_t want[] = { 0x1c, 0xf0, 0x1c, 0xe0, 0x75, 0xe0, 0xf0, 0x75,
						0x83 };
		unsigned int i;

		for (i = 0; i < sizeof(want); i++)
			EXPECT_EQ(want[i], indata(&r, NULL));
	}
	EXPECT_EQ(-1, indata(&r, NULL));
	/* Pause: make only, e1 sequence; with Ctrl it is Break (e0 7e). */
	i8042__key(&r.c, 0xe046, true);
	i8042__key(&r.c, 0xe046, false);
	{
		static const uint8_t want[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
		unsigned int i;

		for (i = 0; i < sizeof(want); i++)
			EXPECT_EQ(want[i], indata(&r, NULL));
		EXPECT_EQ(-1, indata(&r, NULL));
	}
	i8042__key(&r.c, 0x1d, true);
	i8042__key(&r.c, 0xe046, true);
	EXPECT_EQ(0x14, indata(&r, NULL));
	EXPECT_EQ(0xe0, indata(&r, NULL));
	EXPECT_EQ(0x7e, indata(&r, NULL));
	/* Set 1 by request passes through. */
	param[0] = 1;
	ASSERT_EQ(0, ps2_cmd(&r, false, param, ATKBD_CMD_SSCANSET));
	i8042__key(&r.c, 0x1e, false);
	EXPECT_EQ(0x9e, indata(&r, NULL));
}

TEST(psmouse_probe_and_intellimouse)
{
	struct rig r;
	uint8_t param[4];

	rig_init(&r);
	probe_like_linux(_metadata, &r);
	ASSERT_EQ(1, ps2_cmd(&r, true, param, PSMOUSE_CMD_GETID));
	EXPECT_EQ(0x00, param[0]);
	ASSERT_EQ(0, ps2_cmd(&r, true, param, PSMOUSE_CMD_RESET_DIS));
	ASSERT_EQ(2, ps2_cmd(&r, true, param, PSMOUSE_CMD_RESET_BAT));
	EXPECT_EQ(PS2_BAT_OK, param[0]);
	EXPECT_EQ(0x00, param[1]);
	/* Synaptics' probe: four SETRES 0 then GETINFO, wants 0x47 in the middle. */
	param[0] = 0;
	ASSERT_EQ(0, ps2_cmd(&r, true, param, PSMOUSE_CMD_SETRES));
	ASSERT_EQ(3, ps2_cmd(&r, true, param, PSMOUSE_CMD_GETINFO));
	EXPECT_NE(0x47, param[1]);
	/* Trackpoint's read-ID (0xe1) is not ours: NAKed, no timeout. */
	outcmd(&r, 0xd4);
	outdata(&r, 0xe1);
	EXPECT_EQ(PS2_RESEND, indata(&r, NULL));
	/* The IntelliMouse knock. */
	param[0] = 200;
	ASSERT_EQ(0, ps2_cmd(&r, true, param, PSMOUSE_CMD_SETRATE));
	param[0] = 100;
	ASSERT_EQ(0, ps2_cmd(&r, true, param, PSMOUSE_CMD_SETRATE));
	param[0] = 80;
	ASSERT_EQ(0, ps2_cmd(&r, true, param, PSMOUSE_CMD_SETRATE));
	ASSERT_EQ(1, ps2_cmd(&r, true, param, PSMOUSE_CMD_GETID));
	EXPECT_EQ(0x03, param[0]);
	/* The Explorer knock does not make it a 5-button mouse. */
	param[0] = 200;
	ASSERT_EQ(0, ps2_cmd(&r, true, param, PSMOUSE_CMD_SETRATE));
	ASSERT_EQ(0, ps2_cmd(&r, true, param, PSMOUSE_CMD_SETRATE));
	param[0] = 80;
	ASSERT_EQ(0, ps2_cmd(&r, true, param, PSMOUSE_CMD_SETRATE));
	ASSERT_EQ(1, ps2_cmd(&r, true, param, PSMOUSE_CMD_GETID));
	EXPECT_EQ(0x03, param[0]);
	/* psmouse_initialize() and activate */
	param[0] = 100;
	ASSERT_EQ(0, ps2_cmd(&r, true, param, PSMOUSE_CMD_SETRATE));
	param[0] = 3;
	ASSERT_EQ(0, ps2_cmd(&r, true, param, PSMOUSE_CMD_SETRES));
	ASSERT_EQ(0, ps2_cmd(&r, true, param, PSMOUSE_CMD_SETSCALE21));
	ASSERT_EQ(3, ps2_cmd(&r, true, param, PSMOUSE_CMD_GETINFO));
	EXPECT_EQ(0x10, param[0]);		/* stream, disabled, 2:1, no buttons */
	EXPECT_EQ(3, param[1]);
	EXPECT_EQ(100, param[2]);
	ASSERT_EQ(0, ps2_cmd(&r, true, param, PSMOUSE_CMD_SETSCALE11));
	ASSERT_EQ(0, ps2_cmd(&r, true, param, PSMOUSE_CMD_ENABLE));
	ASSERT_EQ(3, ps2_cmd(&r, true, param, PSMOUSE_CMD_GETINFO));
	EXPECT_EQ(0x20, param[0]);
	EXPECT_TRUE(i8042__mouse_on(&r.c));
	/* A reset forgets the wheel. */
	ASSERT_EQ(2, ps2_cmd(&r, true, param, PSMOUSE_CMD_RESET_BAT));
	ASSERT_EQ(1, ps2_cmd(&r, true, param, PSMOUSE_CMD_GETID));
	EXPECT_EQ(0x00, param[0]);
	EXPECT_FALSE(i8042__mouse_on(&r.c));
	/* Wrap mode echoes until 0xec. */
	ASSERT_EQ(0, ps2_cmd(&r, true, param, 0x00ee));
	outcmd(&r, 0xd4);
	outdata(&r, 0x42);
	EXPECT_EQ(0x42, indata(&r, NULL));
	ASSERT_EQ(0, ps2_cmd(&r, true, param, 0x00ec));
	ASSERT_EQ(1, ps2_cmd(&r, true, param, PSMOUSE_CMD_GETID));
}

TEST(key_press_set1_with_irq1)
{
	struct rig r;
	bool aux = true;
	int e;

	rig_init(&r);
	probe_like_linux(_metadata, &r);
	e = r.edges[I8042_KBD_IRQ];
	i8042__key(&r.c, 0x1e, true);			/* 'a' */
	EXPECT_EQ(1, r.level[I8042_KBD_IRQ]);
	EXPECT_EQ(e + 1, r.edges[I8042_KBD_IRQ]);
	EXPECT_EQ(0x1e, indata(&r, &aux));
	EXPECT_FALSE(aux);
	EXPECT_EQ(0, r.level[I8042_KBD_IRQ]);
	i8042__key(&r.c, 0x1e, false);
	EXPECT_EQ(0x9e, indata(&r, NULL));
	i8042__key(&r.c, 0xe048, true);			/* Up */
	i8042__key(&r.c, 0xe048, false);
	EXPECT_EQ(0xe0, indata(&r, NULL));
	EXPECT_EQ(1, r.level[I8042_KBD_IRQ]);		/* the next byte is already up */
	EXPECT_EQ(0x48, indata(&r, NULL));
	EXPECT_EQ(0xe0, indata(&r, NULL));
	EXPECT_EQ(0xc8, indata(&r, NULL));
	EXPECT_EQ(-1, indata(&r, NULL));
	EXPECT_EQ(e + 6, r.edges[I8042_KBD_IRQ]);
	EXPECT_EQ(0, r.level[I8042_KBD_IRQ]);
	/* Not make codes: ignored. */
	i8042__key(&r.c, 0x9e, true);
	i8042__key(&r.c, 0x1e48, true);
	i8042__key(&r.c, 0, true);
	EXPECT_EQ(-1, indata(&r, NULL));
	/* Pause in set 1 */
	i8042__key(&r.c, 0xe046, true);
	EXPECT_EQ(0xe1, indata(&r, NULL));
	EXPECT_EQ(0x1d, indata(&r, NULL));
	EXPECT_EQ(0x45, indata(&r, NULL));
	EXPECT_EQ(0xe1, indata(&r, NULL));
	EXPECT_EQ(0x9d, indata(&r, NULL));
	EXPECT_EQ(0xc5, indata(&r, NULL));
	EXPECT_EQ(-1, indata(&r, NULL));
}

TEST(interrupts_follow_the_command_byte_and_port_enables)
{
	struct rig r;
	uint8_t ctr;

	rig_init(&r);
	probe_like_linux(_metadata, &r);
	ctr = r.c.ram[0];
	/* Keyboard interrupt off: the byte waits, no IRQ; on again: IRQ. */
	ctr &= ~I8042_CTR_KBDINT;
	ASSERT_EQ(0, kbc_command(&r, &ctr, I8042_CMD_CTL_WCTR));
	i8042__key(&r.c, 0x10, true);
	EXPECT_EQ(I8042_STR_OBF, status(&r) & I8042_STR_OBF);
	EXPECT_EQ(0, r.level[I8042_KBD_IRQ]);
	ctr |= I8042_CTR_KBDINT;
	ASSERT_EQ(0, kbc_command(&r, &ctr, I8042_CMD_CTL_WCTR));
	EXPECT_EQ(1, r.level[I8042_KBD_IRQ]);
	EXPECT_EQ(0x10, indata(&r, NULL));
	/* Port disabled (0xad): the keyboard keeps its bytes until 0xae. */
	outcmd(&r, 0xad);
	i8042__key(&r.c, 0x11, true);
	EXPECT_EQ(-1, indata(&r, NULL));
	outcmd(&r, 0xae);
	EXPECT_EQ(1, r.level[I8042_KBD_IRQ]);
	EXPECT_EQ(0x11, indata(&r, NULL));
	/* A controller answer goes ahead of a key byte nobody read yet. */
	i8042__key(&r.c, 0x12, true);
	ASSERT_EQ(0, kbc_command(&r, &ctr, I8042_CMD_CTL_RCTR));
	EXPECT_EQ(r.c.ram[0], ctr);
	EXPECT_EQ(0x12, indata(&r, NULL));
	EXPECT_EQ(-1, indata(&r, NULL));
	/* An empty buffer reads its last byte again and changes nothing. */
	EXPECT_EQ(0x12, i8042__read(&r.c, I8042_DATA_PORT));
	EXPECT_EQ(0, r.level[I8042_KBD_IRQ]);
}

static void mouse_on(struct __test_metadata *_metadata, struct rig *r, bool wheel)
{
	uint8_t param[4];

	probe_like_linux(_metadata, r);
	if (wheel) {
		param[0] = 200;
		ASSERT_EQ(0, ps2_cmd(r, true, param, PSMOUSE_CMD_SETRATE));
		param[0] = 100;
		ASSERT_EQ(0, ps2_cmd(r, true, param, PSMOUSE_CMD_SETRATE));
		param[0] = 80;
		ASSERT_EQ(0, ps2_cmd(r, true, param, PSMOUSE_CMD_SETRATE));
	}
	ASSERT_EQ(0, ps2_cmd(r, true, param, PSMOUSE_CMD_ENABLE));
}

/* One packet from the aux port, checking that each byte came with IRQ 12. */
static int packet(struct rig *r, uint8_t *p, int n)
{
	bool aux;
	int i, b;

	for (i = 0; i < n; i++) {
		if (!r->level[I8042_AUX_IRQ])
			return -1;
		b = indata(r, &aux);
		if (b < 0 || !aux)
			return -1;
		p[i] = b;
	}
	return 0;
}

TEST(mouse_packets)
{
	struct rig r;
	uint8_t p[4];
	int e;

	rig_init(&r);
	mouse_on(_metadata, &r, false);
	e = r.edges[I8042_AUX_IRQ];
	i8042__mouse(&r.c, 10, -5, CON_BTN_LEFT, 1);	/* right and up; no wheel yet */
	ASSERT_EQ(0, packet(&r, p, 3));
	EXPECT_EQ(0x09, p[0]);
	EXPECT_EQ(10, p[1]);
	EXPECT_EQ(5, p[2]);
	EXPECT_EQ(-1, indata(&r, NULL));
	EXPECT_EQ(e + 3, r.edges[I8042_AUX_IRQ]);
	i8042__mouse(&r.c, -3, 4, CON_BTN_RIGHT | CON_BTN_MIDDLE, 0);
	ASSERT_EQ(0, packet(&r, p, 3));
	EXPECT_EQ(0x08 | 0x02 | 0x04 | 0x10 | 0x20, p[0]);
	EXPECT_EQ(0xfd, p[1]);
	EXPECT_EQ(0xfc, p[2]);
	/* A button release alone is a packet. */
	i8042__mouse(&r.c, 0, 0, 0, 0);
	ASSERT_EQ(0, packet(&r, p, 3));
	EXPECT_EQ(0x08, p[0]);
	EXPECT_EQ(0, p[1]);
	EXPECT_EQ(0, p[2]);
	i8042__mouse(&r.c, 0, 0, 0, 0);
	EXPECT_EQ(-1, indata(&r, NULL));
	/* More than 9 bits: split over packets, no overflow flagged. */
	i8042__mouse(&r.c, 300, -257, 0, 0);
	ASSERT_EQ(0, packet(&r, p, 3));
	EXPECT_EQ(0x08 | 0x00, p[0]);			/* +255, +255 */
	EXPECT_EQ(255, p[1]);
	EXPECT_EQ(255, p[2]);
	ASSERT_EQ(0, packet(&r, p, 3));
	EXPECT_EQ(0x08, p[0]);
	EXPECT_EQ(45, p[1]);
	EXPECT_EQ(2, p[2]);
	EXPECT_EQ(-1, indata(&r, NULL));
	i8042__mouse(&r.c, -256, 0, 0, 0);		/* the most a packet says */
	ASSERT_EQ(0, packet(&r, p, 3));
	EXPECT_EQ(0x18, p[0]);
	EXPECT_EQ(0x00, p[1]);
	/* Reporting off: nothing. */
	p[0] = 0;
	ASSERT_EQ(0, ps2_cmd(&r, true, p, PSMOUSE_CMD_DISABLE));
	i8042__mouse(&r.c, 5, 5, CON_BTN_LEFT, 0);
	EXPECT_EQ(-1, indata(&r, NULL));
	EXPECT_FALSE(i8042__mouse_on(&r.c));
}

TEST(intellimouse_wheel_packets)
{
	struct rig r;
	uint8_t p[4];

	rig_init(&r);
	mouse_on(_metadata, &r, true);
	i8042__mouse(&r.c, 1, 1, 0, 1);			/* wheel up: -1 in byte 3 */
	ASSERT_EQ(0, packet(&r, p, 4));
	EXPECT_EQ(0x28, p[0]);
	EXPECT_EQ(1, p[1]);
	EXPECT_EQ(0xff, p[2]);
	EXPECT_EQ(0xff, p[3]);
	i8042__mouse(&r.c, 0, 0, 0, -2);		/* down */
	ASSERT_EQ(0, packet(&r, p, 4));
	EXPECT_EQ(0x08, p[0]);
	EXPECT_EQ(2, p[3]);
	i8042__mouse(&r.c, 0, 0, 0, -10);		/* 4 bits a packet: 7 then 3 */
	ASSERT_EQ(0, packet(&r, p, 4));
	EXPECT_EQ(7, p[3]);
	ASSERT_EQ(0, packet(&r, p, 4));
	EXPECT_EQ(3, p[3]);
	EXPECT_EQ(-1, indata(&r, NULL));
}

TEST(remote_mode_poll)
{
	struct rig r;
	uint8_t p[4];

	rig_init(&r);
	mouse_on(_metadata, &r, false);
	ASSERT_EQ(0, ps2_cmd(&r, true, p, PSMOUSE_CMD_SETPOLL));
	i8042__mouse(&r.c, 7, 0, CON_BTN_LEFT, 0);
	EXPECT_EQ(-1, indata(&r, NULL));		/* no stream in remote mode */
	ASSERT_EQ(3, ps2_cmd(&r, true, p, 0x03eb));
	EXPECT_EQ(0x09, p[0]);
	EXPECT_EQ(7, p[1]);
	EXPECT_EQ(0, p[2]);
	ASSERT_EQ(0, ps2_cmd(&r, true, p, PSMOUSE_CMD_SETSTREAM));
	i8042__mouse(&r.c, 1, 0, CON_BTN_LEFT, 0);
	ASSERT_EQ(0, packet(&r, p, 3));
	EXPECT_EQ(1, p[1]);
}

TEST(keyboard_buffer_overflow)
{
	struct rig r;
	int n = 0, b, last = -1;

	rig_init(&r);
	probe_like_linux(_metadata, &r);
	/* A guest that does not read: one byte waits in the controller. */
	for (int i = 0; i < 200; i++)
		i8042__key(&r.c, 0x1e, i % 2 == 0);
	while ((b = indata(&r, NULL)) >= 0) {
		n++;
		if (last == 0xff)
			EXPECT_NE(0xff, last);
		last = b;
	}
	EXPECT_EQ(0xff, last);				/* set-1 overrun code */
	EXPECT_EQ(1 + PS2_KBD_DATA, n);
	/* Drained: keys come through again. */
	i8042__key(&r.c, 0x30, true);
	EXPECT_EQ(0x30, indata(&r, NULL));
	EXPECT_EQ(-1, indata(&r, NULL));
	/* An E0 key never arrives half: 32 whole keys, then the overrun code. */
	for (int i = 0; i < 40; i++)
		i8042__key(&r.c, 0xe048, true);
	for (n = 0; n < PS2_KBD_DATA; n++)
		EXPECT_EQ(n % 2 ? 0x48 : 0xe0, indata(&r, NULL));
	EXPECT_EQ(0xff, indata(&r, NULL));
	EXPECT_EQ(-1, indata(&r, NULL));
}

TEST(mouse_buffer_overflow)
{
	struct rig r;
	uint8_t p[3];
	int total = 0, packets = 0, flagged = 0;

	rig_init(&r);
	mouse_on(_metadata, &r, false);
	/* No reader: the queue fills with whole packets, the rest is kept, then lost. */
	for (int i = 0; i < 20; i++)
		i8042__mouse(&r.c, 1000, 0, 0, 0);
	while (status(&r) & I8042_STR_OBF) {
		ASSERT_EQ(0, packet(&r, p, 3));
		ASSERT_EQ(0x08, p[0] & 0x0f);		/* in step: bit 3 starts each packet */
		total += p[0] & 0x10 ? p[1] - 256 : p[1];
		packets++;
		if (p[0] & 0x40)
			flagged++;
	}
	/*
	 * The first move fitted (4 packets), the second's first packet too;
	 * the rest was kept up to PS2_MOUSE_ACC_MAX, and the loss flagged once.
	 */
	EXPECT_EQ(1, flagged);
	EXPECT_EQ(1000 + 255 + PS2_MOUSE_ACC_MAX, total);
	EXPECT_LT(packets, 30);
	/* Hostile extremes do not overflow anything. */
	i8042__mouse(&r.c, INT32_MIN, INT32_MIN, ~0U, INT32_MIN);
	i8042__mouse(&r.c, INT32_MAX, INT32_MAX, ~0U, INT32_MAX);
	while (status(&r) & I8042_STR_OBF)
		indata(&r, NULL);
}

TEST(garbage_never_wedges_the_controller)
{
	struct rig r;
	uint8_t param;
	unsigned int seed = 1;

	rig_init(&r);
	for (int i = 0; i < 100000; i++) {
		seed = seed * 1103515245 + 12345;
		switch ((seed >> 16) % 5) {
		case 0:
			i8042__write(&r.c, I8042_CMD_PORT, (seed >> 8) & 0xff);
			break;
		case 1:
			i8042__write(&r.c, I8042_DATA_PORT, (seed >> 8) & 0xff);
			break;
		case 2:
			i8042__read(&r.c, I8042_DATA_PORT);
			break;
		case 3:
			i8042__key(&r.c, (seed >> 4) & 0xe0ff, seed & 0x100);
			break;
		default:
			i8042__mouse(&r.c, (int)(seed >> 20) - 2048, (int)(seed & 0xfff) - 2048,
				     seed >> 29, (int)(seed >> 28) - 8);
			break;
		}
		i8042__read(&r.c, 0x61);
	}
	/* Whatever state that left, Linux's probe brings it back. */
	r.resets = 0;
	outcmd(&r, 0xa7);
	param = I8042_CTR_BOOT;
	ASSERT_EQ(0, kbc_command(&r, &param, I8042_CMD_CTL_WCTR));
	while (status(&r) & I8042_STR_OBF)
		i8042__read(&r.c, I8042_DATA_PORT);
	outdata(&r, 0xf5);
	outcmd(&r, 0xd4);
	outdata(&r, 0xf5);
	while (status(&r) & I8042_STR_OBF)
		i8042__read(&r.c, I8042_DATA_PORT);
	probe_like_linux(_metadata, &r);
}

/* The glue: ports, IRQ lines, reset and the console as the runner wires them. */

static struct kvm vm;

static io_fn port_fn(uint64_t port, void **opaque)
{
	for (int i = 0; i < nr_regions; i++)
		if (port >= regions[i].base && port - regions[i].base < regions[i].len) {
			*opaque = regions[i].opaque;
			return regions[i].fn;
		}
	return NULL;
}

static uint8_t pio_in(uint64_t port)
{
	void *o;
	io_fn fn = port_fn(port, &o);
	uint8_t v = 0;

	if (!fn)
		return 0xff;
	fn(o, 0, &v, 1, false);
	return v;
}

static void pio_out(uint64_t port, uint8_t v)
{
	void *o;
	io_fn fn = port_fn(port, &o);

	if (fn)
		fn(o, 0, &v, 1, true);
}

static int start_vm(void)
{
	for (int i = 0; i < nr_inits; i++)
		if (!strcmp(inits[i]->name, "i8042_init"))
			return inits[i]->init(&vm);
	return -ENOENT;
}

TEST(glue_ports_irq_reset)
{
	ASSERT_EQ(0, start_vm());
	ASSERT_TRUE(port_fn(0x60, &(void *){ NULL }) != NULL);
	ASSERT_TRUE(port_fn(0x64, &(void *){ NULL }) != NULL);
	EXPECT_EQ(NULL, port_fn(0x61, &(void *){ NULL }));
	EXPECT_EQ(I8042_STR_UNLOCKED, pio_in(0x64) & (I8042_STR_UNLOCKED | I8042_STR_OBF));

	console_key(0x2c, true);			/* 'z' from the control socket or VNC */
	EXPECT_EQ(1, irq_level[1]);
	EXPECT_EQ(I8042_STR_OBF, pio_in(0x64) & (I8042_STR_OBF | I8042_STR_AUXDATA));
	EXPECT_EQ(0x2c, pio_in(0x60));
	EXPECT_EQ(0, irq_level[1]);

	pio_out(0x60, 0xed);				/* LEDs: num + caps */
	EXPECT_EQ(PS2_ACK, pio_in(0x60));
	pio_out(0x60, 0x06);
	EXPECT_EQ(PS2_ACK, pio_in(0x60));
	EXPECT_EQ(0x06, console_leds());

	EXPECT_EQ(0, exits);
	pio_out(0x64, 0xfe);
	EXPECT_EQ(1, exits);
	EXPECT_EQ(0, exit_status);
	EXPECT_STREQ("guest reset the machine (i8042): reboot", exit_why);
}

static int other_keys;

static void other_key(void *opaque, uint16_t code, bool down)
{
	(void)opaque;
	(void)code;
	(void)down;
	other_keys++;
}

static const struct console_sink_ops other_kbd = { .key = other_key };

TEST(glue_pointer_through_console)
{
	uint8_t v[3];

	ASSERT_EQ(0, start_vm());
	ASSERT_EQ(0, console_set_display(&fake_display, NULL));
	console_pointer_px(10, 10, 0, 0);		/* mouse not enabled: not ready */
	EXPECT_EQ(0, pio_in(0x64) & I8042_STR_OBF);
	pio_out(0x64, 0xd4);
	pio_out(0x60, 0xf4);
	EXPECT_EQ(I8042_STR_OBF | I8042_STR_AUXDATA, pio_in(0x64) & 0x21);
	EXPECT_EQ(1, irq_level[12]);
	EXPECT_EQ(PS2_ACK, pio_in(0x60));
	EXPECT_EQ(0, irq_level[12]);
	console_pointer_px(30, 5, CON_BTN_LEFT, 0);	/* right and up */
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(1, irq_level[12]);
		ASSERT_EQ(I8042_STR_OBF | I8042_STR_AUXDATA, pio_in(0x64) & 0x21);
		v[i] = pio_in(0x60);
	}
	EXPECT_EQ(0x09, v[0]);				/* left, x and y positive */
	EXPECT_EQ(20, v[1]);
	EXPECT_EQ(5, v[2]);
	EXPECT_EQ(0, pio_in(0x64) & I8042_STR_OBF);
	EXPECT_EQ(0, irq_level[12]);
	/* A keyboard with a higher priority that is ready takes the keys instead. */
	ASSERT_EQ(0, console_add_sink(CON_SINK_KBD, CON_PRIO_USB, &other_kbd, NULL, "usb"));
	console_key(0x1e, true);
	EXPECT_EQ(0, pio_in(0x64) & I8042_STR_OBF);
	EXPECT_EQ(1, other_keys);
}

TEST_HARNESS_MAIN
