#!/usr/bin/env node
/**
 * Throughput and memory benchmark (see scripts/README-bench.md).
 *
 *   npm run bench                       build, then this with the defaults
 *   node scripts/bench.mjs [FILE] [--packets 2000000] [--connections 50000] [--seed 1]
 *                          [--runs 3] [--tshark] [--no-growth] [--no-tcpdump]
 *
 * Without FILE, generates (or reuses, when present with the same parameters)
 * bench-out/bench-2m.pcap with scripts/bench-capture.mjs. Each of our measurements runs in a
 * fresh child Node process, so its peak RSS is its own; time is the best of --runs runs.
 *
 * Internal: node scripts/bench.mjs --child read|decode|table|table-native|table-mapped|analyze FILE [TRUTH.json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const self = fileURLToPath(import.meta.url);
const root = join(dirname(self), '..');
const dist = (p) => pathToFileURL(join(root, 'dist', p)).href;
const TARGET_PPS = 5_000_000;

// ---------------------------------------------------------------------------------------------
// Child side: one measurement, one JSON line on stdout.

async function child(mode, file, truthFile) {
  const { openCapture, readFrames } = await import(dist('capture/open.js'));
  const { decodeFrame, DECODED_TCP } = await import(dist('decode/decode.js'));
  const { Segment } = await import(dist('decode/segment.js'));
  const { analyzeToReport } = await import(dist('analysis/analyze.js'));
  const t0 = process.hrtime.bigint();
  const out = { mode, packets: 0, tcpSegments: 0 };
  let report = null;
  if (mode === 'read' || mode === 'decode') {
    const files = [await openCapture(file)];
    let packets = 0;
    let tcp = 0;
    let it;
    if (mode === 'read') {
      it = readFrames(files, () => {
        packets++;
      });
    } else {
      const seg = new Segment();
      it = readFrames(files, (frame) => {
        packets++;
        if (decodeFrame(frame, seg) === DECODED_TCP) tcp++;
      });
    }
    for await (const _ of it);
    await files[0].input.close?.();
    out.packets = packets;
    out.tcpSegments = mode === 'decode' ? tcp : null;
  } else if (mode === 'table' || mode === 'table-native') {
    // Read, decode and the connection table with its keepalive classifier, as the CSV run
    // drives them (no probe records), but no report: what the per-connection reports and rows
    // cost is the difference to the CSV row. `table-native`: the table in C++ (native/table.cc),
    // as CSV runs it, each finished connection read back into a Connection (what reports read).
    let tracker;
    let connections = 0;
    if (mode === 'table') {
      const { Tracker } = await import(dist('analysis/flows.js'));
      tracker = new Tracker({ onConnection: () => connections++, keepProbes: false });
    } else {
      const { NativeTracker, nativeTable } = await import(dist('analysis/native.js'));
      const addon = nativeTable();
      if (addon === null) throw new Error('the C++ connection table is not built (npm run build)');
      tracker = new NativeTracker(addon, () => connections++);
    }
    const files = [await openCapture(file)];
    const seg = new Segment();
    let packets = 0;
    let tcp = 0;
    const it = readFrames(files, (frame, frameNumber) => {
      packets++;
      if (decodeFrame(frame, seg) !== DECODED_TCP) return;
      tcp++;
      seg.frameNumber = frameNumber;
      tracker.add(seg);
    });
    for await (const _ of it) tracker.flush?.();
    tracker.finish();
    await files[0].input.close?.();
    out.packets = packets;
    out.tcpSegments = tcp;
    out.connections = connections;
    out.keepaliveProbes = tracker.keepaliveProbes;
  } else if (mode === 'table-mapped') {
    // As the CSV run reads a file of this size: C++ maps it and reads, decodes and keeps the
    // table on a thread of its own (Analysis.mappedReader), finished connections read back into
    // a Connection here, but no report.
    const { Analysis, feed } = await import(dist('analysis/analyze.js'));
    let connections = 0;
    const analysis = new Analysis({ probeList: false }, undefined, () => connections++);
    if (!analysis.native) throw new Error('the C++ connection table is not built (npm run build)');
    const it = feed([file], { probeList: false }, analysis);
    let summary;
    for (;;) {
      const r = await it.next();
      if (r.done) {
        summary = r.value.summary;
        break;
      }
    }
    out.packets = summary.packets;
    out.tcpSegments = summary.tcpSegments;
    out.connections = connections;
    out.nativeFrames = analysis.nativeFrames;
  } else if (mode === 'analyze') {
    report = await analyzeToReport([file]);
    out.packets = report.summary.packets;
    out.tcpSegments = report.summary.tcpSegments;
  } else {
    throw new Error(`unknown child mode ${mode}`);
  }
  out.seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  // Peak RSS of this process (KiB on Linux), taken before anything else is loaded.
  out.maxRssKiB = process.resourceUsage().maxRSS;
  if (report !== null) Object.assign(out, compareWithTruth(report, truthFile));
  process.stdout.write(JSON.stringify(out) + '\n');
}

/** Counts of the report against the truth files, and the first connections that disagree. */
function compareWithTruth(report, truthFile) {
  const verdicts = { alive: 0, dead: 0, reset: 0, closed: 0, undetermined: 0, 'no-keepalive': 0 };
  for (const c of report.connections) verdicts[c.verdict] = (verdicts[c.verdict] ?? 0) + 1;
  const got = {
    packets: report.summary.packets,
    tcpSegments: report.summary.tcpSegments,
    connections: report.summary.connections,
    keepaliveProbes: report.summary.keepaliveProbes,
    zeroWindowProbes: report.summary.zeroWindowProbes,
    verdicts,
    warnings: report.summary.warnings.slice(0, 5),
  };
  if (!truthFile || !existsSync(truthFile)) return { got, truth: null };
  const truth = JSON.parse(readFileSync(truthFile, 'utf8'));
  const result = { got, truth: { packets: truth.packets, tcpSegments: truth.tcpSegments, connections: truth.connections, keepaliveProbes: truth.keepaliveProbes, zeroWindowProbes: truth.zeroWindowProbes ?? 0, verdicts: truth.verdicts } };
  const tsv = join(dirname(truthFile), truth.connectionsFile ?? '');
  if (!truth.connectionsFile || !existsSync(tsv)) return result;
  // Per connection: expected verdict and probe count, keyed by client endpoint.
  const expected = new Map();
  const lines = readFileSync(tsv, 'utf8').split('\n');
  const head = lines[0].split('\t');
  const col = (name) => head.indexOf(name);
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const f = line.split('\t');
    expected.set(`${f[col('client')]} ${f[col('server')]}`, { behaviour: f[col('behaviour')], verdict: f[col('verdict')], probes: Number(f[col('probes')]), seen: 0 });
  }
  const mismatches = [];
  const kinds = {};
  let unexpected = 0;
  for (const c of report.connections) {
    const e = expected.get(`${c.client} ${c.server}`) ?? expected.get(`${c.server} ${c.client}`);
    if (e === undefined) {
      unexpected++;
      if (mismatches.length < 3) mismatches.push({ client: c.client, server: c.server, expected: null, got: { verdict: c.verdict, probes: c.probes.length }, firstFrame: c.firstFrame, lastFrame: c.lastFrame, explanation: c.explanation });
      continue;
    }
    e.seen++;
    if (e.verdict !== c.verdict || e.probes !== c.probes.length) {
      const k = `${e.behaviour}: ${e.verdict} → ${c.verdict}${e.probes === c.probes.length ? '' : ' (probe count differs)'}`;
      kinds[k] = (kinds[k] ?? 0) + 1;
      if (mismatches.length < 3) mismatches.push({ client: c.client, server: c.server, expected: e, got: { verdict: c.verdict, probes: c.probes.length }, firstFrame: c.firstFrame, lastFrame: c.lastFrame, explanation: c.explanation });
    }
  }
  let missing = 0;
  for (const e of expected.values()) if (e.seen === 0) missing++;
  result.perConnection = { mismatched: Object.values(kinds).reduce((a, b) => a + b, 0), kinds, unexpected, missing, examples: mismatches };
  return result;
}

