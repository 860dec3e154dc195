#!/usr/bin/env python3
"""Scripted TCP peers for recording keepalive fixtures with the real Linux kernel.

One process plays one role ("server" or "client") for one or more connections, all in
a single-threaded event loop (so an abortive close really releases the socket at
once).  Every action happens at a fixed time relative to a shared epoch T0, so the
shell script can schedule its own steps (routes, captures) on the same clock.

Usage:
  peer.py server --spec FILE|JSON
  peer.py client --spec FILE|JSON
  peer.py client --t0 EPOCH --end SECONDS --connect 10.77.0.2:9001 --bind 10.77.0.1:40001 \
        --keepalive 1,1,3 --send 0.05:200 --close 5 ...        (single connection)
  peer.py server --t0 EPOCH --end SECONDS --listen 10.77.0.2:9001 --echo ...

Spec (JSON):
  {"t0": epoch seconds, "end": seconds after t0 when the process exits,
   "listeners": [ {                              # server role
       "addr": "10.77.0.2", "port": 9001,
       "keepalive": {"idle": 3, "interval": 1, "count": 3} | null,   # on accepted sockets
                                  # (+ "user_timeout": seconds: TCP_USER_TIMEOUT as well)
       "rcvbuf": 2048,            # SO_RCVBUF on the listener, set before listen()
       "sndbuf": null,
       "read": true,              # false: never read (receive window closes)
       "echo": false,             # send back what was read
       "close_on_eof": true,      # close() when the client's FIN arrives
       "sink": false,             # read with a big buffer (bulk transfers)
       "pmtudisc_dont": false,    # IP_MTU_DISCOVER=IP_PMTUDISC_DONT (DF off)
       "nodelay": false,          # TCP_NODELAY (Nagle off)
       "reply": {"per": 6, "text": "PONG\\r\\n"} | {"per": N, "hex": "..."},
                                  # for every PER bytes read, write this reply at once
       "ipopts": "hex", "hopopts": "hex", "dstopts": "hex",
       "actions": [ {"t": 1.0, "do": "abort"}, ... ] } ],
   "connections": [ {                            # client role
       "id": "c1", "bind": "10.77.0.1:40001", "connect": "10.77.0.2:9001",
       "start": 0.0,             # connect() at t0+start
       "keepalive": {...} | null, "rcvbuf", "sndbuf", "read", "echo", "close_on_eof",
       "ipopts", "hopopts", "dstopts", "pmtudisc_dont", "nodelay", "reply",
       "actions": [ ... ] } ]}
  IPv6 addresses are written "[fd77::1]:40001".

Actions (times relative to t0):
  {"t", "do": "send", "bytes": N}          write N bytes of printable data
  {"t", "do": "send", "text": "PING\\r\\n"}  write these bytes (latin-1); or "hex": "c000"
  {"t", "do": "send", "bytes": N, "count": K}   K writes of N bytes back to back (a burst)
  any action + "every": P, "until": U      repeat it at t, t+P, t+2P, ... <= U (no drift:
                                           each repetition is scheduled from t0)
  {"t", "do": "close"}                     normal close (FIN)
  {"t", "do": "shutdown"}                  shutdown(SHUT_WR)
  {"t", "do": "abort"}                     SO_LINGER {1,0} + close: RST, socket gone
  {"t", "do": "fill"}                      keep the send buffer full (zero-window tests)
  {"t", "do": "bulk", "bytes": N}          blocking send of N bytes
  {"t", "do": "bulk", "wrap_plus": N}      send exactly enough that SND.NXT passes 2^32
                                           by N bytes (reads write_seq with TCP_REPAIR)
  {"t", "do": "keepalive", "idle", "interval", "count"} | {"t", "do": "keepalive", "off": true}
  {"t", "do": "udp", "to": "10.77.0.2:9", "bytes": N}   one UDP datagram (noise/fragments)

Every event is printed to stdout as one JSON line:
  {"ts": epoch, "rel": seconds since t0, "role", "id", "event", ...}
  events: listening, accepted, connected, sent, recv (first one per connection), eof,
  closed, aborted, error (with errno name), seq (write_seq seen via TCP_REPAIR),
  bulk_done, exit (with the state of every socket still open).
"""
import argparse
import errno
import heapq
import json
import os
import selectors
import socket
import struct
import sys
import time

