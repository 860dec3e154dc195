/**
 * The connection table: one entry per open TCP connection, keyed by its 4-tuple in either
 * direction, with per-direction sequence state and the keepalive bookkeeping the classifier
 * needs. Entries of closed connections are finalised after a grace period (or when the
 * 4-tuple is reused by a new SYN, or at the end), so memory follows open connections.
 *
 * The per-packet state of every open connection lives in one slab of doubles (a fixed record
 * per slot) and its 4-tuple in a slab of 32-bit words, found through a chained hash table of
 * slot numbers; timing samples (TimingTable) and heartbeat candidates (heartbeat.ts) live in
 * slabs of their own: the heartbeat rings wholly, the timing rings (keepalive probes only) up
 * to four values, longer ones in arrays of at most 256 (bounded.ts, InlineRings). A packet
 * reads and writes typed arrays only and allocates nothing; the probe records of the report's
 * list are the one object per probe, and only when a list is wanted. A finished connection is
 * handed to `onConnection` in one `Connection` object filled anew each time, so finishing one
 * allocates nothing either.
 */
import { ACK, FIN, RST, SYN, type Segment } from '../decode/segment.js';
import { formatEndpoint } from '../decode/segment.js';
import { readOptions } from '../decode/tcp.js';
import { BeatTable, BeatTrack, HEARTBEAT_MAX_BYTES } from './heartbeat.js';
import { isOneByteZeroWindowProbe, looksLikeKeepalive, replyTo, REPLY_ACK, REPLY_NONE, V_NEXT_SEQ, V_NEXT_SEQ_KNOWN, V_WINDOW } from './keepalive.js';
import type { KeepaliveEvent, KeepaliveEventKind, ReplyKind, Side } from './model.js';
import { HeadTail, INLINE_VALUES, InlineRings, SampleRing } from './bounded.js';
import { seqAdd, seqGt } from './seq.js';

/** Segments of a closed connection (its last ACK, a repeated RST) still belong to it for this long. */
const CLOSE_GRACE_SECONDS = 30;

/**
 * A segment the same side sent within this long (either way: copies from two interfaces may be
 * stamped out of order), with the same seq, ack, flags, window, length, checksum and IPv4 id, is
 * the same packet captured again: `tcpdump -i any` on a Linux bridge sees each bridged packet on
 * both ports, mostly microseconds apart, but each keepalive probe's two copies came 2.2 to 3.6 ms
 * apart in a live capture (the last two segments are kept: a copy may come after the next
 * segment of the same side). A keepalive or zero-window probe is repeated only after 200 ms or
 * more, and a sender numbers each IPv4 packet anew, so a fast retransmission (a tail-loss probe,
 * RACK) is no copy over IPv4; over IPv6, where there is no id, one taken for a copy moves at most
 * a receiver's idle clock by those milliseconds. The checksum alone does not tell: with checksum
 * offload the capture on the sender holds only the pseudo-header's sum, the same for every empty
 * segment (seen on the loopback of fmt-multi-if).
 */
const COPY_SECONDS = 0.01;

export const FATE_NONE = 0;
export const FATE_ALIVE = 1;
export const FATE_WAITING = 2;
export const FATE_DEAD = 3;
export const FATE_RESET = 4;

/** One probe as kept for the report (copied out of the reused segment). */
export interface ProbeRecord {
  frame: number;
  tsSec: number;
  tsNsec: number;
  t: number;
  fromA: boolean;
  seq: number;
  payloadBytes: number;
  sinceLastActivity: number | null;
  ordinal: number;
  reply: ReplyKind;
  replyFrame: number;
  replyT: number;
}

/** The probe list of connections that sent none (shared, never added to). */
const NO_PROBES = new HeadTail<ProbeRecord>(0, 0);

/** Samples kept per timing ring (the most recent; medians are taken over them). */
const SAMPLE_CAPACITY = 256;
// A direction's three timing rings.
const IDLE = 0;
const AFTER_ANSWER = 1;
const INTERVAL = 2;
// Per direction in TimingTable's slab: the number of samples of each ring, then each ring's first values.
const T_VALUES = 3;
const T_STRIDE = T_VALUES + 3 * INLINE_VALUES;

/**
 * The timing samples of every direction (slot × 2 + side), without an object per connection:
 * counts and the first few samples of each ring in one slab, longer rings in arrays (InlineRings).
 */
class TimingTable {
  private slab = new Float64Array(0);
  private readonly rings = new InlineRings(3, SAMPLE_CAPACITY);

  grow(directions: number): void {
    const slab = new Float64Array(directions * T_STRIDE);
    slab.set(this.slab);
    this.slab = slab;
    this.rings.grow(directions);
  }

  clear(d: number): void {
    this.slab.fill(0, d * T_STRIDE, (d + 1) * T_STRIDE);
    this.rings.clear(d);
  }

  add(d: number, ring: number, x: number): void {
    const S = this.slab;
    const at = d * T_STRIDE;
    const n = S[at + ring]!;
    this.rings.keep(S, at + T_VALUES + ring * INLINE_VALUES, d, ring, n, x);
    S[at + ring] = n + 1;
  }

  load(d: number, ring: number, into: SampleRing): void {
    const at = d * T_STRIDE;
    this.rings.load(this.slab, at + T_VALUES + ring * INLINE_VALUES, d, ring, this.slab[at + ring]!, into);
  }
}

