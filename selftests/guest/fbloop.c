// SPDX-License-Identifier: GPL-2.0
/*
 * fbloop: the display benchmark's guest (scripts/bench-display).  Redraws
 * a whole Linux framebuffer N times, a different picture each time, in
 * lockstep with the host through the console.
 *
 *   fbloop DEV|ram NAME FRAMES
 *
 * Prints "DISP-PHASE NAME FRAMES" and waits for a line on stdin (the host
 * samples the VMM's CPU time), then per frame writes the whole picture
 * with one pwrite() (as fbfill does: Linux 6.1's fbdev emulation only
 * sends writes of more than one line to the card), prints "DISP-FRAME I"
 * (the same length in every phase: each byte is a port write) and waits
 * for a line (the host takes a screendump, or not, and
 * answers), and last prints "DISP-END NAME FRAMES NS" (NS: the loop's
 * time on the guest's CLOCK_MONOTONIC) and waits for a line again.  With
 * "ram" instead of a device the pictures go to an ordinary buffer of the
 * same size (1024x768 at 16 bpp): the same loop with no display at all.
 *
 *   fbloop DEV|ram NAME FRAMES scroll
 *
 * scrolls text instead, as fbcon does: the screen starts full of lines of
 * 8x16 text (a made-up font: the bytes only have to look like text to an
 * encoder), and each frame moves the picture up one text line (memmove of
 * a copy in memory), draws one new line at the bottom and writes the
 * whole screen with one pwrite().
 */
#include <fcntl.h>
#include <linux/fb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define NPIC 4

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ull + t.tv_nsec;
}

#include "fbtext.h"

static void step(void)
{
	char line[64];

	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		exit(1);
}

int main(int argc, char **argv)
{
	uint32_t xres = 1024, yres = 768, bpp = 16, pitch = 2048, x, y, k, i;
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	uint8_t *pic[NPIC], *ram = NULL;
	uint64_t t0, t1;
	off_t off = 0;
	size_t size;
	long frames;
	int fd = -1, scroll;

	frames = argc == 4 || argc == 5 ? atol(argv[3]) : 0;
	scroll = argc == 5 && !strcmp(argv[4], "scroll");
	if (frames <= 0 || (argc == 5 && !scroll)) {
		fprintf(stderr, "usage: fbloop DEV|ram NAME FRAMES [scroll]\n");
		return 2;
	}
	if (strcmp(argv[1], "ram")) {
		fd = open(argv[1], O_RDWR);
		if (fd < 0 || ioctl(fd, FBIOGET_VSCREENINFO, &var) < 0 ||
		    ioctl(fd, FBIOGET_FSCREENINFO, &fix) < 0) {
			perror(argv[1]);
			return 1;
		}
		xres = var.xres;
		yres = var.yres;
		bpp = var.bits_per_pixel;
		pitch = fix.line_length;
		off = (off_t)var.yoffset * pitch;
	}
	if ((bpp != 16 && bpp != 32) || pitch < xres * (bpp / 8)) {
		fprintf(stderr, "fbloop: unsupported mode\n");
		return 1;
	}
	size = (size_t)pitch * yres;
	for (k = 0; k < NPIC && !scroll; k++) {
		pic[k] = malloc(size);
		if (!pic[k])
			return 1;
		for (y = 0; y < yres; y++)
			for (x = 0; x < xres; x++) {
				uint32_t v = ((x + 97 * k) ^ (y * 3 + 51 * k)) * 0x10101u + k * 0x3f1f;
				uint8_t *p = pic[k] + (size_t)y * pitch + x * (bpp / 8);

				for (i = 0; i < bpp / 8; i++)
					p[i] = v >> (8 * i);
			}
	}
	if (fd < 0 || scroll) {
		ram = malloc(size);
		if (!ram)
			return 1;
	}
	if (scroll) {	/* a screen full of text, on the screen before the phase starts */
		for (y = 0; y + 16 <= yres; y += 16)
			text_line(ram, y, xres, bpp, pitch);
		if (fd >= 0 && pwrite(fd, ram, size, off) != (ssize_t)size) {
			perror("fbloop: write");
			return 1;
		}
	}
	printf("DISP-PHASE %s %ld %ux%u %u\n", argv[2], frames, xres, yres, bpp);
	step();
	t0 = now_ns();
	for (i = 0; i < frames; i++) {
		if (scroll) {
			y = yres / 16 * 16 - 16;
			memmove(ram, ram + (size_t)16 * pitch, (size_t)y * pitch);
			text_line(ram, y, xres, bpp, pitch);
			if (fd >= 0 && pwrite(fd, ram, size, off) != (ssize_t)size) {
				perror("fbloop: write");
				return 1;
			}
			__asm__ volatile("" : : "r"(ram) : "memory");
		} else if (fd >= 0) {
			if (pwrite(fd, pic[i % NPIC], size, off) != (ssize_t)size) {
				perror("fbloop: write");
				return 1;
			}
		} else {
			memcpy(ram, pic[i % NPIC], size);
			__asm__ volatile("" : : "r"(ram) : "memory");
		}
		printf("DISP-FRAME %u\n", i);
		step();
	}
	t1 = now_ns();
	printf("DISP-END %s %ld %llu\n", argv[2], frames, (unsigned long long)(t1 - t0));
	step();
	return 0;
}
