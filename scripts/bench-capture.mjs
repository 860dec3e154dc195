#!/usr/bin/env node
/**
 * Benchmark capture generator (see scripts/README-bench.md).
 *
 *   node scripts/bench-capture.mjs OUT.pcap [--packets 2000000] [--connections 50000]
 *                                  [--seed 1] [--format pcap|pcapng]
 *
 * Writes, with the project's own writer and frame synthesizer (dist/, so build first), a
 * capture of exactly --packets Ethernet/IPv4 TCP frames over --connections connections, in
 * global time order, and beside it:
 *   OUT.truth.json  the exact expected numbers (packets, TCP segments, keepalive probes,
 *                   connections per verdict, …)
 *   OUT.truth.tsv   one line per connection: client, server, behaviour, verdict, probes, …
 *
 * Every connection: handshake (SYN / SYN-ACK with MSS, SACK-permitted, timestamps, window
 * scale; ACK), a data exchange (payloads 1–1400 bytes, pure ACKs in between, ending with
 * everything acknowledged), then one keepalive behaviour drawn from a seeded PRNG:
 *   alive / alive-fin   Linux probes every `idle` s (0 bytes, seq = next − 1), each answered by
 *                       the peer's ACK (ack = probe seq + 1); then left open, or FIN-closed
 *   dead                `count` probes `interval` apart unanswered, then RST|ACK from the
 *                       prober one interval after the last                     → dead
 *   reset               one probe answered by an RST from the peer              → reset
 *   windows-alive/-dead the same with Windows-style probes: 1 garbage byte 0x00, seq = next − 1
 *                       (no TCP timestamps on those connections, as Windows does by default)
 *   closed              no keepalive, FIN / FIN / ACK                           → closed
 * idle 1–60 s, interval 1–10 s, count 2–9. Connections overlap in time, clients use unique
 * ephemeral ports (no 4-tuple is reused), servers a few well-known ports.
 *
 * Generation streams: a heap of per-connection generators ordered by their next event time;
 * only per-connection plans (O(connections)) are held in memory, never the frames.
 * The connection plans do not depend on --packets: the same seed and --connections with
 * twice the packets gives the same connections (same verdicts and probes) with longer data
 * exchanges — that is what the benchmark's heap-growth check uses.
 */
import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const GENERATOR_VERSION = 2;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => pathToFileURL(join(root, 'dist', p)).href;

// TCP flags
const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

const LINKTYPE_ETHERNET = 1;
const EPOCH_SEC = 1_767_225_600; // 2026-01-01T00:00:00Z

/** Where the truth files of a capture go: OUT.pcap → OUT.truth.json / OUT.truth.tsv. */
export function truthPaths(capturePath) {
  const stem = capturePath.replace(/\.(pcapng|pcap)$/i, '');
  return { json: `${stem}.truth.json`, tsv: `${stem}.truth.tsv` };
}