TCP_REPAIR, TCP_REPAIR_QUEUE, TCP_QUEUE_SEQ = 19, 20, 21
TCP_SEND_QUEUE = 2
TCP_REPAIR_ON, TCP_REPAIR_OFF_NO_WP = 1, -1
IP_MTU_DISCOVER, IP_PMTUDISC_DONT = 10, 0
TCP_INFO = 11
TCP_STATES = {1: 'ESTABLISHED', 2: 'SYN_SENT', 3: 'SYN_RECV', 4: 'FIN_WAIT1', 5: 'FIN_WAIT2',
              6: 'TIME_WAIT', 7: 'CLOSE', 8: 'CLOSE_WAIT', 9: 'LAST_ACK', 10: 'LISTEN',
              11: 'CLOSING'}

T0 = 0.0
ROLE = '?'


def emit(ident, event, **kw):
    now = time.time()
    rec = {'ts': round(now, 6), 'rel': round(now - T0, 6), 'role': ROLE, 'id': ident, 'event': event}
    rec.update(kw)
    sys.stdout.write(json.dumps(rec) + '\n')
    sys.stdout.flush()


def parse_hostport(s):
    """'10.77.0.1:40001' or '[fd77::1]:40001' -> (family, host, port)."""
    if s.startswith('['):
        host, _, port = s[1:].partition(']:')
        return socket.AF_INET6, host, int(port)
    host, _, port = s.rpartition(':')
    return socket.AF_INET, host, int(port)


def fmt_addr(sa):
    host, port = sa[0], sa[1]
    return f'[{host}]:{port}' if ':' in host else f'{host}:{port}'


def payload(n, seed=0):
    pat = b'keepalive-fixture-data-0123456789abcdefghijklmnopqrstuvwxyz.'
    rep = (n // len(pat)) + 2
    off = seed % len(pat)
    return (pat * rep)[off:off + n]


def action_data(a, seed=0):
    """The bytes a send action writes: "text" (latin-1), "hex", or N bytes of pattern."""
    if 'text' in a:
        return a['text'].encode('latin-1')
    if 'hex' in a:
        return bytes.fromhex(a['hex'])
    return payload(int(a['bytes']), seed)


def expand_actions(actions):
    """Unroll "every"/"until" repetitions into single actions at t, t+P, ... <= until."""
    out = []
    for a in actions:
        if 'every' not in a:
            out.append(a)
            continue
        base = {k: v for k, v in a.items() if k not in ('every', 'until')}
        t0, per, until = float(a['t']), float(a['every']), float(a['until'])
        k = 0
        while t0 + k * per <= until + 1e-9:
            out.append(dict(base, t=round(t0 + k * per, 6), beat=k + 1))
            k += 1
    return out


def set_keepalive(sock, ka):
    if not ka or ka.get('off'):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 0)
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, int(ka['idle']))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, int(ka['interval']))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, int(ka['count']))
    if ka.get('user_timeout'):
        # Linux: when set, it (not TCP_KEEPCNT) decides when unanswered probes end the connection
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, int(float(ka['user_timeout']) * 1000))


def apply_common_opts(sock, spec, family):
    if spec.get('rcvbuf'):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(spec['rcvbuf']))
    if spec.get('sndbuf'):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, int(spec['sndbuf']))
    if spec.get('pmtudisc_dont') and family == socket.AF_INET:
        sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
    if spec.get('nodelay'):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if spec.get('ipopts'):
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, bytes.fromhex(spec['ipopts']))
    if spec.get('hopopts'):
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_HOPOPTS, bytes.fromhex(spec['hopopts']))
    if spec.get('dstopts'):
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, bytes.fromhex(spec['dstopts']))


def tcp_state(sock):
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, TCP_INFO, 8)
        return TCP_STATES.get(info[0], str(info[0]))
    except OSError:
        return 'closed'


def peek_write_seq(sock):
    """Read tp->write_seq (next sequence number to be written) via TCP_REPAIR."""
    sock.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_ON)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE)
        raw = sock.getsockopt(socket.IPPROTO_TCP, TCP_QUEUE_SEQ, 4)
        return struct.unpack('I', raw)[0]
    finally:
        sock.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_OFF_NO_WP)


