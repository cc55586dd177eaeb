// SPDX-License-Identifier: GPL-2.0
/*
 * The runner's PCI host bridge and the platform calls of platform.h: the
 * bus of pci.c on ports CF8-CFF, its ECAM and its MMIO window; MSI
 * messages through irqfds on MSI routes (KVM_SET_GSI_ROUTING + KVM_IRQFD),
 * else KVM_SIGNAL_MSI; INTx through KVM_IRQ_LINE on the IOAPIC pin of the
 * slot; RAM-backed regions as KVM memslots that follow their BAR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "../runner/kvm.h"
#include "pci_host.h"
#include "platform.h"

#define MSI_GSI_BASE	24
#define NR_GSIS		24

struct platform_ram {
	const char *name;
	uint8_t *host;
	uint64_t len;
	int slot;
	uint64_t gpa;			/* mapped here; 0: not mapped */
	bool log, all_dirty;
	struct pci_dev *dev;		/* following BAR @bar of @dev at @off */
	int bar;
	uint64_t off;
	struct platform_ram *next;
};

/* A plugged function and the bar_moved it came with. */
struct host_fn {
	struct pci_dev *d;
	void (*bar_moved)(struct pci_dev *d, int bar, uint64_t was, uint64_t now);
};

static struct pci_host {
	struct kvm *kvm;
	bool active;			/* Linux guest: the bus exists */
	struct pci_bus bus;
	struct host_fn fn[PCI_SLOTS];
	bool irqfd, signal_msi;
	pthread_mutex_t lock;		/* routes, INTx levels, RAM regions */
	struct platform_msi *routes;
	uint32_t next_gsi;
	uint32_t intx[NR_GSIS];		/* per IOAPIC pin: slots holding it high */
	struct platform_ram *rams;
} host = { .lock = PTHREAD_MUTEX_INITIALIZER };

struct kvm *platform_kvm(void)
{
	return host.kvm;
}

static void *vmem_ptr(void *opaque, uint64_t gpa, uint64_t len)
{
	return guest_ptr(opaque, gpa, len);
}

struct vmem platform_vmem(void)
{
	return (struct vmem){ vmem_ptr, host.kvm };
}

struct pci_bus *platform_pci_bus(void)
{
	return &host.bus;
}

static void cf8_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct pci_bus *b = opaque;

	pthread_mutex_lock(&b->lock);
	pci_cf8_access(b, off, data, len, is_write);
	pthread_mutex_unlock(&b->lock);
}

static void ecam_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct pci_bus *b = opaque;

	pthread_mutex_lock(&b->lock);
	pci_ecam_access(b, off, data, len, is_write);
	pthread_mutex_unlock(&b->lock);
}

static void window_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct pci_bus *b = opaque;
	struct pci_dev *d;
	uint64_t boff;
	bool hit;
	int bar;

	pthread_mutex_lock(&b->lock);
	hit = pci_mmio_lookup(b, b->mmio_base + off, len, &d, &bar, &boff);
	pthread_mutex_unlock(&b->lock);
	if (hit && d->bar_access)
		d->bar_access(d, bar, boff, data, len, is_write);
	else if (!is_write)
		memset(data, 0xff, len);
}

/* Interrupts. */

void platform_irq_line(unsigned int gsi, int level)
{
	kvm__irq_line(host.kvm, gsi, level);
}

void platform_pci_intx(struct pci_dev *d, int level)
{
	unsigned int pin = d->cfg[PCI_INTERRUPT_PIN], gsi;
	bool was, now;

	if (pin < 1 || pin > 4 || d->slot >= PCI_SLOTS)
		return;
	gsi = PCI_INTX_GSI(d->slot, pin - 1);
	pthread_mutex_lock(&host.lock);
	was = host.intx[gsi];
	if (level)
		host.intx[gsi] |= 1U << d->slot;
	else
		host.intx[gsi] &= ~(1U << d->slot);
	now = host.intx[gsi];
	/* Under the lock, so that two devices on one pin cannot reorder raise and lower. */
	if (was != now)
		kvm__irq_line(host.kvm, gsi, now);
	pthread_mutex_unlock(&host.lock);
}

/* The irqchip routes KVM starts with (GSI 0-15 on both PICs and the IOAPIC), then ours. */
static int commit_routes(void)
{
	struct kvm_irq_routing *r;
	struct platform_msi *m;
	unsigned int n = 0, i;
	int ret;

	for (m = host.routes; m; m = m->next)
		n++;
	r = calloc(1, sizeof(*r) + (16 * 2 + 8 + n) * sizeof(r->entries[0]));
	if (!r)
		return -1;
	n = 0;
	for (i = 0; i < NR_GSIS; i++) {
		r->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = i, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = i } };
		if (i < 16)
			r->entries[n++] = (struct kvm_irq_routing_entry){
				.gsi = i, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { .irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER :
					       KVM_IRQCHIP_PIC_SLAVE, .pin = i & 7 } };
	}
	for (m = host.routes; m; m = m->next)
		r->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = m->gsi, .type = KVM_IRQ_ROUTING_MSI,
			.u.msi = { .address_lo = m->addr, .address_hi = m->addr >> 32,
				   .data = m->data } };
	r->nr = n;
	ret = ioctl(host.kvm->vm_fd, KVM_SET_GSI_ROUTING, r);
	if (ret < 0)
		warn("KVM_SET_GSI_ROUTING: %s", strerror(errno));
	free(r);
	return ret;
}

