// SPDX-License-Identifier: GPL-2.0
/*
 * The setup header of a bzImage, as Documentation/arch/x86/boot.rst lays
 * it out: boot sector flag 0xaa55 at 0x1fe, "HdrS" at 0x202, the protocol
 * version at 0x206, and the fields each version adds.  Everything read
 * from the file is checked against the file's length before use.
 */
#include <asm/bootparam.h>
#include <stddef.h>
#include <string.h>

#include "bzimage.h"
#include "memmap.h"

#define HDR_OFF		0x1f1
#define HDR_MAGIC	0x53726448	/* "HdrS" */
#define HDR_END_2_12	0x264		/* through init_size, the last field we use */

static int fail(const char **err, const char *msg)
{
	*err = msg;
	return -1;
}

int bzimage__parse(const uint8_t *img, size_t len, struct bzimage *bz,
		   const char **err)
{
	struct setup_header h;
	uint32_t setup_sects, hdr_end;

	memset(bz, 0, sizeof(*bz));
	if (!img || len < 0x400)
		return fail(err, "too short for a boot sector and setup header");
	/* Signatures first: the boot sector's and the setup header's. */
	if ((img[0x1fe] | img[0x1ff] << 8) != 0xaa55)
		return fail(err, "no boot sector signature (0xaa55 at 0x1fe)");
	if ((uint32_t)(img[0x202] | img[0x203] << 8 | img[0x204] << 16 |
		       (uint32_t)img[0x205] << 24) != HDR_MAGIC)
		return fail(err, "no \"HdrS\" setup header magic at 0x202: not a bzImage");
	/* The header ends at 0x202 + the jump's displacement byte. */
	hdr_end = 0x202 + img[0x201];
	if (hdr_end > len)
		return fail(err, "setup header runs past the end of the file");
	if (hdr_end < 0x208)
		return fail(err, "setup header too short to hold its version");
	/* Only the header's own bytes: fields past its end read as zero. */
	memset(&h, 0, sizeof(h));
	memcpy(&h, img + HDR_OFF, hdr_end - HDR_OFF < sizeof(h) ? hdr_end - HDR_OFF : sizeof(h));
	if (h.version < 0x0206)
		return fail(err, "boot protocol older than 2.06");
	if (hdr_end < HDR_END_2_12)
		return fail(err, "setup header shorter than its protocol version's");
	if (h.version < 0x020c || !(h.xloadflags & XLF_KERNEL_64))
		return fail(err, "no 64-bit entry point (needs protocol 2.12+ and XLF_KERNEL_64)");
	if (!(h.loadflags & LOADED_HIGH))
		return fail(err, "not a bzImage (zImage loaded low)");

	setup_sects = h.setup_sects ? h.setup_sects : 4;
	bz->setup_size = (setup_sects + 1) * 512;
	if (bz->setup_size >= len)
		return fail(err, "truncated: no protected-mode kernel after the setup sectors");
	bz->kernel_size = len - bz->setup_size;
	if ((uint64_t)h.syssize * 16 > bz->kernel_size)
		return fail(err, "truncated: shorter than its header's syssize");
	if (h.syssize == 0)
		return fail(err, "syssize is 0");

	bz->version = h.version;
	bz->hdr_len = (hdr_end - HDR_OFF) < sizeof(h) ? hdr_end - HDR_OFF : sizeof(h);
	bz->xloadflags = h.xloadflags;
	bz->relocatable = h.relocatable_kernel != 0;
	bz->kernel_alignment = h.kernel_alignment;
	bz->pref_address = h.pref_address;
	bz->init_size = h.init_size;
	bz->cmdline_size = h.cmdline_size;
	bz->initrd_addr_max = h.initrd_addr_max;

	if (bz->relocatable && (bz->kernel_alignment < 4096 ||
				(bz->kernel_alignment & (bz->kernel_alignment - 1))))
		return fail(err, "kernel_alignment is not a power of two >= 4096");
	if (bz->init_size < bz->kernel_size)
		return fail(err, "init_size is smaller than the kernel itself");
	if (bz->init_size > (1U << 30))
		return fail(err, "init_size above 1 GiB");
	if (!bz->relocatable && (bz->pref_address < MEM_HIGH_START ||
				 bz->pref_address + bz->init_size > MEM_PCI_HOLE_START))
		return fail(err, "not relocatable and pref_address is unusable");
	if (bz->cmdline_size == 0)
		return fail(err, "cmdline_size is 0");
	if (bz->initrd_addr_max < 0x100000)
		return fail(err, "initrd_addr_max below 1 MiB");
	return 0;
}
