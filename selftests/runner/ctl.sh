#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The control socket on a real VM: a Linux kernel with no initramfs (it
# panics and waits, which is all the run needs) started with --ctl; the
# client's commands, their exit statuses, quit, and the socket's removal.
# A second run reuses the path a killed run left behind.
#   selftests/runner/ctl.sh RUNNER KERNEL [KVM-DEVICE]
# Prints "RESULT host runner_ctl.<case> pass|fail"; status 1 on a failure.
set -u
k=$1 bz=$2 dev=${3:-}
tmp=$(mktemp -d)
sock=$tmp/ctl
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
failed=0

res() { # res NAME OK [DETAIL]
	if [ "$2" = 1 ]; then echo "RESULT host runner_ctl.$1 pass"
	else echo "RESULT host runner_ctl.$1 fail"; failed=1; [ -n "${3:-}" ] && echo "# $1: $3"; fi
}

start() {
	"$k" run ${dev:+--dev "$dev"} --kernel "$bz" --mem 128M --append "console=ttyS0 quiet" \
		--ctl "$sock" < /dev/null > "$tmp/out" 2> "$tmp/err" &
	pid=$!
	for _ in $(seq 300); do [ -S "$sock" ] && return 0; sleep 0.1; done
	return 1
}

c() { # c WANT_RC WANT_STDOUT_PREFIX ARGS...: run the client
	local want=$1 pre=$2 rc
	shift 2
	"$k" ctl "$sock" "$@" > "$tmp/reply" 2>&1
	rc=$?
	[ "$rc" = "$want" ] && [ "$(head -c ${#pre} "$tmp/reply")" = "$pre" ]
}

start; res starts $? "no socket; stderr: $(head -c 300 "$tmp/err")"
[ "$(stat -c %a "$sock" 2>/dev/null)" = 600 ]; res mode-0600 $?
c 0 "ok devices:" info; res info $? "$(cat "$tmp/reply")"
c 0 "ok" key ctrl-alt-delete a shift-2; res key $? "$(cat "$tmp/reply")"
c 0 "ok" pointer 10 10 1; res pointer $? "$(cat "$tmp/reply")"
c 2 "" key ctrl-nope; res bad-key-is-usage $? "$(cat "$tmp/reply")"
c 1 "error: no display" screendump "$tmp/s.png"; res screendump-without-display $? "$(cat "$tmp/reply")"
c 0 "ok commands:" help; res help $? "$(cat "$tmp/reply")"
kill -0 "$pid" 2>/dev/null; res still-running $?
c 0 "ok" quit; res quit $? "$(cat "$tmp/reply")"
wait "$pid"; rc=$?; pid=
[ "$rc" = 0 ]; res quit-status-0 $? "status $rc; stderr: $(head -c 300 "$tmp/err")"
[ ! -e "$sock" ]; res socket-removed $?

# A run killed with SIGKILL leaves its socket; the next run replaces it.
start && kill -9 "$pid" && wait "$pid" 2>/dev/null; pid=
[ -S "$sock" ]; res killed-leaves-socket $?
start; res stale-socket-replaced $? "$(head -c 300 "$tmp/err")"
kill -TERM "$pid"; wait "$pid" 2>/dev/null; pid=
[ ! -e "$sock" ]; res sigterm-removes-socket $?
exit $failed
