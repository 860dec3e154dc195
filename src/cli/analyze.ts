/**
 * `keepalive analyze`: one report in the format asked for. csv and jsonl stream as connections
 * end; text, json, markdown and html render each connection as it ends and write once the
 * summary is known (the same bytes as rendering the whole Report). --separate renders whole
 * Reports (render.ts).
 */
import { analyze, analyzeCsvInOrder, analyzeInOrder } from '../analysis/analyze.js';
import type { ConnectionReport, Summary } from '../analysis/model.js';
import { CSV_HEADER, csvRow } from '../report/csv.js';
import type { CliCommand, CommandSpec, Parsed } from './args.js';
import { useColor, type ColorMode } from './color.js';
import { EXIT_OK, UsageError } from './errors.js';
import { durationOption, examples, EXIT_EPILOGUE, FILES, hostOption, inputFiles, jobsOption, MIDDLEBOX_OPTION, portOption, SELECTION_OPTIONS } from './options.js';
import { emit, guardOutputs, StreamOutput } from './output.js';
import { startProgress } from './progress.js';

export const ANALYZE_FORMATS = ['text', 'json', 'jsonl', 'csv', 'markdown', 'html'] as const;
export type AnalyzeFormat = (typeof ANALYZE_FORMATS)[number];

export interface AnalyzeArgs {
  files: string[];
  format: AnalyzeFormat;
  output: string | undefined;
  port: number | undefined;
  host: string | undefined;
  color: ColorMode;
  /** Idle timeout (s) of the strictest middlebox on the path, for findings. */
  middleboxTimeout?: number | undefined;
  /** Analyse each file on its own (unrelated captures), in parallel on `jobs` threads. */
  separate?: boolean | undefined;
  /** Threads: for --separate, files analysed at once; otherwise 1 or 2, whether csv, json, jsonl and text reports are made on a second thread (threaded.ts). */
  jobs?: number | undefined;
}

export const ANALYZE_EXAMPLES = [
  ['keepalive analyze capture.pcapng', 'explain every connection, with a ladder of probes and replies'],
  ['tcpdump -i any -w - port 5432 | keepalive analyze -', 'read a capture from standard input'],
  ['keepalive analyze ring0.pcap ring1.pcap --format json', 'merge a ring buffer; the version-1 JSON report'],
  ['keepalive analyze capture.pcap --format html -o report.html', 'one self-contained HTML file with a ladder diagram per connection'],
  ['keepalive analyze capture.pcap --format csv --port 443', 'one CSV row per connection on port 443'],
  ['keepalive analyze huge.pcap --format jsonl', 'one JSON line per connection as it ends, then the summary'],
  ['keepalive analyze a.pcap b.pcap c.pcap --separate --format csv', 'unrelated captures, analysed in parallel'],
] as const;

const spec: CommandSpec = {
  name: 'analyze',
  usage: 'analyze <files..>',
  describe: "report each connection's keepalive timeline (pcap, pcapng, gzip'd; - for standard input)",
  positionals: [FILES],
  options: [
    { name: 'format', alias: 'F', type: 'string', choices: ANALYZE_FORMATS, default: 'text', describe: 'report format' },
    { name: 'output', alias: 'o', type: 'string', describe: 'write the report to this file (never over an input)' },
    { name: 'separate', type: 'boolean', default: false, describe: 'analyse each file on its own (unrelated captures), in parallel' },
    { name: 'jobs', type: 'string', describe: 'threads: for --separate, files at once (default: one per core); otherwise 1 keeps the reports on the reading thread, 2 or more makes them on a second one (default: text, json and jsonl of files, not standard input, of 256 MiB or more on disk, on two cores)' },
    ...SELECTION_OPTIONS,
    MIDDLEBOX_OPTION,
  ],
  epilogue: `${examples('Examples', ANALYZE_EXAMPLES)}\n\n${EXIT_EPILOGUE}`,
};

