// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU state ioctls: FPU, XSAVE, XCRS, MP_STATE, VCPU_EVENTS (with an
 * exception injected into a real-mode guest), DEBUGREGS (read by the guest),
 * SIGNAL_MASK, and the VM clock with kvmclock.
 */
#include <signal.h>
#include <stdlib.h>
#include "kvl_test.h"

#define GUEST_MEM	0x20000
#define CODE_GPA	0x1000
#define PVTI_GPA	0x3000
#define WALL_GPA	0x3100

/*
 * Port 0x30 <- DR0 (as the host set it); then kvmclock on: system time at
 * PVTI_GPA, wall clock at WALL_GPA; port 0x31; HLT.  The #UD handler (IVT 6)
 * writes port 0x32 and halts.
 */
asm(".pushsection .rodata\n"
    ".code16\n"
    "rm_state_begin:\n"
    "	mov %dr0, %eax\n"
    "	mov $0x30, %dx\n"
    "	out %eax, %dx\n"
    "	mov $0x4b564d01, %ecx\n"
    "	mov $0x3001, %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    "	mov $0x4b564d00, %ecx\n"
    "	mov $0x3100, %eax\n"
    "	wrmsr\n"
    "	mov $0x31, %dx\n"
    "	out %al, %dx\n"
    "	hlt\n"
    "rm_state_ud:\n"
    "	mov $0x32, %dx\n"
    "	out %al, %dx\n"
    "	hlt\n"
    "rm_state_end:\n"
    ".code64\n"
    ".popsection\n");
extern const unsigned char rm_state_begin[], rm_state_ud[], rm_state_end[];

FIXTURE(vm) {
	struct kvl_rm_vm v;
};

FIXTURE_SETUP(vm)
{
	const char *what;

	ASSERT_EQ(0, kvl_rm_vm_create(&self->v, GUEST_MEM, CODE_GPA, rm_state_begin,
				      rm_state_end - rm_state_begin, &what))
		TH_LOG("%s: %s", what, strerror(errno));
	kvl_rm_set_ivt(self->v.mem, 6, CODE_GPA + (rm_state_ud - rm_state_begin));
}

FIXTURE_TEARDOWN(vm)
{
	kvl_rm_vm_destroy(&self->v);
}

