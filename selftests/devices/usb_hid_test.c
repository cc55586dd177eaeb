// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of devices/usb_hid.c on its own, through the usb_dev
 * interface a host controller uses: the descriptors agree with each other
 * (lengths, the report layout the report descriptor declares against the
 * reports sent), standard and HID requests, and report queueing.
 */
#include <string.h>
#include "kselftest_harness.h"
#include "../../devices/le.h"
#include "../../devices/usb_hid.h"

static int req(struct usb_dev *d, uint8_t type, uint8_t r, uint16_t value, uint16_t index,
	       uint8_t *buf, uint16_t len)
{
	struct usb_setup s = { type, r, value, index, len };

	return d->ops->control(d, &s, buf, len);
}

/* Total bits of Input (or Output) main items in a report descriptor, by a short-item walk. */
static int report_bits(const uint8_t *p, int n, uint8_t main_tag)
{
	unsigned int size = 0, count = 0, bits = 0;
	int i = 0;

	while (i < n) {
		uint8_t b = p[i];
		int len = (b & 3) == 3 ? 4 : b & 3;
		uint32_t v = 0;
		int k;

		if (i + 1 + len > n)
			return -1;
		for (k = 0; k < len; k++)
			v |= (uint32_t)p[i + 1 + k] << (8 * k);
		switch (b & 0xfc) {
		case 0x74:	/* Report Size */
			size = v;
			break;
		case 0x94:	/* Report Count */
			count = v;
			break;
		default:
			if ((b & 0xfc) == main_tag)
				bits += size * count;
		}
		i += 1 + len;
	}
	return bits;
}

static void configure(struct usb_dev *d)
{
	uint8_t b[8];

	d->config = 0;
	req(d, 0, USB_REQ_SET_CONFIGURATION, 1, 0, b, 0);
}

TEST(descriptors_agree)
{
	enum usb_hid_kind kinds[2] = { USB_HID_TABLET, USB_HID_KBD };
	unsigned int k;

	for (k = 0; k < 2; k++) {
		struct usb_dev *d = usb_hid_new(kinds[k]);
		uint8_t cfg[256], rd[256], dev[64];
		int n, rlen, total;

		ASSERT_NE(d, NULL);
		EXPECT_EQ(req(d, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, dev, 64), 18);
		EXPECT_EQ(dev[0], 18);
		EXPECT_EQ(dev[17], 1);
		/* Asked for 9, the configuration header says how much there is. */
		EXPECT_EQ(req(d, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_CONFIG << 8, 0, cfg, 9), 9);
		total = cfg[2] | cfg[3] << 8;
		EXPECT_EQ(req(d, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_CONFIG << 8, 0, cfg, 255),
			  total);
		/* Walk it: the descriptor lengths add up to the total; one interface, one EP. */
		{
			int off = 0, ifs = 0, eps = 0;

			while (off < total && cfg[off] >= 2) {
				ifs += cfg[off + 1] == USB_DT_INTERFACE;
				eps += cfg[off + 1] == USB_DT_ENDPOINT;
				off += cfg[off];
			}
			EXPECT_EQ(off, total);
			EXPECT_EQ(ifs, 1);
			EXPECT_EQ(eps, 1);
		}
		EXPECT_EQ(cfg[9 + 5], 3);			/* HID */
		EXPECT_EQ(cfg[9 + 6], k == 1 ? 1 : 0);		/* boot subclass for the keyboard */
		rlen = cfg[18 + 7] | cfg[18 + 8] << 8;
		/* The HID descriptor alone, and the report descriptor it announces. */
		EXPECT_EQ(req(d, 0x81, USB_REQ_GET_DESCRIPTOR, USB_DT_HID << 8, 0, rd, 9), 9);
		EXPECT_EQ(memcmp(rd, cfg + 18, 9), 0);
		n = req(d, 0x81, USB_REQ_GET_DESCRIPTOR, USB_DT_REPORT << 8, 0, rd, 255);
		EXPECT_EQ(n, rlen);
		/* The reports sent are as long as the descriptor's Input items (0x80). */
		configure(d);
		if (k == 0)
			usb_hid_pointer(d, 1, 2, 0, 0);
		else
			usb_hid_key(d, 0x1e, true);
		{
			uint8_t r[64];
			int got = d->ops->data(d, 1, true, r, sizeof(r));

			EXPECT_EQ(report_bits(rd, n, 0x80), 8 * got);
		}
		if (k == 1)
			EXPECT_EQ(report_bits(rd, n, 0x90), 8);	/* one LED byte */
		/* Endpoint max packet size holds a report. */
		EXPECT_GE(cfg[27 + 4], report_bits(rd, n, 0x80) / 8);
		usb_hid_free(d);
	}
}

