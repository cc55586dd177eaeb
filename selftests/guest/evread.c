// SPDX-License-Identifier: GPL-2.0
/*
 * evread: print the events of one input device, for the display tests'
 * Linux guests (busybox has no evtest).
 *
 *   evread NAME TOTAL_MS IDLE_MS
 *
 * Waits (up to TOTAL_MS) for a /dev/input/eventN whose name contains
 * NAME, prints "EVREAD-OPEN /dev/input/eventN NAME" once it is open, then
 * one "EV type code value" line per event until IDLE_MS pass without one
 * after the first, or TOTAL_MS in all.  Exits 1 if no device was found.
 */
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

static int find(const char *want, char *path, size_t len, char *name, size_t nlen)
{
	int i, fd;

	for (i = 0; i < 32; i++) {
		snprintf(path, len, "/dev/input/event%d", i);
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(name, 0, nlen);
		if (ioctl(fd, EVIOCGNAME(nlen - 1), name) >= 0 && strstr(name, want))
			return fd;
		close(fd);
	}
	return -1;
}

int main(int argc, char **argv)
{
	char path[64], name[256];
	struct input_event ev[64];
	long start, last = 0, total, idle;
	bool got = false;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: evread NAME TOTAL_MS IDLE_MS\n");
		return 2;
	}
	total = atol(argv[2]);
	idle = atol(argv[3]);
	start = now_ms();
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((fd = find(argv[1], path, sizeof(path), name, sizeof(name))) < 0) {
		if (now_ms() - start > total) {
			printf("EVREAD-NODEV %s\n", argv[1]);
			return 1;
		}
		usleep(100000);
	}
	printf("EVREAD-OPEN %s %s\n", path, name);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long t = now_ms(), left = start + total - t;
		ssize_t n;
		int i;

		if (got && last + idle - t < left)
			left = last + idle - t;
		if (left <= 0)
			break;
		if (poll(&p, 1, left) <= 0)
			continue;
		n = read(fd, ev, sizeof(ev));
		if (n <= 0)
			continue;
		for (i = 0; i < n / (ssize_t)sizeof(ev[0]); i++)
			printf("EV %u %u %d\n", ev[i].type, ev[i].code, ev[i].value);
		got = true;
		last = now_ms();
	}
	printf("EVREAD-END\n");
	return 0;
}
