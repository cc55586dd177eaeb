// SPDX-License-Identifier: GPL-2.0
/*
 * Cirrus CL-GD5446 register file, legacy window and mode decode; see
 * cirrus.h.  The blitter is in cirrus_blt.c.
 *
 * Mode decode is what Linux's cirrus DRM driver programs (and QEMU
 * decodes): with GR06 bit 0 clear the screen is alphanumeric; with it set
 * and SR07 bit 0 set it is a Cirrus linear mode whose depth comes from
 * SR07 bits 3:1 (0: 8 bpp, 1 and 3: 15 or 16 bpp after the hidden DAC,
 * 2: 24 bpp, 4: 32 bpp); width (CR01 + 1) * 8, height from CR12 and the
 * CR07 overflow bits, pitch (CR13 | CR1B bit 4 << 8 | CR1B bit 6 << 9) * 8
 * and start address CR0C/CR0D/CR1B/CR1D in 4-byte units.  Standard VGA
 * graphics modes (planar 16 colours, mode 13h) are not shown.  The
 * attribute controller's PAS bit (index bit 5) blanks the screen while
 * clear; Linux's "outb(0x20, 0x3c0)" sets it.
 */
#include <stdio.h>
#include <string.h>

#include "cirrus.h"

/* Mode 3 (80x25 colour text), as a VGA BIOS leaves it. */
static const uint8_t mode3_sr[5] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
static const uint8_t mode3_cr[25] = {
	0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e,
	0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff,
};
static const uint8_t mode3_gr[9] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff };
static const uint8_t mode3_ar[21] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b,
	0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00,
};

#define ST01_TOGGLE	0x09	/* display enable and vertical retrace */
#define AR_PAS		0x20
#define SR07_EXT	0x01
#define GR06_GRAPHICS	0x01
#define HIDDEN_DAC_READS 4

int cirrus_init(struct cirrus *c, uint8_t *vram, uint32_t vram_size)
{
	if (!vram || vram_size < CIRRUS_VRAM_MIN || vram_size > CIRRUS_VRAM_MAX ||
	    (vram_size & (vram_size - 1)))
		return -1;
	memset(c, 0, sizeof(*c));
	c->vram = vram;
	c->vram_size = vram_size;
	cirrus_reset(c);
	return 0;
}

void cirrus_reset(struct cirrus *c)
{
	uint8_t *vram = c->vram;
	uint32_t size = c->vram_size;
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->vram = vram;
	c->vram_size = size;
	c->misc = 0x67;
	memcpy(c->sr, mode3_sr, sizeof(mode3_sr));
	memcpy(c->cr, mode3_cr, sizeof(mode3_cr));
	memcpy(c->gr, mode3_gr, sizeof(mode3_gr));
	memcpy(c->ar, mode3_ar, sizeof(mode3_ar));
	c->ar_index = AR_PAS;
	c->dac_mask = 0xff;
	/* Cirrus identification and memory configuration, as cirrusfb probes them. */
	c->cr[0x27] = CIRRUS_DEVICE_ID;
	c->sr[0x06] = 0x0f;
	c->sr[0x0f] = 0x18;
	c->sr[0x15] = size >= (4u << 20) ? 0x04 : 0x03;
	c->sr[0x1f] = 0x2d;
	c->gr[0x18] = 0x0f;
	/* The EGA palette in DAC entries 0..63 (rgbRGB), the rest black. */
	for (i = 0; i < 64; i++) {
		c->palette[i * 3 + 0] = ((i >> 2) & 1) * 0x2a + ((i >> 5) & 1) * 0x15;
		c->palette[i * 3 + 1] = ((i >> 1) & 1) * 0x2a + ((i >> 4) & 1) * 0x15;
		c->palette[i * 3 + 2] = ((i >> 0) & 1) * 0x2a + ((i >> 3) & 1) * 0x15;
	}
	c->cursor_x = c->cursor_y = -1;
}

