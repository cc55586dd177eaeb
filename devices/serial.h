/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A 16550A UART as seen at its eight I/O ports: 16-byte receive FIFO,
 * transmission completes at once (THR and the shift register always end
 * empty), interrupts for received data and for THR empty.  No modem
 * lines beyond loopback.  Not thread-safe: the caller serialises.
 */
#ifndef KVL_DEVICES_SERIAL_H
#define KVL_DEVICES_SERIAL_H

#include <stdint.h>
#include <stddef.h>

#define SERIAL_RX_FIFO	16

struct serial {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	uint8_t rx[SERIAL_RX_FIFO];
	unsigned int rx_head, rx_count;
	int thr_ipending;	/* THR-empty interrupt pending */
	int irq_level;		/* last level given to irq() */
	void (*tx)(void *opaque, uint8_t byte);
	void (*irq)(void *opaque, int level);	/* may be NULL */
	void *opaque;
};

void serial__init(struct serial *s, void (*tx)(void *, uint8_t),
		  void (*irq)(void *, int), void *opaque);
/* @off is the register offset 0..7; out-of-range offsets read 0xff and ignore writes. */
uint8_t serial__read(struct serial *s, unsigned int off);
void serial__write(struct serial *s, unsigned int off, uint8_t val);
/* Host to guest: returns 0 if the byte was taken, -1 if the receive FIFO is full. */
int serial__receive(struct serial *s, uint8_t byte);

#endif
