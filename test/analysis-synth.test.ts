// Keepalive analysis on scenarios no Linux machine here records as such (a Windows prober,
// a wrap at a chosen moment, defaults of two hours), written by the project's synthesizer
// and checked against tshark frame for frame wherever tshark is right.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Conversation, interleave } from '../src/synth/conversation.js';
import { evaluate } from '../src/report/check.js';
import { analyzeWithEvents, framesOf, tsharkFrames } from './helpers.js';
import { tempDir, writeConversation } from './synth-helpers.js';

const dir = tempDir();
let n = 0;

function conv(opts: Partial<ConstructorParameters<typeof Conversation>[0]> = {}): Conversation {
  return new Conversation({ client: '192.0.2.10', server: '198.51.100.20', clientPort: 50_000 + n++, serverPort: 443, ...opts });
}

async function run(frames: Conversation['frames']) {
  const file = writeConversation(join(dir, `c${n++}.pcap`), frames);
  const { report, events } = await analyzeWithEvents([file]);
  return { file, report, events };
}

describe('synthesized keepalive scenarios', () => {
  it('Windows: one garbage octet per probe, 7200/1/10 defaults, dead peer', async () => {
    const c = conv().handshake().data(true, 300, 0.01);
    c.probe(true, 7200, 'none', true);
    for (let i = 0; i < 9; i++) c.probe(true, 1, 'none', true);
    c.rst(true, 1);
    const { file, report, events } = await run(c.frames);
    expect(framesOf(events, 'probe')).toEqual(tsharkFrames(file, 'tcp.analysis.keep_alive'));
    const k = report.connections[0]!;
    expect(k.verdict).toBe('dead');
    expect(k.probes.every((p) => p.payloadBytes === 1)).toBe(true);
    const s = k.keepalive.client!;
    expect(s.style).toBe('windows');
    expect(s.idle).toBeCloseTo(7200, 0);
    expect(s.interval).toBeCloseTo(1, 3);
    expect(s.count).toBe(10);
    expect(s.defaults).toBe('windows');
    // TCP_USER_TIMEOUT is Linux's: no range for a Windows prober.
    expect(s.userTimeout).toBeNull();
    expect(s.notes.join(' ')).not.toContain('TCP_USER_TIMEOUT');
  });

  it('copies of a segment that come after the next segment of the same side are still copies', async () => {
    // A bridge capture where the copies of two back-to-back client segments (1 byte of data, then
    // a pure ACK) come after both: A1 A2 A1' A2'. Compared with the client's last segment only,
    // A1' would be a one-byte segment at SND.NXT - 1: a Windows-style keepalive probe.
    const c = conv().handshake().data(true, 300, 0.01).data(false, 120, 0.05);
    c.send(true, 1, 0.5).ack(true, 0.00002).ack(false, 0.0002);
    c.probe(true, 5, 'ack').probe(true, 5, 'ack');
    const frames = c.frames;
    const one = frames.findIndex((f, i) => i > 0 && frames[i - 1]!.fromClient && f.fromClient && f.tsSec * 1e9 + f.tsNsec - (frames[i - 1]!.tsSec * 1e9 + frames[i - 1]!.tsNsec) < 1e5);
    expect(one, 'the 1-byte segment and the pure ACK after it').toBeGreaterThan(0);
    const later = (f: (typeof frames)[number], ns: number) => ({ ...f, tsNsec: f.tsNsec + ns });
    const doubled = frames.flatMap((f, i) => (i === one - 1 ? [f] : i === one ? [f, later(frames[i - 1]!, 5000), later(f, 5000)] : [f, later(f, 5000)]));
    const { report, events, file } = await run(doubled);
    expect(report.summary.packets).toBe(2 * frames.length);
    expect(report.summary.warnings).toEqual([expect.stringMatching(new RegExp(`^${frames.length} TCP segment\\(s\\) came a second time within 10 ms`))]);
    const k = report.connections[0]!;
    expect(k.probes.map((p) => [p.payloadBytes, p.reply.kind])).toEqual([
      [0, 'ack'],
      [0, 'ack'],
    ]);
    const probes = framesOf(events, 'probe');
    expect(probes).toHaveLength(2);
    expect(k.keepalive.client!.style).toBe('linux');
    // tshark flags both copies of each probe, and the late copy of the 1-byte segment
    // (frame 2 × one + 1) as a keepalive too: that one is the false probe this rule avoids.
    expect(tsharkFrames(file, 'tcp.analysis.keep_alive')).toEqual([2 * one + 1, ...probes.flatMap((f) => [f, f + 1])]);
  });

  it("a probe's copy milliseconds later, after the peer's answer, is still a copy", async () => {
    // Seen live with -i any on a bridge: most copies came microseconds after their original, but
    // each probe's copy 2.2-3.6 ms later, after the answering ACK. Here the probes' copies come
    // 2.9 ms later, the other copies 5 µs later, in time order.
    const c = conv().handshake().data(true, 300, 0.01).data(false, 120, 0.05);
    c.probe(true, 5, 'ack').probe(true, 5, 'ack');
    const frames = c.frames;
    const ns = (f: (typeof frames)[number]) => f.tsSec * 1e9 + f.tsNsec;
    const isProbe = (i: number) => i === frames.length - 4 || i === frames.length - 2;
    const copies = frames.map((f, i) => {
      const t = ns(f) + (isProbe(i) ? 2_900_000 : 5000);
      return { ...f, tsSec: Math.floor(t / 1e9), tsNsec: t % 1e9, copyOf: i };
    });
    const all = [...frames.map((f, i) => ({ ...f, copyOf: -1 - i })), ...copies].sort((a, b) => ns(a) - ns(b));
    // The probe's copy does come after the server's ACK of it.
    const probeCopy = all.findIndex((f) => f.copyOf === frames.length - 4);
    expect(all[probeCopy - 1]!.fromClient).toBe(false);
    const { report, events, file } = await run(all);
    expect(report.summary.warnings).toEqual([expect.stringMatching(new RegExp(`^${frames.length} TCP segment\\(s\\) came a second time within 10 ms`))]);
    const k = report.connections[0]!;
    expect(k.probes.map((p) => p.reply.kind)).toEqual(['ack', 'ack']);
    expect(k.keepalive.client!.unanswered).toBe(0);
    // tshark flags each probe and its copy; ours are the originals.
    const probes = framesOf(events, 'probe');
    const copyFrames = all.flatMap((f, i) => (f.copyOf >= 0 && isProbe(f.copyOf) ? [i + 1] : []));
    expect(tsharkFrames(file, 'tcp.analysis.keep_alive')).toEqual([...probes, ...copyFrames].sort((a, b) => a - b));
  });

  it('a Linux prober that gives up after one probe: any TCP_USER_TIMEOUT up to the RST would', async () => {
    // The first probe goes out whatever the user timeout (Linux checks it only once a probe is
    // out), so the range starts at 0; it ends at the RST, 30 + 10 s after the peer's last data.
    const c = conv().handshake().data(false, 120, 0.05);
    c.probe(true, 30, 'none');
    c.rst(true, 10);
    const { file, report, events } = await run(c.frames);
    expect(framesOf(events, 'probe')).toEqual(tsharkFrames(file, 'tcp.analysis.keep_alive'));
    const s = report.connections[0]!.keepalive.client!;
    expect(report.connections[0]!.verdict).toBe('dead');
    expect(s.count).toBe(1);
    expect(s.userTimeout!.above).toBe(0);
    expect(s.userTimeout!.atMost).toBeCloseTo(40, 3);
    expect(s.notes).toContain('not necessarily TCP_KEEPCNT 1: a TCP_USER_TIMEOUT up to 40 s (from the last segment received) stops Linux probing here too, whatever TCP_KEEPCNT is');
  });

  it('Linux defaults 7200/75/9 are recognised; a dead peer goes unnoticed 7200 + 9 × 75 s', async () => {
    const c = conv().handshake().data(false, 120, 0.05);
    c.probe(true, 7200, 'none');
    for (let i = 0; i < 8; i++) c.probe(true, 75, 'none');
    c.rst(true, 75);
    const { report } = await run(c.frames);
    const k = report.connections[0]!;
    expect(k.verdict).toBe('dead');
    expect(k.keepalive.client).toMatchObject({ interval: 75, count: 9, defaults: 'linux', style: 'linux' });
    // Measured from the client's own ACK of the server's data, one RTT (0.2 ms) after it.
    expect(k.keepalive.client!.idle).toBeCloseTo(7200, 3);
    expect(k.keepalive.client!.confidence).toEqual({ idle: 'medium', interval: 'high', count: 'high' });
  });

  it('sequence numbers wrapping past 2^32 before the probes', async () => {
    const c = conv({ clientIsn: 0xffff_fe00, serverIsn: 0xffff_ff00 }).handshake();
    for (let i = 0; i < 4; i++) c.data(true, 200, 0.01).data(false, 100, 0.01);
    for (let i = 0; i < 3; i++) c.probe(true, 5, 'ack');
    const { file, report, events } = await run(c.frames);
    const probes = framesOf(events, 'probe');
    expect(probes).toHaveLength(3);
    expect(probes).toEqual(tsharkFrames(file, 'tcp.analysis.keep_alive'));
    expect(framesOf(events, 'reply-ack')).toEqual(tsharkFrames(file, 'tcp.analysis.keep_alive_ack'));
    expect(report.connections[0]!.verdict).toBe('alive');
  });

  it('a 4-tuple reused after a close is a new connection', async () => {
    const a = conv({ clientPort: 40_000 }).handshake().probe(true, 10, 'ack').close(true, 1);
    const b = conv({ clientPort: 40_000, start: 1_763_800_100, clientIsn: 5, serverIsn: 9 }).handshake().probe(true, 10, 'none').probe(true, 3, 'none').rst(true, 3);
    const { report } = await run(interleave(a, b));
    expect(report.connections.map((c) => [c.client, c.verdict])).toEqual([
      ['192.0.2.10:40000', 'alive'],
      ['192.0.2.10:40000', 'dead'],
    ]);
    expect(report.connections[1]!.keepalive.client).toMatchObject({ count: 2 });
  });

  it('both ends probing on their own clocks; a peer probe does not restart the idle clock', async () => {
    // Client idle 10 s, server idle 25 s. The client's probes are answered (restarting its clock);
    // the server's probe at 25 s is answered too; neither's probe is the other's activity.
    const c = conv().handshake().data(true, 10, 0.001);
    c.probe(true, 10, 'ack').probe(true, 10, 'ack'); // ~20 s
    c.probe(false, 5, 'ack'); // server: 25 s after its last activity
    c.probe(true, 5, 'ack').probe(true, 10, 'ack');
    c.probe(false, 15, 'ack');
    const { file, report, events } = await run(c.frames);
    expect(framesOf(events, 'probe')).toEqual(tsharkFrames(file, 'tcp.analysis.keep_alive'));
    expect(framesOf(events, 'reply-ack')).toEqual(tsharkFrames(file, 'tcp.analysis.keep_alive_ack'));
    const k = report.connections[0]!;
    expect(k.verdict).toBe('alive');
    // The client's clock restarts at each ACK of its probes, never at the server's probes
    // (received, but out of window and dropped), so every one of its idle gaps is 10 s. The
    // server's clock restarts at the client's ACKs of its own probes only.
    expect(k.keepalive.client!.idle).toBeCloseTo(10, 2);
    expect(k.keepalive.server!.idle).toBeGreaterThan(24.9);
  });

  it('zero-window probes are not keepalives (tshark 4.0 says they are: it does not look at the window)', async () => {
    const c = conv().handshake().data(true, 500, 0.01).closeWindow(false, 0.01);
    for (const dt of [0.2, 0.4, 0.8, 1.6, 3.2]) c.zeroWindowProbe(true, dt);
    c.openWindow(false, 1).data(true, 100, 0.01);
    const { file, report, events } = await run(c.frames);
    const wiresharkKeepalives = tsharkFrames(file, 'tcp.analysis.keep_alive');
    expect(wiresharkKeepalives).toHaveLength(5);
    expect(framesOf(events, 'probe')).toEqual([]);
    expect(framesOf(events, 'zero-window-probe')).toEqual(wiresharkKeepalives);
    expect(report.summary.zeroWindowProbes).toBe(5);
    expect(report.connections[0]!.verdict).toBe('no-keepalive');
  });

  it('a capture that starts mid-connection: the peer’s ACK reveals the first probe, which tshark misses', async () => {
    const c = conv().handshake().data(true, 100, 0.01).data(false, 50, 0.01);
    const skip = c.frames.length;
    c.data(false, 20, 1); // the capture starts here: the server's data and the client's ACK
    c.probe(true, 10, 'ack').probe(true, 10, 'ack').probe(true, 10, 'ack');
    const { file, report, events } = await run(c.frames.slice(skip));
    const ours = framesOf(events, 'probe');
    const theirs = tsharkFrames(file, 'tcp.analysis.keep_alive');
    expect(ours).toEqual([3, 5, 7]);
    expect(theirs).toEqual([3, 5, 7]);
    const k = report.connections[0]!;
    expect(k.rolesFrom).toBe('port');
    expect(k.client).toMatch(/^192\.0\.2\.10:5\d{4}$/);
    expect(k.server).toBe('198.51.100.20:443');
  });

  it('a capture that begins with the probe itself: seq learned from the peer', async () => {
    const c = conv().handshake().data(true, 100, 0.01);
    const skip = c.frames.length;
    c.probe(true, 10, 'ack').probe(true, 10, 'ack').probe(true, 10, 'ack');
    const { file, events } = await run(c.frames.slice(skip));
    // Frame 1 is a probe, but nothing before it tells what the client sends next, so nobody can
    // call it one. Its answer acknowledges seq + 1: from then on we know the client's next
    // sequence number and see frames 3 and 5 for what they are. tshark is wrong here: it learns
    // the next seq only from the sender's own segments (seq + len of frame 1, one too low), so
    // the repeated probes never sit at "next − 1" for it.
    expect(framesOf(events, 'probe')).toEqual([3, 5]);
    expect(framesOf(events, 'reply-ack')).toEqual([4, 6]);
    expect(tsharkFrames(file, 'tcp.analysis.keep_alive')).toEqual([]);
  });

  it('unanswered probes then an answer: alive, with a lower bound on the count', async () => {
    const c = conv().handshake().data(true, 10, 0.01);
    c.probe(true, 30, 'none').probe(true, 5, 'none').probe(true, 5, 'ack');
    const { report } = await run(c.frames);
    const k = report.connections[0]!;
    expect(k.verdict).toBe('alive');
    expect(k.keepalive.client).toMatchObject({ idle: 30, interval: 5, count: null, countAtLeast: 3 });
    expect(k.probes.map((p) => p.reply.kind)).toEqual(['none', 'none', 'ack']);
  });

  it('the capture ends during unanswered probes: undetermined', async () => {
    const c = conv().handshake().data(true, 10, 0.01).probe(true, 60, 'none').probe(true, 10, 'none');
    const { report } = await run(c.frames);
    const k = report.connections[0]!;
    expect(k.verdict).toBe('undetermined');
    expect(k.keepalive.client!.count).toBeNull();
    expect(k.keepalive.client!.unknown.count).toMatch(/capture ended after 2 unanswered/);
  });

  it('a probe answered by RST: reset, and tshark has no keep_alive_ack for it', async () => {
    const c = conv().handshake().data(true, 10, 0.01).probe(true, 45, 'rst');
    const { file, report, events } = await run(c.frames);
    expect(framesOf(events, 'reply-rst')).toEqual([c.frames.length]);
    expect(tsharkFrames(file, 'tcp.analysis.keep_alive_ack')).toEqual([]);
    expect(report.connections[0]!.verdict).toBe('reset');
  });

  it('no probes: closed when it ended, no-keepalive when still open', async () => {
    const a = conv().handshake().data(true, 10, 0.01).close(true, 2);
    const b = conv().handshake().data(true, 10, 0.01).wait(100).data(false, 10, 0);
    const { report } = await run(interleave(a, b));
    expect(report.connections.map((c) => c.verdict).sort()).toEqual(['closed', 'no-keepalive']);
  });
});

