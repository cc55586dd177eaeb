// SPDX-License-Identifier: GPL-2.0
/*
 * Exit round-trip benchmark: the same real-mode guest loops run on the
 * device given (/dev/kvmlite or /dev/kvm), and the cost of one iteration is
 * printed as "BENCH <device> <name> <ns per iteration> <iterations>".
 *
 * Run it in the emulated host under QEMU -icount shift=0,sleep=off: guest
 * (that is, L1) time then counts instructions, one ns each, so a figure is
 * the L1 instructions spent per exit and repeats run for run.  No figure
 * here means anything on a real machine.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>
#include "../kvl_guest.h"

/* 1 MiB of RAM: the MMIO loop writes just above it, at ffff:0010. */
#define MEM_SIZE	0x100000
#define CODE_GPA	0x1000

/*
 * Each loop runs ESI times (set by the host), then OUTs to port 0xf0 and
 * halts.  pio: one OUT to port 0x80 per iteration (an exit to userspace);
 * cpuid and rdmsr: handled in the kernel; touch: first write to a new page
 * (a nested page fault resolved in the kernel), 4 KiB apart from 64 KiB up;
 * mmio: one byte written where no memslot is (an exit to userspace); hlt:
 * HLT with no in-kernel irqchip (an exit to userspace).
 */
