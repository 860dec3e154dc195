/**
 * One self-contained HTML file (inline CSS and SVG, no script, nothing fetched): a summary
 * table, then per connection its verdict, settings and a ladder diagram — the two hosts as
 * vertical lanes, time flowing down, probes and replies as arrows between them.
 */
import type { ConnectionReport, Finding, KeepaliveSettings, Report, Side, Summary, Verdict } from '../analysis/model.js';
import { ladderOf, type Ladder, type LadderEvent, type LadderSpan } from './ladder.js';
import { countText, plural, probeCounts, proberOf, seconds, styleText } from './units.js';

export interface HtmlOptions {
  /** Probes drawn per connection before the middle ones are summarised. */
  maxProbes?: number;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const COLOR = {
  probe: '#0969da',
  ack: '#1a7f37',
  none: '#bc4c00',
  rst: '#cf222e',
  idle: '#57606a',
  interval: '#8250df',
  lane: '#8c959f',
  text: '#1f2328',
  muted: '#656d76',
} as const;

const VERDICT_TEXT: Record<Verdict, string> = {
  alive: 'alive',
  dead: 'dead',
  reset: 'reset',
  closed: 'closed',
  undetermined: 'undetermined',
  'no-keepalive': 'no keepalive',
};

const ROLES: Record<ConnectionReport['rolesFrom'], string> = {
  syn: 'Client and server told apart by the SYN.',
  'syn-ack': 'Client and server told apart by the SYN-ACK.',
  port: 'Roles guessed from ports (no handshake captured): the higher port is taken as the client.',
};

// Geometry of the ladder, in SVG user units (pixels at 100 %).
const WIDTH = 900;
const AXIS_X = 78;
const LANE_X: Record<Side, number> = { client: 270, server: 650 };
const TOP = 92;
const MIN_GAP = 34;
const LINEAR_MAX_HEIGHT = 900;
const LINEAR_PX_PER_S = 70;
const CHAR_PX = 6.2;

function n(x: number): string {
  return (Math.round(x * 10) / 10).toString();
}

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${n(x)}" y="${n(y)}"${attrs ? ` ${attrs}` : ''}>${escapeHtml(s)}</text>`;
}

function arrowHead(x1: number, y1: number, x2: number, y2: number, color: string): string {
  const a = Math.atan2(y2 - y1, x2 - x1);
  const len = 11;
  const w = 5;
  const bx = x2 - len * Math.cos(a);
  const by = y2 - len * Math.sin(a);
  const px = -Math.sin(a) * w;
  const py = Math.cos(a) * w;
  return `<polygon points="${n(x2)},${n(y2)} ${n(bx + px)},${n(by + py)} ${n(bx - px)},${n(by - py)}" fill="${color}"/>`;
}

function line(x1: number, y1: number, x2: number, y2: number, color: string, extra = ''): string {
  return `<line x1="${n(x1)}" y1="${n(y1)}" x2="${n(x2)}" y2="${n(y2)}" stroke="${color}" stroke-width="2"${extra ? ` ${extra}` : ''}/>`;
}

/** A cross marking an RST or a probe nobody answered. */
function cross(x: number, y: number, color: string, size = 6): string {
  return `<path d="M${n(x - size)},${n(y - size)} L${n(x + size)},${n(y + size)} M${n(x - size)},${n(y + size)} L${n(x + size)},${n(y - size)}" stroke="${color}" stroke-width="3" stroke-linecap="round"/>`;
}

/**
 * Times to heights. Events get their own rows, at least MIN_GAP apart. Short connections are
 * drawn to scale; long ones (a 2-hour idle next to a 75 s interval) on a compressed scale, and
 * the diagram says so: the labels carry the real durations.
 */
class TimeScale {
  readonly rows: { t: number; y: number }[] = [];
  readonly compressed: boolean;

