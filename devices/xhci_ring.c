// SPDX-License-Identifier: GPL-2.0
/*
 * The xHCI controller's rings (see xhci.h): device and endpoint contexts,
 * transfer rings and the command ring.  Section numbers are the xHCI
 * spec's (rev 1.1).  Registers, interrupts, the event ring and the root
 * ports are in xhci.c.
 */
#include <string.h>

#include "xhci_priv.h"

#define MAX_LINKS		8	/* Link TRBs in a row before the ring is called broken */
#define TD_MAX_TRBS		64
#define CMD_BUDGET		256	/* commands per doorbell */
#define TD_BUDGET		256	/* TDs per endpoint doorbell */

struct trb {
	uint64_t param;
	uint32_t status, control;
	uint64_t addr;		/* where it was read */
};

static int read_trb(struct xhci *x, uint64_t a, struct trb *t)
{
	const uint8_t *p = (a & 15) ? NULL : xhci_gpa(x, a, 16);

	if (!p)
		return -1;
	t->param = xhci_get64(p);
	t->status = get32(p + 4 * 2);
	t->control = get32(p + 4 * 3);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	t->addr = a;
	return 0;
}

/* Dword @i of the context at @ctx, or NULL if not RAM. */
static uint8_t *ctx_dw(struct xhci *x, uint64_t ctx, unsigned int i)
{
	return ctx ? xhci_gpa(x, ctx + 4 * i, 4) : NULL;
}

static void ctx_put(struct xhci *x, uint64_t ctx, unsigned int i, uint32_t v)
{
	uint8_t *p = ctx_dw(x, ctx, i);

	if (p)
		put32(p, v);
}

static void cmd_event(struct xhci *x, uint64_t trb, unsigned int cc, unsigned int slot)
{
	xhci_post_event(x, trb, (uint32_t)cc << 24, TRB_TYPE(TRB_CMD_COMPLETION) | TRB_SLOT(slot),
			true);
}

static void xfer_event(struct xhci *x, uint64_t trb, unsigned int cc, uint32_t residual,
		       unsigned int slot, unsigned int dci, bool ed, bool irq)
{
	xhci_post_event(x, trb, (uint32_t)cc << 24 | (residual & 0xffffff),
			TRB_TYPE(TRB_TRANSFER_EVENT) | TRB_SLOT(slot) | TRB_EP(dci) |
			(ed ? TRB_ED : 0), irq);
}

/* ---- contexts ---------------------------------------------------------------- */

static struct xhci_slot *get_slot(struct xhci *x, unsigned int id)
{
	unsigned int max = x->config & 0xff;

	if (id == 0 || id > XHCI_SLOTS || id > max || !x->slot[id].enabled)
		return NULL;
	return &x->slot[id];
}

static struct usb_dev *slot_dev(struct xhci *x, struct xhci_slot *s)
{
	struct xhci_port *p;

	if (!s->port)
		return NULL;
	p = &x->port[s->port - 1];
	return (p->portsc & XHCI_PORTSC_PED) ? p->dev : NULL;
}

/* Write the slot state (and device address) into the output context. */
static void slot_sync(struct xhci *x, unsigned int id)
{
	struct xhci_slot *s = &x->slot[id];
	struct usb_dev *d = slot_dev(x, s);

	ctx_put(x, s->ctx, 3, (uint32_t)s->state << 27 |
		(s->state >= XHCI_SLOT_ADDRESSED && d ? d->addr : 0));
}

/* Write an endpoint's state and dequeue pointer into the output context. */
static void ep_sync(struct xhci *x, unsigned int id, unsigned int dci)
{
	struct xhci_slot *s = &x->slot[id];
	struct xhci_ep *ep = &s->ep[dci];
	uint64_t c = s->ctx ? s->ctx + CTX_SIZE * dci : 0;
	uint8_t *p = ctx_dw(x, c, 0);

	if (p)
		put32(p, (get32(p) & ~7u) | ep->state);
	ctx_put(x, c, 2, (uint32_t)ep->deq | ep->ccs);
	ctx_put(x, c, 3, ep->deq >> 32);
}

static void ep_halt(struct xhci *x, unsigned int id, unsigned int dci)
{
	x->slot[id].ep[dci].state = XHCI_EP_HALTED;
	x->slot[id].ep[dci].pending = false;
	ep_sync(x, id, dci);
}

