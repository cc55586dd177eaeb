// SPDX-License-Identifier: GPL-2.0
/*
 * RFB pixel formats and the encoders: Raw, Hextile, ZRLE and Tight (basic
 * with the copy and palette filters, fill, JPEG), from the console's 24-bit
 * RGB picture (RFC 6143 7.7; Tight as in the community rfbproto document).
 *
 * The picture is either 24-bit RGB (rfb_enc_rect()) or native-endian
 * 0x00RRGGBB words (rfb_enc_rect_xrgb(), what the server keeps).  A
 * rectangle is converted once into the client's pixel values (one u32 a
 * pixel, through three 256-entry tables), then encoded; for a client whose
 * pixel values are 0x00RRGGBB (32 bpp, 8-bit channels at 16, 8 and 0, as
 * most ask) the encoders read the words in place, and Raw copies rows.  A channel value v
 * (0..255) becomes round(v * max / 255) = (v * max + 127) / 255 (exact: the
 * quotient never has a fraction of one half since 255 is odd), shifted into
 * place.  Colour-map clients (8 bpp, not true colour) get the 3-3-2 index
 * (r >> 5) << 5 | (g >> 5) << 2 | b >> 6 with rfb_colour_map_332()'s map.
 *
 * The compression level (rfb_enc_set_tight(), default 2) is the zlib level
 * of ZRLE's stream and of Tight's four.  Tight uses stream 0 for full colour
 * (copy filter), 1 for two-colour palettes, 2 for 3..16 colours, sets a
 * stream's reset bit whenever the server starts that stream afresh, and
 * splits rectangles into pieces of at most 2048 pixels wide and 65536
 * pixels.  JPEG (when a quality is set and the client is 32 bpp true colour
 * with 8-bit channels) is used for pieces of more than 16 colours.
 * A failed rfb_enc_rect() appends nothing; Tight recovers through the reset
 * bits, while ZRLE (which has none) refuses from then on if the failure came
 * after its stream had moved: the client is to be dropped.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <zlib.h>

#include "rfb.h"

const struct rfb_pixfmt rfb_pixfmt_default = {
	.bpp = 32, .depth = 24, .big_endian = false, .true_colour = true,
	.red_max = 255, .green_max = 255, .blue_max = 255,
	.red_shift = 16, .green_shift = 8, .blue_shift = 0,
};

void rfb_pixfmt_decode(const uint8_t wire[16], struct rfb_pixfmt *pf)
{
	pf->bpp = wire[0];
	pf->depth = wire[1];
	pf->big_endian = wire[2] != 0;
	pf->true_colour = wire[3] != 0;
	pf->red_max = wire[4] << 8 | wire[5];
	pf->green_max = wire[6] << 8 | wire[7];
	pf->blue_max = wire[8] << 8 | wire[9];
	pf->red_shift = wire[10];
	pf->green_shift = wire[11];
	pf->blue_shift = wire[12];
}

void rfb_pixfmt_encode(const struct rfb_pixfmt *pf, uint8_t wire[16])
{
	memset(wire, 0, 16);
	wire[0] = pf->bpp;
	wire[1] = pf->depth;
	wire[2] = pf->big_endian;
	wire[3] = pf->true_colour;
	wire[4] = pf->red_max >> 8;
	wire[5] = pf->red_max;
	wire[6] = pf->green_max >> 8;
	wire[7] = pf->green_max;
	wire[8] = pf->blue_max >> 8;
	wire[9] = pf->blue_max;
	wire[10] = pf->red_shift;
	wire[11] = pf->green_shift;
	wire[12] = pf->blue_shift;
}

/* The channel's mask within the pixel, 0 if it does not fit in @bpp bits. */
static uint64_t chan_mask(uint16_t max, uint8_t shift, unsigned int bpp)
{
	uint64_t m;

	if (shift >= bpp)
		return 0;
	m = (uint64_t)max << shift;
	return m >> bpp ? 0 : m;
}

const char *rfb_pixfmt_check(const struct rfb_pixfmt *pf)
{
	uint64_t r, g, b;

	if (pf->bpp != 8 && pf->bpp != 16 && pf->bpp != 32)
		return "bits-per-pixel not 8, 16 or 32";
	if (pf->depth < 1 || pf->depth > pf->bpp)
		return "depth not within 1..bits-per-pixel";
	if (!pf->true_colour)
		return pf->bpp == 8 ? NULL : "colour map only at 8 bits per pixel";
	if (!pf->red_max || !pf->green_max || !pf->blue_max)
		return "a colour maximum is zero";
	if ((pf->red_max & (pf->red_max + 1u)) || (pf->green_max & (pf->green_max + 1u)) ||
	    (pf->blue_max & (pf->blue_max + 1u)))
		return "a colour maximum is not 2^n - 1";
	r = chan_mask(pf->red_max, pf->red_shift, pf->bpp);
	g = chan_mask(pf->green_max, pf->green_shift, pf->bpp);
	b = chan_mask(pf->blue_max, pf->blue_shift, pf->bpp);
	if (!r || !g || !b)
		return "a colour does not fit in the pixel";
	if ((r & g) || (r & b) || (g & b))
		return "colours overlap";
	return NULL;
}

/*
 * Entry i: red (i >> 5) / 7, green (i >> 2 & 7) / 7, blue (i & 3) / 3 of
 * full scale, each scaled to 0..65535 rounded to nearest.
 */
void rfb_colour_map_332(uint16_t rgb[256][3])
{
	unsigned int i;

	for (i = 0; i < 256; i++) {
		rgb[i][0] = ((i >> 5) * 65535u + 3) / 7;
		rgb[i][1] = ((i >> 2 & 7) * 65535u + 3) / 7;
		rgb[i][2] = ((i & 3) * 65535u + 1) / 3;
	}
}

/* ---- rfb_buf ---------------------------------------------------------- */

void rfb_buf_reserve(struct rfb_buf *b, size_t extra)
{
	size_t want, cap;
	uint8_t *p;

	if (b->oom)
		return;
	if (extra > SIZE_MAX / 2 - b->len) {
		b->oom = true;
		return;
	}
	want = b->len + extra;
	if (want <= b->cap)
		return;
	cap = b->cap ? b->cap : 4096;
	while (cap < want)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->oom = true;
		return;
	}
	b->data = p;
	b->cap = cap;
}

