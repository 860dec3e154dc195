import { CaptureError, MAX_FRAME_BYTES } from './errors.js';
import type { Frame } from './frame.js';
import type { ByteInput } from './input.js';
import { ViewCache, type FrameReader } from './reader.js';

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
const FILE_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;

/** Is this the start of a classic pcap file (either resolution, either byte order)? */
export function isPcapMagic(b: Uint8Array, at: number): boolean {
  const be = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  const le = ((b[at + 3]! << 24) | (b[at + 2]! << 16) | (b[at + 1]! << 8) | b[at]!) >>> 0;
  return be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS || le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS;
}

/**
 * Classic libpcap format: a 24-byte file header (magic, version, snaplen, link type), then
 * records of a 16-byte header (seconds, micro- or nanoseconds, captured and original length)
 * and the captured bytes. The magic's byte order is the file's byte order.
 */
export class PcapReader implements FrameReader {
  readonly format = 'pcap' as const;
  readonly littleEndian: boolean;
  readonly nanosecond: boolean;
  readonly snaplen: number;
  readonly linkType: number;
  readonly versionMajor: number;
  readonly versionMinor: number;
  needed = RECORD_HEADER_BYTES;
  inside = 'a record header';
  readonly warnings: string[] = [];
  private readonly views = new ViewCache();
  /** Was a record longer than the snaplen met (and said, once)? */
  warnedSnaplen = false;

  /** `input` must hold the 24-byte file header (see `headerBytes`). */
  constructor(readonly input: ByteInput) {
    const b = input.buf;
    const at = input.start;
    if (input.available < FILE_HEADER_BYTES) {
      throw new CaptureError(input.name, input.position + input.available, 'file cut short inside the pcap file header (24 bytes)');
    }
    const be = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
    this.littleEndian = !(be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS);
    const v = this.views.of(b);
    const magic = v.getUint32(at, this.littleEndian);
    if (magic !== PCAP_MAGIC_US && magic !== PCAP_MAGIC_NS) {
      throw new CaptureError(input.name, input.position, `not a pcap file (magic 0x${be.toString(16).padStart(8, '0')})`);
    }
    this.nanosecond = magic === PCAP_MAGIC_NS;
    this.versionMajor = v.getUint16(at + 4, this.littleEndian);
    this.versionMinor = v.getUint16(at + 6, this.littleEndian);
    this.snaplen = v.getUint32(at + 16, this.littleEndian);
    // The upper bits of the link-type field carry FCS information (pcap spec, LinkType and
    // additional information); the link type proper is the low 16 bits.
    this.linkType = v.getUint32(at + 20, this.littleEndian) & 0xffff;
    input.start += FILE_HEADER_BYTES;
  }

  static readonly headerBytes = FILE_HEADER_BYTES;

  next(frame: Frame): boolean {
    const input = this.input;
    const p = input.start;
    const avail = input.end - p;
    if (avail < RECORD_HEADER_BYTES) {
      this.needed = RECORD_HEADER_BYTES;
      this.inside = 'a record header';
      return false;
    }
    const v = this.views.of(input.buf);
    const le = this.littleEndian;
    const capLen = v.getUint32(p + 8, le);
    if (capLen > MAX_FRAME_BYTES) {
      throw new CaptureError(input.name, input.base + p, `record length ${capLen} is larger than ${MAX_FRAME_BYTES} bytes: the file is corrupt`);
    }
    if (avail < RECORD_HEADER_BYTES + capLen) {
      this.needed = RECORD_HEADER_BYTES + capLen;
      this.inside = `a record of ${capLen} bytes`;
      return false;
    }
    if (capLen > this.snaplen && this.snaplen !== 0 && !this.warnedSnaplen) {
      // libpcap reads such records (and cuts them to the snaplen); so does tshark. Say it once.
      this.warnedSnaplen = true;
      this.warnings.push(`${input.name}: byte ${input.base + p}: record of ${capLen} bytes is longer than the file's snaplen ${this.snaplen}`);
    }
    const sec = v.getUint32(p, le);
    const frac = v.getUint32(p + 4, le);
    const origLen = v.getUint32(p + 12, le);
    let ns = this.nanosecond ? frac : frac * 1000;
    let s = sec;
    if (ns >= 1e9) {
      s += Math.floor(ns / 1e9);
      ns %= 1e9;
    }
    frame.data = input.buf;
    frame.offset = p + RECORD_HEADER_BYTES;
    frame.capLen = capLen;
    frame.origLen = origLen < capLen ? capLen : origLen;
    frame.linkType = this.linkType;
    frame.tsSec = s;
    frame.tsNsec = ns;
    frame.fileOffset = input.base + p;
    frame.interfaceId = 0;
    input.start = p + RECORD_HEADER_BYTES + capLen;
    return true;
  }
}
