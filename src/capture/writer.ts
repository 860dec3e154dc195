/**
 * Capture writers: classic pcap (µs or ns) and pcapng (one section, any interfaces with their
 * own link type and timestamp resolution). Bytes go through a small buffer to a sink: a file
 * descriptor or memory.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { PCAP_MAGIC_NS, PCAP_MAGIC_US } from './pcap.js';

export interface ByteSink {
  write(bytes: Uint8Array): void;
  close(): void;
}

export class MemorySink implements ByteSink {
  private readonly parts: Buffer[] = [];
  write(bytes: Uint8Array): void {
    this.parts.push(Buffer.from(bytes));
  }
  close(): void {}
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** A file opened for writing; 'wx' unless `overwrite`, so nothing is clobbered unasked. */
export class FileSink implements ByteSink {
  private readonly fd: number;
  constructor(path: string, overwrite = false) {
    this.fd = openSync(path, overwrite ? 'w' : 'wx');
  }
  write(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done);
  }
  close(): void {
    closeSync(this.fd);
  }
}

const FLUSH_BYTES = 1 << 20;

abstract class BufferedWriter {
  protected buf = Buffer.alloc(FLUSH_BYTES + 65_536 * 4 + 64);
  protected used = 0;
  constructor(protected readonly sink: ByteSink) {}

