/**
 * analyzeInOrder with the reports on a second thread: this thread reads, decodes and keeps the
 * connection table; each finished connection is written into a batch of doubles (handoff.ts)
 * that moves to the report thread (report/worker.ts), which makes the reports and renders them.
 * Rows come back as UTF-8 and are released in order of first frame as analyzeInOrder releases
 * them: the bytes are the same, the two halves of the work run at the same time.
 */
import { availableParallelism } from 'node:os';
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { Analysis, feed, InOrder, type AnalyzeOptions, type StageTotals } from './analyze.js';
import { ConnectionBatch } from './handoff.js';
import type { Summary } from './model.js';
import { rowsListProbes, type RowFormat } from '../report/rows.js';
import type { FromReportThread, ReportThreadData, ToReportThread } from '../report/worker.js';

/** Connections per batch handed over. */
const BATCH = 512;
/** Batches in flight before this thread waits for the report thread (memory stays bounded if it is the slower). */
const MAX_IN_FLIGHT = 32;
/**
 * Inputs this big (in all) are worth a second thread by default. The bench generator's text
 * reports, one thread against two (2026-12-02 02:19-03:05 UTC, this project's 2-core machine): 37 MB
 * 0.53 s against 0.64 s, 112 MB 0.87 s against 0.95 s, 374 MB 1.96 s against 1.74 s, 748 MB
 * 3.35 s against 2.76 s. Below, the thread's start and its cold code cost more than it saves.
 */
export const THREAD_MIN_BYTES = 256 << 20;

/**
 * Should the reports go to a second thread? `jobs` 1: never; 2 or more: always. By default, for
 * reports with a probe list (text, json, jsonl), when the machine has two cores or more and the
 * files (not standard input) hold THREAD_MIN_BYTES on disk. Not for CSV by default: its rows
 * are so little work that the reading thread, slowed by 10-25 % when the other core is busy too
 * (as on this project's machine), gained from -4 to 8 % on the 2 M bench (2.03 s against 2.12 s,
 * 1.93 s against 1.91 s, 1.59 s against 1.47 s in three sessions of runs); with the C++ table
 * (native.ts) 6-14 % on 748 MB, nothing on 374 MB, 10 % lost on 112 MB (2026-12-02).
 */
export function reportOnThread(paths: readonly string[], jobs: number | undefined, rows: RowFormat): boolean {
  if (jobs !== undefined) return jobs >= 2;
  if (!rowsListProbes(rows) || availableParallelism() < 2 || paths.includes('-')) return false;
  let bytes = 0;
  for (const p of paths) {
    try {
      bytes += statSync(p).size;
    } catch {
      return false; // opening it will say what is wrong
    }
  }
  return bytes >= THREAD_MIN_BYTES;
}

/**
 * Connections in order of their first frame, each rendered as `rows` says (UTF-8 bytes), on a
 * second thread. Yields batches in order; returns the summary (as analyzeInOrder does). With
 * `ordered` false, rows come as their connections end, in the order `analyze` yields reports.
 */
