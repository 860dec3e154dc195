/**
 * One row per connection (RFC 4180: CRLF line ends, fields with a comma, quote or line break
 * in double quotes, quotes doubled). Durations are plain seconds; an unknown figure is empty.
 */
import type { ConnectionReport, KeepaliveSettings, Report } from '../analysis/model.js';
import { plainNumber as num, probeCounts, proberOf } from './units.js';

/**
 * The columns, in order. `prober` names whose settings fill idle…defaults (the client's when both
 * sides probe); `findings` lists the rules that fired, space-separated.
 */
export const CSV_COLUMNS = [
  'client',
  'server',
  'rolesFrom',
  'verdict',
  'probes',
  'answeredAck',
  'answeredRst',
  'unanswered',
  'prober',
  'idle',
  'interval',
  'intervalAtMost',
  'count',
  'countAtLeast',
  'style',
  'defaults',
  'zeroWindowProbes',
  'longestSilence',
  'heartbeatPeriod',
  'heartbeatFrom',
  'findings',
  'closedBy',
  'firstFrame',
  'lastFrame',
  'firstTime',
  'lastTime',
  'packets',
  'explanation',
] as const;

export function csvField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  return QUOTE_NEEDED.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

const QUOTE_NEEDED = /[",\r\n]/;

/** One connection's row (without its line end), columns as CSV_COLUMNS. */
export function csvRow(c: ConnectionReport): string {
  const prober = proberOf(c.keepalive);
  const s: KeepaliveSettings | null = c.keepalive.client ?? c.keepalive.server;
  const counts = probeCounts(c);
  let findings = '';
  for (const f of c.findings) findings = findings === '' ? f.rule : `${findings} ${f.rule}`;
  // One join makes a flat string; a chain of template pieces would stay a rope of ~60 nodes
  // per row while the row waits for older connections. Endpoints, times and the words of the
  // other columns never hold a comma, quote or line break: only the explanation is checked.
  return [
    c.client, c.server, c.rolesFrom, c.verdict,
    counts.total, counts.ack, counts.rst, counts.none, prober ?? '',
    num(s?.idle ?? null), num(s?.interval ?? null), num(s?.intervalAtMost ?? null), num(s?.count ?? null), num(s?.countAtLeast ?? null),
    s?.style ?? '', s?.defaults ?? '', c.zeroWindowProbes, c.longestSilence,
    num(c.heartbeat?.period ?? null), c.heartbeat?.from ?? '', findings, c.closedBy ?? '',
    c.firstFrame, c.lastFrame, c.firstTime, c.lastTime, c.packets, csvField(c.explanation),
  ].join(',');
}

/** The header line (without its line end). */
export const CSV_HEADER = CSV_COLUMNS.join(',');

export function renderCsv(report: Report): string {
  let out = `${CSV_HEADER}\r\n`;
  for (const c of report.connections) out += `${csvRow(c)}\r\n`;
  return out;
}
