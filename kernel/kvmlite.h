/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmlite: the vendor-blind core's view of VMs, vCPUs and backends.
 *
 * The core (main.c, vm.c, vcpu.c) owns the KVM ioctl ABI, memslots and the
 * run loop.  A backend (svm.c, vmx.c) owns the hardware: it exports exactly
 * one struct kvl_backend and keeps everything else static.
 */
#ifndef KVMLITE_H
#define KVMLITE_H

#include <linux/kvm.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/mmu_notifier.h>
#include <linux/refcount.h>

#define KVL_API_VERSION		12
#define KVL_MAX_VCPUS		64
#define KVL_MAX_VCPU_ID		KVL_MAX_VCPUS
#define KVL_USER_MEM_SLOTS	509	/* KVM's x86 figure */
#define KVL_ADDRESS_SPACES	1
#define KVL_MAX_SLOT_PAGES	BIT(31)
#define KVL_PIO_PAGE		1	/* page offset of the PIO data in the run mmap */
#define KVL_RUN_PAGES		2

struct kvl_vm;
struct kvl_vcpu;
struct kvl_emu_io;

/* Indices into kvl_vcpu::regs, in the order the entry stubs expect. */
enum kvl_reg {
	KVL_RAX, KVL_RBX, KVL_RCX, KVL_RDX, KVL_RSI, KVL_RDI, KVL_RBP,
	KVL_R8, KVL_R9, KVL_R10, KVL_R11, KVL_R12, KVL_R13, KVL_R14, KVL_R15,
	KVL_NR_GPRS
};

/*
 * What a backend's exit handler asks of the core.  The core turns these
 * into kvm_run exits (or keeps running).
 */
enum kvl_exit {
	KVL_EXIT_CONTINUE,	/* handled, re-enter */
	KVL_EXIT_USER,		/* kvm_run is filled in, return to userspace */
	KVL_EXIT_IO,		/* vcpu->io describes a port access */
	KVL_EXIT_HLT,
	KVL_EXIT_INTR,		/* host interrupt or signal check */
	KVL_EXIT_GPA_FAULT,	/* vcpu->fault_gpa has no nested translation yet */
	KVL_EXIT_EMULATE,	/* the instruction at rip needs the emulator (INS/OUTS) */
};

struct kvl_backend {
	const char *name;
	/* Does this CPU have the extension (and nested paging)?  Returns 0 or -errno. */
	int (*probe)(void);
	int (*init)(void);
	void (*exit)(void);
	/* Per host CPU; called with preemption off. */
	int (*cpu_enable)(void);
	void (*cpu_disable)(void);

	int (*vm_init)(struct kvl_vm *vm);
	void (*vm_destroy)(struct kvl_vm *vm);
	/* Drop the nested translation of guest-physical [start, end). */
	void (*zap_gpa)(struct kvl_vm *vm, u64 start, u64 end);
	int (*map_gpa)(struct kvl_vm *vm, u64 gpa, unsigned long pfn, bool writable);

	int (*vcpu_create)(struct kvl_vcpu *vcpu);
	void (*vcpu_destroy)(struct kvl_vcpu *vcpu);
	/* One guest entry; IRQs off, preemption off.  Returns an enum kvl_exit or -errno. */
	int (*vcpu_run)(struct kvl_vcpu *vcpu);

	void (*get_sregs)(struct kvl_vcpu *vcpu, struct kvm_sregs *sregs);
	int (*set_sregs)(struct kvl_vcpu *vcpu, const struct kvm_sregs *sregs);

	/* For the instruction emulator (mmio.c). */
	u8 (*get_cpl)(struct kvl_vcpu *vcpu);
	/* Deliver @vector on the next entry; @cr2 is the #PF address. */
	void (*inject_exception)(struct kvl_vcpu *vcpu, u8 vector, bool has_err, u32 err,
				 u64 cr2);
};

extern const struct kvl_backend kvl_svm_backend;
extern const struct kvl_backend kvl_vmx_backend;
extern const struct kvl_backend *kvl_ops;

