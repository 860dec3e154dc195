/**
 * Application heartbeats: small payloads recurring at a regular period while the connection is
 * otherwise idle (PING/PONG, an empty frame, MQTT PINGREQ, HTTP/2 PING…), one way or as
 * request and reply. Kept per direction in fixed-size rings inside one slab of doubles: memory
 * does not grow with beats, nor with data packets (a direction costs the same with 5 small
 * payloads or 5 million).
 * (the time of each segment is read from the tracker's clock, a typed array: a double passed to
 * a call the compiler does not inline is boxed, an allocation per packet.)
 */
import { SampleRing } from './bounded.js';
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
/**
 * Recent values kept per ring: medians are taken over the last RING gaps, beat sizes and reply
 * sizes. Eight is plenty for a median and its spread (a regular heartbeat needs MIN_BEATS), and
 * small enough to sit in the slab with every direction's counters, whatever the capture's length.
 */
const RING = 8;

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

/**
 * One direction's beats as the report reads them (filled at the end, only for a side with enough
 * beats to claim a heartbeat; the finished connection's tracks are reused): counts and the last
 * RING gaps, beat sizes and reply sizes.
 */
export class BeatTrack {
  count = 0;
  replies = 0;
  quietGaps = 0;
  gapsSeen = 0;
  readonly gaps = new SampleRing(RING);
  readonly sizes = new SampleRing(RING);
  readonly replySizes = new SampleRing(RING);

  /** The heartbeat this side shows, or null. */
  summary(from: Side): Heartbeat | null {
    if (this.count < MIN_BEATS) return null;
    const period = this.gaps.median();
    if (period < MIN_PERIOD_SECONDS) return null;
    const jitter = this.gaps.medianDistance(period) / period;
    if (jitter > MAX_JITTER) return null;
    if (this.quietGaps < MIN_QUIET_SHARE * this.gapsSeen) return null;
    const answered = this.replies >= 0.75 * this.count;
    return {
      period: Math.round(period * 1e6) / 1e6,
      jitter: Math.round(jitter * 1e4) / 1e4,
      from,
      requestBytes: this.sizes.median(),
      replyBytes: answered ? this.replySizes.median() : null,
      count: this.count,
    };
  }
}

/** Seconds within which the peer's small payload counts as the reply to a beat. */
export const REPLY_WINDOW_SECONDS = 1;

// One direction's record in BeatTable's slab.
const B_COUNT = 0;
const B_LAST_T = 1;
const B_REPLIES = 2;
const B_QUIET = 3;
const B_GAPS_SEEN = 4;
/** Other data has passed (either way) since this side's last beat. */
const B_BUSY = 5;
/** This side's last beat is waiting for a reply. */
const B_AWAITING = 6;
/** Each ring's RING values: the n-th value pushed (from 0) sits at n % RING. */
const B_GAPS = 8;
const B_SIZES = B_GAPS + RING;
const B_REPLY_SIZES = B_SIZES + RING;
const B_STRIDE = B_REPLY_SIZES + RING;

/**
 * Keep x as the n-th value (from 0) of the ring at S[at…at + RING). RING is a power of two: the
 * mask is n % RING for any count a double holds exactly, without the floating-point remainder
 * that `%` is on a count read from the slab (a library call, on every small payload).
 */
function keep(S: Float64Array, at: number, n: number, x: number): void {
  S[at + (n & (RING - 1))] = x;
}

/** Fill `into` with the ring at S[at…) that got n values (slot order: medians do not depend on it). */
function loadRing(S: Float64Array, at: number, n: number, into: SampleRing): void {
  into.clear();
  for (let i = 0; i < n && i < RING; i++) into.push(S[at + i]!);
  into.count = n;
}

/**
 * Candidate heartbeats of every direction the connection table tracks, by direction number
 * (the tracker's slot × 2 + side). Counts, times and the rings live in one slab of doubles: no
 * object per connection, and the same bytes per direction however many payloads it carries.
 */
export class BeatTable {
  private slab = new Float64Array(0);
  private capacity = 0;

  /** `clock[0]` is the time of the segment being fed, in seconds. */
  constructor(private readonly clock: Float64Array) {}

  /** Room for `directions` directions (kept as they are). */
  grow(directions: number): void {
    if (directions <= this.capacity) return;
    const slab = new Float64Array(directions * B_STRIDE);
    slab.set(this.slab);
    this.slab = slab;
    this.capacity = directions;
  }

  /** Forget direction `d` (its connection ended; the number will be reused). */
  clear(d: number): void {
    this.slab.fill(0, d * B_STRIDE, (d + 1) * B_STRIDE);
  }

  /**
   * Feed one data segment (not a keepalive probe) of `bytes` from direction `mine` (its peer
   * is `theirs`) at `clock[0]`.
   */
  onData(mine: number, theirs: number, bytes: number): void {
    const S = this.slab;
    const t = this.clock[0]!;
    const m = mine * B_STRIDE;
    const p = theirs * B_STRIDE;
    const small = bytes <= HEARTBEAT_MAX_BYTES;
    if (small && S[p + B_AWAITING] !== 0 && t - S[p + B_LAST_T]! <= REPLY_WINDOW_SECONDS) {
      // The answer to the peer's beat: not a beat of its own, and not "other data" either.
      keep(S, p + B_REPLY_SIZES, S[p + B_REPLIES]!, bytes);
      S[p + B_REPLIES]++;
      S[p + B_AWAITING] = 0;
      return;
    }
    if (small) {
      // Small payloads never make the other side "busy": both ends may beat on their own.
      if (S[m + B_COUNT]! > 0) {
        keep(S, m + B_GAPS, S[m + B_GAPS_SEEN]!, t - S[m + B_LAST_T]!);
        S[m + B_GAPS_SEEN]++;
        if (S[m + B_BUSY] === 0) S[m + B_QUIET]++;
      }
      keep(S, m + B_SIZES, S[m + B_COUNT]!, bytes);
      S[m + B_COUNT]++;
      S[m + B_LAST_T] = t;
      S[m + B_BUSY] = 0;
      S[m + B_AWAITING] = 1;
      return;
    }
    S[m + B_BUSY] = 1;
    S[p + B_BUSY] = 1;
    S[m + B_AWAITING] = 0;
  }

  /** Fill `into` with direction d's beats for the report; false (and `into` untouched) when too few to claim a heartbeat. */
  load(d: number, into: BeatTrack): boolean {
    const S = this.slab;
    const b = d * B_STRIDE;
    const count = S[b + B_COUNT]!;
    if (count < MIN_BEATS) return false;
    into.count = count;
    into.replies = S[b + B_REPLIES]!;
    into.quietGaps = S[b + B_QUIET]!;
    into.gapsSeen = S[b + B_GAPS_SEEN]!;
    loadRing(S, b + B_GAPS, into.gapsSeen, into.gaps);
    loadRing(S, b + B_SIZES, count, into.sizes);
    loadRing(S, b + B_REPLY_SIZES, into.replies, into.replySizes);
    return true;
  }
}

/** The connection's heartbeat: the side with the more regular beats, if either has one. */
export function heartbeatOf(client: BeatTrack | null, server: BeatTrack | null): Heartbeat | null {
  const a = client?.summary('client') ?? null;
  const b = server?.summary('server') ?? null;
  if (a && b) return a.count >= b.count ? a : b;
  return a ?? b;
}
