/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An xHCI 1.0 USB host controller (Intel's eXtensible Host Controller
 * Interface specification, rev 1.1) as a PCI function: qemu-xhci's
 * 1b36:000d, class 0c0330, one 64-bit memory BAR 0 holding the
 * capability, operational, runtime and doorbell registers, the MSI-X
 * table and PBA; MSI-X, MSI and INTx (the guest picks).
 *
 * Four USB 2 root ports (1-4) and four USB 3 ports (5-8), 16 device
 * slots, one interrupter, 32-byte contexts, no scratchpad, no streams,
 * no isochronous transfers.  Commands run when the command doorbell is
 * rung; transfers when an endpoint's doorbell is rung, and IN transfers
 * the device has nothing for stay pending until it calls usb_wakeup().
 *
 * Everything the guest controls is checked: ring, context, ERST and data
 * buffer addresses go through struct vmem (NULL: not RAM), so a bad
 * transfer buffer or ring halts that endpoint with a TRB Error event, a
 * bad input context fails the command, and an unreadable command ring or
 * unwritable event ring stops the controller with Host System Error.
 * Walks are bounded (links in a row, TRBs per TD, TDs per doorbell).
 *
 * No KVM in here: the VM supplies guest memory and interrupt delivery.
 * Locking: x->lock guards everything; PCI callbacks take it (config ones
 * under the bus lock), and USB devices take it through dev->lock.
 */
#ifndef KVL_DEVICES_XHCI_H
#define KVL_DEVICES_XHCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "pci.h"
#include "usb.h"
#include "virtq.h"

#define XHCI_PORTS_USB2		4
#define XHCI_PORTS_USB3		4
#define XHCI_PORTS		(XHCI_PORTS_USB2 + XHCI_PORTS_USB3)
#define XHCI_SLOTS		16
#define XHCI_ERST_MAX		16	/* ERSTSZ up to 2^ERST Max */
#define XHCI_XFER_MAX		65536	/* bytes handed to a device per TD */

/* BAR 0 layout */
#define XHCI_BAR_SIZE		0x4000
#define XHCI_CAPLENGTH		0x40
#define XHCI_OP			0x0040	/* operational registers */
#define XHCI_PORTREGS		(XHCI_OP + 0x400)
#define XHCI_XECP		0x0500	/* extended capabilities */
#define XHCI_RT			0x1000	/* runtime registers */
#define XHCI_DB			0x2000	/* doorbells */
#define XHCI_MSIX_TABLE		0x3000
#define XHCI_MSIX_PBA		0x3800

/* Capability registers */
#define XHCI_HCSPARAMS1		0x04
#define XHCI_HCSPARAMS2		0x08
#define XHCI_HCSPARAMS3		0x0c
#define XHCI_HCCPARAMS1		0x10
#define XHCI_DBOFF		0x14
#define XHCI_RTSOFF		0x18
#define XHCI_HCCPARAMS2		0x1c

/* Operational registers (from XHCI_OP) */
#define XHCI_USBCMD		0x00
#define XHCI_USBSTS		0x04
#define XHCI_PAGESIZE		0x08
#define XHCI_DNCTRL		0x14
#define XHCI_CRCR		0x18
#define XHCI_DCBAAP		0x30
#define XHCI_CONFIG		0x38

#define XHCI_CMD_RS		(1u << 0)
#define XHCI_CMD_HCRST		(1u << 1)
#define XHCI_CMD_INTE		(1u << 2)
#define XHCI_CMD_HSEE		(1u << 3)

#define XHCI_STS_HCH		(1u << 0)
#define XHCI_STS_HSE		(1u << 2)
#define XHCI_STS_EINT		(1u << 3)
#define XHCI_STS_PCD		(1u << 4)
#define XHCI_STS_CNR		(1u << 11)

#define XHCI_CRCR_RCS		(1u << 0)
#define XHCI_CRCR_CS		(1u << 1)
#define XHCI_CRCR_CA		(1u << 2)
#define XHCI_CRCR_CRR		(1u << 3)

