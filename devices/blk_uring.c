// SPDX-License-Identifier: GPL-2.0
/* virtio-blk's asynchronous back end on io_uring: see blk_uring.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <liburing.h>

#include "../runner/evloop.h"
#include "../runner/kvm.h"
#include "blk_uring.h"

#define DEPTH	VIRTIO_BLK_QUEUE_SIZE

struct blk_uring {
	struct io_uring ring;
	struct virtio_blk_aio aio;
	struct virtio_dev *vd;
	int fd, efd;
};

static int submit(void *opaque, bool write, const struct iovec *iov, unsigned int n,
		  uint64_t off, uint64_t cookie)
{
	struct blk_uring *u = opaque;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	int r;

	if (!sqe)
		return -EBUSY;	/* cannot happen with DEPTH slots; then synchronous */
	if (write)
		io_uring_prep_writev(sqe, u->fd, iov, n, off);
	else
		io_uring_prep_readv(sqe, u->fd, iov, n, off);
	io_uring_sqe_set_data64(sqe, cookie);
	do {
		r = io_uring_submit(&u->ring);
	} while (r == -EINTR);
	if (r < 0) {
		/* The SQE stays queued and goes out with the next submit: it is started. */
		warn("io_uring_submit: %s", strerror(-r));
	}
	return 0;
}

/* Completions available now (lock held). */
static void reap(struct blk_uring *u)
{
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		uint64_t cookie = io_uring_cqe_get_data64(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&u->ring, cqe);
		virtio_blk_aio_complete(u->vd, cookie, res);
	}
}

static void drain(void *opaque, struct virtio_dev *vd)
{
	struct blk_uring *u = opaque;
	struct io_uring_cqe *cqe;

	(void)vd;
	while (virtio_blk_inflight(u->vd)) {
		int r;

		if (io_uring_sq_ready(&u->ring))
			io_uring_submit(&u->ring);	/* one that failed to go out earlier */
		r = io_uring_wait_cqe(&u->ring, &cqe);

		if (r == -EINTR)
			continue;
		if (r < 0)
			die("io_uring_wait_cqe: %s", strerror(-r));
		reap(u);
	}
}

static void completed(void *opaque, int fd)
{
	struct blk_uring *u = opaque;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return;
	pthread_mutex_lock(&u->vd->lock);
	if (io_uring_sq_ready(&u->ring))
		io_uring_submit(&u->ring);
	reap(u);
	pthread_mutex_unlock(&u->vd->lock);
}

int blk_uring_attach(struct virtio_dev *vd, int fd)
{
	struct blk_uring *u = calloc(1, sizeof(*u));
	int r;

	if (!u)
		return -1;
	r = io_uring_queue_init(DEPTH, &u->ring, 0);
	if (r < 0) {
		warn("io_uring: %s; disk I/O stays synchronous", strerror(-r));
		free(u);
		return -1;
	}
	u->vd = vd;
	u->fd = fd;
	u->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->efd < 0 || io_uring_register_eventfd(&u->ring, u->efd) < 0 ||
	    evloop__add(u->efd, completed, u) < 0) {
		warn("io_uring eventfd: %s; disk I/O stays synchronous", strerror(errno));
		io_uring_queue_exit(&u->ring);
		if (u->efd >= 0)
			close(u->efd);
		free(u);
		return -1;
	}
	u->aio = (struct virtio_blk_aio){ submit, drain, u };
	virtio_blk_set_aio(vd, &u->aio);
	return 0;
}
