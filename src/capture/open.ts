import { CaptureError } from './errors.js';
import { newFrame, type Frame } from './frame.js';
import { openInput, type ByteInput } from './input.js';
import { isPcapMagic, PcapReader } from './pcap.js';
import { isPcapngMagic, PcapngReader } from './pcapng.js';
import type { FrameReader } from './reader.js';

/** One opened capture: its bytes, the reader its magic chose, and what was said about it. */
export class CaptureFile {
  framesRead = 0;
  readonly warnings: string[] = [];

  constructor(
    readonly input: ByteInput,
    readonly reader: FrameReader,
  ) {}

  get name(): string {
    return this.input.name;
  }

  get format(): string {
    return (this.input.gzipped ? 'gzip+' : '') + this.reader.format;
  }

  /** Fill `frame` from buffered bytes; false when more must be read first. */
  next(frame: Frame): boolean {
    if (this.reader.next(frame)) {
      this.framesRead++;
      return true;
    }
    return false;
  }

  /** Read until the reader can go on. False at the end, with a warning if the end cut a record. */
  async refill(): Promise<boolean> {
    const input = this.input;
    if (await guard(input, () => input.fill(this.reader.needed))) return true;
    if (input.gzipCut) {
      this.warnings.push(`${input.name}: byte ${input.position + input.available} of the decompressed data: the gzip stream is cut short`);
    }
    if (input.available > 0) {
      this.warnings.push(
        `${input.name}: byte ${input.position}: file cut short inside ${this.reader.inside} ` +
          `(${input.available} bytes of it present); the ${this.framesRead} frames before it were read`,
      );
      input.start = input.end;
    }
    return false;
  }

  allWarnings(): string[] {
    return [...this.reader.warnings, ...this.warnings];
  }
}

/** Turn I/O and decompression failures into CaptureErrors that name the file and offset. */
async function guard<T>(input: ByteInput, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw asCaptureError(input.name, input.base + input.end, err);
  }
}

function asCaptureError(name: string, offset: number, err: unknown): Error {
  if (err instanceof CaptureError) return err;
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return new CaptureError(name, 0, 'no such file');
    case 'EACCES':
      return new CaptureError(name, 0, 'permission denied');
    case 'EISDIR':
      return new CaptureError(name, 0, 'is a directory, not a capture file');
    case 'Z_BUF_ERROR':
    case 'Z_DATA_ERROR':
      return new CaptureError(name, offset, `gzip data is damaged (${e.message}) after ${offset} decompressed bytes`);
    default:
      return new CaptureError(name, offset, e.message ?? String(err));
  }
}

