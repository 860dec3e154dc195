// `keepalive check`, the CI gate: the pure judgement over reports, then the built CLI as a CI job
// runs it. The captures are real kernel traffic whose settings are known (fixtures/shared/*.truth.json):
// linux-alive: client idle 1 s, interval 1 s, count 5, every probe answered;
// linux-dead: idle 1 s, interval 2 s, count 3, peer gone, the client resets;
// linux-reset (IPv6): idle 2 s, the server answers the first probe with RST.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeToReport } from '../src/analysis/analyze.js';
import type { Report } from '../src/analysis/model.js';
import { evaluate, parseDuration, parseTolerance } from '../src/report/check.js';
import { seconds } from '../src/report/units.js';
import { fixture, runCli } from './helpers.js';
import { keepaliveConversation, tempDir, writePcap } from './synth-helpers.js';

const dir = tempDir();
const ALIVE = fixture('shared/linux-alive.pcap');
const DEAD = fixture('shared/linux-dead.pcap');
const RESET = fixture('shared/linux-reset.pcap');

/** A capture of the first n frames of a classic pcap. */
function firstFrames(src: string, n: number, name: string): string {
  const b = readFileSync(src);
  let o = 24;
  for (let k = 0; k < n; k++) o += 16 + b.readUInt32LE(o + 8);
  const path = join(dir, name);
  writeFileSync(path, b.subarray(0, o));
  return path;
}

/** Handshake, data and FIN, with the keepalive probes and their ACKs taken out. */
function withoutKeepalive(): string {
  const frames = keepaliveConversation(false).filter((_, i) => i < 5 || i > 8);
  return writePcap(join(dir, 'no-keepalive.pcap'), 1, frames);
}

/** The dead capture without its last frame (the client's RST): the prober never gave up in it. */
const DEAD_UNFINISHED = firstFrames(DEAD, 10, 'dead-unfinished.pcap');
const NO_KEEPALIVE = withoutKeepalive();

/**
 * The figures the analysis reports, as the check prints them. The tests state the kernel's
 * configured settings as expectations and read the observed values from the same analysis,
 * so a refinement of the inference (a median, a rounding) does not break the gate's tests.
 */
const observedOf = async (path: string) => {
  const s = (await analyzeToReport([path])).connections[0]!.keepalive.client!;
  return { idle: seconds(s.idle), interval: seconds(s.interval), intervalAtMost: seconds(s.intervalAtMost) };
};
const deadSeen = await observedOf(DEAD);
const aliveSeen = await observedOf(ALIVE);
const resetSeen = await observedOf(RESET);
const re = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('durations and tolerances', () => {
  it('accepts 7200, 60s, 2m, 1500ms, 1h and compounds', () => {
    expect(parseDuration('7200')).toBe(7200);
    expect(parseDuration('60s')).toBe(60);
    expect(parseDuration('2m')).toBe(120);
    expect(parseDuration('1500ms')).toBe(1.5);
    expect(parseDuration('1h')).toBe(3600);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('0.5s')).toBe(0.5);
    expect(parseDuration('2 min'.replace(' ', ''))).toBe(120);
  });
  it('refuses what is not a positive duration', () => {
    for (const bad of ['', 's', '10parsecs', '-5s', '0', '0s', '5 s', '1e3', 'ms5', '60S0']) expect(parseDuration(bad), bad).toBeNull();
  });
  it('tolerance: a percentage or an absolute duration', () => {
    expect(parseTolerance('10%')).toEqual({ relative: 0.1 });
    expect(parseTolerance('25')).toEqual({ relative: 0.25 });
    expect(parseTolerance('200ms')).toEqual({ absolute: 0.2 });
    expect(parseTolerance('lots')).toBeNull();
  });
});

