// SPDX-License-Identifier: GPL-2.0
/*
 * The runner's PCI host bridge and virtio devices: the bus of pci.c on
 * ports CF8-CFF, its ECAM and its MMIO window, the virtio-pci functions
 * for --disk (raw images on io_uring), --console virtio and --rng, and
 * their connection to KVM:
 * queue notifications through KVM_IOEVENTFD into the event loop (MMIO
 * exits where the device has no ioeventfd), MSI-X messages through irqfds
 * on MSI routes (KVM_SET_GSI_ROUTING + KVM_IRQFD), else KVM_SIGNAL_MSI,
 * INTx through KVM_IRQ_LINE on the IOAPIC pin of the slot.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>

#include "../runner/device.h"
#include "../runner/evloop.h"
#include "../runner/ioport.h"
#include "../runner/kvm.h"
#include "../runner/term.h"
#include "blk_uring.h"
#include "disk.h"
#include "pci_host.h"
#include "virtio_devs.h"
#include "virtio_pci.h"

#define MAX_VDEVS	(KVM_MAX_DISKS + 3)
#define MSI_GSI_BASE	24

struct vnotify {
	struct virtio_dev *vd;
	unsigned int q;
	int efd;
};

struct msi_route {
	int efd;		/* irqfd, -1: none yet */
	uint32_t gsi;
	uint64_t addr;
	uint32_t data;
};

static struct pci_host {
	struct kvm *kvm;
	struct pci_bus bus;
	struct virtio_pci vp[MAX_VDEVS];
	struct vnotify notify[MAX_VDEVS][VIRTIO_MAX_QUEUES];
	struct msi_route route[MAX_VDEVS][VPCI_MAX_VECTORS];
	int nr;
	bool ioeventfd, irqfd, signal_msi;
	pthread_mutex_t route_lock;
	uint32_t next_gsi;
	struct virtio_dev *console;
} host = { .route_lock = PTHREAD_MUTEX_INITIALIZER };

static void *vmem_ptr(void *opaque, uint64_t gpa, uint64_t len)
{
	return guest_ptr(opaque, gpa, len);
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

static int vp_index(struct virtio_pci *vp)
{
	return vp - host.vp;
}

/* The irqchip routes KVM starts with (GSI 0-15 on both PICs and the IOAPIC), then ours. */
static int commit_routes(void)
{
	struct kvm_irq_routing *r;
	unsigned int n = 0, i, v;
	int ret;

	r = calloc(1, sizeof(*r) + (16 * 2 + 8 + MAX_VDEVS * VPCI_MAX_VECTORS) *
		   sizeof(r->entries[0]));
	if (!r)
		return -1;
	for (i = 0; i < 24; i++) {
		r->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = i, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = i } };
		if (i < 16)
			r->entries[n++] = (struct kvm_irq_routing_entry){
				.gsi = i, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { .irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER :
					       KVM_IRQCHIP_PIC_SLAVE, .pin = i & 7 } };
	}
	for (i = 0; i < MAX_VDEVS; i++)
		for (v = 0; v < VPCI_MAX_VECTORS; v++) {
			struct msi_route *m = &host.route[i][v];

			if (m->efd < 0)
				continue;
			r->entries[n++] = (struct kvm_irq_routing_entry){
				.gsi = m->gsi, .type = KVM_IRQ_ROUTING_MSI,
				.u.msi = { .address_lo = m->addr, .address_hi = m->addr >> 32,
					   .data = m->data } };
		}
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

