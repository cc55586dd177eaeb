// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: MMIO and string port I/O through the instruction emulator.
 *
 * A nested page fault on guest-physical memory that no memslot backs (or a
 * write to a read-only slot), and an INS/OUTS exit, come here.  The
 * instruction at RIP is fetched through the guest's page tables and run by
 * kernel/emulate.c with the ops below: RAM is the memslots' user memory,
 * everything else becomes a KVM_EXIT_MMIO or KVM_EXIT_IO.  As in KVM, an
 * access that needs data from userspace (an MMIO read, an IN) exits first
 * and the instruction runs again on the next KVM_RUN with the data served
 * from a one-entry buffer; writes and OUTs exit after the instruction.
 * REP OUTS and REP INS move up to KVL_EMU_PIO_BYTES per exit.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/processor-flags.h>
#include "kvmlite.h"
#include "emulate.h"
#include "irqchip.h"

#define KVL_EMU_PIO_BYTES	1024	/* as KVM's emulator */
#define KVL_EMU_MAX_STEPS	4096	/* REP iterations batched in one exit */

/*
 * What the next KVM_RUN completes: data for the instruction, or (CONTINUE)
 * nothing but the rest of a REP INS whose data is already here.
 */
enum { EIO_NONE, EIO_MMIO_READ, EIO_PIO_IN, EIO_CONTINUE };

/*
 * Recent gfn -> host address lookups (0: no RAM there), valid while the
 * VM's memslots are those of generation gen: the emulator asks for the
 * same code, page-table and MMIO pages exit after exit.
 */
#define KVL_HVA_CACHE	8

struct kvl_hva_cache {
	u64 gfn;
	unsigned long hva;
	unsigned long gen;
	bool readonly, valid;
};

struct kvl_emu_io {
	struct kvl_vcpu *vcpu;
	struct kvl_hva_cache hva_cache[KVL_HVA_CACHE];
	struct kvl_emu e;

	/* MMIO: this step's read request and write, and a completed read. */
	bool rd_req, wr;
	u64 rd_gpa, wr_gpa, done_gpa;
	u8 rd_len, wr_len, done_len;
	bool done;
	u8 wr_data[8], done_data[8];

	/* Port I/O: an IN request; IN data being consumed; OUT data batched. */
	bool in_req;
	u16 in_port, out_port;
	u8 in_size, out_size;
	u32 in_req_count, in_count, in_pos, out_count;
	u8 in_data[KVL_EMU_PIO_BYTES];
	u8 out_data[KVL_EMU_PIO_BYTES];
};

/*
 * vcpu->regs is in the entry stubs' order (RSP lives in vcpu->rsp), the
 * emulator's GPRs in x86 encoding order.  The copies are spelt out rather
 * than looped over a map: they run on every emulated access.
 */
static void kvl_emu_load_gprs(u64 *g, const struct kvl_vcpu *vcpu)
{
	const unsigned long *r = vcpu->regs;

	g[KVL_GPR_RAX] = r[KVL_RAX];
	g[KVL_GPR_RCX] = r[KVL_RCX];
	g[KVL_GPR_RDX] = r[KVL_RDX];
	g[KVL_GPR_RBX] = r[KVL_RBX];
	g[KVL_GPR_RBP] = r[KVL_RBP];
	g[KVL_GPR_RSI] = r[KVL_RSI];
	g[KVL_GPR_RDI] = r[KVL_RDI];
	g[KVL_GPR_R8] = r[KVL_R8];
	g[KVL_GPR_R9] = r[KVL_R9];
	g[KVL_GPR_R10] = r[KVL_R10];
	g[KVL_GPR_R11] = r[KVL_R11];
	g[KVL_GPR_R12] = r[KVL_R12];
	g[KVL_GPR_R13] = r[KVL_R13];
	g[KVL_GPR_R14] = r[KVL_R14];
	g[KVL_GPR_R15] = r[KVL_R15];
	g[KVL_GPR_RSP] = vcpu->rsp;
}

