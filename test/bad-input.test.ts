// Bad input never crashes: exit 2 with one line naming the file, byte offset and cause; a
// file cut short yields what it holds plus a warning. Inputs are real captures, damaged.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { analyzeToReport } from '../src/analysis/analyze.js';
import { CaptureError } from '../src/capture/errors.js';
import { fixture, runCli, tsharkFields } from './helpers.js';
import { tempDir } from './synth-helpers.js';

const dir = tempDir();
const pcap = readFileSync(fixture('shared/linux-dead.pcap'));
const pcapng = readFileSync(fixture('shared/linux-alive.pcapng'));

function put(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Runs the CLI and checks the one-line error: file, byte offset, cause. */
function expectExit2(args: string[], file: string, offset: number | null, cause: RegExp): void {
  const r = runCli(args);
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(file);
  if (offset !== null) expect(lines[0]).toContain(`byte ${offset}:`);
  expect(lines[0]).toMatch(cause);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('unreadable input exits 2 with one line', () => {
  it('a missing file', () => {
    expectExit2(['analyze', join(dir, 'nope.pcap')], 'nope.pcap', 0, /no such file/);
  });
  it('a directory', () => {
    mkdirSync(join(dir, 'adir'), { recursive: true });
    expectExit2(['analyze', join(dir, 'adir')], 'adir', 0, /directory/);
  });
  it('an empty file', () => {
    expectExit2(['analyze', put('empty.pcap', new Uint8Array(0))], 'empty.pcap', 0, /empty/);
  });
  it('random bytes', () => {
    let x = 12345;
    const bytes = Uint8Array.from({ length: 4096 }, () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) & 255);
    expectExit2(['analyze', put('random.pcap', bytes)], 'random.pcap', 0, /not a pcap or pcapng capture/);
  });
  it('a pcap cut inside its file header', () => {
    expectExit2(['analyze', put('hdr.pcap', pcap.subarray(0, 10))], 'hdr.pcap', 10, /cut short inside the pcap file header/);
  });
  it('an absurd record length', () => {
    const b = Buffer.from(pcap);
    b.writeUInt32LE(0x7fffffff, 24 + 8);
    expectExit2(['analyze', put('huge.pcap', b)], 'huge.pcap', 24, /record length 2147483647 is larger than 262144/);
  });
  it('a pcapng block length that is not a multiple of 4', () => {
    const b = Buffer.from(pcapng);
    const second = b.readUInt32LE(4); // the IDB follows the SHB
    b.writeUInt32LE(b.readUInt32LE(second + 4) + 1, second + 4);
    expectExit2(['analyze', put('odd.pcapng', b)], 'odd.pcapng', second + 4, /not a multiple of 4/);
  });
  it('a pcapng block whose trailing length differs', () => {
    const b = Buffer.from(pcapng);
    const second = b.readUInt32LE(4);
    const len = b.readUInt32LE(second + 4);
    b.writeUInt32LE(len + 4, second + len - 4);
    expectExit2(['analyze', put('trailer.pcapng', b)], 'trailer.pcapng', second + len - 4, /does not match its trailing copy/);
  });
  it('a pcapng packet naming an interface never described', () => {
    const b = Buffer.from(pcapng);
    // Walk to the first Enhanced Packet Block and point it at interface 7.
    let o = 0;
    while (b.readUInt32LE(o) !== 6) o += b.readUInt32LE(o + 4);
    b.writeUInt32LE(7, o + 8);
    expectExit2(['analyze', put('iface.pcapng', b)], 'iface.pcapng', o + 8, /interface 7/);
  });
  it('damaged gzip data', () => {
    const gz = Buffer.from(gzipSync(pcapng));
    for (let i = 40; i < 60; i++) gz[i] = gz[i]! ^ 0x5a;
    expectExit2(['analyze', put('damaged.pcapng.gz', gz)], 'damaged.pcapng.gz', null, /gzip data is damaged/);
  });
  it('an unknown flag and a missing argument', () => {
    const r = runCli(['analyze', fixture('shared/linux-dead.pcap'), '--frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/frobnicate/);
    const r2 = runCli(['analyze']);
    expect(r2.status).toBe(2);
    expect(r2.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});

describe('a file cut short yields what it holds plus a warning', () => {
  /** Whole records in the first n bytes of a classic pcap. */
  function wholeRecords(bytes: Buffer, n: number): number {
    let o = 24;
    let k = 0;
    while (o + 16 <= n && o + 16 + bytes.readUInt32LE(o + 8) <= n) {
      o += 16 + bytes.readUInt32LE(o + 8);
      k++;
    }
    return k;
  }

  it('at every byte offset of a real capture', async () => {
    for (let n = 0; n <= pcap.length; n++) {
      const path = put('cut.pcap', pcap.subarray(0, n));
      let report;
      try {
        report = await analyzeToReport([path]);
      } catch (err) {
        expect(err).toBeInstanceOf(CaptureError);
        expect(n).toBeLessThan(24);
        continue;
      }
      expect(n).toBeGreaterThanOrEqual(24);
      const k = wholeRecords(pcap, n);
      expect(report.summary.packets).toBe(k);
      // Cut inside a record: one warning naming where; cut between records: none.
      const between = n === 24 || report.summary.warnings.length === 0;
      if (!between) expect(report.summary.warnings[0]).toMatch(new RegExp(`cut\\.pcap: byte \\d+: file cut short inside .*the ${k} frames before it were read`));
    }
  });

  it('agrees with tshark on what a cut file holds, pcap and pcapng', async () => {
    for (const [name, bytes, n] of [['cut-a.pcap', pcap, 500], ['cut-b.pcapng', pcapng, 2000]] as const) {
      const path = put(name, bytes.subarray(0, n));
      const report = await analyzeToReport([path]);
      expect(report.summary.packets).toBe(tsharkFields(path, ['frame.number']).length);
      expect(report.summary.warnings).toHaveLength(1);
      const r = runCli(['analyze', path, '--format', 'json']);
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/warning: .*cut short/);
    }
  });

  it('a gzip stream cut short', async () => {
    const gz = gzipSync(pcapng);
    const path = put('cut.pcapng.gz', gz.subarray(0, Math.floor(gz.length * 0.6)));
    const report = await analyzeToReport([path]);
    expect(report.summary.packets).toBeGreaterThan(0);
    expect(report.summary.packets).toBeLessThan(33);
    expect(report.summary.warnings.join('\n')).toMatch(/gzip stream is cut short/);
  });
});

describe('-o never clobbers an input', () => {
  it('refuses to write the report over the capture', () => {
    const path = put('keep.pcap', pcap);
    const r = runCli(['analyze', path, '-o', path]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/refusing to overwrite an input capture/);
    expect(readFileSync(path)).toEqual(pcap);
  });
});
