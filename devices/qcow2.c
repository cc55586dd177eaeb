// SPDX-License-Identifier: GPL-2.0
/*
 * qcow2 disk images, versions 2 and 3 (QEMU's docs/interop/qcow2.txt).
 *
 * Guest clusters map through an in-memory L1 table to L2 tables; host
 * clusters are counted in refcount blocks found through the refcount table.
 * L2 tables and refcount blocks live in a small write-back cache.  What
 * reaches the file, and in which order, keeps the image consistent at any
 * crash point (at worst clusters leak):
 *   1. a cluster's refcount is on disk before any table that points to it
 *      (refcount blocks are written and synced before a dirty L2 table or
 *      the L1 table is written);
 *   2. a refcount only drops after the table that stopped pointing to the
 *      cluster is on disk (frees are queued and applied at the end of a
 *      flush), so a cluster freed since the last flush is never reused
 *      before that flush either;
 *   3. a moved refcount table is written and synced before the header
 *      points to it.
 * Not supported (refused at open with a message): encryption, external
 * data files, extended L2 entries, zstd compression, dirty or corrupt
 * images opened for writing.  Internal snapshots are left as they are:
 * tables and clusters they share (refcount > 1, no COPIED flag) are
 * copied on write, and the copy's refcounts stay right because a shared
 * L2 table's clusters are already counted once per table that reaches them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "disk.h"
#include "iov.h"

#define QCOW2_MAGIC		0x514649fbu
#define QCOW2_MIN_CB		9
#define QCOW2_MAX_CB		21
#define QCOW2_MAX_L1_BYTES	(32u << 20)	/* as QEMU: 32 MiB of L1 table */
#define QCOW2_MAX_RT_BYTES	(8u << 20)	/* and 8 MiB of refcount table */
#define QCOW2_MAX_CHAIN		16		/* qcow2 images in a backing chain */
#define QCOW2_MAX_SNAPSHOTS	65536
#define QCOW2_MAX_PENDING	4096		/* queued frees before a flush */

#define OFF_MASK		0x00fffffffffffe00ull	/* bits 9-55 */
#define OFLAG_COPIED		(1ull << 63)
#define OFLAG_COMPRESSED	(1ull << 62)
#define OFLAG_ZERO		1ull
#define L1_RESERVED		(0x7f00000000000000ull | 0x1ffull)
#define L2_RESERVED		(0x3f00000000000000ull | 0x1feull)
#define RT_RESERVED		0x1ffull

#define INCOMPAT_DIRTY		(1ull << 0)
#define INCOMPAT_CORRUPT	(1ull << 1)
#define INCOMPAT_DATA_FILE	(1ull << 2)
#define INCOMPAT_COMPRESSION	(1ull << 3)
#define INCOMPAT_EXTL2		(1ull << 4)

#define EXT_END			0
#define EXT_BACKING_FMT		0xe2792acau
#define EXT_FEATURE_NAMES	0x6803f857u

enum slot_kind { SLOT_FREE, SLOT_L2, SLOT_RB };

struct slot {
	uint64_t off;
	uint8_t *buf;
	uint64_t used;		/* LRU stamp */
	enum slot_kind kind;
	bool dirty;
	int pinned;
};

struct qcow2 {
	struct disk *d;
	int fd;
	unsigned int version, cb, l2_bits, rorder;
	uint64_t cs;			/* cluster size */
	uint64_t file_end;		/* bytes of file, ours included */
	uint64_t disk_size;		/* header size field */

	uint64_t l1_off;
	uint32_t l1_size;
	uint64_t *l1;			/* big endian, as on disk */
	bool l1_dirty;

	uint64_t rt_off, rt_disk_off;	/* in memory / what the header says */
	uint32_t rt_clusters, rt_disk_clusters;
	uint64_t rt_entries;
	uint64_t *rt;			/* big endian */
	bool rt_dirty;
	uint64_t rb_entries;		/* refcounts per block */

	struct slot *slots;
	unsigned int nslots;
	uint64_t stamp;

	uint64_t free_hint;		/* no free cluster below this one */
	uint64_t *pending;		/* clusters whose refcount drops at flush */
	size_t npending;
	int alloc_depth;

	uint8_t *bounce, *cow, *zin, *zout;
	uint64_t zout_entry;		/* L2 entry zout holds, 0 if none */
	size_t zin_len;

	struct disk *backing;
	bool writable;
};

/* Backing chain being opened (this thread): loops and depth. */
static __thread struct { dev_t dev; ino_t ino; } chain[QCOW2_MAX_CHAIN];
static __thread int chain_len;
/* The innermost failure in a chain, reported once rather than nested. */
static __thread char chain_err[256];

