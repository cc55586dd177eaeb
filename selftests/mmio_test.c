// SPDX-License-Identifier: GPL-2.0
/*
 * MMIO and string port I/O: guest instructions whose memory operand has no
 * memslot behind it exit with KVM_EXIT_MMIO (reads complete on the next
 * KVM_RUN into the destination register), and INS/OUTS, with REP, exit with
 * KVM_EXIT_IO.  Real mode, 32-bit protected mode and 64-bit long mode.
 * Each snippet ends in HLT; its exits, registers, flags and RAM are checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include "kvl_test.h"

#define GUEST_MEM	0x40000
#define CODE_GPA	0x1000
#define RAM_GPA		0x8000		/* scratch RAM the guest may use */
#define MMIO		0xd0000000ULL	/* 32- and 64-bit modes */
#define MMIO_LOW	0x40000000ULL	/* in reach of RIP-relative addressing */
#define MMIO_RM		0xd0000ULL	/* real mode: DS = ES = 0xd000 */

#define GUEST(name, mode, text)						\
	asm(".pushsection .rodata\n" mode "\n"			\
	    #name "_begin:\n" text "\n\thlt\n" #name "_end:\n"	\
	    ".code64\n.popsection\n");				\
	extern const unsigned char name##_begin[], name##_end[]

GUEST(l_store32, ".code64", "mov %eax, (%rbx)");
GUEST(l_load64_riprel, ".code64", "mov 0x3ffff009(%rip), %rax");
GUEST(l_movzx, ".code64", "movzbl 8(%rbx,%rsi,4), %ecx");
GUEST(l_movsx, ".code64", "movswq 2(%rbx), %rdx");
GUEST(l_movsxd, ".code64", "movslq (%rbx), %rcx");
GUEST(l_add_imm, ".code64", "addl $5, (%rbx)");
GUEST(l_or_load, ".code64", "or (%rbx), %al");
GUEST(l_sub_store, ".code64", "sub %rax, 8(%rbx)");
GUEST(l_cmp, ".code64", "cmpq %rax, (%rbx)");
GUEST(l_test, ".code64", "testb $1, (%rbx)");
GUEST(l_xchg, ".code64", "xchg %ecx, (%rbx)");
GUEST(l_neg, ".code64", "negw (%rbx)");
GUEST(l_lock_inc, ".code64", "lock incl (%rbx)");
GUEST(l_moffs, ".code64", "movabs 0xd0000008, %eax");
GUEST(l_high_byte, ".code64", "mov (%rbx), %ah");
GUEST(l_rex_sib, ".code64", "mov %rax, (%rbx,%rcx,8)");
GUEST(l_mov_imm, ".code64", "movq $-2, 0x10(%rbx)");
GUEST(l_rep_stosb, ".code64", "rep stosb");
GUEST(l_rep_movsq_in, ".code64", "rep movsq");
GUEST(l_movs_mmio_mmio, ".code64", "movsw");
GUEST(l_lodsd, ".code64", "lodsl");
GUEST(p_store16, ".code32", "movw %ax, 4(%ebx,%ecx,2)");
GUEST(p_moffs, ".code32", "mov 0xd0000010, %al");
GUEST(p_and, ".code32", "andl $0xff00ff00, (%ebx)");
GUEST(p_rep_stosd, ".code32", "rep stosl");
GUEST(r_store, ".code16", "mov %ax, 4(%bx,%si)");
GUEST(r_es_load, ".code16", "mov %es:(%di), %cx");
GUEST(r_addr32, ".code16", "mov %ebx, (%eax,%ecx,2)");
GUEST(r_xor, ".code16", "xorb $0x0f, (%bx)");

GUEST(l_rep_outsb, ".code64", "rep outsb");
GUEST(r_rep_outsw, ".code16", "rep outsw");
GUEST(p_outsl, ".code32", "outsl");
GUEST(l_rep_insb, ".code64", "rep insb");
GUEST(p_rep_insw_mmio, ".code32", "rep insw");
GUEST(l_rep_movsb_pf, ".code64", "rep movsb");
GUEST(l_readonly, ".code64", "mov %rcx, 8(%rbx)\n\tmov (%rbx), %rax\n\tmov 8(%rbx), %rdx");
GUEST(p_paged, ".code32", "mov %eax, (%ebx)\n\tmov 4(%ebx), %ecx");
GUEST(l_paged, ".code64", "mov %eax, (%rbx)\n\tmov 4(%rbx), %ecx");
/* #PF handler: CR2 to RAX, the error code to RDX. */
GUEST(l_pf_handler, ".code64", "mov %cr2, %rax\n\tpop %rdx");

struct mmio_exit {
	uint64_t addr;
	uint32_t len;
	uint8_t write;
	uint64_t data;
};

enum { R_AX, R_BX, R_CX, R_DX, R_SI, R_DI, NR_R };

#define CF 0x1
#define PF 0x4
#define ZF 0x40
#define SF 0x80
#define DF 0x400
#define OF 0x800

FIXTURE(mmio) {
	struct kvl_rm_vm v;
};

FIXTURE_VARIANT(mmio) {
	int mode;
	const unsigned char *begin, *end;
	uint64_t in[NR_R];
	uint64_t rflags;
	int nexits;
	struct mmio_exit exits[4];
	uint64_t out[NR_R];
	uint64_t flags_set, flags_clear;
	uint64_t ram_gpa, ram_val;	/* 8 bytes of RAM after the run */
};

#define SNIP(n) .begin = n##_begin, .end = n##_end

