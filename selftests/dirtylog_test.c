// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty page logging: KVM_MEM_LOG_DIRTY_PAGES and KVM_GET_DIRTY_LOG with a
 * real-mode guest writing (and reading) pages of a logged slot; each call
 * hands out the pages written since the last one.  Then manual protection
 * (KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, KVM_CLEAR_DIRTY_LOG) and the dirty
 * ring (KVM_CAP_DIRTY_LOG_RING, KVM_RESET_DIRTY_RINGS) with a 32-bit guest
 * that writes pages as a mailbox tells it, and a guest that keeps writing
 * while another thread harvests.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include "kvl_test.h"

#define GUEST_MEM	0x20000
#define CODE_GPA	0x1000
#define LOG_GPA		0x40000
#define LOG_PAGES	16

/* ES = 0x4000: write pages 0, 3 and 15 and read page 7; out 0x40; write page 5; out 0x40; hlt */
asm(".pushsection .rodata\n"
    ".code16\n"
    "rm_dirty_begin:\n"
    "	mov $0x4000, %ax\n"
    "	mov %ax, %es\n"
    "	movb $1, %es:0x0000\n"
    "	movb $1, %es:0x3010\n"
    "	movb $1, %es:0xf000\n"
    "	mov %es:0x7000, %al\n"
    "	mov $0x40, %dx\n"
    "	out %al, %dx\n"
    "	movw $2, %es:0x5ffe\n"
    "	out %al, %dx\n"
    "	hlt\n"
    "rm_dirty_end:\n"
    ".code64\n"
    ".popsection\n");
extern const unsigned char rm_dirty_begin[], rm_dirty_end[];

FIXTURE(vm) {
	struct kvl_rm_vm v;
	unsigned char *log_mem;
};

FIXTURE_SETUP(vm)
{
	struct kvm_userspace_memory_region slot = {
		.slot = 1, .flags = KVM_MEM_LOG_DIRTY_PAGES,
		.guest_phys_addr = LOG_GPA, .memory_size = LOG_PAGES * 4096,
	};
	const char *what;

	ASSERT_EQ(0, kvl_rm_vm_create(&self->v, GUEST_MEM, CODE_GPA, rm_dirty_begin,
				      rm_dirty_end - rm_dirty_begin, &what))
		TH_LOG("%s: %s", what, strerror(errno));
	self->log_mem = mmap(NULL, LOG_PAGES * 4096, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->log_mem);
	slot.userspace_addr = (uintptr_t)self->log_mem;
	ASSERT_EQ(0, ioctl(self->v.vm, KVM_SET_USER_MEMORY_REGION, &slot));
}

FIXTURE_TEARDOWN(vm)
{
	kvl_rm_vm_destroy(&self->v);
	munmap(self->log_mem, LOG_PAGES * 4096);
}

static int get_log(int vm, uint32_t slot, uint64_t *bits)
{
	struct kvm_dirty_log log = { .slot = slot, .dirty_bitmap = bits };

	*bits = 0;
	return ioctl(vm, KVM_GET_DIRTY_LOG, &log);
}

TEST_F(vm, pages_written_since_last_call)
{
	struct kvm_run *run = self->v.run;
	uint64_t bits;

	ASSERT_EQ(0, get_log(self->v.vm, 1, &bits));
	EXPECT_EQ(0, bits);

	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
	ASSERT_EQ(0x40, run->io.port);
	ASSERT_EQ(0, get_log(self->v.vm, 1, &bits));
	EXPECT_EQ((1ull << 0) | (1ull << 3) | (1ull << 15), bits);
	EXPECT_EQ(1, self->log_mem[0x3010]);

	/* Nothing written since: an empty log; host writes are not logged. */
	self->log_mem[0x9000] = 7;
	ASSERT_EQ(0, get_log(self->v.vm, 1, &bits));
	EXPECT_EQ(0, bits);

	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
	ASSERT_EQ(0, get_log(self->v.vm, 1, &bits));
	EXPECT_EQ(1ull << 5, bits);
	EXPECT_EQ(2, self->log_mem[0x5ffe]);
}

TEST_F(vm, errors)
{
	struct kvm_userspace_memory_region slot = {
		.slot = 1, .guest_phys_addr = LOG_GPA, .memory_size = LOG_PAGES * 4096,
	};
	struct kvm_dirty_log log = { .slot = 1, .dirty_bitmap = NULL };
	uint64_t bits;

	EXPECT_EQ(-1, get_log(self->v.vm, 0, &bits));	/* not logging */
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, get_log(self->v.vm, 7, &bits));	/* no such slot */
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, get_log(self->v.vm, 100000, &bits));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->v.vm, KVM_GET_DIRTY_LOG, &log));
	EXPECT_EQ(EFAULT, errno);

	/* Logging switched off: the slot has no log any more. */
	slot.userspace_addr = (uintptr_t)self->log_mem;
	ASSERT_EQ(0, ioctl(self->v.vm, KVM_SET_USER_MEMORY_REGION, &slot));
	EXPECT_EQ(-1, get_log(self->v.vm, 1, &bits));
	EXPECT_EQ(ENOENT, errno);
}

/*
 * Protected-mode guest for the tests below.  Slot 0 (not logged) holds the
 * code at PM_CODE and a mailbox at PM_MBOX; slot 1 logs DLOG_PAGES pages at
 * DLOG_GPA.  Each pass reads the mailbox (first GPA, page count, value, op),
 * writes the value to (op 0) or reads (op 1) the first dword of each page,
 * then exits with OUT to port 0x40.  Mode 2 loops for ever writing an
 * incrementing pass number to every page, publishes it in the mailbox and
 * exits after each pass; mode 3 does the same without exits.  It runs with
 * IF set (no interrupt ever comes: there is no irqchip).  With IF clear,
 * Bochs 2.7's VT-x took no external-interrupt exit from the mode-3 loop
 * (its debugger showed seconds of emulated time without one), so the
 * one-CPU Bochs host never got its timer back, under kvm-intel and
 * kvmlite alike.
 */