class Conn:
    def __init__(self, loop, sock, ident, spec):
        self.loop, self.sock, self.id, self.spec = loop, sock, ident, spec
        self.out = bytearray()
        self.fill = False
        self.open = True
        self.got_data = False
        self.nsent = 0
        self.nread = 0
        self.nreplied = 0
        sock.setblocking(False)
        self.update_interest()

    def update_interest(self):
        if not self.open:
            return
        ev = 0
        if self.spec.get('read', True):
            ev |= selectors.EVENT_READ
        if self.out or self.fill:
            ev |= selectors.EVENT_WRITE
        sel = self.loop.sel
        try:
            key = sel.get_key(self.sock)
            if ev == 0:
                sel.unregister(self.sock)
            elif key.events != ev:
                sel.modify(self.sock, ev, self)
        except KeyError:
            if ev:
                sel.register(self.sock, ev, self)

    def drop(self):
        if not self.open:
            return
        try:
            self.loop.sel.unregister(self.sock)
        except (KeyError, ValueError):
            pass
        self.open = False

    # --- I/O
    def on_event(self, mask):
        if mask & selectors.EVENT_READ and self.open:
            self.on_read()
        if mask & selectors.EVENT_WRITE and self.open:
            self.on_write()

    def on_read(self):
        try:
            if self.spec.get('sink'):
                n = self.sock.recv_into(self.loop.sinkbuf)
                data = b'x' * min(n, 1) if n else b''
            else:
                data = self.sock.recv(65536)
                n = len(data)
        except BlockingIOError:
            return
        except OSError as e:
            self.error(e)
            return
        if not n:
            emit(self.id, 'eof')
            if self.spec.get('close_on_eof', True):
                self.close()
            return
        if not self.got_data:
            self.got_data = True
            emit(self.id, 'recv', bytes=n)
        self.nread += n
        if self.spec.get('echo') and not self.spec.get('sink'):
            self.out += data
            self.update_interest()
        rep = self.spec.get('reply')
        if rep:
            k = self.nread // int(rep['per']) - self.nreplied
            if k > 0:
                self.nreplied += k
                self.out += action_data(rep) * k
                emit(self.id, 'replied', count=k, total=self.nreplied)
                self.on_write()

    def on_write(self):
        try:
            if self.out:
                k = self.sock.send(self.out)
                del self.out[:k]
                self.nsent += k
            elif self.fill:
                while True:
                    k = self.sock.send(payload(65536, self.nsent))
                    self.nsent += k
        except BlockingIOError:
            pass
        except OSError as e:
            self.error(e)
            return
        self.update_interest()

    def error(self, e):
        emit(self.id, 'error', errno=errno.errorcode.get(e.errno, str(e.errno)), msg=str(e))
        self.drop()
        self.sock.close()

    # --- actions
    def act(self, a):
        if not self.open:
            emit(self.id, 'skipped', action=a['do'])
            return
        do = a['do']
        if do == 'send':
            count = int(a.get('count', 1))
            total = 0
            for _ in range(count):
                # one send() per write when count > 1 (a burst of separate writes)
                data = action_data(a, self.nsent)
                self.out += data
                total += len(data)
                self.on_write()
                if not self.open:
                    break
            extra = {'beat': a['beat']} if 'beat' in a else {}
            if count > 1:
                extra['writes'] = count
            emit(self.id, 'sent', bytes=total, **extra)
        elif do == 'close':
            self.flush_blocking()
            self.drop()
            self.sock.close()
            emit(self.id, 'closed')
        elif do == 'shutdown':
            self.flush_blocking()
            self.sock.shutdown(socket.SHUT_WR)
            emit(self.id, 'shutdown')
        elif do == 'abort':
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            self.drop()
            self.sock.close()
            emit(self.id, 'aborted')
        elif do == 'fill':
            self.fill = True
            emit(self.id, 'fill')
            self.on_write()
        elif do == 'bulk':
            self.bulk(a)
        elif do == 'keepalive':
            set_keepalive(self.sock, a)
            emit(self.id, 'keepalive', **{k: a[k] for k in a if k not in ('t', 'do')})
        elif do == 'udp':
            fam, host, port = parse_hostport(a['to'])
            u = socket.socket(fam, socket.SOCK_DGRAM)
            if fam == socket.AF_INET:
                u.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
            try:
                u.sendto(payload(int(a['bytes'])), (host, port))
                emit(self.id, 'udp', to=a['to'], bytes=int(a['bytes']))
            except OSError as e:
                emit(self.id, 'udp_error', msg=str(e))
            u.close()
        else:
            raise SystemExit(f'unknown action {do}')

    def close(self):
        self.drop()
        self.sock.close()
        emit(self.id, 'closed')

    def flush_blocking(self):
        if self.out:
            self.sock.setblocking(True)
            self.sock.sendall(self.out)
            self.nsent += len(self.out)
            self.out.clear()
            self.sock.setblocking(False)

    def bulk(self, a):
        sock = self.sock
        if 'wrap_plus' in a:
            ws = peek_write_seq(sock)
            n = ((1 << 32) - ws) % (1 << 32) + int(a['wrap_plus'])
            emit(self.id, 'seq', write_seq=ws, bulk_bytes=n,
                 final_snd_nxt=(ws + n) % (1 << 32))
        else:
            n = int(a['bytes'])
        chunk = memoryview(payload(4 << 20))
        sock.setblocking(True)
        left = n
        t = time.time()
        while left:
            k = min(left, len(chunk))
            sock.sendall(chunk[:k])
            left -= k
        sock.setblocking(False)
        self.nsent += n
        emit(self.id, 'bulk_done', bytes=n, seconds=round(time.time() - t, 3))