static void kvl_emu_store_gprs(struct kvl_vcpu *vcpu, const u64 *g)
{
	unsigned long *r = vcpu->regs;

	r[KVL_RAX] = g[KVL_GPR_RAX];
	r[KVL_RCX] = g[KVL_GPR_RCX];
	r[KVL_RDX] = g[KVL_GPR_RDX];
	r[KVL_RBX] = g[KVL_GPR_RBX];
	r[KVL_RBP] = g[KVL_GPR_RBP];
	r[KVL_RSI] = g[KVL_GPR_RSI];
	r[KVL_RDI] = g[KVL_GPR_RDI];
	r[KVL_R8] = g[KVL_GPR_R8];
	r[KVL_R9] = g[KVL_GPR_R9];
	r[KVL_R10] = g[KVL_GPR_R10];
	r[KVL_R11] = g[KVL_GPR_R11];
	r[KVL_R12] = g[KVL_GPR_R12];
	r[KVL_R13] = g[KVL_GPR_R13];
	r[KVL_R14] = g[KVL_GPR_R14];
	r[KVL_R15] = g[KVL_GPR_R15];
	vcpu->rsp = g[KVL_GPR_RSP];
}

int kvl_emu_vcpu_init(struct kvl_vcpu *vcpu)
{
	vcpu->eio = kzalloc(sizeof(*vcpu->eio), GFP_KERNEL_ACCOUNT);
	if (!vcpu->eio)
		return -ENOMEM;
	vcpu->eio->vcpu = vcpu;
	return 0;
}

void kvl_emu_vcpu_free(struct kvl_vcpu *vcpu)
{
	kfree(vcpu->eio);
	vcpu->eio = NULL;
}

static noinline void kvl_hva_cache_fill(struct kvl_vm *vm, struct kvl_hva_cache *c, u64 gfn)
{
	struct kvl_memslot *slot;

	mutex_lock(&vm->lock);
	slot = kvl_gfn_to_slot(vm, gfn);
	c->gfn = gfn;
	c->gen = vm->slots_gen;
	c->hva = slot ? slot->userspace_addr + ((gfn - slot->base_gfn) << PAGE_SHIFT) : 0;
	c->readonly = slot && (slot->flags & KVM_MEM_READONLY);
	c->valid = true;
	mutex_unlock(&vm->lock);
}

/* @gfn's slot in the cache, and whether it holds the current memslots' answer. */
static __always_inline struct kvl_hva_cache *kvl_hva_slot(struct kvl_emu_io *eio, u64 gfn,
							  bool *hit)
{
	struct kvl_hva_cache *c = &eio->hva_cache[gfn % KVL_HVA_CACHE];

	*hit = c->valid && c->gfn == gfn && c->gen == READ_ONCE(eio->vcpu->vm->slots_gen);
	return c;
}

/* RAM backs the entry's page (writable RAM if @write)? */
static __always_inline bool kvl_hva_is_ram(const struct kvl_hva_cache *c, bool write)
{
	return c->hva && !(write && c->readonly);
}

/* Host address of @gpa when RAM backs it (writable RAM if @write), else 0. */
static __always_inline unsigned long kvl_gpa_to_hva(struct kvl_emu_io *eio, u64 gpa, bool write)
{
	u64 gfn = gpa >> PAGE_SHIFT;
	bool hit;
	struct kvl_hva_cache *c = kvl_hva_slot(eio, gfn, &hit);

	if (unlikely(!hit))
		kvl_hva_cache_fill(eio->vcpu->vm, c, gfn);
	if (!kvl_hva_is_ram(c, write))
		return 0;
	return c->hva + (gpa & ~PAGE_MASK);
}

/*
 * A nested page fault at @gpa that the last lookups already found to be
 * MMIO (no slot, or a write to a read-only one): to the emulator without
 * the memslot lookup under vm->lock.  The same answer the fault handler
 * would give, as long as the memslots are those of the cached generation.
 */
