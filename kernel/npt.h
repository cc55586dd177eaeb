/* SPDX-License-Identifier: GPL-2.0 */
/* kvmlite: nested page tables: AMD NPT (the x86-64 long-mode format) and Intel EPT. */
#ifndef KVMLITE_NPT_H
#define KVMLITE_NPT_H

#include <linux/types.h>

/* The entry bits of one nested paging format. */
struct kvl_npt_fmt {
	u64 present;		/* any of these set: the entry is present */
	u64 table;		/* a non-leaf entry */
	u64 leaf;		/* a read-only leaf */
	u64 leaf_write;		/* added to a writable leaf */
};

extern const struct kvl_npt_fmt kvl_npt_amd;
extern const struct kvl_npt_fmt kvl_npt_ept;

struct kvl_npt {
	const struct kvl_npt_fmt *fmt;
	u64 *root;		/* PML4 */
	unsigned long pages;	/* table pages in use, root included */
};

int kvl_npt_init(struct kvl_npt *npt, const struct kvl_npt_fmt *fmt);
void kvl_npt_destroy(struct kvl_npt *npt);
int kvl_npt_map(struct kvl_npt *npt, u64 gpa, unsigned long pfn, bool writable);
int kvl_npt_map_level(struct kvl_npt *npt, u64 gpa, unsigned long pfn, bool writable,
		      int leaf_level, u64 **unlinked);
void kvl_npt_free_table(u64 *table);
void kvl_npt_zap(struct kvl_npt *npt, u64 start, u64 end);

#endif
