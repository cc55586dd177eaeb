// SPDX-License-Identifier: GPL-2.0
/*
 * The VNC server (vnc.h): listeners, one thread per client, the RFB
 * handshake and security type negotiation, and the message loop that
 * turns client messages into console input and console damage into
 * FramebufferUpdates.  The wire pieces live elsewhere: rfb_msg.c parses
 * client messages, rfb_enc.c encodes rectangles, vnc_io.c and vnc_auth.c
 * carry the bytes (TLS, WebSocket, SASL) and run the auth exchanges.
 *
 * Updates go out only when a client asks (FramebufferUpdateRequest).  An
 * incremental request with nothing new stays pending while the client's
 * thread polls the console every VNC_POLL_MS, so a slow client delays only
 * itself and its damage merges into one box.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../devices/console.h"
#include "rfb.h"
#include "vnc.h"
#include "vnc_scroll.h"
#include "vnc_io.h"

#define VNC_POLL_MS		33	/* console poll while an incremental request waits */
#define VNC_HANDSHAKE_S		10	/* version + security + ClientInit */
#define VNC_FAIL_WINDOW_S	10	/* authentication failures counted per window */
#define VNC_FAIL_MAX		5
#define VNC_MAX_LISTENERS	8
#define VNC_MAX_REFUSING	8	/* threads telling extra clients "too many clients" */
#define VNC_BACKLOG		128	/* 64 clients connecting at once must not overflow it */
#define VNC_NAME		"kvmlite"

struct vnc_client {
	struct vnc_client *next;
	pthread_t thread;
	int fd;			/* for shutdown() by others; owned by io */
	struct vnc_io *io;
	bool websocket;
	bool unix_sock;
	bool refuse;		/* over max_clients: say so and close */
	bool closing;		/* the thread is about to close fd: do not touch it */
	bool done;		/* the thread has ended: join it */
	bool authed;		/* past the handshake: no deadline */
	bool auth_slot;		/* counted in srv.auth_inflight */
	struct timespec deadline;
	char addr[80];
	char local[80], remote[80];	/* "ip;port" for cyrus-sasl */
	int con_id;
	int minor;		/* RFB 3.minor: 3, 7 or 8 */
	const char *why;	/* reason for the disconnect log line */
	const char *kicked;	/* set (under the lock) by whoever shut the socket down */

	/* What the client asked for. */
	struct rfb_enc *enc;
	struct rfb_pixfmt pf;
	int32_t encoding;
	bool want_desktop_size, want_ext_desktop, want_cursor, want_ptr_type, want_ext_key,
	     want_leds, want_copyrect;
	bool send_ext_key, send_cursor, send_desk_reply;
	int ptr_abs_sent;	/* -1: not yet sent */
	int leds_sent;
	uint8_t last_buttons;

	/* The picture: the console's copy, the size the client knows, damage not yet sent. */
	struct con_fb fb;
	uint8_t *sent;		/* what the client was sent, or NULL */
	uint64_t *sent_hash;	/* vnc_row_hash() of its full rows, where sent_hash_ok */
	bool *sent_hash_ok;
	uint32_t sent_w, sent_h;
	uint32_t cw, ch;
	struct con_rect dirty;
	bool req_pending, req_incremental;
	struct con_rect req;

	uint8_t *in;
	size_t in_len, in_cap;
	struct rfb_buf out;
};

static struct {
	pthread_mutex_t lock;
	bool running;
	struct vnc_opts opts;
	int lfd[VNC_MAX_LISTENERS];
	bool lws[VNC_MAX_LISTENERS];
	int nlfd;
	int stop_pipe[2];
	pthread_t accept_thread;
	struct vnc_client *clients;
	int nclients, nrefusing;
	char password[256];
	bool have_password;
	struct vnc_tls *tls;
	char listening[VNC_MAX_LISTENERS][140];
	struct timespec fail_start;
	int failures;
	int auth_inflight;	/* authentications started and not yet decided */
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER, .stop_pipe = { -1, -1 } };

