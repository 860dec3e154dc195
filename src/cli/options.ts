/** Flag values checked at the door: each mistake is one line naming the flag and the value. */
import { parseDuration, parseTolerance, type Tolerance } from '../report/check.js';
import { UsageError } from './errors.js';

/** yargs drops a lone "-" from variadic positionals; main carries it through under this name. */
export const STDIN_TOKEN = '<stdin>';

export function inputFiles(command: string, given: readonly string[] | undefined): string[] {
  const files = (given ?? []).map((f) => (f === STDIN_TOKEN ? '-' : String(f)));
  if (files.length === 0) throw new UsageError(`${command}: name at least one capture file, or - for standard input`);
  if (files.filter((f) => f === '-').length > 1) throw new UsageError(`${command}: standard input (-) can be read only once`);
  return files;
}

export function portOption(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const s = String(value);
  if (!/^\d+$/.test(s) || Number(s) > 65535) throw new UsageError(`--port: '${s}' is not a port number (0-65535)`);
  return Number(s);
}

export function hostOption(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const s = String(value).trim();
  if (s === '') throw new UsageError('--host: name an address (10.0.0.1 or fd00::1)');
  return s;
}

export function durationOption(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const s = String(value);
  const d = parseDuration(s);
  if (d === null) throw new UsageError(`${flag}: '${s}' is not a duration (use 7200, 60s, 2m, 1500ms or 1h)`);
  return d;
}

export function countOption(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const s = String(value);
  if (!/^\d+$/.test(s) || Number(s) < 1) throw new UsageError(`${flag}: '${s}' is not a probe count (a whole number, 1 or more)`);
  return Number(s);
}

export function toleranceOption(value: unknown): Tolerance | undefined {
  if (value === undefined) return undefined;
  const s = String(value);
  const t = parseTolerance(s);
  if (t === null) throw new UsageError(`--tolerance: '${s}' is not a tolerance (use 10%, or a duration such as 200ms)`);
  return t;
}

export function jobsOption(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const s = String(value);
  if (!/^\d+$/.test(s) || Number(s) < 1) throw new UsageError(`--jobs: '${s}' is not a number of threads (1 or more)`);
  return Number(s);
}
