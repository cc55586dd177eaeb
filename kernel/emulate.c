// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: the x86 instruction emulator behind MMIO and string port I/O.
 *
 * kvl_emu_step() decodes and executes one instruction (one iteration of a
 * REP string instruction) at e->rip.  It works on a copy of the register
 * file and writes it back only when every access succeeded, so an op can
 * answer KVL_EMU_USER ("ask userspace first") and the same step is simply
 * run again later.  Reads happen before writes in every instruction here,
 * so an aborted step has written nothing either.
 *
 * Covered: MOV (88-8B, A0-A3, C6, C7), MOVZX/MOVSX, MOVSXD, the ALU group
 * (00-3D, 80/81/83), TEST (84/85, A8/A9, F6/F7 /0), XCHG (86/87), NOT/NEG,
 * INC/DEC (FE/FF), MOVS/STOS/LODS and INS/OUTS with REP, with 66/67/REX/
 * segment/LOCK/REP prefixes and all 16-, 32- and 64-bit addressing forms.
 * Segment limits and I/O permission are not checked: the hardware did
 * that before the exit that brought us here.
 */
#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/types.h>
#include <linux/string.h>
#include "emulate.h"

#define FL_CF	0x0001ULL
#define FL_PF	0x0004ULL
#define FL_AF	0x0010ULL
#define FL_ZF	0x0040ULL
#define FL_SF	0x0080ULL
#define FL_DF	0x0400ULL
#define FL_OF	0x0800ULL
#define FL_AC	0x40000ULL
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

#define CR0_PE		0x1ULL
#define CR0_WP		0x10000ULL
#define CR0_PG		0x80000000ULL
#define CR4_PSE		0x10ULL
#define CR4_PAE		0x20ULL
#define CR4_LA57	0x1000ULL
#define CR4_SMEP	0x100000ULL
#define CR4_SMAP	0x200000ULL
#define EFER_LMA	0x400ULL
#define EFER_NX		0x800ULL

#define PTE_P		0x1ULL
#define PTE_RW		0x2ULL
#define PTE_US		0x4ULL
#define PTE_PS		0x80ULL
#define PTE_NX		BIT_ULL(63)
#define PTE_ADDR	0x000ffffffffff000ULL

#define MAX_INSN_LEN	KVL_EMU_MAX_INSN
#define PAGE_SZ		4096ULL

static int pf_fault(struct kvl_emu_exception *exc, u64 la, u32 err)
{
	exc->vector = KVL_EMU_PF;
	exc->has_err = true;
	exc->err = err;
	exc->cr2 = la;
	return KVL_EMU_EXCEPTION;
}

int kvl_gwalk(const struct kvl_emu_paging *pg, u64 la, unsigned int acc,
	      kvl_read_pte_t read_pte, void *ctx, u64 *gpa,
	      struct kvl_emu_exception *exc)
{
	bool write = acc & KVL_ACC_WRITE, user = acc & KVL_ACC_USER;
	bool fetch = acc & KVL_ACC_FETCH, nxe = pg->efer & EFER_NX;
	bool rw = true, us = true, nx = false;
	unsigned int esize, bits, levels, level;
	u64 table, pte, err = 0;
	int r;

	if (!(pg->cr0 & CR0_PG)) {
		*gpa = la & 0xffffffffULL;
		return KVL_EMU_OK;
	}
	if (pg->cr4 & CR4_PAE) {
		esize = 8;
		bits = 9;
		if (pg->efer & EFER_LMA) {
			if (pg->cr4 & CR4_LA57)
				return KVL_EMU_UNHANDLED;
			levels = 4;
			table = pg->cr3 & PTE_ADDR;
		} else {
			la &= 0xffffffffULL;
			table = (pg->cr3 & 0xffffffe0ULL) + ((la >> 30) & 3) * 8;
			r = read_pte(ctx, table, 8, &pte);
			if (r)
				return r;
			if (!(pte & PTE_P))
				goto fault;
			levels = 2;
			table = pte & PTE_ADDR;
		}
	} else {
		esize = 4;
		bits = 10;
		levels = 2;
		la &= 0xffffffffULL;
		table = pg->cr3 & 0xfffff000ULL;
	}