void cirrus_mark_dirty(struct cirrus *c, uint64_t off, uint64_t len)
{
	uint64_t p, last;

	if (!len || off >= c->vram_size)
		return;
	if (len > c->vram_size - off)
		len = c->vram_size - off;
	last = (off + len - 1) / CIRRUS_PAGE_SIZE;
	for (p = off / CIRRUS_PAGE_SIZE; p <= last; p++)
		c->dirty[p / 64] |= 1ull << (p % 64);
}

/* Ports. */

static void sr_write(struct cirrus *c, uint8_t val)
{
	uint8_t i = c->sr_index;

	switch (i) {
	case 0x06:	/* unlock extensions: reads 0x12 when unlocked */
		c->sr[i] = (val & 0x17) == 0x12 ? 0x12 : 0x0f;
		return;
	case 0x02:
		val &= 0x0f;
		break;
	case 0x03:
		if (c->sr[i] != val)
			c->font_changed = true;
		break;
	}
	c->sr[i] = val;
}

static void cr_write(struct cirrus *c, uint8_t val)
{
	uint8_t i = c->cr_index;

	/* CR11 bit 7 protects CR00..CR07, except CR07 bit 4 (line compare bit 8). */
	if (i <= 7 && (c->cr[0x11] & 0x80)) {
		if (i == 7)
			c->cr[7] = (c->cr[7] & ~0x10) | (val & 0x10);
		return;
	}
	/* Read-only: the chip id, the attribute index and its flip-flop. */
	if (i == 0x27 || i == 0x26 || i == 0x24)
		return;
	c->cr[i] = val;
}

static uint8_t cr_read(struct cirrus *c)
{
	switch (c->cr_index) {
	case 0x24:
		return c->ar_flip ? 0x80 : 0;
	case 0x26:
		return c->ar_index & 0x3f;
	}
	return c->cr[c->cr_index];
}

static void ar_write(struct cirrus *c, uint8_t val)
{
	uint8_t i;

	if (!c->ar_flip) {
		c->ar_index = val & 0x3f;
		c->ar_flip = true;
		return;
	}
	c->ar_flip = false;
	i = c->ar_index & 0x1f;
	if (i < 0x10)
		val &= 0x3f;
	else if (i == 0x12)
		val &= 0x3f;
	else if (i == 0x14)
		val &= 0x0f;
	else if (i > 0x14)
		return;
	if (c->ar[i] != val)
		c->pal_changed = true;
	c->ar[i] = val;
}

static void dac_data_write(struct cirrus *c, uint8_t val)
{
	c->dac_cache[c->dac_sub++] = val & 0x3f;
	if (c->dac_sub < 3)
		return;
	c->dac_sub = 0;
	if (memcmp(&c->palette[c->dac_write * 3], c->dac_cache, 3)) {
		memcpy(&c->palette[c->dac_write * 3], c->dac_cache, 3);
		c->pal_changed = true;
	}
	c->dac_write++;
}

static uint8_t dac_data_read(struct cirrus *c)
{
	uint8_t v = c->palette[c->dac_read * 3 + c->dac_sub];

	if (++c->dac_sub == 3) {
		c->dac_sub = 0;
		c->dac_read++;
	}
	return v;
}

/* The CRTC and status ports answer at 0x3bx or 0x3dx after misc bit 0 (colour). */
static bool port_other_crtc(const struct cirrus *c, uint16_t port)
{
	if (port >= 0x3b0 && port <= 0x3bf)
		return c->misc & 1;
	if (port >= 0x3d0 && port <= 0x3df)
		return !(c->misc & 1);
	return false;
}

