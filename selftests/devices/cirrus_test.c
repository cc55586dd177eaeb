// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of devices/cirrus.c and cirrus_blt.c: the register
 * sequences Linux 6.1's cirrus DRM driver writes, text mode as a BIOS-less
 * guest drives it, the DAC, and each blit kind against a reference.
 */
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "../../devices/cirrus.h"

#define VRAM (4u << 20)

/* ---- helpers: the guest side ---- */

static struct cirrus *new_cirrus(void)
{
	struct cirrus *c = calloc(1, sizeof(*c));
	uint8_t *vram = calloc(1, VRAM);

	if (!c || !vram || cirrus_init(c, vram, VRAM))
		abort();
	return c;
}

static void free_cirrus(struct cirrus *c)
{
	free(c->vram);
	free(c);
}

/* As Linux: iowrite8() into BAR1 at offset port - 0x3c0. */
static void wreg_seq(struct cirrus *c, uint8_t reg, uint8_t val)
{
	cirrus_mmio_write(c, 0x04, reg, 1);
	cirrus_mmio_write(c, 0x05, val, 1);
}

static uint8_t rreg_seq(struct cirrus *c, uint8_t reg)
{
	cirrus_mmio_write(c, 0x04, reg, 1);
	return (uint8_t)cirrus_mmio_read(c, 0x05, 1);
}

static void wreg_crt(struct cirrus *c, uint8_t reg, uint8_t val)
{
	cirrus_mmio_write(c, 0x14, reg, 1);
	cirrus_mmio_write(c, 0x15, val, 1);
}

static uint8_t rreg_crt(struct cirrus *c, uint8_t reg)
{
	cirrus_mmio_write(c, 0x14, reg, 1);
	return (uint8_t)cirrus_mmio_read(c, 0x15, 1);
}

static void wreg_gfx(struct cirrus *c, uint8_t reg, uint8_t val)
{
	cirrus_mmio_write(c, 0x0e, reg, 1);
	cirrus_mmio_write(c, 0x0f, val, 1);
}

static void wreg_hdr(struct cirrus *c, uint8_t val)
{
	int i;

	for (i = 0; i < 4; i++)
		cirrus_mmio_read(c, 0x06, 1);
	cirrus_mmio_write(c, 0x06, val, 1);
}

struct dmode {
	int hdisplay, hsync_start, hsync_end, htotal;
	int vdisplay, vsync_start, vsync_end, vtotal;
};

static const struct dmode m1024 = { 1024, 1048, 1184, 1344, 768, 771, 777, 806 };
static const struct dmode m800 = { 800, 840, 968, 1056, 600, 601, 605, 628 };

/* cirrus_mode_set() of Linux 6.1 */
static void linux_mode_set(struct cirrus *c, const struct dmode *mode)
{
	int htotal = mode->htotal / 8 - 5, hsyncend = mode->hsync_end / 8 + 1;
	int hsyncstart = mode->hsync_start / 8 + 1, hdispend = mode->hdisplay / 8 - 1;
	int vtotal = mode->vtotal - 2, vdispend = mode->vdisplay - 1, tmp;

	wreg_crt(c, 0x11, 0x20);
	wreg_crt(c, 0x00, htotal);
	wreg_crt(c, 0x01, hdispend);
	wreg_crt(c, 0x04, hsyncstart);
	wreg_crt(c, 0x05, hsyncend);
	wreg_crt(c, 0x06, vtotal & 0xff);
	wreg_crt(c, 0x12, vdispend & 0xff);
	tmp = 0x40;
	if ((vdispend + 1) & 512)
		tmp |= 0x20;
	wreg_crt(c, 0x09, tmp);
	tmp = 0x10;
	if (vtotal & 0x100)
		tmp |= 0x01;
	if (vdispend & 0x100)
		tmp |= 0x02;
	if ((vdispend + 1) & 0x100)
		tmp |= 0x08;
	if (vtotal & 0x200)
		tmp |= 0x20;
	if (vdispend & 0x200)
		tmp |= 0x40;
	wreg_crt(c, 0x07, tmp);
	tmp = 0;
	if ((htotal + 5) & 0x40)
		tmp |= 0x10;
	if ((htotal + 5) & 0x80)
		tmp |= 0x20;
	if (vtotal & 0x100)
		tmp |= 0x40;
	if (vtotal & 0x200)
		tmp |= 0x80;
	wreg_crt(c, 0x1a, tmp);
	wreg_crt(c, 0x17, 0x03);
}

enum lfmt { L_RGB565, L_RGB888, L_XRGB8888 };

/* cirrus_format_set() */
static void linux_format_set(struct cirrus *c, enum lfmt f)
{
	uint8_t sr07 = rreg_seq(c, 0x07) & 0xe0, hdr;

	switch (f) {
	case L_RGB565:
		sr07 |= 0x17;
		hdr = 0xc1;
		break;
	case L_RGB888:
		sr07 |= 0x15;
		hdr = 0xc5;
		break;
	default:
		sr07 |= 0x19;
		hdr = 0xc5;
		break;
	}
	wreg_seq(c, 0x07, sr07);
	wreg_gfx(c, 0x05, 0x40);
	wreg_gfx(c, 0x06, 0x01);
	wreg_hdr(c, hdr);
}

/* cirrus_set_start_address() */
static void linux_start(struct cirrus *c, uint32_t offset)
{
	uint32_t addr = offset >> 2;
	uint8_t tmp;

	wreg_crt(c, 0x0c, (addr >> 8) & 0xff);
	wreg_crt(c, 0x0d, addr & 0xff);
	tmp = rreg_crt(c, 0x1b) & 0xf2;
	tmp |= (addr >> 16) & 0x01;
	tmp |= (addr >> 15) & 0x0c;
	wreg_crt(c, 0x1b, tmp);
	tmp = rreg_crt(c, 0x1d) & 0x7f;
	tmp |= (addr >> 12) & 0x80;
	wreg_crt(c, 0x1d, tmp);
}

