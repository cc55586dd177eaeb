// SPDX-License-Identifier: GPL-2.0
/* The event loop thread: see evloop.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "evloop.h"
#include "kvm.h"

struct watch {
	int fd;
	void (*fn)(void *opaque, int fd);
	void *opaque;
};

static int epfd = -1;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void *loop(void *arg)
{
	struct epoll_event ev[16];

	(void)arg;
	for (;;) {
		int n = epoll_wait(epfd, ev, 16, -1), i;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			struct watch *w = ev[i].data.ptr;

			w->fn(w->opaque, w->fd);
		}
	}
	return NULL;
}

static void start(void)
{
	pthread_attr_t attr;
	pthread_t t;
	int err;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1: %s", strerror(errno));
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&t, &attr, loop, NULL);
	if (err)
		die("event loop thread: %s", strerror(err));
	pthread_attr_destroy(&attr);
}

int evloop__add(int fd, void (*fn)(void *opaque, int fd), void *opaque)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct watch *w;

	pthread_once(&once, start);
	w = calloc(1, sizeof(*w));
	if (!w)
		return -1;
	*w = (struct watch){ fd, fn, opaque };
	ev.data.ptr = w;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(w);
		return -1;
	}
	return 0;	/* watches live as long as the VM */
}

void evloop__del(int fd)
{
	if (epfd >= 0)
		epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
}
