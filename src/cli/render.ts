/** A Report in each of `keepalive analyze`'s formats (also the final report of live and record). */
import type { Report } from '../analysis/model.js';
import { renderCsv } from '../report/csv.js';
import { renderHtml } from '../report/html.js';
import { renderJson } from '../report/json.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderText } from '../report/text.js';
import type { AnalyzeFormat } from './analyze.js';

export function render(report: Report, format: AnalyzeFormat, color: boolean): string {
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'jsonl':
      return renderJsonLines(report);
    case 'csv':
      return renderCsv(report);
    case 'markdown':
      return renderMarkdown(report);
    case 'html':
      return renderHtml(report);
    case 'text':
      return renderText(report, { color });
  }
}

/** Several reports, one per file, in input order. */
export function renderSeparate(reports: readonly Report[], format: AnalyzeFormat, color: boolean): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(reports, null, 2)}\n`;
    case 'csv': {
      // One header, then every file's rows.
      const [first, ...rest] = reports.map((r) => renderCsv(r));
      return [first ?? '', ...rest.map((c) => c.slice(c.indexOf('\r\n') + 2))].join('');
    }
    default:
      return reports.map((r) => render(r, format, color)).join(format === 'jsonl' ? '' : '\n');
  }
}

/** JSON Lines: one object per connection, then a last line with the summary. */
export function renderJsonLines(report: Report): string {
  return [...report.connections.map((c) => JSON.stringify(c)), JSON.stringify({ version: report.version, summary: report.summary })].join('\n') + '\n';
}