export const analyzeCommand: CliCommand = {
  spec,
  run: (p: Parsed) => {
    const a = p.values;
    return runAnalyze({
      files: inputFiles('analyze', a.files),
      format: a.format as AnalyzeFormat,
      output: a.output as string | undefined,
      port: portOption(a.port),
      host: hostOption(a.host),
      color: a.color as ColorMode,
      middleboxTimeout: durationOption('--middlebox-timeout', a['middlebox-timeout']),
      separate: a.separate === true,
      jobs: jobsOption(a.jobs),
    });
  },
};

/**
 * What `keep` makes of each selected connection's report (which lists no probes: their counts
 * are in the settings), in order of first frame, and the summary, with a progress bar on a
 * terminal, then the capture's warnings: no report object outlives its connection (check).
 */
export async function readEach<T>(files: string[], port: number | undefined, host: string | undefined, keep: (report: ConnectionReport) => T): Promise<{ summary: Summary; items: T[] }> {
  const stop = startProgress(files, { delayMs: progressDelay() });
  let result: { summary: Summary; items: T[] };
  try {
    result = await collect(analyzeInOrder(files, { port, host, probeList: false }, keep));
  } finally {
    stop();
  }
  warn(result.summary.warnings);
  return result;
}

/** KEEPALIVE_PROGRESS_DELAY_MS shortens the wait before the bar shows (for tests on small files). */
function progressDelay(): number | undefined {
  const v = process.env.KEEPALIVE_PROGRESS_DELAY_MS;
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

export async function runAnalyze(a: AnalyzeArgs): Promise<number> {
  guardOutputs(a.files, [{ flag: '-o', path: a.output }]);
  const color = useColor(a.color, a.output !== undefined);
  if (a.separate) {
    if (a.format === 'html') throw new UsageError('--separate: an HTML report holds one capture; analyse the files one by one with -o each');
    const { analyzeSeparately } = await import('../analysis/parallel.js');
    const { renderSeparate } = await import('./render.js');
    const reports = await analyzeSeparately(a.files, { port: a.port, host: a.host, middleboxTimeout: a.middleboxTimeout, jobs: a.jobs });
    for (const r of reports) warn(r.summary.warnings);
    emit('-o', a.output, renderSeparate(reports, a.format, color));
    return EXIT_OK;
  }
  if (a.format === 'jsonl') {
    await streamJsonLines(a);
    return EXIT_OK;
  }
  if (a.format === 'csv') {
    await streamCsv(a);
    return EXIT_OK;
  }
  await writeHeld(a, a.format, color);
  return EXIT_OK;
}

/** Bytes gathered for each write call on the way out. */
const WRITE_BYTES = 4 << 20;

/**
 * text, json, markdown and html without --separate: the same bytes as rendering the whole report,
 * but each connection is rendered as it ends, so only its text waits for the summary that
 * heads the report (the report objects of a long capture would take many times the memory).
 * Nothing is written before the whole capture is read: a file that cannot be read at all
 * leaves no output file behind.
 */
async function writeHeld(a: AnalyzeArgs, format: 'text' | 'json' | 'markdown' | 'html', color: boolean): Promise<void> {
  const { analyzeInOrderOnThread, reportOnThread } = await threaded();
  const selection = { port: a.port, host: a.host, middleboxTimeout: a.middleboxTimeout };
  const stop = startProgress(a.files, { delayMs: progressDelay() });
  const out = new StreamOutput('-o', a.output);
  // Text and JSON reports can be made on a second thread (markdown and HTML keep two pieces per connection).
  const onThread = reportOnThread(a.files, a.jobs, format === 'json' ? { format } : { format: 'text', color });
  try {
    if (format === 'markdown') {
      const { markdownConnection, renderMarkdownFrom } = await import('../report/markdown.js');
      // A row and a line per connection: counts only, no probe list.
      const { summary, items } = await collect(analyzeInOrder(a.files, { ...selection, probeList: false }, markdownConnection));
      stop();
      warn(summary.warnings);
      await out.write(renderMarkdownFrom(summary, items));
      return;
    }
    if (format === 'html') {
      const { htmlConnection, htmlContent, htmlFrame, htmlStart, HTML_END } = await import('../report/html.js');
      const piece = htmlConnection();
      const { summary, items } = await collect(
        analyzeInOrder(a.files, selection, (c) => {
          const p = piece(c);
          return { row: Buffer.from(p.row), section: Buffer.from(p.section) };
        }),
      );
      stop();
      warn(summary.warnings);
      await writeBatched(out, [htmlStart(htmlFrame(summary))], htmlContent(summary, items), [HTML_END]);
      return;
    }
    if (format === 'json') {
      const { jsonConnection, jsonHead, jsonTail } = await import('../report/json.js');
      const { summary, items } = await collect(
        onThread ? analyzeInOrderOnThread(a.files, selection, { format: 'json' }) : analyzeInOrder(a.files, selection, inUtf8(jsonConnection)),
      );
      stop();
      warn(summary.warnings);
      await writeBatched(out, [jsonHead(summary)], separated(items, '\n', ',\n'), [jsonTail(items.length)]);
      return;
    }
    const { textConnection, textHead } = await import('../report/text.js');
    const { summary, items } = await collect(
      onThread ? analyzeInOrderOnThread(a.files, selection, { format: 'text', color }) : analyzeInOrder(a.files, selection, inUtf8(textConnection({ color }))),
    );
    stop();
    warn(summary.warnings);
    await writeBatched(out, [textHead(summary, items.length, { color })], separated(items, '\n\n', '\n\n'), ['\n']);
  } finally {
    stop();
    out.close();
  }
}

/** The report thread's module, loaded when an output may use it (worker_threads and what it names cost 5 ms of every start). */
function threaded(): Promise<typeof import('../analysis/threaded.js')> {
  return import('../analysis/threaded.js');
}

/** Every batch of an in-order analysis in one list, and its summary. */
async function collect<T>(it: AsyncGenerator<T[], Summary>): Promise<{ summary: Summary; items: T[] }> {
  const items: T[] = [];
  for (;;) {
    const r = await it.next();
    if (r.done) return { summary: r.value, items };
    for (const x of r.value) items.push(x);
  }
}

/**
 * A connection's text kept as UTF-8 bytes until it is written: out of the JavaScript heap, and
 * one byte per character where a string with one character beyond Latin-1 (…, ≤) takes two.
 */
function inUtf8<A>(render: (x: A) => string): (x: A) => Buffer {
  return (x) => Buffer.from(render(x));
}

/** The items in order, the first after `first`, each other one after `each`. */
function* separated<T>(items: readonly T[], first: string, each: string): Generator<string | T> {
  for (let i = 0; i < items.length; i++) {
    yield i === 0 ? first : each;
    yield items[i]!;
  }
}

/** The pieces of every source in order, gathered into writes of about WRITE_BYTES. */
async function writeBatched(out: StreamOutput, ...sources: Iterable<string | Buffer>[]): Promise<void> {
  let parts: Buffer[] = [];
  let size = 0;
  for (const source of sources) {
    for (const piece of source) {
      const b = typeof piece === 'string' ? Buffer.from(piece) : piece;
      parts.push(b);
      size += b.length;
      if (size >= WRITE_BYTES) {
        await out.write(Buffer.concat(parts));
        parts = [];
        size = 0;
      }
    }
  }
  if (parts.length > 0) await out.write(Buffer.concat(parts));
}

/**
 * `head`, then each row and its line end: one string when the rows are strings (made here),
 * one buffer when they are UTF-8 bytes (made on the report thread).
 */
function lines(head: string, rows: readonly (string | Buffer)[], end: string): string | Buffer {
  if (typeof rows[0] === 'string') return `${head}${rows.join(end)}${end}`;
  const eol = Buffer.from(end);
  const parts: Buffer[] = [Buffer.from(head)];
  for (const row of rows) parts.push(typeof row === 'string' ? Buffer.from(row) : row, eol);
  return Buffer.concat(parts);
}

/** Each value of `it` rendered, as a batch of its own; the same return value. */
async function* eachAlone<T, R>(it: AsyncGenerator<T, R>, render: (x: T) => string): AsyncGenerator<string[], R> {
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) return r.value;
      yield [render(r.value)];
    }
  } finally {
    await it.return(undefined as never);
  }
}

