// SPDX-License-Identifier: GPL-2.0
/* Host unit test of runner/escape.c: the console's Ctrl-A escapes. */
#include "kselftest_harness.h"
#include "../../runner/escape.h"

TEST(plain_bytes_pass_through)
{
	struct escape e = {};
	uint8_t out[2];
	int c;

	for (c = 0; c < 256; c++) {
		if (c == ESCAPE_CHAR)
			continue;
		ASSERT_EQ(1, escape__feed(&e, c, out));
		EXPECT_EQ(c, out[0]);
	}
}

TEST(ctrl_a_x_ends_the_run)
{
	struct escape e = {};
	uint8_t out[2];

	EXPECT_EQ(0, escape__feed(&e, ESCAPE_CHAR, out));
	EXPECT_EQ(-1, escape__feed(&e, 'x', out));
}

TEST(x_alone_is_just_x)
{
	struct escape e = {};
	uint8_t out[2];

	EXPECT_EQ(1, escape__feed(&e, 'x', out));
	EXPECT_EQ('x', out[0]);
}

TEST(ctrl_a_twice_sends_one)
{
	struct escape e = {};
	uint8_t out[2];

	EXPECT_EQ(0, escape__feed(&e, ESCAPE_CHAR, out));
	EXPECT_EQ(1, escape__feed(&e, ESCAPE_CHAR, out));
	EXPECT_EQ(ESCAPE_CHAR, out[0]);
	/* and the escape is over: the next x is an x */
	EXPECT_EQ(1, escape__feed(&e, 'x', out));
	EXPECT_EQ('x', out[0]);
}

TEST(ctrl_a_other_sends_both)
{
	struct escape e = {};
	uint8_t out[2];

	EXPECT_EQ(0, escape__feed(&e, ESCAPE_CHAR, out));
	EXPECT_EQ(2, escape__feed(&e, 'c', out));
	EXPECT_EQ(ESCAPE_CHAR, out[0]);
	EXPECT_EQ('c', out[1]);
}

TEST_HARNESS_MAIN
