#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Regenerate the committed seed corpora in fuzz/corpus/<target>/.  Seeds are
# made here (qemu-img for qcow2, a synthetic setup header for bzImage), never
# copied from elsewhere.  Keep them small: libFuzzer mutates every byte.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/fuzz/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- qcow2: small images with 512-byte clusters -----------------------------
q=$out/qcow2
rm -rf "$q"
mkdir -p "$q"
mk() { # mk NAME CREATE-OPTIONS [qemu-io commands...]
	local name=$1 opts=$2 f=$tmp/$1.qcow2
	shift 2
	qemu-img create -q -f qcow2 -o "$opts" "$f" 64K
	local c=()
	for cmd in "$@"; do c+=(-c "$cmd"); done
	[ $# -eq 0 ] || qemu-io "${c[@]}" "$f" >/dev/null
	cp "$f" "$q/$name"
}
mk v3-empty cluster_size=512
mk v3-data cluster_size=512 "write -P 0x11 0 1536" "write -P 0x22 32K 512"
mk v2-data compat=0.10,cluster_size=512 "write -P 0x33 4K 1K"
mk v3-zero cluster_size=512 "write -P 0x44 0 2K" "write -z 512 512" "write -z -u 1K 512"
mk v3-rc1 cluster_size=512,refcount_bits=1 "write -P 0x55 8K 512"
mk v3-rc64 cluster_size=512,refcount_bits=64 "write -P 0x66 60K 4K"
mk v3-lazy cluster_size=512,lazy_refcounts=on "write -P 0x77 0 512"
qemu-img create -q -f raw "$tmp/base.raw" 64K
qemu-img create -q -f qcow2 -o cluster_size=512 -b base.raw -F raw "$tmp/over.qcow2" 64K
cp "$tmp/over.qcow2" "$q/v3-backing"
qemu-img create -q -f qcow2 -o cluster_size=512 "$tmp/base.qcow2" 64K
qemu-img create -q -f qcow2 -o cluster_size=512 -b base.qcow2 -F qcow2 "$tmp/over2.qcow2" 64K
cp "$tmp/over2.qcow2" "$q/v3-backing-qcow2"
head -c 65536 /dev/zero | tr '\0' 'k' > "$tmp/k.raw"
qemu-img convert -q -c -f raw -O qcow2 -o cluster_size=512 "$tmp/k.raw" "$q/v3-compressed"

# ---- bzImage: a synthetic setup header the parser accepts, and variants -----
b=$out/bzimage
rm -rf "$b"
mkdir -p "$b"
python3 - "$b" <<'PY'
import struct, sys
d = sys.argv[1]
def image(version=0x020f, reloc=1, xlf=1, setup_sects=1, kernel=2048, pref=0x1000000,
          jump=0x66):
    img = bytearray(512 * ((setup_sects or 4) + 1) + kernel)
    img[0x1f1] = setup_sects
    struct.pack_into('<I', img, 0x1f4, kernel // 16)        # syssize
    struct.pack_into('<H', img, 0x1fe, 0xaa55)              # boot_flag
    img[0x200] = 0xeb; img[0x201] = jump                   # jump: header end
    img[0x202:0x206] = b'HdrS'
    struct.pack_into('<H', img, 0x206, version)
    img[0x211] = 0x01                                       # LOADED_HIGH
    struct.pack_into('<I', img, 0x22c, 0x7fffffff)          # initrd_addr_max
    struct.pack_into('<I', img, 0x230, 0x200000)            # kernel_alignment
    img[0x234] = reloc
    struct.pack_into('<H', img, 0x236, xlf)                 # XLF_KERNEL_64
    struct.pack_into('<I', img, 0x238, 2047)                # cmdline_size
    struct.pack_into('<Q', img, 0x258, pref)                # pref_address
    struct.pack_into('<I', img, 0x260, 0x100000)            # init_size
    return bytes(img)
seeds = {
    'valid': image(),
    'fixed-address': image(reloc=0),
    'four-setup-sects': image(setup_sects=0, kernel=4096),
    'protocol-2.06': image(version=0x0206),
    'no-64bit-entry': image(xlf=0),
    'short-header': image(jump=0x10),
}
for name, data in seeds.items():
    open(f'{d}/{name}', 'wb').write(data)
PY
# ---- pvh: a synthetic ELF64 executable with the Xen PHYS32_ENTRY note ------
e=$out/pvh
rm -rf "$e"
mkdir -p "$e"
python3 - "$e" <<'PY'
import struct, sys
d = sys.argv[1]
def elf(loads, entry, descsz=8, machine=62):
    phnum = len(loads) + 1
    note_off = 64 + 56 * phnum
    note = struct.pack('<III', 4, descsz, 18) + b'Xen\0' + struct.pack('<Q', entry)[:descsz]
    note += b'\0' * (-len(note) % 4)
    data_off = (note_off + len(note) + 15) & ~15
    out = bytearray(data_off + sum(f for _, f, _ in loads))
    out[0:16] = b'\x7fELF' + bytes([2, 1, 1]) + bytes(9)
    struct.pack_into('<HHIQQQIHHHHHH', out, 16, 2, machine, 1, 0xffffffff81000000, 64, 0,
                     0, 64, 56, phnum, 0, 0, 0)
    off = data_off
    for i, (paddr, filesz, memsz) in enumerate(loads):
        struct.pack_into('<IIQQQQQQ', out, 64 + 56 * i, 1, 7, off, paddr, paddr, filesz,
                         memsz, 0x1000)
        out[off:off + filesz] = bytes((i * 17 + k) & 0xff for k in range(filesz))
        off += filesz
    struct.pack_into('<IIQQQQQQ', out, 64 + 56 * len(loads), 4, 4, note_off, 0, 0,
                     len(note), len(note), 4)
    out[note_off:note_off + len(note)] = note
    return bytes(out)
seeds = {
    'one-load': elf([(0x1000000, 256, 4096)], 0x1000010),
    'two-loads': elf([(0x1000000, 128, 128), (0x2000000, 64, 8192)], 0x2000020),
    'desc32': elf([(0x1000000, 64, 64)], 0x1000000, descsz=4),
    'no-entry-in-load': elf([(0x1000000, 64, 64)], 0x3000000),
    'i386': elf([(0x100000, 64, 64)], 0x100000, machine=3),
}
for name, data in seeds.items():
    open(f'{d}/{name}', 'wb').write(data)
PY
# ---- virtq: a 32-byte header (see fuzz/virtq_fuzz.c) and a small guest RAM -
v=$out/virtq
rm -rf "$v"
mkdir -p "$v"
python3 - "$v" <<'PY'
import struct, sys
d = sys.argv[1]
DESC, AVAIL, USED, ITAB, BUF = 0x000, 0x100, 0x200, 0x300, 0x400
NEXT, WRITE, INDIRECT = 1, 2, 4
def seed(descs, heads, size=8, flags=0, pops=8, base=0, last_avail=0, used_idx=0,
         report=0xffffffff, itab=(), ram=0x800, avail_idx=None):
    mem = bytearray(ram)
    for i, (addr, ln, fl, nx) in enumerate(descs):
        struct.pack_into('<QIHH', mem, DESC + 16 * i, base + addr, ln, fl, nx)
    for i, (addr, ln, fl, nx) in enumerate(itab):
        struct.pack_into('<QIHH', mem, ITAB + 16 * i, base + addr, ln, fl, nx)
    for k, h in enumerate(heads):
        struct.pack_into('<H', mem, AVAIL + 4 + 2 * ((last_avail + k) % size), h)
    idx = (last_avail + len(heads)) & 0xffff if avail_idx is None else avail_idx
    struct.pack_into('<H', mem, AVAIL + 2, idx)
    hdr = struct.pack('<BHBQIIIHHI', flags, size, pops, base, DESC, AVAIL, USED,
                      last_avail, used_idx, report)
    return hdr + bytes(mem)
blk = [(BUF, 16, NEXT, 1), (BUF + 0x100, 512, NEXT | WRITE, 2), (BUF + 0x300, 1, WRITE, 0)]
seeds = {
    'direct': seed(blk + [(BUF + 0x310, 64, 0, 0)], [0, 3]),
    'indirect': seed([(ITAB, 48, INDIRECT, 0)], [0], flags=1, itab=blk),
    'event-idx': seed(blk + [(ITAB, 48, INDIRECT, 0)], [3, 0, 3], flags=3, itab=blk),
    'empty-event-idx': seed(blk, [], flags=2),
    'wrap': seed(blk + [(BUF, 8, 0, 0)], [3, 0, 3], last_avail=0xfffe, used_idx=0xfffe),
    'loop': seed([(BUF, 8, NEXT, 1), (BUF, 8, NEXT, 0)], [0]),
    'high-base': seed(blk, [0], base=0x100000000),
    'size-256': seed(blk, [0], size=256, ram=0x1000),
    'too-far-ahead': seed(blk, [0], avail_idx=9),
}
for name, data in seeds.items():
    open(f'{d}/{name}', 'wb').write(data)
PY
# ---- cirrus: guest access sequences (see fuzz/cirrus_fuzz.c) ----------------
cv=$out/cirrus
rm -rf "$cv"
mkdir -p "$cv"
python3 - "$cv" <<'PY'
import struct, sys
d = sys.argv[1]
def pw(port, val): return bytes([0, port - 0x3b0, val])
def mw(off, val, size=1): return bytes([2 | {1: 0, 2: 8, 4: 16}[size]]) + struct.pack('<HI', off, val)
def ww(off, val): return bytes([4]) + struct.pack('<I', off)[:3] + bytes([val])
def refresh(fill=0xff): return bytes([7, fill])
def crt(i, v): return mw(0x14, i) + mw(0x15, v)
def seq(i, v): return mw(0x04, i) + mw(0x05, v)
def gfx(i, v): return mw(0x0e, i) + mw(0x0f, v)
def blit(w, h, dp, sp, dst, src, mode, rop, ext=0, skip=0, bg=0x11, fg=0xee):
    r = struct.pack('<HHHH', w - 1, h - 1, dp, sp) + struct.pack('<I', dst)[:3] + b'\0'
    r += struct.pack('<I', src)[:3] + bytes([skip, mode, rop, ext])
    assert len(r) == 19  # GR20..GR33 without GR31
    return bytes([6]) + r + bytes([bg, fg])
def linux(hd, vd, sr07, hdr, pitch):
    r = crt(0x11, 0x20) + crt(0x01, hd // 8 - 1) + crt(0x12, (vd - 1) & 0xff)
    ov = 0x10 | (0x02 if (vd - 1) & 0x100 else 0) | (0x40 if (vd - 1) & 0x200 else 0)
    r += crt(0x07, ov) + crt(0x09, 0x40) + crt(0x17, 0x03) + seq(0x07, sr07)
    r += gfx(0x05, 0x40) + gfx(0x06, 0x01)
    r += bytes([3, 6, 0]) * 4 + mw(0x06, hdr)
    r += crt(0x13, (pitch // 8) & 0xff) + crt(0x1b, 0x22 | ((pitch >> 7) & 0x10) | ((pitch >> 6) & 0x40))
    r += crt(0x0c, 0) + crt(0x0d, 0) + pw(0x3c0, 0x20)
    return r
m16 = linux(1024, 768, 0x17, 0xc1, 2048)
m32 = linux(640, 480, 0x19, 0xc5, 2560)
seeds = {
    'linux-1024x768x16': m16 + refresh(0xff) + refresh(0x01),
    'linux-640x480x32': m32 + refresh(0x10),
    'text': b''.join(ww(0x18000 + i, b) for i, b in enumerate(b'H\x1ei\x1e')) +
            pw(0x3d4, 0x0f) + pw(0x3d5, 2) + refresh(),
    'font': pw(0x3c4, 2) + pw(0x3c5, 4) + pw(0x3c4, 4) + pw(0x3c5, 7) + pw(0x3ce, 5) +
            pw(0x3cf, 0) + pw(0x3ce, 6) + pw(0x3cf, 4) + ww(0x820, 0xff) + pw(0x3ce, 6) +
            pw(0x3cf, 0x0e) + refresh(),
    'fill': m16 + blit(200, 20, 2048, 0, 4096, 0, 0xd0, 0x0d, ext=4) + refresh(0),
    'copy': m16 + blit(300, 40, 2048, 2048, 0x8000, 0x100, 0x10, 0x0d) + refresh(0),
    'copy-back': m16 + blit(300, 40, 2048, 2048, 0x30000, 0x2f000, 0x11, 0x59) + refresh(0),
    'pattern': m16 + blit(64, 16, 2048, 0, 0x1000, 0x80000, 0x50, 0x0d) +
               blit(64, 16, 2048, 0, 0x1000, 0x80000, 0xd8, 0x6d, ext=2) + refresh(0),
    'expand': m16 + blit(64, 8, 2048, 4, 0x2000, 0x90000, 0x90, 0x0d, skip=3) + refresh(0),
    'sys': m16 + blit(32, 4, 2048, 0, 0x4000, 0, 0x94, 0x0d) +
           b''.join(ww(0x18000, i) for i in range(16)) + refresh(0),
    'bar1-autostart': m16 + mw(0x140, 0x80) + mw(0x104, 0x1234, 4) + mw(0x108, 63, 2) +
                      mw(0x10a, 3, 2) + mw(0x10c, 2048, 2) + mw(0x118, 0xd0) + mw(0x11a, 0x0d) +
                      mw(0x11b, 4) + mw(0x110, 0x3000, 4) + refresh(0),
    'out-of-range': m16 + blit(8192, 2048, 8191, 8191, 0x3fffff, 0x3fffff, 0x01, 0x0d) +
                    blit(100, 10, 100, 1000, 200000, 8000, 0x01, 0x0d),
}
for name, data in seeds.items():
    open(f'{d}/{name}', 'wb').write(data)
PY
ls -l "$cv" >&2
ls -l "$q" "$b" "$e" "$v" >&2
# ---- ctl_parse: control socket requests (see runner/ctl_parse.h) ------------
cs=$out/ctl_parse
rm -rf "$cs"
mkdir -p "$cs"
i=0
for r in "info" "quit" "powerdown" "help" "screendump /tmp/x.png" "key ctrl-alt-delete" \
	"key a shift-2 ret f1 f12 kp_enter" "pointer 10 20 5" "pointer 1" "key ctrl-" "frob x"; do
	printf "%s" "$r" > "$cs/seed$i"
	i=$((i + 1))
done
# ---- xhci: register scripts over guest RAM (see fuzz/xhci_fuzz.c) ----------
xh=$out/xhci
rm -rf "$xh"
mkdir -p "$xh"
python3 - "$xh" <<'PY'
import struct, sys
d = sys.argv[1]
OP, RT, DB = 0x40, 0x1000, 0x2000
DCBAA, CMD, ERST, EV, INCTX, OUT, EP0, EP1, BUF = (0, 0x100, 0x200, 0x400, 0x800, 0x1000, 0x1400,
                                                   0x1600, 0x1800)
def w32(off, v): return bytes([0]) + struct.pack('<HI', off, v)
def db(slot, v): return bytes([3, slot]) + struct.pack('<I', v)
def ptr(x, y, b): return bytes([4]) + struct.pack('<HHB', x, y, b)
def key(code, down): return bytes([5]) + struct.pack('<HB', code, down)
START, PRESET = bytes([7]), lambda p: bytes([8, p - 1])
def trb(param, status, ctrl): return struct.pack('<QII', param, status, ctrl | 1)
def ring(trbs, base):  # cycle 1, then a Link back to the start
    return b''.join(trbs) + trb(base, 0, 6 << 10 | 2)
def setup(t, r, v, i, n, trt): return trb(t | r << 8 | v << 16 | i << 32 | n << 48, 8,
                                          2 << 10 | 1 << 6 | trt << 16)
def seed(script, ram):
    return struct.pack('<H', len(script)) + script + bytes(ram)
def base_ram(port, slot=1, bsr=False, evsz=64, kbd=False):  # evsz <= 64 (0x400..0x800)
    ram = bytearray(0x2000)
    struct.pack_into('<QI', ram, ERST, EV, evsz)
    struct.pack_into('<Q', ram, DCBAA + 8 * slot, OUT)
    # input context: A0 A1 (A3 for Configure Endpoint), slot, EP0, EP1 IN
    struct.pack_into('<II', ram, INCTX, 0, 0xb)
    struct.pack_into('<II', ram, INCTX + 32, 3 << 27 | 3 << 20, port << 16)
    struct.pack_into('<IIQ', ram, INCTX + 64, 0, 64 << 16 | 4 << 3 | 6, EP0 | 1)
    struct.pack_into('<IIQ', ram, INCTX + 128, 0, 8 << 16 | 7 << 3 | 6, EP1 | 1)
    cmds = [trb(0, 0, 9 << 10)]                                   # Enable Slot
    if bsr:
        cmds.append(trb(INCTX, 0, 11 << 10 | 1 << 9 | slot << 24))
    cmds += [trb(INCTX, 0, 11 << 10 | slot << 24),                # Address Device
             trb(INCTX, 0, 12 << 10 | slot << 24),                # Configure Endpoint
             trb(0, 0, 23 << 10)]                                 # No-op
    ram[CMD:CMD + 16 * (len(cmds) + 1)] = ring(cmds, CMD)
    ep0 = [setup(0x80, 6, 0x100, 0, 64, 3), trb(BUF, 64, 3 << 10 | 1 << 16 | 1 << 2),
           trb(0, 0, 4 << 10 | 1 << 5),
           setup(0x81, 6, 0x2200, 0, 128, 3), trb(BUF + 64, 128, 3 << 10 | 1 << 16 | 1 << 2),
           trb(0, 0, 4 << 10 | 1 << 5)]
    if kbd:     # SET_REPORT: the LEDs
        ep0 += [setup(0x21, 9, 0x200, 0, 1, 2), trb(BUF + 0x200, 1, 3 << 10),
                trb(0, 0, 4 << 10 | 1 << 16 | 1 << 5)]
    else:       # SET_IDLE
        ep0 += [setup(0x21, 0x0a, 0, 0, 0, 0), trb(0, 0, 4 << 10 | 1 << 16 | 1 << 5)]
    ep0 += [setup(0, 9, 1, 0, 0, 0), trb(0, 0, 4 << 10 | 1 << 16 | 1 << 5)]
    ram[EP0:EP0 + 16 * (len(ep0) + 1)] = ring(ep0, EP0)
    ep1 = [trb(BUF + 0x100 + 16 * i, 8, 1 << 10 | 1 << 5 | 1 << 2) for i in range(4)]
    ram[EP1:EP1 + 16 * (len(ep1) + 1)] = ring(ep1, EP1)
    ram[BUF + 0x200] = 2
    return ram
run = lambda port: START + PRESET(port) + db(0, 0) + db(1, 1) + db(1, 3)
seeds = {
    'start': seed(START, struct.pack('<512xQI', EV, 64).ljust(0x800, b'\0')),
    'tablet': seed(run(1) + ptr(100, 200, 1) + ptr(0x7fff, 0, 0) + bytes([2, 0x20, 0x10, 8]),
                   base_ram(1)),
    'tablet-bsr': seed(run(1) + ptr(5, 5, 4), base_ram(1, bsr=True)),
    'keyboard': seed(run(2) + key(0x1e, 1) + key(0xe048, 1) + key(0x1e, 0) + key(0xe048, 0),
                     base_ram(2, kbd=True)),
    'no-device': seed(run(3), base_ram(3)),
    'small-event-ring': seed(run(1) + ptr(1, 1, 0) * 6, base_ram(1, evsz=16)),
    'msix': seed(bytes([6, 0x53, 0x80]) + w32(0x3000, 0xfee00000) + w32(0x300c, 0) + run(1) +
                 ptr(9, 9, 2), base_ram(1)),
    'stop-reset': seed(run(1) + w32(OP + 0x18, 4) + db(0, 0), base_ram(1)),
}
for name, data in seeds.items():
    open(f'{d}/{name}', 'wb').write(data)
PY
ls -l "$xh" >&2

# ---- i8042: two bytes an operation (see fuzz/i8042_fuzz.c) ------------------
i8=$out/i8042
rm -rf "$i8"
mkdir -p "$i8"
python3 - "$i8" <<'PY'
import sys
d = sys.argv[1]
W60, W64, R60, R64, KEY, MOUSE = 0, 2, 4, 5, 6, 7
def ops(*pairs):
    return bytes(b for p in pairs for b in p)
# Linux's i8042 probe: self-test, CTR read and write, aux loop, then atkbd/psmouse.
probe = ops((W64, 0xaa), (R60, 0), (W64, 0x20), (R60, 0), (W64, 0x60), (W60, 0x47),
            (W64, 0xd3), (W60, 0x5a), (R60, 0), (W64, 0xa8), (W64, 0xa9), (R60, 0))
atkbd = ops((W60, 0xf2), (R60, 0), (R60, 0), (R60, 0), (W60, 0xed), (R60, 0), (W60, 0x07),
            (R60, 0), (W60, 0xf4), (R60, 0))
knock = ops(*[p for r in (200, 100, 80) for p in ((W64, 0xd4), (W60, 0xf3), (R60, 0),
                                                 (W64, 0xd4), (W60, r), (R60, 0))],
            (W64, 0xd4), (W60, 0xf2), (R60, 0), (R60, 0), (W64, 0xd4), (W60, 0xf4), (R60, 0))
seeds = {
    'probe': probe,
    'keyboard': probe + atkbd + ops((KEY | 0x40, 0x1e), (R64, 0), (R60, 0), (KEY, 0x1e),
                                    (R60, 0), (KEY | 0x40, 0x80 | 0x48), (R60, 0), (R60, 0)),
    'mouse': probe + knock + ops((MOUSE | 8, 0x7f), (R64, 0), (R60, 0), (R60, 0), (R60, 0),
                                 (R60, 0), (MOUSE, 0x80)),
    'reset': probe + ops((W64, 0xd1), (W60, 0xfe), (W64, 0xfe)),
}
for name, data in seeds.items():
    open(f'{d}/{name}', 'wb').write(data)
PY
ls -l "$i8" >&2

# ---- rfb_msg: RFB client message streams (see fuzz/rfb_msg_fuzz.c) --------
rm_=$out/rfb_msg
rm -rf "$rm_"
mkdir -p "$rm_"
python3 - "$rm_" <<'PY'
import struct, sys
d = sys.argv[1]
def pixfmt(bpp, depth, be, tc, rmax, gmax, bmax, rs, gs, bs):
    return struct.pack('>B3xBBBBHHHBBB3x', 0, bpp, depth, be, tc, rmax, gmax, bmax, rs, gs, bs)
def encodings(*e): return struct.pack('>BxH', 2, len(e)) + struct.pack(f'>{len(e)}i', *e)
def update(inc, x, y, w, h): return struct.pack('>BBHHHH', 3, inc, x, y, w, h)
def key(down, sym): return struct.pack('>BBxxI', 4, down, sym)
def pointer(b, x, y): return struct.pack('>BBHH', 5, b, x, y)
def cut(text): return struct.pack('>BxxxI', 6, len(text)) + text
def desktop(w, h, screens):
    return struct.pack('>BxHHBx', 251, w, h, len(screens)) + b''.join(
        struct.pack('>IHHHHI', i, x, y, sw, sh, 0) for i, (x, y, sw, sh) in enumerate(screens))
def qkey(down, sym, code): return struct.pack('>BBHII', 255, 0, down, sym, code)
novnc = (pixfmt(32, 24, 0, 1, 255, 255, 255, 0, 8, 16) +
         encodings(7, 5, 1, 0, -26, -247, -223, -224, -239, -257, -258, -261, -308) +
         update(0, 0, 0, 1024, 768))
seeds = {
    'novnc-start': novnc,
    'tigervnc-start': pixfmt(16, 16, 1, 1, 31, 63, 31, 11, 5, 0) +
                      encodings(16, 7, 5, 1, 0, -223, -308, -224, -258, -257) +
                      update(0, 0, 0, 640, 480) + update(1, 0, 0, 640, 480),
    'colour-map': pixfmt(8, 8, 0, 0, 0, 0, 0, 0, 0, 0) + encodings() + update(0, 0, 0, 8, 8),
    'input': key(1, 0xffe1) + key(1, 0x40) + key(0, 0x40) + key(0, 0xffe1) +
             pointer(1, 10, 20) + pointer(0, 10, 20) + pointer(8, 0, 0) +
             qkey(1, 0x61, 0x1e) + qkey(0, 0x61, 0x1e) + qkey(1, 0xff52, 0xc8),
    'cut-text': cut(b'hello \xe9') + cut(b'') + update(1, 0, 0, 1, 1),
    'desktop-size': desktop(1280, 800, [(0, 0, 1280, 800)]) +
                    desktop(2048, 768, [(0, 0, 1024, 768), (1024, 0, 1024, 768)]),
    'bad-pixfmt': pixfmt(24, 24, 0, 1, 255, 255, 255, 16, 8, 0),
    'bad-cut': struct.pack('>BxxxI', 6, 0x80000010) + bytes(16),
    'bad-qemu': struct.pack('>BBHII', 255, 1, 0, 0, 0),
    'partial': novnc + encodings(0, 1, 2)[:7],
}
for name, data in seeds.items():
    open(f'{d}/{name}', 'wb').write(data)
PY
ls -l "$rm_" >&2

# ---- rfb_enc: format, size, JPEG, level, updates, pixels (see fuzz/rfb_enc_fuzz.c)
re_=$out/rfb_enc
rm -rf "$re_"
mkdir -p "$re_"
python3 - "$re_" <<'PY'
import struct, sys
d = sys.argv[1]
def pf(bpp, depth, be, tc, rm, gm, bm, rs, gs, bs):
    return struct.pack('>BBBBHHHBBBxxx', bpp, depth, be, tc, rm, gm, bm, rs, gs, bs)
def seed(fmt, w, h, jpeg, level, updates, pixels, wire=None):
    head = bytes([fmt | (0x80 if wire else 0)]) + (wire or bytes(16))
    head += bytes([w - 1, h - 1, jpeg, level])
    return head + b''.join(bytes(u) for u in updates) + pixels
full = lambda e: (e, 0, 0, 255, 255)
seeds = {
    'raw-xrgb': seed(0, 17, 9, 255, 6, [full(0)], bytes(range(0, 256, 5))),
    'hextile-text': seed(3, 40, 33, 255, 6, [full(1), (1, 3, 4, 20, 10)],
                         b'\x00\x00\xaa' * 13 + b'\xff\xff\x55' * 3),
    'zrle-be': seed(1, 70, 70, 255, 1, [full(2), full(2), (2, 5, 9, 30, 30)],
                    bytes(range(97))),
    'tight-palette': seed(4, 64, 20, 255, 9, [full(3), (3, 2, 2, 7, 7)],
                          b'\x10\x20\x30' * 5 + b'\xf0\xe0\xd0' * 2 + b'\x00\x80\x00'),
    'tight-jpeg': seed(0, 79, 50, 5, 2, [full(3)], bytes(range(251))),
    'colour-map': seed(6, 30, 30, 255, 6, [full(0), full(1), full(2), full(3)],
                       bytes(range(0, 256, 3))),
    'wire-format': seed(0, 20, 20, 255, 6, [full(1), full(2), full(3)], bytes(range(61)),
                        wire=pf(32, 24, 1, 1, 255, 255, 255, 24, 16, 8)),
}
for name, data in seeds.items():
    open(f'{d}/{name}', 'wb').write(data)
PY

# ---- vnc_ws: a WebSocket upgrade request, then masked client frames ---------
vw=$out/vnc_ws
rm -rf "$vw"
mkdir -p "$vw"
python3 - "$vw" <<'PY'
import struct, sys
d = sys.argv[1]
req = (b'GET /websockify HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n'
       b'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
       b'Sec-WebSocket-Protocol: binary\r\nSec-WebSocket-Version: 13\r\n\r\n')
def frame(b0, payload, mask=b'\x11\x22\x33\x44', wide=False):
    n = len(payload)
    if wide:    # a 64-bit length for a short payload: allowed, not minimal
        h = bytes([b0, 0x80 | 127]) + struct.pack('>Q', n)
    elif n < 126:
        h = bytes([b0, 0x80 | n])
    elif n < 65536:
        h = bytes([b0, 0x80 | 126]) + struct.pack('>H', n)
    else:
        h = bytes([b0, 0x80 | 127]) + struct.pack('>Q', n)
    return h + mask + bytes(c ^ mask[i & 3] for i, c in enumerate(payload))
seeds = {
    'binary': req + frame(0x82, b'\x03\x00\x00\x00\x00\x00\x04\x00\x03'),
    'fragments-ping': req + frame(0x01, b'he') + frame(0x89, b'hb') + frame(0x00, b'l') +
                      frame(0x80, b'lo'),
    'len16-close': req + frame(0x82, bytes(range(256)) * 2) + frame(0x88, b'\x03\xe8'),
    'len64': req + frame(0x82, bytes(range(200)), wide=True),
    'pong-empty': req + frame(0x8a, b'') + frame(0x82, b''),
    'request-only': req.replace(b'Upgrade: websocket', b'upgrade: WebSocket'),
}
for name, data in seeds.items():
    open(f'{d}/{name}', 'wb').write(data)
PY

# ---- vnc_scroll: width, height, rectangle, old picture, new picture -------------
vs=$out/vnc_scroll
mkdir -p "$vs"
python3 - "$vs" <<'PY'
import random, sys
d = sys.argv[1]
random.seed(7)
w, h = 40, 60
rows = [bytes(random.randrange(256) for _ in range(w * 3)) for _ in range(h + 8)]
for k, (name, shift) in enumerate((('up1', 1), ('up5', 5), ('none', 0))):
    old = b''.join(rows[:h])
    cur = b''.join(rows[shift:shift + h])
    open(f'{d}/scroll-{name}', 'wb').write(bytes([w - 1, h - 1, 0, 0, w, h]) + old + cur)
blank = bytes(w * 3 * h)
open(f'{d}/blank', 'wb').write(bytes([w - 1, h - 1, 0, 0, w, h]) + blank + blank)
PY