bool kvl_emu_known_mmio(struct kvl_vcpu *vcpu, u64 gpa, bool write)
{
	bool hit;
	struct kvl_hva_cache *c = kvl_hva_slot(vcpu->eio, gpa >> PAGE_SHIFT, &hit);

	return hit && !kvl_hva_is_ram(c, write);
}

static int kvl_emu_read_pte(void *ctx, u64 gpa, unsigned int size, u64 *pte)
{
	struct kvl_emu_io *eio = ctx;
	unsigned long hva = kvl_gpa_to_hva(eio, gpa, false);
	u32 pte32;

	/* Page tables in MMIO space: KVM gives up on those too. */
	if (!hva)
		return KVL_EMU_UNHANDLED;
	if (size == 8)
		return get_user(*pte, (u64 __user *)hva) ? KVL_EMU_UNHANDLED : KVL_EMU_OK;
	if (get_user(pte32, (u32 __user *)hva))
		return KVL_EMU_UNHANDLED;
	*pte = pte32;
	return KVL_EMU_OK;
}

static int kvl_emu_access(struct kvl_emu *e, u64 la, void *buf, unsigned int len,
			  unsigned int acc)
{
	struct kvl_emu_io *eio = e->ctx;
	bool write = acc & KVL_ACC_WRITE;
	unsigned int part[2], i, n;
	unsigned long hva[2];
	u64 gpa[2];
	int r;

	if (e->cpl == 3)
		acc |= KVL_ACC_USER;
	part[0] = min_t(unsigned int, len, PAGE_SIZE - (la & ~PAGE_MASK));
	part[1] = len - part[0];
	n = part[1] ? 2 : 1;
	for (i = 0; i < n; i++) {
		u64 a = la + (i ? part[0] : 0);

		/* Without paging the linear address is the physical one (32 bits). */
		if (!(e->pg.cr0 & X86_CR0_PG)) {
			gpa[i] = a & 0xffffffffULL;
		} else {
			r = kvl_gwalk(&e->pg, a, acc, kvl_emu_read_pte, eio, &gpa[i], &e->exc);
			if (r)
				return r;
		}
		hva[i] = kvl_gpa_to_hva(eio, gpa[i], write);
	}

	if (hva[0] && (n == 1 || hva[1])) {
		/*
		 * The usual first fetch, 15 bytes from one page: a fixed-size
		 * copy, which needs no run-time object-size check.
		 */
		if (n == 1 && len == KVL_EMU_MAX_INSN && (acc & KVL_ACC_FETCH))
			return copy_from_user(buf, (void __user *)hva[0], KVL_EMU_MAX_INSN) ?
			       KVL_EMU_UNHANDLED : KVL_EMU_OK;
		for (i = 0; i < n; i++) {
			void *p = (u8 *)buf + (i ? part[0] : 0);

			if (write) {
				r = copy_to_user((void __user *)hva[i], p, part[i]);
				if (!r)
					kvl_vcpu_mark_dirty(eio->vcpu, gpa[i] >> PAGE_SHIFT);
			} else {
				r = copy_from_user(p, (void __user *)hva[i], part[i]);
			}
			if (r)
				return KVL_EMU_UNHANDLED;
		}
		return KVL_EMU_OK;
	}

	/* MMIO: one fragment of at most 8 bytes, never code. */
	if (n != 1 || len > 8 || (acc & KVL_ACC_FETCH))
		return KVL_EMU_UNHANDLED;
	/* A device in the kernel (the LAPIC) answers at once. */
	if (write ? !kvl_io_write(eio->vcpu, true, gpa[0], len, buf) :
		    !kvl_io_read(eio->vcpu, true, gpa[0], len, buf))
		return KVL_EMU_OK;
	if (eio->out_count)
		return KVL_EMU_USER;	/* flush the batched OUTs first */
	if (write) {
		if (eio->wr)
			return KVL_EMU_UNHANDLED;
		eio->wr = true;
		eio->wr_gpa = gpa[0];
		eio->wr_len = len;
		memcpy(eio->wr_data, buf, len);
		return KVL_EMU_OK;
	}
	if (eio->done && eio->done_gpa == gpa[0] && eio->done_len == len) {
		memcpy(buf, eio->done_data, len);
		eio->done = false;
		return KVL_EMU_OK;
	}
	if (eio->rd_req || eio->wr)
		return KVL_EMU_UNHANDLED;
	eio->rd_req = true;
	eio->rd_gpa = gpa[0];
	eio->rd_len = len;
	return KVL_EMU_USER;
}

