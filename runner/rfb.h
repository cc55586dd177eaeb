/* SPDX-License-Identifier: GPL-2.0 */
/*
 * RFB (RFC 6143) pieces the VNC server is built from, each free of I/O so
 * that it can be unit-tested and fuzzed on the host:
 *   - the client-to-server message parser (rfb_msg.c);
 *   - pixel formats and the encoders: Raw, Hextile, ZRLE and Tight (basic,
 *     fill, JPEG) from the console's 24-bit RGB picture (rfb_enc.c).
 * All multi-byte wire values are big endian.
 */
#ifndef KVL_RUNNER_RFB_H
#define KVL_RUNNER_RFB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Encodings and pseudo-encodings (SetEncodings), as on the wire. */
#define RFB_ENC_RAW		0
#define RFB_ENC_COPYRECT	1
#define RFB_ENC_RRE		2
#define RFB_ENC_HEXTILE		5
#define RFB_ENC_TIGHT		7
#define RFB_ENC_ZRLE		16
#define RFB_ENC_JPEG_Q0		(-32)	/* -32..-23: Tight JPEG quality 0..9 */
#define RFB_ENC_JPEG_Q9		(-23)
#define RFB_ENC_DESKTOP_SIZE	(-223)
#define RFB_ENC_LAST_RECT	(-224)
#define RFB_ENC_CURSOR		(-239)
#define RFB_ENC_COMPRESS_L0	(-256)	/* -256..-247: compression level 0..9 */
#define RFB_ENC_COMPRESS_L9	(-247)
#define RFB_ENC_POINTER_TYPE	(-257)	/* QEMU pointer type change */
#define RFB_ENC_EXT_KEY		(-258)	/* QEMU extended key event */
#define RFB_ENC_LED_STATE	(-261)	/* QEMU LED state */
#define RFB_ENC_EXT_DESKTOP	(-308)	/* ExtendedDesktopSize */

/* Client-to-server message types. */
#define RFB_MSG_SET_PIXEL_FORMAT	0
#define RFB_MSG_SET_ENCODINGS		2
#define RFB_MSG_FB_UPDATE_REQUEST	3
#define RFB_MSG_KEY_EVENT		4
#define RFB_MSG_POINTER_EVENT		5
#define RFB_MSG_CLIENT_CUT_TEXT		6
#define RFB_MSG_SET_DESKTOP_SIZE	251
#define RFB_MSG_QEMU			255
#define RFB_QEMU_EXT_KEY		0	/* subtype of RFB_MSG_QEMU */

/* Server-to-client message types. */
#define RFB_SMSG_FB_UPDATE		0
#define RFB_SMSG_SET_COLOUR_MAP		1
#define RFB_SMSG_BELL			2
#define RFB_SMSG_SERVER_CUT_TEXT	3

/* Limits on what a client may send; larger is malformed. */
#define RFB_MAX_ENCODINGS	65535	/* the wire's u16; duplicates and unknowns ignored */
#define RFB_MAX_CUT_TEXT	(1u << 20)
#define RFB_MAX_SCREENS		16	/* SetDesktopSize screen entries */
/*
 * Longest message the parser may ask for: a ClientCutText of RFB_MAX_CUT_TEXT
 * (longer than SetEncodings with 65535 entries, 4 + 4 * 65535).
 */
#define RFB_MAX_MSG		(8 + RFB_MAX_CUT_TEXT)

struct rfb_pixfmt {
	uint8_t bpp;		/* 8, 16 or 32 */
	uint8_t depth;
	bool big_endian;
	bool true_colour;	/* false: 8 bpp through a colour map the server sends */
	uint16_t red_max, green_max, blue_max;
	uint8_t red_shift, green_shift, blue_shift;
};

/* 16 bytes of the wire's PIXEL_FORMAT to and from the struct. */
void rfb_pixfmt_decode(const uint8_t wire[16], struct rfb_pixfmt *pf);
void rfb_pixfmt_encode(const struct rfb_pixfmt *pf, uint8_t wire[16]);
/*
 * Can the server send in @pf?  bpp 8, 16 or 32; depth 1..bpp; for true
 * colour each max is 2^n - 1 with n >= 1, max << shift fits in bpp bits and
 * the three fields do not overlap; colour-map formats only at 8 bpp.
 * NULL if fine, else a short reason.
 */
const char *rfb_pixfmt_check(const struct rfb_pixfmt *pf);
/* The format the server announces in ServerInit: 32 bpp, depth 24, little endian, xRGB. */
extern const struct rfb_pixfmt rfb_pixfmt_default;

