// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of devices/console.c: each pixel format and text mode
 * against the RGB it must give, damage per client, input routing between
 * sinks by priority and readiness, absolute to relative pointer motion,
 * and the keysym map.
 */
#include <stdlib.h>
#include "kselftest_harness.h"
#include "../../devices/console.h"

extern const uint8_t console_font8x16[256 * 16];

/* A display device whose mode the test sets. */
static struct fake_disp {
	struct con_surface s;
	struct con_rect dmg[4];
	int ndmg;
	int refreshes, active_calls;
	bool active;
} fd;

static void fd_refresh(void *opaque, struct con_surface *s)
{
	int i;

	(void)opaque;
	fd.refreshes++;
	*s = fd.s;
	for (i = 0; i < fd.ndmg; i++)
		console_damage(fd.dmg[i].x, fd.dmg[i].y, fd.dmg[i].w, fd.dmg[i].h);
	fd.ndmg = 0;
}

static void fd_set_active(void *opaque, bool on)
{
	(void)opaque;
	fd.active = on;
	fd.active_calls++;
}

static const struct console_display_ops fd_ops = { fd_refresh, fd_set_active, NULL };

static void setup_disp(enum con_format f, uint32_t w, uint32_t h, uint32_t stride,
		       const void *data, uint64_t len)
{
	console_reset();
	memset(&fd, 0, sizeof(fd));
	fd.s = (struct con_surface){ .format = f, .width = w, .height = h, .stride = stride,
				     .data = data, .data_len = len, .cursor_x = -1,
				     .cursor_y = -1 };
	console_set_display(&fd_ops, NULL);
}

static uint32_t px(const uint8_t *rgb, uint32_t w, uint32_t x, uint32_t y)
{
	const uint8_t *p = rgb + ((uint64_t)y * w + x) * 3;

	return p[0] << 16 | p[1] << 8 | p[2];
}

TEST(no_display_no_snapshot)
{
	uint8_t *rgb = NULL;
	uint32_t w, h;

	console_reset();
	EXPECT_EQ(-1, console_snapshot(-1, &rgb, &w, &h, NULL));
	EXPECT_EQ(NULL, rgb);
}

TEST(formats)
{
	static const uint32_t pal[256] = { [0] = 0x102030, [7] = 0xa0b0c0 };
	/* Two pixels each: pure red, then blue-ish, little endian. */
	static const uint8_t p555[] = { 0x00, 0x7c, 0x1f, 0x00 };	/* r=31; b=31 */
	static const uint8_t p565[] = { 0x00, 0xf8, 0x00, 0x04 };	/* r=31; g=32 */
	static const uint8_t p888[] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };
	static const uint8_t p8888[] = { 0x11, 0x22, 0x33, 0xff, 0x44, 0x55, 0x66, 0x00 };
	static const uint8_t pal8[] = { 7, 0 };
	static const struct {
		enum con_format f;
		const uint8_t *data;
		uint32_t stride;
		uint32_t want[2];
	} c[] = {
		{ CON_FMT_RGB555, p555, 4, { 0xff0000, 0x0000ff } },
		{ CON_FMT_RGB565, p565, 4, { 0xff0000, 0x008200 } },
		{ CON_FMT_RGB888, p888, 6, { 0x332211, 0x665544 } },
		{ CON_FMT_XRGB8888, p8888, 8, { 0x332211, 0x665544 } },
		{ CON_FMT_PAL8, pal8, 2, { 0xa0b0c0, 0x102030 } },
	};
	unsigned int i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint8_t *rgb;
		uint32_t w, h;

		setup_disp(c[i].f, 2, 1, c[i].stride, c[i].data, c[i].stride);
		fd.s.palette = pal;
		ASSERT_EQ(0, console_snapshot(-1, &rgb, &w, &h, NULL));
		ASSERT_EQ(2, w);
		ASSERT_EQ(1, h);
		EXPECT_EQ(c[i].want[0], px(rgb, w, 0, 0)) TH_LOG("format %d", c[i].f);
		EXPECT_EQ(c[i].want[1], px(rgb, w, 1, 0)) TH_LOG("format %d", c[i].f);
		free(rgb);
	}
}

