// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of runner/check.c (kvmlite check): fake /proc, /sys and
 * /dev trees under a temporary root, fake CPUID and ioctl answers, and the
 * verdict of every item checked.  /dev/kvmlite is a link to /dev/null: a
 * real character device (1:3, 0666) that anyone can open.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../../runner/check.h"

#define MAX_ITEMS 16

struct seen {
	int n;
	struct check_item it[MAX_ITEMS];
};

static void collect(void *arg, const struct check_item *it)
{
	struct seen *s = arg;

	if (s->n < MAX_ITEMS)
		s->it[s->n++] = *it;
}

static int fake_api;		/* what the fake KVM_GET_API_VERSION answers */
static int fake_vm;		/* what the fake KVM_CREATE_VM answers */
static int api_calls, vm_calls;

static int fake_api_version(int fd)
{
	(void)fd;
	api_calls++;
	return fake_api;
}

static int fake_create_vm(int fd)
{
	(void)fd;
	vm_calls++;
	return fake_vm;
}

FIXTURE(chk) {
	char root[64];
	struct check_host h;
	struct seen seen;
	int fails;
};

static void put(const char *root, const char *path, const char *text)
{
	char p[512], *slash;
	FILE *f;

	snprintf(p, sizeof(p), "%s%s", root, path);
	for (slash = strchr(p + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(p, 0755);
		*slash = '/';
	}
	f = fopen(p, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

static void rm_file(const char *root, const char *path)
{
	char p[512];

	snprintf(p, sizeof(p), "%s%s", root, path);
	unlink(p);
}

/* A healthy AMD host: SVM + NPT, kvmlite loaded, device 0666, an IOMMU. */
FIXTURE_SETUP(chk)
{
	char p[512];

	strcpy(self->root, "/tmp/kvl-check.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->root));
	put(self->root, "/proc/cpuinfo",
	    "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu vme svm npt nrip_save\n\n"
	    "processor\t: 1\nflags\t\t: fpu\n\n");
	put(self->root, "/proc/modules", "virtio_net 61440 0 - Live 0x0\n"
	    "kvmlite 180224 0 - Live 0x0\n");
	put(self->root, "/sys/module/kvmlite/parameters/kvm_alias", "N\n");
	put(self->root, "/sys/class/misc/kvmlite/dev", "1:3\n");
	put(self->root, "/sys/class/iommu/ivhd0/uevent", "");
	put(self->root, "/sys/kernel/iommu_groups/0/type", "DMA\n");
	put(self->root, "/sys/kernel/iommu_groups/1/type", "DMA\n");
	snprintf(p, sizeof(p), "%s/dev", self->root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/dev/kvmlite", self->root);
	ASSERT_EQ(0, symlink("/dev/null", p));
	self->h = (struct check_host){
		.root = self->root, .dev = "/dev/kvmlite",
		.cpu = { .vendor = "AuthenticAMD", .svm = true },
		.api_version = fake_api_version, .create_vm = fake_create_vm,
	};
	fake_api = 12;
	fake_vm = 0;
	api_calls = vm_calls = 0;
}

FIXTURE_TEARDOWN(chk)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->root);
	if (system(cmd))
		TH_LOG("could not remove %s", self->root);
}

static void run(FIXTURE_DATA(chk) *self)
{
	self->seen.n = 0;
	self->fails = check__host(&self->h, collect, &self->seen);
}

/* The verdict of item NAME, -1 if it was not reported. */
static int verdict(FIXTURE_DATA(chk) *self, const char *name)
{
	int i;

	for (i = 0; i < self->seen.n; i++)
		if (!strcmp(self->seen.it[i].name, name))
			return self->seen.it[i].verdict;
	return -1;
}

static const char *detail(FIXTURE_DATA(chk) *self, const char *name)
{
	int i;

	for (i = 0; i < self->seen.n; i++)
		if (!strcmp(self->seen.it[i].name, name))
			return self->seen.it[i].detail;
	return "";
}

static int count(FIXTURE_DATA(chk) *self, enum check_verdict v)
{
	int i, n = 0;

	for (i = 0; i < self->seen.n; i++)
		n += self->seen.it[i].verdict == v;
	return n;
}

TEST_F(chk, amd_healthy)
{
	static const char *const names[] = { "cpu", "firmware", "paging", "other-hypervisor",
		"module", "device", "access", "api-version", "create-vm", "iommu" };
	size_t i;

	run(self);
	ASSERT_EQ(10, self->seen.n);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		EXPECT_STREQ(names[i], self->seen.it[i].name);
		EXPECT_EQ(CHECK_PASS, self->seen.it[i].verdict) TH_LOG("%s: %s", names[i],
								   self->seen.it[i].detail);
	}
	EXPECT_EQ(0, self->fails);
	EXPECT_NE(NULL, strstr(detail(self, "firmware"), "kvmlite loaded"));
	EXPECT_EQ(NULL, strstr(detail(self, "cpu"), "under a hypervisor"));
	EXPECT_NE(NULL, strstr(detail(self, "device"), "1:3"));
	EXPECT_NE(NULL, strstr(detail(self, "device"), "0666"));
	EXPECT_NE(NULL, strstr(detail(self, "iommu"), "ivhd0"));
	EXPECT_NE(NULL, strstr(detail(self, "iommu"), "2 IOMMU groups"));
	EXPECT_EQ(1, api_calls);
	EXPECT_EQ(1, vm_calls);
}

/* VM_CR read through a fake msr device: SVMDIS set fails, clear passes. */
TEST_F(chk, amd_vm_cr)
{
	char p[512];
	uint64_t v = 1ULL << 4;
	int fd;

	put(self->root, "/dev/cpu/0/msr", "");
	snprintf(p, sizeof(p), "%s/dev/cpu/0/msr", self->root);
	fd = open(p, O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(8, pwrite(fd, &v, 8, 0xc0010114));
	run(self);
	EXPECT_EQ(CHECK_FAIL, verdict(self, "firmware"));
	EXPECT_NE(NULL, strstr(detail(self, "firmware"), "SVMDIS set"));
	EXPECT_EQ(1, self->fails);
	v = ~(1ULL << 4);
	ASSERT_EQ(8, pwrite(fd, &v, 8, 0xc0010114));
	close(fd);
	run(self);
	EXPECT_EQ(CHECK_PASS, verdict(self, "firmware"));
	EXPECT_NE(NULL, strstr(detail(self, "firmware"), "SVMDIS clear"));
}

/* Nothing loaded, no MSR access: firmware unknown (WARN), module and device FAIL. */
TEST_F(chk, amd_not_loaded)
{
	put(self->root, "/proc/modules", "virtio_net 61440 0 - Live 0x0\n");
	rm_file(self->root, "/sys/module/kvmlite/parameters/kvm_alias");
	rm_file(self->root, "/dev/kvmlite");
	run(self);
	EXPECT_EQ(CHECK_PASS, verdict(self, "cpu"));
	EXPECT_EQ(CHECK_WARN, verdict(self, "firmware"));
	EXPECT_EQ(CHECK_FAIL, verdict(self, "module"));
	EXPECT_EQ(CHECK_FAIL, verdict(self, "device"));
	EXPECT_EQ(CHECK_FAIL, verdict(self, "access"));
	EXPECT_EQ(CHECK_FAIL, verdict(self, "api-version"));
	EXPECT_EQ(CHECK_FAIL, verdict(self, "create-vm"));
	EXPECT_EQ(5, self->fails);
	EXPECT_EQ(5, count(self, CHECK_FAIL));
	EXPECT_EQ(0, api_calls);
}

/* The hypervisor flag: a nested host, noted on the cpu line. */
TEST_F(chk, nested)
{
	put(self->root, "/proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu svm npt hypervisor\n");
	run(self);
	EXPECT_EQ(CHECK_PASS, verdict(self, "cpu"));
	EXPECT_NE(NULL, strstr(detail(self, "cpu"), "under a hypervisor"));
	EXPECT_EQ(0, self->fails);
}

TEST_F(chk, amd_no_npt)
{
	put(self->root, "/proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu svm nrip_save npt_x\n");
	run(self);
	EXPECT_EQ(CHECK_FAIL, verdict(self, "paging"));
	EXPECT_EQ(1, self->fails);
}

TEST_F(chk, no_virtualization)
{
	self->h.cpu.svm = false;
	run(self);
	EXPECT_EQ(CHECK_FAIL, verdict(self, "cpu"));
	EXPECT_EQ(CHECK_FAIL, verdict(self, "paging"));
	EXPECT_EQ(3, self->fails);
}

/* CPUID has VMX, Linux cleared the flag: disabled by the firmware. */
TEST_F(chk, intel_firmware_disabled)
{
	self->h.cpu = (struct check_cpu){ .vendor = "GenuineIntel", .vmx = true };
	put(self->root, "/proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu vme smx\n\n");
	run(self);
	EXPECT_EQ(CHECK_PASS, verdict(self, "cpu"));
	EXPECT_EQ(CHECK_FAIL, verdict(self, "firmware"));
	EXPECT_NE(NULL, strstr(detail(self, "firmware"), "disabled by the firmware"));
	EXPECT_EQ(CHECK_FAIL, verdict(self, "paging"));
}

TEST_F(chk, intel_vmx_flags)
{
	self->h.cpu = (struct check_cpu){ .vendor = "GenuineIntel", .vmx = true };
	put(self->root, "/proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu vmx ept\n"
	    "vmx flags\t: vnmi ept vpid unrestricted_guest ept_ad\n\n");
	run(self);
	EXPECT_EQ(CHECK_PASS, verdict(self, "firmware"));
	EXPECT_EQ(CHECK_PASS, verdict(self, "paging"));
	EXPECT_EQ(0, self->fails);

	/* ept_x_only is not ept: whole words only. */
	put(self->root, "/proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu vmx\n"
	    "vmx flags\t: vnmi ept_x_only vpid unrestricted_guest\n\n");
	run(self);
	EXPECT_EQ(CHECK_FAIL, verdict(self, "paging"));
	EXPECT_NE(NULL, strstr(detail(self, "paging"), "without EPT"));

	put(self->root, "/proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu vmx\n"
	    "vmx flags\t: vnmi ept vpid\n\n");
	run(self);
	EXPECT_EQ(CHECK_FAIL, verdict(self, "paging"));
	EXPECT_NE(NULL, strstr(detail(self, "paging"), "unrestricted guest"));

	/* A kernel that does not decode the VMX MSRs: cannot tell. */
	put(self->root, "/proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu vmx ept\n\n");
	run(self);
	EXPECT_EQ(CHECK_WARN, verdict(self, "paging"));
	EXPECT_EQ(0, self->fails);
}

TEST_F(chk, other_hypervisors)
{
	put(self->root, "/proc/modules", "kvmlite 180224 0 - Live 0x0\n"
	    "kvm_amd 155648 0 - Live 0x0\nkvm 1146880 1 kvm_amd, Live 0x0\n");
	run(self);
	EXPECT_EQ(CHECK_WARN, verdict(self, "other-hypervisor"));
	EXPECT_NE(NULL, strstr(detail(self, "other-hypervisor"), "kvm_amd"));
	put(self->root, "/sys/module/kvm/parameters/enable_virt_at_load", "N\n");
	run(self);
	EXPECT_EQ(CHECK_WARN, verdict(self, "other-hypervisor"));
	put(self->root, "/sys/module/kvm/parameters/enable_virt_at_load", "Y\n");
	run(self);
	EXPECT_EQ(CHECK_FAIL, verdict(self, "other-hypervisor"));
	EXPECT_EQ(1, self->fails);

	/* A name that only starts like one does not count. */
	put(self->root, "/proc/modules", "kvmlite 180224 0 - Live 0x0\nvboxdrvx 1 0 - Live 0x0\n");
	run(self);
	EXPECT_EQ(CHECK_PASS, verdict(self, "other-hypervisor"));
	put(self->root, "/proc/modules", "kvmlite 180224 0 - Live 0x0\nvboxdrv 1 0 - Live 0x0\n");
	run(self);
	EXPECT_EQ(CHECK_WARN, verdict(self, "other-hypervisor"));
	EXPECT_NE(NULL, strstr(detail(self, "other-hypervisor"), "vboxdrv"));
}

TEST_F(chk, module_from_sysfs_and_alias)
{
	put(self->root, "/proc/modules", "");
	run(self);
	EXPECT_EQ(CHECK_FAIL, verdict(self, "module"));
	put(self->root, "/sys/module/kvmlite/initstate", "live\n");
	put(self->root, "/sys/module/kvmlite/parameters/kvm_alias", "Y\n");
	run(self);
	EXPECT_EQ(CHECK_PASS, verdict(self, "module"));
	EXPECT_NE(NULL, strstr(detail(self, "module"), "kvm_alias=1"));
}

/* The node is not the driver's (misc says 10:58): a stale node. */
TEST_F(chk, stale_node)
{
	put(self->root, "/sys/class/misc/kvmlite/dev", "10:58\n");
	run(self);
	EXPECT_EQ(CHECK_FAIL, verdict(self, "device"));
	EXPECT_NE(NULL, strstr(detail(self, "device"), "stale"));
}

/* A regular file: not a device, and the real ioctl gets no API version from it. */
TEST_F(chk, not_a_device)
{
	rm_file(self->root, "/dev/kvmlite");
	put(self->root, "/dev/kvmlite", "");
	self->h.api_version = NULL;
	check__host_defaults(&self->h);
	run(self);
	EXPECT_EQ(CHECK_FAIL, verdict(self, "device"));
	EXPECT_EQ(CHECK_PASS, verdict(self, "access"));
	EXPECT_EQ(CHECK_FAIL, verdict(self, "api-version"));
	EXPECT_EQ(CHECK_FAIL, verdict(self, "create-vm"));
}

TEST_F(chk, api_and_vm_answers)
{
	fake_api = 11;
	run(self);
	EXPECT_EQ(CHECK_FAIL, verdict(self, "api-version"));
	EXPECT_EQ(0, vm_calls);
	fake_api = -ENOTTY;
	run(self);
	EXPECT_EQ(CHECK_FAIL, verdict(self, "api-version"));
	fake_api = 12;
	fake_vm = -EBUSY;
	run(self);
	EXPECT_EQ(CHECK_PASS, verdict(self, "api-version"));
	EXPECT_EQ(CHECK_FAIL, verdict(self, "create-vm"));
	EXPECT_NE(NULL, strstr(detail(self, "create-vm"), "EBUSY"));
	EXPECT_EQ(1, self->fails);
}

/* Mode 0600 root:root: only root can use it (needs mknod, hence root). */
TEST_F(chk, owner_only_mode)
{
	char p[512];

	if (geteuid())
		SKIP(return, "mknod needs root");
	rm_file(self->root, "/dev/kvmlite");
	snprintf(p, sizeof(p), "%s/dev/kvmlite", self->root);
	ASSERT_EQ(0, mknod(p, S_IFCHR | 0600, makedev(1, 3)));
	ASSERT_EQ(0, chmod(p, 0600));
	run(self);
	EXPECT_EQ(CHECK_WARN, verdict(self, "device"));
	EXPECT_NE(NULL, strstr(detail(self, "device"), "0600"));
	ASSERT_EQ(0, chown(p, 0, 1));
	ASSERT_EQ(0, chmod(p, 0660));
	run(self);
	EXPECT_EQ(CHECK_PASS, verdict(self, "device"));
}

TEST_F(chk, iommu)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf %s/sys/kernel/iommu_groups", self->root);
	ASSERT_EQ(0, system(cmd));
	run(self);
	EXPECT_EQ(CHECK_WARN, verdict(self, "iommu"));
	snprintf(cmd, sizeof(cmd), "rm -rf %s/sys/class/iommu", self->root);
	ASSERT_EQ(0, system(cmd));
	run(self);
	EXPECT_EQ(CHECK_WARN, verdict(self, "iommu"));
	EXPECT_EQ(0, self->fails);
}

TEST_HARNESS_MAIN
