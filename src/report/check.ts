/**
 * The CI gate's logic, as pure functions over a report: does each selected connection's
 * observed keepalive match what was expected? Shared by `keepalive check` and the vitest matcher.
 */
import type { ConnectionReport, KeepaliveSettings, Report, Side } from '../analysis/model.js';
import { userTimeoutRange, userTimeoutText } from '../analysis/timeline.js';
import { countText, seconds } from './units.js';

export type Expect = 'idle' | 'interval' | 'count' | 'userTimeout';

export interface Expectations {
  /** Seconds. */
  idle?: number | undefined;
  /** Seconds. */
  interval?: number | undefined;
  count?: number | undefined;
  /** Seconds: TCP_USER_TIMEOUT, as a Linux prober's give-up shows it (KeepaliveSettings.userTimeout). */
  userTimeout?: number | undefined;
  /** Which side's keepalive the expectation is about; `any`: a side that probes (the better match when both do). */
  side?: Side | 'any' | undefined;
  /** How far a duration may stray from the expected one. */
  tolerance?: Tolerance | undefined;
  /** Not observable counts as a failure. */
  strict?: boolean | undefined;
}

/** Relative (a fraction: 0.1 is 10 %) or absolute (seconds). */
export type Tolerance = { relative: number } | { absolute: number };

export const DEFAULT_TOLERANCE: Tolerance = { relative: 0.1 };

/**
 * pass / fail, or `na` when the capture cannot show the figure (the interval when every probe
 * was answered, the count when the prober never gave up).
 */
export type Status = 'pass' | 'fail' | 'na';

export interface CheckResult {
  connection: { client: string; server: string };
  /** The side whose keepalive was judged, null when no side probed. */
  side: Side | null;
  /** `keepalive` stands for "some keepalive at all" when no figure was expected. */
  expectation: Expect | 'keepalive';
  status: Status;
  /** Seconds, a count, or null when not observed. */
  observed: number | null;
  expected: number | null;
  /** Observed against expected, in words ("observed 2.016 s, expected 5 s ± 10 %"). */
  message: string;
}

export interface CheckOutcome {
  results: CheckResult[];
  connections: number;
  passed: number;
  failed: number;
  notObservable: number;
  /** Exit status: true when nothing failed (and, with strict, everything was observable). */
  ok: boolean;
  /** Why the check failed without any result line (no connection selected). */
  reason: string | null;
}

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, min: 60, h: 3600 };

/**
 * `7200` (seconds), `60s`, `2m`, `1500ms`, `1h`, `1.5s`, `1h30m`. Returns null when the text is
 * not a duration or not positive.
 */
export function parseDuration(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(t)) {
    const v = Number(t);
    return v > 0 ? v : null;
  }
  if (!/^(\d+(\.\d+)?(ms|s|min|m|h))+$/.test(t)) return null;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|min|m|h)/g)) total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  // Milliseconds do not survive floating sums exactly: 1500ms is 1.5, not 1.5000000000000002.
  total = Math.round(total * 1e9) / 1e9;
  return total > 0 ? total : null;
}

/** `10%` or `10` (percent), or a duration with its unit (`200ms`, `1s`) for an absolute slack. */
export function parseTolerance(text: string): Tolerance | null {
  const t = text.trim().toLowerCase();
  const pct = /^(\d+(\.\d+)?)\s*%?$/.exec(t);
  if (pct) return { relative: Number(pct[1]) / 100 };
  if (/[a-z]$/.test(t)) {
    const d = parseDuration(t);
    return d === null ? null : { absolute: d };
  }
  return null;
}

export function toleranceText(tol: Tolerance): string {
  return 'relative' in tol ? `${Math.round(tol.relative * 1000) / 10} %` : seconds(tol.absolute);
}

function within(observed: number, expected: number, tol: Tolerance): boolean {
  const slack = 'relative' in tol ? tol.relative * expected : tol.absolute;
  // A microsecond of slack for the report's rounding.
  return Math.abs(observed - expected) <= slack + 1e-6;
}

/** What an expectation is called in the results. */
function expectName(what: Expect | 'keepalive'): string {
  return what === 'userTimeout' ? 'user timeout' : what;
}

/** An expected figure in words: "count 3", "idle 60 s". */
function figureText(what: Expect, expected: number): string {
  return what === 'count' ? `count ${expected}` : `${expectName(what)} ${seconds(expected)}`;
}

