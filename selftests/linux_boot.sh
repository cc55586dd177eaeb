#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot Debian's 6.1 kernel with a busybox initramfs through the runner on
# Debian's /dev/kvm, nested in the AMD emulated host:
#
#   selftests/linux_boot.sh [--cpus N] [--results FILE]
#
# The guest's /init prints a marker computed at run time and powers off
# (ACPI S5); then it reboots through the i8042 in a second run.  Each
# check prints "RESULT host runner.<name> pass|fail" (to --results too);
# the status is 1 if any failed.  Wall times of the boots are printed.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cpus=1 results=
while [ $# -gt 0 ]; do
	case "$1" in
	--cpus) cpus=$2; shift 2 ;;
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
*kvl.reboot*) /bin/busybox reboot -f ;;
*) /bin/busybox poweroff -f ;;
esac
EOS
chmod +x "$out/root/init"
(cd "$out/root" && find . | cpio -o -H newc --quiet) > "$out/initrd"

# In the emulated host: load Debian's kvm, boot twice, report each status.
cat > "$out/boot.sh" <<EOS
kvm-load || exit 1
for mode in poweroff reboot; do
	extra=; [ \$mode = reboot ] && extra=kvl.reboot
	t0=\$(cut -d' ' -f1 /proc/uptime)
	kvmlite run --dev /dev/kvm --kernel /guest/vmlinuz --initrd /guest/initrd \
		--mem 256M --cpus $cpus --append "console=ttyS0 quiet \$extra" < /dev/null
	rc=\$?
	t1=\$(cut -d' ' -f1 /proc/uptime)
	echo "RUNNER-\$mode-EXIT=\$rc"
	echo "RUNNER-\$mode-WALL=\$(awk -v a=\$t0 -v b=\$t1 'BEGIN { printf "%.1f", b - a }')s"
done
EOS

log=$out/console.log
"$top/scripts/vmtest" --cpu amd --mem 2048 --log "$log" \
	--add "$kernel:/guest/vmlinuz" --add "$out/initrd:/guest/initrd" \
	--add "$out/boot.sh:/guest/boot.sh" -- sh /guest/boot.sh
vmrc=$?
tr -d '\r' < "$log" > "$log.txt"

failed=0
result() { # result NAME ok?
	local r=fail
	[ "$2" = 0 ] && r=pass
	[ $r = fail ] && failed=1
	echo "RESULT host runner.$1 $r"
	[ -n "$results" ] && echo "RESULT host runner.$1 $r" >> "$results"
}
marker() { # the marker line of the boot ending in RUNNER-$1-EXIT
	awk -v m="RUNNER-$1-EXIT" '/^GUEST-INIT-OK-42 /{ok=1} index($0, m) == 1 { print ok + 0; exit }' "$log.txt"
}
grep -q '^RUNNER-poweroff-EXIT=0$' "$log.txt"; result linux-poweroff-exit0 $?
[ "$(marker poweroff)" = 1 ]; result linux-poweroff-init-marker $?
[ "$(grep -c '^GUEST-INIT-OK-42 ' "$log.txt")" = 2 ]; result linux-reboot-init-marker $?
grep -q '^RUNNER-reboot-EXIT=0$' "$log.txt"; result linux-reboot-exit0 $?
grep -q "^GUEST-INIT-OK-42 .* cpus=$cpus\$" "$log.txt"; result linux-cpus-$cpus $?
[ "$vmrc" = 0 ]; result linux-vmtest-clean $?
grep -h '^RUNNER-.*-WALL=' "$log.txt"
exit $failed
