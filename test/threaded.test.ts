// Reports on a second thread (src/analysis/threaded.ts): the connection handed over as doubles
// must come back field for field, and the rows must be the bytes the one-thread run writes, in
// the same order, with the same summary and the same failure for a file that cannot be read.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SampleRing } from '../src/analysis/bounded.js';
import { Connection, Direction, type ProbeRecord } from '../src/analysis/flows.js';
import { ConnectionBatch, readConnection } from '../src/analysis/handoff.js';
import { HeadTail } from '../src/analysis/bounded.js';
import { reportOnThread, THREAD_MIN_BYTES } from '../src/analysis/threaded.js';
import { BeatTrack } from '../src/analysis/heartbeat.js';
import { CLI, FIXTURES, ROOT } from './helpers.js';
import { tempDir } from './synth-helpers.js';

/**
 * The fields that are neither numbers, booleans, rings nor tracks: the test sets each one itself
 * (below). A field of another kind added to Connection, Direction or BeatTrack fails the test
 * until it is carried by handoff.ts and named here.
 */
const SET_BY_HAND = new Set(['rolesFrom', 'probes', 'closedBy', 'clientName', 'serverName', 'dirA', 'dirB', 'beats']);

/** Every own field of `o` set to a value no other field has (rings get `seed`-dependent samples). */
function fillDistinct(o: object, seed: { n: number }): void {
  for (const key of Object.keys(o)) {
    const v = (o as Record<string, unknown>)[key];
    const set = (x: unknown) => ((o as Record<string, unknown>)[key] = x);
    if (typeof v === 'number') set(++seed.n + 0.25);
    else if (typeof v === 'boolean') set(!v);
    else if (v instanceof SampleRing) for (let i = 0; i < 3 + (seed.n % 5); i++) v.push(++seed.n / 7);
    else if (v instanceof BeatTrack) fillDistinct(v, seed);
    else if (!SET_BY_HAND.has(key)) throw new Error(`field ${key} (${typeof v}) is not filled by this test: carry it in handoff.ts and set it here`);
  }
}

/** What a report can read of a ring: its count, size, median and spread. */
function ringView(r: SampleRing): number[] {
  return [r.count, r.size, r.median(), r.medianDistance(r.median())];
}

/**
 * Every field of the object, rings as ringView, nested tracks and lists opened up; a direction's
 * `beatTrack` is only the storage `beats` points to when set, and is compared through it.
 */
function view(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(o)) {
    if (key === 'beatTrack') continue;
    const v = (o as Record<string, unknown>)[key];
    if (v instanceof SampleRing) out[key] = ringView(v);
    else if (v instanceof BeatTrack || v instanceof Direction) out[key] = view(v);
    else if (v instanceof HeadTail) out[key] = { items: v.items(), omitted: v.omitted, total: v.total };
    else out[key] = v;
  }
  return out;
}

function probe(i: number, reply: ProbeRecord['reply']): ProbeRecord {
  return { frame: 10 + i, tsSec: 1_700_000_000 + i, tsNsec: 123 + i, t: i + 0.5, fromA: i % 2 === 0, seq: 4_000_000_000 + i, payloadBytes: i % 2, sinceLastActivity: i === 0 ? null : i * 1.5, ordinal: i + 1, reply, replyFrame: i === 0 ? 0 : 20 + i, replyT: i + 0.75 };
}

