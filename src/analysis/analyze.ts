/**
 * The pipeline: captures → frames → segments → connection table → connection reports.
 * Frames and segments are reused objects; only finished connections leave this module.
 * `Analysis` takes frames one at a time (files and live capture alike); `analyze` drives it
 * from capture files.
 */
import { openCapture, readFrames, type CaptureFile } from '../capture/open.js';
import { MAX_FRAME_BYTES } from '../capture/errors.js';
import { PcapReader } from '../capture/pcap.js';
import { FileInput } from '../capture/input.js';
import { isKnownLinkType } from '../decode/link.js';
import type { Frame } from '../capture/frame.js';
import { DECODED_TCP, decodeFrame, UNKNOWN_LINK_TYPE } from '../decode/decode.js';
import { Segment } from '../decode/segment.js';
import { Connection, Tracker } from './flows.js';
import { readConnection } from './handoff.js';
import { NativeTracker, nativeTable, PCAP, ROW, ROW_INFO, ROW_RULES, ROW_SEVERITIES, type DoublesSink } from './native.js';
import type { ConnectionReport, Finding, KeepaliveEvent, Report, Summary } from './model.js';
import { DEFAULT_MIDDLEBOX_TIMEOUT, FindingTally, type LintOptions } from './lint.js';
import { connectionReport, isoTime } from './timeline.js';

export interface AnalyzeOptions {
  /** Keep only connections with this port at either end. */
  port?: number | undefined;
  /** Keep only connections with this address at either end. */
  host?: string | undefined;
  /** Idle timeout (s) of the strictest middlebox on the path, for findings; default 300. */
  middleboxTimeout?: number | undefined;
  /** Events as they happen. */
  onEvent?: ((event: KeepaliveEvent) => void) | undefined;
  /** Standard input, for the path `-` (tests pass their own). */
  stdin?: AsyncIterable<Buffer> | undefined;
  /**
   * List each connection's probes in its report (default). False counts them in
   * `probesOmitted` instead, for output that shows no probe (CSV): much less work per connection.
   */
  probeList?: boolean | undefined;
}

/** Does this connection concern the port/host the user asked about? */
export function selects(report: Pick<ConnectionReport, 'client' | 'server'>, options: AnalyzeOptions): boolean {
  if (options.port === undefined && options.host === undefined) return true;
  const ends = [report.client, report.server];
  if (options.port !== undefined && !ends.some((e) => e.endsWith(`:${options.port}`))) return false;
  if (options.host !== undefined) {
    const host = options.host.replace(/^\[|\]$/g, '').toLowerCase();
    if (!ends.some((e) => e.slice(0, e.lastIndexOf(':')).replace(/^\[|\]$/g, '') === host)) return false;
  }
  return true;
}

/**
 * What becomes of each finished connection: its report, if the user's selection keeps it, is
 * counted and tallied for the summary, and what `keep` makes of it (a CSV row, say) is held
 * until `drain`. The reading thread runs one (Analysis), or the report thread does (handoff.ts).
 */
export class ReportStage<T = ConnectionReport> {
  keepaliveProbes = 0;
  zeroWindowProbes = 0;
  connections = 0;
  readonly tally = new FindingTally();
  readonly lint: LintOptions;
  /** What was kept of the connections finished since the last drain (selected ones only). */
  private done: T[] = [];

  constructor(
    private readonly options: AnalyzeOptions,
    private readonly keep: (report: ConnectionReport) => T,
    readonly probeList: boolean,
  ) {
    this.lint = { middleboxTimeout: options.middleboxTimeout ?? DEFAULT_MIDDLEBOX_TIMEOUT };
  }

  /** The finished connection (the tracker's reused object: its report is made before this returns). */
  add(c: Connection): void {
    const report = connectionReport(c, this.lint, this.probeList);
    if (!selects(report, this.options)) return;
    this.keepaliveProbes += report.probes.length + report.probesOmitted;
    this.zeroWindowProbes += report.zeroWindowProbes;
    this.connections++;
    this.tally.add(report);
    this.done.push(this.keep(report));
  }

