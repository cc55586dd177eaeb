// SPDX-License-Identifier: GPL-2.0
/*
 * PS/2 keyboard and mouse, as Linux's atkbd and psmouse drive them (and
 * as the IBM PS/2 technical reference describes the devices).
 *
 * Keyboard: input arrives as set-1 codes.  When the controller translates
 * (its command byte's XLATE bit, Linux's default) the guest expects set 1,
 * so codes pass through; without translation the keyboard sends set 2
 * (or set 1 if 0xf0 selected it).  Set 3 is refused, which makes atkbd
 * fall back to set 2.  A full buffer holds one overrun code (0xff in set
 * 1, 0x00 in set 2), then drops keys until the guest has read it all.
 *
 * Mouse: standard 3-byte packets (buttons, 9-bit signed X and Y, y up),
 * 4 bytes with the wheel once sample rates 200, 100, 80 were set (the
 * IntelliMouse knock; GET ID then answers 3).  Motion larger than a packet
 * carries is split over several; motion beyond what the queue and
 * PS2_MOUSE_ACC_MAX hold is lost and flagged with the overflow bits.
 */
#include <string.h>

#include "console.h"
#include "ps2.h"

#define KBD_SETLEDS	0xed
#define KBD_ECHO	0xee
#define KBD_SCANSET	0xf0
#define KBD_GETID	0xf2
#define KBD_TYPEMATIC	0xf3
#define KBD_ENABLE	0xf4
#define KBD_RESET_DIS	0xf5
#define KBD_DEFAULTS	0xf6
#define KBD_RESEND	0xfe
#define KBD_RESET	0xff

#define AUX_SCALE11	0xe6
#define AUX_SCALE21	0xe7
#define AUX_SETRES	0xe8
#define AUX_STATUS	0xe9
#define AUX_STREAM	0xea
#define AUX_READ	0xeb
#define AUX_RESET_WRAP	0xec
#define AUX_WRAP	0xee
#define AUX_REMOTE	0xf0
#define AUX_GETID	0xf2
#define AUX_SETRATE	0xf3
#define AUX_ENABLE	0xf4
#define AUX_DISABLE	0xf5
#define AUX_DEFAULTS	0xf6
#define AUX_RESEND	0xfe
#define AUX_RESET	0xff

/*
 * Set-1 make code -> set-2 make code: the inverse of the 8042's translation,
 * except F7 (0x83) and Alt+SysRq (0x84), which it translates by a special
 * case.  E0 keys keep their E0 prefix and translate the same way.
 */
static const uint8_t set1_to_set2[128] = {
	0x00, 0x76, 0x16, 0x1e, 0x26, 0x25, 0x2e, 0x36,	/* 0x00 */
	0x3d, 0x3e, 0x46, 0x45, 0x4e, 0x55, 0x66, 0x0d,	/* 0x08 */
	0x15, 0x1d, 0x24, 0x2d, 0x2c, 0x35, 0x3c, 0x43,	/* 0x10 */
	0x44, 0x4d, 0x54, 0x5b, 0x5a, 0x14, 0x1c, 0x1b,	/* 0x18 */
	0x23, 0x2b, 0x34, 0x33, 0x3b, 0x42, 0x4b, 0x4c,	/* 0x20 */
	0x52, 0x0e, 0x12, 0x5d, 0x1a, 0x22, 0x21, 0x2a,	/* 0x28 */
	0x32, 0x31, 0x3a, 0x41, 0x49, 0x4a, 0x59, 0x7c,	/* 0x30 */
	0x11, 0x29, 0x58, 0x05, 0x06, 0x04, 0x0c, 0x03,	/* 0x38 */
	0x0b, 0x83, 0x0a, 0x01, 0x09, 0x77, 0x7e, 0x6c,	/* 0x40 */
	0x75, 0x7d, 0x7b, 0x6b, 0x73, 0x74, 0x79, 0x69,	/* 0x48 */
	0x72, 0x7a, 0x70, 0x71, 0x84, 0x60, 0x61, 0x78,	/* 0x50 */
	0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f,	/* 0x58 */
	0x47, 0x4f, 0x56, 0x5e, 0x08, 0x10, 0x18, 0x20,	/* 0x60 */
	0x28, 0x30, 0x38, 0x40, 0x48, 0x50, 0x57, 0x6f,	/* 0x68 */
	0x13, 0x19, 0x39, 0x51, 0x53, 0x5c, 0x5f, 0x62,	/* 0x70 */
	0x63, 0x64, 0x65, 0x67, 0x68, 0x6a, 0x6d, 0x6e,	/* 0x78 */
};