/** One side of a finished connection, as the report reads it. */
export class Direction {
  nextSeq = 0;
  nextSeqKnown = false;
  /** Window this side last advertised, scaled; -1 before any segment. */
  window = -1;
  /** Relative time this side last received and accepted a segment from its peer (NaN: never seen). */
  lastActivity = Number.NaN;
  /** Probes sent since that activity. */
  probeOrdinal = 0;
  maxOrdinal = 0;
  fate = FATE_NONE;
  /** Unanswered probes before this side gave up with an RST; -1 when not seen. */
  gaveUpAfter = -1;
  gaveUpFrame = 0;
  /**
   * When it gave up: seconds from the last segment it received to its RST, and to the last
   * probe before that RST (NaN when it received nothing in the capture).
   */
  gaveUpElapsed = Number.NaN;
  lastProbeElapsed = Number.NaN;
  zeroWindowProbes = 0;
  emptyProbes = 0;
  oneByteProbes = 0;
  probes = 0;
  /** Gaps from other activity (data, ACKs of data, window updates) to the first probe. */
  readonly idleSamples = new SampleRing(SAMPLE_CAPACITY);
  /** Gaps from the ACK of this side's previous probe to its next probe. */
  readonly afterAnswerSamples = new SampleRing(SAMPLE_CAPACITY);
  /** Gaps between unanswered probes, and from the last one to the prober's RST. */
  readonly intervalSamples = new SampleRing(SAMPLE_CAPACITY);
  /** Probes answered by ACK, by RST. */
  ackedProbes = 0;
  resetProbes = 0;
  /** The probe answered by RST and the RST's frame. */
  resetProbeFrame = 0;
  resetReplyFrame = 0;
  /** This side's application heartbeat candidates, when it sent enough small payloads to tell. */
  beats: BeatTrack | null = null;
  /** What `beats` points to when set (filled anew for each connection this object describes). */
  readonly beatTrack = new BeatTrack();
}

/** A connection as the report reads it: built from its slot when it is finalised (or for a snapshot). */
export class Connection {
  readonly dirA = new Direction();
  readonly dirB = new Direction();
  ipVersion: 4 | 6 = 4;
  a0 = 0;
  a1 = 0;
  a2 = 0;
  a3 = 0;
  aPort = 0;
  b0 = 0;
  b1 = 0;
  b2 = 0;
  b3 = 0;
  bPort = 0;
  clientIsA = true;
  rolesFrom: 'syn' | 'syn-ack' | 'port' = 'port';
  firstFrame = 0;
  lastFrame = 0;
  firstSec = 0;
  firstNsec = 0;
  lastSec = 0;
  lastNsec = 0;
  firstT = 0;
  lastT = 0;
  packets = 0;
  /** Longest silence between two segments of the connection (s). */
  maxGap = 0;
  /** Probes kept for the report: the first 500 and the last 500 (the ones in between are counted). */
  probes: HeadTail<ProbeRecord> = NO_PROBES;
  closedBy: 'fin' | 'rst' | null = null;
  closeT = 0;
  /** Endpoint names, made at their first use. */
  clientName: string | null = null;
  serverName: string | null = null;

  get endpointA(): string {
    return formatEndpoint(this.ipVersion, this.a0, this.a1, this.a2, this.a3, this.aPort);
  }

  get endpointB(): string {
    return formatEndpoint(this.ipVersion, this.b0, this.b1, this.b2, this.b3, this.bPort);
  }

  get client(): string {
    return (this.clientName ??= this.clientIsA ? this.endpointA : this.endpointB);
  }

  get server(): string {
    return (this.serverName ??= this.clientIsA ? this.endpointB : this.endpointA);
  }

  sideOf(fromA: boolean): Side {
    return fromA === this.clientIsA ? 'client' : 'server';
  }

  direction(side: Side): Direction {
    return (side === 'client') === this.clientIsA ? this.dirA : this.dirB;
  }
}

// ---- Slot layout (indices into one slot's record of doubles) ----
const C_GEN = 0; // bumped each time the slot is taken, so stale queue entries are recognised
const C_OPEN = 1;
const C_CLIENT_IS_A = 2;
const C_ROLES = 3; // ROLES_*
const C_PACKETS = 4;
const C_FIRST_FRAME = 5;
const C_LAST_FRAME = 6;
const C_FIRST_SEC = 7;
const C_FIRST_NSEC = 8;
const C_LAST_SEC = 9;
const C_LAST_NSEC = 10;
const C_FIRST_T = 11;
const C_LAST_T = 12;
const C_MAX_GAP = 13;
const C_CLOSED_BY = 14; // CLOSED_*
const C_CLOSE_T = 15;
const DIR_A = 16;
// Per direction, hottest first; the classifier reads the first three (keepalive.ts).
const D_NEXT_SEQ = V_NEXT_SEQ;
const D_NEXT_SEQ_KNOWN = V_NEXT_SEQ_KNOWN;
const D_WINDOW = V_WINDOW;
const D_SCALE = 3; // 2^shift once both SYNs agreed on window scaling, else 1
const D_PENDING = 4; // a probe of this side awaits its answer
const D_LAST_ACTIVITY = 5;
const D_LAST_WAS_PROBE_ACK = 6;
const D_PROBE_ORDINAL = 7;
const D_FATE = 8;
const D_HAS_BEATS = 9; // BEATS_*
const D_LAST_PROBE_T = 10;
const D_MAX_ORDINAL = 11;
const D_OFFERED_SCALE = 12;
const D_SENT_SYN = 13;
const D_SYN_SEQ = 14;
const D_SENT_FIN = 15;
const D_GAVE_UP_AFTER = 16;
const D_GAVE_UP_FRAME = 17;
const D_ZERO_WINDOW = 18;
const D_EMPTY = 19;
const D_ONE_BYTE = 20;
const D_PROBES = 21;
const D_ACKED = 22;
const D_RESET_PROBES = 23;
const D_RESET_PROBE_FRAME = 24;
const D_RESET_REPLY_FRAME = 25;
const D_PENDING_SEQ = 26;
const D_PENDING_FRAME = 27;
const D_GAVE_UP_ELAPSED = 28; // at the give-up: seconds since this side last received a segment (NaN: none seen)
const D_GAVE_UP_PROBE_ELAPSED = 29; // and from then to the last probe before the give-up
// The last two segments this side sent, to know a second copy of either (see COPY_SECONDS): the
// newest at D_SENT, the one before at D_SENT + SENT_RECORD; each: time, seq, ack,
// ((IPv4 id + 1) × 2^8 + flags) × 2^16 + payload length, window × 2^16 + checksum.
const D_SENT = 30;
const SENT_T = 0;
const SENT_SEQ = 1;
const SENT_ACK = 2;
const SENT_FLAGS_LEN = 3;
const SENT_WINDOW_SUM = 4;
const SENT_RECORD = 5;
const D_STRIDE = D_SENT + 2 * SENT_RECORD;
const DIR_B = DIR_A + D_STRIDE;
const STRIDE = DIR_B + D_STRIDE;