class Loop:
    def __init__(self, spec):
        self.spec = spec
        self.sel = selectors.DefaultSelector()
        self.timers = []
        self.seq = 0
        self.conns = []
        self.sinkbuf = memoryview(bytearray(4 << 20))

    def at(self, rel, fn):
        self.seq += 1
        heapq.heappush(self.timers, (T0 + rel, self.seq, fn))

    def run(self):
        end = T0 + float(self.spec['end'])
        while True:
            now = time.time()
            while self.timers and self.timers[0][0] <= now:
                _, _, fn = heapq.heappop(self.timers)
                fn()
                now = time.time()
            if now >= end:
                break
            nxt = self.timers[0][0] if self.timers else end
            timeout = max(0.0, min(nxt, end) - now)
            for key, mask in self.sel.select(timeout):
                key.data.on_event(mask)
        states = {c.id: (tcp_state(c.sock) if c.open else 'closed') for c in self.conns}
        emit('-', 'exit', states=states)


class Listener:
    def __init__(self, loop, spec):
        self.loop, self.spec = loop, spec
        addr = spec['addr']
        fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        apply_common_opts(s, spec, fam)
        s.bind((addr, int(spec['port'])))
        s.listen(16)
        s.setblocking(False)
        self.sock = s
        self.id = spec.get('id') or fmt_addr((addr, int(spec['port'])))
        self.accepted = []
        loop.sel.register(s, selectors.EVENT_READ, self)
        emit(self.id, 'listening', local=fmt_addr((addr, int(spec['port']))))
        for a in expand_actions(spec.get('actions', [])):
            loop.at(float(a['t']), lambda a=a: self.act(a))

    def on_event(self, mask):
        try:
            c, peer = self.sock.accept()
        except BlockingIOError:
            return
        if self.spec.get('keepalive'):
            set_keepalive(c, self.spec['keepalive'])
        conn = Conn(self.loop, c, self.id, self.spec)
        self.accepted.append(conn)
        self.loop.conns.append(conn)
        emit(self.id, 'accepted', local=fmt_addr(c.getsockname()), remote=fmt_addr(peer),
             keepalive=self.spec.get('keepalive'))

    def act(self, a):
        if not self.accepted:
            emit(self.id, 'skipped', action=a['do'], why='nothing accepted')
        for c in self.accepted:
            c.act(a)