TEST(short_buffer_reads_black)
{
	static const uint8_t p8888[] = { 0x11, 0x22, 0x33, 0 };
	uint8_t *rgb;
	uint32_t w, h;

	/* The device claims 2x2 but has 4 bytes: the rest must not be read. */
	setup_disp(CON_FMT_XRGB8888, 2, 2, 8, p8888, sizeof(p8888));
	ASSERT_EQ(0, console_snapshot(-1, &rgb, &w, &h, NULL));
	EXPECT_EQ(0x332211, px(rgb, w, 0, 0));
	EXPECT_EQ(0, px(rgb, w, 1, 0));
	EXPECT_EQ(0, px(rgb, w, 1, 1));
	free(rgb);
}

TEST(text_mode)
{
	/* 'A' white on blue, then a space black on light red (attr 0xc0). */
	static const uint8_t cells[] = { 'A', 0x1f, ' ', 0xc0 };
	uint8_t *rgb;
	uint32_t w, h, x, y;
	int on = 0;

	setup_disp(CON_FMT_TEXT, 2, 1, 4, cells, sizeof(cells));
	ASSERT_EQ(0, console_snapshot(-1, &rgb, &w, &h, NULL));
	ASSERT_EQ(16, w);
	ASSERT_EQ(16, h);
	for (y = 0; y < 16; y++)
		for (x = 0; x < 8; x++) {
			bool set = console_font8x16['A' * 16 + y] & (0x80 >> x);

			EXPECT_EQ(set ? 0xffffffU : 0x0000aaU, px(rgb, w, x, y));
			on += set;
		}
	EXPECT_LT(10, on);	/* the font has a real glyph for 'A' */
	EXPECT_EQ(0xff5555, px(rgb, w, 8, 0));
	EXPECT_EQ(0xff5555, px(rgb, w, 15, 15));
	free(rgb);

	/* The cursor is an underline in the foreground colour. */
	fd.s.cursor_x = 1;
	fd.s.cursor_y = 0;
	ASSERT_EQ(0, console_snapshot(-1, &rgb, &w, &h, NULL));
	EXPECT_EQ(0x000000, px(rgb, w, 12, 15));
	EXPECT_EQ(0xff5555, px(rgb, w, 12, 5));
	free(rgb);
}

TEST(damage_per_client)
{
	static uint8_t fb[64 * 32 * 4];
	struct con_rect d;
	uint8_t *rgb;
	uint32_t w, h;
	int a, b;

	setup_disp(CON_FMT_XRGB8888, 64, 32, 256, fb, sizeof(fb));
	EXPECT_FALSE(fd.active);
	a = console_attach();
	ASSERT_LE(0, a);
	EXPECT_TRUE(fd.active);
	b = console_attach();
	ASSERT_LE(0, b);
	ASSERT_NE(a, b);

	/* First snapshot: everything. */
	ASSERT_EQ(0, console_snapshot(a, &rgb, &w, &h, &d));
	free(rgb);
	EXPECT_EQ(0, d.x);
	EXPECT_EQ(64, d.w);
	EXPECT_EQ(32, d.h);
	/* Nothing changed since. */
	ASSERT_EQ(0, console_snapshot(a, &rgb, &w, &h, &d));
	free(rgb);
	EXPECT_EQ(0, d.w);
	EXPECT_EQ(0, d.h);

	/* Two rectangles: a gets their bounding box ... */
	fd.dmg[0] = (struct con_rect){ 2, 3, 4, 5 };
	fd.dmg[1] = (struct con_rect){ 10, 1, 2, 2 };
	fd.ndmg = 2;
	ASSERT_EQ(0, console_snapshot(a, &rgb, &w, &h, &d));
	free(rgb);
	EXPECT_EQ(2, d.x);
	EXPECT_EQ(1, d.y);
	EXPECT_EQ(10, d.w);
	EXPECT_EQ(7, d.h);
	/* ... b, which never looked, still everything (its first), then that damage is gone. */
	ASSERT_EQ(0, console_snapshot(b, &rgb, &w, &h, &d));
	free(rgb);
	EXPECT_EQ(64, d.w);
	fd.dmg[0] = (struct con_rect){ 60, 30, 10, 10 };	/* clipped to the surface */
	fd.ndmg = 1;
	ASSERT_EQ(0, console_snapshot(b, &rgb, &w, &h, &d));
	free(rgb);
	EXPECT_EQ(60, d.x);
	EXPECT_EQ(4, d.w);
	EXPECT_EQ(2, d.h);
	/* a saw that refresh's damage too. */
	ASSERT_EQ(0, console_snapshot(a, &rgb, &w, &h, &d));
	free(rgb);
	EXPECT_EQ(60, d.x);

	/* A mode change damages all of it. */
	fd.s.width = 32;
	ASSERT_EQ(0, console_snapshot(a, &rgb, &w, &h, &d));
	free(rgb);
	EXPECT_EQ(32, w);
	EXPECT_EQ(32, d.w);
	EXPECT_EQ(32, d.h);

	console_detach(a);
	EXPECT_TRUE(fd.active);
	console_detach(b);
	EXPECT_FALSE(fd.active);
	EXPECT_EQ(-1, console_snapshot(a, &rgb, &w, &h, &d));
}

