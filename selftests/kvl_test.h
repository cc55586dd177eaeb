/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared bits of the kvmlite selftests.  Every test binary takes the device
 * to test as its first argument (default /dev/kvmlite), so the same binary
 * runs against kvmlite and, unchanged, against KVM's /dev/kvm.
 */
#ifndef KVL_TEST_H
#define KVL_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kselftest_harness.h"

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

/* A VM with guest memory at GPA 0 and one vCPU in real mode at 0000:@code_gpa. */
struct kvl_rm_vm {
	int sys, vm, vcpu;
	struct kvm_run *run;
	unsigned char *mem;
	size_t mem_size;
};

/* Returns 0, or -1 with errno set and *what naming the step that failed. */
static inline int kvl_rm_vm_create(struct kvl_rm_vm *v, size_t mem_size, uint64_t code_gpa,
				   const void *code, size_t len, const char **what)
{
	struct kvm_userspace_memory_region slot = { .memory_size = mem_size };
	struct kvm_regs regs = { .rip = code_gpa, .rflags = 2 };
	struct kvm_sregs sregs;
	long sz;

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
	*what = "KVM_CREATE_VCPU";
	v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0)
		return -1;
	*what = "mmap of the vCPU";
	sz = ioctl(v->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	v->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	if (v->run == MAP_FAILED)
		return -1;
	*what = "initial registers";
	if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs))
		return -1;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs) || ioctl(v->vcpu, KVM_SET_REGS, &regs))
		return -1;
	return 0;
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
