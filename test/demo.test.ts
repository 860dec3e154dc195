// `keepalive demo` through its module: every scenario's capture opens in tshark without a
// warning, tshark flags exactly our probes and their ACKs (except where the scenario is about
// Wireshark's mistake), `keepalive analyze` reaches the scenario's verdict with its knobs, and
// the frame-by-frame explanation is the analysis' own view of every frame.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/analysis/model.js';
import { DemoError, listScenarios, runDemo, scenarios, type DemoResult } from '../src/demo/index.js';
import { framesOf, runCli, tsharkFields, tsharkFrames } from './helpers.js';
import { tempDir } from './synth-helpers.js';

const dir = tempDir();

/** tshark reading the whole file: its exit status and what it said on standard error, less the root warning. */
function tsharkRead(file: string): { status: number | null; stderr: string } {
  const r = spawnSync('tshark', ['-r', file, '-V'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const stderr = r.stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^Running as user "root"/.test(l))
    .join('\n');
  return { status: r.status, stderr };
}

/** Wireshark's analysis labels at the start of the Info column ("[TCP Keep-Alive] 51724 → 8000 [ACK] …"), per frame. */
function tsharkInfo(file: string): Map<number, { labels: string; rest: string }> {
  const rows = tsharkFields(file, ['frame.number', '_ws.col.Info']);
  return new Map(
    rows.map(([n, info]) => {
      const m = /^((?:\[TCP [^\]]+\] )*)(.*)$/.exec(info ?? '')!;
      return [Number(n), { labels: m[1]!.trim(), rest: m[2]! }];
    }),
  );
}

const within = (observed: number | null, expected: number): boolean => observed !== null && Math.abs(observed - expected) <= 0.1 * expected;