// D_HAS_BEATS: the connection's payloads are not (yet) watched for heartbeats; they are; they
// are, and the last data of the connection was bulk from this side (BeatTable.onData would change nothing).
const BEATS_OFF = 0; // the slab starts zeroed: never written
const BEATS_ON = 1;
const BEATS_AFTER_BULK = 2;

const ROLES_PORT = 0;
const ROLES_SYN = 1;
const ROLES_SYN_ACK = 2;
/** Connection.rolesFrom and closedBy by their numbers in the slab (ROLES_*, CLOSED_*; handoff.ts writes them so too). */
export const ROLES = ['port', 'syn', 'syn-ack'] as const;
const CLOSED_NONE = 0;
const CLOSED_FIN = 1;
const CLOSED_RST = 2;
export const CLOSED_BY = [null, 'fin', 'rst'] as const;

// 4-tuple words per slot: A's address, B's address, ports, version, hash, next slot in the bucket.
const K_A = 0;
const K_B = 4;
const K_A_PORT = 8;
const K_B_PORT = 9;
const K_VERSION = 10;
const K_HASH = 11;
const K_NEXT = 12;
const K_STRIDE = 13;

const INITIAL_SLOTS = 1024;

function mixEndpoint(w0: number, w1: number, w2: number, w3: number, port: number): number {
  let h = Math.imul(port + 0x9e3779b1, 0x85ebca6b);
  h = Math.imul(h ^ w0, 0xc2b2ae35);
  h = Math.imul(h ^ w1, 0x85ebca6b);
  h = Math.imul(h ^ w2, 0xc2b2ae35);
  h = Math.imul(h ^ w3, 0x85ebca6b);
  return h ^ (h >>> 15);
}

export interface TrackerOptions {
  /**
   * Called once per connection when it is finalised (closed and quiet, reused, or at the end).
   * The object is the tracker's own and is filled anew for the next connection: copy what you
   * keep before returning (its probe list, samples and heartbeat tracks are the connection's own).
   */
  onConnection: (conn: Connection) => void;
  /** Called as keepalive events happen (live output, frame-by-frame tests). */
  onEvent?: ((event: KeepaliveEvent) => void) | undefined;
  /**
   * Keep a record of each probe for the report's probe list (default). Without, probes are
   * only counted per side: no object per probe, for output that lists none (CSV).
   */
  keepProbes?: boolean | undefined;
}

/** Feeds segments through the connection table and the keepalive classifier. */
export class Tracker {
  private capacity = 0;
  private slab = new Float64Array(0);
  private keys = new Int32Array(0);
  /** Bucket heads (slot numbers, -1 empty); twice as many buckets as slots. */
  private buckets = new Int32Array(0);
  private mask = 0;
  private readonly free: number[] = [];
  /** Objects a slot has only when it needs them (indexed by slot, or slot × 2 + side for A/B). */
  private probes: (HeadTail<ProbeRecord> | null)[] = [];
  /** The record of each side's probe awaiting its answer (when records are kept; the slab has its seq and frame). */
  private pending: (ProbeRecord | null)[] = [];
  private readonly timings = new TimingTable();
  private names: (Connection | null)[] = [];
  /** The object every finalised connection is handed out in (onConnection copies what it keeps). */
  private readonly finished = new Connection();
  /** Closed connections waiting out their grace period: slot and generation, in closing order. */
  private readonly closedSlots: number[] = [];
  private readonly closedGens: number[] = [];
  private closedHead = 0;
  /**
   * Close time of the head of that queue while it is known to be current (so nothing is due
   * before it has waited out the grace); +Infinity when the queue is empty; -Infinity when a
   * connection was finalised since the last sweep (the head may be gone: look at the next packet).
   * In a typed array, as the clock: a double in an object field is boxed at every store.
   */
  private readonly sweepFrom = new Float64Array([Number.POSITIVE_INFINITY]);
  private baseSec = -1;
  /**
   * Seconds since the first segment, of the segment being added (also the heartbeat tracks'
   * clock). In a typed array: storing a double in an object field, or passing it to a call the
   * compiler does not inline, allocates a box, once per packet.
   */
  readonly clock = new Float64Array(1);
  /** Heartbeat candidates of every direction (slot × 2 + side). */
  private readonly beats = new BeatTable(this.clock);
  open = 0;
  keepaliveProbes = 0;
  zeroWindowProbes = 0;
  /** Second copies of a segment (COPY_SECONDS): counted in their connection's packets, not analysed. */
  copies = 0;
  /** Frame number of the first of them (0: none). */
  firstCopyFrame = 0;

  private readonly keepProbes: boolean;