  constructor(times: number[], duration: number) {
    this.compressed = duration * LINEAR_PX_PER_S > LINEAR_MAX_HEIGHT;
    let y = TOP;
    let prev: number | null = null;
    for (const t of times) {
      if (prev !== null) y += this.gap(t - prev);
      this.rows.push({ t, y });
      prev = t;
    }
  }

  private gap(dt: number): number {
    if (!this.compressed) return Math.max(MIN_GAP, dt * LINEAR_PX_PER_S);
    return MIN_GAP + 34 * Math.log10(1 + Math.max(0, dt) / 0.01);
  }

  /** The height of a time between rows (the last row at or before it, interpolated onward). */
  at(t: number): number {
    const rows = this.rows;
    let i = -1;
    for (let k = 0; k < rows.length; k++) if (rows[k]!.t <= t) i = k;
    if (i < 0) return rows[0]!.y;
    const a = rows[i]!;
    const b = rows[i + 1];
    if (b === undefined || b.t === a.t) return a.y;
    return a.y + ((t - a.t) / (b.t - a.t)) * (b.y - a.y);
  }

  get bottom(): number {
    return this.rows.length > 0 ? this.rows[this.rows.length - 1]!.y : TOP;
  }
}

const SPAN_TITLE: Record<LadderSpan['kind'], (side: Side, d: string) => string> = {
  idle: (side, d) => `${side} idle ${d}: from the last segment the ${side} received to its first probe`,
  wait: (side, d) => `${side} waited ${d} from the ACK of its previous probe: Linux waits the larger of idle and interval here`,
  interval: (side, d) => `${side} interval ${d} between unanswered probes`,
};
const SPAN_DASH: Record<LadderSpan['kind'], string> = { idle: ' stroke-dasharray="4 3"', wait: ' stroke-dasharray="1 3"', interval: '' };

function spanSvg(s: LadderSpan, scale: TimeScale): string {
  // Inset so that back-to-back spans (interval after interval) read as separate brackets.
  const y1 = scale.at(s.from) + 3;
  const y2 = Math.max(scale.at(s.to) - 3, y1 + 6);
  const color = s.kind === 'interval' ? COLOR.interval : COLOR.idle;
  const left = s.side === 'client';
  const x = left ? LANE_X.client - 16 : LANE_X.server + 16;
  const tick = left ? 7 : -7;
  const label = `${s.kind} ${seconds(s.seconds)}`;
  const tx = left ? x - 8 : x + 8;
  const anchor = left ? 'end' : 'start';
  const mid = (y1 + y2) / 2;
  return (
    `<g class="span ${s.kind}" data-side="${s.side}" data-seconds="${s.seconds}">` +
    `<title>${escapeHtml(SPAN_TITLE[s.kind](s.side, seconds(s.seconds)))}</title>` +
    `<path d="M${n(x + tick)},${n(y1)} H${n(x)} V${n(y2)} H${n(x + tick)}" fill="none" stroke="${color}" stroke-width="2"${SPAN_DASH[s.kind]}/>` +
    text(tx, mid + 4, label, `text-anchor="${anchor}" class="span-label" style="fill:${color}"`) +
    (s.kind !== 'interval' ? `<circle cx="${n(LANE_X[s.side])}" cy="${n(y1 - 3)}" r="4" fill="#fff" stroke="${color}" stroke-width="2"/>` : '') +
    `</g>`
  );
}

function axisLabel(y: number, t: number): string {
  return text(AXIS_X, y + 4, `${t.toFixed(3)} s`, 'text-anchor="end" class="axis"') + `<line x1="${AXIS_X + 4}" y1="${n(y)}" x2="${AXIS_X + 12}" y2="${n(y)}" stroke="${COLOR.lane}"/>`;
}

interface Rows {
  of: Map<LadderEvent, number>;
  /** Height of each probe's reply, and of each probe, by the probe's frame. */
  reply: Map<number, number>;
  probe: Map<number, number>;
}