describe('evaluate(report, expectations): the judgement itself', () => {
  const reports: Record<string, Report> = {};
  const load = async (name: string, path: string): Promise<Report> => (reports[name] ??= await analyzeToReport([path]));

  it('passes what the kernel was configured with', async () => {
    const dead = await load('dead', DEAD);
    const o = evaluate(dead, { idle: 1, interval: 2, count: 3 });
    expect(o.results.map((r) => [r.expectation, r.status, r.side])).toEqual([
      ['idle', 'pass', 'client'],
      ['interval', 'pass', 'client'],
      ['count', 'pass', 'client'],
    ]);
    expect(o.ok).toBe(true);
    expect(Math.abs(o.results[1]!.observed! - 2)).toBeLessThan(0.05);
    expect(o.results[2]!.observed).toBe(3);
  });

  it('fails each figure that contradicts, showing observed against expected', async () => {
    const dead = await load('dead', DEAD);
    const o = evaluate(dead, { idle: 5, interval: 5, count: 9 });
    expect(o.results.map((r) => r.status)).toEqual(['fail', 'fail', 'fail']);
    expect(o.failed).toBe(3);
    expect(o.ok).toBe(false);
    expect(o.results[0]!.message).toBe(`observed ${deadSeen.idle}, expected 5 s ± 10 %`);
    expect(o.results[1]!.message).toBe(`observed ${deadSeen.interval}, expected 5 s ± 10 %`);
    // Fewer probes than expected: a TCP_USER_TIMEOUT would do that too; the message says which.
    const u = dead.connections[0]!.keepalive.client!.userTimeout!;
    expect(u.above).toBeGreaterThan(5);
    expect(u.atMost).toBeLessThan(7.1);
    expect(o.results[2]!.message).toMatch(/^observed 3, expected 9; a TCP_USER_TIMEOUT over 5\.042 s and up to 7\.058 s \(from the last segment received\) stops Linux probing here too, whatever TCP_KEEPCNT is$/);
  });

  it('interval and count are not observable when every probe was answered; --strict fails them', async () => {
    const alive = await load('alive', ALIVE);
    const o = evaluate(alive, { idle: 1, interval: 1, count: 5 });
    expect(o.results.map((r) => r.status)).toEqual(['pass', 'na', 'na']);
    expect(o.results[1]!.message).toMatch(/not observable: every probe was answered/);
    expect(o.ok).toBe(true);
    expect(evaluate(alive, { interval: 1, strict: true }).ok).toBe(false);
    // Answered probes every ~1 s bound the interval from above: 5 s cannot be.
    expect(evaluate(alive, { interval: 5 }).results[0]!.status).toBe('fail');
  });

  it('a TCP_USER_TIMEOUT that ended probing before TCP_KEEPCNT: the recorded timeout is in the range given', async () => {
    // Recorded with idle 1 s, interval 2 s, count 9 and TCP_USER_TIMEOUT 6 s: 3 probes, then RST.
    const ut = await load('user-timeout', fixture('ka-user-timeout.pcap'));
    const s = ut.connections[0]!.keepalive.client!;
    expect(s.count).toBe(3);
    expect(s.userTimeout!.above).toBeLessThan(6);
    expect(s.userTimeout!.atMost).toBeGreaterThanOrEqual(6);
    const o = evaluate(ut, { idle: 1, interval: 2, count: 9 });
    expect(o.results.map((r) => r.status)).toEqual(['pass', 'pass', 'fail']);
    expect(o.results[2]!.message).toMatch(/^observed 3, expected 9; a TCP_USER_TIMEOUT over 5\.0\d+ s and up to 7\.0\d+ s /);
    expect(evaluate(ut, { count: 3 }).results[0]!.message).toBe('observed 3, expected 3');
    // --expect-user-timeout: the recorded 6 s passes, 9 s does not; a capture without a give-up cannot show it.
    const six = evaluate(ut, { userTimeout: 6 }).results[0]!;
    expect([six.status, six.expectation, six.observed]).toEqual(['pass', 'userTimeout', s.userTimeout!.atMost]);
    expect(six.message).toMatch(/^gave up where a user timeout over 5\.0\d+ s and up to 7\.0\d+ s would \(from the last segment received\), expected 6 s ± 10 %$/);
    expect(evaluate(ut, { userTimeout: 9 }).results[0]!.status).toBe('fail');
    expect(evaluate(ut, { userTimeout: 9, tolerance: { absolute: 2 } }).results[0]!.status).toBe('pass');
    const alive = await load('alive', ALIVE);
    const na = evaluate(alive, { userTimeout: 6 }).results[0]!;
    expect([na.status, na.message]).toEqual(['na', 'not observable: the prober never gave up within the capture (expected user timeout 6 s)']);
  });

  it('--expect-user-timeout on the command line, with JUnit and JSON', () => {
    const junit = join(dir, 'ut.xml');
    const r = runCli(['check', fixture('ka-user-timeout.pcap'), '--expect-user-timeout', '6s', '--junit', junit]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^PASS  10\.77\.0\.1:41012 -> 10\.77\.0\.2:9112  client user timeout: gave up where a user timeout over /);
    expect(readFileSync(junit, 'utf8')).toContain('<property name="expect-user-timeout" value="6"/>');
    expect(runCli(['check', fixture('ka-user-timeout.pcap'), '--expect-user-timeout', '12s']).status).toBe(1);
    const json = JSON.parse(runCli(['check', fixture('ka-user-timeout.pcap'), '--expect-user-timeout', '6s', '--format', 'json']).stdout);
    expect(json.expectations.userTimeout).toBe(6);
    expect(json.results[0]).toMatchObject({ expectation: 'userTimeout', status: 'pass', expected: 6 });
  });

  it('a count lower bound above the expected count is a real failure', async () => {
    const unfinished = await load('unfinished', DEAD_UNFINISHED);
    expect(unfinished.connections[0]!.keepalive.client!.count).toBeNull();
    expect(unfinished.connections[0]!.keepalive.client!.countAtLeast).toBe(3);
    expect(evaluate(unfinished, { count: 2 }).results[0]!.status).toBe('fail');
    expect(evaluate(unfinished, { count: 3 }).results[0]!.status).toBe('na');
    expect(evaluate(unfinished, { count: 5 }).results[0]!.status).toBe('na');
  });

  it('tolerance: relative by default (10 %), or absolute', async () => {
    const dead = await load('dead', DEAD);
    expect(evaluate(dead, { idle: 1.2 }).ok).toBe(false);
    expect(evaluate(dead, { idle: 1.2, tolerance: { relative: 0.2 } }).ok).toBe(true);
    expect(evaluate(dead, { idle: 1.2, tolerance: { absolute: 0.25 } }).ok).toBe(true);
    expect(evaluate(dead, { idle: 1.2, tolerance: { absolute: 0.1 } }).ok).toBe(false);
  });

  it('side: the server sent no probes here', async () => {
    const dead = await load('dead', DEAD);
    const o = evaluate(dead, { idle: 1, side: 'server' });
    expect(o.results[0]!.status).toBe('fail');
    expect(o.results[0]!.message).toMatch(/no keepalive probes from the server/);
    expect(evaluate(dead, { idle: 1, side: 'client' }).ok).toBe(true);
  });

  it('a connection without keepalive fails, with or without expectations', async () => {
    const none = await load('none', NO_KEEPALIVE);
    expect(none.connections).toHaveLength(1);
    const bare = evaluate(none, {});
    expect(bare.results).toHaveLength(1);
    expect(bare.results[0]).toMatchObject({ expectation: 'keepalive', status: 'fail', side: null });
    const withFigures = evaluate(none, { idle: 60, count: 3 });
    expect(withFigures.results.map((r) => r.status)).toEqual(['fail', 'fail']);
    expect(withFigures.ok).toBe(false);
  });

  it('no connection at all fails with a reason', () => {
    const o = evaluate({ connections: [] }, { idle: 1 });
    expect(o.ok).toBe(false);
    expect(o.reason).toBe('no connection selected');
  });
});

