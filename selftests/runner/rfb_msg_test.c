// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of runner/rfb_msg.c: the RFB client-to-server message
 * parser.  Every message is also fed one byte at a time from buffers of
 * exactly the length given, so ASan catches any read past @len.
 */
#include <stdlib.h>
#include "kselftest_harness.h"
#include "../../runner/rfb.h"

/* A message under construction. */
struct msg {
	uint8_t b[300];
	size_t n;
};

static void u8(struct msg *m, uint8_t v)
{
	m->b[m->n++] = v;
}

static void u16(struct msg *m, uint16_t v)
{
	u8(m, v >> 8);
	u8(m, v & 0xff);
}

static void u32(struct msg *m, uint32_t v)
{
	u16(m, v >> 16);
	u16(m, v & 0xffff);
}

/* Parse @len bytes copied into a buffer of exactly that size. */
static long parse_exact(const uint8_t *p, size_t len, struct rfb_cmsg *m, size_t *need,
			const char **why)
{
	uint8_t *copy = malloc(len ? len : 1);
	long rc;

	if (!copy)
		abort();
	memcpy(copy, p, len);
	rc = rfb_parse_cmsg(copy, len, m, need, why);
	free(copy);
	return rc;
}

/*
 * Feed prefixes 0..len-1: each needs more, with *need growing, above what
 * was given and never above the message.  Then all of it (and all of it
 * with more bytes behind): complete.  Returns the parse of the whole.
 */
static long feed(struct __test_metadata *_metadata, const uint8_t *p, size_t len,
		 struct rfb_cmsg *m)
{
	size_t need, last = 0, i;
	const char *why;
	uint8_t *more;
	long rc;

	for (i = 0; i < len; i++) {
		need = (size_t)-1;
		rc = parse_exact(p, i, m, &need, &why);
		if (rc != 0) {
			TH_LOG("prefix %zu of %zu: %ld (%s)", i, len, rc, rc < 0 ? why : "");
			EXPECT_EQ(0, rc);
			return -2;
		}
		EXPECT_GT(need, i);
		EXPECT_LE(need, len);
		EXPECT_LE(need, RFB_MAX_MSG);
		EXPECT_GE(need, last);
		last = need;
	}
	more = malloc(len + 7);
	ASSERT_NE(NULL, more);
	memcpy(more, p, len);
	memset(more + len, 0xee, 7);
	rc = rfb_parse_cmsg(more, len + 7, m, &need, &why);
	free(more);
	EXPECT_EQ((long)len, rc);
	/* Last on @p itself: pointers in @m must stay valid for the caller. */
	return rfb_parse_cmsg(p, len, m, &need, &why);
}

/* The parse of a message that must be refused once @at bytes of it are there. */
static void refused(struct __test_metadata *_metadata, const uint8_t *p, size_t len, size_t at,
		    const char *reason)
{
	struct rfb_cmsg m;
	const char *why;
	size_t need, i;

	for (i = 0; i < at; i++)
		EXPECT_EQ(0, parse_exact(p, i, &m, &need, &why)) TH_LOG("prefix %zu", i);
	for (i = at; i <= len; i++) {
		why = NULL;
		EXPECT_EQ(-1, parse_exact(p, i, &m, &need, &why)) TH_LOG("prefix %zu", i);
		ASSERT_NE(NULL, why);
		EXPECT_NE(NULL, strstr(why, reason)) TH_LOG("why: %s", why);
	}
}

static void pixfmt_msg(struct msg *m, uint8_t bpp, uint8_t depth, uint8_t be, uint8_t tc,
		       uint16_t rmax, uint16_t gmax, uint16_t bmax, uint8_t rs, uint8_t gs,
		       uint8_t bs)
{
	m->n = 0;
	u8(m, RFB_MSG_SET_PIXEL_FORMAT);
	u8(m, 0xaa);		/* padding: ignored */
	u16(m, 0x5555);
	u8(m, bpp);
	u8(m, depth);
	u8(m, be);
	u8(m, tc);
	u16(m, rmax);
	u16(m, gmax);
	u16(m, bmax);
	u8(m, rs);
	u8(m, gs);
	u8(m, bs);
	u8(m, 1);
	u16(m, 2);
}

TEST(empty_needs_one)
{
	struct rfb_cmsg m;
	const char *why = "x";
	size_t need = 0;

	EXPECT_EQ(0, rfb_parse_cmsg(NULL, 0, &m, &need, &why));
	EXPECT_EQ(1, need);
}

