// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_REGISTER_COALESCED_MMIO / KVM_UNREGISTER_COALESCED_MMIO and the
 * ring at KVM_COALESCED_MMIO_PAGE_OFFSET of the vCPU mmap, as QEMU uses
 * them for VGA memory and the RTC's index port: writes to a zone are
 * queued there without an exit; reads, and writes the ring has no room
 * for, exit as usual.
 *
 *   coalesced_mmio_test [/dev/kvmlite | /dev/kvm]
 */
#include "kvl_test.h"

#define GUEST_MEM	0x40000
#define CODE_GPA	0x1000
#define ZONE		0xa0000		/* no memory there */

/*
 * Writes of 1, 2 and 4 bytes to the zone and a byte to port 0x301, then a
 * read of the zone; port 0x10.  Then 200 byte writes to ZONE + 0x10 (data
 * 0..199), port 0x11; after that one more write, port 0x12.
 */
asm(".pushsection .rodata\n"
    ".code16\n"
    "cm_begin:\n"
    "	mov $0xa000, %ax\n"
    "	mov %ax, %es\n"
    "	movb $0x11, %es:0\n"
    "	movw $0x2233, %es:4\n"
    "	movl $0x44556677, %es:8\n"
    "	mov $0x88, %al\n"
    "	mov $0x301, %dx\n"
    "	out %al, (%dx)\n"
    "	mov %es:0, %bl\n"
    "	out %al, $0x10\n"
    "	xor %cx, %cx\n"
    "1:	mov %cl, %es:0x10\n"
    "	inc %cx\n"
    "	cmp $200, %cx\n"
    "	jne 1b\n"
    "	out %al, $0x11\n"
    "	movb $0x99, %es:0x20\n"
    "	out %al, $0x12\n"
    "	cli\n"
    "	hlt\n"
    "cm_end:\n"
    ".code64\n"
    ".popsection\n");
extern const unsigned char cm_begin[], cm_end[];

static struct kvm_coalesced_mmio_ring *ring_of(struct kvm_run *run)
{
	return (void *)((char *)run + KVM_COALESCED_MMIO_PAGE_OFFSET * getpagesize());
}

static int run_to_port(struct kvl_rm_vm *v)
{
	if (ioctl(v->vcpu, KVM_RUN, 0))
		return -1;
	return v->run->exit_reason == KVM_EXIT_IO ? v->run->io.port :
	       -(int)v->run->exit_reason - 100;
}

#define RING_MAX ((getpagesize() - sizeof(struct kvm_coalesced_mmio_ring)) / \
		  sizeof(struct kvm_coalesced_mmio))