uint8_t cirrus_port_read(struct cirrus *c, uint16_t port)
{
	if (port < CIRRUS_PORT_BASE || port >= CIRRUS_PORT_BASE + CIRRUS_PORT_COUNT ||
	    port_other_crtc(c, port))
		return 0xff;
	if (port != 0x3c6)
		c->hidden_count = 0;
	switch (port) {
	case 0x3c0:
		return c->ar_index;
	case 0x3c1:
		return c->ar[c->ar_index & 0x1f];
	case 0x3c2:
		return 0x10;	/* switch sense: colour monitor */
	case 0x3c4:
		return c->sr_index;
	case 0x3c5:
		return c->sr[c->sr_index];
	case 0x3c6:
		/* Four reads of the mask register, then the fifth reads the hidden DAC. */
		if (c->hidden_count == HIDDEN_DAC_READS) {
			c->hidden_count = 0;
			return c->hidden_dac;
		}
		c->hidden_count++;
		return c->dac_mask;
	case 0x3c7:
		return c->dac_state;
	case 0x3c8:
		return c->dac_write;
	case 0x3c9:
		return dac_data_read(c);
	case 0x3ca:
		return c->fcr;
	case 0x3cc:
		return c->misc;
	case 0x3ce:
		return c->gr_index;
	case 0x3cf:
		return c->gr[c->gr_index];
	case 0x3b4:
	case 0x3d4:
		return c->cr_index;
	case 0x3b5:
	case 0x3d5:
		return cr_read(c);
	case 0x3ba:
	case 0x3da:
		c->ar_flip = false;
		c->st01 ^= ST01_TOGGLE;
		return c->st01;
	}
	return 0xff;
}

void cirrus_port_write(struct cirrus *c, uint16_t port, uint8_t val)
{
	if (port < CIRRUS_PORT_BASE || port >= CIRRUS_PORT_BASE + CIRRUS_PORT_COUNT ||
	    port_other_crtc(c, port))
		return;
	if (port == 0x3c6) {
		if (c->hidden_count == HIDDEN_DAC_READS)
			c->hidden_dac = val;
		else
			c->dac_mask = val;
		c->hidden_count = 0;
		return;
	}
	c->hidden_count = 0;
	switch (port) {
	case 0x3c0:
		ar_write(c, val);
		break;
	case 0x3c2:
		c->misc = val;
		break;
	case 0x3c4:
		c->sr_index = val;
		break;
	case 0x3c5:
		sr_write(c, val);
		break;
	case 0x3c7:
		c->dac_read = val;
		c->dac_sub = 0;
		c->dac_state = 0x03;
		break;
	case 0x3c8:
		c->dac_write = val;
		c->dac_sub = 0;
		c->dac_state = 0x00;
		break;
	case 0x3c9:
		dac_data_write(c, val);
		break;
	case 0x3ce:
		c->gr_index = val;
		break;
	case 0x3cf:
		cirrus_gr_write(c, c->gr_index, val);
		break;
	case 0x3b4:
	case 0x3d4:
		c->cr_index = val;
		break;
	case 0x3b5:
	case 0x3d5:
		cr_write(c, val);
		break;
	case 0x3ba:
	case 0x3da:
		c->fcr = val;
		break;
	}
}

uint32_t cirrus_port_read_n(struct cirrus *c, uint16_t port, unsigned int size)
{
	uint32_t v = 0;
	unsigned int i;

	if (size != 1 && size != 2 && size != 4)
		return ~0u;
	for (i = 0; i < size; i++)
		v |= (uint32_t)cirrus_port_read(c, (uint16_t)(port + i)) << (8 * i);
	return v;
}

void cirrus_port_write_n(struct cirrus *c, uint16_t port, uint32_t val, unsigned int size)
{
	unsigned int i;

	if (size != 1 && size != 2 && size != 4)
		return;
	for (i = 0; i < size; i++)
		cirrus_port_write(c, (uint16_t)(port + i), (uint8_t)(val >> (8 * i)));
}

/* BAR1. */

#define MMIO_BLT_BASE	0x100
#define MMIO_BLT_SIZE	0x100

