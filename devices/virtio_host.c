// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio devices as --device descriptors (runner/device.h) on the
 * platform calls of platform.h: virtio-blk (--disk), virtio-console
 * (--console virtio), virtio-rng (--rng) and virtio-net (--net).  Queue
 * notifications come through KVM_IOEVENTFD into the event loop (MMIO exits
 * where the device has no ioeventfd); each MSI-X vector has its own
 * platform_msi route.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>

#include "../runner/kvm.h"
#include "../runner/term.h"
#include "blk_uring.h"
#include "disk.h"
#include "platform.h"
#include "virtio_devs.h"
#include "virtio_pci.h"

#define VIRTIO_MAX_DISKS	8

struct vnotify {
	struct virtio_dev *vd;
	unsigned int q;
	int efd;
};

/* One virtio-pci function and its connection to KVM. */
struct vhost {
	struct virtio_pci vp;
	struct platform_msi msi[VPCI_MAX_VECTORS];
	struct vnotify notify[VIRTIO_MAX_QUEUES];
};

static struct vhost *to_vhost(struct virtio_pci *vp)
{
	return (struct vhost *)((char *)vp - offsetof(struct vhost, vp));
}

static void plat_msi(void *opaque, struct virtio_pci *vp, unsigned int v, uint64_t addr,
		     uint32_t data)
{
	(void)opaque;
	platform_msi(v < VPCI_MAX_VECTORS ? &to_vhost(vp)->msi[v] : NULL, addr, data);
}

static void plat_intx(void *opaque, struct virtio_pci *vp, int level)
{
	(void)opaque;
	platform_pci_intx(&vp->pci, level);
}

