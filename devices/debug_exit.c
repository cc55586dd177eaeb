// SPDX-License-Identifier: GPL-2.0
/*
 * An exit port at 0xf4, like QEMU's isa-debug-exit but without its
 * (value << 1) | 1 encoding: a byte written there ends the run with that
 * byte as the exit status.  Test guests use it to report a result.
 */
#include "../runner/device.h"
#include "../runner/ioport.h"
#include "../runner/kvm.h"

#define EXIT_PORT	0xf4

static void debug_exit_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
			  bool is_write)
{
	(void)off;
	if (is_write && len)
		kvm__request_exit(opaque, data[0], NULL);
	else if (!is_write)
		for (uint32_t i = 0; i < len; i++)
			data[i] = 0xff;
}

static int debug_exit_init(struct kvm *kvm)
{
	return io__register(IO_PIO, EXIT_PORT, 1, debug_exit_io, kvm);
}
device_init(debug_exit_init);
