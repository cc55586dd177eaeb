// SPDX-License-Identifier: GPL-2.0
/*
 * USB HID devices (HID 1.11): an absolute pointer ("tablet": 3 buttons,
 * X and Y 0..0x7fff, wheel; QEMU's 0627:0001 IDs) and a boot-protocol
 * keyboard (8-byte reports, LEDs through SET_REPORT).  Both are high-speed
 * devices with one interrupt IN endpoint (EP1).  Input arrives through
 * the console's sink callbacks (usb_hid_sink()); reports queue until the
 * host polls EP1, each one the whole state, so a full queue folds the
 * newest state into its last entry and nothing the guest sees goes wrong
 * (key up and down never swap, wheel steps add up).
 */
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "le.h"
#include "usb.h"
#include "usb_hid.h"

#define HID_REQ_GET_REPORT	0x01
#define HID_REQ_GET_IDLE	0x02
#define HID_REQ_GET_PROTOCOL	0x03
#define HID_REQ_SET_REPORT	0x09
#define HID_REQ_SET_IDLE	0x0a
#define HID_REQ_SET_PROTOCOL	0x0b

#define QUEUE_LEN	16
#define REPORT_MAX	8
#define EP1_MPS		8

struct usb_hid {
	struct usb_dev dev;
	enum usb_hid_kind kind;
	uint8_t protocol;	/* 0 boot, 1 report */
	uint8_t idle;
	uint8_t leds;		/* as the guest set them: HID bit 0 num, 1 caps, 2 scroll */
	bool remote_wakeup;
	/* Current state */
	uint8_t mods;
	uint8_t keys[6];
	unsigned int nkeys, overflow;
	uint32_t x, y, buttons;
	/* Reports not yet taken */
	uint8_t q[QUEUE_LEN][REPORT_MAX];
	unsigned int head, count;
};

static const uint8_t tablet_report_desc[] = {
	0x05, 0x01,		/* Usage Page (Generic Desktop) */
	0x09, 0x02,		/* Usage (Mouse) */
	0xa1, 0x01,		/* Collection (Application) */
	0x09, 0x01,		/*   Usage (Pointer) */
	0xa1, 0x00,		/*   Collection (Physical) */
	0x05, 0x09,		/*     Usage Page (Button) */
	0x19, 0x01,		/*     Usage Minimum (1) */
	0x29, 0x03,		/*     Usage Maximum (3) */
	0x15, 0x00,		/*     Logical Minimum (0) */
	0x25, 0x01,		/*     Logical Maximum (1) */
	0x95, 0x03,		/*     Report Count (3) */
	0x75, 0x01,		/*     Report Size (1) */
	0x81, 0x02,		/*     Input (Data, Variable, Absolute) */
	0x95, 0x01,		/*     Report Count (1) */
	0x75, 0x05,		/*     Report Size (5) */
	0x81, 0x01,		/*     Input (Constant) */
	0x05, 0x01,		/*     Usage Page (Generic Desktop) */
	0x09, 0x30,		/*     Usage (X) */
	0x09, 0x31,		/*     Usage (Y) */
	0x15, 0x00,		/*     Logical Minimum (0) */
	0x26, 0xff, 0x7f,	/*     Logical Maximum (0x7fff) */
	0x35, 0x00,		/*     Physical Minimum (0) */
	0x46, 0xff, 0x7f,	/*     Physical Maximum (0x7fff) */
	0x75, 0x10,		/*     Report Size (16) */
	0x95, 0x02,		/*     Report Count (2) */
	0x81, 0x02,		/*     Input (Data, Variable, Absolute) */
	0x05, 0x01,		/*     Usage Page (Generic Desktop) */
	0x09, 0x38,		/*     Usage (Wheel) */
	0x15, 0x81,		/*     Logical Minimum (-127) */
	0x25, 0x7f,		/*     Logical Maximum (127) */
	0x35, 0x00,		/*     Physical Minimum (0) */
	0x45, 0x00,		/*     Physical Maximum (0) */
	0x75, 0x08,		/*     Report Size (8) */
	0x95, 0x01,		/*     Report Count (1) */
	0x81, 0x06,		/*     Input (Data, Variable, Relative) */
	0xc0,			/*   End Collection */
	0xc0,			/* End Collection */
};

