/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An RFB decoder for Raw, Hextile, ZRLE and Tight (basic with copy and
 * palette filters, fill, JPEG), written from RFC 6143 and the Tight protocol
 * description independently of runner/rfb_enc.c, to check it: used by
 * selftests/runner/rfb_enc_test.c and fuzz/rfb_enc_fuzz.c.  Decodes into
 * client pixel values (JPEG areas into RGB, flagged in is_jpeg) and rejects
 * anything malformed or wasteful with a reason in err.
 */
#ifndef KVL_SELFTESTS_RFB_DEC_H
#define KVL_SELFTESTS_RFB_DEC_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <zlib.h>

#include "../../runner/rfb.h"

/* The client pixel value of RGB (v * max / 255 rounded half up, written another way). */
static uint32_t expect_px(const struct rfb_pixfmt *pf, const uint8_t *c)
{
	if (!pf->true_colour)
		return (c[0] & 0xe0) | (c[1] & 0xe0) >> 3 | c[2] >> 6;
	return (uint32_t)((c[0] * pf->red_max * 2 + 255) / 510) << pf->red_shift |
	       (uint32_t)((c[1] * pf->green_max * 2 + 255) / 510) << pf->green_shift |
	       (uint32_t)((c[2] * pf->blue_max * 2 + 255) / 510) << pf->blue_shift;
}

/* ---- the decoder --------------------------------------------------------- */

struct dec {
	struct rfb_pixfmt pf;
	uint32_t fw, fh;
	uint32_t *fb;
	uint8_t *jrgb;		/* JPEG output, RGB */
	bool *is_jpeg;
	z_stream zrle, tight[4];
	bool zrle_live, tight_live[4];
	int rects;
	int jpeg_rects, fill_rects, palette_rects, copy_rects;
	uint32_t max_tight_w, max_tight_px;
	char err[128];
};

struct rd {
	const uint8_t *p;
	size_t len, at;
	bool bad;
};

static const uint8_t *take(struct rd *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || n > r->len - r->at) {
		r->bad = true;
		return NULL;
	}
	p = r->p + r->at;
	r->at += n;
	return p;
}

static uint32_t rd_u8(struct rd *r)
{
	const uint8_t *p = take(r, 1);

	return p ? p[0] : 0;
}

