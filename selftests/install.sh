#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make install and make uninstall into a scratch DESTDIR, for the 6.1
# kernel line: every file where it belongs with its mode, nothing else
# installed, no depmod output (DESTDIR set), then nothing left after
# uninstall but empty directories.
#   selftests/install.sh
# Prints "RESULT host install.<case> pass|fail"; status 1 on a failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/build/cache/kernels.env"
failed=0
res() { # res NAME OK
	if [ "$2" = 1 ]; then echo "RESULT host install.$1 pass"
	else echo "RESULT host install.$1 fail"; failed=1; fi
}

d=$(mktemp -d "${TMPDIR:-/tmp}/kvmlite-install.XXXXXX")
trap 'rm -rf "$d"' EXIT
mk() { make -s -C "$top" --no-print-directory KVER="$KVER_6_1" DESTDIR="$d" "$@"; }

ok=0
mk install > "$d.log" 2>&1 && ok=1
[ $ok = 1 ] || cat "$d.log"
rm -f "$d.log"
res make-install "$ok"

# path mode, as make install should leave them
want="lib/modules/$KVER_6_1/updates/kvmlite.ko 644
usr/local/bin/kvmlite 755
usr/local/share/man/man1/kvmlite.1 644
etc/udev/rules.d/60-kvmlite.rules 644
etc/modules-load.d/kvmlite.conf 644"
got=$(cd "$d" && find . ! -type d -printf '%P %m\n' | sort)
ok=1
[ "$got" = "$(echo "$want" | sort)" ] || {
	ok=0; echo "# installed:"; echo "$got" | sed 's/^/#   /'; }
res files-and-modes "$ok"

# The Makefile's own list (what uninstall removes) is the same set.
ok=0
[ "$(mk print-install-files | tr ' ' '\n' | sed 's,^/,,' | sort)" = \
  "$(echo "$want" | cut -d' ' -f1 | sort)" ] && ok=1
res uninstall-list "$ok"

ok=0
vm=$(modinfo -F vermagic "$d/lib/modules/$KVER_6_1/updates/kvmlite.ko" 2>/dev/null)
[ "${vm%% *}" = "$KVER_6_1" ] && ok=1
echo "# vermagic: $vm"
res module-vermagic "$ok"

ok=0
"$d/usr/local/bin/kvmlite" --help | grep -q '^usage: kvmlite run' && ok=1
res runner-runs "$ok"

ok=0
cmp -s "$top/Documentation/kvmlite.1" "$d/usr/local/share/man/man1/kvmlite.1" &&
	cmp -s "$top/scripts/60-kvmlite.rules" "$d/etc/udev/rules.d/60-kvmlite.rules" &&
	grep -qx kvmlite "$d/etc/modules-load.d/kvmlite.conf" && ok=1
res contents "$ok"

ok=0
mk uninstall > /dev/null 2>&1 && [ -z "$(find "$d" ! -type d)" ] && ok=1
[ $ok = 1 ] || find "$d" ! -type d | sed 's/^/# left: /'
res make-uninstall "$ok"
# DKMS=1: the same without the module (DKMS owns it); uninstall clears it all.
ok=0
mk install DKMS=1 > /dev/null 2>&1 &&
	[ "$(cd "$d" && find . ! -type d -printf '%P %m\n' | sort)" = \
	  "$(echo "$want" | grep -v kvmlite.ko | sort)" ] &&
	mk uninstall > /dev/null 2>&1 && [ -z "$(find "$d" ! -type d)" ] && ok=1
res dkms-variant "$ok"
exit $failed
