#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot Debian's 6.1 kernel with a busybox initramfs through the runner on
# /dev/kvmlite and then on Debian's /dev/kvm, nested in the AMD emulated host:
#
#   selftests/linux_boot.sh [--results FILE]
#
# Four boots.  In each the guest's /init prints a marker computed at run
# time, then: "poweroff" (1 vCPU) powers off through ACPI S5; "reboot"
# (2 vCPUs, so the APs come up through the MADT) reboots through the
# i8042; "pvh" (2 vCPUs) boots the same kernel as an ELF vmlinux through
# its PVH entry and powers off; "input" prints a prompt, reads a line the host writes to the
# runner's stdin (COM1 receive interrupts) and echoes it before powering
# off.  Each check prints "RESULT kvm runner.linux-<name> pass|fail" (to
# --results too); the status is 1 if any failed.  Wall times of the boots
# (in the emulated host, from starting the runner to its exit) are printed.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
results=
while [ $# -gt 0 ]; do
	case "$1" in
	--results) results=$2; shift 2 ;;
	*) echo "linux_boot.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

"$top/scripts/deps" || exit 1
. "$top/build/cache/kernels.env"
kernel=$top/build/cache/root/boot/vmlinuz-$KVER_6_1
out=$top/build/linux_boot
rm -rf "$out"
mkdir -p "$out/root/bin" "$out/root/proc" "$out/root/dev"
cp /bin/busybox "$out/root/bin/busybox"
cat > "$out/root/init" <<'EOS'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
n=$(/bin/busybox grep -c ^processor /proc/cpuinfo)
echo "GUEST-INIT-OK-$((6 * 7)) kernel=$(/bin/busybox uname -r) cpus=$n"
case "$(/bin/busybox cat /proc/cmdline)" in
*kvl.reboot*)
	# The timer: the host stamps these two lines with its own clock.
	echo "GUEST-SLEEP-START"
	/bin/busybox sleep 3
	echo "GUEST-SLEEP-END"
	/bin/busybox reboot -f ;;
*kvl.input*)
	echo "GUEST-READY"
	read -r line
	echo "GUEST-GOT-[$line]"
	/bin/busybox poweroff -f ;;
*) /bin/busybox poweroff -f ;;
esac
EOS
chmod +x "$out/root/init"
(cd "$out/root" && find . | cpio -o -H newc --quiet) > "$out/initrd"
# The same kernel as an ELF vmlinux, booted through its PVH entry point.
"$top/build/cache/linux-source-6.1/scripts/extract-vmlinux" "$kernel" > "$out/vmlinux" || exit 1

# In the emulated host: three boots on kvmlite, then Debian's kvm, each reported.
cat > "$out/boot.sh" <<'EOS'
up() { cut -d' ' -f1 /proc/uptime; }
# Console lines GUEST-SLEEP-* get this host's uptime appended, as they arrive.
stamp() {
	while IFS= read -r l; do
		case "$l" in GUEST-SLEEP-*) echo "$l HOST-UPTIME=$(up)" ;; *) echo "$l" ;; esac
	done
}
boot() { # boot MODE CPUS [KERNEL]: a run with stdin from /dev/null
	t0=$(up)
	{ timeout 240 kvmlite run --dev /dev/$dev --kernel "${3:-/guest/vmlinuz}" --initrd /guest/initrd \
		--mem 256M --cpus "$2" --append "console=ttyS0 quiet kvl.$1" < /dev/null 2>&1
	  echo $? > /tmp/rc; } | stamp
	rc=$(cat /tmp/rc)
	echo "RUNNER-$dev-$1-EXIT=$rc"
	echo "RUNNER-$dev-$1-WALL=$(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')s"
}
for dev in kvmlite kvm; do
	[ $dev = kvm ] && { kvm-load || exit 1; }
	boot poweroff 1
	boot reboot 2
	boot pvh 2 /guest/vmlinux
	# input: feed a line once the guest asks for it
	rm -f /tmp/in; mkfifo /tmp/in
	t0=$(up)
	timeout 240 kvmlite run --dev /dev/$dev --kernel /guest/vmlinuz --initrd /guest/initrd \
		--mem 256M --append "console=ttyS0 quiet kvl.input" < /tmp/in > /tmp/out 2>&1 &
	pid=$!
	exec 3> /tmp/in
	i=0
	while ! grep -q GUEST-READY /tmp/out && [ $i -lt 1200 ]; do sleep 0.2; i=$((i + 1)); done
	echo "hello from the host" >&3
	wait $pid
	rc=$?
	exec 3>&-
	cat /tmp/out
	echo "RUNNER-$dev-input-EXIT=$rc"
	echo "RUNNER-$dev-input-WALL=$(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')s"