function eventSvg(e: LadderEvent, scale: TimeScale, rows: Rows): string {
  const y = rows.of.get(e) ?? scale.at(e.t);
  const midX = (LANE_X.client + LANE_X.server) / 2;
  switch (e.kind) {
    case 'first':
      return `<g class="first">${text(AXIS_X + 16, y + 4, `frame ${e.frame}`, 'class="axis"')}</g>`;
    case 'probe': {
      const p = e.probe;
      const from = LANE_X[e.side];
      const to = LANE_X[e.side === 'client' ? 'server' : 'client'];
      const replyY = rows.reply.get(p.frame);
      const answered = p.reply.kind !== 'none' && replyY !== undefined;
      const endY = answered ? (y + replyY) / 2 : y + MIN_GAP / 2;
      const endX = answered ? to : from + (to - from) * 0.86;
      const color = p.reply.kind === 'none' ? COLOR.none : COLOR.probe;
      const label = `${p.ordinal === 1 ? 'probe' : `retry ${p.ordinal - 1}`} · frame ${p.frame}${p.payloadBytes > 0 ? ` · ${p.payloadBytes} byte` : ''}`;
      const since = p.sinceLastActivity !== null ? `, ${seconds(p.sinceLastActivity)} after the last segment from its peer` : '';
      const tip = `${e.side} keepalive ${p.ordinal === 1 ? 'probe' : `probe, retry ${p.ordinal - 1} unanswered before it`} (frame ${p.frame}, ${p.time}${since}): ${p.reply.kind === 'none' ? 'no answer' : `answered with ${p.reply.kind.toUpperCase()} in frame ${p.reply.frame}`}`;
      let g =
        `<g class="probe" data-frame="${p.frame}" data-from="${e.side}" data-reply="${p.reply.kind}"><title>${escapeHtml(tip)}</title>` +
        line(from, y, endX, endY, color, p.reply.kind === 'none' ? 'stroke-dasharray="7 4"' : '') +
        `<circle cx="${n(from)}" cy="${n(y)}" r="4" fill="${color}"/>`;
      const labelX = (from + endX) / 2;
      g += text(labelX, (y + endY) / 2 - 7, label, `text-anchor="middle" class="arrow-label" style="fill:${color}"`);
      if (p.reply.kind === 'none') {
        g += cross(endX, endY, COLOR.none);
        g += text(endX + (to > from ? -10 : 10), endY + 18, 'no answer', `text-anchor="${to > from ? 'end' : 'start'}" class="arrow-label" style="fill:${COLOR.none}"`);
      } else {
        g += arrowHead(from, y, endX, endY, color);
      }
      return `${g}</g>`;
    }
    case 'reply': {
      const from = LANE_X[e.side];
      const to = LANE_X[e.side === 'client' ? 'server' : 'client'];
      const probeY = rows.probe.get(e.probe.frame) ?? y - MIN_GAP;
      const startY = (probeY + y) / 2;
      const isRst = e.reply === 'rst';
      const color = isRst ? COLOR.rst : COLOR.ack;
      const frame = e.frame !== null ? ` · frame ${e.frame}` : '';
      const latency = e.probe.reply.latency !== null ? ` · ${seconds(e.probe.reply.latency)}` : '';
      const label = `${isRst ? 'RST' : 'ACK'}${frame}${latency}`;
      let g =
        `<g class="reply ${e.reply}" data-frame="${e.frame ?? ''}" data-probe="${e.probe.frame}"><title>${escapeHtml(`${e.side} answered probe ${e.probe.frame} with ${isRst ? 'RST: it no longer knew the connection' : 'ACK: alive'}`)}</title>` +
        line(from, startY, to, y, color, isRst ? 'stroke-width="3"' : '') +
        arrowHead(from, startY, to, y, color) +
        text((from + to) / 2, (startY + y) / 2 + 16, label, `text-anchor="middle" class="arrow-label" style="fill:${color}"`);
      if (isRst) {
        g += cross(to + (to > from ? 14 : -14), y, COLOR.rst);
        g += text(to + (to > from ? 26 : -26), y + 4, 'reset', `text-anchor="${to > from ? 'start' : 'end'}" class="rst-label" style="fill:${COLOR.rst}"`);
      }
      return `${g}</g>`;
    }
    case 'gave-up': {
      const from = LANE_X[e.side];
      const to = LANE_X[e.side === 'client' ? 'server' : 'client'];
      const endY = y + MIN_GAP / 2;
      return (
        `<g class="rst gave-up" data-frame="${e.frame}"><title>${escapeHtml(`the ${e.side} gave up after its last unanswered probe and reset the connection (frame ${e.frame})`)}</title>` +
        line(from, y, to, endY, COLOR.rst, 'stroke-width="3"') +
        arrowHead(from, y, to, endY, COLOR.rst) +
        cross(from + (from < to ? -14 : 14), y, COLOR.rst) +
        text((from + to) / 2, (y + endY) / 2 - 8, `RST · frame ${e.frame} · the ${e.side} gave up`, `text-anchor="middle" class="rst-label" style="fill:${COLOR.rst}"`) +
        `</g>`
      );
    }
    case 'closed': {
      const color = e.how === 'rst' ? COLOR.rst : COLOR.muted;
      let g = `<g class="closed ${e.how}" data-frame="${e.frame}">${line(LANE_X.client, y, LANE_X.server, y, color, 'stroke-dasharray="2 4"')}`;
      g += text(midX, y - 7, `closed with ${e.how.toUpperCase()} · last frame ${e.frame}`, `text-anchor="middle" class="note" style="fill:${color}"`);
      if (e.how === 'rst') g += cross(midX - 120, y, COLOR.rst);
      return `${g}</g>`;
    }
    case 'open':
      return `<g class="open">${text(midX, y - 7, `capture ends · still open · last frame ${e.frame}`, 'text-anchor="middle" class="note"')}</g>`;
    case 'elided': {
      const how = [e.ack > 0 ? `${e.ack} ACK` : '', e.rst > 0 ? `${e.rst} RST` : '', e.none > 0 ? `${e.none} no answer` : ''].filter(Boolean).join(', ');
      return (
        `<g class="elided"><rect x="${LANE_X.client + 20}" y="${n(y - 14)}" width="${LANE_X.server - LANE_X.client - 40}" height="20" fill="#f6f8fa" stroke="${COLOR.lane}" stroke-dasharray="3 3"/>` +
        text(midX, y, `… ${plural(e.probes, 'probe')} not drawn (${how}); the table below lists every one`, 'text-anchor="middle" class="note"') +
        `</g>`
      );
    }
  }
}

