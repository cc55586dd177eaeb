/* SPDX-License-Identifier: GPL-2.0 */
/* Host build of kernel/ pure code: inlining attributes and branch hints. */
#ifndef KVL_HOST_LINUX_COMPILER_H
#define KVL_HOST_LINUX_COMPILER_H
#define noinline		__attribute__((__noinline__))
#define __always_inline		inline __attribute__((__always_inline__))
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#endif