TEST(coalesced)
{
	struct kvm_coalesced_mmio_zone mz = { .addr = ZONE, .size = 0x1000 };
	struct kvm_coalesced_mmio_zone pz = { .addr = 0x300, .size = 4, .pio = 1 };
	struct kvm_coalesced_mmio_zone bad = { .addr = 0x300, .size = 4, .pio = 2 };
	struct kvm_coalesced_mmio_ring *ring;
	struct kvl_rm_vm v;
	const char *what;
	unsigned int n, seen = 0, i;
	long off;

	off = ioctl(kvl_open(O_RDWR), KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
	ASSERT_EQ(KVM_COALESCED_MMIO_PAGE_OFFSET, off);
	ASSERT_EQ(1, ioctl(kvl_open(O_RDWR), KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO));
	ASSERT_EQ(0, kvl_rm_vm_create(&v, GUEST_MEM, CODE_GPA, cm_begin, cm_end - cm_begin, &what))
		TH_LOG("%s: %s", what, strerror(errno));
	ASSERT_LE((off + 1) * getpagesize(), ioctl(v.sys, KVM_GET_VCPU_MMAP_SIZE, 0));
	ring = ring_of(v.run);
	EXPECT_EQ(-1, ioctl(v.vm, KVM_REGISTER_COALESCED_MMIO, &bad));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, ioctl(v.vm, KVM_REGISTER_COALESCED_MMIO, &mz));
	ASSERT_EQ(0, ioctl(v.vm, KVM_REGISTER_COALESCED_MMIO, &pz));

	/* The writes queue up; the read exits. */
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_MMIO, v.run->exit_reason);
	EXPECT_EQ(ZONE, v.run->mmio.phys_addr);
	EXPECT_EQ(0, v.run->mmio.is_write);
	ASSERT_EQ(0, ring->first);
	ASSERT_EQ(4, ring->last);
	EXPECT_EQ(ZONE, ring->coalesced_mmio[0].phys_addr);
	EXPECT_EQ(1, ring->coalesced_mmio[0].len);
	EXPECT_EQ(0x11, ring->coalesced_mmio[0].data[0]);
	EXPECT_EQ(0, ring->coalesced_mmio[0].pio);
	EXPECT_EQ(ZONE + 4, ring->coalesced_mmio[1].phys_addr);
	EXPECT_EQ(2, ring->coalesced_mmio[1].len);
	EXPECT_EQ(0x2233, *(uint16_t *)ring->coalesced_mmio[1].data);
	EXPECT_EQ(ZONE + 8, ring->coalesced_mmio[2].phys_addr);
	EXPECT_EQ(4, ring->coalesced_mmio[2].len);
	EXPECT_EQ(0x44556677, *(uint32_t *)ring->coalesced_mmio[2].data);
	EXPECT_EQ(0x301, ring->coalesced_mmio[3].phys_addr);
	EXPECT_EQ(1, ring->coalesced_mmio[3].len);
	EXPECT_EQ(0x88, ring->coalesced_mmio[3].data[0]);
	EXPECT_EQ(1, ring->coalesced_mmio[3].pio);
	ring->first = ring->last;		/* drained */
	v.run->mmio.data[0] = 0x5a;
	ASSERT_EQ(0x10, run_to_port(&v));

	/*
	 * 200 writes: the ring holds RING_MAX - 1; the one after exits as
	 * an ordinary write, and once drained the rest queue again.
	 */
	for (i = 0; i < 200; ) {
		ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
		for (n = ring->first; n != ring->last; n = (n + 1) % RING_MAX, i++) {
			ASSERT_EQ(ZONE + 0x10, ring->coalesced_mmio[n].phys_addr);
			ASSERT_EQ(i, ring->coalesced_mmio[n].data[0]);
		}
		ring->first = ring->last;
		if (v.run->exit_reason == KVM_EXIT_IO)
			break;
		ASSERT_EQ(KVM_EXIT_MMIO, v.run->exit_reason);
		ASSERT_EQ(1, v.run->mmio.is_write);
		ASSERT_EQ(ZONE + 0x10, v.run->mmio.phys_addr);
		ASSERT_EQ(i, v.run->mmio.data[0]);
		i++;
		seen++;
	}
	EXPECT_EQ(200, i);
	EXPECT_EQ(0x11, v.run->io.port);
	EXPECT_EQ(1, seen);		/* 200 < 2 * (RING_MAX - 1) + 1 */
	EXPECT_LT(RING_MAX - 1, 200);

	/* Unregistering a range inside the zone removes the zone: writes exit. */
	mz.addr = ZONE + 0x20;
	mz.size = 1;
	ASSERT_EQ(0, ioctl(v.vm, KVM_UNREGISTER_COALESCED_MMIO, &mz));
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_MMIO, v.run->exit_reason);
	EXPECT_EQ(ZONE + 0x20, v.run->mmio.phys_addr);
	EXPECT_EQ(ring->first, ring->last);
	ASSERT_EQ(0x12, run_to_port(&v));
	kvl_rm_vm_destroy(&v);
}

/* Indexes scribbled on by userspace: the write exits, nothing is queued. */
TEST(bad_ring_index)
{
	struct kvm_coalesced_mmio_zone mz = { .addr = ZONE, .size = 0x1000 };
	struct kvm_coalesced_mmio_ring *ring;
	struct kvl_rm_vm v;
	const char *what;

	ASSERT_EQ(0, kvl_rm_vm_create(&v, GUEST_MEM, CODE_GPA, cm_begin, cm_end - cm_begin, &what));
	ring = ring_of(v.run);
	ASSERT_EQ(0, ioctl(v.vm, KVM_REGISTER_COALESCED_MMIO, &mz));
	ring->last = 0xffffff;
	ring->first = 0x7fffffff;
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_MMIO, v.run->exit_reason);
	EXPECT_EQ(1, v.run->mmio.is_write);
	EXPECT_EQ(ZONE, v.run->mmio.phys_addr);
	EXPECT_EQ(0xffffff, ring->last);
	kvl_rm_vm_destroy(&v);
}

KVL_TEST_MAIN