struct kvl_memslot {
	u64 base_gfn;
	u64 npages;
	unsigned long userspace_addr;
	u32 flags;
	u16 id;
	bool used;
};

struct kvl_vm {
	refcount_t refs;
	struct mm_struct *mm;
	struct mmu_notifier mn;

	struct mutex lock;		/* vCPU creation, memslot updates */
	struct kvl_memslot slots[KVL_USER_MEM_SLOTS];

	/* Nested page tables: mmu_lock, and the notifier retry protocol. */
	spinlock_t mmu_lock;
	unsigned long mmu_seq;
	long mmu_invalidating;

	struct kvl_vcpu *vcpus[KVL_MAX_VCPUS];
	int nr_vcpus;			/* published with smp_store_release */
	cpumask_var_t kick_mask;	/* under mmu_lock */

	void *arch;			/* backend's per-VM data */
};

/* What the last KVM_EXIT_IO asked for, completed on the next KVM_RUN. */
struct kvl_pio {
	u16 port;
	u8 size;
	bool in;
	bool string;
	bool rep;
	u32 count;			/* elements in this exit */
	u64 next_rip;
};

struct kvl_vcpu {
	struct kvl_vm *vm;
	u32 id;
	struct kvm_run *run;
	struct mutex lock;		/* serializes the vCPU's ioctls */

	unsigned long regs[KVL_NR_GPRS];
	unsigned long rip, rsp, rflags;	/* synced by the backend around entry */
	u64 fault_gpa;
	bool fault_write;
	bool fault_vectoring;		/* the fault hit delivering an event */
	struct kvl_pio pio;
	bool pio_pending;
	struct kvl_emu_io *eio;		/* mmio.c: emulated MMIO and string I/O */

	int cpu;			/* last host CPU it ran on, or -1 */
	int mode;			/* KVL_OUTSIDE_GUEST / KVL_IN_GUEST */
	unsigned long requests;
	u32 exit_count;

	struct kvm_cpuid_entry2 *cpuid;	/* KVM_SET_CPUID2's table */
	u32 cpuid_nent;

	void *arch;			/* backend's per-vCPU data */
};

#define KVL_OUTSIDE_GUEST	0
#define KVL_IN_GUEST		1
#define KVL_REQ_TLB_FLUSH	0

/* main.c */
int kvl_hw_get(void);
void kvl_hw_put(void);

/* vm.c */
int kvl_create_vm(unsigned long type);
struct kvl_memslot *kvl_gfn_to_slot(struct kvl_vm *vm, u64 gfn);
int kvl_handle_gpa_fault(struct kvl_vcpu *vcpu, u64 gpa, bool write);
void kvl_vm_put(struct kvl_vm *vm);
long kvl_check_extension(struct kvl_vm *vm, long cap);

/* cpuid.c */
int kvl_get_supported_cpuid(struct kvm_cpuid2 __user *argp);
int kvl_set_cpuid2(struct kvl_vcpu *vcpu, struct kvm_cpuid2 __user *argp);
int kvl_get_cpuid2(struct kvl_vcpu *vcpu, struct kvm_cpuid2 __user *argp);
void kvl_emulate_cpuid(struct kvl_vcpu *vcpu);

/* mmio.c: each returns 0 to re-enter the guest, 1 when vcpu->run holds an exit */
int kvl_emu_vcpu_init(struct kvl_vcpu *vcpu);
void kvl_emu_vcpu_free(struct kvl_vcpu *vcpu);
int kvl_emulate(struct kvl_vcpu *vcpu, u64 gpa);
int kvl_emu_complete(struct kvl_vcpu *vcpu);
void kvl_emu_translate(struct kvl_vcpu *vcpu, struct kvm_translation *tr);

/* vcpu.c */
int kvl_create_vcpu(struct kvl_vm *vm, unsigned long id);
void kvl_vcpu_free(struct kvl_vcpu *vcpu);
void kvl_kick_all(struct kvl_vm *vm, int req);

#endif /* KVMLITE_H */
