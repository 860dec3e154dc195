/**
 * One row per connection (RFC 4180: CRLF line ends, fields with a comma, quote or line break
 * in double quotes, quotes doubled). Durations are plain seconds; an unknown figure is empty.
 */
import type { ConnectionReport, KeepaliveSettings, Report } from '../analysis/model.js';
import { plainNumber, probeCounts, proberOf } from './units.js';

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
  const s = value === null ? '' : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function row(c: ConnectionReport): Record<(typeof CSV_COLUMNS)[number], string | number | null> {
  const prober = proberOf(c.keepalive);
  const s: KeepaliveSettings | null = c.keepalive.client ?? c.keepalive.server;
  const counts = probeCounts(c);
  return {
    client: c.client,
    server: c.server,
    rolesFrom: c.rolesFrom,
    verdict: c.verdict,
    probes: counts.total,
    answeredAck: counts.ack,
    answeredRst: counts.rst,
    unanswered: counts.none,
    prober: prober ?? '',
    idle: plainNumber(s?.idle ?? null),
    interval: plainNumber(s?.interval ?? null),
    intervalAtMost: plainNumber(s?.intervalAtMost ?? null),
    count: plainNumber(s?.count ?? null),
    countAtLeast: plainNumber(s?.countAtLeast ?? null),
    style: s?.style ?? '',
    defaults: s?.defaults ?? '',
    zeroWindowProbes: c.zeroWindowProbes,
    longestSilence: c.longestSilence,
    heartbeatPeriod: plainNumber(c.heartbeat?.period ?? null),
    heartbeatFrom: c.heartbeat?.from ?? '',
    findings: c.findings.map((f) => f.rule).join(' '),
    closedBy: c.closedBy ?? '',
    firstFrame: c.firstFrame,
    lastFrame: c.lastFrame,
    firstTime: c.firstTime,
    lastTime: c.lastTime,
    packets: c.packets,
    explanation: c.explanation,
  };
}

export function renderCsv(report: Report): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const c of report.connections) {
    const r = row(c);
    lines.push(CSV_COLUMNS.map((k) => csvField(r[k])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
