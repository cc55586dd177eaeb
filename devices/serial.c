// SPDX-License-Identifier: GPL-2.0
/*
 * 16550A UART register model (National Semiconductor PC16550D data sheet):
 * offset 0 THR/RBR (DLL with LCR.DLAB), 1 IER (DLM with DLAB), 2 IIR,
 * 3 LCR, 4 MCR, 5 LSR, 6 MSR, 7 SCR.  Transmission is immediate, so the
 * transmitter always reads empty.
 */
#include "serial.h"

#define LCR_DLAB	0x80
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define IIR_NONE	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IER_RDI		0x01
#define IER_THRI	0x02
#define MCR_LOOP	0x10

void serial__init(struct serial *s, void (*tx)(void *, uint8_t), void *opaque)
{
	*s = (struct serial){ .tx = tx, .opaque = opaque, .dll = 12 };
}

uint8_t serial__read(struct serial *s, unsigned int off)
{
	switch (off) {
	case 0:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		s->rx_ready = 0;
		return s->rbr;
	case 1:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case 2:
		if ((s->ier & IER_RDI) && s->rx_ready)
			return 0xc0 | IIR_RDI;
		if (s->ier & IER_THRI)
			return 0xc0 | IIR_THRI;
		return 0xc0 | IIR_NONE;
	case 3:
		return s->lcr;
	case 4:
		return s->mcr;
	case 5:
		return LSR_THRE | LSR_TEMT | (s->rx_ready ? LSR_DR : 0);
	case 6:
		/* CTS, DSR, DCD asserted; in loopback they follow MCR. */
		if (s->mcr & MCR_LOOP)
			return ((s->mcr & 0x0c) << 4) | ((s->mcr & 0x03) << 4);
		return 0xb0;
	case 7:
		return s->scr;
	default:
		return 0xff;
	}
}

void serial__write(struct serial *s, unsigned int off, uint8_t val)
{
	switch (off) {
	case 0:
		if (s->lcr & LCR_DLAB) {
			s->dll = val;
		} else if (s->mcr & MCR_LOOP) {
			s->rbr = val;
			s->rx_ready = 1;
		} else if (s->tx) {
			s->tx(s->opaque, val);
		}
		break;
	case 1:
		if (s->lcr & LCR_DLAB)
			s->dlm = val;
		else
			s->ier = val & 0x0f;
		break;
	case 3:
		s->lcr = val;
		break;
	case 4:
		s->mcr = val & 0x1f;
		break;
	case 7:
		s->scr = val;
		break;
	default:
		break;	/* FCR, LSR and MSR writes have no effect here */
	}
}

int serial__receive(struct serial *s, uint8_t byte)
{
	if (s->rx_ready)
		return -1;
	s->rbr = byte;
	s->rx_ready = 1;
	return 0;
}
