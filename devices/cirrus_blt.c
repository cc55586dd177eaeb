// SPDX-License-Identifier: GPL-2.0
/*
 * The CL-GD5446 BitBLT engine, as cirrusfb and X's cirrus driver use it.
 *
 * Registers (graphics controller, also at BAR1 0x100 + the MMIO offset):
 *   GR00/10/12/14  background colour bytes 0..3   (MMIO 0x00..0x03)
 *   GR01/11/13/15  foreground colour bytes 0..3   (MMIO 0x04..0x07)
 *   GR20/21        width - 1, in bytes (13 bits)  (MMIO 0x08)
 *   GR22/23        height - 1 (11 bits)           (MMIO 0x0a)
 *   GR24/25        destination pitch (13 bits)    (MMIO 0x0c)
 *   GR26/27        source pitch (13 bits)         (MMIO 0x0e)
 *   GR28/29/2A     destination address (22 bits)  (MMIO 0x10; GR2A autostarts)
 *   GR2C/2D/2E     source address (22 bits)       (MMIO 0x14)
 *   GR2F           left-edge skip, pixels (bits 2:0)  (MMIO 0x17)
 *   GR30           mode: 0x01 backwards, 0x02 video-to-system, 0x04 system
 *                  source, 0x08 transparent, 0x10/0x20/0x30 16/24/32 bpp,
 *                  0x40 8x8 pattern, 0x80 colour expansion  (MMIO 0x18)
 *   GR31           0x01 busy, 0x02 start, 0x04 reset, 0x80 autostart (MMIO 0x40)
 *   GR32           raster operation (MMIO 0x1a)
 *   GR33           0x01 dword-aligned expansion lines, 0x02 invert expansion,
 *                  0x04 solid fill (MMIO 0x1b)
 *
 * Everything runs to completion inside the write that starts it, except a
 * system-to-video blit, which takes its source a line at a time from CPU
 * writes to the legacy window.  Every address, pitch, width and height is
 * checked against VRAM before the first byte moves (QEMU's CVE-2017-2615,
 * CVE-2017-2620 and CVE-2016-9921 were missing or wrong checks here): a
 * blit that would leave VRAM does nothing at all.  The parameters are
 * copied out of the registers when it starts, so register writes during a
 * system-to-video blit cannot move it.  No division by a guest value.
 *
 * Not done (no Linux or X driver path needs them): video-to-system blits,
 * transparency on plain copies (honoured for colour expansion only),
 * patterns from system memory, backwards colour expansion.  Those abort.
 */
#include <string.h>

#include "cirrus.h"

#define BLT_BUSY	0x01
#define BLT_START	0x02
#define BLT_RESET	0x04
#define BLT_FIFOUSED	0x10
#define BLT_AUTOSTART	0x80

#define MODE_BACKWARDS	0x01
#define MODE_SYSDEST	0x02
#define MODE_SYSSRC	0x04
#define MODE_TRANSP	0x08
#define MODE_PIXWIDTH	0x30
#define MODE_PATTERN	0x40
#define MODE_EXPAND	0x80

#define EXT_DWORD	0x01
#define EXT_INVERT	0x02
#define EXT_SOLIDFILL	0x04

/* GR index behind each BLT MMIO offset; 0 for none (GR00 sits at offset 0 only). */
static const uint8_t mmio_gr[0x41] = {
	[0x00] = 0x00, [0x01] = 0x10, [0x02] = 0x12, [0x03] = 0x14,
	[0x04] = 0x01, [0x05] = 0x11, [0x06] = 0x13, [0x07] = 0x15,
	[0x08] = 0x20, [0x09] = 0x21, [0x0a] = 0x22, [0x0b] = 0x23,
	[0x0c] = 0x24, [0x0d] = 0x25, [0x0e] = 0x26, [0x0f] = 0x27,
	[0x10] = 0x28, [0x11] = 0x29, [0x12] = 0x2a,
	[0x14] = 0x2c, [0x15] = 0x2d, [0x16] = 0x2e, [0x17] = 0x2f,
	[0x18] = 0x30, [0x1a] = 0x32, [0x1b] = 0x33,
	[0x1c] = 0x34, [0x1d] = 0x35, [0x20] = 0x38, [0x21] = 0x39,
	[0x40] = 0x31,
};