/* Take the endpoint context at @c as endpoint @dci's new state. */
static void ep_load(struct xhci_ep *ep, const uint8_t *c)
{
	uint64_t deq = xhci_get64(c + 8);

	memset(ep, 0, sizeof(*ep));
	ep->state = XHCI_EP_RUNNING;
	ep->type = (get32(c + 4) >> 3) & 7;
	ep->deq = deq & ~15ULL;
	ep->ccs = deq & 1;
}

/* ---- transfer rings (4.9.2, 4.11) -------------------------------------------- */

/*
 * The next TRB of a ring from *deq with cycle *ccs, following Link TRBs:
 * 1 (in *t; *deq and *ccs point past the links), 0 when the ring is empty
 * there, -1 when it is not RAM or links go round.
 */
static int ring_fetch(struct xhci *x, uint64_t *deq, bool *ccs, struct trb *t)
{
	unsigned int links;

	for (links = 0; links <= MAX_LINKS; links++) {
		if (read_trb(x, *deq, t) < 0)
			return -1;
		if (!(t->control & TRB_C) != !*ccs)
			return 0;
		if (TRB_GET_TYPE(t->control) != TRB_LINK)
			return 1;
		if (t->control & TRB_TC)
			*ccs = !*ccs;
		*deq = t->param & ~15ULL;
	}
	return -1;
}

struct td {
	unsigned int n;
	struct trb trb[TD_MAX_TRBS];
	uint64_t end;		/* dequeue pointer after the TD */
	bool end_ccs;
};

/*
 * Gather TRBs from @deq: @chain: while CH is set (a TD); otherwise one.
 * 1 when complete, 0 when the ring ends first, -1 on a broken ring
 * (err_at: where).
 */
static int td_gather(struct xhci *x, struct td *td, uint64_t deq, bool ccs, bool chain,
		     uint64_t *err_at)
{
	for (;;) {
		struct trb *t;
		int r;

		if (td->n == TD_MAX_TRBS) {
			*err_at = deq;
			return -1;
		}
		t = &td->trb[td->n];
		r = ring_fetch(x, &deq, &ccs, t);
		if (r <= 0) {
			*err_at = deq;
			return r;
		}
		td->n++;
		deq += 16;
		td->end = deq;
		td->end_ccs = ccs;
		if (!chain || !(t->control & TRB_CH))
			return 1;
	}
}

static uint32_t trb_len(const struct trb *t)
{
	return t->status & 0x1ffff;
}

/*
 * Move @len bytes between x->buf (from @off) and the buffers of TRBs
 * [first, last) of @td; IN: into the guest.  Returns the TRB that points
 * outside RAM (or has IDT on IN), or -1.
 */
static int td_copy(struct xhci *x, struct td *td, unsigned int first, unsigned int last,
		   uint32_t len, bool in)
{
	uint32_t off = 0;
	unsigned int i;

	for (i = first; i < last && off < len; i++) {
		struct trb *t = &td->trb[i];
		unsigned int type = TRB_GET_TYPE(t->control);
		uint32_t n = trb_len(t);

		if (type != TRB_NORMAL && type != TRB_DATA)
			continue;
		if (n > len - off)
			n = len - off;
		if (t->control & TRB_IDT) {
			uint8_t imm[8];

			if (in || n > 8)
				return i;
			put64(imm, t->param);
			memcpy(x->buf + off, imm, n);
		} else if (xhci_dma(x, t->param, x->buf + off, n, in) < 0) {
			return i;
		}
		off += n;
	}
	return -1;
}

/*
 * Events for TRBs [first, last) of a TD that moved @done bytes (4.10.1.1):
 * Success on IOC, Short Packet where the data ran out (if ISP or IOC, else
 * on the last TRB if it has IOC), Event Data TRBs with the bytes so far.
 * Returns false if it stopped early at a short packet.
 */
