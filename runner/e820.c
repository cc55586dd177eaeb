// SPDX-License-Identifier: GPL-2.0
/*
 * e820 map of a PC without firmware: conventional RAM up to the EBDA,
 * the legacy BIOS area reserved (the ACPI tables are there), RAM from
 * 1 MiB to the PCI hole, KVM's TSS pages reserved inside the hole, and
 * whatever RAM is left above 4 GiB.
 */
#include "e820.h"

static int add(struct e820_range *out, int n, int max, uint64_t addr,
	       uint64_t size, uint32_t type)
{
	if (n < 0 || n >= max)
		return -1;
	out[n] = (struct e820_range){ addr, size, type };
	return n + 1;
}

int e820__build(uint64_t ram_size, uint64_t lowmem_end, uint64_t high_start,
		struct e820_range *out, int max)
{
	uint64_t low = ram_size < lowmem_end ? ram_size : lowmem_end;
	int n = 0;

	if (ram_size < (2ULL << 20) || lowmem_end <= E820_HIGH_START ||
	    high_start < lowmem_end || high_start < E820_TSS_END)
		return -1;
	n = add(out, n, max, 0, E820_LOWRAM_END, E820_TYPE_RAM);
	n = add(out, n, max, E820_LOWRAM_END, MEM_VGA_START - E820_LOWRAM_END,
		E820_TYPE_RESERVED);
	n = add(out, n, max, E820_BIOS_START, E820_HIGH_START - E820_BIOS_START,
		E820_TYPE_RESERVED);
	n = add(out, n, max, E820_HIGH_START, low - E820_HIGH_START, E820_TYPE_RAM);
	n = add(out, n, max, E820_TSS_START, E820_TSS_END - E820_TSS_START,
		E820_TYPE_RESERVED);
	if (ram_size > low)
		n = add(out, n, max, high_start, ram_size - low, E820_TYPE_RAM);
	return n;
}