  constructor(private readonly options: TrackerOptions) {
    this.keepProbes = options.keepProbes ?? true;
    this.grow(INITIAL_SLOTS);
  }

  add(seg: Segment): void {
    if (this.baseSec < 0) this.baseSec = seg.tsSec;
    this.clock[0] = seg.tsSec - this.baseSec + seg.tsNsec / 1e9;
    if (this.clock[0]! - this.sweepFrom[0]! > CLOSE_GRACE_SECONDS) this.sweep();
    const hash = mixEndpoint(seg.src0, seg.src1, seg.src2, seg.src3, seg.srcPort) ^ mixEndpoint(seg.dst0, seg.dst1, seg.dst2, seg.dst3, seg.dstPort);
    const K = this.keys;
    let slot = this.buckets[hash & this.mask]!;
    let fromA = false;
    while (slot >= 0) {
      const k = slot * K_STRIDE;
      if (K[k + K_HASH] === hash) {
        if (matches(K, k + K_A, k + K_B, K[k + K_A_PORT]!, K[k + K_B_PORT]!, K[k + K_VERSION]!, seg)) {
          fromA = true;
          break;
        }
        if (matches(K, k + K_B, k + K_A, K[k + K_B_PORT]!, K[k + K_A_PORT]!, K[k + K_VERSION]!, seg)) {
          fromA = false;
          break;
        }
      }
      slot = K[k + K_NEXT]!;
    }
    const flags = seg.flags;
    if (slot >= 0 && (flags & (SYN | ACK)) === SYN) {
      // A new SYN on a known 4-tuple: the old connection ended (or ended unseen) unless this
      // is the same SYN again.
      const S = this.slab;
      const sd = slot * STRIDE + (fromA ? DIR_A : DIR_B);
      if (S[slot * STRIDE + C_CLOSED_BY] !== CLOSED_NONE || S[sd + D_SENT_SYN] === 0 || S[sd + D_SYN_SEQ] !== seg.seq) {
        this.finalize(slot);
        slot = -1;
      }
    }
    if (slot < 0) {
      slot = this.create(hash, seg);
      fromA = true;
    }
    this.segment(slot, fromA, seg);
  }

  /** Every connection in the table as it stands, in order of first frame (nothing is finalised). */
  openConnections(): Connection[] {
    return this.openSlots().map((slot) => this.connectionOf(slot));
  }

  /** First frame of the oldest open connection, Infinity when none is open. */
  oldestOpenFrame(): number {
    const S = this.slab;
    let oldest = Number.POSITIVE_INFINITY;
    for (let slot = 0; slot < this.capacity; slot++) {
      const c = slot * STRIDE;
      if (S[c + C_OPEN] !== 0 && S[c + C_FIRST_FRAME]! < oldest) oldest = S[c + C_FIRST_FRAME]!;
    }
    return oldest;
  }

  /** Finalise every connection still open (end of capture). */
  finish(): void {
    for (const slot of this.openSlots()) this.finalize(slot);
  }

  private openSlots(): number[] {
    const S = this.slab;
    const slots: number[] = [];
    for (let slot = 0; slot < this.capacity; slot++) if (S[slot * STRIDE + C_OPEN] !== 0) slots.push(slot);
    return slots.sort((x, y) => S[x * STRIDE + C_FIRST_FRAME]! - S[y * STRIDE + C_FIRST_FRAME]!);
  }

  /** Room for `capacity` slots: the slabs are copied over, the hash table rebuilt. */
  private grow(capacity: number): void {
    const old = this.capacity;
    const slab = new Float64Array(capacity * STRIDE);
    slab.set(this.slab);
    const keys = new Int32Array(capacity * K_STRIDE);
    keys.set(this.keys);
    this.slab = slab;
    this.keys = keys;
    this.capacity = capacity;
    this.beats.grow(capacity * 2);
    this.timings.grow(capacity * 2);
    this.buckets = new Int32Array(capacity * 2).fill(-1);
    this.mask = capacity * 2 - 1;
    for (let slot = 0; slot < old; slot++) {
      if (slab[slot * STRIDE + C_OPEN] !== 0) this.link(slot);
    }
    for (let slot = old; slot < capacity; slot++) {
      this.probes.push(null);
      this.pending.push(null, null);
      this.names.push(null);
    }
    // Lowest slots first: they are taken from the end of the list.
    for (let slot = capacity - 1; slot >= old; slot--) this.free.push(slot);
  }

  private link(slot: number): void {
    const k = slot * K_STRIDE;
    const b = this.keys[k + K_HASH]! & this.mask;
    this.keys[k + K_NEXT] = this.buckets[b]!;
    this.buckets[b] = slot;
  }

  private unlink(slot: number): void {
    const K = this.keys;
    const b = K[slot * K_STRIDE + K_HASH]! & this.mask;
    let x = this.buckets[b]!;
    if (x === slot) {
      this.buckets[b] = K[slot * K_STRIDE + K_NEXT]!;
      return;
    }
    while (x >= 0) {
      const next = K[x * K_STRIDE + K_NEXT]!;
      if (next === slot) {
        K[x * K_STRIDE + K_NEXT] = K[slot * K_STRIDE + K_NEXT]!;
        return;
      }
      x = next;
    }
  }

