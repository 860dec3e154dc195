import { CaptureError, MAX_FRAME_BYTES } from './errors.js';
import type { Frame } from './frame.js';
import type { ByteInput } from './input.js';
import { ViewCache, type FrameReader } from './reader.js';

export const SHB_TYPE = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const IDB_TYPE = 0x00000001;
const OBSOLETE_PB_TYPE = 0x00000002;
const SPB_TYPE = 0x00000003;
const EPB_TYPE = 0x00000006;
/** Blocks other than packets (name resolution, statistics, custom, TLS keys…) may be larger than a frame, but not without bound. */
const MAX_BLOCK_BYTES = 16 * 1024 * 1024;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

export function isPcapngMagic(b: Uint8Array, at: number): boolean {
  return b[at] === 0x0a && b[at + 1] === 0x0d && b[at + 2] === 0x0d && b[at + 3] === 0x0a;
}

/**
 * Timestamp arithmetic of one interface. pcapng timestamps are a 64-bit count of units
 * (10^-n or 2^-n s, `if_tsresol`); split into whole seconds and nanoseconds without BigInt
 * and without losing precision beyond 2^53.
 */
class TimeUnits {
  readonly perSecond: number;
  private readonly qDiv: number; // 2^32 = qDiv * perSecond + qMod
  private readonly qMod: number;
  private readonly d1: number; // 65536 * qMod = d1 * perSecond + m1
  private readonly m1: number;
  private readonly exact: boolean;

  constructor(
    tsresol: number,
    readonly offsetSec: number,
  ) {
    const pow2 = (tsresol & 0x80) !== 0;
    const exp = tsresol & 0x7f;
    this.perSecond = pow2 ? 2 ** exp : 10 ** exp;
    this.exact = this.perSecond <= 2 ** 32 && Number.isInteger(this.perSecond);
    const u = this.perSecond;
    this.qDiv = Math.floor(2 ** 32 / u);
    this.qMod = 2 ** 32 - this.qDiv * u;
    this.d1 = Math.floor((65536 * this.qMod) / u);
    this.m1 = 65536 * this.qMod - this.d1 * u;
  }

  set(hi: number, lo: number, frame: Frame): void {
    const u = this.perSecond;
    let sec: number;
    let rem: number;
    if (this.exact) {
      const hh = Math.floor(hi / 65536);
      const hl = hi - hh * 65536;
      const r = hh * this.m1 + hl * this.qMod + lo;
      const q = Math.floor(r / u);
      sec = hi * this.qDiv + hh * this.d1 + q;
      rem = r - q * u;
    } else {
      // Resolutions finer than 2^-32 s are rare enough for BigInt.
      const units = (BigInt(hi) << 32n) | BigInt(lo);
      const big = BigInt(u);
      sec = Number(units / big);
      rem = Number(units % big);
    }
    frame.tsSec = sec + this.offsetSec;
    frame.tsNsec = u === 1e9 ? rem : u === 1e6 ? rem * 1000 : Math.floor((rem * 1e9) / u);
  }
}

interface Interface {
  linkType: number;
  snaplen: number;
  time: TimeUnits;
}

/**
 * pcapng (the pcapng specification, draft-ietf-opsawg-pcapng): a sequence of sections, each
 * opened by a Section Header Block that sets the byte order for the section and forgets the
 * interfaces of the previous one. Interface Description Blocks give each interface its link
 * type, snaplen and timestamp resolution/offset; packets come in Enhanced, Simple or
 * obsolete Packet Blocks. Every other block is skipped by its length.
 */
export class PcapngReader implements FrameReader {
  readonly format = 'pcapng' as const;
  needed = 12;
  inside = 'a block header';
  readonly warnings: string[] = [];
  private littleEndian = true;
  private interfaces: Interface[] = [];
  private sections = 0;
  private lastSec = 0;
  private lastNsec = 0;
  private readonly views = new ViewCache();

  constructor(readonly input: ByteInput) {}

  /** Link types of every interface described so far (for reporting). */
  get linkTypes(): number[] {
    return this.interfaces.map((i) => i.linkType);
  }

