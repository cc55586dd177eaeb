// SPDX-License-Identifier: GPL-2.0
/*
 * MSR differential probe: kvmlite's answers to host-initiated KVM_GET_MSRS
 * and KVM_SET_MSRS, MSR by MSR, against Debian's KVM in the same emulated
 * host.  For every MSR below, in a new VM without and with an in-kernel
 * irqchip: a one-entry KVM_GET_MSRS, a KVM_SET_MSRS of the value it read
 * (what a save/restore does) and a KVM_SET_MSRS of 0.
 *
 * selftests/run.sh runs it on /dev/kvmlite, then on /dev/kvm, in one boot.
 * One case per group of MSRs: each run writes its tables to
 * /tmp/msr_probe.<device>.<group>.<variant>; the /dev/kvm run then
 * compares KVM's with kvmlite's (so the kvm column holds the verdict, and
 * fails if kvmlite's run left no table).  Every MSR must agree in all three results and in the value read, except
 * the MSRs of KVL_VALUE_VARIES (compared by presence only) and those in
 * kvl_exceptions[], the documented differences (Documentation/api.rst,
 * "MSRs: differences from KVM"); any other difference fails its group.
 */
#include <stdlib.h>
#include <sys/utsname.h>
#include "kvl_test.h"

struct range {
	uint32_t first, last;
};

/* The MSRs probed (inclusive ranges), by group: one test case each. */
static const struct range grp_arch[] = {	/* 0 - 0x1ff */
	{ 0, 0x1f }, { 0x2a, 0x2c }, { 0x34, 0x36 }, { 0x3a, 0x3b }, { 0x48, 0x4a },
	{ 0x79, 0x79 }, { 0x8b, 0x8c }, { 0x9e, 0x9e }, { 0xc1, 0xc8 }, { 0xcd, 0xcf },
	{ 0xe1, 0xe7 }, { 0xfe, 0xff }, { 0x10a, 0x10b }, { 0x119, 0x11a }, { 0x11e, 0x11e },
	{ 0x122, 0x123 }, { 0x140, 0x141 }, { 0x174, 0x17f }, { 0x186, 0x189 },
	{ 0x198, 0x1a2 }, { 0x1c4, 0x1c5 }, { 0x1d9, 0x1df }, { 0x1fc, 0x1fc },
	{ 0, 0 },
};

static const struct range grp_mtrr_mce[] = {	/* 0x200 - 0x4ff */
	{ 0x200, 0x211 }, { 0x250, 0x251 }, { 0x258, 0x25a }, { 0x268, 0x270 },
	{ 0x277, 0x278 }, { 0x280, 0x2a0 }, { 0x2ff, 0x2ff }, { 0x309, 0x30c },
	{ 0x345, 0x346 }, { 0x38d, 0x393 }, { 0x3f1, 0x3f2 }, { 0x400, 0x480 },
	{ 0x480, 0x491 }, { 0x4c1, 0x4c2 },
	{ 0, 0 },
};

static const struct range grp_misc[] = {	/* 0x500 - 0xfff: RAPL, x2APIC, XSS */
	{ 0x600, 0x600 }, { 0x606, 0x606 }, { 0x611, 0x611 }, { 0x619, 0x619 },
	{ 0x639, 0x639 }, { 0x641, 0x641 }, { 0x6e0, 0x6e0 }, { 0x800, 0x83f },
	{ 0xd90, 0xd90 }, { 0xda0, 0xda0 },
	{ 0, 0 },
};

static const struct range grp_amd[] = {	/* 0xc0000000 - */
	{ 0xc0000080, 0xc0000084 }, { 0xc0000100, 0xc0000104 },
	{ 0xc0010000, 0xc0010007 }, { 0xc0010010, 0xc001001f }, { 0xc0010020, 0xc0010020 },
	{ 0xc0010055, 0xc0010055 }, { 0xc0010058, 0xc0010058 }, { 0xc0010114, 0xc0010117 },
	{ 0xc001011f, 0xc001011f }, { 0xc0010140, 0xc0010141 }, { 0xc0010200, 0xc001020b },
	{ 0xc0011020, 0xc001102f },
	{ 0, 0 },
};

