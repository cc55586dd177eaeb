// SPDX-License-Identifier: GPL-2.0
/* The split virtqueue walker: see virtq.h for what is checked. */
#include <stdio.h>
#include <string.h>

#include "virtq.h"

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static void *gp(const struct vmem *m, uint64_t gpa, uint64_t len)
{
	if (gpa + len < gpa)
		return NULL;
	return m->ptr(m->opaque, gpa, len);
}

static uint16_t load16(const void *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}

static void store16(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE);
}

/* Ring areas including the event index words (present either way, 2.7). */
static uint64_t avail_bytes(uint16_t size)
{
	return 6 + 2ULL * size;
}

static uint64_t used_bytes(uint16_t size)
{
	return 6 + 8ULL * size;
}

int virtq_check(const struct virtq *q, const struct vmem *m, uint16_t max_size,
		char *err, size_t errlen)
{
	if (!q->size || q->size > max_size || (q->size & (q->size - 1))) {
		snprintf(err, errlen, "queue size %u is not a power of two up to %u",
			 q->size, max_size);
		return -1;
	}
	if ((q->desc & 15) || (q->avail & 1) || (q->used & 3)) {
		snprintf(err, errlen, "misaligned rings (desc 0x%llx, driver 0x%llx, device 0x%llx)",
			 (unsigned long long)q->desc, (unsigned long long)q->avail,
			 (unsigned long long)q->used);
		return -1;
	}
	if (!gp(m, q->desc, 16ULL * q->size) || !gp(m, q->avail, avail_bytes(q->size)) ||
	    !gp(m, q->used, used_bytes(q->size))) {
		snprintf(err, errlen, "rings outside guest RAM (desc 0x%llx, driver 0x%llx, device 0x%llx, size %u)",
			 (unsigned long long)q->desc, (unsigned long long)q->avail,
			 (unsigned long long)q->used, q->size);
		return -1;
	}
	return 0;
}

static void read_desc(const uint8_t *table, unsigned int i, struct vdesc *d)
{
	uint8_t raw[16];

	memcpy(raw, table + 16ULL * i, 16);
	memcpy(&d->addr, raw, 8);
	memcpy(&d->len, raw + 8, 4);
	memcpy(&d->flags, raw + 12, 2);
	memcpy(&d->next, raw + 14, 2);
}

/* Add one buffer to the request; -1 (reason in err) if it is bad. */
static int add_buf(const struct vmem *m, struct virtq_req *r, const struct vdesc *d,
		   char *err, size_t errlen)
{
	bool w = d->flags & VIRTQ_DESC_F_WRITE;
	void *p;

	if (!w && r->nin) {
		snprintf(err, errlen, "device-readable buffer after a device-writable one");
		return -1;
	}
	if (!d->len)
		return 0;
	p = gp(m, d->addr, d->len);
	if (!p) {
		snprintf(err, errlen, "buffer 0x%llx+0x%x is outside guest RAM",
			 (unsigned long long)d->addr, d->len);
		return -1;
	}
	if (r->nout + r->nin == VIRTQ_MAX_IOV) {
		snprintf(err, errlen, "request has more than %d buffers", VIRTQ_MAX_IOV);
		return -1;
	}
	r->iov[r->nout + r->nin] = (struct iovec){ p, d->len };
	if (w) {
		r->nin++;
		r->in_len += d->len;
	} else {
		r->nout++;
		r->out_len += d->len;
	}
	return 0;
}

