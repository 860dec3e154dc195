/**
 * `keepalive live`: capture through libpcap (the optional `cap` package) and explain keepalive
 * traffic as it happens; at the end (duration, frame count, Ctrl-C) the report `analyze` gives.
 */
import type { Report } from '../analysis/model.js';
import { LiveError, type CapDevice } from '../live/cap.js';
import { formatLiveEvent } from '../live/events.js';
import { captureLive, type LiveEvent, type LiveResult } from '../live/session.js';
import { DEFAULT_BUFFER_BYTES, listDevices, listDevicesIn } from '../live/source.js';
import { ANALYZE_FORMATS, type AnalyzeFormat } from './analyze.js';
import { render } from './render.js';
import type { CliCommand, CommandSpec, Parsed } from './args.js';
import { COLOR_MODES, useColor, type ColorMode } from './color.js';
import { EXIT_OK, UsageError } from './errors.js';
import { countOption, durationOption, hostOption, portOption } from './options.js';
import { emit, guardOutputs } from './output.js';

export const LIVE_FORMATS = ANALYZE_FORMATS;

export interface LiveArgs {
  iface: string | undefined;
  listInterfaces: boolean;
  filter: string | undefined;
  durationSeconds: number | undefined;
  count: number | undefined;
  write: string | undefined;
  format: AnalyzeFormat;
  output: string | undefined;
  port: number | undefined;
  host: string | undefined;
  color: ColorMode;
  netns: string | undefined;
  bufferKiB: number | undefined;
}

/** Where a command's lines go; tests pass their own. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Ends the capture normally (the CLI wires Ctrl-C and SIGTERM to it). */
  signal?: AbortSignal | undefined;
  /** Colour decision for standard output (a terminal). */
  stdoutIsTTY?: boolean;
}

export const stdio: Io = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
};

const LINK_NAMES: Record<number, string> = { 0: 'BSD loopback', 1: 'Ethernet', 101: 'raw IP', 113: 'Linux cooked', 127: '802.11 radiotap', 276: 'Linux cooked v2' };

export function linkName(linkType: number): string {
  return `${LINK_NAMES[linkType] ?? 'link type'} (${linkType})`;
}

/** A library error as the command line's one line (exit status 2). */
export function usageErrorOf(err: unknown): unknown {
  if (err instanceof LiveError) return new UsageError(err.message);
  return err;
}

function deviceLine(d: CapDevice): string {
  const addrs = d.addresses.map((a) => a.addr).filter((a): a is string => a !== undefined);
  const notes = [d.flags === 'PCAP_IF_LOOPBACK' ? 'loopback' : '', d.description ?? ''].filter(Boolean).join('; ');
  return `${d.name.padEnd(18)} ${addrs.join(', ') || '-'}${notes ? `  (${notes})` : ''}`;
}

/** After the capture: what was seen and dropped, then the report's warnings, all on standard error. */
export function reportStats(result: LiveResult, io: Io): void {
  const s = result.stats;
  const drops = s.kernelDrops !== null ? `${s.kernelDrops} dropped by the kernel` : `kernel drops unknown (${s.dropsUnavailable ?? 'not reported'})`;
  io.err(`keepalive: ${s.frames} frame(s) captured on ${s.iface} in ${s.seconds.toFixed(1)} s, ${drops}${result.file !== null ? `; written to ${result.file}` : ''}\n`);
  for (const w of result.report.summary.warnings) io.err(`keepalive: warning: ${w}\n`);
}

/** Live lines go to standard output when it carries the text report (or no report), else to standard error. */
export function eventPrinter(a: { format: AnalyzeFormat; output: string | undefined; color: ColorMode }, io: Io): (e: LiveEvent) => void {
  const toStdout = a.format === 'text' || a.output !== undefined;
  const color = toStdout ? useColor(a.color, false, { isTTY: io.stdoutIsTTY ?? process.stdout.isTTY }) : false;
  const write = toStdout ? io.out : io.err;
  return (e) => write(`${formatLiveEvent(e, color)}\n`);
}

export function renderReport(report: Report, a: { format: AnalyzeFormat; output: string | undefined; color: ColorMode }, io: Io): void {
  const text = render(report, a.format, useColor(a.color, a.output !== undefined, { isTTY: io.stdoutIsTTY ?? process.stdout.isTTY }));
  if (a.output === undefined) io.out(text);
  else emit('-o', a.output, text);
}

