/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio 1.x PCI transport (virtio spec 4.1), modern only: vendor
 * 0x1af4, device 0x1040 + virtio ID, one 64-bit memory BAR 0 holding the
 * common configuration, ISR, device configuration and notification
 * structures, the MSI-X table and PBA.  Interrupts go out as MSI-X
 * messages when the driver enabled MSI-X, otherwise as INTA# with the ISR.
 * Locking: PCI config callbacks run under the bus lock, and take the
 * virtio device's lock inside it; BAR accesses take only the device's.
 */
#ifndef KVL_DEVICES_VIRTIO_PCI_H
#define KVL_DEVICES_VIRTIO_PCI_H

#include "pci.h"
#include "virtio.h"

#define VPCI_COMMON_OFF		0x0000
#define VPCI_ISR_OFF		0x1000
#define VPCI_DEVICE_OFF		0x2000
#define VPCI_NOTIFY_OFF		0x3000
#define VPCI_NOTIFY_MULT	4
#define VPCI_MSIX_TABLE_OFF	0x4000
#define VPCI_MSIX_PBA_OFF	0x5000
#define VPCI_BAR_SIZE		0x8000
#define VPCI_MAX_VECTORS	(VIRTIO_MAX_QUEUES + 1)

struct virtio_pci;

/* What the VM provides (all may be NULL in tests except where noted). */
struct virtio_pci_platform {
	/* Deliver one MSI message for @vector of @vp. */
	void (*msi)(void *opaque, struct virtio_pci *vp, unsigned int vector,
		    uint64_t addr, uint32_t data);
	/* Drive the INTx line of @vp's slot. */
	void (*intx)(void *opaque, struct virtio_pci *vp, int level);
	/* Queue @q's notify address moved from @was to @now (0: unmapped). */
	void (*notify_moved)(void *opaque, struct virtio_pci *vp, unsigned int q,
			     uint64_t was, uint64_t now);
	void *opaque;
};

struct virtio_pci {
	struct pci_dev pci;
	struct virtio_dev *vd;
	const struct virtio_pci_platform *plat;
	uint8_t isr;
	int intx_level;
	uint8_t msix_cap;
	uint8_t cfg_cap;	/* the VIRTIO_PCI_CAP_PCI_CFG window */
	uint16_t nvec;
	uint8_t msix_table[VPCI_MAX_VECTORS * 16];
	uint64_t pba;
};

/* Build the PCI function for @vd (its ops and config must be set). */
int virtio_pci_init(struct virtio_pci *vp, struct virtio_dev *vd,
		    const struct virtio_pci_platform *plat);
/* The PCI class for a virtio device ID (used by virtio_pci_init). */
uint32_t virtio_pci_class(uint16_t device_id);

#endif
