// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of runner/vnc_scroll.c: scrolls up and down, inside a
 * sub-rectangle, with repeated and blank rows, and pictures that did not
 * scroll.
 */
#include <stdlib.h>
#include <string.h>
#include "kselftest_harness.h"
#include "../../runner/vnc_scroll.h"

#define W 200
#define H 150

static uint8_t old[W * H * 3], cur[W * H * 3];

/* Row @r of a text-like picture: a few coloured runs that differ per row, blank every 7th. */
static void text_row(uint8_t *p, unsigned int r)
{
	unsigned int x;

	srand(r * 7919 + 1);
	for (x = 0; x < W; x++) {
		uint8_t v = r % 7 == 6 ? 0 : (rand() % 3 ? 0 : 0xc0 + (r & 0x3f));

		p[x * 3] = v;
		p[x * 3 + 1] = v / 2;
		p[x * 3 + 2] = r;
	}
}

/* old shows rows base..base+H-1 of the text; cur rows base+shift... */
static void scrolled(int shift)
{
	unsigned int y;

	for (y = 0; y < H; y++) {
		text_row(old + y * W * 3, 1000 + y);
		text_row(cur + y * W * 3, 1000 + y + shift);
	}
}

TEST(scroll_up_one_line)
{
	struct rfb_rect a = { 0, 0, W, H }, b;

	scrolled(16);	/* content moved up 16 rows: cur row y was old row y + 16 */
	EXPECT_EQ(16, vnc_find_scroll(old, cur, W, 3, &a, NULL, &b));
	EXPECT_EQ(0, b.x);
	EXPECT_EQ(0, b.y);
	EXPECT_EQ(W, b.w);
	EXPECT_EQ(H - 16, b.h);
}

TEST(scroll_down)
{
	struct rfb_rect a = { 0, 0, W, H }, b;

	scrolled(-5);
	EXPECT_EQ(-5, vnc_find_scroll(old, cur, W, 3, &a, NULL, &b));
	EXPECT_EQ(5, b.y);
	EXPECT_EQ(H - 5, b.h);
}

TEST(inside_a_rectangle)
{
	struct rfb_rect a = { 20, 30, 100, 100 }, b;
	unsigned int y;

	memset(old, 0x11, sizeof(old));
	memset(cur, 0x11, sizeof(cur));
	for (y = 0; y < 100; y++) {
		text_row(old + ((30 + y) * W + 20) * 3 - 20 * 3, 5000 + y);
		text_row(cur + ((30 + y) * W + 20) * 3 - 20 * 3, 5000 + y + 3);
	}
	EXPECT_EQ(3, vnc_find_scroll(old, cur, W, 3, &a, NULL, &b));
	EXPECT_EQ(20, b.x);
	EXPECT_EQ(30, b.y);
	EXPECT_EQ(100, b.w);
	EXPECT_EQ(97, b.h);
}

TEST(no_scroll)
{
	struct rfb_rect a = { 0, 0, W, H }, b = { 9, 9, 9, 9 };
	unsigned int y;

	/* Nothing changed. */
	scrolled(0);
	EXPECT_EQ(0, vnc_find_scroll(old, cur, W, 3, &a, NULL, &b));
	/* Everything new. */
	for (y = 0; y < H; y++)
		text_row(cur + y * W * 3, 9000 + y);
	EXPECT_EQ(0, vnc_find_scroll(old, cur, W, 3, &a, NULL, &b));
	/* Blank pictures: nothing to go by. */
	memset(old, 0, sizeof(old));
	memset(cur, 0, sizeof(cur));
	EXPECT_EQ(0, vnc_find_scroll(old, cur, W, 3, &a, NULL, &b));
	/* A band too short to pay. */
	scrolled(0);
	for (y = 0; y < 10; y++)
		text_row(cur + (50 + y) * W * 3, 1000 + 52 + y);
	EXPECT_EQ(0, vnc_find_scroll(old, cur, W, 3, &a, NULL, &b));
	EXPECT_EQ(9, b.x);	/* untouched */
}

TEST(tiny_areas)
{
	struct rfb_rect a = { 0, 0, W, 8 }, b;

	scrolled(2);
	EXPECT_EQ(0, vnc_find_scroll(old, cur, W, 3, &a, NULL, &b));
	a = (struct rfb_rect){ 0, 0, 0, H };
	EXPECT_EQ(0, vnc_find_scroll(old, cur, W, 3, &a, NULL, &b));
	a = (struct rfb_rect){ 199, 0, 1, H };	/* one column: too little to hash on */
	vnc_find_scroll(old, cur, W, 3, &a, NULL, &b);
}

TEST_HARNESS_MAIN
