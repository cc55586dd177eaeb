// SPDX-License-Identifier: GPL-2.0
/*
 * "--device cirrus-vga[,vram=MIB]": the model of cirrus.c on the runner.
 *
 *   PCI 1013:00b8, subsystem 1af4:1100, class 0x030000 (what Linux's
 *   cirrus DRM driver binds); BAR0 prefetchable memory = VRAM, a KVM
 *   memslot that follows the BAR (guest writes never exit); BAR1 4 KiB of
 *   registers (VGA ports at 0..0x1f, the blitter from 0x100).
 *   Ports 0x3b0-0x3df and the legacy window 0xa0000-0xbffff trap.
 *
 * The console learns what changed from KVM_GET_DIRTY_LOG on the VRAM slot,
 * logging only while a consumer is attached (set_active), plus what the
 * model wrote itself (blits, the legacy window).
 *
 * Locking: vCPU threads (ports, BARs, window) and the console's refresh
 * take d->lock; refresh runs under the console lock and calls back only
 * console_damage(), and the vCPU paths never call the console.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../runner/kvm.h"
#include "cirrus.h"
#include "console.h"
#include "platform.h"

struct cirrus_dev {
	pthread_mutex_t lock;
	struct cirrus vga;
	struct pci_dev pci;
	struct platform_ram *ram;
	uint64_t bitmap[CIRRUS_VRAM_MAX / CIRRUS_PAGE_SIZE / 64];
	bool pci_ok;
};

static void port_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct cirrus_dev *d = opaque;
	uint16_t port = (uint16_t)(CIRRUS_PORT_BASE + off);
	uint32_t v = 0, i;

	if (len != 1 && len != 2 && len != 4) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&d->lock);
	if (is_write) {
		for (i = 0; i < len; i++)
			v |= (uint32_t)data[i] << (8 * i);
		cirrus_port_write_n(&d->vga, port, v, len);
	} else {
		v = cirrus_port_read_n(&d->vga, port, len);
		for (i = 0; i < len; i++)
			data[i] = (uint8_t)(v >> (8 * i));
	}
	pthread_mutex_unlock(&d->lock);
}

static void window_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct cirrus_dev *d = opaque;
	uint32_t i;

	pthread_mutex_lock(&d->lock);
	for (i = 0; i < len; i++) {
		uint64_t a = off + i;

		if (a >= CIRRUS_LEGACY_SIZE) {
			if (!is_write)
				data[i] = 0xff;
		} else if (is_write) {
			cirrus_mem_write(&d->vga, (uint32_t)a, data[i]);
		} else {
			data[i] = cirrus_mem_read(&d->vga, (uint32_t)a);
		}
	}
	pthread_mutex_unlock(&d->lock);
}

/* BAR1, and BAR0 only where the memslot is not (e.g. while it moves). */
static void bar_access(struct pci_dev *pd, int bar, uint64_t off, uint8_t *data, uint32_t len,
		       bool is_write)
{
	struct cirrus_dev *d = pd->opaque;
	uint32_t v = 0, i;

	pthread_mutex_lock(&d->lock);
	if (bar == 0 && off < d->vga.vram_size && len <= d->vga.vram_size - off) {
		if (is_write) {
			memcpy(d->vga.vram + off, data, len);
			cirrus_mark_dirty(&d->vga, off, len);
		} else {
			memcpy(data, d->vga.vram + off, len);
		}
	} else if (bar == 1 && (len == 1 || len == 2 || len == 4)) {
		if (is_write) {
			for (i = 0; i < len; i++)
				v |= (uint32_t)data[i] << (8 * i);
			cirrus_mmio_write(&d->vga, (uint32_t)off, v, len);
		} else {
			v = cirrus_mmio_read(&d->vga, (uint32_t)off, len);
			for (i = 0; i < len; i++)
				data[i] = (uint8_t)(v >> (8 * i));
		}
	} else if (!is_write) {
		memset(data, 0xff, len);
	}
	pthread_mutex_unlock(&d->lock);
}

/* Console display ops. */

static void damage_cb(void *opaque, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	(void)opaque;
	console_damage(x, y, w, h);
}

static void display_refresh(void *opaque, struct con_surface *s)
{
	struct cirrus_dev *d = opaque;

	pthread_mutex_lock(&d->lock);
	/* On failure platform_ram_dirty() reports every page. */
	if (d->ram)
		platform_ram_dirty(d->ram, d->bitmap);
	else
		memset(d->bitmap, 0xff, sizeof(d->bitmap));
	cirrus_refresh(&d->vga, s, d->bitmap, damage_cb, d);
	pthread_mutex_unlock(&d->lock);
}