#define PM_MEM		0x20000
#define PM_CODE		0x1000
#define PM_MBOX		0x2000
#define DLOG_GPA	0x100000
#define DLOG_SLOT	1

struct mbox {
	uint32_t gpa, count, value, op, pass;
};

asm(".pushsection .rodata\n"
    ".code32\n"
    "pm_guest_begin:\n"
    "	sti\n"
    "1:	mov 0x2000, %esi\n"
    "	mov 0x2004, %ecx\n"
    "	mov 0x2008, %eax\n"
    "	mov 0x200c, %ebx\n"
    "	cmp $2, %ebx\n"
    "	jae 6f\n"
    "	test %ecx, %ecx\n"
    "	jz 3f\n"
    "2:	test %ebx, %ebx\n"
    "	jnz 4f\n"
    "	mov %eax, (%esi)\n"
    "	jmp 5f\n"
    "4:	mov (%esi), %edx\n"
    "5:	add $0x1000, %esi\n"
    "	dec %ecx\n"
    "	jnz 2b\n"
    "3:	out %al, $0x40\n"
    "	jmp 1b\n"
    /* mode 2: eax = pass number, kept across exits */
    "6:	inc %eax\n"
    "	mov 0x2000, %esi\n"
    "	mov 0x2004, %ecx\n"
    "7:	mov %eax, (%esi)\n"
    "	add $0x1000, %esi\n"
    "	dec %ecx\n"
    "	jnz 7b\n"
    "	mov %eax, 0x2010\n"
    "	cmpl $3, 0x200c\n"
    "	je 6b\n"
    "	out %al, $0x40\n"
    "	jmp 6b\n"
    "pm_guest_end:\n"
    ".code64\n"
    ".popsection\n");
extern const unsigned char pm_guest_begin[], pm_guest_end[];

struct dvm {
	struct kvl_rm_vm v;
	unsigned char *log;
	uint32_t log_pages;
	struct kvm_dirty_gfn *ring;
	uint32_t ring_bytes;
	uint32_t fetch;		/* next ring entry to collect */
};

static int enable_cap(int fd, uint32_t cap, uint64_t arg0)
{
	struct kvm_enable_cap c = { .cap = cap, .args = { arg0 } };

	return ioctl(fd, KVM_ENABLE_CAP, &c);
}

/* A VM with manual protection @manual and a dirty ring of @ring_bytes (if not 0). */
static int dvm_create(struct dvm *d, uint64_t manual, uint32_t ring_bytes, uint32_t log_pages,
		      const char **what)
{
	struct kvm_userspace_memory_region slot0 = { .memory_size = PM_MEM };
	struct kvm_userspace_memory_region slot1 = {
		.slot = DLOG_SLOT, .flags = KVM_MEM_LOG_DIRTY_PAGES,
		.guest_phys_addr = DLOG_GPA, .memory_size = (uint64_t)log_pages * 4096,
	};
	struct kvl_rm_vm *v = &d->v;

	memset(d, 0, sizeof(*d));
	v->sys = v->vm = v->vcpu = -1;
	d->log_pages = log_pages;
	d->ring_bytes = ring_bytes;
	*what = "open";
	v->sys = kvl_open(O_RDWR);
	if (v->sys < 0)
		return -1;
	*what = "KVM_CREATE_VM";
	v->vm = ioctl(v->sys, KVM_CREATE_VM, 0);
	if (v->vm < 0)
		return -1;
	*what = "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2";
	if (manual && enable_cap(v->vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, manual))
		return -1;
	*what = "KVM_CAP_DIRTY_LOG_RING";
	if (ring_bytes && enable_cap(v->vm, KVM_CAP_DIRTY_LOG_RING, ring_bytes))
		return -1;
	*what = "guest memory";
	v->mem_size = PM_MEM;
	v->mem = mmap(NULL, PM_MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	d->log = mmap(NULL, slot1.memory_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->mem == MAP_FAILED || d->log == MAP_FAILED)
		return -1;
	/* 4K host pages: a THP collapse would drop writable translations. */
	madvise(d->log, slot1.memory_size, MADV_NOHUGEPAGE);
	memcpy(v->mem + PM_CODE, pm_guest_begin, pm_guest_end - pm_guest_begin);
	slot0.userspace_addr = (uintptr_t)v->mem;
	slot1.userspace_addr = (uintptr_t)d->log;
	*what = "KVM_SET_USER_MEMORY_REGION";
	if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &slot0) ||
	    ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &slot1))
		return -1;
	v->vcpu = kvl_rm_vcpu_add(v, 0, PM_CODE, 0, &v->run, what);
	if (v->vcpu < 0)
		return -1;
	if (ring_bytes) {
		*what = "mmap of the dirty ring";
		d->ring = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu,
			       KVM_DIRTY_LOG_PAGE_OFFSET * 4096);
		if (d->ring == MAP_FAILED)
			return -1;
	}
	*what = "protected mode";
	return kvl_vm_set_mode(v, KVL_MODE_PROT32);
}

static void dvm_destroy(struct dvm *d)
{
	if (d->ring && d->ring != MAP_FAILED)
		munmap(d->ring, d->ring_bytes);
	if (d->log && d->log != MAP_FAILED)
		munmap(d->log, (size_t)d->log_pages * 4096);
	kvl_rm_vm_destroy(&d->v);
}

static struct mbox *dvm_mbox(struct dvm *d)
{
	return (struct mbox *)(d->v.mem + PM_MBOX);
}

/* One guest pass over @count pages from page @first: 0, or the unexpected exit reason. */
static int dvm_pass(struct dvm *d, uint32_t first, uint32_t count, uint32_t value, uint32_t op)
{
	struct mbox *m = dvm_mbox(d);

	m->gpa = DLOG_GPA + first * 4096;
	m->count = count;
	m->value = value;
	m->op = op;
	if (ioctl(d->v.vcpu, KVM_RUN, 0))
		return -errno;
	if (d->v.run->exit_reason != KVM_EXIT_IO || d->v.run->io.port != 0x40)
		return d->v.run->exit_reason;
	return 0;
}