FIXTURE_VARIANT_ADD(mmio, long_store32) {
	.mode = KVL_MODE_LONG, SNIP(l_store32),
	.in = { [R_AX] = 0xaabbccdd11223344ULL, [R_BX] = MMIO },
	.nexits = 1, .exits = { { MMIO, 4, 1, 0x11223344 } },
	.out = { [R_AX] = 0xaabbccdd11223344ULL, [R_BX] = MMIO },
};

FIXTURE_VARIANT_ADD(mmio, long_load64_riprel) {
	/* The next RIP is 0x1007: 0x1007 + 0x3ffff009 = MMIO_LOW + 0x10. */
	.mode = KVL_MODE_LONG, SNIP(l_load64_riprel),
	.in = { [R_AX] = 1 },
	.nexits = 1, .exits = { { MMIO_LOW + 0x10, 8, 0, 0x0123456789abcdefULL } },
	.out = { [R_AX] = 0x0123456789abcdefULL },
};

FIXTURE_VARIANT_ADD(mmio, long_movzx_sib) {
	.mode = KVL_MODE_LONG, SNIP(l_movzx),
	.in = { [R_BX] = MMIO, [R_SI] = 3, [R_CX] = ~0ULL },
	.nexits = 1, .exits = { { MMIO + 20, 1, 0, 0xf0 } },
	.out = { [R_BX] = MMIO, [R_SI] = 3, [R_CX] = 0xf0 },
};

FIXTURE_VARIANT_ADD(mmio, long_movsx) {
	.mode = KVL_MODE_LONG, SNIP(l_movsx),
	.in = { [R_BX] = MMIO },
	.nexits = 1, .exits = { { MMIO + 2, 2, 0, 0x8001 } },
	.out = { [R_BX] = MMIO, [R_DX] = 0xffffffffffff8001ULL },
};

FIXTURE_VARIANT_ADD(mmio, long_movsxd) {
	.mode = KVL_MODE_LONG, SNIP(l_movsxd),
	.in = { [R_BX] = MMIO },
	.nexits = 1, .exits = { { MMIO, 4, 0, 0x80000000 } },
	.out = { [R_BX] = MMIO, [R_CX] = 0xffffffff80000000ULL },
};

FIXTURE_VARIANT_ADD(mmio, long_add_imm) {
	.mode = KVL_MODE_LONG, SNIP(l_add_imm),
	.in = { [R_BX] = MMIO + 0x100 },
	.nexits = 2, .exits = { { MMIO + 0x100, 4, 0, 0xfffffffe },
				{ MMIO + 0x100, 4, 1, 3 } },
	.out = { [R_BX] = MMIO + 0x100 },
	.flags_set = CF | PF, .flags_clear = ZF | SF | OF,
};

FIXTURE_VARIANT_ADD(mmio, long_or_load) {
	.mode = KVL_MODE_LONG, SNIP(l_or_load),
	.in = { [R_AX] = 0x1234, [R_BX] = MMIO },
	.nexits = 1, .exits = { { MMIO, 1, 0, 0x81 } },
	.out = { [R_AX] = 0x12b5, [R_BX] = MMIO },
	.flags_set = SF, .flags_clear = CF | ZF | OF | PF,
};

FIXTURE_VARIANT_ADD(mmio, long_sub_store) {
	.mode = KVL_MODE_LONG, SNIP(l_sub_store),
	.in = { [R_AX] = 1, [R_BX] = MMIO },
	.nexits = 2, .exits = { { MMIO + 8, 8, 0, 0x8000000000000000ULL },
				{ MMIO + 8, 8, 1, 0x7fffffffffffffffULL } },
	.out = { [R_AX] = 1, [R_BX] = MMIO },
	.flags_set = OF, .flags_clear = CF | ZF | SF,
};

FIXTURE_VARIANT_ADD(mmio, long_cmp) {
	.mode = KVL_MODE_LONG, SNIP(l_cmp),
	.in = { [R_AX] = 0x55, [R_BX] = MMIO },
	.nexits = 1, .exits = { { MMIO, 8, 0, 0x55 } },
	.out = { [R_AX] = 0x55, [R_BX] = MMIO },
	.flags_set = ZF | PF, .flags_clear = CF | SF | OF,
};

FIXTURE_VARIANT_ADD(mmio, long_test) {
	.mode = KVL_MODE_LONG, SNIP(l_test),
	.in = { [R_BX] = MMIO },
	.nexits = 1, .exits = { { MMIO, 1, 0, 0xfe } },
	.out = { [R_BX] = MMIO },
	.flags_set = ZF, .flags_clear = CF | SF | OF,
};

FIXTURE_VARIANT_ADD(mmio, long_xchg) {
	.mode = KVL_MODE_LONG, SNIP(l_xchg),
	.in = { [R_CX] = 0xffffffff87654321ULL, [R_BX] = MMIO },
	.nexits = 2, .exits = { { MMIO, 4, 0, 0x12345678 }, { MMIO, 4, 1, 0x87654321 } },
	.out = { [R_CX] = 0x12345678, [R_BX] = MMIO },
};

FIXTURE_VARIANT_ADD(mmio, long_neg) {
	.mode = KVL_MODE_LONG, SNIP(l_neg),
	.in = { [R_BX] = MMIO },
	.nexits = 2, .exits = { { MMIO, 2, 0, 1 }, { MMIO, 2, 1, 0xffff } },
	.out = { [R_BX] = MMIO },
	.flags_set = CF | SF | PF, .flags_clear = ZF | OF,
};