/** Open a capture (path or `-` for stdin), gzip'd or not, choosing the reader by magic. */
export async function openCapture(path: string, stdin?: AsyncIterable<Buffer>): Promise<CaptureFile> {
  const name = path === '-' ? '<stdin>' : path;
  let input: ByteInput;
  try {
    input = await openInput(path, stdin);
  } catch (err) {
    throw asCaptureError(name, 0, err);
  }
  await guard(input, () => input.fill(4));
  if (input.available < 4) {
    throw new CaptureError(input.name, input.position + input.available, input.available === 0 ? 'file is empty' : 'file is too short to be a capture');
  }
  const b = input.buf;
  const at = input.start;
  if (isPcapngMagic(b, at)) return new CaptureFile(input, new PcapngReader(input));
  if (isPcapMagic(b, at)) {
    await guard(input, () => input.fill(PcapReader.headerBytes));
    return new CaptureFile(input, new PcapReader(input));
  }
  const hex = Array.from(b.subarray(at, at + 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
  throw new CaptureError(input.name, input.position, `not a pcap or pcapng capture (starts with ${hex})`);
}

/**
 * Frames of several captures merged into one time order (a ring buffer from tcpdump -C/-W
 * is one capture cut in pieces); equal timestamps keep file order. `onFrame` receives the
 * reused frame object and its number counted from 1 across the merged stream, as Wireshark
 * numbers the frames of a merged file; it runs synchronously, frame after frame, on the bytes
 * already read. The generator yields each time it is about to wait for more bytes, so a
 * consumer can hand on what the frames produced; its return value is the frame count.
 *
 * A frame of another file within a microsecond of the frame just taken, with the same bytes,
 * is the same packet seen again (one capture given twice, as pcap and pcapng say, or two
 * captures of one interface; a microsecond because a pcap file keeps only microseconds of a
 * nanosecond clock): it is skipped, takes no frame number, and its file gets a warning with
 * the count.
 */
export async function* readFrames(
  files: readonly CaptureFile[],
  onFrame: (frame: Frame, frameNumber: number) => void,
  /**
   * With one file: takes the frames buffered after the one just given as onFrame would, and
   * returns the last frame number it used (Analysis.bulkReader: the C++ table reads them).
   */
  bulk?: (frameNumber: number) => number,
  /**
   * With one file: the same a window at a time, asynchronously (Analysis.mappedReader: the C++
   * table reads the file on another thread); the generator yields after each window. Once it
   * says `done`, the reader goes on from where it stopped.
   */
  mapped?: (frameNumber: number) => Promise<{ frameNumber: number; done: boolean }>,
): AsyncGenerator<void, number> {
  const heads = files.map(() => newFrame());
  const live = files.map(() => false);
  const copies = new Copies(files.length);
  let frameNumber = 0;
  const advance = async (i: number): Promise<boolean> => {
    const file = files[i]!;
    const head = heads[i]!;
    while (!file.next(head)) {
      if (!(await file.refill())) return false;
    }
    return true;
  };
  for (let i = 0; i < files.length; i++) live[i] = await advance(i);
  if (files.length === 1) {
    const file = files[0]!;
    const head = heads[0]!;
    let more = live[0]!;
    while (more) {
      onFrame(head, ++frameNumber);
      if (mapped !== undefined) {
        for (;;) {
          const r = await mapped(frameNumber);
          frameNumber = r.frameNumber;
          if (r.done) break;
          yield;
        }
      } else if (bulk !== undefined) frameNumber = bulk(frameNumber);
      if (file.next(head)) continue;
      yield;
      more = await advance(0);
    }
    return frameNumber;
  }
  for (;;) {
    let pick = -1;
    for (let i = 0; i < files.length; i++) {
      if (!live[i]) continue;
      if (pick < 0) {
        pick = i;
        continue;
      }
      const a = heads[i]!;
      const m = heads[pick]!;
      if (a.tsSec < m.tsSec || (a.tsSec === m.tsSec && a.tsNsec < m.tsNsec)) pick = i;
    }
    if (pick < 0) break;
    const taken = heads[pick]!;
    onFrame(taken, ++frameNumber);
    for (let j = 0; j < files.length; j++) {
      if (j === pick || !live[j] || !sameFrame(heads[j]!, taken)) continue;
      copies.note(j, pick, heads[j]!.fileOffset);
      if (!files[j]!.next(heads[j]!)) {
        yield;
        live[j] = await advance(j);
      }
    }
    if (files[pick]!.next(taken)) continue;
    yield;
    live[pick] = await advance(pick);
  }
  copies.warn(files);
  return frameNumber;
}

/** Within a microsecond, same lengths, link type and bytes: the same packet captured twice. */
function sameFrame(a: Frame, b: Frame): boolean {
  return (
    Math.abs((a.tsSec - b.tsSec) * 1e9 + (a.tsNsec - b.tsNsec)) < 1000 && a.capLen === b.capLen && a.origLen === b.origLen && a.linkType === b.linkType &&
    compareBytes.call(a.data, b.data, b.offset, b.offset + b.capLen, a.offset, a.offset + a.capLen) === 0
  );
}

/** Buffer's ranged compare (native, no views made), applied to any Uint8Array. */
const compareBytes = Buffer.prototype.compare as (this: Uint8Array, target: Uint8Array, targetStart: number, targetEnd: number, sourceStart: number, sourceEnd: number) => number;

/** How many frames each pair of files had in common, and where the first skipped copy was. */
class Copies {
  private readonly count = new Map<number, number>();
  private readonly first = new Map<number, { file: number; offset: number }>();

  constructor(private readonly files: number) {}

  note(copy: number, of: number, fileOffset: number): void {
    const key = Math.min(copy, of) * this.files + Math.max(copy, of);
    const n = this.count.get(key) ?? 0;
    if (n === 0) this.first.set(key, { file: copy, offset: fileOffset });
    this.count.set(key, n + 1);
  }

  warn(files: readonly CaptureFile[]): void {
    for (const [key, n] of this.count) {
      const first = this.first.get(key)!;
      const pair = [Math.floor(key / this.files), key % this.files];
      const other = files[pair[0] === first.file ? pair[1]! : pair[0]!]!;
      files[first.file]!.warnings.push(
        `${files[first.file]!.name}: byte ${first.offset}: ${n} of its frames are also in ${other.name} (same bytes, within a microsecond: ` +
          `the same packets captured twice); each was analysed once, and the second copy took no frame number`,
      );
    }
  }
}
