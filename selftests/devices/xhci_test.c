// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of devices/xhci.c with devices/usb_hid.c: the controller
 * driven the way Linux's xhci_hcd drives it (reset, DCBAA, command ring,
 * ERST, run; port reset; Enable Slot, Address Device, control transfers,
 * Configure Endpoint; interrupt IN transfers), input through the console,
 * over a 1 MiB array standing in for guest RAM; then hostile pointers.
 */
#include <string.h>
#include "kselftest_harness.h"
#include "../../devices/console.h"
#include "../../devices/le.h"
#include "../../devices/usb_hid.h"
#include "../../devices/xhci.h"

#define RAM		(1 << 20)
#define DCBAA		0x1000
#define CMD_RING	0x2000
#define CMD_TRBS	16		/* the last one is the Link */
#define ERST		0x3000
#define EV_RING		0x4000
#define EV_TRBS		32
#define IN_CTX		0x6000
#define OUT_CTX(s)	(0x8000 + 0x1000 * (s))
#define EP0_RING(s)	(0x20000 + 0x1000 * (s))
#define EP1_RING(s)	(0x40000 + 0x1000 * (s))
#define RING_TRBS	32
#define BUF		0x80000
#define BAD		0x40000000ULL	/* not RAM */

#include "fake_ram.h"
static struct xhci xc;
static struct usb_dev *tablet, *kbd;

static struct {
	int msis, intx;
	uint64_t addr;
	uint32_t data;
} irq;

static void on_msi(void *opaque, uint64_t addr, uint32_t data)
{
	(void)opaque;
	irq.msis++;
	irq.addr = addr;
	irq.data = data;
}

static void on_intx(void *opaque, int level)
{
	(void)opaque;
	irq.intx = level;
}

static const struct xhci_platform plat = { on_msi, on_intx, NULL };

/* ---- the driver's side ---------------------------------------------------- */

static uint32_t rd32(uint64_t off)
{
	uint8_t b[4];

	xhci_mmio(&xc, off, b, 4, false);
	return get32(b);
}

static void wr32(uint64_t off, uint32_t v)
{
	uint8_t b[4];

	put32(b, v);
	xhci_mmio(&xc, off, b, 4, true);
}

static void wr64(uint64_t off, uint64_t v)
{
	wr32(off, v);
	wr32(off + 4, v >> 32);
}

static uint32_t op(unsigned int r)
{
	return rd32(XHCI_OP + r);
}

static uint32_t portsc(unsigned int port)
{
	return op(0x400 + 0x10 * (port - 1));
}

static void set_portsc(unsigned int port, uint32_t v)
{
	wr32(XHCI_OP + 0x400 + 0x10 * (port - 1), v);
}

static uint32_t mget32(uint64_t a)
{
	return get32(ram + a);
}

static void put_trb(uint64_t a, uint64_t param, uint32_t status, uint32_t control)
{
	put64(ram + a, param);
	put32(ram + a + 8, status);
	put32(ram + a + 12, control);
}

/* A producer ring of RING_TRBS with a Link back to its start. */
struct ring {
	uint64_t base;
	unsigned int n, idx;
	bool cycle;
};

static struct ring cmd, ep0[XHCI_SLOTS + 1], ep1[XHCI_SLOTS + 1];
static unsigned int ev_idx;
static bool ev_cycle;

static void ring_init(struct ring *r, uint64_t base, unsigned int n)
{
	r->base = base;
	r->n = n;
	r->idx = 0;
	r->cycle = true;
	memset(ram + base, 0, 16 * n);
	put_trb(base + 16 * (n - 1), base, 0, TRB_TYPE(TRB_LINK) | TRB_TC);
}

/* Queue one TRB; returns its address. */
static uint64_t ring_put(struct ring *r, uint64_t param, uint32_t status, uint32_t control)
{
	uint64_t a = r->base + 16 * r->idx;

	put_trb(a, param, status, (control & ~TRB_C) | r->cycle);
	if (++r->idx == r->n - 1) {
		uint64_t l = r->base + 16 * r->idx;

		put32(ram + l + 12, (mget32(l + 12) & ~TRB_C) | r->cycle);
		r->idx = 0;
		r->cycle = !r->cycle;
	}
	return a;
}

struct event {
	uint64_t param;
	uint32_t status, control;
};

static unsigned int ev_type(const struct event *e)
{
	return TRB_GET_TYPE(e->control);
}

static unsigned int ev_cc(const struct event *e)
{
	return e->status >> 24;
}

/* The next event, as the driver's handler consumes it (ERDP with EHB); false if none. */
static bool next_event(struct event *e)
{
	uint64_t a = EV_RING + 16 * ev_idx;

	if (!(mget32(a + 12) & TRB_C) != !ev_cycle)
		return false;
	e->param = get32(ram + a) | (uint64_t)get32(ram + a + 4) << 32;
	e->status = mget32(a + 8);
	e->control = mget32(a + 12);
	if (++ev_idx == EV_TRBS) {
		ev_idx = 0;
		ev_cycle = !ev_cycle;
	}
	wr64(XHCI_RT + XHCI_ERDP, (EV_RING + 16 * ev_idx) | XHCI_ERDP_EHB);
	return true;
}

static void drain_events(void)
{
	struct event e;

	while (next_event(&e))
		;
}

/* Reset and start the controller the way xhci_hcd does. */
static void start(void)
{
	memset(ram, 0, RAM);
	memset(&irq, 0, sizeof(irq));
	wr32(XHCI_OP + XHCI_USBCMD, XHCI_CMD_HCRST);
	wr32(XHCI_OP + XHCI_CONFIG, XHCI_SLOTS);
	wr64(XHCI_OP + XHCI_DCBAAP, DCBAA);
	ring_init(&cmd, CMD_RING, CMD_TRBS);
	wr64(XHCI_OP + XHCI_CRCR, CMD_RING | XHCI_CRCR_RCS);
	put64(ram + ERST, EV_RING);
	put32(ram + ERST + 8, EV_TRBS);
	wr32(XHCI_RT + XHCI_ERSTSZ, 1);
	wr64(XHCI_RT + XHCI_ERDP, EV_RING);
	wr64(XHCI_RT + XHCI_ERSTBA, ERST);
	ev_idx = 0;
	ev_cycle = true;
	wr32(XHCI_RT + XHCI_IMAN, XHCI_IMAN_IE);
	wr32(XHCI_OP + XHCI_USBCMD, XHCI_CMD_RS | XHCI_CMD_INTE);
}

