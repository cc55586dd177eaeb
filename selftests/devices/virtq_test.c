// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of devices/virtq.c: the split-ring walker on good chains
 * (direct, indirect, event index) and on hostile rings, over a 1 MiB
 * array standing in for guest RAM.
 */
#include <string.h>
#include "kselftest_harness.h"
#include "../../devices/virtq.h"

#define RAM	(1 << 20)
#define QSZ	16
#define DESC	0x1000
#define AVAIL	0x2000
#define USED	0x3000
#define BUF	0x10000

#include "fake_ram.h"

static void set_desc(uint64_t table, unsigned int i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	uint8_t *d = ram + table + 16 * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static uint16_t rd16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, ram + gpa, 2);
	return v;
}

static void wr16(uint64_t gpa, uint16_t v)
{
	memcpy(ram + gpa, &v, 2);
}

static void avail_add(uint16_t head)
{
	uint16_t idx = rd16(AVAIL + 2);

	wr16(AVAIL + 4 + 2 * (idx % QSZ), head);
	wr16(AVAIL + 2, idx + 1);
}

static void setup(struct virtq *q, bool indirect, bool event_idx)
{
	memset(ram, 0, RAM);
	virtq_reset(q);
	q->size = QSZ;
	q->desc = DESC;
	q->avail = AVAIL;
	q->used = USED;
	q->indirect = indirect;
	q->event_idx = event_idx;
	q->ready = true;
}

TEST(check_rejects_bad_layouts)
{
	char err[160];
	struct virtq q;

	setup(&q, false, false);
	EXPECT_EQ(0, virtq_check(&q, &mem, 256, err, sizeof(err)));
	q.size = 12;
	EXPECT_EQ(-1, virtq_check(&q, &mem, 256, err, sizeof(err)));
	q.size = 512;
	EXPECT_EQ(-1, virtq_check(&q, &mem, 256, err, sizeof(err)));
	q.size = QSZ;
	q.desc = DESC + 8;
	EXPECT_EQ(-1, virtq_check(&q, &mem, 256, err, sizeof(err)));
	q.desc = RAM - 16;
	EXPECT_EQ(-1, virtq_check(&q, &mem, 256, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "outside guest RAM"));
	q.desc = DESC;
	q.used = ~0ULL - 3;	/* wraps */
	EXPECT_EQ(-1, virtq_check(&q, &mem, 256, err, sizeof(err)));
}

