// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the 8042 with its PS/2 keyboard and mouse: the
 * input is a sequence of guest port accesses and host input events,
 * two bytes each:
 *   op 0..3   write byte to port 0x60 (op 0, 1) or 0x64 (op 2, 3)
 *   op 4      read port 0x60
 *   op 5      read port 0x64
 *   op 6      a key press or release (scancode from the byte; E0 if bit 7)
 *   op 7      a mouse move (signed byte as dx and -dy, buttons low bits)
 * Asserted: IRQ lines only ever go to 1 or 12 at level 0 or 1, the status
 * register never claims the input buffer full, the LED state stays in its
 * three bits, and nothing reads or writes outside the model (ASan).
 */
#include <stdint.h>
#include <stdlib.h>

#include "../devices/i8042.h"
#include "../runner/device.h"
#include "../runner/ioport.h"
#include "../runner/kvm.h"
#include "../devices/console.h"

/* The runner around i8042.c (its device_init() registration is not run). */
void device__register(struct device_init *d) { (void)d; }
int io__register(enum io_space s, uint64_t b, uint64_t l, io_fn f, void *o)
{
	(void)s; (void)b; (void)l; (void)f; (void)o;
	return 0;
}
void kvm__irq_line(struct kvm *kvm, unsigned int irq, int level)
{
	(void)kvm; (void)irq; (void)level;
}
void kvm__request_exit(struct kvm *kvm, int status, const char *why)
{
	(void)kvm; (void)status; (void)why;
}
int console_add_sink(enum con_sink_kind kind, int prio, const struct console_sink_ops *ops,
		     void *opaque, const char *name)
{
	(void)kind; (void)prio; (void)ops; (void)opaque; (void)name;
	return 0;
}
void warn(const char *fmt, ...) { (void)fmt; }

static void irq(void *opaque, unsigned int line, int level)
{
	(void)opaque;
	if ((line != I8042_KBD_IRQ && line != I8042_AUX_IRQ) || (level != 0 && level != 1))
		abort();
}

static void reset(void *opaque)
{
	(void)opaque;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int port[] = { I8042_DATA_PORT, I8042_DATA_PORT,
					     I8042_CMD_PORT, I8042_CMD_PORT };
	struct i8042 c;
	size_t i;

	i8042__init(&c, irq, reset, NULL);
	for (i = 0; i + 1 < size; i += 2) {
		uint8_t op = data[i] & 7, v = data[i + 1];

		switch (op) {
		case 0 ... 3:
			i8042__write(&c, port[op], v);
			break;
		case 4:
			i8042__read(&c, I8042_DATA_PORT);
			break;
		case 5:
			if (i8042__read(&c, I8042_CMD_PORT) & I8042_STR_IBF)
				abort();
			break;
		case 6:
			i8042__key(&c, (v & 0x80 ? 0xe000 : 0) | (v & 0x7f) | (data[i] & 0x80),
				   data[i] & 0x40);
			break;
		case 7:
			i8042__mouse(&c, (int8_t)v, -(int8_t)v, data[i] >> 3 & 7, (int8_t)v >> 6);
			break;
		}
		if (i8042__leds(&c) & ~7)
			abort();
	}
	return 0;
}
