/**
 * A demo as one self-contained HTML page to project in class (inline CSS and SVG, no script,
 * nothing fetched): the story, the two ends, a sequence diagram of every frame with its
 * explanation beside it, the conclusion, and the HTML report `keepalive analyze` writes for the
 * same capture (its ladder diagram included).
 */
import type { Side } from '../analysis/model.js';
import { escapeHtml, renderHtmlParts } from '../report/html.js';
import type { DemoCapture } from './capture.js';
import { humanDuration, type Explanation, type FrameNote, type Role } from './explain.js';
import { knobsText } from './text.js';

const LANE_WIDTH = 340;
const LANE_X: Record<Side, number> = { client: 72, server: LANE_WIDTH - 72 };
const ROW_SVG_HEIGHT = 58;

interface Look {
  color: string;
  width: number;
  dash?: string;
  /** Row tint, for the frames the lesson is about. */
  tint?: string;
}

const GREY: Look = { color: '#6e7781', width: 1.6 };
const LOOK: Record<Role, Look> = {
  syn: GREY,
  'syn-ack': GREY,
  'handshake-ack': GREY,
  fin: GREY,
  ack: GREY,
  'data-ack': GREY,
  data: { color: '#24292f', width: 2.2 },
  heartbeat: { color: '#0e7c86', width: 2.6, tint: '#e6f6f7' },
  'heartbeat-reply': { color: '#0e7c86', width: 2.6, tint: '#e6f6f7' },
  'keepalive-probe': { color: '#0969da', width: 3, tint: '#ddf4ff' },
  'keepalive-ack': { color: '#1a7f37', width: 3, tint: '#dafbe1' },
  'keepalive-rst': { color: '#cf222e', width: 4, tint: '#ffebe9' },
  'gave-up': { color: '#cf222e', width: 4, tint: '#ffebe9' },
  rst: { color: '#cf222e', width: 3 },
  'zero-window-probe': { color: '#8250df', width: 3, tint: '#fbefff' },
  'zero-window': { color: '#9a6700', width: 2.6, tint: '#fff8c5' },
  'zero-window-probe-ack': { color: '#9a6700', width: 2.6, tint: '#fff8c5' },
  'window-update': { color: '#1a7f37', width: 2.6 },
};
const UNANSWERED: Look = { color: '#bc4c00', width: 3, dash: '9 5', tint: '#fff1e5' };

function lookOf(n: FrameNote): Look {
  return n.role === 'keepalive-probe' && n.reply === 'none' ? UNANSWERED : LOOK[n.role];
}

function r1(x: number): string {
  return (Math.round(x * 10) / 10).toString();
}

/** One frame as an arrow between the lanes, sloping down as time passes on the way. */
function arrowSvg(n: FrameNote): string {
  const look = lookOf(n);
  const from = LANE_X[n.frame.from];
  const to = LANE_X[n.frame.from === 'client' ? 'server' : 'client'];
  const y1 = 24;
  const y2 = 46;
  const lost = n.role === 'keepalive-probe' && n.reply === 'none';
  const endX = lost ? from + (to - from) * 0.78 : to;
  const endY = lost ? y1 + (y2 - y1) * 0.78 : y2;
  const a = Math.atan2(endY - y1, endX - from);
  const head = 12;
  const half = 5.5;
  const bx = endX - head * Math.cos(a);
  const by = endY - head * Math.sin(a);
  const px = -Math.sin(a) * half;
  const py = Math.cos(a) * half;
  const shaftEnd = lost ? [endX, endY] : [bx, by];
  const parts = [
    `<title>${escapeHtml(`frame ${n.frame.number}, ${n.frame.from} → ${n.frame.from === 'client' ? 'server' : 'client'}: ${n.label}. ${n.segment}`)}</title>`,
    `<circle cx="${from}" cy="${y1}" r="4.5" fill="${look.color}"/>`,
    `<line x1="${from}" y1="${y1}" x2="${r1(shaftEnd[0]!)}" y2="${r1(shaftEnd[1]!)}" stroke="${look.color}" stroke-width="${look.width}"${look.dash ? ` stroke-dasharray="${look.dash}"` : ''} stroke-linecap="round"/>`,
  ];
  if (lost) {
    const s = 7;
    parts.push(`<path d="M${r1(endX - s)},${r1(endY - s)} L${r1(endX + s)},${r1(endY + s)} M${r1(endX - s)},${r1(endY + s)} L${r1(endX + s)},${r1(endY - s)}" stroke="${look.color}" stroke-width="3.2" stroke-linecap="round"/>`);
  } else {
    parts.push(`<polygon points="${r1(endX)},${r1(endY)} ${r1(bx + px)},${r1(by + py)} ${r1(bx - px)},${r1(by - py)}" fill="${look.color}"/>`);
  }
  const label = lost ? `${n.label} · no answer` : n.label;
  parts.push(`<text x="${LANE_WIDTH / 2}" y="15" text-anchor="middle" class="arrow-label" style="fill:${look.color}">${escapeHtml(label)}</text>`);
  return `<svg class="arrow" width="${LANE_WIDTH}" height="${ROW_SVG_HEIGHT}" viewBox="0 0 ${LANE_WIDTH} ${ROW_SVG_HEIGHT}" role="img" aria-label="${escapeHtml(`${n.frame.from} to ${n.frame.from === 'client' ? 'server' : 'client'}: ${n.label}`)}">${parts.join('')}</svg>`;
}

