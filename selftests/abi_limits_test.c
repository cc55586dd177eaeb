// SPDX-License-Identifier: GPL-2.0
/*
 * KVM's limits at the ABI's edges, the same on every device: vCPU ids up to
 * KVM_CAP_MAX_VCPU_ID (sparse, as APIC ids are), many vCPUs per VM,
 * memslots that end beyond the host's MAXPHYADDR, and memslot ids up to
 * KVM's 32764 (read-only and logging slots among them).
 */
#include "kvl_test.h"

/* vCPU ids the tests create: sparse, the top one KVM's 4095. */
static const int sparse_ids[] = { 0, 1, 63, 64, 100, 4095 };

static int vm_open(int *sys)
{
	*sys = kvl_open(O_RDWR);
	if (*sys < 0)
		return -1;
	return ioctl(*sys, KVM_CREATE_VM, 0);
}

TEST(vcpu_caps_as_kvm)
{
	int sys = kvl_open(O_RDWR), nr, max, max_id;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	ASSERT_GE(sys, 0);
	nr = ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	max = ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	max_id = ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID);
	TH_LOG("NR_VCPUS %d MAX_VCPUS %d MAX_VCPU_ID %d", nr, max, max_id);
	/* x86 KVM: at least 1024 vCPUs, four ids per vCPU, one per host CPU advised. */
	EXPECT_GE(max, 1024);
	EXPECT_EQ(4 * max, max_id);
	EXPECT_EQ(cpus < max ? cpus : max, nr);
	close(sys);
}

TEST(vcpu_ids_sparse)
{
	int sys, vm = vm_open(&sys), max_id, fds[ARRAY_SIZE(sparse_ids) + 1], i, fd;

	ASSERT_GE(vm, 0);
	max_id = ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID);
	ASSERT_GE(max_id, 4096);
	for (i = 0; i < (int)ARRAY_SIZE(sparse_ids); i++) {
		fds[i] = ioctl(vm, KVM_CREATE_VCPU, sparse_ids[i]);
		EXPECT_GE(fds[i], 0) TH_LOG("id %d: %s", sparse_ids[i], strerror(errno));
	}
	/* The last id there is, when the device goes beyond 4096. */
	fds[i] = max_id > 4096 ? ioctl(vm, KVM_CREATE_VCPU, max_id - 1) : -1;
	if (max_id > 4096)
		EXPECT_GE(fds[i], 0);
	EXPECT_EQ(-1, ioctl(vm, KVM_CREATE_VCPU, max_id));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(vm, KVM_CREATE_VCPU, 4095));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, ioctl(vm, KVM_CREATE_VCPU, 64));
	EXPECT_EQ(EEXIST, errno);
	fd = ioctl(vm, KVM_CREATE_VCPU, 2);
	EXPECT_GE(fd, 0);
	close(fd);
	for (i = 0; i <= (int)ARRAY_SIZE(sparse_ids); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	close(vm);
	close(sys);
}

#define MANY_VCPUS	300