static void seterr(char *err, unsigned int errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, unsigned int errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void now(struct timespec *t)
{
	clock_gettime(CLOCK_MONOTONIC, t);
}

static double since(const struct timespec *t)
{
	struct timespec n;

	now(&n);
	return (n.tv_sec - t->tv_sec) + (n.tv_nsec - t->tv_nsec) / 1e9;
}

/* "ip:port" ("[ip]:port" for IPv6) and "ip;port" of a socket address. */
static void fmt_addr(const struct sockaddr *sa, socklen_t len, char *out, size_t outlen,
		     char *sasl, size_t sasllen)
{
	char host[64], port[8];

	if (sa->sa_family == AF_UNIX ||
	    getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(out, outlen, "%s", sa->sa_family == AF_UNIX ? "unix" : "?");
		if (sasl)
			sasl[0] = 0;
		return;
	}
	snprintf(out, outlen, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
	if (sasl)
		snprintf(sasl, sasllen, "%s;%s", host, port);
}

/* ------------------------------------------------------------------ */
/*
 * Authentication failures: at most VNC_FAIL_MAX per window, globally.  An
 * attempt takes a slot before the exchange, so that parallel connections
 * cannot all start before the first failure counts.
 */

static bool auth_throttled(struct vnc_client *c)
{
	bool t;

	pthread_mutex_lock(&srv.lock);
	if (since(&srv.fail_start) >= VNC_FAIL_WINDOW_S) {
		now(&srv.fail_start);
		srv.failures = 0;
	}
	t = srv.failures + srv.auth_inflight >= VNC_FAIL_MAX;
	if (!t && !c->auth_slot) {
		c->auth_slot = true;
		srv.auth_inflight++;
	}
	pthread_mutex_unlock(&srv.lock);
	return t;
}

/* The attempt is decided (or the client went): give the slot back, count a failure. */
static void auth_done(struct vnc_client *c, bool failed)
{
	pthread_mutex_lock(&srv.lock);
	if (since(&srv.fail_start) >= VNC_FAIL_WINDOW_S) {
		now(&srv.fail_start);
		srv.failures = 0;
	}
	if (failed)
		srv.failures++;
	if (c->auth_slot) {
		c->auth_slot = false;
		srv.auth_inflight--;
	}
	pthread_mutex_unlock(&srv.lock);
}

/* ------------------------------------------------------------------ */
/* Handshake */

static int put_u32(struct vnc_io *io, uint32_t v)
{
	uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };

	return vnc_io_write(io, b, 4);
}

/* A failure reason: u32 length and the text. */
static int put_reason(struct vnc_io *io, const char *why)
{
	if (put_u32(io, strlen(why)) < 0)
		return -1;
	return vnc_io_write(io, why, strlen(why));
}

/* "RFB 003.008\n" -> 8; the minor version we speak with the client, or -1 (garbage). */
static int parse_version(const char v[12])
{
	int major = 0, minor = 0, i;

	if (memcmp(v, "RFB ", 4) || v[7] != '.' || v[11] != '\n')
		return -1;
	for (i = 4; i < 7; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		major = major * 10 + v[i] - '0';
	}
	for (i = 8; i < 11; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		minor = minor * 10 + v[i] - '0';
	}
	if (major < 3)
		return -1;
	if (major > 3 || minor >= 8)
		return 8;	/* newer (Apple's 3.889 too): what we offered */
	if (minor == 7)
		return 7;
	return 3;		/* RFC 6143: unknown 3.x below 3.7 is 3.3 */
}

/* Tell a client we will not serve it ("too many clients") the way its version expects. */
static void refuse(struct vnc_client *c, const char *why)
{
	if (c->minor == 3) {
		if (put_u32(c->io, 0) == 0)
			put_reason(c->io, why);
	} else {
		uint8_t zero = 0;

		if (vnc_io_write(c->io, &zero, 1) == 0)
			put_reason(c->io, why);
	}
	c->why = why;
}

/* SecurityResult: ok, or failed (with the reason from 3.8 on). */
static int security_result(struct vnc_client *c, const char *fail)
{
	if (put_u32(c->io, fail ? 1 : 0) < 0)
		return -1;
	if (fail && c->minor >= 8)
		put_reason(c->io, fail);
	return fail ? -1 : 0;
}

/*
 * The security types on offer, in order of preference.  A WebSocket
 * connection on a TLS server is already TLS (wss): there, as QEMU, the
 * inner types are offered directly (noVNC has no VeNCrypt).
 */
static int sec_types(int *t, bool ws)
{
	int n = 0;

	if (srv.tls && !ws) {
		t[n++] = RFB_SEC_VENCRYPT;
		return n;
	}
	if (srv.opts.sasl)
		t[n++] = RFB_SEC_SASL;
	if (srv.have_password)
		t[n++] = RFB_SEC_VNC;
	if (!n)
		t[n++] = RFB_SEC_NONE;
	return n;
}

/* A failed authentication: log, count, wait a second, report. Always -1. */
static int auth_fail(struct vnc_client *c, const char *why)
{
	struct timespec d = { 1, 0 };

	fprintf(stderr, "vnc: %s: authentication failed\n", c->addr);
	auth_done(c, true);
	while (nanosleep(&d, &d) < 0 && errno == EINTR)
		;
	security_result(c, why);
	c->why = "authentication failed";
	return -1;
}

/* The auth that comes after a type (or VeNCrypt subtype) was chosen: 0 if the client passed. */
static int run_auth(struct vnc_client *c, int type, bool secure)
{
	char *user = NULL;
	int r;

	switch (type) {
	case RFB_SEC_NONE:
		return 0;
	case RFB_SEC_VNC:
		return vnc_auth_vnc(c->io, srv.password);
	case RFB_SEC_SASL:
		r = vnc_auth_sasl(c->io, secure || c->unix_sock, c->unix_sock ? NULL : c->local,
				  c->unix_sock ? NULL : c->remote, &user);
		if (r == 0)
			fprintf(stderr, "vnc: %s: SASL user %s\n", c->addr, user ? user : "?");
		free(user);
		return r;
	}
	return -1;
}

static int vencrypt(struct vnc_client *c)
{
	bool x509 = vnc_tls_is_x509(srv.tls);
	int subs[4], n = 0, chosen = 0, inner;

	if (srv.opts.sasl)
		subs[n++] = x509 ? VENCRYPT_X509_SASL : VENCRYPT_TLS_SASL;
	if (srv.have_password)
		subs[n++] = x509 ? VENCRYPT_X509_VNC : VENCRYPT_TLS_VNC;
	if (!n)
		subs[n++] = x509 ? VENCRYPT_X509_NONE : VENCRYPT_TLS_NONE;
	if (vnc_auth_vencrypt(c->io, srv.tls, subs, n, &chosen) < 0) {
		c->why = "VeNCrypt failed";
		return -1;
	}
	switch (chosen) {
	case VENCRYPT_TLS_NONE:
	case VENCRYPT_X509_NONE:
		inner = RFB_SEC_NONE;
		break;
	case VENCRYPT_TLS_VNC:
	case VENCRYPT_X509_VNC:
		inner = RFB_SEC_VNC;
		break;
	case VENCRYPT_TLS_SASL:
	case VENCRYPT_X509_SASL:
		inner = RFB_SEC_SASL;
		break;
	default:
		c->why = "bad VeNCrypt subtype";
		return -1;
	}
	if (vnc_io_peer_dn(c->io))
		fprintf(stderr, "vnc: %s: certificate %s\n", c->addr, vnc_io_peer_dn(c->io));
	if (run_auth(c, inner, true) < 0)
		return auth_fail(c, "authentication failed");
	return security_result(c, NULL);
}

/* Version and security: 0 when the client may go on to ClientInit. */
static int handshake(struct vnc_client *c)
{
	char ver[12];
	int types[4], n, i, type;
	uint8_t b;

	if (vnc_io_write(c->io, "RFB 003.008\n", 12) < 0 || vnc_io_read_full(c->io, ver, 12) < 0)
		return -1;
	c->minor = parse_version(ver);
	if (c->minor < 0) {
		c->why = "bad protocol version";
		return -1;
	}
	if (c->refuse) {
		refuse(c, "too many clients");
		return -1;
	}
	if (c->con_id < 0) {
		refuse(c, "too many clients (console)");
		return -1;
	}
	n = sec_types(types, c->websocket);
	if ((n > 1 || types[0] != RFB_SEC_NONE) && auth_throttled(c)) {
		/* Refused before any exchange, so every client reads it right. */
		refuse(c, "too many authentication failures");
		return -1;
	}
	if (c->minor == 3) {
		/* The server picks; VeNCrypt and SASL need 3.7 or later. */
		type = -1;
		for (i = 0; i < n; i++)
			if (types[i] == RFB_SEC_VNC || types[i] == RFB_SEC_NONE) {
				type = types[i];
				break;
			}
		if (type < 0) {
			refuse(c, "RFB 3.3 cannot use the required security type");
			return -1;
		}
		if (put_u32(c->io, type) < 0)
			return -1;
	} else {
		uint8_t list[5];

		list[0] = n;
		for (i = 0; i < n; i++)
			list[1 + i] = types[i];
		if (vnc_io_write(c->io, list, 1 + n) < 0 || vnc_io_read_full(c->io, &b, 1) < 0)
			return -1;
		type = -1;
		for (i = 0; i < n; i++)
			if (types[i] == b)
				type = b;
		if (type < 0) {
			security_result(c, "unsupported security type");
			c->why = "unsupported security type";
			return -1;
		}
	}
	if (type == RFB_SEC_VENCRYPT)
		return vencrypt(c);
	if (type != RFB_SEC_NONE) {
		if (run_auth(c, type, false) < 0)
			return auth_fail(c, "authentication failed");
		return security_result(c, NULL);
	}
	/* None: no SecurityResult before 3.8. */
	return c->minor >= 8 ? security_result(c, NULL) : 0;
}

/* ------------------------------------------------------------------ */
/* Updates */

static void rect_merge(struct con_rect *a, const struct con_rect *b)
{
	uint32_t x1, y1;

	if (!b->w || !b->h)
		return;
	if (!a->w || !a->h) {
		*a = *b;
		return;
	}
	x1 = a->x + a->w > b->x + b->w ? a->x + a->w : b->x + b->w;
	y1 = a->y + a->h > b->y + b->h ? a->y + a->h : b->y + b->h;
	a->x = a->x < b->x ? a->x : b->x;
	a->y = a->y < b->y ? a->y : b->y;
	a->w = x1 - a->x;
	a->h = y1 - a->y;
}

static struct con_rect rect_clip(struct con_rect a, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	uint64_t ax1 = (uint64_t)a.x + a.w, ay1 = (uint64_t)a.y + a.h;
	uint64_t bx1 = (uint64_t)x + w, by1 = (uint64_t)y + h;
	struct con_rect r;

	r.x = a.x > x ? a.x : x;
	r.y = a.y > y ? a.y : y;
	ax1 = ax1 < bx1 ? ax1 : bx1;
	ay1 = ay1 < by1 ? ay1 : by1;
	if (ax1 <= r.x || ay1 <= r.y)
		return (struct con_rect){ 0, 0, 0, 0 };
	r.w = ax1 - r.x;
	r.h = ay1 - r.y;
	return r;
}

static bool rect_contains(const struct con_rect *a, const struct con_rect *b)
{
	return b->x >= a->x && b->y >= a->y && b->x + b->w <= a->x + a->w &&
	       b->y + b->h <= a->y + a->h;
}

static void put_rect_hdr(struct rfb_buf *b, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
			 int32_t enc)
{
	rfb_buf_u16(b, x);
	rfb_buf_u16(b, y);
	rfb_buf_u16(b, w);
	rfb_buf_u16(b, h);
	rfb_buf_u32(b, (uint32_t)enc);
}

/* ExtendedDesktopSize: @reason (0 server, 1 this client), @status, one screen. */
static void put_ext_desktop(struct rfb_buf *b, uint32_t reason, uint32_t status, uint32_t w,
			    uint32_t h)
{
	put_rect_hdr(b, reason, status, w, h, RFB_ENC_EXT_DESKTOP);
	rfb_buf_u8(b, 1);
	rfb_buf_u8(b, 0);
	rfb_buf_u16(b, 0);
	rfb_buf_u32(b, 0);	/* screen id */
	rfb_buf_u16(b, 0);
	rfb_buf_u16(b, 0);
	rfb_buf_u16(b, w);
	rfb_buf_u16(b, h);
	rfb_buf_u32(b, 0);	/* flags */
}

/* A 12x18 arrow: X black, . white, blank transparent; hot spot at the tip. */
#define CURSOR_W 12
#define CURSOR_H 18
static const char *const cursor_img[CURSOR_H] = {
	"X           ",
	"XX          ",
	"X.X         ",
	"X..X        ",
	"X...X       ",
	"X....X      ",
	"X.....X     ",
	"X......X    ",
	"X.......X   ",
	"X........X  ",
	"X.........X ",
	"X......XXXXX",
	"X...X..X    ",
	"X..XX..X    ",
	"X.X  X..X   ",
	"XX   X..X   ",
	"X     X..X  ",
	"       XX   ",
};

/* The Cursor pseudo-rectangle in the client's format (Raw pixels, then the 1-bit mask). */
static int put_cursor(struct vnc_client *c, struct rfb_buf *b)
{
	uint8_t rgb[CURSOR_W * CURSOR_H * 3], mask[(CURSOR_W + 7) / 8 * CURSOR_H];
	struct rfb_rect r = { 0, 0, CURSOR_W, CURSOR_H };
	struct rfb_buf tmp = { 0 };
	size_t want = 12 + CURSOR_W * CURSOR_H * (c->pf.bpp / 8);
	int x, y, ret = -1;

	memset(mask, 0, sizeof(mask));
	for (y = 0; y < CURSOR_H; y++)
		for (x = 0; x < CURSOR_W; x++) {
			char p = cursor_img[y][x];

			memset(rgb + (y * CURSOR_W + x) * 3, p == '.' ? 0xff : 0, 3);
			if (p != ' ')
				mask[y * ((CURSOR_W + 7) / 8) + x / 8] |= 0x80 >> (x % 8);
		}
	if (rfb_enc_rect(c->enc, RFB_ENC_RAW, rgb, CURSOR_W, CURSOR_H, &r, &tmp) == 1 &&
	    !tmp.oom && tmp.len == want) {
		put_rect_hdr(b, 0, 0, CURSOR_W, CURSOR_H, RFB_ENC_CURSOR);
		rfb_buf_put(b, tmp.data + 12, tmp.len - 12);
		rfb_buf_put(b, mask, sizeof(mask));
		ret = 0;
	}
	rfb_buf_free(&tmp);
	return ret;
}

/*
 * The parts of @a (within the picture) that differ from what the client
 * was sent, compared in tiles of DIFF_TILE pixels: one rectangle per run of
 * changed tiles in a tile row, merged downwards where runs line up.  The
 * dirty log and the devices' damage are page or box grained; this sends
 * only what changed, as QEMU's server does.  Up to @max rectangles; more:
 * the whole of @a.  The caller has a copy (c->sent) of the picture's size.
 * Returns the count.
 */
#define DIFF_TILE	16
#define DIFF_MAX	256
#define FB_BPP		4	/* the console's copy and c->sent: 0x00RRGGBB words */

/* Record that the client now has rectangle @r of the picture. */
static void sent_rect(struct vnc_client *c, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	size_t stride = (size_t)c->fb.w * FB_BPP;

	for (; h; y++, h--) {
		memcpy(c->sent + y * stride + (size_t)x * FB_BPP,
		       c->fb.rgb + y * stride + (size_t)x * FB_BPP, (size_t)w * FB_BPP);
		c->sent_hash_ok[y] = false;
	}
}

static int changed_rects(struct vnc_client *c, struct con_rect a, struct rfb_rect *out, int max)
{
	size_t stride = (size_t)c->fb.w * FB_BPP;
	int n = 0, open_from = 0, i;
	uint32_t ty, tx, tw;

	for (ty = a.y; ty < a.y + a.h; ty += DIFF_TILE) {
		uint32_t th = a.y + a.h - ty < DIFF_TILE ? a.y + a.h - ty : DIFF_TILE;
		int row_start = n;
		uint32_t run = UINT32_MAX, r;
		bool same = true;

		/* A row of tiles that is all as sent (after a scroll, most): one compare a line. */
		for (r = 0; r < th && same; r++) {
			size_t off = (ty + r) * stride + (size_t)a.x * FB_BPP;

			same = !memcmp(c->fb.rgb + off, c->sent + off, (size_t)a.w * FB_BPP);
		}

		/* Tiles left to right, then one unchanged step at the end that closes a run. */
		for (tx = a.x; tx <= a.x + a.w; tx += tw) {
			bool changed = false;

			tw = DIFF_TILE;
			if (tx < a.x + a.w && !same) {
				tw = a.x + a.w - tx < DIFF_TILE ? a.x + a.w - tx : DIFF_TILE;
				for (r = 0; r < th && !changed; r++) {
					size_t off = (ty + r) * stride + (size_t)tx * FB_BPP;

					changed = memcmp(c->fb.rgb + off, c->sent + off,
							 tw * FB_BPP) != 0;
				}
			}
			if (changed && run == UINT32_MAX)
				run = tx;
			if (changed || run == UINT32_MAX)
				continue;
			/* A run [run, tx) ends: extend the rectangle above it, or start one. */
			for (i = open_from; i < row_start; i++)
				if (out[i].x == run && out[i].w == tx - run &&
				    out[i].y + out[i].h == ty)
					break;
			if (i < row_start) {
				out[i].h += th;
			} else {
				if (n == max)
					goto whole;
				out[n++] = (struct rfb_rect){ run, ty, tx - run, th };
			}
			run = UINT32_MAX;
		}
		/* Rectangles that did not grow in this row are closed. */
		for (i = open_from; i < row_start; i++)
			if (out[i].y + out[i].h != ty + th) {
				struct rfb_rect t = out[i];

				memmove(&out[open_from + 1], &out[open_from],
					(i - open_from) * sizeof(*out));
				out[open_from++] = t;
			}
	}
	goto copy;
whole:
	out[0] = (struct rfb_rect){ a.x, a.y, a.w, a.h };
	n = 1;
copy:
	for (i = 0; i < n; i++)
		sent_rect(c, out[i].x, out[i].y, out[i].w, out[i].h);
	return n;
}

/*
 * A scroll inside @a (vnc_scroll.c): a CopyRect for the moved band, which
 * is then moved in the client's copy too, so that only the rows that are
 * new differ from it.  True if one was put in @b.
 */
static bool put_scroll(struct vnc_client *c, struct con_rect a, struct rfb_buf *b)
{
	struct rfb_rect ar = { a.x, a.y, a.w, a.h }, band;
	size_t stride = (size_t)c->fb.w * FB_BPP, n;
	bool full = !a.x && a.w == c->fb.w;
	uint32_t i;
	int dy;

	/* The old rows' hashes, kept from before where the rows did not change since. */
	for (i = a.y; full && i < a.y + a.h; i++)
		if (!c->sent_hash_ok[i]) {
			c->sent_hash[i] = vnc_row_hash(c->sent + i * stride, stride);
			c->sent_hash_ok[i] = true;
		}
	dy = vnc_find_scroll(c->sent, c->fb.rgb, c->fb.w, FB_BPP, &ar,
			     full ? c->sent_hash + a.y : NULL, &band);
	if (!dy)
		return false;
	put_rect_hdr(b, band.x, band.y, band.w, band.h, RFB_ENC_COPYRECT);
	rfb_buf_u16(b, band.x);
	rfb_buf_u16(b, band.y + dy);
	/* Rows move up (dy > 0: copy top down) or down (dy < 0: bottom up), as the client does. */
	n = (size_t)band.w * FB_BPP;
	for (i = 0; i < band.h; i++) {
		uint32_t y = dy > 0 ? band.y + i : band.y + band.h - 1 - i;

		memmove(c->sent + y * stride + (size_t)band.x * FB_BPP,
			c->sent + (y + dy) * stride + (size_t)band.x * FB_BPP, n);
		/* A whole row moves with its hash; part of one: not known now. */
		c->sent_hash[y] = c->sent_hash[y + dy];
		c->sent_hash_ok[y] = full && c->sent_hash_ok[y + dy];
	}
	return true;
}

/* Forget the copy of what the client was sent, and its row hashes. */
static void sent_drop(struct vnc_client *c)
{
	free(c->sent);
	free(c->sent_hash);
	free(c->sent_hash_ok);
	c->sent = NULL;
	c->sent_hash = NULL;
	c->sent_hash_ok = NULL;
}

/* Remember what a full or non-incremental update sent (allocating the copy). */
static void sent_copy(struct vnc_client *c, struct con_rect a)
{
	size_t stride = (size_t)c->fb.w * FB_BPP;

	if (!c->sent || c->sent_w != c->fb.w || c->sent_h != c->fb.h) {
		sent_drop(c);
		if (a.x || a.y || a.w != c->fb.w || a.h != c->fb.h)
			return;	/* a new copy starts only with the whole picture */
		c->sent = malloc(stride * c->fb.h);
		c->sent_hash = malloc(c->fb.h * sizeof(*c->sent_hash));
		c->sent_hash_ok = calloc(c->fb.h, sizeof(*c->sent_hash_ok));
		if (!c->sent || !c->sent_hash || !c->sent_hash_ok) {
			sent_drop(c);
			return;
		}
		c->sent_w = c->fb.w;
		c->sent_h = c->fb.h;
	}
	sent_rect(c, a.x, a.y, a.w, a.h);
}

/*
 * Serve the pending request if there is something to send: 1 sent, 0
 * nothing yet (keep it pending), -1 the connection failed.
 */
static int try_update(struct vnc_client *c)
{
	struct rfb_buf *b = &c->out;
	struct con_rect d, area = { 0, 0, 0, 0 };
	bool resized = false, pseudo;
	long count = 0;
	int abs = -1, leds = -1, k;

	if (console_update(c->con_id, &c->fb, &d) == 0)
		rect_merge(&c->dirty, &d);
	if (c->fb.w != c->cw || c->fb.h != c->ch) {
		if (c->want_ext_desktop || c->want_desktop_size) {
			resized = true;
			c->cw = c->fb.w;
			c->ch = c->fb.h;
			c->dirty = (struct con_rect){ 0, 0, c->cw, c->ch };
		}
	}
	if (c->want_ptr_type) {
		abs = console_pointer_absolute();
		if (abs == c->ptr_abs_sent)
			abs = -1;
	}
	if (c->want_leds) {
		leds = console_leds();
		if (leds == c->leds_sent)
			leds = -1;
	}
	pseudo = resized || abs >= 0 || leds >= 0 || c->send_ext_key || c->send_desk_reply ||
		 (c->want_cursor && c->send_cursor);

	/* What of the picture to send, within what both the client and the console have. */
	if (resized) {
		area = (struct con_rect){ 0, 0, c->cw, c->ch };
	} else {
		struct con_rect lim = rect_clip(c->req, 0, 0, c->cw, c->ch);

		lim = rect_clip(lim, 0, 0, c->fb.w, c->fb.h);
		area = c->req_incremental ? rect_clip(c->dirty, lim.x, lim.y, lim.w, lim.h) : lim;
	}
	if (c->req_incremental && !area.w && !pseudo)
		return 0;

	b->len = 0;
	b->oom = false;
	rfb_buf_u8(b, RFB_SMSG_FB_UPDATE);
	rfb_buf_u8(b, 0);
	rfb_buf_u16(b, 0);	/* count, filled in below */
	if (c->send_ext_key) {
		put_rect_hdr(b, 0, 0, 0, 0, RFB_ENC_EXT_KEY);
		count++;
		c->send_ext_key = false;
	}
	if (abs >= 0) {
		put_rect_hdr(b, abs, 0, 0, 0, RFB_ENC_POINTER_TYPE);
		count++;
		c->ptr_abs_sent = abs;
	}
	if (leds >= 0) {
		put_rect_hdr(b, 0, 0, 0, 0, RFB_ENC_LED_STATE);
		rfb_buf_u8(b, leds);
		count++;
		c->leds_sent = leds;
	}
	if (c->want_cursor && c->send_cursor) {
		if (put_cursor(c, b) == 0)
			count++;
		c->send_cursor = false;
	}
	if (c->send_desk_reply) {
		/* SetDesktopSize: the guest owns its mode, so the answer is "prohibited". */
		put_ext_desktop(b, 1, 1, c->cw, c->ch);
		count++;
		c->send_desk_reply = false;
	}
	if (resized) {
		if (c->want_ext_desktop)
			put_ext_desktop(b, 0, 0, c->cw, c->ch);
		else
			put_rect_hdr(b, 0, 0, c->cw, c->ch, RFB_ENC_DESKTOP_SIZE);
		count++;
	}
	if (area.w && area.h && c->fb.rgb) {
		struct rfb_rect r[DIFF_MAX];
		int i, nr = 1;

		/* Incremental: only the tiles that differ from what the client has. */
		if (c->req_incremental && !resized && c->sent && c->sent_w == c->fb.w &&
		    c->sent_h == c->fb.h) {
			if (c->want_copyrect && put_scroll(c, area, b))
				count++;
			nr = changed_rects(c, area, r, DIFF_MAX);
		} else {
			r[0] = (struct rfb_rect){ area.x, area.y, area.w, area.h };
			sent_copy(c, area);
		}
		for (i = 0; i < nr; i++) {
			k = rfb_enc_rect_xrgb(c->enc, c->encoding, (const uint32_t *)c->fb.rgb,
					      c->fb.w, c->fb.h, &r[i], b);
			if (k < 0) {
				c->why = "encoder failed";
				return -1;
			}
			count += k;
		}
		if (rect_contains(&area, &c->dirty))
			c->dirty = (struct con_rect){ 0, 0, 0, 0 };
		/* Damage that changed nothing: no update, the request stays pending. */
		if (!count && c->req_incremental && !pseudo)
			return 0;
	}
	if (count > 0xffff || b->oom) {
		c->why = b->oom ? "out of memory" : "too many rectangles";
		return -1;
	}
	b->data[2] = count >> 8;
	b->data[3] = count;
	c->req_pending = false;
	if (vnc_io_write(c->io, b->data, b->len) < 0) {
		c->why = "write failed";
		return -1;
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* Client messages */

static int set_pixel_format(struct vnc_client *c, const struct rfb_pixfmt *pf)
{
	c->pf = *pf;
	rfb_enc_set_format(c->enc, pf);
	c->send_cursor = true;
	if (!pf->true_colour) {
		uint16_t map[256][3];
		struct rfb_buf *b = &c->out;
		int i;

		rfb_colour_map_332(map);
		b->len = 0;
		b->oom = false;
		rfb_buf_u8(b, RFB_SMSG_SET_COLOUR_MAP);
		rfb_buf_u8(b, 0);
		rfb_buf_u16(b, 0);
		rfb_buf_u16(b, 256);
		for (i = 0; i < 256; i++) {
			rfb_buf_u16(b, map[i][0]);
			rfb_buf_u16(b, map[i][1]);
			rfb_buf_u16(b, map[i][2]);
		}
		if (b->oom || vnc_io_write(c->io, b->data, b->len) < 0)
			return -1;
	}
	return 0;
}

static void set_encodings(struct vnc_client *c, const uint8_t *list, unsigned int count)
{
	int quality = -1, level = -1;
	bool have_enc = false, ext_key = c->want_ext_key;
	bool ptr = c->want_ptr_type, leds = c->want_leds, cursor = c->want_cursor;
	unsigned int i;

	c->encoding = RFB_ENC_RAW;
	c->want_desktop_size = c->want_ext_desktop = c->want_cursor = false;
	c->want_ptr_type = c->want_ext_key = c->want_leds = c->want_copyrect = false;
	for (i = 0; i < count; i++) {
		const uint8_t *p = list + 4 * i;
		int32_t e = (int32_t)((uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]);

		switch (e) {
		case RFB_ENC_RAW:
		case RFB_ENC_HEXTILE:
		case RFB_ENC_ZRLE:
		case RFB_ENC_TIGHT:
			if (!have_enc && rfb_enc_supported(e)) {
				c->encoding = e;
				have_enc = true;
			}
			break;
		case RFB_ENC_COPYRECT:
			c->want_copyrect = true;
			break;
		case RFB_ENC_DESKTOP_SIZE:
			c->want_desktop_size = true;
			break;
		case RFB_ENC_EXT_DESKTOP:
			c->want_ext_desktop = true;
			break;
		case RFB_ENC_CURSOR:
			c->want_cursor = true;
			break;
		case RFB_ENC_POINTER_TYPE:
			c->want_ptr_type = true;
			break;
		case RFB_ENC_EXT_KEY:
			c->want_ext_key = true;
			break;
		case RFB_ENC_LED_STATE:
			c->want_leds = true;
			break;
		default:
			if (e >= RFB_ENC_JPEG_Q0 && e <= RFB_ENC_JPEG_Q9 && quality < 0)
				quality = e - RFB_ENC_JPEG_Q0;
			else if (e >= RFB_ENC_COMPRESS_L0 && e <= RFB_ENC_COMPRESS_L9 && level < 0)
				level = e - RFB_ENC_COMPRESS_L0;
			break;
		}
	}
	if (!srv.opts.lossy)
		quality = -1;
	rfb_enc_set_tight(c->enc, quality, level < 0 ? 6 : level);
	/* QEMU answers the extended key event with a -258 rectangle. */
	if (c->want_ext_key && !ext_key)
		c->send_ext_key = true;
	if (c->want_ptr_type && !ptr)
		c->ptr_abs_sent = -1;
	if (c->want_leds && !leds)
		c->leds_sent = -1;
	if (c->want_cursor && !cursor)
		c->send_cursor = true;
}

static void pointer_event(struct vnc_client *c, uint8_t mask, uint16_t x, uint16_t y)
{
	uint8_t pressed = mask & ~c->last_buttons;
	uint32_t btn = 0;
	int wheel = 0;

	if (mask & 1)
		btn |= CON_BTN_LEFT;
	if (mask & 2)
		btn |= CON_BTN_MIDDLE;
	if (mask & 4)
		btn |= CON_BTN_RIGHT;
	if (pressed & 8)
		wheel++;
	if (pressed & 16)
		wheel--;
	c->last_buttons = mask;
	console_pointer_px(x, y, btn, wheel);
}

static int handle(struct vnc_client *c, const struct rfb_cmsg *m)
{
	uint32_t code;

	switch (m->type) {
	case RFB_MSG_SET_PIXEL_FORMAT:
		return set_pixel_format(c, &m->pf);
	case RFB_MSG_SET_ENCODINGS:
		set_encodings(c, m->enc.list, m->enc.count);
		break;
	case RFB_MSG_FB_UPDATE_REQUEST: {
		struct con_rect r = { m->update.x, m->update.y, m->update.w, m->update.h };

		/* A later request replaces an earlier one; a full one wins over incremental. */
		if (c->req_pending && !c->req_incremental)
			rect_merge(&c->req, &r);
		else
			c->req = r;
		c->req_incremental = m->update.incremental && !(c->req_pending &&
								 !c->req_incremental);
		c->req_pending = true;
		break;
	}
	case RFB_MSG_KEY_EVENT:
		console_key_keysym(m->key.keysym, m->key.down);
		break;
	case RFB_MSG_POINTER_EVENT:
		pointer_event(c, m->pointer.buttons, m->pointer.x, m->pointer.y);
		break;
	case RFB_MSG_CLIENT_CUT_TEXT:
		break;
	case RFB_MSG_SET_DESKTOP_SIZE:
		if (c->want_ext_desktop)
			c->send_desk_reply = true;
		break;
	case RFB_MSG_QEMU:
		code = m->qkey.keycode;
		if (code && code <= 0xff)
			console_key(code & 0x80 ? 0xe000 | (code & 0x7f) : code, m->qkey.down);
		else
			console_key_keysym(m->qkey.keysym, m->qkey.down);
		break;
	}
	return 0;
}

/* Parse and act on every complete message in the input buffer: 0, or -1 to drop. */
static int process_input(struct vnc_client *c)
{
	struct rfb_cmsg m;
	const char *why = NULL;
	size_t off = 0, need = 0;
	long k;

	while (off < c->in_len) {
		k = rfb_parse_cmsg(c->in + off, c->in_len - off, &m, &need, &why);
		if (k < 0) {
			fprintf(stderr, "vnc: %s: bad message: %s\n", c->addr, why ? why : "?");
			c->why = "bad message";
			return -1;
		}
		if (k == 0)
			break;
		if (handle(c, &m) < 0) {
			c->why = "write failed";
			return -1;
		}
		off += k;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	if (c->in_len == c->in_cap) {
		/* The message is longer than the buffer: grow up to what the parser allows. */
		size_t cap = need > c->in_cap ? need : c->in_cap;
		uint8_t *p;

		if (cap > RFB_MAX_MSG || cap <= c->in_len) {
			c->why = "message too long";
			return -1;
		}
		p = realloc(c->in, cap);
		if (!p) {
			c->why = "out of memory";
			return -1;
		}
		c->in = p;
		c->in_cap = cap;
	}
	return 0;
}

static int server_init(struct vnc_client *c)
{
	struct con_rect d;
	uint8_t b, pf[16];
	struct rfb_buf *o = &c->out;

	if (vnc_io_read_full(c->io, &b, 1) < 0)
		return -1;
	if (!b) {
		/* Not shared: the others go. */
		struct vnc_client *o2;

		pthread_mutex_lock(&srv.lock);
		for (o2 = srv.clients; o2; o2 = o2->next)
			if (o2 != c && !o2->refuse && !o2->closing) {
				o2->kicked = "another client asked for exclusive access";
				shutdown(o2->fd, SHUT_RDWR);
			}
		pthread_mutex_unlock(&srv.lock);
	}
	if (console_update(c->con_id, &c->fb, &d) < 0 || !c->fb.rgb) {
		/* No display yet: a black 640x480 until one comes. */
		free(c->fb.rgb);
		c->fb.w = 640;
		c->fb.h = 480;
		c->fb.rgb = calloc(640 * 480, FB_BPP);
		if (!c->fb.rgb)
			return -1;
	} else {
		rect_merge(&c->dirty, &d);
	}
	c->cw = c->fb.w > 0xffff ? 0xffff : c->fb.w;
	c->ch = c->fb.h > 0xffff ? 0xffff : c->fb.h;
	c->pf = rfb_pixfmt_default;
	rfb_enc_set_format(c->enc, &c->pf);
	rfb_pixfmt_encode(&c->pf, pf);
	o->len = 0;
	o->oom = false;
	rfb_buf_u16(o, c->cw);
	rfb_buf_u16(o, c->ch);
	rfb_buf_put(o, pf, 16);
	rfb_buf_u32(o, strlen(VNC_NAME));
	rfb_buf_put(o, VNC_NAME, strlen(VNC_NAME));
	if (o->oom)
		return -1;
	return vnc_io_write(c->io, o->data, o->len);
}

static int serve(struct vnc_client *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	ssize_t n;
	int r;

	c->in_cap = 4096;
	c->in = malloc(c->in_cap);
	if (!c->in)
		return -1;
	for (;;) {
		if (c->req_pending) {
			r = try_update(c);
			if (r < 0)
				return -1;
		}
		if (!vnc_io_pending(c->io)) {
			r = poll(&p, 1, c->req_pending ? VNC_POLL_MS : -1);
			if (r < 0 && errno != EINTR) {
				c->why = "poll failed";
				return -1;
			}
			if (r <= 0)
				continue;
		}
		n = vnc_io_read(c->io, c->in + c->in_len, c->in_cap - c->in_len);
		if (n <= 0) {
			if (!c->why)
				c->why = n == 0 ? "closed" : "read failed";
			return -1;
		}
		c->in_len += n;
		if (process_input(c) < 0)
			return -1;
	}
}

/* ------------------------------------------------------------------ */
/* Threads */

static void *client_thread(void *arg)
{
	struct vnc_client *c = arg;
	bool refusing = c->refuse;
	int r;

	if (c->websocket) {
		if (srv.tls && vnc_io_start_tls(c->io, srv.tls) < 0) {
			c->why = "TLS handshake failed";
			goto out;
		}
		if (vnc_io_start_websocket(c->io) < 0) {
			c->why = "WebSocket upgrade failed";
			goto out;
		}
	}
	if (!refusing) {
		c->con_id = console_attach();
		c->enc = rfb_enc_new();
		if (!c->enc) {
			c->why = "out of memory";
			goto out;
		}
	}
	r = handshake(c);
	auth_done(c, false);
	if (r < 0 || server_init(c) < 0)
		goto out;
	pthread_mutex_lock(&srv.lock);
	c->authed = true;
	pthread_mutex_unlock(&srv.lock);
	serve(c);
out:
	pthread_mutex_lock(&srv.lock);
	if (c->kicked)
		c->why = c->kicked;
	c->closing = true;
	pthread_mutex_unlock(&srv.lock);
	fprintf(stderr, "vnc: %s: %s (%s%s%s)\n", c->addr, refusing ? "refused" : "disconnected",
		c->why ? c->why : "closed", vnc_io_error(c->io)[0] ? ": " : "",
		vnc_io_error(c->io));
	if (c->con_id >= 0)
		console_detach(c->con_id);
	vnc_io_free(c->io);
	c->io = NULL;
	rfb_enc_free(c->enc);
	c->enc = NULL;
	free(c->fb.rgb);
	c->fb.rgb = NULL;
	sent_drop(c);
	free(c->in);
	c->in = NULL;
	rfb_buf_free(&c->out);
	pthread_mutex_lock(&srv.lock);
	c->done = true;
	if (refusing)
		srv.nrefusing--;
	else
		srv.nclients--;
	pthread_mutex_unlock(&srv.lock);
	return NULL;
}

/* Join and free the clients whose threads ended (@all: wait for every one). */
static void reap(bool all)
{
	struct vnc_client **pp, *c;

	for (;;) {
		pthread_mutex_lock(&srv.lock);
		for (pp = &srv.clients; (c = *pp); pp = &c->next)
			if (c->done || all)
				break;
		if (c)
			*pp = c->next;
		pthread_mutex_unlock(&srv.lock);
		if (!c)
			return;
		pthread_join(c->thread, NULL);
		free(c);
	}
}

static void accept_one(int lfd, bool ws)
{
	struct sockaddr_storage sa, la;
	socklen_t len = sizeof(sa), llen = sizeof(la);
	struct vnc_client *c;
	int fd, one = 1;

	fd = accept4(lfd, (struct sockaddr *)&sa, &len, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->fb.xrgb = true;
	c->con_id = -1;
	c->websocket = ws;
	c->unix_sock = sa.ss_family == AF_UNIX;
	c->ptr_abs_sent = c->leds_sent = -1;
	fmt_addr((struct sockaddr *)&sa, len, c->addr, sizeof(c->addr), c->remote,
		 sizeof(c->remote));
	if (getsockname(fd, (struct sockaddr *)&la, &llen) == 0)
		fmt_addr((struct sockaddr *)&la, llen, c->local, sizeof(c->local), c->local,
			 sizeof(c->local));
	if (!c->unix_sock)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	now(&c->deadline);
	c->deadline.tv_sec += VNC_HANDSHAKE_S;

	pthread_mutex_lock(&srv.lock);
	if (srv.nclients >= srv.opts.max_clients) {
		if (srv.nrefusing >= VNC_MAX_REFUSING) {
			pthread_mutex_unlock(&srv.lock);
			close(fd);
			free(c);
			return;
		}
		c->refuse = true;
	}
	c->io = vnc_io_new(fd);
	if (!c->io || pthread_create(&c->thread, NULL, client_thread, c)) {
		pthread_mutex_unlock(&srv.lock);
		if (c->io)
			vnc_io_free(c->io);
		else
			close(fd);
		free(c);
		return;
	}
	if (c->refuse)
		srv.nrefusing++;
	else
		srv.nclients++;
	c->next = srv.clients;
	srv.clients = c;
	pthread_mutex_unlock(&srv.lock);
	if (!c->refuse)
		fprintf(stderr, "vnc: %s: connected%s\n", c->addr, ws ? " (WebSocket)" : "");
}

/* Drop clients that have not finished the handshake in time. */
static void check_deadlines(void)
{
	struct vnc_client *c;
	struct timespec n;

	now(&n);
	pthread_mutex_lock(&srv.lock);
	for (c = srv.clients; c; c = c->next)
		if (!c->authed && !c->closing &&
		    (n.tv_sec > c->deadline.tv_sec ||
		     (n.tv_sec == c->deadline.tv_sec && n.tv_nsec >= c->deadline.tv_nsec))) {
			c->kicked = "handshake timeout";
			shutdown(c->fd, SHUT_RDWR);
		}
	pthread_mutex_unlock(&srv.lock);
}

static void *accept_thread(void *arg)
{
	struct pollfd p[VNC_MAX_LISTENERS + 1];
	int i, n;

	(void)arg;
	for (;;) {
		for (i = 0; i < srv.nlfd; i++)
			p[i] = (struct pollfd){ .fd = srv.lfd[i], .events = POLLIN };
		p[srv.nlfd] = (struct pollfd){ .fd = srv.stop_pipe[0], .events = POLLIN };
		n = poll(p, srv.nlfd + 1, 500);
		if (p[srv.nlfd].revents)
			break;
		for (i = 0; n > 0 && i < srv.nlfd; i++)
			if (p[i].revents & POLLIN)
				accept_one(p[i].fd, srv.lws[i]);
		check_deadlines();
		reap(false);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Start and stop */

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

static int add_listener(int fd, bool ws, const char *desc)
{
	if (srv.nlfd == VNC_MAX_LISTENERS) {
		close(fd);
		return -1;
	}
	srv.lws[srv.nlfd] = ws;
	snprintf(srv.listening[srv.nlfd], sizeof(srv.listening[0]), "%s", desc);
	srv.lfd[srv.nlfd++] = fd;
	return 0;
}

static int listen_unix(const char *path, char *err, unsigned int errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	char desc[140];
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		seterr(err, errlen, "unix:%s: path too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			seterr(err, errlen, "unix:%s: exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	/* Non-blocking: a connection reset between poll() and accept() must not block. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		seterr(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);	/* mode 0600 */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, VNC_BACKLOG) < 0) {
		umask(old);
		seterr(err, errlen, "unix:%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	snprintf(desc, sizeof(desc), "unix:%s", path);
	return add_listener(fd, false, desc);
}

static int listen_tcp(const char *addr, int port, bool ws, bool need_auth, char *err,
		      unsigned int errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	char ps[16], desc[140], host[96];
	int fd, r, one = 1, got = 0;

	snprintf(ps, sizeof(ps), "%d", port);
	r = getaddrinfo(addr[0] ? addr : NULL, ps, &hints, &res);
	if (r) {
		seterr(err, errlen, "%s: %s", addr, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next)
		if (need_auth && !is_loopback(ai->ai_addr)) {
			seterr(err, errlen, "%s is not loopback: %s", addr,
			       "add password-file=, sasl or tls-creds=DIR,x509verify (or insecure)");
			freeaddrinfo(res);
			return -1;
		}
	for (ai = res; ai; ai = ai->ai_next) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);

		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (got && port == 0) {
			/* The same ephemeral port on every address. */
			if (ai->ai_family == AF_INET)
				((struct sockaddr_in *)ai->ai_addr)->sin_port = htons(got);
			else
				((struct sockaddr_in6 *)ai->ai_addr)->sin6_port = htons(got);
		}
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, VNC_BACKLOG) < 0 ||
		    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
			seterr(err, errlen, "%s:%d: %s", addr, port, strerror(errno));
			close(fd);
			freeaddrinfo(res);
			return -1;
		}
		got = ntohs(sa.ss_family == AF_INET ? ((struct sockaddr_in *)&sa)->sin_port :
			    ((struct sockaddr_in6 *)&sa)->sin6_port);
		fmt_addr((struct sockaddr *)&sa, len, host, sizeof(host), NULL, 0);
		snprintf(desc, sizeof(desc), "%s%s", ws ? "websocket " : "", host);
		if (add_listener(fd, ws, desc) < 0) {
			seterr(err, errlen, "%s: too many addresses", addr);
			freeaddrinfo(res);
			return -1;
		}
	}
	freeaddrinfo(res);
	if (!got) {
		seterr(err, errlen, "%s: no IPv4 or IPv6 address", addr);
		return -1;
	}
	return 0;
}

static int read_password(const char *file, char *err, unsigned int errlen)
{
	FILE *f = fopen(file, "re");
	size_t n;

	if (!f) {
		seterr(err, errlen, "password-file %s: %s", file, strerror(errno));
		return -1;
	}
	if (!fgets(srv.password, sizeof(srv.password), f))
		srv.password[0] = 0;
	fclose(f);
	n = strcspn(srv.password, "\r\n");
	srv.password[n] = 0;
	if (!n) {
		seterr(err, errlen, "password-file %s: the first line is empty", file);
		return -1;
	}
	srv.have_password = true;
	return 0;
}

static void cleanup(void)
{
	int i;

	for (i = 0; i < srv.nlfd; i++)
		close(srv.lfd[i]);
	srv.nlfd = 0;
	if (srv.opts.unix_socket && srv.opts.addr[0]) {
		struct stat st;

		if (lstat(srv.opts.addr, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(srv.opts.addr);
	}
	for (i = 0; i < 2; i++)
		if (srv.stop_pipe[i] >= 0) {
			close(srv.stop_pipe[i]);
			srv.stop_pipe[i] = -1;
		}
	if (srv.tls)
		vnc_tls_free(srv.tls);
	srv.tls = NULL;
	explicit_bzero(srv.password, sizeof(srv.password));
	srv.have_password = false;
}

int vnc_start(const struct vnc_opts *o, char *err, unsigned int errlen)
{
	struct sigaction sa;
	bool need_auth;
	int i;

	if (srv.running) {
		seterr(err, errlen, "already running");
		return -1;
	}
	srv.opts = *o;
	srv.opts.addr[sizeof(srv.opts.addr) - 1] = 0;
	if (srv.opts.max_clients <= 0)
		srv.opts.max_clients = 64;
	srv.nclients = srv.nrefusing = srv.failures = srv.auth_inflight = 0;
	now(&srv.fail_start);
	if (o->password_file[0] && read_password(o->password_file, err, errlen) < 0)
		goto fail;
	if (o->tls_creds[0]) {
		bool anon = !strcmp(o->tls_creds, "anon");

		srv.tls = vnc_tls_new(anon ? NULL : o->tls_creds, o->x509verify, err, errlen);
		if (!srv.tls)
			goto fail;
	}
	if (o->sasl && vnc_sasl_init(err, errlen) < 0)
		goto fail;
	need_auth = !o->insecure && !srv.have_password && !o->sasl &&
		    !(srv.tls && o->x509verify && vnc_tls_is_x509(srv.tls));
	if (o->unix_socket) {
		if (listen_unix(srv.opts.addr, err, errlen) < 0)
			goto fail;
	} else if (listen_tcp(srv.opts.addr, o->port, false, need_auth, err, errlen) < 0) {
		goto fail;
	}
	if (o->ws_port > 0 && !o->unix_socket &&
	    listen_tcp(srv.opts.addr, o->ws_port, true, need_auth, err, errlen) < 0)
		goto fail;
	if (pipe2(srv.stop_pipe, O_CLOEXEC) < 0) {
		seterr(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	/* A client that goes away mid-write must not kill the run. */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	if (pthread_create(&srv.accept_thread, NULL, accept_thread, NULL)) {
		seterr(err, errlen, "cannot start a thread");
		goto fail;
	}
	pthread_mutex_lock(&srv.lock);
	srv.running = true;
	pthread_mutex_unlock(&srv.lock);
	for (i = 0; i < srv.nlfd; i++)
		fprintf(stderr, "vnc: listening on %s\n", srv.listening[i]);
	return 0;
fail:
	cleanup();
	return -1;
}

void vnc_stop(void)
{
	struct vnc_client *c;
	char b = 0;

	if (!srv.running)
		return;
	pthread_mutex_lock(&srv.lock);
	srv.running = false;	/* vnc_describe() says nothing from here on */
	pthread_mutex_unlock(&srv.lock);
	if (write(srv.stop_pipe[1], &b, 1) < 0)
		fprintf(stderr, "vnc: stop: %s\n", strerror(errno));
	pthread_join(srv.accept_thread, NULL);
	pthread_mutex_lock(&srv.lock);
	for (c = srv.clients; c; c = c->next)
		if (!c->closing) {
			c->kicked = "server stopping";
			shutdown(c->fd, SHUT_RDWR);
		}
	pthread_mutex_unlock(&srv.lock);
	reap(true);
	cleanup();
}

void vnc_describe(char *buf, unsigned int len)
{
	struct vnc_client *c;
	unsigned int n = 0;
	int i;

	if (!len)
		return;
	buf[0] = 0;
	pthread_mutex_lock(&srv.lock);
	if (!srv.running) {
		pthread_mutex_unlock(&srv.lock);
		return;
	}
	for (i = 0; i < srv.nlfd && n < len; i++)
		n += snprintf(buf + n, len - n, "vnc: listening on %s\n", srv.listening[i]);
	for (c = srv.clients; c && n < len; c = c->next)
		if (!c->refuse && !c->closing)
			n += snprintf(buf + n, len - n, "vnc: client %s%s\n", c->addr,
				      c->authed ? "" : " (handshake)");
	pthread_mutex_unlock(&srv.lock);
}
