/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared bits of the kvmlite selftests.  Every test binary takes the device
 * to test as its first argument (default /dev/kvmlite), so the same binary
 * runs against kvmlite and, unchanged, against KVM's /dev/kvm.
 */
#ifndef KVL_TEST_H
#define KVL_TEST_H

#include <cpuid.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kselftest_harness.h"
#include "kvl_guest.h"

static const char *kvl_dev = "/dev/kvmlite";

/* Strip the device argument, then hand over to the kselftest harness. */
#define KVL_TEST_MAIN							\
int main(int argc, char **argv)						\
{									\
	if (argc > 1 && argv[1][0] == '/') {				\
		kvl_dev = argv[1];					\
		argv[1] = argv[0];					\
		argc--;							\
		argv++;							\
	}								\
	return test_harness_run(argc, argv);				\
}

static inline int kvl_open(int flags)
{
	return open(kvl_dev, flags | O_CLOEXEC);
}

/* VT-x under the device (where KVM's semantics differ from SVM's). */
static inline bool kvl_host_is_intel(void)
{
	unsigned int a, b, c, d;

	__cpuid(0, a, b, c, d);
	return b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e;	/* GenuineIntel */
}

/* KVM_SET_CPUID2 on @vcpu with KVM_GET_SUPPORTED_CPUID's whole table: 0 or -1 (errno). */
static inline int kvl_set_supported_cpuid(int sys, int vcpu)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));
	int r = -1;

	if (!c)
		return -1;
	c->nent = 256;
	if (!ioctl(sys, KVM_GET_SUPPORTED_CPUID, c) && !ioctl(vcpu, KVM_SET_CPUID2, c))
		r = 0;
	free(c);
	return r;
}

/* A VM with guest memory at GPA 0 and one vCPU in real mode at 0000:@code_gpa. */
struct kvl_rm_vm {
	int sys, vm, vcpu;
	struct kvm_run *run;
	unsigned char *mem;
	size_t mem_size;
};

/* kvl_rm_vm_create_flags(): what the VM gets besides memory and a vCPU. */
#define KVL_VM_IRQCHIP	1	/* KVM_CREATE_IRQCHIP, before the vCPU */
#define KVL_VM_PIT	2	/* KVM_CREATE_PIT2, before the vCPU */
#define KVL_VM_CPUID	4	/* KVM_SET_CPUID2 with the supported table, each vCPU */
#define KVL_VM_SPLIT_IRQCHIP 8	/* KVM_CAP_SPLIT_IRQCHIP (24 pins), before the vCPU */

/*
 * vCPU @id of @v in real mode at 0000:@ip (CS base 0), with the supported
 * CPUID if @flags has KVL_VM_CPUID.  Returns its fd, or -1 with errno set
 * and *what naming the step that failed.
 */
static inline int kvl_rm_vcpu_add(struct kvl_rm_vm *v, int id, uint64_t ip, int flags,
				  struct kvm_run **run, const char **what)
{
	struct kvm_regs regs = { .rip = ip, .rflags = 2 };
	struct kvm_sregs sregs;
	int fd;

	*what = "KVM_CREATE_VCPU";
	fd = ioctl(v->vm, KVM_CREATE_VCPU, id);
	if (fd < 0)
		return -1;
	*what = "mmap of the vCPU";
	*run = mmap(NULL, ioctl(v->sys, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, 0);
	if (*run == MAP_FAILED)
		goto fail;
	*what = "KVM_SET_CPUID2";
	if ((flags & KVL_VM_CPUID) && kvl_set_supported_cpuid(v->sys, fd))
		goto fail;
	*what = "initial registers";
	if (ioctl(fd, KVM_GET_SREGS, &sregs))
		goto fail;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(fd, KVM_SET_SREGS, &sregs) || ioctl(fd, KVM_SET_REGS, &regs))
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* Returns 0, or -1 with errno set and *what naming the step that failed. */
static inline int kvl_rm_vm_create_flags(struct kvl_rm_vm *v, size_t mem_size, uint64_t code_gpa,
					 const void *code, size_t len, int flags,
					 const char **what)
{
	struct kvm_userspace_memory_region slot = { .memory_size = mem_size };
	struct kvm_pit_config pit = { .flags = 0 };
	struct kvm_enable_cap split = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 } };

	memset(v, 0, sizeof(*v));
	v->sys = v->vm = v->vcpu = -1;
	*what = "open";
	v->sys = kvl_open(O_RDWR);
	if (v->sys < 0)
		return -1;
	*what = "KVM_CREATE_VM";
	v->vm = ioctl(v->sys, KVM_CREATE_VM, 0);
	if (v->vm < 0)
		return -1;
	*what = "guest memory";
	v->mem_size = mem_size;
	v->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->mem == MAP_FAILED) {
		v->mem = NULL;
		return -1;
	}
	memcpy(v->mem + code_gpa, code, len);
	slot.userspace_addr = (uintptr_t)v->mem;
	*what = "KVM_SET_USER_MEMORY_REGION";
	if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &slot))
		return -1;
	*what = "KVM_CREATE_IRQCHIP";
	if ((flags & KVL_VM_IRQCHIP) && ioctl(v->vm, KVM_CREATE_IRQCHIP, 0))
		return -1;
	*what = "KVM_CREATE_PIT2";
	if ((flags & KVL_VM_PIT) && ioctl(v->vm, KVM_CREATE_PIT2, &pit))
		return -1;
	*what = "KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP)";
	if ((flags & KVL_VM_SPLIT_IRQCHIP) && ioctl(v->vm, KVM_ENABLE_CAP, &split))
		return -1;
	v->vcpu = kvl_rm_vcpu_add(v, 0, code_gpa, flags, &v->run, what);
	return v->vcpu < 0 ? -1 : 0;
}

