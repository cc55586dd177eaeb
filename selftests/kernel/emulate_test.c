// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of kernel/emulate.c: decode and execute instructions
 * against a fake machine (code, a little RAM, an MMIO window, ports), the
 * ALU against this CPU's own results, and the guest page-table walker.
 */
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "../../kernel/emulate.h"

#define CODE_LA		0x1000ULL
#define RAM_LA		0x10000ULL
#define RAM_SIZE	0x10000ULL
#define MMIO_LA		0xd0000000ULL
#define MMIO_SIZE	0x1000ULL
#define MMIO2_LA	0x70000000ULL	/* in reach of a RIP-relative disp32 */

struct acc {
	u64 la;
	unsigned int len;
	bool write;
	u64 data;
};

/* The fake machine behind the ops. */
struct env {
	u8 code[32];
	u8 ram[RAM_SIZE];
	/* MMIO: every access is logged; a read waits for 'ready'. */
	struct acc acc[8];
	int nacc;
	bool ready;
	u64 data;
	int user_exits;
	/* Ports. */
	u16 port;
	unsigned int pio_size;
	u64 pio_count;
	u64 in_val;
	bool in_ready;
	u64 out_val[8];
	int nout;
	/* Paging tests: guest-physical memory. */
	u8 *phys;
	u64 phys_size;
};

static int env_mem(struct env *v, u64 la, void *buf, unsigned int len, bool write, bool code)
{
	if (code) {
		if (la < CODE_LA || la + len > CODE_LA + sizeof(v->code))
			return KVL_EMU_UNHANDLED;
		memcpy(buf, v->code + (la - CODE_LA), len);
		return KVL_EMU_OK;
	}
	if (la >= RAM_LA && la + len <= RAM_LA + RAM_SIZE) {
		if (write)
			memcpy(v->ram + (la - RAM_LA), buf, len);
		else
			memcpy(buf, v->ram + (la - RAM_LA), len);
		return KVL_EMU_OK;
	}
	if (((la >= MMIO_LA && la + len <= MMIO_LA + MMIO_SIZE) ||
	     (la >= MMIO2_LA && la + len <= MMIO2_LA + MMIO_SIZE)) && len <= 8) {
		struct acc *a;

		if (v->nacc >= 8)
			return KVL_EMU_UNHANDLED;
		a = &v->acc[v->nacc];
		if (!write) {
			if (!v->ready) {
				v->user_exits++;
				return KVL_EMU_USER;
			}
			v->ready = false;
			memcpy(buf, &v->data, len);
		}
		a->la = la;
		a->len = len;
		a->write = write;
		a->data = 0;
		memcpy(&a->data, buf, len);
		v->nacc++;
		return KVL_EMU_OK;
	}
	return KVL_EMU_UNHANDLED;
}

static int op_fetch(struct kvl_emu *e, u64 la, void *buf, unsigned int len)
{
	return env_mem(e->ctx, la, buf, len, false, true);
}

static int op_read(struct kvl_emu *e, u64 la, void *buf, unsigned int len)
{
	return env_mem(e->ctx, la, buf, len, false, false);
}

static int op_write(struct kvl_emu *e, u64 la, const void *buf, unsigned int len)
{
	return env_mem(e->ctx, la, (void *)buf, len, true, false);
}

static int op_in(struct kvl_emu *e, u16 port, unsigned int size, u64 count, void *val)
{
	struct env *v = e->ctx;

	v->port = port;
	v->pio_size = size;
	v->pio_count = count;
	if (!v->in_ready) {
		v->user_exits++;
		return KVL_EMU_USER;
	}
	v->in_ready = false;
	memcpy(val, &v->in_val, size);
	return KVL_EMU_OK;
}

static int op_out(struct kvl_emu *e, u16 port, unsigned int size, const void *val)
{
	struct env *v = e->ctx;

	if (v->nout >= 8)
		return KVL_EMU_UNHANDLED;
	v->port = port;
	v->pio_size = size;
	v->out_val[v->nout] = 0;
	memcpy(&v->out_val[v->nout++], val, size);
	return KVL_EMU_OK;
}

static const struct kvl_emu_ops env_ops = {
	.fetch = op_fetch, .read = op_read, .write = op_write,
	.pio_in = op_in, .pio_out = op_out,
};

struct reg_val {
	int reg;
	u64 val;
};

struct emu_case {
	const char *name;
	u8 mode;
	const char *code;
	unsigned int len;
	struct reg_val in[4];
	u64 rflags;
	u64 seg_base[KVL_EMU_NR_SEGS];
	u64 data;		/* what an MMIO read or IN returns */
	int result;
	int naccs;
	struct acc accs[2];
	struct reg_val out[4];	/* registers that change; others must not */
	u64 rflags_out;		/* compared under rflags_mask */
	u64 rflags_mask;
	int rip_delta;		/* 0: the whole instruction */
	bool rip_stays;
};

#define C(s) .code = s, .len = sizeof(s) - 1
#define CF 0x1ULL
#define PF 0x4ULL
#define AF 0x10ULL
#define ZF 0x40ULL
#define SF 0x80ULL
#define DF 0x400ULL
#define OF 0x800ULL
#define ARITH (CF | PF | AF | ZF | SF | OF)