/** The capture's warnings on standard error, one line each. */
function warn(warnings: readonly string[]): void {
  for (const w of warnings) process.stderr.write(`keepalive: warning: ${w}\n`);
}

/**
 * `--format jsonl` without --separate streams: each connection's line is written as the
 * connection ends, so the report of a huge capture never sits in memory.
 */
async function streamJsonLines(a: AnalyzeArgs): Promise<void> {
  const out = new StreamOutput('-o', a.output);
  let it: AsyncGenerator<(string | Buffer)[], Summary> | null = null;
  try {
    const selection = { port: a.port, host: a.host, middleboxTimeout: a.middleboxTimeout };
    const { analyzeInOrderOnThread, reportOnThread } = await threaded();
    // Lines as their connections end, made here or on the report thread.
    it = reportOnThread(a.files, a.jobs, { format: 'jsonl' })
      ? analyzeInOrderOnThread(a.files, selection, { format: 'jsonl' }, false)
      : eachAlone(analyze(a.files, selection), (r) => JSON.stringify(r));
    for (;;) {
      const r = await it.next();
      if (r.done) {
        warn(r.value.warnings);
        await out.write(`${JSON.stringify({ version: 1, summary: r.value })}\n`);
        break;
      }
      if (r.value.length > 0) await out.write(lines('', r.value, '\n'));
    }
  } finally {
    out.close();
    await it?.return(undefined as never);
  }
}

