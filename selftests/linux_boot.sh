#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot Debian's 6.1 kernel with a busybox initramfs through the runner on
# /dev/kvmlite and then on Debian's /dev/kvm, nested in the AMD emulated host:
#
#   selftests/linux_boot.sh [--results FILE]
#
# Seven boots.  In each the guest's /init prints a marker computed at run
# time, then: "poweroff" (1 vCPU) powers off through ACPI S5; "reboot"
# (2 vCPUs, so the APs come up through the MADT) reboots through the
# i8042; "pvh" (2 vCPUs) boots the same kernel as an ELF vmlinux through
# its PVH entry and powers off; "input" prints a prompt, reads a line the host writes to the
# runner's stdin (COM1 receive interrupts) and echoes it before powering
# off; "virtio" (1 vCPU, --disk twice, the second read-only, --rng,
# --console virtio) loads the virtio modules, reads the host's marker from
# /dev/vda and writes its own to sector 1 (checked afterwards from the
# host side), fails to write the read-only /dev/vdb, reads /dev/hwrng, and
# writes to and reads a line from /dev/hvc0, and writes 2 MiB it reads
# back (md5 in the guest and of the image on the host), and reads the
# marker of a third disk, a qcow2 v3 image (/dev/vdc), and writes 320 KiB
# and a marker sector to it: the emulated host sends the image back
# base64 on ttyS1 and the build host checks it with qemu-img; "intx" repeats
# the disk and rng part with pci=nomsi (INTx through the IOAPIC instead of
# MSI-X) and aio=sync (disk.h calls instead of io_uring); "net" gives the
# guest virtio-net on a tap (kvl0, 10.0.2.1 in the emulated host) and
# pings the host three times.
# Each check prints "RESULT kvm runner.linux-<name> pass|fail" (to
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
mkdir -p "$out"
mods=$top/build/cache/root/lib/modules/$KVER_6_1/kernel/drivers
cat > "$out/init" <<'EOS'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
n=$(/bin/busybox grep -c ^processor /proc/cpuinfo)
echo "GUEST-INIT-OK-$((6 * 7)) kernel=$(/bin/busybox uname -r) cpus=$n"
case "$(/bin/busybox cat /proc/cmdline)" in
*kvl.reboot*)
	# The timer: each line carries the guest's uptime, and the host
	# stamps it with its own as it arrives.
	read -r g rest < /proc/uptime; echo "GUEST-SLEEP-START GUEST-UPTIME=$g"
	/bin/busybox sleep 5
	read -r g rest < /proc/uptime; echo "GUEST-SLEEP-END GUEST-UPTIME=$g"
	/bin/busybox reboot -f ;;
*kvl.input*)
	echo "GUEST-READY"
	read -r line
	echo "GUEST-GOT-[$line]"
	/bin/busybox poweroff -f ;;
*kvl.net*)
	B=/bin/busybox
	for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
		failover net_failover virtio_net; do
		$B insmod /lib/modules/$m.ko || echo "GUEST-INSMOD-FAILED-$m"
	done
	$B ip link set eth0 up
	$B ip addr add 10.0.2.15/24 dev eth0
	$B ping -c 3 -W 10 10.0.2.1
	echo "GUEST-PING-EXIT=$?"
	$B poweroff -f ;;