	for (level = levels; ; level--) {
		unsigned int shift = 12 + (level - 1) * bits;
		u64 idx = (la >> shift) & ((1ULL << bits) - 1);

		r = read_pte(ctx, table + idx * esize, esize, &pte);
		if (r)
			return r;
		if (!(pte & PTE_P))
			goto fault;
		if (esize == 8 && (pte & PTE_NX) && !nxe) {
			err |= KVL_PFERR_RSVD;
			goto fault_present;
		}
		rw &= !!(pte & PTE_RW);
		us &= !!(pte & PTE_US);
		if (esize == 8 && (pte & PTE_NX))
			nx = true;
		if (level == 1) {
			*gpa = (pte & (esize == 8 ? PTE_ADDR : 0xfffff000ULL)) | (la & 0xfff);
			break;
		}
		if (pte & PTE_PS) {
			if (esize == 4 && (pg->cr4 & CR4_PSE)) {
				/* A 4M page; PSE-36 puts address bits 32-39 in bits 13-20. */
				*gpa = (pte & 0xffc00000ULL) | (((pte >> 13) & 0xff) << 32) |
				       (la & 0x3fffffULL);
				break;
			}
			if (esize == 8 && level <= 3) {
				u64 size = 1ULL << shift;

				*gpa = (pte & PTE_ADDR & ~(size - 1)) | (la & (size - 1));
				break;
			}
			if (esize == 8) {
				err |= KVL_PFERR_RSVD;
				goto fault_present;
			}
		}
		table = pte & (esize == 8 ? PTE_ADDR : 0xfffff000ULL);
	}

	if (user) {
		if (!us || (write && !rw))
			goto fault_present;
	} else {
		if (write && !rw && (pg->cr0 & CR0_WP))
			goto fault_present;
		if (us && fetch && (pg->cr4 & CR4_SMEP))
			goto fault_present;
		if (us && !fetch && (pg->cr4 & CR4_SMAP) && !(pg->rflags & FL_AC))
			goto fault_present;
	}
	if (fetch && nx)
		goto fault_present;
	return KVL_EMU_OK;

fault_present:
	err |= KVL_PFERR_PRESENT;
fault:
	if (write)
		err |= KVL_PFERR_WRITE;
	if (user)
		err |= KVL_PFERR_USER;
	if (fetch && (nxe || (pg->cr4 & CR4_SMEP)))
		err |= KVL_PFERR_FETCH;
	return pf_fault(exc, la, err);
}

/* One decoded instruction. */
struct insn {
	u8 bytes[MAX_INSN_LEN];
	u8 len, fetched;
	u8 opsz, adsz;		/* bytes */
	u8 rex;
	bool has_rex;
	int seg;		/* override, or -1 */
	u8 rep;			/* 0, 0xf2, 0xf3 */
	u8 op;
	bool twobyte;
	u8 mod, reg, rm;	/* reg and rm with the REX bits */
	bool mem;		/* the ModRM operand is memory */
	int ea_seg;
	u64 ea;
};

static u64 size_mask(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

static u64 sext(u64 v, unsigned int size)
{
	unsigned int sh = 64 - size * 8;

	return size >= 8 ? v : (u64)((s64)(v << sh) >> sh);
}

static u64 le_get(const u8 *p, unsigned int n)
{
	u64 v = 0;

	while (n--)
		v = (v << 8) | p[n];
	return v;
}

static void le_put(u8 *p, u64 v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++, v >>= 8)
		p[i] = v;
}

/* Bring in instruction bytes up to d->len + n: the fetch op, page by page. */
static noinline int fetch_bytes(struct kvl_emu *e, const struct kvl_emu_ops *ops,
				struct insn *d, unsigned int n)
{
	int r;

