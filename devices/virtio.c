// SPDX-License-Identifier: GPL-2.0
/* The transport-independent half of a virtio 1.x device: see virtio.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "virtio.h"

#define TRANSPORT_FEATURES	((1ULL << VIRTIO_F_VERSION_1) | \
				 (1ULL << VIRTIO_F_INDIRECT_DESC) | \
				 (1ULL << VIRTIO_F_EVENT_IDX))

void virtio_dev_init(struct virtio_dev *vd, const struct virtio_dev_ops *ops,
		     const struct vmem *mem, const char *label)
{
	memset(vd, 0, sizeof(*vd));
	vd->ops = ops;
	vd->mem = *mem;
	snprintf(vd->label, sizeof(vd->label), "%s", label);
	pthread_mutex_init(&vd->lock, NULL);
	vd->host_features = ops->features | TRANSPORT_FEATURES;
	virtio_reset(vd);
}

void virtio_reset(struct virtio_dev *vd)
{
	unsigned int i;

	vd->guest_features = 0;
	vd->dfselect = vd->gfselect = 0;
	vd->status = 0;
	vd->queue_sel = 0;
	vd->msix_config = VIRTIO_NO_VECTOR;
	vd->broken = false;
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		virtq_reset(&vd->vq[i]);
		vd->vq[i].size = i < vd->ops->nr_queues ? vd->ops->queue_max : 0;
		vd->queue_vector[i] = VIRTIO_NO_VECTOR;
	}
	if (vd->ops->reset)
		vd->ops->reset(vd);
}

void virtio_fail(struct virtio_dev *vd, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vd->errors++;
	if (vd->broken)
		return;
	fprintf(stderr, "kvmlite: %s: %s; device needs reset\n", vd->label, msg);
	vd->broken = true;
	vd->status |= VIRTIO_STATUS_NEEDS_RESET;
	virtio_config_changed(vd);
}

void virtio_config_changed(struct virtio_dev *vd)
{
	vd->config_gen++;
	if (vd->status & VIRTIO_STATUS_DRIVER_OK)
		vd->t.raise(vd, vd->msix_config, VIRTIO_ISR_CONFIG);
}

static uint64_t le_get(const uint8_t *data, uint32_t len)
{
	uint64_t v = 0;

	while (len--)
		v = v << 8 | data[len];
	return v;
}

static void le_put(uint8_t *data, uint32_t len, uint64_t v)
{
	uint32_t i;

	for (i = 0; i < len; i++, v >>= 8)
		data[i] = v;
}

static struct virtq *selected(struct virtio_dev *vd)
{
	return vd->queue_sel < vd->ops->nr_queues ? &vd->vq[vd->queue_sel] : NULL;
}

/* The register file as the driver reads it, laid out per 4.1.4.3. */
static void common_image(struct virtio_dev *vd, uint8_t *img)
{
	struct virtq *q = selected(vd);

	memset(img, 0, VIRTIO_COMMON_LEN);
	le_put(img + 0x00, 4, vd->dfselect);
	le_put(img + 0x04, 4, vd->dfselect < 2 ? vd->host_features >> (32 * vd->dfselect) : 0);
	le_put(img + 0x08, 4, vd->gfselect);
	le_put(img + 0x0c, 4, vd->gfselect < 2 ? vd->guest_features >> (32 * vd->gfselect) : 0);
	le_put(img + 0x10, 2, vd->msix_config);
	le_put(img + 0x12, 2, vd->ops->nr_queues);
	img[0x14] = vd->status;
	img[0x15] = vd->config_gen;
	le_put(img + 0x16, 2, vd->queue_sel);
	if (!q)
		return;
	le_put(img + 0x18, 2, q->size);
	le_put(img + 0x1a, 2, vd->queue_vector[vd->queue_sel]);
	le_put(img + 0x1c, 2, q->ready);
	le_put(img + 0x1e, 2, vd->queue_sel);	/* queue_notify_off */
	le_put(img + 0x20, 8, q->desc);
	le_put(img + 0x28, 8, q->avail);
	le_put(img + 0x30, 8, q->used);
}

void virtio_common_read(struct virtio_dev *vd, uint32_t off, uint8_t *data, uint32_t len)
{
	uint8_t img[VIRTIO_COMMON_LEN];

	if (off >= VIRTIO_COMMON_LEN || len > VIRTIO_COMMON_LEN - off) {
		memset(data, 0xff, len);
		return;
	}
	common_image(vd, img);
	memcpy(data, img + off, len);
}

static uint16_t vector_ok(struct virtio_dev *vd, uint64_t v)
{
	return v < vd->nr_vectors ? v : VIRTIO_NO_VECTOR;
}

static void set_status(struct virtio_dev *vd, uint8_t v)
{
	unsigned int i;

	if (!v) {
		virtio_reset(vd);
		return;
	}
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(vd->status & VIRTIO_STATUS_FEATURES_OK)) {
		/* Accept only what was offered, and only the 1.x interface. */
		if ((vd->guest_features & ~vd->host_features) ||
		    !(vd->guest_features & (1ULL << VIRTIO_F_VERSION_1)))
			v &= ~VIRTIO_STATUS_FEATURES_OK;
	}
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FEATURES_OK)) {
		virtio_fail(vd, "driver set DRIVER_OK without FEATURES_OK");
		return;
	}
	/* The device's own NEEDS_RESET stays; the driver cannot clear it. */
	vd->status = v | (vd->status & VIRTIO_STATUS_NEEDS_RESET);
	for (i = 0; i < vd->ops->nr_queues; i++) {
		vd->vq[i].event_idx = vd->guest_features & (1ULL << VIRTIO_F_EVENT_IDX);
		vd->vq[i].indirect = vd->guest_features & (1ULL << VIRTIO_F_INDIRECT_DESC);
	}
}

