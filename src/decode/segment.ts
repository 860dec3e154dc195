/** TCP flag bits (RFC 9293 §3.1). */
export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;

/**
 * The compact record the analysis needs of one TCP segment (smoltcp's "Repr"). One object is
 * reused for every frame; the tracker copies the few values it keeps.
 * Addresses are four 32-bit words; an IPv4 address uses `src3`/`dst3` and leaves the rest 0.
 */
export class Segment {
  frameNumber = 0;
  tsSec = 0;
  tsNsec = 0;
  ipVersion: 4 | 6 = 4;
  src0 = 0;
  src1 = 0;
  src2 = 0;
  src3 = 0;
  dst0 = 0;
  dst1 = 0;
  dst2 = 0;
  dst3 = 0;
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  /** Window field as sent (not scaled). */
  window = 0;
  /** Checksum field as sent (not verified: offloading leaves it unfilled on the sender). */
  checksum = 0;
  /** IPv4 identification (a sender numbers its packets with it); -1 for IPv6. */
  ipId = -1;
  /** TCP header length in bytes (data offset × 4). */
  headerLen = 0;
  /** Payload length from the IP lengths, whatever the snaplen kept. */
  payloadLen = 0;
  /** First payload byte when captured, else -1 (a one-octet keepalive's garbage byte). */
  firstPayloadByte = -1;
  /** Bytes of the frame the segment came from, and where its options lie (see readOptions). */
  data: Uint8Array = Buffer.alloc(0);
  optionsAt = 0;
  optionsEnd = 0;
  optionsRead = false;
  /** Options, filled by readOptions(seg) as far as captured: -1 / false when absent. */
  mss = -1;
  windowScale = -1;
  sackPermitted = false;
  hasTimestamps = false;
  tsVal = 0;
  tsEcr = 0;
}

export function formatAddress(version: 4 | 6, w0: number, w1: number, w2: number, w3: number): string {
  if (version === 4) return `${w3 >>> 24}.${(w3 >>> 16) & 255}.${(w3 >>> 8) & 255}.${w3 & 255}`;
  const groups = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  // RFC 5952: the longest run (≥ 2) of zero groups becomes "::"; lower case, no leading zeros.
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

/**
 * IPv4 addresses as text, by address: a capture holds far fewer addresses than connections.
 * Direct-mapped on the low bits, so it never holds more than its size.
 */
const V4_CACHE_SIZE = 4096;
const v4Keys = new Float64Array(V4_CACHE_SIZE).fill(-1);
const v4Names: string[] = new Array<string>(V4_CACHE_SIZE).fill('');

function ipv4Text(w3: number): string {
  const a = w3 >>> 0;
  const i = (a ^ (a >>> 12)) & (V4_CACHE_SIZE - 1);
  if (v4Keys[i] !== a) {
    v4Keys[i] = a;
    v4Names[i] = formatAddress(4, 0, 0, 0, a);
  }
  return v4Names[i]!;
}

/** `ip:port`, or `[v6]:port` for IPv6. */
export function formatEndpoint(version: 4 | 6, w0: number, w1: number, w2: number, w3: number, port: number): string {
  if (version === 4) return `${ipv4Text(w3)}:${port}`;
  return `[${formatAddress(version, w0, w1, w2, w3)}]:${port}`;
}
