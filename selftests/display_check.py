#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks for selftests/display_boot.sh, on the build host (stdlib only).

  display_check.py fb PNG RBITS GBITS BBITS   screendump == fbfill's pattern
  display_check.py text PNG                    fbcon text: many non-background pixels
  display_check.py vgatext PNG                 the cells the guest wrote at 0xb8000
  display_check.py tablet EVFILE W H X,Y,B...  EV_ABS/EV_KEY frames of ctl pointer moves
  display_check.py keys EVFILE CODE,VAL...     EV_KEY presses and releases, in order
  display_check.py rel EVFILE DX,DY...         EV_REL sums per move (SYN frames merged)
  display_check.py click EVFILE W H X Y [N]    the Nth left click (default 1) at pixel (X,Y) of
                                               a WxH screen: the ABS state when BTN_LEFT went
                                               down, then up

Exit status 0 when the check holds; a line on stdout says why not.
"""
import struct
import sys
import zlib


def png_rgb(path):
    """(width, height, rows of bytes RGB) of an 8-bit RGB PNG."""
    data = open(path, 'rb').read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG')
    pos, idat, hdr = 8, b'', None
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b'IHDR':
            hdr = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat += body
        elif kind == b'IEND':
            break
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype != 2 or interlace:
        raise ValueError('PNG is not 8-bit RGB, non-interlaced')
    raw = zlib.decompress(idat)
    bpp, stride = 3, w * 3
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        cur = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = cur[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                cur[i] = (cur[i] + a) & 255
            elif f == 2:
                cur[i] = (cur[i] + b) & 255
            elif f == 3:
                cur[i] = (cur[i] + ((a + b) >> 1)) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[i] = (cur[i] + pr) & 255
        rows.append(bytes(cur))
        prev = cur
    return w, h, rows


def expand(v8, bits):
    """A component cut to @bits and widened back as the console does (c5, c6)."""
    v = v8 >> (8 - bits)
    if bits == 5:
        return (v << 3) | (v >> 2)
    if bits == 6:
        return (v << 2) | (v >> 4)
    return v


def check_fb(path, rb, gb, bb):
    w, h, rows = png_rgb(path)
    if (w, h) != (1024, 768):
        return 'screendump is %dx%d, not 1024x768' % (w, h)
    bad, first = 0, None
    for y in range(h):
        exp = bytearray(w * 3)
        for x in range(w):
            r, g, b = x * 255 // (w - 1), y * 255 // (h - 1), (x ^ y) & 255
            if 200 <= x < 264 and 300 <= y < 332:
                r, g, b = 0xff, 0, 0x80
            exp[x * 3:x * 3 + 3] = bytes((expand(r, rb), expand(g, gb), expand(b, bb)))
        if rows[y] != exp:
            for x in range(w):
                if rows[y][x * 3:x * 3 + 3] != exp[x * 3:x * 3 + 3]:
                    bad += 1
                    if first is None:
                        first = (x, y, rows[y][x * 3:x * 3 + 3].hex(), exp[x * 3:x * 3 + 3].hex())
    if bad:
        return '%d pixels differ; first at (%d,%d): got %s, want %s' % ((bad,) + first)
    print('fb: all %d pixels match' % (w * h))
    return None


def colour_counts(rows, w, x0=0, y0=0, x1=None, y1=None):
    counts = {}
    for y in range(y0, y1 if y1 is not None else len(rows)):
        r = rows[y]
        for x in range(x0, x1 if x1 is not None else w):
            c = r[x * 3:x * 3 + 3]
            counts[c] = counts.get(c, 0) + 1
    return counts


def check_text(path):
    w, h, rows = png_rgb(path)
    counts = colour_counts(rows, w)
    bg, n = max(counts.items(), key=lambda kv: kv[1])
    other = w * h - n
    print('text: %dx%d, background %s, %d other pixels' % (w, h, bg.hex(), other))
    if other < 5000:
        return 'only %d non-background pixels' % other
    return None


# What the guest wrote (display_boot.sh): "KVL" at row 1 with attribute
# 0x1f, "K" at row 3 column 5 with 0x4e, nothing else.  Cell (0,0) holds
# the cursor (an underline) and is left out.
def cell(rows, cx, cy):
    return [rows[cy * 16 + l][cx * 24:cx * 24 + 24] for l in range(16)]


def check_vgatext(path):
    w, h, rows = png_rgb(path)
    if (w, h) != (720, 400) and (w, h) != (640, 400):
        return 'text mode screendump is %dx%d, not 640x400 (or 720x400)' % (w, h)
    written = {(0, 1), (1, 1), (2, 1), (5, 3)}
    for cy in range(25):
        for cx in range(80):
            if (cx, cy) in written or (cx, cy) == (0, 0):
                continue
            if any(set(l[i:i + 3] for i in range(0, 24, 3)) != {b'\0\0\0'}
                   for l in cell(rows, cx, cy)):
                return 'cell (%d,%d) is not blank' % (cx, cy)
    shapes = {}
    for (cx, cy) in written:
        c = cell(rows, cx, cy)
        cols = set(l[i:i + 3] for l in c for i in range(0, 24, 3))
        if len(cols) != 2:
            return 'cell (%d,%d) has %d colours' % (cx, cy, len(cols))
        bg = c[0][0:3]
        shapes[(cx, cy)] = [tuple(l[i:i + 3] != bg for i in range(0, 24, 3)) for l in c]
        fg = (cols - {bg}).pop()
        if (cx, cy) == (0, 1):
            # 0x1f: bright white on blue
            if not (fg[0] == fg[1] == fg[2] >= 0xa8 and bg[0] == bg[1] == 0 and bg[2] >= 0xa0):
                return 'cell (0,1) colours %s on %s, not white on blue' % (fg.hex(), bg.hex())
        if (cx, cy) == (5, 3):
            # 0x4e: yellow on red
            if not (fg[0] >= 0xa8 and fg[1] >= 0xa8 and fg[2] < 0x80 and bg[0] >= 0xa0 and bg[1] < 0x40):
                return 'cell (5,3) colours %s on %s, not yellow on red' % (fg.hex(), bg.hex())
    if shapes[(0, 1)] != shapes[(5, 3)]:
        return 'the two K glyphs differ'
    if len({str(shapes[k]) for k in [(0, 1), (1, 1), (2, 1)]}) != 3:
        return 'K, V and L are not three different glyphs'
    n = sum(sum(l) for l in shapes[(0, 1)])
    if not 20 <= n <= 80:
        return 'the K glyph has %d foreground pixels' % n
    print('vgatext: 640x400, 4 written cells as expected, %d pixels in K, the rest blank' % n)
    return None


def events(path):
    """Frames (lists of (type, code, value)) split at SYN_REPORT."""
    frames, cur = [], []
    for line in open(path, errors='replace'):
        f = line.split()
        if len(f) != 4 or f[0] != 'EV':
            continue
        t, c, v = int(f[1]), int(f[2]), int(f[3])
        if t == 0 and c == 0:
            if cur:
                frames.append(cur)
            cur = []
        elif t in (1, 2, 3) and not (t == 1 and v == 2):   # autorepeat left out
            cur.append((t, c, v))
    if cur:
        frames.append(cur)
    return frames


def scale(v, from_max, to_max):
    return (v * to_max + from_max // 2) // from_max


def check_tablet(path, w, h, moves):
    frames = events(path)
    exp, btn = [], 0
    for m in moves:
        x, y, b = (int(s) for s in m.split(','))
        fr = [(3, 0, scale(x, w - 1, 0x7fff)), (3, 1, scale(y, h - 1, 0x7fff))]
        if (b & 1) != (btn & 1):
            fr.append((1, 0x110, b & 1))
        btn = b
        exp.append(sorted(fr))
    got = [sorted(f) for f in frames]
    print('tablet: got %s' % got)
    print('tablet: want %s' % exp)
    return None if got == exp else 'tablet events differ'


def check_keys(path, want):
    got = [(c, v) for f in events(path) for (t, c, v) in f if t == 1]
    exp = [tuple(int(s) for s in k.split(',')) for k in want]
    print('keys: got %s' % got)
    return None if got == exp else 'key events differ from %s' % exp


def check_rel(path, want):
    x = y = 0
    path_pts = []
    for f in events(path):
        for (t, c, v) in f:
            if t == 2 and c == 0:
                x += v
            elif t == 2 and c == 1:
                y += v
        path_pts.append((x, y))
    exp, cx, cy = [], 0, 0
    for m in want:
        dx, dy = (int(s) for s in m.split(','))
        cx, cy = cx + dx, cy + dy
        exp.append((cx, cy))
    print('rel: positions after each frame %s, want to pass %s' % (path_pts, exp))
    # Each move's target is reached in order (a move may take several packets).
    i = 0
    for p in path_pts:
        if i < len(exp) and p == exp[i]:
            i += 1
    return None if i == len(exp) and path_pts[-1] == exp[-1] else 'relative motion differs'


def check_click(path, w, h, x, y, nth=1):
    ax = ay = down = None
    up = False
    presses = 0
    for f in events(path):
        # a frame's ABS values hold when its button changes, whatever their order
        for (t, c, v) in f:
            if t == 3 and c == 0:
                ax = v
            elif t == 3 and c == 1:
                ay = v
        for (t, c, v) in f:
            if t == 1 and c == 0x110 and v == 1 and down is None:
                presses += 1
                if presses == nth:
                    down = (ax, ay)
            elif t == 1 and c == 0x110 and v == 0 and down is not None:
                up = True
    want = (scale(x, w - 1, 0x7fff), scale(y, h - 1, 0x7fff))
    print('click: pointer at %s when the button went down, want %s; released: %s' %
          (down, want, up))
    return None if down == want and up else 'click differs'


def main(a):
    try:
        if a[0] == 'fb':
            err = check_fb(a[1], int(a[2]), int(a[3]), int(a[4]))
        elif a[0] == 'text':
            err = check_text(a[1])
        elif a[0] == 'vgatext':
            err = check_vgatext(a[1])
        elif a[0] == 'tablet':
            err = check_tablet(a[1], int(a[2]), int(a[3]), a[4:])
        elif a[0] == 'keys':
            err = check_keys(a[1], a[2:])
        elif a[0] == 'rel':
            err = check_rel(a[1], a[2:])
        elif a[0] == 'click':
            err = check_click(a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]),
                              int(a[6]) if len(a) > 6 else 1)
        else:
            err = 'unknown check ' + a[0]
    except (OSError, ValueError, IndexError, TypeError, zlib.error) as e:
        err = '%s: %s' % (a[0], e)
    if err:
        print('FAIL: ' + err)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
