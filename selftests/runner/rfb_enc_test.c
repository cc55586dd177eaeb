// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of runner/rfb_enc.c: pixel formats and the Raw, Hextile,
 * ZRLE and Tight encoders.  Each encoding is decoded back by a decoder
 * written here from RFC 6143 and the Tight protocol description (not from
 * the encoder), and compared pixel for pixel (JPEG: by mean error) with the
 * picture converted by the rule the encoder documents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "../../runner/rfb.h"
#include "rfb_dec.h"

/* ---- pictures and formats ---------------------------------------------- */

static uint32_t rng = 12345;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

enum pic { PIC_RANDOM, PIC_SOLID, PIC_FEW, PIC_GRADIENT, PIC_TEXT, PIC_COUNT };

static uint8_t *picture(enum pic kind, uint32_t w, uint32_t h)
{
	uint8_t *p = malloc((size_t)w * h * 3 + 1), *q;
	static const uint8_t few[5][3] = {
		{ 0, 0, 0 }, { 255, 255, 255 }, { 200, 30, 40 }, { 10, 220, 90 }, { 0, 0, 170 },
	};
	uint32_t x, y;

	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			q = p + ((size_t)y * w + x) * 3;
			switch (kind) {
			case PIC_RANDOM:
				q[0] = rnd();
				q[1] = rnd();
				q[2] = rnd();
				break;
			case PIC_SOLID:
				q[0] = 0x12;
				q[1] = 0x9a;
				q[2] = 0xfe;
				break;
			case PIC_FEW:
				memcpy(q, few[(x / 7 + y / 5 + (x * y) % 3) % 5], 3);
				break;
			case PIC_GRADIENT:
				q[0] = x * 255 / (w > 1 ? w - 1 : 1);
				q[1] = y * 255 / (h > 1 ? h - 1 : 1);
				q[2] = (x + y) & 255;
				break;
			default: {
				/* 8x16 "glyphs" of pseudo-random strokes on blue, a status line */
				uint32_t cell = (x / 8) * 31 + (y / 16) * 17;
				bool ink = ((cell * 2654435761u) >> (((x % 8) + (y % 16)) % 29)) & 1;

				if (y / 16 == 0) {
					q[0] = 170; q[1] = 170; q[2] = 170;
				} else if (ink && (x % 8) < 7 && (y % 16) > 2 && (y % 16) < 14) {
					q[0] = 255; q[1] = 255; q[2] = 85;
				} else {
					q[0] = 0; q[1] = 0; q[2] = 170;
				}
			}
			}
		}
	}
	return p;
}

static struct rfb_pixfmt fmt_tc(uint8_t bpp, uint8_t depth, bool be, uint16_t rm, uint16_t gm,
				uint16_t bm, uint8_t rs, uint8_t gs, uint8_t bs)
{
	struct rfb_pixfmt f = {
		.bpp = bpp, .depth = depth, .big_endian = be, .true_colour = true,
		.red_max = rm, .green_max = gm, .blue_max = bm,
		.red_shift = rs, .green_shift = gs, .blue_shift = bs,
	};
	return f;
}

static const struct {
	const char *name;
	struct rfb_pixfmt pf;
} formats[] = {
	{ "32le-xrgb", { 32, 24, false, true, 255, 255, 255, 16, 8, 0 } },
	{ "32be-xrgb", { 32, 24, true, true, 255, 255, 255, 16, 8, 0 } },
	{ "32le-xbgr", { 32, 24, false, true, 255, 255, 255, 0, 8, 16 } },
	{ "32le-rgbx", { 32, 24, false, true, 255, 255, 255, 24, 16, 8 } },
	{ "32be-rgbx", { 32, 24, true, true, 255, 255, 255, 24, 16, 8 } },
	{ "32le-30bit", { 32, 30, false, true, 1023, 1023, 1023, 20, 10, 0 } },
	{ "16le-565", { 16, 16, false, true, 31, 63, 31, 11, 5, 0 } },
	{ "16be-565", { 16, 16, true, true, 31, 63, 31, 11, 5, 0 } },
	{ "16le-555", { 16, 15, false, true, 31, 31, 31, 10, 5, 0 } },
	{ "16be-555", { 16, 15, true, true, 31, 31, 31, 10, 5, 0 } },
	{ "8-332", { 8, 8, false, true, 7, 7, 3, 5, 2, 0 } },
	{ "8-bgr233", { 8, 8, false, true, 7, 7, 3, 0, 3, 6 } },
	{ "8-colourmap", { 8, 8, false, false, 0, 0, 0, 0, 0, 0 } },
};
#define NFMT (sizeof(formats) / sizeof(formats[0]))

