// SPDX-License-Identifier: GPL-2.0
/*
 * Boot a bzImage through its 64-bit entry point (Linux x86 boot protocol,
 * "64-bit boot protocol"): the runner does what a boot loader and the
 * real-mode setup code would have done.  Guest physical layout:
 *
 *   0x00500  GDT: null, null, __BOOT_CS (0x10, 64-bit code), __BOOT_DS (0x18)
 *   0x07000  zero page (struct boot_params), RSI points here at entry
 *   0x09000  PML4, 0x0a000 PDPT, 0x0b000-0x0efff four page directories
 *            identity-mapping the first 4 GiB with 2 MiB pages
 *   0x20000  command line
 *   pref_address (or 1 MiB)  the protected-mode kernel; entry at +0x200
 *   below initrd_addr_max and the top of low RAM: the initrd
 */
#include <asm/bootparam.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "../devices/acpi.h"
#include "bzimage.h"
#include "e820.h"
#include "../devices/pci_host.h"
#include "kvm.h"
#include "pvh.h"

#define GDT_ADDR	0x500
#define ZERO_PAGE	0x7000
#define PML4_ADDR	0x9000
#define PDPT_ADDR	0xa000
#define PD_ADDR		0xb000
#define CMDLINE_ADDR	0x20000
#define CMDLINE_MAX	0x10000
#define KERNEL_MAX	(256U << 20)

#define BOOT_CS		0x10
#define BOOT_DS		0x18

#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_WP		(1ULL << 16)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

/*
 * The file mapped read-only (unmap_file() when done): copied from the page
 * cache straight into guest RAM.  A malloc()ed copy of a bzImage stayed in
 * the heap after free() (glibc raises its mmap threshold to the size of a
 * freed mapped chunk, so the second, same-sized buffer came from brk and
 * was never trimmed): 8 MiB of the runner's resident memory for good.
 */
static uint8_t *read_file(const char *path, size_t max, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		die("%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > max)
		die("%s: not a regular file of 1..%zu MiB", path, max >> 20);
	buf = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (buf == MAP_FAILED)
		die("%s: mmap: %s", path, strerror(errno));
	close(fd);
	*len = st.st_size;
	return buf;
}

static void unmap_file(uint8_t *buf, size_t len)
{
	munmap(buf, len);
}

/* An ELF file boots through PVH instead (boot_pvh.c). */
static bool is_elf(const char *path)
{
	uint8_t m[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool elf = fd >= 0 && read(fd, m, 4) == 4 && pvh__is_elf(m, 4);

	if (fd >= 0)
		close(fd);
	return elf;
}

static void *gp(struct kvm *kvm, uint64_t gpa, uint64_t len, const char *what)
{
	void *p = guest_ptr(kvm, gpa, len);

	if (!p)
		die("%s (0x%llx, %llu bytes) does not fit in guest RAM", what,
		    (unsigned long long)gpa, (unsigned long long)len);
	return p;
}

static void setup_page_tables(struct kvm *kvm)
{
	uint64_t *pml4 = gp(kvm, PML4_ADDR, 4096, "page tables");
	uint64_t *pdpt = gp(kvm, PDPT_ADDR, 4096, "page tables");
	uint64_t *pd = gp(kvm, PD_ADDR, 4 * 4096, "page tables");
	int i;

	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = PDPT_ADDR | 0x3;			/* present, writable */
	for (i = 0; i < 4; i++)
		pdpt[i] = (PD_ADDR + i * 4096) | 0x3;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;	/* present, writable, 2 MiB */
}

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int code)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = !code, .s = 1, .l = code, .g = 1,
	};
}

static void setup_cpu(struct kvm *kvm, uint64_t entry)
{
	uint64_t *gdt = gp(kvm, GDT_ADDR, 4 * 8, "GDT");
	struct kvm_regs regs = { .rip = entry, .rsi = ZERO_PAGE, .rflags = 2,
				 .rsp = ZERO_PAGE };
	int vcpu = kvm->cpus[0].fd;
	struct kvm_sregs s;

	gdt[0] = 0;
	gdt[1] = 0;
	gdt[2] = 0x00af9b000000ffffULL;	/* 64-bit code, DPL 0 */
	gdt[3] = 0x00cf93000000ffffULL;	/* 4 GiB data, DPL 0 */
	setup_page_tables(kvm);

	if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0)
		die("KVM_GET_SREGS: %s", strerror(errno));
	seg(&s.cs, BOOT_CS, 0xb, 1);
	seg(&s.ds, BOOT_DS, 0x3, 0);
	s.es = s.fs = s.gs = s.ss = s.ds;
	s.gdt.base = GDT_ADDR;
	s.gdt.limit = 4 * 8 - 1;
	s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	s.cr3 = PML4_ADDR;
	s.cr4 = CR4_PAE;
	s.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0)
		die("KVM_SET_SREGS (long mode): %s", strerror(errno));
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS: %s", strerror(errno));
}

