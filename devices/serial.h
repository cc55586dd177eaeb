/* SPDX-License-Identifier: GPL-2.0 */
/* A 16550A UART as seen at its eight I/O ports (no FIFO timing, no modem). */
#ifndef KVL_DEVICES_SERIAL_H
#define KVL_DEVICES_SERIAL_H

#include <stdint.h>
#include <stddef.h>

struct serial {
	uint8_t ier, lcr, mcr, scr, dll, dlm, rbr;
	int rx_ready;
	void (*tx)(void *opaque, uint8_t byte);
	void *opaque;
};

void serial__init(struct serial *s, void (*tx)(void *, uint8_t), void *opaque);
/* @off is the register offset 0..7; out-of-range offsets read 0xff and ignore writes. */
uint8_t serial__read(struct serial *s, unsigned int off);
void serial__write(struct serial *s, unsigned int off, uint8_t val);
/* Host to guest: returns 0 if the byte was taken, -1 if the receiver is full. */
int serial__receive(struct serial *s, uint8_t byte);

#endif
