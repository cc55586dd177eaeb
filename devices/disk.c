// SPDX-License-Identifier: GPL-2.0
/* Disk images: format dispatch, bounds checks, and the raw format. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk.h"

int disk_format_parse(const char *s)
{
	if (!s)
		return DISK_FMT_AUTO;
	if (!strcmp(s, "raw"))
		return DISK_FMT_RAW;
	if (!strcmp(s, "qcow2"))
		return DISK_FMT_QCOW2;
	return -1;
}

static size_t iov_bytes(const struct iovec *iov, int iovcnt)
{
	size_t n = 0;
	int i;

	for (i = 0; i < iovcnt; i++)
		n += iov[i].iov_len;
	return n;
}

static int disk_check(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off)
{
	size_t len = iov_bytes(iov, iovcnt);

	if (iovcnt < 0 || off % DISK_SECTOR || len % DISK_SECTOR)
		return -EINVAL;
	if (off > d->size || len > d->size - off)
		return -EINVAL;
	return 0;
}

int disk_preadv(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off)
{
	int r = disk_check(d, iov, iovcnt, off);

	return r ? r : d->ops->preadv(d, iov, iovcnt, off);
}

int disk_pwritev(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off)
{
	int r = disk_check(d, iov, iovcnt, off);

	if (r)
		return r;
	if (d->readonly)
		return -EROFS;
	return d->ops->pwritev(d, iov, iovcnt, off);
}

int disk_flush(struct disk *d)
{
	return d->ops->flush(d);
}

void disk_close(struct disk *d)
{
	if (!d)
		return;
	if (d->ops && d->ops->close)
		d->ops->close(d);
	if (d->fd >= 0)
		close(d->fd);
	free(d);
}

/* Transfer all of iov at off, retrying short transfers. */
static int raw_xfer(int fd, const struct iovec *iov, int iovcnt, uint64_t off, bool write)
{
	struct iovec v[64];
	int n = 0;

	while (iovcnt > 0) {
		ssize_t r;

		n = iovcnt < 64 ? iovcnt : 64;
		memcpy(v, iov, n * sizeof(*v));
		while (n > 0) {
			r = write ? pwritev(fd, v, n, off) : preadv(fd, v, n, off);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			if (r == 0)
				return -EIO;
			off += r;
			while (n > 0 && (size_t)r >= v[0].iov_len) {
				r -= v[0].iov_len;
				memmove(v, v + 1, --n * sizeof(*v));
			}
			if (n > 0) {
				v[0].iov_base = (char *)v[0].iov_base + r;
				v[0].iov_len -= r;
			}
		}
		iov += iovcnt < 64 ? iovcnt : 64;
		iovcnt -= iovcnt < 64 ? iovcnt : 64;
	}
	return 0;
}

static int raw_preadv(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return raw_xfer(d->fd, iov, iovcnt, off, false);
}

static int raw_pwritev(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return raw_xfer(d->fd, iov, iovcnt, off, true);
}

static int raw_flush(struct disk *d)
{
	return fdatasync(d->fd) ? -errno : 0;
}

static const struct disk_ops raw_ops = {
	.preadv = raw_preadv,
	.pwritev = raw_pwritev,
	.flush = raw_flush,
};

int disk_raw_init(struct disk *d, char *err, size_t errlen)
{
	struct stat st;
	off_t end;

	if (fstat(d->fd, &st)) {
		snprintf(err, errlen, "cannot stat: %s", strerror(errno));
		return -1;
	}
	end = S_ISBLK(st.st_mode) ? lseek(d->fd, 0, SEEK_END) : st.st_size;
	if (end < 0) {
		snprintf(err, errlen, "cannot find its size: %s", strerror(errno));
		return -1;
	}
	d->size = (uint64_t)end & ~(uint64_t)(DISK_SECTOR - 1);
	d->ops = &raw_ops;
	d->format = DISK_FMT_RAW;
	return 0;
}

/* Until qcow2.c exists the format is refused, never guessed. */
__attribute__((weak)) bool disk_qcow2_probe(int fd)
{
	(void)fd;
	return false;
}

__attribute__((weak)) int disk_qcow2_init(struct disk *d, char *err, size_t errlen)
{
	(void)d;
	snprintf(err, errlen, "qcow2 images are not supported by this build");
	return -1;
}

struct disk *disk_open(const char *path, enum disk_format fmt, bool readonly,
		       char *err, size_t errlen)
{
	struct disk *d = calloc(1, sizeof(*d));
	char why[200] = "";
	int r;

	if (!d) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	d->readonly = readonly;
	d->fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (d->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(d);
		return NULL;
	}
	if (fmt == DISK_FMT_AUTO)
		fmt = disk_qcow2_probe(d->fd) ? DISK_FMT_QCOW2 : DISK_FMT_RAW;
	r = fmt == DISK_FMT_QCOW2 ? disk_qcow2_init(d, why, sizeof(why))
				  : disk_raw_init(d, why, sizeof(why));
	if (r) {
		snprintf(err, errlen, "%s: %s", path, why);
		d->ops = NULL;
		disk_close(d);
		return NULL;
	}
	return d;
}