/*
 * Raster operations as truth tables: bit (s << 1 | d) is the result for
 * source bit s and destination bit d.  0: unknown code.
 */
static uint8_t rop_table(uint8_t rop)
{
	switch (rop) {
	case 0x00: return 0x10;		/* 0 (bit 4 marks "known") */
	case 0x05: return 0x18;		/* s & d */
	case 0x06: return 0x1a;		/* d */
	case 0x09: return 0x14;		/* s & ~d */
	case 0x0b: return 0x15;		/* ~d */
	case 0x0d: return 0x1c;		/* s */
	case 0x0e: return 0x1f;		/* 1 */
	case 0x50: return 0x12;		/* ~s & d */
	case 0x59: return 0x16;		/* s ^ d */
	case 0x6d: return 0x1e;		/* s | d */
	case 0x90: return 0x17;		/* ~s | ~d */
	case 0x95: return 0x19;		/* ~(s ^ d) */
	case 0xad: return 0x1d;		/* s | ~d */
	case 0xd0: return 0x13;		/* ~s */
	case 0xd6: return 0x1b;		/* ~s | d */
	case 0xda: return 0x11;		/* ~s & ~d */
	}
	return 0;
}

/* Branch-free: each truth-table bit selects one minterm (0x00 or 0xff masks). */
static inline uint8_t rop_apply(uint8_t tt, uint8_t s, uint8_t d)
{
	uint8_t m0 = (uint8_t)-(tt & 1), m1 = (uint8_t)-((tt >> 1) & 1);
	uint8_t m2 = (uint8_t)-((tt >> 2) & 1), m3 = (uint8_t)-((tt >> 3) & 1);

	return (uint8_t)((m0 & ~s & ~d) | (m1 & ~s & d) | (m2 & s & ~d) | (m3 & s & d));
}

/* One blit, copied out of the registers. */
struct blt {
	uint32_t width, height, dpitch, spitch, dst, src, mode, ext, pw, skip;
	uint32_t fg, bg;
	uint8_t tt;
};

static void blt_done(struct cirrus *c)
{
	c->gr[0x31] &= ~(BLT_START | BLT_BUSY | BLT_FIFOUSED);
	c->sysblt.active = false;
}

void cirrus_blt_reset(struct cirrus *c)
{
	blt_done(c);
}

/*
 * [*lo, *hi) = the bytes that @h rows of @w bytes at @addr, @pitch apart,
 * touch; backwards blits give the last byte and go down in memory.
 * False if any of it lies outside VRAM.
 */
static bool rect_ok(const struct cirrus *c, uint32_t addr, uint32_t pitch, uint32_t w, uint32_t h,
		    bool back, uint64_t *lo, uint64_t *hi)
{
	uint64_t span;

	if (!w || !h)
		return false;
	span = (uint64_t)(h - 1) * pitch;
	if (!back) {
		*lo = addr;
		*hi = addr + span + w;
	} else {
		if ((uint64_t)addr < span + w - 1)
			return false;
		*lo = addr - span - (w - 1);
		*hi = (uint64_t)addr + 1;
	}
	return *hi <= c->vram_size;
}

static uint8_t colour_byte(uint32_t colour, uint32_t k)
{
	return (uint8_t)(colour >> (8 * k));
}

/* Destination byte @x of row @y (already checked to lie in VRAM). */
static uint8_t *dst_byte(struct cirrus *c, const struct blt *b, uint32_t y, uint32_t x)
{
	if (b->mode & MODE_BACKWARDS)
		return &c->vram[b->dst - (uint64_t)y * b->dpitch - x];
	return &c->vram[b->dst + (uint64_t)y * b->dpitch + x];
}

