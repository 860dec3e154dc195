import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeToReport, type AnalyzeOptions } from '../src/analysis/analyze.js';
import type { KeepaliveEvent, Report } from '../src/analysis/model.js';

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
  const out = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
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
