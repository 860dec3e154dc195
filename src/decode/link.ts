import type { Frame } from '../capture/frame.js';

/** LINKTYPE_* values (tcpdump.org/linktypes.html) this decoder understands. */
export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW_12 = 12;
export const LINKTYPE_RAW_14 = 14;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100; // 802.1Q
const ETHERTYPE_QINQ = 0x88a8; // 802.1ad
const ETHERTYPE_QINQ_OLD = 0x9100; // pre-standard QinQ
/** BSD address families for IPv6 differ per OS: Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30, Windows 23. */
const AF_INET = 2;

export function isKnownLinkType(linkType: number): boolean {
  switch (linkType) {
    case LINKTYPE_NULL:
    case LINKTYPE_ETHERNET:
    case LINKTYPE_RAW_12:
    case LINKTYPE_RAW_14:
    case LINKTYPE_RAW:
    case LINKTYPE_LOOP:
    case LINKTYPE_LINUX_SLL:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
    case LINKTYPE_LINUX_SLL2:
      return true;
    default:
      return false;
  }
}

/** Result codes of `ipStart` besides an offset. */
export const NOT_IP = -1;
export const UNKNOWN_LINK = -2;

/** IP version the link layer announced for the last frame (4, 6, or 0 when it says nothing). */
export let linkIpVersion = 0;

function fromEthertype(type: number, at: number): number {
  if (type === ETHERTYPE_IPV4) {
    linkIpVersion = 4;
    return at;
  }
  if (type === ETHERTYPE_IPV6) {
    linkIpVersion = 6;
    return at;
  }
  return NOT_IP;
}

/**
 * Offset in `frame.data` where the frame's IP header starts, NOT_IP for frames of a known link
 * type that carry something else (ARP, LLDP…) or are cut before the link header ends, and
 * UNKNOWN_LINK for link types this decoder does not know.
 */
export function ipStart(frame: Frame): number {
  const b = frame.data;
  const start = frame.offset;
  const end = start + frame.capLen;
  linkIpVersion = 0;
  switch (frame.linkType) {
    case LINKTYPE_ETHERNET: {
      let at = start + 12;
      if (at + 2 > end) return NOT_IP;
      let type = (b[at]! << 8) | b[at + 1]!;
      // 802.1Q and 802.1ad tags: 2 bytes of tag control, then the next type.
      while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD) {
        at += 4;
        if (at + 2 > end) return NOT_IP;
        type = (b[at]! << 8) | b[at + 1]!;
      }
      return fromEthertype(type, at + 2);
    }
    case LINKTYPE_LINUX_SLL: {
      // packet type(2) ARPHRD(2) address length(2) address(8) protocol(2)
      if (start + 16 > end) return NOT_IP;
      return fromEthertype((b[start + 14]! << 8) | b[start + 15]!, start + 16);
    }
    case LINKTYPE_LINUX_SLL2: {
      // protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) address length(1) address(8)
      if (start + 20 > end) return NOT_IP;
      return fromEthertype((b[start]! << 8) | b[start + 1]!, start + 20);
    }
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      // A 4-byte address family: host byte order of the capturing machine for NULL, network
      // order for LOOP (OpenBSD); accept either, since files travel between machines.
      if (start + 4 > end) return NOT_IP;
      const be = ((b[start]! << 24) | (b[start + 1]! << 16) | (b[start + 2]! << 8) | b[start + 3]!) >>> 0;
      const family = be > 0xffff ? (((b[start + 3]! << 24) | (b[start + 2]! << 16) | (b[start + 1]! << 8) | b[start]!) >>> 0) : be;
      if (family === AF_INET) linkIpVersion = 4;
      else if (family === 10 || family === 23 || family === 24 || family === 28 || family === 30) linkIpVersion = 6;
      else return NOT_IP;
      return start + 4;
    }
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_12:
    case LINKTYPE_RAW_14:
      return start;
    case LINKTYPE_IPV4:
      linkIpVersion = 4;
      return start;
    case LINKTYPE_IPV6:
      linkIpVersion = 6;
      return start;
    default:
      return UNKNOWN_LINK;
  }
}
