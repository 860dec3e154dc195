/**
 * The demos' clock: a conversation whose segments leave in time order whatever order the
 * scenario schedules them in, two ends whose kernels answer as real ones do, and keepalive
 * timers that run as Linux's tcp_keepalive_timer runs. The capture is taken at the client, as
 * tcpdump on the client host would take it: the server's segments are seen when they arrive.
 */
import type { Side } from '../analysis/model.js';
import type { Conversation } from '../synth/conversation.js';

/** The three knobs (primer: "The three knobs"). */
export interface KeepaliveKnobs {
  /** Seconds without receiving anything before the first probe (TCP_KEEPIDLE, KeepAliveTime). */
  idle: number;
  /** Seconds between unanswered probes (TCP_KEEPINTVL, KeepAliveInterval). */
  interval: number;
  /** Unanswered probes before giving up (TCP_KEEPCNT; 10 on Windows since Vista). */
  count: number;
  /** Linux TCP_USER_TIMEOUT in seconds: when set, it decides when to give up, not `count`. */
  userTimeout?: number;
}

/** What became of an end: its kernel answers (up), it vanished (gone: power, cable, a NAT that forgot the mapping), or it rebooted and lost every connection. */
export type PeerState = 'up' | 'gone' | 'rebooted';

/** Deterministic noise (mulberry32): the same scenario gives the same bytes every time. */
export class Noise {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
}

/** Microsecond resolution, as the pcap files store it: no drift between what we plan and what is written. */
function us(t: number): number {
  return Math.round(t * 1e6) / 1e6;
}

interface Queued {
  t: number;
  n: number;
  run: () => void;
}

export interface WireOptions {
  /** Round-trip time between the ends (s), split evenly each way. */
  rtt: number;
  /** Spread of each one-way delay (s), so no two RTTs are quite alike. */
  rttJitter?: number;
  /** How late a kernel timer fires (s): Linux timers go off a few milliseconds after their time. */
  timerSlack: [number, number];
  seed: number;
}

/** What a segment is to the receiving kernel's idle clock. */
type Kind = 'probe' | 'zero-window-probe' | 'segment' | 'rst';

export class Wire {
  private readonly queue: Queued[] = [];
  private n = 0;
  readonly noise: Noise;
  readonly timers: Partial<Record<Side, KeepaliveTimer>> = {};
  private readonly states: { t: number; side: Side; state: PeerState }[] = [];
  closed = false;

  constructor(
    readonly conv: Conversation,
    readonly options: WireOptions,
  ) {
    this.noise = new Noise(options.seed);
  }

  /** One-way delay between the capture point (the client) and `side`. */
  private oneWay(side: Side): number {
    if (side === 'client') return 0;
    const j = this.options.rttJitter ?? 0;
    return this.options.rtt / 2 + (j > 0 ? this.noise.between(-j, j) : 0);
  }

  /** How long a kernel takes to answer a segment it just received (tens of microseconds). */
  turnaround(): number {
    return this.noise.between(0.000018, 0.000065);
  }

  slack(): number {
    const [lo, hi] = this.options.timerSlack;
    return this.noise.between(lo, hi);
  }

  /** From time t on, `side` is in `state`. */
  setState(side: Side, t: number, state: PeerState): this {
    this.states.push({ t, side, state });
    this.states.sort((a, b) => a.t - b.t);
    return this;
  }

  stateAt(side: Side, t: number): PeerState {
    let s: PeerState = 'up';
    for (const x of this.states) if (x.side === side && x.t <= t) s = x.state;
    return s;
  }

  /** Run `what` at capture time t (seconds since the first segment). */
  at(t: number, run: () => void): void {
    const q: Queued = { t: us(t), n: this.n++, run };
    let i = this.queue.length;
    while (i > 0 && (this.queue[i - 1]!.t > q.t || (this.queue[i - 1]!.t === q.t && this.queue[i - 1]!.n > q.n))) i--;
    this.queue.splice(i, 0, q);
  }

