/**
 * The two ends of a recorded connection: a small Python program (python3 is on every Linux
 * machine) run inside a network namespace, because the keepalive knobs must be set per socket:
 * TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT through setsockopt.
 *
 * Why not Node sockets with the namespace's sysctls (net.ipv4.tcp_keepalive_time/intvl/probes,
 * which are per network namespace)? Recorded on Node 20.20 (libuv 1.46) in a namespace set to
 * intvl 2 s and probes 2: `socket.setKeepAlive(true, 1000)` sent unanswered probes 1.02 s apart
 * and had not given up after ten. libuv sets TCP_KEEPINTVL 1 and TCP_KEEPCNT 10 on the socket
 * itself, and a socket's own values win over the sysctls; Node offers no way to change them.
 *
 * Each peer prints one JSON object per line: {"event": ..., "wall": epoch seconds, ...}.
 * Actions run at `t` seconds after the connection is established (connect() returned, or
 * accept() did). A peer exits at `deadline` (epoch seconds) or as soon as its parent is gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { RecordError } from './errors.js';

export interface KeepaliveKnobs {
  idle: number;
  interval: number;
  count: number;
  /** TCP_USER_TIMEOUT in seconds (whole milliseconds), when set: Linux then ignores TCP_KEEPCNT. */
  userTimeout?: number | undefined;
}

export type PeerAction = { t: number; do: 'send'; bytes: number } | { t: number; do: 'close' | 'abort' | 'fill' };

export interface PeerSpec {
  role: 'server' | 'client';
  /** Server: address to listen on; client: address to connect to. */
  addr: string;
  port: number;
  keepalive: KeepaliveKnobs | null;
  /** SO_RCVBUF before listen() (a small one makes the window close). */
  rcvbuf?: number;
  /** Read what arrives (default true); a server that never reads lets the window fall to 0. */
  read?: boolean;
  /** Send back what arrives. */
  echo?: boolean;
  actions: PeerAction[];
  /** Epoch seconds at which the peer exits whatever happens. */
  deadline: number;
}

export interface PeerEvent {
  event: string;
  wall: number;
  [key: string]: unknown;
}

export const PEER_PY = String.raw`
import errno, json, os, selectors, socket, struct, sys, time

spec = json.loads(sys.argv[1])
PARENT = os.getppid()
DEADLINE = float(spec['deadline'])

def emit(event, **kw):
    kw['event'] = event
    kw['wall'] = time.time()
    sys.stdout.write(json.dumps(kw) + '\n')
    sys.stdout.flush()

def keepalive(s, ka):
    if not ka:
        return
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, int(ka['idle']))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, int(ka['interval']))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, int(ka['count']))
    if ka.get('userTimeout'):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, int(round(float(ka['userTimeout']) * 1000)))

def name(sa):
    return '%s:%d' % (sa[0], sa[1])

sel = selectors.DefaultSelector()
conn = None
out = bytearray()
filling = False
timers = []
CHUNK = b'k' * 65536

def interest():
    if conn is None:
        return
    ev = 0
    if spec.get('read', True):
        ev |= selectors.EVENT_READ
    if out or filling:
        ev |= selectors.EVENT_WRITE
    try:
        sel.unregister(conn)
    except (KeyError, ValueError):
        pass
    if ev:
        sel.register(conn, ev, 'conn')

def drop():
    global conn
    if conn is not None:
        try:
            sel.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()
        conn = None

def failed(e):
    code = e.errno if e.errno is not None else 0
    emit('error', errno=errno.errorcode.get(code, str(code)), message=os.strerror(code) if code else str(e))
    drop()

def act(a):
    global filling
    if conn is None:
        emit('skipped', action=a['do'])
        return
    do = a['do']
    if do == 'send':
        out.extend(b'k' * int(a['bytes']))
        emit('send', bytes=int(a['bytes']))
    elif do == 'close':
        emit('close')
        conn.setblocking(True)
        if out:
            conn.sendall(out)
            out.clear()
        drop()
        return
    elif do == 'abort':
        # SO_LINGER 0: close() sends RST and forgets the connection at once.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        emit('abort')
        drop()
        return
    elif do == 'fill':
        filling = True
        emit('fill')
    interest()

def established(s, **kw):
    global conn
    s.setblocking(False)
    conn = s
    now = time.time()
    for a in spec['actions']:
        timers.append((now + float(a['t']), a))
    timers.sort(key=lambda x: x[0])
    emit('established', local=name(s.getsockname()), remote=name(s.getpeername()), **kw)
    interest()

if spec['role'] == 'server':
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if spec.get('rcvbuf'):
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(spec['rcvbuf']))
    ls.bind((spec['addr'], int(spec['port'])))
    ls.listen(4)
    ls.setblocking(False)
    sel.register(ls, selectors.EVENT_READ, 'listen')
    emit('listening', local=name(ls.getsockname()))
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    keepalive(s, spec.get('keepalive'))
    s.settimeout(3)
    try:
        s.connect((spec['addr'], int(spec['port'])))
    except OSError as e:
        failed(e)
        sys.exit(1)
    established(s)

while True:
    now = time.time()
    while timers and timers[0][0] <= now:
        act(timers.pop(0)[1])
    if now >= DEADLINE or os.getppid() != PARENT:
        break
    wait = min(0.1, DEADLINE - now)
    if timers:
        wait = max(0.0, min(wait, timers[0][0] - now))
    for key, mask in sel.select(wait):
        if key.data == 'listen':
            try:
                c, _ = ls.accept()
            except BlockingIOError:
                continue
            keepalive(c, spec.get('keepalive'))
            established(c)
            continue
        if conn is None:
            continue
        if mask & selectors.EVENT_READ:
            try:
                data = conn.recv(65536)
            except BlockingIOError:
                data = None
            except OSError as e:
                failed(e)
                continue
            if data is not None:
                if not data:
                    emit('eof')
                    drop()
                    continue
                if spec.get('echo'):
                    out.extend(data)
                    interest()
        if conn is not None and mask & selectors.EVENT_WRITE:
            try:
                if out:
                    del out[:conn.send(out)]
                elif filling:
                    while True:
                        conn.send(CHUNK)
            except BlockingIOError:
                pass
            except OSError as e:
                failed(e)
                continue
            interest()
emit('exit', open=conn is not None)
`;

