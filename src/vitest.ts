/**
 * A vitest matcher for projects that test their own keepalive settings against a capture:
 *
 *   import { keepaliveMatchers } from 'keepalive/vitest';
 *   expect.extend(keepaliveMatchers);
 *   expect(await analyzeToReport(['cap.pcap'])).toHaveKeepalive({ idle: 60, interval: 5, count: 3 });
 *
 * The judgement is `keepalive check`'s, so a test and the CI gate never disagree.
 */
// Types only: the augmentation at the end needs vitest's declarations; nothing is loaded at run time.
/// <reference types="vitest" preserve="true" />
import type { ConnectionReport, Report, Side } from './analysis/model.js';
import { effectiveStatus, evaluate, parseDuration, parseTolerance, toleranceText, DEFAULT_TOLERANCE, type Expectations, type Tolerance } from './report/check.js';

export interface KeepaliveExpectation {
  /** Seconds, or a duration string ("60s", "2m", "1500ms"). */
  idle?: number | string;
  interval?: number | string;
  count?: number;
  /** TCP_USER_TIMEOUT as a Linux prober's give-up shows it: seconds, or a duration string. */
  userTimeout?: number | string;
  side?: Side | 'any';
  /** A fraction (0.1 = 10 %), "10%", or a duration string for an absolute slack ("200ms"). */
  tolerance?: number | string;
  /** Fail expectations the capture cannot show. */
  strict?: boolean;
}

interface MatcherResult {
  pass: boolean;
  message: () => string;
}

function isReport(x: unknown): x is Report {
  return typeof x === 'object' && x !== null && Array.isArray((x as Report).connections) && typeof (x as Report).summary === 'object';
}

function isConnection(x: unknown): x is ConnectionReport {
  return typeof x === 'object' && x !== null && Array.isArray((x as ConnectionReport).probes) && typeof (x as ConnectionReport).keepalive === 'object';
}

function seconds(name: string, v: number | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const d = typeof v === 'number' ? (v > 0 ? v : null) : parseDuration(v);
  if (d === null) throw new TypeError(`toHaveKeepalive: ${name} ${JSON.stringify(v)} is not a duration`);
  return d;
}

function tolerance(v: number | string | undefined): Tolerance | undefined {
  if (v === undefined) return undefined;
  const t = typeof v === 'number' ? { relative: v } : parseTolerance(v);
  if (t === null) throw new TypeError(`toHaveKeepalive: tolerance ${JSON.stringify(v)} is not a tolerance`);
  return t;
}

/** The expectation in the check's own terms. */
export function toExpectations(e: KeepaliveExpectation): Expectations {
  return {
    idle: seconds('idle', e.idle),
    interval: seconds('interval', e.interval),
    count: e.count,
    userTimeout: seconds('userTimeout', e.userTimeout),
    side: e.side,
    tolerance: tolerance(e.tolerance),
    strict: e.strict,
  };
}

export const keepaliveMatchers = {
  /** Every connection of a report (or the one connection given) shows the expected keepalive. */
  toHaveKeepalive(this: { isNot: boolean }, received: unknown, expected: KeepaliveExpectation = {}): MatcherResult {
    const connections = isReport(received) ? received.connections : isConnection(received) ? [received] : null;
    if (connections === null) {
      return { pass: false, message: () => 'expected a keepalive Report (analyzeToReport) or one of its connections' };
    }
    const e = toExpectations(expected);
    const outcome = evaluate({ connections }, e);
    const tol = toleranceText(e.tolerance ?? DEFAULT_TOLERANCE);
    const lines = outcome.results.map((r) => {
      const status = effectiveStatus(r, e.strict);
      const label = status === 'pass' ? 'pass' : status === 'fail' ? 'FAIL' : 'n/a ';
      return `  ${label} ${r.connection.client} -> ${r.connection.server} ${r.side ?? 'either side'} ${r.expectation}: ${r.message}`;
    });
    if (outcome.reason !== null) lines.push(`  FAIL ${outcome.reason}`);
    const wanted = [
      e.idle !== undefined ? `idle ${e.idle} s` : '',
      e.interval !== undefined ? `interval ${e.interval} s` : '',
      e.count !== undefined ? `count ${e.count}` : '',
      e.userTimeout !== undefined ? `user timeout ${e.userTimeout} s` : '',
    ].filter(Boolean);
    const what = `${wanted.length > 0 ? wanted.join(', ') : 'some keepalive'} (± ${tol}, side ${e.side ?? 'any'}${e.strict ? ', strict' : ''})`;
    return {
      pass: outcome.ok,
      message: () =>
        this.isNot
          ? `expected the keepalive not to match ${what}, but it did:\n${lines.join('\n')}`
          : `expected keepalive ${what}:\n${lines.join('\n')}`,
    };
  },
};

declare module 'vitest' {
  // The type parameter must match vitest's own declaration to merge with it.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  interface Matchers<T = any> {
    toHaveKeepalive(expected?: KeepaliveExpectation): T;
  }
}