/* cirrus_pitch_set() */
static void linux_pitch_set(struct cirrus *c, uint32_t pitch)
{
	uint8_t cr1b = 0x22;

	wreg_crt(c, 0x13, (uint8_t)(pitch / 8));
	cr1b |= (pitch >> 7) & 0x10;
	cr1b |= (pitch >> 6) & 0x40;
	wreg_crt(c, 0x1b, cr1b);
	linux_start(c, 0);
}

static void linux_modeset(struct cirrus *c, const struct dmode *m, enum lfmt f, uint32_t pitch)
{
	linux_mode_set(c, m);
	linux_format_set(c, f);
	linux_pitch_set(c, pitch);
	cirrus_port_write(c, 0x3c0, 0x20);	/* outb(0x20, 0x3c0) */
}

/* ---- damage capture ---- */

struct dmg {
	int n;
	uint32_t x, y, w, h;	/* union of all */
	uint32_t last[4];
};

static void on_damage(void *opaque, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	struct dmg *d = opaque;
	uint32_t x1, y1;

	if (!d->n) {
		d->x = x;
		d->y = y;
		d->w = w;
		d->h = h;
	} else {
		x1 = d->x + d->w > x + w ? d->x + d->w : x + w;
		y1 = d->y + d->h > y + h ? d->y + d->h : y + h;
		d->x = d->x < x ? d->x : x;
		d->y = d->y < y ? d->y : y;
		d->w = x1 - d->x;
		d->h = y1 - d->y;
	}
	d->last[0] = x;
	d->last[1] = y;
	d->last[2] = w;
	d->last[3] = h;
	d->n++;
}

/* ---- mode decode ---- */

TEST(linux_1024x768_rgb565)
{
	struct cirrus *c = new_cirrus();
	struct cirrus_mode m;

	linux_modeset(c, &m1024, L_RGB565, 2048);
	cirrus_get_mode(c, &m);
	EXPECT_EQ(CON_FMT_RGB565, m.format);
	EXPECT_EQ(1024, m.width);
	EXPECT_EQ(768, m.height);
	EXPECT_EQ(16, m.bpp);
	EXPECT_EQ(2048, m.stride);
	EXPECT_EQ(0, m.start);
	free_cirrus(c);
}

/* XRGB8888 at 1024 wide has pitch 4096 > 4088: Linux converts to RGB888. */
TEST(linux_1024x768_xrgb8888_as_rgb888)
{
	struct cirrus *c = new_cirrus();
	struct cirrus_mode m;

	linux_modeset(c, &m1024, L_RGB888, 3072);
	cirrus_get_mode(c, &m);
	EXPECT_EQ(CON_FMT_RGB888, m.format);
	EXPECT_EQ(1024, m.width);
	EXPECT_EQ(768, m.height);
	EXPECT_EQ(24, m.bpp);
	EXPECT_EQ(3072, m.stride);
	free_cirrus(c);
}

/* 1024x768x32 with a 4096-byte pitch: the CR1B bit 6 pitch bit Linux's formula sets. */
TEST(mode_1024x768_xrgb8888)
{
	struct cirrus *c = new_cirrus();
	struct cirrus_mode m;

	linux_modeset(c, &m1024, L_XRGB8888, 4096);
	EXPECT_EQ(0x62, rreg_crt(c, 0x1b));
	cirrus_get_mode(c, &m);
	EXPECT_EQ(CON_FMT_XRGB8888, m.format);
	EXPECT_EQ(1024, m.width);
	EXPECT_EQ(768, m.height);
	EXPECT_EQ(32, m.bpp);
	EXPECT_EQ(4096, m.stride);
	free_cirrus(c);
}

TEST(linux_800x600_rgb888_and_xrgb8888)
{
	struct cirrus *c = new_cirrus();
	struct cirrus_mode m;

	linux_modeset(c, &m800, L_RGB888, 2400);
	cirrus_get_mode(c, &m);
	EXPECT_EQ(CON_FMT_RGB888, m.format);
	EXPECT_EQ(800, m.width);
	EXPECT_EQ(600, m.height);
	EXPECT_EQ(2400, m.stride);
	linux_format_set(c, L_XRGB8888);
	linux_pitch_set(c, 3200);
	cirrus_get_mode(c, &m);
	EXPECT_EQ(CON_FMT_XRGB8888, m.format);
	EXPECT_EQ(3200, m.stride);
	EXPECT_EQ(32, m.bpp);
	free_cirrus(c);
}

TEST(depths_8_15_and_start_address)
{
	struct cirrus *c = new_cirrus();
	struct cirrus_mode m;

	linux_modeset(c, &m800, L_RGB565, 1600);
	wreg_hdr(c, 0x00);			/* Sierra: 15 bpp */
	cirrus_get_mode(c, &m);
	EXPECT_EQ(CON_FMT_RGB555, m.format);
	EXPECT_EQ(15, m.bpp);
	wreg_seq(c, 0x07, 0x11);		/* 8 bpp */
	cirrus_get_mode(c, &m);
	EXPECT_EQ(CON_FMT_PAL8, m.format);
	linux_start(c, 0x2abcd4);
	cirrus_get_mode(c, &m);
	EXPECT_EQ(0x2abcd4, m.start);
	/* A start address near the end of VRAM shows only the lines that fit. */
	linux_start(c, VRAM - 800 * 10);
	wreg_crt(c, 0x13, 100);
	cirrus_get_mode(c, &m);
	EXPECT_EQ(10, m.height);
	/* Blank until the attribute controller's PAS bit is set again. */
	cirrus_port_read(c, 0x3da);
	cirrus_port_write(c, 0x3c0, 0x00);
	cirrus_get_mode(c, &m);
	EXPECT_EQ(CON_FMT_NONE, m.format);
	free_cirrus(c);
}