function frameRow(n: FrameNote): string {
  const look = lookOf(n);
  const f = n.frame;
  const body = [
    `<div class="seg"><span class="label" style="color:${look.color}">${escapeHtml(n.label)}</span> <code>${escapeHtml(n.segment)}</code>${n.wireshark ? ` <span class="ws" title="How Wireshark 4.0 labels this frame">Wireshark: ${escapeHtml(n.wireshark)}</span>` : ''}</div>`,
    `<p class="what">${escapeHtml(n.what)}</p>`,
  ];
  if (n.timer !== null) body.push(`<p class="timer"><span class="tag">timer</span> ${escapeHtml(n.timer.text)}</p>`);
  if (n.concludes !== null) body.push(`<p class="concl"><span class="tag">so</span> ${escapeHtml(n.concludes)}</p>`);
  return (
    `<tr class="frame role-${n.role}" id="frame-${f.number}" data-frame="${f.number}" data-role="${n.role}" data-from="${f.from}"${n.reply ? ` data-reply="${n.reply}"` : ''}${look.tint ? ` style="background:${look.tint}"` : ''}>` +
    `<td class="num">${f.number}</td><td class="time">${f.t.toFixed(6)}</td><td class="lanes">${arrowSvg(n)}</td><td class="explain">${body.join('')}</td></tr>`
  );
}

/** Silence between two frames: taller the longer it lasts (on a log scale), its length between the lanes. */
function gapRow(seconds: number, next: FrameNote): string {
  const timer = next.timer !== null ? ` The ${next.timer.side}’s ${next.timer.kind === 'wait' ? 'keepalive' : next.timer.kind} timer is running.` : '';
  const height = Math.round(30 + 16 * Math.log10(Math.max(1, seconds)));
  const short = seconds >= 120 ? `${Math.round(seconds)} s = ${humanDuration(seconds)}` : `${seconds.toFixed(seconds >= 10 ? 1 : 2)} s`;
  return (
    `<tr class="gap" style="height:${height}px"><td></td><td></td><td class="lanes"><span class="gap-len">${escapeHtml(short)}</span></td>` +
    `<td class="gap-text">${escapeHtml(`${seconds.toFixed(3)} s pass with nothing on the wire.${timer}`)}</td></tr>`
  );
}

/** The body and the stylesheet of the report `keepalive analyze --format html` writes, under a heading of the demo's. */
function analyzeReport(capture: DemoCapture): { css: string; body: string } {
  const parts = renderHtmlParts(capture.report);
  return { css: parts.css, body: `<h2 class="report-title">What <code>keepalive analyze</code> reports for this capture</h2>\n${parts.content}` };
}

