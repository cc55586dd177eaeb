// SPDX-License-Identifier: GPL-2.0
/*
 * VM lifetimes: a thousand VMs created, run and destroyed leave no slab or
 * anonymous memory behind, and a vCPU thread killed with SIGKILL while its
 * guest spins takes its VM with it and leaves the device usable.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "kvl_test.h"

#define GUEST_MEM	0x10000
#define CODE_GPA	0x1000
#define CYCLES		1000

/*
 * out to 0x10 once, then spin without exits (host interrupts aside).  With
 * IF set, though nothing is ever injected (no irqchip): Bochs' VT-x takes
 * no external-interrupt exit from a guest running with IF clear, and the
 * host CPU would never get back from this loop (Documentation/testing.rst).
 */
asm(".pushsection .rodata\n"
    ".code16\n"
    "rm_spin_begin:\n"
    "	sti\n"
    "	out %al, $0x10\n"
    "1:	jmp 1b\n"
    "rm_spin_end:\n"
    "rm_hlt_begin:\n"
    "	hlt\n"
    "rm_hlt_end:\n"
    ".code64\n"
    ".popsection\n");
extern const unsigned char rm_spin_begin[], rm_spin_end[], rm_hlt_begin[], rm_hlt_end[];

/* Slab + AnonPages, in KiB. */
static long meminfo_kib(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long v, sum = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Slab: %ld kB", &v) == 1 || sscanf(line, "AnonPages: %ld kB", &v) == 1)
			sum += v;
	}
	fclose(f);
	return sum;
}

static int cycle(void)
{
	struct kvl_rm_vm v;
	const char *what;
	int r = -1;

	if (!kvl_rm_vm_create(&v, GUEST_MEM, CODE_GPA, rm_hlt_begin, rm_hlt_end - rm_hlt_begin,
			      &what) &&
	    !ioctl(v.vcpu, KVM_RUN, 0) && v.run->exit_reason == KVM_EXIT_HLT)
		r = 0;
	/* All of the vCPU mapping: a page left mapped would keep the VM alive. */
	if (v.run && v.run != MAP_FAILED)
		munmap(v.run, ioctl(v.sys, KVM_GET_VCPU_MMAP_SIZE, 0));
	kvl_rm_vm_destroy(&v);
	return r;
}

/* 1000 by default; KVL_LIFECYCLE_CYCLES=N to change it. */
static int cycles(void)
{
	const char *e = getenv("KVL_LIFECYCLE_CYCLES");

	return e && atoi(e) > 0 ? atoi(e) : CYCLES;
}

FIXTURE(vms) {
	int unused;
};

FIXTURE_SETUP(vms)
{
}

FIXTURE_TEARDOWN(vms)
{
}

/* A hang guard for slow emulated hosts, not a timing check. */
TEST_F_TIMEOUT(vms, thousand_vms_leave_nothing, 300)
{
	long before, after;
	int i, n = cycles();

	for (i = 0; i < 50; i++)	/* warm the caches the first VMs fill */
		ASSERT_EQ(0, cycle());
	before = meminfo_kib();
	ASSERT_LT(0, before);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, cycle()) TH_LOG("cycle %d: %s", i, strerror(errno));
	after = meminfo_kib();
	TH_LOG("Slab+AnonPages: %ld kB before, %ld kB after %d VMs", before, after, n);
	/* A leak of one page per VM would be 4000 kB. */
	EXPECT_GT(before + 1024, after);
}

TEST(sigkill_while_guest_spins)
{
	int p[2];
	pid_t pid;
	char c;
	int st;

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kvl_rm_vm v;
		const char *what;

		close(p[0]);
		if (kvl_rm_vm_create(&v, GUEST_MEM, CODE_GPA, rm_spin_begin,
				     rm_spin_end - rm_spin_begin, &what) ||
		    ioctl(v.vcpu, KVM_RUN, 0) || v.run->exit_reason != KVM_EXIT_IO)
			_exit(1);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		ioctl(v.vcpu, KVM_RUN, 0);	/* spins until killed */
		_exit(2);
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	usleep(200 * 1000);	/* let it get back into the guest; not a timing check */
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGKILL, WTERMSIG(st));
	close(p[0]);

	/* The device is still good for the next VM. */
	EXPECT_EQ(0, cycle());
}

KVL_TEST_MAIN
