// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk (virtio spec 5.2) over the disk interface: IN, OUT, FLUSH and
 * GET_ID, one request queue.  A request is an out header {type, reserved,
 * sector}, data, and a one-byte status in the last device-writable byte.
 * Requests that are well formed as rings but not as block requests (short
 * header, no status byte, data not whole sectors, past the end) complete
 * with IOERR; a read-only disk answers writes with IOERR too.  With an
 * asynchronous back end (struct virtio_blk_aio) reads and writes complete
 * later, in any order, each from a slot that keeps the request's buffers;
 * a device reset waits for all of them and drops their results.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio_devs.h"

#define CONFIG_LEN	60
#define PENDING		0xff	/* do_request(): completes later */
#define SLOT_IOV	(VIRTIO_BLK_QUEUE_SIZE - 2)	/* seg_max */

struct slot {
	bool busy;
	uint16_t head;
	uint8_t *status;	/* the request's status byte in guest RAM */
	uint32_t len;
	unsigned int n;
	struct iovec iov[SLOT_IOV];
};

struct vblk {
	struct virtio_dev vd;
	struct disk *disk;
	char id[VIRTIO_BLK_ID_BYTES];
	uint8_t config[CONFIG_LEN];
	struct virtq_req req;
	struct iovec data[VIRTQ_MAX_IOV];
	const struct virtio_blk_aio *aio;
	struct slot *slots;	/* VIRTIO_BLK_QUEUE_SIZE of them, with aio */
	unsigned int inflight;
	bool draining;
};

/* The last device-writable byte: where the status goes. */
static uint8_t *status_byte(struct virtq_req *r)
{
	unsigned int i;

	for (i = r->nout + r->nin; i > r->nout; i--)
		if (r->iov[i - 1].iov_len)
			return (uint8_t *)r->iov[i - 1].iov_base + r->iov[i - 1].iov_len - 1;
	return NULL;
}

/* Hand a read or write to the asynchronous back end; false: do it here. */
static bool start_async(struct vblk *b, struct virtq_req *r, bool write, unsigned int n,
			uint64_t off, uint64_t len)
{
	unsigned int i;
	struct slot *s;

	if (!b->aio || !len || n > SLOT_IOV)
		return false;
	for (i = 0; i < VIRTIO_BLK_QUEUE_SIZE && b->slots[i].busy; i++)
		;
	if (i == VIRTIO_BLK_QUEUE_SIZE)
		return false;
	s = &b->slots[i];
	memcpy(s->iov, b->data, n * sizeof(s->iov[0]));
	s->n = n;
	s->head = r->head;
	s->status = status_byte(r);
	s->len = write ? 0 : len;
	if (b->aio->submit(b->aio->opaque, write, s->iov, n, off, i) < 0)
		return false;
	s->busy = true;
	b->inflight++;
	return true;
}

static uint8_t do_request(struct vblk *b, struct virtq_req *r, uint32_t *written)
{
	uint8_t hdr[16];
	uint32_t type;
	uint64_t sector, len, off;
	unsigned int n = 0, i, first;
	size_t skip = 16, left;
	int err;

	*written = 0;
	if (iov_to_buf(r->iov, r->nout, 0, hdr, 16) != 16)
		return VIRTIO_BLK_S_IOERR;
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);

	/* The data: readable bytes after the header (OUT), writable ones before the status (IN). */
	if (type == VIRTIO_BLK_T_OUT) {
		first = 0;
		left = r->out_len - 16;
		for (i = 0; i < r->nout && left; i++) {
			size_t l = r->iov[i].iov_len;

			if (skip >= l) {
				skip -= l;
				continue;
			}
			b->data[n++] = (struct iovec){ (uint8_t *)r->iov[i].iov_base + skip, l - skip };
			left -= l - skip;
			skip = 0;
		}
		len = r->out_len - 16;
	} else {
		first = r->nout;
		left = r->in_len - 1;
		for (i = first; i < r->nout + r->nin && left; i++) {
			size_t l = r->iov[i].iov_len < left ? r->iov[i].iov_len : left;

			b->data[n++] = (struct iovec){ r->iov[i].iov_base, l };
			left -= l;
		}
		len = r->in_len - 1;
	}

	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (len % DISK_SECTOR || sector > b->disk->size / DISK_SECTOR ||
		    len > b->disk->size - sector * DISK_SECTOR)
			return VIRTIO_BLK_S_IOERR;
		off = sector * DISK_SECTOR;
		if (type == VIRTIO_BLK_T_OUT && b->disk->readonly)
			return VIRTIO_BLK_S_IOERR;
		if (start_async(b, r, type == VIRTIO_BLK_T_OUT, n, off, len))
			return PENDING;
		if (type == VIRTIO_BLK_T_OUT) {
			err = len ? disk_pwritev(b->disk, b->data, n, off) : 0;
		} else {
			err = len ? disk_preadv(b->disk, b->data, n, off) : 0;
			if (!err)
				*written = len;
		}
		return err ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		if (b->disk->readonly)
			return VIRTIO_BLK_S_OK;
		return disk_flush(b->disk) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		*written = buf_to_iov(b->data, n, 0, b->id,
				      len < VIRTIO_BLK_ID_BYTES ? len : VIRTIO_BLK_ID_BYTES);
		return VIRTIO_BLK_S_OK;
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static void blk_notify(struct virtio_dev *vd, unsigned int q)
{
	struct vblk *b = vd->priv;
	struct virtq_req *r = &b->req;

	while (virtio_pop(vd, q, r) > 0) {
		uint32_t written = 0;
		uint8_t status;

		if (!r->in_len) {	/* nowhere to put the status */
			virtio_complete(vd, q, r->head, 0);
			continue;
		}
		status = do_request(b, r, &written);
		if (status == PENDING)
			continue;
		buf_to_iov(r->iov + r->nout, r->nin, r->in_len - 1, &status, 1);
		virtio_complete(vd, q, r->head, written + 1);
	}
}