#define TT_SRC	0x1c

/* Row @y of a copy, lowest address first (backwards rows end at the given address). */
static uint8_t *row_base(struct cirrus *c, uint32_t addr, uint32_t pitch, uint32_t y, uint32_t w,
			 bool back)
{
	if (back)
		return &c->vram[addr - (uint64_t)y * pitch - (w - 1)];
	return &c->vram[addr + (uint64_t)y * pitch];
}

static void blt_copy(struct cirrus *c, const struct blt *b)
{
	bool back = b->mode & MODE_BACKWARDS;
	uint32_t w = b->width, x, y;

	for (y = 0; y < b->height; y++) {
		uint8_t *d = row_base(c, b->dst, b->dpitch, y, w, back);
		const uint8_t *s = row_base(c, b->src, b->spitch, y, w, back);

		if (b->tt == TT_SRC && (s + w <= d || d + w <= s)) {
			memcpy(d, s, w);
		} else if (back) {
			/* Backwards goes from the highest address down, byte by byte. */
			for (x = w; x-- > 0;)
				d[x] = rop_apply(b->tt, s[x], d[x]);
		} else {
			for (x = 0; x < w; x++)
				d[x] = rop_apply(b->tt, s[x], d[x]);
		}
	}
}

/* One row of colour expansion from the bits at @bits (bit 7 of byte 0 = pixel 0). */
static void expand_row(struct cirrus *c, const struct blt *b, uint32_t y, const uint8_t *bits,
		       uint32_t pat_mask)
{
	uint32_t x;

	for (x = b->skip * b->pw; x < b->width; x++) {
		uint32_t px = x / b->pw, k = x % b->pw, i = px & pat_mask;
		unsigned int bit = (bits[i / 8] >> (7 - i % 8)) & 1;
		uint8_t *d = dst_byte(c, b, y, x);
		uint8_t s;

		if (b->ext & EXT_INVERT)
			bit ^= 1;
		if (!bit && (b->mode & MODE_TRANSP))
			continue;
		s = colour_byte(bit ? b->fg : b->bg, k);
		*d = rop_apply(b->tt, s, *d);
	}
}

static void blt_expand(struct cirrus *c, const struct blt *b)
{
	uint32_t y;

	for (y = 0; y < b->height; y++)
		expand_row(c, b, y, &c->vram[b->src + (uint64_t)y * b->spitch], UINT32_MAX);
}

static uint32_t pattern_pitch(uint32_t pw)
{
	return pw == 3 ? 32 : 8 * pw;
}

static void blt_pattern(struct cirrus *c, const struct blt *b)
{
	uint32_t base = b->src & ~7u, row0 = b->src & 7, pp = pattern_pitch(b->pw), x, y;

	for (y = 0; y < b->height; y++) {
		uint32_t prow = base + ((y + row0) & 7) * ((b->mode & MODE_EXPAND) ? 1 : pp);

		if (b->mode & MODE_EXPAND) {
			expand_row(c, b, y, &c->vram[prow], 7);
			continue;
		}
		for (x = b->skip * b->pw; x < b->width; x++) {
			uint32_t px = x / b->pw, k = x % b->pw;
			uint8_t *d = dst_byte(c, b, y, x);

			*d = rop_apply(b->tt, c->vram[prow + (px & 7) * b->pw + k], *d);
		}
	}
}

static void blt_fill(struct cirrus *c, const struct blt *b)
{
	bool back = b->mode & MODE_BACKWARDS;
	uint32_t x, y, x0 = b->skip * b->pw;

	for (y = 0; y < b->height; y++) {
		if (b->tt == TT_SRC && b->pw == 1 && !back) {
			if (x0 < b->width)
				memset(dst_byte(c, b, y, x0), (uint8_t)b->fg, b->width - x0);
			continue;
		}
		for (x = x0; x < b->width; x++) {
			uint8_t *d = dst_byte(c, b, y, x);

			*d = rop_apply(b->tt, colour_byte(b->fg, x % b->pw), *d);
		}
	}
}

