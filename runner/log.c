// SPDX-License-Identifier: GPL-2.0
/*
 * The runner's messages: die() ends the run with status 1, warn() goes on.
 * Both prefix "kvmlite: " and go to stderr.  A file of its own so that
 * host tests of a runner piece (sandbox_test) link the real ones.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "kvm.h"

static void say(const char *fmt, va_list ap)
{
	fputs("kvmlite: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
	exit(1);
}

void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}