static uint64_t be64(const void *p)
{
	const uint8_t *b = p;
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

static uint32_t be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void put_be64(void *p, uint64_t v)
{
	uint8_t *b = p;
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

static void put_be32(void *p, uint32_t v)
{
	uint8_t *b = p;

	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

/* Read len bytes at off; what lies past the end of the file reads as zero. */
static int xpread(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t r = pread(fd, p, len, off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0) {
			memset(p, 0, len);
			return 0;
		}
		p += r;
		off += r;
		len -= r;
	}
	return 0;
}

static int xpwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t r = pwrite(fd, p, len, off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		p += r;
		off += r;
		len -= r;
	}
	return 0;
}

static int qsync(struct qcow2 *q)
{
	return fdatasync(q->fd) ? -errno : 0;
}

/* ---- metadata cache ---------------------------------------------------- */

static int refcount_writeback(struct qcow2 *q);

static int slot_write(struct qcow2 *q, struct slot *s)
{
	int r;

	if (!s->dirty)
		return 0;
	/* Rule 1: what an L2 table points to is counted on disk first. */
	if (s->kind == SLOT_L2) {
		r = refcount_writeback(q);
		if (r)
			return r;
	}
	r = xpwrite(q->fd, s->buf, q->cs, s->off);
	if (r)
		return r;
	s->dirty = false;
	return 0;
}

/*
 * The cached table of @kind at host offset @off (cluster aligned, checked
 * against the file by the caller); @fresh starts it zeroed instead of
 * reading it.  Returns the slot index or a negative errno.
 */
static int cache_get(struct qcow2 *q, enum slot_kind kind, uint64_t off, bool fresh)
{
	struct slot *s, *victim = NULL;
	unsigned int i;
	int r;

	for (i = 0; i < q->nslots; i++) {
		s = &q->slots[i];
		if (s->kind != SLOT_FREE && s->off == off) {
			/* One cluster as two kinds of table: a broken image. */
			if (s->kind != kind)
				return -EIO;
			s->used = ++q->stamp;
			if (fresh) {
				memset(s->buf, 0, q->cs);
				s->dirty = true;
			}
			return i;
		}
	}
	for (i = 0; i < q->nslots; i++) {
		s = &q->slots[i];
		if (s->pinned)
			continue;
		if (s->kind == SLOT_FREE) {
			victim = s;
			break;
		}
		if (!victim || s->used < victim->used)
			victim = s;
	}
	if (!victim)
		return -EIO;
	if (!victim->buf) {
		victim->buf = malloc(q->cs);
		if (!victim->buf)
			return -ENOMEM;
	}
	if (victim->kind != SLOT_FREE) {
		r = slot_write(q, victim);
		if (r)
			return r;
	}
	victim->kind = SLOT_FREE;
	if (fresh) {
		memset(victim->buf, 0, q->cs);
	} else {
		r = xpread(q->fd, victim->buf, q->cs, off);
		if (r)
			return r;
	}
	victim->kind = kind;
	victim->off = off;
	victim->dirty = fresh;
	victim->used = ++q->stamp;
	return victim - q->slots;
}

/* A table offset from the image: cluster aligned, inside the file. */
static bool table_ok(struct qcow2 *q, uint64_t off)
{
	return off && !(off & (q->cs - 1)) && off < q->file_end;
}

/* ---- refcounts --------------------------------------------------------- */

static uint64_t rb_get(struct qcow2 *q, const uint8_t *b, uint64_t i)
{
	switch (q->rorder) {
	case 0: case 1: case 2: {
		unsigned int bits = 1u << q->rorder;
		uint64_t bit = i * bits;

		return (b[bit / 8] >> (bit % 8)) & ((1u << bits) - 1);
	}
	case 3:
		return b[i];
	case 4:
		return (uint64_t)b[2 * i] << 8 | b[2 * i + 1];
	case 5:
		return be32(b + 4 * i);
	default:
		return be64(b + 8 * i);
	}
}

static void rb_set(struct qcow2 *q, uint8_t *b, uint64_t i, uint64_t v)
{
	switch (q->rorder) {
	case 0: case 1: case 2: {
		unsigned int bits = 1u << q->rorder;
		uint64_t bit = i * bits;
		uint8_t mask = ((1u << bits) - 1) << (bit % 8);

		b[bit / 8] = (b[bit / 8] & ~mask) | ((v << (bit % 8)) & mask);
		break;
	}
	case 3:
		b[i] = v;
		break;
	case 4:
		b[2 * i] = v >> 8;
		b[2 * i + 1] = v;
		break;
	case 5:
		put_be32(b + 4 * i, v);
		break;
	default:
		put_be64(b + 8 * i, v);
	}
}

/* Slot of the refcount block covering cluster @c, or 0 if it has none (*slot < 0). */
static int rb_slot(struct qcow2 *q, uint64_t c, int *slot)
{
	uint64_t rti = c / q->rb_entries, off;

	*slot = -1;
	if (rti >= q->rt_entries)
		return 0;
	off = be64(&q->rt[rti]) & ~RT_RESERVED;
	if (!off)
		return 0;
	if (!table_ok(q, off))
		return -EIO;
	*slot = cache_get(q, SLOT_RB, off, false);
	return *slot < 0 ? *slot : 0;
}

static int get_refcount(struct qcow2 *q, uint64_t c, uint64_t *rc)
{
	int slot, r = rb_slot(q, c, &slot);

	if (r)
		return r;
	*rc = slot < 0 ? 0 : rb_get(q, q->slots[slot].buf, c % q->rb_entries);
	return 0;
}

static int set_refcount(struct qcow2 *q, uint64_t c, uint64_t rc)
{
	int slot, r = rb_slot(q, c, &slot);

	if (r)
		return r;
	if (slot < 0)
		return -EIO;
	rb_set(q, q->slots[slot].buf, c % q->rb_entries, rc);
	q->slots[slot].dirty = true;
	return 0;
}

static int alloc_clusters(struct qcow2 *q, uint64_t n, uint64_t *off);

/* A bigger refcount table (in memory, placed in new clusters) covering index @rti. */
static int grow_rt(struct qcow2 *q, uint64_t rti)
{
	uint64_t per = q->cs / 8, entries, old_off = q->rt_off, off, i;
	uint32_t old_clusters = q->rt_clusters;
	uint64_t *rt;
	int r;

	entries = q->rt_entries * 2;
	if (entries < rti + 1)
		entries = rti + 1;
	entries = (entries + per - 1) / per * per;
	if (entries * 8 > QCOW2_MAX_RT_BYTES)
		return -ENOSPC;
	rt = realloc(q->rt, entries * 8);
	if (!rt)
		return -ENOMEM;
	memset(rt + q->rt_entries, 0, (entries - q->rt_entries) * 8);
	q->rt = rt;
	q->rt_entries = entries;
	r = alloc_clusters(q, entries / per, &off);
	if (r)
		return r;
	q->rt_off = off;
	q->rt_clusters = entries / per;
	q->rt_dirty = true;
	/* A table never written to the header is dropped at once. */
	if (old_off != q->rt_disk_off) {
		for (i = 0; i < old_clusters; i++) {
			r = set_refcount(q, old_off / q->cs + i, 0);
			if (r)
				return r;
		}
	}
	return 0;
}

/*
 * Give cluster @c's group a refcount block if it has none: the block goes
 * into @c itself (free, as every cluster of a group without a block).
 * Returns 1 if it took @c, 0 if the block existed, or -errno.
 */
static int ensure_rb(struct qcow2 *q, uint64_t c)
{
	uint64_t rti = c / q->rb_entries;
	int slot, r;

	if (rti >= q->rt_entries) {
		r = grow_rt(q, rti);
		if (r)
			return r;
		if (be64(&q->rt[rti]))
			return 0;
	} else if (be64(&q->rt[rti])) {
		return 0;
	}
	slot = cache_get(q, SLOT_RB, c * q->cs, true);
	if (slot < 0)
		return slot;
	put_be64(&q->rt[rti], c * q->cs);
	q->rt_dirty = true;
	rb_set(q, q->slots[slot].buf, c % q->rb_entries, 1);
	if (q->file_end < (c + 1) * q->cs)
		q->file_end = (c + 1) * q->cs;
	return 1;
}

/* @n contiguous free clusters, their refcounts set to 1; *off their offset. */
static int alloc_clusters(struct qcow2 *q, uint64_t n, uint64_t *off)
{
	uint64_t c = q->free_hint, i, rc, limit = (1ull << 56) / q->cs;
	int r = 0;

	if (++q->alloc_depth > 3) {
		r = -ENOSPC;
		goto out;
	}
again:
	for (i = 0; i < n; i++) {
		if (c + n > limit) {
			r = -ENOSPC;
			goto out;
		}
		r = get_refcount(q, c + i, &rc);
		if (r)
			goto out;
		if (rc) {
			/* Only a used cluster right at the hint moves it. */
			if (i == 0 && c == q->free_hint)
				q->free_hint = c + 1;
			c += i + 1;
			goto again;
		}
	}
	for (i = 0; i < n; i++) {
		r = ensure_rb(q, c + i);
		if (r < 0)
			goto out;
		if (r) {
			c += i + 1;
			goto again;
		}
	}
	/* Growing the table may have taken clusters: check again. */
	for (i = 0; i < n; i++) {
		r = get_refcount(q, c + i, &rc);
		if (r)
			goto out;
		if (rc) {
			c += i + 1;
			goto again;
		}
	}
	for (i = 0; i < n; i++) {
		r = set_refcount(q, c + i, 1);
		if (r)
			goto out;
	}
	if (n == 1 && c == q->free_hint)
		q->free_hint = c + 1;
	if (q->file_end < (c + n) * q->cs)
		q->file_end = (c + n) * q->cs;
	*off = c * q->cs;
out:
	q->alloc_depth--;
	return r;
}

static int queue_free(struct qcow2 *q, uint64_t off, uint64_t len)
{
	uint64_t c, last = (off + len - 1) / q->cs;

	for (c = off / q->cs; c <= last; c++) {
		if (q->npending == QCOW2_MAX_PENDING)
			return -EIO;
		q->pending[q->npending++] = c;
	}
	return 0;
}

static int write_header_rt(struct qcow2 *q)
{
	uint8_t h[12];

	put_be64(h, q->rt_off);
	put_be32(h + 8, q->rt_clusters);
	return xpwrite(q->fd, h, sizeof(h), 48);
}

/* Rules 1 and 3: refcount blocks, then the table, then the header; synced. */
static int refcount_writeback(struct qcow2 *q)
{
	bool any = false;
	unsigned int i;
	int r;

	for (i = 0; i < q->nslots; i++) {
		struct slot *s = &q->slots[i];

		if (s->kind == SLOT_RB && s->dirty) {
			r = xpwrite(q->fd, s->buf, q->cs, s->off);
			if (r)
				return r;
			s->dirty = false;
			any = true;
		}
	}
	if (q->rt_dirty) {
		if (any) {
			r = qsync(q);
			if (r)
				return r;
		}
		r = xpwrite(q->fd, q->rt, (uint64_t)q->rt_clusters * q->cs, q->rt_off);
		if (r)
			return r;
		if (q->rt_off != q->rt_disk_off) {
			r = qsync(q);
			if (!r)
				r = write_header_rt(q);
			if (r)
				return r;
			r = queue_free(q, q->rt_disk_off, (uint64_t)q->rt_disk_clusters * q->cs);
			if (r)
				return r;
			q->rt_disk_off = q->rt_off;
			q->rt_disk_clusters = q->rt_clusters;
		}
		q->rt_dirty = false;
		any = true;
	}
	return any ? qsync(q) : 0;
}

static int qcow2_flush_meta(struct qcow2 *q)
{
	unsigned int i;
	size_t k;
	int r;

	if (!q->writable)
		return 0;
	r = refcount_writeback(q);
	if (r)
		return r;
	for (i = 0; i < q->nslots; i++) {
		if (q->slots[i].kind == SLOT_L2) {
			r = slot_write(q, &q->slots[i]);
			if (r)
				return r;
		}
	}
	if (q->l1_dirty) {
		r = xpwrite(q->fd, q->l1, (size_t)q->l1_size * 8, q->l1_off);
		if (r)
			return r;
		q->l1_dirty = false;
	}
	r = qsync(q);
	if (r || !q->npending)
		return r;
	/* Rule 2: tables on disk no longer point there; now drop the counts. */
	for (k = 0; k < q->npending; k++) {
		uint64_t c = q->pending[k], rc;

		r = get_refcount(q, c, &rc);
		if (r)
			return r;
		if (!rc)
			continue;
		r = set_refcount(q, c, rc - 1);
		if (r)
			return r;
		if (rc == 1 && c < q->free_hint && c > 0)
			q->free_hint = c;
	}
	q->npending = 0;
	q->zout_entry = 0;	/* freed compressed data may be reused now */
	return refcount_writeback(q);
}

/* ---- guest clusters ---------------------------------------------------- */

enum ctype { C_UNALLOC, C_ZERO, C_NORMAL, C_COMPRESSED };

static int classify(struct qcow2 *q, uint64_t e, uint64_t *host, uint64_t *clen)
{
	if (e & OFLAG_COMPRESSED) {
		unsigned int shift = 62 - (q->cb - 8);
		uint64_t nsec = ((e & ~OFLAG_COPIED & ~OFLAG_COMPRESSED) >> shift) + 1;

		*host = e & ((1ull << shift) - 1);
		*clen = nsec * 512 - (*host & 511);
		/* COPIED on a compressed cluster is invalid. */
		if ((e & OFLAG_COPIED) || !*host)
			return -EIO;
		return C_COMPRESSED;
	}
	if (e & L2_RESERVED)
		return -EIO;
	*host = e & OFF_MASK;
	if (e & OFLAG_ZERO) {
		if (q->version < 3)
			return -EIO;
		return C_ZERO;
	}
	return *host ? C_NORMAL : C_UNALLOC;
}

/* Slot of the L2 table for guest offset @g, -ENOENT if none, or -errno. */
static int l2_lookup(struct qcow2 *q, uint64_t g)
{
	uint64_t l1i = g >> (q->cb + q->l2_bits), off;

	if (l1i >= q->l1_size)
		return -EIO;
	off = be64(&q->l1[l1i]) & OFF_MASK;
	if (!off)
		return -ENOENT;
	if (!table_ok(q, off))
		return -EIO;
	return cache_get(q, SLOT_L2, off, false);
}

static uint64_t l2_index(struct qcow2 *q, uint64_t g)
{
	return (g >> q->cb) & ((1ull << q->l2_bits) - 1);
}

static int read_backing(struct qcow2 *q, uint64_t g, uint8_t *buf, size_t len)
{
	size_t n = 0;
	struct iovec v;

	if (q->backing && g < q->backing->size) {
		n = len;
		if (n > q->backing->size - g)
			n = q->backing->size - g;
		v.iov_base = buf;
		v.iov_len = n;
		if (n) {
			int r = disk_preadv(q->backing, &v, 1, g);

			if (r)
				return r;
		}
	}
	memset(buf + n, 0, len - n);
	return 0;
}

static int inflate_cluster(struct qcow2 *q, uint64_t e, uint64_t host, uint64_t clen)
{
	z_stream z;
	int r;

	if (q->zout_entry == e)
		return 0;
	if (clen > q->zin_len || host >= q->file_end)
		return -EIO;
	r = xpread(q->fd, q->zin, clen, host);
	if (r)
		return r;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, -12) != Z_OK)
		return -ENOMEM;
	z.next_in = q->zin;
	z.avail_in = clen;
	z.next_out = q->zout;
	z.avail_out = q->cs;
	r = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if ((r != Z_STREAM_END && r != Z_BUF_ERROR && r != Z_OK) || z.avail_out) {
		q->zout_entry = 0;
		return -EIO;
	}
	q->zout_entry = e;
	return 0;
}

