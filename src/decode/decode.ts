import type { Frame } from '../capture/frame.js';
import { ipResult, ipv4, ipv6 } from './ip.js';
import { ipStart, linkIpVersion, UNKNOWN_LINK } from './link.js';
import type { Segment } from './segment.js';
import { tcp } from './tcp.js';

export const DECODED_TCP = 0;
export const NOT_TCP = 1;
export const UNKNOWN_LINK_TYPE = 2;

/**
 * Decode a frame down to its TCP header, filling `seg`. Returns DECODED_TCP, NOT_TCP (ARP,
 * UDP, fragments, cut headers…) or UNKNOWN_LINK_TYPE. Allocates nothing.
 */
export function decodeFrame(frame: Frame, seg: Segment): number {
  const at = ipStart(frame);
  if (at < 0) return at === UNKNOWN_LINK ? UNKNOWN_LINK_TYPE : NOT_TCP;
  const b = frame.data;
  const end = frame.offset + frame.capLen;
  const wireLen = frame.origLen - (at - frame.offset);
  let version = linkIpVersion;
  if (version === 0) {
    if (at >= end) return NOT_TCP;
    version = b[at]! >> 4;
  }
  const ok = version === 4 ? ipv4(b, at, end, wireLen, seg) : version === 6 ? ipv6(b, at, end, wireLen, seg) : false;
  if (!ok) return NOT_TCP;
  if (!tcp(b, ipResult.transportAt, end, ipResult.payloadLen, seg)) return NOT_TCP;
  seg.tsSec = frame.tsSec;
  seg.tsNsec = frame.tsNsec;
  return DECODED_TCP;
}
