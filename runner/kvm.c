// SPDX-License-Identifier: GPL-2.0
/*
 * VM setup and lifetime: open the device, create the VM, map guest RAM
 * (below the PCI hole, the rest above 4 GiB), create the in-kernel irqchip
 * and PIT where the device has them, then start one thread per vCPU and
 * wait until something asks the run to end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "device.h"
#include "e820.h"
#include "kvm.h"

void *guest_ptr(struct kvm *kvm, uint64_t gpa, uint64_t len)
{
	uint64_t low = kvm->ram_size < KVM_LOWMEM_END ? kvm->ram_size : KVM_LOWMEM_END;

	if (gpa + len < gpa)
		return NULL;
	if (kvm->vga_hole && gpa < MEM_VGA_END && gpa + len > MEM_VGA_START)
		return NULL;
	if (gpa + len <= low)
		return kvm->ram + gpa;
	if (gpa >= KVM_HIGHMEM_START && gpa + len - KVM_HIGHMEM_START <= kvm->ram_size - low)
		return kvm->ram + low + (gpa - KVM_HIGHMEM_START);
	return NULL;
}

void kvm__request_exit(struct kvm *kvm, int status, const char *why)
{
	pthread_mutex_lock(&kvm->exit_lock);
	if (!kvm->exit_requested) {
		kvm->exit_requested = true;
		kvm->exit_status = status;
		if (why)
			warn("%s", why);
		pthread_cond_broadcast(&kvm->exit_cond);
	}
	pthread_mutex_unlock(&kvm->exit_lock);
}

void kvm__irq_line(struct kvm *kvm, unsigned int irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level };

	if (kvm->irqchip && ioctl(kvm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		warn("KVM_IRQ_LINE %u: %s", irq, strerror(errno));
}

static int check_extension(struct kvm *kvm, long cap)
{
	int r = ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, cap);

	if (r < 0)	/* devices without the VM-level query */
		r = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, cap);
	return r > 0 ? r : 0;
}

int kvm__check_extension(struct kvm *kvm, long cap)
{
	return check_extension(kvm, cap);
}

static void add_slot(struct kvm *kvm, int slot, uint64_t gpa, uint64_t size,
		     uint8_t *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		die("KVM_SET_USER_MEMORY_REGION (slot %d, %llu MiB at 0x%llx): %s", slot,
		    (unsigned long long)(size >> 20), (unsigned long long)gpa,
		    strerror(errno));
	if (slot >= kvm->next_slot)
		kvm->next_slot = slot + 1;
}

int kvm__memslot_alloc(struct kvm *kvm)
{
	int max = check_extension(kvm, KVM_CAP_NR_MEMSLOTS), slot = -1;

	pthread_mutex_lock(&kvm->slot_lock);
	if (!max || kvm->next_slot < max)
		slot = kvm->next_slot++;
	pthread_mutex_unlock(&kvm->slot_lock);
	return slot;
}

int kvm__set_memslot(struct kvm *kvm, int slot, uint64_t gpa, uint64_t size, void *host,
		     uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		warn("KVM_SET_USER_MEMORY_REGION (slot %d, 0x%llx bytes at 0x%llx): %s", slot,
		     (unsigned long long)size, (unsigned long long)gpa, strerror(errno));
		return -1;
	}
	return 0;
}

