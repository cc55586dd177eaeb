# SPDX-License-Identifier: GPL-2.0
# strace -f -e trace=ioctl output -> one line per ioctl request and per
# capability queried, for scripts/compat --trace:
#   IOCTL <device> <test> <request> <calls> <failed calls> <errnos,...>
#   CAP <device> <test> <KVM_CAP_...> <value returned>
# Variables: dev, t.
function request(s) {
	if (match(s, /ioctl\([0-9]+, _IOC\([^)]*\)/) ||
	    match(s, /ioctl\([0-9]+, [A-Za-z0-9_]+/)) {
		s = substr(s, RSTART, RLENGTH)
		sub(/^ioctl\([0-9]+, /, "", s)
		gsub(/ /, "", s)
		return s
	}
	return ""
}
{
	pid = $1
	if ($0 ~ /<unfinished \.\.\.>/) {
		pend[pid] = $0
		next
	}
	line = $0
	if ($0 ~ /<\.\.\. ioctl resumed>/) {
		if (!(pid in pend))
			next
		line = pend[pid] " " $0
		delete pend[pid]
	}
	r = request(line)
	if (r == "")
		next
	if (!(r in calls))
		order[++n] = r
	calls[r]++
	if (match(line, /\) += -1 E[A-Z0-9]+/)) {
		e = substr(line, RSTART, RLENGTH)
		sub(/.*-1 /, "", e)
		failed[r]++
		if (index("," errs[r] ",", "," e ",") == 0)
			errs[r] = errs[r] (errs[r] == "" ? "" : ",") e
	}
	if (r == "KVM_CHECK_EXTENSION" && match(line, /KVM_CAP_[A-Z0-9_]+\) += -?[0-9]+/)) {
		c = substr(line, RSTART, RLENGTH)
		v = c
		sub(/\).*/, "", c)
		sub(/.*= */, "", v)
		if (!(c in capv))
			corder[++m] = c
		capv[c] = v
	}
}
END {
	for (i = 1; i <= n; i++)
		print "IOCTL", dev, t, order[i], calls[order[i]], failed[order[i]] + 0,
			(errs[order[i]] == "" ? "-" : errs[order[i]])
	for (i = 1; i <= m; i++)
		print "CAP", dev, t, corder[i], capv[corder[i]]
}