asm(".pushsection .rodata\n"
    ".code16\n"
    "b_pio:\n"
    "1:	out %al, $0x80\n"
    "	dec %esi\n"
    "	jnz 1b\n"
    "	out %al, $0xf0\n"
    "	hlt\n"
    "b_cpuid:\n"
    "1:	xor %eax, %eax\n"
    "	cpuid\n"
    "	dec %esi\n"
    "	jnz 1b\n"
    "	out %al, $0xf0\n"
    "	hlt\n"
    "b_rdmsr:\n"
    "1:	mov $0x277, %ecx\n"
    "	rdmsr\n"
    "	dec %esi\n"
    "	jnz 1b\n"
    "	out %al, $0xf0\n"
    "	hlt\n"
    "b_mmio:\n"
    "	mov $0xffff, %ax\n"
    "	mov %ax, %es\n"
    "1:	movb %al, %es:0x10\n"
    "	dec %esi\n"
    "	jnz 1b\n"
    "	out %al, $0xf0\n"
    "	hlt\n"
    "b_hlt:\n"
    "1:	hlt\n"
    "	dec %esi\n"
    "	jnz 1b\n"
    "	out %al, $0xf0\n"
    "	hlt\n"
    "b_touch:\n"
    "	mov $0x1000, %ax\n"
    "1:	mov %ax, %es\n"
    "	movb $1, %es:0\n"
    "	add $0x100, %ax\n"
    "	dec %esi\n"
    "	jnz 1b\n"
    "	out %al, $0xf0\n"
    "	hlt\n"
    /*
     * APIC loops (x2APIC, set up by b_apic_setup first): self-IPI and
     * timer, each iteration interrupted once; the handler counts in EDI.
     */
    "b_apic_setup:\n"
    KVL_RM_X2APIC_ON
    "	mov $0x83e, %ecx\n"		/* timer divide by 1 */
    "	mov $0xb, %eax\n"
    "	wrmsr\n"
    "	mov $0x832, %ecx\n"		/* LVT timer: one-shot, vector 0x41 */
    "	mov $0x41, %eax\n"
    "	wrmsr\n"
    "	ret\n"
    "b_selfipi:\n"
    "	mov $0x7000, %sp\n"
    "	call b_apic_setup\n"
    "	xor %edx, %edx\n"
    "1:	xor %edi, %edi\n"
    "	mov $0x83f, %ecx\n"
    "	mov $0x41, %eax\n"
    "	sti\n"
    "	wrmsr\n"
    "2:	test %edi, %edi\n"
    "	jz 2b\n"
    "	dec %esi\n"
    "	jnz 1b\n"
    "	out %al, $0xf0\n"
    "	hlt\n"
    "b_timer:\n"
    "	mov $0x7000, %sp\n"
    "	call b_apic_setup\n"
    "	xor %edx, %edx\n"
    "1:	xor %edi, %edi\n"
    "	mov $0x838, %ecx\n"		/* TMICT: 1000 ns */
    "	mov $1000, %eax\n"
    "	wrmsr\n"
    "2:	cli\n"
    "	test %edi, %edi\n"
    "	jnz 3f\n"
    "	sti\n"
    "	hlt\n"
    "	jmp 2b\n"
    "3:	sti\n"
    "	dec %esi\n"
    "	jnz 1b\n"
    "	out %al, $0xf0\n"
    "	hlt\n"
    /* irqfd: halt until the host's eventfd write arrives, then tell it */
    "b_irqfd:\n"
    "	mov $0x7000, %sp\n"
    "	call b_apic_setup\n"
    "1:	xor %edi, %edi\n"
    "	out %al, $0x81\n"		/* ready: the host writes the eventfd */
    "2:	cli\n"
    "	test %edi, %edi\n"
    "	jnz 3f\n"
    "	sti\n"
    "	hlt\n"
    "	jmp 2b\n"
    "3:	sti\n"
    "	dec %esi\n"
    "	jnz 1b\n"
    "	out %al, $0xf0\n"
    "	hlt\n"
    /*
     * IPI round trip between two vCPUs: vCPU 0 sends vector 0x41 to APIC 1
     * and halts until the answer (vector 0x42, b_isr) comes back; vCPU 1
     * (b_pong_cpu) halts, and its 0x41 handler (b_pong) answers.  At the
     * end vCPU 0 sends 0x43 (b_quit), which makes vCPU 1 leave.
     */
    "b_ipi:\n"
    "	mov $0x7000, %sp\n"
    "	call b_apic_setup\n"
    "1:	xor %edi, %edi\n"
    "	mov $0x830, %ecx\n"
    "	mov $0x41, %eax\n"
    "	mov $1, %edx\n"
    "	wrmsr\n"
    "2:	cli\n"
    "	test %edi, %edi\n"
    "	jnz 3f\n"
    "	sti\n"
    "	hlt\n"
    "	jmp 2b\n"
    "3:	sti\n"
    "	dec %esi\n"
    "	jnz 1b\n"
    "	mov $0x830, %ecx\n"
    "	mov $0x43, %eax\n"
    "	mov $1, %edx\n"
    "	wrmsr\n"
    "	out %al, $0xf0\n"
    "	hlt\n"
    "b_pong_cpu:\n"
    "	mov $0x6000, %sp\n"
    "	call b_apic_setup\n"
    "	out %al, $0x82\n"		/* ready: the host starts vCPU 0 */
    "1:	sti\n"
    "	hlt\n"
    "	jmp 1b\n"
    "b_pong:\n"
    "	mov $0x830, %ecx\n"
    "	mov $0x42, %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    "	mov $0x80b, %ecx\n"		/* EOI */
    "	xor %eax, %eax\n"
    "	wrmsr\n"
    "	iret\n"
    "b_quit:\n"
    "	out %al, $0xf1\n"
    "	cli\n"
    "	hlt\n"
    "b_isr:\n"
    "	inc %edi\n"
    "	push %ecx\n"
    "	push %eax\n"
    "	push %edx\n"
    "	mov $0x80b, %ecx\n"		/* EOI */
    "	xor %eax, %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    "	pop %edx\n"
    "	pop %eax\n"
    "	pop %ecx\n"
    "	iret\n"
    "b_end:\n"
    ".code64\n"
    ".popsection\n");
extern const unsigned char b_pio[], b_cpuid[], b_rdmsr[], b_touch[], b_end[],
	b_selfipi[], b_timer[], b_irqfd[], b_isr[], b_mmio[], b_hlt[], b_ipi[],
	b_pong_cpu[], b_pong[], b_quit[];

struct bench {
	const char *name;
	const unsigned char *code;
	unsigned int iters;
	bool irqchip;		/* in-kernel irqchip, x2APIC in the guest's CPUID */
	bool two_vcpus;		/* vCPU 1 runs b_pong_cpu in a thread of its own */
};

