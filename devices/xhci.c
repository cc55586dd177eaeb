// SPDX-License-Identifier: GPL-2.0
/* The xHCI host controller: see xhci.h.  Section numbers are the xHCI spec's (rev 1.1). */
#include <string.h>
#include <time.h>

#include "xhci_priv.h"

#define PCI_CAP_ID_MSI		0x05
#define MSI_CTRL_ENABLE		0x0001
#define MSI_CTRL_64BIT		0x0080
#define MSIX_ENABLE		0x8000
#define MSIX_MASKALL		0x4000
#define PCI_SBRN		0x60	/* serial bus release number */
#define PCI_FLADJ		0x61

/* ---- guest memory -------------------------------------------------------- */

int xhci_dma(struct xhci *x, uint64_t a, uint8_t *buf, uint32_t len, bool to_guest)
{
	while (len) {
		uint32_t n = 4096 - (a & 4095);
		uint8_t *p;

		if (n > len)
			n = len;
		p = xhci_gpa(x, a, n);
		if (!p)
			return -1;
		if (to_guest)
			memcpy(p, buf, n);
		else
			memcpy(buf, p, n);
		a += n;
		buf += n;
		len -= n;
	}
	return 0;
}

/* ---- interrupts ---------------------------------------------------------- */

static uint16_t cfg16(struct xhci *x, unsigned int off)
{
	return x->pci.cfg[off] | x->pci.cfg[off + 1] << 8;
}

static bool msix_on(struct xhci *x)
{
	return cfg16(x, x->msix_cap + 2) & MSIX_ENABLE;
}

static bool msi_on(struct xhci *x)
{
	return cfg16(x, x->msi_cap + 2) & MSI_CTRL_ENABLE;
}

static bool msix_masked(struct xhci *x)
{
	return (cfg16(x, x->msix_cap + 2) & MSIX_MASKALL) || (x->msix_table[12] & 1);
}

static void send_msi(struct xhci *x, uint64_t addr, uint32_t data)
{
	if (x->plat && x->plat->msi)
		x->plat->msi(x->plat->opaque, addr, data);
}

/* A message clears IP once sent (4.17.5): xhci_hcd does not clear it with MSI(-X) on. */
static void msix_send(struct xhci *x)
{
	x->iman &= ~XHCI_IMAN_IP;
	send_msi(x, xhci_get64(x->msix_table), get32(x->msix_table + 8));
}

static bool irq_wanted(struct xhci *x)
{
	return (x->iman & XHCI_IMAN_IP) && (x->iman & XHCI_IMAN_IE) &&
	       (x->usbcmd & XHCI_CMD_INTE);
}

/*
 * Bring the interrupt outputs in line with IMAN and USBCMD.  @edge: the
 * interrupter just asserted (IP or IE or INTE went up), which is what
 * sends a message; INTx follows the level.
 */
static void irq_update(struct xhci *x, bool edge)
{
	uint16_t cmd = cfg16(x, PCI_COMMAND);
	bool want = irq_wanted(x);
	int level = 0;

	if (msix_on(x)) {
		if (edge && want) {
			if (msix_masked(x))
				x->msix_pending = true;
			else
				msix_send(x);
		}
	} else if (msi_on(x)) {
		uint8_t *c = x->pci.cfg + x->msi_cap;

		if (edge && want) {
			x->iman &= ~XHCI_IMAN_IP;
			send_msi(x, xhci_get64(c + 4), c[12] | c[13] << 8);
		}
	} else {
		level = want;
	}
	pci_set_intx_status(&x->pci, level);
	if (cmd & PCI_COMMAND_INTX_DISABLE)
		level = 0;
	if (level != x->intx_level) {
		x->intx_level = level;
		if (x->plat && x->plat->intx)
			x->plat->intx(x->plat->opaque, level);
	}
}

static void msix_flush(struct xhci *x)
{
	if (x->msix_pending && msix_on(x) && !msix_masked(x)) {
		x->msix_pending = false;
		if (irq_wanted(x))
			msix_send(x);
	}
}