/* Round trips through rfb_enc_rect_xrgb() (the picture as 0x00RRGGBB words) instead. */
static bool use_xrgb;

/* Encode @r of @rgb, decode, and check the area; returns a reason or NULL. */
static const char *round_trip(struct rfb_enc *e, struct dec *d, int32_t enc, const uint8_t *rgb,
			      const struct rfb_rect *r, size_t *bytes)
{
	static char why[256];
	struct rfb_buf out = { 0 };
	uint32_t i, j;
	int n;

	if (use_xrgb) {
		size_t k, np = (size_t)d->fw * d->fh;
		uint32_t *x = malloc(np * 4 + 4);

		if (!x)
			return "out of memory";
		for (k = 0; k < np; k++)
			x[k] = rgb[k * 3] << 16 | rgb[k * 3 + 1] << 8 | rgb[k * 3 + 2];
		n = rfb_enc_rect_xrgb(e, enc, x, d->fw, d->fh, r, &out);
		free(x);
	} else {
		n = rfb_enc_rect(e, enc, rgb, d->fw, d->fh, r, &out);
	}
	if (n < 1) {
		rfb_buf_free(&out);
		return "rfb_enc_rect failed";
	}
	if (bytes)
		*bytes = out.len;
	d->err[0] = 0;
	if (decode(d, out.data, out.len, n)) {
		snprintf(why, sizeof(why), "decode: %s", d->err);
		rfb_buf_free(&out);
		return why;
	}
	rfb_buf_free(&out);
	for (j = r->y; j < r->y + r->h; j++)
		for (i = r->x; i < r->x + r->w; i++) {
			const uint8_t *c = rgb + ((size_t)j * d->fw + i) * 3;
			uint32_t want = expect_px(&d->pf, c), got = d->fb[(size_t)j * d->fw + i];

			if (d->is_jpeg[(size_t)j * d->fw + i])
				continue;
			if (got != want) {
				snprintf(why, sizeof(why), "pixel %u,%u: %#x, want %#x", i, j, got,
					 want);
				return why;
			}
		}
	return NULL;
}

static const int32_t encodings[] = { RFB_ENC_RAW, RFB_ENC_HEXTILE, RFB_ENC_ZRLE, RFB_ENC_TIGHT };

/* Every encoding x format x picture, several updates through one encoder each. */
static void all_round_trips(struct __test_metadata *_metadata, uint32_t fw, uint32_t fh)
{
	uint8_t *pics[PIC_COUNT];
	unsigned int f, k, p;

	for (p = 0; p < PIC_COUNT; p++)
		pics[p] = picture(p, fw, fh);
	for (k = 0; k < 4; k++) {
		for (f = 0; f < NFMT; f++) {
			struct rfb_enc *e = rfb_enc_new();
			struct dec d;

			ASSERT_NE(NULL, e);
			rfb_enc_set_format(e, &formats[f].pf);
			dec_init(&d, &formats[f].pf, fw, fh);
			for (p = 0; p < PIC_COUNT; p++) {
				struct rfb_rect full = { 0, 0, fw, fh };
				struct rfb_rect part = { fw / 3, fh / 4, fw - fw / 3 - fw / 5,
							 fh - fh / 4 };
				const char *why;

				why = round_trip(e, &d, encodings[k], pics[p], &full, NULL);
				if (why)
					TH_LOG("enc %d fmt %s pic %u %ux%u: %s", encodings[k],
					       formats[f].name, p, fw, fh, why);
				ASSERT_EQ(NULL, why);
				if (!part.w || !part.h)
					continue;
				/* a later update of part of it, other picture */
				why = round_trip(e, &d, encodings[k], pics[(p + 1) % PIC_COUNT],
						 &part, NULL);
				if (why)
					TH_LOG("enc %d fmt %s pic %u part: %s", encodings[k],
					       formats[f].name, p, why);
				ASSERT_EQ(NULL, why);
			}
			dec_free(&d);
			rfb_enc_free(e);
		}
	}
	for (p = 0; p < PIC_COUNT; p++)
		free(pics[p]);
}