done
EOS

log=$out/console.log
# One TCG thread per CPU here: with one for all, the nested kvm-amd SMP guest
# never finishes booting (kvmlite's does).
"$top/scripts/vmtest" --cpu amd --mttcg --mem 2048 --timeout 900 --log "$log" \
	--add "$kernel:/guest/vmlinuz" --add "$out/initrd:/guest/initrd" \
	--add "$out/vmlinux:/guest/vmlinux" --add "$out/boot.sh:/guest/boot.sh" -- sh /guest/boot.sh
vmrc=$?
tr -d '\r' < "$log" > "$log.txt"

failed=0
result() { # result NAME ok? DEVICE
	local r=fail dev=$3
	[ "$2" = 0 ] && r=pass
	[ $r = fail ] && failed=1
	echo "RESULT $dev runner.linux-$1 $r"
	[ -n "$results" ] && echo "RESULT $dev runner.linux-$1 $r" >> "$results"
}
# The marker and the runner's reason must come between the previous
# boot's exit line and this boot's.
section() { # the console lines of boot $1
	awk -v m="$1" '/^RUNNER-.*-WALL=/ { buf = ""; next } { buf = buf $0 "\n" }
		index($0, "RUNNER-" m "-EXIT=") == 1 { printf "%s", buf; exit }' "$log.txt"
}
for d in kvmlite kvm; do
	for m in poweroff reboot pvh input; do section $d-$m > "$out/$d-$m.txt"; done
	f=$out/$d
	grep -q "^RUNNER-$d-poweroff-EXIT=0$" "$f-poweroff.txt"; result poweroff-exit0 $? $d
	grep -q '^GUEST-INIT-OK-42 .* cpus=1$' "$f-poweroff.txt"; result poweroff-init-marker $? $d
	grep -q '^kvmlite: guest powered off (ACPI S5)$' "$f-poweroff.txt"; result poweroff-via-acpi $? $d
	grep -q "^RUNNER-$d-reboot-EXIT=0$" "$f-reboot.txt"; result reboot-exit0 $? $d
	grep -q '^GUEST-INIT-OK-42 .* cpus=2$' "$f-reboot.txt"; result reboot-smp2-init-marker $? $d
	grep -q '^kvmlite: guest reset the machine (i8042): reboot$' "$f-reboot.txt"; result reboot-via-i8042 $? $d
	# The SMP guest's "sleep 3" against the emulated host's clock: within 10%.
	awk '/^GUEST-SLEEP-START HOST-UPTIME=/ { sub(/.*=/, ""); a = $0 }
	     /^GUEST-SLEEP-END HOST-UPTIME=/ { sub(/.*=/, ""); b = $0 }
	     END { if (a == "" || b == "") exit 1
		   printf "guest sleep 3 took %.2f s of host time\n", b - a > "/dev/stderr"
		   exit !(b - a >= 2.7 && b - a <= 3.3) }' "$f-reboot.txt"
	result reboot-smp2-sleep3-within-10pct $? $d
	grep -q "^RUNNER-$d-pvh-EXIT=0$" "$f-pvh.txt"; result pvh-exit0 $? $d
	grep -q '^GUEST-INIT-OK-42 .* cpus=2$' "$f-pvh.txt"; result pvh-smp2-init-marker $? $d
	grep -q '^kvmlite: guest powered off (ACPI S5)$' "$f-pvh.txt"; result pvh-poweroff-via-acpi $? $d
	grep -q "^RUNNER-$d-input-EXIT=0$" "$f-input.txt"; result input-exit0 $? $d
	grep -q '^GUEST-GOT-\[hello from the host\]$' "$f-input.txt"; result input-line-received $? $d
done
[ "$vmrc" = 0 ]; result vmtest-clean $? host
grep -h '^RUNNER-.*-WALL=' "$log.txt" || true
exit $failed
