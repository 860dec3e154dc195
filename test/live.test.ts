// `keepalive live`: real keepalive traffic on the loopback interface of a private network
// namespace, captured through cap (libpcap) and fed frame by frame into the same analysis as
// files. What a person would check: the probes are there, about 1 s apart after 1 s idle, the
// peer answered them, and the written file says the same as the live report (and holds as many
// packets for tshark). Needs root (CI runs as root); the rest runs anywhere.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeToReport } from '../src/analysis/analyze.js';
import type { ConnectionReport, Report } from '../src/analysis/model.js';
import { liveArgs, runLive, type Io } from '../src/cli/live.js';
import { UsageError } from '../src/cli/errors.js';
import { CAP_MISSING_HINT, LiveError, linkTypeOf, loadCap, openError, PERMISSION_HINT } from '../src/live/cap.js';
import { formatLiveEvent } from '../src/live/events.js';
import { captureLive, type LiveEvent } from '../src/live/session.js';
import { listDevices } from '../src/live/source.js';
import { encodeJson, FrameEncoder, MSG_READY, WireDecoder } from '../src/live/wire.js';
import { startPeer, type Peer } from '../src/record/peer.js';
import { CLI, collectOutput, hasTshark, ROOT, tsharkFields } from './helpers.js';
import { tempDir } from './synth-helpers.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('test/live.test.ts: not root: skipping the live captures (they need CAP_NET_RAW and network namespaces; CI runs as root)');

const dir = tempDir();
const capBuilt = existsSync(join(ROOT, 'node_modules', 'cap', 'build', 'Release', 'cap.node'));

function within(actual: number | null | undefined, expected: number, tolerance = 0.1): void {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - expected) / expected).toBeLessThanOrEqual(tolerance);
}

function capture(): { io: Io; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { io: { out: (s) => void (out += s), err: (s) => void (err += s), stdoutIsTTY: false }, out: () => out, err: () => err };
}

function ns(name: string): string {
  return `ka-live-${process.pid}-${name}`;
}

function makeNetns(name: string): void {
  spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  for (const args of [
    ['netns', 'add', name],
    ['-n', name, 'link', 'set', 'lo', 'up'],
  ]) {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  }
}

/** A server and a client with keepalive idle 1 s, interval 1 s, count 3 on 127.0.0.1:port inside `netns`. */
async function keepalivePair(netns: string, port: number, seconds: number): Promise<Peer[]> {
  const deadline = Date.now() / 1000 + seconds + 10;
  const server = startPeer(netns, 'server', { role: 'server', addr: '127.0.0.1', port, keepalive: null, echo: true, actions: [], deadline });
  await server.waitFor('listening', 5000);
  const client = startPeer(netns, 'client', {
    role: 'client',
    addr: '127.0.0.1',
    port,
    keepalive: { idle: 1, interval: 1, count: 3 },
    actions: [{ t: 0.05, do: 'send', bytes: 100 }],
    deadline,
  });
  await client.waitFor('established', 5000);
  return [server, client];
}

/** The probing connection of a report. */
function probing(report: Report): ConnectionReport {
  const c = report.connections.find((x) => x.probes.length > 0);
  expect(c, 'a connection with keepalive probes').toBeDefined();
  return c!;
}

/** What the analysis of a 1 s / 1 s / 3 keepalive pair must show after about 3.5 s of idling. */
function expectAliveOneSecond(c: ConnectionReport): void {
  expect(c.verdict).toBe('alive');
  expect(c.probes.length).toBeGreaterThanOrEqual(2);
  expect(c.probes.every((p) => p.from === 'client' && p.reply.kind === 'ack')).toBe(true);
  within(c.keepalive.client?.idle, 1);
  // Answered probes come every max(idle, interval) = 1 s.
  within(c.keepalive.client?.intervalAtMost, 1);
  expect(c.keepalive.server).toBeNull();
}

/** The live report and the analysis of the file it wrote agree, connection for connection. */
async function expectSameAsFile(live: Report, file: string): Promise<void> {
  const fromFile = await analyzeToReport([file]);
  expect(fromFile.connections).toEqual(live.connections);
  expect({ ...fromFile.summary, files: [], warnings: [] }).toEqual({ ...live.summary, files: [], warnings: [] });
  if (hasTshark()) expect(tsharkFields(file, ['frame.number']).length).toBe(live.summary.packets);
}

