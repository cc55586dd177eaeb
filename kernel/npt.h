/* SPDX-License-Identifier: GPL-2.0 */
/* kvmlite: AMD nested page tables (the x86-64 long-mode format). */
#ifndef KVMLITE_NPT_H
#define KVMLITE_NPT_H

#include <linux/types.h>

struct kvl_npt {
	u64 *root;		/* PML4 */
	unsigned long pages;	/* table pages in use, root included */
};

int kvl_npt_init(struct kvl_npt *npt);
void kvl_npt_destroy(struct kvl_npt *npt);
int kvl_npt_map(struct kvl_npt *npt, u64 gpa, unsigned long pfn, bool writable);
int kvl_npt_map_level(struct kvl_npt *npt, u64 gpa, unsigned long pfn, bool writable,
		      int leaf_level, u64 **unlinked);
void kvl_npt_free_table(u64 *table);
void kvl_npt_zap(struct kvl_npt *npt, u64 start, u64 end);

#endif
