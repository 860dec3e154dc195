#!/usr/bin/env node
// Fuzz the full analysis with mutated real captures (fixtures/): bit flips, cuts at any offset,
// length and type fields set to 0, 1, max and random, junk spliced in, gzip streams damaged.
// Pass: every input ends in a report or a CaptureError (exit 2 with file, offset, cause);
// nothing else thrown, no input over 1 s, memory bounded; every report renders in each format
// without throwing or printing NaN or undefined. Every --table-every'th input also goes through
// the connection table alone, in C++ (native/table.cc) and in flows.ts: the two must finish the
// same connections, double for double, or fail on the same byte (one in five of those also
// written to a file and read mapped, on the C++ table's own thread), and the CSV rows the C++
// addon makes of those connections (native/rows.cc) must be csvRow's. Crashers (and disagreements)
// are written to fuzz-crashers/ to become fixtures.
//   node scripts/fuzz.mjs [--cases 1000000] [--seed 1] [--max-ms 1000] [--table-every 4]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeToReport } from '../dist/analysis/analyze.js';
import { CaptureError } from '../dist/capture/errors.js';
import { Analysis, feed } from '../dist/analysis/analyze.js';
import { ConnectionBatch, readConnection } from '../dist/analysis/handoff.js';
import { Connection } from '../dist/analysis/flows.js';
import { connectionReport } from '../dist/analysis/timeline.js';
import { nativeTable } from '../dist/analysis/native.js';
import { firstDifference, mutate, prng, renderAll, rowsDifference, tableDoubles } from './fuzz-lib.mjs';
import { csvRow, renderCsv } from '../dist/report/csv.js';
import { renderHtml } from '../dist/report/html.js';
import { renderJson } from '../dist/report/json.js';
import { renderMarkdown } from '../dist/report/markdown.js';
import { renderText } from '../dist/report/text.js';

const renderers = { text: renderText, csv: renderCsv, json: renderJson, markdown: renderMarkdown, html: renderHtml };

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const cases = arg('cases', 1_000_000);
const seed = arg('seed', 1);
const maxMs = arg('max-ms', 1000);
const tableEvery = arg('table-every', 4);
const lib = { Analysis, feed, ConnectionBatch, Connection, readConnection, connectionReport, csvRow };
if (tableEvery > 0 && nativeTable() === null) {
  console.error('fuzz: the C++ connection table is not built (npm run build), so it cannot be compared; --table-every 0 skips the comparison');
  process.exit(2);
}
const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'fixtures');
const inputs = readdirSync(dir)
  .filter((f) => /\.(pcap|pcapng)$/.test(f))
  .map((f) => ({ name: f, bytes: readFileSync(join(dir, f)) }));

const rnd = prng(seed);
const t0 = Date.now();
let reports = 0;
let captureErrors = 0;
let crashes = 0;
let slow = 0;
let tables = 0;
let disagreements = 0;
let mapped = 0;
const mappedPath = join(mkdtempSync(join(tmpdir(), 'keepalive-fuzz-')), 'mutant.pcap');
let peakRss = 0;
for (let i = 1; i <= cases; i++) {
  const input = inputs[rnd.int(inputs.length)];
  const m = mutate(input.bytes, rnd);
  const start = performance.now();
  try {
    const report = await analyzeToReport(['-'], { stdin: (async function* () { yield m.bytes; })() });
    reports++;
    const bad = renderAll(report, renderers);
    if (bad !== null) throw new Error(bad);
  } catch (err) {
    if (err instanceof CaptureError) captureErrors++;
    else {
      crashes++;
      mkdirSync(join(root, 'fuzz-crashers'), { recursive: true });
      const out = join(root, 'fuzz-crashers', `${input.name}.${seed}.${i}.bin`);
      writeFileSync(out, m.bytes);
      console.error(`CRASH case ${i} (${input.name}, ${m.name}): ${err?.stack ?? err}\n  saved ${out}`);
    }
  }
  if (tableEvery > 0 && i % tableEvery === 0) {
    tables++;
    const js = await tableDoubles(lib, m.bytes, false);
    let d = firstDifference(await tableDoubles(lib, m.bytes, true), js);
    // And the CSV rows C++ makes of those connections, against csvRow of their reports.
    if (d === null) d = rowsDifference(lib, nativeTable(), js.doubles, js.connections, i % 2 === 0 ? 300 : 1);
    // One in five of these also from a file, mapped and read on the C++ table's own thread in
    // 4 KiB windows (standard input is never mapped), against the TypeScript table on that file.
    if (d === null && (i / tableEvery) % 5 === 0) {
      writeFileSync(mappedPath, m.bytes);
      mapped++;
      const md = firstDifference(await tableDoubles(lib, [mappedPath], 'map'), await tableDoubles(lib, [mappedPath], false));
      if (md !== null) d = `mapped from a file: ${md}`;
    }
    if (d !== null) {
      disagreements++;
      mkdirSync(join(root, 'fuzz-crashers'), { recursive: true });
      const out = join(root, 'fuzz-crashers', `${input.name}.${seed}.${i}.table.bin`);
      writeFileSync(out, m.bytes);
      console.error(`TABLES DISAGREE case ${i} (${input.name}, ${m.name}): ${d}\n  saved ${out}`);
    }
  }
  const ms = performance.now() - start;
  if (ms > maxMs) {
    slow++;
    console.error(`SLOW case ${i} (${input.name}, ${m.name}): ${ms.toFixed(0)} ms`);
  }
  if (i % 10000 === 0 || i === cases) {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const s = (Date.now() - t0) / 1000;
    console.log(`${i} cases, ${(i / s).toFixed(0)}/s: ${reports} reports, ${captureErrors} capture errors, ${crashes} crashes, ${slow} slow, ${tables} compared in both tables (${mapped} of them also mapped from a file; ${rowsDifference.made} CSV rows made in C++ compared; ${disagreements} disagree), peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
  }
}
process.exitCode = crashes > 0 || slow > 0 || disagreements > 0 ? 1 : 0;
