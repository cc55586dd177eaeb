// SPDX-License-Identifier: GPL-2.0
/* PCI bus 0 and its functions' config space: see pci.h. */
#include <string.h>

#include "le.h"
#include "pci.h"

#define BAR_UPPER	0x80000000U	/* bar[i].flags: the high half of a 64-bit BAR */

void pci_dev_init(struct pci_dev *d, uint16_t vendor, uint16_t device, uint32_t class_rev,
		  uint16_t subsys_vendor, uint16_t subsys, uint8_t pin)
{
	memset(d, 0, sizeof(*d));
	put16(d->cfg + PCI_VENDOR_ID, vendor);
	put16(d->cfg + PCI_DEVICE_ID, device);
	put32(d->cfg + PCI_REVISION_ID, class_rev);	/* revision, prog-if, subclass, class */
	put16(d->cfg + PCI_SUBSYSTEM_VENDOR_ID, subsys_vendor);
	put16(d->cfg + PCI_SUBSYSTEM_ID, subsys);
	d->cfg[PCI_INTERRUPT_PIN] = pin;
	put16(d->wmask + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
	      PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
	d->wmask[0x0c] = 0xff;		/* cache line size */
	d->wmask[0x0d] = 0xff;		/* latency timer */
	d->cap_end = 0x40;
}

int pci_dev_add_bar(struct pci_dev *d, int i, uint64_t size, uint32_t flags)
{
	uint64_t mask = ~(size - 1);

	flags &= PCI_BAR_MEM64 | PCI_BAR_PREFETCH;
	if (i < 0 || i > 5 || size < 16 || (size & (size - 1)) || d->bar[i].size ||
	    (d->bar[i].flags & BAR_UPPER) ||
	    ((flags & PCI_BAR_MEM64) && (i == 5 || d->bar[i + 1].size)) ||
	    (!(flags & PCI_BAR_MEM64) && size > (1ULL << 31)))
		return -1;
	d->bar[i].size = size;
	d->bar[i].flags = flags;
	put32(d->cfg + PCI_BAR0 + 4 * i, flags);
	put32(d->wmask + PCI_BAR0 + 4 * i, (uint32_t)mask & ~0xfU);
	if (flags & PCI_BAR_MEM64) {
		d->bar[i + 1].flags = BAR_UPPER;
		put32(d->wmask + PCI_BAR0 + 4 * (i + 1), (uint32_t)(mask >> 32));
	}
	return 0;
}

uint8_t pci_dev_add_cap(struct pci_dev *d, uint8_t id, uint8_t len)
{
	uint8_t off = (d->cap_end + 3) & ~3;

	if (len < 2 || off + len > PCI_CFG_SIZE)
		return 0;
	d->cfg[off] = id;
	d->cfg[off + 1] = d->cfg[PCI_CAPABILITY_LIST];	/* push at the list head */
	d->cfg[PCI_CAPABILITY_LIST] = off;
	d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	d->cap_end = off + len;
	return off;
}

void pci_bus_init(struct pci_bus *b, uint64_t mmio_base, uint64_t mmio_size)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
	b->mmio_base = mmio_base;
	b->mmio_size = mmio_size;
	/* Red Hat's PCIe host bridge ID, class 06:00 (Linux's conf1 sanity check wants one). */
	pci_dev_init(&b->host, 0x1b36, 0x0008, 0x06000000, 0x1af4, 0x1100, 0);
	b->dev[0] = &b->host;
}

int pci_bus_add(struct pci_bus *b, struct pci_dev *d)
{
	unsigned int s;

	for (s = 1; s < PCI_SLOTS; s++)
		if (!b->dev[s]) {
			b->dev[s] = d;
			d->slot = s;
			return s;
		}
	return -1;
}

static uint64_t bar_addr(const struct pci_dev *d, int i)
{
	uint64_t a = get32(d->cfg + PCI_BAR0 + 4 * i) & ~0xfULL;

	if (d->bar[i].flags & PCI_BAR_MEM64)
		a |= (uint64_t)get32(d->cfg + PCI_BAR0 + 4 * (i + 1)) << 32;
	return a;
}

