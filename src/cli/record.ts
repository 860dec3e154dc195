/**
 * `keepalive record`: a real connection with chosen keepalive settings, in two private network
 * namespaces, captured live and explained (events as they happen, then the report).
 */
import { RecordError } from '../record/errors.js';
import { recordScenario, type RecordResult } from '../record/record.js';
import { SCENARIOS, type Scenario } from '../record/scenarios.js';
import { seconds } from '../report/units.js';
import type { AnalyzeFormat } from './analyze.js';
import type { CliCommand, CommandSpec, Parsed } from './args.js';
import { COLOR_MODES, type ColorMode } from './color.js';
import { EXIT_OK, UsageError } from './errors.js';
import { eventPrinter, LIVE_FORMATS, renderReport, reportStats, stdio, usageErrorOf, withStopSignals, type Io } from './live.js';
import { countOption, durationOption } from './options.js';
import { guardOutputs } from './output.js';

export interface RecordArgs {
  scenario: Scenario;
  idle: number;
  interval: number;
  count: number;
  userTimeout: number | undefined;
  write: string | undefined;
  format: AnalyzeFormat;
  output: string | undefined;
  color: ColorMode;
}

/** What the programs in the namespaces saw, in a line: "client: ETIMEDOUT (Connection timed out)". */
function peerErrors(r: RecordResult): string[] {
  const out: string[] = [];
  for (const side of ['client', 'server'] as const) {
    for (const e of r.peers[side]) if (e.event === 'error') out.push(`the ${side} program saw ${String(e.errno)} (${String(e.message)})`);
  }
  return out;
}

export async function runRecord(a: RecordArgs, io: Io = stdio): Promise<number> {
  guardOutputs([], [
    { flag: '-o', path: a.output },
    { flag: '-w', path: a.write },
  ]);
  const text = a.format === 'text' || a.output !== undefined;
  const say = text ? io.out : io.err;
  let result: RecordResult;
  try {
    result = await recordScenario({
      scenario: a.scenario,
      idle: a.idle,
      interval: a.interval,
      count: a.count,
      userTimeout: a.userTimeout,
      write: a.write,
      signal: io.signal,
      onEvent: eventPrinter(a, io),
      onStart: ({ pair, plan, file }) => {
        const k = plan.client.keepalive;
        say(`record ${plan.scenario}: ${plan.description}\n`);
        say(`  client ${pair.clientAddr} (namespace ${pair.client}) -> server ${pair.serverAddr}:9000 (namespace ${pair.server}), captured on the client's ${pair.clientIface}\n`);
        const ut = k?.userTimeout === undefined ? '' : `, TCP_USER_TIMEOUT ${Math.round(k.userTimeout * 1000)} ms`;
        if (k !== null) say(`  client keepalive: TCP_KEEPIDLE ${k.idle}, TCP_KEEPINTVL ${k.interval}, TCP_KEEPCNT ${k.count}${ut}\n`);
        const sk = plan.server.keepalive;
        if (sk !== null) say(`  server keepalive: TCP_KEEPIDLE ${sk.idle}, TCP_KEEPINTVL ${sk.interval}, TCP_KEEPCNT ${sk.count}\n`);
        say(`  expected: ${plan.expected}\n`);
        say(`  recording for about ${seconds(Math.round(plan.end * 10) / 10)} into ${file}\n\n`);
      },
    });
  } catch (err) {
    if (err instanceof RecordError) throw new UsageError(err.message);
    throw usageErrorOf(err);
  }
  if (result.interrupted) io.err('keepalive: warning: recording interrupted before the scenario ended: the report covers what was captured\n');
  const seen = peerErrors(result);
  if (seen.length > 0) say(`${seen.join('; ')}\n`);
  if (text) say('\n');
  reportStats(result, io);
  renderReport(result.report, a, io);
  return EXIT_OK;
}

/** --idle 1s and friends: whole seconds, as the socket options take them. */
function wholeSeconds(flag: string, value: unknown): number {
  const s = durationOption(flag, value)!;
  if (!Number.isInteger(s) || s < 1 || s > 32767) throw new UsageError(`${flag}: '${String(value)}' is not possible: the socket option takes whole seconds (1s to 32767s)`);
  return s;
}

