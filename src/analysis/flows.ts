/**
 * The connection table: one entry per open TCP connection, keyed by its 4-tuple in either
 * direction, with per-direction sequence state and the keepalive bookkeeping the classifier
 * needs. Entries of closed connections are finalised after a grace period (or when the
 * 4-tuple is reused by a new SYN, or at the end), so memory follows open connections.
 */
import { ACK, FIN, RST, SYN, type Segment } from '../decode/segment.js';
import { formatEndpoint } from '../decode/segment.js';
import { readOptions } from '../decode/tcp.js';
import { BeatTrack, HEARTBEAT_MAX_BYTES, onData } from './heartbeat.js';
import { isOneByteZeroWindowProbe, looksLikeKeepalive, replyTo, REPLY_ACK, REPLY_NONE, type DirectionView } from './keepalive.js';
import type { KeepaliveEvent, KeepaliveEventKind, ReplyKind, Side } from './model.js';
import { HeadTail, SampleRing } from './bounded.js';
import { seqAdd, seqGt } from './seq.js';

/** Segments of a closed connection (its last ACK, a repeated RST) still belong to it for this long. */
const CLOSE_GRACE_SECONDS = 30;

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

export class Direction implements DirectionView {
  nextSeq = 0;
  nextSeqKnown = false;
  window = -1;
  /** Window scale this side offered in its SYN (-1 none). */
  offeredScale = -1;
  /** Shift applied to this side's windows once both SYNs agreed on scaling. */
  shift = 0;
  sentSyn = false;
  synSeq = 0;
  sentFin = false;
  packets = 0;
  /** Relative time this side last received and accepted a segment from its peer (NaN: never seen). */
  lastActivity = Number.NaN;
  /** Was that activity the peer's ACK of this side's own probe? (Linux then waits max(idle, interval).) */
  lastActivityWasProbeAck = false;
  /** Probes sent since that activity. */
  probeOrdinal = 0;
  lastProbeT = 0;
  maxOrdinal = 0;
  pending: ProbeRecord | null = null;
  fate = FATE_NONE;
  /** Unanswered probes before this side gave up with an RST; -1 when not seen. */
  gaveUpAfter = -1;
  gaveUpFrame = 0;
  zeroWindowProbes = 0;
  emptyProbes = 0;
  oneByteProbes = 0;
  probes = 0;
  /** Gaps from other activity (data, ACKs of data, window updates) to the first probe. */
  readonly idleSamples = new SampleRing();
  /** Gaps from the ACK of this side's previous probe to its next probe. */
  readonly afterAnswerSamples = new SampleRing();
  /** Gaps between unanswered probes, and from the last one to the prober's RST. */
  readonly intervalSamples = new SampleRing();
  /** Probes answered by ACK, by RST. */
  ackedProbes = 0;
  resetProbes = 0;
  /** The probe answered by RST and the RST's frame. */
  resetProbeFrame = 0;
  resetReplyFrame = 0;
  /** Candidate application heartbeats sent by this side (made at the connection's first small payload). */
  beats: BeatTrack | null = null;
}

export class Connection {
  readonly dirA = new Direction();
  readonly dirB = new Direction();
  /** Chain of entries sharing a hash bucket. */
  nextInBucket: Connection | null = null;
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
  readonly probes = new HeadTail<ProbeRecord>();
  closedBy: 'fin' | 'rst' | null = null;
  closeT = 0;
  finalized = false;
  private clientName: string | null = null;
  private serverName: string | null = null;

  constructor(
    readonly key: number,
    readonly ipVersion: 4 | 6,
    readonly a0: number,
    readonly a1: number,
    readonly a2: number,
    readonly a3: number,
    readonly aPort: number,
    readonly b0: number,
    readonly b1: number,
    readonly b2: number,
    readonly b3: number,
    readonly bPort: number,
  ) {}

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

function mixEndpoint(w0: number, w1: number, w2: number, w3: number, port: number): number {
  let h = Math.imul(port + 0x9e3779b1, 0x85ebca6b);
  h = Math.imul(h ^ w0, 0xc2b2ae35);
  h = Math.imul(h ^ w1, 0x85ebca6b);
  h = Math.imul(h ^ w2, 0xc2b2ae35);
  h = Math.imul(h ^ w3, 0x85ebca6b);
  return h ^ (h >>> 15);
}

export interface TrackerOptions {
  /** Called once per connection when it is finalised (closed and quiet, reused, or at the end). */
  onConnection: (conn: Connection) => void;
  /** Called as keepalive events happen (live output, frame-by-frame tests). */
  onEvent?: ((event: KeepaliveEvent) => void) | undefined;
}

/** Feeds segments through the connection table and the keepalive classifier. */
export class Tracker {
  private readonly table = new Map<number, Connection>();
  private readonly closedQueue: Connection[] = [];
  private closedHead = 0;
  private baseSec = -1;
  /** Seconds since the first segment, of the segment being added. */
  private now = 0;
  open = 0;
  keepaliveProbes = 0;
  zeroWindowProbes = 0;