static int kvl_emu_fetch(struct kvl_emu *e, u64 la, void *buf, unsigned int len)
{
	return kvl_emu_access(e, la, buf, len, KVL_ACC_FETCH);
}

static int kvl_emu_read(struct kvl_emu *e, u64 la, void *buf, unsigned int len)
{
	return kvl_emu_access(e, la, buf, len, 0);
}

static int kvl_emu_write(struct kvl_emu *e, u64 la, const void *buf, unsigned int len)
{
	return kvl_emu_access(e, la, (void *)buf, len, KVL_ACC_WRITE);
}

static int kvl_emu_pio_in(struct kvl_emu *e, u16 port, unsigned int size, u64 count, void *val)
{
	struct kvl_emu_io *eio = e->ctx;
	u64 off, room;

	if (!eio->in_count && !kvl_io_read(eio->vcpu, false, port, size, val))
		return KVL_EMU_OK;
	if (eio->out_count || eio->wr)
		return KVL_EMU_USER;
	if (eio->in_pos < eio->in_count && eio->in_port == port && eio->in_size == size) {
		memcpy(val, eio->in_data + eio->in_pos * size, size);
		eio->in_pos++;
		return KVL_EMU_OK;
	}
	/* Ask for what fits the buffer and the rest of the destination page. */
	off = e->gpr[KVL_GPR_RDI] & ~PAGE_MASK;
	room = (e->rflags & X86_EFLAGS_DF) ? off / size + 1 : (PAGE_SIZE - off) / size;
	count = min3(count, room, (u64)(KVL_EMU_PIO_BYTES / size));
	eio->in_req = true;
	eio->in_port = port;
	eio->in_size = size;
	eio->in_req_count = max_t(u64, count, 1);
	eio->in_count = 0;
	eio->in_pos = 0;
	return KVL_EMU_USER;
}

static int kvl_emu_pio_out(struct kvl_emu *e, u16 port, unsigned int size, const void *val)
{
	struct kvl_emu_io *eio = e->ctx;

	if (!eio->out_count && !kvl_io_write(eio->vcpu, false, port, size, val))
		return KVL_EMU_OK;
	if (eio->out_count && (port != eio->out_port || size != eio->out_size ||
			       (eio->out_count + 1) * size > KVL_EMU_PIO_BYTES))
		return KVL_EMU_USER;
	memcpy(eio->out_data + eio->out_count * size, val, size);
	eio->out_port = port;
	eio->out_size = size;
	eio->out_count++;
	return KVL_EMU_OK;
}

static const struct kvl_emu_ops kvl_emu_core_ops = {
	.fetch		= kvl_emu_fetch,
	.read		= kvl_emu_read,
	.write		= kvl_emu_write,
	.pio_in		= kvl_emu_pio_in,
	.pio_out	= kvl_emu_pio_out,
};

/* kvl_emu_regs.seg_base is indexed like kvl_emu.seg_base. */
static_assert(KVL_SEG_ES == 0 && KVL_SEG_CS == 1 && KVL_SEG_SS == 2 &&
	      KVL_SEG_DS == 3 && KVL_SEG_FS == 4 && KVL_SEG_GS == 5);
static_assert(ARRAY_SIZE(((struct kvl_emu_regs *)0)->seg_base) == KVL_EMU_NR_SEGS);

