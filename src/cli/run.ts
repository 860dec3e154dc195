/**
 * `keepalive run [options] -- CMD ARGS...`: run a command in a private network namespace, capture
 * its traffic while it runs, and judge its connections as `keepalive check` does. The command's
 * standard input, output and error are its own; our lines and the report go to standard error
 * (or -o FILE). Exit status: the command's when it failed, else 0, or 1 when an expectation failed.
 */
import { chownSync } from 'node:fs';
import type { Side } from '../analysis/model.js';
import { LiveError } from '../live/cap.js';
import type { Expectations } from '../report/check.js';
import { renderJunit } from '../report/junit.js';
import { RunError } from '../run/errors.js';
import type { KernelKeepalive } from '../run/namespace.js';
import { commandLine, exitText, judgeRun, kernelText, renderRunJson, renderRunMarkdown, renderRunText } from '../run/render.js';
import { signalStatus, startRun, type RunHandle, type RunResult } from '../run/run.js';
import { CHECK_FORMATS, type CheckFormat } from './check.js';
import type { CliCommand, CommandSpec, Parsed } from './args.js';
import { COLOR_MODES, useColor, type ColorMode } from './color.js';
import { UsageError } from './errors.js';
import { reportStats } from './live.js';
import { countOption, durationOption, hostOption, portOption, toleranceOption } from './options.js';
import { emit, guardOutputs } from './output.js';

export interface RunArgs {
  command: string[];
  /** null: no expectation flag; the run reports and exits with the command's status. */
  expectations: Expectations | null;
  format: CheckFormat;
  output: string | undefined;
  junit: string | undefined;
  write: string | undefined;
  port: number | undefined;
  host: string | undefined;
  kernel: Partial<KernelKeepalive>;
  isolate: boolean;
  iface: string | undefined;
  filter: string | undefined;
  settleSeconds: number | undefined;
  color: ColorMode;
}

export interface RunIo {
  err: (s: string) => void;
  /** Standard error is a terminal (colour with --color auto). */
  errIsTTY?: boolean | undefined;
  /** Called once the run has started, to wire signals to it. */
  onHandle?: ((h: RunHandle) => void) | undefined;
}

export const stdio: RunIo = {
  err: (s) => void process.stderr.write(s),
  errIsTTY: process.stderr.isTTY,
};

const SIDES = ['client', 'server', 'any'] as const;

/** --kernel-idle 1s and friends: whole seconds, as the sysctls take them. */
function kernelSeconds(flag: string, value: unknown): number | undefined {
  const s = durationOption(flag, value);
  if (s === undefined) return undefined;
  if (!Number.isInteger(s) || s < 1 || s > 32767) throw new UsageError(`${flag}: '${String(value)}' is not possible: the sysctl takes whole seconds (1s to 32767s)`);
  return s;
}

