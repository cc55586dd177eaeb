/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The two PS/2 devices behind the i8042 (i8042.c): an MF2 keyboard and a
 * mouse that turns into an IntelliMouse (wheel) after the usual sample
 * rate knock.  Each device answers the bytes the controller passes it
 * (commands and their parameters) and keeps what it has to send in two
 * queues: replies to commands first, then input (scancodes, packets), so
 * that an ACK never waits behind a burst of keys.  The controller takes
 * one byte at a time with ps2_*__pop().  No locking: the caller holds the
 * controller's lock.
 */
#ifndef KVL_DEVICES_PS2_H
#define KVL_DEVICES_PS2_H

#include <stdbool.h>
#include <stdint.h>

#define PS2_ACK		0xfa
#define PS2_RESEND	0xfe	/* "resend": the answer to a byte we do not take */
#define PS2_BAT_OK	0xaa	/* basic assurance test passed, after a reset */
#define PS2_ECHO	0xee

#define PS2_REPLY_SIZE	8	/* the longest reply is 4 bytes (mouse status) */
#define PS2_KBD_DATA	64	/* scancode bytes held while the guest does not read */
#define PS2_MOUSE_DATA	16	/* 4 packets of 4 bytes; more motion accumulates */

/* Mouse motion kept beyond what fits in the queue; more sets the overflow bits. */
#define PS2_MOUSE_ACC_MAX	2048

struct ps2_queue {
	uint8_t buf[PS2_KBD_DATA];
	unsigned int head, count, size;
};

struct ps2_kbd {
	struct ps2_queue reply, data;
	uint8_t cmd;		/* command waiting for its parameter, 0: none */
	bool scanning;		/* 0xf4 / 0xf5 */
	bool xlate;		/* the controller translates: send set 1 */
	uint8_t set;		/* scancode set selected by 0xf0 (1 or 2) */
	uint8_t leds;		/* bit 0 scroll, 1 num, 2 caps (0xed) */
	uint8_t last;		/* last byte sent, for 0xfe */
	bool overrun;		/* overrun code queued: drop keys until drained */
	bool ctrl_l, ctrl_r;	/* held: Pause becomes Break */
};

struct ps2_mouse {
	struct ps2_queue reply, data;
	uint8_t cmd;		/* command waiting for its parameter, 0: none */
	bool reporting;		/* 0xf4 / 0xf5 */
	bool remote;		/* remote (0xf0) rather than stream (0xea) mode */
	bool wrap;		/* echo mode (0xee) until 0xec or 0xff */
	bool scale21;		/* 0xe7 / 0xe6: reported by 0xe9 only */
	uint8_t rate, res;	/* sample rate (0xf3), resolution (0xe8) */
	uint8_t id;		/* 0 PS/2 mouse, 3 IntelliMouse (wheel) */
	uint8_t knock[3];	/* the last three sample rates */
	uint8_t buttons;	/* PS/2 order: bit 0 left, 1 right, 2 middle */
	uint8_t sent_buttons;	/* as in the last packet queued */
	int dx, dy, dz;		/* motion not yet in a packet (PS/2 axes: y up) */
	bool ovx, ovy;		/* motion was lost on that axis */
	uint8_t last;		/* last byte sent, for 0xfe */
};

/* Power-on state: BAT passed (0xaa queued), set 2, scanning. */
void ps2_kbd__init(struct ps2_kbd *k);
/* A byte from the controller (a command or a parameter). */
void ps2_kbd__write(struct ps2_kbd *k, uint8_t byte);
/* A key: set-1 code, 0xe000 | code for E0 keys (console.h). */
void ps2_kbd__key(struct ps2_kbd *k, uint16_t code, bool down);
/* Next byte for the controller, or -1. */
int ps2_kbd__pop(struct ps2_kbd *k);

void ps2_mouse__init(struct ps2_mouse *m);
void ps2_mouse__write(struct ps2_mouse *m, uint8_t byte);
/*
 * Motion (y grows down, as on the screen), CON_BTN_* buttons, wheel steps
 * (+ up).  Queues packets while reporting in stream mode; motion that does
 * not fit is kept and sent as the guest reads.
 */
void ps2_mouse__move(struct ps2_mouse *m, int dx, int dy, uint32_t buttons, int wheel);
int ps2_mouse__pop(struct ps2_mouse *m);

#endif