*kvl.virtio*|*kvl.intx*)
	B=/bin/busybox
	$B mount -t sysfs sys /sys
	$B mount -t devtmpfs dev /dev
	for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
		virtio_blk virtio_console virtio-rng; do
		$B insmod /lib/modules/$m.ko || echo "GUEST-INSMOD-FAILED-$m"
	done
	i=0
	while [ ! -b /dev/vdb ] && [ $i -lt 50 ]; do $B sleep 0.1; i=$((i + 1)); done
	echo "GUEST-VDA-[$($B dd if=/dev/vda bs=512 count=1 2>/dev/null | $B head -c 20)]"
	echo "GUEST-WROTE-VDA-$((1000 + 337))" | $B dd of=/dev/vda bs=512 seek=1 conv=sync,fsync 2>/dev/null
	echo "GUEST-VDA-WRITE-EXIT=$?"
	echo "GUEST-MUST-NOT-LAND" | $B dd of=/dev/vdb bs=512 seek=1 conv=sync,fsync 2>/dev/null
	echo "GUEST-VDB-WRITE-EXIT=$?"
	echo "GUEST-VDB-[$($B dd if=/dev/vdb bs=512 count=1 2>/dev/null | $B head -c 20)]"
	# 2 MiB at 1 MiB: many requests in flight; read back past the page cache.
	$B dd if=/dev/urandom of=/bulk bs=65536 count=32 2>/dev/null
	echo "GUEST-BULK-MD5=$($B md5sum < /bulk | $B cut -c1-32)"
	$B dd if=/bulk of=/dev/vda bs=65536 seek=16 conv=fsync 2>/dev/null
	echo 3 > /proc/sys/vm/drop_caches
	echo "GUEST-BULK-READBACK=$($B dd if=/dev/vda bs=65536 skip=16 count=32 2>/dev/null | $B md5sum | $B cut -c1-32)"
	echo "GUEST-RNG-$($B cat /sys/class/misc/hw_random/rng_current)-$($B dd if=/dev/hwrng bs=32 count=1 2>/dev/null | $B od -An -tx1 | $B tr -d ' \n')"
	echo "GUEST-IRQ-$($B grep -c -E 'PCI-MSI.*virtio' /proc/interrupts)-msi"
	case "$(/bin/busybox cat /proc/cmdline)" in
	*kvl.virtio*)
		# The third disk is a qcow2 image: read the host's marker, write
		# 320 KiB at 1 MiB + 12 KiB (partial clusters at both ends) and a
		# marker in sector 3; the host checks the image after the run.
		i=0
		while [ ! -b /dev/vdc ] && [ $i -lt 50 ]; do $B sleep 0.1; i=$((i + 1)); done
		echo "GUEST-VDC-[$($B dd if=/dev/vdc bs=512 count=1 2>/dev/null | $B head -c 24)]"
		$B dd if=/dev/urandom of=/qbulk bs=65536 count=5 2>/dev/null
		echo "GUEST-QBULK-MD5=$($B md5sum < /qbulk | $B cut -c1-32)"
		$B dd if=/qbulk of=/dev/vdc bs=4096 seek=259 conv=fsync 2>/dev/null
		echo "GUEST-QBULK-WRITE-EXIT=$?"
		echo "GUEST-WROTE-VDC-$((1000 + 337))" | $B dd of=/dev/vdc bs=512 seek=3 conv=sync,fsync 2>/dev/null
		echo "GUEST-VDC-WRITE-EXIT=$?"
		echo 3 > /proc/sys/vm/drop_caches
		echo "GUEST-QBULK-READBACK=$($B dd if=/dev/vdc bs=4096 skip=259 count=80 2>/dev/null | $B md5sum | $B cut -c1-32)"
		echo "GUEST-HVC-OUT-$((6 * 7))" > /dev/hvc0
		$B stty -echo < /dev/hvc0	# the tty's echo would race COM1's lines on stdout
		echo "GUEST-HVC-READY"
		read -r line < /dev/hvc0
		echo "GUEST-HVC-GOT-[$line]" ;;
	esac
	$B sync
	$B poweroff -f ;;
*) /bin/busybox poweroff -f ;;
esac
EOS
# Debian builds the virtio drivers as modules: they go in, in load order.
"$top/scripts/mkinitrd" "$out/initrd" "$out/init" --mods "virtio/virtio_ring virtio/virtio
	virtio/virtio_pci_legacy_dev virtio/virtio_pci_modern_dev virtio/virtio_pci block/virtio_blk
	char/virtio_console char/hw_random/virtio-rng ../net/core/failover net/net_failover
	net/virtio_net" || exit 1
# The same kernel as an ELF vmlinux, booted through its PVH entry point.
"$top/build/cache/linux-source-6.1/scripts/extract-vmlinux" "$kernel" > "$out/vmlinux" || exit 1

