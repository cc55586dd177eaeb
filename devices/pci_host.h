/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where the PCI host bridge sits in the guest's physical map (the ACPI
 * tables announce it: MCFG for the ECAM, \_SB.PCI0 in the DSDT for the
 * root bus, its windows and the INTx routing).
 */
#ifndef KVL_DEVICES_PCI_HOST_H
#define KVL_DEVICES_PCI_HOST_H

#include "../runner/memmap.h"

#define PCI_MMIO_BASE		MEM_PCI_MMIO_BASE	/* BARs: 512 MiB below the ECAM */
#define PCI_MMIO_SIZE		MEM_PCI_MMIO_SIZE
#define PCI_ECAM_BASE		MEM_PCI_ECAM_BASE	/* bus 0 only: 1 MiB */
#define PCI_ECAM_SIZE		MEM_PCI_ECAM_SIZE
#define PCI_CF8_PORT		0xcf8

/* INTx pin 0..3 (INTA..INTD) of @slot arrives at IOAPIC pin (GSI) ... */
#define PCI_INTX_GSI(slot, pin)	(16 + (((slot) + (pin)) & 7))

#endif