describe('application heartbeats (synthesized; real recordings in fixtures.test.ts)', () => {
  it('PING/PONG every 1 s: period, jitter, sizes, request/reply', async () => {
    const c = conv().handshake();
    for (let i = 0; i < 10; i++) c.data(true, 6, 1.0 + (i % 3) * 0.002).data(false, 6, 0.0003);
    const { report } = await run(c.frames);
    const hb = report.connections[0]!.heartbeat!;
    expect(hb).toMatchObject({ from: 'client', requestBytes: 6, replyBytes: 6, count: 10 });
    expect(hb.period).toBeCloseTo(1.0, 1);
    expect(hb.jitter).toBeLessThan(0.05);
  });

  it('a long heartbeat is judged on its most recent beats (a fixed ring per direction)', async () => {
    const c = conv().handshake();
    // 100 beats of 6 bytes every 1 s, then 70 of 9 bytes every 3 s, each answered with 4 bytes.
    for (let i = 0; i < 100; i++) c.data(true, 6, 1.0).data(false, 4, 0.0003);
    for (let i = 0; i < 70; i++) c.data(true, 9, 3.0).data(false, 4, 0.0003);
    const { report } = await run(c.frames);
    const hb = report.connections[0]!.heartbeat!;
    expect(hb).toMatchObject({ from: 'client', requestBytes: 9, replyBytes: 4, count: 170 });
    expect(hb.period).toBeCloseTo(3, 2);
  });

  it('one-way beats from the server every 2 s', async () => {
    const c = conv().handshake();
    for (let i = 0; i < 6; i++) c.data(false, 2, 2.0);
    const { report } = await run(c.frames);
    const hb = report.connections[0]!.heartbeat!;
    expect(hb).toMatchObject({ from: 'server', requestBytes: 2, replyBytes: null, count: 6 });
    expect(hb.period).toBeCloseTo(2, 3);
  });

  it('bulk transfer and irregular small messages are not a heartbeat; keepalive probes never are', async () => {
    const c = conv().handshake();
    for (const dt of [0.3, 1.4, 0.4, 2.7, 0.2, 2.9]) {
      c.data(true, 40, dt);
      for (let k = 0; k < 5; k++) c.data(true, 1400, 0.001);
    }
    for (let i = 0; i < 6; i++) c.probe(true, 1, 'ack', true);
    const { report } = await run(c.frames);
    expect(report.connections[0]!.heartbeat).toBeNull();
    expect(report.connections[0]!.probes).toHaveLength(6);
  });
});