TEST(hidden_dac_and_crtc_protect)
{
	struct cirrus *c = new_cirrus();
	int i;

	cirrus_port_write(c, 0x3c6, 0xf0);	/* plain write: the mask */
	EXPECT_EQ(0xf0, cirrus_port_read(c, 0x3c6));
	for (i = 0; i < 3; i++)
		cirrus_port_read(c, 0x3c6);
	cirrus_port_write(c, 0x3c6, 0xc1);	/* after only 4 reads in all: hidden DAC */
	EXPECT_EQ(0xf0, c->dac_mask);
	EXPECT_EQ(0xc1, c->hidden_dac);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0xf0, cirrus_port_read(c, 0x3c6));
	EXPECT_EQ(0xc1, cirrus_port_read(c, 0x3c6));
	/* An access elsewhere resets the count. */
	for (i = 0; i < 4; i++)
		cirrus_port_read(c, 0x3c6);
	cirrus_port_read(c, 0x3c8);
	cirrus_port_write(c, 0x3c6, 0x55);
	EXPECT_EQ(0x55, c->dac_mask);
	EXPECT_EQ(0xc1, c->hidden_dac);
	/* CR11 bit 7 protects CR00-CR07. */
	wreg_crt(c, 0x11, 0x80);
	wreg_crt(c, 0x01, 0x12);
	EXPECT_EQ(0x4f, rreg_crt(c, 0x01));
	wreg_crt(c, 0x11, 0x00);
	wreg_crt(c, 0x01, 0x12);
	EXPECT_EQ(0x12, rreg_crt(c, 0x01));
	EXPECT_EQ(0xb8, rreg_crt(c, 0x27));
	/* Mono CRTC ports are dead in colour mode. */
	EXPECT_EQ(0xff, cirrus_port_read(c, 0x3b5));
	/* Word write: index then data. */
	cirrus_port_write_n(c, 0x3d4, 0x3412, 2);
	EXPECT_EQ(0x34, rreg_crt(c, 0x12));
	free_cirrus(c);
}

/* ---- refresh ---- */

TEST(refresh_graphics_surface_and_damage)
{
	struct cirrus *c = new_cirrus();
	uint64_t dirty[VRAM / 4096 / 64] = {};
	struct con_surface s;
	struct dmg d = {};

	linux_modeset(c, &m1024, L_RGB565, 2048);
	EXPECT_TRUE(cirrus_refresh(c, &s, NULL, on_damage, &d));
	EXPECT_EQ(0, d.n);
	EXPECT_EQ(CON_FMT_RGB565, s.format);
	EXPECT_EQ(1024, s.width);
	EXPECT_EQ(768, s.height);
	EXPECT_EQ(2048, s.stride);
	EXPECT_TRUE(s.data == c->vram);
	EXPECT_GE(s.data_len, (uint64_t)767 * 2048 + 2048);
	EXPECT_FALSE(cirrus_refresh(c, &s, dirty, on_damage, &d));
	EXPECT_EQ(0, d.n);
	/* Page 3 (bytes 12288..16383) holds lines 6 and 7. */
	dirty[0] = 1ull << 3;
	EXPECT_FALSE(cirrus_refresh(c, &s, dirty, on_damage, &d));
	ASSERT_EQ(1, d.n);
	EXPECT_EQ(0, d.x);
	EXPECT_EQ(6, d.y);
	EXPECT_EQ(1024, d.w);
	EXPECT_EQ(2, d.h);
	/* Pages past the end of the picture are not reported. */
	memset(&d, 0, sizeof(d));
	dirty[0] = 0;
	dirty[1023 / 64] = 1ull << (1023 % 64);
	cirrus_refresh(c, &s, dirty, on_damage, &d);
	EXPECT_EQ(0, d.n);
	/* Pitch 1024 < 2048 bytes a line: page 3 meets lines 11..15 (not 10, whose end is 12288). */
	wreg_crt(c, 0x13, 128);
	wreg_crt(c, 0x1b, 0x22);
	EXPECT_TRUE(cirrus_refresh(c, &s, NULL, on_damage, &d));
	memset(dirty, 0, sizeof(dirty));
	dirty[0] = 1ull << 3;
	cirrus_refresh(c, &s, dirty, on_damage, &d);
	ASSERT_EQ(1, d.n);
	EXPECT_EQ(11, d.y);
	EXPECT_EQ(5, d.h);
	free_cirrus(c);
}

