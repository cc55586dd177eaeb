// SPDX-License-Identifier: GPL-2.0
/*
 * COM1 of a PC: the 16550A model at I/O ports 0x3f8-0x3ff on ISA IRQ 4,
 * transmitting to the runner's stdout and receiving from its stdin.
 */
#include <pthread.h>

#include "../runner/device.h"
#include "../runner/ioport.h"
#include "../runner/kvm.h"
#include "../runner/term.h"
#include "serial.h"

#define COM1_BASE	0x3f8
#define COM1_IRQ	4

static struct com1 {
	struct kvm *kvm;
	pthread_mutex_t lock;
	struct serial uart;
} com1 = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void com1_tx(void *opaque, uint8_t byte)
{
	(void)opaque;
	term__putc(byte);
}

static void com1_irq(void *opaque, int level)
{
	struct com1 *c = opaque;

	kvm__irq_line(c->kvm, COM1_IRQ, level);
}

static void com1_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		    bool is_write)
{
	struct com1 *c = opaque;
	uint32_t i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < len; i++) {
		if (is_write)
			serial__write(&c->uart, off + i, data[i]);
		else
			data[i] = serial__read(&c->uart, off + i);
	}
	pthread_mutex_unlock(&c->lock);
}

static int com1_receive(void *opaque, uint8_t byte)
{
	struct com1 *c = opaque;
	int r;

	pthread_mutex_lock(&c->lock);
	r = serial__receive(&c->uart, byte);
	pthread_mutex_unlock(&c->lock);
	return r;
}

static int com1_init(struct kvm *kvm)
{
	com1.kvm = kvm;
	serial__init(&com1.uart, com1_tx, com1_irq, &com1);
	if (io__register(IO_PIO, COM1_BASE, 8, com1_io, &com1) < 0)
		return -1;
	if (kvm->cfg.console == CONSOLE_SERIAL)	/* else stdin feeds virtio-console */
		term__init(kvm, com1_receive, &com1);
	return 0;
}
device_init(com1_init);
