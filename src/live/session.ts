/**
 * One live capture: frames from a live source go through the same `Analysis` as a file's
 * frames, and (with `write`) into a capture file, until the duration, the frame count or the
 * caller's signal ends it. Keepalive events are passed on as they happen, with the frame's
 * time, and a verdict event whenever a connection's keepalive fate changes.
 */
import { unlinkSync } from 'node:fs';
import { extname } from 'node:path';
import { Analysis, selects } from '../analysis/analyze.js';
import type { ConnectionReport, KeepaliveEvent, Report, Side, Verdict } from '../analysis/model.js';
import type { Frame } from '../capture/frame.js';
import { FileSink, PcapngWriter, PcapWriter } from '../capture/writer.js';
import { LiveError } from './cap.js';
import { CAP_SNAPLEN, openSource, type FrameSource, type SourceOptions, type SourceStats } from './source.js';

export interface LiveOptions extends SourceOptions {
  /** Stop after this many seconds. */
  durationSeconds?: number | undefined;
  /** Stop after this many frames (tcpdump's -c). */
  count?: number | undefined;
  /** Also write the frames to this capture file (pcapng, or classic pcap when it ends in .pcap); never overwrites. */
  write?: string | undefined;
  /** Only connections with this port / address at either end (as `analyze`). */
  port?: number | undefined;
  host?: string | undefined;
  /** Events as they happen. */
  onEvent?: ((event: LiveEvent) => void) | undefined;
  /** Called once the capture is open and frames flow. */
  onReady?: ((source: { iface: string; linkType: number }) => void) | undefined;
  /** Aborting it ends the capture normally (Ctrl-C). */
  signal?: AbortSignal | undefined;
  /** The name the summary gives the input when nothing is written (default `live:IFACE`). */
  label?: string | undefined;
}

interface EventBase {
  frame: number;
  connection: { client: string; server: string };
  tsSec: number;
  tsNsec: number;
}

export type LiveEvent =
  | (EventBase & {
      type: 'keepalive';
      kind: KeepaliveEvent['kind'];
      from: Side;
      /** Probes: seconds since the same side's previous probe (null for its first). Replies: seconds since the probe. */
      seconds: number | null;
    })
  | (EventBase & { type: 'verdict'; verdict: Verdict })
  | (EventBase & { type: 'end'; report: ConnectionReport });

export type StopReason = 'duration' | 'count' | 'signal' | 'source-ended';

export interface LiveStats extends SourceStats {
  iface: string;
  linkType: number;
  /** Frames captured and analysed. */
  frames: number;
  seconds: number;
  stoppedBy: StopReason;
}

export interface LiveResult {
  report: Report;
  stats: LiveStats;
  /** The capture file written, if any. */
  file: string | null;
}

