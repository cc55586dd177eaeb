#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The VNC server end to end: Debian's 6.1 kernel through the runner on
# /dev/kvmlite in the AMD emulated host, on Cirrus + xHCI + USB tablet and
# keyboard, with "--vnc 0.0.0.0:5900,insecure" forwarded to a port of this
# machine (scripts/vmtest --fwd), and real clients here:
#
#   selftests/vnc_boot.sh [--results FILE]
#
# TigerVNC's vncviewer (under Xvfb) connects while the guest is still in
# VGA text mode (720x400) and must follow the guest's switch to the
# 1024x768 framebuffer (ExtendedDesktopSize); fbcon's text must show in
# its window; with the guest's computed 16 bpp pattern on the screen, the
# viewer's window and a gvnccapture screenshot must both equal it pixel
# for pixel (and the runner's own screendump); a click placed with xdotool
# must reach the guest's tablet at the right absolute position, and keys
# typed (a, @, Return) must reach its USB keyboard as the right key codes
# (TigerVNC sends raw XT codes, QEMU's extended key event); then noVNC in
# headless Chromium over the WebSocket port (selftests/runner/novnc_cdp.py)
# must show the same pattern exactly and send a click and a "b".  gvnccapture
# comes last: it asks for exclusive access, which drops the viewer.  Guest, emulated
# host and this machine keep step through console markers and a second
# forwarded port.  Each check prints "RESULT kvmlite runner.vnc-<name>
# pass|fail" (to --results too); the status is 1 if any failed.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
results=
while [ $# -gt 0 ]; do
	case "$1" in
	--results) results=$2; shift 2 ;;
	*) echo "vnc_boot.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

"$top/scripts/deps" || exit 1
make -s -C "$top" guest-tools || exit 1
. "$top/build/cache/kernels.env"
kernel=$top/build/cache/root/boot/vmlinuz-$KVER_6_1
out=$top/build/vnc_boot
rm -rf "$out"
mkdir -p "$out"

failed=0
result() { # result NAME ok?
	local r=fail
	[ "$2" = 0 ] && r=pass
	[ $r = fail ] && failed=1
	echo "RESULT kvmlite runner.vnc-$1 $r"
	[ -n "$results" ] && echo "RESULT kvmlite runner.vnc-$1 $r" >> "$results"
}

cat > "$out/init" <<'EOS'
#!/bin/busybox sh
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
$B mkdir -p /tmp
echo "GUEST-INIT-OK-$((6 * 7))"
ins() { for m in "$@"; do $B insmod /lib/modules/$m.ko || echo "GUEST-INSMOD-FAILED-$m"; done; }
# VGA text mode first: a line the viewer sees before the mode change.
$B sleep 3
ins drm drm_kms_helper drm_shmem_helper cirrus usb-common usbcore xhci-hcd xhci-pci \
	hid usbhid hid-generic evdev
i=0
while [ ! -e /sys/class/graphics/fb0 ] && [ $i -lt 300 ]; do $B sleep 0.2; i=$((i + 1)); done
echo "GUEST-FB-SIZE=$($B cat /sys/class/graphics/fb0/virtual_size) BPP=$($B cat /sys/class/graphics/fb0/bits_per_pixel)"
$B dmesg > /dev/tty1
$B sleep 2
echo "GUEST-TEXT-READY"
read -r l
echo 0 > /sys/class/graphics/fbcon/cursor_blink
$B printf '\033[?25l' > /dev/tty1
/fbfill /dev/fb0 2>&1 | $B sed 's/^/GUEST-/'
$B sleep 2
echo "GUEST-FB-READY"
read -r l
/evread "USB Tablet" 180000 20000 > /tmp/ev-TAB 2>&1 &
/evread "USB Keyboard" 180000 20000 > /tmp/ev-KBD 2>&1 &
i=0
while [ "$($B cat /tmp/ev-TAB /tmp/ev-KBD | $B grep -c -e EVREAD-OPEN -e EVREAD-NODEV)" -lt 2 ] &&
      [ $i -lt 600 ]; do $B sleep 0.2; i=$((i + 1)); done
echo "GUEST-INPUT-READY"
wait
$B sed "s/^/GUEST-EV-TAB: /" /tmp/ev-TAB
$B sed "s/^/GUEST-EV-KBD: /" /tmp/ev-KBD
$B poweroff -f
EOS
mods="gpu/drm/drm gpu/drm/drm_kms_helper gpu/drm/drm_shmem_helper gpu/drm/tiny/cirrus
	usb/common/usb-common usb/core/usbcore usb/host/xhci-hcd usb/host/xhci-pci hid/hid
	hid/usbhid/usbhid hid/hid-generic input/evdev"
"$top/scripts/mkinitrd" "$out/initrd" "$out/init" --mods "$mods" \
	--add "$top/build/guest/evread:/evread" --add "$top/build/guest/fbfill:/fbfill" || exit 1

