// CSV rows made in C++ (native/rows.cc) against the TypeScript that makes them (csv.ts csvRow
// of timeline.ts connectionReport): the same characters for every connection of every fixture,
// of a generated capture, and of connections whose doubles are perturbed to odd values (NaN,
// -0, huge, fractional); the numbers as JavaScript writes them; and the summary and the CSV of
// the command line the same with the rows made in C++ as without.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Analysis, analyzeCsvInOrder, analyzeInOrder, feed, type AnalyzeOptions } from '../src/analysis/analyze.js';
import { Connection } from '../src/analysis/flows.js';
import { ConnectionBatch, readConnection } from '../src/analysis/handoff.js';
import { DEFAULT_MIDDLEBOX_TIMEOUT } from '../src/analysis/lint.js';
import type { Summary } from '../src/analysis/model.js';
import { nativeTable, ROW, ROW_INFO, ROW_RULES, ROW_SEVERITIES } from '../src/analysis/native.js';
import { connectionReport } from '../src/analysis/timeline.js';
import { csvRow } from '../src/report/csv.js';
import { seconds } from '../src/report/units.js';
import { prng, tableDoubles } from '../scripts/fuzz-lib.mjs';
import { CLI, FIXTURES, ROOT } from './helpers.js';
import { tempDir } from './synth-helpers.js';

const addon = nativeTable()!;
const lib = { Analysis, feed, ConnectionBatch };

function captures(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.(pcap|pcapng)(\.gz)?$/.test(f))
    .map((f) => join(dir, f));
}

/** Every finished connection of the files, as doubles (the TypeScript table's, written by handoff.ts). */
async function connections(paths: string[]): Promise<{ doubles: Float64Array; count: number }> {
  const r = (await tableDoubles(lib, paths, false)) as { doubles: Float64Array; connections: number };
  return { doubles: r.doubles, count: r.connections };
}

interface Compared {
  rows: number;
  declined: number;
  differences: string[];
}

/**
 * csvRows over `count` connections of `doubles` against csvRow(connectionReport(...)) of each:
 * the row, the info (offset, first frame, probes, zero-window probes, findings as codes).
 */
function compare(doubles: Float64Array, count: number, middleboxTimeout = DEFAULT_MIDDLEBOX_TIMEOUT, label = ''): Compared {
  const info = new Float64Array(count * ROW_INFO);
  const rows = addon.csvRows!(doubles, count, middleboxTimeout, info);
  const out: Compared = { rows: 0, declined: 0, differences: [] };
  const conn = new Connection();
  let at = 0;
  for (let i = 0; i < count; i++) {
    const next = readConnection(doubles, at, conn);
    const report = connectionReport(conn, { middleboxTimeout }, false);
    const want = csvRow(report);
    const r = i * ROW_INFO;
    const got = rows[i];
    const say = (what: string): void => {
      if (out.differences.length < 10) out.differences.push(`${label} connection ${i}: ${what}`);
    };
    if (info[r + ROW.offset] !== at) say(`offset ${info[r + ROW.offset]} against ${at}`);
    at = next;
    if (got === undefined) {
      out.declined++;
      if (info[r + ROW.findings] !== -1) say('no row, yet findings counted');
      // Left to TypeScript only for a time isoTime writes beyond the years 0-9999 or with a
      // fraction of a second, an address word that is not 32 bits, or a role out of range.
      const plain = (t: string): boolean => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/.test(t);
      const words = [conn.a0, conn.a1, conn.a2, conn.a3, conn.b0, conn.b1, conn.b2, conn.b3].every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32);
      if (plain(report.firstTime) && plain(report.lastTime) && Number.isInteger(conn.firstSec) && Number.isInteger(conn.lastSec) && words && ['port', 'syn', 'syn-ack'].includes(report.rolesFrom)) say(`no row for ${want}`);
      continue;
    }
    out.rows++;
    if (got !== want) say(`row\n  C++: ${got}\n  TS:  ${want}`);
    const codes = Array.from(info.subarray(r + ROW.codes, r + ROW.codes + info[r + ROW.findings]!));
    const findings = codes.map((c) => `${ROW_RULES[Math.floor(c / 3)]}/${ROW_SEVERITIES[c % 3]}`);
    if (findings.join(' ') !== report.findings.map((f) => `${f.rule}/${f.severity}`).join(' ')) say(`findings ${findings.join(' ')} against ${report.findings.map((f) => `${f.rule}/${f.severity}`).join(' ')}`);
    if (!Object.is(info[r + ROW.firstFrame], report.firstFrame)) say('first frame');
    if (!Object.is(info[r + ROW.keepaliveProbes], report.probesOmitted)) say('keepalive probes');
    if (!Object.is(info[r + ROW.zeroWindowProbes], report.zeroWindowProbes)) say('zero-window probes');
  }
  return out;
}

