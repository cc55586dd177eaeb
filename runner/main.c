// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: a small VMM over the KVM ioctl ABI.
 *
 *   kvmlite run [--dev PATH] [--mem MB] IMAGE
 *
 * At this stage it runs a flat real-mode image loaded at 0000:1000 with a
 * 16550 UART at 0x3f8 (its output goes to stdout) and an exit port at 0xf4
 * (a byte written there ends the run with that status, as QEMU's
 * isa-debug-exit).  HLT ends the run with status 0.  It works on
 * /dev/kvmlite and on KVM's /dev/kvm alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "../devices/serial.h"
#include "../uapi/linux/kvmlite.h"

#define LOAD_GPA	0x1000
#define COM1		0x3f8
#define EXIT_PORT	0xf4

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("kvmlite: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void usage(void)
{
	fputs("usage: kvmlite run [--dev PATH] [--mem MB] IMAGE\n", stderr);
	exit(2);
}

static void stdout_tx(void *opaque, uint8_t b)
{
	(void)opaque;
	putchar(b);
	if (b == '\n')
		fflush(stdout);
}

struct vm {
	int sys, fd, vcpu;
	struct kvm_run *run;
	uint8_t *mem;
	size_t mem_size;
	struct serial com1;
};

static void load_image(struct vm *vm, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		die("%s: %s", path, strerror(errno));
	if (st.st_size <= 0 || (uint64_t)st.st_size > vm->mem_size - LOAD_GPA ||
	    st.st_size > 0xf000)
		die("%s: image must be 1..%u bytes (real mode, one segment)", path, 0xf000);
	if (read(fd, vm->mem + LOAD_GPA, st.st_size) != st.st_size)
		die("%s: short read", path);
	close(fd);
}

static void setup(struct vm *vm, const char *dev, size_t mb)
{
	struct kvm_userspace_memory_region slot = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = LOAD_GPA, .rflags = 2, .rsp = 0x1000 };
	long sz;

	vm->sys = open(dev, O_RDWR | O_CLOEXEC);
	if (vm->sys < 0)
		die("%s: %s", dev, strerror(errno));
	if (ioctl(vm->sys, KVM_GET_API_VERSION, 0) != 12)
		die("%s: not a KVM API 12 device", dev);
	vm->fd = ioctl(vm->sys, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		die("KVM_CREATE_VM: %s", strerror(errno));

	vm->mem_size = mb << 20;
	vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED)
		die("guest memory: %s", strerror(errno));
	slot.memory_size = vm->mem_size;
	slot.userspace_addr = (uintptr_t)vm->mem;
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		die("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));

	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu < 0)
		die("KVM_CREATE_VCPU: %s", strerror(errno));
	sz = ioctl(vm->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (long)sizeof(struct kvm_run))
		die("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	vm->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu, 0);
	if (vm->run == MAP_FAILED)
		die("mmap kvm_run: %s", strerror(errno));

	if (ioctl(vm->vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS: %s", strerror(errno));
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(vm->vcpu, KVM_SET_REGS, &regs) < 0)
		die("initial registers: %s", strerror(errno));
	serial__init(&vm->com1, stdout_tx, NULL);
}

/* Returns -1 to go on, or the exit status of the run. */
static int handle_io(struct vm *vm)
{
	struct kvm_run *run = vm->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	unsigned int i, j;

	for (i = 0; i < run->io.count; i++, data += run->io.size) {
		uint16_t port = run->io.port;

		for (j = 0; j < run->io.size; j++) {
			uint16_t p = port + j;

			if (run->io.direction == KVM_EXIT_IO_OUT) {
				if (p >= COM1 && p < COM1 + 8)
					serial__write(&vm->com1, p - COM1, data[j]);
				else if (p == EXIT_PORT)
					return data[j];
			} else {
				data[j] = (p >= COM1 && p < COM1 + 8) ?
					  serial__read(&vm->com1, p - COM1) : 0xff;
			}
		}
	}
	return -1;
}

static int run_vm(struct vm *vm)
{
	for (;;) {
		int st;

		if (ioctl(vm->vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("KVM_RUN: %s", strerror(errno));
		}
		switch (vm->run->exit_reason) {
		case KVM_EXIT_IO:
			st = handle_io(vm);
			if (st >= 0)
				return st;
			break;
		case KVM_EXIT_HLT:
			return 0;
		case KVM_EXIT_SHUTDOWN:
			fprintf(stderr, "kvmlite: guest shut down (triple fault)\n");
			return 1;
		case KVM_EXIT_INTERNAL_ERROR:
			fprintf(stderr, "kvmlite: internal error, suberror %u\n",
				vm->run->internal.suberror);
			return 1;
		case KVM_EXIT_FAIL_ENTRY:
			fprintf(stderr, "kvmlite: entry failed, reason 0x%llx\n",
				(unsigned long long)vm->run->fail_entry.hardware_entry_failure_reason);
			return 1;
		default:
			fprintf(stderr, "kvmlite: unhandled exit %u\n", vm->run->exit_reason);
			return 1;
		}
	}
}

int main(int argc, char **argv)
{
	const char *dev = NULL, *image = NULL;
	size_t mb = 2;
	struct vm vm;
	int i, st;

	if (argc < 2 || strcmp(argv[1], "run"))
		usage();
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--dev") && i + 1 < argc) {
			dev = argv[++i];
		} else if (!strcmp(argv[i], "--mem") && i + 1 < argc) {
			char *end;

			mb = strtoul(argv[++i], &end, 0);
			if (*end || mb < 1 || mb > 65536)
				die("--mem: 1..65536 (MiB)");
		} else if (argv[i][0] != '-' && !image) {
			image = argv[i];
		} else {
			usage();
		}
	}
	if (!image)
		usage();
	if (!dev)
		dev = access(KVMLITE_DEVICE_PATH, F_OK) == 0 ? KVMLITE_DEVICE_PATH : "/dev/kvm";

	memset(&vm, 0, sizeof(vm));
	setup(&vm, dev, mb);
	load_image(&vm, image);
	st = run_vm(&vm);
	fflush(stdout);
	return st;
}
