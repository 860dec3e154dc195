/**
 * A finished connection as a run of doubles, so that another thread can make its report: the
 * reading thread writes each `Connection` the table hands out into a batch (`ConnectionBatch`),
 * moves the batch's buffer to the report thread, and that thread reads each connection back into
 * a `Connection` of its own (`readConnection`) that connectionReport cannot tell from the
 * original. Every field of Connection and Direction goes through; test/threaded.test.ts fails
 * when a field is added to either class without being carried here.
 */
import { HeadTail, type SampleRing } from './bounded.js';
import { CLOSED_BY, Connection, ROLES, type Direction, type ProbeRecord } from './flows.js';
import type { BeatTrack } from './heartbeat.js';

const REPLIES = ['none', 'ack', 'rst'] as const;
/** Buffers ConnectionBatch keeps for reuse. */
const SPARE_BUFFERS = 4;
/** Doubles per probe record. */
const PROBE = 12;
/** Doubles of a connection before its variable parts (directions, probes), and of a direction before its rings. */
const CONN_FIXED = 26;
const DIR_FIXED = 20;
const BEATS_FIXED = 5;

function ringsLength(...rings: SampleRing[]): number {
  let n = 0;
  for (const r of rings) n += r.encodedLength;
  return n;
}

function directionLength(d: Direction): number {
  const beats = d.beats === null ? 0 : BEATS_FIXED + ringsLength(d.beats.gaps, d.beats.sizes, d.beats.replySizes);
  return DIR_FIXED + ringsLength(d.idleSamples, d.afterAnswerSamples, d.intervalSamples) + 1 + beats;
}

function writeDirection(d: Direction, o: Float64Array, at: number): number {
  o[at] = d.nextSeq;
  o[at + 1] = d.nextSeqKnown ? 1 : 0;
  o[at + 2] = d.window;
  o[at + 3] = d.lastActivity;
  o[at + 4] = d.probeOrdinal;
  o[at + 5] = d.maxOrdinal;
  o[at + 6] = d.fate;
  o[at + 7] = d.gaveUpAfter;
  o[at + 8] = d.gaveUpFrame;
  o[at + 9] = d.gaveUpElapsed;
  o[at + 10] = d.lastProbeElapsed;
  o[at + 11] = d.zeroWindowProbes;
  o[at + 12] = d.emptyProbes;
  o[at + 13] = d.oneByteProbes;
  o[at + 14] = d.probes;
  o[at + 15] = d.ackedProbes;
  o[at + 16] = d.resetProbes;
  o[at + 17] = d.resetProbeFrame;
  o[at + 18] = d.resetReplyFrame;
  o[at + 19] = 0; // spare, keeps DIR_FIXED honest
  at += DIR_FIXED;
  at = d.idleSamples.writeTo(o, at);
  at = d.afterAnswerSamples.writeTo(o, at);
  at = d.intervalSamples.writeTo(o, at);
  const b = d.beats;
  o[at++] = b === null ? 0 : 1;
  if (b === null) return at;
  o[at] = b.count;
  o[at + 1] = b.replies;
  o[at + 2] = b.quietGaps;
  o[at + 3] = b.gapsSeen;
  o[at + 4] = 0;
  at += BEATS_FIXED;
  at = b.gaps.writeTo(o, at);
  at = b.sizes.writeTo(o, at);
  return b.replySizes.writeTo(o, at);
}