/** The legend, wrapped onto as many rows as it needs; returns the SVG and its height. */
function legendSvg(top: number): { svg: string; height: number } {
  const items: string[] = [];
  let x = 16;
  let y = top;
  const item = (draw: string, label: string): void => {
    const w = 44 + label.length * CHAR_PX + 26;
    if (x + w > WIDTH - 10) {
      x = 16;
      y += 24;
    }
    items.push(`<g transform="translate(${x},${n(y)})">${draw}${text(44, 4, label, 'class="legend"')}</g>`);
    x += w;
  };
  item(line(0, 0, 34, 0, COLOR.probe) + arrowHead(0, 0, 34, 0, COLOR.probe), 'probe');
  item(line(0, 0, 34, 0, COLOR.ack) + arrowHead(0, 0, 34, 0, COLOR.ack), 'ACK reply');
  item(line(0, 0, 28, 0, COLOR.none, 'stroke-dasharray="7 4"') + cross(30, 0, COLOR.none, 5), 'unanswered probe');
  item(line(0, 0, 34, 0, COLOR.rst, 'stroke-width="3"') + arrowHead(0, 0, 34, 0, COLOR.rst), 'RST (reset)');
  item(`<path d="M26,-8 H18 V8 H26" fill="none" stroke="${COLOR.idle}" stroke-width="2" stroke-dasharray="4 3"/>`, 'idle: from the last segment received (○) to the first probe');
  item(`<path d="M26,-8 H18 V8 H26" fill="none" stroke="${COLOR.idle}" stroke-width="2" stroke-dasharray="1 3"/>`, 'wait: from an ACK to the next probe (the larger of idle and interval)');
  item(`<path d="M26,-8 H18 V8 H26" fill="none" stroke="${COLOR.interval}" stroke-width="2"/>`, 'interval: between unanswered probes, and on to the RST');
  item(cross(16, 0, COLOR.rst, 5), 'connection reset');
  return { svg: `<g class="legend">${items.join('')}</g>`, height: y - top + 24 };
}

