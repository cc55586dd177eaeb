#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Inside the emulated host: run the upstream KVM selftests in /compat against
# one KVM implementation, reached as /dev/kvm as they expect.
#   run.sh kvmlite [TEST...]   insmod /kvmlite.ko kvm_alias=1 (10:232 is kvmlite's)
#   run.sh kvm [TEST...]       Debian's kvm + kvm-amd or kvm-intel (kvm-load)
# COMPAT_SCALE=N in the environment multiplies every timeout (Bochs).
# With TEST names (a binary's name or <name>@<label>), only those lines of
# tests.txt run.  --trace (first
# argument) runs each test under strace and adds, per test, IOCTL and CAP
# lines (ioctls.awk) to the results channel.
# Per test, on the results channel (/dev/ttyS1):
#   RESULT <device> <test> pass|fail|skip
# (exit 0 pass, 4 = KSFT_SKIP skip, anything else or the timeout: fail).
# A test still running at its timeout gets SIGKILL; one that does not die
# (stuck in the kernel) is left behind and the run goes on.
trace=0
[ "$1" = --trace ] && { trace=1; shift; }
dev=$1
shift
only=" $* "
res=/dev/ttyS1
[ -c "$res" ] || res=/dev/null
dir=/compat
case "$dev" in
kvmlite)
	grep -q '^kvmlite ' /proc/modules && rmmod kvmlite
	insmod /kvmlite.ko kvm_alias=1 || { echo "RESULT $dev load fail" > "$res"; exit 1; }
	;;
kvm)
	kvm-load || { echo "RESULT $dev load fail" > "$res"; exit 1; }
	;;
*)
	echo "usage: run.sh kvmlite|kvm"; exit 2 ;;
esac
[ -c /dev/kvm ] || mknod /dev/kvm c 10 232
# POSIX semaphores (sem_open, hardware_disable_test) live in /dev/shm.
mkdir -p /dev/shm
grep -q ' /dev/shm ' /proc/mounts || mount -t tmpfs shm /dev/shm
ulimit -n 4096 2>/dev/null
sed -e 's/#.*//' "$dir/tests.txt" | while read -r path limit args; do
	case "$path" in "" | "["*) continue ;; esac
	t=${path##*/}
	bin=${t%%@*}
	[ "$only" = "  " ] || case "$only" in *" $t "* | *" $bin "*) ;; *) continue ;; esac
	# COMPAT_SCALE: the Bochs VT-x host runs several times slower than TCG.
	limit=$((limit * ${COMPAT_SCALE:-1}))
	echo "=== compat $t $args on $dev (timeout ${limit}s)"
	start=$(date +%s)
	if [ $trace = 1 ]; then
		set -- "$dir/trace/ld.so" --library-path "$dir/trace" "$dir/trace/strace" \
			-f -qq -e trace=ioctl -e signal=none -o /tmp/trace
	else
		set --
	fi
	rm -f /tmp/trace
	# Straight to the console, a tty: line-buffered, so a test killed at
	# its timeout has still shown how far it got.
	# shellcheck disable=SC2086
	"$@" "$dir/$bin" $args < /dev/null &
	pid=$!
	while kill -0 "$pid" 2>/dev/null &&
	      [ $(( $(date +%s) - start )) -lt "$limit" ]; do
		sleep 1
	done
	note=
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid" 2>/dev/null
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 10 ]; do
			sleep 1; i=$((i + 1))
		done
		if kill -0 "$pid" 2>/dev/null; then
			note="timeout, unkillable"
			rc=137
		else
			wait "$pid" 2>/dev/null
			note="timeout"
			rc=137
		fi
	else
		wait "$pid"
		rc=$?
	fi
	took=$(( $(date +%s) - start ))
	case "$rc" in
	0) st=pass ;;
	4) st=skip ;;
	*) st=fail ;;
	esac
	echo "=== compat $t: $st (exit $rc${note:+, $note}) in ${took}s"
	echo "RESULT $dev $t $st" > "$res"
	[ -f /tmp/trace ] && awk -v dev="$dev" -v t="$t" -f "$dir/ioctls.awk" /tmp/trace > "$res"
	echo "COMPAT-TIME $dev $t ${took}s rc=$rc${note:+ $note}" > "$res"
done
exit 0