void boot_linux__check(const struct kvm_config *cfg)
{
	struct bzimage bz;
	const char *err;
	size_t len;
	uint8_t *img;

	if (is_elf(cfg->kernel)) {
		boot_pvh__check(cfg);
		return;
	}
	img = read_file(cfg->kernel, KERNEL_MAX, &len);
	if (bzimage__parse(img, len, &bz, &err) < 0)
		die("%s: %s", cfg->kernel, err);
	unmap_file(img, len);
	if (cfg->append && (strlen(cfg->append) > bz.cmdline_size ||
			    strlen(cfg->append) >= CMDLINE_MAX))
		die("--append: %zu bytes, this kernel takes at most %u", strlen(cfg->append),
		    bz.cmdline_size < CMDLINE_MAX ? bz.cmdline_size : CMDLINE_MAX - 1);
	if (cfg->initrd && access(cfg->initrd, R_OK) < 0)
		die("%s: %s", cfg->initrd, strerror(errno));
}

void boot_linux__load(struct kvm *kvm)
{
	const struct kvm_config *cfg = &kvm->cfg;
	uint64_t low = kvm->ram_size < KVM_LOWMEM_END ? kvm->ram_size : KVM_LOWMEM_END;
	struct e820_range map[E820_MAX_ENTRIES_ZEROPAGE];
	const char *append = cfg->append ? cfg->append : "console=ttyS0";
	struct boot_params *zp;
	uint64_t load, kernel_end;
	struct bzimage bz;
	const char *err;
	size_t len, cmdlen = strlen(append);
	uint8_t *img;
	int i, n;

	if (is_elf(cfg->kernel)) {
		boot_pvh__load(kvm);
		return;
	}
	img = read_file(cfg->kernel, KERNEL_MAX, &len);
	if (bzimage__parse(img, len, &bz, &err) < 0)
		die("%s: %s", cfg->kernel, err);

	/* Where a boot loader would put it: pref_address, or 1 MiB if relocatable. */
	load = bz.pref_address;
	if (load < 0x100000 || load + bz.init_size > low) {
		if (!bz.relocatable)
			die("%s: needs %u MiB of RAM from 0x%llx", cfg->kernel,
			    bz.init_size >> 20, (unsigned long long)load);
		load = 0x100000;
	}
	kernel_end = load + bz.init_size;
	if (kernel_end > low)
		die("%s: needs %llu MiB of RAM, --mem gives %llu MiB", cfg->kernel,
		    (unsigned long long)(kernel_end >> 20) + 1,
		    (unsigned long long)(kvm->ram_size >> 20));
	memcpy(gp(kvm, load, bz.kernel_size, "kernel"), img + bz.setup_size, bz.kernel_size);

	zp = gp(kvm, ZERO_PAGE, sizeof(*zp), "zero page");
	memset(zp, 0, sizeof(*zp));
	memcpy(&zp->hdr, img + 0x1f1, bz.hdr_len);
	zp->hdr.type_of_loader = 0xff;		/* no registered loader ID */
	zp->hdr.vid_mode = 0xffff;		/* "normal" */
	zp->hdr.loadflags &= ~(KEEP_SEGMENTS | CAN_USE_HEAP);
	zp->hdr.code32_start = load;
	unmap_file(img, len);

	if (cmdlen > bz.cmdline_size || cmdlen >= CMDLINE_MAX)
		die("--append: %zu bytes, this kernel takes at most %u", cmdlen,
		    bz.cmdline_size < CMDLINE_MAX ? bz.cmdline_size : CMDLINE_MAX - 1);
	memcpy(gp(kvm, CMDLINE_ADDR, cmdlen + 1, "command line"), append, cmdlen + 1);
	zp->hdr.cmd_line_ptr = CMDLINE_ADDR;

	if (cfg->initrd) {
		uint64_t top = (uint64_t)bz.initrd_addr_max + 1, addr;
		uint8_t *rd = read_file(cfg->initrd, 1ULL << 31, &len);

		if (top > low)
			top = low;
		addr = (top - len) & ~0xfffULL;
		if (len > top || addr < kernel_end)
			die("%s: %zu MiB initrd does not fit between the kernel and 0x%llx; "
			    "give more --mem", cfg->initrd, len >> 20, (unsigned long long)top);
		memcpy(gp(kvm, addr, len, "initrd"), rd, len);
		unmap_file(rd, len);
		zp->hdr.ramdisk_image = (uint32_t)addr;
		zp->ext_ramdisk_image = addr >> 32;
		zp->hdr.ramdisk_size = (uint32_t)len;
		zp->ext_ramdisk_size = (uint64_t)len >> 32;
	}

	n = e820__build(kvm->ram_size, KVM_LOWMEM_END, KVM_HIGHMEM_START, map,
			E820_MAX_ENTRIES_ZEROPAGE);
	if (n < 0)
		die("cannot describe %llu MiB of RAM in e820",
		    (unsigned long long)(kvm->ram_size >> 20));
	for (i = 0; i < n; i++) {
		zp->e820_table[i].addr = map[i].addr;
		zp->e820_table[i].size = map[i].size;
		zp->e820_table[i].type = map[i].type;
	}
	/* The ECAM reserved too: Linux takes MCFG's area only if firmware reserved it. */
	if (n < E820_MAX_ENTRIES_ZEROPAGE) {
		zp->e820_table[n].addr = PCI_ECAM_BASE;
		zp->e820_table[n].size = PCI_ECAM_SIZE;
		zp->e820_table[n].type = E820_TYPE_RESERVED;
		n++;
	}
	zp->e820_entries = n;
	zp->acpi_rsdp_addr = ACPI_RSDP_ADDR;

	setup_cpu(kvm, load + 0x200);
}