TEST(text_mode_after_reset)
{
	struct cirrus *c = new_cirrus();
	struct con_surface s;
	struct dmg d = {};
	const char *msg = "Hi!";
	int i;

	for (i = 0; msg[i]; i++) {
		cirrus_mem_write(c, 0x18000 + 160 * 2 + 2 * (10 + i), (uint8_t)msg[i]);
		cirrus_mem_write(c, 0x18000 + 160 * 2 + 2 * (10 + i) + 1, 0x1e);
	}
	EXPECT_EQ('H', cirrus_mem_read(c, 0x18000 + 160 * 2 + 20));
	EXPECT_EQ(0x1e, cirrus_mem_read(c, 0x18000 + 160 * 2 + 21));
	/* Cursor at row 2, column 13. */
	cirrus_port_write(c, 0x3d4, 0x0e);
	cirrus_port_write(c, 0x3d5, 0);
	cirrus_port_write(c, 0x3d4, 0x0f);
	cirrus_port_write(c, 0x3d5, 2 * 80 + 13);
	EXPECT_TRUE(cirrus_refresh(c, &s, NULL, on_damage, &d));
	EXPECT_EQ(CON_FMT_TEXT, s.format);
	EXPECT_EQ(80, s.width);
	EXPECT_EQ(25, s.height);
	EXPECT_EQ(160, s.stride);
	EXPECT_EQ(80 * 25 * 2, s.data_len);
	EXPECT_EQ('H', s.data[2 * 160 + 20]);
	EXPECT_EQ(0x1e, s.data[2 * 160 + 21]);
	EXPECT_EQ('!', s.data[2 * 160 + 24]);
	EXPECT_EQ(13, s.cursor_x);
	EXPECT_EQ(2, s.cursor_y);
	EXPECT_TRUE(s.font == NULL);
	EXPECT_EQ(16, s.font_height);
	/* 16-colour palette: attribute 1 is blue, 14 yellow (EGA 0x3e), 6 brown (0x14). */
	EXPECT_EQ(0x0000aa, s.palette[1]);
	EXPECT_EQ(0xffff55, s.palette[14]);
	EXPECT_EQ(0xaa5500, s.palette[6]);
	/* One changed cell: one damage rectangle, that cell. */
	cirrus_mem_write(c, 0x18000 + 160 * 24 + 2 * 79, 'Z');
	EXPECT_FALSE(cirrus_refresh(c, &s, NULL, on_damage, &d));
	ASSERT_EQ(1, d.n);
	EXPECT_EQ(79, d.x);
	EXPECT_EQ(24, d.y);
	EXPECT_EQ(1, d.w);
	EXPECT_EQ(1, d.h);
	EXPECT_EQ('Z', s.data[24 * 160 + 158]);
	/* Hiding the cursor damages its cell. */
	memset(&d, 0, sizeof(d));
	cirrus_port_write(c, 0x3d4, 0x0a);
	cirrus_port_write(c, 0x3d5, 0x20);
	cirrus_refresh(c, &s, NULL, on_damage, &d);
	EXPECT_EQ(-1, s.cursor_x);
	ASSERT_EQ(1, d.n);
	EXPECT_EQ(13, d.x);
	EXPECT_EQ(2, d.y);
	free_cirrus(c);
}

TEST(text_mode_guest_font_in_plane_2)
{
	struct cirrus *c = new_cirrus();
	struct con_surface s;
	int i;

	/* What vgacon/a BIOS does: planes 2 only, no odd/even, map at 0xa0000. */
	cirrus_port_write(c, 0x3c4, 0x02);
	cirrus_port_write(c, 0x3c5, 0x04);
	cirrus_port_write(c, 0x3c4, 0x04);
	cirrus_port_write(c, 0x3c5, 0x07);
	cirrus_port_write(c, 0x3ce, 0x05);
	cirrus_port_write(c, 0x3cf, 0x00);
	cirrus_port_write(c, 0x3ce, 0x06);
	cirrus_port_write(c, 0x3cf, 0x04);
	for (i = 0; i < 16; i++)
		cirrus_mem_write(c, 'A' * 32 + i, (uint8_t)(0x80 >> (i & 7)));
	/* Back to text: planes 0 and 1, odd/even, map at 0xb8000. */
	cirrus_port_write(c, 0x3c4, 0x02);
	cirrus_port_write(c, 0x3c5, 0x03);
	cirrus_port_write(c, 0x3c4, 0x04);
	cirrus_port_write(c, 0x3c5, 0x02);
	cirrus_port_write(c, 0x3ce, 0x05);
	cirrus_port_write(c, 0x3cf, 0x10);
	cirrus_port_write(c, 0x3ce, 0x06);
	cirrus_port_write(c, 0x3cf, 0x0e);
	cirrus_mem_write(c, 0x18000, 'A');
	cirrus_refresh(c, &s, NULL, NULL, NULL);
	ASSERT_TRUE(s.font != NULL);
	for (i = 0; i < 16; i++)
		EXPECT_EQ(0x80 >> (i & 7), s.font['A' * 16 + i]);
	EXPECT_EQ(0, s.font['B' * 16]);
	EXPECT_EQ('A', s.data[0]);
	free_cirrus(c);
}

TEST(dac_palette)
{
	struct cirrus *c = new_cirrus();
	struct con_surface s;
	struct dmg d = {};

	linux_modeset(c, &m800, L_RGB565, 800);
	wreg_seq(c, 0x07, 0x11);
	cirrus_refresh(c, &s, NULL, on_damage, &d);
	EXPECT_EQ(CON_FMT_PAL8, s.format);
	cirrus_port_write(c, 0x3c8, 200);
	cirrus_port_write(c, 0x3c9, 0x3f);
	cirrus_port_write(c, 0x3c9, 0x20);
	cirrus_port_write(c, 0x3c9, 0x01);
	cirrus_port_write(c, 0x3c9, 0x10);	/* index 201 starts */
	EXPECT_EQ(201, cirrus_port_read(c, 0x3c8));
	cirrus_port_write(c, 0x3c7, 200);
	EXPECT_EQ(0x3f, cirrus_port_read(c, 0x3c9));
	EXPECT_EQ(0x20, cirrus_port_read(c, 0x3c9));
	EXPECT_EQ(0x01, cirrus_port_read(c, 0x3c9));
	EXPECT_EQ(0x03, cirrus_port_read(c, 0x3c7));
	EXPECT_FALSE(cirrus_refresh(c, &s, NULL, on_damage, &d));
	EXPECT_EQ(0xff8204, s.palette[200]);
	/* A palette change repaints all of an 8 bpp screen. */
	ASSERT_EQ(1, d.n);
	EXPECT_EQ(800, d.w);
	EXPECT_EQ(600, d.h);
	free_cirrus(c);
}