  /**
   * `count` finished connections whose CSV rows the C++ table made (NativeTracker.makeRows):
   * each is counted and tallied as `add` counts its report. A connection without a row goes
   * through `add` (read into `conn`: its report, and what `keep` makes of it); one with a
   * finding whose rule has not fired before has its report made for the tally (the summary
   * keeps its message as the example).
   */
  addRows(info: Float64Array, count: number, doubles: Float64Array, conn: Connection): void {
    for (let i = 0; i < count; i++) {
      const at = i * ROW_INFO;
      if (info[at + ROW.findings]! < 0) {
        readConnection(doubles, info[at + ROW.offset]!, conn);
        this.add(conn);
        continue;
      }
      this.keepaliveProbes += info[at + ROW.keepaliveProbes]!;
      this.zeroWindowProbes += info[at + ROW.zeroWindowProbes]!;
      this.connections++;
      if (!this.tally.counted(info, at + ROW.codes, info[at + ROW.findings]!, ROW_RULES, ROW_SEVERITIES)) {
        readConnection(doubles, info[at + ROW.offset]!, conn);
        this.tally.add(connectionReport(conn, this.lint, this.probeList));
      }
    }
  }

  drain(): T[] {
    const out = this.done;
    this.done = [];
    return out;
  }

  /** What the summary needs of the reports so far. */
  totals(): StageTotals {
    return { connections: this.connections, keepaliveProbes: this.keepaliveProbes, zeroWindowProbes: this.zeroWindowProbes, findings: this.tally.findings() };
  }
}

/** What the summary needs of the connections' reports (ReportStage's counts, findings in order of first appearance). */
export interface StageTotals {
  connections: number;
  keepaliveProbes: number;
  zeroWindowProbes: number;
  findings: Finding[];
}

/**
 * One analysis: feed it frames in capture order with `frame`, collect finished connections
 * with `drain`, and end with `finish`. What it keeps of each finished connection is its report,
 * or what `keep` makes of the report at once (a CSV row, say), so that the report itself dies young.
 * With `handOff`, finished connections go there instead (to be reported on another thread), and
 * `finish` takes the totals of their reports.
 */
export class Analysis<T = ConnectionReport> {
  packets = 0;
  tcpSegments = 0;
  /** Frames the C++ table read from the capture bytes itself (bulkReader). */
  nativeFrames = 0;
  private readonly seg = new Segment();
  /** May the C++ table read the capture bytes itself (not with KEEPALIVE_NATIVE=table)? */
  private readonly readsNative: boolean;
  /** KEEPALIVE_NATIVE when this analysis was made (0, table, read, map: docs/cli.md). */
  private readonly nativeMode: string | undefined;
  /** The connection table: in C++ when it is built and nothing needs probe records or events (native.ts). */
  private readonly tracker: Tracker | NativeTracker;
  private readonly stage: ReportStage<T>;
  private readonly unknownLinks = new Map<number, number>();
  private firstSec = -1;
  private firstNsec = 0;
  private lastSec = -1;
  private lastNsec = 0;

  constructor(
    private readonly options: AnalyzeOptions = {},
    keep: (report: ConnectionReport) => T = (r) => r as T,
    handOff?: (conn: Connection) => void,
    /** With handOff: where the C++ table writes finished connections as doubles, as handOff would get them one by one. */
    handOffDoubles?: DoublesSink,
    /**
     * May the C++ table make the connections' CSV rows itself (rows.cc), keeping them in its row
     * store (storedRows, releaseRows)? Then `keep` sees only the connections it leaves to
     * TypeScript. Not with a selection by port or host, nor with KEEPALIVE_NATIVE_ROWS=0.
     */
    csvRowsInC = false,
  ) {
    const probeList = options.probeList ?? true;
    this.stage = new ReportStage(options, keep, probeList);
    // The tracker reuses its Connection object: the report is made (or the connection written out) before it returns.
    const stage = this.stage;
    const onConnection = handOff ?? ((c: Connection): void => stage.add(c));
    const addon = !probeList && options.onEvent === undefined ? nativeTable() : null;
    this.nativeMode = process.env['KEEPALIVE_NATIVE'];
    this.readsNative = this.nativeMode !== 'table';
    this.tracker = addon !== null ? new NativeTracker(addon, onConnection, handOff !== undefined ? handOffDoubles : undefined) : new Tracker({ onConnection, onEvent: options.onEvent, keepProbes: probeList });
    if (csvRowsInC && handOff === undefined && this.tracker instanceof NativeTracker && options.port === undefined && options.host === undefined && process.env['KEEPALIVE_NATIVE_ROWS'] !== '0') {
      const conn = new Connection();
      this.nativeRows = this.tracker.makeRows(stage.lint.middleboxTimeout, (info, count, doubles) => stage.addRows(info, count, doubles, conn));
    }
  }