/* Walk a chain in @table (@n entries) from @i; the count bound ends loops. */
static int walk(const struct vmem *m, const uint8_t *table, unsigned int n, unsigned int i,
		struct virtq_req *r, bool indirect_ok, const struct virtq *q,
		char *err, size_t errlen)
{
	unsigned int count = 0;
	struct vdesc d;

	for (;;) {
		if (i >= n) {
			snprintf(err, errlen, "descriptor index %u out of range (%u)", i, n);
			return -1;
		}
		if (++count > n) {
			snprintf(err, errlen, "descriptor chain longer than its table (%u): a loop", n);
			return -1;
		}
		read_desc(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			const uint8_t *it;
			unsigned int in;

			if (!indirect_ok || !q->indirect) {
				snprintf(err, errlen, indirect_ok ? "indirect descriptor not negotiated"
					 : "indirect descriptor inside an indirect table or chain");
				return -1;
			}
			if (d.flags & VIRTQ_DESC_F_NEXT) {
				snprintf(err, errlen, "indirect descriptor with NEXT set");
				return -1;
			}
			if (!d.len || (d.len & 15) || d.len / 16 > VIRTQ_MAX_SIZE) {
				snprintf(err, errlen, "indirect table length %u is not a multiple of 16 in 16..%u",
					 d.len, 16 * VIRTQ_MAX_SIZE);
				return -1;
			}
			in = d.len / 16;
			it = gp(m, d.addr, d.len);
			if (!it) {
				snprintf(err, errlen, "indirect table 0x%llx+0x%x is outside guest RAM",
					 (unsigned long long)d.addr, d.len);
				return -1;
			}
			return walk(m, it, in, 0, r, false, q, err, errlen);
		}
		if (add_buf(m, r, &d, err, errlen) < 0)
			return -1;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
		indirect_ok = false;
	}
}

int virtq_pop(struct virtq *q, const struct vmem *m, struct virtq_req *r,
	      char *err, size_t errlen)
{
	uint8_t *avail = gp(m, q->avail, avail_bytes(q->size));
	uint8_t *used = gp(m, q->used, used_bytes(q->size));
	uint8_t *desc = gp(m, q->desc, 16ULL * q->size);
	uint16_t idx, head;

	if (!q->ready || !avail || !used || !desc) {
		snprintf(err, errlen, "queue used while not ready or outside guest RAM");
		return -1;
	}
	idx = load16(avail + 2);
	if ((uint16_t)(idx - q->last_avail) > q->size) {
		snprintf(err, errlen, "driver index %u is %u ahead of %u (queue size %u)",
			 idx, (uint16_t)(idx - q->last_avail), q->last_avail, q->size);
		return -1;
	}
	if (idx == q->last_avail) {
		if (!q->event_idx)
			return 0;
		/* Ask for a kick at the next entry, then look once more. */
		store16(used + 4 + 8ULL * q->size, q->last_avail);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		idx = load16(avail + 2);
		if (idx == q->last_avail)
			return 0;
		if ((uint16_t)(idx - q->last_avail) > q->size) {
			snprintf(err, errlen, "driver index %u is %u ahead of %u (queue size %u)",
				 idx, (uint16_t)(idx - q->last_avail), q->last_avail, q->size);
			return -1;
		}
	}
	head = load16(avail + 4 + 2ULL * (q->last_avail % q->size));
	r->head = head;
	r->nout = r->nin = 0;
	r->out_len = r->in_len = 0;
	if (walk(m, desc, q->size, head, r, true, q, err, errlen) < 0)
		return -1;
	q->last_avail++;
	if (q->event_idx)
		store16(used + 4 + 8ULL * q->size, q->last_avail);
	return 1;
}

int virtq_push(struct virtq *q, const struct vmem *m, uint16_t head, uint32_t len)
{
	uint8_t *used = gp(m, q->used, used_bytes(q->size));
	uint8_t *e;
	uint32_t id = head;

	if (!used)
		return -1;
	e = used + 4 + 8ULL * (q->used_idx % q->size);
	memcpy(e, &id, 4);
	memcpy(e + 4, &len, 4);
	q->used_idx++;
	store16(used + 2, q->used_idx);	/* release: the entry is seen first */
	return 0;
}

bool virtq_should_signal(struct virtq *q, const struct vmem *m)
{
	uint8_t *avail = gp(m, q->avail, avail_bytes(q->size));
	uint16_t old = q->signalled_used, event;
	bool valid = q->signalled_valid;

	if (!avail)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);	/* used idx before the driver's flags */
	if (!q->event_idx)
		return !(load16(avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	q->signalled_used = q->used_idx;
	q->signalled_valid = true;
	if (!valid)
		return true;
	event = load16(avail + 4 + 2ULL * q->size);
	return (uint16_t)(q->used_idx - event - 1) < (uint16_t)(q->used_idx - old);
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}
