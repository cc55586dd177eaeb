// SPDX-License-Identifier: GPL-2.0
/* Host unit test of devices/serial.c: registers as a Linux 8250 driver probes them. */
#include "kselftest_harness.h"
#include "../../devices/serial.h"

struct sink {
	char buf[64];
	size_t n;
};

static void sink_tx(void *opaque, uint8_t b)
{
	struct sink *k = opaque;

	if (k->n < sizeof(k->buf))
		k->buf[k->n++] = b;
}

TEST(transmit_reaches_the_host)
{
	struct sink k = {};
	struct serial s;

	serial__init(&s, sink_tx, &k);
	serial__write(&s, 0, 'h');
	serial__write(&s, 0, 'i');
	ASSERT_EQ(2, k.n);
	EXPECT_EQ(0, memcmp(k.buf, "hi", 2));
	EXPECT_EQ(0x60, serial__read(&s, 5) & 0x61);
}

TEST(divisor_latch_does_not_transmit)
{
	struct sink k = {};
	struct serial s;

	serial__init(&s, sink_tx, &k);
	serial__write(&s, 3, 0x83);
	serial__write(&s, 0, 0x01);
	serial__write(&s, 1, 0x00);
	EXPECT_EQ(0x01, serial__read(&s, 0));
	EXPECT_EQ(0x00, serial__read(&s, 1));
	serial__write(&s, 3, 0x03);
	EXPECT_EQ(0, k.n);
	EXPECT_EQ(0x03, serial__read(&s, 3));
}

TEST(scratch_and_loopback)
{
	struct serial s;

	serial__init(&s, NULL, NULL);
	serial__write(&s, 7, 0xa5);
	EXPECT_EQ(0xa5, serial__read(&s, 7));
	serial__write(&s, 4, 0x10);
	serial__write(&s, 0, 0x5a);
	EXPECT_EQ(0x01, serial__read(&s, 5) & 0x01);
	EXPECT_EQ(0x5a, serial__read(&s, 0));
	EXPECT_EQ(0x00, serial__read(&s, 5) & 0x01);
}

TEST(receive_and_interrupt_identification)
{
	struct serial s;

	serial__init(&s, NULL, NULL);
	EXPECT_EQ(0x01, serial__read(&s, 2) & 0x0f);
	serial__write(&s, 1, 0x01);
	EXPECT_EQ(0, serial__receive(&s, 'x'));
	EXPECT_EQ(-1, serial__receive(&s, 'y'));
	EXPECT_EQ(0x04, serial__read(&s, 2) & 0x0f);
	EXPECT_EQ('x', serial__read(&s, 0));
	EXPECT_EQ(0x01, serial__read(&s, 2) & 0x0f);
}

TEST(bad_offsets_are_harmless)
{
	struct serial s;

	serial__init(&s, NULL, NULL);
	EXPECT_EQ(0xff, serial__read(&s, 8));
	EXPECT_EQ(0xff, serial__read(&s, ~0u));
	serial__write(&s, 1000, 0x12);
	EXPECT_EQ(0x00, serial__read(&s, 3));
}

TEST_HARNESS_MAIN