/** The rules of the findings csvRows gives the connections. */
function firedRules(doubles: Float64Array, count: number, middleboxTimeout: number): Set<string> {
  const info = new Float64Array(count * ROW_INFO);
  addon.csvRows!(doubles, count, middleboxTimeout, info);
  const rules = new Set<string>();
  for (let i = 0; i < count; i++) for (let k = 0; k < info[i * ROW_INFO + ROW.findings]!; k++) rules.add(ROW_RULES[Math.floor(info[i * ROW_INFO + ROW.codes + k]! / 3)]!);
  return rules;
}

const ODD = [Number.NaN, -0, 0, 0.5, 1, 2.5, -1, 1e21, 1.5e21, -3.25e-7, 4.9e-324, 7200, 7200.0005, 75, 1e-6, 0.0005, 0.00049999, 99.9995, 0.9995, 1 / 3, 2 ** 53, 300, 300.1, 9, 10];

/**
 * Where the values of the connections in `doubles` are (handoff.ts's layout): every double but
 * those that give the layout its shape (how many values a ring keeps, whether beats follow,
 * whether a probe list does).
 */
function valueSlots(doubles: Float64Array, count: number): number[] {
  const slots: number[] = [];
  let at = 0;
  const ring = (): void => {
    slots.push(at); // the count of samples
    const kept = doubles[at + 1]!;
    for (let i = 0; i < kept; i++) slots.push(at + 2 + i);
    at += 2 + kept;
  };
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < 25; k++) slots.push(at + k);
    if (doubles[at + 25]! >= 0) throw new Error('a probe list: not from the table without one');
    at += 26;
    for (let side = 0; side < 2; side++) {
      for (let k = 0; k < 20; k++) slots.push(at + k);
      at += 20;
      ring();
      ring();
      ring();
      if (doubles[at++] === 0) continue;
      for (let k = 0; k < 4; k++) slots.push(at + k);
      at += 5;
      ring();
      ring();
      ring();
    }
  }
  return slots;
}

/** A copy of the connection doubles with `n` values changed to odd ones. */
function perturbed(doubles: Float64Array, count: number, rnd: ReturnType<typeof prng>, n: number): Float64Array {
  const d = doubles.slice();
  const slots = valueSlots(d, count);
  for (let i = 0; i < n; i++) {
    const k = slots[rnd.int(slots.length)]!;
    // An odd value, a nudge, another magnitude, a small count, or a factor near 1 (the
    // thresholds: 10 % of a median, 15 % jitter, 75 % quiet gaps and replies).
    const pick = rnd.int(6);
    const x = d[k]!;
    d[k] = pick === 0 ? ODD[rnd.int(ODD.length)]! : pick === 1 ? x + (rnd.int(2001) - 1000) / 1000 : pick === 2 ? x * 10 ** (rnd.int(13) - 6) : pick === 3 ? rnd.int(12) : pick === 4 ? x * (0.6 + 0.8 * rnd()) : 0;
  }
  return d;
}

