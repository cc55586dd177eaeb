/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PC keyboard controller (8042) with a PS/2 keyboard and mouse behind
 * it (ps2.h), as a model with no hypervisor in it: port accesses in,
 * interrupt lines and a reset request out through callbacks.  i8042.c
 * plugs one into the VM at ports 0x60/0x64, IRQ 1 and 12, and the console.
 * The caller serialises all calls.
 */
#ifndef KVL_DEVICES_I8042_H
#define KVL_DEVICES_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "ps2.h"

#define I8042_DATA_PORT		0x60
#define I8042_CMD_PORT		0x64	/* reads: status */
#define I8042_KBD_IRQ		1
#define I8042_AUX_IRQ		12

/* Status register */
#define I8042_STR_OBF		0x01	/* output buffer full */
#define I8042_STR_IBF		0x02	/* input buffer full (never: writes complete at once) */
#define I8042_STR_SYS		0x04	/* system flag (command byte bit 2) */
#define I8042_STR_CMD		0x08	/* last write went to 0x64 */
#define I8042_STR_UNLOCKED	0x10	/* keyboard not inhibited */
#define I8042_STR_AUXDATA	0x20	/* the output byte is the mouse's */

/* Controller command byte (CTR) */
#define I8042_CTR_KBDINT	0x01
#define I8042_CTR_AUXINT	0x02
#define I8042_CTR_SYS		0x04
#define I8042_CTR_KBDDIS	0x10
#define I8042_CTR_AUXDIS	0x20
#define I8042_CTR_XLATE		0x40
/* As firmware leaves it: translating, both interrupts on, both ports on. */
#define I8042_CTR_BOOT		(I8042_CTR_XLATE | I8042_CTR_SYS | I8042_CTR_AUXINT | \
				 I8042_CTR_KBDINT)

struct i8042 {
	uint8_t ram[32];	/* ram[0] is the command byte */
	uint8_t cmd;		/* command waiting for its data byte, 0: none */
	uint8_t outport;	/* 0xd0/0xd1: bit 0 reset line (1: running), bit 1 A20 */
	uint8_t status_cmd;	/* I8042_STR_CMD or 0 */
	bool obf, ob_aux;	/* output buffer: full, from the mouse */
	uint8_t ob;
	bool ob_ctrl;		/* the output byte is the controller's own answer */
	/* A device byte that a controller answer displaced; it goes out next. */
	bool held, held_aux;
	uint8_t held_byte;
	int line[2];		/* IRQ 1, IRQ 12 as last driven */
	struct ps2_kbd kbd;
	struct ps2_mouse mouse;

	void (*irq)(void *opaque, unsigned int irq, int level);
	void (*reset)(void *opaque);	/* pulse on the CPU reset line */
	void *opaque;
};

void i8042__init(struct i8042 *c, void (*irq)(void *, unsigned int, int),
		 void (*reset)(void *), void *opaque);
/* @port is I8042_DATA_PORT or I8042_CMD_PORT; others read 0xff and are ignored. */
uint8_t i8042__read(struct i8042 *c, unsigned int port);
void i8042__write(struct i8042 *c, unsigned int port, uint8_t val);

/* Input: a set-1 key (console.h), relative mouse motion (y down, CON_BTN_*, wheel + up). */
void i8042__key(struct i8042 *c, uint16_t code, bool down);
void i8042__mouse(struct i8042 *c, int dx, int dy, uint32_t buttons, int wheel);
uint8_t i8042__leds(const struct i8042 *c);
/* Whether the guest enabled mouse reporting (the console may prefer another pointer). */
bool i8042__mouse_on(const struct i8042 *c);

#endif