static int get_bitmap(int vm, uint32_t slot, uint64_t *bits)
{
	struct kvm_dirty_log log = { .slot = slot, .dirty_bitmap = bits };

	return ioctl(vm, KVM_GET_DIRTY_LOG, &log);
}

static int clear_bitmap(int vm, uint32_t slot, uint64_t first, uint32_t num, void *bits)
{
	struct kvm_clear_dirty_log log = {
		.slot = slot, .first_page = first, .num_pages = num, .dirty_bitmap = bits,
	};

	return ioctl(vm, KVM_CLEAR_DIRTY_LOG, &log);
}

TEST(caps)
{
	int sys = kvl_open(O_RDWR), vm;

	ASSERT_LE(0, sys);
	vm = ioctl(sys, KVM_CREATE_VM, 0);
	ASSERT_LE(0, vm);
	EXPECT_EQ(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET,
		  ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2));
	EXPECT_EQ(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET,
		  ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2));
	/* The largest ring: 65536 entries. */
	EXPECT_EQ(65536 * sizeof(struct kvm_dirty_gfn),
		  ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING));
	EXPECT_EQ(1, ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_ENABLE_CAP_VM));
	close(vm);
	close(sys);
}

TEST(enable_cap_errors)
{
	struct kvm_enable_cap c = { .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, .flags = 1,
				    .args = { KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE } };
	int sys = kvl_open(O_RDWR), vm, vm2, vcpu;
	uint64_t max;

	ASSERT_LE(0, sys);
	vm = ioctl(sys, KVM_CREATE_VM, 0);
	ASSERT_LE(0, vm);
	/* Manual protection: INITIALLY_SET only with ENABLE, no other bits, no flags. */
	EXPECT_EQ(-1, ioctl(vm, KVM_ENABLE_CAP, &c));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, enable_cap(vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
				 KVM_DIRTY_LOG_INITIALLY_SET));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, enable_cap(vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, 4));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, enable_cap(vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, 5));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, enable_cap(vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, 3));
	EXPECT_EQ(0, enable_cap(vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, 1));
	EXPECT_EQ(0, enable_cap(vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, 0));
	/* Unknown caps, and a bad pointer. */
	EXPECT_EQ(-1, enable_cap(vm, 0x7fff, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(vm, KVM_ENABLE_CAP, NULL));
	EXPECT_EQ(EFAULT, errno);

	/* Ring sizes: a power of two, at least a page, at most the maximum. */
	max = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING);
	ASSERT_LT(16384, max);
	EXPECT_EQ(-1, enable_cap(vm, KVM_CAP_DIRTY_LOG_RING, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, enable_cap(vm, KVM_CAP_DIRTY_LOG_RING, 3 * 4096));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, enable_cap(vm, KVM_CAP_DIRTY_LOG_RING, 2048));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, enable_cap(vm, KVM_CAP_DIRTY_LOG_RING, 2 * max));
	EXPECT_EQ(E2BIG, errno);
	/* Without a ring there is nothing to reset. */
	EXPECT_EQ(-1, ioctl(vm, KVM_RESET_DIRTY_RINGS, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, enable_cap(vm, KVM_CAP_DIRTY_LOG_RING, 16384));
	/* Once only. */
	EXPECT_EQ(-1, enable_cap(vm, KVM_CAP_DIRTY_LOG_RING, 16384));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, enable_cap(vm, KVM_CAP_DIRTY_LOG_RING, 32768));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, ioctl(vm, KVM_RESET_DIRTY_RINGS, 0));

	/* Not once a vCPU exists. */
	vm2 = ioctl(sys, KVM_CREATE_VM, 0);
	ASSERT_LE(0, vm2);
	vcpu = ioctl(vm2, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, vcpu);
	EXPECT_EQ(-1, enable_cap(vm2, KVM_CAP_DIRTY_LOG_RING, 16384));
	EXPECT_EQ(EINVAL, errno);
	close(vcpu);
	close(vm2);
	close(vm);
	close(sys);
}

#define CL_PAGES	128	/* two bitmap words */
#define CL_PAGES2	100	/* a slot whose end is not a multiple of 64 */
#define CL_GPA2		0x300000

FIXTURE(manual) {
	struct dvm d;
	unsigned char *mem2;
};

FIXTURE_VARIANT(manual) {
	uint64_t caps;
};

FIXTURE_VARIANT_ADD(manual, protect) {
	.caps = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE,
};

FIXTURE_VARIANT_ADD(manual, initially_set) {
	.caps = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET,
};

FIXTURE_SETUP(manual)
{
	struct kvm_userspace_memory_region slot2 = {
		.slot = 2, .flags = KVM_MEM_LOG_DIRTY_PAGES,
		.guest_phys_addr = CL_GPA2, .memory_size = CL_PAGES2 * 4096,
	};
	const char *what;

	ASSERT_EQ(0, dvm_create(&self->d, variant->caps, 0, CL_PAGES, &what))
		TH_LOG("%s: %s", what, strerror(errno));
	self->mem2 = mmap(NULL, CL_PAGES2 * 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem2);
	slot2.userspace_addr = (uintptr_t)self->mem2;
	ASSERT_EQ(0, ioctl(self->d.v.vm, KVM_SET_USER_MEMORY_REGION, &slot2));
}

FIXTURE_TEARDOWN(manual)
{
	dvm_destroy(&self->d);
	munmap(self->mem2, CL_PAGES2 * 4096);
}