	if (d->len + n > MAX_INSN_LEN)
		return KVL_EMU_UNHANDLED;	/* #GP on hardware, which got here first */
	while (d->fetched < d->len + n) {
		u64 ip = e->rip + d->fetched, la;
		unsigned int chunk;

		if (e->mode == 2)
			ip &= 0xffff;
		else if (e->mode == 4)
			ip &= 0xffffffffULL;
		la = e->mode == 8 ? ip : (u32)(e->seg_base[KVL_SEG_CS] + ip);
		chunk = PAGE_SZ - (la & (PAGE_SZ - 1));
		if (chunk > MAX_INSN_LEN - d->fetched)
			chunk = MAX_INSN_LEN - d->fetched;
		if (e->mode == 2 && chunk > 0x10000 - ip)
			chunk = 0x10000 - ip;
		r = ops->fetch(e, la, d->bytes + d->fetched, chunk);
		if (r)
			return r;
		d->fetched += chunk;
	}
	return KVL_EMU_OK;
}

/*
 * The next @n instruction bytes.  The first call fetches as much of the
 * 15 as the page allows, so nearly every call is served from d->bytes.
 */
static __always_inline int fetch(struct kvl_emu *e, const struct kvl_emu_ops *ops,
				 struct insn *d, unsigned int n, u64 *val)
{
	int r;

	if (unlikely(d->fetched < d->len + n)) {
		r = fetch_bytes(e, ops, d, n);
		if (r)
			return r;
	}
	*val = le_get(d->bytes + d->len, n);
	d->len += n;
	return KVL_EMU_OK;
}

static u64 reg_get(const struct kvl_emu *e, const struct insn *d, unsigned int r,
		   unsigned int size)
{
	if (size == 1 && !d->has_rex && r >= 4 && r < 8)
		return (e->gpr[r - 4] >> 8) & 0xff;
	return e->gpr[r] & size_mask(size);
}

static void reg_set(struct kvl_emu *e, const struct insn *d, unsigned int r,
		    unsigned int size, u64 v)
{
	u64 *g;

	if (size == 1 && !d->has_rex && r >= 4 && r < 8) {
		g = &e->gpr[r - 4];
		*g = (*g & ~0xff00ULL) | ((v & 0xff) << 8);
		return;
	}
	g = &e->gpr[r];
	if (size == 4)
		*g = (u32)v;
	else
		*g = (*g & ~size_mask(size)) | (v & size_mask(size));
}

/* Write an address-size register (rSI, rDI, rCX): 16 bits merge, 32 zero-extend. */
static void areg_set(struct kvl_emu *e, const struct insn *d, unsigned int r, u64 v)
{
	if (d->adsz == 2)
		e->gpr[r] = (e->gpr[r] & ~0xffffULL) | (v & 0xffff);
	else if (d->adsz == 4)
		e->gpr[r] = (u32)v;
	else
		e->gpr[r] = v;
}

static int linear(struct kvl_emu *e, int seg, u64 off, u64 *la)
{
	if (e->mode != 8) {
		*la = (u32)(e->seg_base[seg] + off);
		return KVL_EMU_OK;
	}
	*la = off;
	if (seg == KVL_SEG_FS || seg == KVL_SEG_GS)
		*la += e->seg_base[seg];
	if ((u64)((s64)(*la << 16) >> 16) != *la) {
		e->exc.vector = seg == KVL_SEG_SS ? KVL_EMU_SS : KVL_EMU_GP;
		e->exc.has_err = true;
		e->exc.err = 0;
		e->exc.cr2 = 0;
		return KVL_EMU_EXCEPTION;
	}
	return KVL_EMU_OK;
}

static int mem_read(struct kvl_emu *e, const struct kvl_emu_ops *ops, int seg, u64 off,
		    unsigned int size, u64 *val)
{
	u8 buf[8];
	u64 la;
	int r;

	r = linear(e, seg, off, &la);
	if (r)
		return r;
	r = ops->read(e, la, buf, size);
	if (r)
		return r;
	*val = le_get(buf, size);
	return KVL_EMU_OK;
}

static int mem_write(struct kvl_emu *e, const struct kvl_emu_ops *ops, int seg, u64 off,
		     unsigned int size, u64 val)
{
	u8 buf[8];
	u64 la;
	int r;

	r = linear(e, seg, off, &la);
	if (r)
		return r;
	le_put(buf, val, size);
	return ops->write(e, la, buf, size);
}

