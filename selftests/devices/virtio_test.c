// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of devices/virtio.c with the PCI transport and the
 * device models (virtio-blk on a raw image, virtio-rng, virtio-console),
 * driven the way a driver does through BAR 0, without any hypervisor:
 * feature negotiation, requests, MSI-X and INTx, hostile rings.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kselftest_harness.h"
#include "../../devices/virtio_devs.h"
#include "../../devices/virtio_pci.h"

#define RAM	(1 << 20)
#define QSZ	16
#define DESC	0x1000
#define AVAIL	0x2000
#define USED	0x3000
#define BUF	0x10000
#define DISK_BYTES	(64 * 512)

#include "fake_ram.h"

static struct {
	int msis, intx;
	unsigned int last_vector;
	uint32_t last_data;
} irq;

static void fake_msi(void *opaque, struct virtio_pci *vp, unsigned int v, uint64_t addr,
		     uint32_t data)
{
	(void)opaque;
	(void)vp;
	(void)addr;
	irq.msis++;
	irq.last_vector = v;
	irq.last_data = data;
}

static void fake_intx(void *opaque, struct virtio_pci *vp, int level)
{
	(void)opaque;
	(void)vp;
	irq.intx = level;
}

static const struct virtio_pci_platform plat = { .msi = fake_msi, .intx = fake_intx };

struct rig {
	struct virtio_pci vp;
	struct virtio_dev *vd;
	struct disk *disk;
	char path[64];
	uint16_t avail_idx;
};

static void bar(struct rig *r, uint32_t off, uint32_t len, uint64_t v)
{
	uint8_t b[8];

	memcpy(b, &v, 8);
	r->vp.pci.bar_access(&r->vp.pci, 0, off, b, len, true);
}

static uint64_t bar_rd(struct rig *r, uint32_t off, uint32_t len)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;

	r->vp.pci.bar_access(&r->vp.pci, 0, off, b, len, false);
	memcpy(&v, b, len);
	return v;
}

static void cfg_wr(struct rig *r, uint32_t off, uint8_t v)
{
	r->vp.pci.cfg[off] = v;		/* as pci.c stores a masked write */
	r->vp.pci.cfg_written(&r->vp.pci, off, 1);
}

static void attach(struct rig *r, struct virtio_dev *vd)
{
	memset(&irq, 0, sizeof(irq));
	memset(ram, 0, RAM);
	r->vd = vd;
	r->avail_idx = 0;
	if (virtio_pci_init(&r->vp, vd, &plat) < 0)
		abort();
}

static struct virtio_dev *blk(struct rig *r, bool ro)
{
	char err[128];
	int fd;

	strcpy(r->path, "/tmp/kvl-virtio-test-XXXXXX");
	fd = mkstemp(r->path);
	if (fd < 0 || ftruncate(fd, DISK_BYTES) < 0 || pwrite(fd, "HOSTSECTOR1", 11, 512) != 11)
		abort();
	close(fd);
	r->disk = disk_open(r->path, DISK_FMT_RAW, ro, err, sizeof(err));
	if (!r->disk)
		abort();
	return virtio_blk_create(&mem, r->disk, "serial-42", "virtio-blk test");
}

static void unblk(struct rig *r)
{
	disk_close(r->disk);
	unlink(r->path);
}

static uint32_t device_features(struct rig *r, unsigned int sel)
{
	bar(r, 0x00, 4, sel);
	return bar_rd(r, 0x04, 4);
}