describe('findings', () => {
  it('Linux defaults: idle beyond a middlebox timeout, time to notice a dead peer', async () => {
    const c = conv().handshake().data(false, 120, 0.05);
    c.probe(true, 7200, 'none');
    for (let i = 0; i < 8; i++) c.probe(true, 75, 'none');
    c.rst(true, 75);
    const { report } = await run(c.frames);
    const rules = Object.fromEntries(report.connections[0]!.findings.map((f) => [f.rule, f]));
    expect(rules['idle-exceeds-middlebox']!.severity).toBe('warning');
    expect(rules['os-defaults']!.message).toMatch(/7200 \+ 9 × 75 = 7875 s \(2 h 11 min\)/);
    expect(rules['probes-unanswered']!.severity).toBe('error');
    expect(report.summary.findings.map((f) => f.rule).sort()).toEqual(['idle-exceeds-middlebox', 'os-defaults', 'probes-unanswered']);
  });

  it('a long silence with neither keepalive nor heartbeat; --middlebox-timeout moves the line', async () => {
    const c = conv().handshake().data(true, 10, 0.01).wait(400).data(true, 10, 0);
    const file = writeConversation(join(dir, 'silent.pcap'), c.frames);
    const { report } = await analyzeWithEvents([file]);
    expect(report.connections[0]!.longestSilence).toBeCloseTo(400, 2);
    expect(report.connections[0]!.findings.map((f) => f.rule)).toEqual(['silent-gap']);
    const { report: lenient } = await analyzeWithEvents([file], { middleboxTimeout: 1200 });
    expect(lenient.connections[0]!.findings).toEqual([]);
  });

  it('keepalive and a heartbeat both running', async () => {
    const c = conv().handshake();
    // A beat every 3 s (2 s after the previous probe's answer), a probe 1 s after each beat.
    for (let i = 0; i < 6; i++) c.data(true, 6, 2).data(false, 6, 0.0003).probe(true, 1, 'ack');
    const { report } = await run(c.frames);
    const k = report.connections[0]!;
    expect(k.heartbeat).toMatchObject({ from: 'client', requestBytes: 6, replyBytes: 6 });
    expect(k.heartbeat!.period).toBeCloseTo(3, 2);
    expect(k.findings.map((f) => f.rule)).toContain('keepalive-and-heartbeat');
  });
});

