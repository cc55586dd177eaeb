// SPDX-License-Identifier: GPL-2.0
/*
 * A real-mode guest: port I/O exits in both directions, HLT, guest memory
 * seen from both sides, immediate_exit, and memslot argument errors.
 * Guest code sits here as assembly snippets framed by begin/end labels.
 */
#include <stdlib.h>
#include "kvl_test.h"

#define GUEST_MEM	0x20000
#define CODE_GPA	0x1000

/* out 'K' to 0x10; in from 0x11, add 1, out to 0x12; store 0xbeef at 0x800; hlt */
asm(".pushsection .rodata\n"
    ".code16\n"
    "rm_io_begin:\n"
    "	mov $0x10, %dx\n"
    "	mov $'K', %al\n"
    "	out %al, %dx\n"
    "	mov $0x11, %dx\n"
    "	in %dx, %ax\n"
    "	inc %ax\n"
    "	mov $0x12, %dx\n"
    "	out %ax, %dx\n"
    "	movw $0xbeef, (0x800)\n"
    "	mov (0x900), %eax\n"
    "	mov $0x13, %dx\n"
    "	out %eax, %dx\n"
    "	hlt\n"
    "rm_io_end:\n"
    ".code64\n"
    ".popsection\n");
extern const unsigned char rm_io_begin[], rm_io_end[];

FIXTURE(vm) {
	struct kvl_rm_vm v;
};

FIXTURE_SETUP(vm)
{
	const char *what;

	ASSERT_EQ(0, kvl_rm_vm_create(&self->v, GUEST_MEM, CODE_GPA, rm_io_begin,
				      rm_io_end - rm_io_begin, &what))
		TH_LOG("%s: %s", what, strerror(errno));
}

FIXTURE_TEARDOWN(vm)
{
	kvl_rm_vm_destroy(&self->v);
}

static void *io_data(struct kvm_run *run)
{
	return (char *)run + run->io.data_offset;
}

TEST_F(vm, port_io_round_trip)
{
	struct kvm_run *run = self->v.run;
	struct kvm_regs regs;

	*(uint32_t *)(self->v.mem + 0x900) = 0x12345678;

	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
	EXPECT_EQ(KVM_EXIT_IO_OUT, run->io.direction);
	EXPECT_EQ(1, run->io.size);
	EXPECT_EQ(0x10, run->io.port);
	EXPECT_EQ(1, run->io.count);
	EXPECT_EQ('K', *(uint8_t *)io_data(run));

	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
	EXPECT_EQ(KVM_EXIT_IO_IN, run->io.direction);
	EXPECT_EQ(2, run->io.size);
	EXPECT_EQ(0x11, run->io.port);
	*(uint16_t *)io_data(run) = 0x4141;

	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
	EXPECT_EQ(KVM_EXIT_IO_OUT, run->io.direction);
	EXPECT_EQ(0x12, run->io.port);
	EXPECT_EQ(0x4142, *(uint16_t *)io_data(run));

	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
	EXPECT_EQ(4, run->io.size);
	EXPECT_EQ(0x13, run->io.port);
	EXPECT_EQ(0x12345678, *(uint32_t *)io_data(run));
	/* The guest's store went to our mapping. */
	EXPECT_EQ(0xbeef, *(uint16_t *)(self->v.mem + 0x800));

	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	EXPECT_EQ(KVM_EXIT_HLT, run->exit_reason);
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(CODE_GPA + (rm_io_end - rm_io_begin), regs.rip);
	EXPECT_EQ(0x12345678, (uint32_t)regs.rax);
}

TEST_F(vm, immediate_exit)
{
	self->v.run->immediate_exit = 1;
	EXPECT_EQ(-1, ioctl(self->v.vcpu, KVM_RUN, 0));
	EXPECT_EQ(EINTR, errno);
	self->v.run->immediate_exit = 0;
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	EXPECT_EQ(KVM_EXIT_IO, self->v.run->exit_reason);
}

TEST_F(vm, unknown_vm_and_vcpu_ioctls)
{
	EXPECT_EQ(-1, ioctl(self->v.vm, _IO(KVMIO, 0xfe), 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->v.vcpu, _IO(KVMIO, 0xfe), 0));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(vm, memslot_errors)
{
	struct kvm_userspace_memory_region r = {
		.slot = 1, .guest_phys_addr = 0x100000, .memory_size = 0x1000,
		.userspace_addr = (uintptr_t)self->v.mem,
	};
	int nslots = ioctl(self->v.sys, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);

	r.flags = 1u << 7;
	EXPECT_EQ(-1, ioctl(self->v.vm, KVM_SET_USER_MEMORY_REGION, &r));
	EXPECT_EQ(EINVAL, errno);
	r.flags = 0;

	r.guest_phys_addr = 0x100800;
	EXPECT_EQ(-1, ioctl(self->v.vm, KVM_SET_USER_MEMORY_REGION, &r));
	EXPECT_EQ(EINVAL, errno);
	r.guest_phys_addr = 0x100000;

	r.memory_size = 0x1800;
	EXPECT_EQ(-1, ioctl(self->v.vm, KVM_SET_USER_MEMORY_REGION, &r));
	EXPECT_EQ(EINVAL, errno);
	r.memory_size = 0x1000;

	r.slot = nslots;
	EXPECT_EQ(-1, ioctl(self->v.vm, KVM_SET_USER_MEMORY_REGION, &r));
	EXPECT_EQ(EINVAL, errno);
	r.slot = 1;

	/* Overlaps slot 0. */
	r.guest_phys_addr = 0x10000;
	EXPECT_EQ(-1, ioctl(self->v.vm, KVM_SET_USER_MEMORY_REGION, &r));
	EXPECT_EQ(EEXIST, errno);

	r.guest_phys_addr = 0x100000;
	EXPECT_EQ(0, ioctl(self->v.vm, KVM_SET_USER_MEMORY_REGION, &r))
		TH_LOG("slot 1 at 0x100000: %s", strerror(errno));
	/* Delete, twice: there is nothing to delete the second time. */
	r.memory_size = 0;
	EXPECT_EQ(0, ioctl(self->v.vm, KVM_SET_USER_MEMORY_REGION, &r));
	EXPECT_EQ(-1, ioctl(self->v.vm, KVM_SET_USER_MEMORY_REGION, &r));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(vm, duplicate_vcpu_id)
{
	EXPECT_EQ(-1, ioctl(self->v.vm, KVM_CREATE_VCPU, 0));
	EXPECT_EQ(EEXIST, errno);
}

KVL_TEST_MAIN