/* Negotiate @feat; the status read back. */
static uint8_t negotiate(struct rig *r, uint64_t feat)
{
	bar(r, 0x14, 1, 0);
	bar(r, 0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	bar(r, 0x08, 4, 0);
	bar(r, 0x0c, 4, (uint32_t)feat);
	bar(r, 0x08, 4, 1);
	bar(r, 0x0c, 4, feat >> 32);
	bar(r, 0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	return bar_rd(r, 0x14, 1);
}

static void queue_on(struct rig *r, unsigned int q, uint64_t base, uint16_t vector)
{
	bar(r, 0x16, 2, q);
	bar(r, 0x18, 2, QSZ);
	bar(r, 0x1a, 2, vector);
	bar(r, 0x20, 4, base + DESC);
	bar(r, 0x24, 4, 0);
	bar(r, 0x28, 8, base + AVAIL);
	bar(r, 0x30, 4, base + USED);
	bar(r, 0x1c, 2, 1);
}

/* Full bring-up with VERSION_1 + @extra, queues at 0, 0x4000, ... */
static void bring_up(struct rig *r, uint64_t extra, unsigned int nq)
{
	unsigned int q;

	negotiate(r, (1ULL << VIRTIO_F_VERSION_1) | extra);
	bar(r, 0x10, 2, 0);		/* config vector 0 */
	for (q = 0; q < nq; q++)
		queue_on(r, q, q * 0x4000, q + 1);
	bar(r, 0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	    VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

static void set_desc(uint64_t table, unsigned int i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	uint8_t *d = ram + table + 16 * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void kick(struct rig *r, unsigned int q, uint64_t base, uint16_t head)
{
	uint16_t idx;

	memcpy(&idx, ram + base + AVAIL + 2, 2);
	memcpy(ram + base + AVAIL + 4 + 2 * (idx % QSZ), &head, 2);
	idx++;
	memcpy(ram + base + AVAIL + 2, &idx, 2);
	bar(r, VPCI_NOTIFY_OFF + VPCI_NOTIFY_MULT * q, 2, q);
}

static uint16_t used_idx(uint64_t base)
{
	uint16_t v;

	memcpy(&v, ram + base + USED + 2, 2);
	return v;
}

static uint32_t used_len(uint64_t base, unsigned int i)
{
	uint32_t v;

	memcpy(&v, ram + base + USED + 4 + 8 * i + 4, 4);
	return v;
}

/* A block request: header at BUF, data at BUF+0x1000, status at BUF+0x3000. */
static void blk_req(struct rig *r, uint32_t type, uint64_t sector, uint32_t len, bool data_in)
{
	uint8_t *h = ram + BUF;
	uint16_t df = data_in ? VIRTQ_DESC_F_WRITE : 0;

	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	ram[BUF + 0x3000] = 0xee;
	set_desc(DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, len ? 1 : 2);
	set_desc(DESC, 1, BUF + 0x1000, len, VIRTQ_DESC_F_NEXT | df, 2);
	set_desc(DESC, 2, BUF + 0x3000, 1, VIRTQ_DESC_F_WRITE, 0);
	kick(r, 0, 0, 0);
}

static void msix_on(struct rig *r)
{
	unsigned int v;

	cfg_wr(r, r->vp.msix_cap + 3, 0x80);
	for (v = 0; v < r->vp.nvec; v++) {
		bar(r, VPCI_MSIX_TABLE_OFF + 16 * v, 4, 0xfee00000);
		bar(r, VPCI_MSIX_TABLE_OFF + 16 * v + 8, 4, 0x40 + v);
		bar(r, VPCI_MSIX_TABLE_OFF + 16 * v + 12, 4, 0);
	}
}

TEST(pci_identity_and_capabilities)
{
	struct rig r;
	uint8_t c, types = 0;

	attach(&r, blk(&r, false));
	EXPECT_EQ(0x1af4, r.vp.pci.cfg[0] | r.vp.pci.cfg[1] << 8);
	EXPECT_EQ(0x1042, r.vp.pci.cfg[2] | r.vp.pci.cfg[3] << 8);
	EXPECT_EQ(1, r.vp.pci.cfg[PCI_REVISION_ID]);
	for (c = r.vp.pci.cfg[PCI_CAPABILITY_LIST]; c; c = r.vp.pci.cfg[c + 1])
		if (r.vp.pci.cfg[c] == PCI_CAP_ID_VNDR)
			types |= 1 << r.vp.pci.cfg[c + 3];
	EXPECT_EQ(0x3e, types);		/* common, notify, ISR, device, PCI_CFG */
	unblk(&r);
}

static uint32_t bus_rd(struct pci_bus *b, uint32_t reg, uint32_t len)
{
	uint8_t v[4] = { 0 };

	pci_cfg_access(b, 1, 0, reg, v, len, false);
	return v[0] | v[1] << 8 | v[2] << 16 | (uint32_t)v[3] << 24;
}

static void bus_wr(struct pci_bus *b, uint32_t reg, uint32_t len, uint32_t x)
{
	uint8_t v[4] = { x, x >> 8, x >> 16, x >> 24 };

	pci_cfg_access(b, 1, 0, reg, v, len, true);
}

TEST(pci_cfg_window)
{
	static struct pci_bus b;
	struct rig r;
	uint8_t c;

	attach(&r, blk(&r, false));
	pci_bus_init(&b, 0xc0000000, 0x20000000);
	ASSERT_EQ(1, pci_bus_add(&b, &r.vp.pci));
	for (c = bus_rd(&b, PCI_CAPABILITY_LIST, 1); c; c = bus_rd(&b, c + 1, 1))
		if (bus_rd(&b, c, 1) == PCI_CAP_ID_VNDR && bus_rd(&b, c + 3, 1) == 5)
			break;
	ASSERT_NE(0, c);
	EXPECT_EQ(20, bus_rd(&b, c + 2, 1));
	/* device_feature_select = 1, then device_feature reads VERSION_1. */
	bus_wr(&b, c + 4, 1, 0);
	bus_wr(&b, c + 8, 4, 0x00);
	bus_wr(&b, c + 12, 4, 4);
	bus_wr(&b, c + 16, 4, 1);
	bus_wr(&b, c + 8, 4, 0x04);
	EXPECT_EQ(1, bus_rd(&b, c + 16, 4));
	/* Capacity through a 2-byte window. */
	bus_wr(&b, c + 8, 4, VPCI_DEVICE_OFF);
	bus_wr(&b, c + 12, 4, 2);
	EXPECT_EQ(64, bus_rd(&b, c + 16, 4));
	/* Bad windows do nothing and read zero: other BAR, odd length, misaligned, outside. */
	bus_wr(&b, c + 4, 1, 2);
	EXPECT_EQ(0, bus_rd(&b, c + 16, 4));
	bus_wr(&b, c + 4, 1, 0);
	bus_wr(&b, c + 12, 4, 3);
	EXPECT_EQ(0, bus_rd(&b, c + 16, 4));
	bus_wr(&b, c + 12, 4, 4);
	bus_wr(&b, c + 8, 4, 0x02);
	EXPECT_EQ(0, bus_rd(&b, c + 16, 4));
	bus_wr(&b, c + 8, 4, 0xfffffffc);
	bus_wr(&b, c + 16, 4, 0);
	EXPECT_EQ(0, bus_rd(&b, c + 16, 4));
	/* The cap's type and length stay read-only. */
	bus_wr(&b, c + 2, 2, 0xffff);
	EXPECT_EQ(0x0514, bus_rd(&b, c + 2, 2));
	unblk(&r);
}

TEST(feature_negotiation)
{
	struct rig r;

	attach(&r, blk(&r, false));
	EXPECT_EQ(1, device_features(&r, 1) & 1);		/* VERSION_1 */
	EXPECT_NE(0, device_features(&r, 0) & (1U << VIRTIO_BLK_F_FLUSH));
	EXPECT_NE(0, device_features(&r, 0) & (1U << VIRTIO_F_EVENT_IDX));
	EXPECT_EQ(0, device_features(&r, 0) & (1U << VIRTIO_BLK_F_RO));
	EXPECT_EQ(0, device_features(&r, 7));
	/* Legacy drivers (no VERSION_1) and unknown bits are refused. */
	EXPECT_EQ(0, negotiate(&r, 0) & VIRTIO_STATUS_FEATURES_OK);
	EXPECT_EQ(0, negotiate(&r, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << 40)) &
		  VIRTIO_STATUS_FEATURES_OK);
	EXPECT_NE(0, negotiate(&r, 1ULL << VIRTIO_F_VERSION_1) & VIRTIO_STATUS_FEATURES_OK);
	/* Features are frozen after FEATURES_OK. */
	bar(&r, 0x08, 4, 0);
	bar(&r, 0x0c, 4, 1U << VIRTIO_BLK_F_FLUSH);
	EXPECT_EQ(0, bar_rd(&r, 0x0c, 4));
	unblk(&r);
}

TEST(blk_write_read_flush_getid)
{
	struct rig r;
	char buf[16] = { 0 };
	int fd;

	attach(&r, blk(&r, false));
	bring_up(&r, 0, 1);
	EXPECT_EQ(64, bar_rd(&r, VPCI_DEVICE_OFF, 8));		/* capacity */

	memcpy(ram + BUF + 0x1000, "GUESTDATA", 9);
	blk_req(&r, VIRTIO_BLK_T_OUT, 3, 512, false);
	EXPECT_EQ(1, used_idx(0));
	EXPECT_EQ(VIRTIO_BLK_S_OK, ram[BUF + 0x3000]);
	EXPECT_EQ(1, used_len(0, 0));
	fd = open(r.path, O_RDONLY);
	ASSERT_EQ(9, pread(fd, buf, 9, 3 * 512));
	close(fd);
	EXPECT_EQ(0, memcmp(buf, "GUESTDATA", 9));

	blk_req(&r, VIRTIO_BLK_T_IN, 1, 1024, true);
	EXPECT_EQ(VIRTIO_BLK_S_OK, ram[BUF + 0x3000]);
	EXPECT_EQ(1025, used_len(0, 1));
	EXPECT_EQ(0, memcmp(ram + BUF + 0x1000, "HOSTSECTOR1", 11));

	blk_req(&r, VIRTIO_BLK_T_FLUSH, 0, 0, false);
	EXPECT_EQ(VIRTIO_BLK_S_OK, ram[BUF + 0x3000]);

	blk_req(&r, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES, true);
	EXPECT_EQ(VIRTIO_BLK_S_OK, ram[BUF + 0x3000]);
	EXPECT_EQ(0, memcmp(ram + BUF + 0x1000, "serial-42", 10));

	blk_req(&r, 11, 0, 512, false);		/* DISCARD: not offered */
	EXPECT_EQ(VIRTIO_BLK_S_UNSUPP, ram[BUF + 0x3000]);
	EXPECT_FALSE(r.vd->broken);
	unblk(&r);
}

TEST(blk_bad_requests_are_ioerr)
{
	struct rig r;

	attach(&r, blk(&r, false));
	bring_up(&r, 0, 1);
	blk_req(&r, VIRTIO_BLK_T_IN, 64, 512, true);		/* past the end */
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, ram[BUF + 0x3000]);
	blk_req(&r, VIRTIO_BLK_T_IN, 63, 1024, true);		/* straddles the end */
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, ram[BUF + 0x3000]);
	blk_req(&r, VIRTIO_BLK_T_IN, ~0ULL / 256, 512, true);	/* sector * 512 overflows */
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, ram[BUF + 0x3000]);
	blk_req(&r, VIRTIO_BLK_T_OUT, 0, 100, false);		/* not whole sectors */
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, ram[BUF + 0x3000]);
	/* A header shorter than 16 bytes. */
	set_desc(DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 2);
	ram[BUF + 0x3000] = 0xee;
	kick(&r, 0, 0, 0);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, ram[BUF + 0x3000]);
	EXPECT_EQ(5, used_idx(0));
	EXPECT_FALSE(r.vd->broken);
	unblk(&r);
}