static const struct emu_case cases[] = {
	{ "mov_store32", 8, C("\x89\x03"),
	  .in = { { KVL_GPR_RAX, 0x1122334455667788ULL }, { KVL_GPR_RBX, MMIO_LA + 8 } },
	  .naccs = 1, .accs = { { MMIO_LA + 8, 4, true, 0x55667788 } } },
	{ "mov_load64_riprel", 8, C("\x48\x8b\x05\x09\xf0\xff\x6f"),
	  /* The next RIP, 0x1007, plus 0x6ffff009. */
	  .data = 0xfedcba9876543210ULL,
	  .naccs = 1, .accs = { { MMIO2_LA + 0x10, 8, false, 0xfedcba9876543210ULL } },
	  .out = { { KVL_GPR_RAX, 0xfedcba9876543210ULL } } },
	{ "movzx_sib", 8, C("\x0f\xb6\x4c\xbe\x08"),
	  .in = { { KVL_GPR_RSI, MMIO_LA }, { KVL_GPR_RDI, 3 }, { KVL_GPR_RCX, ~0ULL } },
	  .data = 0xf0,
	  .naccs = 1, .accs = { { MMIO_LA + 20, 1, false, 0xf0 } },
	  .out = { { KVL_GPR_RCX, 0xf0 } } },
	{ "movsx_word_to_64", 8, C("\x48\x0f\xbf\x10"),
	  .in = { { KVL_GPR_RAX, MMIO_LA } }, .data = 0x8001,
	  .naccs = 1, .accs = { { MMIO_LA, 2, false, 0x8001 } },
	  .out = { { KVL_GPR_RDX, 0xffffffffffff8001ULL } } },
	{ "movsxd", 8, C("\x48\x63\x03"),
	  .in = { { KVL_GPR_RBX, MMIO_LA } }, .data = 0x80000000,
	  .naccs = 1, .accs = { { MMIO_LA, 4, false, 0x80000000 } },
	  .out = { { KVL_GPR_RAX, 0xffffffff80000000ULL } } },
	{ "mov_imm8", 8, C("\xc6\x03\x5a"),
	  .in = { { KVL_GPR_RBX, MMIO_LA } },
	  .naccs = 1, .accs = { { MMIO_LA, 1, true, 0x5a } } },
	{ "mov_imm32_sext64", 8, C("\x48\xc7\x43\x10\xfe\xff\xff\xff"),
	  .in = { { KVL_GPR_RBX, MMIO_LA } },
	  .naccs = 1, .accs = { { MMIO_LA + 0x10, 8, true, 0xfffffffffffffffeULL } } },
	{ "moffs64", 8, C("\xa1\x00\x00\x00\xd0\x00\x00\x00\x00"),
	  .in = { { KVL_GPR_RAX, ~0ULL } }, .data = 0xabcd1234,
	  .naccs = 1, .accs = { { MMIO_LA, 4, false, 0xabcd1234 } },
	  .out = { { KVL_GPR_RAX, 0xabcd1234 } } },
	{ "mov_ah", 8, C("\x8a\x23"),
	  .in = { { KVL_GPR_RAX, 0x1111 }, { KVL_GPR_RBX, MMIO_LA } }, .data = 0x99,
	  .naccs = 1, .accs = { { MMIO_LA, 1, false, 0x99 } },
	  .out = { { KVL_GPR_RAX, 0x9911 } } },
	{ "mov_spl_rex", 8, C("\x40\x8a\x23"),
	  .in = { { KVL_GPR_RSP, 0x1111 }, { KVL_GPR_RBX, MMIO_LA } }, .data = 0x99,
	  .naccs = 1, .accs = { { MMIO_LA, 1, false, 0x99 } },
	  .out = { { KVL_GPR_RSP, 0x1199 } } },
	{ "rex_r9_sib_r12_r13", 8, C("\x4f\x89\x0c\xec"),
	  .in = { { KVL_GPR_R9, 0x0102030405060708ULL }, { KVL_GPR_R12, MMIO_LA },
		  { KVL_GPR_R13, 2 } },
	  .naccs = 1, .accs = { { MMIO_LA + 16, 8, true, 0x0102030405060708ULL } } },
	{ "movsx_r10d", 8, C("\x44\x0f\xbe\x13"),
	  .in = { { KVL_GPR_RBX, MMIO_LA }, { KVL_GPR_R10, ~0ULL } }, .data = 0x80,
	  .naccs = 1, .accs = { { MMIO_LA, 1, false, 0x80 } },
	  .out = { { KVL_GPR_R10, 0xffffff80 } } },
	{ "xchg", 8, C("\x87\x0b"),
	  .in = { { KVL_GPR_RCX, 0xaaaaaaaa5555aaaaULL }, { KVL_GPR_RBX, MMIO_LA } },
	  .data = 0x12345678,
	  .naccs = 2, .accs = { { MMIO_LA, 4, false, 0x12345678 },
				{ MMIO_LA, 4, true, 0x5555aaaa } },
	  .out = { { KVL_GPR_RCX, 0x12345678 } } },
	{ "test_imm8", 8, C("\xf6\x03\x80"),
	  .in = { { KVL_GPR_RBX, MMIO_LA } }, .data = 0x81, .rflags = 2 | ZF | CF,
	  .naccs = 1, .accs = { { MMIO_LA, 1, false, 0x81 } },
	  .rflags_out = 2 | SF, .rflags_mask = ~AF },
	{ "cmp_imm8_no_write", 8, C("\x83\x3b\x05"),
	  .in = { { KVL_GPR_RBX, MMIO_LA } }, .data = 5, .rflags = 2,
	  .naccs = 1, .accs = { { MMIO_LA, 4, false, 5 } },
	  .rflags_out = 2 | ZF | PF, .rflags_mask = ~0ULL },
	{ "lock_add", 8, C("\xf0\x01\x03"),
	  .in = { { KVL_GPR_RAX, 1 }, { KVL_GPR_RBX, MMIO_LA } }, .data = 0xffffffff,
	  .rflags = 2,
	  .naccs = 2, .accs = { { MMIO_LA, 4, false, 0xffffffff }, { MMIO_LA, 4, true, 0 } },
	  .rflags_out = 2 | ZF | PF | CF | AF, .rflags_mask = ~0ULL },
	{ "not64", 8, C("\x48\xf7\x13"),
	  .in = { { KVL_GPR_RBX, MMIO_LA } }, .data = 0xff00, .rflags = 2 | CF,
	  .naccs = 2, .accs = { { MMIO_LA, 8, false, 0xff00 },
				{ MMIO_LA, 8, true, 0xffffffffffff00ffULL } },
	  .rflags_out = 2 | CF, .rflags_mask = ~0ULL },
	{ "neg16", 8, C("\x66\xf7\x1b"),
	  .in = { { KVL_GPR_RBX, MMIO_LA } }, .data = 1, .rflags = 2,
	  .naccs = 2, .accs = { { MMIO_LA, 2, false, 1 }, { MMIO_LA, 2, true, 0xffff } },
	  .rflags_out = 2 | CF | SF | PF | AF, .rflags_mask = ~0ULL },
	{ "lodsw", 8, C("\x66\xad"),
	  .in = { { KVL_GPR_RSI, MMIO_LA }, { KVL_GPR_RAX, 0x11112222 } }, .data = 0xbeef,
	  .naccs = 1, .accs = { { MMIO_LA, 2, false, 0xbeef } },
	  .out = { { KVL_GPR_RAX, 0x1111beef }, { KVL_GPR_RSI, MMIO_LA + 2 } } },
	{ "div_unhandled", 8, C("\xf7\x33"), .in = { { KVL_GPR_RBX, MMIO_LA } },
	  .result = KVL_EMU_UNHANDLED },
	{ "ud2_unhandled", 8, C("\x0f\x0b"), .result = KVL_EMU_UNHANDLED },
	{ "noncanonical_gp", 8, C("\x89\x03"),
	  .in = { { KVL_GPR_RBX, 0x0000800000000000ULL } }, .result = KVL_EMU_EXCEPTION },
	{ "fs_override64", 8, C("\x64\x89\x18"),
	  .in = { { KVL_GPR_RAX, 0x10 }, { KVL_GPR_RBX, 7 } },
	  .seg_base = { [KVL_SEG_FS] = MMIO_LA },
	  .naccs = 1, .accs = { { MMIO_LA + 0x10, 4, true, 7 } } },
	{ "ds_base_ignored64", 8, C("\x89\x18"),
	  .in = { { KVL_GPR_RAX, MMIO_LA }, { KVL_GPR_RBX, 7 } },
	  .seg_base = { [KVL_SEG_DS] = 0x1000 },
	  .naccs = 1, .accs = { { MMIO_LA, 4, true, 7 } } },

	{ "rex_w_beats_66", 8, C("\x66\x48\x89\x03"),
	  .in = { { KVL_GPR_RAX, 0x1122334455667788ULL }, { KVL_GPR_RBX, MMIO_LA } },
	  .naccs = 1, .accs = { { MMIO_LA, 8, true, 0x1122334455667788ULL } } },
	{ "rex_before_66_is_dropped", 8, C("\x48\x66\x89\x03"),
	  .in = { { KVL_GPR_RAX, 0x1122334455667788ULL }, { KVL_GPR_RBX, MMIO_LA } },
	  .naccs = 1, .accs = { { MMIO_LA, 2, true, 0x7788 } } },
	{ "movsb_fs_source", 8, C("\x64\xa4"),
	  .in = { { KVL_GPR_RSI, 0x20 }, { KVL_GPR_RDI, MMIO_LA + 0x40 } },
	  .seg_base = { [KVL_SEG_FS] = MMIO_LA, [KVL_SEG_ES] = 0x1000 }, .data = 0x3c,
	  .naccs = 2, .accs = { { MMIO_LA + 0x20, 1, false, 0x3c },
				{ MMIO_LA + 0x40, 1, true, 0x3c } },
	  .out = { { KVL_GPR_RSI, 0x21 }, { KVL_GPR_RDI, MMIO_LA + 0x41 } } },
	{ "grp1_82_unhandled64", 8, C("\x82\x03\x01"),
	  .in = { { KVL_GPR_RBX, MMIO_LA } }, .result = KVL_EMU_UNHANDLED },

	/* 32-bit code. */
	{ "moffs32_byte", 4, C("\xa0\x10\x00\x00\xd0"), .data = 0x42,
	  .in = { { KVL_GPR_RAX, 0xffffffff } },
	  .naccs = 1, .accs = { { MMIO_LA + 0x10, 1, false, 0x42 } },
	  .out = { { KVL_GPR_RAX, 0xffffff42 } } },
	{ "fs_override32", 4, C("\x64\x89\x18"),
	  .in = { { KVL_GPR_RAX, 0x10 }, { KVL_GPR_RBX, 7 } },
	  .seg_base = { [KVL_SEG_FS] = MMIO_LA, [KVL_SEG_DS] = 0x5000 },
	  .naccs = 1, .accs = { { MMIO_LA + 0x10, 4, true, 7 } } },
	{ "la_wraps_32", 4, C("\x89\x18"),
	  .in = { { KVL_GPR_RAX, 0x10 }, { KVL_GPR_RBX, 7 } },
	  .seg_base = { [KVL_SEG_DS] = MMIO_LA + 0x100000000ULL },
	  .naccs = 1, .accs = { { MMIO_LA + 0x10, 4, true, 7 } } },
	{ "push_es_unhandled", 4, C("\x06"), .result = KVL_EMU_UNHANDLED },
	{ "add_imm32", 4, C("\x81\x03\x01\x00\x00\x80"),
	  .in = { { KVL_GPR_RBX, MMIO_LA } }, .data = 0x7fffffff, .rflags = 2,
	  .naccs = 2, .accs = { { MMIO_LA, 4, false, 0x7fffffff }, { MMIO_LA, 4, true, 0 } },
	  .rflags_out = 2 | ZF | PF | CF | AF, .rflags_mask = ~0ULL },
	{ "rep_stosd_first", 4, C("\xf3\xab"),
	  .in = { { KVL_GPR_RCX, 3 }, { KVL_GPR_RDI, 0x100 }, { KVL_GPR_RAX, 0xcafe } },
	  .seg_base = { [KVL_SEG_ES] = MMIO_LA, [KVL_SEG_DS] = 0x5000 },
	  .naccs = 1, .accs = { { MMIO_LA + 0x100, 4, true, 0xcafe } },
	  .out = { { KVL_GPR_RCX, 2 }, { KVL_GPR_RDI, 0x104 } }, .rip_stays = true },
	{ "rep_stosd_last", 4, C("\xf3\xab"),
	  .in = { { KVL_GPR_RCX, 1 }, { KVL_GPR_RDI, 0x100 }, { KVL_GPR_RAX, 0xcafe } },
	  .seg_base = { [KVL_SEG_ES] = MMIO_LA },
	  .naccs = 1, .accs = { { MMIO_LA + 0x100, 4, true, 0xcafe } },
	  .out = { { KVL_GPR_RCX, 0 }, { KVL_GPR_RDI, 0x104 } } },
	{ "rep_zero_count", 4, C("\xf3\xab"),
	  .in = { { KVL_GPR_RCX, 0xffff00000000ULL }, { KVL_GPR_RDI, 0x100 } } },
	{ "rep_movsb_down", 4, C("\xf3\xa4"), .rflags = 2 | DF,
	  .in = { { KVL_GPR_RCX, 5 }, { KVL_GPR_RSI, MMIO_LA + 4 }, { KVL_GPR_RDI, RAM_LA + 9 } },
	  .data = 0x77,
	  .naccs = 1, .accs = { { MMIO_LA + 4, 1, false, 0x77 } },
	  .out = { { KVL_GPR_RCX, 4 }, { KVL_GPR_RSI, MMIO_LA + 3 }, { KVL_GPR_RDI, RAM_LA + 8 } },
	  .rip_stays = true },

	/* 16-bit code. */
	{ "rm_bp_si_ss", 2, C("\x89\x42\x04"),
	  .in = { { KVL_GPR_RAX, 0xabcd }, { KVL_GPR_RBP, 0xfff0 }, { KVL_GPR_RSI, 0x10 } },
	  .seg_base = { [KVL_SEG_SS] = MMIO_LA, [KVL_SEG_DS] = 0x5000 },
	  .naccs = 1, .accs = { { MMIO_LA + 4, 2, true, 0xabcd } } },
	{ "rm_addr32_opsize32", 2, C("\x67\x66\x89\x1c\x48"),
	  .in = { { KVL_GPR_RBX, 0xdeadbeef }, { KVL_GPR_RAX, 0x10000 }, { KVL_GPR_RCX, 8 } },
	  .seg_base = { [KVL_SEG_DS] = MMIO_LA - 0x10000 },
	  .naccs = 1, .accs = { { MMIO_LA + 16, 4, true, 0xdeadbeef } } },
	{ "rm_es_override", 2, C("\x26\x8b\x0d"),
	  .in = { { KVL_GPR_RDI, 0x20 }, { KVL_GPR_RCX, 0x12345678 } }, .data = 0x4321,
	  .seg_base = { [KVL_SEG_ES] = MMIO_LA },
	  .naccs = 1, .accs = { { MMIO_LA + 0x20, 2, false, 0x4321 } },
	  .out = { { KVL_GPR_RCX, 0x12344321 } } },
	{ "rm_rep_stosb_cx_only", 2, C("\xf3\xaa"),
	  .in = { { KVL_GPR_RCX, 0x50001 }, { KVL_GPR_RDI, 0xffff }, { KVL_GPR_RAX, 1 } },
	  .seg_base = { [KVL_SEG_ES] = MMIO_LA - 0xf000 },
	  .naccs = 1, .accs = { { MMIO_LA + 0xfff, 1, true, 1 } },
	  .out = { { KVL_GPR_RCX, 0x50000 }, { KVL_GPR_RDI, 0 } } },
};

