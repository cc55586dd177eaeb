#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The VNC server with real Debian clients, on this machine (no VM): the
# server runs in build/host/runner/vnc_synth (selftests/runner/vnc_synth.c,
# a synthetic display and input device under ASan + UBSan) on 127.0.0.1:
#
#   selftests/runner/vnc_clients.sh [SYNTH]
#
#   vncsnapshot   one encoding at a time (Raw, Hextile, ZRLE, Tight without
#                 JPEG; its output is always a JPEG file, written at quality
#                 100: compared within 1 level per channel), VNC password
#   gvnccapture   a PNG, pixel-exact, of every surface format the console
#                 takes (xrgb8888, rgb888, rgb565, rgb555, pal8, text); VNC
#                 password (typed on a tty through script(1)); VeNCrypt
#                 X509None and X509Vnc with the CA in ~/.pki/CA, with a client
#                 certificate (x509verify); SASL DIGEST-MD5 and X509SASL SCRAM
#   vncviewer     TigerVNC under Xvfb: Tight (lossless, then JPEG), ZRLE,
#                 Hextile, Raw, full colour pixel-exact; 256 and 64 colours
#                 and a 16-bit X server within quantisation; keys typed with
#                 xdotool arrive as XT scancodes; a click at the right pixel;
#                 a mode change resizes the window; a damaged box updates;
#                 VncAuth, X509None, X509Vnc (no SASL in TigerVNC 1.12)
#   noVNC         vnc_lite.html in headless Chromium driven over the DevTools
#                 protocol (selftests/runner/novnc_cdp.py): the canvas pixel
#                 for pixel, keys, a click, a mode change; ws, ws with a VNC
#                 password, and wss (page over https; Chromium trusts only the
#                 test server's key: --ignore-certificate-errors-spki-list)
#
# Prints TAP ("ok N name", "not ok N name", "ok N name # SKIP why", "# ..."
# diagnostics); status 1 if any check failed.  Everything it starts is
# killed on exit; about 2 minutes.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
synth=${1:-$top/build/host/runner/vnc_synth}
here=$top/selftests/runner
PY=/usr/bin/python3
tmp=$(mktemp -d /tmp/vnc_clients.XXXXXX)
# Leaks inside the crypto and SASL libraries (their plugins' global state) are not ours.
printf 'leak:%s\n' libcrypto.so libsasl2.so libgnutls.so libp11-kit.so > "$tmp/lsan.supp"
export LSAN_OPTIONS=suppressions=$tmp/lsan.supp
export UBSAN_OPTIONS=print_stacktrace=1
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2> /dev/null; done
	sleep 0.3
	for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null; done
	wait 2> /dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

n=0 failed=0
res() { # res NAME OK [DIAGNOSTIC]
	n=$((n + 1))
	if [ "$2" = 1 ]; then
		echo "ok $n $1"
	else
		echo "not ok $n $1"
		failed=1
	fi
	[ -z "${3:-}" ] || echo "# $1: $3"
}
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }
diag() { echo "# $*"; }
absent() { [ -s "$1" ] && echo 0 || echo 1; }	# 1 if the file is missing or empty

# Ports: one display number per run (5900 + D), the rest beside it.
D=$((40 + $$ % 50))
P=$((5900 + D)) WSP=$((6000 + D + 100)) HTTP=$((6000 + D + 200)) CDP=$((6000 + D + 300))

for t in "$synth" /usr/bin/vncsnapshot /usr/bin/gvnccapture /usr/bin/vncviewer /usr/bin/Xvfb \
	/usr/bin/xdotool /usr/bin/import /usr/bin/certtool /usr/bin/chromium /usr/bin/script; do
	[ -x "$t" ] || { echo "not ok 1 vnc_clients.setup"; echo "# missing $t"; exit 1; }
done

