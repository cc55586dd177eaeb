/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A virtio 1.x device independent of its transport.  A device model fills
 * in struct virtio_dev_ops (its queues, features, config space and a
 * handler per queue); the transport (virtio_pci.c) maps the common
 * configuration, notifications and interrupts onto the bus and calls
 * virtio_common_read/write, virtio_notify.  A guest that breaks the rules
 * of a ring gets the device marked DEVICE_NEEDS_RESET with a config
 * interrupt and a message on stderr; the rest of the VM runs on.
 */
#ifndef KVL_DEVICES_VIRTIO_H
#define KVL_DEVICES_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtq.h"

#define VIRTIO_ID_NET		1
#define VIRTIO_ID_BLOCK		2
#define VIRTIO_ID_CONSOLE	3
#define VIRTIO_ID_RNG		4

#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

#define VIRTIO_F_INDIRECT_DESC	28
#define VIRTIO_F_EVENT_IDX	29
#define VIRTIO_F_VERSION_1	32

#define VIRTIO_NO_VECTOR	0xffff
#define VIRTIO_MAX_QUEUES	8
#define VIRTIO_COMMON_LEN	0x38

/* ISR bits (also what the transport's raise() is told). */
#define VIRTIO_ISR_QUEUE	1
#define VIRTIO_ISR_CONFIG	2

struct virtio_dev;

struct virtio_dev_ops {
	const char *name;
	uint16_t device_id;
	unsigned int nr_queues;
	uint16_t queue_max;
	uint64_t features;		/* device-specific bits */
	/* Serve queue @q (the device's lock is held). */
	void (*queue_notify)(struct virtio_dev *vd, unsigned int q);
	/* Device config writes at @off (NULL: read-only config). */
	void (*config_write)(struct virtio_dev *vd, uint32_t off, const uint8_t *data,
			     uint32_t len);
	void (*reset)(struct virtio_dev *vd);	/* may be NULL */
};

/* What the transport does for the core. */
struct virtio_transport {
	/* Interrupt for @vector (VIRTIO_NO_VECTOR possible) with ISR bit @isr. */
	void (*raise)(struct virtio_dev *vd, uint16_t vector, uint8_t isr);
	void *opaque;
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	void *priv;			/* the device model's state */
	struct virtio_transport t;
	struct vmem mem;
	char label[48];			/* for messages: "virtio-blk 00:02.0" */
	pthread_mutex_t lock;

	uint8_t *config;		/* device config space, owned by the model */
	uint32_t config_len;
	uint16_t nr_vectors;		/* MSI-X vectors the transport has */

	uint64_t host_features, guest_features;
	uint32_t dfselect, gfselect;
	uint8_t status, config_gen;
	uint16_t queue_sel, msix_config;
	uint16_t queue_vector[VIRTIO_MAX_QUEUES];
	struct virtq vq[VIRTIO_MAX_QUEUES];
	bool broken;
	unsigned long errors;		/* times the guest broke a ring */
};

/* Set up @vd for @ops; the model then sets config/config_len/priv. */
void virtio_dev_init(struct virtio_dev *vd, const struct virtio_dev_ops *ops,
		     const struct vmem *mem, const char *label);
void virtio_reset(struct virtio_dev *vd);

/* Common configuration structure (4.1.4.3) accesses; @off < VIRTIO_COMMON_LEN. Lock held. */
void virtio_common_read(struct virtio_dev *vd, uint32_t off, uint8_t *data, uint32_t len);
void virtio_common_write(struct virtio_dev *vd, uint32_t off, const uint8_t *data, uint32_t len);
/* Device config space accesses, bounds-checked. Lock held. */
void virtio_config_read(struct virtio_dev *vd, uint32_t off, uint8_t *data, uint32_t len);
void virtio_config_write(struct virtio_dev *vd, uint32_t off, const uint8_t *data, uint32_t len);

/* The driver kicked queue @q (takes the lock). */
void virtio_notify(struct virtio_dev *vd, unsigned int q);
/* A queue is usable: ready, driver OK, device not broken. Lock held. */
bool virtio_queue_live(struct virtio_dev *vd, unsigned int q);

/* For models (lock held): next request, -1 after marking the device broken. */
int virtio_pop(struct virtio_dev *vd, unsigned int q, struct virtq_req *r);
/* Complete a request and interrupt the driver if it wants one. */
void virtio_complete(struct virtio_dev *vd, unsigned int q, uint16_t head, uint32_t len);
/* Mark the device DEVICE_NEEDS_RESET with a config interrupt; printf-style reason. */
void virtio_fail(struct virtio_dev *vd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Device config changed (a model's own event): bump the generation, interrupt. */
void virtio_config_changed(struct virtio_dev *vd);

#endif
