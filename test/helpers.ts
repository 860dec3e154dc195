import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeToReport, type AnalyzeOptions } from '../src/analysis/analyze.js';
import type { KeepaliveEvent, Report } from '../src/analysis/model.js';
import { openCapture, readFrames } from '../src/capture/open.js';
import { DECODED_TCP, decodeFrame } from '../src/decode/decode.js';
import { Segment } from '../src/decode/segment.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = join(ROOT, 'fixtures');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

export function hasTshark(): boolean {
  return spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** tshark's per-frame fields (one array of strings per frame), as Wireshark would show them. */
export function tsharkFields(file: string, fields: string[], filter?: string): string[][] {
  const args = ['-r', file, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f'];
  if (filter) args.push('-Y', filter);
  for (const f of fields) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  // tshark exits 2 on a file cut short, after printing every whole frame: that is an answer.
  if (r.status !== 0 && !/cut short in the middle of a packet/.test(r.stderr)) {
    throw new Error(`tshark ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  }
  const out = r.stdout;
  return out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}

/** Frame numbers tshark flags with a display filter. */
export function tsharkFrames(file: string, filter: string): number[] {
  return tsharkFields(file, ['frame.number'], filter).map((r) => Number(r[0]));
}

export interface Analysed {
  report: Report;
  events: KeepaliveEvent[];
}

export async function analyzeWithEvents(files: string[], options: AnalyzeOptions = {}): Promise<Analysed> {
  const events: KeepaliveEvent[] = [];
  const report = await analyzeToReport(files, { ...options, onEvent: (e) => events.push(e) });
  return { report, events };
}

export function framesOf(events: KeepaliveEvent[], kind: KeepaliveEvent['kind']): number[] {
  return events.filter((e) => e.kind === kind).map((e) => e.frame).sort((a, b) => a - b);
}

export function runCli(args: string[], input?: Buffer): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 256 * 1024 * 1024 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function listFixtures(suffix: string): string[] {
  if (!existsSync(FIXTURES)) return [];
  return readdirSync(FIXTURES).filter((f) => f.endsWith(suffix)).sort();
}

export interface OurFrame {
  number: number;
  time: string;
  capLen: number;
  origLen: number;
  linkType: number;
  bytes: string;
  tcp: string | null;
}

/** Every frame as our readers and decoders see it; `tcp` in the same shape as tcpFieldsOfTshark. */
export async function ourFrames(paths: string[]): Promise<OurFrame[]> {
  const files = [];
  for (const p of paths) files.push(await openCapture(p));
  const seg = new Segment();
  const out: OurFrame[] = [];
  const it = readFrames(files, (f, n) => {
    const ok = decodeFrame(f, seg) === DECODED_TCP;
    out.push({
      number: n,
      time: `${f.tsSec}.${String(f.tsNsec).padStart(9, '0')}`,
      capLen: f.capLen,
      origLen: f.origLen,
      linkType: f.linkType,
      bytes: Buffer.from(f.data.subarray(f.offset, f.offset + f.capLen)).toString('hex'),
      tcp: ok ? [seg.srcPort, seg.dstPort, seg.seq, seg.ack, seg.payloadLen, seg.window, seg.flags].join(' ') : null,
    });
  });
  for await (const _ of it);
  return out;
}

const TCP_FIELDS = ['frame.number', 'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.len', 'tcp.window_size_value', 'tcp.flags'];

/** tshark's view of the TCP frames: "srcport dstport seq ack len window flags" per frame number. */
export function tcpFieldsOfTshark(file: string): Map<number, string> {
  const rows = tsharkFields(file, TCP_FIELDS, 'tcp && !icmp && !icmpv6');
  return new Map(rows.map((r) => [Number(r[0]), [r[1], r[2], r[3], r[4], r[5], r[6], Number(r[7])].join(' ')]));
}

export function ourTcp(frames: OurFrame[]): Map<number, string> {
  return new Map(frames.filter((f) => f.tcp !== null).map((f) => [f.number, f.tcp!]));
}


/** A spawned process's standard output and error as they arrive, and its exit status. */
export interface Collected {
  out: string;
  err: string;
  exited: Promise<number | null>;
}

export function collectOutput(child: import('node:child_process').ChildProcess): Collected {
  const io: Collected = { out: '', err: '', exited: new Promise((resolve) => child.on('close', (code) => resolve(code))) };
  child.stdout?.on('data', (d: Buffer) => (io.out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (io.err += d.toString()));
  return io;
}