describe.each(scenarios().map((s) => [s.name, s] as const))('demo %s', (name, s) => {
  let r: DemoResult;
  let file: string;
  beforeAll(async () => {
    file = join(dir, `${name}.pcapng`);
    r = await runDemo(name, { write: file });
  });

  it('writes a capture that tshark opens without a warning, as pcapng and as pcap', async () => {
    expect(tsharkRead(file)).toEqual({ status: 0, stderr: '' });
    const pcap = join(dir, `${name}.pcap`);
    const again = await runDemo(name, { write: pcap });
    expect(readFileSync(pcap).readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect(readFileSync(file).readUInt32LE(0)).toBe(0x0a0d0d0a);
    expect(tsharkRead(pcap)).toEqual({ status: 0, stderr: '' });
    // The same frames either way.
    expect(again.capture.frames.map((f) => [f.number, f.seq, f.ack, f.flags, f.payloadLen])).toEqual(r.capture.frames.map((f) => [f.number, f.seq, f.ack, f.flags, f.payloadLen]));
    // Checksums as a receiver would verify them (tshark leaves them unverified unless asked).
    const checked = spawnSync('tshark', ['-r', pcap, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-T', 'fields', '-e', 'ip.checksum.status', '-e', 'tcp.checksum.status'], { encoding: 'utf8' });
    const statuses = checked.stdout.trim().split('\n');
    expect(statuses).toHaveLength(r.capture.frames.length);
    expect(new Set(statuses)).toEqual(new Set(['1\t1'])); // 1: good
  });

  it("tshark's keep_alive and keep_alive_ack are exactly our probes and their ACKs", () => {
    const ev = r.capture.events;
    const keepAlive = tsharkFrames(file, 'tcp.analysis.keep_alive');
    const keepAliveAck = tsharkFrames(file, 'tcp.analysis.keep_alive_ack');
    if (name === 'zero-window') {
      // Wireshark 4.0's keep-alive rule looks at the segment alone (0 or 1 byte, seq = next − 1,
      // no SYN/FIN/RST) and never at the window the receiver last advertised, so it calls
      // Linux's zero-window probes keepalives: exactly our zero-window probes, and no keepalive
      // of ours. Their answers advertise window 0 and tshark files them as ZeroWindow instead of
      // keep-alive ACKs.
      expect(keepAlive).toHaveLength(5);
      expect(keepAlive).toEqual(framesOf(ev, 'zero-window-probe'));
      expect(framesOf(ev, 'probe')).toEqual([]);
      expect(keepAliveAck).toEqual([]);
      expect(tsharkFrames(file, 'tcp.analysis.zero_window').length).toBeGreaterThanOrEqual(6);
    } else {
      expect(keepAlive).toEqual(framesOf(ev, 'probe'));
      expect(keepAliveAck).toEqual(framesOf(ev, 'reply-ack'));
    }
  });

  it(`\`keepalive analyze\` reaches the scenario's verdict (${s.expect.verdicts.join(' or ')}) with its knobs and findings`, () => {
    const cli = runCli(['analyze', file, '--format', 'json']);
    expect(cli.status, cli.stderr).toBe(0);
    const report = JSON.parse(cli.stdout) as Report;
    expect(report).toEqual(JSON.parse(JSON.stringify(r.capture.report)));
    expect(report.connections).toHaveLength(1);
    const c = report.connections[0]!;
    expect(s.expect.verdicts).toContain(c.verdict);
    for (const side of ['client', 'server'] as const) {
      const knobs = s.keepalive[side];
      const seen = c.keepalive[side];
      if (knobs === undefined) {
        expect(seen, `${side} sent probes`).toBeNull();
        continue;
      }
      expect(seen).not.toBeNull();
      const observable = s.expect.observable[side] ?? [];
      expect(observable.length).toBeGreaterThan(0);
      for (const knob of observable) {
        if (knob === 'count') expect(seen!.count).toBe(knobs.count);
        else if (knob === 'userTimeout') {
          // The user timeout set must be among those that give up at the tick the capture shows.
          expect(seen!.userTimeout!.above).toBeLessThan(knobs.userTimeout!);
          expect(seen!.userTimeout!.atMost).toBeGreaterThanOrEqual(knobs.userTimeout!);
          expect(seen!.count).toBeLessThan(knobs.count);
        } else expect(within(seen![knob], knobs[knob]), `${side} ${knob}: ${seen![knob]} against ${knobs[knob]}`).toBe(true);
      }
      if (s.expect.style) expect(seen!.style).toBe(s.expect.style);
      if (s.expect.defaults) expect(seen!.defaults).toBe(s.expect.defaults);
    }
    expect(c.findings.map((f) => f.rule).sort()).toEqual([...s.expect.findings].sort());
    if (s.heartbeat !== undefined) {
      expect(c.heartbeat).toMatchObject({ from: s.heartbeat.from, requestBytes: s.heartbeat.request.length, replyBytes: s.heartbeat.reply.length });
      expect(within(c.heartbeat!.period, s.heartbeat.period)).toBe(true);
    } else {
      expect(c.heartbeat).toBeNull();
    }
  });

  it('explains every frame from the analysis: its events, its probe records, the segment flags', () => {
    const { notes } = r.explanation;
    expect(notes.map((n) => n.frame.number)).toEqual(r.capture.frames.map((f) => f.number));
    const ev = r.capture.events;
    const role = (n: number) => notes.find((x) => x.frame.number === n)!.role;
    expect(framesOf(ev, 'probe').map(role).every((x) => x === 'keepalive-probe')).toBe(true);
    expect(framesOf(ev, 'reply-ack').map(role).every((x) => x === 'keepalive-ack')).toBe(true);
    expect(framesOf(ev, 'reply-rst').map(role).every((x) => x === 'keepalive-rst')).toBe(true);
    expect(framesOf(ev, 'gave-up').map(role).every((x) => x === 'gave-up')).toBe(true);
    expect(framesOf(ev, 'zero-window-probe').map(role).every((x) => x === 'zero-window-probe')).toBe(true);
    expect(notes.filter((n) => n.role === 'keepalive-probe').length).toBe(framesOf(ev, 'probe').length);
    for (const n of notes) {
      expect(n.what.length).toBeGreaterThan(20);
      // Every probe but the very first of a side says which timer sent it and from which frame.
      if (n.role === 'keepalive-probe' || n.role === 'gave-up' || n.role === 'zero-window-probe') {
        expect(n.timer, `frame ${n.frame.number}`).not.toBeNull();
        expect(n.timer!.fromFrame).toBeLessThan(n.frame.number);
        expect(n.timer!.seconds).toBeCloseTo(n.frame.t - r.capture.frames.find((f) => f.number === n.timer!.fromFrame)!.t, 5);
      }
      if (n.role === 'keepalive-probe') expect(n.reply).toBe(r.capture.report.connections[0]!.probes.find((p) => p.frame === n.frame.number)!.reply.kind);
    }
    expect(r.explanation.conclusion.length).toBeGreaterThan(0);
  });

  it("states Wireshark's labels and Info column as tshark shows them", () => {
    const info = tsharkInfo(file);
    for (const n of r.explanation.notes) {
      const t = info.get(n.frame.number)!;
      expect(n.wireshark ?? '', `frame ${n.frame.number}`).toBe(t.labels);
      // tshark replaces the flags with the application's summary for data it dissects (Redis).
      if (/\[[A-Z, ]+\] Seq=/.test(t.rest)) expect(t.rest, `frame ${n.frame.number}`).toContain(n.segment);
    }
  });

  it('prints every frame, the conclusion and the analyze report in the text', () => {
    const out = r.output;
    for (const f of r.capture.frames) expect(out).toMatch(new RegExp(`^  #${f.number} +${f.t.toFixed(6)}  (client → server|server → client)  `, 'm'));
    expect(out).toContain('What it shows');
    expect(out).toContain(`What \`keepalive analyze\` reports for this capture`);
    expect(out).toContain(r.capture.report.connections[0]!.explanation);
    expect(out).toContain(file);
  });
});

describe('the timings each scenario teaches', () => {
  const demo = (name: string) => runDemo(name, { write: join(dir, `timing-${name}.pcapng`) });

  it('alive: answered probes come every max(idle, interval) = 60 s, never every interval', async () => {
    const { capture } = await demo('alive');
    const probes = capture.report.connections[0]!.probes;
    expect(probes).toHaveLength(5);
    const t = probes.map((p) => capture.frames.find((f) => f.number === p.frame)!.t);
    for (let i = 1; i < t.length; i++) expect(t[i]! - t[i - 1]!).toBeGreaterThan(60);
    for (const p of probes.slice(1)) expect(within(p.sinceLastActivity, 60)).toBe(true);
  });

  it('dead-peer: 5 probes 10 s apart, then the RST one interval after the last', async () => {
    const { capture } = await demo('dead-peer');
    const c = capture.report.connections[0]!;
    const t = (n: number) => capture.frames.find((f) => f.number === n)!.t;
    expect(c.probes.map((p) => p.reply.kind)).toEqual(['none', 'none', 'none', 'none', 'none']);
    const last = c.probes[4]!;
    expect(t(c.lastFrame) - t(last.frame)).toBeGreaterThan(10);
    expect(t(c.lastFrame) - t(last.frame)).toBeLessThan(10.1);
    expect(c.closedBy).toBe('rst');
  });

  it('peer-reboot: the RST carries the probe’s acknowledgement number as its sequence number, and no ACK', async () => {
    const { capture } = await demo('peer-reboot');
    const [probe, rst] = capture.frames.slice(-2);
    expect(rst!.flags).toBe(0x04);
    expect(rst!.seq).toBe(probe!.ack);
  });

  it('windows: one garbage octet 0x00 per probe, TTL 128, no timestamps', async () => {
    const { capture } = await demo('windows');
    const probes = capture.report.connections[0]!.probes.map((p) => capture.frames.find((f) => f.number === p.frame)!);
    expect(probes).toHaveLength(10);
    for (const p of probes) expect([p.payloadLen, p.payload[0], p.ttl]).toEqual([1, 0, 128]);
    expect(capture.frames.every((f) => f.timestamps === null)).toBe(true);
  });

  it('zero-window: the persist timer doubles (0.21, 0.42, 0.85, 1.7, 3.4 s)', async () => {
    const { explanation } = await demo('zero-window');
    const gaps = explanation.notes.filter((n) => n.role === 'zero-window-probe').map((n) => n.timer!.seconds);
    expect(gaps).toHaveLength(5);
    expect(gaps[0]).toBeGreaterThan(0.2);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]! / gaps[i - 1]!).toBeCloseTo(2, 1);
  });

  it("both-ends: a peer's probe never restarts an idle clock; each side probes idle after its own ACK", async () => {
    const { capture, explanation } = await demo('both-ends');
    const c = capture.report.connections[0]!;
    const client = c.probes.filter((p) => p.from === 'client');
    const server = c.probes.filter((p) => p.from === 'server');
    expect(client.length).toBeGreaterThanOrEqual(6);
    expect(server.length).toBeGreaterThanOrEqual(3);
    for (const p of client) expect(within(p.sinceLastActivity, 20)).toBe(true);
    for (const p of server) expect(within(p.sinceLastActivity, 45)).toBe(true);
    // At least one client probe had a server probe inside its idle time, and the text says it did not count.
    expect(explanation.notes.some((n) => n.role === 'keepalive-probe' && n.frame.from === 'client' && /server's probe in frame \d+ did not restart this clock/.test(n.timer?.text ?? ''))).toBe(true);
  });

  it('linux-defaults: 7875 s with only the probes and the final RST, and the findings that say so', async () => {
    const { capture, explanation } = await demo('linux-defaults');
    const c = capture.report.connections[0]!;
    const quiet = capture.frames.filter((f) => f.t > 1);
    expect(quiet.map((f) => explanation.notes.find((n) => n.frame === f)!.role)).toEqual([...Array(9).fill('keepalive-probe'), 'gave-up']);
    const lastSeen = capture.frames.find((f) => f.number === c.probes[0]!.frame - 2)!; // the server's answer, before the client's ACK of it
    expect(c.keepalive.client!.idle! + 9 * c.keepalive.client!.interval!).toBeGreaterThan(7875);
    expect(quiet[quiet.length - 1]!.t - lastSeen.t).toBeGreaterThan(7875);
    expect(quiet[quiet.length - 1]!.t - lastSeen.t).toBeLessThan(7876);
    expect(c.findings.find((f) => f.rule === 'os-defaults')!.message).toMatch(/7200 \+ 9 × 75 = 7875 s/);
    expect(explanation.conclusion.join(' ')).toMatch(/7200 \+ 9 × 75 = 7875 s/);
  });
});

describe('keepalive demo as a library', () => {
  it('is deterministic: the same bytes and the same explanation every time', async () => {
    for (const s of scenarios()) {
      const a = await runDemo(s.name, { write: join(dir, `det-a-${s.name}.pcapng`) });
      const b = await runDemo(s.name, { write: join(dir, `det-b-${s.name}.pcapng`) });
      expect(readFileSync(a.file).equals(readFileSync(b.file)), s.name).toBe(true);
      expect(b.output.replaceAll(b.file, 'FILE')).toBe(a.output.replaceAll(a.file, 'FILE'));
    }
  });

  it('starts every capture at the same instant', async () => {
    const r = await runDemo('alive', { write: join(dir, 'start.pcapng') });
    expect(r.capture.report.summary.firstTime).toBe('2026-01-12T09:00:00.000000000Z');
  });

  it('never overwrites a file, and names it', async () => {
    const taken = join(dir, 'taken.pcapng');
    writeFileSync(taken, 'keep me');
    await expect(runDemo('alive', { write: taken })).rejects.toThrow(DemoError);
    await expect(runDemo('alive', { write: taken })).rejects.toThrow(`-w ${taken}: cannot write the capture: already exists`);
    expect(readFileSync(taken, 'utf8')).toBe('keep me');
    await expect(runDemo('alive', { write: join(dir, 'no-such-dir', 'x.pcapng') })).rejects.toThrow(/no such directory/);
  });

  it('writes to a new file in the temporary directory when none is named', async () => {
    const a = await runDemo('peer-reboot');
    const b = await runDemo('peer-reboot');
    try {
      expect(a.file.startsWith(tmpdir())).toBe(true);
      expect(a.file).toMatch(/keepalive-demo-peer-reboot(-\d+)?\.pcapng$/);
      expect(b.file).not.toBe(a.file);
      expect(readFileSync(a.file).equals(readFileSync(b.file))).toBe(true);
    } finally {
      rmSync(a.file, { force: true });
      rmSync(b.file, { force: true });
    }
    expect(existsSync(a.file)).toBe(false);
  });

  it('lists every scenario on one line each; refuses a name it does not know', async () => {
    const lines = listScenarios().split('\n');
    for (const s of scenarios()) expect(lines.filter((l) => l.startsWith(`  ${s.name} `))).toHaveLength(1);
    expect(scenarios().map((s) => s.name)).toEqual(['alive', 'dead-peer', 'peer-reboot', 'windows', 'zero-window', 'app-heartbeat', 'both-ends', 'user-timeout', 'linux-defaults']);
    await expect(runDemo('nope')).rejects.toThrow("demo: no scenario 'nope' (keepalive demo lists them: alive, dead-peer,");
  });

  it('renders an HTML page that is one self-contained file', async () => {
    const r = await runDemo('dead-peer', { write: join(dir, 'page.pcapng'), format: 'html' });
    expect(r.output).toMatch(/^<!doctype html>/);
    expect(r.output).not.toMatch(/<script|<link|src="http|href="http|@import|url\(/i);
    expect(r.output).toContain('class="demo-diagram"');
    expect(r.output).toContain('svg class="ladder"');
    expect((r.output.match(/<tr class="frame /g) ?? []).length).toBe(r.capture.frames.length);
  });
});
