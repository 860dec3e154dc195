/**
 * One connection's keepalive story as a ladder: what each side sent, when, and the idle and
 * interval spans between. The text and HTML reports draw the same ladder, so they agree.
 */
import type { ConnectionReport, Probe, Side } from '../analysis/model.js';
import { peerOf, probeCounts, secondsBetween } from './units.js';

export type LadderEvent =
  /** The connection's first captured frame. */
  | { kind: 'first'; t: number; frame: number }
  /** A keepalive probe, from `side` to its peer. */
  | { kind: 'probe'; t: number; side: Side; probe: Probe }
  /** The peer's answer to a probe: an ACK, or an RST (it lost the connection). */
  | { kind: 'reply'; t: number; side: Side; reply: 'ack' | 'rst'; frame: number | null; probe: Probe }
  /** The prober gave up after its last unanswered probe and reset the connection. */
  | { kind: 'gave-up'; t: number; side: Side; frame: number }
  /** The connection ended with FIN or RST; the report does not say which side sent it. */
  | { kind: 'closed'; t: number; how: 'fin' | 'rst'; frame: number }
  /** The capture ended with the connection still open. */
  | { kind: 'open'; t: number; frame: number }
  /** Probes left out of the drawing to keep it readable. */
  | { kind: 'elided'; t: number; probes: number; ack: number; rst: number; none: number };

export interface LadderSpan {
  /**
   * idle: from the prober's last accepted segment to its first probe; wait: from the ACK of the
   * prober's previous probe to its next one (Linux waits max(idle, interval) there, so it is not
   * the idle alone); interval: between unanswered probes (and on to the RST that ends them).
   */
  kind: 'idle' | 'wait' | 'interval';
  side: Side;
  from: number;
  to: number;
  seconds: number;
}

export interface Ladder {
  events: LadderEvent[];
  spans: LadderSpan[];
  /** Seconds from the first to the last frame. */
  duration: number;
}

const EVENT_ORDER: Record<LadderEvent['kind'], number> = { first: 0, elided: 1, probe: 2, reply: 3, 'gave-up': 4, closed: 5, open: 6 };

/**
 * Times are seconds since the connection's first frame. With more than `maxProbes` probes the
 * middle ones are left out (the first and last halves stay) and counted in one `elided` event.
 */
export function ladderOf(c: ConnectionReport, maxProbes = Infinity): Ladder {
  const at = (iso: string): number => Math.max(0, secondsBetween(c.firstTime, iso));
  const duration = at(c.lastTime);
  const events: LadderEvent[] = [{ kind: 'first', t: 0, frame: c.firstFrame }];
  const spans: LadderSpan[] = [];

  let shown = c.probes.map((_, i) => i);
  /** Index of the first probe after the left-out ones: no span is drawn across the gap. */
  let resumeAt = -1;
  // The report itself may leave out the middle of a long run (probesOmitted); the drawing
  // leaves out more, and says how many of each kind are missing.
  const counted = probeCounts(c);
  const listed = { ack: 0, rst: 0, none: 0 };
  for (const p of c.probes) listed[p.reply.kind]++;
  const omitted = { ack: Math.max(0, counted.ack - listed.ack), rst: Math.max(0, counted.rst - listed.rst), none: Math.max(0, counted.none - listed.none) };
  if (c.probes.length > maxProbes || c.probesOmitted > 0) {
    const head = Math.min(c.probes.length, Math.ceil(maxProbes / 2), Math.ceil(c.probes.length / 2));
    const tail = Math.min(c.probes.length - head, Math.floor(maxProbes / 2));
    shown = [...shown.slice(0, head), ...shown.slice(c.probes.length - tail)];
    const hidden = c.probes.slice(head, c.probes.length - tail);
    resumeAt = c.probes.length - tail;
    const at0 = hidden[0] ?? c.probes[head];
    events.push({
      kind: 'elided',
      t: at0 !== undefined ? at(at0.time) : duration,
      probes: hidden.length + c.probesOmitted,
      ack: hidden.filter((p) => p.reply.kind === 'ack').length + omitted.ack,
      rst: hidden.filter((p) => p.reply.kind === 'rst').length + omitted.rst,
      none: hidden.filter((p) => p.reply.kind === 'none').length + omitted.none,
    });
  }
  const visible = new Set(shown);

  // The same side's previous probe: the two sides' probes interleave when both probe.
  const previous: Partial<Record<Side, { t: number; i: number; ackAt: number | null }>> = {};
  c.probes.forEach((p, i) => {
    const t = at(p.time);
    const last = previous[p.from];
    const before = last !== undefined && last.i < resumeAt && i >= resumeAt ? undefined : last;
    previous[p.from] = { t, i, ackAt: p.reply.kind === 'ack' ? t + (p.reply.latency ?? 0) : null };
    if (!visible.has(i)) return;
    events.push({ kind: 'probe', t, side: p.from, probe: p });
    if (p.reply.kind !== 'none') {
      events.push({ kind: 'reply', t: t + (p.reply.latency ?? 0), side: peerOf(p.from), reply: p.reply.kind, frame: p.reply.frame, probe: p });
    }
    if (p.ordinal === 1 && p.sinceLastActivity !== null) {
      const from = Math.max(0, t - p.sinceLastActivity);
      // Nothing since the ACK of this side's previous probe: the gap is max(idle, interval).
      const afterAck = before?.ackAt != null && Math.abs(before.ackAt - from) < 0.001;
      spans.push({ kind: afterAck ? 'wait' : 'idle', side: p.from, from, to: t, seconds: p.sinceLastActivity });
    } else if (p.ordinal > 1 && before !== undefined && visible.has(before.i)) {
      spans.push({ kind: 'interval', side: p.from, from: before.t, to: t, seconds: t - before.t });
    }
  });

  const last = c.probes[c.probes.length - 1];
  const resetByReply = c.probes.some((p) => p.reply.kind === 'rst');
  if (c.verdict === 'dead' && c.closedBy === 'rst' && last !== undefined) {
    // Linux waits one more interval after the last unanswered probe, then sends RST.
    const lastT = at(last.time);
    events.push({ kind: 'gave-up', t: duration, side: last.from, frame: c.lastFrame });
    spans.push({ kind: 'interval', side: last.from, from: lastT, to: duration, seconds: duration - lastT });
  } else if (c.closedBy === 'fin' || (c.closedBy === 'rst' && !resetByReply)) {
    events.push({ kind: 'closed', t: duration, how: c.closedBy, frame: c.lastFrame });
  } else if (c.closedBy === null) {
    events.push({ kind: 'open', t: duration, frame: c.lastFrame });
  }

  // "Capture ends" is last whatever the clock says: a reply's time is the probe's plus a latency
  // rounded to the microsecond, which can land a hair after the last frame's.
  const atEnd = (e: LadderEvent) => (e.kind === 'open' || e.kind === 'closed' ? 1 : 0);
  events.sort((a, b) => atEnd(a) - atEnd(b) || a.t - b.t || EVENT_ORDER[a.kind] - EVENT_ORDER[b.kind]);
  return { events, spans, duration };
}
