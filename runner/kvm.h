/* SPDX-License-Identifier: GPL-2.0 */
/* The VM as the runner sees it: device fds, guest RAM, vCPUs, exit request. */
#ifndef KVL_RUNNER_KVM_H
#define KVL_RUNNER_KVM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "memmap.h"

#define KVM_MAX_CPUS		64
/* Guest RAM above this goes above 4 GiB, leaving a hole for PCI/IOAPIC/LAPIC. */
#define KVM_LOWMEM_END		MEM_PCI_HOLE_START
#define KVM_HIGHMEM_START	MEM_HIGHMEM_START

enum kvm_boot { BOOT_FLAT, BOOT_LINUX };
enum kvm_console { CONSOLE_SERIAL, CONSOLE_VIRTIO };

struct kvm_config {
	const char *dev;
	enum kvm_boot boot;
	const char *image;	/* BOOT_FLAT: a real-mode flat binary */
	const char *kernel;	/* BOOT_LINUX: bzImage */
	const char *initrd;
	const char *append;
	uint64_t ram_size;
	int nr_cpus;
	enum kvm_console console;	/* where stdin goes: COM1 or a virtio-console */
	/* --device and its short forms, in command-line order (Linux only) */
	struct device_args devices[DEVICE_MAX_REQS];
	int nr_devices;
	const char *ctl;		/* --ctl: the control socket's path */
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
	bool vga_hole;		/* MEM_VGA_START..END is not RAM (Linux guests) */
	int next_slot;		/* memslot ids: RAM first, then kvm__memslot_alloc() */
	pthread_mutex_t slot_lock;
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

/* A memslot id no one else uses: >= 0, or -1 when KVM has no more. */
int kvm__memslot_alloc(struct kvm *kvm);
/*
 * KVM_SET_USER_MEMORY_REGION for @slot: @size bytes of @host at @gpa with
 * @flags (KVM_MEM_*); @size 0 deletes the slot.  0, or -1 (reported).
 */
int kvm__set_memslot(struct kvm *kvm, int slot, uint64_t gpa, uint64_t size, void *host,
		     uint32_t flags);

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