  private create(hash: number, seg: Segment): number {
    if (this.free.length === 0) this.grow(this.capacity * 2);
    const slot = this.free.pop()!;
    const S = this.slab;
    const c = slot * STRIDE;
    const gen = S[c + C_GEN]! + 1;
    S.fill(0, c, c + STRIDE);
    S[c + C_GEN] = gen;
    S[c + C_OPEN] = 1;
    for (let d = c + DIR_A; d <= c + DIR_B; d += D_STRIDE) {
      S[d + D_WINDOW] = -1;
      S[d + D_SCALE] = 1;
      S[d + D_OFFERED_SCALE] = -1;
      S[d + D_LAST_ACTIVITY] = Number.NaN;
      S[d + D_GAVE_UP_AFTER] = -1;
      S[d + D_SENT + SENT_T] = Number.NEGATIVE_INFINITY;
      S[d + D_SENT + SENT_RECORD + SENT_T] = Number.NEGATIVE_INFINITY;
    }
    const K = this.keys;
    const k = slot * K_STRIDE;
    K[k + K_A] = seg.src0;
    K[k + K_A + 1] = seg.src1;
    K[k + K_A + 2] = seg.src2;
    K[k + K_A + 3] = seg.src3;
    K[k + K_B] = seg.dst0;
    K[k + K_B + 1] = seg.dst1;
    K[k + K_B + 2] = seg.dst2;
    K[k + K_B + 3] = seg.dst3;
    K[k + K_A_PORT] = seg.srcPort;
    K[k + K_B_PORT] = seg.dstPort;
    K[k + K_VERSION] = seg.ipVersion;
    K[k + K_HASH] = hash;
    this.link(slot);
    const flags = seg.flags;
    if ((flags & (SYN | ACK)) === SYN) {
      S[c + C_CLIENT_IS_A] = 1;
      S[c + C_ROLES] = ROLES_SYN;
    } else if ((flags & (SYN | ACK)) === (SYN | ACK)) {
      S[c + C_CLIENT_IS_A] = 0;
      S[c + C_ROLES] = ROLES_SYN_ACK;
    } else {
      // No handshake captured: the lower port is most likely the service, the other ephemeral.
      S[c + C_CLIENT_IS_A] = seg.srcPort > seg.dstPort ? 1 : 0;
      S[c + C_ROLES] = ROLES_PORT;
    }
    S[c + C_FIRST_FRAME] = seg.frameNumber;
    S[c + C_FIRST_SEC] = seg.tsSec;
    S[c + C_FIRST_NSEC] = seg.tsNsec;
    S[c + C_FIRST_T] = this.clock[0]!;
    this.open++;
    return slot;
  }

