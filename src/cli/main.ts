#!/usr/bin/env node
/**
 * The command line: a thin shell over the library. Every failure is one line and an exit status.
 * Only the module of the command asked for is loaded (a `check` in CI never loads the live
 * capture or demo code).
 */
import { readFileSync } from 'node:fs';
import { CaptureError } from '../capture/errors.js';
import { closest, commandHelp, mainHelp, parseCommand, type CliCommand } from './args.js';
import { EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';
import { examples, EXIT_EPILOGUE } from './options.js';

export { UsageError };

const COMMANDS: Record<string, () => Promise<CliCommand>> = {
  analyze: async () => (await import('./analyze.js')).analyzeCommand,
  check: async () => (await import('./check.js')).checkCommand,
  live: async () => (await import('./live.js')).liveCommand,
  record: async () => (await import('./record.js')).recordCommand,
  demo: async () => (await import('./demo.js')).demoCommand,
  run: async () => (await import('./run.js')).runCommand,
};
const NAMES = Object.keys(COMMANDS);

const SUMMARY = 'Explains TCP keepalive traffic in packet captures: who probes, with what idle, interval and count, and how the peer answered.';

async function printMainHelp(): Promise<void> {
  const commands = await Promise.all(NAMES.map((n) => COMMANDS[n]!()));
  const { ANALYZE_EXAMPLES } = await import('./analyze.js');
  const { CHECK_EXAMPLES } = await import('./check.js');
  const epilogue = `${examples('analyze examples', ANALYZE_EXAMPLES)}\n\n${examples('check examples', CHECK_EXAMPLES)}\n\n${EXIT_EPILOGUE}`;
  process.stdout.write(mainHelp(SUMMARY, commands.map((c) => c.spec), epilogue));
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function dispatch(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) throw new UsageError(`name a command: ${NAMES.slice(0, -1).join(', ')} or ${NAMES.at(-1)} (keepalive --help lists them)`);
  if (first === '--help' || first === '-h') {
    await printMainHelp();
    return EXIT_OK;
  }
  if (first === '--version') {
    process.stdout.write(`${version()}\n`);
    return EXIT_OK;
  }
  const load = COMMANDS[first];
  if (load === undefined) {
    if (first.startsWith('-')) throw new UsageError(`name a command before the flags: ${NAMES.join(', ')} (keepalive --help lists them)`);
    const guess = closest(first, NAMES);
    throw new UsageError(`unknown command '${first}'. ${guess !== undefined ? `Did you mean ${guess}?` : 'keepalive --help lists the commands'}`);
  }
  const command = await load();
  const parsed = parseCommand(command.spec, rest);
  if (parsed.help) {
    process.stdout.write(commandHelp(command.spec));
    return EXIT_OK;
  }
  return command.run(parsed);
}

export async function main(argv: string[]): Promise<number> {
  // `keepalive analyze ... | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  try {
    return await dispatch(argv);
  } catch (err) {
    if (err instanceof CaptureError || err instanceof UsageError) {
      process.stderr.write(`keepalive: ${err.message.replace(/:?\s*\n\s*/g, ': ')}\n`);
      return EXIT_USAGE;
    }
    const e = err as Error;
    process.stderr.write(`keepalive: internal error: ${String(e?.message ?? e).split('\n')[0]}\n`);
    return EXIT_USAGE;
  }
}

process.exitCode = await main(process.argv.slice(2));