/** --user-timeout 6s: TCP_USER_TIMEOUT, whole milliseconds. */
function userTimeoutOption(value: unknown): number | undefined {
  const s = durationOption('--user-timeout', value);
  if (s === undefined) return undefined;
  const ms = Math.round(s * 1e9) / 1e6;
  if (!Number.isInteger(ms) || ms < 1 || ms > 2 ** 31 - 1) throw new UsageError(`--user-timeout: '${String(value)}' is not possible: TCP_USER_TIMEOUT takes whole milliseconds (1ms to ${2 ** 31 - 1}ms)`);
  return ms / 1000;
}

export function recordArgs(a: Record<string, unknown>): RecordArgs {
  const count = countOption('--count', a.count)!;
  if (count > 127) throw new UsageError(`--count: '${String(a.count)}' is not possible: TCP_KEEPCNT is at most 127`);
  return {
    scenario: a.scenario as Scenario,
    idle: wholeSeconds('--idle', a.idle),
    interval: wholeSeconds('--interval', a.interval),
    count,
    userTimeout: userTimeoutOption(a['user-timeout']),
    write: a.write as string | undefined,
    format: a.format as AnalyzeFormat,
    output: a.output as string | undefined,
    color: a.color as ColorMode,
  };
}

const EXAMPLES = [
  ['sudo keepalive record --scenario dead-peer --idle 1s --interval 2s --count 3', 'a peer that vanishes: three unanswered probes 2 s apart, then the RST'],
  ['sudo keepalive record --scenario dead-peer --count 9 --user-timeout 5s', 'TCP_USER_TIMEOUT overrides TCP_KEEPCNT: 4 probes, then the RST'],
  ['sudo keepalive record --scenario peer-reboot -w reboot.pcapng', 'a peer that forgot the connection answers the first probe with RST; keep the capture'],
  ['sudo keepalive record --scenario zero-window --format json', 'zero-window probes, which look like keepalives but are not'],
] as const;

const spec: CommandSpec = {
  name: 'record',
  usage: 'record',
  describe: 'record real kernel keepalive traffic with chosen settings in private network namespaces, and explain it',
  options: [
    { name: 'scenario', type: 'string', alias: 's', choices: SCENARIOS, required: true, describe: 'what happens to the connection' },
    { name: 'idle', type: 'string', default: '1s', describe: "the client's TCP_KEEPIDLE (whole seconds)" },
    { name: 'interval', type: 'string', default: '1s', describe: "the client's TCP_KEEPINTVL (whole seconds)" },
    { name: 'count', type: 'string', default: '3', describe: "the client's TCP_KEEPCNT (1-127)" },
    { name: 'user-timeout', type: 'string', describe: "the client's TCP_USER_TIMEOUT (5s, 5500ms: whole milliseconds; unset by default): Linux then gives up on a dead peer by it, not by the count" },
    { name: 'write', alias: 'w', type: 'string', describe: 'capture file to write (pcapng; classic pcap if it ends in .pcap); default a new temporary file, named at the end' },
    { name: 'format', type: 'string', alias: 'F', choices: LIVE_FORMATS, default: 'text', describe: 'format of the final report (text also prints events as they happen)' },
    { name: 'output', alias: 'o', type: 'string', describe: 'write the final report to this file' },
    { name: 'color', type: 'string', choices: COLOR_MODES, default: 'auto', describe: 'colour the text output (auto: only on a terminal, and not with NO_COLOR set)' },
  ],
  epilogue: `Scenarios:
  alive        the server answers every probe
  dead-peer    the server vanishes (its packets blackholed): unanswered probes, then the client's RST
  peer-reboot  the server forgets the connection: the first probe meets an RST
  both-ends    keepalive on both sockets (the server's idle is one second longer)
  zero-window  the server stops reading: zero-window probes, no keepalive

Examples:\n${EXAMPLES.map(([c, w]) => `  ${c}\n      ${w}`).join('\n')}

Needs root (it creates two network namespaces, ka-rec-<pid>-<n>-a/-b, joined by a veth with
10.78.N.1/.2; nothing leaves them) and python3, iproute2. They are removed on every exit.
Exit status: 0 ok; 2 usage error, not root, or a recording that cannot start. Full reference: docs/live.md`,
};

export const recordCommand: CliCommand = {
  spec,
  run: async (p: Parsed) => {
    const args = recordArgs(p.values);
    return withStopSignals((signal) => runRecord(args, { ...stdio, signal }));
  },
};