TEST(blk_readonly_refuses_writes)
{
	struct rig r;
	char buf[12] = { 0 };
	int fd;

	attach(&r, blk(&r, true));
	EXPECT_NE(0, device_features(&r, 0) & (1U << VIRTIO_BLK_F_RO));
	bring_up(&r, 1ULL << VIRTIO_BLK_F_RO, 1);
	memcpy(ram + BUF + 0x1000, "OVERWRITE!!", 11);
	blk_req(&r, VIRTIO_BLK_T_OUT, 1, 512, false);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, ram[BUF + 0x3000]);
	fd = open(r.path, O_RDONLY);
	ASSERT_EQ(11, pread(fd, buf, 11, 512));
	close(fd);
	EXPECT_EQ(0, memcmp(buf, "HOSTSECTOR1", 11));
	blk_req(&r, VIRTIO_BLK_T_IN, 1, 512, true);
	EXPECT_EQ(VIRTIO_BLK_S_OK, ram[BUF + 0x3000]);
	unblk(&r);
}

TEST(hostile_ring_sets_needs_reset)
{
	struct rig r;

	attach(&r, blk(&r, false));
	bring_up(&r, 0, 1);
	msix_on(&r);
	set_desc(DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 0);	/* loops onto itself */
	kick(&r, 0, 0, 0);
	EXPECT_TRUE(r.vd->broken);
	EXPECT_NE(0, bar_rd(&r, 0x14, 1) & VIRTIO_STATUS_NEEDS_RESET);
	EXPECT_EQ(1, irq.msis);				/* config change on vector 0 */
	EXPECT_EQ(0, irq.last_vector);
	EXPECT_EQ(0, used_idx(0));
	/* Further kicks do nothing until the driver resets the device. */
	blk_req(&r, VIRTIO_BLK_T_IN, 1, 512, true);
	EXPECT_EQ(0, used_idx(0));
	bar(&r, 0x14, 1, 0);
	EXPECT_EQ(0, bar_rd(&r, 0x14, 1));
	EXPECT_FALSE(r.vd->broken);
	memset(ram, 0, 0x4000);
	bring_up(&r, 0, 1);
	blk_req(&r, VIRTIO_BLK_T_IN, 1, 512, true);
	EXPECT_EQ(1, used_idx(0));
	EXPECT_EQ(VIRTIO_BLK_S_OK, ram[BUF + 0x3000]);
	unblk(&r);
}