TEST(legacy_window_banked_in_extended_mode)
{
	struct cirrus *c = new_cirrus();
	struct con_surface s;
	struct dmg d = {};

	linux_modeset(c, &m800, L_RGB565, 1600);
	cirrus_refresh(c, &s, NULL, on_damage, &d);
	wreg_gfx(c, 0x09, 0x10);		/* bank 0 at 64 KiB (4 KiB granules) */
	wreg_gfx(c, 0x06, 0x05);		/* graphics, 64 KiB at 0xa0000 */
	cirrus_mem_write(c, 0x20, 0x77);
	EXPECT_EQ(0x77, c->vram[0x10020]);
	EXPECT_EQ(0x77, cirrus_mem_read(c, 0x20));
	cirrus_refresh(c, &s, NULL, on_damage, &d);
	ASSERT_EQ(1, d.n);
	EXPECT_EQ(0x10000 / 1600, d.y);
	free_cirrus(c);
}

/* ---- blitter ---- */

static uint32_t rng_state = 12345;

static uint8_t rnd(void)
{
	rng_state = rng_state * 1103515245 + 12345;
	return (uint8_t)(rng_state >> 16);
}

static void fill_random(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = rnd();
}

static uint8_t ref_rop(uint8_t rop, uint8_t s, uint8_t d)
{
	switch (rop) {
	case 0x00: return 0;
	case 0x05: return s & d;
	case 0x06: return d;
	case 0x09: return s & ~d;
	case 0x0b: return ~d;
	case 0x0d: return s;
	case 0x0e: return 0xff;
	case 0x50: return ~s & d;
	case 0x59: return s ^ d;
	case 0x6d: return s | d;
	case 0x90: return ~s | ~d;
	case 0x95: return ~(s ^ d);
	case 0xad: return s | ~d;
	case 0xd0: return ~s;
	case 0xd6: return ~s | d;
	case 0xda: return ~s & ~d;
	}
	abort();
}

static const uint8_t rops[] = {
	0x00, 0x05, 0x06, 0x09, 0x0b, 0x0d, 0x0e, 0x50, 0x59, 0x6d, 0x90, 0x95, 0xad, 0xd0, 0xd6, 0xda,
};

struct bp {
	uint32_t w, h, dpitch, spitch, dst, src, fg, bg;
	uint8_t mode, rop, ext, skip;
};

static void gr(struct cirrus *c, uint8_t i, uint8_t v)
{
	cirrus_port_write(c, 0x3ce, i);
	cirrus_port_write(c, 0x3cf, v);
}

/* Program through the graphics controller ports, start through GR31. */
static void blt_program(struct cirrus *c, const struct bp *p)
{
	gr(c, 0x00, (uint8_t)p->bg);
	gr(c, 0x10, (uint8_t)(p->bg >> 8));
	gr(c, 0x12, (uint8_t)(p->bg >> 16));
	gr(c, 0x14, (uint8_t)(p->bg >> 24));
	gr(c, 0x01, (uint8_t)p->fg);
	gr(c, 0x11, (uint8_t)(p->fg >> 8));
	gr(c, 0x13, (uint8_t)(p->fg >> 16));
	gr(c, 0x15, (uint8_t)(p->fg >> 24));
	gr(c, 0x20, (uint8_t)(p->w - 1));
	gr(c, 0x21, (uint8_t)((p->w - 1) >> 8));
	gr(c, 0x22, (uint8_t)(p->h - 1));
	gr(c, 0x23, (uint8_t)((p->h - 1) >> 8));
	gr(c, 0x24, (uint8_t)p->dpitch);
	gr(c, 0x25, (uint8_t)(p->dpitch >> 8));
	gr(c, 0x26, (uint8_t)p->spitch);
	gr(c, 0x27, (uint8_t)(p->spitch >> 8));
	gr(c, 0x28, (uint8_t)p->dst);
	gr(c, 0x29, (uint8_t)(p->dst >> 8));
	gr(c, 0x2a, (uint8_t)(p->dst >> 16));
	gr(c, 0x2c, (uint8_t)p->src);
	gr(c, 0x2d, (uint8_t)(p->src >> 8));
	gr(c, 0x2e, (uint8_t)(p->src >> 16));
	gr(c, 0x2f, p->skip);
	gr(c, 0x30, p->mode);
	gr(c, 0x32, p->rop);
	gr(c, 0x33, p->ext);
}

static void blt_run(struct cirrus *c, const struct bp *p)
{
	blt_program(c, p);
	gr(c, 0x31, 0x02);
}

static uint32_t pw_of(uint8_t mode)
{
	return ((mode >> 4) & 3) + 1;
}

/* References: pixel by pixel, from the documented semantics. */
static void ref_copy(uint8_t *v, const struct bp *p)
{
	uint32_t x, y;

	for (y = 0; y < p->h; y++)
		for (x = 0; x < p->w; x++) {
			size_t d = (p->mode & 1) ? p->dst - y * p->dpitch - x : p->dst + y * p->dpitch + x;
			size_t s = (p->mode & 1) ? p->src - y * p->spitch - x : p->src + y * p->spitch + x;

			v[d] = ref_rop(p->rop, v[s], v[d]);
		}
}

static int mono_bit(const uint8_t *bits, uint32_t i)
{
	return (bits[i / 8] >> (7 - i % 8)) & 1;
}

/* Bytes a line of system-to-video colour expansion bits: whole bytes, or dwords (GR33 bit 0). */
static uint32_t sys_stride(const struct bp *p)
{
	uint32_t n = ((p->w + pw_of(p->mode) - 1) / pw_of(p->mode) + 7) / 8;

	return (p->ext & 1) ? (n + 3) & ~3u : n;
}

