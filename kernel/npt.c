// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: nested page tables, AMD NPT and Intel EPT.
 *
 * Both are four-level, 512-entry radix trees over the guest-physical
 * space; they differ only in the entry bits, which struct kvl_npt_fmt
 * describes.  NPT uses the ordinary long-mode format; every guest access
 * is checked as a user access (APM vol. 2, 15.25.5), so U/S is set at
 * every level.  EPT entries are present when any of R/W/X is set (SDM
 * vol. 3, 29.3.2); leaves carry the write-back memory type.  Tables are
 * only ever added while the VM lives; zapping clears leaves and keeps the
 * tables, which go at VM destruction.  Callers hold the VM's mmu_lock,
 * hence GFP_ATOMIC.
 *
 * A 2 MiB leaf (bit 7, PS in NPT and "page" in EPT, in a level-2 entry)
 * maps a range whose host backing is one 2 MiB page; it goes in where the
 * level-2 entry is empty or points to a 4 KiB table with nothing mapped
 * (that table is handed back, for the caller to free once no CPU can walk
 * it), and a 4 KiB mapping inside a 2 MiB leaf replaces the leaf with a
 * table.  Zapping any part of a 2 MiB leaf drops all of it.
 */
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include "npt.h"

#define NPT_P		BIT_ULL(0)
#define NPT_RW		BIT_ULL(1)
#define NPT_US		BIT_ULL(2)
#define NPT_A		BIT_ULL(5)
#define NPT_D		BIT_ULL(6)
#define NPT_PS		BIT_ULL(7)	/* a large leaf, in NPT and EPT alike */
#define NPT_ADDR	GENMASK_ULL(51, 12)
#define NPT_LEVELS	4

#define EPT_R		BIT_ULL(0)
#define EPT_W		BIT_ULL(1)
#define EPT_X		BIT_ULL(2)
#define EPT_MT_WB	(6ULL << 3)
#define EPT_IPAT	BIT_ULL(6)

const struct kvl_npt_fmt kvl_npt_amd = {
	.present	= NPT_P,
	.table		= NPT_P | NPT_RW | NPT_US | NPT_A,
	.leaf		= NPT_P | NPT_US | NPT_A,
	.leaf_write	= NPT_RW | NPT_D,
};

const struct kvl_npt_fmt kvl_npt_ept = {
	.present	= EPT_R | EPT_W | EPT_X,
	.table		= EPT_R | EPT_W | EPT_X,
	.leaf		= EPT_R | EPT_X | EPT_MT_WB | EPT_IPAT,
	.leaf_write	= EPT_W,
};

static inline unsigned int npt_index(u64 gpa, int level)
{
	return (gpa >> (12 + 9 * (level - 1))) & 511;
}

static inline u64 *npt_table(u64 pte)
{
	return phys_to_virt(pte & NPT_ADDR);
}

int kvl_npt_init(struct kvl_npt *npt, const struct kvl_npt_fmt *fmt)
{
	npt->fmt = fmt;
	npt->root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!npt->root)
		return -ENOMEM;
	npt->pages = 1;
	return 0;
}

static void npt_free_level(const struct kvl_npt_fmt *fmt, u64 *table, int level)
{
	int i;

	if (level > 1) {
		for (i = 0; i < 512; i++)
			if ((table[i] & fmt->present) && !(table[i] & NPT_PS))
				npt_free_level(fmt, npt_table(table[i]), level - 1);
	}
	free_page((unsigned long)table);
}

void kvl_npt_destroy(struct kvl_npt *npt)
{
	if (npt->root)
		npt_free_level(npt->fmt, npt->root, NPT_LEVELS);
	npt->root = NULL;
}

static bool npt_table_empty(const struct kvl_npt_fmt *fmt, const u64 *table)
{
	int i;

	for (i = 0; i < 512; i++)
		if (table[i] & fmt->present)
			return false;
	return true;
}

/*
 * Map @gpa to @pfn: a 4 KiB page (@leaf_level 1) or the 2 MiB page that
 * holds @gpa (@leaf_level 2, @pfn its first frame).  -EEXIST when a 2 MiB
 * leaf cannot go in because 4 KiB pages are mapped there.  *@unlinked is
 * set to a table the 2 MiB leaf replaced: free it with kvl_npt_free_table()
 * after flushing every CPU's nested translations.
 */
int kvl_npt_map_level(struct kvl_npt *npt, u64 gpa, unsigned long pfn, bool writable,
		      int leaf_level, u64 **unlinked)
{
	const struct kvl_npt_fmt *fmt = npt->fmt;
	u64 leaf = ((u64)pfn << PAGE_SHIFT) | fmt->leaf | (writable ? fmt->leaf_write : 0);
	u64 *table = npt->root;
	int level;

	if (gpa >> 48)
		return -EINVAL;
	for (level = NPT_LEVELS; level > leaf_level; level--) {
		u64 *pte = &table[npt_index(gpa, level)];

		if (level == 2 && (*pte & NPT_PS))
			WRITE_ONCE(*pte, 0);	/* 4 KiB pages inside a 2 MiB leaf */
		if (!(*pte & fmt->present)) {
			u64 *next = (u64 *)get_zeroed_page(GFP_ATOMIC | __GFP_ACCOUNT);

			if (!next)
				return -ENOMEM;
			npt->pages++;
			WRITE_ONCE(*pte, virt_to_phys(next) | fmt->table);
		}
		table = npt_table(*pte);
	}
	if (leaf_level == 2) {
		u64 *pte = &table[npt_index(gpa, 2)];

		if ((*pte & fmt->present) && !(*pte & NPT_PS)) {
			if (!npt_table_empty(fmt, npt_table(*pte)))
				return -EEXIST;
			*unlinked = npt_table(*pte);
			npt->pages--;
		}
		leaf |= NPT_PS;
	}
	WRITE_ONCE(table[npt_index(gpa, leaf_level)], leaf);
	return 0;
}

int kvl_npt_map(struct kvl_npt *npt, u64 gpa, unsigned long pfn, bool writable)
{
	return kvl_npt_map_level(npt, gpa, pfn, writable, 1, NULL);
}

void kvl_npt_free_table(u64 *table)
{
	free_page((unsigned long)table);
}

static void npt_zap_level(const struct kvl_npt_fmt *fmt, u64 *table, int level,
			  u64 base, u64 start, u64 end)
{
	u64 span = 1ULL << (12 + 9 * (level - 1));
	unsigned int i;

	for (i = npt_index(max(start, base), level); i < 512; i++) {
		u64 lo = base + i * span;

		if (lo >= end)
			break;
		if (!(table[i] & fmt->present))
			continue;
		if (level == 1 || (table[i] & NPT_PS))
			WRITE_ONCE(table[i], 0);
		else
			npt_zap_level(fmt, npt_table(table[i]), level - 1, lo, start, end);
	}
}

void kvl_npt_zap(struct kvl_npt *npt, u64 start, u64 end)
{
	if (start < end)
		npt_zap_level(npt->fmt, npt->root, NPT_LEVELS, 0, start, min(end, 1ULL << 48));
}