static uint8_t mmio_read8(struct cirrus *c, uint32_t off)
{
	if (off < 0x20)
		return cirrus_port_read(c, (uint16_t)(0x3c0 + off));
	if (off >= MMIO_BLT_BASE && off < MMIO_BLT_BASE + MMIO_BLT_SIZE)
		return cirrus_blt_mmio_read(c, off - MMIO_BLT_BASE);
	return 0xff;
}

static void mmio_write8(struct cirrus *c, uint32_t off, uint8_t val)
{
	if (off < 0x20)
		cirrus_port_write(c, (uint16_t)(0x3c0 + off), val);
	else if (off >= MMIO_BLT_BASE && off < MMIO_BLT_BASE + MMIO_BLT_SIZE)
		cirrus_blt_mmio_write(c, off - MMIO_BLT_BASE, val);
}

uint32_t cirrus_mmio_read(struct cirrus *c, uint32_t off, unsigned int size)
{
	uint32_t v = 0;
	unsigned int i;

	if ((size != 1 && size != 2 && size != 4) || off >= CIRRUS_MMIO_SIZE ||
	    size > CIRRUS_MMIO_SIZE - off)
		return ~0u;
	for (i = 0; i < size; i++)
		v |= (uint32_t)mmio_read8(c, off + i) << (8 * i);
	return v;
}

void cirrus_mmio_write(struct cirrus *c, uint32_t off, uint32_t val, unsigned int size)
{
	unsigned int i;

	if ((size != 1 && size != 2 && size != 4) || off >= CIRRUS_MMIO_SIZE ||
	    size > CIRRUS_MMIO_SIZE - off)
		return;
	for (i = 0; i < size; i++)
		mmio_write8(c, off + i, (uint8_t)(val >> (8 * i)));
}

/* The legacy window. */

/*
 * Map a window offset to the memory map GR06 bits 3:2 select; false when
 * the address is outside it.
 */
static bool legacy_map(const struct cirrus *c, uint32_t off, uint32_t *addr)
{
	static const uint32_t base[4] = { 0, 0, 0x10000, 0x18000 };
	static const uint32_t size[4] = { 0x20000, 0x10000, 0x8000, 0x8000 };
	unsigned int m = (c->gr[6] >> 2) & 3;

	if (off < base[m] || off - base[m] >= size[m])
		return false;
	*addr = off - base[m];
	return true;
}

/* Cirrus banking in extended modes: GR09/GR0A offsets, 4 or 16 KiB granules. */
static uint32_t bank_addr(const struct cirrus *c, uint32_t addr)
{
	unsigned int bank = 0;
	uint32_t base;

	if (c->gr[0x0b] & 0x01) {	/* dual banks: 0xa8000 up uses GR0A */
		bank = (addr >> 15) & 1;
		addr &= 0x7fff;
	} else {
		addr &= 0xffff;
	}
	base = c->gr[0x09 + bank];
	base = (c->gr[0x0b] & 0x20) ? base << 14 : base << 12;
	return (base + addr) & (c->vram_size - 1);
}

static bool legacy_blt_mmio(const struct cirrus *c, uint32_t off)
{
	return (c->sr[0x17] & 0x44) == 0x04 && (off & 0x1ff00) == 0x18000;
}

static uint8_t rotate_right(uint8_t v, unsigned int n)
{
	n &= 7;
	return n ? (uint8_t)((v >> n) | (v << (8 - n))) : v;
}