FIXTURE(emu) {
	struct env v;
	struct kvl_emu e;
};

FIXTURE_SETUP(emu)
{
	memset(&self->v, 0, sizeof(self->v));
	memset(&self->e, 0, sizeof(self->e));
	self->e.ctx = &self->v;
}

FIXTURE_TEARDOWN(emu)
{
}

static void setup_case(struct env *v, struct kvl_emu *e, const struct emu_case *c)
{
	int i;

	memset(v, 0, sizeof(*v));
	memset(e, 0, sizeof(*e));
	e->ctx = v;
	memcpy(v->code, c->code, c->len);
	e->mode = c->mode;
	e->rip = CODE_LA;
	e->rflags = c->rflags ? c->rflags : 2;
	for (i = 0; i < KVL_EMU_NR_GPRS; i++)
		e->gpr[i] = 0x5a5a000000000000ULL + i;
	for (i = 0; i < 4 && c->in[i].reg + c->in[i].val; i++)
		e->gpr[c->in[i].reg] = c->in[i].val;
	memcpy(e->seg_base, c->seg_base, sizeof(e->seg_base));
	v->data = c->data;
}

TEST_F(emu, table)
{
	unsigned int n;

	for (n = 0; n < sizeof(cases) / sizeof(cases[0]); n++) {
		const struct emu_case *c = &cases[n];
		struct kvl_emu *e = &self->e;
		struct env *v = &self->v;
		u64 before[KVL_EMU_NR_GPRS], want;
		int r, i, j;

		setup_case(v, e, c);
		memcpy(before, e->gpr, sizeof(before));
		r = kvl_emu_step(e, &env_ops);
		if (r == KVL_EMU_USER) {
			/* Nothing may change before the data is there. */
			EXPECT_EQ(0, memcmp(before, e->gpr, sizeof(before))) TH_LOG("%s", c->name);
			EXPECT_EQ(CODE_LA, e->rip) TH_LOG("%s", c->name);
			EXPECT_EQ(0, v->nacc) TH_LOG("%s", c->name);
			v->ready = true;
			r = kvl_emu_step(e, &env_ops);
		}
		ASSERT_EQ(c->result, r) TH_LOG("%s", c->name);
		if (r != KVL_EMU_OK) {
			EXPECT_EQ(0, memcmp(before, e->gpr, sizeof(before))) TH_LOG("%s", c->name);
			EXPECT_EQ(CODE_LA, e->rip) TH_LOG("%s", c->name);
			continue;
		}
		EXPECT_EQ(c->naccs, v->nacc) TH_LOG("%s", c->name);
		for (i = 0; i < c->naccs && i < v->nacc; i++) {
			EXPECT_EQ(c->accs[i].la, v->acc[i].la) TH_LOG("%s acc %d", c->name, i);
			EXPECT_EQ(c->accs[i].len, v->acc[i].len) TH_LOG("%s acc %d", c->name, i);
			EXPECT_EQ(c->accs[i].write, v->acc[i].write) TH_LOG("%s acc %d", c->name, i);
			EXPECT_EQ(c->accs[i].data, v->acc[i].data) TH_LOG("%s acc %d", c->name, i);
		}
		for (i = 0; i < KVL_EMU_NR_GPRS; i++) {
			want = before[i];
			for (j = 0; j < 4 && c->out[j].reg + c->out[j].val; j++)
				if (c->out[j].reg == i)
					want = c->out[j].val;
			EXPECT_EQ(want, e->gpr[i]) TH_LOG("%s gpr %d", c->name, i);
		}
		if (c->rflags_mask)
			EXPECT_EQ(c->rflags_out & c->rflags_mask, e->rflags & c->rflags_mask)
				TH_LOG("%s rflags", c->name);
		EXPECT_EQ(CODE_LA + (c->rip_stays ? 0 : c->len), e->rip) TH_LOG("%s rip", c->name);
		EXPECT_EQ(c->len, e->insn_len) TH_LOG("%s len", c->name);
	}
}

