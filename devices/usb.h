/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Between a USB host controller (devices/xhci.c) and the USB devices on
 * its root ports (devices/usb_hid.c).  A device sees transfers, not TRBs:
 * the controller walks the rings, gathers the buffers and hands the device
 * one control request or one endpoint packet at a time; the device answers
 * with a length, a NAK (nothing to send yet: the controller keeps the
 * transfer pending) or a STALL.
 *
 * Locking: the controller sets dev->lock to its own lock when the device
 * is attached; every ops call is made with it held.  A device whose state
 * changes from elsewhere (a console callback) takes *dev->lock and calls
 * usb_wakeup() so the controller retries pending IN transfers.
 */
#ifndef KVL_DEVICES_USB_H
#define KVL_DEVICES_USB_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Speeds as xHCI's default Protocol Speed IDs number them. */
enum usb_speed { USB_SPEED_FULL = 1, USB_SPEED_LOW = 2, USB_SPEED_HIGH = 3, USB_SPEED_SUPER = 4 };

#define USB_RET_STALL	(-1)
#define USB_RET_NAK	(-2)

/* bmRequestType */
#define USB_DIR_IN		0x80
#define USB_TYPE_MASK		0x60
#define USB_TYPE_STANDARD	0x00
#define USB_TYPE_CLASS		0x20
#define USB_RECIP_MASK		0x1f
#define USB_RECIP_DEVICE	0x00
#define USB_RECIP_INTERFACE	0x01
#define USB_RECIP_ENDPOINT	0x02

/* Standard requests (USB 2.0, 9.4) */
#define USB_REQ_GET_STATUS		0x00
#define USB_REQ_CLEAR_FEATURE		0x01
#define USB_REQ_SET_FEATURE		0x03
#define USB_REQ_SET_ADDRESS		0x05
#define USB_REQ_GET_DESCRIPTOR		0x06
#define USB_REQ_SET_DESCRIPTOR		0x07
#define USB_REQ_GET_CONFIGURATION	0x08
#define USB_REQ_SET_CONFIGURATION	0x09
#define USB_REQ_GET_INTERFACE		0x0a
#define USB_REQ_SET_INTERFACE		0x0b

#define USB_DT_DEVICE		0x01
#define USB_DT_CONFIG		0x02
#define USB_DT_STRING		0x03
#define USB_DT_INTERFACE	0x04
#define USB_DT_ENDPOINT		0x05
#define USB_DT_HID		0x21
#define USB_DT_REPORT		0x22

struct usb_setup {
	uint8_t type;		/* bmRequestType */
	uint8_t req;		/* bRequest */
	uint16_t value, index, length;
};

struct usb_dev;

struct usb_dev_ops {
	/*
	 * A control request on endpoint 0.  IN (type & USB_DIR_IN): fill at
	 * most @len bytes of @data and return how many; OUT: @data holds the
	 * @len bytes of the data stage.  USB_RET_STALL refuses the request.
	 * SET_ADDRESS is the controller's business and never arrives here.
	 */
	int (*control)(struct usb_dev *d, const struct usb_setup *s, uint8_t *data,
		       unsigned int len);
	/*
	 * A packet on endpoint @ep (1..15).  IN: fill at most @len bytes and
	 * return how many, or USB_RET_NAK when there is nothing to send yet;
	 * OUT: take @len bytes and return @len.  Or USB_RET_STALL.
	 */
	int (*data)(struct usb_dev *d, unsigned int ep, bool in, uint8_t *buf, unsigned int len);
	/* A bus reset (port reset, or the slot reset by the host). */
	void (*reset)(struct usb_dev *d);
};

struct usb_dev {
	const struct usb_dev_ops *ops;
	const char *name;
	enum usb_speed speed;
	uint8_t addr;			/* as the host assigned it; 0: default */
	uint8_t config;			/* bConfigurationValue; 0: not configured */
	pthread_mutex_t *lock;		/* the controller's, once attached */
	pthread_mutex_t own_lock;	/* until then */
	/* Set by the controller: retry IN transfers pending on @ep.  Called with *lock held. */
	void (*wakeup)(void *host, struct usb_dev *d, unsigned int ep);
	void *host;
	void *opaque;			/* the device model's */
};

static inline void usb_dev_init(struct usb_dev *d, const struct usb_dev_ops *ops,
				const char *name, enum usb_speed speed, void *opaque)
{
	d->ops = ops;
	d->name = name;
	d->speed = speed;
	d->addr = 0;
	d->config = 0;
	pthread_mutex_init(&d->own_lock, NULL);
	d->lock = &d->own_lock;
	d->wakeup = NULL;
	d->host = NULL;
	d->opaque = opaque;
}

/* With *d->lock held: new IN data on @ep. */
static inline void usb_wakeup(struct usb_dev *d, unsigned int ep)
{
	if (d->wakeup)
		d->wakeup(d->host, d, ep);
}

#endif