static void planar_write(struct cirrus *c, uint32_t addr, uint8_t val)
{
	uint8_t mode = c->gr[5] & 3, mask = c->gr[8], planes = c->sr[2] & 0x0f;
	uint8_t set = c->gr[0] & 0x0f, enable = c->gr[1] & 0x0f;
	uint8_t v = rotate_right(val, c->gr[3]);
	uint32_t base = (addr * 4) & (c->vram_size - 1);
	unsigned int p;

	for (p = 0; p < 4; p++) {
		uint8_t b, l = c->latch[p], m = mode == 3 ? (uint8_t)(mask & v) : mask;

		switch (mode) {
		case 0:
			b = (enable & (1 << p)) ? ((set & (1 << p)) ? 0xff : 0) : v;
			break;
		case 1:
			b = l;
			break;
		case 2:
			b = (val & (1 << p)) ? 0xff : 0;
			break;
		default:
			b = (set & (1 << p)) ? 0xff : 0;
			break;
		}
		if (mode != 1) {
			switch ((c->gr[3] >> 3) & 3) {
			case 1:
				b &= l;
				break;
			case 2:
				b |= l;
				break;
			case 3:
				b ^= l;
				break;
			}
			b = (b & m) | (l & ~m);
		}
		if (planes & (1 << p))
			c->vram[base + p] = b;
	}
	if (planes & 4)
		c->font_changed = c->font_loaded = true;
	cirrus_mark_dirty(c, base, 4);
}

static uint8_t planar_read(struct cirrus *c, uint32_t addr)
{
	uint32_t base = (addr * 4) & (c->vram_size - 1);
	uint8_t cc = c->gr[2] & 0x0f, care = c->gr[7] & 0x0f, diff = 0;
	unsigned int p;

	memcpy(c->latch, &c->vram[base], 4);
	if (!(c->gr[5] & 0x08))
		return c->latch[c->gr[4] & 3];
	for (p = 0; p < 4; p++)
		if (care & (1 << p))
			diff |= c->latch[p] ^ ((cc & (1 << p)) ? 0xff : 0);
	return (uint8_t)~diff;
}

uint8_t cirrus_mem_read(struct cirrus *c, uint32_t off)
{
	uint32_t addr, a;

	if (off >= CIRRUS_LEGACY_SIZE)
		return 0xff;
	if (legacy_blt_mmio(c, off))
		return cirrus_blt_mmio_read(c, off & 0xff);
	if (!legacy_map(c, off, &addr))
		return 0xff;
	if (c->sr[7] & SR07_EXT)
		return c->vram[bank_addr(c, addr)];
	if (c->sr[4] & 0x08)	/* chain-4 */
		return c->vram[addr & (c->vram_size - 1)];
	if (c->gr[5] & 0x10) {	/* odd/even */
		a = (((addr & ~1u) << 1) | (c->gr[4] & 2) | (addr & 1)) & (c->vram_size - 1);
		return c->vram[a];
	}
	return planar_read(c, addr);
}

void cirrus_mem_write(struct cirrus *c, uint32_t off, uint8_t val)
{
	uint32_t addr, a;
	unsigned int plane;

	if (off >= CIRRUS_LEGACY_SIZE)
		return;
	if (legacy_blt_mmio(c, off)) {
		cirrus_blt_mmio_write(c, off & 0xff, val);
		return;
	}
	if (c->sysblt.active) {	/* system-to-video source data */
		cirrus_blt_sys_write(c, val);
		return;
	}
	if (!legacy_map(c, off, &addr))
		return;
	if (c->sr[7] & SR07_EXT) {
		a = bank_addr(c, addr);
		c->vram[a] = val;
		cirrus_mark_dirty(c, a, 1);
		return;
	}
	if (c->sr[4] & 0x08) {
		plane = addr & 3;
		a = addr & (c->vram_size - 1);
	} else if (c->gr[5] & 0x10) {
		plane = (c->gr[4] & 2) | (addr & 1);
		a = (((addr & ~1u) << 1) | plane) & (c->vram_size - 1);
	} else {
		planar_write(c, addr, val);
		return;
	}
	if (!(c->sr[2] & (1 << plane)))
		return;
	c->vram[a] = val;
	if (plane == 2 && !(c->sr[4] & 0x08))	/* glyphs: odd/even, not chain-4 */
		c->font_changed = c->font_loaded = true;
	cirrus_mark_dirty(c, a, 1);
}

/* Mode decode. */

static uint32_t vdisp_lines(const struct cirrus *c)
{
	return (c->cr[0x12] | (c->cr[0x07] & 0x02) << 7 | (c->cr[0x07] & 0x40) << 3) + 1;
}

