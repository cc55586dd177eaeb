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
ls -l "$q" "$b" "$e" "$v" >&2