/* PORTSC */
#define XHCI_PORTSC_CCS		(1u << 0)
#define XHCI_PORTSC_PED		(1u << 1)
#define XHCI_PORTSC_PR		(1u << 4)
#define XHCI_PORTSC_PLS_SHIFT	5
#define XHCI_PORTSC_PLS_MASK	(0xfu << 5)
#define XHCI_PORTSC_PP		(1u << 9)
#define XHCI_PORTSC_SPEED_SHIFT	10
#define XHCI_PORTSC_LWS		(1u << 16)
#define XHCI_PORTSC_CSC		(1u << 17)
#define XHCI_PORTSC_PEC		(1u << 18)
#define XHCI_PORTSC_WRC		(1u << 19)
#define XHCI_PORTSC_OCC		(1u << 20)
#define XHCI_PORTSC_PRC		(1u << 21)
#define XHCI_PORTSC_PLC		(1u << 22)
#define XHCI_PORTSC_CEC		(1u << 23)
#define XHCI_PORTSC_CHANGE	(0x7fu << 17)
#define XHCI_PORTSC_WPR		(1u << 31)
#define XHCI_PLS_U0		0
#define XHCI_PLS_U3		3
#define XHCI_PLS_RXDETECT	5
#define XHCI_PLS_POLLING	7
#define XHCI_PLS_RESUME		15

/* Interrupter 0 (from XHCI_RT) */
#define XHCI_MFINDEX		0x00
#define XHCI_IMAN		0x20
#define XHCI_IMOD		0x24
#define XHCI_ERSTSZ		0x28
#define XHCI_ERSTBA		0x30
#define XHCI_ERDP		0x38
#define XHCI_IMAN_IP		(1u << 0)
#define XHCI_IMAN_IE		(1u << 1)
#define XHCI_ERDP_EHB		(1u << 3)

/* TRBs */
#define TRB_C			(1u << 0)
#define TRB_TC			(1u << 1)	/* Link: toggle cycle */
#define TRB_ED			(1u << 2)	/* event: Event Data */
#define TRB_ISP			(1u << 2)
#define TRB_CH			(1u << 4)
#define TRB_IOC			(1u << 5)
#define TRB_IDT			(1u << 6)
#define TRB_BSR			(1u << 9)	/* Address Device */
#define TRB_DC			(1u << 9)	/* Configure Endpoint */
#define TRB_BEI			(1u << 9)	/* Normal */
#define TRB_DIR_IN		(1u << 16)	/* Data, Status */
#define TRB_TYPE(t)		((uint32_t)(t) << 10)
#define TRB_GET_TYPE(c)		(((c) >> 10) & 0x3f)
#define TRB_SLOT(s)		((uint32_t)(s) << 24)
#define TRB_EP(e)		((uint32_t)(e) << 16)

enum xhci_trb_type {
	TRB_NORMAL = 1, TRB_SETUP, TRB_DATA, TRB_STATUS, TRB_ISOCH, TRB_LINK, TRB_EVENT_DATA,
	TRB_NOOP,
	TRB_ENABLE_SLOT = 9, TRB_DISABLE_SLOT, TRB_ADDRESS_DEVICE, TRB_CONFIGURE_EP,
	TRB_EVALUATE_CTX, TRB_RESET_EP, TRB_STOP_EP, TRB_SET_TR_DEQ, TRB_RESET_DEVICE,
	TRB_FORCE_EVENT, TRB_NEGOTIATE_BW, TRB_SET_LT, TRB_GET_BW, TRB_FORCE_HEADER,
	TRB_NOOP_CMD,
	TRB_TRANSFER_EVENT = 32, TRB_CMD_COMPLETION, TRB_PORT_STATUS, TRB_BW_REQUEST,
	TRB_DOORBELL_EVENT, TRB_HC_EVENT,
};

