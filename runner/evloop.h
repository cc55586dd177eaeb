/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The event loop: one thread beside the vCPU threads waits (epoll) on
 * file descriptors devices hand it (ioeventfds of virtqueue notifications)
 * and calls their handler when one is readable.
 */
#ifndef KVL_RUNNER_EVLOOP_H
#define KVL_RUNNER_EVLOOP_H

/* Watch @fd (level triggered); @fn runs on the loop thread. 0 or -1 (errno set). */
int evloop__add(int fd, void (*fn)(void *opaque, int fd), void *opaque);
/* Stop watching @fd (its handler is not called afterwards once this returns on the loop thread). */
void evloop__del(int fd);

#endif
