// Every capture recorded from real Linux kernels (fixtures/*.truth.json, made by
// scripts/record/record.sh): packet and segment counts as tshark counts them, probes and probe
// ACKs frame for frame as tshark flags them (except zero-window probes, which tshark 4.0 calls
// keepalives), and the verdicts and settings the recording was made with.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KeepaliveSettings, Report } from '../src/analysis/model.js';
import { analyzeWithEvents, fixture, framesOf, listFixtures, readJson, tsharkFields } from './helpers.js';
import { tempDir } from './synth-helpers.js';
import { seconds } from '../src/report/units.js';

interface TruthSettings {
  idle: number;
  interval?: number;
  count?: number;
  /** TCP_USER_TIMEOUT (s), when the recording set it: then it, not `count`, ends probing. */
  userTimeout?: number;
}
interface Truth {
  scenario: string;
  capture: { files: string[]; linkTypes: number[] };
  connections: {
    client: string;
    server: string;
    keepalive: { client: TruthSettings | null; server: TruthSettings | null };
    fate: string;
    /** Present on the heartbeat recordings: what the application was made to send. */
    heartbeat?: { period: number; from: 'client' | 'server'; requestBytes: number; replyBytes: number | null } | null;
  }[];
}

const truths = listFixtures('.truth.json').map((f) => readJson<Truth>(fixture(f)));
const dir = tempDir();

/** One file for tshark: the capture itself, or the pieces of a ring buffer merged by mergecap. */
function asOneFile(t: Truth): string {
  if (t.capture.files.length === 1) return fixture(t.capture.files[0]!);
  const out = join(dir, `${t.scenario}-merged.pcapng`);
  execFileSync('mergecap', ['-w', out, ...t.capture.files.map((f) => fixture(f))]);
  return out;
}

function within(observed: number | null | undefined, expected: number, tolerance = 0.1): boolean {
  return observed !== null && observed !== undefined && Math.abs(observed - expected) <= tolerance * expected;
}

describe('recorded fixtures exist', () => {
  it('has the recordings the issues ask for', () => {
    const names = truths.map((t) => t.scenario);
    for (const n of ['ka-alive', 'ka-dead', 'ka-reset', 'fmt-pcap-us', 'fmt-pcapng', 'fmt-any']) expect(names).toContain(n);
  });
});