describe('hand-off of a finished connection', () => {
  it('carries every field of Connection and Direction, the rings, the heartbeat tracks and the probe list', () => {
    const seed = { n: 0 };
    const c = new Connection();
    fillDistinct(c, seed);
    fillDistinct(c.dirA, seed);
    fillDistinct(c.dirB, seed);
    c.ipVersion = 6;
    c.rolesFrom = 'syn-ack';
    c.closedBy = 'rst';
    c.dirA.beats = c.dirA.beatTrack;
    c.dirB.beats = null;
    // 1,203 probes: the first 500 and the last 500 kept, 203 counted only.
    const probes = new HeadTail<ProbeRecord>();
    for (let i = 0; i < 1203; i++) probes.push(probe(i, (['none', 'ack', 'rst'] as const)[i % 3]!));
    c.probes = probes;
    // The fields that are not data: name caches, made again from the addresses.
    c.clientName = null;
    c.serverName = null;

    const batch = new ConnectionBatch(64);
    batch.add(new Connection());
    batch.add(c);
    expect(batch.count).toBe(2);
    expect(batch.firstFrame).toBe(0);
    const { doubles, length } = batch.take();
    expect(batch.count).toBe(0);
    const back = [new Connection(), new Connection()];
    let at = 0;
    for (const b of back) at = readConnection(doubles, at, b);
    expect(at).toBe(length);
    // The 1,000 probe records (12 doubles each) made the buffer grow from its first 64 doubles.
    expect(length).toBeGreaterThan(12_000);
    expect(doubles.length).toBeGreaterThan(64);
    expect(view(back[0]!)).toEqual(view(new Connection()));
    expect(view(back[1]!)).toEqual(view(c));
    expect(back[1]!.probes.omitted).toBe(203);
    expect(back[1]!.probes.items()).toHaveLength(1000);
    // Every number filled in differs from every other, so no two fields can have been swapped.
    const numbers = JSON.stringify(view(c)).match(/-?\d+\.25\b/g)!;
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(numbers.length).toBeGreaterThan(60);
  });
});

interface Threaded {
  analyzeInOrderOnThread: (paths: string[], options: object, rows: object, ordered?: boolean) => AsyncGenerator<Buffer[], unknown>;
}
interface Serial {
  analyzeInOrder: (paths: string[], options: object, render: (r: unknown) => string) => AsyncGenerator<string[], unknown>;
  analyze: (paths: string[], options: object) => AsyncGenerator<unknown, unknown>;
}

/** `analyze`'s reports as JSON lines, one batch each (what --format jsonl writes on one thread). */
async function* jsonLines(it: AsyncGenerator<unknown, unknown>): AsyncGenerator<string[], unknown> {
  for (;;) {
    const r = await it.next();
    if (r.done) return r.value;
    yield [JSON.stringify(r.value)];
  }
}

/** Rows and summary of an in-order analysis, or the message it failed with. */
async function run(it: AsyncGenerator<(string | Buffer)[], unknown>): Promise<{ rows: string[]; batches: number; summary: unknown } | { error: string }> {
  const rows: string[] = [];
  let batches = 0;
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) return { rows, batches, summary: r.value };
      if (r.value.length > 0) batches++;
      for (const x of r.value) rows.push(typeof x === 'string' ? x : x.toString('utf8'));
    }
  } catch (err) {
    return { error: String(err) };
  }
}

/** The rows an analysis yields until it fails, and its error (null: it did not fail). */
async function untilError(it: AsyncGenerator<(string | Buffer)[], unknown>): Promise<{ rows: string[]; error: string | null }> {
  const rows: string[] = [];
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) return { rows, error: null };
      for (const x of r.value) rows.push(typeof x === 'string' ? x : x.toString('utf8'));
    }
  } catch (err) {
    return { rows, error: String(err) };
  }
}

// The built modules: the report thread runs dist/report/worker.js.
const dist = (p: string) => pathToFileURL(join(ROOT, 'dist', p)).href;
type Render = (r: unknown) => string;
async function paths(): Promise<{ threaded: Threaded; serial: Serial; csvRow: Render; jsonConnection: Render; textConnection: (o: { color: boolean }) => Render }> {
  const threaded = (await import(dist('analysis/threaded.js'))) as Threaded;
  const serial = (await import(dist('analysis/analyze.js'))) as Serial;
  const { csvRow } = (await import(dist('report/csv.js'))) as { csvRow: Render };
  const { jsonConnection } = (await import(dist('report/json.js'))) as { jsonConnection: Render };
  const { textConnection } = (await import(dist('report/text.js'))) as { textConnection: (o: { color: boolean }) => Render };
  return { threaded, serial, csvRow, jsonConnection, textConnection };
}