static void blt_load(const struct cirrus *c, struct blt *b)
{
	const uint8_t *g = c->gr;

	b->width = (g[0x20] | (g[0x21] & 0x1f) << 8) + 1u;
	b->height = (g[0x22] | (g[0x23] & 0x07) << 8) + 1u;
	b->dpitch = g[0x24] | (g[0x25] & 0x1f) << 8;
	b->spitch = g[0x26] | (g[0x27] & 0x1f) << 8;
	b->dst = g[0x28] | g[0x29] << 8 | (uint32_t)(g[0x2a] & 0x3f) << 16;
	b->src = g[0x2c] | g[0x2d] << 8 | (uint32_t)(g[0x2e] & 0x3f) << 16;
	b->mode = g[0x30];
	b->ext = g[0x33];
	b->pw = ((b->mode & MODE_PIXWIDTH) >> 4) + 1;
	b->skip = g[0x2f] & 7;
	b->tt = rop_table(g[0x32]);
	b->fg = g[0x01] | g[0x11] << 8 | g[0x13] << 16 | (uint32_t)g[0x15] << 24;
	b->bg = g[0x00] | g[0x10] << 8 | g[0x12] << 16 | (uint32_t)g[0x14] << 24;
}

/* Bytes of a row of colour-expansion bits covering the blit's width. */
static uint32_t expand_bytes(const struct blt *b)
{
	return ((b->width + b->pw - 1) / b->pw + 7) / 8;
}

void cirrus_blt_start(struct cirrus *c)
{
	bool back, solid;
	uint64_t lo, hi, slo, shi;
	struct blt b;

	if (c->sysblt.active)		/* one at a time */
		return;
	blt_load(c, &b);
	c->gr[0x31] |= BLT_BUSY;
	back = b.mode & MODE_BACKWARDS;
	if (!b.tt || (b.mode & MODE_SYSDEST))
		goto done;
	if (!rect_ok(c, b.dst, b.dpitch, b.width, b.height, back, &lo, &hi))
		goto done;
	solid = (b.ext & EXT_SOLIDFILL) &&
		(b.mode & (MODE_SYSDEST | MODE_TRANSP | MODE_PATTERN | MODE_EXPAND)) ==
		(MODE_PATTERN | MODE_EXPAND);
	if (solid) {
		blt_fill(c, &b);
	} else if (b.mode & MODE_SYSSRC) {
		/*
		 * Source lines: colour-expansion bits byte-aligned (dword-
		 * aligned with GR33 bit 0), pixels dword-aligned; the whole
		 * transfer is padded to a dword (as QEMU takes it).
		 */
		uint32_t len = (b.mode & MODE_EXPAND) ? expand_bytes(&b) : (b.width + 3) & ~3u;

		if ((b.mode & MODE_EXPAND) && (b.ext & EXT_DWORD))
			len = (len + 3) & ~3u;
		if (back || (b.mode & MODE_PATTERN) || len > CIRRUS_BLT_LINE_MAX)
			goto done;
		c->blt_dst = b.dst;
		c->blt_pitch = b.dpitch;
		c->blt_width = b.width;
		c->blt_mode = b.mode | (b.ext & EXT_INVERT) << 8;
		c->blt_rop = b.tt;
		c->blt_pw = b.pw;
		c->blt_fg = b.fg;
		c->blt_bg = b.bg;
		c->blt_skip = b.skip;
		c->sysblt.active = true;
		c->sysblt.line_len = len;
		c->sysblt.filled = 0;
		c->sysblt.row = 0;
		c->sysblt.rows = b.height;
		c->sysblt.left = (uint32_t)(((uint64_t)len * b.height + 3) & ~3ull);
		c->gr[0x31] |= BLT_START;
		return;
	} else if (b.mode & MODE_PATTERN) {
		uint32_t psize = (b.mode & MODE_EXPAND) ? 8 : 8 * pattern_pitch(b.pw);

		if (back || (uint64_t)(b.src & ~7u) + psize > c->vram_size)
			goto done;
		blt_pattern(c, &b);
	} else if (b.mode & MODE_EXPAND) {
		if (back || !rect_ok(c, b.src, b.spitch, expand_bytes(&b), b.height, false,
				     &slo, &shi))
			goto done;
		blt_expand(c, &b);
	} else {
		if (!rect_ok(c, b.src, b.spitch, b.width, b.height, back, &slo, &shi))
			goto done;
		blt_copy(c, &b);
	}
	cirrus_mark_dirty(c, lo, hi - lo);
done:
	blt_done(c);
}

