/**
 * The report for a terminal: per connection the endpoints, the verdict, the settings each side's
 * probes reveal, and an ASCII ladder of probes, replies and the idle and interval spans.
 */
import type { Confidence, ConnectionReport, Finding, KeepaliveSettings, Report, Side, Summary, Verdict } from '../analysis/model.js';
import { ladderOf, type LadderEvent, type LadderSpan } from './ladder.js';
import { countText, plural, seconds, styleText } from './units.js';

export interface TextOptions {
  /** ANSI colours (the CLI decides: a terminal, --color, NO_COLOR). */
  color?: boolean;
  /** Probes drawn per connection before the middle ones are summarised. */
  maxProbes?: number;
}

type Paint = (code: string, s: string) => string;

const ANSI = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33', blue: '34', magenta: '35', cyan: '36' } as const;

const VERDICT_COLOR: Record<Verdict, string> = {
  alive: ANSI.green,
  dead: ANSI.red,
  reset: ANSI.red,
  closed: ANSI.dim,
  undetermined: ANSI.yellow,
  'no-keepalive': ANSI.dim,
};

const SEVERITY_COLOR: Record<Finding['severity'], string> = { error: `${ANSI.bold};${ANSI.red}`, warning: `${ANSI.bold};${ANSI.yellow}`, info: ANSI.blue };

const ROLES: Record<ConnectionReport['rolesFrom'], string> = {
  syn: 'roles from the SYN',
  'syn-ack': 'roles from the SYN-ACK',
  port: 'roles guessed from ports (no handshake captured)',
};

/** Columns between the two lanes of the ladder. */
const LANE_GAP = 44;

/** Said only when it is not high: a figure from one or two gaps, or from gaps that disagree. */
function confidence(c: Confidence): string {
  return c === 'high' || c === 'none' ? '' : ` (${c} confidence)`;
}

function settingsLines(side: Side, s: KeepaliveSettings | null): string[] {
  if (s === null) return [`  ${side} keepalive: none (sent no probes)`];
  const parts = [
    s.idle !== null ? `idle ${seconds(s.idle)}${confidence(s.confidence.idle)}` : 'idle ?',
    s.interval !== null ? `interval ${seconds(s.interval)}${confidence(s.confidence.interval)}` : s.intervalAtMost !== null ? `interval ≤ ${seconds(s.intervalAtMost)}` : 'interval ?',
    `count ${countText(s)}`,
  ];
  const defaults = s.defaults !== null ? `; matches ${s.defaults} defaults` : '';
  const lines = [`  ${side} keepalive: ${parts.join(', ')}; ${styleText(s)}${defaults}`];
  // Why a figure is missing matters as much as the figure: say it under the line.
  if (s.idle === null && s.unknown.idle) lines.push(`    idle ?: ${s.unknown.idle}`);
  if (s.interval === null && s.unknown.interval) lines.push(`    interval ${s.intervalAtMost !== null ? `≤ ${seconds(s.intervalAtMost)}` : '?'}: ${s.unknown.interval}`);
  if (s.count === null && s.unknown.count) lines.push(`    count ${countText(s)}: ${s.unknown.count}`);
  for (const note of s.notes) lines.push(`    note: ${note}`);
  return lines;
}

/** An arrow between the lanes, `|--- label --->|` or `|<-- label ----|`; a lost one ends in X short of the far lane. */
function arrow(label: string, fill: string, toRight: boolean, lost = false): string {
  const inner = LANE_GAP - 2;
  const gap = lost ? 3 : 0;
  const head = lost ? 'X' : toRight ? '>' : '<';
  const room = inner - gap - 1;
  let shaft = toRight ? `${fill.repeat(3)} ${label} ` : `${fill.repeat(2)} ${label} `;
  if (shaft.length > room) shaft = `${shaft.slice(0, room - 2)}… `;
  shaft = shaft.padEnd(room, fill);
  return toRight ? `|${shaft}${head}${' '.repeat(gap)}|` : `|${' '.repeat(gap)}${head}${shaft}|`;
}

