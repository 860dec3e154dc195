/**
 * The report thread (analysis/threaded.ts): reads the finished connections the reading thread
 * hands over in batches (analysis/handoff.ts), makes each one's report, keeps the ones the
 * selection wants, and sends back their rendered bytes with their first frames; at the end, the
 * totals the summary needs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ReportStage, type AnalyzeOptions, type StageTotals } from '../analysis/analyze.js';
import { Connection } from '../analysis/flows.js';
import { readConnection } from '../analysis/handoff.js';
import { rowRenderer, rowsListProbes, type RowFormat } from './rows.js';

export interface ReportThreadData {
  options: Pick<AnalyzeOptions, 'port' | 'host' | 'middleboxTimeout'>;
  rows: RowFormat;
}

/** Main → report thread: a batch of connections (in the first `length` doubles), or the end. */
export type ToReportThread = { batch: Float64Array; length: number } | { end: true };
/**
 * Report thread → main: one batch's rows (UTF-8, row i is bytes[ends[i-1]…ends[i])) and the
 * batch's buffer given back, the totals, or what went wrong.
 */
export type FromReportThread = { frames: Float64Array; ends: Float64Array; bytes: Uint8Array; batch: Float64Array } | { totals: StageTotals } | { error: string };

const { options, rows } = workerData as ReportThreadData;
const render = rowRenderer(rows);
const stage = new ReportStage(options, (r) => ({ frame: r.firstFrame, text: render(r) }), rowsListProbes(rows));
const conn = new Connection();
const port = parentPort!;

port.on('message', (m: ToReportThread) => {
  try {
    if ('end' in m) {
      port.postMessage({ totals: stage.totals() } satisfies FromReportThread);
      return;
    }
    const s = m.batch;
    for (let at = 0; at < m.length; ) {
      at = readConnection(s, at, conn);
      stage.add(conn);
    }
    const done = stage.drain();
    const frames = new Float64Array(done.length);
    const ends = new Float64Array(done.length);
    let size = 0;
    for (let i = 0; i < done.length; i++) {
      size += Buffer.byteLength(done[i]!.text);
      frames[i] = done[i]!.frame;
      ends[i] = size;
    }
    // Not from Buffer's shared pool: this memory is moved to the other thread.
    const bytes = Buffer.from(new ArrayBuffer(size));
    let at = 0;
    for (let i = 0; i < done.length; i++) at += bytes.write(done[i]!.text, at);
    port.postMessage({ frames, ends, bytes, batch: s } satisfies FromReportThread, [frames.buffer, ends.buffer, bytes.buffer, s.buffer as ArrayBuffer]);
  } catch (err) {
    port.postMessage({ error: (err as Error)?.message ?? String(err) } satisfies FromReportThread);
  }
});
