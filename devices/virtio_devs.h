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
 * virtio-console, one port (no MULTIPORT): @out receives what the guest
 * writes to hvc0.  Input arrives through virtio_console_input().
 */
struct virtio_dev *virtio_console_create(const struct vmem *mem,
					 void (*out)(void *opaque, const uint8_t *buf, size_t len),
					 void *opaque, const char *label);
/* Host to guest (takes the lock): bytes taken, possibly fewer than @len (buffer full). */
size_t virtio_console_input(struct virtio_dev *vd, const uint8_t *buf, size_t len);

/* virtio-rng fed by @fill (getrandom in the runner) */
struct virtio_dev *virtio_rng_create(const struct vmem *mem,
				     int (*fill)(void *buf, size_t len), const char *label);

#endif