/* Interrupter 0 has events for the guest (4.17.2): IP, unless the handler is busy. */
static void intr_assert(struct xhci *x)
{
	if (x->erdp & XHCI_ERDP_EHB)
		return;
	x->erdp |= XHCI_ERDP_EHB;
	x->iman |= XHCI_IMAN_IP;
	x->usbsts |= XHCI_STS_EINT;
	irq_update(x, true);
}

/* ---- host system error ---------------------------------------------------- */

void xhci_host_error(struct xhci *x)
{
	x->usbsts |= XHCI_STS_HSE | XHCI_STS_HCH;
	x->usbcmd &= ~XHCI_CMD_RS;
	x->crr = false;
}

/* ---- event ring (4.9.4) ---------------------------------------------------- */

/* Load ERST entry x->ev_seg; 0, or -1 on a bad table. */
static int ev_load(struct xhci *x)
{
	uint8_t *e;

	if (x->ev_loaded)
		return 0;
	if (!x->erstsz || x->erstsz > XHCI_ERST_MAX || x->ev_seg >= x->erstsz)
		return -1;
	e = xhci_gpa(x, (x->erstba & ~63ULL) + 16 * x->ev_seg, 16);
	if (!e)
		return -1;
	x->ev_base = xhci_get64(e) & ~63ULL;
	x->ev_size = get32(e + 8) & 0xffff;
	if (x->ev_size < 16 || x->ev_size > 4096 || !xhci_gpa(x, x->ev_base, 16ULL * x->ev_size))
		return -1;
	x->ev_loaded = true;
	return 0;
}

static void ev_write(struct xhci *x, uint64_t param, uint32_t status, uint32_t control)
{
	uint8_t *p = xhci_gpa(x, x->ev_base + 16ULL * x->ev_idx, 16);

	if (!p) {
		xhci_host_error(x);
		return;
	}
	put64(p, param);
	put32(p + 8, status);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	put32(p + 12, (control & ~TRB_C) | x->ev_pcs);
}

/*
 * Post one event on interrupter 0.  When only the slot before the
 * dequeue pointer is left, it takes an Event Ring Full error and events
 * are dropped until the guest moves ERDP (4.9.4.1).
 */
void xhci_post_event(struct xhci *x, uint64_t param, uint32_t status, uint32_t control,
		     bool irq)
{
	uint32_t seg, idx;
	uint64_t next;

	if (!xhci_running(x) || x->ev_full)
		return;
	if (ev_load(x) < 0) {
		xhci_host_error(x);
		return;
	}
	/* Where the enqueue pointer goes after this one. */
	seg = x->ev_seg;
	idx = x->ev_idx + 1;
	next = x->ev_base + 16ULL * idx;
	if (idx == x->ev_size) {
		uint8_t *e;

		seg = seg + 1 == x->erstsz ? 0 : seg + 1;
		e = xhci_gpa(x, (x->erstba & ~63ULL) + 16 * seg, 16);
		if (!e) {
			xhci_host_error(x);
			return;
		}
		next = xhci_get64(e) & ~63ULL;
		idx = 0;
	}
	if (next == (x->erdp & ~15ULL)) {
		ev_write(x, 0, (uint32_t)CC_EVENT_RING_FULL << 24, TRB_TYPE(TRB_HC_EVENT));
		x->ev_full = true;
	} else {
		ev_write(x, param, status, control);
	}
	if (!xhci_running(x))
		return;
	if (idx == 0) {
		if (seg == 0)
			x->ev_pcs = !x->ev_pcs;
		x->ev_loaded = false;
	}
	x->ev_seg = seg;
	x->ev_idx = idx;
	x->ev_enq = next;
	if (irq)
		intr_assert(x);
}

/* ---- root ports (4.19) ------------------------------------------------------ */

static bool port_usb3(unsigned int i)
{
	return i >= XHCI_PORTS_USB2;
}

