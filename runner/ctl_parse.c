// SPDX-License-Identifier: GPL-2.0
/* The control socket's request parser: see ctl_parse.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_parse.h"

const char ctl_help[] = "commands: screendump FILE.png, key KEYS (e.g. ctrl-alt-delete shift-2 ret), "
			"pointer X Y [BUTTONS], info, powerdown, quit, help";

/* Key names (QEMU's sendkey names where they exist) and their set 1 scancodes. */
static const struct { const char *name; uint16_t code; } keys[] = {
	{ "esc", 0x01 }, { "escape", 0x01 }, { "minus", 0x0c }, { "equal", 0x0d },
	{ "backspace", 0x0e }, { "tab", 0x0f }, { "bracket_left", 0x1a },
	{ "bracket_right", 0x1b }, { "ret", 0x1c }, { "return", 0x1c }, { "enter", 0x1c },
	{ "ctrl", 0x1d }, { "semicolon", 0x27 }, { "apostrophe", 0x28 }, { "grave_accent", 0x29 },
	{ "shift", 0x2a }, { "backslash", 0x2b }, { "comma", 0x33 }, { "dot", 0x34 },
	{ "slash", 0x35 }, { "shift_r", 0x36 }, { "kp_multiply", 0x37 }, { "alt", 0x38 },
	{ "spc", 0x39 }, { "space", 0x39 }, { "caps_lock", 0x3a }, { "num_lock", 0x45 },
	{ "scroll_lock", 0x46 }, { "kp_7", 0x47 }, { "kp_8", 0x48 }, { "kp_9", 0x49 },
	{ "kp_subtract", 0x4a }, { "kp_4", 0x4b }, { "kp_5", 0x4c }, { "kp_6", 0x4d },
	{ "kp_add", 0x4e }, { "kp_1", 0x4f }, { "kp_2", 0x50 }, { "kp_3", 0x51 },
	{ "kp_0", 0x52 }, { "kp_decimal", 0x53 }, { "f11", 0x57 }, { "f12", 0x58 },
	{ "kp_enter", 0xe01c }, { "ctrl_r", 0xe01d }, { "kp_divide", 0xe035 },
	{ "print", 0xe037 }, { "sysrq", 0xe037 }, { "alt_r", 0xe038 }, { "altgr", 0xe038 },
	{ "home", 0xe047 }, { "up", 0xe048 }, { "pgup", 0xe049 }, { "left", 0xe04b },
	{ "right", 0xe04d }, { "end", 0xe04f }, { "down", 0xe050 }, { "pgdn", 0xe051 },
	{ "insert", 0xe052 }, { "ins", 0xe052 }, { "delete", 0xe053 }, { "del", 0xe053 },
	{ "meta_l", 0xe05b }, { "win", 0xe05b }, { "meta_r", 0xe05c }, { "menu", 0xe05d },
};

int ctl_key_code(const char *name)
{
	static const char *const rows[] = { "1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm" };
	static const uint16_t base[] = { 0x02, 0x10, 0x1e, 0x2c };
	unsigned int i;
	char *end;

	if (name[0] && !name[1]) {
		for (i = 0; i < 4; i++) {
			const char *p = strchr(rows[i], name[0]);

			if (p)
				return base[i] + (p - rows[i]);
		}
		return -1;
	}
	if (name[0] == 'f' && name[1] >= '1' && name[1] <= '9') {
		long n = strtol(name + 1, &end, 10);

		if (!*end && n >= 1 && n <= 10)
			return 0x3b + n - 1;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].name, name))
			return keys[i].code;
	return -1;
}