TEST(bad_queue_setup_is_refused)
{
	struct rig r;

	attach(&r, blk(&r, false));
	negotiate(&r, 1ULL << VIRTIO_F_VERSION_1);
	bar(&r, 0x16, 2, 0);
	bar(&r, 0x18, 2, 3);				/* not a power of two */
	bar(&r, 0x1c, 2, 1);
	EXPECT_EQ(0, bar_rd(&r, 0x1c, 2));
	EXPECT_TRUE(r.vd->broken);
	bar(&r, 0x14, 1, 0);
	negotiate(&r, 1ULL << VIRTIO_F_VERSION_1);
	bar(&r, 0x18, 2, QSZ);
	bar(&r, 0x20, 8, RAM - 64);			/* ring runs off RAM */
	bar(&r, 0x1c, 2, 1);
	EXPECT_TRUE(r.vd->broken);
	/* Vectors the function lacks read back as NO_VECTOR; other queues read zero. */
	bar(&r, 0x14, 1, 0);
	bar(&r, 0x10, 2, 5);
	EXPECT_EQ(VIRTIO_NO_VECTOR, bar_rd(&r, 0x10, 2));
	bar(&r, 0x16, 2, 9);
	EXPECT_EQ(0, bar_rd(&r, 0x18, 2));
	bar(&r, 0x18, 2, 8);
	EXPECT_EQ(0, bar_rd(&r, 0x18, 2));
	unblk(&r);
}

