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
  /** Next sequence number this end sends (SND.NXT). */
  sndNxt: number;
  /** Next sequence number this end expects (RCV.NXT). */
  rcvNxt: number;
  window: number;
  windowScale: number;
  tsVal: number;
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
}

export class Conversation {
  readonly frames: ConversationFrame[] = [];
  /** Seconds since `start` of the last segment. */
  now = 0;
  private readonly start: number;
  private readonly c: End;
  private readonly s: End;
  readonly rtt: number;

  constructor(o: ConversationOptions) {
    this.start = o.start ?? 1_763_800_000;
    this.rtt = o.rtt ?? 0.0002;
    this.c = { addr: o.client, port: o.clientPort, sndNxt: (o.clientIsn ?? 0x1000_0000) >>> 0, rcvNxt: 0, window: 502, windowScale: 7, tsVal: 1_000 };
    this.s = { addr: o.server, port: o.serverPort, sndNxt: (o.serverIsn ?? 0x7000_0000) >>> 0, rcvNxt: 0, window: 509, windowScale: 7, tsVal: 50_000 };
  }

  private ends(fromClient: boolean): [End, End] {
    return fromClient ? [this.c, this.s] : [this.s, this.c];
  }

  private emit(fromClient: boolean, dt: number, spec: { seq: number; ack?: number; flags: number; payload?: Uint8Array | number; window?: number; syn?: boolean }): void {
    this.now += dt;
    const [me, peer] = this.ends(fromClient);
    me.tsVal += Math.max(1, Math.round(dt * 1000));
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
      timestamps: (spec.flags & RST) !== 0 ? undefined : [me.tsVal, peer.tsVal],
      ...(spec.syn ? { mss: 1460, sackPermitted: true, windowScale: me.windowScale } : {}),
    });
    this.frames.push({ ip, tsSec: sec, tsNsec: nsec, fromClient });
  }

  /** SYN, SYN-ACK, ACK. */
  handshake(dt = 0): this {
    const c = this.c;
    const s = this.s;
    this.emit(true, dt, { seq: c.sndNxt, flags: SYN, window: 64240, syn: true });
    c.sndNxt = (c.sndNxt + 1) >>> 0;
    s.rcvNxt = c.sndNxt;
    this.emit(false, this.rtt / 2, { seq: s.sndNxt, ack: s.rcvNxt, flags: SYN | ACK, window: 65160, syn: true });
    s.sndNxt = (s.sndNxt + 1) >>> 0;
    c.rcvNxt = s.sndNxt;
    this.emit(true, this.rtt / 2, { seq: c.sndNxt, ack: c.rcvNxt, flags: ACK });
    return this;
  }

  /** `bytes` of data from one side after `dt`, and the peer's ACK one RTT later. */
  data(fromClient: boolean, bytes: number, dt: number, acked = true): this {
    const [me, peer] = this.ends(fromClient);
    this.emit(fromClient, dt, { seq: me.sndNxt, ack: me.rcvNxt, flags: PSH | ACK, payload: bytes });
    me.sndNxt = (me.sndNxt + bytes) >>> 0;
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
    const [me, peer] = this.ends(fromClient);
    this.emit(fromClient, dt, { seq: (me.sndNxt - 1) >>> 0, ack: me.rcvNxt, flags: ACK, payload: garbageOctet ? Uint8Array.of(0) : undefined });
    if (answer === 'ack') this.emit(!fromClient, this.rtt, { seq: peer.sndNxt, ack: peer.rcvNxt, flags: ACK });
    // A host without the connection answers a segment carrying ACK with an RST whose
    // sequence number is that ACK (RFC 9293 §3.10.7.1).
    if (answer === 'rst') this.emit(!fromClient, this.rtt, { seq: me.rcvNxt, flags: RST });
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

  /** FIN from one side, FIN from the other, last ACK. */
  close(fromClient: boolean, dt: number): this {
    const [me, peer] = this.ends(fromClient);
    this.emit(fromClient, dt, { seq: me.sndNxt, ack: me.rcvNxt, flags: FIN | ACK });
    me.sndNxt = (me.sndNxt + 1) >>> 0;
    peer.rcvNxt = me.sndNxt;
    this.emit(!fromClient, this.rtt, { seq: peer.sndNxt, ack: peer.rcvNxt, flags: FIN | ACK });
    peer.sndNxt = (peer.sndNxt + 1) >>> 0;
    me.rcvNxt = peer.sndNxt;
    this.emit(fromClient, this.rtt, { seq: me.sndNxt, ack: me.rcvNxt, flags: ACK });
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