/* Fresh controller with the tablet on port 1 and the keyboard on port 2; 0 or -1. */
static int fresh(void)
{
	const struct console_sink_ops *o;
	enum con_sink_kind k;

	console_reset();
	usb_hid_free(tablet);
	usb_hid_free(kbd);
	if (xhci_init(&xc, &mem, &plat) < 0)
		return -1;
	tablet = usb_hid_new(USB_HID_TABLET);
	kbd = usb_hid_new(USB_HID_KBD);
	if (!tablet || !kbd || xhci_attach(&xc, tablet) != 1 || xhci_attach(&xc, kbd) != 2)
		return -1;
	o = usb_hid_sink(tablet, &k);
	if (k != CON_SINK_POINTER || console_add_sink(k, CON_PRIO_USB, o, tablet, "usb-tablet") < 0)
		return -1;
	o = usb_hid_sink(kbd, &k);
	if (k != CON_SINK_KBD || console_add_sink(k, CON_PRIO_USB, o, kbd, "usb-kbd") < 0)
		return -1;
	return 0;
}

#define setup() ASSERT_EQ(fresh(), 0)

/* Run a command: its completion event's code; *slot gets the event's slot ID. */
static unsigned int command(uint64_t param, uint32_t control, unsigned int *slot)
{
	uint64_t a = ring_put(&cmd, param, 0, control);
	struct event e;

	wr32(XHCI_DB, 0);
	if (!next_event(&e) || ev_type(&e) != TRB_CMD_COMPLETION || e.param != a)
		return 0xff;
	if (slot)
		*slot = e.control >> 24;
	return ev_cc(&e);
}

static void reset_port(unsigned int port)
{
	set_portsc(port, XHCI_PORTSC_PP | XHCI_PORTSC_PR);
	drain_events();
	set_portsc(port, XHCI_PORTSC_PP | XHCI_PORTSC_PRC | XHCI_PORTSC_CSC);
}

/* Input context for Address Device: slot (port, speed, 1 entry) and EP0. */
static void input_for_address(unsigned int slot, unsigned int port)
{
	uint8_t *c = ram + IN_CTX;

	memset(c, 0, 33 * 32);
	put32(c + 4, 3);					/* A0, A1 */
	put32(c + 32, 1u << 27 | 3u << 20);			/* one entry, high speed */
	put32(c + 32 + 4, port << 16);
	put32(c + 64 + 4, 64u << 16 | 4 << 3 | 3 << 1);	/* control, MPS 64, CErr 3 */
	ring_init(&ep0[slot], EP0_RING(slot), RING_TRBS);
	put64(c + 64 + 8, EP0_RING(slot) | 1);
	put64(ram + DCBAA + 8 * slot, OUT_CTX(slot));
}

/* Port reset, Enable Slot, Address Device (BSR=1, then 0): the slot ID. */
static unsigned int enumerate(unsigned int port)
{
	unsigned int slot = 0;

	reset_port(port);
	if (command(0, TRB_TYPE(TRB_ENABLE_SLOT), &slot) != CC_SUCCESS)
		return 0;
	input_for_address(slot, port);
	if (command(IN_CTX, TRB_TYPE(TRB_ADDRESS_DEVICE) | TRB_BSR | TRB_SLOT(slot), NULL) !=
	    CC_SUCCESS)
		return 0;
	if (command(IN_CTX, TRB_TYPE(TRB_ADDRESS_DEVICE) | TRB_SLOT(slot), NULL) != CC_SUCCESS)
		return 0;
	return slot;
}

static uint64_t setup_param(uint8_t type, uint8_t req, uint16_t value, uint16_t index,
			    uint16_t length)
{
	return type | req << 8 | (uint32_t)value << 16 | (uint64_t)index << 32 |
	       (uint64_t)length << 48;
}

/*
 * A control transfer on @slot's EP0 the way xhci_queue_ctrl_tx queues it:
 * Setup, Data (if @len, ISP on IN), Status with IOC.  Returns the first
 * event's code; *residual its length field.  The data goes to/from BUF.
 */
static unsigned int control(unsigned int slot, uint8_t type, uint8_t req, uint16_t value,
			    uint16_t index, uint16_t len, uint32_t *residual, unsigned int *nev)
{
	struct ring *r = &ep0[slot];
	bool in = type & USB_DIR_IN;
	uint32_t trt = len ? (in ? 3u << 16 : 2u << 16) : 0;
	struct event e;
	unsigned int cc = 0xff, n = 0;

	ring_put(r, setup_param(type, req, value, index, len), 8,
		 TRB_TYPE(TRB_SETUP) | TRB_IDT | trt);
	if (len)
		ring_put(r, BUF, len, TRB_TYPE(TRB_DATA) | (in ? TRB_DIR_IN | TRB_ISP : 0));
	ring_put(r, 0, 0, TRB_TYPE(TRB_STATUS) | TRB_IOC | (in && len ? 0 : TRB_DIR_IN));
	wr32(XHCI_DB + 4 * slot, 1);
	while (next_event(&e)) {
		if (ev_type(&e) != TRB_TRANSFER_EVENT)
			continue;
		if (!n++) {
			cc = ev_cc(&e);
			if (residual)
				*residual = e.status & 0xffffff;
		}
	}
	if (nev)
		*nev = n;
	return cc;
}

static unsigned int ep_state(unsigned int slot, unsigned int dci)
{
	return mget32(OUT_CTX(slot) + 32 * dci) & 7;
}

/* Configure EP1 IN (DCI 3) as an interrupt endpoint, then SET_CONFIGURATION 1. */
static int configure(unsigned int slot)
{
	uint8_t *c = ram + IN_CTX;

	memset(c, 0, 33 * 32);
	put32(c + 4, 1 | 1u << 3);				/* A0, A3 */
	put32(c + 32, 3u << 27 | 3u << 20);			/* context entries 3 */
	put32(c + 32 * 4 + 4, 8u << 16 | 7 << 3 | 3 << 1);	/* interrupt IN, MPS 8 */
	ring_init(&ep1[slot], EP1_RING(slot), RING_TRBS);
	put64(c + 32 * 4 + 8, EP1_RING(slot) | 1);
	if (command(IN_CTX, TRB_TYPE(TRB_CONFIGURE_EP) | TRB_SLOT(slot), NULL) != CC_SUCCESS)
		return -1;
	if (control(slot, 0, USB_REQ_SET_CONFIGURATION, 1, 0, 0, NULL, NULL) != CC_SUCCESS)
		return -1;
	return 0;
}