static void port_event(struct xhci *x, unsigned int i)
{
	x->usbsts |= XHCI_STS_PCD;
	xhci_post_event(x, (uint64_t)(i + 1) << 24, (uint32_t)CC_SUCCESS << 24,
			TRB_TYPE(TRB_PORT_STATUS), true);
}

/* Set change bits @bits on port @i: PCD and a Port Status Change event if one is new. */
static void port_change(struct xhci *x, unsigned int i, uint32_t bits)
{
	struct xhci_port *p = &x->port[i];
	uint32_t fresh = bits & ~p->portsc;

	p->portsc |= bits;
	if (fresh)
		port_event(x, i);
}

static void port_set_pls(struct xhci_port *p, unsigned int pls)
{
	p->portsc = (p->portsc & ~XHCI_PORTSC_PLS_MASK) | pls << XHCI_PORTSC_PLS_SHIFT;
}

/* The port's state after a controller reset: connected ones show a fresh connection. */
static void port_reset_state(struct xhci *x, unsigned int i)
{
	struct xhci_port *p = &x->port[i];

	p->portsc = XHCI_PORTSC_PP;
	p->portpmsc = 0;
	if (p->dev) {
		p->portsc |= XHCI_PORTSC_CCS | XHCI_PORTSC_CSC |
			     (uint32_t)p->dev->speed << XHCI_PORTSC_SPEED_SHIFT;
		port_set_pls(p, port_usb3(i) ? XHCI_PLS_U0 : XHCI_PLS_POLLING);
		if (port_usb3(i))
			p->portsc |= XHCI_PORTSC_PED;
	} else {
		port_set_pls(p, XHCI_PLS_RXDETECT);
	}
}

static void port_bus_reset(struct xhci *x, unsigned int i, bool warm)
{
	struct xhci_port *p = &x->port[i];
	uint32_t change = XHCI_PORTSC_PRC | (warm ? XHCI_PORTSC_WRC : 0);

	p->portsc &= ~(XHCI_PORTSC_PR | XHCI_PORTSC_WPR);
	if (p->dev) {
		p->dev->addr = 0;
		p->dev->config = 0;
		if (p->dev->ops->reset)
			p->dev->ops->reset(p->dev);
		p->portsc |= XHCI_PORTSC_PED;
		port_set_pls(p, XHCI_PLS_U0);
	}
	port_change(x, i, change);
}

static void portsc_write(struct xhci *x, unsigned int i, uint32_t v)
{
	struct xhci_port *p = &x->port[i];
	const uint32_t rw = 0x0e000000 | (3u << 14);	/* WCE/WDE/WOE, port indicator */

	p->portsc &= ~(v & XHCI_PORTSC_CHANGE);
	p->portsc = (p->portsc & ~rw) | (v & rw);
	if (v & XHCI_PORTSC_PED)
		p->portsc &= ~XHCI_PORTSC_PED;	/* software may only disable (4.19.1.1) */
	if ((v & XHCI_PORTSC_LWS) && p->dev && (p->portsc & XHCI_PORTSC_PED)) {
		unsigned int pls = (v & XHCI_PORTSC_PLS_MASK) >> XHCI_PORTSC_PLS_SHIFT;
		unsigned int was = (p->portsc & XHCI_PORTSC_PLS_MASK) >> XHCI_PORTSC_PLS_SHIFT;

		if (pls == XHCI_PLS_U0 || pls == XHCI_PLS_U3 || pls == XHCI_PLS_RESUME) {
			port_set_pls(p, pls);
			if (pls == XHCI_PLS_U0 && was != XHCI_PLS_U0)
				port_change(x, i, XHCI_PORTSC_PLC);
		}
	}
	if (v & XHCI_PORTSC_PR)
		port_bus_reset(x, i, false);
	else if ((v & XHCI_PORTSC_WPR) && port_usb3(i))
		port_bus_reset(x, i, true);
}

/* ---- controller reset ---------------------------------------------------- */