  next(frame: Frame): boolean {
    const input = this.input;
    for (;;) {
      const p = input.start;
      const avail = input.end - p;
      if (avail < 12) {
        this.needed = 12;
        this.inside = 'a block header';
        return false;
      }
      const b = input.buf;
      const v = this.views.of(b);
      const offset = input.base + p;
      const isShb = isPcapngMagic(b, p);
      if (this.sections === 0 && !isShb) {
        throw new CaptureError(input.name, offset, 'not a pcapng file (no Section Header Block)');
      }
      if (isShb) {
        // The byte-order magic decides how to read this block's own length.
        const bom = v.getUint32(p + 8, true);
        if (bom === BYTE_ORDER_MAGIC) this.littleEndian = true;
        else if (v.getUint32(p + 8, false) === BYTE_ORDER_MAGIC) this.littleEndian = false;
        else throw new CaptureError(input.name, offset + 8, `bad pcapng byte-order magic 0x${bom.toString(16)}`);
      }
      const le = this.littleEndian;
      const type = v.getUint32(p, le);
      const len = v.getUint32(p + 4, le);
      if (len < 12 || len % 4 !== 0) {
        throw new CaptureError(input.name, offset + 4, `pcapng block length ${len} is ${len < 12 ? 'below the minimum of 12' : 'not a multiple of 4'}`);
      }
      if (len > MAX_BLOCK_BYTES) {
        throw new CaptureError(input.name, offset + 4, `pcapng block length ${len} is larger than ${MAX_BLOCK_BYTES} bytes: the file is corrupt`);
      }
      if (avail < len) {
        this.needed = len;
        this.inside = `a pcapng block of ${len} bytes (type 0x${type.toString(16)})`;
        return false;
      }
      const trailer = v.getUint32(p + len - 4, le);
      if (trailer !== len) {
        throw new CaptureError(input.name, offset + len - 4, `pcapng block length ${len} does not match its trailing copy ${trailer}`);
      }
      input.start = p + len;
      switch (type) {
        case SHB_TYPE:
          this.sections++;
          this.interfaces = [];
          break;
        case IDB_TYPE:
          this.readInterface(v, p, len, offset);
          break;
        case EPB_TYPE: {
          if (len < 32) throw new CaptureError(input.name, offset, `Enhanced Packet Block of ${len} bytes is too short`);
          const ifId = v.getUint32(p + 8, le);
          const iface = this.iface(ifId, offset + 8);
          const capLen = v.getUint32(p + 20, le);
          this.checkCapLen(capLen, len - 32, offset + 20);
          iface.time.set(v.getUint32(p + 12, le), v.getUint32(p + 16, le), frame);
          this.emit(frame, p + 28, capLen, v.getUint32(p + 24, le), iface, ifId, offset);
          return true;
        }
        case SPB_TYPE: {
          if (len < 16) throw new CaptureError(input.name, offset, `Simple Packet Block of ${len} bytes is too short`);
          const iface = this.iface(0, offset);
          const origLen = v.getUint32(p + 8, le);
          let capLen = Math.min(origLen, len - 16);
          if (iface.snaplen !== 0 && capLen > iface.snaplen) capLen = iface.snaplen;
          this.checkCapLen(capLen, len - 16, offset + 8);
          // A Simple Packet Block carries no timestamp: keep the previous one so time order holds.
          frame.tsSec = this.lastSec;
          frame.tsNsec = this.lastNsec;
          this.emit(frame, p + 12, capLen, origLen, iface, 0, offset);
          return true;
        }
        case OBSOLETE_PB_TYPE: {
          if (len < 32) throw new CaptureError(input.name, offset, `Packet Block of ${len} bytes is too short`);
          const ifId = v.getUint16(p + 8, le);
          const iface = this.iface(ifId, offset + 8);
          const capLen = v.getUint32(p + 20, le);
          this.checkCapLen(capLen, len - 32, offset + 20);
          iface.time.set(v.getUint32(p + 12, le), v.getUint32(p + 16, le), frame);
          this.emit(frame, p + 28, capLen, v.getUint32(p + 24, le), iface, ifId, offset);
          return true;
        }
        default:
          break; // skipped by its length
      }
    }
  }

  private emit(frame: Frame, at: number, capLen: number, origLen: number, iface: Interface, ifId: number, offset: number): void {
    frame.data = this.input.buf;
    frame.offset = at;
    frame.capLen = capLen;
    frame.origLen = origLen < capLen ? capLen : origLen;
    frame.linkType = iface.linkType;
    frame.fileOffset = offset;
    frame.interfaceId = ifId;
    this.lastSec = frame.tsSec;
    this.lastNsec = frame.tsNsec;
  }

  private checkCapLen(capLen: number, room: number, offset: number): void {
    if (capLen > MAX_FRAME_BYTES) {
      throw new CaptureError(this.input.name, offset, `packet length ${capLen} is larger than ${MAX_FRAME_BYTES} bytes: the file is corrupt`);
    }
    if (capLen > room) {
      throw new CaptureError(this.input.name, offset, `packet length ${capLen} does not fit in its block (${room} bytes of room)`);
    }
  }

  private iface(id: number, offset: number): Interface {
    const iface = this.interfaces[id];
    if (iface === undefined) {
      throw new CaptureError(this.input.name, offset, `packet names interface ${id}, but the section describes ${this.interfaces.length}`);
    }
    return iface;
  }

  private readInterface(v: DataView, p: number, len: number, offset: number): void {
    const le = this.littleEndian;
    if (len < 20) throw new CaptureError(this.input.name, offset, `Interface Description Block of ${len} bytes is too short`);
    const linkType = v.getUint16(p + 8, le);
    const snaplen = v.getUint32(p + 12, le);
    let tsresol = 6;
    let offsetSec = 0;
    let o = p + 16;
    const end = p + len - 4;
    while (o + 4 <= end) {
      const code = v.getUint16(o, le);
      const olen = v.getUint16(o + 2, le);
      if (code === 0) break;
      if (o + 4 + olen > end) {
        throw new CaptureError(this.input.name, this.input.base + o, `interface option ${code} of ${olen} bytes runs past its block`);
      }
      if (code === OPT_IF_TSRESOL && olen >= 1) tsresol = v.getUint8(o + 4);
      else if (code === OPT_IF_TSOFFSET && olen >= 8) {
        const hi = le ? v.getInt32(o + 8, true) : v.getInt32(o + 4, false);
        const lo = le ? v.getUint32(o + 4, true) : v.getUint32(o + 8, false);
        offsetSec = hi * 2 ** 32 + lo;
      }
      o += 4 + ((olen + 3) & ~3);
    }
    const exp = tsresol & 0x7f;
    if ((tsresol & 0x80) === 0 ? exp > 18 : exp > 63) {
      throw new CaptureError(this.input.name, offset, `interface timestamp resolution 0x${tsresol.toString(16)} is out of range`);
    }
    this.interfaces.push({ linkType, snaplen, time: new TimeUnits(tsresol, offsetSec) });
  }
}