TEST(set_pixel_format)
{
	struct rfb_cmsg m;
	struct msg w;

	/* noVNC: 32 bpp little endian, red at shift 0. */
	pixfmt_msg(&w, 32, 24, 0, 1, 255, 255, 255, 0, 8, 16);
	ASSERT_EQ(20, w.n);
	ASSERT_EQ(20, feed(_metadata, w.b, w.n, &m));
	EXPECT_EQ(RFB_MSG_SET_PIXEL_FORMAT, m.type);
	EXPECT_EQ(32, m.pf.bpp);
	EXPECT_EQ(24, m.pf.depth);
	EXPECT_FALSE(m.pf.big_endian);
	EXPECT_TRUE(m.pf.true_colour);
	EXPECT_EQ(255, m.pf.red_max);
	EXPECT_EQ(255, m.pf.green_max);
	EXPECT_EQ(255, m.pf.blue_max);
	EXPECT_EQ(0, m.pf.red_shift);
	EXPECT_EQ(8, m.pf.green_shift);
	EXPECT_EQ(16, m.pf.blue_shift);

	/* RGB565 big endian. */
	pixfmt_msg(&w, 16, 16, 1, 1, 31, 63, 31, 11, 5, 0);
	ASSERT_EQ(20, feed(_metadata, w.b, w.n, &m));
	EXPECT_EQ(16, m.pf.bpp);
	EXPECT_TRUE(m.pf.big_endian);
	EXPECT_EQ(63, m.pf.green_max);
	EXPECT_EQ(11, m.pf.red_shift);

	/* 8 bpp: BGR233 true colour and colour-mapped. */
	pixfmt_msg(&w, 8, 8, 0, 1, 7, 7, 3, 0, 3, 6);
	ASSERT_EQ(20, feed(_metadata, w.b, w.n, &m));
	EXPECT_EQ(8, m.pf.bpp);
	EXPECT_EQ(3, m.pf.blue_max);
	pixfmt_msg(&w, 8, 8, 0, 0, 0, 0, 0, 0, 0, 0);
	ASSERT_EQ(20, feed(_metadata, w.b, w.n, &m));
	EXPECT_FALSE(m.pf.true_colour);
}

TEST(set_pixel_format_refused)
{
	static const struct {
		uint8_t bpp, depth, tc;
		uint16_t rmax, gmax, bmax;
		uint8_t rs, gs, bs;
	} bad[] = {
		{ 24, 24, 1, 255, 255, 255, 16, 8, 0 },		/* 24 bpp */
		{ 0, 0, 1, 255, 255, 255, 16, 8, 0 },
		{ 12, 12, 1, 15, 15, 15, 8, 4, 0 },
		{ 32, 0, 1, 255, 255, 255, 16, 8, 0 },		/* depth 0 */
		{ 16, 24, 1, 31, 63, 31, 11, 5, 0 },		/* depth > bpp */
		{ 32, 24, 1, 254, 255, 255, 16, 8, 0 },		/* max not 2^n - 1 */
		{ 32, 24, 1, 0, 255, 255, 16, 8, 0 },		/* max 0 */
		{ 16, 16, 1, 31, 63, 31, 12, 5, 0 },		/* red beyond 16 bits */
		{ 32, 24, 1, 255, 255, 255, 200, 8, 0 },	/* huge shift */
		{ 32, 24, 1, 255, 255, 255, 8, 8, 0 },		/* red over green */
		{ 16, 16, 1, 31, 63, 31, 11, 4, 0 },		/* green over red */
		{ 16, 16, 0, 0, 0, 0, 0, 0, 0 },		/* colour map at 16 bpp */
		{ 32, 24, 0, 255, 255, 255, 16, 8, 0 },		/* colour map at 32 bpp */
	};
	struct msg w;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct rfb_cmsg m;
		const char *why = NULL;
		size_t need;

		pixfmt_msg(&w, bad[i].bpp, bad[i].depth, 0, bad[i].tc, bad[i].rmax, bad[i].gmax,
			   bad[i].bmax, bad[i].rs, bad[i].gs, bad[i].bs);
		EXPECT_EQ(0, parse_exact(w.b, 19, &m, &need, &why));
		EXPECT_EQ(20, need);
		EXPECT_EQ(-1, parse_exact(w.b, 20, &m, &need, &why)) TH_LOG("case %zu", i);
		EXPECT_NE(NULL, why) TH_LOG("case %zu", i);
	}
}