const VERDICT_COLOR: Record<string, string> = { alive: '#1a7f37', dead: '#cf222e', reset: '#cf222e', undetermined: '#bc4c00', closed: '#57606a', 'no-keepalive': '#57606a' };

const DEMO_CSS = `
body { max-width: 1240px; font-size: 17px; line-height: 1.5; margin: 28px auto 60px; }
.demo-head .kicker { text-transform: uppercase; letter-spacing: 0.08em; font-size: 0.85em; color: #57606a; margin: 0; font-weight: 600; }
.demo-head h1 { font-size: 2.1em; line-height: 1.2; margin: 0.15em 0 0.3em; }
.pill { display: inline-block; border-radius: 14px; padding: 2px 14px; color: #fff; font-weight: 600; font-size: 0.9em; }
.story p { font-size: 1.08em; max-width: 58em; margin: 0.6em 0; }
table.ends { margin: 18px 0 8px; }
table.ends th { background: #f6f8fa; white-space: nowrap; }
table.ends td:nth-child(3) { white-space: nowrap; }
table.ends td.addr { font-family: ui-monospace, 'SFMono-Regular', Menlo, monospace; white-space: nowrap; }
.capture-file { color: #57606a; }
.capture-file code { color: #1f2328; }
h2.section { font-size: 1.5em; margin: 1.4em 0 0.3em; border-bottom: 2px solid #d0d7de; padding-bottom: 4px; }
table.demo-diagram { border-collapse: collapse; width: 100%; table-layout: fixed; margin: 8px 0 18px; }
table.demo-diagram col.num { width: 48px; }
table.demo-diagram col.time { width: 112px; }
table.demo-diagram col.lanes { width: ${LANE_WIDTH}px; }
table.demo-diagram th, table.demo-diagram td { border: none; padding: 0 10px; vertical-align: top; }
table.demo-diagram thead th { background: #fff; border-bottom: 2px solid #d0d7de; padding: 6px 10px; font-size: 0.95em; }
table.demo-diagram tr.frame td { border-top: 1px solid #eaeef2; }
table.demo-diagram td.num { font-weight: 700; text-align: right; padding-top: 14px; color: #57606a; }
table.demo-diagram td.time { font-family: ui-monospace, Menlo, monospace; font-size: 0.9em; padding-top: 15px; color: #57606a; white-space: nowrap; }
table.demo-diagram td.lanes, table.demo-diagram th.lanes { padding: 0; border-top: none;
  background-image: linear-gradient(to right, transparent ${LANE_X.client - 2}px, #8c959f ${LANE_X.client - 2}px, #8c959f ${LANE_X.client + 2}px, transparent ${LANE_X.client + 2}px, transparent ${LANE_X.server - 2}px, #8c959f ${LANE_X.server - 2}px, #8c959f ${LANE_X.server + 2}px, transparent ${LANE_X.server + 2}px); }
table.demo-diagram th.lanes { position: relative; height: 56px; }
.lane-name { position: absolute; top: 6px; width: 140px; margin-left: -70px; text-align: center; background: #f6f8fa; border: 1px solid #8c959f; border-radius: 6px; padding: 2px 0; line-height: 1.2; }
.lane-name small { display: block; font-weight: 400; font-family: ui-monospace, Menlo, monospace; font-size: 0.72em; color: #57606a; }
svg.arrow { display: block; overflow: visible; }
svg.arrow .arrow-label { font: 700 14px system-ui, -apple-system, 'Segoe UI', sans-serif; paint-order: stroke; stroke: #fff; stroke-width: 5px; stroke-linejoin: round; }
td.explain { padding: 8px 10px 10px; }
td.explain .seg { margin-bottom: 4px; }
td.explain .label { font-weight: 700; margin-right: 6px; }
td.explain code { font-size: 0.84em; background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 4px; padding: 1px 5px; word-break: break-word; }
td.explain .ws { font-size: 0.84em; color: #57606a; white-space: nowrap; }
td.explain p { margin: 3px 0; }
td.explain .tag { display: inline-block; min-width: 44px; text-align: center; font-size: 0.78em; font-weight: 700; text-transform: uppercase; border-radius: 4px; padding: 0 5px; margin-right: 4px; color: #fff; background: #8250df; }
td.explain .concl .tag { background: #1f2328; }
table.demo-diagram tr.gap td.lanes { text-align: center; vertical-align: middle; }
.gap-len { display: inline-block; font-weight: 700; color: #57606a; background: #fff; border: 1px dashed #8c959f; border-radius: 10px; padding: 0 10px; font-size: 0.9em; }
table.demo-diagram td.gap-text { color: #57606a; font-style: italic; vertical-align: middle; }
.conclusion { background: #f6f8fa; border-left: 6px solid #0969da; padding: 10px 18px; border-radius: 6px; }
.conclusion p { font-size: 1.08em; margin: 0.5em 0; }
ul.point-out li { margin: 4px 0; }
section.report { margin-top: 2.5em; border-top: 4px solid #d0d7de; padding-top: 8px; }
h2.report-title { font-size: 1.5em; }
`;