/* The boot keyboard of HID 1.11 appendix B.1. */
static const uint8_t kbd_report_desc[] = {
	0x05, 0x01,		/* Usage Page (Generic Desktop) */
	0x09, 0x06,		/* Usage (Keyboard) */
	0xa1, 0x01,		/* Collection (Application) */
	0x75, 0x01,		/*   Report Size (1) */
	0x95, 0x08,		/*   Report Count (8) */
	0x05, 0x07,		/*   Usage Page (Keyboard) */
	0x19, 0xe0,		/*   Usage Minimum (Left Control) */
	0x29, 0xe7,		/*   Usage Maximum (Right GUI) */
	0x15, 0x00,		/*   Logical Minimum (0) */
	0x25, 0x01,		/*   Logical Maximum (1) */
	0x81, 0x02,		/*   Input (Data, Variable, Absolute): modifiers */
	0x95, 0x01,		/*   Report Count (1) */
	0x75, 0x08,		/*   Report Size (8) */
	0x81, 0x01,		/*   Input (Constant): reserved */
	0x95, 0x05,		/*   Report Count (5) */
	0x75, 0x01,		/*   Report Size (1) */
	0x05, 0x08,		/*   Usage Page (LEDs) */
	0x19, 0x01,		/*   Usage Minimum (Num Lock) */
	0x29, 0x05,		/*   Usage Maximum (Kana) */
	0x91, 0x02,		/*   Output (Data, Variable, Absolute): LEDs */
	0x95, 0x01,		/*   Report Count (1) */
	0x75, 0x03,		/*   Report Size (3) */
	0x91, 0x01,		/*   Output (Constant): padding */
	0x95, 0x06,		/*   Report Count (6) */
	0x75, 0x08,		/*   Report Size (8) */
	0x15, 0x00,		/*   Logical Minimum (0) */
	0x26, 0xff, 0x00,	/*   Logical Maximum (255) */
	0x05, 0x07,		/*   Usage Page (Keyboard) */
	0x19, 0x00,		/*   Usage Minimum (0) */
	0x29, 0xff,		/*   Usage Maximum (255) */
	0x81, 0x00,		/*   Input (Data, Array): keys */
	0xc0,			/* End Collection */
};

static const char *const strings_tablet[] = { NULL, "kvmlite", "kvmlite USB Tablet", "1" };
static const char *const strings_kbd[] = { NULL, "kvmlite", "kvmlite USB Keyboard", "1" };

/*
 * XT set 1 scancodes to HID keyboard usages (HID Usage Tables 1.12,
 * chapter 10), plain codes and E0-prefixed ones; 0: no key.
 */
static const uint8_t xt_to_hid[128] = {
	[0x01] = 0x29, [0x02] = 0x1e, [0x03] = 0x1f, [0x04] = 0x20, [0x05] = 0x21,
	[0x06] = 0x22, [0x07] = 0x23, [0x08] = 0x24, [0x09] = 0x25, [0x0a] = 0x26,
	[0x0b] = 0x27, [0x0c] = 0x2d, [0x0d] = 0x2e, [0x0e] = 0x2a, [0x0f] = 0x2b,
	[0x10] = 0x14, [0x11] = 0x1a, [0x12] = 0x08, [0x13] = 0x15, [0x14] = 0x17,
	[0x15] = 0x1c, [0x16] = 0x18, [0x17] = 0x0c, [0x18] = 0x12, [0x19] = 0x13,
	[0x1a] = 0x2f, [0x1b] = 0x30, [0x1c] = 0x28, [0x1d] = 0xe0, [0x1e] = 0x04,
	[0x1f] = 0x16, [0x20] = 0x07, [0x21] = 0x09, [0x22] = 0x0a, [0x23] = 0x0b,
	[0x24] = 0x0d, [0x25] = 0x0e, [0x26] = 0x0f, [0x27] = 0x33, [0x28] = 0x34,
	[0x29] = 0x35, [0x2a] = 0xe1, [0x2b] = 0x31, [0x2c] = 0x1d, [0x2d] = 0x1b,
	[0x2e] = 0x06, [0x2f] = 0x19, [0x30] = 0x05, [0x31] = 0x11, [0x32] = 0x10,
	[0x33] = 0x36, [0x34] = 0x37, [0x35] = 0x38, [0x36] = 0xe5, [0x37] = 0x55,
	[0x38] = 0xe2, [0x39] = 0x2c, [0x3a] = 0x39, [0x3b] = 0x3a, [0x3c] = 0x3b,
	[0x3d] = 0x3c, [0x3e] = 0x3d, [0x3f] = 0x3e, [0x40] = 0x3f, [0x41] = 0x40,
	[0x42] = 0x41, [0x43] = 0x42, [0x44] = 0x43, [0x45] = 0x53, [0x46] = 0x47,
	[0x47] = 0x5f, [0x48] = 0x60, [0x49] = 0x61, [0x4a] = 0x56, [0x4b] = 0x5c,
	[0x4c] = 0x5d, [0x4d] = 0x5e, [0x4e] = 0x57, [0x4f] = 0x59, [0x50] = 0x5a,
	[0x51] = 0x5b, [0x52] = 0x62, [0x53] = 0x63, [0x54] = 0x46, [0x56] = 0x64,
	[0x57] = 0x44, [0x58] = 0x45, [0x59] = 0x67, [0x5d] = 0x68, [0x5e] = 0x69,
	[0x5f] = 0x6a, [0x70] = 0x88, [0x73] = 0x87, [0x79] = 0x8a, [0x7b] = 0x8b,
	[0x7d] = 0x89, [0x7e] = 0x85,
};