# In the emulated host: the runner, and a listener on port 7000 that this
# machine connects to when it is done with a step.
cat > "$out/boot.sh" <<'EOS'
waitfor() { # waitfor MARKER SECONDS
	i=0
	while ! grep -q "$1" /tmp/out; do
		{ [ $i -ge $(($2 * 5)) ] || ! kill -0 $pid 2>/dev/null; } && { echo "HOST-NO-$1"; return 1; }
		sleep 0.2; i=$((i + 1))
	done
}
step() { # step N: wait for this machine, then let the guest go on
	echo "HOST-WAIT-$1"
	nc -l -p 7000 > /dev/null
	echo "HOST-GOT-$1"
	echo go >&3
}
dump() {
	rm -f /tmp/$1.png
	kvmlite ctl /tmp/ctl.sock screendump /tmp/$1.png
	{ echo "PNG-BEGIN-$1"; base64 /tmp/$1.png; echo "PNG-END-$1"; } > /dev/ttyS1
}
rm -f /tmp/in /tmp/ctl.sock; mkfifo /tmp/in
timeout 400 kvmlite run --dev /dev/kvmlite --kernel /guest/vmlinuz --initrd /guest/initrd \
	--mem 256M --ctl /tmp/ctl.sock --append "console=ttyS0 quiet" \
	--device cirrus-vga --device xhci --device usb-tablet --device usb-kbd \
	--vnc 0.0.0.0:5900,insecure,websocket=5700,lossy=off < /tmp/in > /tmp/out 2>&1 &
pid=$!
exec 3> /tmp/in
i=0
while ! grep -q "vnc: listening" /tmp/out && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
echo "HOST-VNC-UP"
waitfor GUEST-TEXT-READY 200 && step 1
waitfor GUEST-FB-READY 60 && { dump fb16; step 2; }
waitfor GUEST-INPUT-READY 60 && step 3
wait $pid
rc=$?
exec 3>&-
cat /tmp/out
echo "RUNNER-EXIT=$rc"
EOS

hp=$((5950 + $$ % 40)) sp=$((17000 + $$ % 1000)) wp=$((18000 + $$ % 1000))
http=$((19000 + $$ % 1000)) cdp=$((20000 + $$ % 1000))
log=$out/console.log
: > "$log"
"$top/scripts/vmtest" --cpu amd --mttcg --mem 2048 --timeout 900 --log "$log" \
	--results "$out/ttyS1.txt" --add "$kernel:/guest/vmlinuz" --add "$out/initrd:/guest/initrd" \
	--add "$out/boot.sh:/guest/boot.sh" --fwd "$hp:5900" --fwd "$sp:7000" --fwd "$wp:5700" \
	-- sh /guest/boot.sh > /dev/null 2>&1 &
vm=$!

xd=$((40 + $$ % 50))
Xvfb ":$xd" -screen 0 1280x1024x24 -nolisten tcp > "$out/xvfb.log" 2>&1 &
xvfb=$!
# noVNC's pages over http, and headless Chromium to drive them (DevTools protocol).
/usr/bin/python3 -m http.server "$http" --bind 127.0.0.1 --directory /usr/share/novnc \
	> "$out/http.log" 2>&1 &
httpd=$!
mkdir -p "$out/chome"
HOME=$out/chome chromium --headless=new --no-sandbox --disable-gpu --no-first-run \
	--user-data-dir="$out/chromium" --remote-debugging-port="$cdp" --window-size=1280,1024 \
	about:blank > "$out/chromium.log" 2>&1 &
browser=$!
viewer=
cleanup() {
	kill "$httpd" "$browser" 2>/dev/null
	[ -n "$viewer" ] && kill "$viewer" 2>/dev/null
	kill "$xvfb" 2>/dev/null
	kill "$vm" 2>/dev/null
}
trap cleanup EXIT
export DISPLAY=":$xd"

seen() { tr -d '\r' < "$log" | grep -q "$1"; }
waitlog() { # waitlog MARKER SECONDS
	local i=0
	while ! seen "$1"; do
		kill -0 "$vm" 2>/dev/null || return 1
		[ $i -ge $(($2 * 5)) ] && return 1
		sleep 0.2; i=$((i + 1))
	done
}
go() { # go N: release the emulated host's step N
	local i=0
	while ! seen "HOST-GOT-$1" && [ $i -lt 30 ]; do
		{ exec 5<>"/dev/tcp/127.0.0.1/$sp" && echo go >&5 && exec 5>&-; } 2>/dev/null
		sleep 1; i=$((i + 1))
	done
}
win() { xdotool search --onlyvisible --class 'TigerVNC Viewer' 2>/dev/null | head -n1; }
geom() { # the viewer window's size, WxH
	xdotool getwindowgeometry "$1" 2>/dev/null | sed -n 's/^ *Geometry: //p'
}
shot() { # shot FILE: the viewer window as 8-bit RGB PNG
	local w
	w=$(win)
	[ -n "$w" ] && timeout 20 import -window "$w" "$out/raw-$1" 2>/dev/null &&
		convert "$out/raw-$1" -alpha off -depth 8 "PNG24:$out/$1" 2>/dev/null
}
chk() { "$top/selftests/display_check.py" "$@" | sed 's/^/  /'; return "${PIPESTATUS[0]}"; }

