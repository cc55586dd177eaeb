/* SPDX-License-Identifier: GPL-2.0 */
/* Copying between an iovec array and a flat buffer (virtqueue requests, disk I/O). */
#ifndef KVL_DEVICES_IOV_H
#define KVL_DEVICES_IOV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

/*
 * Between @iov (@n entries), starting @skip bytes in, and @buf: at most @len
 * bytes, into the iovec if @to_iov; returns bytes copied.
 */
static inline size_t iov_copy(const struct iovec *iov, unsigned int n, size_t skip,
			      void *buf, size_t len, bool to_iov)
{
	size_t done = 0;
	unsigned int i;

	for (i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len, c;
		uint8_t *p;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		c = l - skip < len - done ? l - skip : len - done;
		p = (uint8_t *)iov[i].iov_base + skip;
		if (to_iov)
			memcpy(p, (uint8_t *)buf + done, c);
		else
			memcpy((uint8_t *)buf + done, p, c);
		done += c;
		skip = 0;
	}
	return done;
}

/* From @iov (@n entries), starting @skip bytes in, at most @len bytes; returns bytes copied. */
static inline size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t skip,
				void *buf, size_t len)
{
	return iov_copy(iov, n, skip, buf, len, false);
}

/* Into @iov (@n entries), starting @skip bytes in, at most @len bytes; returns bytes copied. */
static inline size_t buf_to_iov(const struct iovec *iov, unsigned int n, size_t skip,
				const void *buf, size_t len)
{
	return iov_copy(iov, n, skip, (void *)buf, len, true);
}

#endif
