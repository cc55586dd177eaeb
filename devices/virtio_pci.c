// SPDX-License-Identifier: GPL-2.0
/* The virtio PCI transport: see virtio_pci.h. */
#include <string.h>

#include "le.h"
#include "virtio_pci.h"

#define CAP_COMMON	1
#define CAP_NOTIFY	2
#define CAP_ISR		3
#define CAP_DEVICE	4
#define CAP_PCI_CFG	5

#define MSIX_ENABLE	0x8000
#define MSIX_MASKALL	0x4000

uint32_t virtio_pci_class(uint16_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:
		return 0x020000;
	case VIRTIO_ID_BLOCK:
		return 0x018000;
	case VIRTIO_ID_CONSOLE:
		return 0x078000;
	default:
		return 0xff0000;
	}
}

static uint16_t msix_ctrl(struct virtio_pci *vp)
{
	return vp->pci.cfg[vp->msix_cap + 2] | vp->pci.cfg[vp->msix_cap + 3] << 8;
}

static bool msix_on(struct virtio_pci *vp)
{
	return msix_ctrl(vp) & MSIX_ENABLE;
}

static void update_intx(struct virtio_pci *vp)
{
	uint16_t cmd = vp->pci.cfg[PCI_COMMAND] | vp->pci.cfg[PCI_COMMAND + 1] << 8;
	int level = vp->isr && !msix_on(vp);

	pci_set_intx_status(&vp->pci, level);
	if (cmd & PCI_COMMAND_INTX_DISABLE)
		level = 0;
	if (level != vp->intx_level) {
		vp->intx_level = level;
		if (vp->plat->intx)
			vp->plat->intx(vp->plat->opaque, vp, level);
	}
}

static bool vector_masked(struct virtio_pci *vp, unsigned int v)
{
	return (msix_ctrl(vp) & MSIX_MASKALL) || (vp->msix_table[16 * v + 12] & 1);
}

static void msix_send(struct virtio_pci *vp, unsigned int v)
{
	const uint8_t *e = vp->msix_table + 16 * v;
	uint64_t addr = get32(e) | (uint64_t)get32(e + 4) << 32;

	if (vp->plat->msi)
		vp->plat->msi(vp->plat->opaque, vp, v, addr, get32(e + 8));
}

/* Deliver pending vectors that are no longer masked. */
static void msix_flush(struct virtio_pci *vp)
{
	unsigned int v;

	if (!msix_on(vp))
		return;
	for (v = 0; v < vp->nvec; v++)
		if ((vp->pba & (1ULL << v)) && !vector_masked(vp, v)) {
			vp->pba &= ~(1ULL << v);
			msix_send(vp, v);
		}
}

static void vp_raise(struct virtio_dev *vd, uint16_t vector, uint8_t isr)
{
	struct virtio_pci *vp = vd->t.opaque;

	if (msix_on(vp)) {
		if (vector >= vp->nvec)
			return;		/* VIRTIO_NO_VECTOR: the driver wants none */
		if (vector_masked(vp, vector))
			vp->pba |= 1ULL << vector;
		else
			msix_send(vp, vector);
		return;
	}
	vp->isr |= isr;
	update_intx(vp);
}

