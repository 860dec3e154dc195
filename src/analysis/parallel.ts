/**
 * `--separate`: each input file is its own capture (unrelated captures, not one ring buffer),
 * analysed on its own, the files spread over worker threads. The reports come back in input
 * order, identical to analysing the files one after another.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { analyzeToReport, type AnalyzeOptions } from './analyze.js';
import type { Report } from './model.js';
import { CaptureError } from '../capture/errors.js';

export interface SeparateOptions extends Pick<AnalyzeOptions, 'port' | 'host' | 'middleboxTimeout' | 'stdin'> {
  /** Worker threads to use; 1 analyses in this thread. Default: one per core, at most one per file. */
  jobs?: number | undefined;
}

interface Reply {
  id: number;
  report?: Report;
  error?: { capture: true; file: string; byteOffset: number; reason: string } | { capture: false; message: string };
}

export async function analyzeSeparately(paths: readonly string[], options: SeparateOptions = {}): Promise<Report[]> {
  const { jobs, stdin, ...plain } = options;
  const workers = Math.max(1, Math.min(jobs ?? availableParallelism(), paths.filter((p) => p !== '-').length));
  const reports: Report[] = new Array(paths.length);
  if (workers === 1) {
    for (let i = 0; i < paths.length; i++) reports[i] = await analyzeToReport([paths[i]!], { ...plain, stdin });
    return reports;
  }
  // Standard input can only be read here, in this thread.
  const stdinAt = paths.indexOf('-');
  const queue = paths.map((p, i) => ({ path: p, id: i })).filter((j) => j.path !== '-');
  const pool = Array.from({ length: workers }, () => new Worker(new URL('./worker.js', import.meta.url)));
  // The failure reported is the one of the earliest file, as the serial run would report it.
  const failures = new Map<number, Error>();
  let failure: Error | null = null;
  try {
    const runOn = (worker: Worker): Promise<void> =>
      new Promise((resolve, reject) => {
        const next = () => {
          const job = failure === null ? queue.shift() : undefined;
          if (job === undefined) return resolve();
          worker.postMessage({ id: job.id, path: job.path, options: plain });
        };
        worker.on('message', (r: Reply) => {
          if (r.error) {
            failure = r.error.capture ? new CaptureError(r.error.file, r.error.byteOffset, r.error.reason) : new Error(r.error.message);
            failures.set(r.id, failure);
          } else reports[r.id] = r.report!;
          next();
        });
        worker.on('error', reject);
        next();
      });
    const here =
      stdinAt >= 0
        ? analyzeToReport(['-'], { ...plain, stdin }).then(
            (r) => void (reports[stdinAt] = r),
            (err: Error) => void failures.set(stdinAt, (failure = err)),
          )
        : Promise.resolve();
    await Promise.all([...pool.map(runOn), here]);
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  if (failures.size > 0) throw failures.get(Math.min(...failures.keys()))!;
  return reports;
}