static const uint8_t xt_e0_to_hid[128] = {
	[0x1c] = 0x58, [0x1d] = 0xe4, [0x20] = 0x7f, [0x2e] = 0x81, [0x30] = 0x80,
	[0x35] = 0x54, [0x37] = 0x46, [0x38] = 0xe6, [0x46] = 0x48, [0x47] = 0x4a,
	[0x48] = 0x52, [0x49] = 0x4b, [0x4b] = 0x50, [0x4d] = 0x4f, [0x4f] = 0x4d,
	[0x50] = 0x51, [0x51] = 0x4e, [0x52] = 0x49, [0x53] = 0x4c, [0x5b] = 0xe3,
	[0x5c] = 0xe7, [0x5d] = 0x65, [0x5e] = 0x66,
};

uint8_t usb_hid_usage(uint16_t code)
{
	if ((code & 0xff80) == 0)
		return xt_to_hid[code];
	if ((code & 0xff80) == 0xe000)
		return xt_e0_to_hid[code & 0x7f];
	return 0;
}

static struct usb_hid *to_hid(struct usb_dev *d)
{
	return d->opaque;
}

static unsigned int report_len(struct usb_hid *h)
{
	return h->kind == USB_HID_KBD ? 8 : 6;
}

static void make_report(struct usb_hid *h, uint8_t *r, int wheel)
{
	unsigned int i;

	memset(r, 0, REPORT_MAX);
	if (h->kind == USB_HID_KBD) {
		r[0] = h->mods;
		for (i = 0; i < 6; i++)	/* too many keys: ErrorRollOver in every slot */
			r[2 + i] = h->overflow ? 0x01 : i < h->nkeys ? h->keys[i] : 0;
		return;
	}
	r[0] = h->buttons & 7;
	put16(r + 1, h->x);
	put16(r + 3, h->y);
	r[5] = (int8_t)wheel;
}

static int clamp_wheel(int w)
{
	return w > 127 ? 127 : w < -127 ? -127 : w;
}

/* Queue the current state (with @wheel steps); a full queue folds it into the last entry. */
static void push_report(struct usb_hid *h, int wheel)
{
	uint8_t *r;

	if (!h->dev.config)
		return;		/* not configured: the guest is not listening */
	if (h->count == QUEUE_LEN) {
		r = h->q[(h->head + QUEUE_LEN - 1) % QUEUE_LEN];
		if (h->kind == USB_HID_TABLET)
			wheel = clamp_wheel(wheel + (int8_t)r[5]);
	} else {
		r = h->q[(h->head + h->count++) % QUEUE_LEN];
	}
	make_report(h, r, wheel);
	usb_wakeup(&h->dev, 1);
}

void usb_hid_pointer(struct usb_dev *d, uint32_t x, uint32_t y, uint32_t buttons, int wheel)
{
	struct usb_hid *h = to_hid(d);

	if (h->kind != USB_HID_TABLET)
		return;
	pthread_mutex_lock(d->lock);
	h->x = x > CON_ABS_MAX ? CON_ABS_MAX : x;
	h->y = y > CON_ABS_MAX ? CON_ABS_MAX : y;
	h->buttons = buttons;
	push_report(h, clamp_wheel(wheel));
	pthread_mutex_unlock(d->lock);
}

