// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of selftests/bench/vncwatch.c, the display benchmark's VNC
 * client: does it find the end of every update exactly?  Updates come from
 * the runner's own encoders (runner/rfb_enc.c, written separately) and
 * from hand-made bytes for the cases those never send; each is parsed
 * from a buffer of exactly its length, so ASan catches a read past it,
 * and must consume every byte, no more; one byte short must fail.
 */
#include <stdlib.h>
#include <string.h>
#include "kselftest_harness.h"
#include "../../runner/rfb.h"
#include "vncwatch.h"

#define FW 200
#define FH 120

static uint8_t pic[FH][FW][3];

/* Text-like rows, a smooth gradient, noise and a flat area: every Tight path. */
static void make_picture(void)
{
	uint32_t x, y, r = 1;

	for (y = 0; y < FH; y++)
		for (x = 0; x < FW; x++) {
			uint8_t *p = pic[y][x];

			r = r * 1103515245u + 12345u;
			if (y < 32) {
				memset(p, ((x * 7 + y * 3) % 11) < 3 ? 0xaa : 0, 3);
			} else if (y < 64) {
				p[0] = x;
				p[1] = y * 2;
				p[2] = x + y;
			} else if (y < 96) {
				p[0] = r >> 8;
				p[1] = r >> 16;
				p[2] = r >> 24;
			} else {
				p[0] = 0x20;
				p[1] = 0x40;
				p[2] = 0x60;
			}
		}
}

/* Parse @len bytes copied into a buffer of exactly that size. */
static int parse(struct vncw *v, const uint8_t *b, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	int r;

	memcpy(copy, b, len);
	memset(&v->in, 0, sizeof(v->in));
	v->in.fd = -1;
	v->in.mem = copy;
	v->in.memlen = len;
	r = vncw_read_message(v);
	free(copy);
	return r;
}

static void init(struct vncw *v)
{
	memset(v, 0, sizeof(*v));
	v->width = FW;
	v->height = FH;
}

/* One update of @nr rectangles tiling the picture, encoded by rfb_enc.c; checked. */
static void check_encoder(struct __test_metadata *_metadata, int32_t enc, int quality, int split)
{
	static const struct rfb_pixfmt pf = {
		.bpp = 32, .depth = 24, .true_colour = true, .red_max = 255, .green_max = 255,
		.blue_max = 255, .red_shift = 16, .green_shift = 8, .blue_shift = 0,
	};
	struct rfb_enc *e = rfb_enc_new();
	struct rfb_buf out = { 0 };
	struct vncw v;
	int n = 0, k, round;

	ASSERT_NE(NULL, e);
	make_picture();
	rfb_enc_set_format(e, &pf);
	rfb_enc_set_tight(e, quality, 2);
	/* two updates: the second reuses the zlib streams the first started */
	for (round = 0; round < 2; round++) {
		rfb_buf_free(&out);
		memset(&out, 0, sizeof(out));
		rfb_buf_u8(&out, 0);
		rfb_buf_u8(&out, 0);
		rfb_buf_u16(&out, 0);	/* the count, below */
		n = 0;
		for (k = 0; k < split; k++) {
			uint32_t y0 = FH * k / split, y1 = FH * (k + 1) / split;
			struct rfb_rect r = { 0, y0, FW, y1 - y0 };
			int got = rfb_enc_rect(e, enc, &pic[0][0][0], FW, FH, &r, &out);

			ASSERT_GT(got, 0);
			n += got;
		}
		ASSERT_FALSE(out.oom);
		out.data[2] = n >> 8;
		out.data[3] = n;
		init(&v);
		ASSERT_EQ(1, parse(&v, out.data, out.len)) TH_LOG("%s", v.err);
		EXPECT_EQ(out.len, v.in.bytes);
		EXPECT_EQ((unsigned int)n, v.rects);
		EXPECT_EQ((unsigned int)n, v.pixel_rects);
		init(&v);
		EXPECT_EQ(-1, parse(&v, out.data, out.len - 1));
	}
	rfb_buf_free(&out);
	rfb_enc_free(e);
}

TEST(raw)
{
	check_encoder(_metadata, 0, -1, 3);
}

TEST(hextile)
{
	check_encoder(_metadata, 5, -1, 4);
}

TEST(zrle)
{
	check_encoder(_metadata, 16, -1, 2);
}

TEST(tight)
{
	check_encoder(_metadata, 7, -1, 4);
}

TEST(tight_jpeg)
{
	check_encoder(_metadata, 7, 8, 4);
}

