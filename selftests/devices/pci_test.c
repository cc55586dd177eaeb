// SPDX-License-Identifier: GPL-2.0
/* Host unit test of devices/pci.c: config mechanism #1, ECAM, BAR sizing and decode, write masks. */
#include <string.h>
#include "kselftest_harness.h"
#include "../../devices/pci.h"

#define BASE	0xc0000000ULL
#define SIZE	0x20000000ULL

static struct pci_bus bus;
static struct pci_dev dev;
static uint64_t moved_was, moved_now;
static int moved;

static void on_moved(struct pci_dev *d, int bar, uint64_t was, uint64_t now)
{
	(void)d;
	(void)bar;
	moved++;
	moved_was = was;
	moved_now = now;
}

static void setup(void)
{
	pci_bus_init(&bus, BASE, SIZE);
	pci_dev_init(&dev, 0x1af4, 0x1042, 0x01800001, 0x1af4, 2, 1);
	dev.bar_moved = on_moved;
	moved = 0;
}

static uint32_t cfg_read(unsigned int slot, uint32_t reg, uint32_t len)
{
	uint8_t b[4] = { 0 };

	pci_cfg_access(&bus, slot, 0, reg, b, len, false);
	return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

static void cfg_write(unsigned int slot, uint32_t reg, uint32_t len, uint32_t v)
{
	uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };

	pci_cfg_access(&bus, slot, 0, reg, b, len, true);
}

