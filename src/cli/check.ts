/** `keepalive check`: the CI gate. Exit 0 when every expectation holds, 1 when one does not. */
import { evaluate, renderCheckText, type CheckOutcome, type Expectations, type Status } from '../report/check.js';
import { renderJunit } from '../report/junit.js';
import { renderCheckMarkdown } from '../report/markdown.js';
import { readReport } from './analyze.js';
import { useColor, type ColorMode } from './color.js';
import { EXIT_CHECK_FAILED, EXIT_OK } from './errors.js';
import { emit, guardOutputs } from './output.js';

export const CHECK_FORMATS = ['text', 'markdown', 'json'] as const;
export type CheckFormat = (typeof CHECK_FORMATS)[number];

export interface CheckArgs {
  files: string[];
  expectations: Expectations;
  format: CheckFormat;
  output: string | undefined;
  junit: string | undefined;
  port: number | undefined;
  host: string | undefined;
  color: ColorMode;
}

function selectionText(files: string[], port: number | undefined, host: string | undefined): string {
  const filters = [port !== undefined ? `--port ${port}` : '', host !== undefined ? `--host ${host}` : ''].filter(Boolean).join(' ');
  const where = files.map((f) => (f === '-' ? 'standard input' : f)).join(', ');
  return filters ? `no connection in ${where} matches ${filters}` : `${where} holds no TCP connection`;
}

function renderJsonOutcome(outcome: CheckOutcome, e: Expectations, files: string[]): string {
  const { side, tolerance, strict, idle, interval, count } = e;
  return `${JSON.stringify({ version: 1, files, expectations: { idle, interval, count, side: side ?? 'any', tolerance, strict: strict === true }, ...outcome }, null, 2)}\n`;
}

export async function runCheck(a: CheckArgs): Promise<number> {
  guardOutputs(a.files, [
    { flag: '-o', path: a.output },
    { flag: '--junit', path: a.junit },
  ]);
  const report = await readReport(a.files, a.port, a.host);
  const outcome = evaluate(report, a.expectations);
  if (outcome.reason !== null) outcome.reason = `no connection selected: ${selectionText(report.summary.files, a.port, a.host)}`;
  const color = useColor(a.color, a.output !== undefined);
  const paint = (status: Status, s: string): string => (color ? `\x1b[1;${status === 'pass' ? 32 : status === 'fail' ? 31 : 33}m${s}\x1b[0m` : s);
  const text =
    a.format === 'markdown'
      ? renderCheckMarkdown(outcome, a.expectations, report.summary.files)
      : a.format === 'json'
        ? renderJsonOutcome(outcome, a.expectations, report.summary.files)
        : renderCheckText(outcome, a.expectations, paint);
  if (a.junit !== undefined) emit('--junit', a.junit, renderJunit(outcome, a.expectations, report.summary.files));
  emit('-o', a.output, text);
  return outcome.ok ? EXIT_OK : EXIT_CHECK_FAILED;
}