static bool td_events(struct xhci *x, struct td *td, unsigned int first, unsigned int last,
		      uint32_t done, unsigned int id, unsigned int dci)
{
	uint32_t left = done, edtla = 0;
	unsigned int i;

	for (i = first; i < last; i++) {
		struct trb *t = &td->trb[i];
		unsigned int type = TRB_GET_TYPE(t->control);
		bool irq = !(t->control & TRB_BEI);
		uint32_t n, got;

		if (type == TRB_EVENT_DATA) {
			if (t->control & TRB_IOC)
				xfer_event(x, t->param, CC_SUCCESS, edtla, id, dci, true, irq);
			edtla = 0;
			continue;
		}
		if (type != TRB_NORMAL && type != TRB_DATA) {
			if (t->control & TRB_IOC)
				xfer_event(x, t->addr, CC_SUCCESS, 0, id, dci, false, irq);
			continue;
		}
		n = trb_len(t);
		got = n < left ? n : left;
		left -= got;
		edtla += got;
		if (got < n) {
			struct trb *l = &td->trb[last - 1];

			if (t->control & (TRB_ISP | TRB_IOC))
				xfer_event(x, t->addr, CC_SHORT_PACKET, n - got, id, dci, false,
					   irq);
			else if (l->control & TRB_IOC)
				xfer_event(x, l->addr, CC_SHORT_PACKET,
					   TRB_GET_TYPE(l->control) == TRB_NORMAL ? trb_len(l) : 0,
					   id, dci, false, !(l->control & TRB_BEI));
			return false;
		}
		if (t->control & TRB_IOC)
			xfer_event(x, t->addr, CC_SUCCESS, 0, id, dci, false, irq);
	}
	return true;
}

static void td_fail(struct xhci *x, uint64_t at, unsigned int cc, unsigned int id,
		    unsigned int dci)
{
	xfer_event(x, at, cc, 0, id, dci, false, true);
	ep_halt(x, id, dci);
}

/* A control request, with SET_ADDRESS answered here. */
static int dev_control(struct usb_dev *d, const struct usb_setup *s, uint8_t *buf,
		       uint32_t len)
{
	if (s->type == (USB_TYPE_STANDARD | USB_RECIP_DEVICE) && s->req == USB_REQ_SET_ADDRESS) {
		if (s->value > 127)
			return USB_RET_STALL;
		d->addr = s->value;
		return 0;
	}
	return d->ops->control(d, s, buf, len);
}

/*
 * One control transfer (4.11.2.2): Setup TRB, optional Data Stage (a Data
 * TRB and chained Normal TRBs), Status TRB; all must be on the ring before
 * any runs.  Returns 1 done, 0 wait, -1 the endpoint halted.
 */
static int control_td(struct xhci *x, unsigned int id, struct td *td)
{
	struct xhci_ep *ep = &x->slot[id].ep[1];
	struct usb_dev *d = slot_dev(x, &x->slot[id]);
	struct trb *setup = &td->trb[0];
	unsigned int data_end, status, i;
	uint32_t dlen = 0, len;
	struct usb_setup s;
	uint64_t err_at;
	int r, bad;

	td->n = 0;
	r = td_gather(x, td, ep->deq, ep->ccs, false, &err_at);
	if (r <= 0)
		goto gather_err;
	if (TRB_GET_TYPE(setup->control) != TRB_SETUP || !(setup->control & TRB_IDT) ||
	    trb_len(setup) != 8) {
		td_fail(x, setup->addr, CC_TRB, id, 1);
		return -1;
	}
	/* The data stage (a Data TRB, then Normal or Event Data TRBs), then the status stage. */
	for (;;) {
		struct trb *t;
		unsigned int type;

		r = td_gather(x, td, td->end, td->end_ccs, false, &err_at);
		if (r <= 0)
			goto gather_err;
		t = &td->trb[td->n - 1];
		type = TRB_GET_TYPE(t->control);
		if (type == TRB_STATUS)
			break;
		if (type == TRB_DATA ? td->n != 2 :
		    (td->n == 2 || (type != TRB_NORMAL && type != TRB_EVENT_DATA))) {
			td_fail(x, t->addr, CC_TRB, id, 1);
			return -1;
		}
	}
	status = td->n - 1;
	data_end = status;
	for (i = 1; i < data_end; i++)
		if (TRB_GET_TYPE(td->trb[i].control) != TRB_EVENT_DATA)
			dlen += trb_len(&td->trb[i]);

	s.type = setup->param;
	s.req = setup->param >> 8;
	s.value = setup->param >> 16;
	s.index = setup->param >> 32;
	s.length = setup->param >> 48;
	len = s.length < dlen ? s.length : dlen;
	if (len > XHCI_XFER_MAX)
		len = XHCI_XFER_MAX;

	if (setup->control & TRB_IOC)
		xfer_event(x, setup->addr, CC_SUCCESS, 0, id, 1, false, true);
	if (!d) {
		td_fail(x, td->trb[data_end > 1 ? 1 : status].addr, CC_TRANSACTION, id, 1);
		return -1;
	}
	memset(x->buf, 0, len);
	if (!(s.type & USB_DIR_IN)) {
		bad = td_copy(x, td, 1, data_end, len, false);
		if (bad >= 0) {
			td_fail(x, td->trb[bad].addr, CC_TRB, id, 1);
			return -1;
		}
	}
	r = dev_control(d, &s, x->buf, len);
	if (r < 0 || (uint32_t)r > len) {
		td_fail(x, td->trb[data_end > 1 ? 1 : status].addr, CC_STALL, id, 1);
		return -1;
	}
	if (s.type & USB_DIR_IN) {
		bad = td_copy(x, td, 1, data_end, r, true);
		if (bad >= 0) {
			td_fail(x, td->trb[bad].addr, CC_TRB, id, 1);
			return -1;
		}
	} else {
		r = len;
	}
	/* A short data stage still goes on to the status stage (4.10.1.1.1). */
	td_events(x, td, 1, data_end, r, id, 1);
	if (td->trb[status].control & TRB_IOC)
		xfer_event(x, td->trb[status].addr, CC_SUCCESS, 0, id, 1, false,
			   !(td->trb[status].control & TRB_BEI));
	ep->deq = td->end;
	ep->ccs = td->end_ccs;
	return 1;

gather_err:
	if (r == 0)
		return 0;
	td_fail(x, err_at, CC_TRB, id, 1);
	return -1;
}

