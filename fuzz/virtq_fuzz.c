// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the split virtqueue walker (devices/virtq.c) as a
 * device runs it.  The input is a 32-byte header followed by the contents
 * of guest RAM (at most 1 MiB, held in an allocation of exactly that size
 * so that ASan sees any access past it):
 *
 *   0      flags: bit 0 INDIRECT_DESC, bit 1 EVENT_IDX negotiated
 *   1..2   queue size (any value: virtq_check must refuse the bad ones)
 *   3      pops to try (mod 64)
 *   4..11  guest-physical base of RAM (page aligned, as in a real VMM)
 *   12..15 descriptor table, 16..19 driver area, 20..23 device area:
 *          offsets from the base (any value: the rings may lie outside)
 *   24..25 first avail index to take, 26..27 first used index to fill
 *   28..31 length reported back for each request (capped at in_len)
 *
 * The queue is enabled only if virtq_check accepts it, as the devices do.
 * Then requests are popped, pushed back and signalled until the ring is
 * empty or bad.  Asserted: every buffer handed out lies wholly inside the
 * RAM area, the counts and lengths agree with the buffers, and each pop
 * asks for guest memory no more often than a walk visiting each descriptor
 * once would (so loops are cut short).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../devices/virtq.h"

#define HDR		32
#define RAM_MAX		(1 << 20)

struct fram {
	uint8_t *ram;
	uint64_t base, len;
	unsigned long calls;
};

static void *ram_ptr(void *opaque, uint64_t gpa, uint64_t len)
{
	struct fram *f = opaque;

	f->calls++;
	if (gpa < f->base || gpa - f->base > f->len || len > f->len - (gpa - f->base))
		return NULL;
	return f->ram + (gpa - f->base);
}

static uint64_t get(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];	/* little endian */
	return v;
}

static void check_req(const struct fram *f, const struct virtq *q, const struct virtq_req *r)
{
	uint64_t out = 0, in = 0;
	unsigned int i;

	if (r->head >= q->size || r->nout + r->nin > VIRTQ_MAX_IOV)
		abort();
	for (i = 0; i < r->nout + r->nin; i++) {
		const uint8_t *b = r->iov[i].iov_base;
		size_t l = r->iov[i].iov_len;

		if (!l || b < f->ram || (uint64_t)(b - f->ram) > f->len ||
		    l > f->len - (uint64_t)(b - f->ram))
			abort();	/* a buffer outside guest RAM */
		if (i < r->nout)
			out += l;
		else
			in += l;
	}
	if (out != r->out_len || in != r->in_len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtq_req r;
	static uint8_t scratch[4096];
	struct fram f = { 0 };
	struct vmem m = { ram_ptr, &f };
	struct virtq q;
	unsigned int pops, i;
	uint32_t report;
	char err[256];

	if (size < HDR)
		return 0;
	f.len = size - HDR < RAM_MAX ? size - HDR : RAM_MAX;
	f.ram = malloc(f.len ? f.len : 1);
	if (!f.ram)
		abort();
	memcpy(f.ram, data + HDR, f.len);
	f.base = get(data + 4, 8) & ~0xfffULL;
	if (f.base + f.len < f.base)
		f.base = 0;

	virtq_reset(&q);
	q.indirect = data[0] & 1;
	q.event_idx = data[0] & 2;
	q.size = get(data + 1, 2);
	q.desc = f.base + get(data + 12, 4);
	q.avail = f.base + get(data + 16, 4);
	q.used = f.base + get(data + 20, 4);
	q.last_avail = get(data + 24, 2);
	q.used_idx = get(data + 26, 2);
	report = get(data + 28, 4);
	pops = data[3] % 64;

	if (virtq_check(&q, &m, VIRTQ_MAX_SIZE, err, sizeof(err)) < 0)
		goto out;
	q.ready = true;
	for (i = 0; i < pops; i++) {
		unsigned long before = f.calls;
		size_t n;
		int rc;

		rc = virtq_pop(&q, &m, &r, err, sizeof(err));
		/*
		 * Three rings, one indirect table, one lookup per non-empty
		 * descriptor: a chain visits each table entry at most once.
		 * (A loop of empty descriptors asks for no memory; libFuzzer's
		 * -timeout catches a walk that never ends.)
		 */
		if (f.calls - before > 4 + (unsigned long)q.size +
		    (q.indirect ? VIRTQ_MAX_SIZE : 0))
			abort();
		if (rc <= 0)
			break;
		check_req(&f, &q, &r);
		/* Touch both ends of every buffer, then copy as a device would. */
		for (n = 0; n < r.nout + r.nin; n++) {
			volatile uint8_t *b = r.iov[n].iov_base;
			size_t l = r.iov[n].iov_len;

			if (n < r.nout) {
				(void)b[0];
				(void)b[l - 1];
			} else {
				b[0] = 0x5a;
				b[l - 1] = 0x5a;
			}
		}
		if (iov_to_buf(r.iov, r.nout, 0, scratch, sizeof(scratch)) !=
		    (r.out_len < sizeof(scratch) ? r.out_len : sizeof(scratch)))
			abort();
		memset(scratch, 0xa5, sizeof(scratch));
		if (buf_to_iov(r.iov + r.nout, r.nin, 0, scratch, sizeof(scratch)) !=
		    (r.in_len < sizeof(scratch) ? r.in_len : sizeof(scratch)))
			abort();
		if (virtq_push(&q, &m, r.head, report < r.in_len ? report : (uint32_t)r.in_len) < 0)
			abort();	/* the used ring was checked when popping */
		virtq_should_signal(&q, &m);
	}
out:
	free(f.ram);
	return 0;
}
