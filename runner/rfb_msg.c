// SPDX-License-Identifier: GPL-2.0
/*
 * RFB client-to-server message parser (RFC 6143 section 7.5, plus
 * SetDesktopSize from the ExtendedDesktopSize extension and QEMU's extended
 * key event).  Pure function of the bytes given: it never reads past @len,
 * asks for at most RFB_MAX_MSG bytes, and refuses anything it cannot vouch
 * for, so the caller can drop the client.
 *
 * Layouts (all big endian):
 *   0   SetPixelFormat      u8 type, 3 pad, 16 PIXEL_FORMAT            20
 *   2   SetEncodings        u8 type, pad, u16 n, n x s32                4 + 4n
 *   3   FramebufferUpdateRequest u8 type, u8 incr, u16 x, y, w, h       10
 *   4   KeyEvent            u8 type, u8 down, 2 pad, u32 keysym         8
 *   5   PointerEvent        u8 type, u8 mask, u16 x, u16 y              6
 *   6   ClientCutText       u8 type, 3 pad, u32 len, len bytes          8 + len
 *   251 SetDesktopSize      u8 type, pad, u16 w, u16 h, u8 n, pad,
 *                           n x 16 (id, x, y, w, h, flags)              8 + 16n
 *   255 QEMU, subtype 0     u8 type, u8 0, u16 down, u32 keysym, u32 code  12
 */
#include <string.h>

#include "rfb.h"

#define SET_PIXEL_FORMAT_LEN	20
#define SET_ENCODINGS_HDR	4
#define FB_UPDATE_REQUEST_LEN	10
#define KEY_EVENT_LEN		8
#define POINTER_EVENT_LEN	6
#define CUT_TEXT_HDR		8
#define SET_DESKTOP_SIZE_HDR	8
#define SCREEN_LEN		16
#define QEMU_EXT_KEY_LEN	12

/* The top bit of ClientCutText's length announces the extended clipboard. */
#define CUT_TEXT_EXTENDED	0x80000000u

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

long rfb_parse_cmsg(const uint8_t *buf, size_t len, struct rfb_cmsg *m, size_t *need,
		    const char **why)
{
	size_t total;
	uint32_t n;

	*why = NULL;
	if (len < 1) {
		*need = 1;
		return 0;
	}

	switch (buf[0]) {
	case RFB_MSG_SET_PIXEL_FORMAT:
		total = SET_PIXEL_FORMAT_LEN;
		break;
	case RFB_MSG_SET_ENCODINGS:
		total = SET_ENCODINGS_HDR;
		if (len >= SET_ENCODINGS_HDR)
			total += 4 * (size_t)get16(buf + 2);
		break;
	case RFB_MSG_FB_UPDATE_REQUEST:
		total = FB_UPDATE_REQUEST_LEN;
		break;
	case RFB_MSG_KEY_EVENT:
		total = KEY_EVENT_LEN;
		break;
	case RFB_MSG_POINTER_EVENT:
		total = POINTER_EVENT_LEN;
		break;
	case RFB_MSG_CLIENT_CUT_TEXT:
		total = CUT_TEXT_HDR;
		if (len >= CUT_TEXT_HDR) {
			n = get32(buf + 4);
			if (n & CUT_TEXT_EXTENDED) {
				*why = "ClientCutText: extended clipboard not negotiated";
				return -1;
			}
			if (n > RFB_MAX_CUT_TEXT) {
				*why = "ClientCutText: text too long";
				return -1;
			}
			total += n;
		}
		break;
	case RFB_MSG_SET_DESKTOP_SIZE:
		total = SET_DESKTOP_SIZE_HDR;
		if (len >= 7) {
			n = buf[6];
			if (n < 1 || n > RFB_MAX_SCREENS) {
				*why = "SetDesktopSize: bad number of screens";
				return -1;
			}
			total += SCREEN_LEN * n;
		}
		break;
	case RFB_MSG_QEMU:
		total = QEMU_EXT_KEY_LEN;
		if (len >= 2 && buf[1] != RFB_QEMU_EXT_KEY) {
			*why = "QEMU message: unsupported subtype";
			return -1;
		}
		break;
	default:
		*why = "unknown message type";
		return -1;
	}

	if (len < total) {
		*need = total;
		return 0;
	}

	memset(m, 0, sizeof(*m));
	m->type = buf[0];
	switch (buf[0]) {
	case RFB_MSG_SET_PIXEL_FORMAT:
		rfb_pixfmt_decode(buf + 4, &m->pf);
		*why = rfb_pixfmt_check(&m->pf);
		if (*why)
			return -1;
		break;
	case RFB_MSG_SET_ENCODINGS:
		m->enc.count = get16(buf + 2);
		m->enc.list = buf + SET_ENCODINGS_HDR;
		break;
	case RFB_MSG_FB_UPDATE_REQUEST:
		m->update.incremental = buf[1] != 0;
		m->update.x = get16(buf + 2);
		m->update.y = get16(buf + 4);
		m->update.w = get16(buf + 6);
		m->update.h = get16(buf + 8);
		break;
	case RFB_MSG_KEY_EVENT:
		m->key.down = buf[1] != 0;
		m->key.keysym = get32(buf + 4);
		break;
	case RFB_MSG_POINTER_EVENT:
		m->pointer.buttons = buf[1];
		m->pointer.x = get16(buf + 2);
		m->pointer.y = get16(buf + 4);
		break;
	case RFB_MSG_CLIENT_CUT_TEXT:
		m->cut.len = get32(buf + 4);
		m->cut.text = buf + CUT_TEXT_HDR;
		break;
	case RFB_MSG_SET_DESKTOP_SIZE:
		m->desktop.w = get16(buf + 2);
		m->desktop.h = get16(buf + 4);
		m->desktop.screens = buf[6];
		break;
	case RFB_MSG_QEMU:
		m->qkey.down = get16(buf + 2) != 0;
		m->qkey.keysym = get32(buf + 4);
		m->qkey.keycode = get32(buf + 8);
		break;
	}
	return (long)total;
}