TEST_F(manual, clear_errors)
{
	int vm = self->d.v.vm;
	uint64_t bits[2] = { 0 };

	/*
	 * Slot ids: address space bits, past KVM's limit, absent, not logging.
	 * Address space 1 is SMM's where KVM has one (it has nothing there).
	 */
	EXPECT_EQ(-1, clear_bitmap(vm, (2 << 16) | DLOG_SLOT, 0, 64, bits));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, clear_bitmap(vm, (1 << 16) | DLOG_SLOT, 0, 64, bits));
	EXPECT_EQ(ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_MULTI_ADDRESS_SPACE) > 1 ?
		  ENOENT : EINVAL, errno);
	EXPECT_EQ(-1, clear_bitmap(vm, 0xffff, 0, 64, bits));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, clear_bitmap(vm, 600, 0, 64, bits));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, clear_bitmap(vm, 7, 0, 64, bits));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, clear_bitmap(vm, 0, 0, 64, bits));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, get_bitmap(vm, 600, bits));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, get_bitmap(vm, 0xffff, bits));
	EXPECT_EQ(EINVAL, errno);
	/* first_page a multiple of 64 (checked before the slot), in the slot. */
	EXPECT_EQ(-1, clear_bitmap(vm, 7, 1, 64, bits));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, clear_bitmap(vm, DLOG_SLOT, 32, 64, bits));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, clear_bitmap(vm, DLOG_SLOT, 192, 0, bits));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, clear_bitmap(vm, DLOG_SLOT, 128, 0, bits));
	/* num_pages: within the slot, a multiple of 64 unless it reaches the end. */
	EXPECT_EQ(-1, clear_bitmap(vm, DLOG_SLOT, 64, 65, bits));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, clear_bitmap(vm, DLOG_SLOT, 0, 129, bits));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, clear_bitmap(vm, DLOG_SLOT, 0, 63, bits));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, clear_bitmap(vm, DLOG_SLOT, 0, 64, bits));
	EXPECT_EQ(0, clear_bitmap(vm, DLOG_SLOT, 64, 64, bits));
	EXPECT_EQ(0, clear_bitmap(vm, DLOG_SLOT, 0, 128, bits));
	EXPECT_EQ(0, clear_bitmap(vm, 2, 64, 36, bits));
	EXPECT_EQ(0, clear_bitmap(vm, 2, 0, 100, bits));
	EXPECT_EQ(-1, clear_bitmap(vm, 2, 0, 36, bits));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, clear_bitmap(vm, 2, 64, 37, bits));
	EXPECT_EQ(EINVAL, errno);
	/* The bitmap is read only for a non-empty range. */
	EXPECT_EQ(0, clear_bitmap(vm, DLOG_SLOT, 0, 0, NULL));
	EXPECT_EQ(-1, clear_bitmap(vm, DLOG_SLOT, 0, 64, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(vm, KVM_CLEAR_DIRTY_LOG, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(manual, get_does_not_clear)
{
	int vm = self->d.v.vm;
	uint64_t bits[2], one[2];
	bool init = variant->caps & KVM_DIRTY_LOG_INITIALLY_SET;

	/* INITIALLY_SET: every page of the slot starts dirty, and no more. */
	ASSERT_EQ(0, get_bitmap(vm, DLOG_SLOT, bits));
	EXPECT_EQ(init ? ~0ull : 0, bits[0]);
	EXPECT_EQ(init ? ~0ull : 0, bits[1]);
	ASSERT_EQ(0, get_bitmap(vm, 2, bits));
	EXPECT_EQ(init ? ~0ull : 0, bits[0]);
	EXPECT_EQ(init ? (1ull << 36) - 1 : 0, bits[1]);
	memset(bits, 0xff, sizeof(bits));
	ASSERT_EQ(0, clear_bitmap(vm, DLOG_SLOT, 0, CL_PAGES, bits));
	ASSERT_EQ(0, clear_bitmap(vm, 2, 0, CL_PAGES2, bits));
	ASSERT_EQ(0, get_bitmap(vm, DLOG_SLOT, bits));
	EXPECT_EQ(0, bits[0]);
	EXPECT_EQ(0, bits[1]);

	/* Pages 0, 3 (and 4, 5, 6) written, 7 to 9 read. */
	ASSERT_EQ(0, dvm_pass(&self->d, 0, 1, 11, 0));
	ASSERT_EQ(0, dvm_pass(&self->d, 3, 4, 12, 0));
	ASSERT_EQ(0, dvm_pass(&self->d, 70, 1, 13, 0));
	ASSERT_EQ(0, dvm_pass(&self->d, 7, 3, 0, 1));
	EXPECT_EQ(12, *(uint32_t *)(self->d.log + 6 * 4096));
	ASSERT_EQ(0, get_bitmap(vm, DLOG_SLOT, bits));
	EXPECT_EQ(0x79ull, bits[0]);
	EXPECT_EQ(1ull << 6, bits[1]);
	/* Read again: the same, nothing was cleared. */
	ASSERT_EQ(0, get_bitmap(vm, DLOG_SLOT, bits));
	EXPECT_EQ(0x79ull, bits[0]);
	EXPECT_EQ(1ull << 6, bits[1]);

	/* Clear page 3 (and page 1, which is clean): only 3 goes. */
	one[0] = (1ull << 3) | (1ull << 1);
	one[1] = 0;
	ASSERT_EQ(0, clear_bitmap(vm, DLOG_SLOT, 0, CL_PAGES, one));
	ASSERT_EQ(0, get_bitmap(vm, DLOG_SLOT, bits));
	EXPECT_EQ(0x71ull, bits[0]);
	/* Pages 3 and 4 written again: 3 was protected again, 4 still dirty. */
	ASSERT_EQ(0, dvm_pass(&self->d, 3, 2, 14, 0));
	ASSERT_EQ(0, get_bitmap(vm, DLOG_SLOT, bits));
	EXPECT_EQ(0x79ull, bits[0]);
	EXPECT_EQ(1ull << 6, bits[1]);

	/* Clear the second word alone; then everything. */
	one[0] = 1ull << 6;
	ASSERT_EQ(0, clear_bitmap(vm, DLOG_SLOT, 64, 64, one));
	ASSERT_EQ(0, get_bitmap(vm, DLOG_SLOT, bits));
	EXPECT_EQ(0x79ull, bits[0]);
	EXPECT_EQ(0, bits[1]);
	ASSERT_EQ(0, clear_bitmap(vm, DLOG_SLOT, 0, CL_PAGES, bits));
	ASSERT_EQ(0, get_bitmap(vm, DLOG_SLOT, bits));
	EXPECT_EQ(0, bits[0]);
	EXPECT_EQ(0, bits[1]);
	ASSERT_EQ(0, dvm_pass(&self->d, 5, 1, 15, 0));
	ASSERT_EQ(0, dvm_pass(&self->d, 127, 1, 15, 0));
	ASSERT_EQ(0, get_bitmap(vm, DLOG_SLOT, bits));
	EXPECT_EQ(1ull << 5, bits[0]);
	EXPECT_EQ(1ull << 63, bits[1]);
	EXPECT_EQ(15, *(uint32_t *)(self->d.log + 127 * 4096));

	/* Manual protection off again: KVM_GET_DIRTY_LOG clears and protects. */
	ASSERT_EQ(0, enable_cap(vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, 0));
	ASSERT_EQ(0, get_bitmap(vm, DLOG_SLOT, bits));
	EXPECT_EQ(1ull << 5, bits[0]);
	ASSERT_EQ(0, get_bitmap(vm, DLOG_SLOT, bits));
	EXPECT_EQ(0, bits[0]);
	EXPECT_EQ(0, bits[1]);
	ASSERT_EQ(0, dvm_pass(&self->d, 5, 1, 16, 0));
	ASSERT_EQ(0, get_bitmap(vm, DLOG_SLOT, bits));
	EXPECT_EQ(1ull << 5, bits[0]);
}

#define RING_BYTES	16384
#define RING_ENTRIES	(RING_BYTES / sizeof(struct kvm_dirty_gfn))
#define RING_PAGES	RING_ENTRIES	/* more than fit below the soft limit */

/* Collect the dirty entries from d->fetch on: each page's bit in @seen; how many. */
static int ring_collect(struct dvm *d, uint64_t *seen, bool reset, int *dups)
{
	int n;

	/* A ring can be full of dirty entries: one lap at most. */
	for (n = 0; n < (int)RING_ENTRIES; n++) {
		struct kvm_dirty_gfn *e = &d->ring[d->fetch % RING_ENTRIES];
		uint32_t flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

		if (!(flags & KVM_DIRTY_GFN_F_DIRTY))
			break;
		if (e->slot != DLOG_SLOT || e->offset >= d->log_pages)
			return -1;
		if (seen[e->offset / 64] & (1ull << (e->offset % 64)))
			(*dups)++;
		seen[e->offset / 64] |= 1ull << (e->offset % 64);
		if (reset)
			__atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
		d->fetch++;
	}
	return n;
}

FIXTURE(ring) {
	struct dvm d;
};

FIXTURE_SETUP(ring)
{
	const char *what;

	ASSERT_EQ(0, dvm_create(&self->d, 0, RING_BYTES, RING_PAGES, &what))
		TH_LOG("%s: %s", what, strerror(errno));
}

FIXTURE_TEARDOWN(ring)
{
	dvm_destroy(&self->d);
}

TEST_F(ring, abi)
{
	struct dvm *d = &self->d;
	uint64_t bits[RING_PAGES / 64];
	void *p;

	/* Mapped shared and not executable only. */
	p = mmap(NULL, RING_BYTES, PROT_READ, MAP_PRIVATE, d->v.vcpu,
		 KVM_DIRTY_LOG_PAGE_OFFSET * 4096);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, d->v.vcpu,
		 (KVM_DIRTY_LOG_PAGE_OFFSET + 1) * 4096);
	EXPECT_EQ(MAP_FAILED, p);
	/* Newer kernels refuse executable mappings of anon inodes first. */
	EXPECT_TRUE(errno == EINVAL || errno == EPERM);
	/* The bitmap interface is off while rings are on. */
	EXPECT_EQ(-1, get_bitmap(d->v.vm, DLOG_SLOT, bits));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, clear_bitmap(d->v.vm, DLOG_SLOT, 0, 64, bits));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(0, ioctl(d->v.vm, KVM_RESET_DIRTY_RINGS, 0));
}

/* The set of pages of the dirty entries from d->fetch on, collected (or not). */
static uint64_t ring_set(struct dvm *d, bool reset, int *n)
{
	uint64_t seen[RING_PAGES / 64] = { 0 };
	int dups = 0, i;

	*n = ring_collect(d, seen, reset, &dups);
	for (i = 1; i < (int)(RING_PAGES / 64); i++)
		if (seen[i])
			return ~0ull;	/* only the first 64 pages are used below */
	return seen[0];
}

/*
 * Entries are exact sets of the pages written, not reads; a page may be
 * logged more than once (KVM with PML flushes the hardware log on exits),
 * so the checks are on sets and counts of collected entries.
 */
TEST_F(ring, push_and_reset)
{
	struct dvm *d = &self->d;
	struct kvm_dirty_gfn *r = d->ring;
	uint32_t start;
	int n, i;

	ASSERT_EQ(0, dvm_pass(d, 0, 1, 1, 0));
	ASSERT_EQ(0, dvm_pass(d, 3, 1, 1, 0));
	ASSERT_EQ(0, dvm_pass(d, 9, 1, 0, 1));
	ASSERT_EQ(0, dvm_pass(d, 5, 1, 1, 0));
	EXPECT_EQ((1ull << 0) | (1ull << 3) | (1ull << 5), ring_set(d, false, &n));
	ASSERT_LE(3, n);
	EXPECT_EQ(0, r[n].flags);
	/* Nothing collected, nothing reset. */
	EXPECT_EQ(0, ioctl(d->v.vm, KVM_RESET_DIRTY_RINGS, 0));
	EXPECT_EQ(KVM_DIRTY_GFN_F_DIRTY, r[0].flags);

	/* Collect the first two: they are taken back, the others stay. */
	r[0].flags = KVM_DIRTY_GFN_F_RESET;
	r[1].flags = KVM_DIRTY_GFN_F_RESET;
	EXPECT_EQ(2, ioctl(d->v.vm, KVM_RESET_DIRTY_RINGS, 0));
	EXPECT_EQ(0, r[0].flags);
	EXPECT_EQ(0, r[1].flags);
	EXPECT_EQ(KVM_DIRTY_GFN_F_DIRTY, r[2].flags);
	EXPECT_EQ(0, ioctl(d->v.vm, KVM_RESET_DIRTY_RINGS, 0));
	/* Then the rest. */
	for (i = 2; i < n; i++)
		r[i].flags = KVM_DIRTY_GFN_F_RESET;
	EXPECT_EQ(n - 2, ioctl(d->v.vm, KVM_RESET_DIRTY_RINGS, 0));

	/* All pages were protected again: writes log them again. */
	ASSERT_EQ(0, dvm_pass(d, 0, 1, 3, 0));
	ASSERT_EQ(0, dvm_pass(d, 3, 1, 3, 0));
	start = d->fetch;
	EXPECT_EQ((1ull << 0) | (1ull << 3), ring_set(d, false, &n));
	EXPECT_EQ(3, *(uint32_t *)(d->log + 3 * 4096));

	/* Entries userspace scribbled on are taken back and ignored. */
	r[start % RING_ENTRIES].slot = 0x12345;
	r[(start + 1) % RING_ENTRIES].offset = ~0ull;
	for (i = 0; i < n; i++)
		r[(start + i) % RING_ENTRIES].flags = KVM_DIRTY_GFN_F_RESET;
	EXPECT_EQ(n, ioctl(d->v.vm, KVM_RESET_DIRTY_RINGS, 0));
	ASSERT_EQ(0, dvm_pass(d, 0, 8, 4, 0));
	EXPECT_EQ(4, *(uint32_t *)(d->log + 7 * 4096));
	EXPECT_EQ(0, ring_set(d, false, &n) & ~0xffull);
}

TEST_F(ring, soft_full)
{
	struct dvm *d = &self->d;
	uint64_t seen[RING_PAGES / 64] = { 0 };
	int fulls = 0, dups = 0, total = 0, n, i;
	struct mbox *m = dvm_mbox(d);

	/* One pass writes more pages than the ring holds below its soft limit. */
	m->gpa = DLOG_GPA;
	m->count = RING_PAGES;
	m->value = 0x55;
	m->op = 0;
	for (;;) {
		ASSERT_EQ(0, ioctl(d->v.vcpu, KVM_RUN, 0));
		if (d->v.run->exit_reason == KVM_EXIT_IO)
			break;
		ASSERT_EQ(KVM_EXIT_DIRTY_RING_FULL, d->v.run->exit_reason);
		fulls++;
		/* Until it is reset, the vCPU does not enter the guest. */
		ASSERT_EQ(0, ioctl(d->v.vcpu, KVM_RUN, 0));
		ASSERT_EQ(KVM_EXIT_DIRTY_RING_FULL, d->v.run->exit_reason);
		n = ring_collect(d, seen, true, &dups);
		ASSERT_LT(0, n);
		ASSERT_GE((int)RING_ENTRIES, n);
		EXPECT_EQ(n, ioctl(d->v.vm, KVM_RESET_DIRTY_RINGS, 0));
		total += n;
	}
	ASSERT_EQ(0x40, d->v.run->io.port);
	n = ring_collect(d, seen, false, &dups);
	ASSERT_LE(0, n);
	/*
	 * The soft limit is at most the size less 64 entries.  The vCPU
	 * stopped at it during the pass, or (when the log reached the ring
	 * in one go at the exit, as with PML) stops now.
	 */
	if (n >= (int)RING_ENTRIES - 64) {
		m->count = 0;
		ASSERT_EQ(0, ioctl(d->v.vcpu, KVM_RUN, 0));
		EXPECT_EQ(KVM_EXIT_DIRTY_RING_FULL, d->v.run->exit_reason);
		fulls++;
	}
	EXPECT_LT(0, fulls);
	d->fetch -= n;
	n = ring_collect(d, seen, true, &dups);
	EXPECT_EQ(n, ioctl(d->v.vm, KVM_RESET_DIRTY_RINGS, 0));
	total += n;
	/* Every page written was logged. */
	EXPECT_LE((int)RING_PAGES, total);
	for (i = 0; i < (int)(RING_PAGES / 64); i++)
		EXPECT_EQ(~0ull, seen[i]);
	EXPECT_EQ(0x55, *(uint32_t *)(d->log + (RING_PAGES - 1) * 4096));
	/* Reset: the vCPU runs again. */
	m->count = 0;
	ASSERT_EQ(0, ioctl(d->v.vcpu, KVM_RUN, 0));
	EXPECT_EQ(KVM_EXIT_IO, d->v.run->exit_reason);
}

/*
 * A guest that keeps writing while this thread harvests.  After round r
 * (a harvest, then a read of every page) a page whose value changed since
 * round r-1 must be in the pages harvested in round r or r+1 (a write after
 * the harvest's re-protection is logged in the next one); after the vCPU
 * has stopped, the last round holds every change.
 */
#define CC_PAGES	64
#define CC_ROUNDS	40

enum cc_mode { CC_GET, CC_CLEAR, CC_RING };

struct cc_vcpu {
	struct dvm *d;
	atomic_int stop;
	int error;
	int fulls;
};

static void *cc_vcpu_thread(void *arg)
{
	struct cc_vcpu *c = arg;
	struct kvm_run *run = c->d->v.run;

	while (!atomic_load(&c->stop)) {
		if (ioctl(c->d->v.vcpu, KVM_RUN, 0) && errno != EINTR) {
			c->error = errno;
			break;
		}
		if (run->exit_reason == KVM_EXIT_DIRTY_RING_FULL) {
			c->fulls++;
			sched_yield();
		} else if (run->exit_reason != KVM_EXIT_IO) {
			c->error = 1000 + run->exit_reason;
			break;
		}
	}
	return NULL;
}

static int cc_harvest(struct dvm *d, enum cc_mode mode, uint64_t *dirty)
{
	int dups = 0;

	memset(dirty, 0, CC_PAGES / 8);
	switch (mode) {
	case CC_GET:
		return get_bitmap(d->v.vm, DLOG_SLOT, dirty);
	case CC_CLEAR:
		if (get_bitmap(d->v.vm, DLOG_SLOT, dirty))
			return -1;
		return clear_bitmap(d->v.vm, DLOG_SLOT, 0, CC_PAGES, dirty);
	case CC_RING: {
		int n = ring_collect(d, dirty, true, &dups);

		if (n < 0 || ioctl(d->v.vm, KVM_RESET_DIRTY_RINGS, 0) != n)
			return -1;
		return 0;
	}
	}
	return -1;
}

FIXTURE(concurrent) {
	struct dvm d;
};

FIXTURE_VARIANT(concurrent) {
	enum cc_mode mode;
};

FIXTURE_VARIANT_ADD(concurrent, get_log) { .mode = CC_GET };
FIXTURE_VARIANT_ADD(concurrent, clear_log) { .mode = CC_CLEAR };
FIXTURE_VARIANT_ADD(concurrent, dirty_ring) { .mode = CC_RING };

FIXTURE_SETUP(concurrent)
{
	const char *what;

	ASSERT_EQ(0, dvm_create(&self->d,
				variant->mode == CC_CLEAR ? KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE : 0,
				variant->mode == CC_RING ? RING_BYTES : 0, CC_PAGES, &what))
		TH_LOG("%s: %s", what, strerror(errno));
}

FIXTURE_TEARDOWN(concurrent)
{
	dvm_destroy(&self->d);
}

TEST_F(concurrent, harvest_while_writing)
{
	static uint32_t val[CC_ROUNDS + 2][CC_PAGES];
	static uint64_t dirty[CC_ROUNDS + 2][1];
	struct dvm *d = &self->d;
	struct mbox *m = dvm_mbox(d);
	struct cc_vcpu c = { .d = d };
	uint32_t last_pass = 0;
	pthread_t t;
	int r, i, reported = 0;

	m->gpa = DLOG_GPA;
	m->count = CC_PAGES;
	m->op = 2;
	memset(val[0], 0, sizeof(val[0]));
	ASSERT_EQ(0, pthread_create(&t, NULL, cc_vcpu_thread, &c));
	for (r = 1; r <= CC_ROUNDS + 1; r++) {
		if (r == CC_ROUNDS + 1) {
			atomic_store(&c.stop, 1);
			pthread_join(t, NULL);
		} else {
			/* Let the guest finish a pass (it cannot in ring mode until a reset). */
			while (__atomic_load_n(&m->pass, __ATOMIC_ACQUIRE) == last_pass &&
			       !c.error && (variant->mode != CC_RING || !c.fulls))
				sched_yield();
			last_pass = __atomic_load_n(&m->pass, __ATOMIC_ACQUIRE);
		}
		ASSERT_EQ(0, c.error);
		ASSERT_EQ(0, cc_harvest(d, variant->mode, dirty[r]));
		for (i = 0; i < CC_PAGES; i++)
			val[r][i] = __atomic_load_n((uint32_t *)(d->log + i * 4096),
						    __ATOMIC_ACQUIRE);
		reported += __builtin_popcountll(dirty[r][0]);
	}
	EXPECT_LT(0, reported);
	EXPECT_LT(1, last_pass);
	for (r = 1; r <= CC_ROUNDS + 1; r++) {
		uint64_t ok = dirty[r][0] | (r <= CC_ROUNDS ? dirty[r + 1][0] : 0);

		for (i = 0; i < CC_PAGES; i++) {
			if (val[r][i] != val[r - 1][i])
				EXPECT_TRUE(ok & (1ull << i))
					TH_LOG("round %d page %d: %u -> %u, not logged",
					       r, i, val[r - 1][i], val[r][i]);
		}
	}
}

/*
 * How harvesting VMMs stop a vCPU thread: a signal it blocks outside
 * KVM_RUN (and has no handler for) but KVM_SET_SIGNAL_MASK lets through in
 * it.  KVM_RUN returns EINTR and the signal stays pending for sigwait; it
 * must not kill the process (it did on kvmlite when it hit the guest).
 */
struct kick {
	struct dvm *d;
	atomic_int done;
	int err;
};

static void *kick_vcpu_thread(void *arg)
{
	struct kick *k = arg;
	struct kvm_signal_mask *sm = calloc(1, sizeof(*sm) + sizeof(sigset_t));
	sigset_t usr1, cur;
	int sig = 0, i;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, &cur);
	sigdelset(&cur, SIGUSR1);
	sm->len = 8;
	memcpy(sm->sigset, &cur, 8);
	if (ioctl(k->d->v.vcpu, KVM_SET_SIGNAL_MASK, sm))
		k->err = errno;
	for (i = 0; !k->err && i < 3; i++) {
		while (ioctl(k->d->v.vcpu, KVM_RUN, 0) == 0) {
			if (k->d->v.run->exit_reason != KVM_EXIT_IO) {
				k->err = 1000 + k->d->v.run->exit_reason;
				break;
			}
		}
		if (!k->err && errno != EINTR)
			k->err = errno;
		if (!k->err && (sigwait(&usr1, &sig) || sig != SIGUSR1))
			k->err = 2000;
		atomic_fetch_add(&k->done, 1);
	}
	free(sm);
	return NULL;
}

