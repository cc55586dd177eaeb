// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of runner/vnc.c: the VNC server on the real console with a
 * fake display (an XRGB8888 picture the test draws) and fake keyboard and
 * pointer sinks that record what arrives, driven by a minimal RFB client
 * written here (handshakes 3.3/3.7/3.8, None and VNC authentication,
 * Raw updates, QEMU's extensions, hostile input).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <nettle/des.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "kselftest_harness.h"
#include "../../devices/console.h"
#include "../../runner/rfb.h"
#include "../../runner/vnc.h"

/* ---- The fake display: up to 128x96 XRGB8888, drawn by the test. ---- */
#define MAXW 128
#define MAXH 96
static uint8_t pic[MAXW * MAXH * 4];
static uint32_t pic_w = 64, pic_h = 48;

static void disp_refresh(void *opaque, struct con_surface *s)
{
	(void)opaque;
	*s = (struct con_surface){ .format = CON_FMT_XRGB8888, .width = pic_w,
				   .height = pic_h, .stride = MAXW * 4, .data = pic,
				   .data_len = sizeof(pic), .cursor_x = -1, .cursor_y = -1 };
}

static const struct console_display_ops disp = { .refresh = disp_refresh };

/* The pattern: red x * 4, green y * 5, blue x + y (+ @salt). */
static void px_rgb(uint32_t x, uint32_t y, int salt, uint8_t rgb[3])
{
	rgb[0] = x * 4;
	rgb[1] = y * 5;
	rgb[2] = x + y + salt;
}

static void draw(int salt, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h)
{
	uint32_t x, y;

	for (y = y0; y < y0 + h; y++)
		for (x = x0; x < x0 + w; x++) {
			uint8_t *p = pic + (y * MAXW + x) * 4, c[3];

			px_rgb(x, y, salt, c);
			p[0] = c[2];
			p[1] = c[1];
			p[2] = c[0];
			p[3] = 0;
		}
}

/* ---- Fake sinks ---- */
static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { uint16_t code; bool down; } keys[64];
static int nkeys;
static uint32_t ptr_x, ptr_y, ptr_btn;
static int ptr_wheel, nptr;

static void kbd_key(void *opaque, uint16_t code, bool down)
{
	(void)opaque;
	pthread_mutex_lock(&ev_lock);
	if (nkeys < 64) {
		keys[nkeys].code = code;
		keys[nkeys].down = down;
		nkeys++;
	}
	pthread_mutex_unlock(&ev_lock);
}

static void ptr_abs(void *opaque, uint32_t x, uint32_t y, uint32_t buttons, int wheel)
{
	(void)opaque;
	pthread_mutex_lock(&ev_lock);
	ptr_x = x;
	ptr_y = y;
	ptr_btn = buttons;
	ptr_wheel += wheel;
	nptr++;
	pthread_mutex_unlock(&ev_lock);
}

static uint8_t led_val;

static uint8_t kbd_leds(void *opaque)
{
	(void)opaque;
	return __atomic_load_n(&led_val, __ATOMIC_ACQUIRE);
}

static const struct console_sink_ops kbd_ops = { .key = kbd_key, .leds = kbd_leds };
static const struct console_sink_ops ptr_ops = { .abs = ptr_abs };

/* Wait (up to 2 s) until @n key events or pointer events arrived. */
static int wait_count(int *counter, int n)
{
	int i, v = 0;

	for (i = 0; i < 200; i++) {
		pthread_mutex_lock(&ev_lock);
		v = *counter;
		pthread_mutex_unlock(&ev_lock);
		if (v >= n)
			break;
		usleep(10000);
	}
	return v;
}

/* ---- The server ---- */
static void setup_console(void)
{
	console_reset();
	pic_w = 64;
	pic_h = 48;
	draw(0, 0, 0, MAXW, MAXH);
	console_set_display(&disp, NULL);
	console_add_sink(CON_SINK_KBD, CON_PRIO_PS2, &kbd_ops, NULL, "test-kbd");
	console_add_sink(CON_SINK_POINTER, CON_PRIO_USB, &ptr_ops, NULL, "test-tablet");
}

static void default_opts(struct vnc_opts *o)
{
	memset(o, 0, sizeof(*o));
	strcpy(o->addr, "127.0.0.1");
	o->port = 0;
	o->max_clients = 64;
	o->lossy = true;
}

/* Start on an ephemeral port; its number from vnc_describe(). */
static int start(struct vnc_opts *o)
{
	char err[256], d[1024], *p;

	setup_console();
	if (vnc_start(o, err, sizeof(err)) < 0) {
		fprintf(stderr, "vnc_start: %s\n", err);
		return -1;
	}
	vnc_describe(d, sizeof(d));
	p = strstr(d, "listening on 127.0.0.1:");
	return p ? atoi(p + strlen("listening on 127.0.0.1:")) : -1;
}

static void set_timeout(int fd)
{
	struct timeval tv = { 3, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int dial(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	set_timeout(fd);
	return fd;
}

static int rd(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n) {
		ssize_t k = read(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= k;
	}
	return 0;
}

static int wr(int fd, const void *buf, size_t n)
{
	return send(fd, buf, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

/* Read the rest of the connection: true if the server closed it (EOF or reset). */
static bool closed(int fd)
{
	uint8_t b[256];
	ssize_t k;

	do
		k = read(fd, b, sizeof(b));
	while (k > 0);
	return k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* A failure reason (u32 length, text) into @why. */
static int read_reason(int fd, char *why, size_t len)
{
	uint8_t l[4];
	uint32_t n;

	if (rd(fd, l, 4) < 0)
		return -1;
	n = be32(l);
	if (n >= len)
		return -1;
	if (rd(fd, why, n) < 0)
		return -1;
	why[n] = 0;
	return 0;
}

/* ---- The client ---- */
struct cli {
	int fd;
	uint32_t w, h;
	int bpp;
	uint8_t *fb;		/* w * h * bpp/8, as the server sent it */
	int ext_key_acks, ptr_type, leds, cursors, desk_resizes, desk_replies;
	int rects;		/* Raw rectangles in the last update */
	uint32_t last_x, last_y, last_w, last_h;
	uint64_t area;		/* pixels in the last update's Raw rectangles */
	int copies, copy_dy;	/* CopyRects in the last update, the last one's offset */
};

/* VNC authentication's DES: the password's bits mirrored in each byte is the key. */
static void vnc_des(const char *password, const uint8_t challenge[16], uint8_t out[16])
{
	struct des_ctx ctx;
	uint8_t key[8] = { 0 };
	int i, b;

	for (i = 0; i < 8 && password[i]; i++)
		for (b = 0; b < 8; b++)
			if (password[i] & (1 << b))
				key[i] |= 0x80 >> b;
	des_set_key(&ctx, key);
	des_encrypt(&ctx, 16, out, challenge);
}

/*
 * Version @minor, security (None, or VNC with @password), ClientInit.
 * 0 on success, 1 if the server said no (reason in @why), -1 on a broken exchange.
 */
static int handshake(struct cli *c, int minor, const char *password, bool shared, char *why,
		     size_t whylen)
{
	char ver[13];
	uint8_t b[24], n, types[16], ch[16], resp[16], init[24];
	uint32_t type = 0, namelen;
	int i;

	if (rd(c->fd, ver, 12) < 0 || memcmp(ver, "RFB 003.008\n", 12))
		return -1;
	snprintf(ver, sizeof(ver), "RFB 003.%03d\n", minor);
	if (wr(c->fd, ver, 12) < 0)
		return -1;
	if (minor > 8)
		minor = 8;	/* newer clients get 3.8 */
	if (minor == 3) {
		if (rd(c->fd, b, 4) < 0)
			return -1;
		type = be32(b);
		if (type == 0)
			return read_reason(c->fd, why, whylen) < 0 ? -1 : 1;
	} else {
		if (rd(c->fd, &n, 1) < 0)
			return -1;
		if (n == 0)
			return read_reason(c->fd, why, whylen) < 0 ? -1 : 1;
		if (rd(c->fd, types, n) < 0)
			return -1;
		for (i = 0; i < n; i++)
			if (types[i] == (password ? 2 : 1))
				type = types[i];
		if (!type)
			return -1;
		b[0] = type;
		if (wr(c->fd, b, 1) < 0)
			return -1;
	}
	if (type == 2) {
		if (!password || rd(c->fd, ch, 16) < 0)
			return -1;
		vnc_des(password, ch, resp);
		if (wr(c->fd, resp, 16) < 0)
			return -1;
	}
	if (type == 2 || minor == 8) {
		if (rd(c->fd, b, 4) < 0)
			return -1;
		if (be32(b)) {
			if (minor == 8)
				return read_reason(c->fd, why, whylen) < 0 ? -1 : 1;
			snprintf(why, whylen, "failed");
			return 1;
		}
	}
	b[0] = shared;
	if (wr(c->fd, b, 1) < 0 || rd(c->fd, init, 24) < 0)
		return -1;
	c->w = be16(init);
	c->h = be16(init + 2);
	c->bpp = init[4];
	namelen = be32(init + 20);
	if (namelen > 64 || rd(c->fd, b, namelen) < 0)
		return -1;
	if (namelen != 7 || memcmp(b, "kvmlite", 7))
		return -1;
	c->fb = calloc(c->w * c->h, 4);
	return c->fb ? 0 : -1;
}

static int connect_client(struct cli *c, int port, int minor)
{
	char why[128];

	memset(c, 0, sizeof(*c));
	c->fd = dial(port);
	if (c->fd < 0)
		return -1;
	return handshake(c, minor, NULL, true, why, sizeof(why));
}

static void client_free(struct cli *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->fb);
	c->fb = NULL;
	c->fd = -1;
}

/* noVNC's format: 32 bpp, little endian, red in the low byte. */
static int set_pixfmt_rgbx(struct cli *c)
{
	uint8_t m[20] = { 0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 0, 8, 16 };

	c->bpp = 32;
	return wr(c->fd, m, sizeof(m));
}

static int set_encodings(struct cli *c, const int32_t *e, int n)
{
	uint8_t m[4 + 4 * 16];
	int i;

	m[0] = 2;
	m[1] = 0;
	m[2] = 0;
	m[3] = n;
	for (i = 0; i < n; i++) {
		m[4 + 4 * i] = (uint32_t)e[i] >> 24;
		m[5 + 4 * i] = (uint32_t)e[i] >> 16;
		m[6 + 4 * i] = (uint32_t)e[i] >> 8;
		m[7 + 4 * i] = e[i];
	}
	return wr(c->fd, m, 4 + 4 * n);
}

static int request(struct cli *c, bool incremental, uint16_t x, uint16_t y, uint16_t w, uint16_t h)
{
	uint8_t m[10] = { 3, incremental, x >> 8, x, y >> 8, y, w >> 8, w, h >> 8, h };

	return wr(c->fd, m, sizeof(m));
}

/* Read one FramebufferUpdate, applying Raw rectangles to c->fb: 0, or -1. */
static int read_update(struct cli *c)
{
	uint8_t h[12];
	uint32_t i, n, bypp = c->bpp / 8;

	if (rd(c->fd, h, 4) < 0 || h[0] != 0)
		return -1;
	n = be16(h + 2);
	c->rects = 0;
	c->area = 0;
	c->copies = 0;
	for (i = 0; i < n; i++) {
		uint32_t x, y, w, hh, row;
		int32_t enc;

		if (rd(c->fd, h, 12) < 0)
			return -1;
		x = be16(h);
		y = be16(h + 2);
		w = be16(h + 4);
		hh = be16(h + 6);
		enc = (int32_t)be32(h + 8);
		switch (enc) {
		case RFB_ENC_RAW:
			if (x + w > c->w || y + hh > c->h)
				return -1;
			for (row = 0; row < hh; row++)
				if (rd(c->fd, c->fb + ((y + row) * c->w + x) * bypp, w * bypp) < 0)
					return -1;
			c->rects++;
			c->area += (uint64_t)w * hh;
			c->last_x = x;
			c->last_y = y;
			c->last_w = w;
			c->last_h = hh;
			break;
		case RFB_ENC_COPYRECT: {
			uint8_t src[4];
			uint32_t sx, sy, r2;

			if (rd(c->fd, src, 4) < 0)
				return -1;
			sx = be16(src);
			sy = be16(src + 2);
			if (x + w > c->w || y + hh > c->h || sx + w > c->w || sy + hh > c->h)
				return -1;
			for (r2 = 0; r2 < hh; r2++) {
				uint32_t row = sy > y ? r2 : hh - 1 - r2;

				memmove(c->fb + ((y + row) * c->w + x) * bypp,
					c->fb + ((sy + row) * c->w + sx) * bypp, w * bypp);
			}
			c->copies++;
			c->copy_dy = (int)sy - (int)y;
			break;
		}
		case RFB_ENC_EXT_KEY:
			c->ext_key_acks++;
			break;
		case RFB_ENC_POINTER_TYPE:
			c->ptr_type = x;
			break;
		case RFB_ENC_LED_STATE: {
			uint8_t l;

			if (rd(c->fd, &l, 1) < 0)
				return -1;
			c->leds = l;
			break;
		}
		case RFB_ENC_CURSOR: {
			size_t len = w * hh * bypp + (w + 7) / 8 * hh;
			uint8_t *tmp = malloc(len ? len : 1);

			if (!tmp || rd(c->fd, tmp, len) < 0) {
				free(tmp);
				return -1;
			}
			free(tmp);
			c->cursors++;
			break;
		}
		case RFB_ENC_EXT_DESKTOP: {
			uint8_t s[4 + 16 * 16];

			if (rd(c->fd, s, 4) < 0 || s[0] > 16 || rd(c->fd, s + 4, 16 * s[0]) < 0)
				return -1;
			if (x == 1) {
				c->desk_replies++;
				if (y != 1)		/* status: prohibited */
					return -1;
				break;
			}
			goto resize;
		}
		case RFB_ENC_DESKTOP_SIZE:
resize:
			c->desk_resizes++;
			c->w = w;
			c->h = hh;
			free(c->fb);
			c->fb = calloc(w * hh, 4);
			if (!c->fb)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* Does c->fb (format rgbx) show the pattern with @salt in the box? */
static bool check_rgbx(const struct cli *c, int salt, uint32_t x0, uint32_t y0, uint32_t w,
		       uint32_t h)
{
	uint32_t x, y;

	for (y = y0; y < y0 + h; y++)
		for (x = x0; x < x0 + w; x++) {
			const uint8_t *p = c->fb + (y * c->w + x) * 4;
			uint8_t e[3];

			px_rgb(x, y, salt, e);
			if (p[0] != e[0] || p[1] != e[1] || p[2] != e[2]) {
				fprintf(stderr, "pixel %u,%u: %02x%02x%02x, want %02x%02x%02x\n",
					x, y, p[0], p[1], p[2], e[0], e[1], e[2]);
				return false;
			}
		}
	return true;
}

/* Is there nothing to read within @ms? */
static bool quiet(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 0;
}

static char *write_password_file(const char *pw)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/vnc_test_pw.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	if (write(fd, pw, strlen(pw)) != (ssize_t)strlen(pw)) {
		close(fd);
		return NULL;
	}
	close(fd);
	return path;
}

/* ---- Tests ---- */

/*
 * A server with the default options and a client in rgbx with @enc, after
 * its first full update of the 64x48 picture.  0, or -1.
 */
static int serve_rgbx(struct cli *c, const int32_t *enc, int n)
{
	struct vnc_opts o;
	int port;

	default_opts(&o);
	port = start(&o);
	if (port <= 0 || connect_client(c, port, 8) || set_pixfmt_rgbx(c) ||
	    set_encodings(c, enc, n) || request(c, false, 0, 0, 64, 48))
		return -1;
	return read_update(c);
}

TEST(handshakes_and_bad_version)
{
	struct vnc_opts o;
	struct cli c;
	int port, minors[3] = { 3, 7, 8 }, i;

	default_opts(&o);
	port = start(&o);
	ASSERT_GT(port, 0);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, connect_client(&c, port, minors[i]));
		EXPECT_EQ(64, c.w);
		EXPECT_EQ(48, c.h);
		EXPECT_EQ(32, c.bpp);
		client_free(&c);
	}
	/* Apple's 3.889 speaks 3.8 here. */
	ASSERT_EQ(0, connect_client(&c, port, 889));
	client_free(&c);
	/* Garbage instead of a version: dropped. */
	c.fd = dial(port);
	ASSERT_GE(c.fd, 0);
	{
		char ver[12];

		ASSERT_EQ(0, rd(c.fd, ver, 12));
		ASSERT_EQ(0, wr(c.fd, "GET / HTTP/1", 12));
		EXPECT_TRUE(closed(c.fd));
	}
	close(c.fd);
	vnc_stop();
}

TEST(vnc_auth)
{
	struct vnc_opts o;
	struct cli c = { 0 };
	char why[128] = "", *path;
	int port;

	path = write_password_file("secret\nignored\n");
	ASSERT_NE(NULL, path);
	default_opts(&o);
	strcpy(o.password_file, path);
	port = start(&o);
	ASSERT_GT(port, 0);

	c.fd = dial(port);
	ASSERT_EQ(0, handshake(&c, 8, "secret", true, why, sizeof(why)));
	EXPECT_EQ(64, c.w);
	client_free(&c);

	c.fd = dial(port);
	ASSERT_EQ(0, handshake(&c, 3, "secret", true, why, sizeof(why)));
	client_free(&c);

	c.fd = dial(port);
	ASSERT_EQ(1, handshake(&c, 8, "wrong", true, why, sizeof(why)));
	EXPECT_STREQ("authentication failed", why);
	EXPECT_TRUE(closed(c.fd));
	client_free(&c);

	/* None is not on offer when a password is set. */
	c.fd = dial(port);
	ASSERT_EQ(-1, handshake(&c, 8, NULL, true, why, sizeof(why)));
	client_free(&c);
	vnc_stop();
	unlink(path);
}

TEST(password_file_errors)
{
	struct vnc_opts o;
	char err[256], *path;

	setup_console();
	default_opts(&o);
	strcpy(o.password_file, "/nonexistent/pw");
	ASSERT_EQ(-1, vnc_start(&o, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "/nonexistent/pw"));
	path = write_password_file("\nsecond\n");
	ASSERT_NE(NULL, path);
	strcpy(o.password_file, path);
	ASSERT_EQ(-1, vnc_start(&o, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "empty"));
	unlink(path);
	/* Not loopback without authentication: refused. */
	default_opts(&o);
	strcpy(o.addr, "0.0.0.0");
	ASSERT_EQ(-1, vnc_start(&o, err, sizeof(err)));
}

TEST(raw_update_and_incremental)
{
	struct cli c;
	int32_t enc[] = { RFB_ENC_RAW };

	ASSERT_EQ(0, serve_rgbx(&c, enc, 1));
	EXPECT_EQ(1, c.rects);
	EXPECT_TRUE(check_rgbx(&c, 0, 0, 0, 64, 48));

	/* Nothing changed: an incremental request waits. */
	ASSERT_EQ(0, request(&c, true, 0, 0, 64, 48));
	EXPECT_TRUE(quiet(c.fd, 150));
	/* Now the picture changes: the waiting request is answered with the change. */
	draw(77, 10, 20, 5, 3);
	console_damage(10, 20, 5, 3);
	ASSERT_EQ(0, read_update(&c));
	EXPECT_EQ(1, c.rects);
	EXPECT_TRUE(c.last_x <= 10 && c.last_y <= 20 && c.last_x + c.last_w >= 15 &&
		    c.last_y + c.last_h >= 23);
	EXPECT_TRUE(check_rgbx(&c, 77, 10, 20, 5, 3));
	EXPECT_TRUE(check_rgbx(&c, 0, 0, 0, 64, 20));

	/* A partial non-incremental request gets exactly its area. */
	ASSERT_EQ(0, request(&c, false, 3, 4, 7, 2));
	ASSERT_EQ(0, read_update(&c));
	EXPECT_EQ(3, c.last_x);
	EXPECT_EQ(4, c.last_y);
	EXPECT_EQ(7, c.last_w);
	EXPECT_EQ(2, c.last_h);
	client_free(&c);
	vnc_stop();
}

TEST(colour_map_format)
{
	struct vnc_opts o;
	struct cli c;
	uint8_t spf[20] = { 0, 0, 0, 0, 8, 8, 0, 0 };	/* 8 bpp through a colour map */
	uint8_t h[6], map[256 * 6];
	int32_t enc[] = { RFB_ENC_RAW };
	uint32_t x, y;
	int port, bad = 0;

	default_opts(&o);
	port = start(&o);
	ASSERT_GT(port, 0);
	ASSERT_EQ(0, connect_client(&c, port, 8));
	ASSERT_EQ(0, wr(c.fd, spf, sizeof(spf)));
	c.bpp = 8;
	ASSERT_EQ(0, rd(c.fd, h, 6));
	EXPECT_EQ(RFB_SMSG_SET_COLOUR_MAP, h[0]);
	EXPECT_EQ(0, be16(h + 2));
	ASSERT_EQ(256, be16(h + 4));
	ASSERT_EQ(0, rd(c.fd, map, sizeof(map)));
	ASSERT_EQ(0, set_encodings(&c, enc, 1));
	ASSERT_EQ(0, request(&c, false, 0, 0, 64, 48));
	ASSERT_EQ(0, read_update(&c));
	/* Each pixel's map entry is within a 3-3-2 step of the picture's colour. */
	for (y = 0; y < 48; y++)
		for (x = 0; x < 64; x++) {
			const uint8_t *e = map + 6 * c.fb[y * 64 + x];
			uint8_t want[3];
			int i;

			px_rgb(x, y, 0, want);
			for (i = 0; i < 3; i++)
				bad += abs(be16(e + 2 * i) / 257 - want[i]) > (i == 2 ? 86 : 37);
		}
	EXPECT_EQ(0, bad);
	client_free(&c);
	vnc_stop();
}

TEST(default_format_pixels)
{
	struct vnc_opts o;
	struct cli c;
	uint32_t x, y;
	int port;
	bool ok = true;

	default_opts(&o);
	port = start(&o);
	ASSERT_GT(port, 0);
	ASSERT_EQ(0, connect_client(&c, port, 7));
	ASSERT_EQ(0, request(&c, false, 0, 0, 64, 48));
	ASSERT_EQ(0, read_update(&c));
	/* ServerInit's format: 32 bpp little endian xRGB, so bytes B, G, R. */
	for (y = 0; y < 48; y++)
		for (x = 0; x < 64; x++) {
			uint8_t e[3], *p = c.fb + (y * 64 + x) * 4;

			px_rgb(x, y, 0, e);
			ok &= p[0] == e[2] && p[1] == e[1] && p[2] == e[0];
		}
	EXPECT_TRUE(ok);
	client_free(&c);
	vnc_stop();
}

TEST(ext_key_and_keysym)
{
	struct vnc_opts o;
	struct cli c;
	int32_t enc[] = { RFB_ENC_RAW, RFB_ENC_EXT_KEY };
	uint8_t qk[12] = { 255, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x9d };	/* right Ctrl down */
	uint8_t qk2[12] = { 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x1e };	/* A up */
	uint8_t at_down[8] = { 4, 1, 0, 0, 0, 0, 0, '@' }, at_up[8] = { 4, 0, 0, 0, 0, 0, 0, '@' };
	int port;

	default_opts(&o);
	port = start(&o);
	ASSERT_GT(port, 0);
	ASSERT_EQ(0, connect_client(&c, port, 8));
	ASSERT_EQ(0, set_encodings(&c, enc, 2));
	ASSERT_EQ(0, request(&c, true, 0, 0, 64, 48));
	ASSERT_EQ(0, read_update(&c));
	EXPECT_EQ(1, c.ext_key_acks);

	ASSERT_EQ(0, wr(c.fd, qk, 12));
	ASSERT_EQ(0, wr(c.fd, qk2, 12));
	ASSERT_EQ(2, wait_count(&nkeys, 2));
	EXPECT_EQ(0xe01d, keys[0].code);
	EXPECT_TRUE(keys[0].down);
	EXPECT_EQ(0x1e, keys[1].code);
	EXPECT_FALSE(keys[1].down);

	/* Keysym '@' from a keysym-only client: Shift+2. */
	ASSERT_EQ(0, wr(c.fd, at_down, 8));
	ASSERT_EQ(0, wr(c.fd, at_up, 8));
	ASSERT_EQ(6, wait_count(&nkeys, 6));
	EXPECT_EQ(0x2a, keys[2].code);
	EXPECT_TRUE(keys[2].down);
	EXPECT_EQ(0x03, keys[3].code);
	EXPECT_TRUE(keys[3].down);
	EXPECT_EQ(0x03, keys[4].code);
	EXPECT_FALSE(keys[4].down);
	EXPECT_EQ(0x2a, keys[5].code);
	EXPECT_FALSE(keys[5].down);
	client_free(&c);
	vnc_stop();
}

TEST(pointer_and_pointer_type)
{
	struct vnc_opts o;
	struct cli c;
	int32_t enc[] = { RFB_ENC_RAW, RFB_ENC_POINTER_TYPE };
	uint8_t p1[6] = { 5, 1, 0, 63, 0, 47 }, p2[6] = { 5, 4, 0, 0, 0, 0 };
	uint8_t w1[6] = { 5, 8, 0, 0, 0, 0 }, w0[6] = { 5, 0, 0, 0, 0, 0 };
	int port;

	default_opts(&o);
	port = start(&o);
	ASSERT_GT(port, 0);
	ASSERT_EQ(0, connect_client(&c, port, 8));
	ASSERT_EQ(0, set_encodings(&c, enc, 2));
	c.ptr_type = -1;
	ASSERT_EQ(0, request(&c, true, 0, 0, 64, 48));
	ASSERT_EQ(0, read_update(&c));
	EXPECT_EQ(1, c.ptr_type);	/* the tablet is absolute */

	ASSERT_EQ(0, wr(c.fd, p1, 6));
	ASSERT_EQ(1, wait_count(&nptr, 1));
	EXPECT_EQ(CON_ABS_MAX, ptr_x);
	EXPECT_EQ(CON_ABS_MAX, ptr_y);
	EXPECT_EQ(CON_BTN_LEFT, ptr_btn);
	ASSERT_EQ(0, wr(c.fd, p2, 6));
	ASSERT_EQ(2, wait_count(&nptr, 2));
	EXPECT_EQ(0, ptr_x);
	EXPECT_EQ(0, ptr_y);
	EXPECT_EQ(CON_BTN_RIGHT, ptr_btn);
	ASSERT_EQ(0, wr(c.fd, w1, 6));
	ASSERT_EQ(0, wr(c.fd, w0, 6));
	ASSERT_EQ(4, wait_count(&nptr, 4));
	EXPECT_EQ(1, ptr_wheel);
	EXPECT_EQ(0, ptr_btn);
	client_free(&c);
	vnc_stop();
}

TEST(mode_change_ext_desktop_size)
{
	struct cli c;
	int32_t enc[] = { RFB_ENC_RAW, RFB_ENC_EXT_DESKTOP };
	uint8_t sds[8 + 16] = { 251, 0, 0, 80, 0, 60, 1, 0 };

	ASSERT_EQ(0, serve_rgbx(&c, enc, 2));

	/* The guest changes mode: the client learns the size, then gets all of it. */
	pic_w = 80;
	pic_h = 60;
	draw(5, 0, 0, 80, 60);
	ASSERT_EQ(0, request(&c, true, 0, 0, 64, 48));
	ASSERT_EQ(0, read_update(&c));
	EXPECT_EQ(1, c.desk_resizes);
	EXPECT_EQ(80, c.w);
	EXPECT_EQ(60, c.h);
	EXPECT_EQ(1, c.rects);
	EXPECT_TRUE(check_rgbx(&c, 5, 0, 0, 80, 60));

	/* A client that asks for a size is told "prohibited". */
	ASSERT_EQ(0, wr(c.fd, sds, sizeof(sds)));
	ASSERT_EQ(0, request(&c, true, 0, 0, 80, 60));
	ASSERT_EQ(0, read_update(&c));
	EXPECT_EQ(1, c.desk_replies);
	EXPECT_EQ(80, c.w);
	client_free(&c);
	vnc_stop();
}

TEST(leds_and_cursor)
{
	struct vnc_opts o;
	struct cli c;
	int32_t enc[] = { RFB_ENC_RAW, RFB_ENC_LED_STATE, RFB_ENC_CURSOR };
	int port;

	default_opts(&o);
	led_val = 4;
	port = start(&o);
	ASSERT_GT(port, 0);
	ASSERT_EQ(0, connect_client(&c, port, 8));
	ASSERT_EQ(0, set_encodings(&c, enc, 3));
	c.leds = -1;
	ASSERT_EQ(0, request(&c, true, 0, 0, 64, 48));
	ASSERT_EQ(0, read_update(&c));
	EXPECT_EQ(4, c.leds);		/* caps lock */
	EXPECT_EQ(1, c.cursors);
	/* Nothing new: the next request waits until the LEDs change. */
	ASSERT_EQ(0, request(&c, true, 0, 0, 64, 48));
	EXPECT_TRUE(quiet(c.fd, 100));
	__atomic_store_n(&led_val, 3, __ATOMIC_RELEASE);
	ASSERT_EQ(0, read_update(&c));
	EXPECT_EQ(3, c.leds);
	EXPECT_EQ(1, c.cursors);
	EXPECT_EQ(0, c.rects);
	client_free(&c);
	vnc_stop();
}

TEST(garbage_client_dropped_other_served)
{
	struct vnc_opts o;
	struct cli a, b;
	uint8_t junk[4] = { 99, 1, 2, 3 };
	int32_t enc[] = { RFB_ENC_RAW };
	int port;

	default_opts(&o);
	port = start(&o);
	ASSERT_GT(port, 0);
	ASSERT_EQ(0, connect_client(&a, port, 8));
	ASSERT_EQ(0, connect_client(&b, port, 8));
	ASSERT_EQ(0, wr(b.fd, junk, sizeof(junk)));
	EXPECT_TRUE(closed(b.fd));
	ASSERT_EQ(0, set_pixfmt_rgbx(&a));
	ASSERT_EQ(0, set_encodings(&a, enc, 1));
	ASSERT_EQ(0, request(&a, false, 0, 0, 64, 48));
	ASSERT_EQ(0, read_update(&a));
	EXPECT_TRUE(check_rgbx(&a, 0, 0, 0, 64, 48));
	client_free(&a);
	client_free(&b);
	vnc_stop();
}

TEST(max_clients)
{
	struct vnc_opts o;
	struct cli a, b = { 0 };
	char why[128] = "";
	int port;

	default_opts(&o);
	o.max_clients = 1;
	port = start(&o);
	ASSERT_GT(port, 0);
	ASSERT_EQ(0, connect_client(&a, port, 8));
	b.fd = dial(port);
	ASSERT_EQ(1, handshake(&b, 8, NULL, true, why, sizeof(why)));
	EXPECT_STREQ("too many clients", why);
	client_free(&b);
	b.fd = dial(port);
	ASSERT_EQ(1, handshake(&b, 3, NULL, true, why, sizeof(why)));
	EXPECT_STREQ("too many clients", why);
	client_free(&b);
	/* The first one leaves: there is room again. */
	client_free(&a);
	usleep(100000);
	ASSERT_EQ(0, connect_client(&a, port, 8));
	client_free(&a);
	vnc_stop();
}

TEST(non_shared_client_drops_others)
{
	struct vnc_opts o;
	struct cli a, b = { 0 };
	char why[128];
	int port;

	default_opts(&o);
	port = start(&o);
	ASSERT_GT(port, 0);
	ASSERT_EQ(0, connect_client(&a, port, 8));
	b.fd = dial(port);
	ASSERT_EQ(0, handshake(&b, 8, NULL, false, why, sizeof(why)));
	EXPECT_TRUE(closed(a.fd));
	ASSERT_EQ(0, request(&b, false, 0, 0, 64, 48));
	ASSERT_EQ(0, read_update(&b));
	client_free(&a);
	client_free(&b);
	vnc_stop();
}

TEST(set_encodings_65535)
{
	struct vnc_opts o;
	struct cli c;
	size_t len = 4 + 4 * 65535;
	uint8_t *m = malloc(len);
	unsigned int i;
	int port;

	ASSERT_NE(NULL, m);
	default_opts(&o);
	port = start(&o);
	ASSERT_GT(port, 0);
	ASSERT_EQ(0, connect_client(&c, port, 8));
	m[0] = 2;
	m[1] = 0;
	m[2] = 0xff;
	m[3] = 0xff;
	for (i = 0; i < 65535; i++) {
		/* Unknown encodings, duplicates, and Raw last. */
		uint32_t e = i == 65534 ? 0 : 0x40000000u + (i % 100);

		m[4 + 4 * i] = e >> 24;
		m[5 + 4 * i] = e >> 16;
		m[6 + 4 * i] = e >> 8;
		m[7 + 4 * i] = e;
	}
	ASSERT_EQ(0, wr(c.fd, m, len));
	free(m);
	ASSERT_EQ(0, request(&c, false, 0, 0, 64, 48));
	ASSERT_EQ(0, read_update(&c));
	EXPECT_EQ(1, c.rects);
	client_free(&c);
	vnc_stop();
}

TEST(unix_socket)
{
	struct vnc_opts o;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct cli c = { 0 };
	struct stat st;
	char why[128], d[512];

	setup_console();
	default_opts(&o);
	o.unix_socket = true;
	snprintf(o.addr, sizeof(o.addr), "/tmp/vnc_test.%d.sock", getpid());
	/* A stale socket file is replaced; a regular file is not. */
	close(open(o.addr, O_CREAT | O_WRONLY, 0600));
	ASSERT_EQ(-1, vnc_start(&o, why, sizeof(why)));
	unlink(o.addr);
	ASSERT_EQ(0, vnc_start(&o, why, sizeof(why)));
	ASSERT_EQ(0, lstat(o.addr, &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 0777);
	vnc_describe(d, sizeof(d));
	EXPECT_NE(NULL, strstr(d, o.addr));

	strcpy(sa.sun_path, o.addr);
	c.fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_EQ(0, connect(c.fd, (struct sockaddr *)&sa, sizeof(sa)));
	set_timeout(c.fd);
	ASSERT_EQ(0, handshake(&c, 8, NULL, true, why, sizeof(why)));
	ASSERT_EQ(0, request(&c, false, 0, 0, 64, 48));
	ASSERT_EQ(0, read_update(&c));
	vnc_stop();
	EXPECT_TRUE(closed(c.fd));
	client_free(&c);
	EXPECT_EQ(-1, lstat(o.addr, &st));
}

TEST(auth_failures_rate_limited)
{
	struct vnc_opts o;
	struct cli c[6];
	char why[6][128];
	char *path;
	int port, i, r[6];

	path = write_password_file("secret");
	ASSERT_NE(NULL, path);
	default_opts(&o);
	strcpy(o.password_file, path);
	port = start(&o);
	ASSERT_GT(port, 0);
	/* Five wrong answers at once: each fails after its second. */
	for (i = 0; i < 5; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].fd = dial(port);
		ASSERT_GE(c[i].fd, 0);
	}
	for (i = 0; i < 5; i++) {
		char ver[12];
		uint8_t n, t[4], ch[16], resp[16];

		ASSERT_EQ(0, rd(c[i].fd, ver, 12));
		ASSERT_EQ(0, wr(c[i].fd, "RFB 003.008\n", 12));
		ASSERT_EQ(0, rd(c[i].fd, &n, 1));
		ASSERT_EQ(1, n);
		ASSERT_EQ(0, rd(c[i].fd, t, 1));
		ASSERT_EQ(0, wr(c[i].fd, t, 1));
		ASSERT_EQ(0, rd(c[i].fd, ch, 16));
		vnc_des("guess", ch, resp);
		ASSERT_EQ(0, wr(c[i].fd, resp, 16));
	}
	for (i = 0; i < 5; i++) {
		uint8_t res[4];

		ASSERT_EQ(0, rd(c[i].fd, res, 4));
		EXPECT_EQ(1, be32(res));
		client_free(&c[i]);
	}
	/* The sixth, even with the right password, is turned away at once. */
	c[5].fd = dial(port);
	c[5].fb = NULL;
	r[5] = handshake(&c[5], 8, "secret", true, why[5], sizeof(why[5]));
	EXPECT_EQ(1, r[5]);
	EXPECT_STREQ("too many authentication failures", why[5]);
	client_free(&c[5]);
	(void)r;
	vnc_stop();
	unlink(path);
}

/*
 * Attempts in parallel: each one takes a slot before its challenge, so eight
 * connections that all reach the security stage before any answer get five
 * challenges and three "too many authentication failures" (the limit held
 * only for attempts that started after earlier ones had failed).
 */
TEST(auth_attempts_in_parallel_rate_limited)
{
	struct vnc_opts o;
	int fd[8], port, i, offered = 0, refused = 0;
	char *path;

	path = write_password_file("secret");
	ASSERT_NE(NULL, path);
	default_opts(&o);
	strcpy(o.password_file, path);
	port = start(&o);
	ASSERT_GT(port, 0);
	for (i = 0; i < 8; i++) {
		char ver[12], why[128];
		uint8_t n, t;

		fd[i] = dial(port);
		ASSERT_GE(fd[i], 0);
		ASSERT_EQ(0, rd(fd[i], ver, 12));
		ASSERT_EQ(0, wr(fd[i], "RFB 003.008\n", 12));
		ASSERT_EQ(0, rd(fd[i], &n, 1));
		if (n == 0) {
			ASSERT_EQ(0, read_reason(fd[i], why, sizeof(why)));
			EXPECT_STREQ("too many authentication failures", why);
			refused++;
			continue;
		}
		ASSERT_EQ(1, n);
		ASSERT_EQ(0, rd(fd[i], &t, 1));
		ASSERT_EQ(2, t);	/* VNC authentication */
		offered++;
	}
	EXPECT_EQ(5, offered);
	EXPECT_EQ(3, refused);
	/* The five answer wrong; a slot given back without an answer is no failure. */
	for (i = 0; i < 8; i++) {
		uint8_t t = 2, ch[16], resp[16], res[4];

		if (wr(fd[i], &t, 1) < 0 || rd(fd[i], ch, 16) < 0) {
			close(fd[i]);
			continue;
		}
		vnc_des("guess", ch, resp);
		ASSERT_EQ(0, wr(fd[i], resp, 16));
		ASSERT_EQ(0, rd(fd[i], res, 4));
		EXPECT_EQ(1, be32(res));
		close(fd[i]);
	}
	vnc_stop();
	unlink(path);
}

/* Damage bigger than the change: only the 16x16 tiles that differ are sent. */
TEST(incremental_sends_changed_tiles)
{
	struct cli c;
	int32_t enc[] = { RFB_ENC_RAW };

	ASSERT_EQ(0, serve_rgbx(&c, enc, 1));
	ASSERT_TRUE(check_rgbx(&c, 0, 0, 0, 64, 48));

	/* Two spots in two tiles; the device damages everything (as the dirty log does). */
	draw(5, 2, 3, 3, 3);
	draw(9, 50, 40, 2, 2);
	console_damage(0, 0, 64, 48);
	ASSERT_EQ(0, request(&c, true, 0, 0, 64, 48));
	ASSERT_EQ(0, read_update(&c));
	EXPECT_EQ(2, c.rects);
	EXPECT_EQ(2 * 16 * 16, c.area);
	EXPECT_TRUE(check_rgbx(&c, 5, 2, 3, 3, 3));
	EXPECT_TRUE(check_rgbx(&c, 9, 50, 40, 2, 2));
	EXPECT_TRUE(check_rgbx(&c, 0, 16, 0, 32, 48));

	/* A row of changed tiles, then the same columns below: one rectangle. */
	draw(11, 16, 16, 32, 20);
	console_damage(0, 0, 64, 48);
	ASSERT_EQ(0, request(&c, true, 0, 0, 64, 48));
	ASSERT_EQ(0, read_update(&c));
	EXPECT_EQ(1, c.rects);
	EXPECT_EQ(16, c.last_x);
	EXPECT_EQ(16, c.last_y);
	EXPECT_EQ(32, c.last_w);
	EXPECT_EQ(32, c.last_h);
	EXPECT_TRUE(check_rgbx(&c, 11, 16, 16, 32, 20));

	/* Damage with nothing changed: no update, the request waits. */
	console_damage(0, 0, 64, 48);
	ASSERT_EQ(0, request(&c, true, 0, 0, 64, 48));
	EXPECT_TRUE(quiet(c.fd, 150));
	draw(0, 0, 0, 64, 48);
	console_damage(0, 0, 64, 48);
	ASSERT_EQ(0, read_update(&c));
	EXPECT_TRUE(check_rgbx(&c, 0, 0, 0, 64, 48));
	client_free(&c);
	vnc_stop();
}

/* Does c->fb (rgbx) equal the picture (xrgb8888 little endian) everywhere? */
static bool same_as_pic(const struct cli *c)
{
	uint32_t x, y;

	for (y = 0; y < c->h; y++)
		for (x = 0; x < c->w; x++) {
			const uint8_t *f = c->fb + (y * c->w + x) * 4, *p = pic + (y * MAXW + x) * 4;

			if (f[0] != p[2] || f[1] != p[1] || f[2] != p[0]) {
				fprintf(stderr, "pixel %u,%u differs\n", x, y);
				return false;
			}
		}
	return true;
}

/* A scroll: one CopyRect for the moved band, the new rows as pixels. */
TEST(scroll_as_copyrect)
{
	struct cli c;
	int32_t enc[] = { RFB_ENC_RAW, RFB_ENC_COPYRECT };
	uint32_t y;

	/* Rows of a pattern that differs per row, scrolled up 8 rows below. */
	for (y = 0; y < 48; y++)
		draw(y * 3, 0, y, 64, 1);
	ASSERT_EQ(0, serve_rgbx(&c, enc, 2));

	for (y = 0; y < 40; y++)	/* row y now shows what row y + 8 showed */
		memcpy(pic + y * MAXW * 4, pic + (y + 8) * MAXW * 4, 64 * 4);
	draw(200, 0, 40, 64, 8);	/* and 8 new rows */
	console_damage(0, 0, 64, 48);
	ASSERT_EQ(0, request(&c, true, 0, 0, 64, 48));
	ASSERT_EQ(0, read_update(&c));
	EXPECT_EQ(1, c.copies);
	EXPECT_EQ(8, c.copy_dy);
	EXPECT_EQ(64 * 16, c.area);	/* only the tile row with the new rows as pixels */
	EXPECT_TRUE(same_as_pic(&c));

	/* Without CopyRect in its list the client gets pixels only. */
	ASSERT_EQ(0, set_encodings(&c, enc, 1));
	for (y = 0; y < 40; y++)
		memcpy(pic + y * MAXW * 4, pic + (y + 8) * MAXW * 4, 64 * 4);
	draw(100, 0, 40, 64, 8);
	console_damage(0, 0, 64, 48);
	ASSERT_EQ(0, request(&c, true, 0, 0, 64, 48));
	ASSERT_EQ(0, read_update(&c));
	EXPECT_EQ(0, c.copies);
	EXPECT_TRUE(same_as_pic(&c));
	client_free(&c);
	vnc_stop();
	draw(0, 0, 0, 64, 48);
}

/*
 * Scrolls in a row, up and then down: each finds its offset from the old
 * rows' hashes the server kept (moved with the rows), one CopyRect each.
 */
TEST(scrolls_in_a_row)
{
	struct cli c;
	int32_t enc[] = { RFB_ENC_RAW, RFB_ENC_COPYRECT };
	uint32_t y;
	int k;

	for (y = 0; y < 48; y++)
		draw(y * 5 + 1, 0, y, 64, 1);
	ASSERT_EQ(0, serve_rgbx(&c, enc, 2));
	for (k = 0; k < 5; k++) {
		bool down = k >= 3;

		if (down) {	/* row y + 8 now shows what row y showed */
			for (y = 40; y-- > 0;)
				memcpy(pic + (y + 8) * MAXW * 4, pic + y * MAXW * 4, 64 * 4);
			draw(150 + k * 7, 0, 0, 64, 8);
		} else {
			for (y = 0; y < 40; y++)
				memcpy(pic + y * MAXW * 4, pic + (y + 8) * MAXW * 4, 64 * 4);
			draw(150 + k * 7, 0, 40, 64, 8);
		}
		console_damage(0, 0, 64, 48);
		ASSERT_EQ(0, request(&c, true, 0, 0, 64, 48));
		ASSERT_EQ(0, read_update(&c));
		EXPECT_EQ(1, c.copies) TH_LOG("scroll %d", k);
		EXPECT_EQ(down ? -8 : 8, c.copy_dy) TH_LOG("scroll %d", k);
		EXPECT_EQ(64 * 16, c.area) TH_LOG("scroll %d", k);
		EXPECT_TRUE(same_as_pic(&c));
	}
	client_free(&c);
	vnc_stop();
	draw(0, 0, 0, 64, 48);
}

TEST_HARNESS_MAIN
