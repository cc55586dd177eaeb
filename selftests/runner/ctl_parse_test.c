// SPDX-License-Identifier: GPL-2.0
/* Host unit test of runner/ctl_parse.c: the control socket's requests. */
#include <stdlib.h>
#include "kselftest_harness.h"
#include "../../runner/ctl_parse.h"

static struct ctl_req *req(void)
{
	static struct ctl_req r;

	return &r;
}

TEST(simple_commands)
{
	struct ctl_req *r = req();
	char err[128];

	ASSERT_EQ(0, ctl_parse("info", r, err, sizeof(err)));
	EXPECT_EQ(CTL_INFO, r->cmd);
	ASSERT_EQ(0, ctl_parse("powerdown", r, err, sizeof(err)));
	EXPECT_EQ(CTL_POWERDOWN, r->cmd);
	ASSERT_EQ(0, ctl_parse("  quit \r", r, err, sizeof(err)));
	EXPECT_EQ(CTL_QUIT, r->cmd);
	ASSERT_EQ(0, ctl_parse("help", r, err, sizeof(err)));
	EXPECT_EQ(CTL_HELP, r->cmd);
	EXPECT_EQ(-1, ctl_parse("quit now", r, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "no arguments"));
	EXPECT_EQ(-1, ctl_parse("frobnicate", r, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "unknown command 'frobnicate'"));
	EXPECT_EQ(-1, ctl_parse("", r, err, sizeof(err)));
	EXPECT_EQ(-1, ctl_parse("   ", r, err, sizeof(err)));
	EXPECT_EQ(-1, ctl_parse("INFO", r, err, sizeof(err)));
}

TEST(screendump)
{
	struct ctl_req *r = req();
	char err[128];

	ASSERT_EQ(0, ctl_parse("screendump /tmp/a b.png", r, err, sizeof(err)));
	EXPECT_EQ(CTL_SCREENDUMP, r->cmd);
	EXPECT_STREQ("/tmp/a b.png", r->path);
	EXPECT_EQ(-1, ctl_parse("screendump", r, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "no FILE"));
	EXPECT_EQ(-1, ctl_parse("screendump   ", r, err, sizeof(err)));
}

TEST(keys)
{
	struct ctl_req *r = req();
	char err[128];

	ASSERT_EQ(0, ctl_parse("key ctrl-alt-delete", r, err, sizeof(err)));
	EXPECT_EQ(CTL_KEY, r->cmd);
	ASSERT_EQ(1, r->ncombos);
	ASSERT_EQ(3, r->combo[0].n);
	EXPECT_EQ(0x1d, r->combo[0].code[0]);
	EXPECT_EQ(0x38, r->combo[0].code[1]);
	EXPECT_EQ(0xe053, r->combo[0].code[2]);

	ASSERT_EQ(0, ctl_parse("key a shift-2  ret f1 f10 f12 up", r, err, sizeof(err)));
	ASSERT_EQ(7, r->ncombos);
	EXPECT_EQ(0x1e, r->combo[0].code[0]);
	ASSERT_EQ(2, r->combo[1].n);
	EXPECT_EQ(0x2a, r->combo[1].code[0]);
	EXPECT_EQ(0x03, r->combo[1].code[1]);
	EXPECT_EQ(0x1c, r->combo[2].code[0]);
	EXPECT_EQ(0x3b, r->combo[3].code[0]);
	EXPECT_EQ(0x44, r->combo[4].code[0]);
	EXPECT_EQ(0x58, r->combo[5].code[0]);
	EXPECT_EQ(0xe048, r->combo[6].code[0]);

	EXPECT_EQ(0x0b, ctl_key_code("0"));
	EXPECT_EQ(0x32, ctl_key_code("m"));
	EXPECT_EQ(0x10, ctl_key_code("q"));
	EXPECT_EQ(-1, ctl_key_code("f0"));
	EXPECT_EQ(-1, ctl_key_code("f13"));
	EXPECT_EQ(-1, ctl_key_code("A"));

	EXPECT_EQ(-1, ctl_parse("key", r, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "no keys"));
	EXPECT_EQ(-1, ctl_parse("key ctrl-bogus", r, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "unknown key 'bogus'"));
	EXPECT_EQ(-1, ctl_parse("key ctrl-", r, err, sizeof(err)));
	EXPECT_EQ(-1, ctl_parse("key -a", r, err, sizeof(err)));
	EXPECT_EQ(-1, ctl_parse("key a--b", r, err, sizeof(err)));
	EXPECT_EQ(-1, ctl_parse("key a-a-a-a-a-a-a-a-a", r, err, sizeof(err)));
}

TEST(pointer)
{
	struct ctl_req *r = req();
	char err[128];

	ASSERT_EQ(0, ctl_parse("pointer 10 20", r, err, sizeof(err)));
	EXPECT_EQ(CTL_POINTER, r->cmd);
	EXPECT_EQ(10, r->x);
	EXPECT_EQ(20, r->y);
	EXPECT_EQ(0, r->buttons);
	ASSERT_EQ(0, ctl_parse("pointer 0 0 5", r, err, sizeof(err)));
	EXPECT_EQ(5, r->buttons);
	EXPECT_EQ(-1, ctl_parse("pointer 10", r, err, sizeof(err)));
	EXPECT_EQ(-1, ctl_parse("pointer 10 20 1 2", r, err, sizeof(err)));
	EXPECT_EQ(-1, ctl_parse("pointer -1 20", r, err, sizeof(err)));
	EXPECT_EQ(-1, ctl_parse("pointer 1x 20", r, err, sizeof(err)));
	EXPECT_EQ(-1, ctl_parse("pointer 65536 20", r, err, sizeof(err)));
	EXPECT_EQ(-1, ctl_parse("pointer 1 2 8", r, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "BUTTONS"));
}

TEST(too_long)
{
	struct ctl_req *r = req();
	char err[128], *line = malloc(CTL_LINE_MAX + 10);

	ASSERT_NE(NULL, line);
	memset(line, 'a', CTL_LINE_MAX + 9);
	line[CTL_LINE_MAX + 9] = 0;
	memcpy(line, "key ", 4);
	EXPECT_EQ(-1, ctl_parse(line, r, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "too long"));
	free(line);
}

TEST_HARNESS_MAIN