/* Solid fill, colour pattern, mono pattern, colour expansion: one pixel at a time. */
static void ref_pixels(uint8_t *v, const struct bp *p, const uint8_t *sys)
{
	uint32_t pw = pw_of(p->mode), x, y, k;
	uint32_t pp = pw == 3 ? 32 : 8 * pw, base = p->src & ~7u;

	for (y = 0; y < p->h; y++)
		for (x = p->skip; x < (p->w + pw - 1) / pw; x++)
			for (k = 0; k < pw && x * pw + k < p->w; k++) {
				uint8_t *d = &v[p->dst + y * p->dpitch + x * pw + k];
				uint8_t s;
				int bit;

				if ((p->ext & 4) && (p->mode & 0xc0) == 0xc0) {
					s = (uint8_t)(p->fg >> (8 * k));
				} else if ((p->mode & 0xc0) == 0x40) {
					s = v[base + ((y + (p->src & 7)) & 7) * pp + (x & 7) * pw + k];
				} else {
					if (p->mode & 0x40)
						bit = mono_bit(&v[base + ((y + (p->src & 7)) & 7)], x & 7);
					else if (sys)
						bit = mono_bit(sys + y * sys_stride(p), x);
					else
						bit = mono_bit(&v[p->src + y * p->spitch], x);
					if (p->ext & 2)
						bit ^= 1;
					if (!bit && (p->mode & 0x08))
						continue;
					s = (uint8_t)((bit ? p->fg : p->bg) >> (8 * k));
				}
				*d = ref_rop(p->rop, s, *d);
			}
}

static int check_blt(struct cirrus *c, uint8_t *ref, const struct bp *p, int copy)
{
	memcpy(ref, c->vram, VRAM);
	blt_run(c, p);
	if (copy)
		ref_copy(ref, p);
	else
		ref_pixels(ref, p, NULL);
	return memcmp(ref, c->vram, VRAM) == 0 && !(c->gr[0x31] & 0x03);
}

TEST(blt_copy_forward_all_rops_all_depths)
{
	struct cirrus *c = new_cirrus();
	uint8_t *ref = malloc(VRAM);
	unsigned int i, d;

	fill_random(c->vram, VRAM);
	for (d = 0; d < 4; d++)
		for (i = 0; i < sizeof(rops); i++) {
			struct bp p = {
				.w = 37 * (d + 1), .h = 23, .dpitch = 1024, .spitch = 2048,
				.dst = 0x10000 + i * 64, .src = 0x200000 + d * 8, .mode = (uint8_t)(d << 4),
				.rop = rops[i],
			};

			EXPECT_TRUE(check_blt(c, ref, &p, 1)) TH_LOG("rop %#x depth %u", rops[i], d);
		}
	free(ref);
	free_cirrus(c);
}

TEST(blt_copy_backwards_overlapping)
{
	struct cirrus *c = new_cirrus();
	uint8_t *ref = malloc(VRAM), *orig = malloc(VRAM);
	uint32_t y;
	struct bp p = {
		/* Scroll a 200x40 box down by 3 lines: last byte of each, going up. */
		.w = 200, .h = 40, .dpitch = 640, .spitch = 640,
		.src = 5000 + 39 * 640 + 199, .dst = 5000 + 42 * 640 + 199,
		.mode = 0x01, .rop = 0x0d,
	};

	fill_random(c->vram, VRAM);
	memcpy(orig, c->vram, VRAM);
	EXPECT_TRUE(check_blt(c, ref, &p, 1));
	/* Independently: the box moved intact (a forward copy would smear it). */
	for (y = 0; y < 40; y++)
		EXPECT_EQ(0, memcmp(&c->vram[5000 + (y + 3) * 640], &orig[5000 + y * 640], 200));
	p.rop = 0x59;
	p.mode = 0x21;
	EXPECT_TRUE(check_blt(c, ref, &p, 1));
	free(orig);
	free(ref);
	free_cirrus(c);
}

TEST(blt_solid_fill)
{
	struct cirrus *c = new_cirrus();
	uint8_t *ref = malloc(VRAM);
	unsigned int d;

	fill_random(c->vram, VRAM);
	for (d = 0; d < 4; d++) {
		struct bp p = {
			.w = 100 * (d + 1), .h = 50, .dpitch = 2048, .dst = 4096 + d,
			.fg = 0x11223344 + d, .mode = (uint8_t)(0xc0 | d << 4), .rop = 0x0d, .ext = 0x04,
		};
		uint32_t x;

		EXPECT_TRUE(check_blt(c, ref, &p, 0)) TH_LOG("depth %u", d);
		for (x = 0; x < (d + 1); x++)
			EXPECT_EQ((uint8_t)(p.fg >> (8 * x)), c->vram[p.dst + 2048 * 49 + x]);
		p.rop = 0x59;
		p.skip = 2;
		EXPECT_TRUE(check_blt(c, ref, &p, 0)) TH_LOG("xor depth %u", d);
	}
	free(ref);
	free_cirrus(c);
}

TEST(blt_pattern_fills)
{
	struct cirrus *c = new_cirrus();
	uint8_t *ref = malloc(VRAM);
	unsigned int d;

	fill_random(c->vram, VRAM);
	for (d = 0; d < 4; d++) {
		/* Colour 8x8 pattern. */
		struct bp p = {
			.w = 90 * (d + 1), .h = 33, .dpitch = 1600, .dst = 100000, .src = 0x300003,
			.mode = (uint8_t)(0x40 | d << 4), .rop = 0x0d,
		};

		EXPECT_TRUE(check_blt(c, ref, &p, 0)) TH_LOG("colour depth %u", d);
		p.rop = 0x6d;
		EXPECT_TRUE(check_blt(c, ref, &p, 0)) TH_LOG("colour or depth %u", d);
		/* Monochrome pattern, opaque, inverted and transparent. */
		p.mode = (uint8_t)(0xc0 | d << 4);
		p.rop = 0x0d;
		p.fg = 0xa1b2c3d4;
		p.bg = 0x01020304;
		EXPECT_TRUE(check_blt(c, ref, &p, 0)) TH_LOG("mono depth %u", d);
		p.ext = 0x02;
		EXPECT_TRUE(check_blt(c, ref, &p, 0)) TH_LOG("mono inv depth %u", d);
		p.ext = 0;
		p.mode |= 0x08;
		EXPECT_TRUE(check_blt(c, ref, &p, 0)) TH_LOG("mono transparent depth %u", d);
	}
	free(ref);
	free_cirrus(c);
}