/* Draw one source line of a system-to-video blit (parameters checked at start). */
static void sys_line(struct cirrus *c)
{
	struct blt b = {
		.width = c->blt_width, .height = c->sysblt.rows, .dpitch = c->blt_pitch,
		.dst = c->blt_dst, .mode = c->blt_mode & 0xff, .ext = c->blt_mode >> 8,
		.pw = c->blt_pw, .skip = c->blt_skip, .fg = c->blt_fg, .bg = c->blt_bg,
		.tt = (uint8_t)c->blt_rop,
	};
	uint32_t y = c->sysblt.row, x;

	if (b.mode & MODE_EXPAND) {
		expand_row(c, &b, y, c->sysblt.line, UINT32_MAX);
	} else {
		for (x = b.skip * b.pw; x < b.width; x++) {
			uint8_t *d = dst_byte(c, &b, y, x);

			*d = rop_apply(b.tt, c->sysblt.line[x], *d);
		}
	}
	cirrus_mark_dirty(c, b.dst + (uint64_t)y * b.dpitch, b.width);
}

void cirrus_blt_sys_write(struct cirrus *c, uint8_t val)
{
	struct cirrus_sysblt *s = &c->sysblt;

	if (!s->active)
		return;
	if (s->row < s->rows && s->filled < s->line_len && s->line_len <= sizeof(s->line)) {
		s->line[s->filled++] = val;
		if (s->filled == s->line_len) {
			s->filled = 0;
			sys_line(c);
			s->row++;
		}
	}
	/* Padding after the last line is swallowed too. */
	if (!s->left || !--s->left)
		blt_done(c);
}

void cirrus_gr_write(struct cirrus *c, uint8_t index, uint8_t val)
{
	uint8_t old;

	switch (index) {
	case 0x21:
	case 0x25:
	case 0x27:
		val &= 0x1f;
		break;
	case 0x23:
		val &= 0x07;
		break;
	case 0x2e:
		val &= 0x3f;
		break;
	case 0x2a:
		c->gr[index] = val & 0x3f;
		if (c->gr[0x31] & BLT_AUTOSTART)
			cirrus_blt_start(c);
		return;
	case 0x31:
		old = c->gr[0x31];
		c->gr[0x31] = (val & ~BLT_BUSY) | (old & BLT_BUSY);
		if ((old & BLT_RESET) && !(val & BLT_RESET))
			cirrus_blt_reset(c);
		else if (!(old & BLT_START) && (val & BLT_START))
			cirrus_blt_start(c);
		return;
	}
	c->gr[index] = val;
}

uint8_t cirrus_blt_mmio_read(struct cirrus *c, uint32_t off)
{
	if (off >= sizeof(mmio_gr) || (off && !mmio_gr[off]))
		return 0xff;
	return c->gr[mmio_gr[off]];
}

void cirrus_blt_mmio_write(struct cirrus *c, uint32_t off, uint8_t val)
{
	if (off >= sizeof(mmio_gr) || (off && !mmio_gr[off]))
		return;
	cirrus_gr_write(c, mmio_gr[off], val);
}
