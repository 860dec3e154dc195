// How many packets per second live capture keeps up with, without kernel drops: a TCP flood of
// 64-byte writes (TCP_NODELAY) over 127.0.0.1 inside a private namespace, 5 s per rate, captured
// with a filter on its port. Truth is the loopback interface's own packet counter (each packet
// counted once) against the frames the capture delivered, and the kernel's drop count.
// A measurement, not a check: it runs only with KEEPALIVE_LIVE_BENCH=1 (and root), e.g.
//   KEEPALIVE_LIVE_BENCH=1 npx vitest run test/live-throughput.test.ts
// KEEPALIVE_LIVE_BENCH_RATES (writes/s, comma-separated) and KEEPALIVE_LIVE_BENCH_BUFFER_KIB
// change the rates and the capture buffer.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const enabled = process.env.KEEPALIVE_LIVE_BENCH === '1' && process.getuid?.() === 0;
const RATES = (process.env.KEEPALIVE_LIVE_BENCH_RATES ?? '5000,10000,15000,20000,30000,40000').split(',').map(Number);
const BUFFER_KIB = Number(process.env.KEEPALIVE_LIVE_BENCH_BUFFER_KIB ?? 32768);
const SECONDS = 5;
const NETNS = `ka-live-bench-${process.pid}`;

const FLOOD_PY = String.raw`
import os, socket, sys, time
rate, secs, port = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(('127.0.0.1', port)); l.listen(1)
pid = os.fork()
if pid == 0:
    s, _ = l.accept()
    while s.recv(1 << 20):
        pass
    os._exit(0)
c = socket.socket(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1); c.connect(('127.0.0.1', port))
fd, msg, sent = c.fileno(), b'x' * 64, 0
t0 = time.time(); end = t0 + secs; per = max(1, int(rate / 1000)); nxt = t0
while True:
    now = time.time()
    if now >= end: break
    if now < nxt:
        time.sleep(nxt - now); continue
    for _ in range(per): os.write(fd, msg)
    sent += per; nxt += 0.001
c.close(); os.waitpid(pid, 0)
print(sent)
`;

/** Runs inside the namespace: capture (in process), flood, count. Prints one JSON line. */
const MEASURE = (rate: number, port: number): string => `
import { captureLive } from ${JSON.stringify(join(ROOT, 'dist', 'live', 'session.js'))};
import { spawn, execFileSync } from 'node:child_process';
const lo = () => JSON.parse(execFileSync('ip', ['-s', '-j', 'link', 'show', 'lo'], { encoding: 'utf8' }))[0].stats64.rx.packets;
const stop = new AbortController();
let ready; const isReady = new Promise((r) => (ready = r));
const live = captureLive({ iface: 'lo', filter: 'tcp port ${port}', bufferSize: ${BUFFER_KIB * 1024}, signal: stop.signal, onReady: () => ready() });
await isReady;
const before = lo();
const flood = spawn('python3', ['-c', ${JSON.stringify(FLOOD_PY)}, '${rate}', '${SECONDS}', '${port}'], { stdio: ['ignore', 'pipe', 'inherit'] });
let writes = ''; flood.stdout.on('data', (d) => (writes += d));
await new Promise((r) => flood.on('close', r));
await new Promise((r) => setTimeout(r, 300));
const onWire = lo() - before;
stop.abort();
const { stats } = await live;
console.log(JSON.stringify({ writes: Number(writes), onWire, captured: stats.frames, kernelDrops: stats.kernelDrops, kernelReceived: stats.kernelReceived }));
`;

describe.skipIf(!enabled)('live capture throughput on loopback (KEEPALIVE_LIVE_BENCH=1)', () => {
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'live', 'session.js'))) throw new Error('build first (npx tsc -p .)');
    execFileSync('ip', ['netns', 'add', NETNS]);
    execFileSync('ip', ['-n', NETNS, 'link', 'set', 'lo', 'up']);
  });
  afterAll(() => {
    spawnSync('ip', ['netns', 'del', NETNS], { stdio: 'ignore' });
  });

  it('measures frames captured against the packets on the wire, rate by rate', async () => {
    const rows: string[] = [];
    let port = 30000;
    for (const rate of RATES) {
      const child = spawn('ip', ['netns', 'exec', NETNS, process.execPath, '--input-type=module', '-e', MEASURE(rate, port++)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise((r) => child.on('close', r));
      const m = JSON.parse(out.trim().split('\n').pop()!) as { writes: number; onWire: number; captured: number; kernelDrops: number | null };
      const missing = m.onWire - m.captured;
      rows.push(
        `${String(rate).padStart(7)} writes/s asked, ${String(Math.round(m.writes / SECONDS)).padStart(7)} made: ${String(Math.round(m.onWire / SECONDS)).padStart(7)} packets/s on the wire, ${String(m.captured).padStart(8)} captured, ${String(missing).padStart(6)} missing, kernel drops ${m.kernelDrops} (each loopback packet reaches the socket twice)`,
      );
      expect(m.captured).toBeGreaterThan(0);
    }
    console.log(`live capture on loopback, buffer ${BUFFER_KIB} KiB, ${SECONDS} s per rate:\n${rows.join('\n')}`);
  }, 600_000);
});
