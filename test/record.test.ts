// `keepalive record`: every scenario recorded for real (two private network namespaces, a
// Python server and client with the asked TCP_KEEPIDLE/KEEPINTVL/KEEPCNT, a live capture through
// cap) and its analysis checked the way a person would read it in Wireshark: how many probes,
// how far apart, who answered and how, and what became of the connection. Each written capture
// must say the same to our file reader and hold as many packets for tshark. Needs root.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeToReport } from '../src/analysis/analyze.js';
import type { ConnectionReport, Report } from '../src/analysis/model.js';
import { recordArgs } from '../src/cli/record.js';
import { RecordError } from '../src/record/errors.js';
import { PEER_PY } from '../src/record/peer.js';
import { recordScenario, validateKnobs, type RecordResult } from '../src/record/record.js';
import { plan, probesBeforeGivingUp, SCENARIOS, type Scenario } from '../src/record/scenarios.js';
import { CLI, collectOutput, hasTshark, ROOT, tsharkFields } from './helpers.js';
import { tempDir } from './synth-helpers.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('test/record.test.ts: not root: skipping the recordings (they create network namespaces; CI runs as root)');
const capBuilt = existsSync(join(ROOT, 'node_modules', 'cap', 'build', 'Release', 'cap.node'));
const dir = tempDir();

