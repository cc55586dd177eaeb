// SPDX-License-Identifier: GPL-2.0
/*
 * blkio: block I/O phases inside a guest, for make bench (bench-blk).
 *
 *   blkio DEVICE SEQ_MIB RAND_OPS
 *
 * On DEVICE opened with O_DIRECT (no guest page cache): SEQ_MIB MiB read
 * sequentially in 1 MiB requests from offset 0, the same written back,
 * then RAND_OPS 4 KiB reads and RAND_OPS 4 KiB writes at pseudo-random
 * 4 KiB-aligned offsets (a fixed LCG: the same offsets every run) over the
 * whole device.  Before the first phase and after each one it prints
 * "BLK-MARK-<n>" (n = 0..4), so that the host can stamp the phases with
 * its own clock as the lines arrive; after each phase also
 * "BLK-GUEST <phase> <bytes> <ns>" with the guest's CLOCK_MONOTONIC.
 * The status is 1 if any request failed or came back short.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/fs.h>

#define SEQ_BS		(1u << 20)
#define RAND_BS		4096u

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void mark(int n)
{
	printf("BLK-MARK-%d\n", n);
	fflush(stdout);
}

static int io(int fd, int write, void *buf, size_t len, uint64_t off)
{
	ssize_t r = write ? pwrite(fd, buf, len, (off_t)off) : pread(fd, buf, len, (off_t)off);

	if (r != (ssize_t)len) {
		fprintf(stderr, "blkio: %s at %llu: %s\n", write ? "write" : "read",
			(unsigned long long)off, r < 0 ? strerror(errno) : "short");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "seq-read", "seq-write", "rand-read", "rand-write" };
	uint64_t size = 0, seq, nblocks, x = 12345, t;
	unsigned long rand_ops;
	void *buf;
	int fd, phase;

	if (argc != 4) {
		fprintf(stderr, "usage: blkio DEVICE SEQ_MIB RAND_OPS\n");
		return 2;
	}
	seq = strtoull(argv[2], NULL, 0) << 20;
	rand_ops = strtoul(argv[3], NULL, 0);
	fd = open(argv[1], O_RDWR | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) < 0) {
		fprintf(stderr, "blkio: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	nblocks = size / RAND_BS;
	if (seq > size || seq % SEQ_BS || !nblocks) {
		fprintf(stderr, "blkio: %llu MiB do not fit in %llu bytes\n",
			(unsigned long long)(seq >> 20), (unsigned long long)size);
		return 2;
	}
	if (posix_memalign(&buf, 4096, SEQ_BS))
		return 1;
	memset(buf, 0x5a, SEQ_BS);

	mark(0);
	for (phase = 0; phase < 4; phase++) {
		uint64_t off, bytes = 0;
		unsigned long i;

		t = now_ns();
		if (phase < 2) {
			for (off = 0; off < seq; off += SEQ_BS, bytes += SEQ_BS)
				if (io(fd, phase == 1, buf, SEQ_BS, off))
					return 1;
		} else {
			for (i = 0; i < rand_ops; i++, bytes += RAND_BS) {
				x = x * 6364136223846793005ull + 1442695040888963407ull;
				if (io(fd, phase == 3, buf, RAND_BS, ((x >> 33) % nblocks) * RAND_BS))
					return 1;
			}
		}
		if (phase == 1 || phase == 3) {
			if (fsync(fd)) {
				fprintf(stderr, "blkio: fsync: %s\n", strerror(errno));
				return 1;
			}
		}
		t = now_ns() - t;
		mark(phase + 1);
		printf("BLK-GUEST %s %llu %llu\n", names[phase], (unsigned long long)bytes,
		       (unsigned long long)t);
		fflush(stdout);
	}
	close(fd);
	return 0;
}