/* ModRM, SIB and displacement; d->ea is final except for RIP-relative forms. */
static int decode_modrm(struct kvl_emu *e, const struct kvl_emu_ops *ops, struct insn *d,
			bool *rip_rel)
{
	static const u8 base16[8][2] = {
		{ KVL_GPR_RBX, KVL_GPR_RSI }, { KVL_GPR_RBX, KVL_GPR_RDI },
		{ KVL_GPR_RBP, KVL_GPR_RSI }, { KVL_GPR_RBP, KVL_GPR_RDI },
		{ KVL_GPR_RSI, 0xff }, { KVL_GPR_RDI, 0xff },
		{ KVL_GPR_RBP, 0xff }, { KVL_GPR_RBX, 0xff },
	};
	u64 modrm, sib, disp = 0;
	int r;

	*rip_rel = false;
	r = fetch(e, ops, d, 1, &modrm);
	if (r)
		return r;
	d->mod = modrm >> 6;
	d->reg = ((modrm >> 3) & 7) | ((d->rex & 4) << 1);
	d->rm = modrm & 7;
	d->mem = d->mod != 3;
	if (!d->mem) {
		d->rm |= (d->rex & 1) << 3;
		return KVL_EMU_OK;
	}
	d->ea_seg = KVL_SEG_DS;

	if (d->adsz == 2) {
		if (d->mod == 0 && d->rm == 6) {
			r = fetch(e, ops, d, 2, &disp);
			if (r)
				return r;
			d->ea = disp;
			return KVL_EMU_OK;
		}
		if (d->mod == 1 || d->mod == 2) {
			r = fetch(e, ops, d, d->mod == 1 ? 1 : 2, &disp);
			if (r)
				return r;
			disp = sext(disp, d->mod == 1 ? 1 : 2);
		}
		d->ea = e->gpr[base16[d->rm][0]] + disp;
		if (base16[d->rm][1] != 0xff)
			d->ea += e->gpr[base16[d->rm][1]];
		if (base16[d->rm][0] == KVL_GPR_RBP)
			d->ea_seg = KVL_SEG_SS;
		d->ea &= 0xffff;
		return KVL_EMU_OK;
	}

	d->ea = 0;
	if (d->rm == 4) {
		unsigned int base, index, scale;

		r = fetch(e, ops, d, 1, &sib);
		if (r)
			return r;
		scale = sib >> 6;
		index = ((sib >> 3) & 7) | ((d->rex & 2) << 2);
		base = (sib & 7) | ((d->rex & 1) << 3);
		if (index != 4)
			d->ea += e->gpr[index] << scale;
		if ((base & 7) == 5 && d->mod == 0) {
			r = fetch(e, ops, d, 4, &disp);
			if (r)
				return r;
			d->ea += sext(disp, 4);
		} else {
			d->ea += e->gpr[base];
			if ((base & 7) == 4 || (base & 7) == 5)
				d->ea_seg = KVL_SEG_SS;
		}
	} else if (d->rm == 5 && d->mod == 0) {
		r = fetch(e, ops, d, 4, &disp);
		if (r)
			return r;
		d->ea = sext(disp, 4);
		*rip_rel = e->mode == 8;
	} else {
		unsigned int base = d->rm | ((d->rex & 1) << 3);

		d->ea = e->gpr[base];
		if ((base & 7) == 5)
			d->ea_seg = KVL_SEG_SS;
	}
	if (d->mod == 1 || d->mod == 2) {
		r = fetch(e, ops, d, d->mod == 1 ? 1 : 4, &disp);
		if (r)
			return r;
		d->ea += sext(disp, d->mod == 1 ? 1 : 4);
	}
	if (d->adsz == 4)
		d->ea = (u32)d->ea;
	return KVL_EMU_OK;
}

static bool parity(u64 v)
{
	v &= 0xff;
	v ^= v >> 4;
	v ^= v >> 2;
	v ^= v >> 1;
	return !(v & 1);
}

enum { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP };

static void set_szp(u64 *fl, u64 res, unsigned int size)
{
	res &= size_mask(size);
	if (!res)
		*fl |= FL_ZF;
	if (res >> (size * 8 - 1))
		*fl |= FL_SF;
	if (parity(res))
		*fl |= FL_PF;
}

