/**
 * The frame-by-frame explanation of a demo capture. Nothing is written per frame by hand: each
 * frame's role comes from the analysis' events (probe, reply-ack, reply-rst, zero-window-probe,
 * gave-up), the report's probe records (ordinal, idle time, reply) and the segment's own flags,
 * numbers and window; the scenario adds only what no capture can show (the knobs that were set,
 * the operating system). Change a scenario and the explanation follows.
 */
import type { ConnectionReport, KeepaliveEvent, Probe, Side } from '../analysis/model.js';
import { ACK, FIN, PSH, RST, SYN } from '../decode/segment.js';
import { seconds } from '../report/units.js';
import type { DemoCapture, DemoFrame } from './capture.js';
import type { DemoScenario, ProberConfig } from './scenarios.js';

export type Role =
  | 'syn'
  | 'syn-ack'
  | 'handshake-ack'
  | 'data'
  | 'data-ack'
  | 'heartbeat'
  | 'heartbeat-reply'
  | 'keepalive-probe'
  | 'keepalive-ack'
  | 'keepalive-rst'
  | 'zero-window'
  | 'zero-window-probe'
  | 'zero-window-probe-ack'
  | 'window-update'
  | 'gave-up'
  | 'rst'
  | 'fin'
  | 'ack';

/** The timer that sent a frame, measured on the capture. */
export interface FrameTimer {
  /**
   * idle: from the last segment received to a first probe; wait: from the ACK of the previous
   * probe to the next (max(idle, interval) on Linux); interval: between unanswered probes, and
   * on to the RST; backoff: between zero-window probes; heartbeat: between application beats.
   */
  kind: 'idle' | 'wait' | 'interval' | 'backoff' | 'heartbeat';
  side: Side;
  fromFrame: number;
  seconds: number;
  text: string;
}

export interface FrameNote {
  frame: DemoFrame;
  role: Role;
  /** A few words: "keepalive probe #2", "SYN-ACK". */
  label: string;
  /** Flags and numbers as Wireshark's Info column shows them: "[ACK] Seq=7 Ack=35 Win=64256 Len=0". */
  segment: string;
  /** Wireshark's analysis label ("[TCP Keep-Alive]"), or null. */
  wireshark: string | null;
  /** What the segment is and why it was sent. */
  what: string;
  timer: FrameTimer | null;
  /** What the side that receives it (or the prober) concludes. */
  concludes: string | null;
  /** For probes: how the peer answered. */
  reply: Probe['reply']['kind'] | null;
}

export interface Explanation {
  scenario: DemoScenario;
  connection: ConnectionReport | null;
  notes: FrameNote[];
  /** Paragraphs: what the capture shows in the end. */
  conclusion: string[];
}

/** What a frame's explainer decides; the rest of the note has defaults. */
type Part = Pick<FrameNote, 'role' | 'label' | 'what'> & Partial<Pick<FrameNote, 'timer' | 'concludes' | 'reply' | 'wireshark'>>;

const peerOf = (s: Side): Side => (s === 'client' ? 'server' : 'client');

const KNOB_NAMES = {
  linux: { idle: 'TCP_KEEPIDLE', interval: 'TCP_KEEPINTVL', count: 'TCP_KEEPCNT', timeout: 'ETIMEDOUT' },
  windows: { idle: 'KeepAliveTime', interval: 'KeepAliveInterval', count: 'the probe count', timeout: 'WSAENETRESET' },
} as const;

function flagNames(flags: number): string {
  const names: string[] = [];
  if (flags & FIN) names.push('FIN');
  if (flags & SYN) names.push('SYN');
  if (flags & RST) names.push('RST');
  if (flags & PSH) names.push('PSH');
  if (flags & ACK) names.push('ACK');
  return `[${names.join(', ')}]`;
}