TEST(text_damage_in_pixels)
{
	static uint8_t cells[80 * 25 * 2];
	struct con_rect d;
	uint8_t *rgb;
	uint32_t w, h;
	int a;

	setup_disp(CON_FMT_TEXT, 80, 25, 160, cells, sizeof(cells));
	a = console_attach();
	ASSERT_EQ(0, console_snapshot(a, &rgb, &w, &h, &d));
	free(rgb);
	EXPECT_EQ(640, w);
	EXPECT_EQ(400, h);
	fd.dmg[0] = (struct con_rect){ 3, 2, 1, 1 };
	fd.ndmg = 1;
	ASSERT_EQ(0, console_snapshot(a, &rgb, &w, &h, &d));
	free(rgb);
	EXPECT_EQ(24, d.x);
	EXPECT_EQ(32, d.y);
	EXPECT_EQ(8, d.w);
	EXPECT_EQ(16, d.h);
	console_detach(a);
}

/* Input sinks that record what they got. */
struct rec {
	bool ready;
	int keys, abs, rel;
	uint16_t code[8];
	bool down[8];
	uint32_t x, y, buttons;
	int dx, dy;
};

static void r_key(void *o, uint16_t code, bool down)
{
	struct rec *r = o;

	if (r->keys < 8) {
		r->code[r->keys] = code;
		r->down[r->keys] = down;
	}
	r->keys++;
}

static void r_abs(void *o, uint32_t x, uint32_t y, uint32_t buttons, int wheel)
{
	struct rec *r = o;

	(void)wheel;
	r->abs++;
	r->x = x;
	r->y = y;
	r->buttons = buttons;
}

static void r_rel(void *o, int dx, int dy, uint32_t buttons, int wheel)
{
	struct rec *r = o;

	(void)wheel;
	r->rel++;
	r->dx += dx;
	r->dy += dy;
	r->buttons = buttons;
}

static bool r_ready(void *o)
{
	return ((struct rec *)o)->ready;
}

static uint8_t r_leds(void *o)
{
	return ((struct rec *)o)->ready ? 4 : 2;
}

static const struct console_sink_ops usb_kbd = { .key = r_key, .ready = r_ready, .leds = r_leds };
static const struct console_sink_ops ps2_kbd = { .key = r_key, .leds = r_leds };
static const struct console_sink_ops usb_tab = { .abs = r_abs, .ready = r_ready };
static const struct console_sink_ops ps2_mouse = { .rel = r_rel };

TEST(routing_by_priority_and_readiness)
{
	struct rec usb = {}, ps2 = { .ready = true };

	console_reset();
	ASSERT_EQ(0, console_add_sink(CON_SINK_KBD, CON_PRIO_PS2, &ps2_kbd, &ps2, "ps2"));
	ASSERT_EQ(0, console_add_sink(CON_SINK_KBD, CON_PRIO_USB, &usb_kbd, &usb, "usb"));
	/* The USB keyboard is not configured yet: PS/2 gets the key. */
	console_key(0x1e, true);
	console_key(0x1e, false);
	EXPECT_EQ(2, ps2.keys);
	EXPECT_EQ(0, usb.keys);
	EXPECT_EQ(4, console_leds());	/* ps2's (ready) */
	usb.ready = true;
	console_key(0xe048, true);
	EXPECT_EQ(1, usb.keys);
	EXPECT_EQ(0xe048, usb.code[0]);
	EXPECT_TRUE(usb.down[0]);
	EXPECT_EQ(2, ps2.keys);
	/* Pressed on USB, released after USB went away: the release still goes to USB. */
	usb.ready = false;
	console_key(0xe048, false);
	EXPECT_EQ(2, usb.keys);
	EXPECT_FALSE(usb.down[1]);
	console_key(0x1c, true);
	EXPECT_EQ(3, ps2.keys);
}

