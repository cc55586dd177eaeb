// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console (virtio spec 5.3) with a single port and no feature
 * bits: queue 0 carries host-to-guest bytes (receiveq), queue 1 the
 * guest's output (transmitq).  The guest sees it as hvc0.  Input waits in
 * a small buffer until the driver posts receive buffers.
 */
#include <stdlib.h>
#include <string.h>

#include "virtio_devs.h"

#define RX_BUF		4096
#define CONFIG_LEN	12

struct vcons {
	struct virtio_dev vd;
	void (*out)(void *opaque, const uint8_t *buf, size_t len);
	void *opaque;
	uint8_t config[CONFIG_LEN];
	uint8_t rx[RX_BUF];
	size_t rx_head, rx_count;
	struct virtq_req req;
};

static void fill_rx(struct vcons *c)
{
	struct virtio_dev *vd = &c->vd;
	struct virtq_req *r = &c->req;

	while (c->rx_count && virtio_queue_live(vd, 0)) {
		size_t done = 0;

		if (virtio_pop(vd, 0, r) <= 0)
			return;
		while (c->rx_count && done < r->in_len) {
			size_t chunk = RX_BUF - c->rx_head;

			if (chunk > c->rx_count)
				chunk = c->rx_count;
			if (chunk > r->in_len - done)
				chunk = r->in_len - done;
			buf_to_iov(r->iov + r->nout, r->nin, done, c->rx + c->rx_head, chunk);
			done += chunk;
			c->rx_head = (c->rx_head + chunk) % RX_BUF;
			c->rx_count -= chunk;
		}
		virtio_complete(vd, 0, r->head, done);
	}
}

static void cons_notify(struct virtio_dev *vd, unsigned int q)
{
	struct vcons *c = vd->priv;
	struct virtq_req *r = &c->req;

	if (q == 0) {
		fill_rx(c);
		return;
	}
	while (virtio_pop(vd, 1, r) > 0) {
		unsigned int i;

		for (i = 0; i < r->nout; i++)
			c->out(c->opaque, r->iov[i].iov_base, r->iov[i].iov_len);
		virtio_complete(vd, 1, r->head, 0);
	}
}

static void cons_reset(struct virtio_dev *vd)
{
	struct vcons *c = vd->priv;

	if (c)
		c->rx_head = c->rx_count = 0;
}

size_t virtio_console_input(struct virtio_dev *vd, const uint8_t *buf, size_t len)
{
	struct vcons *c = vd->priv;
	size_t n = 0;

	pthread_mutex_lock(&vd->lock);
	while (n < len && c->rx_count < RX_BUF) {
		c->rx[(c->rx_head + c->rx_count) % RX_BUF] = buf[n++];
		c->rx_count++;
	}
	fill_rx(c);
	pthread_mutex_unlock(&vd->lock);
	return n;
}

static const struct virtio_dev_ops cons_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.nr_queues = 2,
	.queue_max = 64,
	.queue_notify = cons_notify,
	.reset = cons_reset,
};

struct virtio_dev *virtio_console_create(const struct vmem *mem,
					 void (*out)(void *opaque, const uint8_t *buf, size_t len),
					 void *opaque, const char *label)
{
	struct vcons *c = calloc(1, sizeof(*c));
	uint16_t cols = 80, rows = 25;
	uint32_t ports = 1;

	if (!c)
		return NULL;
	c->out = out;
	c->opaque = opaque;
	memcpy(c->config, &cols, 2);
	memcpy(c->config + 2, &rows, 2);
	memcpy(c->config + 4, &ports, 4);
	virtio_dev_init(&c->vd, &cons_ops, mem, label);
	c->vd.priv = c;
	c->vd.config = c->config;
	c->vd.config_len = CONFIG_LEN;
	return &c->vd;
}