export async function* analyzeInOrderOnThread(paths: readonly string[], options: AnalyzeOptions, rows: RowFormat, ordered = true): AsyncGenerator<Buffer[], Summary> {
  const data: ReportThreadData = { options: { port: options.port, host: options.host, middleboxTimeout: options.middleboxTimeout }, rows };
  const worker = new Worker(new URL('../report/worker.js', import.meta.url), { workerData: data });
  const batch = new ConnectionBatch();
  /** First frames of the batches in flight, oldest first: none of their rows may be overtaken. */
  const inFlight: number[] = [];
  const arrived: FromReportThread[] = [];
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  worker.on('message', (m: FromReportThread) => {
    arrived.push(m);
    notify();
  });
  worker.on('error', (err) => {
    failure = err;
    notify();
  });
  worker.on('exit', (code) => {
    failure ??= new Error(`the report thread stopped (exit code ${code})`);
    notify();
  });
  const send = (m: ToReportThread, transfer: ArrayBuffer[] = []): void => worker.postMessage(m, transfer);
  const flush = (): void => {
    if (batch.count === 0) return;
    inFlight.push(batch.firstFrame);
    const { doubles, length } = batch.take();
    send({ batch: doubles, length }, [doubles.buffer as ArrayBuffer]);
  };
  const probeList = rowsListProbes(rows);
  const analysis = new Analysis<never>(
    { ...options, probeList },
    undefined,
    (c) => {
      batch.add(c);
      if (batch.count >= BATCH) flush();
    },
    // The C++ table writes its finished connections into the batch as they are.
    {
      room: (doubles) => batch.room(doubles),
      wrote: (doubles, count, firstFrame) => {
        batch.wrote(doubles, count, firstFrame);
        if (batch.count >= BATCH) flush();
      },
    },
  );

  const waiting = new InOrder<Buffer>();
  let totals: StageTotals | null = null;
  /** Take what the report thread sent: rows join the waiting ones, their batch is no longer in flight. */
  const takeArrived = (): void => {
    while (arrived.length > 0) {
      const m = arrived.shift()!;
      // The report code's own message, as the one-thread run would show it.
      if ('error' in m) throw new Error(m.error);
      if ('totals' in m) {
        totals = m.totals;
        continue;
      }
      inFlight.shift();
      batch.giveBack(m.batch);
      const bytes = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
      let start = 0;
      for (let i = 0; i < m.frames.length; i++) {
        const end = m.ends[i]!;
        waiting.add({ frame: m.frames[i]!, value: bytes.subarray(start, end) });
        start = end;
      }
    }
  };
  const nextMessage = async (): Promise<void> => {
    if (failure !== null) throw failure;
    if (arrived.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    if (failure !== null && arrived.length === 0) throw failure;
    takeArrived();
  };
  /** No connection finalised from now on starts before this frame. */
  const bound = (): number => Math.min(analysis.oldestOpenFrame(), batch.firstFrame, inFlight.length > 0 ? Math.min(...inFlight) : Number.POSITIVE_INFINITY);

  let threshold = 1024;
  const it = feed(paths, options, analysis, async () => {
    flush();
    send({ end: true });
    while (totals === null) await nextMessage();
    return totals;
  });
  try {
    for (;;) {
      let r: IteratorResult<never[], { summary: Summary }>;
      try {
        r = await it.next();
      } catch (err) {
        // A capture error: the one-thread run has written the lines of every connection that
        // ended before the chunk it failed in; so are these (in flight, not the unsent batch).
        if (!ordered && failure === null) {
          while (inFlight.length > 0) await nextMessage();
          if (waiting.size > 0) yield waiting.inArrival();
        }
        throw err;
      }
      if (r.done) {
        takeArrived();
        yield ordered ? waiting.release(Number.POSITIVE_INFINITY) : waiting.inArrival();
        return r.value.summary;
      }
      takeArrived();
      while (inFlight.length > MAX_IN_FLIGHT) await nextMessage();
      // The reader waits for bytes: what finished goes over now if the report thread is idle,
      // so a slow input (standard input from a live tcpdump) does not wait for a full batch; and
      // always for lines written as connections end, so that a batch holds one chunk's at most.
      if (!ordered || inFlight.length === 0) flush();
      if (!ordered) {
        if (waiting.size > 0) yield waiting.inArrival();
      } else if (waiting.size >= threshold) {
        const out = waiting.release(bound());
        threshold = Math.max(1024, 2 * waiting.size);
        if (out.length > 0) yield out;
      }
    }
  } finally {
    try {
      await it.return(undefined as never);
    } finally {
      // Whatever closing the files did: a live worker would keep the process running.
      worker.removeAllListeners('exit');
      await worker.terminate();
    }
  }
}