static enum con_format ext_format(const struct cirrus *c, uint32_t *bpp)
{
	switch (c->sr[7] & 0x0e) {
	case 0x00:
		*bpp = 8;
		return CON_FMT_PAL8;
	case 0x02:
	case 0x06:
		/* Hidden DAC: 0 Sierra 15-bit, 1 XGA 16-bit (Linux writes 0xc1). */
		if ((c->hidden_dac & 0x0f) == 1) {
			*bpp = 16;
			return CON_FMT_RGB565;
		}
		*bpp = 15;
		return CON_FMT_RGB555;
	case 0x04:
		*bpp = 24;
		return CON_FMT_RGB888;
	case 0x08:
		*bpp = 32;
		return CON_FMT_XRGB8888;
	}
	return CON_FMT_NONE;
}

static void text_mode(const struct cirrus *c, struct cirrus_mode *m)
{
	uint32_t cols = c->cr[1] + 1u, ch = (c->cr[9] & 0x1f) + 1u;
	uint32_t rows = vdisp_lines(c) / ch;

	if (c->cr[9] & 0x80)	/* double scan */
		rows /= 2;
	if (cols > CIRRUS_TEXT_MAX_COLS || !rows)
		return;
	if (rows > CIRRUS_TEXT_MAX_ROWS)
		rows = CIRRUS_TEXT_MAX_ROWS;
	m->format = CON_FMT_TEXT;
	m->width = cols;
	m->height = rows;
	m->stride = c->cr[0x13] * 2u;
	m->start = (uint32_t)c->cr[0x0c] << 8 | c->cr[0x0d];
	m->char_height = ch;
}

static void graphics_mode(const struct cirrus *c, struct cirrus_mode *m)
{
	uint32_t bpp, w, h, pitch, start, bytes_pp, line;
	enum con_format f = ext_format(c, &bpp);

	if (f == CON_FMT_NONE)
		return;
	w = (c->cr[1] + 1u) * 8;
	h = vdisp_lines(c);
	if (c->cr[0x1a] & 0x01)	/* interlaced */
		h *= 2;
	pitch = (c->cr[0x13] | (c->cr[0x1b] & 0x10) << 4 | (c->cr[0x1b] & 0x40) << 3) * 8u;
	start = (c->cr[0x0d] | (uint32_t)c->cr[0x0c] << 8 | (c->cr[0x1b] & 0x01u) << 16 |
		 (c->cr[0x1b] & 0x0cu) << 15 | (c->cr[0x1d] & 0x80u) << 12) * 4;
	if (w > CIRRUS_MAX_WIDTH || h > CIRRUS_MAX_HEIGHT)
		return;
	bytes_pp = (bpp + 7) / 8;
	line = w * bytes_pp;
	/* Show only the lines that lie in VRAM. */
	if (start >= c->vram_size || line > c->vram_size - start)
		return;
	if (pitch && h > (c->vram_size - start - line) / pitch + 1)
		h = (c->vram_size - start - line) / pitch + 1;
	m->format = f;
	m->width = w;
	m->height = h;
	m->bpp = bpp;
	m->stride = pitch;
	m->start = start;
}

void cirrus_get_mode(const struct cirrus *c, struct cirrus_mode *m)
{
	memset(m, 0, sizeof(*m));
	if (!(c->ar_index & AR_PAS))
		return;
	if (!(c->gr[6] & GR06_GRAPHICS))
		text_mode(c, m);
	else if (c->sr[7] & SR07_EXT)
		graphics_mode(c, m);
}

/* Refresh. */

static uint32_t dac_rgb(const struct cirrus *c, unsigned int i)
{
	const uint8_t *p = &c->palette[(i & 0xff) * 3];
	uint32_t r = (p[0] << 2) | (p[0] >> 4), g = (p[1] << 2) | (p[1] >> 4);
	uint32_t b = (p[2] << 2) | (p[2] >> 4);

	return r << 16 | g << 8 | b;
}