/* One TD on a bulk or interrupt endpoint: 1 done, 0 wait, -1 halted. */
static int normal_td(struct xhci *x, unsigned int id, unsigned int dci, struct td *td)
{
	struct xhci_ep *ep = &x->slot[id].ep[dci];
	struct usb_dev *d = slot_dev(x, &x->slot[id]);
	bool in = dci & 1;
	uint32_t total = 0, len;
	uint64_t err_at;
	unsigned int i;
	int r, bad;

	td->n = 0;
	r = td_gather(x, td, ep->deq, ep->ccs, true, &err_at);
	if (r == 0)
		return 0;
	if (r < 0) {
		td_fail(x, err_at, CC_TRB, id, dci);
		return -1;
	}
	for (i = 0; i < td->n; i++) {
		unsigned int type = TRB_GET_TYPE(td->trb[i].control);

		if (type == TRB_NORMAL) {
			total += trb_len(&td->trb[i]);
		} else if (type != TRB_EVENT_DATA && type != TRB_NOOP) {
			td_fail(x, td->trb[i].addr, CC_TRB, id, dci);
			return -1;
		}
	}
	len = total < XHCI_XFER_MAX ? total : XHCI_XFER_MAX;
	if (!d) {
		td_fail(x, td->trb[0].addr, CC_TRANSACTION, id, dci);
		return -1;
	}
	if (!in) {
		bad = td_copy(x, td, 0, td->n, len, false);
		if (bad >= 0) {
			td_fail(x, td->trb[bad].addr, CC_TRB, id, dci);
			return -1;
		}
	}
	r = total ? d->ops->data(d, dci / 2, in, x->buf, len) : 0;
	if (r == USB_RET_NAK) {
		ep->pending = true;
		return 0;
	}
	ep->pending = false;
	if (r < 0 || (uint32_t)r > len) {
		td_fail(x, td->trb[0].addr, r == USB_RET_STALL ? CC_STALL : CC_BABBLE, id, dci);
		return -1;
	}
	if (in) {
		bad = td_copy(x, td, 0, td->n, r, true);
		if (bad >= 0) {
			td_fail(x, td->trb[bad].addr, CC_TRB, id, dci);
			return -1;
		}
	}
	td_events(x, td, 0, td->n, r, id, dci);
	ep->deq = td->end;
	ep->ccs = td->end_ccs;
	return 1;
}

static void ep_run(struct xhci *x, unsigned int id, unsigned int dci)
{
	struct xhci_slot *s = &x->slot[id];
	unsigned int budget;
	struct td td;

	for (budget = 0; budget < TD_BUDGET; budget++) {
		int r;

		if (!xhci_running(x) || !s->enabled || s->ep[dci].state != XHCI_EP_RUNNING)
			return;
		if (dci == 1)
			r = control_td(x, id, &td);
		else
			r = normal_td(x, id, dci, &td);
		if (r <= 0)
			return;
	}
}

