// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_GET_SUPPORTED_CPUID, KVM_SET_CPUID2/KVM_GET_CPUID2, and a guest
 * executing CPUID against the table it was given.
 */
#include <stdlib.h>
#include "kvl_test.h"

#define MAX_ENT		256
#define CODE_GPA	0x1000

/* CPUID(0x40000000) and CPUID(0x80000000): report EAX, EBX, ECX, EDX on ports 0x20..0x23. */
asm(".pushsection .rodata\n"
    ".code16\n"
    "rm_cpuid_begin:\n"
    "	mov $0x40000000, %eax\n"
    "	xor %ecx, %ecx\n"
    "	cpuid\n"
    "	out %eax, $0x20\n"
    "	mov %ebx, %eax\n"
    "	out %eax, $0x21\n"
    "	mov %ecx, %eax\n"
    "	out %eax, $0x22\n"
    "	mov %edx, %eax\n"
    "	out %eax, $0x23\n"
    "	mov $0x12345678, %eax\n"
    "	cpuid\n"
    "	out %eax, $0x24\n"
    "	hlt\n"
    "rm_cpuid_end:\n"
    ".code64\n"
    ".popsection\n");
extern const unsigned char rm_cpuid_begin[], rm_cpuid_end[];

static struct kvm_cpuid2 *cpuid_alloc(int n)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

	c->nent = n;
	return c;
}

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid2 *c, uint32_t fn)
{
	uint32_t i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn)
			return &c->entries[i];
	return NULL;
}

TEST(supported_cpuid_e2big)
{
	struct kvm_cpuid2 *c = cpuid_alloc(1);
	int fd = kvl_open(O_RDONLY);

	ASSERT_GE(fd, 0);
	EXPECT_EQ(-1, ioctl(fd, KVM_GET_SUPPORTED_CPUID, c));
	EXPECT_EQ(E2BIG, errno);
	c->nent = 0;
	EXPECT_EQ(-1, ioctl(fd, KVM_GET_SUPPORTED_CPUID, c));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(1, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_EXT_CPUID));
	free(c);
	close(fd);
}

TEST(supported_cpuid_contents)
{
	struct kvm_cpuid2 *c = cpuid_alloc(MAX_ENT);
	struct kvm_cpuid_entry2 *e;
	int fd = kvl_open(O_RDONLY);
	char sig[13] = {};

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ioctl(fd, KVM_GET_SUPPORTED_CPUID, c));
	ASSERT_GT(c->nent, 4);
	ASSERT_LE(c->nent, MAX_ENT);
	e = find(c, 0);
	ASSERT_NE(NULL, e);
	EXPECT_GE(e->eax, 1);
	ASSERT_NE(NULL, find(c, 1));
	e = find(c, 0x40000000);
	ASSERT_NE(NULL, e);
	memcpy(sig, &e->ebx, 4);
	memcpy(sig + 4, &e->ecx, 4);
	memcpy(sig + 8, &e->edx, 4);
	EXPECT_STREQ("KVMKVMKVM", sig);
	EXPECT_GE(e->eax, 0x40000001);
	e = find(c, 0x80000000);
	ASSERT_NE(NULL, e);
	EXPECT_GE(e->eax, 0x80000008);
	e = find(c, 0x80000008);
	ASSERT_NE(NULL, e);
	EXPECT_GE((e->eax >> 8) & 0xff, 48);	/* linear address width */
	EXPECT_GE(e->eax & 0xff, 36);		/* physical address width */
	/* MONITOR/MWAIT is never offered. */
	EXPECT_EQ(0, find(c, 1)->ecx & (1u << 3));
	free(c);
	close(fd);
}

FIXTURE(vcpu) {
	struct kvl_rm_vm v;
};

FIXTURE_SETUP(vcpu)
{
	const char *what;

	ASSERT_EQ(0, kvl_rm_vm_create(&self->v, 0x10000, CODE_GPA, rm_cpuid_begin,
				      rm_cpuid_end - rm_cpuid_begin, &what))
		TH_LOG("%s: %s", what, strerror(errno));
}

FIXTURE_TEARDOWN(vcpu)
{
	kvl_rm_vm_destroy(&self->v);
}

TEST_F(vcpu, set_get_cpuid2)
{
	struct kvm_cpuid2 *c = cpuid_alloc(MAX_ENT), *g = cpuid_alloc(1);

	ASSERT_EQ(0, ioctl(self->v.sys, KVM_GET_SUPPORTED_CPUID, c));
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_SET_CPUID2, c));
	EXPECT_EQ(-1, ioctl(self->v.vcpu, KVM_GET_CPUID2, g));
	EXPECT_EQ(E2BIG, errno);
	free(g);
	g = cpuid_alloc(MAX_ENT);
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_GET_CPUID2, g));
	/*
	 * KVM copies the entries out and (in 6.1) leaves nent as we passed it.
	 * It may update dynamic bits (OSXSAVE, APIC), and newer KVMs reorder
	 * the table and drop leaves of features the process may not use (AMX),
	 * so look for the leaves every guest needs, wherever they are.
	 */
	static const uint32_t need[] = { 0, 1, 0x80000000, 0x80000001 };

	for (uint32_t k = 0; k < sizeof(need) / sizeof(need[0]); k++) {
		int found = 0;

		for (uint32_t j = 0; j < c->nent && !found; j++)
			found = g->entries[j].function == need[k];
		EXPECT_TRUE(found) TH_LOG("leaf %#x missing", need[k]);
	}
	free(c);
	free(g);
}

TEST_F(vcpu, set_cpuid2_too_many)
{
	struct kvm_cpuid2 *c = cpuid_alloc(1);

	c->nent = 100000;
	EXPECT_EQ(-1, ioctl(self->v.vcpu, KVM_SET_CPUID2, c));
	EXPECT_EQ(E2BIG, errno);
	free(c);
}

static uint32_t next_out(struct __test_metadata *_metadata, int vcpu,
			 struct kvm_run *run, int port)
{
	EXPECT_EQ(0, ioctl(vcpu, KVM_RUN, 0));
	EXPECT_EQ(KVM_EXIT_IO, run->exit_reason);
	EXPECT_EQ(port, run->io.port);
	return *(uint32_t *)((char *)run + run->io.data_offset);
}

TEST_F(vcpu, guest_sees_its_table)
{
	struct kvm_cpuid2 *c = cpuid_alloc(1);

	c->entries[0] = (struct kvm_cpuid_entry2){
		.function = 0x40000000, .eax = 0x40000001,
		.ebx = 0x11223344, .ecx = 0x55667788, .edx = 0x99aabbcc,
	};
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_SET_CPUID2, c));
	EXPECT_EQ(0x40000001, next_out(_metadata, self->v.vcpu, self->v.run, 0x20));
	EXPECT_EQ(0x11223344, next_out(_metadata, self->v.vcpu, self->v.run, 0x21));
	EXPECT_EQ(0x55667788, next_out(_metadata, self->v.vcpu, self->v.run, 0x22));
	EXPECT_EQ(0x99aabbcc, next_out(_metadata, self->v.vcpu, self->v.run, 0x23));
	next_out(_metadata, self->v.vcpu, self->v.run, 0x24);
	EXPECT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	EXPECT_EQ(KVM_EXIT_HLT, self->v.run->exit_reason);
	free(c);
}

KVL_TEST_MAIN