/* Queue an 8-byte interrupt IN TRB at @buf on EP1; returns its address. */
static uint64_t queue_in(unsigned int slot, uint64_t buf)
{
	uint64_t a = ring_put(&ep1[slot], buf, 8, TRB_TYPE(TRB_NORMAL) | TRB_ISP | TRB_IOC);

	wr32(XHCI_DB + 4 * slot, 3);
	return a;
}

/* ---- tests ------------------------------------------------------------------ */

TEST(capabilities_and_reset)
{
	uint32_t off, ports[2] = { 0 }, revs[2] = { 0 }, n = 0;

	setup();
	EXPECT_EQ(xc.pci.cfg[0] | xc.pci.cfg[1] << 8, 0x1b36);
	EXPECT_EQ(xc.pci.cfg[2] | xc.pci.cfg[3] << 8, 0x000d);
	EXPECT_EQ(get32(xc.pci.cfg + 8) >> 8, 0x0c0330u);
	EXPECT_EQ(rd32(0) & 0xff, XHCI_CAPLENGTH);
	EXPECT_EQ(rd32(0) >> 16, 0x100u);
	EXPECT_EQ(rd32(XHCI_HCSPARAMS1), (uint32_t)XHCI_PORTS << 24 | 1 << 8 | XHCI_SLOTS);
	EXPECT_EQ(rd32(XHCI_HCSPARAMS2) & 0xf8000000u, 0u);	/* no scratchpad */
	EXPECT_EQ(rd32(XHCI_HCCPARAMS1) & 4, 0u);		/* 32-byte contexts */
	EXPECT_EQ(rd32(XHCI_DBOFF), (uint32_t)XHCI_DB);
	EXPECT_EQ(rd32(XHCI_RTSOFF), (uint32_t)XHCI_RT);
	/* One-byte read of CAPLENGTH, two-byte HCIVERSION. */
	{
		uint8_t b[2];

		xhci_mmio(&xc, 0, b, 1, false);
		EXPECT_EQ(b[0], XHCI_CAPLENGTH);
		xhci_mmio(&xc, 2, b, 2, false);
		EXPECT_EQ(b[0] | b[1] << 8, 0x100);
	}
	/* Halted from reset, controller ready. */
	EXPECT_EQ(op(XHCI_USBSTS) & (XHCI_STS_HCH | XHCI_STS_CNR), XHCI_STS_HCH);
	EXPECT_EQ(op(XHCI_PAGESIZE), 1u);
	/* The extended capability list: Supported Protocol for USB 2 and USB 3. */
	off = (rd32(XHCI_HCCPARAMS1) >> 16) * 4;
	while (off && n < 4) {
		uint32_t d0 = rd32(off);

		if ((d0 & 0xff) == 2 && n < 2) {
			EXPECT_EQ(rd32(off + 4), 0x20425355u);
			revs[n] = d0 >> 24;
			ports[n] = rd32(off + 8) & 0xffff;
			n++;
		}
		off = (d0 >> 8 & 0xff) ? off + 4 * (d0 >> 8 & 0xff) : 0;
	}
	ASSERT_EQ(n, 2u);
	EXPECT_EQ(revs[0], 2u);
	EXPECT_EQ(ports[0], XHCI_PORTS_USB2 << 8 | 1u);
	EXPECT_EQ(revs[1], 3u);
	EXPECT_EQ(ports[1], XHCI_PORTS_USB3 << 8 | (XHCI_PORTS_USB2 + 1u));
	/* Attached ports show a connection from reset; others RxDetect. */
	EXPECT_EQ(portsc(1) & (XHCI_PORTSC_CCS | XHCI_PORTSC_CSC | XHCI_PORTSC_PP),
		  XHCI_PORTSC_CCS | XHCI_PORTSC_CSC | XHCI_PORTSC_PP);
	EXPECT_EQ((portsc(1) >> XHCI_PORTSC_SPEED_SHIFT) & 0xf, (uint32_t)USB_SPEED_HIGH);
	EXPECT_EQ(portsc(3) & XHCI_PORTSC_CCS, 0u);
	EXPECT_EQ(portsc(5) & XHCI_PORTSC_CCS, 0u);
	/* Run / stop */
	start();
	EXPECT_EQ(op(XHCI_USBSTS) & XHCI_STS_HCH, 0u);
	wr32(XHCI_OP + XHCI_USBCMD, 0);
	EXPECT_EQ(op(XHCI_USBSTS) & XHCI_STS_HCH, XHCI_STS_HCH);
}

TEST(port_status_change_and_reset)
{
	struct event e;
	unsigned int seen = 0;

	setup();
	start();
	while (next_event(&e)) {
		EXPECT_EQ(ev_type(&e), TRB_PORT_STATUS);
		EXPECT_EQ(ev_cc(&e), CC_SUCCESS);
		seen |= 1u << (e.param >> 24);
	}
	EXPECT_EQ(seen, 1u << 1 | 1u << 2);
	EXPECT_NE(op(XHCI_USBSTS) & XHCI_STS_PCD, 0u);
	wr32(XHCI_OP + XHCI_USBSTS, XHCI_STS_PCD);
	EXPECT_EQ(op(XHCI_USBSTS) & XHCI_STS_PCD, 0u);
	/* CSC is write-1-to-clear; writing 0 leaves it, writing PED does not enable. */
	set_portsc(1, XHCI_PORTSC_PP | XHCI_PORTSC_PED);
	EXPECT_NE(portsc(1) & XHCI_PORTSC_CSC, 0u);
	EXPECT_EQ(portsc(1) & XHCI_PORTSC_PED, 0u);
	set_portsc(1, XHCI_PORTSC_PP | XHCI_PORTSC_CSC);
	EXPECT_EQ(portsc(1) & XHCI_PORTSC_CSC, 0u);
	EXPECT_NE(portsc(1) & XHCI_PORTSC_CCS, 0u);
	/* Port reset: PR clears, PED and PRC set, U0, one event for port 1. */
	set_portsc(1, XHCI_PORTSC_PP | XHCI_PORTSC_PR);
	EXPECT_EQ(portsc(1) & (XHCI_PORTSC_PR | XHCI_PORTSC_PED | XHCI_PORTSC_PRC),
		  XHCI_PORTSC_PED | XHCI_PORTSC_PRC);
	EXPECT_EQ((portsc(1) & XHCI_PORTSC_PLS_MASK) >> XHCI_PORTSC_PLS_SHIFT, XHCI_PLS_U0);
	ASSERT_TRUE(next_event(&e));
	EXPECT_EQ(ev_type(&e), TRB_PORT_STATUS);
	EXPECT_EQ(e.param >> 24, 1u);
	EXPECT_FALSE(next_event(&e));
	/* Writing PED disables the port. */
	set_portsc(1, XHCI_PORTSC_PP | XHCI_PORTSC_PED);
	EXPECT_EQ(portsc(1) & XHCI_PORTSC_PED, 0u);
}

