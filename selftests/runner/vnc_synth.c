// SPDX-License-Identifier: GPL-2.0
/*
 * A synthetic display and input device behind the real VNC server, for
 * selftests/runner/vnc_clients.sh: real clients connect to it and their
 * screenshots are compared with the picture the console renders.
 *
 *   vnc_synth --vnc SPEC [--format F] [--size WxH] [--log FILE] [--expect FILE.ppm]
 *
 * F: xrgb8888 (default), rgb888, rgb565, rgb555, pal8, text (size in cells,
 * default 80x25).  The picture: colour bars, gradients, a checkerboard,
 * one-pixel lines, noise and text drawn with the console font; rows are
 * padded (stride > width) and unused bits are set, which the server must
 * ignore.
 *
 * Signals: SIGUSR1 switches between the first size and 800x600 (text:
 * 40x25 cells); SIGUSR2 inverts a 96x64 box (damage of that box only);
 * SIGTERM or SIGINT stop the server and exit.  After each change the
 * expected picture (the console's snapshot, 24-bit PPM) is rewritten and
 * a line "ready W H", "mode W H" or "phase N" goes to the log.
 *
 * The log gets one line per input event, flushed at once:
 *   key 0x1e down          (0xe0XX for extended keys)
 *   abs X Y BUTTONS WHEEL px PX PY
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include "../../devices/console.h"
#include "../../runner/vnc.h"

extern const uint8_t console_font8x16[256 * 16];

#define BOX_X 64
#define BOX_Y 40
#define BOX_W 96
#define BOX_H 64

struct mode {
	uint32_t w, h;		/* pixels, or cells in text mode */
	uint32_t stride;
	uint8_t *buf[2];	/* per phase */
	uint64_t len;
};

static enum con_format fmt = CON_FMT_XRGB8888;
static struct mode modes[2];
static uint32_t palette[256];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int cur_mode, cur_phase;		/* what the device shows now */
static int seen_mode = -1, seen_phase;	/* what the last refresh reported */
static FILE *logf;
static volatile sig_atomic_t sig_mode, sig_phase, sig_stop;

static void logline(const char *f, ...)
{
	va_list ap;

	if (!logf)
		return;
	va_start(ap, f);
	vfprintf(logf, f, ap);
	va_end(ap);
	fflush(logf);
}

static unsigned int bytes_pp(void)
{
	switch (fmt) {
	case CON_FMT_PAL8:
		return 1;
	case CON_FMT_RGB555:
	case CON_FMT_RGB565:
	case CON_FMT_TEXT:
		return 2;
	case CON_FMT_RGB888:
		return 3;
	default:
		return 4;
	}
}

static uint32_t hash(uint32_t x, uint32_t y)
{
	uint32_t v = x * 0x9e3779b1u ^ (y + 0x7f4a7c15u) * 0x85ebca6bu;

	v ^= v >> 15;
	v *= 0x2c1b3c6du;
	v ^= v >> 12;
	return v;
}

/* The picture as 0xRRGGBB, before conversion to the device's format. */
static uint32_t pattern(uint32_t x, uint32_t y, uint32_t w, uint32_t h, int phase)
{
	static const uint32_t bars[8] = {
		0xffffff, 0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff, 0x000000,
	};
	uint32_t v, band = h / 3, g;

	if (phase && x >= BOX_X && x < BOX_X + BOX_W && y >= BOX_Y && y < BOX_Y + BOX_H)
		return 0xffffff ^ pattern(x, y, w, h, 0);
	if (y < band) {
		/* Bars, with text on a black strip and one-pixel lines below it. */
		if (y >= 8 && y < 24 && x >= 8 && x < w - 8) {
			static const char msg[] = "kvmlite VNC synthetic 0123456789 @#$% AaBbCc ";
			uint32_t c = (x - 8) / 8, l = y - 8;
			uint8_t ch = (uint8_t)msg[c % (sizeof(msg) - 1)];

			return (console_font8x16[ch * 16 + l] & (0x80 >> ((x - 8) % 8))) ?
				0xfff0c0 : 0x101828;
		}
		if (y >= 28 && y < 32)
			return (x + y) % 2 ? 0xff8000 : 0x0040ff;
		return bars[x * 8 / w];
	}
	if (y < 2 * band) {
		/* Gradients: red, green, blue, grey. */
		g = x * 255 / (w - 1);
		switch ((y - band) * 4 / band) {
		case 0:
			return g << 16;
		case 1:
			return g << 8;
		case 2:
			return g;
		default:
			return g * 0x010101;
		}
	}
	/* Checkerboard on the left, noise on the right, a one-pixel grid between. */
	if (x < w / 2)
		return ((x / 8) ^ (y / 8)) & 1 ? 0xe0e0e0 : 0x202020;
	if (x < w / 2 + 64)
		return (x % 4 == 0 || y % 4 == 0) ? 0x00c000 : 0x400040;
	v = hash(x, y);
	return v & 0xffffff;
}

