// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net (virtio spec 5.1): one receive and one transmit queue, a MAC
 * address in config space, no checksum or segmentation offloads, no
 * mergeable receive buffers (each receive chain takes one whole frame
 * after its header), no control queue.
 */
#include <stdlib.h>
#include <string.h>

#include "virtio_devs.h"

#define CONFIG_LEN	8	/* mac[6], status (unused without F_STATUS) */
#define QSIZE		256

struct vnet {
	struct virtio_dev vd;
	void (*send)(void *opaque, const struct iovec *iov, unsigned int n);
	void *opaque;
	uint8_t config[CONFIG_LEN];
	struct virtq_req req;
	struct iovec frame[VIRTQ_MAX_IOV];
	unsigned long rx_dropped, tx_bad;
};

static void tx(struct vnet *v)
{
	struct virtio_dev *vd = &v->vd;
	struct virtq_req *r = &v->req;

	while (virtio_pop(vd, 1, r) > 0) {
		size_t skip = VIRTIO_NET_HDR_LEN;
		unsigned int i, n = 0;

		/* The frame: the device-readable bytes after the header. */
		if (r->out_len < VIRTIO_NET_HDR_LEN + 14 ||
		    r->out_len > VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME) {
			v->tx_bad++;
			virtio_complete(vd, 1, r->head, 0);
			continue;
		}
		for (i = 0; i < r->nout; i++) {
			size_t l = r->iov[i].iov_len;

			if (skip >= l) {
				skip -= l;
				continue;
			}
			v->frame[n++] = (struct iovec){ (uint8_t *)r->iov[i].iov_base + skip,
							l - skip };
			skip = 0;
		}
		v->send(v->opaque, v->frame, n);
		virtio_complete(vd, 1, r->head, 0);
	}
}

int virtio_net_receive(struct virtio_dev *vd, const uint8_t *frame, size_t len)
{
	struct vnet *v = vd->priv;
	struct virtq_req *r = &v->req;
	uint8_t hdr[VIRTIO_NET_HDR_LEN] = { 0 };
	int ret = -1;

	hdr[10] = 1;		/* num_buffers */
	pthread_mutex_lock(&vd->lock);
	if (len <= VIRTIO_NET_MAX_FRAME && virtio_queue_live(vd, 0) &&
	    virtio_pop(vd, 0, r) > 0) {
		if (r->in_len >= VIRTIO_NET_HDR_LEN + len) {
			buf_to_iov(r->iov + r->nout, r->nin, 0, hdr, sizeof(hdr));
			buf_to_iov(r->iov + r->nout, r->nin, sizeof(hdr), frame, len);
			virtio_complete(vd, 0, r->head, sizeof(hdr) + len);
			ret = 0;
		} else {
			virtio_complete(vd, 0, r->head, 0);	/* too small: frame dropped */
		}
	}
	if (ret)
		v->rx_dropped++;
	pthread_mutex_unlock(&vd->lock);
	return ret;
}

static void net_notify(struct virtio_dev *vd, unsigned int q)
{
	if (q == 1)
		tx(vd->priv);
	/* q 0: new receive buffers; frames arriving meanwhile were dropped. */
}

static const struct virtio_dev_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.nr_queues = 2,
	.queue_max = QSIZE,
	.features = 1ULL << VIRTIO_NET_F_MAC,
	.queue_notify = net_notify,
};

struct virtio_dev *virtio_net_create(const struct vmem *mem, const uint8_t mac[6],
				     void (*send)(void *opaque, const struct iovec *iov,
						  unsigned int n),
				     void *opaque, const char *label)
{
	struct vnet *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->send = send;
	v->opaque = opaque;
	memcpy(v->config, mac, 6);
	virtio_dev_init(&v->vd, &net_ops, mem, label);
	v->vd.priv = v;
	v->vd.config = v->config;
	v->vd.config_len = CONFIG_LEN;
	return &v->vd;
}