function within(actual: number | null | undefined, expected: number, tolerance = 0.1): void {
  expect(actual, `expected about ${expected}`).not.toBeNull();
  expect(Math.abs(actual! - expected) / expected, `${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);
}

function namespaces(): string[] {
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
}

function only(report: Report): ConnectionReport {
  expect(report.connections).toHaveLength(1);
  return report.connections[0]!;
}

function peerErrors(r: RecordResult, side: 'client' | 'server'): string[] {
  return r.peers[side].filter((e) => e.event === 'error').map((e) => String(e.errno));
}

/** What every recording must satisfy: the file agrees with the live report, and nothing is left behind. */
async function expectRecorded(r: RecordResult, scenario: Scenario): Promise<void> {
  expect(r.file).toBe(join(dir, `${scenario}.pcapng`));
  expect(r.stats.kernelDrops).toBe(0);
  expect(r.stats.frames).toBe(r.report.summary.packets);
  expect(r.interrupted).toBe(false);
  const c = only(r.report);
  expect(c.client).toMatch(new RegExp(`^${r.pair.clientAddr.replace(/\./g, '\\.')}:\\d+$`));
  expect(c.server).toBe(`${r.pair.serverAddr}:9000`);
  expect(c.rolesFrom).toBe('syn');
  expect(r.pair.clientAddr).toMatch(/^10\.78\.\d+\.1$/);
  const fromFile = await analyzeToReport([r.file]);
  expect(fromFile.connections).toEqual(r.report.connections);
  if (hasTshark()) expect(tsharkFields(r.file, ['frame.number']).length).toBe(r.report.summary.packets);
  expect(namespaces()).not.toContain(r.pair.client);
  expect(namespaces()).not.toContain(r.pair.server);
}

describe('record: settings and plans', () => {
  it('refuses settings the socket options cannot take', () => {
    expect(() => validateKnobs({ idle: 1.5, interval: 1, count: 3 })).toThrow(RecordError);
    expect(() => validateKnobs({ idle: 1, interval: 1, count: 128 })).toThrow(/--count: 128 is not possible/);
    expect(() => recordArgs({ scenario: 'alive', idle: '1500ms', interval: '1s', count: '3' })).toThrow("--idle: '1500ms' is not possible: the socket option takes whole seconds (1s to 32767s)");
    expect(recordArgs({ scenario: 'alive', idle: '2s', interval: '1m', count: '5', format: 'text', color: 'never' })).toMatchObject({ idle: 2, interval: 60, count: 5, userTimeout: undefined });
    expect(recordArgs({ scenario: 'dead-peer', idle: '1s', interval: '1s', count: '9', 'user-timeout': '5500ms' }).userTimeout).toBe(5.5);
    expect(() => recordArgs({ scenario: 'dead-peer', idle: '1s', interval: '1s', count: '9', 'user-timeout': '0.5ms' })).toThrow("--user-timeout: '0.5ms' is not possible: TCP_USER_TIMEOUT takes whole milliseconds");
    expect(() => validateKnobs({ idle: 1, interval: 1, count: 3, userTimeout: 0.0005 })).toThrow(/--user-timeout: 0.0005 s is not possible/);
  });

  it('TCP_USER_TIMEOUT, not TCP_KEEPCNT, decides how many probes a dead peer gets', async () => {
    // As recorded in fixtures/ka-user-timeout.pcap: idle 1, interval 2, count 9, user timeout 6 s.
    expect(probesBeforeGivingUp({ idle: 1, interval: 2, count: 9, userTimeout: 6 })).toBe(3);
    expect(probesBeforeGivingUp({ idle: 1, interval: 2, count: 9 })).toBe(9);
    // A tick exactly at the user timeout gives up (timers only fire late); the first probe always goes out.
    expect(probesBeforeGivingUp({ idle: 1, interval: 1, count: 9, userTimeout: 3 })).toBe(2);
    expect(probesBeforeGivingUp({ idle: 5, interval: 1, count: 9, userTimeout: 1 })).toBe(1);
    // A user timeout beyond the count's reach lets the prober go on past TCP_KEEPCNT (seen with
    // `keepalive record --scenario dead-peer --count 3 --user-timeout 6s`: 5 probes).
    expect(probesBeforeGivingUp({ idle: 1, interval: 1, count: 3, userTimeout: 10 })).toBe(9);
    const p = plan('dead-peer', { idle: 1, interval: 1, count: 9, userTimeout: 5 });
    expect(p.expected).toMatch(/^DEAD: 4 unanswered probes 1 s apart .*TCP_USER_TIMEOUT 5 s, not TCP_KEEPCNT 9, decides/);
    expect(p.end).toBeLessThan(plan('dead-peer', { idle: 1, interval: 1, count: 9 }).end);
    const err = (await recordScenario({ scenario: 'zero-window', idle: 1, interval: 1, count: 3, userTimeout: 5 }).catch((e: unknown) => e)) as RecordError;
    expect(`${err.kind}: ${err.message}`).toMatch(/^usage: --user-timeout: not with the zero-window scenario/);
  });

  it('every plan is bounded in time, and its route changes happen before the first probe or after the data', () => {
    for (const s of SCENARIOS) {
      const p = plan(s, { idle: 1, interval: 1, count: 3 });
      expect(p.end).toBeGreaterThan(1);
      expect(p.end).toBeLessThan(10);
      for (const step of p.steps) expect(step.t).toBeGreaterThan(0.05);
    }
    const reboot = plan('peer-reboot', { idle: 1, interval: 1, count: 3 });
    expect(Math.max(...reboot.steps.map((s) => s.t))).toBeLessThan(1);
  });

  it('the peer program is valid Python', () => {
    const r = spawnSync('python3', ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], { input: PEER_PY, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('says plainly that it needs root', async () => {
    const expected = 'not-root: record creates network namespaces and needs root: run it as root (sudo keepalive record …)';
    if (!isRoot) {
      const err = (await recordScenario({ scenario: 'alive', idle: 1, interval: 1, count: 3 }).catch((e: unknown) => e)) as RecordError;
      expect(`${err.kind}: ${err.message}`).toBe(expected);
      return;
    }
    // As root, ask as an unprivileged user would (the built module, in a process of its own).
    const module = join(ROOT, 'dist', 'record', 'record.js');
    expect(existsSync(module), 'dist/record/record.js: build first (npx tsc -p .)').toBe(true);
    const script = `
      import { recordScenario } from ${JSON.stringify(module)};
      recordScenario({ scenario: 'alive', idle: 1, interval: 1, count: 3 }).then(() => console.log('recorded?!'), (e) => console.log(e.kind + ': ' + e.message));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', cwd: '/' });
    expect(r.stdout.trim()).toBe(expected);
  });
});