// ---------------------------------------------------------------------------------------------
// Parent side.

function fail(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(1);
}

const hasTime = existsSync('/usr/bin/time');

/** Run one of our measurements in a fresh Node process. */
function runChild(mode, file, truthFile) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [self, '--child', mode, file, ...(truthFile ? [truthFile] : [])], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) fail(`child ${mode} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop();
  return { ...JSON.parse(line), wall };
}

/** Run an external tool; wall time measured here, peak RSS from /usr/bin/time when present. */
function runTool(argv, { stdoutLines = false, env = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'kbench-'));
  const timeFile = join(dir, 'time');
  const full = hasTime ? ['/usr/bin/time', '-f', '%M', '-o', timeFile, ...argv] : argv;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(full[0], full.slice(1), { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, ...env } });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  let maxRssKiB = null;
  if (hasTime) {
    try {
      maxRssKiB = Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop());
    } catch {}
  }
  rmSync(dir, { recursive: true, force: true });
  if (r.error) return { error: r.error.message };
  if (r.status !== 0) return { error: `${argv[0]} exited ${r.status}: ${r.stderr.trim().split('\n').slice(-2).join(' ')}` };
  return { seconds: wall, wall, maxRssKiB, lines: stdoutLines ? r.stdout.split('\n').filter((l) => l !== '').length : undefined };
}

/**
 * `keepalive analyze FILE --format csv -o OUT` end to end: the built command line in its own
 * process (Node start-up included), its rows counted against the truth.
 */
function runCsv(file, extra = [], env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'kbench-csv-'));
  const out = join(dir, 'out.csv');
  const r = runTool([process.execPath, join(root, 'dist', 'cli', 'main.js'), 'analyze', file, '--format', 'csv', ...extra, '-o', out], { env });
  if (r.error) {
    rmSync(dir, { recursive: true, force: true });
    return r;
  }
  // The columns before `explanation` hold no comma: verdict is the 4th, probes the 5th.
  const verdicts = { alive: 0, dead: 0, reset: 0, closed: 0, undetermined: 0, 'no-keepalive': 0 };
  let probes = 0;
  let connections = 0;
  const lines = readFileSync(out, 'utf8').split('\r\n');
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const f = line.split(',', 5);
    verdicts[f[3]] = (verdicts[f[3]] ?? 0) + 1;
    probes += Number(f[4]);
    connections++;
  }
  rmSync(dir, { recursive: true, force: true });
  return { ...r, got: { connections, keepaliveProbes: probes, verdicts } };
}

/** "yes" when the CSV's connection, probe and verdict counts equal the truth's. */
function csvExact(got, truth) {
  if (!truth) return null;
  const v = Object.keys({ ...truth.verdicts, ...got.verdicts }).every((k) => (truth.verdicts[k] ?? 0) === (got.verdicts[k] ?? 0));
  return got.connections === truth.connections && got.keepaliveProbes === truth.keepaliveProbes && v;
}

function best(runs) {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

function have(tool) {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

const fmtInt = (n) => (n === null || n === undefined ? '-' : n.toLocaleString('en-US'));
const fmtRate = (pps) => (pps >= 1e6 ? `${(pps / 1e6).toFixed(2)} M/s` : `${(pps / 1e3).toFixed(0)} k/s`);
const fmtMiB = (kib) => (kib === null || kib === undefined ? '-' : `${(kib / 1024).toFixed(0)} MiB`);

function table(rows) {
  const head = ['measurement', 'packets', 'best s', 'wall s', 'packets/s', 'MiB/s', 'vs tcpdump', 'peak RSS', 'notes'];
  const cells = [head, ...rows.map((r) => [r.name, fmtInt(r.packets), r.seconds?.toFixed(3) ?? '-', r.wall?.toFixed(3) ?? '-', r.pps ? fmtRate(r.pps) : '-', r.seconds && r.bytes ? (r.bytes / r.seconds / 2 ** 20).toFixed(0) : '-', r.ratio ?? '-', fmtMiB(r.maxRssKiB), r.notes ?? ''])];
  const widths = head.map((_, i) => Math.max(...cells.map((c) => String(c[i]).length)));
  const line = (c) => c.map((x, i) => (i === 0 || i === c.length - 1 ? String(x).padEnd(widths[i]) : String(x).padStart(widths[i]))).join('  ').trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

function labelOf(packets) {
  return packets % 1_000_000 === 0 ? `${packets / 1_000_000}m` : String(packets);
}

/** Generate a bench capture unless one with the same parameters and generator is there. */
async function ensureCapture(out, params) {
  const gen = await import(pathToFileURL(join(root, 'scripts', 'bench-capture.mjs')).href);
  const paths = gen.truthPaths(out);
  if (existsSync(out) && existsSync(paths.json) && existsSync(paths.tsv)) {
    try {
      const t = JSON.parse(readFileSync(paths.json, 'utf8'));
      const same = t.version === gen.GENERATOR_VERSION && Object.entries(params).every(([k, v]) => t.params?.[k] === v) && t.bytes === statSync(out).size;
      if (same) {
        process.stderr.write(`bench: reusing ${relative(process.cwd(), out)} (${fmtInt(t.packets)} packets, ${fmtInt(t.connections)} connections)\n`);
        return paths.json;
      }
    } catch {}
  }
  process.stderr.write(`bench: generating ${relative(process.cwd(), out)} (${fmtInt(params.packets)} packets, ${fmtInt(params.connections)} connections, seed ${params.seed})…\n`);
  const t = await gen.generate({ out, ...params, quiet: !process.stderr.isTTY });
  process.stderr.write(`bench: generated in ${t.generationSeconds} s, ${(t.bytes / 2 ** 20).toFixed(0)} MiB, ${fmtInt(t.keepaliveProbes)} probes\n`);
  return paths.json;
}

function yesNo(a, b) {
  return a === b ? 'yes' : 'NO';
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      packets: { type: 'string' },
      connections: { type: 'string', default: '50000' },
      seed: { type: 'string', default: '1' },
      runs: { type: 'string', default: '3' },
      tshark: { type: 'boolean', default: false },
      'no-growth': { type: 'boolean', default: false },
      'no-tcpdump': { type: 'boolean', default: false },
      child: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.child) return child(values.child, positionals[0], positionals[1]);
  if (values.help || positionals.length > 1) {
    process.stderr.write('usage: node scripts/bench.mjs [FILE] [--packets 2000000] [--connections 50000] [--seed 1] [--runs 3] [--tshark] [--no-growth] [--no-tcpdump]\n');
    process.exit(values.help ? 0 : 2);
  }
  if (!existsSync(join(root, 'dist', 'capture', 'open.js'))) fail('dist/ is missing: run `npm run build` (or `npm run bench`) first');
  const num = (v, name) => {
    const n = Number(String(v).replace(/_/g, ''));
    if (!Number.isSafeInteger(n) || n < 1) fail(`--${name} must be a positive integer`);
    return n;
  };
  const runs = num(values.runs, 'runs');
  const gen = await import(pathToFileURL(join(root, 'scripts', 'bench-capture.mjs')).href);
  const benchStart = process.hrtime.bigint();

  let file;
  let truthFile = null;
  let params = null;
  if (positionals.length === 1) {
    file = positionals[0];
    if (!existsSync(file)) fail(`${file}: no such file`);
    const tj = gen.truthPaths(file).json;
    if (existsSync(tj)) {
      truthFile = tj;
      params = JSON.parse(readFileSync(tj, 'utf8')).params ?? null;
    }
  } else {
    params = { packets: num(values.packets ?? '2000000', 'packets'), connections: num(values.connections, 'connections'), seed: num(values.seed, 'seed'), format: 'pcap' };
    mkdirSync(join(root, 'bench-out'), { recursive: true });
    file = join(root, 'bench-out', `bench-${labelOf(params.packets)}.pcap`);
    truthFile = await ensureCapture(file, params);
  }
  const truth = truthFile ? JSON.parse(readFileSync(truthFile, 'utf8')) : null;
  const bytes = statSync(file).size;
  process.stderr.write(`bench: ${relative(process.cwd(), file) || file}: ${(bytes / 2 ** 20).toFixed(0)} MiB; node ${process.version}; best of ${runs}\n`);

  // Warm the page cache so the first timed run does not pay for the disk.
  spawnSync('sh', ['-c', `cat "${file}" > /dev/null`]);

  const rows = [];
  const measure = (name, mode) => {
    const all = [];
    for (let i = 0; i < runs; i++) all.push(runChild(mode, file, truthFile));
    const b = best(all);
    b.maxRssKiB = Math.max(...all.map((r) => r.maxRssKiB));
    process.stderr.write(`bench: ${name}: ${all.map((r) => r.seconds.toFixed(3)).join(' / ')} s\n`);
    const row = { name, packets: b.packets, seconds: b.seconds, wall: b.wall, pps: b.packets / b.seconds, maxRssKiB: b.maxRssKiB, result: b };
    rows.push(row);
    return row;
  };

  measure('read', 'read');
  const decodeRow = measure('read+decode', 'decode');
  const tableRow = measure('read+decode+connection table (flows.ts)', 'table');
  const nativeRow = measure('read+decode+connection table in C++', 'table-native');
  const mappedRow = measure('read+decode+connection table, all in C++ (mapped file, own thread)', 'table-mapped');
  const analyzeRow = measure('analyze (whole report, in-process)', 'analyze');

  // The command line end to end, as a user runs it (the first row is the one the targets are about).
  const csvMeasure = (name, label, args = [], env = {}) => {
    const all = [];
    for (let i = 0; i < runs; i++) all.push(runCsv(file, args, env));
    const err = all.find((r) => r.error);
    if (err) fail(`${label}: ${err.error}`);
    const b = best(all);
    process.stderr.write(`bench: ${label}: ${all.map((r) => r.seconds.toFixed(3)).join(' / ')} s\n`);
    const packets = truth?.packets ?? decodeRow.packets;
    const row = { name, packets, seconds: b.seconds, wall: b.wall, pps: packets / b.seconds, maxRssKiB: Math.max(...all.map((r) => r.maxRssKiB ?? 0)), result: b };
    rows.push(row);
    return row;
  };
  const csvRow = csvMeasure('keepalive analyze --format csv', 'keepalive analyze --format csv');
  // With the reports on a second thread (--jobs 2; CSV does not use it by default).
  const csvThreadRow = csvMeasure('  … --jobs 2 (reports on a second thread)', 'analyze --format csv --jobs 2', ['--jobs', '2']);
  // The rows made in TypeScript from the C++ table's connections (KEEPALIVE_NATIVE_ROWS=0: as before rows.cc).
  const csvRowsRow = csvMeasure('  … rows made in TypeScript (KEEPALIVE_NATIVE_ROWS=0)', 'KEEPALIVE_NATIVE_ROWS=0 analyze --format csv', [], { KEEPALIVE_NATIVE_ROWS: '0' });
  // Reading and decoding in JavaScript, into the C++ table (KEEPALIVE_NATIVE=table: as before C++ read the file itself).
  const csvFedRow = csvMeasure('  … read and decoded in JavaScript (KEEPALIVE_NATIVE=table)', 'KEEPALIVE_NATIVE=table analyze --format csv', [], { KEEPALIVE_NATIVE: 'table' });
  // On the TypeScript table (KEEPALIVE_NATIVE=0: what runs where no compiler built the C++ one).
  const csvScriptRow = csvMeasure('  … on the TypeScript table (KEEPALIVE_NATIVE=0)', 'KEEPALIVE_NATIVE=0 analyze --format csv', [], { KEEPALIVE_NATIVE: '0' });

  let tcpdumpRow = null;
  if (!values['no-tcpdump']) {
    if (have('tcpdump')) {
      const all = [];
      for (let i = 0; i < runs; i++) all.push(runTool(['tcpdump', '-r', file, '-w', '/dev/null']));
      const err = all.find((r) => r.error);
      if (err) rows.push({ name: 'tcpdump -r FILE -w /dev/null', notes: err.error });
      else {
        const b = best(all);
        process.stderr.write(`bench: tcpdump: ${all.map((r) => r.seconds.toFixed(3)).join(' / ')} s\n`);
        const packets = truth?.packets ?? decodeRow.packets;
        tcpdumpRow = { name: 'tcpdump -r FILE -w /dev/null', packets, seconds: b.seconds, wall: b.wall, pps: packets / b.seconds, maxRssKiB: b.maxRssKiB, notes: 'wall time of the process (includes its start-up)' };
        rows.push(tcpdumpRow);
      }
    } else rows.push({ name: 'tcpdump -r FILE -w /dev/null', notes: 'tcpdump not installed' });
  }

  let tsharkLine = null;
  if (values.tshark) {
    if (have('tshark')) {
      process.stderr.write('bench: tshark (one run; slow)…\n');
      const r = runTool(['tshark', '-r', file, '-Y', 'tcp.analysis.keep_alive', '-T', 'fields', '-e', 'frame.number'], { stdoutLines: true });
      if (r.error) rows.push({ name: 'tshark -Y tcp.analysis.keep_alive', notes: r.error });
      else {
        const packets = truth?.packets ?? decodeRow.packets;
        rows.push({ name: 'tshark -Y tcp.analysis.keep_alive', packets, seconds: r.seconds, wall: r.wall, pps: packets / r.seconds, maxRssKiB: r.maxRssKiB, notes: `1 run; ${fmtInt(r.lines)} keep_alive frames` });
        tsharkLine = r.lines;
      }
    } else rows.push({ name: 'tshark -Y tcp.analysis.keep_alive', notes: 'tshark not installed' });
  }

  // Notes: throughput against tcpdump and the target; exactness of the analysis.
  for (const r of rows) {
    r.bytes = bytes;
    if (tcpdumpRow && r.pps) r.ratio = `${(r.pps / tcpdumpRow.pps).toFixed(2)}×`;
  }
  rows[0].notes = 'readFrames counting frames';
  decodeRow.notes = `target ≥ ${TARGET_PPS / 1e6} M/s: ${decodeRow.pps >= TARGET_PPS ? 'met' : 'NOT met'}` + (tcpdumpRow ? `; within 2× of tcpdump: ${decodeRow.pps * 2 >= tcpdumpRow.pps ? 'yes' : 'NO'}` : '');
  {
    const t = tableRow.result;
    tableRow.notes = `no reports; ${fmtInt(t.connections)} connections, ${fmtInt(t.keepaliveProbes)} probes` + (truth ? ` (truth: ${fmtInt(truth.connections)}, ${fmtInt(truth.keepaliveProbes)})` : '');
    const n = nativeRow.result;
    nativeRow.notes = `no reports; ${fmtInt(n.connections)} connections, ${fmtInt(n.keepaliveProbes)} probes; the table ${((tableRow.seconds - decodeRow.seconds) / Math.max(1e-9, nativeRow.seconds - decodeRow.seconds)).toFixed(1)}× as fast as flows.ts`;
  }
  {
    const exact = csvExact(csvRow.result.got, truth);
    const rssOk = csvRow.maxRssKiB <= 256 * 1024;
    csvRow.notes =
      `whole process; target ≥ ${TARGET_PPS / 1e6} M/s: ${csvRow.pps >= TARGET_PPS ? 'met' : 'NOT met'}` +
      (tcpdumpRow ? `; within 2× of tcpdump: ${csvRow.pps * 2 >= tcpdumpRow.pps ? 'yes' : 'NO'}` : '') +
      `; RSS ≤ 256 MiB: ${rssOk ? 'yes' : 'NO'}` +
      (exact === null ? '' : `; probes, verdicts exact: ${exact ? 'yes' : 'NO'}`);
  }
  mappedRow.notes = `no reports; ${fmtInt(mappedRow.result.connections)} connections; ${fmtInt(mappedRow.result.nativeFrames)} frames read by C++`;
  for (const row of [csvThreadRow, csvRowsRow, csvFedRow, csvScriptRow]) {
    const exact = csvExact(row.result.got, truth);
    row.notes = `whole process; ${(csvRow.seconds / row.seconds).toFixed(2)}× the default run's speed; RSS ≤ 256 MiB: ${row.maxRssKiB <= 256 * 1024 ? 'yes' : 'NO'}` + (exact === null ? '' : `; exact: ${exact ? 'yes' : 'NO'}`);
  }
  const a = analyzeRow.result;
  if (a.truth) {
    const vt = a.truth.verdicts;
    const vg = a.got.verdicts;
    const verdictsEqual = Object.keys({ ...vt, ...vg }).every((k) => (vt[k] ?? 0) === (vg[k] ?? 0));
    analyzeRow.notes = `probes exact: ${yesNo(a.got.keepaliveProbes, a.truth.keepaliveProbes)}; verdicts exact: ${verdictsEqual ? 'yes' : 'NO'}`;
  } else {
    analyzeRow.notes = `no truth file: exactness not checked (${fmtInt(a.got.keepaliveProbes)} probes)`;
    if (tsharkLine !== null) analyzeRow.notes += `; tshark keep_alive ${fmtInt(tsharkLine)}: ${tsharkLine === a.got.keepaliveProbes ? 'equal' : 'DIFFERENT'}`;
  }

  const out = [];
  out.push('');
  out.push(table(rows));
  out.push('');
  out.push(`time: inside the child for our rows (after Node start-up and module loading; "wall s" is the whole child process); wall time for external tools. Peak RSS: getrusage maxRSS of that process.`);
  {
    // Where the CSV run's time goes, from the best runs of the rows above: C++ reads the file
    // and keeps the table on its own thread while this one reports; what the reports add beyond
    // that (start-up, the reports that did not overlap, the rows held for order and written at
    // the end) is the rest.
    const native = mappedRow.seconds;
    const rest = Math.max(0, csvRow.seconds - native);
    const pct = (x) => `${((100 * x) / csvRow.seconds).toFixed(0)} %`;
    out.push(
      `where the CSV run's ${csvRow.seconds.toFixed(2)} s go: C++ reading, decoding and the connection table ${native.toFixed(2)} s (${pct(native)}, ` +
        `reports overlapping it on this thread), what the reports, rows, output and Node start-up add ${rest.toFixed(2)} s (${pct(rest)})` +
        (tcpdumpRow ? `; tcpdump reads the file in ${tcpdumpRow.seconds.toFixed(2)} s` : ''),
    );
  }

  if (a.truth) {
    out.push('');
    out.push('analyze vs truth:');
    const cmp = (label, got, want) => out.push(`  ${label.padEnd(22)} ${String(got).padStart(10)} ${String(want).padStart(10)}  ${yesNo(got, want)}`);
    out.push(`  ${''.padEnd(22)} ${'analyzer'.padStart(10)} ${'truth'.padStart(10)}  equal`);
    cmp('packets', a.got.packets, a.truth.packets);
    cmp('tcp segments', a.got.tcpSegments, a.truth.tcpSegments);
    cmp('connections', a.got.connections, a.truth.connections);
    cmp('keepalive probes', a.got.keepaliveProbes, a.truth.keepaliveProbes);
    cmp('zero-window probes', a.got.zeroWindowProbes, a.truth.zeroWindowProbes);
    for (const k of Object.keys({ ...a.truth.verdicts, ...a.got.verdicts })) cmp(`verdict ${k}`, a.got.verdicts[k] ?? 0, a.truth.verdicts[k] ?? 0);
    if (tsharkLine !== null) {
      cmp('tshark keep_alive', tsharkLine, a.truth.keepaliveProbes);
      out.push(`  ${'tshark = analyzer'.padEnd(22)} ${String(tsharkLine).padStart(10)} ${String(a.got.keepaliveProbes).padStart(10)}  ${yesNo(tsharkLine, a.got.keepaliveProbes)}`);
    }
    if (a.got.warnings.length > 0) out.push(`  warnings: ${a.got.warnings.join(' | ')}`);
    const pc = a.perConnection;
    if (pc) {
      out.push(`  per connection: ${fmtInt(pc.mismatched)} disagree, ${pc.unexpected} not in the truth, ${pc.missing} truth connections not reported`);
      for (const [k, n] of Object.entries(pc.kinds)) out.push(`    ${fmtInt(n)} × ${k}`);
      const ex = pc.examples[0];
      if (ex) {
        out.push(`  example: ${ex.client} → ${ex.server}: expected ${ex.expected ? `${ex.expected.behaviour} → ${ex.expected.verdict}, ${ex.expected.probes} probes` : '(not a truth connection)'}; analyzer: ${ex.got.verdict}, ${ex.got.probes} probes (frames ${ex.firstFrame}–${ex.lastFrame})`);
        out.push(`    analyzer: ${ex.explanation}`);
        const [ch, cp] = [ex.client.slice(0, ex.client.lastIndexOf(':')), ex.client.slice(ex.client.lastIndexOf(':') + 1)];
        const [sh, sp] = [ex.server.slice(0, ex.server.lastIndexOf(':')), ex.server.slice(ex.server.lastIndexOf(':') + 1)];
        if (have('tcpdump')) {
          const r = spawnSync('tcpdump', ['-nn', '-tt', '-r', file, `host ${ch} and port ${cp} and host ${sh} and port ${sp}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
          const lines = r.stdout.split('\n').filter((l) => l !== '');
          const shown = lines.length > 24 ? [...lines.slice(0, 6), `… ${lines.length - 18} more …`, ...lines.slice(-12)] : lines;
          for (const l of shown) out.push(`    ${l}`);
        }
      }
    }
  }

  // Heap growth: read+decode (and analyze) on twice the packets over the same connections.
  if (!values['no-growth']) {
    if (params && truth) {
      const p2 = { ...params, packets: params.packets * 2 };
      const file2 = join(root, 'bench-out', `bench-${labelOf(p2.packets)}${params.format === 'pcapng' ? '.pcapng' : '.pcap'}`);
      mkdirSync(dirname(file2), { recursive: true });
      const truth2 = await ensureCapture(file2, p2);
      spawnSync('sh', ['-c', `cat "${file2}" > /dev/null`]);
      const d2 = runChild('decode', file2, null);
      const a2 = runChild('analyze', file2, truth2);
      out.push('');
      out.push(`heap growth (same ${fmtInt(params.connections)} connections, twice the packets; one run each):`);
      const g = (label, r1, r2) => out.push(`  ${label.padEnd(12)} ${fmtInt(r1.packets).padStart(10)} packets: ${fmtMiB(r1.maxRssKiB).padStart(8)}   ${fmtInt(r2.packets).padStart(10)} packets: ${fmtMiB(r2.maxRssKiB).padStart(8)}   (${fmtRate(r2.packets / r2.seconds)}; RSS ×${(r2.maxRssKiB / r1.maxRssKiB).toFixed(2)})`);
      g('read+decode', decodeRow.result, d2);
      g('analyze', analyzeRow.result, a2);
      const c2 = runCsv(file2);
      if (c2.error) fail(`keepalive analyze --format csv: ${c2.error}`);
      c2.packets = truth2 ? JSON.parse(readFileSync(truth2, 'utf8')).packets : d2.packets;
      g('csv (CLI)', { ...csvRow.result, packets: csvRow.packets, maxRssKiB: csvRow.maxRssKiB }, c2);
      const t2 = truth2 ? JSON.parse(readFileSync(truth2, 'utf8')) : null;
      out.push(`  analyze --format csv on ${labelOf(p2.packets)} exact vs its truth: ${csvExact(c2.got, t2) ? 'yes' : 'NO'}`);
      const ok2 = a2.truth && a2.got.keepaliveProbes === a2.truth.keepaliveProbes && Object.keys(a2.truth.verdicts).every((k) => (a2.truth.verdicts[k] ?? 0) === (a2.got.verdicts[k] ?? 0));
      out.push(`  analyze on ${labelOf(p2.packets)} exact vs its truth: ${ok2 ? 'yes' : 'NO'} (probes ${a2.got.keepaliveProbes} / ${a2.truth?.keepaliveProbes})`);
    } else out.push('\nheap growth: skipped (no truth file with generator parameters for this capture)');
  }
  out.push('');
  out.push(`bench took ${(Number(process.hrtime.bigint() - benchStart) / 1e9).toFixed(0)} s`);
  process.stdout.write(out.join('\n') + '\n');
}

await main();