TEST(round_trip_1x1)
{
	all_round_trips(_metadata, 1, 1);
}

TEST(round_trip_17x33)
{
	all_round_trips(_metadata, 17, 33);
}

TEST(round_trip_100x70)
{
	all_round_trips(_metadata, 100, 70);
}

TEST(round_trip_2049_wide)
{
	all_round_trips(_metadata, 2049, 40);
}

/* The same from 0x00RRGGBB words, the parts read in place (row stride > width) for xRGB clients. */
TEST(round_trip_xrgb)
{
	use_xrgb = true;
	all_round_trips(_metadata, 100, 70);
	all_round_trips(_metadata, 2049, 3);
	use_xrgb = false;
}

TEST(tight_jpeg_xrgb)
{
	uint32_t fw = 300, fh = 200;
	uint8_t *pic = picture(PIC_GRADIENT, fw, fh);
	struct rfb_enc *e = rfb_enc_new();
	struct rfb_rect part = { 20, 10, 260, 170 };
	double sum = 0;
	uint32_t i, j;
	struct dec d;

	use_xrgb = true;
	rfb_enc_set_tight(e, 8, 2);
	dec_init(&d, &rfb_pixfmt_default, fw, fh);
	ASSERT_EQ(NULL, round_trip(e, &d, RFB_ENC_TIGHT, pic, &part, NULL));
	EXPECT_EQ(d.rects, d.jpeg_rects);
	EXPECT_LT(0, d.jpeg_rects);
	for (j = part.y; j < part.y + part.h; j++)
		for (i = part.x; i < part.x + part.w; i++) {
			size_t at = (size_t)j * fw + i;
			int c;

			ASSERT_TRUE(d.is_jpeg[at]);
			for (c = 0; c < 3; c++)
				sum += abs(d.jrgb[at * 3 + c] - pic[at * 3 + c]);
		}
	EXPECT_LT(sum / ((double)part.w * part.h * 3), 3.0);
	use_xrgb = false;
	dec_free(&d);
	rfb_enc_free(e);
	free(pic);
}

TEST(tight_splits_large_rects)
{
	uint32_t fw = 2049, fh = 100;
	uint8_t *pic = picture(PIC_RANDOM, fw, fh);
	struct rfb_enc *e = rfb_enc_new();
	struct rfb_rect full = { 0, 0, fw, fh };
	struct dec d;

	dec_init(&d, &rfb_pixfmt_default, fw, fh);
	ASSERT_EQ(NULL, round_trip(e, &d, RFB_ENC_TIGHT, pic, &full, NULL));
	EXPECT_LE(d.max_tight_w, 2048);
	EXPECT_LE(d.max_tight_px, 65536);
	EXPECT_GE(d.rects, 5);	/* 2048 wide: 32 rows a rect; and the last column */
	EXPECT_EQ(d.rects, d.copy_rects);
	dec_free(&d);
	rfb_enc_free(e);
	free(pic);
}

