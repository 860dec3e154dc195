// The connection table in C++ (native/table.cc, src/analysis/native.ts) against flows.ts's
// Tracker: every finished connection, every field of it, in the same order, with the same
// counts, on every capture fixture, a generated capture of 3,000 connections and thousands of
// fuzzed mutants; and the CSV the command line writes, byte for byte. The C++ table is a
// second implementation of the same rules, so it may never say anything the first does not.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { Analysis, feed } from '../src/analysis/analyze.js';
import { ConnectionBatch, readConnection } from '../src/analysis/handoff.js';
import { Connection } from '../src/analysis/flows.js';
import { connectionReport } from '../src/analysis/timeline.js';
import { csvRow } from '../src/report/csv.js';
import { nativeTable } from '../src/analysis/native.js';
// Plain JavaScript, shared with scripts/fuzz.mjs.
import { firstDifference, mutate, prng, rowsDifference, tableDoubles } from '../scripts/fuzz-lib.mjs';
import { CLI, FIXTURES, ROOT } from './helpers.js';
import { tempDir } from './synth-helpers.js';

interface TableRun {
  native: boolean;
  /** Every finished connection as handoff.ts writes it, in the order the table finished them. */
  doubles: Float64Array;
  connections: number;
  /** Keepalive and zero-window probes of the finished connections (not counted when written as doubles). */
  probes: number;
  zeroWindowProbes: number;
  summary?: unknown;
  error?: string;
}

const lib = { Analysis, feed, ConnectionBatch, Connection, readConnection, connectionReport, csvRow };

/** The table alone over the capture files (fuzz-lib's tableDoubles). */
function tableRun(paths: string[], native: boolean | 'table' | 'read' | 'map', asDoubles = false): Promise<TableRun> {
  return tableDoubles(lib, paths, native, asDoubles) as Promise<TableRun>;
}

/** Does the file (once gunzipped) start with a classic pcap magic (either resolution, either byte order)? */
function isClassicPcap(file: string): boolean {
  const bytes = file.endsWith('.gz') ? gunzipSync(readFileSync(file)) : readFileSync(file);
  return bytes.length >= 4 && [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(bytes.readUInt32LE(0));
}

function captures(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.(pcap|pcapng)(\.gz)?$/.test(f))
    .map((f) => join(dir, f));
}

afterEach(() => {
  delete process.env['KEEPALIVE_NATIVE'];
});

