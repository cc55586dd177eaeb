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

	serial__init(&s, sink_tx, NULL, &k);
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

	serial__init(&s, sink_tx, NULL, &k);
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

	serial__init(&s, NULL, NULL, NULL);
	serial__write(&s, 7, 0xa5);
	EXPECT_EQ(0xa5, serial__read(&s, 7));
	serial__write(&s, 4, 0x10);
	serial__write(&s, 0, 0x5a);
	EXPECT_EQ(0x01, serial__read(&s, 5) & 0x01);
	EXPECT_EQ(0x5a, serial__read(&s, 0));
	EXPECT_EQ(0x00, serial__read(&s, 5) & 0x01);
}

struct irq_probe {
	int level, edges;
};

static void probe_irq(void *opaque, int level)
{
	struct irq_probe *p = opaque;

	p->level = level;
	p->edges++;
}

TEST(receive_fifo_and_rx_interrupt)
{
	struct irq_probe p = {};
	struct serial s;
	int i;

	serial__init(&s, NULL, probe_irq, &p);
	EXPECT_EQ(0x01, serial__read(&s, 2) & 0x0f);
	serial__write(&s, 1, 0x01);			/* IER: RDI */
	EXPECT_EQ(0, p.level);
	EXPECT_EQ(0, serial__receive(&s, 'x'));
	EXPECT_EQ(1, p.level);
	EXPECT_EQ(0x04, serial__read(&s, 2) & 0x0f);
	EXPECT_EQ(0x01, serial__read(&s, 5) & 0x01);
	for (i = 1; i < SERIAL_RX_FIFO; i++)
		EXPECT_EQ(0, serial__receive(&s, 'a' + i));
	EXPECT_EQ(-1, serial__receive(&s, 'z'));	/* FIFO full */
	EXPECT_EQ('x', serial__read(&s, 0));
	for (i = 1; i < SERIAL_RX_FIFO; i++)
		EXPECT_EQ('a' + i, serial__read(&s, 0));
	EXPECT_EQ(0, p.level);				/* drained: line drops */
	EXPECT_EQ(0x01, serial__read(&s, 2) & 0x0f);
	EXPECT_EQ(0x00, serial__read(&s, 5) & 0x01);
}

/* The sequence Linux's 8250 driver uses to test THRE interrupts at startup. */
TEST(thre_interrupt_on_enable_and_cleared_by_iir_read)
{
	struct irq_probe p = {};
	struct serial s;

	serial__init(&s, NULL, probe_irq, &p);
	serial__write(&s, 1, 0x02);			/* IER: THRI */
	EXPECT_EQ(1, p.level);
	EXPECT_EQ(0x02, serial__read(&s, 2) & 0x0f);
	EXPECT_EQ(0, p.level);				/* IIR read cleared it */
	EXPECT_EQ(0x01, serial__read(&s, 2) & 0x0f);
	serial__write(&s, 1, 0x00);
	serial__write(&s, 1, 0x02);			/* enabling again raises it */
	EXPECT_EQ(0x02, serial__read(&s, 2) & 0x0f);
	serial__write(&s, 1, 0x00);
	EXPECT_EQ(0, p.level);
}

TEST(thre_interrupt_after_each_transmit)
{
	struct sink k = {};
	struct serial s;

	serial__init(&s, sink_tx, NULL, &k);
	serial__write(&s, 1, 0x02);
	EXPECT_EQ(0x02, serial__read(&s, 2) & 0x0f);
	serial__write(&s, 0, 'a');
	EXPECT_EQ(0x02, serial__read(&s, 2) & 0x0f);	/* sent: empty again */
	EXPECT_EQ(0x01, serial__read(&s, 2) & 0x0f);
	EXPECT_EQ(1, k.n);
}

TEST(rx_interrupt_outranks_thre)
{
	struct irq_probe p = {};
	struct serial s;

	serial__init(&s, NULL, probe_irq, &p);
	serial__write(&s, 1, 0x03);
	EXPECT_EQ(0, serial__receive(&s, 'q'));
	EXPECT_EQ(0x04, serial__read(&s, 2) & 0x0f);
	EXPECT_EQ('q', serial__read(&s, 0));
	EXPECT_EQ(1, p.level);				/* THRE still pending */
	EXPECT_EQ(0x02, serial__read(&s, 2) & 0x0f);
	EXPECT_EQ(0, p.level);
}

TEST(fifo_bits_follow_fcr)
{
	struct serial s;

	serial__init(&s, NULL, NULL, NULL);
	EXPECT_EQ(0x01, serial__read(&s, 2));
	serial__write(&s, 2, 0x01);
	EXPECT_EQ(0xc1, serial__read(&s, 2));
	EXPECT_EQ(0, serial__receive(&s, 'x'));
	serial__write(&s, 2, 0x03);			/* clear the receive FIFO */
	EXPECT_EQ(0x00, serial__read(&s, 5) & 0x01);
}

/* Linux's 8250 autoconfig: MCR = LOOP | OUT2 | RTS must read MSR 0x90. */
TEST(loopback_modem_lines)
{
	struct serial s;

	serial__init(&s, NULL, NULL, NULL);
	serial__write(&s, 4, 0x1a);
	EXPECT_EQ(0x90, serial__read(&s, 6) & 0xf0);
	serial__write(&s, 4, 0x15);			/* LOOP | OUT1 | DTR */
	EXPECT_EQ(0x60, serial__read(&s, 6) & 0xf0);
}

TEST(bad_offsets_are_harmless)
{
	struct serial s;

	serial__init(&s, NULL, NULL, NULL);
	EXPECT_EQ(0xff, serial__read(&s, 8));
	EXPECT_EQ(0xff, serial__read(&s, ~0u));
	serial__write(&s, 1000, 0x12);
	EXPECT_EQ(0x00, serial__read(&s, 3));
}

TEST_HARNESS_MAIN