TEST(tight_kinds)
{
	uint32_t fw = 64, fh = 64;
	uint8_t *solid = picture(PIC_SOLID, fw, fh), *few = picture(PIC_FEW, fw, fh);
	uint8_t *text = picture(PIC_TEXT, fw, fh), *tiny;
	struct rfb_enc *e = rfb_enc_new();
	struct rfb_rect full = { 0, 0, fw, fh }, small = { 0, 0, 2, 2 };
	struct dec d;

	dec_init(&d, &rfb_pixfmt_default, fw, fh);
	ASSERT_EQ(NULL, round_trip(e, &d, RFB_ENC_TIGHT, solid, &full, NULL));
	EXPECT_EQ(1, d.fill_rects);
	ASSERT_EQ(NULL, round_trip(e, &d, RFB_ENC_TIGHT, few, &full, NULL));
	EXPECT_EQ(1, d.palette_rects);
	ASSERT_EQ(NULL, round_trip(e, &d, RFB_ENC_TIGHT, text, &full, NULL));
	EXPECT_EQ(2, d.palette_rects);
	/* 3 colours in 2x2: 4 index bytes, sent uncompressed */
	tiny = calloc(fw * fh, 3);
	tiny[3] = 255;
	tiny[fw * 3 + 1] = 255;
	ASSERT_EQ(NULL, round_trip(e, &d, RFB_ENC_TIGHT, tiny, &small, NULL));
	EXPECT_EQ(3, d.palette_rects);
	EXPECT_EQ(0, d.copy_rects);
	dec_free(&d);
	rfb_enc_free(e);
	free(solid);
	free(few);
	free(text);
	free(tiny);
}

TEST(tight_jpeg)
{
	uint32_t fw = 300, fh = 200, i, j;
	uint8_t *pic = picture(PIC_GRADIENT, fw, fh);
	struct rfb_enc *e = rfb_enc_new();
	struct rfb_rect full = { 0, 0, fw, fh };
	struct rfb_pixfmt bgr = formats[2].pf;
	int q;

	for (q = 0; q <= 9; q += 3) {
		struct dec d;
		double sum = 0;

		rfb_enc_set_format(e, q == 6 ? &bgr : &rfb_pixfmt_default);
		rfb_enc_set_tight(e, q, 2);
		dec_init(&d, q == 6 ? &bgr : &rfb_pixfmt_default, fw, fh);
		ASSERT_EQ(NULL, round_trip(e, &d, RFB_ENC_TIGHT, pic, &full, NULL));
		EXPECT_EQ(d.rects, d.jpeg_rects);
		for (j = 0; j < fh; j++)
			for (i = 0; i < fw; i++) {
				size_t at = (size_t)j * fw + i;
				int c;

				ASSERT_TRUE(d.is_jpeg[at]);
				for (c = 0; c < 3; c++)
					sum += abs(d.jrgb[at * 3 + c] - pic[at * 3 + c]);
			}
		sum /= (double)fw * fh * 3;
		TH_LOG("jpeg quality %d: mean error %.2f", q, sum);
		EXPECT_LT(sum, q < 3 ? 8.0 : 3.0);
		dec_free(&d);
	}
	/* Sharp detail (random pixels) is not smooth: lossless even with a quality asked. */
	{
		uint8_t *noise = picture(PIC_RANDOM, fw, fh);
		struct rfb_enc *e2 = rfb_enc_new();	/* its own zlib streams */
		struct dec d;

		rfb_enc_set_tight(e2, 9, 2);
		dec_init(&d, &rfb_pixfmt_default, fw, fh);
		ASSERT_EQ(NULL, round_trip(e2, &d, RFB_ENC_TIGHT, noise, &full, NULL));
		EXPECT_EQ(0, d.jpeg_rects);
		dec_free(&d);
		rfb_enc_free(e2);
		free(noise);
	}
	/* no JPEG for 16 bpp clients: lossless instead */
	{
		struct dec d;

		rfb_enc_set_format(e, &formats[6].pf);
		dec_init(&d, &formats[6].pf, fw, fh);
		ASSERT_EQ(NULL, round_trip(e, &d, RFB_ENC_TIGHT, pic, &full, NULL));
		EXPECT_EQ(0, d.jpeg_rects);
		dec_free(&d);
	}
	rfb_enc_free(e);
	free(pic);
}

