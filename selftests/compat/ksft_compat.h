/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Force-included (-include) into the upstream KVM selftests built by
 * selftests/compat/build.sh.  Debian's 6.1.y source carries backported
 * tests that use definitions newer than its own selftest library:
 * <linux/stddef.h> (__struct_group and friends) and TEST_ASSERT_EQ.
 * Supplying them here lets the sources build unmodified.
 */
#ifndef KSFT_COMPAT_H
#define KSFT_COMPAT_H
#ifndef __ASSEMBLER__
#include <linux/stddef.h>

#define TEST_ASSERT_EQ(a, b)						\
do {									\
	typeof(a) __cmp_a = (a);					\
	typeof(b) __cmp_b = (b);					\
	TEST_ASSERT(__cmp_a == __cmp_b,					\
		    "%s == %s failed: %#lx != %#lx", #a, #b,		\
		    (unsigned long)__cmp_a, (unsigned long)__cmp_b);	\
} while (0)
#endif
#endif