describe.skipIf(!isRoot || !capBuilt)('record: every scenario, for real (root)', () => {
  it('alive: answered probes every max(idle, interval), then a normal close', async () => {
    // interval 2 s > idle 1 s, so the gaps after answered probes show the interval.
    const r = await recordScenario({ scenario: 'alive', idle: 1, interval: 2, count: 3, write: join(dir, 'alive.pcapng') });
    await expectRecorded(r, 'alive');
    const c = only(r.report);
    expect(c.verdict).toBe('alive');
    expect(c.closedBy).toBe('fin');
    expect(c.probes.length).toBe(3);
    expect(c.probes.every((p) => p.from === 'client' && p.reply.kind === 'ack')).toBe(true);
    within(c.keepalive.client!.idle, 1);
    within(c.keepalive.client!.interval ?? c.keepalive.client!.intervalAtMost, 2);
    expect(c.keepalive.server).toBeNull();
    expect(peerErrors(r, 'client')).toEqual([]);
  });

  it('dead-peer: exactly count unanswered probes interval apart, then the prober RST', async () => {
    const r = await recordScenario({ scenario: 'dead-peer', idle: 1, interval: 2, count: 2, write: join(dir, 'dead-peer.pcapng') });
    await expectRecorded(r, 'dead-peer');
    const c = only(r.report);
    expect(c.verdict).toBe('dead');
    expect(c.closedBy).toBe('rst');
    expect(c.probes.map((p) => p.reply.kind)).toEqual(['none', 'none']);
    expect(c.keepalive.client!.count).toBe(2);
    within(c.keepalive.client!.idle, 1);
    within(c.keepalive.client!.interval, 2);
    expect(peerErrors(r, 'client')).toEqual(['ETIMEDOUT']);
  });

  it('dead-peer with TCP_USER_TIMEOUT 2.5 s and count 1: 2 probes, and the report names a range holding 2.5 s', async () => {
    // More probes than TCP_KEEPCNT (fixtures/ka-user-timeout.pcap shows fewer): the count is ignored.
    const r = await recordScenario({ scenario: 'dead-peer', idle: 1, interval: 1, count: 1, userTimeout: 2.5, write: join(dir, 'dead-peer-ut.pcapng') });
    expect(r.file).toBe(join(dir, 'dead-peer-ut.pcapng'));
    const c = only(r.report);
    expect(c.verdict).toBe('dead');
    expect(c.probes.map((p) => p.reply.kind)).toEqual(['none', 'none']);
    const k = c.keepalive.client!;
    expect(k.count).toBe(2);
    expect(k.userTimeout!.above).toBeLessThan(2.5);
    expect(k.userTimeout!.atMost).toBeGreaterThanOrEqual(2.5);
    expect(peerErrors(r, 'client')).toEqual(['ETIMEDOUT']);
    expect(namespaces()).not.toContain(r.pair.client);
  });

  it('peer-reboot: the first probe meets an RST', async () => {
    const r = await recordScenario({ scenario: 'peer-reboot', idle: 1, interval: 1, count: 3, write: join(dir, 'peer-reboot.pcapng') });
    await expectRecorded(r, 'peer-reboot');
    const c = only(r.report);
    expect(c.verdict).toBe('reset');
    expect(c.probes).toHaveLength(1);
    expect(c.probes[0]!.reply.kind).toBe('rst');
    within(c.keepalive.client!.idle, 1);
    expect(peerErrors(r, 'client')).toEqual(['ECONNRESET']);
  });

  it('both-ends: each side probes on its own clock and answers the other', async () => {
    const r = await recordScenario({ scenario: 'both-ends', idle: 1, interval: 1, count: 3, write: join(dir, 'both-ends.pcapng') });
    await expectRecorded(r, 'both-ends');
    const c = only(r.report);
    expect(c.verdict).toBe('alive');
    const client = c.probes.filter((p) => p.from === 'client');
    const server = c.probes.filter((p) => p.from === 'server');
    expect(client.length).toBeGreaterThanOrEqual(3);
    expect(server.length).toBeGreaterThanOrEqual(2);
    expect(c.probes.every((p) => p.reply.kind === 'ack')).toBe(true);
    within(c.keepalive.client!.idle, 1);
    within(c.keepalive.server!.idle, 2);
  });

  it('zero-window: zero-window probes, and no keepalive probe although keepalive is on', async () => {
    const r = await recordScenario({ scenario: 'zero-window', idle: 1, interval: 1, count: 3, write: join(dir, 'zero-window.pcapng') });
    await expectRecorded(r, 'zero-window');
    const c = only(r.report);
    expect(r.report.summary.zeroWindowProbes).toBeGreaterThan(0);
    expect(c.zeroWindowProbes).toBeGreaterThan(0);
    expect(r.report.summary.keepaliveProbes).toBe(0);
    expect(c.probes).toEqual([]);
    expect(c.verdict).toBe('no-keepalive');
  });
});

