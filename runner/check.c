// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite check: one line per item, PASS, WARN or FAIL; see check.h and
 * Documentation/runner.rst ("Checking the host").
 *
 * Firmware-disabled virtualization, the reliable sources:
 * - Intel: at boot Linux reads IA32_FEATURE_CONTROL; when the firmware
 *   locked it without "VMX outside SMX" it prints "VMX (outside TXT)
 *   disabled by BIOS" and clears the vmx flag (arch/x86/kernel/cpu/
 *   feat_ctl.c).  So CPUID saying VMX while /proc/cpuinfo lacks "vmx" means
 *   disabled by the firmware; no MSR access needed.  Its "vmx flags" line
 *   lists EPT and unrestricted guest (the VMX capability MSRs, decoded).
 * - AMD: Linux leaves the svm flag alone when VM_CR.SVMDIS is set, so the
 *   MSR itself is read through /dev/cpu/0/msr (root and the msr module);
 *   failing that, a loaded kvmlite proves it (its probe refuses SVMDIS).
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "check.h"

#define MSR_VM_CR	0xc0010114
#define VM_CR_SVMDIS	(1ULL << 4)

/* Hypervisor modules that take VT-x/AMD-V for themselves. */
static const char *const other_hvs[] = { "kvm_intel", "kvm_amd", "vboxdrv", "vmmon" };

struct host_state {
	const struct check_host *h;
	char flags[4096];	/* /proc/cpuinfo "flags" of the first CPU, space-framed */
	char vmx_flags[4096];	/* its "vmx flags", space-framed; "" when absent */
	bool have_cpuinfo, have_vmx_flags;
	bool module_loaded;
	int fd;			/* the device opened read-write, or -1 */
};

static void path_of(char *buf, size_t size, const struct check_host *h, const char *p)
{
	snprintf(buf, size, "%s%s", h->root, p);
}

