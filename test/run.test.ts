// `keepalive run -- CMD`: small real programs (test/programs/) run in a private network namespace
// under the built command line, their traffic captured live and judged as `keepalive check`
// judges a file. What a CI user relies on: the exit status (theirs when they fail, 0/1 for the
// expectations), their standard output untouched, the report on standard error or in -o, JUnit
// written, and no namespace or process left behind, also when keepalive is stopped by SIGTERM.
// Needs root for the runs (CI runs as root); the rest runs anywhere.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeToReport } from '../src/analysis/analyze.js';
import type { ConnectionReport, KeepaliveSettings } from '../src/analysis/model.js';
import { parseCommand } from '../src/cli/args.js';
import { runArgs, runCommand } from '../src/cli/run.js';
import { UsageError } from '../src/cli/errors.js';
import { idleCoverage, longestIdle } from '../src/run/coverage.js';
import { RunError } from '../src/run/errors.js';
import { namespacePids } from '../src/run/namespace.js';
import { commandLine, judgeRun, renderRunJson, renderRunMarkdown, renderRunText } from '../src/run/render.js';
import { runWithCapture, startRun, validateRunOptions } from '../src/run/run.js';
import { asUser, checkCommand, checkIsolationPrivileges, invokingUser, missingCaps, capabilitySet } from '../src/run/system.js';
import { CLI, ROOT } from './helpers.js';
import { tempDir } from './synth-helpers.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('test/run.test.ts: not root: skipping the runs (they create network namespaces and capture; CI runs as root)');
const capBuilt = existsSync(join(ROOT, 'node_modules', 'cap', 'build', 'Release', 'cap.node'));
const hasPython = spawnSync('python3', ['--version']).status === 0;
const canRun = isRoot && capBuilt && hasPython;

const PROGRAMS = join(ROOT, 'test', 'programs');
const PAIR = join(PROGRAMS, 'keepalive_pair.py');
const EMIT = join(PROGRAMS, 'emit_bytes.py');
const dir = tempDir();

// The real command line (KEEPALIVE_TEST_CLI names another build of it).
const ENTRY = process.env.KEEPALIVE_TEST_CLI ?? CLI;
const built = existsSync(join(ROOT, 'dist', 'cli', 'run.js'));

interface Ran {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  pid: number;
}