function judge(settings: KeepaliveSettings, what: Expect, expected: number, tol: Tolerance): Pick<CheckResult, 'status' | 'observed' | 'message'> {
  if (what === 'userTimeout') {
    const u = settings.userTimeout;
    if (u === null) {
      const why = settings.style !== 'linux' ? `TCP_USER_TIMEOUT shows only when a Linux prober gives up (these probes are ${settings.style})` : (settings.unknown.count ?? 'the prober never gave up');
      return { status: 'na', observed: null, message: `not observable: ${why} (expected user timeout ${seconds(expected)})` };
    }
    // The user timeouts that give up at the same tick are a range: pass when it meets expected ± tolerance.
    const slack = 'relative' in tol ? tol.relative * expected : tol.absolute;
    const ok = expected + slack > u.above && expected - slack <= u.atMost + 1e-6;
    return {
      status: ok ? 'pass' : 'fail',
      observed: u.atMost,
      message: `gave up where a user timeout ${userTimeoutRange(u, seconds)} would (from the last segment received), expected ${seconds(expected)} ± ${toleranceText(tol)}`,
    };
  }
  if (what === 'count') {
    if (settings.count !== null) {
      const ok = settings.count === expected;
      // Fewer probes than TCP_KEEPCNT is what a TCP_USER_TIMEOUT does: say which would.
      const hint = !ok && settings.userTimeout !== null ? `; ${userTimeoutText(settings.userTimeout)}` : '';
      return { status: ok ? 'pass' : 'fail', observed: settings.count, message: `observed ${settings.count}, expected ${expected}${hint}` };
    }
    // The prober kept going after more unanswered probes than expected: a real contradiction.
    if (settings.countAtLeast !== null && settings.countAtLeast > expected) {
      return {
        status: 'fail',
        observed: settings.countAtLeast,
        message: `observed ${countText(settings)} (${settings.countAtLeast} unanswered probes without giving up), expected ${expected}`,
      };
    }
    return { status: 'na', observed: null, message: `not observable: ${settings.unknown.count ?? 'the prober never gave up'} (count ${countText(settings)}; expected ${expected})` };
  }
  const observed = what === 'idle' ? settings.idle : settings.interval;
  // Answered probes came every `intervalAtMost` seconds, and Linux waits max(idle, interval)
  // after an answer: an expected interval clearly longer than that is contradicted.
  if (what === 'interval' && observed === null && settings.intervalAtMost !== null && expected > settings.intervalAtMost && !within(settings.intervalAtMost, expected, tol)) {
    return {
      status: 'fail',
      observed: settings.intervalAtMost,
      message: `observed ≤ ${seconds(settings.intervalAtMost)} (answered probes came that often), expected ${seconds(expected)} ± ${toleranceText(tol)}`,
    };
  }
  if (observed === null) {
    const why = (what === 'idle' ? settings.unknown.idle : settings.unknown.interval) ?? 'not in the capture';
    return { status: 'na', observed: null, message: `not observable: ${why} (expected ${seconds(expected)})` };
  }
  const ok = within(observed, expected, tol);
  return { status: ok ? 'pass' : 'fail', observed, message: `observed ${seconds(observed)}, expected ${seconds(expected)} ± ${toleranceText(tol)}` };
}

/** The figures asked for, in a fixed order; none asked means "shows some keepalive". */
export function expectedFigures(e: Expectations): [Expect, number][] {
  const out: [Expect, number][] = [];
  if (e.idle !== undefined) out.push(['idle', e.idle]);
  if (e.interval !== undefined) out.push(['interval', e.interval]);
  if (e.count !== undefined) out.push(['count', e.count]);
  if (e.userTimeout !== undefined) out.push(['userTimeout', e.userTimeout]);
  return out;
}

/** How bad a set of results is: failures first, then what could not be seen. */
function badness(results: CheckResult[]): number {
  return results.reduce((n, r) => n + (r.status === 'fail' ? 1000 : r.status === 'na' ? 1 : 0), 0);
}

