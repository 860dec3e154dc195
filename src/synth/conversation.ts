/**
 * A TCP conversation between two endpoints, written segment by segment with the sequence
 * state a real stack would keep, so that keepalive probes, zero-window probes, replies and
 * resets come out exactly as on the wire. The demos and tests use it for scenarios no machine
 * here can record (a Windows prober, a 2^32 wrap at a chosen moment).
 */
import { ACK, FIN, PSH, RST, SYN } from '../decode/segment.js';
import { ipPacket } from './packet.js';

export interface ConversationFrame {
  ip: Uint8Array;
  /** Seconds since the epoch, whole and nano. */
  tsSec: number;
  tsNsec: number;
  fromClient: boolean;
}

interface End {
  addr: string;
  port: number;
  ttl: number;
  /** IP ID of the next segment; null: 0 on every segment. */
  ipId: number | null;
  synWindow: number;
  /** TSval clock rate (Hz), or null: TSval grows by the milliseconds between segments. */
  tsClockHz: number | null;
  tsStart: number;
  /** Next sequence number this end sends (SND.NXT). */
  sndNxt: number;
  /** Next sequence number this end expects (RCV.NXT). */
  rcvNxt: number;
  window: number;
  windowScale: number;
  tsVal: number;
}

/** What one end's stack puts in its headers; every field has the old default. */
export interface EndStack {
  /** IP TTL or hop limit: Linux and macOS 64, Windows 128. Default 64. */
  ttl?: number;
  /** Window scale offered in the SYN (RFC 7323). Default 7. */
  windowScale?: number;
  /** Window field (unscaled) after the handshake. Default 502 (client), 509 (server). */
  window?: number;
  /** Window field of the SYN or SYN-ACK. Default 64240 (client), 65160 (server). */
  synWindow?: number;
  /** IP ID of the first segment, counted up per segment (Linux: per socket; Windows: per host). Default 0 on every segment. */
  ipId?: number;
  /**
   * TSval as a clock ticking this many times a second (Linux: 1000) since `tsVal`. Default: TSval
   * grows by the milliseconds since the previous segment of either end.
   */
  tsClockHz?: number;
  /** TSval of the first segment. Default 1000 (client), 50000 (server). */
  tsVal?: number;
}

export interface ConversationOptions {
  client: string;
  server: string;
  clientPort: number;
  serverPort: number;
  /** Epoch seconds of the first segment. */
  start?: number;
  clientIsn?: number;
  serverIsn?: number;
  /** Round-trip time between the ends (s): replies come this long after what they answer. */
  rtt?: number;
  /** TCP timestamps on every segment (RFC 7323). Default true; Windows does not offer them. */
  timestamps?: boolean;
  clientStack?: EndStack;
  serverStack?: EndStack;
}

function end(addr: string, port: number, isn: number, stack: EndStack, defaults: { window: number; synWindow: number; tsVal: number }): End {
  const tsStart = stack.tsVal ?? defaults.tsVal;
  return {
    addr,
    port,
    ttl: stack.ttl ?? 64,
    ipId: stack.ipId ?? null,
    synWindow: stack.synWindow ?? defaults.synWindow,
    tsClockHz: stack.tsClockHz ?? null,
    tsStart,
    sndNxt: isn >>> 0,
    rcvNxt: 0,
    window: stack.window ?? defaults.window,
    windowScale: stack.windowScale ?? 7,
    tsVal: tsStart,
  };
}

export class Conversation {
  readonly frames: ConversationFrame[] = [];
  /** Seconds since `start` of the last segment. */
  now = 0;
  private readonly start: number;
  private readonly c: End;
  private readonly s: End;
  readonly rtt: number;
  private readonly timestamps: boolean;

  constructor(o: ConversationOptions) {
    this.start = o.start ?? 1_763_800_000;
    this.rtt = o.rtt ?? 0.0002;
    this.timestamps = o.timestamps ?? true;
    this.c = end(o.client, o.clientPort, o.clientIsn ?? 0x1000_0000, o.clientStack ?? {}, { window: 502, synWindow: 64240, tsVal: 1_000 });
    this.s = end(o.server, o.serverPort, o.serverIsn ?? 0x7000_0000, o.serverStack ?? {}, { window: 509, synWindow: 65160, tsVal: 50_000 });
  }

  /** Epoch seconds of `now = 0`. */
  get startTime(): number {
    return this.start;
  }

  private ends(fromClient: boolean): [End, End] {
    return fromClient ? [this.c, this.s] : [this.s, this.c];
  }