// ---------------------------------------------------------------------------------------------
// PRNG: mulberry32, seeded per connection through a splitmix-style mix, so a connection's
// frames do not depend on how the others interleave.

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mix(a, b) {
  let h = Math.imul((a ^ 0x9e3779b9) >>> 0, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const uniform = (r, lo, hi) => lo + (hi - lo) * r();
const int = (r, lo, hi) => lo + Math.floor((hi - lo + 1) * r()); // inclusive

// ---------------------------------------------------------------------------------------------
// Connection plans (small, one per connection; everything keepalive-related is decided here).

const BEHAVIOURS = [
  // name, weight, expected verdict
  ['alive', 0.15, 'alive'],
  ['alive-fin', 0.15, 'alive'],
  ['dead', 0.2, 'dead'],
  ['reset', 0.12, 'reset'],
  ['windows-alive', 0.09, 'alive'],
  ['windows-dead', 0.04, 'dead'],
  ['closed', 0.25, 'closed'],
];

const SERVERS = [
  ['192.0.2.10', 443],
  ['192.0.2.10', 80],
  ['192.0.2.20', 5432],
  ['192.0.2.21', 5432],
  ['192.0.2.30', 6379],
  ['198.51.100.7', 22],
];
const CLIENT_HOSTS = 1000;
const EPHEMERAL_LO = 32768;
const EPHEMERAL_COUNT = 28232; // Linux's default ip_local_port_range 32768–60999

function planConnections(connections, packets, seed) {
  const r = mulberry32(mix(seed, 0xc0ffee));
  // Start times spread so that a few thousand connections are open at once.
  const spreadUs = Math.max(60, connections / 100) * 1e6;
  const plans = new Array(connections);
  let fixed = 0;
  let weightSum = 0;
  for (let i = 0; i < connections; i++) {
    let x = r();
    let b = 0;
    while (b < BEHAVIOURS.length - 1 && x >= BEHAVIOURS[b][1]) x -= BEHAVIOURS[b++][1];
    const [behaviour, , verdict] = BEHAVIOURS[b];
    const windows = behaviour.startsWith('windows');
    const p = {
      id: i,
      seed: mix(seed, i + 1),
      behaviour,
      verdict,
      windows,
      start: Math.floor(r() * spreadUs),
      rttUs: Math.floor(uniform(r, 200, 80_000)),
      proberIsClient: r() < 0.7,
      idleUs: Math.floor(uniform(r, 1, 60) * 1e6),
      intervalUs: Math.floor(uniform(r, 1, 10) * 1e6),
      count: int(r, 2, 9),
      answered: int(r, 1, 6),
      serverIx: Math.floor(r() * SERVERS.length),
      weight: -Math.log(1 - r() * 0.999), // exponential: a few long exchanges, many short ones
      probes: 0,
      overhead: 3, // handshake
      data: 0,
    };
    switch (behaviour) {
      case 'alive':
      case 'windows-alive':
        p.probes = p.answered;
        p.overhead += 2 * p.answered;
        break;
      case 'alive-fin':
        p.probes = p.answered;
        p.overhead += 2 * p.answered + 3;
        break;
      case 'dead':
      case 'windows-dead':
        p.probes = p.count;
        p.overhead += p.count + 1;
        break;
      case 'reset':
        p.probes = 1;
        p.overhead += 2;
        break;
      case 'closed':
        p.overhead += 3;
        break;
    }
    fixed += p.overhead;
    weightSum += p.weight;
    plans[i] = p;
  }
  // Every data exchange has at least 2 packets (data, then its ACK); the rest of the packet
  // budget is shared out by weight so the total is exactly `packets`.
  const spare = packets - fixed - 2 * connections;
  if (spare < 0) {
    throw new Error(`--packets ${packets} is too few for ${connections} connections (need at least ${fixed + 2 * connections})`);
  }
  let given = 0;
  for (const p of plans) {
    p.data = 2 + Math.floor((spare * p.weight) / weightSum);
    given += p.data - 2;
  }
  for (let i = 0; given < spare; i = (i + 1) % connections, given++) plans[i].data++;
  return plans;
}

function clientOf(i) {
  const host = i % CLIENT_HOSTS;
  const slot = Math.floor(i / CLIENT_HOSTS);
  if (slot >= EPHEMERAL_COUNT) throw new Error('too many connections for unique 4-tuples');
  // slot → port is a bijection per host (7919 is prime to 28232), so no 4-tuple repeats.
  const port = EPHEMERAL_LO + ((slot * 7919 + host * 13) % EPHEMERAL_COUNT);
  const addr = `10.${16 + (host >> 8)}.${host & 255}.${(host % 250) + 2}`;
  return [addr, port];
}

// ---------------------------------------------------------------------------------------------
// One connection as a generator: each step sets `conn.t` (µs since the epoch), `conn.spec`
// (a TcpSpec for the synthesizer) and `conn.outbound`, then yields.

const PAYLOAD_POOL = (() => {
  const r = mulberry32(12345);
  const b = new Uint8Array(1600);
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
  return b;
})();
const GARBAGE = new Uint8Array([0]);
const EMPTY = new Uint8Array(0);

function payloadLength(r) {
  const x = r();
  if (x < 0.4) return int(r, 1, 100);
  if (x < 0.75) return int(r, 101, 1000);
  return int(r, 1001, 1400);
}

function* connectionEvents(conn, p) {
  const r = mulberry32(p.seed);
  const [caddr, cport] = clientOf(p.id);
  const [saddr, sport] = SERVERS[p.serverIx];
  const ts = !p.windows;
  const mkSide = (addr, port, client) => ({
    addr,
    port,
    client,
    // ISNs are random; one side in 50 starts just below 2^32 so its sequence numbers wrap
    // (a probe then carries seq = next − 1 across the wrap).
    next: r() < 0.02 ? 4294967296 - int(r, 1, 30_000) : Math.floor(r() * 4294967296),
    tsBase: Math.floor(r() * 4294967296),
    tsecr: 0,
    ipId: Math.floor(r() * 65536),
    lastRecv: 0,
    ttl: p.windows && client === p.proberIsClient ? 128 : 64,
    window: 0,
  });
  const C = mkSide(caddr, cport, true);
  const S = mkSide(saddr, sport, false);
  const rtt = p.rttUs;
  let t = p.start - 1; // seg() keeps every frame strictly after the previous one
  let probesSent = 0;

  /** Fill conn for one segment from `from` at time `at` (kept strictly after the previous one). */
  const seg = (from, at, flags, payload, seq) => {
    const to = from === C ? S : C;
    t = at > t ? at : t + 1;
    const len = payload.length;
    const spec = {
      src: from.addr,
      dst: to.addr,
      srcPort: from.port,
      dstPort: to.port,
      seq: seq === undefined ? from.next : seq,
      ack: flags & ACK ? to.next : 0,
      flags,
      window: from.window,
      payload,
      ttl: from.ttl,
      ipId: from.ipId,
    };
    from.ipId = (from.ipId + 1) & 0xffff;
    if (ts && (flags & RST) === 0) {
      const val = (from.tsBase + Math.floor(t / 1000)) >>> 0;
      spec.timestamps = [val, (flags & (SYN | ACK)) === SYN ? 0 : from.tsecr];
      to.tsecr = val;
    }
    if (seq === undefined) from.next = (from.next + len + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0)) >>> 0;
    to.lastRecv = t;
    conn.t = t;
    conn.spec = spec;
    conn.outbound = from === C;
    return spec;
  };

  // Handshake. Linux: MSS, SACK_PERM, TS, NOP, WS; Windows: MSS, NOP, WS, SACK_PERM (no TS).
  C.window = 64240;
  let s = seg(C, p.start, SYN, EMPTY);
  s.mss = 1460;
  s.sackPermitted = true;
  s.windowScale = 7;
  yield;
  S.window = 65160;
  s = seg(S, t + rtt, SYN | ACK, EMPTY);
  s.mss = 1460;
  s.sackPermitted = true;
  s.windowScale = 7;
  yield;
  C.window = 502;
  S.window = 509;
  seg(C, t + int(r, 20, 400), ACK, EMPTY);
  yield;

  // Data exchange: bursts of data from one side, pure ACKs, the talker switching now and then;
  // it ends with data and its ACK, so nothing is in flight when the keepalive timer runs.
  let talker = C;
  let unacked = false;
  let lastData = C;
  for (let left = p.data; left > 0; left--) {
    if (left === 1) {
      seg(lastData === C ? S : C, t + Math.floor(rtt * uniform(r, 0.5, 1.2)), ACK, EMPTY);
    } else if (left > 2 && unacked && r() < 0.35) {
      seg(lastData === C ? S : C, t + Math.floor(rtt * uniform(r, 0.5, 1.2)), ACK, EMPTY);
      unacked = false;
    } else {
      let gap = int(r, 10, 2000);
      if (r() < 0.3) {
        talker = talker === C ? S : C;
        gap += rtt + int(r, 0, 50_000);
      }
      const len = payloadLength(r);
      const off = int(r, 0, PAYLOAD_POOL.length - len);
      seg(talker, t + gap, PSH | ACK, PAYLOAD_POOL.subarray(off, off + len));
      unacked = true;
      lastData = talker;
    }
    yield;
  }

  const P = p.proberIsClient ? C : S;
  const Q = P === C ? S : C;
  const probeBytes = p.windows ? GARBAGE : EMPTY;
  const jitter = () => int(r, 0, 4000);
  const probe = (at) => {
    probesSent++;
    return seg(P, at, ACK, probeBytes, (P.next - 1) >>> 0);
  };
  const finClose = function* (at) {
    const X = r() < 0.5 ? C : S;
    const Y = X === C ? S : C;
    seg(X, at, FIN | ACK, EMPTY);
    yield;
    seg(Y, t + Math.floor(rtt * uniform(r, 0.6, 1.2)), FIN | ACK, EMPTY);
    yield;
    seg(X, t + int(r, 20, 400), ACK, EMPTY);
    yield;
  };

  switch (p.behaviour) {
    case 'alive':
    case 'alive-fin':
    case 'windows-alive':
      for (let k = 0; k < p.answered; k++) {
        probe(P.lastRecv + p.idleUs + jitter());
        yield;
        // The answer: an ACK for probe seq + 1, at the peer's next sequence number.
        seg(Q, t + Math.floor(rtt * uniform(r, 0.8, 1.2)), ACK, EMPTY);
        yield;
      }
      if (p.behaviour === 'alive-fin') yield* finClose(t + Math.floor(p.idleUs * uniform(r, 0.1, 0.9)));
      break;
    case 'dead':
    case 'windows-dead': {
      let at = P.lastRecv + p.idleUs + jitter();
      for (let k = 0; k < p.count; k++) {
        probe(at);
        yield;
        at = t + p.intervalUs + jitter();
      }
      // Linux gives up one interval after the last probe: tcp_send_active_reset (RST|ACK at snd_nxt).
      seg(P, at, RST | ACK, EMPTY);
      yield;
      break;
    }
    case 'reset': {
      probe(P.lastRecv + p.idleUs + jitter());
      yield;
      // The peer forgot the connection (rebooted): RST with seq = the probe's ACK field.
      seg(Q, t + Math.floor(rtt * uniform(r, 0.8, 1.2)), RST, EMPTY, Q.next);
      yield;
      break;
    }
    case 'closed':
      yield* finClose(t + int(r, 10_000, 5_000_000));
      break;
  }
  if (probesSent !== p.probes) throw new Error(`internal: connection ${p.id} sent ${probesSent} probes, planned ${p.probes}`);
}

// ---------------------------------------------------------------------------------------------
// Binary min-heap of connections by (next event time, id).

class Heap {
  items = [];
  get size() {
    return this.items.length;
  }
  static less(a, b) {
    return a.t < b.t || (a.t === b.t && a.id < b.id);
  }
  push(x) {
    const h = this.items;
    let i = h.length;
    h.push(x);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!Heap.less(x, h[parent])) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = x;
  }
  pop() {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const rr = l + 1;
        const c = rr < n && Heap.less(h[rr], h[l]) ? rr : l;
        if (!Heap.less(h[c], last)) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

function isoUs(us) {
  const d = new Date(Math.floor(us / 1000));
  return `${d.toISOString().slice(0, 19)}.${String(us % 1_000_000).padStart(6, '0')}Z`;
}

// ---------------------------------------------------------------------------------------------

export async function generate({ out, packets = 2_000_000, connections = 50_000, seed = 1, format = 'pcap', quiet = false }) {
  const { ipPacket, linkFrame } = await import(dist('synth/packet.js'));
  const { PcapWriter, PcapngWriter, FileSink } = await import(dist('capture/writer.js'));
  const started = process.hrtime.bigint();
  const plans = planConnections(connections, packets, seed);

  const tmp = `${out}.tmp`;
  const sink = new FileSink(tmp, true);
  const writer =
    format === 'pcapng'
      ? new PcapngWriter(sink, { interfaces: [{ linkType: LINKTYPE_ETHERNET, snaplen: 262_144, name: 'eth0' }], application: 'keepalive bench-capture' })
      : new PcapWriter(sink, { linkType: LINKTYPE_ETHERNET, snaplen: 262_144 });

  // Times are whole microseconds since 1970 (exact in a double until the year 2255).
  const heap = new Heap();
  for (const p of plans) {
    p.start += EPOCH_SEC * 1e6;
    heap.push({ id: p.id, t: p.start, spec: null, outbound: true, gen: null, plan: p });
  }

  let written = 0;
  let firstUs = -1;
  let lastUs = 0;
  let maxOpen = 0;
  let open = 0;
  const progressEvery = 1 << 18;
  const progress = !quiet && process.stderr.isTTY;
  while (heap.size > 0) {
    const conn = heap.pop();
    if (conn.gen === null) {
      conn.gen = connectionEvents(conn, conn.plan);
      conn.gen.next();
      if (++open > maxOpen) maxOpen = open;
    }
    const t = conn.t;
    if (t < lastUs) throw new Error('internal: frames out of time order');
    if (firstUs < 0) firstUs = t;
    lastUs = t;
    const frame = linkFrame(LINKTYPE_ETHERNET, ipPacket(conn.spec), { outbound: conn.outbound });
    const sec = Math.floor(t / 1e6);
    writer.writeFrame(frame, sec, (t - sec * 1e6) * 1000);
    written++;
    if (progress && (written & (progressEvery - 1)) === 0) process.stderr.write(`\rbench-capture: ${written} / ${packets} frames`);
    if (!conn.gen.next().done) heap.push(conn);
    else {
      open--;
      conn.gen = null;
      conn.spec = null;
    }
  }
  writer.close();
  if (progress) process.stderr.write('\r\x1b[K');
  if (written !== packets) throw new Error(`internal: wrote ${written} frames, planned ${packets}`);
  renameSync(tmp, out);

  const verdicts = { alive: 0, dead: 0, reset: 0, closed: 0, undetermined: 0, 'no-keepalive': 0 };
  const behaviours = Object.fromEntries(BEHAVIOURS.map(([b]) => [b, 0]));
  let probes = 0;
  let windowsProbes = 0;
  const lines = ['client\tserver\tbehaviour\tverdict\tprobes\tprober\tidle_s\tinterval_s\tcount\tdata_packets'];
  for (const p of plans) {
    verdicts[p.verdict]++;
    behaviours[p.behaviour]++;
    probes += p.probes;
    if (p.windows) windowsProbes += p.probes;
    const [ca, cp] = clientOf(p.id);
    const [sa, sp] = SERVERS[p.serverIx];
    const dead = p.behaviour.endsWith('dead');
    lines.push(
      [`${ca}:${cp}`, `${sa}:${sp}`, p.behaviour, p.verdict, p.probes, p.probes ? (p.proberIsClient ? 'client' : 'server') : '-',
        p.probes ? (p.idleUs / 1e6).toFixed(6) : '-', dead ? (p.intervalUs / 1e6).toFixed(6) : '-', dead ? p.count : '-', p.data].join('\t'),
    );
  }
  const paths = truthPaths(out);
  writeFileSync(paths.tsv, lines.join('\n') + '\n');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const truth = {
    generator: 'scripts/bench-capture.mjs',
    version: GENERATOR_VERSION,
    params: { packets, connections, seed, format },
    file: basename(out),
    bytes: statSync(out).size,
    packets: written,
    tcpSegments: written,
    keepaliveProbes: probes,
    probesByStyle: { linux: probes - windowsProbes, windows: windowsProbes },
    zeroWindowProbes: 0,
    connections,
    verdicts,
    behaviours,
    firstTime: isoUs(firstUs),
    lastTime: isoUs(lastUs),
    durationSeconds: (lastUs - firstUs) / 1e6,
    maxConcurrentConnections: maxOpen,
    connectionsFile: basename(paths.tsv),
    generationSeconds: Math.round(seconds * 10) / 10,
  };
  writeFileSync(paths.json, JSON.stringify(truth, null, 2) + '\n');
  return truth;
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      packets: { type: 'string', default: '2000000' },
      connections: { type: 'string', default: '50000' },
      seed: { type: 'string', default: '1' },
      format: { type: 'string', default: 'pcap' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals.length !== 1) {
    process.stderr.write('usage: node scripts/bench-capture.mjs OUT.pcap [--packets 2000000] [--connections 50000] [--seed 1] [--format pcap|pcapng]\n');
    process.exit(values.help ? 0 : 2);
  }
  const num = (name) => {
    const v = Number(values[name].replace(/_/g, ''));
    if (!Number.isSafeInteger(v) || v < 1) {
      process.stderr.write(`bench-capture: --${name} must be a positive integer\n`);
      process.exit(2);
    }
    return v;
  };
  const format = values.format;
  if (format !== 'pcap' && format !== 'pcapng') {
    process.stderr.write('bench-capture: --format must be pcap or pcapng\n');
    process.exit(2);
  }
  try {
    const truth = await generate({ out: positionals[0], packets: num('packets'), connections: num('connections'), seed: num('seed'), format, quiet: values.quiet });
    const { connectionsFile, ...shown } = truth;
    process.stdout.write(`${positionals[0]}: ${JSON.stringify(shown)}\n`);
  } catch (err) {
    rmSync(`${positionals[0]}.tmp`, { force: true });
    process.stderr.write(`bench-capture: ${err instanceof Error ? err.message : err}\n`);
    process.exit(1);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
