// SPDX-License-Identifier: GPL-2.0
/*
 * vncwatch: the display benchmark's VNC client (see vncwatch.h).  RFB 3.8,
 * security None, 32 bpp depth 24 little endian true colour (so Tight's
 * pixels are 3 bytes), one encoding.  Nothing is decoded: each rectangle
 * is parsed only as far as its end, so the client's own CPU stays small
 * next to the server's.  Every length comes from the server and is
 * checked against the screen before it is used.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vncwatch.h"

#define ENC_RAW			0
#define ENC_COPYRECT		1
#define ENC_RRE			2
#define ENC_HEXTILE		5
#define ENC_TIGHT		7
#define ENC_ZRLE		16
#define ENC_JPEG_Q0		(-32)
#define ENC_DESKTOP_SIZE	(-223)
#define ENC_LAST_RECT		(-224)
#define ENC_POINTER_POS		(-232)
#define ENC_CURSOR		(-239)
#define ENC_XCURSOR		(-240)
#define ENC_COMPRESS_L0		(-256)
#define ENC_POINTER_TYPE	(-257)
#define ENC_EXT_KEY		(-258)
#define ENC_AUDIO		(-259)
#define ENC_LED_STATE		(-261)
#define ENC_EXT_DESKTOP		(-308)
#define ENC_VMWARE_LED		0x574d5668

#define BPP		4	/* bytes per pixel asked for */
#define TPIXEL		3	/* Tight's pixel: 32 bpp, depth 24, maxima 255 */
#define MAX_DIM		16384
#define MAX_RECTS	1000000

static const char *const enc_names[] = {
	[VNCW_RAW] = "raw", [VNCW_HEXTILE] = "hextile", [VNCW_ZRLE] = "zrle",
	[VNCW_TIGHT] = "tight", [VNCW_TIGHT_JPEG] = "tight-jpeg",
};

static const int enc_numbers[] = {
	[VNCW_RAW] = ENC_RAW, [VNCW_HEXTILE] = ENC_HEXTILE, [VNCW_ZRLE] = ENC_ZRLE,
	[VNCW_TIGHT] = ENC_TIGHT, [VNCW_TIGHT_JPEG] = ENC_TIGHT,
};

int vncw_parse_encoding(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(enc_names) / sizeof(enc_names[0]); i++)
		if (!strcmp(name, enc_names[i]))
			return i;
	return -1;
}

