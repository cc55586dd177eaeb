// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the qcow2 metadata parser and its I/O paths.  The input
 * is the image file (held in a memfd); it is opened read-write through
 * devices/disk.h, then read and written at offsets taken from the image's
 * first bytes, flushed and closed.  In this build (QCOW2_FUZZ_BACKING)
 * any backing file name means the image itself: an input never reaches
 * files of the host, yet a raw backing file is read and a qcow2 one is a
 * loop to refuse.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../devices/disk.h"

static uint64_t pick(const uint8_t *data, size_t size, size_t at, uint64_t span)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 8 && at + i < size; i++)
		v = v << 8 | data[at + i];
	return span ? v % span : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[3 * 65536];
	char path[64], err[512];
	struct iovec v[2];
	struct disk *d;
	int fd, i;

	fd = memfd_create("qcow2-fuzz", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	d = disk_open(path, DISK_FMT_QCOW2, false, err, sizeof(err));
	if (d) {
		uint64_t sectors = d->size / DISK_SECTOR;

		for (i = 0; i < 4 && sectors; i++) {
			uint64_t s = pick(data, size, 112 + 8 * i, sectors);
			uint64_t n = 1 + pick(data, size, 144 + 8 * i, sizeof(buf) / DISK_SECTOR);

			if (n > sectors - s)
				n = sectors - s;
			/* Two iovecs, as a virtio request brings them. */
			v[0].iov_base = buf;
			v[0].iov_len = DISK_SECTOR;
			v[1].iov_base = buf + DISK_SECTOR;
			v[1].iov_len = (n - 1) * DISK_SECTOR;
			if (i & 1) {
				memset(buf, 0xa5 ^ i, n * DISK_SECTOR);
				disk_pwritev(d, v, 2, s * DISK_SECTOR);
			} else {
				disk_preadv(d, v, 2, s * DISK_SECTOR);
			}
			if (i == 2)
				disk_flush(d);
		}
		disk_close(d);
		/* What we wrote must open again (or be refused cleanly). */
		d = disk_open(path, DISK_FMT_QCOW2, true, err, sizeof(err));
		if (d && d->size) {
			v[0].iov_base = buf;
			v[0].iov_len = DISK_SECTOR;
			disk_preadv(d, v, 1, 0);
		}
		disk_close(d);
	}
	close(fd);
	return 0;
}