void xhci_ep_doorbell(struct xhci *x, unsigned int id, uint32_t v)
{
	struct xhci_slot *s = get_slot(x, id);
	unsigned int dci = v & 0xff;
	struct xhci_ep *ep;

	if (!s || dci < 1 || dci > 31 || s->state < XHCI_SLOT_DEFAULT)
		return;
	ep = &s->ep[dci];
	if (ep->state == XHCI_EP_STOPPED) {
		ep->state = XHCI_EP_RUNNING;
		ep_sync(x, id, dci);
	}
	ep_run(x, id, dci);
}

/* A device on @host has IN data for endpoint @epn: retry its pending TD. */
void xhci_wakeup(void *host, struct usb_dev *d, unsigned int epn)
{
	struct xhci *x = host;
	unsigned int id, dci = 2 * epn + 1;

	if (epn < 1 || epn > 15)
		return;
	for (id = 1; id <= XHCI_SLOTS; id++) {
		struct xhci_slot *s = &x->slot[id];

		if (s->enabled && s->state >= XHCI_SLOT_ADDRESSED && slot_dev(x, s) == d &&
		    s->ep[dci].state == XHCI_EP_RUNNING)
			ep_run(x, id, dci);
	}
}

/* ---- commands (4.6) ------------------------------------------------------------ */

static unsigned int cmd_enable_slot(struct xhci *x, unsigned int *id)
{
	unsigned int i, max = x->config & 0xff;

	for (i = 1; i <= XHCI_SLOTS && i <= max; i++) {
		if (!x->slot[i].enabled) {
			memset(&x->slot[i], 0, sizeof(x->slot[i]));
			x->slot[i].enabled = true;
			x->slot[i].state = XHCI_SLOT_ENABLED;
			*id = i;
			return CC_SUCCESS;
		}
	}
	return CC_NO_SLOTS;
}

/*
 * Copy the input context at @a into @buf: control, slot and the first
 * @neps endpoint contexts; 0, or -1 if not RAM.  A copy, so that the guest
 * cannot change it while it is checked, and the output context may overlap it.
 */
static int input_ctx(struct xhci *x, uint64_t a, unsigned int neps, uint8_t *buf)
{
	if (a & 15)
		return -1;
	return xhci_dma(x, a, buf, CTX_SIZE * (2 + neps), false);
}

static unsigned int cmd_address_device(struct xhci *x, const struct trb *t, unsigned int id)
{
	struct xhci_slot *s = &x->slot[id];
	bool bsr = t->control & TRB_BSR;
	uint8_t in[3 * CTX_SIZE];
	const uint8_t *dcbaa;
	uint8_t *out;
	unsigned int port;
	uint64_t ctx;
	struct usb_dev *d;

	if (input_ctx(x, t->param, 1, in) < 0)
		return CC_TRB;
	if ((get32(in + 4) & 3) != 3)
		return CC_PARAMETER;
	if (s->state > XHCI_SLOT_DEFAULT || (bsr && s->state != XHCI_SLOT_ENABLED))
		return CC_CONTEXT_STATE;
	port = (get32(in + CTX_SIZE + 4) >> 16) & 0xff;
	if (port < 1 || port > XHCI_PORTS || !x->port[port - 1].dev ||
	    !(x->port[port - 1].portsc & XHCI_PORTSC_PED))
		return CC_TRB;
	dcbaa = xhci_gpa(x, (x->dcbaap & ~63ULL) + 8 * id, 8);
	if (!dcbaa)
		return CC_TRB;
	ctx = xhci_get64(dcbaa) & ~63ULL;
	out = ctx ? xhci_gpa(x, ctx, DEV_CTX_SIZE) : NULL;
	if (!out)
		return CC_TRB;
	d = x->port[port - 1].dev;
	s->port = port;
	s->ctx = ctx;
	s->state = bsr ? XHCI_SLOT_DEFAULT : XHCI_SLOT_ADDRESSED;
	d->addr = bsr ? 0 : id;
	memcpy(out, in + CTX_SIZE, 2 * CTX_SIZE);	/* slot and EP0 */
	ep_load(&s->ep[1], in + 2 * CTX_SIZE);
	slot_sync(x, id);
	ep_sync(x, id, 1);
	return CC_SUCCESS;
}

