/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The scrolling text fbloop draws in the guest, shared with the host's
 * vncperf (selftests/bench), which must redraw exactly the same frames.
 */
#ifndef KVL_FBTEXT_H
#define KVL_FBTEXT_H

#include <stdint.h>
#include <string.h>

static uint32_t rnd = 12345;

static uint32_t next_rnd(void)
{
	rnd = rnd * 1103515245u + 12345u;
	return rnd >> 8;
}

static void put_px(uint8_t *p, uint32_t bpp, uint32_t v)
{
	uint32_t i;

	for (i = 0; i < bpp / 8; i++)
		p[i] = v >> (8 * i);
}

/*
 * One text line (16 pixel rows) at @row: light grey on black, words of
 * 2..9 characters, a log-like length; glyphs from a hash of the character.
 */
static void text_line(uint8_t *fb, uint32_t row, uint32_t xres, uint32_t bpp, uint32_t pitch)
{
	uint32_t grey = bpp == 16 ? 0xad55 : 0xaaaaaa, cols = xres / 8, len, c, r, b;
	uint8_t line[256];

	memset(fb + (size_t)row * pitch, 0, (size_t)16 * pitch);
	len = cols <= 40 ? cols : 20 + next_rnd() % (cols - 20 < 100 ? cols - 20 : 100);
	for (c = 0; c < len && c < sizeof(line); c++)
		line[c] = next_rnd() % 7 ? 'a' + next_rnd() % 26 : ' ';
	for (c = 0; c < len && c < sizeof(line); c++) {
		if (line[c] == ' ')
			continue;
		for (r = 3; r < 14; r++) {
			uint32_t bits = ((line[c] * 2654435761u) >> (r * 2)) & 0x7e;
			uint8_t *p = fb + (size_t)(row + r) * pitch + c * 8 * (bpp / 8);

			for (b = 0; b < 8; b++)
				if (bits & (0x80 >> b))
					put_px(p + b * (bpp / 8), bpp, grey);
		}
	}
}

#endif