  /** Does the C++ table make the CSV rows (the constructor's csvRowsInC)? */
  readonly nativeRows: boolean = false;

  /** A row TypeScript made (of a connection the C++ table left to it), into the C++ row store (with nativeRows). */
  storeRow(row: string, firstFrame: number): void {
    (this.tracker as NativeTracker).storeRow(row, firstFrame);
  }

  /** Rows in the C++ row store. */
  get storedRows(): number {
    return this.tracker instanceof NativeTracker ? this.tracker.storedRows : 0;
  }

  /** The rows in the C++ row store of connections begun before frame `before`, in order, joined by CRLF; null when none. */
  releaseRows(before: number): Buffer | null {
    return this.tracker instanceof NativeTracker ? this.tracker.releaseRows(before) : null;
  }

  /** Is the connection table the C++ one? */
  get native(): boolean {
    return this.tracker instanceof NativeTracker;
  }

  /** Connections currently open. */
  get openConnections(): number {
    return this.tracker.open;
  }

  frame(frame: Frame, frameNumber: number): void {
    this.packets++;
    if (this.firstSec < 0) {
      this.firstSec = frame.tsSec;
      this.firstNsec = frame.tsNsec;
    }
    this.lastSec = frame.tsSec;
    this.lastNsec = frame.tsNsec;
    const seg = this.seg;
    const r = decodeFrame(frame, seg);
    if (r === DECODED_TCP) {
      this.tcpSegments++;
      seg.frameNumber = frameNumber;
      this.tracker.add(seg);
    } else if (r === UNKNOWN_LINK_TYPE) {
      this.unknownLinks.set(frame.linkType, (this.unknownLinks.get(frame.linkType) ?? 0) + 1);
    }
  }

  /**
   * For readFrames: where the C++ table can read the file's records itself (classic pcap of a
   * link type decode.ts knows), a function that takes the records buffered after the frame
   * just given, as `frame` would take them one by one, and returns the last frame number used;
   * otherwise undefined. KEEPALIVE_NATIVE=table keeps the reading in JavaScript.
   */
  bulkReader(file: CaptureFile): ((frameNumber: number) => number) | undefined {
    const tracker = this.tracker;
    const reader = file.reader;
    if (!(tracker instanceof NativeTracker) || !tracker.readsPcap || !(reader instanceof PcapReader) || !isKnownLinkType(reader.linkType)) return undefined;
    if (!this.readsNative) return undefined;
    const p = tracker.pcapParams;
    p[PCAP.littleEndian] = reader.littleEndian ? 1 : 0;
    p[PCAP.nanosecond] = reader.nanosecond ? 1 : 0;
    p[PCAP.linkType] = reader.linkType;
    p[PCAP.snaplen] = reader.snaplen;
    p[PCAP.maxFrame] = MAX_FRAME_BYTES;
    const input = file.input;
    return (frameNumber) => {
      this.nativeFrom(reader, frameNumber, input.start);
      tracker.readPcap(input.buf, input.end);
      if (p[PCAP.frames] === 0) return frameNumber;
      input.start = p[PCAP.start]!;
      return this.tookNative(file, p);
    };
  }

  /** readPcap's and startMapped's parameters that change from call to call: where to start, the frame number before, the first frame's time. */
  private nativeFrom(reader: PcapReader, frameNumber: number, start: number): void {
    const p = (this.tracker as NativeTracker).pcapParams;
    p[PCAP.snaplenSaid] = reader.warnedSnaplen ? 1 : 0;
    p[PCAP.frameNumber] = frameNumber;
    p[PCAP.start] = start;
    p[PCAP.firstSec] = this.firstSec;
    p[PCAP.firstNsec] = this.firstNsec;
  }