TEST(enumerate_tablet_and_get_descriptors)
{
	uint32_t residual = 0;
	unsigned int slot, nev = 0;
	uint8_t *b = ram + BUF;

	setup();
	start();
	drain_events();
	slot = enumerate(1);
	ASSERT_NE(slot, 0u);
	/* The output context: Addressed, address = slot ID, EP0 running. */
	EXPECT_EQ(mget32(OUT_CTX(slot) + 12) >> 27, (uint32_t)XHCI_SLOT_ADDRESSED);
	EXPECT_EQ(mget32(OUT_CTX(slot) + 12) & 0xff, slot);
	EXPECT_EQ(ep_state(slot, 1), (uint32_t)XHCI_EP_RUNNING);
	/* GET_DESCRIPTOR(device, 18) */
	memset(b, 0xee, 64);
	EXPECT_EQ(control(slot, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, 18,
			  &residual, &nev), CC_SUCCESS);
	EXPECT_EQ(nev, 1u);
	EXPECT_EQ(b[0], 18);
	EXPECT_EQ(b[1], USB_DT_DEVICE);
	EXPECT_EQ(b[2] | b[3] << 8, 0x0200);
	EXPECT_EQ(b[4], 0);			/* class per interface */
	EXPECT_EQ(b[7], 64);
	EXPECT_EQ(b[8] | b[9] << 8, 0x0627);
	EXPECT_EQ(b[10] | b[11] << 8, 0x0001);
	EXPECT_EQ(b[17], 1);
	EXPECT_EQ(b[18], 0xee);			/* nothing past it */
	/* Linux's first read: 64 bytes asked, 18 come: Short Packet, then the status stage. */
	EXPECT_EQ(control(slot, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, 64,
			  &residual, &nev), CC_SHORT_PACKET);
	EXPECT_EQ(residual, 64u - 18);
	EXPECT_EQ(nev, 2u);
	/* The configuration: 9 + 9 + 9 + 7 bytes, HID class, EP 0x81 interrupt. */
	EXPECT_EQ(control(slot, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_CONFIG << 8, 0, 255,
			  &residual, NULL), CC_SHORT_PACKET);
	EXPECT_EQ(b[2] | b[3] << 8, 34);
	EXPECT_EQ(residual, 255u - 34);
	EXPECT_EQ(b[9 + 5], 3);			/* bInterfaceClass HID */
	EXPECT_EQ(b[9 + 6], 0);
	EXPECT_EQ(b[18 + 1], USB_DT_HID);
	EXPECT_EQ(b[27 + 2], 0x81);
	EXPECT_EQ(b[27 + 3], 3);
	/* The report descriptor, as long as the HID descriptor says. */
	{
		unsigned int rlen = b[18 + 7] | b[18 + 8] << 8;

		EXPECT_EQ(control(slot, 0x81, USB_REQ_GET_DESCRIPTOR, USB_DT_REPORT << 8, 0,
				  rlen, NULL, NULL), CC_SUCCESS);
		EXPECT_EQ(b[0], 0x05);
		EXPECT_EQ(b[rlen - 1], 0xc0);
	}
	/* String 0 (languages) and 2 (product). */
	EXPECT_EQ(control(slot, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_STRING << 8, 0, 255,
			  NULL, NULL), CC_SHORT_PACKET);
	EXPECT_EQ(b[0], 4);
	EXPECT_EQ(b[2] | b[3] << 8, 0x0409);
	EXPECT_EQ(control(slot, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_STRING << 8 | 2, 0x409, 255,
			  NULL, NULL), CC_SHORT_PACKET);
	EXPECT_EQ(b[1], USB_DT_STRING);
	EXPECT_EQ(b[2], 'k');
	/* GET_STATUS */
	EXPECT_EQ(control(slot, 0x80, USB_REQ_GET_STATUS, 0, 0, 2, NULL, NULL), CC_SUCCESS);
	EXPECT_EQ(b[0] | b[1] << 8, 0);
	/* Not configured yet: the console does not pick it. */
	EXPECT_FALSE(usb_hid_ready(tablet));
}

TEST(tablet_report_through_console)
{
	unsigned int slot;
	uint64_t trb;
	struct event e;
	uint8_t *b = ram + BUF + 0x100;

	setup();
	start();
	drain_events();
	slot = enumerate(1);
	ASSERT_NE(slot, 0u);
	ASSERT_EQ(configure(slot), 0);
	EXPECT_EQ(mget32(OUT_CTX(slot) + 12) >> 27, (uint32_t)XHCI_SLOT_CONFIGURED);
	EXPECT_EQ(ep_state(slot, 3), (uint32_t)XHCI_EP_RUNNING);
	EXPECT_TRUE(usb_hid_ready(tablet));
	/* The TD stays pending until there is a report. */
	memset(b, 0xee, 16);
	trb = queue_in(slot, BUF + 0x100);
	EXPECT_FALSE(next_event(&e));
	irq.msis = 0;
	console_pointer(0x1234, 0x7fff, CON_BTN_LEFT | CON_BTN_RIGHT, -1);
	ASSERT_TRUE(next_event(&e));
	EXPECT_EQ(ev_type(&e), TRB_TRANSFER_EVENT);
	EXPECT_EQ(e.param, trb);
	EXPECT_EQ(ev_cc(&e), CC_SHORT_PACKET);
	EXPECT_EQ(e.status & 0xffffff, 2u);		/* 6 of 8 bytes */
	EXPECT_EQ(e.control >> 24, slot);
	EXPECT_EQ((e.control >> 16) & 0x1f, 3u);
	EXPECT_EQ(b[0], CON_BTN_LEFT | CON_BTN_RIGHT);
	EXPECT_EQ(b[1] | b[2] << 8, 0x1234);
	EXPECT_EQ(b[3] | b[4] << 8, 0x7fff);
	EXPECT_EQ(b[5], 0xff);				/* wheel -1 */
	EXPECT_EQ(b[6], 0xee);
	/* Reports queue while no TD waits, and come out in order. */
	console_pointer(1, 2, 0, 0);
	console_pointer(3, 4, CON_BTN_MIDDLE, 2);
	EXPECT_FALSE(next_event(&e));
	queue_in(slot, BUF + 0x200);
	queue_in(slot, BUF + 0x300);
	ASSERT_TRUE(next_event(&e));
	ASSERT_TRUE(next_event(&e));
	EXPECT_EQ(ram[BUF + 0x201], 1);
	EXPECT_EQ(ram[BUF + 0x300], CON_BTN_MIDDLE);
	EXPECT_EQ(ram[BUF + 0x303], 4);
	EXPECT_EQ(ram[BUF + 0x305], 2);
	EXPECT_FALSE(next_event(&e));
	/* Stop Endpoint with a pending TD: a Stopped event for it, then the completion. */
	trb = queue_in(slot, BUF + 0x400);
	ring_put(&cmd, 0, 0, TRB_TYPE(TRB_STOP_EP) | TRB_SLOT(slot) | TRB_EP(3));
	wr32(XHCI_DB, 0);
	ASSERT_TRUE(next_event(&e));
	EXPECT_EQ(ev_type(&e), TRB_TRANSFER_EVENT);
	EXPECT_EQ(ev_cc(&e), CC_STOPPED);
	EXPECT_EQ(e.param, trb);
	ASSERT_TRUE(next_event(&e));
	EXPECT_EQ(ev_type(&e), TRB_CMD_COMPLETION);
	EXPECT_EQ(ev_cc(&e), CC_SUCCESS);
	EXPECT_EQ(ep_state(slot, 3), (uint32_t)XHCI_EP_STOPPED);
	/* Stopped: input queues; ringing the doorbell restarts it. */
	console_pointer(5, 6, 0, 0);
	EXPECT_FALSE(next_event(&e));
	wr32(XHCI_DB + 4 * slot, 3);
	ASSERT_TRUE(next_event(&e));
	EXPECT_EQ(e.param, trb);
	EXPECT_EQ(ram[BUF + 0x401], 5);
	EXPECT_EQ(ep_state(slot, 3), (uint32_t)XHCI_EP_RUNNING);
}