  /** Run what is scheduled up to time `until`, or until `stop` says so after an event. */
  run(until = Infinity, stop?: () => boolean): void {
    while (this.queue.length > 0 && this.queue[0]!.t <= until) {
      this.queue.shift()!.run();
      if (stop?.()) return;
    }
  }

  /** Time of the last segment written. */
  get now(): number {
    return this.conv.now;
  }

  private dt(t: number): number {
    return Math.max(0, t - this.conv.now);
  }

  /**
   * A segment from `from` seen at capture time t (`send` writes it). What the receiving kernel
   * does with it follows: a segment it accepts restarts its idle clock (and an ACK clears its
   * unanswered-probe count); a keepalive probe lies left of its window and is answered with an
   * ACK, or with an RST by a host that rebooted; nothing reaches a host that is gone.
   */
  segment(from: Side, t: number, kind: Kind, send: (dt: number) => void): void {
    this.at(t, () => {
      if (this.closed) return;
      send(this.dt(t));
      // An RST ends the connection at both ends, whether or not it arrives.
      if (kind === 'rst') this.closed = true;
      const to: Side = from === 'client' ? 'server' : 'client';
      // The capture is at the client: what the server sends and is captured has arrived.
      const arrives = t + (to === 'server' ? this.oneWay('server') : 0);
      const state = this.stateAt(to, arrives);
      if (state === 'gone') return;
      if (state === 'rebooted') {
        if (kind !== 'rst') this.segment(to, arrives + this.turnaround() + this.oneWay(to), 'rst', (dt) => this.conv.resetAsStranger(to === 'client', dt));
        return;
      }
      if (kind === 'rst') return;
      const timer = this.timers[to];
      if (kind === 'segment') timer?.received(arrives);
      if (kind === 'probe' || kind === 'zero-window-probe') {
        // RFC 9293 §3.10.7.4: an unacceptable segment is answered with an ACK (and dropped).
        this.segment(to, arrives + this.turnaround() + this.oneWay(to), 'segment', (dt) => this.conv.ack(to === 'client', dt));
      }
    });
  }

  /** Data from `side` seen at capture time t (the peer's ACK is the scenario's to send, or rides on its data). */
  send(side: Side, t: number, payload: Uint8Array | number): void {
    this.segment(side, t, 'segment', (dt) => this.conv.send(side === 'client', payload, dt));
  }

  /** A pure ACK from `side` at capture time t; `window` (unscaled) becomes its window from now on. */
  ack(side: Side, t: number, window?: number): void {
    this.segment(side, t, 'segment', (dt) => this.conv.ack(side === 'client', dt, window));
  }

  /** FIN from `side` at capture time t. */
  fin(side: Side, t: number): void {
    this.segment(side, t, 'segment', (dt) => this.conv.fin(side === 'client', dt));
  }

  /**
   * The three-way handshake starting at t, as the client's capture sees it: the SYN-ACK one
   * RTT after the SYN, the client's ACK right after. Returns when the client sent its ACK.
   */
  handshake(t: number): number {
    this.segment('client', t, 'segment', (dt) => this.conv.syn(dt));
    const synAck = this.sentAt('server', this.reaches('server', t) + this.turnaround());
    this.segment('server', synAck, 'segment', (dt) => this.conv.synAck(dt));
    const ack = synAck + this.turnaround();
    this.ack('client', ack);
    return ack;
  }

  /**
   * A request from `side` and the peer's response one RTT (and `think` seconds) later, which
   * carries the ACK of the request; the requester's ACK of the response follows after `ackDelay`
   * (Linux acknowledges at once early in a connection, or after its 40 ms delayed-ACK timer).
   * Returns the time of that last ACK.
   */
  exchange(side: Side, t: number, request: Uint8Array, response: Uint8Array, think: number, ackDelay: number): number {
    const peer: Side = side === 'client' ? 'server' : 'client';
    this.send(side, t, request);
    const answered = peer === 'server' ? this.sentAt('server', this.reaches('server', t) + think) : t + think;
    this.send(peer, answered, response);
    const acked = (side === 'server' ? this.sentAt('server', this.reaches('server', answered) + ackDelay) : answered + ackDelay);
    this.ack(side, acked);
    return acked;
  }

