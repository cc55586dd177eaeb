# SPDX-License-Identifier: GPL-2.0
#
# kvmlite top-level Makefile.  The module itself is built by Kbuild (see
# Kbuild and kernel/Kbuild); this file drives it and everything else.
#
#   make              module (for KDIR), runner, selftests, payloads
#   make check        host unit tests + AMD and Intel emulated-host selftests
#                     + a Linux guest booted by the runner (check-runner)
#                     + the kernel's own KVM selftests (check-compat)
#   make check-qemu   Debian's QEMU on kvmlite and on kvm-amd, side by side
#                     (KERNEL=6.12: in the 6.12 emulated host)
#   make check-compat the kernel's own KVM selftests on kvmlite and on kvm-amd
#                     (CPU=intel: a shorter list on kvmlite and kvm-intel, Bochs)
#   make demo         boot Linux with virtio disks, rng and net through the runner
#   make demo-vnc     (or make demo VNC=1) leave a Linux guest running with its
#                     screen on VNC, until Ctrl-C; DEMO_CHECK=1: unattended check
#   make bench        exit round trips, kvmlite beside kvm-amd, under -icount;
#                     then the runner's boot time and memory beside QEMU microvm
#   make man          check and render Documentation/kvmlite.1
#   make install      kvmlite.ko (for KVER, default the running kernel), the
#                     runner, its man page, the udev rule; DESTDIR, PREFIX;
#                     DKMS=1: all but the module (see make dkms-source)
#   make uninstall    remove exactly what make install put
#   make dkms-source  the module's sources for DKMS in /usr/src/kvmlite-VERSION
#   make KDIR=...     build the module against other kernel headers
#   make C=1 W=1      sparse and extra warnings (both passed to Kbuild)

TOP := $(CURDIR)
BUILD := $(TOP)/build
CACHE := $(BUILD)/cache
KENV := $(CACHE)/kernels.env

# Recursively expanded: evaluated when a recipe runs, after scripts/deps
# has written $(KENV) on a fresh machine.
RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
KDIR ?= $(if $(wildcard $(RUNNING_KDIR)/Makefile),$(RUNNING_KDIR),$(shell . $(KENV) && echo /usr/src/linux-headers-$$KVER_6_1))
W ?= 1
export W

KSFT := $(CACHE)/linux-source-6.1/tools/testing/selftests
CC := gcc
USER_CFLAGS := -O2 -g -Wall -Wextra -Werror -std=gnu11 -isystem $(KSFT)
SAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

SELFTESTS := dev_test guest_io_test cpuid_test msr_test vcpu_state_test dirtylog_test lifecycle_test lapic_test irqchip_test eventfd_test mmio_test ipi_test timer_test migrate_test interrupt_test guest_debug_test vmentry_test cpu_hop_test irq_npf_test abi_limits_test mce_test msr_probe split_irqchip_test coalesced_mmio_test
HOST_TESTS := devices/serial_test runner/bzimage_test runner/e820_test runner/escape_test kernel/emulate_test \
	devices/pci_test devices/virtq_test devices/virtio_test
