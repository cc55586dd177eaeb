/* SPDX-License-Identifier: GPL-2.0 */
/* Host build of kernel/ pure code: memcpy and friends. */
#ifndef KVL_HOST_LINUX_STRING_H
#define KVL_HOST_LINUX_STRING_H
#include <string.h>
#endif
