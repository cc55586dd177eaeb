/* SPDX-License-Identifier: GPL-2.0 */
/*
 * io_uring for virtio-blk on raw images: reads and writes go to the image
 * file (guest offset = file offset) as IORING_OP_READV/WRITEV; their
 * completions wake the event loop through an eventfd.
 */
#ifndef KVL_DEVICES_BLK_URING_H
#define KVL_DEVICES_BLK_URING_H

#include "virtio_devs.h"

/* Attach io_uring to @vd over @fd; 0, or -1 (a warning printed, I/O stays synchronous). */
int blk_uring_attach(struct virtio_dev *vd, int fd);

#endif
