/**
 * The connection table in C++ (native/table.cc, built by node-gyp into build/Release), for the
 * analyses that list no probe and follow no event: CSV, markdown and check. It keeps the same
 * table as flows.ts's Tracker, step for step, in about 110 ns a packet on the 2 M bench instead
 * of about 290 ns (no report, one thread, this project's machine); segments go to it in
 * batches of doubles, and finished connections come back in handoff.ts's layout, read into a
 * reused Connection. From a classic pcap file, it reads and decodes the records itself
 * (readPcap: Analysis.bulkReader hands it the bytes read), or maps a large file and reads it
 * on a thread of its own (startMapped: Analysis.mappedReader), but for the records PcapReader
 * has a word about. Where the addon is not built (no compiler when installing) or KEEPALIVE_NATIVE=0 is
 * set, the analysis uses Tracker, with the same output; KEEPALIVE_NATIVE=table keeps the
 * reading and decoding in JavaScript.
 */
import { createRequire } from 'node:module';
import { readOptions } from '../decode/tcp.js';
import { SYN, type Segment } from '../decode/segment.js';
import { Connection } from './flows.js';
import { readConnection } from './handoff.js';

/** Doubles per segment in a batch (native/table.cc reads them in this order). */
export const SEGMENT_STRIDE = 22;
/** readPcap's and startMapped's parameters and results (native/table.cc P_*), by index. */
export const PCAP = {
  littleEndian: 0,
  nanosecond: 1,
  linkType: 2,
  snaplen: 3,
  snaplenSaid: 4,
  maxFrame: 5,
  frameNumber: 6,
  start: 7,
  frames: 8,
  segments: 9,
  firstSec: 10,
  firstNsec: 11,
  lastSec: 12,
  lastNsec: 13,
  waiting: 14,
  /** A window of startMapped: 1 when it ended inside a record (the next window takes it), 0 when the JavaScript reader goes on from `start`. */
  goOn: 15,
  /** A window of startMapped: the table's stats as of its end (6 doubles, as `stats`). */
  stats: 16,
} as const;
const PCAP_PARAMS = 22;

/**
 * csvRows's `info`, per connection (native/rows.h ROW_INFO): where it starts in the doubles, its
 * first frame, its keepalive and zero-window probes, how many findings (-1: no row made), and
 * the findings as codes (ROW_RULES index × 3 + ROW_SEVERITIES index).
 */
export const ROW_INFO = 13;
export const ROW = { offset: 0, firstFrame: 1, keepaliveProbes: 2, zeroWindowProbes: 3, findings: 4, codes: 5 } as const;
export const ROW_RULES = ['idle-exceeds-middlebox', 'os-defaults', 'probes-unanswered', 'peer-reset', 'silent-gap', 'keepalive-and-heartbeat'] as const;
export const ROW_SEVERITIES = ['info', 'warning', 'error'] as const;

/** What csvRows made of a batch of `count` connections (its rows went into the row store): their info, and the doubles they came from. */
export type RowSink = (info: Float64Array, count: number, doubles: Float64Array) => void;

/** Segments fed to the table per call. */
const BATCH = 4096;

