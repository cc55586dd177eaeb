// SPDX-License-Identifier: GPL-2.0
/*
 * 16550A UART register model (National Semiconductor PC16550D data sheet):
 * offset 0 THR/RBR (DLL with LCR.DLAB), 1 IER (DLM with DLAB), 2 IIR/FCR,
 * 3 LCR, 4 MCR, 5 LSR, 6 MSR, 7 SCR.  Transmission is immediate, so the
 * transmitter always reads empty; a write to THR therefore raises the
 * THR-empty interrupt again at once (if enabled), which is what drives a
 * guest driver's interrupt-mode transmit loop.
 *
 * Interrupt identification, highest priority first: received data
 * available (IIR 0x04, cleared by draining the FIFO), THR empty (0x02,
 * cleared by reading IIR while it is reported or by writing THR).  The
 * output line is high while any enabled interrupt is pending.
 */
#include "serial.h"

#define LCR_DLAB	0x80
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define IIR_NONE	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO	0xc0
#define IER_RDI		0x01
#define IER_THRI	0x02
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define MCR_LOOP	0x10

void serial__init(struct serial *s, void (*tx)(void *, uint8_t),
		  void (*irq)(void *, int), void *opaque)
{
	*s = (struct serial){ .tx = tx, .irq = irq, .opaque = opaque, .dll = 12 };
}

static uint8_t iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO : 0;

	if ((s->ier & IER_RDI) && s->rx_count)
		return fifo | IIR_RDI;
	if ((s->ier & IER_THRI) && s->thr_ipending)
		return fifo | IIR_THRI;
	return fifo | IIR_NONE;
}

static void update_irq(struct serial *s)
{
	int level = !(iir(s) & IIR_NONE);

	if (level != s->irq_level) {
		s->irq_level = level;
		if (s->irq)
			s->irq(s->opaque, level);
	}
}

static void rx_push(struct serial *s, uint8_t byte)
{
	s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_FIFO] = byte;
	s->rx_count++;
}

uint8_t serial__read(struct serial *s, unsigned int off)
{
	uint8_t v;

	switch (off) {
	case 0:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		if (!s->rx_count)
			return 0;
		v = s->rx[s->rx_head];
		s->rx_head = (s->rx_head + 1) % SERIAL_RX_FIFO;
		s->rx_count--;
		update_irq(s);
		return v;
	case 1:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case 2:
		v = iir(s);
		if ((v & 0x0f) == IIR_THRI) {
			s->thr_ipending = 0;
			update_irq(s);
		}
		return v;
	case 3:
		return s->lcr;
	case 4:
		return s->mcr;
	case 5:
		return LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
	case 6:
		/*
		 * CTS, DSR and DCD asserted.  In loopback the outputs feed the
		 * inputs: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
		 */
		if (s->mcr & MCR_LOOP)
			return ((s->mcr & 0x02) << 3) | ((s->mcr & 0x01) << 5) |
			       ((s->mcr & 0x0c) << 4);
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
			return;
		}
		if (s->mcr & MCR_LOOP) {
			if (s->rx_count < SERIAL_RX_FIFO)
				rx_push(s, val);
		} else if (s->tx) {
			s->tx(s->opaque, val);
		}
		/* Sent at once: THR is empty again. */
		s->thr_ipending = 1;
		break;
	case 1:
		if (s->lcr & LCR_DLAB) {
			s->dlm = val;
			return;
		}
		/* Enabling THRI with THR empty raises it (THR is always empty). */
		if ((val & IER_THRI) && !(s->ier & IER_THRI))
			s->thr_ipending = 1;
		s->ier = val & 0x0f;
		break;
	case 2:
		s->fcr = val & 0xc9;
		if (val & FCR_CLEAR_RX)
			s->rx_head = s->rx_count = 0;
		break;
	case 3:
		s->lcr = val;
		return;
	case 4:
		s->mcr = val & 0x1f;
		return;
	case 7:
		s->scr = val;
		return;
	default:
		return;	/* LSR and MSR writes have no effect here */
	}
	update_irq(s);
}

int serial__receive(struct serial *s, uint8_t byte)
{
	if (s->rx_count == SERIAL_RX_FIFO)
		return -1;
	rx_push(s, byte);
	update_irq(s);
	return 0;
}
