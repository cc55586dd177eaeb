/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared bits of the kvmlite selftests.  Every test binary takes the device
 * to test as its first argument (default /dev/kvmlite), so the same binary
 * runs against kvmlite and, unchanged, against KVM's /dev/kvm.
 */
#ifndef KVL_TEST_H
#define KVL_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kselftest_harness.h"

static const char *kvl_dev = "/dev/kvmlite";

/* Strip the device argument, then hand over to the kselftest harness. */
#define KVL_TEST_MAIN							\
int main(int argc, char **argv)						\
{									\
	if (argc > 1 && argv[1][0] == '/') {				\
		kvl_dev = argv[1];					\
		argv[1] = argv[0];					\
		argc--;							\
		argv++;							\
	}								\
	return test_harness_run(argc, argv);				\
}

static inline int kvl_open(int flags)
{
	return open(kvl_dev, flags | O_CLOEXEC);
}

#endif
