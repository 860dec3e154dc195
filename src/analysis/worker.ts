/** Worker-thread side of `analyzeSeparately`: analyse one file, post its report back. */
import { parentPort } from 'node:worker_threads';
import { analyzeToReport } from './analyze.js';
import { CaptureError } from '../capture/errors.js';

interface Job {
  id: number;
  path: string;
  options: { port?: number; host?: string; middleboxTimeout?: number };
}

parentPort!.on('message', async (job: Job) => {
  try {
    const report = await analyzeToReport([job.path], job.options);
    parentPort!.postMessage({ id: job.id, report });
  } catch (err) {
    const e = err as Error;
    parentPort!.postMessage({
      id: job.id,
      error: err instanceof CaptureError ? { capture: true, file: err.file, byteOffset: err.byteOffset, reason: err.reason } : { capture: false, message: e?.message ?? String(err) },
    });
  }
});
