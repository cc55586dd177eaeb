#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Hostile clients against the VNC server (issue 15), on this machine.

    selftests/runner/vnc_hostile.py [SYNTH]

Starts build/host/runner/vnc_synth (runner/vnc.c behind a synthetic 320x200
display, under ASan + UBSan) twice on 127.0.0.1: one without authentication,
one with a VNC password.  Each attack is followed by a health check: a
well-behaved RFB 3.8 client gets a Raw full update within a few seconds and
its pixels match the picture vnc_synth wrote (--expect), the server process
is alive and its RSS stays under its start + 200 MB.

Attacks: bad, short and over-long version strings; clients that stall in the
handshake (dropped after the server's 10 s deadline) and mid-message after
it; unknown message types; SetEncodings with 65535 entries and one that lies
about its count; each kind of bad SetPixelFormat; ClientCutText of 1 MiB,
1 MiB + 1 and with the top bit set; update requests outside the screen; 64
clients at once beside one that never reads (a 65th refused); 30 parallel
wrong VNC passwords (rate-limited); 10k pointer and key events.

Prints TAP ("ok N name", "not ok N name", "# ..."); status 1 if any check
failed; the last comment line says how many attacks ran.  VNC_HOSTILE_KEEP=1
keeps the servers' logs (the directory is printed).  Python 3
standard library only; about 15 s.
"""
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SYNTH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, 'build/host/runner/vnc_synth')
W, H = 320, 200
RSS_SLACK_KB = 200 * 1024
HANDSHAKE_S = 10		# VNC_HANDSHAKE_S in runner/vnc.c
MAX_CLIENTS = 64		# vnc_opts.max_clients default
FAIL_MAX = 5			# VNC_FAIL_MAX per VNC_FAIL_WINDOW_S
FAIL_WINDOW_S = 10
PASSWORD = 'hostile9'

# ---- TAP -----------------------------------------------------------------------------
_lock = threading.Lock()
_n = 0
_failed = 0
attacks = 0


def res(name, ok, diag=''):
    global _n, _failed
    with _lock:
        _n += 1
        print(('ok %d %s' if ok else 'not ok %d %s') % (_n, name))
        if not ok:
            _failed += 1
        if diag:
            print('# %s: %s' % (name, diag))
        sys.stdout.flush()


def note(msg):
    with _lock:
        print('# ' + msg)
        sys.stdout.flush()


def attack():
    global attacks
    with _lock:
        attacks += 1


# ---- DES for VNC authentication (FIPS 46-3) -----------------------------------------
_IP = [58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
       62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
       57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
       61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7]
_FP = [40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31,
       38, 6, 46, 14, 54, 22, 62, 30, 37, 5, 45, 13, 53, 21, 61, 29,
       36, 4, 44, 12, 52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27,
       34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9, 49, 17, 57, 25]
_E = [32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17,
      16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25, 24, 25, 26, 27, 28, 29, 28, 29, 30, 31,
      32, 1]
_P = [16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
      2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25]
_PC1 = [57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19,
        11, 3, 60, 52, 44, 36, 63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6,
        61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4]
_PC2 = [14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
        41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36,
        29, 32]
_SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1]
_S = [
    [14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12,
     11, 9, 5, 3, 8, 4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1,
     7, 5, 11, 3, 14, 10, 0, 6, 13],
    [15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1,
     10, 6, 9, 11, 5, 0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15,
     4, 2, 11, 6, 7, 12, 0, 5, 14, 9],
    [10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14,
     12, 11, 15, 1, 13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8,
     7, 4, 15, 14, 3, 11, 5, 2, 12],
    [7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12,
     1, 10, 14, 9, 10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13,
     8, 9, 4, 5, 11, 12, 7, 2, 14],
    [2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15,
     10, 3, 9, 8, 6, 4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2,
     13, 6, 15, 0, 9, 10, 4, 5, 3],
    [12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13,
     14, 0, 11, 3, 8, 9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15,
     10, 11, 14, 1, 7, 6, 0, 8, 13],
    [4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5,
     12, 2, 15, 8, 6, 1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10,
     7, 9, 5, 0, 15, 14, 2, 3, 12],
    [13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6,
     11, 0, 14, 9, 2, 7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8,
     13, 15, 12, 9, 0, 3, 5, 6, 11]]


def _perm(v, table, width):
    out = 0
    for p in table:
        out = out << 1 | (v >> (width - p)) & 1
    return out


def des_encrypt_block(key, block):
    k = _perm(int.from_bytes(key, 'big'), _PC1, 64)
    c, d = k >> 28, k & 0xfffffff
    subkeys = []
    for s in _SHIFTS:
        c = (c << s | c >> (28 - s)) & 0xfffffff
        d = (d << s | d >> (28 - s)) & 0xfffffff
        subkeys.append(_perm(c << 28 | d, _PC2, 56))
    v = _perm(int.from_bytes(block, 'big'), _IP, 64)
    left, right = v >> 32, v & 0xffffffff
    for sk in subkeys:
        x = _perm(right, _E, 32) ^ sk
        f = 0
        for i in range(8):
            six = (x >> (42 - 6 * i)) & 0x3f
            f = f << 4 | _S[i][(six & 0x20) | (six & 1) << 4 | (six >> 1) & 0xf]
        left, right = right, left ^ _perm(f, _P, 32)
    return _perm(right << 32 | left, _FP, 64).to_bytes(8, 'big')


def vnc_response(password, challenge):
    key = bytes(int('{:08b}'.format(b)[::-1], 2) for b in password.encode()[:8].ljust(8, b'\0'))
    return des_encrypt_block(key, challenge[:8]) + des_encrypt_block(key, challenge[8:])


# ---- the servers ---------------------------------------------------------------------
class Server:
    def __init__(self, tmp, name, extra=''):
        self.name = name
        self.log = os.path.join(tmp, name + '.log')
        self.err = os.path.join(tmp, name + '.err')
        self.ppm = os.path.join(tmp, name + '.ppm')
        open(self.log, 'w').close()
        errf = open(self.err, 'w')
        # A free port (the server takes 1..65535 only): what the kernel picks for 0.
        with socket.socket() as t:
            t.bind(('127.0.0.1', 0))
            port = t.getsockname()[1]
        self.proc = subprocess.Popen(
            [SYNTH, '--vnc', '127.0.0.1:%d' % port + extra, '--size', '%dx%d' % (W, H),
             '--log', self.log, '--expect', self.ppm],
            stdout=subprocess.DEVNULL, stderr=errf)
        errf.close()
        self.port = None
        for _ in range(100):
            m = re.search(r'vnc: listening on 127\.0\.0\.1:(\d+)', self.read_err())
            if m and 'ready' in open(self.log).read():
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        if self.port is None:
            raise RuntimeError('server %s did not start: %s' % (name, self.read_err()[-300:]))
        self.rss0 = self.rss()
        self.rss_max = self.rss0
        with open(self.ppm, 'rb') as f:
            data = f.read()
        m = re.match(rb'P6\s+(\d+)\s+(\d+)\s+255\s', data)
        self.pw, self.ph = int(m.group(1)), int(m.group(2))
        self.pixels = data[m.end():]

    def read_err(self):
        with open(self.err, errors='replace') as f:
            return f.read()

    def rss(self):
        try:
            with open('/proc/%d/status' % self.proc.pid) as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        return int(line.split()[1])
        except OSError:
            pass
        return -1

    def alive(self):
        return self.proc.poll() is None

    def expect_px(self, x, y):
        o = (y * self.pw + x) * 3
        return tuple(self.pixels[o:o + 3])

    def stop(self):
        """SIGTERM; 1 if it exits cleanly (status 0, sanitizers quiet)."""
        ok = True
        why = ''
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                ok, why = False, 'hung at exit'
        if self.proc.returncode != 0:
            ok, why = False, why or 'status %d' % self.proc.returncode
        err = self.read_err()
        if re.search(r'ERROR: (Address|Leak)Sanitizer|runtime error', err):
            ok = False
            lines = [ln for ln in err.splitlines()
                     if 'ERROR' in ln or 'runtime error' in ln or re.match(r'\s*#\d ', ln)]
            for ln in lines[:30]:
                note(ln)
        return ok, why


# ---- a client ------------------------------------------------------------------------
class Refused(Exception):
    pass


def recvn(s, n):
    buf = bytearray()
    while len(buf) < n:
        b = s.recv(min(n - len(buf), 1 << 20))
        if not b:
            raise EOFError('closed after %d of %d bytes' % (len(buf), n))
        buf += b
    return bytes(buf)


def connect(port, timeout=5.0, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(('127.0.0.1', port))
    return s


def reason(s):
    n = struct.unpack('>I', recvn(s, 4))[0]
    return recvn(s, min(n, 4096)).decode(errors='replace')


def handshake(port, password=None, timeout=5.0, rcvbuf=None, sock=None):
    """RFB 3.8 up to ServerInit: (socket, width, height)."""
    s = sock or connect(port, timeout, rcvbuf)
    try:
        if recvn(s, 12) != b'RFB 003.008\n':
            raise Refused('bad server version')
        s.sendall(b'RFB 003.008\n')
        n = recvn(s, 1)[0]
        if n == 0:
            raise Refused(reason(s))
        types = recvn(s, n)
        if password is None:
            if 1 not in types:
                raise Refused('no None security type: %r' % types)
            s.sendall(b'\x01')
        else:
            if 2 not in types:
                raise Refused('no VNC security type: %r' % types)
            s.sendall(b'\x02')
            s.sendall(vnc_response(password, recvn(s, 16)))
        if struct.unpack('>I', recvn(s, 4))[0] != 0:
            raise Refused('security result: ' + reason(s))
        s.sendall(b'\x01')	# shared
        w, h = struct.unpack('>HH', recvn(s, 4))
        recvn(s, 16)
        recvn(s, struct.unpack('>I', recvn(s, 4))[0])
        return s, w, h
    except BaseException:
        s.close()
        raise


SET_PF_RGBX = struct.pack('>B3xBBBBHHHBBB3x', 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
SET_ENC_RAW = struct.pack('>BxHi', 2, 1, 0)


def fbur(incremental, x, y, w, h):
    return struct.pack('>BBHHHH', 3, incremental, x, y, w, h)


def read_update(s, bpp=4):
    """The next FramebufferUpdate (other server messages skipped): [(x, y, w, h, data)]."""
    while True:
        t = recvn(s, 1)[0]
        if t == 0:
            break
        if t == 1:
            n = struct.unpack('>xHH', recvn(s, 5))[1]
            recvn(s, 6 * n)
        elif t == 2:
            pass
        elif t == 3:
            recvn(s, struct.unpack('>3xI', recvn(s, 7))[0])
        else:
            raise ValueError('unknown server message %d' % t)
    count = struct.unpack('>xH', recvn(s, 3))[0]
    rects = []
    for _ in range(count):
        x, y, w, h, enc = struct.unpack('>HHHHi', recvn(s, 12))
        # Pseudo-rectangles (answers to a SetEncodings that asked for them) are skipped.
        if enc in (-223, -257, -258):
            continue
        if enc == -261:
            recvn(s, 1)
        elif enc == -239:
            recvn(s, w * h * bpp + (w + 7) // 8 * h)
        elif enc == -308:
            recvn(s, 4 + 16 * recvn(s, 4)[0] - 4)
        elif enc != 0:
            raise ValueError('rectangle encoding %d, asked Raw' % enc)
        else:
            rects.append((x, y, w, h, recvn(s, w * h * bpp)))
    return rects


SAMPLE = [(0, 0), (5, 10), (100, 15), (319, 0), (17, 70), (300, 110), (40, 150), (250, 190),
          (319, 199), (200, 140)]


def check_picture(srv, rects):
    """'' if the rectangles cover the screen with the expected pixels, else what differs."""
    for (px, py) in SAMPLE:
        for (x, y, w, h, data) in rects:
            if x <= px < x + w and y <= py < y + h:
                o = ((py - y) * w + (px - x)) * 4
                got = (data[o + 2], data[o + 1], data[o])
                if got != srv.expect_px(px, py):
                    return 'pixel %d,%d: %r, want %r' % (px, py, got, srv.expect_px(px, py))
                break
        else:
            return 'pixel %d,%d not in the update' % (px, py)
    return ''


def full_update(srv, password=None, timeout=5.0):
    """A well-behaved client's full Raw update: '' or what went wrong; and the seconds."""
    t0 = time.monotonic()
    try:
        s, w, h = handshake(srv.port, password, timeout)
    except (OSError, EOFError, Refused) as e:
        return 'handshake: %s' % e, time.monotonic() - t0
    try:
        if (w, h) != (W, H):
            return 'screen %dx%d' % (w, h), time.monotonic() - t0
        s.sendall(SET_PF_RGBX + SET_ENC_RAW + fbur(0, 0, 0, w, h))
        return check_picture(srv, read_update(s)), time.monotonic() - t0
    except (OSError, EOFError, ValueError) as e:
        return 'update: %s' % e, time.monotonic() - t0
    finally:
        s.close()


def health(srv, name, password=None):
    """After an attack: a normal client served within 3 s, alive, RSS bounded."""
    if not srv.alive():
        res(name + '.health', False, 'server died (status %s): %s' %
            (srv.proc.returncode, srv.read_err()[-400:]))
        return False
    why, secs = full_update(srv, password)
    rss = srv.rss()
    srv.rss_max = max(srv.rss_max, rss)
    if not why and secs > 3:
        why = 'served in %.1f s' % secs
    if not why and rss > srv.rss0 + RSS_SLACK_KB:
        why = 'RSS %d kB, started at %d kB' % (rss, srv.rss0)
    if not why and not srv.alive():
        why = 'server died'
    res(name + '.health', not why, why)
    return not why


def closed_within(s, secs):
    """True if the server closes @s (EOF or reset) within @secs; reads and drops data."""
    end = time.monotonic() + secs
    try:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return False
            s.settimeout(left)
            if not s.recv(65536):
                return True
    except socket.timeout:
        return False
    except OSError:
        return True


def raw_session(srv, timeout=5.0):
    s, w, h = handshake(srv.port, None, timeout)
    s.sendall(SET_PF_RGBX + SET_ENC_RAW)
    return s


def dropped_after(srv, payload, secs=3.0):
    """A client past the handshake sends @payload: True if the server then drops it."""
    s = raw_session(srv)
    try:
        try:
            s.sendall(payload)
        except OSError:
            return True
        return closed_within(s, secs)
    finally:
        s.close()


def still_served(s, srv, w=W, h=H):
    """@s still gets a full update (after some accepted message): '' or why not."""
    try:
        s.sendall(fbur(0, 0, 0, w, h))
        s.settimeout(5)
        return check_picture(srv, read_update(s))
    except (OSError, EOFError, ValueError) as e:
        return str(e) or type(e).__name__


# ---- attacks -------------------------------------------------------------------------
def t_versions(srv):
    cases = [
        ('garbage', b'XXXXXXXXXXXX', 'close'),
        ('zeros', b'\0' * 12, 'close'),
        ('rfb-2.0', b'RFB 002.000\n', 'close'),
        ('no-newline', b'RFB 003.008X', 'close'),
        ('letters-in-number', b'RFB 00a.008\n', 'close'),
        ('64k-line', b'R' * 65536, 'close'),
        ('over-long', b'RFB 003.008\n' + b'A' * 5000, 'close'),
        ('short-then-close', b'RFB 003', 'none'),
        ('rfb-999.999', b'RFB 999.999\n', 'types'),
        ('rfb-3.3', b'RFB 003.003\n', 'type33'),
    ]
    for name, data, want in cases:
        attack()
        why = ''
        try:
            s = connect(srv.port)
            recvn(s, 12)
            try:
                s.sendall(data)
            except OSError:
                pass
            if want == 'close':
                if not closed_within(s, 3):
                    why = 'not dropped within 3 s'
            elif want == 'types':
                n = recvn(s, 1)[0]
                if n < 1 or 1 not in recvn(s, n):
                    why = 'no security types after a newer version'
            elif want == 'type33':
                if struct.unpack('>I', recvn(s, 4))[0] != 1:
                    why = 'RFB 3.3 not offered None'
            s.close()
        except (OSError, EOFError) as e:
            why = str(e)
        res('version.' + name, not why, why)
    health(srv, 'version')


def half_open(srv, what):
    """A client that stalls in the handshake: seconds until the server drops it."""
    s = connect(srv.port)
    t0 = time.monotonic()
    recvn(s, 12)
    if what in ('version', 'sectype'):
        s.sendall(b'RFB 003.008\n')
        recvn(s, 1 + 1)
    if what == 'sectype':
        s.sendall(b'\x01')
        recvn(s, 4)
    closed = closed_within(s, HANDSHAKE_S + 5)
    s.close()
    return time.monotonic() - t0 if closed else None


def t_half_open_start(srv):
    results = {}
    threads = []
    for what in ('silent', 'version', 'sectype'):
        def run(w=what):
            try:
                results[w] = half_open(srv, w)
            except (OSError, EOFError) as e:
                results[w] = str(e)
        attack()
        t = threading.Thread(target=run)
        t.start()
        threads.append(t)
    return threads, results


def t_half_open_finish(srv, threads, results):
    for t in threads:
        t.join(HANDSHAKE_S + 10)
    for what in ('silent', 'version', 'sectype'):
        r = results.get(what)
        ok = isinstance(r, float) and HANDSHAKE_S - 1 <= r <= HANDSHAKE_S + 3
        res('half-open.%s-dropped-after-deadline' % what, ok,
            'dropped after %.1f s' % r if isinstance(r, float) else 'not dropped: %r' % r)


def t_mid_message(srv):
    """Past the handshake, then half a message and silence: the others are served."""
    stalls = []
    for part in (b'\x02\x00\x00\x05' + b'\0' * 7, b'\x06\0\0\0\0\x01\0\0' + b'x' * 1000,
                 b'\x03\x00\x00'):
        attack()
        s = raw_session(srv)
        s.sendall(part)
        stalls.append(s)
    ok = health(srv, 'mid-message')
    for s in stalls:
        s.close()
    return ok


def t_unknown_types(srv):
    for t in (1, 7, 8, 9, 10, 11, 127, 128, 150, 200, 250, 252, 253, 254):
        attack()
        ok = dropped_after(srv, bytes([t]) + b'\0' * 19)
        res('unknown-type.%d-dropped' % t, ok)
    attack()
    res('unknown-type.qemu-subtype-1-dropped', dropped_after(srv, b'\xff\x01' + b'\0' * 10))
    attack()
    res('unknown-type.set-desktop-size-0-screens-dropped',
        dropped_after(srv, struct.pack('>BxHHBx', 251, 640, 480, 0)))
    health(srv, 'unknown-type')


def t_set_encodings(srv):
    attack()
    rnd = random.Random(15)
    known = {0, 1, 2, 5, 7, 16, -223, -224, -239, -257, -258, -261, -308} | \
        set(range(-32, -22)) | set(range(-256, -246))
    encs = [0]
    while len(encs) < 65535:
        e = rnd.randrange(-2 ** 31, 2 ** 31)
        if e not in known:
            encs.append(e)
    s = raw_session(srv)
    s.sendall(struct.pack('>BxH', 2, 65535) + struct.pack('>65535i', *encs))
    why = still_served(s, srv)
    s.close()
    res('set-encodings.65535-entries-accepted', not why, why)
    # The same, twice in one write and with every known pseudo-encoding too.
    attack()
    encs2 = [0] + sorted(known - {0}) + encs[1:65536 - len(known)]
    s = raw_session(srv)
    s.sendall((struct.pack('>BxH', 2, 65535) + struct.pack('>65535i', *encs2)) * 2 +
              SET_ENC_RAW)
    why = still_served(s, srv)
    s.close()
    res('set-encodings.65535-known-and-pseudo-accepted', not why, why)
    attack()
    s = raw_session(srv)
    s.sendall(struct.pack('>BxH', 2, 65535) + b'\0' * 400)
    s.close()
    res('set-encodings.lying-count-then-close', True)
    health(srv, 'set-encodings')


def pixfmt(bpp, depth, be, tc, rmax, gmax, bmax, rs, gs, bs):
    return struct.pack('>B3xBBBBHHHBBB3x', 0, bpp, depth, be, tc, rmax, gmax, bmax, rs, gs, bs)


def t_pixel_formats(srv):
    bad = {
        'bpp-7': pixfmt(7, 7, 0, 1, 3, 3, 1, 0, 2, 4),
        'bpp-24': pixfmt(24, 24, 0, 1, 255, 255, 255, 16, 8, 0),
        'bpp-0': pixfmt(0, 0, 0, 1, 1, 1, 1, 0, 1, 2),
        'bpp-64': pixfmt(64, 24, 0, 1, 255, 255, 255, 16, 8, 0),
        'depth-0': pixfmt(32, 0, 0, 1, 255, 255, 255, 16, 8, 0),
        'depth-over-bpp': pixfmt(16, 24, 0, 1, 31, 63, 31, 11, 5, 0),
        'max-not-2^n-1': pixfmt(32, 24, 0, 1, 200, 255, 255, 16, 8, 0),
        'max-zero': pixfmt(32, 24, 0, 1, 0, 255, 255, 16, 8, 0),
        'overlapping-shifts': pixfmt(32, 24, 0, 1, 255, 255, 255, 16, 12, 0),
        'shift-out-of-pixel': pixfmt(16, 16, 0, 1, 31, 63, 31, 14, 5, 0),
        'shift-255': pixfmt(32, 24, 0, 1, 255, 255, 255, 255, 8, 0),
        'max-65535-in-8bpp': pixfmt(8, 8, 0, 1, 65535, 7, 3, 0, 3, 6),
        'colour-map-16bpp': pixfmt(16, 16, 0, 0, 0, 0, 0, 0, 0, 0),
        'colour-map-32bpp': pixfmt(32, 24, 0, 0, 0, 0, 0, 0, 0, 0),
    }
    for name, pf in bad.items():
        attack()
        res('pixel-format.%s-dropped' % name, dropped_after(srv, pf))
    # Good but unusual ones are served: 8-bit colour map, BGR233, big-endian 16 bits.
    good = {
        'colour-map-8bpp': (pixfmt(8, 8, 0, 0, 0, 0, 0, 0, 0, 0), 1),
        'bgr233': (pixfmt(8, 8, 0, 1, 7, 7, 3, 0, 3, 6), 1),
        'rgb565-big-endian': (pixfmt(16, 16, 1, 1, 31, 63, 31, 11, 5, 0), 2),
        'rgb444-in-32': (pixfmt(32, 12, 1, 1, 15, 15, 15, 28, 20, 4), 4),
    }
    for name, (pf, bpp) in good.items():
        attack()
        why = ''
        s = raw_session(srv)
        try:
            s.sendall(pf + fbur(0, 0, 0, W, H))
            s.settimeout(5)
            rects = read_update(s, bpp)
            if sum(r[2] * r[3] for r in rects) != W * H:
                why = 'update does not cover the screen'
        except (OSError, EOFError, ValueError) as e:
            why = str(e) or type(e).__name__
        s.close()
        res('pixel-format.%s-served' % name, not why, why)
    health(srv, 'pixel-format')


def t_cut_text(srv):
    mib = 1 << 20
    attack()
    s = raw_session(srv)
    s.sendall(struct.pack('>B3xI', 6, mib) + b'a' * mib)
    why = still_served(s, srv)
    s.close()
    res('cut-text.1MiB-accepted', not why, why)
    attack()
    s = raw_session(srv)
    s.sendall((struct.pack('>B3xI', 6, mib) + b'\xff' * mib) * 4)
    why = still_served(s, srv)
    s.close()
    res('cut-text.4x1MiB-in-a-row-accepted', not why, why)
    attack()
    res('cut-text.1MiB+1-dropped', dropped_after(srv, struct.pack('>B3xI', 6, mib + 1)))
    attack()
    res('cut-text.4GiB-dropped', dropped_after(srv, struct.pack('>B3xI', 6, 0xffffffff)))
    attack()
    res('cut-text.top-bit-dropped', dropped_after(srv, struct.pack('>B3xI', 6, 0x80000010) +
                                                  b'\0' * 16))
    # 20 clients each leaving a 1 MiB message half sent, then going: memory comes back.
    attack()
    for _ in range(20):
        s = raw_session(srv)
        s.sendall(struct.pack('>B3xI', 6, mib) + b'b' * (mib - 1))
        s.close()
    health(srv, 'cut-text')


def t_update_requests(srv):
    cases = {
        'x-beyond': (W + 10, 0, 10, 10),
        'y-beyond': (0, H, 10, 10),
        'all-65535': (65535, 65535, 65535, 65535),
        'w-h-65535': (0, 0, 65535, 65535),
        'edge-overhang': (W - 5, H - 5, 100, 100),
        'zero-size': (10, 10, 0, 0),
    }
    s = raw_session(srv)
    for name, (x, y, w, h) in cases.items():
        for inc in (0, 1):
            attack()
            why = ''
            try:
                s.sendall(fbur(inc, x, y, w, h))
                if inc == 0:
                    s.settimeout(5)
                    for (rx, ry, rw, rh, _) in read_update(s):
                        if rx + rw > W or ry + rh > H:
                            why = 'rectangle %d,%d %dx%d outside the screen' % (rx, ry, rw, rh)
            except (OSError, EOFError, ValueError) as e:
                why = str(e) or type(e).__name__
            if inc == 0:
                res('update-request.%s-clipped' % name, not why, why)
    why = still_served(s, srv)
    res('update-request.connection-still-served', not why, why)
    s.close()
    health(srv, 'update-request')


def t_floods(srv):
    attack()
    s = raw_session(srv)
    lines0 = sum(1 for _ in open(srv.log))
    ev = bytearray()
    for i in range(10000):
        ev += struct.pack('>BBHH', 5, i & 1, (i * 7) % W, (i * 3) % H)
    ev += struct.pack('>BBHH', 5, 0, 123, 45)
    for i in range(5000):
        ev += struct.pack('>BBxxI', 4, 1, 0x61) + struct.pack('>BBxxI', 4, 0, 0x61)
    t0 = time.monotonic()
    s.sendall(bytes(ev))
    why = still_served(s, srv)
    secs = time.monotonic() - t0
    s.close()
    res('flood.10k-pointer-10k-key-events-served', not why and secs < 10,
        why or '%.1f s' % secs)
    # The sinks got them: key lines and the last pointer position in the log.
    keys = absn = 0
    last_abs = ''
    for _ in range(50):
        with open(srv.log) as f:
            lines = f.read().splitlines()[lines0:]
        keys = sum(1 for ln in lines if ln.startswith('key 0x1e '))
        abss = [ln for ln in lines if ln.startswith('abs ')]
        absn = len(abss)
        last_abs = abss[-1] if abss else ''
        if keys >= 10000 and last_abs.endswith(' px 123 45'):
            break
        time.sleep(0.1)
    res('flood.keys-reached-the-sink', keys == 10000, '%d key lines for 10000 events' % keys)
    res('flood.pointer-reached-the-sink', absn > 0 and last_abs.endswith(' px 123 45'),
        '%d abs lines, last %r' % (absn, last_abs))
    health(srv, 'flood')


def t_many_clients(srv):
    """A slow client holding a big update, 63 others served, a 65th refused."""
    attack()
    slow, _, _ = handshake(srv.port, rcvbuf=4096)
    slow.sendall(SET_PF_RGBX + SET_ENC_RAW + fbur(0, 0, 0, W, H))
    stop_feed = threading.Event()

    def feed():
        # A new full request every 20 ms, never reading: its thread ends up blocked in send.
        while not stop_feed.wait(0.02):
            try:
                slow.sendall(fbur(0, 0, 0, W, H))
            except OSError:
                break

    feeder = threading.Thread(target=feed)
    feeder.start()
    time.sleep(0.5)
    n = MAX_CLIENTS - 1
    socks = [None] * n
    times = [None] * n
    errs = [''] * n
    go = threading.Event()

    def one(i):
        try:
            go.wait()
            t0 = time.monotonic()
            s, w, h = handshake(srv.port, timeout=10)
            socks[i] = s
            s.sendall(SET_PF_RGBX + SET_ENC_RAW + fbur(0, 0, 0, w, h))
            why = check_picture(srv, read_update(s))
            times[i] = time.monotonic() - t0
            errs[i] = why
        except (OSError, EOFError, ValueError, Refused) as e:
            errs[i] = '%s%s' % ('update: ' if socks[i] else 'handshake: ',
                                str(e) or type(e).__name__)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join(30)
    served = sum(1 for i in range(n) if times[i] is not None and not errs[i])
    slowest = max((t for t in times if t is not None), default=0)
    bad = [e for e in errs if e]
    res('clients.%d-at-once-served' % n, served == n,
        '%d of %d served, slowest %.1f s%s' % (served, n, slowest,
                                              ('; ' + bad[0]) if bad else ''))
    res('clients.not-stalled-by-a-slow-client', served == n and slowest < 5,
        'slowest %.1f s' % slowest)
    # The server's end of it (/proc/net/tcp): an update it cannot deliver (send queue),
    # and requests it no longer reads (receive queue), as its thread waits in send().
    tx = rx = -1
    want = '0100007F:%04X' % srv.port, '0100007F:%04X' % slow.getsockname()[1]
    with open('/proc/net/tcp') as f:
        for line in f:
            fields = line.split()
            if tuple(fields[1:3]) == want:
                tx, rx = (int(v, 16) for v in fields[4].split(':'))
    res('clients.slow-client-stalls-only-its-thread', tx > 0 and rx > 0,
        'server side: %d bytes unsent, %d bytes of requests unread' % (tx, rx))
    # All slots taken (63 + the slow one): the 65th is told so and closed.
    attack()
    why = 'served'
    try:
        s, _, _ = handshake(srv.port, timeout=5)
        s.close()
    except Refused as e:
        why = '' if 'too many clients' in str(e) else 'refused: %s' % e
    except (OSError, EOFError) as e:
        why = 'not refused cleanly: %s' % e
    res('clients.65th-refused', not why, why)
    # The ones already in keep working while the 65th is refused.
    errs = [still_served(s, srv) for s in socks[:4] if s]
    res('clients.others-still-served-after-refusal', errs and not any(errs),
        '; '.join(e for e in errs if e))
    # The slow client had more coming than its buffers hold: at least a whole update.
    stop_feed.set()
    feeder.join()
    got = 0
    try:
        slow.settimeout(1)
        while got < 64 * W * H * 4:
            b = slow.recv(1 << 16)
            if not b:
                break
            got += len(b)
    except OSError:
        pass
    res('clients.slow-client-had-an-update-pending', got >= W * H * 4,
        '%d bytes waiting for it' % got)
    for s in socks:
        if s:
            s.close()
    slow.close()
    time.sleep(0.5)
    health(srv, 'clients')


def t_brute_force(srv):
    attack()
    n = 30
    outcome = [''] * n
    go = threading.Event()

    def one(i):
        try:
            s = connect(srv.port, timeout=10)
            go.wait()
            recvn(s, 12)
            s.sendall(b'RFB 003.008\n')
            k = recvn(s, 1)[0]
            if k == 0:
                outcome[i] = 'refused:' + reason(s)
                return
            recvn(s, k)
            s.sendall(b'\x02')
            recvn(s, 16)
            s.sendall(bytes(16))
            r = struct.unpack('>I', recvn(s, 4))[0]
            outcome[i] = 'tried:' + (reason(s) if r else 'ACCEPTED')
            s.close()
        except (OSError, EOFError) as e:
            outcome[i] = 'error:%s' % e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    go.set()
    for t in threads:
        t.join(30)
    tried = sum(1 for o in outcome if o.startswith('tried:'))
    limited = sum(1 for o in outcome if 'too many authentication failures' in o)
    other = [o for o in outcome if not o.startswith('tried:') and
             'too many authentication failures' not in o]
    accepted = sum(1 for o in outcome if o.endswith('ACCEPTED'))
    res('brute-force.wrong-passwords-refused', accepted == 0, '%d accepted' % accepted)
    res('brute-force.rate-limited', 1 <= tried <= FAIL_MAX and tried + limited == n,
        '%d of %d got to try, %d told "too many authentication failures"%s' %
        (tried, n, limited, ('; other: ' + other[0]) if other else ''))
    # Within the window even the right password is turned away; after it, it works.
    attack()
    why, _ = full_update(srv, PASSWORD)
    res('brute-force.right-password-throttled-in-window', 'too many authentication' in why,
        why or 'served')
    why = 'never'
    end = time.monotonic() + FAIL_WINDOW_S + 5
    while time.monotonic() < end:
        why, _ = full_update(srv, PASSWORD)
        if 'too many authentication' not in why:
            break
        time.sleep(0.5)
    res('brute-force.right-password-after-window', not why,
        (why + '; ' if why else '') + '%.1f s after the attempts' % (time.monotonic() - t0))
    if not why:
        health(srv, 'brute-force', PASSWORD)


def guarded(fn, srv):
    """Run an attack; an exception in the test itself is a failure, not the end."""
    try:
        fn(srv)
    except Exception as e:	# noqa: BLE001 (the report is the point)
        res(fn.__name__[2:] + '.completed', False, '%s: %s' % (type(e).__name__, e))


def main():
    global _failed
    if not os.access(SYNTH, os.X_OK):
        print('not ok 1 vnc_hostile.setup')
        print('# missing %s (make $PWD/build/host/runner/vnc_synth)' % SYNTH)
        print('1..1')
        return 1
    tmp = tempfile.mkdtemp(prefix='vnc_hostile.')
    supp = os.path.join(tmp, 'lsan.supp')
    with open(supp, 'w') as f:
        for lib in ('libcrypto.so', 'libsasl2.so', 'libgnutls.so', 'libp11-kit.so'):
            f.write('leak:%s\n' % lib)
    os.environ['LSAN_OPTIONS'] = 'suppressions=' + supp
    os.environ['UBSAN_OPTIONS'] = 'print_stacktrace=1'
    # A small quarantine, so that RSS measures what the server keeps, not what ASan holds.
    os.environ['ASAN_OPTIONS'] = (os.environ.get('ASAN_OPTIONS', '') +
                                  ':quarantine_size_mb=16').lstrip(':')
    with open(os.path.join(tmp, 'password'), 'w') as f:
        f.write(PASSWORD + '\n')
    t_start = time.monotonic()
    servers = []
    try:
        try:
            plain = Server(tmp, 'plain')
            servers.append(plain)
            auth = Server(tmp, 'auth', ',password-file=' + os.path.join(tmp, 'password'))
            servers.append(auth)
        except RuntimeError as e:
            res('setup.servers', False, str(e))
            return 1
        note('plain on port %d (RSS %d kB), auth on port %d' %
             (plain.port, plain.rss0, auth.port))
        # The DES above against FIPS 81's example (key 0123456789abcdef).
        res('setup.des', des_encrypt_block(bytes.fromhex('0123456789abcdef'),
                                           b'Now is t').hex() == '3fa40e8a984d4815')
        health(plain, 'baseline')
        health(auth, 'baseline-auth', PASSWORD)

        bf = threading.Thread(target=guarded, args=(t_brute_force, auth))
        bf.start()
        ho_threads, ho_results = t_half_open_start(plain)
        for t in (t_versions, t_mid_message, t_unknown_types, t_set_encodings,
                  t_pixel_formats, t_cut_text, t_update_requests, t_floods):
            guarded(t, plain)
        t_half_open_finish(plain, ho_threads, ho_results)
        time.sleep(0.3)
        guarded(t_many_clients, plain)
        bf.join(60)
        res('end.rss-bounded', plain.rss_max <= plain.rss0 + RSS_SLACK_KB,
            'plain: started %d kB, at most %d kB; auth: %d -> %d kB' %
            (plain.rss0, plain.rss_max, auth.rss0, auth.rss_max))
    finally:
        for srv in servers:
            ok, why = srv.stop()
            res('%s.server-exit' % srv.name, ok, why)
        note('%d attacks in %.1f s' % (attacks, time.monotonic() - t_start))
        print('1..%d' % _n)
        if os.environ.get('VNC_HOSTILE_KEEP'):
            note('kept ' + tmp)
        else:
            subprocess.call(['rm', '-rf', tmp])
    return 1 if _failed else 0


if __name__ == '__main__':
    sys.exit(main())