export function renderDemoHtml(e: Explanation, capture: DemoCapture, file: string): string {
  const s = e.scenario;
  const c = e.connection;
  const report = analyzeReport(capture);
  const verdict = c !== null ? `<span class="pill" style="background:${VERDICT_COLOR[c.verdict] ?? '#57606a'}">keepalive’s verdict: ${escapeHtml(c.verdict)}</span>` : '';
  const ends =
    c === null
      ? ''
      : `<table class="ends"><tbody>${(['client', 'server'] as const)
          .map((side) => `<tr><th>${side}</th><td class="addr">${escapeHtml(side === 'client' ? c.client : c.server)}</td><td>${escapeHtml(s.roles[side])}</td><td>${escapeHtml(knobsText(s.keepalive[side]))}</td></tr>`)
          .join('')}</tbody></table>`;
  const rows: string[] = [];
  let previousT: number | null = null;
  for (const n of e.notes) {
    if (previousT !== null && n.frame.t - previousT >= 1) rows.push(gapRow(n.frame.t - previousT, n));
    rows.push(frameRow(n));
    previousT = n.frame.t;
  }
  const laneHead = (side: Side, addr: string): string => `<span class="lane-name" style="left:${LANE_X[side]}px">${side}<small>${escapeHtml(addr)}</small></span>`;
  const diagram =
    `<table class="demo-diagram"><colgroup><col class="num"><col class="time"><col class="lanes"><col></colgroup>` +
    `<thead><tr><th>#</th><th>time (s)</th><th class="lanes">${c !== null ? laneHead('client', c.client) + laneHead('server', c.server) : ''}</th><th>what the frame is, why it was sent, what it tells</th></tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>`;
  const format = /\.pcap$/i.test(file) ? 'pcap' : 'pcapng';
  const body = [
    `<header class="demo-head"><p class="kicker">keepalive demo · ${escapeHtml(s.name)}</p><h1>${escapeHtml(s.title)}</h1>${verdict}</header>`,
    `<section class="story">${s.story.map((p) => `<p>${escapeHtml(p)}</p>`).join('')}</section>`,
    ends,
    `<p class="capture-file">Capture: <code>${escapeHtml(file)}</code> · ${capture.frames.length} frames · ${format} · taken at the client. Open it in Wireshark next to this page; the frame numbers match.</p>`,
    `<h2 class="section">Frame by frame</h2>`,
    `<p class="muted">Time flows down. Each arrow is one frame, from the side that sent it. Times are seconds since frame 1; Seq and Ack are relative to each side’s first sequence number, as Wireshark shows them.</p>`,
    diagram,
    `<h2 class="section">What it shows</h2>`,
    `<div class="conclusion">${e.conclusion.map((p) => `<p>${escapeHtml(p)}</p>`).join('')}</div>`,
    s.lookFor.length > 0 ? `<h2 class="section">Point out</h2><ul class="point-out">${s.lookFor.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul>` : '',
    `<section class="report">${report.body}</section>`,
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>keepalive demo: ${escapeHtml(s.name)}</title>
<style>${report.css}${DEMO_CSS}</style>
</head>
<body>
${body.filter(Boolean).join('\n')}
</body>
</html>
`;
}
