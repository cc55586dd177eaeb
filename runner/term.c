// SPDX-License-Identifier: GPL-2.0
/* Console on stdio: raw mode when interactive, Ctrl-A x, an input thread. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "escape.h"
#include "kvm.h"
#include "term.h"

static struct termios saved;
static int raw;
static struct kvm *term_kvm;
static int (*term_sink)(void *, uint8_t);
static void *term_opaque;

static void restore(void)
{
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
}

void term__restore(void)
{
	restore();
}

void term__putc(uint8_t byte)
{
	while (write(STDOUT_FILENO, &byte, 1) < 0 && errno == EINTR)
		;
}

static void feed(uint8_t byte)
{
	while (term_sink(term_opaque, byte) < 0)
		usleep(1000);
}

static void *input_thread(void *arg)
{
	struct escape esc = { 0 };
	uint8_t buf[64], out[2];

	(void)arg;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf)), i;
		int k, j;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;	/* EOF: the guest just gets no more input */
		for (i = 0; i < n; i++) {
			if (!raw) {
				feed(buf[i]);
				continue;
			}
			k = escape__feed(&esc, buf[i], out);
			if (k < 0) {
				kvm__request_exit(term_kvm, 0, "terminated (Ctrl-A x)");
				return NULL;
			}
			for (j = 0; j < k; j++)
				feed(out[j]);
		}
	}
}

/* A fatal signal while the terminal is raw: restore it, then die of it. */
static void restore_and_reraise(int sig)
{
	tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

void term__init(struct kvm *kvm, int (*sink)(void *, uint8_t), void *opaque)
{
	pthread_attr_t attr;
	pthread_t t;

	term_kvm = kvm;
	term_sink = sink;
	term_opaque = opaque;
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		struct termios t = saved;

		cfmakeraw(&t);
		if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0) {
			raw = 1;
			atexit(restore);
			signal(SIGTERM, restore_and_reraise);
			signal(SIGHUP, restore_and_reraise);
			signal(SIGQUIT, restore_and_reraise);
			signal(SIGINT, restore_and_reraise);
		}
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, input_thread, NULL))
		die("console input thread: %s", strerror(errno));
	pthread_attr_destroy(&attr);
}
