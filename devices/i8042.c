// SPDX-License-Identifier: GPL-2.0
/*
 * Just enough of the PC keyboard controller for a guest to reset the
 * machine: command 0xfe (pulse the reset line) written to port 0x64 ends
 * the run with status 0, as a reboot.  The status register reads "input
 * buffer empty, no output", so a guest waiting to send a command goes on;
 * there is no keyboard or mouse behind it.
 */
#include <string.h>

#include "../runner/device.h"
#include "../runner/ioport.h"
#include "../runner/kvm.h"

#define I8042_DATA	0x60
#define I8042_CMD	0x64
#define I8042_STATUS	0x1c	/* unlocked, last write was a command, system flag */
#define CMD_RESET	0xfe

static struct kvm *i8042_kvm;

static void i8042_data(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		       bool is_write)
{
	(void)opaque;
	(void)off;
	if (!is_write)
		memset(data, 0, len);
}

static void i8042_cmd(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		      bool is_write)
{
	(void)opaque;
	(void)off;
	if (!is_write)
		memset(data, I8042_STATUS, len);
	else if (data[0] == CMD_RESET)
		kvm__request_exit(i8042_kvm, 0, "guest reset the machine (i8042): reboot");
}

static int i8042_init(struct kvm *kvm)
{
	i8042_kvm = kvm;
	if (io__register(IO_PIO, I8042_DATA, 1, i8042_data, NULL) < 0 ||
	    io__register(IO_PIO, I8042_CMD, 1, i8042_cmd, NULL) < 0)
		return -1;
	return 0;
}
device_init(i8042_init);