FIXTURE_VARIANT_ADD(mmio, long_lock_inc) {
	.mode = KVL_MODE_LONG, SNIP(l_lock_inc),
	.in = { [R_BX] = MMIO }, .rflags = CF,
	.nexits = 2, .exits = { { MMIO, 4, 0, 0x7fffffff }, { MMIO, 4, 1, 0x80000000 } },
	.out = { [R_BX] = MMIO },
	.flags_set = CF | OF | SF, .flags_clear = ZF,
};

FIXTURE_VARIANT_ADD(mmio, long_moffs) {
	.mode = KVL_MODE_LONG, SNIP(l_moffs),
	.in = { [R_AX] = ~0ULL },
	.nexits = 1, .exits = { { MMIO + 8, 4, 0, 0xcafef00d } },
	.out = { [R_AX] = 0xcafef00d },
};

FIXTURE_VARIANT_ADD(mmio, long_high_byte) {
	.mode = KVL_MODE_LONG, SNIP(l_high_byte),
	.in = { [R_AX] = 0x1111, [R_BX] = MMIO },
	.nexits = 1, .exits = { { MMIO, 1, 0, 0x99 } },
	.out = { [R_AX] = 0x9911, [R_BX] = MMIO },
};

FIXTURE_VARIANT_ADD(mmio, long_sib_scale8) {
	.mode = KVL_MODE_LONG, SNIP(l_rex_sib),
	.in = { [R_AX] = 0x0102030405060708ULL, [R_BX] = MMIO, [R_CX] = 2 },
	.nexits = 1, .exits = { { MMIO + 16, 8, 1, 0x0102030405060708ULL } },
	.out = { [R_AX] = 0x0102030405060708ULL, [R_BX] = MMIO, [R_CX] = 2 },
};

FIXTURE_VARIANT_ADD(mmio, long_mov_imm) {
	.mode = KVL_MODE_LONG, SNIP(l_mov_imm),
	.in = { [R_BX] = MMIO },
	.nexits = 1, .exits = { { MMIO + 0x10, 8, 1, 0xfffffffffffffffeULL } },
	.out = { [R_BX] = MMIO },
};

FIXTURE_VARIANT_ADD(mmio, long_rep_stosb) {
	.mode = KVL_MODE_LONG, SNIP(l_rep_stosb),
	.in = { [R_AX] = 0x5a, [R_CX] = 3, [R_DI] = MMIO + 0x20 },
	.nexits = 3, .exits = { { MMIO + 0x20, 1, 1, 0x5a }, { MMIO + 0x21, 1, 1, 0x5a },
				{ MMIO + 0x22, 1, 1, 0x5a } },
	.out = { [R_AX] = 0x5a, [R_DI] = MMIO + 0x23 },
};

FIXTURE_VARIANT_ADD(mmio, long_rep_movsq_to_ram_backwards) {
	.mode = KVL_MODE_LONG, SNIP(l_rep_movsq_in), .rflags = DF,
	.in = { [R_CX] = 2, [R_SI] = MMIO + 8, [R_DI] = RAM_GPA + 8 },
	.nexits = 2, .exits = { { MMIO + 8, 8, 0, 0x1111111111111111ULL },
				{ MMIO, 8, 0, 0x2222222222222222ULL } },
	.out = { [R_SI] = MMIO - 8, [R_DI] = RAM_GPA - 8 },
	.flags_set = DF,
	.ram_gpa = RAM_GPA, .ram_val = 0x2222222222222222ULL,
};

FIXTURE_VARIANT_ADD(mmio, long_movs_mmio_to_mmio) {
	.mode = KVL_MODE_LONG, SNIP(l_movs_mmio_mmio),
	.in = { [R_SI] = MMIO + 0x40, [R_DI] = MMIO + 0x80 },
	.nexits = 2, .exits = { { MMIO + 0x40, 2, 0, 0xbeef }, { MMIO + 0x80, 2, 1, 0xbeef } },
	.out = { [R_SI] = MMIO + 0x42, [R_DI] = MMIO + 0x82 },
};

FIXTURE_VARIANT_ADD(mmio, long_lodsd) {
	.mode = KVL_MODE_LONG, SNIP(l_lodsd),
	.in = { [R_AX] = ~0ULL, [R_SI] = MMIO },
	.nexits = 1, .exits = { { MMIO, 4, 0, 0x89abcdef } },
	.out = { [R_AX] = 0x89abcdef, [R_SI] = MMIO + 4 },
};

FIXTURE_VARIANT_ADD(mmio, prot32_store16_sib) {
	.mode = KVL_MODE_PROT32, SNIP(p_store16),
	.in = { [R_AX] = 0xabcd, [R_BX] = MMIO, [R_CX] = 6 },
	.nexits = 1, .exits = { { MMIO + 16, 2, 1, 0xabcd } },
	.out = { [R_AX] = 0xabcd, [R_BX] = MMIO, [R_CX] = 6 },
};

FIXTURE_VARIANT_ADD(mmio, prot32_moffs) {
	.mode = KVL_MODE_PROT32, SNIP(p_moffs),
	.in = { [R_AX] = 0x12345678 },
	.nexits = 1, .exits = { { MMIO + 0x10, 1, 0, 0x9a } },
	.out = { [R_AX] = 0x1234569a },
};

FIXTURE_VARIANT_ADD(mmio, prot32_and) {
	.mode = KVL_MODE_PROT32, SNIP(p_and),
	.in = { [R_BX] = MMIO },
	.nexits = 2, .exits = { { MMIO, 4, 0, 0x0ff00ff0 }, { MMIO, 4, 1, 0x0f000f00 } },
	.out = { [R_BX] = MMIO },
	.flags_set = PF, .flags_clear = CF | ZF | SF | OF,
};