/* The eight group-1 operations, flags as the hardware computes them. */
static u64 alu(u64 *rflags, unsigned int op, u64 a, u64 b, unsigned int size)
{
	u64 m = size_mask(size), sign = 1ULL << (size * 8 - 1);
	u64 c = 0, res, fl = *rflags & ~FL_ARITH;

	a &= m;
	b &= m;
	switch (op) {
	case ALU_ADC:
		c = *rflags & FL_CF;
		fallthrough;
	case ALU_ADD:
		res = (a + b + c) & m;
		if (res < a || (c && res == a))
			fl |= FL_CF;
		if ((a ^ res) & (b ^ res) & sign)
			fl |= FL_OF;
		fl |= (a ^ b ^ res) & FL_AF;
		break;
	case ALU_SBB:
		c = *rflags & FL_CF;
		fallthrough;
	case ALU_SUB:
	case ALU_CMP:
		res = (a - b - c) & m;
		if (a < b || (c && a == b))
			fl |= FL_CF;
		if ((a ^ b) & (a ^ res) & sign)
			fl |= FL_OF;
		fl |= (a ^ b ^ res) & FL_AF;
		break;
	case ALU_AND:
		res = a & b;
		break;
	case ALU_OR:
		res = a | b;
		break;
	default:
		res = a ^ b;
		break;
	}
	set_szp(&fl, res, size);
	*rflags = fl;
	return res;
}

/* INC/DEC: ADD/SUB 1 that leave CF alone. */
static u64 incdec(u64 *rflags, bool dec, u64 a, unsigned int size)
{
	u64 cf = *rflags & FL_CF, res;

	res = alu(rflags, dec ? ALU_SUB : ALU_ADD, a, 1, size);
	*rflags = (*rflags & ~FL_CF) | cf;
	return res;
}

/* The r/m operand. */
static int rm_get(struct kvl_emu *e, const struct kvl_emu_ops *ops, struct insn *d,
		  unsigned int size, u64 *v)
{
	if (!d->mem) {
		*v = reg_get(e, d, d->rm, size);
		return KVL_EMU_OK;
	}
	return mem_read(e, ops, d->seg >= 0 ? d->seg : d->ea_seg, d->ea, size, v);
}

static int rm_set(struct kvl_emu *e, const struct kvl_emu_ops *ops, struct insn *d,
		  unsigned int size, u64 v)
{
	if (!d->mem) {
		reg_set(e, d, d->rm, size, v);
		return KVL_EMU_OK;
	}
	return mem_write(e, ops, d->seg >= 0 ? d->seg : d->ea_seg, d->ea, size, v);
}

static int imm(struct kvl_emu *e, const struct kvl_emu_ops *ops, struct insn *d,
	       unsigned int size, u64 *v)
{
	int r = fetch(e, ops, d, size > 4 ? 4 : size, v);

	if (!r && size > 4)
		*v = sext(*v, 4);
	return r;
}