/** The parsed flags (and the command after --) → RunArgs, each value checked at the door. */
export function runArgs(a: Record<string, unknown>, command: string[]): RunArgs {
  const positional = (a.command as unknown[] | undefined) ?? [];
  if (command.length === 0) {
    if (positional.length > 0) throw new UsageError(`run: put the command after --, as in: keepalive run --expect-idle 1s -- ${positional.map(String).join(' ')}`);
    throw new UsageError('run: name the command to run after --, as in: keepalive run --expect-idle 1s -- python3 app.py');
  }
  const idle = durationOption('--expect-idle', a['expect-idle']);
  const interval = durationOption('--expect-interval', a['expect-interval']);
  const count = countOption('--expect-count', a['expect-count']);
  const userTimeout = durationOption('--expect-user-timeout', a['expect-user-timeout']);
  const expectAny = idle !== undefined || interval !== undefined || count !== undefined || userTimeout !== undefined || a['expect-keepalive'] === true;
  if (!expectAny) {
    for (const flag of ['junit', 'strict', 'side', 'tolerance']) {
      if (a[flag] !== undefined && a[flag] !== false) throw new UsageError(`--${flag}: give an expectation too (--expect-idle, --expect-interval, --expect-count, --expect-user-timeout or --expect-keepalive)`);
    }
  }
  const kernelCount = countOption('--kernel-count', a['kernel-count']);
  if (kernelCount !== undefined && kernelCount > 127) throw new UsageError(`--kernel-count: '${String(a['kernel-count'])}' is not possible: at most 127 probes`);
  const kernel: Partial<KernelKeepalive> = {};
  const kIdle = kernelSeconds('--kernel-idle', a['kernel-idle']);
  const kInterval = kernelSeconds('--kernel-interval', a['kernel-interval']);
  if (kIdle !== undefined) kernel.idle = kIdle;
  if (kInterval !== undefined) kernel.interval = kInterval;
  if (kernelCount !== undefined) kernel.count = kernelCount;
  const isolate = a.isolate !== false;
  const iface = a.interface as string | undefined;
  if (!isolate) {
    const given = ['kernel-idle', 'kernel-interval', 'kernel-count'].find((f) => a[f] !== undefined);
    if (given !== undefined) throw new UsageError(`--${given}: only for an isolated run (it sets the private namespace's sysctl; with --no-isolate the host's would change)`);
    if (iface === undefined || iface === '') throw new UsageError('--no-isolate: name the interface to capture on with -i (lo for a service on this machine)');
  } else {
    if (iface !== undefined) throw new UsageError("-i: only with --no-isolate (an isolated run captures its namespace's lo)");
    if (a.filter !== undefined) throw new UsageError('-f: only with --no-isolate (an isolated run captures everything in its namespace)');
  }
  const settle = a.settle !== undefined && /^0+(\.0*)?(ms|s)?$/.test(String(a.settle).trim()) ? 0 : durationOption('--settle', a.settle);
  return {
    command,
    expectations: expectAny
      ? {
          idle,
          interval,
          count,
          userTimeout,
          tolerance: toleranceOption(a.tolerance ?? '10%'),
          side: (a.side as Side | 'any' | undefined) ?? 'any',
          strict: a.strict === true,
        }
      : null,
    format: (a.format as CheckFormat | undefined) ?? 'text',
    output: a.output as string | undefined,
    junit: a.junit as string | undefined,
    write: a.write as string | undefined,
    port: portOption(a.port),
    host: hostOption(a.host),
    kernel,
    isolate,
    iface,
    filter: a.filter as string | undefined,
    settleSeconds: settle,
    color: (a.color as ColorMode | undefined) ?? 'auto',
  };
}

/** Files keepalive wrote under sudo belong to the user who typed it, as the command's own files do. */
function giveBack(path: string | undefined | null, r: RunResult): void {
  if (path === undefined || path === null || r.runAs === null) return;
  try {
    chownSync(path, r.runAs.uid, r.runAs.gid);
  } catch {
    // not ours to insist on
  }
}