static inline int kvl_rm_vm_create(struct kvl_rm_vm *v, size_t mem_size, uint64_t code_gpa,
				   const void *code, size_t len, const char **what)
{
	return kvl_rm_vm_create_flags(v, mem_size, code_gpa, code, len, 0, what);
}

/*
 * Flat 32-bit protected mode or 64-bit long mode for a kvl_rm_vm's vCPU.
 * A GDT at KVL_GDT_GPA (code 0x08, data 0x10).  Long mode identity-maps the
 * low 4 GiB with 2M pages: PML4 at KVL_PT_GPA, then the PDPT and four PDs
 * (KVL_PT_BYTES in all).  Guest memory must cover both.
 */
enum { KVL_MODE_REAL, KVL_MODE_PROT32, KVL_MODE_LONG };
#define KVL_GDT_GPA	0x9000
#define KVL_PT_GPA	0x10000
#define KVL_PT_BYTES	0x6000

static inline int kvl_vm_set_mode(struct kvl_rm_vm *v, int mode)
{
	struct kvm_segment code = {
		.limit = 0xffffffff, .selector = 0x8, .type = 0xb, .present = 1,
		.s = 1, .g = 1, .db = mode != KVL_MODE_LONG, .l = mode == KVL_MODE_LONG,
	};
	struct kvm_segment data = {
		.limit = 0xffffffff, .selector = 0x10, .type = 0x3, .present = 1,
		.s = 1, .g = 1, .db = 1,
	};
	uint64_t *gdt = (uint64_t *)(v->mem + KVL_GDT_GPA);
	struct kvm_sregs sregs;
	int i;

	if (mode == KVL_MODE_REAL)
		return 0;
	if (v->mem_size < KVL_PT_GPA + KVL_PT_BYTES) {
		errno = EINVAL;
		return -1;
	}
	/* KVM checks CR4 and EFER against the guest's CPUID: give it all there is. */
	if (kvl_set_supported_cpuid(v->sys, v->vcpu))
		return -1;
	if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs))
		return -1;
	gdt[0] = 0;
	gdt[1] = mode == KVL_MODE_LONG ? 0x00af9b000000ffffULL : 0x00cf9b000000ffffULL;
	gdt[2] = 0x00cf93000000ffffULL;
	sregs.gdt.base = KVL_GDT_GPA;
	sregs.gdt.limit = 3 * 8 - 1;
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.cr0 = 0x11;			/* PE | ET */
	if (mode == KVL_MODE_LONG) {
		uint64_t *pml4 = (uint64_t *)(v->mem + KVL_PT_GPA);
		uint64_t *pdpt = pml4 + 512, *pd = pml4 + 1024;

		memset(pml4, 0, KVL_PT_BYTES);
		pml4[0] = (KVL_PT_GPA + 0x1000) | 3;
		for (i = 0; i < 4; i++)
			pdpt[i] = (KVL_PT_GPA + 0x2000 + i * 0x1000) | 3;
		for (i = 0; i < 4 * 512; i++)
			pd[i] = ((uint64_t)i << 21) | 0x83;	/* P | RW | PS */
		sregs.cr3 = KVL_PT_GPA;
		sregs.cr4 = 0x20;		/* PAE */
		sregs.efer = 0x500;		/* LME | LMA */
		sregs.cr0 |= 0x80000000;	/* PG */
	}
	return ioctl(v->vcpu, KVM_SET_SREGS, &sregs);
}

/* Point real-mode interrupt vector @vec at 0000:@ip (the IVT at GPA 0 in @mem). */
static inline void kvl_rm_set_ivt(void *mem, int vec, uint16_t ip)
{
	uint16_t *ivt = mem;

	ivt[vec * 2] = ip;
	ivt[vec * 2 + 1] = 0;
}

/*
 * A 64-bit interrupt gate (present, DPL 0, code selector 0x08 of
 * kvl_vm_set_mode()'s GDT) for @vec in the IDT at @idt_gpa, to @handler_gpa
 * (identity-mapped by kvl_vm_set_mode(), below 4 GiB).
 */
static inline void kvl_lm_set_gate(void *mem, uint64_t idt_gpa, int vec, uint32_t handler_gpa)
{
	uint32_t *g = (uint32_t *)((unsigned char *)mem + idt_gpa + vec * 16);

	g[0] = (handler_gpa & 0xffff) | (0x08 << 16);
	g[1] = (handler_gpa & 0xffff0000) | 0x8e00;
	g[2] = 0;
	g[3] = 0;
}

static inline void kvl_rm_vm_destroy(struct kvl_rm_vm *v)
{
	if (v->vcpu >= 0)
		close(v->vcpu);
	if (v->vm >= 0)
		close(v->vm);
	if (v->sys >= 0)
		close(v->sys);
	if (v->mem)
		munmap(v->mem, v->mem_size);
}

#endif