TEST(compression_level_changes_keep_streams)
{
	uint32_t fw = 200, fh = 150;
	uint8_t *pic = picture(PIC_GRADIENT, fw, fh), *txt = picture(PIC_TEXT, fw, fh);
	struct rfb_enc *e = rfb_enc_new();
	struct rfb_rect full = { 0, 0, fw, fh };
	struct dec dz, dt;
	int lvl, k;

	dec_init(&dz, &rfb_pixfmt_default, fw, fh);
	dec_init(&dt, &rfb_pixfmt_default, fw, fh);
	for (k = 0; k < 3; k++)
		for (lvl = 0; lvl <= 9; lvl += 3) {
			rfb_enc_set_tight(e, -1, lvl);
			ASSERT_EQ(NULL, round_trip(e, &dz, RFB_ENC_ZRLE, k & 1 ? txt : pic,
						   &full, NULL));
			ASSERT_EQ(NULL, round_trip(e, &dt, RFB_ENC_TIGHT, k & 1 ? pic : txt,
						   &full, NULL));
		}
	dec_free(&dz);
	dec_free(&dt);
	rfb_enc_free(e);
	free(pic);
	free(txt);
}

TEST(compressed_is_smaller)
{
	uint32_t fw = 256, fh = 256;
	uint8_t *txt = picture(PIC_TEXT, fw, fh);
	struct rfb_enc *e = rfb_enc_new();
	struct rfb_rect full = { 0, 0, fw, fh };
	size_t raw, ht, zr, ti;
	struct dec d;

	dec_init(&d, &rfb_pixfmt_default, fw, fh);
	ASSERT_EQ(NULL, round_trip(e, &d, RFB_ENC_RAW, txt, &full, &raw));
	ASSERT_EQ(NULL, round_trip(e, &d, RFB_ENC_HEXTILE, txt, &full, &ht));
	ASSERT_EQ(NULL, round_trip(e, &d, RFB_ENC_ZRLE, txt, &full, &zr));
	ASSERT_EQ(NULL, round_trip(e, &d, RFB_ENC_TIGHT, txt, &full, &ti));
	EXPECT_EQ(12 + fw * fh * 4, raw);
	EXPECT_LT(ht, raw / 2);
	EXPECT_LT(zr, raw / 10);
	EXPECT_LT(ti, raw / 10);
	dec_free(&d);
	rfb_enc_free(e);
	free(txt);
}

TEST(hextile_random_falls_back_to_raw_tiles)
{
	uint32_t fw = 48, fh = 32;
	uint8_t *pic = picture(PIC_RANDOM, fw, fh);
	struct rfb_enc *e = rfb_enc_new();
	struct rfb_rect full = { 0, 0, fw, fh };
	size_t n;
	struct dec d;

	dec_init(&d, &rfb_pixfmt_default, fw, fh);
	ASSERT_EQ(NULL, round_trip(e, &d, RFB_ENC_HEXTILE, pic, &full, &n));
	EXPECT_EQ(12 + 6 * (1 + 16 * 16 * 4), n);	/* six raw tiles */
	dec_free(&d);
	rfb_enc_free(e);
	free(pic);
}

/* Pictures of n colours placed at random: every ZRLE and Tight palette size. */
TEST(palette_sizes)
{
	uint32_t fw = 70, fh = 66, n, i, k;
	uint8_t *pic = malloc(fw * fh * 3);
	struct rfb_rect full = { 0, 0, fw, fh }, corner = { 0, 0, 5, 3 };
	unsigned int f;

	for (f = 0; f < NFMT; f++) {
		struct rfb_enc *e = rfb_enc_new();
		struct dec d;

		rfb_enc_set_format(e, &formats[f].pf);
		dec_init(&d, &formats[f].pf, fw, fh);
		for (n = 1; n <= 140; n += n < 20 ? 1 : 13) {
			for (i = 0; i < fw * fh; i++) {
				k = rnd() % n;
				/* colours distinct in every format: vary the top bits */
				pic[i * 3] = (k & 7) << 5;
				pic[i * 3 + 1] = (k >> 3 & 7) << 5;
				pic[i * 3 + 2] = (k >> 6 & 3) << 6;
			}
			for (k = 0; k < 4; k++) {
				const char *why = round_trip(e, &d, encodings[k], pic, &full, NULL);

				if (!why)
					why = round_trip(e, &d, encodings[k], pic, &corner, NULL);
				if (why)
					TH_LOG("fmt %s enc %d %u colours: %s", formats[f].name,
					       encodings[k], n, why);
				ASSERT_EQ(NULL, why);
			}
		}
		dec_free(&d);
		rfb_enc_free(e);
	}
	free(pic);
}