/** Run, report, and return the exit status. Throws UsageError (exit 2) for what stops it from starting. */
export async function runRun(a: RunArgs, io: RunIo = stdio): Promise<number> {
  guardOutputs([], [
    { flag: '-o', path: a.output },
    { flag: '-w', path: a.write },
    { flag: '--junit', path: a.junit },
  ]);
  if (!a.isolate && a.port === undefined && a.host === undefined) {
    io.err(`keepalive run: warning: --no-isolate without --port or --host: every connection seen on ${a.iface} is judged, not only the command's\n`);
  }
  const cmd = commandLine(a.command);
  const handle = startRun({
    command: a.command,
    isolate: a.isolate,
    iface: a.isolate ? undefined : a.iface,
    filter: a.filter,
    kernel: a.kernel,
    write: a.write,
    port: a.port,
    host: a.host,
    settleSeconds: a.settleSeconds,
    onReady: (s) => {
      const who = s.runAs !== null ? `, as uid ${s.runAs.uid}${s.runAs.name !== undefined ? ` (${s.runAs.name})` : ''}` : '';
      if (s.namespace !== null) {
        io.err(`keepalive run: ${cmd} in network namespace ${s.namespace} (loopback only)${who}; kernel keepalive there: ${kernelText(s.kernel, a.kernel)}; capturing on lo\n`);
      } else {
        io.err(`keepalive run: ${cmd} in this network namespace${who}; kernel keepalive here: ${kernelText(s.kernel, a.kernel)}; capturing on ${s.iface}${a.filter ? `, filter '${a.filter}'` : ''}\n`);
      }
    },
  });
  io.onHandle?.(handle);
  let result: RunResult;
  try {
    result = await handle.result;
  } catch (err) {
    if (err instanceof RunError) {
      if (err.kind === 'not-found' || err.kind === 'not-executable') {
        io.err(`keepalive: ${err.message}\n`);
        return err.kind === 'not-found' ? 127 : 126;
      }
      throw new UsageError(err.message);
    }
    if (err instanceof LiveError) throw new UsageError(err.message);
    throw err;
  }
  io.err(`keepalive run: ${exitText(result)}\n`);
  if (result.interrupted !== null && result.exit.started) io.err(`keepalive run: interrupted by ${result.interrupted}: the command was stopped; the report covers what was captured\n`);
  if (result.leftovers > 0) io.err(`keepalive run: stopped ${result.leftovers === 1 ? 'one process' : `${result.leftovers} processes`} ${cmd} left running in its namespace\n`);
  if (result.stats.stoppedBy === 'source-ended' && result.exit.started) {
    io.err('keepalive run: warning: the capture ended before the command did: the report covers only what was captured until then\n');
  }
  reportStats(result, { out: io.err, err: io.err });
  giveBack(result.file, result);
  const outcome = judgeRun(result, a.expectations, { port: a.port, host: a.host });
  const toFile = a.output !== undefined;
  const color = a.format === 'text' && useColor(a.color, toFile, { isTTY: io.errIsTTY === true });
  const paint = (status: 'pass' | 'fail' | 'na', s: string): string => (color ? `\x1b[1;${status === 'pass' ? 32 : status === 'fail' ? 31 : 33}m${s}\x1b[0m` : s);
  const text = a.format === 'markdown' ? renderRunMarkdown(outcome) : a.format === 'json' ? renderRunJson(outcome) : renderRunText(outcome, paint);
  if (a.junit !== undefined && outcome.check !== null && a.expectations !== null) {
    emit('--junit', a.junit, renderJunit(outcome.check, a.expectations, [cmd]));
    giveBack(a.junit, result);
  }
  if (toFile) {
    emit('-o', a.output, text);
    giveBack(a.output, result);
  } else {
    io.err(text);
  }
  return outcome.status;
}

/**
 * Ctrl-C, SIGTERM and SIGHUP go to the command (as they came); a second one kills it; a third
 * ends keepalive at once (its exit hook still removes the namespace and what is in it).
 * Ctrl-C at a terminal already reached the command (it is in keepalive's foreground process
 * group), so SIGINT is not sent again when standard input is a terminal.
 */
export async function withForwardedSignals(run: (onHandle: (h: RunHandle) => void) => Promise<number>): Promise<number> {
  let handle: RunHandle | null = null;
  let received = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    received++;
    if (received >= 3) process.exit(signalStatus(sig));
    handle?.kill(sig, !(sig === 'SIGINT' && process.stdin.isTTY === true));
  };
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of sigs) process.on(s, onSignal);
  try {
    return await run((h) => {
      handle = h;
    });
  } finally {
    for (const s of sigs) process.off(s, onSignal);
  }
}

const EXAMPLES = [
  ['sudo keepalive run --expect-idle 1s -- python3 app_test.py', "the connections app_test.py makes probe after 1 s idle (it sets TCP_KEEPIDLE itself)"],
  ['sudo keepalive run --kernel-idle 1s --kernel-interval 1s --kernel-count 3 --expect-idle 1s -- npm test', 'SO_KEEPALIVE without its own timers probes after 1 s in the namespace: proof it is on'],
  ['sudo keepalive run --expect-keepalive --junit ka.xml -w ka.pcapng -- ./integration.sh', 'every connection shows keepalive; JUnit XML and the capture for later'],
  ['sudo keepalive run --no-isolate -i lo --port 5432 --expect-idle 60s -- ./load.sh', 'a service started elsewhere, on port 5432 of this machine'],
] as const;