/* Guest bytes [g, g + len) within one cluster into buf. */
static int read_guest(struct qcow2 *q, uint64_t g, uint8_t *buf, size_t len)
{
	uint64_t in = g & (q->cs - 1), host, clen, e;
	int slot = l2_lookup(q, g), t;

	if (slot == -ENOENT)
		return read_backing(q, g, buf, len);
	if (slot < 0)
		return slot;
	e = be64(q->slots[slot].buf + 8 * l2_index(q, g));
	t = classify(q, e, &host, &clen);
	switch (t) {
	case C_UNALLOC:
		return read_backing(q, g, buf, len);
	case C_ZERO:
		memset(buf, 0, len);
		return 0;
	case C_NORMAL:
		if (host >= q->file_end)
			return -EIO;
		return xpread(q->fd, buf, len, host + in);
	case C_COMPRESSED:
		t = inflate_cluster(q, e, host, clen);
		if (!t)
			memcpy(buf, q->zout + in, len);
		return t;
	default:
		return t;
	}
}

static int qcow2_preadv(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off)
{
	struct qcow2 *q = d->priv;
	size_t total = 0, done = 0;
	int i, r;

	for (i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	while (done < total) {
		uint64_t g = off + done;
		size_t n = q->cs - (g & (q->cs - 1));

		if (n > total - done)
			n = total - done;
		r = read_guest(q, g, q->bounce, n);
		if (r)
			return r;
		buf_to_iov(iov, iovcnt, done, q->bounce, n);
		done += n;
	}
	return 0;
}

/* Pinned slot of a writable (refcount 1) L2 table for guest offset @g. */
static int l2_for_write(struct qcow2 *q, uint64_t g)
{
	uint64_t l1i = g >> (q->cb + q->l2_bits), e1, old, new;
	int slot, oslot, r;

	if (l1i >= q->l1_size)
		return -EIO;
	e1 = be64(&q->l1[l1i]);
	old = e1 & OFF_MASK;
	if (old && (e1 & OFLAG_COPIED)) {
		if (!table_ok(q, old))
			return -EIO;
		slot = cache_get(q, SLOT_L2, old, false);
		if (slot >= 0)
			q->slots[slot].pinned++;
		return slot;
	}
	if (old && !table_ok(q, old))
		return -EIO;
	r = alloc_clusters(q, 1, &new);
	if (r)
		return r;
	slot = cache_get(q, SLOT_L2, new, true);
	if (slot < 0)
		return slot;
	q->slots[slot].pinned++;
	if (old) {
		/* Shared (or unflagged) table: copy it, free ours at flush. */
		oslot = cache_get(q, SLOT_L2, old, false);
		if (oslot < 0) {
			q->slots[slot].pinned--;
			return oslot;
		}
		memcpy(q->slots[slot].buf, q->slots[oslot].buf, q->cs);
		r = queue_free(q, old, q->cs);
		if (r) {
			q->slots[slot].pinned--;
			return r;
		}
	}
	put_be64(&q->l1[l1i], new | OFLAG_COPIED);
	q->l1_dirty = true;
	return slot;
}

/* Guest bytes [g, g + len) within one cluster from src. */
static int write_guest(struct qcow2 *q, uint64_t g, const uint8_t *src, size_t len)
{
	uint64_t in = g & (q->cs - 1), host, clen, e, new;
	const uint8_t *data = src;
	int slot, t, r;
	uint8_t *ent;

	slot = l2_for_write(q, g);
	if (slot < 0)
		return slot;
	ent = q->slots[slot].buf + 8 * l2_index(q, g);
	e = be64(ent);
	t = classify(q, e, &host, &clen);
	if (t < 0) {
		r = t;
		goto out;
	}
	if (t == C_NORMAL && (e & OFLAG_COPIED)) {
		r = host < q->file_end ? xpwrite(q->fd, src, len, host + in) : -EIO;
		goto out;
	}
	if (len != q->cs) {
		r = read_guest(q, g - in, q->cow, q->cs);
		if (r)
			goto out;
		memcpy(q->cow + in, src, len);
		data = q->cow;
	}
	if (t == C_ZERO && host && (e & OFLAG_COPIED)) {
		/* A preallocated zero cluster: ours to fill. */
		if (host >= q->file_end) {
			r = -EIO;
			goto out;
		}
		new = host;
	} else {
		r = alloc_clusters(q, 1, &new);
		if (r)
			goto out;
		if (t == C_NORMAL || (t == C_ZERO && host))
			r = queue_free(q, host, q->cs);
		else if (t == C_COMPRESSED)
			r = queue_free(q, host, clen);
		if (r)
			goto out;
	}
	r = xpwrite(q->fd, data, q->cs, new);
	if (r)
		goto out;
	/* The slot is pinned: ent still points into it. */
	put_be64(ent, new | OFLAG_COPIED);
	q->slots[slot].dirty = true;
	if (q->zout_entry == e)
		q->zout_entry = 0;
out:
	q->slots[slot].pinned--;
	if (!r && q->npending > QCOW2_MAX_PENDING / 2)
		r = qcow2_flush_meta(q);
	return r;
}

static int qcow2_pwritev(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off)
{
	struct qcow2 *q = d->priv;
	size_t total = 0, done = 0;
	int i, r;

	for (i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	while (done < total) {
		uint64_t g = off + done;
		size_t n = q->cs - (g & (q->cs - 1));

		if (n > total - done)
			n = total - done;
		iov_to_buf(iov, iovcnt, done, q->bounce, n);
		r = write_guest(q, g, q->bounce, n);
		if (r)
			return r;
		done += n;
	}
	return 0;
}

static int qcow2_flush(struct disk *d)
{
	struct qcow2 *q = d->priv;
	int r = qcow2_flush_meta(q);

	if (r)
		return r;
	return q->writable ? qsync(q) : 0;
}

static void qcow2_free(struct qcow2 *q)
{
	unsigned int i;

	if (!q)
		return;
	for (i = 0; q->slots && i < q->nslots; i++)
		free(q->slots[i].buf);
	free(q->slots);
	free(q->l1);
	free(q->rt);
	free(q->pending);
	free(q->bounce);
	free(q->cow);
	free(q->zin);
	free(q->zout);
	disk_close(q->backing);
	free(q);
}

static void qcow2_close(struct disk *d)
{
	struct qcow2 *q = d->priv;

	if (!q)
		return;
	qcow2_flush_meta(q);
	qcow2_free(q);
	d->priv = NULL;
}

static const struct disk_ops qcow2_ops = {
	.preadv = qcow2_preadv,
	.pwritev = qcow2_pwritev,
	.flush = qcow2_flush,
	.close = qcow2_close,
};

/* ---- open -------------------------------------------------------------- */

bool disk_qcow2_probe(int fd)
{
	uint8_t m[4];

	return pread(fd, m, 4, 0) == 4 && be32(m) == QCOW2_MAGIC;
}

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); goto fail; } while (0)