/** The ladder diagram of one connection. */
export function ladderSvg(c: ConnectionReport, maxProbes = 200): string {
  const ladder: Ladder = ladderOf(c, maxProbes);
  const times = ladder.events.map((e) => e.t);
  const scale = new TimeScale(times, ladder.duration);
  const rows: Rows = { of: new Map(), reply: new Map(), probe: new Map() };
  ladder.events.forEach((e, i) => {
    const y = scale.rows[i]!.y;
    rows.of.set(e, y);
    if (e.kind === 'reply') rows.reply.set(e.probe.frame, y);
    if (e.kind === 'probe') rows.probe.set(e.probe.frame, y);
  });

  const bottom = scale.bottom + MIN_GAP;
  const legend = legendSvg(bottom + 34);
  const height = bottom + 34 + legend.height;
  const parts: string[] = [];
  const lane = (side: Side): string => {
    const x = LANE_X[side];
    const addr = side === 'client' ? c.client : c.server;
    return (
      `<g class="lane" data-side="${side}">` +
      `<rect x="${x - 110}" y="8" width="220" height="46" rx="6" fill="#f6f8fa" stroke="${COLOR.lane}"/>` +
      text(x, 27, side, 'text-anchor="middle" class="lane-title"') +
      text(x, 45, addr, 'text-anchor="middle" class="lane-addr"') +
      line(x, 54, x, bottom, COLOR.lane, 'stroke-width="3"') +
      `</g>`
    );
  };
  parts.push(lane('client'), lane('server'));
  parts.push(text(AXIS_X, 27, 'time', 'text-anchor="end" class="axis-title"'), text(AXIS_X, 42, 'since first', 'text-anchor="end" class="axis"'), text(AXIS_X, 55, 'frame ↓', 'text-anchor="end" class="axis"'));
  let lastLabel = '';
  for (const r of scale.rows) {
    const label = r.t.toFixed(3);
    if (label !== lastLabel) parts.push(axisLabel(r.y, r.t));
    lastLabel = label;
  }
  for (const s of ladder.spans) parts.push(spanSvg(s, scale));
  for (const e of ladder.events) parts.push(eventSvg(e, scale, rows));
  if (scale.compressed) {
    parts.push(text(WIDTH - 10, bottom + 4, 'time axis compressed: the labels give real times', `text-anchor="end" class="note"`));
  }
  parts.push(legend.svg);
  const title = `Keepalive ladder diagram: ${c.client} (client, left) and ${c.server} (server, right); time flows down`;
  return (
    `<svg class="ladder" viewBox="0 0 ${WIDTH} ${n(height)}" width="${WIDTH}" height="${n(height)}" role="img" aria-label="${escapeHtml(title)}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">` +
    `<title>${escapeHtml(title)}</title>${parts.join('')}</svg>`
  );
}