/** A capture file opened before the capture starts, so an existing file is refused first. */
function openOutput(path: string): FileSink {
  try {
    return new FileSink(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'EEXIST' ? 'already exists; refusing to overwrite it' : e.code === 'ENOENT' ? 'no such directory' : e.code === 'EISDIR' ? 'is a directory' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new LiveError('output', `-w ${path}: ${why}`);
  }
}

function makeWriter(sink: FileSink, path: string, linkType: number, iface: string): PcapWriter | PcapngWriter {
  // Stamps are microseconds (see source.ts), which both formats hold exactly.
  if (extname(path).toLowerCase() === '.pcap') return new PcapWriter(sink, { linkType, snaplen: CAP_SNAPLEN });
  return new PcapngWriter(sink, { interfaces: [{ linkType, snaplen: CAP_SNAPLEN, name: iface }], application: 'keepalive live' });
}

interface Track {
  fate: Record<Side, 'alive' | 'dead' | 'reset' | null>;
  verdict: Verdict | null;
  lastProbeT: Record<Side, number | null>;
}

function liveVerdict(t: Track): Verdict | null {
  const f = [t.fate.client, t.fate.server];
  if (f.includes('reset')) return 'reset';
  if (f.includes('dead')) return 'dead';
  if (f.includes('alive')) return 'alive';
  return null;
}

export async function captureLive(options: LiveOptions): Promise<LiveResult> {
  if (options.signal?.aborted) throw new LiveError('capture', 'capture cancelled before it started');
  const sink = options.write !== undefined ? openOutput(options.write) : null;
  let sinkUsed = false;
  let writer: PcapWriter | PcapngWriter | null = null;
  let source: FrameSource | null = null;
  const started = Date.now();
  const tracks = new Map<string, Track>();
  const finished: ConnectionReport[] = [];
  let frames = 0;
  let current: Frame | null = null;
  let ended = false;
  let stopReason: StopReason | null = null;
  let wakeStop!: () => void;
  const stopRequested = new Promise<void>((r) => (wakeStop = r));
  const requestStop = (why: StopReason): void => {
    if (stopReason === null) {
      stopReason = why;
      wakeStop();
    }
  };

  const emit = options.onEvent;
  const now = (): { tsSec: number; tsNsec: number } => {
    if (current !== null) return { tsSec: current.tsSec, tsNsec: current.tsNsec };
    const ms = Date.now();
    return { tsSec: Math.floor(ms / 1000), tsNsec: (ms % 1000) * 1_000_000 };
  };

  const onKeepalive = (e: KeepaliveEvent): void => {
    if (e.kind === 'connection-end') ended = true;
    if (!selects(e.connection, { port: options.port, host: options.host })) return;
    const key = `${e.connection.client} ${e.connection.server}`;
    let t = tracks.get(key);
    if (e.kind === 'connection-end') {
      tracks.delete(key);
      return;
    }
    if (t === undefined) {
      t = { fate: { client: null, server: null }, verdict: null, lastProbeT: { client: null, server: null } };
      tracks.set(key, t);
    }
    const ts = now();
    const tSec = ts.tsSec + ts.tsNsec / 1e9;
    let seconds: number | null = null;
    if (e.kind === 'probe') {
      const prev = t.lastProbeT[e.from];
      seconds = prev === null ? null : tSec - prev;
      t.lastProbeT[e.from] = tSec;
    } else if (e.kind === 'reply-ack' || e.kind === 'reply-rst') {
      const probeT = t.lastProbeT[e.from];
      seconds = probeT === null ? null : tSec - probeT;
      t.fate[e.from] = e.kind === 'reply-ack' ? 'alive' : 'reset';
    } else if (e.kind === 'gave-up') {
      t.fate[e.from] = 'dead';
    }
    emit?.({ type: 'keepalive', kind: e.kind, from: e.from, frame: e.frame, connection: e.connection, seconds, ...ts });
    const v = liveVerdict(t);
    if (v !== null && v !== t.verdict) {
      t.verdict = v;
      emit?.({ type: 'verdict', verdict: v, frame: e.frame, connection: e.connection, ...ts });
    }
  };

  const analysis = new Analysis({ port: options.port, host: options.host, onEvent: onKeepalive });

  const collect = (reports: ConnectionReport[]): void => {
    for (const r of reports) {
      finished.push(r);
      if (r.probes.length > 0 || r.zeroWindowProbes > 0) emit?.({ type: 'end', report: r, frame: r.lastFrame, connection: { client: r.client, server: r.server }, ...now() });
    }
  };

  const onFrame = (f: Frame): void => {
    if (stopReason === 'count') return;
    frames++;
    if (sink !== null) {
      writer ??= makeWriter(sink, options.write!, f.linkType, options.iface);
      sinkUsed = true;
      writer.writeFrame(f.data.subarray(f.offset, f.offset + f.capLen), f.tsSec, f.tsNsec, f.origLen);
    }
    current = f;
    analysis.frame(f, frames);
    if (ended) {
      ended = false;
      collect(analysis.drain());
    }
    current = null;
    if (options.count !== undefined && frames >= options.count) requestStop('count');
  };

  const onAbort = (): void => requestStop('signal');
  let timer: NodeJS.Timeout | null = null;
  let flusher: NodeJS.Timeout | null = null;
  try {
    try {
      source = await openSource(options, onFrame);
    } catch (err) {
      if (sink !== null) {
        sink.close();
        // The file was created by us a moment ago ('wx') and holds nothing.
        if (!sinkUsed) unlinkSync(options.write!);
      }
      throw err;
    }
    options.onReady?.({ iface: source.iface, linkType: source.linkType });
    if (sink !== null) {
      writer ??= makeWriter(sink, options.write!, source.linkType, options.iface);
      // Keep the file readable while the capture runs (a viewer may open it).
      flusher = setInterval(() => writer?.flush(), 1000);
    }
    if (options.durationSeconds !== undefined) timer = setTimeout(() => requestStop('duration'), options.durationSeconds * 1000);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) requestStop('signal');
    void source.done.then(() => requestStop('source-ended'));
    await stopRequested;
    // After --count, frames still in the ring are not wanted.
    const sourceStats = await source.stop(stopReason !== 'count');
    const warnings: string[] = [];
    if (sourceStats.kernelDrops !== null && sourceStats.kernelDrops > 0) {
      warnings.push(
        `the kernel dropped ${sourceStats.kernelDrops} frame(s) on ${options.iface} because the capture buffer was full: connections may miss segments (a larger --buffer-size or a narrower -f filter helps)`,
      );
    }
    current = null;
    const label = options.write ?? options.label ?? `live:${options.netns !== undefined ? `${options.netns}/` : ''}${options.iface}`;
    const { reports, summary } = analysis.finish([label], warnings);
    collect(reports);
    finished.sort((a, b) => a.firstFrame - b.firstFrame);
    return {
      report: { version: 1, summary, connections: finished },
      stats: { ...sourceStats, iface: options.iface, linkType: source.linkType, frames, seconds: (Date.now() - started) / 1000, stoppedBy: stopReason ?? 'source-ended' },
      file: options.write ?? null,
    };
  } finally {
    if (timer !== null) clearTimeout(timer);
    if (flusher !== null) clearInterval(flusher);
    options.signal?.removeEventListener('abort', onAbort);
    if (source !== null) await source.stop();
    if (writer !== null) (writer as PcapWriter | PcapngWriter).close();
    else if (sink !== null && source !== null) sink.close();
  }
}
