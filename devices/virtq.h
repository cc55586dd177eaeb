/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Split virtqueues (virtio 1.x, section 2.7) seen from the device side.
 * Every value read from guest memory is validated before use: ring and
 * descriptor addresses must lie in guest RAM (through struct vmem), heads
 * and next indices below the queue size, chains no longer than the table
 * they live in (so loops end), indirect tables only when negotiated, whole
 * and not nested, device-readable buffers before device-writable ones.
 * Not thread-safe: the caller holds the device's lock.
 */
#ifndef KVL_DEVICES_VIRTQ_H
#define KVL_DEVICES_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "iov.h"

#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1
#define VIRTQ_USED_F_NO_NOTIFY	1

#define VIRTQ_MAX_SIZE		32768
/* Most buffers one request may carry (direct and indirect together). */
#define VIRTQ_MAX_IOV		1024

/* Guest physical memory: host pointer for [gpa, gpa + len), or NULL if not all RAM. */
struct vmem {
	void *(*ptr)(void *opaque, uint64_t gpa, uint64_t len);
	void *opaque;
};

struct virtq {
	uint16_t size;			/* as the driver set it */
	bool ready;
	bool event_idx, indirect;	/* negotiated features */
	uint64_t desc, avail, used;	/* guest physical */
	uint16_t last_avail;		/* next avail entry to take */
	uint16_t used_idx;		/* next used entry to fill */
	uint16_t signalled_used;	/* used_idx at the last interrupt */
	bool signalled_valid;
};

/* One request: nout device-readable buffers, then nin device-writable ones. */
struct virtq_req {
	uint16_t head;
	unsigned int nout, nin;
	uint64_t out_len, in_len;
	struct iovec iov[VIRTQ_MAX_IOV];
};

/* Check a queue's layout before it is enabled; 0, or -1 with a reason in err. */
int virtq_check(const struct virtq *q, const struct vmem *m, uint16_t max_size,
		char *err, size_t errlen);
/* Take the next request: 1, 0 when the ring is empty, -1 on a bad ring (reason in err). */
int virtq_pop(struct virtq *q, const struct vmem *m, struct virtq_req *r,
	      char *err, size_t errlen);
/* Return a request with @len bytes written into it; 0, or -1 if the used ring is gone. */
int virtq_push(struct virtq *q, const struct vmem *m, uint16_t head, uint32_t len);
/* After pushes: whether the driver wants an interrupt now (and note that it gets one). */
bool virtq_should_signal(struct virtq *q, const struct vmem *m);
void virtq_reset(struct virtq *q);

#endif