/* One parsed client message.  Pointers point into the parser's input. */
struct rfb_cmsg {
	uint8_t type;			/* RFB_MSG_* */
	union {
		struct rfb_pixfmt pf;	/* SET_PIXEL_FORMAT (checked: rfb_pixfmt_check() passed) */
		struct {
			uint16_t count;
			const uint8_t *list;	/* count big-endian s32 values */
		} enc;			/* SET_ENCODINGS */
		struct {
			bool incremental;
			uint16_t x, y, w, h;
		} update;		/* FB_UPDATE_REQUEST */
		struct {
			bool down;
			uint32_t keysym;
		} key;			/* KEY_EVENT */
		struct {
			uint8_t buttons;	/* 1 left, 2 middle, 4 right, 8 wheel up, 16 down */
			uint16_t x, y;
		} pointer;		/* POINTER_EVENT */
		struct {
			uint32_t len;
			const uint8_t *text;	/* Latin-1, not NUL terminated */
		} cut;			/* CLIENT_CUT_TEXT */
		struct {
			uint16_t w, h;
			uint8_t screens;
		} desktop;		/* SET_DESKTOP_SIZE */
		struct {
			bool down;
			uint32_t keysym;
			uint32_t keycode;	/* XT set 1; E0 keys as 0x80 | code */
		} qkey;			/* QEMU, subtype RFB_QEMU_EXT_KEY */
	};
};

/*
 * Parse the message at the front of @buf (@len bytes available).
 * Returns the message's length (> 0) with @m filled; 0 if more bytes are
 * needed (*need: the total length known so far, never more than
 * RFB_MAX_MSG); -1 if it is malformed (*why: a short reason), after which
 * the connection is to be dropped.  Unknown message types are malformed.
 */
long rfb_parse_cmsg(const uint8_t *buf, size_t len, struct rfb_cmsg *m, size_t *need,
		    const char **why);

/* A growable output buffer; on allocation failure @oom is set and writes are dropped. */
struct rfb_buf {
	uint8_t *data;
	size_t len, cap;
	bool oom;
};
void rfb_buf_reserve(struct rfb_buf *b, size_t extra);
void rfb_buf_put(struct rfb_buf *b, const void *p, size_t n);
void rfb_buf_u8(struct rfb_buf *b, uint8_t v);
void rfb_buf_u16(struct rfb_buf *b, uint16_t v);
void rfb_buf_u32(struct rfb_buf *b, uint32_t v);
void rfb_buf_free(struct rfb_buf *b);

/* Rectangle of the picture to encode, in pixels. */
struct rfb_rect {
	uint32_t x, y, w, h;
};

/* Per-client encoder state (zlib streams persist across updates, as the encodings require). */
struct rfb_enc;
struct rfb_enc *rfb_enc_new(void);
void rfb_enc_free(struct rfb_enc *e);
/* The client's format (checked by the caller) and Tight's JPEG quality (-1: none, 0..9) and compression level (0..9). */
void rfb_enc_set_format(struct rfb_enc *e, const struct rfb_pixfmt *pf);
void rfb_enc_set_tight(struct rfb_enc *e, int jpeg_quality, int compress_level);
/* Is @encoding one rfb_enc_rect() can produce? (Raw, Hextile, ZRLE, Tight) */
bool rfb_enc_supported(int32_t encoding);
/*
 * Append rectangle @r of the picture @rgb (@fw x @fh pixels, 3 bytes a
 * pixel, red first, rows packed) to @out in @encoding, converted to the
 * client's format: one or more complete rectangles, each a 12-byte header
 * (x, y, w, h, encoding) and its data.  Returns how many rectangles were
 * appended, or -1 (@r outside the picture, unsupported encoding, out of
 * memory).
 */
int rfb_enc_rect(struct rfb_enc *e, int32_t encoding, const uint8_t *rgb, uint32_t fw,
		 uint32_t fh, const struct rfb_rect *r, struct rfb_buf *out);
/*
 * The same from a picture of native-endian 0x00RRGGBB words (@fw a row,
 * the top byte zero), as the server keeps it (console.h's con_fb.xrgb).
 */
int rfb_enc_rect_xrgb(struct rfb_enc *e, int32_t encoding, const uint32_t *xrgb, uint32_t fw,
		      uint32_t fh, const struct rfb_rect *r, struct rfb_buf *out);
/* The 3-3-2 colour map sent with SetColourMapEntries to 8-bpp colour-map clients (256 entries of R, G, B in 0..65535). */
void rfb_colour_map_332(uint16_t rgb[256][3]);

#endif