/*
 * Hextile colours carried from tile to tile: a mono tile, a coloured one,
 * a mono one of the first foreground, solid tiles of new and old colours.
 */
TEST(hextile_colour_state)
{
	static const uint8_t tiles[][3][3] = {
		{ { 0, 0, 0 }, { 255, 255, 255 }, { 255, 255, 255 } },	/* mono */
		{ { 0, 0, 0 }, { 255, 0, 0 }, { 0, 255, 0 } },		/* coloured */
		{ { 0, 0, 0 }, { 255, 255, 255 }, { 255, 255, 255 } },	/* mono again */
		{ { 0, 0, 255 }, { 0, 0, 255 }, { 0, 0, 255 } },	/* solid, new bg */
		{ { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 } },		/* solid, old bg */
		{ { 0, 0, 0 }, { 255, 255, 255 }, { 255, 255, 255 } },	/* mono */
	};
	uint32_t nt = sizeof(tiles) / sizeof(tiles[0]), fw = 16 * nt, fh = 16, x, y;
	uint8_t *pic = malloc(fw * fh * 3);
	struct rfb_rect full = { 0, 0, fw, fh };
	struct rfb_enc *e = rfb_enc_new();
	struct dec d;

	for (y = 0; y < fh; y++)
		for (x = 0; x < fw; x++) {
			unsigned int c = (x % 16 == 3 && y > 4) ? 1 : (x % 16 == 9 && y < 3) ? 2 : 0;

			memcpy(pic + (y * fw + x) * 3, tiles[x / 16][c], 3);
		}
	dec_init(&d, &rfb_pixfmt_default, fw, fh);
	ASSERT_EQ(NULL, round_trip(e, &d, RFB_ENC_HEXTILE, pic, &full, NULL));
	dec_free(&d);
	rfb_enc_free(e);
	free(pic);
}

TEST(appends_to_what_is_there)
{
	uint8_t pic[5 * 3 * 3];
	struct rfb_enc *e = rfb_enc_new();
	struct rfb_buf out = { 0 };
	struct rfb_rect r = { 1, 1, 4, 2 };
	unsigned int k;

	memset(pic, 0x40, sizeof(pic));
	for (k = 0; k < 4; k++) {
		struct dec d;
		size_t at;
		int n;

		dec_init(&d, &rfb_pixfmt_default, 5, 3);
		rfb_buf_put(&out, "hdr", 3);
		at = out.len;
		n = rfb_enc_rect(e, encodings[k], pic, 5, 3, &r, &out);
		ASSERT_EQ(1, n);
		EXPECT_EQ(0, memcmp(out.data + at - 3, "hdr", 3));
		EXPECT_EQ(0, decode(&d, out.data + at, out.len - at, n));
		EXPECT_EQ(0x404040u, d.fb[2 * 5 + 4]);
		dec_free(&d);
		out.len = 0;
	}
	rfb_buf_free(&out);
	rfb_enc_free(e);
}

