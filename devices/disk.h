/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Disk images behind the block device models: one interface for every
 * format.  A disk is opened once, then read and written at byte offsets
 * that are multiples of 512; calls are synchronous and may come from any
 * one thread at a time (the caller serialises).  Errors are negative errno
 * values; open failures also leave a sentence in err for the user.
 */
#ifndef KVL_DEVICES_DISK_H
#define KVL_DEVICES_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define DISK_SECTOR	512

enum disk_format { DISK_FMT_AUTO, DISK_FMT_RAW, DISK_FMT_QCOW2 };

struct disk;

struct disk_ops {
	int (*preadv)(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off);
	int (*pwritev)(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off);
	int (*flush)(struct disk *d);
	void (*close)(struct disk *d);
};

struct disk {
	const struct disk_ops *ops;
	uint64_t size;		/* guest-visible bytes, a multiple of 512 */
	bool readonly;
	enum disk_format format;
	int fd;			/* the image file */
	void *priv;		/* the format's own state */
};

/* Parse "raw" or "qcow2" (DISK_FMT_AUTO for NULL); -1 if neither. */
int disk_format_parse(const char *s);
struct disk *disk_open(const char *path, enum disk_format fmt, bool readonly,
		       char *err, size_t errlen);
/* Whole request or an error: short transfers are -EIO; past the end -EINVAL. */
int disk_preadv(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off);
int disk_pwritev(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off);
int disk_flush(struct disk *d);
void disk_close(struct disk *d);

/* For format back ends: open the raw format on an fd already opened. */
int disk_raw_init(struct disk *d, char *err, size_t errlen);
/* qcow2.c: probe the header magic; init the format on d->fd. */
bool disk_qcow2_probe(int fd);
int disk_qcow2_init(struct disk *d, char *err, size_t errlen);

#endif
