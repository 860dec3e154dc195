/**
 * Application heartbeats: small payloads recurring at a regular period while the connection is
 * otherwise idle (PING/PONG, an empty frame, MQTT PINGREQ, HTTP/2 PING…), one way or as
 * request and reply. Kept per direction in fixed-size rings: memory does not grow with beats.
 */
import { medianOf } from './bounded.js';
import type { Side } from './model.js';

/** Largest payload taken for a heartbeat (a TLS-wrapped PING is well below it; bulk is not). */
export const HEARTBEAT_MAX_BYTES = 256;
/** Shortest period taken for a heartbeat: faster recurring small segments are chatter, not beats. */
const MIN_PERIOD_SECONDS = 0.5;
/** Beats needed before a heartbeat is claimed. */
const MIN_BEATS = 4;
/** Largest relative spread (median absolute deviation over median) of a heartbeat's gaps. */
const MAX_JITTER = 0.15;
/** Share of gaps that must be free of other data for the connection to count as otherwise idle. */
const MIN_QUIET_SHARE = 0.75;
const RING = 64;

export interface Heartbeat {
  /** Seconds between beats (median). */
  period: number;
  /** Median absolute deviation of the gaps, relative to the period (0.02 = 2 %). */
  jitter: number;
  from: Side;
  /** Median payload bytes of a beat. */
  requestBytes: number;
  /** Median payload bytes of the peer's reply, null when beats go unanswered (one-way). */
  replyBytes: number | null;
  /** Beats seen. */
  count: number;
}

/** Keep x as the n-th value (from 0) of a ring of the RING most recent; the array is made at the first. */
function keep(ring: number[] | null, n: number, x: number): number[] {
  const r = ring ?? [];
  if (r.length < RING) r.push(x);
  else r[n % RING] = x;
  return r;
}

/**
 * One direction's candidate beats. The rings are plain arrays made at their first value: most
 * connections carry a few small payloads and no heartbeat, and every object kept per open
 * connection is work for the garbage collector.
 */
export class BeatTrack {
  count = 0;
  lastT = Number.NaN;
  /** The last RING gaps between beats, beat sizes and reply sizes. */
  private gaps: number[] | null = null;
  private sizes: number[] | null = null;
  private replySizes: number[] | null = null;
  replies = 0;
  quietGaps = 0;
  gapsSeen = 0;
  /** Other data has passed (either way) since this side's last beat. */
  busySinceLast = false;
  /** This side's last beat is waiting for a reply. */
  awaitingReply = false;

  beat(clock: Clock, bytes: number): void {
    const t = clock[0]!;
    if (this.count > 0) {
      this.gaps = keep(this.gaps, this.gapsSeen, t - this.lastT);
      this.gapsSeen++;
      if (!this.busySinceLast) this.quietGaps++;
    }
    this.sizes = keep(this.sizes, this.count, bytes);
    this.count++;
    this.lastT = t;
    this.busySinceLast = false;
    this.awaitingReply = true;
  }

  reply(bytes: number): void {
    this.replySizes = keep(this.replySizes, this.replies, bytes);
    this.replies++;
    this.awaitingReply = false;
  }

  /** The heartbeat this side shows, or null. */
  summary(from: Side): Heartbeat | null {
    if (this.count < MIN_BEATS) return null;
    const gaps = this.gaps ?? [];
    const period = medianOf(gaps);
    if (period < MIN_PERIOD_SECONDS) return null;
    const jitter = medianOf(gaps.map((g) => Math.abs(g - period))) / period;
    if (jitter > MAX_JITTER) return null;
    if (this.quietGaps < MIN_QUIET_SHARE * this.gapsSeen) return null;
    const answered = this.replies >= 0.75 * this.count;
    return {
      period: Math.round(period * 1e6) / 1e6,
      jitter: Math.round(jitter * 1e4) / 1e4,
      from,
      requestBytes: medianOf(this.sizes ?? []),
      replyBytes: answered ? medianOf(this.replySizes ?? []) : null,
      count: this.count,
    };
  }
}

/** Seconds within which the peer's small payload counts as the reply to a beat. */
export const REPLY_WINDOW_SECONDS = 1;

/**
 * The time of the segment being fed, in seconds, in `clock[0]`: read from a typed array rather
 * than passed, since a double handed to a function the compiler does not inline is boxed, an
 * allocation per packet.
 */
export type Clock = Float64Array;

/**
 * Feed one data segment (not a keepalive probe) of `bytes` from the side whose track is `mine`
 * (the peer's is `theirs`) at `clock[0]`.
 */
export function onData(mine: BeatTrack, theirs: BeatTrack, clock: Clock, bytes: number): void {
  const t = clock[0]!;
  const small = bytes <= HEARTBEAT_MAX_BYTES;
  if (small && theirs.awaitingReply && t - theirs.lastT <= REPLY_WINDOW_SECONDS) {
    // The answer to the peer's beat: not a beat of its own, and not "other data" either.
    theirs.reply(bytes);
    return;
  }
  if (small) {
    // Small payloads never make the other side "busy": both ends may beat on their own.
    mine.beat(clock, bytes);
    return;
  }
  mine.busySinceLast = true;
  theirs.busySinceLast = true;
  mine.awaitingReply = false;
}

/** The connection's heartbeat: the side with the more regular beats, if either has one. */
export function heartbeatOf(client: BeatTrack | null, server: BeatTrack | null): Heartbeat | null {
  const a = client?.summary('client') ?? null;
  const b = server?.summary('server') ?? null;
  if (a && b) return a.count >= b.count ? a : b;
  return a ?? b;
}
