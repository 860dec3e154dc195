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
  name?: string;
}

export interface PcapngWriterOptions {
  interfaces: PcapngInterface[];
  application?: string;
}

const SHB = 0x0a0d0d0a;
const IDB = 1;
const EPB = 6;

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** pcapng writer (little-endian): a Section Header Block, one IDB per interface, then EPBs. */
export class PcapngWriter extends BufferedWriter {
  private readonly interfaces: Required<Omit<PcapngInterface, 'name'>>[] = [];

  constructor(sink: ByteSink, options: PcapngWriterOptions) {
    super(sink);
    const app = Buffer.from(options.application ?? 'keepalive', 'utf8');
    // SHB: type, length, BOM, version 1.0, section length -1, shb_userappl option, end, length.
    const shbLen = 28 + 4 + pad4(app.length) + 4;
    this.reserve(shbLen);
    let o = this.used;
    const b = this.buf;
    b.writeUInt32LE(SHB, o);
    b.writeUInt32LE(shbLen, o + 4);
    b.writeUInt32LE(0x1a2b3c4d, o + 8);
    b.writeUInt16LE(1, o + 12);
    b.writeUInt16LE(0, o + 14);
    b.writeInt32LE(-1, o + 16);
    b.writeInt32LE(-1, o + 20);
    b.writeUInt16LE(4, o + 24); // shb_userappl
    b.writeUInt16LE(app.length, o + 26);
    b.fill(0, o + 28, o + 28 + pad4(app.length));
    app.copy(b, o + 28);
    o += 28 + pad4(app.length);
    b.writeUInt32LE(0, o); // opt_endofopt
    b.writeUInt32LE(shbLen, o + 4);
    this.used += shbLen;
    for (const i of options.interfaces) this.addInterface(i);
  }

  private addInterface(i: PcapngInterface): void {
    const tsDecimals = i.tsDecimals ?? 6;
    const name = i.name !== undefined ? Buffer.from(i.name, 'utf8') : null;
    const optLen = (name ? 4 + pad4(name.length) : 0) + (tsDecimals !== 6 ? 8 : 0) + 4;
    const len = 16 + optLen + 4;
    this.reserve(len);
    const b = this.buf;
    let o = this.used;
    b.writeUInt32LE(IDB, o);
    b.writeUInt32LE(len, o + 4);
    b.writeUInt16LE(i.linkType, o + 8);
    b.writeUInt16LE(0, o + 10);
    b.writeUInt32LE(i.snaplen ?? 262_144, o + 12);
    o += 16;
    if (name) {
      b.writeUInt16LE(2, o); // if_name
      b.writeUInt16LE(name.length, o + 2);
      b.fill(0, o + 4, o + 4 + pad4(name.length));
      name.copy(b, o + 4);
      o += 4 + pad4(name.length);
    }
    if (tsDecimals !== 6) {
      b.writeUInt16LE(9, o); // if_tsresol
      b.writeUInt16LE(1, o + 2);
      b.writeUInt32LE(tsDecimals, o + 4); // the value byte, then 3 bytes of padding
      o += 8;
    }
    b.writeUInt32LE(0, o);
    b.writeUInt32LE(len, o + 4);
    this.used += len;
    this.interfaces.push({ linkType: i.linkType, snaplen: i.snaplen ?? 262_144, tsDecimals });
  }

  writeFrame(bytes: Uint8Array, tsSec: number, tsNsec: number, origLen = bytes.length, interfaceId = 0): void {
    const iface = this.interfaces[interfaceId];
    if (iface === undefined) throw new RangeError(`no interface ${interfaceId}`);
    const capLen = Math.min(bytes.length, iface.snaplen);
    const len = 32 + pad4(capLen);
    this.reserve(len);
    const b = this.buf;
    const o = this.used;
    // Units since the epoch: seconds × 10^d + the fraction, split into two 32-bit halves
    // without going through a float that cannot hold nanoseconds since 1970.
    const perSec = 10 ** iface.tsDecimals;
    const frac = iface.tsDecimals >= 9 ? tsNsec * 10 ** (iface.tsDecimals - 9) : Math.floor(tsNsec / 10 ** (9 - iface.tsDecimals));
    const units = BigInt(tsSec) * BigInt(perSec) + BigInt(frac);
    b.writeUInt32LE(EPB, o);
    b.writeUInt32LE(len, o + 4);
    b.writeUInt32LE(interfaceId, o + 8);
    b.writeUInt32LE(Number(units >> 32n), o + 12);
    b.writeUInt32LE(Number(units & 0xffffffffn), o + 16);
    b.writeUInt32LE(capLen, o + 20);
    b.writeUInt32LE(origLen, o + 24);
    b.set(bytes.subarray(0, capLen), o + 28);
    b.fill(0, o + 28 + capLen, o + 28 + pad4(capLen));
    b.writeUInt32LE(len, o + len - 4);
    this.used = o + len;
  }
}
