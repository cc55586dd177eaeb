// SPDX-License-Identifier: GPL-2.0
/*
 * Boot an ELF vmlinux through its PVH entry point (Xen's PVH boot ABI, as
 * QEMU and Linux's arch/x86/platform/pvh use it): PT_LOAD segments at their
 * physical addresses, then vCPU 0 in 32-bit protected mode, paging off,
 * flat 4 GiB CS/DS, %ebx = the hvm_start_info.  Guest physical layout:
 *
 *   0x00500  GDT: null, null, code 0x10 (32-bit flat), data 0x18, TSS 0x20
 *   0x06000  struct hvm_start_info, then its module list (the initrd)
 *   0x06100  memory map (hvm_memmap_table_entry, the same ranges as e820)
 *   0x20000  command line
 *   0xe0000  ACPI (RSDP), written by devices/acpi.c
 *   1 MiB+   the kernel's segments (Linux: 16 MiB); initrd below low RAM's top
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "../devices/acpi.h"
#include "e820.h"
#include "kvm.h"
#include "pvh.h"

#define GDT_ADDR	0x500
#define START_INFO	0x6000
#define MODLIST		0x6080
#define MEMMAP		0x6100
#define MEMMAP_MAX	128
#define CMDLINE_ADDR	0x20000
#define CMDLINE_MAX	0x10000
#define KERNEL_MAX	(512ULL << 20)

#define CODE_SEL	0x10
#define DATA_SEL	0x18
#define TSS_SEL		0x20

struct mapped {
	uint8_t *p;
	size_t len;
};

static struct mapped map_file(const char *path, uint64_t max)
{
	struct mapped m;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		die("%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > max)
		die("%s: not a regular file of 1..%llu MiB", path, (unsigned long long)(max >> 20));
	m.len = st.st_size;
	/* Private and writable for libelf (pvh__parse_writable()); never written back. */
	m.p = mmap(NULL, m.len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (m.p == MAP_FAILED)
		die("%s: mmap: %s", path, strerror(errno));
	close(fd);
	return m;
}

static void *gp(struct kvm *kvm, uint64_t gpa, uint64_t len, const char *what)
{
	void *p = guest_ptr(kvm, gpa, len);

	if (!p)
		die("%s (0x%llx, %llu bytes) does not fit in guest RAM", what,
		    (unsigned long long)gpa, (unsigned long long)len);
	return p;
}

static void parse_or_die(const char *path, const struct mapped *m, struct pvh_image *img)
{
	const char *err;

	if (pvh__parse_writable(m->p, m->len, img, &err) < 0)
		die("%s: %s", path, err);
}

void boot_pvh__check(const struct kvm_config *cfg)
{
	struct mapped m = map_file(cfg->kernel, KERNEL_MAX);
	struct pvh_image img;

	parse_or_die(cfg->kernel, &m, &img);
	munmap(m.p, m.len);
	if (cfg->append && strlen(cfg->append) >= CMDLINE_MAX)
		die("--append: %zu bytes, at most %d", strlen(cfg->append), CMDLINE_MAX - 1);
	if (cfg->initrd && access(cfg->initrd, R_OK) < 0)
		die("%s: %s", cfg->initrd, strerror(errno));
}

static void seg32(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
}

static void setup_cpu(struct kvm *kvm, uint32_t entry)
{
	uint64_t *gdt = gp(kvm, GDT_ADDR, 5 * 8, "GDT");
	struct kvm_regs regs = { .rip = entry, .rbx = START_INFO, .rflags = 2 };
	int vcpu = kvm->cpus[0].fd;
	struct kvm_sregs s;

	gdt[0] = 0;
	gdt[1] = 0;
	gdt[2] = 0x00cf9b000000ffffULL;	/* 32-bit code, DPL 0, 4 GiB */
	gdt[3] = 0x00cf93000000ffffULL;	/* data, DPL 0, 4 GiB */
	gdt[4] = 0x00008b0000000067ULL;	/* 32-bit TSS (busy), base 0 */

	if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0)
		die("KVM_GET_SREGS: %s", strerror(errno));
	seg32(&s.cs, CODE_SEL, 0xb);
	seg32(&s.ds, DATA_SEL, 0x3);
	s.es = s.fs = s.gs = s.ss = s.ds;
	s.tr = (struct kvm_segment){ .base = 0, .limit = 0x67, .selector = TSS_SEL,
				     .type = 0xb, .present = 1 };
	s.gdt.base = GDT_ADDR;
	s.gdt.limit = 5 * 8 - 1;
	s.cr0 = 0x11;			/* PE, ET; paging off */
	s.cr3 = 0;
	s.cr4 = 0;
	s.efer = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0)
		die("KVM_SET_SREGS (protected mode): %s", strerror(errno));
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS: %s", strerror(errno));
}

