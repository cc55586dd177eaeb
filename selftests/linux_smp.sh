#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In an emulated host: boot Debian's kernel (/guest/vmlinuz) with
# selftests/linux_smp.init (/guest/smp-initrd) and 2 vCPUs through the
# runner on DEVICE, and report on the results channel (/dev/ttyS1):
#
#   linux_smp.sh kvmlite|kvm
#
#   RESULT <device> runner.linux-smp2-init pass|fail    both CPUs up, /init ran
#   RESULT <device> runner.linux-smp2-poweroff pass|fail ACPI S5, exit status 0
#
# The Intel stage runs it: in Bochs (one CPU) the AP's early spin loops
# leave the host only through PAUSE-loop exits.
dev=$1
res=/dev/ttyS1
[ -c "$res" ] || res=/dev/null
t0=$(cut -d' ' -f1 /proc/uptime)
timeout 900 kvmlite run --dev "/dev/$dev" --kernel /guest/vmlinuz --initrd /guest/smp-initrd \
	--mem 256M --cpus 2 --append "console=ttyS0 quiet" < /dev/null > /tmp/smp.out 2>&1
rc=$?
cat /tmp/smp.out
echo "linux_smp.sh: $dev: exit $rc after $(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" \
	'BEGIN { printf "%.1f", b - a }') s"
r=fail
grep -q '^GUEST-INIT-OK-42 cpus=2' /tmp/smp.out && r=pass
echo "RESULT $dev runner.linux-smp2-init $r" > "$res"
r=fail
[ "$rc" = 0 ] && grep -q '^kvmlite: guest powered off (ACPI S5)' /tmp/smp.out && r=pass
echo "RESULT $dev runner.linux-smp2-poweroff $r" > "$res"
[ "$r" = pass ]