FIXTURE_VARIANT_ADD(mmio, prot32_rep_stosd) {
	.mode = KVL_MODE_PROT32, SNIP(p_rep_stosd),
	.in = { [R_AX] = 0xfeedface, [R_CX] = 2, [R_DI] = MMIO + 0x100 },
	.nexits = 2, .exits = { { MMIO + 0x100, 4, 1, 0xfeedface },
				{ MMIO + 0x104, 4, 1, 0xfeedface } },
	.out = { [R_AX] = 0xfeedface, [R_DI] = MMIO + 0x108 },
};

FIXTURE_VARIANT_ADD(mmio, real_store_bx_si) {
	.mode = KVL_MODE_REAL, SNIP(r_store),
	.in = { [R_AX] = 0x4242, [R_BX] = 0xfff0, [R_SI] = 0x10 },
	.nexits = 1, .exits = { { MMIO_RM + 4, 2, 1, 0x4242 } },	/* offset wraps */
	.out = { [R_AX] = 0x4242, [R_BX] = 0xfff0, [R_SI] = 0x10 },
};

FIXTURE_VARIANT_ADD(mmio, real_es_load) {
	.mode = KVL_MODE_REAL, SNIP(r_es_load),
	.in = { [R_CX] = 0x12345678, [R_DI] = 0x20 },
	.nexits = 1, .exits = { { MMIO_RM + 0x20, 2, 0, 0x4321 } },
	.out = { [R_CX] = 0x12344321, [R_DI] = 0x20 },
};

FIXTURE_VARIANT_ADD(mmio, real_addr32) {
	.mode = KVL_MODE_REAL, SNIP(r_addr32),
	.in = { [R_BX] = 0xdeadbeef, [R_AX] = 0x100, [R_CX] = 8 },
	.nexits = 1, .exits = { { MMIO_RM + 0x110, 4, 1, 0xdeadbeef } },
	.out = { [R_BX] = 0xdeadbeef, [R_AX] = 0x100, [R_CX] = 8 },
};

FIXTURE_VARIANT_ADD(mmio, real_xor) {
	.mode = KVL_MODE_REAL, SNIP(r_xor),
	.in = { [R_BX] = 0x30 },
	.nexits = 2, .exits = { { MMIO_RM + 0x30, 1, 0, 0xff }, { MMIO_RM + 0x30, 1, 1, 0xf0 } },
	.out = { [R_BX] = 0x30 },
	.flags_set = SF | PF, .flags_clear = CF | ZF | OF,
};

static int vm_setup(struct kvl_rm_vm *v, int mode, const unsigned char *begin,
		    const unsigned char *end, const char **what)
{
	struct kvm_sregs sregs;

	if (kvl_rm_vm_create(v, GUEST_MEM, CODE_GPA, begin, end - begin, what))
		return -1;
	*what = "guest mode";
	if (kvl_vm_set_mode(v, mode))
		return -1;
	if (mode != KVL_MODE_REAL)
		return 0;
	/* Real mode: DS and ES at the MMIO window. */
	if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs))
		return -1;
	sregs.ds.selector = sregs.es.selector = MMIO_RM >> 4;
	sregs.ds.base = sregs.es.base = MMIO_RM;
	return ioctl(v->vcpu, KVM_SET_SREGS, &sregs);
}

FIXTURE_SETUP(mmio)
{
	const char *what;

	ASSERT_EQ(0, vm_setup(&self->v, variant->mode, variant->begin, variant->end, &what))
		TH_LOG("%s: %s", what, strerror(errno));
}

FIXTURE_TEARDOWN(mmio)
{
	kvl_rm_vm_destroy(&self->v);
}

static const char *exit_name(struct kvm_run *run)
{
	static char buf[64];

	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		snprintf(buf, sizeof(buf), "internal error %u", run->internal.suberror);
	else
		snprintf(buf, sizeof(buf), "exit %u", run->exit_reason);
	return buf;
}

TEST_F(mmio, insn)
{
	struct kvm_run *run = self->v.run;
	struct kvm_regs regs;
	uint64_t got[NR_R];
	int i;

	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_GET_REGS, &regs));
	regs.rax = variant->in[R_AX];
	regs.rbx = variant->in[R_BX];
	regs.rcx = variant->in[R_CX];
	regs.rdx = variant->in[R_DX];
	regs.rsi = variant->in[R_SI];
	regs.rdi = variant->in[R_DI];
	regs.rflags = 2 | variant->rflags;
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_SET_REGS, &regs));

	for (i = 0; i < variant->nexits; i++) {
		const struct mmio_exit *x = &variant->exits[i];

		ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
		ASSERT_EQ(KVM_EXIT_MMIO, run->exit_reason)
			TH_LOG("exit %d: %s", i, exit_name(run));
		EXPECT_EQ(x->addr, run->mmio.phys_addr) TH_LOG("exit %d", i);
		EXPECT_EQ(x->len, run->mmio.len) TH_LOG("exit %d", i);
		EXPECT_EQ(x->write, run->mmio.is_write) TH_LOG("exit %d", i);
		if (x->write) {
			EXPECT_EQ(0, memcmp(run->mmio.data, &x->data, x->len))
				TH_LOG("exit %d: wrote %llx", i,
				       *(unsigned long long *)run->mmio.data);
		} else {
			memcpy(run->mmio.data, &x->data, x->len);
		}
	}
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_HLT, run->exit_reason) TH_LOG("%s", exit_name(run));

	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_GET_REGS, &regs));
	got[R_AX] = regs.rax;
	got[R_BX] = regs.rbx;
	got[R_CX] = regs.rcx;
	got[R_DX] = regs.rdx;
	got[R_SI] = regs.rsi;
	got[R_DI] = regs.rdi;
	for (i = 0; i < NR_R; i++)
		EXPECT_EQ(variant->out[i], got[i]) TH_LOG("register %d", i);
	EXPECT_EQ(CODE_GPA + (variant->end - variant->begin), regs.rip);
	EXPECT_EQ(variant->flags_set, regs.rflags & variant->flags_set);
	EXPECT_EQ(0, regs.rflags & variant->flags_clear);
	if (variant->ram_gpa)
		EXPECT_EQ(variant->ram_val, *(uint64_t *)(self->v.mem + variant->ram_gpa));
}