static const struct range grp_pv[] = {	/* KVM's and Hyper-V's paravirtual MSRs */
	{ 0x4b564d00, 0x4b564d07 }, { 0x40000000, 0x40000003 }, { 0x40000070, 0x40000073 },
	{ 0, 0 },
};

/* Values that differ from VM to VM (the TSC): compared by presence only. */
static bool kvl_value_varies(uint32_t msr)
{
	return msr == 0x10;
}

/*
 * The documented differences (Documentation/api.rst, "MSRs: differences
 * from KVM").  Those with a kernel apply only where the emulated host runs
 * that kernel line (its "uname -r" starts with it): there kvmlite follows
 * the newer KVM.  The others: KVM's paravirtual features that kvmlite
 * neither implements nor offers in CPUID (KVM itself refuses these MSRs
 * with KVM_CAP_ENFORCE_PV_FEATURE_CPUID or KVM_CAP_HYPERV_ENFORCE_CPUID
 * and a CPUID without them).
 */
static const struct {
	uint32_t first, last;
	const char *kernel;
	const char *why;
} kvl_exceptions[] = {
	{ 0x4b564d02, 0x4b564d07, NULL, "async PF, steal time, PV EOI, poll control" },
	{ 0x40000000, 0x400000ff, NULL, "Hyper-V enlightenments" },
	{ 0x49, 0x49, "6.1.", "KVM 6.1 refuses PRED_CMD 0 without host IBPB" },
	{ 0x1db, 0x1de, "6.1.", "KVM 6.1 refuses host writes of the LBR MSRs" },
	{ 0x309, 0x30b, "6.1.", "KVM 6.1 has the PMU's to-save MSRs without a vPMU" },
	{ 0x38d, 0x390, "6.1.", "KVM 6.1 has the PMU's to-save MSRs without a vPMU" },
	{ 0x3f1, 0x3f2, "6.1.", "KVM 6.1 has the PMU's to-save MSRs without a vPMU" },
	{ 0x600, 0x600, "6.1.", "KVM 6.1 has the PMU's to-save MSRs without a vPMU" },
	{ 0xc0010200, 0xc001020b, "6.1.", "KVM 6.1 has the PMU's to-save MSRs without a vPMU" },
};

static const char *kvl_exception(uint32_t msr)
{
	struct utsname u;
	unsigned int i;

	if (uname(&u))
		return NULL;
	for (i = 0; i < sizeof(kvl_exceptions) / sizeof(kvl_exceptions[0]); i++) {
		if (msr < kvl_exceptions[i].first || msr > kvl_exceptions[i].last)
			continue;
		if (!kvl_exceptions[i].kernel ||
		    !strncmp(u.release, kvl_exceptions[i].kernel, strlen(kvl_exceptions[i].kernel)))
			return kvl_exceptions[i].why;
	}
	return NULL;
}

struct probe {
	uint32_t msr;
	int get, setv, set0;
	uint64_t val;
};

#define MAX_PROBES	1024

struct one_msr {
	struct kvm_msrs h;
	struct kvm_msr_entry e[1];
};

static int msr_io(int vcpu, unsigned long req, uint32_t msr, uint64_t *val)
{
	struct one_msr m = { .h.nmsrs = 1, .e[0].index = msr, .e[0].data = *val };
	int r = ioctl(vcpu, req, &m);

	*val = m.e[0].data;
	return r;
}

/* Probe every MSR of @g in a new VM (with an in-kernel irqchip if @irq). */
static int probe(const struct range *g, bool irq, struct probe *p)
{
	int sys, vm, vcpu, n = 0;
	uint32_t msr;

	sys = kvl_open(O_RDWR);
	if (sys < 0)
		return -1;
	vm = ioctl(sys, KVM_CREATE_VM, 0);
	if (vm < 0 || (irq && ioctl(vm, KVM_CREATE_IRQCHIP, 0)))
		return -1;
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return -1;
	for (; g->first || g->last; g++) {
		for (msr = g->first; msr <= g->last && n < MAX_PROBES; msr++, n++) {
			uint64_t v = 0xdead, w;

			p[n].msr = msr;
			p[n].get = msr_io(vcpu, KVM_GET_MSRS, msr, &v);
			p[n].val = p[n].get == 1 ? v : 0;
			w = p[n].val;
			p[n].setv = p[n].get == 1 ? msr_io(vcpu, KVM_SET_MSRS, msr, &w) : -2;
			w = 0;
			p[n].set0 = msr_io(vcpu, KVM_SET_MSRS, msr, &w);
		}
	}
	close(vcpu);
	close(vm);
	close(sys);
	return n;
}