# ---- certificates, passwords, SASL database -------------------------------------
pki=$tmp/pki
mkdir -p "$pki"
cat > "$pki/ca.info" <<EOF
cn = kvmlite test CA
ca
cert_signing_key
expiration_days = 3
EOF
cat > "$pki/server.info" <<EOF
organization = kvmlite
cn = localhost
dns_name = localhost
ip_address = 127.0.0.1
tls_www_server
encryption_key
signing_key
expiration_days = 2
EOF
cat > "$pki/client.info" <<EOF
organization = kvmlite
cn = vnc-test-client
tls_www_client
encryption_key
signing_key
expiration_days = 2
EOF
(
	cd "$pki" &&
	certtool --generate-privkey --key-type ecdsa --outfile ca-key.pem &&
	certtool --generate-self-signed --load-privkey ca-key.pem --template ca.info \
		--outfile ca-cert.pem &&
	certtool --generate-privkey --key-type ecdsa --outfile server-key.pem &&
	certtool --generate-certificate --load-privkey server-key.pem --load-ca-certificate \
		ca-cert.pem --load-ca-privkey ca-key.pem --template server.info \
		--outfile server-cert.pem &&
	certtool --generate-privkey --key-type ecdsa --outfile client-key.pem &&
	certtool --generate-certificate --load-privkey client-key.pem --load-ca-certificate \
		ca-cert.pem --load-ca-privkey ca-key.pem --template client.info \
		--outfile client-cert.pem
) > "$tmp/certtool.log" 2>&1
rc=$?
res setup.certificates $((rc == 0)) "$([ $rc = 0 ] || tail -n 5 "$tmp/certtool.log" | tr '\n' ' ')"
# gtk-vnc looks in /etc/pki and in the passwd entry's home (not $HOME) for
# .pki/CA/cacert.pem and .pki/gvnccapture/{clientcert.pem,private/clientkey.pem}:
# gvnccapture runs in a mount namespace with a temporary home bound over that one.
ghome=$tmp/home
pwhome=$(getent passwd "$(id -u)" | cut -d: -f6)
mkdir -p "$ghome/.pki/CA" "$ghome/.pki/gvnccapture/private"
cp "$pki/ca-cert.pem" "$ghome/.pki/CA/cacert.pem"
cp "$pki/client-cert.pem" "$ghome/.pki/gvnccapture/clientcert.pem"
cp "$pki/client-key.pem" "$ghome/.pki/gvnccapture/private/clientkey.pem"
unshare_opt=-m
[ "$(id -u)" = 0 ] || unshare_opt=-rm
gns=(unshare "$unshare_opt" sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh
     "$ghome" "$pwhome")
"${gns[@]}" true 2> "$tmp/unshare.log" || gns=()
# A directory with the CA and server files only (x509verify checks the client against it).
srvpki=$tmp/srvpki
mkdir -p "$srvpki"
cp "$pki/ca-cert.pem" "$pki/server-cert.pem" "$pki/server-key.pem" "$srvpki/"

pw=vnc-pw7
printf '%s\n' "$pw" > "$tmp/password"
# TigerVNC's and vncsnapshot's password file: the password DES-encrypted with the fixed VNC key.
vncpwf=$tmp/passwd.vnc
printf '%s\0\0\0\0\0\0\0\0' "$pw" | head -c 8 |
	openssl enc -des-ecb -K e84ad660c4721ae0 -nopad -nosalt -provider legacy \
		-provider default > "$vncpwf" 2> /dev/null || rm -f "$vncpwf"

sasldir=$tmp/sasl
mkdir -p "$sasldir"
sasl_user=vncuser sasl_pw=sasl-pw5
printf '%s' "$sasl_pw" | saslpasswd2 -p -c -a vnc -f "$sasldir/passwd.db" "$sasl_user" \
	> "$tmp/saslpasswd.log" 2>&1
cat > "$sasldir/vnc.conf" <<EOF
mech_list: digest-md5 scram-sha-1
sasldb_path: $sasldir/passwd.db
EOF

