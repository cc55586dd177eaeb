/* SPDX-License-Identifier: GPL-2.0 */
/* The VM as the runner sees it: device fds, guest RAM, vCPUs, exit request. */
#ifndef KVL_RUNNER_KVM_H
#define KVL_RUNNER_KVM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KVM_MAX_CPUS		64
/* Guest RAM above this goes above 4 GiB, leaving a hole for PCI/IOAPIC/LAPIC. */
#define KVM_LOWMEM_END		0xc0000000ULL
#define KVM_HIGHMEM_START	0x100000000ULL

enum kvm_boot { BOOT_FLAT, BOOT_LINUX };
enum kvm_console { CONSOLE_SERIAL, CONSOLE_VIRTIO };

#define KVM_MAX_DISKS		8

struct kvm_disk_config {
	const char *path;
	int format;		/* enum disk_format */
	bool readonly;
	bool sync_io;		/* aio=sync: no io_uring */
};

struct kvm_config {
	const char *dev;
	enum kvm_boot boot;
	const char *image;	/* BOOT_FLAT: a real-mode flat binary */
	const char *kernel;	/* BOOT_LINUX: bzImage */
	const char *initrd;
	const char *append;
	uint64_t ram_size;
	int nr_cpus;
	struct kvm_disk_config disks[KVM_MAX_DISKS];	/* virtio-blk, Linux only */
	int nr_disks;
	enum kvm_console console;	/* where stdio goes: COM1 or virtio-console */
	bool rng;			/* a virtio-rng device */
	const char *tap;		/* virtio-net on this tap interface */
};

struct kvm_cpu {
	struct kvm *kvm;
	int id, fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
};

struct kvm {
	struct kvm_config cfg;
	int sys_fd, vm_fd;
	bool irqchip;		/* in-kernel PIC + IOAPIC + LAPIC + PIT */
	uint8_t *ram;
	uint64_t ram_size;
	long run_size;
	int nr_cpus;
	struct kvm_cpu cpus[KVM_MAX_CPUS];

	pthread_mutex_t exit_lock;
	pthread_cond_t exit_cond;
	bool exit_requested;
	int exit_status;
};

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Host pointer for [gpa, gpa + len) of guest RAM, or NULL if it is not all RAM. */
void *guest_ptr(struct kvm *kvm, uint64_t gpa, uint64_t len);

/* Ask the run to end with @status; the first request wins. */
void kvm__request_exit(struct kvm *kvm, int status, const char *why);

/* KVM_CHECK_EXTENSION on the VM (else the system) fd: the value, 0 if absent. */
int kvm__check_extension(struct kvm *kvm, long cap);

/* Raise (1) or lower (0) an ISA interrupt line; a no-op without an irqchip. */
void kvm__irq_line(struct kvm *kvm, unsigned int irq, int level);

int kvm__init(struct kvm *kvm, const struct kvm_config *cfg);
int kvm__run(struct kvm *kvm);

/* Boot paths (boot_flat.c, boot_linux.c): load the guest and set vCPU 0. */
void boot_flat__load(struct kvm *kvm);
void boot_linux__load(struct kvm *kvm);
void boot_linux__check(const struct kvm_config *cfg);	/* dies on a bad bzImage */
/* boot_pvh.c: an ELF vmlinux (--kernel of either kind goes to boot_linux). */
void boot_pvh__load(struct kvm *kvm);
void boot_pvh__check(const struct kvm_config *cfg);

/* cpu.c */
void kvm_cpu__init(struct kvm *kvm, int id);
void kvm_cpu__start(struct kvm_cpu *cpu);

#endif