static void put(uint8_t *p, uint32_t rgb, uint32_t x, uint32_t y)
{
	uint8_t r = rgb >> 16, g = rgb >> 8, b = rgb;
	uint16_t v;

	switch (fmt) {
	case CON_FMT_XRGB8888:
		p[0] = b;
		p[1] = g;
		p[2] = r;
		p[3] = (uint8_t)hash(y, x);	/* unused: must not show */
		break;
	case CON_FMT_RGB888:
		p[0] = b;
		p[1] = g;
		p[2] = r;
		break;
	case CON_FMT_RGB565:
		v = (r >> 3) << 11 | (g >> 2) << 5 | b >> 3;
		p[0] = v;
		p[1] = v >> 8;
		break;
	case CON_FMT_RGB555:
		v = (r >> 3) << 10 | (g >> 3) << 5 | b >> 3;
		v |= (hash(x, y) & 1) << 15;	/* unused bit */
		p[0] = v;
		p[1] = v >> 8;
		break;
	case CON_FMT_PAL8:
		p[0] = (r >> 5) << 5 | (g >> 5) << 2 | b >> 6;
		break;
	default:
		break;
	}
}

static void fill(struct mode *m, int phase)
{
	uint8_t *buf = m->buf[phase];
	uint32_t x, y;

	memset(buf, 0x5a, m->len);	/* padding: must not show */
	if (fmt == CON_FMT_TEXT) {
		for (y = 0; y < m->h; y++) {
			for (x = 0; x < m->w; x++) {
				uint8_t *c = buf + y * m->stride + x * 2;
				uint8_t fg = (x + y) % 16, bg = (x / 10 + y) % 8;

				if (fg == bg)
					fg ^= 8;
				c[0] = (uint8_t)(y * m->w + x);
				c[1] = fg | bg << 4;
				if (phase && x >= 8 && x < 20 && y >= 3 && y < 6)
					c[1] = (uint8_t)(bg | (fg & 7) << 4);
			}
		}
		return;
	}
	for (y = 0; y < m->h; y++)
		for (x = 0; x < m->w; x++)
			put(buf + y * m->stride + x * bytes_pp(),
			    pattern(x, y, m->w, m->h, phase), x, y);
}

static void refresh(void *opaque, struct con_surface *s)
{
	struct mode *m;

	(void)opaque;
	pthread_mutex_lock(&lock);
	m = &modes[cur_mode];
	if (seen_mode != cur_mode) {
		console_damage(0, 0, m->w, m->h);
	} else if (seen_phase != cur_phase) {
		if (fmt == CON_FMT_TEXT)
			console_damage(8, 3, 12, 3);
		else
			console_damage(BOX_X, BOX_Y, BOX_W, BOX_H);
	}
	seen_mode = cur_mode;
	seen_phase = cur_phase;
	memset(s, 0, sizeof(*s));
	s->format = fmt;
	s->width = m->w;
	s->height = m->h;
	s->stride = m->stride;
	s->data = m->buf[cur_phase];
	s->data_len = m->len;
	s->palette = palette;
	s->cursor_x = -1;
	s->cursor_y = -1;
	s->font = NULL;
	s->font_height = 16;
	pthread_mutex_unlock(&lock);
}

