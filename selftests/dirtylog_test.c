// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty page logging: KVM_MEM_LOG_DIRTY_PAGES and KVM_GET_DIRTY_LOG with a
 * real-mode guest writing (and reading) pages of a logged slot; each call
 * hands out the pages written since the last one.
 */
#include "kvl_test.h"

#define GUEST_MEM	0x20000
#define CODE_GPA	0x1000
#define LOG_GPA		0x40000
#define LOG_PAGES	16

/* ES = 0x4000: write pages 0, 3 and 15 and read page 7; out 0x40; write page 5; out 0x40; hlt */
asm(".pushsection .rodata\n"
    ".code16\n"
    "rm_dirty_begin:\n"
    "	mov $0x4000, %ax\n"
    "	mov %ax, %es\n"
    "	movb $1, %es:0x0000\n"
    "	movb $1, %es:0x3010\n"
    "	movb $1, %es:0xf000\n"
    "	mov %es:0x7000, %al\n"
    "	mov $0x40, %dx\n"
    "	out %al, %dx\n"
    "	movw $2, %es:0x5ffe\n"
    "	out %al, %dx\n"
    "	hlt\n"
    "rm_dirty_end:\n"
    ".code64\n"
    ".popsection\n");
extern const unsigned char rm_dirty_begin[], rm_dirty_end[];

FIXTURE(vm) {
	struct kvl_rm_vm v;
	unsigned char *log_mem;
};

FIXTURE_SETUP(vm)
{
	struct kvm_userspace_memory_region slot = {
		.slot = 1, .flags = KVM_MEM_LOG_DIRTY_PAGES,
		.guest_phys_addr = LOG_GPA, .memory_size = LOG_PAGES * 4096,
	};
	const char *what;

	ASSERT_EQ(0, kvl_rm_vm_create(&self->v, GUEST_MEM, CODE_GPA, rm_dirty_begin,
				      rm_dirty_end - rm_dirty_begin, &what))
		TH_LOG("%s: %s", what, strerror(errno));
	self->log_mem = mmap(NULL, LOG_PAGES * 4096, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->log_mem);
	slot.userspace_addr = (uintptr_t)self->log_mem;
	ASSERT_EQ(0, ioctl(self->v.vm, KVM_SET_USER_MEMORY_REGION, &slot));
}

FIXTURE_TEARDOWN(vm)
{
	kvl_rm_vm_destroy(&self->v);
	munmap(self->log_mem, LOG_PAGES * 4096);
}

static int get_log(int vm, uint32_t slot, uint64_t *bits)
{
	struct kvm_dirty_log log = { .slot = slot, .dirty_bitmap = bits };

	*bits = 0;
	return ioctl(vm, KVM_GET_DIRTY_LOG, &log);
}

TEST_F(vm, pages_written_since_last_call)
{
	struct kvm_run *run = self->v.run;
	uint64_t bits;

	ASSERT_EQ(0, get_log(self->v.vm, 1, &bits));
	EXPECT_EQ(0, bits);

	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
	ASSERT_EQ(0x40, run->io.port);
	ASSERT_EQ(0, get_log(self->v.vm, 1, &bits));
	EXPECT_EQ((1ull << 0) | (1ull << 3) | (1ull << 15), bits);
	EXPECT_EQ(1, self->log_mem[0x3010]);

	/* Nothing written since: an empty log; host writes are not logged. */
	self->log_mem[0x9000] = 7;
	ASSERT_EQ(0, get_log(self->v.vm, 1, &bits));
	EXPECT_EQ(0, bits);

	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
	ASSERT_EQ(0, get_log(self->v.vm, 1, &bits));
	EXPECT_EQ(1ull << 5, bits);
	EXPECT_EQ(2, self->log_mem[0x5ffe]);
}

TEST_F(vm, errors)
{
	struct kvm_userspace_memory_region slot = {
		.slot = 1, .guest_phys_addr = LOG_GPA, .memory_size = LOG_PAGES * 4096,
	};
	struct kvm_dirty_log log = { .slot = 1, .dirty_bitmap = NULL };
	uint64_t bits;

	EXPECT_EQ(-1, get_log(self->v.vm, 0, &bits));	/* not logging */
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, get_log(self->v.vm, 7, &bits));	/* no such slot */
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, get_log(self->v.vm, 100000, &bits));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->v.vm, KVM_GET_DIRTY_LOG, &log));
	EXPECT_EQ(EFAULT, errno);

	/* Logging switched off: the slot has no log any more. */
	slot.userspace_addr = (uintptr_t)self->log_mem;
	ASSERT_EQ(0, ioctl(self->v.vm, KVM_SET_USER_MEMORY_REGION, &slot));
	EXPECT_EQ(-1, get_log(self->v.vm, 1, &bits));
	EXPECT_EQ(ENOENT, errno);
}

KVL_TEST_MAIN
