// SPDX-License-Identifier: GPL-2.0
/* The port I/O and MMIO buses: a short table, filled before any vCPU runs. */
#include <string.h>

#include "ioport.h"

#define IO_MAX_REGIONS	32

struct io_region {
	enum io_space space;
	uint64_t base, len;
	io_fn fn;
	void *opaque;
};

static struct io_region regions[IO_MAX_REGIONS];
static unsigned int nr_regions;

int io__register(enum io_space space, uint64_t base, uint64_t len, io_fn fn,
		 void *opaque)
{
	unsigned int i;

	if (!len || !fn || base + len < base || nr_regions == IO_MAX_REGIONS)
		return -1;
	for (i = 0; i < nr_regions; i++) {
		struct io_region *r = &regions[i];

		if (r->space == space && base < r->base + r->len && r->base < base + len)
			return -1;
	}
	regions[nr_regions++] = (struct io_region){ space, base, len, fn, opaque };
	return 0;
}

void io__access(enum io_space space, uint64_t addr, uint8_t *data, uint32_t len,
		bool is_write)
{
	unsigned int i;

	for (i = 0; i < nr_regions; i++) {
		struct io_region *r = &regions[i];

		if (r->space == space && addr >= r->base && addr - r->base < r->len &&
		    len <= r->len - (addr - r->base)) {
			r->fn(r->opaque, addr - r->base, data, len, is_write);
			return;
		}
	}
	if (!is_write)
		memset(data, 0xff, len);
}