static bool key_update(struct usb_hid *h, uint8_t usage, bool down)
{
	unsigned int i;

	if (usage >= 0xe0) {
		uint8_t bit = 1 << (usage - 0xe0), was = h->mods;

		h->mods = down ? h->mods | bit : h->mods & ~bit;
		return h->mods != was;
	}
	for (i = 0; i < h->nkeys; i++)
		if (h->keys[i] == usage)
			break;
	if (down) {
		if (i < h->nkeys)
			return false;	/* typematic repeat: the host repeats */
		if (h->nkeys == 6) {
			h->overflow++;
			return h->overflow == 1;
		}
		h->keys[h->nkeys++] = usage;
		return true;
	}
	if (i == h->nkeys) {
		if (!h->overflow)
			return false;
		h->overflow--;		/* one of the keys that did not fit */
		return !h->overflow;
	}
	memmove(h->keys + i, h->keys + i + 1, h->nkeys - i - 1);
	h->nkeys--;
	return true;
}

void usb_hid_key(struct usb_dev *d, uint16_t code, bool down)
{
	struct usb_hid *h = to_hid(d);
	uint8_t usage = usb_hid_usage(code);

	if (h->kind != USB_HID_KBD || !usage)
		return;
	pthread_mutex_lock(d->lock);
	if (key_update(h, usage, down))
		push_report(h, 0);
	pthread_mutex_unlock(d->lock);
}

uint8_t usb_hid_leds(struct usb_dev *d)
{
	struct usb_hid *h = to_hid(d);
	uint8_t l;

	pthread_mutex_lock(d->lock);
	l = h->leds;
	pthread_mutex_unlock(d->lock);
	/* HID: 0 num, 1 caps, 2 scroll; console: 0 scroll, 1 num, 2 caps */
	return (l & 1) << 1 | (l & 2) << 1 | (l & 4) >> 2;
}

bool usb_hid_ready(struct usb_dev *d)
{
	bool r;

	pthread_mutex_lock(d->lock);
	r = d->config != 0;
	pthread_mutex_unlock(d->lock);
	return r;
}

/* ---- descriptors ---------------------------------------------------------- */

static unsigned int device_desc(struct usb_hid *h, uint8_t *b)
{
	static const uint8_t d[18] = {
		18, USB_DT_DEVICE, 0x00, 0x02,	/* USB 2.0 */
		0, 0, 0, 64,			/* class in the interface; EP0 64 bytes */
		0x27, 0x06, 0x01, 0x00,		/* 0627:0001 */
		0x00, 0x01, 1, 2,		/* bcdDevice 1.00, strings */
		3, 1,				/* serial, one configuration */
	};

	memcpy(b, d, sizeof(d));
	if (h->kind == USB_HID_KBD)
		b[10] = 0x02;			/* 0627:0002 */
	return sizeof(d);
}

static const uint8_t *report_desc(struct usb_hid *h, unsigned int *len)
{
	if (h->kind == USB_HID_KBD) {
		*len = sizeof(kbd_report_desc);
		return kbd_report_desc;
	}
	*len = sizeof(tablet_report_desc);
	return tablet_report_desc;
}

static unsigned int hid_desc(struct usb_hid *h, uint8_t *b)
{
	unsigned int rlen;

	report_desc(h, &rlen);
	b[0] = 9;
	b[1] = USB_DT_HID;
	put16(b + 2, 0x0111);		/* HID 1.11 */
	b[4] = 0;			/* country */
	b[5] = 1;
	b[6] = USB_DT_REPORT;
	put16(b + 7, rlen);
	return 9;
}

static unsigned int config_desc(struct usb_hid *h, uint8_t *b)
{
	bool kbd = h->kind == USB_HID_KBD;
	uint8_t *p = b;

	/* Configuration 1: bus powered, remote wakeup, 100 mA */
	*p++ = 9; *p++ = USB_DT_CONFIG; p += 2; *p++ = 1; *p++ = 1; *p++ = 0; *p++ = 0xa0;
	*p++ = 50;
	/* Interface 0: HID, boot keyboard (3/1/1) or plain (3/0/0) */
	*p++ = 9; *p++ = USB_DT_INTERFACE; *p++ = 0; *p++ = 0; *p++ = 1; *p++ = 3;
	*p++ = kbd; *p++ = kbd; *p++ = 0;
	p += hid_desc(h, p);
	/* EP1 IN, interrupt, 8 bytes, every 2^(4-1) microframes (1 ms) */
	*p++ = 7; *p++ = USB_DT_ENDPOINT; *p++ = 0x81; *p++ = 3; *p++ = EP1_MPS; *p++ = 0;
	*p++ = 4;
	put16(b + 2, p - b);
	return p - b;
}