describe.each(truths.map((t) => [t.scenario, t] as const))('%s', (_name, truth) => {
  const files = truth.capture.files.map((f) => fixture(f));

  it('counts packets and TCP segments as tshark does', async () => {
    const { report } = await analyzeWithEvents(files);
    const tsharkPackets = files.reduce((n, f) => n + tsharkFields(f, ['frame.number']).length, 0);
    const tsharkTcp = files.reduce((n, f) => n + tsharkFields(f, ['frame.number'], 'tcp && !icmp && !icmpv6').length, 0);
    expect(report.summary.packets).toBe(tsharkPackets);
    expect(report.summary.tcpSegments).toBe(tsharkTcp);
    // Segments captured twice (fmt-any-bridge) are said in one warning, with tshark's count.
    const copies = copyFrames(segmentFields(asOneFile(truth)));
    expect(report.summary.warnings).toEqual(
      copies.length === 0 ? [] : [expect.stringMatching(new RegExp(`^${copies.length} TCP segment\\(s\\) came a second time within 10 ms, identical \\(the first: frame ${copies[0]}\\)`))],
    );
  });

  it('finds the probes and probe ACKs tshark flags, and where tshark is blind, proves ours', async () => {
    const { events } = await analyzeWithEvents(files);
    const one = asOneFile(truth);
    const keepAlive = framesOfFlag(one, 'tcp.analysis.keep_alive');
    const zwpOneByte = framesOfFlag(one, 'tcp.analysis.zero_window_probe');
    const probes = framesOf(events, 'probe');
    const zwp = framesOf(events, 'zero-window-probe');
    const fields = segmentFields(one);
    // What tshark calls a keepalive and we do not must be a zero-window look-alike: sent while
    // the receiver's last advertised window was 0 (tshark 4.0 does not look at the window), or
    // the second copy of a probe captured twice (tshark flags both copies).
    const copies = copyFrames(fields);
    const notOurs = keepAlive.filter((f) => !probes.includes(f));
    expect(notOurs).toEqual(keepAlive.filter((f) => zwp.includes(f) || copies.includes(f)));
    for (const f of notOurs.filter((f) => copies.includes(f))) expect(probes, `frame ${f} copies probe ${fields.get(f)!.copyOf}`).toContain(fields.get(f)!.copyOf);
    for (const f of zwp) expect(fields.get(f)!.peerWindow).toBe(0);
    expect(zwp.filter((f) => !keepAlive.includes(f))).toEqual(zwpOneByte);
    // What we call a probe and tshark does not must be proved one by the peer's own
    // acknowledgement: 0 or 1 byte, no SYN/FIN/RST, seq one below what the peer had acknowledged.
    // tshark misses these where it learns the next seq from a probe (a capture that begins with
    // one), where the next seq is exactly 0 after a wrap (it takes 0 for "unknown"), and where a
    // small snaplen cut the TCP options (it skips its analysis of such frames).
    const missed = probes.filter((f) => !keepAlive.includes(f));
    for (const f of missed) {
      const s = fields.get(f)!;
      expect(s.len, `frame ${f}`).toBeLessThanOrEqual(1);
      expect(s.flags & 0x07, `frame ${f}`).toBe(0);
      expect(s.peerAck, `frame ${f}: peer acknowledged seq + 1`).toBe((s.seq + 1) % 2 ** 32);
    }
    if (missed.length > 0) expect(BLIND_SPOTS).toContain(truth.scenario);
    // Probe ACKs: tshark's (the answers to the probes it saw) are ours; ours beyond them answer
    // the probes it missed.
    const acks = framesOf(events, 'reply-ack');
    const tsharkAcks = framesOfFlag(one, 'tcp.analysis.keep_alive_ack').filter((f) => !copies.includes(f));
    expect(acks.filter((f) => tsharkAcks.includes(f))).toEqual(tsharkAcks);
    for (const f of acks.filter((f) => !tsharkAcks.includes(f))) {
      const answered = Math.max(...missed.filter((p) => p < f));
      expect(fields.get(f)!.ack, `frame ${f} answers probe ${answered}`).toBe((fields.get(answered)!.seq + 1) % 2 ** 32);
    }
  });

  it("says each figure in the explanation as the settings lines show it (the same idle, not 1.03 s beside 1.027 s)", async () => {
    const { report } = await analyzeWithEvents(files);
    let checked = 0;
    for (const c of report.connections) {
      for (const side of ['client', 'server'] as const) {
        const s = c.keepalive[side];
        if (s === null) continue;
        // The sentence names the side's idle when it was measured from other activity.
        if (s.samples.idle > 0 && s.idle !== null) {
          expect(c.explanation, `${c.client} ${side}`).toContain(`${side} sent ${s.probes} keepalive probe${s.probes === 1 ? '' : 's'} (after ${seconds(s.idle)} idle)`);
          checked++;
        }
        if (s.count !== null && s.interval !== null && s.samples.interval > 0) {
          expect(c.explanation, `${c.client} ${side}`).toContain(`the last ${s.count} went unanswered ${seconds(s.interval)} apart`);
          checked++;
        }
        if (s.intervalAtMost !== null) {
          expect(s.unknown.interval, `${c.client} ${side}`).toContain(`answered probes came every ${seconds(s.intervalAtMost)},`);
          checked++;
        }
      }
    }
    if (report.connections.some((c) => c.keepalive.client?.samples.idle || c.keepalive.server?.samples.idle)) expect(checked).toBeGreaterThan(0);
  });

  it('reaches the recorded verdicts and settings', async () => {
    const { report } = await analyzeWithEvents(files);
    for (const want of truth.connections) {
      const got = findConnection(report, want.client, want.server);
      expect(got.verdict, `${want.client} → ${want.server}`).toBe(want.fate);
      for (const side of ['client', 'server'] as const) {
        const w = want.keepalive[side];
        const g = got.keepalive[side];
        if (w === null) {
          expect(g, `${side} sent no probes`).toBeNull();
          continue;
        }
        if (g === null) {
          // Configured, but the capture holds no probe of this side (e.g. ended before its idle).
          expect(got.probes.filter((p) => p.from === side)).toEqual([]);
          continue;
        }
        checkSettings(g, w, got.verdict, side);
      }
      if (want.heartbeat === undefined) continue;
      if (want.heartbeat === null) {
        expect(got.heartbeat, `${want.client}: no heartbeat`).toBeNull();
      } else {
        expect(got.heartbeat).toMatchObject({ from: want.heartbeat.from, requestBytes: want.heartbeat.requestBytes, replyBytes: want.heartbeat.replyBytes });
        expect(within(got.heartbeat!.period, want.heartbeat.period, 0.05), `period ${got.heartbeat!.period} vs ${want.heartbeat.period}`).toBe(true);
      }
    }
  });
});

function checkSettings(g: KeepaliveSettings, w: TruthSettings, verdict: string, side: string): void {
  if (g.idle !== null) expect(within(g.idle, w.idle), `${side} idle ${g.idle} vs ${w.idle}`).toBe(true);
  if (g.interval !== null && w.interval !== undefined) expect(within(g.interval, w.interval), `${side} interval ${g.interval} vs ${w.interval}`).toBe(true);
  if (w.userTimeout !== undefined) {
    // The count is where the user timeout stopped probing, and the range must hold the timeout.
    expect(g.count, `${side} gave up`).not.toBeNull();
    expect(g.count!).toBeLessThan(w.count!);
    expect(g.userTimeout!.above).toBeLessThan(w.userTimeout);
    expect(g.userTimeout!.atMost).toBeGreaterThanOrEqual(w.userTimeout);
  } else if (g.count !== null) {
    expect(g.count).toBe(w.count);
    // Whatever the count, a user timeout in the range would have looked the same.
    if (g.style === 'linux') expect(g.userTimeout!.atMost).toBeGreaterThan(g.userTimeout!.above);
  }
  if (w.count !== undefined && w.userTimeout === undefined && g.countAtLeast !== null) expect(g.countAtLeast).toBeLessThanOrEqual(w.count);
  if (verdict === 'dead' && g.count !== null) {
    expect(within(g.interval, w.interval!)).toBe(true);
  }
}

