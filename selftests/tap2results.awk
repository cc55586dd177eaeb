# SPDX-License-Identifier: GPL-2.0
# kselftest TAP output -> "RESULT <device> <binary>.<case> pass|fail|skip".
# Variables: dev, t (binary name), rc (its exit status).
/^ok [0-9]+ / { st = ($0 ~ /# SKIP/) ? "skip" : "pass"; print "RESULT " dev " " t "." $3 " " st; n++ }
/^not ok [0-9]+ / { print "RESULT " dev " " t "." $4 " fail"; n++; f++ }
END {
	if (rc != 0 && f == 0) print "RESULT " dev " " t ".exit-status-" rc " fail"
	if (n == 0 && rc == 0) print "RESULT " dev " " t ".no-tests fail"
}
