// SPDX-License-Identifier: GPL-2.0
/*
 * The xHCI controller and the USB HID devices as --device descriptors
 * (runner/device.h) on the platform calls of platform.h:
 *
 *   --device xhci          the controller (one per VM)
 *   --device usb-tablet    an absolute pointer on the controller's next USB 2 port
 *   --device usb-kbd       a boot keyboard, likewise
 *
 * A USB device without "--device xhci" brings the controller along.  The
 * HID devices register with the console at CON_PRIO_USB and take input
 * once the guest has configured them.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../runner/kvm.h"
#include "console.h"
#include "platform.h"
#include "usb_hid.h"
#include "xhci.h"

struct xhci_host {
	struct xhci x;
	struct vmem mem;
	struct platform_msi msi;
};

static struct xhci_host *host;

static void plat_msi(void *opaque, uint64_t addr, uint32_t data)
{
	struct xhci_host *h = opaque;

	platform_msi(&h->msi, addr, data);
}

static void plat_intx(void *opaque, int level)
{
	struct xhci_host *h = opaque;

	platform_pci_intx(&h->x.pci, level);
}

static struct xhci_platform plat = {
	.msi = plat_msi,
	.intx = plat_intx,
};

/* The controller, created on first use; NULL (reported) if it cannot be. */
static struct xhci_host *get_host(const struct device_args *a)
{
	struct xhci_host *h;

	if (host)
		return host;
	h = calloc(1, sizeof(*h));
	if (!h) {
		warn("%s: out of memory", a->opt);
		return NULL;
	}
	h->mem = platform_vmem();
	platform_msi_init(&h->msi);
	plat.opaque = h;
	if (xhci_init(&h->x, &h->mem, &plat) < 0) {
		warn("%s: cannot create the xHCI PCI function", a->opt);
		free(h);
		return NULL;
	}
	if (platform_pci_add(&h->x.pci) < 0) {
		warn("%s: no room for another PCI device", a->opt);
		free(h);
		return NULL;
	}
	host = h;
	return h;
}

static const char *const no_keys[] = { NULL };

static void xhci_configure(struct kvm_config *cfg, struct device_args *a)
{
	(void)cfg;
	if (a->index > 0)
		device_usage(a, "one xHCI controller per VM");
}

static int xhci_create(struct kvm *kvm, struct device_args *a)
{
	(void)kvm;
	return get_host(a) ? 0 : -1;
}

static struct device_desc xhci_desc = {
	.name = "xhci",
	.help = "an xHCI USB controller (qemu-xhci 1b36:000d), 4 USB 2 and 4 USB 3 ports",
	.keys = no_keys,
	.configure = xhci_configure,
	.create = xhci_create,
};

device_desc(xhci_desc);

static int hid_create(struct device_args *a, enum usb_hid_kind kind)
{
	struct xhci_host *h = get_host(a);
	const struct console_sink_ops *ops;
	enum con_sink_kind sink;
	struct usb_dev *d;

	if (!h)
		return -1;
	d = usb_hid_new(kind);
	if (!d) {
		warn("%s: out of memory", a->opt);
		return -1;
	}
	if (xhci_attach(&h->x, d) < 0) {
		warn("%s: no free USB 2 port on the xHCI controller", a->opt);
		usb_hid_free(d);
		return -1;
	}
	ops = usb_hid_sink(d, &sink);
	if (console_add_sink(sink, CON_PRIO_USB, ops, d, d->name) < 0) {
		warn("%s: too many input devices", a->opt);
		return -1;
	}
	return 0;
}

static int tablet_create(struct kvm *kvm, struct device_args *a)
{
	(void)kvm;
	return hid_create(a, USB_HID_TABLET);
}

static int kbd_create(struct kvm *kvm, struct device_args *a)
{
	(void)kvm;
	return hid_create(a, USB_HID_KBD);
}

static struct device_desc tablet_desc = {
	.name = "usb-tablet",
	.help = "a USB HID tablet (absolute pointer, 3 buttons, wheel) on the xHCI controller",
	.keys = no_keys,
	.create = tablet_create,
};

device_desc(tablet_desc);

static struct device_desc kbd_desc = {
	.name = "usb-kbd",
	.help = "a USB HID boot keyboard on the xHCI controller",
	.keys = no_keys,
	.create = kbd_create,
};

device_desc(kbd_desc);