describe('cap, loaded on first use', () => {
  it('says what to install when cap is missing', () => {
    let err: unknown;
    try {
      loadCap('cap-that-is-not-installed');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LiveError);
    expect((err as LiveError).kind).toBe('cap-missing');
    expect((err as LiveError).message).toContain('cap-that-is-not-installed is not installed');
    expect((err as LiveError).message).toContain(CAP_MISSING_HINT);
  });

  it('says so when cap is installed but its addon was never built', () => {
    const fake = join(dir, 'node_modules', 'cap');
    mkdirSync(join(fake, 'lib'), { recursive: true });
    writeFileSync(join(fake, 'package.json'), JSON.stringify({ name: 'cap', main: './lib/Cap' }));
    writeFileSync(join(fake, 'lib', 'Cap.js'), "module.exports = require('../build/Release/cap.node');\n");
    expect(() => loadCap(fake)).toThrow(/never built.*install libpcap-dev, then npm rebuild cap/);
  });

  it.skipIf(!capBuilt)('lists interfaces (no privilege needed), loopback among them', () => {
    const devices = listDevices();
    expect(devices.map((d) => d.name)).toContain('lo');
  });

  it("maps cap's link type names to the LINKTYPE values files carry", () => {
    expect(linkTypeOf('ETHERNET')).toBe(1);
    expect(linkTypeOf('LINKTYPE_LINUX_SLL')).toBe(113);
    expect(linkTypeOf('RAW')).toBe(101);
    expect(linkTypeOf('NULL')).toBe(0);
    expect(linkTypeOf('Unknown linktype 276')).toBe(276);
    expect(linkTypeOf('Unknown linktype 14')).toBe(101);
  });

  it("classifies libpcap's own messages (seen with libpcap 1.10)", () => {
    expect(openError('socket: Operation not permitted', 'lo', '', null).kind).toBe('permission');
    expect(openError('socket: Operation not permitted', 'lo', '', null).message).toContain(PERMISSION_HINT);
    expect(openError('No such device exists', 'eth9', '', [{ name: 'lo', addresses: [] }]).message).toBe("no interface named 'eth9'; available: lo");
    expect(openError("can't parse filter expression: syntax error", 'lo', 'tcp port', null).message).toBe(
      "invalid capture filter 'tcp port': can't parse filter expression: syntax error",
    );
    expect(openError('illegal port number 99999 > 65535', 'lo', 'port 99999', null).kind).toBe('bad-filter');
  });
});

describe('frames from a capture child', () => {
  it('arrive whole whatever the chunking, as views where they lie in one chunk', () => {
    const enc = new FrameEncoder();
    const frames = [Buffer.from('aaaa'), Buffer.alloc(1500, 7), Buffer.from('z')];
    frames.forEach((f, i) => enc.frame(f, 0, f.length, 1_700_000_000 + i, i * 1000));
    const stream = Buffer.concat([encodeJson(MSG_READY, { linkType: 1 }), enc.take()]);
    for (const cut of [1, 3, 7, 100, stream.length]) {
      const got: { bytes: string; sec: number; nsec: number }[] = [];
      const messages: number[] = [];
      const dec = new WireDecoder(() => 1, {
        frame: (f) => got.push({ bytes: Buffer.from(f.data.subarray(f.offset, f.offset + f.capLen)).toString('hex'), sec: f.tsSec, nsec: f.tsNsec }),
        message: (type) => messages.push(type),
      });
      for (let o = 0; o < stream.length; o += cut) dec.push(stream.subarray(o, o + cut));
      expect(messages).toEqual([MSG_READY]);
      expect(got.map((g) => g.bytes)).toEqual(frames.map((f) => f.toString('hex')));
      expect(got.map((g) => [g.sec, g.nsec])).toEqual([
        [1_700_000_000, 0],
        [1_700_000_001, 1000],
        [1_700_000_002, 2000],
      ]);
      expect(dec.leftover).toBe(0);
    }
  });
});

describe('live lines', () => {
  it('name the time, frame, connection and what happened', () => {
    const base = { frame: 17, connection: { client: '10.0.0.1:41000', server: '10.0.0.2:443' }, tsSec: 1_700_000_000, tsNsec: 123_456_000 };
    const probe: LiveEvent = { ...base, type: 'keepalive', kind: 'probe', from: 'client', seconds: 1.024 };
    expect(formatLiveEvent(probe)).toMatch(/^\d\d:\d\d:\d\d\.123456 {2}frame 17 {5}10\.0\.0\.1:41000 -> 10\.0\.0\.2:443 {2}keepalive probe from the client \(1\.024 s after its previous one\)$/);
    expect(formatLiveEvent({ ...base, type: 'keepalive', kind: 'reply-rst', from: 'client', seconds: 0.0001 })).toContain('RST from the server');
    expect(formatLiveEvent({ ...base, type: 'verdict', verdict: 'dead' })).toContain('verdict DEAD');
  });
});