static void hc_reset(struct xhci *x)
{
	unsigned int i;

	x->usbcmd = 0;
	x->usbsts = XHCI_STS_HCH;
	x->dnctrl = 0;
	x->config = 0;
	x->crcr = 0;
	x->dcbaap = 0;
	x->cmd_deq = 0;
	x->cmd_ccs = false;
	x->crr = false;
	memset(x->slot, 0, sizeof(x->slot));
	x->iman = 0;
	x->imod = 4000;		/* 1 ms, the reset value */
	x->erstsz = 0;
	x->erstba = 0;
	x->erdp = 0;
	x->ev_seg = x->ev_idx = x->ev_size = 0;
	x->ev_base = x->ev_enq = 0;
	x->ev_pcs = true;
	x->ev_loaded = x->ev_full = false;
	x->msix_pending = false;
	for (i = 0; i < XHCI_PORTS; i++) {
		if (x->port[i].dev) {
			x->port[i].dev->addr = 0;
			x->port[i].dev->config = 0;
			if (x->port[i].dev->ops->reset)
				x->port[i].dev->ops->reset(x->port[i].dev);
		}
		port_reset_state(x, i);
	}
	irq_update(x, false);
}

/* ---- registers -------------------------------------------------------------------- */

static uint32_t cap_read(struct xhci *x, uint64_t off)
{
	(void)x;
	switch (off) {
	case 0x00:
		return XHCI_CAPLENGTH | 0x0100 << 16;	/* HCIVERSION 1.0 */
	case XHCI_HCSPARAMS1:
		return (uint32_t)XHCI_PORTS << 24 | 1 << 8 | XHCI_SLOTS;
	case XHCI_HCSPARAMS2:
		return 4 << 4 | 0xf;			/* ERST Max 2^4, IST */
	case XHCI_HCCPARAMS1:
		return (uint32_t)(XHCI_XECP / 4) << 16 | 1;	/* AC64, 32-byte contexts */
	case XHCI_DBOFF:
		return XHCI_DB;
	case XHCI_RTSOFF:
		return XHCI_RT;
	default:
		return 0;
	}
}

/* Supported Protocol capabilities (7.2): USB 2 on ports 1-4, USB 3 on 5-8. */
static uint32_t xecp_read(uint64_t off)
{
	unsigned int i = off / 16, dw = (off % 16) / 4;

	if (i > 1)
		return 0;
	switch (dw) {
	case 0:		/* ID 2, next (in dwords), revision */
		return 2 | (i == 0 ? 4 : 0) << 8 | (i == 0 ? 0x0200u : 0x0300u) << 16;
	case 1:
		return 0x20425355;			/* "USB " */
	case 2:
		return i == 0 ? (XHCI_PORTS_USB2 << 8 | 1) :
				(XHCI_PORTS_USB3 << 8 | (XHCI_PORTS_USB2 + 1));
	default:
		return 0;				/* slot type 0 */
	}
}

static uint32_t op_read(struct xhci *x, uint64_t off)
{
	switch (off) {
	case XHCI_USBCMD:
		return x->usbcmd;
	case XHCI_USBSTS:
		return x->usbsts;
	case XHCI_PAGESIZE:
		return 1;				/* 4 KiB */
	case XHCI_DNCTRL:
		return x->dnctrl;
	case XHCI_CRCR:
		return x->crr ? XHCI_CRCR_CRR : 0;	/* the pointer reads as zero */
	case XHCI_DCBAAP:
		return x->dcbaap;
	case XHCI_DCBAAP + 4:
		return x->dcbaap >> 32;
	case XHCI_CONFIG:
		return x->config;
	}
	if (off >= 0x400 && off < 0x400 + 0x10 * XHCI_PORTS) {
		struct xhci_port *p = &x->port[(off - 0x400) / 16];

		switch (off % 16) {
		case 0:
			return p->portsc;
		case 4:
			return p->portpmsc;
		}
	}
	return 0;
}

