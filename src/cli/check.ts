/** `keepalive check`: the CI gate. Exit 0 when every expectation holds, 1 when one does not. */
import { evaluateConnection, outcomeOf, renderCheckText, type CheckOutcome, type Expectations, type Status } from '../report/check.js';
import { renderJunit } from '../report/junit.js';
import { renderCheckMarkdown } from '../report/markdown.js';
import type { Side } from '../analysis/model.js';
import { readEach } from './analyze.js';
import type { CliCommand, CommandSpec, Parsed } from './args.js';
import { useColor, type ColorMode } from './color.js';
import { EXIT_CHECK_FAILED, EXIT_OK } from './errors.js';
import { countOption, durationOption, examples, EXIT_EPILOGUE, FILES, hostOption, inputFiles, portOption, SELECTION_OPTIONS, toleranceOption } from './options.js';
import { emit, guardOutputs } from './output.js';

export const CHECK_FORMATS = ['text', 'markdown', 'json'] as const;
export type CheckFormat = (typeof CHECK_FORMATS)[number];

const SIDES = ['client', 'server', 'any'] as const;

export const CHECK_EXAMPLES = [
  ['keepalive check cap.pcap --expect-idle 60s --expect-interval 5s --expect-count 3', 'every connection probes after 60 s idle, every 5 s, and gives up after 3'],
  ['keepalive check cap.pcap --port 5432 --side client --expect-idle 2m', "only the connections on port 5432, and only the client's keepalive"],
  ['keepalive check cap.pcap --expect-idle 60s --junit keepalive.xml', 'also write JUnit XML for the CI test report'],
  ['keepalive check cap.pcap --expect-idle 60s --format markdown >> "$GITHUB_STEP_SUMMARY"', 'a results table in the job summary'],
] as const;

const spec: CommandSpec = {
  name: 'check',
  usage: 'check <files..>',
  describe: 'CI gate: exit 1 when the keepalive seen contradicts the expectation',
  positionals: [FILES],
  options: [
    { name: 'expect-idle', type: 'string', describe: 'idle time before the first probe (7200, 60s, 2m, 1500ms, 1h)' },
    { name: 'expect-interval', type: 'string', describe: 'time between unanswered probes' },
    { name: 'expect-count', type: 'string', describe: 'unanswered probes before the prober gives up' },
    { name: 'expect-user-timeout', type: 'string', describe: "TCP_USER_TIMEOUT, as a Linux prober's give-up shows it (it then stops probing instead of the count)" },
    { name: 'tolerance', type: 'string', default: '10%', describe: 'how far a duration may stray: a percentage, or a duration (200ms)' },
    { name: 'side', type: 'string', choices: SIDES, default: 'any', describe: 'whose keepalive: the client, the server, or any side that probes' },
    { name: 'strict', type: 'boolean', default: false, describe: 'fail expectations the capture cannot show (e.g. the interval when every probe was answered)' },
    { name: 'junit', type: 'string', describe: 'also write JUnit XML to this file' },
    { name: 'format', alias: 'F', type: 'string', choices: CHECK_FORMATS, default: 'text', describe: 'result format (markdown for a CI job summary)' },
    { name: 'output', alias: 'o', type: 'string', describe: 'write the results to this file (never over an input)' },
    ...SELECTION_OPTIONS,
  ],
  epilogue: `${examples('Examples', CHECK_EXAMPLES)}\n\n${EXIT_EPILOGUE}`,
};

export const checkCommand: CliCommand = {
  spec,
  run: (p: Parsed) => {
    const a = p.values;
    return runCheck({
      files: inputFiles('check', a.files),
      expectations: {
        idle: durationOption('--expect-idle', a['expect-idle']),
        interval: durationOption('--expect-interval', a['expect-interval']),
        count: countOption('--expect-count', a['expect-count']),
        userTimeout: durationOption('--expect-user-timeout', a['expect-user-timeout']),
        tolerance: toleranceOption(a.tolerance),
        side: a.side as Side | 'any',
        strict: a.strict === true,
      },
      format: a.format as CheckFormat,
      output: a.output as string | undefined,
      junit: a.junit as string | undefined,
      port: portOption(a.port),
      host: hostOption(a.host),
      color: a.color as ColorMode,
    });
  },
};

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
  const { side, tolerance, strict, idle, interval, count, userTimeout } = e;
  return `${JSON.stringify({ version: 1, files, expectations: { idle, interval, count, userTimeout, side: side ?? 'any', tolerance, strict: strict === true }, ...outcome }, null, 2)}\n`;
}

export async function runCheck(a: CheckArgs): Promise<number> {
  guardOutputs(a.files, [
    { flag: '-o', path: a.output },
    { flag: '--junit', path: a.junit },
  ]);
  // Each connection judged as it ends: only its results wait, never its report.
  const { summary, items } = await readEach(a.files, a.port, a.host, (c) => evaluateConnection(c, a.expectations));
  const outcome = outcomeOf(items, a.expectations);
  if (outcome.reason !== null) outcome.reason = `no connection selected: ${selectionText(summary.files, a.port, a.host)}`;
  const color = useColor(a.color, a.output !== undefined);
  const paint = (status: Status, s: string): string => (color ? `\x1b[1;${status === 'pass' ? 32 : status === 'fail' ? 31 : 33}m${s}\x1b[0m` : s);
  const text =
    a.format === 'markdown'
      ? renderCheckMarkdown(outcome, a.expectations, summary.files)
      : a.format === 'json'
        ? renderJsonOutcome(outcome, a.expectations, summary.files)
        : renderCheckText(outcome, a.expectations, paint);
  if (a.junit !== undefined) emit('--junit', a.junit, renderJunit(outcome, a.expectations, summary.files));
  emit('-o', a.output, text);
  return outcome.ok ? EXIT_OK : EXIT_CHECK_FAILED;
}