# A qcow2 v3 image per column (4 MiB, 64 KiB clusters, only its first one
# allocated), with the host's marker in sector 0.
for d in kvmlite kvm; do
	printf 'HOST-QCOW2-%s' "$d" > "$out/q-$d.raw"
	truncate -s 4M "$out/q-$d.raw"
	qemu-img convert -q -f raw -O qcow2 -o compat=1.1 "$out/q-$d.raw" "$out/q-$d.qcow2" || exit 1
done

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
insmod /guest/tun.ko || echo "HOST-NO-TUN"
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
	# virtio: two disks (the second read-only), rng, console on hvc0
	for mode in virtio intx; do
		printf 'HOST-DISK-%s' "$dev" > /tmp/a.img; dd if=/dev/zero of=/tmp/a.img bs=1M seek=4 count=0 2>/dev/null
		printf 'HOST-RODISK-%s' "$dev" > /tmp/b.img; dd if=/dev/zero of=/tmp/b.img bs=1M seek=4 count=0 2>/dev/null
		rm -f /tmp/in; mkfifo /tmp/in
		# intx also takes the synchronous disk path, virtio io_uring
		extra=; aio=io_uring; [ $mode = intx ] && extra=" pci=nomsi" && aio=sync
		# virtio also gets this column's qcow2 image as a third disk
		qdisk=; [ $mode = virtio ] && cp /guest/q-$dev.qcow2 /tmp/q.qcow2 &&
			qdisk="--disk /tmp/q.qcow2,format=qcow2"
		t0=$(up)
		timeout 240 kvmlite run --dev /dev/$dev --kernel /guest/vmlinuz --initrd /guest/initrd \
			--mem 256M --append "console=ttyS0 quiet kvl.$mode$extra" --console virtio --rng \
			--disk /tmp/a.img,format=raw,aio=$aio --disk /tmp/b.img,readonly $qdisk < /tmp/in > /tmp/out 2>&1 &
		pid=$!
		exec 3> /tmp/in
		i=0
		while [ $mode = virtio ] && ! grep -q GUEST-HVC-READY /tmp/out && [ $i -lt 1200 ]; do
			sleep 0.2; i=$((i + 1)); done
		echo "hello via hvc0" >&3
		wait $pid
		rc=$?
		exec 3>&-
		cat /tmp/out
		echo "RUNNER-$dev-$mode-SECTOR1=$(dd if=/tmp/a.img bs=512 skip=1 count=1 2>/dev/null | head -c 20)"
		echo "RUNNER-$dev-$mode-ROSECTOR1=$(dd if=/tmp/b.img bs=512 skip=1 count=1 2>/dev/null | tr -d '\0' | head -c 20)"
		echo "RUNNER-$dev-$mode-BULK-MD5=$(dd if=/tmp/a.img bs=65536 skip=16 count=32 2>/dev/null | md5sum | cut -c1-32)"
		echo "RUNNER-$dev-$mode-EXIT=$rc"
		# The image goes back to the build host through ttyS1, base64.
		[ -n "$qdisk" ] && { echo "QCOW2-IMAGE-BEGIN-$dev"; base64 /tmp/q.qcow2; echo "QCOW2-IMAGE-END-$dev"; } > /dev/ttyS1
		echo "RUNNER-$dev-$mode-WALL=$(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')s"
	done
	# net: virtio-net on tap kvl0, the host at 10.0.2.1, the guest pings it
	t0=$(up)
	timeout 240 kvmlite run --dev /dev/$dev --kernel /guest/vmlinuz --initrd /guest/initrd \
		--mem 256M --append "console=ttyS0 quiet kvl.net" --net tap=kvl0 < /dev/null &
	pid=$!
	i=0
	while [ ! -e /sys/class/net/kvl0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	ip link set kvl0 up && ip addr add 10.0.2.1/24 dev kvl0
	wait $pid
	echo "RUNNER-$dev-net-EXIT=$?"
	echo "RUNNER-$dev-net-WALL=$(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')s"
done
EOS

log=$out/console.log
# One TCG thread per CPU here: with one for all, the nested kvm-amd SMP guest
# never finishes booting (kvmlite's does).
"$top/scripts/vmtest" --cpu amd --mttcg --mem 2048 --timeout 900 --log "$log" \
	--results "$out/ttyS1.txt" --add "$out/q-kvmlite.qcow2:/guest/q-kvmlite.qcow2" \
	--add "$out/q-kvm.qcow2:/guest/q-kvm.qcow2" --add "$kernel:/guest/vmlinuz" --add "$out/initrd:/guest/initrd" \
	--add "$out/vmlinux:/guest/vmlinux" --add "$out/boot.sh:/guest/boot.sh" --add "$mods/net/tun.ko:/guest/tun.ko" -- sh /guest/boot.sh
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
	for m in poweroff reboot pvh input virtio intx net; do section $d-$m > "$out/$d-$m.txt"; done
	f=$out/$d
	grep -q "^RUNNER-$d-poweroff-EXIT=0$" "$f-poweroff.txt"; result poweroff-exit0 $? $d
	grep -q '^GUEST-INIT-OK-42 .* cpus=1$' "$f-poweroff.txt"; result poweroff-init-marker $? $d
	grep -q '^kvmlite: guest powered off (ACPI S5)$' "$f-poweroff.txt"; result poweroff-via-acpi $? $d
	grep -q "^RUNNER-$d-reboot-EXIT=0$" "$f-reboot.txt"; result reboot-exit0 $? $d
	grep -q '^GUEST-INIT-OK-42 .* cpus=2$' "$f-reboot.txt"; result reboot-smp2-init-marker $? $d
	grep -q '^kvmlite: guest reset the machine (i8042): reboot$' "$f-reboot.txt"; result reboot-via-i8042 $? $d
	# The SMP guest's clock against the emulated host's over a "sleep 5":
	# the two spans agree within 10% (the guest's time runs at the host's
	# rate), the sleep is not short, and not more than 50% late (a wake-up
	# delayed by a busy machine is in both spans; see testing.rst).
	awk '/^GUEST-SLEEP-(START|END) GUEST-UPTIME=/ {
		split($2, g, "="); split($3, h, "=")
		if ($1 == "GUEST-SLEEP-START") { g0 = g[2]; h0 = h[2] } else { g1 = g[2]; h1 = h[2] } }
	     END { if (g0 == "" || g1 == "" || h0 == "" || h1 == "") exit 1
		   gd = g1 - g0; hd = h1 - h0
		   printf "guest sleep 5: %.2f s by the guest clock, %.2f s by the host\n", gd, hd > "/dev/stderr"
		   exit !(gd >= 4.98 && hd <= 7.5 && gd >= 0.9 * hd && gd <= 1.1 * hd) }' "$f-reboot.txt"
	result reboot-smp2-guest-clock-within-10pct $? $d
	grep -q "^RUNNER-$d-pvh-EXIT=0$" "$f-pvh.txt"; result pvh-exit0 $? $d
	grep -q '^GUEST-INIT-OK-42 .* cpus=2$' "$f-pvh.txt"; result pvh-smp2-init-marker $? $d
	grep -q '^kvmlite: guest powered off (ACPI S5)$' "$f-pvh.txt"; result pvh-poweroff-via-acpi $? $d
	grep -q "^RUNNER-$d-input-EXIT=0$" "$f-input.txt"; result input-exit0 $? $d
	grep -q '^GUEST-GOT-\[hello from the host\]$' "$f-input.txt"; result input-line-received $? $d
	for m in virtio intx; do
		g=$f-$m.txt
		grep -q "^RUNNER-$d-$m-EXIT=0$" "$g"; result $m-exit0 $? $d
		grep -q "^GUEST-VDA-\[HOST-DISK-$d\]$" "$g"; result $m-blk-read $? $d
		grep -q "^GUEST-VDA-WRITE-EXIT=0$" "$g" &&
			grep -q "^RUNNER-$d-$m-SECTOR1=GUEST-WROTE-VDA-1337$" "$g"; result $m-blk-write $? $d
		grep -q "^GUEST-VDB-WRITE-EXIT=[1-9]" "$g" && grep -q "^GUEST-VDB-\[HOST-RODISK-$d\]$" "$g" &&
			grep -q "^RUNNER-$d-$m-ROSECTOR1=$" "$g"; result $m-blk-readonly $? $d
		sum=$(sed -n 's/^GUEST-BULK-MD5=\([0-9a-f]\{32\}\)$/\1/p' "$g")
		[ -n "$sum" ] && grep -q "^GUEST-BULK-READBACK=$sum$" "$g" &&
			grep -q "^RUNNER-$d-$m-BULK-MD5=$sum$" "$g"; result $m-blk-bulk-2m $? $d
		grep -E -q '^GUEST-RNG-virtio_rng\.0-[0-9a-f]{64}$' "$g" &&
			! grep -q '^GUEST-RNG-.*-0\{64\}$' "$g"; result $m-rng $? $d
		! grep -q -e 'GUEST-INSMOD-FAILED' -e 'device needs reset' "$g"; result $m-clean $? $d
	done
	grep -q '^GUEST-IRQ-[1-9][0-9]*-msi$' "$f-virtio.txt"; result virtio-msix $? $d
	grep -q '^GUEST-IRQ-0-msi$' "$f-intx.txt"; result intx-no-msi $? $d
	grep -q "^RUNNER-$d-net-EXIT=0$" "$f-net.txt"; result net-exit0 $? $d
	grep -q '^GUEST-PING-EXIT=0$' "$f-net.txt" &&
		grep -q ' 3 packets received' "$f-net.txt"; result net-ping-host $? $d
	# qcow2: the image the emulated host sent back, checked here by qemu-img
	g=$f-virtio.txt q=$out/back-$d.qcow2
	rm -f "$q" "$q.raw"
	tr -d '\r' < "$out/ttyS1.txt" | sed -n "/^QCOW2-IMAGE-BEGIN-$d\$/,/^QCOW2-IMAGE-END-$d\$/p" |
		sed '1d;$d' | base64 -d > "$q" 2>/dev/null
	grep -q "^GUEST-VDC-\[HOST-QCOW2-$d\]$" "$g"; result virtio-qcow2-guest-read $? $d
	[ -s "$q" ] && qemu-img check -f qcow2 "$q" > "$q.check" 2>&1 &&
		grep -q '^No errors were found on the image\.$' "$q.check"; result virtio-qcow2-qemu-img-check $? $d
	sum=$(sed -n 's/^GUEST-QBULK-MD5=\([0-9a-f]\{32\}\)$/\1/p' "$g")
	[ -s "$q" ] && qemu-img convert -q -f qcow2 -O raw "$q" "$q.raw" && [ -n "$sum" ] &&
		grep -q '^GUEST-QBULK-WRITE-EXIT=0$' "$g" && grep -q '^GUEST-VDC-WRITE-EXIT=0$' "$g" &&
		grep -q "^GUEST-QBULK-READBACK=$sum$" "$g" &&
		[ "$(dd if="$q.raw" bs=4096 skip=259 count=80 2>/dev/null | md5sum | cut -c1-32)" = "$sum" ] &&
		[ "$(head -c 32 "$q.raw" | tr -d '\0')" = "HOST-QCOW2-$d" ] &&
		[ "$(dd if="$q.raw" bs=512 skip=3 count=1 2>/dev/null | head -c 20)" = GUEST-WROTE-VDC-1337 ] &&
		[ "$(stat -c %s "$q.raw")" = 4194304 ] &&
		cmp -s <(tail -c +2049 "$q.raw" | head -c $((259 * 4096 - 2048))) <(head -c $((259 * 4096 - 2048)) /dev/zero) &&
		cmp -s <(tail -c +$((339 * 4096 + 1)) "$q.raw") <(head -c $((4194304 - 339 * 4096)) /dev/zero)
	result virtio-qcow2-data $? $d
	grep -q '^GUEST-HVC-OUT-42' "$f-virtio.txt"; result virtio-hvc0-write $? $d
	grep -q 'GUEST-HVC-GOT-\[hello via hvc0\]$' "$f-virtio.txt"; result virtio-hvc0-read $? $d
done
[ "$vmrc" = 0 ]; result vmtest-clean $? host
grep -h '^RUNNER-.*-WALL=' "$log.txt" || true
exit $failed
