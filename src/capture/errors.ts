/**
 * The one error the readers throw for input they cannot read: it names the file, the byte
 * offset and the cause, so the CLI can print it as a single line and exit 2.
 */
export class CaptureError extends Error {
  constructor(
    readonly file: string,
    readonly byteOffset: number,
    readonly reason: string,
  ) {
    super(`${file}: byte ${byteOffset}: ${reason}`);
    this.name = 'CaptureError';
  }
}

/** Largest frame a reader accepts, as libpcap does (MAXIMUM_SNAPLEN). */
export const MAX_FRAME_BYTES = 262_144;