TEST(msix_mask_and_pending)
{
	struct rig r;

	attach(&r, blk(&r, false));
	bring_up(&r, 0, 1);
	msix_on(&r);
	bar(&r, VPCI_MSIX_TABLE_OFF + 16 + 12, 4, 1);	/* mask vector 1 (queue 0) */
	blk_req(&r, VIRTIO_BLK_T_IN, 1, 512, true);
	EXPECT_EQ(0, irq.msis);
	EXPECT_EQ(2, bar_rd(&r, VPCI_MSIX_PBA_OFF, 4));
	bar(&r, VPCI_MSIX_TABLE_OFF + 16 + 12, 4, 0);
	EXPECT_EQ(1, irq.msis);
	EXPECT_EQ(0x41, irq.last_data);
	EXPECT_EQ(0, bar_rd(&r, VPCI_MSIX_PBA_OFF, 4));
	/* Function mask. */
	cfg_wr(&r, r.vp.msix_cap + 3, 0xc0);
	blk_req(&r, VIRTIO_BLK_T_IN, 1, 512, true);
	EXPECT_EQ(1, irq.msis);
	cfg_wr(&r, r.vp.msix_cap + 3, 0x80);
	EXPECT_EQ(2, irq.msis);
	/* Out-of-table and misaligned accesses are dropped. */
	bar(&r, VPCI_MSIX_TABLE_OFF + 16 * r.vp.nvec, 4, 0);
	EXPECT_EQ(0, bar_rd(&r, VPCI_MSIX_TABLE_OFF + 2, 4));
	unblk(&r);
}

TEST(intx_and_isr)
{
	struct rig r;

	attach(&r, blk(&r, false));
	bring_up(&r, 0, 1);
	blk_req(&r, VIRTIO_BLK_T_IN, 1, 512, true);
	EXPECT_EQ(1, irq.intx);
	EXPECT_NE(0, r.vp.pci.cfg[PCI_STATUS] & PCI_STATUS_INTERRUPT);
	EXPECT_EQ(VIRTIO_ISR_QUEUE, bar_rd(&r, VPCI_ISR_OFF, 1));
	EXPECT_EQ(0, irq.intx);
	EXPECT_EQ(0, bar_rd(&r, VPCI_ISR_OFF, 1));
	/* INTx disabled in COMMAND: the line stays low, the status bit still shows. */
	cfg_wr(&r, PCI_COMMAND + 1, PCI_COMMAND_INTX_DISABLE >> 8);
	blk_req(&r, VIRTIO_BLK_T_IN, 1, 512, true);
	EXPECT_EQ(0, irq.intx);
	EXPECT_NE(0, r.vp.pci.cfg[PCI_STATUS] & PCI_STATUS_INTERRUPT);
	unblk(&r);
}