static void bar_access(struct pci_dev *d, int bar, uint64_t off, uint8_t *data, uint32_t len,
		       bool is_write)
{
	struct virtio_pci *vp = d->opaque;
	struct virtio_dev *vd = vp->vd;

	if (!is_write)
		memset(data, 0, len);
	if (bar != 0)
		return;
	pthread_mutex_lock(&vd->lock);
	if (off < VPCI_COMMON_OFF + VIRTIO_COMMON_LEN) {
		uint8_t was = vd->status;

		if (is_write)
			virtio_common_write(vd, off - VPCI_COMMON_OFF, data, len);
		else
			virtio_common_read(vd, off - VPCI_COMMON_OFF, data, len);
		if (is_write && was && !vd->status) {	/* reset: interrupts drop too */
			vp->isr = 0;
			vp->pba = 0;
			update_intx(vp);
		}
	} else if (off >= VPCI_ISR_OFF && off < VPCI_ISR_OFF + 4) {
		if (!is_write && off == VPCI_ISR_OFF) {
			data[0] = vp->isr;	/* reading acknowledges */
			vp->isr = 0;
			update_intx(vp);
		}
	} else if (off >= VPCI_DEVICE_OFF && off < VPCI_NOTIFY_OFF) {
		if (is_write)
			virtio_config_write(vd, off - VPCI_DEVICE_OFF, data, len);
		else
			virtio_config_read(vd, off - VPCI_DEVICE_OFF, data, len);
	} else if (off >= VPCI_NOTIFY_OFF && off < VPCI_MSIX_TABLE_OFF) {
		uint64_t q = (off - VPCI_NOTIFY_OFF) / VPCI_NOTIFY_MULT;

		if (is_write && q < vd->ops->nr_queues && virtio_queue_live(vd, q))
			vd->ops->queue_notify(vd, q);
	} else if (off >= VPCI_MSIX_TABLE_OFF && off < VPCI_MSIX_PBA_OFF) {
		uint64_t t = off - VPCI_MSIX_TABLE_OFF;

		/* Dword or qword accesses, aligned, inside the table. */
		if ((len == 4 || len == 8) && !(t & (len - 1)) && t + len <= 16ULL * vp->nvec) {
			if (!is_write) {
				memcpy(data, vp->msix_table + t, len);
			} else {
				memcpy(vp->msix_table + t, data, len);
				msix_flush(vp);
			}
		}
	} else if (off >= VPCI_MSIX_PBA_OFF && off < VPCI_MSIX_PBA_OFF + 8) {
		uint64_t p = off - VPCI_MSIX_PBA_OFF;

		if (!is_write && (len == 4 || len == 8) && !(p & (len - 1))) {
			uint64_t v = vp->pba >> (8 * p);

			memcpy(data, &v, len);	/* x86: little endian */
		}
	}
	pthread_mutex_unlock(&vd->lock);
}

/*
 * The PCI_CFG window (virtio 4.1.4.9): BAR 0 at cap.offset, cap.length
 * bytes (1, 2 or 4, aligned), through pci_cfg_data; anything else is
 * ignored and reads zero.
 */
static bool window(struct virtio_pci *vp, uint32_t off, uint32_t len, uint32_t *boff,
		   uint32_t *blen)
{
	const uint8_t *c = vp->pci.cfg + vp->cfg_cap;

	if (off + len <= vp->cfg_cap + 16u || off >= vp->cfg_cap + 20u)
		return false;	/* not pci_cfg_data */
	*boff = get32(c + 8);
	*blen = get32(c + 12);
	return c[4] == 0 && (*blen == 1 || *blen == 2 || *blen == 4) && !(*boff & (*blen - 1)) &&
	       *boff < VPCI_BAR_SIZE;
}

static void cfg_read(struct pci_dev *d, uint32_t off, uint32_t len)
{
	struct virtio_pci *vp = d->opaque;
	uint32_t boff, blen;
	uint8_t *data = vp->pci.cfg + vp->cfg_cap + 16;

	if (!vp->cfg_cap || off + len <= vp->cfg_cap + 16u || off >= vp->cfg_cap + 20u)
		return;
	memset(data, 0, 4);
	if (window(vp, off, len, &boff, &blen))
		bar_access(d, 0, boff, data, blen, false);
}

static void cfg_written(struct pci_dev *d, uint32_t off, uint32_t len)
{
	struct virtio_pci *vp = d->opaque;
	uint32_t boff, blen;

	if (vp->cfg_cap && window(vp, off, len, &boff, &blen))
		bar_access(d, 0, boff, vp->pci.cfg + vp->cfg_cap + 16, blen, true);
	pthread_mutex_lock(&vp->vd->lock);
	msix_flush(vp);
	update_intx(vp);
	pthread_mutex_unlock(&vp->vd->lock);
}

