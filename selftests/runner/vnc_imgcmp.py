#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Compare a VNC client's screenshot with the expected picture.

  vnc_imgcmp.py EXPECTED ACTUAL [--tol N] [--psnr DB] [--at X,Y] [--bad N]

ACTUAL is cropped at X,Y (default 0,0) to EXPECTED's size.  Passes (status
0) when the sizes fit and no pixel differs by more than N (default 0) in
any channel, allowing up to --bad such pixels; with --psnr, when the PSNR
is at least DB instead.  Prints one line: size, max error, bad pixels, PSNR.
"""
import math
import sys

from PIL import Image, ImageChops


def main():
    args = sys.argv[1:]
    opts = {'--tol': '0', '--psnr': None, '--at': '0,0', '--bad': '0'}
    pos = []
    while args:
        a = args.pop(0)
        if a in opts:
            opts[a] = args.pop(0)
        else:
            pos.append(a)
    if len(pos) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exp = Image.open(pos[0]).convert('RGB')
    act = Image.open(pos[1]).convert('RGB')
    x, y = (int(v) for v in opts['--at'].split(','))
    w, h = exp.size
    if act.size[0] < x + w or act.size[1] < y + h:
        print('size %dx%d: too small for %dx%d at %d,%d' % (act.size + exp.size + (x, y)))
        return 1
    act = act.crop((x, y, x + w, y + h))
    diff = ImageChops.difference(exp, act)
    tol = int(opts['--tol'])
    maxerr = max(hi for lo, hi in diff.getextrema())
    chans = [c.point(lambda v: 255 if v > tol else 0) for c in diff.split()]
    over = ImageChops.lighter(ImageChops.lighter(chans[0], chans[1]), chans[2])
    bad = over.histogram()[255]
    hist = diff.histogram()
    sq = sum(hist[c * 256 + v] * v * v for c in range(3) for v in range(256))
    mse = sq / (3.0 * w * h)
    psnr = 99.0 if mse == 0 else 10 * math.log10(255.0 * 255.0 / mse)
    first = ''
    if bad:
        i = list(over.getdata()).index(255)
        px = (i % w, i // w)
        first = ' first at %d,%d want %s got %s' % (px + (exp.getpixel(px), act.getpixel(px)))
    print('size %dx%d maxerr %d bad %d (tol %d) psnr %.1f%s' % (w, h, maxerr, bad, tol, psnr,
                                                              first))
    if opts['--psnr'] is not None:
        return 0 if psnr >= float(opts['--psnr']) else 1
    return 0 if bad <= int(opts['--bad']) else 1


if __name__ == '__main__':
    sys.exit(main())