/* A message under construction. */
struct msg {
	uint8_t b[16384];
	size_t n;
};

static void u8(struct msg *m, uint8_t x)
{
	m->b[m->n++] = x;
}

static void u16(struct msg *m, uint16_t x)
{
	u8(m, x >> 8);
	u8(m, x);
}

static void u32(struct msg *m, uint32_t x)
{
	u16(m, x >> 16);
	u16(m, x);
}

static void fill(struct msg *m, size_t n)
{
	while (n--)
		u8(m, 0x5a);
}

static void hdr(struct msg *m, uint16_t x, uint16_t y, uint16_t w, uint16_t h, int32_t enc)
{
	u16(m, x);
	u16(m, y);
	u16(m, w);
	u16(m, h);
	u32(m, enc);
}

/*
 * Every Tight form by hand: fill, JPEG, mono palette raw (< 12 bytes), palette, copy,
 * gradient, and both sides of the 12-byte threshold.
 */
TEST(tight_forms)
{
	struct msg m = { 0 };
	struct vncw v;
	size_t at;

	u8(&m, 0);
	u8(&m, 0);
	u16(&m, 10);
	hdr(&m, 0, 0, 16, 16, 7);
	u8(&m, 0x80);			/* fill */
	fill(&m, 3);
	hdr(&m, 16, 0, 16, 16, 7);
	u8(&m, 0x90);			/* JPEG, 200 bytes: compact 0xc8 0x01 */
	u8(&m, 0xc8);
	u8(&m, 0x01);
	fill(&m, 200);
	hdr(&m, 32, 0, 8, 8, 7);
	u8(&m, 0x40 | 0x10);		/* stream 1, explicit filter */
	u8(&m, 1);			/* palette */
	u8(&m, 1);			/* of 2 */
	fill(&m, 6);
	fill(&m, 8);			/* 1 bit a pixel: 8 bytes, under 12: no length */
	hdr(&m, 40, 0, 16, 4, 7);
	u8(&m, 0x40 | 0x20);		/* stream 2, palette of 5: 64 bytes, compressed */
	u8(&m, 1);
	u8(&m, 4);
	fill(&m, 15);
	u8(&m, 30);
	fill(&m, 30);
	hdr(&m, 0, 16, 100, 100, 7);
	u8(&m, 0x0f);			/* copy, stream 0, all streams reset */
	u8(&m, 0xa0);			/* 20000 bytes = 0x4e20: 0xa0 0x9c 0x01 */
	u8(&m, 0x9c);
	u8(&m, 0x01);
	at = m.n;			/* its 20000 bytes go here, below */
	hdr(&m, 0, 0, 2, 1, 7);
	u8(&m, 0x40 | 0x30);		/* gradient, 2x1: 6 bytes raw */
	u8(&m, 2);
	fill(&m, 6);
	hdr(&m, 0, 0, 11, 1, 7);
	u8(&m, 0x40);			/* palette of 3, 11x1: 11 bytes, the most sent raw */
	u8(&m, 1);
	u8(&m, 2);
	fill(&m, 9);
	fill(&m, 11);
	hdr(&m, 0, 0, 4, 1, 7);
	u8(&m, 0x00);			/* copy, 4x1: 12 bytes, the least compressed */
	u8(&m, 5);
	fill(&m, 5);
	hdr(&m, 0, 0, 1, 1, -224);	/* LastRect ends it before the 10th */
	init(&v);
	/* the 100x100 copy claims 20000 bytes: give them */
	{
		static uint8_t big[sizeof(m.b) + 20000];

		memcpy(big, m.b, at);
		memset(big + at, 0x33, 20000);
		memcpy(big + at + 20000, m.b + at, m.n - at);
		ASSERT_EQ(1, parse(&v, big, m.n + 20000)) TH_LOG("%s", v.err);
		EXPECT_EQ(m.n + 20000, v.in.bytes);
		EXPECT_EQ(9u, v.rects);
		EXPECT_EQ(8u, v.pixel_rects);
		init(&v);
		EXPECT_EQ(-1, parse(&v, big, m.n + 19999));
	}
}

