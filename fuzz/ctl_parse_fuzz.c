// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the control socket's request parser (runner/ctl_parse.c).
 * The input is one request line (NUL bytes end it early, as the server's
 * string handling does).  Asserted: a parsed request stays within its
 * limits (combos, keys per combo, known scancodes, button mask), and a
 * refused one says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../runner/ctl_parse.h"

static struct ctl_req req;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[CTL_LINE_MAX + 16], err[256];
	unsigned int i, k;

	if (size > sizeof(line) - 1)
		size = sizeof(line) - 1;
	memcpy(line, data, size);
	line[size] = 0;
	err[0] = 0;
	if (ctl_parse(line, &req, err, sizeof(err)) < 0) {
		if (!err[0])
			abort();
		return 0;
	}
	switch (req.cmd) {
	case CTL_KEY:
		if (!req.ncombos || req.ncombos > CTL_MAX_COMBOS)
			abort();
		for (i = 0; i < req.ncombos; i++) {
			if (!req.combo[i].n || req.combo[i].n > CTL_COMBO_KEYS)
				abort();
			for (k = 0; k < req.combo[i].n; k++)
				if (!req.combo[i].code[k] ||
				    (req.combo[i].code[k] > 0x7f && req.combo[i].code[k] >> 8 != 0xe0))
					abort();
		}
		break;
	case CTL_POINTER:
		if (req.buttons > 7 || req.x > 65535 || req.y > 65535)
			abort();
		break;
	case CTL_SCREENDUMP:
		if (!req.path[0])
			abort();
		break;
	default:
		break;
	}
	return 0;
}