/* Names of unknown incompatible features from the feature name table. */
static void feature_names(const uint8_t *names, uint32_t nlen, uint64_t bits, char *out, size_t outlen)
{
	size_t used = 0;
	int b;

	out[0] = 0;
	for (b = 0; b < 64; b++) {
		const char *name = NULL;
		char tmp[47];
		uint32_t i;

		if (!(bits & (1ull << b)))
			continue;
		for (i = 0; names && i + 48 <= nlen; i += 48) {
			if (names[i] == 0 && names[i + 1] == b) {
				memcpy(tmp, names + i + 2, 46);
				tmp[46] = 0;
				name = tmp;
				break;
			}
		}
		if (used < outlen)
			used += snprintf(out + used, outlen - used, "%s%d%s%s%s", used ? ", " : "",
					 b, name ? " (" : "", name ? name : "", name ? ")" : "");
	}
}

static int open_backing(struct qcow2 *q, const char *name, const char *fmt,
			char *err, size_t errlen)
{
	char self[64], dir[PATH_MAX], path[PATH_MAX + 1024], why[256];
	enum disk_format f = DISK_FMT_AUTO;
	ssize_t n;
	char *slash;

	if (fmt[0]) {
		int p = disk_format_parse(fmt);

		if (p < 0) {
			snprintf(err, errlen, "backing file format '%s' is not supported", fmt);
			return -1;
		}
		f = p;
	}
	if (name[0] == '/') {
		snprintf(path, sizeof(path), "%s", name);
	} else {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", q->fd);
		n = readlink(self, dir, sizeof(dir) - 1);
		if (n < 0) {
			snprintf(err, errlen, "cannot find the image's directory: %s", strerror(errno));
			return -1;
		}
		dir[n] = 0;
		slash = strrchr(dir, '/');
		if (slash)
			slash[1] = 0;
		else
			strcpy(dir, "./");
		snprintf(path, sizeof(path), "%s%s", dir, name);
	}
#ifdef QCOW2_FUZZ_BACKING
	/* Fuzzing: every backing name means the image itself, no host file. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", q->fd);
#endif
	q->backing = disk_open(path, f, true, why, sizeof(why));
	if (!q->backing) {
		if (!chain_err[0])
			snprintf(chain_err, sizeof(chain_err), "%s", why);
		snprintf(err, errlen, "backing file: %s", chain_err);
		return -1;
	}
	return 0;
}

int disk_qcow2_init(struct disk *d, char *err, size_t errlen)
{
	uint64_t incompat = 0, autoclear = 0, rt_off, l1_need, cover, fsize, bk_off, i;
	uint32_t hlen = 72, bk_len, nsnap, ext_pos, names_len = 0;
	const uint8_t *names = NULL;
	char bk_name[1024] = "", bk_fmt[32] = "", list[256];
	uint8_t h[104], *hc = NULL;
	struct qcow2 *q = NULL;
	bool pushed = false;
	struct stat st;
	int r;

	if (!chain_len)
		chain_err[0] = 0;
	if (fstat(d->fd, &st)) {
		snprintf(err, errlen, "cannot stat: %s", strerror(errno));
		return -1;
	}
	if (chain_len >= QCOW2_MAX_CHAIN) {
		snprintf(err, errlen, "backing chain longer than %d images", QCOW2_MAX_CHAIN);
		return -1;
	}
	for (r = 0; r < chain_len; r++) {
		if (chain[r].dev == st.st_dev && chain[r].ino == st.st_ino) {
			snprintf(err, errlen, "backing file loop (this image is already in the chain)");
			return -1;
		}
	}
	fsize = st.st_size;
	q = calloc(1, sizeof(*q));
	if (!q)
		FAIL("out of memory");
	q->d = d;
	q->fd = d->fd;
	q->writable = !d->readonly;
	if (fsize < 72)
		FAIL("not a qcow2 image: file too short for a header");
	r = xpread(d->fd, h, sizeof(h), 0);
	if (r)
		FAIL("cannot read the header: %s", strerror(-r));
	if (be32(h) != QCOW2_MAGIC)
		FAIL("not a qcow2 image (bad magic)");
	q->version = be32(h + 4);
	if (q->version != 2 && q->version != 3)
		FAIL("qcow2 version %u is not supported (2 and 3 are)", q->version);
	q->cb = be32(h + 20);
	if (q->cb < QCOW2_MIN_CB || q->cb > QCOW2_MAX_CB)
		FAIL("cluster_bits %u out of range %d..%d", q->cb, QCOW2_MIN_CB, QCOW2_MAX_CB);
	q->cs = 1ull << q->cb;
	q->l2_bits = q->cb - 3;
	q->file_end = (fsize + q->cs - 1) & ~(q->cs - 1);
	q->disk_size = be64(h + 24);
	if (be32(h + 32))
		FAIL("encrypted images are not supported");
	q->rorder = 4;
	if (q->version == 3) {
		if (fsize < 104)
			FAIL("file too short for a version 3 header");
		incompat = be64(h + 72);
		autoclear = be64(h + 88);
		q->rorder = be32(h + 96);
		hlen = be32(h + 100);
		if (hlen < 104 || hlen % 8 || hlen > q->cs)
			FAIL("header_length %u invalid", hlen);
		if (q->rorder > 6)
			FAIL("refcount_order %u out of range 0..6", q->rorder);
	}
	hc = calloc(1, q->cs);
	if (!hc)
		FAIL("out of memory");
	r = xpread(d->fd, hc, q->cs, 0);
	if (r)
		FAIL("cannot read the header: %s", strerror(-r));

	/* Header extensions: up to the end of the first cluster. */
	for (ext_pos = hlen; ext_pos + 8 <= q->cs;) {
		uint32_t type = be32(hc + ext_pos), len = be32(hc + ext_pos + 4);

		if (type == EXT_END)
			break;
		if (len > q->cs - ext_pos - 8)
			FAIL("header extension 0x%x overruns the first cluster", type);
		if (type == EXT_BACKING_FMT) {
			if (len >= sizeof(bk_fmt))
				FAIL("backing format name too long");
			memcpy(bk_fmt, hc + ext_pos + 8, len);
			bk_fmt[len] = 0;
		} else if (type == EXT_FEATURE_NAMES) {
			names = hc + ext_pos + 8;
			names_len = len;
		}
		ext_pos += 8 + ((len + 7) & ~7u);
	}

	if (incompat & ~(INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE |
			 INCOMPAT_COMPRESSION | INCOMPAT_EXTL2)) {
		feature_names(names, names_len, incompat & ~0x1full, list, sizeof(list));
		FAIL("unknown incompatible features: %s", list);
	}
	if (incompat & INCOMPAT_DATA_FILE)
		FAIL("external data files are not supported");
	if (incompat & INCOMPAT_EXTL2)
		FAIL("extended L2 entries (subclusters) are not supported");
	if (incompat & INCOMPAT_COMPRESSION) {
		if (hlen <= 104 || hc[104] != 0)
			FAIL("compression type %u is not supported (zlib is)", hlen > 104 ? hc[104] : 0);
	} else if (hlen > 104 && hc[104] != 0) {
		FAIL("compression type %u without its incompatible feature bit", hc[104]);
	}
	if (q->writable && (incompat & INCOMPAT_DIRTY))
		FAIL("dirty image (lazy refcounts): repair it with 'qemu-img check -r all' first");
	if (q->writable && (incompat & INCOMPAT_CORRUPT))
		FAIL("image marked corrupt: only read-only opens are allowed");

	nsnap = be32(h + 60);
	if (nsnap > QCOW2_MAX_SNAPSHOTS)
		FAIL("%u snapshots: too many", nsnap);
	if (nsnap) {
		uint64_t so = be64(h + 64);

		if (!so || so & (q->cs - 1) || so >= q->file_end)
			FAIL("snapshot table offset 0x%llx invalid", (unsigned long long)so);
	}
	if (q->disk_size > (uint64_t)INT64_MAX)
		FAIL("virtual size too large");

	/* L1 table. */
	q->l1_size = be32(h + 36);
	q->l1_off = be64(h + 40);
	cover = 1ull << (q->cb + q->l2_bits);
	l1_need = q->disk_size / cover + !!(q->disk_size % cover);
	if (q->l1_size < l1_need)
		FAIL("L1 table of %u entries does not cover the virtual size", q->l1_size);
	if ((uint64_t)q->l1_size * 8 > QCOW2_MAX_L1_BYTES)
		FAIL("L1 table of %u entries too large", q->l1_size);
	if (q->l1_size) {
		if (!q->l1_off || q->l1_off & (q->cs - 1))
			FAIL("L1 table offset 0x%llx not cluster aligned", (unsigned long long)q->l1_off);
		if (q->l1_off > q->file_end || (uint64_t)q->l1_size * 8 > q->file_end - q->l1_off)
			FAIL("L1 table beyond the end of the file");
		q->l1 = malloc((size_t)q->l1_size * 8);
		if (!q->l1)
			FAIL("out of memory");
		r = xpread(d->fd, q->l1, (size_t)q->l1_size * 8, q->l1_off);
		if (r)
			FAIL("cannot read the L1 table: %s", strerror(-r));
		for (i = 0; i < q->l1_size; i++) {
			uint64_t e = be64(&q->l1[i]), off = e & OFF_MASK;

			if ((e & L1_RESERVED) || (off && !table_ok(q, off)))
				FAIL("L1 entry %llu invalid (0x%llx)", (unsigned long long)i,
				     (unsigned long long)e);
		}
	}

	/* Refcount table. */
	rt_off = be64(h + 48);
	q->rt_clusters = be32(h + 56);
	q->rb_entries = (q->cs * 8) >> q->rorder;
	if (!q->rt_clusters || (uint64_t)q->rt_clusters * q->cs > QCOW2_MAX_RT_BYTES)
		FAIL("refcount table of %u clusters invalid", q->rt_clusters);
	if (!rt_off || rt_off & (q->cs - 1))
		FAIL("refcount table offset 0x%llx not cluster aligned", (unsigned long long)rt_off);
	if (rt_off > q->file_end || (uint64_t)q->rt_clusters * q->cs > q->file_end - rt_off)
		FAIL("refcount table beyond the end of the file");
	q->rt_off = q->rt_disk_off = rt_off;
	q->rt_disk_clusters = q->rt_clusters;
	q->rt_entries = (uint64_t)q->rt_clusters * q->cs / 8;
	q->rt = malloc(q->rt_entries * 8);
	if (!q->rt)
		FAIL("out of memory");
	r = xpread(d->fd, q->rt, q->rt_entries * 8, rt_off);
	if (r)
		FAIL("cannot read the refcount table: %s", strerror(-r));
	for (i = 0; i < q->rt_entries; i++) {
		uint64_t e = be64(&q->rt[i]);

		if ((e & RT_RESERVED) || (e && !table_ok(q, e)))
			FAIL("refcount table entry %llu invalid (0x%llx)", (unsigned long long)i,
			     (unsigned long long)e);
	}

	/* Backing file name. */
	bk_off = be64(h + 8);
	bk_len = be32(h + 16);
	if (bk_off) {
		if (!bk_len || bk_len >= sizeof(bk_name))
			FAIL("backing file name length %u invalid", bk_len);
		if (bk_off > q->cs || bk_len > q->cs - bk_off || bk_off < hlen)
			FAIL("backing file name outside the header cluster");
		memcpy(bk_name, hc + bk_off, bk_len);
		bk_name[bk_len] = 0;
		if (strlen(bk_name) != bk_len)
			FAIL("backing file name contains a NUL byte");
	}

	/* Buffers and cache. */
	q->nslots = (32u << 20) >> q->cb;
	if (q->nslots < 8)
		q->nslots = 8;
	if (q->nslots > 256)
		q->nslots = 256;
	q->slots = calloc(q->nslots, sizeof(*q->slots));
	q->pending = malloc(QCOW2_MAX_PENDING * sizeof(*q->pending));
	q->bounce = malloc(q->cs);
	q->cow = malloc(q->cs);
	q->zout = malloc(q->cs);
	q->zin_len = 2 * q->cs + 512;
	q->zin = malloc(q->zin_len);
	if (!q->slots || !q->pending || !q->bounce || !q->cow || !q->zout || !q->zin)
		FAIL("out of memory");
	q->free_hint = 1;

	if (bk_name[0]) {
		chain[chain_len].dev = st.st_dev;
		chain[chain_len].ino = st.st_ino;
		chain_len++;
		pushed = true;
		if (open_backing(q, bk_name, bk_fmt, err, errlen))
			goto fail;
		chain_len--;
		pushed = false;
	}

	/* Bits we do not maintain (bitmaps...) go when we may change the image. */
	if (q->writable && autoclear) {
		uint8_t z[8] = {0};

		r = xpwrite(d->fd, z, 8, 88);
		if (!r)
			r = qsync(q);
		if (r)
			FAIL("cannot clear autoclear features: %s", strerror(-r));
	}
	free(hc);
	d->priv = q;
	d->ops = &qcow2_ops;
	d->format = DISK_FMT_QCOW2;
	d->size = q->disk_size & ~(uint64_t)(DISK_SECTOR - 1);
	return 0;
fail:
	if (pushed)
		chain_len--;
	free(hc);
	if (q)
		q->writable = false;
	qcow2_free(q);
	return -1;
}