  /** Count the frames C++ read (as `frame` counts them); returns the last frame number it used. */
  private tookNative(file: CaptureFile, p: Float64Array): number {
    const frames = p[PCAP.frames]!;
    file.framesRead += frames;
    this.nativeFrames += frames;
    this.packets += frames;
    this.tcpSegments += p[PCAP.segments]!;
    if (frames > 0) {
      this.firstSec = p[PCAP.firstSec]!;
      this.firstNsec = p[PCAP.firstNsec]!;
      this.lastSec = p[PCAP.lastSec]!;
      this.lastNsec = p[PCAP.lastNsec]!;
    }
    return p[PCAP.frameNumber]!;
  }

  /**
   * For readFrames: where the C++ table can map the file and read it on a thread of its own (a
   * plain file of MAPPED_MIN_BYTES or more that bulkReader, `bulk`, reads), a function that
   * takes the frames after the one just given, a window of the file at a time: while the thread
   * reads on, the connections the last window finished are reported here. It resolves `done`
   * when the JavaScript reader must go on (at the end of the file, or at a record it has a word
   * about), from where the C++ reading stopped. Otherwise undefined. KEEPALIVE_NATIVE=read
   * reads in C++ on this thread only (bulkReader); =map maps any size, in windows of 4 KiB (for
   * the tests: records cross window ends).
   */
  mappedReader(file: CaptureFile, bulk: ((frameNumber: number) => number) | undefined): ((frameNumber: number) => Promise<{ frameNumber: number; done: boolean }>) | undefined {
    const tracker = this.tracker;
    const input = file.input;
    const mode = this.nativeMode;
    if (bulk === undefined || mode === 'read' || !(tracker instanceof NativeTracker) || !tracker.mapsFiles || !(input instanceof FileInput)) return undefined;
    const window = mode === 'map' ? 4096 : MAPPED_WINDOW_BYTES;
    if (mode !== 'map' && input.size - input.position < MAPPED_MIN_BYTES) return undefined;
    const p = tracker.pcapParams;
    let mapped = 0;
    return async (frameNumber) => {
      if (!this.mapping) {
        // Begin, or begin again after a record the JavaScript reader took.
        const fd = await input.hold();
        if (mapped === 0) mapped = tracker.mapFile(fd);
        // Not to be mapped after all: read in C++ on this thread, as bulkReader does.
        if (mapped < 0) return { frameNumber: bulk(frameNumber), done: true };
        this.nativeFrom(file.reader as PcapReader, frameNumber, input.position);
        tracker.startMapped(window);
        this.mapping = true;
      }
      // The thread reads on while these connections are reported.
      const connections = await tracker.nextWindow();
      const last = this.tookNative(file, p);
      tracker.report(connections);
      if (p[PCAP.goOn] === 1) return { frameNumber: last, done: false };
      tracker.mappedDone();
      this.mapping = false;
      input.resume(p[PCAP.start]!);
      return { frameNumber: last, done: true };
    };
  }

  /** Is a thread of the C++ table reading the mapped file (mappedReader)? */
  private mapping = false;

  /** Stop a thread still reading (the capture failed meanwhile) and let the mapping go; before the files are closed. */
  quiesce(): void {
    if (this.tracker instanceof NativeTracker) {
      if (this.mapping) this.tracker.mappedDone();
      this.mapping = false;
      this.tracker.unmap();
    }
  }

  /** What was kept of the connections finished since the last call (selected ones only). */
  drain(): T[] {
    this.settle();
    return this.stage.drain();
  }

  /**
   * Bring the table up to the last frame given (the C++ table takes segments in batches): what
   * those frames finished is handed on, as flows.ts's Tracker hands it on frame by frame.
   */
  settle(): void {
    if (this.tracker instanceof NativeTracker) this.tracker.flush();
  }

  /** Finalise every connection still open (handed off or reported; the summary is not made yet). */
  finishConnections(): void {
    this.tracker.finish();
  }

  /** First frame of the oldest connection still open (Infinity when none): no connection finalised later starts before it. */
  oldestOpenFrame(): number {
    return this.tracker.oldestOpenFrame();
  }