static void update_mappings(struct pci_bus *b, struct pci_dev *d)
{
	bool mem = d->cfg[PCI_COMMAND] & PCI_COMMAND_MEMORY;
	int i;

	for (i = 0; i < 6; i++) {
		uint64_t a = bar_addr(d, i), sz = d->bar[i].size, now = 0, was;

		if (!sz)
			continue;
		if (mem && a && a >= b->mmio_base && a - b->mmio_base < b->mmio_size &&
		    sz <= b->mmio_size - (a - b->mmio_base))
			now = a;
		was = d->bar[i].mapped;
		if (was == now)
			continue;
		d->bar[i].mapped = now;
		if (d->bar_moved)
			d->bar_moved(d, i, was, now);
	}
}

void pci_cfg_access(struct pci_bus *b, unsigned int slot, unsigned int fn, uint32_t reg,
		    uint8_t *data, uint32_t len, bool is_write)
{
	struct pci_dev *d = slot < PCI_SLOTS && fn == 0 ? b->dev[slot] : NULL;
	uint32_t i;

	if (!d || (len != 1 && len != 2 && len != 4) || (reg & (len - 1)) ||
	    reg >= PCI_ECAM_FN_SIZE) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (reg >= PCI_CFG_SIZE) {	/* no extended capabilities */
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	if (!is_write) {
		if (d->cfg_read)
			d->cfg_read(d, reg, len);
		memcpy(data, d->cfg + reg, len);
		return;
	}
	for (i = 0; i < len; i++)
		d->cfg[reg + i] = (d->cfg[reg + i] & ~d->wmask[reg + i]) |
				  (data[i] & d->wmask[reg + i]);
	update_mappings(b, d);
	if (d->cfg_written)
		d->cfg_written(d, reg, len);
}

void pci_cf8_access(struct pci_bus *b, unsigned int port, uint8_t *data, uint32_t len,
		    bool is_write)
{
	uint32_t a = b->cf8;

	if (port < 4) {
		/* Only whole-dword accesses at CF8 reach the address register. */
		if (port != 0 || len != 4) {
			if (!is_write)
				memset(data, 0xff, len);
		} else if (is_write) {
			b->cf8 = get32(data) & 0x80fffffcU;
		} else {
			put32(data, b->cf8);
		}
		return;
	}
	if (port > 7 || len > 8 - port || !(a & 0x80000000U) || ((a >> 16) & 0xff)) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pci_cfg_access(b, (a >> 11) & 31, (a >> 8) & 7, (a & 0xfc) + port - 4, data, len,
		       is_write);
}

void pci_ecam_access(struct pci_bus *b, uint64_t off, uint8_t *data, uint32_t len,
		     bool is_write)
{
	if (off >> 20) {	/* bus 0 only */
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pci_cfg_access(b, (off >> 15) & 31, (off >> 12) & 7, off & 0xfff, data, len, is_write);
}

bool pci_mmio_lookup(struct pci_bus *b, uint64_t addr, uint32_t len, struct pci_dev **dev,
		     int *bar, uint64_t *off)
{
	unsigned int s;
	int i;

	for (s = 0; s < PCI_SLOTS; s++) {
		struct pci_dev *d = b->dev[s];

		if (!d)
			continue;
		for (i = 0; i < 6; i++) {
			const struct pci_bar *r = &d->bar[i];

			if (r->mapped && addr >= r->mapped && addr - r->mapped < r->size &&
			    len <= r->size - (addr - r->mapped)) {
				*dev = d;
				*bar = i;
				*off = addr - r->mapped;
				return true;
			}
		}
	}
	return false;
}

void pci_set_intx_status(struct pci_dev *d, bool level)
{
	if (level)
		d->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		d->cfg[PCI_STATUS] &= ~PCI_STATUS_INTERRUPT;
}

void pci_bus_assign(struct pci_bus *b)
{
	uint64_t next = b->mmio_base;
	unsigned int s;
	int i;

	for (s = 1; s < PCI_SLOTS; s++) {
		struct pci_dev *d = b->dev[s];

		if (!d)
			continue;
		for (i = 0; i < 6; i++) {
			uint64_t sz = d->bar[i].size, a = (next + sz - 1) & ~(sz - 1);

			if (!sz || a + sz > b->mmio_base + b->mmio_size)
				continue;
			put32(d->cfg + PCI_BAR0 + 4 * i, (uint32_t)a | (d->bar[i].flags & 0xf));
			if (d->bar[i].flags & PCI_BAR_MEM64)
				put32(d->cfg + PCI_BAR0 + 4 * (i + 1), a >> 32);
			next = a + sz;
		}
	}
}