function settingsRow(side: Side, s: KeepaliveSettings | null): string {
  if (s === null) return `<tr><th>${side}</th><td colspan="5" class="muted">sent no keepalive probes</td></tr>`;
  const cell = (v: number | null, why: string | undefined, conf: string, atMost: number | null = null): string =>
    v !== null
      ? `<td>${escapeHtml(seconds(v))} <span class="muted">(${conf} confidence)</span></td>`
      : `<td>${atMost !== null ? `≤ ${escapeHtml(seconds(atMost))}` : '?'} <span class="muted">${escapeHtml(why ?? '')}</span></td>`;
  const count = s.count !== null ? `<td>${s.count}</td>` : `<td>${escapeHtml(countText(s))} <span class="muted">${escapeHtml(s.unknown.count ?? '')}</span></td>`;
  return (
    `<tr><th>${side}</th>${cell(s.idle, s.unknown.idle, s.confidence.idle)}${cell(s.interval, s.unknown.interval, s.confidence.interval, s.intervalAtMost)}${count}` +
    `<td>${escapeHtml(styleText(s))}</td><td>${s.defaults ?? '–'}</td></tr>` +
    s.notes.map((note) => `<tr><th></th><td colspan="5" class="muted">note: ${escapeHtml(note)}</td></tr>`).join('')
  );
}

function probeTable(c: ConnectionReport): string {
  const rows = c.probes.map((p) => {
    const reply = p.reply.kind === 'none' ? 'no answer' : `${p.reply.kind.toUpperCase()} in frame ${p.reply.frame} after ${seconds(p.reply.latency)}`;
    return `<tr class="reply-${p.reply.kind}"><td>${p.frame}</td><td>${escapeHtml(p.time)}</td><td>${p.from}</td><td>#${p.ordinal}</td><td>${escapeHtml(seconds(p.sinceLastActivity))}</td><td>${p.payloadBytes}</td><td>${escapeHtml(reply)}</td></tr>`;
  });
  return (
    `<details><summary>Every probe (${c.probes.length}${c.probesOmitted > 0 ? ` listed; ${c.probesOmitted} more in the middle are counted but not listed` : ''})</summary><table class="probes"><thead><tr><th>frame</th><th>time (UTC)</th><th>from</th><th>probe</th><th>since last activity</th><th>bytes</th><th>reply</th></tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table></details>`
  );
}

function findingsHtml(findings: readonly Finding[]): string[] {
  if (findings.length === 0) return [];
  return [`<ul class="findings">${findings.map((f) => `<li class="finding ${f.severity}"><span class="severity">${f.severity}</span> ${escapeHtml(f.message)}</li>`).join('')}</ul>`];
}

/**
 * A connection's section after its number: the section opens with `<section class="connection"
 * id="connection-` and its number (known only once every connection is in order), then this.
 */
function connectionHtml(c: ConnectionReport, maxProbes: number): string {
  const out = [
    `">`,
    `<h2><span class="endpoints">${escapeHtml(c.client)} → ${escapeHtml(c.server)}</span> <span class="verdict verdict-${c.verdict}">${VERDICT_TEXT[c.verdict]}</span></h2>`,
    `<p class="explanation">${escapeHtml(c.explanation)}</p>`,
    ...findingsHtml(c.findings),
    `<p class="muted">${ROLES[c.rolesFrom]} Frames ${c.firstFrame}–${c.lastFrame}, ${plural(c.packets, 'packet')}, longest silence ${escapeHtml(seconds(c.longestSilence))}${c.closedBy ? `, closed with ${c.closedBy.toUpperCase()}` : ', still open at the end of the capture'}.${
      c.heartbeat !== null ? ` An application heartbeat every ${escapeHtml(seconds(c.heartbeat.period))} from the ${c.heartbeat.from} (${plural(c.heartbeat.count, 'beat')}).` : ''
    }${
      c.zeroWindowProbes > 0 ? ` ${plural(c.zeroWindowProbes, 'zero-window probe')} (they look like keepalives but are not).` : ''
    }</p>`,
    `<table class="settings"><thead><tr><th>side</th><th>idle</th><th>interval</th><th>count</th><th>probes</th><th>OS defaults</th></tr></thead><tbody>`,
    settingsRow('client', c.keepalive.client),
    settingsRow('server', c.keepalive.server),
    `</tbody></table>`,
  ];
  if (c.probes.length > 0) {
    out.push(`<figure>${ladderSvg(c, maxProbes)}</figure>`, probeTable(c));
  } else {
    out.push('<p class="muted">No keepalive probes, so no diagram.</p>');
  }
  out.push('</section>');
  return out.join('\n');
}

