// A fixed-seed subset of the fuzzer (scripts/fuzz.mjs): 10,000 mutations of the real fixtures
// through the whole analysis. Every input must end in a report or a CaptureError naming the
// input, a byte offset and a cause; nothing else may be thrown, and no input may take a second.
// Every report is also rendered in each format, which must neither throw nor print NaN or
// undefined (a damaged timestamp resolution once drew a ladder at "NaN" seconds).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeToReport } from '../src/analysis/analyze.js';
import { CaptureError } from '../src/capture/errors.js';
// Plain JavaScript, shared with scripts/fuzz.mjs.
import { mutate, prng, renderAll } from '../scripts/fuzz-lib.mjs';
import { renderCsv } from '../src/report/csv.js';
import { renderHtml } from '../src/report/html.js';
import { renderJson } from '../src/report/json.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { renderText } from '../src/report/text.js';
import { FIXTURES } from './helpers.js';

const CASES = 10_000;

describe('fuzzing the whole analysis (fixed seed)', () => {
  it(`${CASES} mutated captures: a report or a one-line CaptureError, each within a second`, async () => {
    const inputs = readdirSync(FIXTURES)
      .filter((f) => /\.(pcap|pcapng)$/.test(f))
      .map((f) => ({ name: f, bytes: readFileSync(join(FIXTURES, f)) }));
    expect(inputs.length).toBeGreaterThan(20);
    const renderers = { text: renderText, csv: renderCsv, json: renderJson, markdown: renderMarkdown, html: renderHtml };
    const rnd = prng(20261122);
    const crashes: string[] = [];
    const slow: string[] = [];
    const outcomes = { reports: 0, errors: 0, cutWarnings: 0 };
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < CASES; i++) {
      const input = inputs[rnd.int(inputs.length)]!;
      const m = mutate(input.bytes, rnd) as { name: string; bytes: Buffer };
      const start = performance.now();
      try {
        const report = await analyzeToReport(['-'], { stdin: (async function* () { yield m.bytes; })() });
        outcomes.reports++;
        const bad = renderAll(report, renderers);
        if (bad !== null) crashes.push(`${input.name} ${m.name}: ${bad}`);
        if (report.summary.warnings.some((w) => /cut short/.test(w))) outcomes.cutWarnings++;
      } catch (err) {
        if (err instanceof CaptureError) {
          outcomes.errors++;
          expect(err.message).toMatch(/^<stdin>: byte \d+: \S/);
          expect(err.message).not.toContain('\n');
        } else crashes.push(`${input.name} ${m.name}: ${(err as Error).stack}`);
      }
      const ms = performance.now() - start;
      if (ms > 1000) slow.push(`${input.name} ${m.name}: ${ms.toFixed(0)} ms`);
    }
    expect(crashes).toEqual([]);
    expect(slow).toEqual([]);
    // Both outcomes occur, and cut files are reported as such: the mutations reach the readers.
    expect(outcomes.reports).toBeGreaterThan(CASES / 10);
    expect(outcomes.errors).toBeGreaterThan(CASES / 10);
    expect(outcomes.cutWarnings).toBeGreaterThan(CASES / 20);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * 2 ** 20);
  }, 300_000);
});
