// SPDX-License-Identifier: GPL-2.0
/* vCPUs: creation, the guest's CPUID, and one thread per vCPU running KVM_RUN. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#include "ioport.h"
#include "kvm.h"

static struct kvm_cpuid2 *supported_cpuid(struct kvm *kvm)
{
	static struct kvm_cpuid2 *cpuid;
	int nent = 64;

	while (!cpuid) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		if (!c)
			die("out of memory");
		c->nent = nent;
		if (ioctl(kvm->sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			cpuid = c;
		} else if (errno == E2BIG && nent < 4096) {
			free(c);
			nent *= 2;
		} else {
			die("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		}
	}
	return cpuid;
}

/*
 * The supported CPUID, with this vCPU's APIC ID where CPUID reports it and
 * the "running on a hypervisor" bit set, without which Linux does not look
 * for KVM's leaves (0x40000000: kvmclock, PV EOI, ...).
 */
static void set_cpuid(struct kvm_cpu *cpu)
{
	struct kvm_cpuid2 *sup = supported_cpuid(cpu->kvm), *c;
	size_t sz = sizeof(*sup) + sup->nent * sizeof(sup->entries[0]);
	unsigned int i;

	c = malloc(sz);
	if (!c)
		die("out of memory");
	memcpy(c, sup, sz);
	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 1) {
			e->ebx = (e->ebx & 0x00ffffff) | ((uint32_t)cpu->id << 24);
			e->ecx |= 1U << 31;	/* hypervisor present */
		} else if (e->function == 0xb || e->function == 0x1f) {
			e->edx = cpu->id;
		}
	}
	if (ioctl(cpu->fd, KVM_SET_CPUID2, c) < 0)
		die("KVM_SET_CPUID2 (vCPU %d): %s", cpu->id, strerror(errno));
	free(c);
}

void kvm_cpu__init(struct kvm *kvm, int id)
{
	struct kvm_cpu *cpu = &kvm->cpus[id];

	cpu->kvm = kvm;
	cpu->id = id;
	cpu->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, id);
	if (cpu->fd < 0)
		die("KVM_CREATE_VCPU %d: %s", id, strerror(errno));
	cpu->run = mmap(NULL, kvm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu->fd, 0);
	if (cpu->run == MAP_FAILED)
		die("mmap kvm_run: %s", strerror(errno));
	if (kvm->cfg.boot == BOOT_LINUX)
		set_cpuid(cpu);
}

static void handle_io(struct kvm_cpu *cpu)
{
	struct kvm_run *run = cpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t i;

	if (run->io.data_offset + (uint64_t)run->io.count * run->io.size >
	    (uint64_t)cpu->kvm->run_size)
		return;
	for (i = 0; i < run->io.count; i++, data += run->io.size)
		io__access(IO_PIO, run->io.port, data, run->io.size,
			   run->io.direction == KVM_EXIT_IO_OUT);
}

/* After a fatal exit: where the vCPU was, on stderr. */
static void dump_state(struct kvm_cpu *cpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(cpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(cpu->fd, KVM_GET_SREGS, &s) < 0)
		return;
	fprintf(stderr,
		"kvmlite: vCPU %d: rip %016llx rsp %016llx rflags %08llx\n"
		"kvmlite: vCPU %d: rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		"kvmlite: vCPU %d: rsi %016llx rdi %016llx rbp %016llx\n"
		"kvmlite: vCPU %d: cr0 %llx cr2 %llx cr3 %llx cr4 %llx efer %llx\n"
		"kvmlite: vCPU %d: cs %04x base %llx l%d db%d, ss %04x, idt %llx/%x, gdt %llx/%x\n",
		cpu->id, r.rip, r.rsp, r.rflags,
		cpu->id, r.rax, r.rbx, r.rcx, r.rdx,
		cpu->id, r.rsi, r.rdi, r.rbp,
		cpu->id, s.cr0, s.cr2, s.cr3, s.cr4, s.efer,
		cpu->id, s.cs.selector, s.cs.base, s.cs.l, s.cs.db, s.ss.selector,
		s.idt.base, s.idt.limit, s.gdt.base, s.gdt.limit);
}

static int exit_requested(struct kvm *kvm)
{
	int r;

	pthread_mutex_lock(&kvm->exit_lock);
	r = kvm->exit_requested;
	pthread_mutex_unlock(&kvm->exit_lock);
	return r;
}

static void *cpu_thread(void *arg)
{
	struct kvm_cpu *cpu = arg;
	struct kvm *kvm = cpu->kvm;
	struct kvm_run *run = cpu->run;
	char msg[160];

	while (!exit_requested(kvm)) {
		if (ioctl(cpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(msg, sizeof(msg), "vCPU %d: KVM_RUN: %s", cpu->id, strerror(errno));
			kvm__request_exit(kvm, 1, msg);
			break;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			handle_io(cpu);
			break;
		case KVM_EXIT_MMIO:
			if (run->mmio.len <= sizeof(run->mmio.data))
				io__access(IO_MMIO, run->mmio.phys_addr, run->mmio.data,
					   run->mmio.len, run->mmio.is_write);
			break;
		case KVM_EXIT_HLT:
			/* Only without an in-kernel irqchip: nothing can wake it. */
			kvm__request_exit(kvm, 0, NULL);
			break;
		case KVM_EXIT_SHUTDOWN:
			snprintf(msg, sizeof(msg), "vCPU %d: guest shut down (triple fault)", cpu->id);
			dump_state(cpu);
			kvm__request_exit(kvm, 1, msg);
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			snprintf(msg, sizeof(msg), "vCPU %d: system event %u", cpu->id,
				 run->system_event.type);
			kvm__request_exit(kvm, run->system_event.type == KVM_SYSTEM_EVENT_CRASH, msg);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			snprintf(msg, sizeof(msg), "vCPU %d: internal error, suberror %u", cpu->id,
				 run->internal.suberror);
			dump_state(cpu);
			kvm__request_exit(kvm, 1, msg);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			snprintf(msg, sizeof(msg), "vCPU %d: entry failed, reason 0x%llx", cpu->id,
				 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			dump_state(cpu);
			kvm__request_exit(kvm, 1, msg);
			break;
		case KVM_EXIT_INTR:
			break;
		default:
			snprintf(msg, sizeof(msg), "vCPU %d: unhandled exit %u", cpu->id,
				 run->exit_reason);
			dump_state(cpu);
			kvm__request_exit(kvm, 1, msg);
			break;
		}
	}
	return NULL;
}

void kvm_cpu__start(struct kvm_cpu *cpu)
{
	int err = pthread_create(&cpu->thread, NULL, cpu_thread, cpu);

	if (err)
		die("vCPU %d thread: %s", cpu->id, strerror(err));
	cpu->started = true;
}