function readDirection(d: Direction, s: Float64Array, at: number): number {
  d.nextSeq = s[at]!;
  d.nextSeqKnown = s[at + 1] !== 0;
  d.window = s[at + 2]!;
  d.lastActivity = s[at + 3]!;
  d.probeOrdinal = s[at + 4]!;
  d.maxOrdinal = s[at + 5]!;
  d.fate = s[at + 6]!;
  d.gaveUpAfter = s[at + 7]!;
  d.gaveUpFrame = s[at + 8]!;
  d.gaveUpElapsed = s[at + 9]!;
  d.lastProbeElapsed = s[at + 10]!;
  d.zeroWindowProbes = s[at + 11]!;
  d.emptyProbes = s[at + 12]!;
  d.oneByteProbes = s[at + 13]!;
  d.probes = s[at + 14]!;
  d.ackedProbes = s[at + 15]!;
  d.resetProbes = s[at + 16]!;
  d.resetProbeFrame = s[at + 17]!;
  d.resetReplyFrame = s[at + 18]!;
  at += DIR_FIXED;
  at = d.idleSamples.readFrom(s, at);
  at = d.afterAnswerSamples.readFrom(s, at);
  at = d.intervalSamples.readFrom(s, at);
  if (s[at++] === 0) {
    d.beats = null;
    return at;
  }
  const b: BeatTrack = d.beatTrack;
  b.count = s[at]!;
  b.replies = s[at + 1]!;
  b.quietGaps = s[at + 2]!;
  b.gapsSeen = s[at + 3]!;
  at += BEATS_FIXED;
  at = b.gaps.readFrom(s, at);
  at = b.sizes.readFrom(s, at);
  at = b.replySizes.readFrom(s, at);
  d.beats = b;
  return at;
}

/** Finished connections written one after another, to be moved to the report thread in one piece. */
export class ConnectionBatch {
  buffer: Float64Array;
  length = 0;
  count = 0;
  /** Lowest first frame among them (Infinity when empty): no row of theirs may be released before it. */
  firstFrame = Number.POSITIVE_INFINITY;

  /** Buffers back from the report thread, to be written again (no new buffer per batch). */
  private readonly spare: Float64Array[] = [];

  constructor(private readonly initial = 1 << 16) {
    this.buffer = new Float64Array(initial);
  }

  add(c: Connection): void {
    const items = c.probes.total === 0 ? null : c.probes.items();
    const need = CONN_FIXED + directionLength(c.dirA) + directionLength(c.dirB) + (items === null ? 0 : 1 + items.length * PROBE);
    const o = this.room(need).buffer;
    let at = this.length;
    o[at] = c.ipVersion;
    o[at + 1] = c.a0;
    o[at + 2] = c.a1;
    o[at + 3] = c.a2;
    o[at + 4] = c.a3;
    o[at + 5] = c.aPort;
    o[at + 6] = c.b0;
    o[at + 7] = c.b1;
    o[at + 8] = c.b2;
    o[at + 9] = c.b3;
    o[at + 10] = c.bPort;
    o[at + 11] = c.clientIsA ? 1 : 0;
    o[at + 12] = ROLES.indexOf(c.rolesFrom);
    o[at + 13] = c.firstFrame;
    o[at + 14] = c.lastFrame;
    o[at + 15] = c.firstSec;
    o[at + 16] = c.firstNsec;
    o[at + 17] = c.lastSec;
    o[at + 18] = c.lastNsec;
    o[at + 19] = c.firstT;
    o[at + 20] = c.lastT;
    o[at + 21] = c.packets;
    o[at + 22] = c.maxGap;
    o[at + 23] = CLOSED_BY.indexOf(c.closedBy);
    o[at + 24] = c.closeT;
    o[at + 25] = items === null ? -1 : c.probes.omitted;
    at += CONN_FIXED;
    at = writeDirection(c.dirA, o, at);
    at = writeDirection(c.dirB, o, at);
    if (items !== null) {
      o[at++] = items.length;
      for (const p of items) {
        o[at] = p.frame;
        o[at + 1] = p.tsSec;
        o[at + 2] = p.tsNsec;
        o[at + 3] = p.t;
        o[at + 4] = p.fromA ? 1 : 0;
        o[at + 5] = p.seq;
        o[at + 6] = p.payloadBytes;
        o[at + 7] = p.sinceLastActivity === null ? Number.NaN : p.sinceLastActivity;
        o[at + 8] = p.ordinal;
        o[at + 9] = REPLIES.indexOf(p.reply);
        o[at + 10] = p.replyFrame;
        o[at + 11] = p.replyT;
        at += PROBE;
      }
    }
    this.wrote(at - this.length, 1, c.firstFrame);
  }