/* First line of a small file under the root, newline stripped; false if unreadable. */
static bool read_line(const struct check_host *h, const char *p, char *buf, size_t size)
{
	char path[4096];
	FILE *f;
	bool ok;

	path_of(path, sizeof(path), h, p);
	f = fopen(path, "re");
	if (!f)
		return false;
	ok = fgets(buf, size, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static bool exists(const struct check_host *h, const char *p)
{
	char path[4096];

	path_of(path, sizeof(path), h, p);
	return access(path, F_OK) == 0;
}

static bool has_word(const char *framed, const char *w)
{
	char key[128];

	snprintf(key, sizeof(key), " %s ", w);
	return strstr(framed, key) != NULL;
}

/* " value " of a "key\t: value" line of the first processor block. */
static void read_cpuinfo(struct host_state *s)
{
	char path[4096], line[4096];
	FILE *f;

	path_of(path, sizeof(path), s->h, "/proc/cpuinfo");
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		size_t klen;

		if (line[0] == '\n')
			break;		/* end of the first processor */
		if (!colon)
			continue;
		klen = strcspn(line, "\t:");
		line[strcspn(line, "\n")] = '\0';
		if (klen == 5 && !strncmp(line, "flags", 5)) {
			snprintf(s->flags, sizeof(s->flags), "%s ", colon + 1);
			s->have_cpuinfo = true;
		} else if (klen == 9 && !strncmp(line, "vmx flags", 9)) {
			snprintf(s->vmx_flags, sizeof(s->vmx_flags), "%s ", colon + 1);
			s->have_vmx_flags = true;
		}
	}
	fclose(f);
}

/* Is module NAME in /proc/modules (or /sys/module/NAME)? */
static bool module_loaded(const struct check_host *h, const char *name)
{
	char path[4096], line[512];
	size_t n = strlen(name);
	bool found = false;
	FILE *f;

	path_of(path, sizeof(path), h, "/proc/modules");
	f = fopen(path, "re");
	if (f) {
		while (!found && fgets(line, sizeof(line), f))
			found = !strncmp(line, name, n) && line[n] == ' ';
		fclose(f);
	}
	if (!found) {
		snprintf(line, sizeof(line), "/sys/module/%s/initstate", name);
		found = exists(h, line);
	}
	return found;
}

static void item(check_report_fn report, void *arg, int *fails, const char *name,
		 enum check_verdict v, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void item(check_report_fn report, void *arg, int *fails, const char *name,
		 enum check_verdict v, const char *fmt, ...)
{
	struct check_item it = { .name = name, .verdict = v };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(it.detail, sizeof(it.detail), fmt, ap);
	va_end(ap);
	if (v == CHECK_FAIL)
		(*fails)++;
	report(arg, &it);
}

#define ITEM(name, v, ...) item(report, arg, &fails, name, v, __VA_ARGS__)

/* VM_CR through the msr driver: 1 SVMDIS set, 0 clear, -1 unreadable. */
static int read_svmdis(const struct check_host *h)
{
	char path[4096];
	uint64_t v;
	ssize_t n;
	int fd;

	path_of(path, sizeof(path), h, "/dev/cpu/0/msr");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = pread(fd, &v, sizeof(v), MSR_VM_CR);
	close(fd);
	if (n != sizeof(v))
		return -1;
	return (v & VM_CR_SVMDIS) != 0;
}

static int count_entries(const struct check_host *h, const char *p, char *first, size_t size)
{
	char path[4096];
	struct dirent *e;
	int n = 0;
	DIR *d;

	path_of(path, sizeof(path), h, p);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (!n && first)
			snprintf(first, size, "%s", e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

static const char *group_name(gid_t gid, char *buf, size_t size)
{
	struct group *g = getgrgid(gid);

	if (g)
		return g->gr_name;
	snprintf(buf, size, "%u", (unsigned int)gid);
	return buf;
}

static const char *user_name(uid_t uid, char *buf, size_t size)
{
	struct passwd *p = getpwuid(uid);

	if (p)
		return p->pw_name;
	snprintf(buf, size, "%u", (unsigned int)uid);
	return buf;
}

static int check_cpu(struct host_state *s, check_report_fn report, void *arg)
{
	const struct check_cpu *c = &s->h->cpu;
	const char *nested = s->have_cpuinfo && has_word(s->flags, "hypervisor") ?
			     ", under a hypervisor" : "";
	int fails = 0, svmdis;

	if (c->vmx)
		ITEM("cpu", CHECK_PASS, "Intel VT-x (CPUID VMX, %s%s)", c->vendor, nested);
	else if (c->svm)
		ITEM("cpu", CHECK_PASS, "AMD-V (CPUID SVM, %s%s)", c->vendor, nested);
	else
		ITEM("cpu", CHECK_FAIL, "%s: CPUID reports neither VT-x (VMX) nor AMD-V (SVM)",
		     c->vendor);

	if (!c->vmx && !c->svm) {
		ITEM("firmware", CHECK_FAIL, "no VT-x or AMD-V to enable");
		ITEM("paging", CHECK_FAIL, "no VT-x or AMD-V");
		return fails;
	}
	if (!s->have_cpuinfo) {
		ITEM("firmware", CHECK_WARN, "cannot tell: no flags in %s/proc/cpuinfo",
		     s->h->root);
		ITEM("paging", CHECK_WARN, "cannot tell: no flags in %s/proc/cpuinfo",
		     s->h->root);
		return fails;
	}

	if (c->vmx) {
		if (!has_word(s->flags, "vmx")) {
			ITEM("firmware", CHECK_FAIL,
			     "VT-x disabled by the firmware: CPUID has VMX but Linux cleared the "
			     "vmx flag (IA32_FEATURE_CONTROL locked without VMX); enable it in "
			     "the firmware setup");
			ITEM("paging", CHECK_FAIL, "VT-x is disabled");
			return fails;
		}
		ITEM("firmware", CHECK_PASS, "VT-x enabled (Linux kept the vmx flag)");
		if (!s->have_vmx_flags)
			ITEM("paging", CHECK_WARN,
			     "cannot tell: no \"vmx flags\" line in /proc/cpuinfo (kernel without "
			     "CONFIG_X86_VMX_FEATURE_NAMES); kvmlite needs EPT and unrestricted "
			     "guest");
		else if (!has_word(s->vmx_flags, "ept"))
			ITEM("paging", CHECK_FAIL, "VT-x without EPT (kvmlite needs it)");
		else if (!has_word(s->vmx_flags, "unrestricted_guest"))
			ITEM("paging", CHECK_FAIL,
			     "VT-x EPT without unrestricted guest (kvmlite needs it)");
		else
			ITEM("paging", CHECK_PASS, "EPT with unrestricted guest");
		return fails;
	}

	svmdis = read_svmdis(s->h);
	if (!has_word(s->flags, "svm"))
		ITEM("firmware", CHECK_FAIL, "CPUID has SVM but the kernel cleared the svm flag");
	else if (svmdis == 1)
		ITEM("firmware", CHECK_FAIL,
		     "AMD-V disabled by the firmware (VM_CR.SVMDIS set); enable SVM in the "
		     "firmware setup");
	else if (svmdis == 0)
		ITEM("firmware", CHECK_PASS, "AMD-V enabled (VM_CR.SVMDIS clear)");
	else if (s->module_loaded)
		ITEM("firmware", CHECK_PASS,
		     "AMD-V enabled (kvmlite loaded: its probe refuses VM_CR.SVMDIS)");
	else
		ITEM("firmware", CHECK_WARN,
		     "cannot tell: reading VM_CR needs root and the msr module (modprobe msr), "
		     "or load kvmlite");
	if (has_word(s->flags, "npt"))
		ITEM("paging", CHECK_PASS, "nested paging (NPT)");
	else
		ITEM("paging", CHECK_FAIL, "SVM without nested paging (NPT; kvmlite needs it)");
	return fails;
}

static int check_others(struct host_state *s, check_report_fn report, void *arg)
{
	char names[128] = "", at_load[16];
	bool kvm_holds = false;
	int fails = 0;
	size_t i;

	for (i = 0; i < sizeof(other_hvs) / sizeof(other_hvs[0]); i++) {
		if (!module_loaded(s->h, other_hvs[i]))
			continue;
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 names[0] ? ", " : "", other_hvs[i]);
		if (i < 2)
			kvm_holds = true;
	}
	/* Linux 6.12 turns virtualization on when kvm_intel/kvm_amd load (and keeps it). */
	if (kvm_holds && !(read_line(s->h, "/sys/module/kvm/parameters/enable_virt_at_load",
				     at_load, sizeof(at_load)) && at_load[0] == 'Y'))
		kvm_holds = false;
	if (!names[0])
		ITEM("other-hypervisor", CHECK_PASS,
		     "none loaded (kvm_intel, kvm_amd, vboxdrv, vmmon)");
	else if (kvm_holds)
		ITEM("other-hypervisor", CHECK_FAIL,
		     "%s loaded with kvm.enable_virt_at_load=Y: it holds VT-x/AMD-V until "
		     "unloaded (rmmod it, or load kvm with enable_virt_at_load=0)",
		     names);
	else
		ITEM("other-hypervisor", CHECK_WARN,
		     "%s loaded: whichever creates the first VM holds VT-x/AMD-V until its "
		     "last VM is gone",
		     names);
	return fails;
}

static int check_device(struct host_state *s, check_report_fn report, void *arg)
{
	const struct check_host *h = s->h;
	char path[4096], sysdev[32], want[64], ub[16], gb[16];
	const char *base = strrchr(h->dev, '/');
	unsigned int maj, min;
	struct stat st;
	int fails = 0, r;

	if (s->module_loaded) {
		char alias[16];

		if (read_line(h, "/sys/module/kvmlite/parameters/kvm_alias", alias,
			      sizeof(alias)) && alias[0] == 'Y')
			ITEM("module", CHECK_PASS, "kvmlite loaded (kvm_alias=1: also /dev/kvm)");
		else
			ITEM("module", CHECK_PASS, "kvmlite loaded");
	} else {
		ITEM("module", CHECK_FAIL,
		     "kvmlite is not loaded: modprobe kvmlite (after make install or dkms "
		     "install)");
	}

	path_of(path, sizeof(path), h, h->dev);
	if (stat(path, &st)) {
		ITEM("device", CHECK_FAIL, "%s: %s", h->dev, strerror(errno));
	} else if (!S_ISCHR(st.st_mode)) {
		ITEM("device", CHECK_FAIL, "%s is not a character device", h->dev);
	} else {
		snprintf(want, sizeof(want), "/sys/class/misc/%s/dev", base ? base + 1 : h->dev);
		if (read_line(h, want, sysdev, sizeof(sysdev)) &&
		    sscanf(sysdev, "%u:%u", &maj, &min) == 2 &&
		    (maj != major(st.st_rdev) || min != minor(st.st_rdev)))
			ITEM("device", CHECK_FAIL,
			     "%s is %u:%u but the driver has %u:%u (a stale node)", h->dev,
			     major(st.st_rdev), minor(st.st_rdev), maj, min);
		else if ((st.st_mode & 0006) == 0006 ||
			 (st.st_gid != 0 && (st.st_mode & 0060) == 0060))
			ITEM("device", CHECK_PASS, "%s %u:%u %s:%s %04o", h->dev,
			     major(st.st_rdev), minor(st.st_rdev),
			     user_name(st.st_uid, ub, sizeof(ub)),
			     group_name(st.st_gid, gb, sizeof(gb)), st.st_mode & 07777);
		else
			ITEM("device", CHECK_WARN,
			     "%s %u:%u %s:%s %04o: only its owner can use it (make install adds "
			     "a udev rule: group kvm, 0660)",
			     h->dev, major(st.st_rdev), minor(st.st_rdev),
			     user_name(st.st_uid, ub, sizeof(ub)),
			     group_name(st.st_gid, gb, sizeof(gb)), st.st_mode & 07777);
	}

	s->fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (s->fd >= 0)
		ITEM("access", CHECK_PASS, "uid %u can open %s read-write", (unsigned int)getuid(),
		     h->dev);
	else if (errno == EACCES || errno == EPERM)
		ITEM("access", CHECK_FAIL, "uid %u cannot open %s read-write: %s (join its group)",
		     (unsigned int)getuid(), h->dev, strerror(errno));
	else
		ITEM("access", CHECK_FAIL, "cannot open %s read-write: %s", h->dev,
		     strerror(errno));

	if (s->fd < 0) {
		ITEM("api-version", CHECK_FAIL, "not asked: %s is not open", h->dev);
		ITEM("create-vm", CHECK_FAIL, "not tried: %s is not open", h->dev);
		return fails;
	}
	r = h->api_version(s->fd);
	if (r == KVM_API_VERSION)
		ITEM("api-version", CHECK_PASS, "KVM_GET_API_VERSION answers %d", r);
	else if (r < 0)
		ITEM("api-version", CHECK_FAIL, "KVM_GET_API_VERSION: %s (not a KVM device?)",
		     strerror(-r));
	else
		ITEM("api-version", CHECK_FAIL, "KVM_GET_API_VERSION answers %d, not %d", r,
		     KVM_API_VERSION);
	r = r == KVM_API_VERSION ? h->create_vm(s->fd) : -ENOTTY;
	if (!r)
		ITEM("create-vm", CHECK_PASS, "a VM was created and destroyed");
	else if (r == -EBUSY)
		ITEM("create-vm", CHECK_FAIL,
		     "KVM_CREATE_VM: EBUSY, another hypervisor holds VT-x/AMD-V (see the "
		     "kernel log)");
	else
		ITEM("create-vm", CHECK_FAIL, "KVM_CREATE_VM: %s", strerror(-r));
	return fails;
}

static int check_iommu(struct host_state *s, check_report_fn report, void *arg)
{
	char first[256] = "";
	int n, groups, fails = 0;

	n = count_entries(s->h, "/sys/class/iommu", first, sizeof(first));
	groups = count_entries(s->h, "/sys/kernel/iommu_groups", NULL, 0);
	if (n && groups)
		ITEM("iommu", CHECK_PASS, "%s%s, %d IOMMU groups (device assignment possible)",
		     first, n > 1 ? " and more" : "", groups);
	else if (n)
		ITEM("iommu", CHECK_WARN, "%s present but no IOMMU groups", first);
	else
		ITEM("iommu", CHECK_WARN,
		     "none in /sys/class/iommu: no device assignment (enable VT-d/AMD-Vi in "
		     "the firmware; intel_iommu=on)");
	return fails;
}

int check__host(const struct check_host *h, check_report_fn report, void *arg)
{
	struct host_state s = { .h = h, .fd = -1 };
	int fails = 0;

	read_cpuinfo(&s);
	s.module_loaded = module_loaded(h, "kvmlite");
	fails += check_cpu(&s, report, arg);
	fails += check_others(&s, report, arg);
	fails += check_device(&s, report, arg);
	fails += check_iommu(&s, report, arg);
	if (s.fd >= 0)
		close(s.fd);
	return fails;
}

void check__cpuid(struct check_cpu *cpu)
{
	unsigned int a, b, c, d;

	memset(cpu, 0, sizeof(*cpu));
	if (!__get_cpuid(0, &a, &b, &c, &d))
		return;
	memcpy(cpu->vendor, &b, 4);
	memcpy(cpu->vendor + 4, &d, 4);
	memcpy(cpu->vendor + 8, &c, 4);
	if (__get_cpuid(1, &a, &b, &c, &d))
		cpu->vmx = c & (1u << 5);
	if (__get_cpuid(0x80000001, &a, &b, &c, &d))
		cpu->svm = c & (1u << 2);
}

static int ioctl_api_version(int fd)
{
	int r = ioctl(fd, KVM_GET_API_VERSION, 0);

	return r < 0 ? -errno : r;
}

static int ioctl_create_vm(int fd)
{
	int vm = ioctl(fd, KVM_CREATE_VM, 0);

	if (vm < 0)
		return -errno;
	close(vm);
	return 0;
}

void check__host_defaults(struct check_host *h)
{
	if (!h->api_version)
		h->api_version = ioctl_api_version;
	if (!h->create_vm)
		h->create_vm = ioctl_create_vm;
}

static void print_item(void *arg, const struct check_item *it)
{
	static const char *const v[] = { "PASS", "WARN", "FAIL" };

	(void)arg;
	printf("%s  %-17s %s\n", v[it->verdict], it->name, it->detail);
}

int check__main(int argc, char **argv)
{
	struct check_host h = { .root = "", .dev = "/dev/kvmlite" };
	int i;

	check__host_defaults(&h);

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--dev") && i + 1 < argc && argv[i + 1][0] == '/') {
			h.dev = argv[++i];
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			puts("usage: kvmlite check [--dev PATH]   (see kvmlite(1))");
			return 0;
		} else {
			fprintf(stderr, "usage: kvmlite check [--dev PATH]\n");
			return 2;
		}
	}
	check__cpuid(&h.cpu);
	setvbuf(stdout, NULL, _IOLBF, 0);
	return check__host(&h, print_item, NULL) ? 1 : 0;
}