/** The bench generator's capture of 60,000 packets over 3,000 connections (made once). */
let benchFile: string | null = null;
function benchCapture(): string {
  if (benchFile !== null) return benchFile;
  const file = join(tempDir(), 'bench.pcap');
  execFileSync(process.execPath, [join(ROOT, 'scripts/bench-capture.mjs'), file, '--packets', '60000', '--connections', '3000', '--seed', '11'], { stdio: 'pipe' });
  return (benchFile = file);
}

describe('reports on a second thread', () => {
  it('are made there when asked (--jobs), and by default for text, json and jsonl of THREAD_MIN_BYTES, never for CSV or standard input', () => {
    const dir = tempDir();
    const small = join(dir, 'small.pcap');
    const big = join(dir, 'big.pcap');
    writeFileSync(small, Buffer.alloc(24));
    writeFileSync(big, '');
    truncateSync(big, THREAD_MIN_BYTES); // sparse: the size is all that is read
    const text = { format: 'text', color: false } as const;
    expect(reportOnThread([small], 2, { format: 'csv' })).toBe(true);
    expect(reportOnThread([big], 1, text)).toBe(false);
    expect(reportOnThread([small], undefined, text)).toBe(false);
    // By default only where there is a second core.
    const twoCores = availableParallelism() >= 2;
    expect(reportOnThread([big], undefined, text)).toBe(twoCores);
    expect(reportOnThread([big, small], undefined, { format: 'json' })).toBe(twoCores);
    expect(reportOnThread([big], undefined, { format: 'jsonl' })).toBe(twoCores);
    expect(reportOnThread([big], undefined, { format: 'csv' })).toBe(false);
    expect(reportOnThread([big, '-'], undefined, text)).toBe(false);
    expect(reportOnThread([join(dir, 'missing.pcap'), big], undefined, text)).toBe(false);
  });

  it('writes the bytes the one-thread run writes for every fixture, CSV, JSON, text and JSON lines, failures included', async () => {
    const { threaded, serial, csvRow, jsonConnection, textConnection } = await paths();
    const files = (readdirSync(FIXTURES, { recursive: true }) as string[])
      .filter((f) => /\.(pcap|pcapng|gz)$/.test(f))
      .map((f) => join(FIXTURES, f));
    expect(files.length).toBeGreaterThan(40);
    let failures = 0;
    let rows = 0;
    for (const file of files) {
      for (const [spec, render, probeList] of [
        [{ format: 'csv' }, csvRow, false],
        [{ format: 'json' }, jsonConnection, true],
        [{ format: 'text', color: true }, textConnection({ color: true }), true],
      ] as const) {
        const format = spec.format;
        const one = await run(serial.analyzeInOrder([file], { probeList }, render));
        const two = await run(threaded.analyzeInOrderOnThread([file], {}, spec));
        expect(two, `${file} ${format}`).toEqual({ ...one, ...('batches' in one && 'batches' in two ? { batches: two.batches } : {}) });
        if ('error' in one) failures++;
        else rows += one.rows.length;
      }
      // JSON lines come as their connections end, not in order of first frame.
      const one = await run(jsonLines(serial.analyze([file], {})));
      const two = await run(threaded.analyzeInOrderOnThread([file], {}, { format: 'jsonl' }, false));
      expect('error' in two ? two : { rows: two.rows, summary: two.summary }, `${file} jsonl`).toEqual('error' in one ? one : { rows: one.rows, summary: one.summary });
    }
    // The malformed corpus fails the same way on both paths; the rest give rows.
    expect(failures).toBeGreaterThan(2);
    expect(rows).toBeGreaterThan(100);
  }, 120_000);

  it('keeps order and counts over many batches, with selections, on a bench capture of 60,000 packets and 3,000 connections', async () => {
    const { threaded, serial, csvRow, jsonConnection } = await paths();
    const file = benchCapture();
    // A client address of the capture, for --host.
    const all = await run(serial.analyzeInOrder([file], { probeList: false }, csvRow));
    if (!('rows' in all)) throw new Error(all.error);
    const host = all.rows[0]!.split(',')[0]!.replace(/:\d+$/, '');
    for (const options of [{}, { port: 443 }, { host }]) {
      const one = await run(serial.analyzeInOrder([file], { ...options, probeList: false }, csvRow));
      const two = await run(threaded.analyzeInOrderOnThread([file], options, { format: 'csv' }));
      if (!('rows' in one) || !('rows' in two)) throw new Error(`failed: ${JSON.stringify([one, two])}`);
      expect(two.rows.length).toBe(one.rows.length);
      expect(two.rows).toEqual(one.rows);
      expect(two.summary).toEqual(one.summary);
      expect(one.rows.length).toBeGreaterThan('port' in options ? 10 : 'host' in options ? 0 : 2999);
      expect(one.rows.length).toBeLessThanOrEqual('host' in options || 'port' in options ? 2999 : 3000);
    }
    {
      const one = await run(serial.analyzeInOrder([file], { host }, jsonConnection));
      const two = await run(threaded.analyzeInOrderOnThread([file], { host }, { format: 'json' }));
      if (!('rows' in one) || !('rows' in two)) throw new Error(`failed: ${JSON.stringify([one, two])}`);
      expect(two.rows).toEqual(one.rows);
      expect(two.summary).toEqual(one.summary);
    }
    // JSON lines in the order connections end, across batches.
    const one = await run(jsonLines(serial.analyze([file], {})));
    const two = await run(threaded.analyzeInOrderOnThread([file], {}, { format: 'jsonl' }, false));
    if (!('rows' in one) || !('rows' in two)) throw new Error(`failed: ${JSON.stringify([one, two])}`);
    expect(two.rows).toEqual(one.rows);
    expect(two.summary).toEqual(one.summary);
    const firstFrames = one.rows.map((l) => (JSON.parse(l) as { firstFrame: number }).firstFrame);
    expect(firstFrames).not.toEqual([...firstFrames].sort((x, y) => x - y));
  }, 60_000);

  it('fails mid-file with the error of the one-thread run, after batches went over', async () => {
    const { threaded, serial, csvRow } = await paths();
    // A record length past any frame, near the end of the bench capture (frame 55,001).
    const bytes = readFileSync(benchCapture());
    let at = 24;
    for (let i = 0; i < 55_000; i++) at += 16 + bytes.readUInt32LE(at + 8);
    bytes.writeUInt32LE(0xffffffff, at + 8);
    const file = join(tempDir(), 'cut-short.pcap');
    writeFileSync(file, bytes);
    const one = await run(serial.analyzeInOrder([file], { probeList: false }, csvRow));
    const two = await run(threaded.analyzeInOrderOnThread([file], {}, { format: 'csv' }));
    expect(one).toEqual({ error: `CaptureError: ${file}: byte ${at}: record length 4294967295 is larger than 262144 bytes: the file is corrupt` });
    expect(two).toEqual(one);
    // JSON lines: the lines written before the error are those of the one-thread run, the
    // connections that ended before the chunk the reader failed in.
    const serialLines = await untilError(jsonLines(serial.analyze([file], {})));
    const threadLines = await untilError(threaded.analyzeInOrderOnThread([file], {}, { format: 'jsonl' }, false));
    expect(serialLines.rows.length).toBeGreaterThan(500);
    expect(threadLines).toEqual(serialLines);
    expect(threadLines.error).toBe(one.error);
  });

  it('ends, with one line, when the output fills up mid-stream (the report thread stops too)', () => {
    const file = benchCapture();
    if (!existsSync('/dev/full')) return;
    for (const format of ['jsonl', 'csv', 'text']) {
      const r = spawnSync(process.execPath, [CLI, 'analyze', file, '--format', format, '--jobs', '2', '-o', '/dev/full'], { encoding: 'utf8', timeout: 60_000 });
      expect([r.status, r.signal, r.stderr]).toEqual([2, null, 'keepalive: -o /dev/full: cannot write: no space left on the device\n']);
      const fd = openSync('/dev/full', 'w');
      try {
        const s = spawnSync(process.execPath, [CLI, 'analyze', file, '--format', format, '--jobs', '2'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', fd, 'pipe'] });
        expect([s.status, s.signal, s.stderr]).toEqual([2, null, 'keepalive: standard output: cannot write: no space left on the device\n']);
      } finally {
        closeSync(fd);
      }
    }
  }, 120_000);
});