/* MOVS, STOS, LODS, INS, OUTS: one element, then the REP bookkeeping. */
static int string_op(struct kvl_emu *e, const struct kvl_emu_ops *ops, struct insn *d,
		     u64 next_rip)
{
	unsigned int size = (d->op & 1) ? d->opsz : 1;
	int src_seg = d->seg >= 0 ? d->seg : KVL_SEG_DS;
	u64 am = size_mask(d->adsz), count = 0, v = 0;
	u64 si = e->gpr[KVL_GPR_RSI] & am, di = e->gpr[KVL_GPR_RDI] & am;
	bool use_si = false, use_di = false;
	u16 port = e->gpr[KVL_GPR_RDX];
	int r;

	if (d->rep) {
		count = e->gpr[KVL_GPR_RCX] & am;
		if (!count) {
			e->rip = next_rip;
			return KVL_EMU_OK;
		}
	}
	switch (d->op) {
	case 0x6c: case 0x6d:	/* INS */
		if (size > 4)
			size = 4;
		r = ops->pio_in(e, port, size, d->rep ? count : 1, &v);
		if (!r)
			r = mem_write(e, ops, KVL_SEG_ES, di, size, v);
		use_di = true;
		break;
	case 0x6e: case 0x6f:	/* OUTS */
		if (size > 4)
			size = 4;
		r = mem_read(e, ops, src_seg, si, size, &v);
		if (!r) {
			u8 buf[4];

			le_put(buf, v, size);
			r = ops->pio_out(e, port, size, buf);
		}
		use_si = true;
		break;
	case 0xa4: case 0xa5:	/* MOVS */
		r = mem_read(e, ops, src_seg, si, size, &v);
		if (!r)
			r = mem_write(e, ops, KVL_SEG_ES, di, size, v);
		use_si = true;
		use_di = true;
		break;
	case 0xaa: case 0xab:	/* STOS */
		r = mem_write(e, ops, KVL_SEG_ES, di, size, e->gpr[KVL_GPR_RAX]);
		use_di = true;
		break;
	default:		/* LODS */
		r = mem_read(e, ops, src_seg, si, size, &v);
		if (!r)
			reg_set(e, d, KVL_GPR_RAX, size, v);
		use_si = true;
		break;
	}
	if (r)
		return r;
	if (use_si)
		areg_set(e, d, KVL_GPR_RSI, (e->rflags & FL_DF) ? si - size : si + size);
	if (use_di)
		areg_set(e, d, KVL_GPR_RDI, (e->rflags & FL_DF) ? di - size : di + size);
	if (d->rep) {
		areg_set(e, d, KVL_GPR_RCX, count - 1);
		if (count - 1)
			return KVL_EMU_OK;	/* RIP stays on the instruction */
	}
	e->rip = next_rip;
	return KVL_EMU_OK;
}

static bool has_modrm(const struct insn *d)
{
	u8 op = d->op;

	if (d->twobyte)
		return true;
	if (op < 0x40)
		return (op & 7) < 4;
	return op == 0x63 || (op >= 0x80 && op <= 0x8b && op != 0x82) ||
	       op == 0xc6 || op == 0xc7 || op == 0xf6 || op == 0xf7 ||
	       op == 0xfe || op == 0xff;
}

/* Byte forms: the even opcode of each pair (and the ALU's 0x?0/0x?2/0x?4). */
static bool is_byte_form(u8 op)
{
	if (op < 0x40)
		return !(op & 1);
	return op == 0x80 || op == 0x84 || op == 0x86 || op == 0x88 || op == 0x8a ||
	       op == 0xa0 || op == 0xa2 || op == 0xa8 || op == 0xc6 || op == 0xf6 ||
	       op == 0xfe;
}

static bool is_string(u8 op)
{
	return (op >= 0x6c && op <= 0x6f) || op == 0xa4 || op == 0xa5 ||
	       (op >= 0xaa && op <= 0xad);
}