static uint32_t rd_be(struct rd *r, unsigned int n)
{
	const uint8_t *p = take(r, n);
	uint32_t v = 0;
	unsigned int i;

	for (i = 0; p && i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t rd_pixel(struct dec *d, struct rd *r)
{
	unsigned int n = d->pf.bpp / 8, i;
	const uint8_t *p = take(r, n);
	uint32_t v = 0;

	for (i = 0; p && i < n; i++)
		v |= (uint32_t)p[i] << (d->pf.big_endian ? 8 * (n - 1 - i) : 8 * i);
	return v;
}

static uint32_t rd_cpixel(struct dec *d, struct rd *r)
{
	const struct rfb_pixfmt *f = &d->pf;
	uint32_t maxpx;
	const uint8_t *p;

	if (!f->true_colour || f->bpp != 32 || f->depth > 24)
		return rd_pixel(d, r);
	maxpx = (uint32_t)f->red_max << f->red_shift | (uint32_t)f->green_max << f->green_shift |
		(uint32_t)f->blue_max << f->blue_shift;
	if (maxpx < (1u << 24)) {
		p = take(r, 3);
		if (!p)
			return 0;
		return f->big_endian ? (uint32_t)p[0] << 16 | p[1] << 8 | p[2] :
				       (uint32_t)p[2] << 16 | p[1] << 8 | p[0];
	}
	if (!(maxpx & 0xff)) {
		p = take(r, 3);
		if (!p)
			return 0;
		return f->big_endian ? (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 :
				       (uint32_t)p[2] << 24 | p[1] << 16 | p[0] << 8;
	}
	return rd_pixel(d, r);
}

static bool tpixel3(const struct rfb_pixfmt *f)
{
	return f->true_colour && f->bpp == 32 && f->depth == 24 && f->red_max == 255 &&
	       f->green_max == 255 && f->blue_max == 255;
}

static uint32_t rd_tpixel(struct dec *d, struct rd *r)
{
	const uint8_t *p;

	if (!tpixel3(&d->pf))
		return rd_pixel(d, r);
	p = take(r, 3);
	if (!p)
		return 0;
	return (uint32_t)p[0] << d->pf.red_shift | (uint32_t)p[1] << d->pf.green_shift |
	       (uint32_t)p[2] << d->pf.blue_shift;
}

#define FAIL(...) do { snprintf(d->err, sizeof(d->err), __VA_ARGS__); return -1; } while (0)

static void put(struct dec *d, uint32_t x, uint32_t y, uint32_t v)
{
	d->fb[(size_t)y * d->fw + x] = v;
	d->is_jpeg[(size_t)y * d->fw + x] = false;
}

static int dec_raw(struct dec *d, struct rd *r, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	uint32_t i, j;

	for (j = 0; j < h; j++)
		for (i = 0; i < w; i++)
			put(d, x + i, y + j, rd_pixel(d, r));
	return r->bad ? -1 : 0;
}

static int dec_hextile(struct dec *d, struct rd *r, uint32_t x, uint32_t y, uint32_t w,
		       uint32_t h)
{
	uint32_t tx, ty, bg = 0, fg = 0, i, j;
	bool bg_ok = false, fg_ok = false;

	for (ty = 0; ty < h; ty += 16)
		for (tx = 0; tx < w; tx += 16) {
			uint32_t tw = w - tx < 16 ? w - tx : 16, th = h - ty < 16 ? h - ty : 16;
			uint32_t flags = rd_u8(r), n = 0, k;

			if (flags & ~31u)
				FAIL("hextile: bad flags %#x", flags);
			if (flags & 1) {
				if (dec_raw(d, r, x + tx, y + ty, tw, th))
					FAIL("hextile: short raw tile");
				bg_ok = fg_ok = false;	/* undefined after a raw tile */
				continue;
			}
			if (flags & 2) {
				bg = rd_pixel(d, r);
				bg_ok = true;
			}
			if (!bg_ok)
				FAIL("hextile: no background");
			if (flags & 4) {
				if (flags & 16)
					FAIL("hextile: foreground and coloured");
				fg = rd_pixel(d, r);
				fg_ok = true;
			}
			for (j = 0; j < th; j++)
				for (i = 0; i < tw; i++)
					put(d, x + tx + i, y + ty + j, bg);
			if (flags & 8)
				n = rd_u8(r);
			if ((flags & 8) && !(flags & 16) && !fg_ok)
				FAIL("hextile: no foreground");
			if ((flags & 8) && !n)
				FAIL("hextile: zero subrects (wasteful)");
			for (k = 0; k < n; k++) {
				uint32_t c = (flags & 16) ? rd_pixel(d, r) : fg, xy, wh, sx, sy, sw, sh;

				xy = rd_u8(r);
				wh = rd_u8(r);
				sx = xy >> 4;
				sy = xy & 15;
				sw = (wh >> 4) + 1;
				sh = (wh & 15) + 1;
				if (r->bad || sx + sw > tw || sy + sh > th)
					FAIL("hextile: subrect outside its tile");
				for (j = 0; j < sh; j++)
					for (i = 0; i < sw; i++)
						put(d, x + tx + sx + i, y + ty + sy + j, c);
			}
			if (flags & 16)
				fg_ok = false;
			if (r->bad)
				FAIL("hextile: short");
		}
	return 0;
}

/* Inflate all of @in (a sync-flushed piece of stream @z) into a new buffer. */
static uint8_t *inflate_all(z_stream *z, const uint8_t *in, size_t n, size_t *outlen)
{
	size_t cap = 65536, len = 0;
	uint8_t *out = malloc(cap);
	int ret;

	z->next_in = (uint8_t *)in;
	z->avail_in = n;
	for (;;) {
		if (cap - len < 65536) {
			cap *= 2;
			out = realloc(out, cap);
		}
		z->next_out = out + len;
		z->avail_out = cap - len;
		ret = inflate(z, Z_SYNC_FLUSH);
		len = cap - z->avail_out;
		if (ret != Z_OK && ret != Z_BUF_ERROR) {
			free(out);
			return NULL;
		}
		if (!z->avail_in && z->avail_out)
			break;
	}
	*outlen = len;
	return out;
}

static uint32_t rd_runlen(struct rd *r)
{
	uint32_t len = 1, b;

	do {
		b = rd_u8(r);
		len += b;
	} while (b == 255 && !r->bad);
	return len;
}

static int dec_zrle(struct dec *d, struct rd *r, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	uint32_t zlen = rd_be(r, 4), tx, ty, i, j;
	const uint8_t *zd = take(r, zlen);
	struct rd u = { 0 };
	uint8_t *raw;
	size_t rawlen;

	if (!zd)
		FAIL("zrle: short");
	if (!d->zrle_live) {
		inflateInit(&d->zrle);
		d->zrle_live = true;
	}
	raw = inflate_all(&d->zrle, zd, zlen, &rawlen);
	if (!raw)
		FAIL("zrle: bad zlib data");
	u.p = raw;
	u.len = rawlen;
	for (ty = 0; ty < h; ty += 64)
		for (tx = 0; tx < w; tx += 64) {
			uint32_t tw = w - tx < 64 ? w - tx : 64, th = h - ty < 64 ? h - ty : 64;
			uint32_t sub = rd_u8(&u), pal[128], n = tw * th, k = 0, c, len;

			if (sub == 0) {
				for (k = 0; k < n; k++)
					put(d, x + tx + k % tw, y + ty + k / tw, rd_cpixel(d, &u));
			} else if (sub == 1) {
				c = rd_cpixel(d, &u);
				for (k = 0; k < n; k++)
					put(d, x + tx + k % tw, y + ty + k / tw, c);
			} else if (sub <= 16) {
				uint32_t bits = sub == 2 ? 1 : sub <= 4 ? 2 : 4;

				for (i = 0; i < sub; i++)
					pal[i] = rd_cpixel(d, &u);
				for (j = 0; j < th; j++) {
					uint32_t acc = 0, nb = 0, idx;

					for (i = 0; i < tw; i++) {
						if (!nb) {
							acc = rd_u8(&u);
							nb = 8;
						}
						idx = (acc >> (nb - bits)) & ((1u << bits) - 1);
						nb -= bits;
						if (idx >= sub) {
							free(raw);
							FAIL("zrle: packed index %u >= %u", idx, sub);
						}
						put(d, x + tx + i, y + ty + j, pal[idx]);
					}
				}
			} else if (sub == 128 || sub >= 130) {
				uint32_t psize = sub - 128;

				for (i = 0; i < psize; i++)
					pal[i] = rd_cpixel(d, &u);
				while (k < n && !u.bad) {
					if (sub == 128) {
						c = rd_cpixel(d, &u);
						len = rd_runlen(&u);
					} else {
						uint32_t idx = rd_u8(&u);

						len = idx & 128 ? rd_runlen(&u) : 1;
						idx &= 127;
						if (idx >= psize) {
							free(raw);
							FAIL("zrle: palette index out of range");
						}
						c = pal[idx];
					}
					if (len > n - k) {
						free(raw);
						FAIL("zrle: run past the tile");
					}
					while (len--) {
						put(d, x + tx + k % tw, y + ty + k / tw, c);
						k++;
					}
				}
			} else {
				free(raw);
				FAIL("zrle: bad subencoding %u", sub);
			}
			if (u.bad) {
				free(raw);
				FAIL("zrle: short tile data");
			}
		}
	i = u.at != u.len;
	free(raw);
	if (i)
		FAIL("zrle: trailing data");
	return 0;
}

static uint32_t rd_compact(struct rd *r)
{
	uint32_t b = rd_u8(r), v = b & 127;

	if (b & 128) {
		b = rd_u8(r);
		v |= (b & 127) << 7;
		if (b & 128)
			v |= rd_u8(r) << 14;
	}
	return v;
}

struct jerr {
	struct jpeg_error_mgr mgr;
	jmp_buf jb;
};

static void jerr_exit(j_common_ptr c)
{
	longjmp(((struct jerr *)c->err)->jb, 1);
}

static int dec_jpeg(struct dec *d, const uint8_t *p, size_t n, uint32_t x, uint32_t y,
		    uint32_t w, uint32_t h)
{
	struct jpeg_decompress_struct c;
	struct jerr err;
	uint8_t *row = malloc((size_t)w * 3 + 16);
	uint32_t i;

	c.err = jpeg_std_error(&err.mgr);
	err.mgr.error_exit = jerr_exit;
	if (setjmp(err.jb)) {
		jpeg_destroy_decompress(&c);
		free(row);
		return -1;
	}
	jpeg_create_decompress(&c);
	jpeg_mem_src(&c, p, n);
	jpeg_read_header(&c, TRUE);
	c.out_color_space = JCS_RGB;
	jpeg_start_decompress(&c);
	if (c.output_width != w || c.output_height != h || c.output_components != 3)
		longjmp(err.jb, 1);
	while (c.output_scanline < h) {
		uint32_t yy = c.output_scanline;

		jpeg_read_scanlines(&c, &row, 1);
		for (i = 0; i < w; i++) {
			size_t at = (size_t)(y + yy) * d->fw + x + i;

			memcpy(d->jrgb + at * 3, row + i * 3, 3);
			d->is_jpeg[at] = true;
		}
	}
	jpeg_finish_decompress(&c);
	jpeg_destroy_decompress(&c);
	free(row);
	return 0;
}

static int dec_tight(struct dec *d, struct rd *r, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	uint32_t ctl = rd_u8(r), i, j, k, pal[256], npal = 0, filter = 0, stream;
	size_t need, rawlen;
	uint8_t *data = NULL;
	struct rd u = { 0 };

	if (w > d->max_tight_w)
		d->max_tight_w = w;
	if (w * h > d->max_tight_px)
		d->max_tight_px = w * h;
	for (i = 0; i < 4; i++)
		if (ctl & (1u << i) && d->tight_live[i]) {
			inflateEnd(&d->tight[i]);
			d->tight_live[i] = false;
		}
	ctl >>= 4;
	if (ctl == 8) {
		uint32_t c = rd_tpixel(d, r);

		for (j = 0; j < h; j++)
			for (i = 0; i < w; i++)
				put(d, x + i, y + j, c);
		d->fill_rects++;
		return r->bad ? -1 : 0;
	}
	if (ctl == 9) {
		uint32_t n = rd_compact(r);
		const uint8_t *p = take(r, n);

		d->jpeg_rects++;
		if (!p || dec_jpeg(d, p, n, x, y, w, h))
			FAIL("tight: bad jpeg");
		return 0;
	}
	if (ctl > 7)
		FAIL("tight: bad compression control %#x", ctl);
	stream = ctl & 3;
	if (ctl & 4)
		filter = rd_u8(r);
	if (filter == 1) {
		npal = rd_u8(r) + 1;
		if (npal < 2)
			FAIL("tight: palette of one");
		for (i = 0; i < npal; i++)
			pal[i] = rd_tpixel(d, r);
		need = npal == 2 ? (size_t)(w + 7) / 8 * h : (size_t)w * h;
		d->palette_rects++;
	} else if (filter == 0) {
		need = (size_t)w * h * (tpixel3(&d->pf) ? 3 : d->pf.bpp / 8);
		d->copy_rects++;
	} else {
		FAIL("tight: filter %u not expected", filter);
	}
	if (need < 12) {
		u.p = take(r, need);
		u.len = need;
		if (!u.p)
			FAIL("tight: short");
	} else {
		uint32_t n = rd_compact(r);
		const uint8_t *p = take(r, n);

		if (!p)
			FAIL("tight: short zlib data");
		if (!d->tight_live[stream]) {
			inflateInit(&d->tight[stream]);
			d->tight_live[stream] = true;
		}
		data = inflate_all(&d->tight[stream], p, n, &rawlen);
		if (!data)
			FAIL("tight: bad zlib data");
		if (rawlen != need) {
			free(data);
			FAIL("tight: %zu bytes inflated, %zu expected", rawlen, need);
		}
		u.p = data;
		u.len = rawlen;
	}
	for (j = 0; j < h; j++) {
		for (i = 0; i < w; i++) {
			uint32_t c;

			if (filter == 0) {
				c = rd_tpixel(d, &u);
			} else if (npal == 2) {
				k = u.p[j * ((w + 7) / 8) + i / 8] >> (7 - i % 8) & 1;
				c = pal[k];
			} else {
				k = u.p[(size_t)j * w + i];
				if (k >= npal) {
					free(data);
					FAIL("tight: palette index out of range");
				}
				c = pal[k];
			}
			put(d, x + i, y + j, c);
		}
	}
	free(data);
	return 0;
}

static int decode(struct dec *d, const uint8_t *buf, size_t len, int nrects)
{
	struct rd r = { .p = buf, .len = len };
	int n;

	for (n = 0; n < nrects; n++) {
		uint32_t x = rd_be(&r, 2), y = rd_be(&r, 2), w = rd_be(&r, 2), h = rd_be(&r, 2);
		int32_t enc = rd_be(&r, 4);
		int ret;

		if (r.bad)
			FAIL("short header");
		if (x + w > d->fw || y + h > d->fh || !w || !h)
			FAIL("rect %u,%u %ux%u outside", x, y, w, h);
		switch (enc) {
		case RFB_ENC_RAW:
			ret = dec_raw(d, &r, x, y, w, h);
			break;
		case RFB_ENC_HEXTILE:
			ret = dec_hextile(d, &r, x, y, w, h);
			break;
		case RFB_ENC_ZRLE:
			ret = dec_zrle(d, &r, x, y, w, h);
			break;
		case RFB_ENC_TIGHT:
			ret = dec_tight(d, &r, x, y, w, h);
			break;
		default:
			FAIL("encoding %d", enc);
		}
		if (ret || r.bad) {
			if (!d->err[0])
				snprintf(d->err, sizeof(d->err), "encoding %d: short", enc);
			return -1;
		}
		d->rects++;
	}
	if (r.at != len)
		FAIL("%zu trailing bytes", len - r.at);
	return 0;
}

static void dec_init(struct dec *d, const struct rfb_pixfmt *pf, uint32_t fw, uint32_t fh)
{
	memset(d, 0, sizeof(*d));
	d->pf = *pf;
	d->fw = fw;
	d->fh = fh;
	d->fb = calloc((size_t)fw * fh, sizeof(*d->fb));
	d->jrgb = calloc((size_t)fw * fh, 3);
	d->is_jpeg = calloc((size_t)fw * fh, sizeof(bool));
}

static void dec_free(struct dec *d)
{
	int i;

	if (d->zrle_live)
		inflateEnd(&d->zrle);
	for (i = 0; i < 4; i++)
		if (d->tight_live[i])
			inflateEnd(&d->tight[i]);
	free(d->fb);
	free(d->jrgb);
	free(d->is_jpeg);
}

#endif