/** keepalive run ARGS, asynchronously (runs go side by side), with what it printed. */
function keepaliveRun(args: string[], opts: { input?: Buffer; env?: NodeJS.ProcessEnv; cwd?: string; uid?: number; onStdout?: (s: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<Ran> {
  const child = spawn(process.execPath, [ENTRY, 'run', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    cwd: opts.cwd,
    uid: opts.uid,
    gid: opts.uid,
  });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out.push(d);
    opts.onStdout?.(Buffer.concat(out).toString('latin1'), child);
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.end(opts.input ?? Buffer.alloc(0));
  return new Promise((resolve) => child.on('close', (status, signal) => resolve({ status, signal, stdout: Buffer.concat(out), stderr: err, pid: child.pid! })));
}

function namespaces(): string[] {
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
}

/** The observed idle of a PASS/FAIL line, in seconds ("observed 999.7 ms" under load is fine too). */
function observedIdle(text: string): number | null {
  const m = /client idle: observed ([\d.]+) (ms|s),/.exec(text);
  return m === null ? null : Number(m[1]) / (m[2] === 'ms' ? 1000 : 1);
}

/** Nothing of that keepalive process is left: no namespace named after it. */
function expectNoNamespaceOf(pid: number): void {
  expect(namespaces().filter((n) => n.startsWith(`ka-run-${pid}-`))).toEqual([]);
}

function within(actual: number | null | undefined, expected: number, tolerance = 0.1): void {
  expect(actual, `expected about ${expected}`).not.toBeNull();
  expect(Math.abs(actual! - expected) / expected, `${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);
}

function settings(over: Partial<KeepaliveSettings> = {}): KeepaliveSettings {
  return {
    idle: 1.02, interval: null, intervalAtMost: 1.02, count: null, countAtLeast: null, userTimeout: null, style: 'linux', defaults: null,
    confidence: { idle: 'medium', interval: 'none', count: 'none' }, probes: 2, acked: 2, unanswered: 0,
    samples: { idle: 1, interval: 0, afterAnswer: 1 }, unknown: {}, notes: [], ...over,
  };
}

function connection(over: Partial<ConnectionReport> = {}): ConnectionReport {
  return {
    client: '127.0.0.1:40000', server: '127.0.0.1:9000', rolesFrom: 'syn', firstFrame: 1, lastFrame: 10,
    firstTime: '2026-11-22T10:00:00.000000Z', lastTime: '2026-11-22T10:00:03.000000Z', packets: 10, probes: [], probesOmitted: 0,
    keepalive: { client: null, server: null }, zeroWindowProbes: 0, heartbeat: null, longestSilence: 2.5, findings: [],
    closedBy: 'fin', verdict: 'closed', explanation: 'Closed.', ...over,
  };
}

describe('run: arguments, checked before anything is made', () => {
  it('takes the command after --, exactly as typed', () => {
    const parsed = parseCommand(runCommand.spec, ['--expect-idle', '1s', '--', 'python3', '-u', 'x.py', '--port', '0x10', '--', 'y']);
    expect(parsed.rest).toEqual(['python3', '-u', 'x.py', '--port', '0x10', '--', 'y']);
    expect(parsed.values['expect-idle']).toBe('1s');
    expect(parsed.values.port).toBeUndefined(); // the command's own --port is not ours
    expect(parseCommand(runCommand.spec, ['--expect-idle', '1s']).rest).toEqual([]);
  });

  it('reads expectations as check does; none given means report only', () => {
    const a = runArgs({ 'expect-idle': '1s', 'expect-count': '3', side: 'client', isolate: true, format: 'text' }, ['true']);
    expect(a.expectations).toEqual({ idle: 1, interval: undefined, count: 3, userTimeout: undefined, tolerance: { relative: 0.1 }, side: 'client', strict: false });
    expect(runArgs({ 'expect-user-timeout': '20s', isolate: true }, ['true']).expectations).toMatchObject({ userTimeout: 20, side: 'any' });
    expect(runArgs({ isolate: true }, ['true']).expectations).toBeNull();
    expect(runArgs({ 'expect-keepalive': true, isolate: true }, ['true']).expectations).toMatchObject({ side: 'any' });
    expect(runArgs({ 'kernel-idle': '1s', 'kernel-interval': '2s', 'kernel-count': '3', isolate: true }, ['true']).kernel).toEqual({ idle: 1, interval: 2, count: 3 });
    expect(runArgs({ settle: '0', isolate: true }, ['true']).settleSeconds).toBe(0);
  });

  it('says what is wrong in one line', () => {
    const cases: [Record<string, unknown>, string[], string][] = [
      [{ isolate: true }, [], 'run: name the command to run after --, as in: keepalive run --expect-idle 1s -- python3 app.py'],
      [{ isolate: true, command: ['python3', 'x.py'] }, [], 'run: put the command after --, as in: keepalive run --expect-idle 1s -- python3 x.py'],
      [{ isolate: true, junit: 'j.xml' }, ['true'], '--junit: give an expectation too (--expect-idle, --expect-interval, --expect-count, --expect-user-timeout or --expect-keepalive)'],
      [{ isolate: true, strict: true }, ['true'], '--strict: give an expectation too (--expect-idle, --expect-interval, --expect-count, --expect-user-timeout or --expect-keepalive)'],
      [{ isolate: true, 'kernel-idle': '1500ms' }, ['true'], "--kernel-idle: '1500ms' is not possible: the sysctl takes whole seconds (1s to 32767s)"],
      [{ isolate: true, 'kernel-count': '200' }, ['true'], "--kernel-count: '200' is not possible: at most 127 probes"],
      [{ isolate: true, 'expect-idle': 'soon' }, ['true'], "--expect-idle: 'soon' is not a duration (use 7200, 60s, 2m, 1500ms or 1h)"],
      [{ isolate: true, interface: 'lo' }, ['true'], "-i: only with --no-isolate (an isolated run captures its namespace's lo)"],
      [{ isolate: false }, ['true'], '--no-isolate: name the interface to capture on with -i (lo for a service on this machine)'],
      [{ isolate: false, interface: 'lo', 'kernel-interval': '1s' }, ['true'], "--kernel-interval: only for an isolated run (it sets the private namespace's sysctl; with --no-isolate the host's would change)"],
    ];
    for (const [a, cmd, message] of cases) {
      let err: unknown;
      try {
        runArgs(a, cmd);
      } catch (e) {
        err = e;
      }
      expect(err, message).toBeInstanceOf(UsageError);
      expect((err as Error).message).toBe(message);
    }
    expect(() => validateRunOptions({ command: ['true'], kernel: { idle: 0 } })).toThrow('--kernel-idle: 0 is not possible: the sysctl takes whole seconds, 1 to 32767');
  });

  it('a missing command is 127, one that cannot be executed 126, as a shell says', () => {
    const err = (f: () => void): RunError => {
      try {
        f();
      } catch (e) {
        return e as RunError;
      }
      throw new Error('no error');
    };
    expect(err(() => checkCommand(['no-such-command-here'], process.env.PATH))).toMatchObject({ kind: 'not-found', message: 'no-such-command-here: command not found' });
    expect(err(() => checkCommand([join(PROGRAMS, 'emit_bytes.py')], process.env.PATH))).toMatchObject({ kind: 'not-executable' });
    expect(() => checkCommand(['sh', '-c', 'true'], process.env.PATH)).not.toThrow();
  });

  it('knows who typed sudo, and drops to them just before the command', () => {
    expect(invokingUser({ SUDO_UID: '1000', SUDO_GID: '1001' }, 1000)).toBeNull();
    expect(invokingUser({}, 0)).toBeNull();
    expect(invokingUser({ SUDO_UID: '0', SUDO_GID: '0' }, 0)).toBeNull();
    expect(invokingUser({ SUDO_UID: '65534', SUDO_GID: '65534' }, 0)).toMatchObject({ uid: 65534, gid: 65534 });
    expect(asUser(['npm', 'test'], null)).toEqual(['npm', 'test']);
    expect(asUser(['npm', 'test'], { uid: 1000, gid: 1000, name: 'ci' }, 'setpriv')).toEqual(['setpriv', '--reuid=1000', '--regid=1000', '--init-groups', '--', 'npm', 'test']);
    expect(asUser(['npm', 'test'], { uid: 1000, gid: 1000 }, 'setpriv')).toEqual(['setpriv', '--reuid=1000', '--regid=1000', '--clear-groups', '--', 'npm', 'test']);
    expect(asUser(['npm', 'test'], { uid: 1000, gid: 1000, name: 'ci' }, 'python3').slice(3)).toEqual(['1000', '1000', 'ci', 'npm', 'test']);
  });

  it('says plainly when it lacks the privileges for a namespace', () => {
    const status = (eff: string, amb = '0000000000000000'): string => `Name:\tnode\nCapEff:\t${eff}\nCapAmb:\t${amb}\n`;
    expect(missingCaps(capabilitySet('CapEff', status('000001ffffffffff')))).toEqual([]);
    expect(missingCaps(capabilitySet('CapEff', status('00000000a80425fb')))).toEqual(['CAP_NET_ADMIN', 'CAP_SYS_ADMIN']);
    expect(missingCaps(capabilitySet('CapEff', status('00000000a80435fb')))).toEqual(['CAP_SYS_ADMIN']);
    expect(() => checkIsolationPrivileges(1000, status('0000000000000000'))).toThrow(
      'run creates a network namespace and captures in it, which needs root: run it with sudo (or with CAP_NET_ADMIN, CAP_NET_RAW and CAP_SYS_ADMIN as ambient capabilities)',
    );
    expect(() => checkIsolationPrivileges(1000, status('0000000000000000', '0000000000203000'))).not.toThrow();
    // Docker's default capabilities: root, without CAP_NET_ADMIN and CAP_SYS_ADMIN.
    expect(() => checkIsolationPrivileges(0, status('00000000a80425fb'))).toThrow(
      'run creates a network namespace and captures in it, which needs CAP_NET_ADMIN and CAP_SYS_ADMIN; this root process lacks them (in a container: --cap-add NET_ADMIN --cap-add SYS_ADMIN, or --privileged)',
    );
    expect(() => checkIsolationPrivileges(0, status('00000000a80435fb'))).toThrow('which needs CAP_SYS_ADMIN; this root process lacks it');
  });

  it('quotes the command line as a shell would need it', () => {
    expect(commandLine(['python3', '-c', "print('x')", 'a b', '', 'ok=1,2'])).toBe(`python3 -c 'print('\\''x'\\'')' 'a b' '' ok=1,2`);
  });
});

describe('run: was the capture long enough to show a first probe?', () => {
  const end = new Date('2026-11-22T10:00:03.500Z');

  it('compares the longest quiet spell with the expected or kernel idle', () => {
    const quiet = connection({ longestSilence: 2.5 });
    const [long] = idleCoverage([quiet], { idle: 1, from: 'expected' }, end);
    expect(long).toMatchObject({ side: null, longestIdle: 2.5, reference: 1, longEnough: true });
    expect(long!.message).toBe('the connection was quiet for up to 2.5 s in the capture, longer than the expected idle 1 s, so a first probe would have shown: keepalive is off on this connection (or its idle is longer than 2.5 s)');
    const [short] = idleCoverage([quiet], { idle: 7200, from: 'kernel', isolated: true }, end);
    expect(short!.longEnough).toBe(false);
    expect(short!.message).toBe(
      "the connection was quiet for at most 2.5 s in the capture, not longer than the kernel's idle 7200 s (net.ipv4.tcp_keepalive_time in the namespace): too short to show a first probe; keep it idle longer than that, or lower the namespace's idle with --kernel-idle 1s if the program relies on the system's values",
    );
    // Linux fires a little late: 1.05 s of quiet is within the tolerance of idle 1 s, so not proof.
    expect(idleCoverage([connection({ longestSilence: 1.05 })], { idle: 1, from: 'expected' }, end)[0]!.longEnough).toBe(false);
    expect(idleCoverage([connection({ longestSilence: 1.05 })], { idle: 1, from: 'expected' }, end, 'any', { absolute: 0.01 })[0]!.longEnough).toBe(true);
  });

  it('counts the quiet tail of a connection still open when the capture ended', () => {
    expect(longestIdle(connection({ closedBy: null, longestSilence: 0.2 }), end)).toBeCloseTo(0.5, 6);
    expect(longestIdle(connection({ closedBy: 'fin', longestSilence: 0.2 }), end)).toBe(0.2);
  });

  it('only for the sides asked about', () => {
    const clientProbes = connection({ keepalive: { client: settings(), server: null } });
    expect(idleCoverage([clientProbes], { idle: 1, from: 'expected' }, end)).toEqual([]);
    expect(idleCoverage([clientProbes], { idle: 1, from: 'expected' }, end, 'client')).toEqual([]);
    expect(idleCoverage([clientProbes], { idle: 1, from: 'expected' }, end, 'server').map((c) => c.side)).toEqual(['server']);
  });
});

describe.skipIf(!built)('run without root (as nobody)', () => {
  it.skipIf(!isRoot)('says it needs root in one line, exit status 2, and makes nothing', async () => {
    const r = await keepaliveRun(['--expect-idle', '1s', '--', 'true'], { uid: 65534, cwd: '/' });
    expect(r.stderr).toBe('keepalive: run creates a network namespace and captures in it, which needs root: run it with sudo (or with CAP_NET_ADMIN, CAP_NET_RAW and CAP_SYS_ADMIN as ambient capabilities)\n');
    expect(r.status).toBe(2);
    expectNoNamespaceOf(r.pid);
  });

  it('a usage error is one line, exit status 2', async () => {
    const r = await keepaliveRun(['--junit', join(dir, 'never.xml'), '--', 'true']);
    expect(r.stderr).toBe('keepalive: --junit: give an expectation too (--expect-idle, --expect-interval, --expect-count, --expect-user-timeout or --expect-keepalive)\n');
    expect(r.status).toBe(2);
    expect(existsSync(join(dir, 'never.xml'))).toBe(false);
  });
});

describe.skipIf(!canRun || !built).concurrent('keepalive run, for real (root)', () => {
  it('(1, 6) a program that sets idle 1 s itself passes --expect-idle 1s; JUnit and the capture are written', async ({ expect }) => {
    const junit = join(dir, 'own.xml');
    const pcap = join(dir, 'own.pcapng');
    const r = await keepaliveRun(['--expect-idle', '1s', '--junit', junit, '-w', pcap, '--', 'python3', PAIR, 'own', '3.5']);
    expect(r.stderr).toMatch(/^keepalive run: python3 \S+keepalive_pair\.py own 3\.5 in network namespace ka-run-\d+-0 \(loopback only\); kernel keepalive there: idle \d+ s/);
    expect(r.stderr).toMatch(/\nPASS {2}127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ {2}client idle: observed [\d.]+ m?s, expected 1 s ± 10 %\n/);
    within(observedIdle(r.stderr), 1);
    expect(r.stderr).toContain('\nOK: 1 passed, 0 failed (1 connection)\n');
    expect(r.stdout.toString()).toMatch(/^connected 127\.0\.0\.1:\d+\ndone\n$/);
    expect(r.status).toBe(0);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuite name="keepalive check: python3 \S+keepalive_pair\.py own 3\.5" tests="1" failures="0"/);
    expect(xml).toMatch(/<testcase classname="keepalive\.127\.0\.0\.1:\d+ -&gt; 127\.0\.0\.1:\d+" name="client idle 1 s ± 10 %" time="0"\/>/);
    const report = await analyzeToReport([pcap]);
    expect(report.connections).toHaveLength(1);
    const c = report.connections[0]!;
    expect(c.probes.length).toBeGreaterThanOrEqual(2);
    within(c.keepalive.client?.idle, 1);
    expectNoNamespaceOf(r.pid);
  });

  it('(2) a program that never enables keepalive fails with exit status 1, and says no connection showed keepalive', async ({ expect }) => {
    const r = await keepaliveRun(['--expect-idle', '1s', '--', 'python3', PAIR, 'none', '2.5']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\nFAIL: no connection showed keepalive: neither end of the one connection python3 \S+keepalive_pair\.py none 2\.5 made sent a keepalive probe\n/);
    expect(r.stderr).toMatch(/FAIL {2}127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ {2}either side idle: no keepalive probes from either side \(verdict closed\); expected idle 1 s; the connection was quiet for up to 2\.\d+ s in the capture, longer than the expected idle 1 s, so a first probe would have shown/);
    expectNoNamespaceOf(r.pid);
  });

  it('(3) a program with SO_KEEPALIVE only probes within seconds under --kernel-idle 1s, the host untouched', async ({ expect }) => {
    const host = readFileSync('/proc/sys/net/ipv4/tcp_keepalive_time', 'utf8');
    const r = await keepaliveRun(['--kernel-idle', '1s', '--kernel-interval', '1s', '--kernel-count', '3', '--expect-idle', '1s', '--', 'python3', PAIR, 'system', '3.5']);
    expect(r.stderr).toContain('kernel keepalive there: idle 1 s, interval 1 s, 3 probes (set by --kernel-*)');
    expect(r.stderr).toMatch(/\nPASS {2}\S+ -> \S+ {2}client idle: observed [\d.]+ m?s, expected 1 s ± 10 %\n/);
    within(observedIdle(r.stderr), 1);
    expect(r.stderr).toMatch(/ALIVE {2}Alive: The client sent [3-4] keepalive probes/);
    expect(r.status).toBe(0);
    expect(readFileSync('/proc/sys/net/ipv4/tcp_keepalive_time', 'utf8')).toBe(host);
    expectNoNamespaceOf(r.pid);
  });

  it("without --kernel-idle the same program shows nothing, and the report says the capture was too short for the kernel's idle", async ({ expect }) => {
    const r = await keepaliveRun(['--expect-keepalive', '--', 'python3', PAIR, 'system', '1.2']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not longer than the kernel's idle \d+ s \(net\.ipv4\.tcp_keepalive_time in the namespace\): too short to show a first probe; keep it idle longer than that, or lower the namespace's idle with --kernel-idle 1s/);
    expect(r.stderr).toContain('FAIL: no connection showed keepalive');
  });

  it("(4) a command that exits 3 makes run exit 3; it ran as the user behind sudo", async ({ expect }) => {
    const r = await keepaliveRun(['--expect-keepalive', '--', 'sh', '-c', 'id -u; id -g; echo "$HOME"; exit 3'], { env: { SUDO_UID: '65534', SUDO_GID: '65534' }, cwd: '/' });
    expect(r.status).toBe(3);
    const home = spawnSync('getent', ['passwd', '65534'], { encoding: 'utf8' }).stdout.split(':')[5];
    expect(r.stdout.toString()).toBe(`65534\n65534\n${home ?? process.env.HOME}\n`);
    expect(r.stderr).toContain("exited with status 3 after");
    expect(r.stderr).toContain("as uid 65534");
    expect(r.stderr).toContain("\nexit status 3: the command's (it failed)\n");
    expectNoNamespaceOf(r.pid);
  });

  it('(5) SIGTERM stops the command, the report is still written, and no namespace or process remains', async ({ expect }) => {
    const report = join(dir, 'interrupted.txt');
    let sent = false;
    const r = await keepaliveRun(['--expect-idle', '1s', '-o', report, '--', 'python3', PAIR, 'own', '29.317'], {
      onStdout: (s, child) => {
        if (sent || !s.includes('connected')) return;
        sent = true;
        // Long enough for the first probe (idle 1 s), then stop keepalive as CI would.
        setTimeout(() => child.kill('SIGTERM'), 1600);
      },
    });
    expect(sent).toBe(true);
    expect(r.status).toBe(143);
    expect(r.stderr).toContain('was killed by SIGTERM (status 143)');
    expect(r.stderr).toContain('interrupted by SIGTERM: the command was stopped; the report covers what was captured');
    const text = readFileSync(report, 'utf8');
    expect(text).toMatch(/PASS {2}\S+ -> \S+ {2}client idle: observed [\d.]+ m?s/);
    within(observedIdle(text), 1);
    expect(text).toContain("exit status 143: the command's (it was killed by SIGTERM)");
    expectNoNamespaceOf(r.pid);
    expect(spawnSync('pgrep', ['-f', 'keepalive_pair.py own 29.317'], { encoding: 'utf8' }).stdout.trim()).toBe('');
  });

  it('a second signal kills a command that ignores the first; what it left is stopped too', async ({ expect }) => {
    let sent = false;
    const r = await keepaliveRun(['--', 'sh', '-c', 'trap "" TERM; echo ready; sleep 30.719; echo never'], {
      onStdout: (s, child) => {
        if (sent || !s.includes('ready')) return;
        sent = true;
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGTERM'), 500);
      },
    });
    expect(r.stdout.toString()).toBe('ready\n');
    expect(r.status).toBe(137);
    expect(r.stderr).toContain('was killed by SIGKILL (status 137)');
    expect(r.stderr).toContain('stopped one process');
    expect(spawnSync('pgrep', ['-f', 'sleep 30.719'], { encoding: 'utf8' }).stdout.trim()).toBe('');
    expectNoNamespaceOf(r.pid);
  });

  it("(7) the command's standard output passes through byte for byte, its standard input too", async ({ expect }) => {
    const r = await keepaliveRun(['--', 'python3', EMIT, '0']);
    expect(r.stdout.equals(Buffer.concat([Buffer.from(Array.from({ length: 64 }, () => [...Array(256).keys()]).flat()), Buffer.from('\r\n\x1b[31mnot a colour\x00 and no newline', 'latin1')]))).toBe(true);
    expect(r.stderr).toContain('emit_bytes: on standard error\n');
    expect(r.stderr).toContain('keepalive run: no TCP connection made by python3');
    expect(r.status).toBe(0);
    const input = Buffer.from([0, 1, 2, 255, 10, 13, 0x1b]);
    const cat = await keepaliveRun(['--', 'cat'], { input });
    expect(cat.stdout.equals(input)).toBe(true);
    expect(cat.status).toBe(0);
  });

  it('what the command leaves running in its namespace is stopped when it exits', async ({ expect }) => {
    const r = await keepaliveRun(['--', 'sh', '-c', 'sleep 299.531 & echo started']);
    expect(r.stdout.toString()).toBe('started\n');
    expect(r.stderr).toContain("stopped one process sh -c 'sleep 299.531 & echo started' left running in its namespace");
    expect(r.status).toBe(0);
    expect(spawnSync('pgrep', ['-f', 'sleep 299.531'], { encoding: 'utf8' }).stdout.trim()).toBe('');
    expectNoNamespaceOf(r.pid);
  });

  it('a command that does not exist is exit status 127, and no namespace is made', async ({ expect }) => {
    const r = await keepaliveRun(['--expect-idle', '1s', '--', 'no-such-command-here']);
    expect(r.stderr).toBe('keepalive: no-such-command-here: command not found\n');
    expect(r.status).toBe(127);
  });

  it('--no-isolate -i lo judges a service on this machine, chosen by --port', async ({ expect }) => {
    const port = String(20000 + (process.pid % 20000));
    const r = await keepaliveRun(['--no-isolate', '-i', 'lo', '--port', port, '--expect-idle', '1s', '--format', 'json', '--', 'python3', PAIR, 'own', '2.5', port]);
    expect(r.status).toBe(0);
    const json = JSON.parse(r.stderr.slice(r.stderr.indexOf('{\n'))) as { isolated: boolean; namespace: null; check: { ok: boolean; passed: number }; report: { connections: ConnectionReport[] } };
    expect(json.isolated).toBe(false);
    expect(json.namespace).toBeNull();
    expect(json.check).toMatchObject({ ok: true, passed: 1 });
    expect(json.report.connections.map((c) => c.server)).toEqual([`127.0.0.1:${port}`]);
  });
});

describe.skipIf(!canRun).concurrent('the library: runWithCapture and startRun (root)', () => {
  it('hands back the analysis, how the command ended, and the namespace it used (then removed)', async ({ expect }) => {
    const result = await runWithCapture({ command: ['python3', PAIR, 'system', '2.5'], kernel: { idle: 1, interval: 1, count: 3 }, stdio: 'ignore', settleSeconds: 0.3 });
    expect(result.exit).toMatchObject({ started: true, code: 0, signal: null, status: 0 });
    expect(result.kernel).toEqual({ idle: 1, interval: 1, count: 3 });
    expect(result.namespace).toMatch(/^ka-run-\d+-\d+$/);
    expect(namespaces()).not.toContain(result.namespace);
    const outcome = judgeRun(result, { idle: 1 });
    expect(outcome.status).toBe(0);
    expect(outcome.check!.results.map((x) => x.status)).toEqual(['pass']);
    expect(renderRunText(outcome)).toContain('OK: 1 passed, 0 failed (1 connection)');
    expect(renderRunMarkdown(outcome)).toMatch(/^### keepalive run: ✅ passed\n\n`python3 \S+ system 2\.5` · exited with status 0 after [\d.]+ m?s · namespace `ka-run-\d+-\d+` · kernel keepalive idle 1 s, interval 1 s, 3 probes \(set by --kernel-\*\)/);
    const json = JSON.parse(renderRunJson(outcome)) as { status: number; exit: { code: number }; check: { ok: boolean }; coverage: unknown[]; report: { version: number } };
    expect(json).toMatchObject({ status: 0, exit: { code: 0 }, check: { ok: true }, coverage: [], report: { version: 1 } });
  });

  it('runs the command as another user through python3 where setpriv is missing', async ({ expect }) => {
    let out = '';
    const result = await runWithCapture({
      command: ['sh', '-c', 'id -u; id -G'],
      runAs: { uid: 65534, gid: 65534, name: 'nobody' },
      dropTool: 'python3',
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: '/',
      settleSeconds: 0,
      onSpawn: (c) => c.stdout!.on('data', (d: Buffer) => (out += d.toString())),
    });
    expect(result.exit.status).toBe(0);
    expect(out).toBe('65534\n65534\n');
  });

  it('a signal before the command starts cancels the run: nothing runs, nothing is left', async ({ expect }) => {
    const h = startRun({ command: ['sh', '-c', 'echo should-not-run; exit 9'], stdio: 'ignore' });
    h.kill('SIGINT');
    const result = await h.result;
    expect(result.exit).toMatchObject({ started: false, status: 130, signal: 'SIGINT' });
    expect(result.interrupted).toBe('SIGINT');
    expect(namespaces()).not.toContain(result.namespace);
    expect(namespacePids(result.namespace!)).toEqual([]);
  });
});
