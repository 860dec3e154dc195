/**
 * The one place where "is this a keepalive?" is decided. Pure functions over one segment and
 * what is known of the sender's and receiver's direction, kept apart from bookkeeping and presentation.
 */
import { ACK, FIN, RST, SYN, type Segment } from '../decode/segment.js';
import { seqAdd } from './seq.js';

/**
 * Keepalive probe (RFC 1122 §4.2.3.6; Wireshark's tcp.analysis.keep_alive): no SYN, FIN or RST,
 * 0 or 1 byte of payload, and a sequence number one below the next one the sender is expected
 * to use (`nextSeq`, known or not), so it lies just left of the receiver's window and must be
 * answered by an ACK.
 */
export function looksLikeKeepalive(seg: Segment, nextSeqKnown: boolean, nextSeq: number): boolean {
  return nextSeqKnown && (seg.flags & (SYN | FIN | RST)) === 0 && seg.payloadLen <= 1 && seg.seq === seqAdd(nextSeq, -1);
}

/**
 * A keepalive look-alike sent because the receiver's window is closed: Linux sends its
 * zero-window probes exactly like keepalives (tcp_xmit_probe_skb with SND.UNA − 1). The
 * receiver's last advertised window (`receiverWindow`, scaled) being 0 tells them apart;
 * Wireshark 4.0 does not look.
 */
export function isZeroWindowLookalike(seg: Segment, nextSeqKnown: boolean, nextSeq: number, receiverWindow: number): boolean {
  return receiverWindow === 0 && looksLikeKeepalive(seg, nextSeqKnown, nextSeq);
}

/** Other stacks probe a closed window with one new byte at SND.NXT (Wireshark's zero_window_probe). */
export function isOneByteZeroWindowProbe(seg: Segment, nextSeqKnown: boolean, nextSeq: number, receiverWindow: number): boolean {
  return (
    receiverWindow === 0 &&
    nextSeqKnown &&
    seg.payloadLen === 1 &&
    (seg.flags & (SYN | FIN | RST)) === 0 &&
    seg.seq === nextSeq
  );
}

export const REPLY_NONE = 0;
export const REPLY_ACK = 1;
export const REPLY_RST = 2;

/**
 * Does a segment from the peer answer a pending probe whose sequence number was `probeSeq`?
 * An RST is the peer saying it has no such connection (it rebooted, or its application
 * aborted); an ACK for probeSeq + 1 or beyond is the required answer. The peer's own keepalive
 * (decided by the caller) is not an answer.
 */
export function replyTo(seg: Segment, probeSeq: number): number {
  if ((seg.flags & RST) !== 0) return REPLY_RST;
  if ((seg.flags & ACK) !== 0 && ((seg.ack - seqAdd(probeSeq, 1)) | 0) >= 0) return REPLY_ACK;
  return REPLY_NONE;
}
