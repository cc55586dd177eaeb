/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Cirrus Logic CL-GD5446 VGA as Linux's cirrus DRM driver, cirrusfb and a
 * BIOS-less text-mode guest see it: the VGA register file (sequencer,
 * CRTC, graphics and attribute controllers, DAC with the hidden DAC
 * register, misc output), the Cirrus extended SR/GR/CR registers, the
 * legacy 0xa0000-0xbffff window (planar, odd/even and chain-4 access,
 * Cirrus banking in extended modes), the BAR1 register window and the
 * BitBLT engine (cirrus_blt.c).
 *
 * This is the pure model: no KVM, no runner.  VRAM is a buffer the caller
 * owns (the runner maps it as the BAR0 memslot; tests calloc() it).
 * Writes the model itself makes to VRAM (blits, the legacy window) are
 * recorded in its own dirty bitmap, since KVM's dirty log never sees them.
 * Not thread-safe: the caller serialises.
 *
 * VRAM layout follows the hardware: in planar modes byte address A of
 * plane P is vram[A * 4 + P], so chain-4 and linear modes see VRAM
 * unchanged.  Text mode keeps character i at vram[(start + i) * 4] and its
 * attribute at the next byte; glyphs live in plane 2, 32 lines a glyph.
 */
#ifndef KVL_DEVICES_CIRRUS_H
#define KVL_DEVICES_CIRRUS_H

#include <stdbool.h>
#include <stdint.h>

#include "console.h"

#define CIRRUS_VENDOR_ID	0x1013
#define CIRRUS_DEVICE_ID	0x00b8		/* CL-GD5446 */
#define CIRRUS_SUBSYS_VENDOR	0x1af4
#define CIRRUS_SUBSYS_ID	0x1100
#define CIRRUS_CLASS		0x030000

#define CIRRUS_VRAM_DEFAULT	(4u << 20)
#define CIRRUS_VRAM_MIN		(1u << 20)
#define CIRRUS_VRAM_MAX		(16u << 20)
#define CIRRUS_MMIO_SIZE	0x1000		/* BAR1 */
#define CIRRUS_PAGE_SIZE	4096u		/* dirty bitmap granule */
#define CIRRUS_LEGACY_BASE	0xa0000
#define CIRRUS_LEGACY_SIZE	0x20000
#define CIRRUS_PORT_BASE	0x3b0
#define CIRRUS_PORT_COUNT	0x30		/* 0x3b0..0x3df */

#define CIRRUS_TEXT_MAX_COLS	160
#define CIRRUS_TEXT_MAX_ROWS	100
#define CIRRUS_MAX_WIDTH	2048
#define CIRRUS_MAX_HEIGHT	2048
#define CIRRUS_BLT_LINE_MAX	8192		/* bytes of one system-to-video source line */

/* What the CRTC and sequencer registers say is on the screen. */
struct cirrus_mode {
	enum con_format format;		/* CON_FMT_NONE: blank or not decodable */
	uint32_t width, height;		/* pixels, or text columns and rows */
	uint32_t bpp;			/* 8, 15, 16, 24, 32; 0 for text */
	uint32_t stride;		/* bytes a line (text: cells of VRAM a row) */
	uint32_t start;			/* byte offset in VRAM (text: cell index) */
	uint32_t char_height;		/* text: scan lines a row */
};

/* A system-to-video blit waiting for its source data from CPU writes. */
struct cirrus_sysblt {
	bool active;
	uint32_t line_len;		/* bytes of one source line, padded */
	uint32_t filled;		/* bytes in line[] */
	uint32_t row, rows;
	uint32_t left;			/* bytes still to come, the total padded to dwords */
	uint8_t line[CIRRUS_BLT_LINE_MAX];
};

struct cirrus {
	uint8_t *vram;
	uint32_t vram_size;		/* a power of two */

	/* VGA core */
	uint8_t misc, fcr, st01;
	uint8_t sr_index, sr[256];
	uint8_t gr_index, gr[256];	/* gr[0]/gr[1] hold all 8 bits (BLT colours) */
	uint8_t cr_index, cr[256];
	uint8_t ar_index, ar[32];
	bool ar_flip;			/* attribute port expects data */
	uint8_t latch[4];
	uint8_t dac_mask, dac_read, dac_write, dac_sub, dac_state;
	uint8_t dac_cache[3];
	uint8_t palette[768];		/* 6-bit DAC entries */
	uint8_t hidden_dac, hidden_count;