TEST(many_vcpus)
{
	int sys, vm = vm_open(&sys), fds[MANY_VCPUS], i, made = 0;

	ASSERT_GE(vm, 0);
	for (i = 0; i < MANY_VCPUS; i++) {
		/* Spread over 0..3887, so the ids are sparse too. */
		fds[i] = ioctl(vm, KVM_CREATE_VCPU, i * 13);
		if (fds[i] >= 0)
			made++;
		else
			TH_LOG("id %d: %s", i * 13, strerror(errno));
	}
	EXPECT_EQ(MANY_VCPUS, made);
	for (i = 0; i < MANY_VCPUS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	close(vm);
	close(sys);
}

/* Real mode at 0000:1000: mov al, 0x42; out 0x10, al; hlt. */
static const unsigned char out_hlt[] = { 0xb0, 0x42, 0xe6, 0x10, 0xf4 };

TEST(run_on_vcpu_4095)
{
	struct kvl_rm_vm v;
	struct kvm_run *run;
	const char *what;
	int fd;

	/* The helper's vCPU 0 stays idle: the guest runs on 4095. */
	ASSERT_EQ(0, kvl_rm_vm_create(&v, 0x10000, 0x1000, out_hlt, sizeof(out_hlt), &what))
		TH_LOG("%s: %s", what, strerror(errno));
	fd = kvl_rm_vcpu_add(&v, 4095, 0x1000, 0, &run, &what);
	ASSERT_GE(fd, 0) TH_LOG("%s: %s", what, strerror(errno));
	ASSERT_EQ(0, ioctl(fd, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
	EXPECT_EQ(KVM_EXIT_IO_OUT, run->io.direction);
	EXPECT_EQ(0x10, run->io.port);
	EXPECT_EQ(1, run->io.size);
	EXPECT_EQ(0x42, *((unsigned char *)run + run->io.data_offset));
	ASSERT_EQ(0, ioctl(fd, KVM_RUN, 0));
	EXPECT_EQ(KVM_EXIT_HLT, run->exit_reason);
	close(fd);
	close(v.vcpu);
	close(v.vm);
	close(v.sys);
}

/* The host's MAXPHYADDR, as KVM reads it (CPUID 0x80000008 EAX[7:0]). */
static int host_phys_bits(void)
{
	unsigned int a, b, c, d;

	if (__get_cpuid_max(0x80000000, NULL) < 0x80000008)
		return 36;
	__cpuid(0x80000008, a, b, c, d);
	return a & 0xff;
}

/* KVM_SET_USER_MEMORY_REGION: 0 or the errno. */
static int set_slot(int vm, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size,
		    uint64_t hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = hva,
	};

	return ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) ? errno : 0;
}

/* KVM's rule: the slot's last gfn must not pass the host MAXPHYADDR's. */
static int expect_for(uint64_t gpa, uint64_t size)
{
	uint64_t max_gfn = (1ULL << (host_phys_bits() - 12)) - 1;

	return ((gpa + size) >> 12) - 1 > max_gfn ? EINVAL : 0;
}

TEST(memslot_beyond_maxphyaddr)
{
	int sys, vm = vm_open(&sys), bits = host_phys_bits();
	uint64_t top = 1ULL << bits, big = 1ULL << 40, hva = 1ULL << 32;
	void *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_GE(vm, 0);
	ASSERT_NE(MAP_FAILED, page);
	TH_LOG("host MAXPHYADDR %d", bits);
	/* gpa 2^40, size 2^40 (an unmapped hva: KVM checks only its range). */
	EXPECT_EQ(expect_for(big, big), set_slot(vm, 0, 0, big, big, hva));
	set_slot(vm, 0, 0, 0, 0, 0);
	EXPECT_EQ(expect_for(big, big),
		  set_slot(vm, 0, KVM_MEM_LOG_DIRTY_PAGES, big, big, hva));
	set_slot(vm, 0, 0, 0, 0, 0);
	/* The last page below 2^52, then the host's last page and one beyond. */
	EXPECT_EQ(expect_for((1ULL << 52) - 4096, 4096),
		  set_slot(vm, 0, 0, (1ULL << 52) - 4096, 4096, (uintptr_t)page));
	set_slot(vm, 0, 0, 0, 0, 0);
	EXPECT_EQ(EINVAL, set_slot(vm, 1, 0, top, 4096, (uintptr_t)page));
	EXPECT_EQ(EINVAL, set_slot(vm, 1, 0, top - 4096, 8192, (uintptr_t)page));
	EXPECT_EQ(0, set_slot(vm, 1, 0, top - 4096, 4096, (uintptr_t)page));
	/* Overlap before the range: EEXIST, as KVM checks it first. */
	EXPECT_EQ(EEXIST, set_slot(vm, 2, 0, top - 4096, 8192, (uintptr_t)page));
	/* Moving the slot beyond the end: EINVAL. */
	EXPECT_EQ(EINVAL, set_slot(vm, 1, 0, top, 4096, (uintptr_t)page));
	EXPECT_EQ(0, set_slot(vm, 1, KVM_MEM_LOG_DIRTY_PAGES, top - 4096, 4096,
			      (uintptr_t)page));
	EXPECT_EQ(0, set_slot(vm, 1, 0, 0, 0, (uintptr_t)page));
	munmap(page, 8192);
	close(vm);
	close(sys);
}

/*
 * Real mode: read a byte from a read-only slot (ds 0x2000), out it, write
 * it back there (an MMIO exit: the slot is read-only), then into a
 * writable, logging slot (ds 0x3000), hlt.
 */
static const unsigned char ro_rw[] = {
	0xb8, 0x00, 0x20, 0x8e, 0xd8,	/* mov ax, 0x2000; mov ds, ax */
	0xa0, 0x00, 0x00,		/* mov al, [0] */
	0xe6, 0x10,			/* out 0x10, al */
	0xa2, 0x00, 0x00,		/* mov [0], al */
	0xbb, 0x00, 0x30, 0x8e, 0xdb,	/* mov bx, 0x3000; mov ds, bx */
	0xa2, 0x00, 0x00,		/* mov [0], al */
	0xf4,				/* hlt */
};

TEST(memslot_ids_to_kvm_limit)
{
	struct kvm_dirty_log log = { .slot = 20000 };
	uint64_t bitmap = 0;
	struct kvl_rm_vm v;
	struct kvm_run *run;
	const char *what;
	unsigned char *ro, *rw;

	ASSERT_EQ(0, kvl_rm_vm_create(&v, 0x10000, 0x1000, ro_rw, sizeof(ro_rw), &what))
		TH_LOG("%s: %s", what, strerror(errno));
	run = v.run;
	EXPECT_EQ(32764, ioctl(v.sys, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS));
	ASSERT_EQ(1, ioctl(v.sys, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM));
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_NE(MAP_FAILED, rw);
	ro[0] = 0x5a;

	/* Ids past KVM's last, and in an address space x86 KVM has only with SMM. */
	EXPECT_EQ(EINVAL, set_slot(v.vm, 32764, 0, 0x20000, 4096, (uintptr_t)ro));
	EXPECT_EQ(EINVAL, set_slot(v.vm, 32767, 0, 0x20000, 4096, (uintptr_t)ro));
	EXPECT_EQ(EINVAL, set_slot(v.vm, 0xffff, KVM_MEM_READONLY, 0x20000, 4096,
				   (uintptr_t)ro));
	/* The top id, read-only; a sparse one with dirty logging. */
	ASSERT_EQ(0, set_slot(v.vm, 32763, KVM_MEM_READONLY, 0x20000, 4096, (uintptr_t)ro));
	ASSERT_EQ(0, set_slot(v.vm, 20000, KVM_MEM_LOG_DIRTY_PAGES, 0x30000, 4096,
			      (uintptr_t)rw));
	/* Overlapping the top slot from another id: EEXIST, before any range check. */
	EXPECT_EQ(EEXIST, set_slot(v.vm, 30000, 0, 0x20000, 4096, (uintptr_t)rw));
	/* A live slot cannot drop read-only, nor change size. */
	EXPECT_EQ(EINVAL, set_slot(v.vm, 32763, 0, 0x20000, 4096, (uintptr_t)ro));
	EXPECT_EQ(EINVAL, set_slot(v.vm, 32763, KVM_MEM_READONLY, 0x20000, 8192,
				   (uintptr_t)ro));

	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
	EXPECT_EQ(0x5a, *((unsigned char *)run + run->io.data_offset));
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_MMIO, run->exit_reason);
	EXPECT_EQ(0x20000, run->mmio.phys_addr);
	EXPECT_TRUE(run->mmio.is_write);
	EXPECT_EQ(1, run->mmio.len);
	EXPECT_EQ(0x5a, run->mmio.data[0]);
	ASSERT_EQ(0, ioctl(v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_HLT, run->exit_reason);
	EXPECT_EQ(0x5a, ro[0]);
	EXPECT_EQ(0x5a, rw[0]);
	log.dirty_bitmap = &bitmap;
	ASSERT_EQ(0, ioctl(v.vm, KVM_GET_DIRTY_LOG, &log));
	EXPECT_EQ(1, bitmap);
	/* Delete the top slot and create it again. */
	EXPECT_EQ(0, set_slot(v.vm, 32763, 0, 0, 0, 0));
	EXPECT_EQ(EINVAL, set_slot(v.vm, 32763, 0, 0, 0, 0));
	EXPECT_EQ(0, set_slot(v.vm, 32763, 0, 0x20000, 4096, (uintptr_t)ro));
	munmap(ro, 4096);
	munmap(rw, 4096);
	close(v.vcpu);
	close(v.vm);
	close(v.sys);
}

/* KVM_CAP_MAX_VCPU_ID as QEMU enables it: a bound on ids, set once. */
TEST(max_vcpu_id_cap)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_MAX_VCPU_ID, .args = { 4 } };
	int sys = kvl_open(O_RDWR), vm, fd;

	ASSERT_LE(0, sys);
	vm = ioctl(sys, KVM_CREATE_VM, 0);
	ASSERT_LE(0, vm);
	cap.args[0] = ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID) + 1;
	EXPECT_EQ(-1, ioctl(vm, KVM_ENABLE_CAP, &cap));
	EXPECT_EQ(EINVAL, errno);
	cap.args[0] = 4;
	ASSERT_EQ(0, ioctl(vm, KVM_ENABLE_CAP, &cap));
	EXPECT_EQ(0, ioctl(vm, KVM_ENABLE_CAP, &cap));		/* the same again */
	cap.args[0] = 5;
	EXPECT_EQ(-1, ioctl(vm, KVM_ENABLE_CAP, &cap));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(vm, KVM_CREATE_VCPU, 4));
	EXPECT_EQ(EINVAL, errno);
	fd = ioctl(vm, KVM_CREATE_VCPU, 3);
	ASSERT_LE(0, fd);
	/* KVM_SET_TSC_KHZ: 0 means the host's rate, which is always taken. */
	EXPECT_EQ(0, ioctl(fd, KVM_SET_TSC_KHZ, 0));
	EXPECT_EQ(0, ioctl(fd, KVM_SET_TSC_KHZ, ioctl(fd, KVM_GET_TSC_KHZ, 0)));
	close(fd);
	close(vm);

	/* The first vCPU fixes the default: a different bound is refused after. */
	vm = ioctl(sys, KVM_CREATE_VM, 0);
	ASSERT_LE(0, vm);
	fd = ioctl(vm, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, fd);
	cap.args[0] = 100;
	EXPECT_EQ(-1, ioctl(vm, KVM_ENABLE_CAP, &cap));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
	close(vm);
	close(sys);
}

KVL_TEST_MAIN