static unsigned int string_desc(struct usb_hid *h, unsigned int i, uint8_t *b)
{
	const char *const *tab = h->kind == USB_HID_KBD ? strings_kbd : strings_tablet;
	unsigned int n;

	if (i == 0) {
		b[0] = 4;
		b[1] = USB_DT_STRING;
		put16(b + 2, 0x0409);	/* English (US) */
		return 4;
	}
	if (i > 3)
		return 0;
	for (n = 0; tab[i][n]; n++)
		put16(b + 2 + 2 * n, (uint8_t)tab[i][n]);
	b[0] = 2 + 2 * n;
	b[1] = USB_DT_STRING;
	return b[0];
}

/* ---- requests --------------------------------------------------------------- */

static int get_descriptor(struct usb_hid *h, const struct usb_setup *s, uint8_t *b)
{
	unsigned int type = s->value >> 8, idx = s->value & 0xff, n;
	unsigned int recip = s->type & USB_RECIP_MASK;
	const uint8_t *rd;

	if (recip == USB_RECIP_INTERFACE) {
		if (s->index != 0)
			return USB_RET_STALL;
		if (type == USB_DT_HID)
			return hid_desc(h, b);
		if (type == USB_DT_REPORT) {
			rd = report_desc(h, &n);
			memcpy(b, rd, n);
			return n;
		}
		return USB_RET_STALL;
	}
	if (recip != USB_RECIP_DEVICE)
		return USB_RET_STALL;
	switch (type) {
	case USB_DT_DEVICE:
		return device_desc(h, b);
	case USB_DT_CONFIG:
		return idx == 0 ? (int)config_desc(h, b) : USB_RET_STALL;
	case USB_DT_STRING:
		n = string_desc(h, idx, b);
		return n ? (int)n : USB_RET_STALL;
	default:
		return USB_RET_STALL;
	}
}

static void queue_clear(struct usb_hid *h)
{
	h->head = h->count = 0;
}

static int standard_request(struct usb_hid *h, const struct usb_setup *s, uint8_t *b)
{
	unsigned int recip = s->type & USB_RECIP_MASK;
	bool in = s->type & USB_DIR_IN;

	switch (s->req) {
	case USB_REQ_GET_STATUS:
		if (!in)
			return USB_RET_STALL;
		b[0] = recip == USB_RECIP_DEVICE && h->remote_wakeup ? 2 : 0;
		b[1] = 0;
		return 2;
	case USB_REQ_CLEAR_FEATURE:
	case USB_REQ_SET_FEATURE:
		if (recip == USB_RECIP_DEVICE && s->value == 1)		/* remote wakeup */
			h->remote_wakeup = s->req == USB_REQ_SET_FEATURE;
		else if (!(recip == USB_RECIP_ENDPOINT && s->value == 0))	/* halt */
			return USB_RET_STALL;
		return 0;
	case USB_REQ_GET_DESCRIPTOR:
		return in ? get_descriptor(h, s, b) : USB_RET_STALL;
	case USB_REQ_GET_CONFIGURATION:
		b[0] = h->dev.config;
		return in ? 1 : USB_RET_STALL;
	case USB_REQ_SET_CONFIGURATION:
		if ((s->value & 0xff) > 1 || in)
			return USB_RET_STALL;
		h->dev.config = s->value & 0xff;
		queue_clear(h);
		return 0;
	case USB_REQ_GET_INTERFACE:
		b[0] = 0;
		return in && s->index == 0 ? 1 : USB_RET_STALL;
	case USB_REQ_SET_INTERFACE:
		return !in && s->index == 0 && s->value == 0 ? 0 : USB_RET_STALL;
	default:
		return USB_RET_STALL;
	}
}