TEST(pointer_abs_and_rel)
{
	static uint8_t fb[800 * 600];
	struct rec tab = {}, mouse = {};

	setup_disp(CON_FMT_PAL8, 800, 600, 800, fb, sizeof(fb));
	ASSERT_EQ(0, console_add_sink(CON_SINK_POINTER, CON_PRIO_PS2, &ps2_mouse, &mouse, "m"));
	ASSERT_EQ(0, console_add_sink(CON_SINK_POINTER, CON_PRIO_USB, &usb_tab, &tab, "t"));
	/* Tablet not ready: the mouse gets relative motion in pixels. */
	EXPECT_FALSE(console_pointer_absolute());
	console_pointer_px(100, 50, CON_BTN_LEFT, 0);
	EXPECT_EQ(0, tab.abs);
	EXPECT_EQ(1, mouse.rel);
	EXPECT_EQ(100, mouse.dx);
	EXPECT_EQ(50, mouse.dy);
	EXPECT_EQ(CON_BTN_LEFT, mouse.buttons);
	console_pointer_px(90, 70, 0, 0);
	EXPECT_EQ(90, mouse.dx);
	EXPECT_EQ(70, mouse.dy);
	/* Ready tablet: absolute, scaled to 0..0x7fff. */
	tab.ready = true;
	EXPECT_TRUE(console_pointer_absolute());
	console_pointer_px(799, 599, CON_BTN_RIGHT, 0);
	EXPECT_EQ(1, tab.abs);
	EXPECT_EQ(CON_ABS_MAX, tab.x);
	EXPECT_EQ(CON_ABS_MAX, tab.y);
	EXPECT_EQ(CON_BTN_RIGHT, tab.buttons);
	console_pointer(0, CON_ABS_MAX / 2 + 1, 0, 0);
	EXPECT_EQ(0, tab.x);
	EXPECT_EQ(2, mouse.rel);
	/* Back to the mouse: motion from where the tablet left the pointer. */
	tab.ready = false;
	mouse.dx = mouse.dy = 0;
	console_pointer_px(10, 300, 0, 0);
	EXPECT_EQ(10, mouse.dx);
	EXPECT_EQ(0, mouse.dy);
}

