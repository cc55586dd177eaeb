// SPDX-License-Identifier: GPL-2.0
/* The event loop thread: see evloop.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "evloop.h"
#include "kvm.h"

struct watch {
	int fd;
	bool dead;
	void (*fn)(void *opaque, int fd);
	void *opaque;
	struct watch *next;
};

struct call {
	void (*fn)(void *opaque);
	void *opaque;
	struct call *next;
};

struct evtimer {
	int fd;
	void (*fn)(void *opaque);
	void *opaque;
};

static int epfd = -1, call_fd = -1;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct watch *watches, *graveyard;
static struct call *calls, **calls_tail = &calls;

static bool alive(struct watch *w)
{
	bool ok;

	pthread_mutex_lock(&lock);
	ok = !w->dead;
	pthread_mutex_unlock(&lock);
	return ok;
}

/* Watches deleted during a batch may still be in its event array: free them after it. */
static void bury(void)
{
	struct watch *w, *next;

	pthread_mutex_lock(&lock);
	w = graveyard;
	graveyard = NULL;
	pthread_mutex_unlock(&lock);
	for (; w; w = next) {
		next = w->next;
		free(w);
	}
}

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

			if (alive(w))
				w->fn(w->opaque, w->fd);
		}
		bury();
	}
	return NULL;
}

static void run_calls(void *opaque, int fd)
{
	struct call *c, *next;
	uint64_t v;

	(void)opaque;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		warn("event loop calls: %s", strerror(errno));
	pthread_mutex_lock(&lock);
	c = calls;
	calls = NULL;
	calls_tail = &calls;
	pthread_mutex_unlock(&lock);
	for (; c; c = next) {
		next = c->next;
		c->fn(c->opaque);
		free(c);
	}
}

static int add_watch(int fd, void (*fn)(void *opaque, int fd), void *opaque)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct watch *w = calloc(1, sizeof(*w));

	if (!w)
		return -1;
	*w = (struct watch){ .fd = fd, .fn = fn, .opaque = opaque };
	ev.data.ptr = w;
	pthread_mutex_lock(&lock);
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		pthread_mutex_unlock(&lock);
		free(w);
		return -1;
	}
	w->next = watches;
	watches = w;
	pthread_mutex_unlock(&lock);
	return 0;
}

static void start(void)
{
	pthread_attr_t attr;
	pthread_t t;
	int err;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1: %s", strerror(errno));
	call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (call_fd < 0 || add_watch(call_fd, run_calls, NULL) < 0)
		die("event loop eventfd: %s", strerror(errno));
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&t, &attr, loop, NULL);
	if (err)
		die("event loop thread: %s", strerror(err));
	pthread_attr_destroy(&attr);
}

int evloop__add(int fd, void (*fn)(void *opaque, int fd), void *opaque)
{
	pthread_once(&once, start);
	return add_watch(fd, fn, opaque);
}

void evloop__del(int fd)
{
	struct watch **p, *w;

	if (epfd < 0)
		return;
	pthread_mutex_lock(&lock);
	for (p = &watches; (w = *p); p = &w->next)
		if (w->fd == fd && !w->dead)
			break;
	if (w) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
		w->dead = true;
		*p = w->next;
		w->next = graveyard;
		graveyard = w;
	}
	pthread_mutex_unlock(&lock);
}

int evloop__call(void (*fn)(void *opaque), void *opaque)
{
	struct call *c = calloc(1, sizeof(*c));
	uint64_t one = 1;

	if (!c)
		return -1;
	pthread_once(&once, start);
	c->fn = fn;
	c->opaque = opaque;
	pthread_mutex_lock(&lock);
	*calls_tail = c;
	calls_tail = &c->next;
	pthread_mutex_unlock(&lock);
	if (write(call_fd, &one, sizeof(one)) != sizeof(one))
		return -1;	/* only if the counter is saturated: a wakeup is pending */
	return 0;
}

static void timer_ready(void *opaque, int fd)
{
	struct evtimer *t = opaque;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) == sizeof(n) && n)
		t->fn(t->opaque);
}

struct evtimer *evloop__timer_new(void (*fn)(void *opaque), void *opaque)
{
	struct evtimer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->fn = fn;
	t->opaque = opaque;
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (t->fd < 0 || evloop__add(t->fd, timer_ready, t) < 0) {
		if (t->fd >= 0)
			close(t->fd);
		free(t);
		return NULL;
	}
	return t;
}

void evloop__timer_set(struct evtimer *t, uint64_t delay_ns, uint64_t period_ns)
{
	struct itimerspec its = {
		.it_value = { delay_ns / 1000000000ULL, delay_ns % 1000000000ULL },
		.it_interval = { period_ns / 1000000000ULL, period_ns % 1000000000ULL },
	};

	if (timerfd_settime(t->fd, 0, &its, NULL) < 0)
		warn("timerfd_settime: %s", strerror(errno));
}