  constructor(private readonly options: TrackerOptions) {}

  /** Seconds since the first segment, at the capture's full resolution. */
  relativeTime(sec: number, nsec: number): number {
    return sec - this.baseSec + nsec / 1e9;
  }

  add(seg: Segment): void {
    if (this.baseSec < 0) this.baseSec = seg.tsSec;
    // The time travels in a field, not as an argument: a double passed between functions that
    // are not inlined is boxed, one allocation per packet.
    this.now = this.relativeTime(seg.tsSec, seg.tsNsec);
    this.sweep();
    const key = (mixEndpoint(seg.src0, seg.src1, seg.src2, seg.src3, seg.srcPort) ^ mixEndpoint(seg.dst0, seg.dst1, seg.dst2, seg.dst3, seg.dstPort)) & 0x3fffffff;
    let conn = this.table.get(key) ?? null;
    let fromA = false;
    while (conn !== null) {
      if (matchesA(conn, seg)) {
        fromA = true;
        break;
      }
      if (matchesB(conn, seg)) {
        fromA = false;
        break;
      }
      conn = conn.nextInBucket;
    }
    const flags = seg.flags;
    if (conn !== null && (flags & (SYN | ACK)) === SYN) {
      // A new SYN on a known 4-tuple: the old connection ended (or ended unseen) unless this
      // is the same SYN again.
      const sender = fromA ? conn.dirA : conn.dirB;
      if (conn.closedBy !== null || !sender.sentSyn || sender.synSeq !== seg.seq) {
        this.finalize(conn);
        conn = null;
      }
    }
    if (conn === null) {
      conn = this.create(key, seg, this.now);
      fromA = true;
    }
    this.segment(conn, fromA, seg);
  }

  /** Every connection in the table, in order of first frame. */
  openConnections(): Connection[] {
    const open: Connection[] = [];
    for (const head of this.table.values()) for (let x: Connection | null = head; x !== null; x = x.nextInBucket) open.push(x);
    return open.sort((x, y) => x.firstFrame - y.firstFrame);
  }

  /** Finalise every connection still open (end of capture). */
  finish(): void {
    for (const c of this.openConnections()) this.finalize(c);
  }

  private create(key: number, seg: Segment, t: number): Connection {
    const conn = new Connection(key, seg.ipVersion, seg.src0, seg.src1, seg.src2, seg.src3, seg.srcPort, seg.dst0, seg.dst1, seg.dst2, seg.dst3, seg.dstPort);
    const flags = seg.flags;
    if ((flags & (SYN | ACK)) === SYN) {
      conn.clientIsA = true;
      conn.rolesFrom = 'syn';
    } else if ((flags & (SYN | ACK)) === (SYN | ACK)) {
      conn.clientIsA = false;
      conn.rolesFrom = 'syn-ack';
    } else {
      // No handshake captured: the lower port is most likely the service, the other ephemeral.
      conn.clientIsA = seg.srcPort > seg.dstPort;
      conn.rolesFrom = 'port';
    }
    conn.firstFrame = seg.frameNumber;
    conn.firstSec = seg.tsSec;
    conn.firstNsec = seg.tsNsec;
    conn.firstT = t;
    conn.nextInBucket = this.table.get(key) ?? null;
    this.table.set(key, conn);
    this.open++;
    return conn;
  }