# ---- the server --------------------------------------------------------------------
spid= slog= sexp= sname=
srv_start() { # srv_start NAME FORMAT [VNC OPTIONS]: sets spid, slog, sexp
	local i
	sname=$1 slog=$tmp/$1.log sexp=$tmp/$1.ppm
	: > "$slog"
	SASL_CONF_PATH=$sasldir "$synth" --vnc "127.0.0.1:$P${3:+,$3}" --format "$2" \
		--log "$slog" --expect "$sexp" 2> "$tmp/$1.err" &
	spid=$!
	pids+=("$spid")
	for i in $(seq 100); do
		grep -q '^ready' "$slog" && return 0
		kill -0 "$spid" 2> /dev/null || break
		sleep 0.1
	done
	diag "server $1 did not start: $(tail -n 5 "$tmp/$1.err" | tr '\n' ' ')"
	return 1
}
srv_stop() { # kill the server; a check that it stopped cleanly, sanitizers quiet
	local i rc=0 ok=1
	[ -n "$spid" ] || return
	kill -TERM "$spid" 2> /dev/null
	for i in $(seq 100); do
		kill -0 "$spid" 2> /dev/null || break
		sleep 0.1
	done
	kill -9 "$spid" 2> /dev/null && { ok=0; diag "$sname: server hung at exit"; }
	wait "$spid" 2> /dev/null
	rc=$?
	if [ "$rc" != 0 ] || grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error' \
		-e 'ERROR: LeakSanitizer' "$tmp/$sname.err"; then
		ok=0
		grep -m 30 -e 'ERROR' -e 'runtime error' -e '#[0-9] ' "$tmp/$sname.err" | sed 's/^/# /'
	fi
	res "$sname.server-exit" "$ok" "$([ $ok = 1 ] || echo "status $rc")"
	spid=
}
wait_log() { # wait_log REGEX [TENTHS]
	local i
	for i in $(seq "${2:-50}"); do
		grep -q -E "$1" "$slog" && return 0
		sleep 0.1
	done
	return 1
}

cmp_img() { # cmp_img NAME EXPECTED ACTUAL [vnc_imgcmp options]
	local name=$1 exp=$2 act=$3 out
	shift 3
	if [ ! -s "$act" ]; then
		res "$name" 0 "no screenshot"
		return
	fi
	out=$("$PY" "$here/vnc_imgcmp.py" "$exp" "$act" "$@" 2>&1)
	res "$name" $(($? == 0)) "$out"
}

# ---- vncsnapshot ------------------------------------------------------------------
if srv_start snap xrgb8888; then
	for enc in raw hextile zrle tight; do
		o=$tmp/snap-$enc.jpg
		x=
		[ $enc = tight ] && x=-nojpeg
		timeout 20 vncsnapshot -quiet -quality 100 $x -encodings "$enc" "127.0.0.1:$D" "$o" \
			> "$tmp/vncsnapshot.log" 2>&1 || diag "vncsnapshot $enc: $(tail -n 2 \
			"$tmp/vncsnapshot.log" | tr '\n' ' ')"
		cmp_img "vncsnapshot.$enc" "$sexp" "$o" --tol 1
	done
	srv_stop
fi
if [ -s "$vncpwf" ] && srv_start snap-vncauth xrgb8888 "password-file=$tmp/password"; then
	o=$tmp/snap-pw.jpg
	timeout 20 vncsnapshot -quiet -quality 100 -passwd "$vncpwf" -encodings hextile \
		"127.0.0.1:$D" "$o" > "$tmp/vncsnapshot.log" 2>&1
	cmp_img vncsnapshot.vncauth "$sexp" "$o" --tol 1
	srv_stop
fi