static uint32_t cf8_read(uint32_t addr, unsigned int port, uint32_t len)
{
	uint8_t a[4] = { addr, addr >> 8, addr >> 16, addr >> 24 }, b[4] = { 0 };

	pci_cf8_access(&bus, 0, a, 4, true);
	pci_cf8_access(&bus, 4 + port, b, len, false);
	return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

TEST(host_bridge_and_empty_slots)
{
	setup();
	EXPECT_EQ(0x00081b36, cfg_read(0, 0, 4));
	EXPECT_EQ(0x06, cfg_read(0, 0x0b, 1));
	EXPECT_EQ(0xffffffff, cfg_read(5, 0, 4));
	ASSERT_EQ(1, pci_bus_add(&bus, &dev));
	EXPECT_EQ(0x10421af4, cfg_read(1, 0, 4));
	EXPECT_EQ(0xffffffff, cfg_read(31, 0, 4));
}

TEST(cf8_mechanism)
{
	uint8_t b[4];

	setup();
	pci_bus_add(&bus, &dev);
	EXPECT_EQ(0x1af4, cf8_read(0x80000800, 0, 2));
	EXPECT_EQ(0x1042, cf8_read(0x80000800, 2, 2));
	EXPECT_EQ(0x01, cf8_read(0x80000808, 3, 1));	/* class: mass storage */
	/* Disabled, another bus or function: all ones. */
	EXPECT_EQ(0xffffffff, cf8_read(0x00000800, 0, 4));
	EXPECT_EQ(0xffffffff, cf8_read(0x80010800, 0, 4));
	EXPECT_EQ(0xffffffff, cf8_read(0x80000900, 0, 4));
	/* The address register reads back; byte writes to it do nothing. */
	memset(b, 0, 4);
	pci_cf8_access(&bus, 0, b, 4, false);
	EXPECT_EQ(0x80, b[3]);
	b[0] = 1;
	pci_cf8_access(&bus, 3, b, 1, true);
	pci_cf8_access(&bus, 0, b, 4, false);
	EXPECT_EQ(0x80, b[3]);
	/* An access crossing CFF is refused. */
	memset(b, 0, 4);
	pci_cf8_access(&bus, 6, b, 4, false);
	EXPECT_EQ(0xff, b[0]);
}

TEST(ecam_and_extended_space)
{
	uint8_t b[4];

	setup();
	pci_bus_add(&bus, &dev);
	pci_ecam_access(&bus, 1 << 15, b, 4, false);
	EXPECT_EQ(0xf4, b[0]);
	pci_ecam_access(&bus, (1 << 15) | 0x100, b, 4, false);
	EXPECT_EQ(0, b[0]);			/* no extended capabilities */
	pci_ecam_access(&bus, (1 << 20) | (1 << 15), b, 4, false);
	EXPECT_EQ(0xff, b[0]);			/* bus 1 does not exist */
	pci_ecam_access(&bus, (1 << 15) | 2, b, 4, false);
	EXPECT_EQ(0xff, b[0]);			/* misaligned */
}

TEST(read_only_registers)
{
	setup();
	pci_bus_add(&bus, &dev);
	cfg_write(1, 0, 4, 0x12345678);
	EXPECT_EQ(0x10421af4, cfg_read(1, 0, 4));
	cfg_write(1, 0x3c, 1, 0x2b);
	EXPECT_EQ(0x012b, cfg_read(1, 0x3c, 2));	/* line writable, pin not */
	cfg_write(1, 0x3d, 1, 4);
	EXPECT_EQ(1, cfg_read(1, 0x3d, 1));
	cfg_write(1, 4, 2, 0xffff);
	EXPECT_EQ(0x0507, cfg_read(1, 4, 2));		/* only the implemented bits */
}

TEST(bar64_sizing_and_decode)
{
	struct pci_dev *d;
	uint64_t off;
	int bar;

	setup();
	ASSERT_EQ(0, pci_dev_add_bar(&dev, 0, 0x8000, PCI_BAR_MEM64));
	EXPECT_EQ(-1, pci_dev_add_bar(&dev, 1, 0x1000, 0));	/* upper half of BAR 0 */
	EXPECT_EQ(-1, pci_dev_add_bar(&dev, 2, 0x1800, 0));	/* not a power of two */
	pci_bus_add(&bus, &dev);
	EXPECT_EQ(4, cfg_read(1, 0x10, 4));
	cfg_write(1, 0x10, 4, 0xffffffff);
	cfg_write(1, 0x14, 4, 0xffffffff);
	EXPECT_EQ(0xffff8004, cfg_read(1, 0x10, 4));
	EXPECT_EQ(0xffffffff, cfg_read(1, 0x14, 4));
	EXPECT_EQ(0, cfg_read(1, 0x18, 4));			/* unimplemented */
	cfg_write(1, 0x18, 4, 0xffffffff);
	EXPECT_EQ(0, cfg_read(1, 0x18, 4));
	EXPECT_EQ(0, moved);

	cfg_write(1, 0x10, 4, 0xc0010000);
	cfg_write(1, 0x14, 4, 0);
	EXPECT_FALSE(pci_mmio_lookup(&bus, 0xc0010000, 4, &d, &bar, &off));
	cfg_write(1, 4, 2, PCI_COMMAND_MEMORY);
	EXPECT_EQ(1, moved);
	EXPECT_EQ(0xc0010000, moved_now);
	ASSERT_TRUE(pci_mmio_lookup(&bus, 0xc0017ffc, 4, &d, &bar, &off));
	EXPECT_EQ(&dev, d);
	EXPECT_EQ(0, bar);
	EXPECT_EQ(0x7ffc, off);
	EXPECT_FALSE(pci_mmio_lookup(&bus, 0xc0017ffe, 4, &d, &bar, &off));	/* straddles */

	/* Above 4 GiB or outside the window: it does not decode. */
	cfg_write(1, 0x14, 4, 1);
	EXPECT_EQ(2, moved);
	EXPECT_EQ(0, moved_now);
	EXPECT_FALSE(pci_mmio_lookup(&bus, 0xc0010000, 4, &d, &bar, &off));
	cfg_write(1, 0x14, 4, 0);
	cfg_write(1, 0x10, 4, 0xdffff000);	/* aligned down to 0xdfff8000: inside */
	EXPECT_EQ(0xdfff8004, cfg_read(1, 0x10, 4));
	EXPECT_TRUE(pci_mmio_lookup(&bus, 0xdfff8000, 4, &d, &bar, &off));
	cfg_write(1, 4, 2, 0);
	EXPECT_FALSE(pci_mmio_lookup(&bus, 0xdfff8000, 4, &d, &bar, &off));
}

TEST(capabilities_chain)
{
	uint8_t a, b;

	setup();
	a = pci_dev_add_cap(&dev, PCI_CAP_ID_MSIX, 12);
	b = pci_dev_add_cap(&dev, PCI_CAP_ID_VNDR, 16);
	pci_bus_add(&bus, &dev);
	EXPECT_EQ(PCI_STATUS_CAP_LIST, cfg_read(1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	EXPECT_EQ(b, cfg_read(1, PCI_CAPABILITY_LIST, 1));
	EXPECT_EQ(PCI_CAP_ID_VNDR, cfg_read(1, b, 1));
	EXPECT_EQ(a, cfg_read(1, b + 1, 1));
	EXPECT_EQ(0, cfg_read(1, a + 1, 1));
	EXPECT_EQ(0, pci_dev_add_cap(&dev, PCI_CAP_ID_VNDR, 250));	/* no room */
}

TEST(firmware_assignment)
{
	static struct pci_dev d2;
	struct pci_dev *d;
	uint64_t off;
	int bar;

	setup();
	pci_dev_init(&d2, 0x1af4, 0x1044, 0, 0, 0, 1);
	pci_dev_add_bar(&dev, 0, 0x8000, PCI_BAR_MEM64);
	pci_dev_add_bar(&d2, 0, 0x10000, 0);
	pci_bus_add(&bus, &dev);
	pci_bus_add(&bus, &d2);
	pci_bus_assign(&bus);
	EXPECT_EQ(0xc0000004, cfg_read(1, 0x10, 4));
	EXPECT_EQ(0xc0010000, cfg_read(2, 0x10, 4));
	cfg_write(2, 4, 2, PCI_COMMAND_MEMORY);
	ASSERT_TRUE(pci_mmio_lookup(&bus, 0xc0010010, 4, &d, &bar, &off));
	EXPECT_EQ(&d2, d);
}

TEST_HARNESS_MAIN
