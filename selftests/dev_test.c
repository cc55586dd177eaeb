// SPDX-License-Identifier: GPL-2.0
/* System ioctls on the device: API version, capabilities, unknown ioctls. */
#include "kvl_test.h"

TEST(api_version)
{
	int fd = kvl_open(O_RDWR);

	ASSERT_GE(fd, 0);
	EXPECT_EQ(12, ioctl(fd, KVM_GET_API_VERSION, 0));
	close(fd);
}

TEST(api_version_read_only_fd)
{
	int fd = kvl_open(O_RDONLY);

	ASSERT_GE(fd, 0);
	EXPECT_EQ(12, ioctl(fd, KVM_GET_API_VERSION, 0));
	EXPECT_GE(ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY), 1);
	close(fd);
}

TEST(api_version_rejects_argument)
{
	int fd = kvl_open(O_RDWR);

	ASSERT_GE(fd, 0);
	EXPECT_EQ(-1, ioctl(fd, KVM_GET_API_VERSION, 1));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(check_extension_unknown_is_zero)
{
	int fd = kvl_open(O_RDWR);

	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, ioctl(fd, KVM_CHECK_EXTENSION, 0x7fffffff));
	EXPECT_EQ(0, ioctl(fd, KVM_CHECK_EXTENSION, -1L));
	close(fd);
}

TEST(check_extension_basics)
{
	int fd = kvl_open(O_RDWR), nr, max;

	ASSERT_GE(fd, 0);
	EXPECT_EQ(1, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT));
	EXPECT_GE(ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY), 1);
	EXPECT_GE(ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS), 32);
	nr = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	max = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	EXPECT_GE(nr, 1);
	EXPECT_GE(max, nr);
	EXPECT_GE(ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID), max);
	close(fd);
}

TEST(unknown_ioctls_einval)
{
	int fd = kvl_open(O_RDWR);

	ASSERT_GE(fd, 0);
	EXPECT_EQ(-1, ioctl(fd, _IO(KVMIO, 0xfe), 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, _IOW('x', 0x01, int), 0));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(vcpu_mmap_size)
{
	int fd = kvl_open(O_RDWR);
	long sz;

	ASSERT_GE(fd, 0);
	sz = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	EXPECT_GE(sz, 2 * getpagesize());
	EXPECT_EQ(0, sz % getpagesize());
	close(fd);
}

TEST(create_vm_bad_type)
{
	int fd = kvl_open(O_RDWR);

	ASSERT_GE(fd, 0);
	EXPECT_EQ(-1, ioctl(fd, KVM_CREATE_VM, 0xff));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

KVL_TEST_MAIN