  protected reserve(n: number): void {
    if (this.used + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) this.buf = Buffer.alloc(n);
    }
  }

  flush(): void {
    if (this.used > 0) this.sink.write(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  close(): void {
    this.flush();
    this.sink.close();
  }
}

export interface PcapWriterOptions {
  linkType: number;
  snaplen?: number;
  nanosecond?: boolean;
  /** Write big-endian (as a SPARC or PowerPC machine would); default little-endian. */
  bigEndian?: boolean;
}

export class PcapWriter extends BufferedWriter {
  private readonly le: boolean;
  private readonly nano: boolean;
  readonly snaplen: number;

  constructor(sink: ByteSink, options: PcapWriterOptions) {
    super(sink);
    this.le = !options.bigEndian;
    this.nano = options.nanosecond ?? false;
    this.snaplen = options.snaplen ?? 262_144;
    this.reserve(24);
    const b = this.buf;
    const le = this.le;
    const w32 = (v: number, at: number) => (le ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at));
    const w16 = (v: number, at: number) => (le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
    w32(this.nano ? PCAP_MAGIC_NS : PCAP_MAGIC_US, 0);
    w16(2, 4);
    w16(4, 6);
    w32(0, 8);
    w32(0, 12);
    w32(this.snaplen, 16);
    w32(options.linkType, 20);
    this.used = 24;
  }

  /** One frame; `origLen` defaults to the bytes given (they are cut to the snaplen). */
  writeFrame(bytes: Uint8Array, tsSec: number, tsNsec: number, origLen = bytes.length): void {
    const capLen = Math.min(bytes.length, this.snaplen);
    this.reserve(16 + capLen);
    const b = this.buf;
    const at = this.used;
    const frac = this.nano ? tsNsec : Math.floor(tsNsec / 1000);
    if (this.le) {
      b.writeUInt32LE(tsSec >>> 0, at);
      b.writeUInt32LE(frac, at + 4);
      b.writeUInt32LE(capLen, at + 8);
      b.writeUInt32LE(origLen, at + 12);
    } else {
      b.writeUInt32BE(tsSec >>> 0, at);
      b.writeUInt32BE(frac, at + 4);
      b.writeUInt32BE(capLen, at + 8);
      b.writeUInt32BE(origLen, at + 12);
    }
    b.set(bytes.subarray(0, capLen), at + 16);
    this.used = at + 16 + capLen;
  }
}

export interface PcapngInterface {
  linkType: number;
  snaplen?: number;
  /** if_tsresol: decimal digits of the fraction (6 = µs, 9 = ns); default 6. */
  tsDecimals?: number;
  /** if_tsresol as a power of two instead (2^-n s), e.g. 20 for about a microsecond. */
  tsBinaryDigits?: number;
  /** if_tsoffset: seconds added to every timestamp of the interface. */
  tsOffset?: number;
  name?: string;
}

export interface PcapngWriterOptions {
  interfaces: PcapngInterface[];
  application?: string;
  /** Write the section big-endian; default little-endian. */
  bigEndian?: boolean;
}

const SHB = 0x0a0d0d0a;
const IDB = 1;
const EPB = 6;

function pad4(n: number): number {
  return (n + 3) & ~3;
}

interface WrittenInterface {
  snaplen: number;
  /** Units per second as a BigInt, and whether the units are decimal. */
  perSecond: bigint;
  tsOffset: number;
}

/**
 * pcapng writer: a Section Header Block, one IDB per interface, then Enhanced Packet Blocks.
 * `section()` starts a new section (with its own byte order and interfaces), as mergecap does
 * when it concatenates captures.
 */
export class PcapngWriter extends BufferedWriter {
  private interfaces: WrittenInterface[] = [];
  private le = true;

  constructor(sink: ByteSink, options: PcapngWriterOptions) {
    super(sink);
    this.section(options);
  }

  private u32(v: number, at: number): void {
    if (this.le) this.buf.writeUInt32LE(v >>> 0, at);
    else this.buf.writeUInt32BE(v >>> 0, at);
  }

  private u16(v: number, at: number): void {
    if (this.le) this.buf.writeUInt16LE(v, at);
    else this.buf.writeUInt16BE(v, at);
  }

  /** Start a new section: its byte order and interfaces replace the previous ones. */
  section(options: PcapngWriterOptions): void {
    this.le = !options.bigEndian;
    this.interfaces = [];
    const app = Buffer.from(options.application ?? 'keepalive', 'utf8');
    // SHB: type, length, BOM, version 1.0, section length -1, shb_userappl option, end, length.
    const shbLen = 28 + pad4(app.length) + 4 + 4;
    this.reserve(shbLen);
    const o = this.used;
    const b = this.buf;
    this.u32(SHB, o);
    this.u32(shbLen, o + 4);
    this.u32(0x1a2b3c4d, o + 8);
    this.u16(1, o + 12);
    this.u16(0, o + 14);
    this.u32(0xffffffff, o + 16);
    this.u32(0xffffffff, o + 20);
    this.u16(4, o + 24); // shb_userappl
    this.u16(app.length, o + 26);
    b.fill(0, o + 28, o + 28 + pad4(app.length));
    app.copy(b, o + 28);
    this.u32(0, o + 28 + pad4(app.length)); // opt_endofopt
    this.u32(shbLen, o + shbLen - 4);
    this.used += shbLen;
    for (const i of options.interfaces) this.addInterface(i);
  }

  private addInterface(i: PcapngInterface): void {
    const binary = i.tsBinaryDigits !== undefined;
    const digits = binary ? i.tsBinaryDigits! : (i.tsDecimals ?? 6);
    const tsresol = binary ? 0x80 | digits : digits;
    const name = i.name !== undefined ? Buffer.from(i.name, 'utf8') : null;
    const optLen = (name ? 4 + pad4(name.length) : 0) + (tsresol !== 6 ? 8 : 0) + (i.tsOffset ? 12 : 0) + 4;
    const len = 16 + optLen + 4;
    this.reserve(len);
    const b = this.buf;
    let o = this.used;
    this.u32(IDB, o);
    this.u32(len, o + 4);
    this.u16(i.linkType, o + 8);
    this.u16(0, o + 10);
    this.u32(i.snaplen ?? 262_144, o + 12);
    o += 16;
    if (name) {
      this.u16(2, o); // if_name
      this.u16(name.length, o + 2);
      b.fill(0, o + 4, o + 4 + pad4(name.length));
      name.copy(b, o + 4);
      o += 4 + pad4(name.length);
    }
    if (tsresol !== 6) {
      this.u16(9, o); // if_tsresol
      this.u16(1, o + 2);
      b.fill(0, o + 4, o + 8);
      b[o + 4] = tsresol;
      o += 8;
    }
    if (i.tsOffset) {
      this.u16(14, o); // if_tsoffset, a signed 64-bit count of seconds
      this.u16(8, o + 2);
      if (this.le) b.writeBigInt64LE(BigInt(i.tsOffset), o + 4);
      else b.writeBigInt64BE(BigInt(i.tsOffset), o + 4);
      o += 12;
    }
    this.u32(0, o);
    this.u32(len, o + 4);
    this.used += len;
    this.interfaces.push({ snaplen: i.snaplen ?? 262_144, perSecond: binary ? 1n << BigInt(digits) : 10n ** BigInt(digits), tsOffset: i.tsOffset ?? 0 });
  }

  writeFrame(bytes: Uint8Array, tsSec: number, tsNsec: number, origLen = bytes.length, interfaceId = 0): void {
    const iface = this.interfaces[interfaceId];
    if (iface === undefined) throw new RangeError(`no interface ${interfaceId}`);
    const capLen = Math.min(bytes.length, iface.snaplen);
    const len = 32 + pad4(capLen);
    this.reserve(len);
    const b = this.buf;
    const o = this.used;
    // Units since the epoch (less the interface's offset), in BigInt: a float cannot hold
    // nanoseconds since 1970. Fractions finer than a unit are cut, as a capturing kernel does.
    const units = BigInt(tsSec - iface.tsOffset) * iface.perSecond + (BigInt(tsNsec) * iface.perSecond) / 1_000_000_000n;
    this.u32(EPB, o);
    this.u32(len, o + 4);
    this.u32(interfaceId, o + 8);
    this.u32(Number(units >> 32n), o + 12);
    this.u32(Number(units & 0xffffffffn), o + 16);
    this.u32(capLen, o + 20);
    this.u32(origLen, o + 24);
    b.set(bytes.subarray(0, capLen), o + 28);
    b.fill(0, o + 28 + capLen, o + 28 + pad4(capLen));
    this.u32(len, o + len - 4);
    this.used = o + len;
  }
}