TEST(keysyms)
{
	struct rec k = { .ready = true };

	console_reset();
	ASSERT_EQ(0, console_add_sink(CON_SINK_KBD, CON_PRIO_PS2, &ps2_kbd, &k, "kbd"));
	/* '@' is Shift + 2: shift down, 2 down; then 2 up, shift up. */
	ASSERT_EQ(0, console_key_keysym('@', true));
	ASSERT_EQ(0, console_key_keysym('@', false));
	ASSERT_EQ(4, k.keys);
	EXPECT_EQ(0x2a, k.code[0]);
	EXPECT_TRUE(k.down[0]);
	EXPECT_EQ(0x03, k.code[1]);
	EXPECT_TRUE(k.down[1]);
	EXPECT_EQ(0x03, k.code[2]);
	EXPECT_FALSE(k.down[2]);
	EXPECT_EQ(0x2a, k.code[3]);
	EXPECT_FALSE(k.down[3]);

	/* With Shift held by the user, nothing is synthesised. */
	k.keys = 0;
	console_key_keysym(0xffe1, true);
	console_key_keysym('A', true);
	console_key_keysym('A', false);
	console_key_keysym(0xffe1, false);
	ASSERT_EQ(4, k.keys);
	EXPECT_EQ(0x1e, k.code[1]);
	EXPECT_EQ(0x2a, k.code[3]);

	k.keys = 0;
	console_key_keysym('2', true);
	EXPECT_EQ(1, k.keys);
	EXPECT_EQ(0x03, k.code[0]);

	static const struct { uint32_t sym; uint16_t code; } m[] = {
		{ 'a', 0x1e }, { 'q', 0x10 }, { 'z', 0x2c }, { 'm', 0x32 }, { '0', 0x0b },
		{ '1', 0x02 }, { ' ', 0x39 }, { '-', 0x0c }, { '/', 0x35 }, { 0xff1b, 0x01 },
		{ 0xff09, 0x0f }, { 0xff08, 0x0e }, { 0xff0d, 0x1c }, { 0xffbe, 0x3b },
		{ 0xffc7, 0x44 }, { 0xffc8, 0x57 }, { 0xffc9, 0x58 }, { 0xff52, 0xe048 },
		{ 0xff54, 0xe050 }, { 0xff51, 0xe04b }, { 0xff53, 0xe04d }, { 0xff50, 0xe047 },
		{ 0xff57, 0xe04f }, { 0xff55, 0xe049 }, { 0xff56, 0xe051 }, { 0xff63, 0xe052 },
		{ 0xffff, 0xe053 }, { 0xffe3, 0x1d }, { 0xffe4, 0xe01d }, { 0xffe9, 0x38 },
		{ 0xffea, 0xe038 }, { 0xffe2, 0x36 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		k.keys = 0;
		ASSERT_EQ(0, console_key_keysym(m[i].sym, true));
		EXPECT_EQ(1, k.keys) TH_LOG("keysym 0x%x", m[i].sym);
		EXPECT_EQ(m[i].code, k.code[0]) TH_LOG("keysym 0x%x", m[i].sym);
		console_key_keysym(m[i].sym, false);
	}
	EXPECT_EQ(-1, console_key_keysym(0x20ac, true));	/* EuroSign */
}

TEST(describe)
{
	struct rec k = {};
	char buf[256];

	setup_disp(CON_FMT_NONE, 0, 0, 0, NULL, 0);
	console_add_sink(CON_SINK_KBD, CON_PRIO_USB, &usb_kbd, &k, "usb-kbd");
	console_describe(buf, sizeof(buf));
	EXPECT_NE(NULL, strstr(buf, "display:"));
	EXPECT_NE(NULL, strstr(buf, "usb-kbd (priority 20, not ready)"));
}

/*
 * console_update() into 0x00RRGGBB words gives the same colours as the
 * 24-bit copy, for every format (RGB565 in 8-pixel steps and the rest one
 * by one: 37 pixels a row, every 16-bit value in the picture), text mode
 * and a buffer that ends early.
 */
TEST(update_xrgb_matches_rgb)
{
	static const enum con_format fmts[] = { CON_FMT_PAL8, CON_FMT_RGB555, CON_FMT_RGB565,
						CON_FMT_RGB888, CON_FMT_XRGB8888, CON_FMT_TEXT };
	static uint32_t pal[256];
	static uint8_t pix[37 * 4 * 1800];
	unsigned int i, k, bad;
	uint32_t x, y;

	for (k = 0; k < sizeof(pix) / 2; k++) {
		pix[2 * k] = k;
		pix[2 * k + 1] = k >> 8;
	}
	for (k = 0; k < 256; k++)
		pal[k] = k * 0x01030507u;	/* the top byte must not show */
	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		struct con_fb a = { 0 }, b = { .xrgb = true };
		struct con_rect d;
		uint32_t h = fmts[i] == CON_FMT_TEXT ? 20 : 1800;
		int ia, ib;

		/* The last row is cut short: 5 pixels black. */
		setup_disp(fmts[i], 37, h, 37 * 4, pix, 37 * 4 * (h - 1) + 32 * 4);
		fd.s.palette = pal;
		ia = console_attach();
		ib = console_attach();
		ASSERT_LE(0, ia);
		ASSERT_LE(0, ib);
		ASSERT_EQ(0, console_update(ia, &a, &d));
		ASSERT_EQ(0, console_update(ib, &b, &d));
		ASSERT_EQ(a.w, b.w);
		ASSERT_EQ(a.h, b.h);
		bad = 0;
		for (y = 0; y < a.h; y++)
			for (x = 0; x < a.w; x++)
				bad += px(a.rgb, a.w, x, y) != ((uint32_t *)b.rgb)[y * b.w + x];
		EXPECT_EQ(0, bad) TH_LOG("format %d", fmts[i]);
		console_detach(ia);
		console_detach(ib);
		free(a.rgb);
		free(b.rgb);
	}
}

