/** One line per live event, for a terminal or a log: time, frame, connection, what happened. */
import type { Verdict } from '../analysis/model.js';
import { seconds } from '../report/units.js';
import type { LiveEvent } from './session.js';

const VERDICT_COLOR: Record<Verdict, string> = {
  alive: '32',
  dead: '31',
  reset: '31',
  closed: '2',
  undetermined: '33',
  'no-keepalive': '2',
};

/** Local wall-clock time of day, to the microsecond (as tcpdump prints it). */
export function clock(tsSec: number, tsNsec: number): string {
  const d = new Date(tsSec * 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(Math.floor(tsNsec / 1000)).padStart(6, '0')}`;
}

export function formatLiveEvent(e: LiveEvent, color = false): string {
  const paint = (code: string, s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const head = `${clock(e.tsSec, e.tsNsec)}  frame ${String(e.frame).padEnd(6)} ${e.connection.client} -> ${e.connection.server}  `;
  if (e.type === 'verdict') return `${head}verdict ${paint(`1;${VERDICT_COLOR[e.verdict]}`, e.verdict.toUpperCase())}`;
  if (e.type === 'end') {
    const r = e.report;
    return `${head}connection report: ${paint(`1;${VERDICT_COLOR[r.verdict]}`, r.verdict.toUpperCase())}  ${r.explanation}`;
  }
  const peer = e.from === 'client' ? 'server' : 'client';
  switch (e.kind) {
    case 'probe':
      return `${head}${paint('36', `keepalive probe from the ${e.from}`)}${e.seconds !== null ? ` (${seconds(e.seconds)} after its previous one)` : ''}`;
    case 'zero-window-probe':
      return `${head}zero-window probe from the ${e.from} (not a keepalive)`;
    case 'reply-ack':
      return `${head}${paint('32', `ACK from the ${peer}`)} to the ${e.from}'s probe${e.seconds !== null ? ` after ${seconds(e.seconds)}` : ''}`;
    case 'reply-rst':
      return `${head}${paint('31', `RST from the ${peer}`)} to the ${e.from}'s probe: it no longer knows the connection`;
    case 'gave-up':
      return `${head}${paint('31', `the ${e.from} gave up`)} after unanswered probes and reset the connection`;
    case 'connection-end':
      return `${head}connection ended`;
  }
}