static void enable_queue(struct virtio_dev *vd, struct virtq *q)
{
	char err[160];

	if (q->ready)
		return;
	if (!(vd->status & VIRTIO_STATUS_FEATURES_OK)) {
		virtio_fail(vd, "queue %u enabled before FEATURES_OK", vd->queue_sel);
		return;
	}
	if (virtq_check(q, &vd->mem, vd->ops->queue_max, err, sizeof(err)) < 0) {
		virtio_fail(vd, "queue %u: %s", vd->queue_sel, err);
		return;
	}
	q->event_idx = vd->guest_features & (1ULL << VIRTIO_F_EVENT_IDX);
	q->indirect = vd->guest_features & (1ULL << VIRTIO_F_INDIRECT_DESC);
	q->last_avail = q->used_idx = 0;
	q->signalled_valid = false;
	q->ready = true;
}

/* 64-bit address fields: whole, or either 32-bit half. */
static void set_addr(uint64_t *field, uint32_t rel, uint32_t len, uint64_t v)
{
	if (len == 8 && rel == 0)
		*field = v;
	else if (len == 4 && rel == 0)
		*field = (*field & ~0xffffffffULL) | v;
	else if (len == 4 && rel == 4)
		*field = (*field & 0xffffffffULL) | v << 32;
}

void virtio_common_write(struct virtio_dev *vd, uint32_t off, const uint8_t *data, uint32_t len)
{
	struct virtq *q = selected(vd);
	uint64_t v;

	if (off >= VIRTIO_COMMON_LEN || len > VIRTIO_COMMON_LEN - off || !len || (off & (len - 1)))
		return;		/* out of range or misaligned: dropped */
	v = le_get(data, len);
	switch (off) {
	case 0x00:
		if (len == 4)
			vd->dfselect = v;
		return;
	case 0x08:
		if (len == 4)
			vd->gfselect = v;
		return;
	case 0x0c:
		if (len != 4 || vd->gfselect > 1 || (vd->status & VIRTIO_STATUS_FEATURES_OK))
			return;
		vd->guest_features &= ~(0xffffffffULL << (32 * vd->gfselect));
		vd->guest_features |= v << (32 * vd->gfselect);
		return;
	case 0x10:
		if (len == 2)
			vd->msix_config = vector_ok(vd, v);
		return;
	case 0x14:
		if (len == 1)
			set_status(vd, v);
		return;
	case 0x16:
		if (len == 2)
			vd->queue_sel = v;
		return;
	}
	if (!q || len < 2)
		return;
	switch (off) {
	case 0x18:
		if (len == 2 && !q->ready)
			q->size = v;	/* checked when enabled */
		return;
	case 0x1a:
		if (len == 2)
			vd->queue_vector[vd->queue_sel] = vector_ok(vd, v);
		return;
	case 0x1c:
		if (len == 2 && v == 1)
			enable_queue(vd, q);
		return;
	}
	if (q->ready)
		return;		/* addresses are fixed while enabled */
	if (off >= 0x20 && off < 0x28)
		set_addr(&q->desc, off - 0x20, len, v);
	else if (off >= 0x28 && off < 0x30)
		set_addr(&q->avail, off - 0x28, len, v);
	else if (off >= 0x30 && off < 0x38)
		set_addr(&q->used, off - 0x30, len, v);
}

void virtio_config_read(struct virtio_dev *vd, uint32_t off, uint8_t *data, uint32_t len)
{
	if (off >= vd->config_len || len > vd->config_len - off) {
		memset(data, 0, len);
		return;
	}
	memcpy(data, vd->config + off, len);
}

void virtio_config_write(struct virtio_dev *vd, uint32_t off, const uint8_t *data, uint32_t len)
{
	if (off >= vd->config_len || len > vd->config_len - off || !vd->ops->config_write)
		return;
	vd->ops->config_write(vd, off, data, len);
}

bool virtio_queue_live(struct virtio_dev *vd, unsigned int q)
{
	return q < vd->ops->nr_queues && vd->vq[q].ready && !vd->broken &&
	       (vd->status & VIRTIO_STATUS_DRIVER_OK);
}

void virtio_notify(struct virtio_dev *vd, unsigned int q)
{
	pthread_mutex_lock(&vd->lock);
	if (virtio_queue_live(vd, q))
		vd->ops->queue_notify(vd, q);
	pthread_mutex_unlock(&vd->lock);
}

int virtio_pop(struct virtio_dev *vd, unsigned int q, struct virtq_req *r)
{
	char err[160];
	int ret;

	if (!virtio_queue_live(vd, q))
		return 0;
	ret = virtq_pop(&vd->vq[q], &vd->mem, r, err, sizeof(err));
	if (ret < 0)
		virtio_fail(vd, "queue %u: %s", q, err);
	return ret;
}

void virtio_complete(struct virtio_dev *vd, unsigned int q, uint16_t head, uint32_t len)
{
	struct virtq *vq = &vd->vq[q];

	if (virtq_push(vq, &vd->mem, head, len) < 0) {
		virtio_fail(vd, "queue %u: used ring outside guest RAM", q);
		return;
	}
	if (virtq_should_signal(vq, &vd->mem))
		vd->t.raise(vd, vd->queue_vector[q], VIRTIO_ISR_QUEUE);
}