  private segment(conn: Connection, fromA: boolean, seg: Segment): void {
    const t = this.now;
    const sender = fromA ? conn.dirA : conn.dirB;
    const receiver = fromA ? conn.dirB : conn.dirA;
    const flags = seg.flags;
    if (conn.packets > 0 && t - conn.lastT > conn.maxGap) conn.maxGap = t - conn.lastT;
    conn.packets++;
    sender.packets++;
    conn.lastFrame = seg.frameNumber;
    conn.lastSec = seg.tsSec;
    conn.lastNsec = seg.tsNsec;
    conn.lastT = t;

    let probe = looksLikeKeepalive(seg, sender);
    let zeroWindowProbe = false;
    if (probe && receiver.window === 0) {
      probe = false;
      zeroWindowProbe = true;
    } else if (!probe && isOneByteZeroWindowProbe(seg, sender, receiver)) {
      zeroWindowProbe = true;
    }

    // An answer to the receiver's outstanding probe? (The peer's own probe is not one.)
    const pending = receiver.pending;
    let answersProbe = false;
    if (pending !== null && !probe && !zeroWindowProbe) {
      const reply = replyTo(seg, pending.seq);
      if (reply !== REPLY_NONE) {
        pending.reply = reply === REPLY_ACK ? 'ack' : 'rst';
        pending.replyFrame = seg.frameNumber;
        pending.replyT = t;
        receiver.pending = null;
        receiver.fate = reply === REPLY_ACK ? FATE_ALIVE : FATE_RESET;
        if (reply === REPLY_ACK) receiver.ackedProbes++;
        else {
          receiver.resetProbes++;
          receiver.resetProbeFrame = pending.frame;
          receiver.resetReplyFrame = seg.frameNumber;
        }
        answersProbe = reply === REPLY_ACK && seg.payloadLen === 0;
        this.emit(reply === REPLY_ACK ? 'reply-ack' : 'reply-rst', seg.frameNumber, conn, !fromA);
      }
    }

    // Linux's idle clock (rcv_tstamp) restarts on every segment the receiver accepts; probes
    // and zero-window probes lie left of its window and are dropped before that (tcp_sequence).
    if (!probe && !zeroWindowProbe && (flags & RST) === 0) {
      receiver.lastActivity = t;
      receiver.lastActivityWasProbeAck = answersProbe;
      receiver.probeOrdinal = 0;
      if (receiver.fate === FATE_WAITING) receiver.fate = FATE_ALIVE;
    }

    if (probe) {
      const ordinal = ++sender.probeOrdinal;
      const since = Number.isNaN(sender.lastActivity) ? null : t - sender.lastActivity;
      // Linux re-arms its timer for the interval after a probe; once answered, the next probe
      // leaves when that timer finds `idle` elapsed since the ACK: max(idle, interval) after it
      // (tcp_keepalive_timer; seen on the ka-many recording). Only other activity shows idle alone.
      if (ordinal === 1 && since !== null) (sender.lastActivityWasProbeAck ? sender.afterAnswerSamples : sender.idleSamples).push(since);
      if (ordinal > 1) sender.intervalSamples.push(t - sender.lastProbeT);
      sender.lastProbeT = t;
      if (ordinal > sender.maxOrdinal) sender.maxOrdinal = ordinal;
      if (seg.payloadLen === 0) sender.emptyProbes++;
      else sender.oneByteProbes++;
      sender.probes++;
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
      conn.probes.push(record);
      sender.pending = record;
      sender.fate = FATE_WAITING;
      this.keepaliveProbes++;
      this.emit('probe', seg.frameNumber, conn, fromA);
    } else if (zeroWindowProbe) {
      sender.zeroWindowProbes++;
      this.zeroWindowProbes++;
      this.emit('zero-window-probe', seg.frameNumber, conn, fromA);
    }

    // Application data (not a retransmission) feeds the heartbeat detector.
    if (seg.payloadLen > 0 && !probe && !zeroWindowProbe && (flags & (SYN | RST)) === 0 && (!sender.nextSeqKnown || !seqGt(sender.nextSeq, seg.seq))) {
      if (sender.beats === null && seg.payloadLen <= HEARTBEAT_MAX_BYTES) {
        sender.beats = new BeatTrack();
        receiver.beats = new BeatTrack();
      }
      if (sender.beats !== null) onData(sender.beats, receiver.beats!, t, seg.payloadLen);
    }

    if ((flags & RST) !== 0) {
      // Linux gives up after TCP_KEEPCNT unanswered probes by sending an RST one interval
      // after the last one (tcp_keepalive_timer → tcp_send_active_reset).
      if (sender.fate === FATE_WAITING && sender.probeOrdinal > 0) {
        sender.fate = FATE_DEAD;
        sender.gaveUpAfter = sender.probeOrdinal;
        sender.gaveUpFrame = seg.frameNumber;
        sender.intervalSamples.push(t - sender.lastProbeT);
        sender.pending = null;
        this.emit('gave-up', seg.frameNumber, conn, fromA);
      }
      this.close(conn, 'rst', t);
      return;
    }

    // Sequence state: next expected seq is the highest seq + len (SYN and FIN count one).
    if ((flags & SYN) !== 0) {
      readOptions(seg);
      sender.sentSyn = true;
      sender.synSeq = seg.seq;
      sender.offeredScale = seg.windowScale;
      if ((flags & ACK) !== 0 && receiver.offeredScale >= 0 && sender.offeredScale >= 0) {
        // RFC 7323 §2.2: scaling holds only when both SYNs carried the option.
        receiver.shift = Math.min(receiver.offeredScale, 14);
        sender.shift = Math.min(sender.offeredScale, 14);
      }
    }
    // A one-byte zero-window probe's byte is not yet accepted: it does not move SND.NXT as the
    // receiver sees it (Wireshark's rule too).
    const end = seqAdd(seg.seq, seg.payloadLen + ((flags & SYN) !== 0 ? 1 : 0) + ((flags & FIN) !== 0 ? 1 : 0));
    if (!zeroWindowProbe && (!sender.nextSeqKnown || seqGt(end, sender.nextSeq))) {
      sender.nextSeq = end;
      sender.nextSeqKnown = true;
    }
    // The window in a SYN is never scaled (RFC 7323 §2.2).
    sender.window = (flags & SYN) !== 0 ? seg.window : seg.window * 2 ** sender.shift;
    // The peer's acknowledgement is evidence of what this side sends next: it lets a capture
    // that starts mid-connection recognise the first probe.
    if ((flags & ACK) !== 0 && (!receiver.nextSeqKnown || seqGt(seg.ack, receiver.nextSeq))) {
      receiver.nextSeq = seg.ack;
      receiver.nextSeqKnown = true;
    }
    if ((flags & FIN) !== 0) {
      sender.sentFin = true;
      if (receiver.sentFin) this.close(conn, 'fin', t);
    }
  }