TEST(blt_colour_expand_from_video)
{
	struct cirrus *c = new_cirrus();
	uint8_t *ref = malloc(VRAM);
	unsigned int d;

	fill_random(c->vram, VRAM);
	for (d = 0; d < 4; d++) {
		struct bp p = {
			.w = 61 * (d + 1), .h = 17, .dpitch = 3000, .spitch = 9, .dst = 77777,
			.src = 0x280000, .mode = (uint8_t)(0x80 | d << 4), .rop = 0x0d,
			.fg = 0xffeeddcc, .bg = 0x00112233,
		};

		EXPECT_TRUE(check_blt(c, ref, &p, 0)) TH_LOG("depth %u", d);
		p.mode |= 0x08;
		p.skip = 3;
		EXPECT_TRUE(check_blt(c, ref, &p, 0)) TH_LOG("transparent depth %u", d);
	}
	free(ref);
	free_cirrus(c);
}

TEST(blt_system_to_video)
{
	struct cirrus *c = new_cirrus();
	uint8_t *ref = malloc(VRAM), sys[4096];
	unsigned int i;
	struct bp p = {
		.w = 30, .h = 5, .dpitch = 1024, .dst = 65536, .mode = 0x84, .rop = 0x0d,
		.fg = 0xff, .bg = 0x11,
	};

	fill_random(c->vram, VRAM);
	fill_random(sys, sizeof(sys));
	/* Colour expansion: 30 pixels = 4 bytes a line (dword-padded). */
	memcpy(ref, c->vram, VRAM);
	blt_run(c, &p);
	EXPECT_EQ(0x03, c->gr[0x31] & 0x03);	/* busy until the data arrives */
	for (i = 0; i < 5 * 4; i++)
		cirrus_mem_write(c, i & 0xff, sys[i]);
	EXPECT_EQ(0, c->gr[0x31] & 0x03);
	ref_pixels(ref, &p, sys);
	EXPECT_EQ(0, memcmp(ref, c->vram, VRAM));
	/* 10 pixels: 2 bytes a line, 10 in all, padded to 12; dword lines with GR33 bit 0. */
	p.w = 10;
	memcpy(ref, c->vram, VRAM);
	blt_run(c, &p);
	for (i = 0; i < 12; i++)
		cirrus_mem_write(c, 0x18000, sys[i]);
	EXPECT_EQ(0, c->gr[0x31] & 0x03);
	ref_pixels(ref, &p, sys);
	EXPECT_EQ(0, memcmp(ref, c->vram, VRAM));
	p.ext = 0x01;
	memcpy(ref, c->vram, VRAM);
	blt_run(c, &p);
	for (i = 0; i < 19; i++)
		cirrus_mem_write(c, 0x18000, sys[i]);
	EXPECT_EQ(0x03, c->gr[0x31] & 0x03);
	cirrus_mem_write(c, 0x18000, sys[19]);
	EXPECT_EQ(0, c->gr[0x31] & 0x03);
	ref_pixels(ref, &p, sys);
	EXPECT_EQ(0, memcmp(ref, c->vram, VRAM));
	p.ext = 0;
	p.w = 30;
	/* Plain copy at 16 bpp: 30 bytes a line, padded to 32; ROP xor. */
	p.mode = 0x14;
	p.rop = 0x59;
	memcpy(ref, c->vram, VRAM);
	blt_run(c, &p);
	/* Register writes during the blit must not move it. */
	gr(c, 0x28, 0);
	gr(c, 0x24, 0xff);
	for (i = 0; i < 5 * 32; i++)
		cirrus_mem_write(c, 0x100, sys[i]);
	for (i = 0; i < 5 * 30; i++)
		ref[65536 + (i / 30) * 1024 + i % 30] ^= sys[(i / 30) * 32 + i % 30];
	EXPECT_EQ(0, memcmp(ref, c->vram, VRAM));
	EXPECT_EQ(0, c->gr[0x31] & 0x03);
	/* Reset (GR31 bit 2 set, then cleared) abandons a pending blit. */
	p.dst = 65536;
	blt_run(c, &p);
	gr(c, 0x31, 0x04);
	gr(c, 0x31, 0x00);
	EXPECT_FALSE(c->sysblt.active);
	memcpy(ref, c->vram, VRAM);
	cirrus_mem_write(c, 0, 0x5a);	/* outside the text window: dropped, not blit data */
	EXPECT_EQ(0, memcmp(ref, c->vram, VRAM));
	free(ref);
	free_cirrus(c);
}