/* REP INS/OUTS: one element per step, the count hint, and restart on IN. */
TEST_F(emu, rep_ins_outs)
{
	struct kvl_emu *e = &self->e;
	struct env *v = &self->v;
	int i;

	/* rep outsw from RAM. */
	memcpy(v->code, "\xf3\x66\x6f", 3);
	e->mode = 8;
	e->rip = CODE_LA;
	e->rflags = 2;
	e->gpr[KVL_GPR_RDX] = 0x3f8;
	e->gpr[KVL_GPR_RSI] = RAM_LA;
	e->gpr[KVL_GPR_RCX] = 3;
	for (i = 0; i < 6; i++)
		v->ram[i] = i + 1;
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(KVL_EMU_OK, kvl_emu_step(e, &env_ops));
		EXPECT_EQ(i < 2 ? CODE_LA : CODE_LA + 3, e->rip);
	}
	ASSERT_EQ(3, v->nout);
	EXPECT_EQ(0x0201, v->out_val[0]);
	EXPECT_EQ(0x0403, v->out_val[1]);
	EXPECT_EQ(0x0605, v->out_val[2]);
	EXPECT_EQ(0x3f8, v->port);
	EXPECT_EQ(2, v->pio_size);
	EXPECT_EQ(0, e->gpr[KVL_GPR_RCX]);
	EXPECT_EQ(RAM_LA + 6, e->gpr[KVL_GPR_RSI]);

	/* rep insd (67: ECX/EDI) into RAM, waiting for each element. */
	memcpy(v->code, "\x67\xf3\x6d", 3);
	e->rip = CODE_LA;
	e->gpr[KVL_GPR_RDI] = 0xffffffff00000000ULL | RAM_LA;
	e->gpr[KVL_GPR_RCX] = 0x100000002ULL;
	e->gpr[KVL_GPR_RDX] = 0x1234;
	ASSERT_EQ(KVL_EMU_USER, kvl_emu_step(e, &env_ops));
	EXPECT_EQ(2, v->pio_count);
	EXPECT_EQ(4, v->pio_size);
	v->in_ready = true;
	v->in_val = 0xa1b2c3d4;
	ASSERT_EQ(KVL_EMU_OK, kvl_emu_step(e, &env_ops));
	EXPECT_EQ(CODE_LA, e->rip);
	EXPECT_EQ(1, e->gpr[KVL_GPR_RCX]);
	EXPECT_EQ(RAM_LA + 4, e->gpr[KVL_GPR_RDI]);
	EXPECT_EQ(0xa1b2c3d4, *(u32 *)v->ram);
	ASSERT_EQ(KVL_EMU_USER, kvl_emu_step(e, &env_ops));
	EXPECT_EQ(1, v->pio_count);
	v->in_ready = true;
	ASSERT_EQ(KVL_EMU_OK, kvl_emu_step(e, &env_ops));
	EXPECT_EQ(CODE_LA + 3, e->rip);
	EXPECT_EQ(0, e->gpr[KVL_GPR_RCX]);
	EXPECT_EQ(0x1234, v->port);
}

