// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for devices/cirrus.c and cirrus_blt.c: the input is a
 * sequence of guest accesses, each an opcode byte and its operands:
 *
 *   0 port write   port (0x3b0 + b % 0x30), value
 *   1 port read    port
 *   2 BAR1 write   offset (2 bytes, 0..0xfff), size (1/2/4), value (4 bytes)
 *   3 BAR1 read    offset (2 bytes), size
 *   4 window write offset (3 bytes, 0..0x1ffff), value
 *   5 window read  offset (3 bytes)
 *   6 blit         GR20..GR33 (20 bytes, GR31's ignored, GR23 & 1) and GR00/GR01,
 *                  then GR31 = start
 *   7 refresh      dirty-bitmap fill byte
 *
 * VRAM is a 1 MiB heap buffer of exactly that size (cleared for each input), so ASan sees any blit
 * or refresh that leaves it.  After each access the target also checks
 * what the model promises: no blit stays busy unless it waits for CPU
 * data, and a surface never reaches past its data_len.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../devices/cirrus.h"

#define FUZZ_VRAM	(1u << 20)

static struct cirrus cir;
static volatile uint8_t sink;

static void no_damage(void *opaque, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	const struct cirrus_mode *m = &((const struct cirrus *)opaque)->shown;

	if (!w || !h || (uint64_t)x + w > m->width || (uint64_t)y + h > m->height)
		__builtin_trap();
}

static void check_surface(const struct con_surface *s)
{
	uint64_t need, bpp;

	switch (s->format) {
	case CON_FMT_NONE:
		return;
	case CON_FMT_TEXT:
		need = (uint64_t)s->stride * s->height;
		if (s->stride != s->width * 2 || need > s->data_len || !s->palette)
			__builtin_trap();
		if (s->cursor_x >= (int)s->width || s->cursor_y >= (int)s->height)
			__builtin_trap();
		if (s->font)
			sink = s->font[256 * 16 - 1];
		break;
	default:
		bpp = s->format == CON_FMT_PAL8 ? 1 : s->format == CON_FMT_RGB888 ? 3 :
		      s->format == CON_FMT_XRGB8888 ? 4 : 2;
		need = (uint64_t)(s->height - 1) * s->stride + s->width * bpp;
		if (!s->width || !s->height || need > s->data_len)
			__builtin_trap();
		break;
	}
	sink = s->data[0];
	sink = s->data[need - 1];
	sink = s->data[s->data_len - 1];
}

static uint32_t get(const uint8_t **p, size_t *n, unsigned int bytes)
{
	uint32_t v = 0;
	unsigned int i;

	for (i = 0; i < bytes && *n; i++, (*p)++, (*n)--)
		v |= (uint32_t)**p << (8 * i);
	return v;
}

static void gr(struct cirrus *c, uint8_t i, uint8_t v)
{
	cirrus_port_write(c, 0x3ce, i);
	cirrus_port_write(c, 0x3cf, v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int sizes[4] = { 1, 2, 4, 1 };
	uint64_t dirty[FUZZ_VRAM / CIRRUS_PAGE_SIZE / 64];
	static uint8_t *vram;
	struct cirrus *c = &cir;
	struct con_surface s;
	uint32_t a, v;
	unsigned int i;

	if (!vram)
		vram = malloc(FUZZ_VRAM);	/* once: kept mapped, still in ASan's redzones */
	if (!vram)
		return 0;
	memset(vram, 0, FUZZ_VRAM);
	if (cirrus_init(c, vram, FUZZ_VRAM))
		__builtin_trap();
	while (size) {
		uint8_t op = (uint8_t)get(&data, &size, 1);

		switch (op & 7) {
		case 0:
			a = 0x3b0 + get(&data, &size, 1) % 0x30;
			cirrus_port_write(c, (uint16_t)a, (uint8_t)get(&data, &size, 1));
			break;
		case 1:
			sink = cirrus_port_read(c, (uint16_t)(0x3b0 + get(&data, &size, 1) % 0x30));
			break;
		case 2:
			a = get(&data, &size, 2) & 0xfff;
			v = get(&data, &size, 4);
			cirrus_mmio_write(c, a, v, sizes[(op >> 3) & 3]);
			break;
		case 3:
			a = get(&data, &size, 2) & 0xfff;
			sink = (uint8_t)cirrus_mmio_read(c, a, sizes[(op >> 3) & 3]);
			break;
		case 4:
			a = get(&data, &size, 3) & 0x1ffff;
			cirrus_mem_write(c, a, (uint8_t)get(&data, &size, 1));
			break;
		case 5:
			sink = cirrus_mem_read(c, get(&data, &size, 3) & 0x1ffff);
			break;
		case 6:
			/*
			 * Heights up to 512 here keep each run short; ops 0
			 * and 2 still reach every register value.
			 */
			for (i = 0x20; i <= 0x33; i++) {
				v = get(&data, &size, 1);
				if (i == 0x23)
					v &= 0x01;
				if (i != 0x31)
					gr(c, (uint8_t)i, (uint8_t)v);
			}
			gr(c, 0x00, (uint8_t)get(&data, &size, 1));
			gr(c, 0x01, (uint8_t)get(&data, &size, 1));
			gr(c, 0x31, 0x00);
			gr(c, 0x31, 0x02);
			break;
		case 7:
			memset(dirty, (int)get(&data, &size, 1), sizeof(dirty));
			cirrus_refresh(c, &s, dirty, no_damage, c);
			check_surface(&s);
			break;
		}
		if ((c->gr[0x31] & 0x01) && !c->sysblt.active)
			__builtin_trap();
	}
	cirrus_refresh(c, &s, NULL, NULL, NULL);
	check_surface(&s);
	return 0;
}