static void kvl_emu_load(struct kvl_vcpu *vcpu, struct kvl_emu_io *eio)
{
	struct kvl_emu *e = &eio->e;
	struct kvl_emu_regs r;

	kvl_call(get_emu_regs)(vcpu, &r);
	kvl_emu_load_gprs(e->gpr, vcpu);
	e->rip = vcpu->rip;
	e->rflags = vcpu->rflags;
	memcpy(e->seg_base, r.seg_base, sizeof(r.seg_base));
	e->pg.cr0 = r.cr0;
	e->pg.cr3 = r.cr3;
	e->pg.cr4 = r.cr4;
	e->pg.efer = r.efer;
	e->pg.rflags = vcpu->rflags;
	if (!(r.cr0 & X86_CR0_PE)) {
		e->mode = 2;
		e->cpl = 0;
	} else if (vcpu->rflags & X86_EFLAGS_VM) {
		e->mode = 2;
		e->cpl = 3;
	} else {
		if ((r.efer & EFER_LMA) && r.cs_l)
			e->mode = 8;
		else
			e->mode = r.cs_db ? 4 : 2;
		e->cpl = r.cpl;
	}
	e->ctx = eio;
}

static void kvl_emu_store(struct kvl_vcpu *vcpu, const struct kvl_emu *e)
{
	kvl_emu_store_gprs(vcpu, e->gpr);
	if (vcpu->rip != e->rip && (vcpu->rflags & X86_EFLAGS_TF))
		vcpu->singlestep_trap = true;	/* the trap the CPU would take now */
	vcpu->rip = e->rip;
	vcpu->rflags = e->rflags;
}

static void kvl_emu_exit_mmio(struct kvl_vcpu *vcpu, u64 gpa, u8 len, bool write,
			      const u8 *data)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = len;
	run->mmio.is_write = write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (write)
		memcpy(run->mmio.data, data, len);
}

static void kvl_emu_exit_io(struct kvl_vcpu *vcpu, bool in, u16 port, u8 size, u32 count)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = size;
	run->io.port = port;
	run->io.count = count;
	run->io.data_offset = KVL_PIO_PAGE * PAGE_SIZE;
}

static int kvl_emu_flush_out(struct kvl_vcpu *vcpu, struct kvl_emu_io *eio)
{
	kvl_emu_exit_io(vcpu, false, eio->out_port, eio->out_size, eio->out_count);
	memcpy((u8 *)vcpu->run + KVL_PIO_PAGE * PAGE_SIZE, eio->out_data,
	       eio->out_count * eio->out_size);
	eio->out_count = 0;
	return 1;
}

static int kvl_emu_failed(struct kvl_vcpu *vcpu, u64 gpa)
{
	kvl_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION, gpa, vcpu->rip);
	return 1;
}

/*
 * Emulate from RIP: after an exit (@gpa the faulting address, or 0 for
 * string I/O), or again on KVM_RUN with the data userspace supplied.
 * Returns 0 to re-enter the guest, 1 when vcpu->run holds an exit.
 */