const CSS = `
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; color: ${COLOR.text}; margin: 24px auto; max-width: 960px; padding: 0 16px; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin: 0 0 0.4em; }
.summary td, .settings td:first-child { white-space: nowrap; }
.summary td:first-child { font-family: ui-monospace, 'SFMono-Regular', Menlo, monospace; font-size: 0.92em; }
.endpoints { font-family: ui-monospace, 'SFMono-Regular', Menlo, monospace; }
.muted { color: ${COLOR.muted}; font-size: 0.92em; }
.connection { border-top: 2px solid #d0d7de; padding-top: 18px; margin-top: 28px; }
.explanation { font-size: 1.05em; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: #f6f8fa; }
.verdict { display: inline-block; border-radius: 12px; padding: 1px 10px; font-size: 0.85em; color: #fff; vertical-align: middle; }
.verdict-alive { background: ${COLOR.ack}; }
.verdict-dead, .verdict-reset { background: ${COLOR.rst}; }
.verdict-undetermined { background: ${COLOR.none}; }
.verdict-closed, .verdict-no-keepalive { background: ${COLOR.muted}; }
.findings { padding-left: 0; list-style: none; }
.finding { margin: 4px 0; }
.finding .severity { display: inline-block; min-width: 64px; text-align: center; border-radius: 4px; padding: 0 6px; margin-right: 6px; font-size: 0.85em; color: #fff; }
.finding.error .severity { background: ${COLOR.rst}; }
.finding.warning .severity { background: ${COLOR.none}; }
.finding.info .severity { background: ${COLOR.muted}; }
.warning { background: #fff8c5; border: 1px solid #d4a72c; padding: 6px 10px; border-radius: 6px; }
figure { margin: 8px 0; overflow-x: auto; }
svg.ladder { display: block; background: #fff; }
svg text { font-size: 12px; fill: ${COLOR.text}; }

svg .lane-title { font-size: 14px; font-weight: 600; }
svg .lane-addr { font-size: 12px; font-family: ui-monospace, Menlo, monospace; }
svg .axis { font-size: 11px; fill: ${COLOR.muted}; font-family: ui-monospace, Menlo, monospace; }
svg .axis-title { font-size: 12px; font-weight: 600; fill: ${COLOR.muted}; }
svg .arrow-label, svg .span-label { font-size: 12px; font-weight: 600; }
svg .arrow-label { paint-order: stroke; stroke: #fff; stroke-width: 4px; }
svg .rst-label { font-size: 12px; font-weight: 700; paint-order: stroke; stroke: #fff; stroke-width: 4px; }
svg .note { font-size: 12px; fill: ${COLOR.muted}; }
svg .legend text { font-size: 12px; }
`;

/** The pieces of the HTML report, for pages that embed it (the demo): its stylesheet, and its content below the heading. */
export interface HtmlReportParts {
  css: string;
  title: string;
  /** The report's own <h1>. */
  heading: string;
  /** Everything after the heading. */
  content: string;
}

export function renderHtml(report: Report, options: HtmlOptions = {}): string {
  const parts = renderHtmlParts(report, options);
  return `${htmlStart(parts)}${parts.content}${HTML_END}`;
}

/** The document up to the content (then the content, then HTML_END). */
export function htmlStart(parts: Omit<HtmlReportParts, 'content'>): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${parts.title}</title>
<style>${parts.css}</style>
</head>
<body>
${parts.heading}
`;
}

export const HTML_END = `
</body>
</html>
`;

/** One connection's pieces of the HTML report, each to follow its number (see htmlContent). */
export interface HtmlConnection<T> {
  /** Its row of the summary table, after `<tr><td><a href="#connection-N`. */
  row: T;
  /** Its section, after `<section class="connection" id="connection-N`. */
  section: T;
}