TEST(kick_with_blocked_signal)
{
	struct dvm d;
	struct kick k = { .d = &d };
	const char *what;
	sigset_t usr1;
	pthread_t t;
	int i;

	ASSERT_EQ(0, dvm_create(&d, 0, 0, 4, &what))
		TH_LOG("%s: %s", what, strerror(errno));
	dvm_mbox(&d)->gpa = DLOG_GPA;
	dvm_mbox(&d)->count = 4;
	dvm_mbox(&d)->op = 3;
	/* The signal is blocked in this thread too: only the vCPU thread takes it. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	ASSERT_EQ(0, pthread_create(&t, NULL, kick_vcpu_thread, &k));
	for (i = 0; i < 3; i++) {
		/* Let the guest run a while, then kick. */
		while (__atomic_load_n(&dvm_mbox(&d)->pass, __ATOMIC_ACQUIRE) < 10u * (i + 1) &&
		       !k.err)
			sched_yield();
		pthread_kill(t, SIGUSR1);
		while (atomic_load(&k.done) == i && !k.err)
			sched_yield();
	}
	pthread_join(t, NULL);
	EXPECT_EQ(0, k.err);
	EXPECT_EQ(3, atomic_load(&k.done));
	dvm_destroy(&d);
}

/*
 * Guest memory backed by transparent huge pages (kvmlite maps such a 2 MiB
 * range with one 2 MiB nested page where it can): every guest write lands
 * in the host's current page after the host drops a 4 KiB piece of a huge
 * page or all of one, and dirty logging on such a slot logs 4 KiB pages.
 * Where the host has no THP the same checks run on 4 KiB pages.
 */