TEST(requests_and_stalls)
{
	struct usb_dev *d = usb_hid_new(USB_HID_KBD);
	uint8_t b[64];

	ASSERT_NE(d, NULL);
	EXPECT_FALSE(usb_hid_ready(d));
	EXPECT_EQ(req(d, 0x80, USB_REQ_GET_CONFIGURATION, 0, 0, b, 1), 1);
	EXPECT_EQ(b[0], 0);
	EXPECT_EQ(req(d, 0, USB_REQ_SET_CONFIGURATION, 2, 0, b, 0), USB_RET_STALL);
	EXPECT_EQ(req(d, 0, USB_REQ_SET_CONFIGURATION, 1, 0, b, 0), 0);
	EXPECT_TRUE(usb_hid_ready(d));
	EXPECT_EQ(req(d, 0x80, USB_REQ_GET_CONFIGURATION, 0, 0, b, 1), 1);
	EXPECT_EQ(b[0], 1);
	/* Remote wakeup in GET_STATUS follows SET/CLEAR_FEATURE. */
	EXPECT_EQ(req(d, 0, USB_REQ_SET_FEATURE, 1, 0, b, 0), 0);
	EXPECT_EQ(req(d, 0x80, USB_REQ_GET_STATUS, 0, 0, b, 2), 2);
	EXPECT_EQ(b[0], 2);
	EXPECT_EQ(req(d, 0, USB_REQ_CLEAR_FEATURE, 1, 0, b, 0), 0);
	EXPECT_EQ(req(d, 0x80, USB_REQ_GET_STATUS, 0, 0, b, 2), 2);
	EXPECT_EQ(b[0], 0);
	/* Unknown descriptors, strings past the last, other interfaces, vendor requests. */
	EXPECT_EQ(req(d, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0f00, 0, b, 5), USB_RET_STALL);
	EXPECT_EQ(req(d, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0304, 0, b, 64), USB_RET_STALL);
	EXPECT_EQ(req(d, 0x81, USB_REQ_GET_DESCRIPTOR, USB_DT_REPORT << 8, 1, b, 64),
		  USB_RET_STALL);
	EXPECT_EQ(req(d, 0xc0, 1, 0, 0, b, 1), USB_RET_STALL);
	EXPECT_EQ(req(d, 0xa1, 0x01, 0x0100, 1, b, 8), USB_RET_STALL);
	/* Short reads are cut, never overrun. */
	memset(b, 0xee, sizeof(b));
	EXPECT_EQ(req(d, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, b, 8), 8);
	EXPECT_EQ(b[8], 0xee);
	/* SET_PROTOCOL / GET_PROTOCOL, SET_IDLE / GET_IDLE */
	EXPECT_EQ(req(d, 0x21, 0x0b, 0, 0, b, 0), 0);
	EXPECT_EQ(req(d, 0xa1, 0x03, 0, 0, b, 1), 1);
	EXPECT_EQ(b[0], 0);
	EXPECT_EQ(req(d, 0x21, 0x0b, 2, 0, b, 0), USB_RET_STALL);
	EXPECT_EQ(req(d, 0x21, 0x0a, 0x2500, 0, b, 0), 0);
	EXPECT_EQ(req(d, 0xa1, 0x02, 0, 0, b, 1), 1);
	EXPECT_EQ(b[0], 0x25);
	/* Input reports only through EP1 IN. */
	EXPECT_EQ(d->ops->data(d, 1, true, b, 8), USB_RET_NAK);
	EXPECT_EQ(d->ops->data(d, 2, true, b, 8), USB_RET_STALL);
	EXPECT_EQ(d->ops->data(d, 1, false, b, 8), USB_RET_STALL);
	/* The tablet has no output report. */
	{
		struct usb_dev *t = usb_hid_new(USB_HID_TABLET);

		ASSERT_NE(t, NULL);
		EXPECT_EQ(req(t, 0x21, 0x09, 0x0200, 0, b, 1), USB_RET_STALL);
		usb_hid_free(t);
	}
	/* A bus reset forgets the configuration and the LEDs. */
	b[0] = 0x07;
	EXPECT_EQ(req(d, 0x21, 0x09, 0x0200, 0, b, 1), 0);
	EXPECT_EQ(usb_hid_leds(d), 0x07);
	d->ops->reset(d);
	d->config = 0;
	EXPECT_EQ(usb_hid_leds(d), 0);
	usb_hid_free(d);
}

