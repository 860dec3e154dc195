/**
 * `analyze --format csv` streams: rows are rendered as connections end and written once every
 * older connection has ended. The capture here makes that happen mid-file: 3000 short
 * connections one after another (each closed with FIN, so each is finalised 30 s after it
 * closes), with one long keepalive connection open from the middle to the end holding the
 * rows behind it back.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze, analyzeInOrder, analyzeToReport } from '../src/analysis/analyze.js';
import { csvRow, renderCsv } from '../src/report/csv.js';
import { renderHtml } from '../src/report/html.js';
import { renderJson } from '../src/report/json.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { renderText } from '../src/report/text.js';
import { Conversation, interleave } from '../src/synth/conversation.js';
import { runCli } from './helpers.js';
import { tempDir, writeConversation } from './synth-helpers.js';

const SHORT = 3000;
const START = 1_763_800_000;

function capture(): string {
  const convs: Conversation[] = [];
  for (let i = 0; i < SHORT; i++) {
    const c = new Conversation({ client: `10.1.${i >> 8}.${i & 255}`, server: '10.9.0.1', clientPort: 40000 + (i % 20000), serverPort: 443, start: START + i * 2 });
    c.handshake().data(true, 100, 0.01).data(false, 300, 0.01).close(true, 0.5);
    convs.push(c);
  }
  // Opens at the 1500th short connection; probes every 75 s until the end.
  const long = new Conversation({ client: '10.2.0.1', server: '10.9.0.2', clientPort: 50000, serverPort: 5432, start: START + 1500 * 2 + 1 });
  long.handshake().data(true, 10, 0.01);
  for (let k = 0; k < 45; k++) long.probe(true, 75, 'ack');
  convs.push(long);
  return writeConversation(join(tempDir(), 'many.pcap'), interleave(...convs));
}

/** Descriptors this process holds open on `path` (Linux). */
function openOn(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;
}

describe('csv streamed in first-frame order', () => {
  const file = capture();

  it('releases rows before the end, in the order of the whole report', async () => {
    const report = await analyzeToReport([file], { probeList: false });
    expect(report.summary.connections).toBe(SHORT + 1);
    const batches: number[][] = [];
    const it = analyzeInOrder([file], { probeList: false }, (r) => r.firstFrame);
    for (let r = await it.next(); !r.done; r = await it.next()) batches.push(r.value);
    // Rows came out in several batches while the file was read, not all at the end.
    expect(batches.filter((b) => b.length > 0).length).toBeGreaterThan(1);
    expect(batches[0]!.length).toBeGreaterThan(0);
    // The connections that started before the long one were all released before the last batch.
    const last = batches.at(-1)!;
    expect(last.length).toBeLessThan(SHORT / 2 + 2);
    expect(batches.flat()).toEqual(report.connections.map((c) => c.firstFrame));
  });

  it('the command line writes exactly what renderCsv writes from the whole report', async () => {
    // About a megabyte of rows: written to a file, past spawnSync's output buffer.
    const out = join(tempDir(), 'out.csv');
    const cli = runCli(['analyze', file, '--format', 'csv', '-o', out]);
    expect(cli.status).toBe(0);
    const written = readFileSync(out, 'utf8');
    expect(written).toBe(renderCsv(await analyzeToReport([file])));
    expect(written.split('\r\n').filter((l) => l.includes(',alive,'))).toHaveLength(1);
  });

  it('writes every byte to a pipe (a raw write to a full non-blocking pipe used to cut rows)', async () => {
    const full = renderCsv(await analyzeToReport([file]));
    for (const format of ['csv', 'jsonl'] as const) {
      for (let run = 0; run < 4; run++) {
        const cli = runCli(['analyze', file, '--format', format]);
        expect(cli.status).toBe(0);
        if (format === 'csv') expect(cli.stdout).toBe(full);
        else expect(cli.stdout.trimEnd().split('\n')).toHaveLength(SHORT + 2);
      }
    }
  });

  it('a consumer that stops early leaves no file open', async () => {
    expect(openOn(file)).toBe(0);
    for await (const batch of analyzeInOrder([file], { probeList: false }, (r) => r.firstFrame)) {
      expect(openOn(file)).toBe(1);
      if (batch.length > 0) break;
    }
    expect(openOn(file)).toBe(0);
    for await (const report of analyze([file])) {
      expect(report.client).toMatch(/^10\./);
      break;
    }
    expect(openOn(file)).toBe(0);
  });

  it('a report without probe list has the same row as one with it', async () => {
    const light = await analyzeToReport([file], { probeList: false });
    const full = await analyzeToReport([file]);
    expect(light.connections.map(csvRow)).toEqual(full.connections.map(csvRow));
    const long = light.connections.find((c) => c.client.startsWith('10.2.0.1'))!;
    expect(long.probes).toEqual([]);
    expect(long.probesOmitted).toBe(45);
    expect(full.connections.find((c) => c.client.startsWith('10.2.0.1'))!.probes).toHaveLength(45);
  });
});

/**
 * text, json, markdown and html lead with the summary, so the command line holds every connection's
 * rendered text (not its report) until the capture is read; the bytes must be those of
 * rendering the whole report. 3001 connections: several of the chunks the text is written in.
 */
describe('text, json, markdown and html rendered as connections end', () => {
  const file = capture();
  const dir = tempDir();

  it('write to a file exactly what the renderers write from the whole report', async () => {
    const report = await analyzeToReport([file]);
    const want = { text: renderText(report), json: renderJson(report), markdown: renderMarkdown(report), html: renderHtml(report) };
    for (const format of ['text', 'json', 'markdown', 'html'] as const) {
      const out = join(dir, `out.${format}`);
      const cli = runCli(['analyze', file, '--format', format, '-o', out]);
      expect(cli.status, cli.stderr).toBe(0);
      expect(readFileSync(out, 'utf8'), format).toBe(want[format]);
    }
    expect(JSON.parse(want.json).connections).toHaveLength(SHORT + 1);
    // The long connection's ladder is drawn: its probe list was kept for the text.
    expect(want.text).toMatch(/\|--- probe, frame \d+ -+>\|/);
    // Each section's number is its place in first-frame order, as the summary table links it.
    expect(want.html).toContain(`<a href="#connection-${SHORT + 1}">`);
    expect(want.html).toContain(`<section class="connection" id="connection-${SHORT + 1}">`);
  });

  it('to standard output, in colour too', async () => {
    const report = await analyzeToReport([file]);
    const plain = runCli(['analyze', file]);
    expect(plain.status).toBe(0);
    expect(plain.stdout).toBe(renderText(report));
    const colour = runCli(['analyze', file, '--color', 'always']);
    expect(colour.stdout).toBe(renderText(report, { color: true }));
    expect(colour.stdout).toContain('\x1b[');
  });

  it('a selection with no connection', async () => {
    const report = await analyzeToReport([file], { port: 9 });
    expect(report.connections).toHaveLength(0);
    expect(runCli(['analyze', file, '--port', '9']).stdout).toBe(renderText(report));
    expect(runCli(['analyze', file, '--port', '9', '--format', 'json']).stdout).toBe(renderJson(report));
    expect(runCli(['analyze', file, '--port', '9', '--format', 'markdown']).stdout).toBe(renderMarkdown(report));
    expect(runCli(['analyze', file, '--port', '9', '--format', 'html']).stdout).toBe(renderHtml(report));
    expect(JSON.parse(renderJson(report)).connections).toEqual([]);
  });
});