  private segment(slot: number, fromA: boolean, seg: Segment): void {
    const S = this.slab;
    const t = this.clock[0]!;
    const c = slot * STRIDE;
    const sd = c + (fromA ? DIR_A : DIR_B);
    const rd = c + (fromA ? DIR_B : DIR_A);
    const si = 2 * slot + (fromA ? 0 : 1);
    const ri = 2 * slot + (fromA ? 1 : 0);
    const flags = seg.flags;
    if (S[c + C_PACKETS]! > 0 && t - S[c + C_LAST_T]! > S[c + C_MAX_GAP]!) S[c + C_MAX_GAP] = t - S[c + C_LAST_T]!;
    S[c + C_PACKETS]++;
    S[c + C_LAST_FRAME] = seg.frameNumber;
    S[c + C_LAST_SEC] = seg.tsSec;
    S[c + C_LAST_NSEC] = seg.tsNsec;
    S[c + C_LAST_T] = t;

    // The same packet captured a second time (COPY_SECONDS): a frame of the connection, nothing more.
    const flagsLen = ((seg.ipId + 1) * 256 + flags) * 65536 + seg.payloadLen;
    const windowSum = seg.window * 65536 + seg.checksum;
    for (let r = sd + D_SENT; r <= sd + D_SENT + SENT_RECORD; r += SENT_RECORD) {
      if (
        Math.abs(t - S[r + SENT_T]!) < COPY_SECONDS && S[r + SENT_SEQ] === seg.seq && S[r + SENT_ACK] === seg.ack &&
        S[r + SENT_FLAGS_LEN] === flagsLen && S[r + SENT_WINDOW_SUM] === windowSum
      ) {
        if (this.copies++ === 0) this.firstCopyFrame = seg.frameNumber;
        return;
      }
    }
    const older = sd + D_SENT + SENT_RECORD;
    S[older + SENT_T] = S[sd + D_SENT + SENT_T]!;
    S[older + SENT_SEQ] = S[sd + D_SENT + SENT_SEQ]!;
    S[older + SENT_ACK] = S[sd + D_SENT + SENT_ACK]!;
    S[older + SENT_FLAGS_LEN] = S[sd + D_SENT + SENT_FLAGS_LEN]!;
    S[older + SENT_WINDOW_SUM] = S[sd + D_SENT + SENT_WINDOW_SUM]!;
    S[sd + D_SENT + SENT_T] = t;
    S[sd + D_SENT + SENT_SEQ] = seg.seq;
    S[sd + D_SENT + SENT_ACK] = seg.ack;
    S[sd + D_SENT + SENT_FLAGS_LEN] = flagsLen;
    S[sd + D_SENT + SENT_WINDOW_SUM] = windowSum;

    const senderKnown = S[sd + D_NEXT_SEQ_KNOWN] !== 0;
    const senderNext = S[sd + D_NEXT_SEQ]!;
    let probe = looksLikeKeepalive(seg, S, sd);
    let zeroWindowProbe = false;
    // A keepalive look-alike sent into a closed window is a zero-window probe (keepalive.ts).
    if (probe && S[rd + D_WINDOW] === 0) {
      probe = false;
      zeroWindowProbe = true;
    } else if (!probe && isOneByteZeroWindowProbe(seg, S, sd, rd)) {
      zeroWindowProbe = true;
    }

    // An answer to the receiver's outstanding probe? (The peer's own probe is not one.)
    let answersProbe = false;
    if (S[rd + D_PENDING] !== 0 && !probe && !zeroWindowProbe) {
      const reply = replyTo(seg, S, rd + D_PENDING_SEQ);
      if (reply !== REPLY_NONE) {
        const pending = this.pending[ri] ?? null;
        if (pending !== null) {
          pending.reply = reply === REPLY_ACK ? 'ack' : 'rst';
          pending.replyFrame = seg.frameNumber;
          pending.replyT = t;
          this.pending[ri] = null;
        }
        S[rd + D_PENDING] = 0;
        S[rd + D_FATE] = reply === REPLY_ACK ? FATE_ALIVE : FATE_RESET;
        if (reply === REPLY_ACK) S[rd + D_ACKED]++;
        else {
          S[rd + D_RESET_PROBES]++;
          S[rd + D_RESET_PROBE_FRAME] = S[rd + D_PENDING_FRAME]!;
          S[rd + D_RESET_REPLY_FRAME] = seg.frameNumber;
        }
        answersProbe = reply === REPLY_ACK && seg.payloadLen === 0;
        this.emit(reply === REPLY_ACK ? 'reply-ack' : 'reply-rst', seg.frameNumber, slot, !fromA);
      }
    }

    // Linux's idle clock (rcv_tstamp) restarts on every segment the receiver accepts; probes
    // and zero-window probes lie left of its window and are dropped before that (tcp_sequence).
    if (!probe && !zeroWindowProbe && (flags & RST) === 0) {
      S[rd + D_LAST_ACTIVITY] = t;
      S[rd + D_LAST_WAS_PROBE_ACK] = answersProbe ? 1 : 0;
      S[rd + D_PROBE_ORDINAL] = 0;
      if (S[rd + D_FATE] === FATE_WAITING) S[rd + D_FATE] = FATE_ALIVE;
    }

    if (probe) this.probe(slot, fromA, seg);
    else if (zeroWindowProbe) {
      S[sd + D_ZERO_WINDOW]++;
      this.zeroWindowProbes++;
      this.emit('zero-window-probe', seg.frameNumber, slot, fromA);
    }

    // Application data (not a retransmission) feeds the heartbeat detector.
    if (seg.payloadLen > 0 && !probe && !zeroWindowProbe && (flags & (SYN | RST)) === 0 && (!senderKnown || !seqGt(senderNext, seg.seq))) {
      if (seg.payloadLen > HEARTBEAT_MAX_BYTES) {
        // Bulk data only marks both sides busy: a second bulk segment in a row from the same
        // side changes nothing, and bulk transfers are most segments of a busy connection.
        if (S[sd + D_HAS_BEATS] === BEATS_ON) {
          this.beats.onData(si, ri, seg.payloadLen);
          S[sd + D_HAS_BEATS] = BEATS_AFTER_BULK;
          S[rd + D_HAS_BEATS] = BEATS_ON;
        }
      } else {
        // Tracked from the connection's first small payload on.
        this.beats.onData(si, ri, seg.payloadLen);
        S[sd + D_HAS_BEATS] = BEATS_ON;
        S[rd + D_HAS_BEATS] = BEATS_ON;
      }
    }

    if ((flags & RST) !== 0) {
      // Linux gives up after TCP_KEEPCNT unanswered probes by sending an RST one interval
      // after the last one (tcp_keepalive_timer → tcp_send_active_reset).
      if (S[sd + D_FATE] === FATE_WAITING && S[sd + D_PROBE_ORDINAL]! > 0) {
        S[sd + D_FATE] = FATE_DEAD;
        S[sd + D_GAVE_UP_AFTER] = S[sd + D_PROBE_ORDINAL]!;
        S[sd + D_GAVE_UP_FRAME] = seg.frameNumber;
        // What a TCP_USER_TIMEOUT would have to be to end probing at this tick (inferSettings).
        S[sd + D_GAVE_UP_ELAPSED] = t - S[sd + D_LAST_ACTIVITY]!;
        S[sd + D_GAVE_UP_PROBE_ELAPSED] = S[sd + D_LAST_PROBE_T]! - S[sd + D_LAST_ACTIVITY]!;
        this.timings.add(si, INTERVAL, t - S[sd + D_LAST_PROBE_T]!);
        this.pending[si] = null;
        S[sd + D_PENDING] = 0;
        this.emit('gave-up', seg.frameNumber, slot, fromA);
      }
      this.close(slot, CLOSED_RST);
      return;
    }

    // Sequence state: next expected seq is the highest seq + len (SYN and FIN count one).
    if ((flags & SYN) !== 0) {
      readOptions(seg);
      S[sd + D_SENT_SYN] = 1;
      S[sd + D_SYN_SEQ] = seg.seq;
      S[sd + D_OFFERED_SCALE] = seg.windowScale;
      if ((flags & ACK) !== 0 && S[rd + D_OFFERED_SCALE]! >= 0 && seg.windowScale >= 0) {
        // RFC 7323 §2.2: scaling holds only when both SYNs carried the option.
        S[rd + D_SCALE] = 2 ** Math.min(S[rd + D_OFFERED_SCALE]!, 14);
        S[sd + D_SCALE] = 2 ** Math.min(seg.windowScale, 14);
      }
    }
    // A one-byte zero-window probe's byte is not yet accepted: it does not move SND.NXT as the
    // receiver sees it (Wireshark's rule too).
    const end = seqAdd(seg.seq, seg.payloadLen + ((flags & SYN) !== 0 ? 1 : 0) + ((flags & FIN) !== 0 ? 1 : 0));
    if (!zeroWindowProbe && (!senderKnown || seqGt(end, senderNext))) {
      S[sd + D_NEXT_SEQ] = end;
      S[sd + D_NEXT_SEQ_KNOWN] = 1;
    }
    // The window in a SYN is never scaled (RFC 7323 §2.2).
    S[sd + D_WINDOW] = (flags & SYN) !== 0 ? seg.window : seg.window * S[sd + D_SCALE]!;
    // The peer's acknowledgement is evidence of what this side sends next: it lets a capture
    // that starts mid-connection recognise the first probe.
    if ((flags & ACK) !== 0 && (S[rd + D_NEXT_SEQ_KNOWN] === 0 || seqGt(seg.ack, S[rd + D_NEXT_SEQ]!))) {
      S[rd + D_NEXT_SEQ] = seg.ack;
      S[rd + D_NEXT_SEQ_KNOWN] = 1;
    }
    if ((flags & FIN) !== 0) {
      S[sd + D_SENT_FIN] = 1;
      if (S[rd + D_SENT_FIN] !== 0) this.close(slot, CLOSED_FIN);
    }
  }