/* An irqfd per vector, its MSI route rewritten when the driver reprograms the vector. */
static bool irqfd_msi(int dev, unsigned int v, uint64_t addr, uint32_t data)
{
	struct msi_route *m = &host.route[dev][v];
	uint64_t one = 1;
	bool ok = true;

	pthread_mutex_lock(&host.route_lock);
	if (m->efd < 0) {
		struct kvm_irqfd irqfd = { .gsi = host.next_gsi };

		m->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		m->gsi = host.next_gsi++;
		m->addr = addr;
		m->data = data;
		irqfd.fd = m->efd;
		if (m->efd < 0 || commit_routes() < 0 ||
		    ioctl(host.kvm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
			warn("irqfd for MSI: %s; using KVM_SIGNAL_MSI", strerror(errno));
			host.irqfd = false;
			ok = false;
		}
	} else if (m->addr != addr || m->data != data) {
		m->addr = addr;
		m->data = data;
		if (commit_routes() < 0) {
			host.irqfd = false;
			ok = false;
		}
	}
	pthread_mutex_unlock(&host.route_lock);
	if (ok && write(m->efd, &one, sizeof(one)) != sizeof(one))
		ok = false;
	return ok;
}

static void plat_msi(void *opaque, struct virtio_pci *vp, unsigned int v, uint64_t addr,
		     uint32_t data)
{
	(void)opaque;
	if (host.irqfd && irqfd_msi(vp_index(vp), v, addr, data))
		return;
	signal_msi(addr, data);
}

static void plat_intx(void *opaque, struct virtio_pci *vp, int level)
{
	(void)opaque;
	kvm__irq_line(host.kvm, PCI_INTX_GSI(vp->pci.slot, 0), level);
}

static void set_ioeventfd(struct vnotify *n, uint64_t addr, bool assign)
{
	struct kvm_ioeventfd io = {
		.addr = addr, .len = 2, .fd = n->efd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	if (ioctl(host.kvm->vm_fd, KVM_IOEVENTFD, &io) < 0)
		warn("KVM_IOEVENTFD %s 0x%llx: %s", assign ? "assign" : "deassign",
		     (unsigned long long)addr, strerror(errno));
}

static void plat_notify_moved(void *opaque, struct virtio_pci *vp, unsigned int q,
			      uint64_t was, uint64_t now)
{
	struct vnotify *n = &host.notify[vp_index(vp)][q];

	(void)opaque;
	if (!host.ioeventfd || n->efd < 0)
		return;
	if (was)
		set_ioeventfd(n, was, false);
	if (now)
		set_ioeventfd(n, now, true);
}

static const struct virtio_pci_platform platform = {
	.msi = plat_msi,
	.intx = plat_intx,
	.notify_moved = plat_notify_moved,
};

static void notify_ready(void *opaque, int fd)
{
	struct vnotify *n = opaque;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) == sizeof(v))
		virtio_notify(n->vd, n->q);
}

static int add_vdev(struct virtio_dev *vd)
{
	int i = host.nr;
	unsigned int q;

	if (!vd || i == MAX_VDEVS)
		return -1;
	if (virtio_pci_init(&host.vp[i], vd, &platform) < 0 ||
	    pci_bus_add(&host.bus, &host.vp[i].pci) < 0)
		return -1;
	snprintf(vd->label, sizeof(vd->label), "%s 00:%02x.0", vd->ops->name,
		 host.vp[i].pci.slot);
	for (q = 0; q < vd->ops->nr_queues; q++) {
		struct vnotify *n = &host.notify[i][q];

		*n = (struct vnotify){ vd, q, -1 };
		if (!host.ioeventfd)
			continue;
		n->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (n->efd < 0 || evloop__add(n->efd, notify_ready, n) < 0)
			die("virtqueue notification eventfd: %s", strerror(errno));
	}
	host.nr++;
	return 0;
}

static int rng_fill(void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom((uint8_t *)buf + done, len - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

static void console_out(void *opaque, const uint8_t *buf, size_t len)
{
	(void)opaque;
	while (len) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= n;
	}
}

static int console_in(void *opaque, uint8_t byte)
{
	return virtio_console_input(opaque, &byte, 1) == 1 ? 0 : -1;
}

struct tap {
	int fd;
	struct virtio_dev *vd;
	uint8_t buf[VIRTIO_NET_MAX_FRAME];
};

static void tap_send(void *opaque, const struct iovec *iov, unsigned int n)
{
	struct tap *t = opaque;

	/* A tap takes or drops a whole frame per write, as a wire would. */
	while (writev(t->fd, iov, n) < 0 && errno == EINTR)
		;
}

static void tap_ready(void *opaque, int fd)
{
	struct tap *t = opaque;
	int i;

	for (i = 0; i < 64; i++) {	/* then let the other fds have a turn */
		ssize_t n = read(fd, t->buf, sizeof(t->buf));

		if (n <= 0)
			return;
		virtio_net_receive(t->vd, t->buf, n);
	}
}

static struct tap *tap_open(const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	struct tap *t = calloc(1, sizeof(*t));

	if (!t)
		die("out of memory");
	if (strlen(name) >= IFNAMSIZ)
		die("--net tap=%s: name too long", name);
	strcpy(ifr.ifr_name, name);
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0)
		die("/dev/net/tun: %s", strerror(errno));
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0)
		die("--net tap=%s: TUNSETIFF: %s", name, strerror(errno));
	return t;
}