static void display_active(void *opaque, bool on)
{
	struct cirrus_dev *d = opaque;

	pthread_mutex_lock(&d->lock);
	if (d->ram && platform_ram_log(d->ram, on) < 0)
		warn("cirrus-vga: cannot %s dirty logging", on ? "start" : "stop");
	pthread_mutex_unlock(&d->lock);
}

static void display_describe(void *opaque, char *buf, unsigned int len)
{
	struct cirrus_dev *d = opaque;

	pthread_mutex_lock(&d->lock);
	cirrus_describe(&d->vga, buf, len);
	pthread_mutex_unlock(&d->lock);
}

static const struct console_display_ops display_ops = {
	.refresh = display_refresh,
	.set_active = display_active,
	.describe = display_describe,
};

/* The descriptor. */

static const char *const cirrus_keys[] = { "vram=", NULL };

static uint32_t vram_mib(const struct device_args *a)
{
	const char *v = device_arg(a, "vram");
	char *end;
	unsigned long n;

	if (!v)
		return CIRRUS_VRAM_DEFAULT >> 20;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || (n != 1 && n != 2 && n != 4 && n != 8 && n != 16))
		return 0;
	return (uint32_t)n;
}

static void cirrus_configure(struct kvm_config *cfg, struct device_args *a)
{
	(void)cfg;
	if (a->index > 0)
		device_usage(a, "only one cirrus-vga (it owns the legacy VGA ports)");
	if (!vram_mib(a))
		device_usage(a, "vram=%s: MiB of VRAM, one of 1, 2, 4, 8, 16",
			     device_arg(a, "vram"));
}

static int cirrus_create(struct kvm *kvm, struct device_args *a)
{
	uint32_t size = vram_mib(a) << 20;
	struct cirrus_dev *d;
	uint8_t *vram;

	(void)kvm;
	d = calloc(1, sizeof(*d));
	vram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!d || vram == MAP_FAILED || cirrus_init(&d->vga, vram, size) < 0) {
		warn("%s: cannot allocate %u MiB of VRAM", a->opt, size >> 20);
		return -1;
	}
	pthread_mutex_init(&d->lock, NULL);
	if (io__register(IO_PIO, CIRRUS_PORT_BASE, CIRRUS_PORT_COUNT, port_io, d) < 0 ||
	    io__register(IO_MMIO, MEM_VGA_START, MEM_VGA_SIZE, window_io, d) < 0) {
		warn("%s: the VGA ports or the 0xa0000 window are taken", a->opt);
		return -1;
	}
	pci_dev_init(&d->pci, CIRRUS_VENDOR_ID, CIRRUS_DEVICE_ID, CIRRUS_CLASS << 8,
		     CIRRUS_SUBSYS_VENDOR, CIRRUS_SUBSYS_ID, 0);
	d->pci.bar_access = bar_access;
	d->pci.opaque = d;
	/* BAR0 is exactly the VRAM (Linux maps the whole BAR); BAR1 the registers. */
	if (pci_dev_add_bar(&d->pci, 0, size, PCI_BAR_PREFETCH) < 0 ||
	    pci_dev_add_bar(&d->pci, 1, CIRRUS_MMIO_SIZE, 0) < 0)
		return -1;
	d->ram = platform_ram_create(vram, size, "cirrus-vga");
	if (!d->ram)
		return -1;
	if (platform_pci_add(&d->pci) >= 0) {
		d->pci_ok = true;
		if (platform_ram_bar(d->ram, &d->pci, 0, 0) < 0)
			return -1;
	} else {
		/* No PCI bus (flat images): the legacy ports and window still work. */
		warn("%s: no PCI bus here: legacy VGA only", a->opt);
	}
	if (console_set_display(&display_ops, d) < 0)
		warn("%s: another device owns the display; this one is not shown", a->opt);
	return 0;
}

static struct device_desc cirrus_desc = {
	.name = "cirrus-vga",
	.help = "[vram=MIB]  Cirrus CL-GD5446 VGA (1, 2, 4 (default), 8 or 16 MiB of VRAM)",
	.keys = cirrus_keys,
	.configure = cirrus_configure,
	.create = cirrus_create,
};
device_desc(cirrus_desc);
