// SPDX-License-Identifier: GPL-2.0
/*
 * The console of console.h: one display, input sinks by priority, damage
 * per client, pictures as 24-bit RGB or 0x00RRGGBB words.  Text mode is drawn with the VGA
 * font the build generates (scripts/psf2c -> console_font8x16) unless the
 * device supplies the guest's own.
 *
 * Lock order: the console's lock (recursive) comes before any device's,
 * since display and sink callbacks run under it.  A device may call
 * console_damage() from inside its refresh, or from elsewhere while it
 * holds no lock of its own that refresh takes.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "console.h"

#define MAX_SINKS	8
#define SC_LSHIFT	0x2a
#define SC_RSHIFT	0x36

extern const uint8_t console_font8x16[256 * 16];

struct sink {
	enum con_sink_kind kind;
	int prio;
	const struct console_sink_ops *ops;
	void *opaque;
	char name[32];
};

struct client {
	bool used, full;
	struct con_rect dmg;	/* in surface units (cells in text mode) */
};

static pthread_mutex_t lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static const struct console_display_ops *disp;
static void *disp_opaque;
static bool disp_on;
static struct client clients[CON_MAX_CLIENTS + 1];	/* the last: one-off snapshots */
static struct sink sinks[MAX_SINKS];
static int nr_sinks;
static struct con_surface last;		/* mode of the last refresh */
static uint32_t last_px_w, last_px_h;	/* its size in pixels */
static uint32_t ptr_x, ptr_y;		/* last pointer position, pixels */
static const struct sink *key_owner[512];	/* who took each key's press */
static bool shift_held[2];

/* The 16 colours of VGA text mode, for devices that pass no palette. */
static const uint32_t vga16[16] = {
	0x000000, 0x0000aa, 0x00aa00, 0x00aaaa, 0xaa0000, 0xaa00aa, 0xaa5500, 0xaaaaaa,
	0x555555, 0x5555ff, 0x55ff55, 0x55ffff, 0xff5555, 0xff55ff, 0xffff55, 0xffffff,
};

static void update_active(void)
{
	bool want = false;
	int i;

	for (i = 0; i <= CON_MAX_CLIENTS; i++)
		want |= clients[i].used;
	if (disp && want != disp_on) {
		disp_on = want;
		if (disp->set_active)
			disp->set_active(disp_opaque, want);
	}
}

