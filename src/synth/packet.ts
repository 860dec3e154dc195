/**
 * Builds real frames (Ethernet or other link layers, IPv4 or IPv6, TCP with options) with valid
 * checksums, for the demos, the benchmark capture and link types no machine here can record.
 */
import { ACK } from '../decode/segment.js';
import { LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_LOOP, LINKTYPE_NULL, LINKTYPE_RAW, LINKTYPE_RAW_12, LINKTYPE_RAW_14 } from '../decode/link.js';

export interface TcpSpec {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number;
  flags?: number;
  window?: number;
  payload?: Uint8Array | number;
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  timestamps?: [number, number];
  /** 802.1Q / 802.1ad tags, outermost first, for Ethernet. */
  vlans?: { tpid: number; id: number }[];
  ttl?: number;
  ipId?: number;
}

export function parseIPv4(s: string): number[] {
  const parts = s.split('.').map(Number);
  if (parts.length !== 4 || parts.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`bad IPv4 address ${s}`);
  return parts;
}

export function parseIPv6(s: string): number[] {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':').filter((x) => x !== '') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) throw new Error(`bad IPv6 address ${s}`);
  return groups.flatMap((g) => {
    const v = parseInt(g, 16);
    return [v >> 8, v & 255];
  });
}

function sum16(bytes: Uint8Array, from: number, to: number, acc: number): number {
  for (let i = from; i + 1 < to; i += 2) acc += (bytes[i]! << 8) | bytes[i + 1]!;
  if ((to - from) % 2 === 1) acc += bytes[to - 1]! << 8;
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 65536);
  return ~acc & 0xffff;
}

function tcpOptions(spec: TcpSpec): number[] {
  const o: number[] = [];
  if (spec.mss !== undefined) o.push(2, 4, spec.mss >> 8, spec.mss & 255);
  if (spec.sackPermitted) o.push(4, 2);
  if (spec.timestamps) {
    const [v, e] = spec.timestamps;
    if (!spec.sackPermitted) o.push(1, 1);
    o.push(8, 10, v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255, e >>> 24, (e >>> 16) & 255, (e >>> 8) & 255, e & 255);
  }
  if (spec.windowScale !== undefined) o.push(1, 3, 3, spec.windowScale);
  while (o.length % 4 !== 0) o.push(0);
  return o;
}

/** An IP packet (v4 or v6 by the address form) carrying one TCP segment. */
export function ipPacket(spec: TcpSpec): Uint8Array {
  const v6 = spec.src.includes(':');
  const payload = typeof spec.payload === 'number' ? new Uint8Array(spec.payload) : (spec.payload ?? new Uint8Array(0));
  const opts = tcpOptions(spec);
  const tcpLen = 20 + opts.length + payload.length;
  const ipLen = v6 ? 40 : 20;
  const out = new Uint8Array(ipLen + tcpLen);
  const src = v6 ? parseIPv6(spec.src) : parseIPv4(spec.src);
  const dst = v6 ? parseIPv6(spec.dst) : parseIPv4(spec.dst);
  if (v6) {
    out[0] = 0x60;
    out[4] = tcpLen >> 8;
    out[5] = tcpLen & 255;
    out[6] = 6;
    out[7] = spec.ttl ?? 64;
    out.set(src, 8);
    out.set(dst, 24);
  } else {
    const total = ipLen + tcpLen;
    out[0] = 0x45;
    out[2] = total >> 8;
    out[3] = total & 255;
    const id = spec.ipId ?? 0;
    out[4] = (id >> 8) & 255;
    out[5] = id & 255;
    out[6] = 0x40; // DF
    out[8] = spec.ttl ?? 64;
    out[9] = 6;
    out.set(src, 12);
    out.set(dst, 16);
    const c = fold(sum16(out, 0, 20, 0));
    out[10] = c >> 8;
    out[11] = c & 255;
  }
  const t = ipLen;
  out[t] = spec.srcPort >> 8;
  out[t + 1] = spec.srcPort & 255;
  out[t + 2] = spec.dstPort >> 8;
  out[t + 3] = spec.dstPort & 255;
  const seq = spec.seq >>> 0;
  const ack = (spec.ack ?? 0) >>> 0;
  out.set([seq >>> 24, (seq >>> 16) & 255, (seq >>> 8) & 255, seq & 255], t + 4);
  out.set([ack >>> 24, (ack >>> 16) & 255, (ack >>> 8) & 255, ack & 255], t + 8);
  out[t + 12] = ((20 + opts.length) / 4) << 4;
  out[t + 13] = spec.flags ?? ACK;
  const win = spec.window ?? 502;
  out[t + 14] = win >> 8;
  out[t + 15] = win & 255;
  out.set(opts, t + 20);
  out.set(payload, t + 20 + opts.length);
  // Checksum over the pseudo-header (RFC 9293 §3.1; RFC 8200 §8.1) and the segment.
  let acc = 0;
  acc = sum16(Uint8Array.from(src), 0, src.length, acc);
  acc = sum16(Uint8Array.from(dst), 0, dst.length, acc);
  acc += 6 + tcpLen;
  acc = sum16(out, t, out.length, acc);
  const c = fold(acc);
  out[t + 16] = c >> 8;
  out[t + 17] = c & 255;
  return out;
}

const CLIENT_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const SERVER_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];

/** Wrap an IP packet in a link-layer header of the given LINKTYPE. */
export function linkFrame(linkType: number, ip: Uint8Array, options: { outbound?: boolean; vlans?: { tpid: number; id: number }[]; bigEndianFamily?: boolean } = {}): Uint8Array {
  const v6 = ip[0]! >> 4 === 6;
  const ethertype = v6 ? 0x86dd : 0x0800;
  const cat = (head: number[]) => {
    const f = new Uint8Array(head.length + ip.length);
    f.set(head);
    f.set(ip, head.length);
    return f;
  };
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      const out = options.outbound ?? true;
      const head = [...(out ? SERVER_MAC : CLIENT_MAC), ...(out ? CLIENT_MAC : SERVER_MAC)];
      for (const v of options.vlans ?? []) head.push(v.tpid >> 8, v.tpid & 255, (v.id >> 8) & 0x0f, v.id & 255);
      head.push(ethertype >> 8, ethertype & 255);
      return cat(head);
    }
    case LINKTYPE_LINUX_SLL:
      return cat([0, options.outbound ?? true ? 4 : 0, 0, 1, 0, 6, ...CLIENT_MAC, 0, 0, ethertype >> 8, ethertype & 255]);
    case LINKTYPE_LINUX_SLL2:
      return cat([ethertype >> 8, ethertype & 255, 0, 0, 0, 0, 0, 2, 0, 1, options.outbound ?? true ? 4 : 0, 6, ...CLIENT_MAC, 0, 0]);
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      // NULL: host byte order (little-endian here unless asked); LOOP: network order. Darwin's AF_INET6 is 30.
      const family = v6 ? 30 : 2;
      const be = linkType === LINKTYPE_LOOP || options.bigEndianFamily === true;
      return cat(be ? [0, 0, 0, family] : [family, 0, 0, 0]);
    }
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_12:
    case LINKTYPE_RAW_14:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return ip.slice();
    default:
      throw new RangeError(`cannot build frames of link type ${linkType}`);
  }
}
