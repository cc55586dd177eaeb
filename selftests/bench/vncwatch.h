/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vncwatch: the display benchmark's VNC client (selftests/bench/vncwatch.c),
 * linked into bench_display.  A minimal RFB 3.8 viewer that decodes
 * nothing: it parses each update only far enough to find its end, and
 * counts the bytes.
 */
#ifndef KVL_BENCH_VNCWATCH_H
#define KVL_BENCH_VNCWATCH_H

#include <stddef.h>
#include <stdint.h>

enum vncw_enc { VNCW_RAW, VNCW_HEXTILE, VNCW_ZRLE, VNCW_TIGHT, VNCW_TIGHT_JPEG };

struct vncw_buf {
	int fd;			/* the socket; -1 for a memory buffer (tests) */
	const uint8_t *mem;	/* with fd -1: all the server's bytes */
	size_t memlen;
	uint8_t buf[65536];
	size_t pos, len;
	unsigned long long bytes;	/* consumed so far */
	int timeout_ms;
};

struct vncw {
	struct vncw_buf in;
	unsigned int width, height;
	int encoding;		/* the RFB encoding number asked for */
	unsigned int rects;	/* rectangles in the last update, pseudo ones too */
	unsigned int pixel_rects;	/* those that carry pixels */
	char err[256];
};

/* "raw", "hextile", "zrle", "tight", "tight-jpeg" -> enum vncw_enc; -1 if none. */
int vncw_parse_encoding(const char *name);
/*
 * Connect to HOST:PORT (retrying for up to @wait_ms), do the handshake
 * (security None), ask 32 bpp depth 24 little endian and the one encoding
 * (with the compression level @compress 0..9, and for tight-jpeg the JPEG
 * quality @quality 0..9), then read one full non-incremental update.
 * 0, or -1 with a message in v->err.
 */
int vncw_open(struct vncw *v, const char *hostport, enum vncw_enc enc, int compress, int quality,
	      int wait_ms);
/*
 * One incremental FramebufferUpdateRequest for the whole screen and the
 * complete update it brings (asking again while an update carries no
 * pixels).  Returns the bytes received, or -1 with a message in v->err.
 */
long long vncw_frame(struct vncw *v);
void vncw_close(struct vncw *v);

/*
 * Read one server message; for a FramebufferUpdate, parse every rectangle
 * (sets v->rects and v->pixel_rects).  1 for an update, 0 for another
 * message, -1 on an error (v->err).  Exposed for tests over a memory buffer.
 */
int vncw_read_message(struct vncw *v);

#endif