  /** Reports of every connection still open, as they stand now (for a live view); nothing is finalised. */
  snapshot(): ConnectionReport[] {
    if (this.tracker instanceof NativeTracker) throw new Error('snapshot: the native connection table keeps no objects to show (analyses with events or probe lists use the JavaScript one)');
    return this.tracker.openConnections().map((c) => connectionReport(c, this.stage.lint)).filter((r) => selects(r, this.options));
  }

  /** End of input: finalise what is open; returns the last reports and the summary. */
  finish(files: string[], warnings: string[], totals?: StageTotals): { reports: T[]; summary: Summary } {
    this.tracker.finish();
    const reports = this.stage.drain();
    const t = totals ?? this.stage.totals();
    const all = [...warnings];
    for (const [linkType, n] of this.unknownLinks) {
      all.push(`${n} frame(s) of link type ${linkType} were counted but not decoded (this link type is not supported)`);
    }
    const copies = this.tracker.copies;
    if (copies > 0) {
      all.push(
        `${copies} TCP segment(s) came a second time within 10 ms, identical (the first: frame ${this.tracker.firstCopyFrame}): one packet captured on two ` +
          `interfaces, as tcpdump -i any sees a bridged or routed packet on its way in and out; each copy counts as a frame of its connection but was analysed once`,
      );
    }
    return {
      reports,
      summary: {
        files,
        packets: this.packets,
        tcpSegments: this.tcpSegments,
        connections: t.connections,
        keepaliveProbes: t.keepaliveProbes,
        zeroWindowProbes: t.zeroWindowProbes,
        firstTime: this.firstSec < 0 ? null : isoTime(this.firstSec, this.firstNsec),
        lastTime: this.lastSec < 0 ? null : isoTime(this.lastSec, this.lastNsec),
        findings: t.findings,
        warnings: all,
      },
    };
  }
}

/** Files whose unread part is this big are read by the C++ table on another thread (Analysis.mappedReader)... */
export const MAPPED_MIN_BYTES = 16 << 20;
/** ...this many bytes at a time. */
export const MAPPED_WINDOW_BYTES = 8 << 20;

/**
 * Open the captures and feed them to `analysis`, yielding whenever the reader waits for bytes
 * (connections may have been finalised meanwhile); returns the summary, every connection
 * finalised. The files are closed on every exit path. With `totals`, the connections were
 * handed off (Analysis's handOff) and the summary counts what their reports came to.
 */
export async function* feed<T>(
  paths: readonly string[],
  options: AnalyzeOptions,
  analysis: Analysis<T>,
  totals?: () => Promise<StageTotals>,
): AsyncGenerator<T[], { reports: T[]; summary: Summary }> {
  const files: CaptureFile[] = [];
  try {
    for (const p of paths) files.push(await openCapture(p, options.stdin));
    try {
      const one = files.length === 1 ? files[0]! : undefined;
      const bulk = one !== undefined ? analysis.bulkReader(one) : undefined;
      const mapped = one !== undefined ? analysis.mappedReader(one, bulk) : undefined;
      for await (const _ of readFrames(files, (frame, frameNumber) => analysis.frame(frame, frameNumber), bulk, mapped)) yield analysis.drain();
    } catch (err) {
      // A capture error: the frames before it were analysed, and what they finished was handed on.
      analysis.settle();
      throw err;
    }
    let t: StageTotals | undefined;
    if (totals !== undefined) {
      // Connections handed off: every one of them goes out before the totals of their reports come back.
      analysis.finishConnections();
      t = await totals();
    }
    return analysis.finish(
      files.map((f) => f.name),
      files.flatMap((f) => f.allWarnings()),
      t,
    );
  } finally {
    analysis.quiesce();
    await Promise.all(files.map((f) => f.input.close()));
  }
}

/**
 * Analyse captures (several files are one capture cut in pieces, merged by time). Yields each
 * connection's report as the connection is finalised, and returns the summary.
 */
export async function* analyze(paths: readonly string[], options: AnalyzeOptions = {}): AsyncGenerator<ConnectionReport, Summary> {
  const it = feed(paths, options, new Analysis(options));
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) {
        yield* r.value.reports;
        return r.value.summary;
      }
      yield* r.value;
    }
  } finally {
    // A consumer that stops early closes the files too.
    await it.return(undefined as never);
  }
}

/** Rendered connections waiting for every older one to end: released in order of first frame. */
export class InOrder<T> {
  private waiting: { frame: number; value: T }[] = [];

