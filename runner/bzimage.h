/* SPDX-License-Identifier: GPL-2.0 */
/* Parse and check the setup header of an x86 bzImage (Linux boot protocol). */
#ifndef KVL_RUNNER_BZIMAGE_H
#define KVL_RUNNER_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

struct bzimage {
	uint16_t version;		/* boot protocol, 0x020f is 2.15 */
	uint32_t setup_size;		/* real-mode part, (setup_sects + 1) * 512 */
	uint32_t kernel_size;		/* protected-mode part that follows it */
	uint32_t hdr_len;		/* bytes of setup header from 0x1f1 */
	uint16_t xloadflags;
	int relocatable;
	uint32_t kernel_alignment;
	uint64_t pref_address;
	uint32_t init_size;		/* memory the kernel needs from its load address */
	uint32_t cmdline_size;		/* longest command line, without the NUL */
	uint32_t initrd_addr_max;	/* highest address of an initrd byte */
};

/*
 * Check @len bytes at @img as a bzImage the runner can boot through the
 * 64-bit entry point.  Returns 0 and fills @bz, or -1 with *@err set to a
 * static message.
 */
int bzimage__parse(const uint8_t *img, size_t len, struct bzimage *bz,
		   const char **err);

#endif
