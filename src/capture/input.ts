import { close as fsClose, createReadStream, open as fsOpen, read as fsRead, readSync, fstatSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

const CHUNK_BYTES = 1 << 20;

/**
 * Bytes of one input, arriving in chunks. The readers work synchronously on the bytes
 * buffered between `start` and `end`; only when they run out does the caller await `more()`,
 * so the per-frame path never touches a promise.
 */
export class ByteInput {
  buf: Buffer = Buffer.alloc(0);
  start = 0;
  end = 0;
  /** Offset in the whole (decompressed) stream of `buf[0]`. */
  base = 0;
  eof = false;
  /** The gzip stream ended before its end marker: the file was cut short. */
  gzipCut = false;
  private readonly chunks: AsyncIterator<Buffer>;

  constructor(
    readonly name: string,
    source: AsyncIterable<Buffer | Uint8Array | string>,
    /** True when the bytes come out of a gzip stream (offsets then count decompressed bytes). */
    readonly gzipped = false,
  ) {
    const it = source[Symbol.asyncIterator]();
    this.chunks = {
      next: async () => {
        const r = await it.next();
        if (r.done) return r;
        const v = r.value;
        return { done: false, value: typeof v === 'string' ? Buffer.from(v, 'latin1') : Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength) };
      },
      return: async () => {
        await it.return?.();
        return { done: true, value: undefined };
      },
    };
  }

  get available(): number {
    return this.end - this.start;
  }

  /** Stream offset of the next unread byte. */
  get position(): number {
    return this.base + this.start;
  }

  /** Append the next chunk to what is unread. Resolves false at the end of the input. */
  async more(): Promise<boolean> {
    if (this.eof) return false;
    for (;;) {
      let r: IteratorResult<Buffer>;
      try {
        r = await this.chunks.next();
      } catch (err) {
        // zlib says "unexpected end of file" when the compressed stream stops early: a cut
        // file, whose bytes so far are good.
        if (this.gzipped && (err as NodeJS.ErrnoException).code === 'Z_BUF_ERROR') {
          this.eof = true;
          this.gzipCut = true;
          return false;
        }
        throw err;
      }
      if (r.done) {
        this.eof = true;
        return false;
      }
      const chunk = r.value;
      if (chunk.length === 0) continue;
      const rest = this.end - this.start;
      if (rest === 0) {
        this.base += this.end;
        this.buf = chunk;
      } else {
        const joined = Buffer.allocUnsafe(rest + chunk.length);
        this.buf.copy(joined, 0, this.start, this.end);
        chunk.copy(joined, rest);
        this.base += this.start;
        this.buf = joined;
      }
      this.start = 0;
      this.end = this.buf.length;
      return true;
    }
  }

  /** Buffer at least `n` unread bytes; false if the input ends first. */
  async fill(n: number): Promise<boolean> {
    while (this.end - this.start < n) {
      if (!(await this.more())) return false;
    }
    return true;
  }

  async close(): Promise<void> {
    this.eof = true;
    await this.chunks.return?.();
  }
}

/** Bytes kept in front of each file buffer for the unread end of the previous one. */
const FILE_RESERVE = 512 * 1024;
const FILE_READ_BYTES = 4 << 20;

function readInto(fd: number, buf: Buffer, at: number, len: number): Promise<number> {
  return new Promise((resolve, reject) => fsRead(fd, buf, at, len, null, (err, n) => (err ? reject(err) : resolve(n))));
}

/**
 * A plain file read into two reused buffers: while the readers parse one, the next read fills
 * the other, and only the unfinished record at the end of a buffer is copied (into the reserve
 * in front of the next). No allocation per read; a record larger than the reserve (a huge
 * pcapng block) falls back to a joined copy.
 */
export class FileInput extends ByteInput {
  private readonly bufs: [Buffer, Buffer] = [Buffer.allocUnsafe(FILE_RESERVE + FILE_READ_BYTES), Buffer.allocUnsafe(FILE_RESERVE + FILE_READ_BYTES)];
  private current = 1;
  private pending: Promise<number>;

  /** The file's size when it was opened. */
  readonly size: number;