def start_client(loop, spec):
    ident = spec.get('id') or spec['connect']
    fam, host, port = parse_hostport(spec['connect'])
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    apply_common_opts(s, spec, fam)
    if spec.get('keepalive'):
        set_keepalive(s, spec['keepalive'])
    if spec.get('bind'):
        _, bhost, bport = parse_hostport(spec['bind'])
        s.bind((bhost, bport))
    s.settimeout(3)
    try:
        s.connect((host, port))
    except OSError as e:
        emit(ident, 'connect_error', msg=str(e))
        s.close()
        return
    conn = Conn(loop, s, ident, spec)
    loop.conns.append(conn)
    emit(ident, 'connected', local=fmt_addr(s.getsockname()), remote=fmt_addr(s.getpeername()),
         keepalive=spec.get('keepalive'))
    for a in expand_actions(spec.get('actions', [])):
        loop.at(float(a['t']), lambda a=a: conn.act(a))


def spec_from_args(args):
    if args.spec:
        txt = args.spec
        if not txt.lstrip().startswith('{'):
            with open(txt) as f:
                txt = f.read()
        spec = json.loads(txt)
    else:
        spec = {}
    if args.t0 is not None:
        spec['t0'] = args.t0
    spec.setdefault('t0', time.time() + 0.2)
    if args.end is not None:
        spec['end'] = args.end
    spec.setdefault('end', 30)
    one = {}
    if args.keepalive:
        i, v, c = args.keepalive.split(',')
        one['keepalive'] = {'idle': int(i), 'interval': int(v), 'count': int(c)}
    for k in ('rcvbuf', 'sndbuf', 'ipopts', 'hopopts', 'dstopts'):
        if getattr(args, k):
            one[k] = getattr(args, k)
    if args.no_read:
        one['read'] = False
    if args.echo:
        one['echo'] = True
    acts = []
    for s in args.send or []:
        t, _, n = s.partition(':')
        acts.append({'t': float(t), 'do': 'send', 'bytes': int(n)})
    if args.close is not None:
        acts.append({'t': args.close, 'do': 'close'})
    if args.abort is not None:
        acts.append({'t': args.abort, 'do': 'abort'})
    if args.fill is not None:
        acts.append({'t': args.fill, 'do': 'fill'})
    one['actions'] = acts
    if args.role == 'server' and args.listen:
        _, host, port = parse_hostport(args.listen)
        one.update(addr=host, port=port)
        spec.setdefault('listeners', []).append(one)
    if args.role == 'client' and args.connect:
        one.update(connect=args.connect, id=args.connect)
        if args.bind:
            one['bind'] = args.bind
        spec.setdefault('connections', []).append(one)
    return spec


def main():
    global T0, ROLE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('role', choices=['server', 'client'])
    ap.add_argument('--spec', help='JSON spec (file name or inline JSON)')
    ap.add_argument('--t0', type=float, help='shared epoch (default: now+0.2)')
    ap.add_argument('--end', type=float, help='exit this many seconds after t0')
    ap.add_argument('--listen', help='server: ADDR:PORT')
    ap.add_argument('--connect', help='client: ADDR:PORT')
    ap.add_argument('--bind', help='client: local ADDR:PORT')
    ap.add_argument('--keepalive', help='IDLE,INTERVAL,COUNT (TCP_KEEPIDLE/KEEPINTVL/KEEPCNT)')
    ap.add_argument('--rcvbuf', type=int)
    ap.add_argument('--sndbuf', type=int)
    ap.add_argument('--no-read', action='store_true')
    ap.add_argument('--echo', action='store_true')
    ap.add_argument('--send', action='append', help='T:BYTES (repeatable)')
    ap.add_argument('--close', type=float, help='normal close at T')
    ap.add_argument('--abort', type=float, help='SO_LINGER 0 close (RST) at T')
    ap.add_argument('--fill', type=float, help='start filling the send buffer at T')
    ap.add_argument('--ipopts', help='IPv4 options, hex')
    ap.add_argument('--hopopts', help='IPv6 hop-by-hop header, hex')
    ap.add_argument('--dstopts', help='IPv6 destination options header, hex')
    args = ap.parse_args()
    spec = spec_from_args(args)
    T0 = float(spec['t0'])
    ROLE = args.role
    loop = Loop(spec)
    if ROLE == 'server':
        for ls in spec.get('listeners', []):
            Listener(loop, ls)
    else:
        for cs in spec.get('connections', []):
            loop.at(float(cs.get('start', 0.0)), lambda cs=cs: start_client(loop, cs))
    try:
        loop.run()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