static int fail(char *err, size_t len, const char *fmt, const char *arg)
{
	snprintf(err, len, fmt, arg);
	return -1;
}

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!s[0] || s[0] == '-' || s[0] == '+')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_keys(char *args, struct ctl_req *r, char *err, size_t len)
{
	char *combo, *save = NULL;

	r->ncombos = 0;
	for (combo = strtok_r(args, " ", &save); combo; combo = strtok_r(NULL, " ", &save)) {
		char *k, *s2 = NULL, copy[CTL_LINE_MAX];

		if (r->ncombos == CTL_MAX_COMBOS)
			return fail(err, len, "key: more than %s combos", "32");
		snprintf(copy, sizeof(copy), "%s", combo);
		r->combo[r->ncombos].n = 0;
		if (combo[0] == '-' || combo[strlen(combo) - 1] == '-' || strstr(combo, "--"))
			return fail(err, len, "key: empty key name in '%s'", copy);
		for (k = strtok_r(combo, "-", &s2); k; k = strtok_r(NULL, "-", &s2)) {
			int c = ctl_key_code(k);

			if (c < 0)
				return fail(err, len, "key: unknown key '%s'", k);
			if (r->combo[r->ncombos].n == CTL_COMBO_KEYS)
				return fail(err, len, "key: more than 8 keys in '%s'", copy);
			r->combo[r->ncombos].code[r->combo[r->ncombos].n++] = c;
		}
		r->ncombos++;
	}
	if (!r->ncombos)
		return fail(err, len, "%s", "key: no keys (e.g. key ctrl-alt-delete)");
	return 0;
}

int ctl_parse(const char *line, struct ctl_req *r, char *err, size_t len)
{
	char buf[CTL_LINE_MAX], *cmd, *args, *tok[3], *t, *save = NULL;
	size_t n = strlen(line);
	int nt = 0;

	memset(r, 0, sizeof(*r));
	if (n >= sizeof(buf))
		return fail(err, len, "%s", "request too long");
	memcpy(buf, line, n + 1);
	while (n && (buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = 0;
	for (cmd = buf; *cmd == ' '; cmd++)
		;
	args = strchr(cmd, ' ');
	if (args) {
		*args++ = 0;
		while (*args == ' ')
			args++;
	} else {
		args = cmd + strlen(cmd);
	}
	if (!cmd[0])
		return fail(err, len, "%s", "empty request (try help)");

	if (!strcmp(cmd, "screendump")) {
		r->cmd = CTL_SCREENDUMP;
		if (!args[0])
			return fail(err, len, "%s", "screendump: no FILE");
		snprintf(r->path, sizeof(r->path), "%s", args);
		return 0;
	}
	if (!strcmp(cmd, "key")) {
		r->cmd = CTL_KEY;
		return parse_keys(args, r, err, len);
	}
	if (!strcmp(cmd, "pointer")) {
		r->cmd = CTL_POINTER;
		for (t = strtok_r(args, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
			if (nt == 3)
				return fail(err, len, "%s", "pointer: want X Y [BUTTONS]");
			tok[nt++] = t;
		}
		if (nt < 2)
			return fail(err, len, "%s", "pointer: want X Y [BUTTONS]");
		if (parse_u32(tok[0], 65535, &r->x) < 0 || parse_u32(tok[1], 65535, &r->y) < 0)
			return fail(err, len, "%s", "pointer: X and Y are pixels (0..65535)");
		if (nt == 3 && parse_u32(tok[2], 7, &r->buttons) < 0)
			return fail(err, len, "%s", "pointer: BUTTONS is a mask 0..7 (1 left, 2 middle, 4 right)");
		return 0;
	}
	if (!strcmp(cmd, "info") || !strcmp(cmd, "powerdown") || !strcmp(cmd, "quit") ||
	    !strcmp(cmd, "help")) {
		r->cmd = !strcmp(cmd, "info") ? CTL_INFO : !strcmp(cmd, "powerdown") ?
			 CTL_POWERDOWN : !strcmp(cmd, "quit") ? CTL_QUIT : CTL_HELP;
		if (args[0])
			return fail(err, len, "%s takes no arguments", cmd);
		return 0;
	}
	return fail(err, len, "unknown command '%s' (try help)", cmd);
}