TEST(event_idx_through_the_device)
{
	struct rig r;
	uint16_t ev = 0;

	attach(&r, blk(&r, false));
	bring_up(&r, 1ULL << VIRTIO_F_EVENT_IDX, 1);
	msix_on(&r);
	memcpy(ram + AVAIL + 4 + 2 * QSZ, &ev, 2);	/* used_event 0 */
	blk_req(&r, VIRTIO_BLK_T_IN, 1, 512, true);
	EXPECT_EQ(1, irq.msis);				/* first always */
	blk_req(&r, VIRTIO_BLK_T_IN, 1, 512, true);
	EXPECT_EQ(1, irq.msis);				/* used_event 0 already passed */
	ev = 2;
	memcpy(ram + AVAIL + 4 + 2 * QSZ, &ev, 2);
	blk_req(&r, VIRTIO_BLK_T_IN, 1, 512, true);
	EXPECT_EQ(2, irq.msis);
	memcpy(&ev, ram + USED + 4 + 8 * QSZ, 2);
	EXPECT_EQ(3, ev);				/* avail_event: the next entry */
	unblk(&r);
}

static struct {
	int n, drains;
	uint64_t cookie[8];
	bool write[8];
	uint64_t off[8];
} aio_log;

static int fake_submit(void *opaque, bool write, const struct iovec *iov, unsigned int n,
		       uint64_t off, uint64_t cookie)
{
	(void)opaque;
	(void)iov;
	(void)n;
	if (aio_log.n == 8)
		return -1;
	aio_log.write[aio_log.n] = write;
	aio_log.off[aio_log.n] = off;
	aio_log.cookie[aio_log.n++] = cookie;
	return 0;
}

static void fake_drain(void *opaque, struct virtio_dev *vd)
{
	int i;

	(void)opaque;
	aio_log.drains++;
	for (i = 0; i < aio_log.n; i++)
		virtio_blk_aio_complete(vd, aio_log.cookie[i], 512);
}

static const struct virtio_blk_aio fake_aio = { fake_submit, fake_drain, NULL };

/* Two reads in flight at once, in descriptors 0-2 and 3-5. */
static void two_reads(struct rig *r)
{
	uint8_t *h = ram + BUF;
	uint32_t in = VIRTIO_BLK_T_IN;
	uint64_t sec = 1;

	memset(h, 0, 32);
	memcpy(h, &in, 4);
	memcpy(h + 8, &sec, 8);
	sec = 2;
	memcpy(h + 16, &in, 4);
	memcpy(h + 24, &sec, 8);
	ram[BUF + 0x3000] = ram[BUF + 0x3001] = 0xee;
	set_desc(DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF + 0x1000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	set_desc(DESC, 2, BUF + 0x3000, 1, VIRTQ_DESC_F_WRITE, 0);
	set_desc(DESC, 3, BUF + 16, 16, VIRTQ_DESC_F_NEXT, 4);
	set_desc(DESC, 4, BUF + 0x2000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 5);
	set_desc(DESC, 5, BUF + 0x3001, 1, VIRTQ_DESC_F_WRITE, 0);
	kick(r, 0, 0, 0);
	kick(r, 0, 0, 3);
}

TEST(blk_async_completes_out_of_order)
{
	struct rig r;
	uint32_t id;

	memset(&aio_log, 0, sizeof(aio_log));
	attach(&r, blk(&r, false));
	virtio_blk_set_aio(r.vd, &fake_aio);
	bring_up(&r, 0, 1);
	two_reads(&r);
	ASSERT_EQ(2, aio_log.n);
	EXPECT_EQ(1024, aio_log.off[1]);
	EXPECT_EQ(0, used_idx(0));
	EXPECT_EQ(2, virtio_blk_inflight(r.vd));
	pthread_mutex_lock(&r.vd->lock);
	virtio_blk_aio_complete(r.vd, aio_log.cookie[1], 512);
	virtio_blk_aio_complete(r.vd, aio_log.cookie[1], 512);	/* stale: ignored */
	virtio_blk_aio_complete(r.vd, 9999, 512);		/* bogus: ignored */
	pthread_mutex_unlock(&r.vd->lock);
	EXPECT_EQ(1, used_idx(0));
	memcpy(&id, ram + USED + 4, 4);
	EXPECT_EQ(3, id);					/* the second request first */
	EXPECT_EQ(513, used_len(0, 0));
	EXPECT_EQ(VIRTIO_BLK_S_OK, ram[BUF + 0x3001]);
	EXPECT_EQ(0xee, ram[BUF + 0x3000]);
	pthread_mutex_lock(&r.vd->lock);
	virtio_blk_aio_complete(r.vd, aio_log.cookie[0], -5);	/* -EIO */
	pthread_mutex_unlock(&r.vd->lock);
	EXPECT_EQ(2, used_idx(0));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, ram[BUF + 0x3000]);
	EXPECT_EQ(1, used_len(0, 1));
	EXPECT_EQ(0, virtio_blk_inflight(r.vd));
	/* Flush and read-only refusals stay synchronous. */
	blk_req(&r, VIRTIO_BLK_T_FLUSH, 0, 0, false);
	EXPECT_EQ(3, used_idx(0));
	EXPECT_EQ(2, aio_log.n);
	unblk(&r);
}