function findConnection(report: Report, client: string, server: string) {
  const c = report.connections.find((x) => x.client === client && x.server === server);
  if (!c) throw new Error(`no connection ${client} → ${server} among ${report.connections.map((x) => `${x.client}→${x.server}`).join(', ')}`);
  return c;
}

function framesOfFlag(file: string, flag: string): number[] {
  return tsharkFields(file, ['frame.number'], flag).map((r) => Number(r[0]));
}

/** Recordings where tshark 4.0 misses probes we prove (see the test above). */
const BLIND_SPOTS = ['ka-midstream', 'ka-seq-wrap-edge', 'fmt-snap60'];

interface SegmentFields {
  seq: number;
  ack: number;
  len: number;
  flags: number;
  /** The window and ack the other direction last sent before this frame (tshark's numbers). */
  peerWindow: number | null;
  peerAck: number | null;
  /**
   * The earlier frame this one repeats, by tshark's fields: one of the last two segments from the
   * same side of the stream, under 10 ms apart, with the same seq, ack, flags, length, window,
   * checksum and IPv4 id (the same packet captured on two interfaces); 0 when it is no copy.
   */
  copyOf: number;
}

/** tshark's view of a file, read once for the tests that share it. */
const fieldsOfFile = new Map<string, Map<number, SegmentFields>>();

function segmentFields(file: string): Map<number, SegmentFields> {
  const known = fieldsOfFile.get(file);
  if (known !== undefined) return known;
  const rows = tsharkFields(
    file,
    ['frame.number', 'tcp.stream', 'tcp.srcport', 'tcp.window_size_value', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.len', 'tcp.flags', 'frame.time_epoch', 'tcp.checksum', 'ip.id'],
    'tcp && !icmp && !icmpv6',
  );
  const last = new Map<string, { window: number; ack: number }>();
  const lastSent = new Map<string, { frame: number; time: number; key: string }[]>();
  const out = new Map<number, SegmentFields>();
  for (const [frame, stream, port, win, seq, ack, len, flags, time, checksum, ipId] of rows) {
    const peerKey = [...last.keys()].find((k) => k.startsWith(`${stream}:`) && k !== `${stream}:${port}`);
    const peer = peerKey === undefined ? undefined : last.get(peerKey);
    const key = [seq, ack, flags, len, win, checksum, ipId ?? ''].join(' ');
    const before = lastSent.get(`${stream}:${port}`) ?? [];
    const copyOf = before.find((b) => b.key === key && Math.abs(Number(time) - b.time) < 0.01)?.frame ?? 0;
    out.set(Number(frame), { seq: Number(seq), ack: Number(ack), len: Number(len), flags: Number(flags), peerWindow: peer?.window ?? null, peerAck: peer?.ack ?? null, copyOf });
    if (copyOf !== 0) continue;
    last.set(`${stream}:${port}`, { window: Number(win), ack: Number(ack) });
    lastSent.set(`${stream}:${port}`, [{ frame: Number(frame), time: Number(time), key }, ...before.slice(0, 1)]);
  }
  fieldsOfFile.set(file, out);
  return out;
}

/** Frames that repeat an earlier one (see SegmentFields.copyOf). */
function copyFrames(fields: Map<number, SegmentFields>): number[] {
  return [...fields].filter(([, f]) => f.copyOf !== 0).map(([n]) => n);
}

describe('findings on real recordings', () => {
  it('hb-silent: a 12 s silence is a finding once the middlebox timeout is below it', async () => {
    const file = fixture('hb-silent.pcap');
    const quiet = (await analyzeWithEvents([file])).report.connections[0]!;
    expect(quiet.longestSilence).toBeGreaterThan(11);
    expect(quiet.findings.map((f) => f.rule)).not.toContain('silent-gap');
    const strict = (await analyzeWithEvents([file], { middleboxTimeout: 10 })).report.connections[0]!;
    expect(strict.findings.map((f) => f.rule)).toContain('silent-gap');
  });

  it('hb-with-keepalive: both mechanisms are reported', async () => {
    const c = (await analyzeWithEvents([fixture('hb-with-keepalive.pcap')])).report.connections[0]!;
    expect(c.findings.map((f) => f.rule)).toContain('keepalive-and-heartbeat');
  });
});