TEST(keyboard_reports_and_leds)
{
	unsigned int slot;
	struct event e;
	uint8_t *b = ram + BUF + 0x100;
	static const uint8_t a_down[8] = { 0, 0, 0x04, 0, 0, 0, 0, 0 };
	static const uint8_t shift_a[8] = { 0x02, 0, 0x04, 0, 0, 0, 0, 0 };
	static const uint8_t up_arrow[8] = { 0x02, 0, 0x04, 0x52, 0, 0, 0, 0 };
	static const uint8_t none[8] = { 0 };

	setup();
	start();
	drain_events();
	slot = enumerate(2);
	ASSERT_NE(slot, 0u);
	/* HID class requests the way usbhid/usbkbd make them. */
	EXPECT_EQ(control(slot, 0x21, 0x0a, 0, 0, 0, NULL, NULL), CC_SUCCESS);	/* SET_IDLE 0 */
	EXPECT_EQ(control(slot, 0xa1, 0x02, 0, 0, 1, NULL, NULL), CC_SUCCESS);	/* GET_IDLE */
	EXPECT_EQ(ram[BUF], 0);
	EXPECT_EQ(control(slot, 0x21, 0x0b, 0, 0, 0, NULL, NULL), CC_SUCCESS);	/* boot */
	EXPECT_EQ(control(slot, 0xa1, 0x03, 0, 0, 1, NULL, NULL), CC_SUCCESS);
	EXPECT_EQ(ram[BUF], 0);
	EXPECT_EQ(control(slot, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_CONFIG << 8, 0, 34,
			  NULL, NULL), CC_SUCCESS);
	EXPECT_EQ(ram[BUF + 9 + 5], 3);
	EXPECT_EQ(ram[BUF + 9 + 6], 1);		/* boot interface */
	EXPECT_EQ(ram[BUF + 9 + 7], 1);		/* keyboard */
	ASSERT_EQ(configure(slot), 0);
	/* SET_REPORT(output): Caps Lock and Num Lock on. */
	ram[BUF] = 0x03;
	EXPECT_EQ(control(slot, 0x21, 0x09, 0x0200, 0, 1, NULL, NULL), CC_SUCCESS);
	EXPECT_EQ(usb_hid_leds(kbd), 0x06);	/* console bits: num 2, caps 4 */
	EXPECT_EQ(console_leds(), 0x06);
	/* xhci_hcd sends OUT data of 8 bytes or less inside the Data TRB (IDT): Scroll Lock. */
	ring_put(&ep0[slot], setup_param(0x21, 0x09, 0x0200, 0, 1), 8,
		 TRB_TYPE(TRB_SETUP) | TRB_IDT | 2u << 16);
	ring_put(&ep0[slot], 0x04, 1, TRB_TYPE(TRB_DATA) | TRB_IDT);
	ring_put(&ep0[slot], 0, 0, TRB_TYPE(TRB_STATUS) | TRB_IOC | TRB_DIR_IN);
	wr32(XHCI_DB + 4 * slot, 1);
	ASSERT_TRUE(next_event(&e));
	EXPECT_EQ(ev_cc(&e), CC_SUCCESS);
	EXPECT_EQ(usb_hid_leds(kbd), 0x01);
	EXPECT_FALSE(next_event(&e));
	/* Keys through the console: a, shift+a, E0 48 (up), releases. */
	console_key(0x1e, true);
	console_key(0x2a, true);
	console_key(0xe048, true);
	console_key(0xe048, false);
	console_key(0x2a, false);
	console_key(0x1e, false);
	{
		const uint8_t *want[] = { a_down, shift_a, up_arrow, shift_a, a_down, none };
		unsigned int i;

		for (i = 0; i < 6; i++) {
			memset(b, 0xee, 16);
			queue_in(slot, BUF + 0x100);
			ASSERT_TRUE(next_event(&e));
			EXPECT_EQ(ev_cc(&e), CC_SUCCESS);
			EXPECT_EQ(e.status & 0xffffff, 0u);
			EXPECT_EQ(memcmp(b, want[i], 8), 0);
		}
	}
	queue_in(slot, BUF + 0x100);
	EXPECT_FALSE(next_event(&e));
	/* Seven keys at once: ErrorRollOver. */
	{
		static const uint16_t codes[7] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16 };
		unsigned int i;

		for (i = 0; i < 7; i++)
			console_key(codes[i], true);
		drain_events();
		for (i = 0; i < 6; i++)
			queue_in(slot, BUF + 0x200 + 0x10 * i);
		drain_events();
		EXPECT_EQ(ram[BUF + 0x100 + 2], 0x14);	/* q, into the TD that waited */
		EXPECT_EQ(ram[BUF + 0x100 + 3], 0);
		EXPECT_EQ(ram[BUF + 0x240 + 7], 0x1c);	/* 6th key: y */
		EXPECT_EQ(ram[BUF + 0x250 + 2], 0x01);	/* 7th: ErrorRollOver */
		EXPECT_EQ(ram[BUF + 0x250 + 7], 0x01);
	}
	/* The HID usage map for a few keys. */
	EXPECT_EQ(usb_hid_usage(0x01), 0x29);	/* Esc */
	EXPECT_EQ(usb_hid_usage(0x1c), 0x28);	/* Enter */
	EXPECT_EQ(usb_hid_usage(0xe01c), 0x58);	/* keypad Enter */
	EXPECT_EQ(usb_hid_usage(0xe05b), 0xe3);	/* left GUI */
	EXPECT_EQ(usb_hid_usage(0x58), 0x45);	/* F12 */
	EXPECT_EQ(usb_hid_usage(0x9e), 0);
	EXPECT_EQ(usb_hid_usage(0xe100), 0);
}

