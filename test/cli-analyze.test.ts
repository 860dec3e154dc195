// `keepalive analyze` in every format on every shared capture, run as a user runs it (the built
// CLI in a child process). Every format is rendered from the same report, so each is checked
// against the JSON report of the same run.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConnectionReport, Report } from '../src/analysis/model.js';
import { CSV_COLUMNS, csvField } from '../src/report/csv.js';
import { CLI, fixture, runCli } from './helpers.js';
import { tempDir } from './synth-helpers.js';

const dir = tempDir();

interface Case {
  name: string;
  path: string;
  client: string;
  server: string;
  verdict: string;
  probes: number;
  /** The kernel's configured values (fixtures/shared/*.truth.json), where the capture shows them. */
  idle: number;
  interval: number | null;
  count: number | null;
}

const CASES: Case[] = [
  { name: 'linux-alive', path: fixture('shared/linux-alive.pcap'), client: '10.77.0.1:42736', server: '10.77.0.2:9001', verdict: 'alive', probes: 5, idle: 1, interval: null, count: null },
  { name: 'linux-dead', path: fixture('shared/linux-dead.pcap'), client: '10.77.0.1:56034', server: '10.77.0.2:9002', verdict: 'dead', probes: 3, idle: 1, interval: 2, count: 3 },
  { name: 'linux-reset', path: fixture('shared/linux-reset.pcap'), client: '[fd77::1]:51384', server: '[fd77::2]:9003', verdict: 'reset', probes: 1, idle: 2, interval: null, count: null },
];

function jsonReport(path: string): Report {
  const r = runCli(['analyze', path, '--format', 'json']);
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Report;
}

/** RFC 4180 reader: quoted fields may hold commas, quotes (doubled) and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') {
      expect(field).toBe(''); // a quote opens a field or does not appear
      quoted = true;
    } else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else {
      expect(ch).not.toBe('\n'); // bare LF only inside quotes
      field += ch;
    }
  }
  expect(quoted).toBe(false);
  expect(field).toBe('');
  expect(row).toEqual([]); // the last record ends with CRLF
  return rows;
}

/** The first n records of a classic pcap dropped (a capture started mid-connection). */
function withoutFirstFrames(src: string, n: number, name: string): string {
  const b = readFileSync(src);
  let o = 24;
  for (let k = 0; k < n; k++) o += 16 + b.readUInt32LE(o + 8);
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([b.subarray(0, 24), b.subarray(o)]));
  return path;
}