# ---- gvnccapture -------------------------------------------------------------------
gcap() { # gcap OUT [INPUT LINE...]: lines typed on its tty, a second apart
	local out=$1 l
	shift
	rm -f "$out"
	if [ $# = 0 ]; then
		timeout 20 "${gns[@]}" gvnccapture -q "127.0.0.1:$D" "$out" > "$tmp/gcap.log" 2>&1
	else
		for l in "$@"; do sleep 1; printf '%s\n' "$l"; done |
			timeout 20 script -qec "${gns[*]@Q} gvnccapture -q 127.0.0.1:$D $out" \
				/dev/null > "$tmp/gcap.log" 2>&1
	fi
	[ -s "$out" ] || diag "gvnccapture: $(tr -d '\r' < "$tmp/gcap.log" | tail -n 3 | tr '\n' ' ')"
}
for f in xrgb8888 rgb888 rgb565 rgb555 pal8 text; do
	srv_start "gcap-$f" "$f" || { res "gvnccapture.$f" 0; continue; }
	gcap "$tmp/gcap-$f.png"
	cmp_img "gvnccapture.$f" "$sexp" "$tmp/gcap-$f.png"
	srv_stop
done
if srv_start gcap-vncauth rgb565 "password-file=$tmp/password"; then
	gcap "$tmp/g.png" "$pw"
	cmp_img gvnccapture.vncauth "$sexp" "$tmp/g.png"
	gcap "$tmp/g-bad.png" wrong-password
	res gvnccapture.vncauth-wrong-password-refused "$(absent "$tmp/g-bad.png")"
	srv_stop
fi
if [ ${#gns[@]} = 0 ]; then
	skip gvnccapture.x509 \
		"cannot bind a home with the CA for gtk-vnc: $(head -c 200 "$tmp/unshare.log")"
elif srv_start gcap-x509none xrgb8888 "tls-creds=$srvpki"; then
	gcap "$tmp/g.png"
	cmp_img gvnccapture.x509none "$sexp" "$tmp/g.png"
	srv_stop
fi
if [ ${#gns[@]} != 0 ] && srv_start gcap-x509verify xrgb8888 "tls-creds=$srvpki,x509verify"; then
	gcap "$tmp/g.png"
	cmp_img gvnccapture.x509none-client-cert "$sexp" "$tmp/g.png"
	grep -q 'certificate.*vnc-test-client' "$tmp/gcap-x509verify.err"
	res gvnccapture.x509-client-dn-logged $(($? == 0))
	mv "$ghome/.pki/gvnccapture" "$ghome/.pki/off"
	gcap "$tmp/g-nocert.png"
	res gvnccapture.x509verify-no-client-cert-refused "$(absent "$tmp/g-nocert.png")"
	mv "$ghome/.pki/off" "$ghome/.pki/gvnccapture"
	srv_stop
fi
if [ ${#gns[@]} != 0 ] &&
	srv_start gcap-x509vnc rgb888 "tls-creds=$srvpki,password-file=$tmp/password"; then
	gcap "$tmp/g.png" "$pw"
	cmp_img gvnccapture.x509vnc "$sexp" "$tmp/g.png"
	srv_stop
fi
# SASL: DIGEST-MD5 gives SSF 128 (the server asks >= 56 on plain TCP); SCRAM over X509SASL.
if [ ! -s "$sasldir/passwd.db" ] && [ ! -s "$sasldir/passwd.db.db" ]; then
	skip gvnccapture.sasl-digest-md5 "saslpasswd2 failed: $(head -c 200 "$tmp/saslpasswd.log")"
elif srv_start gcap-sasl xrgb8888 sasl; then
	gcap "$tmp/g.png" "$sasl_user" "$sasl_pw"
	cmp_img gvnccapture.sasl-digest-md5 "$sexp" "$tmp/g.png"
	gcap "$tmp/g-bad.png" "$sasl_user" wrong-password
	res gvnccapture.sasl-wrong-password-refused "$(absent "$tmp/g-bad.png")"
	srv_stop
	sed -i 's/^mech_list:.*/mech_list: scram-sha-1/' "$sasldir/vnc.conf"
	if [ ${#gns[@]} != 0 ] && srv_start gcap-x509sasl xrgb8888 "tls-creds=$srvpki,sasl"; then
		gcap "$tmp/g.png" "$sasl_user" "$sasl_pw"
		# gtk-vnc 1.3.1 loads no certificates for subtype 264 (X509SASL): it
		# offers anonymous TLS only, which an x509 server must refuse.
		if [ ! -s "$tmp/g.png" ] &&
			grep -q 'No supported cipher suites' "$tmp/gcap-x509sasl.err"; then
			skip gvnccapture.x509sasl-scram "gtk-vnc starts X509SASL with anonymous TLS"
		else
			cmp_img gvnccapture.x509sasl-scram "$sexp" "$tmp/g.png"
		fi
		srv_stop
	fi
fi

# ---- TigerVNC under Xvfb -----------------------------------------------------------
xvfb_start() { # xvfb_start DEPTH: sets DISPLAY
	local fifo=$tmp/xvfb-$1.fd dnum=
	rm -f "$fifo"
	mkfifo "$fifo"
	Xvfb -displayfd 9 -screen 0 1280x1024x"$1" -nolisten tcp -noreset 9> "$fifo" \
		> "$tmp/xvfb-$1.log" 2>&1 &
	pids+=($!)
	read -r -t 10 dnum < "$fifo"
	[ -n "$dnum" ] || return 1
	export DISPLAY=:$dnum
}
vpid= win=
viewer() { # viewer NAME OPTIONS...: starts vncviewer, sets win
	local name=$1 i
	shift
	vncviewer "$@" "127.0.0.1::$P" > "$tmp/viewer-$name.log" 2>&1 &
	vpid=$!
	pids+=("$vpid")
	win=
	for i in $(seq 100); do
		win=$(xdotool search --onlyvisible --class 'TigerVNC Viewer' 2> /dev/null | head -n 1)
		[ -n "$win" ] && return 0
		kill -0 "$vpid" 2> /dev/null || break
		sleep 0.1
	done
	diag "vncviewer $name: no window: $(tail -n 4 "$tmp/viewer-$name.log" | tr '\n' ' ')"
	return 1
}
viewer_stop() {
	[ -n "$vpid" ] && kill "$vpid" 2> /dev/null && wait "$vpid" 2> /dev/null
	vpid= win=
}
vshot() { # vshot NAME [imgcmp options]: screenshots the window until it matches (8 s)
	local name=$1 i out
	shift
	for i in $(seq 16); do
		import -window "$win" "$tmp/$name.png" 2> /dev/null &&
			"$PY" "$here/vnc_imgcmp.py" "$sexp" "$tmp/$name.png" "$@" > /dev/null 2>&1 &&
			break
		sleep 0.5
	done
	cmp_img "$name" "$sexp" "$tmp/$name.png" "$@"
}
# The keys logged after line N as typed: "S" for Shift held, e.g. "1e S1e S3" for "aA@";
# keys left pressed at the end are listed as "stuck:CODE".
keys_since() {
	tail -n +"$(($1 + 1))" "$slog" | awk '$1 == "key" {
		c = substr($2, 3); d = $3 == "down"
		if (c == "2a" || c == "36") { sh[c] = d; next }
		if (d) { printf "%s%s%s", sep, (sh["2a"] || sh["36"]) ? "S" : "", c; sep = " " }
		held[c] = d
	}
	END { for (k in held) if (held[k]) printf " stuck:%s", k
	      for (k in sh) if (sh[k]) printf " stuck:%s", k }'
}
want_keys="1e S1e S3"

if xvfb_start 24; then
	if srv_start tiger xrgb8888; then
		for e in Tight ZRLE Hextile Raw; do
			viewer "$e" -AutoSelect=0 -PreferredEncoding="$e" -FullColor=1 -NoJPEG=1 \
				-CompressLevel=6 && vshot "vncviewer.$e"
			viewer_stop
		done
		viewer tight-jpeg -AutoSelect=0 -PreferredEncoding=Tight -FullColor=1 -NoJPEG=0 \
			-QualityLevel=8 && vshot vncviewer.Tight-jpeg --psnr 28
		viewer_stop
		viewer 256 -AutoSelect=0 -PreferredEncoding=ZRLE -FullColor=0 -LowColorLevel=2 &&
			vshot vncviewer.256-colours --tol 43
		viewer_stop
		viewer 64 -AutoSelect=0 -PreferredEncoding=Hextile -FullColor=0 -LowColorLevel=1 &&
			vshot vncviewer.64-colours --tol 43
		viewer_stop

		# Input and resizing on one connection (ZRLE).
		if viewer input -AutoSelect=0 -PreferredEncoding=ZRLE -FullColor=1; then
			vshot vncviewer.input-session
			grep -q 'Using.*extended\|ExtendedKey\|QEMU' "$tmp/viewer-input.log" || true
			l0=$(wc -l < "$slog")
			xdotool mousemove --window "$win" 10 10
			xdotool windowfocus --sync "$win"
			sleep 0.3
			xdotool type --delay 60 'aA@'
			sleep 0.5
			got=$(keys_since "$l0")
			res vncviewer.keys-xt-scancodes $([ "$got" = "$want_keys" ] && echo 1 || echo 0) \
				"want '$want_keys' got '$got'"
			l0=$(wc -l < "$slog")
			xdotool mousemove --window "$win" 300 200 click 1
			sleep 0.5
			tail -n +"$((l0 + 1))" "$slog" | grep -q '^abs [0-9]* [0-9]* 1 0 px 300 200$'
			res vncviewer.click-position $(($? == 0)) \
				"$(tail -n +"$((l0 + 1))" "$slog" | grep '^abs' | tail -n 3 | tr '\n' ';')"
			kill -USR1 "$spid"
			wait_log '^mode 800 600'
			geo=
			for i in $(seq 50); do
				geo=$(xwininfo -id "$win" | awk '/Width:/ { w = $2 } /Height:/ { h = $2 }
					END { print w "x" h }')
				[ "$geo" = 800x600 ] && break
				sleep 0.1
			done
			res vncviewer.mode-change-resizes $([ "$geo" = 800x600 ] && echo 1 || echo 0) \
				"window $geo"
			vshot vncviewer.after-mode-change
			kill -USR2 "$spid"
			wait_log '^phase 1'
			vshot vncviewer.damaged-box-update
		else
			res vncviewer.input-session 0
		fi
		viewer_stop
		srv_stop
	fi
	if [ ! -s "$vncpwf" ]; then
		skip vncviewer.vncauth "no DES in openssl for the password file"
	elif srv_start tiger-vncauth rgb565 "password-file=$tmp/password"; then
		viewer vncauth -AutoSelect=0 -PreferredEncoding=ZRLE -SecurityTypes=VncAuth \
			-passwd="$vncpwf" && vshot vncviewer.vncauth
		viewer_stop
		srv_stop
	fi
	if srv_start tiger-x509 xrgb8888 "tls-creds=$srvpki"; then
		viewer x509none -AutoSelect=0 -PreferredEncoding=ZRLE -SecurityTypes=X509None \
			-X509CA="$pki/ca-cert.pem" &&
			vshot vncviewer.x509none
		viewer_stop
		srv_stop
	fi
	if [ -s "$vncpwf" ] &&
		srv_start tiger-x509vnc rgb888 "tls-creds=$srvpki,password-file=$tmp/password"; then
		viewer x509vnc -AutoSelect=0 -PreferredEncoding=ZRLE -SecurityTypes=X509Vnc \
			-X509CA="$pki/ca-cert.pem" -passwd="$vncpwf" &&
			vshot vncviewer.x509vnc
		viewer_stop
		srv_stop
	fi
	skip vncviewer.sasl "TigerVNC 1.12 has no SASL security type"
else
	res vncviewer.xvfb 0 "$(tail -n 3 "$tmp/xvfb-24.log")"
fi
# A 16-bit X server: the viewer asks the server for RGB565.
if xvfb_start 16; then
	if srv_start tiger16 xrgb8888; then
		viewer depth16 -AutoSelect=0 -PreferredEncoding=ZRLE -FullColor=1 &&
			vshot vncviewer.xvfb-16bit --tol 8
		viewer_stop
		srv_stop
	fi
else
	res vncviewer.xvfb16 0 "$(tail -n 3 "$tmp/xvfb-16.log")"
fi

# ---- noVNC in headless Chromium ----------------------------------------------------
novnc=/usr/share/novnc
if [ ! -f "$novnc/vnc_lite.html" ]; then
	skip novnc "no $novnc/vnc_lite.html"
else
	# The pages over http and (same certificate as the server) https.
	cat > "$tmp/https.py" <<'EOF'
import http.server, ssl, sys, functools
port, root, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
s = http.server.ThreadingHTTPServer(('127.0.0.1', port), h)
if cert:
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c.load_cert_chain(cert, key)
    s.socket = c.wrap_socket(s.socket, server_side=True)
s.serve_forever()
EOF
	"$PY" "$tmp/https.py" "$HTTP" "$novnc" "" "" > "$tmp/http.log" 2>&1 &
	pids+=($!)
	"$PY" "$tmp/https.py" "$((HTTP + 1))" "$novnc" "$pki/server-cert.pem" \
		"$pki/server-key.pem" > "$tmp/https.log" 2>&1 &
	pids+=($!)
	spki=$(openssl x509 -in "$pki/server-cert.pem" -pubkey -noout |
		openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
	mkdir -p "$tmp/chome"
	HOME=$tmp/chome chromium --headless=new --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$tmp/chromium" --remote-debugging-port="$CDP" \
		--window-size=1280,1024 --ignore-certificate-errors-spki-list="$spki" \
		about:blank > "$tmp/chromium.log" 2>&1 &
	pids+=($!)
	novnc_run() { # novnc_run NAME URL STEPS...
		local name=$1 url=$2 out
		shift 2
		out=$(timeout 60 "$PY" "$here/novnc_cdp.py" "$CDP" "$url" "$@" 2>&1)
		echo "$out" > "$tmp/novnc-$name.log"
		echo "$out" | sed "s/^/# novnc.$name: /"
	}
	step_ok() { grep -q "^ok $2" "$tmp/novnc-$1.log"; echo $(($? == 0)); }

	if srv_start novnc xrgb8888 "websocket=$WSP,lossy=off"; then
		cp "$sexp" "$tmp/novnc-1.ppm"
		l0=$(wc -l < "$slog")
		novnc_run ws "http://127.0.0.1:$HTTP/vnc_lite.html?host=127.0.0.1&port=$WSP" \
			connected 15 shot "$tmp/novnc-1.png" "$tmp/novnc-1.ppm" \
			click 300 200 type 'aA@' sleep 0.5 kill "$spid" USR1 sleep 0.5 \
			size 800 600 sleep 0.5 shot "$tmp/novnc-2.png" "$sexp"
		res novnc.ws-connect "$(step_ok ws connected)"
		cmp_img novnc.ws-canvas "$tmp/novnc-1.ppm" "$tmp/novnc-1.png"
		got=$(keys_since "$l0")
		res novnc.keys-xt-scancodes $([ "$got" = "$want_keys" ] && echo 1 || echo 0) \
			"want '$want_keys' got '$got'"
		tail -n +"$((l0 + 1))" "$slog" | grep -q '^abs [0-9]* [0-9]* 1 0 px 300 200$'
		res novnc.click-position $(($? == 0)) \
			"$(tail -n +"$((l0 + 1))" "$slog" | grep '^abs' | tail -n 3 | tr '\n' ';')"
		res novnc.mode-change-resizes "$(step_ok ws size)"
		cmp_img novnc.after-mode-change "$sexp" "$tmp/novnc-2.png"
		srv_stop
	fi
	# noVNC always asks a JPEG quality (level 6): the server's default sends Tight JPEG.
	if srv_start novnc-jpeg xrgb8888 "websocket=$WSP"; then
		novnc_run jpeg "http://127.0.0.1:$HTTP/vnc_lite.html?host=127.0.0.1&port=$WSP" \
			connected 15 sleep 1.5 shot "$tmp/novnc-j.png"
		cmp_img novnc.tight-jpeg-canvas "$sexp" "$tmp/novnc-j.png" --psnr 28
		srv_stop
	fi
	if srv_start novnc-vncauth rgb565 "websocket=$WSP,lossy=off,password-file=$tmp/password"; then
		novnc_run ws-vncauth \
			"http://127.0.0.1:$HTTP/vnc_lite.html?host=127.0.0.1&port=$WSP&password=$pw" \
			connected 15 shot "$tmp/novnc-3.png" "$sexp"
		res novnc.ws-vncauth-connect "$(step_ok ws-vncauth connected)"
		cmp_img novnc.ws-vncauth-canvas "$sexp" "$tmp/novnc-3.png"
		srv_stop
	fi
	if srv_start novnc-wss pal8 "websocket=$WSP,lossy=off,tls-creds=$srvpki"; then
		novnc_run wss "https://localhost:$((HTTP + 1))/vnc_lite.html?host=localhost&port=$WSP" \
			connected 15 shot "$tmp/novnc-4.png" "$sexp"
		res novnc.wss-connect "$(step_ok wss connected)"
		cmp_img novnc.wss-canvas "$sexp" "$tmp/novnc-4.png"
		srv_stop
	fi
fi

echo "1..$n"
exit $failed
