/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The event loop: one thread beside the vCPU threads waits (epoll) on
 * file descriptors devices hand it (ioeventfds of virtqueue notifications,
 * taps, the control socket) and calls their handler when one is readable.
 * Handlers run one at a time on that thread; they must not block for long.
 */
#ifndef KVL_RUNNER_EVLOOP_H
#define KVL_RUNNER_EVLOOP_H

#include <stdint.h>

/* Watch @fd (level triggered); @fn runs on the loop thread. 0 or -1 (errno set). */
int evloop__add(int fd, void (*fn)(void *opaque, int fd), void *opaque);
/*
 * Stop watching @fd: once this returns its handler is not called again
 * (when called from another thread, a handler already running may still
 * finish).  Safe from inside any handler, including @fd's own.  The caller
 * closes @fd afterwards.
 */
void evloop__del(int fd);

/* Run @fn(@opaque) once on the loop thread, soon (from any thread). 0 or -1. */
int evloop__call(void (*fn)(void *opaque), void *opaque);

/* A timer whose @fn runs on the loop thread; NULL on failure. */
struct evtimer;
struct evtimer *evloop__timer_new(void (*fn)(void *opaque), void *opaque);
/*
 * Arm it: first expiry after @delay_ns, then every @period_ns (0: once).
 * @delay_ns 0 disarms it.  Expiries missed while the loop was busy are
 * folded into one call.
 */
void evloop__timer_set(struct evtimer *t, uint64_t delay_ns, uint64_t period_ns);

#endif