TEST(stall_and_recovery)
{
	unsigned int slot, nev = 0;
	struct event e;

	setup();
	start();
	drain_events();
	slot = enumerate(1);
	ASSERT_NE(slot, 0u);
	/* A request the tablet does not know: Stall, EP0 halted. */
	EXPECT_EQ(control(slot, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0f << 8, 0, 5, NULL, &nev),
		  CC_STALL);
	EXPECT_EQ(nev, 1u);
	EXPECT_EQ(ep_state(slot, 1), (uint32_t)XHCI_EP_HALTED);
	/* Halted: the doorbell does nothing; Stop refuses, Reset Endpoint, Set TR Dequeue. */
	wr32(XHCI_DB + 4 * slot, 1);
	EXPECT_FALSE(next_event(&e));
	EXPECT_EQ(command(0, TRB_TYPE(TRB_STOP_EP) | TRB_SLOT(slot) | TRB_EP(1), NULL),
		  CC_CONTEXT_STATE);
	EXPECT_EQ(command(0, TRB_TYPE(TRB_RESET_EP) | TRB_SLOT(slot) | TRB_EP(1), NULL),
		  CC_SUCCESS);
	EXPECT_EQ(ep_state(slot, 1), (uint32_t)XHCI_EP_STOPPED);
	EXPECT_EQ(command((EP0_RING(slot) + 16 * ep0[slot].idx) | ep0[slot].cycle,
			  TRB_TYPE(TRB_SET_TR_DEQ) | TRB_SLOT(slot) | TRB_EP(1), NULL), CC_SUCCESS);
	EXPECT_EQ(control(slot, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, 18,
			  NULL, NULL), CC_SUCCESS);
	EXPECT_EQ(ep_state(slot, 1), (uint32_t)XHCI_EP_RUNNING);
	/* Evaluate Context: EP0's max packet size reaches the output context. */
	put32(ram + IN_CTX + 4, 2);
	put32(ram + IN_CTX + 64 + 4, 8u << 16 | 4 << 3 | 3 << 1);
	EXPECT_EQ(command(IN_CTX, TRB_TYPE(TRB_EVALUATE_CTX) | TRB_SLOT(slot), NULL), CC_SUCCESS);
	EXPECT_EQ(mget32(OUT_CTX(slot) + 32 + 4) >> 16, 8u);
	/* Reset Device: back to Default, address 0; then it can be addressed again. */
	EXPECT_EQ(command(0, TRB_TYPE(TRB_RESET_DEVICE) | TRB_SLOT(slot), NULL), CC_SUCCESS);
	EXPECT_EQ(mget32(OUT_CTX(slot) + 12) >> 27, (uint32_t)XHCI_SLOT_DEFAULT);
	EXPECT_EQ(mget32(OUT_CTX(slot) + 12) & 0xff, 0u);
	EXPECT_EQ(command(0, TRB_TYPE(TRB_RESET_DEVICE) | TRB_SLOT(slot), NULL), CC_CONTEXT_STATE);
	input_for_address(slot, 1);
	EXPECT_EQ(command(IN_CTX, TRB_TYPE(TRB_ADDRESS_DEVICE) | TRB_SLOT(slot), NULL), CC_SUCCESS);
	EXPECT_EQ(command(IN_CTX, TRB_TYPE(TRB_ADDRESS_DEVICE) | TRB_SLOT(slot), NULL),
		  CC_CONTEXT_STATE);
	EXPECT_EQ(control(slot, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, 18,
			  NULL, NULL), CC_SUCCESS);
	/* Commands on slots that are not enabled, and unknown commands. */
	EXPECT_EQ(command(0, TRB_TYPE(TRB_ADDRESS_DEVICE) | TRB_SLOT(9), NULL),
		  CC_SLOT_NOT_ENABLED);
	EXPECT_EQ(command(0, TRB_TYPE(TRB_RESET_EP) | TRB_SLOT(0), NULL), CC_SLOT_NOT_ENABLED);
	EXPECT_EQ(command(0, TRB_TYPE(TRB_NORMAL), NULL), CC_TRB);
	EXPECT_EQ(command(0, TRB_TYPE(TRB_NOOP_CMD), NULL), CC_SUCCESS);
	/* Disable Slot, then it is gone. */
	EXPECT_EQ(command(0, TRB_TYPE(TRB_DISABLE_SLOT) | TRB_SLOT(slot), NULL), CC_SUCCESS);
	EXPECT_EQ(command(0, TRB_TYPE(TRB_DISABLE_SLOT) | TRB_SLOT(slot), NULL),
		  CC_SLOT_NOT_ENABLED);
}

TEST(command_ring_wraps_with_link_toggle)
{
	unsigned int i, slot = 0;

	setup();
	start();
	drain_events();
	/* Three times round the 15-TRB ring (and the 32-entry event ring). */
	for (i = 0; i < 3 * CMD_TRBS; i++)
		ASSERT_EQ(command(0, TRB_TYPE(TRB_NOOP_CMD), NULL), CC_SUCCESS);
	/* All slots, then No Slots Available. */
	for (i = 0; i < XHCI_SLOTS; i++)
		ASSERT_EQ(command(0, TRB_TYPE(TRB_ENABLE_SLOT), &slot), CC_SUCCESS);
	EXPECT_EQ(slot, (unsigned int)XHCI_SLOTS);
	EXPECT_EQ(command(0, TRB_TYPE(TRB_ENABLE_SLOT), NULL), CC_NO_SLOTS);
	/* Abort: the ring stops with a Command Ring Stopped event, CRR clears. */
	EXPECT_NE(op(XHCI_CRCR) & XHCI_CRCR_CRR, 0u);
	wr32(XHCI_OP + XHCI_CRCR, XHCI_CRCR_CA);
	EXPECT_EQ(op(XHCI_CRCR) & XHCI_CRCR_CRR, 0u);
	{
		struct event e;

		ASSERT_TRUE(next_event(&e));
		EXPECT_EQ(ev_cc(&e), CC_COMMAND_RING_STOPPED);
	}
	/* ... and the next doorbell goes on where it stopped. */
	EXPECT_EQ(command(0, TRB_TYPE(TRB_NOOP_CMD), NULL), CC_SUCCESS);
}