TEST(direct_chain_in_order)
{
	struct virtq_req r;
	struct virtq q;
	char err[160];

	setup(&q, false, false);
	EXPECT_EQ(0, virtq_pop(&q, &mem, &r, err, sizeof(err)));	/* empty */
	set_desc(DESC, 3, BUF, 16, VIRTQ_DESC_F_NEXT, 7);
	set_desc(DESC, 7, BUF + 0x100, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	set_desc(DESC, 1, BUF + 0x400, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_add(3);
	ASSERT_EQ(1, virtq_pop(&q, &mem, &r, err, sizeof(err)));
	EXPECT_EQ(3, r.head);
	EXPECT_EQ(1, r.nout);
	EXPECT_EQ(2, r.nin);
	EXPECT_EQ(16, r.out_len);
	EXPECT_EQ(513, r.in_len);
	EXPECT_EQ(ram + BUF + 0x100, r.iov[1].iov_base);
	EXPECT_EQ(0, virtq_pop(&q, &mem, &r, err, sizeof(err)));
	EXPECT_EQ(0, virtq_push(&q, &mem, 3, 513));
	EXPECT_EQ(1, rd16(USED + 2));
	EXPECT_EQ(3, rd16(USED + 4));
	EXPECT_TRUE(virtq_should_signal(&q, &mem));
	wr16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	EXPECT_FALSE(virtq_should_signal(&q, &mem));
}

TEST(ring_wraps_past_16_bits)
{
	struct virtq_req r;
	struct virtq q;
	char err[160];
	unsigned int i;

	setup(&q, false, false);
	q.last_avail = q.used_idx = 0xfffe;
	wr16(AVAIL + 2, 0xfffe);
	set_desc(DESC, 0, BUF, 8, 0, 0);
	for (i = 0; i < 4; i++) {
		avail_add(0);
		ASSERT_EQ(1, virtq_pop(&q, &mem, &r, err, sizeof(err)));
		ASSERT_EQ(0, virtq_push(&q, &mem, 0, 0));
	}
	EXPECT_EQ(2, q.last_avail);
	EXPECT_EQ(2, rd16(USED + 2));
}

TEST(indirect_table)
{
	struct virtq_req r;
	struct virtq q;
	char err[160];

	setup(&q, true, false);
	set_desc(0x8000, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 2);
	set_desc(0x8000, 2, BUF + 0x200, 4096, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	set_desc(0x8000, 1, BUF + 0x2000, 1, VIRTQ_DESC_F_WRITE, 0);
	set_desc(DESC, 5, 0x8000, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(5);
	ASSERT_EQ(1, virtq_pop(&q, &mem, &r, err, sizeof(err)));
	EXPECT_EQ(5, r.head);
	EXPECT_EQ(1, r.nout);
	EXPECT_EQ(2, r.nin);
	EXPECT_EQ(4097, r.in_len);
}

TEST(event_idx_suppresses_and_requests)
{
	struct virtq_req r;
	struct virtq q;
	char err[160];

	setup(&q, false, true);
	set_desc(DESC, 0, BUF, 8, 0, 0);
	avail_add(0);
	avail_add(0);
	ASSERT_EQ(1, virtq_pop(&q, &mem, &r, err, sizeof(err)));
	EXPECT_EQ(1, rd16(USED + 4 + 8 * QSZ));		/* avail_event: next entry */
	ASSERT_EQ(1, virtq_pop(&q, &mem, &r, err, sizeof(err)));
	ASSERT_EQ(0, virtq_pop(&q, &mem, &r, err, sizeof(err)));
	EXPECT_EQ(2, rd16(USED + 4 + 8 * QSZ));
	/* The first interrupt always goes; then only when used passes used_event. */
	virtq_push(&q, &mem, 0, 0);
	EXPECT_TRUE(virtq_should_signal(&q, &mem));
	wr16(AVAIL + 4 + 2 * QSZ, 5);			/* used_event: after entry 5 */
	virtq_push(&q, &mem, 0, 0);
	EXPECT_FALSE(virtq_should_signal(&q, &mem));
	q.used_idx = 5;
	virtq_push(&q, &mem, 0, 0);			/* used idx 5 -> 6 */
	EXPECT_TRUE(virtq_should_signal(&q, &mem));
}

/* One hostile ring each: the pop fails with a reason and nothing is consumed. */
static void expect_bad(struct __test_metadata *_metadata, struct virtq *q, const char *why)
{
	struct virtq_req r;
	char err[160] = "";

	ASSERT_EQ(-1, virtq_pop(q, &mem, &r, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, why)) {
		TH_LOG("reason was '%s'", err);
	}
	EXPECT_EQ(0, q->last_avail);
}

TEST(hostile_head_out_of_range)
{
	struct virtq q;

	setup(&q, false, false);
	avail_add(QSZ);
	expect_bad(_metadata, &q, "out of range");
}

TEST(hostile_next_out_of_range)
{
	struct virtq q;

	setup(&q, false, false);
	set_desc(DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 0xffff);
	avail_add(0);
	expect_bad(_metadata, &q, "out of range");
}

TEST(hostile_loop)
{
	struct virtq q;

	setup(&q, false, false);
	set_desc(DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
	avail_add(0);
	expect_bad(_metadata, &q, "loop");
}

TEST(hostile_self_loop_in_indirect_table)
{
	struct virtq q;

	setup(&q, true, false);
	set_desc(0x8000, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(0x8000, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(DESC, 0, 0x8000, 32, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(0);
	expect_bad(_metadata, &q, "loop");
}

TEST(hostile_buffer_outside_ram)
{
	struct virtq q;

	setup(&q, false, false);
	set_desc(DESC, 0, RAM - 8, 16, 0, 0);
	avail_add(0);
	expect_bad(_metadata, &q, "outside guest RAM");
	setup(&q, false, false);
	set_desc(DESC, 0, ~0ULL - 4, 16, 0, 0);		/* wraps around */
	avail_add(0);
	expect_bad(_metadata, &q, "outside guest RAM");
}

TEST(hostile_indirect_not_negotiated)
{
	struct virtq q;

	setup(&q, false, false);
	set_desc(0x8000, 0, BUF, 8, 0, 0);
	set_desc(DESC, 0, 0x8000, 16, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(0);
	expect_bad(_metadata, &q, "not negotiated");
}

TEST(hostile_nested_indirect)
{
	struct virtq q;

	setup(&q, true, false);
	set_desc(0x8000, 0, 0x9000, 16, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc(0x9000, 0, BUF, 8, 0, 0);
	set_desc(DESC, 0, 0x8000, 16, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(0);
	expect_bad(_metadata, &q, "inside an indirect");
}

TEST(hostile_indirect_with_next_or_bad_length)
{
	struct virtq q;

	setup(&q, true, false);
	set_desc(DESC, 0, 0x8000, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	avail_add(0);
	expect_bad(_metadata, &q, "NEXT");
	setup(&q, true, false);
	set_desc(DESC, 0, 0x8000, 24, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(0);
	expect_bad(_metadata, &q, "multiple of 16");
	setup(&q, true, false);
	set_desc(DESC, 0, RAM - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(0);
	expect_bad(_metadata, &q, "outside guest RAM");
}

TEST(hostile_readable_after_writable)
{
	struct virtq q;

	setup(&q, false, false);
	set_desc(DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	set_desc(DESC, 1, BUF, 8, 0, 0);
	avail_add(0);
	expect_bad(_metadata, &q, "readable buffer after");
}

TEST(hostile_avail_index_jump)
{
	struct virtq q;

	setup(&q, false, false);
	wr16(AVAIL + 2, QSZ + 1);
	expect_bad(_metadata, &q, "ahead");
}

TEST(hostile_huge_indirect_chain_is_bounded)
{
	struct virtq q;
	unsigned int i, n = 2048;

	setup(&q, true, false);
	for (i = 0; i < n; i++)
		set_desc(0x20000, i, BUF, 1, VIRTQ_DESC_F_NEXT, i + 1);
	set_desc(0x20000, n - 1, BUF, 1, 0, 0);
	set_desc(DESC, 0, 0x20000, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(0);
	expect_bad(_metadata, &q, "more than");
}

TEST(iov_copies_across_buffers)
{
	uint8_t a[3], b[5], out[8];
	struct iovec iov[2] = { { a, 3 }, { b, 5 } };

	EXPECT_EQ(6, buf_to_iov(iov, 2, 2, "abcdef", 6));
	EXPECT_EQ('a', a[2]);
	EXPECT_EQ('f', b[4]);
	EXPECT_EQ(4, iov_to_buf(iov, 2, 4, out, 8));
	EXPECT_EQ(0, memcmp(out, "cdef", 4));
	EXPECT_EQ(0, buf_to_iov(iov, 2, 8, "x", 1));
}

TEST_HARNESS_MAIN
