#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Drive noVNC in headless Chromium over the DevTools protocol.

  novnc_cdp.py CDP_PORT URL STEP...

Opens URL (vnc_lite.html?host=...&port=...) in the first page target of
the Chromium listening on CDP_PORT, then runs the steps in order; each
prints one line ("ok STEP ..." or "fail STEP ...") and the status is 1 if
any failed:
  connected SECS       wait until noVNC's status line says "Connected"
  shot FILE [EXPECTED] the canvas, exactly as drawn (toDataURL), to FILE; with
                       EXPECTED, waits (up to 10 s) until they are equal
  size W H             wait (up to 10 s) until the canvas is W x H
  type TEXT            key presses with DOM key and code, Shift for capitals and "@"
  click X Y            left click at canvas pixel X, Y
  sleep SECS
  kill PID SIG         send signal SIG (USR1, ...) to process PID
"""
import base64
import io
import json
import os
import signal
import sys
import time
import urllib.request

import websocket
from PIL import Image, ImageChops

CANVAS = "document.querySelector('#screen canvas')"


class Cdp:
    def __init__(self, port):
        deadline = time.time() + 15
        while True:
            try:
                with urllib.request.urlopen('http://127.0.0.1:%d/json/list' % port,
                                            timeout=2) as r:
                    targets = json.load(r)
                pages = [t for t in targets if t.get('type') == 'page']
                if pages:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise SystemExit('fail cdp: no page target on port %d' % port)
            time.sleep(0.2)
        self.ws = websocket.create_connection(pages[0]['webSocketDebuggerUrl'], timeout=20,
                                              suppress_origin=True)
        self.next_id = 0
        self.errors = []

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({'id': self.next_id, 'method': method, 'params': params}))
        while True:
            m = json.loads(self.ws.recv())
            self.note(m)
            if m.get('id') == self.next_id:
                if 'error' in m:
                    raise RuntimeError('%s: %s' % (method, m['error']))
                return m.get('result', {})

    def note(self, m):
        """Keep the page's errors (console and network) for the report."""
        p = m.get('params', {})
        if m.get('method') == 'Log.entryAdded' and p['entry'].get('level') == 'error':
            self.errors.append(p['entry'].get('text', ''))
        elif m.get('method') == 'Runtime.consoleAPICalled' and p.get('type') == 'error':
            self.errors.append(' '.join(str(a.get('value', '')) for a in p.get('args', [])))

    def eval(self, expr):
        r = self.call('Runtime.evaluate', expression=expr, returnByValue=True)
        if 'exceptionDetails' in r:
            return None
        return r['result'].get('value')


def canvas_png(cdp):
    url = cdp.eval(CANVAS + " ? " + CANVAS + ".toDataURL('image/png') : ''")
    if not url or not url.startswith('data:image/png;base64,'):
        return None
    return base64.b64decode(url.split(',', 1)[1])


def same(png, expected):
    a = Image.open(io.BytesIO(png)).convert('RGB')
    return a.size == expected.size and ImageChops.difference(a, expected).getbbox() is None


KEYS = {'@': ('2', 'Digit2', 50, True)}


def key_event(cdp, typ, key, code, vk, mods, text=None):
    p = dict(type=typ, key=key, code=code, windowsVirtualKeyCode=vk,
             nativeVirtualKeyCode=vk, modifiers=mods)
    if text:
        p['text'] = text
        p['unmodifiedText'] = text
    cdp.call('Input.dispatchKeyEvent', **p)


def type_text(cdp, text):
    for ch in text:
        if ch in KEYS:
            base, code, vk, shift = KEYS[ch]
        elif ch.isalpha():
            code, vk, shift = 'Key' + ch.upper(), ord(ch.upper()), ch.isupper()
        elif ch.isdigit():
            code, vk, shift = 'Digit' + ch, ord(ch), False
        elif ch == ' ':
            code, vk, shift = 'Space', 32, False
        else:
            raise SystemExit('type: no mapping for %r' % ch)
        mods = 8 if shift else 0
        if shift:
            key_event(cdp, 'rawKeyDown', 'Shift', 'ShiftLeft', 16, 8)
        key_event(cdp, 'keyDown', ch, code, vk, mods, ch)
        key_event(cdp, 'keyUp', ch, code, vk, mods)
        if shift:
            key_event(cdp, 'keyUp', 'Shift', 'ShiftLeft', 16, 0)
        time.sleep(0.05)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cdp = Cdp(int(sys.argv[1]))
    cdp.call('Page.enable')
    cdp.call('Runtime.enable')
    cdp.call('Log.enable')
    cdp.call('Page.navigate', url=sys.argv[2])
    steps = sys.argv[3:]
    failed = 0
    while steps:
        s = steps.pop(0)
        ok, msg = True, ''
        if s == 'connected':
            deadline = time.time() + float(steps.pop(0))
            st = ''
            while time.time() < deadline:
                st = cdp.eval("document.getElementById('status') ? "
                              "document.getElementById('status').textContent : ''") or ''
                if st.startswith('Connected') or st.startswith('Something') or \
                   st == 'Disconnected':
                    break
                time.sleep(0.1)
            ok, msg = st.startswith('Connected'), repr(st)
            if not ok:
                msg += ' ' + ' | '.join(e[:200] for e in cdp.errors[-4:])
        elif s == 'shot':
            out = steps.pop(0)
            exp = None
            if steps and not steps[0] in ('connected', 'shot', 'size', 'type', 'click',
                                          'sleep', 'kill'):
                exp = Image.open(steps.pop(0)).convert('RGB')
            deadline = time.time() + 10
            png = None
            while True:
                png = canvas_png(cdp) or png
                if png and (exp is None or same(png, exp)):
                    break
                if time.time() > deadline:
                    ok = False
                    break
                time.sleep(0.25)
            if png:
                with open(out, 'wb') as f:
                    f.write(png)
            msg = out + ('' if png else ' (no canvas)')
        elif s == 'size':
            w, h = int(steps.pop(0)), int(steps.pop(0))
            deadline = time.time() + 10
            sz = None
            while time.time() < deadline:
                sz = cdp.eval(CANVAS + " ? [" + CANVAS + ".width, " + CANVAS + ".height] : null")
                if sz == [w, h]:
                    break
                time.sleep(0.1)
            ok, msg = sz == [w, h], repr(sz)
        elif s == 'type':
            t = steps.pop(0)
            cdp.eval(CANVAS + '.focus()')
            type_text(cdp, t)
            msg = repr(t)
        elif s == 'click':
            x, y = int(steps.pop(0)), int(steps.pop(0))
            r = cdp.eval('(() => { const r = ' + CANVAS + '.getBoundingClientRect(); '
                         'return [r.left, r.top]; })()')
            cx, cy = r[0] + x, r[1] + y
            for typ, b in (('mouseMoved', 'none'), ('mousePressed', 'left'),
                           ('mouseReleased', 'left')):
                cdp.call('Input.dispatchMouseEvent', type=typ, x=cx, y=cy, button=b,
                         clickCount=0 if typ == 'mouseMoved' else 1)
                time.sleep(0.1)
            msg = '%d %d (page %g %g)' % (x, y, cx, cy)
        elif s == 'sleep':
            time.sleep(float(steps.pop(0)))
        elif s == 'kill':
            pid, sig = int(steps.pop(0)), steps.pop(0)
            os.kill(pid, getattr(signal, 'SIG' + sig))
            msg = '%d %s' % (pid, sig)
        else:
            print('fail unknown step %s' % s)
            return 2
        print('%s %s %s' % ('ok' if ok else 'fail', s, msg), flush=True)
        failed |= not ok
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