static void set_active(void *opaque, bool on)
{
	(void)opaque;
	logline("active %d\n", on);
}

static void describe(void *opaque, char *buf, unsigned int len)
{
	(void)opaque;
	snprintf(buf, len, "vnc_synth %ux%u", modes[cur_mode].w, modes[cur_mode].h);
}

static const struct console_display_ops display_ops = {
	.refresh = refresh,
	.set_active = set_active,
	.describe = describe,
};

static void sink_key(void *opaque, uint16_t code, bool down)
{
	(void)opaque;
	logline("key 0x%x %s\n", code, down ? "down" : "up");
}

static uint32_t unscale(uint32_t v, uint32_t to_max)
{
	return (uint32_t)(((uint64_t)v * to_max + CON_ABS_MAX / 2) / CON_ABS_MAX);
}

static void sink_abs(void *opaque, uint32_t x, uint32_t y, uint32_t buttons, int wheel)
{
	uint32_t w, h;

	(void)opaque;
	pthread_mutex_lock(&lock);
	w = modes[cur_mode].w * (fmt == CON_FMT_TEXT ? 8 : 1);
	h = modes[cur_mode].h * (fmt == CON_FMT_TEXT ? 16 : 1);
	pthread_mutex_unlock(&lock);
	logline("abs %u %u %u %d px %u %u\n", x, y, buttons, wheel,
		unscale(x, w - 1), unscale(y, h - 1));
}

static void sink_rel(void *opaque, int dx, int dy, uint32_t buttons, int wheel)
{
	(void)opaque;
	logline("rel %d %d %u %d\n", dx, dy, buttons, wheel);
}

static bool sink_ready(void *opaque)
{
	(void)opaque;
	return true;
}

static uint8_t sink_leds(void *opaque)
{
	(void)opaque;
	return 0;
}

static const struct console_sink_ops kbd_ops = {
	.key = sink_key, .ready = sink_ready, .leds = sink_leds,
};

static const struct console_sink_ops ptr_ops = {
	.abs = sink_abs, .rel = sink_rel, .ready = sink_ready,
};

static int write_expected(const char *path)
{
	char tmp[512];
	uint8_t *rgb = NULL;
	uint32_t w, h;
	FILE *f;

	if (console_snapshot(-1, &rgb, &w, &h, NULL)) {
		fprintf(stderr, "vnc_synth: no snapshot\n");
		return -1;
	}
	if (path) {
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		f = fopen(tmp, "wb");
		if (!f || fprintf(f, "P6\n%u %u\n255\n", w, h) < 0 ||
		    fwrite(rgb, 3, (size_t)w * h, f) != (size_t)w * h || fclose(f) ||
		    rename(tmp, path)) {
			perror(tmp);
			free(rgb);
			return -1;
		}
	}
	free(rgb);
	return (int)(w << 16 | h);
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		sig_mode = 1;
	else if (sig == SIGUSR2)
		sig_phase = 1;
	else
		sig_stop = 1;
}