export async function runLive(a: LiveArgs, io: Io = stdio): Promise<number> {
  if (a.listInterfaces) {
    let devices: CapDevice[];
    try {
      devices = a.netns !== undefined ? listDevicesIn(a.netns) : listDevices();
    } catch (err) {
      throw usageErrorOf(err);
    }
    io.out(a.format === 'json' ? `${JSON.stringify(devices, null, 2)}\n` : devices.map((d) => `${deviceLine(d)}\n`).join(''));
    return EXIT_OK;
  }
  if (a.iface === undefined || a.iface === '') throw new UsageError('live: name an interface with -i (keepalive live --list-interfaces lists them)');
  guardOutputs([], [
    { flag: '-o', path: a.output },
    { flag: '-w', path: a.write },
  ]);
  if (a.write !== undefined && a.write === '') throw new UsageError('-w: name a capture file to write');
  let result: LiveResult;
  try {
    result = await captureLive({
      iface: a.iface,
      filter: a.filter,
      netns: a.netns,
      bufferSize: a.bufferKiB !== undefined ? a.bufferKiB * 1024 : DEFAULT_BUFFER_BYTES,
      durationSeconds: a.durationSeconds,
      count: a.count,
      write: a.write,
      port: a.port,
      host: a.host,
      signal: io.signal,
      onEvent: eventPrinter(a, io),
      onReady: (s) => {
        const until = [a.durationSeconds !== undefined ? `${a.durationSeconds} s` : '', a.count !== undefined ? `${a.count} frames` : ''].filter(Boolean).join(' or ');
        io.err(`keepalive: listening on ${s.iface}${a.netns !== undefined ? ` in network namespace ${a.netns}` : ''}, ${linkName(s.linkType)}${a.filter ? `, filter '${a.filter}'` : ''}; ${until ? `stops after ${until} or on Ctrl-C` : 'Ctrl-C stops'}\n`);
      },
    });
  } catch (err) {
    throw usageErrorOf(err);
  }
  reportStats(result, io);
  renderReport(result.report, a, io);
  return EXIT_OK;
}

/**
 * Ctrl-C and SIGTERM end the capture normally (the report is still printed); a second one ends
 * the process at once (exit hooks still clean up what `record` made).
 */
export async function withStopSignals<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(sig === 'SIGINT' ? 130 : 143);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await run(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const EXAMPLES = [
  ['keepalive live -i eth0 -f "tcp port 5432"', 'watch keepalive on PostgreSQL connections until Ctrl-C, then the full report'],
  ['keepalive live -i any --duration 10m -w ka.pcapng', 'ten minutes on every interface, also written to a pcapng file'],
  ['keepalive live -i lo --count 1000 --format json', 'stop after 1000 frames; the version-1 JSON report'],
  ['keepalive live --list-interfaces', 'the interfaces libpcap can capture on'],
] as const;

const spec: CommandSpec = {
  name: 'live',
  usage: 'live',
  describe: 'capture live through libpcap and report keepalive traffic as it happens',
  options: [
    { name: 'interface', alias: 'i', type: 'string', describe: 'interface to capture on (any: all of them)' },
    { name: 'list-interfaces', alias: 'D', type: 'boolean', default: false, describe: 'list the interfaces libpcap can capture on, and exit' },
    { name: 'filter', alias: 'f', type: 'string', describe: 'BPF capture filter, as for tcpdump ("tcp port 443")' },
    { name: 'duration', type: 'string', describe: 'stop after this long (30s, 10m, 1h)' },
    { name: 'count', alias: 'c', type: 'string', describe: 'stop after this many frames' },
    { name: 'write', alias: 'w', type: 'string', describe: 'also write the frames to this capture file (pcapng; classic pcap if it ends in .pcap); never overwrites' },
    { name: 'format', type: 'string', alias: 'F', choices: LIVE_FORMATS, default: 'text', describe: 'format of the final report (text also prints events as they happen)' },
    { name: 'output', alias: 'o', type: 'string', describe: 'write the final report to this file' },
    { name: 'port', type: 'string', describe: 'only connections with this port at either end' },
    { name: 'host', type: 'string', describe: 'only connections with this address at either end' },
    { name: 'netns', type: 'string', describe: 'capture inside this named network namespace (ip netns; needs root)' },
    { name: 'buffer-size', alias: 'B', type: 'string', describe: `kernel capture buffer in KiB (default ${DEFAULT_BUFFER_BYTES / 1024}; each frame takes a 64 KiB slot)` },
    { name: 'color', type: 'string', choices: COLOR_MODES, default: 'auto', describe: 'colour the text output (auto: only on a terminal, and not with NO_COLOR set)' },
  ],
  epilogue:
    `Examples:\n${EXAMPLES.map(([c, w]) => `  ${c}\n      ${w}`).join('\n')}\n\nNeeds permission to capture: root, or capabilities for node:\n  sudo setcap cap_net_raw,cap_net_admin=eip $(readlink -f $(which node))\nExit status: 0 ok; 2 usage error or a capture that cannot start. Full reference: docs/live.md`,
};

/** The parsed flags → LiveArgs, each value checked at the door. */
export function liveArgs(a: Record<string, unknown>): LiveArgs {
  const kib = a['buffer-size'];
  if (kib !== undefined && (!/^\d+$/.test(String(kib)) || Number(kib) < 64)) throw new UsageError(`--buffer-size: '${String(kib)}' is not a size in KiB (a whole number, 64 or more)`);
  return {
    iface: a.interface as string | undefined,
    listInterfaces: a['list-interfaces'] === true,
    filter: a.filter as string | undefined,
    durationSeconds: durationOption('--duration', a.duration),
    count: countOption('--count', a.count),
    write: a.write as string | undefined,
    format: a.format as AnalyzeFormat,
    output: a.output as string | undefined,
    port: portOption(a.port),
    host: hostOption(a.host),
    color: a.color as ColorMode,
    netns: a.netns as string | undefined,
    bufferKiB: kib !== undefined ? Number(kib) : undefined,
  };
}

export const liveCommand: CliCommand = {
  spec,
  run: async (p: Parsed) => {
    const args = liveArgs(p.values);
    return withStopSignals((signal) => runLive(args, { ...stdio, signal }));
  },
};