function note(text: string): string {
  const inner = LANE_GAP - 2;
  const t = text.length > inner - 2 ? `${text.slice(0, inner - 3)}…` : text;
  return `|  ${t.padEnd(inner - 2)}|`;
}

function ladderText(c: ConnectionReport, paint: Paint, maxProbes: number): string[] {
  const ladder = ladderOf(c, maxProbes);
  const both = c.keepalive.client !== null && c.keepalive.server !== null;
  // The time column: ten characters, wider for a capture of years (or of damaged timestamps).
  let width = 10;
  for (const e of ladder.events) width = Math.max(width, e.t.toFixed(3).length);
  const spanEnding = (t: number, side: Side): LadderSpan | undefined => ladder.spans.find((s) => s.to === t && s.side === side);
  const spanLine = (s: LadderSpan): string => {
    const who = both ? `${s.side} ` : '';
    const what = `${who}${s.kind} ${seconds(s.seconds)}`;
    // A span sits beside the lane of the side whose timer it measures.
    const body = s.side === 'client' ? note(`  : ${what}`) : `|${`${what} :  `.padStart(LANE_GAP - 2)}|`;
    return `${' '.repeat(width)}  ${paint(ANSI.dim, body)}`;
  };
  const lines = [`${'t (s)'.padStart(width)}  ${'client'.padEnd(LANE_GAP - 6)}server`];
  const row = (t: number, body: string, after = ''): string => `${t.toFixed(3).padStart(width)}  ${body}${after ? `  ${after}` : ''}`;
  for (const e of ladder.events) {
    if (e.kind === 'probe' || e.kind === 'gave-up') {
      const span = spanEnding(e.t, e.side);
      if (span !== undefined) lines.push(spanLine(span));
    }
    lines.push(eventLine(e, row, paint));
  }
  const kinds = new Set(ladder.spans.map((s) => s.kind));
  const key = [
    kinds.has('idle') ? 'idle: from the last segment received to the first probe' : '',
    kinds.has('wait') ? 'wait: from an ACK to the next probe (Linux waits the larger of idle and interval)' : '',
    kinds.has('interval') ? 'interval: between unanswered probes' : '',
  ].filter(Boolean);
  if (key.length > 0) lines.push(paint(ANSI.dim, `${' '.repeat(width + 2)}${key.join('; ')}`));
  return lines.map((l) => `  ${l}`);
}

function eventLine(e: LadderEvent, row: (t: number, body: string, after?: string) => string, paint: Paint): string {
  switch (e.kind) {
    case 'first':
      return row(e.t, note(`first frame ${e.frame}`));
    case 'probe': {
      const p = e.probe;
      const label = `${p.ordinal === 1 ? 'probe' : `retry ${p.ordinal - 1}`}${p.payloadBytes > 0 ? ` (${p.payloadBytes} byte)` : ''}, frame ${p.frame}`;
      const toRight = e.side === 'client';
      if (p.reply.kind === 'none') {
        return row(e.t, paint(ANSI.yellow, arrow(label, '-', toRight, true)), paint(ANSI.yellow, 'no answer'));
      }
      return row(e.t, paint(ANSI.cyan, arrow(label, '-', toRight)));
    }
    case 'reply': {
      const toRight = e.side === 'client';
      const frame = e.frame !== null ? `, frame ${e.frame}` : '';
      if (e.reply === 'ack') return row(e.t, paint(ANSI.green, arrow(`ACK${frame}`, '-', toRight)), paint(ANSI.dim, `after ${seconds(e.probe.reply.latency)}`));
      return row(e.t, paint(ANSI.red, arrow(`RST${frame}`, '=', toRight)), paint(ANSI.red, `reset: the ${e.side} no longer knew the connection`));
    }
    case 'gave-up': {
      const toRight = e.side === 'client';
      return row(e.t, paint(ANSI.red, arrow(`RST, frame ${e.frame}`, '=', toRight)), paint(ANSI.red, `the ${e.side} gave up`));
    }
    case 'closed':
      return row(e.t, paint(e.how === 'rst' ? ANSI.red : ANSI.dim, note(`closed with ${e.how.toUpperCase()}, last frame ${e.frame}`)));
    case 'open':
      return row(e.t, paint(ANSI.dim, note(`capture ends, still open (frame ${e.frame})`)));
    case 'elided': {
      const how = [e.ack > 0 ? `${e.ack} ACK` : '', e.rst > 0 ? `${e.rst} RST` : '', e.none > 0 ? `${e.none} unanswered` : ''].filter(Boolean).join(', ');
      return row(e.t, paint(ANSI.dim, note(`… ${plural(e.probes, 'probe')} not drawn (${how})`)));
    }
  }
}

