/**
 * `keepalive demo`: the teaching scenarios. Without a name, one line per scenario; with one,
 * its capture (written by the synthesizer, no root needed) explained frame by frame, then the
 * report `keepalive analyze` gives for it.
 */
import { DEMO_FORMATS, DemoError, listScenarios, runDemo, scenarios, type DemoFormat } from '../demo/index.js';
import type { CliCommand, CommandSpec, Parsed } from './args.js';
import { COLOR_MODES, useColor, type ColorMode } from './color.js';
import { EXIT_OK, UsageError } from './errors.js';
import { emit, guardOutputs } from './output.js';

export interface DemoArgs {
  name: string | undefined;
  write: string | undefined;
  format: DemoFormat;
  output: string | undefined;
  color: ColorMode;
}

/** Where the command's output goes; tests pass their own. */
export interface DemoIo {
  out: (s: string) => void;
  err: (s: string) => void;
  stdoutIsTTY?: boolean;
}

const stdio: DemoIo = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
};

export async function runDemoCommand(a: DemoArgs, io: DemoIo = stdio): Promise<number> {
  if (a.name === undefined) {
    io.out(listScenarios());
    return EXIT_OK;
  }
  guardOutputs([], [
    { flag: '-w', path: a.write },
    { flag: '-o', path: a.output },
  ]);
  const color = a.format === 'text' && useColor(a.color, a.output !== undefined, { isTTY: io.stdoutIsTTY ?? process.stdout.isTTY });
  let result;
  try {
    result = await runDemo(a.name, { write: a.write, format: a.format, color });
  } catch (err) {
    if (err instanceof DemoError) throw new UsageError(err.message);
    throw err;
  }
  if (a.output !== undefined) {
    emit('-o', a.output, result.output);
    io.err(`keepalive: demo ${a.name}: capture written to ${result.file}, explanation to ${a.output}\n`);
  } else {
    io.out(result.output);
    // The text names the capture in its header; an HTML page on standard output cannot say it to the terminal.
    if (a.format !== 'text') io.err(`keepalive: demo ${a.name}: capture written to ${result.file}\n`);
  }
  return EXIT_OK;
}

const EXAMPLES = [
  ['keepalive demo', 'list the scenarios'],
  ['keepalive demo dead-peer', 'write the capture to a temporary file and explain it frame by frame'],
  ['keepalive demo zero-window -w zw.pcapng', 'keep the capture, to open it in Wireshark next to the explanation'],
  ['keepalive demo linux-defaults --format html -o defaults.html', 'a self-contained page to project in class'],
] as const;

const spec: CommandSpec = {
  name: 'demo',
  usage: 'demo [name]',
  describe: 'teaching scenarios: write a capture of one and explain it frame by frame (no root needed)',
  positionals: [{ name: 'name', describe: `the scenario: ${scenarios().map((s) => s.name).join(', ')}` }],
  options: [
    { name: 'write', alias: 'w', type: 'string', describe: 'capture file to write (classic pcap if it ends in .pcap, else pcapng); never overwritten. Default: a new file in the temporary directory' },
    { name: 'format', type: 'string', alias: 'F', choices: DEMO_FORMATS, default: 'text', describe: 'text, or html: one self-contained page with the diagram, the explanation and the report' },
    { name: 'output', alias: 'o', type: 'string', describe: 'write the explanation to this file instead of standard output' },
    { name: 'color', type: 'string', choices: COLOR_MODES, default: 'auto', describe: 'colour the text output (auto: only on a terminal, and not with NO_COLOR set)' },
  ],
  epilogue: `${listScenarios().trimEnd()}\n\nExamples:\n${EXAMPLES.map(([c, w]) => `  ${c}\n      ${w}`).join('\n')}\n\nNo root needed: the captures come from the project's synthesizer, the same bytes every time.\nExit status: 0 ok; 2 unknown scenario, usage error, or a file that cannot be written. Full reference: docs/demo.md`,
};

export function demoArgs(a: Record<string, unknown>): DemoArgs {
  return {
    name: a.name === undefined ? undefined : String(a.name),
    write: a.write as string | undefined,
    format: a.format as DemoFormat,
    output: a.output as string | undefined,
    color: a.color as ColorMode,
  };
}

export const demoCommand: CliCommand = {
  spec,
  run: (p: Parsed) => runDemoCommand(demoArgs(p.values)),
};