/*
 * String I/O, any batching: run to HLT, checking each exit's port and
 * size, collecting OUT data, feeding IN data (i, i+1, ... as bytes) and
 * collecting MMIO writes.
 */
struct io_run {
	uint16_t port;
	uint8_t size;
	uint8_t out[4096];
	size_t nout;
	size_t nin;
	uint8_t mmio[4096];
	size_t nmmio;
	uint64_t mmio_addr;	/* where the next MMIO write must go */
	int exits;
};

static void run_io(struct __test_metadata *_metadata, struct kvl_rm_vm *v, struct io_run *r)
{
	struct kvm_run *run = v->run;

	for (;;) {
		uint8_t *data;
		size_t bytes, i;

		ASSERT_EQ(0, ioctl(v->vcpu, KVM_RUN, 0));
		if (run->exit_reason == KVM_EXIT_HLT)
			return;
		ASSERT_LT(r->exits++, 4000);
		/* MMIO writes of IN data: KVM merges them up to 8 bytes. */
		if (run->exit_reason == KVM_EXIT_MMIO) {
			ASSERT_TRUE(run->mmio.is_write);
			ASSERT_EQ(r->mmio_addr + r->nmmio, run->mmio.phys_addr);
			ASSERT_GE(run->mmio.len, 1);
			ASSERT_LE(run->mmio.len, 8);
			ASSERT_LE(r->nmmio + run->mmio.len, sizeof(r->mmio));
			memcpy(r->mmio + r->nmmio, run->mmio.data, run->mmio.len);
			r->nmmio += run->mmio.len;
			continue;
		}
		ASSERT_EQ(KVM_EXIT_IO, run->exit_reason) TH_LOG("%s", exit_name(run));
		ASSERT_EQ(r->port, run->io.port);
		ASSERT_EQ(r->size, run->io.size);
		ASSERT_GE(run->io.count, 1);
		bytes = (size_t)run->io.count * run->io.size;
		ASSERT_LE(run->io.data_offset + bytes, 0x2000);
		data = (uint8_t *)run + run->io.data_offset;
		if (run->io.direction == KVM_EXIT_IO_OUT) {
			ASSERT_LE(r->nout + bytes, sizeof(r->out));
			memcpy(r->out + r->nout, data, bytes);
			r->nout += bytes;
		} else {
			for (i = 0; i < bytes; i++)
				data[i] = r->nin++;
		}
	}
}

static void set_regs(struct __test_metadata *_metadata, struct kvl_rm_vm *v,
		     uint64_t rcx, uint64_t rdx, uint64_t rsi, uint64_t rdi, uint64_t rflags)
{
	struct kvm_regs regs;

	ASSERT_EQ(0, ioctl(v->vcpu, KVM_GET_REGS, &regs));
	regs.rcx = rcx;
	regs.rdx = rdx;
	regs.rsi = rsi;
	regs.rdi = rdi;
	regs.rflags = 2 | rflags;
	ASSERT_EQ(0, ioctl(v->vcpu, KVM_SET_REGS, &regs));
}

#define VM_SETUP(v, mode, snip)							\
	do {									\
		const char *what;						\
		ASSERT_EQ(0, vm_setup(v, mode, snip##_begin, snip##_end, &what))	\
			TH_LOG("%s: %s", what, strerror(errno));		\
	} while (0)

/* More than one kvmlite batch (1 KiB); KVM exits per byte, so not many more. */
#define OUTS_BYTES 1100

TEST(rep_outsb_long)
{
	struct io_run *r = calloc(1, sizeof(*r));
	struct kvl_rm_vm v;
	struct kvm_regs regs;
	int i;

	ASSERT_NE(NULL, r);
	VM_SETUP(&v, KVL_MODE_LONG, l_rep_outsb);
	for (i = 0; i < OUTS_BYTES; i++)
		v.mem[0x20000 + i] = i * 7;
	set_regs(_metadata, &v, OUTS_BYTES, 0x3f8, 0x20000, 0, 0);
	r->port = 0x3f8;
	r->size = 1;
	run_io(_metadata, &v, r);
	ASSERT_EQ(OUTS_BYTES, r->nout);
	EXPECT_EQ(0, memcmp(r->out, v.mem + 0x20000, OUTS_BYTES));
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0, regs.rcx);
	EXPECT_EQ(0x20000 + OUTS_BYTES, regs.rsi);
	EXPECT_EQ(CODE_GPA + (l_rep_outsb_end - l_rep_outsb_begin), regs.rip);
	TH_LOG("%d bytes in %d exits", OUTS_BYTES, r->exits);
	kvl_rm_vm_destroy(&v);
	free(r);
}

TEST(rep_outsw_real_backwards)
{
	struct io_run *r = calloc(1, sizeof(*r));
	uint16_t want[5] = { 0x1111, 0x2222, 0x3333, 0x4444, 0x5555 };
	struct kvm_sregs sregs;
	struct kvl_rm_vm v;
	struct kvm_regs regs;
	int i;

	ASSERT_NE(NULL, r);
	VM_SETUP(&v, KVL_MODE_REAL, r_rep_outsw);
	for (i = 0; i < 5; i++)
		memcpy(v.mem + 0x3000 + i * 2, &want[i], 2);
	/* The source is RAM: DS back at 0 (vm_setup points it at MMIO). */
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_SREGS, &sregs));
	sregs.ds.selector = 0;
	sregs.ds.base = 0;
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_SET_SREGS, &sregs));
	set_regs(_metadata, &v, 0xabcd0005, 0x80, 0x3008, 0, DF);
	r->port = 0x80;
	r->size = 2;
	run_io(_metadata, &v, r);
	ASSERT_EQ(10, r->nout);
	for (i = 0; i < 5; i++)
		EXPECT_EQ(want[4 - i], *(uint16_t *)(r->out + i * 2));
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0xabcd0000, regs.rcx);
	EXPECT_EQ(0x2ffe, regs.rsi);
	kvl_rm_vm_destroy(&v);
	free(r);
}

