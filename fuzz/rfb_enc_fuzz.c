// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the VNC encoders (runner/rfb_enc.c) on a guest-made
 * picture.  Input:
 *   0      format: bit 7 set: bytes 1..16 are a wire PIXEL_FORMAT (used if
 *          rfb_pixfmt_check() takes it), else an index into a table
 *   17     picture width - 1 (mod 80), 18: height - 1 (mod 80)
 *   19     JPEG quality (0..9, else none), 20: compression level
 *   21..   updates, 5 bytes each: encoding (mod 4; bit 2: the picture as
 *          0x00RRGGBB words, rfb_enc_rect_xrgb()), x, y, w, h (mod the
 *          picture; w or h 255: to its edge), up to 6 of them, through one encoder (the zlib
 *          streams persist)
 *   rest   pixel bytes, repeated to fill the picture (a few bytes make
 *          a structured picture, many a random one)
 * Each update is decoded back by selftests/runner/rfb_dec.h and compared
 * pixel for pixel (JPEG areas: within the bounds of the rectangle only).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../runner/rfb.h"
#include "../selftests/runner/rfb_dec.h"

static const struct rfb_pixfmt fmts[] = {
	{ 32, 24, false, true, 255, 255, 255, 16, 8, 0 },
	{ 32, 24, true, true, 255, 255, 255, 0, 8, 16 },
	{ 32, 24, false, true, 255, 255, 255, 24, 16, 8 },
	{ 16, 16, false, true, 31, 63, 31, 11, 5, 0 },
	{ 16, 15, true, true, 31, 31, 31, 10, 5, 0 },
	{ 8, 8, false, true, 7, 7, 3, 0, 3, 6 },
	{ 8, 8, false, false, 0, 0, 0, 0, 0, 0 },
	{ 32, 30, true, true, 1023, 1023, 1023, 20, 10, 0 },
};

static const int32_t encs[4] = { RFB_ENC_RAW, RFB_ENC_HEXTILE, RFB_ENC_ZRLE, RFB_ENC_TIGHT };

#define HDR 21
#define UPDATES 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rfb_pixfmt pf;
	struct rfb_enc *e;
	struct dec d;
	uint32_t fw, fh, i, j, u, nup;
	uint8_t *rgb;
	uint32_t *xrgb;
	size_t npix, k, plen;
	const uint8_t *pix;

	if (size < HDR + 5)
		return 0;
	pf = fmts[data[0] % (sizeof(fmts) / sizeof(fmts[0]))];
	if (data[0] & 0x80) {
		struct rfb_pixfmt w;

		rfb_pixfmt_decode(data + 1, &w);
		if (!rfb_pixfmt_check(&w))
			pf = w;
	}
	fw = data[17] % 80 + 1;
	fh = data[18] % 80 + 1;
	nup = (size - HDR) / 5;
	if (nup > UPDATES)
		nup = UPDATES;
	pix = data + HDR + nup * 5;
	plen = size - HDR - nup * 5;
	npix = (size_t)fw * fh * 3;
	rgb = malloc(npix);
	xrgb = malloc(npix / 3 * 4);
	if (!rgb || !xrgb)
		abort();
	for (k = 0; k < npix; k++)
		rgb[k] = plen ? pix[k % plen] : (uint8_t)k;

	e = rfb_enc_new();
	if (!e)
		abort();
	rfb_enc_set_format(e, &pf);
	rfb_enc_set_tight(e, data[19] < 10 ? data[19] : -1, data[20] % 10);
	dec_init(&d, &pf, fw, fh);
	for (u = 0; u < nup; u++) {
		const uint8_t *q = data + HDR + u * 5;
		struct rfb_rect r;
		struct rfb_buf out = { 0 };
		int n;

		r.x = q[1] % fw;
		r.y = q[2] % fh;
		r.w = q[3] == 255 ? fw - r.x : q[3] % (fw - r.x + 1);
		r.h = q[4] == 255 ? fh - r.y : q[4] % (fh - r.y + 1);
		if (q[0] & 4) {
			for (k = 0; k < npix / 3; k++)
				xrgb[k] = rgb[k * 3] << 16 | rgb[k * 3 + 1] << 8 | rgb[k * 3 + 2];
			n = rfb_enc_rect_xrgb(e, encs[q[0] % 4], xrgb, fw, fh, &r, &out);
		} else {
			n = rfb_enc_rect(e, encs[q[0] % 4], rgb, fw, fh, &r, &out);
		}
		if (n < 0)
			abort();
		if (!r.w || !r.h) {
			if (n || out.len)
				abort();
			continue;
		}
		d.err[0] = 0;
		if (n < 1 || decode(&d, out.data, out.len, n)) {
			fprintf(stderr, "decode: %s\n", d.err);
			abort();
		}
		rfb_buf_free(&out);
		for (j = r.y; j < r.y + r.h; j++)
			for (i = r.x; i < r.x + r.w; i++) {
				size_t at = (size_t)j * fw + i;

				if (!d.is_jpeg[at] && d.fb[at] != expect_px(&pf, rgb + at * 3))
					abort();
			}
		/* the next update sees a changed picture */
		for (k = 0; k < npix; k += 7)
			rgb[k] ^= q[0];
	}
	dec_free(&d);
	rfb_enc_free(e);
	free(rgb);
	free(xrgb);
	return 0;
}
