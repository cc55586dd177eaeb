/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control socket's requests: one line each, the command word then its
 * arguments separated by spaces.  Replies are one line too: "ok[ ...]" or
 * "error: why".  The commands:
 *
 *   screendump FILE.png    the display as a PNG file (written by the runner)
 *   key KEYS               combos separated by spaces, keys in a combo by
 *                          '-' (ctrl-alt-delete, shift-2, a, ret, f1): each
 *                          combo's keys are pressed in order, released in reverse
 *   pointer X Y [BUTTONS]  move the pointer to pixel X, Y of the display;
 *                          BUTTONS a mask (1 left, 2 middle, 4 right; default 0)
 *   info                   devices, display mode and input sinks
 *   powerdown              press the ACPI power button
 *   quit                   end the run (status 0)
 *   help                   list the commands
 *
 * The parser is pure (no I/O) so that it can be tested on the host.
 */
#ifndef KVL_RUNNER_CTL_PARSE_H
#define KVL_RUNNER_CTL_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define CTL_LINE_MAX	4096
#define CTL_MAX_COMBOS	32
#define CTL_COMBO_KEYS	8

enum ctl_cmd { CTL_SCREENDUMP, CTL_KEY, CTL_POINTER, CTL_INFO, CTL_POWERDOWN, CTL_QUIT, CTL_HELP };

struct ctl_req {
	enum ctl_cmd cmd;
	char path[CTL_LINE_MAX];		/* screendump */
	unsigned int ncombos;			/* key */
	struct {
		unsigned int n;
		uint16_t code[CTL_COMBO_KEYS];	/* set 1 scancodes, 0xe0xx extended */
	} combo[CTL_MAX_COMBOS];
	uint32_t x, y, buttons;			/* pointer */
};

/* Parse one request (no newline); 0, or -1 with the reason in @err. */
int ctl_parse(const char *line, struct ctl_req *r, char *err, size_t errlen);
/* The scancode of a key name ("a", "ret", "f1", "ctrl"...), or -1. */
int ctl_key_code(const char *name);
/* The help line: the commands and their arguments. */
extern const char ctl_help[];

#endif