static int pci_host_init(struct kvm *kvm)
{
	struct vmem mem = { vmem_ptr, kvm };
	char err[256], label[32];
	struct virtio_dev *vd;
	int i, j;

	if (kvm->cfg.boot != BOOT_LINUX)
		return 0;
	host.kvm = kvm;
	for (i = 0; i < MAX_VDEVS; i++)
		for (j = 0; j < VPCI_MAX_VECTORS; j++)
			host.route[i][j].efd = -1;
	host.next_gsi = MSI_GSI_BASE;
	host.ioeventfd = kvm__check_extension(kvm, KVM_CAP_IOEVENTFD) > 0;
	host.irqfd = kvm__check_extension(kvm, KVM_CAP_IRQFD) > 0 &&
		     kvm__check_extension(kvm, KVM_CAP_IRQ_ROUTING) > 0;
	host.signal_msi = kvm__check_extension(kvm, KVM_CAP_SIGNAL_MSI) > 0;
	pci_bus_init(&host.bus, PCI_MMIO_BASE, PCI_MMIO_SIZE);
	if (io__register(IO_PIO, PCI_CF8_PORT, 8, cf8_io, &host.bus) < 0 ||
	    io__register(IO_MMIO, PCI_ECAM_BASE, PCI_ECAM_SIZE, ecam_io, &host.bus) < 0 ||
	    io__register(IO_MMIO, PCI_MMIO_BASE, PCI_MMIO_SIZE, window_io, &host.bus) < 0)
		return -1;

	for (i = 0; i < kvm->cfg.nr_disks; i++) {
		const struct kvm_disk_config *dc = &kvm->cfg.disks[i];
		struct disk *d = disk_open(dc->path, dc->format, dc->readonly, err, sizeof(err));

		if (!d)
			die("--disk %s: %s", dc->path, err);
		snprintf(label, sizeof(label), "kvmlite-disk%d", i);
		vd = virtio_blk_create(&mem, d, label, "virtio-blk");
		if (add_vdev(vd) < 0)
			die("--disk %s: no room for another PCI device", dc->path);
		/* Raw images: guest offsets are file offsets, io_uring reads and writes them. */
		if (d->format == DISK_FMT_RAW && !dc->sync_io)
			blk_uring_attach(vd, d->fd);
	}
	if (kvm->cfg.console == CONSOLE_VIRTIO) {
		host.console = virtio_console_create(&mem, console_out, NULL, "virtio-console");
		if (add_vdev(host.console) < 0)
			die("virtio-console: no room for another PCI device");
		term__init(kvm, console_in, host.console);
	}
	if (kvm->cfg.rng && add_vdev(virtio_rng_create(&mem, rng_fill, "virtio-rng")) < 0)
		die("virtio-rng: no room for another PCI device");
	if (kvm->cfg.tap) {
		static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
		struct tap *t = tap_open(kvm->cfg.tap);

		t->vd = virtio_net_create(&mem, mac, tap_send, t, "virtio-net");
		if (add_vdev(t->vd) < 0)
			die("virtio-net: no room for another PCI device");
		if (evloop__add(t->fd, tap_ready, t) < 0)
			die("tap: %s", strerror(errno));
	}
	if ((host.nr && !host.signal_msi && !host.irqfd))
		warn("no KVM_SIGNAL_MSI or irqfd: virtio devices fall back to INTx");
	pci_bus_assign(&host.bus);
	return 0;
}
device_init(pci_host_init);