TEST(set_encodings)
{
	struct rfb_cmsg m;
	struct msg w = { .n = 0 };
	static const int32_t list[] = { RFB_ENC_TIGHT, RFB_ENC_ZRLE, RFB_ENC_RAW,
					RFB_ENC_JPEG_Q0 + 6, RFB_ENC_EXT_DESKTOP, 0x7fffffff };
	size_t i;

	u8(&w, RFB_MSG_SET_ENCODINGS);
	u8(&w, 0xff);
	u16(&w, ARRAY_SIZE(list));
	for (i = 0; i < ARRAY_SIZE(list); i++)
		u32(&w, (uint32_t)list[i]);
	ASSERT_EQ(4 + 4 * ARRAY_SIZE(list), feed(_metadata, w.b, w.n, &m));
	EXPECT_EQ(RFB_MSG_SET_ENCODINGS, m.type);
	ASSERT_EQ(ARRAY_SIZE(list), m.enc.count);
	EXPECT_EQ(w.b + 4, m.enc.list);
	/* The list points into the parser's input. */
	for (i = 0; i < ARRAY_SIZE(list); i++) {
		const uint8_t *p = m.enc.list + 4 * i;
		int32_t v = (int32_t)((uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]);

		EXPECT_EQ(list[i], v);
	}

	/* No encodings at all: allowed (Raw only). */
	w.n = 0;
	u8(&w, RFB_MSG_SET_ENCODINGS);
	u8(&w, 0);
	u16(&w, 0);
	ASSERT_EQ(4, feed(_metadata, w.b, w.n, &m));
	EXPECT_EQ(0, m.enc.count);
}

TEST(set_encodings_max)
{
	size_t len = 4 + 4 * 65535, need = 0;
	uint8_t *p = calloc(1, len);
	struct rfb_cmsg m;
	const char *why;

	ASSERT_NE(NULL, p);
	p[0] = RFB_MSG_SET_ENCODINGS;
	p[2] = 0xff;
	p[3] = 0xff;
	EXPECT_EQ(0, parse_exact(p, 4, &m, &need, &why));
	EXPECT_EQ(len, need);
	EXPECT_LE(need, RFB_MAX_MSG);
	EXPECT_EQ(0, parse_exact(p, len - 1, &m, &need, &why));
	EXPECT_EQ((long)len, parse_exact(p, len, &m, &need, &why));
	EXPECT_EQ(65535, m.enc.count);
	free(p);
}

TEST(fb_update_request)
{
	struct rfb_cmsg m;
	struct msg w = { .n = 0 };

	u8(&w, RFB_MSG_FB_UPDATE_REQUEST);
	u8(&w, 1);
	u16(&w, 10);
	u16(&w, 0x1234);
	u16(&w, 0xffff);
	u16(&w, 768);
	ASSERT_EQ(10, feed(_metadata, w.b, w.n, &m));
	EXPECT_EQ(RFB_MSG_FB_UPDATE_REQUEST, m.type);
	EXPECT_TRUE(m.update.incremental);
	EXPECT_EQ(10, m.update.x);
	EXPECT_EQ(0x1234, m.update.y);
	EXPECT_EQ(0xffff, m.update.w);
	EXPECT_EQ(768, m.update.h);
	w.b[1] = 0;
	ASSERT_EQ(10, feed(_metadata, w.b, w.n, &m));
	EXPECT_FALSE(m.update.incremental);
	w.b[1] = 0x80;	/* any non-zero byte is true */
	ASSERT_EQ(10, feed(_metadata, w.b, w.n, &m));
	EXPECT_TRUE(m.update.incremental);
}

TEST(key_event)
{
	struct rfb_cmsg m;
	struct msg w = { .n = 0 };

	u8(&w, RFB_MSG_KEY_EVENT);
	u8(&w, 1);
	u16(&w, 0xdead);	/* padding */
	u32(&w, 0xffe1);	/* Shift_L */
	ASSERT_EQ(8, feed(_metadata, w.b, w.n, &m));
	EXPECT_EQ(RFB_MSG_KEY_EVENT, m.type);
	EXPECT_TRUE(m.key.down);
	EXPECT_EQ(0xffe1, m.key.keysym);
	w.b[1] = 0;
	w.b[4] = 0x01;
	ASSERT_EQ(8, feed(_metadata, w.b, w.n, &m));
	EXPECT_FALSE(m.key.down);
	EXPECT_EQ(0x0100ffe1, m.key.keysym);
}

