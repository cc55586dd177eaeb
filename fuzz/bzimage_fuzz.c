// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the bzImage setup-header parser (runner/bzimage.c) and
 * the copies boot_linux__load() makes from what it accepts: those must stay
 * inside the file and the zero page's header, or the target aborts.
 */
#include <asm/bootparam.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../runner/bzimage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct boot_params zp;
	struct bzimage bz;
	const char *err = NULL;
	uint8_t *img;

	/* A copy of exactly size bytes, so ASan sees any read past the end. */
	img = malloc(size ? size : 1);
	if (!img)
		abort();
	memcpy(img, data, size);
	if (bzimage__parse(img, size, &bz, &err) < 0) {
		if (!err || !err[0])
			abort();
		free(img);
		return 0;
	}
	if (bz.setup_size >= size || bz.kernel_size != size - bz.setup_size)
		abort();
	if (bz.hdr_len > sizeof(zp.hdr) || 0x1f1 + (size_t)bz.hdr_len > size)
		abort();
	if (bz.init_size < bz.kernel_size || !bz.cmdline_size || bz.initrd_addr_max < 0x100000)
		abort();
	memcpy(&zp.hdr, img + 0x1f1, bz.hdr_len);
	/* The kernel's bytes are all readable. */
	if (bz.kernel_size && img[bz.setup_size + bz.kernel_size - 1] == 0x5a)
		zp.hdr.type_of_loader = 0xff;
	free(img);
	return 0;
}