TEST(bad_requests)
{
	uint8_t pic[4 * 4 * 3] = { 0 };
	struct rfb_enc *e = rfb_enc_new();
	struct rfb_buf out = { 0 };
	struct rfb_rect r;

	r = (struct rfb_rect){ 0, 0, 5, 1 };
	EXPECT_EQ(-1, rfb_enc_rect(e, RFB_ENC_RAW, pic, 4, 4, &r, &out));
	r = (struct rfb_rect){ 3, 3, 1, 2 };
	EXPECT_EQ(-1, rfb_enc_rect(e, RFB_ENC_ZRLE, pic, 4, 4, &r, &out));
	r = (struct rfb_rect){ 0xffffffff, 0, 2, 1 };
	EXPECT_EQ(-1, rfb_enc_rect(e, RFB_ENC_TIGHT, pic, 4, 4, &r, &out));
	r = (struct rfb_rect){ 0, 0, 1, 1 };
	EXPECT_EQ(-1, rfb_enc_rect(e, RFB_ENC_RRE, pic, 4, 4, &r, &out));
	EXPECT_EQ(-1, rfb_enc_rect(e, RFB_ENC_COPYRECT, pic, 4, 4, &r, &out));
	EXPECT_EQ(0u, out.len);
	r = (struct rfb_rect){ 1, 1, 0, 2 };
	EXPECT_EQ(0, rfb_enc_rect(e, RFB_ENC_HEXTILE, pic, 4, 4, &r, &out));
	EXPECT_EQ(0u, out.len);
	EXPECT_TRUE(rfb_enc_supported(RFB_ENC_RAW));
	EXPECT_TRUE(rfb_enc_supported(RFB_ENC_HEXTILE));
	EXPECT_TRUE(rfb_enc_supported(RFB_ENC_ZRLE));
	EXPECT_TRUE(rfb_enc_supported(RFB_ENC_TIGHT));
	EXPECT_FALSE(rfb_enc_supported(RFB_ENC_COPYRECT));
	EXPECT_FALSE(rfb_enc_supported(RFB_ENC_JPEG_Q0));
	rfb_buf_free(&out);
	rfb_enc_free(e);
}

TEST(pixfmt_check)
{
	struct rfb_pixfmt f;
	unsigned int i;

	for (i = 0; i < NFMT; i++)
		EXPECT_EQ(NULL, rfb_pixfmt_check(&formats[i].pf));
	EXPECT_EQ(NULL, rfb_pixfmt_check(&rfb_pixfmt_default));
	f = fmt_tc(24, 24, false, 255, 255, 255, 16, 8, 0);
	EXPECT_NE(NULL, rfb_pixfmt_check(&f));		/* 24 bpp */
	f = fmt_tc(32, 0, false, 255, 255, 255, 16, 8, 0);
	EXPECT_NE(NULL, rfb_pixfmt_check(&f));		/* depth 0 */
	f = fmt_tc(16, 24, false, 31, 63, 31, 11, 5, 0);
	EXPECT_NE(NULL, rfb_pixfmt_check(&f));		/* depth > bpp */
	f = fmt_tc(32, 24, false, 0, 255, 255, 16, 8, 0);
	EXPECT_NE(NULL, rfb_pixfmt_check(&f));		/* max 0 */
	f = fmt_tc(32, 24, false, 254, 255, 255, 16, 8, 0);
	EXPECT_NE(NULL, rfb_pixfmt_check(&f));		/* not 2^n - 1 */
	f = fmt_tc(32, 24, false, 255, 255, 255, 12, 8, 0);
	EXPECT_NE(NULL, rfb_pixfmt_check(&f));		/* overlap */
	f = fmt_tc(16, 16, false, 31, 63, 31, 12, 5, 0);
	EXPECT_NE(NULL, rfb_pixfmt_check(&f));		/* red past bit 15 */
	f = fmt_tc(8, 8, false, 7, 7, 3, 5, 2, 200);
	EXPECT_NE(NULL, rfb_pixfmt_check(&f));		/* huge shift */
	f = fmt_tc(32, 24, false, 65535, 255, 255, 17, 8, 0);
	EXPECT_NE(NULL, rfb_pixfmt_check(&f));		/* red past bit 31 */
	f = fmt_tc(32, 32, false, 65535, 255, 255, 8, 16, 0);
	EXPECT_NE(NULL, rfb_pixfmt_check(&f));		/* red over green */
	f = fmt_tc(32, 32, false, 65535, 255, 255, 16, 8, 0);
	EXPECT_EQ(NULL, rfb_pixfmt_check(&f));		/* 16-bit red on top */
	f = fmt_tc(32, 32, true, 1, 1, 1, 31, 30, 29);
	EXPECT_EQ(NULL, rfb_pixfmt_check(&f));		/* odd but valid */
	f = fmt_tc(16, 16, false, 31, 63, 31, 11, 5, 0);
	f.true_colour = false;
	EXPECT_NE(NULL, rfb_pixfmt_check(&f));		/* colour map at 16 bpp */
}