const spec: CommandSpec = {
  name: 'run',
  usage: 'run [options] -- CMD [ARGS...]',
  describe: 'run a command (after --) in a private network namespace, capture its traffic while it runs, and check its keepalive (CI gate)',
  positionals: [{ name: 'command', variadic: true, describe: 'the command and its arguments, after --' }],
  passThrough: true,
  options: [
    { name: 'expect-idle', type: 'string', describe: 'idle time before the first probe (7200, 60s, 2m, 1500ms, 1h)' },
    { name: 'expect-interval', type: 'string', describe: 'time between unanswered probes' },
    { name: 'expect-count', type: 'string', describe: 'unanswered probes before the prober gives up' },
    { name: 'expect-user-timeout', type: 'string', describe: "TCP_USER_TIMEOUT, as a Linux prober's give-up shows it" },
    { name: 'expect-keepalive', type: 'boolean', describe: 'every selected connection shows keepalive probes (implied by the other --expect-*)' },
    { name: 'tolerance', type: 'string', describe: 'how far a duration may stray: a percentage (default 10%), or a duration (200ms)' },
    { name: 'side', type: 'string', choices: SIDES, describe: 'whose keepalive: the client, the server, or any side that probes (default)' },
    { name: 'strict', type: 'boolean', describe: 'fail expectations the capture cannot show' },
    { name: 'port', type: 'string', describe: 'only connections with this port at either end' },
    { name: 'host', type: 'string', describe: 'only connections with this address at either end' },
    { name: 'junit', type: 'string', describe: 'also write JUnit XML to this file' },
    { name: 'kernel-idle', type: 'string', describe: "the namespace's net.ipv4.tcp_keepalive_time (whole seconds)" },
    { name: 'kernel-interval', type: 'string', describe: "the namespace's net.ipv4.tcp_keepalive_intvl (whole seconds)" },
    { name: 'kernel-count', type: 'string', describe: "the namespace's net.ipv4.tcp_keepalive_probes (1-127)" },
    { name: 'write', alias: 'w', type: 'string', describe: 'also write the capture to this file (pcapng; classic pcap if it ends in .pcap); never overwrites' },
    { name: 'format', type: 'string', alias: 'F', choices: CHECK_FORMATS, default: 'text', describe: 'report format' },
    { name: 'output', alias: 'o', type: 'string', describe: 'write the report to this file instead of standard error' },
    { name: 'isolate', type: 'boolean', default: true, describe: 'run the command in a private network namespace (--no-isolate: here, capturing on -i)' },
    { name: 'interface', alias: 'i', type: 'string', describe: 'with --no-isolate: the interface to capture on' },
    { name: 'filter', alias: 'f', type: 'string', describe: 'with --no-isolate: BPF capture filter ("tcp port 5432")' },
    { name: 'settle', type: 'string', describe: 'keep capturing this long after the command exits (default 500ms)' },
    { name: 'color', type: 'string', choices: COLOR_MODES, default: 'auto', describe: 'colour PASS/FAIL (auto: only when standard error is a terminal, and not with NO_COLOR set)' },
  ],
  epilogue: `Examples:\n${EXAMPLES.map(([c, w]) => `  ${c}\n      ${w}`).join('\n')}

The command runs as the user behind sudo (SUDO_UID/SUDO_GID), with keepalive's standard input,
output and error; the report goes to standard error or -o. Needs root: it creates a network
namespace ka-run-<pid>-<n> (only lo, up), removed on every exit with whatever the command left in it.
Exit status: the command's when it fails (128+N when killed by signal N); else 0 when every
expectation holds (or none was given), 1 when one fails or no connection showed keepalive;
2 usage error, not root, or a capture that cannot start; 127/126 command not found/not executable.
Full reference: docs/run.md`,
};

export const runCommand: CliCommand = {
  spec,
  run: async (p: Parsed) => {
    const args = runArgs(p.values, p.rest);
    return withForwardedSignals((onHandle) => runRun(args, { ...stdio, onHandle }));
  },
};
