/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the runner offers a device model (implemented in pci_host.c and
 * runner/evloop.c).  A device's descriptor (runner/device.h) .create
 * function calls these; everything here is usable from .create on, and
 * the interrupt, memslot and event-loop calls from any thread afterwards.
 * The guest physical map (RAM, the PCI window, the VGA window...) is in
 * runner/memmap.h.
 *
 * PCI: a device fills a struct pci_dev (pci.h: identity, BARs, capabilities,
 * callbacks) and plugs it in with platform_pci_add().  Config space
 * accesses run under the bus lock (bus->lock); BAR accesses that trap
 * (MMIO exits in the PCI window) call d->bar_access without it, from vCPU
 * threads: the device locks itself.  BARs get addresses after every
 * device is created (as firmware would place them) and move when the
 * guest reprograms them; d->bar_moved (if set) is told.
 *
 * Interrupts: MSI / MSI-X messages go through platform_msi() (an irqfd on a
 * GSI route per vector where KVM has them, else KVM_SIGNAL_MSI), INTx
 * through platform_pci_intx() (the IOAPIC pin of the slot, shared lines
 * counted: a pin stays high while any device on it holds it high).
 *
 * RAM-backed regions: host memory the guest reaches without exits (VRAM),
 * as a KVM memslot whose slot id the platform allocates.  It can sit at a
 * fixed address (the VGA window) or follow a memory BAR wherever the
 * guest puts it; with dirty logging on, platform_ram_dirty() returns and
 * clears the pages written since the last call.
 *
 * Port I/O and fixed MMIO ranges: io__register() (runner/ioport.h).  The
 * legacy VGA window (MEM_VGA_START, 128 KiB) is never RAM for a Linux
 * guest: a display device can io__register() it or map a region there.
 *
 * Event loop: evloop__add() watches an fd (runner/evloop.h), and there is
 * evloop__call() to run a function on the loop thread and evloop__timer_*()
 * for (periodic) timers.
 */
#ifndef KVL_DEVICES_PLATFORM_H
#define KVL_DEVICES_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "../runner/device.h"
#include "../runner/evloop.h"
#include "../runner/ioport.h"
#include "../runner/memmap.h"
#include "pci.h"
#include "virtq.h"

struct kvm;

/* The VM (devices may read kvm->cfg, call kvm__request_exit() etc.). */
struct kvm *platform_kvm(void);

/* Guest RAM through struct vmem (virtq.h): host pointer for [gpa, gpa + len) or NULL. */
struct vmem platform_vmem(void);

/*
 * PCI: plug @d into a free slot of bus 0 (d->slot is set).  Returns the
 * slot, or -1 when the bus is full (the caller reports it).
 */
int platform_pci_add(struct pci_dev *d);
/* The bus (for its lock: hold it to touch d->cfg outside config callbacks). */
struct pci_bus *platform_pci_bus(void);
/*
 * Drive @d's INTx line (the pin in its PCI_INTERRUPT_PIN; none: no-op) to
 * @level.  The device keeps STATUS.INTERRUPT itself (pci_set_intx_status())
 * and honours COMMAND.INTX_DISABLE by passing 0.
 */
void platform_pci_intx(struct pci_dev *d, int level);
/* Drive an ISA IRQ / IOAPIC pin directly (COM-like devices): 1 raise, 0 lower. */
void platform_irq_line(unsigned int gsi, int level);

/*
 * One MSI or MSI-X vector's delivery state: embed one per vector,
 * platform_msi_init() it once, then platform_msi() sends (@addr, @data) the
 * driver programmed.  The first message sets up an irqfd and a GSI route
 * for the vector; a changed message rewrites the route.  @m may be NULL:
 * then every message goes through KVM_SIGNAL_MSI.
 */
struct platform_msi {
	int efd;		/* irqfd; -1: none yet */
	uint32_t gsi;
	uint64_t addr;
	uint32_t data;
	bool failed;		/* irqfd unusable: KVM_SIGNAL_MSI */
	struct platform_msi *next;
};

void platform_msi_init(struct platform_msi *m);
void platform_msi(struct platform_msi *m, uint64_t addr, uint32_t data);

/*
 * A RAM-backed region: @len bytes (a multiple of 4 KiB) of host memory at
 * @host (page aligned; the caller owns it, e.g. an anonymous mmap()), not
 * mapped anywhere yet; @name labels messages.  NULL on failure (reported).
 */
struct platform_ram;
struct platform_ram *platform_ram_create(void *host, uint64_t len, const char *name);
/* Map it at @gpa (page aligned; 0: unmap).  0, or -1 (reported). */
int platform_ram_map(struct platform_ram *r, uint64_t gpa);
/*
 * Keep it mapped at @off bytes into memory BAR @bar of @d, following the
 * BAR when the guest moves it or turns memory decoding off (accesses
 * outside the region still reach d->bar_access).  Call before or after
 * platform_pci_add(); @off + the region's length must fit the BAR.
 */
int platform_ram_bar(struct platform_ram *r, struct pci_dev *d, int bar, uint64_t off);
/* Where it is mapped now (0: nowhere). */
uint64_t platform_ram_gpa(const struct platform_ram *r);
/* Start (true) or stop dirty logging (KVM_MEM_LOG_DIRTY_PAGES) on it: 0 or -1. */
int platform_ram_log(struct platform_ram *r, bool on);
/*
 * The pages written since the last call, one bit a 4 KiB page (bit i of
 * word i / 64 for the page at offset i * 4096; @bitmap holds
 * DIV_ROUND_UP(len / 4096, 64) words), through KVM_GET_DIRTY_LOG, which
 * also clears the log.  While logging is off or the region is unmapped,
 * every page reads as dirty.  0, or -1.
 */
int platform_ram_dirty(struct platform_ram *r, uint64_t *bitmap);

#endif