TEST(interrupts_msix_msi_intx)
{
	struct event e;
	uint8_t *c;

	setup();
	/* INTx: the level follows IMAN.IP with IE and INTE. */
	start();
	EXPECT_EQ(irq.intx, 1);
	EXPECT_NE(rd32(XHCI_RT + XHCI_IMAN) & XHCI_IMAN_IP, 0u);
	EXPECT_NE(op(XHCI_USBSTS) & XHCI_STS_EINT, 0u);
	wr32(XHCI_RT + XHCI_IMAN, XHCI_IMAN_IE | XHCI_IMAN_IP);
	EXPECT_EQ(irq.intx, 0);
	drain_events();
	/* With EHB set and IP clear, a new event raises nothing until ERDP is written. */
	wr32(XHCI_OP + XHCI_USBCMD, 0);
	start();
	wr32(XHCI_RT + XHCI_IMAN, XHCI_IMAN_IE | XHCI_IMAN_IP);
	EXPECT_EQ(irq.intx, 0);
	ring_put(&cmd, 0, 0, TRB_TYPE(TRB_NOOP_CMD));
	wr32(XHCI_DB, 0);
	EXPECT_EQ(irq.intx, 0);
	/* The handler acknowledges what it saw (not the new ones): IP again. */
	wr64(XHCI_RT + XHCI_ERDP, EV_RING | XHCI_ERDP_EHB);
	EXPECT_EQ(irq.intx, 1);
	drain_events();
	wr32(XHCI_RT + XHCI_IMAN, XHCI_IMAN_IE | XHCI_IMAN_IP);
	EXPECT_EQ(irq.intx, 0);
	/* MSI-X: vector 0 masked at reset; the message waits in the PBA. */
	c = xc.pci.cfg + xc.msix_cap;
	c[3] |= 0x80;
	xc.pci.cfg_written(&xc.pci, xc.msix_cap + 2, 2);
	wr64(XHCI_MSIX_TABLE, 0xfee01000);
	wr32(XHCI_MSIX_TABLE + 8, 0x4041);
	irq.msis = 0;
	ring_put(&cmd, 0, 0, TRB_TYPE(TRB_NOOP_CMD));
	wr32(XHCI_DB, 0);
	EXPECT_EQ(irq.msis, 0);
	EXPECT_EQ(rd32(XHCI_MSIX_PBA) & 1, 1u);
	EXPECT_NE(rd32(XHCI_RT + XHCI_IMAN) & XHCI_IMAN_IP, 0u);
	wr32(XHCI_MSIX_TABLE + 12, 0);		/* unmask */
	EXPECT_EQ(irq.msis, 1);
	EXPECT_EQ(irq.addr, 0xfee01000u);
	EXPECT_EQ(irq.data, 0x4041u);
	EXPECT_EQ(irq.intx, 0);
	/* Sending the message cleared IP: xhci_hcd leaves IMAN alone with MSI(-X). */
	EXPECT_EQ(rd32(XHCI_RT + XHCI_IMAN) & XHCI_IMAN_IP, 0u);
	drain_events();
	ring_put(&cmd, 0, 0, TRB_TYPE(TRB_NOOP_CMD));
	wr32(XHCI_DB, 0);
	EXPECT_EQ(irq.msis, 2);
	EXPECT_EQ(rd32(XHCI_RT + XHCI_IMAN) & XHCI_IMAN_IP, 0u);
	drain_events();
	c[3] &= ~0x80;
	/* MSI */
	c = xc.pci.cfg + xc.msi_cap;
	EXPECT_NE(c[2] & 0x80, 0);		/* 64-bit */
	put32(c + 4, 0xfee02000);
	put16(c + 12, 0x4142);
	c[2] |= 1;
	xc.pci.cfg_written(&xc.pci, xc.msi_cap + 2, 2);
	ring_put(&cmd, 0, 0, TRB_TYPE(TRB_NOOP_CMD));
	wr32(XHCI_DB, 0);
	EXPECT_EQ(irq.msis, 3);
	EXPECT_EQ(irq.addr, 0xfee02000u);
	EXPECT_EQ(irq.data, 0x4142u);
	EXPECT_EQ(rd32(XHCI_RT + XHCI_IMAN) & XHCI_IMAN_IP, 0u);
	EXPECT_EQ(irq.intx, 0);
	/* Events while the handler is busy (EHB) wait for its ERDP write, then one more message. */
	ring_put(&cmd, 0, 0, TRB_TYPE(TRB_NOOP_CMD));
	wr32(XHCI_DB, 0);
	EXPECT_EQ(irq.msis, 3);
	ASSERT_TRUE(next_event(&e));
	EXPECT_EQ(irq.msis, 4);
	EXPECT_TRUE(next_event(&e));
	EXPECT_EQ(irq.msis, 4);
	EXPECT_FALSE(next_event(&e));
}

