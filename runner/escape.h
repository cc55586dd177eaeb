/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The console's escape key, as QEMU's: Ctrl-A x ends the run, Ctrl-A
 * Ctrl-A sends one Ctrl-A, Ctrl-A followed by anything else sends both.
 */
#ifndef KVL_RUNNER_ESCAPE_H
#define KVL_RUNNER_ESCAPE_H

#include <stdint.h>

#define ESCAPE_CHAR	0x01	/* Ctrl-A */

struct escape {
	int pending;		/* the previous byte was Ctrl-A */
};

/*
 * Feed one input byte.  Returns how many bytes (0..2) to pass to the
 * guest, stored in @out, or -1 if the user asked to end the run.
 */
int escape__feed(struct escape *e, uint8_t in, uint8_t out[2]);

#endif