static int alloc_mode(struct mode *m, uint32_t w, uint32_t h)
{
	int i;

	m->w = w;
	m->h = h;
	m->stride = w * bytes_pp() + (fmt == CON_FMT_TEXT ? 0 : 24);
	m->len = (uint64_t)m->stride * h;
	for (i = 0; i < 2; i++) {
		m->buf[i] = malloc(m->len);
		if (!m->buf[i])
			return -1;
		fill(m, i);
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: vnc_synth --vnc SPEC [--format xrgb8888|rgb888|rgb565|rgb555|"
		"pal8|text] [--size WxH] [--log FILE] [--expect FILE.ppm]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct { const char *name; enum con_format f; } fmts[] = {
		{ "xrgb8888", CON_FMT_XRGB8888 }, { "rgb888", CON_FMT_RGB888 },
		{ "rgb565", CON_FMT_RGB565 }, { "rgb555", CON_FMT_RGB555 },
		{ "pal8", CON_FMT_PAL8 }, { "text", CON_FMT_TEXT },
	};
	const char *spec = NULL, *logpath = NULL, *expect = NULL, *size = NULL;
	struct vnc_opts o;
	struct sigaction sa;
	char err[256];
	unsigned int w, h, i;
	int r;
	sigset_t set, old;

	for (i = 1; i < (unsigned int)argc; i++) {
		const char *a = argv[i], *v = i + 1 < (unsigned int)argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--vnc")) {
			spec = v;
		} else if (!strcmp(a, "--log")) {
			logpath = v;
		} else if (!strcmp(a, "--expect")) {
			expect = v;
		} else if (!strcmp(a, "--size")) {
			size = v;
		} else if (!strcmp(a, "--format")) {
			unsigned int k;

			for (k = 0; k < sizeof(fmts) / sizeof(fmts[0]); k++)
				if (!strcmp(v, fmts[k].name))
					break;
			if (k == sizeof(fmts) / sizeof(fmts[0]))
				usage();
			fmt = fmts[k].f;
		} else {
			usage();
		}
	}
	if (!spec)
		usage();
	w = fmt == CON_FMT_TEXT ? 80 : 1024;
	h = fmt == CON_FMT_TEXT ? 25 : 768;
	if (size && (sscanf(size, "%ux%u", &w, &h) != 2 || w < 16 || h < 16 || w > 4096 ||
		     h > 4096))
		usage();
	if (logpath) {
		logf = fopen(logpath, "a");
		if (!logf) {
			perror(logpath);
			return 1;
		}
	}
	/* A 3-3-2 palette in the first entries (the 16 text colours first). */
	for (i = 0; i < 256; i++)
		palette[i] = ((i >> 5) * 255 / 7) << 16 | (((i >> 2) & 7) * 255 / 7) << 8 |
			     (i & 3) * 255 / 3;
	if (fmt == CON_FMT_TEXT) {
		static const uint32_t ega[16] = {
			0x000000, 0x0000aa, 0x00aa00, 0x00aaaa, 0xaa0000, 0xaa00aa, 0xaa5500,
			0xaaaaaa, 0x555555, 0x5555ff, 0x55ff55, 0x55ffff, 0xff5555, 0xff55ff,
			0xffff55, 0xffffff,
		};
		memcpy(palette, ega, sizeof(ega));
	}
	if (alloc_mode(&modes[0], w, h) ||
	    alloc_mode(&modes[1], fmt == CON_FMT_TEXT ? 40 : 800, fmt == CON_FMT_TEXT ? 25 : 600)) {
		fprintf(stderr, "vnc_synth: out of memory\n");
		return 1;
	}
	if (console_set_display(&display_ops, NULL) ||
	    console_add_sink(CON_SINK_KBD, CON_PRIO_USB, &kbd_ops, NULL, "synth-kbd") < 0 ||
	    console_add_sink(CON_SINK_POINTER, CON_PRIO_USB, &ptr_ops, NULL, "synth-tablet") < 0) {
		fprintf(stderr, "vnc_synth: console registration failed\n");
		return 1;
	}

	/* Signals only to the main thread: block them before the server's threads start. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, &old);

	memset(&o, 0, sizeof(o));
	if (vnc_parse_opts(spec, &o, err, sizeof(err))) {
		fprintf(stderr, "vnc_synth: --vnc: %s\n", err);
		return 2;
	}
	if (vnc_start(&o, err, sizeof(err))) {
		fprintf(stderr, "vnc_synth: %s\n", err);
		return 1;
	}
	r = write_expected(expect);
	if (r < 0)
		return 1;
	logline("ready %d %d\n", r >> 16, r & 0xffff);

	while (!sig_stop) {
		sigsuspend(&old);
		if (sig_mode) {
			sig_mode = 0;
			pthread_mutex_lock(&lock);
			cur_mode ^= 1;
			pthread_mutex_unlock(&lock);
			r = write_expected(expect);
			logline("mode %d %d\n", r >> 16, r & 0xffff);
		}
		if (sig_phase) {
			sig_phase = 0;
			pthread_mutex_lock(&lock);
			cur_phase ^= 1;
			pthread_mutex_unlock(&lock);
			write_expected(expect);
			logline("phase %d\n", cur_phase);
		}
	}
	vnc_stop();
	logline("stopped\n");
	return 0;
}