  get size(): number {
    return this.waiting.length;
  }

  add(entry: { frame: number; value: T }): void {
    this.waiting.push(entry);
  }

  /** Every waiting value, in the order added; none stays. */
  inArrival(): T[] {
    const out = this.waiting.map((w) => w.value);
    this.waiting = [];
    return out;
  }

  /** The waiting values that start before `frame`, in order; the rest stay. */
  release(frame: number): T[] {
    const waiting = this.waiting;
    const ready = waiting.filter((w) => w.frame < frame);
    if (ready.length === 0) return [];
    this.waiting = ready.length === waiting.length ? [] : waiting.filter((w) => w.frame >= frame);
    return ready.sort((x, y) => x.frame - y.frame).map((w) => w.value);
  }
}

/** What waits for older connections to end: values in, released in order of first frame. */
interface Waiting<In, Out> {
  add(entry: { frame: number; value: In }): void;
  readonly size: number;
  release(frame: number): Out[];
}

/**
 * Connections in order of their first frame (as `analyzeToReport` lists them), each turned
 * into what the caller writes (`render`) as soon as it is finalised: only that form waits,
 * and only for older connections still open. Yields batches in order; returns the summary.
 */
export async function* analyzeInOrder<T>(paths: readonly string[], options: AnalyzeOptions, render: (report: ConnectionReport) => T): AsyncGenerator<T[], Summary> {
  // Rendered as each connection is finalised: its report is garbage before the next one's.
  const analysis = new Analysis(options, (r) => ({ frame: r.firstFrame, value: render(r) }));
  return yield* inOrder(paths, options, analysis, new InOrder<T>());
}

/**
 * analyzeInOrder for CSV rows (`render` is csv.ts csvRow): where the C++ table can, it makes the
 * rows itself and keeps them out of the JavaScript heap until they are released, as buffers of
 * rows joined by CRLF; otherwise the rows are `render`'s strings.
 */
export async function* analyzeCsvInOrder(paths: readonly string[], options: AnalyzeOptions, render: (report: ConnectionReport) => string): AsyncGenerator<(string | Buffer)[], Summary> {
  const analysis = new Analysis(options, (r) => ({ frame: r.firstFrame, value: render(r) }), undefined, undefined, true);
  if (!analysis.nativeRows) return yield* inOrder(paths, options, analysis, new InOrder<string>());
  // The rows TypeScript makes join those of C++ in its store.
  const stored: Waiting<string, Buffer> = {
    add: (e) => analysis.storeRow(e.value, e.frame),
    get size() {
      return analysis.storedRows;
    },
    release: (frame) => {
      const rows = analysis.releaseRows(frame);
      return rows === null ? [] : [rows];
    },
  };
  return yield* inOrder(paths, options, analysis, stored);
}

async function* inOrder<In, Out>(paths: readonly string[], options: AnalyzeOptions, analysis: Analysis<{ frame: number; value: In }>, waiting: Waiting<In, Out>): AsyncGenerator<Out[], Summary> {
  const take = (done: { frame: number; value: In }[]): void => {
    for (let i = 0; i < done.length; i++) waiting.add(done[i]!);
  };
  // Asking the table for its oldest open connection costs a pass over it: only when enough waits.
  let threshold = 1024;
  const it = feed(paths, options, analysis);
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) {
        take(r.value.reports);
        yield waiting.release(Number.POSITIVE_INFINITY);
        return r.value.summary;
      }
      take(r.value);
      if (waiting.size >= threshold) {
        const out = waiting.release(analysis.oldestOpenFrame());
        threshold = Math.max(1024, 2 * waiting.size);
        if (out.length > 0) yield out;
      }
    }
  } finally {
    await it.return(undefined as never);
  }
}

/** The whole report at once, connections in order of their first frame. */
export async function analyzeToReport(paths: readonly string[], options: AnalyzeOptions = {}): Promise<Report> {
  const connections: ConnectionReport[] = [];
  const it = analyze(paths, options);
  for (;;) {
    const r = await it.next();
    if (r.done) {
      connections.sort((a, b) => a.firstFrame - b.firstFrame);
      return { version: 1, summary: r.value, connections };
    }
    connections.push(r.value);
  }
}
