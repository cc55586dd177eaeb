/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest physical memory map of a Linux guest, in one place (flat
 * IMAGEs see RAM from 0 and nothing else):
 *
 *   0          - 0x9fc00     RAM (E820 RAM)
 *   0x9fc00    - 0xa0000     EBDA (E820 reserved, RAM behind it)
 *   0xa0000    - 0xc0000     legacy VGA window: never RAM, a display device
 *                            may claim it (MMIO or a memslot of its own)
 *   0xc0000    - 0xe0000     option ROM area (RAM behind it, unused)
 *   0xe0000    - 0x100000    BIOS area: the ACPI tables (E820 reserved, RAM)
 *   0x100000   - 0xc0000000  RAM (or less, as --mem says)
 *   0xc0000000 - 0xe0000000  PCI MMIO window: BARs
 *   0xe0000000 - 0xe0100000  PCI ECAM, bus 0
 *   0xfec00000               IOAPIC (in-kernel)
 *   0xfee00000               local APICs (in-kernel)
 *   0xfeffc000 - 0xff000000  KVM's identity map page + VMX real-mode TSS
 *   4 GiB      -             the rest of RAM
 */
#ifndef KVL_RUNNER_MEMMAP_H
#define KVL_RUNNER_MEMMAP_H

#define MEM_LOWRAM_END		0x9fc00ULL	/* then the EBDA */
#define MEM_VGA_START		0xa0000ULL	/* legacy VGA window */
#define MEM_VGA_SIZE		0x20000ULL
#define MEM_VGA_END		(MEM_VGA_START + MEM_VGA_SIZE)
#define MEM_BIOS_START		0xe0000ULL	/* ACPI tables live here */
#define MEM_HIGH_START		0x100000ULL	/* RAM above 1 MiB */

/* RAM below 4 GiB ends where the PCI hole starts; the rest goes above 4 GiB. */
#define MEM_PCI_HOLE_START	0xc0000000ULL
#define MEM_PCI_MMIO_BASE	0xc0000000ULL	/* BARs: 512 MiB below the ECAM */
#define MEM_PCI_MMIO_SIZE	0x20000000ULL
#define MEM_PCI_ECAM_BASE	0xe0000000ULL	/* bus 0 only: 1 MiB */
#define MEM_PCI_ECAM_SIZE	0x100000ULL
#define MEM_IOAPIC_BASE		0xfec00000ULL
#define MEM_LAPIC_BASE		0xfee00000ULL
#define MEM_TSS_START		0xfeffc000ULL	/* KVM's identity map + TSS (VMX) */
#define MEM_TSS_END		0xff000000ULL
#define MEM_HIGHMEM_START	0x100000000ULL

#endif
