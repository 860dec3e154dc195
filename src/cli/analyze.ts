/** `keepalive analyze`: one report, in the format asked for, from the same Report object. */
import { analyzeToReport } from '../analysis/analyze.js';
import type { Report } from '../analysis/model.js';
import { renderCsv } from '../report/csv.js';
import { renderHtml } from '../report/html.js';
import { renderJson } from '../report/json.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderText } from '../report/text.js';
import { useColor, type ColorMode } from './color.js';
import { EXIT_OK } from './errors.js';
import { emit, guardOutputs } from './output.js';
import { startProgress } from './progress.js';

export const ANALYZE_FORMATS = ['text', 'json', 'csv', 'markdown', 'html'] as const;
export type AnalyzeFormat = (typeof ANALYZE_FORMATS)[number];

export interface AnalyzeArgs {
  files: string[];
  format: AnalyzeFormat;
  output: string | undefined;
  port: number | undefined;
  host: string | undefined;
  color: ColorMode;
}

export function render(report: Report, format: AnalyzeFormat, color: boolean): string {
  switch (format) {
    case 'json':
      return renderJson(report);
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

/** Read the captures with a progress bar on a terminal, then print their warnings. */
export async function readReport(files: string[], port: number | undefined, host: string | undefined): Promise<Report> {
  const stop = startProgress(files, { delayMs: progressDelay() });
  let report: Report;
  try {
    report = await analyzeToReport(files, { port, host });
  } finally {
    stop();
  }
  for (const w of report.summary.warnings) process.stderr.write(`keepalive: warning: ${w}\n`);
  return report;
}

/** KEEPALIVE_PROGRESS_DELAY_MS shortens the wait before the bar shows (for tests on small files). */
function progressDelay(): number | undefined {
  const v = process.env.KEEPALIVE_PROGRESS_DELAY_MS;
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

export async function runAnalyze(a: AnalyzeArgs): Promise<number> {
  guardOutputs(a.files, [{ flag: '-o', path: a.output }]);
  const report = await readReport(a.files, a.port, a.host);
  emit('-o', a.output, render(report, a.format, useColor(a.color, a.output !== undefined)));
  return EXIT_OK;
}