TEST(pointer_event)
{
	struct rfb_cmsg m;
	struct msg w = { .n = 0 };

	u8(&w, RFB_MSG_POINTER_EVENT);
	u8(&w, 1 | 4 | 16);
	u16(&w, 1023);
	u16(&w, 0x8001);
	ASSERT_EQ(6, feed(_metadata, w.b, w.n, &m));
	EXPECT_EQ(RFB_MSG_POINTER_EVENT, m.type);
	EXPECT_EQ(21, m.pointer.buttons);
	EXPECT_EQ(1023, m.pointer.x);
	EXPECT_EQ(0x8001, m.pointer.y);
}

TEST(client_cut_text)
{
	struct rfb_cmsg m;
	struct msg w = { .n = 0 };
	size_t len = 8 + RFB_MAX_CUT_TEXT, need;
	const char *why;
	uint8_t *p;

	u8(&w, RFB_MSG_CLIENT_CUT_TEXT);
	u8(&w, 1);
	u16(&w, 2);
	u32(&w, 5);
	memcpy(w.b + w.n, "h\xe9llo", 5);
	w.n += 5;
	ASSERT_EQ(13, feed(_metadata, w.b, w.n, &m));
	EXPECT_EQ(RFB_MSG_CLIENT_CUT_TEXT, m.type);
	ASSERT_EQ(5, m.cut.len);
	EXPECT_EQ(w.b + 8, m.cut.text);
	EXPECT_EQ(0, memcmp(m.cut.text, "h\xe9llo", 5));

	w.n = 4;
	u32(&w, 0);
	ASSERT_EQ(8, feed(_metadata, w.b, w.n, &m));
	EXPECT_EQ(0, m.cut.len);

	/* The longest allowed: exactly RFB_MAX_CUT_TEXT. */
	p = calloc(1, len);
	ASSERT_NE(NULL, p);
	memcpy(p, w.b, 4);
	p[5] = RFB_MAX_CUT_TEXT >> 16;
	EXPECT_EQ(0, parse_exact(p, 8, &m, &need, &why));
	EXPECT_EQ(len, need);
	EXPECT_LE(need, RFB_MAX_MSG);
	EXPECT_EQ(0, rfb_parse_cmsg(p, len - 1, &m, &need, &why));
	EXPECT_EQ((long)len, rfb_parse_cmsg(p, len, &m, &need, &why));
	EXPECT_EQ(RFB_MAX_CUT_TEXT, m.cut.len);
	free(p);
}

TEST(client_cut_text_refused)
{
	struct msg w = { .n = 0 };

	/* One byte too long: refused from the length alone. */
	u8(&w, RFB_MSG_CLIENT_CUT_TEXT);
	u8(&w, 0);
	u16(&w, 0);
	u32(&w, RFB_MAX_CUT_TEXT + 1);
	refused(_metadata, w.b, w.n + 20, 8, "too long");
	w.n = 4;
	u32(&w, 0xffffffff);
	refused(_metadata, w.b, w.n, 8, "extended");
	/* Extended clipboard (negative length) is not negotiated: refused. */
	w.n = 4;
	u32(&w, 0x80000004);
	memcpy(w.b + w.n, "\x00\x00\x00\x01", 4);
	refused(_metadata, w.b, w.n + 4, 8, "extended");
}

TEST(set_desktop_size)
{
	struct rfb_cmsg m;
	struct msg w = { .n = 0 };
	int i, n;

	for (n = 1; n <= RFB_MAX_SCREENS; n += RFB_MAX_SCREENS - 1) {
		w.n = 0;
		u8(&w, RFB_MSG_SET_DESKTOP_SIZE);
		u8(&w, 0);
		u16(&w, 1280);
		u16(&w, 800);
		u8(&w, n);
		u8(&w, 0);
		for (i = 0; i < n; i++) {
			u32(&w, i);		/* id */
			u16(&w, 0);		/* x, y, w, h */
			u16(&w, 0);
			u16(&w, 1280);
			u16(&w, 800);
			u32(&w, 0);		/* flags */
		}
		ASSERT_EQ(8 + 16 * n, feed(_metadata, w.b, w.n, &m));
		EXPECT_EQ(RFB_MSG_SET_DESKTOP_SIZE, m.type);
		EXPECT_EQ(1280, m.desktop.w);
		EXPECT_EQ(800, m.desktop.h);
		EXPECT_EQ(n, m.desktop.screens);
	}
}

TEST(set_desktop_size_refused)
{
	struct msg w = { .n = 0 };

	u8(&w, RFB_MSG_SET_DESKTOP_SIZE);
	u8(&w, 0);
	u16(&w, 640);
	u16(&w, 480);
	u8(&w, 0);
	u8(&w, 0);
	refused(_metadata, w.b, w.n + 16, 7, "screens");
	w.b[6] = RFB_MAX_SCREENS + 1;
	refused(_metadata, w.b, w.n + 16, 7, "screens");
	w.b[6] = 255;
	refused(_metadata, w.b, w.n, 7, "screens");
}

