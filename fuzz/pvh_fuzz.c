// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the PVH ELF loader's parser (runner/pvh.c, libelf).
 * What it accepts must hold what boot_pvh__load() relies on, or abort:
 * segments inside the file, sorted, disjoint, in [1 MiB, 3 GiB), the entry
 * inside loaded bytes.  The segment copies are made as the loader makes them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../runner/pvh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t sink[4096];
	struct pvh_image p;
	const char *err = NULL;
	bool in = false;
	int i;

	if (pvh__parse(data, size, &p, &err) < 0) {
		if (!err || !err[0])
			abort();
		return 0;
	}
	if (p.nseg < 1 || p.nseg > PVH_MAX_SEGS)
		abort();
	for (i = 0; i < p.nseg; i++) {
		const struct pvh_seg *s = &p.seg[i];

		if (s->offset > size || s->filesz > size - s->offset || s->filesz > s->memsz)
			abort();
		if (s->paddr < PVH_LOAD_MIN || s->paddr + s->memsz > PVH_LOAD_MAX)
			abort();
		if (i && s->paddr < p.seg[i - 1].paddr + p.seg[i - 1].memsz)
			abort();
		if (p.entry >= s->paddr && p.entry < s->paddr + s->filesz)
			in = true;
		/* The loader's copy: every file byte it names is readable. */
		if (s->filesz)
			memcpy(sink, data + s->offset + s->filesz - (s->filesz < sizeof(sink) ?
					s->filesz : sizeof(sink)), s->filesz < sizeof(sink) ?
			       s->filesz : sizeof(sink));
	}
	if (!in || p.end != p.seg[p.nseg - 1].paddr + p.seg[p.nseg - 1].memsz)
		abort();
	return 0;
}