# qcow2 (linked with devices/disk.c and zlib), the PVH parser (libelf)
HOST_TESTS += devices/qcow2_test runner/pvh_test
HOST_TESTS += devices/console_test runner/ctl_parse_test runner/ctl_test
HOST_TESTS += devices/cirrus_test
HOST_TESTS += devices/i8042_test
HOST_TESTS += devices/xhci_test devices/usb_hid_test
HOST_TESTS += runner/vnc_io_test
# VNC: the RFB client-message parser (with rfb_enc.c's pixel-format check) and --vnc's parser
HOST_TESTS += runner/rfb_msg_test runner/vnc_opts_test
# VNC encoders (Raw, Hextile, ZRLE, Tight with JPEG) against the test's own decoders
HOST_TESTS += runner/rfb_enc_test
# The VNC server on the real console, driven by the test's own RFB client
HOST_TESTS += runner/vnc_test
# Scroll detection for CopyRect
HOST_TESTS += runner/vnc_scroll_test
# The display benchmark's VNC client (bench_display --vnc) on rfb_enc.c's updates
HOST_TESTS += bench/vncwatch_test
# kvmlite check's probes on fake /proc, /sys and /dev trees
HOST_TESTS += runner/check_test
RUNNER_SRCS := $(wildcard runner/*.c) $(filter-out %_test.c,$(wildcard devices/*.c))
# Text mode's 8x16 font, generated from a Debian console font (scripts/deps installs it).
CONSOLE_FONT := /usr/share/consolefonts/Uni2-VGA16.psf.gz
CONSOLE_FONT_C := $(BUILD)/gen/console_font.c
RUNNER_HDRS := $(wildcard runner/*.h devices/*.h) uapi/linux/kvmlite.h
# Linked dynamically: GnuTLS (p11-kit) and cyrus-sasl (its mechanism plugins)
# have no usable static form.  scripts/vmtest copies the libraries into the
# emulated host with the binary.
RUNNER_LIBS := -lelf -lpng -ljpeg -lgnutls -lsasl2 -lnettle -lz -lm -luring
# The sandbox (runner/sandbox.c): seccomp filter built with libseccomp.
RUNNER_LIBS += -lseccomp
PAYLOADS := hello

.PHONY: all deps module module-for userspace selftests runner payloads \
	check check-host check-amd check-intel check-runner check-qemu demo demo-vnc bench man clean distclean \
	compat check-compat guest-tools

all: deps module userspace

deps:
	@$(TOP)/scripts/deps

module: deps
	$(MAKE) -C $(KDIR) M=$(TOP) modules

# kvmlite.ko for one exact kernel version, in build/mod/<version>/.
module-for: deps
	@test -n "$(KVER)" || { echo "module-for: KVER=<kernel version>"; exit 2; }
	@mkdir -p $(BUILD)/mod/$(KVER)
	@cp -pu Kbuild $(BUILD)/mod/$(KVER)/ && cp -rpu kernel uapi $(BUILD)/mod/$(KVER)/
	@hdr=/usr/src/linux-headers-$(KVER); \
	 [ -f $$hdr/Makefile ] || hdr=$(CACHE)/root/usr/src/linux-headers-$(KVER); \
	 [ -f $$hdr/Makefile ] || hdr=/lib/modules/$(KVER)/build; \
	 $(MAKE) -s -C $$hdr M=$(BUILD)/mod/$(KVER) modules

# make install: like a distro's module package, but under /usr/local and
# /etc (the administrator's trees; /lib/udev/rules.d and /usr belong to
# dpkg).  The module goes to updates/, which depmod prefers to the kernel's
# own tree; depmod runs only for a real install (DESTDIR empty).
# modules-load.d loads kvmlite at boot, so /dev/kvmlite exists without a
# manual modprobe (it takes no hardware until a VM is created).
PREFIX ?= /usr/local
# (module-for, a prerequisite, inherits it; alone it still wants KVER=)
install uninstall print-install-files: KVER ?= $(shell uname -r)
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' $(TOP)/dkms.conf)
INSTALL_FILES = /lib/modules/$(KVER)/updates/kvmlite.ko $(PREFIX)/bin/kvmlite \
	$(PREFIX)/share/man/man1/kvmlite.1 /etc/udev/rules.d/60-kvmlite.rules \
	/etc/modules-load.d/kvmlite.conf

.PHONY: install uninstall print-install-files
# DKMS=1: everything but the module (DKMS installs that one, in updates/dkms).
install: $(if $(DKMS),,module-for) runner
	$(if $(DKMS),,install -D -m 0644 $(BUILD)/mod/$(KVER)/kernel/kvmlite.ko \
		$(DESTDIR)/lib/modules/$(KVER)/updates/kvmlite.ko)
	install -D -m 0755 runner/kvmlite $(DESTDIR)$(PREFIX)/bin/kvmlite
	install -D -m 0644 Documentation/kvmlite.1 $(DESTDIR)$(PREFIX)/share/man/man1/kvmlite.1
	install -D -m 0644 scripts/60-kvmlite.rules $(DESTDIR)/etc/udev/rules.d/60-kvmlite.rules
	install -D -m 0644 scripts/kvmlite.modules-load $(DESTDIR)/etc/modules-load.d/kvmlite.conf
	$(if $(DESTDIR)$(DKMS),,depmod -a $(KVER))
	$(if $(DESTDIR),,command -v udevadm >/dev/null && udevadm control --reload || true)

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALL_FILES))
	$(if $(DESTDIR),,depmod -a $(KVER))

# DKMS: the module's sources with dkms.conf, in /usr/src/kvmlite-VERSION.
DKMS_SRC := $(DESTDIR)/usr/src/kvmlite-$(VERSION)
.PHONY: dkms-source
dkms-source:
	rm -rf $(DKMS_SRC)
	install -d $(DKMS_SRC)
	cp -r dkms.conf Kbuild kernel uapi $(DKMS_SRC)/
	find $(DKMS_SRC) \( -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' \
		-o -name Module.symvers -o -name modules.order \) -delete

print-install-files:
	@echo $(INSTALL_FILES)

userspace: selftests runner payloads

selftests: $(addprefix $(BUILD)/selftests/,$(SELFTESTS)) $(BUILD)/selftests/bench_exits \
	$(BUILD)/selftests/bench_vmm $(BUILD)/selftests/bench_blkio $(BUILD)/selftests/bench_display
runner: runner/kvmlite runner/kvmlite-test
payloads: $(addprefix $(BUILD)/payloads/,$(addsuffix .bin,$(PAYLOADS)))

$(BUILD)/selftests/%: selftests/%.c selftests/kvl_test.h selftests/kvl_guest.h | deps
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -static -pthread -o $@ $<

$(BUILD)/selftests/bench_exits: selftests/bench/exits.c selftests/kvl_guest.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -static -pthread -o $@ $<

$(BUILD)/selftests/bench_vmm: selftests/bench/vmm.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -static -o $@ $<

$(BUILD)/selftests/bench_blkio: selftests/bench/blkio.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -static -o $@ $<

$(BUILD)/selftests/bench_display: selftests/bench/display.c selftests/bench/vncwatch.c \
		selftests/bench/vncwatch.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -static -o $@ $< selftests/bench/vncwatch.c

# Static tools for the display test's Linux guests (selftests/display_boot.sh).
GUEST_TOOLS := evread fbfill fbloop
guest-tools: $(addprefix $(BUILD)/guest/,$(GUEST_TOOLS))

$(BUILD)/guest/%: selftests/guest/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -static -o $@ $<
$(BUILD)/guest/fbloop: selftests/guest/fbtext.h

runner/kvmlite: $(RUNNER_SRCS) $(RUNNER_HDRS) $(CONSOLE_FONT_C) | deps
	$(CC) $(USER_CFLAGS) -pthread -o $@ $(RUNNER_SRCS) $(CONSOLE_FONT_C) $(RUNNER_LIBS)

# The same runner with test-only hooks (the control socket's "test-escape",
# selftests/sandbox_boot.sh); never installed or shipped.
runner/kvmlite-test: $(RUNNER_SRCS) $(RUNNER_HDRS) $(CONSOLE_FONT_C) | deps
	$(CC) $(USER_CFLAGS) -DKVMLITE_TEST_HOOKS -pthread -o $@ $(RUNNER_SRCS) $(CONSOLE_FONT_C) \
		$(RUNNER_LIBS)

$(CONSOLE_FONT_C): scripts/psf2c | deps
	@mkdir -p $(@D)
	$(TOP)/scripts/psf2c $(CONSOLE_FONT) $@

$(BUILD)/payloads/%.bin: runner/payloads/%.S
	@mkdir -p $(@D)
	$(CC) -m32 -c -o $(BUILD)/payloads/$*.o $<
	ld -m elf_i386 -Ttext=0x1000 -e _start --oformat binary -o $@ $(BUILD)/payloads/$*.o

# Host unit tests: device models and runner parsers under ASan + UBSan,
# each linked with the file it tests (selftests/X/Y_test.c tests X/Y.c).
tested_src = $(patsubst %_test,%.c,$(1))
.SECONDEXPANSION:
$(BUILD)/host/%: selftests/%.c $$(call tested_src,$$*) | deps
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(SAN_CFLAGS) -o $@ $< $(patsubst selftests/%_test.c,%.c,$<) $(HOST_EXTRA) $(HOST_LIBS)

# Virtio device models with the transport, ring walker and disk layer they sit on.
VIRTIO_HOST_EXTRA := devices/virtq.c devices/pci.c devices/virtio_pci.c devices/virtio_blk.c \
	devices/virtio_console.c devices/virtio_rng.c devices/virtio_net.c devices/disk.c
$(BUILD)/host/devices/virtio_test: HOST_EXTRA := $(VIRTIO_HOST_EXTRA)
$(BUILD)/host/devices/virtio_test: $(VIRTIO_HOST_EXTRA) $(wildcard devices/*.h)

# kernel/ pure code (the instruction emulator) built for the host: a type shim.
$(BUILD)/host/kernel/emulate_test: USER_CFLAGS += -I$(TOP)/selftests/kernel/include
$(BUILD)/host/kernel/emulate_test: kernel/emulate.c kernel/emulate.h

# The console renders text with the generated font.
$(BUILD)/host/devices/console_test: HOST_EXTRA := $(CONSOLE_FONT_C)
$(BUILD)/host/devices/console_test: $(CONSOLE_FONT_C) devices/console.h

# Cirrus VGA: the register model with its blitter.
$(BUILD)/host/devices/cirrus_test: HOST_EXTRA := devices/cirrus_blt.c
$(BUILD)/host/devices/cirrus_test: devices/cirrus_blt.c devices/cirrus.h devices/console.h

# The 8042 with its PS/2 keyboard and mouse, fed through the console.
$(BUILD)/host/devices/i8042_test: HOST_EXTRA := devices/ps2.c devices/console.c $(CONSOLE_FONT_C)
$(BUILD)/host/devices/i8042_test: devices/ps2.c devices/ps2.h devices/i8042.h devices/console.c \
	devices/console.h $(CONSOLE_FONT_C)

# The control socket: its parser alone, then the server and client on the
# real event loop and console (ctl_test stubs the VM).
$(BUILD)/host/runner/ctl_test: HOST_EXTRA := runner/ctl_parse.c runner/evloop.c devices/console.c \
	$(CONSOLE_FONT_C)
$(BUILD)/host/runner/ctl_test: HOST_LIBS = -lpng -lz -lm -pthread
$(BUILD)/host/runner/ctl_test: runner/ctl_parse.c runner/evloop.c devices/console.c $(CONSOLE_FONT_C) \
	runner/ctl.h runner/ctl_parse.h devices/console.h

# The VNC server with every piece it sits on, the real console behind it.
VNC_HOST_EXTRA := runner/rfb_msg.c runner/rfb_enc.c runner/vnc_io.c runner/vnc_auth.c \
	runner/vnc_opts.c runner/vnc_scroll.c devices/console.c
$(BUILD)/host/runner/vnc_test: HOST_EXTRA := $(VNC_HOST_EXTRA) $(CONSOLE_FONT_C)
$(BUILD)/host/runner/vnc_test: HOST_LIBS := -lgnutls -lsasl2 -lnettle -ljpeg -lz -lm -pthread
$(BUILD)/host/runner/vnc_test: $(VNC_HOST_EXTRA) $(CONSOLE_FONT_C) runner/vnc.h runner/vnc_io.h \
	runner/rfb.h devices/console.h

# xHCI with the USB HID devices on its ports, input through the console.
XHCI_HOST_EXTRA := devices/xhci_ring.c devices/usb_hid.c devices/pci.c devices/console.c
$(BUILD)/host/devices/xhci_test: HOST_EXTRA := $(XHCI_HOST_EXTRA) $(CONSOLE_FONT_C)
$(BUILD)/host/devices/xhci_test: $(XHCI_HOST_EXTRA) $(CONSOLE_FONT_C) devices/xhci.h \
	devices/xhci_priv.h devices/usb.h devices/usb_hid.h devices/console.h

$(BUILD)/host/devices/usb_hid_test: devices/usb.h devices/usb_hid.h devices/console.h

# qcow2 goes through the disk interface.
$(BUILD)/host/devices/qcow2_test: HOST_LIBS = devices/disk.c -lz
$(BUILD)/host/devices/qcow2_test: devices/disk.c devices/disk.h
$(BUILD)/host/runner/pvh_test: HOST_LIBS = -lelf -lz

# The VNC connection layers and auth exchanges against a client in a thread.
$(BUILD)/host/runner/vnc_io_test: HOST_EXTRA := runner/vnc_auth.c
$(BUILD)/host/runner/vnc_io_test: HOST_LIBS := -lgnutls -lsasl2 -lnettle -pthread
$(BUILD)/host/runner/vnc_io_test: runner/vnc_auth.c runner/vnc_io.h runner/vnc_io_priv.h \
	runner/vnc_ws.h
$(BUILD)/host/runner/rfb_msg_test: HOST_EXTRA := runner/rfb_enc.c
$(BUILD)/host/runner/rfb_msg_test: HOST_LIBS := -lz -ljpeg
$(BUILD)/host/runner/rfb_msg_test: runner/rfb_enc.c runner/rfb.h
$(BUILD)/host/runner/rfb_enc_test: HOST_LIBS := -lz -ljpeg
# The sandbox (runner/sandbox.c) in forked children; no sanitizers: their
# runtimes make system calls the seccomp filter rightly refuses.
HOST_TESTS += runner/sandbox_test
$(BUILD)/host/runner/sandbox_test: selftests/runner/sandbox_test.c runner/sandbox.c runner/log.c \
		runner/sandbox.h \
		| deps
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -DKVMLITE_TEST_HOOKS -pthread -o $@ $< runner/sandbox.c runner/log.c \
		-lseccomp
# selftests/bench/vncwatch_test.c tests selftests/bench/vncwatch.c (not bench/vncwatch.c).
$(BUILD)/host/bench/vncwatch_test: selftests/bench/vncwatch_test.c selftests/bench/vncwatch.c \
		selftests/bench/vncwatch.h runner/rfb_enc.c runner/rfb.h | deps
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(SAN_CFLAGS) -o $@ $< selftests/bench/vncwatch.c runner/rfb_enc.c \
		-lz -ljpeg
$(BUILD)/host/runner/rfb_enc_test: runner/rfb.h selftests/runner/rfb_dec.h
# vncperf: bench-display's VNC workloads on the host, for profiling (not a test).
$(BUILD)/host/bench/vncperf: selftests/bench/vncperf.c selftests/bench/vncwatch.c \
		selftests/bench/vncwatch.h selftests/guest/fbtext.h runner/vnc.c $(VNC_HOST_EXTRA) $(CONSOLE_FONT_C) | deps
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -pthread -o $@ $< selftests/bench/vncwatch.c runner/vnc.c \
		$(VNC_HOST_EXTRA) $(CONSOLE_FONT_C) -lgnutls -lsasl2 -lnettle -ljpeg -lz -lm
$(BUILD)/host/runner/vnc_opts_test: runner/vnc.h
$(BUILD)/host/runner/check_test: runner/check.h

# The VNC server with a synthetic display, for real clients
# (selftests/runner/vnc_clients.sh builds it; not a unit test itself).
VNC_SYNTH_SRCS = $(wildcard runner/vnc*.c runner/rfb*.c) devices/console.c
$(BUILD)/host/runner/vnc_synth: selftests/runner/vnc_synth.c $$(VNC_SYNTH_SRCS) $(CONSOLE_FONT_C) \
	$(RUNNER_HDRS) | deps
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(SAN_CFLAGS) -pthread -o $@ $< $(VNC_SYNTH_SRCS) $(CONSOLE_FONT_C) \
		-lgnutls -lsasl2 -lnettle -ljpeg -lz -lm

# libFuzzer targets: fuzz/NAME_fuzz.c -> build/fuzz/NAME (clang, ASan + UBSan).
# scripts/check host builds them all and runs each for FUZZ_TIME seconds
# (default 20) from its seed corpus fuzz/corpus/NAME/.  To add a target
# (say virtio_blk for a request parser in devices/virtio_blk.c):
#   1. write fuzz/virtio_blk_fuzz.c defining LLVMFuzzerTestOneInput();
#   2. below: FUZZ_SRCS_virtio_blk := devices/virtio_blk.c (the code it links;
#      FUZZ_LIBS_virtio_blk and FUZZ_DEFS_virtio_blk if needed);
#   3. seed it: add a generator to fuzz/gen-corpus.sh, run it, commit
#      fuzz/corpus/virtio_blk/ (a few small generated inputs).
FUZZ_TARGETS := $(patsubst fuzz/%_fuzz.c,%,$(wildcard fuzz/*_fuzz.c))
FUZZ_CFLAGS := -O1 -g -Wall -Wextra -Werror -std=gnu11 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRCS_qcow2 := devices/qcow2.c devices/disk.c
FUZZ_LIBS_qcow2 := -lz
FUZZ_DEFS_qcow2 := -DQCOW2_FUZZ_BACKING
FUZZ_SRCS_bzimage := runner/bzimage.c
FUZZ_SRCS_pvh := runner/pvh.c
FUZZ_LIBS_pvh := -lelf -lz
FUZZ_SRCS_virtq := devices/virtq.c
FUZZ_SRCS_xhci := devices/xhci.c devices/xhci_ring.c devices/usb_hid.c devices/pci.c
FUZZ_SRCS_ctl_parse := runner/ctl_parse.c
FUZZ_SRCS_cirrus := devices/cirrus.c devices/cirrus_blt.c
FUZZ_SRCS_i8042 := devices/i8042.c devices/ps2.c
FUZZ_SRCS_vnc_ws := runner/vnc_io.c
FUZZ_LIBS_vnc_ws := -lgnutls -lsasl2 -lnettle
FUZZ_SRCS_rfb_msg := runner/rfb_msg.c runner/rfb_enc.c
FUZZ_LIBS_rfb_msg := -lz -ljpeg
FUZZ_SRCS_rfb_enc := runner/rfb_enc.c
FUZZ_SRCS_vnc_scroll := runner/vnc_scroll.c
FUZZ_LIBS_rfb_enc := -lz -ljpeg

.PHONY: fuzz print-fuzz-targets print-host-tests
fuzz: $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))
print-fuzz-targets:
	@echo $(FUZZ_TARGETS)
print-host-tests:
	@echo $(HOST_TESTS)

$(BUILD)/fuzz/%: fuzz/%_fuzz.c $$(FUZZ_SRCS_$$*) $(RUNNER_HDRS) | deps
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) $(FUZZ_DEFS_$*) -o $@ $< $(FUZZ_SRCS_$*) $(FUZZ_LIBS_$*)

check-host: $(addprefix $(BUILD)/host/,$(HOST_TESTS))
	@$(TOP)/scripts/check host

check-amd: all
	@$(TOP)/scripts/check amd

check-intel: all
	@$(TOP)/scripts/check intel

check-runner: all
	@$(TOP)/scripts/check runner

check: all compat
	@$(TOP)/scripts/check host amd intel runner qemu compat compat-intel

check-qemu: all
	@$(TOP)/selftests/qemu_boot.sh $(if $(KERNEL),--kernel $(KERNEL))

# Upstream KVM selftests (selftests/compat/tests.txt), unmodified, static.
compat: deps
	@$(TOP)/selftests/compat/build.sh

check-compat: all compat
	@$(TOP)/scripts/compat $(if $(CPU),--cpu $(CPU))

demo: all
	@$(TOP)/scripts/demo$(if $(VNC),-vnc)

demo-vnc: all
	@$(TOP)/scripts/demo-vnc

bench: all
	@$(TOP)/scripts/bench $(if $(CPU),--cpu $(CPU))
	$(if $(filter intel,$(CPU)),,@$(TOP)/scripts/bench-runner)
	$(if $(filter intel,$(CPU)),,@$(TOP)/scripts/bench-blk)
	$(if $(filter intel,$(CPU)),,@$(TOP)/scripts/bench-display)

# The runner's manual page: checked (groff warnings, every --help option
# documented) and rendered to build/man/kvmlite.1.txt.
man: runner
	@$(TOP)/selftests/runner/man.sh $(TOP)/runner/kvmlite $(TOP)/Documentation/kvmlite.1
	@mkdir -p $(BUILD)/man
	MANWIDTH=80 man -l $(TOP)/Documentation/kvmlite.1 > $(BUILD)/man/kvmlite.1.txt

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean 2>/dev/null
	rm -rf $(BUILD)/mod $(BUILD)/selftests $(BUILD)/host $(BUILD)/payloads \
		$(BUILD)/vmtest $(BUILD)/results $(BUILD)/compat runner/kvmlite runner/kvmlite-test

distclean: clean
	rm -rf $(BUILD)