static unsigned int cmd_evaluate_ctx(struct xhci *x, const struct trb *t, unsigned int id)
{
	struct xhci_slot *s = &x->slot[id];
	uint8_t in[3 * CTX_SIZE];
	uint32_t add;
	uint8_t *o;

	if (input_ctx(x, t->param, 1, in) < 0)
		return CC_TRB;
	if (s->state < XHCI_SLOT_DEFAULT)
		return CC_CONTEXT_STATE;
	add = get32(in + 4);
	if (add & 1) {		/* max exit latency, interrupter target */
		o = ctx_dw(x, s->ctx, 1);
		if (o)
			put32(o, (get32(o) & ~0xffffu) | (get32(in + CTX_SIZE + 4) & 0xffff));
		o = ctx_dw(x, s->ctx, 2);
		if (o)
			put32(o, (get32(o) & 0x3fffff) | (get32(in + CTX_SIZE + 8) & ~0x3fffffu));
	}
	if (add & 2) {		/* EP0's max packet size */
		o = ctx_dw(x, s->ctx + CTX_SIZE, 1);
		if (o)
			put32(o, (get32(o) & 0xffff) | (get32(in + 2 * CTX_SIZE + 4) &
							 0xffff0000u));
	}
	return CC_SUCCESS;
}

static void slot_deconfigure(struct xhci *x, unsigned int id)
{
	unsigned int dci;

	for (dci = 2; dci < 32; dci++) {
		if (x->slot[id].ep[dci].state != XHCI_EP_DISABLED) {
			memset(&x->slot[id].ep[dci], 0, sizeof(struct xhci_ep));
			ep_sync(x, id, dci);
		}
	}
}

static unsigned int cmd_configure_ep(struct xhci *x, const struct trb *t, unsigned int id)
{
	struct xhci_slot *s = &x->slot[id];
	uint8_t in[IN_CTX_SIZE];
	uint8_t *out;
	uint32_t drop, add;
	unsigned int dci;
	bool any = false;

	if (s->state < XHCI_SLOT_ADDRESSED)
		return CC_CONTEXT_STATE;
	if (t->control & TRB_DC) {
		slot_deconfigure(x, id);
		s->state = XHCI_SLOT_ADDRESSED;
		slot_sync(x, id);
		return CC_SUCCESS;
	}
	if (input_ctx(x, t->param, 31, in) < 0)
		return CC_TRB;
	drop = get32(in) & ~3u;
	add = get32(in + 4);
	for (dci = 2; dci < 32; dci++) {
		const uint8_t *c = in + CTX_SIZE * (dci + 1);

		if ((add & (1u << dci)) && !((get32(c + 4) >> 3) & 7))
			return CC_PARAMETER;	/* "not valid" endpoint type */
	}
	out = s->ctx ? xhci_gpa(x, s->ctx, DEV_CTX_SIZE) : NULL;
	if (!out)
		return CC_TRB;
	for (dci = 2; dci < 32; dci++) {
		if (drop & (1u << dci)) {
			memset(&s->ep[dci], 0, sizeof(s->ep[dci]));
			ep_sync(x, id, dci);
		}
	}
	for (dci = 2; dci < 32; dci++) {
		const uint8_t *c = in + CTX_SIZE * (dci + 1);

		if (add & (1u << dci)) {
			memcpy(out + CTX_SIZE * dci, c, CTX_SIZE);
			ep_load(&s->ep[dci], c);
			ep_sync(x, id, dci);
		}
		any |= s->ep[dci].state != XHCI_EP_DISABLED;
	}
	if (add & 1) {		/* context entries */
		uint8_t *o = ctx_dw(x, s->ctx, 0);

		if (o)
			put32(o, (get32(o) & 0x07ffffff) | (get32(in + CTX_SIZE) & 0xf8000000u));
	}
	s->state = any ? XHCI_SLOT_CONFIGURED : XHCI_SLOT_ADDRESSED;
	slot_sync(x, id);
	return CC_SUCCESS;
}

/* The TRB at an endpoint's dequeue pointer, for a Stopped event; false if none. */
static bool ep_current(struct xhci *x, struct xhci_ep *ep, struct trb *t)
{
	uint64_t deq = ep->deq;
	bool ccs = ep->ccs;

	return ring_fetch(x, &deq, &ccs, t) == 1;
}