int console_set_display(const struct console_display_ops *ops, void *opaque)
{
	int ret = -1;

	pthread_mutex_lock(&lock);
	if (!disp) {
		disp = ops;
		disp_opaque = opaque;
		disp_on = false;
		update_active();
		ret = 0;
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

static void rect_union(struct con_rect *a, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	uint64_t x1, y1;

	if (!w || !h)
		return;
	if (!a->w || !a->h) {
		*a = (struct con_rect){ x, y, w, h };
		return;
	}
	x1 = a->x + (uint64_t)a->w > x + (uint64_t)w ? a->x + (uint64_t)a->w : x + (uint64_t)w;
	y1 = a->y + (uint64_t)a->h > y + (uint64_t)h ? a->y + (uint64_t)a->h : y + (uint64_t)h;
	a->x = a->x < x ? a->x : x;
	a->y = a->y < y ? a->y : y;
	a->w = x1 - a->x > UINT32_MAX ? UINT32_MAX : x1 - a->x;
	a->h = y1 - a->y > UINT32_MAX ? UINT32_MAX : y1 - a->y;
}

void console_damage(uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	int i;

	pthread_mutex_lock(&lock);
	for (i = 0; i <= CON_MAX_CLIENTS; i++)
		if (clients[i].used)
			rect_union(&clients[i].dmg, x, y, w, h);
	pthread_mutex_unlock(&lock);
}

int console_add_sink(enum con_sink_kind kind, int prio, const struct console_sink_ops *ops,
		     void *opaque, const char *name)
{
	int ret = -1;

	pthread_mutex_lock(&lock);
	if (nr_sinks < MAX_SINKS) {
		struct sink *s = &sinks[nr_sinks++];

		*s = (struct sink){ kind, prio, ops, opaque, "" };
		snprintf(s->name, sizeof(s->name), "%s", name ? name : "?");
		ret = 0;
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

int console_attach(void)
{
	int i, id = -1;

	pthread_mutex_lock(&lock);
	for (i = 0; i < CON_MAX_CLIENTS; i++)
		if (!clients[i].used) {
			clients[i] = (struct client){ .used = true, .full = true };
			id = i;
			break;
		}
	update_active();
	pthread_mutex_unlock(&lock);
	return id;
}

void console_detach(int id)
{
	if (id < 0 || id >= CON_MAX_CLIENTS)
		return;
	pthread_mutex_lock(&lock);
	clients[id].used = false;
	update_active();
	pthread_mutex_unlock(&lock);
}

static uint32_t px_width(const struct con_surface *s)
{
	return s->format == CON_FMT_TEXT ? s->width * 8 : s->width;
}

static uint32_t glyph_height(const struct con_surface *s)
{
	if (!s->font || !s->font_height)
		return 16;
	return s->font_height > 16 ? 16 : s->font_height;
}

static uint32_t px_height(const struct con_surface *s)
{
	return s->format == CON_FMT_TEXT ? s->height * glyph_height(s) : s->height;
}

static unsigned int bytes_pp(enum con_format f)
{
	switch (f) {
	case CON_FMT_TEXT:
	case CON_FMT_RGB555:
	case CON_FMT_RGB565:
		return 2;
	case CON_FMT_PAL8:
		return 1;
	case CON_FMT_RGB888:
		return 3;
	case CON_FMT_XRGB8888:
		return 4;
	default:
		return 0;
	}
}

/* Refresh the device's view; a mode change damages everything for everyone. */
static int refresh(struct con_surface *s)
{
	bool changed;
	int i;

	memset(s, 0, sizeof(*s));
	s->cursor_x = s->cursor_y = -1;
	if (!disp || !disp->refresh)
		return -1;
	disp->refresh(disp_opaque, s);
	changed = s->format != last.format || s->width != last.width ||
		  s->height != last.height || s->stride != last.stride ||
		  glyph_height(s) != glyph_height(&last);
	if (changed)
		for (i = 0; i <= CON_MAX_CLIENTS; i++)
			clients[i].full = true;
	last = *s;
	last_px_w = px_width(s);
	last_px_h = px_height(s);
	if (s->format == CON_FMT_NONE || !s->width || !s->height || !s->data ||
	    !bytes_pp(s->format) || s->width > 16384 || s->height > 16384)
		return -1;
	return 0;
}

static uint8_t c5(uint32_t v)
{
	return (v << 3) | (v >> 2);
}

static uint8_t c6(uint32_t v)
{
	return (v << 2) | (v >> 4);
}

static void put_rgb(uint8_t *p, uint32_t rgb)
{
	p[0] = rgb >> 16;
	p[1] = rgb >> 8;
	p[2] = rgb;
}

/* Draw cells @r (in cells); bytes beyond data_len read as blank cells. @xrgb: 4 bytes a pixel. */
static void render_text(const struct con_surface *s, uint8_t *out, uint32_t w,
			const struct con_rect *r, bool xrgb)
{
	const uint32_t *pal = s->palette;
	const uint8_t *font = s->font ? s->font : console_font8x16;
	uint32_t gh = glyph_height(s), cx, cy, l, b;

	for (cy = r->y; cy < r->y + r->h; cy++)
		for (cx = r->x; cx < r->x + r->w; cx++) {
			uint64_t off = (uint64_t)cy * s->stride + cx * 2ULL;
			uint8_t ch = 0, attr = 0;
			uint32_t fg, bg;

			if (off + 2 <= s->data_len) {
				ch = s->data[off];
				attr = s->data[off + 1];
			}
			fg = pal ? pal[attr & 0xf] & 0xffffff : vga16[attr & 0xf];
			bg = pal ? pal[attr >> 4] & 0xffffff : vga16[attr >> 4];
			for (l = 0; l < gh; l++) {
				uint8_t bits = font[ch * 16 + l];
				uint64_t at = (uint64_t)(cy * gh + l) * w + cx * 8;

				if ((int)cx == s->cursor_x && (int)cy == s->cursor_y && l + 2 >= gh)
					bits = 0xff;	/* an underline cursor */
				for (b = 0; b < 8; b++) {
					uint32_t v = bits & (0x80 >> b) ? fg : bg;

					if (xrgb)
						((uint32_t *)out)[at + b] = v;
					else
						put_rgb(out + (at + b) * 3, v);
				}
			}
		}
}

/* One pixel at @p of format @f to RGB at @o. */
static inline __attribute__((always_inline)) void
conv_px(enum con_format f, const uint32_t *pal, const uint8_t *p, uint8_t *o)
{
	uint32_t v;

	switch (f) {
	case CON_FMT_PAL8:
		put_rgb(o, pal ? pal[p[0]] : p[0] * 0x010101U);
		break;
	case CON_FMT_RGB555:
		v = p[0] | p[1] << 8;
		o[0] = c5((v >> 10) & 31);
		o[1] = c5((v >> 5) & 31);
		o[2] = c5(v & 31);
		break;
	case CON_FMT_RGB565:
		v = p[0] | p[1] << 8;
		o[0] = c5(v >> 11);
		o[1] = c6((v >> 5) & 63);
		o[2] = c5(v & 31);
		break;
	default:	/* RGB888, XRGB8888: blue, green, red */
		o[0] = p[2];
		o[1] = p[1];
		o[2] = p[0];
		break;
	}
}

/* @n pixels of one row, all within the device's buffer; the format's switch outside the loop. */
static inline __attribute__((always_inline)) void
conv_run_f(enum con_format f, unsigned int bpp, const uint32_t *pal, const uint8_t *p,
	   uint8_t *o, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++, p += bpp, o += 3)
		conv_px(f, pal, p, o);
}

static void conv_run(const struct con_surface *s, const uint8_t *p, uint8_t *o, uint32_t n)
{
	switch (s->format) {
	case CON_FMT_PAL8:
		conv_run_f(CON_FMT_PAL8, 1, s->palette, p, o, n);
		break;
	case CON_FMT_RGB555:
		conv_run_f(CON_FMT_RGB555, 2, NULL, p, o, n);
		break;
	case CON_FMT_RGB565:
		conv_run_f(CON_FMT_RGB565, 2, NULL, p, o, n);
		break;
	case CON_FMT_RGB888:
		conv_run_f(CON_FMT_RGB888, 3, NULL, p, o, n);
		break;
	default:
		conv_run_f(CON_FMT_XRGB8888, 4, NULL, p, o, n);
		break;
	}
}

/*
 * The same to native-endian 0x00RRGGBB words.  RGB565, the format of the
 * guests' 16 bpp modes, goes 8 pixels at a time in SSE2 registers: each
 * channel v widens as conv_px()'s c5()/c6() (v << 3 | v >> 2, v << 2 |
 * v >> 4), which is v * 8.25 or v * 4.0625 rounded down: the high half of
 * a multiply with the channel at the top of a 16-bit lane (red at bits
 * 11..15 times 0x108, blue moved there likewise, green at 5..10 times
 * 0x2080); green << 8 | blue and red are then interleaved into words.
 */
static void conv_run_565_x(const uint8_t *p, uint32_t *o, uint32_t n)
{
	uint32_t i = 0;

#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const __m128i mr = _mm_set1_epi16((short)0xf800), mg = _mm_set1_epi16(0x07e0);
	const __m128i k5 = _mm_set1_epi16(0x108), k6 = _mm_set1_epi16(0x2080);

	for (; i + 8 <= n; i += 8, p += 16, o += 8) {
		__m128i w = _mm_loadu_si128((const __m128i *)p);
		__m128i r = _mm_mulhi_epu16(_mm_and_si128(w, mr), k5);
		__m128i g = _mm_slli_epi16(_mm_mulhi_epu16(_mm_and_si128(w, mg), k6), 8);
		__m128i gb = _mm_or_si128(g, _mm_mulhi_epu16(_mm_slli_epi16(w, 11), k5));

		_mm_storeu_si128((__m128i *)o, _mm_unpacklo_epi16(gb, r));
		_mm_storeu_si128((__m128i *)(o + 4), _mm_unpackhi_epi16(gb, r));
	}
#endif
	for (; i < n; i++, p += 2, o++) {
		uint32_t v = p[0] | p[1] << 8;

		*o = c5(v >> 11) << 16 | c6((v >> 5) & 63) << 8 | c5(v & 31);
	}
}

static void conv_run_x(const struct con_surface *s, const uint8_t *p, uint32_t *o, uint32_t n)
{
	uint8_t rgb[3];
	uint32_t i;

	switch (s->format) {
	case CON_FMT_RGB565:
		conv_run_565_x(p, o, n);
		break;
	case CON_FMT_XRGB8888:
		for (i = 0; i < n; i++, p += 4)
			o[i] = (p[0] | p[1] << 8 | p[2] << 16) & 0xffffff;
		break;
	case CON_FMT_PAL8:
		for (i = 0; i < n; i++)
			o[i] = (s->palette ? s->palette[p[i]] : p[i] * 0x010101U) & 0xffffff;
		break;
	default:
		for (i = 0; i < n; i++, p += bytes_pp(s->format)) {
			conv_px(s->format, NULL, p, rgb);
			o[i] = rgb[0] << 16 | rgb[1] << 8 | rgb[2];
		}
		break;
	}
}

/* Convert pixels @r; bytes beyond data_len read as black.  @xrgb: to 0x00RRGGBB words. */
static void render_pixels(const struct con_surface *s, uint8_t *out, const struct con_rect *r,
			  bool xrgb)
{
	unsigned int bpp = bytes_pp(s->format), opp = xrgb ? 4 : 3;
	uint32_t y, n;

	for (y = r->y; y < r->y + r->h; y++) {
		uint64_t line = (uint64_t)y * s->stride + (uint64_t)r->x * bpp;
		uint8_t *o = out + ((uint64_t)y * s->width + r->x) * opp;

		/* The pixels the buffer holds in full, then black. */
		n = 0;
		if (line < s->data_len)
			n = (s->data_len - line) / bpp < r->w ? (s->data_len - line) / bpp : r->w;
		if (n && xrgb)
			conv_run_x(s, s->data + line, (uint32_t *)o, n);
		else if (n)
			conv_run(s, s->data + line, o, n);
		memset(o + (size_t)n * opp, 0, (size_t)(r->w - n) * opp);
	}
}

/* Render @r (surface units: cells in text mode) of @s into @out, @pw pixels wide. */
static void render(const struct con_surface *s, uint8_t *out, uint32_t pw, const struct con_rect *r,
		   bool xrgb)
{
	if (s->format == CON_FMT_TEXT)
		render_text(s, out, pw, r, xrgb);
	else
		render_pixels(s, out, r, xrgb);
}

/* Client @c's damage in surface units, clipped, and then forgotten. */
static struct con_rect take_damage(struct client *c, const struct con_surface *s)
{
	struct con_rect d = c->dmg;

	if (c->full)
		d = (struct con_rect){ 0, 0, s->width, s->height };
	else if (!d.w || !d.h || d.x >= s->width || d.y >= s->height)
		d = (struct con_rect){ 0, 0, 0, 0 };
	if (d.w > s->width - d.x)
		d.w = s->width - d.x;
	if (d.h > s->height - d.y)
		d.h = s->height - d.y;
	c->full = false;
	c->dmg = (struct con_rect){ 0, 0, 0, 0 };
	return d;
}

/* Surface units to pixels. */
static struct con_rect to_px(const struct con_surface *s, struct con_rect d)
{
	uint32_t gh = glyph_height(s);

	if (s->format == CON_FMT_TEXT)
		d = (struct con_rect){ d.x * 8, d.y * gh, d.w * 8, d.h * gh };
	return d;
}

int console_snapshot(int id, uint8_t **rgb, uint32_t *w, uint32_t *h, struct con_rect *damage)
{
	struct con_surface s;
	struct con_rect all, d;
	struct client *c;
	uint32_t pw, ph;
	uint8_t *buf;
	int ret = -1;

	if (id < -1 || id >= CON_MAX_CLIENTS)
		return -1;
	pthread_mutex_lock(&lock);
	c = &clients[id < 0 ? CON_MAX_CLIENTS : id];
	if (id >= 0 && !c->used)
		goto out;
	if (id < 0) {
		*c = (struct client){ .used = true, .full = true };
		update_active();
	}
	if (refresh(&s) < 0)
		goto out;
	pw = px_width(&s);
	ph = px_height(&s);
	buf = malloc((size_t)pw * ph * 3);
	if (!buf)
		goto out;
	all = (struct con_rect){ 0, 0, s.width, s.height };
	render(&s, buf, pw, &all, false);
	*rgb = buf;
	*w = pw;
	*h = ph;
	d = take_damage(c, &s);
	if (damage)
		*damage = to_px(&s, d);
	ret = 0;
out:
	if (id < 0) {
		c->used = false;
		update_active();
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

int console_update(int id, struct con_fb *fb, struct con_rect *damage)
{
	struct con_surface s;
	struct con_rect d;
	struct client *c;
	uint32_t pw, ph;
	int ret = -1;

	if (id < 0 || id >= CON_MAX_CLIENTS)
		return -1;
	pthread_mutex_lock(&lock);
	c = &clients[id];
	if (!c->used || refresh(&s) < 0)
		goto out;
	pw = px_width(&s);
	ph = px_height(&s);
	if (!fb->rgb || fb->w != pw || fb->h != ph) {
		uint8_t *buf = malloc((size_t)pw * ph * (fb->xrgb ? 4 : 3));

		if (!buf)
			goto out;
		free(fb->rgb);
		fb->rgb = buf;
		fb->w = pw;
		fb->h = ph;
		c->full = true;
	}
	d = take_damage(c, &s);
	if (d.w && d.h)
		render(&s, fb->rgb, pw, &d, fb->xrgb);
	*damage = to_px(&s, d);
	ret = 0;
out:
	pthread_mutex_unlock(&lock);
	return ret;
}

/* The ready sink of @kind with the highest priority that has @want, or NULL. */
static const struct sink *pick(enum con_sink_kind kind, bool abs_or_key)
{
	const struct sink *best = NULL;
	int i;

	for (i = 0; i < nr_sinks; i++) {
		const struct sink *s = &sinks[i];
		const struct console_sink_ops *o = s->ops;

		if (s->kind != kind)
			continue;
		if (kind == CON_SINK_KBD ? !o->key : !(o->abs || (o->rel && !abs_or_key)))
			continue;
		if (o->ready && !o->ready(s->opaque))
			continue;
		if (!best || s->prio > best->prio)
			best = s;
	}
	return best;
}

static unsigned int key_slot(uint16_t code)
{
	return (code & 0xff) | ((code >> 8) == 0xe0 ? 0x100 : 0);
}

void console_key(uint16_t code, bool down)
{
	const struct sink *s;
	unsigned int k = key_slot(code);

	pthread_mutex_lock(&lock);
	if (code == SC_LSHIFT || code == SC_RSHIFT)
		shift_held[code == SC_RSHIFT] = down;
	/* A release goes where its press went, even if another sink became ready since. */
	s = !down && key_owner[k] ? key_owner[k] : pick(CON_SINK_KBD, true);
	key_owner[k] = down ? s : NULL;
	if (s)
		s->ops->key(s->opaque, code, down);
	pthread_mutex_unlock(&lock);
}

static uint32_t scale(uint32_t v, uint32_t from_max, uint32_t to_max)
{
	if (!from_max)
		return 0;
	if (v > from_max)
		v = from_max;
	return ((uint64_t)v * to_max + from_max / 2) / from_max;
}

void console_pointer(uint32_t x, uint32_t y, uint32_t buttons, int wheel)
{
	const struct sink *s;
	uint32_t px, py;

	pthread_mutex_lock(&lock);
	if (x > CON_ABS_MAX)
		x = CON_ABS_MAX;
	if (y > CON_ABS_MAX)
		y = CON_ABS_MAX;
	px = last_px_w > 1 ? scale(x, CON_ABS_MAX, last_px_w - 1) : 0;
	py = last_px_h > 1 ? scale(y, CON_ABS_MAX, last_px_h - 1) : 0;
	s = pick(CON_SINK_POINTER, false);
	if (s && s->ops->abs)
		s->ops->abs(s->opaque, x, y, buttons, wheel);
	else if (s)
		s->ops->rel(s->opaque, (int)px - (int)ptr_x, (int)py - (int)ptr_y, buttons, wheel);
	ptr_x = px;
	ptr_y = py;
	pthread_mutex_unlock(&lock);
}

void console_pointer_px(uint32_t x, uint32_t y, uint32_t buttons, int wheel)
{
	struct con_surface s;

	pthread_mutex_lock(&lock);
	if (!last_px_w || !last_px_h)
		refresh(&s);	/* learn the mode's size */
	x = last_px_w > 1 ? scale(x, last_px_w - 1, CON_ABS_MAX) : 0;
	y = last_px_h > 1 ? scale(y, last_px_h - 1, CON_ABS_MAX) : 0;
	console_pointer(x, y, buttons, wheel);
	pthread_mutex_unlock(&lock);
}

uint8_t console_leds(void)
{
	const struct sink *s;
	uint8_t v = 0;

	pthread_mutex_lock(&lock);
	s = pick(CON_SINK_KBD, true);
	if (s && s->ops->leds)
		v = s->ops->leds(s->opaque);
	pthread_mutex_unlock(&lock);
	return v;
}

bool console_pointer_absolute(void)
{
	const struct sink *s;
	bool abs;

	pthread_mutex_lock(&lock);
	s = pick(CON_SINK_POINTER, false);
	abs = s && s->ops->abs;
	pthread_mutex_unlock(&lock);
	return abs;
}

/* X11 keysyms to set 1 scancodes (US layout); SHIFTED: the key needs Shift. */
#define SHIFTED	0x10000
static const struct { uint32_t sym, code; } keymap[] = {
	{ ' ', 0x39 }, { '!', 0x02 | SHIFTED }, { '"', 0x28 | SHIFTED }, { '#', 0x04 | SHIFTED },
	{ '$', 0x05 | SHIFTED }, { '%', 0x06 | SHIFTED }, { '&', 0x08 | SHIFTED },
	{ '\'', 0x28 }, { '(', 0x0a | SHIFTED }, { ')', 0x0b | SHIFTED },
	{ '*', 0x09 | SHIFTED }, { '+', 0x0d | SHIFTED }, { ',', 0x33 }, { '-', 0x0c },
	{ '.', 0x34 }, { '/', 0x35 }, { '0', 0x0b }, { ':', 0x27 | SHIFTED }, { ';', 0x27 },
	{ '<', 0x33 | SHIFTED }, { '=', 0x0d }, { '>', 0x34 | SHIFTED }, { '?', 0x35 | SHIFTED },
	{ '@', 0x03 | SHIFTED }, { '[', 0x1a }, { '\\', 0x2b }, { ']', 0x1b },
	{ '^', 0x07 | SHIFTED }, { '_', 0x0c | SHIFTED }, { '`', 0x29 }, { '{', 0x1a | SHIFTED },
	{ '|', 0x2b | SHIFTED }, { '}', 0x1b | SHIFTED }, { '~', 0x29 | SHIFTED },
	{ 0xff08, 0x0e },	/* BackSpace */
	{ 0xff09, 0x0f },	/* Tab */
	{ 0xfe20, 0x0f | SHIFTED },	/* ISO_Left_Tab */
	{ 0xff0d, 0x1c },	/* Return */
	{ 0xff13, 0xe046 },	/* Pause (as Ctrl-Break) */
	{ 0xff14, 0x46 },	/* Scroll_Lock */
	{ 0xff1b, 0x01 },	/* Escape */
	{ 0xff50, 0xe047 },	/* Home */
	{ 0xff51, 0xe04b },	/* Left */
	{ 0xff52, 0xe048 },	/* Up */
	{ 0xff53, 0xe04d },	/* Right */
	{ 0xff54, 0xe050 },	/* Down */
	{ 0xff55, 0xe049 },	/* Page_Up */
	{ 0xff56, 0xe051 },	/* Page_Down */
	{ 0xff57, 0xe04f },	/* End */
	{ 0xff61, 0xe037 },	/* Print */
	{ 0xff63, 0xe052 },	/* Insert */
	{ 0xff67, 0xe05d },	/* Menu */
	{ 0xff7f, 0x45 },	/* Num_Lock */
	{ 0xff8d, 0xe01c },	/* KP_Enter */
	{ 0xffaa, 0x37 },	/* KP_Multiply */
	{ 0xffab, 0x4e },	/* KP_Add */
	{ 0xffad, 0x4a },	/* KP_Subtract */
	{ 0xffaf, 0xe035 },	/* KP_Divide */
	{ 0xffe1, 0x2a },	/* Shift_L */
	{ 0xffe2, 0x36 },	/* Shift_R */
	{ 0xffe3, 0x1d },	/* Control_L */
	{ 0xffe4, 0xe01d },	/* Control_R */
	{ 0xffe5, 0x3a },	/* Caps_Lock */
	{ 0xffe7, 0xe05b },	/* Meta_L */
	{ 0xffe8, 0xe05c },	/* Meta_R */
	{ 0xffe9, 0x38 },	/* Alt_L */
	{ 0xffea, 0xe038 },	/* Alt_R */
	{ 0xfe03, 0xe038 },	/* ISO_Level3_Shift (AltGr) */
	{ 0xffeb, 0xe05b },	/* Super_L */
	{ 0xffec, 0xe05c },	/* Super_R */
	{ 0xffff, 0xe053 },	/* Delete */
};

/* The scancode of @keysym, SHIFTED if it needs Shift; -1 if none. */
static int32_t keysym_code(uint32_t sym)
{
	static const char top[] = "1234567890", qrow[] = "qwertyuiop", arow[] = "asdfghjkl",
			  zrow[] = "zxcvbnm";
	const char *p;
	unsigned int i;

	if (sym >= 'A' && sym <= 'Z')
		return keysym_code(sym - 'A' + 'a') | SHIFTED;
	if (sym >= 'a' && sym <= 'z') {
		if ((p = strchr(qrow, sym)))
			return 0x10 + (p - qrow);
		if ((p = strchr(arow, sym)))
			return 0x1e + (p - arow);
		p = strchr(zrow, sym);
		return 0x2c + (p - zrow);
	}
	if (sym >= '1' && sym <= '9')
		return 0x02 + (strchr(top, sym) - top);
	if (sym >= 0xffbe && sym <= 0xffc7)		/* F1-F10 */
		return 0x3b + (sym - 0xffbe);
	if (sym == 0xffc8 || sym == 0xffc9)		/* F11, F12 */
		return 0x57 + (sym - 0xffc8);
	for (i = 0; i < sizeof(keymap) / sizeof(keymap[0]); i++)
		if (keymap[i].sym == sym)
			return keymap[i].code;
	return -1;
}

int console_key_keysym(uint32_t keysym, bool down)
{
	int32_t code = keysym_code(keysym);
	bool shift;

	if (code < 0)
		return -1;
	pthread_mutex_lock(&lock);
	/* "@" must arrive as Shift+2: press Shift around the key unless it is held. */
	shift = (code & SHIFTED) && !shift_held[0] && !shift_held[1];
	if (shift && down)
		console_key(SC_LSHIFT, true);
	console_key(code & 0xffff, down);
	if (shift) {
		if (down)
			shift_held[0] = false;	/* ours, not the user's: released with the key */
		else
			console_key(SC_LSHIFT, false);
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

void console_describe(char *buf, unsigned int len)
{
	unsigned int n = 0;
	char d[160] = "none";
	const struct sink *kbd, *ptr;
	int i;

	if (!len)
		return;
	pthread_mutex_lock(&lock);
	if (disp && disp->describe)
		disp->describe(disp_opaque, d, sizeof(d));
	else if (disp)
		snprintf(d, sizeof(d), "a display");
	n += snprintf(buf + n, len - n, "display: %s\n", d);
	kbd = pick(CON_SINK_KBD, true);
	ptr = pick(CON_SINK_POINTER, false);
	for (i = 0; i < nr_sinks && n < len; i++) {
		const struct sink *s = &sinks[i];
		bool ready = !s->ops->ready || s->ops->ready(s->opaque);

		n += snprintf(buf + n, len - n, "%s: %s (priority %d, %s%s)\n",
			      s->kind == CON_SINK_KBD ? "keyboard" : "pointer", s->name, s->prio,
			      ready ? "ready" : "not ready",
			      s == kbd || s == ptr ? ", in use" : "");
	}
	pthread_mutex_unlock(&lock);
}

void console_reset(void)
{
	pthread_mutex_lock(&lock);
	disp = NULL;
	disp_opaque = NULL;
	disp_on = false;
	memset(clients, 0, sizeof(clients));
	memset(sinks, 0, sizeof(sinks));
	nr_sinks = 0;
	memset(&last, 0, sizeof(last));
	last_px_w = last_px_h = 0;
	ptr_x = ptr_y = 0;
	memset(key_owner, 0, sizeof(key_owner));
	shift_held[0] = shift_held[1] = false;
	pthread_mutex_unlock(&lock);
}