static void usbcmd_write(struct xhci *x, uint32_t v)
{
	uint32_t was = x->usbcmd;
	unsigned int i;

	if (v & XHCI_CMD_HCRST) {
		hc_reset(x);
		return;
	}
	x->usbcmd = v & 0x3c0d;		/* R/S, INTE, HSEE, EWE, EU3S, ... (not the commands) */
	if ((v & XHCI_CMD_RS) && !(was & XHCI_CMD_RS)) {
		x->usbsts &= ~XHCI_STS_HCH;
		for (i = 0; i < XHCI_PORTS; i++)
			if (x->port[i].portsc & XHCI_PORTSC_CHANGE)
				port_event(x, i);
	} else if (!(v & XHCI_CMD_RS) && (was & XHCI_CMD_RS)) {
		x->usbsts |= XHCI_STS_HCH;
		x->crr = false;
	}
	irq_update(x, (v & ~was & XHCI_CMD_INTE) != 0);
}

static void crcr_write(struct xhci *x, uint32_t v, bool high)
{
	if (!high && (v & (XHCI_CRCR_CS | XHCI_CRCR_CA))) {
		/* Stop or abort (4.6.1.1): between commands, so nothing to abort. */
		if (x->crr) {
			x->crr = false;
			xhci_post_event(x, x->cmd_deq, (uint32_t)CC_COMMAND_RING_STOPPED << 24,
					TRB_TYPE(TRB_CMD_COMPLETION), true);
		}
		return;
	}
	if (x->crr)
		return;
	if (high) {
		x->crcr = (x->crcr & 0xffffffffULL) | (uint64_t)v << 32;
	} else {
		x->crcr = (x->crcr & ~0xffffffffULL) | (v & ~0x3fu);
		x->cmd_ccs = v & XHCI_CRCR_RCS;
	}
	x->cmd_deq = x->crcr & ~63ULL;
}

static void op_write(struct xhci *x, uint64_t off, uint32_t v)
{
	switch (off) {
	case XHCI_USBCMD:
		usbcmd_write(x, v);
		return;
	case XHCI_USBSTS:
		x->usbsts &= ~(v & (XHCI_STS_HSE | XHCI_STS_EINT | XHCI_STS_PCD | (1u << 10)));
		return;
	case XHCI_DNCTRL:
		x->dnctrl = v & 0xffff;
		return;
	case XHCI_CRCR:
	case XHCI_CRCR + 4:
		crcr_write(x, v, off != XHCI_CRCR);
		return;
	case XHCI_DCBAAP:
		x->dcbaap = (x->dcbaap & ~0xffffffffULL) | (v & ~0x3fu);
		return;
	case XHCI_DCBAAP + 4:
		x->dcbaap = (x->dcbaap & 0xffffffffULL) | (uint64_t)v << 32;
		return;
	case XHCI_CONFIG:
		x->config = v & 0x3ff;
		return;
	}
	if (off >= 0x400 && off < 0x400 + 0x10 * XHCI_PORTS) {
		unsigned int i = (off - 0x400) / 16;

		if (off % 16 == 0)
			portsc_write(x, i, v);
		else if (off % 16 == 4)
			x->port[i].portpmsc = v;
	}
}

static uint32_t rt_read(struct xhci *x, uint64_t off)
{
	struct timespec ts;

	switch (off) {
	case XHCI_MFINDEX:
		if (!xhci_running(x))
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		return ((uint64_t)ts.tv_sec * 8000 + ts.tv_nsec / 125000) & 0x3fff;
	case XHCI_IMAN:
		return x->iman;
	case XHCI_IMOD:
		return x->imod;
	case XHCI_ERSTSZ:
		return x->erstsz;
	case XHCI_ERSTBA:
		return x->erstba;
	case XHCI_ERSTBA + 4:
		return x->erstba >> 32;
	case XHCI_ERDP:
		return x->erdp;
	case XHCI_ERDP + 4:
		return x->erdp >> 32;
	default:
		return 0;
	}
}