  /** Capture time of a segment `side` sends at its own time t. */
  sentAt(side: Side, t: number): number {
    return t + this.oneWay(side);
  }

  /** Capture time a segment captured at t reaches `side`. */
  reaches(side: Side, t: number): number {
    return t + this.oneWay(side);
  }

  /** Start `side`'s keepalive timer at time t (its own clock: SO_KEEPALIVE set then). */
  keepalive(side: Side, t: number, knobs: KeepaliveKnobs, style: { garbageOctet?: boolean } = {}): KeepaliveTimer {
    const timer = new KeepaliveTimer(this, side, knobs, style.garbageOctet ?? false);
    this.timers[side] = timer;
    timer.arm(t, knobs.idle);
    return timer;
  }
}

/**
 * Linux's keepalive timer (net/ipv4/tcp_timer.c, tcp_keepalive_timer), in the end's own time:
 * when it fires it compares the time since the last segment received (rcv_tstamp) with the
 * idle time. Not yet idle long enough: re-arm for the rest. Idle, and `count` probes already
 * unanswered (with TCP_USER_TIMEOUT set instead: that long since the last segment received, and
 * a probe out): give up with an RST. Otherwise: send a probe and re-arm for the interval. An
 * ACK clears the unanswered count and restarts the idle clock, so after an answered probe the
 * next one leaves max(idle, interval) after that ACK. Windows' timer behaves the same way for
 * the scenarios shown here (unanswered probes `interval` apart, then a reset).
 */
export class KeepaliveTimer {
  /** Own time the last segment was received and accepted. */
  lastReceived = 0;
  probesOut = 0;
  probes = 0;
  answered = 0;
  stopped = false;
  gaveUp = false;
  private due = 0;

  constructor(
    private readonly wire: Wire,
    readonly side: Side,
    readonly knobs: KeepaliveKnobs,
    private readonly garbageOctet: boolean,
  ) {}

  received(t: number): void {
    this.lastReceived = Math.max(this.lastReceived, t);
    if (this.probesOut > 0) this.answered++;
    this.probesOut = 0;
  }

  /** Set the timer `after` seconds from own time t; it fires a little late, as kernel timers do. */
  arm(t: number, after: number): void {
    const due = t + after + this.wire.slack();
    this.due = due;
    const seen = this.wire.sentAt(this.side, due);
    this.wire.at(seen, () => this.fire(due, seen));
  }

  stop(): void {
    this.stopped = true;
  }

  /** Fired at own time t; what it sends is captured at `seen`. */
  private fire(t: number, seen: number): void {
    if (this.stopped || this.wire.closed || t !== this.due) return;
    const elapsed = t - this.lastReceived;
    if (elapsed < this.knobs.idle) {
      this.arm(t, this.knobs.idle - elapsed);
      return;
    }
    const fromClient = this.side === 'client';
    const userTimeout = this.knobs.userTimeout;
    if (userTimeout !== undefined ? elapsed >= userTimeout && this.probesOut > 0 : this.probesOut >= this.knobs.count) {
      // tcp_keepalive_timer → tcp_send_active_reset; the application then sees ETIMEDOUT.
      this.gaveUp = true;
      this.wire.segment(this.side, seen, 'rst', (dt) => this.wire.conv.rst(fromClient, dt));
      return;
    }
    this.probes++;
    this.probesOut++;
    this.wire.segment(this.side, seen, 'probe', (dt) => this.wire.conv.keepaliveProbe(fromClient, dt, this.garbageOctet));
    this.arm(t, this.knobs.interval);
  }
}
