// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for runner/vnc_scroll.c: the pictures are the guest's,
 * so any content.  Input: width (1 byte), height (1 byte), a rectangle
 * (4 bytes; the top bit of its first: 4 bytes a pixel, else 3), then the
 * old and the new picture's pixels (missing bytes 0).
 * The band found must lie inside the rectangle, its source too, and match.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include "../runner/vnc_scroll.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t w, h, y, bpp;
	size_t n, i;
	uint8_t *old, *cur;
	struct rfb_rect a, b;
	int dy;

	if (size < 6)
		return 0;
	w = data[0] % 64 + 1;
	h = data[1] % 96 + 1;
	bpp = data[2] & 0x80 ? 4 : 3;
	a.x = data[2] % w;
	a.y = data[3] % h;
	a.w = data[4] % (w - a.x + 1);
	a.h = data[5] % (h - a.y + 1);
	data += 6;
	size -= 6;
	n = (size_t)w * h * bpp;
	old = calloc(1, n);
	cur = calloc(1, n);
	assert(old && cur);
	/* Small inputs spread over the rows: repeat them, which makes scrolls likely. */
	for (i = 0; size && i < 2 * n; i++)
		(i < n ? old : cur)[i % n] = data[i % size];
	dy = vnc_find_scroll(old, cur, w, bpp, &a, NULL, &b);
	/* The same with the old rows' hashes given. */
	{
		uint64_t hs[96];
		struct rfb_rect b2;

		for (y = 0; y < a.h; y++)
			hs[y] = vnc_row_hash(old + ((size_t)(a.y + y) * w + a.x) * bpp,
					     (size_t)a.w * bpp);
		assert(vnc_find_scroll(old, cur, w, bpp, &a, hs, &b2) == dy);
		assert(!dy || !memcmp(&b, &b2, sizeof(b)));
	}
	if (dy) {
		assert(b.x == a.x && b.w == a.w && b.y >= a.y && b.y + b.h <= a.y + a.h);
		assert((long)b.y + dy >= (long)a.y && (long)b.y + dy + b.h <= (long)a.y + a.h);
		assert(b.h >= VNC_SCROLL_MIN_ROWS);
		for (y = 0; y < b.h; y++)
			assert(!memcmp(cur + ((size_t)(b.y + y) * w + b.x) * bpp,
				       old + ((size_t)(b.y + y + dy) * w + b.x) * bpp,
				       (size_t)b.w * bpp));
	}
	free(old);
	free(cur);
	return 0;
}
