#!/usr/bin/env node
/** The command line: a thin shell over the library. Every failure is one line and an exit status. */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { CaptureError } from '../capture/errors.js';
import type { Side } from '../analysis/model.js';
import { ANALYZE_FORMATS, runAnalyze, type AnalyzeFormat } from './analyze.js';
import { CHECK_FORMATS, runCheck, type CheckFormat } from './check.js';
import { COLOR_MODES, type ColorMode } from './color.js';
import { demoCommand } from './demo.js';
import { EXIT_USAGE, UsageError } from './errors.js';
import { liveCommand } from './live.js';
import { countOption, durationOption, hostOption, inputFiles, jobsOption, portOption, STDIN_TOKEN, toleranceOption } from './options.js';
import { recordCommand } from './record.js';
import { runCommand } from './run.js';

export { UsageError };

const SIDES = ['client', 'server', 'any'] as const;

const EPILOGUE = `Exit status: 0 ok; 1 a check failed (or it selected no connection); 2 usage error or unreadable input.
Durations: 7200 (seconds), 60s, 2m, 1500ms, 1h. Full reference: docs/cli.md`;

/** Examples as an indented block: yargs' two-column layout breaks long command lines mid-word. */
function examples(title: string, list: readonly (readonly [string, string])[]): string {
  return `${title}:\n${list.map(([cmd, what]) => `  ${cmd}\n      ${what}`).join('\n')}`;
}

const ANALYZE_EXAMPLES = [
  ['keepalive analyze capture.pcapng', 'explain every connection, with a ladder of probes and replies'],
  ['tcpdump -i any -w - port 5432 | keepalive analyze -', 'read a capture from standard input'],
  ['keepalive analyze ring0.pcap ring1.pcap --format json', 'merge a ring buffer; the version-1 JSON report'],
  ['keepalive analyze capture.pcap --format html -o report.html', 'one self-contained HTML file with a ladder diagram per connection'],
  ['keepalive analyze capture.pcap --format csv --port 443', 'one CSV row per connection on port 443'],
  ['keepalive analyze huge.pcap --format jsonl', 'one JSON line per connection as it ends, then the summary'],
  ['keepalive analyze a.pcap b.pcap c.pcap --separate --format csv', 'unrelated captures, analysed in parallel'],
] as const;

const CHECK_EXAMPLES = [
  ['keepalive check cap.pcap --expect-idle 60s --expect-interval 5s --expect-count 3', 'every connection probes after 60 s idle, every 5 s, and gives up after 3'],
  ['keepalive check cap.pcap --port 5432 --side client --expect-idle 2m', "only the connections on port 5432, and only the client's keepalive"],
  ['keepalive check cap.pcap --expect-idle 60s --junit keepalive.xml', 'also write JUnit XML for the CI test report'],
  ['keepalive check cap.pcap --expect-idle 60s --format markdown >> "$GITHUB_STEP_SUMMARY"', 'a results table in the job summary'],
] as const;

function selection<T>(y: Argv<T>) {
  return y
    .option('port', { type: 'string', describe: 'only connections with this port at either end', requiresArg: true })
    .option('host', { type: 'string', describe: 'only connections with this address at either end', requiresArg: true })
    .option('color', { choices: COLOR_MODES, default: 'auto' as ColorMode, describe: 'colour the text output (auto: only on a terminal, and not with NO_COLOR set)' })
    .option('middlebox-timeout', { type: 'string', describe: 'idle timeout of the strictest NAT/load balancer on the path, for findings (default 300s)', requiresArg: true });
}

