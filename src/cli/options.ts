/** Flag values checked at the door: each mistake is one line naming the flag and the value. */
import { parseDuration, parseTolerance, type Tolerance } from '../report/check.js';
import type { OptionSpec, PositionalSpec } from './args.js';
import { COLOR_MODES } from './color.js';
import { UsageError } from './errors.js';

/** The capture files of analyze and check. */
export const FILES: PositionalSpec = { name: 'files', variadic: true, describe: 'capture files; several are merged in time order (- for standard input)' };

export const COLOR_OPTION: OptionSpec = { name: 'color', type: 'string', choices: COLOR_MODES, default: 'auto', describe: 'colour the text output (auto: only on a terminal, and not with NO_COLOR set)' };

/** Which connections a report covers (analyze and check), and the colour of its text. */
export const SELECTION_OPTIONS: readonly OptionSpec[] = [
  { name: 'port', type: 'string', describe: 'only connections with this port at either end' },
  { name: 'host', type: 'string', describe: 'only connections with this address at either end' },
  COLOR_OPTION,
];

/** What the findings assume: analyze only (check shows no findings, so it does not take the flag). */
export const MIDDLEBOX_OPTION: OptionSpec = {
  name: 'middlebox-timeout',
  type: 'string',
  describe: 'idle timeout of the strictest NAT/load balancer on the path, for findings (default 300s)',
};

export const EXIT_EPILOGUE = `Exit status: 0 ok; 1 a check failed (or it selected no connection); 2 usage error or unreadable input.
Durations: 7200 (seconds), 60s, 2m, 1500ms, 1h. Full reference: docs/cli.md`;

/** Examples as an indented block under a title. */
export function examples(title: string, list: readonly (readonly [string, string])[]): string {
  return `${title}:\n${list.map(([cmd, what]) => `  ${cmd}\n      ${what}`).join('\n')}`;
}

export function inputFiles(command: string, given: unknown): string[] {
  const files = Array.isArray(given) ? given.map(String) : [];
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