TEST(pixfmt_wire)
{
	static const uint8_t w[16] = { 16, 15, 1, 1, 0, 31, 0, 31, 0, 31, 10, 5, 0, 0, 0, 0 };
	uint8_t back[16];
	struct rfb_pixfmt f;

	rfb_pixfmt_decode(w, &f);
	EXPECT_EQ(16, f.bpp);
	EXPECT_EQ(15, f.depth);
	EXPECT_TRUE(f.big_endian);
	EXPECT_TRUE(f.true_colour);
	EXPECT_EQ(31, f.red_max);
	EXPECT_EQ(10, f.red_shift);
	EXPECT_EQ(5, f.green_shift);
	rfb_pixfmt_encode(&f, back);
	EXPECT_EQ(0, memcmp(w, back, 16));
	rfb_pixfmt_encode(&rfb_pixfmt_default, back);
	EXPECT_EQ(32, back[0]);
	EXPECT_EQ(24, back[1]);
	EXPECT_EQ(0, back[2]);
	EXPECT_EQ(1, back[3]);
	EXPECT_EQ(16, back[10]);
	EXPECT_EQ(0, back[12]);
}

TEST(colour_map_332)
{
	uint16_t map[256][3];
	unsigned int v;

	rfb_colour_map_332(map);
	EXPECT_EQ(0, map[0][0]);
	EXPECT_EQ(65535, map[255][0]);
	EXPECT_EQ(65535, map[255][1]);
	EXPECT_EQ(65535, map[255][2]);
	EXPECT_EQ(65535, map[0xe0][0]);
	EXPECT_EQ(0, map[0xe0][1]);
	EXPECT_EQ(65535, map[0x1c][1]);
	EXPECT_EQ(65535, map[0x03][2]);
	/* a grey's index maps back to within one 3-bit step of it */
	for (v = 0; v < 256; v++) {
		uint8_t c[3] = { v, v, v };
		uint32_t i = expect_px(&formats[NFMT - 1].pf, c);

		EXPECT_LE(abs((int)map[i][0] / 257 - (int)v), 37);
		EXPECT_LE(abs((int)map[i][2] / 257 - (int)v), 86);
	}
}

TEST(buf)
{
	struct rfb_buf b = { 0 };
	uint8_t big[10000];

	rfb_buf_u8(&b, 1);
	rfb_buf_u16(&b, 0x0203);
	rfb_buf_u32(&b, 0x04050607);
	memset(big, 9, sizeof(big));
	rfb_buf_put(&b, big, sizeof(big));
	ASSERT_EQ(7u + sizeof(big), b.len);
	EXPECT_EQ(0, memcmp(b.data, "\1\2\3\4\5\6\7", 7));
	EXPECT_EQ(9, b.data[b.len - 1]);
	EXPECT_FALSE(b.oom);
	rfb_buf_reserve(&b, SIZE_MAX - 10);
	EXPECT_TRUE(b.oom);
	rfb_buf_u8(&b, 1);
	EXPECT_EQ(7u + sizeof(big), b.len);
	rfb_buf_free(&b);
	EXPECT_EQ(NULL, b.data);
	EXPECT_FALSE(b.oom);
}

TEST_HARNESS_MAIN
