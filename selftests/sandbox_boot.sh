#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The runner's sandbox (runner/sandbox.c) against a running Linux guest on
# /dev/kvmlite, nested in the AMD emulated host:
#
#   selftests/sandbox_boot.sh [--results FILE]
#
# runner/kvmlite-test is the runner built with -DKVMLITE_TEST_HOOKS: its
# control socket takes "test-escape open|socket|execve|ptrace", which makes
# the running runner (guest up, set-up over) try open("/etc/shadow"),
# socket(AF_PACKET, SOCK_RAW), execve("/bin/sh") or ptrace(PTRACE_ATTACH,
# its parent).  The guest's /init echoes each line it reads from COM1, so a
# line echoed back proves guest and runner still run.  Five boots:
#   on      the default sandbox: open is refused by Landlock (EACCES) and
#           socket by seccomp (EPERM); the guest still echoes; every thread
#           of the runner shows Seccomp 2, NoNewPrivs 1 and no capability
#           in /proc; a line "poweroff" ends the run with status 0
#   execve  execve ends the run: the runner's SIGSYS message names execve,
#           the status is 1, and the shell never ran
#   ptrace  the same for ptrace
#   user    --user 65534 --chroot /tmp/jail: every thread runs as 65534 in
#           the jail with no capability; the guest still echoes
#   off     --sandbox off, the control: open, socket and ptrace succeed and
#           execve runs the shell (so the hooks really try)
# Each check prints "RESULT kvmlite runner.sandbox-<name> pass|fail" (to
# --results too); the status is 1 if any failed.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
results=
while [ $# -gt 0 ]; do
	case "$1" in
	--results) results=$2; shift 2 ;;
	*) echo "sandbox_boot.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

"$top/scripts/deps" || exit 1
. "$top/build/cache/kernels.env"
make -s -C "$top" runner || exit 1
kernel=$top/build/cache/root/boot/vmlinuz-$KVER_6_1
out=$top/build/sandbox_boot
rm -rf "$out"
mkdir -p "$out"
cat > "$out/init" <<'EOS'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "GUEST-READY-$((6 * 7))"
while read -r line; do
	[ "$line" = poweroff ] && /bin/busybox poweroff -f
	echo "GUEST-ECHO-[$line]"
done
/bin/busybox poweroff -f
EOS
"$top/scripts/mkinitrd" "$out/initrd" "$out/init" || exit 1