static void signal_msi(uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = { .address_lo = addr, .address_hi = addr >> 32, .data = data };

	if (ioctl(host.kvm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		warn("KVM_SIGNAL_MSI: %s", strerror(errno));
}

void platform_msi_init(struct platform_msi *m)
{
	*m = (struct platform_msi){ .efd = -1 };
}

/* An irqfd per vector, its MSI route rewritten when the driver reprograms the vector. */
static bool irqfd_msi(struct platform_msi *m, uint64_t addr, uint32_t data)
{
	uint64_t one = 1;
	bool ok = true;

	pthread_mutex_lock(&host.lock);
	if (m->failed) {
		ok = false;
	} else if (m->efd < 0) {
		struct kvm_irqfd irqfd = { .gsi = host.next_gsi };

		m->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		m->gsi = host.next_gsi++;
		m->addr = addr;
		m->data = data;
		m->next = host.routes;
		host.routes = m;
		irqfd.fd = m->efd;
		if (m->efd < 0 || commit_routes() < 0 ||
		    ioctl(host.kvm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
			warn("irqfd for MSI: %s; using KVM_SIGNAL_MSI", strerror(errno));
			host.irqfd = false;
			m->failed = true;
			ok = false;
		}
	} else if (m->addr != addr || m->data != data) {
		m->addr = addr;
		m->data = data;
		if (commit_routes() < 0) {
			host.irqfd = false;
			m->failed = true;
			ok = false;
		}
	}
	pthread_mutex_unlock(&host.lock);
	if (ok && write(m->efd, &one, sizeof(one)) != sizeof(one))
		ok = false;
	return ok;
}

void platform_msi(struct platform_msi *m, uint64_t addr, uint32_t data)
{
	if (m && host.irqfd && irqfd_msi(m, addr, data))
		return;
	signal_msi(addr, data);
}

/* RAM-backed regions. */

static int ram_set(struct platform_ram *r, uint64_t gpa)
{
	uint32_t flags = r->log ? KVM_MEM_LOG_DIRTY_PAGES : 0;

	if (r->gpa == gpa)
		return 0;
	if (r->gpa && kvm__set_memslot(host.kvm, r->slot, r->gpa, 0, NULL, 0) < 0)
		return -1;
	r->gpa = 0;
	r->all_dirty = true;
	if (gpa && kvm__set_memslot(host.kvm, r->slot, gpa, r->len, r->host, flags) < 0)
		return -1;
	r->gpa = gpa;
	return 0;
}

struct platform_ram *platform_ram_create(void *host_mem, uint64_t len, const char *name)
{
	struct platform_ram *r;
	int slot;

	if (!len || (len & 0xfff) || ((uintptr_t)host_mem & 0xfff)) {
		warn("%s: RAM region of 0x%llx bytes at %p is not page aligned", name,
		     (unsigned long long)len, host_mem);
		return NULL;
	}
	slot = kvm__memslot_alloc(host.kvm);
	r = calloc(1, sizeof(*r));
	if (slot < 0 || !r) {
		warn("%s: no memslot for its RAM", name);
		free(r);
		return NULL;
	}
	*r = (struct platform_ram){ .name = name, .host = host_mem, .len = len, .slot = slot,
				    .all_dirty = true, .bar = -1 };
	pthread_mutex_lock(&host.lock);
	r->next = host.rams;
	host.rams = r;
	pthread_mutex_unlock(&host.lock);
	return r;
}

int platform_ram_map(struct platform_ram *r, uint64_t gpa)
{
	int ret;

	if (gpa & 0xfff)
		return -1;
	pthread_mutex_lock(&host.lock);
	ret = ram_set(r, gpa);
	pthread_mutex_unlock(&host.lock);
	return ret;
}

uint64_t platform_ram_gpa(const struct platform_ram *r)
{
	uint64_t gpa;

	pthread_mutex_lock(&host.lock);
	gpa = r->gpa;
	pthread_mutex_unlock(&host.lock);
	return gpa;
}

/* A BAR moved (under the bus lock): move the regions that follow it, then tell the device. */
static void host_bar_moved(struct pci_dev *d, int bar, uint64_t was, uint64_t now)
{
	struct platform_ram *r;

	pthread_mutex_lock(&host.lock);
	for (r = host.rams; r; r = r->next)
		if (r->dev == d && r->bar == bar && ram_set(r, now ? now + r->off : 0) < 0)
			warn("%s: cannot move its RAM to 0x%llx", r->name,
			     (unsigned long long)now);
	pthread_mutex_unlock(&host.lock);
	if (d->slot < PCI_SLOTS && host.fn[d->slot].d == d && host.fn[d->slot].bar_moved)
		host.fn[d->slot].bar_moved(d, bar, was, now);
}

int platform_ram_bar(struct platform_ram *r, struct pci_dev *d, int bar, uint64_t off)
{
	uint64_t now;
	int ret = 0;

	if (bar < 0 || bar > 5 || (off & 0xfff) || off > d->bar[bar].size ||
	    r->len > d->bar[bar].size - off) {
		warn("%s: RAM of 0x%llx bytes does not fit BAR%d at 0x%llx", r->name,
		     (unsigned long long)r->len, bar, (unsigned long long)off);
		return -1;
	}
	pthread_mutex_lock(&host.bus.lock);
	pthread_mutex_lock(&host.lock);
	r->dev = d;
	r->bar = bar;
	r->off = off;
	now = d->bar[bar].mapped;
	ret = ram_set(r, now ? now + off : 0);
	pthread_mutex_unlock(&host.lock);
	pthread_mutex_unlock(&host.bus.lock);
	return ret;
}

int platform_ram_log(struct platform_ram *r, bool on)
{
	int ret = 0;

	pthread_mutex_lock(&host.lock);
	if (r->log != on) {
		r->log = on;
		r->all_dirty = true;
		if (r->gpa)
			ret = kvm__set_memslot(host.kvm, r->slot, r->gpa, r->len, r->host,
					       on ? KVM_MEM_LOG_DIRTY_PAGES : 0);
	}
	pthread_mutex_unlock(&host.lock);
	return ret;
}

int platform_ram_dirty(struct platform_ram *r, uint64_t *bitmap)
{
	uint64_t pages = r->len >> 12, words = (pages + 63) / 64;
	struct kvm_dirty_log log = { .slot = r->slot, .dirty_bitmap = bitmap };
	int ret = 0;

	pthread_mutex_lock(&host.lock);
	memset(bitmap, 0, words * 8);
	if (r->log && r->gpa && ioctl(host.kvm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
		warn("%s: KVM_GET_DIRTY_LOG: %s", r->name, strerror(errno));
		ret = -1;
	}
	if (r->all_dirty || !r->log || !r->gpa || ret < 0) {
		memset(bitmap, 0xff, words * 8);
		if (pages % 64)
			bitmap[words - 1] = (1ULL << (pages % 64)) - 1;
		r->all_dirty = !r->log || !r->gpa;
	}
	pthread_mutex_unlock(&host.lock);
	return ret;
}

/* The bus. */

int platform_pci_add(struct pci_dev *d)
{
	int slot;

	if (!host.active)
		return -1;
	pthread_mutex_lock(&host.bus.lock);
	slot = pci_bus_add(&host.bus, d);
	if (slot >= 0) {
		host.fn[slot] = (struct host_fn){ d, d->bar_moved };
		d->bar_moved = host_bar_moved;
	}
	pthread_mutex_unlock(&host.bus.lock);
	return slot;
}

static int pci_host_init(struct kvm *kvm)
{
	host.kvm = kvm;
	if (kvm->cfg.boot != BOOT_LINUX)
		return 0;
	host.active = true;
	host.next_gsi = MSI_GSI_BASE;
	host.irqfd = kvm__check_extension(kvm, KVM_CAP_IRQFD) > 0 &&
		     kvm__check_extension(kvm, KVM_CAP_IRQ_ROUTING) > 0;
	host.signal_msi = kvm__check_extension(kvm, KVM_CAP_SIGNAL_MSI) > 0;
	pci_bus_init(&host.bus, PCI_MMIO_BASE, PCI_MMIO_SIZE);
	if (io__register(IO_PIO, PCI_CF8_PORT, 8, cf8_io, &host.bus) < 0 ||
	    io__register(IO_MMIO, PCI_ECAM_BASE, PCI_ECAM_SIZE, ecam_io, &host.bus) < 0 ||
	    io__register(IO_MMIO, PCI_MMIO_BASE, PCI_MMIO_SIZE, window_io, &host.bus) < 0)
		return -1;
	return 0;
}
device_init(pci_host_init);

/* After every device: place the BARs as firmware would. */
static int pci_host_assign(struct kvm *kvm)
{
	unsigned int s, n = 0;

	if (kvm->cfg.boot != BOOT_LINUX)
		return 0;
	for (s = 1; s < PCI_SLOTS; s++)
		n += !!host.bus.dev[s];
	if (n && !host.signal_msi && !host.irqfd)
		warn("no KVM_SIGNAL_MSI or irqfd: PCI devices fall back to INTx");
	pthread_mutex_lock(&host.bus.lock);
	pci_bus_assign(&host.bus);
	pthread_mutex_unlock(&host.bus.lock);
	return 0;
}
device_late_init(pci_host_assign);