/** A running peer: its events as they come, and a way to end it. */
export class Peer {
  readonly events: PeerEvent[] = [];
  private readonly waiters: { event: string; resolve: (e: PeerEvent) => void }[] = [];
  private stderr = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly label: string,
    private readonly child: ChildProcess,
  ) {
    let partial = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (s: string) => {
      partial += s;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        let e: PeerEvent;
        try {
          e = JSON.parse(line) as PeerEvent;
        } catch {
          continue;
        }
        this.events.push(e);
        for (let i = this.waiters.length - 1; i >= 0; i--) {
          if (this.waiters[i]!.event === e.event) this.waiters.splice(i, 1)[0]!.resolve(e);
        }
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      this.stderr = (this.stderr + s).slice(-8192);
    });
    this.exited = new Promise((res) => {
      child.on('error', () => res(null));
      child.on('close', (code) => res(code));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The first `event` (already seen or yet to come), or an error naming what the peer said. */
  async waitFor(event: string, timeoutMs: number): Promise<PeerEvent> {
    const seen = this.events.find((e) => e.event === event);
    if (seen) return seen;
    let timer: NodeJS.Timeout | undefined;
    const got = new Promise<PeerEvent>((resolve) => this.waiters.push({ event, resolve }));
    const failed = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.failure(`no '${event}' within ${timeoutMs} ms`)), timeoutMs);
      void this.exited.then(() => reject(this.failure(`exited before '${event}'`)));
    });
    try {
      return await Promise.race([got, failed]);
    } finally {
      clearTimeout(timer);
    }
  }

  private failure(what: string): RecordError {
    const err = this.events.find((e) => e.event === 'error');
    const detail = err ? `: ${String(err.errno)} ${String(err.message)}` : this.stderr.trim() ? `: ${this.stderr.trim().split('\n').pop()}` : '';
    return new RecordError('peer', `the ${this.label} ${what}${detail}`);
  }

  /** SIGTERM, then SIGKILL if it lingers; resolves once it is gone. */
  async stop(): Promise<void> {
    const c = this.child;
    if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
    c.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }, 1000);
    await this.exited;
    clearTimeout(timer);
  }

  /** For exit paths that cannot wait (process 'exit'). */
  killNow(): void {
    const c = this.child;
    if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** Start a peer in namespace `netns`. */
export function startPeer(netns: string, label: string, spec: PeerSpec): Peer {
  // Its own process group: a Ctrl-C at the terminal reaches only keepalive, which then
  // takes everything down in order.
  const child = spawn('ip', ['netns', 'exec', netns, 'python3', '-c', PEER_PY, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  return new Peer(label, child);
}
