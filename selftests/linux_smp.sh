#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In an emulated host: boot Debian's kernel (/guest/vmlinuz) with
# selftests/linux_smp.init (/guest/smp-initrd) and 2 vCPUs through the
# runner on DEVICE, with --device cirrus-vga, xhci, usb-tablet and usb-kbd,
# and report on the results channel (/dev/ttyS1):
#
#   linux_smp.sh kvmlite|kvm
#
#   RESULT <device> runner.linux-smp2-init pass|fail    both CPUs up, /init ran
#   RESULT <device> runner.linux-smp2-display-bind pass|fail
#       the guest's cirrus, xhci_hcd and usbhid (hid-generic: the tablet's
#       Mouse and the keyboard's Keyboard) bound with no error or failure in
#       their kernel log lines, every module loaded, fb0 1024x768
#   RESULT <device> runner.linux-smp2-poweroff pass|fail ACPI S5, exit status 0
#
# The Intel stage runs it: in Bochs (one CPU) the AP's early spin loops
# leave the host only through PAUSE-loop exits.
dev=$1
res=/dev/ttyS1
[ -c "$res" ] || res=/dev/null
t0=$(cut -d' ' -f1 /proc/uptime)
timeout 900 kvmlite run --dev "/dev/$dev" --kernel /guest/vmlinuz --initrd /guest/smp-initrd \
	--mem 256M --cpus 2 --append "console=ttyS0 quiet" --device cirrus-vga --device xhci \
	--device usb-tablet --device usb-kbd < /dev/null > /tmp/smp.out 2>&1
rc=$?
cat /tmp/smp.out
echo "linux_smp.sh: $dev: exit $rc after $(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" \
	'BEGIN { printf "%.1f", b - a }') s"
r=fail
grep -q '^GUEST-INIT-OK-42 cpus=2' /tmp/smp.out && r=pass
echo "RESULT $dev runner.linux-smp2-init $r" > "$res"
# The checks of selftests/display_boot.sh's usb-boot, cirrus-bind, xhci-bind,
# usbhid-bind and fb0 size; each one missing is named on the console.
r=pass
miss() { echo "linux_smp.sh: $dev: display-bind: $1"; r=fail; }
dm() { grep '^GUEST-DMESG: ' /tmp/smp.out; }
! grep -q GUEST-INSMOD-FAILED /tmp/smp.out || miss "a module did not load"
dm | grep -q '\[drm\] Initialized cirrus ' || miss "no [drm] Initialized cirrus"
dm | grep -q 'cirrus .*fb0: cirrusdrmfb frame buffer device' || miss "no fb0: cirrusdrmfb"
! dm | grep -i cirrus | grep -q -i -e error -e fail || miss "cirrus error"
dm | grep -q 'xhci_hcd .*new USB bus registered' || miss "no xhci_hcd bus"
! dm | grep -i xhci | grep -q -i -e error -e fail || miss "xhci error"
dm | grep -q 'hid-generic .*input.*USB HID v1.* Mouse \[.*USB Tablet\]' || miss "no USB Tablet"
dm | grep -q 'hid-generic .*input.*USB HID v1.* Keyboard \[.*USB Keyboard\]' || miss "no USB Keyboard"
! dm | grep -i -e usb -e hid | grep -q -i -e error -e fail || miss "usb/hid error"
grep -q '^GUEST-FB-SIZE=1024,768 ' /tmp/smp.out || miss "fb0 not 1024x768"
echo "RESULT $dev runner.linux-smp2-display-bind $r" > "$res"
r=fail
[ "$rc" = 0 ] && grep -q '^kvmlite: guest powered off (ACPI S5)' /tmp/smp.out && r=pass
echo "RESULT $dev runner.linux-smp2-poweroff $r" > "$res"
[ "$r" = pass ]