interface Addon {
  layout: { segmentStride: number; pcapParams?: number; rowInfo?: number };
  create(): object;
  add(table: object, segments: Float64Array, count: number): number;
  take(table: object, into: Float64Array, at: number, info: Float64Array): void;
  /** Reads classic pcap records into the table (see NativeTracker.readPcap); absent from an addon built before it. */
  readPcap?(table: object, bytes: Uint8Array, end: number, params: Float64Array): void;
  /** Maps the regular file open on `fd` for startMapped: its size, -1 when it cannot be mapped. */
  mapFile?(table: object, fd: number): number;
  unmap?(table: object): void;
  /** Reads the mapped file on a thread of its own, `window` bytes at a time, calling `wake` here as each is queued; the table is off limits until stopMapped. */
  startMapped?(table: object, params: Float64Array, window: number, wake: () => void): void;
  /** The oldest window queued becomes the current one (its parameters into `params`): its doubles, or -1 when none is queued. */
  nextWindow?(table: object, params: Float64Array): number;
  /** The current window's connections into `into` from `at` (as take). */
  takeWindow?(table: object, into: Float64Array, at: number, info: Float64Array): void;
  stopMapped?(table: object): void;
  /** Finalises the next few open connections: the doubles they take, -1 once none is left. */
  finish(table: object): number;
  /** CSV rows of the `count` connections at the start of `doubles` (rows.cc): a hole where the TypeScript report must make the row; `info` gets ROW_INFO doubles each. Absent from an addon built before it. */
  csvRows?(doubles: Float64Array, count: number, middleboxTimeout: number, info: Float64Array, store?: object): (string | undefined)[];
  /** A store for rows that wait for older connections (csvRows puts its rows there when given one). */
  rowStore?(): object;
  storeRow?(store: object, row: string, firstFrame: number): void;
  storedRows?(store: object): number;
  /** The stored rows of first frame below `before`, in that order, joined by CRLF into one Buffer (null when none), and forgotten. */
  releaseRows?(store: object, before: number): Buffer | null;
  /** String(x), x.toFixed(digits) for digits 0-3, units.ts seconds(x) otherwise, as rows.cc writes them (for the tests). */
  formatNumber?(x: number, digits?: number): string;
  stats(table: object, into: Float64Array, oldest: boolean): void;
}

let loaded: Addon | null | undefined;