void rfb_buf_put(struct rfb_buf *b, const void *p, size_t n)
{
	if (!n)
		return;
	rfb_buf_reserve(b, n);
	if (b->oom)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void rfb_buf_u8(struct rfb_buf *b, uint8_t v)
{
	rfb_buf_put(b, &v, 1);
}

void rfb_buf_u16(struct rfb_buf *b, uint16_t v)
{
	uint8_t w[2] = { v >> 8, v };

	rfb_buf_put(b, w, 2);
}

void rfb_buf_u32(struct rfb_buf *b, uint32_t v)
{
	uint8_t w[4] = { v >> 24, v >> 16, v >> 8, v };

	rfb_buf_put(b, w, 4);
}

void rfb_buf_free(struct rfb_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}

/* ---- encoder state ---------------------------------------------------- */

/* How a pixel value goes on the wire. */
enum px_mode {
	PX8,
	PX16LE, PX16BE,
	PX32LE, PX32BE,
	PX24_B012,	/* 3 bytes: value bits 0-7, 8-15, 16-23 */
	PX24_B123,	/* bits 8-15, 16-23, 24-31 */
	PX24_B321,	/* bits 24-31, 16-23, 8-15 */
	PX24_B210,	/* bits 16-23, 8-15, 0-7 */
	PX_RGB,		/* Tight's 3-byte TPIXEL: red, green, blue bytes */
};

#define TIGHT_STREAMS		4
#define TIGHT_MAX_WIDTH		2048
#define TIGHT_MAX_PIXELS	65536	/* per rectangle: bounds the client's buffer */
#define TIGHT_MIN_TO_COMPRESS	12
#define TIGHT_MAX_PALETTE	16
#define TIGHT_MIN_JPEG_PIXELS	256
/*
 * zlib's memLevel for Tight's streams: a hash table of 8K entries instead
 * of the default 32K, which deflate slides every 32 KB of input, and 4K
 * symbols a block.  On the display bench's full-screen redraws: 12% fewer
 * instructions and 1% fewer bytes than 8 (ZRLE keeps 8: more bytes there).
 */
#define TIGHT_MEM_LEVEL		6

struct zs {
	z_stream z;
	bool live;
	int level;
};

struct rfb_enc {
	struct rfb_pixfmt pf;
	uint32_t tab[3][256];
	unsigned int bytes;		/* bytes a pixel */
	enum px_mode raw_mode;		/* PIXEL */
	enum px_mode zrle_mode;		/* CPIXEL */
	enum px_mode tight_mode;	/* TPIXEL */
	unsigned int zrle_bytes, tight_bytes;
	bool jpeg_ok;			/* 32 bpp true colour, 8-bit channels */
	int jpeg_quality, level;

	bool ident;			/* client pixel value == 0x00RRGGBB */
	uint32_t *px;			/* the rectangle in client pixel values */
	size_t px_cap;
	const uint32_t *src;		/* what the encoders read: px, or the picture itself */
	size_t sstride;			/* its row stride in pixels */
	uint32_t *xtmp;			/* rfb_enc_rect()'s rectangle as 0x00RRGGBB */
	size_t xtmp_cap;
	struct rfb_buf tmp;		/* uncompressed ZRLE / Tight data */

	struct zs zrle;
	bool zrle_dead;			/* a ZRLE rect failed mid-stream: no way to resync */
	struct zs tight[TIGHT_STREAMS];
};

static unsigned int px_bytes(enum px_mode m)
{
	switch (m) {
	case PX8:
		return 1;
	case PX16LE:
	case PX16BE:
		return 2;
	case PX32LE:
	case PX32BE:
		return 4;
	default:
		return 3;
	}
}

static inline uint8_t *put_px(const struct rfb_enc *e, enum px_mode m, uint8_t *d, uint32_t p)
{
	switch (m) {
	case PX8:
		*d++ = p;
		break;
	case PX16LE:
		*d++ = p;
		*d++ = p >> 8;
		break;
	case PX16BE:
		*d++ = p >> 8;
		*d++ = p;
		break;
	case PX32LE:
		*d++ = p;
		*d++ = p >> 8;
		*d++ = p >> 16;
		*d++ = p >> 24;
		break;
	case PX32BE:
		*d++ = p >> 24;
		*d++ = p >> 16;
		*d++ = p >> 8;
		*d++ = p;
		break;
	case PX24_B012:
		*d++ = p;
		*d++ = p >> 8;
		*d++ = p >> 16;
		break;
	case PX24_B123:
		*d++ = p >> 8;
		*d++ = p >> 16;
		*d++ = p >> 24;
		break;
	case PX24_B321:
		*d++ = p >> 24;
		*d++ = p >> 16;
		*d++ = p >> 8;
		break;
	case PX24_B210:
		*d++ = p >> 16;
		*d++ = p >> 8;
		*d++ = p;
		break;
	case PX_RGB:
		*d++ = p >> e->pf.red_shift;
		*d++ = p >> e->pf.green_shift;
		*d++ = p >> e->pf.blue_shift;
		break;
	}
	return d;
}

static inline __attribute__((always_inline)) uint8_t *
put_run(const struct rfb_enc *e, enum px_mode m, uint8_t *d, const uint32_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		d = put_px(e, m, d, s[i]);
	return d;
}

/*
 * PX24_B012 (@swap false) or PX24_B210: on little endian hosts one 4-byte
 * store a pixel (byte swapped and shifted for B210), 3 bytes apart, each
 * overwriting the spare byte of the one before; the last by bytes.
 */
static inline __attribute__((always_inline)) uint8_t *
put_run24(uint8_t *d, const uint32_t *s, size_t n, bool swap)
{
	size_t i = 0;

	for (; __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && i + 4 < n; i += 4, d += 12) {
		uint32_t a = s[i], b = s[i + 1], c = s[i + 2], e = s[i + 3];

		if (swap) {
			a = __builtin_bswap32(a) >> 8;
			b = __builtin_bswap32(b) >> 8;
			c = __builtin_bswap32(c) >> 8;
			e = __builtin_bswap32(e) >> 8;
		}
		memcpy(d, &a, 4);
		memcpy(d + 3, &b, 4);
		memcpy(d + 6, &c, 4);
		memcpy(d + 9, &e, 4);
	}
	for (; i < n; i++)
		d = swap ? put_px(NULL, PX24_B210, d, s[i]) : put_px(NULL, PX24_B012, d, s[i]);
	return d;
}

/* @n pixels to @d in mode @m; the switch is outside the loops. */
static uint8_t *put_pixels(const struct rfb_enc *e, enum px_mode m, uint8_t *d,
			   const uint32_t *s, size_t n)
{
	switch (m) {
	case PX8:
		return put_run(e, PX8, d, s, n);
	case PX16LE:
		return put_run(e, PX16LE, d, s, n);
	case PX16BE:
		return put_run(e, PX16BE, d, s, n);
	case PX32LE:
		if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) {	/* as they lie */
			memcpy(d, s, n * 4);
			return d + n * 4;
		}
		return put_run(e, PX32LE, d, s, n);
	case PX32BE:
		return put_run(e, PX32BE, d, s, n);
	case PX24_B012:
		return put_run24(d, s, n, false);
	case PX24_B123:
		return put_run(e, PX24_B123, d, s, n);
	case PX24_B321:
		return put_run(e, PX24_B321, d, s, n);
	case PX24_B210:
		return put_run24(d, s, n, true);
	case PX_RGB:
		return put_run(e, PX_RGB, d, s, n);
	}
	return d;
}