static int execute(struct kvl_emu *e, const struct kvl_emu_ops *ops, struct insn *d)
{
	unsigned int size = d->opsz, op = d->op;
	u64 a, b, res, next_rip;
	bool rip_rel = false;
	int r;

	if (d->twobyte && op != 0xb6 && op != 0xb7 && op != 0xbe && op != 0xbf)
		return KVL_EMU_UNHANDLED;
	if (!d->twobyte && op < 0x40 && (op & 7) >= 6)
		return KVL_EMU_UNHANDLED;	/* segment push/pop, BCD adjust */
	if (has_modrm(d)) {
		r = decode_modrm(e, ops, d, &rip_rel);
		if (r)
			return r;
	}
	if (!d->twobyte && is_byte_form(op))
		size = 1;

	/* Immediates and moffs, then everything is fetched. */
	b = 0;
	if (!d->twobyte) {
		if ((op < 0x40 && (op & 7) == 4) || op == 0x80 || op == 0x83 ||
		    op == 0xa8 || op == 0xc6) {
			r = fetch(e, ops, d, 1, &b);
			if (!r && op == 0x83)
				b = sext(b, 1);
		} else if ((op < 0x40 && (op & 7) == 5) || op == 0x81 || op == 0xa9 ||
			   op == 0xc7) {
			r = imm(e, ops, d, size, &b);
		} else if (op >= 0xa0 && op <= 0xa3) {
			r = fetch(e, ops, d, d->adsz, &d->ea);
			d->ea_seg = KVL_SEG_DS;
			d->mem = true;
		} else if ((op == 0xf6 || op == 0xf7) && (d->reg & 7) == 0) {
			r = imm(e, ops, d, size, &b);
		} else {
			r = KVL_EMU_OK;
		}
		if (r)
			return r;
	}
	next_rip = e->rip + d->len;
	if (e->mode == 2)
		next_rip &= 0xffff;
	else if (e->mode == 4)
		next_rip &= 0xffffffffULL;
	if (rip_rel) {
		d->ea += next_rip;
		if (d->adsz == 4)
			d->ea = (u32)d->ea;
	}

	if (d->twobyte) {
		unsigned int ssize = (op & 1) ? 2 : 1;

		r = rm_get(e, ops, d, ssize, &a);
		if (r)
			return r;
		if (op >= 0xbe)
			a = sext(a, ssize);
		reg_set(e, d, d->reg, size, a);
		goto done;
	}

	if (op < 0x40) {
		unsigned int aop = op >> 3;

		if ((op & 7) >= 4) {		/* AL/eAX, imm */
			a = reg_get(e, d, KVL_GPR_RAX, size);
			res = alu(&e->rflags, aop, a, b, size);
			if (aop != ALU_CMP)
				reg_set(e, d, KVL_GPR_RAX, size, res);
			goto done;
		}
		r = rm_get(e, ops, d, size, &a);
		if (r)
			return r;
		b = reg_get(e, d, d->reg, size);
		if (op & 2) {			/* G, E */
			res = alu(&e->rflags, aop, b, a, size);
			if (aop != ALU_CMP)
				reg_set(e, d, d->reg, size, res);
			goto done;
		}
		res = alu(&e->rflags, aop, a, b, size);
		if (aop != ALU_CMP) {
			r = rm_set(e, ops, d, size, res);
			if (r)
				return r;
		}
		goto done;
	}

	if (is_string(op))
		return string_op(e, ops, d, next_rip);

	switch (op) {
	case 0x63:			/* MOVSXD (64-bit mode only) */
		if (e->mode != 8)
			return KVL_EMU_UNHANDLED;
		r = rm_get(e, ops, d, size == 8 ? 4 : size, &a);
		if (r)
			return r;
		reg_set(e, d, d->reg, size, size == 8 ? sext(a, 4) : a);
		break;
	case 0x80: case 0x81: case 0x83:
		r = rm_get(e, ops, d, size, &a);
		if (r)
			return r;
		res = alu(&e->rflags, d->reg & 7, a, b, size);
		if ((d->reg & 7) != ALU_CMP) {
			r = rm_set(e, ops, d, size, res);
			if (r)
				return r;
		}
		break;
	case 0x84: case 0x85:
		r = rm_get(e, ops, d, size, &a);
		if (r)
			return r;
		alu(&e->rflags, ALU_AND, a, reg_get(e, d, d->reg, size), size);
		break;
	case 0x86: case 0x87:
		r = rm_get(e, ops, d, size, &a);
		if (r)
			return r;
		r = rm_set(e, ops, d, size, reg_get(e, d, d->reg, size));
		if (r)
			return r;
		reg_set(e, d, d->reg, size, a);
		break;
	case 0x88: case 0x89:
		r = rm_set(e, ops, d, size, reg_get(e, d, d->reg, size));
		if (r)
			return r;
		break;
	case 0x8a: case 0x8b:
		r = rm_get(e, ops, d, size, &a);
		if (r)
			return r;
		reg_set(e, d, d->reg, size, a);
		break;
	case 0xa0: case 0xa1:
		r = mem_read(e, ops, d->seg >= 0 ? d->seg : KVL_SEG_DS, d->ea, size, &a);
		if (r)
			return r;
		reg_set(e, d, KVL_GPR_RAX, size, a);
		break;
	case 0xa2: case 0xa3:
		r = mem_write(e, ops, d->seg >= 0 ? d->seg : KVL_SEG_DS, d->ea, size,
			      e->gpr[KVL_GPR_RAX]);
		if (r)
			return r;
		break;
	case 0xa8: case 0xa9:
		alu(&e->rflags, ALU_AND, reg_get(e, d, KVL_GPR_RAX, size), b, size);
		break;
	case 0xc6: case 0xc7:
		if (d->reg & 7)
			return KVL_EMU_UNHANDLED;
		r = rm_set(e, ops, d, size, b);
		if (r)
			return r;
		break;
	case 0xf6: case 0xf7:
		switch (d->reg & 7) {
		case 0:			/* TEST r/m, imm */
			r = rm_get(e, ops, d, size, &a);
			if (r)
				return r;
			alu(&e->rflags, ALU_AND, a, b, size);
			break;
		case 2:			/* NOT */
			r = rm_get(e, ops, d, size, &a);
			if (!r)
				r = rm_set(e, ops, d, size, ~a);
			if (r)
				return r;
			break;
		case 3:			/* NEG */
			r = rm_get(e, ops, d, size, &a);
			if (r)
				return r;
			res = alu(&e->rflags, ALU_SUB, 0, a, size);
			r = rm_set(e, ops, d, size, res);
			if (r)
				return r;
			break;
		default:
			return KVL_EMU_UNHANDLED;
		}
		break;
	case 0xfe: case 0xff:
		if ((d->reg & 7) > 1)
			return KVL_EMU_UNHANDLED;
		r = rm_get(e, ops, d, size, &a);
		if (r)
			return r;
		r = rm_set(e, ops, d, size, incdec(&e->rflags, d->reg & 1, a, size));
		if (r)
			return r;
		break;
	default:
		return KVL_EMU_UNHANDLED;
	}
done:
	e->rip = next_rip;
	return KVL_EMU_OK;
}