  private emit(fromClient: boolean, dt: number, spec: { seq: number; ack?: number; flags: number; payload?: Uint8Array | number; window?: number; syn?: boolean }): void {
    if (!(dt >= 0)) throw new RangeError(`a segment cannot leave before the previous one (dt ${dt})`);
    this.now += dt;
    const [me, peer] = this.ends(fromClient);
    if (me.tsClockHz !== null) me.tsVal = (me.tsStart + Math.floor(this.now * me.tsClockHz)) >>> 0;
    else me.tsVal += Math.max(1, Math.round(dt * 1000));
    const t = this.now;
    const sec = this.start + Math.floor(t);
    const nsec = Math.min(999_999_999, Math.round((t - Math.floor(t)) * 1e9));
    const ip = ipPacket({
      src: me.addr,
      dst: peer.addr,
      srcPort: me.port,
      dstPort: peer.port,
      seq: spec.seq,
      ack: spec.ack ?? 0,
      flags: spec.flags,
      window: spec.window ?? me.window,
      payload: spec.payload,
      // A SYN echoes no timestamp: TSecr is meaningful only with ACK (RFC 7323 §3.2).
      timestamps: !this.timestamps || (spec.flags & RST) !== 0 ? undefined : [me.tsVal, (spec.flags & ACK) !== 0 ? peer.tsVal : 0],
      ttl: me.ttl,
      ...(me.ipId !== null ? { ipId: me.ipId } : {}),
      ...(spec.syn ? { mss: 1460, sackPermitted: true, windowScale: me.windowScale } : {}),
    });
    if (me.ipId !== null) me.ipId = (me.ipId + 1) & 0xffff;
    this.frames.push({ ip, tsSec: sec, tsNsec: nsec, fromClient });
  }

  /**
   * SYN, SYN-ACK, ACK. The gaps default to half an RTT each; a capture taken at the client sees
   * the SYN-ACK one RTT after the SYN and its own ACK right after it.
   */
  handshake(dt = 0, synAckAfter = this.rtt / 2, ackAfter = this.rtt / 2): this {
    return this.syn(dt).synAck(synAckAfter).ack(true, ackAfter);
  }

  /** The client's SYN, with MSS, SACK-permitted, window scale and (when on) timestamps. */
  syn(dt: number): this {
    const c = this.c;
    this.emit(true, dt, { seq: c.sndNxt, flags: SYN, window: c.synWindow, syn: true });
    c.sndNxt = (c.sndNxt + 1) >>> 0;
    this.s.rcvNxt = c.sndNxt;
    return this;
  }

  /** The server's SYN-ACK. */
  synAck(dt: number): this {
    const s = this.s;
    this.emit(false, dt, { seq: s.sndNxt, ack: s.rcvNxt, flags: SYN | ACK, window: s.synWindow, syn: true });
    s.sndNxt = (s.sndNxt + 1) >>> 0;
    this.c.rcvNxt = s.sndNxt;
    return this;
  }

  /** `bytes` of data (that many zeros, or the bytes given) from one side after `dt`, and the peer's ACK one RTT later. */
  data(fromClient: boolean, bytes: number | Uint8Array, dt: number, acked = true): this {
    const [me, peer] = this.ends(fromClient);
    this.emit(fromClient, dt, { seq: me.sndNxt, ack: me.rcvNxt, flags: PSH | ACK, payload: bytes });
    me.sndNxt = (me.sndNxt + (typeof bytes === 'number' ? bytes : bytes.length)) >>> 0;
    if (acked) {
      peer.rcvNxt = me.sndNxt;
      this.emit(!fromClient, this.rtt, { seq: peer.sndNxt, ack: peer.rcvNxt, flags: ACK });
    }
    return this;
  }

  /**
   * A keepalive probe (SND.NXT − 1, no data; or one garbage octet as Windows sends), then the
   * peer's answer: 'ack' (its RCV.NXT), 'rst' (it lost the connection), or 'none'.
   */
  probe(fromClient: boolean, dt: number, answer: 'ack' | 'rst' | 'none', garbageOctet = false): this {
    this.keepaliveProbe(fromClient, dt, garbageOctet);
    if (answer === 'ack') this.ack(!fromClient, this.rtt);
    if (answer === 'rst') this.resetAsStranger(!fromClient, this.rtt);
    return this;
  }

  /** The keepalive probe alone (SND.NXT − 1; no data, or one garbage octet 0x00 as Windows sends). */
  keepaliveProbe(fromClient: boolean, dt: number, garbageOctet = false): this {
    const [me] = this.ends(fromClient);
    this.emit(fromClient, dt, { seq: (me.sndNxt - 1) >>> 0, ack: me.rcvNxt, flags: ACK, payload: garbageOctet ? Uint8Array.of(0) : undefined });
    return this;
  }