TEST_F(vm, fpu_round_trip)
{
	struct kvm_fpu f, g;

	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_GET_FPU, &f));
	EXPECT_EQ(0x37f, f.fcw);	/* FNINIT state */
	f.fcw = 0x27f;
	f.mxcsr = 0x1fa0;
	memset(f.xmm[3], 0x5a, 16);
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_SET_FPU, &f));
	/*
	 * Read back before any run: kvm.ko (6.1) leaves XSTATE_BV alone on
	 * KVM_SET_FPU, so after a run its guest may see the init state; and
	 * it ignores the MXCSR given (kvmlite takes it), so that is not checked.
	 */
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_GET_FPU, &g));
	EXPECT_EQ(0x27f, g.fcw);
	EXPECT_EQ(0, memcmp(f.xmm[3], g.xmm[3], 16));
	EXPECT_EQ(-1, ioctl(self->v.vcpu, KVM_GET_FPU, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(vm, xsave_and_xcrs)
{
	struct kvm_xsave *x = calloc(1, sizeof(*x)), *y = calloc(1, sizeof(*y));
	struct kvm_fpu f;
	struct kvm_xcrs xcrs = {};
	uint64_t *hdr;

	ASSERT_NE(NULL, x);
	ASSERT_NE(NULL, y);
	if (ioctl(self->v.sys, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) <= 0)
		SKIP(return, "no KVM_CAP_XSAVE");
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_GET_XSAVE, x));
	/* Legacy area: MXCSR at byte 24, XMM0 at byte 160. */
	memset((char *)x->region + 160, 0xa5, 16);
	x->region[6] = 0x1f00;
	hdr = (uint64_t *)((char *)x->region + 512);
	hdr[0] |= 3;			/* XSTATE_BV: x87 and SSE in use */
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_SET_XSAVE, x));
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_GET_XSAVE, y));
	EXPECT_EQ(0x1f00, y->region[6]);
	EXPECT_EQ(0, memcmp((char *)x->region + 160, (char *)y->region + 160, 16));
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_GET_FPU, &f));
	EXPECT_EQ(0xa5, f.xmm[0][7]);

	/* An XSTATE_BV bit no CPU has, or a compacted header: refused. */
	hdr[0] |= 1ull << 62;
	EXPECT_EQ(-1, ioctl(self->v.vcpu, KVM_SET_XSAVE, x));
	EXPECT_EQ(EINVAL, errno);
	free(x);
	free(y);

	if (ioctl(self->v.sys, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) <= 0)
		SKIP(return, "no KVM_CAP_XCRS");
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_GET_XCRS, &xcrs));
	ASSERT_EQ(1, xcrs.nr_xcrs);
	EXPECT_EQ(0, xcrs.xcrs[0].xcr);
	EXPECT_EQ(1, xcrs.xcrs[0].value);	/* x87 only at reset */
	xcrs.xcrs[0].value = 0;			/* x87 is mandatory */
	EXPECT_EQ(-1, ioctl(self->v.vcpu, KVM_SET_XCRS, &xcrs));
	EXPECT_EQ(EINVAL, errno);
	xcrs.xcrs[0].value = 1;
	xcrs.nr_xcrs = KVM_MAX_XCRS + 1;
	EXPECT_EQ(-1, ioctl(self->v.vcpu, KVM_SET_XCRS, &xcrs));
	EXPECT_EQ(EINVAL, errno);
	/* XCRs other than XCR0 are ignored (KVM knows none). */
	xcrs.nr_xcrs = 2;
	xcrs.xcrs[1].xcr = 1;
	xcrs.xcrs[1].value = 7;
	EXPECT_EQ(0, ioctl(self->v.vcpu, KVM_SET_XCRS, &xcrs));
}

TEST_F(vm, mp_state)
{
	struct kvm_mp_state mp;

	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_GET_MP_STATE, &mp));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, mp.mp_state);
	EXPECT_EQ(0, ioctl(self->v.vcpu, KVM_SET_MP_STATE, &mp));
	/* Without an in-kernel irqchip only RUNNABLE is accepted. */
	mp.mp_state = KVM_MP_STATE_HALTED;
	EXPECT_EQ(-1, ioctl(self->v.vcpu, KVM_SET_MP_STATE, &mp));
	EXPECT_EQ(EINVAL, errno);
	mp.mp_state = 1000;
	EXPECT_EQ(-1, ioctl(self->v.vcpu, KVM_SET_MP_STATE, &mp));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(vm, events_inject_exception)
{
	struct kvm_vcpu_events e;
	struct kvm_run *run = self->v.run;

	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_GET_VCPU_EVENTS, &e));
	EXPECT_EQ(0, e.exception.injected);
	EXPECT_EQ(0, e.interrupt.injected);
	EXPECT_EQ(0, e.nmi.injected);

	e.flags = 1u << 31;
	EXPECT_EQ(-1, ioctl(self->v.vcpu, KVM_SET_VCPU_EVENTS, &e));
	EXPECT_EQ(EINVAL, errno);
	e.flags = 0;
	e.exception.injected = 1;
	e.exception.nr = 40;
	EXPECT_EQ(-1, ioctl(self->v.vcpu, KVM_SET_VCPU_EVENTS, &e));
	EXPECT_EQ(EINVAL, errno);

	/* #UD delivered before the first instruction: the handler runs. */
	e.exception.nr = 6;
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_SET_VCPU_EVENTS, &e));
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
	EXPECT_EQ(0x32, run->io.port);
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_GET_VCPU_EVENTS, &e));
	EXPECT_EQ(0, e.exception.injected);
}