  /** A keepalive probe from side A (fromA) or B of the slot. */
  private probe(slot: number, fromA: boolean, seg: Segment): void {
    const S = this.slab;
    const t = this.clock[0]!;
    const sd = slot * STRIDE + (fromA ? DIR_A : DIR_B);
    const si = 2 * slot + (fromA ? 0 : 1);
    const ordinal = ++S[sd + D_PROBE_ORDINAL];
    const last = S[sd + D_LAST_ACTIVITY]!;
    const since = Number.isNaN(last) ? null : t - last;
    // Linux re-arms its timer for the interval after a probe; once answered, the next probe
    // leaves when that timer finds `idle` elapsed since the ACK: max(idle, interval) after it
    // (tcp_keepalive_timer; seen on the ka-many recording). Only other activity shows idle alone.
    if (ordinal === 1 && since !== null) this.timings.add(si, S[sd + D_LAST_WAS_PROBE_ACK] !== 0 ? AFTER_ANSWER : IDLE, since);
    if (ordinal > 1) this.timings.add(si, INTERVAL, t - S[sd + D_LAST_PROBE_T]!);
    S[sd + D_LAST_PROBE_T] = t;
    if (ordinal > S[sd + D_MAX_ORDINAL]!) S[sd + D_MAX_ORDINAL] = ordinal;
    if (seg.payloadLen === 0) S[sd + D_EMPTY]++;
    else S[sd + D_ONE_BYTE]++;
    S[sd + D_PROBES]++;
    S[sd + D_PENDING] = 1;
    S[sd + D_PENDING_SEQ] = seg.seq;
    S[sd + D_PENDING_FRAME] = seg.frameNumber;
    if (this.keepProbes) {
      const record: ProbeRecord = {
        frame: seg.frameNumber,
        tsSec: seg.tsSec,
        tsNsec: seg.tsNsec,
        t,
        fromA,
        seq: seg.seq,
        payloadBytes: seg.payloadLen,
        sinceLastActivity: since,
        ordinal,
        reply: 'none',
        replyFrame: 0,
        replyT: 0,
      };
      (this.probes[slot] ??= new HeadTail<ProbeRecord>()).push(record);
      this.pending[si] = record;
    }
    S[sd + D_FATE] = FATE_WAITING;
    this.keepaliveProbes++;
    this.emit('probe', seg.frameNumber, slot, fromA);
  }

  private emit(kind: KeepaliveEventKind, frame: number, slot: number, fromA: boolean): void {
    const onEvent = this.options.onEvent;
    if (onEvent === undefined) return;
    // Names only: a connection object made once per slot for the events.
    const conn = (this.names[slot] ??= this.connectionOf(slot));
    onEvent({ kind, frame, connection: { client: conn.client, server: conn.server }, from: conn.sideOf(fromA) });
  }

  private close(slot: number, how: number): void {
    const S = this.slab;
    const c = slot * STRIDE;
    if (S[c + C_CLOSED_BY] !== CLOSED_NONE) return;
    S[c + C_CLOSED_BY] = how;
    S[c + C_CLOSE_T] = this.clock[0]!;
    this.closedSlots.push(slot);
    this.closedGens.push(S[c + C_GEN]!);
    if (this.sweepFrom[0] === Number.POSITIVE_INFINITY) this.sweepFrom[0] = S[c + C_CLOSE_T]!;
  }

  /** Finalise closed connections whose grace period has passed. */
  private sweep(): void {
    const t = this.clock[0]!;
    const S = this.slab;
    const slots = this.closedSlots;
    const gens = this.closedGens;
    while (this.closedHead < slots.length) {
      const slot = slots[this.closedHead]!;
      const c = slot * STRIDE;
      // A slot finalised meanwhile (its 4-tuple reused, say) may already hold another connection.
      const current = S[c + C_OPEN] !== 0 && S[c + C_GEN] === gens[this.closedHead];
      if (current && t - S[c + C_CLOSE_T]! <= CLOSE_GRACE_SECONDS) break;
      this.closedHead++;
      if (current) this.finalize(slot);
    }
    // The loop stopped at a current head still in its grace, or at the end of the queue.
    this.sweepFrom[0] = this.closedHead < slots.length ? S[slots[this.closedHead]! * STRIDE + C_CLOSE_T]! : Number.POSITIVE_INFINITY;
    if (this.closedHead > 1024 && this.closedHead * 2 > slots.length) {
      slots.splice(0, this.closedHead);
      gens.splice(0, this.closedHead);
      this.closedHead = 0;
    }
  }