TEST(outsl_from_mmio)
{
	struct kvl_rm_vm v;
	struct kvm_run *run;
	struct kvm_regs regs;
	uint32_t val = 0x89abcdef;

	VM_SETUP(&v, KVL_MODE_PROT32, p_outsl);
	run = v.run;
	set_regs(_metadata, &v, 0, 0x1234, MMIO + 0x40, 0, 0);
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_MMIO, run->exit_reason) TH_LOG("%s", exit_name(run));
	EXPECT_EQ(MMIO + 0x40, run->mmio.phys_addr);
	EXPECT_EQ(4, run->mmio.len);
	EXPECT_EQ(0, run->mmio.is_write);
	memcpy(run->mmio.data, &val, 4);
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason) TH_LOG("%s", exit_name(run));
	EXPECT_EQ(KVM_EXIT_IO_OUT, run->io.direction);
	EXPECT_EQ(0x1234, run->io.port);
	EXPECT_EQ(4, run->io.size);
	EXPECT_EQ(1, run->io.count);
	EXPECT_EQ(val, *(uint32_t *)((char *)run + run->io.data_offset));
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_HLT, run->exit_reason) TH_LOG("%s", exit_name(run));
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(MMIO + 0x44, regs.rsi);
	kvl_rm_vm_destroy(&v);
}

TEST(rep_insb_long)
{
	struct io_run *r = calloc(1, sizeof(*r));
	struct kvl_rm_vm v;
	struct kvm_regs regs;
	int i;

	ASSERT_NE(NULL, r);
	VM_SETUP(&v, KVL_MODE_LONG, l_rep_insb);
	/* 5000 bytes from 0x20f00: across pages, more than one batch. */
	set_regs(_metadata, &v, 5000, 0x60, 0, 0x20f00, 0);
	r->port = 0x60;
	r->size = 1;
	run_io(_metadata, &v, r);
	ASSERT_EQ(5000, r->nin);
	for (i = 0; i < 5000; i++)
		if (v.mem[0x20f00 + i] != (uint8_t)i)
			break;
	EXPECT_EQ(5000, i);
	EXPECT_EQ(0, v.mem[0x20f00 + 5000]);
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0, regs.rcx);
	EXPECT_EQ(0x20f00 + 5000, regs.rdi);
	TH_LOG("5000 bytes in %d exits", r->exits);
	kvl_rm_vm_destroy(&v);
	free(r);
}

TEST(rep_insw_to_mmio)
{
	struct io_run *r = calloc(1, sizeof(*r));
	struct kvl_rm_vm v;
	struct kvm_regs regs;
	int i;

	ASSERT_NE(NULL, r);
	VM_SETUP(&v, KVL_MODE_PROT32, p_rep_insw_mmio);
	set_regs(_metadata, &v, 6, 0x1f0, 0, MMIO + 0x200, 0);
	r->port = 0x1f0;
	r->size = 2;
	r->mmio_addr = MMIO + 0x200;
	run_io(_metadata, &v, r);
	ASSERT_EQ(12, r->nin);
	ASSERT_EQ(12, r->nmmio);
	for (i = 0; i < 12; i++)
		EXPECT_EQ(i, r->mmio[i]);
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0, regs.rcx);
	EXPECT_EQ(MMIO + 0x20c, regs.rdi);
	kvl_rm_vm_destroy(&v);
}

/*
 * REP MOVSB from MMIO to a linear address with no mapping: the read exits,
 * then the write's page walk fails and the guest takes #PF (CR2, error
 * code "write, not present") from the emulator.
 */