TEST(queue_folds_when_full)
{
	struct usb_dev *t = usb_hid_new(USB_HID_TABLET);
	struct usb_dev *k = usb_hid_new(USB_HID_KBD);
	uint8_t r[8];
	int i, n;

	ASSERT_NE(t, NULL);
	ASSERT_NE(k, NULL);
	/* Not configured: input is not queued. */
	usb_hid_pointer(t, 5, 5, 0, 0);
	EXPECT_EQ(t->ops->data(t, 1, true, r, 8), USB_RET_STALL);
	configure(t);
	EXPECT_EQ(t->ops->data(t, 1, true, r, 8), USB_RET_NAK);
	/*
	 * 40 moves with one wheel step each: 16 reports, the last holds the final
	 * position and every wheel step that did not fit before it.
	 */
	for (i = 0; i < 40; i++)
		usb_hid_pointer(t, 100 + i, 200, CON_BTN_LEFT, 1);
	for (n = 0; t->ops->data(t, 1, true, r, 8) == 6; n++) {
		if (n < 15) {
			EXPECT_EQ(r[1] | r[2] << 8, 100 + n);
			EXPECT_EQ(r[5], 1);
		}
	}
	EXPECT_EQ(n, 16);
	EXPECT_EQ(r[1] | r[2] << 8, 139);
	EXPECT_EQ(r[5], 40 - 15);
	EXPECT_EQ(r[0], CON_BTN_LEFT);
	/* Out-of-range coordinates are clamped. */
	usb_hid_pointer(t, 0x10000, 0x8000, 0, -300);
	EXPECT_EQ(t->ops->data(t, 1, true, r, 8), 6);
	EXPECT_EQ(r[1] | r[2] << 8, CON_ABS_MAX);
	EXPECT_EQ(r[3] | r[4] << 8, CON_ABS_MAX);
	EXPECT_EQ((int8_t)r[5], -127);
	/* Keyboard: a full queue still ends in the right state (all keys up). */
	configure(k);
	for (i = 0; i < 20; i++) {
		usb_hid_key(k, 0x10 + (i % 4), true);
		usb_hid_key(k, 0x10 + (i % 4), false);
	}
	for (n = 0; k->ops->data(k, 1, true, r, 8) == 8; n++)
		;
	EXPECT_EQ(n, 16);
	for (i = 0; i < 8; i++)
		EXPECT_EQ(r[i], 0);
	/* A 4-byte buffer gets the first 4 bytes of a report. */
	usb_hid_key(k, 0x1d, true);	/* left Ctrl */
	usb_hid_key(k, 0x1e, true);
	EXPECT_EQ(k->ops->data(k, 1, true, r, 4), 4);
	EXPECT_EQ(r[0], 0x01);
	usb_hid_free(t);
	usb_hid_free(k);
}

TEST_HARNESS_MAIN