/*
 * The ALU against this CPU: run "op [rdi], rsi" (or the unary form) natively
 * with pushfq around it and compare memory and flags with the emulator's.
 */
struct alu_form {
	const char *name;
	u8 code[4];
	unsigned int len;
	unsigned int size;
	bool logic;		/* AF undefined */
	bool writes;
};

static const struct alu_form alu_forms[] = {
#define BIN(n, op, log, wr)						\
	{ n "8", { 0x40, op, 0x37 }, 3, 1, log, wr },			\
	{ n "16", { 0x66, op + 1, 0x37 }, 3, 2, log, wr },		\
	{ n "32", { op + 1, 0x37 }, 2, 4, log, wr },			\
	{ n "64", { 0x48, op + 1, 0x37 }, 3, 8, log, wr }
	BIN("add", 0x00, false, true), BIN("or", 0x08, true, true),
	BIN("adc", 0x10, false, true), BIN("sbb", 0x18, false, true),
	BIN("and", 0x20, true, true), BIN("sub", 0x28, false, true),
	BIN("xor", 0x30, true, true), BIN("cmp", 0x38, false, false),
	BIN("test", 0x84, true, false),
#define UN(n, op, modrm, log)						\
	{ n "8", { op, modrm }, 2, 1, log, true },			\
	{ n "16", { 0x66, op + 1, modrm }, 3, 2, log, true },		\
	{ n "32", { op + 1, modrm }, 2, 4, log, true },			\
	{ n "64", { 0x48, op + 1, modrm }, 3, 8, log, true }
	UN("not", 0xf6, 0x17, false), UN("neg", 0xf6, 0x1f, false),
	UN("inc", 0xfe, 0x07, false), UN("dec", 0xfe, 0x0f, false),
};

