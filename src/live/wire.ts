/**
 * Frames from a capture child (one running in another network namespace) to the analysing
 * parent, over the child's standard output. Node cannot enter a network namespace itself
 * (no setns), so `ip netns exec NS node child.js` captures there and streams what it sees.
 *
 * A message is a type octet, a 32-bit little-endian payload length and the payload:
 *   READY  JSON { linkType, linkName, iface }
 *   FRAME  u32 seconds, u32 nanoseconds, then the captured bytes
 *   STATS  JSON SourceStats, the last message before a clean exit
 *   ERROR  JSON { kind, message }
 *   DEVICES JSON CapDevice[] (the child was asked only to list interfaces)
 */
import type { Frame } from '../capture/frame.js';
import { newFrame } from '../capture/frame.js';

export const MSG_READY = 1;
export const MSG_FRAME = 2;
export const MSG_STATS = 3;
export const MSG_ERROR = 4;
export const MSG_DEVICES = 5;

const HEADER = 5;
const FRAME_HEADER = 8;

export function encodeJson(type: number, value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  const out = Buffer.allocUnsafe(HEADER + body.length);
  out[0] = type;
  out.writeUInt32LE(body.length, 1);
  body.copy(out, HEADER);
  return out;
}

/** Batches frames into one buffer; `take()` hands the batch out for one write. */
export class FrameEncoder {
  private buf = Buffer.allocUnsafe(1 << 20);
  private used = 0;

  get pending(): number {
    return this.used;
  }

  frame(bytes: Uint8Array, offset: number, capLen: number, tsSec: number, tsNsec: number): void {
    const need = HEADER + FRAME_HEADER + capLen;
    if (this.used + need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + need));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    const b = this.buf;
    let o = this.used;
    b[o] = MSG_FRAME;
    b.writeUInt32LE(FRAME_HEADER + capLen, o + 1);
    b.writeUInt32LE(tsSec >>> 0, o + 5);
    b.writeUInt32LE(tsNsec >>> 0, o + 9);
    o += HEADER + FRAME_HEADER;
    b.set(bytes.subarray(offset, offset + capLen), o);
    this.used = o + capLen;
  }

  take(): Buffer {
    const out = this.buf.subarray(0, this.used);
    this.used = 0;
    return out;
  }
}

export interface WireHandlers {
  frame(frame: Frame): void;
  message(type: number, value: unknown): void;
}

/**
 * Parses the child's stream. A frame that lies whole inside a chunk is handed on as a view
 * into that chunk; only a message split across chunks is copied.
 */
export class WireDecoder {
  private carry: Buffer | null = null;
  private readonly frameObj: Frame = newFrame();

  constructor(
    private readonly linkType: () => number,
    private readonly handlers: WireHandlers,
  ) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.carry !== null) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    let o = 0;
    while (buf.length - o >= HEADER) {
      const len = buf.readUInt32LE(o + 1);
      if (buf.length - o - HEADER < len) break;
      const type = buf[o]!;
      const body = o + HEADER;
      if (type === MSG_FRAME) {
        const f = this.frameObj;
        f.data = buf;
        f.tsSec = buf.readUInt32LE(body);
        f.tsNsec = buf.readUInt32LE(body + 4);
        f.offset = body + FRAME_HEADER;
        f.capLen = len - FRAME_HEADER;
        f.origLen = f.capLen;
        f.linkType = this.linkType();
        this.handlers.frame(f);
      } else {
        let value: unknown = null;
        try {
          value = JSON.parse(buf.toString('utf8', body, body + len));
        } catch {
          value = null;
        }
        this.handlers.message(type, value);
      }
      o = body + len;
    }
    if (o < buf.length) this.carry = Buffer.from(buf.subarray(o));
  }

  /** Bytes left over at the end of the stream (a message cut short). */
  get leftover(): number {
    return this.carry?.length ?? 0;
  }
}
