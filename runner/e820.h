/* SPDX-License-Identifier: GPL-2.0 */
/* The guest's physical memory map as Linux reads it from the zero page. */
#ifndef KVL_RUNNER_E820_H
#define KVL_RUNNER_E820_H

#include <stdint.h>

#include "memmap.h"

#define E820_TYPE_RAM		1
#define E820_TYPE_RESERVED	2

/* See memmap.h. */
#define E820_LOWRAM_END		MEM_LOWRAM_END	/* then the EBDA, VGA, option ROMs */
#define E820_BIOS_START		MEM_BIOS_START	/* ACPI tables live here */
#define E820_HIGH_START		MEM_HIGH_START
#define E820_TSS_START		MEM_TSS_START	/* KVM's identity map + TSS (VMX) */
#define E820_TSS_END		MEM_TSS_END

struct e820_range {
	uint64_t addr, size;
	uint32_t type;
};

/*
 * Describe @ram_size bytes of RAM laid out as the runner maps it: the
 * first @lowmem_end bytes at guest physical 0, the rest from @high_start.
 * Writes at most @max ranges, sorted, non-overlapping; returns how many,
 * or -1 if @ram_size is below 2 MiB or the map does not fit in @max.
 */
int e820__build(uint64_t ram_size, uint64_t lowmem_end, uint64_t high_start,
		struct e820_range *out, int max);

#endif
