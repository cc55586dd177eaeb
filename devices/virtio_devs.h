/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Virtio device models (virtio spec 5.2, 5.3, 5.4): each fills a struct
 * virtio_dev through its ops and knows nothing of the transport.
 */
#ifndef KVL_DEVICES_VIRTIO_DEVS_H
#define KVL_DEVICES_VIRTIO_DEVS_H

#include "disk.h"
#include "virtio.h"

#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_FLUSH	9

#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4
#define VIRTIO_BLK_T_GET_ID	8
#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2
#define VIRTIO_BLK_ID_BYTES	20
#define VIRTIO_BLK_QUEUE_SIZE	256

/* virtio-blk on @disk (not owned); @id is the serial GET_ID returns. */
struct virtio_dev *virtio_blk_create(const struct vmem *mem, struct disk *disk,
				     const char *id, const char *label);

/*
 * Asynchronous reads and writes for virtio-blk (the runner's io_uring);
 * without one, requests go through disk.h synchronously.  All calls are
 * made with the device's lock held.
 */
struct virtio_blk_aio {
	/* Start one transfer of @iov at byte @off: 0, or < 0 to have it done synchronously. */
	int (*submit)(void *opaque, bool write, const struct iovec *iov, unsigned int n,
		      uint64_t off, uint64_t cookie);
	/* Wait for all started transfers, calling virtio_blk_aio_complete() for each. */
	void (*drain)(void *opaque, struct virtio_dev *vd);
	void *opaque;
};

void virtio_blk_set_aio(struct virtio_dev *vd, const struct virtio_blk_aio *aio);
/* Transfer @cookie ended with @res (bytes done, or -errno); lock held. */
void virtio_blk_aio_complete(struct virtio_dev *vd, uint64_t cookie, int64_t res);
/* Transfers started and not yet completed (lock held). */
unsigned int virtio_blk_inflight(struct virtio_dev *vd);

/*
 * virtio-console, one port (no MULTIPORT): @out receives what the guest
 * writes to hvc0.  Input arrives through virtio_console_input().
 */
struct virtio_dev *virtio_console_create(const struct vmem *mem,
					 void (*out)(void *opaque, const uint8_t *buf, size_t len),
					 void *opaque, const char *label);
/* Host to guest (takes the lock): bytes taken, possibly fewer than @len (buffer full). */
size_t virtio_console_input(struct virtio_dev *vd, const uint8_t *buf, size_t len);

/*
 * virtio-net (virtio spec 5.1) with a MAC and no offloads: queue 0
 * receives, queue 1 transmits; every buffer starts with the 12-byte
 * virtio_net_hdr (VERSION_1).  Frames the guest sends go to @send as an
 * iovec of the frame alone; frames for the guest come in through
 * virtio_net_receive().
 */
#define VIRTIO_NET_F_MAC	5
#define VIRTIO_NET_HDR_LEN	12
#define VIRTIO_NET_MAX_FRAME	65550

struct virtio_dev *virtio_net_create(const struct vmem *mem, const uint8_t mac[6],
				     void (*send)(void *opaque, const struct iovec *iov,
						  unsigned int n),
				     void *opaque, const char *label);
/* One frame for the guest (takes the lock): 0, or -1 when it had no buffer (dropped). */
int virtio_net_receive(struct virtio_dev *vd, const uint8_t *frame, size_t len);

/* virtio-rng fed by @fill (getrandom in the runner) */
struct virtio_dev *virtio_rng_create(const struct vmem *mem,
				     int (*fill)(void *buf, size_t len), const char *label);

#endif
