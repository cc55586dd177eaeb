// SPDX-License-Identifier: GPL-2.0
/* Ctrl-A escapes on an interactive console. */
#include "escape.h"

int escape__feed(struct escape *e, uint8_t in, uint8_t out[2])
{
	if (!e->pending) {
		if (in == ESCAPE_CHAR) {
			e->pending = 1;
			return 0;
		}
		out[0] = in;
		return 1;
	}
	e->pending = 0;
	if (in == 'x')
		return -1;
	out[0] = ESCAPE_CHAR;
	if (in == ESCAPE_CHAR)
		return 1;
	out[1] = in;
	return 2;
}