struct rfb_enc *rfb_enc_new(void)
{
	struct rfb_enc *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->jpeg_quality = -1;
	e->level = 2;	/* TigerVNC's and noVNC's default CompressLevel */
	rfb_enc_set_format(e, &rfb_pixfmt_default);
	return e;
}

void rfb_enc_free(struct rfb_enc *e)
{
	unsigned int i;

	if (!e)
		return;
	if (e->zrle.live)
		deflateEnd(&e->zrle.z);
	for (i = 0; i < TIGHT_STREAMS; i++)
		if (e->tight[i].live)
			deflateEnd(&e->tight[i].z);
	free(e->px);
	free(e->xtmp);
	rfb_buf_free(&e->tmp);
	free(e);
}

static void build_tab(uint32_t tab[256], unsigned int max, unsigned int shift)
{
	unsigned int v;

	for (v = 0; v < 256; v++)
		tab[v] = ((v * max + 127) / 255) << shift;
}

void rfb_enc_set_format(struct rfb_enc *e, const struct rfb_pixfmt *pf)
{
	const struct rfb_pixfmt *f = pf;
	uint32_t maxpx;
	unsigned int v;

	if (rfb_pixfmt_check(pf))	/* the caller checks; never encode garbage */
		f = &rfb_pixfmt_default;
	e->pf = *f;
	e->bytes = f->bpp / 8;
	e->ident = f->true_colour && f->bpp == 32 && f->red_max == 255 && f->green_max == 255 &&
		   f->blue_max == 255 && f->red_shift == 16 && f->green_shift == 8 &&
		   f->blue_shift == 0;
	if (!f->true_colour) {
		for (v = 0; v < 256; v++) {
			e->tab[0][v] = (v >> 5) << 5;
			e->tab[1][v] = (v >> 5) << 2;
			e->tab[2][v] = v >> 6;
		}
	} else {
		build_tab(e->tab[0], f->red_max, f->red_shift);
		build_tab(e->tab[1], f->green_max, f->green_shift);
		build_tab(e->tab[2], f->blue_max, f->blue_shift);
	}
	if (f->bpp == 8)
		e->raw_mode = PX8;
	else if (f->bpp == 16)
		e->raw_mode = f->big_endian ? PX16BE : PX16LE;
	else
		e->raw_mode = f->big_endian ? PX32BE : PX32LE;

	/*
	 * ZRLE's CPIXEL (RFC 6143 7.7.6): 3 bytes when true colour, 32 bpp,
	 * depth <= 24 and all colour bits lie in the least (or the most)
	 * significant 3 bytes of the value: those 3 bytes in the client's
	 * byte order.
	 */
	e->zrle_mode = e->raw_mode;
	maxpx = 0;
	if (f->true_colour && f->bpp == 32)
		maxpx = (uint32_t)f->red_max << f->red_shift |
			(uint32_t)f->green_max << f->green_shift |
			(uint32_t)f->blue_max << f->blue_shift;
	if (f->true_colour && f->bpp == 32 && f->depth <= 24) {
		if (maxpx < 1u << 24)
			e->zrle_mode = f->big_endian ? PX24_B210 : PX24_B012;
		else if (!(maxpx & 0xff))
			e->zrle_mode = f->big_endian ? PX24_B321 : PX24_B123;
	}
	/*
	 * Tight's TPIXEL: red, green, blue bytes when true colour, 32 bpp,
	 * depth 24 and 8-bit channels.
	 */
	e->jpeg_ok = f->true_colour && f->bpp == 32 && f->red_max == 255 &&
		     f->green_max == 255 && f->blue_max == 255;
	e->tight_mode = e->jpeg_ok && f->depth == 24 ? PX_RGB : e->raw_mode;
	if (e->tight_mode == PX_RGB && e->ident)	/* the same bytes, faster */
		e->tight_mode = PX24_B210;
	e->zrle_bytes = px_bytes(e->zrle_mode);
	e->tight_bytes = px_bytes(e->tight_mode);
}

void rfb_enc_set_tight(struct rfb_enc *e, int jpeg_quality, int compress_level)
{
	e->jpeg_quality = jpeg_quality < 0 ? -1 : jpeg_quality > 9 ? 9 : jpeg_quality;
	e->level = compress_level < 0 ? 0 : compress_level > 9 ? 9 : compress_level;
}

bool rfb_enc_supported(int32_t encoding)
{
	return encoding == RFB_ENC_RAW || encoding == RFB_ENC_HEXTILE ||
	       encoding == RFB_ENC_ZRLE || encoding == RFB_ENC_TIGHT;
}

/* ---- shared pieces ---------------------------------------------------- */

static void put_header(struct rfb_buf *out, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
		       int32_t enc)
{
	uint8_t hd[12] = { x >> 8, x, y >> 8, y, w >> 8, w, h >> 8, h,
			   (uint32_t)enc >> 24, (uint32_t)enc >> 16, (uint32_t)enc >> 8, enc };

	rfb_buf_put(out, hd, sizeof(hd));
}

