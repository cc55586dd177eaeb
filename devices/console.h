/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The console: one display surface and one input sink between the
 * guest-visible devices (VGA/Cirrus, USB tablet and keyboard, PS/2) and
 * whatever shows them (the control socket's screendump, VNC).  Devices
 * never know which backend looks at them; backends never know which
 * device draws or takes input.
 *
 * Display: one device (the first to call console_set_display()) owns the
 * surface.  A consumer calls console_refresh(), which asks the device for
 * its current mode and for what changed since the last refresh (the
 * device reads KVM_GET_DIRTY_LOG on its VRAM slot, or compares its text
 * buffer) and reports it with console_damage().  While no consumer is
 * attached (console_attach() not called), the device is told to stop
 * logging (set_active(false)): no dirty log, no copies, no extra exits.
 *
 * Input: keys arrive as PC XT (set 1) scancodes, extended keys as
 * 0xe000 | code, from both the control socket and VNC's QEMU extended key
 * event; console_key_keysym() maps an X11 keysym to a scancode first.
 * Pointer events are absolute (0..0x7fff on both axes, scaled from surface
 * pixels by console_pointer_px()).  Each goes to the highest-priority
 * sink of its kind that is ready (a USB device the guest configured beats
 * PS/2); PS/2 mice get the absolute moves as relative ones.
 *
 * Thread safety: all calls take the console's lock; device callbacks are
 * called with it held and must not call back into the console except
 * console_damage().
 */
#ifndef KVL_DEVICES_CONSOLE_H
#define KVL_DEVICES_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

enum con_format {
	CON_FMT_NONE,		/* nothing to show (device off, mode unset) */
	CON_FMT_TEXT,		/* cells: char byte, attribute byte; 16 colours */
	CON_FMT_PAL8,		/* 8 bpp through palette[] */
	CON_FMT_RGB555,		/* 16-bit little endian x:1 r:5 g:5 b:5 */
	CON_FMT_RGB565,		/* 16-bit little endian r:5 g:6 b:5 */
	CON_FMT_RGB888,		/* 3 bytes: blue, green, red */
	CON_FMT_XRGB8888,	/* 4 bytes: blue, green, red, unused */
};

/* What a display device shows now.  Text mode: width/height in cells. */
struct con_surface {
	enum con_format format;
	uint32_t width, height;		/* pixels (text: columns, rows) */
	uint32_t stride;		/* bytes from one line (text: row) to the next */
	const uint8_t *data;		/* first pixel or cell; valid until the next refresh */
	uint64_t data_len;		/* bytes readable from data */
	const uint32_t *palette;	/* PAL8 and TEXT: 256 entries 0x00RRGGBB */
	/* TEXT: cursor cell (-1: hidden), glyphs (256 x 16 bytes, 8 px wide), or NULL for the built-in font */
	int cursor_x, cursor_y;
	const uint8_t *font;
	uint32_t font_height;		/* scan lines per glyph (16 if font is NULL) */
};

struct console_display_ops {
	/*
	 * Fill @s with the current mode and report changes since the last
	 * call with console_damage() (a mode change damages everything by
	 * itself).  Called with the console lock held.
	 */
	void (*refresh)(void *opaque, struct con_surface *s);
	/* The first consumer came (true) or the last left (false): start or stop dirty logging. */
	void (*set_active)(void *opaque, bool on);
	/* For "info": a one-line description of the device and its mode (may be NULL). */
	void (*describe)(void *opaque, char *buf, unsigned int len);
};

enum con_sink_kind { CON_SINK_KBD, CON_SINK_POINTER };

#define CON_BTN_LEFT	1
#define CON_BTN_MIDDLE	2
#define CON_BTN_RIGHT	4
#define CON_ABS_MAX	0x7fff

struct console_sink_ops {
	/* Keyboards: one scancode (0xe000 | code for E0 keys), pressed or released. */
	void (*key)(void *opaque, uint16_t code, bool down);
	/* Absolute pointers: x, y in 0..CON_ABS_MAX, CON_BTN_* mask, wheel steps (+ up). */
	void (*abs)(void *opaque, uint32_t x, uint32_t y, uint32_t buttons, int wheel);
	/* Relative pointers (PS/2 mouse): motion in pixels (y grows down), buttons, wheel. */
	void (*rel)(void *opaque, int dx, int dy, uint32_t buttons, int wheel);
	/* May the sink take input now (e.g. the guest configured the USB device)? NULL: always. */
	bool (*ready)(void *opaque);
	/* LED state for keyboards (bit 0 scroll, 1 num, 2 caps), or NULL. */
	uint8_t (*leds)(void *opaque);
};

/* Sink priorities: higher wins among ready sinks of a kind. */
#define CON_PRIO_PS2	10
#define CON_PRIO_USB	20

/* Devices. */
int console_set_display(const struct console_display_ops *ops, void *opaque);	/* 0, or -1 if taken */
void console_damage(uint32_t x, uint32_t y, uint32_t w, uint32_t h);		/* pixels or cells */
int console_add_sink(enum con_sink_kind kind, int prio, const struct console_sink_ops *ops,
		     void *opaque, const char *name);

/* Consumers: each has its own damage since its last snapshot. */
#define CON_MAX_CLIENTS	72	/* 64 VNC clients, the control socket, spares */
int console_attach(void);		/* a client id, or -1 if CON_MAX_CLIENTS are attached */
void console_detach(int id);
/*
 * Refresh and copy the picture as 24-bit RGB (3 bytes a pixel, red
 * first), text mode rendered with the font: *rgb is malloc()ed (caller
 * frees), *w and *h its size.  Returns 0, or -1 with no display or mode.
 * @damage (may be NULL) receives the bounding box changed since client
 * @id's last snapshot ({0,0,0,0}: nothing; all of it after a mode change
 * or on the first call).  @id -1: a one-off snapshot by a client that is
 * not attached (the display is activated for the duration).
 */
struct con_rect { uint32_t x, y, w, h; };
int console_snapshot(int id, uint8_t **rgb, uint32_t *w, uint32_t *h, struct con_rect *damage);
/*
 * The same for a client that keeps its own copy of the picture: refresh,
 * then render into @fb only what changed since client @id's last update.
 * On the first call and after a mode change @fb->rgb is (re)allocated at
 * the new size (the caller frees it) and all of it is damaged.  Returns 0
 * (with *@damage the changed box, possibly empty), or -1 with no display
 * or mode (@fb untouched).
 */
struct con_fb {
	uint8_t *rgb;		/* w * h * 3 bytes, red first (xrgb: w * h uint32_t) */
	uint32_t w, h;
	/*
	 * Set by the caller before the first call: @rgb holds one native
	 * endian uint32_t 0x00RRGGBB a pixel instead (what a 32 bpp client
	 * takes as is), rows packed.
	 */
	bool xrgb;
};
int console_update(int id, struct con_fb *fb, struct con_rect *damage);
void console_key(uint16_t code, bool down);
int console_key_keysym(uint32_t keysym, bool down);	/* -1: no scancode for it */
void console_pointer(uint32_t x, uint32_t y, uint32_t buttons, int wheel);	/* absolute 0..CON_ABS_MAX */
void console_pointer_px(uint32_t x, uint32_t y, uint32_t buttons, int wheel);	/* surface pixels */
uint8_t console_leds(void);
/* Does pointer input go to an absolute device now (a ready USB tablet)? For VNC's pointer-type change. */
bool console_pointer_absolute(void);
/* For "info": display and sinks, one per line, into @buf. */
void console_describe(char *buf, unsigned int len);

/* Unit tests: forget the display and every sink. */
void console_reset(void);

#endif