static int class_request(struct usb_hid *h, const struct usb_setup *s, uint8_t *b,
			 unsigned int len)
{
	if ((s->type & USB_RECIP_MASK) != USB_RECIP_INTERFACE || (s->index & 0xff) != 0)
		return USB_RET_STALL;
	switch (s->req) {
	case HID_REQ_GET_REPORT:
		make_report(h, b, 0);
		return report_len(h);
	case HID_REQ_GET_IDLE:
		b[0] = h->idle;
		return 1;
	case HID_REQ_GET_PROTOCOL:
		b[0] = h->protocol;
		return 1;
	case HID_REQ_SET_REPORT:
		/* Output report: the keyboard's LEDs */
		if (h->kind != USB_HID_KBD || (s->value >> 8) != 2)
			return USB_RET_STALL;
		if (len >= 1)
			h->leds = b[0] & 0x1f;
		return 0;
	case HID_REQ_SET_IDLE:
		h->idle = s->value >> 8;
		return 0;
	case HID_REQ_SET_PROTOCOL:
		if (s->value > 1)
			return USB_RET_STALL;
		h->protocol = s->value;
		return 0;
	default:
		return USB_RET_STALL;
	}
}

static int hid_control(struct usb_dev *d, const struct usb_setup *s, uint8_t *data,
		       unsigned int len)
{
	struct usb_hid *h = to_hid(d);
	uint8_t b[256];
	int r;

	memset(b, 0, sizeof(b));
	if (!(s->type & USB_DIR_IN))
		memcpy(b, data, len < sizeof(b) ? len : sizeof(b));
	switch (s->type & USB_TYPE_MASK) {
	case USB_TYPE_STANDARD:
		r = standard_request(h, s, b);
		break;
	case USB_TYPE_CLASS:
		r = class_request(h, s, b, len);
		break;
	default:
		r = USB_RET_STALL;
	}
	if (r < 0 || !(s->type & USB_DIR_IN))
		return r < 0 ? r : 0;
	if ((unsigned int)r > len)
		r = len;
	memcpy(data, b, r);
	return r;
}

static int hid_data(struct usb_dev *d, unsigned int ep, bool in, uint8_t *buf, unsigned int len)
{
	struct usb_hid *h = to_hid(d);
	unsigned int n = report_len(h);

	if (ep != 1 || !in || !d->config)
		return USB_RET_STALL;
	if (!h->count)
		return USB_RET_NAK;
	if (n > len)
		n = len;
	memcpy(buf, h->q[h->head], n);
	h->head = (h->head + 1) % QUEUE_LEN;
	h->count--;
	return n;
}

static void hid_reset(struct usb_dev *d)
{
	struct usb_hid *h = to_hid(d);

	h->protocol = 1;
	h->idle = h->kind == USB_HID_KBD ? 125 : 0;	/* 500 ms for keyboards (HID 7.2.4) */
	h->leds = 0;
	h->remote_wakeup = false;
	queue_clear(h);
}

static const struct usb_dev_ops hid_ops = {
	.control = hid_control,
	.data = hid_data,
	.reset = hid_reset,
};

struct usb_dev *usb_hid_new(enum usb_hid_kind kind)
{
	struct usb_hid *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->kind = kind;
	usb_dev_init(&h->dev, &hid_ops, kind == USB_HID_KBD ? "usb-kbd" : "usb-tablet",
		     USB_SPEED_HIGH, h);
	hid_reset(&h->dev);
	return &h->dev;
}

void usb_hid_free(struct usb_dev *d)
{
	if (d) {
		pthread_mutex_destroy(&d->own_lock);
		free(d->opaque);
	}
}

/* ---- console sinks -------------------------------------------------------------- */

static void sink_key(void *opaque, uint16_t code, bool down)
{
	usb_hid_key(opaque, code, down);
}

static void sink_abs(void *opaque, uint32_t x, uint32_t y, uint32_t buttons, int wheel)
{
	usb_hid_pointer(opaque, x, y, buttons, wheel);
}

static bool sink_ready(void *opaque)
{
	return usb_hid_ready(opaque);
}

static uint8_t sink_leds(void *opaque)
{
	return usb_hid_leds(opaque);
}

static const struct console_sink_ops kbd_sink = {
	.key = sink_key,
	.ready = sink_ready,
	.leds = sink_leds,
};

static const struct console_sink_ops tablet_sink = {
	.abs = sink_abs,
	.ready = sink_ready,
};

const struct console_sink_ops *usb_hid_sink(struct usb_dev *d, enum con_sink_kind *kind)
{
	struct usb_hid *h = to_hid(d);

	*kind = h->kind == USB_HID_KBD ? CON_SINK_KBD : CON_SINK_POINTER;
	return h->kind == USB_HID_KBD ? &kbd_sink : &tablet_sink;
}