describe('bounded memory per connection', () => {
  it('a connection probing 1500 times keeps the first and last 500 probes and counts the rest', async () => {
    const c = conv().handshake().data(true, 10, 0.01);
    for (let i = 0; i < 1499; i++) c.probe(true, 60, 'ack');
    c.probe(true, 60, 'none').probe(true, 5, 'none').rst(true, 5);
    const { report } = await run(c.frames);
    const k = report.connections[0]!;
    expect(k.probes).toHaveLength(1000);
    expect(k.probesOmitted).toBe(501);
    expect(report.summary.keepaliveProbes).toBe(1501);
    expect(k.probes[0]!.frame).toBe(6); // after the handshake (3) and one data segment with its ACK (2)
    expect(k.probes[999]!.reply.kind).toBe('none');
    expect(k.verdict).toBe('dead');
    expect(k.keepalive.client).toMatchObject({ probes: 1501, acked: 1499, unanswered: 2, count: 2 });
    expect(k.keepalive.client!.samples.afterAnswer).toBe(1499);
    expect(k.keepalive.client!.interval).toBeCloseTo(5, 3);
    // `check` with no figure to judge counts every probe, not the 1000 listed.
    const presence = evaluate(report, {}).results;
    expect(presence.map((r) => [r.status, r.observed, r.message])).toEqual([['pass', 1501, '1501 probe(s) from the client']]);
  });

  it('timing samples past the four kept inline, and past the 256 kept at all, give the medians of the most recent ones', async () => {
    // Seven idle gaps (data restarts the clock each time): more than the slab holds inline.
    const idles = [11, 13, 12, 30, 14, 15, 16];
    const c = conv().handshake().data(true, 10, 0.01);
    for (const idle of idles) c.probe(true, idle, 'ack').data(false, 10, 1);
    // 300 unanswered retries: the first 44 gaps 1 s, then 128 of 2 s and 128 of 4 s. Only the
    // last 256 are kept, so the median is that of 2 s and 4 s alone (3 s), not of all 300 (2 s).
    c.probe(true, 20, 'none');
    const gaps = [...Array<number>(44).fill(1), ...Array<number>(128).fill(2), ...Array<number>(128).fill(4)];
    for (const g of gaps.slice(0, -1)) c.probe(true, g, 'none');
    c.rst(true, gaps.at(-1)!);
    const { report } = await run(c.frames);
    const s = report.connections[0]!.keepalive.client!;
    const median = (xs: number[]): number => {
      const v = [...xs].sort((a, b) => a - b);
      return v.length % 2 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
    };
    expect(s.samples.idle).toBe(idles.length + 1);
    expect(s.idle).toBeCloseTo(median([...idles, 20]), 3);
    expect(s.samples.interval).toBe(gaps.length);
    expect(median(gaps)).toBe(2);
    expect(s.interval).toBeCloseTo(median(gaps.slice(-256)), 3);
    expect(s.interval).toBeCloseTo(3, 3);
    expect(s.count).toBe(gaps.length);
    expect(s.confidence.interval).toBe('low'); // the kept gaps disagree
  });
});