static int fail(struct vncw *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->err, sizeof(v->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Make at least one more byte available; -1 on EOF, error or timeout. */
static int fill(struct vncw *v)
{
	struct vncw_buf *b = &v->in;
	struct pollfd p = { .fd = b->fd, .events = POLLIN };
	ssize_t n;

	if (b->pos < b->len)
		return 0;
	if (b->fd < 0)
		return fail(v, "the update ends early");
	b->pos = b->len = 0;
	for (;;) {
		int r = poll(&p, 1, b->timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return fail(v, r ? "poll: %s" : "no reply in %d ms", r ? strerror(errno) :
				    "", b->timeout_ms);
		n = read(b->fd, b->buf, sizeof(b->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail(v, n ? "read: %s" : "the server closed the connection",
				    n ? strerror(errno) : "");
		b->len = n;
		return 0;
	}
}

static int get(struct vncw *v, void *dst, size_t n)
{
	struct vncw_buf *b = &v->in;
	uint8_t *d = dst;

	if (b->fd < 0) {
		if (b->memlen - b->pos < n)
			return fail(v, "the update ends early");
		memcpy(d, b->mem + b->pos, n);
		b->pos += n;
		b->bytes += n;
		return 0;
	}
	while (n) {
		size_t k;

		if (fill(v) < 0)
			return -1;
		k = b->len - b->pos;
		if (k > n)
			k = n;
		if (d) {
			memcpy(d, b->buf + b->pos, k);
			d += k;
		}
		b->pos += k;
		b->bytes += k;
		n -= k;
	}
	return 0;
}

static int skip(struct vncw *v, unsigned long long n)
{
	struct vncw_buf *b = &v->in;

	if (b->fd < 0) {
		if (b->memlen - b->pos < n)
			return fail(v, "the update ends early");
		b->pos += n;
		b->bytes += n;
		return 0;
	}
	while (n) {
		size_t k = n > (1u << 30) ? 1u << 30 : n;

		if (get(v, NULL, k) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

static int get8(struct vncw *v, unsigned int *x)
{
	uint8_t c;

	if (get(v, &c, 1) < 0)
		return -1;
	*x = c;
	return 0;
}

static int get16(struct vncw *v, unsigned int *x)
{
	uint8_t c[2];

	if (get(v, c, 2) < 0)
		return -1;
	*x = c[0] << 8 | c[1];
	return 0;
}

static int get32(struct vncw *v, uint32_t *x)
{
	uint8_t c[4];

	if (get(v, c, 4) < 0)
		return -1;
	*x = (uint32_t)c[0] << 24 | c[1] << 16 | c[2] << 8 | c[3];
	return 0;
}

static int send_all(struct vncw *v, const void *p, size_t n)
{
	const uint8_t *c = p;

	if (v->in.fd < 0)
		return 0;
	while (n) {
		ssize_t k = write(v->in.fd, c, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return fail(v, "write: %s", k ? strerror(errno) : "short");
		c += k;
		n -= k;
	}
	return 0;
}

static void put16(uint8_t *p, unsigned int x)
{
	p[0] = x >> 8;
	p[1] = x;
}

static void put32(uint8_t *p, uint32_t x)
{
	p[0] = x >> 24;
	p[1] = x >> 16;
	p[2] = x >> 8;
	p[3] = x;
}

/* Tight's compact length: 1 to 3 bytes, 7 + 7 + 8 bits. */
static int compact_len(struct vncw *v, uint32_t *len)
{
	unsigned int b;

	if (get8(v, &b) < 0)
		return -1;
	*len = b & 0x7f;
	if (b & 0x80) {
		if (get8(v, &b) < 0)
			return -1;
		*len |= (b & 0x7f) << 7;
		if (b & 0x80) {
			if (get8(v, &b) < 0)
				return -1;
			*len |= b << 14;
		}
	}
	return 0;
}

static int hextile(struct vncw *v, unsigned int x, unsigned int y, unsigned int w, unsigned int h)
{
	unsigned int tx, ty, sub, n;

	for (ty = y; ty < y + h; ty += 16)
		for (tx = x; tx < x + w; tx += 16) {
			unsigned int tw = x + w - tx < 16 ? x + w - tx : 16;
			unsigned int th = y + h - ty < 16 ? y + h - ty : 16;

			if (get8(v, &sub) < 0)
				return -1;
			if (sub & 0xe0)
				return fail(v, "hextile: subencoding 0x%x", sub);
			if (sub & 1) {		/* Raw */
				if (skip(v, tw * th * BPP) < 0)
					return -1;
				continue;
			}
			/* BackgroundSpecified, ForegroundSpecified */
			if (skip(v, ((sub & 2) ? BPP : 0) + ((sub & 4) ? BPP : 0)) < 0)
				return -1;
			if (!(sub & 8))		/* AnySubrects */
				continue;
			if (get8(v, &n) < 0)
				return -1;
			/* each: a pixel if SubrectsColoured, x-y and w-h bytes */
			if (skip(v, n * ((sub & 16) ? BPP + 2 : 2)) < 0)
				return -1;
		}
	return 0;
}

static int tight(struct vncw *v, unsigned int w, unsigned int h)
{
	unsigned int ctl, filter, n;
	unsigned long long size;
	uint32_t len;

	if (get8(v, &ctl) < 0)
		return -1;
	ctl >>= 4;		/* the low 4 bits reset zlib streams */
	if (ctl == 8)		/* fill */
		return skip(v, TPIXEL);
	if (ctl == 9 || ctl == 10) {	/* JPEG; PNG (TightPNG) */
		if (compact_len(v, &len) < 0)
			return -1;
		return skip(v, len);
	}
	if (ctl > 7)
		return fail(v, "tight: control 0x%x", ctl << 4);
	size = (unsigned long long)w * h * TPIXEL;	/* copy filter */
	if (ctl & 4) {		/* explicit filter */
		if (get8(v, &filter) < 0)
			return -1;
		if (filter == 1) {	/* palette */
			if (get8(v, &n) < 0)
				return -1;
			n++;
			if (n < 2)
				return fail(v, "tight: a palette of 1");
			if (skip(v, n * TPIXEL) < 0)
				return -1;
			size = n == 2 ? (unsigned long long)(w + 7) / 8 * h :
				(unsigned long long)w * h;
		} else if (filter > 2) {	/* 0 copy, 2 gradient: 3 bytes a pixel */
			return fail(v, "tight: filter %u", filter);
		}
	}
	if (size < 12)		/* too small to compress: sent as it is */
		return skip(v, size);
	if (compact_len(v, &len) < 0)
		return -1;
	return skip(v, len);
}

/* One rectangle; 1 if it was LastRect. */
static int rect(struct vncw *v)
{
	unsigned int x, y, w, h, n;
	uint32_t enc, len;
	int e;

	if (get16(v, &x) < 0 || get16(v, &y) < 0 || get16(v, &w) < 0 || get16(v, &h) < 0 ||
	    get32(v, &enc) < 0)
		return -1;
	e = (int32_t)enc;
	switch (e) {
	case ENC_DESKTOP_SIZE:
		if (!w || !h || w > MAX_DIM || h > MAX_DIM)
			return fail(v, "DesktopSize %ux%u", w, h);
		v->width = w;
		v->height = h;
		return 0;
	case ENC_EXT_DESKTOP:
		if (get8(v, &n) < 0 || skip(v, 3 + 16ull * n) < 0)
			return -1;
		if (w && h && w <= MAX_DIM && h <= MAX_DIM) {
			v->width = w;
			v->height = h;
		}
		return 0;
	case ENC_LAST_RECT:
		return 1;
	case ENC_CURSOR:
		return skip(v, (unsigned long long)w * h * BPP + (w + 7) / 8 * h);
	case ENC_XCURSOR:
		return skip(v, w && h ? 6 + 2ull * ((w + 7) / 8) * h : 0);
	case ENC_POINTER_POS:
	case ENC_POINTER_TYPE:
	case ENC_EXT_KEY:
	case ENC_AUDIO:
		return 0;
	case ENC_LED_STATE:
		return skip(v, 1);
	case ENC_VMWARE_LED:
		return skip(v, 4);
	}
	if (!w || !h || x + w > v->width || y + h > v->height)
		return fail(v, "rectangle %ux%u+%u+%u outside %ux%u (encoding %d)", w, h, x, y,
			    v->width, v->height, e);
	v->pixel_rects++;
	switch (e) {
	case ENC_RAW:
		return skip(v, (unsigned long long)w * h * BPP);
	case ENC_COPYRECT:
		return skip(v, 4);
	case ENC_RRE:
		if (get32(v, &len) < 0)
			return -1;
		if (len > (unsigned long long)w * h)
			return fail(v, "RRE: %u subrectangles", len);
		return skip(v, BPP + (unsigned long long)len * (BPP + 8));
	case ENC_HEXTILE:
		return hextile(v, x, y, w, h);
	case ENC_ZRLE:
		if (get32(v, &len) < 0)
			return -1;
		if (len > 64ull * w * h + 1024)
			return fail(v, "ZRLE: %u bytes for %ux%u", len, w, h);
		return skip(v, len);
	case ENC_TIGHT:
		return tight(v, w, h);
	}
	return fail(v, "rectangle in encoding %d", e);
}

int vncw_read_message(struct vncw *v)
{
	unsigned int type, n, i;
	uint32_t len;
	int r;

	if (get8(v, &type) < 0)
		return -1;
	switch (type) {
	case 0:		/* FramebufferUpdate */
		if (skip(v, 1) < 0 || get16(v, &n) < 0)
			return -1;
		v->rects = v->pixel_rects = 0;
		for (i = 0; i < n; i++) {	/* 65535: until LastRect (Tight servers) */
			r = rect(v);
			if (r < 0)
				return -1;
			v->rects++;
			if (r)
				break;
			if (v->rects >= MAX_RECTS)
				return fail(v, "over %u rectangles", MAX_RECTS);
		}
		return 1;
	case 1:		/* SetColourMapEntries */
		if (skip(v, 3) < 0 || get16(v, &n) < 0)
			return -1;
		return skip(v, 6ull * n) < 0 ? -1 : 0;
	case 2:		/* Bell */
		return 0;
	case 3:		/* ServerCutText */
		if (skip(v, 3) < 0 || get32(v, &len) < 0)
			return -1;
		if (len > (1u << 24))
			return fail(v, "ServerCutText of %u bytes", len);
		return skip(v, len) < 0 ? -1 : 0;
	case 150:	/* EndOfContinuousUpdates */
		return 0;
	}
	return fail(v, "server message %u", type);
}

static int request(struct vncw *v, int incremental)
{
	uint8_t m[10] = { 3, incremental };

	put16(m + 2, 0);
	put16(m + 4, 0);
	put16(m + 6, v->width);
	put16(m + 8, v->height);
	return send_all(v, m, sizeof(m));
}

/* Messages until a FramebufferUpdate. */
static int read_update(struct vncw *v)
{
	int r;

	do
		r = vncw_read_message(v);
	while (!r);
	return r < 0 ? -1 : 0;
}

/* A numeric address (static binary: no name service); HOST may be [IPv6]. */
static int dial(struct vncw *v, const char *hostport, int wait_ms)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	const char *colon = strrchr(hostport, ':');
	struct timespec t0, t;
	struct sockaddr *sa;
	char host[64], *end;
	socklen_t salen;
	size_t hl;
	long port;
	int fd, err;

	if (!colon || colon == hostport)
		return fail(v, "not HOST:PORT: %s", hostport);
	hl = colon - hostport;
	if (hostport[0] == '[' && colon[-1] == ']') {
		hostport++;
		hl -= 2;
	}
	port = strtol(colon + 1, &end, 10);
	if (hl >= sizeof(host) || *end || port <= 0 || port > 65535)
		return fail(v, "not HOST:PORT: %s", hostport);
	memcpy(host, hostport, hl);
	host[hl] = 0;
	if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
		a4.sin_port = htons(port);
		sa = (struct sockaddr *)&a4;
		salen = sizeof(a4);
	} else if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
		a6.sin6_port = htons(port);
		sa = (struct sockaddr *)&a6;
		salen = sizeof(a6);
	} else {
		return fail(v, "not a numeric address: %s", host);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return fail(v, "socket: %s", strerror(errno));
		if (!connect(fd, sa, salen))
			return fd;
		err = errno;
		close(fd);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > wait_ms)
			break;
		usleep(100000);
	}
	return fail(v, "connect %s port %ld: %s", host, port, strerror(err));
}

int vncw_open(struct vncw *v, const char *hostport, enum vncw_enc enc, int compress, int quality,
	      int wait_ms)
{
	uint8_t ver[12], types[255], m[64];
	unsigned int n, i, k;
	uint32_t res, len;
	int none = 0;

	memset(v, 0, sizeof(*v));
	v->in.timeout_ms = 20000;
	v->in.fd = dial(v, hostport, wait_ms);
	if (v->in.fd < 0)
		return -1;
	if (get(v, ver, 12) < 0)
		goto out;
	if (memcmp(ver, "RFB 003.", 8) || ver[11] != '\n' ||
	    (memcmp(ver + 8, "008", 3) && memcmp(ver + 8, "889", 3))) {
		fail(v, "not an RFB 3.8 server: %.11s", (const char *)ver);
		goto out;
	}
	if (send_all(v, "RFB 003.008\n", 12) < 0 || get8(v, &n) < 0)
		goto out;
	if (!n) {		/* a reason follows */
		fail(v, "the server refused the connection");
		goto out;
	}
	if (get(v, types, n) < 0)
		goto out;
	for (i = 0; i < n; i++)
		none |= types[i] == 1;
	if (!none) {
		fail(v, "the server offers no security None");
		goto out;
	}
	m[0] = 1;
	if (send_all(v, m, 1) < 0 || get32(v, &res) < 0)
		goto out;
	if (res) {
		fail(v, "SecurityResult %u", res);
		goto out;
	}
	m[0] = 1;		/* ClientInit: shared */
	if (send_all(v, m, 1) < 0 || get16(v, &v->width) < 0 || get16(v, &v->height) < 0 ||
	    skip(v, 16) < 0 || get32(v, &len) < 0)
		goto out;
	if (!v->width || !v->height || len > 4096) {
		fail(v, "ServerInit: %ux%u, a name of %u bytes", v->width, v->height, len);
		goto out;
	}
	if (skip(v, len) < 0)
		goto out;
	/* SetPixelFormat: 32 bpp, depth 24, little endian, true colour, 255/255/255 at 16/8/0 */
	memset(m, 0, 20);
	m[0] = 0;
	m[4] = 32;
	m[5] = 24;
	m[6] = 0;
	m[7] = 1;
	put16(m + 8, 255);
	put16(m + 10, 255);
	put16(m + 12, 255);
	m[14] = 16;
	m[15] = 8;
	m[16] = 0;
	if (send_all(v, m, 20) < 0)
		goto out;
	/*
	 * SetEncodings: the one encoding, CopyRect (every real client lists
	 * it), its compression level, JPEG's quality
	 */
	k = 0;
	m[0] = 2;
	m[1] = 0;
	put32(m + 4 + 4 * k++, enc_numbers[enc]);
	put32(m + 4 + 4 * k++, ENC_COPYRECT);
	if (enc != VNCW_RAW && enc != VNCW_HEXTILE)
		put32(m + 4 + 4 * k++, ENC_COMPRESS_L0 + compress);
	if (enc == VNCW_TIGHT_JPEG)
		put32(m + 4 + 4 * k++, ENC_JPEG_Q0 + quality);
	put16(m + 2, k);
	v->encoding = enc_numbers[enc];
	if (send_all(v, m, 4 + 4 * k) < 0 || request(v, 0) < 0 || read_update(v) < 0)
		goto out;
	return 0;
out:
	close(v->in.fd);
	v->in.fd = -1;
	return -1;
}

long long vncw_frame(struct vncw *v)
{
	unsigned long long b0 = v->in.bytes;
	int tries;

	for (tries = 0; tries < 100; tries++) {
		if (request(v, 1) < 0 || read_update(v) < 0)
			return -1;
		if (v->pixel_rects)
			return v->in.bytes - b0;
		usleep(10000);
	}
	fail(v, "%d updates without pixels", tries);
	return -1;
}

void vncw_close(struct vncw *v)
{
	if (v->in.fd >= 0)
		close(v->in.fd);
	v->in.fd = -1;
}