static int decode_prefixes(struct kvl_emu *e, const struct kvl_emu_ops *ops, struct insn *d)
{
	u64 b;
	int r;

	d->seg = -1;
	d->opsz = e->mode == 2 ? 2 : 4;
	d->adsz = e->mode;
	for (;;) {
		r = fetch(e, ops, d, 1, &b);
		if (r)
			return r;
		switch (b) {
		case 0x66:
			d->opsz = e->mode == 2 ? 4 : 2;
			break;
		case 0x67:
			d->adsz = e->mode == 4 ? 2 : 4;
			break;
		case 0x26: case 0x2e: case 0x36: case 0x3e:
			d->seg = (b >> 3) & 3;
			break;
		case 0x64: case 0x65:
			d->seg = b - 0x64 + KVL_SEG_FS;
			break;
		case 0xf2: case 0xf3:
			d->rep = b;
			break;
		case 0xf0:		/* LOCK: one access at a time here anyway */
			break;
		default:
			if (e->mode != 8 || (b & 0xf0) != 0x40)
				goto opcode;
			d->has_rex = true;
			d->rex = b;
			continue;
		}
		/* REX counts only right before the opcode. */
		d->has_rex = false;
		d->rex = 0;
	}
opcode:
	if (d->rex & 8)
		d->opsz = 8;
	if (b == 0x0f) {
		d->twobyte = true;
		r = fetch(e, ops, d, 1, &b);
		if (r)
			return r;
	}
	d->op = b;
	return KVL_EMU_OK;
}

int kvl_emu_step(struct kvl_emu *e, const struct kvl_emu_ops *ops)
{
	u64 gpr[KVL_EMU_NR_GPRS], rip = e->rip, rflags = e->rflags;
	struct insn d;
	int r;

	if (e->mode != 2 && e->mode != 4 && e->mode != 8)
		return KVL_EMU_UNHANDLED;
	memset(&d, 0, sizeof(d));
	memcpy(gpr, e->gpr, sizeof(gpr));
	r = decode_prefixes(e, ops, &d);
	if (!r)
		r = execute(e, ops, &d);
	if (r) {
		memcpy(e->gpr, gpr, sizeof(gpr));
		e->rip = rip;
		e->rflags = rflags;
		return r;
	}
	e->insn_len = d.len;
	return KVL_EMU_OK;
}