enum xhci_cc {
	CC_INVALID = 0, CC_SUCCESS, CC_DATA_BUFFER, CC_BABBLE, CC_TRANSACTION, CC_TRB,
	CC_STALL, CC_RESOURCE, CC_BANDWIDTH, CC_NO_SLOTS, CC_INVALID_STREAM_TYPE,
	CC_SLOT_NOT_ENABLED, CC_EP_NOT_ENABLED, CC_SHORT_PACKET, CC_RING_UNDERRUN,
	CC_RING_OVERRUN, CC_VF_EVENT_RING_FULL, CC_PARAMETER, CC_BANDWIDTH_OVERRUN,
	CC_CONTEXT_STATE, CC_NO_PING_RESPONSE, CC_EVENT_RING_FULL, CC_INCOMPATIBLE_DEVICE,
	CC_MISSED_SERVICE, CC_COMMAND_RING_STOPPED, CC_COMMAND_ABORTED, CC_STOPPED,
	CC_STOPPED_LENGTH_INVALID,
};

/* Context states */
#define XHCI_SLOT_ENABLED	0
#define XHCI_SLOT_DEFAULT	1
#define XHCI_SLOT_ADDRESSED	2
#define XHCI_SLOT_CONFIGURED	3
#define XHCI_EP_DISABLED	0
#define XHCI_EP_RUNNING		1
#define XHCI_EP_HALTED		2
#define XHCI_EP_STOPPED		3
#define XHCI_EP_ERROR		4

/* What the VM provides (either may be NULL). */
struct xhci_platform {
	/* Deliver one MSI or MSI-X message. */
	void (*msi)(void *opaque, uint64_t addr, uint32_t data);
	/* Drive INTA#. */
	void (*intx)(void *opaque, int level);
	void *opaque;
};

struct xhci_ep {
	uint8_t state;		/* XHCI_EP_* */
	uint8_t type;		/* endpoint context EP Type */
	bool ccs;		/* consumer cycle state */
	bool pending;		/* an IN TD at deq waits for the device */
	uint64_t deq;		/* TR dequeue pointer */
};

struct xhci_slot {
	bool enabled;
	uint8_t state;		/* XHCI_SLOT_* */
	uint8_t port;		/* root port, 1-based; 0: none yet */
	uint64_t ctx;		/* output device context */
	struct xhci_ep ep[32];	/* by DCI; 0 unused */
};

struct xhci_port {
	uint32_t portsc, portpmsc;
	struct usb_dev *dev;
};

struct xhci {
	struct pci_dev pci;
	pthread_mutex_t lock;
	const struct vmem *mem;
	const struct xhci_platform *plat;

	uint32_t usbcmd, usbsts, dnctrl, config;
	uint64_t crcr, dcbaap;
	uint64_t cmd_deq;
	bool cmd_ccs, crr;

	struct xhci_port port[XHCI_PORTS];
	struct xhci_slot slot[XHCI_SLOTS + 1];

	/* Interrupter 0 and the event ring producer. */
	uint32_t iman, imod, erstsz;
	uint64_t erstba, erdp;
	uint32_t ev_seg, ev_idx, ev_size;
	uint64_t ev_base, ev_enq;	/* segment; next TRB to fill (0: none yet) */
	bool ev_pcs, ev_loaded, ev_full;

	uint8_t msix_cap, msi_cap;
	uint8_t msix_table[16];
	bool msix_pending;
	int intx_level;

	uint8_t buf[XHCI_XFER_MAX];
};

/* Build the PCI function; the controller starts halted, as after HCRST. */
int xhci_init(struct xhci *x, const struct vmem *mem, const struct xhci_platform *plat);
/*
 * Plug @d into the first free root port of its kind (USB 3 ports for
 * super speed, USB 2 ports otherwise); the port number, or -1 if none is
 * free.  Before the guest runs, or with the controller's lock not held.
 */
int xhci_attach(struct xhci *x, struct usb_dev *d);
/* A BAR 0 access (what pci_dev.bar_access does for BAR 0); takes the lock. */
void xhci_mmio(struct xhci *x, uint64_t off, uint8_t *data, uint32_t len, bool is_write);

#endif
