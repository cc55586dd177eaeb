// SPDX-License-Identifier: GPL-2.0
/* virtio-rng (virtio spec 5.4): fills each device-writable buffer from the host's source. */
#include <stdlib.h>

#include "virtio_devs.h"

#define CHUNK	4096

struct vrng {
	struct virtio_dev vd;
	int (*fill)(void *buf, size_t len);
	struct virtq_req req;
};

static void rng_notify(struct virtio_dev *vd, unsigned int q)
{
	struct vrng *g = vd->priv;
	struct virtq_req *r = &g->req;

	while (virtio_pop(vd, q, r) > 0) {
		uint8_t buf[CHUNK];
		size_t done = 0;

		/* At most one chunk per request: the driver asks again for more. */
		if (r->in_len) {
			size_t want = r->in_len < CHUNK ? r->in_len : CHUNK;

			if (g->fill(buf, want) == 0)
				done = buf_to_iov(r->iov + r->nout, r->nin, 0, buf, want);
		}
		virtio_complete(vd, q, r->head, done);
	}
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.nr_queues = 1,
	.queue_max = 64,
	.queue_notify = rng_notify,
};

struct virtio_dev *virtio_rng_create(const struct vmem *mem,
				     int (*fill)(void *buf, size_t len), const char *label)
{
	struct vrng *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->fill = fill;
	virtio_dev_init(&g->vd, &rng_ops, mem, label);
	g->vd.priv = g;
	return &g->vd;
}
