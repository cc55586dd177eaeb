#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The runner's command line, on this machine (no KVM device needed: every
# case fails, or prints help, before a VM is created).
#   selftests/runner/cli.sh RUNNER [BZIMAGE]
# Prints "RESULT host runner_cli.<case> pass|fail"; status 1 on a failure.
set -u
k=$1 bz=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

t() { # t NAME WANT_RC WANT_STDERR_SUBSTRING ARGS...
	local name=$1 want=$2 msg=$3 rc r=pass
	shift 3
	"$k" "$@" > "$tmp/out" 2> "$tmp/err" < /dev/null
	rc=$?
	if [ "$rc" != "$want" ] || ! grep -qF -- "$msg" "$tmp/err"; then
		r=fail
		failed=1
		echo "# $name: rc $rc (want $want), stderr: $(head -c 300 "$tmp/err")"
	fi
	echo "RESULT host runner_cli.$name $r"
}

"$k" --help > "$tmp/help" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q -- '--kernel BZIMAGE' "$tmp/help"; then r=pass; else r=fail; failed=1; fi
echo "RESULT host runner_cli.help $r"

t no-command 2 "unknown command" 
t bad-command 2 "unknown command 'frob'" frob
t nothing-to-run 2 "nothing to run" run
t missing-value 2 "--kernel needs a value" run --kernel
t unknown-option 2 "unknown option '--bogus'" run --bogus
t bad-mem-suffix 2 "--mem: bad size" run --mem 12Q x.bin
t bad-mem-zero 2 "--mem: bad size" run --mem 0 x.bin
t bad-mem-unaligned 2 "--mem: bad size" run --mem 1001K x.bin
t mem-too-small-for-linux 2 "at least 32M" run --kernel k --mem 16M
t bad-cpus 2 "--cpus" run --cpus 65 --kernel k
t sandbox-bad-mode 2 "--sandbox: 'maybe' is not on, strict or off" run --sandbox maybe --kernel k
t sandbox-off-with-user 2 "need the sandbox" run --sandbox off --user nobody --kernel k
t sandbox-group-without-user 2 "--group needs --user" run --group nogroup --kernel k
t sandbox-unknown-user 1 "--user: no user 'no-such-user-kvl'" run --user no-such-user-kvl --kernel k
t sandbox-user-root 1 "is root" run --user root --kernel k
t sandbox-chroot-not-dir 1 "--chroot: /nonexistent-kvl is not a directory" run --chroot /nonexistent-kvl --kernel k
# The escape hook exists only in runner/kvmlite-test.
t ctl-no-test-hook 2 "unknown command 'test-escape'" ctl "$tmp/sock" test-escape open
t bad-console 2 "--console" run --console vga --kernel k
t bad-disk-format 2 "--disk: unknown format 'vmdk'" run --kernel k --disk d.img,format=vmdk
t bad-disk-option 2 "--disk: unknown option 'rw'" run --kernel k --disk d.img,rw
t empty-disk 2 "--disk: no file" run --kernel k --disk ,readonly
t too-many-disks 2 "at most 8 disks" run --kernel k $(for i in 1 2 3 4 5 6 7 8 9; do echo --disk d$i; done)
t disk-without-kernel 2 "need --kernel" run --disk d.img x.bin
t virtio-console-without-kernel 2 "need --kernel" run --console virtio x.bin
t kernel-and-image 2 "exclude each other" run --kernel k x.bin
t initrd-without-kernel 2 "need --kernel" run --initrd i x.bin
t missing-kernel 1 "No such file" run --kernel "$tmp/none"
t unknown-device 2 "--device: unknown device 'frob'" run --kernel k --device frob
t unknown-device-option 2 "--device virtio-rng: unknown option 'x=1'" run --kernel k --device virtio-rng,x=1
t device-flag-with-value 2 "option 'readonly' takes no value" run --kernel k --device virtio-blk,file=d,readonly=1
t device-key-without-value 2 "option 'tap' needs a value" run --kernel k --device virtio-net,tap
t device-bad-value 2 "--device virtio-blk: unknown format 'vmdk'" run --kernel k --device virtio-blk,file=d,format=vmdk
t device-without-kernel 2 "need --kernel" run --device virtio-rng x.bin
t two-virtio-consoles 2 "only one virtio-console" run --kernel k --console virtio --device virtio-console
t bad-net 2 "--net: 'eth0' is not tap=IFNAME" run --kernel k --net eth0
t empty-ctl 2 "--ctl: empty PATH" run --kernel k --ctl ""
t ctl-no-args 2 "usage: kvmlite ctl" ctl
t ctl-bad-request 2 "unknown command 'frob'" ctl "$tmp/sock" frob
t ctl-bad-key 2 "unknown key 'nope'" ctl "$tmp/sock" key ctrl-nope
t ctl-no-server 1 "$tmp/sock" ctl "$tmp/sock" info
"$k" run --device help > "$tmp/devs" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q "virtio-blk  *file=" "$tmp/devs" && grep -q "virtio-rng" "$tmp/devs"; then
	r=pass; else r=fail; failed=1; fi
echo "RESULT host runner_cli.device-help $r"

head -c 3000 /dev/zero > "$tmp/zeros"
t not-a-bzimage 1 "0xaa55" run --kernel "$tmp/zeros"
# ELF files go to the PVH loader: a static executable without a PVH note
# (the runner itself is position independent now, ET_DYN, refused earlier).
printf 'int main(void) { return 0; }\n' > "$tmp/plain.c"
gcc -static -no-pie -o "$tmp/plain.elf" "$tmp/plain.c"
t elf-without-pvh-note 1 "no XEN_ELFNOTE_PHYS32_ENTRY" run --kernel "$tmp/plain.elf"
t elf-position-independent 1 "not an ELF executable" run --kernel "$k"
head -c 100 "$tmp/plain.elf" > "$tmp/elf-trunc"
t elf-truncated 1 "program header" run --kernel "$tmp/elf-trunc"
if [ -n "$bz" ] && [ -f "$bz" ]; then
	head -c 4000000 "$bz" > "$tmp/trunc"
	t truncated-bzimage 1 "truncated" run --kernel "$tmp/trunc"
	t missing-initrd 1 "No such file" run --kernel "$bz" --initrd "$tmp/none"
	t append-too-long 1 "--append: 3000 bytes" run --kernel "$bz" --append "$(head -c 3000 /dev/zero | tr '\0' a)"
	t missing-device 1 "$tmp/nodev" run --dev "$tmp/nodev" --kernel "$bz"
	t not-a-kvm-device 1 "not a KVM API 12 device" run --dev /dev/null --kernel "$bz"
else
	echo "RESULT host runner_cli.truncated-bzimage skip"
fi
exit $failed