describe.each(CASES)('$name in every format', (c) => {
  const report = jsonReport(c.path);
  const conn = (): ConnectionReport => report.connections[0]!;

  it('json: the version-1 report with the kernel settings', () => {
    expect(report.version).toBe(1);
    expect(report.connections).toHaveLength(1);
    expect(conn()).toMatchObject({ client: c.client, server: c.server, verdict: c.verdict });
    expect(conn().probes).toHaveLength(c.probes);
    const s = conn().keepalive.client!;
    expect(Math.abs(s.idle! - c.idle)).toBeLessThan(0.05 * c.idle);
    if (c.interval !== null) expect(Math.abs(s.interval! - c.interval)).toBeLessThan(0.05 * c.interval);
    expect(s.count).toBe(c.count);
  });

  it('text: endpoints, verdict, settings and a ladder line per probe and reply', () => {
    const r = runCli(['analyze', c.path]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const out = r.stdout;
    expect(out).toContain(`${c.client} -> ${c.server}  ${c.verdict.toUpperCase()}`);
    expect(out).toContain('roles from the SYN');
    expect(out).toMatch(new RegExp(`client keepalive: idle ${conn().keepalive.client!.idle!.toFixed(3).replace(/0+$/, '').replace('.', '\\.')} s`));
    expect(out).toContain('server keepalive: none (sent no probes)');
    expect(out).toContain(conn().explanation);
    // One ladder row per probe, naming its frame; replies as arrows back.
    for (const p of conn().probes) {
      const row = out.split('\n').find((l) => l.includes(`${p.ordinal === 1 ? 'probe' : `retry ${p.ordinal - 1}`}, frame ${p.frame} `))!;
      expect(row, `frame ${p.frame}`).toBeDefined();
      expect(row).toMatch(/\|--- (probe|retry \d+), frame \d+ -+(>\||X +\|  no answer)/);
      if (p.reply.kind !== 'none') expect(out).toContain(`|<${p.reply.kind === 'ack' ? '--' : '=='} ${p.reply.kind.toUpperCase()}, frame ${p.reply.frame} `);
    }
    const spans = out.split('\n').filter((l) => /: (idle|interval) /.test(l));
    expect(spans.length).toBeGreaterThan(0);
    expect(out).not.toMatch(/\x1b\[/); // not a terminal: no colour
  });

  it('csv: one row per connection; the values read back equal the JSON report', () => {
    const r = runCli(['analyze', c.path, '--format', 'csv']);
    expect(r.status).toBe(0);
    const rows = parseCsv(r.stdout);
    const header = rows[0]!;
    for (const col of ['client', 'server', 'verdict', 'probes', 'idle', 'interval', 'count', 'style', 'zeroWindowProbes']) expect(header).toContain(col);
    expect(header).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(2);
    const v = Object.fromEntries(header.map((h, i) => [h, rows[1]![i]!]));
    const k = conn().keepalive.client!;
    expect(v).toMatchObject({
      client: c.client,
      server: c.server,
      verdict: c.verdict,
      probes: String(c.probes),
      prober: 'client',
      idle: String(k.idle),
      interval: k.interval === null ? '' : String(k.interval),
      count: k.count === null ? '' : String(k.count),
      countAtLeast: String(k.countAtLeast),
      style: 'linux',
      zeroWindowProbes: '0',
      firstFrame: String(conn().firstFrame),
      explanation: conn().explanation,
    });
    expect(Number(v.answeredAck) + Number(v.answeredRst) + Number(v.unanswered)).toBe(c.probes);
    // An explanation with commas is quoted (the dead one has them).
    expect(r.stdout).toContain(`,${csvField(conn().explanation)}\r\n`);
    if (conn().explanation.includes(',')) expect(r.stdout).toContain(`"${conn().explanation}"`);
  });

  it('markdown: a summary table with a row per connection', () => {
    const r = runCli(['analyze', c.path, '--format', 'markdown']);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    const head = lines.findIndex((l) => l.startsWith('| Client | Server | Verdict |'));
    expect(head).toBeGreaterThan(0);
    expect(lines[head + 1]).toMatch(/^\|(-+:?\|)+$/);
    const rows = lines.slice(head + 2).filter((l) => l.startsWith('|'));
    expect(rows).toHaveLength(1);
    const cells = rows[0]!.split(/(?<!\\)\|/).slice(1, -1).map((s) => s.trim());
    expect(cells).toHaveLength(lines[head]!.split('|').length - 2);
    expect(cells.slice(0, 4)).toEqual([`\`${c.client}\``, `\`${c.server}\``, expect.stringContaining(c.verdict), 'client']);
    expect(cells[4]).toMatch(/^\d+(\.\d+)? s$/);
    expect(cells[7]).toBe(String(c.probes));
    expect(r.stdout).toContain(conn().explanation);
  });

  it('html: one self-contained file with an SVG ladder and an element per probe', () => {
    const out = join(dir, `${c.name}.html`);
    const r = runCli(['analyze', c.path, '--format', 'html', '-o', out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg class="ladder"');
    expect(html).not.toMatch(/https?:\/\//); // nothing fetched, not even a namespace URL
    expect(html).not.toMatch(/<(script|link|img|iframe|object)\b/i);
    expect(html).not.toMatch(/\b(src|href)="(?!#)/); // only in-page links
    expect(html).not.toMatch(/url\(/);
    const probes = [...html.matchAll(/<g class="probe" data-frame="(\d+)"/g)].map((m) => Number(m[1]));
    expect(probes).toEqual(conn().probes.map((p) => p.frame));
    const acks = conn().probes.filter((p) => p.reply.kind === 'ack').length;
    expect(html.match(/<g class="reply ack"/g) ?? []).toHaveLength(acks);
    expect(html).toContain('class="legend"');
    expect(html).toContain(escapeForHtml(conn().explanation));
    if (c.verdict === 'dead') {
      expect(html).toContain('<g class="rst gave-up" data-frame="11"');
      expect(html.match(/<g class="span interval"/g)).toHaveLength(3);
    }
    if (c.verdict === 'reset') expect(html).toContain('<g class="reply rst" data-frame="9"');
    // Before each first probe: idle (since other traffic) or wait (since the ACK of the previous probe).
    expect(html.match(/<g class="span (idle|wait)"/g)?.length).toBe(conn().probes.filter((p) => p.ordinal === 1).length);
    expect(html.match(/<g class="span idle"/g)?.length).toBe(1);
  });
});

function escapeForHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

describe('analyze: options', () => {
  const DEAD = fixture('shared/linux-dead.pcap');

  it('csv quoting', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(parseCsv(`${['x,y', 'q"q', 'n\r\nl'].map(csvField).join(',')}\r\n`)).toEqual([['x,y', 'q"q', 'n\r\nl']]);
  });

  it('a capture without the handshake says the roles are guessed from the ports', () => {
    const mid = withoutFirstFrames(DEAD, 3, 'mid.pcap');
    const r = runCli(['analyze', mid]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('roles guessed from ports (no handshake captured)');
    const md = runCli(['analyze', mid, '--format', 'markdown']);
    expect(md.stdout).toContain('roles guessed from ports');
  });

  it('--color always colours; auto does not colour a pipe; never never does', () => {
    const always = runCli(['analyze', DEAD, '--color', 'always']);
    expect(always.stdout).toMatch(/\x1b\[1;31mDEAD\x1b\[0m/);
    expect(runCli(['analyze', DEAD]).stdout).not.toMatch(/\x1b\[/);
    expect(runCli(['analyze', DEAD, '--color', 'never']).stdout).not.toMatch(/\x1b\[/);
    expect(runCli(['analyze', DEAD, '--color', 'sometimes']).status).toBe(2);
    // Colour never goes into a file.
    const out = join(dir, 'plain.txt');
    expect(runCli(['analyze', DEAD, '-o', out]).status).toBe(0);
    expect(readFileSync(out, 'utf8')).not.toMatch(/\x1b\[/);
  });

  it('reads standard input', () => {
    const r = runCli(['analyze', '-', '--format', 'csv'], readFileSync(DEAD));
    expect(r.status).toBe(0);
    expect(parseCsv(r.stdout)[1]![3]).toBe('dead');
  });

  it('--port and --host restrict every format', () => {
    const files = CASES.map((c) => c.path);
    const all = parseCsv(runCli(['analyze', ...files, '--format', 'csv']).stdout);
    expect(all).toHaveLength(4);
    const one = parseCsv(runCli(['analyze', ...files, '--format', 'csv', '--port', '9002']).stdout);
    expect(one.slice(1).map((r) => r[0])).toEqual(['10.77.0.1:56034']);
    const v6 = parseCsv(runCli(['analyze', ...files, '--format', 'csv', '--host', 'fd77::1']).stdout);
    expect(v6.slice(1).map((r) => r[0])).toEqual(['[fd77::1]:51384']);
    const none = runCli(['analyze', ...files, '--port', '1']);
    expect(none.status).toBe(0);
    expect(none.stdout).toContain('No TCP connection to report.');
  });

  it('-o writes the report, never over an input capture', () => {
    const out = join(dir, 'report.csv');
    const r = runCli(['analyze', DEAD, '--format', 'csv', '-o', out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(parseCsv(readFileSync(out, 'utf8'))).toHaveLength(2);
    const copy = join(dir, 'copy.pcap');
    writeFileSync(copy, readFileSync(DEAD));
    for (const fmt of ['text', 'html']) {
      const bad = runCli(['analyze', copy, '--format', fmt, '--output', copy]);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toBe(`keepalive: -o ${copy}: refusing to overwrite an input capture\n`);
    }
    expect(readFileSync(copy)).toEqual(readFileSync(DEAD));
  });
});

/** Runs the CLI on a pseudo-terminal (util-linux `script`), as a person at a terminal would. */
function onTerminal(args: string[], env: Record<string, string | undefined>): string {
  const cmd = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: undefined, TERM: 'xterm', ...env }, input: '' });
  expect(r.status).toBe(0);
  return r.stdout;
}

const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasScript)('on a terminal', () => {
  const DEAD = fixture('shared/linux-dead.pcap');

  it('colours by default, and NO_COLOR turns that off', () => {
    expect(onTerminal(['analyze', DEAD], {})).toMatch(/\x1b\[1;31mDEAD/);
    expect(onTerminal(['analyze', DEAD], { NO_COLOR: '1' })).not.toMatch(/\x1b\[/);
    expect(onTerminal(['analyze', DEAD, '--color', 'never'], {})).not.toMatch(/\x1b\[/);
  });

  it('shows a progress bar on standard error while reading, and erases it', () => {
    // About 19 MB, the dead capture's records over and over: long enough to read (about half a
    // second) that the bar is drawn while the file is open, not only before it is (3.7 MB took
    // 0.2 s here, and the one draw before the 200 ms poll could find the file not yet open).
    const src = readFileSync(DEAD);
    const records = src.subarray(24);
    const big = join(dir, 'big.pcap');
    writeFileSync(big, Buffer.concat([src.subarray(0, 24), ...Array.from({ length: 20000 }, () => records)]));
    const out = join(dir, 'big.txt');
    const screen = onTerminal(['analyze', big, '-o', out], { KEEPALIVE_PROGRESS_DELAY_MS: '0' });
    expect(screen).toMatch(/reading \[[#.]+\] +\d+%/);
    expect(screen.endsWith('\r\x1b[K')).toBe(true);
    // Not on a pipe, even when asked to show at once.
    const piped = spawnSync(process.execPath, [CLI, 'analyze', big, '-o', out], { encoding: 'utf8', env: { ...process.env, KEEPALIVE_PROGRESS_DELAY_MS: '0' } });
    expect(piped.status).toBe(0);
    expect(piped.stderr).toBe('');
  });
});