describe('errors before any capture', () => {
  it('-w refuses an existing file, and nothing is captured', async () => {
    const existing = join(dir, 'exists.pcapng');
    writeFileSync(existing, 'precious');
    await expect(captureLive({ iface: 'lo', write: existing, durationSeconds: 1 })).rejects.toThrow(`-w ${existing}: already exists; refusing to overwrite it`);
    expect(readFileSync(existing, 'utf8')).toBe('precious');
  });

  it.skipIf(!capBuilt)('an unknown interface is named, with the available ones', async () => {
    const c = capture();
    await expect(runLive(liveArgs({ interface: 'nosuch0', format: 'text', color: 'never' }), c.io)).rejects.toThrow(/^no interface named 'nosuch0'; available: .*\blo\b/);
  });

  it('live without -i says how to find an interface', async () => {
    const err = await runLive(liveArgs({ format: 'text', color: 'never' }), capture().io).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe('live: name an interface with -i (keepalive live --list-interfaces lists them)');
  });
});

describe.skipIf(!isRoot || !capBuilt)('live capture on loopback in a private namespace (root)', () => {
  const netns = ns('lo');
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'live', 'child.js'))) throw new Error('dist/live/child.js is missing: build first (npx tsc -p .)');
    makeNetns(netns);
  });
  afterAll(() => {
    spawnSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
  });

  it('sees the probes, their ACKs and the verdict as they happen, and the report agrees with the written file', async () => {
    const file = join(dir, 'live-lo.pcapng');
    const events: LiveEvent[] = [];
    let peers: Peer[] = [];
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    const running = captureLive({ iface: 'lo', netns, filter: 'tcp port 9001', durationSeconds: 4.5, write: file, onEvent: (e) => events.push(e), onReady: () => ready() });
    try {
      await isReady;
      peers = await keepalivePair(netns, 9001, 5);
      const { report, stats } = await running;
      expect(stats.iface).toBe('lo');
      expect(stats.linkType).toBe(1);
      expect(stats.stoppedBy).toBe('duration');
      expect(stats.kernelDrops).toBe(0);
      expect(stats.frames).toBe(report.summary.packets);
      const c = probing(report);
      expectAliveOneSecond(c);
      expect(c.client).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(c.server).toBe('127.0.0.1:9001');
      // One live event per probe and per ACK, with the same frame numbers as the report.
      const probes = events.filter((e) => e.type === 'keepalive' && e.kind === 'probe').map((e) => e.frame);
      const acks = events.filter((e) => e.type === 'keepalive' && e.kind === 'reply-ack').map((e) => e.frame);
      expect(probes).toEqual(c.probes.map((p) => p.frame));
      expect(acks).toEqual(c.probes.map((p) => p.reply.frame));
      expect(events.filter((e) => e.type === 'verdict').map((e) => (e.type === 'verdict' ? e.verdict : ''))).toEqual(['alive']);
      await expectSameAsFile(report, file);
    } finally {
      await Promise.all(peers.map((p) => p.stop()));
    }
  });

  it('an invalid filter is refused with libpcap\'s words', async () => {
    await expect(captureLive({ iface: 'lo', netns, filter: 'tcp port', durationSeconds: 1 })).rejects.toThrow("invalid capture filter 'tcp port': can't parse filter expression: syntax error");
  });

  it('lists the interfaces of the namespace', async () => {
    const c = capture();
    await runLive(liveArgs({ 'list-interfaces': true, netns, format: 'json', color: 'never' }), c.io);
    const names = (JSON.parse(c.out()) as { name: string }[]).map((d) => d.name);
    expect(names).toContain('lo');
    expect(names).not.toContain('eth0');
  });

  it('in the capturing process itself (no --netns): Ctrl-C ends the capture and the report is printed', async () => {
    // runLive in a process inside the namespace, as `ip netns exec NS keepalive live -i lo` runs.
    const script = `
      import { runLive, liveArgs, withStopSignals, stdio } from ${JSON.stringify(join(ROOT, 'dist', 'cli', 'live.js'))};
      const args = liveArgs({ interface: 'lo', filter: 'tcp port 9002', format: 'json', color: 'never', duration: '20s' });
      process.exitCode = await withStopSignals((signal) => runLive(args, { ...stdio, signal }));
    `;
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const io = collectOutput(child);
    let peers: Peer[] = [];
    try {
      for (let i = 0; i < 100 && !io.err.includes('listening on lo'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(io.err).toContain('keepalive: listening on lo, Ethernet (1)');
      peers = await keepalivePair(netns, 9002, 5);
      await new Promise((r) => setTimeout(r, 3300));
      child.kill('SIGINT');
      expect(await io.exited).toBe(0);
    } finally {
      await Promise.all(peers.map((p) => p.stop()));
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    const report = JSON.parse(io.out) as Report;
    expectAliveOneSecond(probing(report));
    expect(report.summary.files).toEqual(['live:lo']);
    expect(io.err).toMatch(/keepalive: \d+ frame\(s\) captured on lo in [\d.]+ s, 0 dropped by the kernel\n/);
    // Events went to standard error, since standard output carries the JSON.
    expect(io.err).toMatch(/frame \d+ +127\.0\.0\.1:\d+ -> 127\.0\.0\.1:9002 {2}keepalive probe from the client/);
  });

  it('without permission to capture, says what to run', () => {
    const script = `
      import { captureLive } from ${JSON.stringify(join(ROOT, 'dist', 'live', 'session.js'))};
      captureLive({ iface: 'lo', durationSeconds: 1 }).then(() => console.log('captured?!'), (e) => console.log(e.kind + ': ' + e.message));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', cwd: '/' });
    expect(r.stdout.trim()).toBe(`permission: cannot capture on lo: socket: Operation not permitted; ${PERMISSION_HINT}`);
  });
});

// The same through the command line.
describe.skipIf(!isRoot || !capBuilt)('keepalive live on the command line (root)', () => {
  const netns = ns('cli');
  beforeAll(() => makeNetns(netns));
  afterAll(() => {
    spawnSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
  });

  function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('ip', ['netns', 'exec', netns, process.execPath, CLI, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('captures for --duration, prints events then the text report, and writes the file', async () => {
    const file = join(dir, 'cli-live.pcap');
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, CLI, 'live', '-i', 'lo', '-f', 'tcp port 9003', '--duration', '4500ms', '-w', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    const io = collectOutput(child);
    let peers: Peer[] = [];
    try {
      for (let i = 0; i < 100 && !io.err.includes('listening on lo'); i++) await new Promise((r) => setTimeout(r, 50));
      peers = await keepalivePair(netns, 9003, 5);
      expect(await io.exited).toBe(0);
    } finally {
      await Promise.all(peers.map((p) => p.stop()));
    }
    expect(io.out).toMatch(/frame \d+ +127\.0\.0\.1:\d+ -> 127\.0\.0\.1:9003 {2}keepalive probe from the client\n/);
    expect(io.out).toMatch(/ACK from the server to the client's probe after/);
    expect(io.out).toMatch(/verdict ALIVE/);
    expect(io.out).toMatch(/127\.0\.0\.1:\d+ -> 127\.0\.0\.1:9003 {2}ALIVE/);
    expect(io.err).toContain(`written to ${file}`);
    // classic pcap by its name; the same report as analyze gives for it
    expect(readFileSync(file).readUInt32LE(0)).toBe(0xa1b2c3d4);
    const fromFile = await analyzeToReport([file]);
    expectAliveOneSecond(probing(fromFile));
  });

  it('--count stops after that many frames; --format json is the version-1 report', async () => {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, CLI, 'live', '-i', 'lo', '-f', 'tcp port 9004', '--count', '5', '--duration', '20s', '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const io = collectOutput(child);
    let peers: Peer[] = [];
    try {
      for (let i = 0; i < 100 && !io.err.includes('listening on lo'); i++) await new Promise((r) => setTimeout(r, 50));
      peers = await keepalivePair(netns, 9004, 5);
      expect(await io.exited).toBe(0);
    } finally {
      await Promise.all(peers.map((p) => p.stop()));
    }
    const report = JSON.parse(io.out) as Report;
    expect(report.version).toBe(1);
    expect(report.summary.packets).toBe(5);
    expect(report.connections[0]!.server).toBe('127.0.0.1:9004');
  });

  it('fails in one line with exit status 2: unknown interface, invalid filter, existing -w file', () => {
    const unknown = cli(['live', '-i', 'eth7']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^keepalive: no interface named 'eth7'; available: (.*, )?lo(, .*)?\n$/);
    const filter = cli(['live', '-i', 'lo', '-f', 'port 99999']);
    expect(filter.status).toBe(2);
    expect(filter.stderr).toBe("keepalive: invalid capture filter 'port 99999': illegal port number 99999 > 65535\n");
    const existing = join(dir, 'keep-me.pcapng');
    writeFileSync(existing, 'x');
    const w = cli(['live', '-i', 'lo', '-w', existing, '--duration', '1s']);
    expect(w.status).toBe(2);
    expect(w.stderr).toBe(`keepalive: -w ${existing}: already exists; refusing to overwrite it\n`);
    expect(readFileSync(existing, 'utf8')).toBe('x');
  });

  it('--list-interfaces lists them', () => {
    const r = cli(['live', '--list-interfaces']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^lo +127\.0\.0\.1.*\(loopback\)$/m);
  });
});