/** A value near `center`: exactly it, at the 10 % bounds `near` draws, or spread by up to `spread` (relative). */
function around(rnd: ReturnType<typeof prng>, center: number, spread: number): number {
  const pick = rnd.int(8);
  if (pick === 0) return center;
  if (pick === 1) return center * 1.1;
  if (pick === 2) return center * 0.9;
  return Math.round(center * (1 + spread * (2 * rnd() - 1)) * 1e6) / 1e6;
}

/** A timing the report reads: one of the known defaults' figures, a middlebox's, or any. */
function timing(rnd: ReturnType<typeof prng>): number {
  const centers = [7200, 75, 1, 300, 0.0004, 0.5, 2, 45, 120, rnd() * 100, rnd() * 10_000];
  return centers[rnd.int(centers.length)]!;
}

/** A finished connection made up of random fields in the ranges the table gives them, its rings and beats near the thresholds the report draws. */
function randomConnection(rnd: ReturnType<typeof prng>, c: Connection): void {
  c.ipVersion = rnd.int(3) === 0 ? 6 : 4;
  const word = (): number => (rnd.int(3) === 0 ? 0 : rnd.int(2 ** 32));
  [c.a0, c.a1, c.a2, c.a3, c.b0, c.b1, c.b2, c.b3] = [word(), word(), word(), word(), word(), word(), word(), word()];
  c.aPort = rnd.int(65536);
  c.bPort = rnd.int(65536);
  c.clientIsA = rnd.int(2) === 0;
  c.rolesFrom = (['port', 'syn', 'syn-ack'] as const)[rnd.int(3)]!;
  c.firstFrame = 1 + rnd.int(1e6);
  c.lastFrame = c.firstFrame + rnd.int(1e5);
  c.firstSec = 1.7e9 + rnd.int(1e8);
  c.firstNsec = rnd.int(1e9);
  c.lastSec = c.firstSec + rnd.int(1e5);
  c.lastNsec = rnd.int(3) === 0 ? 0 : rnd.int(1e9);
  c.firstT = rnd() * 100;
  c.lastT = c.firstT + (rnd.int(4) === 0 ? 0 : rnd() * 10 ** rnd.int(6));
  c.packets = 1 + rnd.int(1e5);
  c.maxGap = rnd.int(3) === 0 ? around(rnd, 300, 0.01) : rnd() * 10 ** rnd.int(5);
  c.closedBy = ([null, 'fin', 'rst'] as const)[rnd.int(3)]!;
  c.closeT = rnd() * 100;
  for (const d of [c.dirA, c.dirB]) {
    const probing = rnd.int(3) !== 0;
    d.probes = probing ? 1 + rnd.int(12) : 0;
    d.ackedProbes = rnd.int(d.probes + 1);
    d.resetProbes = rnd.int(d.probes - d.ackedProbes + 1);
    d.fate = rnd.int(5);
    d.gaveUpAfter = rnd.int(3) === 0 ? -1 : ([9, 10, 8, 1, 3][rnd.int(5)] ?? 1);
    d.gaveUpFrame = rnd.int(1e6);
    d.maxOrdinal = rnd.int(12);
    d.probeOrdinal = rnd.int(12);
    d.emptyProbes = rnd.int(2) === 0 ? 0 : rnd.int(d.probes + 1);
    d.oneByteProbes = rnd.int(2) === 0 ? 0 : d.probes - d.emptyProbes;
    d.zeroWindowProbes = rnd.int(4) === 0 ? rnd.int(5) : 0;
    d.resetProbeFrame = rnd.int(1e6);
    d.resetReplyFrame = rnd.int(1e6);
    d.gaveUpElapsed = rnd.int(2) === 0 ? Number.NaN : rnd() * 100;
    d.lastProbeElapsed = rnd.int(2) === 0 ? Number.NaN : rnd() * 100;
    for (const ring of [d.idleSamples, d.afterAnswerSamples, d.intervalSamples]) {
      ring.clear();
      if (rnd.int(3) === 0) continue;
      const center = timing(rnd);
      const n = 1 + rnd.int(rnd.int(8) === 0 ? 300 : 6);
      for (let i = 0; i < n; i++) ring.push(around(rnd, center, 0.3 * rnd()));
    }
    d.beats = null;
    if (rnd.int(2) === 0) {
      const b = d.beatTrack;
      b.gaps.clear();
      b.sizes.clear();
      b.replySizes.clear();
      b.count = 3 + rnd.int(10);
      b.gapsSeen = b.count - 1;
      b.quietGaps = Math.max(0, Math.round(0.75 * b.gapsSeen) + rnd.int(3) - 1);
      b.replies = Math.max(0, Math.round(0.75 * b.count) + rnd.int(3) - 1);
      const period = [0.5, 0.49, 1, 30, 2.5, rnd() * 60][rnd.int(6)]!;
      // Gaps spread so that the jitter (their median distance from the median, over it) lies around 15 %.
      const spread = rnd.int(4) === 0 ? 0 : 0.3 * rnd();
      for (let i = 0; i < Math.min(b.gapsSeen, 8); i++) b.gaps.push(Math.round(period * (1 + spread * (2 * rnd() - 1)) * 1e6) / 1e6);
      for (let i = 0; i < Math.min(b.count, 8); i++) b.sizes.push(1 + rnd.int(100));
      for (let i = 0; i < Math.min(b.replies, 8); i++) b.replySizes.push(1 + rnd.int(100));
      d.beats = b;
    }
  }
}