void virtio_blk_aio_complete(struct virtio_dev *vd, uint64_t cookie, int64_t res)
{
	struct vblk *b = vd->priv;
	struct slot *s;
	uint64_t want = 0;
	unsigned int i;

	if (cookie >= VIRTIO_BLK_QUEUE_SIZE || !b->slots[cookie].busy)
		return;
	s = &b->slots[cookie];
	s->busy = false;
	b->inflight--;
	if (b->draining)
		return;		/* the device was reset: nobody waits for it */
	for (i = 0; i < s->n; i++)
		want += s->iov[i].iov_len;
	if (res < 0 || (uint64_t)res != want)
		s->len = 0;
	if (s->status)
		*s->status = res >= 0 && (uint64_t)res == want ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	virtio_complete(vd, 0, s->head, s->len + 1);
}

unsigned int virtio_blk_inflight(struct virtio_dev *vd)
{
	struct vblk *b = vd->priv;

	return b->inflight;
}

void virtio_blk_set_aio(struct virtio_dev *vd, const struct virtio_blk_aio *aio)
{
	struct vblk *b = vd->priv;

	pthread_mutex_lock(&vd->lock);
	if (!b->slots)
		b->slots = calloc(VIRTIO_BLK_QUEUE_SIZE, sizeof(*b->slots));
	b->aio = b->slots ? aio : NULL;
	pthread_mutex_unlock(&vd->lock);
}

static void blk_reset(struct virtio_dev *vd)
{
	struct vblk *b = vd->priv;

	if (!b || !b->aio || !b->inflight)
		return;
	b->draining = true;
	b->aio->drain(b->aio->opaque, vd);
	b->draining = false;
}

static const struct virtio_dev_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nr_queues = 1,
	.queue_max = VIRTIO_BLK_QUEUE_SIZE,
	.features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_FLUSH),
	.queue_notify = blk_notify,
	.reset = blk_reset,
};

static const struct virtio_dev_ops blk_ro_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nr_queues = 1,
	.queue_max = VIRTIO_BLK_QUEUE_SIZE,
	.features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_FLUSH) |
		    (1ULL << VIRTIO_BLK_F_RO),
	.queue_notify = blk_notify,
	.reset = blk_reset,
};

struct virtio_dev *virtio_blk_create(const struct vmem *mem, struct disk *disk,
				     const char *id, const char *label)
{
	struct vblk *b = calloc(1, sizeof(*b));
	uint64_t sectors = disk->size / DISK_SECTOR;
	uint32_t seg_max = VIRTIO_BLK_QUEUE_SIZE - 2;

	if (!b)
		return NULL;
	b->disk = disk;
	/* Not NUL-terminated when 20 bytes long, as the spec allows. */
	memcpy(b->id, id, strnlen(id, sizeof(b->id)));
	memcpy(b->config, &sectors, 8);		/* capacity in 512-byte sectors */
	memcpy(b->config + 12, &seg_max, 4);
	virtio_dev_init(&b->vd, disk->readonly ? &blk_ro_ops : &blk_ops, mem, label);
	b->vd.priv = b;
	b->vd.config = b->config;
	b->vd.config_len = CONFIG_LEN;
	return &b->vd;
}
