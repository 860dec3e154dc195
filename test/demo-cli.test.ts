// `keepalive demo` on the command line (the module tests, demo.test.ts, cover runDemo itself).
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '../src/analysis/model.js';
import { scenarios } from '../src/demo/index.js';
import { ROOT, runCli } from './helpers.js';
import { tempDir } from './synth-helpers.js';

const dir = tempDir();

describe('keepalive demo (command line)', () => {
  it('without a name lists the scenarios, one line each', () => {
    const r = runCli(['demo']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    for (const s of scenarios()) expect(r.stdout).toContain(`  ${s.name.padEnd(14)}  ${s.summary}\n`);
  });

  it('writes the capture named by -w and explains it on standard output', () => {
    const cap = join(dir, 'dead.pcap');
    const r = runCli(['demo', 'dead-peer', '-w', cap]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(cap).readUInt32LE(0)).toBe(0xa1b2c3d4); // classic pcap, by the name
    expect(r.stdout).toMatch(/^keepalive demo dead-peer: /);
    expect(r.stdout).toContain(cap);
    expect(r.stdout).toMatch(/^ {2}#12 +110\.\d{6}  client → server  RST \(gave up\)$/m);
    const report = JSON.parse(runCli(['analyze', cap, '--format', 'json']).stdout) as Report;
    expect(report.connections[0]!.verdict).toBe('dead');
  });

  it('writes pcapng for any other name, and a temporary file when none is given', () => {
    const cap = join(dir, 'alive.pcapng');
    expect(runCli(['demo', 'alive', '-w', cap]).status).toBe(0);
    expect(readFileSync(cap).readUInt32LE(0)).toBe(0x0a0d0d0a);
    const r = runCli(['demo', 'alive']);
    expect(r.status).toBe(0);
    const named = /^ {2}capture +(\S+\.pcapng):/m.exec(r.stdout);
    expect(named).not.toBeNull();
    expect(existsSync(named![1]!)).toBe(true);
    rmSync(named![1]!);
  });

  it('--format html -o writes one page and says on standard error where the capture went', () => {
    const cap = join(dir, 'zw.pcapng');
    const page = join(dir, 'zw.html');
    const r = runCli(['demo', 'zero-window', '-w', cap, '--format', 'html', '-o', page]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`keepalive: demo zero-window: capture written to ${cap}, explanation to ${page}\n`);
    const html = readFileSync(page, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('Wireshark: [TCP Keep-Alive]');
  });

  it('is deterministic', () => {
    const a = runCli(['demo', 'both-ends', '-w', join(dir, 'a.pcapng'), '--color', 'never']);
    const b = runCli(['demo', 'both-ends', '-w', join(dir, 'b.pcapng'), '--color', 'never']);
    expect(readFileSync(join(dir, 'a.pcapng')).equals(readFileSync(join(dir, 'b.pcapng')))).toBe(true);
    expect(b.stdout.replaceAll('b.pcapng', 'X')).toBe(a.stdout.replaceAll('a.pcapng', 'X'));
  });

  it('--color always colours the text', () => {
    const r = runCli(['demo', 'peer-reboot', '-w', join(dir, 'color.pcapng'), '--color', 'always']);
    expect(r.stdout).toContain('\x1b[');
  });

  it('usage errors are one line and exit 2: unknown scenario, a file that exists, -w and -o the same', () => {
    const unknown = runCli(['demo', 'frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^keepalive: demo: no scenario 'frobnicate' \(keepalive demo lists them: alive, .*\)\n$/);
    const taken = join(dir, 'taken.pcap');
    writeFileSync(taken, 'precious');
    const exists = runCli(['demo', 'alive', '-w', taken]);
    expect(exists.status).toBe(2);
    expect(exists.stderr).toBe(`keepalive: -w ${taken}: cannot write the capture: already exists; the demo never overwrites a file (name a new one)\n`);
    expect(readFileSync(taken, 'utf8')).toBe('precious');
    const same = runCli(['demo', 'alive', '-w', join(dir, 's.pcap'), '-o', join(dir, 's.pcap')]);
    expect(same.status).toBe(2);
    expect(same.stderr.split('\n')).toHaveLength(2);
    const format = runCli(['demo', 'alive', '--format', 'json']);
    expect(format.status).toBe(2);
    expect(format.stderr.split('\n')).toHaveLength(2);
  });

  it('appears in keepalive --help, with its own --help', () => {
    expect(runCli(['--help']).stdout).toMatch(/keepalive demo \[name\]/);
    const help = runCli(['demo', '--help']);
    expect(help.status).toBe(0);
    for (const s of scenarios()) expect(help.stdout).toContain(s.name);
  });
});