static void build_palette(struct cirrus *c, bool text)
{
	unsigned int i;

	for (i = 0; i < 256; i++)
		c->pal32[i] = dac_rgb(c, i);
	if (!text)
		return;
	/* Text: attribute colour i goes through the attribute controller first. */
	for (i = 0; i < 16; i++) {
		unsigned int idx = c->ar[i] & 0x3f;

		if (c->ar[0x10] & 0x80)
			idx = (idx & 0x0f) | (c->ar[0x14] & 0x03) << 4;
		idx |= (c->ar[0x14] & 0x0c) << 4;
		c->pal32[i] = dac_rgb(c, idx);
	}
}

static void build_font(struct cirrus *c)
{
	uint8_t v = c->sr[3];
	uint32_t base = (((v >> 4) & 1) | ((v << 1) & 6)) * 8192u * 4 + 2;
	unsigned int ch, line;

	for (ch = 0; ch < 256; ch++)
		for (line = 0; line < 16; line++)
			c->font[ch * 16 + line] =
				c->vram[(base + (ch * 32 + line) * 4) & (c->vram_size - 1)];
}

static void text_refresh(struct cirrus *c, const struct cirrus_mode *m, struct con_surface *s,
			 bool quiet, cirrus_damage_fn *damage, void *opaque)
{
	uint32_t r, col, mask = c->vram_size - 1;
	bool all = c->pal_changed || (c->font_changed && c->font_loaded);
	int cx = -1, cy = -1;
	uint32_t cur = ((uint32_t)c->cr[0x0e] << 8 | c->cr[0x0f]) - m->start;

	build_palette(c, true);
	if (c->font_changed && c->font_loaded)
		build_font(c);
	c->font_changed = c->pal_changed = false;
	for (r = 0; r < m->height; r++) {
		uint32_t lo = UINT32_MAX, hi = 0;
		uint8_t *row = &c->text[r * m->width * 2];

		for (col = 0; col < m->width; col++) {
			uint32_t a = ((m->start + r * m->stride + col) * 4) & mask;

			if (row[col * 2] != c->vram[a] || row[col * 2 + 1] != c->vram[a + 1]) {
				row[col * 2] = c->vram[a];
				row[col * 2 + 1] = c->vram[a + 1];
				if (col < lo)
					lo = col;
				hi = col;
			}
		}
		if (!quiet && !all && lo != UINT32_MAX)
			damage(opaque, lo, r, hi - lo + 1, 1);
	}
	/* CR0A bit 5 hides the cursor; its shape (CR0A/CR0B scan lines) is the console's. */
	if (!(c->cr[0x0a] & 0x20) && cur < m->width * m->height && m->width) {
		cx = (int)(cur % m->width);
		cy = (int)(cur / m->width);
	}
	if (!quiet && !all && (cx != c->cursor_x || cy != c->cursor_y)) {
		if (c->cursor_x >= 0)
			damage(opaque, (uint32_t)c->cursor_x, (uint32_t)c->cursor_y, 1, 1);
		if (cx >= 0)
			damage(opaque, (uint32_t)cx, (uint32_t)cy, 1, 1);
	}
	if (!quiet && all)
		damage(opaque, 0, 0, m->width, m->height);
	c->cursor_x = cx;
	c->cursor_y = cy;
	s->format = CON_FMT_TEXT;
	s->width = m->width;
	s->height = m->height;
	s->stride = m->width * 2;
	s->data = c->text;
	s->data_len = m->width * m->height * 2;
	s->palette = c->pal32;
	s->cursor_x = cx;
	s->cursor_y = cy;
	/* Guest glyphs only in the console's 16-line layout; otherwise the built-in font. */
	if (c->font_loaded && m->char_height == 16)
		s->font = c->font;
	s->font_height = 16;
}

static bool page_dirty(const uint64_t *bm, uint64_t p)
{
	return bm && (bm[p / 64] >> (p % 64)) & 1;
}

