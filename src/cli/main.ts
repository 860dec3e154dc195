#!/usr/bin/env node
import { writeFileSync, existsSync, realpathSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { analyzeToReport } from '../analysis/analyze.js';
import { CaptureError } from '../capture/errors.js';
import { renderJson } from '../report/json.js';
import { renderText } from '../report/text.js';

/** A usage mistake: exit 2 with one line. */
export class UsageError extends Error {}

const FORMATS = ['text', 'json'] as const;
type Format = (typeof FORMATS)[number];

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

async function runAnalyze(given: string[], format: Format, out: string | undefined, port: number | undefined, host: string | undefined): Promise<number> {
  const files = given.map((f) => (f === STDIN_TOKEN ? '-' : f));
  if (files.length === 0) throw new UsageError('analyze: name at least one capture file, or - for standard input');
  if (out !== undefined && files.some((f) => f !== '-' && existsSync(out) && samePath(f, out))) {
    throw new UsageError(`-o ${out}: refusing to overwrite an input capture`);
  }
  const report = await analyzeToReport(files, { port, host });
  const text = format === 'json' ? renderJson(report) : renderText(report);
  if (out !== undefined) writeFileSync(out, text);
  else process.stdout.write(text);
  for (const w of report.summary.warnings) process.stderr.write(`keepalive: warning: ${w}\n`);
  return 0;
}

export function buildCli(argv: string[]): Argv {
  return yargs(argv)
    .scriptName('keepalive')
    .usage('$0 <command> [options]\n\nExplains TCP keepalive traffic in packet captures.')
    .command(
      'analyze <files..>',
      "report each connection's keepalive timeline (pcap, pcapng, gzip'd, - for stdin)",
      (y) =>
        y
          .positional('files', { type: 'string', array: true, demandOption: true, describe: 'capture files; several are merged in time order' })
          .option('format', { alias: 'F', choices: FORMATS, default: 'text' as Format, describe: 'report format' })
          .option('o', { alias: 'output', type: 'string', describe: 'write the report to this file' })
          .option('port', { type: 'number', describe: 'only connections with this port' })
          .option('host', { type: 'string', describe: 'only connections with this address' })
          .example('$0 analyze capture.pcapng', 'explain every connection')
          .example('tcpdump -w - | $0 analyze -', 'read a capture from standard input')
          .example('$0 analyze ring0.pcap ring1.pcap --format json', 'merge a ring buffer, JSON report'),
      async (a) => {
        process.exitCode = await runAnalyze(a.files as string[], a.format as Format, a.o, a.port, a.host);
      },
    )
    .demandCommand(1, 'name a command: analyze')
    .strict()
    .help()
    .version()
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(msg);
    });
}

/** yargs drops a lone "-" from variadic positionals; carry it through under another name. */
const STDIN_TOKEN = '<stdin>';

export async function main(argv: string[]): Promise<number> {
  try {
    await buildCli(argv.map((a) => (a === '-' ? STDIN_TOKEN : a))).parseAsync();
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CaptureError || err instanceof UsageError) {
      process.stderr.write(`keepalive: ${err.message}\n`);
      return 2;
    }
    const e = err as Error;
    process.stderr.write(`keepalive: internal error: ${e.message}\n`);
    return 2;
  }
}

const code = await main(hideBin(process.argv));
process.exitCode = code;
