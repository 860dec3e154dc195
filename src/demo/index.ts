/**
 * `keepalive demo` as a library: build a scenario, write its capture, read it back through the
 * same analysis `keepalive analyze` runs, and explain it frame by frame (text or HTML).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureFormatOf, readDemoCapture, writeCapture, type DemoCapture } from './capture.js';
import { explain, type Explanation } from './explain.js';
import { renderDemoHtml } from './html.js';
import { scenario, scenarios, type DemoScenario } from './scenarios.js';
import { renderDemoText } from './text.js';

export { scenarios, scenario, SCENARIO_NAMES, type DemoScenario } from './scenarios.js';
export { explain, type Explanation, type FrameNote, type Role } from './explain.js';
export { readDemoCapture, writeCapture, captureFormatOf, type DemoCapture, type DemoFrame } from './capture.js';
export { renderDemoText } from './text.js';
export { renderDemoHtml } from './html.js';

export const DEMO_FORMATS = ['text', 'html'] as const;
export type DemoFormat = (typeof DEMO_FORMATS)[number];

/** A demo that cannot run: an unknown scenario, or a capture file that cannot be written. */
export class DemoError extends Error {
  override name = 'DemoError';
}

export interface DemoOptions {
  /** Capture file to write (pcap if it ends in .pcap, else pcapng); never overwritten. Default: a new file in the OS temporary directory. */
  write?: string | undefined;
  format?: DemoFormat;
  /** ANSI colours in the text. */
  color?: boolean;
}

export interface DemoResult {
  scenario: DemoScenario;
  /** The capture written. */
  file: string;
  capture: DemoCapture;
  explanation: Explanation;
  /** The text or HTML page. */
  output: string;
}

/** One line per scenario, for `keepalive demo` without a name. */
export function listScenarios(): string {
  const width = Math.max(...scenarios().map((s) => s.name.length));
  return [
    'Scenarios (keepalive demo NAME writes the capture and explains it frame by frame):',
    ...scenarios().map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`),
    '',
    'Options: -w FILE (the capture: .pcap or .pcapng), --format text|html, -o FILE (the explanation).',
    '',
  ].join('\n');
}

function describeWriteError(path: string, err: unknown): DemoError {
  const e = err as NodeJS.ErrnoException;
  const why =
    e.code === 'EEXIST' ? 'already exists; the demo never overwrites a file (name a new one)' : e.code === 'ENOENT' ? 'no such directory' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : e.message;
  return new DemoError(`-w ${path}: cannot write the capture: ${why}`);
}

/** Write the capture to `path`, or to the first free keepalive-demo-NAME[-N].pcapng in the temporary directory. */
function writeDemoCapture(s: DemoScenario, path: string | undefined): string {
  const frames = s.build().frames;
  if (path !== undefined) {
    try {
      writeCapture(path, frames, captureFormatOf(path));
    } catch (err) {
      throw describeWriteError(path, err);
    }
    return path;
  }
  for (let n = 1; ; n++) {
    const candidate = join(tmpdir(), `keepalive-demo-${s.name}${n > 1 ? `-${n}` : ''}.pcapng`);
    try {
      writeCapture(candidate, frames, 'pcapng');
      return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n > 999) throw describeWriteError(candidate, err);
    }
  }
}

export async function runDemo(name: string, options: DemoOptions = {}): Promise<DemoResult> {
  const s = scenario(name);
  if (s === undefined) throw new DemoError(`demo: no scenario '${name}' (keepalive demo lists them: ${scenarios().map((x) => x.name).join(', ')})`);
  if (options.write === '') throw new DemoError('-w: name a capture file to write');
  const file = writeDemoCapture(s, options.write);
  const capture = await readDemoCapture(file);
  const explanation = explain(s, capture);
  const output = options.format === 'html' ? renderDemoHtml(explanation, capture, file) : renderDemoText(explanation, capture, file, { color: options.color ?? false });
  return { scenario: s, file, capture, explanation, output };
}