  constructor(
    name: string,
    private readonly fd: number,
  ) {
    super(name, (async function* (): AsyncGenerator<Buffer> {})());
    this.size = fstatSync(fd).size;
    this.pending = readInto(fd, this.bufs[0], FILE_RESERVE, FILE_READ_BYTES);
  }

  override async more(): Promise<boolean> {
    if (this.eof) return false;
    const got = await this.pending;
    if (got === 0) {
      this.eof = true;
      return false;
    }
    const nextIndex = this.current ^ 1;
    const next = this.bufs[nextIndex]!;
    const rest = this.end - this.start;
    if (rest > FILE_RESERVE) {
      const joined = Buffer.allocUnsafe(rest + got);
      this.buf.copy(joined, 0, this.start, this.end);
      next.copy(joined, rest, FILE_RESERVE, FILE_RESERVE + got);
      this.base += this.start;
      this.buf = joined;
      this.start = 0;
      this.end = joined.length;
    } else {
      const at = FILE_RESERVE - rest;
      if (rest > 0) this.buf.copy(next, at, this.start, this.end);
      this.base += this.start - at;
      this.buf = next;
      this.start = at;
      this.end = FILE_RESERVE + got;
    }
    this.current = nextIndex;
    // The other buffer is free now (its unread end was copied): read ahead into it.
    this.pending = readInto(this.fd, this.bufs[nextIndex ^ 1], FILE_RESERVE, FILE_READ_BYTES);
    return true;
  }

  /**
   * Wait for the read in flight, so that nothing moves the descriptor's offset but the caller,
   * and give the descriptor (the C++ table maps the file and reads it itself: native.ts). A
   * failed read stays failed for `more` to report.
   */
  async hold(): Promise<number> {
    await this.pending.catch(() => 0);
    return this.fd;
  }

  /** Go on from byte `offset` of the file, where the descriptor's offset was moved (after `hold`): what was buffered is dropped. */
  resume(offset: number): void {
    this.buf = this.bufs[this.current]!;
    this.start = FILE_RESERVE;
    this.end = FILE_RESERVE;
    this.base = offset - FILE_RESERVE;
    this.eof = false;
    this.pending = readInto(this.fd, this.bufs[this.current ^ 1], FILE_RESERVE, FILE_READ_BYTES);
  }

  override async close(): Promise<void> {
    this.eof = true;
    await this.pending.catch(() => 0);
    await new Promise<void>((resolve) => fsClose(this.fd, () => resolve()));
  }
}

/**
 * Open a capture file (`-` is standard input), undoing gzip compression when the bytes start
 * with gzip's magic, whatever the file is called.
 */
export async function openInput(path: string, stdin: AsyncIterable<Buffer> = process.stdin): Promise<ByteInput> {
  if (path !== '-') {
    const fd = await new Promise<number>((resolve, reject) => fsOpen(path, 'r', (err, fd) => (err ? reject(err) : resolve(fd))));
    const magic = Buffer.alloc(2);
    let n: number;
    try {
      n = readSync(fd, magic, 0, 2, 0);
    } catch (err) {
      fsClose(fd, () => {});
      throw err;
    }
    if (n < 2 || magic[0] !== 0x1f || magic[1] !== 0x8b) return new FileInput(path, fd);
    fsClose(fd, () => {});
    const gunzip = createReadStream(path, { highWaterMark: CHUNK_BYTES }).pipe(createGunzip({ chunkSize: CHUNK_BYTES }));
    return new ByteInput(path, gunzip, true);
  }
  const probe = new ByteInput('<stdin>', stdin);
  await probe.fill(2);
  if (probe.available >= 2 && probe.buf[probe.start] === 0x1f && probe.buf[probe.start + 1] === 0x8b) {
    const rest = async function* () {
      for (;;) {
        if (probe.available > 0) {
          const bytes = probe.buf.subarray(probe.start, probe.end);
          probe.start = probe.end;
          yield bytes;
        }
        if (!(await probe.more())) return;
      }
    };
    const gunzip = Readable.from(rest()).pipe(createGunzip({ chunkSize: CHUNK_BYTES }));
    return new ByteInput('<stdin>', gunzip, true);
  }
  return probe;
}
