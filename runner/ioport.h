/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trapped guest accesses: port I/O and MMIO both reach a device through one
 * callback type.  @off is relative to the region's base; @data holds @len
 * bytes (little endian) to write, or receives them on a read.
 */
#ifndef KVL_RUNNER_IOPORT_H
#define KVL_RUNNER_IOPORT_H

#include <stdbool.h>
#include <stdint.h>

enum io_space { IO_PIO, IO_MMIO };

typedef void (*io_fn)(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		      bool is_write);

/* Returns 0, or -1 if the range is empty or overlaps a registered one. */
int io__register(enum io_space space, uint64_t base, uint64_t len, io_fn fn,
		 void *opaque);
/*
 * Dispatch an access.  Accesses no device claims read as all ones and
 * writes to them are dropped (as on an ISA bus with nothing decoding).
 */
void io__access(enum io_space space, uint64_t addr, uint8_t *data, uint32_t len,
		bool is_write);

#endif