  /**
   * Data from one side after `dt`, without the peer's ACK (send it with `ack`, or let the peer's
   * own data carry it). The peer receives it: its RCV.NXT moves on.
   */
  send(fromClient: boolean, payload: number | Uint8Array, dt: number): this {
    const [me, peer] = this.ends(fromClient);
    this.emit(fromClient, dt, { seq: me.sndNxt, ack: me.rcvNxt, flags: PSH | ACK, payload });
    me.sndNxt = (me.sndNxt + (typeof payload === 'number' ? payload : payload.length)) >>> 0;
    peer.rcvNxt = me.sndNxt;
    return this;
  }

  /**
   * A segment with no data and only ACK set, carrying this side's SND.NXT and RCV.NXT: the
   * acknowledgement of data, the answer to a keepalive probe (which lies left of the window,
   * so RFC 9293 §3.10.7.4 has it answered with an ACK), or a window update. `window` (the
   * unscaled field) becomes this side's window from now on.
   */
  ack(fromClient: boolean, dt: number, window?: number): this {
    const [me] = this.ends(fromClient);
    if (window !== undefined) me.window = window;
    this.emit(fromClient, dt, { seq: me.sndNxt, ack: me.rcvNxt, flags: ACK });
    return this;
  }

  /**
   * The RST of a host that no longer has the connection (it rebooted), answering the peer's
   * last segment: a segment carrying ACK is answered by an RST whose sequence number is that
   * ACK (RFC 9293 §3.10.7.1), with no ACK of its own.
   */
  resetAsStranger(fromClient: boolean, dt: number): this {
    const [, peer] = this.ends(fromClient);
    this.emit(fromClient, dt, { seq: peer.rcvNxt, flags: RST });
    return this;
  }

  /** The receiver closes its window: data fills it and the ACK advertises 0. */
  closeWindow(fromClientReceiver: boolean, dt: number): this {
    const [rcv, snd] = this.ends(fromClientReceiver);
    this.emit(!fromClientReceiver, dt, { seq: snd.sndNxt, ack: snd.rcvNxt, flags: PSH | ACK, payload: 1000 });
    snd.sndNxt = (snd.sndNxt + 1000) >>> 0;
    rcv.rcvNxt = snd.sndNxt;
    rcv.window = 0;
    this.emit(fromClientReceiver, this.rtt, { seq: rcv.sndNxt, ack: rcv.rcvNxt, flags: ACK, window: 0 });
    return this;
  }

  /** Linux's zero-window probe from the sender (SND.UNA − 1, no data), answered with window 0. */
  zeroWindowProbe(fromClientSender: boolean, dt: number): this {
    const [snd, rcv] = this.ends(fromClientSender);
    this.emit(fromClientSender, dt, { seq: (snd.sndNxt - 1) >>> 0, ack: snd.rcvNxt, flags: ACK });
    this.emit(!fromClientSender, this.rtt, { seq: rcv.sndNxt, ack: rcv.rcvNxt, flags: ACK, window: 0 });
    return this;
  }

  /** The receiver reads and opens its window again (a window update). */
  openWindow(fromClientReceiver: boolean, dt: number): this {
    const [rcv] = this.ends(fromClientReceiver);
    rcv.window = 509;
    this.emit(fromClientReceiver, dt, { seq: rcv.sndNxt, ack: rcv.rcvNxt, flags: ACK });
    return this;
  }

  /** An RST from one side (a prober giving up, an application aborting). */
  rst(fromClient: boolean, dt: number): this {
    const [me] = this.ends(fromClient);
    this.emit(fromClient, dt, { seq: me.sndNxt, ack: me.rcvNxt, flags: RST | ACK });
    return this;
  }

  /** FIN from one side, FIN from the other, last ACK (each `rtt` after the one before, unless given). */
  close(fromClient: boolean, dt: number, peerFinAfter = this.rtt, lastAckAfter = this.rtt): this {
    return this.fin(fromClient, dt).fin(!fromClient, peerFinAfter).ack(fromClient, lastAckAfter);
  }

  /** A FIN (with ACK) from one side: its application closed. The peer receives it. */
  fin(fromClient: boolean, dt: number): this {
    const [me, peer] = this.ends(fromClient);
    this.emit(fromClient, dt, { seq: me.sndNxt, ack: me.rcvNxt, flags: FIN | ACK });
    me.sndNxt = (me.sndNxt + 1) >>> 0;
    peer.rcvNxt = me.sndNxt;
    return this;
  }

  /** Time passes with nothing sent. */
  wait(dt: number): this {
    this.now += dt;
    return this;
  }
}

/** Frames of several conversations in one time order (stable). */
export function interleave(...convs: Conversation[]): ConversationFrame[] {
  return convs
    .flatMap((c) => c.frames)
    .map((f, i) => ({ f, i }))
    .sort((a, b) => a.f.tsSec - b.f.tsSec || a.f.tsNsec - b.f.tsNsec || a.i - b.i)
    .map((x) => x.f);
}