static const char *dev_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static void table_path(char *buf, size_t len, const char *dev, const char *grp, bool irq)
{
	snprintf(buf, len, "/tmp/msr_probe.%s.%s.%s", dev, grp, irq ? "irqchip" : "noirq");
}

static int save(const char *path, const struct probe *p, int n)
{
	FILE *f = fopen(path, "w");
	int i;

	if (!f)
		return -1;
	for (i = 0; i < n; i++)
		fprintf(f, "%#x get %d %#llx setv %d set0 %d\n", p[i].msr, p[i].get,
			(unsigned long long)p[i].val, p[i].setv, p[i].set0);
	return fclose(f);
}

static int load(const char *path, struct probe *p)
{
	FILE *f = fopen(path, "r");
	unsigned long long v;
	int n = 0;

	if (!f)
		return -1;
	while (n < MAX_PROBES &&
	       fscanf(f, "%x get %d %llx setv %d set0 %d\n", &p[n].msr, &p[n].get, &v,
		      &p[n].setv, &p[n].set0) == 5)
		p[n++].val = v;
	fclose(f);
	return n;
}

static bool agree(const struct probe *a, const struct probe *b)
{
	if (a->get != b->get || a->setv != b->setv || a->set0 != b->set0)
		return false;
	return kvl_value_varies(a->msr) || a->val == b->val;
}

/*
 * Probe group @grp here (both variants) and save the tables.  In the
 * /dev/kvm run, compare them with kvmlite's: the number of differences
 * not excused.
 */
static int run_group(struct __test_metadata *_metadata, const char *grp,
		     const struct range *g, bool irq)
{
	static struct probe kvm[MAX_PROBES], lite[MAX_PROBES];
	const char *dev = dev_name(kvl_dev);
	int n, m, i, bad = 0, excused = 0;
	char path[128];

	n = probe(g, irq, kvm);
	EXPECT_LT(0, n) TH_LOG("probe on %s: %s", kvl_dev, strerror(errno));
	if (n <= 0)
		return 1;
	table_path(path, sizeof(path), dev, grp, irq);
	EXPECT_EQ(0, save(path, kvm, n));
	if (strcmp(dev, "kvm"))
		return 0;	/* kvmlite's table: compared in the /dev/kvm run */

	table_path(path, sizeof(path), "kvmlite", grp, irq);
	m = load(path, lite);
	EXPECT_EQ(n, m) TH_LOG("%s: %d MSRs (run.sh runs this on /dev/kvmlite first)", path, m);
	if (n != m)
		return 1;
	for (i = 0; i < n; i++) {
		EXPECT_EQ(kvm[i].msr, lite[i].msr);
		if (agree(&kvm[i], &lite[i]))
			continue;
		if (kvl_exception(kvm[i].msr)) {
			excused++;
			continue;
		}
		bad++;
		TH_LOG("%#x: kvmlite get %d %#llx setv %d set0 %d, kvm get %d %#llx setv %d set0 %d",
		       kvm[i].msr, lite[i].get, (unsigned long long)lite[i].val, lite[i].setv,
		       lite[i].set0, kvm[i].get, (unsigned long long)kvm[i].val, kvm[i].setv,
		       kvm[i].set0);
	}
	printf("# %s, %s: %d of %d MSRs agree, %d differ as documented, %d otherwise\n",
	       grp, irq ? "irqchip" : "no irqchip", n - bad - excused, n, excused, bad);
	fflush(stdout);
	return bad;
}

/*
 * One case per group: on /dev/kvmlite it saves kvmlite's tables, on
 * /dev/kvm it fails on any difference from them not documented.
 */
#define PROBE_CASE(grp)							\
TEST(grp)								\
{									\
	int bad = run_group(_metadata, #grp, grp_##grp, false);	\
									\
	bad += run_group(_metadata, #grp, grp_##grp, true);		\
	EXPECT_EQ(0, bad);						\
}

PROBE_CASE(arch)
PROBE_CASE(mtrr_mce)
PROBE_CASE(misc)
PROBE_CASE(amd)
PROBE_CASE(pv)

KVL_TEST_MAIN