TEST(blt_through_bar1_and_autostart)
{
	struct cirrus *c = new_cirrus();
	uint32_t x;

	/* BAR1 0x100 + MMIO offsets, dword writes as X's driver does. */
	cirrus_mmio_write(c, 0x104, 0x00abcdef, 4);		/* fg */
	cirrus_mmio_write(c, 0x108, 4 * 10 - 1, 2);		/* width */
	cirrus_mmio_write(c, 0x10a, 2 - 1, 2);			/* height */
	cirrus_mmio_write(c, 0x10c, 4096, 2);			/* dst pitch */
	cirrus_mmio_write(c, 0x118, 0xf0, 1);			/* 32 bpp pattern + expand */
	cirrus_mmio_write(c, 0x11a, 0x0d, 1);
	cirrus_mmio_write(c, 0x11b, 0x04, 1);			/* solid fill */
	EXPECT_EQ(0x27, cirrus_mmio_read(c, 0x108, 2));
	cirrus_mmio_write(c, 0x110, 0x1000, 4);			/* dst */
	EXPECT_EQ(0, c->vram[0x1000]);
	cirrus_mmio_write(c, 0x140, 0x02, 1);
	for (x = 0; x < 10; x++) {
		EXPECT_EQ(0xef, c->vram[0x1000 + 4 * x]);
		EXPECT_EQ(0xab, c->vram[0x2000 + 4 * x + 2]);
	}
	EXPECT_EQ(0, c->vram[0x1000 + 40]);
	EXPECT_EQ(0, cirrus_mmio_read(c, 0x140, 1) & 0x03);
	/* Autostart: writing the destination's top byte starts the next blit. */
	cirrus_mmio_write(c, 0x140, 0x80, 1);
	cirrus_mmio_write(c, 0x110, 0x3000, 4);
	EXPECT_EQ(0xcd, c->vram[0x3001]);
	free_cirrus(c);
}

/* KVM's dirty log never sees the model's own writes: refresh reports them. */
TEST(blt_damage_reported)
{
	struct cirrus *c = new_cirrus();
	struct con_surface s;
	struct dmg d = {};
	struct bp p = {
		.w = 200, .h = 10, .dpitch = 2048, .dst = 100 * 2048 + 64, .fg = 0xffff,
		.mode = 0xd0, .rop = 0x0d, .ext = 0x04,
	};

	linux_modeset(c, &m1024, L_RGB565, 2048);
	cirrus_refresh(c, &s, NULL, on_damage, &d);
	blt_run(c, &p);
	EXPECT_EQ(0xff, c->vram[100 * 2048 + 64]);
	cirrus_refresh(c, &s, NULL, on_damage, &d);
	ASSERT_EQ(1, d.n);
	EXPECT_LE(d.y, 100);
	EXPECT_GE(d.y + d.h, 110);
	EXPECT_LE(d.h, 12);
	memset(&d, 0, sizeof(d));
	cirrus_refresh(c, &s, NULL, on_damage, &d);
	EXPECT_EQ(0, d.n);
	free_cirrus(c);
}

TEST(init_rejects_bad_vram)
{
	struct cirrus *c = calloc(1, sizeof(*c));
	uint8_t b[16];

	EXPECT_EQ(-1, cirrus_init(c, b, 3u << 20));
	EXPECT_EQ(-1, cirrus_init(c, b, 32u << 20));
	EXPECT_EQ(-1, cirrus_init(c, NULL, 4u << 20));
	free(c);
}

TEST(blt_out_of_range_is_rejected)
{
	struct cirrus *c = new_cirrus();
	uint8_t *ref = malloc(VRAM);
	unsigned int i;
	const struct bp bad[] = {
		/* Destination runs past the end. */
		{ .w = 64, .h = 2, .dpitch = 8191, .dst = VRAM - 8191 - 63, .mode = 0, .rop = 0x0d },
		{ .w = 8192, .h = 2048, .dpitch = 8191, .dst = 0, .src = 0, .spitch = 0, .rop = 0x0d },
		/* Source runs past the end. */
		{ .w = 16, .h = 100, .dpitch = 16, .spitch = 8191, .dst = 0, .src = VRAM - 8191 * 50,
		  .rop = 0x0d },
		/* Backwards: source and destination would go below 0 (CVE-2017-2615). */
		{ .w = 100, .h = 10, .dpitch = 100, .spitch = 1000, .dst = 200000, .src = 8000,
		  .mode = 0x01, .rop = 0x0d },
		{ .w = 100, .h = 3, .dpitch = 100, .spitch = 10, .dst = 150, .src = 300000,
		  .mode = 0x01, .rop = 0x0d },
		{ .w = 100, .h = 1, .dpitch = 0, .spitch = 0, .dst = 98, .src = 300000,
		  .mode = 0x01, .rop = 0x0d },
		/* Colour expansion source past the end; pattern past the end. */
		{ .w = 64, .h = 300, .dpitch = 64, .spitch = 8191, .src = VRAM - 8191 * 200,
		  .mode = 0x80, .rop = 0x0d },
		{ .w = 64, .h = 3, .dpitch = 64, .src = VRAM - 8, .mode = 0x70, .rop = 0x0d },
		/* System-to-video destination past the end. */
		{ .w = 64, .h = 3, .dpitch = 8000, .dst = VRAM - 16000, .mode = 0x04, .rop = 0x0d },
		/* Unknown ROP; video-to-system. */
		{ .w = 4, .h = 1, .dst = 0, .src = 64, .rop = 0x42 },
		{ .w = 4, .h = 1, .dst = 0, .src = 64, .mode = 0x02, .rop = 0x0d },
	};

	fill_random(c->vram, VRAM);
	memcpy(ref, c->vram, VRAM);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		blt_run(c, &bad[i]);
		EXPECT_EQ(0, c->gr[0x31] & 0x03) TH_LOG("blit %u left busy", i);
		for (uint32_t k = 0; k < 16000; k++)
			cirrus_mem_write(c, k & 0x7fff, 0xee);	/* no system blit is pending */
		EXPECT_EQ(0, memcmp(ref, c->vram, VRAM)) TH_LOG("blit %u wrote VRAM", i);
		memcpy(c->vram, ref, VRAM);
	}
	/* The largest legal copy reaching the last byte is accepted. */
	{
		struct bp p = { .w = 4096, .h = 2, .dpitch = 4096, .dst = VRAM - 8192,
				.src = 0, .spitch = 4096, .rop = 0x0d };

		EXPECT_TRUE(check_blt(c, ref, &p, 1));
	}
	free(ref);
	free_cirrus(c);
}

TEST_HARNESS_MAIN