typedef void (*native_fn)(u64 *mem, u64 src, u64 *flags);

static native_fn build_native(u8 *page, const struct alu_form *f)
{
	/* push [rdx]; popfq; <insn>; pushfq; pop [rdx]; ret */
	static const u8 pre[] = { 0xff, 0x32, 0x9d }, post[] = { 0x9c, 0x8f, 0x02, 0xc3 };

	memcpy(page, pre, sizeof(pre));
	memcpy(page + sizeof(pre), f->code, f->len);
	memcpy(page + sizeof(pre) + f->len, post, sizeof(post));
	__builtin___clear_cache((char *)page, (char *)page + 32);
	return (native_fn)(void *)page;
}

TEST_F(emu, alu_matches_cpu)
{
	static const u64 vals[] = {
		0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
		0x80000000, 0xffffffff, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
		0xffffffffffffffffULL, 0x0f0f0f0f0f0f0f0fULL, 0x123456789abcdef0ULL,
	};
	const unsigned int nv = sizeof(vals) / sizeof(vals[0]);
	u8 *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned int fi, i, j, cf, checked = 0;

	ASSERT_NE(MAP_FAILED, page);
	for (fi = 0; fi < sizeof(alu_forms) / sizeof(alu_forms[0]); fi++) {
		const struct alu_form *f = &alu_forms[fi];
		native_fn fn = build_native(page, f);
		u64 mask = f->size == 8 ? ~0ULL : (1ULL << (f->size * 8)) - 1;

		for (i = 0; i < nv; i++) {
			for (j = 0; j < nv; j++) {
				for (cf = 0; cf < 2; cf++) {
					struct kvl_emu *e = &self->e;
					struct env *v = &self->v;
					u64 mem = vals[i], hw_flags = 2 | cf, want_flags;
					u64 cmp_mask = ARITH & ~(f->logic ? AF : 0);

					fn(&mem, vals[j], &hw_flags);

					memset(v, 0, sizeof(*v));
					memset(e, 0, sizeof(*e));
					e->ctx = v;
					memcpy(v->code, f->code, f->len);
					e->mode = 8;
					e->rip = CODE_LA;
					e->rflags = 2 | cf;
					e->gpr[KVL_GPR_RDI] = MMIO_LA;
					e->gpr[KVL_GPR_RSI] = vals[j];
					v->data = vals[i] & mask;
					v->ready = true;
					ASSERT_EQ(KVL_EMU_OK, kvl_emu_step(e, &env_ops))
						TH_LOG("%s", f->name);
					want_flags = hw_flags & cmp_mask;
					EXPECT_EQ(want_flags, e->rflags & cmp_mask)
						TH_LOG("%s %llx %llx cf %u", f->name,
						       (unsigned long long)vals[i],
						       (unsigned long long)vals[j], cf);
					if (f->writes) {
						ASSERT_EQ(2, v->nacc) TH_LOG("%s", f->name);
						EXPECT_EQ(mem & mask, v->acc[1].data)
							TH_LOG("%s %llx %llx", f->name,
							       (unsigned long long)vals[i],
							       (unsigned long long)vals[j]);
					} else {
						EXPECT_EQ(1, v->nacc) TH_LOG("%s", f->name);
					}
					checked++;
				}
			}
		}
	}
	munmap(page, 4096);
	TH_LOG("%u ALU cases checked against the CPU", checked);
}

/*
 * Random bytes, registers and op answers: the emulator must neither crash
 * nor trip ASan/UBSan, must commit nothing unless it succeeds, and must
 * never take more than 15 bytes or an access wider than 8.
 */
struct fuzz {
	u64 seed;
	u8 code[32];
	int steps_ok;
};

static u64 fuzz_rand(struct fuzz *f)
{
	f->seed ^= f->seed << 13;
	f->seed ^= f->seed >> 7;
	f->seed ^= f->seed << 17;
	return f->seed;
}

static int fuzz_answer(struct fuzz *f)
{
	u64 r = fuzz_rand(f) & 15;

	return r < 12 ? KVL_EMU_OK : (int)(r - 11) % 4;
}

static int fz_fetch(struct kvl_emu *e, u64 la, void *buf, unsigned int len)
{
	struct fuzz *f = e->ctx;

	if (len > 15 || la < CODE_LA || la + len > CODE_LA + 15)
		return KVL_EMU_UNHANDLED;
	memcpy(buf, f->code + (la - CODE_LA), len);
	return KVL_EMU_OK;
}

static int fz_mem(struct kvl_emu *e, u64 la, void *buf, unsigned int len, bool write)
{
	struct fuzz *f = e->ctx;
	int r = fuzz_answer(f);
	u64 v;

	(void)la;
	if (len < 1 || len > 8)
		abort();
	if (r == KVL_EMU_EXCEPTION) {
		e->exc.vector = KVL_EMU_PF;
		e->exc.has_err = true;
	}
	if (!r && !write) {
		v = fuzz_rand(f);
		memcpy(buf, &v, len);
	}
	return r;
}

static int fz_read(struct kvl_emu *e, u64 la, void *buf, unsigned int len)
{
	return fz_mem(e, la, buf, len, false);
}

static int fz_write(struct kvl_emu *e, u64 la, const void *buf, unsigned int len)
{
	return fz_mem(e, la, (void *)buf, len, true);
}

static int fz_in(struct kvl_emu *e, u16 port, unsigned int size, u64 count, void *val)
{
	(void)port;
	(void)count;
	if (size != 1 && size != 2 && size != 4)
		abort();
	return fz_mem(e, 0, val, size, false);
}

static int fz_out(struct kvl_emu *e, u16 port, unsigned int size, const void *val)
{
	(void)port;
	if (size != 1 && size != 2 && size != 4)
		abort();
	return fz_mem(e, 0, (void *)val, size, true);
}