TEST(qemu_ext_key)
{
	struct rfb_cmsg m;
	struct msg w = { .n = 0 };

	u8(&w, RFB_MSG_QEMU);
	u8(&w, RFB_QEMU_EXT_KEY);
	u16(&w, 1);
	u32(&w, 0x40);		/* '@' */
	u32(&w, 0x03);		/* XT code of the 2 key */
	ASSERT_EQ(12, feed(_metadata, w.b, w.n, &m));
	EXPECT_EQ(RFB_MSG_QEMU, m.type);
	EXPECT_TRUE(m.qkey.down);
	EXPECT_EQ(0x40, m.qkey.keysym);
	EXPECT_EQ(0x03, m.qkey.keycode);

	w.n = 2;
	u16(&w, 0);
	u32(&w, 0);
	u32(&w, 0x80 | 0x48);	/* E0 48: Up */
	ASSERT_EQ(12, feed(_metadata, w.b, w.n, &m));
	EXPECT_FALSE(m.qkey.down);
	EXPECT_EQ(0, m.qkey.keysym);
	EXPECT_EQ(0xc8, m.qkey.keycode);
	w.b[2] = 0x01;		/* down is any non-zero u16 */
	ASSERT_EQ(12, feed(_metadata, w.b, w.n, &m));
	EXPECT_TRUE(m.qkey.down);
}

TEST(qemu_other_subtypes_refused)
{
	struct msg w = { .n = 0 };
	int sub;

	u8(&w, RFB_MSG_QEMU);
	u8(&w, 1);		/* audio */
	u16(&w, 0);
	u32(&w, 0);
	u32(&w, 0);
	for (sub = 1; sub < 256; sub += 17) {
		w.b[1] = sub;
		refused(_metadata, w.b, w.n, 2, "subtype");
	}
}

TEST(unknown_types_refused)
{
	static const uint8_t known[] = { 0, 2, 3, 4, 5, 6, 251, 255 };
	uint8_t b[32] = { 0 };
	int t;

	for (t = 0; t < 256; t++) {
		if (memchr(known, t, sizeof(known)))
			continue;
		b[0] = t;
		refused(_metadata, b, sizeof(b), 1, "unknown");
	}
}

TEST(stream_of_messages)
{
	struct rfb_cmsg m;
	struct msg w = { .n = 0 };
	const char *why;
	size_t off = 0, need;
	static const uint8_t types[] = { RFB_MSG_SET_ENCODINGS, RFB_MSG_FB_UPDATE_REQUEST,
					 RFB_MSG_KEY_EVENT, RFB_MSG_POINTER_EVENT,
					 RFB_MSG_CLIENT_CUT_TEXT, RFB_MSG_QEMU };
	long rc;
	int i = 0;

	u8(&w, RFB_MSG_SET_ENCODINGS);
	u8(&w, 0);
	u16(&w, 1);
	u32(&w, RFB_ENC_HEXTILE);
	u8(&w, RFB_MSG_FB_UPDATE_REQUEST);
	u8(&w, 0);
	u16(&w, 0);
	u16(&w, 0);
	u16(&w, 640);
	u16(&w, 480);
	u8(&w, RFB_MSG_KEY_EVENT);
	u8(&w, 1);
	u16(&w, 0);
	u32(&w, 'a');
	u8(&w, RFB_MSG_POINTER_EVENT);
	u8(&w, 2);
	u16(&w, 3);
	u16(&w, 4);
	u8(&w, RFB_MSG_CLIENT_CUT_TEXT);
	u8(&w, 0);
	u16(&w, 0);
	u32(&w, 2);
	u16(&w, 0x4142);
	u8(&w, RFB_MSG_QEMU);
	u8(&w, 0);
	u16(&w, 1);
	u32(&w, 'b');
	u32(&w, 0x30);

	while (off < w.n) {
		rc = rfb_parse_cmsg(w.b + off, w.n - off, &m, &need, &why);
		ASSERT_GT(rc, 0);
		ASSERT_LT(i, (int)sizeof(types));
		EXPECT_EQ(types[i], m.type);
		off += rc;
		i++;
	}
	EXPECT_EQ(w.n, off);
	EXPECT_EQ((int)sizeof(types), i);
	EXPECT_EQ(2, m.qkey.down + (m.qkey.keycode == 0x30));
}

TEST_HARNESS_MAIN