/** Payload for people: printable ASCII with \r\n shown, else hex. */
export function payloadText(p: Uint8Array, len: number): string {
  const printable = p.every((b) => (b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09);
  if (printable && p.length > 0) {
    const s = Array.from(p, (b) => (b === 0x0a ? '\\n' : b === 0x0d ? '\\r' : b === 0x09 ? '\\t' : String.fromCharCode(b))).join('');
    return `"${s}${len > p.length ? '…' : ''}"`;
  }
  const hex = Array.from(p.subarray(0, 8), (b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
  return len > 8 ? `${hex} …` : hex;
}

/** A duration with the precision a timer deserves: "60.003 s", "7200.001 s", "212 ms", "40 µs". */
export function duration(x: number): string {
  if (x >= 100) return `${x.toFixed(3)} s`;
  return seconds(x);
}

class Explainer {
  private readonly notes: FrameNote[] = [];
  private readonly events = new Map<number, KeepaliveEvent[]>();
  private readonly probes = new Map<number, Probe>();
  /** Probe frames by the frame their reply was. */
  private readonly replyOf = new Map<number, Probe>();
  /** For each frame that started a probe's idle clock: the side whose clock, and the probe. */
  private readonly clockStarts = new Map<number, { side: Side; probe: Probe; wait: boolean }[]>();
  private readonly isn: Partial<Record<Side, number>> = {};
  private readonly byNumber = new Map<number, DemoFrame>();
  private readonly lastWindow: Record<Side, number> = { client: -1, server: -1 };
  private readonly acked: Partial<Record<Side, number>> = {};
  private readonly lastData: Partial<Record<Side, DemoFrame>> = {};
  private readonly lastZeroWindowProbe: Partial<Record<Side, { frame: DemoFrame; gap: number | null }>> = {};
  private readonly zeroWindowAdvert: Partial<Record<Side, DemoFrame>> = {};
  private readonly pendingZeroWindowProbe: Partial<Record<Side, DemoFrame>> = {};
  private lastBeat: DemoFrame | null = null;
  private finFrom: Side | null = null;
  private readonly probeCount: Record<Side, number> = { client: 0, server: 0 };
  /** Roles already explained in full, per side: the next frames of the kind get a short note. */
  private readonly told = new Set<string>();

  /** True the first time a side sends a frame of this kind: explain it in full then, briefly after. */
  private firstTime(kind: string, side: Side): boolean {
    const key = `${kind}/${side}`;
    if (this.told.has(key)) return false;
    this.told.add(key);
    return true;
  }

  constructor(
    private readonly scenario: DemoScenario,
    private readonly capture: DemoCapture,
    private readonly conn: ConnectionReport | null,
  ) {
    for (const e of capture.events) {
      if (e.kind === 'connection-end') continue;
      const list = this.events.get(e.frame) ?? [];
      list.push(e);
      this.events.set(e.frame, list);
    }
    for (const f of capture.frames) this.byNumber.set(f.number, f);
    for (const p of conn?.probes ?? []) {
      this.probes.set(p.frame, p);
      if (p.reply.frame !== null) this.replyOf.set(p.reply.frame, p);
    }
    for (const p of conn?.probes ?? []) {
      const start = this.clockStart(p);
      if (start === null) continue;
      const list = this.clockStarts.get(start.frame.number) ?? [];
      list.push({ side: p.from, probe: p, wait: start.wait });
      this.clockStarts.set(start.frame.number, list);
    }
  }

  private knobs(side: Side): ProberConfig | undefined {
    return this.scenario.keepalive[side];
  }

  private rel(side: Side, seq: number): number {
    const base = this.isn[side];
    return base === undefined ? seq : (seq - base) >>> 0;
  }

  private segment(f: DemoFrame): string {
    const parts = [flagNames(f.flags), `Seq=${this.rel(f.from, f.seq)}`];
    if (f.flags & ACK) parts.push(`Ack=${this.rel(peerOf(f.from), f.ack)}`);
    parts.push(`Win=${f.windowBytes}`, `Len=${f.payloadLen}`);
    if (f.syn !== null) {
      if (f.syn.mss >= 0) parts.push(`MSS=${f.syn.mss}`);
      if (f.syn.sackPermitted) parts.push('SACK_PERM');
      if (f.timestamps !== null) parts.push(`TSval=${f.timestamps.tsVal}`, `TSecr=${f.timestamps.tsEcr}`);
      if (f.syn.windowScale >= 0) parts.push(`WS=${2 ** f.syn.windowScale}`);
    }
    return parts.join(' ');
  }

  /**
   * The frame whose arrival started the idle clock that sent probe `p`: the last segment from
   * the peer, other than probes and resets, at the time `sinceLastActivity` points to.
   */
  private clockStart(p: Probe): { frame: DemoFrame; wait: boolean } | null {
    if (p.ordinal !== 1 || p.sinceLastActivity === null) return null;
    const probeFrame = this.byNumber.get(p.frame);
    if (probeFrame === undefined) return null;
    const at = probeFrame.t - p.sinceLastActivity;
    let found: DemoFrame | null = null;
    for (const f of this.capture.frames) {
      if (f.number >= p.frame || f.t > at + 1e-6) break;
      if (f.from === p.from || (f.flags & RST) !== 0 || this.isProbeFrame(f.number)) continue;
      found = f;
    }
    if (found === null) return null;
    const answered = this.replyOf.get(found.number);
    return { frame: found, wait: answered !== undefined && answered.from === p.from };
  }

  private isProbeFrame(n: number): boolean {
    return (this.events.get(n) ?? []).some((e) => e.kind === 'probe' || e.kind === 'zero-window-probe');
  }

  private has(f: DemoFrame, kind: KeepaliveEvent['kind']): boolean {
    return (this.events.get(f.number) ?? []).some((e) => e.kind === kind);
  }

  run(): Explanation {
    for (const f of this.capture.frames) {
      const note = this.note(f);
      this.notes.push(note);
      this.after(f, note);
    }
    return { scenario: this.scenario, connection: this.conn, notes: this.notes, conclusion: this.conclusion() };
  }

  /** Bookkeeping after a frame: what each side acknowledged, advertised, sent. */
  private after(f: DemoFrame, note: FrameNote): void {
    if (f.flags & ACK) this.acked[f.from] = f.ack;
    if ((f.flags & RST) === 0) this.lastWindow[f.from] = f.windowBytes;
    if (f.payloadLen > 0 && note.role !== 'keepalive-probe') this.lastData[f.from] = f;
    if (note.role === 'zero-window') this.zeroWindowAdvert[f.from] = f;
    if (note.role === 'zero-window-probe') this.pendingZeroWindowProbe[peerOf(f.from)] = f;
    if (note.role === 'heartbeat') this.lastBeat = f;
  }

  private note(f: DemoFrame): FrameNote {
    if (f.flags & SYN) this.isn[f.from] = f.seq;
    const base = { frame: f, segment: this.segment(f), timer: null, concludes: null, reply: null, wireshark: null };
    if (this.has(f, 'gave-up')) return { ...base, ...this.gaveUp(f) };
    if (this.has(f, 'reply-rst')) return { ...base, ...this.replyRst(f) };
    if (f.flags & RST) {
      return { ...base, role: 'rst', label: 'RST', what: `RST from the ${f.from}: it aborts the connection.` };
    }
    if (f.flags & SYN) return { ...base, ...this.syn(f) };
    if (this.has(f, 'probe')) return { ...base, ...this.probe(f) };
    if (this.has(f, 'zero-window-probe')) return { ...base, ...this.zeroWindowProbe(f) };
    if (this.has(f, 'reply-ack')) return { ...base, ...this.replyAck(f) };
    if (f.flags & FIN) return { ...base, ...this.fin(f) };
    if (f.payloadLen > 0) return { ...base, ...this.data(f) };
    return { ...base, ...this.pureAck(f) };
  }

  private clockNote(f: DemoFrame): string {
    const starts = this.clockStarts.get(f.number);
    if (starts === undefined) return '';
    return starts
      .map((s) => ` Receiving it restarts the ${s.side}'s idle clock: it is the last segment the ${s.side} receives before its next probe (frame ${s.probe.frame}).`)
      .join('');
  }

  private syn(f: DemoFrame): Part {
    const o = f.syn!;
    const offers = [
      o.mss >= 0 ? `MSS ${o.mss}` : null,
      o.sackPermitted ? 'selective ACKs (SACK)' : null,
      o.windowScale >= 0 ? `window scaling ×${2 ** o.windowScale}` : null,
      f.timestamps !== null ? 'TCP timestamps' : 'no TCP timestamps',
    ].filter((x): x is string => x !== null);
    const ttl = f.ttl === null ? '' : f.ttl > 64 && f.ttl <= 128 ? ` TTL ${f.ttl}, as Windows sends.` : ` TTL ${f.ttl}, as Linux sends.`;
    if (f.flags & ACK) {
      return {
        role: 'syn-ack',
        label: 'SYN-ACK',
        what: `SYN-ACK: the server accepts the connection, ${duration(f.t - (this.capture.frames[0]?.t ?? 0))} after the SYN (one round trip, seen from the client). It offers ${offers.join(', ')}.${ttl}`,
      };
    }
    return { role: 'syn', label: 'SYN', what: `SYN: the client opens the connection. It offers ${offers.join(', ')}.${ttl}` };
  }

  private probe(f: DemoFrame): Part {
    const p = this.probes.get(f.number);
    const side = f.from;
    const peer = peerOf(side);
    const k = this.knobs(side);
    const names = KNOB_NAMES[k?.os ?? 'linux'];
    const seq = this.rel(side, f.seq);
    const body = f.payloadLen === 0 ? 'no data' : `${f.payloadLen} garbage octet${f.payloadLen === 1 ? '' : 's'} (${payloadText(f.payload, f.payloadLen)}), already acknowledged, for old stacks that ignore empty segments`;
    const n = p?.ordinal ?? 1;
    const count = ++this.probeCount[side];
    const place = n === 1 ? (count === 1 ? 'its first' : 'the first since its last probe was answered') : `a retry (${n === 2 ? 'the previous probe' : `the previous ${n - 1} probes`} went unanswered)`;
    const what = this.firstTime('keepalive-probe', side)
      ? `Keepalive probe #${count} from the ${side}, ${place}: ${body}. Seq=${seq} is one below the next byte it would send (${seq + 1}); Ack and window are unchanged. ` +
        `The segment lies just left of the ${peer}'s window, so a ${peer} that still has the connection must answer it with an ACK.`
      : `Keepalive probe #${count} from the ${side}, ${place}: the same segment as before (Seq=${seq}, ${f.payloadLen === 0 ? 'no data' : `${f.payloadLen} garbage octet`}).`;
    let timer: FrameTimer | null = null;
    if (p !== undefined && p.ordinal === 1 && p.sinceLastActivity !== null) {
      const start = this.clockStart(p);
      const from = start?.frame.number ?? 0;
      const knob = k !== undefined ? ` (${names.idle}, here ${k.idle} s)` : '';
      const late = k !== undefined ? p.sinceLastActivity - k.idle : 0;
      const full = this.firstTime(start?.wait ? 'wait' : 'idle', side);
      const lateness =
        k === undefined || late < 0.0005
          ? ''
          : !full
            ? ` (${duration(late)} of it is timer slack${side === 'server' ? ' and the round trip' : ''}.)`
            : side === 'server'
              ? ` It shows ${duration(late)} more here: kernel timers fire a few ms late, and from the client's capture the gap also holds one round trip.`
              : ` The ${duration(late)} more is timer slack: kernel timers fire a few ms after their time.`;
      if (start?.wait) {
        const most = k !== undefined ? Math.max(k.idle, k.interval) : 0;
        const rule =
          k === undefined
            ? ''
            : full
              ? `: Linux re-armed the timer for the interval (${k.interval} s) after the previous probe; when it fired, it probed only once idle (${k.idle} s) had passed since the last segment received, so answered probes come every max(idle, interval) = ${most} s`
              : `: max(idle, interval) = ${most} s`;
        timer = {
          kind: 'wait',
          side,
          fromFrame: from,
          seconds: p.sinceLastActivity,
          text: `${duration(p.sinceLastActivity)} after the ACK of its previous probe (frame ${from})${rule}.${lateness}`,
        };
      } else {
        timer = {
          kind: 'idle',
          side,
          fromFrame: from,
          seconds: p.sinceLastActivity,
          text: `${duration(p.sinceLastActivity)} after frame ${from}, the last segment the ${side} received: its idle time${knob} is up.${lateness}`,
        };
      }
      const crossed = (this.conn?.probes ?? []).filter((x) => x.from === peer && x.frame > from && x.frame < f.number).map((x) => x.frame);
      if (crossed.length > 0) {
        const which = crossed.length === 1 ? `probe in frame ${crossed[0]}` : `probes in frames ${crossed.slice(0, -1).join(', ')} and ${crossed[crossed.length - 1]}`;
        timer.text += ` The ${peer}'s ${which} did not restart this clock: a probe lies left of the window and is dropped before the ACK processing that would.`;
      }
    } else if (p !== undefined && p.ordinal > 1) {
      const prev = [...this.notes].reverse().find((x) => x.role === 'keepalive-probe' && x.frame.from === side);
      if (prev !== undefined) {
        const gap = f.t - prev.frame.t;
        timer = {
          kind: 'interval',
          side,
          fromFrame: prev.frame.number,
          seconds: gap,
          text: `${duration(gap)} after its previous probe (frame ${prev.frame.number}), which went unanswered: the interval${k !== undefined ? ` (${names.interval}, here ${k.interval} s)` : ''}.`,
        };
      }
    }
    let concludes: string | null = null;
    const reply = p?.reply.kind ?? null;
    if (p !== undefined && reply === 'none' && k?.userTimeout !== undefined) {
      concludes = `No answer comes back: ${n} probe${n === 1 ? '' : 's'} unanswered. TCP_USER_TIMEOUT (${k.userTimeout} s), not ${names.count} (${k.count}), decides when the ${side} gives up: at the first tick ${k.userTimeout} s or more after the last segment it received.`;
    } else if (p !== undefined && reply === 'none') {
      const count = k?.count ?? this.conn?.keepalive[side]?.count ?? null;
      const next =
        count === null
          ? ''
          : n >= count
            ? `: the last one ${names.count} (${count}) allows. The ${side} waits one more interval for an answer, then gives up.`
            : `; the next one leaves in ${k !== undefined ? `${k.interval} s` : 'one interval'}.`;
      concludes = `No answer comes back: ${count !== null ? `${n} of ${count} probes` : `${n} probe${n === 1 ? '' : 's'}`} unanswered${next || '.'}`;
    } else if (p !== undefined && p.reply.frame !== null) {
      concludes = `Answered in frame ${p.reply.frame}, ${duration(p.reply.latency ?? 0)} later${p.reply.kind === 'rst' ? ', with an RST' : ''}.`;
    }
    return { role: 'keepalive-probe', label: `keepalive probe #${count}`, what, timer, concludes, reply, wireshark: '[TCP Keep-Alive]' };
  }

  private replyAck(f: DemoFrame): Part {
    const p = this.replyOf.get(f.number);
    const prober = peerOf(f.from);
    const k = this.knobs(prober);
    const ack = this.rel(prober, f.ack);
    const probeSeq = p !== undefined ? this.byNumber.get(p.frame) : undefined;
    const seqNote = probeSeq !== undefined ? ` = probe Seq ${this.rel(prober, probeSeq.seq)} + 1` : '';
    const answering = `answering the probe in frame ${p !== undefined ? `${p.frame}, ${duration(p.reply.latency ?? 0)} after it` : '?'}`;
    const full = this.firstTime('keepalive-ack', f.from);
    const what = full
      ? `ACK from the ${f.from}, ${answering}: Ack=${ack}${seqNote}, its RCV.NXT; no data, nothing new. Its kernel answered; its application never saw the probe.` +
        (this.scenario.keepalive[f.from] !== undefined ? ` The probe did not restart the ${f.from}'s own idle clock.` : '')
      : `ACK from the ${f.from}, ${answering}: Ack=${ack}${seqNote}, as before.`;
    const next = k !== undefined ? ` The next probe follows when the ${prober} has again received nothing for its idle time: max(idle, interval) = ${Math.max(k.idle, k.interval)} s after this ACK.` : '';
    const concludes = full
      ? `The ${prober} knows the ${f.from} is alive: its count of unanswered probes goes back to 0 and its idle clock restarts from this ACK.${next}`
      : `The ${f.from} is alive; the ${prober}'s idle clock restarts from this ACK.`;
    // The conclusion already says the prober's clock restarts here; name only another side's.
    const others = (this.clockStarts.get(f.number) ?? []).some((x) => x.side !== prober);
    return { role: 'keepalive-ack', label: 'keepalive ACK', what: others ? what + this.clockNote(f) : what, concludes, wireshark: '[TCP Keep-Alive ACK]' };
  }

  private replyRst(f: DemoFrame): Part {
    const p = this.replyOf.get(f.number);
    const prober = peerOf(f.from);
    const probe = p !== undefined ? this.byNumber.get(p.frame) : undefined;
    const match = probe !== undefined && (f.flags & ACK) === 0 && f.seq === probe.ack ? `Its Seq=${this.rel(f.from, f.seq)} is the probe's Ack number and it carries no ACK: ` : '';
    const what =
      `RST from the ${f.from}, answering ${p !== undefined ? `the probe in frame ${p.frame}` : 'the probe'}: the ${f.from} has no such connection (it rebooted, or its application aborted). ` +
      `${match}${match ? 'a' : 'A'} host answers a segment for an unknown connection with an RST whose sequence number is that segment's acknowledgement number (RFC 9293 §3.10.7.1).`;
    const os = this.knobs(prober)?.os ?? 'linux';
    const concludes = `The ${prober} drops the connection at once; its application's next read or write fails with ${os === 'windows' ? 'WSAECONNRESET' : 'ECONNRESET'}. Keepalive's fastest verdict: one probe, one round trip.`;
    return { role: 'keepalive-rst', label: 'RST (answer)', what, concludes };
  }

  private gaveUp(f: DemoFrame): Part {
    const side = f.from;
    const k = this.knobs(side);
    const names = KNOB_NAMES[k?.os ?? 'linux'];
    const prev = [...this.notes].reverse().find((x) => x.role === 'keepalive-probe' && x.frame.from === side);
    const unanswered = this.conn?.keepalive[side]?.count ?? null;
    let timer: FrameTimer | null = null;
    if (prev !== undefined) {
      const gap = f.t - prev.frame.t;
      timer = {
        kind: 'interval',
        side,
        fromFrame: prev.frame.number,
        seconds: gap,
        text:
          k?.userTimeout !== undefined
            ? `${duration(gap)} after the last probe (frame ${prev.frame.number}): the timer fired once more, found at least TCP_USER_TIMEOUT (${k.userTimeout} s) passed since the last segment received, with ${unanswered ?? 'every'} probe${unanswered === 1 ? '' : 's'} unanswered, and gave up (${names.count} ${k.count} never came into it).`
            : `${duration(gap)} after the last probe (frame ${prev.frame.number}): the timer fired once more, found ${unanswered ?? 'every'} probe${unanswered === 1 ? '' : 's'} unanswered${k !== undefined ? ` (${names.count} ${k.count})` : ''}, and gave up.`,
      };
    }
    const what = `RST from the ${side}: it gives up on the connection and resets it, in case the ${peerOf(side)} can still hear. Seq=${this.rel(side, f.seq)} is its SND.NXT, the next byte it would have sent.`;
    const concludes = `The ${side} declares the ${peerOf(side)} dead. Its application's next read or write fails with ${names.timeout}.`;
    return { role: 'gave-up', label: 'RST (gave up)', what, timer, concludes };
  }

  private zeroWindowProbe(f: DemoFrame): Part {
    const side = f.from;
    const peer = peerOf(side);
    const advert = this.zeroWindowAdvert[peer];
    const prev = this.lastZeroWindowProbe[side];
    const seq = this.rel(side, f.seq);
    const n = (this.notes.filter((x) => x.role === 'zero-window-probe' && x.frame.from === side).length ?? 0) + 1;
    const full = this.firstTime('zero-window-probe', side);
    const what = full
      ? `Zero-window probe #${n} from the ${side}: no data, Seq=${seq} = SND.UNA − 1. The ${peer} advertised a window of 0${advert !== undefined ? ` (frame ${advert.number})` : ''} and the ${side} has data waiting, so it asks, on its persist timer, whether the window has opened. ` +
        `Linux sends it with the same function as a keepalive probe (tcp_xmit_probe_skb), so it looks exactly like one.`
      : `Zero-window probe #${n} from the ${side}: the same segment again (no data, Seq=${seq} = SND.UNA − 1); the window is still 0.`;
    let timer: FrameTimer | null = null;
    const from = prev?.frame ?? advert;
    if (from !== undefined) {
      const gap = f.t - from.t;
      const ratio = prev?.gap != null && prev.gap > 0 ? `, ${(gap / prev.gap).toFixed(2)}× the previous gap: the timer doubles after every probe` : ': the first probe waits one retransmission timeout (at least 200 ms)';
      timer = { kind: 'backoff', side, fromFrame: from.number, seconds: gap, text: `${duration(gap)} after ${prev !== undefined ? `zero-window probe #${n - 1} (frame ${from.number})` : `the window closed (frame ${from.number})`}${ratio}.` };
    }
    this.lastZeroWindowProbe[side] = { frame: f, gap: from !== undefined ? f.t - from.t : null };
    return {
      role: 'zero-window-probe',
      label: `zero-window probe #${n}`,
      what,
      timer,
      concludes: full
        ? 'Not a keepalive: keepalive counts it as a zero-window probe, because the receiver’s last window was 0. Wireshark 4.0 labels it a keep-alive: its rule looks at the segment alone, not at the window.'
        : null,
      wireshark: '[TCP Keep-Alive]',
    };
  }

  private fin(f: DemoFrame): Part {
    if (this.finFrom === null) {
      this.finFrom = f.from;
      return { role: 'fin', label: 'FIN', what: `FIN from the ${f.from}: its application closed the connection; it will send nothing more.` };
    }
    return { role: 'fin', label: 'FIN', what: `FIN from the ${f.from}: it acknowledges the ${peerOf(f.from)}'s FIN and closes its end too.` };
  }

  private data(f: DemoFrame): Part {
    const hb = this.conn?.heartbeat ?? null;
    const text = payloadText(f.payload, f.payloadLen);
    const acksData = this.acksNew(f) && this.lastData[peerOf(f.from)] !== undefined ? ` It also acknowledges the ${peerOf(f.from)}'s data (frame ${this.lastData[peerOf(f.from)]!.number}).` : '';
    if (hb !== null && f.from === hb.from && f.payloadLen === hb.requestBytes) {
      const prev = this.lastBeat;
      const timer: FrameTimer | null =
        prev === null
          ? null
          : {
              kind: 'heartbeat',
              side: f.from,
              fromFrame: prev.number,
              seconds: f.t - prev.t,
              text: `${duration(f.t - prev.t)} after the previous heartbeat (frame ${prev.number}): the application's own timer${this.scenario.heartbeat ? ` (every ${this.scenario.heartbeat.period} s)` : ''}, not the kernel's.`,
            };
      return {
        role: 'heartbeat',
        label: 'heartbeat',
        what: this.firstTime('heartbeat', f.from)
          ? `Application heartbeat from the ${f.from}: ${f.payloadLen} bytes of data, ${text}. To TCP this is ordinary data: it is acknowledged, and it restarts both ends' idle clocks.${acksData}`
          : `Heartbeat from the ${f.from}: ${text} again.${acksData}`,
        timer,
      };
    }
    const beat = this.lastBeat;
    if (hb !== null && hb.replyBytes !== null && f.from !== hb.from && f.payloadLen === hb.replyBytes && beat !== null && f.t - beat.t <= 1) {
      return {
        role: 'heartbeat-reply',
        label: 'heartbeat reply',
        ...(this.firstTime('heartbeat-reply', f.from)
          ? {
              what: `Heartbeat reply from the ${f.from}: ${f.payloadLen} bytes, ${text}, ${duration(f.t - beat.t)} after the request. Its Ack acknowledges the request, so no separate ACK is needed.`,
              concludes: `The ${hb.from} knows more than keepalive could tell it: the ${f.from}'s application itself is responding.`,
            }
          : { what: `Heartbeat reply from the ${f.from}: ${text}, ${duration(f.t - beat.t)} after the request.` }),
      };
    }
    return { role: 'data', label: 'data', what: `Data from the ${f.from}: ${f.payloadLen} bytes, ${text}.${acksData}${this.clockNote(f)}` };
  }

  /** Does this segment acknowledge bytes its sender had not acknowledged before? */
  private acksNew(f: DemoFrame): boolean {
    const before = this.acked[f.from];
    return (f.flags & ACK) !== 0 && (before === undefined || ((f.ack - before) | 0) > 0);
  }

  private pureAck(f: DemoFrame): Part {
    const peer = peerOf(f.from);
    const zwp = this.pendingZeroWindowProbe[f.from];
    if (zwp !== undefined) delete this.pendingZeroWindowProbe[f.from];
    const before = this.lastWindow[f.from];
    const newAck = this.acksNew(f);
    if (f.windowBytes === 0 && zwp !== undefined && !newAck) {
      return {
        role: 'zero-window-probe-ack',
        label: 'ACK, window 0',
        what: `ACK from the ${f.from}, answering the zero-window probe (frame ${zwp.number}): window still 0. Its application has still not read.`,
        concludes: `The ${peer} keeps its data and doubles its persist timer.`,
        wireshark: '[TCP ZeroWindow]',
      };
    }
    if (f.windowBytes === 0) {
      return {
        role: 'zero-window',
        label: 'ACK, window 0',
        what: `ACK from the ${f.from}${newAck ? ` of the ${peer}'s data` : ''}, advertising a window of 0: its receive buffer is full because its application is not reading. The ${peer} must stop sending.`,
        concludes: `The ${peer} holds its remaining data and starts its persist timer to probe the window.`,
        wireshark: '[TCP ZeroWindow]',
      };
    }
    if (before === 0 && f.windowBytes > 0 && !newAck) {
      return {
        role: 'window-update',
        label: 'window update',
        what: `Window update from the ${f.from}: its application read the data, and it advertises ${f.windowBytes} bytes of window again.`,
        concludes: `The ${peer} stops probing and sends again.`,
        wireshark: '[TCP Window Update]',
      };
    }
    const prev = this.notes[this.notes.length - 1];
    if (prev?.role === 'syn-ack' && f.from === 'client') {
      return { role: 'handshake-ack', label: 'ACK', what: `ACK of the SYN-ACK: the three-way handshake is complete and the connection is ESTABLISHED.` };
    }
    if (prev?.role === 'fin' && newAck && this.finFrom !== null && f.from === this.finFrom) {
      return { role: 'ack', label: 'ACK', what: `ACK of the ${peer}'s FIN: the connection is closed at both ends.` };
    }
    const data = this.lastData[peer];
    if (newAck && data !== undefined) {
      const delay = f.t - data.t;
      const delayed =
        delay > 0.02 && delay < 0.5
          ? this.firstTime('delayed-ack', f.from)
            ? ` It comes ${duration(delay)} after the data: Linux's delayed ACK waits about 40 ms in case it has data to send anyway.`
            : ` (delayed ACK, ${duration(delay)})`
          : '';
      return {
        role: 'data-ack',
        label: 'ACK',
        what: `ACK from the ${f.from} of the ${peer}'s data (frame ${data.number}${f.windowBytes !== before && before > 0 ? `; window now ${f.windowBytes} bytes` : ''}).${delayed}${this.clockNote(f)}`,
      };
    }
    return { role: 'ack', label: 'ACK', what: `ACK from the ${f.from}, with nothing new.${this.clockNote(f)}` };
  }

  private conclusion(): string[] {
    const c = this.conn;
    if (c === null) return ['The capture holds no TCP connection.'];
    const said = c.explanation.toLowerCase().startsWith(c.verdict.replace('-', ' '));
    const out = [said ? c.explanation : `Verdict: ${c.verdict}. ${c.explanation}`];
    for (const side of ['client', 'server'] as const) {
      const k = this.knobs(side);
      const probes = c.probes.filter((p) => p.from === side);
      if (probes.length === 0) continue;
      const first = probes[0]!;
      const start = this.clockStart(first);
      const endNote = [...this.notes].reverse().find((n) => (n.role === 'gave-up' && n.frame.from === side) || (n.role === 'keepalive-rst' && n.frame.from !== side));
      if (start !== null && endNote !== undefined) {
        const took = endNote.frame.t - start.frame.t;
        const formula =
          endNote.role !== 'gave-up' || k === undefined
            ? ''
            : k.userTimeout !== undefined
              ? ` With TCP_USER_TIMEOUT ${k.userTimeout} s that is the first keepalive tick ${k.userTimeout} s or more after that segment (idle + ${probes.length} × interval = ${k.idle} + ${probes.length} × ${k.interval} = ${k.idle + probes.length * k.interval} s), plus a little timer slack; ${KNOB_NAMES[k.os].count} ${k.count} alone would have taken ${k.idle} + ${k.count} × ${k.interval} = ${k.idle + k.count * k.interval} s.`
              : ` With ${KNOB_NAMES[k.os].idle} ${k.idle} s, ${KNOB_NAMES[k.os].interval} ${k.interval} s and ${KNOB_NAMES[k.os].count} ${k.count} that is idle + count × interval = ${k.idle} + ${k.count} × ${k.interval} = ${k.idle + k.count * k.interval} s, plus a little timer slack.`;
        out.push(
          `The ${side} learned that the ${peerOf(side)} was ${endNote.role === 'gave-up' ? 'gone' : 'no longer holding the connection'} ${duration(took)}${took >= 120 ? ` (${humanDuration(took)})` : ''} after the last segment it received from it (frame ${start.frame.number}, at ${start.frame.t.toFixed(3)} s), in frame ${endNote.frame.number}.${formula}`,
        );
      } else if (probes.every((p) => p.reply.kind === 'ack')) {
        out.push(`Every one of the ${side}'s ${probes.length} probes was answered. Each probe and its answer are two segments without data: ${probes.length * 2} segments in ${humanDuration(c.probes.length > 0 ? this.span() : 0)}.`);
      }
    }
    if (c.zeroWindowProbes > 0) {
      out.push(
        `${c.zeroWindowProbes} zero-window probes and no keepalive: keepalive tells them apart by the receiver's window of 0 and does not count them as keepalives. Wireshark 4.0 marks all ${c.zeroWindowProbes} as [TCP Keep-Alive].`,
      );
    }
    if (c.heartbeat !== null) {
      const hb = c.heartbeat;
      out.push(
        `No TCP keepalive, but an application heartbeat: every ${duration(hb.period)} from the ${hb.from} (${hb.count} beats, ${hb.requestBytes}-byte requests${hb.replyBytes !== null ? `, ${hb.replyBytes}-byte replies` : ', unanswered'}). The longest silence on the connection was ${duration(c.longestSilence)}, far below any middlebox idle timeout.`,
      );
    }
    return out;
  }

  private span(): number {
    const fs = this.capture.frames;
    return fs.length > 0 ? fs[fs.length - 1]!.t - fs[0]!.t : 0;
  }
}

/** "2 h 11 min 15 s", "4 min 12 s", "35 s". */
export function humanDuration(s: number): string {
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  return [h > 0 ? `${h} h` : '', m > 0 ? `${m} min` : '', sec > 0 || total === 0 ? `${sec} s` : ''].filter(Boolean).join(' ');
}

export function explain(scenario: DemoScenario, capture: DemoCapture): Explanation {
  return new Explainer(scenario, capture, capture.report.connections[0] ?? null).run();
}
