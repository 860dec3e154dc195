/**
 * Findings: what the analysis means for the person who has to change something. Pure
 * functions of a connection's report; one rule per concern, each with a stable name.
 */
import type { ConnectionReport, Finding, KeepaliveSettings, Side } from './model.js';

/** Common middlebox idle timeouts (primer, "Middlebox idle timeouts"), in seconds. */
export const MIDDLEBOX_TIMEOUTS: readonly { name: string; seconds: number }[] = [
  { name: 'many home routers', seconds: 300 },
  { name: 'Azure Load Balancer (default)', seconds: 240 },
  { name: 'AWS Network Load Balancer', seconds: 350 },
  { name: 'Google Cloud NAT (established)', seconds: 1200 },
  { name: 'Linux conntrack (established)', seconds: 432_000 },
];

export const DEFAULT_MIDDLEBOX_TIMEOUT = 300;

export interface LintOptions {
  /** Idle timeout (s) of the strictest middlebox on the path. */
  middleboxTimeout: number;
}

const DEFAULTS_TEXT = { linux: 'Linux defaults (7200 s / 75 s / 9)', windows: 'Windows defaults (7200 s / 1 s / 10)', macos: 'macOS defaults (7200 s / 75 s / 8)' };
const DEFAULT_FIGURES = { linux: [7200, 75, 9], windows: [7200, 1, 10], macos: [7200, 75, 8] } as const;

export function duration(s: number): string {
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${+s.toFixed(s < 10 ? 2 : 1)} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.round(s % 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min${sec ? ` ${sec} s` : ''}`;
}

/** Appends to `out` the findings of one side's settings. */
function sideFindings(out: Finding[], side: Side, s: KeepaliveSettings, c: ConnectionReport, options: LintOptions): void {
  if (s.idle !== null && s.idle > options.middleboxTimeout) {
    out.push({
      rule: 'idle-exceeds-middlebox',
      severity: 'warning',
      message: `the ${side}'s keepalive idle (${duration(s.idle)}) is longer than a ${duration(options.middleboxTimeout)} middlebox idle timeout: a NAT or load balancer can forget the connection before the first probe; set the idle below it`,
    });
  }
  if (s.defaults !== null) {
    const [idle, interval, count] = DEFAULT_FIGURES[s.defaults];
    const detect = idle + interval * count;
    out.push({
      rule: 'os-defaults',
      severity: 'info',
      message: `the ${side} uses ${DEFAULTS_TEXT[s.defaults]}: a vanished peer is noticed only after ${idle} + ${count} × ${interval} = ${detect} s (${duration(detect)})`,
    });
  }
  if (s.unanswered > 0) {
    out.push({
      rule: 'probes-unanswered',
      severity: c.verdict === 'dead' ? 'error' : 'warning',
      message: `${s.unanswered} of the ${side}'s ${s.probes} keepalive probes went unanswered${c.verdict === 'dead' ? ': the peer was unreachable and the connection was dropped' : ''}`,
    });
  }
}

/** Findings for one connection. */
export function connectionFindings(c: ConnectionReport, maxSilence: number, options: LintOptions): ConnectionReport['findings'] {
  const out: Finding[] = [];
  if (c.keepalive.client) sideFindings(out, 'client', c.keepalive.client, c, options);
  if (c.keepalive.server) sideFindings(out, 'server', c.keepalive.server, c, options);
  if (c.verdict === 'reset') {
    out.push({ rule: 'peer-reset', severity: 'error', message: 'a keepalive probe was answered by RST: the peer had lost the connection (rebooted, or its application aborted)' });
  }
  const keepalive = c.probes.length + c.probesOmitted > 0;
  if (!keepalive && c.heartbeat === null && maxSilence > options.middleboxTimeout) {
    out.push({
      rule: 'silent-gap',
      severity: 'warning',
      message: `the connection was silent for ${duration(maxSilence)} with neither keepalive nor an application heartbeat: longer than a ${duration(options.middleboxTimeout)} middlebox idle timeout, and a dead peer would go unnoticed`,
    });
  }
  if (keepalive && c.heartbeat !== null) {
    out.push({
      rule: 'keepalive-and-heartbeat',
      severity: 'info',
      message: `both TCP keepalive and an application heartbeat (every ${duration(c.heartbeat.period)} from the ${c.heartbeat.from}) keep this connection alive; the heartbeat alone also proves the peer application responds`,
    });
  }
  return out;
}

const SEVERITY_RANK = { info: 0, warning: 1, error: 2 } as const;

/** Index of the first finding of the same rule as findings[i] (a connection has a handful). */
function firstOfRule(findings: readonly Finding[], i: number): number {
  for (let j = 0; j < i; j++) if (findings[j]!.rule === findings[i]!.rule) return j;
  return i;
}

/**
 * The summary's findings, tallied as connections stream past (nothing kept but one example
 * per rule): one finding per rule that fired, with how many connections it concerns.
 */
export class FindingTally {
  private readonly byRule = new Map<string, { severity: Finding['severity']; n: number; example: string }>();

  add(c: ConnectionReport): void {
    const findings = c.findings;
    for (let i = 0; i < findings.length; i++) {
      const f = findings[i]!;
      if (firstOfRule(findings, i) !== i) continue;
      const e = this.byRule.get(f.rule);
      if (!e) this.byRule.set(f.rule, { severity: f.severity, n: 1, example: `${c.client} → ${c.server}: ${f.message}` });
      else {
        e.n++;
        if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[e.severity]) e.severity = f.severity;
      }
    }
  }

  /**
   * The findings of a connection as codes (native.ts ROW_RULES index × 3 + ROW_SEVERITIES
   * index; `n` of them from codes[at]), counted as `add` would count them: true when every rule
   * of theirs has fired before (its example is kept already), else false and nothing counted
   * (the caller adds the connection's report).
   */
  counted(codes: Float64Array, at: number, n: number, rules: readonly string[], severities: readonly Finding['severity'][]): boolean {
    for (let i = 0; i < n; i++) if (!this.byRule.has(rules[Math.floor(codes[at + i]! / 3)]!)) return false;
    for (let i = 0; i < n; i++) {
      const code = codes[at + i]!;
      const rule = Math.floor(code / 3);
      let first = true;
      for (let j = 0; j < i; j++) if (Math.floor(codes[at + j]! / 3) === rule) first = false;
      if (!first) continue;
      const e = this.byRule.get(rules[rule]!)!;
      e.n++;
      const severity = severities[code % 3]!;
      if (SEVERITY_RANK[severity] > SEVERITY_RANK[e.severity]) e.severity = severity;
    }
    return true;
  }

  findings(): Finding[] {
    return [...this.byRule].map(([rule, e]) => ({
      rule,
      severity: e.severity,
      message: e.n === 1 ? e.example : `${e.n} connections; for example ${e.example}`,
    }));
  }
}
