#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The runner's manual page: it renders without groff warnings, and it
# documents every option that "kvmlite --help" lists.
#   selftests/runner/man.sh RUNNER MANPAGE
# Prints "RESULT host runner_man.<case> pass|fail"; status 1 on a failure.
set -u
k=$1 page=$2
failed=0
res() { # res NAME OK
	if [ "$2" = 1 ]; then echo "RESULT host runner_man.$1 pass"
	else echo "RESULT host runner_man.$1 fail"; failed=1; fi
}

warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
ok=1
if [ -n "$warn" ]; then ok=0; echo "# groff: $warn"; fi
res renders "$ok"

ok=1
for o in $("$k" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	# In roff source a dash in an option is written \-.
	grep -qF -- "${o//-/\\-}" "$page" || { ok=0; echo "# $page does not mention $o"; }
done
res options "$ok"
exit $failed
