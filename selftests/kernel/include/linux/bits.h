/* SPDX-License-Identifier: GPL-2.0 */
/* Host build of kernel/ pure code: BIT() and BIT_ULL(). */
#ifndef KVL_HOST_LINUX_BITS_H
#define KVL_HOST_LINUX_BITS_H
#define BIT(n)		(1UL << (n))
#define BIT_ULL(n)	(1ULL << (n))
#endif
