// SPDX-License-Identifier: GPL-2.0
/*
 * vncperf: scripts/bench-display's VNC workloads on the host, for
 * profiling the server without an emulated host.  The real console and
 * VNC server (runner/vnc.c) serve a fake display of 1024x768 RGB565 (what
 * the bench's guest shows on Cirrus) to bench_display's client
 * (vncwatch.c) over loopback; each frame redraws the whole picture the way
 * selftests/guest/fbloop does ("full": one of four XOR patterns; "scroll":
 * 8x16 text moved up a line and one new line), damages all of it (as the
 * dirty log does for a whole-screen write) and reads one incremental
 * update.  The server's work all runs on its client thread: profile with
 *   valgrind --tool=callgrind --separate-threads=yes build/host/bench/vncperf ENC WORKLOAD N
 * and read the thread that ran try_update() (the callgrind.out.PID-TID
 * file that names it); its total for N = 10 minus that for N = 2, over 8,
 * is the instructions a frame without the first, full update.  Prints the
 * bytes per frame.
 *
 *   vncperf raw|hextile|zrle|tight|tight-jpeg full|scroll [FRAMES]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../devices/console.h"
#include "../../runner/vnc.h"
#include "vncwatch.h"
#include "../guest/fbtext.h"

#define W	1024
#define H	768
#define PITCH	(W * 2)

static uint8_t vram[PITCH * H];

static void disp_refresh(void *opaque, struct con_surface *s)
{
	(void)opaque;
	*s = (struct con_surface){ .format = CON_FMT_RGB565, .width = W, .height = H,
				   .stride = PITCH, .data = vram, .data_len = sizeof(vram),
				   .cursor_x = -1, .cursor_y = -1 };
}

static const struct console_display_ops disp = { .refresh = disp_refresh };

static void pattern(uint32_t k)
{
	uint32_t x, y;

	for (y = 0; y < H; y++)
		for (x = 0; x < W; x++) {
			uint32_t v = ((x + 97 * k) ^ (y * 3 + 51 * k)) * 0x10101u + k * 0x3f1f;

			vram[y * PITCH + x * 2] = v;
			vram[y * PITCH + x * 2 + 1] = v >> 8;
		}
}

int main(int argc, char **argv)
{
	struct vnc_opts o = { .addr = "127.0.0.1", .max_clients = 4, .lossy = true };
	char err[256], d[1024], hp[64], *p;
	unsigned long long bytes = 0;
	struct vncw v;
	int enc, scroll, frames, i;
	long long n;

	if (argc < 3 || (enc = vncw_parse_encoding(argv[1])) < 0 ||
	    (strcmp(argv[2], "full") && strcmp(argv[2], "scroll"))) {
		fprintf(stderr, "usage: vncperf raw|hextile|zrle|tight|tight-jpeg full|scroll [FRAMES]\n");
		return 2;
	}
	scroll = !strcmp(argv[2], "scroll");
	frames = argc > 3 ? atoi(argv[3]) : 10;
	console_set_display(&disp, NULL);
	if (scroll)
		for (i = 0; i + 16 <= H; i += 16)
			text_line(vram, i, W, 16, PITCH);
	else
		pattern(3);
	if (vnc_start(&o, err, sizeof(err)) < 0) {
		fprintf(stderr, "vnc_start: %s\n", err);
		return 1;
	}
	vnc_describe(d, sizeof(d));
	p = strstr(d, "listening on 127.0.0.1:");
	if (!p)
		return 1;
	snprintf(hp, sizeof(hp), "127.0.0.1:%d", atoi(p + strlen("listening on 127.0.0.1:")));
	if (vncw_open(&v, hp, enc, 2, 8, 3000) < 0) {
		fprintf(stderr, "vncperf: %s\n", v.err);
		return 1;
	}
	for (i = 0; i < frames; i++) {
		if (scroll) {
			memmove(vram, vram + 16 * PITCH, (H - 16) * PITCH);
			text_line(vram, H - 16, W, 16, PITCH);
		} else {
			pattern(i % 4);
		}
		console_damage(0, 0, W, H);
		n = vncw_frame(&v);
		if (n < 0) {
			fprintf(stderr, "vncperf: %s\n", v.err);
			return 1;
		}
		bytes += n;
	}
	printf("%s %s: %d frames, %.1f KB a frame\n", argv[1], argv[2], frames,
	       bytes / 1024.0 / frames);
	vncw_close(&v);
	vnc_stop();
	return 0;
}