TEST(bad_pointers_give_errors_not_crashes)
{
	unsigned int slot, slot2;
	uint64_t trb;
	struct event e;

	setup();
	start();
	drain_events();
	slot = enumerate(1);
	ASSERT_NE(slot, 0u);
	/* Data stage buffer outside RAM: TRB Error, EP0 halted. */
	ring_put(&ep0[slot], setup_param(0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, 18),
		 8, TRB_TYPE(TRB_SETUP) | TRB_IDT | 3u << 16);
	trb = ring_put(&ep0[slot], BAD, 18, TRB_TYPE(TRB_DATA) | TRB_DIR_IN);
	ring_put(&ep0[slot], 0, 0, TRB_TYPE(TRB_STATUS) | TRB_IOC);
	wr32(XHCI_DB + 4 * slot, 1);
	ASSERT_TRUE(next_event(&e));
	EXPECT_EQ(ev_cc(&e), CC_TRB);
	EXPECT_EQ(e.param, trb);
	EXPECT_EQ(ep_state(slot, 1), (uint32_t)XHCI_EP_HALTED);
	/* A buffer that runs off the end of RAM. */
	EXPECT_EQ(command(0, TRB_TYPE(TRB_RESET_EP) | TRB_SLOT(slot) | TRB_EP(1), NULL),
		  CC_SUCCESS);
	ring_init(&ep0[slot], EP0_RING(slot), RING_TRBS);
	EXPECT_EQ(command(EP0_RING(slot) | 1, TRB_TYPE(TRB_SET_TR_DEQ) | TRB_SLOT(slot) |
			  TRB_EP(1), NULL), CC_SUCCESS);
	ring_put(&ep0[slot], setup_param(0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, 18),
		 8, TRB_TYPE(TRB_SETUP) | TRB_IDT | 3u << 16);
	ring_put(&ep0[slot], RAM - 4, 18, TRB_TYPE(TRB_DATA) | TRB_DIR_IN);
	ring_put(&ep0[slot], 0, 0, TRB_TYPE(TRB_STATUS) | TRB_IOC);
	wr32(XHCI_DB + 4 * slot, 1);
	ASSERT_TRUE(next_event(&e));
	EXPECT_EQ(ev_cc(&e), CC_TRB);
	/* A transfer ring outside RAM. */
	EXPECT_EQ(command(0, TRB_TYPE(TRB_RESET_EP) | TRB_SLOT(slot) | TRB_EP(1), NULL),
		  CC_SUCCESS);
	EXPECT_EQ(command(BAD | 1, TRB_TYPE(TRB_SET_TR_DEQ) | TRB_SLOT(slot) | TRB_EP(1), NULL),
		  CC_SUCCESS);
	wr32(XHCI_DB + 4 * slot, 1);
	ASSERT_TRUE(next_event(&e));
	EXPECT_EQ(ev_type(&e), TRB_TRANSFER_EVENT);
	EXPECT_EQ(ev_cc(&e), CC_TRB);
	EXPECT_EQ(e.param, BAD);
	/* A ring of Link TRBs pointing at themselves. */
	EXPECT_EQ(command(0, TRB_TYPE(TRB_RESET_EP) | TRB_SLOT(slot) | TRB_EP(1), NULL),
		  CC_SUCCESS);
	put_trb(BUF, BUF, 0, TRB_TYPE(TRB_LINK) | TRB_C);
	EXPECT_EQ(command(BUF | 1, TRB_TYPE(TRB_SET_TR_DEQ) | TRB_SLOT(slot) | TRB_EP(1), NULL),
		  CC_SUCCESS);
	wr32(XHCI_DB + 4 * slot, 1);
	ASSERT_TRUE(next_event(&e));
	EXPECT_EQ(ev_cc(&e), CC_TRB);
	/* Input contexts and device contexts outside RAM. */
	EXPECT_EQ(command(0, TRB_TYPE(TRB_ENABLE_SLOT), &slot2), CC_SUCCESS);
	EXPECT_EQ(command(BAD, TRB_TYPE(TRB_ADDRESS_DEVICE) | TRB_SLOT(slot2), NULL), CC_TRB);
	input_for_address(slot2, 2);
	reset_port(2);
	put64(ram + DCBAA + 8 * slot2, BAD);
	EXPECT_EQ(command(IN_CTX, TRB_TYPE(TRB_ADDRESS_DEVICE) | TRB_SLOT(slot2), NULL), CC_TRB);
	put64(ram + DCBAA + 8 * slot2, RAM - 512);
	EXPECT_EQ(command(IN_CTX, TRB_TYPE(TRB_ADDRESS_DEVICE) | TRB_SLOT(slot2), NULL), CC_TRB);
	EXPECT_EQ(command(RAM - 64, TRB_TYPE(TRB_CONFIGURE_EP) | TRB_SLOT(slot), NULL), CC_TRB);
	/* A port with nothing on it. */
	put64(ram + DCBAA + 8 * slot2, OUT_CTX(slot2));
	put32(ram + IN_CTX + 32 + 4, 3u << 16);
	EXPECT_EQ(command(IN_CTX, TRB_TYPE(TRB_ADDRESS_DEVICE) | TRB_SLOT(slot2), NULL), CC_TRB);
	/* Command ring outside RAM: Host System Error, halted. */
	wr32(XHCI_OP + XHCI_USBCMD, 0);
	wr64(XHCI_OP + XHCI_CRCR, BAD | 1);
	wr32(XHCI_OP + XHCI_USBCMD, XHCI_CMD_RS);
	wr32(XHCI_DB, 0);
	EXPECT_EQ(op(XHCI_USBSTS) & (XHCI_STS_HSE | XHCI_STS_HCH), XHCI_STS_HSE | XHCI_STS_HCH);
	/* Reset recovers; then an ERST outside RAM is a Host System Error too. */
	start();
	EXPECT_EQ(op(XHCI_USBSTS) & XHCI_STS_HSE, 0u);
	drain_events();
	wr64(XHCI_RT + XHCI_ERSTBA, BAD);
	ring_put(&cmd, 0, 0, TRB_TYPE(TRB_NOOP_CMD));
	wr32(XHCI_DB, 0);
	EXPECT_NE(op(XHCI_USBSTS) & XHCI_STS_HSE, 0u);
	/* Odd register accesses are ignored. */
	{
		uint8_t b[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

		xhci_mmio(&xc, XHCI_BAR_SIZE - 2, b, 4, false);
		EXPECT_EQ(b[0], 0);
		xhci_mmio(&xc, XHCI_OP + 1, b, 2, true);
		xhci_mmio(&xc, XHCI_BAR_SIZE, b, 4, true);
	}
}

TEST(event_ring_full)
{
	struct event e;
	unsigned int i, n = 0, full = 0;

	setup();
	start();
	drain_events();
	/* Do not consume: 40 commands into a 32-entry ring. */
	for (i = 0; i < 40; i++) {
		ring_put(&cmd, 0, 0, TRB_TYPE(TRB_NOOP_CMD));
		wr32(XHCI_DB, 0);
	}
	while (next_event(&e)) {
		n++;
		if (ev_type(&e) == TRB_HC_EVENT && ev_cc(&e) == CC_EVENT_RING_FULL)
			full++;
	}
	EXPECT_EQ(n, (unsigned int)EV_TRBS);	/* 31 completions and the error */
	EXPECT_EQ(full, 1u);
	/* Once consumed, events flow again. */
	EXPECT_EQ(command(0, TRB_TYPE(TRB_NOOP_CMD), NULL), CC_SUCCESS);
}

TEST_HARNESS_MAIN