static void erdp_write(struct xhci *x, uint32_t v, bool high)
{
	uint64_t was = x->erdp & ~15ULL;

	if (high) {
		x->erdp = (x->erdp & 0xffffffffULL) | (uint64_t)v << 32;
	} else {
		x->erdp = (x->erdp & ~0xffffffffULL) | (v & ~15u) | (x->erdp & XHCI_ERDP_EHB);
		if (v & XHCI_ERDP_EHB)
			x->erdp &= ~(uint64_t)XHCI_ERDP_EHB;
	}
	if ((x->erdp & ~15ULL) != was)
		x->ev_full = false;
	/* Events the handler has not consumed yet interrupt again (4.17.2). */
	if (!high && (v & XHCI_ERDP_EHB) && x->ev_enq && x->ev_enq != (x->erdp & ~15ULL))
		intr_assert(x);
}

static void rt_write(struct xhci *x, uint64_t off, uint32_t v)
{
	uint32_t was;

	switch (off) {
	case XHCI_IMAN:
		was = x->iman;
		x->iman = (x->iman & ~(v & XHCI_IMAN_IP) & ~XHCI_IMAN_IE) | (v & XHCI_IMAN_IE);
		irq_update(x, (x->iman & ~was & XHCI_IMAN_IE) != 0);
		break;
	case XHCI_IMOD:
		x->imod = v;
		break;
	case XHCI_ERSTSZ:
		x->erstsz = v & 0xffff;
		break;
	case XHCI_ERSTBA:
	case XHCI_ERSTBA + 4:
		if (off == XHCI_ERSTBA)
			x->erstba = (x->erstba & ~0xffffffffULL) | (v & ~0x3fu);
		else
			x->erstba = (x->erstba & 0xffffffffULL) | (uint64_t)v << 32;
		/* A new table: the producer starts over at its first segment (4.9.4). */
		x->ev_seg = x->ev_idx = 0;
		x->ev_enq = 0;
		x->ev_pcs = true;
		x->ev_loaded = x->ev_full = false;
		break;
	case XHCI_ERDP:
	case XHCI_ERDP + 4:
		erdp_write(x, v, off != XHCI_ERDP);
		break;
	}
}

static void db_write(struct xhci *x, unsigned int id, uint32_t v)
{
	if (!xhci_running(x))
		return;
	if (id == 0) {
		if ((v & 0xff) == 0)
			xhci_cmd_doorbell(x);
		return;
	}
	xhci_ep_doorbell(x, id, v);
}

static uint32_t reg_read(struct xhci *x, uint64_t off)
{
	if (off < XHCI_CAPLENGTH)
		return cap_read(x, off);
	if (off < XHCI_XECP)
		return op_read(x, off - XHCI_OP);
	if (off < XHCI_XECP + 32)
		return xecp_read(off - XHCI_XECP);
	if (off >= XHCI_RT && off < XHCI_RT + 0x40)
		return rt_read(x, off - XHCI_RT);
	if (off >= XHCI_MSIX_TABLE && off < XHCI_MSIX_TABLE + 16)
		return get32(x->msix_table + (off - XHCI_MSIX_TABLE));
	if (off == XHCI_MSIX_PBA)
		return x->msix_pending;
	return 0;
}

static void reg_write(struct xhci *x, uint64_t off, uint32_t v)
{
	if (off >= XHCI_OP && off < XHCI_XECP) {
		op_write(x, off - XHCI_OP, v);
	} else if (off >= XHCI_RT && off < XHCI_RT + 0x40) {
		rt_write(x, off - XHCI_RT, v);
	} else if (off >= XHCI_DB && off <= XHCI_DB + 4 * XHCI_SLOTS) {
		db_write(x, (off - XHCI_DB) / 4, v);
	} else if (off >= XHCI_MSIX_TABLE && off < XHCI_MSIX_TABLE + 16) {
		put32(x->msix_table + (off - XHCI_MSIX_TABLE), v);
		msix_flush(x);
	}
}