static void bar_moved(struct pci_dev *d, int bar, uint64_t was, uint64_t now)
{
	struct virtio_pci *vp = d->opaque;
	unsigned int q;

	if (bar != 0 || !vp->plat->notify_moved)
		return;
	for (q = 0; q < vp->vd->ops->nr_queues; q++) {
		uint64_t o = VPCI_NOTIFY_OFF + VPCI_NOTIFY_MULT * q;

		vp->plat->notify_moved(vp->plat->opaque, vp, q, was ? was + o : 0,
				       now ? now + o : 0);
	}
}

static int add_vcap(struct virtio_pci *vp, uint8_t type, uint32_t off, uint32_t len)
{
	uint8_t clen = type == CAP_NOTIFY || type == CAP_PCI_CFG ? 20 : 16;
	uint8_t c = pci_dev_add_cap(&vp->pci, PCI_CAP_ID_VNDR, clen);
	uint8_t *p = vp->pci.cfg + c;

	if (!c)
		return -1;
	p[2] = clen;
	p[3] = type;
	p[4] = 0;		/* BAR 0 */
	put32(p + 8, off);
	put32(p + 12, len);
	if (type == CAP_NOTIFY)
		put32(p + 16, VPCI_NOTIFY_MULT);
	return 0;
}

int virtio_pci_init(struct virtio_pci *vp, struct virtio_dev *vd,
		    const struct virtio_pci_platform *plat)
{
	const struct virtio_dev_ops *ops = vd->ops;
	uint8_t c;

	memset(vp, 0, sizeof(*vp));
	if (ops->nr_queues > VIRTIO_MAX_QUEUES || vd->config_len > VPCI_NOTIFY_OFF - VPCI_DEVICE_OFF)
		return -1;
	vp->vd = vd;
	vp->plat = plat;
	vp->nvec = ops->nr_queues + 1;
	vd->nr_vectors = vp->nvec;
	vd->t.raise = vp_raise;
	vd->t.opaque = vp;
	pci_dev_init(&vp->pci, 0x1af4, 0x1040 + ops->device_id,
		     virtio_pci_class(ops->device_id) << 8 | 1, 0x1af4, ops->device_id, 1);
	vp->pci.opaque = vp;
	vp->pci.bar_access = bar_access;
	vp->pci.cfg_written = cfg_written;
	vp->pci.cfg_read = cfg_read;
	vp->pci.bar_moved = bar_moved;
	if (pci_dev_add_bar(&vp->pci, 0, VPCI_BAR_SIZE, PCI_BAR_MEM64) < 0)
		return -1;
	c = pci_dev_add_cap(&vp->pci, PCI_CAP_ID_MSIX, 12);
	if (!c)
		return -1;
	vp->msix_cap = c;
	vp->pci.cfg[c + 2] = (vp->nvec - 1) & 0xff;
	vp->pci.cfg[c + 3] = (vp->nvec - 1) >> 8;
	vp->pci.wmask[c + 3] = (MSIX_ENABLE | MSIX_MASKALL) >> 8;
	put32(vp->pci.cfg + c + 4, VPCI_MSIX_TABLE_OFF);	/* BIR 0 */
	put32(vp->pci.cfg + c + 8, VPCI_MSIX_PBA_OFF);
	for (c = 0; c < vp->nvec; c++)
		vp->msix_table[16 * c + 12] = 1;	/* masked at reset */
	if (add_vcap(vp, CAP_COMMON, VPCI_COMMON_OFF, VIRTIO_COMMON_LEN) < 0 ||
	    add_vcap(vp, CAP_ISR, VPCI_ISR_OFF, 1) < 0 ||
	    add_vcap(vp, CAP_NOTIFY, VPCI_NOTIFY_OFF, VPCI_NOTIFY_MULT * ops->nr_queues) < 0 ||
	    (vd->config_len && add_vcap(vp, CAP_DEVICE, VPCI_DEVICE_OFF, vd->config_len) < 0) ||
	    add_vcap(vp, CAP_PCI_CFG, 0, 0) < 0)
		return -1;
	/* The window's bar, offset, length and data are the driver's to write. */
	vp->cfg_cap = vp->pci.cfg[PCI_CAPABILITY_LIST];
	vp->pci.wmask[vp->cfg_cap + 4] = 0xff;
	memset(vp->pci.wmask + vp->cfg_cap + 8, 0xff, 12);
	return 0;
}