TEST(blk_reset_drains_async_requests)
{
	struct rig r;

	memset(&aio_log, 0, sizeof(aio_log));
	attach(&r, blk(&r, false));
	virtio_blk_set_aio(r.vd, &fake_aio);
	bring_up(&r, 0, 1);
	two_reads(&r);
	ASSERT_EQ(2, virtio_blk_inflight(r.vd));
	bar(&r, 0x14, 1, 0);					/* reset */
	EXPECT_EQ(1, aio_log.drains);
	EXPECT_EQ(0, virtio_blk_inflight(r.vd));
	EXPECT_EQ(0, used_idx(0));				/* results dropped */
	EXPECT_EQ(0xee, ram[BUF + 0x3000]);
	unblk(&r);
}

static int fill_pattern(void *buf, size_t len)
{
	memset(buf, 0xa5, len);
	return 0;
}

TEST(rng_fills_buffers)
{
	struct rig r;

	attach(&r, virtio_rng_create(&mem, fill_pattern, "virtio-rng test"));
	bring_up(&r, 0, 1);
	set_desc(DESC, 0, BUF, 64, VIRTQ_DESC_F_WRITE, 0);
	kick(&r, 0, 0, 0);
	EXPECT_EQ(1, used_idx(0));
	EXPECT_EQ(64, used_len(0, 0));
	EXPECT_EQ(0xa5, ram[BUF + 63]);
	EXPECT_EQ(0, ram[BUF + 64]);
	/* A device-readable buffer gets nothing (and breaks nothing). */
	set_desc(DESC, 0, BUF + 0x100, 64, 0, 0);
	kick(&r, 0, 0, 0);
	EXPECT_EQ(0, used_len(0, 1));
	EXPECT_EQ(0, ram[BUF + 0x100]);
}

static char cons_out[64];
static size_t cons_n;

static void cons_sink(void *opaque, const uint8_t *buf, size_t len)
{
	(void)opaque;
	while (len-- && cons_n < sizeof(cons_out))
		cons_out[cons_n++] = *buf++;
}

TEST(console_output_and_input)
{
	struct rig r;

	cons_n = 0;
	attach(&r, virtio_console_create(&mem, cons_sink, NULL, "virtio-console test"));
	bring_up(&r, 0, 2);
	/* Guest output on the transmit queue (1, rings at 0x4000). */
	memcpy(ram + BUF, "hvc0 out", 8);
	set_desc(0x4000 + DESC, 0, BUF, 8, 0, 0);
	kick(&r, 1, 0x4000, 0);
	EXPECT_EQ(8, cons_n);
	EXPECT_EQ(0, memcmp(cons_out, "hvc0 out", 8));
	/* Input before any receive buffer waits, then lands in one. */
	EXPECT_EQ(5, virtio_console_input(r.vd, (const uint8_t *)"hello", 5));
	EXPECT_EQ(0, used_idx(0));
	set_desc(DESC, 0, BUF + 0x100, 3, VIRTQ_DESC_F_WRITE, 0);
	set_desc(DESC, 1, BUF + 0x200, 16, VIRTQ_DESC_F_WRITE, 0);
	kick(&r, 0, 0, 0);
	EXPECT_EQ(1, used_idx(0));
	EXPECT_EQ(3, used_len(0, 0));
	EXPECT_EQ(0, memcmp(ram + BUF + 0x100, "hel", 3));
	kick(&r, 0, 0, 1);
	EXPECT_EQ(2, used_idx(0));
	EXPECT_EQ(2, used_len(0, 1));
	EXPECT_EQ(0, memcmp(ram + BUF + 0x200, "lo", 2));
}