static int kvl_emu_run(struct kvl_vcpu *vcpu, u64 gpa)
{
	struct kvl_emu_io *eio = vcpu->eio;
	struct kvl_emu *e = &eio->e;
	u64 start_rip;
	int r, n;

	kvl_emu_load(vcpu, eio);
	start_rip = e->rip;
	eio->out_count = 0;
	for (n = 0; ; n++) {
		eio->rd_req = false;
		eio->wr = false;
		eio->in_req = false;
		r = kvl_emu_step(e, &kvl_emu_core_ops);
		switch (r) {
		case KVL_EMU_OK:
			kvl_emu_store(vcpu, e);
			if (eio->wr) {
				kvl_emu_exit_mmio(vcpu, eio->wr_gpa, eio->wr_len, true,
						  eio->wr_data);
				if (e->rip == start_rip && eio->in_pos < eio->in_count)
					vcpu->emu_pending = EIO_CONTINUE;
				return 1;
			}
			/* More of a REP INS/OUTS: go on with the batch. */
			if (e->rip == start_rip && (eio->out_count || eio->in_count) &&
			    n < KVL_EMU_MAX_STEPS)
				continue;
			if (eio->out_count)
				return kvl_emu_flush_out(vcpu, eio);
			return 0;
		case KVL_EMU_USER:
			if (eio->out_count)
				return kvl_emu_flush_out(vcpu, eio);
			if (eio->rd_req) {
				kvl_emu_exit_mmio(vcpu, eio->rd_gpa, eio->rd_len, false, NULL);
				eio->done_gpa = eio->rd_gpa;
				eio->done_len = eio->rd_len;
				vcpu->emu_pending = EIO_MMIO_READ;
				return 1;
			}
			if (eio->in_req) {
				kvl_emu_exit_io(vcpu, true, eio->in_port, eio->in_size,
						eio->in_req_count);
				vcpu->emu_pending = EIO_PIO_IN;
				return 1;
			}
			return kvl_emu_failed(vcpu, gpa);
		case KVL_EMU_EXCEPTION:
			/* Earlier iterations of the batch are done: report them first. */
			if (eio->out_count)
				return kvl_emu_flush_out(vcpu, eio);
			if (e->exc.vector == KVL_EMU_PF)
				kvl_ops->set_cr2(vcpu, e->exc.cr2);
			kvl_queue_exception(vcpu, e->exc.vector, e->exc.has_err, e->exc.err);
			return 0;
		default:
			if (eio->out_count)
				return kvl_emu_flush_out(vcpu, eio);
			return kvl_emu_failed(vcpu, gpa);
		}
	}
}

int kvl_emulate(struct kvl_vcpu *vcpu, u64 gpa)
{
	struct kvl_emu_io *eio = vcpu->eio;

	vcpu->emu_pending = EIO_NONE;
	eio->done = false;
	eio->in_count = 0;
	eio->in_pos = 0;
	return kvl_emu_run(vcpu, gpa);
}

/* KVM_TRANSLATE: a supervisor read walk of the guest's page tables, as KVM. */
void kvl_emu_translate(struct kvl_vcpu *vcpu, struct kvm_translation *tr)
{
	struct kvl_emu_io *eio = vcpu->eio;
	u64 gpa = tr->linear_address;
	int r = KVL_EMU_OK;

	kvl_emu_load(vcpu, eio);
	if (eio->e.pg.cr0 & X86_CR0_PG)
		r = kvl_gwalk(&eio->e.pg, tr->linear_address, 0, kvl_emu_read_pte, eio,
			      &gpa, &eio->e.exc);
	tr->physical_address = r ? ~0ULL : gpa;
	tr->valid = !r;
	tr->writeable = 1;
	tr->usermode = 0;
}

/* On KVM_RUN: finish what the last exit asked userspace for. */
int kvl_emu_complete(struct kvl_vcpu *vcpu)
{
	struct kvl_emu_io *eio = vcpu->eio;
	struct kvm_run *run = vcpu->run;
	u32 bytes;

	switch (vcpu->emu_pending) {
	case EIO_MMIO_READ:
		memcpy(eio->done_data, run->mmio.data, eio->done_len);
		eio->done = true;
		eio->in_count = 0;
		break;
	case EIO_PIO_IN:
		bytes = eio->in_req_count * eio->in_size;
		memcpy(eio->in_data, (u8 *)run + KVL_PIO_PAGE * PAGE_SIZE, bytes);
		eio->in_count = eio->in_req_count;
		eio->in_pos = 0;
		eio->done = false;
		break;
	case EIO_CONTINUE:
		eio->done = false;
		break;
	default:
		return 0;
	}
	vcpu->emu_pending = EIO_NONE;
	return kvl_emu_run(vcpu, eio->done ? eio->done_gpa : 0);
}