/** A connection's pieces as renderHtml writes them (made as the connection ends, on the command line). */
export function htmlConnection(options: HtmlOptions = {}): (c: ConnectionReport) => HtmlConnection<string> {
  const maxProbes = options.maxProbes ?? 200;
  return (c) => {
    const k = c.keepalive.client ?? c.keepalive.server;
    const n = probeCounts(c);
    return {
      row:
        `">${escapeHtml(c.client)} → ${escapeHtml(c.server)}</a></td><td><span class="verdict verdict-${c.verdict}">${VERDICT_TEXT[c.verdict]}</span></td>` +
        `<td>${proberOf(c.keepalive) ?? '–'}</td><td>${k ? escapeHtml(seconds(k.idle)) : '–'}</td><td>${k ? escapeHtml(k.interval === null && k.intervalAtMost !== null ? `≤ ${seconds(k.intervalAtMost)}` : seconds(k.interval)) : '–'}</td><td>${k ? escapeHtml(countText(k)) : '–'}</td><td>${n.total}</td><td>${c.zeroWindowProbes}</td></tr>`,
      section: connectionHtml(c, maxProbes),
    };
  };
}

function titleOf(s: Summary): string {
  return `keepalive report: ${s.files.map(escapeHtml).join(', ')}`;
}

/** The parts of htmlStart for a report with this summary. */
export function htmlFrame(s: Summary): Omit<HtmlReportParts, 'content'> {
  return { css: CSS, title: titleOf(s), heading: '<h1>TCP keepalive report</h1>' };
}

/**
 * The report's content in order, as strings and the connections' own pieces (strings, or the
 * bytes a caller kept them as): joined, they are renderHtmlParts' `content`.
 */
export function* htmlContent<T>(s: Summary, connections: readonly HtmlConnection<T>[]): Generator<string | T> {
  const files = s.files.map(escapeHtml).join(', ');
  const body = [
    `<p class="muted">${files}: ${plural(s.packets, 'packet')}, ${plural(s.tcpSegments, 'TCP segment')}, ${plural(s.connections, 'connection')}, ${plural(s.keepaliveProbes, 'keepalive probe')}, ${plural(s.zeroWindowProbes, 'zero-window probe')}${
      s.firstTime && s.lastTime ? `; from ${escapeHtml(s.firstTime)} to ${escapeHtml(s.lastTime)}` : ''
    }.</p>`,
    ...s.warnings.map((w) => `<p class="warning">⚠ ${escapeHtml(w)}</p>`),
    ...findingsHtml(s.findings),
  ];
  if (connections.length === 0) {
    body.push('<p>No TCP connection to report.</p>');
    yield body.join('\n');
    return;
  }
  yield `${body.join('\n')}\n`;
  yield `<table class="summary"><thead><tr><th>connection (client → server)</th><th>verdict</th><th>prober</th><th>idle</th><th>interval</th><th>count</th><th>probes</th><th>zero-window probes</th></tr></thead><tbody>`;
  for (let i = 0; i < connections.length; i++) {
    yield `<tr><td><a href="#connection-${i + 1}`;
    yield connections[i]!.row;
  }
  yield `</tbody></table>\n<p class="muted">How to read a diagram: the client is the left lane, the server the right one, and time flows down. Each probe is an arrow from the side whose keepalive timer fired; the peer's answer comes back as an arrow the other way. Hover over an arrow for details.</p>`;
  for (let i = 0; i < connections.length; i++) {
    yield `\n<section class="connection" id="connection-${i + 1}`;
    yield connections[i]!.section;
  }
}

export function renderHtmlParts(report: Report, options: HtmlOptions = {}): HtmlReportParts {
  const pieces = htmlContent(report.summary, report.connections.map(htmlConnection(options)));
  return { ...htmlFrame(report.summary), content: [...pieces].join('') };
}