static const struct kvl_emu_ops fuzz_ops = {
	.fetch = fz_fetch, .read = fz_read, .write = fz_write,
	.pio_in = fz_in, .pio_out = fz_out,
};

TEST(fuzz)
{
	static const u8 interesting[] = {
		0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x64, 0x48, 0x4f, 0x40, 0x0f,
		0x88, 0x89, 0x8a, 0x8b, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xaa,
		0xab, 0xac, 0xad, 0x6c, 0x6d, 0x6e, 0x6f, 0x80, 0x81, 0x83, 0x84,
		0x85, 0x86, 0x87, 0xc6, 0xc7, 0xf6, 0xf7, 0xfe, 0xff, 0x63, 0xb6,
		0xbf, 0x01, 0x3b, 0x04, 0x05, 0x25, 0x05, 0x04, 0x44, 0x84, 0x24,
	};
	struct fuzz f = { .seed = 0x9e3779b97f4a7c15ULL };
	struct kvl_emu e, before;
	int i, j, r, ok = 0;

	for (i = 0; i < 1000000; i++) {
		memset(&e, 0, sizeof(e));
		for (j = 0; j < 15; j++) {
			u64 x = fuzz_rand(&f);

			f.code[j] = (x & 1) ? (u8)(x >> 8) :
				    interesting[(x >> 8) % sizeof(interesting)];
		}
		for (j = 0; j < KVL_EMU_NR_GPRS; j++)
			e.gpr[j] = (fuzz_rand(&f) & 1) ? fuzz_rand(&f) : fuzz_rand(&f) & 0xff;
		e.rflags = 2 | (fuzz_rand(&f) & 0xcd5);
		e.mode = (u8[]){ 2, 4, 8 }[fuzz_rand(&f) % 3];
		e.rip = CODE_LA;
		e.ctx = &f;
		before = e;
		r = kvl_emu_step(&e, &fuzz_ops);
		ASSERT_LE(0, r);
		ASSERT_GE(KVL_EMU_UNHANDLED, r);
		if (r != KVL_EMU_OK) {
			ASSERT_EQ(0, memcmp(before.gpr, e.gpr, sizeof(e.gpr)));
			ASSERT_EQ(before.rip, e.rip);
			ASSERT_EQ(before.rflags, e.rflags);
			continue;
		}
		ASSERT_GE(15, e.insn_len);
		ASSERT_LE(1, e.insn_len);
		ok++;
	}
	TH_LOG("%d of 1000000 random instructions executed", ok);
}

/* Page walker: tables built in a fake guest-physical memory. */
static int read_pte(void *ctx, u64 gpa, unsigned int size, u64 *pte)
{
	struct env *v = ctx;

	if (gpa + size > v->phys_size)
		return KVL_EMU_UNHANDLED;
	*pte = 0;
	memcpy(pte, v->phys + gpa, size);
	return KVL_EMU_OK;
}

static void put32(struct env *v, u64 gpa, u32 val)
{
	memcpy(v->phys + gpa, &val, 4);
}

static void put64(struct env *v, u64 gpa, u64 val)
{
	memcpy(v->phys + gpa, &val, 8);
}

#define PG_P	1ULL
#define PG_RW	2ULL
#define PG_US	4ULL
#define PG_PS	0x80ULL
#define PG_NX	(1ULL << 63)

TEST_F(emu, walk_32bit)
{
	struct env *v = &self->v;
	struct kvl_emu_paging pg = { .cr0 = 0x80000001, .cr3 = 0x1000, .cr4 = 0x10 };
	struct kvl_emu_exception exc;
	u64 gpa = 0;

	v->phys_size = 0x10000;
	v->phys = calloc(1, v->phys_size);
	ASSERT_NE(NULL, v->phys);
	/* PDE 0 -> PT at 0x2000; PTE 5 -> 0x7000 (read only, user). */
	put32(v, 0x1000, 0x2000 | PG_P | PG_RW | PG_US);
	put32(v, 0x2000 + 5 * 4, 0x7000 | PG_P | PG_US);
	/* PDE 0x340 (0xd0000000): a 4M page at 0x1_00400000 (PSE-36). */
	put32(v, 0x1000 + 0x340 * 4, 0x00400000 | (1 << 13) | PG_P | PG_RW | PG_PS);

	EXPECT_EQ(KVL_EMU_OK, kvl_gwalk(&pg, 0x5123, 0, read_pte, v, &gpa, &exc));
	EXPECT_EQ(0x7123, gpa);
	EXPECT_EQ(KVL_EMU_OK, kvl_gwalk(&pg, 0xd0123456, KVL_ACC_WRITE, read_pte, v, &gpa, &exc));
	EXPECT_EQ(0x100523456ULL, gpa);
	/* Supervisor write to a read-only page: fine without CR0.WP, #PF with it. */
	EXPECT_EQ(KVL_EMU_OK, kvl_gwalk(&pg, 0x5123, KVL_ACC_WRITE, read_pte, v, &gpa, &exc));
	pg.cr0 |= 0x10000;
	ASSERT_EQ(KVL_EMU_EXCEPTION, kvl_gwalk(&pg, 0x5123, KVL_ACC_WRITE, read_pte, v, &gpa, &exc));
	EXPECT_EQ(14, exc.vector);
	EXPECT_EQ(KVL_PFERR_PRESENT | KVL_PFERR_WRITE, exc.err);
	EXPECT_EQ(0x5123, exc.cr2);
	/* User access to a supervisor 4M page. */
	ASSERT_EQ(KVL_EMU_EXCEPTION, kvl_gwalk(&pg, 0xd0000000, KVL_ACC_USER, read_pte, v, &gpa, &exc));
	EXPECT_EQ(KVL_PFERR_PRESENT | KVL_PFERR_USER, exc.err);
	/* Not present. */
	ASSERT_EQ(KVL_EMU_EXCEPTION, kvl_gwalk(&pg, 0x6000, KVL_ACC_USER | KVL_ACC_WRITE,
					       read_pte, v, &gpa, &exc));
	EXPECT_EQ(KVL_PFERR_WRITE | KVL_PFERR_USER, exc.err);
	EXPECT_EQ(0x6000, exc.cr2);
	/* Without CR4.PSE the PS bit is ignored: a "table" at 0x400000, outside memory. */
	pg.cr4 = 0;
	EXPECT_EQ(KVL_EMU_UNHANDLED, kvl_gwalk(&pg, 0xd0000000, 0, read_pte, v, &gpa, &exc));
	/* Paging off: identity, 32 bits. */
	pg.cr0 = 1;
	EXPECT_EQ(KVL_EMU_OK, kvl_gwalk(&pg, 0x1d0000000ULL, 0, read_pte, v, &gpa, &exc));
	EXPECT_EQ(0xd0000000, gpa);
	free(v->phys);
}