/** Judge one connection. */
export function evaluateConnection(c: ConnectionReport, e: Expectations): CheckResult[] {
  const tol = e.tolerance ?? DEFAULT_TOLERANCE;
  const figures = expectedFigures(e);
  const want = e.side ?? 'any';
  const connection = { client: c.client, server: c.server };
  const sides: Side[] = want === 'any' ? (['client', 'server'] as Side[]).filter((s) => c.keepalive[s] !== null) : [want];

  const forSide = (side: Side): CheckResult[] => {
    const settings = c.keepalive[side];
    if (settings === null) {
      const message = `no keepalive probes from the ${side} (verdict ${c.verdict})`;
      if (figures.length === 0) return [{ connection, side, expectation: 'keepalive', status: 'fail', observed: 0, expected: null, message }];
      return figures.map(([what, expected]) => ({ connection, side, expectation: what, status: 'fail', observed: null, expected, message: `${message}; expected ${figureText(what, expected)}` }));
    }
    if (figures.length === 0) {
      // Every probe of the side, those the report does not list too (it keeps the first and last 500).
      return [{ connection, side, expectation: 'keepalive', status: 'pass', observed: settings.probes, expected: null, message: `${settings.probes} probe(s) from the ${side}` }];
    }
    return figures.map(([what, expected]) => ({ connection, side, expectation: what, expected, ...judge(settings, what, expected, tol) }));
  };

  if (sides.length === 0) {
    const beat = c.heartbeat !== null ? `; an application heartbeat every ${seconds(c.heartbeat.period)} from the ${c.heartbeat.from} keeps it busy instead` : '';
    const message = `no keepalive probes from either side (verdict ${c.verdict}${beat})`;
    if (figures.length === 0) return [{ connection, side: null, expectation: 'keepalive', status: 'fail', observed: 0, expected: null, message }];
    return figures.map(([what, expected]) => ({ connection, side: null, expectation: what, status: 'fail', observed: null, expected, message: `${message}; expected ${figureText(what, expected)}` }));
  }
  // Both sides probe and either may be the one meant: judge the closer match.
  let best = forSide(sides[0]!);
  for (const s of sides.slice(1)) {
    const other = forSide(s);
    if (badness(other) < badness(best)) best = other;
  }
  return best;
}

/** Judge every connection of the report (already restricted to the selected ones). */
export function evaluate(report: Pick<Report, 'connections'>, e: Expectations): CheckOutcome {
  return outcomeOf(
    report.connections.map((c) => evaluateConnection(c, e)),
    e,
  );
}

/** The outcome of each selected connection's results (evaluateConnection's, in report order). */
export function outcomeOf(perConnection: readonly CheckResult[][], e: Expectations): CheckOutcome {
  const results = perConnection.flat();
  const passed = results.filter((r) => r.status === 'pass').length;
  const failed = results.filter((r) => r.status === 'fail').length;
  const notObservable = results.filter((r) => r.status === 'na').length;
  const reason = perConnection.length === 0 ? 'no connection selected' : null;
  return {
    results,
    connections: perConnection.length,
    passed,
    failed,
    notObservable,
    ok: reason === null && failed === 0 && !(e.strict && notObservable > 0),
    reason,
  };
}

/** The status as it counts: not observable is a failure under --strict. */
export function effectiveStatus(r: CheckResult, strict: boolean | undefined): Status {
  return r.status === 'na' && strict ? 'fail' : r.status;
}

export function expectationText(r: Pick<CheckResult, 'expectation' | 'expected'>, tol: Tolerance = DEFAULT_TOLERANCE): string {
  if (r.expectation === 'keepalive') return 'keepalive present';
  if (r.expected === null) return r.expectation;
  if (r.expectation === 'count') return `count ${r.expected}`;
  return `${figureText(r.expectation, r.expected)} ± ${toleranceText(tol)}`;
}

const LABEL: Record<Status, string> = { pass: 'PASS', fail: 'FAIL', na: 'N/A ' };

/** One line per connection and expectation, then a summary line. */
export function renderCheckText(outcome: CheckOutcome, e: Expectations, paint: (status: Status, s: string) => string = (_s, t) => t): string {
  const lines: string[] = [];
  for (const r of outcome.results) {
    const status = effectiveStatus(r, e.strict);
    const side = r.side ?? 'either side';
    lines.push(`${paint(status, LABEL[status])}  ${r.connection.client} -> ${r.connection.server}  ${side} ${expectName(r.expectation)}: ${r.message}`);
  }
  lines.push(summaryLine(outcome, e));
  return `${lines.join('\n')}\n`;
}

export function summaryLine(outcome: CheckOutcome, e: Expectations): string {
  if (outcome.reason !== null) return `FAIL: ${outcome.reason}`;
  const na = outcome.notObservable > 0 ? `, ${outcome.notObservable} not observable${e.strict ? ' (failures under --strict)' : ''}` : '';
  return `${outcome.ok ? 'OK' : 'FAIL'}: ${outcome.passed} passed, ${outcome.failed} failed${na} (${outcome.connections} connection${outcome.connections === 1 ? '' : 's'})`;
}