function connectionText(c: ConnectionReport, paint: Paint, maxProbes: number): string {
  const verdict = paint(`${ANSI.bold};${VERDICT_COLOR[c.verdict]}`, c.verdict.toUpperCase());
  const lines = [
    `${paint(ANSI.bold, `${c.client} -> ${c.server}`)}  ${verdict}`,
    `  frames ${c.firstFrame}-${c.lastFrame}, ${plural(c.packets, 'packet')}, longest silence ${seconds(c.longestSilence)}; ${ROLES[c.rolesFrom]}`,
    ...settingsLines('client', c.keepalive.client),
    ...settingsLines('server', c.keepalive.server),
  ];
  if (c.zeroWindowProbes > 0) lines.push(`  ${plural(c.zeroWindowProbes, 'zero-window probe')} (they look like keepalives but are not)`);
  if (c.heartbeat !== null) lines.push(`  application heartbeat: every ${seconds(c.heartbeat.period)} from the ${c.heartbeat.from} (${plural(c.heartbeat.count, 'beat')})`);
  lines.push(`  ${c.explanation}`);
  for (const f of c.findings) lines.push(`  ${paint(SEVERITY_COLOR[f.severity], `${f.severity}:`)} ${f.message}`);
  if (c.probes.length > 0) lines.push('', ...ladderText(c, paint, maxProbes));
  return lines.join('\n');
}

function painter(options: TextOptions): Paint {
  return options.color ? (code, s) => `\x1b[${code}m${s}\x1b[0m` : (_code, s) => s;
}

/**
 * One connection's block of the text report, as renderText writes it: made as the connection
 * ends, so a long capture's report waits as text, not as report objects (the command line).
 */
export function textConnection(options: TextOptions = {}): (c: ConnectionReport) => string {
  const paint = painter(options);
  const maxProbes = options.maxProbes ?? 40;
  return (c) => connectionText(c, paint, maxProbes);
}

/** What comes before the connections' blocks: the summary line and the warnings (each block is preceded by a blank line). */
export function textHead(s: Summary, connections: number, options: TextOptions = {}): string {
  const paint = painter(options);
  const out = [
    `${s.files.join(', ')}: ${plural(s.packets, 'packet')}, ${plural(s.tcpSegments, 'TCP segment')}, ${plural(s.connections, 'connection')}, ${plural(s.keepaliveProbes, 'keepalive probe')}, ${plural(s.zeroWindowProbes, 'zero-window probe')}`,
  ];
  for (const w of s.warnings) out.push(paint(ANSI.yellow, `warning: ${w}`));
  if (connections === 0) out.push('', 'No TCP connection to report.');
  return out.join('\n');
}

/** The whole text report: textHead, then "\n\n" and a block per connection, then a line end. */
export function renderText(report: Report, options: TextOptions = {}): string {
  const block = textConnection(options);
  const out = [textHead(report.summary, report.connections.length, options)];
  for (const c of report.connections) out.push(block(c));
  return `${out.join('\n\n')}\n`;
}
