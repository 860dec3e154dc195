/** A summary table for a CI job summary (GitHub-flavoured Markdown). */
import type { ConnectionReport, Finding, KeepaliveSettings, Report, Summary, Verdict } from '../analysis/model.js';
import { DEFAULT_TOLERANCE, effectiveStatus, expectationText, summaryLine, type CheckOutcome, type Expectations } from './check.js';
import { countText, plural, probeCounts, proberOf, seconds } from './units.js';

const SEVERITY_MARK: Record<Finding['severity'], string> = { error: '❌', warning: '⚠️', info: 'ℹ️' };

const VERDICT_MARK: Record<Verdict, string> = {
  alive: '✅ alive',
  dead: '❌ dead',
  reset: '❌ reset',
  closed: '⚪ closed',
  undetermined: '⚠️ undetermined',
  'no-keepalive': '⚪ no keepalive',
};

/** A table cell: pipes escaped, line breaks flattened, HTML's angle brackets neutralised. */
export function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r?\n/g, ' ');
}

export function mdCode(s: string): string {
  return `\`${s.replace(/`/g, "'")}\``;
}

function settingsCells(s: KeepaliveSettings | null): [string, string, string] {
  if (s === null) return ['–', '–', '–'];
  const interval = s.interval !== null ? seconds(s.interval) : s.intervalAtMost !== null ? `≤ ${seconds(s.intervalAtMost)}` : '?';
  return [s.idle !== null ? seconds(s.idle) : '?', interval, countText(s)];
}

/** One connection's two lines of the Markdown report: its table row, and its line under "What each connection shows". */
export interface MarkdownConnection {
  row: string;
  detail: string;
}

/** A connection's lines as renderMarkdown writes them (made as the connection ends, on the command line). */
export function markdownConnection(c: ConnectionReport): MarkdownConnection {
  const prober = proberOf(c.keepalive);
  const [idle, interval, count] = settingsCells(c.keepalive.client ?? c.keepalive.server);
  const n = probeCounts(c);
  const guessed = c.rolesFrom === 'port' ? ' (roles guessed from ports: no handshake captured)' : '';
  return {
    row: `| ${mdCode(c.client)} | ${mdCode(c.server)} | ${VERDICT_MARK[c.verdict]} | ${prober ?? '–'} | ${idle} | ${interval} | ${mdCell(count)} | ${n.total} | ${n.ack} | ${n.rst} | ${n.none} | ${c.zeroWindowProbes} |`,
    detail: `- ${mdCode(c.client)} → ${mdCode(c.server)}${guessed}: ${mdCell(c.explanation)}`,
  };
}

export function renderMarkdown(report: Report): string {
  return renderMarkdownFrom(report.summary, report.connections.map(markdownConnection));
}

/** The Markdown report from the summary and each connection's lines (in order of first frame). */
export function renderMarkdownFrom(s: Summary, connections: readonly MarkdownConnection[]): string {
  const out = [
    `### keepalive: ${s.files.map(mdCode).join(', ')}`,
    '',
    `${plural(s.packets, 'packet')}, ${plural(s.connections, 'connection')}, ${plural(s.keepaliveProbes, 'keepalive probe')}, ${plural(s.zeroWindowProbes, 'zero-window probe')}.`,
    '',
  ];
  for (const w of s.warnings) out.push(`> ⚠️ ${mdCell(w)}`, '');
  if (connections.length === 0) {
    out.push('No TCP connection to report.', '');
    return out.join('\n');
  }
  out.push(
    '| Client | Server | Verdict | Prober | Idle | Interval | Count | Probes | ACK | RST | No answer | Zero-window |',
    '|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const c of connections) out.push(c.row);
  if (s.findings.length > 0) {
    out.push('');
    for (const f of s.findings) out.push(`- ${SEVERITY_MARK[f.severity]} ${mdCell(f.message)}`);
  }
  out.push('', '<details><summary>What each connection shows</summary>', '');
  for (const c of connections) out.push(c.detail);
  out.push('', '</details>', '');
  return out.join('\n');
}

const STATUS_MARK = { pass: '✅ pass', fail: '❌ fail', na: '➖ not observable' } as const;

/** The check's results as a job summary: a heading with the verdict, then a row per connection and expectation. */
export function renderCheckMarkdown(outcome: CheckOutcome, e: Expectations, files: string[]): string {
  const tol = e.tolerance ?? DEFAULT_TOLERANCE;
  const out = [`### keepalive check: ${outcome.ok ? '✅ passed' : '❌ failed'}`, '', `${files.map(mdCode).join(', ')} · ${mdCell(summaryLine(outcome, e))}`, ''];
  if (outcome.results.length > 0) {
    out.push('| Result | Client | Server | Side | Expected | Observed |', '|---|---|---|---|---|---|');
    for (const r of outcome.results) {
      const status = effectiveStatus(r, e.strict);
      out.push(`| ${STATUS_MARK[status]} | ${mdCode(r.connection.client)} | ${mdCode(r.connection.server)} | ${r.side ?? '–'} | ${mdCell(expectationText(r, tol))} | ${mdCell(r.message)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
