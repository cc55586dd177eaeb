// SPDX-License-Identifier: GPL-2.0
/* Host unit test of runner/e820.c: the guest memory map for several RAM sizes. */
#include "kselftest_harness.h"
#include "../../runner/e820.h"

#define MiB		(1ULL << 20)
#define GiB		(1ULL << 30)
#define LOWMEM_END	0xc0000000ULL
#define HIGH_START	0x100000000ULL

static uint64_t ram_in(const struct e820_range *m, int n, uint64_t lo, uint64_t hi)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < n; i++) {
		uint64_t a = m[i].addr, b = m[i].addr + m[i].size;

		if (m[i].type != E820_TYPE_RAM)
			continue;
		if (a < lo)
			a = lo;
		if (b > hi)
			b = hi;
		if (b > a)
			sum += b - a;
	}
	return sum;
}

static void check_sane(struct __test_metadata *_metadata, const struct e820_range *m,
		       int n, uint64_t ram)
{
	uint64_t low = ram < LOWMEM_END ? ram : LOWMEM_END;
	int i;

	ASSERT_GT(n, 0);
	for (i = 0; i < n; i++) {
		EXPECT_GT(m[i].size, 0);
		if (i)
			EXPECT_LE(m[i - 1].addr + m[i - 1].size, m[i].addr);
	}
	/* RAM exactly where the runner maps it, none in the holes. */
	EXPECT_EQ(0x9fc00, ram_in(m, n, 0, 0x100000));
	EXPECT_EQ(low - 0x100000, ram_in(m, n, 0x100000, LOWMEM_END));
	EXPECT_EQ(0, ram_in(m, n, LOWMEM_END, HIGH_START));
	EXPECT_EQ(ram - low, ram_in(m, n, HIGH_START, ~0ULL));
}

TEST(ram_512m)
{
	struct e820_range m[16];
	int n = e820__build(512 * MiB, LOWMEM_END, HIGH_START, m, 16);

	ASSERT_EQ(5, n);
	check_sane(_metadata, m, n, 512 * MiB);
	EXPECT_EQ(0, m[0].addr);
	EXPECT_EQ(0x9fc00, m[0].size);
	EXPECT_EQ(E820_TYPE_RESERVED, m[1].type);
	EXPECT_EQ(0xe0000, m[2].addr);			/* ACPI tables */
	EXPECT_EQ(E820_TYPE_RESERVED, m[2].type);
	EXPECT_EQ(0x100000, m[3].addr);
	EXPECT_EQ(512 * MiB - 0x100000, m[3].size);
	EXPECT_EQ(E820_TSS_START, m[4].addr);
	EXPECT_EQ(E820_TYPE_RESERVED, m[4].type);
}

TEST(ram_exactly_lowmem)
{
	struct e820_range m[16];
	int n = e820__build(3 * GiB, LOWMEM_END, HIGH_START, m, 16);

	ASSERT_EQ(5, n);
	check_sane(_metadata, m, n, 3 * GiB);
}

TEST(ram_split_above_4g)
{
	struct e820_range m[16];
	int n = e820__build(5 * GiB, LOWMEM_END, HIGH_START, m, 16);

	ASSERT_EQ(6, n);
	check_sane(_metadata, m, n, 5 * GiB);
	EXPECT_EQ(HIGH_START, m[5].addr);
	EXPECT_EQ(2 * GiB, m[5].size);
	EXPECT_EQ(E820_TYPE_RAM, m[5].type);
}

TEST(many_sizes_are_sane)
{
	struct e820_range m[16];
	uint64_t ram;

	for (ram = 2 * MiB; ram <= 70 * GiB; ram = ram * 3 / 2 + 4096) {
		int n = e820__build(ram & ~0xfffULL, LOWMEM_END, HIGH_START, m, 16);

		check_sane(_metadata, m, n, ram & ~0xfffULL);
	}
}

TEST(rejects)
{
	struct e820_range m[16];

	EXPECT_EQ(-1, e820__build(1 * MiB, LOWMEM_END, HIGH_START, m, 16));
	EXPECT_EQ(-1, e820__build(0, LOWMEM_END, HIGH_START, m, 16));
	EXPECT_EQ(-1, e820__build(5 * GiB, LOWMEM_END, HIGH_START, m, 5));	/* no room */
	EXPECT_EQ(-1, e820__build(512 * MiB, LOWMEM_END, HIGH_START, m, 0));
	EXPECT_EQ(-1, e820__build(512 * MiB, LOWMEM_END, LOWMEM_END - 1, m, 16));
}

TEST_HARNESS_MAIN
