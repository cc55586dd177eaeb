/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmlite check: can this host run kvmlite?  One line per item, in the
 * spirit of virt-host-validate.  Every probe reads under a root prefix
 * (/proc, /sys, /dev) and the ioctls go through hooks, so a unit test can
 * feed a fake tree (selftests/runner/check_test.c).
 */
#ifndef KVMLITE_CHECK_H
#define KVMLITE_CHECK_H

#include <stdbool.h>

enum check_verdict { CHECK_PASS, CHECK_WARN, CHECK_FAIL };

/* What the CPUID instruction says (not /proc/cpuinfo, which Linux edits). */
struct check_cpu {
	char vendor[13];
	bool vmx;		/* CPUID.1:ECX[5] */
	bool svm;		/* CPUID.80000001h:ECX[2] */
};

struct check_host {
	const char *root;	/* prefix for /proc, /sys and /dev; "" for the real ones */
	const char *dev;	/* the device, e.g. "/dev/kvmlite" */
	struct check_cpu cpu;
	int (*api_version)(int fd);	/* KVM_GET_API_VERSION: the value or -errno */
	int (*create_vm)(int fd);	/* KVM_CREATE_VM, closed at once: 0 or -errno */
};

struct check_item {
	const char *name;	/* cpu, firmware, paging, other-hypervisor, module, device,
				 * access, api-version, create-vm, iommu
				 */
	enum check_verdict verdict;
	char detail[320];
};

typedef void (*check_report_fn)(void *arg, const struct check_item *item);

/* Run every check in order, report each; returns the number of FAILs. */
int check__host(const struct check_host *h, check_report_fn report, void *arg);
/* NULL hooks become the real ioctls. */
void check__host_defaults(struct check_host *h);
void check__cpuid(struct check_cpu *cpu);
/* kvmlite check [--dev PATH]: 0 when nothing needed is missing, 1 if so, 2 on bad usage. */
int check__main(int argc, char **argv);

#endif
