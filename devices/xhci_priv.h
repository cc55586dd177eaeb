/* SPDX-License-Identifier: GPL-2.0 */
/* Inside the xHCI model: what devices/xhci.c and devices/xhci_ring.c share. */
#ifndef KVL_DEVICES_XHCI_PRIV_H
#define KVL_DEVICES_XHCI_PRIV_H

#include "le.h"
#include "xhci.h"

#define CTX_SIZE		32
#define DEV_CTX_SIZE		(32 * CTX_SIZE)
#define IN_CTX_SIZE		(33 * CTX_SIZE)

static inline void *xhci_gpa(struct xhci *x, uint64_t a, uint64_t len)
{
	if (!x->mem || a + len < a)
		return NULL;
	return x->mem->ptr(x->mem->opaque, a, len);
}

static inline uint64_t xhci_get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static inline bool xhci_running(struct xhci *x)
{
	return !(x->usbsts & XHCI_STS_HCH);
}

/* Copy between guest memory and @buf a page at a time (RAM may be split); 0 or -1. */
int xhci_dma(struct xhci *x, uint64_t a, uint8_t *buf, uint32_t len, bool to_guest);
/* Host System Error: the controller halts. */
void xhci_host_error(struct xhci *x);
/* Post an event on interrupter 0; @irq: assert the interrupter unless its handler is busy. */
void xhci_post_event(struct xhci *x, uint64_t param, uint32_t status, uint32_t control,
		     bool irq);

/* In xhci_ring.c */
void xhci_cmd_doorbell(struct xhci *x);
void xhci_ep_doorbell(struct xhci *x, unsigned int id, uint32_t v);
/* usb_dev.wakeup: retry the IN TDs pending on endpoint @ep of @d. */
void xhci_wakeup(void *host, struct usb_dev *d, unsigned int ep);

#endif
