/**
 * The pipeline: captures → frames → segments → connection table → connection reports.
 * Frames and segments are reused objects; only finished connections leave this module.
 */
import { openCapture, readFrames, type CaptureFile } from '../capture/open.js';
import { DECODED_TCP, decodeFrame, UNKNOWN_LINK_TYPE } from '../decode/decode.js';
import { Segment } from '../decode/segment.js';
import { Tracker, type Connection } from './flows.js';
import type { ConnectionReport, KeepaliveEvent, Report, Summary } from './model.js';
import { connectionReport, isoTime } from './timeline.js';

export interface AnalyzeOptions {
  /** Keep only connections with this port at either end. */
  port?: number | undefined;
  /** Keep only connections with this address at either end. */
  host?: string | undefined;
  /** Events as they happen. */
  onEvent?: ((event: KeepaliveEvent) => void) | undefined;
  /** Standard input, for the path `-` (tests pass their own). */
  stdin?: AsyncIterable<Buffer> | undefined;
}

export interface Counts {
  packets: number;
  tcpSegments: number;
}

/** Does this connection concern the port/host the user asked about? */
export function selects(report: Pick<ConnectionReport, 'client' | 'server'>, options: AnalyzeOptions): boolean {
  const ends = [report.client, report.server];
  if (options.port !== undefined && !ends.some((e) => e.endsWith(`:${options.port}`))) return false;
  if (options.host !== undefined) {
    const host = options.host.replace(/^\[|\]$/g, '').toLowerCase();
    if (!ends.some((e) => e.slice(0, e.lastIndexOf(':')).replace(/^\[|\]$/g, '') === host)) return false;
  }
  return true;
}

/**
 * Analyse captures (several files are one capture cut in pieces, merged by time). Yields each
 * connection's report as the connection is finalised, and returns the summary.
 */
export async function* analyze(paths: readonly string[], options: AnalyzeOptions = {}): AsyncGenerator<ConnectionReport, Summary> {
  const files: CaptureFile[] = [];
  try {
    for (const p of paths) files.push(await openCapture(p, options.stdin));
    const done: Connection[] = [];
    const tracker = new Tracker({ onConnection: (c) => done.push(c), onEvent: options.onEvent });
    const seg = new Segment();
    const counts: Counts = { packets: 0, tcpSegments: 0 };
    const unknownLinks = new Map<number, number>();
    let firstSec = -1;
    let firstNsec = 0;
    let lastSec = -1;
    let lastNsec = 0;
    let keepaliveProbes = 0;
    let zeroWindowProbes = 0;
    const finished = (c: Connection): ConnectionReport | null => {
      const report = connectionReport(c);
      if (!selects(report, options)) return null;
      keepaliveProbes += report.probes.length;
      zeroWindowProbes += report.zeroWindowProbes;
      return report;
    };
    let connections = 0;
    const reading = readFrames(files, (frame, frameNumber) => {
      counts.packets++;
      if (firstSec < 0) {
        firstSec = frame.tsSec;
        firstNsec = frame.tsNsec;
      }
      lastSec = frame.tsSec;
      lastNsec = frame.tsNsec;
      const r = decodeFrame(frame, seg);
      if (r === DECODED_TCP) {
        counts.tcpSegments++;
        seg.frameNumber = frameNumber;
        tracker.add(seg);
      } else if (r === UNKNOWN_LINK_TYPE) {
        unknownLinks.set(frame.linkType, (unknownLinks.get(frame.linkType) ?? 0) + 1);
      }
    });
    // Hand out connections finalised so far whenever the reader waits for bytes.
    for await (const _ of reading) {
      while (done.length > 0) {
        const r = finished(done.shift()!);
        if (r !== null) {
          connections++;
          yield r;
        }
      }
    }
    tracker.finish();
    for (const c of done) {
      const r = finished(c);
      if (r !== null) {
        connections++;
        yield r;
      }
    }
    const warnings = files.flatMap((f) => f.allWarnings());
    for (const [linkType, n] of unknownLinks) {
      warnings.push(`${n} frame(s) of link type ${linkType} were counted but not decoded (this link type is not supported)`);
    }
    return {
      files: files.map((f) => f.name),
      packets: counts.packets,
      tcpSegments: counts.tcpSegments,
      connections,
      keepaliveProbes,
      zeroWindowProbes,
      firstTime: firstSec < 0 ? null : isoTime(firstSec, firstNsec),
      lastTime: lastSec < 0 ? null : isoTime(lastSec, lastNsec),
      warnings,
    };
  } finally {
    await Promise.all(files.map((f) => f.input.close()));
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
