/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A PCI bus 0 as a PC host bridge shows it: type 0 functions (one per
 * slot, function 0 only) with a 256-byte config space, reached through
 * ports CF8/CFC (mechanism #1) or ECAM.  Writes go through a per-byte
 * write mask; BARs size as the spec says (all ones written, the size mask
 * read back) and 64-bit memory BARs take two registers.  A BAR decodes
 * only while memory space is enabled in COMMAND and its range lies inside
 * the bus's MMIO window.  Not thread-safe: callers hold bus->lock.
 */
#ifndef KVL_DEVICES_PCI_H
#define KVL_DEVICES_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define PCI_SLOTS		32
#define PCI_CFG_SIZE		256
#define PCI_ECAM_FN_SIZE	4096

#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_COMMAND_IO		0x1
#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_MASTER	0x4
#define PCI_COMMAND_SERR	0x100
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS		0x06
#define PCI_STATUS_INTERRUPT	0x08
#define PCI_STATUS_CAP_LIST	0x10
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_SUBSYSTEM_VENDOR_ID	0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d

#define PCI_CAP_ID_VNDR		0x09
#define PCI_CAP_ID_MSIX		0x11

#define PCI_BAR_MEM64		0x4
#define PCI_BAR_PREFETCH	0x8

struct pci_dev;

struct pci_bar {
	uint64_t size;		/* power of two, >= 16; 0: not implemented */
	uint32_t flags;		/* PCI_BAR_MEM64 | PCI_BAR_PREFETCH (memory BARs only) */
	uint64_t mapped;	/* where it decodes now; 0: nowhere */
};

struct pci_dev {
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];
	struct pci_bar bar[6];
	unsigned int slot;
	uint8_t cap_end;	/* next free config offset for a capability */
	/* A BAR access at @off (< size); data little endian. */
	void (*bar_access)(struct pci_dev *d, int bar, uint64_t off, uint8_t *data,
			   uint32_t len, bool is_write);
	/* Before a config read of [off, off + len): may refresh cfg (may be NULL). */
	void (*cfg_read)(struct pci_dev *d, uint32_t off, uint32_t len);
	/* After a config write to [off, off + len) (may be NULL). */
	void (*cfg_written)(struct pci_dev *d, uint32_t off, uint32_t len);
	/* A BAR now decodes at @now (0: nowhere) instead of @was (may be NULL). */
	void (*bar_moved)(struct pci_dev *d, int bar, uint64_t was, uint64_t now);
	void *opaque;
};

struct pci_bus {
	pthread_mutex_t lock;
	struct pci_dev *dev[PCI_SLOTS];
	struct pci_dev host;		/* 00:00.0, the host bridge */
	uint32_t cf8;
	uint64_t mmio_base, mmio_size;	/* the window BARs must lie in */
};

void pci_bus_init(struct pci_bus *b, uint64_t mmio_base, uint64_t mmio_size);
/* Identity and class; the rest of the header zero, interrupt pin @pin (0: none, 1 = INTA). */
void pci_dev_init(struct pci_dev *d, uint16_t vendor, uint16_t device, uint32_t class_rev,
		  uint16_t subsys_vendor, uint16_t subsys, uint8_t pin);
/* Declare memory BAR @i of @size bytes (a power of two, >= 16); 0 or -1. */
int pci_dev_add_bar(struct pci_dev *d, int i, uint64_t size, uint32_t flags);
/* Reserve @len bytes for capability @id and link it in; its offset, or 0 if full. */
uint8_t pci_dev_add_cap(struct pci_dev *d, uint8_t id, uint8_t len);
/* Plug @d into a free slot (never 0: the host bridge); the slot, or -1. */
int pci_bus_add(struct pci_bus *b, struct pci_dev *d);

/* Config space access of bus 0 device @slot function @fn at @reg (any size 1/2/4, aligned). */
void pci_cfg_access(struct pci_bus *b, unsigned int slot, unsigned int fn, uint32_t reg,
		    uint8_t *data, uint32_t len, bool is_write);
/* Ports CF8..CFF: @port is 0..7 relative to 0xcf8. */
void pci_cf8_access(struct pci_bus *b, unsigned int port, uint8_t *data, uint32_t len,
		    bool is_write);
/* ECAM of bus 0 at offset @off. */
void pci_ecam_access(struct pci_bus *b, uint64_t off, uint8_t *data, uint32_t len,
		     bool is_write);
/*
 * Find the BAR decoding @addr..@addr+len; fills *dev, *bar, *off and
 * returns true.  Accesses that straddle a BAR's end match nothing.
 */
bool pci_mmio_lookup(struct pci_bus *b, uint64_t addr, uint32_t len, struct pci_dev **dev,
		     int *bar, uint64_t *off);
/* Set the INTx status bit as the device's line goes (interrupt status in STATUS). */
void pci_set_intx_status(struct pci_dev *d, bool level);
/* Place BARs the way firmware would: consecutive, naturally aligned, from the window's base. */
void pci_bus_assign(struct pci_bus *b);

#endif