/* console_update(): a client's own copy, only the damage re-rendered. */
TEST(update_renders_damage_only)
{
	static uint8_t pix[40 * 30 * 4];
	static uint8_t cells[4 * 2 * 2];
	struct con_fb fb = {};
	struct con_rect d;
	uint8_t *keep;
	int id;

	memset(pix, 0x10, sizeof(pix));
	setup_disp(CON_FMT_XRGB8888, 40, 30, 160, pix, sizeof(pix));
	id = console_attach();
	ASSERT_LE(0, id);
	EXPECT_TRUE(fd.active);
	ASSERT_EQ(0, console_update(id, &fb, &d));
	ASSERT_NE(NULL, fb.rgb);
	EXPECT_EQ(40, fb.w);
	EXPECT_EQ(30, fb.h);
	EXPECT_EQ(0, d.x);
	EXPECT_EQ(40, d.w);
	EXPECT_EQ(30, d.h);
	EXPECT_EQ(0x101010, px(fb.rgb, 40, 39, 29));
	keep = fb.rgb;

	/* Nothing changed: nothing damaged, nothing rendered. */
	ASSERT_EQ(0, console_update(id, &fb, &d));
	EXPECT_EQ(0, d.w);
	EXPECT_EQ(keep, fb.rgb);

	/* Change two pixels, damage only one: only that one is re-rendered. */
	pix[(5 * 40 + 7) * 4 + 2] = 0xff;
	pix[(20 * 40 + 30) * 4 + 0] = 0xff;
	fd.dmg[0] = (struct con_rect){ 7, 5, 1, 1 };
	fd.ndmg = 1;
	ASSERT_EQ(0, console_update(id, &fb, &d));
	EXPECT_EQ(7, d.x);
	EXPECT_EQ(5, d.y);
	EXPECT_EQ(1, d.w);
	EXPECT_EQ(1, d.h);
	EXPECT_EQ(0xff1010, px(fb.rgb, 40, 7, 5));
	EXPECT_EQ(0x101010, px(fb.rgb, 40, 30, 20));

	/* Damage reaching past the edge is clipped. */
	fd.dmg[0] = (struct con_rect){ 35, 25, 100, 100 };
	fd.ndmg = 1;
	ASSERT_EQ(0, console_update(id, &fb, &d));
	EXPECT_EQ(5, d.w);
	EXPECT_EQ(5, d.h);

	/* A mode change reallocates and damages all of it, in pixels for text. */
	setup_disp(CON_FMT_TEXT, 4, 2, 8, cells, sizeof(cells));
	id = console_attach();
	ASSERT_LE(0, id);
	ASSERT_EQ(0, console_update(id, &fb, &d));
	EXPECT_EQ(32, fb.w);
	EXPECT_EQ(32, fb.h);
	EXPECT_EQ(32, d.w);
	EXPECT_EQ(32, d.h);
	fd.dmg[0] = (struct con_rect){ 1, 1, 1, 1 };
	fd.ndmg = 1;
	ASSERT_EQ(0, console_update(id, &fb, &d));
	EXPECT_EQ(8, d.x);
	EXPECT_EQ(16, d.y);
	EXPECT_EQ(8, d.w);
	EXPECT_EQ(16, d.h);

	/* Not attached, or no display: -1 and the copy is kept. */
	console_detach(id);
	EXPECT_EQ(-1, console_update(id, &fb, &d));
	console_reset();
	id = console_attach();
	EXPECT_EQ(-1, console_update(id, &fb, &d));
	EXPECT_EQ(32, fb.w);
	free(fb.rgb);
}

/* As many clients as VNC allows, plus the control socket, can attach. */
TEST(many_clients)
{
	int ids[CON_MAX_CLIENTS], i;

	console_reset();
	for (i = 0; i < CON_MAX_CLIENTS; i++) {
		ids[i] = console_attach();
		ASSERT_LE(0, ids[i]);
	}
	EXPECT_EQ(-1, console_attach());
	EXPECT_LE(65, CON_MAX_CLIENTS);
	for (i = 0; i < CON_MAX_CLIENTS; i++)
		console_detach(ids[i]);
}

TEST_HARNESS_MAIN
