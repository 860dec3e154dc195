/**
 * A demo for a terminal: the story, the two ends, every frame with what it is, the timer that
 * sent it and what it tells the other side, the conclusion, then the report `keepalive
 * analyze` prints for the same capture.
 */
import type { Side } from '../analysis/model.js';
import { renderText } from '../report/text.js';
import type { DemoCapture } from './capture.js';
import type { Explanation, FrameNote, Role } from './explain.js';
import type { DemoScenario, ProberConfig } from './scenarios.js';

const WIDTH = 100;

type Paint = (code: string, s: string) => string;

const ROLE_COLOR: Partial<Record<Role, string>> = {
  'keepalive-probe': '36',
  'keepalive-ack': '32',
  'keepalive-rst': '1;31',
  'gave-up': '1;31',
  rst: '31',
  'zero-window-probe': '35',
  'zero-window': '33',
  'zero-window-probe-ack': '33',
  heartbeat: '34',
  'heartbeat-reply': '34',
};

/** Words onto lines of at most `width` columns, every line after the first indented by `indent`. */
export function wrap(text: string, width: number, indent: string, first = indent): string[] {
  // A number stays on the line of its unit ("60 s", "12.4 ms").
  const nbsp = '\u00a0';
  text = text.replace(/(\d) (s|ms|µs|min|h|bytes|probes?)\b/g, `$1${nbsp}$2`);
  const out: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > width) {
      out.push(line);
      line = indent;
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  if (!empty || out.length === 0) out.push(line);
  return out.map((l) => l.replace(/\u00a0/g, ' '));
}

export function knobsText(k: ProberConfig | undefined): string {
  if (k === undefined) return 'keepalive off';
  const os = k.os === 'windows' ? 'Windows' : 'Linux';
  return `keepalive on (${os}): idle ${k.idle} s, interval ${k.interval} s, count ${k.count}; ${k.how}`;
}

function endLine(scenario: DemoScenario, side: Side, addr: string): string[] {
  return wrap(`${scenario.roles[side]}; ${knobsText(scenario.keepalive[side])}`, WIDTH, ' '.repeat(30), `  ${side.padEnd(7)} ${addr.padEnd(20)} `);
}

function frameLines(n: FrameNote, previousT: number | null, paint: Paint): string[] {
  const f = n.frame;
  const lines: string[] = [];
  if (previousT !== null && f.t - previousT >= 1) lines.push(paint('2', `         ⋮  ${(f.t - previousT).toFixed(3)} s pass with nothing on the wire`));
  const arrow = f.from === 'client' ? 'client → server' : 'server → client';
  const color = n.role === 'keepalive-probe' && n.reply === 'none' ? '33' : ROLE_COLOR[n.role];
  const head = `  #${String(f.number).padEnd(4)}${f.t.toFixed(6).padStart(14)}  ${arrow}  ${n.label}`;
  lines.push(color ? paint(color, head) : paint('1', head));
  lines.push(...wrap(`${n.segment}${n.wireshark ? ` — Wireshark: ${n.wireshark}` : ''}`, WIDTH, ' '.repeat(9)).map((l) => paint('2', l)));
  lines.push(...wrap(n.what, WIDTH, ' '.repeat(9)));
  if (n.timer !== null) lines.push(...wrap(n.timer.text, WIDTH, ' '.repeat(16), `         timer: `));
  if (n.concludes !== null) lines.push(...wrap(n.concludes, WIDTH, ' '.repeat(11), `         → `));
  return lines;
}

export function renderDemoText(e: Explanation, capture: DemoCapture, file: string, options: { color?: boolean } = {}): string {
  const paint: Paint = options.color ? (code, s) => `\x1b[${code}m${s}\x1b[0m` : (_c, s) => s;
  const s = e.scenario;
  const c = e.connection;
  const out: string[] = [paint('1', `keepalive demo ${s.name}: ${s.title}`), ''];
  for (const p of s.story) out.push(...wrap(p, WIDTH, '  '), '');
  if (c !== null) {
    out.push(...endLine(s, 'client', c.client), ...endLine(s, 'server', c.server));
  }
  const format = /\.pcap$/i.test(file) ? 'pcap' : 'pcapng';
  out.push(...wrap(`${file}: ${capture.frames.length} frames (${format}), taken at the client. Open it in Wireshark next to this text.`, WIDTH, ' '.repeat(30), `  ${'capture'.padEnd(28)}`));
  out.push('', paint('1', 'Frame by frame'), paint('2', '  (time in seconds since frame 1; Seq and Ack relative to each side’s first sequence number, as Wireshark shows them)'), '');
  let previousT: number | null = null;
  for (const n of e.notes) {
    out.push(...frameLines(n, previousT, paint), '');
    previousT = n.frame.t;
  }
  out.push(paint('1', 'What it shows'));
  for (const p of e.conclusion) out.push(...wrap(p, WIDTH, '  '), '');
  if (s.lookFor.length > 0) {
    out.push(paint('1', 'Point out'));
    for (const p of s.lookFor) out.push(...wrap(p, WIDTH, '    ', '  - '));
    out.push('');
  }
  out.push(paint('1', 'What `keepalive analyze` reports for this capture'), '');
  out.push(renderText(capture.report, { color: options.color ?? false }));
  return out.join('\n');
}
