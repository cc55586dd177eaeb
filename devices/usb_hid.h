/* SPDX-License-Identifier: GPL-2.0 */
/*
 * USB HID tablet and boot keyboard (devices/usb_hid.c), for any host
 * controller through devices/usb.h.  Input comes from the console: the
 * VM glue registers usb_hid_sink()'s ops with console_add_sink(kind,
 * CON_PRIO_USB, ops, dev, dev->name); they are the usb_hid_* calls below,
 * which take *dev->lock themselves.
 */
#ifndef KVL_DEVICES_USB_HID_H
#define KVL_DEVICES_USB_HID_H

#include <stdbool.h>
#include <stdint.h>

#include "console.h"
#include "usb.h"

enum usb_hid_kind { USB_HID_TABLET, USB_HID_KBD };

struct usb_dev *usb_hid_new(enum usb_hid_kind kind);	/* NULL if out of memory */
void usb_hid_free(struct usb_dev *d);			/* after it left its controller */

/* Absolute pointer: x, y in 0..CON_ABS_MAX, CON_BTN_* buttons, wheel steps (+ up). */
void usb_hid_pointer(struct usb_dev *d, uint32_t x, uint32_t y, uint32_t buttons, int wheel);
/* Keyboard: an XT set 1 scancode (0xe000 | code for E0 keys) went down or up. */
void usb_hid_key(struct usb_dev *d, uint16_t code, bool down);
/* The guest's LEDs in the console's bits (0 scroll, 1 num, 2 caps). */
uint8_t usb_hid_leds(struct usb_dev *d);
/* Whether the guest configured the device (it takes reports). */
bool usb_hid_ready(struct usb_dev *d);
/* The HID usage for a scancode; 0 if it has none. */
uint8_t usb_hid_usage(uint16_t code);

/* The console sink for @d (opaque: @d) and its kind. */
const struct console_sink_ops *usb_hid_sink(struct usb_dev *d, enum con_sink_kind *kind);

#endif