describe('the C++ connection table', () => {
  it('is built (npm ci builds it with node-gyp; without it every analysis uses flows.ts)', () => {
    expect(existsSync(join(ROOT, 'build', 'Release', 'keepalive_table.node'))).toBe(true);
    expect(nativeTable()).not.toBeNull();
    process.env['KEEPALIVE_NATIVE'] = '0';
    expect(nativeTable()).toBeNull();
  });

  const files = [...captures(FIXTURES), ...captures(join(FIXTURES, 'shared')), ...captures(join(FIXTURES, 'malformed'))];
  it.each(files.map((f) => [f.slice(FIXTURES.length + 1), f] as const))('%s: the same connections as flows.ts, field for field', async (_name, file) => {
    const js = await tableRun([file], false);
    const cc = await tableRun([file], true);
    expect(js.native).toBe(false);
    expect(cc.native).toBe(true);
    expect(firstDifference(cc, js)).toBeNull();
    // Written as doubles straight into the batch (the report thread's path): the same doubles.
    const raw = await tableRun([file], true, true);
    expect(firstDifference({ ...raw, probes: cc.probes, zeroWindowProbes: cc.zeroWindowProbes }, js)).toBeNull();
    // The C++ table fed by the JavaScript reader and decoder (KEEPALIVE_NATIVE=table): the same again.
    const fed = await tableRun([file], 'table');
    expect(fed.native).toBe(true);
    expect(fed.nativeFrames).toBe(0);
    expect(firstDifference(fed, js)).toBeNull();
    // Only classic pcap (gzip'd or not) is read by C++ itself.
    if (!isClassicPcap(file)) expect(cc.nativeFrames).toBe(0);
    // Mapped and read on a thread of the table's own, in windows of 4 KiB (records cross their
    // ends), and on this thread only: the same again.
    const map = await tableRun([file], 'map');
    expect(firstDifference(map, js)).toBeNull();
    expect(map.nativeFrames).toBe(cc.nativeFrames);
    expect(firstDifference(await tableRun([file], 'map', true), js)).toBeNull();
    expect(firstDifference(await tableRun([file], 'read'), js)).toBeNull();
  });

  it('reads the classic pcap fixtures itself, all but the first frame of each read and what the JavaScript reader has a word about', async () => {
    const classic = files.filter(isClassicPcap);
    expect(classic.length).toBeGreaterThan(10);
    let packets = 0;
    let nativeFrames = 0;
    for (const f of classic) {
      const r = await tableRun([f], true);
      // A file that ends in an error has no summary: its frames before the error were read all the same.
      if (r.summary === undefined) continue;
      const n = (r.summary as { packets: number }).packets;
      expect(r.nativeFrames).toBeLessThanOrEqual(n);
      packets += n;
      nativeFrames += r.nativeFrames;
    }
    expect(nativeFrames).toBeGreaterThan(0.9 * packets);
  });

  it('the recorded fixtures hold what the comparison needs to mean something', async () => {
    // Keepalive probes, zero-window probes and copies from two interfaces all occur.
    const all = await Promise.all(captures(FIXTURES).map((f) => tableRun([f], true)));
    expect(all.every((r) => r.native)).toBe(true);
    expect(all.reduce((n, r) => n + r.probes, 0)).toBeGreaterThan(100);
    expect(all.reduce((n, r) => n + r.zeroWindowProbes, 0)).toBeGreaterThan(0);
    expect(all.reduce((n, r) => n + r.connections, 0)).toBeGreaterThan(30);
    expect(all.some((r) => (r.summary as { warnings: string[] } | undefined)?.warnings.some((w) => /came a second time/.test(w)))).toBe(true);
  });

  it('a generated capture of 3,000 connections: the same connections, and the same CSV from the command line', async () => {
    const dir = tempDir();
    const file = join(dir, 'bench-60k.pcap');
    execFileSync(process.execPath, [join(ROOT, 'scripts/bench-capture.mjs'), file, '--packets', '60000', '--connections', '3000', '--seed', '7'], { stdio: 'pipe' });
    const js = await tableRun([file], false);
    const cc = await tableRun([file], true);
    expect(cc.native).toBe(true);
    expect(cc.connections).toBe(3000);
    expect(firstDifference(cc, js)).toBeNull();
    expect(cc.nativeFrames).toBeGreaterThan(59_000);
    expect(firstDifference(await tableRun([file], 'table'), js)).toBeNull();
    expect(firstDifference(await tableRun([file], 'map'), js)).toBeNull();
    expect(firstDifference(await tableRun([file], 'read'), js)).toBeNull();
    const raw = await tableRun([file], true, true);
    expect(raw.connections).toBe(3000);
    expect(Array.from(raw.doubles)).toEqual(Array.from(js.doubles));
    const csv = (env: NodeJS.ProcessEnv, ...args: string[]) =>
      spawnSync(process.execPath, [CLI, 'analyze', file, '--format', 'csv', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 28 });
    const one = csv({ KEEPALIVE_NATIVE: '0' });
    expect(one.status).toBe(0);
    expect(one.stdout.split('\r\n')).toHaveLength(3002);
    expect(csv({}).stdout).toBe(one.stdout);
    expect(csv({}, '--jobs', '2').stdout).toBe(one.stdout);
    expect(csv({ KEEPALIVE_NATIVE: 'table' }).stdout).toBe(one.stdout);
    expect(csv({ KEEPALIVE_NATIVE: 'read' }).stdout).toBe(one.stdout);
    expect(csv({ KEEPALIVE_NATIVE: 'map' }).stdout).toBe(one.stdout);
    expect(csv({ KEEPALIVE_NATIVE: 'map' }, '--jobs', '2').stdout).toBe(one.stdout);
    expect(csv({}, '--port', '443').stdout).toBe(csv({ KEEPALIVE_NATIVE: '0' }, '--port', '443').stdout);
  }, 120_000);

  it('a mapped file that another program cuts shorter while it is read: the frames before the cut, and the cut said, as the TypeScript reader says of the file left', async () => {
    const dir = tempDir();
    const file = join(dir, 'shrinks.pcap');
    execFileSync(process.execPath, [join(ROOT, 'scripts/bench-capture.mjs'), file, '--packets', '60000', '--connections', '3000', '--seed', '7'], { stdio: 'pipe' });
    const whole = statSync(file).size;
    // Inside a record, well after where the reading stands when the first connection ends (the
    // reading thread is at most five 4 KiB windows ahead of the reports).
    const cut = Math.floor(whole * 0.6) + 3;
    process.env['KEEPALIVE_NATIVE'] = 'map';
    let cutAt = -1;
    const analysis = new Analysis({ probeList: false }, undefined, () => {
      if (cutAt >= 0) return;
      cutAt = analysis.nativeFrames;
      truncateSync(file, cut);
    });
    delete process.env['KEEPALIVE_NATIVE'];
    const it = feed([file], { probeList: false }, analysis);
    let summary: { packets: number; warnings: string[] } | undefined;
    for (;;) {
      const r = await it.next();
      if (r.done) {
        summary = r.value.summary as typeof summary;
        break;
      }
    }
    expect(cutAt).toBeGreaterThan(0);
    expect(cutAt).toBeLessThan(30_000);
    expect(analysis.nativeFrames).toBeGreaterThan(cutAt);
    const left = await tableRun([file], false);
    const leftSummary = left.summary as { packets: number; warnings: string[] };
    expect(leftSummary.packets).toBeLessThan(60_000);
    expect(leftSummary.warnings.join('\n')).toMatch(/cut short inside a record/);
    expect(summary).toEqual(leftSummary);
  });

  it('3,000 fuzzed mutants of the fixtures: the same connections, or the same error at the same byte', async () => {
    const inputs = captures(FIXTURES).filter((f) => !f.endsWith('.gz')).map((f) => ({ name: f, bytes: readFileSync(f) }));
    const rnd = prng(20261202);
    const outcomes = { same: 0, errors: 0, connections: 0, nativeFrames: 0, mappedFrames: 0 };
    const dir = tempDir();
    const differences: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const input = inputs[rnd.int(inputs.length)]!;
      const m = mutate(input.bytes, rnd) as { name: string; bytes: Buffer };
      const js = await tableDoubles(lib, m.bytes, false);
      const cc = await tableDoubles(lib, m.bytes, true);
      expect([cc.native, js.native]).toEqual([true, false]);
      const d = firstDifference(cc, js) ?? rowsDifference(lib, nativeTable(), js.doubles, js.connections, i % 2 === 0 ? 300 : 1);
      if (d !== null) differences.push(`${input.name} ${m.name}: ${d}`);
      else outcomes.same++;
      outcomes.nativeFrames += cc.nativeFrames;
      // One in four also through the C++ table fed by the JavaScript decoder, one in ten from a
      // file, mapped and read on the table's own thread (standard input is never mapped).
      if (i % 4 === 0) {
        const fed = firstDifference(await tableDoubles(lib, m.bytes, 'table'), js);
        if (fed !== null) differences.push(`${input.name} ${m.name} (KEEPALIVE_NATIVE=table): ${fed}`);
      }
      if (i % 10 === 0) {
        const path = join(dir, 'mutant.pcap');
        writeFileSync(path, m.bytes);
        const [fromFile, mapped] = [await tableDoubles(lib, [path], false), await tableDoubles(lib, [path], 'map')];
        const d2 = firstDifference(mapped, fromFile);
        if (d2 !== null) differences.push(`${input.name} ${m.name} (KEEPALIVE_NATIVE=map): ${d2}`);
        outcomes.mappedFrames += mapped.nativeFrames;
      }
      if (js.error !== undefined) outcomes.errors++;
      outcomes.connections += js.connections;
    }
    expect(differences).toEqual([]);
    // The mutants reach the table (connections) and the readers (errors).
    expect(outcomes.connections).toBeGreaterThan(3000);
    expect(outcomes.errors).toBeGreaterThan(300);
    // And C++ read the bytes of many of them itself.
    expect(outcomes.nativeFrames).toBeGreaterThan(10_000);
    expect(outcomes.mappedFrames).toBeGreaterThan(1_000);
    // And their CSV rows made in C++ were compared with csvRow's.
    expect(rowsDifference.made).toBeGreaterThan(2_000);
  }, 300_000);
});