  /** Room for `doubles` more doubles, written from `at` on (the C++ table writes there: native.ts). */
  room(doubles: number): { buffer: Float64Array; at: number } {
    if (this.length + doubles > this.buffer.length) {
      const bigger = new Float64Array(Math.max(2 * this.buffer.length, this.length + doubles));
      bigger.set(this.buffer.subarray(0, this.length));
      this.buffer = bigger;
    }
    return { buffer: this.buffer, at: this.length };
  }

  /** `count` connections, `doubles` in all, were written at the end (after `room`). */
  wrote(doubles: number, count: number, firstFrame: number): void {
    this.length += doubles;
    this.count += count;
    if (firstFrame < this.firstFrame) this.firstFrame = firstFrame;
  }

  /**
   * The buffer written so far and how many of its doubles hold connections, to be transferred;
   * the batch starts empty again in a buffer given back (`giveBack`) or a new one.
   */
  take(): { doubles: Float64Array; length: number } {
    const out = { doubles: this.buffer, length: this.length };
    this.buffer = this.spare.pop() ?? new Float64Array(this.initial);
    this.length = 0;
    this.count = 0;
    this.firstFrame = Number.POSITIVE_INFINITY;
    return out;
  }

  /** A buffer `take` handed out, back from the report thread: the next batches are written into it. */
  giveBack(doubles: Float64Array): void {
    if (doubles.length >= this.initial && this.spare.length < SPARE_BUFFERS) this.spare.push(doubles);
  }
}

/**
 * The connection written at `at` of a batch's doubles, into `c` (its probe list is made anew,
 * everything else reused); returns the offset of the next one.
 */
export function readConnection(s: Float64Array, at: number, c: Connection): number {
  c.ipVersion = s[at] === 6 ? 6 : 4;
  c.a0 = s[at + 1]!;
  c.a1 = s[at + 2]!;
  c.a2 = s[at + 3]!;
  c.a3 = s[at + 4]!;
  c.aPort = s[at + 5]!;
  c.b0 = s[at + 6]!;
  c.b1 = s[at + 7]!;
  c.b2 = s[at + 8]!;
  c.b3 = s[at + 9]!;
  c.bPort = s[at + 10]!;
  c.clientIsA = s[at + 11] !== 0;
  c.rolesFrom = ROLES[s[at + 12]!]!;
  c.firstFrame = s[at + 13]!;
  c.lastFrame = s[at + 14]!;
  c.firstSec = s[at + 15]!;
  c.firstNsec = s[at + 16]!;
  c.lastSec = s[at + 17]!;
  c.lastNsec = s[at + 18]!;
  c.firstT = s[at + 19]!;
  c.lastT = s[at + 20]!;
  c.packets = s[at + 21]!;
  c.maxGap = s[at + 22]!;
  c.closedBy = CLOSED_BY[s[at + 23]!] ?? null;
  c.closeT = s[at + 24]!;
  const omitted = s[at + 25]!;
  c.clientName = null;
  c.serverName = null;
  at += CONN_FIXED;
  at = readDirection(c.dirA, s, at);
  at = readDirection(c.dirB, s, at);
  if (omitted < 0) {
    c.probes = new HeadTail<ProbeRecord>(0, 0);
    return at;
  }
  const n = s[at++]!;
  const items: ProbeRecord[] = [];
  for (let i = 0; i < n; i++, at += PROBE) {
    const since = s[at + 7]!;
    items.push({
      frame: s[at]!,
      tsSec: s[at + 1]!,
      tsNsec: s[at + 2]!,
      t: s[at + 3]!,
      fromA: s[at + 4] !== 0,
      seq: s[at + 5]!,
      payloadBytes: s[at + 6]!,
      sinceLastActivity: Number.isNaN(since) ? null : since,
      ordinal: s[at + 8]!,
      reply: REPLIES[s[at + 9]!]!,
      replyFrame: s[at + 10]!,
      replyT: s[at + 11]!,
    });
  }
  c.probes = HeadTail.of(items, omitted);
  return at;
}