#define THP_GPA		0x400000
#define THP_PAGES	1024	/* 4 MiB: two 2 MiB pages */
#define THP_SLOT	3

static int thp_pass(struct dvm *d, uint32_t first, uint32_t count, uint32_t value)
{
	struct mbox *m = dvm_mbox(d);

	m->gpa = THP_GPA + first * 4096;
	m->count = count;
	m->value = value;
	m->op = 0;
	if (ioctl(d->v.vcpu, KVM_RUN, 0))
		return -errno;
	return d->v.run->exit_reason == KVM_EXIT_IO ? 0 : d->v.run->exit_reason;
}

static uint32_t thp_word(unsigned char *mem, int page, int word)
{
	return ((volatile uint32_t *)(mem + page * 4096))[word];
}

TEST(huge_backing)
{
	struct kvm_userspace_memory_region slot = {
		.slot = THP_SLOT, .guest_phys_addr = THP_GPA,
		.memory_size = THP_PAGES * 4096,
	};
	uint64_t bits[THP_PAGES / 64];
	unsigned char *raw, *mem;
	struct dvm d;
	const char *what;
	int i, bad;

	ASSERT_EQ(0, dvm_create(&d, 0, 0, 4, &what))
		TH_LOG("%s: %s", what, strerror(errno));
	raw = mmap(NULL, THP_PAGES * 4096 + (2 << 20), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	mem = (unsigned char *)(((uintptr_t)raw + (2 << 20) - 1) & ~(uintptr_t)((2 << 20) - 1));
	madvise(mem, THP_PAGES * 4096, MADV_HUGEPAGE);
	for (i = 0; i < THP_PAGES; i++)
		((uint32_t *)(mem + i * 4096))[1] = 0x5000 + i;
	slot.userspace_addr = (uintptr_t)mem;
	ASSERT_EQ(0, ioctl(d.v.vm, KVM_SET_USER_MEMORY_REGION, &slot));

	ASSERT_EQ(0, thp_pass(&d, 0, THP_PAGES, 0xa1));
	for (i = 0, bad = 0; i < THP_PAGES; i++)
		bad += thp_word(mem, i, 0) != 0xa1 || thp_word(mem, i, 1) != 0x5000u + i;
	EXPECT_EQ(0, bad);

	/* A 4 KiB piece of the first huge page goes: the guest's next write lands in its new page. */
	ASSERT_EQ(0, madvise(mem + 300 * 4096, 4096, MADV_DONTNEED));
	EXPECT_EQ(0, thp_word(mem, 300, 1));
	ASSERT_EQ(0, thp_pass(&d, 295, 10, 0xb2));
	for (i = 0, bad = 0; i < THP_PAGES; i++)
		bad += thp_word(mem, i, 0) != (i >= 295 && i < 305 ? 0xb2 : 0xa1);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0x5000 + 299, thp_word(mem, 299, 1));
	EXPECT_EQ(0, thp_word(mem, 300, 1));

	/* All of the second one goes. */
	ASSERT_EQ(0, madvise(mem + 512 * 4096, 512 * 4096, MADV_DONTNEED));
	ASSERT_EQ(0, thp_pass(&d, 512, 512, 0xc3));
	for (i = 512, bad = 0; i < THP_PAGES; i++)
		bad += thp_word(mem, i, 0) != 0xc3 || thp_word(mem, i, 1) != 0;
	EXPECT_EQ(0, bad);

	/* Dirty logging on the slot: 4 KiB pages are logged one by one. */
	slot.flags = KVM_MEM_LOG_DIRTY_PAGES;
	ASSERT_EQ(0, ioctl(d.v.vm, KVM_SET_USER_MEMORY_REGION, &slot));
	ASSERT_EQ(0, get_bitmap(d.v.vm, THP_SLOT, bits));
	ASSERT_EQ(0, thp_pass(&d, 3, 1, 0xd4));
	ASSERT_EQ(0, thp_pass(&d, 600, 1, 0xd4));
	ASSERT_EQ(0, thp_pass(&d, 5, 1, 0xd4));
	memset(bits, 0, sizeof(bits));
	ASSERT_EQ(0, get_bitmap(d.v.vm, THP_SLOT, bits));
	for (i = 0, bad = 0; i < THP_PAGES / 64; i++)
		bad += bits[i] != (i == 0 ? (1ull << 3) | (1ull << 5) : i == 600 / 64 ? 1ull << (600 % 64) : 0);
	EXPECT_EQ(0, bad);
	/* And off again. */
	slot.flags = 0;
	ASSERT_EQ(0, ioctl(d.v.vm, KVM_SET_USER_MEMORY_REGION, &slot));
	ASSERT_EQ(0, thp_pass(&d, 0, THP_PAGES, 0xe5));
	for (i = 0, bad = 0; i < THP_PAGES; i++)
		bad += thp_word(mem, i, 0) != 0xe5;
	EXPECT_EQ(0, bad);

	dvm_destroy(&d);
	munmap(raw, THP_PAGES * 4096 + (2 << 20));
}

KVL_TEST_MAIN