  private finalize(slot: number): void {
    const S = this.slab;
    const c = slot * STRIDE;
    if (S[c + C_OPEN] === 0) return;
    this.sweepFrom[0] = Number.NEGATIVE_INFINITY;
    const conn = this.connectionOf(slot, this.finished);
    this.unlink(slot);
    S[c + C_OPEN] = 0;
    this.probes[slot] = null;
    this.names[slot] = null;
    for (let i = 2 * slot; i <= 2 * slot + 1; i++) {
      this.pending[i] = null;
      this.timings.clear(i);
      this.beats.clear(i);
    }
    this.free.push(slot);
    this.open--;
    const onEvent = this.options.onEvent;
    if (onEvent !== undefined) onEvent({ kind: 'connection-end', frame: conn.lastFrame, connection: { client: conn.client, server: conn.server }, from: 'client' });
    this.options.onConnection(conn);
  }

  /**
   * The slot's connection as a plain object (its probes, samples and heartbeat tracks shared,
   * not copied), in `conn` when given.
   */
  private connectionOf(slot: number, conn = new Connection()): Connection {
    const S = this.slab;
    const K = this.keys;
    const c = slot * STRIDE;
    const k = slot * K_STRIDE;
    conn.ipVersion = K[k + K_VERSION] === 6 ? 6 : 4;
    conn.a0 = K[k + K_A]! >>> 0;
    conn.a1 = K[k + K_A + 1]! >>> 0;
    conn.a2 = K[k + K_A + 2]! >>> 0;
    conn.a3 = K[k + K_A + 3]! >>> 0;
    conn.aPort = K[k + K_A_PORT]!;
    conn.b0 = K[k + K_B]! >>> 0;
    conn.b1 = K[k + K_B + 1]! >>> 0;
    conn.b2 = K[k + K_B + 2]! >>> 0;
    conn.b3 = K[k + K_B + 3]! >>> 0;
    conn.bPort = K[k + K_B_PORT]!;
    conn.clientName = null;
    conn.serverName = null;
    conn.clientIsA = S[c + C_CLIENT_IS_A] !== 0;
    conn.rolesFrom = ROLES[S[c + C_ROLES]!]!;
    conn.firstFrame = S[c + C_FIRST_FRAME]!;
    conn.lastFrame = S[c + C_LAST_FRAME]!;
    conn.firstSec = S[c + C_FIRST_SEC]!;
    conn.firstNsec = S[c + C_FIRST_NSEC]!;
    conn.lastSec = S[c + C_LAST_SEC]!;
    conn.lastNsec = S[c + C_LAST_NSEC]!;
    conn.firstT = S[c + C_FIRST_T]!;
    conn.lastT = S[c + C_LAST_T]!;
    conn.packets = S[c + C_PACKETS]!;
    conn.maxGap = S[c + C_MAX_GAP]!;
    conn.probes = this.probes[slot] ?? NO_PROBES;
    const closedBy = S[c + C_CLOSED_BY];
    conn.closedBy = CLOSED_BY[closedBy!] ?? null;
    conn.closeT = S[c + C_CLOSE_T]!;
    this.fillDirection(conn.dirA, c + DIR_A, 2 * slot);
    this.fillDirection(conn.dirB, c + DIR_B, 2 * slot + 1);
    return conn;
  }

  private fillDirection(dir: Direction, d: number, i: number): void {
    const S = this.slab;
    dir.nextSeq = S[d + D_NEXT_SEQ]!;
    dir.nextSeqKnown = S[d + D_NEXT_SEQ_KNOWN] !== 0;
    dir.window = S[d + D_WINDOW]!;
    dir.lastActivity = S[d + D_LAST_ACTIVITY]!;
    dir.probeOrdinal = S[d + D_PROBE_ORDINAL]!;
    dir.maxOrdinal = S[d + D_MAX_ORDINAL]!;
    dir.fate = S[d + D_FATE]!;
    dir.gaveUpAfter = S[d + D_GAVE_UP_AFTER]!;
    dir.gaveUpFrame = S[d + D_GAVE_UP_FRAME]!;
    dir.gaveUpElapsed = dir.gaveUpAfter > 0 ? S[d + D_GAVE_UP_ELAPSED]! : Number.NaN;
    dir.lastProbeElapsed = dir.gaveUpAfter > 0 ? S[d + D_GAVE_UP_PROBE_ELAPSED]! : Number.NaN;
    dir.zeroWindowProbes = S[d + D_ZERO_WINDOW]!;
    dir.emptyProbes = S[d + D_EMPTY]!;
    dir.oneByteProbes = S[d + D_ONE_BYTE]!;
    dir.probes = S[d + D_PROBES]!;
    dir.ackedProbes = S[d + D_ACKED]!;
    dir.resetProbes = S[d + D_RESET_PROBES]!;
    dir.resetProbeFrame = S[d + D_RESET_PROBE_FRAME]!;
    dir.resetReplyFrame = S[d + D_RESET_REPLY_FRAME]!;
    this.timings.load(i, IDLE, dir.idleSamples);
    this.timings.load(i, AFTER_ANSWER, dir.afterAnswerSamples);
    this.timings.load(i, INTERVAL, dir.intervalSamples);
    dir.beats = this.beats.load(i, dir.beatTrack) ? dir.beatTrack : null;
  }
}

/** Does the segment go from the endpoint at `from` to the one at `to` (word offsets into K)? */
function matches(K: Int32Array, from: number, to: number, fromPort: number, toPort: number, version: number, s: Segment): boolean {
  return (
    fromPort === s.srcPort && toPort === s.dstPort && version === s.ipVersion &&
    K[from + 3] === (s.src3 | 0) && K[to + 3] === (s.dst3 | 0) && K[from + 2] === (s.src2 | 0) && K[to + 2] === (s.dst2 | 0) &&
    K[from + 1] === (s.src1 | 0) && K[to + 1] === (s.dst1 | 0) && K[from] === (s.src0 | 0) && K[to] === (s.dst0 | 0)
  );
}
