/**
 * The one place where "is this a keepalive?" is decided. Pure functions over one segment and
 * what is known of the sender's and receiver's direction, kept apart from bookkeeping and presentation.
 */
import { ACK, FIN, RST, SYN, type Segment } from '../decode/segment.js';
import { seqAdd } from './seq.js';

/**
 * What the classifier reads of one direction, as three doubles at `at` in the connection
 * table's slab (src/analysis/flows.ts keeps every direction's record starting with them):
 * the next sequence number the sender is expected to use (highest seq+len seen, or the peer's
 * ack), whether that is known (1) or not (0), and the window it last advertised, scaled (-1
 * before any segment). Values stay in the typed array: a double handed to a function the
 * compiler does not inline, or stored in an object, is boxed, an allocation per packet.
 */
export const V_NEXT_SEQ = 0;
export const V_NEXT_SEQ_KNOWN = 1;
export const V_WINDOW = 2;

/**
 * Keepalive probe (RFC 1122 §4.2.3.6; Wireshark's tcp.analysis.keep_alive): no SYN, FIN or RST,
 * 0 or 1 byte of payload, and a sequence number one below the next one the sender (at
 * `sender` in `state`) is expected to use, so it lies just left of the receiver's window and
 * must be answered by an ACK.
 */
export function looksLikeKeepalive(seg: Segment, state: Float64Array, sender: number): boolean {
  return (
    state[sender + V_NEXT_SEQ_KNOWN] !== 0 &&
    (seg.flags & (SYN | FIN | RST)) === 0 &&
    seg.payloadLen <= 1 &&
    seg.seq === seqAdd(state[sender + V_NEXT_SEQ]!, -1)
  );
}

/**
 * A keepalive look-alike sent because the receiver's window is closed: Linux sends its
 * zero-window probes exactly like keepalives (tcp_xmit_probe_skb with SND.UNA − 1). The
 * receiver's last advertised window being 0 tells them apart; Wireshark 4.0 does not look.
 */
export function isZeroWindowLookalike(seg: Segment, state: Float64Array, sender: number, receiver: number): boolean {
  return state[receiver + V_WINDOW] === 0 && looksLikeKeepalive(seg, state, sender);
}

/** Other stacks probe a closed window with one new byte at SND.NXT (Wireshark's zero_window_probe). */
export function isOneByteZeroWindowProbe(seg: Segment, state: Float64Array, sender: number, receiver: number): boolean {
  return (
    state[receiver + V_WINDOW] === 0 &&
    state[sender + V_NEXT_SEQ_KNOWN] !== 0 &&
    seg.payloadLen === 1 &&
    (seg.flags & (SYN | FIN | RST)) === 0 &&
    seg.seq === state[sender + V_NEXT_SEQ]
  );
}

export const REPLY_NONE = 0;
export const REPLY_ACK = 1;
export const REPLY_RST = 2;

/**
 * Does a segment from the peer answer a pending probe whose sequence number is `state[at]`?
 * An RST is the peer saying it has no such connection (it rebooted, or its application
 * aborted); an ACK for its seq + 1 or beyond is the required answer. The peer's own keepalive
 * (decided by the caller) is not an answer.
 */
export function replyTo(seg: Segment, state: Float64Array, at: number): number {
  if ((seg.flags & RST) !== 0) return REPLY_RST;
  if ((seg.flags & ACK) !== 0 && ((seg.ack - seqAdd(state[at]!, 1)) | 0) >= 0) return REPLY_ACK;
  return REPLY_NONE;
}
