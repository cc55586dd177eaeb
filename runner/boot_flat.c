// SPDX-License-Identifier: GPL-2.0
/*
 * A flat real-mode image, loaded at 0000:1000 and entered there with
 * SP = 0x1000.  HLT (without an irqchip) ends the run with status 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kvm.h"

#define FLAT_LOAD	0x1000
#define FLAT_MAX	0xf000

void boot_flat__load(struct kvm *kvm)
{
	struct kvm_regs regs = { .rip = FLAT_LOAD, .rflags = 2, .rsp = 0x1000 };
	struct kvm_sregs sregs;
	const char *path = kvm->cfg.image;
	int vcpu = kvm->cpus[0].fd;
	struct stat st;
	void *dst;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		die("%s: %s", path, strerror(errno));
	if (st.st_size <= 0 || st.st_size > FLAT_MAX)
		die("%s: image must be 1..%u bytes (real mode, one segment)", path, FLAT_MAX);
	dst = guest_ptr(kvm, FLAT_LOAD, st.st_size);
	if (!dst)
		die("%s: does not fit in %llu KiB of guest memory", path,
		    (unsigned long long)(kvm->ram_size >> 10));
	if (read(fd, dst, st.st_size) != st.st_size)
		die("%s: short read", path);
	close(fd);

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS: %s", strerror(errno));
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("initial registers: %s", strerror(errno));
}
