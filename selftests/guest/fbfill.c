// SPDX-License-Identifier: GPL-2.0
/*
 * fbfill: draw the display tests' pattern into a Linux framebuffer
 * device at its current depth, for the host to compare with a
 * screendump (selftests/display_check.py computes the same picture).
 *
 *   fbfill /dev/fb0
 *
 * Pixel (x, y) of an xres x yres screen has red x * 255 / (xres - 1),
 * green y * 255 / (yres - 1), blue (x ^ y) & 0xff, except in the marker
 * rectangle x 200..263, y 300..331, which is (0xff, 0x00, 0x80).  Each
 * component is cut to the framebuffer's field width (its top bits), the
 * rest of the pixel is 0.  Prints "FB xres yres bpp line_length", then
 * "FB-FILLED" once the picture has been written.
 *
 * The picture goes in with one write(): Linux 6.1's fbdev emulation
 * (drm_fb_helper_memory_range_to_clip()) turns a write of exactly one
 * whole line into an empty damage rectangle, so line-by-line writes
 * reach its shadow buffer but never the card.
 */
#include <fcntl.h>
#include <linux/fb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

static uint32_t field(uint32_t v8, const struct fb_bitfield *f)
{
	if (!f->length || f->length > 8)
		return 0;
	return (v8 >> (8 - f->length)) << f->offset;
}

int main(int argc, char **argv)
{
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	uint32_t x, y, bpp;
	uint8_t *buf, *line;
	size_t size;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: fbfill /dev/fbN\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0 || ioctl(fd, FBIOGET_VSCREENINFO, &var) < 0 ||
	    ioctl(fd, FBIOGET_FSCREENINFO, &fix) < 0) {
		perror(argv[1]);
		return 1;
	}
	bpp = var.bits_per_pixel;
	printf("FB %u %u %u %u\n", var.xres, var.yres, bpp, fix.line_length);
	if ((bpp != 16 && bpp != 24 && bpp != 32) || var.xres < 2 || var.yres < 2 ||
	    fix.line_length < var.xres * (bpp / 8)) {
		fprintf(stderr, "fbfill: unsupported mode\n");
		return 1;
	}
	size = (size_t)fix.line_length * var.yres;
	buf = calloc(1, size);
	if (!buf)
		return 1;
	for (y = 0; y < var.yres; y++) {
		line = buf + (size_t)y * fix.line_length;
		for (x = 0; x < var.xres; x++) {
			uint32_t r = x * 255 / (var.xres - 1), g = y * 255 / (var.yres - 1);
			uint32_t b = (x ^ y) & 0xff, px, i;

			if (x >= 200 && x < 264 && y >= 300 && y < 332) {
				r = 0xff;
				g = 0x00;
				b = 0x80;
			}
			px = field(r, &var.red) | field(g, &var.green) | field(b, &var.blue);
			for (i = 0; i < bpp / 8; i++)
				line[x * (bpp / 8) + i] = px >> (8 * i);
		}
	}
	if (pwrite(fd, buf, size, (off_t)var.yoffset * fix.line_length) != (ssize_t)size) {
		perror("fbfill: write");
		return 1;
	}
	fsync(fd);
	printf("FB-FILLED\n");
	return 0;
}