TEST_F(emu, walk_pae_and_long)
{
	struct env *v = &self->v;
	struct kvl_emu_paging pg = { .cr0 = 0x80010001, .cr3 = 0x1020, .cr4 = 0x20 };
	struct kvl_emu_exception exc;
	u64 gpa = 0;

	v->phys_size = 0x10000;
	v->phys = calloc(1, v->phys_size);
	ASSERT_NE(NULL, v->phys);
	/* PAE: PDPTE 3 (at 0x1020 + 24) -> PD 0x3000; PDE 0x80 -> 2M page at 0x40000000. */
	put64(v, 0x1020 + 3 * 8, 0x3000 | PG_P);
	put64(v, 0x3000 + 0x80 * 8, 0x40000000 | PG_P | PG_RW | PG_PS);
	/* PDE 0 of PDPTE 3 -> PT 0x4000 -> PTE 1: NX page at 0x9000. */
	put64(v, 0x3000, 0x4000 | PG_P | PG_RW);
	put64(v, 0x4000 + 8, 0x9000 | PG_P | PG_RW | PG_NX);
	EXPECT_EQ(KVL_EMU_OK, kvl_gwalk(&pg, 0xd0012345, KVL_ACC_WRITE, read_pte, v, &gpa, &exc));
	EXPECT_EQ(0x40012345, gpa);
	/* NX set without EFER.NXE: a reserved bit. */
	ASSERT_EQ(KVL_EMU_EXCEPTION, kvl_gwalk(&pg, 0xc0001008, 0, read_pte, v, &gpa, &exc));
	EXPECT_EQ(KVL_PFERR_PRESENT | KVL_PFERR_RSVD, exc.err);
	pg.efer = 0x800;
	EXPECT_EQ(KVL_EMU_OK, kvl_gwalk(&pg, 0xc0001008, 0, read_pte, v, &gpa, &exc));
	EXPECT_EQ(0x9008, gpa);
	ASSERT_EQ(KVL_EMU_EXCEPTION, kvl_gwalk(&pg, 0xc0001008, KVL_ACC_FETCH,
					       read_pte, v, &gpa, &exc));
	EXPECT_EQ(KVL_PFERR_PRESENT | KVL_PFERR_FETCH, exc.err);

	/* Long mode: PML4 0x5000 -> PDPT 0x6000: 1G page at index 3, PD at index 0. */
	pg.efer = 0x500;	/* LME | LMA */
	pg.cr3 = 0x5000;
	put64(v, 0x5000, 0x6000 | PG_P | PG_RW | PG_US);
	put64(v, 0x5000 + 511 * 8, 0x6000 | PG_P | PG_RW);
	put64(v, 0x6000 + 3 * 8, 0xc0000000 | PG_P | PG_RW | PG_US | PG_PS);
	put64(v, 0x6000, 0x7000 | PG_P | PG_RW | PG_US);
	put64(v, 0x7000 + 2 * 8, 0x8000 | PG_P | PG_RW | PG_US);
	put64(v, 0x8000 + 0x10 * 8, 0xabc000 | PG_P | PG_US);
	EXPECT_EQ(KVL_EMU_OK, kvl_gwalk(&pg, 0xd0000010, KVL_ACC_USER | KVL_ACC_WRITE,
					read_pte, v, &gpa, &exc));
	EXPECT_EQ(0xd0000010, gpa);
	EXPECT_EQ(KVL_EMU_OK, kvl_gwalk(&pg, 0x410123, KVL_ACC_USER, read_pte, v, &gpa, &exc));
	EXPECT_EQ(0xabc123, gpa);
	ASSERT_EQ(KVL_EMU_EXCEPTION, kvl_gwalk(&pg, 0x410123, KVL_ACC_USER | KVL_ACC_WRITE,
					       read_pte, v, &gpa, &exc));
	EXPECT_EQ(KVL_PFERR_PRESENT | KVL_PFERR_WRITE | KVL_PFERR_USER, exc.err);
	/* The top of the address space is supervisor only (PML4 entry 511). */
	ASSERT_EQ(KVL_EMU_EXCEPTION, kvl_gwalk(&pg, 0xffffff80c0000000ULL, KVL_ACC_USER,
					       read_pte, v, &gpa, &exc));
	EXPECT_EQ(0xffffff80c0000000ULL, exc.cr2);
	EXPECT_EQ(KVL_EMU_OK, kvl_gwalk(&pg, 0xffffff80c0000000ULL, 0, read_pte, v, &gpa, &exc));
	EXPECT_EQ(0xc0000000, gpa);
	/* SMEP: supervisor fetch from a user page. */
	pg.cr4 |= 0x100000;
	ASSERT_EQ(KVL_EMU_EXCEPTION, kvl_gwalk(&pg, 0x410123, KVL_ACC_FETCH, read_pte, v,
					       &gpa, &exc));
	EXPECT_EQ(KVL_PFERR_PRESENT | KVL_PFERR_FETCH, exc.err);
	free(v->phys);
}

TEST_HARNESS_MAIN