	/* BitBLT */
	struct cirrus_sysblt sysblt;
	uint32_t blt_dst, blt_pitch, blt_width, blt_mode, blt_rop, blt_pw;
	uint32_t blt_fg, blt_bg, blt_skip;

	/* Display side */
	uint64_t dirty[CIRRUS_VRAM_MAX / CIRRUS_PAGE_SIZE / 64];	/* model writes */
	bool pal_changed, font_changed, font_loaded;
	struct cirrus_mode shown;	/* mode at the last refresh */
	bool shown_valid;
	int cursor_x, cursor_y;
	uint32_t pal32[256];
	uint8_t text[CIRRUS_TEXT_MAX_COLS * CIRRUS_TEXT_MAX_ROWS * 2];
	uint8_t font[256 * 16];
};

typedef void cirrus_damage_fn(void *opaque, uint32_t x, uint32_t y, uint32_t w, uint32_t h);

/* @vram: @vram_size bytes (a power of two, CIRRUS_VRAM_MIN..MAX).  -1 if bad. */
int cirrus_init(struct cirrus *c, uint8_t *vram, uint32_t vram_size);
/* Power-on state: VGA text mode 3 (80x25, colour), as a BIOS would leave it. */
void cirrus_reset(struct cirrus *c);

/* VGA ports 0x3b0..0x3df; others read 0xff.  Word accesses are two bytes, low first. */
uint8_t cirrus_port_read(struct cirrus *c, uint16_t port);
void cirrus_port_write(struct cirrus *c, uint16_t port, uint8_t val);
uint32_t cirrus_port_read_n(struct cirrus *c, uint16_t port, unsigned int size);
void cirrus_port_write_n(struct cirrus *c, uint16_t port, uint32_t val, unsigned int size);

/*
 * BAR1: offsets 0..0x1f are ports 0x3c0..0x3df (the rest below 0x100
 * reads 0xff), 0x100.. the BitBLT registers.
 */
uint32_t cirrus_mmio_read(struct cirrus *c, uint32_t off, unsigned int size);
void cirrus_mmio_write(struct cirrus *c, uint32_t off, uint32_t val, unsigned int size);

/* The legacy window: @off from 0xa0000, 0..0x1ffff. */
uint8_t cirrus_mem_read(struct cirrus *c, uint32_t off);
void cirrus_mem_write(struct cirrus *c, uint32_t off, uint8_t val);

/* Decode the current mode (no side effects). */
void cirrus_get_mode(const struct cirrus *c, struct cirrus_mode *m);

/*
 * Fill @s with what is on the screen and report changes since the last
 * call to @damage: for graphics modes the pages set in @dirty (a bitmap of
 * CIRRUS_PAGE_SIZE pages of VRAM, as KVM_GET_DIRTY_LOG returns; may be
 * NULL) and those the model wrote itself; for text mode the cells that
 * differ.  Returns true when the mode changed since the last call (then
 * nothing is reported: the console damages everything itself).
 */
bool cirrus_refresh(struct cirrus *c, struct con_surface *s, const uint64_t *dirty,
		    cirrus_damage_fn *damage, void *opaque);
/* One line for "info". */
void cirrus_describe(const struct cirrus *c, char *buf, unsigned int len);

/* Mark VRAM bytes [off, off + len) as written by the model. */
void cirrus_mark_dirty(struct cirrus *c, uint64_t off, uint64_t len);

/* BitBLT engine (cirrus_blt.c). */
void cirrus_blt_start(struct cirrus *c);
void cirrus_blt_reset(struct cirrus *c);
/* Source data of a system-to-video blit (legacy window writes land here). */
void cirrus_blt_sys_write(struct cirrus *c, uint8_t val);
uint8_t cirrus_blt_mmio_read(struct cirrus *c, uint32_t off);
void cirrus_blt_mmio_write(struct cirrus *c, uint32_t off, uint8_t val);
/* Graphics controller writes with side effects on the blitter (GR31, GR2A autostart). */
void cirrus_gr_write(struct cirrus *c, uint8_t index, uint8_t val);

#endif
