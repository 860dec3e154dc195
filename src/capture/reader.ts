import type { Frame } from './frame.js';
import type { ByteInput } from './input.js';

/**
 * A record reader of one capture format. `next` works only on bytes already buffered in its
 * input: it fills `frame` and returns true, or returns false and sets `needed` to the number
 * of unread bytes it must see before it can go on. Throws CaptureError on corrupt input.
 */
export interface FrameReader {
  readonly format: 'pcap' | 'pcapng';
  readonly input: ByteInput;
  needed: number;
  /** What the reader was in the middle of when it ran out of bytes (for "cut short" warnings). */
  readonly inside: string;
  /** Notes about the file that are not fatal (each said once). */
  readonly warnings: string[];
  next(frame: Frame): boolean;
}

/** Cached DataView over the reader's current buffer: built once per chunk, not per frame. */
export class ViewCache {
  private buf: Uint8Array | null = null;
  view: DataView = new DataView(new ArrayBuffer(0));
  of(buf: Uint8Array): DataView {
    if (buf !== this.buf) {
      this.buf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.view;
  }
}