/* Hextile: raw tile, background + foreground + subrects, coloured subrects, edge tiles. */
TEST(hextile_forms)
{
	struct msg m = { 0 };
	struct vncw v;

	u8(&m, 0);
	u8(&m, 0);
	u16(&m, 1);
	hdr(&m, 0, 0, 40, 16, 5);	/* tiles 16, 16, 8 wide */
	u8(&m, 1);			/* raw 16x16 */
	fill(&m, 16 * 16 * 4);
	u8(&m, 2 | 4 | 8);		/* bg, fg, 3 subrects */
	fill(&m, 8);
	u8(&m, 3);
	fill(&m, 3 * 2);
	u8(&m, 8 | 16);			/* 2 coloured subrects, the 8-wide edge tile */
	u8(&m, 2);
	fill(&m, 2 * 6);
	init(&v);
	ASSERT_EQ(1, parse(&v, m.b, m.n)) TH_LOG("%s", v.err);
	EXPECT_EQ(m.n, v.in.bytes);
	init(&v);
	EXPECT_EQ(-1, parse(&v, m.b, m.n - 1));
	m.b[4 + 12] = 0x20;		/* an unknown subencoding bit */
	init(&v);
	EXPECT_EQ(-1, parse(&v, m.b, m.n));
}

/* Pseudo-rectangles and their payloads; DesktopSize resizes. */
TEST(pseudo)
{
	struct msg m = { 0 };
	struct vncw v;

	u8(&m, 0);
	u8(&m, 0);
	u16(&m, 7);
	hdr(&m, 0, 0, 640, 480, -223);	/* DesktopSize */
	hdr(&m, 0, 0, 640, 480, -308);	/* ExtendedDesktopSize, 2 screens */
	u8(&m, 2);
	fill(&m, 3 + 32);
	hdr(&m, 1, 1, 3, 2, -239);	/* cursor 3x2: 24 + 2 */
	fill(&m, 26);
	hdr(&m, 0, 0, 0, 0, -257);	/* pointer type */
	hdr(&m, 0, 0, 0, 0, -258);	/* ext key */
	hdr(&m, 0, 0, 0, 0, -261);	/* LED */
	u8(&m, 1);
	hdr(&m, 600, 400, 40, 80, 0);	/* raw, inside the new size only */
	fill(&m, 40 * 80 * 4);
	init(&v);
	ASSERT_EQ(1, parse(&v, m.b, m.n)) TH_LOG("%s", v.err);
	EXPECT_EQ(m.n, v.in.bytes);
	EXPECT_EQ(640u, v.width);
	EXPECT_EQ(480u, v.height);
	EXPECT_EQ(1u, v.pixel_rects);
}

/* Rectangles outside the screen, unknown encodings, bad Tight controls: errors. */
TEST(malformed)
{
	struct msg m = { 0 };
	struct vncw v;

	u8(&m, 0);
	u8(&m, 0);
	u16(&m, 1);
	hdr(&m, FW - 10, 0, 11, 1, 0);
	fill(&m, 11 * 4);
	init(&v);
	EXPECT_EQ(-1, parse(&v, m.b, m.n));
	m.n = 4;
	hdr(&m, 0, 0, 1, 1, 99);
	init(&v);
	EXPECT_EQ(-1, parse(&v, m.b, m.n));
	m.n = 4;
	hdr(&m, 0, 0, 1, 1, 7);
	u8(&m, 0xb0);
	init(&v);
	EXPECT_EQ(-1, parse(&v, m.b, m.n));
	m.n = 0;
	u8(&m, 77);			/* unknown server message */
	init(&v);
	EXPECT_EQ(-1, parse(&v, m.b, m.n));
}

/* Other server messages are read whole and are not updates. */
TEST(other_messages)
{
	struct msg m = { 0 };
	struct vncw v;

	u8(&m, 3);			/* ServerCutText "hello" */
	fill(&m, 3);
	u32(&m, 5);
	fill(&m, 5);
	init(&v);
	EXPECT_EQ(0, parse(&v, m.b, m.n));
	EXPECT_EQ(m.n, v.in.bytes);
	m.n = 0;
	u8(&m, 1);			/* SetColourMapEntries, 2 */
	fill(&m, 3);
	u16(&m, 2);
	fill(&m, 12);
	init(&v);
	EXPECT_EQ(0, parse(&v, m.b, m.n));
	EXPECT_EQ(m.n, v.in.bytes);
}

TEST(encoding_names)
{
	EXPECT_EQ(VNCW_RAW, vncw_parse_encoding("raw"));
	EXPECT_EQ(VNCW_TIGHT_JPEG, vncw_parse_encoding("tight-jpeg"));
	EXPECT_EQ(-1, vncw_parse_encoding("jpeg"));
}

TEST_HARNESS_MAIN