/* Pause has no break code; with Ctrl held the key is Break (E0 46). */
static const uint8_t pause_set1[] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };
static const uint8_t pause_set2[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
_Static_assert(PS2_REPLY_SIZE <= PS2_KBD_DATA && PS2_MOUSE_DATA <= PS2_KBD_DATA,
	       "every queue fits struct ps2_queue's buffer");

#define KEY_PAUSE	0xe046
#define KEY_LCTRL	0x001d
#define KEY_RCTRL	0xe01d

static void q_init(struct ps2_queue *q, unsigned int size)
{
	q->head = 0;
	q->count = 0;
	q->size = size;
}

static unsigned int q_room(const struct ps2_queue *q)
{
	return q->size - q->count;
}

static void q_push(struct ps2_queue *q, uint8_t b)
{
	if (q->count < q->size)
		q->buf[(q->head + q->count++) % q->size] = b;
}

static int q_pop(struct ps2_queue *q)
{
	uint8_t b;

	if (!q->count)
		return -1;
	b = q->buf[q->head];
	q->head = (q->head + 1) % q->size;
	q->count--;
	return b;
}

/* Keyboard */

static void kbd_defaults(struct ps2_kbd *k)
{
	k->set = 2;
	k->cmd = 0;
	q_init(&k->data, PS2_KBD_DATA);
	k->overrun = false;
}

void ps2_kbd__init(struct ps2_kbd *k)
{
	memset(k, 0, sizeof(*k));
	q_init(&k->reply, PS2_REPLY_SIZE);
	kbd_defaults(k);
	k->scanning = true;
	k->xlate = true;
}

/* What GET ID and "get scancode set" send through a translating 8042. */
static uint8_t kbd_xlated(const struct ps2_kbd *k, uint8_t set2_byte)
{
	switch (k->xlate ? set2_byte : 0) {
	case 0x83:
		return 0x41;
	case 0x01:
		return 0x43;
	case 0x02:
		return 0x41;
	case 0x03:
		return 0x3f;
	default:
		return set2_byte;
	}
}

/* The parameter of @cmd; false if @b is no parameter but a new command. */
static bool kbd_param(struct ps2_kbd *k, uint8_t cmd, uint8_t b)
{
	if (b & 0x80)
		return false;
	switch (cmd) {
	case KBD_SETLEDS:
		k->leds = b & 7;
		q_push(&k->reply, PS2_ACK);
		break;
	case KBD_TYPEMATIC:		/* repeat is the host's business */
		q_push(&k->reply, PS2_ACK);
		break;
	case KBD_SCANSET:
		if (b == 0) {
			q_push(&k->reply, PS2_ACK);
			q_push(&k->reply, kbd_xlated(k, k->set));
		} else if (b == 1 || b == 2) {
			k->set = b;
			q_init(&k->data, PS2_KBD_DATA);
			q_push(&k->reply, PS2_ACK);
		} else {
			q_push(&k->reply, PS2_RESEND);
		}
		break;
	}
	return true;
}

void ps2_kbd__write(struct ps2_kbd *k, uint8_t b)
{
	uint8_t cmd = k->cmd;

	k->cmd = 0;
	if (cmd && kbd_param(k, cmd, b))
		return;
	if (b != KBD_RESEND)
		q_init(&k->reply, PS2_REPLY_SIZE);	/* a new command drops an unread answer */
	switch (b) {
	case KBD_SETLEDS:
	case KBD_TYPEMATIC:
	case KBD_SCANSET:
		k->cmd = b;
		q_push(&k->reply, PS2_ACK);
		break;
	case KBD_ECHO:
		q_push(&k->reply, PS2_ECHO);
		break;
	case KBD_GETID:
		q_push(&k->reply, PS2_ACK);
		q_push(&k->reply, 0xab);
		q_push(&k->reply, kbd_xlated(k, 0x83));
		break;
	case KBD_ENABLE:
		k->scanning = true;
		q_push(&k->reply, PS2_ACK);
		break;
	case KBD_RESET_DIS:
	case KBD_DEFAULTS:
		kbd_defaults(k);
		k->scanning = b == KBD_DEFAULTS;
		q_push(&k->reply, PS2_ACK);
		break;
	case 0xf7 ... 0xfd:		/* set-3 key types: accepted, no effect */
		q_push(&k->reply, PS2_ACK);
		break;
	case KBD_RESEND:
		q_push(&k->reply, k->last);
		break;
	case KBD_RESET:
		kbd_defaults(k);
		k->scanning = true;
		k->leds = 0;
		q_push(&k->reply, PS2_ACK);
		q_push(&k->reply, PS2_BAT_OK);
		break;
	default:
		q_push(&k->reply, PS2_RESEND);
		break;
	}
}

void ps2_kbd__key(struct ps2_kbd *k, uint16_t code, bool down)
{
	bool e0 = (code >> 8) == 0xe0, set1 = k->xlate || k->set == 1;
	uint8_t make = code & 0xff, seq[8];
	const uint8_t *bytes = seq;
	unsigned int n = 0, i;

	if (((code >> 8) && !e0) || make == 0 || (make & 0x80))
		return;				/* not a set-1 make code */
	if (code == KEY_LCTRL)
		k->ctrl_l = down;
	else if (code == KEY_RCTRL)
		k->ctrl_r = down;
	if (!k->scanning || k->overrun)
		return;

	if (code == KEY_PAUSE && !k->ctrl_l && !k->ctrl_r) {
		if (!down)
			return;
		bytes = set1 ? pause_set1 : pause_set2;
		n = set1 ? sizeof(pause_set1) : sizeof(pause_set2);
	} else {
		if (e0)
			seq[n++] = 0xe0;
		if (set1) {
			seq[n++] = down ? make : make | 0x80;
		} else {
			if (!down)
				seq[n++] = 0xf0;
			seq[n++] = set1_to_set2[make];
		}
	}

	/* The last slot is kept for the overrun code. */
	if (q_room(&k->data) > n) {
		for (i = 0; i < n; i++)
			q_push(&k->data, bytes[i]);
	} else {
		q_push(&k->data, set1 ? 0xff : 0x00);
		k->overrun = true;
	}
}

int ps2_kbd__pop(struct ps2_kbd *k)
{
	int b = q_pop(&k->reply);

	if (b < 0) {
		b = q_pop(&k->data);
		if (!k->data.count)
			k->overrun = false;
	}
	if (b >= 0)
		k->last = b;
	return b;
}

/* Mouse */

static void mouse_defaults(struct ps2_mouse *m)
{
	m->rate = 100;
	m->res = 2;			/* 4 counts/mm */
	m->scale21 = false;
	m->reporting = false;
	m->remote = false;
	m->cmd = 0;
}

static void mouse_forget_motion(struct ps2_mouse *m)
{
	q_init(&m->data, PS2_MOUSE_DATA);
	m->dx = 0;
	m->dy = 0;
	m->dz = 0;
	m->ovx = false;
	m->ovy = false;
	m->sent_buttons = m->buttons;
}

void ps2_mouse__init(struct ps2_mouse *m)
{
	memset(m, 0, sizeof(*m));
	q_init(&m->reply, PS2_REPLY_SIZE);
	mouse_defaults(m);
	mouse_forget_motion(m);
}

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static unsigned int packet_size(const struct ps2_mouse *m)
{
	return m->id == 3 ? 4 : 3;
}

/* Queue one packet from the motion kept (all of it, up to what a packet carries). */
static void mouse_packet(struct ps2_mouse *m, struct ps2_queue *q)
{
	int dx = clamp(m->dx, -256, 255), dy = clamp(m->dy, -256, 255);
	int dz = clamp(m->dz, -8, 7);

	q_push(q, 0x08 | m->buttons | (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0) |
	       (m->ovx ? 0x40 : 0) | (m->ovy ? 0x80 : 0));
	q_push(q, dx & 0xff);
	q_push(q, dy & 0xff);
	if (m->id == 3)
		q_push(q, dz & 0xff);
	m->dx -= dx;
	m->dy -= dy;
	m->dz -= dz;
	m->ovx = false;
	m->ovy = false;
	m->sent_buttons = m->buttons;
}

static bool mouse_has_news(const struct ps2_mouse *m)
{
	return m->dx || m->dy || m->dz || m->ovx || m->ovy || m->buttons != m->sent_buttons;
}

/* Stream mode: turn kept motion into packets while they fit. */
static void mouse_flush(struct ps2_mouse *m)
{
	while (m->reporting && !m->remote && mouse_has_news(m) &&
	       q_room(&m->data) >= packet_size(m))
		mouse_packet(m, &m->data);
}

static void mouse_param(struct ps2_mouse *m, uint8_t cmd, uint8_t b)
{
	if (cmd == AUX_SETRES) {
		if (b > 3) {
			q_push(&m->reply, PS2_RESEND);
			return;
		}
		m->res = b;
	} else {			/* AUX_SETRATE */
		m->rate = b;
		m->knock[0] = m->knock[1];
		m->knock[1] = m->knock[2];
		m->knock[2] = b;
		if (m->knock[0] == 200 && m->knock[1] == 100 && m->knock[2] == 80)
			m->id = 3;
	}
	q_push(&m->reply, PS2_ACK);
}

static void mouse_status(struct ps2_mouse *m)
{
	/* Status byte: bit 0 right, 1 middle, 2 left (not the packet's order). */
	uint8_t btn = (m->buttons & 1) << 2 | (m->buttons & 2) >> 1 | (m->buttons & 4) >> 1;

	q_push(&m->reply, PS2_ACK);
	q_push(&m->reply, (m->remote ? 0x40 : 0) | (m->reporting ? 0x20 : 0) |
	       (m->scale21 ? 0x10 : 0) | btn);
	q_push(&m->reply, m->res);
	q_push(&m->reply, m->rate);
}

static void mouse_reset(struct ps2_mouse *m)
{
	mouse_defaults(m);
	m->id = 0;
	m->wrap = false;
	memset(m->knock, 0, sizeof(m->knock));
	q_push(&m->reply, PS2_ACK);
	q_push(&m->reply, PS2_BAT_OK);
	q_push(&m->reply, 0x00);		/* device ID */
}

void ps2_mouse__write(struct ps2_mouse *m, uint8_t b)
{
	uint8_t cmd = m->cmd;

	m->cmd = 0;
	if (cmd) {
		mouse_param(m, cmd, b);
		return;
	}
	if (b == AUX_RESEND) {
		q_push(&m->reply, m->last);
		return;
	}
	/* A new command: drop unread answers and packets (a partial one would garble). */
	q_init(&m->reply, PS2_REPLY_SIZE);
	q_init(&m->data, PS2_MOUSE_DATA);
	if (m->wrap && b != AUX_RESET_WRAP && b != AUX_RESET) {
		q_push(&m->reply, b);
		return;
	}
	switch (b) {
	case AUX_SCALE11:
	case AUX_SCALE21:
		m->scale21 = b == AUX_SCALE21;
		q_push(&m->reply, PS2_ACK);
		break;
	case AUX_SETRES:
	case AUX_SETRATE:
		m->cmd = b;
		q_push(&m->reply, PS2_ACK);
		break;
	case AUX_STATUS:
		mouse_status(m);
		break;
	case AUX_STREAM:
	case AUX_REMOTE:
		m->remote = b == AUX_REMOTE;
		q_push(&m->reply, PS2_ACK);
		break;
	case AUX_READ:
		q_push(&m->reply, PS2_ACK);
		mouse_packet(m, &m->reply);
		break;
	case AUX_RESET_WRAP:
		m->wrap = false;
		q_push(&m->reply, PS2_ACK);
		break;
	case AUX_WRAP:
		m->wrap = true;
		q_push(&m->reply, PS2_ACK);
		break;
	case AUX_GETID:
		q_push(&m->reply, PS2_ACK);
		q_push(&m->reply, m->id);
		break;
	case AUX_ENABLE:
	case AUX_DISABLE:
		m->reporting = b == AUX_ENABLE;
		mouse_forget_motion(m);
		q_push(&m->reply, PS2_ACK);
		break;
	case AUX_DEFAULTS:
		mouse_defaults(m);
		mouse_forget_motion(m);
		q_push(&m->reply, PS2_ACK);
		break;
	case AUX_RESET:
		mouse_reset(m);
		mouse_forget_motion(m);
		break;
	default:
		q_push(&m->reply, PS2_RESEND);
		break;
	}
}

/* Add @d to the motion kept on one axis; what does not fit is lost and flagged. */
static void mouse_accumulate(int *acc, int64_t d, bool *ov)
{
	int64_t v = *acc + d;

	if (v > PS2_MOUSE_ACC_MAX || v < -PS2_MOUSE_ACC_MAX) {
		v = v > 0 ? PS2_MOUSE_ACC_MAX : -PS2_MOUSE_ACC_MAX;
		if (ov)
			*ov = true;
	}
	*acc = v;
}

void ps2_mouse__move(struct ps2_mouse *m, int dx, int dy, uint32_t buttons, int wheel)
{
	m->buttons = (buttons & CON_BTN_LEFT ? 1 : 0) | (buttons & CON_BTN_RIGHT ? 2 : 0) |
		     (buttons & CON_BTN_MIDDLE ? 4 : 0);
	if (!m->reporting && !m->remote) {
		m->sent_buttons = m->buttons;	/* nothing to report: no packet later */
		return;
	}
	mouse_accumulate(&m->dx, dx, &m->ovx);
	mouse_accumulate(&m->dy, -(int64_t)dy, &m->ovy);	/* PS/2: y grows up */
	if (m->id == 3)
		mouse_accumulate(&m->dz, -(int64_t)wheel, NULL);	/* + is down */
	mouse_flush(m);
}

int ps2_mouse__pop(struct ps2_mouse *m)
{
	int b = q_pop(&m->reply);

	if (b < 0) {
		b = q_pop(&m->data);
		mouse_flush(m);
	}
	if (b >= 0)
		m->last = b;
	return b;
}