TEST(page_fault_from_emulator)
{
	const size_t hlen = l_pf_handler_end - l_pf_handler_begin;
	struct kvl_rm_vm v;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	uint64_t *idt;
	uint64_t handler = 0x3000, unmapped = 0x8000000000ULL;
	uint8_t byte = 0x77;

	VM_SETUP(&v, KVL_MODE_LONG, l_rep_movsb_pf);
	run = v.run;
	memcpy(v.mem + handler, l_pf_handler_begin, hlen);
	/* A 64-bit interrupt gate for vector 14 in an IDT at 0xa000. */
	idt = (uint64_t *)(v.mem + 0xa000);
	idt[14 * 2] = (handler & 0xffff) | (0x8ULL << 16) | (0x8eULL << 40) |
		      ((handler >> 16 & 0xffff) << 48);
	idt[14 * 2 + 1] = handler >> 32;
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_SREGS, &sregs));
	sregs.idt.base = 0xa000;
	sregs.idt.limit = 256 * 16 - 1;
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_SET_SREGS, &sregs));
	set_regs(_metadata, &v, 4, 0, MMIO, unmapped, 0);
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_REGS, &regs));
	regs.rsp = 0xf000;
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_SET_REGS, &regs));

	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_MMIO, run->exit_reason) TH_LOG("%s", exit_name(run));
	EXPECT_EQ(MMIO, run->mmio.phys_addr);
	EXPECT_EQ(1, run->mmio.len);
	EXPECT_EQ(0, run->mmio.is_write);
	memcpy(run->mmio.data, &byte, 1);
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_HLT, run->exit_reason)
		TH_LOG("%s: mmio %llx len %u write %u", exit_name(run),
		       (unsigned long long)run->mmio.phys_addr, run->mmio.len,
		       run->mmio.is_write);
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(unmapped, regs.rax);
	EXPECT_EQ(2, regs.rdx);			/* write, not present, supervisor */
	EXPECT_EQ(handler + hlen, regs.rip);
	/* Nothing was done: the count and pointers are as before. */
	EXPECT_EQ(4, regs.rcx);
	EXPECT_EQ(MMIO, regs.rsi);
	EXPECT_EQ(unmapped, regs.rdi);
	kvl_rm_vm_destroy(&v);
}

/*
 * A KVM_MEM_READONLY slot: reads see its memory, writes exit as MMIO
 * writes and leave it alone.  The write comes first: Debian's KVM 6.1 in
 * the emulated AMD host freezes the whole host, within a few runs, when
 * the guest writes to a read-only slot page it has already read.
 */
TEST(readonly_slot)
{
	const uint64_t ro_gpa = 0x100000;
	struct kvm_userspace_memory_region slot = {
		.slot = 1, .flags = KVM_MEM_READONLY, .guest_phys_addr = ro_gpa,
		.memory_size = 0x1000,
	};
	uint64_t *ro, val = 0x0123456789abcdefULL;
	struct kvl_rm_vm v;
	struct kvm_regs regs;
	struct kvm_run *run;

	VM_SETUP(&v, KVL_MODE_LONG, l_readonly);
	run = v.run;
	ASSERT_EQ(1, ioctl(v.sys, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM));
	ro = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ro[0] = 0x1122334455667788ULL;
	ro[1] = 0x99;
	slot.userspace_addr = (uintptr_t)ro;
	ASSERT_EQ(0, ioctl(v.vm, KVM_SET_USER_MEMORY_REGION, &slot)) TH_LOG("%s", strerror(errno));
	set_regs(_metadata, &v, val, 0, 0, 0, 0);
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_REGS, &regs));
	regs.rbx = ro_gpa;
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_SET_REGS, &regs));

	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_MMIO, run->exit_reason) TH_LOG("%s", exit_name(run));
	EXPECT_EQ(ro_gpa + 8, run->mmio.phys_addr);
	EXPECT_EQ(8, run->mmio.len);
	EXPECT_EQ(1, run->mmio.is_write);
	EXPECT_EQ(0, memcmp(run->mmio.data, &val, 8));
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_HLT, run->exit_reason) TH_LOG("%s", exit_name(run));
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0x1122334455667788ULL, regs.rax);
	EXPECT_EQ(0x99, regs.rdx);		/* the write did not land */
	EXPECT_EQ(0x99, ro[1]);
	munmap(ro, 0x1000);
	kvl_rm_vm_destroy(&v);
}

/*
 * The emulator's own page walk: a linear address mapped by a 4K page to an
 * MMIO GPA elsewhere, under 32-bit paging (code in a PSE 4M page), PAE
 * (code in a 2M page) and 4-level paging.
 */
enum { PG_32, PG_PAE, PG_LONG };