/* Make room for @n words at *@p (*@cap of them now). */
static int grow(uint32_t **p, size_t *cap, size_t n)
{
	uint32_t *q;

	if (n <= *cap)
		return 0;
	if (n > SIZE_MAX / sizeof(*q))
		return -1;
	q = realloc(*p, n * sizeof(*q));
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/*
 * Point e->src at the @r->w x @r->h rectangle in client pixel values whose
 * 0x00RRGGBB words start at @xp (row stride @xstride pixels): @xp itself
 * for an identity format, else converted into e->px (rows packed).
 */
static int convert(struct rfb_enc *e, const uint32_t *xp, size_t xstride, const struct rfb_rect *r)
{
	const uint32_t *tr = e->tab[0], *tg = e->tab[1], *tb = e->tab[2];
	size_t i, j;

	if (e->ident) {
		e->src = xp;
		e->sstride = xstride;
		return 0;
	}
	if (grow(&e->px, &e->px_cap, (size_t)r->w * r->h) < 0)
		return -1;
	for (j = 0; j < r->h; j++) {
		const uint32_t *s = xp + j * xstride;
		uint32_t *d = e->px + j * r->w;

		for (i = 0; i < r->w; i++)
			d[i] = tr[(s[i] >> 16) & 0xff] | tg[(s[i] >> 8) & 0xff] | tb[s[i] & 0xff];
	}
	e->src = e->px;
	e->sstride = r->w;
	return 0;
}

/*
 * Compress @n bytes through @zs (persistent, level e->level) to the end of
 * @out, ending with a sync flush so the client can decode all of it now.
 * The client reads a zlib stream that never ends: deflate runs raw and the
 * stream's 2-byte header (as zlib writes it) is put here, so that no
 * Adler-32 of the input is computed for a trailer that is never sent.
 */
static int zput(struct rfb_enc *e, struct zs *zs, const uint8_t *in, size_t n,
		struct rfb_buf *out, bool *fresh)
{
	z_stream *z = &zs->z;
	int ret;

	*fresh = false;
	if (!zs->live) {
		unsigned int hdr = 0x78 << 8;	/* deflate, 32K window */

		rfb_buf_reserve(out, 2);
		if (out->oom)
			return -1;
		memset(z, 0, sizeof(*z));
		if (deflateInit2(z, e->level, Z_DEFLATED, -15, zs == &e->zrle ? 8 : TIGHT_MEM_LEVEL,
				 Z_DEFAULT_STRATEGY) != Z_OK)
			return -1;
		zs->live = true;
		zs->level = e->level;
		*fresh = true;
		/* FLEVEL 0 (levels 0, 1), 1 (2..5), 2 (6), 3 (7..9); FCHECK */
		hdr |= (e->level < 2 ? 0 : e->level < 6 ? 1 : e->level == 6 ? 2 : 3) << 6;
		hdr += 31 - hdr % 31;
		out->data[out->len++] = hdr >> 8;
		out->data[out->len++] = hdr;
	}
	z->next_in = (Bytef *)in;
	z->avail_in = 0;
	if (zs->level != e->level) {
		/* After a sync flush this emits nothing, but give it room anyway. */
		rfb_buf_reserve(out, 256);
		if (out->oom)
			return -1;
		z->next_out = out->data + out->len;
		z->avail_out = 256;
		if (deflateParams(z, e->level, Z_DEFAULT_STRATEGY) == Z_OK)
			zs->level = e->level;
		out->len += 256 - z->avail_out;
	}
	do {
		size_t chunk = n > (1u << 30) ? (1u << 30) : n;
		int flush = chunk == n ? Z_SYNC_FLUSH : Z_NO_FLUSH;

		z->next_in = (Bytef *)in;
		z->avail_in = chunk;
		in += chunk;
		n -= chunk;
		do {
			size_t room;

			rfb_buf_reserve(out, chunk / 4 + 4096);
			if (out->oom)
				goto broken;
			room = out->cap - out->len;
			if (room > (1u << 30))
				room = 1u << 30;
			z->next_out = out->data + out->len;
			z->avail_out = room;
			ret = deflate(z, flush);
			out->len += room - z->avail_out;
			if (ret != Z_OK && ret != Z_BUF_ERROR)
				goto broken;
		} while (z->avail_in || z->avail_out == 0);
	} while (n);
	return 0;
broken:
	/* The client's stream cannot follow any more: start afresh next time. */
	deflateEnd(z);
	zs->live = false;
	return -1;
}

/* ---- Raw ---------------------------------------------------------------- */

static int enc_raw(struct rfb_enc *e, const struct rfb_rect *r, struct rfb_buf *out)
{
	size_t n = (size_t)r->w * r->h;
	uint8_t *p;
	uint32_t j;

	put_header(out, r->x, r->y, r->w, r->h, RFB_ENC_RAW);
	if (n > SIZE_MAX / 4)
		return -1;
	rfb_buf_reserve(out, n * e->bytes);
	if (out->oom)
		return -1;
	p = out->data + out->len;
	for (j = 0; j < r->h; j++)
		p = put_pixels(e, e->raw_mode, p, e->src + j * e->sstride, r->w);
	out->len += n * e->bytes;
	return 1;
}

/* ---- Hextile (RFC 6143 7.7.4) ------------------------------------------- */

#define HT_RAW		1
#define HT_BG		2
#define HT_FG		4
#define HT_SUBRECTS	8
#define HT_COLOURED	16

struct ht_state {
	bool bg_valid, fg_valid;
	uint32_t bg, fg;
};

/*
 * Tiles are scanned 4 pixels at a time in vector registers where their
 * width allows (all but a rectangle's right edge): comparisons give -1 in
 * each lane that matches, summed with subtraction.
 */
typedef uint32_t v4u32 __attribute__((vector_size(16)));

static inline v4u32 ld4(const uint32_t *p)
{
	v4u32 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline unsigned int sum4(v4u32 v)
{
	return v[0] + v[1] + v[2] + v[3];
}

/* How many of the @n pixels at @t are @c. */
static unsigned int ht_count(const uint32_t *t, unsigned int n, uint32_t c)
{
	unsigned int i = 0, k = 0;
	v4u32 acc = { 0 };

	for (; i + 4 <= n; i += 4)
		acc -= (v4u32)(ld4(t + i) == c);
	for (; i < n; i++)
		k += t[i] == c;
	return k + sum4(acc);
}

/* Are all @n pixels at @t @a or @b?  Looked at 16 at a time: most tiles of 3+ colours show it soon. */
static bool ht_two(const uint32_t *t, unsigned int n, uint32_t a, uint32_t b)
{
	unsigned int i = 0;
	v4u32 acc = { 0 };

	for (; i + 4 <= n; i += 4) {
		v4u32 v = ld4(t + i);

		acc |= ~((v4u32)(v == a) | (v4u32)(v == b));
		if ((i & 12) == 12 && (acc[0] | acc[1] | acc[2] | acc[3]))
			return false;
	}
	for (; i < n; i++)
		if (t[i] != a && t[i] != b)
			return false;
	return !(acc[0] | acc[1] | acc[2] | acc[3]);
}

/*
 * At most the pixels of @t other than @bg that differ from their left and
 * upper neighbours (a lower bound: the vector loop takes the previous
 * row's last pixel as the left neighbour of a row's first).
 */
static unsigned int ht_corners(const uint32_t *t, unsigned int tw, unsigned int th, uint32_t bg)
{
	unsigned int n = 0, x, y;
	v4u32 acc = { 0 };

	for (x = 0; x < tw; x++)
		n += t[x] != bg && (!x || t[x] != t[x - 1]);
	for (y = 1; y < th; y++) {
		const uint32_t *row = t + y * tw, *up = row - tw;

		if (!(tw & 3)) {
			for (x = 0; x < tw; x += 4) {
				v4u32 v = ld4(row + x);

				acc -= (v4u32)(v != bg) & (v4u32)(v != ld4(row + x - 1)) &
				       (v4u32)(v != ld4(up + x));
			}
			continue;
		}
		n += row[0] != bg && row[0] != up[0];
		for (x = 1; x < tw; x++)
			n += (row[x] != bg) & (row[x] != row[x - 1]) & (row[x] != up[x]);
	}
	return n + sum4(acc);
}

/*
 * One tile of @tw x @th pixels in @t (rows packed; overwritten) to @out, if
 * smaller than raw; false (nothing written) if the caller is to send it raw.
 */
static bool ht_tile(struct rfb_enc *e, struct ht_state *st, uint32_t *t, unsigned int tw,
		    unsigned int th, struct rfb_buf *out)
{
	unsigned int n = tw * th, i, x, y, nsub = 0, cnt0, votes = 0;
	size_t raw_len = 1 + (size_t)n * e->bytes, len;
	uint8_t enc[1 + 2 * 4 + 1 + 255 * 6], *p, *flags, *cntp;
	uint32_t c0 = t[0], c1 = 0, bg, fg = 0, cand = 0;
	bool two = true, have1, coloured;

	for (i = 1; i < n && t[i] == c0; i++)
		;
	have1 = i < n;
	if (have1) {
		c1 = t[i];
		two = ht_two(t, n, c0, c1);
	}
	cnt0 = two ? ht_count(t, n, c0) : 0;	/* only two colours need it */
	/* Boyer-Moore majority vote: the background for 3+ colours */
	for (i = 0; !two && i < n; i++) {
		if (!votes)
			cand = t[i];
		votes += t[i] == cand ? 1 : -1;
	}

	rfb_buf_reserve(out, raw_len > sizeof(enc) ? raw_len : sizeof(enc));
	if (out->oom)
		return true;
	if (!have1) {
		p = out->data + out->len;
		*p++ = (!st->bg_valid || st->bg != c0) ? HT_BG : 0;
		if (p[-1])
			p = put_px(e, e->raw_mode, p, c0);
		out->len = p - out->data;
		st->bg_valid = true;
		st->bg = c0;
		return true;
	}
	coloured = !two;
	if (two) {
		bg = cnt0 * 2 >= n ? c0 : c1;
		fg = bg == c0 ? c1 : c0;
	} else {
		bg = cand;
	}

	/*
	 * A pixel that is not background and unlike its left and upper
	 * neighbours is the top left corner of its own subrectangle: when
	 * they alone make the tile as long as raw, it goes raw (as the loop
	 * below would find, later).
	 */
	if (ht_corners(t, tw, th, bg) * (coloured ? e->bytes + 2 : 2) + 2 >= raw_len)
		return false;

	p = enc;
	flags = p++;
	*flags = HT_SUBRECTS;
	if (!st->bg_valid || st->bg != bg) {
		*flags |= HT_BG;
		p = put_px(e, e->raw_mode, p, bg);
	}
	if (coloured) {
		*flags |= HT_COLOURED;
	} else if (!st->fg_valid || st->fg != fg) {
		*flags |= HT_FG;
		p = put_px(e, e->raw_mode, p, fg);
	}
	cntp = p++;
	len = p - enc;
	for (y = 0; y < th; y++) {
		for (x = 0; x < tw; x++) {
			uint32_t c = t[y * tw + x];
			unsigned int w, h, k;

			if (c == bg)
				continue;
			for (w = 1; x + w < tw && t[y * tw + x + w] == c; w++)
				;
			for (h = 1; y + h < th; h++) {
				for (k = 0; k < w && t[(y + h) * tw + x + k] == c; k++)
					;
				if (k < w)
					break;
			}
			len += coloured ? e->bytes + 2 : 2;
			if (len >= raw_len)
				return false;
			if (coloured)
				p = put_px(e, e->raw_mode, p, c);
			*p++ = x << 4 | y;
			*p++ = (w - 1) << 4 | (h - 1);
			nsub++;
			for (i = 0; i < h; i++)
				for (k = 0; k < w; k++)
					t[(y + i) * tw + x + k] = bg;
		}
	}
	*cntp = nsub;
	memcpy(out->data + out->len, enc, len);
	out->len += len;
	st->bg_valid = true;
	st->bg = bg;
	if (coloured) {
		st->fg_valid = false;
	} else {
		st->fg_valid = true;
		st->fg = fg;
	}
	return true;
}

static int enc_hextile(struct rfb_enc *e, const struct rfb_rect *r, struct rfb_buf *out)
{
	struct ht_state st = { 0 };
	uint32_t t[256];
	unsigned int tx, ty, tw, th, j;

	put_header(out, r->x, r->y, r->w, r->h, RFB_ENC_HEXTILE);
	for (ty = 0; ty < r->h; ty += 16) {
		th = r->h - ty < 16 ? r->h - ty : 16;
		for (tx = 0; tx < r->w; tx += 16) {
			uint8_t *p;

			tw = r->w - tx < 16 ? r->w - tx : 16;
			for (j = 0; j < th; j++)
				memcpy(t + j * tw, e->src + (ty + j) * e->sstride + tx,
				       tw * sizeof(*t));
			if (ht_tile(e, &st, t, tw, th, out))
				continue;
			/* Not smaller than raw (space for it is reserved): send it raw. */
			p = out->data + out->len;
			*p++ = HT_RAW;
			for (j = 0; j < th; j++)
				p = put_pixels(e, e->raw_mode, p,
					       e->src + (ty + j) * e->sstride + tx, tw);
			out->len = p - out->data;
			/* RFC 6143: after a raw tile both colours are undefined */
			st.bg_valid = false;
			st.fg_valid = false;
		}
		if (out->oom)
			return -1;
	}
	return 1;
}

/* ---- colour palettes: a tiny hash of pixel value -> index ------------- */

#define PAL_SLOTS 256

struct palette {
	unsigned int n, max;
	uint32_t colour[128];
	uint32_t key[PAL_SLOTS];
	int16_t idx[PAL_SLOTS];		/* -1: empty */
};

static void pal_init(struct palette *pl, unsigned int max)
{
	pl->n = 0;
	pl->max = max;
	memset(pl->idx, 0xff, sizeof(pl->idx));
}

static inline unsigned int pal_hash(uint32_t c)
{
	return (c * 2654435761u) >> 24;
}

/* Index of @c, added if new; -1 once more than pl->max colours were seen. */
static inline int pal_add(struct palette *pl, uint32_t c)
{
	unsigned int h = pal_hash(c);

	for (;;) {
		if (pl->idx[h] < 0)
			break;
		if (pl->key[h] == c)
			return pl->idx[h];
		h = (h + 1) & (PAL_SLOTS - 1);
	}
	if (pl->n >= pl->max)
		return -1;
	pl->key[h] = c;
	pl->idx[h] = pl->n;
	pl->colour[pl->n] = c;
	return pl->n++;
}

/* ---- ZRLE (RFC 6143 7.7.6) ---------------------------------------------- */

static void put_runlen(uint8_t **pp, size_t len)
{
	uint8_t *p = *pp;

	len--;
	while (len >= 255) {
		*p++ = 255;
		len -= 255;
	}
	*p++ = len;
	*pp = p;
}

/* One tile of @tw x @th at @s (row stride @stride) into the uncompressed stream @b. */
static void zrle_tile(struct rfb_enc *e, struct palette *pl, const uint32_t *s, size_t stride,
		      unsigned int tw, unsigned int th, struct rfb_buf *b)
{
	unsigned int cp = e->zrle_bytes, n = tw * th, x, y, i, bits;
	size_t runs = 0, runbytes = 0, singles = 0, run = 0;
	size_t sz_raw, sz_rle, sz_prle = SIZE_MAX, sz_packed = SIZE_MAX;
	uint32_t cur = s[0];
	bool many = false;
	uint8_t *p;

	pal_init(pl, 127);
	pal_add(pl, cur);
	for (y = 0; y < th; y++) {
		const uint32_t *row = s + y * stride;

		for (x = 0; x < tw; x++) {
			if (row[x] == cur) {
				run++;
				continue;
			}
			runs++;
			runbytes += (run - 1) / 255 + 1;
			singles += run == 1;
			cur = row[x];
			run = 1;
			if (!many && pal_add(pl, cur) < 0)
				many = true;
		}
	}
	runs++;
	runbytes += (run - 1) / 255 + 1;
	singles += run == 1;

	rfb_buf_reserve(b, 1 + (size_t)n * cp + 127 * 4);
	if (b->oom)
		return;
	p = b->data + b->len;
	if (!many && pl->n == 1) {
		*p++ = 1;
		p = put_px(e, e->zrle_mode, p, s[0]);
		b->len = p - b->data;
		return;
	}
	sz_raw = (size_t)n * cp;
	sz_rle = runs * cp + runbytes;
	bits = 0;
	if (!many) {
		sz_prle = pl->n * cp + runs + runbytes - singles;
		if (pl->n <= 16) {
			bits = pl->n == 2 ? 1 : pl->n <= 4 ? 2 : 4;
			sz_packed = pl->n * cp + (size_t)th * ((tw * bits + 7) / 8);
		}
	}
	if (sz_packed <= sz_prle && sz_packed <= sz_rle && sz_packed <= sz_raw) {
		*p++ = pl->n;
		for (i = 0; i < pl->n; i++)
			p = put_px(e, e->zrle_mode, p, pl->colour[i]);
		for (y = 0; y < th; y++) {
			const uint32_t *row = s + y * stride;
			unsigned int acc = 0, nb = 0;

			for (x = 0; x < tw; x++) {
				acc = acc << bits | pal_add(pl, row[x]);
				nb += bits;
				if (nb == 8) {
					*p++ = acc;
					acc = nb = 0;
				}
			}
			if (nb)
				*p++ = acc << (8 - nb);
		}
	} else if (sz_prle <= sz_rle && sz_prle <= sz_raw) {
		*p++ = 128 + pl->n;
		for (i = 0; i < pl->n; i++)
			p = put_px(e, e->zrle_mode, p, pl->colour[i]);
		cur = s[0];
		run = 0;
		for (y = 0; y < th; y++) {
			const uint32_t *row = s + y * stride;

			for (x = 0; x < tw; x++) {
				if (row[x] == cur) {
					run++;
					continue;
				}
				i = pal_add(pl, cur);
				if (run == 1) {
					*p++ = i;
				} else {
					*p++ = i | 128;
					put_runlen(&p, run);
				}
				cur = row[x];
				run = 1;
			}
		}
		i = pal_add(pl, cur);
		if (run == 1) {
			*p++ = i;
		} else {
			*p++ = i | 128;
			put_runlen(&p, run);
		}
	} else if (sz_rle <= sz_raw) {
		*p++ = 128;
		cur = s[0];
		run = 0;
		for (y = 0; y < th; y++) {
			const uint32_t *row = s + y * stride;

			for (x = 0; x < tw; x++) {
				if (row[x] == cur) {
					run++;
					continue;
				}
				p = put_px(e, e->zrle_mode, p, cur);
				put_runlen(&p, run);
				cur = row[x];
				run = 1;
			}
		}
		p = put_px(e, e->zrle_mode, p, cur);
		put_runlen(&p, run);
	} else {
		*p++ = 0;
		for (y = 0; y < th; y++)
			p = put_pixels(e, e->zrle_mode, p, s + y * stride, tw);
	}
	b->len = p - b->data;
}

static int enc_zrle(struct rfb_enc *e, const struct rfb_rect *r, struct rfb_buf *out)
{
	struct palette pl;
	unsigned int tx, ty;
	size_t at;
	bool fresh;

	if (e->zrle_dead)
		return -1;
	e->tmp.len = 0;
	for (ty = 0; ty < r->h; ty += 64) {
		unsigned int th = r->h - ty < 64 ? r->h - ty : 64;

		for (tx = 0; tx < r->w; tx += 64) {
			unsigned int tw = r->w - tx < 64 ? r->w - tx : 64;

			zrle_tile(e, &pl, e->src + ty * e->sstride + tx, e->sstride, tw, th,
				  &e->tmp);
		}
	}
	if (e->tmp.oom) {
		rfb_buf_free(&e->tmp);
		return -1;
	}
	put_header(out, r->x, r->y, r->w, r->h, RFB_ENC_ZRLE);
	rfb_buf_u32(out, 0);
	if (out->oom)
		return -1;
	at = out->len;
	if (zput(e, &e->zrle, e->tmp.data, e->tmp.len, out, &fresh) < 0 ||
	    out->len - at > UINT32_MAX) {
		/* The client's inflater is past data it will never get. */
		e->zrle_dead = true;
		return -1;
	}
	out->data[at - 4] = (out->len - at) >> 24;
	out->data[at - 3] = (out->len - at) >> 16;
	out->data[at - 2] = (out->len - at) >> 8;
	out->data[at - 1] = (out->len - at);
	return 1;
}

/* ---- Tight ---------------------------------------------------------------- */

#define TIGHT_FILL	0x80
#define TIGHT_JPEG	0x90
#define TIGHT_EXPLICIT_FILTER 0x40
#define TIGHT_FILTER_PALETTE 1

/* Compact length: 7 bits a byte, low first, bit 7 set when more follow (at most 22 bits). */
static unsigned int compact_len(uint8_t b[3], size_t len)
{
	b[0] = len & 0x7f;
	if (len < 0x80)
		return 1;
	b[0] |= 0x80;
	b[1] = (len >> 7) & 0x7f;
	if (len < 0x4000)
		return 2;
	b[1] |= 0x80;
	b[2] = len >> 14;
	return 3;
}

/*
 * The data of a basic-compression rectangle: as is when under 12 bytes,
 * else its compact length and the zlib stream's output.  @ctl points at the
 * control byte already in @out, to set the stream's reset bit.
 */
static int tight_data(struct rfb_enc *e, unsigned int stream, const uint8_t *d, size_t n,
		      struct rfb_buf *out, size_t ctl)
{
	uint8_t cl[3];
	size_t at, zl;
	unsigned int k;
	bool fresh;

	if (n < TIGHT_MIN_TO_COMPRESS) {
		rfb_buf_put(out, d, n);
		return out->oom ? -1 : 0;
	}
	rfb_buf_put(out, "\0\0\0", 3);
	if (out->oom)
		return -1;
	at = out->len;
	if (zput(e, &e->tight[stream], d, n, out, &fresh) < 0)
		return -1;
	if (fresh)	/* our stream is new: so must the client's be */
		out->data[ctl] |= 1 << stream;
	zl = out->len - at;
	if (zl >= 1u << 22)
		return -1;
	k = compact_len(cl, zl);
	memcpy(out->data + at - 3, cl, k);
	if (k < 3) {
		memmove(out->data + at - 3 + k, out->data + at, zl);
		out->len -= 3 - k;
	}
	return 0;
}

struct jpeg_err {
	struct jpeg_error_mgr mgr;
	jmp_buf jb;
};

static void jpeg_fail(j_common_ptr cinfo)
{
	longjmp(((struct jpeg_err *)cinfo->err)->jb, 1);
}

static void jpeg_quiet(j_common_ptr cinfo, int level)
{
	(void)cinfo;
	(void)level;
}

/* JPEG quality and chroma subsampling for the client's levels 0..9. */
static const struct {
	uint8_t quality, hsamp, vsamp;
} jpeg_conf[10] = {
	{ 15, 2, 2 }, { 29, 2, 2 }, { 41, 2, 2 }, { 42, 2, 1 }, { 62, 2, 1 },
	{ 77, 2, 1 }, { 79, 1, 1 }, { 86, 1, 1 }, { 92, 1, 1 }, { 100, 1, 1 },
};

/* A baseline JFIF of the @w x @h 0x00RRGGBB words at @xp (row stride @stride words) to @dst. */
static int jpeg_compress(int q, const uint32_t *xp, size_t stride, unsigned int w,
			 unsigned int h, struct rfb_buf *dst)
{
	struct jpeg_compress_struct c;
	struct jpeg_err err;
	unsigned char *mem = NULL;
	unsigned long mem_len = 0;
	volatile int ret = -1;
	unsigned int y;

	memset(&c, 0, sizeof(c));
	c.err = jpeg_std_error(&err.mgr);
	err.mgr.error_exit = jpeg_fail;
	err.mgr.emit_message = jpeg_quiet;
	if (setjmp(err.jb))
		goto out;
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &mem, &mem_len);
	c.image_width = w;
	c.image_height = h;
	c.input_components = 4;	/* the words' bytes as they lie in memory */
	c.in_color_space = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? JCS_EXT_BGRX : JCS_EXT_XRGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, jpeg_conf[q].quality, TRUE);
	c.comp_info[0].h_samp_factor = jpeg_conf[q].hsamp;
	c.comp_info[0].v_samp_factor = jpeg_conf[q].vsamp;
	c.dct_method = JDCT_ISLOW;
	jpeg_start_compress(&c, TRUE);
	for (y = 0; y < h; y++) {
		JSAMPROW row = (JSAMPROW)(xp + y * stride);

		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	dst->len = 0;
	rfb_buf_put(dst, mem, mem_len);
	ret = dst->oom ? -1 : 0;
out:
	jpeg_destroy_compress(&c);
	free(mem);
	return ret;
}

/* One rectangle of at most TIGHT_MAX_WIDTH x TIGHT_MAX_PIXELS, at (@x, @y) of e->px. */
/*
 * Is the picture smooth enough for JPEG to pay (photos, gradients), as
 * against sharp synthetic detail (patterns, dithering, UI) that zlib keeps
 * smaller and exact?  The mean error of the gradient predictor
 * (left + up - upper left) over a sample of pixels, per channel.
 */
#define TIGHT_SMOOTH_MAX_ERR	12
static bool tight_smooth(const uint32_t *xp, size_t stride, uint32_t w, uint32_t h)
{
	/* The samples and the most error they may add up to: stop once past it. */
	uint64_t count = 3ULL * ((h + 1) / 3) * ((w + 1) / 3), max = count * TIGHT_SMOOTH_MAX_ERR;
	uint64_t err = 0;
	uint32_t x, y;
	int c;

	for (y = 1; y < h && err <= max; y += 3)
		for (x = 1; x < w; x += 3) {
			const uint32_t *p = xp + y * stride + x;

			for (c = 0; c < 24; c += 8) {
				int left = (p[-1] >> c) & 0xff, up = (p[-(long)stride] >> c) & 0xff;
				int ul = (p[-1 - (long)stride] >> c) & 0xff, pred = left + up - ul;

				pred = pred < 0 ? 0 : pred > 255 ? 255 : pred;
				err += abs((int)((p[0] >> c) & 0xff) - pred);
			}
		}
	return count && err <= max;
}

static int tight_rect(struct rfb_enc *e, const struct rfb_rect *r, uint32_t x, uint32_t y,
		      uint32_t w, uint32_t h, const uint32_t *xp, size_t xstride, struct rfb_buf *out)
{
	const uint32_t *s = e->src + y * e->sstride + x;
	struct palette pl;
	size_t ctl, n = (size_t)w * h, i, j;
	uint32_t cur = s[0];
	bool many = false;
	uint8_t *p;

	pal_init(&pl, TIGHT_MAX_PALETTE);
	pal_add(&pl, cur);
	for (j = 0; j < h && !many; j++)
		for (i = 0; i < w; i++) {
			if (s[j * e->sstride + i] == cur)
				continue;
			cur = s[j * e->sstride + i];
			if (pal_add(&pl, cur) < 0) {
				many = true;
				break;
			}
		}

	put_header(out, r->x + x, r->y + y, w, h, RFB_ENC_TIGHT);
	ctl = out->len;
	if (!many && pl.n == 1) {
		uint8_t b[5];

		b[0] = TIGHT_FILL;
		p = put_px(e, e->tight_mode, b + 1, cur);
		rfb_buf_put(out, b, p - b);
		return out->oom ? -1 : 1;
	}
	if (!many) {
		unsigned int stream = pl.n == 2 ? 1 : 2;
		uint8_t hd[3 + TIGHT_MAX_PALETTE * 4];
		size_t rowb = pl.n == 2 ? (w + 7) / 8 : w;

		hd[0] = stream << 4 | TIGHT_EXPLICIT_FILTER;
		hd[1] = TIGHT_FILTER_PALETTE;
		hd[2] = pl.n - 1;
		p = hd + 3;
		for (i = 0; i < pl.n; i++)
			p = put_px(e, e->tight_mode, p, pl.colour[i]);
		rfb_buf_put(out, hd, p - hd);
		e->tmp.len = 0;
		rfb_buf_reserve(&e->tmp, rowb * h);
		if (e->tmp.oom || out->oom)
			return -1;
		p = e->tmp.data;
		for (j = 0; j < h; j++) {
			const uint32_t *row = s + j * e->sstride;

			if (pl.n == 2) {
				unsigned int acc = 0, nb = 0;

				for (i = 0; i < w; i++) {
					acc = acc << 1 | (row[i] != pl.colour[0]);
					if (++nb == 8) {
						*p++ = acc;
						acc = nb = 0;
					}
				}
				if (nb)
					*p++ = acc << (8 - nb);
			} else {
				for (i = 0; i < w; i++)
					*p++ = pal_add(&pl, row[i]);
			}
		}
		e->tmp.len = p - e->tmp.data;
		if (tight_data(e, stream, e->tmp.data, e->tmp.len, out, ctl) < 0)
			return -1;
		return 1;
	}
	if (e->jpeg_quality >= 0 && e->jpeg_ok && n >= TIGHT_MIN_JPEG_PIXELS &&
	    tight_smooth(xp + y * xstride + x, xstride, w, h)) {
		uint8_t cl[3];
		unsigned int k;

		if (jpeg_compress(e->jpeg_quality, xp + y * xstride + x, xstride, w, h,
				  &e->tmp) == 0 &&
		    e->tmp.len < 1u << 22) {
			k = compact_len(cl, e->tmp.len);
			rfb_buf_u8(out, TIGHT_JPEG);
			rfb_buf_put(out, cl, k);
			rfb_buf_put(out, e->tmp.data, e->tmp.len);
			return out->oom ? -1 : 1;
		}
		/* libjpeg failed: send it losslessly */
	}
	rfb_buf_u8(out, 0);	/* basic, stream 0, copy filter */
	e->tmp.len = 0;
	rfb_buf_reserve(&e->tmp, n * e->tight_bytes);
	if (e->tmp.oom || out->oom)
		return -1;
	p = e->tmp.data;
	for (j = 0; j < h; j++)
		p = put_pixels(e, e->tight_mode, p, s + j * e->sstride, w);
	e->tmp.len = p - e->tmp.data;
	if (tight_data(e, 0, e->tmp.data, e->tmp.len, out, ctl) < 0)
		return -1;
	return 1;
}

static int enc_tight(struct rfb_enc *e, const struct rfb_rect *r, const uint32_t *xp,
		     size_t xstride, struct rfb_buf *out)
{
	uint32_t x, y, w, h, maxh;
	int n = 0;

	for (x = 0; x < r->w; x += w) {
		w = r->w - x < TIGHT_MAX_WIDTH ? r->w - x : TIGHT_MAX_WIDTH;
		maxh = TIGHT_MAX_PIXELS / w;
		for (y = 0; y < r->h; y += h) {
			h = r->h - y < maxh ? r->h - y : maxh;
			if (tight_rect(e, r, x, y, w, h, xp, xstride, out) < 0)
				return -1;
			if (n == INT_MAX)
				return -1;
			n++;
		}
	}
	return n;
}

/* ---- entry ---------------------------------------------------------------- */

/* Is @r within a picture of @fw x @fh that the wire can describe, and may @out take more? */
static int check_rect(int32_t encoding, uint32_t fw, uint32_t fh, const struct rfb_rect *r,
		      const struct rfb_buf *out)
{
	if (out->oom || !rfb_enc_supported(encoding))
		return -1;
	if (fw > 65535 || fh > 65535 || r->x > fw || r->w > fw - r->x || r->y > fh ||
	    r->h > fh - r->y)
		return -1;
	return 0;
}

/* Rectangle @r whose 0x00RRGGBB words start at @xp (row stride @xstride), checked. */
static int enc_rect(struct rfb_enc *e, int32_t encoding, const uint32_t *xp, size_t xstride,
		    const struct rfb_rect *r, struct rfb_buf *out)
{
	size_t start = out->len;
	int ret;

	if (convert(e, xp, xstride, r) < 0)
		return -1;
	switch (encoding) {
	case RFB_ENC_RAW:
		ret = enc_raw(e, r, out);
		break;
	case RFB_ENC_HEXTILE:
		ret = enc_hextile(e, r, out);
		break;
	case RFB_ENC_ZRLE:
		ret = enc_zrle(e, r, out);
		break;
	default:
		ret = enc_tight(e, r, xp, xstride, out);
		break;
	}
	if (ret < 0 || out->oom) {
		unsigned int i;

		/* Drop the partial rectangles, keep what was there before. */
		out->len = start < out->len ? start : out->len;
		out->oom = false;
		/*
		 * Dropped Tight rectangles may have gone through a zlib
		 * stream: restart them all, the next rectangles tell the
		 * client to reset its own.
		 */
		for (i = 0; encoding == RFB_ENC_TIGHT && i < TIGHT_STREAMS; i++) {
			if (e->tight[i].live)
				deflateEnd(&e->tight[i].z);
			e->tight[i].live = false;
		}
		return -1;
	}
	return ret;
}

int rfb_enc_rect(struct rfb_enc *e, int32_t encoding, const uint8_t *rgb, uint32_t fw,
		 uint32_t fh, const struct rfb_rect *r, struct rfb_buf *out)
{
	uint32_t i, j;

	if (check_rect(encoding, fw, fh, r, out) < 0)
		return -1;
	if (!r->w || !r->h)
		return 0;
	if (grow(&e->xtmp, &e->xtmp_cap, (size_t)r->w * r->h) < 0)
		return -1;
	for (j = 0; j < r->h; j++) {
		const uint8_t *s = rgb + ((size_t)(r->y + j) * fw + r->x) * 3;
		uint32_t *d = e->xtmp + (size_t)j * r->w;

		for (i = 0; i < r->w; i++, s += 3)
			d[i] = (uint32_t)s[0] << 16 | s[1] << 8 | s[2];
	}
	return enc_rect(e, encoding, e->xtmp, r->w, r, out);
}

int rfb_enc_rect_xrgb(struct rfb_enc *e, int32_t encoding, const uint32_t *xrgb, uint32_t fw,
		      uint32_t fh, const struct rfb_rect *r, struct rfb_buf *out)
{
	if (check_rect(encoding, fw, fh, r, out) < 0)
		return -1;
	if (!r->w || !r->h)
		return 0;
	return enc_rect(e, encoding, xrgb + (size_t)r->y * fw + r->x, fw, r, out);
}