void xhci_mmio(struct xhci *x, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	uint32_t i;

	if (!is_write)
		memset(data, 0, len);
	if (off >= XHCI_BAR_SIZE || len > XHCI_BAR_SIZE - off || !len || len > 8)
		return;
	pthread_mutex_lock(&x->lock);
	if (!is_write) {
		/* Any size: the bytes of the aligned dwords it covers. */
		for (i = 0; i < len; i++) {
			uint64_t o = off + i;

			data[i] = reg_read(x, o & ~3ULL) >> (8 * (o & 3));
		}
	} else if ((len == 4 || len == 8) && !(off & 3)) {
		/* Dwords; a qword is its low then its high half, as lo_hi_writeq. */
		for (i = 0; i < len; i += 4)
			reg_write(x, off + i, get32(data + i));
	}
	pthread_mutex_unlock(&x->lock);
}

/* ---- PCI ------------------------------------------------------------------------ */

static void bar_access(struct pci_dev *d, int bar, uint64_t off, uint8_t *data, uint32_t len,
		       bool is_write)
{
	if (bar != 0) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	xhci_mmio(d->opaque, off, data, len, is_write);
}

static void cfg_written(struct pci_dev *d, uint32_t off, uint32_t len)
{
	struct xhci *x = d->opaque;

	(void)off;
	(void)len;
	pthread_mutex_lock(&x->lock);
	msix_flush(x);
	irq_update(x, false);
	pthread_mutex_unlock(&x->lock);
}

int xhci_init(struct xhci *x, const struct vmem *mem, const struct xhci_platform *plat)
{
	uint8_t c;

	memset(x, 0, sizeof(*x));
	pthread_mutex_init(&x->lock, NULL);
	x->mem = mem;
	x->plat = plat;
	pci_dev_init(&x->pci, 0x1b36, 0x000d, 0x0c033001, 0x1af4, 0x1100, 1);
	x->pci.opaque = x;
	x->pci.bar_access = bar_access;
	x->pci.cfg_written = cfg_written;
	x->pci.cfg[PCI_SBRN] = 0x30;		/* USB 3.0 */
	x->pci.cfg[PCI_FLADJ] = 0x20;
	if (pci_dev_add_bar(&x->pci, 0, XHCI_BAR_SIZE, PCI_BAR_MEM64) < 0)
		return -1;
	c = pci_dev_add_cap(&x->pci, PCI_CAP_ID_MSI, 14);
	if (!c)
		return -1;
	x->msi_cap = c;
	put16(x->pci.cfg + c + 2, MSI_CTRL_64BIT);	/* one vector, no masking */
	x->pci.wmask[c + 2] = MSI_CTRL_ENABLE | 0x70;
	x->pci.wmask[c + 4] = 0xfc;
	memset(x->pci.wmask + c + 5, 0xff, 9);
	c = pci_dev_add_cap(&x->pci, PCI_CAP_ID_MSIX, 12);
	if (!c)
		return -1;
	x->msix_cap = c;
	x->pci.wmask[c + 3] = (MSIX_ENABLE | MSIX_MASKALL) >> 8;	/* table size 1 */
	put32(x->pci.cfg + c + 4, XHCI_MSIX_TABLE);			/* BIR 0 */
	put32(x->pci.cfg + c + 8, XHCI_MSIX_PBA);
	x->msix_table[12] = 1;						/* masked */
	hc_reset(x);
	return 0;
}

int xhci_attach(struct xhci *x, struct usb_dev *d)
{
	unsigned int i, first = d->speed == USB_SPEED_SUPER ? XHCI_PORTS_USB2 : 0;
	unsigned int end = d->speed == USB_SPEED_SUPER ? XHCI_PORTS : XHCI_PORTS_USB2;
	int ret = -1;

	pthread_mutex_lock(&x->lock);
	for (i = first; i < end; i++) {
		if (!x->port[i].dev) {
			x->port[i].dev = d;
			d->lock = &x->lock;
			d->host = x;
			d->wakeup = xhci_wakeup;
			port_reset_state(x, i);
			x->port[i].portsc &= ~XHCI_PORTSC_CSC;
			port_change(x, i, XHCI_PORTSC_CSC);
			ret = i + 1;
			break;
		}
	}
	pthread_mutex_unlock(&x->lock);
	return ret;
}