export function buildCli(argv: string[]): Argv {
  return yargs(argv)
    .scriptName('keepalive')
    .usage('$0 <command> [options]\n\nExplains TCP keepalive traffic in packet captures: who probes, with what idle, interval and count, and how the peer answered.')
    .command(
      'analyze <files..>',
      "report each connection's keepalive timeline (pcap, pcapng, gzip'd; - for standard input)",
      (y) =>
        selection(
          y
            .positional('files', { type: 'string', array: true, demandOption: true, describe: 'capture files; several are merged in time order' })
            .option('format', { alias: 'F', choices: ANALYZE_FORMATS, default: 'text' as AnalyzeFormat, describe: 'report format' })
            .option('output', { alias: 'o', type: 'string', describe: 'write the report to this file (never over an input)', requiresArg: true })
            .option('separate', { type: 'boolean', default: false, describe: 'analyse each file on its own (unrelated captures), in parallel' })
            .option('jobs', { type: 'string', describe: 'worker threads for --separate (default: one per core)', requiresArg: true }),
        )
          .epilogue(`${examples('Examples', ANALYZE_EXAMPLES)}

${EPILOGUE}`),
      async (a) => {
        process.exitCode = await runAnalyze({
          files: inputFiles('analyze', a.files as string[]),
          format: a.format as AnalyzeFormat,
          output: a.output,
          port: portOption(a.port),
          host: hostOption(a.host),
          color: a.color as ColorMode,
          middleboxTimeout: durationOption('--middlebox-timeout', a['middlebox-timeout']),
          separate: a.separate === true,
          jobs: jobsOption(a.jobs),
        });
      },
    )
    .command(
      'check <files..>',
      'CI gate: exit 1 when the keepalive seen contradicts the expectation',
      (y) =>
        selection(
          y
            .positional('files', { type: 'string', array: true, demandOption: true, describe: 'capture files; several are merged in time order' })
            .option('expect-idle', { type: 'string', describe: 'idle time before the first probe (7200, 60s, 2m, 1500ms, 1h)', requiresArg: true })
            .option('expect-interval', { type: 'string', describe: 'time between unanswered probes', requiresArg: true })
            .option('expect-count', { type: 'string', describe: 'unanswered probes before the prober gives up', requiresArg: true })
            .option('tolerance', { type: 'string', default: '10%', describe: 'how far a duration may stray: a percentage, or a duration (200ms)', requiresArg: true })
            .option('side', { choices: SIDES, default: 'any', describe: 'whose keepalive: the client, the server, or any side that probes' })
            .option('strict', { type: 'boolean', default: false, describe: 'fail expectations the capture cannot show (e.g. the interval when every probe was answered)' })
            .option('junit', { type: 'string', describe: 'also write JUnit XML to this file', requiresArg: true })
            .option('format', { alias: 'F', choices: CHECK_FORMATS, default: 'text' as CheckFormat, describe: 'result format (markdown for a CI job summary)' })
            .option('output', { alias: 'o', type: 'string', describe: 'write the results to this file (never over an input)', requiresArg: true }),
        )
          .epilogue(`${examples('Examples', CHECK_EXAMPLES)}

${EPILOGUE}`),
      async (a) => {
        const files = inputFiles('check', a.files as string[]);
        process.exitCode = await runCheck({
          files,
          expectations: {
            idle: durationOption('--expect-idle', a['expect-idle']),
            interval: durationOption('--expect-interval', a['expect-interval']),
            count: countOption('--expect-count', a['expect-count']),
            tolerance: toleranceOption(a.tolerance),
            side: a.side as Side | 'any',
            strict: a.strict === true,
          },
          format: a.format as CheckFormat,
          output: a.output,
          junit: a.junit,
          port: portOption(a.port),
          host: hostOption(a.host),
          color: a.color as ColorMode,
        });
      },
    )
    .command(liveCommand)
    .command(recordCommand)
    .command(demoCommand)
    .command(runCommand)
    .epilogue(`${examples('analyze examples', ANALYZE_EXAMPLES)}

${examples('check examples', CHECK_EXAMPLES)}

${EPILOGUE}`)
    .demandCommand(1, 'name a command: analyze, check, live, record, demo or run (keepalive --help lists them)')
    .recommendCommands()
    .strict()
    .help()
    .version()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs' own complaints (a flag without its value) arrive as YError: usage, not a crash.
      if (err && err.name === 'YError') throw new UsageError(err.message);
      if (err) throw err;
      // recommendCommands says only "Did you mean …?": name what was not understood too.
      if (/^Did you mean/.test(msg)) throw new UsageError(`unknown command '${argv[0]}'. ${msg}`);
      throw new UsageError(msg);
    });
}

export async function main(argv: string[]): Promise<number> {
  // `keepalive analyze ... | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  try {
    await buildCli(argv.map((a) => (a === '-' ? STDIN_TOKEN : a))).parseAsync();
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CaptureError || err instanceof UsageError) {
      // One line, whatever yargs put in the message ("Invalid values:\n  Argument: …").
      process.stderr.write(`keepalive: ${err.message.replace(/:?\s*\n\s*/g, ': ')}\n`);
      return EXIT_USAGE;
    }
    const e = err as Error;
    process.stderr.write(`keepalive: internal error: ${String(e?.message ?? e).split('\n')[0]}\n`);
    return EXIT_USAGE;
  }
}

const code = await main(hideBin(process.argv));
process.exitCode = code;