static const struct bench benches[] = {
	{ "pio_exit_to_user", b_pio, 2000, false, false },
	{ "cpuid_in_kernel", b_cpuid, 5000, false, false },
	{ "rdmsr_in_kernel", b_rdmsr, 5000, false, false },
	{ "mmio_exit_to_user", b_mmio, 2000, false, false },
	{ "hlt_exit_to_user", b_hlt, 2000, false, false },
	{ "page_first_touch", b_touch, 200, false, false },
	{ "self_ipi_interrupt", b_selfipi, 2000, true, false },
	{ "apic_timer_interrupt", b_timer, 1000, true, false },
	{ "irqfd_to_guest", b_irqfd, 1000, true, false },
	{ "ipi_round_trip", b_ipi, 1000, true, true },
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void set_cpuid(int sys, int vcpu)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 100 * sizeof(c->entries[0]));

	if (!c)
		die("calloc");
	c->nent = 100;
	if (ioctl(sys, KVM_GET_SUPPORTED_CPUID, c) || ioctl(vcpu, KVM_SET_CPUID2, c))
		die("CPUID");
	free(c);
}

static void set_ivt(unsigned char *mem, int vector, const unsigned char *handler)
{
	uint16_t *ivt = (uint16_t *)mem;

	ivt[vector * 2] = CODE_GPA + (handler - b_pio);
	ivt[vector * 2 + 1] = 0;
}

/*
 * Vector 0x41 on b_isr, and an irqfd on GSI 20 routed by the IOAPIC to
 * vector 0x41, edge, APIC 0.
 */
static void irq_setup(int vm, unsigned char *mem, int *efd)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	struct kvm_irqfd fd = { .gsi = 20 };	/* IOAPIC only: GSIs 0-15 also reach the PIC */

	set_ivt(mem, 0x41, b_isr);
	if (ioctl(vm, KVM_GET_IRQCHIP, &chip))
		die("KVM_GET_IRQCHIP");
	chip.chip.ioapic.redirtbl[20].bits = 0x41;
	if (ioctl(vm, KVM_SET_IRQCHIP, &chip))
		die("KVM_SET_IRQCHIP");
	*efd = eventfd(0, 0);
	fd.fd = *efd;
	if (*efd < 0 || ioctl(vm, KVM_IRQFD, &fd))
		die("KVM_IRQFD");
}

/* A vCPU in real mode at code (CS base 0), ESI = iters. */
static int vcpu_create(int sys, int vm, int id, bool irqchip, const unsigned char *code,
		       unsigned int iters, struct kvm_run **run)
{
	struct kvm_regs regs = { .rip = CODE_GPA + (code - b_pio), .rflags = 2, .rsi = iters };
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct kvm_sregs sregs;
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, id);

	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	if (irqchip)
		set_cpuid(sys, vcpu);
	*run = mmap(NULL, ioctl(sys, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE,
		    MAP_SHARED, vcpu, 0);
	if (*run == MAP_FAILED)
		die("mmap vcpu");
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs))
		die("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) || ioctl(vcpu, KVM_SET_REGS, &regs))
		die("registers");
	/* An AP waits for INIT/SIPI under an in-kernel irqchip: start it now. */
	if (id && ioctl(vcpu, KVM_SET_MP_STATE, &mp))
		die("KVM_SET_MP_STATE");
	return vcpu;
}

struct pong {
	int vcpu;
	struct kvm_run *run;
	sem_t ready;
};

/* vCPU 1 of the IPI round trip: runs until b_quit's OUT to port 0xf1. */
static void *pong_thread(void *arg)
{
	struct pong *p = arg;

	for (;;) {
		if (ioctl(p->vcpu, KVM_RUN, 0))
			die("KVM_RUN (vCPU 1)");
		if (p->run->exit_reason == KVM_EXIT_IO && p->run->io.port == 0x82) {
			sem_post(&p->ready);
			continue;
		}
		if (p->run->exit_reason == KVM_EXIT_IO && p->run->io.port == 0xf1)
			return NULL;
		fprintf(stderr, "bench: vCPU 1: unexpected exit %u (port %#x)\n",
			p->run->exit_reason, p->run->io.port);
		exit(1);
	}
}