cat > "$out/boot.sh" <<'EOS'
R=/bin/kvmlite-test
# A shadow file to aim at (the emulated host's initramfs may have none).
[ -e /etc/shadow ] || { echo 'root:*:20000:0:99999:7:::' > /etc/shadow; chmod 640 /etc/shadow; }
start() { # start NAME RUNNER-ARGS...
	name=$1; shift
	rm -f /tmp/in /tmp/ctl.sock /tmp/out; mkfifo /tmp/in
	timeout 240 $R run --dev /dev/kvmlite --kernel /guest/vmlinuz --initrd /guest/initrd \
		--mem 128M --append "console=ttyS0 quiet" --ctl /tmp/ctl.sock "$@" \
		< /tmp/in > /tmp/out 2>&1 &
	pid=$!
	exec 3> /tmp/in
	waitfor GUEST-READY-42
}
waitfor() { # waitfor PATTERN: up to 120 s
	i=0
	while ! grep -q "$1" /tmp/out && [ $i -lt 600 ]; do sleep 0.2; i=$((i + 1)); done
}
ctl() { echo "CTL-$name: $* -> $($R ctl /tmp/ctl.sock "$@" 2>&1)"; }
alive() { # alive TAG: the guest echoes a line
	echo "$1" >&3
	waitfor "GUEST-ECHO-\[$1\]"
}
threads() { # every thread's credentials, seccomp and capabilities
	for t in /proc/$1/task/*; do
		awk -v n="$name" '/^(Uid|Gid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):/ {
			printf "THREAD-%s %s", n, $1; for (i = 2; i <= NF; i++) printf " %s", $i; print "" }' \
			$t/status
	done
	echo "THREADS-$name $(ls /proc/$1/task | wc -l) root=$(readlink /proc/$1/root)"
}
finish() {
	[ -n "${1:-}" ] && echo "$1" >&3
	wait $pid
	rc=$?
	exec 3>&-
	cat /tmp/out
	echo "RUNNER-$name-EXIT=$rc"
}
# The runner's pid is timeout's child.
runner_pid() { for p in /proc/[0-9]*; do
	[ "$(cat $p/comm 2>/dev/null)" = kvmlite-test ] && { echo ${p#/proc/}; return; }; done; }

start on
alive before
ctl test-escape open
ctl test-escape socket
ctl info
alive after
threads "$(runner_pid)"
finish poweroff

for what in execve ptrace; do
	start $what
	ctl test-escape $what
	# It should be gone; if not, end it (the check then fails on its status).
	i=0
	while kill -0 $pid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
	kill -0 $pid 2>/dev/null && echo poweroff >&3
	finish
done

mkdir -p /tmp/jail
start user --user 65534 --chroot /tmp/jail
threads "$(runner_pid)"
alive jailed
finish poweroff

start off --sandbox off
ctl test-escape open
ctl test-escape socket
ctl test-escape ptrace
ctl test-escape execve
finish
EOS

log=$out/console.log
"$top/scripts/vmtest" --cpu amd --mem 1024 --timeout 600 --log "$log" \
	--add "$kernel:/guest/vmlinuz" --add "$out/initrd:/guest/initrd" \
	--add "$top/runner/kvmlite-test:/bin/kvmlite-test" \
	--add "$out/boot.sh:/guest/boot.sh" -- sh /guest/boot.sh
vmrc=$?
tr -d '\r' < "$log" > "$log.txt"
l=$log.txt

failed=0
result() { # result NAME ok?
	local r=fail
	[ "$2" = 0 ] && r=pass
	[ $r = fail ] && failed=1
	echo "RESULT kvmlite runner.sandbox-$1 $r"
	[ -n "$results" ] && echo "RESULT kvmlite runner.sandbox-$1 $r" >> "$results"
}
caps='Cap(Inh|Prm|Eff|Bnd|Amb): 0000000000000000$'	# no capability at all
msg() { # the SIGSYS handler's line for system call $1
	echo "^kvmlite: sandbox: thread [0-9]* made the forbidden system call $1 ([0-9]*); ending the run$"
}
# on
grep -q '^GUEST-ECHO-\[before\]$' "$l"; result on-guest-runs $?
grep -q '^CTL-on: test-escape open -> ok open: refused: Permission denied$' "$l"
result on-open-etc-shadow-landlock-eacces $?
grep -q '^CTL-on: test-escape socket -> ok socket: refused: Operation not permitted$' "$l"
result on-af-packet-socket-seccomp-eperm $?
grep -q '^GUEST-ECHO-\[after\]$' "$l"; result on-guest-runs-after-refusals $?
n=$(sed -n 's/^THREADS-on \([0-9]*\) .*/\1/p' "$l")
[ "${n:-0}" -ge 3 ] &&
	[ "$(grep -c '^THREAD-on Seccomp: 2$' "$l")" = "$n" ] &&
	[ "$(grep -c '^THREAD-on NoNewPrivs: 1$' "$l")" = "$n" ] &&
	[ "$(grep -c -E "^THREAD-on $caps" "$l")" = $((5 * n)) ]
result on-every-thread-seccomp-nnp-no-caps $?
grep -q '^RUNNER-on-EXIT=0$' "$l" &&
	! sed -n '/^THREADS-on/,/^RUNNER-on-EXIT/p' "$l" | grep -q '^kvmlite: sandbox:'
result on-poweroff-exit0 $?
# execve, ptrace: SIGSYS, the message, status 1
for w in execve ptrace; do
	sec=$(sed -n "/^RUNNER-on-EXIT/,/^RUNNER-$w-EXIT/p" "$l")
	grep -q "$(msg $w)" <<< "$sec" && grep -q "^RUNNER-$w-EXIT=1$" <<< "$sec" &&
		! grep -q SANDBOX-ESCAPED <<< "$sec"
	result $w-sigsys-message-exit1 $?
done
# user: 65534 in /tmp/jail, no capability, the guest runs
n=$(sed -n 's/^THREADS-user \([0-9]*\) .*/\1/p' "$l")
[ "${n:-0}" -ge 3 ] && grep -q '^THREADS-user [0-9]* root=/tmp/jail$' "$l" &&
	[ "$(grep -c '^THREAD-user Uid: 65534 65534 65534 65534$' "$l")" = "$n" ] &&
	[ "$(grep -c '^THREAD-user Gid: 65534 65534 65534 65534$' "$l")" = "$n" ] &&
	[ "$(grep -c -E "^THREAD-user $caps" "$l")" = $((5 * n)) ]
result user-chroot-every-thread $?
grep -q '^GUEST-ECHO-\[jailed\]$' "$l" && grep -q '^RUNNER-user-EXIT=0$' "$l"
result user-guest-runs-exit0 $?
# off: the hooks do get out
grep -q '^CTL-off: test-escape open -> ok open: allowed$' "$l" &&
	grep -q '^CTL-off: test-escape socket -> ok socket: allowed$' "$l" &&
	grep -q '^CTL-off: test-escape ptrace -> ok ptrace: allowed$' "$l" &&
	grep -q '^SANDBOX-ESCAPED-EXECVE$' "$l" && grep -q '^RUNNER-off-EXIT=0$' "$l"
result off-control-escapes-succeed $?
[ "$vmrc" = 0 ]; result vmtest-clean $?
exit $failed
