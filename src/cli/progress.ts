/**
 * A progress bar on standard error while long captures are read, drawn only when standard error
 * is a terminal. The analysis has no progress hook, so this polls how far the kernel's file
 * offset of each open input has moved (Linux's /proc/self/fdinfo; the readers read each file
 * front to back through one descriptor). Elsewhere it shows the time spent instead.
 */
import { readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Milliseconds before the bar first shows: short runs never see it. */
  delayMs?: number;
  pollMs?: number;
}

interface Watched {
  real: string;
  size: number;
  /** Highest offset seen; the size once the file is closed after being seen open. */
  done: number;
  seen: boolean;
}

/** Bytes read so far, per file, from the offsets of this process's open descriptors. */
function poll(files: Watched[]): void {
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return;
  }
  const open = new Set<Watched>();
  for (const fd of fds) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    const w = files.find((f) => f.real === target);
    if (w === undefined) continue;
    try {
      const pos = /^pos:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
      if (pos) w.done = Math.max(w.done, Math.min(w.size, Number(pos[1])));
      w.seen = true;
      open.add(w);
    } catch {
      // The descriptor closed between listing and reading.
    }
  }
  for (const w of files) if (w.seen && !open.has(w)) w.done = w.size;
}

function megabytes(n: number): string {
  return (n / 1e6).toFixed(n >= 1e8 ? 0 : 1);
}

/** Start drawing; the returned function stops and erases the bar. */
export function startProgress(paths: readonly string[], options: ProgressOptions = {}): () => void {
  const stream = options.stream ?? process.stderr;
  if (!stream.isTTY) return () => {};
  const files: Watched[] = [];
  for (const p of paths) {
    if (p === '-') continue;
    try {
      const st = statSync(p);
      if (st.isFile()) files.push({ real: realpathSync(p), size: st.size, done: 0, seen: false });
    } catch {
      // The reader reports a missing file, with its own words.
    }
  }
  const total = files.reduce((n, f) => n + f.size, 0);
  const started = Date.now();
  let drawn = false;
  const draw = (): void => {
    poll(files);
    const width = Math.max(20, Math.min(stream.columns ?? 80, 100) - 40);
    const secs = Math.round((Date.now() - started) / 1000);
    let line: string;
    if (total > 0 && files.some((f) => f.seen)) {
      const done = files.reduce((n, f) => n + f.done, 0);
      const frac = Math.min(1, done / total);
      const filled = Math.round(frac * width);
      line = `reading [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}%  ${megabytes(done)}/${megabytes(total)} MB  ${secs} s`;
    } else {
      line = `reading… ${secs} s`;
    }
    stream.write(`\r${line}\x1b[K`);
    drawn = true;
  };
  const delay = options.delayMs ?? 1000;
  const pollMs = options.pollMs ?? 200;
  let timer: NodeJS.Timeout | undefined;
  const first = setTimeout(() => {
    draw();
    timer = setInterval(draw, pollMs);
    timer.unref();
  }, delay);
  first.unref();
  return () => {
    clearTimeout(first);
    if (timer !== undefined) clearInterval(timer);
    if (drawn) stream.write('\r\x1b[K');
  };
}