void boot_pvh__load(struct kvm *kvm)
{
	const struct kvm_config *cfg = &kvm->cfg;
	uint64_t low = kvm->ram_size < KVM_LOWMEM_END ? kvm->ram_size : KVM_LOWMEM_END;
	const char *append = cfg->append ? cfg->append : "console=ttyS0";
	struct hvm_memmap_table_entry *mm;
	struct e820_range map[MEMMAP_MAX];
	struct hvm_start_info *si;
	struct mapped m = map_file(cfg->kernel, KERNEL_MAX);
	struct pvh_image img;
	size_t cmdlen = strlen(append);
	int i, n;

	parse_or_die(cfg->kernel, &m, &img);
	if (img.end > low)
		die("%s: needs %llu MiB of RAM, --mem gives %llu MiB", cfg->kernel,
		    (unsigned long long)(img.end >> 20) + 1,
		    (unsigned long long)(kvm->ram_size >> 20));
	for (i = 0; i < img.nseg; i++) {
		const struct pvh_seg *sg = &img.seg[i];
		uint8_t *dst = gp(kvm, sg->paddr, sg->memsz, "kernel segment");

		memcpy(dst, m.p + sg->offset, sg->filesz);
		memset(dst + sg->filesz, 0, sg->memsz - sg->filesz);
	}
	munmap(m.p, m.len);

	si = gp(kvm, START_INFO, sizeof(*si), "start info");
	memset(si, 0, sizeof(*si));
	si->magic = HVM_START_MAGIC;
	si->version = 1;
	si->rsdp_paddr = ACPI_RSDP_ADDR;

	if (cmdlen >= CMDLINE_MAX)
		die("--append: %zu bytes, at most %d", cmdlen, CMDLINE_MAX - 1);
	memcpy(gp(kvm, CMDLINE_ADDR, cmdlen + 1, "command line"), append, cmdlen + 1);
	si->cmdline_paddr = CMDLINE_ADDR;

	if (cfg->initrd) {
		struct mapped rd = map_file(cfg->initrd, 1ULL << 31);
		struct hvm_modlist_entry *mod = gp(kvm, MODLIST, sizeof(*mod), "module list");
		uint64_t addr = (low - rd.len) & ~0xfffULL;

		if (rd.len > low || addr < img.end)
			die("%s: %zu MiB initrd does not fit above the kernel; give more --mem",
			    cfg->initrd, rd.len >> 20);
		memcpy(gp(kvm, addr, rd.len, "initrd"), rd.p, rd.len);
		memset(mod, 0, sizeof(*mod));
		mod->paddr = addr;
		mod->size = rd.len;
		munmap(rd.p, rd.len);
		si->nr_modules = 1;
		si->modlist_paddr = MODLIST;
	}

	n = e820__build(kvm->ram_size, KVM_LOWMEM_END, KVM_HIGHMEM_START, map, MEMMAP_MAX);
	if (n < 0)
		die("cannot describe %llu MiB of RAM",
		    (unsigned long long)(kvm->ram_size >> 20));
	mm = gp(kvm, MEMMAP, n * sizeof(*mm), "memory map");
	for (i = 0; i < n; i++) {
		mm[i].addr = map[i].addr;
		mm[i].size = map[i].size;
		mm[i].type = map[i].type;
		mm[i].reserved = 0;
	}
	si->memmap_paddr = MEMMAP;
	si->memmap_entries = n;

	setup_cpu(kvm, img.entry);
}