/* One fresh VM per loop, so page faults are first touches. Returns ns/iteration. */
static double run_one(const char *dev, const struct bench *b)
{
	struct kvm_userspace_memory_region slot = { .memory_size = MEM_SIZE };
	struct pong pong = { .vcpu = -1 };
	pthread_t pong_tid;
	struct kvm_run *run;
	unsigned char *mem;
	int sys, vm, vcpu;
	long long t0, t1;
	unsigned int exits = 0;
	int efd = -1;
	int mmap_size;

	sys = open(dev, O_RDWR | O_CLOEXEC);
	if (sys < 0)
		die(dev);
	mmap_size = ioctl(sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm = ioctl(sys, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	memcpy(mem + CODE_GPA, b_pio, b_end - b_pio);
	slot.userspace_addr = (unsigned long)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot))
		die("KVM_SET_USER_MEMORY_REGION");
	if (b->irqchip && ioctl(vm, KVM_CREATE_IRQCHIP, 0))
		die("KVM_CREATE_IRQCHIP");
	vcpu = vcpu_create(sys, vm, 0, b->irqchip, b->code, b->iters, &run);
	if (b->irqchip)
		irq_setup(vm, mem, &efd);
	if (b->two_vcpus) {
		set_ivt(mem, 0x41, b_pong);
		set_ivt(mem, 0x42, b_isr);
		set_ivt(mem, 0x43, b_quit);
		pong.vcpu = vcpu_create(sys, vm, 1, true, b_pong_cpu, 0, &pong.run);
		if (sem_init(&pong.ready, 0, 0) ||
		    pthread_create(&pong_tid, NULL, pong_thread, &pong))
			die("vCPU 1 thread");
		while (sem_wait(&pong.ready))
			;
	}

	t0 = now_ns();
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0))
			die("KVM_RUN");
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0x80) {
			exits++;
			continue;
		}
		if (run->exit_reason == KVM_EXIT_MMIO && b->code == b_mmio &&
		    run->mmio.phys_addr == 0x100000 && run->mmio.is_write) {
			exits++;
			continue;
		}
		if (run->exit_reason == KVM_EXIT_HLT && b->code == b_hlt) {
			exits++;
			continue;
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0x81) {
			uint64_t one = 1;

			/* The guest halts next; the write wakes it through the irqfd. */
			if (write(efd, &one, 8) != 8)
				die("eventfd write");
			continue;
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0xf0)
			break;
		fprintf(stderr, "bench: %s: unexpected exit %u (port %#x)\n", b->name,
			run->exit_reason, run->io.port);
		exit(1);
	}
	t1 = now_ns();
	if ((b->code == b_pio || b->code == b_mmio || b->code == b_hlt) && exits != b->iters) {
		fprintf(stderr, "bench: %s: %u exits, expected %u\n", b->name, exits, b->iters);
		exit(1);
	}
	if (b->two_vcpus) {
		pthread_join(pong_tid, NULL);
		sem_destroy(&pong.ready);
		munmap(pong.run, mmap_size);
		close(pong.vcpu);
	}
	munmap(run, mmap_size);
	if (efd >= 0)
		close(efd);
	close(vcpu);
	close(vm);
	close(sys);
	munmap(mem, MEM_SIZE);
	return (double)(t1 - t0) / b->iters;
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/kvmlite";
	const char *name = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;
	unsigned int i;

	for (i = 0; i < sizeof(benches) / sizeof(benches[0]); i++) {
		if (argc > 2 && strcmp(argv[2], benches[i].name))
			continue;	/* bench_exits DEVICE [NAME]: one loop only */
		run_one(dev, &benches[i]);	/* warm: code and page tables */
		printf("BENCH %s %s %.0f %u\n", name, benches[i].name,
		       run_one(dev, &benches[i]), benches[i].iters);
		fflush(stdout);
	}
	return 0;
}