describe('keepalive record on the command line', () => {
  it('without root: one line, exit status 2', () => {
    const r = spawnSync(process.execPath, [CLI, 'record', '--scenario', 'alive'], { encoding: 'utf8', uid: isRoot ? 65534 : undefined, gid: isRoot ? 65534 : undefined, cwd: '/' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('keepalive: record creates network namespaces and needs root: run it as root (sudo keepalive record …)\n');
  });

  it.skipIf(!isRoot || !capBuilt)('records into a temporary file it names, and prints the JSON report', () => {
    const r = spawnSync(process.execPath, [CLI, 'record', '--scenario', 'peer-reboot', '--format', 'json'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(only(report).verdict).toBe('reset');
    const file = /written to (\S+\.pcapng)\n/.exec(r.stderr)?.[1];
    expect(file).toBeDefined();
    expect(report.summary.files).toEqual([file]);
    expect(existsSync(file!)).toBe(true);
    rmSync(dirname(file!), { recursive: true });
    expect(r.stderr).toContain('the client program saw ECONNRESET');
    expect(namespaces().filter((n) => n.startsWith(`ka-rec-${r.pid}-`))).toEqual([]);
  });

  it.skipIf(!isRoot || !capBuilt)('Ctrl-C: stops early, reports what was captured, removes its namespaces and processes', async () => {
    const child = spawn(process.execPath, [CLI, 'record', '--scenario', 'dead-peer', '--idle', '1s', '--interval', '1s', '--count', '3', '-w', join(dir, 'interrupted.pcapng')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    const io = collectOutput(child);
    for (let i = 0; i < 100 && !io.out.includes('keepalive probe from the client'); i++) await new Promise((r) => setTimeout(r, 50));
    const ours = namespaces().filter((n) => n.startsWith(`ka-rec-${child.pid}-`));
    expect(ours).toHaveLength(2);
    child.kill('SIGINT');
    expect(await io.exited).toBe(0);
    expect(io.err).toContain('recording interrupted before the scenario ended');
    expect(io.out).toMatch(/UNDETERMINED/);
    for (const n of ours) expect(namespaces()).not.toContain(n);
    // No peer of that run is left: its python3 programs carried the run's server address
    // (10.78.<pid mod 256>.2 for the first recording of a process) in their arguments.
    const left = spawnSync('pgrep', ['-f', `"addr":"10\\.78\\.${child.pid! % 256}\\.2"`], { encoding: 'utf8' });
    expect(left.stdout.trim()).toBe('');
  });
});