static void graphics_refresh(struct cirrus *c, const struct cirrus_mode *m,
			     struct con_surface *s, bool quiet, const uint64_t *dirty,
			     cirrus_damage_fn *damage, void *opaque)
{
	uint64_t line = (uint64_t)m->width * ((m->bpp + 7) / 8);
	uint64_t end = m->start + (uint64_t)(m->height - 1) * m->stride + line;
	uint64_t p, first = m->start / CIRRUS_PAGE_SIZE, last = (end - 1) / CIRRUS_PAGE_SIZE;
	bool pal = m->format == CON_FMT_PAL8 && c->pal_changed;

	build_palette(c, false);
	c->pal_changed = false;
	s->format = m->format;
	s->width = m->width;
	s->height = m->height;
	s->stride = m->stride;
	s->data = c->vram + m->start;
	s->data_len = c->vram_size - m->start;
	s->palette = c->pal32;
	s->cursor_x = s->cursor_y = -1;
	s->font_height = 16;
	if (quiet)
		return;
	if (pal) {
		damage(opaque, 0, 0, m->width, m->height);
		return;
	}
	for (p = first; p <= last; p++) {
		uint64_t q, lo, hi, y0, y1;

		if (!page_dirty(dirty, p) && !page_dirty(c->dirty, p))
			continue;
		q = p;
		while (q + 1 <= last && (page_dirty(dirty, q + 1) || page_dirty(c->dirty, q + 1)))
			q++;
		lo = p * CIRRUS_PAGE_SIZE;
		hi = (q + 1) * CIRRUS_PAGE_SIZE;
		if (lo < m->start)
			lo = m->start;
		if (hi > end)
			hi = end;
		if (m->stride) {
			/* Rows whose [start + y * stride, + line) meets [lo, hi). */
			y0 = lo - m->start < line ? 0 : (lo - m->start - line) / m->stride + 1;
			y1 = (hi - 1 - m->start) / m->stride;
			if (y1 >= m->height)
				y1 = m->height - 1;
			if (y0 > y1) {
				p = q;
				continue;
			}
		} else {
			y0 = 0;
			y1 = m->height - 1;
		}
		damage(opaque, 0, (uint32_t)y0, m->width, (uint32_t)(y1 - y0 + 1));
		p = q;
	}
}

bool cirrus_refresh(struct cirrus *c, struct con_surface *s, const uint64_t *dirty,
		    cirrus_damage_fn *damage, void *opaque)
{
	struct cirrus_mode m;
	bool changed;

	cirrus_get_mode(c, &m);
	changed = !c->shown_valid || memcmp(&m, &c->shown, sizeof(m));
	c->shown = m;
	c->shown_valid = true;
	memset(s, 0, sizeof(*s));
	s->cursor_x = s->cursor_y = -1;
	s->font_height = 16;
	if (m.format == CON_FMT_TEXT) {
		if (changed)
			memset(c->text, 0, sizeof(c->text));
		text_refresh(c, &m, s, changed || !damage, damage, opaque);
	} else if (m.format != CON_FMT_NONE) {
		graphics_refresh(c, &m, s, changed || !damage, dirty, damage, opaque);
	} else {
		c->cursor_x = c->cursor_y = -1;
	}
	memset(c->dirty, 0, sizeof(c->dirty));
	return changed;
}

void cirrus_describe(const struct cirrus *c, char *buf, unsigned int len)
{
	struct cirrus_mode m;

	if (!len)
		return;
	cirrus_get_mode(c, &m);
	if (m.format == CON_FMT_TEXT)
		snprintf(buf, len, "cirrus-vga: text %ux%u", m.width, m.height);
	else if (m.format != CON_FMT_NONE)
		snprintf(buf, len, "cirrus-vga: %ux%ux%u pitch %u", m.width, m.height, m.bpp,
			 m.stride);
	else
		snprintf(buf, len, "cirrus-vga: blank");
}