/**
 * `--format csv` without --separate: rows in order of first frame, as renderCsv writes them,
 * each rendered as its connection ends from a report that lists no probes (CSV shows counts
 * only); rows are written as soon as every older connection has ended.
 */
async function streamCsv(a: AnalyzeArgs): Promise<void> {
  const out = new StreamOutput('-o', a.output);
  const stop = startProgress(a.files, { delayMs: progressDelay() });
  // The header goes out with the first rows (or alone at the end): a file that cannot be read
  // at all leaves no output file behind.
  let head = `${CSV_HEADER}\r\n`;
  let it: AsyncGenerator<(string | Buffer)[], Summary> | null = null;
  try {
    const selection = { port: a.port, host: a.host, middleboxTimeout: a.middleboxTimeout, probeList: false };
    // CSV lists no probes: only --jobs 2 or more puts its rows on the report thread (reportOnThread).
    it = a.jobs !== undefined && a.jobs >= 2 ? (await threaded()).analyzeInOrderOnThread(a.files, selection, { format: 'csv' }) : analyzeCsvInOrder(a.files, selection, csvRow);
    for (;;) {
      const r = await it.next();
      if (r.done) {
        stop();
        if (head !== '') await out.write(head);
        warn(r.value.warnings);
        break;
      }
      if (r.value.length > 0) {
        // One buffer of rows (made in C++) goes out as it is, not copied into another with the header.
        if (r.value.length === 1 && typeof r.value[0] !== 'string') {
          if (head !== '') await out.write(head);
          await out.write(r.value[0]!);
          await out.write('\r\n');
        } else await out.write(lines(head, r.value, '\r\n'));
        head = '';
      }
    }
  } finally {
    stop();
    out.close();
    // A write that failed stops the analysis too (files closed, the report thread ended).
    await it?.return(undefined as never);
  }
}

