/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest RAM for the device model tests: RAM bytes at guest physical 0,
 * reached through struct vmem (devices/virtq.h) as the runner's is; any
 * range that does not lie wholly inside reads as "not RAM" (NULL).
 * Define RAM (its size) before including this.
 */
#ifndef KVL_SELFTESTS_FAKE_RAM_H
#define KVL_SELFTESTS_FAKE_RAM_H

#include <stdint.h>
#include "../../devices/virtq.h"

static uint8_t ram[RAM] __attribute__((aligned(4096)));

static void *ptr(void *opaque, uint64_t gpa, uint64_t len)
{
	(void)opaque;
	if (gpa > RAM || len > RAM - gpa)
		return NULL;
	return ram + gpa;
}

static const struct vmem mem = { ptr, NULL };

#endif
