#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run selftest binaries inside the emulated host, first against kvmlite,
# then (after swapping modules with kvm-load) against Debian's /dev/kvm.
#   run.sh [--only kvmlite|kvm] TEST...
# Each test case's outcome goes to the results channel (/dev/ttyS1) as
#   RESULT <device> <binary>.<case> pass|fail|skip
# and the exit status is non-zero if any case failed.
only=
[ "$1" = --only ] && { only=$2; shift 2; }
res=/dev/ttyS1
[ -c "$res" ] || res=/dev/null
failed=0
for dev in kvmlite kvm; do
	[ -n "$only" ] && [ "$only" != "$dev" ] && continue
	if [ "$dev" = kvm ]; then
		if ! kvm-load; then
			echo "run.sh: cannot load Debian's kvm modules"
			echo "RESULT kvm load fail" > "$res"
			failed=1
			continue
		fi
	fi
	for t in "$@"; do
		echo "=== $t on /dev/$dev"
		"/selftests/$t" "/dev/$dev" > /tmp/out 2>&1
		rc=$?
		cat /tmp/out
		awk -v dev="$dev" -v t="$t" -v rc="$rc" -f /selftests/tap2results.awk /tmp/out > /tmp/res
		cat /tmp/res > "$res"
		grep -q ' fail$' /tmp/res && failed=1
	done
done
exit $failed
