import type { Segment } from './segment.js';

const OPT_END = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WSCALE = 3;
const OPT_SACK_PERMITTED = 4;
const OPT_TIMESTAMPS = 8;

/**
 * TCP header (RFC 9293 §3.1). `tcpLen` is the segment length the IP header gives, so a frame
 * cut by a small snaplen still yields its payload length. The fixed 20 bytes must be
 * captured; options are read as far as they were.
 */
export function tcp(b: Uint8Array, at: number, end: number, tcpLen: number, seg: Segment): boolean {
  if (at + 20 > end) return false;
  const headerLen = (b[at + 12]! >> 4) * 4;
  if (headerLen < 20 || headerLen > tcpLen) return false;
  seg.srcPort = (b[at]! << 8) | b[at + 1]!;
  seg.dstPort = (b[at + 2]! << 8) | b[at + 3]!;
  seg.seq = ((b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!) >>> 0;
  seg.ack = ((b[at + 8]! << 24) | (b[at + 9]! << 16) | (b[at + 10]! << 8) | b[at + 11]!) >>> 0;
  seg.flags = b[at + 13]!;
  seg.window = (b[at + 14]! << 8) | b[at + 15]!;
  seg.checksum = (b[at + 16]! << 8) | b[at + 17]!;
  seg.headerLen = headerLen;
  seg.payloadLen = tcpLen - headerLen;
  seg.firstPayloadByte = seg.payloadLen > 0 && at + headerLen < end ? b[at + headerLen]! : -1;
  seg.data = b;
  seg.optionsAt = at + 20;
  seg.optionsEnd = Math.min(at + headerLen, end);
  seg.optionsRead = false;
  return true;
}

/**
 * Read the segment's options (MSS, window scale, SACK-permitted, timestamps) as far as they were
 * captured. Done on demand: the analysis needs them only from SYNs, and most segments are not.
 * Valid only until the next frame is read (the bytes are the reader's buffer).
 */
export function readOptions(seg: Segment): void {
  if (seg.optionsRead) return;
  seg.optionsRead = true;
  seg.mss = -1;
  seg.windowScale = -1;
  seg.sackPermitted = false;
  seg.hasTimestamps = false;
  const b = seg.data;
  const end = seg.optionsEnd;
  let p = seg.optionsAt;
  while (p < end) {
    const kind = b[p]!;
    if (kind === OPT_END) return;
    if (kind === OPT_NOP) {
      p++;
      continue;
    }
    if (p + 1 >= end) return;
    const len = b[p + 1]!;
    if (len < 2 || p + len > end) return;
    if (kind === OPT_MSS && len === 4) seg.mss = (b[p + 2]! << 8) | b[p + 3]!;
    else if (kind === OPT_WSCALE && len === 3) seg.windowScale = b[p + 2]!;
    else if (kind === OPT_SACK_PERMITTED && len === 2) seg.sackPermitted = true;
    else if (kind === OPT_TIMESTAMPS && len === 10) {
      seg.hasTimestamps = true;
      seg.tsVal = ((b[p + 2]! << 24) | (b[p + 3]! << 16) | (b[p + 4]! << 8) | b[p + 5]!) >>> 0;
      seg.tsEcr = ((b[p + 6]! << 24) | (b[p + 7]! << 16) | (b[p + 8]! << 8) | b[p + 9]!) >>> 0;
    }
    p += len;
  }
}