/** The addon, or null when it is not built, does not load, or KEEPALIVE_NATIVE=0 asks for the JavaScript table. */
export function nativeTable(): Addon | null {
  if (process.env['KEEPALIVE_NATIVE'] === '0') return null;
  if (loaded === undefined) {
    try {
      const addon = createRequire(import.meta.url)('../../build/Release/keepalive_table.node') as Addon;
      loaded = addon.layout?.segmentStride === SEGMENT_STRIDE ? addon : null;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/**
 * Where finished connections go as doubles, as they come from the table (threaded.ts moves
 * them to the report thread as they are): `room` makes space for `doubles` more, `wrote` says
 * that `count` connections were written there, the lowest first frame among them.
 */
export interface DoublesSink {
  room(doubles: number): { buffer: Float64Array; at: number };
  wrote(doubles: number, count: number, firstFrame: number): void;
}

/** Tracker's face for the analyses without probe records or events (analyze.ts picks it). */
export class NativeTracker {
  private readonly addon: Addon;
  private readonly table: object;
  private readonly batch = new Float64Array(BATCH * SEGMENT_STRIDE);
  private count = 0;
  private out = new Float64Array(1 << 16);
  private readonly conn = new Connection();
  private readonly stat = new Float64Array(6);
  private readonly taken = new Float64Array(2);

  /** Finished connections go to `onConnection` one by one, or to `sink` as doubles. */
  constructor(
    addon: Addon,
    private readonly onConnection: (conn: Connection) => void,
    private readonly sink?: DoublesSink,
  ) {
    this.addon = addon;
    this.table = addon.create();
  }

  add(seg: Segment): void {
    // The table reads the window scale of SYNs only (flows.ts reads their options itself).
    if ((seg.flags & SYN) !== 0) readOptions(seg);
    const b = this.batch;
    const o = this.count * SEGMENT_STRIDE;
    b[o] = seg.frameNumber;
    b[o + 1] = seg.tsSec;
    b[o + 2] = seg.tsNsec;
    b[o + 3] = seg.ipVersion;
    b[o + 4] = seg.src0;
    b[o + 5] = seg.src1;
    b[o + 6] = seg.src2;
    b[o + 7] = seg.src3;
    b[o + 8] = seg.dst0;
    b[o + 9] = seg.dst1;
    b[o + 10] = seg.dst2;
    b[o + 11] = seg.dst3;
    b[o + 12] = seg.srcPort;
    b[o + 13] = seg.dstPort;
    b[o + 14] = seg.seq;
    b[o + 15] = seg.ack;
    b[o + 16] = seg.flags;
    b[o + 17] = seg.window;
    b[o + 18] = seg.checksum;
    b[o + 19] = seg.ipId;
    b[o + 20] = seg.payloadLen;
    b[o + 21] = (seg.flags & SYN) !== 0 ? seg.windowScale : -1;
    if (++this.count === BATCH) this.flush();
  }

  /** Feed the segments batched so far and hand out the connections they finished, in the order they finished. */
  flush(): void {
    if (this.count > 0) {
      const n = this.count;
      this.count = 0;
      this.deliver(this.addon.add(this.table, this.batch, n));
    }
  }

  /** Finalise every connection still open (end of capture), a few hundred at a time. */
  finish(): void {
    this.flush();
    for (;;) {
      const waiting = this.addon.finish(this.table);
      if (waiting < 0) return;
      this.deliver(waiting);
    }
  }

  /** Can the table read classic pcap records itself (readPcap)? */
  get readsPcap(): boolean {
    return this.addon.readPcap !== undefined && this.addon.layout.pcapParams === PCAP_PARAMS;
  }

  /** Parameters for readPcap and startMapped, and what they tell back, reused. */
  readonly pcapParams = new Float64Array(PCAP_PARAMS);
  /** The stats as of the end of the last window taken, while a thread reads the mapped file (the table is off limits). */
  private mappedStats: Float64Array | null = null;
  /** Resolves the wait for the next window (startMapped's wake). */
  private waiter: (() => void) | null = null;

  /** Can the table map a file and read it on a thread of its own (startMapped)? */
  get mapsFiles(): boolean {
    return this.readsPcap && this.addon.startMapped !== undefined && this.addon.mapFile !== undefined;
  }

  /** Map the file open on `fd`: its size, or -1 when it cannot be mapped. */
  mapFile(fd: number): number {
    return this.addon.mapFile!(this.table, fd);
  }

  /**
   * Read the mapped file from pcapParams[PCAP.start] on, `window` bytes at a time, on a thread
   * of its own (nextWindow takes what each window did). Until mappedDone, the counts and the
   * oldest open frame are those of the end of the last window taken.
   */
  startMapped(window: number): void {
    this.flush();
    this.mappedStats = new Float64Array(6).fill(Number.NaN);
    this.addon.startMapped!(this.table, this.pcapParams, window, () => {
      const w = this.waiter;
      this.waiter = null;
      w?.();
    });
  }

  /**
   * The next window the thread read: its parameters into pcapParams, its finished connections
   * into the sink or into the buffer `report` goes through (their count returned for it).
   */
  async nextWindow(): Promise<number> {
    let doubles = this.addon.nextWindow!(this.table, this.pcapParams);
    while (doubles < 0) {
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
      doubles = this.addon.nextWindow!(this.table, this.pcapParams);
    }
    const p = this.pcapParams;
    this.mappedStats!.set(p.subarray(PCAP.stats, PCAP.stats + 6));
    return this.take(doubles, this.addon.takeWindow!);
  }

  /** Stop the reading thread (after the window it is in), dropping what it queued. */
  stopMapped(): void {
    this.addon.stopMapped?.(this.table);
    this.waiter = null;
  }

  /** The file is read by JavaScript again (or no more): the thread is stopped, the counts come from the table. */
  mappedDone(): void {
    this.stopMapped();
    this.mappedStats = null;
  }

  unmap(): void {
    this.addon.unmap?.(this.table);
  }

  /**
   * The records of bytes[pcapParams[PCAP.start], end) that PcapReader.next would take without a
   * word, read, decoded (decode.ts's rules) and fed to the table in C++, in order after the
   * segments batched so far; pcapParams says how far it went and what it took.
   */
  readPcap(bytes: Uint8Array, end: number): void {
    this.flush();
    this.addon.readPcap!(this.table, bytes, end, this.pcapParams);
    this.deliver(this.pcapParams[PCAP.waiting]!);
  }

  oldestOpenFrame(): number {
    if (this.mappedStats !== null) return this.mappedStats[5]!;
    this.flush();
    this.addon.stats(this.table, this.stat, true);
    return this.stat[5]!;
  }

  get open(): number {
    return this.stats()[0]!;
  }

  get keepaliveProbes(): number {
    return this.stats()[1]!;
  }

  get zeroWindowProbes(): number {
    return this.stats()[2]!;
  }

  get copies(): number {
    return this.stats()[3]!;
  }

  get firstCopyFrame(): number {
    return this.stats()[4]!;
  }

  private stats(): Float64Array {
    if (this.mappedStats !== null) return this.mappedStats;
    this.flush();
    this.addon.stats(this.table, this.stat, false);
    return this.stat;
  }

  private deliver(doubles: number): void {
    this.report(this.take(doubles));
  }

  /**
   * Take the `doubles` of finished connections waiting in the table (or in the current window,
   * with `from` takeWindow): into the sink (0 returned), or into `out` (their count returned, for `report`).
   */
  private take(doubles: number, from: Addon['take'] = this.addon.take): number {
    if (doubles === 0) return 0;
    if (this.sink !== undefined) {
      const { buffer, at } = this.sink.room(doubles);
      from(this.table, buffer, at, this.taken);
      this.sink.wrote(doubles, this.taken[0]!, this.taken[1]!);
      return 0;
    }
    if (this.out.length < doubles) this.out = new Float64Array(Math.max(doubles, 2 * this.out.length));
    from(this.table, this.out, 0, this.taken);
    return this.taken[0]!;
  }

  /** Where finished connections go once their CSV rows are made in C++ (makeRows), instead of onConnection. */
  private rows: RowSink | null = null;
  /** The rows made in C++ (and those TypeScript made, storeRow), waiting for older connections. */
  private store: object | null = null;
  private rowInfo = new Float64Array(0);
  private middleboxTimeout = 0;

  /**
   * From now on the finished connections become CSV rows in C++ (csv.ts csvRow of their report,
   * with `middleboxTimeout`) kept in a row store, and `sink` gets what it needs to count them;
   * false when this addon cannot make them (the connections then still go to onConnection).
   */
  makeRows(middleboxTimeout: number, sink: RowSink): boolean {
    const a = this.addon;
    if (a.csvRows === undefined || a.rowStore === undefined || a.releaseRows === undefined || a.layout.rowInfo !== ROW_INFO || this.sink !== undefined) return false;
    this.store = a.rowStore();
    this.middleboxTimeout = middleboxTimeout;
    this.rows = sink;
    return true;
  }

  /** A row made in TypeScript (of a connection csvRows left), into the row store. */
  storeRow(row: string, firstFrame: number): void {
    this.addon.storeRow!(this.store!, row, firstFrame);
  }

  /** Rows waiting in the row store. */
  get storedRows(): number {
    return this.store === null ? 0 : this.addon.storedRows!(this.store);
  }

  /** The stored rows of connections begun before frame `before`, in order of first frame, joined by CRLF; null when none. */
  releaseRows(before: number): Buffer | null {
    return this.store === null ? null : this.addon.releaseRows!(this.store, before);
  }

  /** Hand on the `connections` that `take` put in `out`, one by one (or as rows, after makeRows). */
  report(connections: number): void {
    if (this.rows !== null) {
      if (connections === 0) return;
      if (this.rowInfo.length < connections * ROW_INFO) this.rowInfo = new Float64Array(Math.max(connections, 1024) * ROW_INFO);
      this.addon.csvRows!(this.out, connections, this.middleboxTimeout, this.rowInfo, this.store!);
      this.rows(this.rowInfo, connections, this.out);
      return;
    }
    let at = 0;
    for (let i = 0; i < connections; i++) {
      at = readConnection(this.out, at, this.conn);
      this.onConnection(this.conn);
    }
  }
}