static uint8_t net_sent[128];
static size_t net_sent_len;

static void net_send(void *opaque, const struct iovec *iov, unsigned int n)
{
	(void)opaque;
	net_sent_len = 0;
	while (n--) {
		if (net_sent_len + iov->iov_len <= sizeof(net_sent))
			memcpy(net_sent + net_sent_len, iov->iov_base, iov->iov_len);
		net_sent_len += iov->iov_len;
		iov++;
	}
}

TEST(net_transmit_and_receive)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 1, 2, 3 };
	uint8_t frame[60];
	struct rig r;

	attach(&r, virtio_net_create(&mem, mac, net_send, NULL, "virtio-net test"));
	EXPECT_EQ(0x1041, r.vp.pci.cfg[2] | r.vp.pci.cfg[3] << 8);
	EXPECT_EQ(0x020000, virtio_pci_class(VIRTIO_ID_NET));
	EXPECT_EQ(0x03, bar_rd(&r, VPCI_DEVICE_OFF + 5, 1));
	/* Before the driver is up, frames are dropped. */
	memset(frame, 0x77, sizeof(frame));
	EXPECT_EQ(-1, virtio_net_receive(r.vd, frame, sizeof(frame)));
	bring_up(&r, 1ULL << VIRTIO_NET_F_MAC, 2);

	/* Transmit: header split from the frame across two buffers. */
	memset(ram + BUF, 0, VIRTIO_NET_HDR_LEN);
	memset(ram + BUF + 0x100, 0xab, 60);
	set_desc(0x4000 + DESC, 0, BUF, VIRTIO_NET_HDR_LEN, VIRTQ_DESC_F_NEXT, 1);
	set_desc(0x4000 + DESC, 1, BUF + 0x100, 60, 0, 0);
	kick(&r, 1, 0x4000, 0);
	EXPECT_EQ(60, net_sent_len);
	EXPECT_EQ(0xab, net_sent[59]);
	EXPECT_EQ(1, used_idx(0x4000));
	/* A runt (header only) is completed, not sent. */
	net_sent_len = 0;
	set_desc(0x4000 + DESC, 2, BUF, VIRTIO_NET_HDR_LEN, 0, 0);
	kick(&r, 1, 0x4000, 2);
	EXPECT_EQ(0, net_sent_len);
	EXPECT_EQ(2, used_idx(0x4000));

	/* Receive into one buffer: header with num_buffers 1, then the frame. */
	set_desc(DESC, 0, BUF + 0x1000, 1526, VIRTQ_DESC_F_WRITE, 0);
	set_desc(DESC, 1, BUF + 0x2000, 20, VIRTQ_DESC_F_WRITE, 0);
	kick(&r, 0, 0, 0);
	kick(&r, 0, 0, 1);
	EXPECT_EQ(0, virtio_net_receive(r.vd, frame, sizeof(frame)));
	EXPECT_EQ(1, used_idx(0));
	EXPECT_EQ(72, used_len(0, 0));
	EXPECT_EQ(1, ram[BUF + 0x1000 + 10]);
	EXPECT_EQ(0x77, ram[BUF + 0x1000 + 12 + 59]);
	/* A buffer too small for the frame: returned empty, the frame dropped. */
	EXPECT_EQ(-1, virtio_net_receive(r.vd, frame, sizeof(frame)));
	EXPECT_EQ(2, used_idx(0));
	EXPECT_EQ(0, used_len(0, 1));
	/* No buffers left. */
	EXPECT_EQ(-1, virtio_net_receive(r.vd, frame, sizeof(frame)));
}

TEST_HARNESS_MAIN