ok=1
waitlog HOST-VNC-UP 300 || ok=0
if [ $ok = 1 ]; then
	vncviewer -SecurityTypes=None -AutoSelect=0 -PreferredEncoding=ZRLE -FullColor=1 \
		-RemoteResize=0 -AcceptClipboard=0 -SendClipboard=0 "127.0.0.1::$hp" \
		> "$out/vncviewer.log" 2>&1 &
	viewer=$!
	for _ in $(seq 50); do [ -n "$(win)" ] && break; sleep 0.2; done
	sleep 1
	g0=$(geom "$(win)")
fi
# VGA text mode: 80x25 cells of 8x16 pixels
result viewer-connects-in-text-mode "$([ "${g0:-}" = 640x400 ] && echo 0 || echo 1)"
echo "  viewer window before the mode change: ${g0:-none}"

waitlog HOST-WAIT-1 300 && sleep 2
g1=$(geom "$(win)")
echo "  viewer window after the mode change: ${g1:-none}"
result viewer-follows-mode-change "$([ "$g1" = 1024x768 ] && echo 0 || echo 1)"
shot text.png && chk text "$out/text.png"; result viewer-shows-fbcon-text $?
go 1

waitlog HOST-WAIT-2 120 && sleep 2
shot fb16.png && chk fb "$out/fb16.png" 5 6 5; result viewer-16bpp-pattern-exact $?
go 2

waitlog HOST-WAIT-3 120 && sleep 1
w=$(win)
if [ -n "$w" ]; then
	xdotool mousemove --window "$w" 100 200 && sleep 0.5 && xdotool click 1 && sleep 0.5
	xdotool mousemove --window "$w" 300 400 && sleep 0.5
	xdotool windowfocus --sync "$w"
	# "@" as Shift held around 2 (xdotool's shift+2 may release Shift first)
	xdotool key --delay 100 a keydown --delay 100 shift key --delay 100 2 \
		keyup --delay 100 shift key --delay 100 Return
fi
# noVNC over the WebSocket port: the canvas, a click and a key.
timeout 90 /usr/bin/python3 "$top/selftests/runner/novnc_cdp.py" "$cdp" \
	"http://127.0.0.1:$http/vnc_lite.html?host=127.0.0.1&port=$wp" \
	connected 30 sleep 2 shot "$out/novnc-raw.png" click 500 300 sleep 0.5 type b sleep 0.5 \
	> "$out/novnc.log" 2>&1
sed 's/^/  novnc: /' "$out/novnc.log"
grep -q '^ok connected' "$out/novnc.log"; result novnc-connects-over-websocket $?
convert "$out/novnc-raw.png" -alpha off -depth 8 "PNG24:$out/novnc.png" 2>/dev/null &&
	chk fb "$out/novnc.png" 5 6 5; result novnc-16bpp-pattern-exact $?
# gvnccapture asks for exclusive access (shared flag 0): the viewer is dropped, as by QEMU.
timeout 60 gvnccapture -q "127.0.0.1:$((hp - 5900))" "$out/gvnc-raw.png" > "$out/gvnc.log" 2>&1 &&
	convert "$out/gvnc-raw.png" -alpha off -depth 8 "PNG24:$out/gvnc.png" &&
	chk fb "$out/gvnc.png" 5 6 5; result gvnccapture-16bpp-pattern-exact $?
go 3

wait "$vm"
vmrc=$?
tr -d '\r' < "$log" > "$log.txt"
tr -d '\r' < "$out/ttyS1.txt" > "$out/ttyS1.txt.txt"
sed -n "s/^GUEST-EV-TAB: //p" "$log.txt" > "$out/tab.ev"
sed -n "s/^GUEST-EV-KBD: //p" "$log.txt" > "$out/kbd.ev"
chk click "$out/tab.ev" 1024 768 100 200; result tigervnc-click-absolute $?
chk keys "$out/kbd.ev" 30,1 30,0 42,1 3,1 3,0 42,0 28,1 28,0 48,1 48,0
result tigervnc-and-novnc-raw-keys $?
chk click "$out/tab.ev" 1024 768 500 300 2; result novnc-click-absolute $?
sed -n '/^PNG-BEGIN-fb16$/,/^PNG-END-fb16$/p' "$out/ttyS1.txt.txt" | sed '1d;$d' |
	base64 -d > "$out/screendump.png" 2>/dev/null
cmp -s <(convert "$out/screendump.png" rgb:-) <(convert "$out/gvnc.png" rgb:-)
result gvnccapture-equals-screendump $?
grep -q '^RUNNER-EXIT=0$' "$log.txt" && grep -q '^GUEST-INIT-OK-42' "$log.txt" &&
	! grep -q GUEST-INSMOD-FAILED "$log.txt"; result guest-boots-and-powers-off $?
grep '^vnc: ' "$log.txt" | sed 's/^/  /'
[ "$vmrc" = 0 ]; result vmtest-clean $?
exit $failed
