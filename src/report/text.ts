import type { ConnectionReport, KeepaliveSettings, Report } from '../analysis/model.js';

function seconds(x: number | null): string {
  if (x === null) return '?';
  return x >= 100 ? `${x.toFixed(0)} s` : x >= 1 ? `${x.toFixed(3)} s` : `${(x * 1000).toFixed(1)} ms`;
}

function settingsLine(side: string, s: KeepaliveSettings | null): string | null {
  if (s === null) return null;
  const count = s.count !== null ? String(s.count) : s.countAtLeast !== null ? `≥ ${s.countAtLeast}` : '?';
  const defaults = s.defaults !== null ? `, matches ${s.defaults} defaults` : '';
  return `  ${side.padEnd(6)} keepalive  idle ${seconds(s.idle)}  interval ${seconds(s.interval)}  count ${count}  (${s.style} probes${defaults})`;
}

function connectionText(c: ConnectionReport): string {
  const lines = [`${c.client} → ${c.server}  ${c.verdict.toUpperCase()}  frames ${c.firstFrame}–${c.lastFrame}, ${c.packets} packets`];
  for (const l of [settingsLine('client', c.keepalive.client), settingsLine('server', c.keepalive.server)]) if (l) lines.push(l);
  if (c.zeroWindowProbes > 0) lines.push(`  ${c.zeroWindowProbes} zero-window probe(s) (look like keepalives, are not)`);
  for (const p of c.probes) {
    const reply = p.reply.kind === 'none' ? 'no answer' : `${p.reply.kind.toUpperCase()} frame ${p.reply.frame} after ${seconds(p.reply.latency)}`;
    const since = p.sinceLastActivity === null ? '' : `  ${seconds(p.sinceLastActivity)} since activity`;
    lines.push(`  frame ${String(p.frame).padStart(6)}  ${p.from.padEnd(6)} probe #${p.ordinal}${since}  → ${reply}`);
  }
  lines.push(`  ${c.explanation}`);
  return lines.join('\n');
}

export function renderText(report: Report): string {
  const s = report.summary;
  const out = [
    `${s.files.join(', ')}: ${s.packets} packets, ${s.tcpSegments} TCP segments, ${s.connections} connections, ${s.keepaliveProbes} keepalive probes, ${s.zeroWindowProbes} zero-window probes`,
  ];
  for (const w of s.warnings) out.push(`warning: ${w}`);
  for (const c of report.connections) out.push('', connectionText(c));
  return `${out.join('\n')}\n`;
}