/* Linux guests: the platform a PC kernel expects from its chipset. */
static void setup_platform(struct kvm *kvm)
{
	struct kvm_pit_config pit = { .flags = 0 };

	if (!check_extension(kvm, KVM_CAP_IRQCHIP))
		die("%s has no in-kernel irqchip (KVM_CAP_IRQCHIP), which Linux guests need "
		    "here; use Debian's /dev/kvm (--dev /dev/kvm) for now", kvm->cfg.dev);
	/* As QEMU does: three pages for VMX's real-mode TSS, one for its identity map. */
	if (check_extension(kvm, KVM_CAP_SET_TSS_ADDR) &&
	    ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)E820_TSS_START + 0x1000) < 0)
		die("KVM_SET_TSS_ADDR: %s", strerror(errno));
	if (check_extension(kvm, KVM_CAP_SET_IDENTITY_MAP_ADDR)) {
		uint64_t ident = E820_TSS_START;

		if (ioctl(kvm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0)
			die("KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
	}
	if (ioctl(kvm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		die("KVM_CREATE_IRQCHIP: %s", strerror(errno));
	kvm->irqchip = true;
	if (!check_extension(kvm, KVM_CAP_PIT2))
		die("%s has no in-kernel PIT (KVM_CAP_PIT2)", kvm->cfg.dev);
	if (ioctl(kvm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		die("KVM_CREATE_PIT2: %s", strerror(errno));
}

int kvm__init(struct kvm *kvm, const struct kvm_config *cfg)
{
	uint64_t low;
	int i;

	memset(kvm, 0, sizeof(*kvm));
	kvm->cfg = *cfg;
	pthread_mutex_init(&kvm->exit_lock, NULL);
	pthread_cond_init(&kvm->exit_cond, NULL);
	pthread_mutex_init(&kvm->slot_lock, NULL);

	kvm->sys_fd = open(cfg->dev, O_RDWR | O_CLOEXEC);
	if (kvm->sys_fd < 0)
		die("%s: %s", cfg->dev, strerror(errno));
	if (ioctl(kvm->sys_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		die("%s: not a KVM API %d device", cfg->dev, KVM_API_VERSION);
	kvm->vm_fd = ioctl(kvm->sys_fd, KVM_CREATE_VM, 0);
	if (kvm->vm_fd < 0)
		die("KVM_CREATE_VM: %s", strerror(errno));
	kvm->run_size = ioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->run_size < (long)sizeof(struct kvm_run))
		die("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));

	if (cfg->boot == BOOT_LINUX)
		setup_platform(kvm);

	kvm->ram_size = cfg->ram_size;
	kvm->ram = mmap(NULL, kvm->ram_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (kvm->ram == MAP_FAILED)
		die("guest memory (%llu MiB): %s",
		    (unsigned long long)(kvm->ram_size >> 20), strerror(errno));
	/* Transparent huge pages where the host allows: far fewer nested faults. */
	madvise(kvm->ram, kvm->ram_size, MADV_HUGEPAGE);
	low = kvm->ram_size < KVM_LOWMEM_END ? kvm->ram_size : KVM_LOWMEM_END;
	if (cfg->boot == BOOT_LINUX) {
		/* As on a PC, the legacy VGA window is not RAM: a display device may claim it. */
		kvm->vga_hole = true;
		add_slot(kvm, 0, 0, MEM_VGA_START, kvm->ram);
		add_slot(kvm, 2, MEM_VGA_END, low - MEM_VGA_END, kvm->ram + MEM_VGA_END);
	} else {
		add_slot(kvm, 0, 0, low, kvm->ram);
	}
	if (kvm->ram_size > low)
		add_slot(kvm, 1, KVM_HIGHMEM_START, kvm->ram_size - low, kvm->ram + low);

	kvm->nr_cpus = cfg->nr_cpus;
	for (i = 0; i < kvm->nr_cpus; i++)
		kvm_cpu__init(kvm, i);
	if (devices__init(kvm) < 0)
		return -1;
	if (cfg->boot == BOOT_LINUX)
		boot_linux__load(kvm);
	else
		boot_flat__load(kvm);
	return 0;
}

static void kick(int sig)
{
	(void)sig;
}

int kvm__run(struct kvm *kvm)
{
	struct sigaction sa = { .sa_handler = kick };
	int i;

	/* No SA_RESTART: a kick makes a vCPU's KVM_RUN return EINTR. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		die("sigaction: %s", strerror(errno));
	for (i = 0; i < kvm->nr_cpus; i++)
		kvm_cpu__start(&kvm->cpus[i]);

	pthread_mutex_lock(&kvm->exit_lock);
	while (!kvm->exit_requested)
		pthread_cond_wait(&kvm->exit_cond, &kvm->exit_lock);
	pthread_mutex_unlock(&kvm->exit_lock);

	/*
	 * Kick every vCPU out of KVM_RUN until its thread has seen the
	 * request; a kick that lands just before KVM_RUN is simply repeated.
	 */
	for (i = 0; i < kvm->nr_cpus; i++) {
		struct kvm_cpu *cpu = &kvm->cpus[i];
		struct timespec ts;
		int tries;

		if (!cpu->started)
			continue;
		for (tries = 0; tries < 500; tries++) {
			pthread_kill(cpu->thread, SIGUSR1);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 10 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			if (pthread_timedjoin_np(cpu->thread, NULL, &ts) == 0)
				break;
		}
	}
	return kvm->exit_status;
}