/**
 * The CSV rows and summary of analyzeCsvInOrder (rows made in C++ where it can, released from
 * its store as buffers) or, with `inC` false, of analyzeInOrder with csvRow; `fromStore` counts
 * the buffers released by the store.
 */
async function csvInOrder(paths: string[], inC: boolean, options: AnalyzeOptions = {}): Promise<{ rows: string[]; summary: Summary; fromStore: number }> {
  const it = inC ? analyzeCsvInOrder(paths, { ...options, probeList: false }, csvRow) : analyzeInOrder(paths, { ...options, probeList: false }, csvRow);
  const rows: string[] = [];
  let fromStore = 0;
  for (;;) {
    const r = await it.next();
    if (r.done) return { rows, summary: r.value, fromStore };
    for (const x of r.value) {
      if (typeof x === 'string') rows.push(x);
      else {
        fromStore++;
        rows.push(...x.toString('utf8').split('\r\n'));
      }
    }
  }
}

describe('CSV rows made in C++', () => {
  it('write numbers as JavaScript does: String(x), x.toFixed(0 to 3), and seconds(x)', () => {
    const rnd = prng(20261203);
    const f = new Float64Array(1);
    const words = new Uint32Array(f.buffer);
    const xs = [...ODD, Infinity, -Infinity, 123456789012345680000, 1.7976931348623157e308, 1.005, 1.0005, 2.675, 0.125, 0.0625, -2.5, 0.00099995];
    for (let i = 0; i < 50_000; i++) {
      words[0] = rnd.int(2 ** 32);
      words[1] = rnd.int(2 ** 32);
      // Random bits, microseconds, halves and quarters (the ties of toFixed), and every magnitude.
      xs.push(f[0]!, rnd.int(1e9) / 1e6, rnd.int(100_000) / 2 ** rnd.int(12), (rnd.int(2001) - 1000) * 10 ** (rnd.int(40) - 20), rnd.int(1e7) / 1e4 + 0.0005);
    }
    const wrong: string[] = [];
    for (const x of xs) {
      const pairs: [string, string][] = [
        [addon.formatNumber!(x), String(x)],
        [addon.formatNumber!(x, 0), x.toFixed(0)],
        [addon.formatNumber!(x, 1), x.toFixed(1)],
        [addon.formatNumber!(x, 2), x.toFixed(2)],
        [addon.formatNumber!(x, 3), x.toFixed(3)],
        [addon.formatNumber!(x, 9), seconds(x)],
      ];
      for (const [cc, js] of pairs) if (cc !== js && wrong.length < 10) wrong.push(`${x}: ${cc} against ${js}`);
    }
    expect(wrong).toEqual([]);
    expect(xs.length).toBeGreaterThan(250_000);
  });

  const files = [...captures(FIXTURES), ...captures(join(FIXTURES, 'shared')), ...captures(join(FIXTURES, 'malformed'))];
  it('every connection of every fixture: the row csvRow writes, character for character, and its findings', async () => {
    let rows = 0;
    const differences: string[] = [];
    const rules = new Set<string>();
    for (const file of files) {
      const { doubles, count } = await connections([file]);
      for (const middlebox of [DEFAULT_MIDDLEBOX_TIMEOUT, 0.5]) {
        const c = compare(doubles, count, middlebox, `${file.slice(FIXTURES.length + 1)} (middlebox ${middlebox} s)`);
        differences.push(...c.differences);
        // A recorded capture's rows are all made in C++ (a malformed one's times may lie beyond the calendar).
        if (!file.includes('malformed')) expect(c.declined).toBe(0);
        rows += c.rows;
      }
      for (const rule of firedRules(doubles, count, 0.5)) rules.add(rule);
    }
    expect(differences).toEqual([]);
    expect(rows).toBeGreaterThan(100);
    // The rules the recordings make fire (no one left the OS defaults of two hours idle on).
    expect([...rules].sort()).toEqual(ROW_RULES.filter((r) => r !== 'os-defaults').sort());
  }, 120_000);

  it('connections with odd values in their doubles: the same row, or none (left to TypeScript)', async () => {
    const rnd = prng(7);
    const all = await Promise.all(captures(FIXTURES).map((f) => connections([f])));
    let rows = 0;
    let declined = 0;
    const differences: string[] = [];
    const rules = new Set<string>();
    for (let round = 0; round < 6000; round++) {
      const { doubles, count } = all[rnd.int(all.length)]!;
      if (count === 0) continue;
      const odd = perturbed(doubles, count, rnd, 1 + rnd.int(6));
      const middlebox = round % 2 === 0 ? DEFAULT_MIDDLEBOX_TIMEOUT : 0.5;
      const c = compare(odd, count, middlebox, `round ${round}`);
      for (const rule of firedRules(odd, count, middlebox)) rules.add(rule);
      differences.push(...c.differences);
      rows += c.rows;
      declined += c.declined;
    }
    expect(differences).toEqual([]);
    expect([...rules].sort()).toEqual([...ROW_RULES].sort());
    expect(rows).toBeGreaterThan(2000);
    // Some perturbations are beyond what C++ writes (a fractional second, say), most are not.
    expect(declined).toBeGreaterThan(0);
    expect(declined).toBeLessThan(rows / 4);
  }, 120_000);

  it('20,000 connections made up of random fields, near every threshold the report draws: the same rows', () => {
    const rnd = prng(99);
    const batch = new ConnectionBatch();
    const c = new Connection();
    for (let i = 0; i < 20_000; i++) {
      randomConnection(rnd, c);
      batch.add(c);
    }
    const { doubles } = batch.take();
    const differences: string[] = [];
    let rows = 0;
    const rules = new Set<string>();
    for (const middlebox of [DEFAULT_MIDDLEBOX_TIMEOUT, 60]) {
      const r = compare(doubles, 20_000, middlebox, `middlebox ${middlebox} s`);
      differences.push(...r.differences);
      rows += r.rows;
      expect(r.declined).toBe(0);
      for (const rule of firedRules(doubles, 20_000, middlebox)) rules.add(rule);
    }
    expect(differences).toEqual([]);
    expect(rows).toBe(40_000);
    expect([...rules].sort()).toEqual([...ROW_RULES].sort());
    // Into a row store (a batch this long is made on two threads), released in order of first frame.
    const store = addon.rowStore!();
    const info = new Float64Array(20_000 * ROW_INFO);
    addon.csvRows!(doubles, 20_000, DEFAULT_MIDDLEBOX_TIMEOUT, info, store);
    expect(addon.storedRows!(store)).toBe(20_000);
    const conn = new Connection();
    const want: { frame: number; row: string }[] = [];
    for (let i = 0, at = 0; i < 20_000; i++) {
      at = readConnection(doubles, at, conn);
      const report = connectionReport(conn, { middleboxTimeout: DEFAULT_MIDDLEBOX_TIMEOUT }, false);
      want.push({ frame: report.firstFrame, row: csvRow(report) });
    }
    want.sort((a, b) => a.frame - b.frame);
    const half = want[10_000]!.frame;
    const early = addon.releaseRows!(store, half)!.toString('utf8').split('\r\n');
    const late = addon.releaseRows!(store, Number.POSITIVE_INFINITY)!.toString('utf8').split('\r\n');
    expect(addon.storedRows!(store)).toBe(0);
    expect(addon.releaseRows!(store, Number.POSITIVE_INFINITY)).toBeNull();
    expect([...early, ...late]).toEqual(want.map((w) => w.row));
    expect(early.length).toBe(want.filter((w) => w.frame < half).length);
  });

  it('every fixture: the same rows in the same order and the same summary from analyzeCsvInOrder (rows from C++, and from TypeScript for those it leaves) as from analyzeInOrder', async () => {
    let stored = 0;
    let rows = 0;
    for (const file of files) {
      for (const options of [{}, { middleboxTimeout: 0.5 }]) {
        let cc: Awaited<ReturnType<typeof csvInOrder>> | string;
        let js: Awaited<ReturnType<typeof csvInOrder>> | string;
        // A capture that ends in an error: the same error either way.
        try {
          cc = await csvInOrder([file], true, options);
        } catch (err) {
          cc = String(err);
        }
        try {
          js = await csvInOrder([file], false, options);
        } catch (err) {
          js = String(err);
        }
        if (typeof cc === 'string' || typeof js === 'string') {
          expect([file, cc]).toEqual([file, js]);
          continue;
        }
        expect([file, cc.rows]).toEqual([file, js.rows]);
        expect([file, cc.summary]).toEqual([file, js.summary]);
        stored += cc.fromStore;
        rows += cc.rows.length;
      }
    }
    expect(stored).toBeGreaterThan(50);
    expect(rows).toBeGreaterThan(100);
  }, 120_000);

  it('a generated capture of 3,000 connections: the same summary (findings and their examples) and the same CSV from the command line', async () => {
    const dir = tempDir();
    const file = join(dir, 'bench-60k.pcap');
    execFileSync(process.execPath, [join(ROOT, 'scripts/bench-capture.mjs'), file, '--packets', '60000', '--connections', '3000', '--seed', '11'], { stdio: 'pipe' });
    const { doubles, count } = await connections([file]);
    expect(count).toBe(3000);
    const c = compare(doubles, count);
    expect(c.differences).toEqual([]);
    expect(c.rows).toBe(3000);
    const [cc, js] = [await csvInOrder([file], true), await csvInOrder([file], false)];
    expect(cc.fromStore).toBeGreaterThan(0);
    expect(js.fromStore).toBe(0);
    expect(cc.rows).toEqual(js.rows);
    expect(cc.summary).toEqual(js.summary);
    expect(cc.summary.findings.length).toBeGreaterThanOrEqual(2);
    const csv = (env: NodeJS.ProcessEnv, ...args: string[]) =>
      spawnSync(process.execPath, [CLI, 'analyze', file, '--format', 'csv', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 28 });
    for (const args of [[], ['--middlebox-timeout', '20s']]) {
      const want = csv({ KEEPALIVE_NATIVE_ROWS: '0' }, ...args);
      expect(want.status).toBe(0);
      expect(want.stdout.split('\r\n')).toHaveLength(3002);
      expect(csv({}, ...args).stdout).toBe(want.stdout);
      expect(csv({ KEEPALIVE_NATIVE: '0' }, ...args).stdout).toBe(want.stdout);
    }
  }, 120_000);
});