static void set_ioeventfd(struct vnotify *n, uint64_t addr, bool assign)
{
	struct kvm_ioeventfd io = {
		.addr = addr, .len = 2, .fd = n->efd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	if (ioctl(platform_kvm()->vm_fd, KVM_IOEVENTFD, &io) < 0)
		warn("KVM_IOEVENTFD %s 0x%llx: %s", assign ? "assign" : "deassign",
		     (unsigned long long)addr, strerror(errno));
}

static void plat_notify_moved(void *opaque, struct virtio_pci *vp, unsigned int q,
			      uint64_t was, uint64_t now)
{
	struct vnotify *n;

	(void)opaque;
	if (q >= VIRTIO_MAX_QUEUES)
		return;
	n = &to_vhost(vp)->notify[q];
	if (n->efd < 0)
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

/* Plug @vd in as a PCI function; -1 (reported) when it cannot be. */
static int add_vdev(const struct device_args *a, struct virtio_dev *vd)
{
	struct kvm *kvm = platform_kvm();
	struct vhost *h;
	unsigned int q, v;
	int slot;

	if (!vd)
		return -1;
	h = calloc(1, sizeof(*h));
	if (!h || virtio_pci_init(&h->vp, vd, &platform) < 0) {
		warn("%s: cannot create the PCI function", a->opt);
		return -1;
	}
	for (v = 0; v < VPCI_MAX_VECTORS; v++)
		platform_msi_init(&h->msi[v]);
	slot = platform_pci_add(&h->vp.pci);
	if (slot < 0) {
		warn("%s: no room for another PCI device", a->opt);
		return -1;
	}
	snprintf(vd->label, sizeof(vd->label), "%s 00:%02x.0", vd->ops->name, slot);
	for (q = 0; q < vd->ops->nr_queues && q < VIRTIO_MAX_QUEUES; q++) {
		struct vnotify *n = &h->notify[q];

		*n = (struct vnotify){ vd, q, -1 };
		if (kvm__check_extension(kvm, KVM_CAP_IOEVENTFD) <= 0)
			continue;
		n->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (n->efd < 0 || evloop__add(n->efd, notify_ready, n) < 0)
			die("virtqueue notification eventfd: %s", strerror(errno));
	}
	return 0;
}

/* virtio-blk */

static const char *const blk_keys[] = { "file=", "format=", "readonly", "aio=", NULL };

static void blk_configure(struct kvm_config *cfg, struct device_args *a)
{
	const char *file = device_arg(a, "file"), *fmt = device_arg(a, "format");
	const char *aio = device_arg(a, "aio");
	int f = disk_format_parse(fmt);

	(void)cfg;
	if (a->index >= VIRTIO_MAX_DISKS)
		device_usage(a, "at most %d disks ('%s')", VIRTIO_MAX_DISKS, a->spec);
	if (!file || !file[0])
		device_usage(a, "no file in '%s'", a->spec);
	if (fmt && (f < 0 || f == DISK_FMT_AUTO))
		device_usage(a, "unknown format '%s' (raw, qcow2)", fmt);
	if (aio && strcmp(aio, "io_uring") && strcmp(aio, "sync"))
		device_usage(a, "unknown aio '%s' (io_uring, sync)", aio);
}

static int blk_create(struct kvm *kvm, struct device_args *a)
{
	const char *path = device_arg(a, "file"), *aio = device_arg(a, "aio");
	struct vmem mem = platform_vmem();
	char err[256], label[32];
	struct virtio_dev *vd;
	struct disk *d;

	(void)kvm;
	d = disk_open(path, disk_format_parse(device_arg(a, "format")),
		      device_flag(a, "readonly"), err, sizeof(err));
	if (!d)
		die("%s %s: %s", a->opt, path, err);
	snprintf(label, sizeof(label), "kvmlite-disk%d", a->index);
	vd = virtio_blk_create(&mem, d, label, "virtio-blk");
	if (add_vdev(a, vd) < 0)
		return -1;
	/* Raw images: guest offsets are file offsets, io_uring reads and writes them. */
	if (d->format == DISK_FMT_RAW && !(aio && !strcmp(aio, "sync")))
		blk_uring_attach(vd, d->fd);
	return 0;
}

static struct device_desc blk_desc = {
	.name = "virtio-blk",
	.help = "file=F[,format=raw|qcow2][,readonly][,aio=io_uring|sync]  a disk (--disk)",
	.keys = blk_keys,
	.configure = blk_configure,
	.create = blk_create,
};
device_desc(blk_desc);

/* virtio-console on stdio */

static const char *const no_keys[] = { NULL };

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

static void console_configure(struct kvm_config *cfg, struct device_args *a)
{
	if (a->index > 0)
		device_usage(a, "only one virtio-console (it takes stdin)");
	cfg->console = CONSOLE_VIRTIO;	/* stdin goes here, not to COM1 */
}

static int console_create(struct kvm *kvm, struct device_args *a)
{
	struct vmem mem = platform_vmem();
	struct virtio_dev *vd = virtio_console_create(&mem, console_out, NULL, "virtio-console");

	if (add_vdev(a, vd) < 0)
		return -1;
	if (kvm->cfg.console == CONSOLE_VIRTIO)	/* a later --console serial takes stdin */
		term__init(kvm, console_in, vd);
	return 0;
}

static struct device_desc console_desc = {
	.name = "virtio-console",
	.help = "the guest's hvc0 on the runner's stdin and stdout (--console virtio)",
	.keys = no_keys,
	.configure = console_configure,
	.create = console_create,
};
device_desc(console_desc);

/* virtio-rng */

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

static int rng_create(struct kvm *kvm, struct device_args *a)
{
	struct vmem mem = platform_vmem();

	(void)kvm;
	return add_vdev(a, virtio_rng_create(&mem, rng_fill, "virtio-rng"));
}

static struct device_desc rng_desc = {
	.name = "virtio-rng",
	.help = "entropy from the host's getrandom() (--rng)",
	.keys = no_keys,
	.create = rng_create,
};
device_desc(rng_desc);

/* virtio-net on a tap */

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

static struct tap *tap_open(const struct device_args *a, const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	struct tap *t = calloc(1, sizeof(*t));

	if (!t)
		die("out of memory");
	strcpy(ifr.ifr_name, name);	/* length checked by net_configure() */
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0)
		die("/dev/net/tun: %s", strerror(errno));
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0)
		die("%s tap=%s: TUNSETIFF: %s", a->opt, name, strerror(errno));
	return t;
}

static const char *const net_keys[] = { "tap=", NULL };

static void net_configure(struct kvm_config *cfg, struct device_args *a)
{
	const char *tap = device_arg(a, "tap");

	(void)cfg;
	if (!tap || !tap[0])
		device_usage(a, "'%s' is not tap=IFNAME", a->spec);
	if (strlen(tap) >= IFNAMSIZ)
		device_usage(a, "tap=%s: name too long", tap);
}

static int net_create(struct kvm *kvm, struct device_args *a)
{
	/* A locally administered MAC; the second and later devices count up. */
	uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	struct vmem mem = platform_vmem();
	struct tap *t = tap_open(a, device_arg(a, "tap"));

	(void)kvm;
	mac[5] += a->index;
	t->vd = virtio_net_create(&mem, mac, tap_send, t, "virtio-net");
	if (add_vdev(a, t->vd) < 0)
		return -1;
	if (evloop__add(t->fd, tap_ready, t) < 0)
		die("tap: %s", strerror(errno));
	return 0;
}

static struct device_desc net_desc = {
	.name = "virtio-net",
	.help = "tap=IFNAME  a network card on the host's tap interface (--net)",
	.keys = net_keys,
	.configure = net_configure,
	.create = net_create,
};
device_desc(net_desc);
