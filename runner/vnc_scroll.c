// SPDX-License-Identifier: GPL-2.0
/*
 * Scroll detection for CopyRect: row hashes of the old picture (a small
 * hash table of its rows) and of every fourth row of the new one, the
 * offsets that those non-uniform new rows suggest, and for the most
 * suggested offsets the longest band of rows that match there (compared
 * with memcmp).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "vnc_scroll.h"

#define MAX_CANDIDATES	4

#define FNV_PRIME	0x100000001b3ULL

uint64_t vnc_row_hash(const uint8_t *p, size_t n)
{
	uint64_t h[4] = { 0xcbf29ce484222325ULL, 1, 2, 3 }, v[4];
	size_t i;

	/*
	 * FNV-1a 8 bytes at a time, in four independent lanes of 32 bytes
	 * (fewer instructions a byte, and the multiplies overlap); rows are
	 * not aligned: memcpy.
	 */
	for (i = 0; i + 32 <= n; i += 32) {
		memcpy(&v[0], p + i, 8);
		memcpy(&v[1], p + i + 8, 8);
		memcpy(&v[2], p + i + 16, 8);
		memcpy(&v[3], p + i + 24, 8);
		h[0] = (h[0] ^ v[0]) * FNV_PRIME;
		h[1] = (h[1] ^ v[1]) * FNV_PRIME;
		h[2] = (h[2] ^ v[2]) * FNV_PRIME;
		h[3] = (h[3] ^ v[3]) * FNV_PRIME;
	}
	h[0] = (((h[0] * FNV_PRIME ^ h[1]) * FNV_PRIME ^ h[2]) * FNV_PRIME ^ h[3]);
	for (; i < n; i++)
		h[0] = (h[0] ^ p[i]) * FNV_PRIME;
	return h[0] ^ (h[0] >> 29);
}

static bool uniform(const uint8_t *p, size_t n, unsigned int bpp)
{
	return n <= bpp || !memcmp(p, p + bpp, n - bpp);
}

int vnc_find_scroll(const uint8_t *old, const uint8_t *cur, uint32_t fw, unsigned int bpp,
		    const struct rfb_rect *a, const uint64_t *old_hash, struct rfb_rect *band)
{
	size_t stride = (size_t)fw * bpp, n = (size_t)a->w * bpp, tsize;
	uint64_t *ho = NULL, hc;
	int32_t *tab = NULL;
	int cand[MAX_CANDIDATES], votes[MAX_CANDIDATES], ncand = 0, best_dy = 0, i;
	uint32_t y, best_len = 0, best_y = 0;

	if (a->h < VNC_SCROLL_MIN_ROWS || !a->w)
		return 0;
	ho = malloc(a->h * sizeof(*ho));
	for (tsize = 64; tsize < 2 * (size_t)a->h; tsize *= 2)
		;
	tab = malloc(tsize * sizeof(*tab));
	if (!ho || !tab)
		goto out;
	memset(tab, -1, tsize * sizeof(*tab));
	for (y = 0; y < a->h; y++) {
		const uint8_t *po = old + (a->y + y) * stride + (size_t)a->x * bpp;

		ho[y] = old_hash ? old_hash[y] : vnc_row_hash(po, n);
		if (!uniform(po, n, bpp)) {	/* index the old rows: hash -> row */
			size_t k = ho[y] & (tsize - 1);

			while (tab[k] >= 0 && ho[tab[k]] != ho[y])
				k = (k + 1) & (tsize - 1);
			tab[k] = y;
		}
	}
	/* Each non-uniform new row votes for the offset at which the old picture has it. */
	for (y = 0; y < a->h; y += 4) {
		const uint8_t *pc = cur + (a->y + y) * stride + (size_t)a->x * bpp;
		size_t k;
		int dy;

		hc = vnc_row_hash(pc, n);
		k = hc & (tsize - 1);
		if (hc == ho[y] || uniform(pc, n, bpp))
			continue;
		while (tab[k] >= 0 && ho[tab[k]] != hc)
			k = (k + 1) & (tsize - 1);
		if (tab[k] < 0)
			continue;
		dy = tab[k] - (int)y;
		for (i = 0; i < ncand && cand[i] != dy; i++)
			;
		if (i < ncand) {
			votes[i]++;
		} else if (ncand < MAX_CANDIDATES) {
			cand[ncand] = dy;
			votes[ncand++] = 1;
		}
	}
	/* For each offset: the longest run of rows that match there (and moved: differ in place). */
	for (i = 0; i < ncand; i++) {
		int dy = cand[i];
		uint32_t run = 0, start = 0;
		bool moved = false;

		if (votes[i] < 2)
			continue;
		for (y = 0; y <= a->h; y++) {
			const uint8_t *pc = cur + (a->y + y) * stride + (size_t)a->x * bpp;
			long src = (long)y + dy;
			bool match = y < a->h && src >= 0 && src < (long)a->h &&
				     !memcmp(pc, old + (a->y + src) * stride + (size_t)a->x * bpp, n);

			if (match) {
				if (!run++) {
					start = y;
					moved = false;
				}
				moved = moved || memcmp(pc, old + (a->y + y) * stride +
							(size_t)a->x * bpp, n);
				continue;
			}
			if (run > best_len && moved) {
				best_len = run;
				best_y = start;
				best_dy = dy;
			}
			run = 0;
		}
	}
	if (best_len < VNC_SCROLL_MIN_ROWS)
		best_dy = 0;
	else
		*band = (struct rfb_rect){ a->x, a->y + best_y, a->w, best_len };
out:
	free(ho);
	free(tab);
	return best_dy;
}
