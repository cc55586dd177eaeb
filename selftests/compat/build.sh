#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the upstream KVM selftests listed in selftests/compat/tests.txt from
# Debian's linux-source-6.1 (extracted by scripts/deps), unmodified, as static
# binaries.  uapi headers: the system's /usr/include (linux-libc-dev 6.1).
# Output: build/compat/bin/<test> (stripped), tests.txt and run.sh beside them:
# the directory scripts/compat copies to /compat in the emulated host.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
ksft=$top/build/cache/linux-source-6.1/tools/testing/selftests/kvm
out=$top/build/compat
list=$top/selftests/compat/tests.txt

"$top/scripts/deps"
[ -f "$ksft/Makefile" ] || { echo "compat: no $ksft" >&2; exit 1; }

tests=$(sed -e 's/#.*//' "$list" | awk 'NF && $1 !~ /^\[/ { sub(/@.*/, "", $1); if (!seen[$1]++) print $1 }')
# The upstream Makefile (lib.mk) with everything pointed at build/compat;
# the source tree stays untouched.  Debian's 6.1.y backports need two
# definitions its selftest library lacks: ksft_compat.h supplies them.
make -s -C "$ksft" -j"$(nproc)" OUTPUT="$out/obj" \
	LINUX_HDR_PATH=/usr/include/ KHDR_INCLUDES= \
	EXTRA_CFLAGS="-include $top/selftests/compat/ksft_compat.h" \
	LDFLAGS="-static -pthread -no-pie" \
	TEST_GEN_PROGS_x86_64="$tests" TEST_GEN_PROGS_EXTENDED_x86_64= \
	2> >(grep -v 'statically linked applications requires at runtime' >&2)

mkdir -p "$out/bin"
for t in $tests; do
	b=$out/bin/$(basename "$t")
	if [ ! -e "$b" ] || [ "$out/obj/$t" -nt "$b" ]; then
		strip -o "$b" "$out/obj/$t"
	fi
done
cp "$list" "$top/selftests/compat/run.sh" "$top/selftests/compat/ioctls.awk" "$out/bin/"

# For scripts/compat --trace: Debian's strace with its shared libraries and
# loader, run in the emulated host as trace/ld.so --library-path trace ...
tr=$out/bin/trace
if [ ! -x "$tr/strace" ] || [ /usr/bin/strace -nt "$tr/strace" ]; then
	rm -rf "$tr"
	mkdir -p "$tr"
	cp /usr/bin/strace "$tr/strace"
	"$top/scripts/bundle" --list /usr/bin/strace |
	while read -r l; do
		case "$l" in
		*ld-linux*) cp -L "$l" "$tr/ld.so" ;;
		*) cp -L "$l" "$tr/" ;;
		esac
	done
fi
