/**
 * Could the capture have shown a first probe? A side probes once it has received nothing for its
 * idle time, so a connection that never stayed quiet that long says nothing about keepalive;
 * one that did, and sent no probe, does not have keepalive on with that idle.
 */
import type { ConnectionReport, Side } from '../analysis/model.js';
import { DEFAULT_TOLERANCE, type Tolerance } from '../report/check.js';
import { secondsBetween, seconds } from '../report/units.js';

export interface IdleReference {
  /** Seconds after which the first probe is due. */
  idle: number;
  /** `expected`: --expect-idle; `kernel`: the net.ipv4.tcp_keepalive_time in force where the command ran. */
  from: 'expected' | 'kernel';
  /** The kernel value came from --kernel-idle (no hint to lower it, then). */
  kernelSet?: boolean | undefined;
  /** The command ran in a private namespace (the hint names --kernel-idle only then). */
  isolated?: boolean | undefined;
}

export interface IdleCoverage {
  connection: { client: string; server: string };
  /** The side that sent no probe; null when neither did. */
  side: Side | null;
  /** The longest time the connection was quiet in the capture (s): between two segments, or from its last one to the end of the capture when it was still open. */
  longestIdle: number;
  reference: number;
  referenceFrom: 'expected' | 'kernel';
  /** Quiet long enough (beyond the tolerance) that a first probe would have shown. */
  longEnough: boolean;
  message: string;
}

/** Seconds the connection was quiet at most: its longest silence, or its open tail up to the end of the capture. */
export function longestIdle(c: ConnectionReport, captureEnd: Date | null): number {
  let tail = 0;
  if (c.closedBy === null && captureEnd !== null) tail = Math.max(0, secondsBetween(c.lastTime, captureEnd.toISOString()));
  return Math.max(c.longestSilence, tail);
}

/** The sides whose missing probes matter for `--side`. Empty: the connection shows what was asked. */
function silentSides(c: ConnectionReport, side: Side | 'any'): (Side | null)[] {
  if (side !== 'any') return c.keepalive[side] === null ? [side] : [];
  return c.keepalive.client === null && c.keepalive.server === null ? [null] : [];
}

function slack(idle: number, tol: Tolerance): number {
  return 'relative' in tol ? tol.relative * idle : tol.absolute;
}

/** For each selected connection without the probes asked about: was it quiet long enough to show one? */
export function idleCoverage(connections: readonly ConnectionReport[], ref: IdleReference, captureEnd: Date | null, side: Side | 'any' = 'any', tol: Tolerance = DEFAULT_TOLERANCE): IdleCoverage[] {
  const out: IdleCoverage[] = [];
  for (const c of connections) {
    for (const s of silentSides(c, side)) {
      const quiet = Math.round(longestIdle(c, captureEnd) * 1e6) / 1e6;
      const longEnough = quiet >= ref.idle + slack(ref.idle, tol);
      const refText =
        ref.from === 'expected' ? `the expected idle ${seconds(ref.idle)}` : `the kernel's idle ${seconds(ref.idle)} (net.ipv4.tcp_keepalive_time${ref.isolated ? ' in the namespace' : ''})`;
      const who = s === null ? 'this connection' : `the ${s}`;
      let message: string;
      if (longEnough) {
        message = `the connection was quiet for up to ${seconds(quiet)} in the capture, longer than ${refText}, so a first probe would have shown: keepalive is off on ${who} (or its idle is longer than ${seconds(quiet)})`;
      } else {
        const hint = ref.from === 'kernel' && ref.isolated && !ref.kernelSet ? `, or lower the namespace's idle with --kernel-idle 1s if the program relies on the system's values` : '';
        message = `the connection was quiet for at most ${seconds(quiet)} in the capture, not longer than ${refText}: too short to show a first probe; keep it idle longer than that${hint}`;
      }
      out.push({ connection: { client: c.client, server: c.server }, side: s, longestIdle: quiet, reference: ref.idle, referenceFrom: ref.from, longEnough, message });
    }
  }
  return out;
}
