/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmlite: a small x86 instruction emulator and guest page-table walker.
 *
 * Pure code: no kernel services beyond types and memcpy, so the same file
 * is built into the module and into a host unit test.  Everything the
 * emulator touches outside its register file goes through kvl_emu_ops.
 */
#ifndef KVL_EMULATE_H
#define KVL_EMULATE_H

#include <linux/types.h>

/* General-purpose registers in x86 encoding order. */
enum kvl_emu_gpr {
	KVL_GPR_RAX, KVL_GPR_RCX, KVL_GPR_RDX, KVL_GPR_RBX,
	KVL_GPR_RSP, KVL_GPR_RBP, KVL_GPR_RSI, KVL_GPR_RDI,
	KVL_GPR_R8, KVL_GPR_R9, KVL_GPR_R10, KVL_GPR_R11,
	KVL_GPR_R12, KVL_GPR_R13, KVL_GPR_R14, KVL_GPR_R15,
	KVL_EMU_NR_GPRS
};

/* The longest x86 instruction: the most bytes one step fetches. */
#define KVL_EMU_MAX_INSN	15U

/* Segment registers in x86 encoding order. */
enum kvl_emu_seg {
	KVL_SEG_ES, KVL_SEG_CS, KVL_SEG_SS, KVL_SEG_DS, KVL_SEG_FS, KVL_SEG_GS,
	KVL_EMU_NR_SEGS
};

/*
 * What kvl_emu_step() and every op return.
 *   OK         done (the step: committed to the register file)
 *   USER       an op needs userspace first (MMIO read data, IN data, or a
 *              buffer to flush); the step committed nothing and is re-run
 *   EXCEPTION  deliver kvl_emu::exc to the guest; nothing committed
 *   UNHANDLED  not something this emulator does; nothing committed
 */
enum {
	KVL_EMU_OK,
	KVL_EMU_USER,
	KVL_EMU_EXCEPTION,
	KVL_EMU_UNHANDLED,
};

/* Page walk access kinds. */
#define KVL_ACC_WRITE	0x1
#define KVL_ACC_USER	0x2	/* CPL 3 */
#define KVL_ACC_FETCH	0x4

/* #PF error code bits. */
#define KVL_PFERR_PRESENT	0x1
#define KVL_PFERR_WRITE		0x2
#define KVL_PFERR_USER		0x4
#define KVL_PFERR_RSVD		0x8
#define KVL_PFERR_FETCH		0x10

#define KVL_EMU_DE	0
#define KVL_EMU_UD	6
#define KVL_EMU_SS	12
#define KVL_EMU_GP	13
#define KVL_EMU_PF	14

struct kvl_emu_exception {
	u8 vector;
	bool has_err;
	u32 err;
	u64 cr2;		/* #PF only */
};

/* The control state a page walk needs. */
struct kvl_emu_paging {
	u64 cr0, cr3, cr4, efer;
	u64 rflags;		/* AC, for SMAP */
};

struct kvl_emu;

struct kvl_emu_ops {
	/* Linear-address accesses of @len bytes (at most 15), possibly crossing a page. */
	int (*fetch)(struct kvl_emu *e, u64 la, void *buf, unsigned int len);
	int (*read)(struct kvl_emu *e, u64 la, void *buf, unsigned int len);
	int (*write)(struct kvl_emu *e, u64 la, const void *buf, unsigned int len);
	/*
	 * One element of @size (1, 2, 4) bytes.  @count is how many elements
	 * the instruction still wants (REP), a hint for batching.
	 */
	int (*pio_in)(struct kvl_emu *e, u16 port, unsigned int size, u64 count, void *val);
	int (*pio_out)(struct kvl_emu *e, u16 port, unsigned int size, const void *val);
};

struct kvl_emu {
	/* The register file: read and, on KVL_EMU_OK, written by kvl_emu_step(). */
	u64 gpr[KVL_EMU_NR_GPRS];
	u64 rip;
	u64 rflags;
	/* Read only. */
	u64 seg_base[KVL_EMU_NR_SEGS];
	u8 mode;		/* code size in bytes: 2, 4, or 8 (64-bit mode) */
	u8 cpl;
	struct kvl_emu_paging pg;
	void *ctx;		/* the ops' own */

	/* Out: the exception of a KVL_EMU_EXCEPTION, and the last step's length. */
	struct kvl_emu_exception exc;
	u8 insn_len;
};

int kvl_emu_step(struct kvl_emu *e, const struct kvl_emu_ops *ops);

/*
 * Walk the guest page tables for linear address @la.  @read_pte reads a
 * 4- or 8-byte entry at a guest-physical address (KVL_EMU_OK or an error
 * code handed back as is).  On a translation fault returns
 * KVL_EMU_EXCEPTION with *exc a #PF.
 */
typedef int (*kvl_read_pte_t)(void *ctx, u64 gpa, unsigned int size, u64 *pte);
int kvl_gwalk(const struct kvl_emu_paging *pg, u64 la, unsigned int acc,
	      kvl_read_pte_t read_pte, void *ctx, u64 *gpa,
	      struct kvl_emu_exception *exc);

#endif /* KVL_EMULATE_H */
