/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An ELF kernel (vmlinux) booted through the PVH entry point: the Xen ELF
 * note PHYS32_ENTRY names a 32-bit protected-mode entry, reached with
 * paging off and %ebx pointing to a struct hvm_start_info.
 */
#ifndef KVL_RUNNER_PVH_H
#define KVL_RUNNER_PVH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memmap.h"

#define PVH_MAX_SEGS		16
#define PVH_LOAD_MIN		MEM_HIGH_START		/* below: the runner's own tables */
#define PVH_LOAD_MAX		MEM_PCI_HOLE_START	/* the top of low RAM at most */

struct pvh_seg {
	uint64_t paddr, offset, filesz, memsz;
};

struct pvh_image {
	uint32_t entry;			/* physical, 32-bit protected mode */
	int nseg;
	struct pvh_seg seg[PVH_MAX_SEGS];	/* sorted by paddr, disjoint */
	uint64_t end;			/* highest byte loaded + 1 */
};

/* Does the file start like an ELF object? (4 bytes suffice.) */
bool pvh__is_elf(const uint8_t *img, size_t len);

/*
 * Check @len bytes at @img as an x86 ELF executable with a PVH entry: its
 * PT_LOAD segments inside the file and within [1 MiB, 3 GiB), the entry
 * inside one of them.  Returns 0 and fills @p, or -1 with *@err a static
 * message.
 */
int pvh__parse(const uint8_t *img, size_t len, struct pvh_image *p, const char **err);

/*
 * The same on memory libelf may write to (it does not for a little-endian
 * file on a little-endian host), without pvh__parse()'s copy of the whole
 * file: the runner passes a private writable mapping of the file, so only
 * the pages holding the headers and notes are read.
 */
int pvh__parse_writable(uint8_t *img, size_t len, struct pvh_image *p, const char **err);

/* The start-of-day structures (layout from Xen's hvm/start_info.h). */
#define HVM_START_MAGIC		0x336ec578
struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

#endif