/** Lines of `check`'s text output that judge something. */
function resultLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => /^(PASS|FAIL|N\/A) /.test(l));
}

describe('keepalive check, as a CI job runs it', () => {
  it('passes the dead capture against its real settings (exit 0), one line per expectation', () => {
    const r = runCli(['check', DEAD, '--expect-idle', '1s', '--expect-interval', '2s', '--expect-count', '3']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = resultLines(r.stdout);
    expect(lines).toEqual([
      `PASS  10.77.0.1:56034 -> 10.77.0.2:9002  client idle: observed ${deadSeen.idle}, expected 1 s ± 10 %`,
      `PASS  10.77.0.1:56034 -> 10.77.0.2:9002  client interval: observed ${deadSeen.interval}, expected 2 s ± 10 %`,
      'PASS  10.77.0.1:56034 -> 10.77.0.2:9002  client count: observed 3, expected 3',
    ]);
    expect(r.stdout).toMatch(/^OK: 3 passed, 0 failed \(1 connection\)$/m);
  });

  it.each([
    ['idle', ['--expect-idle', '5s'], new RegExp(`FAIL .* client idle: observed ${re(deadSeen.idle)}, expected 5 s`)],
    ['interval', ['--expect-interval', '5s'], new RegExp(`FAIL .* client interval: observed ${re(deadSeen.interval)}, expected 5 s`)],
    ['count', ['--expect-count', '9'], /FAIL .* client count: observed 3, expected 9/],
  ])('fails (exit 1) when the %s contradicts', (_what, flags, line) => {
    const r = runCli(['check', DEAD, ...flags]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(line);
    expect(r.stdout).toMatch(/^FAIL: 0 passed, 1 failed/m);
  });

  it('accepts every duration spelling', () => {
    for (const [idle, interval] of [['1', '2'], ['1000ms', '2000ms'], ['1s', '2s'], ['0.0167m', '0.0333m']]) {
      const r = runCli(['check', DEAD, '--expect-idle', idle!, '--expect-interval', interval!]);
      expect(r.status, `${idle} ${interval}`).toBe(0);
    }
    expect(runCli(['check', DEAD, '--expect-idle', '1h']).status).toBe(1);
  });

  it('alive: the idle passes; interval and count are N/A, failing only with --strict', () => {
    const args = ['check', ALIVE, '--expect-idle', '1s', '--expect-interval', '1s', '--expect-count', '5'];
    const r = runCli(args);
    expect(r.status).toBe(0);
    const lines = resultLines(r.stdout);
    expect(lines[0]).toContain(`client idle: observed ${aliveSeen.idle}, expected 1 s`);
    expect(lines[0]).toMatch(/^PASS /);
    expect(lines[1]).toMatch(/^N\/A .* client interval: not observable: every probe was answered/);
    expect(lines[2]).toMatch(/^N\/A .* client count: not observable: the prober never gave up/);
    const strict = runCli([...args, '--strict']);
    expect(strict.status).toBe(1);
    expect(resultLines(strict.stdout).map((l) => l.slice(0, 4))).toEqual(['PASS', 'FAIL', 'FAIL']);
  });

  it('alive: an interval longer than the answered probes came apart is contradicted, strict or not', () => {
    const r = runCli(['check', ALIVE, '--expect-interval', '5s']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`client interval: observed ≤ ${aliveSeen.intervalAtMost} (answered probes came that often), expected 5 s ± 10 %`);
  });

  it('alive: a wrong idle fails', () => {
    const r = runCli(['check', ALIVE, '--expect-idle', '2s']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`client idle: observed ${aliveSeen.idle}, expected 2 s ± 10 %`);
  });

  it('reset (IPv6): idle 2 s passes, 1 s fails; --host with an IPv6 address selects it', () => {
    expect(runCli(['check', RESET, '--expect-idle', '2s']).status).toBe(0);
    expect(runCli(['check', RESET, '--expect-idle', '1s']).status).toBe(1);
    const r = runCli(['check', RESET, '--host', 'fd77::2', '--expect-idle', '2s']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/PASS  \[fd77::1\]:51384 -> \[fd77::2\]:9003  client idle/);
  });

  it('a count lower bound above the expectation fails; at or below it is N/A', () => {
    const over = runCli(['check', DEAD_UNFINISHED, '--expect-count', '2']);
    expect(over.status).toBe(1);
    expect(over.stdout).toMatch(/FAIL .* client count: observed ≥ 3 \(3 unanswered probes without giving up\), expected 2/);
    const within = runCli(['check', DEAD_UNFINISHED, '--expect-count', '3']);
    expect(within.status).toBe(0);
    expect(within.stdout).toMatch(/N\/A .* client count: not observable: the capture ended after 3 unanswered probe/);
  });

  it('a connection without any keepalive fails', () => {
    const r = runCli(['check', NO_KEEPALIVE, '--expect-idle', '60s']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^FAIL  10\.77\.0\.1:41000 -> 10\.77\.0\.2:9000  either side idle: no keepalive probes from either side \(verdict closed\)/m);
    const bare = runCli(['check', NO_KEEPALIVE]);
    expect(bare.status).toBe(1);
    expect(bare.stdout).toMatch(/FAIL .* either side keepalive: no keepalive probes/);
    // …and with no expectation at all, a capture that has keepalive passes.
    expect(runCli(['check', DEAD]).status).toBe(0);
  });

  it('--side server fails where only the client probes', () => {
    const r = runCli(['check', DEAD, '--side', 'server', '--expect-idle', '1s']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/FAIL .* server idle: no keepalive probes from the server/);
    expect(runCli(['check', DEAD, '--side', 'client', '--expect-idle', '1s']).status).toBe(0);
  });

  it('--tolerance widens or narrows the match', () => {
    expect(runCli(['check', DEAD, '--expect-idle', '1.2s']).status).toBe(1);
    expect(runCli(['check', DEAD, '--expect-idle', '1.2s', '--tolerance', '20%']).status).toBe(0);
    expect(runCli(['check', DEAD, '--expect-idle', '1.2s', '--tolerance', '250ms']).status).toBe(0);
    expect(runCli(['check', DEAD, '--expect-idle', '1s', '--tolerance', '0.5%']).status).toBe(1);
  });

  it('--port and --host select connections; selecting none exits 1 and says so', () => {
    expect(runCli(['check', DEAD, '--port', '9002', '--expect-count', '3']).status).toBe(0);
    expect(runCli(['check', DEAD, '--host', '10.77.0.2', '--expect-count', '3']).status).toBe(0);
    const none = runCli(['check', DEAD, '--port', '443', '--expect-count', '3']);
    expect(none.status).toBe(1);
    expect(none.stdout).toContain('FAIL: no connection selected: no connection in');
    expect(none.stdout).toContain('matches --port 443');
  });

  it('several files are one capture: one line per connection and expectation', () => {
    const r = runCli(['check', ALIVE, DEAD, RESET, '--expect-idle', '1s']);
    expect(r.status).toBe(1);
    const lines = resultLines(r.stdout);
    expect(lines).toHaveLength(3);
    expect(lines.filter((l) => l.startsWith('PASS'))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([expect.stringContaining(`[fd77::1]:51384 -> [fd77::2]:9003  client idle: observed ${resetSeen.idle}`)]);
  });

  it('--format markdown: a job-summary table, one row per connection and expectation', () => {
    const r = runCli(['check', DEAD, '--expect-idle', '1s', '--expect-interval', '5s', '--format', 'markdown']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^### keepalive check: ❌ failed$/m);
    const rows = r.stdout.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Result'));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^\| ✅ pass \| `10\.77\.0\.1:56034` \| `10\.77\.0\.2:9002` \| client \| idle 1 s ± 10 % \| observed 1\.01 s, expected 1 s ± 10 % \|$/);
    expect(rows[1]).toMatch(/^\| ❌ fail \| .* \| interval 5 s ± 10 % \| observed 2\.016 s, expected 5 s ± 10 % \|$/);
  });

  it('--format json: the results for scripts', () => {
    const r = runCli(['check', ALIVE, '--expect-idle', '1s', '--expect-interval', '1s', '--format', 'json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ version: 1, ok: true, passed: 1, failed: 0, notObservable: 1, connections: 1 });
    expect(j.results[1]).toMatchObject({ expectation: 'interval', status: 'na', observed: null, expected: 1 });
  });

  it('-o writes the results to a file and nothing to standard output', () => {
    const out = join(dir, 'check.txt');
    const r = runCli(['check', DEAD, '--expect-count', '3', '-o', out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toMatch(/^PASS .* client count: observed 3, expected 3$/m);
  });
});

/**
 * A small well-formedness check for the XML we write: one root, tags nested and closed in order,
 * attribute values quoted, no raw '<' or stray '&' in text or attributes.
 */
function checkXml(xml: string): { name: string; attrs: Record<string, string>; children: unknown[] } {
  type El = { name: string; attrs: Record<string, string>; children: El[] };
  const root: El = { name: '#document', attrs: {}, children: [] };
  const stack: El[] = [root];
  const body = xml.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n/, '');
  expect(body).not.toBe(xml); // the declaration is there
  const token = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = token.exec(body)) !== null) {
    at = token.lastIndex;
    if (m[5] !== undefined) {
      if (stack.length === 1) expect(m[5].trim()).toBe('');
      expect(m[5]).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
      continue;
    }
    const [, close, name, attrText, selfClose] = m;
    if (close) {
      const open = stack.pop()!;
      expect(open.name).toBe(name);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText!.matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
      expect(a[2]).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
      expect(attrs[a[1]!]).toBeUndefined();
      attrs[a[1]!] = a[2]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
    }
    const el: El = { name: name!, attrs, children: [] };
    stack[stack.length - 1]!.children.push(el);
    if (!selfClose) stack.push(el);
  }
  expect(at).toBe(body.length); // every character was part of a token
  expect(stack).toHaveLength(1);
  expect(root.children).toHaveLength(1);
  return root.children[0]!;
}

type XmlEl = { name: string; attrs: Record<string, string>; children: XmlEl[] };
function all(el: XmlEl, name: string): XmlEl[] {
  return [...(el.name === name ? [el] : []), ...el.children.flatMap((c) => all(c, name))];
}

describe('--junit: JUnit XML for CI test reports', () => {
  it('a testcase per connection and expectation, failures with observed values, skipped for not observable', () => {
    const junit = join(dir, 'keepalive.xml');
    const r = runCli(['check', ALIVE, DEAD, RESET, '--expect-idle', '1s', '--expect-interval', '2s', '--expect-count', '3', '--junit', junit]);
    expect(r.status).toBe(1);
    const root = checkXml(readFileSync(junit, 'utf8')) as XmlEl;
    expect(root.name).toBe('testsuites');
    const suites = all(root, 'testsuite');
    expect(suites).toHaveLength(1);
    const suite = suites[0]!;
    expect(suite.attrs.name).toContain('linux-alive.pcap');
    const cases = all(suite, 'testcase');
    expect(cases).toHaveLength(9); // 3 connections × 3 expectations
    const failures = all(suite, 'failure');
    const skipped = all(suite, 'skipped');
    // alive: idle pass, interval fail (answered probes came every ~1 s, so it is at most that), count N/A;
    // dead: all pass; reset: idle fail (2 s), interval N/A, count N/A.
    expect(failures).toHaveLength(2);
    expect(skipped).toHaveLength(3);
    for (const el of [root, suite]) {
      expect(el.attrs).toMatchObject({ tests: '9', failures: '2', skipped: '3', errors: '0' });
    }
    const failed = cases.filter((c) => all(c, 'failure').length > 0);
    expect(failed.map((c) => [c.attrs.classname, c.attrs.name])).toEqual([
      ['keepalive.10.77.0.1:42736 -> 10.77.0.2:9001', 'client interval 2 s ± 10 %'],
      ['keepalive.[fd77::1]:51384 -> [fd77::2]:9003', 'client idle 1 s ± 10 %'],
    ]);
    expect(all(failed[0]!, 'failure')[0]!.attrs.message).toBe(`observed ≤ ${aliveSeen.intervalAtMost} (answered probes came that often), expected 2 s ± 10 %`);
    expect(all(failed[1]!, 'failure')[0]!.attrs.message).toBe(`observed ${resetSeen.idle}, expected 1 s ± 10 %`);
    expect(skipped[0]!.attrs.message).toMatch(/^not observable: /);
  });

  it('--strict turns not observable into failures', () => {
    const junit = join(dir, 'strict.xml');
    const r = runCli(['check', ALIVE, '--expect-interval', '1s', '--strict', '--junit', junit]);
    expect(r.status).toBe(1);
    const root = checkXml(readFileSync(junit, 'utf8')) as XmlEl;
    expect(root.attrs).toMatchObject({ tests: '1', failures: '1', skipped: '0' });
    expect(all(root, 'failure')[0]!.attrs.type).toBe('not-observable');
  });

  it('all passing, and no connection selected', () => {
    const ok = join(dir, 'ok.xml');
    expect(runCli(['check', DEAD, '--expect-count', '3', '--junit', ok]).status).toBe(0);
    expect((checkXml(readFileSync(ok, 'utf8')) as XmlEl).attrs).toMatchObject({ tests: '1', failures: '0', skipped: '0' });
    const none = join(dir, 'none.xml');
    expect(runCli(['check', DEAD, '--port', '1', '--junit', none]).status).toBe(1);
    const root = checkXml(readFileSync(none, 'utf8')) as XmlEl;
    expect(root.attrs).toMatchObject({ tests: '1', failures: '1' });
    expect(all(root, 'failure')[0]!.attrs.message).toMatch(/^no connection selected/);
  });

  it('names with XML metacharacters are escaped', () => {
    const odd = join(dir, 'a&b<c>"d\'.pcap');
    writeFileSync(odd, readFileSync(DEAD));
    const junit = join(dir, 'odd.xml');
    expect(runCli(['check', odd, '--expect-count', '3', '--junit', junit]).status).toBe(0);
    const root = checkXml(readFileSync(junit, 'utf8')) as XmlEl;
    expect(all(root, 'testsuite')[0]!.attrs.name).toContain('a&b<c>"d\'.pcap');
  });
});