static void paged_mmio(struct __test_metadata *_metadata, int paging)
{
	const uint64_t gpa = 0xe0000000, la = paging == PG_LONG ? 0x7f0000001000ULL : 0xd0001000;
	uint64_t val = 0x600dcafe;
	struct kvl_rm_vm v;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	uint8_t *m;

	if (paging == PG_LONG)
		VM_SETUP(&v, KVL_MODE_LONG, l_paged);
	else
		VM_SETUP(&v, KVL_MODE_PROT32, p_paged);
	run = v.run;
	m = v.mem;
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_SREGS, &sregs));
	if (paging == PG_32) {
		uint32_t *pd = (uint32_t *)(m + 0x10000), *pt = (uint32_t *)(m + 0x11000);

		memset(pd, 0, 0x2000);
		pd[0] = 0x83;				/* 4M identity, PS */
		pd[la >> 22] = 0x11000 | 3;
		pt[(la >> 12) & 1023] = gpa | 3;
		sregs.cr4 = 0x10;			/* PSE */
	} else if (paging == PG_PAE) {
		uint64_t *pdpt = (uint64_t *)(m + 0x10000), *pd0 = (uint64_t *)(m + 0x11000);
		uint64_t *pd = (uint64_t *)(m + 0x12000), *pt = (uint64_t *)(m + 0x13000);

		memset(pdpt, 0, 0x4000);
		pdpt[0] = 0x11000 | 1;
		pdpt[la >> 30] = 0x12000 | 1;
		pd0[0] = 0x83;				/* 2M identity, PS */
		pd[(la >> 21) & 511] = 0x13000 | 3;
		pt[(la >> 12) & 511] = gpa | 3;
		sregs.cr4 = 0x20;			/* PAE */
	} else {
		uint64_t *pml4 = (uint64_t *)(m + KVL_PT_GPA), *pdpt = (uint64_t *)(m + 0x16000);
		uint64_t *pd = (uint64_t *)(m + 0x17000), *pt = (uint64_t *)(m + 0x18000);

		memset(pdpt, 0, 0x3000);
		pml4[(la >> 39) & 511] = 0x16000 | 3;
		pdpt[(la >> 30) & 511] = 0x17000 | 3;
		pd[(la >> 21) & 511] = 0x18000 | 3;
		pt[(la >> 12) & 511] = gpa | 3;
	}
	sregs.cr3 = 0x10000;
	sregs.cr0 |= 0x80000000;
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_SET_SREGS, &sregs)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_REGS, &regs));
	regs.rax = val;
	regs.rbx = la + 0x10;
	regs.rcx = 0;
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_SET_REGS, &regs));

	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_MMIO, run->exit_reason) TH_LOG("%s", exit_name(run));
	EXPECT_EQ(gpa + 0x10, run->mmio.phys_addr);
	EXPECT_EQ(4, run->mmio.len);
	EXPECT_EQ(1, run->mmio.is_write);
	EXPECT_EQ(0, memcmp(run->mmio.data, &val, 4));
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_MMIO, run->exit_reason) TH_LOG("%s", exit_name(run));
	EXPECT_EQ(gpa + 0x14, run->mmio.phys_addr);
	EXPECT_EQ(4, run->mmio.len);
	EXPECT_EQ(0, run->mmio.is_write);
	memcpy(run->mmio.data, "\x44\x33\x22\x11", 4);
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_HLT, run->exit_reason) TH_LOG("%s", exit_name(run));
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0x11223344, regs.rcx);
	kvl_rm_vm_destroy(&v);
}

/*
 * KVM_RUN with immediate_exit completes the MMIO read (the register gets
 * the data, RIP moves on) and returns EINTR without running the guest.
 */
TEST(immediate_exit_completes_read)
{
	struct kvl_rm_vm v;
	struct kvm_regs regs;
	struct kvm_run *run;

	VM_SETUP(&v, KVL_MODE_LONG, l_movzx);
	run = v.run;
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_REGS, &regs));
	regs.rbx = MMIO;
	regs.rsi = 0;
	regs.rcx = ~0ULL;
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_SET_REGS, &regs));
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_MMIO, run->exit_reason) TH_LOG("%s", exit_name(run));
	EXPECT_EQ(MMIO + 8, run->mmio.phys_addr);
	run->mmio.data[0] = 0xa5;
	run->immediate_exit = 1;
	EXPECT_EQ(-1, ioctl(v.vcpu, KVM_RUN, 0));
	EXPECT_EQ(EINTR, errno);
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0xa5, regs.rcx);
	EXPECT_EQ(CODE_GPA + (l_movzx_end - l_movzx_begin) - 1, regs.rip);	/* at the HLT */
	run->immediate_exit = 0;
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	EXPECT_EQ(KVM_EXIT_HLT, run->exit_reason) TH_LOG("%s", exit_name(run));
	kvl_rm_vm_destroy(&v);
}

/* KVM_TRANSLATE walks the same tables. */
TEST(translate)
{
	const uint64_t la = 0x7f0000001000ULL;
	struct kvm_translation tr;
	struct kvl_rm_vm v;
	uint64_t *pml4, *pdpt, *pd, *pt;

	VM_SETUP(&v, KVL_MODE_REAL, l_paged);
	memset(&tr, 0, sizeof(tr));
	tr.linear_address = 0x12345;
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_TRANSLATE, &tr)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(1, tr.valid);
	EXPECT_EQ(0x12345, tr.physical_address);
	kvl_rm_vm_destroy(&v);

	VM_SETUP(&v, KVL_MODE_LONG, l_paged);
	pml4 = (uint64_t *)(v.mem + KVL_PT_GPA);
	pdpt = (uint64_t *)(v.mem + 0x16000);
	pd = (uint64_t *)(v.mem + 0x17000);
	pt = (uint64_t *)(v.mem + 0x18000);
	memset(pdpt, 0, 0x3000);
	pml4[(la >> 39) & 511] = 0x16000 | 3;
	pdpt[(la >> 30) & 511] = 0x17000 | 3;
	pd[(la >> 21) & 511] = 0x18000 | 3;
	pt[(la >> 12) & 511] = 0xe0000000 | 3;

	tr.linear_address = la + 0x234;
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_TRANSLATE, &tr));
	EXPECT_EQ(1, tr.valid);
	EXPECT_EQ(0xe0000234, tr.physical_address);
	tr.linear_address = 0x3fe12345;		/* the identity map's 2M pages */
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_TRANSLATE, &tr));
	EXPECT_EQ(1, tr.valid);
	EXPECT_EQ(0x3fe12345, tr.physical_address);
	tr.linear_address = la + 0x1000;	/* no PTE */
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_TRANSLATE, &tr));
	EXPECT_EQ(0, tr.valid);
	tr.linear_address = 0x8000000000ULL;	/* no PML4 entry */
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_TRANSLATE, &tr));
	EXPECT_EQ(0, tr.valid);
	kvl_rm_vm_destroy(&v);
}

TEST(paged_32bit_4k)
{
	paged_mmio(_metadata, PG_32);
}

TEST(paged_pae_4k)
{
	paged_mmio(_metadata, PG_PAE);
}

TEST(paged_long_4k)
{
	paged_mmio(_metadata, PG_LONG);
}

KVL_TEST_MAIN