  private emit(kind: KeepaliveEventKind, frame: number, conn: Connection, fromA: boolean): void {
    this.options.onEvent?.({ kind, frame, connection: { client: conn.client, server: conn.server }, from: conn.sideOf(fromA) });
  }

  private close(conn: Connection, how: 'fin' | 'rst', t: number): void {
    if (conn.closedBy !== null) return;
    conn.closedBy = how;
    conn.closeT = t;
    this.closedQueue.push(conn);
  }

  /** Finalise closed connections whose grace period has passed. */
  private sweep(): void {
    const t = this.now;
    const q = this.closedQueue;
    while (this.closedHead < q.length) {
      const conn = q[this.closedHead]!;
      if (!conn.finalized && t - conn.closeT <= CLOSE_GRACE_SECONDS) break;
      this.closedHead++;
      if (!conn.finalized) this.finalize(conn);
    }
    if (this.closedHead > 1024 && this.closedHead * 2 > q.length) {
      q.splice(0, this.closedHead);
      this.closedHead = 0;
    }
  }

  private finalize(conn: Connection): void {
    if (conn.finalized) return;
    conn.finalized = true;
    // Unlink from its bucket.
    const head = this.table.get(conn.key) ?? null;
    if (head === conn) {
      if (conn.nextInBucket === null) this.table.delete(conn.key);
      else this.table.set(conn.key, conn.nextInBucket);
    } else {
      for (let x = head; x !== null; x = x.nextInBucket) {
        if (x.nextInBucket === conn) {
          x.nextInBucket = conn.nextInBucket;
          break;
        }
      }
    }
    conn.nextInBucket = null;
    this.open--;
    this.emit('connection-end', conn.lastFrame, conn, conn.clientIsA);
    this.options.onConnection(conn);
  }
}

function matchesA(c: Connection, s: Segment): boolean {
  return (
    c.aPort === s.srcPort && c.bPort === s.dstPort && c.ipVersion === s.ipVersion &&
    c.a3 === s.src3 && c.b3 === s.dst3 && c.a2 === s.src2 && c.b2 === s.dst2 &&
    c.a1 === s.src1 && c.b1 === s.dst1 && c.a0 === s.src0 && c.b0 === s.dst0
  );
}

function matchesB(c: Connection, s: Segment): boolean {
  return (
    c.bPort === s.srcPort && c.aPort === s.dstPort && c.ipVersion === s.ipVersion &&
    c.b3 === s.src3 && c.a3 === s.dst3 && c.b2 === s.src2 && c.a2 === s.dst2 &&
    c.b1 === s.src1 && c.a1 === s.dst1 && c.b0 === s.src0 && c.a0 === s.dst0
  );
}
