import type { Segment } from './segment.js';

export const IPPROTO_TCP = 6;

/** Where the transport header starts and how long the IP payload is, from `ipv4`/`ipv6`. */
export const ipResult = { transportAt: 0, payloadLen: 0 };

/**
 * IPv4 header (RFC 791 §3.1). Fills the addresses into `seg` and `ipResult`; false when the
 * packet is not a TCP segment we can use (not TCP, a non-first fragment, a header that is cut
 * or inconsistent).
 * `wireLen` is how many bytes from `at` the packet had on the wire (for TSO captures whose
 * total-length field is 0).
 */
export function ipv4(b: Uint8Array, at: number, end: number, wireLen: number, seg: Segment): boolean {
  if (at + 20 > end) return false;
  const vihl = b[at]!;
  if (vihl >> 4 !== 4) return false;
  const headerLen = (vihl & 0x0f) * 4;
  if (headerLen < 20 || at + headerLen > end) return false;
  if (b[at + 9] !== IPPROTO_TCP) return false;
  const fragOffset = ((b[at + 6]! & 0x1f) << 8) | b[at + 7]!;
  if (fragOffset !== 0) return false;
  let totalLen = (b[at + 2]! << 8) | b[at + 3]!;
  // Linux captures of TCP segmentation offload carry total length 0; the frame length is then the truth.
  if (totalLen === 0) totalLen = wireLen;
  if (totalLen < headerLen) return false;
  seg.ipVersion = 4;
  seg.ipId = (b[at + 4]! << 8) | b[at + 5]!;
  seg.src0 = 0;
  seg.src1 = 0;
  seg.src2 = 0;
  seg.src3 = ((b[at + 12]! << 24) | (b[at + 13]! << 16) | (b[at + 14]! << 8) | b[at + 15]!) >>> 0;
  seg.dst0 = 0;
  seg.dst1 = 0;
  seg.dst2 = 0;
  seg.dst3 = ((b[at + 16]! << 24) | (b[at + 17]! << 16) | (b[at + 18]! << 8) | b[at + 19]!) >>> 0;
  ipResult.transportAt = at + headerLen;
  ipResult.payloadLen = totalLen - headerLen;
  return true;
}

function word(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/**
 * IPv6 header (RFC 8200 §3) and its extension headers: hop-by-hop (0), routing (43),
 * fragment (44), destination options (60), authentication (51). Non-first fragments are not
 * segments.
 */
export function ipv6(b: Uint8Array, at: number, end: number, wireLen: number, seg: Segment): boolean {
  if (at + 40 > end) return false;
  if (b[at]! >> 4 !== 6) return false;
  let payloadLen = (b[at + 4]! << 8) | b[at + 5]!;
  // Jumbograms and TSO captures say 0: the frame length is then the truth.
  if (payloadLen === 0) payloadLen = wireLen - 40;
  let next = b[at + 6]!;
  let p = at + 40;
  const payloadEnd = p + payloadLen;
  for (;;) {
    if (next === IPPROTO_TCP) break;
    let len: number;
    if (next === 0 || next === 43 || next === 60) {
      if (p + 2 > end) return false;
      len = (b[p + 1]! + 1) * 8;
    } else if (next === 44) {
      if (p + 8 > end) return false;
      if ((((b[p + 2]! << 8) | b[p + 3]!) & 0xfff8) !== 0) return false;
      len = 8;
    } else if (next === 51) {
      if (p + 2 > end) return false;
      len = (b[p + 1]! + 2) * 4;
    } else {
      return false;
    }
    next = b[p]!;
    p += len;
    if (p > payloadEnd) return false;
  }
  seg.ipVersion = 6;
  seg.ipId = -1;
  seg.src0 = word(b, at + 8);
  seg.src1 = word(b, at + 12);
  seg.src2 = word(b, at + 16);
  seg.src3 = word(b, at + 20);
  seg.dst0 = word(b, at + 24);
  seg.dst1 = word(b, at + 28);
  seg.dst2 = word(b, at + 32);
  seg.dst3 = word(b, at + 36);
  ipResult.transportAt = p;
  ipResult.payloadLen = payloadEnd - p;
  return true;
}