TEST_F(vm, debugregs_seen_by_guest)
{
	struct kvm_debugregs d, g;
	struct kvm_run *run = self->v.run;

	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_GET_DEBUGREGS, &d));
	EXPECT_EQ(0x400, d.dr7);
	d.db[0] = 0x12345678;
	d.db[3] = 0x1000;
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_SET_DEBUGREGS, &d));
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_GET_DEBUGREGS, &g));
	EXPECT_EQ(0x12345678, g.db[0]);
	EXPECT_EQ(0x1000, g.db[3]);

	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
	EXPECT_EQ(0x30, run->io.port);
	EXPECT_EQ(0x12345678u, *(uint32_t *)((char *)run + run->io.data_offset));

	d.flags = 1;
	EXPECT_EQ(-1, ioctl(self->v.vcpu, KVM_SET_DEBUGREGS, &d));
	EXPECT_EQ(EINVAL, errno);
	d.flags = 0;
	d.dr7 = 1ull << 32;
	EXPECT_EQ(-1, ioctl(self->v.vcpu, KVM_SET_DEBUGREGS, &d));
	EXPECT_EQ(EINVAL, errno);
}

static void on_usr1(int sig)
{
	(void)sig;
}

TEST_F(vm, signal_mask)
{
	struct {
		struct kvm_signal_mask h;
		sigset_t set;
	} m = { .h.len = 8 };
	sigset_t block, old;

	m.h.len = 4;
	EXPECT_EQ(-1, ioctl(self->v.vcpu, KVM_SET_SIGNAL_MASK, &m));
	EXPECT_EQ(EINVAL, errno);

	/* SIGUSR1 pending but blocked in the thread, open while the guest runs. */
	signal(SIGUSR1, on_usr1);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &block, &old));
	ASSERT_EQ(0, raise(SIGUSR1));
	m.h.len = 8;
	sigemptyset(&m.set);
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_SET_SIGNAL_MASK, &m));
	EXPECT_EQ(-1, ioctl(self->v.vcpu, KVM_RUN, 0));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(KVM_EXIT_INTR, self->v.run->exit_reason);

	/* With the mask gone the blocked signal does not stop the guest. */
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_SET_SIGNAL_MASK, NULL));
	EXPECT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	EXPECT_EQ(KVM_EXIT_IO, self->v.run->exit_reason);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

struct pvti {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t mul;
	int8_t shift;
	uint8_t flags, pad[2];
};

TEST_F(vm, clock_and_kvmclock)
{
	struct kvm_clock_data c1 = {}, c2 = {};
	struct kvm_run *run = self->v.run;
	volatile struct pvti *ti = (void *)(self->v.mem + PVTI_GPA);
	volatile uint32_t *wc = (void *)(self->v.mem + WALL_GPA);

	ASSERT_EQ(0, ioctl(self->v.vm, KVM_GET_CLOCK, &c1));
	ASSERT_EQ(0, ioctl(self->v.vm, KVM_GET_CLOCK, &c2));
	EXPECT_LE(c1.clock, c2.clock);

	c1.clock = 1000000000000ull;
	c1.flags = 0;
	ASSERT_EQ(0, ioctl(self->v.vm, KVM_SET_CLOCK, &c1));
	ASSERT_EQ(0, ioctl(self->v.vm, KVM_GET_CLOCK, &c2));
	EXPECT_LE(c1.clock, c2.clock);
	EXPECT_GT(c1.clock * 2, c2.clock);
	c1.flags = 0x80;
	EXPECT_EQ(-1, ioctl(self->v.vm, KVM_SET_CLOCK, &c1));
	EXPECT_EQ(EINVAL, errno);

	/* DR0 first, then the guest turns kvmclock on. */
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(0, ioctl(self->v.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
	ASSERT_EQ(0x31, run->io.port);
	EXPECT_EQ(0, ti->version & 1);
	EXPECT_NE(0, ti->version);
	EXPECT_NE(0, ti->mul);
	EXPECT_LE(1000000000000ull, ti->system_time);
	EXPECT_EQ(0, wc[0] & 1);
	EXPECT_LT(1000000000u, wc[1]);	/* seconds since 1970 at VM clock zero */
}

KVL_TEST_MAIN