static unsigned int cmd_endpoint(struct xhci *x, const struct trb *t, unsigned int id)
{
	unsigned int type = TRB_GET_TYPE(t->control), dci = (t->control >> 16) & 0x1f;
	struct xhci_ep *ep = &x->slot[id].ep[dci];
	struct trb cur;

	if (dci < 1 || ep->state == XHCI_EP_DISABLED)
		return CC_CONTEXT_STATE;
	switch (type) {
	case TRB_STOP_EP:
		if (ep->state != XHCI_EP_RUNNING)
			return CC_CONTEXT_STATE;
		if (ep->pending && ep_current(x, ep, &cur))
			xfer_event(x, cur.addr, CC_STOPPED, trb_len(&cur), id, dci, false, true);
		ep->state = XHCI_EP_STOPPED;
		ep->pending = false;
		break;
	case TRB_RESET_EP:
		if (ep->state != XHCI_EP_HALTED)
			return CC_CONTEXT_STATE;
		ep->state = XHCI_EP_STOPPED;
		break;
	default:	/* TRB_SET_TR_DEQ */
		if (ep->state != XHCI_EP_STOPPED && ep->state != XHCI_EP_ERROR)
			return CC_CONTEXT_STATE;
		ep->deq = t->param & ~15ULL;
		ep->ccs = t->param & 1;
		ep->pending = false;
		break;
	}
	ep_sync(x, id, dci);
	return CC_SUCCESS;
}

static unsigned int cmd_reset_device(struct xhci *x, unsigned int id)
{
	struct xhci_slot *s = &x->slot[id];
	struct usb_dev *d = slot_dev(x, s);

	if (s->state < XHCI_SLOT_ADDRESSED)
		return CC_CONTEXT_STATE;
	slot_deconfigure(x, id);
	s->state = XHCI_SLOT_DEFAULT;
	if (d)
		d->addr = 0;
	slot_sync(x, id);
	return CC_SUCCESS;
}

static void run_command(struct xhci *x, const struct trb *t)
{
	unsigned int type = TRB_GET_TYPE(t->control), id = t->control >> 24, cc;

	switch (type) {
	case TRB_ENABLE_SLOT:
		id = 0;
		cc = cmd_enable_slot(x, &id);
		break;
	case TRB_NOOP_CMD:
		id = 0;
		cc = CC_SUCCESS;
		break;
	case TRB_DISABLE_SLOT:
	case TRB_ADDRESS_DEVICE:
	case TRB_CONFIGURE_EP:
	case TRB_EVALUATE_CTX:
	case TRB_RESET_EP:
	case TRB_STOP_EP:
	case TRB_SET_TR_DEQ:
	case TRB_RESET_DEVICE:
		if (!get_slot(x, id)) {
			cc = CC_SLOT_NOT_ENABLED;
			break;
		}
		if (type == TRB_DISABLE_SLOT) {
			memset(&x->slot[id], 0, sizeof(x->slot[id]));
			cc = CC_SUCCESS;
		} else if (type == TRB_ADDRESS_DEVICE) {
			cc = cmd_address_device(x, t, id);
		} else if (type == TRB_CONFIGURE_EP) {
			cc = cmd_configure_ep(x, t, id);
		} else if (type == TRB_EVALUATE_CTX) {
			cc = cmd_evaluate_ctx(x, t, id);
		} else if (type == TRB_RESET_DEVICE) {
			cc = cmd_reset_device(x, id);
		} else {
			cc = cmd_endpoint(x, t, id);
		}
		break;
	default:
		id = 0;
		cc = CC_TRB;
		break;
	}
	cmd_event(x, t->addr, cc, id);
}

void xhci_cmd_doorbell(struct xhci *x)
{
	unsigned int n;

	if (!xhci_running(x))
		return;
	x->crr = true;
	for (n = 0; n < CMD_BUDGET && x->crr && xhci_running(x); n++) {
		struct trb t;
		int r = ring_fetch(x, &x->cmd_deq, &x->cmd_ccs, &t);

		if (r == 0)
			return;
		if (r < 0) {
			xhci_host_error(x);
			return;
		}
		x->cmd_deq += 16;
		run_command(x, &t);
	}
}
